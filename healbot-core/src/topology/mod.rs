//! The compiled service dependency graph and its queries.
//!
//! A [`TopologySpec`] (the `spec` of a `Topology` document) is validated and
//! compiled once by [`Topology::compile`]; the result is immutable, cheap to
//! clone (an [`Arc`] inside), `Send + Sync`, and answers every query through
//! `&self`. Queries that walk the graph take a [`Traversal`]: reusable
//! scratch space, one per thread, the way `regex-automata` separates a
//! compiled regex from its `Cache`.
//!
//! # Vocabulary
//!
//! A node's *dependencies* are what it needs, transitively: the nodes it
//! `depends_on` and the nodes it `runs_on` (a pod needs its host). Its
//! *dependents* are what needs it. Its *blast radius* is its dependents.
//! `replicates` relates replicas; it is not a dependency and is only used by
//! [`Topology::replicas_of`] and for [shards](Topology::shards).
//!
//! # Example
//!
//! ```
//! use healbot_core::spec::TopologySpec;
//! use healbot_core::topology::Topology;
//!
//! let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
//!     {"id": "web", "kind": "service", "depends_on": ["api"]},
//!     {"id": "api", "kind": "service", "depends_on": ["db"], "runs_on": ["host-1"]},
//!     {"id": "db", "kind": "database", "tier": 1, "aliases": ["postgres"]},
//!     {"id": "host-1", "kind": "host"}
//! ]}"#).unwrap();
//! let topo = Topology::compile(&spec).unwrap();
//! let mut scratch = topo.traversal();
//!
//! let db = topo.lookup("postgres").unwrap();
//! let ids = |nodes: &[_]| nodes.iter().map(|&n| topo.node(n).id().to_string()).collect::<Vec<_>>();
//! assert_eq!(ids(topo.dependents(db, &mut scratch)), ["api", "web"]);
//! let web = topo.lookup("web").unwrap();
//! let mut deps = ids(topo.dependencies(web, &mut scratch));
//! deps.sort();
//! assert_eq!(deps, ["api", "db", "host-1"]);
//! assert_eq!(topo.blast_radius(db, &mut scratch).nodes, 2);
//! ```
//!
//! # Numbering and determinism
//!
//! A [`NodeId`] is a dense index in `0..len()`. Ids are assigned at compile
//! time from the node ids and the edges alone (never from the order of
//! `spec.nodes`), so the same topology written in any order compiles to the
//! same numbering and every query answers in the same order. The numbering
//! is chosen for memory locality (breadth-first over dependents from the
//! nodes that have no dependencies); use [`NodeInfo::spec_index`] to get back
//! to the document.
//!
//! # Performance
//!
//! Adjacency is stored as compressed sparse rows (`u32` offsets and targets,
//! forward and reverse, sorted), built at compile time. A traversal marks
//! visited nodes in a bitset and writes its answer into the [`Traversal`]'s
//! buffer; it allocates nothing once the scratch has grown to the graph's
//! size, and a call costs time proportional to what it visits, not to the
//! graph (the bitset is cleared lazily, only where the previous call wrote).
//! The [petgraph view](Topology::graph) is built too, for users who want
//! petgraph's algorithms; the queries here do not use it.
//!
//! # Sharing across threads
//!
//! `Topology` is `Send + Sync`; share it (or clones of it, which share the
//! same memory) freely. A `Traversal` is mutable scratch: give each thread
//! its own. A `Traversal` may be used with any topology; it grows as needed.

mod build;
mod problem;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use petgraph::graph::DiGraph;

pub use problem::TopologyProblem;

use crate::spec::{NodeKind, TopologySpec};
use crate::window::hash::FixedMap;
use crate::Name;
use build::Csr;

/// A node of a compiled [`Topology`]: a dense index in `0..topology.len()`.
///
/// Node ids are only meaningful for the topology that produced them. The
/// order of `NodeId`s is the compiled numbering, not the order of the spec.
///
/// # Example
///
/// ```
/// use healbot_core::spec::TopologySpec;
/// use healbot_core::topology::Topology;
///
/// let spec: TopologySpec = serde_json::from_str(
///     r#"{"nodes": [{"id": "db", "kind": "database"}]}"#).unwrap();
/// let topo = Topology::compile(&spec).unwrap();
/// let db = topo.lookup("db").unwrap();
/// assert_eq!(db.index(), 0);
/// assert_eq!(topo.node_id(0), Some(db));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct NodeId(u32);

impl NodeId {
    /// The index of this node, in `0..topology.len()`.
    ///
    /// # Example
    ///
    /// See [`NodeId`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A shard: a weakly connected part of the topology, over every edge kind.
///
/// Shards are numbered by their smallest [`NodeId`]. A host may run one
/// engine per shard, since no dependency crosses shards.
///
/// # Example
///
/// ```
/// use healbot_core::spec::TopologySpec;
/// use healbot_core::topology::Topology;
///
/// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
///     {"id": "a", "kind": "service", "depends_on": ["b"]},
///     {"id": "b", "kind": "database"},
///     {"id": "c", "kind": "service"}
/// ]}"#).unwrap();
/// let topo = Topology::compile(&spec).unwrap();
/// let (a, b, c) = (topo.lookup("a").unwrap(), topo.lookup("b").unwrap(), topo.lookup("c").unwrap());
/// assert_eq!(topo.shard_of(a), topo.shard_of(b));
/// assert_ne!(topo.shard_of(a), topo.shard_of(c));
/// assert_eq!(topo.shards().len(), 2);
/// assert_eq!(topo.shards()[topo.shard_of(c).index()], [c]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardId(u32);

impl ShardId {
    /// The index of this shard in [`Topology::shards`].
    ///
    /// # Example
    ///
    /// See [`ShardId`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The kind of an edge in the [petgraph view](Topology::graph).
///
/// # Example
///
/// ```
/// use healbot_core::topology::EdgeKind;
/// assert!(EdgeKind::RunsOn.is_dependency());
/// assert!(!EdgeKind::Replicates.is_dependency());
/// assert_eq!(EdgeKind::DependsOn.as_str(), "depends_on");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    /// `depends_on`: caller → callee.
    DependsOn,
    /// `runs_on`: node → what it runs on. A dependency.
    RunsOn,
    /// `replicates`: replica → what it replicates. Not a dependency.
    Replicates,
}

impl EdgeKind {
    /// Whether the edge makes its target a dependency of its source.
    ///
    /// # Example
    ///
    /// See [`EdgeKind`].
    pub fn is_dependency(self) -> bool {
        !matches!(self, EdgeKind::Replicates)
    }

    /// The field name of this edge in a node spec.
    ///
    /// # Example
    ///
    /// See [`EdgeKind`].
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::DependsOn => "depends_on",
            EdgeKind::RunsOn => "runs_on",
            EdgeKind::Replicates => "replicates",
        }
    }
}

/// The attributes of one node.
///
/// # Example
///
/// ```
/// use healbot_core::spec::{NodeKind, TopologySpec};
/// use healbot_core::topology::Topology;
///
/// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
///     {"id": "web", "kind": "service", "replicas": 3, "labels": {"team": "shop"}},
///     {"id": "db", "kind": "database", "tier": 1, "aliases": ["pg"]}
/// ]}"#).unwrap();
/// let topo = Topology::compile(&spec).unwrap();
/// let db = topo.node(topo.lookup("pg").unwrap());
/// assert_eq!(db.id(), "db");
/// assert_eq!(db.kind(), NodeKind::Database);
/// assert_eq!((db.replicas(), db.tier()), (1, 1));
/// assert_eq!(db.aliases(), ["pg"]);
/// assert_eq!(db.spec_index(), 1);
/// let web = topo.node(topo.lookup("web").unwrap());
/// assert_eq!(web.labels()["team"], "shop");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NodeInfo {
    node: NodeId,
    spec_index: usize,
    id: Name,
    kind: NodeKind,
    replicas: u32,
    tier: u8,
    labels: BTreeMap<String, String>,
    aliases: Vec<String>,
}

impl NodeInfo {
    /// This node's [`NodeId`].
    ///
    /// # Example
    ///
    /// See [`NodeInfo`].
    pub fn node_id(&self) -> NodeId {
        self.node
    }

    /// The index of this node in `spec.nodes`, for diagnostics and round trips.
    ///
    /// # Example
    ///
    /// See [`NodeInfo`].
    pub fn spec_index(&self) -> usize {
        self.spec_index
    }

    /// The node's unique id.
    ///
    /// # Example
    ///
    /// See [`NodeInfo`].
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The node's id as a [`Name`]: cloning it is a reference count, not
    /// a copy (decisions name nodes many times).
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// # let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [{"id": "a", "kind": "service"}]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// let a = topo.node(topo.lookup("a").unwrap());
    /// assert_eq!(a.shared_id(), a.id());
    /// ```
    pub fn shared_id(&self) -> &Name {
        &self.id
    }

    /// What the node is.
    ///
    /// # Example
    ///
    /// See [`NodeInfo`].
    pub fn kind(&self) -> NodeKind {
        self.kind
    }

    /// The declared replica count (at least 1).
    ///
    /// # Example
    ///
    /// See [`NodeInfo`].
    pub fn replicas(&self) -> u32 {
        self.replicas
    }

    /// Criticality: 1 is the most critical, 4 the least.
    ///
    /// # Example
    ///
    /// See [`NodeInfo`].
    pub fn tier(&self) -> u8 {
        self.tier
    }

    /// Free-form labels.
    ///
    /// # Example
    ///
    /// See [`NodeInfo`].
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }

    /// Other names telemetry may use for this node.
    ///
    /// # Example
    ///
    /// See [`NodeInfo`].
    pub fn aliases(&self) -> &[String] {
        &self.aliases
    }
}

/// The size of a blast radius: how many nodes depend on a node, transitively,
/// and how much they weigh by tier.
///
/// The weight of a node is `2^(4 - tier)`: tier 1 weighs 8, tier 2 weighs 4,
/// tier 3 weighs 2, tier 4 weighs 1 (see [`tier_weight`]). The node itself is
/// not counted.
///
/// # Example
///
/// ```
/// use healbot_core::spec::TopologySpec;
/// use healbot_core::topology::{BlastRadius, Topology};
///
/// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
///     {"id": "checkout", "kind": "service", "tier": 1, "depends_on": ["db"]},
///     {"id": "reports", "kind": "service", "tier": 4, "depends_on": ["db"]},
///     {"id": "db", "kind": "database", "tier": 1}
/// ]}"#).unwrap();
/// let topo = Topology::compile(&spec).unwrap();
/// let radius = topo.blast_radius(topo.lookup("db").unwrap(), &mut topo.traversal());
/// assert_eq!(radius, BlastRadius { nodes: 2, tier_weighted: 9.0 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlastRadius {
    /// How many nodes depend on the node, transitively.
    pub nodes: usize,
    /// The sum of those nodes' tier weights.
    pub tier_weighted: f64,
}

/// The blast-radius weight of a tier: 8, 4, 2, 1 for tiers 1 to 4 (0 for a
/// tier outside `1..=4`, which compiling rejects).
///
/// # Example
///
/// ```
/// use healbot_core::topology::tier_weight;
/// assert_eq!([1, 2, 3, 4].map(tier_weight), [8, 4, 2, 1]);
/// ```
pub fn tier_weight(tier: u8) -> u8 {
    match tier {
        1..=4 => 1 << (4 - tier),
        _ => 0,
    }
}

/// Reusable scratch space for graph walks.
///
/// It holds a visited bitset, the breadth-first queue (which is also the
/// answer) and, for [`Topology::path_to_dependency`], parent links. It grows
/// to the largest graph it has walked and is then reused without allocating.
/// Answers borrow from it, so they live until its next use.
///
/// # Example
///
/// ```
/// use healbot_core::spec::TopologySpec;
/// use healbot_core::topology::{Topology, Traversal};
///
/// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
///     {"id": "a", "kind": "service", "depends_on": ["b"]},
///     {"id": "b", "kind": "database"}
/// ]}"#).unwrap();
/// let topo = Topology::compile(&spec).unwrap();
/// let mut scratch = Traversal::new(); // or topo.traversal(), sized up front
/// let (a, b) = (topo.lookup("a").unwrap(), topo.lookup("b").unwrap());
/// assert_eq!(topo.dependencies(a, &mut scratch), [b]);
/// assert_eq!(topo.dependents(b, &mut scratch), [a]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Traversal {
    /// One bit per node; between calls only the bits of `order[..len]` are set.
    seen: Vec<u64>,
    /// The start node, then every node reached, in breadth-first order, in
    /// `order[..len]`. Sized to the graph plus one so that a walk can write
    /// a candidate unconditionally and keep it only if it was new.
    order: Vec<NodeId>,
    /// How much of `order` the last walk filled.
    len: usize,
    /// Parent links, valid only for nodes marked in `seen`.
    parent: Vec<u32>,
    /// One byte per node, used instead of `seen` by walks over small graphs.
    bytes: Vec<u8>,
    /// Whether the last walk marked `bytes` rather than `seen`.
    bytes_dirty: bool,
}

/// The shortest dependency chains from every dependent of one node to it,
/// prepared by [`Topology::chains_to`] and read by [`Topology::chain`]:
/// one walk for many chains to the same node. Reusable across calls and
/// topologies; it grows to the largest graph it has walked.
///
/// # Example
///
/// See [`Topology::chains_to`].
#[derive(Clone, Debug, Default)]
pub struct ChainsTo {
    /// The node the chains lead to; `None` before the first walk.
    to: Option<NodeId>,
    /// Hops from each node to `to`, by [`NodeId`]; `u32::MAX` where `to` is
    /// out of reach. Between walks only the entries of `reached` are set.
    hops: Vec<u32>,
    /// `to` and every node that reaches it, in breadth-first order.
    reached: Vec<NodeId>,
}

impl Traversal {
    /// Empty scratch; it grows on first use.
    ///
    /// # Example
    ///
    /// See [`Traversal`].
    pub fn new() -> Traversal {
        Traversal::default()
    }

    /// Scratch sized for graphs of `nodes` nodes.
    ///
    /// # Example
    ///
    /// ```
    /// let scratch = healbot_core::topology::Traversal::with_capacity(1_000);
    /// # drop(scratch);
    /// ```
    pub fn with_capacity(nodes: usize) -> Traversal {
        let mut t = Traversal::default();
        t.begin(nodes);
        t
    }

    /// Clears what the previous walk marked and makes room for `n` nodes.
    ///
    /// Clearing costs what the previous walk visited: bit by bit when it
    /// visited few nodes, a plain fill of the words when it visited many.
    fn begin(&mut self, n: usize) {
        let visited = self.order.get(..self.len).unwrap_or(&[]);
        if self.bytes_dirty {
            self.bytes_dirty = false;
            if visited.len().saturating_mul(16) >= self.bytes.len() {
                self.bytes.fill(0);
            } else {
                for v in visited {
                    if let Some(b) = self.bytes.get_mut(v.index()) {
                        *b = 0;
                    }
                }
            }
        }
        if visited.len().saturating_mul(8) >= self.seen.len() {
            self.seen.fill(0);
        } else {
            for v in visited {
                if let Some(word) = self.seen.get_mut(v.index() >> 6) {
                    *word &= !(1u64 << (v.0 & 63));
                }
            }
        }
        self.len = 0;
        let words = n.div_ceil(64);
        if self.seen.len() < words {
            self.seen.resize(words, 0);
        }
        if self.order.len() < n + 1 {
            self.order.resize(n + 1, NodeId(0));
        }
    }

    /// Marks `v`; returns whether it was unmarked.
    #[inline]
    fn mark(&mut self, v: NodeId) -> bool {
        match self.seen.get_mut(v.index() >> 6) {
            Some(word) => {
                let bit = 1u64 << (v.0 & 63);
                let fresh = *word & bit == 0;
                *word |= bit;
                fresh
            }
            None => false,
        }
    }

    /// Appends `v` to the walk (room is reserved by `begin`).
    #[inline]
    fn push(&mut self, v: NodeId) {
        if let Some(slot) = self.order.get_mut(self.len) {
            *slot = v;
            self.len += 1;
        }
    }

    /// The nodes reached by the last walk, without its start.
    fn reached(&self) -> &[NodeId] {
        self.order.get(1..self.len).unwrap_or(&[])
    }

    /// [`walk`](Self::walk), but a node for which `stop` is true (asked
    /// once per node reached, in order) is not walked on from.
    fn walk_until(&mut self, rows: &Csr, start: NodeId, mut stop: impl FnMut(NodeId) -> bool) -> &[NodeId] {
        self.begin(rows.len());
        if start.index() >= rows.len() {
            return &[];
        }
        self.mark(start);
        self.push(start);
        let mut head = 0;
        while let Some(&v) = self.order.get(head).filter(|_| head < self.len) {
            head += 1;
            if head > 1 && stop(v) {
                continue;
            }
            for &w in rows.row(v.index()) {
                if self.mark(w) {
                    self.push(w);
                }
            }
        }
        self.reached()
    }

    /// Breadth-first from `start` over `rows`; the answer excludes `start`.
    fn walk(&mut self, rows: &Csr, start: NodeId) -> &[NodeId] {
        let n = rows.len();
        self.begin(n);
        if start.index() >= n {
            return &[];
        }
        self.push(start);
        let (offsets, targets) = rows.raw();
        let order = self.order.as_mut_slice();
        self.len = if n <= BYTE_MARKS_UP_TO {
            // Small graphs: a byte per node. With only a few dozen words a
            // bitset makes neighbouring marks wait on each other's stores.
            if self.bytes.len() < n {
                self.bytes.resize(n, 0);
            }
            self.bytes_dirty = true;
            let bytes = self.bytes.as_mut_slice();
            bytes.test_and_set(start.index());
            breadth_first(bytes, offsets, targets, order, self.len)
        } else {
            let seen = self.seen.as_mut_slice();
            seen.test_and_set(start.index());
            breadth_first(seen, offsets, targets, order, self.len)
        };
        self.reached()
    }
}

/// Graphs up to this many nodes mark visits in a byte array rather than a bitset.
const BYTE_MARKS_UP_TO: usize = 1 << 15;

/// A visited set.
trait Marks {
    /// Marks node `i`; 1 if it was unmarked, else 0.
    fn test_and_set(&mut self, i: usize) -> usize;
}

impl Marks for [u64] {
    #[inline(always)]
    fn test_and_set(&mut self, i: usize) -> usize {
        let bit = 1u64 << (i & 63);
        let word = &mut self[i >> 6];
        let fresh = (*word & bit == 0) as usize;
        *word |= bit;
        fresh
    }
}

impl Marks for [u8] {
    #[inline(always)]
    fn test_and_set(&mut self, i: usize) -> usize {
        let byte = &mut self[i];
        let fresh = (*byte == 0) as usize;
        *byte = 1;
        fresh
    }
}

/// The breadth-first loop: `order[..len]` holds the queue (already marked);
/// returns the final length. `order` must have room for every node plus one.
#[inline(always)]
fn breadth_first<M: Marks + ?Sized>(
    marks: &mut M,
    offsets: &[u32],
    targets: &[NodeId],
    order: &mut [NodeId],
    mut len: usize,
) -> usize {
    let mut head = 0;
    while head < len {
        // A run of consecutive ids in the queue has contiguous rows: walk
        // them as one. The locality numbering makes such runs long.
        let first = order[head].index();
        let mut end = head + 1;
        while end < len && order[end].index() == first + (end - head) {
            end += 1;
        }
        let last = first + (end - head);
        head = end;
        let (s, e) = (offsets[first] as usize, offsets[last] as usize);
        for &w in &targets[s..e] {
            // Branch-free: whether a neighbour is new is unpredictable, so
            // write it at the end unconditionally and keep it if it was new.
            let fresh = marks.test_and_set(w.index());
            order[len] = w;
            len += fresh;
        }
    }
    len
}

/// What a compiled topology holds. Shared behind an `Arc`.
#[derive(Debug)]
struct Inner {
    spec: TopologySpec,
    nodes: Vec<NodeInfo>,
    /// Each node's position in id order, by `NodeId`.
    id_rank: Vec<u32>,
    /// `tier_weight` of each node, by `NodeId`.
    weights: Vec<u8>,
    lookup: FixedMap<Box<str>, NodeId>,
    dependencies: Csr,
    dependents: Csr,
    replicas: Csr,
    shard_of: Vec<ShardId>,
    shards: Vec<Vec<NodeId>>,
    cycles: Vec<Vec<NodeId>>,
    /// Each node's strongly connected component's rank, by `NodeId`.
    component_rank: Vec<u32>,
    graph: DiGraph<NodeId, EdgeKind>,
    dependency_edges: usize,
}

/// A compiled, validated topology.
///
/// Built once by [`Topology::compile`], then queried through `&self`. Clone
/// is cheap (the compiled data is shared). See the [module docs](self) for
/// an overview, numbering and performance.
///
/// # Example
///
/// ```
/// use healbot_core::spec::TopologySpec;
/// use healbot_core::topology::Topology;
///
/// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
///     {"id": "web", "kind": "service", "depends_on": ["db"]},
///     {"id": "db", "kind": "database"}
/// ]}"#).unwrap();
/// let topo = Topology::compile(&spec).unwrap();
/// assert_eq!(topo.len(), 2);
/// let shared = topo.clone(); // cheap
/// std::thread::spawn(move || assert_eq!(shared.len(), 2)).join().unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Topology(Arc<Inner>);

impl Topology {
    /// Validates `spec` and compiles it, reporting every problem found.
    ///
    /// Problems: a node id that is duplicated or malformed (it must match
    /// `[A-Za-z0-9_.:/-]+`), `replicas: 0`, a tier outside `1..=4`, an empty
    /// alias or one that collides with an id or another alias, an edge to an
    /// unknown node (with a suggestion when one is close) or to an alias
    /// (edges name nodes by id), an edge from a node to itself, a target
    /// listed twice in one edge list, an empty or repeated `attach_by` key.
    /// They come sorted by location (see [`TopologyProblem::path`]).
    ///
    /// Dependency cycles are allowed; see [`Topology::cycles`].
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::spec::TopologySpec;
    /// use healbot_core::topology::Topology;
    ///
    /// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
    ///     {"id": "web", "kind": "service", "tier": 9, "depends_on": ["web", "dbb"]},
    ///     {"id": "db", "kind": "database"},
    ///     {"id": "db", "kind": "cache"}
    /// ]}"#).unwrap();
    /// let problems = Topology::compile(&spec).unwrap_err();
    /// let paths: Vec<String> = problems.iter().map(|p| p.path()).collect();
    /// assert_eq!(paths, ["spec.nodes[0].tier", "spec.nodes[0].depends_on[0]",
    ///                    "spec.nodes[0].depends_on[1]", "spec.nodes[2].id"]);
    /// assert_eq!(problems[2].suggestion(), Some("did you mean `db`?"));
    /// ```
    pub fn compile(spec: &TopologySpec) -> Result<Topology, Vec<TopologyProblem>> {
        build::compile(spec).map(|inner| Topology(Arc::new(inner)))
    }

    /// The number of nodes.
    ///
    /// # Example
    ///
    /// See [`Topology`].
    pub fn len(&self) -> usize {
        self.0.nodes.len()
    }

    /// Whether the topology has no nodes.
    ///
    /// # Example
    ///
    /// ```
    /// let topo = healbot_core::topology::Topology::compile(&Default::default()).unwrap();
    /// assert!(topo.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.nodes.is_empty()
    }

    /// The number of distinct dependency edges (`depends_on` and `runs_on`,
    /// a pair linked by both counted once).
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::spec::TopologySpec;
    /// use healbot_core::topology::Topology;
    ///
    /// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
    ///     {"id": "pod", "kind": "pod", "depends_on": ["vm"], "runs_on": ["vm"]},
    ///     {"id": "vm", "kind": "host"}
    /// ]}"#).unwrap();
    /// assert_eq!(Topology::compile(&spec).unwrap().dependency_edge_count(), 1);
    /// ```
    pub fn dependency_edge_count(&self) -> usize {
        self.0.dependency_edges
    }

    /// The [`NodeId`] with this index, if it is in range.
    ///
    /// # Example
    ///
    /// See [`NodeId`].
    pub fn node_id(&self, index: usize) -> Option<NodeId> {
        (index < self.len()).then_some(NodeId(index as u32))
    }

    /// Every [`NodeId`], ascending.
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// # let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
    /// #     {"id": "a", "kind": "service"}, {"id": "b", "kind": "service"}]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// let ids: Vec<&str> = topo.node_ids().map(|n| topo.node(n).id()).collect();
    /// assert_eq!(ids, ["a", "b"]);
    /// ```
    pub fn node_ids(&self) -> impl ExactSizeIterator<Item = NodeId> + '_ {
        self.0.nodes.iter().map(|n| n.node)
    }

    /// The attributes of a node.
    ///
    /// # Panics
    ///
    /// When `id` does not belong to this topology (`id.index() >= len()`);
    /// see [`Topology::get`] for a checked variant.
    ///
    /// # Example
    ///
    /// See [`NodeInfo`].
    pub fn node(&self, id: NodeId) -> &NodeInfo {
        &self.0.nodes[id.index()]
    }

    /// The position of a node's id among all ids in byte order: sorting
    /// nodes by it sorts them by id, with integer comparisons.
    ///
    /// # Panics
    ///
    /// When `id` does not belong to this topology, as [`Topology::node`].
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
    ///     {"id": "web", "kind": "service", "depends_on": ["db"]},
    ///     {"id": "db", "kind": "database"}]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// let (web, db) = (topo.lookup("web").unwrap(), topo.lookup("db").unwrap());
    /// assert_eq!((topo.id_rank(db), topo.id_rank(web)), (0, 1));
    /// ```
    pub fn id_rank(&self, id: NodeId) -> u32 {
        self.0.id_rank[id.index()]
    }

    /// The rank of `id`'s strongly connected component of the dependency
    /// graph (`depends_on` and `runs_on`) in a topological order of those
    /// components: every (transitive) dependency of a node has a rank
    /// above the node's, unless both are in one dependency cycle, where
    /// they share a rank. A node in no cycle has a rank of its own.
    ///
    /// # Panics
    ///
    /// If `id` is not a node of this topology.
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
    ///     {"id": "web", "kind": "service", "depends_on": ["api"]},
    ///     {"id": "api", "kind": "service", "depends_on": ["auth"]},
    ///     {"id": "auth", "kind": "service", "depends_on": ["api"]}]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// let rank = |id: &str| topo.component_rank(topo.lookup(id).unwrap());
    /// assert_eq!(rank("api"), rank("auth"));
    /// assert!(rank("web") < rank("api"));
    /// ```
    pub fn component_rank(&self, id: NodeId) -> u32 {
        self.0.component_rank[id.index()]
    }

    /// The attributes of a node, or `None` when `id` is out of range.
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// # let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [{"id": "a", "kind": "service"}]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// let a = topo.lookup("a").unwrap();
    /// assert_eq!(topo.get(a).map(|n| n.id()), Some("a"));
    /// ```
    pub fn get(&self, id: NodeId) -> Option<&NodeInfo> {
        self.0.nodes.get(id.index())
    }

    /// Every node's attributes, by [`NodeId`].
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// # let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [{"id": "a", "kind": "service"}]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// assert_eq!(topo.nodes()[0].id(), "a");
    /// ```
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.0.nodes
    }

    /// The node with this id or alias, in O(1).
    ///
    /// # Example
    ///
    /// See [`NodeInfo`].
    pub fn lookup(&self, name: &str) -> Option<NodeId> {
        self.0.lookup.get(name).copied()
    }

    /// The observation label keys that name a node, tried in order.
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": []}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// assert_eq!(topo.attach_by(), ["service", "app", "job"]);
    /// ```
    pub fn attach_by(&self) -> &[String] {
        &self.0.spec.attach_by
    }

    /// The source spec, as given to [`Topology::compile`] (for serialisation).
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// # let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [{"id": "a", "kind": "service"}]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// assert_eq!(topo.spec(), &spec);
    /// ```
    pub fn spec(&self) -> &TopologySpec {
        &self.0.spec
    }

    /// Scratch space sized for this topology.
    ///
    /// # Example
    ///
    /// See [`Traversal`].
    pub fn traversal(&self) -> Traversal {
        Traversal::with_capacity(self.len())
    }

    /// What `n` needs directly (`depends_on` and `runs_on`), ascending,
    /// without repeats. Empty when `n` is out of range.
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
    ///     {"id": "api", "kind": "service", "depends_on": ["db"], "runs_on": ["vm"]},
    ///     {"id": "db", "kind": "database", "replicates": ["db2"]},
    ///     {"id": "db2", "kind": "database"},
    ///     {"id": "vm", "kind": "host"}
    /// ]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// let [api, db, vm] = ["api", "db", "vm"].map(|id| topo.lookup(id).unwrap());
    /// assert_eq!(topo.direct_dependencies(api).len(), 2);
    /// assert!(topo.direct_dependencies(api).contains(&vm));
    /// assert!(topo.direct_dependencies(db).is_empty()); // replicates is not a dependency
    /// assert_eq!(topo.direct_dependents(db), [api]);
    /// ```
    pub fn direct_dependencies(&self, n: NodeId) -> &[NodeId] {
        self.0.dependencies.row(n.index())
    }

    /// What needs `n` directly, ascending, without repeats.
    ///
    /// # Example
    ///
    /// See [`Topology::direct_dependencies`].
    pub fn direct_dependents(&self, n: NodeId) -> &[NodeId] {
        self.0.dependents.row(n.index())
    }

    /// Everything `n` needs, transitively, excluding `n` itself (even on a
    /// cycle through `n`).
    ///
    /// Order: breadth-first, so nearer nodes come first; the nodes of one
    /// parent in ascending [`NodeId`] order. The order depends only on the
    /// topology, never on the order of the spec. Allocates nothing once
    /// `scratch` has grown to this topology's size.
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
    ///     {"id": "web", "kind": "service", "depends_on": ["api"]},
    ///     {"id": "api", "kind": "service", "depends_on": ["db"]},
    ///     {"id": "db", "kind": "database"}
    /// ]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// let mut scratch = topo.traversal();
    /// let web = topo.lookup("web").unwrap();
    /// let ids: Vec<&str> = topo.dependencies(web, &mut scratch).iter().map(|&n| topo.node(n).id()).collect();
    /// assert_eq!(ids, ["api", "db"]);
    /// ```
    pub fn dependencies<'s>(&self, n: NodeId, scratch: &'s mut Traversal) -> &'s [NodeId] {
        scratch.walk(&self.0.dependencies, n)
    }

    /// [`Topology::dependencies`], in the same order, but not past a node
    /// for which `stop` is true: `stop` is asked once of every node reached,
    /// nearest first, and the dependencies of a node it stops at are
    /// reached only through other nodes. For a search that some node makes
    /// pointless to continue below it.
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
    ///     {"id": "web", "kind": "service", "depends_on": ["api", "cache"]},
    ///     {"id": "api", "kind": "service", "depends_on": ["db"]},
    ///     {"id": "cache", "kind": "cache"},
    ///     {"id": "db", "kind": "database"}
    /// ]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// let mut scratch = topo.traversal();
    /// let (web, api) = (topo.lookup("web").unwrap(), topo.lookup("api").unwrap());
    /// let near = topo.dependencies_until(web, &mut scratch, |n| n == api);
    /// let mut ids: Vec<&str> = near.iter().map(|&n| topo.node(n).id()).collect();
    /// ids.sort();
    /// assert_eq!(ids, ["api", "cache"]); // not db: only api leads there
    /// ```
    pub fn dependencies_until<'s>(
        &self,
        n: NodeId,
        scratch: &'s mut Traversal,
        stop: impl FnMut(NodeId) -> bool,
    ) -> &'s [NodeId] {
        scratch.walk_until(&self.0.dependencies, n, stop)
    }

    /// Everything that needs `n`, transitively, excluding `n` itself: its
    /// blast radius as a list. Same order and cost as
    /// [`Topology::dependencies`].
    ///
    /// # Example
    ///
    /// See the [module docs](self).
    pub fn dependents<'s>(&self, n: NodeId, scratch: &'s mut Traversal) -> &'s [NodeId] {
        scratch.walk(&self.0.dependents, n)
    }

    /// How many nodes depend on `n`, transitively, and their tier weight
    /// (see [`BlastRadius`]).
    ///
    /// # Example
    ///
    /// See [`BlastRadius`].
    pub fn blast_radius(&self, n: NodeId, scratch: &mut Traversal) -> BlastRadius {
        let dependents = scratch.walk(&self.0.dependents, n);
        let weights = &self.0.weights;
        let weight: u64 = dependents.iter().map(|d| u64::from(weights.get(d.index()).copied().unwrap_or(0))).sum();
        BlastRadius { nodes: dependents.len(), tier_weighted: weight as f64 }
    }

    /// A shortest chain of dependencies `from → … → to` (both ends
    /// included), or `None` when `to` is not a dependency of `from`.
    /// `from == to` gives `[from]`. Among shortest chains, the one through
    /// the smallest [`NodeId`]s at each step is chosen. Follows `depends_on`
    /// and `runs_on`.
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
    ///     {"id": "web", "kind": "service", "depends_on": ["api", "db"]},
    ///     {"id": "api", "kind": "service", "depends_on": ["cache"]},
    ///     {"id": "cache", "kind": "cache", "runs_on": ["vm"]},
    ///     {"id": "db", "kind": "database"},
    ///     {"id": "vm", "kind": "host"}
    /// ]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// let mut scratch = topo.traversal();
    /// let [web, vm, db] = ["web", "vm", "db"].map(|id| topo.lookup(id).unwrap());
    /// let path = topo.path_to_dependency(web, vm, &mut scratch).unwrap();
    /// let ids: Vec<&str> = path.iter().map(|&n| topo.node(n).id()).collect();
    /// assert_eq!(ids, ["web", "api", "cache", "vm"]);
    /// assert_eq!(topo.path_to_dependency(db, web, &mut scratch), None);
    /// ```
    pub fn path_to_dependency(&self, from: NodeId, to: NodeId, scratch: &mut Traversal) -> Option<Vec<NodeId>> {
        let rows = &self.0.dependencies;
        let n = rows.len();
        scratch.begin(n);
        if from.index() >= n || to.index() >= n {
            return None;
        }
        if from == to {
            return Some(vec![from]);
        }
        if scratch.parent.len() < n {
            scratch.parent.resize(n, u32::MAX);
        }
        scratch.mark(from);
        scratch.push(from);
        let mut head = 0;
        while head < scratch.len {
            let v = scratch.order[head];
            head += 1;
            for &w in rows.row(v.index()) {
                if scratch.mark(w) {
                    // Pushed before returning: `begin` clears what `order` lists.
                    scratch.push(w);
                    scratch.parent[w.index()] = v.0;
                    if w == to {
                        let mut path = vec![to];
                        let mut at = to;
                        while at != from {
                            at = NodeId(*scratch.parent.get(at.index())?);
                            path.push(at);
                        }
                        path.reverse();
                        return Some(path);
                    }
                }
            }
        }
        None
    }

    /// Prepares `chains` to give the shortest dependency chain from any node
    /// to `to` ([`Topology::chain`]), with one breadth-first walk over `to`'s
    /// dependents: what many [`Topology::path_to_dependency`] calls towards
    /// one node cost once. `chains` keeps its buffers across calls.
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::{ChainsTo, Topology};
    /// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
    ///     {"id": "web", "kind": "service", "depends_on": ["api", "db"]},
    ///     {"id": "api", "kind": "service", "depends_on": ["db"]},
    ///     {"id": "db", "kind": "database"}
    /// ]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// let [web, api, db] = ["web", "api", "db"].map(|id| topo.lookup(id).unwrap());
    /// let mut chains = ChainsTo::default();
    /// topo.chains_to(db, &mut chains);
    /// assert_eq!(topo.chain(&chains, web), Some(vec![web, db]));
    /// assert_eq!(topo.chain(&chains, api), Some(vec![api, db]));
    /// topo.chains_to(api, &mut chains);
    /// assert_eq!(topo.chain(&chains, db), None);
    /// ```
    pub fn chains_to(&self, to: NodeId, chains: &mut ChainsTo) {
        let n = self.len();
        for v in chains.reached.drain(..) {
            if let Some(h) = chains.hops.get_mut(v.index()) {
                *h = u32::MAX;
            }
        }
        chains.hops.resize(n, u32::MAX);
        chains.to = None;
        if to.index() >= n {
            return;
        }
        chains.to = Some(to);
        chains.hops[to.index()] = 0;
        chains.reached.push(to);
        let mut head = 0;
        while let Some(&v) = chains.reached.get(head) {
            head += 1;
            let next = chains.hops[v.index()] + 1;
            for &w in self.0.dependents.row(v.index()) {
                if chains.hops[w.index()] == u32::MAX {
                    chains.hops[w.index()] = next;
                    chains.reached.push(w);
                }
            }
        }
    }

    /// The shortest dependency chain from `from` to the node `chains` was
    /// prepared for by [`Topology::chains_to`] on this topology: the same
    /// chain as [`Topology::path_to_dependency`] (among shortest chains, the
    /// one through the smallest [`NodeId`]s at each step), or `None`.
    ///
    /// # Example
    ///
    /// See [`Topology::chains_to`].
    pub fn chain(&self, chains: &ChainsTo, from: NodeId) -> Option<Vec<NodeId>> {
        let to = chains.to?;
        let hops = |v: NodeId| chains.hops.get(v.index()).copied().filter(|&h| h != u32::MAX);
        let mut left = hops(from)?;
        let mut path = Vec::with_capacity(left as usize + 1);
        let mut at = from;
        path.push(at);
        while at != to {
            // Rows are sorted: the first neighbour one hop closer is the smallest.
            at = *self.0.dependencies.row(at.index()).iter().find(|&&w| hops(w) == Some(left - 1))?;
            left -= 1;
            path.push(at);
        }
        Some(path)
    }

    /// The shard `n` belongs to.
    ///
    /// # Panics
    ///
    /// When `n` does not belong to this topology.
    ///
    /// # Example
    ///
    /// See [`ShardId`].
    pub fn shard_of(&self, n: NodeId) -> ShardId {
        self.0.shard_of[n.index()]
    }

    /// Every shard's nodes, ascending, indexed by [`ShardId::index`]. Shards
    /// are the weakly connected components over all edge kinds
    /// (`replicates` included), numbered by their smallest node.
    ///
    /// # Example
    ///
    /// See [`ShardId`].
    pub fn shards(&self) -> &[Vec<NodeId>] {
        &self.0.shards
    }

    /// The dependency cycles: strongly connected components of more than one
    /// node over `depends_on` and `runs_on`. Each is sorted ascending, and
    /// the list by first node. Cycles are allowed; loaders report them as
    /// lint warnings, and every traversal terminates on them.
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
    ///     {"id": "a", "kind": "service", "depends_on": ["b"]},
    ///     {"id": "b", "kind": "service", "depends_on": ["a", "c"]},
    ///     {"id": "c", "kind": "database"}
    /// ]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// assert_eq!(topo.cycles().len(), 1);
    /// let mut ids: Vec<&str> = topo.cycles()[0].iter().map(|&n| topo.node(n).id()).collect();
    /// ids.sort();
    /// assert_eq!(ids, ["a", "b"]);
    /// ```
    pub fn cycles(&self) -> &[Vec<NodeId>] {
        &self.0.cycles
    }

    /// The nodes linked to `n` by a `replicates` edge, in either direction
    /// (a primary lists its replicas, a replica its primary), ascending.
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
    ///     {"id": "db", "kind": "database"},
    ///     {"id": "db-r1", "kind": "database", "replicates": ["db"]},
    ///     {"id": "db-r2", "kind": "database", "replicates": ["db"]}
    /// ]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// let [db, r1] = ["db", "db-r1"].map(|id| topo.lookup(id).unwrap());
    /// assert_eq!(topo.replicas_of(db).len(), 2);
    /// assert_eq!(topo.replicas_of(r1), [db]);
    /// ```
    pub fn replicas_of(&self, n: NodeId) -> &[NodeId] {
        self.0.replicas.row(n.index())
    }

    /// The topology as a petgraph [`DiGraph`], for petgraph's algorithms.
    ///
    /// Node index `i` is [`NodeId`] `i` (its weight); every declared edge is
    /// there, weighted by its [`EdgeKind`] (filter out
    /// [`EdgeKind::Replicates`] for dependency questions, e.g. with
    /// `petgraph::visit::EdgeFiltered`). Edges point from the declaring node
    /// (caller → callee).
    ///
    /// # Example
    ///
    /// ```
    /// # use healbot_core::spec::TopologySpec;
    /// # use healbot_core::topology::Topology;
    /// use petgraph::graph::NodeIndex;
    ///
    /// let spec: TopologySpec = serde_json::from_str(r#"{"nodes": [
    ///     {"id": "a", "kind": "service", "depends_on": ["b"]},
    ///     {"id": "b", "kind": "database"}
    /// ]}"#).unwrap();
    /// let topo = Topology::compile(&spec).unwrap();
    /// let g = topo.graph();
    /// assert_eq!((g.node_count(), g.edge_count()), (2, 1));
    /// let a = topo.lookup("a").unwrap();
    /// assert_eq!(g[NodeIndex::new(a.index())], a);
    /// assert!(!petgraph::algo::is_cyclic_directed(g));
    /// ```
    pub fn graph(&self) -> &DiGraph<NodeId, EdgeKind> {
        &self.0.graph
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Topology {
        let nodes = (0..n)
            .map(|i| crate::spec::NodeSpec {
                id: format!("n{i:04}"),
                kind: NodeKind::Service,
                replicas: 1,
                tier: 3,
                labels: BTreeMap::new(),
                aliases: vec![],
                depends_on: if i + 1 < n { vec![format!("n{:04}", i + 1)] } else { vec![] },
                runs_on: vec![],
                replicates: vec![],
            })
            .collect();
        Topology::compile(&TopologySpec { attach_by: vec![], replicas_metric: None, nodes }).unwrap()
    }

    /// How many marks the scratch holds, in either representation.
    fn marked(s: &Traversal) -> usize {
        s.seen.iter().map(|w| w.count_ones() as usize).sum::<usize>() + s.bytes.iter().filter(|&&b| b != 0).count()
    }

    #[test]
    fn the_visited_set_is_clean_after_each_kind_of_walk() {
        // Below and above the byte-marks threshold, so both representations run.
        for n in [1000, BYTE_MARKS_UP_TO + 10] {
            let t = chain(n);
            let name = |i: usize| format!("n{i:04}");
            let (first, last) = (t.lookup(&name(0)).unwrap(), t.lookup(&name(n - 1)).unwrap());
            let mut s = Traversal::new();
            // A long walk (cleared by filling), then short ones (cleared mark by mark).
            assert_eq!(t.dependents(last, &mut s).len(), n - 1);
            assert_eq!(marked(&s), n);
            assert_eq!(t.dependencies(t.lookup(&name(n - 3)).unwrap(), &mut s).len(), 2);
            assert_eq!(marked(&s), 3);
            let path = t.path_to_dependency(first, t.lookup(&name(2)).unwrap(), &mut s);
            assert_eq!(path.map(|p| p.len()), Some(3));
            assert_eq!(t.dependents(first, &mut s).len(), 0);
            assert_eq!(marked(&s), 1);
            assert_eq!(t.dependencies(first, &mut s).len(), n - 1);
            assert_eq!(t.blast_radius(last, &mut s).nodes, n - 1);
        }
    }

    #[test]
    fn numbering_follows_dependents_from_the_foundation() {
        // n0009 has no dependencies: it is numbered first, then its dependents in order.
        let t = chain(10);
        let ids: Vec<&str> = t.node_ids().map(|n| t.node(n).id()).collect();
        assert_eq!(ids, ["n0009", "n0008", "n0007", "n0006", "n0005", "n0004", "n0003", "n0002", "n0001", "n0000"]);
        let mut s = t.traversal();
        let walk: Vec<usize> = t.dependents(t.node_id(0).unwrap(), &mut s).iter().map(|n| n.index()).collect();
        assert_eq!(walk, (1..10).collect::<Vec<_>>(), "a blast-radius walk reads memory in order");
    }
}
