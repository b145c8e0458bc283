//! Replays every input under `fuzz/regressions/<target>/` through the body
//! of its fuzz target (the fuzz crate's `src/lib.rs`, included here, so the
//! checks are the fuzzer's own) and checks that nothing panics, so that a
//! crash found by `cargo fuzz` stays fixed on stable Rust.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::collections::BTreeSet;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use healbot_core::telemetry::{parse, Limits, PayloadFormat};

#[path = "../../fuzz/src/lib.rs"]
mod bodies;

/// The routing key planted in the PagerDuty seeds; it must never come out.
const SEED_ROUTING_KEY: &str = "SEEDROUTINGKEY";

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn names_in(dir: &Path, suffix: &str) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(suffix).map(str::to_string))
        .collect()
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn every_target_has_a_body_and_seeds() {
    let targets = names_in(&fuzz_dir().join("fuzz_targets"), ".rs");
    let bodies: BTreeSet<String> = bodies::TARGETS.iter().map(|(name, _)| name.to_string()).collect();
    assert_eq!(targets, bodies, "fuzz_targets/*.rs and TARGETS in fuzz/src/lib.rs differ");
    for format in PayloadFormat::ALL {
        assert!(targets.contains(&format!("parse_{}", format.as_str())), "no fuzz target parses {format:?}");
    }
    let regressions = fuzz_dir().join("regressions");
    let folders: BTreeSet<String> =
        names_in(&regressions, "").into_iter().filter(|name| regressions.join(name).is_dir()).collect();
    assert_eq!(folders, targets, "regressions/<target>/ folders and fuzz targets differ");
    for target in &targets {
        let dir = regressions.join(target);
        assert!(!files_in(&dir).is_empty(), "no regression input in {}", dir.display());
    }
}

#[test]
fn regressions_never_panic() {
    let mut replayed = 0;
    let mut failures = Vec::new();
    for (target, body) in bodies::TARGETS {
        for file in files_in(&fuzz_dir().join("regressions").join(target)) {
            let data = fs::read(&file).unwrap();
            if let Err(message) = bodies::replay(*body, &data) {
                failures.push(format!("{} panicked: {message}", file.display()));
            }
            replayed += 1;
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(replayed >= bodies::TARGETS.len());
}

/// The parser seeds again under the default limits and the tightest ones,
/// and the PagerDuty seeds must never show their routing key.
#[test]
fn parse_regressions_under_every_limit() {
    let limit_sets = [
        Limits::default(),
        Limits { max_label_pairs: 1, max_label_value_len: 4, max_log_line_len: 4, max_records: 1, ..Limits::default() },
    ];
    let mut failures = Vec::new();
    for format in PayloadFormat::ALL {
        for file in files_in(&fuzz_dir().join("regressions").join(format!("parse_{}", format.as_str()))) {
            let data = fs::read(&file).unwrap();
            for limits in &limit_sets {
                match catch_unwind(AssertUnwindSafe(|| parse(format, &data, 0, limits))) {
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
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The snapshot seeds of the shop example are in the current format: the
/// whole one restores (so the seed reaches the state and what runs after
/// it), and each body seed restores behind its header. A change of the
/// snapshot format that left them behind would only be refused, and the
/// fuzzer would start from nothing.
#[test]
fn snapshot_seeds_are_in_the_current_format() {
    let f = bodies::fixture();
    let dir = fuzz_dir().join("regressions");
    let whole = fs::read(dir.join("restore_snapshot/shop-after-incident.bin")).unwrap();
    let restored = healbot_core::Engine::restore(f.library.clone(), f.topology.clone(), Default::default(), &whole);
    assert!(restored.is_ok(), "{:?}", restored.err());
    let body = fs::read(dir.join("restore_snapshot_body/shop-after-incident.bin")).unwrap();
    let framed = bodies::framed_snapshot(&body);
    let restored = healbot_core::Engine::restore(f.library.clone(), f.topology.clone(), Default::default(), &framed);
    assert!(restored.is_ok(), "{:?}", restored.err());
    // Its firing alert (a field of which was added in format 6) is read back.
    assert_eq!(restored.map(|e| e.stats().alerts).ok(), Some(1));
}
