#![no_main]
//! `cspi::fuzz::annex_a_csv` under libFuzzer (see the README, "Fuzzing").

libfuzzer_sys::fuzz_target!(|data: &[u8]| cspi::fuzz::annex_a_csv(data));
