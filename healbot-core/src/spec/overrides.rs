//! The `Overrides` document: tuning a library by id without forking it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::signature::{SignatureSeverity, Status};
use crate::Duration;

/// The `spec` of an `Overrides` document. Overrides apply after every
/// library is loaded, in the order the documents were given.
///
/// # Example
///
/// ```yaml
/// spec:
///   signatures:
///     - id: db.pool_exhausted
///       status: experimental
///       thresholds: {pool_usage: 0.95}
///       actions: {append: [page_dba]}
///   actions:
///     - id: restart_service
///       min_confidence: 0.95
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverridesSpec {
    /// Changes to signatures, by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<SignatureOverride>,
    /// Changes to actions, by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionOverride>,
}

/// Changes to one signature.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureOverride {
    /// The signature to change.
    pub id: String,
    /// New status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// New severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<SignatureSeverity>,
    /// New prior probability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<f64>,
    /// New `for`.
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    pub for_: Option<Duration>,
    /// New thresholds, by predicate id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub thresholds: BTreeMap<String, f64>,
    /// New evidence weights, by evidence id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub weights: BTreeMap<String, f64>,
    /// Changes to the remediation list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<ActionListChange>,
}

/// `{replace: [...]}` or `{append: [...]}` (both: replace, then append).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionListChange {
    /// The new list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<Vec<String>>,
    /// Ids added at the end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub append: Vec<String>,
}

/// Changes to one action.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionOverride {
    /// The action to change.
    pub id: String,
    /// New confidence needed to run unattended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_confidence: Option<f64>,
}
