//! Batch log ingest (`Engine::ingest_log_lines`) and NDJSON ingested as it
//! is read: the same counts, matches and state as one observation at a time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use healbot_core::telemetry::{parse_ndjson, split_lines, Labels, LogRecord, LogSeverity, PayloadFormat};
use healbot_core::{Engine, EngineConfig, Library, Topology};

const T0: i64 = 1_700_000_000_000;

fn library() -> Library {
    Library::from_text(
        "lib.yaml",
        r#"
apiVersion: healbot.dev/v1
kind: SignatureLibrary
metadata: {name: logs}
spec:
  signatures:
    - id: oom
      title: Out of memory
      category: resource
      severity: warning
      match: {log: {contains_any: [OutOfMemoryError, "Killed process"], window: 5m, threshold: 2}}
    - id: refused
      title: Connection refused
      category: errors
      severity: warning
      match: {log: {regex: "conn(ection)? refused", case_insensitive: true, window: 5m, threshold: 1}}
    - id: replaced
      title: Replacement characters
      category: errors
      severity: warning
      match: {log: {contains_any: ["\uFFFD"], window: 5m, threshold: 1}}
    - id: db.down
      title: Database down
      category: unavailable
      severity: critical
      match: {metric: {name: up, agg: max, window: 1m, op: "<", threshold: 1}}
"#,
    )
    .unwrap()
}

fn topology() -> Topology {
    Topology::from_text(
        "topo.yaml",
        r#"
apiVersion: healbot.dev/v1
kind: Topology
metadata: {name: t}
spec:
  nodes:
    - {id: api, kind: service, aliases: [api-v2]}
    - {id: db, kind: database}
"#,
    )
    .unwrap()
}

fn engine(max_log_line_len: usize) -> Engine {
    Engine::new(library(), topology(), EngineConfig { max_log_line_len, ..EngineConfig::default() }).unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().copied().collect()
}

/// Lines of every kind: matching and not, over the limit of 48 bytes, not
/// UTF-8 (and over the limit only once replaced), empty.
fn lines() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = vec![
        b"java.lang.OutOfMemoryError: Java heap space".to_vec(),
        b"GET /api/cart 200 12ms".to_vec(),
        b"dial tcp 10.0.0.7:5432: Connection Refused".to_vec(),
        b"Killed process 4242 (java)".to_vec(),
        b"".to_vec(),
        b"\xff\xfe OutOfMemoryError \xc3".to_vec(),
        [b"x".repeat(46), b"\xff".to_vec()].concat(), // 47 bytes, 49 once replaced
        b"y".repeat(49),
        b"conn refused".to_vec(),
    ];
    for i in 0..40u8 {
        out.push(format!("request {i} done").into_bytes());
    }
    out
}

/// One `ingest_log` per line, the body replaced as the Python binding did
/// before the batch call existed.
fn one_by_one(engine: &mut Engine, attributes: &Labels, lines: &[Vec<u8>], times: &[i64]) {
    for (line, &at) in lines.iter().zip(times) {
        let record = LogRecord {
            body: String::from_utf8_lossy(line).into_owned(),
            attributes: attributes.clone(),
            severity: Some(LogSeverity::Error),
            at,
        };
        engine.ingest_log(&record);
    }
}

fn batch<'l>(lines: &'l [Vec<u8>], times: &'l [i64]) -> impl Iterator<Item = (&'l [u8], i64)> {
    lines.iter().map(Vec::as_slice).zip(times.iter().copied())
}

#[test]
fn a_batch_counts_kept_and_dropped_lines() {
    let mut e = engine(48);
    let lines = lines();
    let times = vec![T0; lines.len()];
    let report = e.ingest_log_lines(&labels(&[("service", "api")]), None, batch(&lines, &times));
    assert_eq!(report.lines, 49);
    assert_eq!(report.dropped, 2, "the 49-byte line and the line 49 bytes once replaced");
    assert_eq!(report.ingested, 47);
    assert_eq!(report.unattached, 0);
    let stats = e.stats();
    assert_eq!(stats.ingested["log"], 47);
    assert_eq!(serde_json::to_value(&stats.dropped).unwrap(), serde_json::json!({"payload_limit": 2}));
    assert!(stats.unattached.is_empty());
    let found: Vec<healbot_core::Name> = e.diagnose(T0 + 1).diagnoses.into_iter().map(|d| d.signature).collect();
    assert_eq!(found, ["oom", "refused", "replaced"]);
}

#[test]
fn an_unattached_batch_is_counted_per_line() {
    let mut e = engine(48);
    let lines = lines();
    let times = vec![T0; lines.len()];
    let none = e.ingest_log_lines(&labels(&[("host", "h1")]), None, batch(&lines, &times));
    let unknown = e.ingest_log_lines(&labels(&[("service", "nowhere")]), None, batch(&lines, &times));
    assert_eq!((none.ingested, none.dropped, none.unattached), (0, 2, 47));
    assert_eq!(unknown, none);
    let stats = serde_json::to_value(e.stats()).unwrap();
    assert_eq!(stats["unattached"], serde_json::json!({"no_attach_label": 47, "unknown_node": 47}));
    assert_eq!(stats["dropped"], serde_json::json!({"payload_limit": 4}));
    assert_eq!(stats["ingested"], serde_json::json!({}), "nothing counted for kinds never ingested");
    assert!(e.diagnose(T0 + 1).diagnoses.is_empty());
}

#[test]
fn an_empty_batch_changes_nothing() {
    let mut e = engine(48);
    let report = e.ingest_log_lines(&labels(&[("service", "nowhere")]), None, std::iter::empty());
    assert_eq!(report, Default::default());
    assert_eq!(e.stats(), engine(48).stats());
}

#[test]
fn a_batch_is_one_ingest_log_per_line() {
    let lines = lines();
    // Times out of order, some a bucket apart, one past the 5m window.
    let times: Vec<i64> =
        (0..lines.len() as i64).map(|i| T0 + (i * 7_919) % 60_000 - 400_000 * (i % 11 / 10)).collect();
    for attributes in [labels(&[("service", "api")]), labels(&[("app", "api-v2"), ("pod", "p")]), labels(&[])] {
        let mut one = engine(48);
        one_by_one(&mut one, &attributes, &lines, &times);
        let mut many = engine(48);
        // In two batches, as a stream would arrive.
        let (a, b) = lines.split_at(20);
        let (ta, tb) = times.split_at(20);
        many.ingest_log_lines(&attributes, Some(LogSeverity::Error), batch(a, ta));
        many.ingest_log_lines(&attributes, Some(LogSeverity::Error), batch(b, tb));
        assert_eq!(many.stats(), one.stats());
        assert_eq!(many.snapshot(), one.snapshot());
        assert_eq!(many.diagnose(T0 + 60_000), one.diagnose(T0 + 60_000));
    }
}

#[test]
fn a_blob_splits_into_lines() {
    let mut e = engine(1024);
    let blob = b"OutOfMemoryError\r\n\nOutOfMemoryError\n";
    let report = e.ingest_log_lines(&labels(&[("service", "api")]), None, split_lines(blob).map(|l| (l, T0)));
    assert_eq!((report.lines, report.ingested), (3, 3));
    assert_eq!(e.diagnose(T0).diagnoses[0].signature, "oom");
}

#[test]
fn a_text_is_its_lines() {
    let joined = |sep: &[u8]| lines().join(sep);
    let mut texts: Vec<Vec<u8>> = vec![
        // Not UTF-8, and a line over the limit: the line-by-line way.
        joined(b"\n"),
        // UTF-8, every line within the limit: the whole-text scan.
        lines()
            .into_iter()
            .filter(|l| l.len() <= 48 && std::str::from_utf8(l).is_ok())
            .collect::<Vec<_>>()
            .join(&b"\r\n"[..]),
        b"OutOfMemoryError\r\n\nOutOfMemoryError\n".to_vec(),
        b"\n\n".to_vec(),
        b"".to_vec(),
        b"conn refused".to_vec(),
    ];
    // Longer than the limit, every line within it.
    texts.push(b"Killed process 1\nconn refused\n".repeat(4));
    for attributes in [labels(&[("service", "api")]), labels(&[("app", "api-v2")]), labels(&[("service", "nowhere")])] {
        for text in &texts {
            let mut by_line = engine(48);
            let want = by_line.ingest_log_lines(&attributes, None, split_lines(text).map(|l| (l, T0)));
            let mut whole = engine(48);
            let got = whole.ingest_log_text(&attributes, None, text, T0);
            let shown = String::from_utf8_lossy(text);
            assert_eq!(got, want, "{shown:?}");
            assert_eq!(whole.stats(), by_line.stats(), "{shown:?}");
            assert_eq!(whole.snapshot(), by_line.snapshot(), "{shown:?}");
            assert_eq!(whole.diagnose(T0 + 1_000), by_line.diagnose(T0 + 1_000), "{shown:?}");
        }
    }
    // The scan found what it should: two OOM lines make a diagnosis.
    let mut e = engine(48);
    e.ingest_log_text(&labels(&[("service", "api")]), None, &texts[2], T0);
    assert_eq!(e.diagnose(T0).diagnoses[0].signature, "oom");
}

/// A payload of every kind of NDJSON line: logs in the common shape, logs
/// that need the general way (escapes, extra fields, repeated keys),
/// metrics, alerts, malformed and over-limit records.
fn payload() -> String {
    let mut lines = vec![
        "# a comment".to_string(),
        String::new(),
        r#"{"type":"metric","name":"up","labels":{"service":"db"},"value":0,"at":1700000000000}"#.to_string(),
        r#"{"type":"alert","name":"DbDown","labels":{"service":"db"},"at":1700000000000}"#.to_string(),
        r#"{"type":"log","body":"tab\there: connection refused","attributes":{"service":"api"},"at":1700000000000}"#
            .to_string(),
        r#"{"type":"log","body":"OutOfMemoryError","attributes":{"service":"api"},"at":1700000000000,"extra":[1]}"#
            .to_string(),
        r#"{"type":"log","body":"OutOfMemoryError","body":"fine","attributes":{"service":"api"},"at":1700000000000}"#
            .to_string(),
        r#"{"type":"log","body":"OutOfMemoryError","attributes":{"service":"api"},"at":"2023-11-14T22:13:20.001Z"}"#
            .to_string(),
        r#"{"type":"log","body":"x","attributes":{"service":"api"},"at":1.5}"#.to_string(),
        r#"{"type":"log","body":"x","attributes":{"service":"api"},"at":1700000000000,"severity":"loud"}"#.to_string(),
        r#"{"type":"log","body":"this body is far too long for the limit of forty bytes","attributes":{"service":"api"},"at":1700000000000}"#
            .to_string(),
        r#"{"type":"log","body":"x","attributes":{"a":"1","b":"2","c":"3","d":"4","service":"api"},"at":1700000000000}"#
            .to_string(),
        r#"{"type":"log","body":"conn refused","attributes":{"service":"nowhere"},"at":1700000000000}"#.to_string(),
        r#"{"type":"log","body":"conn refused","attributes":{"host":"h"},"at":1700000000000}"#.to_string(),
        r#"{"type":"log",,}"#.to_string(),
        "{\"type\":\"log\",\"body\":\"\u{e9}\",\"attributes\":{\"service\":\"api\"},\"at\":1700000000000}".to_string(),
    ];
    for i in 0..30 {
        let body = if i % 3 == 0 { "OutOfMemoryError: heap" } else { "GET / 200" };
        let service = if i % 2 == 0 { "api" } else { "api-v2" };
        lines.push(format!(
            r#"{{"type": "log", "body": "{body}", "attributes": {{"service": "{service}", "i": "{i}"}}, "at": {}}}"#,
            T0 + i * 1_000
        ));
    }
    // Runs of records of one source, attached and not.
    for i in 0..10 {
        let service = if i / 3 % 2 == 0 { "api" } else { "nowhere" };
        lines.push(format!(
            r#"{{"type":"log","body":"OutOfMemoryError","attributes":{{"service":"{service}"}},"at":{}}}"#,
            T0 + i * 1_000
        ));
    }
    // Metric samples in the common shape, read by the borrowed way: read and
    // unread metrics, attached, to an unknown node and by an alias, NaN,
    // exact integers, kinds and RFC 3339 times; over the label limit; no
    // attach label.
    for i in 0..12 {
        let (name, service) = match i % 4 {
            0 => ("up", "db"),
            1 => ("up", "nowhere"),
            2 => ("cpu_seconds", "api"),
            _ => ("up", "api-v2"),
        };
        let value = if i == 5 { "\"NaN\"".to_string() } else { format!("{}", i as f64 / 40.0) };
        lines.push(format!(
            r#"{{"type": "metric", "name": "{name}", "labels": {{"service": "{service}", "i": "{}"}}, "value": {value}, "at": {}}}"#,
            i % 3,
            T0 + i * 1_000
        ));
    }
    lines.push(r#"{"type":"metric","name":"up","value":9007199254740993,"kind":"counter","labels":{"service":"api"},"at":"2023-11-14T22:13:20Z"}"#.to_string());
    lines.push(r#"{"type":"metric","name":"up","labels":{"a":"1","b":"2","c":"3","d":"4","service":"db"},"value":1,"at":1700000000000}"#.to_string());
    lines.push(r#"{"type":"metric","name":"up","labels":{"host":"h"},"value":1,"at":1700000000000}"#.to_string());
    lines.join("\n") + "\n"
}

#[test]
fn ndjson_ingested_as_read_is_ndjson_parsed_then_ingested() {
    let config = EngineConfig { max_log_line_len: 40, max_label_pairs: 4, ..EngineConfig::default() };
    let text = payload();
    let mut streamed = Engine::new(library(), topology(), config.clone()).unwrap();
    let report = streamed.ingest_payload(PayloadFormat::Ndjson, text.as_bytes(), 0).unwrap();

    let mut parsed_first = Engine::new(library(), topology(), config.clone()).unwrap();
    let parsed = parse_ndjson(text.as_bytes(), &config.limits()).unwrap();
    for obs in &parsed.observations {
        parsed_first.ingest(obs).unwrap();
    }
    assert_eq!(report.observations, parsed.observations.len());
    assert_eq!(report.observations, 63);
    assert_eq!(report.errors, parsed.errors.iter().map(ToString::to_string).collect::<Vec<_>>());
    assert_eq!(report.errors.len(), 3, "{:?}", report.errors);
    assert!(report.errors[0].starts_with("9:1: `at`"), "{:?}", report.errors);
    assert_eq!(report.dropped, parsed.dropped.total());
    assert_eq!((parsed.dropped.log_line_too_long, parsed.dropped.too_many_labels), (1, 2));

    // The engine's own counters: the parse's drops and errors, then what ingest did.
    let stats = streamed.stats();
    let mut expected = parsed_first.stats();
    *expected.dropped.entry(healbot_core::engine::Dropped::PayloadLimit).or_default() += 3;
    *expected.dropped.entry(healbot_core::engine::Dropped::Malformed).or_default() += 3;
    assert_eq!(stats, expected);
    assert_eq!(stats.ingested["log"], 41);
    assert_eq!(
        serde_json::to_value(&stats.unattached).unwrap(),
        serde_json::json!({"no_attach_label": 2, "unknown_node": 8})
    );
    // Of the 15 metric samples kept (the first line's and 14 in the common
    // shape): 3 of a metric no signature reads, 3 to an unknown node, 1 with
    // no attach label; 8 ingested.
    assert_eq!(stats.ingested_metrics, 8);
    assert_eq!(stats.dropped[&healbot_core::engine::Dropped::NotRead], 3);
    assert_eq!(streamed.diagnose(T0 + 60_000), parsed_first.diagnose(T0 + 60_000));
    // The series the samples made hold the same values (`db.down` reads `up`).
    let json = |e: &mut Engine| e.evaluate(T0 + 60_000).iter().map(|d| d.to_json()).collect::<Vec<_>>();
    let decisions = json(&mut streamed);
    assert!(decisions.iter().any(|d| d.contains("\"db.down\"")), "{decisions:?}");
    assert_eq!(decisions, json(&mut parsed_first));
}
