//! The body every fuzz target shares: each target under `fuzz_targets/` names
//! one [`PayloadFormat`] and hands its input to [`check_parse`].

use healbot_core::telemetry::{parse, Limits, PayloadFormat};

/// Inputs larger than this are rejected: they find nothing new and slow the run.
pub const MAX_INPUT: usize = 1 << 20;

/// The time given to samples that carry none, fixed so that runs reproduce.
const DEFAULT_AT_MS: i64 = 1_700_000_000_000;

/// Parses `data` as `format` under small limits, so that the limit paths are
/// exercised too. No input may panic, and what comes out must respect the
/// limits: the observation count, each observation's label count, and
/// 1-based error positions.
pub fn check_parse(format: PayloadFormat, data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let limits = Limits {
        max_label_pairs: 8,
        max_label_value_len: 64,
        max_log_line_len: 256,
        max_records: 64,
        ..Limits::default()
    };
    if let Ok(parsed) = parse(format, data, DEFAULT_AT_MS, &limits) {
        assert!(parsed.observations.len() <= limits.max_records);
        for obs in &parsed.observations {
            assert!(obs.labels().len() <= limits.max_label_pairs);
        }
        for err in &parsed.errors {
            assert!(err.line >= 1 && err.column >= 1, "{err:?}");
        }
    }
}
