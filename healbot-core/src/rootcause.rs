//! Root-cause localisation over the topology, on one snapshot of diagnoses.
//!
//! A diagnosis on node A is a *symptom* when a dependency B of A
//! (transitively, along `depends_on` and `runs_on`) has a diagnosis whose
//! category propagates (unavailable, latency, errors, saturation) and whose
//! onset is not later than A's plus a tolerance. A diagnosis never
//! suppresses itself, and a diagnosis on the same node never explains
//! another. Every other diagnosis is a root-cause candidate. Each symptom is
//! assigned to the best-ranked root among those that explain it, with the
//! dependency path to it. When two or more root candidates share a
//! dependency that has no diagnosis of its own, that dependency is reported
//! as an *inferred suspect* (never acted on unattended).
//!
//! Ranking (higher first): symptoms explained, then earlier onset, then
//! confidence, then a more critical tier, then node id. The score is
//! `explained + confidence + 0.1 × (5 − tier)`; ties are broken by onset
//! and id so the ranking is total and deterministic. The whole computation
//! reads one slice of findings: the order they arrived in never matters.
//! See `docs/root-cause.md` for a worked example.

use std::collections::BTreeMap;

use crate::spec::signature::Category;
use crate::topology::{NodeId, Topology, Traversal};
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
    // Findings by node, for the dependency scan.
    let mut by_node: BTreeMap<NodeId, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        by_node.entry(f.node).or_default().push(i);
    }
    // explainers[i]: findings on dependencies of i's node that could explain it.
    let mut explainers: Vec<Vec<usize>> = vec![Vec::new(); findings.len()];
    for (i, f) in findings.iter().enumerate() {
        for dep in topo.dependencies(f.node, scratch) {
            if *dep == f.node {
                continue;
            }
            if let Some(js) = by_node.get(dep) {
                for &j in js {
                    let b = &findings[j];
                    if b.category.propagates() && b.onset <= f.onset.saturating_add(tol) {
                        explainers[i].push(j);
                    }
                }
            }
        }
    }
    let is_symptom: Vec<bool> = explainers.iter().map(|e| !e.is_empty()).collect();
    // Roots: findings nothing explains. In a dependency cycle every member may
    // explain another; then the earliest onset (then id) in the group stays root.
    let mut root_of: Vec<Option<usize>> = vec![None; findings.len()];
    let order = |a: usize, b: usize| {
        let (fa, fb) = (&findings[a], &findings[b]);
        fa.onset
            .cmp(&fb.onset)
            .then(fb.confidence.total_cmp(&fa.confidence))
            .then(topo.node(fa.node).tier().cmp(&topo.node(fb.node).tier()))
            .then(topo.node(fa.node).id().cmp(topo.node(fb.node).id()))
            .then(a.cmp(&b))
    };
    let mut is_root: Vec<bool> = is_symptom.iter().map(|s| !s).collect();
    for i in 0..findings.len() {
        if is_symptom[i] {
            // Follow explainers to a finding that is not itself explained.
            let mut best: Option<usize> = None;
            let mut seen = vec![false; findings.len()];
            let mut stack = explainers[i].clone();
            while let Some(j) = stack.pop() {
                if seen[j] {
                    continue;
                }
                seen[j] = true;
                if !is_symptom[j] {
                    best = Some(best.map_or(j, |b| if order(j, b).is_lt() { j } else { b }));
                } else {
                    stack.extend(explainers[j].iter().copied());
                }
            }
            if best.is_none() {
                // A cycle of mutual explanation: the earliest member is the root.
                let mut group: Vec<usize> = seen.iter().enumerate().filter(|(_, s)| **s).map(|(j, _)| j).collect();
                group.push(i);
                best = group.into_iter().min_by(|a, b| order(*a, *b));
                if best == Some(i) {
                    is_root[i] = true;
                    continue;
                }
            }
            root_of[i] = best;
        }
    }
    // A finding chosen as root of a cycle is a root even though it is explained.
    for r in root_of.iter().flatten() {
        is_root[*r] = true;
    }
    for i in 0..findings.len() {
        if is_root[i] {
            root_of[i] = None;
        }
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
            .then_with(|| topo.node(a.node).id().cmp(topo.node(b.node).id()))
    });
    let mut roles: Vec<Role> = Vec::with_capacity(findings.len());
    for i in 0..findings.len() {
        if let Some(r) = root_of[i] {
            let path = topo.path_to_dependency(findings[i].node, findings[r].node, scratch).unwrap_or_default();
            roles.push(Role::Symptom { root: r, path });
        } else {
            let rank = candidates.iter().position(|c| c.finding == Some(i)).map_or(0, |p| p + 1);
            roles.push(Role::Root { rank, score: score(i), explains: explains[i].clone() });
        }
    }
    Localization { roles, candidates }
}

fn onset_of(findings: &[Finding], c: &Candidate) -> i64 {
    c.finding.map_or(i64::MAX, |i| findings[i].onset)
}

/// Undiagnosed dependencies shared by two or more root findings on different nodes.
fn inferred_suspects(
    topo: &Topology,
    findings: &[Finding],
    is_root: &[bool],
    by_node: &BTreeMap<NodeId, Vec<usize>>,
    scratch: &mut Traversal,
) -> Vec<Candidate> {
    let mut shared: BTreeMap<NodeId, Vec<usize>> = BTreeMap::new();
    let mut nodes_done: Vec<NodeId> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        if !is_root[i] || !f.category.propagates() || nodes_done.contains(&f.node) {
            continue;
        }
        nodes_done.push(f.node);
        for dep in topo.dependencies(f.node, scratch) {
            if !by_node.contains_key(dep) {
                shared.entry(*dep).or_default().push(i);
            }
        }
    }
    let mut suspects: Vec<Candidate> = shared
        .into_iter()
        .filter(|(_, who)| who.len() >= 2)
        .map(|(node, who)| {
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
