//! Fuzzes `healbot_core::telemetry::parse` on `PayloadFormat::OtlpLogs` input; the checks are
//! `healbot_fuzz::check_parse`'s.
#![no_main]

use healbot_core::telemetry::PayloadFormat;

libfuzzer_sys::fuzz_target!(|data: &[u8]| healbot_fuzz::check_parse(PayloadFormat::OtlpLogs, data));
