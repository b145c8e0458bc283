//! Fuzzes `healbot_core::telemetry::parse_k8s_events`: no input may panic, and
//! what comes out must respect the limits.
#![no_main]

use healbot_core::telemetry::{parse, Limits, PayloadFormat};
use libfuzzer_sys::fuzz_target;

/// Inputs larger than this are rejected: they find nothing new and slow the run.
const MAX_INPUT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    // Small limits so that the limit paths are exercised too.
    let limits = Limits {
        max_label_pairs: 8,
        max_label_value_len: 64,
        max_log_line_len: 256,
        max_records: 64,
        ..Limits::default()
    };
    if let Ok(parsed) = parse(PayloadFormat::K8sEvents, data, 1_700_000_000_000, &limits) {
        assert!(parsed.observations.len() <= limits.max_records);
        for obs in &parsed.observations {
            assert!(obs.labels().len() <= limits.max_label_pairs);
        }
        for err in &parsed.errors {
            assert!(err.line >= 1 && err.column >= 1, "{err:?}");
        }
    }
});
