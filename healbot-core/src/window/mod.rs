//! Bounded time windows over metric series, and bucketed event counters.
//!
//! This is the "windows" stage of the pipeline: the engine resolves each
//! incoming metric sample to a [`SeriesId`] and [`push`](SeriesStore::push)es
//! it; signature predicates then ask for an [`Aggregation`](crate::spec::Aggregation) over a window
//! ending at the evaluation time. Log pattern matches are counted per node in
//! a [`BucketCounter`], which never keeps the raw lines.
//!
//! The core never reads a clock. Every timestamp is a Unix time in
//! milliseconds (`i64`) passed in by the caller, and eviction happens only
//! when the caller calls [`SeriesStore::evict`] or [`SeriesStore::advance`]
//! with its `at`.
//!
//! # Contract
//!
//! The rules below are part of the public contract; the data-driven cases in
//! `healbot-core/tests/data/window/` pin each of them.
//!
//! ## Windows
//!
//! A window of length `w` evaluated at `at` covers the samples whose timestamp
//! `t` satisfies **`at - w < t <= at`**: open on the left, closed on the
//! right, as Prometheus range selectors are since 3.0. A sample exactly `w`
//! old is outside; a sample at `at` is inside; samples newer than `at` (the
//! caller pushed ahead of the time it evaluates at) are outside. A zero
//! window is always empty. A window longer than
//! [`WindowConfig::retention`] sees only the samples still retained.
//!
//! ## Aggregates ([`SeriesStore::aggregate`])
//!
//! Every aggregate returns `None` for an unknown (or dropped) series and for
//! a window without enough samples, except [`Aggregation::Count`](crate::spec::Aggregation::Count), which
//! returns `Some(0.0)` for a known series with no samples in the window.
//!
//! | aggregation | result | needs |
//! |---|---|---|
//! | `last` | value of the newest sample in the window | 1 sample |
//! | `min`, `max` | smallest / largest value (`-0.0` below `+0.0`) | 1 sample |
//! | `sum` | sum of values (compensated summation) | 1 sample |
//! | `avg` | arithmetic mean | 1 sample |
//! | `count` | number of samples | — |
//! | `increase` | counter increase between the first and the last sample in the window, resets handled | 2 samples |
//! | `rate` | `increase / (t_last - t_first)` in units per second | 2 samples |
//! | `quantile` | `q`-quantile, linear interpolation between closest ranks; `q` must be in `[0, 1]` | 1 sample |
//! | `slope` | least-squares slope in units per second | 2 samples |
//!
//! **Counters.** `increase` and `rate` treat the series as a Prometheus
//! counter: between two consecutive samples in the window, a value lower than
//! its predecessor is a reset, and the counter is taken to have restarted from
//! zero, so the step contributes the new value itself; otherwise the step
//! contributes the difference.
//!
//! **No extrapolation.** Unlike Prometheus `increase()`/`rate()`, nothing is
//! extrapolated to the window edges: `increase` is exactly what was observed
//! between the first and the last sample in the window, and `rate` divides it
//! by the time between those two samples, not by `w`. For a counter scraped
//! every 15 s, `increase` over `5m` here is about 19/20 of Prometheus'
//! (it sees 19 intervals, Prometheus extrapolates to 20), while `rate` is the
//! same on a steady counter. In consequence `rate * w` is not `increase`.
//!
//! **Quantile** follows Prometheus `quantile_over_time`: with the `n` values
//! sorted, rank `r = q * (n - 1)`, and the result interpolates linearly
//! between the values at `floor(r)` and `ceil(r)`. `q = 0` is the minimum,
//! `q = 1` the maximum, one sample is its own every quantile. A `q` outside
//! `[0, 1]` (or NaN) gives `None`, where Prometheus would return `±Inf`.
//! `q` is ignored by every other aggregation.
//!
//! **Slope** is the least-squares slope of value against time in seconds.
//! Timestamps in a series are distinct (a same-timestamp push replaces), so
//! two samples are enough; a flat series has slope `0`.
//!
//! ## Forecasts ([`SeriesStore::forecast_crossing`])
//!
//! The least-squares line over the window is extended forward from `at`.
//! The result is the number of seconds from `at` until the line reaches the
//! threshold: `Some(0.0)` if it reaches it at or before `at` (the fitted
//! value at `at` is already at or past the threshold in the line's
//! direction), `None` if the line is flat and not at the threshold, or if the
//! window holds fewer than 2 samples. The direction comes from the slope, so
//! a falling line forecasts the crossing of a threshold below it.
//!
//! ## Non-finite values
//!
//! NaN, `+Inf` and `-Inf` samples are **rejected**: `push` returns
//! [`Push::NonFinite`], the sample is not stored, does not change
//! [`SeriesStore::last_at`], and is counted in [`WindowStats`] (NaN and
//! infinities separately). Every stored value is therefore finite, comparisons
//! with thresholds are always well defined, and a series that only reports
//! non-finite values looks absent. Aggregates never return NaN (an
//! intermediate overflow that would produce NaN yields `None`); `sum` may
//! return `±Inf` if finite values overflow `f64`.
//!
//! ## Order and duplicates ([`SeriesStore::push`])
//!
//! - A sample newer than the series' newest is appended ([`Push::Accepted`]).
//! - A sample with the timestamp of a stored sample replaces its value
//!   ([`Push::Replaced`]).
//! - A sample older than the series' newest by at most
//!   [`WindowConfig::out_of_order_tolerance`] is inserted in order
//!   ([`Push::OutOfOrderAccepted`]); it costs a shift of the samples after it,
//!   and (like a replaced value) a recomputation of their prefix sums.
//! - A sample older than that, or at or before the cut-off of the last
//!   [`evict`](SeriesStore::evict) (`at - retention`), is dropped and counted
//!   ([`Push::TooOld`]).
//!
//! ## Memory bounds and eviction
//!
//! - At most [`WindowConfig::max_series`] live series; [`resolve`](SeriesStore::resolve)
//!   of a new key beyond it fails with [`LimitExceeded`] and is counted.
//! - At most [`WindowConfig::max_samples_per_series`] samples per series; a
//!   push beyond it drops the oldest sample, counted.
//! - [`evict`](SeriesStore::evict)`(at)` drops samples with `t <= at - retention`
//!   and then drops series that hold no sample and whose newest sample is
//!   older than `at - retention - series_grace` (a series that never
//!   received a sample is dropped `retention + series_grace` after the first
//!   `evict` that sees it). The handles of a dropped series go stale: every
//!   method then treats them as unknown, and `resolve` hands out a fresh one.
//! - [`advance`](SeriesStore::advance)`(at)` has the same effect on every
//!   read, push, limit and statistic, but visits no series until one may
//!   have outlived its grace: reads skip the samples at or before the
//!   cut-off, and the next push to a series drops them. Its cost does not
//!   grow with the number of series, which makes it what an evaluation loop
//!   calls (the engine does); the expired samples of a series nobody pushes
//!   to stay in memory, within the per-series limit, until `evict` runs.
//!
//! Worst-case memory is about `max_series × max_samples_per_series × 16`
//! bytes (the buffers never grow past the limit) plus a per-series overhead
//! of about 100 bytes. A series that has been read and holds at least 8
//! samples also keeps a *summary* (see *Cost*): about 11 more bytes per
//! sample and 150 bytes. [`WindowStats::heap_bytes`] reports the current
//! estimate.

//! ## Cost
//!
//! `push` is O(1) amortised for in-order samples (a ring buffer per series),
//! O(k) for an out-of-order sample or a replaced value with `k` newer
//! samples.
//!
//! Finding a window is O(1) when `at` is at or after the newest sample and
//! the samples are about evenly spaced (a search from the expected
//! position), O(log k) otherwise. `last` and `count` are then O(1).
//!
//! Once a series has been read (by [`SeriesStore::aggregate`] or
//! [`SeriesStore::forecast_crossing`]) and holds at least 8 samples, its
//! pushes keep a summary: every 8th sample, the sums of the samples before
//! it (Σv, Σt, Σt², Σt·v, the corrections of counter resets, and counts of
//! resets and of non-zero values) are stored as a checkpoint, and the
//! minimum and maximum of every block of 32 samples are kept. That costs a
//! push of such a series about a hundred instructions per sample (series
//! nobody reads pay nothing), and reads become:
//!
//! - `sum`, `avg`, `increase`, `rate`, `slope` and forecasts: O(1), the
//!   difference of the sums at the window's two ends, each from the nearest
//!   checkpoint and at most 7 samples;
//! - `min`, `max`: the blocks inside the window and at most 31 samples at
//!   each end (windows up to 64 samples are scanned);
//! - `quantile`: O(k), a copy of the window into a per-thread buffer that
//!   is reused, and a selection in it (no allocation, no full sort).
//!
//! A series without a summary (never read, or too short) is read by a scan
//! of its window, as the first read of any series is. No aggregate
//! allocates. The summary is rebuilt from the samples after four times as
//! many as it holds have left (amortised a quarter of the work per sample;
//! the point is staggered between series).
//!
//! **Accuracy.** The sums of values are compensated (each a running sum and
//! the exact sum of its rounding errors, renormalised at checkpoints), the
//! sums of times exact integers, so a difference of two is accurate to
//! about 2⁻¹⁰⁰ of the largest sum involved. Each read bounds that error and
//! answers from the summary only when the bound is below 2⁻⁵⁰ of the result;
//! otherwise it scans the window, exactly as without a summary. That
//! happens when the result cancels to about zero (the slope of a flat line,
//! a sum of values that cancel) or while the summary still holds a value
//! many orders of magnitude above the window's (until its next rebuild); a
//! window whose values are all zero, and the increase of a counter without
//! a reset in the window, are recognised exactly. A result from the summary
//! may differ from the scan's in its last bits, so the same read may differ
//! that much before and after the series gets a summary (or after a
//! snapshot round trip, which does not keep summaries).

//! **Between samples.** [`SeriesStore::aggregate_cached`] answers a read
//! from a [`ReadCache`] while the window holds the samples it held when the
//! cache computed that read: the series has not changed, and `at` has not
//! moved the window's ends past a sample. An evaluation loop that runs more
//! often than its series are scraped (every second over series scraped
//! every 15 s) answers most reads so, for a hash lookup and a few
//! comparisons; the engine does.

//! ## Snapshots
//!
//! [`SeriesStore`] and [`BucketCounter`] implement `serde::Serialize` and
//! `Deserialize` (for `postcard` snapshots). The key → series index is not
//! serialised (so no hash-map order reaches the bytes); it is rebuilt on
//! load. Summaries are not serialised either (the format is unchanged by
//! them): a restored series gets one again once it is read and pushed to.
//! A snapshot whose contents break the invariants (unsorted or
//! non-finite samples, too many series or samples, duplicate keys) is
//! rejected.
//!
//! # Example
//!
//! ```
//! use healbot_core::spec::Aggregation;
//! use healbot_core::window::{Push, SeriesKey, SeriesStore, WindowConfig};
//! use healbot_core::Duration;
//!
//! let mut store = SeriesStore::new(WindowConfig::default());
//! let key = SeriesKey { node: 1, metric: 7, labels: 0 };
//! let id = store.resolve(key).unwrap();
//! for (i, v) in [10.0, 20.0, 5.0, 15.0].into_iter().enumerate() {
//!     assert_eq!(store.push(id, i as i64 * 15_000, v), Push::Accepted);
//! }
//! let w = Duration::from_secs(60);
//! // 10 → 20 (+10), reset to 5 (+5), 5 → 15 (+10)
//! assert_eq!(store.aggregate(id, Aggregation::Increase, 0.0, w, 45_000), Some(25.0));
//! // over the 45 s between the first and the last sample
//! assert_eq!(store.aggregate(id, Aggregation::Rate, 0.0, w, 45_000), Some(25.0 / 45.0));
//! // the window (45s - 60s, 45s] holds all four samples
//! assert_eq!(store.aggregate(id, Aggregation::Count, 0.0, w, 45_000), Some(4.0));
//! // (0s, 45s] leaves out the sample at 0 s
//! let w45 = Duration::from_secs(45);
//! assert_eq!(store.aggregate(id, Aggregation::Count, 0.0, w45, 45_000), Some(3.0));
//! ```

mod aggregate;
mod bucket;
mod cache;
pub(crate) mod hash;
mod store;

pub use bucket::{BucketCounter, MAX_BUCKETS};
pub use cache::ReadCache;
pub(crate) use cache::{Bounds, Validity};
pub use hash::{label_set_hash, label_set_hash_iter, KeyHasher};
pub use store::{LimitExceeded, Push, SeriesId, SeriesKey, SeriesStore, WindowConfig, WindowStats};

#[cfg(test)]
mod tests;
