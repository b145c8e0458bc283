//! PagerDuty Events API v2.
//!
//! The `routing_key` of an event is a secret (it lets anyone open incidents
//! on the service). It is read only to be redacted: it is never stored in an
//! observation, and every string this parser produces (labels, annotations,
//! error messages) has any occurrence of it replaced by `[redacted]`.

use serde_json::{Map, Value};

use super::common::{
    check_size, fingerprint, json_records, json_to_label, json_type, parse_rfc3339, raw_offset, utf8, Positions, Sink,
};
use super::{Alert, AlertStatus, Labels, Limits, Observation, Parsed, PayloadFormat, TelemetryError};

const REDACTED: &str = "[redacted]";

/// Parses PagerDuty Events API v2 events into [`Observation::Alert`]s.
///
/// Accepts one event object or a JSON array of them; each event is one
/// record. The mapping:
///
/// - `event_action`: `trigger` and `acknowledge` → [`AlertStatus::Firing`]
///   (the action is kept as the annotation `event_action`), `resolve` →
///   [`AlertStatus::Resolved`] with `ends_at` equal to its time;
/// - `name` (and label `alertname`): `payload.class`, else `payload.summary`,
///   else `dedup_key`;
/// - labels: `source`, `component`, `group`, `severity`, `class` when given,
///   and `service` from `component`, else `source`;
/// - annotations: `summary`, `event_action`, and each `custom_details` entry
///   as `custom_details.<key>` (non-string values as compact JSON);
/// - time: `payload.timestamp` (RFC 3339), else `default_at`;
/// - `fingerprint`: `dedup_key`, else FNV-1a 64 of the labels;
/// - `generator_url`: `client_url`.
///
/// A `trigger` needs `payload.summary`, `payload.source` and a
/// `payload.severity` of `critical`, `error`, `warning` or `info`; the other
/// actions need a `dedup_key`. The `routing_key` never appears in the output
/// or in any error message.
///
/// # Example
///
/// ```
/// use healbot_core::telemetry::{parse_pagerduty, Limits, Observation};
///
/// let json = br#"{"routing_key":"e93facc04764012d7bfb002500d5d1a6","event_action":"trigger",
///   "dedup_key":"srv01/HTTP","payload":{"summary":"DISK at 99% on machine prod-datapipe03",
///   "source":"prod-datapipe03","severity":"critical","component":"mysql"}}"#;
/// let parsed = parse_pagerduty(json, 1_700_000_000_000, &Limits::default()).unwrap();
/// let Observation::Alert(a) = &parsed.observations[0] else { unreachable!() };
/// assert_eq!(a.fingerprint, "srv01/HTTP");
/// assert_eq!(a.labels.get("service"), Some("mysql"));
/// assert!(!format!("{parsed:?}").contains("e93facc04764012d7bfb002500d5d1a6"));
/// ```
///
/// # Errors
///
/// A [`TelemetryError`] when the payload is too large, not JSON, or neither
/// an object nor an array.
pub fn parse_pagerduty(json: &[u8], default_at: i64, limits: &Limits) -> Result<Parsed, TelemetryError> {
    check_size(json, limits)?;
    let format = PayloadFormat::PagerDuty;
    let text = utf8(json, format)?;
    let pos = Positions::new(text);
    // Only syntax errors can fail here, and their messages quote no input.
    let expected = "expected an event object or an array of events";
    let items = json_records(text, &pos, format, expected, |top| Ok(vec![top]))?;
    let mut sink = Sink::new(limits);
    for (index, raw) in items.iter().enumerate() {
        let here = pos.line_col(raw_offset(text, raw));
        let value: Value = match serde_json::from_str(raw.get()) {
            Ok(v) => v,
            // Unreachable in practice: the raw value already parsed.
            Err(_) => {
                sink.error(here, Some(index), format!("event {index}: not valid JSON"));
                continue;
            }
        };
        let key = value.get("routing_key").and_then(Value::as_str).filter(|k| !k.is_empty()).map(str::to_string);
        match convert(&value, default_at) {
            Ok(mut alert) => {
                if let Some(key) = &key {
                    redact_alert(&mut alert, key);
                }
                sink.push(Observation::Alert(alert));
            }
            Err(msg) => {
                let msg = format!("event {index}: {msg}");
                let msg = match &key {
                    Some(k) => msg.replace(k.as_str(), REDACTED),
                    None => msg,
                };
                sink.error(here, Some(index), msg);
            }
        }
    }
    Ok(sink.finish())
}

fn redact_labels(labels: &Labels, key: &str) -> Labels {
    labels.iter().map(|(k, v)| (k.replace(key, REDACTED), v.replace(key, REDACTED))).collect()
}

fn redact_alert(alert: &mut Alert, key: &str) {
    alert.name = alert.name.replace(key, REDACTED);
    alert.labels = redact_labels(&alert.labels, key);
    alert.annotations = redact_labels(&alert.annotations, key);
    alert.fingerprint = alert.fingerprint.replace(key, REDACTED);
    if let Some(u) = &mut alert.generator_url {
        *u = u.replace(key, REDACTED);
    }
}

/// An optional string field; a non-string is an error naming only the field.
fn opt_str<'v>(obj: &'v Map<String, Value>, field: &str) -> Result<Option<&'v str>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("`{field}` must be a string, found {}", json_type(other))),
    }
}

fn convert(value: &Value, default_at: i64) -> Result<Alert, String> {
    let Value::Object(ev) = value else {
        return Err(format!("an event must be an object, found {}", json_type(value)));
    };
    let empty = Map::new();
    let payload = match ev.get("payload") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(p)) => p,
        Some(other) => return Err(format!("`payload` must be an object, found {}", json_type(other))),
    };
    let action = opt_str(ev, "event_action")?.ok_or("missing `event_action`")?;
    let status = match action {
        "trigger" | "acknowledge" => AlertStatus::Firing,
        "resolve" => AlertStatus::Resolved,
        // The value is not quoted: it might be anything the sender put there.
        _ => return Err("unknown `event_action`, expected trigger, acknowledge or resolve".to_string()),
    };
    let dedup_key = opt_str(ev, "dedup_key")?;
    let summary = opt_str(payload, "summary")?;
    let source = opt_str(payload, "source")?;
    let severity = opt_str(payload, "severity")?;
    let component = opt_str(payload, "component")?;
    let group = opt_str(payload, "group")?;
    let class = opt_str(payload, "class")?;
    if action == "trigger" {
        if summary.is_none() {
            return Err("a trigger needs `payload.summary`".to_string());
        }
        if source.is_none() {
            return Err("a trigger needs `payload.source`".to_string());
        }
        match severity {
            Some("critical" | "error" | "warning" | "info") => {}
            Some(_) => return Err("`payload.severity` must be critical, error, warning or info".to_string()),
            None => return Err("a trigger needs `payload.severity`".to_string()),
        }
    } else if dedup_key.is_none() {
        return Err(format!("an `{action}` event needs a `dedup_key`"));
    }
    let at = match opt_str(payload, "timestamp")? {
        Some(t) => parse_rfc3339(t).map_err(|_| "`payload.timestamp` is not an RFC 3339 timestamp".to_string())?,
        None => default_at,
    };
    let name = class
        .or(summary)
        .or(dedup_key)
        .ok_or("no `payload.class`, `payload.summary` or `dedup_key` to name the alert")?
        .to_string();
    let mut labels = Labels::new();
    labels.insert("alertname", name.clone());
    for (k, v) in [
        ("source", source),
        ("component", component),
        ("group", group),
        ("severity", severity),
        ("class", class),
        ("service", component.or(source)),
    ] {
        if let Some(v) = v {
            labels.insert(k, v);
        }
    }
    let mut annotations = Labels::new();
    annotations.insert("event_action", action);
    if let Some(s) = summary {
        annotations.insert("summary", s);
    }
    match payload.get("custom_details") {
        None | Some(Value::Null) => {}
        Some(Value::Object(details)) => {
            for (k, v) in details {
                annotations.insert(format!("custom_details.{k}"), json_to_label(v));
            }
        }
        Some(other) => {
            annotations.insert("custom_details", json_to_label(other));
        }
    }
    let fingerprint = match dedup_key {
        Some(d) => d.to_string(),
        None => fingerprint(&labels),
    };
    Ok(Alert {
        name,
        labels,
        annotations,
        status,
        starts_at: at,
        ends_at: (status == AlertStatus::Resolved).then_some(at),
        fingerprint,
        generator_url: opt_str(ev, "client_url")?.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::test_util::alerts;
    use proptest::prelude::*;

    const KEY: &str = "R0UT1NGKEYc04764012d7bfb002500d5d1a6";

    fn batch() -> String {
        format!(
            r#"[
  {{"routing_key": "{KEY}", "event_action": "trigger", "dedup_key": "db/conn",
    "client": "Monitoring", "client_url": "https://monitoring.example/x",
    "payload": {{"summary": "DB connections exhausted", "source": "db-1.prod",
      "severity": "critical", "timestamp": "2023-11-14T22:13:20.250Z",
      "component": "postgres", "group": "prod-datastore", "class": "ConnectionsExhausted",
      "custom_details": {{"active": 500, "max": 500, "note": "see runbook"}}}}}},
  {{"routing_key": "{KEY}", "event_action": "resolve", "dedup_key": "db/conn"}},
  {{"routing_key": "{KEY}", "event_action": "{KEY}", "payload": {{"summary": "x"}}}},
  {{"routing_key": "{KEY}", "event_action": "trigger", "payload": {{"summary": 5, "source": "s", "severity": "info"}}}},
  {{"routing_key": "{KEY}", "event_action": "trigger", "payload": {{"summary": "s", "source": "s", "severity": "{KEY}"}}}},
  {{"routing_key": "{KEY}", "event_action": "trigger", "payload": {{"summary": "s", "source": "s", "severity": "info", "timestamp": "{KEY}"}}}},
  {{"routing_key": "{KEY}", "event_action": "acknowledge", "dedup_key": "{KEY}"}},
  "{KEY}"
]"#
        )
    }

    #[test]
    fn realistic_events() {
        let p = parse_pagerduty(batch().as_bytes(), 1_700_000_500_000, &Limits::default()).unwrap();
        let alerts = alerts(&p);
        assert_eq!(alerts.len(), 3, "{:#?}", p.errors);
        let a = alerts[0];
        assert_eq!(a.name, "ConnectionsExhausted");
        assert_eq!(a.status, AlertStatus::Firing);
        assert_eq!(a.starts_at, 1_700_000_000_250);
        assert_eq!(a.fingerprint, "db/conn");
        assert_eq!(a.labels.get("service"), Some("postgres"));
        assert_eq!(a.labels.get("severity"), Some("critical"));
        assert_eq!(a.labels.get("group"), Some("prod-datastore"));
        assert_eq!(a.annotations.get("custom_details.active"), Some("500"));
        assert_eq!(a.annotations.get("summary"), Some("DB connections exhausted"));
        assert_eq!(a.generator_url.as_deref(), Some("https://monitoring.example/x"));
        let r = alerts[1];
        assert_eq!(r.status, AlertStatus::Resolved);
        assert_eq!(r.fingerprint, "db/conn");
        assert_eq!(r.starts_at, 1_700_000_500_000);
        assert_eq!(r.ends_at, Some(1_700_000_500_000));
        // A dedup key equal to the routing key is redacted, not leaked.
        assert_eq!(alerts[2].fingerprint, REDACTED);
        let recs: Vec<_> = p.errors.iter().map(|e| (e.record, e.line)).collect();
        assert_eq!(recs, [(Some(2), 9), (Some(3), 10), (Some(4), 11), (Some(5), 12), (Some(7), 14)], "{:#?}", p.errors);
    }

    #[test]
    fn routing_key_never_leaks() {
        let p = parse_pagerduty(batch().as_bytes(), 0, &Limits::default()).unwrap();
        let everything = format!(
            "{p:?} {} {}",
            serde_json::to_string(&p).unwrap(),
            p.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
        );
        assert!(!everything.contains(KEY), "{everything}");
        // A payload that cannot be read at all.
        for bad in [
            format!(r#"{{"routing_key": "{KEY}", "event_action": "trigger", "#),
            format!(r#"{{"routing_key": "{KEY}\q"}}"#),
            format!(r#""{KEY}""#),
            format!(r#"{{"routing_key": {KEY}}}"#),
        ] {
            let err = parse_pagerduty(bad.as_bytes(), 0, &Limits::default()).unwrap_err();
            let text = format!("{err} {err:?} {}", crate::Error::from(err.clone()));
            assert!(!text.contains(KEY), "{text}");
            assert!(!text.contains("R0UT1NG"), "{text}");
        }
    }

    #[test]
    fn limits_count_drops() {
        // The first event has 7 labels and 5 annotations (3 custom details).
        let l = Limits { max_label_pairs: 6, ..Limits::default() };
        let p = parse_pagerduty(batch().as_bytes(), 0, &l).unwrap();
        assert_eq!(p.dropped.too_many_labels, 1);
        assert_eq!(p.observations.len(), 2);
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_pagerduty(&bytes, 0, &Limits::default());
        }

        #[test]
        fn key_never_leaks(action in "trigger|resolve|acknowledge|[a-z]{0,3}|KEY", field in "summary|source|severity|timestamp|class|dedup_key") {
            let key = "SECRETSECRETSECRET0123456789abcdef";
            let action = action.replace("KEY", key);
            let json = format!(r#"{{"routing_key":"{key}","event_action":"{action}","payload":{{"{field}":"{key}"}}}}"#);
            let p = parse_pagerduty(json.as_bytes(), 0, &Limits::default()).unwrap();
            let shown = format!("{:?}", p);
            prop_assert!(!shown.contains(key));
        }
    }
}
