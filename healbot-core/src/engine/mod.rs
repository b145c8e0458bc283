//! The engine: per-shard state over a shared compiled library.
//!
//! An [`Engine`] holds the windows, alert sets, log and event counters, the
//! ledger and the posteriors of one topology shard. The compiled
//! [`Library`] and its [`Program`] are immutable and shared by every engine.
//! Time is always passed in (`at`, Unix milliseconds); the engine never
//! reads a clock.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use by_node::ByNode;

use crate::diagnosis::{Diagnosis, EvidenceItem};
use crate::library::Library;
use crate::logmatch::{PatternId, Scratch as LogScratch};
use crate::matcher::{name_key, Program};
use crate::radix;

mod by_node;
mod decide;
mod facts;
mod memo;
mod series_index;
mod snapshot;

pub use snapshot::{snapshot_checksum, SNAPSHOT_FORMAT_VERSION};

use crate::guard::ActionGuards;
use crate::ledger::Ledger;
use crate::spec::signature::Status;
use crate::telemetry::{
    self, Alert, AlertStatus, Event, EventType, Labels, LogRecord, LogSeverity, NdjsonRecord, Observation,
    PayloadFormat,
};
use crate::topology::{NodeId, Topology, Traversal};
use crate::window::{label_set_hash_iter, BucketCounter, SeriesId, SeriesKey, SeriesStore, WindowConfig};
use crate::{Duration, Error, ErrorKind};
use facts::{Health, StateFacts};
use memo::Recall;
use series_index::SeriesIndex;

/// Engine settings, with safe defaults.
///
/// # Example
///
/// ```
/// use healbot_core::engine::EngineConfig;
/// let config = EngineConfig { max_series: 10_000, ..EngineConfig::default() };
/// assert_eq!(config.max_series, 10_000);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Live series per engine.
    pub max_series: usize,
    /// Samples kept per series.
    pub max_samples_per_series: usize,
    /// How late a sample may arrive and still be inserted in order.
    pub out_of_order_tolerance: Duration,
    /// Firing alerts kept per node.
    pub max_alerts_per_node: usize,
    /// Payload and record limits for the native formats.
    pub max_payload_bytes: usize,
    /// Label pairs per observation.
    pub max_label_pairs: usize,
    /// Bytes per label value.
    pub max_label_value_len: usize,
    /// Bytes per log line.
    pub max_log_line_len: usize,
    /// Width of the buckets log and event matches are counted in.
    pub log_bucket: Duration,
    /// A series with no sample for this long counts as stale for coverage.
    pub staleness: Duration,
    /// How much later a dependency's onset may be and still explain a
    /// dependent's failure (clock skew, scrape intervals).
    pub onset_tolerance: Duration,
    /// How long executions stay in the ledger at least, for outcomes that
    /// arrive late (longer if a guard reads further back). Evaluations drop
    /// older ones, or the ledger would grow with every execution a host
    /// ever reports; posteriors and what circuit breakers need are kept.
    pub ledger_retention: Duration,
    /// Evaluate and report everything, record nothing (no pending `for`
    /// state, no ledger changes).
    pub dry_run: bool,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            max_series: 100_000,
            max_samples_per_series: 4096,
            out_of_order_tolerance: Duration::from_secs(300),
            max_alerts_per_node: 1024,
            max_payload_bytes: 16 << 20,
            max_label_pairs: 64,
            max_label_value_len: 4096,
            max_log_line_len: 64 << 10,
            log_bucket: Duration::from_secs(10),
            staleness: Duration::from_secs(300),
            onset_tolerance: Duration::from_secs(60),
            ledger_retention: Duration::from_secs(24 * 3600),
            dry_run: false,
        }
    }
}

impl EngineConfig {
    /// The parser limits derived from this configuration.
    pub fn limits(&self) -> telemetry::Limits {
        telemetry::Limits {
            max_payload_bytes: self.max_payload_bytes,
            max_label_pairs: self.max_label_pairs,
            max_label_value_len: self.max_label_value_len,
            max_log_line_len: self.max_log_line_len,
            ..telemetry::Limits::default()
        }
    }
}

/// Why an observation was not used. Counted, never silently dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unattached {
    /// No attachment label (`attach_by`) was present.
    NoAttachLabel,
    /// Attachment labels named no node or alias of the topology.
    UnknownNode,
}

/// Why the engine does not store a series' samples, for one engine and
/// library: made by [`Engine::unstored`], spent by
/// [`Engine::count_unstored`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Unstored {
    /// Attached to no node (`Ok`), or dropped (`Err`).
    why: Result<Unattached, Dropped>,
    /// The `Engine::library_instance` it was made under.
    library: u64,
}

/// Why a sample or record was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dropped {
    /// The series limit was reached.
    SeriesLimit,
    /// Older than the out-of-order tolerance allows.
    TooOld,
    /// NaN or infinite.
    NonFinite,
    /// No signature reads this metric (nothing stored).
    NotRead,
    /// The per-node alert limit was reached.
    AlertLimit,
    /// A record failed a payload limit (labels, line length).
    PayloadLimit,
    /// A malformed record inside a payload.
    Malformed,
}

/// Counters a host can export.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineStats {
    /// Log records, alerts and events ingested and attached, by kind.
    pub ingested: BTreeMap<String, u64>,
    /// Metric samples stored.
    pub ingested_metrics: u64,
    /// Observations attached to no node, by reason.
    pub unattached: BTreeMap<Unattached, u64>,
    /// Samples and records dropped, by reason.
    pub dropped: BTreeMap<Dropped, u64>,
    /// Live series.
    pub series: usize,
    /// Firing alerts held.
    pub alerts: usize,
    /// Matches suppressed by a structured exception.
    pub exceptions: u64,
    /// Evaluations run.
    pub evaluations: u64,
}

/// A firing alert as the engine keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ActiveAlert {
    pub(crate) name: String,
    pub(crate) labels: Labels,
    pub(crate) starts_at: i64,
    /// When its source said it ends unless sent again (Prometheus gives
    /// firing alerts one): evaluations drop it then, so alerts whose
    /// resolve never arrives do not stay, and fill the node's set, forever.
    pub(crate) ends_at: Option<i64>,
}

/// Health set by the host for a node, overriding what diagnoses say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostHealth {
    /// The host asserts the node is healthy.
    Healthy,
    /// The host asserts the node is unhealthy.
    Unhealthy,
}

/// The engine's state: everything a snapshot carries.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) series: SeriesStore,
    /// node → [`name_key`] of the metric → series with their labels.
    pub(crate) series_by_node: SeriesIndex,
    /// node → log pattern slot → match counts.
    pub(crate) logs: ByNode<u32, BucketCounter>,
    /// node → ([`name_key`] of the event reason, warning?) → event counts.
    pub(crate) events: ByNode<(u64, bool), BucketCounter>,
    /// node → fingerprint → firing alert.
    pub(crate) alerts: BTreeMap<u32, BTreeMap<String, ActiveAlert>>,
    /// signature id → node → since when `match` has held.
    pub(crate) pending: BTreeMap<String, BTreeMap<u32, i64>>,
    pub(crate) host_health: BTreeMap<u32, HostHealth>,
    pub(crate) stats: EngineStats,
    /// The newest `at` seen by evaluate, for eviction.
    pub(crate) last_evaluated: Option<i64>,
    /// Executions and outcomes reported by the host.
    pub(crate) ledger: Ledger,
    /// Recent decision ids (the hash they spell) → signature id, so
    /// executions can be attributed.
    pub(crate) recent: BTreeMap<u64, String>,
}

/// How many recent decision ids are remembered for attributing executions.
pub(crate) const MAX_RECENT_DECISIONS: usize = 65_536;

/// The result of one evaluation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    /// Every diagnosis at this time, sorted by (node id, signature id).
    pub diagnoses: Vec<Diagnosis>,
    /// Matches a structured exception suppressed, with the exception as
    /// their last evidence item, sorted like `diagnoses`.
    pub excepted: Vec<Diagnosis>,
}

/// What [`Engine::diagnose`] found of one match before its evidence.
enum Timer {
    /// A structured exception suppresses it (the exception's item).
    Excepted(EvidenceItem),
    /// Its `match` has held since then.
    Since(i64),
}

/// A decision engine for one topology shard.
///
/// # Example
///
/// ```
/// use healbot_core::{Engine, Library, Topology};
/// use healbot_core::telemetry::Labels;
///
/// let library = Library::from_text("lib.yaml", r#"
/// apiVersion: healbot.dev/v1
/// kind: SignatureLibrary
/// metadata: {name: lib}
/// spec:
///   signatures:
///     - id: cpu.hot
///       title: CPU hot
///       category: saturation
///       severity: warning
///       match: {metric: {name: cpu, agg: avg, window: 1m, op: ">", threshold: 0.9}}
/// "#).unwrap();
/// let topology = Topology::from_text("topo.yaml", r#"
/// apiVersion: healbot.dev/v1
/// kind: Topology
/// metadata: {name: t}
/// spec: {nodes: [{id: api, kind: service}]}
/// "#).unwrap();
/// let mut engine = Engine::new(library, topology, Default::default()).unwrap();
/// let labels: Labels = [("service", "api")].into_iter().collect();
/// engine.ingest_metric("cpu", &labels, 0.95, 1_000).unwrap();
/// let evaluation = engine.diagnose(2_000);
/// assert_eq!(evaluation.diagnoses[0].signature, "cpu.hot");
/// ```
#[derive(Debug)]
pub struct Engine {
    pub(crate) library: Library,
    pub(crate) program: Arc<Program>,
    pub(crate) topology: Topology,
    pub(crate) config: EngineConfig,
    pub(crate) state: State,
    pub(crate) guards: Arc<Vec<ActionGuards>>,
    pub(crate) traversal: Traversal,
    /// The nodes each signature applies to, by signature index.
    applicable: Vec<Arc<[NodeId]>>,
    /// What diagnoses and decisions take from each signature, built once
    /// per library.
    signatures: SignatureTables,
    /// [`name_key`] of the topology's replicas metric.
    pub(crate) replicas_key: Option<u64>,
    /// How far back any guard of the library reads the ledger (ms).
    guard_horizon: i64,
    /// Leaves the quiet pass evaluated, reused by the recording pass.
    seen: Vec<crate::matcher::Seen>,
    /// The last evaluation's node health, whose buffers the next one reuses.
    health: Health,
    /// The last evaluation's root-cause localisation, reused while the
    /// findings stay the same.
    localized: crate::rootcause::Memo,
    /// Metric aggregates and metric predicate values of earlier
    /// evaluations, answered again while their windows hold the same
    /// samples.
    recall: Recall,
    /// No stored alert ends before this (Unix ms): evaluations walk the
    /// alerts for ended ones only once it has passed, not every time they
    /// move time on. `i64::MIN` when unknown (after a restore).
    alerts_end: i64,
    /// Tells this engine's library from every other engine's and from its
    /// own before a reload, for [`Unstored`] tokens.
    pub(crate) library_instance: u64,
    log_scratch: crate::logmatch::Scratch,
    /// Buffers for deciding, kept across evaluations.
    decide_scratch: decide::Scratch,
}

impl Engine {
    /// An engine over a library and a topology.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Library`] if the library cannot be compiled for evaluation.
    pub fn new(library: Library, topology: Topology, config: EngineConfig) -> Result<Engine, Error> {
        let program = Arc::new(Program::compile(&library)?);
        let guards = Arc::new(compile_guards(&library)?);
        Ok(Engine::with_program(library, program, guards, topology, config))
    }

    /// An engine sharing an already compiled program and guards (one per
    /// library, many engines).
    pub(crate) fn with_program(
        library: Library,
        program: Arc<Program>,
        guards: Arc<Vec<ActionGuards>>,
        topology: Topology,
        config: EngineConfig,
    ) -> Engine {
        let window = WindowConfig {
            retention: program.retention.max(config.staleness),
            max_series: config.max_series,
            max_samples_per_series: config.max_samples_per_series,
            out_of_order_tolerance: config.out_of_order_tolerance,
            ..WindowConfig::default()
        };
        let log_scratch = program.log.scratch();
        Engine {
            traversal: topology.traversal(),
            applicable: program.applicable(&topology),
            signatures: SignatureTables::of(&library),
            replicas_key: topology.spec().replicas_metric.as_deref().map(name_key),
            guard_horizon: guard_horizon(&guards),
            state: State {
                series: SeriesStore::new(window),
                series_by_node: SeriesIndex::default(),
                logs: ByNode::default(),
                events: ByNode::default(),
                alerts: BTreeMap::new(),
                pending: BTreeMap::new(),
                host_health: BTreeMap::new(),
                stats: EngineStats::default(),
                last_evaluated: None,
                ledger: Ledger::default(),
                recent: BTreeMap::new(),
            },
            library,
            program,
            guards,
            topology,
            config,
            seen: Vec::new(),
            health: Health::default(),
            localized: crate::rootcause::Memo::default(),
            recall: Recall::default(),
            alerts_end: i64::MAX,
            library_instance: crate::instance::next(),
            log_scratch,
            decide_scratch: decide::Scratch::default(),
        }
    }

    /// The library in use.
    pub fn library(&self) -> &Library {
        &self.library
    }

    /// The topology in use.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Forgets every metric aggregate and metric predicate value kept
    /// between evaluations (at most a few MiB). The next evaluations
    /// compute them again, and keep them again; no decision changes. For a
    /// host that wants the memory back after a burst, or that checks that
    /// kept values change nothing.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::telemetry::Labels;
    /// use healbot_core::{Engine, Library, Topology};
    ///
    /// let library = Library::from_text("lib.yaml", r#"
    /// apiVersion: healbot.dev/v1
    /// kind: SignatureLibrary
    /// metadata: {name: lib}
    /// spec:
    ///   signatures:
    ///     - id: slow
    ///       title: Slow
    ///       category: latency
    ///       severity: warning
    ///       match: {metric: {name: latency_seconds, agg: avg, window: 1m, op: ">", threshold: 1}}
    /// "#).unwrap();
    /// let topology = Topology::from_text("topo.yaml", r#"
    /// apiVersion: healbot.dev/v1
    /// kind: Topology
    /// metadata: {name: t}
    /// spec: {nodes: [{id: api, kind: service}]}
    /// "#).unwrap();
    /// let mut engine = Engine::new(library, topology, Default::default()).unwrap();
    /// let labels: Labels = [("service", "api")].into_iter().collect();
    /// engine.ingest_metric("latency_seconds", &labels, 2.5, 10_000).unwrap();
    /// let first = engine.diagnose(20_000).diagnoses;
    /// engine.clear_read_caches();
    /// assert_eq!(engine.diagnose(20_000).diagnoses, first);
    /// assert_eq!(first[0].evidence[0].observed, Some(2.5));
    /// ```
    pub fn clear_read_caches(&mut self) {
        self.recall = Recall::default();
    }

    /// Counters: ingested, unattached by reason, dropped by reason, series.
    pub fn stats(&self) -> EngineStats {
        let mut s = self.state.stats.clone();
        s.series = self.state.series.len();
        s.alerts = self.state.alerts.values().map(BTreeMap::len).sum();
        s
    }

    /// Counts `n` observations of `kind` ingested; allocates the kind's
    /// key only the first time it is counted. Counters saturate: a restored
    /// snapshot may hold any value.
    fn count_ingested(&mut self, kind: &'static str, n: u64) {
        if n == 0 {
            return;
        }
        match self.state.stats.ingested.get_mut(kind) {
            Some(count) => *count = count.saturating_add(n),
            None => {
                self.state.stats.ingested.insert(kind.to_string(), n);
            }
        }
    }

    fn count_drop(&mut self, why: Dropped, n: u64) {
        if n > 0 {
            let count = self.state.stats.dropped.entry(why).or_default();
            *count = count.saturating_add(n);
        }
    }

    /// The node a label set attaches to: the topology's `attach_by` keys in
    /// order (ids and aliases both resolve).
    pub fn attach(&self, labels: &Labels) -> Result<NodeId, Unattached> {
        self.attach_with(|key| labels.get(key))
    }

    /// [`Engine::attach`] over any label lookup.
    fn attach_with<'l>(&self, get: impl Fn(&str) -> Option<&'l str>) -> Result<NodeId, Unattached> {
        let mut saw_key = false;
        for key in self.topology.attach_by() {
            if let Some(v) = get(key) {
                saw_key = true;
                if let Some(n) = self.topology.lookup(v) {
                    return Ok(n);
                }
            }
        }
        Err(if saw_key { Unattached::UnknownNode } else { Unattached::NoAttachLabel })
    }

    fn attach_counted(&mut self, labels: &Labels) -> Option<NodeId> {
        let attached = self.attach(labels);
        self.count_unattached(attached, 1)
    }

    /// The node of an attachment, or `None` with `n` observations counted
    /// as unattached for its reason.
    fn count_unattached(&mut self, attached: Result<NodeId, Unattached>, n: u64) -> Option<NodeId> {
        match attached {
            Ok(node) => Some(node),
            Err(why) => {
                if n > 0 {
                    let count = self.state.stats.unattached.entry(why).or_default();
                    *count = count.saturating_add(n);
                }
                None
            }
        }
    }

    /// Ingests one metric sample.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Limit`] when the series limit rejects a new series (also
    /// counted in [`EngineStats::dropped`]). Unattached samples and samples
    /// of metrics no signature reads are counted, not errors.
    pub fn ingest_metric(&mut self, name: &str, labels: &Labels, value: f64, at: i64) -> Result<(), Error> {
        self.ingest_sample(name, || labels.iter(), |key| labels.get(key), value, at)
    }

    /// Why the engine does not store samples of `name` with `labels` (no
    /// signature reads the metric, or the labels attach to no node), as a
    /// token for [`Engine::count_unstored`]; `None` when it stores them.
    /// Counts nothing.
    ///
    /// For a host that resolves a batch's series once
    /// ([`Engine::resolve_series`] gives `None` for these) and then counts
    /// their samples in one call per reason, not one lookup per sample.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::telemetry::Labels;
    /// use healbot_core::{Engine, Library, Topology};
    ///
    /// let library = Library::from_sources([("l.yaml", r#"
    /// apiVersion: healbot.dev/v1
    /// kind: SignatureLibrary
    /// metadata: {name: demo, version: 1.0.0}
    /// spec:
    ///   signatures:
    ///     - id: cpu.hot
    ///       title: CPU hot
    ///       category: saturation
    ///       severity: warning
    ///       match: {metric: {name: cpu, agg: last, window: 1m, op: ">", threshold: 0.9}}
    /// "#)]).unwrap();
    /// let topology = Topology::from_text("t.yaml", r#"
    /// apiVersion: healbot.dev/v1
    /// kind: Topology
    /// metadata: {name: demo}
    /// spec:
    ///   nodes:
    ///     - {id: api, kind: service}
    /// "#).unwrap();
    /// let mut engine = Engine::new(library, topology, Default::default()).unwrap();
    /// let api: Labels = [("service", "api")].into_iter().collect();
    /// assert!(engine.unstored("cpu", &api).is_none()); // read and attached: stored
    /// let disk = engine.unstored("disk", &api).unwrap(); // not read
    /// assert!(engine.count_unstored(disk, 3));
    /// assert_eq!(engine.stats().dropped.values().sum::<u64>(), 3);
    /// ```
    pub fn unstored(&self, name: &str, labels: &Labels) -> Option<Unstored> {
        self.placement(name, labels).err()
    }

    /// The node samples of `name` with `labels` are stored on, or why they
    /// are not.
    fn placement(&self, name: &str, labels: &Labels) -> Result<NodeId, Unstored> {
        let why = if !self.reads_metric(name) {
            Err(Dropped::NotRead)
        } else {
            match self.attach(labels) {
                Ok(node) => return Ok(node),
                Err(unattached) => Ok(unattached),
            }
        };
        Err(Unstored { why, library: self.library_instance })
    }

    /// Counts `samples` samples as [`Engine::ingest_metric`] would count
    /// that many of the series `token` was made for, and returns `true`;
    /// returns `false`, counting nothing, when the library has been
    /// reloaded since [`Engine::unstored`] made it (the samples may be
    /// stored now: ingest them one by one), or it was made by another
    /// engine.
    pub fn count_unstored(&mut self, token: Unstored, samples: u64) -> bool {
        if token.library != self.library_instance {
            return false;
        }
        match token.why {
            Err(dropped) => self.count_drop(dropped, samples),
            Ok(unattached) => {
                self.count_unattached(Err(unattached), samples);
            }
        }
        true
    }

    /// [`Engine::ingest_metric`] of a sample borrowed from an NDJSON
    /// payload: its labels are a sorted slice.
    fn ingest_metric_ref(&mut self, m: &telemetry::MetricRef<'_, '_>) -> Result<(), Error> {
        self.ingest_sample(m.name, || m.labels.iter().copied(), |key| m.label(key), m.value, m.at)
    }

    /// One sample of `name` with the label pairs `pairs` gives (sorted by
    /// name, names unique; `get` looks one up): counted as not read or
    /// unattached, or pushed into its series. The pairs become a label set
    /// only for a sample that starts a new series.
    fn ingest_sample<'l, P: ExactSizeIterator<Item = (&'l str, &'l str)>>(
        &mut self,
        name: &str,
        pairs: impl Fn() -> P,
        get: impl Fn(&str) -> Option<&'l str>,
        value: f64,
        at: i64,
    ) -> Result<(), Error> {
        if !self.reads_metric(name) {
            self.count_drop(Dropped::NotRead, 1);
            return Ok(());
        }
        let Some(node) = self.count_unattached(self.attach_with(get), 1) else {
            return Ok(());
        };
        let id = self.series_with(node, name, label_set_hash_iter(pairs()), || pairs().collect())?;
        let outcome = self.state.series.push(id, at, value);
        self.count_push(outcome);
        Ok(())
    }

    /// Ingests one log record: every log pattern of the library is matched in
    /// one pass; the line itself is not retained.
    pub fn ingest_log(&mut self, record: &LogRecord) {
        if record.body.len() > self.config.max_log_line_len {
            self.count_drop(Dropped::PayloadLimit, 1);
            return;
        }
        let Some(node) = self.attach_counted(&record.attributes) else {
            return;
        };
        self.count_ingested("log", 1);
        self.count_log_matches(node, &record.body, record.at);
    }

    /// A log record borrowed from an NDJSON payload, as [`Engine::ingest_log`]
    /// but with its attachment given, and returning whether it was ingested
    /// (the caller counts those).
    fn ingest_log_ref(&mut self, record: &telemetry::LogRef<'_, '_>, attached: Result<NodeId, Unattached>) -> bool {
        if record.body.len() > self.config.max_log_line_len {
            self.count_drop(Dropped::PayloadLimit, 1);
            return false;
        }
        let Some(node) = self.count_unattached(attached, 1) else {
            return false;
        };
        self.count_log_matches(node, record.body, record.at);
        true
    }

    /// Matches one attached line against every log pattern in one pass and
    /// counts each match in its (node, pattern) counter.
    fn count_log_matches(&mut self, node: NodeId, line: &str, at: i64) {
        let (program, scratch, mut count) = self.log_counts(node);
        program.log.for_each_match(line, scratch, |p| count(p, at));
    }

    /// The library's program, the log scratch, and what counts a match of
    /// a pattern at a time in `node`'s counter for it.
    fn log_counts(&mut self, node: NodeId) -> (&Program, &mut LogScratch, impl FnMut(PatternId, i64) + '_) {
        let (bucket, retention) = (self.config.log_bucket, self.program.retention);
        let logs = &mut self.state.logs;
        let node = node.index() as u32;
        let evicted_at = self.state.last_evaluated;
        let count = move |p: PatternId, at: i64| {
            counter_at(logs.get_or_insert_with(node, p.as_u32(), || BucketCounter::new(bucket, retention)), evicted_at)
                .add(at, 1);
        };
        (&self.program, &mut self.log_scratch, count)
    }

    /// Ingests a batch of log lines of one source (a file, a pod, a
    /// stream): every line gets `attributes` and `severity`, and its own
    /// time. The same as one [`Engine::ingest_log`] per line, with the same
    /// counts and matches, but the attributes are attached to a node once
    /// per batch, and no record or string is built per line: each line is
    /// matched in place against every log pattern in one pass and not kept.
    ///
    /// Lines are bytes: a line that is not UTF-8 is matched (and its length
    /// checked against [`EngineConfig::max_log_line_len`]) with each invalid
    /// sequence replaced by U+FFFD, as `String::from_utf8_lossy` does. Split a
    /// blob of text into lines with [`telemetry::split_lines`].
    ///
    /// Severity is taken for what [`LogRecord::severity`] is to
    /// [`Engine::ingest_log`]: no predicate reads it yet.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::{Engine, Library, Topology};
    /// use healbot_core::telemetry::{split_lines, Labels};
    ///
    /// let library = Library::from_text("lib.yaml", r#"
    /// apiVersion: healbot.dev/v1
    /// kind: SignatureLibrary
    /// metadata: {name: lib}
    /// spec:
    ///   signatures:
    ///     - id: oom
    ///       title: Out of memory
    ///       category: resource
    ///       severity: warning
    ///       match: {log: {contains_any: [OutOfMemoryError], window: 5m, threshold: 2}}
    /// "#).unwrap();
    /// let topology = Topology::from_text("topo.yaml", r#"
    /// apiVersion: healbot.dev/v1
    /// kind: Topology
    /// metadata: {name: t}
    /// spec: {nodes: [{id: api, kind: service}]}
    /// "#).unwrap();
    /// let mut engine = Engine::new(library, topology, Default::default()).unwrap();
    /// let attributes: Labels = [("service", "api")].into_iter().collect();
    /// let blob = b"GET / 200\njava.lang.OutOfMemoryError\nOutOfMemoryError again\n";
    /// let report = engine.ingest_log_lines(&attributes, None, split_lines(blob).map(|line| (line, 1_000)));
    /// assert_eq!((report.lines, report.ingested, report.dropped, report.unattached), (3, 3, 0, 0));
    /// assert_eq!(engine.stats().ingested["log"], 3);
    /// assert_eq!(engine.diagnose(2_000).diagnoses[0].signature, "oom");
    /// ```
    pub fn ingest_log_lines<'l>(
        &mut self,
        attributes: &Labels,
        severity: Option<LogSeverity>,
        lines: impl IntoIterator<Item = (&'l [u8], i64)>,
    ) -> LogLinesReport {
        let _ = severity;
        let max = self.config.max_log_line_len;
        let node = self.attach(attributes);
        let mut report = LogLinesReport::default();
        // The current line with invalid UTF-8 replaced (allocated only if a line needs it).
        let mut lossy = String::new();
        for (line, at) in lines {
            report.lines += 1;
            // Replacing invalid UTF-8 never shortens a line.
            if line.len() > max {
                report.dropped += 1;
                continue;
            }
            let text = match std::str::from_utf8(line) {
                Ok(text) => text,
                Err(_) => {
                    lossy.clear();
                    lossy.push_str(&String::from_utf8_lossy(line));
                    if lossy.len() > max {
                        report.dropped += 1;
                        continue;
                    }
                    &lossy
                }
            };
            match node {
                Ok(node) => {
                    report.ingested += 1;
                    self.count_log_matches(node, text, at);
                }
                Err(_) => report.unattached += 1,
            }
        }
        self.count_log_batch(node, report)
    }

    /// Ingests a blob of log text of one source, every line at `at`: the
    /// same as [`Engine::ingest_log_lines`] over the lines of `text` (split
    /// by [`telemetry::split_lines`]), with the same counts, matches and
    /// report. Cheaper, as logs go: the text is checked for UTF-8 once, and a
    /// line holding no literal of the library costs only its literal scan
    /// ([`LogMatcher::for_each_match_by_line`](crate::logmatch::LogMatcher::for_each_match_by_line)).
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::{Engine, Library, Topology};
    /// use healbot_core::telemetry::Labels;
    ///
    /// let library = Library::from_text("lib.yaml", r#"
    /// apiVersion: healbot.dev/v1
    /// kind: SignatureLibrary
    /// metadata: {name: lib}
    /// spec:
    ///   signatures:
    ///     - id: oom
    ///       title: Out of memory
    ///       category: resource
    ///       severity: warning
    ///       match: {log: {contains_any: [OutOfMemoryError], window: 5m, threshold: 2}}
    /// "#).unwrap();
    /// let topology = Topology::from_text("topo.yaml", r#"
    /// apiVersion: healbot.dev/v1
    /// kind: Topology
    /// metadata: {name: t}
    /// spec: {nodes: [{id: api, kind: service}]}
    /// "#).unwrap();
    /// let mut engine = Engine::new(library, topology, Default::default()).unwrap();
    /// let attributes: Labels = [("service", "api")].into_iter().collect();
    /// let blob = b"GET / 200\njava.lang.OutOfMemoryError\r\nOutOfMemoryError again\n";
    /// let report = engine.ingest_log_text(&attributes, None, blob, 1_000);
    /// assert_eq!((report.lines, report.ingested, report.dropped, report.unattached), (3, 3, 0, 0));
    /// assert_eq!(engine.diagnose(2_000).diagnoses[0].signature, "oom");
    /// ```
    pub fn ingest_log_text(
        &mut self,
        attributes: &Labels,
        severity: Option<LogSeverity>,
        text: &[u8],
        at: i64,
    ) -> LogLinesReport {
        let max = self.config.max_log_line_len;
        // Lines that are not UTF-8 (replaced line by line) or over the
        // limit (dropped) are rare: such a text takes the line-by-line way.
        let text = match std::str::from_utf8(text) {
            Ok(t) if t.len() <= max || telemetry::split_lines(text).all(|l| l.len() <= max) => t,
            _ => return self.ingest_log_lines(attributes, severity, telemetry::split_lines(text).map(|l| (l, at))),
        };
        let node = self.attach(attributes);
        let lines = match node {
            Ok(node) => {
                let (program, scratch, mut count) = self.log_counts(node);
                program.log.for_each_match_by_line(text, scratch, |_, p| count(p, at))
            }
            Err(_) => telemetry::split_lines(text.as_bytes()).count(),
        } as u64;
        let attached = node.is_ok();
        let report = LogLinesReport {
            lines,
            ingested: if attached { lines } else { 0 },
            dropped: 0,
            unattached: if attached { 0 } else { lines },
        };
        self.count_log_batch(node, report)
    }

    /// Counts a batch of log lines in the engine's stats, as its report says.
    fn count_log_batch(&mut self, node: Result<NodeId, Unattached>, report: LogLinesReport) -> LogLinesReport {
        self.count_drop(Dropped::PayloadLimit, report.dropped);
        self.count_unattached(node, report.unattached);
        self.count_ingested("log", report.ingested);
        report
    }

    /// Ingests one alert: firing alerts join the node's active set, resolved
    /// ones leave it.
    pub fn ingest_alert(&mut self, alert: &Alert) {
        let Some(node) = self.attach_counted(&alert.labels) else {
            return;
        };
        let set = self.state.alerts.entry(node.index() as u32).or_default();
        match alert.status {
            // Already over, as far as evaluations have gone: as if resolved.
            AlertStatus::Firing
                if alert.ends_at.is_some_and(|end| self.state.last_evaluated.is_some_and(|t| end <= t)) =>
            {
                set.remove(&alert.fingerprint);
            }
            AlertStatus::Firing => {
                if !set.contains_key(&alert.fingerprint) && set.len() >= self.config.max_alerts_per_node {
                    self.count_drop(Dropped::AlertLimit, 1);
                    return;
                }
                if let Some(end) = alert.ends_at {
                    self.alerts_end = self.alerts_end.min(end);
                }
                set.insert(
                    alert.fingerprint.clone(),
                    ActiveAlert {
                        name: alert.name.clone(),
                        labels: alert.labels.clone(),
                        starts_at: alert.starts_at,
                        ends_at: alert.ends_at,
                    },
                );
            }
            AlertStatus::Resolved => {
                set.remove(&alert.fingerprint);
            }
        }
        self.count_ingested("alert", 1);
    }

    /// Ingests one Kubernetes event (its `count` is added at its last time).
    pub fn ingest_event(&mut self, event: &Event) {
        let Some(node) = self.attach_counted(&event.labels) else {
            return;
        };
        self.count_ingested("event", 1);
        if !self.program.reasons.contains_key(&event.reason) {
            return;
        }
        let bucket = self.config.log_bucket;
        let retention = self.program.retention;
        let warning = event.event_type == EventType::Warning;
        let n = u32::try_from(event.count.max(1)).unwrap_or(u32::MAX);
        let evicted_at = self.state.last_evaluated;
        let counter =
            self.state.events.get_or_insert_with(node.index() as u32, (name_key(&event.reason), warning), || {
                BucketCounter::new(bucket, retention)
            });
        counter_at(counter, evicted_at).add(event.last_at, n);
    }

    /// Ingests any observation.
    ///
    /// # Errors
    ///
    /// As [`Engine::ingest_metric`].
    pub fn ingest(&mut self, obs: &Observation) -> Result<(), Error> {
        match obs {
            Observation::Metric(m) => self.ingest_metric(&m.name, &m.labels, m.value, m.at),
            Observation::Log(l) => {
                self.ingest_log(l);
                Ok(())
            }
            Observation::Alert(a) => {
                self.ingest_alert(a);
                Ok(())
            }
            Observation::Event(e) => {
                self.ingest_event(e);
                Ok(())
            }
        }
    }

    /// Parses a payload in a native format and ingests every good record.
    /// Malformed records are counted and returned; the rest still count.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Telemetry`] or [`ErrorKind::Limit`] when the payload as a
    /// whole cannot be read.
    pub fn ingest_payload(
        &mut self,
        format: PayloadFormat,
        payload: &[u8],
        default_at: i64,
    ) -> Result<IngestReport, Error> {
        if format == PayloadFormat::Ndjson {
            return self.ingest_ndjson(payload);
        }
        let parsed = telemetry::parse(format, payload, default_at, &self.config.limits())?;
        self.count_drop(Dropped::PayloadLimit, parsed.dropped.total());
        self.count_drop(Dropped::Malformed, parsed.errors.len() as u64);
        let mut limited = 0;
        for obs in &parsed.observations {
            if self.ingest(obs).is_err() {
                limited += 1;
            }
        }
        Ok(IngestReport {
            observations: parsed.observations.len(),
            errors: parsed.errors.iter().map(|e| e.to_string()).collect(),
            dropped: parsed.dropped.total() + limited,
        })
    }

    /// NDJSON, ingested record by record as it is read: log records in the
    /// common shape are borrowed from the payload (no string, label set or
    /// observation list is built for them). Counts and errors are those of
    /// [`telemetry::parse_ndjson`] then [`Engine::ingest`] on each record.
    fn ingest_ndjson(&mut self, payload: &[u8]) -> Result<IngestReport, Error> {
        let (mut limited, mut logs) = (0, 0);
        // The attributes of the last borrowed log record and their attachment:
        // a shipper's batch holds runs of records of one source.
        let mut last_attributes: Vec<(&str, &str)> = Vec::new();
        let mut last_attached: Option<Result<NodeId, Unattached>> = None;
        let read = telemetry::for_each_ndjson_record(payload, &self.config.limits(), |record| match record {
            NdjsonRecord::Log(log) => {
                let attached = match last_attached {
                    Some(attached) if last_attributes == log.attributes => attached,
                    _ => {
                        let attached = self.attach_with(|key| log.attribute(key));
                        last_attributes.clear();
                        last_attributes.extend_from_slice(log.attributes);
                        last_attached = Some(attached);
                        attached
                    }
                };
                logs += u64::from(self.ingest_log_ref(&log, attached));
            }
            NdjsonRecord::Metric(m) => {
                if self.ingest_metric_ref(&m).is_err() {
                    limited += 1;
                }
            }
            NdjsonRecord::Owned(obs) => {
                if self.ingest(&obs).is_err() {
                    limited += 1;
                }
            }
        })?;
        self.count_ingested("log", logs);
        self.count_drop(Dropped::PayloadLimit, read.dropped.total());
        self.count_drop(Dropped::Malformed, read.errors.len() as u64);
        Ok(IngestReport {
            observations: read.records,
            errors: read.errors.iter().map(|e| e.to_string()).collect(),
            dropped: read.dropped.total() + limited,
        })
    }

    /// Sets (or with `None` clears) the host's view of a node's health.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`] for an unknown node.
    pub fn set_node_health(&mut self, node: &str, health: Option<HostHealth>) -> Result<(), Error> {
        let n = self
            .topology
            .lookup(node)
            .ok_or_else(|| Error::new(ErrorKind::InvalidArgument, format!("unknown node `{node}`")))?;
        match health {
            Some(h) => self.state.host_health.insert(n.index() as u32, h),
            None => self.state.host_health.remove(&(n.index() as u32)),
        };
        Ok(())
    }

    /// Evaluates every signature on every node it applies to at `at` and
    /// returns the diagnoses. Signatures whose `match` reads node health are
    /// evaluated after the others, against the health those imply, so the
    /// result never depends on evaluation order.
    pub fn diagnose(&mut self, at: i64) -> Evaluation {
        let (evaluation, health) = self.diagnose_with_health(at);
        self.health = health;
        evaluation
    }

    pub(crate) fn diagnose_with_health(&mut self, at: i64) -> (Evaluation, Health) {
        if self.state.last_evaluated.is_none_or(|t| at > t) {
            // Neither moves time on by visiting every series or counter: a
            // counter is evicted when it next adds (`counter_at`) and read
            // as if it had been (`StateFacts::log_count`).
            let live = self.state.series.len();
            self.state.series.advance(at);
            if self.state.series.len() < live {
                // Series were evicted: the index lets go of them too, or it
                // would grow with every series ever seen (pods come and go).
                self.state.series_by_node.retain_live(&self.state.series);
            }
            self.state.last_evaluated = Some(at);
            // Alerts past their end have stopped firing.
            if at >= self.alerts_end {
                let mut next = i64::MAX;
                self.state.alerts.retain(|_, set| {
                    set.retain(|_, a| a.ends_at.is_none_or(|end| end > at));
                    next = set.values().filter_map(|a| a.ends_at).fold(next, i64::min);
                    !set.is_empty()
                });
                self.alerts_end = next;
            }
            if !self.config.dry_run {
                self.evict_ledger(at);
            }
        }
        self.state.stats.evaluations = self.state.stats.evaluations.saturating_add(1);
        let program = Arc::clone(&self.program);
        let topo = self.topology.clone();
        let mut health = Health::from_host(&self.state.host_health, topo.len(), std::mem::take(&mut self.health));
        let scratch = std::cell::RefCell::new(std::mem::replace(&mut self.traversal, Traversal::new()));
        let reads = std::cell::RefCell::new(std::mem::take(&mut self.recall));
        let mut matched: Vec<(usize, NodeId, Vec<EvidenceItem>)> = Vec::new();
        let mut seen = std::mem::take(&mut self.seen);
        for phase in [false, true] {
            for s in program.sigs.iter().filter(|s| s.status != Status::Disabled && s.reads_health == phase) {
                let nodes = self.applicable.get(s.index).map_or(&[][..], |a| &a[..]);
                for &n in nodes {
                    if s.log_gate.is_some_and(|slot| self.state.logs.get(n.index() as u32, &slot).is_none()) {
                        continue;
                    }
                    let facts =
                        StateFacts { engine: self, at, health: &health, topo: &topo, scratch: &scratch, reads: &reads };
                    // Quiet first: most pairs do not match, and only a
                    // match needs its evidence recorded.
                    if program.holds(s, n, &facts, &mut seen) {
                        let mut evidence = Vec::with_capacity(s.leaves + 1);
                        program.eval_match(s, n, &facts, &seen, &mut evidence);
                        matched.push((s.index, n, evidence));
                    }
                }
            }
            if !phase {
                for (si, n, _) in &matched {
                    if program.sigs[*si].category.propagates() {
                        health.mark(*n);
                    }
                }
            }
        }
        // `for` bookkeeping and exceptions, then evidence.
        let library = self.library.clone();
        let since = self.for_timers(&matched, at, |si, n| program.exception(&program.sigs[si], &topo, n));
        // A timer lives while its match holds (a flapping condition restarts
        // it, as Prometheus `for` does); a dry run changes none. Every match
        // that is not excepted has a timer now, so when there are no more
        // timers than those, none is stale: the steady state of a long
        // incident needs no pass over the timers.
        let timed = since.iter().filter(|t| matches!(t, Timer::Since(_))).count();
        let timers: usize = self.state.pending.values().map(BTreeMap::len).sum();
        if !self.config.dry_run && timers > timed {
            let mut held_now: Vec<(usize, u32)> = matched.iter().map(|(si, n, _)| (*si, n.index() as u32)).collect();
            held_now.sort_unstable();
            self.state.pending.retain(|sig, timers| {
                let Some(si) = library.signature_index(sig) else { return false };
                timers.retain(|n, _| held_now.binary_search(&(si, *n)).is_ok());
                !timers.is_empty()
            });
        }
        let mut diagnoses = Vec::with_capacity(matched.len());
        let mut excepted = Vec::new();
        for ((si, n, mut ev), since) in matched.into_iter().zip(since) {
            let s = &program.sigs[si];
            let sig = &library.signatures()[si];
            // (onset, evidence weight, coverage, where it goes)
            let (onset, evidence_weight, coverage, into) = match since {
                Timer::Excepted(item) => {
                    self.state.stats.exceptions = self.state.stats.exceptions.saturating_add(1);
                    ev.push(item);
                    (at, 0.0, 1.0, &mut excepted)
                }
                // Any two times may be given (or restored), so their distance saturates.
                Timer::Since(since) if at.saturating_sub(since) < s.for_ms => continue,
                Timer::Since(since) => {
                    let facts =
                        StateFacts { engine: self, at, health: &health, topo: &topo, scratch: &scratch, reads: &reads };
                    let weight = program.eval_evidence(s, n, &facts, &mut ev);
                    (since, weight, facts.coverage(n, &s.reads), &mut diagnoses)
                }
            };
            into.push(Diagnosis {
                signature: self.signatures.ids[si].clone(),
                signature_index: si,
                node: n,
                node_id: topo.node(n).shared_id().clone(),
                category: sig.category,
                severity: sig.severity,
                status: sig.status,
                onset,
                at,
                evidence: ev,
                evidence_weight,
                coverage,
                forecast: s.forecast,
            });
        }
        let sig_rank = &self.signatures.rank;
        let place = |d: &Diagnosis| radix::pair(topo.id_rank(d.node), sig_rank[d.signature_index], sig_rank.len());
        radix::sort_by_key(&mut diagnoses, place);
        radix::sort_by_key(&mut excepted, place);
        self.traversal = scratch.into_inner();
        self.recall = reads.into_inner();
        self.recall.sweep();
        self.seen = seen;
        (Evaluation { diagnoses, excepted }, health)
    }

    /// Drops ledger history older than the retention (and every guard's
    /// window) before `at`. Eviction walks each action's trailing failures,
    /// which it keeps: so it runs only once the oldest execution is past the
    /// cut-off, and then at most once per sixteenth of the retention.
    fn evict_ledger(&mut self, at: i64) {
        let keep = self.config.ledger_retention.as_millis_i64().max(self.guard_horizon);
        let before = at.saturating_sub(keep);
        let ledger = &mut self.state.ledger;
        let stale = ledger.entries().next().is_some_and(|e| e.execution.at < before);
        if stale && ledger.evicted_before().is_none_or(|b| before.saturating_sub(b) >= keep / 16) {
            ledger.evict(before);
        }
    }

    /// For each match of an evaluation (in the order `diagnose` finds
    /// them: each signature's matches together), the structured exception
    /// that suppresses it, or since when its `match` has held, starting
    /// the timers of new matches (unless in a dry run). The timers are filed
    /// by signature id, which is looked up once per signature, not per match.
    fn for_timers(
        &mut self,
        matched: &[(usize, NodeId, Vec<EvidenceItem>)],
        at: i64,
        exception: impl Fn(usize, NodeId) -> Option<EvidenceItem>,
    ) -> Vec<Timer> {
        let dry_run = self.config.dry_run;
        let mut out = Vec::with_capacity(matched.len());
        for run in matched.chunk_by(|a, b| a.0 == b.0) {
            let si = run[0].0;
            let Some(sig) = self.library.signatures().get(si) else { continue };
            let mut timers = self.state.pending.get_mut(sig.id.as_str());
            for &(_, n, _) in run {
                if let Some(item) = exception(si, n) {
                    out.push(Timer::Excepted(item));
                    continue;
                }
                let node = n.index() as u32;
                let since = match (&mut timers, dry_run) {
                    (Some(t), true) => t.get(&node).copied().unwrap_or(at),
                    (Some(t), false) => *t.entry(node).or_insert(at),
                    (None, true) => at,
                    (None, false) => {
                        let t = self.state.pending.entry(sig.id.clone()).or_default();
                        t.insert(node, at);
                        timers = Some(t);
                        at
                    }
                };
                out.push(Timer::Since(since));
            }
        }
        out
    }

    /// Resolves the series a sample of `name` with `labels` belongs to, for
    /// repeated ingestion without hashing names and labels again.
    /// `Ok(None)` when no signature reads the metric or the labels attach to
    /// no node (both counted).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Limit`] when the series limit rejects a new series.
    pub fn resolve_series(&mut self, name: &str, labels: &Labels) -> Result<Option<SeriesHandle>, Error> {
        match self.placement(name, labels) {
            Ok(node) => self.series_for(node, name, labels).map(|id| Some(SeriesHandle(id))),
            Err(token) => {
                self.count_unstored(token, 1);
                Ok(None)
            }
        }
    }

    fn reads_metric(&self, name: &str) -> bool {
        self.program.metrics.contains_key(name) || self.topology.spec().replicas_metric.as_deref() == Some(name)
    }

    fn series_for(&mut self, node: NodeId, name: &str, labels: &Labels) -> Result<SeriesId, Error> {
        self.series_with(node, name, label_set_hash_iter(labels.iter()), || labels.clone())
    }

    /// The series of `name` on `node` with the label set that hashes to
    /// `labels_hash`, created (with the labels `labels` makes) if new.
    fn series_with(
        &mut self,
        node: NodeId,
        name: &str,
        labels_hash: u64,
        labels: impl FnOnce() -> Labels,
    ) -> Result<SeriesId, Error> {
        let key = SeriesKey { node: node.index() as u32, metric: metric_key(name), labels: labels_hash };
        if let Some(id) = self.state.series.lookup(&key) {
            return Ok(id);
        }
        match self.state.series.resolve(key) {
            Ok(id) => {
                self.state.series_by_node.add(key.node, name_key(name), id, labels());
                Ok(id)
            }
            Err(e) => {
                self.count_drop(Dropped::SeriesLimit, 1);
                Err(Error::new(ErrorKind::Limit, e.to_string()))
            }
        }
    }

    /// Whether this engine gave out `series` (from [`Engine::resolve_series`]);
    /// true too when its series has since been evicted.
    pub fn issued(&self, series: SeriesHandle) -> bool {
        self.state.series.was_issued(series.0)
    }

    /// Ingests one sample into a resolved series: no hashing of names or
    /// labels, no allocation.
    pub fn ingest_by_handle(&mut self, series: SeriesHandle, value: f64, at: i64) {
        let outcome = self.state.series.push(series.0, at, value);
        self.count_push(outcome);
    }

    fn count_push(&mut self, outcome: crate::window::Push) {
        match outcome {
            crate::window::Push::TooOld => self.count_drop(Dropped::TooOld, 1),
            crate::window::Push::NonFinite => self.count_drop(Dropped::NonFinite, 1),
            crate::window::Push::UnknownSeries => self.count_drop(Dropped::SeriesLimit, 1),
            _ => self.state.stats.ingested_metrics = self.state.stats.ingested_metrics.saturating_add(1),
        }
    }
}

/// A resolved series, from [`Engine::resolve_series`]. Valid for the engine
/// that issued it until the series is evicted (then samples are counted as
/// dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeriesHandle(SeriesId);

impl SeriesHandle {
    /// The handle as one number, for a host that keeps handles outside
    /// Rust (the C binding passes them as integers): the same series gives
    /// the same number, and nothing needs to be remembered to map it back.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::engine::SeriesHandle;
    /// # use healbot_core::{Engine, Library, Topology};
    /// # use healbot_core::telemetry::Labels;
    /// # let library = Library::from_text("l.yaml", "apiVersion: healbot.dev/v1\nkind: SignatureLibrary\nmetadata: {name: l}\nspec:\n  signatures:\n    - {id: cpu.hot, title: CPU hot, category: saturation, severity: warning, match: {metric: {name: cpu, agg: avg, window: 1m, op: '>', threshold: 0.9}}}\n").unwrap();
    /// # let topology = Topology::from_text("t.yaml", "apiVersion: healbot.dev/v1\nkind: Topology\nmetadata: {name: t}\nspec: {nodes: [{id: api, kind: service}]}\n").unwrap();
    /// let mut engine = Engine::new(library, topology, Default::default()).unwrap();
    /// let labels: Labels = [("service", "api")].into_iter().collect();
    /// let handle = engine.resolve_series("cpu", &labels).unwrap().unwrap();
    /// let again = SeriesHandle::from_bits(handle.to_bits());
    /// assert_eq!(again, handle);
    /// assert!(engine.issued(again));
    /// assert!(!engine.issued(SeriesHandle::from_bits(u64::MAX)));
    /// ```
    pub const fn to_bits(self) -> u64 {
        self.0.to_bits()
    }

    /// The handle [`SeriesHandle::to_bits`] gave. Any number is a handle;
    /// [`Engine::issued`] tells whether the engine gave it out, and samples
    /// for one it did not are counted as dropped.
    pub const fn from_bits(bits: u64) -> SeriesHandle {
        SeriesHandle(SeriesId::from_bits(bits))
    }
}

/// Per-signature values that every diagnosis and decision of an evaluation
/// would otherwise build again, by signature index.
#[derive(Debug)]
struct SignatureTables {
    /// What decisions say of the signature, shared by all of them.
    refs: Vec<Arc<crate::decision::SignatureRef>>,
    /// The signature's id, shared by the diagnoses and decisions naming it.
    ids: Vec<crate::Name>,
    /// The signature's position in id order: sorting by it sorts by id,
    /// with integer comparisons.
    rank: Vec<u32>,
}

impl SignatureTables {
    fn of(library: &Library) -> Self {
        let sigs = library.signatures();
        let mut by_id: Vec<usize> = (0..sigs.len()).collect();
        by_id.sort_unstable_by(|&a, &b| sigs[a].id.cmp(&sigs[b].id));
        let mut rank = vec![0u32; sigs.len()];
        for (r, i) in by_id.into_iter().enumerate() {
            rank[i] = r as u32;
        }
        SignatureTables {
            refs: sigs.iter().map(|s| Arc::new(decide::signature_ref(s))).collect(),
            ids: sigs.iter().map(|s| crate::Name::from(s.id.as_str())).collect(),
            rank,
        }
    }
}

/// The longest ledger window any of `guards` reads, in ms.
fn guard_horizon(guards: &[ActionGuards]) -> i64 {
    guards.iter().map(|g| g.horizon().as_millis_i64()).max().unwrap_or(0)
}

fn compile_guards(library: &Library) -> Result<Vec<ActionGuards>, Error> {
    library.actions().iter().map(ActionGuards::compile).collect()
}

/// What [`Engine::ingest_log_lines`] did with a batch. Every line is in
/// exactly one of `ingested`, `dropped` and `unattached`, which
/// [`EngineStats`] counts too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LogLinesReport {
    /// Lines given.
    pub lines: u64,
    /// Lines attached to a node and matched (`ingested["log"]`).
    pub ingested: u64,
    /// Lines over [`EngineConfig::max_log_line_len`] (`dropped["payload_limit"]`).
    pub dropped: u64,
    /// Lines not over the limit whose attributes attach to no node
    /// (`unattached`, by reason).
    pub unattached: u64,
}

/// What [`Engine::ingest_payload`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    /// Observations parsed from the payload.
    pub observations: usize,
    /// Malformed records, each with its position.
    pub errors: Vec<String>,
    /// Records dropped by a limit.
    pub dropped: u64,
}

/// A stable key for a metric name inside the series store (FNV-1a of the
/// name, folded to 32 bits), so series keys survive library reloads.
fn metric_key(name: &str) -> u32 {
    let h = crate::library::fnv1a64(name.as_bytes());
    (h ^ (h >> 32)) as u32
}

/// `counter`, evicted to the latest evaluation first: what an eviction of
/// every counter at each evaluation would have left of it.
fn counter_at(counter: &mut BucketCounter, evicted_at: Option<i64>) -> &mut BucketCounter {
    if let Some(t) = evicted_at {
        counter.evict(t);
    }
    counter
}
