//! The engine handle: ingestion, health, stats.

use std::ffi::c_char;
use std::sync::{Mutex, MutexGuard};

use healbot_core::engine::{HostHealth, SeriesHandle};
use healbot_core::telemetry::{Labels, PayloadFormat};
use healbot_core::{Engine, EngineConfig};

use crate::boundary::{
    self, array, bytes, free, handle, json_buffer, labels_arg, run, run_new, run_opt_out, run_out, string, Failure,
};
use crate::buffer::healbot_buffer;
use crate::document::{healbot_library, healbot_topology, library, topology};
use crate::error::{healbot_error, healbot_result};

/// A decision engine for one topology shard: windows, alerts, counters,
/// ledger and posteriors.
///
/// Thread-safe: every call on an engine takes its internal lock, so
/// threads may share one engine and their calls are serialised. Calls on
/// different engines run in parallel. Owned by the caller until
/// `healbot_engine_free`, which must not race with any other call on the
/// same engine. After a panic inside a call the engine answers
/// `HEALBOT_RESULT_PANIC` to every call; free it.
#[derive(Debug)]
pub struct healbot_engine {
    inner: Mutex<Engine>,
}

/// The C number of a core series handle: its bits plus one, so that 0
/// stays "no series". Nothing is remembered per handle, so a host whose
/// series come and go holds no memory for the handles it was given.
/// (Bits of `u64::MAX` would need 2^32 series slots; they would read as 0.)
fn series_number(h: SeriesHandle) -> u64 {
    h.to_bits().wrapping_add(1)
}

/// The core series handle of a C number; `None` for 0.
fn series_handle(engine: &Engine, n: u64) -> Result<Option<SeriesHandle>, Failure> {
    let Some(bits) = n.checked_sub(1) else { return Ok(None) };
    let h = SeriesHandle::from_bits(bits);
    if !engine.issued(h) {
        return Err(Failure::invalid(format!("series handle {n} was not issued by this engine")));
    }
    Ok(Some(h))
}

/// Ingests one sample by C series number; 0 does nothing.
fn ingest_by_number(engine: &mut Engine, n: u64, value: f64, at: i64) -> Result<(), Failure> {
    if let Some(h) = series_handle(engine, n)? {
        engine.ingest_by_handle(h, value, at);
    }
    Ok(())
}

impl healbot_engine {
    fn new(engine: Engine) -> healbot_engine {
        healbot_engine { inner: Mutex::new(engine) }
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Engine>, Failure> {
        self.inner.lock().map_err(|_| {
            Failure::new(
                healbot_result::Panic,
                "the engine panicked during an earlier call and can no longer be used; free it",
            )
        })
    }
}

/// Shared access to an engine handle argument.
///
/// # Safety
///
/// `p` is NULL or a live engine.
pub(crate) unsafe fn engine_ref<'a>(p: *const healbot_engine) -> Result<&'a healbot_engine, Failure> {
    // SAFETY: per this function's contract.
    unsafe { handle(p, "engine") }
}

/// An engine handle argument, locked.
///
/// # Safety
///
/// `p` is NULL or a live engine.
pub(crate) unsafe fn locked<'a>(p: *const healbot_engine) -> Result<MutexGuard<'a, Engine>, Failure> {
    // SAFETY: per this function's contract.
    unsafe { engine_ref(p) }?.lock()
}

pub(crate) fn config(json: &[u8]) -> Result<EngineConfig, Failure> {
    if json.is_empty() {
        return Ok(EngineConfig::default());
    }
    serde_json::from_slice(json).map_err(|e| Failure::invalid(format!("invalid engine configuration: {e}")))
}

/// Creates an engine over a library and a topology.
///
/// `config_json` is an optional JSON object of engine settings (`max_series`,
/// `max_samples_per_series`, `out_of_order_tolerance`, `max_payload_bytes`,
/// `dry_run`, …; absent fields keep their defaults); `(NULL, 0)` means all
/// defaults. The engine keeps its own references: `library` and `topology`
/// may be freed right after this call.
///
/// # Safety
///
/// `library` and `topology` are live handles; `config_json` is readable for
/// `config_len` bytes (NULL when 0); `engine_out` and `err_out` (nullable)
/// are writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_new(
    library: *const healbot_library,
    topology: *const healbot_topology,
    config_json: *const u8,
    config_len: usize,
    engine_out: *mut *mut healbot_engine,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, engine_out, "engine_out", || {
        // SAFETY: per this function's contract.
        let (lib, topo) = unsafe { (self::library(library, "library")?, self::topology(topology, "topology")?) };
        // SAFETY: per this function's contract.
        let config = config(unsafe { bytes(config_json, config_len, "config_json") }?)?;
        Ok(healbot_engine::new(Engine::new(lib.library.clone(), topo.topology.clone(), config)?))
    })
}

/// Frees an engine. NULL is accepted and ignored.
///
/// # Safety
///
/// `engine` is NULL or an engine from this library not yet freed, and no
/// other thread uses it during or after this call.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_free(engine: *mut healbot_engine) {
    // SAFETY: the caller passes NULL or an engine this crate boxed, once.
    unsafe { free(engine) }
}

/// Ingests one metric sample: `name`, a packed label buffer (see the
/// header's introduction), a value and a time in Unix milliseconds.
///
/// Samples that attach to no node, of metrics no signature reads, too old
/// or not finite are counted in the stats, not errors. Fails with
/// `HEALBOT_RESULT_LIMIT` when the series limit rejects a new series.
///
/// # Safety
///
/// `engine` is a live engine; `name` is a NUL-terminated string; `labels`
/// is readable for `labels_len` bytes (NULL when 0); `err_out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_ingest_metric(
    engine: *mut healbot_engine,
    name: *const c_char,
    labels: *const c_char,
    labels_len: usize,
    value: f64,
    at_ms: i64,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run(err_out, || {
        // SAFETY: per this function's contract.
        let (e, name, labels) =
            unsafe { (engine_ref(engine)?, string(name, "name")?, labels_arg(labels, labels_len, "labels")?) };
        Ok(e.lock()?.ingest_metric(name, &labels, value, at_ms)?)
    })
}

/// Tries `sample(i)` for every `i` below `count`, every one even when some
/// are rejected, and collects the rejections into one error: the first,
/// with how many there were.
fn each_sample(count: usize, mut sample: impl FnMut(usize) -> Result<(), Failure>) -> Result<(), Failure> {
    let mut rejected = 0;
    let mut first = None;
    for i in 0..count {
        if let Err(f) = sample(i) {
            rejected += 1;
            first.get_or_insert((i, f));
        }
    }
    match first {
        None => Ok(()),
        Some((index, mut f)) => {
            f.message =
                format!("{rejected} of {count} samples were rejected; the first, at index {index}: {}", f.message);
            Err(f)
        }
    }
}

/// Ingests `count` metric samples, each with its own name and labels:
/// sample `i` is `names[i]` with the packed label buffer `labels[i]` of
/// `labels_lens[i]` bytes (NULL when 0), value `values[i]` at `at_ms[i]`.
///
/// Every sample is tried. When some are rejected (a limit, a malformed
/// label buffer) the others are still ingested, and the call fails with the
/// code of the first rejection and a message saying how many were rejected.
///
/// # Safety
///
/// `engine` is a live engine; `names`, `labels`, `labels_lens`, `values`
/// and `at_ms` are arrays of `count` elements (NULL when 0) whose strings
/// and buffers are valid as for `healbot_engine_ingest_metric`; `err_out`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_ingest_metrics(
    engine: *mut healbot_engine,
    names: *const *const c_char,
    labels: *const *const c_char,
    labels_lens: *const usize,
    values: *const f64,
    at_ms: *const i64,
    count: usize,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run(err_out, || {
        // SAFETY: per this function's contract.
        let (e, names, labels, lens, values, ats) = unsafe {
            (
                engine_ref(engine)?,
                array(names, count, "names")?,
                array(labels, count, "labels")?,
                array(labels_lens, count, "labels_lens")?,
                array(values, count, "values")?,
                array(at_ms, count, "at_ms")?,
            )
        };
        let mut guard = e.lock()?;
        each_sample(count, |i| {
            // SAFETY: per this function's contract.
            let (name, l) = unsafe { (string(names[i], "names[i]")?, labels_arg(labels[i], lens[i], "labels[i]")?) };
            Ok(guard.ingest_metric(name, &l, values[i], ats[i])?)
        })
    })
}

/// Consecutive samples of one series in a batch. `Engine::ingest_metric`
/// is `Engine::resolve_series` then `Engine::ingest_by_handle`, and nothing
/// evicts series during a batch, so the first sample of a run resolves the
/// series and the others go by handle: the same effect and counts as one
/// `ingest_metric` per sample, without hashing the name and labels again.
#[derive(Default)]
struct Run {
    resolved: bool,
    handle: Option<SeriesHandle>,
}

impl Run {
    fn ingest(&mut self, engine: &mut Engine, name: &str, labels: &Labels, value: f64, at: i64) -> Result<(), Failure> {
        if let Some(h) = self.handle {
            engine.ingest_by_handle(h, value, at);
            return Ok(());
        }
        if self.resolved {
            // Not kept (counted per sample) or over the series limit.
            return engine.ingest_metric(name, labels, value, at).map_err(Failure::from);
        }
        self.resolved = true;
        self.handle = engine.resolve_series(name, labels)?;
        if let Some(h) = self.handle {
            engine.ingest_by_handle(h, value, at);
        }
        Ok(())
    }
}

/// Ingests `count` samples of one series: `name` with one packed label
/// buffer, values `values[i]` at `at_ms[i]`. Rejections as for
/// `healbot_engine_ingest_metrics`.
///
/// # Safety
///
/// `engine` is a live engine; `name` is a NUL-terminated string; `labels`
/// is readable for `labels_len` bytes (NULL when 0); `values` and `at_ms`
/// are arrays of `count` elements (NULL when 0); `err_out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_ingest_series(
    engine: *mut healbot_engine,
    name: *const c_char,
    labels: *const c_char,
    labels_len: usize,
    values: *const f64,
    at_ms: *const i64,
    count: usize,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run(err_out, || {
        // SAFETY: per this function's contract.
        let (e, name, labels, values, ats) = unsafe {
            (
                engine_ref(engine)?,
                string(name, "name")?,
                bytes(labels.cast(), labels_len, "labels")?,
                array(values, count, "values")?,
                array(at_ms, count, "at_ms")?,
            )
        };
        let labels = boundary::labels(labels)?;
        let mut guard = e.lock()?;
        let mut run = Run::default();
        each_sample(count, |i| run.ingest(&mut guard, name, &labels, values[i], ats[i]))
    })
}

/// One packed series record: its name bytes, its label bytes, and the rest of the buffer.
type Record<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// Splits the next packed series record off `buf`: the name, then label
/// pairs, then an empty string.
fn next_record(buf: &[u8]) -> Result<Record<'_>, Failure> {
    let malformed = || Failure::invalid("a series record in the packed buffer is not terminated by an empty string");
    let name_end = buf.iter().position(|b| *b == 0).ok_or_else(malformed)?;
    let mut i = name_end + 1;
    loop {
        let len = buf.get(i..).and_then(|rest| rest.iter().position(|b| *b == 0)).ok_or_else(malformed)?;
        if len == 0 {
            return Ok((&buf[..name_end], &buf[name_end + 1..i], &buf[i + 1..]));
        }
        i += len + 1;
    }
}

/// Ingests `count` samples given as packed series records, the form a
/// binding fills in one buffer: record `i` is the metric name, a NUL, its
/// label pairs each key and value followed by a NUL, then one more NUL
/// (`"cpu\0service\0api\0\0mem\0\0"` is `cpu{service="api"}` then `mem`),
/// with value `values[i]` at `at_ms[i]`. Rejections as for
/// `healbot_engine_ingest_metrics`; a buffer holding fewer than `count`
/// records is `HEALBOT_RESULT_INVALID_INPUT` for the missing samples, and
/// one holding bytes after the `count`-th record (more records than
/// samples: the buffer and the arrays disagree) is
/// `HEALBOT_RESULT_INVALID_INPUT` too, after the `count` samples were tried.
///
/// # Safety
///
/// `engine` is a live engine; `records` is readable for `records_len`
/// bytes (NULL when 0); `values` and `at_ms` are arrays of `count` elements
/// (NULL when 0); `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_ingest_packed(
    engine: *mut healbot_engine,
    records: *const c_char,
    records_len: usize,
    values: *const f64,
    at_ms: *const i64,
    count: usize,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run(err_out, || {
        // SAFETY: per this function's contract.
        let (e, mut rest, values, ats) = unsafe {
            (
                engine_ref(engine)?,
                bytes(records.cast(), records_len, "records")?,
                array(values, count, "values")?,
                array(at_ms, count, "at_ms")?,
            )
        };
        let mut guard = e.lock()?;
        // Consecutive samples of one series reuse its parsed labels and handle.
        let mut last: Option<(&[u8], &[u8], String, Labels)> = None;
        let mut run = Run::default();
        each_sample(count, |i| {
            let (name, labels, tail) = next_record(rest)?;
            rest = tail;
            let same = last.as_ref().is_some_and(|(n, l, _, _)| *n == name && *l == labels);
            if !same {
                let n = boundary::text(name, "records")?.to_string();
                last = Some((name, labels, n, boundary::labels(labels)?));
                run = Run::default();
            }
            if let Some((_, _, n, l)) = &last {
                run.ingest(&mut guard, n, l, values[i], ats[i])?;
            }
            Ok(())
        })?;
        if !rest.is_empty() {
            return Err(Failure::invalid(format!(
                "the packed buffer holds {} bytes after its {count} records: more records than samples \
                 (the {count} samples were tried)",
                rest.len()
            )));
        }
        Ok(())
    })
}

/// Resolves the series of metric `name` with a packed label buffer, for
/// ingesting many samples by handle (`healbot_engine_ingest_by_handle`,
/// `healbot_engine_ingest_handles`) without hashing names and labels again.
///
/// Writes a handle to `series_out`: a number valid for this engine and for
/// engines restored from its snapshots (the same series gives the same
/// number; no table is kept per handle), or 0 when no signature reads the
/// metric or the labels attach to no node (both counted in the stats);
/// samples for 0 need not be sent, and ingesting them does nothing. A
/// handle of an evicted series still works: its samples are counted as
/// dropped. Fails with `HEALBOT_RESULT_LIMIT` when the series limit rejects
/// a new series.
///
/// # Safety
///
/// `engine` is a live engine; `name` is a NUL-terminated string; `labels`
/// is readable for `labels_len` bytes (NULL when 0); `series_out` and
/// `err_out` (nullable) are writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_resolve_series(
    engine: *mut healbot_engine,
    name: *const c_char,
    labels: *const c_char,
    labels_len: usize,
    series_out: *mut u64,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_out(err_out, series_out, "series_out", || {
        // SAFETY: per this function's contract.
        let (e, name, labels) =
            unsafe { (engine_ref(engine)?, string(name, "name")?, labels_arg(labels, labels_len, "labels")?) };
        let mut guard = e.lock()?;
        Ok(match guard.resolve_series(name, &labels)? {
            Some(h) => series_number(h),
            None => 0,
        })
    })
}

/// Ingests one sample into a series resolved by
/// `healbot_engine_resolve_series`: no hashing, no allocation. Handle 0 is
/// accepted and does nothing; a number this engine did not issue is
/// `HEALBOT_RESULT_INVALID_INPUT`.
///
/// # Safety
///
/// `engine` is a live engine; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_ingest_by_handle(
    engine: *mut healbot_engine,
    series: u64,
    value: f64,
    at_ms: i64,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run(err_out, || {
        // SAFETY: per this function's contract.
        ingest_by_number(&mut *unsafe { locked(engine) }?, series, value, at_ms)
    })
}

/// Ingests `count` samples by series handle: `values[i]` at `at_ms[i]` into
/// `series[i]`, under one lock. Rejections (numbers this engine did not
/// issue) as for `healbot_engine_ingest_metrics`.
///
/// # Safety
///
/// `engine` is a live engine; `series`, `values` and `at_ms` are arrays of
/// `count` elements (NULL when 0); `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_ingest_handles(
    engine: *mut healbot_engine,
    series: *const u64,
    values: *const f64,
    at_ms: *const i64,
    count: usize,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run(err_out, || {
        // SAFETY: per this function's contract.
        let (e, series, values, ats) = unsafe {
            (
                engine_ref(engine)?,
                array(series, count, "series")?,
                array(values, count, "values")?,
                array(at_ms, count, "at_ms")?,
            )
        };
        let mut guard = e.lock()?;
        each_sample(count, |i| ingest_by_number(&mut guard, series[i], values[i], ats[i]))
    })
}

/// The telemetry payload formats HealBot reads. Passed as `uint32_t`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum healbot_payload_format {
    /// Alertmanager webhook v4 (Grafana's variant too).
    Alertmanager = 1,
    /// Prometheus text exposition 0.0.4.
    PrometheusText = 2,
    /// OTLP/JSON logs (`resourceLogs`).
    OtlpLogs = 3,
    /// OTLP/JSON metrics (`resourceMetrics`).
    OtlpMetrics = 4,
    /// Kubernetes Events (core v1 and events.k8s.io/v1).
    K8sEvents = 5,
    /// PagerDuty Events API v2.
    PagerDuty = 6,
    /// HealBot's own newline-delimited JSON.
    Ndjson = 7,
}

fn payload_format(f: u32) -> Result<PayloadFormat, Failure> {
    Ok(match f {
        1 => PayloadFormat::Alertmanager,
        2 => PayloadFormat::PrometheusText,
        3 => PayloadFormat::OtlpLogs,
        4 => PayloadFormat::OtlpMetrics,
        5 => PayloadFormat::K8sEvents,
        6 => PayloadFormat::PagerDuty,
        7 => PayloadFormat::Ndjson,
        _ => return Err(Failure::invalid(format!("unknown payload format {f}; expected 1 to 7"))),
    })
}

fn payload_format_code(f: PayloadFormat) -> healbot_payload_format {
    match f {
        PayloadFormat::Alertmanager => healbot_payload_format::Alertmanager,
        PayloadFormat::PrometheusText => healbot_payload_format::PrometheusText,
        PayloadFormat::OtlpLogs => healbot_payload_format::OtlpLogs,
        PayloadFormat::OtlpMetrics => healbot_payload_format::OtlpMetrics,
        PayloadFormat::K8sEvents => healbot_payload_format::K8sEvents,
        PayloadFormat::PagerDuty => healbot_payload_format::PagerDuty,
        PayloadFormat::Ndjson => healbot_payload_format::Ndjson,
    }
}

/// The format named `name` (`alertmanager`, `prometheus_text`,
/// `otlp_logs`, `otlp_metrics`, `k8s_events`, `pagerduty`, `ndjson`, case
/// and `-`/`_` insensitive, with a few aliases), written to `format_out`.
///
/// # Safety
///
/// `name` is a NUL-terminated string; `format_out` and `err_out`
/// (nullable) are writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_payload_format_from_name(
    name: *const c_char,
    format_out: *mut healbot_payload_format,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_out(err_out, format_out, "format_out", || {
        // SAFETY: per this function's contract.
        let f: PayloadFormat = unsafe { string(name, "name") }?.parse()?;
        Ok(payload_format_code(f))
    })
}

/// What `healbot_engine_ingest_payload` did.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct healbot_ingest_report {
    /// Observations parsed from the payload.
    pub observations: usize,
    /// Malformed records (skipped; the rest still counted).
    pub malformed: usize,
    /// Records dropped by a limit.
    pub dropped: u64,
}

/// Parses a payload in a native format (`format` is a
/// `healbot_payload_format`) and ingests every good record. Malformed
/// records are counted, not errors. `default_at_ms` is the time of records
/// that carry none (Prometheus text, PagerDuty). `report_out` may be NULL.
///
/// Fails with `HEALBOT_RESULT_TELEMETRY` or `HEALBOT_RESULT_LIMIT` when
/// the payload as a whole cannot be read.
///
/// # Safety
///
/// `engine` is a live engine; `payload` is readable for `payload_len`
/// bytes (NULL when 0); `report_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_ingest_payload(
    engine: *mut healbot_engine,
    format: u32,
    payload: *const u8,
    payload_len: usize,
    default_at_ms: i64,
    report_out: *mut healbot_ingest_report,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_opt_out(err_out, report_out, || {
        // SAFETY: per this function's contract.
        let (e, payload) = unsafe { (engine_ref(engine)?, bytes(payload, payload_len, "payload")?) };
        let format = payload_format(format)?;
        let report = e.lock()?.ingest_payload(format, payload, default_at_ms)?;
        Ok(healbot_ingest_report {
            observations: report.observations,
            malformed: report.errors.len(),
            dropped: report.dropped,
        })
    })
}

/// What `healbot_engine_ingest_log_text` did, in lines. The engine's stats
/// count the same lines.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct healbot_log_report {
    /// Lines in the text.
    pub lines: u64,
    /// Lines attached to a node and matched (`ingested.log` in the stats).
    pub ingested: u64,
    /// Lines longer than the engine's `max_log_line_len` setting, not
    /// matched (`dropped.payload_limit`).
    pub dropped: u64,
    /// Lines within the limit whose labels attach to no node (`unattached`).
    pub unattached: u64,
}

/// Ingests a blob of log text of one source (a pod's stream, a file): every
/// line gets the packed label buffer `labels` (see the header's
/// introduction) and the time `at_ms`, and is matched against every log
/// pattern of the library; lines are not kept. `text` is split at `\n`,
/// each line without a trailing `\r`, with no final empty line after a
/// trailing newline (an empty text has no line). It need not be UTF-8 (an
/// invalid sequence is matched as U+FFFD) nor end with a NUL.
///
/// Lines carry no severity (no predicate reads one yet). Lines over the
/// engine's `max_log_line_len` setting, and lines whose labels attach to no
/// node, are counted in the report and the stats, not errors. `report_out`
/// may be NULL. A malformed label buffer is `HEALBOT_RESULT_INVALID_INPUT`,
/// and then no line is ingested.
///
/// # Safety
///
/// `engine` is a live engine; `labels` is readable for `labels_len` bytes
/// and `text` for `text_len` bytes (each NULL when its length is 0);
/// `report_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_ingest_log_text(
    engine: *mut healbot_engine,
    labels: *const c_char,
    labels_len: usize,
    text: *const u8,
    text_len: usize,
    at_ms: i64,
    report_out: *mut healbot_log_report,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_opt_out(err_out, report_out, || {
        // SAFETY: per this function's contract.
        let (e, labels, text) =
            unsafe { (engine_ref(engine)?, labels_arg(labels, labels_len, "labels")?, bytes(text, text_len, "text")?) };
        let report = e.lock()?.ingest_log_text(&labels, None, text, at_ms);
        Ok(healbot_log_report {
            lines: report.lines,
            ingested: report.ingested,
            dropped: report.dropped,
            unattached: report.unattached,
        })
    })
}

/// The host's view of a node's health. Passed as `uint32_t`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum healbot_health {
    /// Forget the host's view; diagnoses decide.
    Unset = 0,
    /// The host asserts the node is healthy.
    Healthy = 1,
    /// The host asserts the node is unhealthy.
    Unhealthy = 2,
}

/// Sets (or with `HEALBOT_HEALTH_UNSET` clears) the host's view of a
/// node's health (`health` is a `healbot_health`), which overrides what
/// diagnoses say. An unknown node is `HEALBOT_RESULT_INVALID_INPUT`.
///
/// # Safety
///
/// `engine` is a live engine; `node` is a NUL-terminated string;
/// `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_set_node_health(
    engine: *mut healbot_engine,
    node: *const c_char,
    health: u32,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run(err_out, || {
        // SAFETY: per this function's contract.
        let (e, node) = unsafe { (engine_ref(engine)?, string(node, "node")?) };
        let health = match health {
            0 => None,
            1 => Some(HostHealth::Healthy),
            2 => Some(HostHealth::Unhealthy),
            _ => return Err(Failure::invalid(format!("unknown health {health}; expected 0, 1 or 2"))),
        };
        Ok(e.lock()?.set_node_health(node, health)?)
    })
}

/// The engine's counters as a JSON object (`ingested`, `unattached`,
/// `dropped` by reason, `series`, `alerts`, `exceptions`, `evaluations`),
/// written to `json_out`; free it with `healbot_buffer_free`.
///
/// # Safety
///
/// `engine` is a live engine; `json_out` and `err_out` (nullable) are
/// writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_stats_json(
    engine: *const healbot_engine,
    json_out: *mut *mut healbot_buffer,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, json_out, "json_out", || {
        // SAFETY: per this function's contract.
        let stats = unsafe { locked(engine) }?.stats();
        json_buffer(serde_json::to_vec(&stats), "stats")
    })
}

/// Locks an engine and panics while holding the lock, on purpose. For
/// tests only: it shows that the panic comes back as `HEALBOT_RESULT_PANIC`
/// and that every later call on that engine answers `HEALBOT_RESULT_PANIC`
/// too. Never call it in production code.
///
/// # Safety
///
/// `engine` is NULL or a live engine; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_test_panic(
    engine: *mut healbot_engine,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run(err_out, || {
        // SAFETY: per this function's contract.
        let _guard = unsafe { locked(engine) }?;
        // The deliberate panic of this test hook: it poisons the engine's lock.
        #[allow(clippy::panic)]
        {
            panic!("healbot_engine_test_panic was called")
        }
    })
}

/// Records that the host executed `action_id` on node `target` for the
/// decision `decision_id`, at `at_ms`, unattended or approved by a person.
/// It feeds cooldowns, budgets and the circuit breaker. Idempotent by
/// decision id: `*recorded_out` (may be NULL) says whether this call
/// recorded anything. An unknown action or node, or an engine in dry-run
/// mode, is `HEALBOT_RESULT_INVALID_INPUT`.
///
/// # Safety
///
/// `engine` is a live engine; `decision_id`, `action_id` and `target` are
/// NUL-terminated strings; `recorded_out` and `err_out` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_record_execution(
    engine: *mut healbot_engine,
    decision_id: *const c_char,
    action_id: *const c_char,
    target: *const c_char,
    at_ms: i64,
    unattended: bool,
    recorded_out: *mut bool,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_opt_out(err_out, recorded_out, || {
        // SAFETY: per this function's contract.
        let (e, id, action, target) = unsafe {
            (
                engine_ref(engine)?,
                string(decision_id, "decision_id")?,
                string(action_id, "action_id")?,
                string(target, "target")?,
            )
        };
        Ok(e.lock()?.record_execution(id, action, target, at_ms, unattended)?)
    })
}

/// Records the outcome of an execution recorded for `decision_id`. It
/// feeds the circuit breaker and the success posteriors behind confidence.
/// Idempotent: `*recorded_out` (may be NULL) says whether this call
/// recorded anything. No execution recorded for the decision, or an engine
/// in dry-run mode, is `HEALBOT_RESULT_INVALID_INPUT`.
///
/// # Safety
///
/// `engine` is a live engine; `decision_id` is a NUL-terminated string;
/// `recorded_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_record_outcome(
    engine: *mut healbot_engine,
    decision_id: *const c_char,
    success: bool,
    at_ms: i64,
    recorded_out: *mut bool,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_opt_out(err_out, recorded_out, || {
        // SAFETY: per this function's contract.
        let (e, id) = unsafe { (engine_ref(engine)?, string(decision_id, "decision_id")?) };
        Ok(e.lock()?.record_outcome(id, success, at_ms)?)
    })
}

/// Swaps the engine's library for `library`, keeping windows, counters and
/// the ledger. The new library is compiled fully first: on error the old
/// one stays in use. Series handles stay valid.
///
/// # Safety
///
/// `engine` and `library` are live handles; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_reload_library(
    engine: *mut healbot_engine,
    library: *const healbot_library,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run(err_out, || {
        // SAFETY: per this function's contract.
        let (e, lib) = unsafe { (engine_ref(engine)?, self::library(library, "library")?) };
        Ok(e.lock()?.reload_library(lib.library.clone())?)
    })
}

/// The engine's state (windows, alerts, counters, ledger, posteriors) as
/// bytes, written to `snapshot_out`; free it with `healbot_buffer_free`.
/// `healbot_engine_restore` reads it back.
///
/// # Safety
///
/// `engine` is a live engine; `snapshot_out` and `err_out` (nullable) are
/// writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_snapshot(
    engine: *const healbot_engine,
    snapshot_out: *mut *mut healbot_buffer,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, snapshot_out, "snapshot_out", || {
        // SAFETY: per this function's contract.
        Ok(healbot_buffer::new(unsafe { locked(engine) }?.snapshot()))
    })
}

/// Creates an engine from a snapshot of one over the same library (by
/// revision), with the given topology and settings (as for
/// `healbot_engine_new`). A corrupt snapshot, one of another format version
/// or of another library is `HEALBOT_RESULT_SNAPSHOT`. Series handles of the
/// engine the snapshot was taken from name the same series in the new one.
///
/// # Safety
///
/// `library` and `topology` are live handles; `config_json` is readable for
/// `config_len` bytes and `snapshot` for `snapshot_len` bytes (each NULL
/// when its length is 0); `engine_out` and `err_out` (nullable) are
/// writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_restore(
    library: *const healbot_library,
    topology: *const healbot_topology,
    config_json: *const u8,
    config_len: usize,
    snapshot: *const u8,
    snapshot_len: usize,
    engine_out: *mut *mut healbot_engine,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, engine_out, "engine_out", || {
        // SAFETY: per this function's contract.
        let (lib, topo, config, snapshot) = unsafe {
            (
                self::library(library, "library")?,
                self::topology(topology, "topology")?,
                bytes(config_json, config_len, "config_json")?,
                bytes(snapshot, snapshot_len, "snapshot")?,
            )
        };
        let config = self::config(config)?;
        Ok(healbot_engine::new(Engine::restore(lib.library.clone(), topo.topology.clone(), config, snapshot)?))
    })
}
