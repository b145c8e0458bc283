//! Fuzzes `healbot_core::Engine::restore` on any bytes behind a valid snapshot header; the checks are `healbot_fuzz::check_restore_body`'s.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| healbot_fuzz::check_restore_body(data));
