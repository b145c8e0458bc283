//! Fuzzes `healbot_core::Engine::restore` on any bytes; the checks are `healbot_fuzz::check_restore`'s.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| healbot_fuzz::check_restore(data));
