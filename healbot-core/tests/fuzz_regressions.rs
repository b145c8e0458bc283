//! Replays every input under `fuzz/regressions/<target>/` through the parser
//! of its fuzz target and checks that nothing panics, so that a crash found
//! by `cargo fuzz` stays fixed on stable Rust.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use healbot_core::telemetry::{parse, Limits, PayloadFormat};

/// The routing key planted in the PagerDuty seeds; it must never come out.
const SEED_ROUTING_KEY: &str = "SEEDROUTINGKEY";

fn regressions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions")
}

#[test]
fn every_format_has_seeds() {
    for format in PayloadFormat::ALL {
        let dir = regressions_dir().join(format!("parse_{}", format.as_str()));
        let count = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).count();
        assert!(count > 0, "no regression input in {}", dir.display());
    }
}

#[test]
fn regressions_never_panic() {
    let limit_sets = [
        Limits::default(),
        Limits { max_label_pairs: 1, max_label_value_len: 4, max_log_line_len: 4, max_records: 1, ..Limits::default() },
    ];
    let mut replayed = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> =
        fs::read_dir(regressions_dir()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    entries.sort();
    for dir in entries {
        let target = dir.file_name().unwrap().to_string_lossy().into_owned();
        let format: PayloadFormat = target
            .strip_prefix("parse_")
            .unwrap_or_else(|| panic!("unexpected folder {target}"))
            .parse()
            .unwrap_or_else(|e| panic!("folder {target}: {e}"));
        let mut files: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let data = fs::read(&file).unwrap();
            for limits in &limit_sets {
                let outcome = catch_unwind(AssertUnwindSafe(|| parse(format, &data, 0, limits)));
                match outcome {
                    Err(_) => failures.push(format!("{} panicked", file.display())),
                    Ok(result) => {
                        let shown = match &result {
                            Ok(parsed) => format!("{parsed:?}"),
                            Err(err) => format!("{err} {err:?}"),
                        };
                        if format == PayloadFormat::PagerDuty && shown.contains(SEED_ROUTING_KEY) {
                            failures.push(format!("{} leaked the routing key", file.display()));
                        }
                    }
                }
                replayed += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(replayed >= 2 * PayloadFormat::ALL.len());
}
