#![no_main]
//! `cspi::fuzz::cin_xml` under libFuzzer (see the README, "Fuzzing").

libfuzzer_sys::fuzz_target!(|data: &[u8]| cspi::fuzz::cin_xml(data));
