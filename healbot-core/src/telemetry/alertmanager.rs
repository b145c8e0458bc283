//! Alertmanager webhook v4 (and Grafana's variant of it).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::common::{
    check_size, fingerprint, parse_json_payload, parse_optional_time, parse_rfc3339, raw_offset, strip_position, utf8,
    Positions, Sink,
};
use super::{Alert, AlertStatus, DropReason, Labels, Limits, Observation, Parsed, PayloadFormat, TelemetryError};

/// The webhook envelope. `receiver`, `groupLabels`, `commonLabels`,
/// `commonAnnotations`, `externalURL`, `groupKey`, `truncatedAlerts`,
/// `version` and Grafana's extra fields are accepted and not needed: every
/// alert carries its own full label set.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    status: Option<String>,
    #[serde(borrow)]
    alerts: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAlert {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
}

/// Parses an Alertmanager webhook (v4) payload into [`Observation::Alert`]s.
///
/// Each element of `alerts[]` is one record. Firing alerts with Go's zero
/// `endsAt` (`0001-01-01T00:00:00Z`) get `ends_at: None`. An alert with the
/// same fingerprint and start as an earlier one in the payload is dropped as
/// [`DropReason::Duplicate`]. A missing fingerprint is computed from the
/// sorted labels (FNV-1a 64, hex). Grafana's extra fields are tolerated.
///
/// # Example
///
/// ```
/// use healbot_core::telemetry::{parse_alertmanager, AlertStatus, Limits, Observation};
///
/// let payload = br#"{"version":"4","status":"firing","receiver":"healbot","alerts":[
///   {"status":"firing","labels":{"alertname":"HighErrorRate","service":"checkout"},
///    "annotations":{"summary":"5xx above 5%"},"startsAt":"2023-11-14T22:13:20.5Z",
///    "endsAt":"0001-01-01T00:00:00Z","fingerprint":"a1b2c3"}]}"#;
/// let parsed = parse_alertmanager(payload, &Limits::default()).unwrap();
/// let Observation::Alert(a) = &parsed.observations[0] else { unreachable!() };
/// assert_eq!(a.name, "HighErrorRate");
/// assert_eq!(a.status, AlertStatus::Firing);
/// assert_eq!(a.starts_at, 1_700_000_000_500);
/// assert_eq!(a.ends_at, None);
/// ```
///
/// # Errors
///
/// A [`TelemetryError`] when the payload is too large, not JSON, or not an
/// object with an `alerts` array.
pub fn parse_alertmanager(payload: &[u8], limits: &Limits) -> Result<Parsed, TelemetryError> {
    check_size(payload, limits)?;
    let format = PayloadFormat::Alertmanager;
    let text = utf8(payload, format)?;
    let pos = Positions::new(text);
    let env: Envelope<'_> = parse_json_payload(text, &pos, format)?;
    let mut sink = Sink::new(limits);
    let mut seen: BTreeSet<(String, i64)> = BTreeSet::new();
    for (index, raw) in env.alerts.iter().enumerate() {
        let base = raw_offset(text, raw);
        let rec: RawAlert = match serde_json::from_str(raw.get()) {
            Ok(r) => r,
            Err(e) => {
                let at = pos.json_error_offset(base, raw.get(), &e);
                sink.error(pos.line_col(at), Some(index), format!("alerts[{index}]: {}", strip_position(&e)));
                continue;
            }
        };
        match convert(rec, env.status.as_deref()) {
            Ok(alert) => {
                if !seen.insert((alert.fingerprint.clone(), alert.starts_at)) {
                    sink.drop(DropReason::Duplicate);
                    continue;
                }
                sink.push(Observation::Alert(alert));
            }
            Err(msg) => sink.error(pos.line_col(base), Some(index), format!("alerts[{index}]: {msg}")),
        }
    }
    Ok(sink.finish())
}

fn convert(rec: RawAlert, group_status: Option<&str>) -> Result<Alert, String> {
    let labels: Labels = rec.labels.unwrap_or_default().into_iter().collect();
    let annotations: Labels = rec.annotations.unwrap_or_default().into_iter().collect();
    let name = match labels.get("alertname") {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => return Err("the alert has no `alertname` label".to_string()),
    };
    let status = match rec.status.as_deref().or(group_status) {
        Some("firing") => AlertStatus::Firing,
        Some("resolved") => AlertStatus::Resolved,
        Some(other) => {
            return Err(format!(
                "unknown status `{}`, expected `firing` or `resolved`",
                super::common::truncate(other, 40)
            ))
        }
        None => return Err("missing `status`".to_string()),
    };
    let starts_at = match rec.starts_at.as_deref() {
        Some(s) => parse_rfc3339(s).map_err(|e| format!("`startsAt`: {e}"))?,
        None => return Err("missing `startsAt`".to_string()),
    };
    let ends_at = parse_optional_time(rec.ends_at.as_deref()).map_err(|e| format!("`endsAt`: {e}"))?;
    let fingerprint = match rec.fingerprint {
        Some(f) if !f.trim().is_empty() => f,
        _ => fingerprint(&labels),
    };
    Ok(Alert {
        name,
        labels,
        annotations,
        status,
        starts_at,
        ends_at,
        fingerprint,
        generator_url: rec.generator_url.filter(|u| !u.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::test_util::alerts;
    use proptest::prelude::*;

    const WEBHOOK: &str = r#"{
  "receiver": "healbot",
  "status": "firing",
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "HighErrorRate", "service": "checkout", "severity": "page"},
      "annotations": {"summary": "5xx ratio above 5%", "runbook_url": "https://runbooks/x"},
      "startsAt": "2023-11-14T22:13:20.123456789Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus:9090/graph?g0.expr=x",
      "fingerprint": "3f1e2d"
    },
    {
      "status": "resolved",
      "labels": {"alertname": "DiskFull", "instance": "db-1:9100"},
      "annotations": {},
      "startsAt": "2023-11-14T21:00:00Z",
      "endsAt": "2023-11-14T22:00:00+00:00",
      "generatorURL": "",
      "fingerprint": "77aa"
    },
    {
      "status": "firing",
      "labels": {"alertname": "HighErrorRate", "service": "checkout", "severity": "page"},
      "annotations": {"summary": "5xx ratio above 5%"},
      "startsAt": "2023-11-14T22:13:20.123Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "fingerprint": "3f1e2d"
    },
    {
      "status": "firing",
      "labels": {"alertname": "NoFingerprint", "job": "api"},
      "startsAt": "2023-11-14T22:13:20Z"
    },
    {
      "status": "exploded",
      "labels": {"alertname": "Bad"},
      "startsAt": "2023-11-14T22:13:20Z"
    },
    {
      "status": "firing",
      "labels": {"alertname": "BadTime"},
      "startsAt": "last tuesday"
    },
    {
      "status": "firing",
      "labels": {"alertname": 42},
      "startsAt": "2023-11-14T22:13:20Z"
    }
  ],
  "groupLabels": {"alertname": "HighErrorRate"},
  "commonLabels": {},
  "commonAnnotations": {},
  "externalURL": "http://alertmanager:9093",
  "version": "4",
  "groupKey": "{}:{alertname=\"HighErrorRate\"}",
  "truncatedAlerts": 0
}"#;

    #[test]
    fn realistic_webhook() {
        let p = parse_alertmanager(WEBHOOK.as_bytes(), &Limits::default()).unwrap();
        let a = alerts(&p);
        assert_eq!(a.len(), 3, "{p:#?}");
        assert_eq!(a[0].name, "HighErrorRate");
        assert_eq!(a[0].starts_at, 1_700_000_000_123);
        assert_eq!(a[0].ends_at, None);
        assert_eq!(a[0].fingerprint, "3f1e2d");
        assert_eq!(a[0].annotations.get("summary"), Some("5xx ratio above 5%"));
        assert_eq!(a[0].generator_url.as_deref(), Some("http://prometheus:9090/graph?g0.expr=x"));
        assert_eq!(a[1].status, AlertStatus::Resolved);
        assert_eq!(a[1].ends_at, Some(1_699_999_200_000));
        assert_eq!(a[1].generator_url, None);
        assert_eq!(Observation::Alert(a[1].clone()).at(), 1_699_999_200_000);
        // Computed fingerprint: deterministic, 16 hex digits.
        assert_eq!(a[2].fingerprint.len(), 16);
        assert_eq!(a[2].fingerprint, fingerprint(&a[2].labels));
        // The third alert repeats the first (same fingerprint and start, ms precision).
        assert_eq!(p.dropped.duplicate, 1);
        // Three malformed alerts, each with its index and position.
        let idx: Vec<_> = p.errors.iter().map(|e| e.record).collect();
        assert_eq!(idx, [Some(4), Some(5), Some(6)]);
        assert_eq!(p.errors[0].line, 36); // the start of the record
        assert!(p.errors[0].message.contains("exploded"), "{}", p.errors[0].message);
        assert!(p.errors[1].message.contains("startsAt"));
        assert_eq!(p.errors[2].line, 48, "{:?}", p.errors[2]); // at the bad value
        assert!(p.errors[2].message.contains("invalid type"), "{}", p.errors[2].message);
    }

    #[test]
    fn grafana_payload() {
        let payload = r#"{"receiver":"hb","status":"firing","orgId":1,"alerts":[{"status":"firing",
          "labels":{"alertname":"CPU","grafana_folder":"Infra","service":"api"},
          "annotations":{"description":"cpu high"},"startsAt":"2024-01-02T03:04:05.678+00:00",
          "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://grafana/alerting/grafana/x/view",
          "fingerprint":"c6eadffa33fcdf37","silenceURL":"http://grafana/alerting/silence/new",
          "dashboardURL":"","panelURL":"","values":{"B":87.5,"C":1},"valueString":"[ var='B' value=87.5 ]"}],
          "groupLabels":{},"commonLabels":{"alertname":"CPU"},"commonAnnotations":{},
          "externalURL":"http://grafana/","version":"1","groupKey":"{}","truncatedAlerts":0,
          "title":"[FIRING:1] CPU","state":"alerting","message":"**Firing**"}"#;
        let p = parse_alertmanager(payload.as_bytes(), &Limits::default()).unwrap();
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let a = alerts(&p);
        assert_eq!(a[0].labels.get("service"), Some("api"));
        assert_eq!(a[0].starts_at, 1_704_164_645_678);
    }

    #[test]
    fn fatal_shapes() {
        let l = Limits::default();
        assert!(parse_alertmanager(b"[]", &l).is_err());
        assert!(parse_alertmanager(b"{\"alerts\": 3}", &l).is_err());
        assert!(parse_alertmanager(b"{\"alerts\": [}", &l).is_err());
        assert!(parse_alertmanager(b"\xff\xfe", &l).is_err());
        assert!(parse_alertmanager(b"{\"alerts\": []}", &l).unwrap().observations.is_empty());
    }

    #[test]
    fn limits_drop_and_count() {
        let l = Limits { max_label_pairs: 2, ..Limits::default() };
        let p = parse_alertmanager(WEBHOOK.as_bytes(), &l).unwrap();
        // HighErrorRate has 3 labels: dropped (and its repeat counted as a
        // duplicate); DiskFull and NoFingerprint have 2.
        assert_eq!(p.dropped.too_many_labels, 1, "{:?}", p.dropped);
        assert_eq!(p.dropped.duplicate, 1);
        assert_eq!(p.observations.len(), 2);
        let l = Limits { max_records: 1, ..Limits::default() };
        let p = parse_alertmanager(WEBHOOK.as_bytes(), &l).unwrap();
        assert_eq!(p.observations.len(), 1);
        assert_eq!(p.dropped.too_many_records, 2);
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_alertmanager(&bytes, &Limits::default());
        }

        #[test]
        fn never_panics_on_json_like(s in r#"\{"alerts":\[(\{("status":"(firing|resolved|x)",|"labels":\{"alertname":"[a-z]{0,3}"\},|"startsAt":"[0-9T:.Z-]{0,24}",|"endsAt":"[0-9T:.Z-]{0,24}",|"fingerprint":"[a-f0-9]{0,4}",){0,5}"x":1\},?){0,4}\]\}"#) {
            let _ = parse_alertmanager(s.as_bytes(), &Limits::default());
        }
    }
}
