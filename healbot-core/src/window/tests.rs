//! Property tests against naive references, limits and snapshots.
//! The semantic cases live as data in `tests/data/window/`.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::spec::Aggregation;
use crate::Duration;

const ALL: [Aggregation; 10] = Aggregation::ALL;

fn key(labels: u64) -> SeriesKey {
    SeriesKey { node: 1, metric: 2, labels }
}

/// Naive reference: filter a plain Vec, compute textbook formulas.
fn reference(samples: &[(i64, f64)], agg: Aggregation, q: f64, window: i64, at: i64) -> Option<f64> {
    let w: Vec<(i64, f64)> = samples.iter().copied().filter(|&(t, _)| t > at - window && t <= at).collect();
    let values: Vec<f64> = w.iter().map(|s| s.1).collect();
    let n = values.len();
    let increase = || {
        if n < 2 {
            return None;
        }
        let mut inc = 0.0;
        for pair in values.windows(2) {
            inc += if pair[1] < pair[0] { pair[1] } else { pair[1] - pair[0] };
        }
        Some(inc)
    };
    match agg {
        Aggregation::Count => Some(n as f64),
        Aggregation::Last => values.last().copied(),
        Aggregation::Min => values.iter().copied().reduce(f64::min),
        Aggregation::Max => values.iter().copied().reduce(f64::max),
        Aggregation::Sum => (n > 0).then(|| values.iter().sum()),
        Aggregation::Avg => (n > 0).then(|| values.iter().sum::<f64>() / n as f64),
        Aggregation::Increase => increase(),
        Aggregation::Rate => increase().map(|inc| inc / ((w[n - 1].0 - w[0].0) as f64 / 1000.0)),
        Aggregation::Quantile => {
            if n == 0 || !(0.0..=1.0).contains(&q) {
                return None;
            }
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let rank = q * (n - 1) as f64;
            let lo = rank.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64))
        }
        Aggregation::Slope => reference_fit(&w).map(|(slope, _)| slope),
    }
}

/// (slope per second, value at the first sample's time) by the textbook formula.
fn reference_fit(w: &[(i64, f64)]) -> Option<(f64, f64)> {
    let n = w.len() as f64;
    if w.len() < 2 {
        return None;
    }
    let t0 = w[0].0;
    let (mut sx, mut sy, mut sxy, mut sxx) = (0.0, 0.0, 0.0, 0.0);
    for &(t, v) in w {
        let x = (t - t0) as f64 / 1000.0;
        sx += x;
        sy += v;
        sxy += x * v;
        sxx += x * x;
    }
    let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    Some((slope, (sy - slope * sx) / n))
}

/// Whether `got` matches `want` within `rel` of `scale`.
fn close(got: Option<f64>, want: Option<f64>, scale: f64, rel: f64) -> bool {
    match (got, want) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= rel * scale.max(b.abs()).max(1e-300),
        _ => false,
    }
}

/// The magnitude a result of `agg` can be wrong relative to.
fn scale(samples: &[(i64, f64)], agg: Aggregation, window: i64, at: i64) -> f64 {
    let w: Vec<(i64, f64)> = samples.iter().copied().filter(|&(t, _)| t > at - window && t <= at).collect();
    let abs_sum: f64 = w.iter().map(|s| s.1.abs()).sum();
    let max_abs = w.iter().map(|s| s.1.abs()).fold(0.0, f64::max);
    let span = match (w.first(), w.last()) {
        (Some(a), Some(b)) if b.0 > a.0 => (b.0 - a.0) as f64 / 1000.0,
        _ => 1.0,
    };
    match agg {
        Aggregation::Sum | Aggregation::Increase => abs_sum * 2.0,
        Aggregation::Avg => abs_sum / w.len().max(1) as f64,
        Aggregation::Rate => abs_sum * 2.0 / span,
        Aggregation::Slope => max_abs / span,
        _ => max_abs,
    }
}

/// Strictly increasing timestamps with values that look like counters with
/// resets, gauges, or both.
fn series_strategy() -> impl Strategy<Value = Vec<(i64, f64)>> {
    let base = -5_000_000_000i64..2_000_000_000_000i64;
    let steps = prop::collection::vec((1i64..40_000, 0u8..10, -1.0e6f64..1.0e6), 0..120);
    (base, steps, any::<bool>()).prop_map(|(base, steps, counter)| {
        let mut t = base;
        let mut v = 0.0f64;
        steps
            .into_iter()
            .map(|(gap, kind, x)| {
                t += gap;
                v = if counter {
                    if kind == 0 {
                        x.abs() / 1000.0 // reset
                    } else {
                        v + x.abs() / 100.0
                    }
                } else {
                    x
                };
                (t, v)
            })
            .collect()
    })
}

fn store_with(samples: &[(i64, f64)]) -> (SeriesStore, SeriesId) {
    let mut store = SeriesStore::new(WindowConfig { max_samples_per_series: 10_000, ..WindowConfig::default() });
    let id = store.resolve(key(0)).unwrap();
    // Read from the start, so that the pushes keep a summary.
    store.mark_read(id);
    for &(t, v) in samples {
        assert_eq!(store.push(id, t, v), Push::Accepted);
    }
    (store, id)
}

/// One operation on a series in [`mixed_ops`].
#[derive(Clone, Debug)]
enum Op {
    /// A sample `gap` ms after the newest, with a value of kind `kind`.
    Append { gap: i64, kind: u8, x: f64 },
    /// A sample `back` ms before the newest (within the tolerance or not).
    Late { back: i64, kind: u8, x: f64 },
    /// A new value for the stored sample at `index` (modulo their number).
    Replace { index: usize, x: f64 },
    /// `evict(newest + ahead)`.
    Evict { ahead: i64 },
}

/// Mostly in-order pushes 1–4 s apart (so windows hold hundreds of samples
/// and the min/max blocks are read), with late samples, replacements and
/// evictions mixed in.
fn ops_strategy() -> impl Strategy<Value = Vec<Op>> {
    let value = -1.0e6f64..1.0e6;
    let op = prop_oneof![
        12 => (1i64..4_000, 0u8..40, value.clone()).prop_map(|(gap, kind, x)| Op::Append { gap, kind, x }),
        2 => (0i64..30_000, 0u8..40, value.clone()).prop_map(|(back, kind, x)| Op::Late { back, kind, x }),
        1 => (any::<usize>(), value).prop_map(|(index, x)| Op::Replace { index, x }),
        1 => (-700_000i64..100_000).prop_map(|ahead| Op::Evict { ahead }),
    ];
    prop::collection::vec(op, 0..700)
}

/// A value of kind `kind` after `prev`: gauges (around zero, or a small
/// spread on a large offset), counters with resets, zeros, repeats, and a
/// rare huge value that the summaries must not let spoil later windows.
fn value_of(kind: u8, x: f64, prev: f64) -> f64 {
    match kind {
        0..=9 => x,
        10..=17 => 1.0e6 + x / 1.0e3,
        18..=27 => prev.abs() + x.abs() / 100.0,
        28..=29 => x.abs() / 1000.0, // a counter reset
        30..=33 => 0.0,
        34..=38 => prev,
        _ => x * 1.0e150,
    }
}

/// The store's rules replayed on a sorted map: which samples it keeps.
struct Model {
    samples: BTreeMap<i64, f64>,
    last_at: Option<i64>,
    horizon: i64,
    cfg: WindowConfig,
}

impl Model {
    fn push(&mut self, t: i64, v: f64) -> Push {
        if t <= self.horizon {
            return Push::TooOld;
        }
        let outcome = match self.last_at {
            Some(last) if t <= last => {
                if last - t > self.cfg.out_of_order_tolerance.as_millis_i64() {
                    return Push::TooOld;
                }
                if self.samples.insert(t, v).is_some() {
                    return Push::Replaced;
                }
                Push::OutOfOrderAccepted
            }
            _ => {
                self.samples.insert(t, v);
                self.last_at = Some(t);
                Push::Accepted
            }
        };
        if self.samples.len() > self.cfg.max_samples_per_series {
            self.samples.pop_first();
        }
        outcome
    }

    fn evict(&mut self, at: i64) {
        let cutoff = at - self.cfg.retention.as_millis_i64();
        self.horizon = self.horizon.max(cutoff);
        self.samples.retain(|&t, _| t > cutoff);
    }
}

/// Replay `ops` on a store and on a [`Model`]; check that they keep the
/// same samples and return the store, the series and those samples.
fn replay(ops: &[Op], max_samples: usize) -> (SeriesStore, SeriesId, Vec<(i64, f64)>) {
    let cfg = WindowConfig {
        retention: Duration::from_secs(600),
        max_samples_per_series: max_samples,
        out_of_order_tolerance: Duration::from_secs(20),
        series_grace: Duration::from_secs(1_000_000_000),
        ..WindowConfig::default()
    };
    let mut store = SeriesStore::new(cfg);
    let id = store.resolve(key(0)).unwrap();
    store.mark_read(id);
    let mut model = Model { samples: BTreeMap::new(), last_at: None, horizon: i64::MIN, cfg };
    let mut newest = 1_767_225_600_000i64;
    let mut prev = 0.0f64;
    for op in ops {
        let (t, v) = match *op {
            Op::Append { gap, kind, x } => (newest + gap, value_of(kind, x, prev)),
            Op::Late { back, kind, x } => (newest - back, value_of(kind, x, prev)),
            Op::Replace { index, x } => match model.samples.keys().nth(index % model.samples.len().max(1)) {
                Some(&t) => (t, x),
                None => continue,
            },
            Op::Evict { ahead } => {
                store.evict(newest + ahead);
                model.evict(newest + ahead);
                continue;
            }
        };
        let want = model.push(t, v);
        assert_eq!(store.push(id, t, v), want, "push ({t}, {v})");
        if want.is_stored() {
            newest = newest.max(t);
            prev = v;
        }
    }
    let kept: Vec<(i64, f64)> = model.samples.into_iter().collect();
    let got: Vec<(i64, f64)> = store.samples(id, Duration::from_secs(1 << 40), newest).unwrap().collect();
    assert_eq!(got, kept);
    (store, id, kept)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Every aggregate, read through the summaries after pushes in and out
    /// of order, replacements, evictions and capacity drops, equals the
    /// naive reference over the samples kept (within the rounding of the
    /// reference's plain sums) and the scan of the window (within about
    /// 2^-40 of the magnitudes; `last`, `count`, `min`, `max` and `quantile`
    /// exactly).
    #[test]
    fn aggregates_match_reference_under_mixed_operations(
        ops in ops_strategy(),
        max_samples in prop_oneof![8usize..40, 40usize..400],
        probes in prop::collection::vec((0i64..700_000, -20_000i64..200_000, 0.0f64..=1.0), 12),
    ) {
        let (store, id, kept) = replay(&ops, max_samples);
        let newest = kept.last().map_or(0, |s| s.0);
        for (window, back, q) in probes {
            let at = newest - back;
            let w = Duration::from_millis(window as u64);
            for agg in ALL {
                let got = store.aggregate(id, agg, q, w, at);
                let want = reference(&kept, agg, q, window, at);
                let s = scale(&kept, agg, window, at);
                prop_assert!(close(got, want, s, 1e-11), "{agg:?} window={window} at={at}: got {got:?}, want {want:?}");
                let scanned = store.scan_read(id, agg, q, w, at);
                match agg {
                    Aggregation::Last | Aggregation::Count | Aggregation::Min | Aggregation::Max | Aggregation::Quantile => {
                        prop_assert_eq!(got.map(f64::to_bits), scanned.map(f64::to_bits), "{:?}", agg);
                    }
                    _ => prop_assert!(close(got, scanned, s, 1e-12), "{agg:?} window={window} at={at}: got {got:?}, scan {scanned:?}"),
                }
            }
            let line = store.summary_line(id, w, at);
            let scanned_line = store.scan_read(id, Aggregation::Slope, 0.0, w, at);
            if let (Some((slope, _)), Some(want)) = (line, scanned_line) {
                let s = scale(&kept, Aggregation::Slope, window, at);
                prop_assert!((slope - want).abs() <= 1e-12 * s.max(want.abs()), "line slope {slope}, scan {want}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn aggregates_match_naive_reference(
        samples in series_strategy(),
        window in 0i64..3_000_000,
        at_offset in -100_000i64..3_000_000,
        q in 0.0f64..=1.0,
    ) {
        let (store, id) = store_with(&samples);
        let at = samples.first().map_or(0, |s| s.0) + at_offset;
        for agg in ALL {
            let got = store.aggregate(id, agg, q, Duration::from_millis(window as u64), at);
            let want = reference(&samples, agg, q, window, at);
            let s = scale(&samples, agg, window, at);
            prop_assert!(close(got, want, s, 1e-9), "{agg:?} window={window} at={at}: got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn forecast_matches_reference_line(
        samples in series_strategy(),
        window in 1i64..3_000_000,
        at_offset in 0i64..3_000_000,
        threshold in -2.0e6f64..2.0e6,
    ) {
        let (store, id) = store_with(&samples);
        let at = samples.first().map_or(0, |s| s.0) + at_offset;
        let got = store.forecast_crossing(id, Duration::from_millis(window as u64), at, threshold);
        let w: Vec<(i64, f64)> = samples.iter().copied().filter(|&(t, _)| t > at - window && t <= at).collect();
        match reference_fit(&w) {
            None => prop_assert_eq!(got, None),
            Some((slope, b)) => {
                let now = b + slope * (at - w[0].0) as f64 / 1000.0;
                let want = if now == threshold { Some(0.0) } else if slope == 0.0 { None } else { Some(((threshold - now) / slope).max(0.0)) };
                let max_abs = w.iter().map(|s| s.1.abs()).fold(threshold.abs(), f64::max);
                match (got, want) {
                    (None, None) => {}
                    (Some(g), Some(e)) => {
                        // The crossing time divides a difference of values by the slope.
                        let tol = 1e-6 * (e.abs() + 1.0) + 1e-8 * max_abs / slope.abs();
                        prop_assert!((g - e).abs() <= tol, "got {g}, want {e}, slope {slope}, now {now}");
                    }
                    (g, e) => prop_assert!(false, "got {g:?}, want {e:?}, slope {slope}, now {now}"),
                }
            }
        }
    }

    #[test]
    fn out_of_order_pushes_equal_sorted_last_write_wins(
        pushes in prop::collection::vec((0i64..5_000, -100.0f64..100.0), 0..200),
    ) {
        let cfg = WindowConfig { out_of_order_tolerance: Duration::from_secs(10), ..WindowConfig::default() };
        let mut store = SeriesStore::new(cfg);
        let id = store.resolve(key(0)).unwrap();
        let mut want = BTreeMap::new();
        for &(t, v) in &pushes {
            prop_assert!(store.push(id, t, v).is_stored());
            want.insert(t, v);
        }
        let got: Vec<(i64, f64)> = store.samples(id, Duration::from_secs(100), 5_000).unwrap().collect();
        let want: Vec<(i64, f64)> = want.into_iter().collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn bucket_counts_bracket_exact_counts(
        events in prop::collection::vec((0i64..600_000, 1u32..5), 0..200),
        bucket_s in 1u64..60,
        window in 1i64..600_000,
        at in 0i64..700_000,
    ) {
        let b = (bucket_s * 1000) as i64;
        let mut c = BucketCounter::new(Duration::from_secs(bucket_s), Duration::from_secs(3600));
        for &(t, n) in &events {
            c.add(t, n);
        }
        let exact = |lo: i64, hi: i64| events.iter().filter(|e| e.0 > lo && e.0 <= hi).map(|e| u64::from(e.1)).sum::<u64>();
        let got = c.count(Duration::from_millis(window as u64), at);
        prop_assert!(got >= exact(at - window, at));
        let bucket_end = (at + b - 1).div_euclid(b) * b;
        prop_assert!(got <= exact(at - window - b, bucket_end));
        // Aligned windows are exact.
        let (aw, aat) = (window.div_euclid(b).max(1) * b, at.div_euclid(b) * b);
        prop_assert_eq!(c.count(Duration::from_millis(aw as u64), aat), exact(aat - aw, aat));
    }

    #[test]
    fn pushes_never_panic_and_keep_invariants(
        ops in prop::collection::vec((0u64..4, -1_000_000i64..1_000_000, prop_oneof![Just(f64::NAN), Just(f64::INFINITY), -10.0f64..10.0], 0u8..4), 0..300),
    ) {
        let cfg = WindowConfig {
            retention: Duration::from_secs(100),
            max_series: 3,
            max_samples_per_series: 16,
            out_of_order_tolerance: Duration::from_secs(30),
            series_grace: Duration::from_secs(10),
        };
        let mut store = SeriesStore::new(cfg);
        for (labels, t, v, op) in ops {
            match op {
                0 => store.evict(t),
                _ => if let Ok(id) = store.resolve(key(labels)) { store.push(id, t, v); },
            }
            let stats = store.stats();
            prop_assert!(stats.series <= 3);
            prop_assert!(stats.samples <= 3 * 16);
        }
        let bytes = postcard::to_stdvec(&store).unwrap();
        let back: SeriesStore = postcard::from_bytes(&bytes).unwrap();
        prop_assert_eq!(postcard::to_stdvec(&back).unwrap(), bytes);
    }
}

/// Reads the summary answers alone, checked against the scan.
const SUMMED: [Aggregation; 5] =
    [Aggregation::Sum, Aggregation::Avg, Aggregation::Increase, Aggregation::Rate, Aggregation::Slope];

fn relative_gap(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(f64::MIN_POSITIVE)
}

#[test]
fn summaries_answer_regular_reads_without_scanning() {
    let mut store = SeriesStore::new(WindowConfig::default());
    let gauge = store.resolve(key(1)).unwrap();
    let counter = store.resolve(key(2)).unwrap();
    store.mark_read(gauge);
    store.mark_read(counter);
    let start = 1_767_225_600_000i64;
    let mut total = 0.0;
    for i in 0..1_000i64 {
        let t = start + i * 15_000;
        let v = 500.0 + ((i * 7_919) % 1_000) as f64 * 0.37 - (i % 13) as f64 * 11.0;
        store.push(gauge, t, v);
        total = if i % 300 == 299 { 3.0 } else { total + (i % 7) as f64 * 1.5 };
        store.push(counter, t, total);
    }
    let at = start + 999 * 15_000;
    for id in [gauge, counter] {
        assert!(store.has_summary(id));
        for secs in [60, 300, 3_600, 15_000] {
            let w = Duration::from_secs(secs);
            for agg in SUMMED {
                let fast = store.summary_read(id, agg, w, at);
                let scanned = store.scan_read(id, agg, 0.0, w, at).unwrap();
                let fast = fast.unwrap_or_else(|| panic!("{agg:?} over {secs}s was scanned"));
                assert!(relative_gap(fast, scanned) < 1e-13, "{agg:?} {secs}s: {fast} vs {scanned}");
                assert_eq!(store.aggregate(id, agg, 0.0, w, at), Some(fast));
            }
            let (slope, _) = store.summary_line(id, w, at).unwrap();
            assert_eq!(store.aggregate(id, Aggregation::Slope, 0.0, w, at), Some(slope));
            for agg in [Aggregation::Min, Aggregation::Max, Aggregation::Quantile, Aggregation::Last] {
                assert_eq!(store.aggregate(id, agg, 0.9, w, at), store.scan_read(id, agg, 0.9, w, at), "{agg:?}");
            }
        }
    }
}

#[test]
fn counters_without_resets_and_zero_windows_are_exact() {
    let mut store = SeriesStore::new(WindowConfig::default());
    let id = store.resolve(key(0)).unwrap();
    store.mark_read(id);
    // A counter that reset once, long ago, then stayed flat; a gauge
    // that was busy, then stayed at zero.
    let values = [5.0, 9.0, 2.0, 2.5, 7.25, 7.25, 7.25, 7.25, 7.25, 7.25, 7.25, 7.25];
    for (i, v) in values.iter().enumerate() {
        store.push(id, i as i64 * 15_000, *v);
    }
    let at = 11 * 15_000;
    let w = Duration::from_secs(90);
    assert_eq!(store.summary_read(id, Aggregation::Increase, w, at), Some(0.0));
    assert_eq!(store.summary_read(id, Aggregation::Rate, w, at), Some(0.0));
    // A flat line cancels to zero: the summary cannot certify it and the
    // scan answers, exactly 0 as before.
    assert_eq!(store.summary_read(id, Aggregation::Slope, w, at), None);
    assert_eq!(store.aggregate(id, Aggregation::Slope, 0.0, w, at), Some(0.0));
    assert_eq!(store.forecast_crossing(id, w, at, 8.0), None);

    let zeros = store.resolve(key(1)).unwrap();
    store.mark_read(zeros);
    for (i, v) in [3.5, -1.25, 8.0, 0.0, 0.0, -0.0, 0.0, 0.0, 0.0, 0.0].iter().enumerate() {
        store.push(zeros, i as i64 * 15_000, *v);
    }
    let at = 9 * 15_000;
    let w = Duration::from_secs(100);
    assert_eq!(store.summary_read(zeros, Aggregation::Sum, w, at).map(f64::to_bits), Some(0f64.to_bits()));
    assert_eq!(store.summary_read(zeros, Aggregation::Avg, w, at), Some(0.0));
    assert_eq!(store.aggregate(zeros, Aggregation::Sum, 0.0, Duration::from_secs(200), at), Some(10.25));
    // -0.0 is the least of the zeros, whichever way the blocks combine.
    assert_eq!(store.aggregate(zeros, Aggregation::Min, 0.0, w, at).map(f64::to_bits), Some((-0.0f64).to_bits()));
    assert_eq!(store.aggregate(zeros, Aggregation::Max, 0.0, w, at).map(f64::to_bits), Some(0f64.to_bits()));
}

#[test]
fn a_huge_value_does_not_spoil_later_windows() {
    let cfg = WindowConfig { retention: Duration::from_secs(600), ..WindowConfig::default() };
    let mut store = SeriesStore::new(cfg);
    let id = store.resolve(key(0)).unwrap();
    store.mark_read(id);
    let w = Duration::from_secs(300);
    let mut answered_after_rebuild = false;
    for i in 0..400i64 {
        let t = i * 15_000;
        let v = if i == 10 { 1.0e300 } else { 1.0 + (i % 5) as f64 * 0.1 };
        store.push(id, t, v);
        store.evict(t);
        if i < 40 {
            continue;
        }
        // The window no longer holds the huge value; the prefixes still do
        // until the summary is rebuilt, and cannot resolve these sums.
        for agg in SUMMED {
            let got = store.aggregate(id, agg, 0.0, w, t);
            let want = store.scan_read(id, agg, 0.0, w, t);
            match store.summary_read(id, agg, w, t) {
                Some(fast) => assert!(relative_gap(fast, want.unwrap()) < 1e-13, "{agg:?} at {t}: {fast} vs {want:?}"),
                None => assert_eq!(got, want, "{agg:?} at {t}"),
            }
        }
        let sum = store.aggregate(id, Aggregation::Sum, 0.0, w, t).unwrap();
        assert!((sum - 24.0).abs() < 1e-9, "sum {sum} at {t}");
        answered_after_rebuild |= store.summary_read(id, Aggregation::Sum, w, t).is_some();
    }
    // Within two retentions of samples, the summary was rebuilt without it.
    assert!(answered_after_rebuild);
    assert!(store.summary_read(id, Aggregation::Avg, w, 399 * 15_000).is_some());
}

#[test]
fn a_huge_value_after_the_newest_checkpoint_is_bounded_too() {
    // Samples 16.. come after the newest checkpoint (made when sample 16
    // arrived). A read of the window holding samples 18 and 19 starts from
    // that checkpoint and passes over sample 17: its magnitude must enter
    // the error bound although no checkpoint has summed it yet.
    let mut store = SeriesStore::new(WindowConfig::default());
    let id = store.resolve(key(0)).unwrap();
    store.mark_read(id);
    for i in 0..20i64 {
        store.push(id, i * 1_000, if i == 17 { 1.0e150 } else { i as f64 + 0.5 });
    }
    let w = Duration::from_millis(1_500);
    assert_eq!(store.aggregate(id, Aggregation::Sum, 0.0, w, 19_000), Some(38.0));
    assert_eq!(store.aggregate(id, Aggregation::Avg, 0.0, w, 19_000), Some(19.0));
    assert_eq!(store.aggregate(id, Aggregation::Slope, 0.0, w, 19_000), Some(1.0));
    assert_eq!(store.aggregate(id, Aggregation::Increase, 0.0, w, 19_000), Some(1.0));
    for agg in ALL {
        assert_eq!(store.aggregate(id, agg, 0.5, w, 19_000), store.scan_read(id, agg, 0.5, w, 19_000), "{agg:?}");
    }
}

#[test]
fn overflowing_values_keep_their_documented_results() {
    let mut store = SeriesStore::new(WindowConfig::default());
    let id = store.resolve(key(0)).unwrap();
    store.mark_read(id);
    for i in 0..20i64 {
        store.push(id, i * 1_000, if i % 2 == 0 { 1.7e308 } else { 1.6e308 });
    }
    let w = Duration::from_secs(60);
    let at = 19_000;
    assert_eq!(store.aggregate(id, Aggregation::Sum, 0.0, w, at), Some(f64::INFINITY));
    assert_eq!(store.aggregate(id, Aggregation::Avg, 0.0, w, at), store.scan_read(id, Aggregation::Avg, 0.0, w, at));
    for agg in ALL {
        assert_eq!(store.aggregate(id, agg, 0.5, w, at), store.scan_read(id, agg, 0.5, w, at), "{agg:?}");
    }
    // Values back to normal: once the huge ones have left, reads are exact again.
    for i in 20..200i64 {
        store.push(id, i * 1_000, i as f64);
    }
    store.evict(200_000 + 3_600_000 - 150_000);
    let at = 199_000;
    assert_eq!(store.aggregate(id, Aggregation::Sum, 0.0, Duration::from_secs(10), at), Some(1_945.0));
    assert_eq!(store.aggregate(id, Aggregation::Slope, 0.0, Duration::from_secs(10), at), Some(1.0));
}

#[test]
fn full_series_keep_their_buffers_at_the_limit() {
    let mut store = SeriesStore::new(WindowConfig { max_samples_per_series: 256, ..WindowConfig::default() });
    let id = store.resolve(key(0)).unwrap();
    for i in 0..5_000i64 {
        store.push(id, i * 15_000, (i % 97) as f64);
    }
    let unread = store.stats();
    assert_eq!(unread.samples, 256);
    assert!(!store.has_summary(id));
    // 16 bytes per sample, the slot and the index: the ring buffer never
    // doubled past the limit.
    assert!(unread.heap_bytes < 256 * 16 + 1_024, "heap {}", unread.heap_bytes);
    assert_eq!(store.aggregate(id, Aggregation::Count, 0.0, Duration::from_secs(60), 4_999 * 15_000), Some(4.0));
    for i in 5_000..10_000i64 {
        store.push(id, i * 15_000, (i % 97) as f64);
    }
    assert!(store.has_summary(id));
    // Read: a summary too, 80 bytes of checkpoint per 8 samples and a
    // min/max per 32; its buffers grow by doubling.
    let read = store.stats().heap_bytes - unread.heap_bytes;
    assert!(read >= 256 / 8 * 80, "summary of {read} bytes looks under-counted");
    assert!(read < 2 * (256 / 8 + 1) * 80 + 2 * 16 * 16 + 256, "summary of {read} bytes");
}

#[test]
fn one_million_label_sets_stay_bounded() {
    let mut store = SeriesStore::new(WindowConfig::default());
    let mut refused = 0u64;
    for i in 0..1_000_000u64 {
        let k = SeriesKey { node: (i % 7) as u32, metric: 3, labels: label_set_hash(&[("id", &i.to_string())]) };
        match store.resolve(k) {
            Ok(id) => assert_eq!(store.push(id, 1_000, i as f64), Push::Accepted),
            Err(e) => {
                assert_eq!(e.max_series, 100_000);
                refused += 1;
            }
        }
    }
    let stats = store.stats();
    assert_eq!(stats.series, 100_000);
    assert_eq!(stats.samples, 100_000);
    assert_eq!(refused, 900_000);
    assert_eq!(stats.dropped_series_limit, 900_000);
    // About 100 bytes of slot, one small ring buffer and an index entry per series.
    assert!(stats.heap_bytes < 100_000 * 256, "heap {}", stats.heap_bytes);
    assert!(stats.heap_bytes > 100_000 * 64, "heap {} looks under-counted", stats.heap_bytes);
}

#[test]
fn samples_per_series_are_capped() {
    let mut store = SeriesStore::new(WindowConfig { max_samples_per_series: 4, ..WindowConfig::default() });
    let id = store.resolve(key(0)).unwrap();
    for t in 0..10 {
        store.push(id, t * 1000, t as f64);
    }
    let stats = store.stats();
    assert_eq!(stats.samples, 4);
    assert_eq!(stats.dropped_capacity, 6);
    assert_eq!(store.aggregate(id, Aggregation::Min, 0.0, Duration::from_secs(3600), 9_000), Some(6.0));
    assert!(stats.heap_bytes < 4096);
}

#[test]
fn stale_handles_are_unknown_after_the_slot_is_reused() {
    let cfg =
        WindowConfig { retention: Duration::from_secs(10), series_grace: Duration::ZERO, ..WindowConfig::default() };
    let mut store = SeriesStore::new(cfg);
    let old = store.resolve(key(1)).unwrap();
    store.push(old, 0, 1.0);
    store.evict(20_000);
    assert_eq!(store.len(), 0);
    let new = store.resolve(key(2)).unwrap();
    assert_ne!(old, new);
    assert_eq!(store.push(old, 30_000, 1.0), Push::UnknownSeries);
    assert_eq!(store.aggregate(old, Aggregation::Count, 0.0, Duration::from_secs(10), 30_000), None);
    assert_eq!(store.key(new), Some(key(2)));
    assert_eq!(store.lookup(&key(1)), None);
    assert_eq!(store.stats().dropped_unknown_series, 1);
}

#[test]
fn snapshots_round_trip_and_keep_handles() {
    let mut store = SeriesStore::new(WindowConfig::default());
    let ids: Vec<SeriesId> = (0..50).map(|i| store.resolve(key(i)).unwrap()).collect();
    for id in &ids {
        store.mark_read(*id);
    }
    for (i, id) in ids.iter().enumerate() {
        for t in 0..20 {
            store.push(*id, t * 15_000, (i as i64 * t % 17) as f64);
        }
    }
    store.evict(3_700_000); // cut-off 100 s: 13 samples of 20 remain per series
    let bytes = postcard::to_stdvec(&store).unwrap();
    let back: SeriesStore = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(postcard::to_stdvec(&back).unwrap(), bytes);
    // Buffer capacities may differ after a round trip; everything else may not.
    let without_heap = |s: WindowStats| WindowStats { heap_bytes: 0, ..s };
    assert_eq!(without_heap(back.stats()), without_heap(store.stats()));
    assert_eq!(back.stats().samples, 50 * 13);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(back.lookup(&key(i as u64)), Some(*id));
        assert_eq!(back.last_at(*id), store.last_at(*id));
        // Summaries are not saved: a series read before the snapshot gets
        // one again after its next read and push. Reads agree throughout,
        // but for the last bits of a result the summary and the scan round
        // differently (here a slope).
        assert!(store.has_summary(*id));
        assert!(!back.has_summary(*id));
        for agg in ALL {
            for secs in [30, 60, 3_600] {
                let w = Duration::from_secs(secs);
                let (got, want) =
                    (back.aggregate(*id, agg, 0.25, w, 300_000), store.aggregate(*id, agg, 0.25, w, 300_000));
                assert!(close(got, want, 1.0, 1e-13), "{agg:?} {secs}s: {got:?} vs {want:?}");
            }
        }
    }
    let json = serde_json::to_string(&store).unwrap();
    let from_json: SeriesStore = serde_json::from_str(&json).unwrap();
    assert_eq!(postcard::to_stdvec(&from_json).unwrap(), bytes);

    let mut counter = BucketCounter::new(Duration::from_secs(10), Duration::from_secs(600));
    counter.add(5_000, 3);
    let back: BucketCounter = postcard::from_bytes(&postcard::to_stdvec(&counter).unwrap()).unwrap();
    assert_eq!(back, counter);
}

#[test]
fn corrupt_snapshots_are_rejected() {
    let mut store = SeriesStore::new(WindowConfig::default());
    let id = store.resolve(key(0)).unwrap();
    store.push(id, 1_000, 1.0);
    store.push(id, 2_000, 2.0);
    let good = serde_json::to_value(&store).unwrap();
    let corrupt = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        f(&mut v);
        serde_json::from_value::<SeriesStore>(v).unwrap_err().to_string()
    };
    let unsorted = corrupt(&|v| v["slots"][0]["series"]["samples"][1]["t"] = 500.into());
    assert!(unsorted.contains("time order"), "{unsorted}");
    let duplicate = corrupt(&|v| {
        let slot = v["slots"][0].clone();
        v["slots"].as_array_mut().unwrap().push(slot);
    });
    assert!(duplicate.contains("repeats the key"), "{duplicate}");
    let free = corrupt(&|v| v["free"] = serde_json::json!([0]));
    assert!(free.contains("free slot"), "{free}");
    let limit = corrupt(&|v| v["config"]["max_series"] = 0.into());
    assert!(limit.contains("exceed the limit"), "{limit}");
}

#[test]
fn limit_error_maps_to_core_error_kind() {
    let err: crate::Error = LimitExceeded { max_series: 5 }.into();
    assert_eq!(err.kind(), crate::ErrorKind::Limit);
    assert!(err.to_string().contains("series limit of 5"));
}

#[test]
fn label_hashes_do_not_collide_on_a_million_sets() {
    let mut seen = std::collections::HashSet::with_capacity(1_100_000);
    for i in 0..1_000_000u64 {
        // Varied lengths cross every read path (0-3, 4-8, 9-16, > 16 bytes).
        let value = format!("{i:x}{}", "z".repeat((i % 23) as usize));
        assert!(seen.insert(label_set_hash(&[("k", &value)])), "collision at {i}");
    }
    // Every short string over a small alphabet, and boundary placements.
    let alphabet = ["", "a", "b", "\0"];
    for a in alphabet {
        for b in alphabet {
            for c in alphabet {
                let s = format!("{a}{b}{c}");
                seen.insert(label_set_hash(&[(&s, "")]));
            }
        }
    }
    assert!(seen.len() >= 1_000_000 + 40);
    assert_ne!(label_set_hash(&[]), label_set_hash(&[("", "")]));
    assert_ne!(label_set_hash(&[("a", "b"), ("c", "d")]), label_set_hash(&[("c", "d"), ("a", "b")]));
}

/// What one store shows of itself: everything but `heap_bytes` (lazily
/// dropped buffers are given back later).
fn observed(store: &SeriesStore) -> WindowStats {
    WindowStats { heap_bytes: 0, ..store.stats() }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    /// `advance` is `evict` to everyone outside: the same push outcomes,
    /// handles, limits, statistics and windows, through series that come,
    /// go idle, outlive their grace and come back.
    #[test]
    fn advance_is_observably_evict(
        ops in prop::collection::vec((0u8..8, 0u64..5, 0i64..40_000, -10.0f64..10.0), 0..250),
        probes in prop::collection::vec((1i64..300_000, 0i64..60_000, 0.0f64..=1.0), 3),
    ) {
        let cfg = WindowConfig {
            retention: Duration::from_secs(100),
            max_series: 3,
            max_samples_per_series: 24,
            out_of_order_tolerance: Duration::from_secs(20),
            series_grace: Duration::from_secs(50),
        };
        let (mut eager, mut lazy) = (SeriesStore::new(cfg), SeriesStore::new(cfg));
        let mut ids: BTreeMap<u64, SeriesId> = BTreeMap::new();
        let mut now = 1_767_225_600_000i64;
        for (op, labels, dt, v) in ops {
            match op {
                // Time moves on: the clock of an evaluation loop.
                0 | 1 => {
                    now += dt * 4;
                    eager.evict(now);
                    lazy.advance(now);
                }
                2 => {
                    let (a, b) = (eager.resolve(key(labels)), lazy.resolve(key(labels)));
                    prop_assert_eq!(a, b);
                    if let Ok(id) = a {
                        ids.insert(labels, id);
                    }
                }
                _ => {
                    // A push, on time or late, through a handle that may be stale.
                    let Some(&id) = ids.get(&labels) else { continue };
                    let t = if op == 3 { now - dt } else { now + dt / 10 };
                    prop_assert_eq!(eager.push(id, t, v), lazy.push(id, t, v), "push at {}", t);
                }
            }
            prop_assert_eq!(observed(&eager), observed(&lazy));
            prop_assert_eq!(eager.len(), lazy.len());
            for (&labels, &id) in &ids {
                prop_assert_eq!(eager.last_at(id), lazy.last_at(id), "series {}", labels);
                prop_assert_eq!(eager.lookup(&key(labels)), lazy.lookup(&key(labels)));
                for &(window, back, q) in &probes {
                    let (w, at) = (Duration::from_millis(window as u64), now - back);
                    let a: Option<Vec<_>> = eager.samples(id, w, at).map(Iterator::collect);
                    let b: Option<Vec<_>> = lazy.samples(id, w, at).map(Iterator::collect);
                    prop_assert_eq!(a, b);
                    for agg in ALL {
                        let (a, b) = (eager.scan_read(id, agg, q, w, at), lazy.scan_read(id, agg, q, w, at));
                        prop_assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits), "{:?}", agg);
                    }
                }
            }
        }
        // A snapshot of the lazy store restores to one that still agrees.
        let back: SeriesStore = postcard::from_bytes(&postcard::to_stdvec(&lazy).unwrap()).unwrap();
        prop_assert_eq!(observed(&back), observed(&lazy));
        now += 500_000;
        eager.evict(now);
        let mut back = back;
        back.advance(now);
        prop_assert_eq!(observed(&eager), observed(&back));
    }
}

proptest! {
    /// A counter evicted only before it adds, read with
    /// `count_after_evict`, answers as one evicted every time the clock
    /// moved on: what the engine does to its log and event counters.
    #[test]
    fn counting_after_evict_is_evicting(
        ops in prop::collection::vec((any::<bool>(), 0i64..400_000, 1u32..4), 0..120),
        probes in prop::collection::vec((1i64..700_000, 0i64..200_000), 4),
        bucket_s in 1u64..30,
    ) {
        let (b, retention) = (Duration::from_secs(bucket_s), Duration::from_secs(300));
        let (mut eager, mut lazy) = (BucketCounter::new(b, retention), BucketCounter::new(b, retention));
        let mut now = 1_767_225_600_000i64;
        let mut evicted_at = i64::MIN;
        for (moves, dt, n) in ops {
            if moves {
                now += dt;
                eager.evict(now);
                evicted_at = now;
            } else {
                // A line up to 400 s late, or 100 s early.
                let t = now - dt + 100_000;
                eager.add(t, n);
                lazy.evict(evicted_at);
                lazy.add(t, n);
            }
            for &(window, back) in &probes {
                let (w, at) = (Duration::from_millis(window as u64), now - back);
                prop_assert_eq!(eager.count(w, at), lazy.count_after_evict(w, at, evicted_at), "window {} at {}", window, at);
            }
            prop_assert_eq!(eager.dropped(), lazy.dropped());
        }
    }
}

/// A handle kept as a number (as the C binding does, holding no table)
/// comes back as the same handle; after its series is evicted it was still
/// issued but names nothing, even when its slot serves another series, and
/// a number the store never gave out was not issued.
#[test]
fn handles_as_numbers_tell_evicted_from_never_issued() {
    let mut store = SeriesStore::new(WindowConfig {
        retention: Duration::from_secs(60),
        series_grace: Duration::from_secs(60),
        ..WindowConfig::default()
    });
    let a = store.resolve(key(0)).unwrap();
    assert_eq!(SeriesId::from_bits(a.to_bits()), a);
    store.push(a, 1_000, 1.0);
    store.evict(10_000_000);
    assert_eq!(store.key(a), None, "evicted");
    let b = store.resolve(key(1)).unwrap();
    assert_eq!(b.to_bits() >> 32, a.to_bits() >> 32, "the slot is reused");
    assert_ne!(b, a);
    assert!(store.was_issued(a) && store.was_issued(b));
    assert_eq!(store.push(SeriesId::from_bits(a.to_bits()), 10_000_500, 2.0), Push::UnknownSeries);
    assert_eq!(store.push(b, 10_000_500, 2.0), Push::Accepted);
    for forged in [b.to_bits() + 1, 1 << 32, u64::MAX] {
        assert!(!store.was_issued(SeriesId::from_bits(forged)), "{forged:#x}");
        assert_eq!(store.push(SeriesId::from_bits(forged), 10_000_600, 3.0), Push::UnknownSeries);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A read through a [`ReadCache`] is the read, bit for bit: through
    /// pushes in order, late and replacing, time moving by `advance` and
    /// `evict`, series dropped and their slots reused, sweeps, and reads at
    /// clocks that move by less than a sample's spacing (so most of them
    /// are answered from the cache) or by more.
    #[test]
    fn cached_reads_are_reads(
        ops in prop::collection::vec((0u8..10, 0u64..4, 0i64..40, -10.0f64..10.0), 0..300),
        reads in prop::collection::vec((0usize..10, 0i64..120, 0.0f64..=1.0), 4),
    ) {
        let cfg = WindowConfig {
            retention: Duration::from_secs(120),
            max_series: 3,
            max_samples_per_series: 24,
            out_of_order_tolerance: Duration::from_secs(30),
            series_grace: Duration::from_secs(60),
        };
        let mut store = SeriesStore::new(cfg);
        let mut cache = ReadCache::new();
        let mut ids: BTreeMap<u64, SeriesId> = BTreeMap::new();
        let mut now = 1_767_225_600_000i64;
        let (mut compared, mut hits_before) = (0u64, 0u64);
        for (op, labels, dt, v) in ops {
            // Whole seconds, so that clocks, window ends and samples meet.
            let dt = dt * 1_000;
            match op {
                0 | 1 => {
                    let Some(&id) = ids.get(&labels) else { continue };
                    let t = if op == 0 { now + dt % 8_000 } else { now - dt };
                    store.push(id, t, v);
                }
                2 => {
                    now += dt;
                    store.advance(now);
                }
                3 => {
                    now += dt / 4;
                    store.evict(now);
                }
                4 => {
                    if let Ok(id) = store.resolve(key(labels)) {
                        ids.insert(labels, id);
                    }
                }
                5 => cache.sweep(),
                _ => {
                    // The clock of an evaluation loop: a little later each time.
                    now += dt % 3_000;
                    for (&labels, &id) in &ids {
                        for &(agg, window, q) in &reads {
                            let (agg, w) = (ALL[agg], Duration::from_secs(window as u64));
                            for at in [now, now - dt % 4_000] {
                                let want = store.aggregate(id, agg, q, w, at);
                                let got = store.aggregate_cached(&mut cache, id, agg, q, w, at);
                                prop_assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits),
                                    "{:?} over {} ms at {} of series {}", agg, window, at, labels);
                                compared += 1;
                            }
                        }
                    }
                }
            }
            prop_assert!(cache.hits() >= hits_before);
            hits_before = cache.hits();
        }
        prop_assert!(cache.hits() <= compared);
    }
}

/// Reads at a clock that moves less than the samples' spacing come from
/// the cache; a new sample, a late one, a replaced value, a window end
/// passing a sample, and the eviction horizon each make it compute again.
#[test]
fn the_read_cache_answers_until_the_window_changes() {
    let mut store = SeriesStore::new(WindowConfig { retention: Duration::from_secs(60), ..WindowConfig::default() });
    let id = store.resolve(key(0)).unwrap();
    for t in [10_000, 20_000, 30_000] {
        store.push(id, t, t as f64);
    }
    let mut cache = ReadCache::new();
    let w = Duration::from_secs(15);
    let mut read = |store: &SeriesStore, at: i64| {
        let before = cache.hits();
        let got = store.aggregate_cached(&mut cache, id, Aggregation::Sum, 0.0, w, at);
        assert_eq!(got, store.aggregate(id, Aggregation::Sum, 0.0, w, at), "at {at}");
        (got, cache.hits() > before)
    };
    assert_eq!(read(&store, 30_000), (Some(50_000.0), false)); // (15 s, 30 s]
    assert_eq!(read(&store, 30_000), (Some(50_000.0), false), "the first read after a change is not kept");
    assert_eq!(read(&store, 34_999), (Some(50_000.0), true)); // (19.999 s, 34.999 s]: same samples
    assert_eq!(read(&store, 35_000), (Some(30_000.0), false)); // the start passed 20 s
    assert_eq!(read(&store, 39_000), (Some(30_000.0), true));
    store.push(id, 40_000, 1.0);
    assert_eq!(read(&store, 39_000), (Some(30_000.0), false), "a push changes the series");
    assert_eq!(read(&store, 39_000), (Some(30_000.0), false));
    assert_eq!(read(&store, 39_500), (Some(30_000.0), true));
    assert_eq!(read(&store, 40_000), (Some(30_001.0), false), "the end passed 40 s");
    assert_eq!(read(&store, 40_000), (Some(30_001.0), true));
    store.push(id, 40_000, 2.0);
    assert_eq!(read(&store, 40_000), (Some(30_002.0), false), "a replaced value");
    assert_eq!(read(&store, 40_000), (Some(30_002.0), false));
    assert_eq!(read(&store, 40_000), (Some(30_002.0), true));
    store.push(id, 35_000, 5.0);
    assert_eq!(read(&store, 40_000), (Some(30_007.0), false), "a late sample");
    assert_eq!(read(&store, 40_000), (Some(30_007.0), false));
    assert_eq!(read(&store, 40_000), (Some(30_007.0), true));
    // The horizon cuts the window short: (max(25 s, 34 s), 40 s].
    store.advance(94_000);
    assert_eq!(read(&store, 40_000), (Some(7.0), false), "the horizon passed 30 s");
    // Another store's series with the same handle, version and times is
    // not this one.
    let (mut a, mut b) = (SeriesStore::new(WindowConfig::default()), SeriesStore::new(WindowConfig::default()));
    let (ia, ib) = (a.resolve(key(0)).unwrap(), b.resolve(key(0)).unwrap());
    assert_eq!(ia, ib);
    a.push(ia, 1_000, 1.0);
    b.push(ib, 1_000, 2.0);
    for _ in 0..2 {
        assert_eq!(a.aggregate_cached(&mut cache, ia, Aggregation::Last, 0.0, w, 1_000), Some(1.0));
    }
    for _ in 0..2 {
        assert_eq!(b.aggregate_cached(&mut cache, ib, Aggregation::Last, 0.0, w, 1_000), Some(2.0));
    }
}

/// A host that scrapes every series at once every third evaluation: the
/// round after a scrape reads nothing through the table (every series has
/// changed), and must not shrink away what the next round keeps for the
/// one after it. A host that scrapes before every evaluation still ends up
/// with the smallest table.
#[test]
fn the_read_cache_keeps_its_table_through_a_round_of_changed_series() {
    let mut store = SeriesStore::new(WindowConfig::default());
    let ids: Vec<_> = (0..1_000).map(|labels| store.resolve(key(labels)).unwrap()).collect();
    let mut cache = ReadCache::new();
    let w = Duration::from_secs(60);
    let mut at = 1_000_000;
    let mut round = |cache: &mut ReadCache, scrape: bool| {
        if scrape {
            for &id in &ids {
                store.push(id, at, 1.0);
            }
        }
        let before = cache.hits();
        for &id in &ids {
            assert_eq!(store.aggregate_cached(cache, id, Aggregation::Last, 0.0, w, at), Some(1.0));
        }
        cache.sweep();
        at += 1_000;
        cache.hits() - before
    };
    let mut thirds = Vec::new();
    for i in 0..15 {
        let hits = round(&mut cache, i % 3 == 0);
        if i % 3 == 2 {
            thirds.push(hits);
        }
    }
    // The first cycle grows the table; every later one finds it grown.
    assert!(thirds[1..].iter().all(|&hits| hits > 900), "hits of the third rounds: {thirds:?}");
    let grown = cache.heap_bytes();
    for _ in 0..20 {
        assert_eq!(round(&mut cache, true), 0);
    }
    assert!(cache.heap_bytes() * 16 <= grown, "{} bytes of {grown} kept", cache.heap_bytes());
}
