//! Validating one action: all nine guards against a 1k-node topology and a
//! 10-entry ledger.
//!
//! The topology is a layered service graph of 1,000 nodes generated with
//! xorshift from a fixed seed: 10 edge services → 40 → 150 → 300 backend
//! services → 500 leaves (databases, caches, queues), each node depending on
//! two random nodes of the next layer; every node carries a `team` label
//! (one of 8) and a tier. The action has one guard of each kind:
//! `dependencies_healthy` (databases, direct), `min_healthy_replicas`,
//! `max_blast_radius` (tier-weighted), `cooldown`, `throttle` by team,
//! `max_concurrent` by team, `budget`, `circuit_breaker` and a weekly
//! `freeze` in Europe/Berlin. The ledger holds 10 executions of various
//! actions on nodes of the same team and others, three without an outcome,
//! one failure of the action (its breaker stays closed).
//!
//! - `guards/all_pass/backend`: target a backend service (layer 3: a few
//!   dependents); every guard passes: the common case, allocation-free.
//! - `guards/all_pass/leaf`: target a leaf database (more dependents to walk).
//! - `guards/failing/backend`: the same with an unhealthy dependency, a
//!   frozen `at` and a cooldown hit (reasons are written: allocates).
//! - `guard_alone/<key>`: each guard on its own, on the backend target.
//!
//! Run: `cargo bench -p healbot-benches --bench guards -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark: failing loudly is right

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use healbot_benches::rng::XorShift;
use healbot_core::guard::{check, ActionGuards, GuardCx, StaticHealth};
use healbot_core::ledger::{Execution, Ledger};
use healbot_core::spec::{NodeKind, NodeSpec, TopologySpec};
use healbot_core::topology::Topology;
use healbot_core::Library;

const LAYERS: [usize; 5] = [10, 40, 150, 300, 500];

fn id(layer: usize, i: usize) -> String {
    format!("l{layer}-{i:03}")
}

fn topology() -> Topology {
    let mut rng = XorShift(0x5eed_cafe);
    let mut nodes = Vec::new();
    for (layer, &size) in LAYERS.iter().enumerate() {
        for i in 0..size {
            let mut deps = Vec::new();
            if let Some(&next) = LAYERS.get(layer + 1) {
                while deps.len() < 2 {
                    let d = id(layer + 1, rng.below(next));
                    if !deps.contains(&d) {
                        deps.push(d);
                    }
                }
            }
            let kind = if layer < 4 {
                NodeKind::Service
            } else {
                [NodeKind::Database, NodeKind::Cache, NodeKind::Queue][i % 3]
            };
            nodes.push(NodeSpec {
                id: id(layer, i),
                kind,
                replicas: 3,
                tier: 1 + (layer as u8).min(3),
                labels: BTreeMap::from([("team".to_string(), format!("team-{}", i % 8))]),
                aliases: vec![],
                depends_on: deps,
                runs_on: vec![],
                replicates: vec![],
            });
        }
    }
    let topo =
        Topology::compile(&TopologySpec { attach_by: vec!["service".into()], replicas_metric: None, nodes }).unwrap();
    assert_eq!(topo.len(), 1_000);
    topo
}

const LIBRARY: &str = r#"
apiVersion: healbot.dev/v1
kind: ActionLibrary
metadata: {name: bench}
spec:
  actions:
    - id: restart
      title: Rolling restart
      operation: restart
      risk: low
      min_confidence: 0.8
      guards:
        - dependencies_healthy: {kinds: [database]}
        - min_healthy_replicas: 1
        - max_blast_radius: {max: 400, tier_weighted: true}
        - cooldown: 15m
        - throttle: {key: node.label.team, max: 5, per: 1h}
        - max_concurrent: {key: node.label.team, max: 3, timeout: 20m}
        - budget: {max: 20, per: 1h}
        - circuit_breaker: {failures: 3, reset_after: 1h}
        - freeze: {timezone: Europe/Berlin, windows: [{days: [sat, sun], start: "22:00", end: "06:00"}]}
"#;

/// 2026-06-03T12:00:00Z, a Wednesday: outside the freeze.
const AT: i64 = 1_780_488_000_000;
/// 2026-06-06T23:00:00Z, Sunday 01:00 in Berlin: frozen.
const FROZEN: i64 = 1_780_786_800_000;

fn ledger(team_mates: &[String], others: &[String], at: i64) -> Ledger {
    let mut l = Ledger::new();
    let actions = ["restart", "scale_out", "flush_pool"];
    for i in 0..10 {
        let target = if i % 2 == 0 { &team_mates[i % team_mates.len()] } else { &others[i % others.len()] };
        let id = format!("d-{i}");
        l.record_execution(Execution {
            decision_id: id.clone(),
            signature: "sig".into(),
            action: actions[i % 3].into(),
            target: target.clone(),
            at: at - (i as i64 + 1) * 300_000,
            unattended: i % 4 != 0,
        });
        if i >= 3 {
            l.record_outcome(&id, i != 3, at - (i as i64) * 300_000).unwrap();
        }
    }
    assert_eq!(l.len(), 10);
    l
}

fn bench(c: &mut Criterion) {
    let topo = topology();
    let lib = Library::from_text("bench.yaml", LIBRARY).unwrap();
    let action = &lib.actions()[0];
    let guards = ActionGuards::compile(action).unwrap();
    let mut s = topo.traversal();
    // The first backend service (layer 3) with at least three dependents.
    let backend = topo
        .node_ids()
        .filter(|&n| topo.node(n).id().starts_with("l3-"))
        .min_by_key(|&n| (topo.blast_radius(n, &mut s).nodes < 3, topo.node(n).id().to_string()))
        .unwrap();
    let leaf = topo.lookup("l4-003").unwrap(); // a database
    let team = |n| topo.node(n).labels()["team"].clone();
    let mates: Vec<String> = topo
        .node_ids()
        .filter(|&n| team(n) == team(backend) && n != backend)
        .take(5)
        .map(|n| topo.node(n).id().to_string())
        .collect();
    let others: Vec<String> =
        topo.node_ids().filter(|&n| team(n) != team(backend)).take(5).map(|n| topo.node(n).id().to_string()).collect();
    let ledger = ledger(&mates, &others, AT);
    let health = StaticHealth::new(&topo);
    let mut scratch = topo.traversal();
    let mut out = Vec::with_capacity(16);

    for (name, n) in [("backend", backend), ("leaf", leaf)] {
        eprintln!(
            "guards: {name} target {}: {} direct dependencies, blast radius {:?}",
            topo.node(n).id(),
            topo.direct_dependencies(n).len(),
            topo.blast_radius(n, &mut s)
        );
    }

    let mut g = c.benchmark_group("guards");
    g.throughput(Throughput::Elements(1));
    for (name, target) in [("all_pass/backend", backend), ("all_pass/leaf", leaf)] {
        let cx = GuardCx { topology: &topo, health: &health, ledger: &ledger, at: AT };
        check(action, &guards, target, &cx, &mut scratch, &mut out);
        assert!(out.iter().all(|c| c.passed), "{name}: {out:?}");
        assert_eq!(out.len(), 9);
        g.bench_function(name, |b| {
            b.iter(|| {
                check(action, &guards, black_box(target), &cx, &mut scratch, &mut out);
                black_box(out.len())
            })
        });
    }
    // Failing: an unhealthy database dependency, frozen, and a cooldown hit.
    let mut sick = StaticHealth::new(&topo);
    let db = topo.direct_dependencies(backend).iter().copied().find(|&d| topo.node(d).kind() == NodeKind::Database);
    if let Some(db) = db {
        sick.set_unhealthy(db, true);
    }
    let mut hot = ledger.clone();
    hot.record_execution(Execution {
        decision_id: "d-hot".into(),
        signature: "sig".into(),
        action: "restart".into(),
        target: topo.node(backend).id().into(),
        at: FROZEN - 60_000,
        unattended: true,
    });
    let cx = GuardCx { topology: &topo, health: &sick, ledger: &hot, at: FROZEN };
    check(action, &guards, backend, &cx, &mut scratch, &mut out);
    assert!(out.iter().filter(|c| !c.passed).count() >= 2, "{out:?}");
    g.bench_function("failing/backend", |b| {
        b.iter(|| {
            check(action, &guards, black_box(backend), &cx, &mut scratch, &mut out);
            black_box(out.len())
        })
    });
    g.finish();

    // Each guard alone, on the backend target, to see where the time goes.
    let mut g = c.benchmark_group("guard_alone");
    g.throughput(Throughput::Elements(1));
    let cx = GuardCx { topology: &topo, health: &health, ledger: &ledger, at: AT };
    for (i, key) in action.guards.iter().map(healbot_core::guard::guard_key).enumerate() {
        let mut one = action.clone();
        one.guards = vec![action.guards[i].clone()];
        let compiled = ActionGuards::compile(&one).unwrap();
        g.bench_function(key, |b| {
            b.iter(|| {
                check(&one, &compiled, black_box(backend), &cx, &mut scratch, &mut out);
                black_box(out.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
