//! Root-cause localisation over the topology, on one snapshot of diagnoses.
//!
//! A diagnosis on node A is a *symptom* when a dependency B of A
//! (transitively, along `depends_on` and `runs_on`) has a diagnosis whose
//! category propagates (unavailable, latency, errors, saturation) and whose
//! onset is not later than A's plus a tolerance. A diagnosis never
//! suppresses itself, and a diagnosis on the same node never explains
//! another. Every other diagnosis is a root-cause candidate. Each symptom is
//! assigned to the root that explains it (following chains of symptoms)
//! with the earliest onset, then the highest confidence, the most critical
//! tier and the smallest id, with the dependency path to it. In a dependency cycle whose diagnoses all explain
//! one another, the earliest (then most confident, most critical, by id)
//! stays root, together with any other diagnosis on its node; a diagnosis
//! that depends on such a cycle is its symptom. When two or more root
//! candidates share a dependency that has no diagnosis of its own, that dependency is reported
//! as an *inferred suspect* (never acted on unattended).
//!
//! Ranking (higher first): symptoms explained, then earlier onset, then
//! confidence, then a more critical tier, then node id. The score is
//! `explained + confidence + 0.1 × (5 − tier)`; ties are broken by onset
//! and id so the ranking is total and deterministic. The whole computation
//! reads one slice of findings: the order they arrived in never matters.
//! See `docs/root-cause.md` for a worked example.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::radix;
use crate::spec::signature::Category;
use crate::topology::{ChainsTo, NodeId, Topology, Traversal};
use crate::Duration;

/// One diagnosis, as localisation sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Finding {
    /// The diagnosed node.
    pub node: NodeId,
    /// The signature's category.
    pub category: Category,
    /// When the failure began (Unix ms).
    pub onset: i64,
    /// The diagnosis' confidence before the topology term, in [0, 1].
    pub confidence: f64,
}

/// The role localisation gives one finding.
#[derive(Clone, Debug, PartialEq)]
pub enum Role {
    /// A root-cause candidate.
    Root {
        /// 1-based rank among all candidates (inferred suspects included).
        rank: usize,
        /// Ranking score.
        score: f64,
        /// Findings this root explains (their indexes).
        explains: Vec<usize>,
    },
    /// A symptom of another finding.
    Symptom {
        /// The index of the root finding it is assigned to.
        root: usize,
        /// The dependency path from the symptom's node to the root's node.
        path: Vec<NodeId>,
    },
}

/// A ranked root-cause candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The node.
    pub node: NodeId,
    /// The finding on it; `None` for an inferred suspect.
    pub finding: Option<usize>,
    /// Ranking score.
    pub score: f64,
    /// Findings explained (symptoms, or for a suspect the failing dependents sharing it).
    pub explains: Vec<usize>,
}

/// The result of [`localize`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Localization {
    /// One role per finding, in input order.
    pub roles: Vec<Role>,
    /// Candidates, best first.
    pub candidates: Vec<Candidate>,
}

/// How many inferred suspects are reported at most.
pub const MAX_SUSPECTS: usize = 3;

/// Localises root causes among `findings`.
///
/// # Example
///
/// ```
/// use healbot_core::rootcause::{localize, Finding, Role};
/// use healbot_core::spec::signature::Category;
/// use healbot_core::{Duration, Topology};
///
/// let t = Topology::from_text("t.yaml", r#"
/// apiVersion: healbot.dev/v1
/// kind: Topology
/// metadata: {name: t}
/// spec:
///   nodes:
///     - {id: web, kind: service, depends_on: [db]}
///     - {id: db, kind: database}
/// "#).unwrap();
/// let (web, db) = (t.lookup("web").unwrap(), t.lookup("db").unwrap());
/// let findings = [
///     Finding { node: web, category: Category::Errors, onset: 2_000, confidence: 0.7 },
///     Finding { node: db, category: Category::Unavailable, onset: 1_000, confidence: 0.9 },
/// ];
/// let loc = localize(&t, &findings, Duration::from_secs(60), &mut t.traversal());
/// assert!(matches!(loc.roles[0], Role::Symptom { root: 1, .. }));
/// assert!(matches!(loc.roles[1], Role::Root { rank: 1, .. }));
/// ```
pub fn localize(topo: &Topology, findings: &[Finding], tolerance: Duration, scratch: &mut Traversal) -> Localization {
    let tol = tolerance.as_millis_i64();
    if findings.is_empty() {
        // The most common case of all: nothing wrong, and nothing to
        // allocate per node for.
        return Localization::default();
    }
    if let [f] = findings {
        // The common case, one thing wrong: nothing can explain it and
        // there is no second failing node to share a suspect with.
        let score = f.confidence + 0.1 * (5.0 - f64::from(topo.node(f.node).tier()));
        return Localization {
            roles: vec![Role::Root { rank: 1, score, explains: Vec::new() }],
            candidates: vec![Candidate { node: f.node, finding: Some(0), score, explains: Vec::new() }],
        };
    }
    // Findings by node index, for the dependency scan.
    let mut by_node: Vec<Vec<usize>> = vec![Vec::new(); topo.len()];
    for (i, f) in findings.iter().enumerate() {
        if let Some(list) = by_node.get_mut(f.node.index()) {
            list.push(i);
        }
    }
    let explainers = explained_by(topo, findings, &by_node, tol, scratch);
    // Roots. Findings nothing explains are roots. In a dependency cycle
    // findings may explain each other with none unexplained: in every
    // strongly connected group of the "explained by" graph that nothing
    // outside explains (a terminal group), the earliest member is a root,
    // with every other member on the same node (diagnoses on one node never
    // explain each other). A singleton group with no explainer is the plain
    // case of an unexplained finding.
    //
    // "Earliest" is a total order (onset, then higher confidence, then
    // tier, then node id, then input position), ranked once so that the
    // many comparisons below are integer comparisons.
    let mut ranked: Vec<(Earliest, usize)> = findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            // Higher confidence first, in `f64::total_cmp` order.
            let c = f.confidence.to_bits() as i64;
            let confidence = c ^ (((c >> 63) as u64) >> 1) as i64;
            ((f.onset, Reverse(confidence), topo.node(f.node).tier(), topo.id_rank(f.node)), i)
        })
        .collect();
    ranked.sort_unstable();
    let mut rank = vec![0usize; findings.len()];
    for (r, (_, i)) in ranked.iter().enumerate() {
        rank[*i] = r;
    }
    let order = |a: usize, b: usize| rank[a].cmp(&rank[b]);
    let earliest = |best: Option<usize>, j: usize| Some(best.map_or(j, |b| if order(j, b).is_lt() { j } else { b }));
    let level: Vec<u32> = findings.iter().map(|f| topo.component_rank(f.node)).collect();
    let comp = components(&explainers, &level);
    let groups = comp.iter().copied().max().map_or(0, |m| m + 1);
    let mut terminal = vec![true; groups];
    let mut first: Vec<Option<usize>> = vec![None; groups];
    for i in 0..explainers.len() {
        if explainers.of(i).iter().any(|&j| comp[j] != comp[i]) {
            terminal[comp[i]] = false;
        }
        first[comp[i]] = earliest(first[comp[i]], i);
    }
    let mut is_root: Vec<bool> = (0..findings.len())
        .map(|i| terminal[comp[i]] && first[comp[i]].is_some_and(|m| findings[m].node == findings[i].node))
        .collect();
    // Every other finding is a symptom of the best root it reaches through
    // explainers, on another node. One that reaches none (only roots on its
    // own node, through a cycle) is a root too; decided before assigning, so
    // the result never depends on the order findings are visited in.
    let before = |a: usize, b: usize| order(a, b).is_lt();
    let node_of = |i: usize| findings[i].node;
    let members = Adjacency::from_pairs(groups, comp.iter().enumerate().map(|(i, c)| (*c, i)));
    let comp = &comp;
    let reachable_root = |is_root: &[bool]| {
        let best = best_reachable_roots(&explainers, comp, &members, is_root, node_of, before);
        move |i: usize| best[comp[i]].excluding(node_of(i), node_of)
    };
    let first_pass = reachable_root(&is_root);
    let mut root_of: Vec<Option<usize>> =
        (0..findings.len()).map(|i| if is_root[i] { None } else { first_pass(i) }).collect();
    let fallback: Vec<usize> = (0..findings.len()).filter(|&i| !is_root[i] && root_of[i].is_none()).collect();
    // New roots change what others reach: a second pass, only then.
    if !fallback.is_empty() {
        for i in fallback {
            is_root[i] = true;
        }
        let second_pass = reachable_root(&is_root);
        root_of = (0..findings.len()).map(|i| if is_root[i] { None } else { second_pass(i) }).collect();
    }
    let mut explains: Vec<Vec<usize>> = vec![Vec::new(); findings.len()];
    for (i, r) in root_of.iter().enumerate() {
        if let Some(r) = r {
            explains[*r].push(i);
        }
    }
    let score = |i: usize| {
        let f = &findings[i];
        explains[i].len() as f64 + f.confidence + 0.1 * (5.0 - f64::from(topo.node(f.node).tier()))
    };
    let mut candidates: Vec<Candidate> = (0..findings.len())
        .filter(|i| is_root[*i])
        .map(|i| Candidate { node: findings[i].node, finding: Some(i), score: score(i), explains: explains[i].clone() })
        .collect();
    candidates.extend(inferred_suspects(topo, findings, &is_root, &by_node, scratch));
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| onset_of(findings, a).cmp(&onset_of(findings, b)))
            .then_with(|| topo.id_rank(a.node).cmp(&topo.id_rank(b.node)))
            // Two diagnoses of one node with equal scores and onsets: by category.
            .then_with(|| category_of(findings, a).cmp(category_of(findings, b)))
    });
    // Symptoms' chains to their root's node: one walk per root node.
    let mut symptoms: Vec<(NodeId, usize)> =
        root_of.iter().enumerate().filter_map(|(i, r)| r.map(|r| (findings[r].node, i))).collect();
    radix::sort_by_key(&mut symptoms, |&(root, _)| root.index() as u64);
    let mut paths: Vec<Vec<NodeId>> = vec![Vec::new(); findings.len()];
    let mut chains = ChainsTo::default();
    for run in symptoms.chunk_by(|a, b| a.0 == b.0) {
        topo.chains_to(run[0].0, &mut chains);
        for &(_, i) in run {
            paths[i] = topo.chain(&chains, findings[i].node).unwrap_or_default();
        }
    }
    let mut roles: Vec<Role> = Vec::with_capacity(findings.len());
    for i in 0..findings.len() {
        if let Some(r) = root_of[i] {
            roles.push(Role::Symptom { root: r, path: std::mem::take(&mut paths[i]) });
        } else {
            let rank = candidates.iter().position(|c| c.finding == Some(i)).map_or(0, |p| p + 1);
            roles.push(Role::Root { rank, score: score(i), explains: explains[i].clone() });
        }
    }
    Localization { roles, candidates }
}

/// The last localisation and the findings it was computed from.
///
/// While an incident lasts, its findings (node, category, onset and base
/// confidence of each diagnosis) stay the same from one evaluation to the
/// next, and [`localize`] is a function of them and the topology alone, so
/// the engine (whose topology never changes) keeps the last result and
/// computes a new one only when a finding changed. In a cascade of a
/// thousand symptoms localisation was a third of an evaluation.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    /// The findings of `loc`, or `None` before the first localisation.
    findings: Option<Vec<Finding>>,
    tolerance: Duration,
    loc: Localization,
}

impl Memo {
    /// [`localize`] of `findings`, reusing the last result when the
    /// findings and the tolerance are the same as then (confidences
    /// compared bit for bit). `topo` must be the topology of every call.
    pub(crate) fn localize(
        &mut self,
        topo: &Topology,
        findings: &[Finding],
        tolerance: Duration,
        scratch: &mut Traversal,
    ) -> &Localization {
        let same = |a: &Finding, b: &Finding| {
            a.node == b.node
                && a.category == b.category
                && a.onset == b.onset
                && a.confidence.to_bits() == b.confidence.to_bits()
        };
        let hit = self.tolerance == tolerance
            && self
                .findings
                .as_deref()
                .is_some_and(|last| last.len() == findings.len() && last.iter().zip(findings).all(|(a, b)| same(a, b)));
        if !hit {
            self.loc = localize(topo, findings, tolerance, scratch);
            let last = self.findings.get_or_insert_with(Vec::new);
            last.clear();
            last.extend_from_slice(findings);
            self.tolerance = tolerance;
        }
        &self.loc
    }
}

/// The "explained by" graph: `of(i)` holds findings on dependencies of i's
/// node (not on it) whose category propagates and whose onset is not later
/// than i's plus the tolerance, except those a nearer one implies.
///
/// A dependency whose finding `k` explains every finding on the node and
/// starts within the tolerance of the latest propagating onset explains,
/// in turn, every finding below it that could explain them, so the walk
/// does not go below it. Everything computed from the graph reads
/// reachability only, which is unchanged; in a cascade this cuts the
/// edges from every finding below to the nearest ones.
fn explained_by(
    topo: &Topology,
    findings: &[Finding],
    by_node: &[Vec<usize>],
    tol: i64,
    scratch: &mut Traversal,
) -> Adjacency {
    let on = |n: NodeId| by_node.get(n.index()).map_or(&[][..], Vec::as_slice);
    let Some(latest_onset) = findings.iter().filter(|f| f.category.propagates()).map(|f| f.onset).max() else {
        return Adjacency::from_ranges(&vec![(0, 0); findings.len()], &[]);
    };
    let mut edges: Vec<usize> = Vec::new();
    let mut ranges: Vec<(usize, usize)> = vec![(0, 0); findings.len()];
    // One walk per diagnosed node, shared by its findings.
    let mut candidates: Vec<usize> = Vec::new();
    for here in by_node.iter().filter(|here| !here.is_empty()) {
        let node = findings[here[0]].node;
        let earliest = here.iter().map(|&i| findings[i].onset).min().unwrap_or(i64::MAX);
        candidates.clear();
        topo.dependencies_until(node, scratch, |x| {
            let mut covers = false;
            for &j in on(x) {
                let b = &findings[j];
                if b.category.propagates() {
                    candidates.push(j);
                    // k explains every finding here, and every
                    // propagating finding below x explains k.
                    covers |= b.onset <= earliest.saturating_add(tol) && b.onset.saturating_add(tol) >= latest_onset;
                }
            }
            covers
        });
        for &i in here {
            let start = edges.len();
            let latest = findings[i].onset.saturating_add(tol);
            edges.extend(candidates.iter().copied().filter(|&j| findings[j].onset <= latest));
            ranges[i] = (start, edges.len());
        }
    }
    Adjacency::from_ranges(&ranges, &edges)
}

/// A finding's place in the "earliest" order, compared as integers: onset,
/// then higher confidence (in `f64::total_cmp` order), then tier, then the
/// node's id rank.
type Earliest = (i64, Reverse<i64>, u8, u32);

/// Strongly connected components of the "explained by" graph, numbered in
/// topological order (an edge between two components always goes to the
/// higher number), given each finding's `level`: its node's
/// [`Topology::component_rank`].
///
/// An edge goes from a finding to one on a dependency of its node, so
/// never to a lower level, and a cycle stays within one level (one
/// dependency cycle of the topology). Ordering findings by level is then
/// a topological order of all but the levels with edges inside them, and
/// only those need a search: none at all on a topology without cycles,
/// where a search over every edge was a third of `localize`.
fn components(adj: &Adjacency, level: &[u32]) -> Vec<usize> {
    let n = adj.len();
    let order = radix::order_by_key(&level.iter().map(|&l| u64::from(l)).collect::<Vec<u64>>());
    let mut comp = vec![usize::MAX; n];
    let mut local = vec![usize::MAX; n];
    let mut next = 0;
    for run in order.chunk_by(|&a, &b| level[a] == level[b]) {
        let lvl = level[run[0]];
        debug_assert!(run.iter().all(|&i| adj.of(i).iter().all(|&j| level[j] >= lvl)), "an edge to a lower level");
        if !run.iter().any(|&i| adj.of(i).iter().any(|&j| level[j] == lvl)) {
            for &i in run {
                comp[i] = next;
                next += 1;
            }
            continue;
        }
        for (k, &i) in run.iter().enumerate() {
            local[i] = k;
        }
        let inside = Adjacency::from_pairs(
            run.len(),
            run.iter()
                .enumerate()
                .flat_map(|(k, &i)| adj.of(i).iter().filter(|&&j| level[j] == lvl).map(move |&j| (k, j)))
                .map(|(k, j)| (k, local[j])),
        );
        let sub = kosaraju(&inside);
        let count = sub.iter().copied().max().map_or(0, |m| m + 1);
        for (k, &i) in run.iter().enumerate() {
            comp[i] = next + sub[k];
        }
        next += count;
    }
    comp
}

/// Strongly connected components of a graph given as adjacency lists
/// (Kosaraju, iterative): a component number per vertex. Components are
/// numbered in topological order of the component graph: the second pass
/// meets them sources first, so an edge between two components always goes
/// to the higher number.
fn kosaraju(adj: &Adjacency) -> Vec<usize> {
    let n = adj.len();
    let mut finished = Vec::with_capacity(n);
    let mut seen = vec![false; n];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for s in 0..n {
        if seen[s] {
            continue;
        }
        seen[s] = true;
        stack.push((s, 0));
        while let Some((v, k)) = stack.pop() {
            if let Some(&w) = adj.of(v).get(k) {
                stack.push((v, k + 1));
                if !seen[w] {
                    seen[w] = true;
                    stack.push((w, 0));
                }
            } else {
                finished.push(v);
            }
        }
    }
    let reverse = Adjacency::from_pairs(n, (0..n).flat_map(|v| adj.of(v).iter().map(move |&w| (w, v))));
    let mut comp = vec![usize::MAX; n];
    let mut next = 0;
    let mut stack: Vec<usize> = Vec::new();
    for &s in finished.iter().rev() {
        if comp[s] != usize::MAX {
            continue;
        }
        comp[s] = next;
        stack.push(s);
        while let Some(v) = stack.pop() {
            for &w in reverse.of(v) {
                if comp[w] == usize::MAX {
                    comp[w] = next;
                    stack.push(w);
                }
            }
        }
        next += 1;
    }
    comp
}

/// Adjacency lists in one buffer: the neighbours of vertex `v` are
/// `edges[start[v]..start[v + 1]]`. One allocation for the whole graph
/// instead of one per vertex.
#[derive(Clone, Debug, Default, PartialEq)]
struct Adjacency {
    start: Vec<usize>,
    edges: Vec<usize>,
}

impl Adjacency {
    /// From `(from, to)` pairs over `n` vertices; each vertex keeps its
    /// pairs' order. Every `from` must be below `n`.
    fn from_pairs<I: Iterator<Item = (usize, usize)> + Clone>(n: usize, pairs: I) -> Adjacency {
        let mut start = vec![0usize; n + 1];
        for (v, _) in pairs.clone() {
            start[v + 1] += 1;
        }
        for v in 0..n {
            start[v + 1] += start[v];
        }
        let mut next = start.clone();
        let mut edges = vec![0usize; start[n]];
        for (v, w) in pairs {
            edges[next[v]] = w;
            next[v] += 1;
        }
        Adjacency { start, edges }
    }

    /// From each vertex's range of `edges`, in vertex order.
    fn from_ranges(ranges: &[(usize, usize)], edges: &[usize]) -> Adjacency {
        let mut start = Vec::with_capacity(ranges.len() + 1);
        let mut out = Vec::with_capacity(edges.len());
        start.push(0);
        for &(a, b) in ranges {
            out.extend_from_slice(&edges[a..b]);
            start.push(out.len());
        }
        Adjacency { start, edges: out }
    }

    fn len(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    fn of(&self, v: usize) -> &[usize] {
        &self.edges[self.start[v]..self.start[v + 1]]
    }
}

/// The best two roots a component reaches, on different nodes: enough to
/// answer "the best reachable root not on node x" for any x.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct TopTwo {
    best: Option<usize>,
    /// The best root on a node other than `best`'s.
    other: Option<usize>,
}

impl TopTwo {
    fn insert<N: PartialEq>(&mut self, x: usize, node: impl Fn(usize) -> N, before: impl Fn(usize, usize) -> bool) {
        if self.best == Some(x) || self.other == Some(x) {
            return;
        }
        match self.best {
            None => self.best = Some(x),
            Some(b) if before(x, b) => {
                // The old best stays as `other` when on another node; else the
                // old `other` (on a node unlike the old best's, so unlike x's) stays.
                if node(b) != node(x) {
                    self.other = Some(b);
                }
                self.best = Some(x);
            }
            Some(b) => {
                if node(b) != node(x) && self.other.is_none_or(|o| before(x, o)) {
                    self.other = Some(x);
                }
            }
        }
    }

    /// The best root not on node `x`.
    fn excluding<N: PartialEq>(&self, x: N, node: impl Fn(usize) -> N) -> Option<usize> {
        match self.best {
            Some(b) if node(b) != x => Some(b),
            _ => self.other,
        }
    }
}

/// For every component of the "explained by" graph, the best roots reachable
/// from its members through one or more explainer edges (by `before`, on two
/// different nodes). Each component is computed once from the components it
/// points to, in reverse topological order of the component graph: linear
/// in the edges, where a search per finding would be quadratic.
fn best_reachable_roots<N: PartialEq + Copy>(
    explainers: &Adjacency,
    comp: &[usize],
    members: &Adjacency,
    is_root: &[bool],
    node: impl Fn(usize) -> N + Copy,
    before: impl Fn(usize, usize) -> bool + Copy,
) -> Vec<TopTwo> {
    let groups = members.len();
    let mut best = vec![TopTwo::default(); groups];
    let mut merged_into = vec![usize::MAX; groups];
    // Components are numbered in topological order (every edge between two
    // goes to a higher number), so walking them from the last, each one's
    // targets are done before it.
    for c in (0..groups).rev() {
        let mut t = TopTwo::default();
        // In a cycle every member reaches every member.
        if members.of(c).len() > 1 {
            for &i in members.of(c).iter().filter(|i| is_root[**i]) {
                t.insert(i, node, before);
            }
        }
        for &i in members.of(c) {
            for &j in explainers.of(i) {
                let cj = comp[j];
                // A component pointed to again adds nothing: a singleton is
                // `j` itself, and a larger one's result already holds every
                // root among its members.
                if cj == c || merged_into[cj] == c {
                    continue;
                }
                merged_into[cj] = c;
                if is_root[j] {
                    t.insert(j, node, before);
                }
                let done = best[cj];
                for k in [done.best, done.other].into_iter().flatten() {
                    t.insert(k, node, before);
                }
            }
        }
        best[c] = t;
    }
    best
}

fn category_of(findings: &[Finding], c: &Candidate) -> &'static str {
    c.finding.map_or("", |i| findings[i].category.as_str())
}

fn onset_of(findings: &[Finding], c: &Candidate) -> i64 {
    c.finding.map_or(i64::MAX, |i| findings[i].onset)
}

/// Undiagnosed dependencies shared by two or more root findings on different nodes.
fn inferred_suspects(
    topo: &Topology,
    findings: &[Finding],
    is_root: &[bool],
    by_node: &[Vec<usize>],
    scratch: &mut Traversal,
) -> Vec<Candidate> {
    let mut shared: BTreeMap<NodeId, Vec<usize>> = BTreeMap::new();
    // One representative per failing node, chosen by content (earliest
    // onset, then highest confidence) so the input order never matters.
    let mut reps: Vec<usize> =
        (0..findings.len()).filter(|&i| is_root[i] && findings[i].category.propagates()).collect();
    reps.sort_by(|&a, &b| {
        let (fa, fb) = (&findings[a], &findings[b]);
        (fa.node, fa.onset).cmp(&(fb.node, fb.onset)).then(fb.confidence.total_cmp(&fa.confidence)).then(a.cmp(&b))
    });
    reps.dedup_by_key(|i| findings[*i].node);
    for &i in &reps {
        let f = &findings[i];
        for dep in topo.dependencies(f.node, scratch) {
            if by_node.get(dep.index()).is_none_or(Vec::is_empty) {
                shared.entry(*dep).or_default().push(i);
            }
        }
    }
    let mut suspects: Vec<Candidate> = shared
        .into_iter()
        .filter(|(_, who)| who.len() >= 2)
        .map(|(node, mut who)| {
            who.sort_unstable();
            let mean = who.iter().map(|i| findings[*i].confidence).sum::<f64>() / who.len() as f64;
            // Half-weighted: a suspect is an inference, not an observation.
            let score = 0.5 * (who.len() as f64 + mean) + 0.1 * (5.0 - f64::from(topo.node(node).tier()));
            Candidate { node, finding: None, score, explains: who }
        })
        .collect();
    // The deepest shared dependency explains the most; keep the best few.
    suspects.sort_by(|a, b| {
        b.explains.len().cmp(&a.explains.len()).then(b.score.total_cmp(&a.score)).then(a.node.cmp(&b.node))
    });
    suspects.truncate(MAX_SUSPECTS);
    suspects
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn topo(nodes: &str) -> Topology {
        let text =
            format!("apiVersion: healbot.dev/v1\nkind: Topology\nmetadata: {{name: t}}\nspec:\n  nodes:\n{nodes}");
        Topology::from_text("t.yaml", &text).unwrap()
    }

    fn f(t: &Topology, node: &str, category: Category, onset: i64) -> Finding {
        Finding { node: t.lookup(node).unwrap(), category, onset, confidence: 0.8 }
    }

    const TOL: Duration = Duration::from_secs(60);

    fn ids(t: &Topology, path: &[NodeId]) -> Vec<String> {
        path.iter().map(|n| t.node(*n).id().to_string()).collect()
    }

    #[test]
    fn no_finding_gives_no_role_and_no_candidate() {
        let t = topo("    - {id: a, kind: service, depends_on: [b]}\n    - {id: b, kind: database}\n");
        assert_eq!(localize(&t, &[], TOL, &mut t.traversal()), Localization::default());
    }

    #[test]
    fn one_finding_is_the_root_ranked_first() {
        let t = topo("    - {id: a, kind: service, tier: 2, depends_on: [b]}\n    - {id: b, kind: database}\n");
        let one = [f(&t, "a", Category::Errors, 1_000)];
        let loc = localize(&t, &one, TOL, &mut t.traversal());
        // The same score the general path gives a root that explains nothing.
        let score = one[0].confidence + 0.1 * (5.0 - 2.0);
        assert_eq!(loc.roles, vec![Role::Root { rank: 1, score, explains: vec![] }]);
        assert_eq!(loc.candidates.len(), 1);
        assert_eq!((loc.candidates[0].node, loc.candidates[0].finding), (one[0].node, Some(0)));
        // A second finding on a node that shares nothing changes nothing for the first.
        let two = [one[0], f(&t, "b", Category::Configuration, 5_000)];
        let loc2 = localize(&t, &two, TOL, &mut t.traversal());
        assert!(matches!(loc2.roles[0], Role::Root { score: s, .. } if s == score));
    }

    #[test]
    fn four_level_cascade_has_one_root() {
        let t = topo(
            "    - {id: lb, kind: load_balancer, depends_on: [web]}\n    - {id: web, kind: service, depends_on: [api]}\n    - {id: api, kind: service, depends_on: [db]}\n    - {id: db, kind: database}\n",
        );
        let findings = [
            f(&t, "lb", Category::Errors, 4_000),
            f(&t, "web", Category::Latency, 3_000),
            f(&t, "api", Category::Errors, 2_000),
            f(&t, "db", Category::Unavailable, 1_000),
        ];
        let loc = localize(&t, &findings, TOL, &mut t.traversal());
        assert_eq!(loc.candidates.len(), 1);
        assert_eq!(loc.candidates[0].finding, Some(3));
        match &loc.roles[3] {
            Role::Root { rank, explains, .. } => assert_eq!((*rank, explains.as_slice()), (1, &[0, 1, 2][..])),
            other => panic!("db is not a root: {other:?}"),
        }
        match &loc.roles[0] {
            Role::Symptom { root, path } => {
                assert_eq!(*root, 3);
                assert_eq!(ids(&t, path), ["lb", "web", "api", "db"]);
            }
            other => panic!("lb is not a symptom: {other:?}"),
        }
    }

    #[test]
    fn a_later_or_non_propagating_dependency_failure_explains_nothing() {
        let t = topo("    - {id: api, kind: service, depends_on: [db]}\n    - {id: db, kind: database}\n");
        // db failed 2 minutes after api (tolerance 1 minute): not the cause.
        let late = [f(&t, "api", Category::Errors, 0), f(&t, "db", Category::Unavailable, 120_000)];
        let loc = localize(&t, &late, TOL, &mut t.traversal());
        assert!(loc.roles.iter().all(|r| matches!(r, Role::Root { .. })));
        // Within the tolerance it is.
        let skewed = [f(&t, "api", Category::Errors, 0), f(&t, "db", Category::Unavailable, 30_000)];
        let loc = localize(&t, &skewed, TOL, &mut t.traversal());
        assert!(matches!(loc.roles[0], Role::Symptom { root: 1, .. }));
        // A configuration problem on db does not propagate.
        let config = [f(&t, "api", Category::Errors, 10), f(&t, "db", Category::Configuration, 0)];
        let loc = localize(&t, &config, TOL, &mut t.traversal());
        assert!(loc.roles.iter().all(|r| matches!(r, Role::Root { .. })));
    }

    #[test]
    fn diagnoses_on_one_node_never_explain_each_other() {
        let t = topo("    - {id: db, kind: database}\n");
        let findings = [f(&t, "db", Category::Unavailable, 0), f(&t, "db", Category::Latency, 10)];
        let loc = localize(&t, &findings, TOL, &mut t.traversal());
        assert!(loc.roles.iter().all(|r| matches!(r, Role::Root { .. })));
    }

    #[test]
    fn shared_undiagnosed_dependency_is_an_inferred_suspect() {
        let t = topo(
            "    - {id: a, kind: service, depends_on: [net]}\n    - {id: b, kind: service, depends_on: [net]}\n    - {id: net, kind: external}\n",
        );
        let findings = [f(&t, "a", Category::Errors, 0), f(&t, "b", Category::Latency, 5)];
        let loc = localize(&t, &findings, TOL, &mut t.traversal());
        let suspect = loc.candidates.iter().find(|c| c.finding.is_none()).unwrap();
        assert_eq!(t.node(suspect.node).id(), "net");
        assert_eq!(suspect.explains, [0, 1]);
        // One failing dependent is not enough.
        let loc = localize(&t, &findings[..1], TOL, &mut t.traversal());
        assert!(loc.candidates.iter().all(|c| c.finding.is_some()));
    }

    #[test]
    fn a_cycle_keeps_one_root_its_earliest_member() {
        let t = topo("    - {id: a, kind: service, depends_on: [b]}\n    - {id: b, kind: service, depends_on: [a]}\n");
        let findings = [f(&t, "a", Category::Errors, 10), f(&t, "b", Category::Errors, 0)];
        let loc = localize(&t, &findings, TOL, &mut t.traversal());
        assert!(matches!(loc.roles[1], Role::Root { .. }), "{:?}", loc.roles);
        assert!(matches!(loc.roles[0], Role::Symptom { root: 1, .. }), "{:?}", loc.roles);
    }

    #[test]
    fn a_dependent_of_a_cycle_is_its_symptom_even_when_it_started_first() {
        // c depends on the cycle a ↔ b; c's onset is earliest but within the
        // tolerance, so the cycle explains c. c must not become a second root.
        let t = topo(
            "    - {id: c, kind: service, depends_on: [a]}\n    - {id: a, kind: service, depends_on: [b]}\n    - {id: b, kind: service, depends_on: [a]}\n",
        );
        let findings = [
            f(&t, "c", Category::Errors, 0),
            f(&t, "a", Category::Errors, 20_000),
            f(&t, "b", Category::Errors, 10_000),
        ];
        let loc = localize(&t, &findings, TOL, &mut t.traversal());
        let roots: Vec<usize> = (0..3).filter(|i| matches!(loc.roles[*i], Role::Root { .. })).collect();
        assert_eq!(roots, [2], "{:?}", loc.roles);
        assert!(matches!(loc.roles[0], Role::Symptom { root: 2, .. }), "{:?}", loc.roles);
    }

    /// A random graph of up to 12 nodes (cycles allowed) and random findings.
    /// Dependency lists, and findings as (node, category, onset, confidence × 10).
    type World = (Vec<Vec<usize>>, Vec<(usize, u8, i64, u8)>);

    fn world() -> impl Strategy<Value = World> {
        (2usize..12).prop_flat_map(|n| {
            (
                prop::collection::vec(prop::collection::btree_set(0..n, 0..3), n)
                    .prop_map(|v| v.into_iter().map(|s| s.into_iter().collect()).collect()),
                prop::collection::vec((0..n, 0u8..5, 0i64..300_000, 1u8..10), 0..10),
            )
        })
    }

    fn build(edges: &[Vec<usize>]) -> Topology {
        let mut text = String::new();
        for (i, deps) in edges.iter().enumerate() {
            let deps: Vec<String> = deps.iter().filter(|d| **d != i).map(|d| format!("n{d}")).collect();
            text.push_str(&format!("    - {{id: n{i}, kind: service, depends_on: [{}]}}\n", deps.join(", ")));
        }
        topo(&text)
    }

    const CATEGORIES: [Category; 5] =
        [Category::Unavailable, Category::Latency, Category::Errors, Category::Saturation, Category::Configuration];

    proptest! {
        /// Every symptom's root is a transitive dependency, its path goes from
        /// the symptom's node to the root's along dependencies, and a root
        /// is never a symptom; at least one root exists when there are findings.
        #[test]
        fn symptoms_point_at_dependencies((edges, raw) in world()) {
            let t = build(&edges);
            let findings: Vec<Finding> = raw.iter().map(|(n, c, onset, conf)| Finding {
                node: t.lookup(&format!("n{n}")).unwrap(),
                category: CATEGORIES[*c as usize],
                onset: *onset,
                confidence: f64::from(*conf) / 10.0,
            }).collect();
            let mut s = t.traversal();
            let loc = localize(&t, &findings, TOL, &mut s);
            prop_assert_eq!(loc.roles.len(), findings.len());
            if !findings.is_empty() {
                prop_assert!(loc.roles.iter().any(|r| matches!(r, Role::Root { .. })), "no root");
            }
            for (i, role) in loc.roles.iter().enumerate() {
                if let Role::Symptom { root, path } = role {
                    prop_assert!(matches!(loc.roles[*root], Role::Root { .. }), "root {} of {} is not a root", root, i);
                    let (from, to) = (findings[i].node, findings[*root].node);
                    prop_assert!(from != to);
                    prop_assert!(t.dependencies(from, &mut s).contains(&to));
                    prop_assert_eq!(path.first(), Some(&from));
                    prop_assert_eq!(path.last(), Some(&to));
                    for w in path.windows(2) {
                        prop_assert!(t.direct_dependencies(w[0]).contains(&w[1]));
                    }
                    prop_assert!(findings[*root].category.propagates());
                }
            }
        }

        /// The memo gives what `localize` gives, over a sequence of finding
        /// sets where some repeat the one before and others change one field
        /// of one finding (or the tolerance).
        #[test]
        fn memo_is_localize((edges, raw) in world(), steps in prop::collection::vec((0u8..6, 0usize..10), 1..8)) {
            let t = build(&edges);
            let mut findings: Vec<Finding> = raw.iter().map(|(n, c, onset, conf)| Finding {
                node: t.lookup(&format!("n{n}")).unwrap(),
                category: CATEGORIES[*c as usize],
                onset: *onset,
                confidence: f64::from(*conf) / 10.0,
            }).collect();
            let mut memo = Memo::default();
            let (mut s, mut fresh) = (t.traversal(), t.traversal());
            let mut tol = TOL;
            for (change, at) in steps {
                if let Some(f) = findings.get_mut(at) {
                    match change {
                        0 => f.onset += 90_000,
                        1 => f.confidence = -f.confidence + 1.0,
                        2 => f.category = CATEGORIES[(CATEGORIES.iter().position(|c| *c == f.category).unwrap() + 1) % 5],
                        3 => f.node = t.lookup("n0").unwrap(),
                        _ => {}
                    }
                }
                if change == 4 {
                    tol = Duration::from_millis(tol.as_millis() % 120_000 + 30_000);
                }
                if change == 5 {
                    findings.truncate(findings.len().saturating_sub(1));
                }
                let expected = localize(&t, &findings, tol, &mut fresh);
                prop_assert_eq!(memo.localize(&t, &findings, tol, &mut s), &expected);
            }
        }

        /// The graph without the edges that others imply gives the same
        /// localisation as the whole one.
        #[test]
        fn implied_edges_change_nothing((edges, raw) in world(), spread in 1i64..6) {
            let t = build(&edges);
            let findings: Vec<Finding> = raw.iter().map(|(n, c, onset, conf)| Finding {
                node: t.lookup(&format!("n{n}")).unwrap(),
                category: CATEGORIES[*c as usize],
                // From all within the tolerance to spread over five of it.
                onset: onset * spread / 5,
                confidence: f64::from(*conf) / 10.0,
            }).collect();
            let mut by_node: Vec<Vec<usize>> = vec![Vec::new(); t.len()];
            for (i, f) in findings.iter().enumerate() {
                by_node[f.node.index()].push(i);
            }
            let tol = TOL.as_millis_i64();
            let mut s = t.traversal();
            // Every explainer, found the plain way.
            let mut pairs = Vec::new();
            for (i, f) in findings.iter().enumerate() {
                let deps = t.dependencies(f.node, &mut s);
                for (j, b) in findings.iter().enumerate() {
                    if b.node != f.node && deps.contains(&b.node) && b.category.propagates() && b.onset <= f.onset + tol {
                        pairs.push((i, j));
                    }
                }
            }
            let whole = Adjacency::from_pairs(findings.len(), pairs.into_iter());
            let pruned = explained_by(&t, &findings, &by_node, tol, &mut s);
            // Fewer edges, the same reachability.
            let reach = |adj: &Adjacency, i: usize| {
                let mut seen = vec![false; adj.len()];
                let mut stack = adj.of(i).to_vec();
                while let Some(j) = stack.pop() {
                    if !std::mem::replace(&mut seen[j], true) {
                        stack.extend_from_slice(adj.of(j));
                    }
                }
                seen
            };
            for i in 0..findings.len() {
                prop_assert!(pruned.of(i).iter().all(|j| whole.of(i).contains(j)));
                prop_assert_eq!(reach(&whole, i), reach(&pruned, i), "finding {}", i);
            }
        }

        /// Reversing the input order permutes the roles and nothing else.
        #[test]
        fn roles_do_not_depend_on_input_order((edges, raw) in world()) {
            let t = build(&edges);
            // Distinct (node, onset) pairs so that the two runs can be matched up.
            let mut seen = std::collections::BTreeSet::new();
            let findings: Vec<Finding> = raw.iter()
                .filter(|(n, _, onset, _)| seen.insert((*n, *onset)))
                .map(|(n, c, onset, conf)| Finding {
                    node: t.lookup(&format!("n{n}")).unwrap(),
                    category: CATEGORIES[*c as usize],
                    onset: *onset,
                    confidence: f64::from(*conf) / 10.0,
                }).collect();
            let reversed: Vec<Finding> = findings.iter().rev().copied().collect();
            let mut s = t.traversal();
            let a = localize(&t, &findings, TOL, &mut s);
            let b = localize(&t, &reversed, TOL, &mut s);
            let k = findings.len();
            for i in 0..k {
                let (ra, rb) = (&a.roles[i], &b.roles[k - 1 - i]);
                match (ra, rb) {
                    (Role::Root { rank: x, explains: ea, .. }, Role::Root { rank: y, explains: eb, .. }) => {
                        prop_assert_eq!(x, y);
                        let mut eb: Vec<usize> = eb.iter().map(|j| k - 1 - j).collect();
                        eb.sort_unstable();
                        prop_assert_eq!(ea, &eb);
                    }
                    (Role::Symptom { root: x, path: pa }, Role::Symptom { root: y, path: pb }) => {
                        prop_assert_eq!(*x, k - 1 - y);
                        prop_assert_eq!(pa, pb);
                    }
                    _ => prop_assert!(false, "finding {} is {:?} one way and {:?} the other", i, ra, rb),
                }
            }
        }
    }

    /// The search per finding that [`best_reachable_roots`] replaces.
    fn naive_reachable_root(
        explainers: &[Vec<usize>],
        is_root: &[bool],
        node: &[usize],
        before: impl Fn(usize, usize) -> bool,
        i: usize,
    ) -> Option<usize> {
        let mut best: Option<usize> = None;
        let mut seen = vec![false; explainers.len()];
        let mut stack = explainers[i].clone();
        while let Some(j) = stack.pop() {
            if std::mem::replace(&mut seen[j], true) {
                continue;
            }
            if is_root[j] && node[j] != node[i] {
                best = Some(best.map_or(j, |b| if before(j, b) { j } else { b }));
            }
            stack.extend(explainers[j].iter().copied());
        }
        best
    }

    proptest! {
        #[test]
        fn reachable_roots_agree_with_a_search_per_finding(
            raw in (1usize..14).prop_flat_map(|n| (
                prop::collection::vec(prop::collection::btree_set(0..n, 0..4), n),
                prop::collection::vec((0usize..4, any::<bool>(), 0u8..6), n),
            ))
        ) {
            let (adj, info) = raw;
            let node: Vec<usize> = info.iter().map(|x| x.0).collect();
            // No edges between findings on one node, as in `localize`.
            let explainers: Vec<Vec<usize>> = adj.iter().enumerate()
                .map(|(i, s)| s.iter().copied().filter(|&j| node[j] != node[i]).collect()).collect();
            let is_root: Vec<bool> = info.iter().map(|x| x.1).collect();
            let rank: Vec<u8> = info.iter().map(|x| x.2).collect();
            let before = |a: usize, b: usize| (rank[a], a) < (rank[b], b);
            let adj = Adjacency::from_pairs(
                explainers.len(),
                explainers.iter().enumerate().flat_map(|(i, l)| l.iter().map(move |&j| (i, j))),
            );
            let comp = kosaraju(&adj);
            let groups = comp.iter().copied().max().map_or(0, |m| m + 1);
            let members = Adjacency::from_pairs(groups, comp.iter().enumerate().map(|(i, c)| (*c, i)));
            // Components come numbered in topological order.
            for i in 0..adj.len() {
                for &j in adj.of(i) {
                    prop_assert!(comp[i] <= comp[j], "edge {} -> {} goes from component {} back to {}", i, j, comp[i], comp[j]);
                }
            }
            let best = best_reachable_roots(&adj, &comp, &members, &is_root, |i| node[i], before);
            for i in 0..explainers.len() {
                prop_assert_eq!(
                    best[comp[i]].excluding(node[i], |k| node[k]),
                    naive_reachable_root(&explainers, &is_root, &node, before, i),
                    "finding {}", i
                );
            }
        }

        /// Level by level, the components are Kosaraju's over the whole
        /// graph, still numbered in topological order.
        #[test]
        fn components_by_level_are_the_whole_graphs(
            raw in (1usize..16).prop_flat_map(|n| (
                prop::collection::vec(prop::collection::btree_set(0..n, 0..5), n),
                prop::collection::vec(0u32..4, n),
            ))
        ) {
            let (adj, level) = raw;
            // Edges never go to a lower level, as between a node and its dependencies.
            let adj = Adjacency::from_pairs(
                adj.len(),
                adj.iter().enumerate().flat_map(|(i, l)| l.iter().map(move |&j| (i, j))).filter(|&(i, j)| level[j] >= level[i]),
            );
            let comp = components(&adj, &level);
            let whole = kosaraju(&adj);
            for i in 0..adj.len() {
                for j in 0..adj.len() {
                    prop_assert_eq!(comp[i] == comp[j], whole[i] == whole[j], "{} and {}", i, j);
                }
                for &j in adj.of(i) {
                    prop_assert!(comp[i] <= comp[j], "edge {} -> {} goes back", i, j);
                }
            }
            let mut numbers = comp.clone();
            numbers.sort_unstable();
            numbers.dedup();
            prop_assert_eq!(numbers, (0..whole.iter().max().map_or(0, |m| m + 1)).collect::<Vec<_>>());
        }
    }
}
