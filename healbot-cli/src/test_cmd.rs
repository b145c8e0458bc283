//! `healbot test FILE...`: unit tests for libraries (see `docs/testing.md`).
//!
//! Each test file names library documents and a topology, and holds cases:
//! input telemetry (compact series, logs, alerts, events, recorded files),
//! evaluation times, and the decisions that must and must not be there. The
//! engine is evaluated every `eval_interval` from the start, as it would be in
//! production, so `for` durations and onsets behave as they do live.
//!
//! Exit codes: 0 every case passed, 1 a case failed or a file is invalid, 2
//! usage or I/O errors.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use healbot_core::telemetry::{self, Labels, Limits, MetricSample, Observation, PayloadFormat};
use healbot_core::{Decision, Duration, Engine, EngineConfig, Library, Topology};
use serde::Serialize;

use crate::files::{read_documents, SourceFile};
use crate::input::{self, Timeline};
use crate::show;
use crate::testfile::{self, Absent, Case, Expect, TelemetryRef};
use crate::OutputFormat;

/// The most evaluation steps one case may take.
const MAX_STEPS: usize = 200_000;

/// The id of the probe signature used to explain a missing decision.
const PROBE_ALL: &str = "__healbot_test_probe_all";
const PROBE_HELD: &str = "__healbot_test_probe_held";

/// The report of one file.
#[derive(Debug, Serialize)]
struct FileReport {
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    cases: Vec<CaseReport>,
}

/// The report of one case.
#[derive(Debug, Serialize)]
struct CaseReport {
    name: String,
    passed: bool,
    checks: usize,
    failures: Vec<Failure>,
}

/// One failed expectation.
#[derive(Debug, Serialize)]
struct Failure {
    /// The check time as an offset from the start (`+10m`).
    at: String,
    /// Which expectation (`expect[0]`, `absent[1]`, `expect_none`, `setup`).
    check: String,
    expected: String,
    got: String,
    details: Vec<String>,
}

/// Why a file could not be run.
enum Fatal {
    /// Invalid content (exit 1), already printed.
    Invalid(String),
    /// I/O or usage (exit 2).
    Io(String),
}

/// Runs every test file (directories: every `*.hbtest` below them); returns the exit code.
pub fn run(paths: &[PathBuf], format: OutputFormat, verbose: bool) -> u8 {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            if let Err(e) = crate::files::walk(p, &is_test_file, &mut files) {
                eprintln!("healbot test: {}: {e}", p.display());
                return 2;
            }
        } else if p.exists() {
            files.push(p.clone());
        } else {
            eprintln!("healbot test: {}: no such file or directory", p.display());
            return 2;
        }
    }
    if files.is_empty() {
        eprintln!("healbot test: no test files (*.hbtest) found");
        return 2;
    }
    let mut reports = Vec::new();
    let mut io_error = false;
    let mut invalid = false;
    for f in &files {
        match run_file(f, format) {
            Ok(r) => reports.push(r),
            Err(Fatal::Io(msg)) => {
                eprintln!("healbot test: {msg}");
                io_error = true;
                reports.push(FileReport { path: f.display().to_string(), error: Some(msg), cases: Vec::new() });
            }
            Err(Fatal::Invalid(msg)) => {
                invalid = true;
                reports.push(FileReport { path: f.display().to_string(), error: Some(msg), cases: Vec::new() });
            }
        }
    }
    let cases: usize = reports.iter().map(|r| r.cases.len()).sum();
    let failed: usize = reports.iter().map(|r| r.cases.iter().filter(|c| !c.passed).count()).sum();
    let broken = reports.iter().filter(|r| r.error.is_some()).count();
    match format {
        OutputFormat::Json => {
            let doc = serde_json::json!({
                "passed": failed == 0 && broken == 0,
                "files": reports,
                "cases": cases,
                "failed": failed,
            });
            outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        OutputFormat::Text => {
            let mut out = String::new();
            for r in &reports {
                render_file(&mut out, r, verbose);
            }
            let _ = writeln!(
                out,
                "{} files, {cases} cases: {} passed, {failed} failed{}",
                reports.len(),
                cases - failed,
                if broken > 0 { format!(", {broken} files could not run") } else { String::new() }
            );
            out!("{out}");
        }
    }
    if io_error {
        2
    } else if invalid || failed > 0 || broken > 0 {
        1
    } else {
        0
    }
}

fn is_test_file(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "hbtest")
}

fn render_file(out: &mut String, r: &FileReport, verbose: bool) {
    let failed = r.cases.iter().filter(|c| !c.passed).count();
    if let Some(e) = &r.error {
        let _ = writeln!(out, "ERROR {}: {e}", r.path);
        return;
    }
    let status = if failed == 0 { "ok   " } else { "FAIL " };
    let _ = writeln!(out, "{status} {} ({} cases, {failed} failed)", r.path, r.cases.len());
    for c in &r.cases {
        if c.passed {
            if verbose {
                let _ = writeln!(out, "  ok    {}", c.name);
            }
            continue;
        }
        let _ = writeln!(out, "  FAIL  {}", c.name);
        for f in &c.failures {
            let _ = writeln!(out, "    at {} [{}]", f.at, f.check);
            let _ = writeln!(out, "      expected: {}", f.expected);
            let _ = writeln!(out, "      got:      {}", f.got);
            for d in &f.details {
                let _ = writeln!(out, "        {d}");
            }
        }
    }
}

/// What every case of a file shares.
struct Fixture {
    sources: Vec<SourceFile>,
    library: Library,
    topology: Topology,
    start: i64,
    interval: Duration,
    eval_interval: Duration,
    observations: Vec<Observation>,
    dir: PathBuf,
}

fn run_file(path: &Path, format: OutputFormat) -> Result<FileReport, Fatal> {
    let loaded = match testfile::load(path) {
        Ok(l) => l,
        Err(Err(io)) => return Err(Fatal::Io(io)),
        Err(Ok(diags)) => {
            let sources: BTreeMap<String, String> = std::fs::read_to_string(path)
                .map(|t| [(path.display().to_string(), t)].into_iter().collect())
                .unwrap_or_default();
            if format == OutputFormat::Text {
                for d in &diags {
                    eprintln!("{}", crate::render::diagnostic(d, &sources));
                }
            }
            let first = diags.first().map_or_else(String::new, |d| format!("{}:{}: {}", d.line, d.column, d.message));
            return Err(Fatal::Invalid(format!("invalid test file: {first}")));
        }
    };
    let fixture = fixture(&loaded, format)?;
    let mut report = FileReport {
        path: loaded.file.name.clone().unwrap_or_else(|| path.display().to_string()),
        error: None,
        cases: Vec::new(),
    };
    for case in &loaded.file.cases {
        report.cases.push(run_case(&fixture, case));
    }
    Ok(report)
}

fn fixture(loaded: &testfile::Loaded, format: OutputFormat) -> Result<Fixture, Fatal> {
    let f = &loaded.file;
    let dir = &loaded.dir;
    let lib_paths: Vec<PathBuf> = f.library.items().iter().map(|p| dir.join(p)).collect();
    let sources = read_documents(&lib_paths).map_err(Fatal::Io)?;
    let library = Library::from_sources(sources.iter().map(|s| (s.name.as_str(), s.text.as_str()))).map_err(|e| {
        print_diagnostics(e.diagnostics(), &sources, format);
        Fatal::Invalid(format!("the library does not load: {}", e.message()))
    })?;
    let topology = match &f.topology {
        serde_json::Value::String(p) => {
            let p = dir.join(p);
            let text = std::fs::read_to_string(&p).map_err(|e| Fatal::Io(format!("{}: {e}", p.display())))?;
            let name = p.display().to_string();
            Topology::from_text(&name, &text).map_err(|e| {
                print_diagnostics(e.diagnostics(), &[SourceFile { name: name.clone(), text: text.clone() }], format);
                Fatal::Invalid(format!("the topology does not load: {}", e.message()))
            })?
        }
        serde_json::Value::Object(map) => {
            let doc = if map.contains_key("kind") {
                f.topology.clone()
            } else {
                serde_json::json!({
                    "apiVersion": "healbot.dev/v1",
                    "kind": "Topology",
                    "metadata": {"name": "inline"},
                    "spec": f.topology,
                })
            };
            let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
            let name = format!("{} (inline topology).json", loaded.path.display());
            Topology::from_text(&name, &text).map_err(|e| {
                print_diagnostics(e.diagnostics(), &[SourceFile { name: name.clone(), text: text.clone() }], format);
                Fatal::Invalid(format!("the inline topology does not load: {}", e.message()))
            })?
        }
        _ => return Err(Fatal::Invalid("`topology` is a path or an inline Topology document".into())),
    };
    let start = match &f.start {
        Some(s) => testfile::parse_rfc3339(s).map_err(|e| Fatal::Invalid(format!("start `{s}`: {e}")))?,
        None => testfile::DEFAULT_START,
    };
    let interval = f.interval.unwrap_or(Duration::from_secs(30));
    let eval_interval = f.eval_interval.unwrap_or(interval);
    if interval.is_zero() || eval_interval.is_zero() {
        return Err(Fatal::Invalid("`interval` and `eval_interval` must be positive".into()));
    }
    let observations = read_telemetry(dir, &f.telemetry).map_err(Fatal::Io)?;
    Ok(Fixture { sources, library, topology, start, interval, eval_interval, observations, dir: dir.clone() })
}

fn print_diagnostics(diags: &[healbot_core::Diagnostic], sources: &[SourceFile], format: OutputFormat) {
    if format != OutputFormat::Text {
        return;
    }
    let map: BTreeMap<String, String> = sources.iter().map(|s| (s.name.clone(), s.text.clone())).collect();
    for d in diags {
        eprintln!("{}", crate::render::diagnostic(d, &map));
    }
}

fn read_telemetry(dir: &Path, refs: &[TelemetryRef]) -> Result<Vec<Observation>, String> {
    let mut out = Vec::new();
    for r in refs {
        let (path, format) = match r {
            TelemetryRef::Path(p) => (p, None),
            TelemetryRef::WithFormat { path, format } => {
                (path, Some(format.parse::<PayloadFormat>().map_err(|e| e.message().to_string())?))
            }
        };
        let file = input::read_file(&dir.join(path), format, &Limits::default())?;
        if let Some(e) = file.errors.first() {
            return Err(format!("{e} ({} malformed records)", file.errors.len()));
        }
        out.extend(file.observations);
    }
    Ok(out)
}

/// A check: a time and what must hold then.
struct CheckAt<'a> {
    at: i64,
    label: String,
    expect: &'a [Expect],
    absent: &'a [Absent],
    expect_none: bool,
}

impl<'a> CheckAt<'a> {
    /// The check at `at` (an offset from `start` or a time); its errors and
    /// reports name it with `label` (`checks[2].`, empty for the case's own).
    fn new(
        start: i64,
        label: String,
        at: &str,
        expect: &'a [Expect],
        absent: &'a [Absent],
        expect_none: bool,
    ) -> Result<CheckAt<'a>, String> {
        let at = testfile::parse_time(at, start).map_err(|e| format!("{label}at: {e}"))?;
        Ok(CheckAt { at, label, expect, absent, expect_none })
    }
}

fn setup_failure(fx: &Fixture, msg: String) -> Failure {
    Failure {
        at: show_at(fx.start, fx.start),
        check: "setup".into(),
        expected: "a valid case".into(),
        got: msg,
        details: Vec::new(),
    }
}

fn show_at(at: i64, start: i64) -> String {
    format!("{} ({})", testfile::format_offset(at, start), testfile::format_time(at))
}

fn run_case(fx: &Fixture, case: &Case) -> CaseReport {
    let mut report = CaseReport { name: case.name.clone(), passed: false, checks: 0, failures: Vec::new() };
    let observations = match case_observations(fx, case) {
        Ok(o) => o,
        Err(e) => {
            report.failures.push(setup_failure(fx, e));
            return report;
        }
    };
    let mut checks = Vec::new();
    if let Some(at) = &case.at {
        checks.push(CheckAt::new(fx.start, String::new(), at, &case.expect, &case.absent, case.expect_none));
    } else if !case.expect.is_empty() || !case.absent.is_empty() || case.expect_none {
        report.failures.push(setup_failure(fx, "`expect`, `absent` and `expect_none` need `at`".into()));
        return report;
    }
    for (i, c) in case.checks.iter().enumerate() {
        let label = format!("checks[{i}].");
        checks.push(CheckAt::new(fx.start, label, &c.at, &c.expect, &c.absent, c.expect_none));
    }
    let mut checks = match checks.into_iter().collect::<Result<Vec<_>, String>>() {
        Ok(checks) => checks,
        Err(e) => {
            report.failures.push(setup_failure(fx, e));
            return report;
        }
    };
    if checks.is_empty() {
        report.failures.push(setup_failure(fx, "the case checks nothing: give `at` with `expect`/`absent`".into()));
        return report;
    }
    checks.sort_by_key(|c| c.at);
    report.checks = checks.len();

    let mut engine = match Engine::new(fx.library.clone(), fx.topology.clone(), EngineConfig::default()) {
        Ok(e) => e,
        Err(e) => {
            report.failures.push(setup_failure(fx, e.to_string()));
            return report;
        }
    };
    if let Err(e) = apply_history(fx, case, &mut engine) {
        report.failures.push(setup_failure(fx, e));
        return report;
    }
    let mut timeline = Timeline::new(observations.clone());
    let first = timeline.span().map_or(fx.start, |(a, _)| a.min(fx.start));
    let last = checks.last().map_or(fx.start, |c| c.at);
    let step = fx.eval_interval.as_millis_i64();
    let mut times: Vec<i64> = Vec::new();
    let mut t = first;
    while t < last {
        times.push(t);
        t = t.saturating_add(step);
        if times.len() > MAX_STEPS {
            report.failures.push(setup_failure(fx, format!("more than {MAX_STEPS} evaluation steps")));
            return report;
        }
    }
    times.extend(checks.iter().map(|c| c.at));
    times.sort_unstable();
    times.dedup();
    let mut next_check = 0;
    for t in times {
        timeline.advance(&mut engine, t);
        let decisions = input::decide(&mut engine, t);
        while let Some(c) = checks.get(next_check) {
            if c.at != t {
                break;
            }
            check(fx, &observations, c, &decisions, &mut report.failures);
            next_check += 1;
        }
    }
    report.passed = report.failures.is_empty();
    report
}

/// Records the case's `history` in the engine's ledger, as a host would
/// have reported it.
fn apply_history(fx: &Fixture, case: &Case, engine: &mut Engine) -> Result<(), String> {
    for (i, h) in case.history.iter().enumerate() {
        let at = testfile::parse_time(&h.at, fx.start).map_err(|e| format!("history[{i}].at: {e}"))?;
        let id = format!("history-{i}");
        engine
            .record_execution(&id, &h.action, &h.target, at, h.unattended.unwrap_or(true))
            .map_err(|e| format!("history[{i}]: {}", e.message()))?;
        let success = match h.outcome.as_deref() {
            None => continue,
            Some("success") => true,
            Some("failure") => false,
            Some(other) => return Err(format!("history[{i}].outcome: `{other}`; expected `success` or `failure`")),
        };
        engine.record_outcome(&id, success, at).map_err(|e| format!("history[{i}]: {}", e.message()))?;
    }
    Ok(())
}

fn labels_of(map: &BTreeMap<String, String>) -> serde_json::Value {
    serde_json::Value::Object(map.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect())
}

fn case_observations(fx: &Fixture, case: &Case) -> Result<Vec<Observation>, String> {
    let mut out = fx.observations.clone();
    out.extend(read_telemetry(&fx.dir, &case.telemetry)?);
    let interval = case.interval.unwrap_or(fx.interval).as_millis_i64();
    if interval <= 0 {
        return Err("`interval` must be positive".into());
    }
    for (i, s) in case.series.iter().enumerate() {
        let (name, pairs) = testfile::parse_selector(&s.series).map_err(|e| format!("series[{i}]: {e}"))?;
        let labels: Labels = pairs.into_iter().collect();
        let values = crate::series::expand(&s.values).map_err(|e| format!("series[{i}].values: {e}"))?;
        let begin = match &s.start {
            Some(t) => testfile::parse_time(t, fx.start).map_err(|e| format!("series[{i}].start: {e}"))?,
            None => fx.start,
        };
        for (k, v) in values.into_iter().enumerate() {
            if let Some(v) = v {
                let at = begin.saturating_add(interval.saturating_mul(k as i64));
                out.push(Observation::Metric(MetricSample::new(name.clone(), labels.clone(), v, at)));
            }
        }
    }
    // Logs, alerts and events go through the NDJSON reader, so that they get
    // exactly the labels recorded telemetry would.
    let mut lines: Vec<serde_json::Value> = Vec::new();
    for (i, l) in case.logs.iter().enumerate() {
        let at = testfile::parse_time(&l.at, fx.start).map_err(|e| format!("logs[{i}].at: {e}"))?;
        let every = l.every.map_or(interval, |d| d.as_millis_i64());
        for k in 0..l.repeat.unwrap_or(1) {
            let mut rec = serde_json::json!({
                "type": "log",
                "body": l.body,
                "attributes": labels_of(&l.labels),
                "at": at.saturating_add(every.saturating_mul(i64::from(k))),
            });
            if let Some(s) = &l.severity {
                rec["severity"] = serde_json::Value::String(s.clone());
            }
            lines.push(rec);
        }
    }
    for (i, a) in case.alerts.iter().enumerate() {
        let at = testfile::parse_time(&a.at, fx.start).map_err(|e| format!("alerts[{i}].at: {e}"))?;
        let rec = serde_json::json!({
            "type": "alert",
            "name": a.name,
            "labels": labels_of(&a.labels),
            "annotations": labels_of(&a.annotations),
            "status": "firing",
            "starts_at": at,
        });
        lines.push(rec.clone());
        if let Some(u) = &a.until {
            let until = testfile::parse_time(u, fx.start).map_err(|e| format!("alerts[{i}].until: {e}"))?;
            let mut resolved = rec;
            resolved["status"] = "resolved".into();
            resolved["ends_at"] = until.into();
            lines.push(resolved);
        }
    }
    for (i, e) in case.events.iter().enumerate() {
        let at = testfile::parse_time(&e.at, fx.start).map_err(|e| format!("events[{i}].at: {e}"))?;
        let mut obj = serde_json::json!({"name": e.object.name});
        if let Some(k) = &e.object.kind {
            obj["kind"] = k.clone().into();
        }
        if let Some(n) = &e.object.namespace {
            obj["namespace"] = n.clone().into();
        }
        let mut rec = serde_json::json!({
            "type": "event",
            "event_type": e.event_type.clone().unwrap_or_else(|| "Warning".into()),
            "reason": e.reason,
            "object": obj,
            "count": e.count.unwrap_or(1),
            "last_at": at,
        });
        if let Some(m) = &e.message {
            rec["message"] = m.clone().into();
        }
        if !e.labels.is_empty() {
            rec["labels"] = labels_of(&e.labels);
        }
        lines.push(rec);
    }
    if !lines.is_empty() {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let parsed = telemetry::parse(PayloadFormat::Ndjson, text.as_bytes(), fx.start, &Limits::default())
            .map_err(|e| e.to_string())?;
        if let Some(e) = parsed.errors.first() {
            return Err(format!("a log, alert or event is invalid: {}", e.message));
        }
        out.extend(parsed.observations);
    }
    Ok(out)
}

fn signature_matches(d: &Decision, e: &Expect) -> bool {
    let sig_ok = match (&e.signature, &d.signature) {
        (Some(want), Some(have)) => *want == have.id,
        (None, None) => e.suspect,
        _ => false,
    };
    sig_ok && d.node == e.node
}

fn describe_expect(e: &Expect) -> String {
    let mut s = match &e.signature {
        Some(sig) => format!("{sig} on {}", e.node),
        None => format!("inferred suspect {}", e.node),
    };
    let mut parts = given(&[("verdict", &e.verdict), ("action", &e.action), ("target", &e.target)]);
    if let Some(r) = &e.root_cause {
        parts.push(format!("root cause {}", compact_json(r)));
    }
    if let Some(c) = &e.confidence {
        parts.push(format!(
            "confidence in [{}, {}]",
            c.min.map_or_else(|| "0".into(), show::num),
            c.max.map_or_else(|| "1".into(), show::num)
        ));
    }
    for r in &e.reasons {
        parts.push(format!("a reason containing {r:?}"));
    }
    for r in &e.rejected {
        parts.push(format!("{r} rejected"));
    }
    if !parts.is_empty() {
        let _ = write!(s, ": {}", parts.join(", "));
    }
    s
}

/// "it fired because:" and the evidence the decision's signature required,
/// for a decision that should not be there.
fn why_it_fired(d: &Decision) -> Vec<String> {
    let mut lines = vec!["it fired because:".to_string()];
    lines.extend(
        d.evidence
            .iter()
            .filter(|e| matches!(e.role, healbot_core::diagnosis::Role::Required))
            .map(|e| format!("  {}  {}", e.about.path, show::evidence_line(e))),
    );
    lines
}

/// `name value` for each optional field of an expectation that is given.
fn given(fields: &[(&str, &Option<String>)]) -> Vec<String> {
    fields.iter().filter_map(|(name, value)| value.as_ref().map(|v| format!("{name} {v}"))).collect()
}

fn compact_json(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Compares one expectation with its decision; returns the mismatches.
fn mismatches(d: &Decision, e: &Expect) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(v) = &e.verdict {
        if d.verdict.as_str() != v {
            out.push(format!("verdict: expected {v}, got {}", d.verdict.as_str()));
        }
    }
    if let Some(a) = &e.action {
        let have = d.action.as_ref().map_or("none", |x| x.id.as_str());
        if have != a {
            out.push(format!("action: expected {a}, got {have}"));
        }
    }
    if let Some(t) = &e.target {
        let have = d.action.as_ref().map_or("none", |x| x.target.as_str());
        if have != t {
            out.push(format!("target: expected {t}, got {have}"));
        }
    }
    if let Some(r) = &e.root_cause {
        let rc = &d.root_cause;
        let role = serde_json::to_value(rc.role).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        match r {
            serde_json::Value::String(node) => {
                if rc.node != *node {
                    out.push(format!("root cause: expected {node}, got {} ({role})", rc.node));
                }
            }
            serde_json::Value::Object(m) => {
                for (k, want) in m {
                    let have = match k.as_str() {
                        "role" => serde_json::Value::String(role.clone()),
                        "node" => serde_json::Value::String(rc.node.to_string()),
                        "signature" => rc
                            .signature
                            .as_ref()
                            .map_or(serde_json::Value::Null, |s| serde_json::Value::String(s.to_string())),
                        "path" => serde_json::json!(rc.path),
                        "rank" => rc.rank.map_or(serde_json::Value::Null, serde_json::Value::from),
                        "explains" => serde_json::json!(rc.explains),
                        other => {
                            out.push(format!(
                                "root_cause.{other}: unknown key (role, node, signature, path, rank, explains)"
                            ));
                            continue;
                        }
                    };
                    if have != *want {
                        out.push(format!(
                            "root_cause.{k}: expected {}, got {}",
                            compact_json(want),
                            compact_json(&have)
                        ));
                    }
                }
            }
            _ => out.push("root_cause: expected a node id or a map".into()),
        }
    }
    if let Some(c) = &e.confidence {
        let v = d.confidence.value;
        if c.min.is_some_and(|m| v < m) || c.max.is_some_and(|m| v > m) {
            out.push(format!(
                "confidence: expected [{}, {}], got {:.4}",
                c.min.map_or_else(|| "0".into(), show::num),
                c.max.map_or_else(|| "1".into(), show::num),
                v
            ));
        }
    }
    for r in &e.reasons {
        if !d.reasons.iter().any(|x| x.contains(r.as_str())) {
            out.push(format!("reasons: none contains {r:?}"));
        }
    }
    for r in &e.rejected {
        if !d.rejected.iter().any(|x| x.id == *r) {
            out.push(format!("rejected: {r} was not rejected"));
        }
    }
    out
}

/// What a person needs to see why a decision came out as it did.
fn decision_details(d: &Decision, want_confidence: bool) -> Vec<String> {
    let mut out = Vec::new();
    for r in &d.reasons {
        out.push(format!("reason: {r}"));
    }
    if d.root_cause.role == healbot_core::decision::RootRole::Symptom {
        out.push(format!("root-cause path: {}", d.root_cause.path.join(" → ")));
    }
    for r in &d.rejected {
        for f in &r.failed {
            out.push(format!("rejected {}: {} guard: {}", r.id, f.guard, f.reason));
        }
    }
    if want_confidence {
        for t in &d.confidence.terms() {
            out.push(format!("confidence term {}: {} ({})", t.name, show::num(t.value), t.detail));
        }
    }
    out
}

fn check(fx: &Fixture, observations: &[Observation], c: &CheckAt<'_>, decisions: &[Decision], out: &mut Vec<Failure>) {
    let at = show_at(c.at, fx.start);
    for (i, e) in c.expect.iter().enumerate() {
        let label = format!("{}expect[{i}]", c.label);
        if e.signature.is_none() && !e.suspect {
            out.push(Failure {
                at: at.clone(),
                check: label,
                expected: "an expectation with `signature` (or `suspect: true`)".into(),
                got: "neither".into(),
                details: Vec::new(),
            });
            continue;
        }
        match decisions.iter().find(|d| signature_matches(d, e)) {
            Some(d) => {
                let bad = mismatches(d, e);
                if !bad.is_empty() {
                    let mut details = bad;
                    details.extend(decision_details(d, e.confidence.is_some()));
                    out.push(Failure {
                        at: at.clone(),
                        check: label,
                        expected: describe_expect(e),
                        got: show::decision_brief(d),
                        details,
                    });
                }
            }
            None => {
                let mut details = match &e.signature {
                    Some(sig) => probe(fx, observations, sig, &e.node, c.at),
                    None => vec![format!("no inferred-suspect decision on {}", e.node)],
                };
                if decisions.is_empty() {
                    details.push("no decision at all at this time".into());
                } else {
                    details.push("decisions at this time:".into());
                    details.extend(decisions.iter().map(|d| format!("  {}", show::decision_brief(d))));
                }
                out.push(Failure {
                    at: at.clone(),
                    check: label,
                    expected: describe_expect(e),
                    got: format!("no {} decision on {}", e.signature.as_deref().unwrap_or("inferred-suspect"), e.node),
                    details,
                });
            }
        }
    }
    for (i, a) in c.absent.iter().enumerate() {
        for d in decisions.iter().filter(|d| absent_matches(d, a)) {
            let mut details = why_it_fired(d);
            details.extend(decision_details(d, false));
            out.push(Failure {
                at: at.clone(),
                check: format!("{}absent[{i}]", c.label),
                expected: format!("no decision matching {}", describe_absent(a)),
                got: show::decision_brief(d),
                details,
            });
        }
    }
    if c.expect_none {
        for d in decisions.iter().filter(|d| !c.expect.iter().any(|e| signature_matches(d, e))) {
            let details = why_it_fired(d);
            out.push(Failure {
                at: at.clone(),
                check: format!("{}expect_none", c.label),
                expected: if c.expect.is_empty() {
                    "no decision at all".into()
                } else {
                    "no decision besides those expected".into()
                },
                got: show::decision_brief(d),
                details,
            });
        }
    }
}

fn absent_matches(d: &Decision, a: &Absent) -> bool {
    a.signature.as_ref().is_none_or(|s| d.signature.as_ref().is_some_and(|x| x.id == *s))
        && a.node.as_ref().is_none_or(|n| d.node == *n)
        && a.verdict.as_ref().is_none_or(|v| d.verdict.as_str() == v)
        && a.action.as_ref().is_none_or(|x| d.action.as_ref().is_some_and(|y| y.id == *x))
}

fn describe_absent(a: &Absent) -> String {
    let parts =
        given(&[("signature", &a.signature), ("node", &a.node), ("verdict", &a.verdict), ("action", &a.action)]);
    if parts.is_empty() {
        "anything".into()
    } else {
        parts.join(", ")
    }
}

/// Explains why `signature` made no decision on `node` at `at`: replays the
/// same input through probe signatures that copy its `match` (one that
/// always fires and reports every predicate, one that fires when `match`
/// holds), so the report can name the predicate that did not hold.
fn probe(fx: &Fixture, observations: &[Observation], signature: &str, node: &str, at: i64) -> Vec<String> {
    let Some(sig) = fx.library.signature(signature) else {
        let ids: Vec<&str> = fx.library.signatures().iter().map(|s| s.id.as_str()).collect();
        let mut msg = format!("the library has no signature `{signature}`");
        if let Some(best) = ids.iter().min_by_key(|id| levenshtein(id, signature)) {
            if levenshtein(best, signature) <= 3 {
                let _ = write!(msg, "; did you mean `{best}`?");
            }
        }
        return vec![msg];
    };
    if fx.topology.lookup(node).is_none() {
        return vec![format!("the topology has no node `{node}`")];
    }
    if sig.status == healbot_core::spec::signature::Status::Disabled {
        return vec![format!("`{signature}` is disabled")];
    }
    let Ok(m) = serde_json::to_value(&sig.match_) else { return Vec::new() };
    let applies = serde_json::to_value(&sig.applies_to).unwrap_or(serde_json::Value::Null);
    let probe_sig = |id: &str, cond: serde_json::Value| {
        let mut s = serde_json::json!({
            "id": id, "title": "probe", "category": "other", "severity": "info", "match": cond,
        });
        if !applies.is_null() {
            s["applies_to"] = applies.clone();
        }
        s
    };
    let doc = serde_json::json!({
        "apiVersion": "healbot.dev/v1",
        "kind": "SignatureLibrary",
        "metadata": {"name": "healbot-test-probe"},
        "spec": {"signatures": [
            probe_sig(PROBE_ALL, serde_json::json!({"any": [m, {"not": strip_ids(&m)}]})),
            probe_sig(PROBE_HELD, m.clone()),
        ]},
    });
    let text = doc.to_string();
    let mut sources: Vec<(&str, &str)> = fx.sources.iter().map(|s| (s.name.as_str(), s.text.as_str())).collect();
    sources.push(("healbot-test-probe.json", &text));
    let engine =
        Library::from_sources(sources).and_then(|lib| Engine::new(lib, fx.topology.clone(), EngineConfig::default()));
    let mut engine = match engine {
        Ok(e) => e,
        Err(e) => return vec![format!("(could not probe the signature: {})", e.message())],
    };
    let mut timeline = Timeline::new(observations.to_vec());
    timeline.advance(&mut engine, at);
    let diagnoses = engine.diagnose(at).diagnoses;
    let on = |id: &str| diagnoses.iter().find(|d| d.signature == id && d.node_id == node);
    let Some(all) = on(PROBE_ALL) else {
        return vec![format!(
            "`{signature}` does not apply to {node} (applies_to: {})",
            if applies.is_null() { "every node".to_string() } else { applies.to_string() }
        )];
    };
    let leaves: Vec<String> = all
        .evidence
        .iter()
        .filter_map(|e| {
            let rest = e.about.path.strip_prefix("match.any[0]")?;
            Some(format!("  match{rest}  {}", show::evidence_line(e)))
        })
        .collect();
    let mut out = Vec::new();
    if on(PROBE_HELD).is_some() {
        out.push(format!("`{signature}`'s match held on {node} at this time, but no decision came:"));
        if !sig.for_.is_zero() {
            out.push(format!("  `for: {}` — the match must hold at every evaluation for that long", sig.for_));
        }
        for x in &sig.exceptions {
            let text = serde_json::to_string(x).unwrap_or_default();
            out.push(format!("  a structured exception may apply: {text}"));
        }
        out.extend(leaves);
    } else {
        out.push(format!("`{signature}`'s match did not hold on {node}; the ✗ predicates made the difference:"));
        out.extend(leaves);
    }
    out
}

/// The condition without predicate ids (ids are unique within a signature).
fn strip_ids(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.iter().filter(|(k, _)| k.as_str() != "id").map(|(k, v)| (k.clone(), strip_ids(v))).collect(),
        ),
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(strip_ids).collect()),
        other => other.clone(),
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
