//! `healbot explain` and `healbot graph`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests opt back in

mod common;

use common::{healbot, replay_shop, repo, run, stderr, stdout, tmpdir};

fn shop_decisions(dir: &std::path::Path) -> std::path::PathBuf {
    let out = replay_shop(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let p = dir.join("decisions.ndjson");
    std::fs::write(&p, &out.stdout).unwrap();
    p
}

#[test]
fn explain_renders_evidence_confidence_root_cause_and_guards() {
    let dir = tmpdir("explain");
    let p = shop_decisions(&dir);
    let out = healbot().arg("explain").arg(&p).args(["--node", "redis-cart"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "on redis-cart: EXECUTE",
        "db.unavailable — Database unavailable",
        "Root cause:",
        "redis-cart is a root cause (rank 1",
        "Confidence 0.",
        "prior",
        "topology",
        "✓ max(redis_up[1m]) < 1: observed 0, needs < 1",
        "failover_database (failover) on redis-cart",
        "guards passed: cooldown, circuit_breaker, freeze",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // A symptom shows its path.
    let out = healbot().arg("explain").arg(&p).args(["--node", "checkoutservice"]).output().unwrap();
    let text = stdout(&out);
    assert!(text.contains("path: checkoutservice → cartservice → redis-cart"), "{text}");
}

#[test]
fn explain_reads_one_document_and_shows_rejected_guards() {
    let dir = tmpdir("explain-one");
    let p = shop_decisions(&dir);
    let first = std::fs::read_to_string(&p).unwrap().lines().next().unwrap().to_string();
    let mut d: serde_json::Value = serde_json::from_str(&first).unwrap();
    d["rejected"] = serde_json::json!([{"id": "restart_service", "target": "redis-cart",
        "failed": [{"guard": "min_healthy_replicas", "reason": "0 healthy replicas would remain, 1 required", "observed": 0.0, "limit": 1.0}]}]);
    let one = dir.join("one.json");
    std::fs::write(&one, serde_json::to_string_pretty(&d).unwrap()).unwrap();
    let out = healbot().arg("explain").arg(&one).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("rejected restart_service on redis-cart:"), "{text}");
    assert!(text.contains("✗ min_healthy_replicas: 0 healthy replicas would remain, 1 required (observed 0, limit 1)"));
    let out = healbot().arg("explain").arg(&one).arg("--json").output().unwrap();
    let back: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(back["id"], d["id"]);
}

#[test]
fn explain_exit_codes() {
    let dir = tmpdir("explain-codes");
    let p = shop_decisions(&dir);
    let out = healbot().arg("explain").arg(&p).args(["--id", "d-0000000000000000"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"not\": \"a decision\"}\n").unwrap();
    let out = healbot().arg("explain").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not a decision document"), "{}", stderr(&out));
    assert_eq!(run(&["explain", "/nonexistent.json"]).status.code(), Some(2));
}

#[test]
fn graph_writes_dot_with_blast_radius_and_root_cause_paths() {
    let dir = tmpdir("graph");
    let p = shop_decisions(&dir);
    let graph = || {
        healbot()
            .args(["graph", "--topology"])
            .arg(repo().join("examples/shop/topology.yaml"))
            .args(["--highlight", "redis-cart", "--decisions"])
            .arg(&p)
            .output()
            .unwrap()
    };
    let out = graph();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dot = stdout(&out);
    assert!(dot.starts_with("digraph topology {"), "{dot}");
    assert!(dot.contains("\"redis-cart\" [shape=cylinder"), "{dot}");
    assert!(dot.contains("blast radius 3"), "{dot}");
    assert!(dot.contains("db.unavailable: execute → failover_database"), "{dot}");
    assert!(!dot.contains("db.unavailable: escalate"), "the last decision per key wins: {dot}");
    assert!(dot.contains("\"cartservice\" -> \"redis-cart\" [style=solid, color=red"), "{dot}");
    assert!(dot.contains("\"checkoutservice\" -> \"cartservice\" [style=solid, color=red"), "{dot}");
    assert!(dot.contains("\"frontend\" -> \"adservice\" [style=solid, color=gray30"), "{dot}");
    assert_eq!(dot.matches('{').count(), dot.matches('}').count());
    // Deterministic.
    assert_eq!(out.stdout, graph().stdout);
}

#[test]
fn graph_output_files_and_exit_codes() {
    let dir = tmpdir("graph-out");
    let topo = repo().join("examples/shop/topology.yaml");
    let dot = dir.join("shop.dot");
    let out = healbot().args(["graph", "--topology"]).arg(&topo).arg("-o").arg(&dot).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::read_to_string(&dot).unwrap().starts_with("digraph"));
    let svg = dir.join("shop.svg");
    let out = healbot().args(["graph", "--topology"]).arg(&topo).arg("-o").arg(&svg).output().unwrap();
    let have_dot = std::process::Command::new("dot").arg("-V").output().is_ok();
    if have_dot {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    } else {
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("install graphviz"), "{}", stderr(&out));
        assert!(std::fs::read_to_string(dir.join("shop.dot")).unwrap().starts_with("digraph"));
    }
    let out = healbot().args(["graph", "--topology"]).arg(&topo).args(["--highlight", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(run(&["graph", "--topology", "/nonexistent.yaml"]).status.code(), Some(2));
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: healbot.dev/v1\nkind: Topology\nmetadata: {name: t}\nspec: {nodes: [{id: a, kind: servce}]}\n",
    )
    .unwrap();
    assert_eq!(healbot().args(["graph", "--topology"]).arg(&bad).output().unwrap().status.code(), Some(1));
}
