#![no_main]
//! `cspi::fuzz::context_template` under libFuzzer (see the README, "Fuzzing").

libfuzzer_sys::fuzz_target!(|data: &[u8]| cspi::fuzz::context_template(data));
