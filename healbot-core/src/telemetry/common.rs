//! Helpers shared by the parsers: positions, limits, timestamps, integers
//! that never pass through `f64`, fingerprints.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{DropReason, Labels, Limits, Observation, Parsed, PayloadFormat, RecordError, TelemetryError};

/// Rejects a payload over the size limit.
pub(crate) fn check_size(payload: &[u8], limits: &Limits) -> Result<(), TelemetryError> {
    if payload.len() > limits.max_payload_bytes {
        return Err(TelemetryError::PayloadTooLarge { size: payload.len(), limit: limits.max_payload_bytes });
    }
    Ok(())
}

/// Maps byte offsets of a text to 1-based lines and character columns.
#[derive(Debug)]
pub(crate) struct Positions<'t> {
    text: &'t str,
    line_starts: Vec<usize>,
}

impl<'t> Positions<'t> {
    pub(crate) fn new(text: &'t str) -> Positions<'t> {
        let mut line_starts = vec![0];
        line_starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        Positions { text, line_starts }
    }

    /// The line and column of a byte offset (clamped into the text).
    pub(crate) fn line_col(&self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while offset > 0 && !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let idx = self.line_starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = self.line_starts.get(idx).copied().unwrap_or(0);
        let col = self.text.get(start..offset).map_or(0, |s| s.chars().count());
        (to_u32(idx + 1), to_u32(col + 1))
    }

    /// The byte offset of a serde_json error in a slice of this text that
    /// starts at byte `base`.
    pub(crate) fn json_error_offset(&self, base: usize, slice: &str, err: &serde_json::Error) -> usize {
        base + offset_in(slice, err.line(), err.column())
    }
}

/// The byte offset of a 1-based (line, byte column) position in `text`,
/// as serde_json reports them.
pub(crate) fn offset_in(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0usize;
    if line > 1 {
        let mut seen = 1usize;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                seen += 1;
                if seen == line {
                    start = i + 1;
                    break;
                }
            }
        }
    }
    (start + column.saturating_sub(1)).min(text.len())
}

pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The byte offset of a borrowed raw JSON value inside the text it was
/// parsed from.
pub(crate) fn raw_offset(text: &str, raw: &RawValue) -> usize {
    let base = text.as_ptr() as usize;
    let at = raw.get().as_ptr() as usize;
    at.saturating_sub(base).min(text.len())
}

/// The payload as UTF-8 text, or a fatal error at the first invalid byte.
pub(crate) fn utf8(payload: &[u8], format: PayloadFormat) -> Result<&str, TelemetryError> {
    std::str::from_utf8(payload).map_err(|e| {
        let good = payload.get(..e.valid_up_to()).and_then(|p| std::str::from_utf8(p).ok()).unwrap_or("");
        let (line, column) = Positions::new(good).line_col(good.len());
        TelemetryError::Malformed { format, line, column, message: "the payload is not valid UTF-8".to_string() }
    })
}

/// Parses a whole JSON payload into `T`, mapping a failure to a fatal error.
pub(crate) fn parse_json_payload<'t, T: Deserialize<'t>>(
    text: &'t str,
    pos: &Positions<'_>,
    format: PayloadFormat,
) -> Result<T, TelemetryError> {
    serde_json::from_str(text).map_err(|e| {
        let (line, column) = pos.line_col(pos.json_error_offset(0, text, &e));
        TelemetryError::Malformed { format, line, column, message: strip_position(&e) }
    })
}

/// The records of a payload that is an array of them or one object: the
/// array's items, or what `object` makes of the object (it is given the
/// object). Anything else is a fatal error saying `expected`.
pub(crate) fn json_records<'t>(
    text: &'t str,
    pos: &Positions<'_>,
    format: PayloadFormat,
    expected: &str,
    object: impl FnOnce(&'t RawValue) -> Result<Vec<&'t RawValue>, TelemetryError>,
) -> Result<Vec<&'t RawValue>, TelemetryError> {
    let top: &RawValue = parse_json_payload(text, pos, format)?;
    match top.get().as_bytes().first() {
        Some(b'[') => parse_json_payload(text, pos, format),
        Some(b'{') => object(top),
        _ => {
            let (line, column) = pos.line_col(raw_offset(text, top));
            Err(TelemetryError::Malformed { format, line, column, message: expected.to_string() })
        }
    }
}

/// A serde_json error's message without its " at line L column C" suffix
/// (we report our own positions).
pub(crate) fn strip_position(err: &serde_json::Error) -> String {
    let msg = err.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

/// Collects observations and errors under the limits.
#[derive(Debug)]
pub(crate) struct Sink<'l> {
    pub(crate) parsed: Parsed,
    limits: &'l Limits,
}

impl<'l> Sink<'l> {
    pub(crate) fn new(limits: &'l Limits) -> Sink<'l> {
        Sink { parsed: Parsed::default(), limits }
    }

    /// Keeps `obs` unless a limit drops it.
    pub(crate) fn push(&mut self, obs: Observation) {
        if self.parsed.observations.len() >= self.limits.max_records {
            self.parsed.dropped.add(DropReason::TooManyRecords);
            return;
        }
        if let Some(reason) = check_limits(&obs, self.limits) {
            self.parsed.dropped.add(reason);
            return;
        }
        self.parsed.observations.push(obs);
    }

    pub(crate) fn drop(&mut self, reason: DropReason) {
        self.parsed.dropped.add(reason);
    }

    pub(crate) fn error(&mut self, (line, column): (u32, u32), record: Option<usize>, message: impl Into<String>) {
        self.parsed.errors.push(RecordError { line, column, record, message: message.into() });
    }

    pub(crate) fn finish(self) -> Parsed {
        self.parsed
    }
}

fn check_labels(labels: &Labels, limits: &Limits) -> Option<DropReason> {
    check_label_pairs(labels.len(), labels.iter(), limits)
}

/// Why the label limits drop a set of `len` unique pairs, if they do.
pub(crate) fn check_label_pairs<'a>(
    len: usize,
    mut pairs: impl Iterator<Item = (&'a str, &'a str)>,
    limits: &Limits,
) -> Option<DropReason> {
    if len > limits.max_label_pairs {
        return Some(DropReason::TooManyLabels);
    }
    if pairs.any(|(k, v)| k.len() > limits.max_label_value_len || v.len() > limits.max_label_value_len) {
        return Some(DropReason::LabelValueTooLong);
    }
    None
}

/// Why a limit drops `obs`, if one does. Labels, log attributes, alert
/// labels and annotations, and event labels are bounded by the label limits;
/// log bodies and event messages by the log line limit.
pub(crate) fn check_limits(obs: &Observation, limits: &Limits) -> Option<DropReason> {
    match obs {
        Observation::Metric(m) => check_labels(&m.labels, limits),
        Observation::Log(l) => check_labels(&l.attributes, limits)
            .or_else(|| (l.body.len() > limits.max_log_line_len).then_some(DropReason::LogLineTooLong)),
        Observation::Alert(a) => check_labels(&a.labels, limits).or_else(|| check_labels(&a.annotations, limits)),
        Observation::Event(e) => check_labels(&e.labels, limits)
            .or_else(|| (e.message.len() > limits.max_log_line_len).then_some(DropReason::LogLineTooLong)),
    }
}

/// Parses an RFC 3339 timestamp (fractional seconds allowed) to Unix
/// milliseconds, truncating sub-millisecond digits towards negative infinity.
pub(crate) fn parse_rfc3339(s: &str) -> Result<i64, String> {
    let ts: jiff::Timestamp =
        s.trim().parse().map_err(|e| format!("invalid RFC 3339 timestamp `{}`: {e}", truncate(s, 64)))?;
    Ok(ts.as_millisecond())
}

/// `0001-01-01T00:00:00Z`, Go's zero time, which Alertmanager and
/// Kubernetes send for "unset".
pub(crate) const GO_ZERO_TIME_MS: i64 = -62_135_596_800_000;

/// Parses an optional timestamp where empty strings and Go's zero time mean unset.
pub(crate) fn parse_optional_time(s: Option<&str>) -> Result<Option<i64>, String> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => {
            let ms = parse_rfc3339(s)?;
            Ok((ms > GO_ZERO_TIME_MS).then_some(ms))
        }
    }
}

/// Unix nanoseconds to milliseconds, exactly (integer division).
pub(crate) fn nanos_to_millis(ns: u64) -> i64 {
    i64::try_from(ns / 1_000_000).unwrap_or(i64::MAX)
}

/// At most `n` characters of `s`, for quoting input in messages.
pub(crate) fn truncate(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// FNV-1a 64 over the sorted labels (`key 0xff value 0xff` each), as 16
/// lowercase hex digits: a deterministic fingerprint for alerts that carry none.
pub(crate) fn fingerprint(labels: &Labels) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(PRIME);
        }
    };
    for (k, v) in labels.iter() {
        eat(k.as_bytes());
        eat(&[0xff]);
        eat(v.as_bytes());
        eat(&[0xff]);
    }
    format!("{h:016x}")
}

/// Renders a JSON value as a label value: strings as they are, other values
/// as compact JSON (integers exactly as written).
pub(crate) fn json_to_label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A string-to-string map read from a JSON object; non-string values are an error.
pub(crate) fn string_map(v: &Value, what: &str) -> Result<Labels, String> {
    match v {
        Value::Null => Ok(Labels::new()),
        Value::Object(map) => {
            let mut out = Vec::with_capacity(map.len());
            for (k, v) in map {
                match v {
                    Value::String(s) => out.push((k.clone(), s.clone())),
                    other => return Err(format!("`{what}.{k}` must be a string, found {}", json_type(other))),
                }
            }
            Ok(out.into_iter().collect())
        }
        other => Err(format!("`{what}` must be an object, found {}", json_type(other))),
    }
}

/// The JSON type name of a value, for messages.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A 64-bit unsigned integer written as a JSON number or a decimal string
/// (the protobuf JSON mapping of `uint64`/`fixed64`). Never read through
/// `f64`: a float is accepted only when integral and below 2^53.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct JsonU64(pub u64);

/// A 64-bit signed integer written as a JSON number or a decimal string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct JsonI64(pub i64);

/// A double written as a JSON number or a string (`"NaN"`, `"Infinity"`,
/// `"-Infinity"` or a decimal), as the protobuf JSON mapping allows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct JsonF64(pub f64);

const MAX_SAFE: f64 = 9_007_199_254_740_992.0;

struct U64Visitor;

impl Visitor<'_> for U64Visitor {
    type Value = JsonU64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an unsigned 64-bit integer as a number or a string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonU64, E> {
        Ok(JsonU64(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonU64, E> {
        u64::try_from(v).map(JsonU64).map_err(|_| E::custom(format!("{v} is negative, expected an unsigned integer")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonU64, E> {
        if v.fract() == 0.0 && (0.0..MAX_SAFE).contains(&v) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            return Ok(JsonU64(v as u64));
        }
        Err(E::custom(format!("{v} is not an unsigned 64-bit integer (write large integers as strings)")))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<JsonU64, E> {
        s.trim()
            .parse::<u64>()
            .map(JsonU64)
            .map_err(|_| E::custom(format!("`{}` is not an unsigned 64-bit integer", truncate(s, 40))))
    }
}

impl<'de> Deserialize<'de> for JsonU64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JsonU64, D::Error> {
        d.deserialize_any(U64Visitor)
    }
}

struct I64Visitor;

impl Visitor<'_> for I64Visitor {
    type Value = JsonI64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a signed 64-bit integer as a number or a string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonI64, E> {
        i64::try_from(v).map(JsonI64).map_err(|_| E::custom(format!("{v} does not fit a signed 64-bit integer")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonI64, E> {
        Ok(JsonI64(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonI64, E> {
        if v.fract() == 0.0 && (-MAX_SAFE..MAX_SAFE).contains(&v) {
            #[allow(clippy::cast_possible_truncation)]
            return Ok(JsonI64(v as i64));
        }
        Err(E::custom(format!("{v} is not a signed 64-bit integer (write large integers as strings)")))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<JsonI64, E> {
        s.trim()
            .parse::<i64>()
            .map(JsonI64)
            .map_err(|_| E::custom(format!("`{}` is not a signed 64-bit integer", truncate(s, 40))))
    }
}

impl<'de> Deserialize<'de> for JsonI64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JsonI64, D::Error> {
        d.deserialize_any(I64Visitor)
    }
}

struct F64Visitor;

impl Visitor<'_> for F64Visitor {
    type Value = JsonF64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, or \"NaN\", \"Infinity\" or \"-Infinity\"")
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonF64, E> {
        Ok(JsonF64(v as f64))
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonF64, E> {
        Ok(JsonF64(v as f64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonF64, E> {
        Ok(JsonF64(v))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<JsonF64, E> {
        match s.trim() {
            "NaN" => Ok(JsonF64(f64::NAN)),
            "Infinity" => Ok(JsonF64(f64::INFINITY)),
            "-Infinity" => Ok(JsonF64(f64::NEG_INFINITY)),
            t => t
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(JsonF64)
                .ok_or_else(|| E::custom(format!("`{}` is not a number", truncate(s, 40)))),
        }
    }
}

impl<'de> Deserialize<'de> for JsonF64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JsonF64, D::Error> {
        d.deserialize_any(F64Visitor)
    }
}

/// The exact `i64` of a JSON number, when it is an integer that fits.
pub(crate) fn json_exact_i64(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| n.as_u64().and_then(|u| i64::try_from(u).ok()))
}

/// An `i64` as the nearest `f64`.
#[allow(clippy::cast_precision_loss)]
pub(crate) fn i64_to_f64(v: i64) -> f64 {
    v as f64
}

/// A `u64` as the nearest `f64`.
#[allow(clippy::cast_precision_loss)]
pub(crate) fn u64_to_f64(v: u64) -> f64 {
    v as f64
}

/// Formats a bucket bound or quantile as Prometheus does for `le` and
/// `quantile`: `+Inf`, `-Inf`, `NaN`, or the shortest decimal that reads back
/// to the same `f64` (`1`, `0.25`, `1e-7` printed as `0.0000001`).
pub(crate) fn format_float_label(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters() {
        let p = Positions::new("ab\nçd\n\nx");
        assert_eq!(p.line_col(0), (1, 1));
        assert_eq!(p.line_col(3), (2, 1));
        assert_eq!(p.line_col(5), (2, 2)); // after the 2-byte ç
        assert_eq!(p.line_col(4), (2, 1)); // inside ç: clamped back
        assert_eq!(p.line_col(7), (3, 1));
        assert_eq!(p.line_col(100), (4, 2));
    }

    #[test]
    fn integers_never_through_f64() {
        let v: Vec<JsonU64> = serde_json::from_str(r#"["1700000000123456789", 18446744073709551615, 3.0]"#).unwrap();
        assert_eq!(v, [JsonU64(1_700_000_000_123_456_789), JsonU64(u64::MAX), JsonU64(3)]);
        let v: Vec<JsonI64> = serde_json::from_str(r#"["9007199254740993", -9007199254740993]"#).unwrap();
        assert_eq!(v, [JsonI64(9_007_199_254_740_993), JsonI64(-9_007_199_254_740_993)]);
        assert!(serde_json::from_str::<JsonU64>("1e300").is_err());
        assert!(serde_json::from_str::<JsonU64>("\"12x\"").is_err());
        assert!(serde_json::from_str::<JsonI64>("18446744073709551615").is_err());
        let f: Vec<JsonF64> = serde_json::from_str(r#"["NaN","Infinity","-Infinity","2.5",1]"#).unwrap();
        assert!(f[0].0.is_nan());
        assert_eq!(f[1].0, f64::INFINITY);
        assert_eq!(f[2].0, f64::NEG_INFINITY);
        assert_eq!(f[3].0, 2.5);
        assert_eq!(nanos_to_millis(1_700_000_000_123_456_789), 1_700_000_000_123);
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20.123456Z").unwrap(), 1_700_000_000_123);
        assert_eq!(parse_rfc3339("2023-11-14T23:13:20+01:00").unwrap(), 1_700_000_000_000);
        assert_eq!(parse_optional_time(Some("0001-01-01T00:00:00Z")).unwrap(), None);
        assert_eq!(parse_optional_time(Some("")).unwrap(), None);
        assert!(parse_rfc3339("yesterday").is_err());
    }

    #[test]
    fn fingerprint_is_stable() {
        let a: Labels = [("alertname", "X"), ("job", "api")].into_iter().collect();
        let b: Labels = [("job", "api"), ("alertname", "X")].into_iter().collect();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a).len(), 16);
        assert_eq!(fingerprint(&Labels::new()), "cbf29ce484222325");
    }

    #[test]
    fn float_labels() {
        assert_eq!(format_float_label(1.0), "1");
        assert_eq!(format_float_label(0.25), "0.25");
        assert_eq!(format_float_label(f64::INFINITY), "+Inf");
    }
}
