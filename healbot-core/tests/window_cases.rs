//! Data-driven cases for `healbot_core::window`: every `*.json` file under
//! `tests/data/window/` holds an array of cases; see the README there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use healbot_core::spec::Aggregation;
use healbot_core::window::{label_set_hash, BucketCounter, SeriesKey, SeriesStore, WindowConfig};
use healbot_core::Duration;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[allow(dead_code)]
    about: Option<String>,
    #[serde(default)]
    config: ConfigPatch,
    steps: Vec<Step>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigPatch {
    retention: Option<Duration>,
    max_series: Option<usize>,
    max_samples_per_series: Option<usize>,
    out_of_order_tolerance: Option<Duration>,
    series_grace: Option<Duration>,
}

/// A number, or `"NaN"`, `"+Inf"`, `"-Inf"` (JSON has no non-finite numbers).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
enum Num {
    Finite(f64),
    Named(NonFinite),
}

#[derive(Debug, Clone, Copy, Deserialize)]
enum NonFinite {
    #[serde(rename = "NaN")]
    Nan,
    #[serde(rename = "+Inf")]
    PosInf,
    #[serde(rename = "-Inf")]
    NegInf,
}

impl Num {
    fn get(self) -> f64 {
        match self {
            Num::Finite(v) => v,
            Num::Named(NonFinite::Nan) => f64::NAN,
            Num::Named(NonFinite::PosInf) => f64::INFINITY,
            Num::Named(NonFinite::NegInf) => f64::NEG_INFINITY,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum Step {
    /// Resolve `series`; `expect` is `"ok"` or `"limit"`.
    Resolve {
        series: String,
        expect: String,
    },
    /// Resolve `series` (it must succeed) and push each `[t, v]`; `expect`
    /// lists the `Push` outcomes by variant name.
    Push {
        series: String,
        samples: Vec<(i64, Num)>,
        expect: Option<Vec<String>>,
    },
    Agg {
        series: String,
        agg: Aggregation,
        q: Option<f64>,
        window: Duration,
        at: i64,
        expect: Option<f64>,
    },
    Forecast {
        series: String,
        window: Duration,
        at: i64,
        threshold: f64,
        expect: Option<f64>,
    },
    LastAt {
        series: String,
        expect: Option<i64>,
    },
    Samples {
        series: String,
        window: Duration,
        at: i64,
        expect: Vec<(i64, f64)>,
    },
    Evict {
        at: i64,
    },
    /// A partial `WindowStats`: only the fields given are compared.
    Stats {
        expect: BTreeMap<String, serde_json::Value>,
    },
    BucketNew {
        bucket: Duration,
        retention: Duration,
    },
    BucketAdd {
        at: i64,
        n: u32,
    },
    BucketEvict {
        at: i64,
    },
    BucketCount {
        window: Duration,
        at: i64,
        expect: u64,
    },
    BucketDropped {
        expect: u64,
    },
}

fn key(series: &str) -> SeriesKey {
    SeriesKey { node: 0, metric: 0, labels: label_set_hash(&[("series", series)]) }
}

fn close(got: Option<f64>, want: Option<f64>) -> bool {
    match (got, want) {
        (None, None) => true,
        (Some(a), Some(b)) => a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()),
        _ => false,
    }
}

/// Run one case; the error says which step failed and how.
fn run(case: &Case) -> Result<(), String> {
    let d = WindowConfig::default();
    let p = &case.config;
    let cfg = WindowConfig {
        retention: p.retention.unwrap_or(d.retention),
        max_series: p.max_series.unwrap_or(d.max_series),
        max_samples_per_series: p.max_samples_per_series.unwrap_or(d.max_samples_per_series),
        out_of_order_tolerance: p.out_of_order_tolerance.unwrap_or(d.out_of_order_tolerance),
        series_grace: p.series_grace.unwrap_or(d.series_grace),
    };
    let mut store = SeriesStore::new(cfg);
    let mut counter: Option<BucketCounter> = None;
    for (i, step) in case.steps.iter().enumerate() {
        let fail = |msg: String| Err(format!("step {i} ({step:?}): {msg}"));
        match step {
            Step::Resolve { series, expect } => {
                let got = match store.resolve(key(series)) {
                    Ok(_) => "ok",
                    Err(_) => "limit",
                };
                if got != expect {
                    return fail(format!("got {got}"));
                }
            }
            Step::Push { series, samples, expect } => {
                let Ok(id) = store.resolve(key(series)) else {
                    return fail("series limit".into());
                };
                let got: Vec<String> =
                    samples.iter().map(|(t, v)| format!("{:?}", store.push(id, *t, v.get()))).collect();
                if expect.as_ref().is_some_and(|e| *e != got) {
                    return fail(format!("got {got:?}"));
                }
            }
            Step::Agg { series, agg, q, window, at, expect } => {
                let got =
                    store.lookup(&key(series)).and_then(|id| store.aggregate(id, *agg, q.unwrap_or(0.0), *window, *at));
                if !close(got, *expect) {
                    return fail(format!("got {got:?}"));
                }
            }
            Step::Forecast { series, window, at, threshold, expect } => {
                let got =
                    store.lookup(&key(series)).and_then(|id| store.forecast_crossing(id, *window, *at, *threshold));
                if !close(got, *expect) {
                    return fail(format!("got {got:?}"));
                }
            }
            Step::LastAt { series, expect } => {
                let got = store.lookup(&key(series)).and_then(|id| store.last_at(id));
                if got != *expect {
                    return fail(format!("got {got:?}"));
                }
            }
            Step::Samples { series, window, at, expect } => {
                let got: Vec<(i64, f64)> = store
                    .lookup(&key(series))
                    .and_then(|id| store.samples(id, *window, *at))
                    .map(|it| it.collect())
                    .unwrap_or_default();
                if got != *expect {
                    return fail(format!("got {got:?}"));
                }
            }
            Step::Evict { at } => store.evict(*at),
            Step::Stats { expect } => {
                let stats = serde_json::to_value(store.stats()).unwrap();
                for (field, want) in expect {
                    match stats.get(field) {
                        Some(got) if got == want => {}
                        Some(got) => return fail(format!("{field}: got {got}")),
                        None => return fail(format!("no stats field `{field}`")),
                    }
                }
            }
            Step::BucketNew { bucket, retention } => counter = Some(BucketCounter::new(*bucket, *retention)),
            Step::BucketAdd { at, n } => match counter.as_mut() {
                Some(c) => c.add(*at, *n),
                None => return fail("no bucket_new before".into()),
            },
            Step::BucketEvict { at } => match counter.as_mut() {
                Some(c) => c.evict(*at),
                None => return fail("no bucket_new before".into()),
            },
            Step::BucketCount { window, at, expect } => {
                let got = counter.as_ref().map(|c| c.count(*window, *at));
                if got != Some(*expect) {
                    return fail(format!("got {got:?}"));
                }
            }
            Step::BucketDropped { expect } => {
                let got = counter.as_ref().map(BucketCounter::dropped);
                if got != Some(*expect) {
                    return fail(format!("got {got:?}"));
                }
            }
        }
    }
    Ok(())
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/window")
}

#[test]
fn window_cases() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut names = BTreeMap::new();
    let mut failures = String::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let cases: Vec<Case> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for case in cases {
            if let Some(prev) = names.insert(case.name.clone(), file.clone()) {
                panic!("case `{}` in {} repeats a name from {}", case.name, file.display(), prev.display());
            }
            if let Err(msg) = run(&case) {
                let _ = writeln!(failures, "{} / {}: {msg}", file.file_name().unwrap().to_string_lossy(), case.name);
            }
        }
    }
    assert!(failures.is_empty(), "failing cases:\n{failures}");
    assert!(names.len() >= 30, "only {} cases", names.len());
    println!("{} window cases passed", names.len());
}
