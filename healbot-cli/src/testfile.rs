//! The `healbot test` file format (see `docs/testing.md`): which library and
//! topology to load, input telemetry per case, evaluation times and expected
//! decisions, with must-not-fire cases as first-class citizens.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use healbot_core::source::{from_node, parse_yaml, Budget};
use healbot_core::{Diagnostic, Duration};
use serde::Deserialize;

/// The default start of every case: 2026-01-01T00:00:00Z (a Thursday).
pub const DEFAULT_START: i64 = 1_767_225_600_000;

/// A whole test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// A name for reports (default: the file name).
    #[serde(default)]
    pub name: Option<String>,
    /// Library documents: files or directories, relative to the test file.
    pub library: OneOrMany,
    /// The topology: a path relative to the test file, or an inline
    /// `Topology` document (or just its `spec`).
    pub topology: serde_json::Value,
    /// The time offsets are counted from (RFC 3339; default 2026-01-01T00:00:00Z).
    #[serde(default)]
    pub start: Option<String>,
    /// The scrape interval of compact series (default 30s).
    #[serde(default)]
    pub interval: Option<Duration>,
    /// How often the engine is evaluated (default: the scrape interval).
    #[serde(default)]
    pub eval_interval: Option<Duration>,
    /// Recorded telemetry files every case starts from.
    #[serde(default)]
    pub telemetry: Vec<TelemetryRef>,
    /// The cases.
    pub cases: Vec<Case>,
}

/// A string or a list of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One.
    One(String),
    /// Many.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The strings.
    pub fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// A recorded telemetry file, with its format when the extension does not say.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum TelemetryRef {
    /// A path.
    Path(String),
    /// A path and a format.
    WithFormat {
        /// The path, relative to the test file.
        path: String,
        /// `ndjson`, `alertmanager`, `prometheus_text`, `otlp_logs`, `otlp_metrics`, `k8s_events`, `pagerduty`.
        format: String,
    },
}

/// One test case: input, then what must (and must not) be decided.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case shows.
    pub name: String,
    /// Scrape interval for this case's series (default: the file's).
    #[serde(default)]
    pub interval: Option<Duration>,
    /// Metric series in compact notation.
    #[serde(default)]
    pub series: Vec<SeriesInput>,
    /// Log lines.
    #[serde(default)]
    pub logs: Vec<LogInput>,
    /// Alerts.
    #[serde(default)]
    pub alerts: Vec<AlertInput>,
    /// Kubernetes events.
    #[serde(default)]
    pub events: Vec<EventInput>,
    /// Recorded telemetry files, in addition to the file's.
    #[serde(default)]
    pub telemetry: Vec<TelemetryRef>,
    /// Executions (and outcomes) the host reported before the case, for
    /// cooldowns, budgets, circuit breakers and outcome posteriors.
    #[serde(default)]
    pub history: Vec<HistoryInput>,
    /// When to check (an offset such as `10m`, or an RFC 3339 time).
    #[serde(default)]
    pub at: Option<String>,
    /// Decisions that must be there at `at`.
    #[serde(default)]
    pub expect: Vec<Expect>,
    /// Decisions that must not be there at `at` (must-not-fire).
    #[serde(default)]
    pub absent: Vec<Absent>,
    /// When true, no decision other than those in `expect` may be there.
    #[serde(default)]
    pub expect_none: bool,
    /// More checks at other times, over the same input.
    #[serde(default)]
    pub checks: Vec<Check>,
}

/// A check at one time.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// When.
    pub at: String,
    /// Decisions that must be there.
    #[serde(default)]
    pub expect: Vec<Expect>,
    /// Decisions that must not be there.
    #[serde(default)]
    pub absent: Vec<Absent>,
    /// No decision other than those in `expect`.
    #[serde(default)]
    pub expect_none: bool,
}

/// A series: a selector and values in compact notation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesInput {
    /// `metric{label="value", ...}`.
    pub series: String,
    /// `0+10x30`, `1 2 _ 4`, `_x5`.
    pub values: String,
    /// Offset of the first sample from the start (default 0).
    #[serde(default)]
    pub start: Option<String>,
}

/// A log line, possibly repeated.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogInput {
    /// When (offset or RFC 3339).
    pub at: String,
    /// The attributes that attach it to a node.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The line.
    pub body: String,
    /// `info`, `warn`, `error`, ...
    #[serde(default)]
    pub severity: Option<String>,
    /// How many times (default 1).
    #[serde(default)]
    pub repeat: Option<u32>,
    /// Spacing between repeats (default: the scrape interval).
    #[serde(default)]
    pub every: Option<Duration>,
}

/// An alert that fires at `at` and resolves at `until`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertInput {
    /// `alertname`.
    pub name: String,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// When it starts firing.
    pub at: String,
    /// When it resolves.
    #[serde(default)]
    pub until: Option<String>,
}

/// A Kubernetes event.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// `BackOff`, `OOMKilling`, `NodeNotReady`, ...
    pub reason: String,
    /// `Warning` (default) or `Normal`.
    #[serde(default, rename = "type")]
    pub event_type: Option<String>,
    /// The object: `{kind, namespace, name}`.
    pub object: ObjectInput,
    /// The message.
    #[serde(default)]
    pub message: Option<String>,
    /// Extra labels laid over the derived ones.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// How many occurrences (default 1).
    #[serde(default)]
    pub count: Option<u64>,
    /// When (the event's last time).
    pub at: String,
}

/// The object an event is about.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectInput {
    /// `Pod`, `Node`, `Deployment`, ...
    #[serde(default)]
    pub kind: Option<String>,
    /// The namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// The name (`checkout-7d9f8c-abcde`).
    pub name: String,
}

/// An execution the host reported, with its outcome.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryInput {
    /// The action id.
    pub action: String,
    /// The node it ran on.
    pub target: String,
    /// When (offset or RFC 3339).
    pub at: String,
    /// `success` or `failure`; absent: still running.
    #[serde(default)]
    pub outcome: Option<String>,
    /// Whether it ran unattended (default true).
    #[serde(default)]
    pub unattended: Option<bool>,
}

/// A confidence range.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Inclusive lower bound.
    #[serde(default)]
    pub min: Option<f64>,
    /// Inclusive upper bound.
    #[serde(default)]
    pub max: Option<f64>,
}

/// An expected decision. Only the fields given are compared.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Signature id; omit (with `suspect: true`) for an inferred suspect.
    #[serde(default)]
    pub signature: Option<String>,
    /// An inferred-suspect decision (no signature).
    #[serde(default)]
    pub suspect: bool,
    /// The node.
    pub node: String,
    /// `execute`, `escalate`, `suppress`, `blocked`, `observe`.
    #[serde(default)]
    pub verdict: Option<String>,
    /// The chosen action id, or `none`.
    #[serde(default)]
    pub action: Option<String>,
    /// The chosen action's target node.
    #[serde(default)]
    pub target: Option<String>,
    /// The root-cause node (string) or `{role, node, signature, path}`.
    #[serde(default)]
    pub root_cause: Option<serde_json::Value>,
    /// The confidence range.
    #[serde(default)]
    pub confidence: Option<Range>,
    /// Substrings that must appear among the reasons.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Actions that must have been rejected by a guard.
    #[serde(default)]
    pub rejected: Vec<String>,
}

/// A decision that must not be there. Every field given must match for a
/// decision to count as a violation; omitted fields match anything.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Absent {
    /// Signature id.
    #[serde(default)]
    pub signature: Option<String>,
    /// Node.
    #[serde(default)]
    pub node: Option<String>,
    /// Verdict.
    #[serde(default)]
    pub verdict: Option<String>,
    /// Chosen action id.
    #[serde(default)]
    pub action: Option<String>,
}

/// A parsed test file with the paths it names resolved.
#[derive(Debug)]
pub struct Loaded {
    /// The file as given.
    pub path: PathBuf,
    /// The directory relative paths resolve against.
    pub dir: PathBuf,
    /// The model.
    pub file: TestFile,
}

/// Reads and parses a test file.
///
/// # Errors
///
/// `Err(Ok(diagnostics))` for an invalid file (exit 1), `Err(Err(message))`
/// when it cannot be read (exit 2).
pub fn load(path: &Path) -> Result<Loaded, Result<Vec<Diagnostic>, String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Err(format!("{}: {e}", path.display())))?;
    let name = path.display().to_string();
    let (docs, diags) = parse_yaml(&name, &text, &Budget::default());
    if !diags.is_empty() {
        return Err(Ok(diags));
    }
    let Some(root) = docs.first() else {
        return Err(Ok(vec![Diagnostic::error(
            healbot_core::DiagnosticKind::MissingField,
            &name,
            1,
            1,
            "",
            "an empty test file: expected `library`, `topology` and `cases`".to_string(),
        )]));
    };
    if docs.len() > 1 {
        return Err(Ok(vec![Diagnostic::error(
            healbot_core::DiagnosticKind::Invalid,
            &name,
            docs[1].span.line,
            docs[1].span.column,
            "",
            "a test file holds one YAML document".to_string(),
        )]));
    }
    let file: TestFile = from_node(&name, root, "").map_err(|d| Ok(vec![d]))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(Loaded { path: path.to_path_buf(), dir, file })
}

/// Parses a time: an offset from `start` (`10m`, `1h30m`, `0s`) or an RFC
/// 3339 time.
///
/// # Errors
///
/// A message saying what was expected.
pub fn parse_time(s: &str, start: i64) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(d) = s.parse::<Duration>() {
        return Ok(start.saturating_add(d.as_millis_i64()));
    }
    if let Some(rest) = s.strip_prefix('-') {
        if let Ok(d) = rest.parse::<Duration>() {
            return Ok(start.saturating_sub(d.as_millis_i64()));
        }
    }
    parse_rfc3339(s).map_err(|_| format!("`{s}`: expected an offset such as `10m` or an RFC 3339 time"))
}

/// Parses an RFC 3339 time to Unix milliseconds.
///
/// # Errors
///
/// The parser's message.
pub fn parse_rfc3339(s: &str) -> Result<i64, String> {
    s.parse::<jiff::Timestamp>().map(|t| t.as_millisecond()).map_err(|e| e.to_string())
}

/// Unix milliseconds as RFC 3339 (UTC).
pub fn format_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.to_string())
}

/// A time as an offset from `start` when it is after it (`+10m30s`), else RFC 3339.
pub fn format_offset(ms: i64, start: i64) -> String {
    if ms >= start {
        format!("+{}", Duration::from_millis((ms - start).unsigned_abs()))
    } else {
        format_time(ms)
    }
}

/// Parses a series selector `name{k="v", ...}`.
///
/// # Errors
///
/// A message saying what was expected.
pub fn parse_selector(s: &str) -> Result<(String, Vec<(String, String)>), String> {
    let s = s.trim();
    let (name, rest) = match s.find('{') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let name = name.trim();
    let valid_name = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid_name {
        return Err(format!("`{s}`: expected a metric name such as `http_requests_total{{service=\"api\"}}`"));
    }
    let mut labels = Vec::new();
    let Some(rest) = rest else { return Ok((name.to_string(), labels)) };
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        match chars.peek() {
            Some('}') => {
                chars.next();
                break;
            }
            None => return Err(format!("`{s}`: missing `}}`")),
            _ => {}
        }
        let mut key = String::new();
        while let Some(c) = chars.peek().copied() {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                key.push(c);
                chars.next();
            } else {
                break;
            }
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if key.is_empty() || chars.next() != Some('=') {
            return Err(format!("`{s}`: expected `label=\"value\"` pairs"));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('"') {
            return Err(format!("`{s}`: label values are double-quoted"));
        }
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('"') => break,
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c) => value.push(c),
                    None => return Err(format!("`{s}`: unterminated label value")),
                },
                Some(c) => value.push(c),
                None => return Err(format!("`{s}`: unterminated label value")),
            }
        }
        labels.push((key, value));
    }
    if chars.any(|c| !c.is_whitespace()) {
        return Err(format!("`{s}`: unexpected text after `}}`"));
    }
    Ok((name.to_string(), labels))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn selectors() {
        assert_eq!(parse_selector("up").unwrap(), ("up".to_string(), vec![]));
        let (n, l) = parse_selector(r#"pg_up{service="db", job="pg\"x"}"#).unwrap();
        assert_eq!(n, "pg_up");
        assert_eq!(l, vec![("service".into(), "db".into()), ("job".into(), "pg\"x".into())]);
        assert!(parse_selector("1up").is_err());
        assert!(parse_selector("up{service=db}").is_err());
        assert!(parse_selector("up{service=\"db\"").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("10m", 1000).unwrap(), 601_000);
        assert_eq!(parse_time("-1m", 60_000).unwrap(), 0);
        assert_eq!(parse_time("2026-01-01T00:00:00Z", 0).unwrap(), DEFAULT_START);
        assert!(parse_time("soon", 0).is_err());
        assert_eq!(format_time(DEFAULT_START), "2026-01-01T00:00:00Z");
        assert_eq!(format_offset(DEFAULT_START + 90_000, DEFAULT_START), "+1m30s");
    }
}
