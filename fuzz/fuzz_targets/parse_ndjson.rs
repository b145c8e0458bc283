//! Fuzzes `healbot_core::telemetry::parse` on `PayloadFormat::Ndjson` input; the checks are
//! `healbot_fuzz::check_ndjson`'s (`check_parse`'s, and a payload reads as its lines read alone).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| healbot_fuzz::check_ndjson(data));
