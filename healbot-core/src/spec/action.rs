//! The `ActionLibrary` document: pre-validated remediations and their guards.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::matcher::LabelMatcher;
use super::topology::NodeKind;
use crate::Duration;

/// The `spec` of an `ActionLibrary` document.
///
/// # Example
///
/// ```yaml
/// spec:
///   actions:
///     - id: flush_pool
///       title: Flush the connection pool
///       operation: flush_connection_pool
///       target: self
///       risk: low
///       min_confidence: 0.8
///       guards:
///         - dependencies_healthy: {kinds: [database]}
///         - cooldown: 10m
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionLibrarySpec {
    /// The actions.
    #[serde(default)]
    pub actions: Vec<Action>,
}

/// A pre-validated remediation. HealBot chooses it; the host executes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// Unique id across every loaded library.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// What the action does.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The opaque verb the host executes (`restart`, `scale_out`, `failover`).
    pub operation: String,
    /// The node the action acts on.
    #[serde(default, skip_serializing_if = "is_self")]
    pub target: Target,
    /// Parameters passed to the host verbatim.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// How risky the action is; `destructive` never runs unattended.
    pub risk: Risk,
    /// The confidence, in [0, 1], needed to run unattended.
    pub min_confidence: f64,
    /// Checks against topology and history; all must pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guards: Vec<Guard>,
}

fn is_self(t: &Target) -> bool {
    *t == Target::SelfNode
}

/// What an action acts on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The diagnosed node.
    #[default]
    #[serde(rename = "self")]
    SelfNode,
    /// The node named as root cause (the diagnosed node when it is one).
    RootCause,
    /// The first dependency (by id) that the selector picks.
    Dependency(DependencySelector),
}

/// Picks a dependency of the diagnosed node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DependencySelector {
    /// The kind of dependency.
    pub kind: NodeKind,
    /// Matchers over the dependency's labels, ANDed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<LabelMatcher>,
}

/// Risk of an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Reversible, no user impact.
    Low,
    /// Brief user impact possible.
    Medium,
    /// User impact likely; unattended only with high confidence.
    High,
    /// Loses data or capacity; never unattended.
    Destructive,
}

impl Risk {
    /// The snake_case spelling, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Destructive => "destructive",
        }
    }
}

/// A check an action must pass. Written as a single-key map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Guard {
    /// Dependencies of these kinds (all kinds when empty) must be healthy.
    DependenciesHealthy(DependenciesHealthy),
    /// At least this many healthy replicas must remain after the action.
    MinHealthyReplicas(u32),
    /// The target's blast radius must not exceed this.
    MaxBlastRadius(MaxBlastRadius),
    /// The same action on the same target not again within this duration.
    Cooldown(Duration),
    /// At most `max` executions per `per` within a group.
    Throttle(Throttle),
    /// At most `max` executions in flight (no outcome yet) within a group.
    MaxConcurrent(MaxConcurrent),
    /// At most `max` unattended executions per rolling `per`, engine-wide.
    Budget(Budget),
    /// After `failures` consecutive failed outcomes, stop until `reset_after`.
    CircuitBreaker(CircuitBreaker),
    /// Never unattended inside these windows.
    Freeze(Freeze),
}

/// `dependencies_healthy: {kinds: [database], transitive: false}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DependenciesHealthy {
    /// The kinds; every kind when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<NodeKind>,
    /// Check transitive dependencies too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub transitive: bool,
}

/// `max_blast_radius: {max: 20, tier_weighted: true}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaxBlastRadius {
    /// The limit: a node count, or a tier-weighted sum when `tier_weighted`.
    pub max: f64,
    /// Weight each dependent by its tier (1 → 8, 2 → 4, 3 → 2, 4 → 1).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tier_weighted: bool,
}

/// `throttle: {key: node.label.team, max: 3, per: 1h}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    /// The grouping key: `node.id`, `node.kind`, `node.label.<key>`, `action`.
    pub key: String,
    /// Executions allowed per group.
    pub max: u32,
    /// The rolling period.
    pub per: Duration,
}

/// `max_concurrent: {key: node.label.team, max: 1}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaxConcurrent {
    /// The grouping key, as for throttles.
    pub key: String,
    /// Executions allowed in flight per group.
    pub max: u32,
    /// An execution with no outcome after this long no longer counts as in flight.
    #[serde(default = "thirty_minutes")]
    pub timeout: Duration,
}

fn thirty_minutes() -> Duration {
    Duration::from_secs(1800)
}

/// `budget: {max: 10, per: 1h}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Unattended executions allowed per period.
    pub max: u32,
    /// The rolling period (default 1h).
    #[serde(default = "one_hour")]
    pub per: Duration,
}

fn one_hour() -> Duration {
    Duration::from_secs(3600)
}

/// `circuit_breaker: {failures: 3, reset_after: 1h}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreaker {
    /// Consecutive failed outcomes that open the breaker.
    pub failures: u32,
    /// After this long the breaker lets one attempt through (half-open);
    /// a successful outcome closes it.
    pub reset_after: Duration,
}

/// `freeze: {timezone: Europe/Berlin, windows: [...]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Freeze {
    /// An IANA time zone (`Europe/Berlin`, `UTC`).
    pub timezone: String,
    /// The windows; a weekly window has `days`, `start`, `end`; a one-off
    /// window has `from` and `to` (civil date-times in the time zone).
    pub windows: Vec<FreezeWindow>,
}

/// One freeze window: weekly (`days` + `start`/`end` as `HH:MM`, end
/// exclusive, `24:00` allowed) or one-off (`from`/`to` as
/// `YYYY-MM-DDTHH:MM:SS`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FreezeWindow {
    /// Days of the week (`mon` … `sun`); every day when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<Weekday>,
    /// Start of the daily window, `HH:MM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// End of the daily window, `HH:MM` (exclusive; `24:00` is midnight).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Start of a one-off window, civil date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// End of a one-off window, civil date-time (exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}
