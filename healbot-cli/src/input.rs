//! Reading recorded telemetry files and replaying them through an engine in
//! time order.

use std::path::{Path, PathBuf};

use healbot_core::telemetry::{self, Limits, Observation, PayloadFormat};
use healbot_core::{Decision, Engine};

/// A time no recorded sample carries: the default time given to Prometheus
/// text samples without a timestamp, so that they can be found and reported
/// instead of landing at the epoch.
pub const UNTIMED: i64 = i64::MIN;

/// The observations read from one file, with what could not be read.
#[derive(Debug, Default)]
pub struct FileTelemetry {
    /// The format used.
    pub format: Option<PayloadFormat>,
    /// Good observations, in file order.
    pub observations: Vec<Observation>,
    /// Malformed records, rendered with their position (`path:line:column: message`).
    pub errors: Vec<String>,
    /// Records a parser limit dropped.
    pub dropped: u64,
    /// Prometheus text samples without a timestamp (not replayable; skipped).
    pub untimed: u64,
}

/// Picks the format of a telemetry file from its extension and, for `.json`
/// and unknown extensions, from its content.
///
/// | extension | format |
/// |---|---|
/// | `.ndjson`, `.jsonl` | HealBot NDJSON |
/// | `.prom`, `.txt`, `.metrics` | Prometheus text |
/// | `.json` and others | by the top-level keys: `alerts` (Alertmanager), `resourceLogs`, `resourceMetrics` (OTLP), `items`/`involvedObject`/`regarding` (Kubernetes events), `routing_key`/`event_action` (PagerDuty); one JSON object per line is NDJSON |
pub fn detect_format(path: &Path, bytes: &[u8]) -> Option<PayloadFormat> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("ndjson" | "jsonl") => return Some(PayloadFormat::Ndjson),
        Some("prom" | "txt" | "metrics") => return Some(PayloadFormat::PrometheusText),
        _ => {}
    }
    let text = String::from_utf8_lossy(bytes.get(..bytes.len().min(1 << 20)).unwrap_or(bytes));
    let trimmed = text.trim_start();
    let first = trimmed.chars().next()?;
    if first == '{' || first == '[' {
        // One complete JSON value per line is NDJSON.
        if let Some(line) = trimmed.lines().next() {
            if line.trim_start().starts_with('{')
                && serde_json::from_str::<serde_json::Value>(line).is_ok()
                && trimmed.lines().filter(|l| !l.trim().is_empty()).count() > 1
            {
                return Some(PayloadFormat::Ndjson);
            }
        }
        let has = |key: &str| text.contains(&format!("\"{key}\""));
        if has("resourceLogs") {
            return Some(PayloadFormat::OtlpLogs);
        }
        if has("resourceMetrics") {
            return Some(PayloadFormat::OtlpMetrics);
        }
        if has("routing_key") || has("event_action") {
            return Some(PayloadFormat::PagerDuty);
        }
        if has("alerts") {
            return Some(PayloadFormat::Alertmanager);
        }
        if has("involvedObject") || has("regarding") || has("items") {
            return Some(PayloadFormat::K8sEvents);
        }
        if has("type") {
            return Some(PayloadFormat::Ndjson);
        }
        return None;
    }
    if first == '#' || first.is_ascii_alphabetic() || first == '_' || first == ':' {
        return Some(PayloadFormat::PrometheusText);
    }
    None
}

/// Extensions a telemetry directory is searched for.
const TELEMETRY_EXTENSIONS: [&str; 8] = ["ndjson", "jsonl", "json", "prom", "txt", "metrics", "payload", "otlp"];

/// Expands directories to the telemetry files below them (by extension,
/// sorted, so the order never depends on the file system).
///
/// # Errors
///
/// A message naming the path that could not be read.
pub fn expand_telemetry_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let is_telemetry = |p: &Path| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| TELEMETRY_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
    };
    crate::files::expand(paths, &is_telemetry)
}

/// Reads one telemetry file in the given format (or the detected one).
///
/// # Errors
///
/// A message naming the file when it cannot be read, its format cannot be
/// told, or the payload as a whole is unreadable.
pub fn read_file(path: &Path, format: Option<PayloadFormat>, limits: &Limits) -> Result<FileTelemetry, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let format = match format.or_else(|| detect_format(path, &bytes)) {
        Some(f) => f,
        None => {
            return Err(format!(
                "{}: cannot tell the telemetry format; name it with --format-in (one of {})",
                path.display(),
                PayloadFormat::ALL.map(PayloadFormat::as_str).join(", ")
            ))
        }
    };
    let parsed = telemetry::parse(format, &bytes, UNTIMED, limits)
        .map_err(|e| format!("{}: {} ({format})", path.display(), e))?;
    let mut out = FileTelemetry {
        format: Some(format),
        errors: parsed.errors.iter().map(|e| format!("{}:{}", path.display(), e)).collect(),
        dropped: parsed.dropped.total(),
        ..FileTelemetry::default()
    };
    for obs in parsed.observations {
        if obs.at() == UNTIMED {
            out.untimed += 1;
        } else {
            out.observations.push(obs);
        }
    }
    Ok(out)
}

/// Observations sorted by time (stable: ties keep their input order), fed to
/// an engine as the replay clock passes them.
#[derive(Debug, Default)]
pub struct Timeline {
    observations: Vec<Observation>,
    next: usize,
    /// Ingest calls the engine refused (series limit).
    pub refused: u64,
}

impl Timeline {
    /// A timeline over the observations, sorted by time.
    pub fn new(mut observations: Vec<Observation>) -> Timeline {
        observations.sort_by_key(Observation::at);
        Timeline { observations, next: 0, refused: 0 }
    }

    /// The time of the first and last observation.
    pub fn span(&self) -> Option<(i64, i64)> {
        Some((self.observations.first()?.at(), self.observations.last()?.at()))
    }

    /// How many observations there are.
    pub fn len(&self) -> usize {
        self.observations.len()
    }

    /// How many have been ingested.
    pub fn consumed(&self) -> usize {
        self.next
    }

    /// Ingests every observation at or before `at` that has not been ingested.
    pub fn advance(&mut self, engine: &mut Engine, at: i64) {
        while let Some(obs) = self.observations.get(self.next) {
            if obs.at() > at {
                break;
            }
            if engine.ingest(obs).is_err() {
                self.refused += 1;
            }
            self.next += 1;
        }
    }
}

/// Evaluates the engine at `at`: every decision, sorted by node then signature.
pub fn decide(engine: &mut Engine, at: i64) -> Vec<Decision> {
    engine.evaluate(at)
}
