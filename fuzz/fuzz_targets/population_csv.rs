#![no_main]
//! `cspi::fuzz::population_csv` under libFuzzer (see the README, "Fuzzing").

libfuzzer_sys::fuzz_target!(|data: &[u8]| cspi::fuzz::population_csv(data));
