//! Fuzzes `healbot_core::load::Loader` on YAML text (signatures, actions, overrides, topology documents); the checks are `healbot_fuzz::check_load`'s.
#![no_main]

use healbot_core::load::Format;

libfuzzer_sys::fuzz_target!(|data: &[u8]| healbot_fuzz::check_load(Format::Yaml, data));
