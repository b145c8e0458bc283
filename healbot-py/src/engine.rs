//! `Engine`: the core engine behind a mutex, usable from several Python
//! threads at once. Calls that can take time run with the GIL released.
//!
//! Lock order: the GIL, then the engine mutex. The mutex is never held
//! while the GIL is being acquired, so threads cannot deadlock: a call that
//! finds the mutex taken releases the GIL before it waits.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, TryLockError};

use healbot_core::engine::{
    EngineConfig, HostHealth, IngestReport as CoreIngestReport, SeriesHandle as CoreHandle, Unstored,
};
use healbot_core::telemetry::{split_lines, Labels, LogRecord, LogSeverity, PayloadFormat};
use healbot_core::{Engine as CoreEngine, Error, ErrorKind};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyMemoryView, PyString, PyTuple};

use crate::buffer::{Column, ColumnView};
use crate::convert::{at_ms, is_mapping, labels as to_labels, payload, to_json, to_python, AddressHasher};
use crate::convert::{LabelContents, Value};
use crate::errors::{err, guard, internal, to_py_err};
use crate::graph::{Library, Topology};
use crate::results::{Decision, Diagnosis, IngestReport, Shared};

/// Engine settings from a dict of `EngineConfig` fields (durations as
/// strings such as `"5m"`); unknown keys are rejected.
fn config_from(ob: Option<&Bound<'_, PyAny>>) -> PyResult<EngineConfig> {
    let Some(ob) = ob.filter(|o| !o.is_none()) else { return Ok(EngineConfig::default()) };
    if !is_mapping(ob) {
        return Err(PyTypeError::new_err("config: expected a dict (or other mapping) of engine settings or None"));
    }
    let value = to_json(ob)?;
    let known = serde_json::to_value(EngineConfig::default())
        .map_err(|e| err(ErrorKind::InvalidArgument, format!("config: {e}")))?;
    if let (serde_json::Value::Object(given), serde_json::Value::Object(known)) = (&value, &known) {
        for key in given.keys() {
            if !known.contains_key(key) {
                let mut msg = format!("config: unknown setting `{key}`");
                if let Some(s) = healbot_core::diagnostic::did_you_mean(key, known.keys().map(String::as_str)) {
                    msg.push_str(&format!("; did you mean `{s}`?"));
                }
                return Err(err(ErrorKind::InvalidArgument, msg));
            }
        }
    }
    serde_json::from_value(value.clone()).map_err(|e| {
        // Name the setting at fault: serde's message does not.
        let culprit = value.as_object().and_then(|map| {
            map.iter().find_map(|(k, v)| {
                let one = serde_json::Value::Object([(k.clone(), v.clone())].into_iter().collect());
                serde_json::from_value::<EngineConfig>(one).is_err().then_some(k.clone())
            })
        });
        match culprit {
            Some(key) => err(ErrorKind::InvalidArgument, format!("config: `{key}`: {e}")),
            None => err(ErrorKind::InvalidArgument, format!("config: {e}")),
        }
    })
}

/// The error of every call on an engine after a call panicked while it
/// held the engine's lock: the engine's state may be half-updated.
fn poisoned() -> PyErr {
    internal("the engine is unusable: an earlier call panicked inside it; create a new engine")
}

/// A decision engine for one topology shard: feed it telemetry, ask it what
/// to do. Thread-safe: calls from several threads are serialised on the
/// engine, and long calls release the GIL.
#[pyclass(frozen, module = "healbot._native")]
#[derive(Debug)]
pub struct Engine {
    /// The core engine, and the label sets `ingest_metric` converted lately
    /// (see [`LabelCache`]): one lock for both keeps the scalar call cheap.
    engine: Mutex<Inner>,
    library: Mutex<Py<Library>>,
    topology: Py<Topology>,
    /// Tells this engine's series handles from another's.
    serial: u64,
}

/// What the engine mutex guards.
#[derive(Debug)]
struct Inner {
    core: CoreEngine,
    labels: LabelCache,
}

/// Serial numbers of engines, for [`SeriesHandle`] checks.
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

/// A resolved series of one engine (a metric name and label set attached to
/// a node), for ingesting samples without converting names and labels again.
#[pyclass(frozen, module = "healbot._native")]
#[derive(Debug)]
pub struct SeriesHandle {
    handle: CoreHandle,
    serial: u64,
    name: String,
}

#[pymethods]
impl SeriesHandle {
    /// The metric name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }
    fn __repr__(&self) -> String {
        format!("<SeriesHandle {}>", self.name)
    }
}

/// Many resolved series of one engine, from `Engine.resolve_series_set`:
/// scrapes of the same series then cross into Rust as bare numeric columns.
#[pyclass(frozen, module = "healbot._native")]
pub struct SeriesSet {
    entries: Vec<Slot>,
    names: Vec<String>,
    labels: Vec<Labels>,
    /// Per position, the index into `names` and `labels` (empty: one for all).
    rows: (Vec<u32>, Vec<u32>),
    serial: u64,
}

impl std::fmt::Debug for SeriesSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeriesSet").field("len", &self.entries.len()).finish()
    }
}

impl SeriesSet {
    fn pair(&self, pos: usize) -> (Option<&String>, Option<&Labels>) {
        let n = self.rows.0.get(pos).copied().unwrap_or(0) as usize;
        let l = self.rows.1.get(pos).copied().unwrap_or(0) as usize;
        (self.names.get(n), self.labels.get(l))
    }
}

#[pymethods]
impl SeriesSet {
    /// How many series were resolved to a stored series (the others are
    /// not read by any signature or attach to no node; their samples are counted).
    #[getter]
    fn resolved(&self) -> usize {
        self.entries.iter().filter(|s| matches!(s, Slot::Resolved(Some(_)))).count()
    }
    fn __len__(&self) -> usize {
        self.entries.len()
    }
    fn __repr__(&self) -> String {
        format!("<SeriesSet {} series, {} stored>", self.entries.len(), self.resolved())
    }
}

impl Engine {
    fn wrap(engine: CoreEngine, library: Py<Library>, topology: Py<Topology>) -> Engine {
        Engine {
            engine: Mutex::new(Inner { core: engine, labels: LabelCache::default() }),
            library: Mutex::new(library),
            topology,
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
        }
    }

    fn handle(&self, h: &SeriesHandle) -> PyResult<CoreHandle> {
        if h.serial == self.serial {
            Ok(h.handle)
        } else {
            Err(err(ErrorKind::InvalidArgument, format!("series handle `{}` belongs to another engine", h.name)))
        }
    }

    /// Runs `f` on the engine: at once, with the GIL held, when the engine
    /// is free (the fast path for short calls); otherwise with the GIL
    /// released while waiting for it.
    fn run<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&mut CoreEngine) -> T + Send) -> PyResult<T> {
        match self.engine.try_lock() {
            Ok(mut guard) => Ok(f(&mut guard.core)),
            Err(TryLockError::WouldBlock) => self.run_detached(py, f),
            Err(TryLockError::Poisoned(_)) => Err(poisoned()),
        }
    }

    /// Runs `f` on the engine with the labels `labels` converts to: for a
    /// `small` call with the engine free, with the GIL held and the labels
    /// from the cache when a recent call passed the same key and value
    /// strings; otherwise as [`Engine::run`] (`small`) or
    /// [`Engine::run_detached`].
    #[inline]
    fn run_labelled<T: Send>(
        &self,
        py: Python<'_>,
        labels: Option<&Bound<'_, PyAny>>,
        small: bool,
        f: impl FnOnce(&mut CoreEngine, &Labels) -> T + Send,
    ) -> PyResult<T> {
        if let Some(dict) = labels.and_then(|l| l.cast::<PyDict>().ok()).filter(|_| small) {
            match self.engine.try_lock() {
                Ok(mut guard) => {
                    let Inner { core, labels: cache } = &mut *guard;
                    return Ok(f(core, cache.get(dict)?));
                }
                Err(TryLockError::Poisoned(_)) => return Err(poisoned()),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let labels = to_labels(labels, "labels")?;
        if small {
            self.run(py, |e| f(e, &labels))
        } else {
            self.run_detached(py, |e| f(e, &labels))
        }
    }

    /// Runs `f` on the engine with the GIL released (for calls that take time).
    fn run_detached<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&mut CoreEngine) -> T + Send) -> PyResult<T> {
        py.detach(|| match self.engine.lock() {
            Ok(mut guard) => Some(f(&mut guard.core)),
            Err(_) => None,
        })
        .ok_or_else(poisoned)
    }

    fn ingest_format(
        &self,
        py: Python<'_>,
        format: PayloadFormat,
        bytes: &[u8],
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<IngestReport> {
        let default_at = at_ms(at, "at")?;
        self.run_detached(py, |e| e.ingest_payload(format, bytes, default_at))?.map(IngestReport).map_err(to_py_err)
    }
}

/// One piece of text from Python, readable with the GIL released: a str's
/// UTF-8 or a bytes object's contents, borrowed; a bytearray's, copied.
enum Text {
    Str(PyBackedStr),
    Bytes(PyBackedBytes),
}

impl Text {
    fn from_python(ob: &Bound<'_, PyAny>) -> Option<PyResult<Text>> {
        if let Ok(s) = ob.cast::<PyString>() {
            return Some(s.clone().try_into().map(Text::Str));
        }
        if ob.is_instance_of::<PyBytes>() || ob.is_instance_of::<PyByteArray>() {
            return Some(ob.extract::<PyBackedBytes>().map(Text::Bytes).map_err(PyErr::from));
        }
        None
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Text::Str(s) => s.as_bytes(),
            Text::Bytes(b) => b,
        }
    }
}

/// Up to this many bytes of lines, `ingest_logs` keeps the GIL: matching
/// them takes about as long as releasing and taking back the GIL (some
/// microseconds), so releasing it would only slow the call down.
const SMALL_LOG_BATCH: usize = 4096;

/// The lines of `ingest_logs`: one blob to split, or one text per line.
enum LogLines {
    Blob(Text),
    Each(Vec<Text>),
}

impl LogLines {
    fn from_python(ob: &Bound<'_, PyAny>) -> PyResult<LogLines> {
        if let Some(text) = Text::from_python(ob) {
            return Ok(LogLines::Blob(text?));
        }
        if ob.is_instance_of::<PyMemoryView>() {
            let bytes = ob.call_method0("tobytes")?;
            return Ok(LogLines::Blob(Text::Bytes(bytes.extract::<PyBackedBytes>().map_err(PyErr::from)?)));
        }
        let items = ob.try_iter().map_err(|_| {
            PyTypeError::new_err(format!(
                "lines: expected str, bytes, bytearray, memoryview or a sequence of str or bytes, got {}",
                ob.get_type().name().map_or_else(|_| "?".to_string(), |n| n.to_string())
            ))
        })?;
        let mut out = Vec::with_capacity(ob.len().unwrap_or(0));
        for item in items {
            let item = item?;
            match Text::from_python(&item) {
                Some(text) => out.push(text?),
                None => {
                    return Err(PyTypeError::new_err(format!(
                        "lines: every line must be a str or bytes, got {}",
                        item.get_type().name().map_or_else(|_| "?".to_string(), |n| n.to_string())
                    )))
                }
            }
        }
        Ok(LogLines::Each(out))
    }

    /// The bytes of every line together.
    fn bytes(&self) -> usize {
        match self {
            LogLines::Blob(t) => t.bytes().len(),
            LogLines::Each(v) => v.iter().map(|t| t.bytes().len()).sum(),
        }
    }

    fn len(&self) -> usize {
        match self {
            LogLines::Blob(t) => split_lines(t.bytes()).count(),
            LogLines::Each(v) => v.len(),
        }
    }
}

/// Ingests `lines` of one source, line `i` at `times` row `i`: a line
/// whose time is out of range is counted in the report, not ingested.
fn ingest_lines<'l>(
    e: &mut CoreEngine,
    attributes: &Labels,
    severity: Option<LogSeverity>,
    times: &Times,
    lines: impl Iterator<Item = &'l [u8]>,
) -> CoreIngestReport {
    let (mut n, mut bad_time) = (0usize, 0u64);
    let timed = lines.enumerate().filter_map(|(i, line)| {
        n += 1;
        let at = times.get(i);
        bad_time += u64::from(at.is_none());
        Some((line, at?))
    });
    let done = e.ingest_log_lines(attributes, severity, timed);
    batch_report(n, done.dropped, bad_time, 0)
}

/// Per-row values of an argument that is either one value for every row or
/// a sequence of one value per row; rows that share a Python object share
/// the converted value, and so do rows whose label dicts hold the same
/// strings (see [`LabelContents`]).
struct PerRow<T> {
    values: Vec<T>,
    /// Index into `values` per row; empty when there is one value for all.
    rows: Vec<u32>,
}

impl PerRow<String> {
    /// Metric names: one `str` for every row, or one per item of `names`
    /// (which must have `n` items when `n` is given).
    fn names(names: &Bound<'_, PyAny>, n: Option<usize>) -> PyResult<PerRow<String>> {
        match names.cast::<PyString>() {
            Ok(s) => Ok(PerRow::one(s.to_cow()?.into_owned())),
            Err(_) => PerRow::many(names, n, "names", |o, _| Ok(Value::New(o.extract::<PyBackedStr>()?.to_string()))),
        }
    }
}

impl PerRow<Labels> {
    /// Label sets: none, one mapping for every row, or one per item of
    /// `labels` (which must have `n` items when `n` is given).
    fn labels(labels: Option<&Bound<'_, PyAny>>, n: Option<usize>) -> PyResult<PerRow<Labels>> {
        match labels {
            None => Ok(PerRow::one(Labels::new())),
            Some(l) if l.is_none() || is_mapping(l) => Ok(PerRow::one(to_labels(Some(l), "labels")?)),
            Some(l) => {
                // Rows whose distinct dicts hold equal labels (a target's
                // series, each with a dict of its own) share one label set.
                let mut seen = LabelContents::with_capacity(n.or_else(|| l.len().ok()).unwrap_or(0));
                PerRow::many(l, n, "labels", |o, made| match seen.labels(o, made.len())? {
                    Some(value) => Ok(value),
                    None => to_labels(Some(o), "labels").map(Value::New),
                })
            }
        }
    }
}

impl<T> PerRow<T> {
    fn one(value: T) -> PerRow<T> {
        PerRow { values: vec![value], rows: Vec::new() }
    }

    /// One value per item of `seq`, which must have `n` items when `n` is given.
    fn many<'py>(
        seq: &Bound<'py, PyAny>,
        n: Option<usize>,
        what: &str,
        mut convert: impl FnMut(&Bound<'py, PyAny>, &[T]) -> PyResult<Value<T>>,
    ) -> PyResult<PerRow<T>> {
        let rows = n.or_else(|| seq.len().ok()).unwrap_or(0);
        let mut seen: HashMap<usize, u32, BuildHasherDefault<AddressHasher>> =
            HashMap::with_capacity_and_hasher(rows, BuildHasherDefault::default());
        let mut out = PerRow { values: Vec::new(), rows: Vec::with_capacity(rows) };
        // Every distinct item stays alive until the loop ends: an item made
        // as it is read (a numpy str array's, a generator's) is freed once
        // dropped, and the next one made at its address must not pass for it.
        let mut alive: Vec<Bound<'_, PyAny>> = Vec::new();
        for item in seq.try_iter()? {
            let item = item?;
            let key = item.as_ptr() as usize;
            let idx = match seen.get(&key) {
                Some(&i) => i,
                None => {
                    let i = match convert(&item, &out.values)? {
                        Value::Same(i) => i,
                        Value::New(value) => {
                            let i = u32::try_from(out.values.len())
                                .map_err(|_| PyValueError::new_err(format!("{what}: too many distinct values")))?;
                            out.values.push(value);
                            i
                        }
                    };
                    seen.insert(key, i);
                    alive.push(item);
                    i
                }
            };
            out.rows.push(idx);
        }
        if let Some(n) = n.filter(|&n| n != out.rows.len()) {
            return Err(PyValueError::new_err(format!("{what}: {} items for {n} values", out.rows.len())));
        }
        Ok(out)
    }

    /// How many positions a sequence argument had (None for one value for all).
    fn positions(&self) -> Option<usize> {
        (!self.rows.is_empty() || self.values.is_empty()).then_some(self.rows.len())
    }

    #[inline]
    fn index(&self, row: usize) -> u32 {
        self.rows.get(row).copied().unwrap_or(0)
    }
}

/// Label dicts converted lately by `ingest_metric` and `ingest_logs`, keyed
/// by the identity of their key and value strings, in order. Python strings
/// are immutable and the cache holds references to them, so the same
/// objects in the same order always convert to the same labels: a hit skips
/// converting and allocating. Dicts of more than [`MAX_CACHED_PAIRS`] pairs
/// are not cached. It holds up to [`LABEL_CACHE_ENTRIES`] dicts' strings
/// (a few hundred kilobytes at most): enough for a host that loops over
/// every service of a fleet, building each one's dict anew every time.
#[derive(Default)]
struct LabelCache {
    entries: Vec<CachedLabels>,
    /// The entry of each address list.
    index: HashMap<Box<[usize]>, usize, BuildHasherDefault<AddressHasher>>,
    /// The entry a miss replaces next, round robin.
    next: usize,
    /// The entry hit last.
    last: usize,
    /// The labels of the last dict too large to cache.
    uncached: Labels,
}

struct CachedLabels {
    /// The key and value objects, kept alive so their addresses stay theirs.
    _keep_alive: Vec<Py<PyAny>>,
    /// Their addresses, pairwise in dict order.
    addresses: Vec<usize>,
    labels: Labels,
}

/// Writes the addresses of `dict`'s keys and values, pairwise in dict
/// order, into `out`; returns how many pairs, or None when it has more than
/// [`MAX_CACHED_PAIRS`].
fn dict_addresses(dict: &Bound<'_, PyDict>, out: &mut [usize; 2 * MAX_CACHED_PAIRS]) -> Option<usize> {
    let len = dict.len();
    if len > MAX_CACHED_PAIRS {
        return None;
    }
    let (mut pos, mut key, mut value) = (0, std::ptr::null_mut(), std::ptr::null_mut());
    for pair in out.chunks_exact_mut(2).take(len) {
        // SAFETY: `dict` is a live dict and we hold the GIL; nothing runs
        // Python code during the loop, so the dict cannot change. The
        // references are borrowed and only their addresses are kept.
        if unsafe { pyo3::ffi::PyDict_Next(dict.as_ptr(), &mut pos, &mut key, &mut value) } == 0 {
            return None;
        }
        pair[0] = key as usize;
        pair[1] = value as usize;
    }
    Some(len)
}

/// Whether two address lists are equal (inline: short lists, no `memcmp` call).
#[inline]
fn same(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(true, |eq, (x, y)| eq & (x == y))
}

/// Entries in a [`LabelCache`].
const LABEL_CACHE_ENTRIES: usize = 1024;
/// Label pairs a cached dict may have.
const MAX_CACHED_PAIRS: usize = 8;

impl LabelCache {
    /// The labels of `dict`, converted or from the cache.
    #[inline]
    fn get(&mut self, dict: &Bound<'_, PyDict>) -> PyResult<&Labels> {
        let mut addresses = [0usize; 2 * MAX_CACHED_PAIRS];
        let Some(len) = dict_addresses(dict, &mut addresses) else {
            self.uncached = to_labels(Some(dict.as_any()), "labels")?;
            return Ok(&self.uncached);
        };
        let key = &addresses[..2 * len];
        // The last hit first: a loop usually passes the same dict.
        let last = self.last;
        if self.entries.get(last).is_some_and(|e| same(&e.addresses, key)) {
            return Ok(&self.entries[last].labels);
        }
        match self.index.get(key) {
            Some(&i) => {
                self.last = i;
                Ok(&self.entries[i].labels)
            }
            None => self.insert(dict, key.to_vec()),
        }
    }

    fn insert(&mut self, dict: &Bound<'_, PyDict>, addresses: Vec<usize>) -> PyResult<&Labels> {
        let labels = to_labels(Some(dict.as_any()), "labels")?;
        let keep = dict.iter().flat_map(|(k, v)| [k.unbind(), v.unbind()]).collect();
        let entry = CachedLabels { _keep_alive: keep, addresses, labels };
        let slot = if self.entries.len() < LABEL_CACHE_ENTRIES {
            self.entries.push(entry);
            self.entries.len() - 1
        } else {
            let slot = self.next % LABEL_CACHE_ENTRIES;
            self.next = slot + 1;
            self.index.remove(&self.entries[slot].addresses[..]);
            self.entries[slot] = entry;
            slot
        };
        self.index.insert(self.entries[slot].addresses.clone().into_boxed_slice(), slot);
        self.last = slot;
        Ok(&self.entries[slot].labels)
    }
}

impl std::fmt::Debug for LabelCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabelCache").field("entries", &self.entries.len()).finish()
    }
}

/// The series of a batch, resolved once per distinct (name, labels) pair.
struct Batch<'a> {
    names: &'a PerRow<String>,
    labels: &'a PerRow<Labels>,
    /// By (name, labels): unresolved, resolved (None when not read or not
    /// attached), or rejected by the series limit.
    slots: Slots,
    limited: u64,
    bad_time: u64,
    bad_code: u64,
}

/// A table of slots: dense while names × labels is small, else hashed.
enum Slots {
    Dense(Vec<Slot>, usize),
    Sparse(std::collections::HashMap<(u32, u32), Slot>),
}

/// The most pairs a dense slot table holds.
const MAX_DENSE_SLOTS: usize = 1 << 20;

impl Slots {
    #[inline]
    fn get(&self, name: u32, label: u32) -> Slot {
        match self {
            Slots::Dense(v, width) => {
                v.get(name as usize * *width + label as usize).copied().unwrap_or(Slot::Unresolved)
            }
            Slots::Sparse(m) => m.get(&(name, label)).copied().unwrap_or(Slot::Unresolved),
        }
    }

    fn set(&mut self, name: u32, label: u32, slot: Slot) {
        match self {
            Slots::Dense(v, width) => {
                if let Some(s) = v.get_mut(name as usize * *width + label as usize) {
                    *s = slot;
                }
            }
            Slots::Sparse(m) => {
                m.insert((name, label), slot);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Slot {
    Unresolved,
    Resolved(Option<CoreHandle>),
    /// Not stored (not read, or attached to no node): samples are counted.
    Unstored(Unstored),
    Limited,
}

impl<'a> Batch<'a> {
    fn new(names: &'a PerRow<String>, labels: &'a PerRow<Labels>) -> Batch<'a> {
        let (a, b) = (names.values.len(), labels.values.len());
        let slots = match a.checked_mul(b).filter(|&p| p <= MAX_DENSE_SLOTS) {
            Some(p) => Slots::Dense(vec![Slot::Unresolved; p], b),
            None => Slots::Sparse(std::collections::HashMap::new()),
        };
        Batch { names, labels, slots, limited: 0, bad_time: 0, bad_code: 0 }
    }

    /// The slot of (name, labels), resolving it on first use.
    fn resolve(&mut self, e: &mut CoreEngine, name: u32, label: u32) -> Slot {
        match self.slots.get(name, label) {
            Slot::Unresolved => {}
            known => return known,
        }
        let (Some(n), Some(l)) = (self.names.values.get(name as usize), self.labels.values.get(label as usize)) else {
            return Slot::Resolved(None);
        };
        // `resolve_series` counts what it rejects.
        let resolved = match e.resolve_series(n, l) {
            Ok(None) => e.unstored(n, l).map_or(Slot::Resolved(None), Slot::Unstored),
            Ok(h) => Slot::Resolved(h),
            Err(_) => Slot::Limited,
        };
        self.slots.set(name, label, resolved);
        resolved
    }

    #[inline]
    fn push(&mut self, e: &mut CoreEngine, name: u32, label: u32, value: f64, at: i64) {
        let (Some(n), Some(l)) = (self.names.values.get(name as usize), self.labels.values.get(label as usize)) else {
            return;
        };
        let unresolved = matches!(self.slots.get(name, label), Slot::Unresolved);
        match self.resolve(e, name, label) {
            Slot::Resolved(Some(h)) => e.ingest_by_handle(h, value, at),
            // Not read or not attached: the engine counts each sample
            // (`resolve_series` counted the one that resolved it), one by
            // one if a reload has made it stored since.
            Slot::Unstored(token) if !unresolved && !e.count_unstored(token, 1) => {
                let _ = e.ingest_metric(n, l, value, at);
            }
            Slot::Resolved(None) if !unresolved => {
                let _ = e.ingest_metric(n, l, value, at);
            }
            Slot::Limited => self.limited += 1,
            _ => {}
        }
    }

    fn report(&self, n: usize) -> CoreIngestReport {
        batch_report(n, self.limited, self.bad_time, self.bad_code)
    }
}

/// What a batch did: rows given, rows dropped and why.
fn batch_report(n: usize, limited: u64, bad_time: u64, bad_code: u64) -> CoreIngestReport {
    let mut errors = Vec::new();
    if bad_time > 0 {
        errors.push(format!("{bad_time} samples had a timestamp out of range"));
    }
    if bad_code > 0 {
        errors.push(format!("{bad_code} samples had a series code out of range"));
    }
    CoreIngestReport { observations: n, errors, dropped: limited + bad_time + bad_code }
}

/// The numeric columns of a batch, held open (their memory stays valid)
/// until dropped, which must happen with the GIL (it does: after the
/// detached part of the call returns).
struct Columns {
    values: Column,
    times: Option<Column>,
    one_time: i64,
    codes: Option<Column>,
}

impl Columns {
    fn open(
        values: &Bound<'_, PyAny>,
        timestamps: Option<&Bound<'_, PyAny>>,
        codes: Option<&Bound<'_, PyAny>>,
        codes_name: &str,
    ) -> PyResult<Columns> {
        let values = Column::open(values, "values")?;
        let n = values.view().len();
        let check_len = |c: &Column, what: &str| {
            if c.view().len() == n {
                Ok(())
            } else {
                Err(PyValueError::new_err(format!("{what}: {} items for {n} values", c.view().len())))
            }
        };
        let (times, one_time) = match timestamps {
            Some(t) if !t.is_none() && !is_scalar_time(t) => {
                let c = Column::open(t, "timestamps")?;
                check_len(&c, "timestamps")?;
                (Some(c), 0)
            }
            _ => (None, at_ms(timestamps, "timestamps")?),
        };
        let codes = match codes {
            Some(s) if !s.is_none() => {
                let c = Column::open(s, codes_name)?;
                check_len(&c, codes_name)?;
                if c.view().elem().is_float() {
                    return Err(PyTypeError::new_err(format!("{codes_name}: expected an integer column")));
                }
                Some(c)
            }
            _ => None,
        };
        Ok(Columns { values, times, one_time, codes })
    }

    fn len(&self) -> usize {
        self.values.view().len()
    }

    fn times(&self) -> Times {
        match &self.times {
            Some(c) => Times::Column(c.view()),
            None => Times::One(self.one_time),
        }
    }

    fn codes(&self) -> Option<ColumnView> {
        self.codes.as_ref().map(Column::view)
    }
}

/// The series code of a row: the row itself, or its entry in `codes`
/// (None when out of `0..kinds`).
#[inline]
fn position(codes: Option<ColumnView>, row: usize, kinds: usize) -> Option<usize> {
    match codes {
        None => Some(row),
        Some(c) => c.i64(row).and_then(|v| usize::try_from(v).ok()).filter(|&v| v < kinds),
    }
}

/// Timestamps of a batch: one for all rows, or a numeric column (floats are
/// epoch seconds, integers Unix milliseconds).
enum Times {
    One(i64),
    Column(ColumnView),
}

impl Times {
    #[inline]
    fn get(&self, row: usize) -> Option<i64> {
        match self {
            Times::One(t) => Some(*t),
            Times::Column(c) if c.elem().is_float() => {
                let ms = (c.f64(row) * 1000.0).round();
                (ms.is_finite() && ms.abs() < 9.2e18).then_some(ms as i64)
            }
            Times::Column(c) => c.i64(row),
        }
    }
}

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (library, topology, config = None))]
    fn new(
        py: Python<'_>,
        library: Bound<'_, Library>,
        topology: Bound<'_, Topology>,
        config: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Engine> {
        guard(|| {
            let config = config_from(config)?;
            let (lib, topo) = (library.get().inner.clone(), topology.get().inner.clone());
            let engine = py.detach(|| CoreEngine::new(lib, topo, config)).map_err(to_py_err)?;
            Ok(Engine::wrap(engine, library.unbind(), topology.unbind()))
        })
    }

    /// An engine with the state of a snapshot taken by `snapshot()`.
    #[staticmethod]
    #[pyo3(
        signature = (library, topology, snapshot, config = None),
        text_signature = "(library, topology, snapshot, config=None)"
    )]
    fn restore(
        py: Python<'_>,
        library: Bound<'_, Library>,
        topology: Bound<'_, Topology>,
        snapshot: &[u8],
        config: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Engine> {
        guard(|| {
            let config = config_from(config)?;
            let (lib, topo) = (library.get().inner.clone(), topology.get().inner.clone());
            let engine = py.detach(|| CoreEngine::restore(lib, topo, config, snapshot)).map_err(to_py_err)?;
            Ok(Engine::wrap(engine, library.unbind(), topology.unbind()))
        })
    }

    /// The engine's state (windows, alerts, counters, ledger, posteriors) as bytes.
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| {
            let bytes = self.run_detached(py, |e| e.snapshot())?;
            Ok(PyBytes::new(py, &bytes))
        })
    }

    /// Pickles through a snapshot: `(library, topology, config, snapshot)`.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        guard(|| {
            let rebuild = py.import("healbot._native")?.getattr("_engine_from_state")?;
            // The snapshot and the library object are read under different
            // locks (taking a reference needs the interpreter, which the
            // engine's lock is not held with): a reload between the two would
            // pair a snapshot with a library that cannot restore it, so read
            // again until they agree.
            for _ in 0..64 {
                let (bytes, config, revision) =
                    self.run_detached(py, |e| (e.snapshot(), e.config().clone(), e.library().revision().to_string()))?;
                let library = self.library(py)?;
                if library.get().inner.revision() == revision {
                    let args = (library, self.topology(py), to_python(py, &config)?, PyBytes::new(py, &bytes));
                    return Ok((rebuild, args.into_pyobject(py)?));
                }
            }
            Err(err(ErrorKind::Snapshot, "the library was reloaded on every attempt to pickle the engine"))
        })
    }

    /// Replaces the library; the new one is compiled fully first and the
    /// old one kept on error.
    fn reload_library(&self, py: Python<'_>, library: Bound<'_, Library>) -> PyResult<()> {
        guard(|| {
            let lib = library.get().inner.clone();
            let (new, slot) = (library.unbind(), &self.library);
            self.run_detached(py, move |e| {
                e.reload_library(lib)?;
                // Under the engine's lock, so that reloads racing from several
                // threads leave `library` naming the one the engine runs.
                // Moving a reference needs no interpreter; the old one is
                // released when Python next runs here.
                *slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = new;
                Ok(())
            })?
            .map_err(to_py_err)
        })
    }

    /// Evaluates every signature at `at` (None: now) and decides what to do.
    #[pyo3(signature = (at = None))]
    fn evaluate<'py>(&self, py: Python<'py>, at: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            let at = at_ms(at, "at")?;
            let decisions = self.run_detached(py, |e| e.evaluate(at))?;
            let mut shared = Shared::default();
            let objects =
                decisions.into_iter().map(|d| Decision::wrap(py, d, &mut shared)).collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, objects)
        })
    }

    /// Records that the host executed an action for a decision. Returns
    /// False when this decision's execution was already recorded.
    #[pyo3(signature = (decision, action = None, target = None, at = None, unattended = true))]
    fn record_execution(
        &self,
        py: Python<'_>,
        decision: &Bound<'_, PyAny>,
        action: Option<String>,
        target: Option<String>,
        at: Option<&Bound<'_, PyAny>>,
        unattended: bool,
    ) -> PyResult<bool> {
        guard(|| {
            let (id, chosen) = decision_arg(decision)?;
            let missing = |what: &str| {
                err(
                    ErrorKind::InvalidArgument,
                    format!("{what}: required unless `decision` is a Decision with a chosen action"),
                )
            };
            let action = action.or_else(|| chosen.as_ref().map(|c| c.0.clone())).ok_or_else(|| missing("action"))?;
            let target = target.or_else(|| chosen.as_ref().map(|c| c.1.clone())).ok_or_else(|| missing("target"))?;
            let at = at_ms(at, "at")?;
            self.run(py, |e| e.record_execution(&id, &action, &target, at, unattended))?.map_err(to_py_err)
        })
    }

    /// Records the outcome of an executed decision. Returns False when it
    /// was already recorded.
    #[pyo3(signature = (decision, success, at = None))]
    fn record_outcome(
        &self,
        py: Python<'_>,
        decision: &Bound<'_, PyAny>,
        success: bool,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        guard(|| {
            let (id, _) = decision_arg(decision)?;
            let at = at_ms(at, "at")?;
            self.run(py, |e| e.record_outcome(&id, success, at))?.map_err(to_py_err)
        })
    }

    /// Resolves the series of `name` with `labels`, for repeated ingestion.
    /// None when no signature reads the metric or the labels attach to no
    /// node (both counted in `stats()`).
    #[pyo3(signature = (name, labels = None))]
    fn resolve_series(
        &self,
        py: Python<'_>,
        name: String,
        labels: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<SeriesHandle>> {
        guard(|| {
            let labels = to_labels(labels, "labels")?;
            let handle = self.run(py, |e| e.resolve_series(&name, &labels))?.map_err(to_py_err)?;
            Ok(handle.map(|handle| SeriesHandle { handle, serial: self.serial, name }))
        })
    }

    /// Ingests one sample into a resolved series.
    #[pyo3(signature = (series, value, at = None))]
    fn ingest_series(
        &self,
        py: Python<'_>,
        series: &Bound<'_, SeriesHandle>,
        value: f64,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        guard(|| {
            let handle = self.handle(series.get())?;
            let at = at_ms(at, "at")?;
            self.run(py, |e| e.ingest_by_handle(handle, value, at))
        })
    }

    /// Resolves many series at once (one per position of `names` and
    /// `labels`), for ingesting scrapes as bare numeric columns.
    #[pyo3(signature = (names, labels = None))]
    fn resolve_series_set(
        &self,
        py: Python<'_>,
        names: &Bound<'_, PyAny>,
        labels: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<SeriesSet> {
        guard(|| {
            let names = PerRow::names(names, None)?;
            let labels = PerRow::labels(labels, None)?;
            let len = match (names.positions(), labels.positions()) {
                (Some(a), Some(b)) if a != b => {
                    return Err(PyValueError::new_err(format!("names and labels: {a} and {b} items")));
                }
                (a, b) => a.or(b).unwrap_or(1),
            };
            let entries = self.run_detached(py, |e| {
                let mut batch = Batch::new(&names, &labels);
                (0..len).map(|pos| batch.resolve(e, names.index(pos), labels.index(pos))).collect::<Vec<_>>()
            })?;
            let limited = entries.iter().filter(|s| matches!(s, Slot::Limited)).count();
            if limited > 0 {
                return Err(err(
                    ErrorKind::Limit,
                    format!("the series limit rejected {limited} of {len} series; the others were resolved"),
                ));
            }
            Ok(SeriesSet {
                entries,
                names: names.values,
                labels: labels.values,
                rows: (names.rows, labels.rows),
                serial: self.serial,
            })
        })
    }

    /// Ingests numeric columns into a resolved series set: row `i` goes to
    /// series `codes[i]`, or to series `i` when `codes` is None (one scrape).
    #[pyo3(signature = (series, values, timestamps = None, codes = None))]
    fn ingest_series_set(
        &self,
        py: Python<'_>,
        series: &Bound<'_, SeriesSet>,
        values: &Bound<'_, PyAny>,
        timestamps: Option<&Bound<'_, PyAny>>,
        codes: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<IngestReport> {
        guard(|| {
            let set = series.get();
            if set.serial != self.serial {
                return Err(err(ErrorKind::InvalidArgument, "the series set belongs to another engine"));
            }
            let columns = Columns::open(values, timestamps, codes, "codes")?;
            let (n, view, times, codes) = (columns.len(), columns.values.view(), columns.times(), columns.codes());
            if codes.is_none() && n != set.entries.len() {
                return Err(PyValueError::new_err(format!(
                    "values: {n} items for a set of {} series (pass codes to map rows to series)",
                    set.entries.len()
                )));
            }
            let kinds = set.entries.len();
            let report = self.run_detached(py, |e| {
                let (mut bad_time, mut bad_code) = (0u64, 0u64);
                // Samples of the series not stored (not read, or attached to no
                // node), by reason: counted with one call per reason.
                let mut unstored: Vec<(Unstored, u64)> = Vec::new();
                for row in 0..n {
                    let Some(at) = times.get(row) else {
                        bad_time += 1;
                        continue;
                    };
                    let Some(pos) = position(codes, row, kinds) else {
                        bad_code += 1;
                        continue;
                    };
                    match set.entries.get(pos) {
                        Some(Slot::Resolved(Some(h))) => e.ingest_by_handle(*h, view.f64(row), at),
                        Some(Slot::Unstored(token)) => match unstored.iter_mut().find(|(t, _)| t == token) {
                            Some((_, count)) => *count += 1,
                            None => unstored.push((*token, 1)),
                        },
                        Some(Slot::Resolved(None)) => {
                            if let (Some(name), Some(l)) = set.pair(pos) {
                                let _ = e.ingest_metric(name, l, view.f64(row), at);
                            }
                        }
                        _ => {}
                    }
                }
                // A reload since the set was resolved may have made some of
                // them stored: those are ingested one by one, in row order.
                let stale: Vec<Unstored> =
                    unstored.into_iter().filter(|&(t, count)| !e.count_unstored(t, count)).map(|(t, _)| t).collect();
                if !stale.is_empty() {
                    for row in 0..n {
                        let (Some(at), Some(pos)) = (times.get(row), position(codes, row, kinds)) else { continue };
                        if let Some(Slot::Unstored(token)) = set.entries.get(pos) {
                            if let (true, (Some(name), Some(l))) = (stale.contains(token), set.pair(pos)) {
                                let _ = e.ingest_metric(name, l, view.f64(row), at);
                            }
                        }
                    }
                }
                batch_report(n, 0, bad_time, bad_code)
            })?;
            drop(columns);
            Ok(IngestReport(report))
        })
    }

    /// The library in use.
    #[getter]
    fn library(&self, py: Python<'_>) -> PyResult<Py<Library>> {
        guard(|| {
            let guard = self.library.lock().map_err(|_| poisoned())?;
            Ok(guard.clone_ref(py))
        })
    }

    /// The topology in use.
    #[getter]
    fn topology(&self, py: Python<'_>) -> Py<Topology> {
        self.topology.clone_ref(py)
    }

    /// The engine settings, as a dict.
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let config = self.run(py, |e| e.config().clone())?;
            to_python(py, &config)
        })
    }

    /// Ingests one metric sample.
    #[pyo3(signature = (name, value, labels = None, at = None))]
    fn ingest_metric(
        &self,
        py: Python<'_>,
        name: PyBackedStr,
        value: f64,
        labels: Option<&Bound<'_, PyAny>>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        guard(|| {
            let at = at_ms(at, "at")?;
            self.run_labelled(py, labels, true, |e, labels| e.ingest_metric(&name, labels, value, at))?
                .map_err(to_py_err)
        })
    }

    /// Ingests a batch of samples given as columns, reading the numeric
    /// columns in place (no copy).
    #[pyo3(signature = (names, values, timestamps = None, labels = None, series = None))]
    fn ingest_metrics(
        &self,
        py: Python<'_>,
        names: &Bound<'_, PyAny>,
        values: &Bound<'_, PyAny>,
        timestamps: Option<&Bound<'_, PyAny>>,
        labels: Option<&Bound<'_, PyAny>>,
        series: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<IngestReport> {
        guard(|| {
            let columns = Columns::open(values, timestamps, series, "series")?;
            let (n, view, times, codes) = (columns.len(), columns.values.view(), columns.times(), columns.codes());
            // Per row, or per series code when `series` is given.
            let items = if codes.is_some() { None } else { Some(n) };
            let names = PerRow::names(names, items)?;
            let labels = PerRow::labels(labels, items)?;
            let kinds = match (names.positions(), labels.positions()) {
                (Some(a), Some(b)) if a != b => {
                    return Err(PyValueError::new_err(format!(
                        "names and labels: {a} and {b} items for the same series"
                    )))
                }
                (a, b) => a.or(b).unwrap_or(1),
            };
            let report = self.run_detached(py, |e| {
                let mut batch = Batch::new(&names, &labels);
                for row in 0..n {
                    let Some(at) = times.get(row) else {
                        batch.bad_time += 1;
                        continue;
                    };
                    let Some(pos) = position(codes, row, kinds) else {
                        batch.bad_code += 1;
                        continue;
                    };
                    batch.push(e, names.index(pos), labels.index(pos), view.f64(row), at);
                }
                batch.report(n)
            })?;
            drop(columns);
            Ok(IngestReport(report))
        })
    }

    /// Ingests one log record: every log pattern of the library is matched
    /// in one pass; the line itself is not kept.
    #[pyo3(signature = (body, labels = None, at = None, severity = None))]
    fn ingest_log(
        &self,
        py: Python<'_>,
        body: String,
        labels: Option<&Bound<'_, PyAny>>,
        at: Option<&Bound<'_, PyAny>>,
        severity: Option<&str>,
    ) -> PyResult<()> {
        guard(|| {
            let severity = severity
                .map(|s| s.parse::<LogSeverity>().map_err(|m| to_py_err(Error::new(ErrorKind::InvalidArgument, m))))
                .transpose()?;
            let record = LogRecord { body, attributes: to_labels(labels, "labels")?, severity, at: at_ms(at, "at")? };
            self.run(py, |e| e.ingest_log(&record))
        })
    }

    /// Ingests many log lines of one source in one call, with the GIL
    /// released unless they are a few KiB at most: `lines` is a blob of newline-separated lines (str, bytes,
    /// bytearray or memoryview; a final newline ends the last line, `\r\n`
    /// endings lose the `\r`) or a sequence of lines (str or bytes). Every
    /// line gets `labels`, `severity` and `at` (one time, or a numeric
    /// column of one time per line). Bytes that are not UTF-8 are replaced.
    #[pyo3(signature = (lines, labels = None, at = None, severity = None))]
    fn ingest_logs(
        &self,
        py: Python<'_>,
        lines: &Bound<'_, PyAny>,
        labels: Option<&Bound<'_, PyAny>>,
        at: Option<&Bound<'_, PyAny>>,
        severity: Option<&str>,
    ) -> PyResult<IngestReport> {
        guard(|| {
            let severity = severity
                .map(|s| s.parse::<LogSeverity>().map_err(|m| to_py_err(Error::new(ErrorKind::InvalidArgument, m))))
                .transpose()?;
            let lines = LogLines::from_python(lines)?;
            let (column, one_time) = match at {
                Some(t) if !t.is_none() && !is_scalar_time(t) => {
                    let c = Column::open(t, "at")?;
                    let n = lines.len();
                    if c.view().len() != n {
                        return Err(PyValueError::new_err(format!("at: {} times for {n} lines", c.view().len())));
                    }
                    (Some(c), 0)
                }
                _ => (None, at_ms(at, "at")?),
            };
            let times = column.as_ref().map_or(Times::One(one_time), |c| Times::Column(c.view()));
            let ingest = |e: &mut CoreEngine, attributes: &Labels| match (&lines, &times) {
                (LogLines::Blob(t), Times::One(at)) => {
                    let done = e.ingest_log_text(attributes, severity, t.bytes(), *at);
                    batch_report(usize::try_from(done.lines).unwrap_or(usize::MAX), done.dropped, 0, 0)
                }
                (LogLines::Blob(t), _) => ingest_lines(e, attributes, severity, &times, split_lines(t.bytes())),
                (LogLines::Each(v), _) => ingest_lines(e, attributes, severity, &times, v.iter().map(Text::bytes)),
            };
            // A small batch takes about as long as releasing the GIL would.
            let report = self.run_labelled(py, labels, lines.bytes() <= SMALL_LOG_BATCH, ingest)?;
            drop(column);
            Ok(IngestReport(report))
        })
    }

    /// Ingests an Alertmanager webhook payload (dict, str or bytes).
    fn ingest_alertmanager(&self, py: Python<'_>, payload: &Bound<'_, PyAny>) -> PyResult<IngestReport> {
        guard(|| {
            let bytes = payload_arg(payload, true)?;
            self.ingest_format(py, PayloadFormat::Alertmanager, &bytes, None)
        })
    }

    /// Ingests Prometheus text exposition; samples without a timestamp get `at`.
    #[pyo3(signature = (text, at = None))]
    fn ingest_prometheus_text(
        &self,
        py: Python<'_>,
        text: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<IngestReport> {
        guard(|| {
            let bytes = payload_arg(text, false)?;
            self.ingest_format(py, PayloadFormat::PrometheusText, &bytes, at)
        })
    }

    /// Ingests OTLP/JSON logs or metrics.
    #[pyo3(signature = (payload, signal = None))]
    fn ingest_otlp_json(
        &self,
        py: Python<'_>,
        payload: &Bound<'_, PyAny>,
        signal: Option<&str>,
    ) -> PyResult<IngestReport> {
        guard(|| {
            let bytes = payload_arg(payload, true)?;
            let format = match signal {
                Some("logs") => PayloadFormat::OtlpLogs,
                Some("metrics") => PayloadFormat::OtlpMetrics,
                Some(other) => {
                    return Err(err(
                        ErrorKind::InvalidArgument,
                        format!("signal: expected \"logs\", \"metrics\" or None, got {other:?}"),
                    ))
                }
                None => {
                    let has = |key: &[u8]| bytes.windows(key.len()).any(|w| w == key);
                    match (has(b"\"resourceLogs\""), has(b"\"resourceMetrics\"")) {
                        (true, false) => PayloadFormat::OtlpLogs,
                        (false, true) => PayloadFormat::OtlpMetrics,
                        _ => {
                            return Err(err(
                                ErrorKind::Telemetry,
                                "OTLP payload: cannot tell logs from metrics (expected one of `resourceLogs` or \
                                 `resourceMetrics`); pass signal=\"logs\" or signal=\"metrics\"",
                            ))
                        }
                    }
                }
            };
            self.ingest_format(py, format, &bytes, None)
        })
    }

    /// Ingests Kubernetes Events (an EventList, a list or one event).
    fn ingest_k8s_events(&self, py: Python<'_>, payload: &Bound<'_, PyAny>) -> PyResult<IngestReport> {
        guard(|| {
            let bytes = payload_arg(payload, true)?;
            self.ingest_format(py, PayloadFormat::K8sEvents, &bytes, None)
        })
    }

    /// Ingests PagerDuty Events API v2 events; events without a timestamp get `at`.
    #[pyo3(signature = (payload, at = None))]
    fn ingest_pagerduty(
        &self,
        py: Python<'_>,
        payload: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<IngestReport> {
        guard(|| {
            let bytes = payload_arg(payload, true)?;
            self.ingest_format(py, PayloadFormat::PagerDuty, &bytes, at)
        })
    }

    /// Ingests HealBot's newline-delimited JSON observations.
    fn ingest_ndjson(&self, py: Python<'_>, payload: &Bound<'_, PyAny>) -> PyResult<IngestReport> {
        guard(|| {
            let bytes = payload_arg(payload, false)?;
            self.ingest_format(py, PayloadFormat::Ndjson, &bytes, None)
        })
    }

    /// Ingests a payload in a format named at run time (`alertmanager`,
    /// `prometheus_text`, `otlp_logs`, `otlp_metrics`, `k8s_events`,
    /// `pagerduty`, `ndjson`).
    #[pyo3(signature = (format, payload, at = None))]
    fn ingest_payload(
        &self,
        py: Python<'_>,
        format: &str,
        payload: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<IngestReport> {
        guard(|| {
            let format: PayloadFormat = format.parse().map_err(to_py_err)?;
            let bytes = payload_arg(payload, true)?;
            self.ingest_format(py, format, &bytes, at)
        })
    }

    /// Sets (or with None clears) the host's view of a node's health.
    #[pyo3(signature = (node, health))]
    fn set_node_health(&self, py: Python<'_>, node: &str, health: Option<&str>) -> PyResult<()> {
        guard(|| {
            let health = match health {
                None => None,
                Some("healthy") => Some(HostHealth::Healthy),
                Some("unhealthy") => Some(HostHealth::Unhealthy),
                Some(other) => {
                    return Err(err(
                        ErrorKind::InvalidArgument,
                        format!("health: expected \"healthy\", \"unhealthy\" or None, got {other:?}"),
                    ))
                }
            };
            self.run(py, |e| e.set_node_health(node, health))?.map_err(|e| {
                // An unknown node is a topology question.
                if e.kind() == ErrorKind::InvalidArgument {
                    to_py_err(Error::new(ErrorKind::Topology, e.message()))
                } else {
                    to_py_err(e)
                }
            })
        })
    }

    /// Every signature matched at `at` (None: now), without decisions.
    #[pyo3(signature = (at = None))]
    fn diagnose(&self, py: Python<'_>, at: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Diagnosis>> {
        guard(|| {
            let at = at_ms(at, "at")?;
            let evaluation = self.run_detached(py, |e| e.diagnose(at))?;
            Ok(evaluation.diagnoses.into_iter().map(Diagnosis::new).collect())
        })
    }

    /// Counters: ingested by kind, unattached and dropped by reason, live
    /// series, firing alerts, exceptions, evaluations.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let stats = self.run(py, |e| e.stats())?;
            to_python(py, &stats)
        })
    }

    /// Test support only, never call it: panics while holding the engine's
    /// lock, as a bug in the core would. The call raises `InternalError`, and
    /// so does every later call on the engine (its lock is poisoned). The
    /// tests use it to check the panic boundary (`errors::guard`).
    fn _test_panic(&self, py: Python<'_>) -> PyResult<()> {
        guard(|| {
            self.run(py, |_| {
                // The deliberate panic of this test hook.
                #[allow(clippy::panic)]
                {
                    panic!("Engine._test_panic was called")
                }
            })
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        guard(|| {
            let topo = self.topology.bind(py).get().inner.len();
            Ok(format!("<Engine nodes={topo}>"))
        })
    }
}

/// A decision argument: a `Decision` (its id and chosen action and
/// target) or a decision id.
type DecisionArg = (String, Option<(String, String)>);

fn decision_arg(ob: &Bound<'_, PyAny>) -> PyResult<DecisionArg> {
    if let Ok(d) = ob.cast::<Decision>() {
        let d = d.get().v();
        return Ok((d.id.clone(), d.action.as_ref().map(|a| (a.id.clone(), a.target.clone()))));
    }
    ob.extract::<String>()
        .map(|id| (id, None))
        .map_err(|_| PyTypeError::new_err("decision: expected a Decision or a decision id (str)"))
}

/// Rebuilds a pickled `Engine` from its snapshot.
#[pyfunction]
pub fn _engine_from_state(
    py: Python<'_>,
    library: Bound<'_, Library>,
    topology: Bound<'_, Topology>,
    config: &Bound<'_, PyAny>,
    snapshot: &[u8],
) -> PyResult<Engine> {
    Engine::restore(py, library, topology, snapshot, Some(config))
}

/// Benchmark support (benches/python): calls the core's `ingest_metric` `n`
/// times with the same converted arguments (`at` advancing 1 ms per call),
/// with the GIL released, so a benchmark can time the Rust call alone and
/// compare it with the same call made from Python.
#[pyfunction]
#[pyo3(signature = (engine, name, value, labels, at, n))]
pub fn _core_ingest_metric_loop(
    py: Python<'_>,
    engine: &Bound<'_, Engine>,
    name: String,
    value: f64,
    labels: Option<&Bound<'_, PyAny>>,
    at: Option<&Bound<'_, PyAny>>,
    n: u64,
) -> PyResult<u64> {
    let labels = to_labels(labels, "labels")?;
    let at = at_ms(at, "at")?;
    guard(|| {
        engine.get().run_detached(py, |e| {
            let mut failed = 0;
            for i in 0..n {
                let t = at.saturating_add(i64::try_from(i).unwrap_or(i64::MAX));
                if e.ingest_metric(std::hint::black_box(&name), &labels, value, t).is_err() {
                    failed += 1;
                }
            }
            failed
        })
    })
}

/// Whether a timestamps argument is one time for every row rather than a column.
fn is_scalar_time(t: &Bound<'_, PyAny>) -> bool {
    use pyo3::types::{PyFloat, PyInt};
    t.is_instance_of::<PyFloat>() || t.is_instance_of::<PyInt>() || t.hasattr("utcoffset").unwrap_or(false)
}

fn payload_arg<'a>(ob: &'a Bound<'_, PyAny>, json: bool) -> PyResult<std::borrow::Cow<'a, [u8]>> {
    payload(ob, json)
}
