//! Kubernetes Events: core `v1` and `events.k8s.io/v1`, normalised to one
//! [`Event`].

use serde::Deserialize;
use serde_json::value::RawValue;

use super::common::{
    check_size, json_records, parse_json_payload, parse_optional_time, raw_offset, strip_position, truncate, utf8,
    JsonU64, Positions, Sink,
};
use super::{Event, EventType, Labels, Limits, ObjectRef, Observation, Parsed, PayloadFormat, TelemetryError};

#[derive(Deserialize)]
struct ListShape<'a> {
    #[serde(borrow, default)]
    items: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize, Default)]
struct RawObjectRef {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    creation_timestamp: Option<String>,
}

#[derive(Deserialize, Default)]
struct Source {
    #[serde(default)]
    component: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Series {
    #[serde(default)]
    count: Option<JsonU64>,
    #[serde(default)]
    last_observed_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    #[serde(default)]
    metadata: Option<Metadata>,
    // core v1
    #[serde(default)]
    involved_object: Option<RawObjectRef>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    count: Option<JsonU64>,
    #[serde(default)]
    first_timestamp: Option<String>,
    #[serde(default)]
    last_timestamp: Option<String>,
    #[serde(default)]
    source: Option<Source>,
    // events.k8s.io/v1
    #[serde(default)]
    regarding: Option<RawObjectRef>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    deprecated_first_timestamp: Option<String>,
    #[serde(default)]
    deprecated_last_timestamp: Option<String>,
    #[serde(default)]
    deprecated_count: Option<JsonU64>,
    #[serde(default)]
    deprecated_source: Option<Source>,
    #[serde(default)]
    reporting_controller: Option<String>,
    // both
    #[serde(default)]
    reporting_component: Option<String>,
    #[serde(default)]
    series: Option<Series>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default, rename = "type")]
    event_type: Option<String>,
    #[serde(default)]
    event_time: Option<String>,
}

/// Parses Kubernetes Events into [`Observation::Event`]s.
///
/// Accepts a single event, a JSON array of events, or a list object
/// (`EventList`, `List`) with `items`; each event is one record. Both core
/// `v1` (`involvedObject`, `message`, `count`, `firstTimestamp`,
/// `lastTimestamp`, `source.component`) and `events.k8s.io/v1` (`regarding`,
/// `note`, `series`, `deprecated*`, `reportingController`) are read:
///
/// - `message` is `message`, else `note`;
/// - `count` is `series.count`, else `count`, else `deprecatedCount`, else 1;
/// - `first_at` is `firstTimestamp`, else `deprecatedFirstTimestamp`, else
///   `eventTime`, else `metadata.creationTimestamp`;
/// - `last_at` is `series.lastObservedTime`, else `lastTimestamp`, else
///   `deprecatedLastTimestamp`, else `eventTime`, else `first_at`;
///   an event with no time at all is an error;
/// - `source` is `source.component`, else `reportingController`, else
///   `reportingComponent`, else `deprecatedSource.component`;
/// - a missing `type` is `Normal`; a type other than `Normal`/`Warning` is an error.
///
/// The labels are `namespace` (when not empty), `name` and `kind` of the
/// object, and `app` and `service` derived from the object name by
/// [`derive_app_name`].
///
/// # Example
///
/// ```
/// use healbot_core::telemetry::{parse_k8s_events, EventType, Limits, Observation};
///
/// let json = br#"{"apiVersion":"v1","kind":"Event","reason":"BackOff","type":"Warning",
///   "message":"Back-off restarting failed container","count":7,
///   "involvedObject":{"kind":"Pod","namespace":"shop","name":"checkout-7d9f8c-abcde"},
///   "firstTimestamp":"2023-11-14T22:00:00Z","lastTimestamp":"2023-11-14T22:13:20Z",
///   "source":{"component":"kubelet"}}"#;
/// let parsed = parse_k8s_events(json, &Limits::default()).unwrap();
/// let Observation::Event(e) = &parsed.observations[0] else { unreachable!() };
/// assert_eq!(e.event_type, EventType::Warning);
/// assert_eq!(e.count, 7);
/// assert_eq!(e.labels.get("service"), Some("checkout"));
/// assert_eq!(e.last_at, 1_700_000_000_000);
/// ```
///
/// # Errors
///
/// A [`TelemetryError`] when the payload is too large, not JSON, or neither
/// an object nor an array.
pub fn parse_k8s_events(json: &[u8], limits: &Limits) -> Result<Parsed, TelemetryError> {
    check_size(json, limits)?;
    let format = PayloadFormat::K8sEvents;
    let text = utf8(json, format)?;
    let pos = Positions::new(text);
    let expected = "expected an event, an array of events or an EventList";
    let items = json_records(text, &pos, format, expected, |top| {
        let list: ListShape<'_> = parse_json_payload(text, &pos, format)?;
        Ok(list.items.unwrap_or_else(|| vec![top]))
    })?;
    let mut sink = Sink::new(limits);
    for (index, raw) in items.iter().enumerate() {
        let base = raw_offset(text, raw);
        match serde_json::from_str::<RawEvent>(raw.get()) {
            Ok(rec) => match convert(rec) {
                Ok(ev) => sink.push(Observation::Event(ev)),
                Err(msg) => sink.error(pos.line_col(base), Some(index), format!("event {index}: {msg}")),
            },
            Err(e) => {
                let at = pos.json_error_offset(base, raw.get(), &e);
                sink.error(pos.line_col(at), Some(index), format!("event {index}: {}", strip_position(&e)));
            }
        }
    }
    Ok(sink.finish())
}

fn first_time(candidates: &[(&str, Option<&str>)]) -> Result<Option<i64>, String> {
    for (field, value) in candidates {
        if let Some(t) = parse_optional_time(*value).map_err(|e| format!("`{field}`: {e}"))? {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

fn convert(rec: RawEvent) -> Result<Event, String> {
    let meta = rec.metadata.unwrap_or_default();
    let obj =
        rec.involved_object.or(rec.regarding).ok_or("no `involvedObject` (v1) nor `regarding` (events.k8s.io/v1)")?;
    let name = non_empty(obj.name).ok_or("the event's object has no `name`")?;
    let kind = obj.kind.unwrap_or_default();
    let namespace = non_empty(obj.namespace).or(non_empty(meta.namespace)).unwrap_or_default();
    let event_type = match rec.event_type.as_deref() {
        None | Some("") | Some("Normal") => EventType::Normal,
        Some("Warning") => EventType::Warning,
        Some(other) => return Err(format!("unknown type `{}`, expected Normal or Warning", truncate(other, 40))),
    };
    let series = rec.series.unwrap_or_default();
    let first = first_time(&[
        ("firstTimestamp", rec.first_timestamp.as_deref()),
        ("deprecatedFirstTimestamp", rec.deprecated_first_timestamp.as_deref()),
        ("eventTime", rec.event_time.as_deref()),
        ("metadata.creationTimestamp", meta.creation_timestamp.as_deref()),
    ])?;
    let last = first_time(&[
        ("series.lastObservedTime", series.last_observed_time.as_deref()),
        ("lastTimestamp", rec.last_timestamp.as_deref()),
        ("deprecatedLastTimestamp", rec.deprecated_last_timestamp.as_deref()),
        ("eventTime", rec.event_time.as_deref()),
    ])?;
    let (first_at, last_at) = match (first, last) {
        (Some(f), Some(l)) => (f, l),
        (Some(t), None) | (None, Some(t)) => (t, t),
        (None, None) => return Err("the event has no timestamp".to_string()),
    };
    let count = series.count.or(rec.count).or(rec.deprecated_count).map_or(1, |c| c.0).max(1);
    let source = non_empty(rec.source.and_then(|s| s.component))
        .or(non_empty(rec.reporting_controller))
        .or(non_empty(rec.reporting_component))
        .or(non_empty(rec.deprecated_source.and_then(|s| s.component)));
    let app = derive_app_name(&kind, &name);
    let mut labels = Labels::new();
    if !namespace.is_empty() {
        labels.insert("namespace", namespace.clone());
    }
    if !kind.is_empty() {
        labels.insert("kind", kind.clone());
    }
    labels.insert("name", name.clone());
    labels.insert("app", app.clone());
    labels.insert("service", app);
    Ok(Event {
        event_type,
        reason: rec.reason.unwrap_or_default(),
        message: non_empty(rec.message).or(rec.note).unwrap_or_default(),
        object: ObjectRef { kind, namespace, name },
        count,
        first_at,
        last_at,
        source,
        labels,
    })
}

fn is_hash_like(seg: &str, min: usize, max: usize, need_digit: bool) -> bool {
    (min..=max).contains(&seg.len())
        && seg.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && (!need_digit || seg.bytes().any(|b| b.is_ascii_digit()))
}

/// The application name of a Kubernetes object, for the `app` and `service`
/// labels of its events.
///
/// The rule, on the `-`-separated segments of the name (never removing the
/// first segment):
///
/// - **Pod**: drop a last segment of 5 lowercase letters or digits (the pod
///   suffix of a ReplicaSet, DaemonSet or Job pod); then drop a last segment
///   of 6–10 lowercase letters or digits with at least one digit (the
///   ReplicaSet `pod-template-hash`). Otherwise, drop a last segment of digits
///   (a StatefulSet ordinal).
/// - **ReplicaSet**: drop a last segment of 6–10 lowercase letters or digits
///   with at least one digit.
/// - **Job**: drop a last segment of 8 or more digits (a CronJob's schedule time).
/// - Any other kind (Deployment, StatefulSet, Service, Node…): the name as it is.
///
/// # Example
///
/// ```
/// use healbot_core::telemetry::derive_app_name;
///
/// assert_eq!(derive_app_name("Pod", "checkout-7d9f8c-abcde"), "checkout");
/// assert_eq!(derive_app_name("Pod", "node-exporter-x2k9p"), "node-exporter");
/// assert_eq!(derive_app_name("Pod", "postgres-0"), "postgres");
/// assert_eq!(derive_app_name("ReplicaSet", "checkout-7d9f8c"), "checkout");
/// assert_eq!(derive_app_name("Deployment", "checkout-v2"), "checkout-v2");
/// ```
pub fn derive_app_name(kind: &str, name: &str) -> String {
    let mut segs: Vec<&str> = name.split('-').collect();
    let last_is = |segs: &Vec<&str>, f: &dyn Fn(&str) -> bool| segs.len() > 1 && segs.last().is_some_and(|s| f(s));
    match kind {
        "Pod" | "pod" => {
            if last_is(&segs, &|s| is_hash_like(s, 5, 5, false)) {
                segs.pop();
                if last_is(&segs, &|s| is_hash_like(s, 6, 10, true)) {
                    segs.pop();
                }
            } else if last_is(&segs, &|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())) {
                segs.pop();
            }
        }
        "ReplicaSet" | "replicaset" if last_is(&segs, &|s| is_hash_like(s, 6, 10, true)) => {
            segs.pop();
        }
        "Job" | "job" if last_is(&segs, &|s| s.len() >= 8 && s.bytes().all(|b| b.is_ascii_digit())) => {
            segs.pop();
        }
        _ => {}
    }
    segs.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::test_util::events;
    use proptest::prelude::*;

    const EVENT_LIST: &str = r#"{
  "kind": "EventList",
  "apiVersion": "v1",
  "metadata": {"resourceVersion": "123"},
  "items": [
    {
      "metadata": {"name": "checkout-7d9f8c-abcde.17a", "namespace": "shop", "creationTimestamp": "2023-11-14T21:59:59Z"},
      "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "checkout-7d9f8c-abcde", "uid": "u1", "apiVersion": "v1", "fieldPath": "spec.containers{app}"},
      "reason": "BackOff",
      "message": "Back-off restarting failed container app in pod checkout-7d9f8c-abcde",
      "source": {"component": "kubelet", "host": "node-1"},
      "firstTimestamp": "2023-11-14T22:00:00Z",
      "lastTimestamp": "2023-11-14T22:13:20Z",
      "count": 12,
      "type": "Warning",
      "eventTime": null,
      "reportingComponent": "",
      "reportingInstance": ""
    },
    {
      "metadata": {"name": "db-0.17b", "namespace": "shop"},
      "involvedObject": {"kind": "Pod", "name": "db-0"},
      "reason": "Pulled",
      "message": "Container image already present",
      "type": "Normal",
      "eventTime": "2023-11-14T22:13:20.123456Z",
      "reportingComponent": "kubelet"
    },
    {
      "metadata": {"name": "nope"},
      "involvedObject": {"kind": "Pod", "name": "x"},
      "type": "Catastrophic",
      "lastTimestamp": "2023-11-14T22:13:20Z"
    },
    {
      "metadata": {"name": "notime"},
      "involvedObject": {"kind": "Pod", "name": "x"}
    },
    {
      "metadata": {"name": "badcount"},
      "involvedObject": {"kind": "Pod", "name": "x"},
      "count": "many"
    }
  ]
}"#;

    #[test]
    fn core_v1_event_list() {
        let p = parse_k8s_events(EVENT_LIST.as_bytes(), &Limits::default()).unwrap();
        let e = events(&p);
        assert_eq!(e.len(), 2, "{:#?}", p.errors);
        assert_eq!(e[0].event_type, EventType::Warning);
        assert_eq!(e[0].reason, "BackOff");
        assert_eq!(e[0].count, 12);
        assert_eq!(e[0].first_at, 1_699_999_200_000);
        assert_eq!(e[0].last_at, 1_700_000_000_000);
        assert_eq!(e[0].source.as_deref(), Some("kubelet"));
        assert_eq!(
            e[0].labels.iter().collect::<Vec<_>>(),
            [
                ("app", "checkout"),
                ("kind", "Pod"),
                ("name", "checkout-7d9f8c-abcde"),
                ("namespace", "shop"),
                ("service", "checkout")
            ]
        );
        // Namespace from metadata, time from eventTime (microseconds), count 1.
        assert_eq!(e[1].object.namespace, "shop");
        assert_eq!(e[1].first_at, 1_700_000_000_123);
        assert_eq!(e[1].count, 1);
        assert_eq!(e[1].labels.get("app"), Some("db"));
        assert_eq!(e[1].source.as_deref(), Some("kubelet"));
        let errs: Vec<_> = p.errors.iter().map(|e| (e.record, e.line)).collect();
        assert_eq!(errs, [(Some(2), 29), (Some(3), 35), (Some(4), 42)], "{:#?}", p.errors);
        assert!(p.errors[0].message.contains("Catastrophic"));
    }

    #[test]
    fn events_k8s_io_v1_single_and_array() {
        let ev = r#"{"apiVersion":"events.k8s.io/v1","kind":"Event",
          "metadata":{"name":"x","namespace":"payments"},
          "eventTime":"2023-11-14T21:00:00.000000Z",
          "series":{"count":4,"lastObservedTime":"2023-11-14T22:13:20.000000Z"},
          "reportingController":"kubernetes.io/kubelet","reportingInstance":"node-2",
          "action":"Killing","reason":"OOMKilling","note":"Memory cgroup out of memory",
          "regarding":{"kind":"Pod","namespace":"payments","name":"ledger-5c8d7f9b6-x2k9p"},
          "type":"Warning","deprecatedFirstTimestamp":"2023-11-14T20:00:00Z","deprecatedCount":2}"#;
        for payload in [ev.to_string(), format!("[{ev}, {ev}]")] {
            let p = parse_k8s_events(payload.as_bytes(), &Limits::default()).unwrap();
            assert!(p.errors.is_empty(), "{:?}", p.errors);
            let e = events(&p)[0];
            assert_eq!(e.message, "Memory cgroup out of memory");
            assert_eq!(e.count, 4);
            assert_eq!(e.first_at, 1_699_992_000_000);
            assert_eq!(e.last_at, 1_700_000_000_000);
            assert_eq!(e.source.as_deref(), Some("kubernetes.io/kubelet"));
            assert_eq!(e.labels.get("service"), Some("ledger"));
            assert_eq!(e.object.kind, "Pod");
        }
        assert!(parse_k8s_events(b"42", &Limits::default()).is_err());
        assert!(parse_k8s_events(b"{\"items\":3}", &Limits::default()).is_err());
    }

    #[test]
    fn app_name_rule() {
        assert_eq!(derive_app_name("Pod", "checkout-7d9f8c-abcde"), "checkout");
        assert_eq!(derive_app_name("Pod", "checkout"), "checkout");
        assert_eq!(derive_app_name("Pod", "abcde"), "abcde");
        assert_eq!(derive_app_name("Pod", "web-frontend-5d4f7b8c9-qwert"), "web-frontend");
        assert_eq!(derive_app_name("Job", "backup-28312345"), "backup");
        assert_eq!(derive_app_name("Pod", "backup-28312345-zx9qp"), "backup");
        assert_eq!(derive_app_name("Node", "node-1"), "node-1");
        assert_eq!(derive_app_name("Pod", ""), "");
        assert_eq!(derive_app_name("Pod", "-----"), "-----");
    }

    #[test]
    fn message_limit() {
        let l = Limits { max_log_line_len: 40, ..Limits::default() };
        let p = parse_k8s_events(EVENT_LIST.as_bytes(), &l).unwrap();
        assert_eq!(p.dropped.log_line_too_long, 1);
        assert_eq!(p.observations.len(), 1);
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_k8s_events(&bytes, &Limits::default());
        }

        #[test]
        fn app_name_never_panics_and_keeps_a_prefix(kind in "Pod|ReplicaSet|Job|Service", name in "[a-z0-9-]{0,30}") {
            let app = derive_app_name(&kind, &name);
            prop_assert!(name.starts_with(&app));
        }
    }
}
