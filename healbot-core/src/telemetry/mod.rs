//! Telemetry observations and the native parsers that produce them.
//!
//! The host hands HealBot telemetry as bytes in one of the formats of
//! [`PayloadFormat`]; a parser turns them into [`Observation`]s: metric
//! samples, log records, alerts and events. The core never reads a clock:
//! every timestamp is Unix milliseconds (`i64`), taken from the payload or
//! from a `default_at` the caller passes.
//!
//! ## Contract of every parser
//!
//! - **Nothing panics**, on any input.
//! - **Every malformed record is reported** as a [`RecordError`] with its
//!   1-based line and column (columns count characters) and, for JSON
//!   formats, the index of the record in the payload; the good records are
//!   kept. A record that has an error is not kept.
//! - **A payload that cannot be read at all** (over
//!   [`Limits::max_payload_bytes`], not UTF-8 JSON, not JSON, not the
//!   expected top-level shape) is a [`TelemetryError`].
//! - **Memory is bounded by [`Limits`]**: a record with too many label pairs,
//!   an overlong label or an overlong log line is dropped and counted by
//!   reason in [`Parsed::dropped`]; records past [`Limits::max_records`] are
//!   counted too. Nothing is silently lost.
//! - **Output is deterministic**: labels are sorted, records keep payload order.
//! - **64-bit integers never pass through `f64`**: OTLP `timeUnixNano`,
//!   `asInt`, `count` and `bucketCounts` are read as integers from JSON
//!   strings or numbers; the exact integer of a sample is kept in
//!   [`MetricSample::exact`].
//!
//! ## Example
//!
//! ```
//! use healbot_core::telemetry::{parse, Limits, Observation, PayloadFormat};
//!
//! let text = b"# TYPE http_requests_total counter\n\
//!              http_requests_total{service=\"checkout\",code=\"500\"} 42\n\
//!              bad line here\n";
//! let parsed = parse(PayloadFormat::PrometheusText, text, 1_700_000_000_000, &Limits::default()).unwrap();
//! assert_eq!(parsed.observations.len(), 1);
//! assert_eq!(parsed.errors.len(), 1);
//! assert_eq!(parsed.errors[0].line, 3);
//! let Observation::Metric(m) = &parsed.observations[0] else { unreachable!() };
//! assert_eq!(m.labels.get("service"), Some("checkout"));
//! assert_eq!(m.at, 1_700_000_000_000);
//! ```

use std::fmt;
use std::str::FromStr;

use serde::ser::SerializeMap;
use serde::Serialize;

mod alertmanager;
mod common;
mod k8s;
mod ndjson;
mod otlp;
mod pagerduty;
mod prometheus;
#[cfg(test)]
mod test_util;

pub use alertmanager::parse_alertmanager;
pub use k8s::{derive_app_name, parse_k8s_events};
pub use ndjson::parse_ndjson;
pub(crate) use ndjson::{for_each_record as for_each_ndjson_record, LogRef, MetricRef, Record as NdjsonRecord};
pub use otlp::{parse_otlp_logs, parse_otlp_metrics};
pub use pagerduty::parse_pagerduty;
pub use prometheus::parse_prometheus_text;

/// A set of label pairs with unique keys, kept sorted by key so that
/// iteration, equality, hashing and serialisation are deterministic.
///
/// # Example
///
/// ```
/// use healbot_core::telemetry::Labels;
///
/// let labels: Labels = [("service", "checkout"), ("env", "prod"), ("service", "cart")]
///     .into_iter()
///     .collect();
/// assert_eq!(labels.get("service"), Some("cart")); // the last value wins
/// let keys: Vec<&str> = labels.iter().map(|(k, _)| k).collect();
/// assert_eq!(keys, ["env", "service"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    /// An empty set.
    pub fn new() -> Labels {
        Labels(Vec::new())
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok().and_then(|i| self.0.get(i)).map(|(_, v)| v.as_str())
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`, replacing any previous value; returns the old one.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let key = key.into();
        let value = value.into();
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
            Ok(i) => self.0.get_mut(i).map(|slot| std::mem::replace(&mut slot.1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
            Ok(i) => Some(self.0.remove(i).1),
            Err(_) => None,
        }
    }

    /// The pairs, sorted by key.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no pair.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Labels {
    /// Collects pairs; when a key repeats, the last value wins.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Labels {
        let mut pairs: Vec<(String, String)> = iter.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        // Stable sort keeps payload order among equal keys; keep the last.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => out.push((k, v)),
            }
        }
        Labels(out)
    }
}

impl<'de> serde::Deserialize<'de> for Labels {
    /// Reads a map (or list of pairs); keys are sorted and made unique as
    /// [`Labels`] requires, the last value of a repeated key winning.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Labels, D::Error> {
        let map = std::collections::BTreeMap::<String, String>::deserialize(d)?;
        Ok(Labels(map.into_iter().collect()))
    }
}

impl Serialize for Labels {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// How a metric's points relate to each other over time (OTLP
/// `aggregationTemporality`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Temporality {
    /// Not stated by the source.
    Unspecified,
    /// Each point covers only the interval since the previous one (OTLP 1).
    Delta,
    /// Each point covers everything since a fixed start (OTLP 2; Prometheus counters).
    Cumulative,
}

/// The type of the series a sample belongs to, from a Prometheus `# TYPE`
/// line or the OTLP metric data kind.
///
/// Temporality and monotonicity are kept here, as fields, rather than as
/// labels, so that they never change a series' identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum MetricKind {
    /// No type was declared.
    Untyped,
    /// A value that goes up and down.
    Gauge,
    /// A sum (Prometheus counter, OTLP sum).
    Sum {
        /// Whether the sum only grows (a counter).
        monotonic: bool,
        /// Delta or cumulative.
        temporality: Temporality,
    },
    /// A part of a histogram: `_bucket` (with `le`), `_sum` or `_count`.
    Histogram {
        /// Delta or cumulative.
        temporality: Temporality,
    },
    /// A part of a summary: a quantile (with `quantile`), `_sum` or `_count`.
    Summary,
}

/// One metric sample.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricSample {
    /// The metric name, e.g. `http_requests_total` or `http_duration_seconds_bucket`.
    pub name: String,
    /// The series labels.
    pub labels: Labels,
    /// The value (for an integer source, the nearest `f64`).
    pub value: f64,
    /// The exact value when the source carried an integer that fits `i64`
    /// (OTLP `asInt`, counts and buckets; an integer literal in Prometheus
    /// text or NDJSON), so that values above 2^53 are not rounded.
    pub exact: Option<i64>,
    /// The series type.
    pub kind: MetricKind,
    /// When, in Unix milliseconds.
    pub at: i64,
}

impl MetricSample {
    /// An untyped sample with no exact integer.
    pub fn new(name: impl Into<String>, labels: Labels, value: f64, at: i64) -> MetricSample {
        MetricSample { name: name.into(), labels, value, exact: None, kind: MetricKind::Untyped, at }
    }
}

/// The severity of a log record, in OpenTelemetry's six ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogSeverity {
    /// OTLP 1–4.
    Trace,
    /// OTLP 5–8.
    Debug,
    /// OTLP 9–12.
    Info,
    /// OTLP 13–16.
    Warn,
    /// OTLP 17–20.
    Error,
    /// OTLP 21–24.
    Fatal,
}

impl LogSeverity {
    /// The severity of an OTLP `severityNumber` (1–24); `None` for 0 (unset)
    /// or out of range.
    pub fn from_otlp_number(n: i64) -> Option<LogSeverity> {
        Some(match n {
            1..=4 => LogSeverity::Trace,
            5..=8 => LogSeverity::Debug,
            9..=12 => LogSeverity::Info,
            13..=16 => LogSeverity::Warn,
            17..=20 => LogSeverity::Error,
            21..=24 => LogSeverity::Fatal,
            _ => return None,
        })
    }

    /// The lowercase name: `trace`, `debug`, `info`, `warn`, `error`, `fatal`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogSeverity::Trace => "trace",
            LogSeverity::Debug => "debug",
            LogSeverity::Info => "info",
            LogSeverity::Warn => "warn",
            LogSeverity::Error => "error",
            LogSeverity::Fatal => "fatal",
        }
    }
}

impl FromStr for LogSeverity {
    type Err = String;

    /// Reads a severity name, case-insensitively, with common synonyms
    /// (`warning`, `err`, `critical`, `crit`, `panic`, `emerg`, `alert`,
    /// `notice`, `information`) and OTLP's numbered texts (`INFO2`, `ERROR3`…).
    fn from_str(s: &str) -> Result<LogSeverity, String> {
        let lower = s.trim().to_ascii_lowercase();
        let base = lower.trim_end_matches(|c: char| c.is_ascii_digit());
        Ok(match base {
            "trace" => LogSeverity::Trace,
            "debug" => LogSeverity::Debug,
            "info" | "information" | "informational" | "notice" => LogSeverity::Info,
            "warn" | "warning" => LogSeverity::Warn,
            "error" | "err" => LogSeverity::Error,
            "fatal" | "critical" | "crit" | "panic" | "emerg" | "emergency" | "alert" => LogSeverity::Fatal,
            _ => return Err(format!("unknown log severity `{s}`")),
        })
    }
}

impl fmt::Display for LogSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One log record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogRecord {
    /// The message.
    pub body: String,
    /// Attributes (for OTLP: resource, then scope, then record attributes;
    /// the later wins), used to attach the record to a node.
    pub attributes: Labels,
    /// The severity, when the source gave one.
    pub severity: Option<LogSeverity>,
    /// When, in Unix milliseconds.
    pub at: i64,
}

/// Whether an alert is firing or resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// The alert is active.
    Firing,
    /// The alert has ended.
    Resolved,
}

impl AlertStatus {
    /// `firing` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// One alert, in Alertmanager's model.
#[derive(Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The alert name (`labels["alertname"]`).
    pub name: String,
    /// The identifying labels (including `alertname`).
    pub labels: Labels,
    /// Descriptive annotations (summary, description, runbook…).
    pub annotations: Labels,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// When it started, Unix milliseconds.
    pub starts_at: i64,
    /// When it ended; `None` while firing with no known end.
    pub ends_at: Option<i64>,
    /// A stable identity of the alert (given by the source, or FNV-1a 64 of
    /// the sorted labels in hex).
    pub fingerprint: String,
    /// A link back to the source.
    pub generator_url: Option<String>,
}

impl fmt::Debug for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written by hand so that the field set printed is explicit: no
        // source secret (such as a PagerDuty routing key) is ever stored here.
        f.debug_struct("Alert")
            .field("name", &self.name)
            .field("labels", &self.labels)
            .field("annotations", &self.annotations)
            .field("status", &self.status)
            .field("starts_at", &self.starts_at)
            .field("ends_at", &self.ends_at)
            .field("fingerprint", &self.fingerprint)
            .field("generator_url", &self.generator_url)
            .finish()
    }
}

/// The type of a Kubernetes event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum EventType {
    /// An ordinary event.
    Normal,
    /// Something may be wrong.
    Warning,
}

/// The object an event is about.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct ObjectRef {
    /// e.g. `Pod`, `Deployment`, `Node`.
    pub kind: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    /// The object name.
    pub name: String,
}

/// One event, in Kubernetes' model (core `v1` and `events.k8s.io/v1`
/// normalised to one shape).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// Normal or Warning.
    pub event_type: EventType,
    /// A short machine-readable reason, e.g. `BackOff`, `OOMKilling`.
    pub reason: String,
    /// The human-readable message (`message` in v1, `note` in events.k8s.io/v1).
    pub message: String,
    /// The object the event is about.
    pub object: ObjectRef,
    /// How many times it occurred (at least 1).
    pub count: u64,
    /// First occurrence, Unix milliseconds.
    pub first_at: i64,
    /// Last occurrence, Unix milliseconds.
    pub last_at: i64,
    /// The component or controller that reported it.
    pub source: Option<String>,
    /// Labels used to attach it to a node: `namespace`, `name`, `kind`, and
    /// `app`/`service` derived from the object name (see [`derive_app_name`]).
    pub labels: Labels,
}

/// One piece of telemetry.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Observation {
    /// A metric sample.
    Metric(MetricSample),
    /// A log record.
    Log(LogRecord),
    /// An alert.
    Alert(Alert),
    /// A Kubernetes-style event.
    Event(Event),
}

impl Observation {
    /// When it happened, Unix milliseconds: a sample's or log's time, an
    /// alert's `starts_at` (its `ends_at` when resolved), an event's `last_at`.
    pub fn at(&self) -> i64 {
        match self {
            Observation::Metric(m) => m.at,
            Observation::Log(l) => l.at,
            Observation::Alert(a) => match (a.status, a.ends_at) {
                (AlertStatus::Resolved, Some(end)) => end,
                _ => a.starts_at,
            },
            Observation::Event(e) => e.last_at,
        }
    }

    /// The labels used to attach it to a topology node: a sample's labels, a
    /// log's attributes, an alert's labels, an event's labels.
    pub fn labels(&self) -> &Labels {
        match self {
            Observation::Metric(m) => &m.labels,
            Observation::Log(l) => &l.attributes,
            Observation::Alert(a) => &a.labels,
            Observation::Event(e) => &e.labels,
        }
    }
}

/// A malformed record: where it is and what is wrong. The record is not kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordError {
    /// 1-based line in the payload.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// The index of the record in the payload for JSON formats: the alert in
    /// `alerts[]`, the log record or metric counted across all resources and
    /// scopes, the event in a list. `None` for line formats (Prometheus text,
    /// NDJSON), where the line says it, and for an error above record level.
    pub record: Option<usize>,
    /// What is wrong. Never contains a secret of the payload.
    pub message: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.line, self.column)?;
        if let Some(r) = self.record {
            write!(f, "record {r}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Why a well-formed record was dropped by a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// More label (or attribute, or annotation) pairs than [`Limits::max_label_pairs`].
    TooManyLabels,
    /// A label key or value longer than [`Limits::max_label_value_len`] bytes.
    LabelValueTooLong,
    /// A log body or event message longer than [`Limits::max_log_line_len`] bytes.
    LogLineTooLong,
    /// Past [`Limits::max_records`] observations.
    TooManyRecords,
    /// The same alert twice in one payload (same fingerprint and start).
    Duplicate,
    /// A well-formed record of a kind HealBot does not read (OTLP
    /// exponential histograms, points flagged as having no recorded value).
    Unsupported,
}

/// How many records each limit dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct DropCounts {
    /// See [`DropReason::TooManyLabels`].
    pub too_many_labels: u64,
    /// See [`DropReason::LabelValueTooLong`].
    pub label_value_too_long: u64,
    /// See [`DropReason::LogLineTooLong`].
    pub log_line_too_long: u64,
    /// See [`DropReason::TooManyRecords`].
    pub too_many_records: u64,
    /// See [`DropReason::Duplicate`].
    pub duplicate: u64,
    /// See [`DropReason::Unsupported`].
    pub unsupported: u64,
}

impl DropCounts {
    /// The count for one reason.
    pub fn get(&self, reason: DropReason) -> u64 {
        match reason {
            DropReason::TooManyLabels => self.too_many_labels,
            DropReason::LabelValueTooLong => self.label_value_too_long,
            DropReason::LogLineTooLong => self.log_line_too_long,
            DropReason::TooManyRecords => self.too_many_records,
            DropReason::Duplicate => self.duplicate,
            DropReason::Unsupported => self.unsupported,
        }
    }

    /// Counts one more drop for `reason`.
    pub fn add(&mut self, reason: DropReason) {
        let slot = match reason {
            DropReason::TooManyLabels => &mut self.too_many_labels,
            DropReason::LabelValueTooLong => &mut self.label_value_too_long,
            DropReason::LogLineTooLong => &mut self.log_line_too_long,
            DropReason::TooManyRecords => &mut self.too_many_records,
            DropReason::Duplicate => &mut self.duplicate,
            DropReason::Unsupported => &mut self.unsupported,
        };
        *slot = slot.saturating_add(1);
    }

    /// All drops together.
    pub fn total(&self) -> u64 {
        [
            self.too_many_labels,
            self.label_value_too_long,
            self.log_line_too_long,
            self.too_many_records,
            self.duplicate,
            self.unsupported,
        ]
        .iter()
        .fold(0u64, |a, b| a.saturating_add(*b))
    }
}

/// What a parser produced from one payload.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Parsed {
    /// The good records, in payload order.
    pub observations: Vec<Observation>,
    /// Every malformed record, in payload order.
    pub errors: Vec<RecordError>,
    /// Well-formed records dropped by a limit, by reason.
    pub dropped: DropCounts,
}

/// Bounds on what one payload may cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// The largest payload read at all (default 16 MiB); larger is a
    /// [`TelemetryError::PayloadTooLarge`].
    pub max_payload_bytes: usize,
    /// The most label pairs of a record (default 64).
    pub max_label_pairs: usize,
    /// The longest label key or value, in bytes (default 4096).
    pub max_label_value_len: usize,
    /// The longest log body or event message, in bytes (default 64 KiB).
    pub max_log_line_len: usize,
    /// The most observations from one payload (default 1 000 000).
    pub max_records: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_payload_bytes: 16 * 1024 * 1024,
            max_label_pairs: 64,
            max_label_value_len: 4096,
            max_log_line_len: 64 * 1024,
            max_records: 1_000_000,
        }
    }
}

/// A payload that cannot be read at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// The payload is larger than [`Limits::max_payload_bytes`].
    #[error("telemetry payload is {size} bytes, over the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The payload size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The payload is not readable as its format (not UTF-8, not JSON, not
    /// the expected top-level shape).
    #[error("{line}:{column}: malformed {format} payload: {message}")]
    Malformed {
        /// The format that was expected.
        format: PayloadFormat,
        /// 1-based line.
        line: u32,
        /// 1-based column, in characters.
        column: u32,
        /// What is wrong.
        message: String,
    },
}

impl TelemetryError {
    /// The 1-based line and column of the problem (`1:1` for a size error).
    pub fn position(&self) -> (u32, u32) {
        match self {
            TelemetryError::PayloadTooLarge { .. } => (1, 1),
            TelemetryError::Malformed { line, column, .. } => (*line, *column),
        }
    }
}

impl From<TelemetryError> for crate::Error {
    fn from(err: TelemetryError) -> crate::Error {
        let kind = match err {
            TelemetryError::PayloadTooLarge { .. } => crate::ErrorKind::Limit,
            TelemetryError::Malformed { .. } => crate::ErrorKind::Telemetry,
        };
        crate::Error::new(kind, err.to_string())
    }
}

/// The payload formats HealBot reads natively.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadFormat {
    /// Alertmanager webhook v4 (Grafana's variant too).
    Alertmanager,
    /// Prometheus text exposition 0.0.4.
    PrometheusText,
    /// OTLP/JSON logs (`resourceLogs`).
    OtlpLogs,
    /// OTLP/JSON metrics (`resourceMetrics`).
    OtlpMetrics,
    /// Kubernetes Events (core v1 and events.k8s.io/v1).
    K8sEvents,
    /// PagerDuty Events API v2.
    PagerDuty,
    /// HealBot's own newline-delimited JSON.
    Ndjson,
}

impl PayloadFormat {
    /// Every format, in declaration order.
    pub const ALL: [PayloadFormat; 7] = [
        PayloadFormat::Alertmanager,
        PayloadFormat::PrometheusText,
        PayloadFormat::OtlpLogs,
        PayloadFormat::OtlpMetrics,
        PayloadFormat::K8sEvents,
        PayloadFormat::PagerDuty,
        PayloadFormat::Ndjson,
    ];

    /// The canonical name: `alertmanager`, `prometheus_text`, `otlp_logs`,
    /// `otlp_metrics`, `k8s_events`, `pagerduty`, `ndjson`.
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadFormat::Alertmanager => "alertmanager",
            PayloadFormat::PrometheusText => "prometheus_text",
            PayloadFormat::OtlpLogs => "otlp_logs",
            PayloadFormat::OtlpMetrics => "otlp_metrics",
            PayloadFormat::K8sEvents => "k8s_events",
            PayloadFormat::PagerDuty => "pagerduty",
            PayloadFormat::Ndjson => "ndjson",
        }
    }
}

impl fmt::Display for PayloadFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PayloadFormat {
    type Err = crate::Error;

    /// Reads a canonical name (see [`PayloadFormat::as_str`]), case-insensitively,
    /// with `-` accepted for `_` and a few aliases (`prometheus`, `k8s`,
    /// `kubernetes_events`, `pager_duty`).
    fn from_str(s: &str) -> Result<PayloadFormat, crate::Error> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        Ok(match norm.as_str() {
            "alertmanager" => PayloadFormat::Alertmanager,
            "prometheus_text" | "prometheus" => PayloadFormat::PrometheusText,
            "otlp_logs" => PayloadFormat::OtlpLogs,
            "otlp_metrics" => PayloadFormat::OtlpMetrics,
            "k8s_events" | "k8s" | "kubernetes_events" => PayloadFormat::K8sEvents,
            "pagerduty" | "pager_duty" => PayloadFormat::PagerDuty,
            "ndjson" => PayloadFormat::Ndjson,
            _ => {
                let names = PayloadFormat::ALL.map(PayloadFormat::as_str);
                let mut msg = format!("unknown telemetry format `{s}`");
                if let Some(s) = crate::diagnostic::did_you_mean(&norm, names) {
                    msg.push_str(&format!("; did you mean `{s}`?"));
                }
                msg.push_str(&format!("; expected one of {}", names.join(", ")));
                return Err(crate::Error::new(crate::ErrorKind::InvalidArgument, msg));
            }
        })
    }
}

/// The lines of a blob of log text: split at `\n`, without a final empty
/// line after a trailing newline, each without a trailing `\r`. An empty
/// blob has no line; a blob of only `\n` has one empty line.
///
/// # Example
///
/// ```
/// use healbot_core::telemetry::split_lines;
///
/// let lines: Vec<&[u8]> = split_lines(b"GET / 200\r\n\npanic: boom\n").collect();
/// assert_eq!(lines, [&b"GET / 200"[..], b"", b"panic: boom"]);
/// assert_eq!(split_lines(b"").count(), 0);
/// assert_eq!(split_lines(b"no newline").count(), 1);
/// ```
pub fn split_lines(blob: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = blob.strip_suffix(b"\n").unwrap_or(blob);
    let mut rest = (!blob.is_empty()).then_some(body);
    std::iter::from_fn(move || {
        let text = rest?;
        let (line, next) = match memchr::memchr(b'\n', text) {
            Some(i) => (text.get(..i).unwrap_or_default(), text.get(i + 1..)),
            None => (text, None),
        };
        rest = next;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    })
}

/// Parses `payload` as `format`. `default_at` (Unix milliseconds) is the time
/// of records that carry none, for the formats that allow that (Prometheus
/// text, PagerDuty); the other formats ignore it.
///
/// # Example
///
/// ```
/// use healbot_core::telemetry::{parse, Limits, PayloadFormat};
///
/// let ndjson = br#"{"type":"metric","name":"up","labels":{"service":"db"},"value":0,"at":1700000000000}
/// {"type":"log","body":"connection refused","attributes":{"service":"api"},"severity":"error","at":"2023-11-14T22:13:20Z"}
/// not json
/// "#;
/// let format: PayloadFormat = "ndjson".parse().unwrap();
/// let parsed = parse(format, ndjson, 0, &Limits::default()).unwrap();
/// assert_eq!(parsed.observations.len(), 2);
/// assert_eq!(parsed.observations[1].at(), 1_700_000_000_000);
/// assert_eq!((parsed.errors[0].line, parsed.errors[0].column), (3, 2)); // at the `o` of `not`
/// ```
///
/// # Errors
///
/// A [`TelemetryError`] when the payload cannot be read at all.
pub fn parse(
    format: PayloadFormat,
    payload: &[u8],
    default_at: i64,
    limits: &Limits,
) -> Result<Parsed, TelemetryError> {
    match format {
        PayloadFormat::Alertmanager => parse_alertmanager(payload, limits),
        PayloadFormat::PrometheusText => parse_prometheus_text(payload, default_at, limits),
        PayloadFormat::OtlpLogs => parse_otlp_logs(payload, limits),
        PayloadFormat::OtlpMetrics => parse_otlp_metrics(payload, limits),
        PayloadFormat::K8sEvents => parse_k8s_events(payload, limits),
        PayloadFormat::PagerDuty => parse_pagerduty(payload, default_at, limits),
        PayloadFormat::Ndjson => parse_ndjson(payload, limits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_sorted_unique_last_wins() {
        let l: Labels = vec![("b", "1"), ("a", "2"), ("b", "3")].into_iter().collect();
        assert_eq!(l.iter().collect::<Vec<_>>(), vec![("a", "2"), ("b", "3")]);
        let mut l = l;
        assert_eq!(l.insert("a", "x"), Some("2".to_string()));
        assert_eq!(l.insert("0", "y"), None);
        assert_eq!(l.iter().next(), Some(("0", "y")));
        assert_eq!(l.remove("b"), Some("3".to_string()));
        assert!(!l.contains_key("b"));
        assert_eq!(serde_json::to_string(&l).unwrap(), r#"{"0":"y","a":"x"}"#);
    }

    #[test]
    fn format_names_round_trip() {
        for f in PayloadFormat::ALL {
            assert_eq!(f.as_str().parse::<PayloadFormat>().unwrap(), f);
        }
        assert_eq!("Prometheus-Text".parse::<PayloadFormat>().unwrap(), PayloadFormat::PrometheusText);
        let err = "alertmanagr".parse::<PayloadFormat>().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
        assert!(err.message().contains("alertmanager"), "{}", err.message());
    }

    #[test]
    fn errors_convert_to_core_kinds() {
        let big = vec![b' '; 11];
        let limits = Limits { max_payload_bytes: 10, ..Limits::default() };
        for f in PayloadFormat::ALL {
            let err = parse(f, &big, 0, &limits).unwrap_err();
            assert!(matches!(err, TelemetryError::PayloadTooLarge { size: 11, limit: 10 }));
            let core: crate::Error = err.into();
            assert_eq!(core.kind(), crate::ErrorKind::Limit);
        }
        let err = parse(PayloadFormat::Alertmanager, b"{\n  oops", 0, &Limits::default()).unwrap_err();
        assert_eq!(err.position().0, 2);
        let core: crate::Error = err.into();
        assert_eq!(core.kind(), crate::ErrorKind::Telemetry);
        assert!(core.message().starts_with("2:"), "{}", core.message());
    }

    #[test]
    fn severity_names() {
        assert_eq!("WARNING".parse::<LogSeverity>().unwrap(), LogSeverity::Warn);
        assert_eq!("ERROR2".parse::<LogSeverity>().unwrap(), LogSeverity::Error);
        assert!("loud".parse::<LogSeverity>().is_err());
        assert_eq!(LogSeverity::from_otlp_number(17), Some(LogSeverity::Error));
        assert_eq!(LogSeverity::from_otlp_number(0), None);
    }
}
