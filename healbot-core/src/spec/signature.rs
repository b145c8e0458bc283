//! The `SignatureLibrary` document: failure signatures, their condition
//! trees, evidence and remediation lists, plus reusable lists and macros.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::matcher::LabelMatcher;
use super::topology::NodeKind;
use super::Aggregation;
use crate::Duration;

/// The `spec` of a `SignatureLibrary` document.
///
/// # Example
///
/// ```yaml
/// spec:
///   lists:
///     oom_words: [OutOfMemoryError, "Cannot allocate memory"]
///   macros:
///     errors_high:
///       metric: {name: http_requests_errors_ratio, agg: avg, window: 5m, op: ">", threshold: 0.05}
///   signatures:
///     - id: svc.error_spike
///       title: Error rate spike
///       category: errors
///       severity: critical
///       match: {macro: errors_high}
///       actions: [rollback_deploy]
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureLibrarySpec {
    /// Named lists of strings, referenced by `in_list` in log predicates and
    /// `list` in exceptions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lists: BTreeMap<String, Vec<String>>,
    /// Named condition fragments, referenced by `{macro: name}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub macros: BTreeMap<String, Condition>,
    /// The signatures.
    #[serde(default)]
    pub signatures: Vec<Signature>,
}

/// A known failure pattern.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Unique id across every loaded library (`db.pool_exhausted`).
    pub id: String,
    /// One-line title.
    pub title: String,
    /// What the failure is and why it matters.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The class of failure; decides whether it propagates to dependents.
    pub category: Category,
    /// How bad the failure is.
    pub severity: SignatureSeverity,
    /// Stable, experimental (never runs unattended) or disabled.
    #[serde(default, skip_serializing_if = "is_default")]
    pub status: Status,
    /// Prior probability that a match is a true failure (default 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<f64>,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Known false positives, for the person reviewing a decision.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub false_positives: Vec<String>,
    /// A runbook for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_url: Option<String>,
    /// Which nodes the signature is evaluated on.
    #[serde(default, skip_serializing_if = "is_default")]
    pub applies_to: AppliesTo,
    /// The required condition tree.
    #[serde(rename = "match")]
    pub match_: Condition,
    /// How long `match` must hold before the signature fires (Prometheus `for`).
    #[serde(rename = "for", default, skip_serializing_if = "is_zero")]
    pub for_: Duration,
    /// Supporting (positive weight) or contradicting (negative weight) evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// Structured exceptions: a match on a node they select is suppressed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Exception>,
    /// Remediation action ids, in order of preference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Failure classes. `unavailable`, `latency`, `errors` and `saturation`
/// propagate along `depends_on` to dependents; the others stay local.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The node is down or unreachable.
    Unavailable,
    /// The node is slow.
    Latency,
    /// The node returns errors.
    Errors,
    /// A shared resource of the node (pool, threads, queue) is saturated.
    Saturation,
    /// A local resource is exhausted or leaking (memory, disk, CPU).
    Resource,
    /// A configuration or certificate problem.
    Configuration,
    /// A bad deploy or release.
    Deployment,
    /// A forecast capacity problem.
    Capacity,
    /// Anything else.
    Other,
}

impl Category {
    /// Whether a failure of this class on a dependency explains failures of
    /// its dependents.
    pub fn propagates(self) -> bool {
        matches!(self, Category::Unavailable | Category::Latency | Category::Errors | Category::Saturation)
    }

    /// The snake_case spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Unavailable => "unavailable",
            Category::Latency => "latency",
            Category::Errors => "errors",
            Category::Saturation => "saturation",
            Category::Resource => "resource",
            Category::Configuration => "configuration",
            Category::Deployment => "deployment",
            Category::Capacity => "capacity",
            Category::Other => "other",
        }
    }
}

/// How bad a failure is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureSeverity {
    /// Worth knowing.
    Info,
    /// Degradation.
    Warning,
    /// Outage or imminent outage.
    Critical,
}

impl SignatureSeverity {
    /// The snake_case spelling, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureSeverity::Info => "info",
            SignatureSeverity::Warning => "warning",
            SignatureSeverity::Critical => "critical",
        }
    }
}

/// Lifecycle of a signature.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Evaluated; may run actions unattended.
    #[default]
    Stable,
    /// Evaluated; its decisions always escalate to a person.
    Experimental,
    /// Loaded and validated, never evaluated.
    Disabled,
}

impl Status {
    /// The snake_case spelling, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Stable => "stable",
            Status::Experimental => "experimental",
            Status::Disabled => "disabled",
        }
    }
}

/// The node selector of a signature: kinds (any of) and label matchers (all of).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppliesTo {
    /// Node kinds; empty means every kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<NodeKind>,
    /// Matchers over the node's labels (and `id`, `kind`), ANDed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<LabelMatcher>,
}

/// A condition: a predicate, or a combinator over conditions. Written as a
/// single-key map: `{all: [...]}`, `{metric: {...}}`, `{macro: name}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Every condition holds.
    All(Vec<Condition>),
    /// At least one condition holds.
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
    /// At least `n` of the conditions hold.
    AtLeast(AtLeast),
    /// A metric aggregate compared with a threshold.
    Metric(MetricPredicate),
    /// Log lines matching a pattern, counted over a window.
    Log(LogPredicate),
    /// Kubernetes events with a reason, counted over a window.
    Event(EventPredicate),
    /// An alert is firing on the node.
    Alert(AlertPredicate),
    /// A metric has had no samples for a duration.
    Absent(AbsentPredicate),
    /// A dependency of a kind is healthy or unhealthy.
    Dependency(DependencyPredicate),
    /// The node has at least N healthy replicas.
    Replicas(ReplicasPredicate),
    /// A metric is predicted to cross a threshold within a horizon.
    Forecast(ForecastPredicate),
    /// A named macro from the library's `macros`.
    Macro(String),
}

/// `at_least: {n: 2, of: [...]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AtLeast {
    /// How many must hold (1 ≤ n ≤ len(of)).
    pub n: u32,
    /// The conditions.
    pub of: Vec<Condition>,
}

/// A comparison with a threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Comparison {
    /// Greater than.
    #[serde(rename = ">")]
    Gt,
    /// Greater than or equal.
    #[serde(rename = ">=")]
    Ge,
    /// Less than.
    #[serde(rename = "<")]
    Lt,
    /// Less than or equal.
    #[serde(rename = "<=")]
    Le,
    /// Equal.
    #[serde(rename = "==")]
    Eq,
    /// Not equal.
    #[serde(rename = "!=")]
    Ne,
}

impl Comparison {
    /// Applies the comparison; NaN never satisfies any comparison but `!=`.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::spec::Comparison;
    /// assert!(Comparison::Gt.holds(0.9, 0.8));
    /// assert!(!Comparison::Gt.holds(f64::NAN, 0.8));
    /// ```
    pub fn holds(self, observed: f64, threshold: f64) -> bool {
        match self {
            Comparison::Gt => observed > threshold,
            Comparison::Ge => observed >= threshold,
            Comparison::Lt => observed < threshold,
            Comparison::Le => observed <= threshold,
            Comparison::Eq => observed == threshold,
            Comparison::Ne => observed != threshold,
        }
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Eq => "==",
            Comparison::Ne => "!=",
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn ge() -> Comparison {
    Comparison::Ge
}
fn one() -> f64 {
    1.0
}
fn is_ge(c: &Comparison) -> bool {
    *c == Comparison::Ge
}
fn is_one(v: &f64) -> bool {
    *v == 1.0
}

/// `metric: {name, labels, agg, window, op, threshold}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricPredicate {
    /// Optional id, for overrides and evidence reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The metric name.
    pub name: String,
    /// Matchers over the sample's labels, ANDed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<LabelMatcher>,
    /// The aggregate over the window (default `last`).
    #[serde(default = "last", skip_serializing_if = "is_last")]
    pub agg: Aggregation,
    /// The quantile for `agg: quantile`, in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<f64>,
    /// The window the aggregate covers.
    pub window: Duration,
    /// The comparison.
    pub op: Comparison,
    /// The threshold.
    pub threshold: f64,
}

fn last() -> Aggregation {
    Aggregation::Last
}
fn is_last(a: &Aggregation) -> bool {
    *a == Aggregation::Last
}

/// `log: {contains: [...], window, op, threshold}`: exactly one of `regex`,
/// `contains`, `contains_any`, `startswith`, `endswith`, `in_list`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogPredicate {
    /// Optional id, for overrides and evidence reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A linear-time regular expression searched anywhere in the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Every one of these substrings occurs (Sigma `contains|all`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contains: Vec<String>,
    /// At least one of these substrings occurs (Sigma `contains`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contains_any: Vec<String>,
    /// The line starts with this (Sigma `startswith`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startswith: Option<String>,
    /// The line ends with this (Sigma `endswith`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endswith: Option<String>,
    /// At least one string of the named list occurs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_list: Option<String>,
    /// Compare case-insensitively.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub case_insensitive: bool,
    /// The window matches are counted over.
    pub window: Duration,
    /// The comparison (default `>=`).
    #[serde(default = "ge", skip_serializing_if = "is_ge")]
    pub op: Comparison,
    /// The threshold on the count (default 1).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub threshold: f64,
}

/// `event: {reason: BackOff, window: 10m}`: Kubernetes events on the node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventPredicate {
    /// Optional id, for overrides and evidence reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The event reason (`BackOff`, `OOMKilling`, `FailedScheduling`).
    pub reason: String,
    /// Only `Warning` (or `Normal`) events; any type when absent.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub event_type: Option<EventTypeFilter>,
    /// The window events are counted over (with their `count`).
    pub window: Duration,
    /// The comparison (default `>=`).
    #[serde(default = "ge", skip_serializing_if = "is_ge")]
    pub op: Comparison,
    /// The threshold on the count (default 1).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub threshold: f64,
}

/// The type of a Kubernetes event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum EventTypeFilter {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

/// `alert: {name: KubePodCrashLooping, labels: [...]}`: an alert firing on the node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertPredicate {
    /// Optional id, for overrides and evidence reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The alert name (`alertname` label).
    pub name: String,
    /// Matchers over the alert's labels, ANDed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<LabelMatcher>,
}

/// `absent: {metric: up, for: 5m}`: no sample of the metric on the node for a duration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AbsentPredicate {
    /// Optional id, for overrides and evidence reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The metric name.
    pub metric: String,
    /// Matchers over the sample's labels, ANDed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<LabelMatcher>,
    /// How long without samples.
    #[serde(rename = "for")]
    pub for_: Duration,
}

/// The health a dependency predicate asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// No active diagnosis and not marked unhealthy by the host.
    Healthy,
    /// An active diagnosis, or marked unhealthy by the host.
    Unhealthy,
}

/// `dependency: {kind: database, state: unhealthy}`.
///
/// `unhealthy` holds when any dependency of the kind is unhealthy; `healthy`
/// holds when there is at least one and all are healthy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DependencyPredicate {
    /// Optional id, for overrides and evidence reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The kind of dependency; any kind when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<NodeKind>,
    /// The state asked for.
    pub state: HealthState,
    /// Consider transitive dependencies, not only direct ones.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub transitive: bool,
}

/// `replicas: {min_healthy: 2}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplicasPredicate {
    /// Optional id, for overrides and evidence reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The node has at least this many healthy replicas.
    pub min_healthy: u32,
}

/// `forecast: {metric, window, op, threshold, within}`: a least-squares
/// trend over `window` crosses the threshold within the horizon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForecastPredicate {
    /// Optional id, for overrides and evidence reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The metric name.
    pub metric: String,
    /// Matchers over the sample's labels, ANDed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<LabelMatcher>,
    /// The history the trend is fitted over.
    pub window: Duration,
    /// `>`/`>=` for a rising metric, `<`/`<=` for a falling one.
    pub op: Comparison,
    /// The threshold.
    pub threshold: f64,
    /// The horizon.
    pub within: Duration,
}

/// A supporting or contradicting piece of evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Optional id, for overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What the evidence means, for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// When it holds.
    pub when: Condition,
    /// Log-odds added when it holds; negative weights contradict.
    pub weight: f64,
}

/// A structured exception: `field` compared with `values` (or a named list).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// `node.id`, `node.kind`, `node.tier` or `node.label.<key>`.
    pub field: String,
    /// How the field is compared.
    pub op: ExceptionOp,
    /// The values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// A named list whose values are added to `values`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
    /// Why the exception exists, shown when it suppresses a match.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// Comparisons for exceptions. There is no free-form negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionOp {
    /// The field equals one of the values.
    In,
    /// The field starts with one of the values.
    Prefix,
    /// The field ends with one of the values.
    Suffix,
    /// The field contains one of the values.
    Contains,
}

fn is_zero(d: &Duration) -> bool {
    d.is_zero()
}
