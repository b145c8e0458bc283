//! Fuzzes `healbot_core::Topology::from_text` on any text; the checks are `healbot_fuzz::check_topology`'s.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| healbot_fuzz::check_topology(data));
