//! `healbot test`: the starter library and the examples pass; failures say
//! what was expected, what came and which predicate made the difference;
//! exit codes as `check`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests opt back in

mod common;

use std::collections::BTreeMap;

use common::{healbot, repo, run, stderr, stdout, tmpdir};
use healbot_core::source::{from_node, parse_yaml, Budget};

#[test]
fn the_starter_library_passes_its_own_tests() {
    let out = run(&["test", "library/tests/"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(" 0 failed"), "{text}");
    assert!(text.starts_with("ok "), "{text}");
}

#[test]
fn the_examples_pass() {
    let out = run(&["test", "examples/"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("2 files, "), "{}", stdout(&out));
}

#[test]
fn the_library_checks_with_its_tests_in_place() {
    let out = run(&["check", "library/"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let n: usize = text.split(", ").nth(1).and_then(|s| s.split(' ').next()).and_then(|n| n.parse().ok()).unwrap();
    assert!(n >= 30, "{text}");
}

/// Every signature of the starter library is expected to fire in some case
/// and stays silent in another (an `absent` naming it, or `expect_none`).
#[test]
fn every_starter_signature_fires_and_has_a_healthy_look_alike() {
    let root = repo().join("library");
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&p).unwrap();
            let (docs, _) = parse_yaml("lib", &text, &Budget::default());
            for d in docs {
                let v: serde_json::Value = from_node("lib", &d, "").unwrap();
                for s in v["spec"]["signatures"].as_array().into_iter().flatten() {
                    ids.push(s["id"].as_str().unwrap().to_string());
                }
            }
        }
    }
    assert!(ids.len() >= 30, "{} signatures", ids.len());
    let mut fires: BTreeMap<String, usize> = BTreeMap::new();
    let mut silent: BTreeMap<String, usize> = BTreeMap::new();
    for entry in std::fs::read_dir(root.join("tests")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "hbtest") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let (docs, diags) = parse_yaml("t", &text, &Budget::default());
        assert!(diags.is_empty(), "{}", p.display());
        let v: serde_json::Value = from_node("t", &docs[0], "").unwrap();
        for case in v["cases"].as_array().unwrap() {
            let mut checks = vec![case.clone()];
            checks.extend(case["checks"].as_array().into_iter().flatten().cloned());
            for c in checks {
                let expected: Vec<String> = c["expect"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["signature"].as_str().map(String::from))
                    .collect();
                for id in &expected {
                    *fires.entry(id.clone()).or_default() += 1;
                }
                for a in c["absent"].as_array().into_iter().flatten() {
                    if let Some(id) = a["signature"].as_str() {
                        *silent.entry(id.to_string()).or_default() += 1;
                    }
                }
                if c["expect_none"] == true {
                    for id in &ids {
                        if !expected.contains(id) {
                            *silent.entry(id.clone()).or_default() += 1;
                        }
                    }
                }
            }
        }
    }
    let missing: Vec<&String> = ids.iter().filter(|id| !fires.contains_key(*id)).collect();
    assert!(missing.is_empty(), "never expected to fire: {missing:?}");
    let loud: Vec<&String> = ids.iter().filter(|id| !silent.contains_key(*id)).collect();
    assert!(loud.is_empty(), "no must-not-fire case: {loud:?}");
}

fn write_case(dir: &std::path::Path, body: &str) -> std::path::PathBuf {
    let lib = repo().join("library");
    let text = format!(
        "library: [{}, {}]\ntopology: {}\ncases:\n{body}",
        lib.join("databases.yaml").display(),
        lib.join("actions.yaml").display(),
        lib.join("tests/fleet.topology").display()
    );
    let p = dir.join("case.hbtest");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_missing_decision_names_the_predicate_that_did_not_hold() {
    let dir = tmpdir("test-missing");
    let p = write_case(
        &dir,
        r#"  - name: only one refusal
    logs:
      - {at: 1m, labels: {service: orders-db}, body: "FATAL:  sorry, too many clients already"}
    at: 4m
    expect:
      - {signature: pg.too_many_connections, node: orders-db, verdict: execute}
"#,
    );
    let out = healbot().arg("test").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for needle in [
        "FAIL",
        "expected: pg.too_many_connections on orders-db: verdict execute",
        "got:      no pg.too_many_connections decision on orders-db",
        "match did not hold",
        "✗ count(log contains any of list `pg_slot_exhaustion`",
        "observed 1, needs >= 3",
        "1 failed",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn a_wrong_verdict_shows_the_reasons_and_a_misspelt_id_a_suggestion() {
    let dir = tmpdir("test-wrong");
    let p = write_case(
        &dir,
        r#"  - name: diverged replica
    series:
      - {series: 'pg_replication_is_replica{service="orders-db-replica"}', values: '1x40'}
      - {series: 'pg_replication_lag_seconds{service="orders-db-replica"}', values: '7200+30x40'}
    at: 18m
    expect:
      - {signature: pg.replica_diverged, node: orders-db-replica, verdict: execute, confidence: {min: 0.99}}
      - {signature: pg.replica_divergd, node: orders-db-replica}
"#,
    );
    let out = healbot().arg("test").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for needle in [
        "verdict: expected execute, got escalate",
        "reason: destructive actions never run unattended",
        "confidence: expected [0.99, 1]",
        "confidence term prior",
        "did you mean `pg.replica_diverged`?",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn a_decision_that_must_not_fire_shows_why_it_fired() {
    let dir = tmpdir("test-absent");
    let p = write_case(
        &dir,
        r#"  - name: down
    series:
      - {series: 'pg_up{service="orders-db"}', values: '0x10'}
    at: 4m
    absent:
      - {signature: pg.down}
"#,
    );
    let out = healbot().args(["test", "--format", "json"]).arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["passed"], false);
    assert_eq!(doc["failed"], 1);
    let f = &doc["files"][0]["cases"][0]["failures"][0];
    assert_eq!(f["check"], "absent[0]");
    assert!(f["got"].as_str().unwrap().starts_with("pg.down on orders-db"), "{f}");
    let details = f["details"].to_string();
    assert!(details.contains("it fired because") && details.contains("max(pg_up[1m]) < 1"), "{details}");
}

#[test]
fn an_invalid_test_file_exits_one_with_a_position() {
    let dir = tmpdir("test-invalid");
    let p = dir.join("bad.hbtest");
    std::fs::write(&p, "library: []\ntopology: t.yaml\ncases:\n  - name: x\n    at: 1m\n    expct: []\n").unwrap();
    let out = healbot().arg("test").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(":6:5"), "{err}");
    assert!(err.contains("did you mean `expect`?"), "{err}");
    assert!(err.contains('^'), "{err}");
}

#[test]
fn a_bad_series_is_reported_as_a_setup_failure() {
    let dir = tmpdir("test-series");
    let p = write_case(
        &dir,
        r#"  - name: bad series
    series:
      - {series: 'pg_up{service="orders-db"}', values: '1 2 three'}
    at: 1m
    expect_none: true
"#,
    );
    let out = healbot().arg("test").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("series[0].values: column 5"), "{}", stdout(&out));
}

#[test]
fn missing_files_and_usage_errors_exit_two() {
    assert_eq!(run(&["test", "/nonexistent/x.hbtest"]).status.code(), Some(2));
    assert_eq!(run(&["test"]).status.code(), Some(2));
    let dir = tmpdir("test-empty");
    assert_eq!(healbot().arg("test").arg(&dir).output().unwrap().status.code(), Some(2));
    let p = dir.join("missing-lib.hbtest");
    std::fs::write(&p, "library: [nope.yaml]\ntopology: t.yaml\ncases: []\n").unwrap();
    assert_eq!(healbot().arg("test").arg(&p).output().unwrap().status.code(), Some(2));
}

#[test]
fn inline_topologies_and_history_work() {
    let dir = tmpdir("test-inline");
    let lib = repo().join("library");
    let text = format!(
        r#"library: [{}, {}]
topology:
  nodes:
    - {{id: db, kind: database}}
cases:
  - name: a failover that just failed twice trips the circuit breaker
    history:
      - {{action: pg.failover, target: db, at: -3h, outcome: failure}}
    series:
      - {{series: 'pg_up{{service="db"}}', values: '0x10'}}
    at: 4m
    expect:
      - {{signature: pg.down, node: db, action: ops.page_owner, rejected: [pg.failover]}}
"#,
        lib.join("databases.yaml").display(),
        lib.join("actions.yaml").display()
    );
    let p = dir.join("inline.hbtest");
    std::fs::write(&p, text).unwrap();
    let out = healbot().args(["test", "-v"]).arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("  ok    a failover"), "{}", stdout(&out));
}

/// Standard output that cannot be written (a pipe `head` closed, a full
/// disk) ends the command quietly with status 141, as `SIGPIPE` would, not
/// with a panic. `/dev/full` fails every write, so the case is exact.
#[cfg(target_os = "linux")]
#[test]
fn unwritable_stdout_ends_quietly() {
    for args in
        [&["test", "--format", "json", "library/tests/"][..], &["schema", "Topology"], &["check", "examples/shop/"]]
    {
        let out = healbot()
            .args(args)
            .current_dir(repo())
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(141), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{args:?}: {}", stderr(&out));
    }
}
