//! OTLP/JSON logs and metrics (the protobuf JSON mapping of
//! `ExportLogsServiceRequest` and `ExportMetricsServiceRequest`).
//!
//! 64-bit integers (`timeUnixNano`, `asInt`, `count`, `bucketCounts`) are
//! accepted as JSON strings or numbers and read as integers, never through
//! `f64`. Resource attributes are merged under each record's attributes (the
//! record wins); the resource attribute `service.name` is also set as the
//! label `service` (unless the record has one) so that it attaches to a
//! topology node.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

use super::common::{
    check_size, i64_to_f64, json_to_label, json_type, nanos_to_millis, parse_json_payload, raw_offset, strip_position,
    truncate, u64_to_f64, utf8, JsonF64, JsonI64, JsonU64, Positions, Sink,
};
use super::{
    DropReason, Labels, Limits, LogRecord, LogSeverity, MetricKind, MetricSample, Observation, Parsed, PayloadFormat,
    TelemetryError, Temporality,
};

#[derive(Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: Option<Value>,
}

#[derive(Deserialize)]
struct Resource {
    #[serde(default)]
    attributes: Option<Vec<KeyValue>>,
}

/// One level of the nesting: a resource (or scope) and its children, kept
/// raw so that one bad child does not lose its siblings.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogsData<'a> {
    #[serde(borrow, default)]
    resource_logs: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceLogs<'a> {
    #[serde(default)]
    resource: Option<Resource>,
    #[serde(borrow, default)]
    scope_logs: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScopeLogs<'a> {
    #[serde(borrow, default)]
    log_records: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    #[serde(default)]
    time_unix_nano: Option<JsonU64>,
    #[serde(default)]
    observed_time_unix_nano: Option<JsonU64>,
    #[serde(default)]
    severity_number: Option<Value>,
    #[serde(default)]
    severity_text: Option<String>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    attributes: Option<Vec<KeyValue>>,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    span_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetricsData<'a> {
    #[serde(borrow, default)]
    resource_metrics: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceMetrics<'a> {
    #[serde(default)]
    resource: Option<Resource>,
    #[serde(borrow, default)]
    scope_metrics: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScopeMetrics<'a> {
    #[serde(borrow, default)]
    metrics: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetric<'a> {
    #[serde(default)]
    name: String,
    #[serde(borrow, default)]
    gauge: Option<Points<'a>>,
    #[serde(borrow, default)]
    sum: Option<Points<'a>>,
    #[serde(borrow, default)]
    histogram: Option<Points<'a>>,
    #[serde(borrow, default)]
    summary: Option<Points<'a>>,
    #[serde(default)]
    exponential_histogram: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Points<'a> {
    #[serde(borrow, default)]
    data_points: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    aggregation_temporality: Option<Value>,
    #[serde(default)]
    is_monotonic: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NumberPoint {
    #[serde(default)]
    attributes: Option<Vec<KeyValue>>,
    #[serde(default)]
    time_unix_nano: Option<JsonU64>,
    #[serde(default)]
    as_double: Option<JsonF64>,
    #[serde(default)]
    as_int: Option<JsonI64>,
    #[serde(default)]
    flags: Option<JsonU64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistogramPoint {
    #[serde(default)]
    attributes: Option<Vec<KeyValue>>,
    #[serde(default)]
    time_unix_nano: Option<JsonU64>,
    #[serde(default)]
    count: Option<JsonU64>,
    #[serde(default)]
    sum: Option<JsonF64>,
    #[serde(default)]
    bucket_counts: Option<Vec<JsonU64>>,
    #[serde(default)]
    explicit_bounds: Option<Vec<JsonF64>>,
    #[serde(default)]
    quantile_values: Option<Vec<Quantile>>,
    #[serde(default)]
    flags: Option<JsonU64>,
}

#[derive(Deserialize)]
struct Quantile {
    #[serde(default)]
    quantile: JsonF64,
    #[serde(default)]
    value: JsonF64,
}

/// Bit 0 of a data point's `flags`: the point has no recorded value.
const FLAG_NO_RECORDED_VALUE: u64 = 1;

/// Parses OTLP/JSON logs (`{"resourceLogs":[…]}`) into [`Observation::Log`]s.
///
/// Each `logRecords[]` element is one record; `record` in an error counts
/// log records across all resources and scopes. The time is `timeUnixNano`,
/// or `observedTimeUnixNano` when that is 0 or absent (a record with neither
/// is an error). The severity comes from `severityNumber`, else
/// `severityText`. The body `AnyValue` becomes text (strings as they are,
/// other values as compact JSON). A non-empty `traceId`/`spanId` must be 32/16
/// hex digits (else the record is an error); they are kept as the attributes
/// `trace_id` and `span_id`.
///
/// # Example
///
/// ```
/// use healbot_core::telemetry::{parse_otlp_logs, Limits, LogSeverity, Observation};
///
/// let json = br#"{"resourceLogs":[{"resource":{"attributes":[
///     {"key":"service.name","value":{"stringValue":"checkout"}}]},
///   "scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000123456789",
///     "severityNumber":17,"body":{"stringValue":"connection refused"}}]}]}]}"#;
/// let parsed = parse_otlp_logs(json, &Limits::default()).unwrap();
/// let Observation::Log(log) = &parsed.observations[0] else { unreachable!() };
/// assert_eq!(log.at, 1_700_000_000_123);
/// assert_eq!(log.severity, Some(LogSeverity::Error));
/// assert_eq!(log.attributes.get("service"), Some("checkout"));
/// ```
///
/// # Errors
///
/// A [`TelemetryError`] when the payload is too large, not JSON, or not an object.
pub fn parse_otlp_logs(json: &[u8], limits: &Limits) -> Result<Parsed, TelemetryError> {
    check_size(json, limits)?;
    let format = PayloadFormat::OtlpLogs;
    let text = utf8(json, format)?;
    let pos = Positions::new(text);
    let data: LogsData<'_> = parse_json_payload(text, &pos, format)?;
    let mut sink = Sink::new(limits);
    let mut index = 0usize;
    for (ri, raw_rl) in data.resource_logs.unwrap_or_default().iter().enumerate() {
        let Some(rl) = nested::<ResourceLogs<'_>>(text, &pos, &mut sink, raw_rl, &format!("resourceLogs[{ri}]")) else {
            continue;
        };
        let resource = match resource_labels(rl.resource.as_ref()) {
            Ok(l) => l,
            Err(msg) => {
                sink.error(pos.line_col(raw_offset(text, raw_rl)), None, format!("resourceLogs[{ri}].resource: {msg}"));
                continue;
            }
        };
        for (si, raw_sl) in rl.scope_logs.unwrap_or_default().iter().enumerate() {
            let path = format!("resourceLogs[{ri}].scopeLogs[{si}]");
            let Some(sl) = nested::<ScopeLogs<'_>>(text, &pos, &mut sink, raw_sl, &path) else {
                continue;
            };
            for (li, raw) in sl.log_records.unwrap_or_default().iter().enumerate() {
                let base = raw_offset(text, raw);
                // The path is formatted only on error: most records are good.
                match serde_json::from_str::<RawLog>(raw.get()) {
                    Ok(rec) => match log_record(rec, &resource) {
                        Ok(log) => sink.push(Observation::Log(log)),
                        Err(msg) => {
                            sink.error(pos.line_col(base), Some(index), format!("{path}.logRecords[{li}]: {msg}"))
                        }
                    },
                    Err(e) => {
                        let at = pos.json_error_offset(base, raw.get(), &e);
                        sink.error(
                            pos.line_col(at),
                            Some(index),
                            format!("{path}.logRecords[{li}]: {}", strip_position(&e)),
                        );
                    }
                }
                index += 1;
            }
        }
    }
    Ok(sink.finish())
}

/// Parses OTLP/JSON metrics (`{"resourceMetrics":[…]}`) into
/// [`Observation::Metric`]s.
///
/// Each metric is one record (`record` in an error counts metrics across all
/// resources and scopes; an error in a data point points at the point).
/// `gauge` and `sum` points become one sample each (`asInt` also gives
/// [`MetricSample::exact`]); a sum's `aggregationTemporality` (1 delta,
/// 2 cumulative) and `isMonotonic` are kept in [`MetricSample::kind`], not in
/// the labels. A `histogram` point becomes cumulative `<name>_bucket` samples
/// with `le` (the last `+Inf`), `<name>_sum` (when present) and
/// `<name>_count`, as in Prometheus; a `summary` point becomes `<name>` with
/// `quantile`, `<name>_sum` and `<name>_count`. Exponential histograms and
/// points flagged "no recorded value" are counted as
/// [`DropReason::Unsupported`].
///
/// # Example
///
/// ```
/// use healbot_core::telemetry::{parse_otlp_metrics, Limits, Observation};
///
/// let json = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"queue_depth",
///   "gauge":{"dataPoints":[{"timeUnixNano":"1700000000000000000","asInt":"9007199254740993",
///     "attributes":[{"key":"queue","value":{"stringValue":"orders"}}]}]}}]}]}]}"#;
/// let parsed = parse_otlp_metrics(json, &Limits::default()).unwrap();
/// let Observation::Metric(m) = &parsed.observations[0] else { unreachable!() };
/// assert_eq!(m.exact, Some(9_007_199_254_740_993));
/// assert_eq!(m.labels.get("queue"), Some("orders"));
/// ```
///
/// # Errors
///
/// A [`TelemetryError`] when the payload is too large, not JSON, or not an object.
pub fn parse_otlp_metrics(json: &[u8], limits: &Limits) -> Result<Parsed, TelemetryError> {
    check_size(json, limits)?;
    let format = PayloadFormat::OtlpMetrics;
    let text = utf8(json, format)?;
    let pos = Positions::new(text);
    let data: MetricsData<'_> = parse_json_payload(text, &pos, format)?;
    let mut sink = Sink::new(limits);
    let mut index = 0usize;
    for (ri, raw_rm) in data.resource_metrics.unwrap_or_default().iter().enumerate() {
        let path = format!("resourceMetrics[{ri}]");
        let Some(rm) = nested::<ResourceMetrics<'_>>(text, &pos, &mut sink, raw_rm, &path) else {
            continue;
        };
        let resource = match resource_labels(rm.resource.as_ref()) {
            Ok(l) => l,
            Err(msg) => {
                sink.error(pos.line_col(raw_offset(text, raw_rm)), None, format!("{path}.resource: {msg}"));
                continue;
            }
        };
        for (si, raw_sm) in rm.scope_metrics.unwrap_or_default().iter().enumerate() {
            let path = format!("{path}.scopeMetrics[{si}]");
            let Some(sm) = nested::<ScopeMetrics<'_>>(text, &pos, &mut sink, raw_sm, &path) else {
                continue;
            };
            for (mi, raw) in sm.metrics.unwrap_or_default().iter().enumerate() {
                let path = format!("{path}.metrics[{mi}]");
                let ctx = Ctx { text, pos: &pos, resource: &resource, index, path: &path };
                metric(&ctx, &mut sink, raw);
                index += 1;
            }
        }
    }
    Ok(sink.finish())
}

struct Ctx<'c> {
    text: &'c str,
    pos: &'c Positions<'c>,
    resource: &'c Labels,
    index: usize,
    path: &'c str,
}

/// Deserialises a nesting level; an error is reported (with no record index)
/// and `None` returned.
fn nested<'a, T: Deserialize<'a>>(
    text: &str,
    pos: &Positions<'_>,
    sink: &mut Sink<'_>,
    raw: &'a RawValue,
    path: &str,
) -> Option<T> {
    match serde_json::from_str::<T>(raw.get()) {
        Ok(v) => Some(v),
        Err(e) => {
            let at = pos.json_error_offset(raw_offset(text, raw), raw.get(), &e);
            sink.error(pos.line_col(at), None, format!("{path}: {}", strip_position(&e)));
            None
        }
    }
}

fn resource_labels(resource: Option<&Resource>) -> Result<Labels, String> {
    let attrs = resource.and_then(|r| r.attributes.as_deref()).unwrap_or_default();
    let mut labels = attributes(attrs)?;
    if let Some(service) = labels.get("service.name").map(str::to_string) {
        if !labels.contains_key("service") {
            labels.insert("service", service);
        }
    }
    Ok(labels)
}

fn attributes(attrs: &[KeyValue]) -> Result<Labels, String> {
    let mut out = Vec::with_capacity(attrs.len());
    for kv in attrs {
        let v = match &kv.value {
            Some(v) => json_to_label(&any_value(v).map_err(|e| format!("attribute `{}`: {e}", truncate(&kv.key, 64)))?),
            None => String::new(),
        };
        out.push((kv.key.clone(), v));
    }
    Ok(out.into_iter().collect())
}

/// Resource labels overlaid with a record's own attributes.
fn merged(resource: &Labels, own: &[KeyValue]) -> Result<Labels, String> {
    let own = attributes(own)?;
    let mut labels = resource.clone();
    for (k, v) in own.iter() {
        labels.insert(k, v);
    }
    Ok(labels)
}

/// An OTLP `AnyValue` as a plain JSON value: integers stay exact, maps are
/// sorted by key.
fn any_value(v: &Value) -> Result<Value, String> {
    let Value::Object(map) = v else {
        return Err(format!("an AnyValue must be an object, found {}", json_type(v)));
    };
    let Some((kind, inner)) = map.iter().next() else {
        return Ok(Value::Null);
    };
    if map.len() > 1 {
        return Err("an AnyValue must have exactly one field".to_string());
    }
    match (kind.as_str(), inner) {
        ("stringValue", Value::String(_)) | ("boolValue", Value::Bool(_)) | ("bytesValue", Value::String(_)) => {
            Ok(inner.clone())
        }
        ("intValue", Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(inner.clone()),
        ("intValue", Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(|i| Value::Number(Number::from(i)))
            .map_err(|_| format!("`intValue` `{}` is not a 64-bit integer", truncate(s, 40))),
        ("doubleValue", Value::Number(_)) => Ok(inner.clone()),
        ("doubleValue", Value::String(s)) => match s.as_str() {
            "NaN" | "Infinity" | "-Infinity" => Ok(inner.clone()),
            _ => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| format!("`doubleValue` `{}` is not a number", truncate(s, 40))),
        },
        ("arrayValue", Value::Object(arr)) => {
            let values = match arr.get("values") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(vs)) => vs.iter().map(any_value).collect::<Result<_, _>>()?,
                Some(other) => return Err(format!("`arrayValue.values` must be an array, found {}", json_type(other))),
            };
            Ok(Value::Array(values))
        }
        ("kvlistValue", Value::Object(kvl)) => {
            let mut out = Map::new();
            match kvl.get("values") {
                None | Some(Value::Null) => {}
                Some(Value::Array(vs)) => {
                    for kv in vs {
                        let key = kv.get("key").and_then(Value::as_str).ok_or("a `kvlistValue` entry has no `key`")?;
                        let value = match kv.get("value") {
                            None | Some(Value::Null) => Value::Null,
                            Some(v) => any_value(v)?,
                        };
                        out.insert(key.to_string(), value);
                    }
                }
                Some(other) => {
                    return Err(format!("`kvlistValue.values` must be an array, found {}", json_type(other)))
                }
            }
            Ok(Value::Object(out))
        }
        (k, other) => Err(format!("unknown AnyValue field `{}` or wrong type ({})", truncate(k, 40), json_type(other))),
    }
}

fn hex_id(id: Option<&str>, len: usize, what: &str) -> Result<Option<String>, String> {
    match id {
        None | Some("") => Ok(None),
        Some(s) if s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
            if s.bytes().all(|b| b == b'0') {
                Ok(None)
            } else {
                Ok(Some(s.to_ascii_lowercase()))
            }
        }
        Some(s) => Err(format!("`{what}` `{}` must be {len} hex digits", truncate(s, 40))),
    }
}

fn severity(number: Option<&Value>, text: Option<&str>) -> Result<Option<LogSeverity>, String> {
    let from_number = match number {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => LogSeverity::from_otlp_number(i),
            None => return Err(format!("`severityNumber` {n} is not an integer")),
        },
        Some(Value::String(s)) => {
            // The enum name, e.g. SEVERITY_NUMBER_ERROR or SEVERITY_NUMBER_WARN2.
            match s.strip_prefix("SEVERITY_NUMBER_") {
                Some("UNSPECIFIED") => None,
                Some(rest) => Some(rest.parse::<LogSeverity>()?),
                None => return Err(format!("unknown `severityNumber` `{}`", truncate(s, 40))),
            }
        }
        Some(other) => return Err(format!("`severityNumber` must be a number, found {}", json_type(other))),
    };
    Ok(from_number.or_else(|| text.and_then(|t| t.parse().ok())))
}

fn log_record(rec: RawLog, resource: &Labels) -> Result<LogRecord, String> {
    let ns = rec
        .time_unix_nano
        .filter(|t| t.0 > 0)
        .or(rec.observed_time_unix_nano.filter(|t| t.0 > 0))
        .ok_or("no `timeUnixNano` nor `observedTimeUnixNano`")?;
    let severity = severity(rec.severity_number.as_ref(), rec.severity_text.as_deref())?;
    let body = match rec.body.as_ref() {
        None | Some(Value::Null) => String::new(),
        Some(b) => json_to_label(&any_value(b).map_err(|e| format!("body: {e}"))?),
    };
    let trace_id = hex_id(rec.trace_id.as_deref(), 32, "traceId")?;
    let span_id = hex_id(rec.span_id.as_deref(), 16, "spanId")?;
    let mut attributes = merged(resource, rec.attributes.as_deref().unwrap_or_default())?;
    if let Some(t) = trace_id {
        attributes.insert("trace_id", t);
    }
    if let Some(s) = span_id {
        attributes.insert("span_id", s);
    }
    Ok(LogRecord { body, attributes, severity, at: nanos_to_millis(ns.0) })
}

fn temporality(v: Option<&Value>) -> Result<Temporality, String> {
    Ok(match v {
        None | Some(Value::Null) => Temporality::Unspecified,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => Temporality::Unspecified,
            Some(1) => Temporality::Delta,
            Some(2) => Temporality::Cumulative,
            _ => return Err(format!("unknown `aggregationTemporality` {n}")),
        },
        Some(Value::String(s)) => match s.as_str() {
            "AGGREGATION_TEMPORALITY_UNSPECIFIED" => Temporality::Unspecified,
            "AGGREGATION_TEMPORALITY_DELTA" => Temporality::Delta,
            "AGGREGATION_TEMPORALITY_CUMULATIVE" => Temporality::Cumulative,
            _ => return Err(format!("unknown `aggregationTemporality` `{}`", truncate(s, 40))),
        },
        Some(other) => return Err(format!("`aggregationTemporality` must be a number, found {}", json_type(other))),
    })
}

enum Data<'m, 'a> {
    Number(&'m Points<'a>, MetricKind),
    Histogram(&'m Points<'a>, MetricKind),
    Summary(&'m Points<'a>),
}

fn metric(ctx: &Ctx<'_>, sink: &mut Sink<'_>, raw: &RawValue) {
    let base = raw_offset(ctx.text, raw);
    let m: RawMetric<'_> = match serde_json::from_str(raw.get()) {
        Ok(m) => m,
        Err(e) => {
            let at = ctx.pos.json_error_offset(base, raw.get(), &e);
            sink.error(ctx.pos.line_col(at), Some(ctx.index), format!("{}: {}", ctx.path, strip_position(&e)));
            return;
        }
    };
    let here = ctx.pos.line_col(base);
    if m.name.is_empty() {
        sink.error(here, Some(ctx.index), format!("{}: the metric has no `name`", ctx.path));
        return;
    }
    let data = match (&m.gauge, &m.sum, &m.histogram, &m.summary) {
        (Some(g), None, None, None) => Data::Number(g, MetricKind::Gauge),
        (None, Some(s), None, None) => match temporality(s.aggregation_temporality.as_ref()) {
            Ok(t) => Data::Number(s, MetricKind::Sum { monotonic: s.is_monotonic.unwrap_or(false), temporality: t }),
            Err(msg) => {
                sink.error(here, Some(ctx.index), format!("{}.sum: {msg}", ctx.path));
                return;
            }
        },
        (None, None, Some(h), None) => match temporality(h.aggregation_temporality.as_ref()) {
            Ok(t) => Data::Histogram(h, MetricKind::Histogram { temporality: t }),
            Err(msg) => {
                sink.error(here, Some(ctx.index), format!("{}.histogram: {msg}", ctx.path));
                return;
            }
        },
        (None, None, None, Some(s)) => Data::Summary(s),
        (None, None, None, None) if m.exponential_histogram.is_some() => {
            sink.drop(DropReason::Unsupported);
            return;
        }
        (None, None, None, None) => {
            sink.error(
                here,
                Some(ctx.index),
                format!("{}: the metric has no data (gauge, sum, histogram or summary)", ctx.path),
            );
            return;
        }
        _ => {
            sink.error(here, Some(ctx.index), format!("{}: the metric has more than one data field", ctx.path));
            return;
        }
    };
    let points = match &data {
        Data::Number(p, _) | Data::Histogram(p, _) | Data::Summary(p) => p.data_points.as_deref().unwrap_or_default(),
    };
    for (pi, raw_point) in points.iter().enumerate() {
        let pbase = raw_offset(ctx.text, raw_point);
        let result = match &data {
            Data::Number(_, kind) => number_point(&m.name, *kind, ctx.resource, raw_point),
            Data::Histogram(_, kind) => histogram_point(&m.name, *kind, ctx.resource, raw_point),
            Data::Summary(_) => histogram_point(&m.name, MetricKind::Summary, ctx.resource, raw_point),
        };
        match result {
            Ok(Some(samples)) => {
                for s in samples {
                    sink.push(Observation::Metric(s));
                }
            }
            Ok(None) => sink.drop(DropReason::Unsupported),
            Err((offset, msg)) => sink.error(
                ctx.pos.line_col(pbase + offset),
                Some(ctx.index),
                format!("{}.dataPoints[{pi}]: {msg}", ctx.path),
            ),
        }
    }
}

/// The error of a data point: a byte offset inside the point, and a message.
type PointError = (usize, String);

fn point_json<'a, T: Deserialize<'a>>(raw: &'a RawValue) -> Result<T, PointError> {
    serde_json::from_str(raw.get())
        .map_err(|e| (super::common::offset_in(raw.get(), e.line(), e.column()), strip_position(&e)))
}

fn point_time(t: Option<JsonU64>) -> Result<i64, PointError> {
    match t {
        Some(t) if t.0 > 0 => Ok(nanos_to_millis(t.0)),
        _ => Err((0, "no `timeUnixNano`".to_string())),
    }
}

fn number_point(
    name: &str,
    kind: MetricKind,
    resource: &Labels,
    raw: &RawValue,
) -> Result<Option<Vec<MetricSample>>, PointError> {
    let p: NumberPoint = point_json(raw)?;
    if p.flags.is_some_and(|f| f.0 & FLAG_NO_RECORDED_VALUE != 0) {
        return Ok(None);
    }
    let at = point_time(p.time_unix_nano)?;
    let labels = merged(resource, p.attributes.as_deref().unwrap_or_default()).map_err(|e| (0, e))?;
    let (value, exact) = match (p.as_int, p.as_double) {
        (Some(i), None) => (i64_to_f64(i.0), Some(i.0)),
        (None, Some(d)) => (d.0, None),
        (None, None) => return Err((0, "the data point has neither `asInt` nor `asDouble`".to_string())),
        (Some(_), Some(_)) => return Err((0, "the data point has both `asInt` and `asDouble`".to_string())),
    };
    Ok(Some(vec![MetricSample { name: name.to_string(), labels, value, exact, kind, at }]))
}

fn count_sample(name: String, labels: Labels, count: u64, kind: MetricKind, at: i64) -> MetricSample {
    MetricSample { name, labels, value: u64_to_f64(count), exact: i64::try_from(count).ok(), kind, at }
}

/// A histogram or summary point as Prometheus-style samples.
fn histogram_point(
    name: &str,
    kind: MetricKind,
    resource: &Labels,
    raw: &RawValue,
) -> Result<Option<Vec<MetricSample>>, PointError> {
    let p: HistogramPoint = point_json(raw)?;
    if p.flags.is_some_and(|f| f.0 & FLAG_NO_RECORDED_VALUE != 0) {
        return Ok(None);
    }
    let at = point_time(p.time_unix_nano)?;
    let labels = merged(resource, p.attributes.as_deref().unwrap_or_default()).map_err(|e| (0, e))?;
    let count = p.count.unwrap_or_default().0;
    let mut out = Vec::new();
    if kind == MetricKind::Summary {
        for q in p.quantile_values.as_deref().unwrap_or_default() {
            let mut l = labels.clone();
            l.insert("quantile", super::common::format_float_label(q.quantile.0));
            out.push(MetricSample { name: name.to_string(), labels: l, value: q.value.0, exact: None, kind, at });
        }
    } else {
        let counts = p.bucket_counts.as_deref().unwrap_or_default();
        let bounds = p.explicit_bounds.as_deref().unwrap_or_default();
        if !counts.is_empty() && counts.len() != bounds.len() + 1 {
            return Err((
                0,
                format!(
                    "{} `bucketCounts` for {} `explicitBounds` (expected one more count than bounds)",
                    counts.len(),
                    bounds.len()
                ),
            ));
        }
        let mut cumulative = 0u64;
        for (i, c) in counts.iter().enumerate() {
            cumulative = cumulative.checked_add(c.0).ok_or((0, "`bucketCounts` overflow 64 bits".to_string()))?;
            let le = bounds.get(i).map_or(f64::INFINITY, |b| b.0);
            let mut l = labels.clone();
            l.insert("le", super::common::format_float_label(le));
            out.push(count_sample(format!("{name}_bucket"), l, cumulative, kind, at));
        }
        if counts.is_empty() {
            let mut l = labels.clone();
            l.insert("le", "+Inf");
            out.push(count_sample(format!("{name}_bucket"), l, count, kind, at));
        } else if cumulative != count {
            return Err((0, format!("`bucketCounts` add up to {cumulative} but `count` is {count}")));
        }
    }
    if let Some(sum) = p.sum {
        out.push(MetricSample {
            name: format!("{name}_sum"),
            labels: labels.clone(),
            value: sum.0,
            exact: None,
            kind,
            at,
        });
    }
    out.push(count_sample(format!("{name}_count"), labels, count, kind, at));
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::test_util::{logs, metrics};
    use proptest::prelude::*;

    const LOGS: &str = r#"{
  "resourceLogs": [
    {
      "resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "checkout"}},
        {"key": "k8s.pod.name", "value": {"stringValue": "checkout-7d9f8c-abcde"}},
        {"key": "host.cpus", "value": {"intValue": "9007199254740993"}}
      ]},
      "scopeLogs": [
        {
          "scope": {"name": "io.opentelemetry.jdbc", "version": "1.2"},
          "logRecords": [
            {
              "timeUnixNano": "1700000000123456789",
              "observedTimeUnixNano": "1700000000200000000",
              "severityNumber": 17,
              "severityText": "ERROR",
              "body": {"stringValue": "connection refused: db:5432"},
              "attributes": [
                {"key": "db.system", "value": {"stringValue": "postgresql"}},
                {"key": "retry", "value": {"intValue": 3}},
                {"key": "ok", "value": {"boolValue": false}},
                {"key": "ratio", "value": {"doubleValue": 0.5}},
                {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "2"}]}}},
                {"key": "ctx", "value": {"kvlistValue": {"values": [{"key": "z", "value": {"stringValue": "1"}}, {"key": "a", "value": {"boolValue": true}}]}}}
              ],
              "traceId": "5B8EFFF798038103D269B633813FC60C",
              "spanId": "EEE19B7EC3C1B174"
            },
            {
              "observedTimeUnixNano": 1700000001000000000,
              "severityText": "Warning",
              "body": {"kvlistValue": {"values": [{"key": "msg", "value": {"stringValue": "slow"}}]}}
            },
            {
              "timeUnixNano": "1700000002000000000",
              "body": {"stringValue": "bad trace"},
              "traceId": "abc"
            },
            {
              "body": {"stringValue": "no time"}
            },
            {
              "timeUnixNano": "17000000x",
              "body": {"stringValue": "bad int"}
            },
            {
              "timeUnixNano": "1700000003000000000",
              "severityNumber": "SEVERITY_NUMBER_INFO",
              "body": {"stringValue": "ok again"},
              "attributes": [{"key": "service.name", "value": {"stringValue": "override"}}]
            }
          ]
        }
      ]
    }
  ]
}"#;

    #[test]
    fn realistic_logs() {
        let p = parse_otlp_logs(LOGS.as_bytes(), &Limits::default()).unwrap();
        let l = logs(&p);
        assert_eq!(l.len(), 3, "{:#?}", p.errors);
        assert_eq!(l[0].at, 1_700_000_000_123);
        assert_eq!(l[0].severity, Some(LogSeverity::Error));
        assert_eq!(l[0].body, "connection refused: db:5432");
        let a = &l[0].attributes;
        assert_eq!(a.get("service"), Some("checkout"));
        assert_eq!(a.get("service.name"), Some("checkout"));
        assert_eq!(a.get("host.cpus"), Some("9007199254740993"));
        assert_eq!(a.get("retry"), Some("3"));
        assert_eq!(a.get("ok"), Some("false"));
        assert_eq!(a.get("ratio"), Some("0.5"));
        assert_eq!(a.get("tags"), Some(r#"["a",2]"#));
        assert_eq!(a.get("ctx"), Some(r#"{"a":true,"z":"1"}"#));
        assert_eq!(a.get("trace_id"), Some("5b8efff798038103d269b633813fc60c"));
        assert_eq!(a.get("span_id"), Some("eee19b7ec3c1b174"));
        assert_eq!(l[1].at, 1_700_000_001_000);
        assert_eq!(l[1].severity, Some(LogSeverity::Warn));
        assert_eq!(l[1].body, r#"{"msg":"slow"}"#);
        assert_eq!(l[2].severity, Some(LogSeverity::Info));
        // A record's own attribute wins over the resource's; `service` stays.
        assert_eq!(l[2].attributes.get("service.name"), Some("override"));
        assert_eq!(l[2].attributes.get("service"), Some("checkout"));
        let recs: Vec<_> = p.errors.iter().map(|e| e.record).collect();
        assert_eq!(recs, [Some(2), Some(3), Some(4)], "{:#?}", p.errors);
        assert!(p.errors[0].message.contains("traceId"));
        assert!(p.errors[1].message.contains("timeUnixNano"));
        assert!(p.errors[2].message.contains("17000000x"), "{}", p.errors[2].message);
        assert_eq!((p.errors[2].line, p.errors[2].column), (44, 41), "{:?}", p.errors[2]);
    }

    const METRICS: &str = r#"{"resourceMetrics":[{
  "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"payments"}}]},
  "scopeMetrics":[{"scope":{"name":"otel"},"metrics":[
    {"name":"queue_depth","unit":"1","gauge":{"dataPoints":[
      {"timeUnixNano":"1700000000123456789","asInt":"9007199254740993","attributes":[{"key":"queue","value":{"stringValue":"orders"}}]},
      {"timeUnixNano":1700000000123456789,"asInt":9007199254740993},
      {"timeUnixNano":"1700000000000000000","asDouble":"NaN"},
      {"timeUnixNano":"1700000000000000000","flags":1}
    ]}},
    {"name":"http.requests","sum":{"aggregationTemporality":1,"isMonotonic":true,"dataPoints":[
      {"startTimeUnixNano":"1699999990000000000","timeUnixNano":"1700000000000000000","asDouble":12.5}
    ]}},
    {"name":"latency","histogram":{"aggregationTemporality":2,"dataPoints":[
      {"timeUnixNano":"1700000000000000000","count":"10","sum":3.5,"bucketCounts":["1","2",7],"explicitBounds":[0.1,0.5]},
      {"timeUnixNano":"1700000000000000000","count":"10","bucketCounts":["1","2"],"explicitBounds":[0.1,0.5]}
    ]}},
    {"name":"rpc","summary":{"dataPoints":[
      {"timeUnixNano":"1700000000000000000","count":"4","sum":2.0,"quantileValues":[{"quantile":0.5,"value":0.4},{"quantile":0.99,"value":1.9}]}
    ]}},
    {"name":"expo","exponentialHistogram":{"dataPoints":[]}},
    {"name":"nodata"},
    {"name":"bad_temporality","sum":{"aggregationTemporality":7,"dataPoints":[]}},
    {"name":"bad_point","gauge":{"dataPoints":[{"timeUnixNano":"1700000000000000000","asInt":1.5e300}]}}
  ]}]
}]}"#;

    #[test]
    fn realistic_metrics() {
        let p = parse_otlp_metrics(METRICS.as_bytes(), &Limits::default()).unwrap();
        let m = metrics(&p);
        assert_eq!(m[0].exact, Some(9_007_199_254_740_993));
        assert_eq!(m[0].at, 1_700_000_000_123);
        assert_eq!(m[0].labels.get("queue"), Some("orders"));
        assert_eq!(m[0].labels.get("service"), Some("payments"));
        assert_eq!(m[0].kind, MetricKind::Gauge);
        assert_eq!(m[1].exact, Some(9_007_199_254_740_993));
        assert_eq!(m[1].at, 1_700_000_000_123);
        assert!(m[2].value.is_nan());
        assert_eq!(m[3].name, "http.requests");
        assert_eq!(m[3].kind, MetricKind::Sum { monotonic: true, temporality: Temporality::Delta });
        assert_eq!(m[3].value, 12.5);
        let hist: Vec<(String, Option<String>, f64)> =
            m[4..9].iter().map(|s| (s.name.clone(), s.labels.get("le").map(str::to_string), s.value)).collect();
        assert_eq!(
            hist,
            [
                ("latency_bucket".to_string(), Some("0.1".to_string()), 1.0),
                ("latency_bucket".to_string(), Some("0.5".to_string()), 3.0),
                ("latency_bucket".to_string(), Some("+Inf".to_string()), 10.0),
                ("latency_sum".to_string(), None, 3.5),
                ("latency_count".to_string(), None, 10.0),
            ]
        );
        assert_eq!(m[4].kind, MetricKind::Histogram { temporality: Temporality::Cumulative });
        assert_eq!(m[9].labels.get("quantile"), Some("0.5"));
        assert_eq!(m[11].name, "rpc_sum");
        assert_eq!(m[12].name, "rpc_count");
        assert_eq!(m[12].exact, Some(4));
        assert_eq!(m.len(), 13);
        // flags=1 point and the exponential histogram.
        assert_eq!(p.dropped.unsupported, 2);
        let errs: Vec<_> = p.errors.iter().map(|e| (e.record, e.line)).collect();
        assert_eq!(errs, [(Some(2), 15), (Some(5), 21), (Some(6), 22), (Some(7), 23)], "{:#?}", p.errors);
    }

    #[test]
    fn int64_precision_of_timestamps() {
        let json = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000123456789"},{"timeUnixNano":1700000000123999999}]}]}]}"#;
        let p = parse_otlp_logs(json.as_bytes(), &Limits::default()).unwrap();
        let at: Vec<i64> = p.observations.iter().map(Observation::at).collect();
        assert_eq!(at, [1_700_000_000_123, 1_700_000_000_123]);
    }

    #[test]
    fn bad_nesting_is_contained() {
        let json = r#"{"resourceLogs":[{"scopeLogs":5},{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1"}]}]}]}"#;
        let p = parse_otlp_logs(json.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(p.observations.len(), 1);
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].record, None);
        assert!(parse_otlp_logs(b"[1]", &Limits::default()).is_err());
        assert!(parse_otlp_metrics(b"{\"resourceMetrics\":{}}", &Limits::default()).is_err());
        assert!(parse_otlp_metrics(b"{}", &Limits::default()).unwrap().observations.is_empty());
    }

    #[test]
    fn log_limits() {
        let l = Limits { max_log_line_len: 10, ..Limits::default() };
        let p = parse_otlp_logs(LOGS.as_bytes(), &l).unwrap();
        assert_eq!(p.dropped.log_line_too_long, 2);
        assert_eq!(p.observations.len(), 1);
    }

    #[test]
    fn metric_limits() {
        // Each histogram sample has `service.name`, `service` and `le`: 3 labels.
        let l = Limits { max_label_pairs: 2, max_records: 100, ..Limits::default() };
        let p = parse_otlp_metrics(METRICS.as_bytes(), &l).unwrap();
        // queue_depth's first point (3 labels) and the 3 buckets and 2 quantiles.
        assert_eq!(p.dropped.too_many_labels, 6, "{:?}", p.dropped);
        assert_eq!(p.observations.len(), 7);
    }

    proptest! {
        #[test]
        fn logs_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_otlp_logs(&bytes, &Limits::default());
        }

        #[test]
        fn metrics_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_otlp_metrics(&bytes, &Limits::default());
        }

        #[test]
        fn metrics_never_panic_json_like(
            count in "\"?[0-9]{0,21}\"?",
            buckets in proptest::collection::vec("\"?[0-9]{0,20}\"?", 0..4),
            bounds in proptest::collection::vec("-?[0-9]{1,3}(\\.[0-9])?|\"NaN\"|\"Infinity\"", 0..4),
            kind in "gauge|sum|histogram|summary",
        ) {
            let json = format!(
                r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[{{"name":"m","{kind}":{{"dataPoints":[{{"timeUnixNano":{count},"count":{count},"asInt":{count},"bucketCounts":[{}],"explicitBounds":[{}]}}]}}}}]}}]}}]}}"#,
                buckets.join(","),
                bounds.join(","),
            );
            let _ = parse_otlp_metrics(json.as_bytes(), &Limits::default());
        }
    }
}
