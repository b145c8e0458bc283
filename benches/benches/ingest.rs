//! Window ingest throughput and aggregate latency.
//!
//! - `ingest/by_handle`: pushes through pre-resolved `SeriesId`s, one sample
//!   per series per round, in time order, into ring buffers at their
//!   steady-state capacity (each push also drops the oldest sample). No
//!   series has been read, so none keeps a summary.
//! - `ingest/by_handle_read`: the same into series that an aggregate has
//!   read, which keep a summary (checkpoint sums every 8 samples, block
//!   extremes): what ingest costs for the series signatures read.
//! - `ingest/by_key`: per sample, hash the metric name and label set
//!   (`label_set_hash` over `__name__` and three labels), `lookup` the key
//!   (`resolve` on a miss), then push.
//! - `ingest/by_key_batched`: the same, looking up 256 keys before pushing
//!   their samples, so that independent cache misses overlap.
//! - `hash/label_set_hash_4_pairs`: the label hash alone.
//! - `aggregate/<agg>`: one aggregate over a 5m window of 15 s samples (20
//!   samples) in a series holding 1 h of them.
//! - `aggregate_window/<agg>/<case>`: one aggregate over the window of a
//!   gauge with a spread of values, sampled every 15 s: `5m_of_20` reads a
//!   5m window of a series holding 20 samples, `5m_of_1000` a 5m window (20
//!   samples) of a series holding 1,000, and `all_of_1000` a window covering
//!   all 1,000 samples (250 min): the cost of the search and of the window's
//!   size, apart. `5m_of_20_scan` is `5m_of_20` in a series first read after
//!   its pushes, so without a summary (as in `evaluate`'s fixtures): the
//!   scans.
//! - `engine/*`: ingest through an `Engine` whose library has 22 log
//!   signatures (as `benches/python/bench_ingest.py`'s end-to-end scenario),
//!   per line or record of a 1,000-line batch, 20 distinct services:
//!   `log_per_line` builds a `LogRecord` per line and calls `ingest_log`
//!   (what the Python binding did), `log_lines_batch` calls
//!   `ingest_log_lines` once per service, `log_text_batch` calls
//!   `ingest_log_text` once per service with its lines as one blob of text
//!   (one literal scan over the blob); `ndjson_logs` ingests the same
//!   lines as one NDJSON payload of records that carry their service;
//!   `ingest_metric` is one sample into each of 1,000 existing series by
//!   name and labels.
//!
//! Run: `cargo bench -p healbot-benches --bench ingest -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use healbot_core::spec::Aggregation;
use healbot_core::telemetry::{Labels, LogRecord, PayloadFormat};
use healbot_core::window::{label_set_hash, SeriesId, SeriesKey, SeriesStore, WindowConfig};
use healbot_core::{Duration, Engine, EngineConfig, Library, Topology};

/// Samples kept per series: 1 h at a 15 s interval, rounded up.
const CAPACITY: usize = 256;
const STEP_MS: i64 = 15_000;
/// Every aggregation, each timed on its own.
const AGGREGATIONS: [Aggregation; 10] = Aggregation::ALL;

fn config() -> WindowConfig {
    WindowConfig { max_samples_per_series: CAPACITY, ..WindowConfig::default() }
}

fn ingest(c: &mut Criterion) {
    let mut group = c.benchmark_group("ingest");
    for series in [1_000usize, 100_000] {
        group.throughput(Throughput::Elements(series as u64));

        let mut store = SeriesStore::new(config());
        let ids: Vec<SeriesId> = (0..series)
            .map(|i| store.resolve(SeriesKey { node: (i % 64) as u32, metric: 1, labels: i as u64 }).unwrap())
            .collect();
        // Fill every ring buffer to its capacity first: the steady state,
        // where each push also drops the oldest sample.
        let mut t = 0i64;
        for _ in 0..CAPACITY {
            t += STEP_MS;
            for (i, id) in ids.iter().enumerate() {
                store.push(*id, t, i as f64);
            }
        }
        group.bench_with_input(BenchmarkId::new("by_handle", series), &ids, |b, ids| {
            b.iter(|| {
                t += STEP_MS;
                for (i, id) in ids.iter().enumerate() {
                    black_box(store.push(*id, t, i as f64));
                }
            })
        });
        // Read every series once: from the next push on, each keeps a
        // summary. Values vary (a gauge with resets) so that nothing is
        // trivially predictable.
        for id in &ids {
            store.aggregate(*id, Aggregation::Count, 0.0, Duration::from_secs(60), t);
        }
        let value = |i: usize, t: i64| (i % 97) as f64 + ((t / STEP_MS) % 13) as f64 * 0.25;
        for _ in 0..CAPACITY {
            t += STEP_MS;
            for (i, id) in ids.iter().enumerate() {
                store.push(*id, t, value(i, t));
            }
        }
        group.bench_with_input(BenchmarkId::new("by_handle_read", series), &ids, |b, ids| {
            b.iter(|| {
                t += STEP_MS;
                for (i, id) in ids.iter().enumerate() {
                    black_box(store.push(*id, t, value(i, t)));
                }
            })
        });
        drop(store);

        // The label strings of every sample, laid out one after the other as
        // in a payload being parsed, so the benchmark reads them the way
        // ingest would (sequentially, from cache) rather than chasing one
        // heap allocation per string.
        let mut arena = String::new();
        let mut spans: Vec<[(usize, usize); 4]> = Vec::with_capacity(series);
        for i in 0..series {
            let parts = [
                format!("http_requests_total_{}", i % 10),
                format!("{}", 200 + i / 2560),
                format!("10.0.{}.{}:9100", i / 256 % 256, i % 256),
                format!("svc-{}", i % 64),
            ];
            let mut span = [(0, 0); 4];
            for (slot, part) in span.iter_mut().zip(&parts) {
                *slot = (arena.len(), arena.len() + part.len());
                arena.push_str(part);
            }
            spans.push(span);
        }
        let key_of = |i: usize, span: &[(usize, usize); 4]| {
            let [name, code, instance, job] = span.map(|(a, b)| &arena[a..b]);
            let labels = label_set_hash(&[("__name__", name), ("code", code), ("instance", instance), ("job", job)]);
            SeriesKey { node: (i % 64) as u32, metric: 1, labels }
        };
        let mut store = SeriesStore::new(config());
        let mut t = 0i64;
        for _ in 0..CAPACITY {
            t += STEP_MS;
            for (i, span) in spans.iter().enumerate() {
                let id = store.resolve(key_of(i, span)).unwrap();
                store.push(id, t, i as f64);
            }
        }
        group.bench_with_input(BenchmarkId::new("by_key", series), &spans, |b, spans| {
            b.iter(|| {
                t += STEP_MS;
                for (i, span) in spans.iter().enumerate() {
                    let key = key_of(i, span);
                    let id = match store.lookup(&key) {
                        Some(id) => id,
                        None => store.resolve(key).unwrap(),
                    };
                    black_box(store.push(id, t, i as f64));
                }
            })
        });
        // The same, resolving a batch of 256 keys before pushing it: the
        // lookups of a batch are independent, so their cache misses overlap,
        // and so do the pushes'. The way an engine should ingest a payload.
        let mut batch: Vec<SeriesId> = Vec::with_capacity(256);
        group.bench_with_input(BenchmarkId::new("by_key_batched", series), &spans, |b, spans| {
            b.iter(|| {
                t += STEP_MS;
                for (c, chunk) in spans.chunks(256).enumerate() {
                    batch.clear();
                    for (j, span) in chunk.iter().enumerate() {
                        let key = key_of(c * 256 + j, span);
                        let id = match store.lookup(&key) {
                            Some(id) => id,
                            None => store.resolve(key).unwrap(),
                        };
                        batch.push(id);
                    }
                    for (j, id) in batch.iter().enumerate() {
                        black_box(store.push(*id, t, (c * 256 + j) as f64));
                    }
                }
            })
        });
    }
    group.finish();
}

fn aggregate(c: &mut Criterion) {
    let mut group = c.benchmark_group("aggregate");
    let mut store = SeriesStore::new(config());
    let id = store.resolve(SeriesKey { node: 0, metric: 0, labels: 0 }).unwrap();
    let start = 1_767_225_600_000i64;
    let mut at = start;
    // Read once before the pushes, as an engine evaluating every interval
    // does: the pushes then keep the series' summary.
    store.aggregate(id, Aggregation::Count, 0.0, Duration::from_secs(300), at);
    for i in 0..240 {
        at = start + i * STEP_MS;
        // A counter with a reset every 50 samples.
        store.push(id, at, ((i % 50) * 7) as f64);
    }
    let window = Duration::from_secs(300);
    for agg in AGGREGATIONS {
        let name = format!("{agg:?}").to_lowercase();
        group.bench_function(name, |b| {
            b.iter(|| black_box(store.aggregate(black_box(id), agg, 0.9, window, black_box(at))))
        });
    }
    group.bench_function("forecast_crossing", |b| {
        b.iter(|| black_box(store.forecast_crossing(black_box(id), window, black_box(at), 1000.0)))
    });
    group.finish();
}

fn aggregate_window(c: &mut Criterion) {
    let mut group = c.benchmark_group("aggregate_window");
    let start = 1_767_225_600_000i64;
    let five_minutes = Duration::from_secs(300);
    let cases = [
        ("5m_of_20", 20i64, five_minutes, true),
        ("5m_of_20_scan", 20, five_minutes, false),
        ("5m_of_1000", 1_000, five_minutes, true),
        ("all_of_1000", 1_000, Duration::from_secs(1_000 * 15), true),
    ];
    for (case, n, window, summarised) in cases {
        let mut store = SeriesStore::new(WindowConfig::default());
        let id = store.resolve(SeriesKey { node: 0, metric: 0, labels: 0 }).unwrap();
        let at = start + (n - 1) * STEP_MS;
        if summarised {
            store.aggregate(id, Aggregation::Count, 0.0, window, start);
        }
        for i in 0..n {
            // A gauge around 500 with a spread that is not monotonic, so
            // min/max/quantile see varied data and increase sees resets.
            let v = 500.0 + ((i * 7_919) % 1_000) as f64 * 0.37 - (i % 13) as f64 * 11.0;
            store.push(id, start + i * STEP_MS, v);
        }
        for agg in AGGREGATIONS {
            let name = format!("{agg:?}").to_lowercase();
            group.bench_with_input(BenchmarkId::new(name, case), &agg, |b, &agg| {
                b.iter(|| black_box(store.aggregate(black_box(id), agg, 0.9, window, black_box(at))))
            });
        }
        group.bench_with_input(BenchmarkId::new("forecast_crossing", case), &window, |b, &window| {
            b.iter(|| black_box(store.forecast_crossing(black_box(id), window, black_box(at), 1000.0)))
        });
    }
    group.finish();
}

fn hash(c: &mut Criterion) {
    let mut group = c.benchmark_group("hash");
    group.throughput(Throughput::Elements(1));
    let pairs =
        [("__name__", "http_requests_total_3"), ("code", "200"), ("instance", "10.0.1.17:9100"), ("job", "svc-17")];
    group.bench_function("label_set_hash_4_pairs", |b| b.iter(|| label_set_hash(black_box(&pairs))));
    group.finish();
}

/// Log signatures of the end-to-end scenario of `benches/python/bench_ingest.py`.
const LOG_WORDS: [&[&str]; 22] = [
    &["OutOfMemoryError", "Killed process"],
    &["Too many open files"],
    &["No space left on device"],
    &["certificate has expired", "x509: certificate"],
    &["deadlock detected"],
    &["segmentation fault", "SIGSEGV"],
    &["panic: runtime error"],
    &["no such host", "SERVFAIL"],
    &["tls: handshake failure"],
    &["quota exceeded", "rate limit exceeded"],
    &["GC overhead limit exceeded"],
    &["unable to create new native thread"],
    &["broken pipe"],
    &["read-only file system"],
    &["authentication failed for user"],
    &["relation does not exist", "column does not exist"],
    &["NOT_LEADER_FOR_PARTITION"],
    &["code = Unavailable"],
    &["StackOverflowError"],
    &["NullPointerException"],
    &["connection refused", "ECONNREFUSED"],
    &["pool exhausted", "timeout waiting for connection", "too many clients"],
];

fn engine_for_logs() -> Engine {
    let mut lib =
        String::from("apiVersion: healbot.dev/v1\nkind: SignatureLibrary\nmetadata: {name: b}\nspec:\n  signatures:\n");
    for (i, words) in LOG_WORDS.iter().enumerate() {
        let quoted: Vec<String> = words.iter().map(|w| format!("{w:?}")).collect();
        lib.push_str(&format!(
            "    - id: log.{i}\n      title: t\n      category: errors\n      severity: warning\n      \
             match: {{log: {{contains_any: [{}], case_insensitive: {}, window: 5m, threshold: 3}}}}\n",
            quoted.join(", "),
            i == LOG_WORDS.len() - 1
        ));
    }
    lib.push_str(
        "    - id: m\n      title: m\n      category: errors\n      severity: warning\n      \
                  match: {metric: {name: error_ratio, agg: avg, window: 2m, op: \">\", threshold: 0.05}}\n",
    );
    let nodes: Vec<String> = (0..20).map(|i| format!("{{id: svc-{i}, kind: service}}")).collect();
    let topo = format!(
        "apiVersion: healbot.dev/v1\nkind: Topology\nmetadata: {{name: t}}\nspec: {{nodes: [{}]}}\n",
        nodes.join(", ")
    );
    Engine::new(
        Library::from_text("lib.yaml", &lib).unwrap(),
        Topology::from_text("topo.yaml", &topo).unwrap(),
        EngineConfig::default(),
    )
    .unwrap()
}

fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    const LINES: usize = 1_000;
    const SERVICES: usize = 20;
    group.throughput(Throughput::Elements(LINES as u64));
    let benign =
        ["GET /api/cart 200 12ms", "user session refreshed", "cache hit ratio 0.93", "request completed in 8ms"];
    // One in ten lines matches a signature, as in an outage.
    let line = |k: usize| match k % 10 {
        0 => "timeout waiting for connection from pool",
        5 => "dial: connection refused",
        _ => benign[k % 4],
    };
    let per_service: Vec<(Labels, Vec<&str>)> = (0..SERVICES)
        .map(|s| {
            let labels: Labels = [("service", format!("svc-{s}"))].into_iter().collect();
            (labels, (0..LINES / SERVICES).map(|k| line(s + k)).collect())
        })
        .collect();
    let mut t = 1_700_000_000_000i64;
    let mut e = engine_for_logs();
    group.bench_function("log_per_line", |b| {
        b.iter(|| {
            t += 1_000;
            for (labels, lines) in &per_service {
                for l in lines {
                    let record =
                        LogRecord { body: (*l).to_string(), attributes: labels.clone(), severity: None, at: t };
                    e.ingest_log(black_box(&record));
                }
            }
        })
    });
    let mut e = engine_for_logs();
    group.bench_function("log_lines_batch", |b| {
        b.iter(|| {
            t += 1_000;
            for (labels, lines) in &per_service {
                black_box(e.ingest_log_lines(labels, None, lines.iter().map(|l| (l.as_bytes(), t))));
            }
        })
    });
    // The same lines as one blob of text per service (a pod's or a file's stream).
    let blobs: Vec<(&Labels, String)> =
        per_service.iter().map(|(labels, lines)| (labels, lines.iter().map(|l| format!("{l}\n")).collect())).collect();
    let mut e = engine_for_logs();
    group.bench_function("log_text_batch", |b| {
        b.iter(|| {
            t += 1_000;
            for (labels, text) in &blobs {
                black_box(e.ingest_log_text(labels, None, text.as_bytes(), t));
            }
        })
    });
    let ndjson: String = per_service
        .iter()
        .flat_map(|(labels, lines)| {
            let service = labels.get("service").unwrap_or_default().to_string();
            lines.iter().map(move |l| {
                format!(
                    "{{\"type\": \"log\", \"body\": \"{l}\", \"attributes\": {{\"service\": \"{service}\"}}, \"at\": {t}}}\n"
                )
            })
        })
        .collect();
    let mut e = engine_for_logs();
    group.bench_function("ndjson_logs", |b| {
        b.iter(|| black_box(e.ingest_payload(PayloadFormat::Ndjson, ndjson.as_bytes(), 0).unwrap()))
    });
    let series: Vec<Labels> = (0..LINES)
        .map(|i| {
            [("service", format!("svc-{}", i % SERVICES)), ("instance", format!("10.0.{}.{}:9100", i / 256, i % 256))]
                .into_iter()
                .collect()
        })
        .collect();
    let mut e = engine_for_logs();
    group.bench_function("ingest_metric", |b| {
        b.iter(|| {
            t += 15_000;
            for labels in &series {
                e.ingest_metric("error_ratio", labels, 0.01, t).unwrap();
            }
        })
    });
    group.finish();
}

criterion_group!(benches, ingest, aggregate, aggregate_window, hash, engine);
criterion_main!(benches);
