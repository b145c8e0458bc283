//! Topology queries against petgraph on the same graphs.
//!
//! Random graphs of 1k, 100k and 1M nodes with about five dependency edges
//! per node: node 0 is a foundation (no dependencies), every other node
//! depends on one random node with a smaller index (so node 0's blast radius
//! is the whole graph) and on four random nodes anywhere (so there are
//! cycles). Generated with xorshift from a fixed seed; built once, outside
//! the timed loops.
//!
//! Compared, in the same run and on the same graph:
//! - `healbot`: `Topology::blast_radius` / `Topology::dependencies`;
//! - `petgraph`: `Dfs` (over `Reversed` for dependents) on `Topology::graph()`,
//!   which uses HealBot's compiled numbering;
//! - `petgraph_spec_order`: the same on a `DiGraph` built in spec order, the
//!   graph a user would build by hand.
//!
//! Run: `cargo bench -p healbot-benches --bench topology -- --warm-up-time 1 --measurement-time 5`
//! (set `HEALBOT_BENCH_MAX_NODES=100000` to skip the 1M-node graph while iterating).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark: failing loudly is right

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use healbot_benches::rng::XorShift;
use healbot_core::spec::{NodeKind, NodeSpec, TopologySpec};
use healbot_core::topology::Topology;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, IntoNeighbors, Reversed, Visitable};

const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];

fn id(i: usize) -> String {
    format!("n{i:07}")
}

/// The random spec described in the module docs.
fn random_spec(n: usize, seed: u64) -> TopologySpec {
    let mut rng = XorShift(seed);
    let nodes = (0..n)
        .map(|i| {
            let mut targets: Vec<usize> = Vec::with_capacity(5);
            if i > 0 {
                targets.push(rng.below(i));
                while targets.len() < 5 {
                    let t = rng.below(n);
                    if t != i && !targets.contains(&t) {
                        targets.push(t);
                    }
                }
            }
            NodeSpec {
                id: id(i),
                kind: NodeKind::Service,
                replicas: 1,
                tier: 1 + (i % 4) as u8,
                labels: Default::default(),
                aliases: vec![],
                depends_on: targets.into_iter().map(id).collect(),
                runs_on: vec![],
                replicates: vec![],
            }
        })
        .collect();
    TopologySpec { attach_by: vec!["service".into()], replicas_metric: None, nodes }
}

/// The graph a user would build with petgraph directly: node index = spec index.
fn spec_order_graph(spec: &TopologySpec) -> DiGraph<(), ()> {
    let index: std::collections::HashMap<&str, usize> =
        spec.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    let mut g = DiGraph::with_capacity(spec.nodes.len(), spec.nodes.len() * 5);
    for _ in &spec.nodes {
        g.add_node(());
    }
    for (i, node) in spec.nodes.iter().enumerate() {
        for t in &node.depends_on {
            g.add_edge(NodeIndex::new(i), NodeIndex::new(index[t.as_str()]), ());
        }
    }
    g
}

struct Case {
    n: usize,
    topo: Topology,
    spec_graph: DiGraph<(), ()>,
}

/// The sizes to run: all of [`SIZES`], or those up to `HEALBOT_BENCH_MAX_NODES`.
fn sizes() -> Vec<usize> {
    let max = std::env::var("HEALBOT_BENCH_MAX_NODES").ok().and_then(|v| v.parse().ok()).unwrap_or(usize::MAX);
    SIZES.into_iter().filter(|&n| n <= max).collect()
}

fn cases() -> Vec<Case> {
    sizes()
        .into_iter()
        .map(|n| {
            let spec = random_spec(n, 0x9E37_79B9_7F4A_7C15 ^ n as u64);
            let topo = Topology::compile(&spec).expect("random spec compiles");
            let spec_graph = spec_order_graph(&spec);
            Case { n, topo, spec_graph }
        })
        .collect()
}

fn bench_topology(c: &mut Criterion) {
    let cases = cases();

    let mut group = c.benchmark_group("topology/blast_radius");
    for case in &cases {
        let topo = &case.topo;
        let root = topo.lookup(&id(0)).unwrap();
        let mut scratch = topo.traversal();
        assert_eq!(topo.blast_radius(root, &mut scratch).nodes, case.n - 1);
        group.throughput(Throughput::Elements(topo.dependency_edge_count() as u64));
        if case.n >= 1_000_000 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("healbot", case.n), &root, |b, &root| {
            b.iter(|| black_box(topo.blast_radius(black_box(root), &mut scratch)))
        });
        let g = topo.graph();
        let start = NodeIndex::new(root.index());
        let mut dfs = Dfs::new(Reversed(g), start);
        group.bench_with_input(BenchmarkId::new("petgraph", case.n), &start, |b, &start| {
            b.iter(|| black_box(reached(&mut dfs, Reversed(g), black_box(start))))
        });
        let sg = &case.spec_graph;
        let start = NodeIndex::new(0);
        let mut dfs = Dfs::new(Reversed(sg), start);
        group.bench_with_input(BenchmarkId::new("petgraph_spec_order", case.n), &start, |b, &start| {
            b.iter(|| black_box(reached(&mut dfs, Reversed(sg), black_box(start))))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("topology/dependencies");
    for case in &cases {
        let topo = &case.topo;
        // The last node: nothing in the generator favours it, and through
        // the random edges it needs nearly the whole graph.
        let top = topo.lookup(&id(case.n - 1)).unwrap();
        let mut scratch = topo.traversal();
        group.throughput(Throughput::Elements(topo.dependency_edge_count() as u64));
        if case.n >= 1_000_000 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("healbot", case.n), &top, |b, &top| {
            b.iter(|| black_box(topo.dependencies(black_box(top), &mut scratch).len()))
        });
        let g = topo.graph();
        let start = NodeIndex::new(top.index());
        let mut dfs = Dfs::new(g, start);
        group.bench_with_input(BenchmarkId::new("petgraph", case.n), &start, |b, &start| {
            b.iter(|| black_box(reached(&mut dfs, g, black_box(start))))
        });
        let sg = &case.spec_graph;
        let start = NodeIndex::new(case.n - 1);
        let mut dfs = Dfs::new(sg, start);
        group.bench_with_input(BenchmarkId::new("petgraph_spec_order", case.n), &start, |b, &start| {
            b.iter(|| black_box(reached(&mut dfs, sg, black_box(start))))
        });
    }
    group.finish();
}

/// The nodes a depth-first search from `start` reaches, `start` excluded:
/// petgraph's answer to a blast radius (over `Reversed`) or to dependencies.
fn reached<G: IntoNeighbors + Visitable>(dfs: &mut Dfs<G::NodeId, G::Map>, g: G, start: G::NodeId) -> usize {
    dfs.reset(g);
    dfs.move_to(start);
    let mut count = 0usize;
    while dfs.next(g).is_some() {
        count += 1;
    }
    count - 1
}

fn bench_compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("topology/compile");
    group.sample_size(10);
    for n in [1_000usize, 100_000] {
        let spec = random_spec(n, 7);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("healbot", n), &spec, |b, spec| {
            b.iter(|| Topology::compile(black_box(spec)).map(|t| t.len()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_topology, bench_compile);
criterion_main!(benches);
