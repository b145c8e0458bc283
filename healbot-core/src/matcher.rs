//! The signature matcher: the library compiled into a flat program, and its
//! evaluation against the engine's state.
//!
//! Compiling resolves every name once: metric names, event reasons and alert
//! names are interned, label matchers are compiled (regexes anchored, as in
//! Prometheus), all log patterns of all signatures go into one
//! [`LogMatcher`], and condition trees become
//! arenas of nodes. Signatures are indexed by the metrics they read, so
//! ingest stores only series some signature reads.
//!
//! Metric predicates over several series on one node hold when any matching
//! series satisfies them; the value reported is the most extreme one in the
//! direction of the comparison (the largest for `>`/`>=`, the smallest for
//! `<`/`<=`).

use std::sync::Arc;

use crate::diagnosis::{EvidenceItem, PredicateInfo, Role};
use crate::library::Library;
use crate::logmatch::{LogMatcher, LogMatcherBuilder, PatternSpec};
use crate::spec::signature::{Category, Condition, EventTypeFilter, ExceptionOp, HealthState, Signature, Status};
use crate::spec::{Aggregation, Comparison, LabelMatcher, MatchOp, NodeKind};
use crate::telemetry::Labels;
use crate::topology::{NodeId, Topology};
use crate::window::hash::FixedMap;
use crate::{Duration, Error, ErrorKind};

/// A label matcher compiled for evaluation.
#[derive(Clone, Debug)]
pub struct CompiledMatcher {
    name: String,
    op: MatchOp,
    value: String,
    regex: Option<regex::Regex>,
}

impl CompiledMatcher {
    /// Compiles a matcher; regexes are anchored at both ends.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Library`] when the regex does not compile.
    pub fn new(m: &LabelMatcher) -> Result<CompiledMatcher, Error> {
        let regex = match m.op {
            MatchOp::Re | MatchOp::NotRe => Some(
                regex::RegexBuilder::new(&format!("^(?:{})$", m.value))
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| Error::new(ErrorKind::Library, format!("matcher `{m}`: {e}")))?,
            ),
            _ => None,
        };
        Ok(CompiledMatcher { name: m.name.clone(), op: m.op, value: m.value.clone(), regex })
    }

    /// Whether `value` (empty when the label is missing) satisfies the matcher.
    pub fn matches_value(&self, value: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Eq, _) => value == self.value,
            (MatchOp::Ne, _) => value != self.value,
            (MatchOp::Re, Some(r)) => r.is_match(value),
            (MatchOp::NotRe, Some(r)) => !r.is_match(value),
            _ => false,
        }
    }

    /// Whether a label set satisfies the matcher.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.matches_value(labels.get(&self.name).unwrap_or(""))
    }
}

#[inline]
fn all_match(ms: &[CompiledMatcher], labels: &Labels) -> bool {
    ms.iter().all(|m| m.matches(labels))
}

/// A compiled predicate.
#[derive(Clone, Debug)]
pub(crate) enum Pred {
    Metric {
        metric: u32,
        labels: Vec<CompiledMatcher>,
        agg: Aggregation,
        q: f64,
        window: Duration,
        op: Comparison,
        threshold: f64,
    },
    Log {
        slot: u32,
        window: Duration,
        op: Comparison,
        threshold: f64,
    },
    Event {
        reason: u32,
        event_type: Option<EventTypeFilter>,
        window: Duration,
        op: Comparison,
        threshold: f64,
    },
    Alert {
        name: String,
        labels: Vec<CompiledMatcher>,
    },
    Absent {
        metric: u32,
        labels: Vec<CompiledMatcher>,
        for_: Duration,
    },
    Dependency {
        kind: Option<NodeKind>,
        state: HealthState,
        transitive: bool,
    },
    Replicas {
        min_healthy: u32,
    },
    Forecast {
        metric: u32,
        labels: Vec<CompiledMatcher>,
        window: Duration,
        op: Comparison,
        threshold: f64,
        within: Duration,
    },
}

#[derive(Clone, Debug)]
enum Node {
    All(Vec<u32>),
    Any(Vec<u32>),
    Not(u32),
    AtLeast(u32, Vec<u32>),
    Leaf { pred: u32, about: Arc<PredicateInfo> },
}

/// A compiled exception.
#[derive(Clone, Debug)]
struct CompiledException {
    field: String,
    op: ExceptionOp,
    values: Vec<String>,
    reason: String,
}

/// One signature, compiled.
#[derive(Clone, Debug)]
pub(crate) struct SigProgram {
    pub(crate) index: usize,
    /// Predicates in `match` and `evidence`: the evidence items a match
    /// records (one more for an exception), so the list is sized once.
    pub(crate) leaves: usize,
    root: u32,
    evidence: Vec<(u32, f64)>,
    kinds: Vec<NodeKind>,
    node_labels: Vec<CompiledMatcher>,
    exceptions: Vec<CompiledException>,
    pub(crate) for_ms: i64,
    pub(crate) category: Category,
    pub(crate) status: Status,
    pub(crate) prior: f64,
    /// Whether `match` reads node health (so it is evaluated after health is known).
    pub(crate) reads_health: bool,
    pub(crate) forecast: bool,
    /// Metric ids the signature reads, for the coverage term.
    pub(crate) reads: Vec<u32>,
    /// A log slot whose count must be above zero for `match` to hold (a
    /// log predicate that fails on a count of 0, alone or in a top-level
    /// `all`): on a node with no counter for it the match cannot hold,
    /// and `diagnose` skips the node without evaluating anything.
    pub(crate) log_gate: Option<u32>,
    /// `applies_to` rendered: signatures with equal keys apply to the same nodes.
    applies_key: String,
}

/// The library compiled for evaluation. Immutable and shareable.
#[derive(Debug)]
pub struct Program {
    pub(crate) sigs: Vec<SigProgram>,
    nodes: Vec<Node>,
    preds: Vec<Pred>,
    pub(crate) metrics: FixedMap<String, u32>,
    /// [`name_key`] of each interned metric: how the engine's state keys them.
    pub(crate) metric_keys: Vec<u64>,
    pub(crate) reasons: FixedMap<String, u32>,
    /// [`name_key`] of each interned event reason.
    pub(crate) reason_keys: Vec<u64>,
    pub(crate) log: LogMatcher,
    /// One key per log slot (pattern id), identifying the pattern across
    /// reloads so counters of unchanged patterns are kept.
    pub(crate) log_keys: Vec<String>,
    /// The longest window any predicate reads: the retention of the windows.
    pub(crate) retention: Duration,
}

struct Builder<'a> {
    lists: &'a std::collections::BTreeMap<String, Vec<String>>,
    nodes: Vec<Node>,
    preds: Vec<Pred>,
    metrics: FixedMap<String, u32>,
    metric_names: Vec<String>,
    reasons: FixedMap<String, u32>,
    log: LogMatcherBuilder,
    log_keys: Vec<String>,
    retention: Duration,
    reads: Vec<u32>,
    reads_health: bool,
    forecast: bool,
}

fn render_matchers(ms: &[LabelMatcher]) -> String {
    if ms.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", ms.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
    }
}

fn matchers(ms: &[LabelMatcher]) -> Result<Vec<CompiledMatcher>, Error> {
    ms.iter().map(CompiledMatcher::new).collect()
}

impl Builder<'_> {
    /// See [`SigProgram::log_gate`]: the first log predicate that fails
    /// on a count of 0, at the root or among a root `all`'s children.
    fn log_gate(&self, root: u32) -> Option<u32> {
        let gate = |node: u32| match self.nodes.get(node as usize) {
            Some(Node::Leaf { pred, .. }) => match self.preds.get(*pred as usize) {
                Some(Pred::Log { slot, op, threshold, .. }) if !op.holds(0.0, *threshold) => Some(*slot),
                _ => None,
            },
            _ => None,
        };
        match self.nodes.get(root as usize) {
            Some(Node::All(kids)) => kids.iter().find_map(|k| gate(*k)),
            _ => gate(root),
        }
    }

    fn metric(&mut self, name: &str) -> u32 {
        let next = self.metric_names.len() as u32;
        let id = *self.metrics.entry(name.to_string()).or_insert(next);
        if id == next {
            self.metric_names.push(name.to_string());
        }
        if !self.reads.contains(&id) {
            self.reads.push(id);
        }
        id
    }

    fn window(&mut self, w: Duration) -> Duration {
        self.retention = self.retention.max(w);
        w
    }

    fn leaf(&mut self, pred: Pred, path: String, id: Option<String>, predicate: String) -> u32 {
        // What the evidence item of this leaf says besides its observation.
        let (op, threshold, window) = match &pred {
            Pred::Metric { op, threshold, window, .. }
            | Pred::Log { op, threshold, window, .. }
            | Pred::Event { op, threshold, window, .. }
            | Pred::Forecast { op, threshold, window, .. } => (Some(*op), Some(*threshold), Some(*window)),
            Pred::Absent { for_, .. } => (None, None, Some(*for_)),
            Pred::Replicas { min_healthy } => (Some(Comparison::Ge), Some(f64::from(*min_healthy)), None),
            _ => (None, None, None),
        };
        self.preds.push(pred);
        let about = Arc::new(PredicateInfo { path, id, predicate, op, threshold, window });
        self.push(Node::Leaf { pred: self.preds.len() as u32 - 1, about })
    }

    fn push(&mut self, n: Node) -> u32 {
        self.nodes.push(n);
        self.nodes.len() as u32 - 1
    }

    fn compile(&mut self, c: &Condition, path: &str) -> Result<u32, Error> {
        Ok(match c {
            Condition::All(v) | Condition::Any(v) => {
                let word = if matches!(c, Condition::All(_)) { "all" } else { "any" };
                let kids = v
                    .iter()
                    .enumerate()
                    .map(|(i, c)| self.compile(c, &format!("{path}.{word}[{i}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                self.push(if word == "all" { Node::All(kids) } else { Node::Any(kids) })
            }
            Condition::Not(inner) => {
                let k = self.compile(inner, &format!("{path}.not"))?;
                self.push(Node::Not(k))
            }
            Condition::AtLeast(a) => {
                let kids =
                    a.of.iter()
                        .enumerate()
                        .map(|(i, c)| self.compile(c, &format!("{path}.at_least.of[{i}]")))
                        .collect::<Result<Vec<_>, _>>()?;
                self.push(Node::AtLeast(a.n, kids))
            }
            Condition::Metric(m) => {
                let metric = self.metric(&m.name);
                let window = self.window(m.window);
                let agg =
                    serde_json::to_value(m.agg).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                let q = m.q.map(|q| format!("{q}, ")).unwrap_or_default();
                let text = format!(
                    "{agg}({q}{}{}[{}]) {} {}",
                    m.name,
                    render_matchers(&m.labels),
                    m.window,
                    m.op,
                    m.threshold
                );
                let pred = Pred::Metric {
                    metric,
                    labels: matchers(&m.labels)?,
                    agg: m.agg,
                    q: m.q.unwrap_or(0.5),
                    window,
                    op: m.op,
                    threshold: m.threshold,
                };
                self.leaf(pred, format!("{path}.metric"), m.id.clone(), text)
            }
            Condition::Log(l) => {
                let spec = if let Some(r) = &l.regex {
                    PatternSpec::regex(r.clone())
                } else if !l.contains.is_empty() {
                    PatternSpec::contains(l.contains.iter().cloned())
                } else if let Some(s) = &l.startswith {
                    PatternSpec::starts_with(s.clone())
                } else if let Some(s) = &l.endswith {
                    PatternSpec::ends_with(s.clone())
                } else {
                    let words: Vec<String> = match &l.in_list {
                        Some(name) => self.lists.get(name).cloned().unwrap_or_default(),
                        None => l.contains_any.clone(),
                    };
                    let alternation = words.iter().map(|w| regex::escape(w)).collect::<Vec<_>>().join("|");
                    PatternSpec::regex(alternation)
                };
                let describe = if let Some(r) = &l.regex {
                    format!("/{r}/")
                } else if !l.contains.is_empty() {
                    format!("contains all {:?}", l.contains)
                } else if let Some(s) = &l.startswith {
                    format!("startswith {s:?}")
                } else if let Some(s) = &l.endswith {
                    format!("endswith {s:?}")
                } else if let Some(list) = &l.in_list {
                    format!("contains any of list `{list}`")
                } else {
                    format!("contains any {:?}", l.contains_any)
                };
                // The key names the pattern only: a changed window or
                // threshold keeps the counts.
                let words = l.in_list.as_ref().and_then(|n| self.lists.get(n));
                let key = serde_json::to_string(&(
                    &l.regex,
                    &l.contains,
                    &l.contains_any,
                    &l.startswith,
                    &l.endswith,
                    words,
                    l.case_insensitive,
                ))
                .unwrap_or_default();
                let pid = self.log.add(spec.case_insensitive(l.case_insensitive));
                self.log_keys.push(key);
                let window = self.window(l.window);
                let text = format!("count(log {describe}[{}]) {} {}", l.window, l.op, l.threshold);
                let pred = Pred::Log { slot: pid.as_u32(), window, op: l.op, threshold: l.threshold };
                self.leaf(pred, format!("{path}.log"), l.id.clone(), text)
            }
            Condition::Event(e) => {
                let next = self.reasons.len() as u32;
                let reason = *self.reasons.entry(e.reason.clone()).or_insert(next);
                let window = self.window(e.window);
                let ty = e.event_type.map(|t| format!(" type={t:?}")).unwrap_or_default();
                let text = format!("count(event reason={}{ty}[{}]) {} {}", e.reason, e.window, e.op, e.threshold);
                let pred = Pred::Event { reason, event_type: e.event_type, window, op: e.op, threshold: e.threshold };
                self.leaf(pred, format!("{path}.event"), e.id.clone(), text)
            }
            Condition::Alert(a) => {
                let text = format!("alert {}{} firing", a.name, render_matchers(&a.labels));
                let pred = Pred::Alert { name: a.name.clone(), labels: matchers(&a.labels)? };
                self.leaf(pred, format!("{path}.alert"), a.id.clone(), text)
            }
            Condition::Absent(a) => {
                let metric = self.metric(&a.metric);
                let for_ = self.window(a.for_);
                let text = format!("absent({}{}) for {}", a.metric, render_matchers(&a.labels), a.for_);
                let pred = Pred::Absent { metric, labels: matchers(&a.labels)?, for_ };
                self.leaf(pred, format!("{path}.absent"), a.id.clone(), text)
            }
            Condition::Dependency(d) => {
                self.reads_health = true;
                let kind = d.kind.map_or("any", NodeKind::as_str);
                let state = if d.state == HealthState::Healthy { "healthy" } else { "unhealthy" };
                let scope = if d.transitive { "transitive " } else { "" };
                let text = format!("{scope}dependency of kind {kind} is {state}");
                let pred = Pred::Dependency { kind: d.kind, state: d.state, transitive: d.transitive };
                self.leaf(pred, format!("{path}.dependency"), d.id.clone(), text)
            }
            Condition::Replicas(r) => {
                self.reads_health = true;
                let text = format!("healthy replicas >= {}", r.min_healthy);
                self.leaf(Pred::Replicas { min_healthy: r.min_healthy }, format!("{path}.replicas"), r.id.clone(), text)
            }
            Condition::Forecast(f) => {
                self.forecast = true;
                let metric = self.metric(&f.metric);
                let window = self.window(f.window);
                let text = format!(
                    "forecast({}{}[{}]) {} {} within {}",
                    f.metric,
                    render_matchers(&f.labels),
                    f.window,
                    f.op,
                    f.threshold,
                    f.within
                );
                let pred = Pred::Forecast {
                    metric,
                    labels: matchers(&f.labels)?,
                    window,
                    op: f.op,
                    threshold: f.threshold,
                    within: f.within,
                };
                self.leaf(pred, format!("{path}.forecast"), f.id.clone(), text)
            }
            // Macros are inlined by the loader; a leftover one is a loader bug
            // surfaced as an error rather than a panic.
            Condition::Macro(name) => {
                return Err(Error::new(ErrorKind::Library, format!("macro `{name}` was not expanded")));
            }
        })
    }
}

impl Program {
    /// Compiles a library for evaluation.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Library`] when a pattern fails to compile (the loader has
    /// already validated them, so this means a size limit was hit).
    pub fn compile(library: &Library) -> Result<Program, Error> {
        let mut b = Builder {
            lists: library.lists(),
            nodes: Vec::new(),
            preds: Vec::new(),
            metrics: FixedMap::default(),
            metric_names: Vec::new(),
            reasons: FixedMap::default(),
            log: LogMatcherBuilder::new(),
            log_keys: Vec::new(),
            retention: Duration::from_secs(60),
            reads: Vec::new(),
            reads_health: false,
            forecast: false,
        };
        let mut sigs = Vec::new();
        for (index, s) in library.signatures().iter().enumerate() {
            b.reads.clear();
            b.reads_health = false;
            b.forecast = false;
            let first_pred = b.preds.len();
            let root = b.compile(&s.match_, "match")?;
            let log_gate = b.log_gate(root);
            let reads_health = b.reads_health;
            let forecast = b.forecast;
            let evidence = s
                .evidence
                .iter()
                .enumerate()
                .map(|(i, e)| Ok((b.compile(&e.when, &format!("evidence[{i}]"))?, e.weight)))
                .collect::<Result<Vec<_>, Error>>()?;
            sigs.push(SigProgram {
                index,
                leaves: b.preds.len() - first_pred,
                root,
                evidence,
                kinds: s.applies_to.kinds.clone(),
                node_labels: matchers(&s.applies_to.labels)?,
                exceptions: compile_exceptions(s, library),
                for_ms: s.for_.as_millis_i64(),
                category: s.category,
                status: s.status,
                prior: s.prior.unwrap_or(0.5),
                reads_health,
                forecast,
                reads: b.reads.clone(),
                log_gate,
                applies_key: format!("{:?}{}", s.applies_to.kinds, render_matchers(&s.applies_to.labels)),
            });
        }
        let log = b
            .log
            .build()
            .map_err(|e| Error::new(ErrorKind::Library, format!("log pattern {}: {}", e.index(), e.message())))?;
        let metric_keys = b.metric_names.iter().map(|m| name_key(m)).collect();
        let mut reason_keys = vec![0; b.reasons.len()];
        for (name, id) in &b.reasons {
            if let Some(slot) = reason_keys.get_mut(*id as usize) {
                *slot = name_key(name);
            }
        }
        Ok(Program {
            sigs,
            nodes: b.nodes,
            preds: b.preds,
            metrics: b.metrics,
            metric_keys,
            reasons: b.reasons,
            reason_keys,
            log,
            log_keys: b.log_keys,
            retention: b.retention,
        })
    }

    /// The nodes of `topo` each signature is evaluated on, by signature
    /// index. Computed once per (program, topology) so `diagnose` never tests
    /// `applies_to` again; signatures with the same `applies_to` share one list.
    pub(crate) fn applicable(&self, topo: &Topology) -> Vec<Arc<[NodeId]>> {
        let mut by_key: FixedMap<&str, Arc<[NodeId]>> = FixedMap::default();
        self.sigs
            .iter()
            .map(|s| {
                Arc::clone(
                    by_key
                        .entry(s.applies_key.as_str())
                        .or_insert_with(|| topo.node_ids().filter(|n| self.applies(s, topo, *n)).collect()),
                )
            })
            .collect()
    }

    /// Whether signature `s` is evaluated on node `n` (kind, labels).
    fn applies(&self, s: &SigProgram, topo: &Topology, n: NodeId) -> bool {
        let info = topo.node(n);
        if !s.kinds.is_empty() && !s.kinds.contains(&info.kind()) {
            return false;
        }
        s.node_labels.iter().all(|m| {
            let v = match m.name.as_str() {
                "id" => Some(info.id()),
                "kind" => Some(info.kind().as_str()),
                key => info.labels().get(key).map(String::as_str),
            };
            m.matches_value(v.unwrap_or(""))
        })
    }

    /// The exception that suppresses signature `s` on node `n`, if any: its
    /// evidence item.
    pub(crate) fn exception(&self, s: &SigProgram, topo: &Topology, n: NodeId) -> Option<EvidenceItem> {
        let info = topo.node(n);
        for (i, x) in s.exceptions.iter().enumerate() {
            let tier = if x.field == "node.tier" { info.tier().to_string() } else { String::new() };
            let value = match x.field.as_str() {
                "node.id" => Some(info.id()),
                "node.kind" => Some(info.kind().as_str()),
                "node.tier" => Some(tier.as_str()),
                f => f.strip_prefix("node.label.").and_then(|k| info.labels().get(k)).map(String::as_str),
            };
            let Some(value) = value else { continue };
            let hit = x.values.iter().any(|v| match x.op {
                ExceptionOp::In => value == v,
                ExceptionOp::Prefix => value.starts_with(v.as_str()),
                ExceptionOp::Suffix => value.ends_with(v.as_str()),
                ExceptionOp::Contains => value.contains(v.as_str()),
            });
            if hit {
                return Some(EvidenceItem {
                    about: Arc::new(PredicateInfo {
                        path: format!("exceptions[{i}]"),
                        id: None,
                        predicate: format!("{} {:?} {:?}", x.field, x.op, x.values),
                        op: None,
                        threshold: None,
                        window: None,
                    }),
                    observed: None,
                    satisfied: true,
                    role: Role::Exception,
                    note: (!x.reason.is_empty()).then(|| x.reason.clone()),
                });
            }
        }
        None
    }

    /// Whether `match` of `s` holds on `n`. Stops as soon as the answer is
    /// known and formats nothing: this is the pass every (signature, node)
    /// pair pays, and almost all of them do not match. The leaves it
    /// evaluates are noted in `seen` (plain numbers, no allocation once the
    /// buffer has grown) so [`Program::eval_match`] need not evaluate them again.
    pub(crate) fn holds(&self, s: &SigProgram, n: NodeId, facts: &dyn Facts, seen: &mut Vec<Seen>) -> bool {
        seen.clear();
        self.holds_node(s.root, n, facts, seen)
    }

    fn holds_node(&self, node: u32, n: NodeId, facts: &dyn Facts, seen: &mut Vec<Seen>) -> bool {
        match &self.nodes[node as usize] {
            Node::All(kids) => kids.iter().all(|k| self.holds_node(*k, n, facts, seen)),
            Node::Any(kids) => kids.iter().any(|k| self.holds_node(*k, n, facts, seen)),
            Node::Not(k) => !self.holds_node(*k, n, facts, seen),
            Node::AtLeast(need, kids) => {
                let need = *need as usize;
                let mut held = 0;
                for (i, k) in kids.iter().enumerate() {
                    held += usize::from(self.holds_node(*k, n, facts, seen));
                    if held >= need {
                        return true;
                    }
                    if held + (kids.len() - i - 1) < need {
                        return false;
                    }
                }
                held >= need
            }
            Node::Leaf { pred, .. } => {
                let (satisfied, observed, note) = self.eval_pred(*pred, n, facts);
                seen.push(Seen { node, satisfied, observed, note });
                satisfied
            }
        }
    }

    /// Evaluates `match` of `s` on `n`, recording every predicate; evidence
    /// items are appended to `out`. Leaves the quiet pass already evaluated
    /// (`seen`, from [`Program::holds`] on the same state) are reused: both
    /// passes walk the tree in the same order, the quiet one a subsequence.
    pub(crate) fn eval_match(
        &self,
        s: &SigProgram,
        n: NodeId,
        facts: &dyn Facts,
        seen: &[Seen],
        out: &mut Vec<EvidenceItem>,
    ) -> bool {
        let mut seen = seen.iter().peekable();
        self.eval(s.root, n, facts, Role::Required, &mut seen, out)
    }

    /// Evaluates the evidence of `s` on `n`; returns the sum of the weights
    /// of evidence that held.
    pub(crate) fn eval_evidence(
        &self,
        s: &SigProgram,
        n: NodeId,
        facts: &dyn Facts,
        out: &mut Vec<EvidenceItem>,
    ) -> f64 {
        let mut total = 0.0;
        for (root, weight) in &s.evidence {
            let start = out.len();
            let held = self.eval(*root, n, facts, Role::Evidence(*weight), &mut [].iter().peekable(), out);
            // A compound evidence item is reported by its leaves; mark whether
            // the item as a whole held on the first one.
            let compound = out.len() - start > 1;
            if let Some(first) = out.get_mut(start) {
                if compound {
                    first.note =
                        Some(if held { "evidence item held".into() } else { "evidence item did not hold".into() });
                }
            }
            if held {
                total += weight;
            }
        }
        total
    }

    fn eval(
        &self,
        node: u32,
        n: NodeId,
        facts: &dyn Facts,
        role: Role,
        seen: &mut Known<'_>,
        out: &mut Vec<EvidenceItem>,
    ) -> bool {
        match &self.nodes[node as usize] {
            // Every child is evaluated (no short circuit) so that the
            // evidence lists every predicate with its observed value.
            Node::All(kids) => {
                let mut all = true;
                for k in kids {
                    all &= self.eval(*k, n, facts, role, seen, out);
                }
                all
            }
            Node::Any(kids) => {
                let mut any = false;
                for k in kids {
                    any |= self.eval(*k, n, facts, role, seen, out);
                }
                any
            }
            Node::Not(k) => !self.eval(*k, n, facts, role, seen, out),
            Node::AtLeast(need, kids) => {
                let held = kids.iter().filter(|k| self.eval(**k, n, facts, role, seen, out)).count();
                held >= *need as usize
            }
            Node::Leaf { pred, about } => {
                let (satisfied, observed, note) = match seen.next_if(|k| k.node == node) {
                    Some(k) => (k.satisfied, k.observed, k.note),
                    None => self.eval_pred(*pred, n, facts),
                };
                out.push(EvidenceItem { about: Arc::clone(about), observed, satisfied, role, note: note.render() });
                satisfied
            }
        }
    }

    /// Evaluates predicate `pred` (an index into `preds`) on `n`.
    fn eval_pred(&self, pred: u32, n: NodeId, facts: &dyn Facts) -> (bool, Option<f64>, Note) {
        let Some(p) = self.preds.get(pred as usize) else { return (false, None, Note::NoData) };
        match p {
            Pred::Metric { metric, labels, agg, q, window, op, threshold } => {
                match facts.metric(pred, n, *metric, labels, *agg, *q, *window, *op) {
                    Some(v) => (op.holds(v, *threshold), Some(v), Note::None),
                    None => (false, None, Note::NoData),
                }
            }
            Pred::Log { slot, window, op, threshold } => {
                let c = facts.log_count(n, *slot, *window) as f64;
                (op.holds(c, *threshold), Some(c), Note::None)
            }
            Pred::Event { reason, event_type, window, op, threshold } => {
                let c = facts.event_count(n, *reason, *event_type, *window) as f64;
                (op.holds(c, *threshold), Some(c), Note::None)
            }
            Pred::Alert { name, labels } => {
                let firing = facts.alert_firing(n, name, labels);
                (firing, Some(if firing { 1.0 } else { 0.0 }), Note::None)
            }
            Pred::Absent { metric, labels, for_ } => match facts.last_seen(n, *metric, labels) {
                Some(age) => {
                    let held = age >= for_.as_millis_i64();
                    (held, Some(age as f64 / 1000.0), Note::LastSample(age))
                }
                None => (true, None, Note::NeverSeen),
            },
            Pred::Dependency { kind, state, transitive } => {
                let (total, unhealthy) = facts.dependencies(n, *kind, *transitive);
                let held = match state {
                    HealthState::Unhealthy => unhealthy > 0,
                    HealthState::Healthy => total > 0 && unhealthy == 0,
                };
                (held, Some(unhealthy as f64), Note::Unhealthy { unhealthy, total })
            }
            Pred::Replicas { min_healthy } => {
                let h = facts.healthy_replicas(n);
                (h >= *min_healthy, Some(f64::from(h)), Note::None)
            }
            Pred::Forecast { metric, labels, window, op, threshold, within } => {
                match facts.forecast(n, *metric, labels, *window, *threshold, *op) {
                    Some(secs) => {
                        let held = secs <= within.as_secs_f64();
                        (held, Some(secs), Note::Crosses(secs))
                    }
                    None => (false, None, Note::NoCrossing),
                }
            }
        }
    }
}

/// A leaf the quiet pass evaluated: its node in the condition arena and
/// what it found.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seen {
    node: u32,
    satisfied: bool,
    observed: Option<f64>,
    note: Note,
}

/// The quiet pass's leaves, consumed in order by the recording pass.
type Known<'a> = std::iter::Peekable<std::slice::Iter<'a, Seen>>;

/// A predicate's remark, kept as numbers and rendered only when evidence is
/// recorded (the quiet pass never formats anything).
#[derive(Clone, Copy, Debug)]
enum Note {
    None,
    NoData,
    /// Milliseconds since the last sample.
    LastSample(i64),
    NeverSeen,
    Unhealthy {
        unhealthy: usize,
        total: usize,
    },
    /// Seconds until the forecast crossing.
    Crosses(f64),
    NoCrossing,
}

impl Note {
    fn render(&self) -> Option<String> {
        Some(match self {
            Note::None => return None,
            Note::NoData => "no data in window".into(),
            Note::LastSample(age) => format!("last sample {}s ago", age / 1000),
            Note::NeverSeen => "never seen".into(),
            Note::Unhealthy { unhealthy, total } => {
                // Written by hand: a cascade renders this on every dependent.
                let mut buf = [0u8; 20];
                let mut s = String::with_capacity(24);
                s.extend(crate::decision::decimal(*unhealthy as i64, &mut buf).iter().map(|&b| char::from(b)));
                s.push_str(" of ");
                s.extend(crate::decision::decimal(*total as i64, &mut buf).iter().map(|&b| char::from(b)));
                s.push_str(" unhealthy");
                s
            }
            Note::Crosses(secs) => format!("crosses in {secs:.0}s"),
            Note::NoCrossing => "no crossing predicted".into(),
        })
    }
}

/// The key the engine's state files a metric name or event reason under:
/// stable across library reloads (unlike interned ids), and a plain integer
/// so evaluation looks series up without building a `String`.
pub(crate) fn name_key(name: &str) -> u64 {
    crate::library::fnv1a64(name.as_bytes())
}

fn compile_exceptions(s: &Signature, library: &Library) -> Vec<CompiledException> {
    s.exceptions
        .iter()
        .map(|x| {
            let mut values = x.values.clone();
            if let Some(list) = x.list.as_ref().and_then(|l| library.lists().get(l)) {
                values.extend(list.iter().cloned());
            }
            CompiledException { field: x.field.clone(), op: x.op, values, reason: x.reason.clone() }
        })
        .collect()
}

/// What the matcher reads from the engine's state at one evaluation time.
pub(crate) trait Facts {
    /// The aggregate over matching series, most extreme in the direction of
    /// `op`, for predicate `pred` (its index in the program: what a value
    /// kept between evaluations is filed by).
    #[allow(clippy::too_many_arguments)]
    fn metric(
        &self,
        pred: u32,
        n: NodeId,
        metric: u32,
        labels: &[CompiledMatcher],
        agg: Aggregation,
        q: f64,
        window: Duration,
        op: Comparison,
    ) -> Option<f64>;
    /// Matching log lines in the window.
    fn log_count(&self, n: NodeId, slot: u32, window: Duration) -> u64;
    /// Matching events (with their counts) in the window.
    fn event_count(&self, n: NodeId, reason: u32, event_type: Option<EventTypeFilter>, window: Duration) -> u64;
    /// Whether a matching alert is firing on the node.
    fn alert_firing(&self, n: NodeId, name: &str, labels: &[CompiledMatcher]) -> bool;
    /// Milliseconds since the newest sample of any matching series; `None` if never seen.
    fn last_seen(&self, n: NodeId, metric: u32, labels: &[CompiledMatcher]) -> Option<i64>;
    /// (dependencies of the kind, how many are unhealthy).
    fn dependencies(&self, n: NodeId, kind: Option<NodeKind>, transitive: bool) -> (usize, usize);
    /// Healthy replicas of the node.
    fn healthy_replicas(&self, n: NodeId) -> u32;
    /// Seconds until a matching series is forecast to cross the threshold.
    fn forecast(
        &self,
        n: NodeId,
        metric: u32,
        labels: &[CompiledMatcher],
        window: Duration,
        threshold: f64,
        op: Comparison,
    ) -> Option<f64>;
}

/// Whether a series is labelled as the matchers ask.
#[inline]
pub(crate) fn series_matches(labels: &[CompiledMatcher], series: &Labels) -> bool {
    all_match(labels, series)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn notes_render_as_documented() {
        let cases = [
            (Note::None, None),
            (Note::NoData, Some("no data in window")),
            (Note::LastSample(125_999), Some("last sample 125s ago")),
            (Note::Unhealthy { unhealthy: 0, total: 3 }, Some("0 of 3 unhealthy")),
            (Note::Unhealthy { unhealthy: 12, total: 1_024 }, Some("12 of 1024 unhealthy")),
            (Note::Crosses(59.6), Some("crosses in 60s")),
        ];
        for (note, want) in cases {
            assert_eq!(note.render().as_deref(), want, "{note:?}");
        }
    }

    /// Facts where metric `m{i}` has value `values[i]` (or no data when NaN).
    struct Table(Vec<f64>);

    impl Facts for Table {
        fn metric(
            &self,
            _: u32,
            _: NodeId,
            metric: u32,
            _: &[CompiledMatcher],
            _: Aggregation,
            _: f64,
            _: Duration,
            _: Comparison,
        ) -> Option<f64> {
            self.0.get(metric as usize).copied().filter(|v| !v.is_nan())
        }
        fn log_count(&self, _: NodeId, _: u32, _: Duration) -> u64 {
            0
        }
        fn event_count(&self, _: NodeId, _: u32, _: Option<EventTypeFilter>, _: Duration) -> u64 {
            0
        }
        fn alert_firing(&self, _: NodeId, _: &str, _: &[CompiledMatcher]) -> bool {
            false
        }
        fn last_seen(&self, _: NodeId, _: u32, _: &[CompiledMatcher]) -> Option<i64> {
            None
        }
        fn dependencies(&self, _: NodeId, _: Option<NodeKind>, _: bool) -> (usize, usize) {
            (0, 0)
        }
        fn healthy_replicas(&self, _: NodeId) -> u32 {
            0
        }
        fn forecast(
            &self,
            _: NodeId,
            _: u32,
            _: &[CompiledMatcher],
            _: Duration,
            _: f64,
            _: Comparison,
        ) -> Option<f64> {
            None
        }
    }

    /// Facts where metric `m{i}` of `program` has value `values[i]`
    /// (interned ids follow first use).
    fn table(program: &Program, values: &[f64]) -> Table {
        let mut by_id = vec![f64::NAN; program.metric_keys.len()];
        for (name, id) in &program.metrics {
            by_id[*id as usize] = values[name[1..].parse::<usize>().unwrap()];
        }
        Table(by_id)
    }

    /// A topology of one service, and its node.
    fn one_node() -> (Topology, NodeId) {
        let topo = Topology::from_text(
            "t.yaml",
            "apiVersion: healbot.dev/v1\nkind: Topology\nmetadata: {name: t}\nspec: {nodes: [{id: a, kind: service}]}\n",
        )
        .unwrap();
        let n = topo.node_ids().next().unwrap();
        (topo, n)
    }

    /// A library of one signature whose `match` is `c` (YAML flow text).
    fn one_signature(c: &str) -> Program {
        let text = format!(
            "apiVersion: healbot.dev/v1\nkind: SignatureLibrary\nmetadata: {{name: p}}\nspec:\n  signatures:\n    - id: s\n      title: s\n      category: errors\n      severity: warning\n      match: {c}\n"
        );
        Program::compile(&Library::from_text("p.yaml", &text).expect("signature loads")).unwrap()
    }

    #[test]
    fn a_log_gate_only_where_a_count_of_zero_fails_the_match() {
        let log =
            |op: &str, t: u32| format!("{{log: {{contains_any: [boom], window: 5m, op: '{op}', threshold: {t}}}}}");
        let metric = "{metric: {name: m0, agg: last, window: 1m, op: '>', threshold: 0}}";
        let cases = [
            (log(">=", 1), true),
            (log(">", 0), true),
            (log(">=", 0), false),
            (log("<", 1), false),
            (log("==", 0), false),
            (format!("{{all: [{metric}, {}]}}", log(">=", 3)), true),
            (format!("{{any: [{metric}, {}]}}", log(">=", 3)), false),
            (format!("{{not: {}}}", log(">=", 1)), false),
            (format!("{{at_least: {{n: 2, of: [{metric}, {}]}}}}", log(">=", 1)), false),
        ];
        for (c, gated) in cases {
            assert_eq!(one_signature(&c).sigs[0].log_gate.is_some(), gated, "{c}");
        }
    }

    /// A random condition tree over metrics m0..m2 and log counts, as YAML flow text.
    fn condition_with_logs() -> impl Strategy<Value = String> {
        let metric = (0u32..3, 0u32..10)
            .prop_map(|(m, t)| format!("{{metric: {{name: m{m}, agg: last, window: 1m, op: '>', threshold: {t}}}}}"));
        let log = (prop::sample::select(vec![">", ">=", "<", "<=", "==", "!="]), 0u32..3)
            .prop_map(|(op, t)| format!("{{log: {{contains_any: [boom], window: 5m, op: '{op}', threshold: {t}}}}}"));
        prop_oneof![metric, log].prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 1..4).prop_map(|v| format!("{{all: [{}]}}", v.join(", "))),
                proptest::collection::vec(inner.clone(), 1..4).prop_map(|v| format!("{{any: [{}]}}", v.join(", "))),
                inner.prop_map(|c| format!("{{not: {c}}}")),
            ]
        })
    }

    /// A random condition tree over metrics m0..m5, as YAML flow text.
    fn condition() -> impl Strategy<Value = String> {
        let leaf = (0u32..6, 0u32..10)
            .prop_map(|(m, t)| format!("{{metric: {{name: m{m}, agg: last, window: 1m, op: '>', threshold: {t}}}}}"));
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 1..4).prop_map(|v| format!("{{all: [{}]}}", v.join(", "))),
                proptest::collection::vec(inner.clone(), 1..4).prop_map(|v| format!("{{any: [{}]}}", v.join(", "))),
                inner.clone().prop_map(|c| format!("{{not: {c}}}")),
                (proptest::collection::vec(inner, 1..5), 1u32..4).prop_map(|(v, n)| {
                    let n = n.min(v.len() as u32);
                    format!("{{at_least: {{n: {n}, of: [{}]}}}}", v.join(", "))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// A gated match never holds on a node without log lines, whatever
        /// its metrics say: skipping such nodes changes no result.
        #[test]
        fn a_gated_match_never_holds_without_log_lines(
            c in condition_with_logs(),
            values in proptest::collection::vec(prop_oneof![Just(f64::NAN), 0.0f64..10.0], 3),
        ) {
            let program = one_signature(&c);
            let s = &program.sigs[0];
            let (_topo, n) = one_node();
            // `Table` counts no log line anywhere.
            if s.log_gate.is_some() {
                prop_assert!(!program.holds(s, n, &table(&program, &values), &mut Vec::new()), "{}", c);
            }
        }

        /// The quiet, short-circuiting pass answers exactly as the recording one.
        #[test]
        fn quiet_pass_agrees_with_the_recording_pass(
            c in condition(),
            values in proptest::collection::vec(prop_oneof![Just(f64::NAN), 0.0f64..10.0], 6),
        ) {
            let program = one_signature(&c);
            let s = &program.sigs[0];
            let facts = table(&program, &values);
            let (_topo, n) = one_node();
            let mut out = Vec::new();
            let recorded = program.eval_match(s, n, &facts, &[], &mut out);
            let mut seen = Vec::new();
            prop_assert_eq!(program.holds(s, n, &facts, &mut seen), recorded);
            // Reusing the quiet pass's leaves gives the same evidence.
            let mut reused = Vec::new();
            prop_assert_eq!(program.eval_match(s, n, &facts, &seen, &mut reused), recorded);
            prop_assert_eq!(&reused, &out);
            // The recording pass lists every leaf.
            prop_assert_eq!(out.len(), c.matches("metric:").count());
        }
    }
}
