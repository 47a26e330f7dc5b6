#![no_main]
//! `cspi::fuzz::indicator_yaml` under libFuzzer (see the README, "Fuzzing").

libfuzzer_sys::fuzz_target!(|data: &[u8]| cspi::fuzz::indicator_yaml(data));
