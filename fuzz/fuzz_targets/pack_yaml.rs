#![no_main]
//! `cspi::fuzz::pack_yaml` under libFuzzer (see the README, "Fuzzing").

libfuzzer_sys::fuzz_target!(|data: &[u8]| cspi::fuzz::pack_yaml(data));
