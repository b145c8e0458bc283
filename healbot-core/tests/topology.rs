//! The compiled topology: validation, queries, determinism, and a property
//! test against a naive reference.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use healbot_core::spec::{NodeKind, NodeSpec, TopologySpec};
use healbot_core::topology::{BlastRadius, ChainsTo, EdgeKind, NodeId, Topology, TopologyProblem, Traversal};
use healbot_core::DiagnosticKind;
use proptest::prelude::*;

fn node(id: &str) -> NodeSpec {
    NodeSpec {
        id: id.into(),
        kind: NodeKind::Service,
        replicas: 1,
        tier: 3,
        labels: Default::default(),
        aliases: vec![],
        depends_on: vec![],
        runs_on: vec![],
        replicates: vec![],
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn deps(id: &str, on: &[&str]) -> NodeSpec {
    NodeSpec { depends_on: strings(on), ..node(id) }
}

fn spec(nodes: Vec<NodeSpec>) -> TopologySpec {
    TopologySpec { attach_by: strings(&["service", "app"]), replicas_metric: None, nodes }
}

fn compile(nodes: Vec<NodeSpec>) -> Topology {
    match Topology::compile(&spec(nodes)) {
        Ok(t) => t,
        Err(problems) => panic!("unexpected problems: {problems:#?}"),
    }
}

fn problems(nodes: Vec<NodeSpec>) -> Vec<TopologyProblem> {
    match Topology::compile(&spec(nodes)) {
        Ok(_) => panic!("expected problems"),
        Err(problems) => problems,
    }
}

fn id(t: &Topology, name: &str) -> NodeId {
    t.lookup(name).unwrap_or_else(|| panic!("no node {name}"))
}

fn names(t: &Topology, nodes: &[NodeId]) -> Vec<String> {
    nodes.iter().map(|&n| t.node(n).id().to_string()).collect()
}

fn sorted_names(t: &Topology, nodes: &[NodeId]) -> Vec<String> {
    let mut v = names(t, nodes);
    v.sort();
    v
}

/// (path, kind) of every problem, in the order reported.
fn located(problems: &[TopologyProblem]) -> Vec<(String, DiagnosticKind)> {
    problems.iter().map(|p| (p.path(), p.kind())).collect()
}

// ---------------------------------------------------------------- compile errors

#[test]
fn duplicate_node_ids_are_reported_at_the_later_node() {
    let p = problems(vec![node("a"), node("b"), node("a")]);
    assert_eq!(located(&p), [("spec.nodes[2].id".into(), DiagnosticKind::Duplicate)]);
    assert!(p[0].message().contains("spec.nodes[0]"), "{}", p[0].message());
    assert_eq!(p[0].node_index(), Some(2));
    assert_eq!(p[0].field(), Some("id"));
    assert_eq!(p[0].field_index(), None);
}

#[test]
fn alias_collisions() {
    let p = problems(vec![
        NodeSpec { aliases: strings(&["b", "pg", "a", "pg"]), ..node("a") },
        NodeSpec { aliases: strings(&["pg"]), ..node("b") },
        NodeSpec { aliases: strings(&[""]), ..node("c") },
    ]);
    assert_eq!(
        located(&p),
        [
            ("spec.nodes[0].aliases[0]".into(), DiagnosticKind::Duplicate), // the id of b
            ("spec.nodes[0].aliases[2]".into(), DiagnosticKind::Duplicate), // its own id
            ("spec.nodes[0].aliases[3]".into(), DiagnosticKind::Duplicate), // listed twice
            ("spec.nodes[1].aliases[0]".into(), DiagnosticKind::Duplicate), // alias of a
            ("spec.nodes[2].aliases[0]".into(), DiagnosticKind::InvalidValue), // empty
        ]
    );
    assert!(p[3].message().contains("`a`"), "{}", p[3].message());
}

#[test]
fn unknown_references_suggest_the_closest_id() {
    let p = problems(vec![
        NodeSpec {
            depends_on: strings(&["orders-db", "zzz"]),
            runs_on: strings(&["host-l"]),
            replicates: strings(&["nope"]),
            ..node("checkout")
        },
        node("orders_db"),
        NodeSpec { kind: NodeKind::Host, ..node("host-1") },
    ]);
    assert_eq!(
        located(&p),
        [
            ("spec.nodes[0].depends_on[0]".into(), DiagnosticKind::UnknownReference),
            ("spec.nodes[0].depends_on[1]".into(), DiagnosticKind::UnknownReference),
            ("spec.nodes[0].runs_on[0]".into(), DiagnosticKind::UnknownReference),
            ("spec.nodes[0].replicates[0]".into(), DiagnosticKind::UnknownReference),
        ]
    );
    assert_eq!(p[0].suggestion(), Some("did you mean `orders_db`?"));
    assert_eq!(p[1].suggestion(), None);
    assert_eq!(p[2].suggestion(), Some("did you mean `host-1`?"));
    assert_eq!(p[0].field_index(), Some(0));
    assert_eq!(p[1].field_index(), Some(1));
}

#[test]
fn an_edge_to_an_alias_names_the_id() {
    let p =
        problems(vec![deps("api", &["postgres"]), NodeSpec { aliases: strings(&["postgres"]), ..node("orders-db") }]);
    assert_eq!(located(&p), [("spec.nodes[0].depends_on[0]".into(), DiagnosticKind::UnknownReference)]);
    assert_eq!(p[0].suggestion(), Some("did you mean `orders-db`?"));
}

#[test]
fn self_edges_are_invalid() {
    let p = problems(vec![NodeSpec {
        depends_on: strings(&["a"]),
        runs_on: strings(&["a"]),
        replicates: strings(&["a"]),
        ..node("a")
    }]);
    assert_eq!(
        located(&p),
        [
            ("spec.nodes[0].depends_on[0]".into(), DiagnosticKind::Invalid),
            ("spec.nodes[0].runs_on[0]".into(), DiagnosticKind::Invalid),
            ("spec.nodes[0].replicates[0]".into(), DiagnosticKind::Invalid),
        ]
    );
    assert_eq!(p[0].message(), "node `a` cannot depend on itself");
}

#[test]
fn malformed_values() {
    let p = problems(vec![
        node("has space"),
        node(""),
        NodeSpec { replicas: 0, ..node("a") },
        NodeSpec { tier: 0, ..node("b") },
        NodeSpec { tier: 5, ..node("c") },
        node("ok_id-1.2:3/x"),
    ]);
    assert_eq!(
        located(&p),
        [
            ("spec.nodes[0].id".into(), DiagnosticKind::InvalidValue),
            ("spec.nodes[1].id".into(), DiagnosticKind::InvalidValue),
            ("spec.nodes[2].replicas".into(), DiagnosticKind::InvalidValue),
            ("spec.nodes[3].tier".into(), DiagnosticKind::InvalidValue),
            ("spec.nodes[4].tier".into(), DiagnosticKind::InvalidValue),
        ]
    );
}

#[test]
fn repeated_edges_and_attach_keys() {
    let mut s = spec(vec![deps("a", &["b", "b"]), node("b")]);
    s.attach_by = strings(&["service", "", "service"]);
    let p = Topology::compile(&s).unwrap_err();
    assert_eq!(
        located(&p),
        [
            ("spec.attach_by[1]".into(), DiagnosticKind::InvalidValue),
            ("spec.attach_by[2]".into(), DiagnosticKind::Duplicate),
            ("spec.nodes[0].depends_on[1]".into(), DiagnosticKind::Duplicate),
        ]
    );
    assert_eq!(p[0].node_index(), None);
    assert_eq!(p[0].field(), Some("attach_by"));
}

#[test]
fn every_problem_is_reported_at_once_in_document_order() {
    let p = problems(vec![
        NodeSpec { tier: 7, depends_on: strings(&["b", "missing", "x y"]), ..node("x y") },
        NodeSpec { aliases: strings(&["x y"]), ..node("b") },
        NodeSpec { replicas: 0, runs_on: strings(&["b"]), ..node("b") },
    ]);
    assert_eq!(
        located(&p),
        [
            ("spec.nodes[0].id".into(), DiagnosticKind::InvalidValue),
            ("spec.nodes[0].tier".into(), DiagnosticKind::InvalidValue),
            ("spec.nodes[0].depends_on[1]".into(), DiagnosticKind::UnknownReference),
            ("spec.nodes[0].depends_on[2]".into(), DiagnosticKind::Invalid),
            ("spec.nodes[1].aliases[0]".into(), DiagnosticKind::Duplicate),
            ("spec.nodes[2].id".into(), DiagnosticKind::Duplicate),
            ("spec.nodes[2].replicas".into(), DiagnosticKind::InvalidValue),
        ]
    );
    // Display carries path, kind, message and suggestion.
    let text = p[2].to_string();
    assert!(text.starts_with("spec.nodes[0].depends_on[1][unknown-reference]: "), "{text}");
}

#[test]
fn an_empty_topology_compiles() {
    let t = Topology::compile(&TopologySpec::default()).unwrap();
    assert!(t.is_empty());
    assert!(t.shards().is_empty());
    assert!(t.cycles().is_empty());
    let mut scratch = t.traversal();
    // A node id from another topology is out of range here: empty answers.
    let other = compile(vec![node("a")]);
    let a = id(&other, "a");
    assert!(t.dependents(a, &mut scratch).is_empty());
    assert!(t.direct_dependencies(a).is_empty());
    assert_eq!(t.path_to_dependency(a, a, &mut scratch), None);
    assert!(t.get(a).is_none());
    assert_eq!(t.node_id(0), None);
}

// ---------------------------------------------------------------- lookups and attributes

#[test]
fn lookup_by_id_and_alias() {
    let t = compile(vec![
        NodeSpec {
            aliases: strings(&["postgres", "pg"]),
            kind: NodeKind::Database,
            tier: 1,
            replicas: 2,
            labels: [("team".to_string(), "core".to_string())].into(),
            ..node("orders-db")
        },
        deps("api", &["orders-db"]),
    ]);
    let db = id(&t, "orders-db");
    assert_eq!(t.lookup("postgres"), Some(db));
    assert_eq!(t.lookup("pg"), Some(db));
    assert_eq!(t.lookup("api").map(|n| t.node(n).id()), Some("api"));
    assert_eq!(t.lookup("nope"), None);
    let info = t.node(db);
    assert_eq!(info.kind(), NodeKind::Database);
    assert_eq!((info.tier(), info.replicas()), (1, 2));
    assert_eq!(info.aliases(), ["postgres", "pg"]);
    assert_eq!(info.labels()["team"], "core");
    assert_eq!(info.spec_index(), 0);
    assert_eq!(info.node_id(), db);
    assert_eq!(t.attach_by(), ["service", "app"]);
    assert_eq!(t.spec().nodes.len(), 2);
    assert_eq!(t.nodes().len(), 2);
    assert_eq!(t.node_ids().collect::<Vec<_>>(), [t.node_id(0).unwrap(), t.node_id(1).unwrap()]);
}

// ---------------------------------------------------------------- traversals

fn diamond() -> Topology {
    // web → {api, worker} → db
    compile(vec![deps("web", &["api", "worker"]), deps("api", &["db"]), deps("worker", &["db"]), node("db")])
}

#[test]
fn diamond_dependencies_and_dependents() {
    let t = diamond();
    let mut s = t.traversal();
    let deps_of_web = names(&t, t.dependencies(id(&t, "web"), &mut s));
    assert_eq!(deps_of_web.len(), 3);
    assert_eq!(deps_of_web[2], "db", "breadth-first: db is two steps away");
    assert_eq!(sorted_names(&t, &deps_of_web_ids(&t, &mut s)), ["api", "db", "worker"]);
    let of_db = names(&t, t.dependents(id(&t, "db"), &mut s));
    assert_eq!(of_db.len(), 3);
    assert_eq!(of_db[2], "web");
    assert_eq!(sorted_names(&t, t.direct_dependents(id(&t, "db"))), ["api", "worker"]);
    assert_eq!(sorted_names(&t, t.direct_dependencies(id(&t, "web"))), ["api", "worker"]);
    assert!(t.dependencies(id(&t, "db"), &mut s).is_empty());
    assert!(t.dependents(id(&t, "web"), &mut s).is_empty());
    assert!(t.cycles().is_empty());
}

fn deps_of_web_ids(t: &Topology, s: &mut Traversal) -> Vec<NodeId> {
    t.dependencies(id(t, "web"), s).to_vec()
}

#[test]
fn chain_is_walked_in_order() {
    let ids: Vec<String> = (0..10).map(|i| format!("n{i}")).collect();
    let nodes = (0..10).map(|i| if i < 9 { deps(&ids[i], &[&ids[i + 1]]) } else { node(&ids[i]) }).collect();
    let t = compile(nodes);
    let mut s = t.traversal();
    assert_eq!(names(&t, t.dependencies(id(&t, "n0"), &mut s)), &ids[1..]);
    let mut reversed = ids[..9].to_vec();
    reversed.reverse();
    assert_eq!(names(&t, t.dependents(id(&t, "n9"), &mut s)), reversed);
    assert_eq!(names(&t, t.dependents(id(&t, "n5"), &mut s)), ["n4", "n3", "n2", "n1", "n0"]);
    let path = t.path_to_dependency(id(&t, "n2"), id(&t, "n6"), &mut s).unwrap();
    assert_eq!(names(&t, &path), ["n2", "n3", "n4", "n5", "n6"]);
}

#[test]
fn runs_on_is_a_dependency_and_replicates_is_not() {
    let t = compile(vec![
        NodeSpec { kind: NodeKind::Pod, runs_on: strings(&["vm"]), ..node("pod") },
        NodeSpec { kind: NodeKind::Host, ..node("vm") },
        NodeSpec { replicates: strings(&["db"]), ..node("db-replica") },
        NodeSpec { depends_on: strings(&["vm"]), runs_on: strings(&["vm"]), ..node("both") },
        node("db"),
    ]);
    let mut s = t.traversal();
    let (pod, vm, db, replica, both) =
        (id(&t, "pod"), id(&t, "vm"), id(&t, "db"), id(&t, "db-replica"), id(&t, "both"));
    assert_eq!(t.dependencies(pod, &mut s), [vm]);
    assert_eq!(sorted_names(&t, t.dependents(vm, &mut s)), ["both", "pod"]);
    assert!(t.dependencies(replica, &mut s).is_empty());
    assert!(t.dependents(db, &mut s).is_empty());
    assert_eq!(t.direct_dependencies(both), [vm], "an edge declared twice counts once");
    assert_eq!(t.dependency_edge_count(), 2);
    assert_eq!(t.replicas_of(db), [replica]);
    assert_eq!(t.replicas_of(replica), [db]);
    assert!(t.replicas_of(pod).is_empty());
    assert_eq!(t.path_to_dependency(pod, vm, &mut s), Some(vec![pod, vm]));
    assert_eq!(t.path_to_dependency(replica, db, &mut s), None);
    // Replicas share a shard; the petgraph view has every declared edge.
    assert_eq!(t.shard_of(db), t.shard_of(replica));
    let kinds: Vec<EdgeKind> = t.graph().edge_weights().copied().collect();
    assert_eq!(kinds.len(), 4);
    assert_eq!(kinds.iter().filter(|k| !k.is_dependency()).count(), 1);
}

#[test]
fn blast_radius_weighs_tiers() {
    let tiered = |id: &str, tier: u8, on: &[&str]| NodeSpec { tier, ..deps(id, on) };
    let t = compile(vec![
        tiered("db", 1, &[]),
        tiered("checkout", 1, &["db"]),
        tiered("search", 2, &["db"]),
        tiered("web", 3, &["checkout", "search"]),
        tiered("reports", 4, &["db"]),
        tiered("unrelated", 1, &[]),
    ]);
    let mut s = t.traversal();
    assert_eq!(t.blast_radius(id(&t, "db"), &mut s), BlastRadius { nodes: 4, tier_weighted: 8.0 + 4.0 + 2.0 + 1.0 });
    assert_eq!(t.blast_radius(id(&t, "search"), &mut s), BlastRadius { nodes: 1, tier_weighted: 2.0 });
    assert_eq!(t.blast_radius(id(&t, "web"), &mut s).nodes, 0);
    assert_eq!(t.blast_radius(id(&t, "web"), &mut s).tier_weighted, 0.0);
}

#[test]
fn path_to_dependency_is_shortest() {
    // a → b → c → d and a → e → d: the path through e is shorter.
    let t = compile(vec![
        deps("a", &["b", "e"]),
        deps("b", &["c"]),
        deps("c", &["d"]),
        deps("e", &["d"]),
        deps("d", &["a"]), // a cycle back: the search must still end
        node("lonely"),
    ]);
    let mut s = t.traversal();
    let (a, d) = (id(&t, "a"), id(&t, "d"));
    assert_eq!(names(&t, &t.path_to_dependency(a, d, &mut s).unwrap()), ["a", "e", "d"]);
    assert_eq!(names(&t, &t.path_to_dependency(d, id(&t, "c"), &mut s).unwrap()), ["d", "a", "b", "c"]);
    assert_eq!(t.path_to_dependency(a, a, &mut s), Some(vec![a]));
    assert_eq!(t.path_to_dependency(a, id(&t, "lonely"), &mut s), None);
    // The scratch is clean after an early exit.
    assert_eq!(t.dependencies(a, &mut s).len(), 4);
}

#[test]
fn shards_are_weakly_connected_components() {
    let t = compile(vec![
        deps("a", &["b"]),
        node("b"),
        deps("c", &["d"]),
        NodeSpec { replicates: strings(&["d"]), ..node("e") },
        node("d"),
        node("f"),
    ]);
    assert_eq!(t.shards().len(), 3);
    let shard = |n: &str| t.shard_of(id(&t, n));
    assert_eq!(shard("a"), shard("b"));
    assert_eq!(shard("c"), shard("d"));
    assert_eq!(shard("c"), shard("e"));
    assert_ne!(shard("a"), shard("c"));
    assert_ne!(shard("f"), shard("a"));
    assert_ne!(shard("f"), shard("c"));
    let mut total = 0;
    for (i, members) in t.shards().iter().enumerate() {
        assert!(members.windows(2).all(|w| w[0] < w[1]), "members ascending");
        for &m in members {
            assert_eq!(t.shard_of(m).index(), i);
        }
        total += members.len();
    }
    assert_eq!(total, t.len());
    assert_eq!(sorted_names(&t, &t.shards()[shard("c").index()]), ["c", "d", "e"]);
}

#[test]
fn cycles_are_reported_and_walks_terminate() {
    let t = compile(vec![
        deps("a", &["b"]),
        deps("b", &["c"]),
        deps("c", &["a", "d"]),
        deps("d", &["e"]),
        deps("e", &["d"]),
        NodeSpec { runs_on: strings(&["f"]), ..deps("x", &[]) },
        deps("f", &["x"]),
    ]);
    let cycles: Vec<Vec<String>> = t.cycles().iter().map(|c| sorted_names(&t, c)).collect();
    let as_set: BTreeSet<Vec<String>> = cycles.iter().cloned().collect();
    assert_eq!(as_set, [strings(&["a", "b", "c"]), strings(&["d", "e"]), strings(&["f", "x"])].into_iter().collect());
    for c in t.cycles() {
        assert!(c.windows(2).all(|w| w[0] < w[1]));
    }
    assert!(t.cycles().windows(2).all(|w| w[0][0] < w[1][0]));
    let mut s = t.traversal();
    let a = id(&t, "a");
    assert_eq!(sorted_names(&t, t.dependencies(a, &mut s)), ["b", "c", "d", "e"]);
    assert_eq!(sorted_names(&t, t.dependents(a, &mut s)), ["b", "c"]);
    assert_eq!(t.blast_radius(id(&t, "d"), &mut s).nodes, 4);
    assert!(petgraph::algo::is_cyclic_directed(t.graph()));
}

#[test]
fn a_traversal_is_reused_across_topologies() {
    let small = diamond();
    let big = compile(
        (0..500).map(|i| if i == 0 { node("n0") } else { deps(&format!("n{i}"), &[&format!("n{}", i / 2)]) }).collect(),
    );
    let mut s = Traversal::new();
    for _ in 0..3 {
        assert_eq!(big.dependents(id(&big, "n0"), &mut s).len(), 499);
        assert_eq!(small.dependents(id(&small, "db"), &mut s).len(), 3);
        assert_eq!(big.dependents(id(&big, "n1"), &mut s).len(), 498);
        assert_eq!(big.dependencies(id(&big, "n499"), &mut s).len(), 9);
        assert_eq!(small.dependencies(id(&small, "web"), &mut s).len(), 3);
    }
}

#[test]
fn topology_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Topology>();
    assert_send_sync::<Traversal>();
    let t = diamond();
    let c = t.clone();
    let handle = std::thread::spawn(move || {
        let mut s = c.traversal();
        c.dependents(id(&c, "db"), &mut s).len()
    });
    assert_eq!(handle.join().unwrap(), 3);
}

// ---------------------------------------------------------------- determinism

/// Every answer of a topology, by node id string.
fn answers(t: &Topology) -> Vec<String> {
    let mut s = t.traversal();
    let mut out = Vec::new();
    let mut ids: Vec<&str> = t.nodes().iter().map(|n| n.id()).collect();
    ids.sort();
    for name in ids {
        let n = id(t, name);
        out.push(format!("{name} #{}", n.index()));
        out.push(format!("  deps {:?}", names(t, t.dependencies(n, &mut s))));
        out.push(format!("  dependents {:?}", names(t, t.dependents(n, &mut s))));
        out.push(format!("  direct {:?}", names(t, t.direct_dependencies(n))));
        out.push(format!("  blast {:?}", t.blast_radius(n, &mut s)));
        out.push(format!("  shard {}", t.shard_of(n).index()));
        out.push(format!("  replicas {:?}", names(t, t.replicas_of(n))));
        for other in t.nodes() {
            if let Some(p) = t.path_to_dependency(n, other.node_id(), &mut s) {
                out.push(format!("  path {:?}", names(t, &p)));
            }
        }
    }
    for c in t.cycles() {
        out.push(format!("cycle {:?}", names(t, c)));
    }
    out
}

fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

#[test]
fn answers_do_not_depend_on_spec_order() {
    let nodes = vec![
        deps("web", &["api", "auth", "cdn"]),
        deps("api", &["db", "cache", "queue"]),
        deps("auth", &["db"]),
        deps("worker", &["queue", "db"]),
        deps("queue", &["worker"]),
        NodeSpec { runs_on: strings(&["vm1"]), ..deps("cache", &[]) },
        NodeSpec { runs_on: strings(&["vm1"]), ..deps("db", &[]) },
        NodeSpec { replicates: strings(&["db"]), ..node("db-r") },
        node("vm1"),
        node("cdn"),
        node("island"),
    ];
    let reference = answers(&compile(nodes.clone()));
    for seed in 1..20u64 {
        let mut shuffled = nodes.clone();
        shuffle(&mut shuffled, seed * 0x9E37_79B9);
        for n in &mut shuffled {
            shuffle(&mut n.depends_on, seed);
        }
        assert_eq!(answers(&compile(shuffled)), reference, "seed {seed}");
    }
}

// ---------------------------------------------------------------- properties

/// A spec of `n` nodes `v0..` with the given dependency edges (self edges and
/// repeats dropped), every fifth edge declared as `runs_on`.
fn spec_from_edges(n: usize, edges: &[(usize, usize)]) -> TopologySpec {
    let mut nodes: Vec<NodeSpec> = (0..n).map(|i| node(&format!("v{i}"))).collect();
    let mut seen = HashSet::new();
    for (k, &(a, b)) in edges.iter().enumerate() {
        if a == b || !seen.insert((a, b)) {
            continue;
        }
        let target = format!("v{b}");
        if k % 5 == 4 {
            nodes[a].runs_on.push(target);
        } else {
            nodes[a].depends_on.push(target);
        }
    }
    spec(nodes)
}

/// Naive reachability: BFS over an adjacency built from the edge list, with a HashSet.
fn naive_reach(n: usize, edges: &[(usize, usize)], start: usize, reverse: bool) -> HashSet<usize> {
    naive_reach_until(n, edges, start, reverse, |_| false)
}

/// What `start` reaches, not walking on from a node other than `start`
/// for which `stop` is true.
fn naive_reach_until(
    n: usize,
    edges: &[(usize, usize)],
    start: usize,
    reverse: bool,
    stop: impl Fn(usize) -> bool,
) -> HashSet<usize> {
    let mut adj: HashMap<usize, Vec<usize>> = HashMap::new();
    for &(a, b) in edges {
        if a == b {
            continue;
        }
        let (from, to) = if reverse { (b, a) } else { (a, b) };
        adj.entry(from).or_default().push(to);
    }
    let mut seen = HashSet::from([start]);
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        if v != start && stop(v) {
            continue;
        }
        for &w in adj.get(&v).map(Vec::as_slice).unwrap_or(&[]) {
            if seen.insert(w) {
                queue.push_back(w);
            }
        }
    }
    seen.remove(&start);
    assert!(seen.iter().all(|&v| v < n));
    seen
}

fn graph_strategy(dag: bool) -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
    (1usize..40).prop_flat_map(move |n| {
        let edge = (0..n, 0..n).prop_map(move |(a, b)| if dag && a < b { (b, a) } else { (a, b) });
        (Just(n), proptest::collection::vec(edge, 0..n * 3))
    })
}

fn check_against_reference(n: usize, edges: &[(usize, usize)]) -> Result<(), TestCaseError> {
    let t = Topology::compile(&spec_from_edges(n, edges)).map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
    let of = |v: usize| id(&t, &format!("v{v}"));
    let index_of = |node: NodeId| -> usize { t.node(node).id()[1..].parse().unwrap() };
    let mut s = t.traversal();
    let mut s2 = Traversal::new();
    let mut dependencies: Vec<HashSet<usize>> = Vec::new();
    for v in 0..n {
        let got: Vec<usize> = t.dependents(of(v), &mut s).iter().map(|&x| index_of(x)).collect();
        let set: HashSet<usize> = got.iter().copied().collect();
        prop_assert_eq!(set.len(), got.len(), "no repeats");
        prop_assert_eq!(&set, &naive_reach(n, edges, v, true), "dependents of v{}", v);
        prop_assert_eq!(t.blast_radius(of(v), &mut s).nodes, set.len());
        let deps: HashSet<usize> = t.dependencies(of(v), &mut s2).iter().map(|&x| index_of(x)).collect();
        prop_assert_eq!(&deps, &naive_reach(n, edges, v, false), "dependencies of v{}", v);
        dependencies.push(deps);
    }
    // b ∈ dependencies(a) ⇔ a ∈ dependents(b), and a path exists exactly then.
    let mut chains = ChainsTo::default();
    for b in 0..n {
        let dependents: HashSet<usize> = t.dependents(of(b), &mut s).iter().map(|&x| index_of(x)).collect();
        t.chains_to(of(b), &mut chains);
        for (a, deps_of_a) in dependencies.iter().enumerate() {
            prop_assert_eq!(deps_of_a.contains(&b), dependents.contains(&a));
            if a == b {
                continue;
            }
            let path = t.path_to_dependency(of(a), of(b), &mut s2);
            // One walk from b gives the same chain as a search from a.
            prop_assert_eq!(&t.chain(&chains, of(a)), &path, "chain v{} -> v{}", a, b);
            prop_assert_eq!(path.is_some(), deps_of_a.contains(&b));
            if let Some(path) = path {
                prop_assert_eq!(path.first().copied(), Some(of(a)));
                prop_assert_eq!(path.last().copied(), Some(of(b)));
                for w in path.windows(2) {
                    prop_assert!(t.direct_dependencies(w[0]).contains(&w[1]));
                }
            }
        }
    }
    // Ordering nodes by id rank orders them by id.
    let mut by_rank: Vec<NodeId> = (0..n).map(of).collect();
    by_rank.sort_by_key(|&x| t.id_rank(x));
    let mut by_id: Vec<NodeId> = (0..n).map(of).collect();
    by_id.sort_by(|&x, &y| t.node(x).id().cmp(t.node(y).id()));
    prop_assert_eq!(by_rank, by_id);
    prop_assert_eq!(
        (0..n).map(|v| t.id_rank(of(v)) as usize).collect::<BTreeSet<_>>(),
        (0..n).collect::<BTreeSet<_>>()
    );
    // Cycles are exactly the nodes that reach themselves, grouped by mutual reachability.
    let in_cycle: BTreeSet<usize> = t.cycles().iter().flatten().map(|&x| index_of(x)).collect();
    let on_loop: BTreeSet<usize> =
        (0..n).filter(|&v| naive_reach(n, edges, v, false).iter().any(|&w| dependencies[w].contains(&v))).collect();
    prop_assert_eq!(in_cycle, on_loop);
    // A dependency ranks after its dependent, but in one cycle, where they share a rank.
    for (a, deps_of_a) in dependencies.iter().enumerate() {
        let rank_a = t.component_rank(of(a));
        for (b, deps_of_b) in dependencies.iter().enumerate().filter(|&(b, _)| b != a) {
            let rank_b = t.component_rank(of(b));
            let mutual = deps_of_a.contains(&b) && deps_of_b.contains(&a);
            prop_assert_eq!(rank_a == rank_b, mutual, "v{} and v{}", a, b);
            if deps_of_a.contains(&b) && !mutual {
                prop_assert!(rank_a < rank_b, "v{} depends on v{}", a, b);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn dags_match_the_reference((n, edges) in graph_strategy(true)) {
        let t = Topology::compile(&spec_from_edges(n, &edges)).unwrap();
        prop_assert!(t.cycles().is_empty());
        check_against_reference(n, &edges)?;
    }

    #[test]
    fn graphs_with_cycles_match_the_reference((n, edges) in graph_strategy(false)) {
        check_against_reference(n, &edges)?;
    }

    /// A walk that stops at some nodes reaches what a search not expanding
    /// them reaches, asking each node once, with walks of both kinds
    /// sharing one scratch.
    #[test]
    fn walks_stop_where_asked((n, edges) in graph_strategy(false), stops in proptest::collection::vec(any::<bool>(), 40)) {
        let t = Topology::compile(&spec_from_edges(n, &edges)).unwrap();
        let index_of = |node: NodeId| -> usize { t.node(node).id()[1..].parse().unwrap() };
        let mut s = t.traversal();
        for v in 0..n {
            let start = id(&t, &format!("v{v}"));
            let mut asked = Vec::new();
            let got: Vec<usize> = t
                .dependencies_until(start, &mut s, |x| {
                    asked.push(index_of(x));
                    stops[index_of(x)]
                })
                .iter()
                .map(|&x| index_of(x))
                .collect();
            prop_assert_eq!(&asked, &got, "asked once of each node reached, in order");
            prop_assert_eq!(got.iter().copied().collect::<HashSet<_>>(), naive_reach_until(n, &edges, v, false, |x| stops[x]));
            let all: HashSet<usize> = t.dependencies(start, &mut s).iter().map(|&x| index_of(x)).collect();
            prop_assert_eq!(all, naive_reach(n, &edges, v, false));
        }
    }
}
