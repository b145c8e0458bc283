//! An engine keeps metric aggregates and metric predicate values between
//! evaluations while the series they read hold the same samples in their
//! windows. Whatever happens in between (samples in and out of order,
//! replaced, new series, evictions, time standing still or jumping), an
//! evaluation must equal that of an engine that kept nothing: one fed the
//! same, whose kept values are cleared before every evaluation.
//!
//! (Not one restored from a snapshot: a long series' sums are kept as
//! running checkpoints that a restore rebuilds from the samples it has, so
//! sums, averages and slopes may differ from the running ones in their last
//! bits. See docs/performance.md, session 11.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use healbot_core::telemetry::Labels;
use healbot_core::{Engine, EngineConfig, Library, Topology};
use proptest::prelude::*;

/// Metric predicates of every aggregation, over several windows, with and
/// without label matchers, in `match` and in `evidence`; `latency` has up
/// to six series per node (more than a kept value may read).
const LIBRARY: &str = r#"apiVersion: healbot.dev/v1
kind: SignatureLibrary
metadata: {name: recall}
spec:
  signatures:
    - id: svc.hot
      title: Service running hot
      category: saturation
      severity: warning
      applies_to: {kinds: [service]}
      match:
        any:
          - metric: {name: latency, agg: avg, window: 30s, op: ">", threshold: 50}
          - metric: {name: latency, labels: ['pod=~"p-[0-2]"'], agg: max, window: 1m, op: ">", threshold: 80}
          - metric: {name: latency, labels: ['pod!="p-1"'], agg: min, window: 45s, op: "<", threshold: 5}
          - metric: {name: requests, agg: rate, window: 1m, op: ">", threshold: 2}
          - metric: {name: requests, agg: increase, window: 2m, op: ">", threshold: 30}
          - metric: {name: latency, agg: quantile, q: 0.9, window: 2m, op: ">=", threshold: 70}
      evidence:
        - id: busy
          when: {metric: {name: latency, agg: count, window: 1m, op: ">=", threshold: 3}}
          weight: 1.0
        - id: trend
          when: {metric: {name: latency, agg: slope, window: 2m, op: ">", threshold: 0}}
          weight: 0.5
        - id: last
          when: {metric: {name: latency, labels: ['pod="p-4"'], agg: last, window: 20s, op: ">", threshold: 40}}
          weight: 0.5
        - id: sum
          when: {metric: {name: requests, agg: sum, window: 30s, op: "<", threshold: 1000}}
          weight: 0.5
"#;

const TOPOLOGY: &str = r#"apiVersion: healbot.dev/v1
kind: Topology
metadata: {name: recall}
spec:
  attach_by: [service]
  nodes:
    - {id: a, kind: service}
    - {id: b, kind: service, depends_on: [a]}
    - {id: c, kind: service, depends_on: [a]}
"#;

const T0: i64 = 1_700_000_000_000;

#[derive(Clone, Debug)]
enum Op {
    /// A sample of `latency` (or `requests` when `pod` is 6) on node
    /// `node`, from pod `pod`, `offset_ms` from now (late when negative).
    Sample { node: usize, pod: usize, offset_ms: i64, value: f64 },
    /// Evaluate, after moving time on by `step_ms` (0: the same time again).
    Evaluate { step_ms: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3usize, 0..7usize, -40_000..5_000i64, prop_oneof![0.0..120.0, Just(60.0)])
            .prop_map(|(node, pod, offset_ms, value)| Op::Sample { node, pod, offset_ms, value }),
        3 => prop_oneof![Just(0i64), 1..3_000i64, 3_000..20_000i64].prop_map(|step_ms| Op::Evaluate { step_ms }),
        // Far enough for retention and the series' grace to pass: evictions.
        1 => Just(Op::Evaluate { step_ms: 3 * 3_600_000 }),
    ]
}

fn engine() -> Engine {
    let library = Library::from_text("recall.yaml", LIBRARY).unwrap();
    let topology = Topology::from_text("topology.yaml", TOPOLOGY).unwrap();
    Engine::new(library, topology, EngineConfig::default()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn evaluations_that_recall_equal_fresh_ones(ops in proptest::collection::vec(op(), 1..120)) {
        let (mut engine, mut fresh) = (engine(), engine());
        let mut now = T0;
        let mut requests = [0.0f64; 3];
        for op in ops {
            match op {
                Op::Sample { node, pod, offset_ms, value } => {
                    let service = ["a", "b", "c"][node];
                    let (name, value) = if pod == 6 {
                        // A counter, with an occasional reset.
                        requests[node] = if value < 3.0 { 0.0 } else { requests[node] + value };
                        ("requests", requests[node])
                    } else {
                        ("latency", value)
                    };
                    let pod = format!("p-{pod}");
                    let labels: Labels = [("service", service), ("pod", pod.as_str())].into_iter().collect();
                    // Too old or otherwise refused samples are the engine's to count.
                    let _ = engine.ingest_metric(name, &labels, value, now + offset_ms);
                    let _ = fresh.ingest_metric(name, &labels, value, now + offset_ms);
                }
                Op::Evaluate { step_ms } => {
                    now += step_ms;
                    fresh.clear_read_caches();
                    let kept = serde_json::to_string(&engine.diagnose(now).diagnoses).unwrap();
                    let computed = serde_json::to_string(&fresh.diagnose(now).diagnoses).unwrap();
                    prop_assert_eq!(kept, computed, "at {}", now);
                }
            }
        }
    }
}

/// The same as a plain test on a fixed history, so that a failure names
/// the evaluation: every 500 ms over samples of six pods scraped every
/// 15 s with jitter, a seventh pod appearing half-way, late samples.
#[test]
fn evaluating_between_scrapes_equals_fresh_evaluations() {
    let (mut engine, mut fresh) = (engine(), engine());
    let mut decided = 0;
    for tick in 0..(4 * 60 * 2) {
        let now = T0 + tick * 500;
        if tick % 30 == 0 {
            let round = tick / 30;
            let pods = if round > 8 { 7 } else { 6 };
            for service in ["a", "b", "c"] {
                for pod in 0..pods {
                    let value = ((round * 37 + pod as i64 * 11) % 100) as f64;
                    let pod = format!("p-{pod}");
                    let labels: Labels = [("service", service), ("pod", pod.as_str())].into_iter().collect();
                    let jitter = (round * 7_919 + pod.len() as i64 * 13) % 4_000;
                    engine.ingest_metric("latency", &labels, value, now - jitter).unwrap();
                    fresh.ingest_metric("latency", &labels, value, now - jitter).unwrap();
                }
                let labels: Labels = [("service", service), ("pod", "p-6")].into_iter().collect();
                engine.ingest_metric("requests", &labels, (round * 50) as f64, now).unwrap();
                fresh.ingest_metric("requests", &labels, (round * 50) as f64, now).unwrap();
            }
        }
        fresh.clear_read_caches();
        let kept = engine.diagnose(now).diagnoses;
        let computed = fresh.diagnose(now).diagnoses;
        assert_eq!(serde_json::to_string(&kept).unwrap(), serde_json::to_string(&computed).unwrap(), "at {now}");
        decided += kept.len();
    }
    assert!(decided > 100, "the signature matched {decided} times");
}
