//! The bodies the fuzz targets share: each target under `fuzz_targets/`
//! names what it feeds and hands its input to one of the `check_*` functions
//! here. [`TARGETS`] lists every target with its body, so that
//! `healbot-core/tests/fuzz_regressions.rs` (which includes this file) replays
//! the committed regressions through exactly the checks the fuzzer ran.

use std::panic::{catch_unwind, AssertUnwindSafe};

use healbot_core::load::{Format, LoadConfig, Loader};
use healbot_core::source::Budget;
use healbot_core::telemetry::{parse, split_lines, Labels, Limits, PayloadFormat};
use healbot_core::{Duration, Engine, EngineConfig, Error, Library, Topology};

/// Inputs larger than this are rejected: they find nothing new and slow the run.
pub const MAX_INPUT: usize = 1 << 20;

/// The time given to samples that carry none, fixed so that runs reproduce.
const DEFAULT_AT_MS: i64 = 1_700_000_000_000;

/// What a fuzz target runs on one input; it panics on a failed check.
pub type Body = fn(&[u8]);

/// The farthest time the engine-level targets ask for or ingest at: the
/// whole range but `i64::MIN` (times are symmetric around the epoch).
const FAR: i64 = i64::MAX;

/// Every fuzz target and its body; the names are those of `fuzz_targets/*.rs`
/// and of the folders under `regressions/`.
pub const TARGETS: &[(&str, Body)] = &[
    ("parse_alertmanager", |d| check_parse(PayloadFormat::Alertmanager, d)),
    ("parse_prometheus_text", |d| check_parse(PayloadFormat::PrometheusText, d)),
    ("parse_otlp_logs", |d| check_parse(PayloadFormat::OtlpLogs, d)),
    ("parse_otlp_metrics", |d| check_parse(PayloadFormat::OtlpMetrics, d)),
    ("parse_k8s_events", |d| check_parse(PayloadFormat::K8sEvents, d)),
    ("parse_pagerduty", |d| check_parse(PayloadFormat::PagerDuty, d)),
    ("parse_ndjson", check_ndjson),
    ("load_library_yaml", |d| check_load(Format::Yaml, d)),
    ("load_library_json", |d| check_load(Format::Json, d)),
    ("load_topology", check_topology),
    ("restore_snapshot", check_restore),
    ("restore_snapshot_body", check_restore_body),
    ("engine_ops", check_engine_ops),
];

/// Parses `data` as `format` under small limits, so that the limit paths are
/// exercised too. No input may panic, and what comes out must respect the
/// limits: the observation count, each observation's label count, and
/// 1-based error positions.
pub fn check_parse(format: PayloadFormat, data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let limits = Limits {
        max_label_pairs: 8,
        max_label_value_len: 64,
        max_log_line_len: 256,
        max_records: 64,
        ..Limits::default()
    };
    if let Ok(parsed) = parse(format, data, DEFAULT_AT_MS, &limits) {
        assert!(parsed.observations.len() <= limits.max_records);
        for obs in &parsed.observations {
            assert!(obs.labels().len() <= limits.max_label_pairs);
        }
        for err in &parsed.errors {
            assert!(err.line >= 1 && err.column >= 1, "{err:?}");
        }
    }
}

/// NDJSON as [`check_parse`] checks it, and a payload read whole must read
/// as its lines read one by one: the same observations, errors (at the same
/// lines and columns) and drops. A line can be read by the layout of the
/// line before it (a shortcut for a batch written one way); read alone, a
/// line never is, so this compares the shortcut with the parser on every
/// line the fuzzer makes.
pub fn check_ndjson(data: &[u8]) {
    check_parse(PayloadFormat::Ndjson, data);
    if data.len() > MAX_INPUT {
        return;
    }
    let limits = Limits { max_label_pairs: 8, max_label_value_len: 64, max_log_line_len: 256, ..Limits::default() };
    let Ok(whole) = parse(PayloadFormat::Ndjson, data, DEFAULT_AT_MS, &limits) else { return };
    let (mut observations, mut errors, mut dropped) = (Vec::new(), Vec::new(), [0u64; 6]);
    for (i, line) in data.split(|b| *b == b'\n').enumerate() {
        let one =
            parse(PayloadFormat::Ndjson, line, DEFAULT_AT_MS, &limits).expect("a line of a readable payload reads");
        observations.extend(one.observations);
        errors.extend(one.errors.into_iter().map(|mut e| {
            e.line = u32::try_from(i + 1).unwrap_or(u32::MAX);
            e
        }));
        for (sum, n) in dropped.iter_mut().zip(drop_counts(&one.dropped)) {
            *sum += n;
        }
    }
    // Debug text, so that a NaN compares equal to itself.
    assert_eq!(format!("{:?}", whole.observations), format!("{observations:?}"));
    assert_eq!(whole.errors, errors);
    assert_eq!(drop_counts(&whole.dropped), dropped);
}

fn drop_counts(d: &healbot_core::telemetry::DropCounts) -> [u64; 6] {
    [d.too_many_labels, d.label_value_too_long, d.log_line_too_long, d.too_many_records, d.duplicate, d.unsupported]
}

/// Input bytes as text: invalid UTF-8 is replaced rather than thrown away,
/// so the fuzzer's byte mutations still reach the parsers.
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Every diagnostic of a failed load names the source and a 1-based position.
fn assert_positions(err: &Error, file: &str) {
    for d in err.diagnostics() {
        assert!(d.line >= 1 && d.column >= 1, "no position: {d:?}");
        assert_eq!(d.file, file, "{d:?}");
    }
}

/// Loads `data` as one source of signatures, actions, overrides and
/// topology documents in `format`, under small budgets. Loading must not
/// panic and must give every error a position; a library that loads must
/// also compile into an engine that evaluates.
pub fn check_load(format: Format, data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let file = match format {
        Format::Yaml => "fuzz.yaml",
        Format::Json => "fuzz.json",
    };
    let config = LoadConfig {
        budget: Budget { max_bytes: MAX_INPUT, max_depth: 32, max_nodes: 20_000 },
        max_window: Duration::from_secs(24 * 3600),
        regex_size_limit: 1 << 16,
    };
    let mut loader = Loader::new(config);
    loader.add_with_format(file, &text(data), format);
    match loader.finish() {
        Err(err) => {
            assert!(!err.diagnostics().is_empty(), "a failed load without diagnostics: {err}");
            assert_positions(&err, file);
        }
        Ok(loaded) => {
            for w in &loaded.warnings {
                assert!(w.line >= 1 && w.column >= 1, "no position: {w:?}");
            }
            let topology = match loaded.topology {
                Some(t) => t,
                None => fixture().topology.clone(),
            };
            if let Some(library) = loaded.library {
                if let Ok(mut engine) = Engine::new(library, topology, EngineConfig::default()) {
                    engine.evaluate(DEFAULT_AT_MS);
                }
            }
        }
    }
}

/// Loads `data` as a topology with [`Topology::from_text`] (YAML, or JSON
/// when the text starts with `{`), then walks it and runs an engine over it.
pub fn check_topology(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let text = text(data);
    let name = if text.trim_start().starts_with('{') { "fuzz.json" } else { "fuzz.yaml" };
    match Topology::from_text(name, &text) {
        Err(err) => assert_positions(&err, name),
        Ok(topology) => {
            let mut scratch = topology.traversal();
            for n in topology.node_ids() {
                let _ = topology.dependencies(n, &mut scratch).len();
                let _ = topology.dependents(n, &mut scratch).len();
                let _ = topology.blast_radius(n, &mut scratch);
                assert_eq!(topology.lookup(topology.node(n).id()), Some(n));
            }
            let _ = topology.cycles();
            let fixture = fixture();
            if let Ok(mut engine) = Engine::new(fixture.library.clone(), topology, EngineConfig::default()) {
                let labels: Labels = [("service", "api")].into_iter().collect();
                let _ = engine.ingest_metric("http_server_error_ratio", &labels, 1.0, DEFAULT_AT_MS);
                engine.evaluate(DEFAULT_AT_MS + 60_000);
                let bytes = engine.snapshot();
                let engine = Engine::restore(
                    engine.library().clone(),
                    engine.topology().clone(),
                    EngineConfig::default(),
                    &bytes,
                );
                assert!(engine.is_ok(), "an engine's own snapshot was refused: {:?}", engine.err());
            }
        }
    }
}

/// The library and topology every engine-level target runs on: the shop
/// example, which has metric, log, alert, event, absence, forecast and
/// dependency predicates, overrides, exceptions and guarded actions.
#[derive(Debug)]
pub struct Fixture {
    /// The shop's signatures, actions and overrides.
    pub library: Library,
    /// The same without the overrides (another revision, for reloads).
    pub other_library: Library,
    /// The shop's eleven nodes.
    pub topology: Topology,
}

/// Built once: loading and compiling the library on every input would be
/// most of the run.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(|| {
        let signatures = include_str!("../../examples/shop/signatures.yaml");
        let actions = include_str!("../../examples/shop/actions.yaml");
        let overrides = include_str!("../../examples/shop/overrides.yaml");
        let topology = include_str!("../../examples/shop/topology.yaml");
        Fixture {
            library: Library::from_sources([("s.yaml", signatures), ("a.yaml", actions), ("o.yaml", overrides)])
                .expect("the shop library loads"),
            other_library: Library::from_sources([("s.yaml", signatures), ("a.yaml", actions)])
                .expect("the shop library loads"),
            topology: Topology::from_text("t.yaml", topology).expect("the shop topology loads"),
        }
    })
}

/// The engine configurations the engine-level targets pick from: the
/// default one, and one with small limits so that the limit paths run.
fn config(small: bool) -> EngineConfig {
    if small {
        EngineConfig {
            max_series: 4,
            max_samples_per_series: 8,
            max_alerts_per_node: 2,
            max_payload_bytes: 4096,
            max_label_pairs: 4,
            max_label_value_len: 32,
            max_log_line_len: 64,
            out_of_order_tolerance: Duration::from_secs(5),
            ..EngineConfig::default()
        }
    } else {
        EngineConfig::default()
    }
}

/// Restores an engine of the shop fixture from arbitrary bytes. Nothing may
/// panic; an engine that restores must keep working ([`exercise`]).
pub fn check_restore(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let f = fixture();
    let small = data.first().is_some_and(|b| b & 1 == 1);
    if let Ok(engine) = Engine::restore(f.library.clone(), f.topology.clone(), config(small), data) {
        exercise(engine, small);
    }
}

/// As [`check_restore`], with `data` behind the header of a real snapshot of
/// the shop fixture (magic, version, library revision, topology hash) and
/// its own length and checksum, so that every input reaches the state's
/// deserialiser and the checks after it.
pub fn check_restore_body(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let f = fixture();
    let small = data.first().is_some_and(|b| b & 1 == 1);
    if let Ok(engine) = Engine::restore(f.library.clone(), f.topology.clone(), config(small), &framed_snapshot(data)) {
        exercise(engine, small);
    }
}

/// `body` behind the header of a snapshot of the shop fixture, with its own
/// length and checksum: a snapshot whose body is `body`.
pub fn framed_snapshot(body: &[u8]) -> Vec<u8> {
    let mut bytes = snapshot_header().to_vec();
    bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&healbot_core::engine::snapshot_checksum(body).to_le_bytes());
    bytes.extend_from_slice(body);
    bytes
}

/// The header of a snapshot of the shop fixture up to the body's length: the
/// fixed-size prefix of a fresh engine's snapshot.
pub fn snapshot_header() -> &'static [u8] {
    static HEADER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    HEADER.get_or_init(|| {
        let f = fixture();
        let engine = Engine::new(f.library.clone(), f.topology.clone(), EngineConfig::default())
            .expect("the shop library compiles");
        let mut bytes = engine.snapshot();
        // magic (8) + format version (2) + library revision (16) + topology hash (16)
        bytes.truncate(42);
        bytes
    })
}

/// What a restored engine must still do without panicking: evaluate at the
/// times its state suggests and at the extremes, take a snapshot that
/// restores to the same bytes, and ingest.
fn exercise(mut engine: Engine, small: bool) {
    for at in [DEFAULT_AT_MS, -FAR, 0] {
        engine.evaluate(at);
    }
    round_trip(&mut engine, small);
    let labels: Labels = [("service", "redis-cart")].into_iter().collect();
    let _ = engine.ingest_metric("redis_up", &labels, 0.0, DEFAULT_AT_MS);
    engine.ingest_log_lines(&labels, None, [(&b"ECONNREFUSED"[..], DEFAULT_AT_MS)]);
    let _ = engine.ingest_payload(
        PayloadFormat::Ndjson,
        br#"{"type":"metric","name":"redis_up","labels":{"service":"redis-cart"},"value":0,"at":1}"#,
        DEFAULT_AT_MS,
    );
    engine.evaluate(DEFAULT_AT_MS + 120_000);
    engine.evaluate(FAR);
    round_trip(&mut engine, small);
}

/// Snapshots the engine and restores the bytes into a new one, which must
/// succeed and snapshot to the same bytes; the engine is replaced by it.
fn round_trip(engine: &mut Engine, small: bool) {
    let bytes = engine.snapshot();
    let restored = Engine::restore(engine.library().clone(), engine.topology().clone(), config(small), &bytes);
    let restored = match restored {
        Ok(e) => e,
        Err(err) => panic!("an engine's own snapshot was refused: {err}"),
    };
    assert!(restored.snapshot() == bytes, "a restored snapshot differs from the one it came from");
    *engine = restored;
}

/// Reads a fuzz input as a stream of small values; past the end it reads
/// zeros, so every input is a whole program.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.byte();
        }
        u64::from_le_bytes(b)
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[usize::from(self.byte()) % from.len()]
    }

    /// A short string: one length byte (at most 63) then that many bytes.
    fn string(&mut self) -> String {
        let n = usize::from(self.byte() & 63);
        String::from_utf8_lossy(self.bytes(n)).into_owned()
    }

    /// A payload: a two-byte length then that many bytes.
    fn payload(&mut self) -> &'a [u8] {
        let n = usize::from(self.u16());
        self.bytes(n)
    }

    /// A value: mostly ordinary numbers near the signatures' thresholds,
    /// sometimes the special ones, sometimes any bit pattern.
    fn value(&mut self) -> f64 {
        match self.byte() % 8 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => f64::from_bits(self.u64()),
            4 => -0.0,
            5 => f64::MAX,
            _ => f64::from(self.byte()) / 100.0,
        }
    }

    /// A time: mostly a step from `now` (which moves on), sometimes any i64.
    fn time(&mut self, now: &mut i64) -> i64 {
        match self.byte() % 8 {
            0 => (self.u64() as i64).clamp(-FAR, FAR),
            1 => *now - i64::from(self.u16()) * 1_000,
            2 => *now,
            _ => {
                *now = now.saturating_add(i64::from(self.u16()) * 100);
                *now
            }
        }
    }
}

/// Metric names: those the shop's signatures read, and one they do not.
const METRICS: &[&str] = &[
    "http_server_error_ratio",
    "http_server_latency_p99_seconds",
    "redis_up",
    "db_client_connections_usage_ratio",
    "node_filesystem_usage_ratio",
    "kube_deployment_status_replicas_available",
    "unread_metric",
];

/// Label keys the shop topology attaches by, and one it does not.
const KEYS: &[&str] = &["service", "app", "job", "pod", "zone"];

/// Node names: the shop's ids, an alias, and one that is unknown.
const NODES: &[&str] = &["frontend", "cartservice", "redis-cart", "redis", "adservice", "checkoutservice", "nowhere"];

/// Log lines the shop's patterns look for, and one they do not.
const LINES: &[&str] =
    &["ECONNREFUSED redis-cart:6379", "connection refused", "Connection pool exhausted", "GET / 200", ""];

/// Action ids: the shop's, and one that is unknown.
const ACTIONS: &[&str] = &["failover_database", "flush_connection_pool", "restart_service", "page_owner", "nope"];

fn labels(r: &mut Reader<'_>) -> Labels {
    let mut pairs = vec![(r.pick(KEYS).to_string(), node_name(r))];
    for _ in 0..r.byte() % 3 {
        pairs.push((r.string(), r.string()));
    }
    pairs.into_iter().collect()
}

fn node_name(r: &mut Reader<'_>) -> String {
    if r.byte() % 8 == 0 {
        r.string()
    } else {
        r.pick(NODES).to_string()
    }
}

/// Runs `data` as a program of operations on one engine of the shop
/// fixture: ingest metrics (any value, any time), log lines, payloads in
/// every format, evaluate and diagnose at any time, report executions and
/// outcomes of the decisions it made, set node health, reload the library,
/// snapshot and restore. Nothing may panic, and a snapshot must restore to
/// an engine with the same snapshot. The program runs twice, the second
/// time with the engine's kept reads cleared before every evaluation: what
/// an engine keeps between evaluations must change no decision and no
/// diagnosis.
pub fn check_engine_ops(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let kept = run_engine_ops(data, false);
    let fresh = run_engine_ops(data, true);
    if kept != fresh {
        let at = kept.iter().zip(&fresh).position(|(a, b)| a != b).unwrap_or(kept.len().min(fresh.len()));
        panic!(
            "evaluation {at} differs with kept reads cleared:\nkept:  {:?}\nfresh: {:?}",
            kept.get(at),
            fresh.get(at)
        );
    }
}

/// Runs the program of [`check_engine_ops`]; returns every evaluation's and
/// diagnosis' output as JSON. With `forget`, clears the engine's kept reads
/// before each.
fn run_engine_ops(data: &[u8], forget: bool) -> Vec<String> {
    let f = fixture();
    let mut outputs = Vec::new();
    let mut r = Reader { data };
    let small = r.byte() & 1 == 1;
    let mut engine = match Engine::new(f.library.clone(), f.topology.clone(), config(small)) {
        Ok(e) => e,
        Err(err) => panic!("the shop library compiles: {err}"),
    };
    let mut now = DEFAULT_AT_MS;
    let mut decisions: Vec<String> = Vec::new();
    let mut ops = 0;
    while !r.is_empty() && ops < 256 {
        ops += 1;
        match r.byte() % 12 {
            0 | 1 => {
                let name = if r.byte() % 16 == 0 { r.string() } else { r.pick(METRICS).to_string() };
                let labels = labels(&mut r);
                let value = r.value();
                let at = r.time(&mut now);
                let _ = engine.ingest_metric(&name, &labels, value, at);
            }
            2 => {
                let name = r.pick(METRICS);
                let labels = labels(&mut r);
                if let Ok(Some(handle)) = engine.resolve_series(name, &labels) {
                    for _ in 0..r.byte() % 8 {
                        let value = r.value();
                        let at = r.time(&mut now);
                        engine.ingest_by_handle(handle, value, at);
                    }
                }
            }
            3 => {
                let labels = labels(&mut r);
                let mut lines = Vec::new();
                for _ in 0..r.byte() % 4 {
                    let line = if r.byte() % 4 == 0 { r.string() } else { r.pick(LINES).to_string() };
                    lines.push((line, r.time(&mut now)));
                }
                engine.ingest_log_lines(&labels, None, lines.iter().map(|(l, at)| (l.as_bytes(), *at)));
                let blob = r.payload();
                let at = r.time(&mut now);
                engine.ingest_log_lines(&labels, None, split_lines(blob).map(|line| (line, at)));
            }
            4 => {
                let payload = r.payload();
                let at = r.time(&mut now);
                let _ = engine.ingest_payload(PayloadFormat::Ndjson, payload, at);
            }
            5 => {
                let format = r.pick(&PayloadFormat::ALL);
                let payload = r.payload();
                let at = r.time(&mut now);
                let _ = engine.ingest_payload(format, payload, at);
            }
            6 | 7 => {
                let at = r.time(&mut now);
                if forget {
                    engine.clear_read_caches();
                }
                let made = engine.evaluate(at);
                outputs.push(made.iter().map(|d| d.to_json()).collect::<Vec<_>>().join("\n"));
                for d in made {
                    if decisions.len() < 16 && !decisions.contains(&d.id) {
                        decisions.push(d.id);
                    }
                }
            }
            8 => {
                let at = r.time(&mut now);
                if forget {
                    engine.clear_read_caches();
                }
                let found = engine.diagnose(at);
                outputs.push(format!("{:?}", found.diagnoses));
            }
            9 => {
                let id = match r.byte() {
                    0 => r.string(),
                    b => decisions.get(usize::from(b) % decisions.len().max(1)).cloned().unwrap_or_default(),
                };
                let at = r.time(&mut now);
                if r.byte() & 1 == 0 {
                    let action = r.pick(ACTIONS);
                    let target = node_name(&mut r);
                    let unattended = r.byte() & 1 == 1;
                    let _ = engine.record_execution(&id, action, &target, at, unattended);
                } else {
                    let success = r.byte() & 1 == 1;
                    let _ = engine.record_outcome(&id, success, at);
                }
            }
            10 => {
                let node = node_name(&mut r);
                let health = match r.byte() % 3 {
                    0 => None,
                    1 => Some(healbot_core::engine::HostHealth::Healthy),
                    _ => Some(healbot_core::engine::HostHealth::Unhealthy),
                };
                let _ = engine.set_node_health(&node, health);
            }
            _ => {
                if r.byte() % 4 == 0 {
                    let library = if engine.library().revision() == f.library.revision() {
                        f.other_library.clone()
                    } else {
                        f.library.clone()
                    };
                    if let Err(err) = engine.reload_library(library) {
                        panic!("the shop library compiles: {err}");
                    }
                } else {
                    round_trip(&mut engine, small);
                }
            }
        }
    }
    // Whatever the program did, the state must still snapshot and restore.
    round_trip(&mut engine, small);
    if forget {
        engine.clear_read_caches();
    }
    outputs.extend(engine.evaluate(now).iter().map(|d| d.to_json()));
    outputs
}

/// Runs a body and reports a panic as an error instead of unwinding, for
/// replaying many inputs in one test.
pub fn replay(body: Body, data: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| body(data))).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}
