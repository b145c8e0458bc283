//! `healbot replay`: recorded telemetry through the engine, in time order,
//! evaluated every step; decisions printed as they change, then a summary.
//!
//! The output depends only on the inputs (no clock, sorted maps), so a
//! replay is byte-identical run to run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use healbot_core::decision::RootRole;
use healbot_core::telemetry::PayloadFormat;
use healbot_core::{Decision, Duration, Engine, EngineConfig, Library, Topology};

use crate::files::read_documents;
use crate::input::{self, Timeline};
use crate::testfile::format_time;
use crate::{show, OutputFormat};

/// Replays with more steps than this draw a progress bar on a terminal.
const PROGRESS_MIN_STEPS: usize = 200;
/// The most evaluation steps one replay may take.
const MAX_STEPS: u64 = 5_000_000;

/// What `healbot replay` was asked to do.
#[derive(Debug)]
pub struct Options {
    /// Library documents (files or directories).
    pub library: Vec<PathBuf>,
    /// The topology document.
    pub topology: PathBuf,
    /// Telemetry files.
    pub telemetry: Vec<PathBuf>,
    /// Evaluation step.
    pub step: Duration,
    /// The telemetry format, when the extension and content do not tell.
    pub input_format: Option<PayloadFormat>,
    /// Table or NDJSON decision documents.
    pub format: OutputFormat,
    /// Evaluate until this time (RFC 3339, or an offset from the first observation).
    pub until: Option<String>,
    /// Print every decision at every step, not only changes.
    pub all: bool,
}

/// The state of one decision key, to print only changes.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    verdict: String,
    action: Option<String>,
    root: String,
}

fn key(d: &Decision) -> (String, String) {
    (d.node.to_string(), show::signature_of(d).to_string())
}

fn seen(d: &Decision) -> Seen {
    Seen {
        verdict: d.verdict.as_str().to_string(),
        action: d.action.as_ref().map(|a| a.id.clone()),
        root: show::root_of(d),
    }
}

/// Runs the replay; returns the exit code.
pub fn run(opts: &Options) -> u8 {
    match replay(opts) {
        Ok(code) => code,
        Err((code, msg)) => {
            eprintln!("healbot replay: {msg}");
            code
        }
    }
}

fn load(opts: &Options) -> Result<(Library, Topology), (u8, String)> {
    let sources = read_documents(&opts.library).map_err(|e| (2, e))?;
    let map: BTreeMap<String, String> = sources.iter().map(|s| (s.name.clone(), s.text.clone())).collect();
    let library = Library::from_sources(sources.iter().map(|s| (s.name.as_str(), s.text.as_str()))).map_err(|e| {
        for d in e.diagnostics() {
            eprintln!("{}", crate::render::diagnostic(d, &map));
        }
        (1, format!("the library does not load: {}", e.message()))
    })?;
    let name = opts.topology.display().to_string();
    let text = std::fs::read_to_string(&opts.topology).map_err(|e| (2, format!("{name}: {e}")))?;
    let topology = Topology::from_text(&name, &text).map_err(|e| {
        let map: BTreeMap<String, String> = [(name.clone(), text.clone())].into_iter().collect();
        for d in e.diagnostics() {
            eprintln!("{}", crate::render::diagnostic(d, &map));
        }
        (1, format!("the topology does not load: {}", e.message()))
    })?;
    Ok((library, topology))
}

fn replay(opts: &Options) -> Result<u8, (u8, String)> {
    let (library, topology) = load(opts)?;
    let config = EngineConfig::default();
    let mut observations = Vec::new();
    let mut files = String::new();
    let mut malformed = 0u64;
    let mut parse_dropped = 0u64;
    let mut untimed = 0u64;
    let paths = input::expand_telemetry_paths(&opts.telemetry).map_err(|e| (2, e))?;
    for p in &paths {
        let f = input::read_file(p, opts.input_format, &config.limits()).map_err(|e| (2, e))?;
        for e in &f.errors {
            eprintln!("warning: {e}");
        }
        malformed += f.errors.len() as u64;
        parse_dropped += f.dropped;
        untimed += f.untimed;
        if f.untimed > 0 {
            eprintln!("warning: {}: {} samples without a timestamp cannot be replayed", p.display(), f.untimed);
        }
        let format = f.format.map_or("?", PayloadFormat::as_str);
        let _ = writeln!(files, "  {} ({format}, {} observations)", p.display(), f.observations.len());
        observations.extend(f.observations);
    }
    let mut engine = Engine::new(library.clone(), topology.clone(), config).map_err(|e| (1, e.to_string()))?;
    let mut timeline = Timeline::new(observations);
    let Some((first, last)) = timeline.span() else {
        return Err((1, "no observations to replay".into()));
    };
    let step = opts.step.as_millis_i64().max(1);
    let align_up = |t: i64| t.div_euclid(step) * step + if t.rem_euclid(step) == 0 { 0 } else { step };
    let start = align_up(first);
    let mut end = align_up(last);
    if let Some(u) = &opts.until {
        end = crate::testfile::parse_time(u, first).map_err(|e| (2, format!("--until: {e}")))?.max(start);
    }
    let steps = u64::try_from((end - start) / step + 1).unwrap_or(u64::MAX);
    if steps > MAX_STEPS {
        return Err((2, format!("{steps} evaluation steps; use a larger --step (limit {MAX_STEPS})")));
    }
    let progress = std::io::stdout().is_terminal() && steps as usize > PROGRESS_MIN_STEPS;
    let mut out = std::io::stdout().lock();
    let widths = Widths::new(&library, &topology);
    if opts.format == OutputFormat::Text {
        let _ = writeln!(
            out,
            "replaying {} observations from {} to {} every {}",
            timeline.len(),
            format_time(first),
            format_time(last),
            opts.step
        );
        let _ = write!(out, "{files}");
        let _ = writeln!(out, "{}", widths.header());
    }
    let mut state: BTreeMap<(String, String), Seen> = BTreeMap::new();
    let mut last_decisions: BTreeMap<(String, String), Decision> = BTreeMap::new();
    let mut changes = 0u64;
    let mut t = start;
    let mut done = 0usize;
    while t <= end {
        timeline.advance(&mut engine, t);
        let decisions = input::decide(&mut engine, t);
        let mut lines = String::new();
        let mut now: BTreeMap<(String, String), Seen> = BTreeMap::new();
        for d in &decisions {
            let k = key(d);
            let s = seen(d);
            let changed = state.get(&k) != Some(&s);
            if changed || opts.all {
                changes += 1;
                match opts.format {
                    OutputFormat::Json => {
                        let _ = writeln!(lines, "{}", d.to_json());
                    }
                    OutputFormat::Text => {
                        let _ = writeln!(lines, "{}", widths.row(d));
                    }
                }
            }
            now.insert(k.clone(), s);
            last_decisions.insert(k, d.clone());
        }
        if opts.format == OutputFormat::Text {
            for (node, sig) in state.keys().filter(|k| !now.contains_key(*k)) {
                let _ = writeln!(lines, "{}", widths.resolved(t, node, sig));
            }
        }
        state = now;
        if !lines.is_empty() {
            if progress {
                eprint!("\r\x1b[2K");
            }
            let _ = out.write_all(lines.as_bytes());
        }
        done += 1;
        if progress && (done % 50 == 0 || t + step > end) {
            let _ = out.flush();
            eprint!("\r{}", bar(done, steps as usize, timeline.consumed(), timeline.len()));
        }
        t += step;
    }
    if progress {
        eprintln!("\r\x1b[2K");
    }
    let stats = engine.stats();
    let summary =
        summarize(&last_decisions, &stats, malformed, parse_dropped, untimed, timeline.refused, changes, done);
    match opts.format {
        OutputFormat::Text => {
            let _ = write!(out, "\n{summary}");
        }
        OutputFormat::Json => eprint!("{summary}"),
    }
    let _ = out.flush();
    Ok(0)
}

fn bar(done: usize, total: usize, consumed: usize, observations: usize) -> String {
    let width = 30;
    let filled = (done * width).checked_div(total).unwrap_or(width).min(width);
    format!(
        "[{}{}] {:>3}% step {done}/{total}, {consumed}/{observations} observations",
        "#".repeat(filled),
        " ".repeat(width - filled),
        (done * 100).checked_div(total).unwrap_or(100)
    )
}

/// Fixed column widths, so rows printed one at a time still line up.
struct Widths {
    node: usize,
    signature: usize,
    action: usize,
}

impl Widths {
    fn new(library: &Library, topology: &Topology) -> Widths {
        let node = topology.nodes().iter().map(|n| n.id().chars().count()).max().unwrap_or(4).max(4);
        let signature = library
            .signatures()
            .iter()
            .map(|s| s.id.chars().count())
            .max()
            .unwrap_or(9)
            .max("(inferred suspect)".len());
        let action = library.actions().iter().map(|a| a.id.chars().count()).max().unwrap_or(6) + 3 + node;
        Widths { node, signature, action }
    }

    fn cells(&self, cells: [&str; 7]) -> String {
        let [time, node, sig, verdict, conf, action, root] = cells;
        let line = format!(
            "{time:<20}  {node:<nw$}  {sig:<sw$}  {verdict:<8}  {conf:>5}  {action:<aw$}  {root}",
            nw = self.node,
            sw = self.signature,
            aw = self.action
        );
        line.trim_end().to_string()
    }

    fn header(&self) -> String {
        self.cells(["TIME", "NODE", "SIGNATURE", "VERDICT", "CONF", "ACTION", "ROOT CAUSE"])
    }

    fn row(&self, d: &Decision) -> String {
        let time = format_time(d.at);
        let conf = format!("{:.2}", d.confidence.value);
        let action = show::action_of(d);
        self.cells([&time, &d.node, show::signature_of(d), d.verdict.as_str(), &conf, &action, &show::root_of(d)])
    }

    fn resolved(&self, at: i64, node: &str, sig: &str) -> String {
        self.cells([&format_time(at), node, sig, "resolved", "", "", ""])
    }
}

#[allow(clippy::too_many_arguments)]
fn summarize(
    last: &BTreeMap<(String, String), Decision>,
    stats: &healbot_core::engine::EngineStats,
    malformed: u64,
    parse_dropped: u64,
    untimed: u64,
    refused: u64,
    changes: u64,
    steps: usize,
) -> String {
    let mut s = String::new();
    let mut by_verdict: BTreeMap<&str, usize> = BTreeMap::new();
    for d in last.values() {
        *by_verdict.entry(d.verdict.as_str()).or_default() += 1;
    }
    let _ = writeln!(s, "summary: {steps} evaluations, {changes} decision changes, {} distinct decisions", last.len());
    let verdicts: Vec<String> = ["execute", "escalate", "suppress", "blocked", "observe"]
        .iter()
        .map(|v| format!("{v} {}", by_verdict.get(v).copied().unwrap_or(0)))
        .collect();
    let _ = writeln!(s, "  by verdict (last seen): {}", verdicts.join(", "));
    let mut roots: Vec<&Decision> = last.values().filter(|d| d.root_cause.role != RootRole::Symptom).collect();
    roots.sort_by(|a, b| {
        (a.root_cause.rank.unwrap_or(usize::MAX), &a.node, show::signature_of(a)).cmp(&(
            b.root_cause.rank.unwrap_or(usize::MAX),
            &b.node,
            show::signature_of(b),
        ))
    });
    if roots.is_empty() {
        let _ = writeln!(s, "  root causes: none");
    } else {
        let _ = writeln!(s, "  root causes:");
        for d in roots {
            let explains = if d.root_cause.explains.is_empty() {
                String::new()
            } else {
                format!(", explains {}", show::distinct(&d.root_cause.explains).join(", "))
            };
            let what = d.signature.as_ref().map(|x| format!(" ({})", x.id)).unwrap_or_default();
            let _ = writeln!(
                s,
                "    {} {}{}: {}{}{}",
                show::root_of(d),
                d.node,
                what,
                d.verdict.as_str(),
                d.action.as_ref().map(|a| format!(" {} → {}", a.id, a.target)).unwrap_or_default(),
                explains
            );
        }
    }
    let mut ingested = vec![format!("metric samples {}", stats.ingested_metrics)];
    ingested.extend(stats.ingested.iter().map(|(k, v)| format!("{k} {v}")));
    let _ = writeln!(s, "  ingested: {}", ingested.join(", "));
    let unattached: u64 = stats.unattached.values().sum();
    let detail = counts(&stats.unattached);
    let _ = writeln!(
        s,
        "  unattached observations: {unattached}{}",
        if detail.is_empty() { String::new() } else { format!(" ({})", detail.join(", ")) }
    );
    let mut drops = counts(&stats.dropped);
    for (name, n) in [
        ("malformed_records", malformed),
        ("parser_limits", parse_dropped),
        ("untimed_samples", untimed),
        ("refused_by_engine", refused),
    ] {
        if n > 0 {
            drops.push(format!("{name} {n}"));
        }
    }
    let _ = writeln!(s, "  dropped: {}", if drops.is_empty() { "none".into() } else { drops.join(", ") });
    s
}

/// `reason count` for each reason, named as the stats JSON names it.
fn counts<K: serde::Serialize>(by_reason: &BTreeMap<K, u64>) -> Vec<String> {
    by_reason
        .iter()
        .map(|(k, v)| {
            let name = serde_json::to_value(k).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
            format!("{name} {v}")
        })
        .collect()
}

/// Parses `--step`: a positive Prometheus-style duration.
///
/// # Errors
///
/// A message for clap.
pub fn parse_step(s: &str) -> Result<healbot_core::Duration, String> {
    let d: healbot_core::Duration = s.parse().map_err(|e| format!("{e}"))?;
    if d.is_zero() {
        return Err("the step must be positive".into());
    }
    Ok(d)
}

/// Parses `--input-format`.
///
/// # Errors
///
/// A message for clap, with a suggestion for a misspelt name.
pub fn parse_payload_format(s: &str) -> Result<healbot_core::telemetry::PayloadFormat, String> {
    s.parse().map_err(|e: healbot_core::Error| e.message().to_string())
}
