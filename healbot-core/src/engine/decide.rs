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
use crate::engine::facts::Health;
use crate::guard::{GuardCheck, GuardCx, HealthView};
use crate::ledger::{Execution, Ledger};
use crate::radix;
use crate::rootcause::{Finding, Role};
use crate::selection::{self, Selection};
use crate::spec::action::Risk;
use crate::spec::signature::Status;
use crate::topology::{NodeId, Traversal};
use crate::{Error, Name};

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
        let excepted = evaluation.excepted;
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

        // Executions decided in this evaluation count against guards as if
        // already recorded, in a scratch copy of the ledger — made only when
        // a later decision runs guards after an execution was decided.
        let mut ledger: Option<Ledger> = None;
        // Positions in `out` of executions not yet in the scratch ledger.
        let mut decided: Vec<usize> = Vec::new();
        let mut out: Vec<Decision> = Vec::with_capacity(diags.len());
        let mut placed = Placed(Vec::with_capacity(diags.len()));
        let sig_key = |si: usize| self.signatures.rank.get(si).map_or(0, |r| r + 1);
        for i in order {
            let d = &diags[i];
            let sig = &library.signatures()[d.signature_index];
            let key = (topo.id_rank(d.node), sig_key(d.signature_index));
            let id = placed.id(key, &d.signature, &d.node_id, d.onset);
            let (root_cause, explained, corroborating) = match &loc.roles[i] {
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
            let mut chosen_action_id: Option<String> = None;
            let verdict;
            if explained {
                // Concatenated, not formatted: most decisions of a cascade say this.
                let cause = root_cause.signature.as_deref().unwrap_or("a failure");
                let mut reason = String::with_capacity(15 + cause.len() + root_cause.node.len());
                for part in ["symptom of ", cause, " on ", &root_cause.node] {
                    reason.push_str(part);
                }
                reasons.push(reason);
                verdict = Verdict::Suppress;
            } else if d.forecast {
                reasons.push(
                    "forecast notice: the failure is predicted, not present; no action runs on a forecast".into(),
                );
                verdict = Verdict::Observe;
            } else if sig.actions.is_empty() {
                reasons.push("no action configured for this signature".into());
                verdict = Verdict::Observe;
            } else {
                if !decided.is_empty() {
                    let l = ledger.get_or_insert_with(|| self.state.ledger.clone());
                    for k in decided.drain(..) {
                        let done: &Decision = &out[k];
                        if let Some(a) = &done.action {
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
                let view = View { engine: self, health: &health, at };
                let cx = GuardCx {
                    topology: &topo,
                    health: &view,
                    ledger: ledger.as_ref().unwrap_or(&self.state.ledger),
                    at,
                };
                let Selection { chosen, rejected: rej } =
                    selection::select(&library, &guards, &sig.actions, d.node, Some(d.node), &cx, &mut scratch);
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
                        chosen_action_id = Some(a.id.clone());
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
            let (successes, failures) = chosen_action_id
                .as_deref()
                .or_else(|| sig.actions.first().map(String::as_str))
                .map_or((0, 0), |a| self.state.ledger.posterior(&d.signature, a));
            let confidence = confidence::score(&Inputs {
                prior: sig.prior.unwrap_or(0.5),
                evidence: d.evidence_weight,
                coverage: d.coverage,
                explained_by_dependency: explained,
                corroborating_dependents: corroborating,
                successes,
                failures,
            });
            let verdict = if verdict == Verdict::Execute {
                refine(&mut reasons, &confidence, sig.status, action.as_ref(), &library)
            } else {
                verdict
            };
            if verdict == Verdict::Execute && !self.config.dry_run && action.is_some() {
                decided.push(out.len());
            }
            let decision = Decision {
                schema_version: DECISION_SCHEMA_VERSION,
                id,
                library_revision: library.revision_shared(),
                at,
                node: d.node_id.clone(),
                signature: self.signatures.refs.get(d.signature_index).cloned(),
                onset: d.onset,
                verdict,
                reasons,
                confidence,
                evidence: std::mem::take(&mut diags[i].evidence),
                root_cause,
                action,
                rejected,
            };
            out.push(decision);
        }

        // Inferred suspects: undiagnosed dependencies shared by failing nodes.
        for c in loc.candidates.iter().filter(|c| c.finding.is_none()) {
            let node_id = topo.node(c.node).shared_id().clone();
            let onset = c.explains.iter().map(|i| diags[*i].onset).min().unwrap_or(at);
            let rank = loc.candidates.iter().position(|x| x == c).map(|p| p + 1);
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
            let decision = Decision {
                schema_version: DECISION_SCHEMA_VERSION,
                id: placed.id((topo.id_rank(c.node), 0), "inferred-suspect", &node_id, onset),
                library_revision: library.revision_shared(),
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
            out.push(decision);
        }

        // Matches an exception suppressed: said, never acted on.
        for mut d in excepted {
            let sig = &library.signatures()[d.signature_index];
            let note = d.evidence.last().and_then(|e| e.note.clone()).unwrap_or_default();
            let decision = Decision {
                schema_version: DECISION_SCHEMA_VERSION,
                id: placed.id((topo.id_rank(d.node), sig_key(d.signature_index)), &d.signature, &d.node_id, d.onset),
                library_revision: library.revision_shared(),
                at,
                node: d.node_id.clone(),
                signature: self.signatures.refs.get(d.signature_index).cloned(),
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
            out.push(decision);
        }
        self.localized = localized;
        self.traversal = scratch;
        self.health = health;
        if !self.config.dry_run {
            for (d, &(_, hash)) in out.iter().zip(&placed.0) {
                let sig = d.signature.as_ref().map_or("", |s| s.id.as_str());
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
        if out.len() > 1 {
            let sigs = self.signatures.rank.len() + 1;
            let keys: Vec<u64> = placed.0.iter().map(|&((node, sig), _)| radix::pair(node, sig, sigs)).collect();
            radix::permute(&mut out, radix::order_by_key(&keys));
        }
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
fn refine(
    reasons: &mut Vec<String>,
    confidence: &Confidence,
    status: Status,
    action: Option<&ChosenAction>,
    library: &crate::Library,
) -> Verdict {
    if status == Status::Experimental {
        reasons.push("the signature is experimental: a person must approve".into());
    }
    if let Some(a) = action {
        if let Some(spec) = library.action(&a.id) {
            if spec.risk == Risk::Destructive {
                reasons.push("destructive actions never run unattended".into());
            }
            if confidence.value < spec.min_confidence {
                reasons.push(format!(
                    "confidence {:.2} is below the {:.2} that `{}` needs to run unattended",
                    confidence.value, spec.min_confidence, a.id
                ));
            }
        }
    }
    if reasons.is_empty() {
        Verdict::Execute
    } else {
        Verdict::Escalate
    }
}

/// For each decision made, in the order made: its place in the output
/// ((node id rank, signature id rank + 1 or 0 for none), so the final sort
/// compares integers) and the hash its id spells (for `recent`).
struct Placed(Vec<((u32, u32), u64)>);

impl Placed {
    /// The id of the next decision, on (`signature`, `node`, `onset`),
    /// which goes at `key` in the output.
    fn id(&mut self, key: (u32, u32), signature: &str, node: &str, onset: i64) -> String {
        let hash = decision_hash(signature, node, onset);
        self.0.push((key, hash));
        spell_decision_id(hash)
    }
}
