#![no_main]
//! `cspi::fuzz::ssda903_csv` under libFuzzer (see the README, "Fuzzing").

libfuzzer_sys::fuzz_target!(|data: &[u8]| cspi::fuzz::ssda903_csv(data));
