//! HealBot's own newline-delimited JSON telemetry format.
//!
//! One JSON object per line, with a `type` of `metric`, `log`, `alert` or
//! `event`; blank lines and lines starting with `#` are skipped. Times (`at`
//! and the alert and event times) are integer Unix milliseconds or RFC 3339
//! strings. See `docs/formats-telemetry.md` for the full description.

use serde_json::{Map, Value};

use super::common::{
    check_size, fingerprint, i64_to_f64, json_exact_i64, json_type, offset_in, parse_rfc3339, string_map, to_u32,
    truncate, Sink,
};
use super::k8s::derive_app_name;
use super::{
    Alert, AlertStatus, Event, EventType, Labels, Limits, LogRecord, LogSeverity, MetricKind, MetricSample, ObjectRef,
    Observation, Parsed, TelemetryError, Temporality,
};

/// Parses HealBot NDJSON telemetry into [`Observation`]s.
///
/// Each non-blank line not starting with `#` is one record; a malformed line
/// is a [`super::RecordError`] with its line and column (`record` is `None`),
/// and the other lines still count. The only fatal error is a payload over
/// the size limit. The records, by `type`:
///
/// - `metric`: `name`, `labels` (object of strings), `value` (a number, or
///   `"NaN"`, `"+Inf"`, `"-Inf"`; an integer also gives
///   [`MetricSample::exact`]), `at`, optional `kind` (`gauge`, `counter`,
///   `untyped`);
/// - `log`: `body`, `attributes`, optional `severity` (a name such as
///   `error`), `at`;
/// - `alert`: `name` (or `labels.alertname`), `labels`, `annotations`,
///   `status` (`firing` by default, or `resolved`), `starts_at` (or `at`),
///   optional `ends_at`, `fingerprint` (else FNV-1a 64 of the labels),
///   `generator_url`;
/// - `event`: `event_type` (`Normal` by default, or `Warning`), `reason`,
///   `message`, `object` (`kind`, `namespace`, `name`), `count` (default 1),
///   `first_at` and `last_at` (either defaults to the other, or to `at`),
///   `source`, `labels` (over the derived `namespace`, `kind`, `name`, `app`
///   and `service`).
///
/// # Example
///
/// ```
/// use healbot_core::telemetry::{parse_ndjson, Limits};
///
/// let text = b"# a comment\n\
///   {\"type\":\"metric\",\"name\":\"up\",\"labels\":{\"service\":\"db\"},\"value\":1,\"at\":1700000000000}\n\
///   \n\
///   {\"type\":\"alert\",\"name\":\"DbDown\",\"labels\":{\"service\":\"db\"},\"at\":\"2023-11-14T22:13:20Z\"}\n";
/// let parsed = parse_ndjson(text, &Limits::default()).unwrap();
/// assert_eq!(parsed.observations.len(), 2);
/// assert!(parsed.errors.is_empty());
/// ```
///
/// # Errors
///
/// [`TelemetryError::PayloadTooLarge`] only.
pub fn parse_ndjson(text: &[u8], limits: &Limits) -> Result<Parsed, TelemetryError> {
    check_size(text, limits)?;
    let mut sink = Sink::new(limits);
    for (i, raw_line) in text.split(|b| *b == b'\n').enumerate() {
        let line_no = to_u32(i + 1);
        let line = match std::str::from_utf8(raw_line) {
            Ok(l) => l,
            Err(e) => {
                let good = raw_line.get(..e.valid_up_to()).and_then(|g| std::str::from_utf8(g).ok()).unwrap_or("");
                sink.error((line_no, to_u32(good.chars().count() + 1)), None, "the line is not valid UTF-8");
                continue;
            }
        };
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let value: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                let off = offset_in(line, e.line(), e.column());
                let col = line.get(..off).map_or(0, |s| s.chars().count());
                sink.error((line_no, to_u32(col + 1)), None, super::common::strip_position(&e));
                continue;
            }
        };
        // The column of the first non-blank character: where the record starts.
        let col = to_u32(line.chars().take_while(|c| c.is_whitespace()).count() + 1);
        match record(&value) {
            Ok(obs) => sink.push(obs),
            Err(msg) => sink.error((line_no, col), None, msg),
        }
    }
    Ok(sink.finish())
}

fn record(value: &Value) -> Result<Observation, String> {
    let Value::Object(obj) = value else {
        return Err(format!("a record must be a JSON object, found {}", json_type(value)));
    };
    let ty = str_field(obj, "type")?.ok_or("missing `type` (metric, log, alert or event)")?;
    match ty {
        "metric" => metric(obj).map(Observation::Metric),
        "log" => log(obj).map(Observation::Log),
        "alert" => alert(obj).map(Observation::Alert),
        "event" => event(obj).map(Observation::Event),
        other => Err(format!("unknown `type` `{}`, expected metric, log, alert or event", truncate(other, 40))),
    }
}

fn str_field<'v>(obj: &'v Map<String, Value>, field: &str) -> Result<Option<&'v str>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("`{field}` must be a string, found {}", json_type(other))),
    }
}

fn labels_field(obj: &Map<String, Value>, field: &str) -> Result<Labels, String> {
    obj.get(field).map_or(Ok(Labels::new()), |v| string_map(v, field))
}

/// A time: integer milliseconds or an RFC 3339 string.
fn time_field(obj: &Map<String, Value>, field: &str) -> Result<Option<i64>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("`{field}` must be integer Unix milliseconds or an RFC 3339 string, found {n}")),
        Some(Value::String(s)) => parse_rfc3339(s).map(Some).map_err(|e| format!("`{field}`: {e}")),
        Some(other) => Err(format!(
            "`{field}` must be integer Unix milliseconds or an RFC 3339 string, found {}",
            json_type(other)
        )),
    }
}

fn required_time(obj: &Map<String, Value>, field: &str) -> Result<i64, String> {
    time_field(obj, field)?.ok_or_else(|| format!("missing `{field}`"))
}

fn metric(obj: &Map<String, Value>) -> Result<MetricSample, String> {
    let name = str_field(obj, "name")?.filter(|n| !n.is_empty()).ok_or("missing `name`")?;
    let (value, exact) = match obj.get("value") {
        Some(Value::Number(n)) => match json_exact_i64(n) {
            Some(i) => (i64_to_f64(i), Some(i)),
            None => (n.as_f64().ok_or("`value` is not a number")?, None),
        },
        Some(Value::String(s)) => match s.as_str() {
            "NaN" => (f64::NAN, None),
            "+Inf" | "Inf" => (f64::INFINITY, None),
            "-Inf" => (f64::NEG_INFINITY, None),
            _ => return Err("`value` must be a number, or \"NaN\", \"+Inf\" or \"-Inf\"".to_string()),
        },
        None | Some(Value::Null) => return Err("missing `value`".to_string()),
        Some(other) => return Err(format!("`value` must be a number, found {}", json_type(other))),
    };
    let kind = match str_field(obj, "kind")? {
        None | Some("untyped") => MetricKind::Untyped,
        Some("gauge") => MetricKind::Gauge,
        Some("counter") => MetricKind::Sum { monotonic: true, temporality: Temporality::Cumulative },
        Some(other) => {
            return Err(format!("unknown metric `kind` `{}`, expected gauge, counter or untyped", truncate(other, 40)))
        }
    };
    Ok(MetricSample {
        name: name.to_string(),
        labels: labels_field(obj, "labels")?,
        value,
        exact,
        kind,
        at: required_time(obj, "at")?,
    })
}

fn log(obj: &Map<String, Value>) -> Result<LogRecord, String> {
    let body = str_field(obj, "body")?.ok_or("missing `body`")?;
    let severity = match str_field(obj, "severity")? {
        None => None,
        Some(s) => Some(s.parse::<LogSeverity>()?),
    };
    Ok(LogRecord {
        body: body.to_string(),
        attributes: labels_field(obj, "attributes")?,
        severity,
        at: required_time(obj, "at")?,
    })
}

fn alert(obj: &Map<String, Value>) -> Result<Alert, String> {
    let mut labels = labels_field(obj, "labels")?;
    let name = match str_field(obj, "name")?.filter(|n| !n.is_empty()) {
        Some(n) => n.to_string(),
        None => labels
            .get("alertname")
            .filter(|n| !n.is_empty())
            .ok_or("missing `name` (or `labels.alertname`)")?
            .to_string(),
    };
    labels.insert("alertname", name.clone());
    let status = match str_field(obj, "status")? {
        None | Some("firing") => AlertStatus::Firing,
        Some("resolved") => AlertStatus::Resolved,
        Some(other) => return Err(format!("unknown `status` `{}`, expected firing or resolved", truncate(other, 40))),
    };
    let starts_at = match time_field(obj, "starts_at")? {
        Some(t) => t,
        None => required_time(obj, "at").map_err(|_| "missing `starts_at` (or `at`)".to_string())?,
    };
    let fingerprint = match str_field(obj, "fingerprint")?.filter(|f| !f.is_empty()) {
        Some(f) => f.to_string(),
        None => fingerprint(&labels),
    };
    Ok(Alert {
        name,
        labels,
        annotations: labels_field(obj, "annotations")?,
        status,
        starts_at,
        ends_at: time_field(obj, "ends_at")?,
        fingerprint,
        generator_url: str_field(obj, "generator_url")?.map(str::to_string),
    })
}

fn event(obj: &Map<String, Value>) -> Result<Event, String> {
    let event_type = match str_field(obj, "event_type")? {
        None | Some("Normal") => EventType::Normal,
        Some("Warning") => EventType::Warning,
        Some(other) => {
            return Err(format!("unknown `event_type` `{}`, expected Normal or Warning", truncate(other, 40)))
        }
    };
    let object = match obj.get("object") {
        Some(Value::Object(o)) => {
            let kind = str_field(o, "kind")?.unwrap_or_default().to_string();
            let namespace = str_field(o, "namespace")?.unwrap_or_default().to_string();
            let name = str_field(o, "name")?.filter(|n| !n.is_empty()).ok_or("missing `object.name`")?.to_string();
            ObjectRef { kind, namespace, name }
        }
        None | Some(Value::Null) => return Err("missing `object`".to_string()),
        Some(other) => return Err(format!("`object` must be an object, found {}", json_type(other))),
    };
    let at = time_field(obj, "at")?;
    let first = time_field(obj, "first_at")?;
    let last = time_field(obj, "last_at")?;
    let (first_at, last_at) = match (first.or(last).or(at), last.or(at).or(first)) {
        (Some(f), Some(l)) => (f, l),
        _ => return Err("missing `first_at`, `last_at` or `at`".to_string()),
    };
    let count = match obj.get("count") {
        None | Some(Value::Null) => 1,
        Some(Value::Number(n)) => n.as_u64().ok_or("`count` must be a non-negative integer")?.max(1),
        Some(other) => return Err(format!("`count` must be an integer, found {}", json_type(other))),
    };
    let app = derive_app_name(&object.kind, &object.name);
    let mut labels = Labels::new();
    if !object.namespace.is_empty() {
        labels.insert("namespace", object.namespace.clone());
    }
    if !object.kind.is_empty() {
        labels.insert("kind", object.kind.clone());
    }
    labels.insert("name", object.name.clone());
    labels.insert("app", app.clone());
    labels.insert("service", app);
    for (k, v) in labels_field(obj, "labels")?.iter() {
        labels.insert(k, v);
    }
    Ok(Event {
        event_type,
        reason: str_field(obj, "reason")?.unwrap_or_default().to_string(),
        message: str_field(obj, "message")?.unwrap_or_default().to_string(),
        object,
        count,
        first_at,
        last_at,
        source: str_field(obj, "source")?.map(str::to_string),
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STREAM: &str = r#"# HealBot NDJSON
{"type":"metric","name":"db_connections","labels":{"service":"postgres","pool":"main"},"value":9007199254740993,"at":1700000000000,"kind":"gauge"}
{"type":"metric","name":"latency","labels":{},"value":0.25,"at":"2023-11-14T22:13:20.5Z"}

{"type":"log","body":"FATAL: too many connections","attributes":{"service":"postgres"},"severity":"fatal","at":1700000000001}
{"type":"alert","name":"PostgresDown","labels":{"service":"postgres","severity":"page"},"annotations":{"summary":"db down"},"status":"firing","starts_at":"2023-11-14T22:13:20Z","generator_url":"http://x"}
{"type":"event","event_type":"Warning","reason":"BackOff","message":"restarting","object":{"kind":"Pod","namespace":"shop","name":"checkout-7d9f8c-abcde"},"count":3,"first_at":1699999999000,"last_at":1700000000000,"source":"kubelet"}
  {"type":"metric","name":"x","value":1}
{"type":"metric","name":"x","value":1,"at":1.5}
{"type":"log","body":"x","at":1,"severity":"loud"}
{"type":"trace","at":1}
{"type":"metric",,}
[1,2]
{"type":"alert","labels":{"service":"x"},"at":1}
{"type":"metric","name":"x","labels":{"a":1},"value":1,"at":1}
"#;

    #[test]
    fn realistic_stream() {
        let p = parse_ndjson(STREAM.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(p.observations.len(), 5, "{:#?}", p.errors);
        let Observation::Metric(m) = &p.observations[0] else { panic!() };
        assert_eq!(m.exact, Some(9_007_199_254_740_993));
        assert_eq!(m.kind, MetricKind::Gauge);
        assert_eq!(p.observations[1].at(), 1_700_000_000_500);
        let Observation::Log(l) = &p.observations[2] else { panic!() };
        assert_eq!(l.severity, Some(LogSeverity::Fatal));
        let Observation::Alert(a) = &p.observations[3] else { panic!() };
        assert_eq!(a.labels.get("alertname"), Some("PostgresDown"));
        assert_eq!(a.fingerprint, fingerprint(&a.labels));
        assert_eq!(a.starts_at, 1_700_000_000_000);
        let Observation::Event(e) = &p.observations[4] else { panic!() };
        assert_eq!(e.labels.get("app"), Some("checkout"));
        assert_eq!(e.count, 3);
        let pos: Vec<(u32, u32)> = p.errors.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(pos, [(8, 3), (9, 1), (10, 1), (11, 1), (12, 18), (13, 1), (14, 1), (15, 1)], "{:#?}", p.errors);
        assert!(p.errors[0].message.contains("`at`"));
        assert!(p.errors.iter().all(|e| e.record.is_none()));
    }

    #[test]
    fn limits() {
        let l = Limits { max_log_line_len: 5, max_label_pairs: 1, ..Limits::default() };
        let p = parse_ndjson(STREAM.as_bytes(), &l).unwrap();
        // The log has one attribute but a long body.
        assert_eq!(p.dropped.log_line_too_long, 1);
        // db_connections (2 labels), the alert (3 with alertname), the event (5 derived).
        assert_eq!(p.dropped.too_many_labels, 3, "{:?}", p.dropped);
        assert_eq!(p.observations.len(), 1);
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_ndjson(&bytes, &Limits::default());
        }

        #[test]
        fn never_panics_json_like(lines in proptest::collection::vec(
            r#"\{"type":"(metric|log|alert|event)"(,"(name|body|value|at|labels|object|count|status|first_at)":("[a-z0-9:T-]{0,8}"|-?[0-9]{0,20}(\.[0-9])?|\{\}|null|\{"name":"x"\}))*\}"#, 0..6)) {
            let _ = parse_ndjson(lines.join("\n").as_bytes(), &Limits::default());
        }
    }
}
