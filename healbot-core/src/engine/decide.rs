//! From diagnoses to decisions: root cause, confidence, action selection,
//! guards and the verdict ladder; and the host's reports back.

use std::collections::btree_map::Entry;
use std::sync::Arc;

use super::{Engine, MAX_RECENT_DECISIONS};
use crate::confidence::{self, Confidence, Inputs};
use crate::decision::{
    decision_hash, decision_hash_of, spell_decision_id, ChosenAction, Decision, GuardFailure, RejectedAction,
    RootCause, RootRole, SignatureRef, Verdict, DECISION_SCHEMA_VERSION,
};
use crate::diagnosis::Diagnosis;
use crate::engine::facts::Health;
use crate::guard::ActionGuards;
use crate::guard::{GuardCheck, GuardCx, HealthView};
use crate::ledger::{Execution, Ledger};
use crate::radix;
use crate::rootcause::{Candidate, Finding, Role};
use crate::selection::{self, Selection};
use crate::spec::action::{Action, Risk};
use crate::spec::signature::Status;
use crate::topology::{NodeId, Topology, Traversal};
use crate::{Error, Library, Name};

struct View<'a> {
    engine: &'a Engine,
    health: &'a Health,
    at: i64,
}

impl HealthView for View<'_> {
    fn is_unhealthy(&self, n: NodeId) -> bool {
        self.health.is_unhealthy(n)
    }

    fn healthy_replicas(&self, n: NodeId) -> u32 {
        super::facts::healthy_replicas(self.engine, self.health, n, self.at)
    }
}

fn failure(g: &GuardCheck) -> GuardFailure {
    GuardFailure { guard: g.guard.into(), reason: g.reason.clone(), observed: g.observed, limit: g.limit }
}

impl Engine {
    /// Evaluates every signature at `at` and decides, for every diagnosis
    /// (and every inferred suspect), what the host should do.
    ///
    /// Decisions are sorted by node id, then signature id. The result
    /// depends only on the observations, the ledger and `at`: the same
    /// inputs give byte-identical decision documents.
    ///
    /// # Example
    ///
    /// See the crate-level example in [`Engine`].
    pub fn evaluate(&mut self, at: i64) -> Vec<Decision> {
        let (evaluation, health) = self.diagnose_with_health(at);
        let mut diags = evaluation.diagnoses;
        let mut excepted = evaluation.excepted;
        let library = self.library.clone();
        let topo = self.topology.clone();
        let guards = Arc::clone(&self.guards);
        let mut scratch = std::mem::replace(&mut self.traversal, Traversal::new());

        // Confidence before the topology and outcome terms, for ranking.
        let base: Vec<f64> = diags
            .iter()
            .map(|d| {
                let prior = self.program.sigs[d.signature_index].prior;
                confidence::value(&Inputs {
                    prior,
                    evidence: d.evidence_weight,
                    coverage: d.coverage,
                    explained_by_dependency: false,
                    corroborating_dependents: 0,
                    successes: 0,
                    failures: 0,
                })
            })
            .collect();
        let findings: Vec<Finding> = diags
            .iter()
            .zip(&base)
            .map(|(d, c)| Finding { node: d.node, category: d.category, onset: d.onset, confidence: *c })
            .collect();
        let mut localized = std::mem::take(&mut self.localized);
        let loc = localized.localize(&topo, &findings, self.config.onset_tolerance, &mut scratch);

        // Roots decide first, best rank first, so the best-ranked root gets
        // the budget and concurrency slots when they are scarce.
        let root_rank = |r: &Role| match r {
            Role::Root { rank, .. } => Some(*rank as u64),
            Role::Symptom { .. } => None,
        };
        let after_roots = loc.roles.iter().filter_map(root_rank).max().map_or(0, |r| r + 1);
        let order =
            radix::order_by_key(&loc.roles.iter().map(|r| root_rank(r).unwrap_or(after_roots)).collect::<Vec<u64>>());
        let suspects: Vec<&Candidate> = loc.candidates.iter().filter(|c| c.finding.is_none()).collect();

        // Buffers kept from the last evaluation.
        let mut sc = std::mem::take(&mut self.decide_scratch);
        sc.clear();
        let cx = Cx { engine: self, library: &library, topo: &topo, health: &health, roles: &loc.roles, at };
        // Each diagnosis's id hash, by diagnosis.
        sc.hashes.resize(diags.len(), 0);

        // Only decisions that run guards depend on the decisions made
        // before them: they are made first, in `order`, and every other
        // decision afterwards, straight into its place in the output.
        // Executions decided here count against later guards as if already
        // recorded, in a scratch copy of the ledger — made only when a later
        // decision runs guards after an execution was decided.
        let mut ledger: Option<Ledger> = None;
        for &i in &order {
            if !cx.runs_guards(&diags, i) {
                continue;
            }
            if !sc.decided.is_empty() {
                let l = ledger.get_or_insert_with(|| self.state.ledger.clone());
                for k in sc.decided.drain(..) {
                    if let Some((done, a)) = sc.early[k].as_ref().and_then(|d| Some((d, d.action.as_ref()?))) {
                        l.record_execution(Execution {
                            decision_id: done.id.clone(),
                            signature: done.signature.as_ref().map_or_else(String::new, |s| s.id.clone()),
                            action: a.id.clone(),
                            target: a.target.clone(),
                            at,
                            unattended: true,
                        });
                    }
                }
            }
            let guarded = Guarded { guards: &guards, ledger: ledger.as_ref().unwrap_or(&self.state.ledger) };
            let d = cx.decide(&mut diags, i, &mut sc.hashes[i], &guarded, &mut scratch);
            if d.verdict == Verdict::Execute && !self.config.dry_run && d.action.is_some() {
                sc.decided.push(sc.early.len());
            }
            if sc.early_at.is_empty() {
                sc.early_at.resize(diags.len(), usize::MAX);
            }
            sc.early_at[i] = sc.early.len();
            sc.early.push(Some(d));
        }

        let sig_key = |si: usize| self.signatures.rank.get(si).map_or(0, |r| r + 1);
        let sigs = self.signatures.rank.len() + 1;
        let place = |node: NodeId, sig: u32| radix::pair(topo.id_rank(node), sig, sigs);
        let suspect_keys: Vec<u64> = suspects.iter().map(|c| place(c.node, 0)).collect();
        let excepted_keys: Vec<u64> = excepted.iter().map(|d| place(d.node, sig_key(d.signature_index))).collect();
        sc.keys.extend(diags.iter().map(|d| place(d.node, sig_key(d.signature_index))));
        output_order(&mut sc.sources, &order, &sc.keys, &suspect_keys, &excepted_keys);
        let unguarded = Guarded { guards: &guards, ledger: &self.state.ledger };
        let mut suspect_hashes = Vec::with_capacity(suspects.len());
        let mut excepted_hashes = Vec::with_capacity(excepted.len());
        let mut out: Vec<Decision> = Vec::with_capacity(sc.sources.len());
        for &source in &sc.sources {
            let decision = match source {
                Source::Diagnosis(i) => match sc.early_at.get(i).and_then(|&k| sc.early.get_mut(k)?.take()) {
                    Some(made) => made,
                    // Runs no guards (those that do were made above).
                    None => cx.decide(&mut diags, i, &mut sc.hashes[i], &unguarded, &mut scratch),
                },
                Source::Suspect(k) => {
                    let (hash, d) = cx.suspect(&diags, &loc.candidates, suspects[k]);
                    suspect_hashes.push((k, hash));
                    d
                }
                Source::Excepted(k) => {
                    let (hash, d) = cx.excepted(&mut excepted[k]);
                    excepted_hashes.push((k, hash));
                    d
                }
            };
            out.push(decision);
        }
        self.localized = localized;
        self.traversal = scratch;
        self.health = health;
        if !self.config.dry_run {
            // In the order decided: of two decisions whose ids collide, the later one's signature stays.
            suspect_hashes.sort_unstable();
            excepted_hashes.sort_unstable();
            let sig_id = |si: usize| self.signatures.refs.get(si).map_or("", |s| s.id.as_str());
            let made = order.iter().map(|&i| (sc.hashes[i], sig_id(diags[i].signature_index)));
            let made = made.chain(suspect_hashes.iter().map(|&(_, h)| (h, "")));
            let made = made.chain(excepted_hashes.iter().map(|&(k, h)| (h, sig_id(excepted[k].signature_index))));
            for (hash, sig) in made {
                // Ongoing incidents keep their ids: most are already known.
                match self.state.recent.entry(hash) {
                    Entry::Occupied(mut e) if e.get() != sig => *e.get_mut() = sig.to_string(),
                    Entry::Occupied(_) => {}
                    Entry::Vacant(e) => {
                        e.insert(sig.to_string());
                    }
                }
            }
            while self.state.recent.len() > MAX_RECENT_DECISIONS {
                self.state.recent.pop_first();
            }
        }
        self.decide_scratch = sc;
        out
    }

    /// Records that the host executed `action` on `target` for a decision.
    /// Idempotent by decision id: a repeated report changes nothing and
    /// returns `Ok(false)`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidArgument`] for an unknown action or node,
    /// or in dry-run mode.
    pub fn record_execution(
        &mut self,
        decision_id: &str,
        action: &str,
        target: &str,
        at: i64,
        unattended: bool,
    ) -> Result<bool, Error> {
        use crate::ErrorKind::InvalidArgument;
        if self.config.dry_run {
            return Err(Error::new(InvalidArgument, "the engine is in dry-run mode and records nothing"));
        }
        if self.library.action(action).is_none() {
            return Err(Error::new(InvalidArgument, format!("unknown action `{action}`")));
        }
        let node = self
            .topology
            .lookup(target)
            .ok_or_else(|| Error::new(InvalidArgument, format!("unknown target node `{target}`")))?;
        let signature =
            decision_hash_of(decision_id).and_then(|h| self.state.recent.get(&h)).cloned().unwrap_or_default();
        Ok(self.state.ledger.record_execution(Execution {
            decision_id: decision_id.to_string(),
            signature,
            action: action.to_string(),
            target: self.topology.node(node).id().to_string(),
            at,
            unattended,
        }))
    }

    /// Records the outcome of an execution. Idempotent: a repeated report
    /// returns `Ok(false)` and changes nothing.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidArgument`] when no execution was recorded
    /// for the decision, or in dry-run mode.
    pub fn record_outcome(&mut self, decision_id: &str, success: bool, at: i64) -> Result<bool, Error> {
        if self.config.dry_run {
            return Err(Error::new(
                crate::ErrorKind::InvalidArgument,
                "the engine is in dry-run mode and records nothing",
            ));
        }
        self.state.ledger.record_outcome(decision_id, success, at)
    }
}

/// What a decision says of its signature (built once per library).
pub(super) fn signature_ref(sig: &crate::spec::Signature) -> SignatureRef {
    SignatureRef {
        id: sig.id.clone(),
        title: sig.title.clone(),
        category: sig.category.as_str().to_string(),
        severity: sig.severity.as_str().to_string(),
        status: sig.status.as_str().to_string(),
    }
}

/// Execute only when nothing stands in the way; otherwise escalate with the reasons.
fn refine(reasons: &mut Vec<String>, confidence: &Confidence, status: Status, spec: &Action) -> Verdict {
    if status == Status::Experimental {
        reasons.push("the signature is experimental: a person must approve".into());
    }
    if spec.risk == Risk::Destructive {
        reasons.push("destructive actions never run unattended".into());
    }
    if confidence.value < spec.min_confidence {
        reasons.push(format!(
            "confidence {:.2} is below the {:.2} that `{}` needs to run unattended",
            confidence.value, spec.min_confidence, spec.id
        ));
    }
    if reasons.is_empty() {
        Verdict::Execute
    } else {
        Verdict::Escalate
    }
}

/// Where a decision in the output comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// The diagnosis at this index.
    Diagnosis(usize),
    /// The inferred suspect at this index (among the suspects).
    Suspect(usize),
    /// The excepted match at this index.
    Excepted(usize),
}

/// The output's order: by key, equal keys in the order the decisions are
/// made (diagnoses in `order`, then suspects, then excepted matches).
///
/// Diagnoses come sorted by their keys, which no two share: then the few
/// others are merged in, and no sort of a thousand keys is needed.
fn output_order(out: &mut Vec<Source>, order: &[usize], diags: &[u64], suspects: &[u64], excepted: &[u64]) {
    out.clear();
    let others = suspects.iter().enumerate().map(|(k, &key)| (key, Source::Suspect(k)));
    let mut others: Vec<(u64, Source)> =
        others.chain(excepted.iter().enumerate().map(|(k, &key)| (key, Source::Excepted(k)))).collect();
    if diags.windows(2).all(|w| w[0] < w[1]) {
        // Stable: suspects before excepted matches at equal keys, as made.
        others.sort_by_key(|&(key, _)| key);
        let mut others = others.into_iter().peekable();
        for (i, &key) in diags.iter().enumerate() {
            while let Some((_, s)) = others.next_if(|&(k, _)| k < key) {
                out.push(s);
            }
            out.push(Source::Diagnosis(i));
        }
        out.extend(others.map(|(_, s)| s));
        return;
    }
    let made: Vec<(u64, Source)> = order.iter().map(|&i| (diags[i], Source::Diagnosis(i))).chain(others).collect();
    let keys: Vec<u64> = made.iter().map(|&(k, _)| k).collect();
    out.extend(radix::order_by_key(&keys).into_iter().map(|p| made[p].1));
}

/// Buffers an evaluation's decisions use, kept for the next evaluation.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    /// Each diagnosis's id hash, by diagnosis.
    hashes: Vec<u64>,
    /// Decisions that ran guards, in the order made, until moved to the output.
    early: Vec<Option<Decision>>,
    /// Each diagnosis's position in `early` (`usize::MAX` for none); empty when none ran guards.
    early_at: Vec<usize>,
    /// Positions in `early` of executions not yet in the scratch ledger.
    decided: Vec<usize>,
    /// Each diagnosis's place key.
    keys: Vec<u64>,
    /// The output's order.
    sources: Vec<Source>,
}

impl Scratch {
    /// Empties every buffer, keeping its capacity.
    fn clear(&mut self) {
        self.hashes.clear();
        self.early.clear();
        self.early_at.clear();
        self.decided.clear();
        self.keys.clear();
        self.sources.clear();
    }
}

/// What deciding on a diagnosis reads.
struct Cx<'a> {
    engine: &'a Engine,
    library: &'a Library,
    topo: &'a Topology,
    health: &'a Health,
    roles: &'a [Role],
    at: i64,
}

/// What a decision that runs guards checks against.
struct Guarded<'a> {
    guards: &'a [ActionGuards],
    /// The ledger, with the executions decided so far in this evaluation.
    ledger: &'a Ledger,
}

impl Cx<'_> {
    /// Whether the decision on diagnosis `i` runs guards: a root cause
    /// with actions, not a forecast.
    fn runs_guards(&self, diags: &[Diagnosis], i: usize) -> bool {
        let d = &diags[i];
        matches!(self.roles[i], Role::Root { .. })
            && !d.forecast
            && !self.library.signatures()[d.signature_index].actions.is_empty()
    }

    /// The decision on diagnosis `i` (taking its evidence); `hash` is set
    /// to the hash its id spells.
    fn decide(
        &self,
        diags: &mut [Diagnosis],
        i: usize,
        hash: &mut u64,
        guarded: &Guarded,
        scratch: &mut Traversal,
    ) -> Decision {
        let evidence = std::mem::take(&mut diags[i].evidence);
        let diags = &*diags;
        let (library, topo, at) = (self.library, self.topo, self.at);
        let engine = self.engine;
        let d = &diags[i];
        let sig = &library.signatures()[d.signature_index];
        *hash = decision_hash(&d.signature, &d.node_id, d.onset);
        let id = spell_decision_id(*hash);
        let (root_cause, explained, corroborating) = match &self.roles[i] {
            Role::Symptom { root, path } => (
                RootCause {
                    role: RootRole::Symptom,
                    node: diags[*root].node_id.clone(),
                    signature: Some(diags[*root].signature.clone()),
                    path: path.iter().map(|n| topo.node(*n).shared_id().clone()).collect(),
                    rank: None,
                    score: None,
                    explains: Vec::new(),
                },
                true,
                0,
            ),
            Role::Root { rank, score, explains } => (
                RootCause {
                    role: RootRole::Root,
                    node: d.node_id.clone(),
                    signature: Some(d.signature.clone()),
                    path: vec![d.node_id.clone()],
                    rank: Some(*rank),
                    score: Some(*score),
                    explains: {
                        // A node with several diagnoses is named once. In id
                        // order, by the ids' integer ranks: a root of a cascade
                        // explains a thousand nodes.
                        let mut nodes: Vec<NodeId> = explains.iter().map(|j| diags[*j].node).collect();
                        nodes.sort_unstable_by_key(|n| topo.id_rank(*n));
                        nodes.dedup();
                        nodes.iter().map(|n| topo.node(*n).shared_id().clone()).collect()
                    },
                },
                false,
                explains.len(),
            ),
        };
        let mut reasons = Vec::new();
        let mut action = None;
        let mut rejected = Vec::new();
        // The chosen action's spec.
        let mut chosen_spec: Option<&Action> = None;
        let verdict;
        if explained {
            // Concatenated, not formatted: most decisions of a cascade say this.
            let cause = root_cause.signature.as_deref().unwrap_or("a failure");
            let mut reason = String::with_capacity(15 + cause.len() + root_cause.node.len());
            for part in ["symptom of ", cause, " on ", &root_cause.node] {
                reason.push_str(part);
            }
            // Allocated to fit: a push onto an empty vector would reserve four.
            reasons = vec![reason];
            verdict = Verdict::Suppress;
        } else if d.forecast {
            reasons.push("forecast notice: the failure is predicted, not present; no action runs on a forecast".into());
            verdict = Verdict::Observe;
        } else if sig.actions.is_empty() {
            reasons.push("no action configured for this signature".into());
            verdict = Verdict::Observe;
        } else {
            let view = View { engine, health: self.health, at };
            let cx = GuardCx { topology: topo, health: &view, ledger: guarded.ledger, at };
            let Selection { chosen, rejected: rej } =
                selection::select(library, guarded.guards, &sig.actions, d.node, Some(d.node), &cx, scratch);
            rejected = rej
                .iter()
                .map(|r| RejectedAction {
                    id: library.actions()[r.action].id.clone(),
                    target: r.target.map(|t| topo.node(t).id().to_string()),
                    failed: r.failed.iter().map(failure).collect(),
                })
                .collect();
            match chosen {
                None => {
                    reasons.push("every candidate action failed a guard".into());
                    verdict = Verdict::Blocked;
                }
                Some(c) => {
                    let a = &library.actions()[c.action];
                    chosen_spec = Some(a);
                    action = Some(ChosenAction {
                        id: a.id.clone(),
                        operation: a.operation.clone(),
                        target: topo.node(c.target).id().to_string(),
                        parameters: a.parameters.clone(),
                        risk: a.risk.as_str().into(),
                        min_confidence: a.min_confidence,
                        guards_passed: c.passed.iter().map(|g| g.guard.into()).collect(),
                    });
                    for f in &c.soft_failures {
                        reasons.push(format!("{}: {}", f.guard, f.reason));
                    }
                    verdict = Verdict::Execute; // refined below, once confidence is known
                }
            }
        }
        let (successes, failures) = chosen_spec
            .map(|a| a.id.as_str())
            .or_else(|| sig.actions.first().map(String::as_str))
            .map_or((0, 0), |a| engine.state.ledger.posterior(&d.signature, a));
        let confidence = confidence::score(&Inputs {
            prior: sig.prior.unwrap_or(0.5),
            evidence: d.evidence_weight,
            coverage: d.coverage,
            explained_by_dependency: explained,
            corroborating_dependents: corroborating,
            successes,
            failures,
        });
        let verdict = match chosen_spec {
            Some(spec) if verdict == Verdict::Execute => refine(&mut reasons, &confidence, sig.status, spec),
            _ => verdict,
        };
        Decision {
            schema_version: DECISION_SCHEMA_VERSION,
            id,
            library_revision: library.revision_shared(),
            at,
            node: d.node_id.clone(),
            signature: engine.signatures.refs.get(d.signature_index).cloned(),
            onset: d.onset,
            verdict,
            reasons,
            confidence,
            evidence,
            root_cause,
            action,
            rejected,
        }
    }

    /// The decision on an inferred suspect, `c` among `candidates`, and
    /// the hash its id spells.
    fn suspect(&self, diags: &[Diagnosis], candidates: &[Candidate], c: &Candidate) -> (u64, Decision) {
        let (topo, at) = (self.topo, self.at);
        let node_id = topo.node(c.node).shared_id().clone();
        let onset = c.explains.iter().map(|i| diags[*i].onset).min().unwrap_or(at);
        let rank = candidates.iter().position(|x| x == c).map(|p| p + 1);
        let confidence = confidence::score(&Inputs {
            prior: 0.5,
            evidence: 0.0,
            coverage: 1.0,
            explained_by_dependency: false,
            corroborating_dependents: c.explains.len(),
            successes: 0,
            failures: 0,
        });
        let explains: Vec<Name> = c.explains.iter().map(|i| diags[*i].node_id.clone()).collect();
        let hash = decision_hash("inferred-suspect", &node_id, onset);
        let decision = Decision {
            schema_version: DECISION_SCHEMA_VERSION,
            id: spell_decision_id(hash),
            library_revision: self.library.revision_shared(),
            at,
            node: node_id.clone(),
            signature: None,
            onset,
            verdict: Verdict::Escalate,
            reasons: vec![format!(
                "inferred suspect: {} failing nodes ({}) share this undiagnosed dependency; never acted on unattended",
                explains.len(),
                explains.join(", ")
            )],
            confidence,
            evidence: Vec::new(),
            root_cause: RootCause {
                role: RootRole::InferredSuspect,
                node: node_id,
                signature: None,
                path: Vec::new(),
                rank,
                score: Some(c.score),
                explains,
            },
            action: None,
            rejected: Vec::new(),
        };
        (hash, decision)
    }

    /// The decision on a match an exception suppressed (said, never acted
    /// on), and the hash its id spells.
    fn excepted(&self, d: &mut Diagnosis) -> (u64, Decision) {
        let sig = &self.library.signatures()[d.signature_index];
        let note = d.evidence.last().and_then(|e| e.note.clone()).unwrap_or_default();
        let hash = decision_hash(&d.signature, &d.node_id, d.onset);
        let decision = Decision {
            schema_version: DECISION_SCHEMA_VERSION,
            id: spell_decision_id(hash),
            library_revision: self.library.revision_shared(),
            at: self.at,
            node: d.node_id.clone(),
            signature: self.engine.signatures.refs.get(d.signature_index).cloned(),
            onset: d.onset,
            verdict: Verdict::Observe,
            reasons: vec![format!(
                "suppressed by a structured exception{}",
                if note.is_empty() { String::new() } else { format!(": {note}") }
            )],
            confidence: confidence::score(&Inputs {
                prior: sig.prior.unwrap_or(0.5),
                evidence: 0.0,
                coverage: 0.0,
                explained_by_dependency: false,
                corroborating_dependents: 0,
                successes: 0,
                failures: 0,
            }),
            evidence: std::mem::take(&mut d.evidence),
            root_cause: RootCause {
                role: RootRole::Root,
                node: d.node_id.clone(),
                signature: Some(d.signature.clone()),
                path: vec![d.node_id.clone()],
                rank: None,
                score: None,
                explains: Vec::new(),
            },
            action: None,
            rejected: Vec::new(),
        };
        (hash, decision)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
    use super::*;
    use proptest::prelude::*;

    /// Distinct diagnosis keys in ascending order (as diagnoses come), the
    /// order they are decided in, and the others' keys, from a small range
    /// so that keys tie.
    fn cases() -> impl Strategy<Value = (Vec<u64>, Vec<usize>, Vec<u64>, Vec<u64>)> {
        (proptest::collection::btree_set(0u64..40, 0..20), proptest::collection::vec(0u64..40, 0..4)).prop_flat_map(
            |(diags, suspects)| {
                let diags: Vec<u64> = diags.into_iter().collect();
                let order = Just((0..diags.len()).collect::<Vec<usize>>()).prop_shuffle();
                let excepted = proptest::collection::vec(0u64..40, 0..6).prop_map(|mut e| {
                    e.sort_unstable();
                    e
                });
                (Just(diags), order, Just(suspects), excepted)
            },
        )
    }

    /// A stable sort of every decision by key, in the order made.
    fn sorted(order: &[usize], diags: &[u64], suspects: &[u64], excepted: &[u64]) -> Vec<Source> {
        let mut made: Vec<(u64, Source)> = order.iter().map(|&i| (diags[i], Source::Diagnosis(i))).collect();
        made.extend(suspects.iter().enumerate().map(|(k, &key)| (key, Source::Suspect(k))));
        made.extend(excepted.iter().enumerate().map(|(k, &key)| (key, Source::Excepted(k))));
        made.sort_by_key(|&(key, _)| key);
        made.into_iter().map(|(_, s)| s).collect()
    }

    proptest! {
        #[test]
        fn output_order_is_a_stable_sort_in_the_order_made((diags, order, suspects, excepted) in cases()) {
            let mut out = vec![Source::Suspect(99)];
            output_order(&mut out, &order, &diags, &suspects, &excepted);
            prop_assert_eq!(&out, &sorted(&order, &diags, &suspects, &excepted));
            // Diagnoses out of key order take the general path, to the same end.
            let reversed: Vec<u64> = diags.iter().rev().copied().collect();
            output_order(&mut out, &order, &reversed, &suspects, &excepted);
            prop_assert_eq!(&out, &sorted(&order, &reversed, &suspects, &excepted));
        }
    }
}
