//! Compiling a [`TopologySpec`] into a [`Topology`](super::Topology):
//! validation (every problem, not the first), canonical numbering, the
//! compressed adjacency, shards, cycles and the petgraph view.

use petgraph::graph::{DiGraph, NodeIndex};

use super::problem::TopologyProblem;
use super::{EdgeKind, Inner, NodeId, NodeInfo, ShardId};
use crate::diagnostic::{did_you_mean, DiagnosticKind};
use crate::spec::TopologySpec;
use crate::window::hash::{FixedMap, FixedSet};

/// The largest number of nodes (and of edges) a topology may have: indices
/// are `u32`, and `u32::MAX` is kept free as a sentinel.
const MAX_ITEMS: usize = u32::MAX as usize - 1;

/// How many string comparisons "did you mean" suggestions may cost in one
/// compile, so that a 1M-node spec full of typos still compiles in bounded time.
const SUGGESTION_BUDGET: usize = 4_000_000;

const UNSET: u32 = u32::MAX;

/// Compressed sparse rows: the neighbours of `v` are
/// `targets[offsets[v]..offsets[v + 1]]`, sorted ascending, without repeats.
#[derive(Clone, Debug, Default)]
pub(super) struct Csr {
    offsets: Vec<u32>,
    targets: Vec<NodeId>,
}

impl Csr {
    /// Builds the rows of `n` nodes from `(from, to)` edges; each row is
    /// sorted and deduplicated.
    fn build(n: usize, edges: &[(u32, u32)]) -> Csr {
        let mut offsets = vec![0u32; n + 1];
        for &(from, _) in edges {
            offsets[from as usize + 1] += 1;
        }
        for v in 0..n {
            offsets[v + 1] += offsets[v];
        }
        let mut fill: Vec<u32> = offsets[..n].to_vec();
        let mut targets = vec![NodeId(0); edges.len()];
        for &(from, to) in edges {
            let slot = &mut fill[from as usize];
            targets[*slot as usize] = NodeId(to);
            *slot += 1;
        }
        // Sort each row, then compact away repeats in place.
        let mut write = 0usize;
        let mut start = 0usize;
        for v in 0..n {
            let end = offsets[v + 1] as usize;
            targets[start..end].sort_unstable();
            let row_start = write;
            for i in start..end {
                let t = targets[i];
                if write == row_start || targets[write - 1] != t {
                    targets[write] = t;
                    write += 1;
                }
            }
            start = end;
            offsets[v + 1] = write as u32;
        }
        targets.truncate(write);
        targets.shrink_to_fit();
        Csr { offsets, targets }
    }

    /// The same edges reversed. Rows come out sorted because sources are
    /// visited in ascending order.
    fn transpose(&self) -> Csr {
        let n = self.len();
        let mut offsets = vec![0u32; n + 1];
        for t in &self.targets {
            offsets[t.0 as usize + 1] += 1;
        }
        for v in 0..n {
            offsets[v + 1] += offsets[v];
        }
        let mut fill: Vec<u32> = offsets[..n].to_vec();
        let mut targets = vec![NodeId(0); self.targets.len()];
        for v in 0..n {
            for t in self.row(v) {
                let slot = &mut fill[t.0 as usize];
                targets[*slot as usize] = NodeId(v as u32);
                *slot += 1;
            }
        }
        Csr { offsets, targets }
    }

    pub(super) fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The row of `v`; empty when `v` is out of range.
    #[inline]
    pub(super) fn row(&self, v: usize) -> &[NodeId] {
        match (self.offsets.get(v), self.offsets.get(v + 1)) {
            (Some(&s), Some(&e)) => self.targets.get(s as usize..e as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The raw arrays, for the traversal loops.
    #[inline]
    pub(super) fn raw(&self) -> (&[u32], &[NodeId]) {
        (&self.offsets, &self.targets)
    }

    fn edge_count(&self) -> usize {
        self.targets.len()
    }
}

/// Union-find over `u32` indices; the root of a set is its smallest member.
struct Sets(Vec<u32>);

impl Sets {
    fn new(n: usize) -> Sets {
        Sets((0..n as u32).collect())
    }

    fn find(&mut self, mut v: u32) -> u32 {
        while self.0[v as usize] != v {
            let grand = self.0[self.0[v as usize] as usize];
            self.0[v as usize] = grand;
            v = grand;
        }
        v
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra < rb {
            self.0[rb as usize] = ra;
        } else if rb < ra {
            self.0[ra as usize] = rb;
        }
    }
}

/// Whether `id` matches `[A-Za-z0-9_.:/-]+`.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.:/-".contains(&b))
}

/// What a name in the lookup table stands for.
#[derive(Clone, Copy)]
enum Name {
    /// The id of the node at this spec index.
    Id(usize),
    /// An alias of the node at this spec index.
    Alias(usize),
}

/// The edge fields of a node, in declaration order.
const EDGE_FIELDS: [(&str, EdgeKind); 3] =
    [("depends_on", EdgeKind::DependsOn), ("runs_on", EdgeKind::RunsOn), ("replicates", EdgeKind::Replicates)];

fn edge_list(node: &crate::spec::NodeSpec, kind: EdgeKind) -> &[String] {
    match kind {
        EdgeKind::DependsOn => &node.depends_on,
        EdgeKind::RunsOn => &node.runs_on,
        EdgeKind::Replicates => &node.replicates,
    }
}

/// A validated spec: every id and alias, and the edges as spec indices
/// `(from, to, kind)` in declaration order.
struct Resolved<'a> {
    names: FixedMap<&'a str, Name>,
    edges: Vec<(u32, u32, EdgeKind)>,
}

/// Validates `spec`, reporting every problem.
fn validate(spec: &TopologySpec) -> Result<Resolved<'_>, Vec<TopologyProblem>> {
    let mut problems = Vec::new();
    let n = spec.nodes.len();
    if n > MAX_ITEMS {
        return Err(vec![TopologyProblem::new(
            DiagnosticKind::Limit,
            format!("a topology holds at most {MAX_ITEMS} nodes, this one has {n}"),
        )
        .at_field("nodes")]);
    }

    let mut seen_keys: FixedMap<&str, usize> = FixedMap::default();
    for (i, key) in spec.attach_by.iter().enumerate() {
        if key.is_empty() {
            problems.push(
                TopologyProblem::new(DiagnosticKind::InvalidValue, "an attachment label key cannot be empty")
                    .at_field("attach_by")
                    .at_index(i),
            );
        } else if let Some(first) = seen_keys.insert(key, i) {
            seen_keys.insert(key, first);
            problems.push(
                TopologyProblem::new(
                    DiagnosticKind::Duplicate,
                    format!("label key `{key}` is listed twice (first at spec.attach_by[{first}])"),
                )
                .at_field("attach_by")
                .at_index(i),
            );
        }
    }

    // Node ids first, so that an alias colliding with any id is reported at the alias.
    let mut names: FixedMap<&str, Name> = FixedMap::with_capacity_and_hasher(n, Default::default());
    for (i, node) in spec.nodes.iter().enumerate() {
        if !valid_id(&node.id) {
            problems.push(
                TopologyProblem::new(
                    DiagnosticKind::InvalidValue,
                    format!("node id `{}` must be non-empty and use only `A-Z a-z 0-9 _ . : / -`", node.id),
                )
                .at_node(i, "id"),
            );
        }
        if node.replicas == 0 {
            problems.push(
                TopologyProblem::new(DiagnosticKind::InvalidValue, "`replicas` must be at least 1")
                    .at_node(i, "replicas"),
            );
        }
        if !(1..=4).contains(&node.tier) {
            problems.push(
                TopologyProblem::new(
                    DiagnosticKind::InvalidValue,
                    format!("`tier` must be 1, 2, 3 or 4 (1 is the most critical), not {}", node.tier),
                )
                .at_node(i, "tier"),
            );
        }
        match names.get(node.id.as_str()) {
            Some(&Name::Id(first)) | Some(&Name::Alias(first)) => problems.push(
                TopologyProblem::new(
                    DiagnosticKind::Duplicate,
                    format!("node id `{}` is already used by spec.nodes[{first}]", node.id),
                )
                .at_node(i, "id"),
            ),
            None => {
                names.insert(&node.id, Name::Id(i));
            }
        }
    }
    for (i, node) in spec.nodes.iter().enumerate() {
        for (k, alias) in node.aliases.iter().enumerate() {
            let problem = |kind, message: String| TopologyProblem::new(kind, message).at_node(i, "aliases").at_index(k);
            if alias.is_empty() {
                problems.push(problem(DiagnosticKind::InvalidValue, "an alias cannot be empty".into()));
                continue;
            }
            match names.get(alias.as_str()) {
                Some(&Name::Id(j)) if j == i => problems
                    .push(problem(DiagnosticKind::Duplicate, format!("alias `{alias}` repeats the node's own id"))),
                Some(&Name::Id(j)) => problems.push(problem(
                    DiagnosticKind::Duplicate,
                    format!("alias `{alias}` collides with the id of node spec.nodes[{j}]"),
                )),
                Some(&Name::Alias(j)) if j == i => problems
                    .push(problem(DiagnosticKind::Duplicate, format!("alias `{alias}` is listed twice on this node"))),
                Some(&Name::Alias(j)) => problems.push(problem(
                    DiagnosticKind::Duplicate,
                    format!("alias `{alias}` is already an alias of node `{}` (spec.nodes[{j}])", spec.nodes[j].id),
                )),
                None => {
                    names.insert(alias, Name::Alias(i));
                }
            }
        }
    }

    let mut suggestions_left = (SUGGESTION_BUDGET / n.max(1)).clamp(1, 64);
    let mut edges: Vec<(u32, u32, EdgeKind)> = Vec::new();
    let mut in_list: FixedSet<usize> = FixedSet::default();
    for (i, node) in spec.nodes.iter().enumerate() {
        for (field, kind) in EDGE_FIELDS {
            in_list.clear();
            for (k, target) in edge_list(node, kind).iter().enumerate() {
                let problem = |kind, message: String| TopologyProblem::new(kind, message).at_node(i, field).at_index(k);
                match names.get(target.as_str()) {
                    Some(&Name::Id(j)) => {
                        if j == i {
                            let verb = match kind {
                                EdgeKind::DependsOn => "depend on",
                                EdgeKind::RunsOn => "run on",
                                EdgeKind::Replicates => "replicate",
                            };
                            problems.push(problem(
                                DiagnosticKind::Invalid,
                                format!("node `{}` cannot {verb} itself", node.id),
                            ));
                        } else if !in_list.insert(j) {
                            problems.push(problem(
                                DiagnosticKind::Duplicate,
                                format!("`{target}` is listed twice in `{field}`"),
                            ));
                        } else {
                            edges.push((i as u32, j as u32, kind));
                        }
                    }
                    Some(&Name::Alias(j)) => problems.push(
                        problem(
                            DiagnosticKind::UnknownReference,
                            format!("`{target}` is an alias of node `{}`; edges name nodes by id", spec.nodes[j].id),
                        )
                        .suggest(Some(format!("did you mean `{}`?", spec.nodes[j].id))),
                    ),
                    None => {
                        let suggestion = if suggestions_left > 0 {
                            suggestions_left -= 1;
                            did_you_mean(target, spec.nodes.iter().map(|node| node.id.as_str()))
                                .map(|s| format!("did you mean `{s}`?"))
                        } else {
                            None
                        };
                        problems.push(
                            problem(DiagnosticKind::UnknownReference, format!("no node has the id `{target}`"))
                                .suggest(suggestion),
                        );
                    }
                }
            }
        }
    }
    if edges.len() > MAX_ITEMS {
        problems.push(
            TopologyProblem::new(
                DiagnosticKind::Limit,
                format!("a topology holds at most {MAX_ITEMS} edges, this one has {}", edges.len()),
            )
            .at_field("nodes"),
        );
    }
    if problems.is_empty() {
        Ok(Resolved { names, edges })
    } else {
        problems.sort_by_key(TopologyProblem::sort_key);
        Err(problems)
    }
}

/// Numbers nodes for locality: breadth-first over the dependents, starting
/// from the nodes without dependencies (then from any node not reached yet),
/// each in `rank` order. A blast-radius query then walks memory almost
/// sequentially. Returns `new_of[rank]`.
fn locality_order(dependencies: &Csr, dependents: &Csr) -> Vec<u32> {
    let n = dependencies.len();
    let mut new_of = vec![UNSET; n];
    let mut order: Vec<u32> = Vec::with_capacity(n);
    let foundations = (0..n).filter(|&r| dependencies.row(r).is_empty());
    for root in foundations.chain(0..n) {
        if new_of[root] != UNSET {
            continue;
        }
        let mut head = order.len();
        new_of[root] = order.len() as u32;
        order.push(root as u32);
        while let Some(&v) = order.get(head) {
            head += 1;
            for w in dependents.row(v as usize) {
                let slot = &mut new_of[w.0 as usize];
                if *slot == UNSET {
                    *slot = order.len() as u32;
                    order.push(w.0);
                }
            }
        }
    }
    new_of
}

/// Strongly connected components (Tarjan, iterative): those of more than
/// one node, each sorted ascending, the list sorted by first member; and
/// every node's component rank, in an order where each dependency's
/// component comes after its dependents' (Tarjan completes a component
/// after every component it reaches, so the rank is the reverse of that).
fn components(deps: &Csr) -> (Vec<Vec<NodeId>>, Vec<u32>) {
    let n = deps.len();
    let (offsets, targets) = deps.raw();
    let mut index = vec![UNSET; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut call: Vec<(u32, u32)> = Vec::new();
    let mut counter = 0u32;
    let mut out = Vec::new();
    let mut completed = vec![0u32; n];
    let mut count = 0u32;
    for s in 0..n {
        if index[s] != UNSET {
            continue;
        }
        index[s] = counter;
        low[s] = counter;
        counter += 1;
        stack.push(s as u32);
        on_stack[s] = true;
        call.push((s as u32, offsets[s]));
        while let Some(frame) = call.last_mut() {
            let v = frame.0 as usize;
            if frame.1 < offsets[v + 1] {
                let w = targets[frame.1 as usize].0 as usize;
                frame.1 += 1;
                if index[w] == UNSET {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w as u32);
                    on_stack[w] = true;
                    call.push((w as u32, offsets[w]));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent as usize] = low[parent as usize].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        completed[w as usize] = count;
                        component.push(NodeId(w));
                        if w as usize == v {
                            break;
                        }
                    }
                    count += 1;
                    if component.len() > 1 {
                        component.sort_unstable();
                        out.push(component);
                    }
                }
            }
        }
    }
    out.sort_unstable();
    let rank = completed.into_iter().map(|c| count - 1 - c).collect();
    (out, rank)
}

/// Validates and compiles.
pub(super) fn compile(spec: &TopologySpec) -> Result<Inner, Vec<TopologyProblem>> {
    let Resolved { names, edges } = validate(spec)?;
    let n = spec.nodes.len();

    // Canonical rank: position in id order, so numbering ignores spec order.
    let mut by_id: Vec<u32> = (0..n as u32).collect();
    by_id.sort_unstable_by(|&a, &b| spec.nodes[a as usize].id.cmp(&spec.nodes[b as usize].id));
    let mut rank = vec![0u32; n];
    for (r, &i) in by_id.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    let dep_edges_by_rank: Vec<(u32, u32)> = edges
        .iter()
        .filter(|e| e.2 != EdgeKind::Replicates)
        .map(|&(a, b, _)| (rank[a as usize], rank[b as usize]))
        .collect();
    let fwd = Csr::build(n, &dep_edges_by_rank);
    drop(dep_edges_by_rank);
    let rev = fwd.transpose();
    let new_of_rank = locality_order(&fwd, &rev);
    drop((fwd, rev));

    // new_of[spec index] and spec_of[node id].
    let new_of: Vec<u32> = rank.iter().map(|&r| new_of_rank[r as usize]).collect();
    drop((new_of_rank, by_id));
    let mut spec_of = vec![0u32; n];
    for (i, &v) in new_of.iter().enumerate() {
        spec_of[v as usize] = i as u32;
    }
    let id_rank: Vec<u32> = spec_of.iter().map(|&i| rank[i as usize]).collect();
    drop(rank);

    let dep_edges: Vec<(u32, u32)> = edges
        .iter()
        .filter(|e| e.2 != EdgeKind::Replicates)
        .map(|&(a, b, _)| (new_of[a as usize], new_of[b as usize]))
        .collect();
    let dependencies = Csr::build(n, &dep_edges);
    drop(dep_edges);
    let dependents = dependencies.transpose();
    let replica_edges: Vec<(u32, u32)> = edges
        .iter()
        .filter(|e| e.2 == EdgeKind::Replicates)
        .flat_map(|&(a, b, _)| {
            let (a, b) = (new_of[a as usize], new_of[b as usize]);
            [(a, b), (b, a)]
        })
        .collect();
    let replicas = Csr::build(n, &replica_edges);
    drop(replica_edges);

    // Shards: weakly connected components over every edge kind.
    let mut sets = Sets::new(n);
    for &(a, b, _) in &edges {
        sets.union(new_of[a as usize], new_of[b as usize]);
    }
    let mut shard_of = vec![ShardId(UNSET); n];
    let mut shards: Vec<Vec<NodeId>> = Vec::new();
    for v in 0..n as u32 {
        let root = sets.find(v) as usize;
        // The root is the smallest member, so it is assigned before the others.
        if shard_of[root].0 == UNSET {
            shard_of[root] = ShardId(shards.len() as u32);
            shards.push(Vec::new());
        }
        let shard = shard_of[root];
        shard_of[v as usize] = shard;
        if let Some(members) = shards.get_mut(shard.0 as usize) {
            members.push(NodeId(v));
        }
    }
    drop(sets);

    let (cycles, component_rank) = components(&dependencies);

    // Node table, tier weights and the lookup, in node-id order.
    let mut nodes = Vec::with_capacity(n);
    let mut weights = Vec::with_capacity(n);
    for (v, &i) in spec_of.iter().enumerate() {
        let s = &spec.nodes[i as usize];
        nodes.push(NodeInfo {
            node: NodeId(v as u32),
            spec_index: i as usize,
            id: crate::Name::from(s.id.as_str()),
            kind: s.kind,
            replicas: s.replicas,
            tier: s.tier,
            labels: s.labels.clone(),
            aliases: s.aliases.clone(),
        });
        weights.push(super::tier_weight(s.tier));
    }
    let lookup: FixedMap<Box<str>, NodeId> = names
        .into_iter()
        .map(|(name, target)| {
            let i = match target {
                Name::Id(i) | Name::Alias(i) => i,
            };
            (Box::from(name), NodeId(new_of[i]))
        })
        .collect();

    // The petgraph view: node index == NodeId, edges per node in declaration order.
    let mut graph: DiGraph<NodeId, EdgeKind> = DiGraph::with_capacity(n, edges.len());
    for v in 0..n as u32 {
        graph.add_node(NodeId(v));
    }
    let mut edges_by_node: Vec<(u32, u32, EdgeKind)> =
        edges.iter().map(|&(a, b, k)| (new_of[a as usize], new_of[b as usize], k)).collect();
    drop(edges);
    // Stable: keeps declaration order (depends_on, runs_on, replicates) within a node.
    edges_by_node.sort_by_key(|e| e.0);
    for (a, b, kind) in edges_by_node {
        graph.add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), kind);
    }

    let edge_count = dependencies.edge_count();
    Ok(Inner {
        spec: spec.clone(),
        nodes,
        id_rank,
        weights,
        lookup,
        dependencies,
        dependents,
        replicas,
        shard_of,
        shards,
        cycles,
        component_rank,
        graph,
        dependency_edges: edge_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(csr: &Csr) -> Vec<Vec<u32>> {
        (0..csr.len()).map(|v| csr.row(v).iter().map(|n| n.0).collect()).collect()
    }

    #[test]
    fn csr_rows_are_sorted_and_deduplicated() {
        let csr = Csr::build(4, &[(0, 3), (0, 1), (0, 3), (2, 0), (0, 2), (2, 0)]);
        assert_eq!(rows(&csr), [vec![1, 2, 3], vec![], vec![0], vec![]]);
        assert_eq!(csr.edge_count(), 4);
        assert_eq!(rows(&csr.transpose()), [vec![2], vec![0], vec![0], vec![0]]);
        assert!(csr.row(4).is_empty(), "out of range is empty");
        assert_eq!(Csr::build(0, &[]).len(), 0);
    }

    #[test]
    fn locality_order_walks_dependents_from_foundations() {
        // 3 ← 0 ← 2, 3 ← 1; 4 alone. Foundations (no dependencies): 3, 4.
        let fwd = Csr::build(5, &[(0, 3), (2, 0), (1, 3)]);
        let new_of = locality_order(&fwd, &fwd.transpose());
        assert_eq!(new_of, [1, 2, 3, 0, 4]);
    }

    #[test]
    fn sets_root_at_the_smallest_member() {
        let mut sets = Sets::new(5);
        sets.union(4, 3);
        sets.union(3, 1);
        assert_eq!([0, 1, 2, 3, 4].map(|v| sets.find(v)), [0, 1, 2, 1, 1]);
    }

    #[test]
    fn tarjan_finds_nested_components() {
        let fwd = Csr::build(6, &[(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 3), (5, 5)]);
        let (cycles, rank) = components(&fwd);
        let found: Vec<Vec<u32>> = cycles.iter().map(|c| c.iter().map(|n| n.0).collect()).collect();
        assert_eq!(found, [vec![0, 1, 2], vec![3, 4]]);
        // One rank per component, each dependency's after its dependents'.
        assert_eq!(rank[0], rank[1]);
        assert_eq!(rank[1], rank[2]);
        assert_eq!(rank[3], rank[4]);
        assert!(rank[2] < rank[3]);
        assert_ne!(rank[5], rank[0]);
        assert_ne!(rank[5], rank[3]);
    }

    #[test]
    fn ids_are_checked() {
        assert!(valid_id("a-b_c.d:e/f9"));
        assert!(!valid_id(""));
        assert!(!valid_id("a b"));
        assert!(!valid_id("é"));
    }
}
