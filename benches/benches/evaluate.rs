//! Evaluation latency (issue 3, item 8): `Engine::diagnose(at)` and
//! `Engine::evaluate(at)` with the state in memory.
//!
//! - `evaluate/diagnose/{100,1000}` and `evaluate/evaluate/{100,1000}`:
//!   libraries of 100 and 1,000 generated signatures (five metric
//!   predicates each; 80 % apply to services, 10 % to databases, 10 % to
//!   caches) over a 100-node layered topology, three series per node per
//!   metric of its kind, 20 samples each (5 minutes at 15 s). One backend
//!   and its database are sick, so 3 signatures in 20 match there (the
//!   backend's diagnoses are symptoms of the database's). Throughput is in
//!   signatures.
//! - `sig20/*`: ONE signature of 20 predicates (18 in `match`, 2 evidence
//!   items) whose `applies_to` names one node of the same topology by id, so
//!   `diagnose` evaluates it exactly once: `held` on a sick node (match and
//!   evidence evaluated, a diagnosis built), `not_held` on a healthy node
//!   (match only, every predicate evaluated: no short circuit), and
//!   `no_node` (the id names no node: the fixed cost of a `diagnose`
//!   call, with no evaluation). The cost of one signature evaluation is
//!   the difference with `no_node`, printed from a same-run measurement.
//! - `cascade/evaluate`: `Engine::evaluate` on the last state of the
//!   end-to-end scenario of `benches/python/bench_ingest.py` (604 nodes, a
//!   database outage hitting 500 services: 1,007 decisions, one root cause,
//!   the rest suppressed symptoms). Throughput is in decisions.
//!
//! Run: `cargo bench -p healbot-benches --bench evaluate -- --warm-up-time 1 --measurement-time 3`
// Benchmarks build their inputs and may unwrap: a failure is a fixture bug.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use healbot_benches::engine::{self as fx, NodeSpec, AT};
use healbot_benches::{args, timing};
use healbot_core::{Engine, Topology, Verdict};

const NODES: usize = 100;
/// The sick backend and its database.
const SICK: [&str; 2] = ["be-3", "db-3"];

/// How many (signature, node) pairs a library evaluates on the topology.
fn pairs(sigs: usize, nodes: &[NodeSpec]) -> usize {
    let count = |kind: &str| nodes.iter().filter(|n| n.layer.kind() == kind).count();
    (0..sigs)
        .map(|i| match i % 10 {
            0 => count("database"),
            1 => count("cache"),
            _ => count("service"),
        })
        .sum()
}

fn libraries(c: &mut Criterion) {
    if !args::selected("evaluate") {
        return;
    }
    let (nodes, topology) = fx::topology(NODES);
    let mut group = c.benchmark_group("evaluate");
    for sigs in [100usize, 1_000] {
        let mut engine = fx::engine(&fx::library_yaml(sigs), &topology);
        let series = fx::feed(&mut engine, &nodes, &SICK);
        let diagnoses = engine.diagnose(AT).diagnoses.len();
        let decisions = engine.evaluate(AT);
        let count = |v: Verdict| decisions.iter().filter(|d| d.verdict == v).count();
        let pairs = pairs(sigs, &nodes);
        eprintln!(
            "setup: {sigs} signatures, {NODES} nodes, {series} series, {pairs} (signature, node) evaluations per call, \
             {diagnoses} diagnoses, {} decisions ({} suppress, {} execute, {} escalate)",
            decisions.len(),
            count(Verdict::Suppress),
            count(Verdict::Execute),
            count(Verdict::Escalate),
        );
        assert!(diagnoses > 0 && diagnoses < sigs, "some but not all signatures should match");
        if sigs >= 1_000 {
            group.sample_size(10);
        }
        group.throughput(Throughput::Elements(sigs as u64));
        group.bench_with_input(BenchmarkId::new("diagnose", sigs), &sigs, |b, _| {
            b.iter(|| black_box(engine.diagnose(black_box(AT))))
        });
        group.bench_with_input(BenchmarkId::new("evaluate", sigs), &sigs, |b, _| {
            b.iter(|| black_box(engine.evaluate(black_box(AT))))
        });
        if args::profiling() {
            continue;
        }
        // Same-run per-pair cost, for the table in docs/performance.md.
        let (rounds, batch) = if args::quick() { (1, 1) } else { (15, 3) };
        let ns = timing::batched_median_ns(rounds, batch, || engine.diagnose(AT));
        eprintln!(
            "same-run: diagnose {sigs} sigs median {:.1} µs = {:.0} ns per signature = {:.1} ns per (signature, node) pair",
            ns / 1e3,
            ns / sigs as f64,
            ns / pairs as f64
        );
    }
    group.finish();
}

/// An engine whose library is one 20-predicate signature applying to `node`.
fn sig20_engine(nodes: &[NodeSpec], topology: &Topology, node: &str) -> Engine {
    let mut engine = fx::engine(&fx::sig20_yaml(node), topology);
    fx::feed(&mut engine, nodes, &SICK[..1]);
    fx::feed_incident(&mut engine, SICK[0]);
    engine
}

fn sig20(c: &mut Criterion) {
    if !args::selected("sig20") {
        return;
    }
    let (nodes, topology) = fx::topology(NODES);
    let mut held = sig20_engine(&nodes, &topology, SICK[0]);
    let mut not_held = sig20_engine(&nodes, &topology, "be-4");
    let mut no_node = sig20_engine(&nodes, &topology, "no-such-node");
    let d = held.diagnose(AT).diagnoses;
    assert_eq!(d.len(), 1, "the signature holds on the sick node");
    assert_eq!(d[0].evidence.len(), 20, "20 predicates reported");
    // Every predicate holds, but those under `not`, which must not.
    assert!(d[0].evidence.iter().all(|e| e.satisfied != e.about.path.contains(".not")), "{:#?}", d[0].evidence);
    assert!(not_held.diagnose(AT).diagnoses.is_empty());
    assert!(no_node.diagnose(AT).diagnoses.is_empty());

    let mut group = c.benchmark_group("sig20");
    group.throughput(Throughput::Elements(1));
    group.bench_function("held", |b| b.iter(|| black_box(held.diagnose(black_box(AT)))));
    group.bench_function("not_held", |b| b.iter(|| black_box(not_held.diagnose(black_box(AT)))));
    group.bench_function("no_node", |b| b.iter(|| black_box(no_node.diagnose(black_box(AT)))));
    group.finish();
    if args::profiling() {
        return;
    }

    // The same three, interleaved round by round so that load on the
    // machine hits them alike; medians of per-call means.
    let mut rounds: [Vec<f64>; 3] = Default::default();
    for _ in 0..if args::quick() { 3 } else { 31 } {
        rounds[0].push(timing::batched_median_ns(5, 2_000, || held.diagnose(AT)));
        rounds[1].push(timing::batched_median_ns(5, 2_000, || not_held.diagnose(AT)));
        rounds[2].push(timing::batched_median_ns(5, 2_000, || no_node.diagnose(AT)));
    }
    let [h, n, z] = rounds.map(|mut v| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    });
    eprintln!(
        "same-run: sig20 diagnose median: held {h:.0} ns, not_held {n:.0} ns, no_node {z:.0} ns (fixed cost of diagnose on {NODES} nodes)"
    );
    eprintln!(
        "same-run: one 20-predicate signature evaluation: {:.0} ns when it holds (match + evidence + diagnosis), {:.0} ns when it does not (match only)",
        h - z,
        n - z
    );
}

fn cascade(c: &mut Criterion) {
    if !args::selected("cascade") {
        return;
    }
    let (mut engine, at) = healbot_benches::cascade::engine();
    let decisions = engine.evaluate(at);
    let count = |v: Verdict| decisions.iter().filter(|d| d.verdict == v).count();
    eprintln!(
        "setup: cascade, {} decisions ({} suppress, {} execute, {} escalate, {} observe)",
        decisions.len(),
        count(Verdict::Suppress),
        count(Verdict::Execute),
        count(Verdict::Escalate),
        count(Verdict::Observe),
    );
    assert_eq!(decisions.len(), 1_007, "the scenario of bench_ingest.py");
    assert_eq!(count(Verdict::Execute), 2, "failover of db-0 and one page");
    let mut group = c.benchmark_group("cascade");
    group.throughput(Throughput::Elements(decisions.len() as u64));
    group.bench_function("evaluate", |b| b.iter(|| black_box(engine.evaluate(black_box(at)))));
    group.finish();
}

criterion_group!(benches, libraries, sig20, cascade);
criterion_main!(benches);
