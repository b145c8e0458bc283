//! Root-cause localisation with 10, 100 and 1,000 concurrent diagnoses on a
//! 10k-node topology (about five dependency edges per node, layered so that
//! failures cascade along real dependency paths).
//!
//! Each diagnosis sits on a random node; a third of them sit on dependencies
//! of earlier ones, so localisation has symptoms to suppress, chains to
//! follow and shared undiagnosed dependencies to infer.
//!
//! Run: `cargo bench -p healbot-benches --bench rootcause -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark: failing loudly is right

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use healbot_benches::rng::XorShift;
use healbot_core::rootcause::{localize, Finding};
use healbot_core::spec::signature::Category;
use healbot_core::spec::{NodeKind, NodeSpec, TopologySpec};
use healbot_core::topology::Topology;
use healbot_core::Duration;

/// Ten layers of 1,000 nodes; each node depends on five nodes of the next layer.
fn layered(n: usize, seed: u64) -> Topology {
    let mut rng = XorShift(seed);
    let per_layer = n / 10;
    let nodes = (0..n)
        .map(|i| {
            let layer = i / per_layer;
            let mut deps = Vec::new();
            if layer < 9 {
                while deps.len() < 5 {
                    let t = format!("n{}", (layer + 1) * per_layer + rng.below(per_layer));
                    if !deps.contains(&t) {
                        deps.push(t);
                    }
                }
            }
            NodeSpec {
                id: format!("n{i}"),
                kind: if layer == 9 { NodeKind::Database } else { NodeKind::Service },
                replicas: 2,
                tier: 1 + (layer % 4) as u8,
                labels: Default::default(),
                aliases: Vec::new(),
                depends_on: deps,
                runs_on: Vec::new(),
                replicates: Vec::new(),
            }
        })
        .collect();
    Topology::compile(&TopologySpec { attach_by: vec!["service".into()], replicas_metric: None, nodes }).unwrap()
}

fn findings(topo: &Topology, count: usize, seed: u64) -> Vec<Finding> {
    let mut rng = XorShift(seed);
    let mut scratch = topo.traversal();
    let mut out: Vec<Finding> = Vec::with_capacity(count);
    while out.len() < count {
        let node = if !out.is_empty() && rng.below(3) == 0 {
            // A dependency of an earlier failure: a cascade to suppress.
            let base = out[rng.below(out.len())].node;
            let deps = topo.dependencies(base, &mut scratch);
            if deps.is_empty() {
                continue;
            }
            deps[rng.below(deps.len())]
        } else {
            topo.node_id(rng.below(topo.len())).unwrap()
        };
        let category = [Category::Errors, Category::Latency, Category::Unavailable, Category::Resource][rng.below(4)];
        out.push(Finding {
            node,
            category,
            onset: (rng.below(600) as i64) * 1000,
            confidence: 0.5 + rng.below(50) as f64 / 100.0,
        });
    }
    out
}

fn bench(c: &mut Criterion) {
    let topo = layered(10_000, 7);
    let mut group = c.benchmark_group("localize_10k_nodes");
    for count in [10usize, 100, 1_000] {
        let fs = findings(&topo, count, 11 + count as u64);
        let mut scratch = topo.traversal();
        group.throughput(Throughput::Elements(count as u64));
        group.bench_with_input(BenchmarkId::from_parameter(count), &fs, |b, fs| {
            b.iter(|| black_box(localize(&topo, black_box(fs), Duration::from_secs(60), &mut scratch)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
