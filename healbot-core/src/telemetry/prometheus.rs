//! Prometheus text exposition format 0.0.4.

use std::collections::BTreeMap;

use super::common::{check_size, i64_to_f64, to_u32, Sink};
use super::{Limits, MetricKind, MetricSample, Observation, Parsed, TelemetryError, Temporality};

/// Parses Prometheus text exposition (0.0.4) into [`Observation::Metric`]s.
///
/// Each sample line is one record; samples without a timestamp get
/// `default_at`. `# HELP` and `# TYPE` lines are read (the type becomes
/// [`MetricSample::kind`] for the family's series, including a histogram's
/// `_bucket`/`_sum`/`_count` and a summary's `_sum`/`_count`); other comments
/// and blank lines are skipped; OpenMetrics' `# EOF` ends the payload.
/// Histogram and summary series are emitted as plain samples with their
/// `le`/`quantile` labels. A malformed line is a [`super::RecordError`] with
/// its line and column (`record` is `None`); the other lines still count.
/// The only fatal error is a payload over the size limit.
///
/// # Example
///
/// ```
/// use healbot_core::telemetry::{parse_prometheus_text, Limits, Observation, MetricKind};
///
/// let text = b"# HELP rpc_seconds RPC latency.\n\
///              ## TYPE rpc_seconds histogram\n\
///              rpc_seconds_bucket{le=\"0.5\",service=\"cart\"} 3 1700000000000\n\
///              rpc_seconds_bucket{le=\"+Inf\",service=\"cart\"} 5 1700000000000\n\
///              rpc_seconds_count{service=\"cart\"} 5\n";
/// let parsed = parse_prometheus_text(text, 1_700_000_060_000, &Limits::default()).unwrap();
/// assert_eq!(parsed.observations.len(), 3);
/// assert!(parsed.errors.is_empty());
/// let Observation::Metric(m) = &parsed.observations[1] else { unreachable!() };
/// assert_eq!(m.labels.get("le"), Some("+Inf"));
/// assert!(matches!(m.kind, MetricKind::Histogram { .. }));
/// assert_eq!(parsed.observations[2].at(), 1_700_000_060_000);
/// ```
///
/// # Errors
///
/// [`TelemetryError::PayloadTooLarge`] only.
pub fn parse_prometheus_text(text: &[u8], default_at: i64, limits: &Limits) -> Result<Parsed, TelemetryError> {
    check_size(text, limits)?;
    let mut sink = Sink::new(limits);
    let mut types: BTreeMap<String, MetricKind> = BTreeMap::new();
    let mut eof_line: Option<usize> = None;
    for (i, raw_line) in text.split(|b| *b == b'\n').enumerate() {
        let line_no = to_u32(i + 1);
        let raw_line = raw_line.strip_suffix(b"\r").unwrap_or(raw_line);
        let line = match std::str::from_utf8(raw_line) {
            Ok(l) => l,
            Err(e) => {
                let good = raw_line.get(..e.valid_up_to()).and_then(|g| std::str::from_utf8(g).ok()).unwrap_or("");
                sink.error((line_no, to_u32(good.chars().count() + 1)), None, "the line is not valid UTF-8");
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        if let Some(eof) = eof_line {
            sink.error((line_no, 1), None, format!("content after `# EOF` (line {eof})"));
            continue;
        }
        let mut cur = Cursor::new(line);
        cur.skip_ws();
        let result = if cur.peek() == Some('#') {
            match comment(&mut cur, &mut types) {
                Ok(true) => {
                    eof_line = Some(i + 1);
                    Ok(None)
                }
                Ok(false) => Ok(None),
                Err(e) => Err(e),
            }
        } else {
            sample(&mut cur, &types, default_at).map(Some)
        };
        match result {
            Ok(Some(m)) => sink.push(Observation::Metric(m)),
            Ok(None) => {}
            Err(msg) => sink.error((line_no, cur.column()), None, msg),
        }
    }
    Ok(sink.finish())
}

struct Cursor<'a> {
    line: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(line: &'a str) -> Cursor<'a> {
        Cursor { line, at: 0 }
    }

    fn rest(&self) -> &'a str {
        self.line.get(self.at..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) -> bool {
        let before = self.at;
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.at += 1;
        }
        self.at > before
    }

    /// The 1-based character column of the cursor.
    fn column(&self) -> u32 {
        to_u32(self.line.get(..self.at).map_or(0, |s| s.chars().count()) + 1)
    }

    /// A run of characters that are not whitespace.
    fn token(&mut self) -> &'a str {
        let rest = self.rest();
        let end = rest.find([' ', '\t']).unwrap_or(rest.len());
        self.at += end;
        rest.get(..end).unwrap_or("")
    }

    fn name(&mut self, label: bool) -> Option<&'a str> {
        let rest = self.rest();
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            let ok = c.is_ascii_alphabetic() || c == '_' || (!label && c == ':') || (i > 0 && c.is_ascii_digit());
            if !ok {
                break;
            }
            end = i + c.len_utf8();
        }
        if end == 0 {
            return None;
        }
        self.at += end;
        rest.get(..end)
    }
}

/// Reads a comment line; `Ok(true)` for `# EOF`.
fn comment(cur: &mut Cursor<'_>, types: &mut BTreeMap<String, MetricKind>) -> Result<bool, String> {
    cur.bump();
    cur.skip_ws();
    let keyword = cur.token();
    match keyword {
        "EOF" => {
            cur.skip_ws();
            if cur.rest().is_empty() {
                Ok(true)
            } else {
                Err("unexpected text after `# EOF`".to_string())
            }
        }
        "HELP" | "TYPE" => {
            if !cur.skip_ws() {
                return Err(format!("expected a metric name after `# {keyword}`"));
            }
            let name =
                cur.name(false).ok_or_else(|| format!("expected a metric name after `# {keyword}`"))?.to_string();
            let had_ws = cur.skip_ws();
            if keyword == "HELP" {
                if !had_ws && !cur.rest().is_empty() {
                    return Err("expected a space after the metric name".to_string());
                }
                // HELP escapes are `\\` and `\n`; other backslashes are kept
                // literally, as Prometheus does. The text itself is not used.
                return Ok(false);
            }
            if !had_ws {
                return Err("expected a space and a type after the metric name".to_string());
            }
            let ty = cur.token();
            let kind = match ty {
                "counter" => MetricKind::Sum { monotonic: true, temporality: Temporality::Cumulative },
                "gauge" => MetricKind::Gauge,
                "histogram" | "gaugehistogram" => MetricKind::Histogram { temporality: Temporality::Cumulative },
                "summary" => MetricKind::Summary,
                "untyped" | "unknown" | "info" | "stateset" => MetricKind::Untyped,
                "" => return Err("expected a type after the metric name".to_string()),
                other => {
                    cur.at -= other.len();
                    return Err(format!(
                        "unknown metric type `{}`, expected counter, gauge, histogram, summary or untyped",
                        super::common::truncate(other, 40)
                    ));
                }
            };
            cur.skip_ws();
            if !cur.rest().is_empty() {
                return Err("unexpected text after the metric type".to_string());
            }
            if types.contains_key(&name) {
                return Err(format!("second `# TYPE` line for `{name}`"));
            }
            types.insert(name, kind);
            Ok(false)
        }
        // Any other comment is ignored.
        _ => Ok(false),
    }
}

/// The series type of `name` from the declared families.
fn kind_of(name: &str, types: &BTreeMap<String, MetricKind>) -> MetricKind {
    if let Some(k) = types.get(name) {
        return *k;
    }
    for suffix in ["_bucket", "_sum", "_count", "_total", "_created"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if let Some(k) = types.get(base) {
                let fits = match k {
                    MetricKind::Histogram { .. } => {
                        matches!(suffix, "_bucket" | "_sum" | "_count" | "_created")
                    }
                    MetricKind::Summary => matches!(suffix, "_sum" | "_count" | "_created"),
                    MetricKind::Sum { .. } => matches!(suffix, "_total" | "_created"),
                    _ => false,
                };
                if fits {
                    return *k;
                }
            }
        }
    }
    MetricKind::Untyped
}

fn sample(cur: &mut Cursor<'_>, types: &BTreeMap<String, MetricKind>, default_at: i64) -> Result<MetricSample, String> {
    let name = cur.name(false).ok_or("expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")?.to_string();
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut spaced = cur.skip_ws();
    if cur.peek() == Some('{') {
        cur.bump();
        loop {
            cur.skip_ws();
            if cur.peek() == Some('}') {
                cur.bump();
                break;
            }
            let label_at = cur.at;
            let label = cur.name(true).ok_or("expected a label name or `}`")?.to_string();
            cur.skip_ws();
            let eq_at = cur.at;
            if cur.bump() != Some('=') {
                cur.at = eq_at;
                return Err(format!("expected `=` after label name `{label}`"));
            }
            cur.skip_ws();
            let value = label_value(cur)?;
            if pairs.iter().any(|(k, _)| *k == label) {
                cur.at = label_at;
                return Err(format!("duplicate label `{label}`"));
            }
            pairs.push((label, value));
            cur.skip_ws();
            match cur.peek() {
                Some(',') => {
                    cur.bump();
                }
                Some('}') => {
                    cur.bump();
                    break;
                }
                _ => return Err("expected `,` or `}` after a label value".to_string()),
            }
        }
        spaced = cur.skip_ws();
    }
    if !spaced {
        return Err("expected a space and a value".to_string());
    }
    let start = cur.at;
    let token = cur.token();
    let (value, exact) = parse_value(token).inspect_err(|_| cur.at = start)?;
    let mut at = default_at;
    if cur.skip_ws() && !cur.rest().is_empty() {
        let start = cur.at;
        let ts = cur.token();
        at = ts.parse::<i64>().map_err(|_| {
            cur.at = start;
            format!("invalid timestamp `{}`, expected integer milliseconds", super::common::truncate(ts, 40))
        })?;
        cur.skip_ws();
    }
    if !cur.rest().is_empty() {
        return Err("unexpected text after the sample".to_string());
    }
    let kind = kind_of(&name, types);
    Ok(MetricSample { name, labels: pairs.into_iter().collect(), value, exact, kind, at })
}

fn label_value(cur: &mut Cursor<'_>) -> Result<String, String> {
    let open_at = cur.at;
    if cur.bump() != Some('"') {
        cur.at = open_at;
        return Err("expected `\"` to open a label value".to_string());
    }
    let mut out = String::new();
    loop {
        match cur.bump() {
            None => return Err("unterminated label value".to_string()),
            Some('"') => return Ok(out),
            Some('\\') => match cur.bump() {
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some('n') => out.push('\n'),
                Some(c) => {
                    cur.at -= c.len_utf8() + 1;
                    return Err(format!("invalid escape `\\{c}` in a label value (allowed: \\\\, \\\", \\n)"));
                }
                None => return Err("unterminated label value".to_string()),
            },
            Some(c) => out.push(c),
        }
    }
}

/// A sample value: Go float syntax with `NaN`, `+Inf`, `-Inf`; an integer
/// literal that fits `i64` also gives its exact value.
fn parse_value(token: &str) -> Result<(f64, Option<i64>), String> {
    match token {
        "NaN" => return Ok((f64::NAN, None)),
        "+Inf" | "Inf" => return Ok((f64::INFINITY, None)),
        "-Inf" => return Ok((f64::NEG_INFINITY, None)),
        _ => {}
    }
    let digits = token.strip_prefix(['+', '-']).unwrap_or(token);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = token.parse::<i64>() {
            return Ok((i64_to_f64(i), Some(i)));
        }
    }
    // Rust's float syntax is close to Go's; keep to ASCII digits, signs, dots
    // and exponents (plus the named values above) so that e.g. `infinity` is
    // not taken silently.
    let plain = digits.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    match token.parse::<f64>() {
        Ok(v) if plain && !digits.is_empty() => Ok((v, None)),
        _ => Err(format!(
            "invalid sample value `{}`, expected a number, NaN, +Inf or -Inf",
            super::common::truncate(token, 40)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::test_util::metrics;
    use proptest::prelude::*;

    const EXPOSITION: &str = r#"# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200",service="checkout"} 1027 1395066363000
http_requests_total{method="post",code="400",service="checkout"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# HELP metric_without_timestamp_and_labels A gauge with \\ and \n escapes.
# TYPE metric_without_timestamp_and_labels gauge
metric_without_timestamp_and_labels 12.47
something_weird{problem="division by zero"} +Inf -3982045
nan_metric NaN
neg_inf_metric{a="b",} -Inf

# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
big_counter 9007199254740993
# EOF
"#;

    #[test]
    fn realistic_exposition() {
        let p = parse_prometheus_text(EXPOSITION.as_bytes(), 42, &Limits::default()).unwrap();
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let m = metrics(&p);
        assert_eq!(m.len(), 17);
        assert_eq!(m[0].name, "http_requests_total");
        assert_eq!(m[0].labels.get("service"), Some("checkout"));
        assert_eq!(m[0].at, 1_395_066_363_000);
        assert_eq!(m[0].exact, Some(1027));
        assert_eq!(m[0].kind, MetricKind::Sum { monotonic: true, temporality: Temporality::Cumulative });
        assert_eq!(m[1].value, 3.0);
        assert_eq!(m[2].labels.get("path"), Some("C:\\DIR\\FILE.TXT"));
        assert_eq!(m[2].labels.get("error"), Some("Cannot find file:\n\"FILE.TXT\""));
        assert_eq!(m[2].value, 1.458255915e9);
        assert_eq!(m[2].at, 42);
        assert_eq!(m[3].kind, MetricKind::Gauge);
        assert_eq!(m[4].value, f64::INFINITY);
        assert_eq!(m[4].at, -3_982_045);
        assert!(m[5].value.is_nan());
        assert_eq!(m[6].value, f64::NEG_INFINITY);
        assert_eq!(m[6].labels.get("a"), Some("b"));
        assert_eq!(m[9].labels.get("le"), Some("+Inf"));
        assert!(matches!(m[11].kind, MetricKind::Histogram { .. }), "{:?}", m[11]);
        assert_eq!(m[11].name, "http_request_duration_seconds_count");
        assert_eq!(m[12].labels.get("quantile"), Some("0.01"));
        assert_eq!(m[14].kind, MetricKind::Summary);
        assert_eq!(m[16].exact, Some(9_007_199_254_740_993));
    }

    #[test]
    fn malformed_lines_reported_with_position() {
        let text = "ok_metric 1\n\
                    bad metric here\n\
                    no_value{a=\"b\"}\n\
                    esc{a=\"\\x\"} 1\n\
                    unterminated{a=\"b} 1\n\
                    ts 1 1.5\n\
                    # TYPE foo bogus\n\
                    dup{a=\"1\",a=\"2\"} 1\n\
                    also_ok{service=\"api\"} 2 100\n\
                    1starts_with_digit 3\n\
                    value_word 12abc\n";
        let p = parse_prometheus_text(text.as_bytes(), 0, &Limits::default()).unwrap();
        let m = metrics(&p);
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].labels.get("service"), Some("api"));
        let pos: Vec<(u32, u32)> = p.errors.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(
            pos,
            [(2, 5), (3, 16), (4, 8), (5, 21), (6, 6), (7, 12), (8, 11), (10, 1), (11, 12)],
            "{:#?}",
            p.errors
        );
        assert!(p.errors.iter().all(|e| e.record.is_none()));
    }

    #[test]
    fn invalid_utf8_line_and_crlf() {
        let mut text = b"a 1\r\nb{x=\"".to_vec();
        text.extend_from_slice(&[0xff, b'"', b'}', b' ', b'1', b'\n', b'c', b' ', b'2']);
        let p = parse_prometheus_text(&text, 0, &Limits::default()).unwrap();
        assert_eq!(p.observations.len(), 2);
        assert_eq!((p.errors[0].line, p.errors[0].column), (2, 6));
    }

    #[test]
    fn content_after_eof_is_an_error() {
        let p = parse_prometheus_text(b"a 1\n# EOF\nb 2\n", 0, &Limits::default()).unwrap();
        assert_eq!(p.observations.len(), 1);
        assert_eq!(p.errors[0].line, 3);
    }

    #[test]
    fn limits() {
        let l = Limits { max_label_pairs: 1, max_label_value_len: 3, max_records: 2, ..Limits::default() };
        let text = "a{x=\"1\",y=\"2\"} 1\nb{x=\"long\"} 1\nc 1\nd 1\ne 1\n";
        let p = parse_prometheus_text(text.as_bytes(), 0, &l).unwrap();
        assert_eq!(p.observations.len(), 2);
        assert_eq!(p.dropped.too_many_labels, 1);
        assert_eq!(p.dropped.label_value_too_long, 1);
        assert_eq!(p.dropped.too_many_records, 1);
        let big = Limits { max_payload_bytes: 3, ..Limits::default() };
        assert!(matches!(parse_prometheus_text(text.as_bytes(), 0, &big), Err(TelemetryError::PayloadTooLarge { .. })));
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_prometheus_text(&bytes, 0, &Limits::default());
        }

        #[test]
        fn never_panics_on_text_like(s in r#"(#( (HELP|TYPE|EOF))? ?[a-z_]{0,4}( [a-z]{0,6})?\n|[a-z_:]{0,5}(\{([a-z]{1,3}= ?"([^"\\]|\\[\\"nx])*"[,]?)*\}?)? ?[-+0-9.eNaIf]{0,8}( -?[0-9.]{0,6})?\r?\n)*"#) {
            let _ = parse_prometheus_text(s.as_bytes(), 0, &Limits::default());
        }
    }
}
