#![no_main]
//! `cspi::fuzz::annex_a_sheet` under libFuzzer (see the README, "Fuzzing").

libfuzzer_sys::fuzz_target!(
    init: cspi::fuzz::contain_dependency_panics(),
    |data: &[u8]| cspi::fuzz::annex_a_sheet(data)
);
