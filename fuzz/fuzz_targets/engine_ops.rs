//! Fuzzes one `healbot_core::Engine` with a program of operations (ingest, evaluate, ledger, snapshot); the checks are `healbot_fuzz::check_engine_ops`'s.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| healbot_fuzz::check_engine_ops(data));
