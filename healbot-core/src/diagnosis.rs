//! Diagnoses: a signature matched on a node at a time, with the evidence
//! that made it.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::signature::{Category, SignatureSeverity, Status};
use crate::spec::Comparison;
use crate::topology::NodeId;
use crate::{Duration, Name};

/// What part an evidence item plays.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "role", content = "weight")]
pub enum Role {
    /// Part of the required `match` tree.
    Required,
    /// A supporting (weight > 0) or contradicting (weight < 0) evidence item.
    Evidence(f64),
    /// A structured exception.
    Exception,
}

/// What a predicate is: where it sits, how it reads for people, and what it
/// compares against. Compiled once per predicate and shared (one `Arc`) by
/// every evidence item it produces.
///
/// # Example
///
/// ```
/// use healbot_core::diagnosis::PredicateInfo;
/// use healbot_core::spec::Comparison;
/// use healbot_core::Duration;
///
/// let p = PredicateInfo {
///     path: "match.metric".into(),
///     id: None,
///     predicate: "avg(cpu[5m]) > 0.9".into(),
///     op: Some(Comparison::Gt),
///     threshold: Some(0.9),
///     window: Some(Duration::from_secs(300)),
/// };
/// assert_eq!(p.path, "match.metric");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "What a predicate is: where it sits, how it reads, what it compares against.")]
pub struct PredicateInfo {
    /// Where the predicate sits in the signature (`match.all[1].metric`).
    pub path: String,
    /// The predicate's id, when it has one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    /// The predicate rendered for people (`avg(cpu[5m]) > 0.9`).
    pub predicate: String,
    /// The comparison, for predicates that compare.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub op: Option<Comparison>,
    /// The threshold, for predicates that compare.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub threshold: Option<f64>,
    /// The window the value covers.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub window: Option<Duration>,
}

/// One predicate as evaluated: what was observed, against what, and whether
/// it held. Users read these to see which sub-condition failed.
///
/// In the document the predicate's fields come first (`path`, `id`,
/// `predicate`, `op`, `threshold`, `window`), then `observed`,
/// `satisfied`, `role` (and `weight`) and `note`.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use healbot_core::diagnosis::{EvidenceItem, PredicateInfo, Role};
/// use healbot_core::spec::Comparison;
/// use healbot_core::Duration;
///
/// let cpu = Arc::new(PredicateInfo {
///     path: "match.metric".into(),
///     id: None,
///     predicate: "avg(cpu[5m]) > 0.9".into(),
///     op: Some(Comparison::Gt),
///     threshold: Some(0.9),
///     window: Some(Duration::from_secs(300)),
/// });
/// let e = EvidenceItem { about: cpu, observed: Some(0.95), satisfied: true, role: Role::Required, note: None };
/// assert!(e.satisfied);
/// assert_eq!(serde_json::to_value(&e).unwrap()["predicate"], "avg(cpu[5m]) > 0.9");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "One predicate as evaluated: what was observed, against what, and whether it held.")]
pub struct EvidenceItem {
    /// The predicate evaluated (shared with the compiled signature).
    #[serde(flatten)]
    pub about: Arc<PredicateInfo>,
    /// The observed value; `None` when there was no data.
    pub observed: Option<f64>,
    /// Whether the predicate held.
    pub satisfied: bool,
    /// Required, evidence (with its weight) or exception.
    #[serde(flatten)]
    pub role: Role,
    /// A short remark (`no data`, `stale for 4m`, `3 of 4 held`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
}

/// A signature that matched on a node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// The signature id.
    pub signature: Name,
    /// The signature's index in the library.
    pub signature_index: usize,
    /// The node.
    pub node: NodeId,
    /// The node's id.
    pub node_id: Name,
    /// The signature's category.
    pub category: Category,
    /// The signature's severity.
    pub severity: SignatureSeverity,
    /// Stable or experimental.
    pub status: Status,
    /// When the match condition first held (Unix ms), before `for`.
    pub onset: i64,
    /// The evaluation time (Unix ms).
    pub at: i64,
    /// Every predicate of `match` and `evidence`, evaluated.
    pub evidence: Vec<EvidenceItem>,
    /// Sum of the weights of the evidence items that held (the evidence
    /// term of the confidence, before coverage scaling).
    #[serde(default)]
    pub evidence_weight: f64,
    /// Share of the series the signature reads that had fresh data, in [0, 1].
    pub coverage: f64,
    /// Whether the diagnosis comes from a forecast predicate (a notice, never
    /// a destructive action).
    pub forecast: bool,
}
