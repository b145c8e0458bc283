//! `healbot import prometheus FILE... [-o FILE]`: Prometheus alerting rules
//! converted into a `SignatureLibrary` document.
//!
//! Both shapes of rule file are read: a plain rule file (`groups:`) and the
//! Prometheus Operator's `PrometheusRule` custom resource (`spec.groups`);
//! a file may hold a stream of YAML documents. Every alerting rule becomes a
//! signature that fires when the alert fires (`{alert: {name}}`), carrying the
//! rule's `for`, severity, labels (as `key=value` tags), annotations (summary
//! as the title, description and the others in the description) and runbook
//! URL. Recording rules are skipped and counted.
//!
//! Rules whose PromQL has a simple shape are also translated into metric
//! predicates (see [`translate`]); the signature then matches on either:
//! `match: {any: [{alert: ...}, <translated>]}`. The rest stay alert-only,
//! with a warning on stderr that names the file, the group, the rule and the
//! reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use healbot_core::source::{from_node, parse_yaml, Budget, Node, Value};
use healbot_core::spec::kinds;
use healbot_core::spec::signature::{
    AbsentPredicate, AlertPredicate, Category, ForecastPredicate, MetricPredicate, SignatureSeverity,
};
use healbot_core::spec::{
    Aggregation, ApiVersion, Comparison, Condition, LabelMatcher, MatchOp, Metadata, Signature,
    SignatureLibraryDocument, SignatureLibrarySpec,
};
use healbot_core::{Diagnostic, Duration};
use promql_parser::label::{MatchOp as PromMatchOp, Matcher as PromMatcher};
use promql_parser::parser::{self as promql, Expr, VectorSelector};

use crate::files::SourceFile;

/// `healbot import ...`: the formats HealBot can import.
#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Convert Prometheus alerting-rule files (plain `groups:` files or
    /// `PrometheusRule` resources) into a SignatureLibrary.
    Prometheus(PrometheusArgs),
}

/// Arguments of `healbot import prometheus`.
#[derive(Debug, clap::Args)]
pub struct PrometheusArgs {
    /// Rule files (YAML).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the library here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// `metadata.name` of the generated library.
    #[arg(long, default_value = "prometheus-import")]
    pub name: String,
    /// Output format (JSON is also valid HealBot input).
    #[arg(long, value_enum, default_value = "yaml")]
    pub format: DocFormat,
    /// Print only the summary, not one warning per rule.
    #[arg(short, long)]
    pub quiet: bool,
    /// Load the generated library back and compile it for evaluation,
    /// printing how long each step took.
    #[arg(long)]
    pub check: bool,
}

/// The text format of a generated document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DocFormat {
    /// Block YAML.
    Yaml,
    /// Pretty JSON.
    Json,
}

/// Runs an import subcommand; returns the exit code (0 ok, 1 invalid input, 2 I/O).
pub fn run(cmd: ImportCommand) -> u8 {
    match cmd {
        ImportCommand::Prometheus(args) => run_prometheus(&args),
    }
}

fn run_prometheus(args: &PrometheusArgs) -> u8 {
    let mut files = Vec::new();
    for p in &args.files {
        match std::fs::read_to_string(p) {
            Ok(text) => files.push(SourceFile { name: p.display().to_string(), text }),
            Err(e) => {
                eprintln!("healbot import: {}: {e}", p.display());
                return 2;
            }
        }
    }
    let started = std::time::Instant::now();
    let import = match import_prometheus(&files, &args.name) {
        Ok(i) => i,
        Err(diags) => {
            let sources: BTreeMap<String, String> = files.into_iter().map(|f| (f.name, f.text)).collect();
            for d in &diags {
                eprintln!("{}", crate::render::diagnostic(d, &sources));
            }
            eprintln!("healbot import: {} errors; nothing written", diags.len());
            return 1;
        }
    };
    let text = match render_document(&import.document, args.format) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("healbot import: cannot serialize the library: {e}");
            return 2;
        }
    };
    if !args.quiet {
        for w in &import.report.warnings {
            eprintln!("warning: {w}");
        }
    }
    let import_ms = started.elapsed().as_secs_f64() * 1000.0;
    if args.check {
        let name = args.output.as_ref().map_or_else(|| "<stdout>".to_string(), |p| p.display().to_string());
        let t0 = std::time::Instant::now();
        let library = match healbot_core::Library::from_text(&name, &text) {
            Ok(l) => l,
            Err(e) => {
                let sources = BTreeMap::from([(name.clone(), text.clone())]);
                for d in e.diagnostics() {
                    eprintln!("{}", crate::render::diagnostic(d, &sources));
                }
                eprintln!("healbot import: the generated library does not load (a bug in the importer)");
                return 1;
            }
        };
        let load_ms = t0.elapsed().as_secs_f64() * 1000.0;
        let t1 = std::time::Instant::now();
        if let Err(e) = healbot_core::matcher::Program::compile(&library) {
            eprintln!("healbot import: the generated library does not compile: {e}");
            return 1;
        }
        let compile_ms = t1.elapsed().as_secs_f64() * 1000.0;
        eprintln!(
            "check: {} signatures load in {load_ms:.1} ms and compile in {compile_ms:.1} ms",
            library.signatures().len()
        );
    }
    match &args.output {
        Some(p) => {
            if let Err(e) = std::fs::write(p, &text) {
                eprintln!("healbot import: {}: {e}", p.display());
                return 2;
            }
        }
        None => out!("{text}"),
    }
    let r = &import.report;
    eprintln!(
        "imported {} alerting rules from {} files ({} groups, {} empty; {} recording rules skipped): \
         {} with metric predicates, {} alert-only; {} warnings; {import_ms:.1} ms",
        r.alerting,
        r.files,
        r.groups,
        r.empty_groups,
        r.recording,
        r.translated,
        r.alerting - r.translated,
        r.warnings.len(),
    );
    0
}

/// What an import did, for the summary line and the tests.
#[derive(Debug, Default)]
pub struct Report {
    /// Files read.
    pub files: usize,
    /// Rule groups seen.
    pub groups: usize,
    /// Groups whose `rules` was empty, null or missing.
    pub empty_groups: usize,
    /// Alerting rules imported.
    pub alerting: usize,
    /// Recording rules skipped.
    pub recording: usize,
    /// Alerting rules that also got metric predicates.
    pub translated: usize,
    /// One line per problem: file, group, rule, reason.
    pub warnings: Vec<String>,
}

/// The generated library and the report.
#[derive(Debug)]
pub struct Import {
    /// The `SignatureLibrary` document.
    pub document: SignatureLibraryDocument,
    /// Counts and warnings.
    pub report: Report,
}

/// One Prometheus rule, as written in a rule group. Unknown fields are
/// tolerated: Prometheus grows its format, and an import should not fail on
/// a field it does not need.
#[derive(Debug, serde::Deserialize)]
struct PromRule {
    #[serde(default)]
    alert: Option<String>,
    #[serde(default)]
    record: Option<String>,
    #[serde(default)]
    expr: Option<String>,
    #[serde(default, rename = "for")]
    for_: Option<String>,
    #[serde(default)]
    keep_firing_for: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, Option<String>>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, Option<String>>>,
}

/// Converts rule files into one `SignatureLibrary` named `name`.
///
/// # Errors
///
/// Diagnostics (file, line, column, path) for text that is not YAML or a
/// rule that is not a map with `alert`/`record` and `expr`; nothing is
/// generated then.
pub fn import_prometheus(files: &[SourceFile], name: &str) -> Result<Import, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut report = Report { files: files.len(), ..Report::default() };
    let mut signatures = Vec::new();
    let mut ids = BTreeSet::new();
    for f in files {
        let (docs, diags) = parse_yaml(&f.name, &f.text, &Budget::default());
        if !diags.is_empty() {
            errors.extend(diags);
            continue;
        }
        for (di, doc) in docs.iter().enumerate() {
            if doc.is_null() {
                continue;
            }
            let (groups, gpath) = if doc.get("kind").and_then(Node::as_str) == Some("PrometheusRule") {
                (doc.get("spec").and_then(|s| s.get("groups")), "spec.groups")
            } else {
                (doc.get("groups"), "groups")
            };
            let Some(groups) = groups else {
                report.warnings.push(format!(
                    "{}: document {}: neither a rule file (`groups`) nor a PrometheusRule (`spec.groups`); skipped",
                    f.name,
                    di + 1
                ));
                continue;
            };
            let items: &[Node] = match &groups.value {
                Value::Seq(items) => items,
                Value::Null => &[],
                _ => {
                    errors.push(node_error(&f.name, groups, gpath, "`groups` must be a list"));
                    continue;
                }
            };
            for (gi, g) in items.iter().enumerate() {
                let gp = format!("{gpath}[{gi}]");
                report.groups += 1;
                let gname = g.get("name").and_then(Node::scalar_text).unwrap_or("").to_string();
                if gname.is_empty() {
                    errors.push(node_error(&f.name, g, &gp, "a rule group needs a `name`"));
                    continue;
                }
                let rules: &[Node] = match g.get("rules").map(|r| &r.value) {
                    Some(Value::Seq(items)) => items,
                    None | Some(Value::Null) => &[],
                    Some(_) => {
                        let at = g.get("rules").unwrap_or(g);
                        errors.push(node_error(&f.name, at, &format!("{gp}.rules"), "`rules` must be a list"));
                        continue;
                    }
                };
                if rules.is_empty() {
                    report.empty_groups += 1;
                    report.warnings.push(format!("{}: group `{gname}` has no rules", f.name));
                }
                for (ri, r) in rules.iter().enumerate() {
                    let rp = format!("{gp}.rules[{ri}]");
                    let rule: PromRule = match from_node(&f.name, r, &rp) {
                        Ok(rule) => rule,
                        Err(d) => {
                            errors.push(d);
                            continue;
                        }
                    };
                    match (&rule.alert, &rule.record, &rule.expr) {
                        (_, _, None) => errors.push(node_error(&f.name, r, &rp, "a rule needs an `expr`")),
                        (Some(_), Some(_), _) => {
                            errors.push(node_error(&f.name, r, &rp, "a rule has `alert` or `record`, not both"))
                        }
                        (None, None, _) => errors.push(node_error(&f.name, r, &rp, "a rule needs `alert` or `record`")),
                        (None, Some(_), _) => report.recording += 1,
                        (Some(alert), None, Some(expr)) => {
                            let ctx = RuleCtx { file: &f.name, group: &gname, alert };
                            let sig = convert_rule(&ctx, &rule, expr, &mut ids, &mut report);
                            signatures.push(sig);
                        }
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let document = SignatureLibraryDocument {
        api_version: ApiVersion::V1,
        kind: kinds::SignatureLibrary::SignatureLibrary,
        metadata: Metadata {
            name: name.to_string(),
            description: format!(
                "Imported from {} Prometheus rule file{} by `healbot import prometheus`.",
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            ),
            ..Metadata::default()
        },
        spec: SignatureLibrarySpec { signatures, ..SignatureLibrarySpec::default() },
    };
    Ok(Import { document, report })
}

fn node_error(file: &str, node: &Node, path: &str, message: &str) -> Diagnostic {
    Diagnostic {
        expected: None,
        found: Some(node.type_name().to_string()),
        ..Diagnostic::error(
            healbot_core::DiagnosticKind::Invalid,
            file,
            node.span.line,
            node.span.column,
            path,
            message,
        )
    }
}

struct RuleCtx<'a> {
    file: &'a str,
    group: &'a str,
    alert: &'a str,
}

impl RuleCtx<'_> {
    fn warn(&self, report: &mut Report, reason: &str) {
        report.warnings.push(format!("{}: group `{}`, rule `{}`: {reason}", self.file, self.group, self.alert));
    }
}

/// The longest window HealBot accepts by default (`LoadConfig::max_window`).
const MAX_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Prometheus's lookback for an instant selector.
const LOOKBACK: Duration = Duration::from_secs(300);

fn convert_rule(
    ctx: &RuleCtx<'_>,
    rule: &PromRule,
    expr: &str,
    ids: &mut BTreeSet<String>,
    report: &mut Report,
) -> Signature {
    report.alerting += 1;
    let labels: BTreeMap<String, String> =
        rule.labels.iter().flatten().map(|(k, v)| (k.clone(), v.clone().unwrap_or_default())).collect();
    let annotations: BTreeMap<String, String> =
        rule.annotations.iter().flatten().map(|(k, v)| (k.clone(), v.clone().unwrap_or_default())).collect();

    let severity = match labels.get("severity").map(|s| s.trim().to_ascii_lowercase()) {
        Some(s) if s == "critical" || s == "page" => SignatureSeverity::Critical,
        Some(s) if s == "warning" || s == "warn" => SignatureSeverity::Warning,
        Some(s) if s == "info" || s == "none" => SignatureSeverity::Info,
        Some(s) => {
            ctx.warn(report, &format!("unknown severity `{s}`; imported as warning"));
            SignatureSeverity::Warning
        }
        None => {
            ctx.warn(report, "no `severity` label; imported as warning");
            SignatureSeverity::Warning
        }
    };
    let mut tags = vec!["prometheus".to_string()];
    tags.extend(labels.iter().filter(|(k, _)| *k != "severity").map(|(k, v)| format!("{k}={v}")));

    let mut for_ = Duration::ZERO;
    if let Some(f) = rule.for_.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        match f.parse::<Duration>() {
            Ok(d) if d > MAX_WINDOW => {
                ctx.warn(
                    report,
                    &format!("`for: {f}` is longer than HealBot's {MAX_WINDOW} limit; clamped to {MAX_WINDOW}"),
                );
                for_ = MAX_WINDOW;
                tags.push("for-clamped".into());
            }
            Ok(d) => for_ = d,
            Err(e) => ctx.warn(report, &format!("`for`: {e}; ignored")),
        }
    }
    if let Some(k) = &rule.keep_firing_for {
        ctx.warn(report, &format!("`keep_firing_for: {k}` has no HealBot equivalent; ignored"));
    }

    let alert = Condition::Alert(AlertPredicate { id: None, name: ctx.alert.to_string(), labels: Vec::new() });
    let mut notes = Vec::new();
    let translated = match promql::parse(expr) {
        Ok(ast) => translate(&ast, &mut notes),
        Err(e) => Err(format!("PromQL did not parse: {}", e.lines().next().unwrap_or(""))),
    };
    let match_ = match translated {
        Ok(mut cond) => {
            report.translated += 1;
            let mut n = 0;
            count_predicates(&cond, &mut n);
            let mut next = 0;
            assign_ids(&mut cond, n, &mut next);
            Condition::Any(vec![alert, cond])
        }
        Err(reason) => {
            ctx.warn(report, &format!("alert-only: {reason}"));
            alert
        }
    };

    let mut description = annotations.get("description").cloned().unwrap_or_default().trim_end().to_string();
    for (k, v) in annotations.iter().filter(|(k, _)| !matches!(k.as_str(), "summary" | "description" | "runbook_url")) {
        push_para(&mut description, &format!("{k}: {}", v.trim_end()));
    }
    push_para(&mut description, &format!("Imported from {}, group `{}`. PromQL: {}", ctx.file, ctx.group, expr.trim()));
    if !notes.is_empty() {
        notes.sort();
        notes.dedup();
        push_para(&mut description, &format!("Translated approximately: {}.", notes.join("; ")));
    }
    let title = annotations
        .get("summary")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| ctx.alert.to_string());
    let runbook_url = annotations
        .get("runbook_url")
        .or_else(|| annotations.get("runbook"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());

    Signature {
        id: unique_id(ids, ctx.group, ctx.alert),
        title,
        description,
        category: category(ctx.alert, expr),
        severity,
        status: Default::default(),
        prior: None,
        tags,
        false_positives: Vec::new(),
        runbook_url,
        applies_to: Default::default(),
        match_,
        for_,
        evidence: Vec::new(),
        exceptions: Vec::new(),
        actions: Vec::new(),
    }
}

fn push_para(out: &mut String, text: &str) {
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(text);
}

/// `CamelCase`, spaces and punctuation to `snake_case`.
fn slug(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && i > 0 {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
                if prev.is_ascii_lowercase() || prev.is_ascii_digit() || (prev.is_ascii_uppercase() && next_lower) {
                    out.push('_');
                }
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_').replace("__", "_");
    if trimmed.is_empty() {
        "rule".into()
    } else {
        trimmed
    }
}

/// `<group>.<alert>` in snake_case, with `_2`, `_3`... on collision.
fn unique_id(ids: &mut BTreeSet<String>, group: &str, alert: &str) -> String {
    let base = format!("{}.{}", slug(group), slug(alert));
    let mut id = base.clone();
    let mut n = 2;
    while ids.contains(&id) {
        id = format!("{base}_{n}");
        n += 1;
    }
    ids.insert(id.clone());
    id
}

/// A category from the alert's name (and `predict_linear` in its
/// expression): a keyword heuristic, documented in docs/evaluation.md.
fn category(alert: &str, expr: &str) -> Category {
    let name = alert.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if expr.contains("predict_linear") {
        Category::Capacity
    } else if has(&[
        "down",
        "unavailable",
        "offline",
        "unreachable",
        "missing",
        "absent",
        "notup",
        "dead",
        "nodata",
        "notrunning",
    ]) {
        Category::Unavailable
    } else if has(&["latency", "slow", "responsetime", "response_time", "duration", "lag"]) {
        Category::Latency
    } else if has(&["error", "fail", "5xx", "reject", "panic", "crash", "exception"]) {
        Category::Errors
    } else if has(&["saturat", "queue", "connection", "pool", "thread", "throttl", "backlog", "full", "limit"]) {
        Category::Saturation
    } else if has(&["memory", "cpu", "disk", "filesystem", "inode", "swap", "oom", "filedescriptor", "load", "space"]) {
        Category::Resource
    } else if has(&["cert", "config", "ssl", "tls", "expir"]) {
        Category::Configuration
    } else if has(&["version", "deploy", "rollout"]) {
        Category::Deployment
    } else {
        Category::Other
    }
}

fn count_predicates(c: &Condition, n: &mut usize) {
    match c {
        Condition::All(v) | Condition::Any(v) => v.iter().for_each(|c| count_predicates(c, n)),
        Condition::Not(c) => count_predicates(c, n),
        Condition::Metric(_) | Condition::Absent(_) | Condition::Forecast(_) => *n += 1,
        _ => {}
    }
}

/// Predicate ids, so an `Overrides` document can tune imported thresholds:
/// `expr` for a single predicate, `expr_1`, `expr_2`... in order otherwise.
fn assign_ids(c: &mut Condition, total: usize, next: &mut usize) {
    let mut id = || {
        *next += 1;
        Some(if total == 1 { "expr".to_string() } else { format!("expr_{next}") })
    };
    match c {
        Condition::All(v) | Condition::Any(v) => v.iter_mut().for_each(|c| assign_ids(c, total, next)),
        Condition::Not(c) => assign_ids(c, total, next),
        Condition::Metric(m) => m.id = id(),
        Condition::Absent(a) => a.id = id(),
        Condition::Forecast(f) => f.id = id(),
        _ => {}
    }
}

/// Translates a PromQL alert expression into a HealBot condition, or says
/// why it cannot.
///
/// Translated shapes (evaluated per node, over the series attached to it):
///
/// | PromQL | HealBot |
/// |---|---|
/// | `sel op n` (either side; `+ - * /` with numbers folded into `n`) | `metric: {agg: last, window: 5m}` |
/// | `rate`/`irate`/`increase`/`deriv`/`delta`/`*_over_time`(`sel[w]`) `op n` | `metric` with `rate`, `increase`, `slope`, `avg`, `min`, `max`, `sum`, `count`, `quantile`, `last` over `w` |
/// | `max(x) > n`, `min(x) < n` (any grouping) | as `x` (one series decides) |
/// | `absent(sel)`, `absent_over_time(sel[w])` | `absent: {for: 5m or w}` |
/// | `predict_linear(sel[w], t) op n` | `forecast: {window: w, within: t}` |
/// | `a and b`, `a or b`, `a unless b` | `all`, `any`, `all [a, not b]` |
///
/// `irate` is read as `rate` over the range and `delta(x[w])` as the
/// least-squares slope times `w`; both are noted in the description.
pub fn translate(e: &Expr, notes: &mut Vec<String>) -> Result<Condition, String> {
    match e {
        Expr::Paren(p) => translate(&p.expr, notes),
        Expr::Binary(b) if b.op.is_set_operator() => {
            let op = b.op.to_string();
            let l = translate(&b.lhs, notes)?;
            let r = translate(&b.rhs, notes)?;
            Ok(match op.as_str() {
                "and" => Condition::All(flatten(l, r, true)),
                "or" => Condition::Any(flatten(l, r, false)),
                _ => Condition::All(vec![l, Condition::Not(Box::new(r))]),
            })
        }
        Expr::Binary(b) if b.op.is_comparison_operator() => {
            if b.modifier.as_ref().is_some_and(|m| m.return_bool) {
                return Err("comparison with `bool` returns 0/1 instead of filtering".into());
            }
            let op = comparison(&b.op.to_string()).ok_or_else(|| format!("unknown comparison `{}`", b.op))?;
            match (const_eval(&b.lhs), const_eval(&b.rhs)) {
                (None, Some(t)) => compared(&b.lhs, op, t, notes),
                (Some(t), None) => compared(&b.rhs, flip(op), t, notes),
                (Some(_), Some(_)) => Err("comparison between two numbers".into()),
                (None, None) => Err(format!("binary operation `{}` between two vectors", b.op)),
            }
        }
        Expr::Call(c) if c.func.name == "absent" || c.func.name == "absent_over_time" => {
            let arg = c.args.args.first().ok_or("`absent` without an argument")?;
            let (vs, window) = match (c.func.name, arg.as_ref()) {
                ("absent", Expr::VectorSelector(vs)) => (vs, LOOKBACK),
                ("absent_over_time", Expr::MatrixSelector(ms)) => (&ms.vs, range(ms.range)?),
                _ => return Err(format!("`{}` of an expression, not of a selector", c.func.name)),
            };
            let (metric, labels) = selector(vs)?;
            Ok(Condition::Absent(AbsentPredicate { id: None, metric, labels, for_: window }))
        }
        Expr::Binary(b) => Err(format!("binary operation `{}` without a comparison with a number", b.op)),
        Expr::Aggregate(a) => Err(format!("aggregation {}", describe_aggregate(a))),
        Expr::Call(c) => Err(format!("function `{}` without a comparison with a number", c.func.name)),
        Expr::VectorSelector(vs) => {
            // A bare selector fires while any matching series has a sample.
            let (metric, labels) = selector(vs)?;
            let absent = Condition::Absent(AbsentPredicate { id: None, metric, labels, for_: LOOKBACK });
            Ok(Condition::Not(Box::new(absent)))
        }
        Expr::MatrixSelector(_) => Err("a range selector on its own".into()),
        Expr::Subquery(_) => Err("subquery".into()),
        Expr::Unary(_) | Expr::NumberLiteral(_) | Expr::StringLiteral(_) => Err("a constant expression".into()),
        Expr::Extension(_) => Err("an extension expression".into()),
    }
}

fn flatten(l: Condition, r: Condition, all: bool) -> Vec<Condition> {
    let mut out = Vec::new();
    for c in [l, r] {
        match c {
            Condition::All(v) if all => out.extend(v),
            Condition::Any(v) if !all => out.extend(v),
            c => out.push(c),
        }
    }
    out
}

fn describe_aggregate(a: &promql::AggregateExpr) -> String {
    use promql::LabelModifier;
    let grouping = match &a.modifier {
        Some(LabelModifier::Include(l)) => format!(" by ({})", l.labels.join(", ")),
        Some(LabelModifier::Exclude(l)) => format!(" without ({})", l.labels.join(", ")),
        None => String::new(),
    };
    format!("`{}{grouping}`", a.op)
}

fn comparison(op: &str) -> Option<Comparison> {
    Some(match op {
        ">" => Comparison::Gt,
        ">=" => Comparison::Ge,
        "<" => Comparison::Lt,
        "<=" => Comparison::Le,
        "==" => Comparison::Eq,
        "!=" => Comparison::Ne,
        _ => return None,
    })
}

/// The comparison with its sides swapped: `n < x` is `x > n`.
fn flip(op: Comparison) -> Comparison {
    match op {
        Comparison::Gt => Comparison::Lt,
        Comparison::Ge => Comparison::Le,
        Comparison::Lt => Comparison::Gt,
        Comparison::Le => Comparison::Ge,
        c => c,
    }
}

/// The value of a constant expression: numbers, parentheses, unary minus and
/// arithmetic between constants.
fn const_eval(e: &Expr) -> Option<f64> {
    match e {
        Expr::NumberLiteral(n) => Some(n.val),
        Expr::Paren(p) => const_eval(&p.expr),
        Expr::Unary(u) => const_eval(&u.expr).map(|v| -v),
        Expr::Binary(b) => {
            let (l, r) = (const_eval(&b.lhs)?, const_eval(&b.rhs)?);
            Some(match b.op.to_string().as_str() {
                "+" => l + r,
                "-" => l - r,
                "*" => l * r,
                "/" => l / r,
                "%" => l % r,
                "^" => l.powf(r),
                _ => return None,
            })
        }
        _ => None,
    }
}

/// `e op t`, with arithmetic against constants folded into the threshold.
fn compared(e: &Expr, op: Comparison, t: f64, notes: &mut Vec<String>) -> Result<Condition, String> {
    let (mut e, mut op, mut t) = (e, op, t);
    loop {
        match e {
            Expr::Paren(p) => e = &p.expr,
            Expr::Unary(u) => {
                e = &u.expr;
                op = flip(op);
                t = -t;
            }
            Expr::Binary(b) if !b.op.is_comparison_operator() && !b.op.is_set_operator() => {
                let arith = b.op.to_string();
                let (inner, c, const_left) = match (const_eval(&b.lhs), const_eval(&b.rhs)) {
                    (None, Some(c)) => (&b.lhs, c, false),
                    (Some(c), None) => (&b.rhs, c, true),
                    _ => return Err(format!("binary operation `{arith}` between two vectors")),
                };
                e = inner;
                match (arith.as_str(), const_left) {
                    ("+", _) => t -= c,
                    ("-", false) => t += c,
                    ("-", true) => {
                        // c - x op t  ⇔  x flip(op) c - t
                        op = flip(op);
                        t = c - t;
                    }
                    ("*", _) if c != 0.0 => {
                        t /= c;
                        if c < 0.0 {
                            op = flip(op);
                        }
                    }
                    ("/", false) if c != 0.0 => {
                        t *= c;
                        if c < 0.0 {
                            op = flip(op);
                        }
                    }
                    _ => return Err(format!("arithmetic `{arith}` with a constant that cannot be folded")),
                }
            }
            _ => break,
        }
    }
    if !t.is_finite() {
        return Err(format!("threshold {t} is not a finite number"));
    }
    match e {
        Expr::VectorSelector(vs) => metric(vs, Aggregation::Last, None, LOOKBACK, op, t),
        Expr::Aggregate(a) => {
            let name = a.op.to_string();
            let decides = matches!(
                (name.as_str(), op),
                ("max", Comparison::Gt | Comparison::Ge) | ("min", Comparison::Lt | Comparison::Le)
            );
            if decides && a.param.is_none() {
                compared(&a.expr, op, t, notes)
            } else {
                Err(format!("aggregation {}", describe_aggregate(a)))
            }
        }
        Expr::Call(c) => call(c, op, t, notes),
        Expr::Subquery(_) => Err("subquery".into()),
        Expr::Binary(b) => Err(format!("binary operation `{}` between two vectors", b.op)),
        _ => Err("an expression HealBot has no predicate for".into()),
    }
}

fn call(c: &promql::Call, op: Comparison, t: f64, notes: &mut Vec<String>) -> Result<Condition, String> {
    let name = c.func.name;
    let args = &c.args.args;
    let matrix = |i: usize| -> Result<(&VectorSelector, Duration), String> {
        match args.get(i).map(|a| a.as_ref()) {
            Some(Expr::MatrixSelector(ms)) => Ok((&ms.vs, range(ms.range)?)),
            Some(Expr::Subquery(_)) => Err(format!("`{name}` of a subquery")),
            _ => Err(format!("`{name}` of an expression, not of a range selector")),
        }
    };
    let simple = |agg: Aggregation| -> Result<Condition, String> {
        let (vs, w) = matrix(0)?;
        metric(vs, agg, None, w, op, t)
    };
    match name {
        "rate" | "increase" => simple(if name == "rate" { Aggregation::Rate } else { Aggregation::Increase }),
        "irate" => {
            notes.push("`irate` read as `rate` over the whole range".into());
            simple(Aggregation::Rate)
        }
        "deriv" => simple(Aggregation::Slope),
        "delta" => {
            let (vs, w) = matrix(0)?;
            notes.push("`delta(x[w])` read as the least-squares slope times `w`".into());
            metric(vs, Aggregation::Slope, None, w, op, t / w.as_secs_f64())
        }
        "avg_over_time" => simple(Aggregation::Avg),
        "min_over_time" => simple(Aggregation::Min),
        "max_over_time" => simple(Aggregation::Max),
        "sum_over_time" => simple(Aggregation::Sum),
        "count_over_time" => simple(Aggregation::Count),
        "last_over_time" => simple(Aggregation::Last),
        "quantile_over_time" => {
            let q = args.first().and_then(|a| const_eval(a)).ok_or("`quantile_over_time` with a non-constant q")?;
            if !(0.0..=1.0).contains(&q) {
                return Err(format!("quantile {q} is outside [0, 1]"));
            }
            let (vs, w) = matrix(1)?;
            metric(vs, Aggregation::Quantile, Some(q), w, op, t)
        }
        "predict_linear" => {
            let (vs, w) = matrix(0)?;
            let horizon =
                args.get(1).and_then(|a| const_eval(a)).ok_or("`predict_linear` with a non-constant horizon")?;
            if !(horizon.is_finite() && horizon > 0.0) {
                return Err(format!("`predict_linear` horizon {horizon} is not a positive number of seconds"));
            }
            if matches!(op, Comparison::Eq | Comparison::Ne) {
                return Err(format!("`predict_linear` compared with `{op}` (a forecast needs >, >=, < or <=)"));
            }
            let (metric, labels) = selector(vs)?;
            Ok(Condition::Forecast(ForecastPredicate {
                id: None,
                metric,
                labels,
                window: w,
                op,
                threshold: t,
                within: Duration::from_millis((horizon * 1000.0).round() as u64),
            }))
        }
        other => Err(format!("function `{other}` has no HealBot aggregate")),
    }
}

fn range(d: std::time::Duration) -> Result<Duration, String> {
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let w = Duration::from_millis(ms);
    if w.is_zero() {
        Err("an empty range".into())
    } else if w > MAX_WINDOW {
        Err(format!("range [{w}] is longer than HealBot's {MAX_WINDOW} window limit"))
    } else {
        Ok(w)
    }
}

fn metric(
    vs: &VectorSelector,
    agg: Aggregation,
    q: Option<f64>,
    window: Duration,
    op: Comparison,
    threshold: f64,
) -> Result<Condition, String> {
    if !threshold.is_finite() {
        return Err(format!("threshold {threshold} is not a finite number"));
    }
    let (name, labels) = selector(vs)?;
    Ok(Condition::Metric(MetricPredicate { id: None, name, labels, agg, q, window, op, threshold }))
}

/// The metric name and label matchers of a selector.
fn selector(vs: &VectorSelector) -> Result<(String, Vec<LabelMatcher>), String> {
    if vs.offset.is_some() {
        return Err("`offset` modifier".into());
    }
    if vs.at.is_some() {
        return Err("`@` modifier".into());
    }
    if !vs.matchers.or_matchers.is_empty() {
        return Err("`or` inside a selector".into());
    }
    let mut name = vs.name.clone();
    let mut labels = Vec::new();
    for m in &vs.matchers.matchers {
        if m.name == "__name__" {
            match (&m.op, &name) {
                (PromMatchOp::Equal, None) => name = Some(m.value.clone()),
                (PromMatchOp::Equal, Some(n)) if *n == m.value => {}
                _ => return Err("a selector that matches metric names by pattern".into()),
            }
            continue;
        }
        labels.push(label_matcher(m)?);
    }
    let name = name.ok_or("a selector without a metric name")?;
    Ok((name, labels))
}

fn label_matcher(m: &PromMatcher) -> Result<LabelMatcher, String> {
    let op = match m.op {
        PromMatchOp::Equal => MatchOp::Eq,
        PromMatchOp::NotEqual => MatchOp::Ne,
        PromMatchOp::Re(_) => MatchOp::Re,
        PromMatchOp::NotRe(_) => MatchOp::NotRe,
    };
    let lm = LabelMatcher { name: m.name.clone(), op, value: m.value.clone() };
    // The document carries the matcher as text: it must read back the same.
    match lm.to_string().parse::<LabelMatcher>() {
        Ok(back) if back == lm => Ok(lm),
        _ => Err(format!("label matcher `{}{}{:?}` cannot be written in HealBot syntax", m.name, m.op, m.value)),
    }
}

/// Serializes a document as block YAML (keys in a readable order, short
/// maps of scalars in flow style) or pretty JSON.
///
/// # Errors
///
/// A serialization error (not expected for documents built in memory).
pub fn render_document<T: serde::Serialize>(doc: &T, format: DocFormat) -> Result<String, serde_json::Error> {
    let value = serde_json::to_value(doc)?;
    Ok(match format {
        DocFormat::Json => {
            let mut s = serde_json::to_string_pretty(&value)?;
            s.push('\n');
            s
        }
        DocFormat::Yaml => {
            let mut out = String::new();
            yaml::document(&value, &mut out);
            out
        }
    })
}

/// A small block-YAML writer for `serde_json::Value` trees.
mod yaml {
    use serde_json::Value;

    /// Keys that read best first, in this order; the rest follow sorted.
    const KEY_ORDER: &[&str] = &[
        "apiVersion",
        "kind",
        "metadata",
        "spec",
        "id",
        "name",
        "title",
        "description",
        "category",
        "severity",
        "status",
        "prior",
        "tags",
        "runbook_url",
        "metric",
        "labels",
        "agg",
        "q",
        "window",
        "op",
        "threshold",
        "within",
        "applies_to",
        "match",
        "for",
    ];

    fn ordered(map: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
        let mut entries: Vec<(&String, &Value)> = map.iter().collect();
        entries.sort_by_key(|(k, _)| (KEY_ORDER.iter().position(|o| o == k).unwrap_or(KEY_ORDER.len()), *k));
        entries
    }

    /// Writes `v` as one YAML document.
    pub fn document(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) if !m.is_empty() => map(m, 0, false, out),
            other => {
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }

    fn is_plain(s: &str) -> bool {
        let reserved = ["true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"];
        let word = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
            && !reserved.contains(&s.to_ascii_lowercase().as_str());
        // Durations such as `5m` or `1h30m`: digits then letters, never a number.
        let duration = s.chars().next().is_some_and(|c| c.is_ascii_digit())
            && s.chars().all(|c| c.is_ascii_digit() || matches!(c, 'y' | 'w' | 'd' | 'h' | 'm' | 's'))
            && s.chars().last().is_some_and(|c| c.is_ascii_lowercase());
        word || duration
    }

    fn string(s: &str) -> String {
        if is_plain(s) {
            s.to_string()
        } else {
            // A JSON string is a valid YAML double-quoted scalar.
            serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
        }
    }

    fn scalar(v: &Value) -> String {
        match v {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => string(s),
            Value::Array(a) if a.is_empty() => "[]".into(),
            Value::Object(m) if m.is_empty() => "{}".into(),
            _ => String::new(),
        }
    }

    fn is_scalar(v: &Value) -> bool {
        match v {
            Value::Array(a) => a.is_empty(),
            Value::Object(m) => m.is_empty(),
            _ => true,
        }
    }

    /// `{a: 1, b: [x, y]}` when every value is a scalar or a list of
    /// scalars, no string spans lines, and the result is short.
    fn flow(v: &Value, budget: usize) -> Option<String> {
        let text = match v {
            Value::Object(m) => {
                let mut parts = Vec::new();
                for (k, v) in ordered(m) {
                    parts.push(format!("{}: {}", string(k), flow_leaf(v)?));
                }
                format!("{{{}}}", parts.join(", "))
            }
            Value::Array(a) => format!("[{}]", a.iter().map(flow_leaf).collect::<Option<Vec<_>>>()?.join(", ")),
            _ => return None,
        };
        (text.len() <= budget && !text.contains("\\n")).then_some(text)
    }

    fn flow_leaf(v: &Value) -> Option<String> {
        match v {
            Value::Array(a) => {
                let items: Option<Vec<String>> = a.iter().map(|x| is_scalar(x).then(|| scalar(x))).collect();
                Some(format!("[{}]", items?.join(", ")))
            }
            v if is_scalar(v) => Some(scalar(v)),
            _ => None,
        }
    }

    fn map(m: &serde_json::Map<String, Value>, indent: usize, first_inline: bool, out: &mut String) {
        for (i, (k, v)) in ordered(m).into_iter().enumerate() {
            if !(i == 0 && first_inline) {
                out.push_str(&" ".repeat(indent));
            }
            let key = string(k);
            out.push_str(&key);
            out.push(':');
            // Flow style only while the line stays within 120 columns.
            let column = indent + key.len() + 2;
            value_after_key(v, indent, column, out);
        }
    }

    fn value_after_key(v: &Value, indent: usize, column: usize, out: &mut String) {
        if is_scalar(v) {
            out.push(' ');
            out.push_str(&scalar(v));
            out.push('\n');
            return;
        }
        // Top-level sections stay in block style.
        let flowed = if indent > 0 { flow(v, 120usize.saturating_sub(column)) } else { None };
        if let Some(f) = flowed {
            out.push(' ');
            out.push_str(&f);
            out.push('\n');
            return;
        }
        out.push('\n');
        match v {
            Value::Object(m) => map(m, indent + 2, false, out),
            Value::Array(a) => seq(a, indent + 2, out),
            _ => {}
        }
    }

    fn seq(items: &[Value], indent: usize, out: &mut String) {
        for item in items {
            out.push_str(&" ".repeat(indent));
            out.push('-');
            match item {
                Value::Object(m) if !m.is_empty() => {
                    out.push(' ');
                    map(m, indent + 2, true, out);
                }
                Value::Array(a) if !a.is_empty() => {
                    out.push('\n');
                    seq(a, indent + 2, out);
                }
                v => {
                    out.push(' ');
                    out.push_str(&scalar(v));
                    out.push('\n');
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn tr(expr: &str) -> Result<Condition, String> {
        let ast = promql::parse(expr).unwrap();
        translate(&ast, &mut Vec::new())
    }

    fn metric_of(c: Condition) -> MetricPredicate {
        match c {
            Condition::Metric(m) => m,
            other => panic!("not a metric predicate: {other:?}"),
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("HostOutOfMemory"), "host_out_of_memory");
        assert_eq!(slug("HTTPErrors5xx"), "http_errors5xx");
        assert_eq!(slug("EmbeddedExporter"), "embedded_exporter");
        assert_eq!(slug("node-exporter rules"), "node_exporter_rules");
        assert_eq!(slug("!!!"), "rule");
    }

    #[test]
    fn thresholds_fold_arithmetic() {
        let m = metric_of(tr("x * 100 > 80").unwrap());
        assert_eq!((m.op, m.threshold), (Comparison::Gt, 0.8));
        let m = metric_of(tr("80 < (x / 2)").unwrap());
        assert_eq!((m.op, m.threshold), (Comparison::Gt, 160.0));
        let m = metric_of(tr("100 - x > 90").unwrap());
        assert_eq!((m.op, m.threshold), (Comparison::Lt, 10.0));
        let m = metric_of(tr("-x >= 3").unwrap());
        assert_eq!((m.op, m.threshold), (Comparison::Le, -3.0));
        let m = metric_of(tr("x * -2 < 4").unwrap());
        assert_eq!((m.op, m.threshold), (Comparison::Gt, -2.0));
    }

    #[test]
    fn functions_and_aggregates() {
        let m = metric_of(tr(r#"rate(http_requests_total{code=~"5.."}[5m]) > 1"#).unwrap());
        assert_eq!(
            (m.agg, m.window.to_string(), m.labels[0].to_string()),
            (Aggregation::Rate, "5m".into(), r#"code=~"5..""#.into())
        );
        let m = metric_of(tr("max by (instance) (avg_over_time(x[10m])) > 3").unwrap());
        assert_eq!(m.agg, Aggregation::Avg);
        assert!(tr("sum by (instance) (x) > 3").unwrap_err().contains("`sum by (instance)`"));
        assert!(tr("min(x) > 3").unwrap_err().contains("aggregation"));
        let m = metric_of(tr("quantile_over_time(0.9, x[5m]) > 1").unwrap());
        assert_eq!((m.agg, m.q), (Aggregation::Quantile, Some(0.9)));
        let m = metric_of(tr("delta(x[10m]) > 60").unwrap());
        assert_eq!((m.agg, m.threshold), (Aggregation::Slope, 0.1));
    }

    #[test]
    fn untranslatable_reasons() {
        assert!(tr("a / b > 1").unwrap_err().contains("between two vectors"));
        assert!(tr("x > 1d").is_err() || tr("x offset 5m > 1").unwrap_err().contains("offset"));
        assert!(tr("rate(x[2d]) > 1").unwrap_err().contains("window limit"));
        assert!(tr("x > bool 1").unwrap_err().contains("bool"));
        assert!(tr("changes(x[5m]) > 1").unwrap_err().contains("changes"));
        assert!(matches!(tr("x").unwrap(), Condition::Not(_)));
        assert!(tr("x[5m]").unwrap_err().contains("range selector"));
    }

    #[test]
    fn yaml_writer_round_trips_through_the_loader() {
        let v =
            serde_json::json!({"kind": "X", "a": {"b": [1, "two words", {"c": "d: e", "f": []}]}, "s": "line\nbreak"});
        let mut out = String::new();
        yaml::document(&v, &mut out);
        let (docs, diags) = parse_yaml("t.yaml", &out, &Budget::default());
        assert!(diags.is_empty(), "{out}\n{diags:?}");
        let back: serde_json::Value = from_node("t.yaml", &docs[0], "").unwrap();
        assert_eq!(back, v, "{out}");
    }
}
