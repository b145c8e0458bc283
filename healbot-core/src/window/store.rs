//! The series store: one bounded, time-ordered ring buffer per series.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasherDefault;
use std::mem::size_of;

use serde::{Deserialize, Serialize};

use super::aggregate::{self, least_squares};
use super::hash::KeyHasher;
use crate::spec::Aggregation;
use crate::Duration;

/// Limits and retention of a [`SeriesStore`].
///
/// # Example
///
/// ```
/// use healbot_core::window::WindowConfig;
/// use healbot_core::Duration;
///
/// let cfg = WindowConfig { retention: Duration::from_secs(900), ..WindowConfig::default() };
/// assert_eq!(cfg.max_series, 100_000);
/// assert_eq!(cfg.out_of_order_tolerance, Duration::from_secs(300));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowConfig {
    /// How far back samples are kept: the longest window the library reads,
    /// set by the engine. Default `1h`.
    pub retention: Duration,
    /// Hard limit on live series. Default `100_000`.
    pub max_series: usize,
    /// Hard limit on samples kept per series; a push beyond it drops the
    /// oldest sample. Default `4096` (over 17 h at a 15 s interval). Values
    /// below 1 are treated as 1.
    pub max_samples_per_series: usize,
    /// How much older than a series' newest sample a sample may be and still
    /// be inserted in order. Default `5m`: it absorbs delayed batches and
    /// several unsynchronised senders, and costs only an in-place insert.
    pub out_of_order_tolerance: Duration,
    /// How long a series with no samples left is kept (for
    /// [`SeriesStore::last_at`]) after its newest sample left the retention.
    /// Default `1h`.
    pub series_grace: Duration,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            retention: Duration::from_secs(3600),
            max_series: 100_000,
            max_samples_per_series: 4096,
            out_of_order_tolerance: Duration::from_secs(300),
            series_grace: Duration::from_secs(3600),
        }
    }
}

/// What identifies a series: interned ids from the engine.
///
/// Lookups hash three integers with a fixed, fast hasher ([`KeyHasher`]).
///
/// # Example
///
/// ```
/// use healbot_core::window::{label_set_hash, SeriesKey};
///
/// let key = SeriesKey {
///     node: 3,
///     metric: 12,
///     labels: label_set_hash(&[("code", "500"), ("method", "GET")]),
/// };
/// assert_eq!(key, SeriesKey { node: 3, metric: 12, labels: key.labels });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SeriesKey {
    /// The interned id of the node the series is attached to.
    pub node: u32,
    /// The interned id of the metric name.
    pub metric: u32,
    /// The interned id of the label set, or its [`label_set_hash`](super::label_set_hash).
    pub labels: u64,
}

/// A handle to a series, from [`SeriesStore::resolve`]: an index and a
/// generation.
///
/// A handle stays valid until [`SeriesStore::evict`] drops its series; after
/// that every method treats it as unknown, even if the slot has been reused
/// for another series. Handles survive a snapshot round trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeriesId {
    slot: u32,
    generation: u32,
}

/// The outcome of [`SeriesStore::push`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Push {
    /// Newer than every sample of the series: appended.
    Accepted,
    /// A sample with the same timestamp existed: its value was replaced.
    Replaced,
    /// Older than the newest sample but within the tolerance: inserted in order.
    OutOfOrderAccepted,
    /// Older than the tolerance allows, or before the last eviction cut-off:
    /// dropped and counted.
    TooOld,
    /// NaN or ±Inf: dropped and counted.
    NonFinite,
    /// The handle is stale (its series was dropped): dropped and counted.
    UnknownSeries,
}

impl Push {
    /// Whether the sample was stored.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::window::Push;
    /// assert!(Push::Replaced.is_stored());
    /// assert!(!Push::TooOld.is_stored());
    /// ```
    pub fn is_stored(self) -> bool {
        matches!(self, Push::Accepted | Push::Replaced | Push::OutOfOrderAccepted)
    }
}

/// [`SeriesStore::resolve`] refused a new series: the store holds
/// [`WindowConfig::max_series`] series already.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("series limit of {max_series} reached; the new series was dropped")]
pub struct LimitExceeded {
    /// The limit that was hit.
    pub max_series: usize,
}

impl From<LimitExceeded> for crate::Error {
    fn from(e: LimitExceeded) -> Self {
        crate::Error::new(crate::ErrorKind::Limit, e.to_string())
    }
}

/// Counters and sizes of a [`SeriesStore`], from [`SeriesStore::stats`].
///
/// Every sample that was not stored is counted under exactly one `dropped_*`
/// reason; `evicted_*` count what left through the retention.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowStats {
    /// Live series.
    pub series: usize,
    /// Samples held, over all series.
    pub samples: usize,
    /// Approximate heap bytes held by the store (buffers, slots, index).
    pub heap_bytes: usize,
    /// Pushes appended in order.
    pub accepted: u64,
    /// Pushes that replaced a sample with the same timestamp.
    pub replaced: u64,
    /// Pushes inserted out of order.
    pub out_of_order: u64,
    /// New series refused by [`WindowConfig::max_series`].
    pub dropped_series_limit: u64,
    /// Samples older than the out-of-order tolerance.
    pub dropped_too_old: u64,
    /// Samples at or before the cut-off of the last eviction.
    pub dropped_before_horizon: u64,
    /// NaN samples.
    pub dropped_nan: u64,
    /// ±Inf samples.
    pub dropped_infinite: u64,
    /// Samples pushed through a stale handle.
    pub dropped_unknown_series: u64,
    /// Oldest samples dropped to respect [`WindowConfig::max_samples_per_series`].
    pub dropped_capacity: u64,
    /// Samples that left through the retention.
    pub evicted_samples: u64,
    /// Series dropped by [`SeriesStore::evict`] after their grace.
    pub evicted_series: u64,
}

/// One sample: a Unix-millisecond timestamp and a finite value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Sample {
    pub(crate) t: i64,
    pub(crate) v: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Counters {
    accepted: u64,
    replaced: u64,
    out_of_order: u64,
    series_limit: u64,
    too_old: u64,
    before_horizon: u64,
    nan: u64,
    infinite: u64,
    unknown_series: u64,
    capacity: u64,
    evicted_samples: u64,
    evicted_series: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Series {
    key: SeriesKey,
    samples: VecDeque<Sample>,
    /// The newest timestamp ever accepted; kept after its sample is evicted.
    last_at: Option<i64>,
    /// For a series that never received a sample: the `at` of the first
    /// eviction that saw it, the reference for its grace.
    seen_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Slot {
    generation: u32,
    series: Option<Series>,
}

/// What a snapshot holds: everything but the index, which is rebuilt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StoreState {
    config: WindowConfig,
    slots: Vec<Slot>,
    /// Free slots, reused last-in first-out.
    free: Vec<u32>,
    /// The cut-off of the latest eviction; pushes at or before it are too old.
    horizon: i64,
    counters: Counters,
}

type Index = HashMap<SeriesKey, u32, BuildHasherDefault<KeyHasher>>;

/// Bounded time windows for many metric series.
///
/// See the [module documentation](crate::window) for the semantics of
/// windows, aggregates, ordering and limits.
///
/// # Example
///
/// ```
/// use healbot_core::spec::Aggregation;
/// use healbot_core::window::{SeriesKey, SeriesStore, WindowConfig};
/// use healbot_core::Duration;
///
/// let mut store = SeriesStore::new(WindowConfig::default());
/// let id = store.resolve(SeriesKey { node: 0, metric: 0, labels: 0 }).unwrap();
/// store.push(id, 1_000, 3.0);
/// store.push(id, 2_000, 5.0);
/// let avg = store.aggregate(id, Aggregation::Avg, 0.0, Duration::from_secs(5), 2_000);
/// assert_eq!(avg, Some(4.0));
/// assert_eq!(store.last_at(id), Some(2_000));
/// ```
#[derive(Debug)]
pub struct SeriesStore {
    state: StoreState,
    index: Index,
    live: usize,
}

impl SeriesStore {
    /// An empty store.
    pub fn new(config: WindowConfig) -> Self {
        SeriesStore {
            state: StoreState {
                config,
                slots: Vec::new(),
                free: Vec::new(),
                horizon: i64::MIN,
                counters: Counters::default(),
            },
            index: Index::default(),
            live: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &WindowConfig {
        &self.state.config
    }

    /// Change the retention (the engine does after loading a library whose
    /// longest window changed). Takes effect at the next [`evict`](Self::evict).
    pub fn set_retention(&mut self, retention: Duration) {
        self.state.config.retention = retention;
    }

    /// The number of live series.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether the store holds no series.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The handle of the series `key`, creating the series if needed.
    ///
    /// # Errors
    ///
    /// [`LimitExceeded`] when the series is new and the store already holds
    /// [`WindowConfig::max_series`] series; the refusal is counted in
    /// [`WindowStats::dropped_series_limit`].
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::window::{SeriesKey, SeriesStore, WindowConfig};
    ///
    /// let mut store = SeriesStore::new(WindowConfig { max_series: 1, ..WindowConfig::default() });
    /// let a = SeriesKey { node: 0, metric: 0, labels: 1 };
    /// let id = store.resolve(a).unwrap();
    /// assert_eq!(store.resolve(a), Ok(id));
    /// assert!(store.resolve(SeriesKey { labels: 2, ..a }).is_err());
    /// assert_eq!(store.stats().dropped_series_limit, 1);
    /// ```
    pub fn resolve(&mut self, key: SeriesKey) -> Result<SeriesId, LimitExceeded> {
        if let Some(&slot) = self.index.get(&key) {
            if let Some(s) = self.state.slots.get(slot as usize) {
                return Ok(SeriesId { slot, generation: s.generation });
            }
        }
        let limit = LimitExceeded { max_series: self.state.config.max_series };
        if self.live >= self.state.config.max_series {
            self.state.counters.series_limit += 1;
            return Err(limit);
        }
        let series = Series { key, samples: VecDeque::new(), last_at: None, seen_at: None };
        let slot = match self.state.free.pop() {
            Some(slot) => slot,
            None => {
                let Ok(slot) = u32::try_from(self.state.slots.len()) else {
                    self.state.counters.series_limit += 1;
                    return Err(limit);
                };
                self.state.slots.push(Slot { generation: 0, series: None });
                slot
            }
        };
        let Some(entry) = self.state.slots.get_mut(slot as usize) else {
            self.state.counters.series_limit += 1;
            return Err(limit);
        };
        entry.series = Some(series);
        self.index.insert(key, slot);
        self.live += 1;
        Ok(SeriesId { slot, generation: entry.generation })
    }

    /// The handle of the series `key`, if it exists. Never creates.
    pub fn lookup(&self, key: &SeriesKey) -> Option<SeriesId> {
        let slot = *self.index.get(key)?;
        let s = self.state.slots.get(slot as usize)?;
        Some(SeriesId { slot, generation: s.generation })
    }

    /// The key of a live series.
    pub fn key(&self, id: SeriesId) -> Option<SeriesKey> {
        self.series(id).map(|s| s.key)
    }

    fn series(&self, id: SeriesId) -> Option<&Series> {
        let slot = self.state.slots.get(id.slot as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.series.as_ref()
    }

    /// Record the sample `(at, value)` in the series `id`.
    ///
    /// O(1) amortised in order; an out-of-order sample shifts the samples
    /// newer than it. See the module docs for the ordering rules.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::window::{Push, SeriesKey, SeriesStore, WindowConfig};
    ///
    /// let mut store = SeriesStore::new(WindowConfig::default()); // 5m tolerance
    /// let id = store.resolve(SeriesKey { node: 0, metric: 0, labels: 0 }).unwrap();
    /// assert_eq!(store.push(id, 600_000, 1.0), Push::Accepted);
    /// assert_eq!(store.push(id, 600_000, 2.0), Push::Replaced);
    /// assert_eq!(store.push(id, 500_000, 3.0), Push::OutOfOrderAccepted);
    /// assert_eq!(store.push(id, 200_000, 4.0), Push::TooOld);
    /// assert_eq!(store.push(id, 700_000, f64::NAN), Push::NonFinite);
    /// assert_eq!(store.last_at(id), Some(600_000));
    /// ```
    pub fn push(&mut self, id: SeriesId, at: i64, value: f64) -> Push {
        let state = &mut self.state;
        let counters = &mut state.counters;
        if !value.is_finite() {
            if value.is_nan() {
                counters.nan += 1;
            } else {
                counters.infinite += 1;
            }
            return Push::NonFinite;
        }
        let series = match state.slots.get_mut(id.slot as usize) {
            Some(Slot { generation, series: Some(series) }) if *generation == id.generation => series,
            _ => {
                counters.unknown_series += 1;
                return Push::UnknownSeries;
            }
        };
        if at <= state.horizon {
            counters.before_horizon += 1;
            return Push::TooOld;
        }
        let outcome = match series.last_at {
            Some(last) if at <= last => {
                let tolerance = state.config.out_of_order_tolerance.as_millis_i64();
                if last.saturating_sub(at) > tolerance {
                    counters.too_old += 1;
                    return Push::TooOld;
                }
                let samples = &mut series.samples;
                let pos = samples.partition_point(|s| s.t < at);
                match samples.get_mut(pos) {
                    Some(s) if s.t == at => {
                        s.v = value;
                        counters.replaced += 1;
                        return Push::Replaced;
                    }
                    _ => {
                        samples.insert(pos, Sample { t: at, v: value });
                        counters.out_of_order += 1;
                        Push::OutOfOrderAccepted
                    }
                }
            }
            _ => {
                series.samples.push_back(Sample { t: at, v: value });
                series.last_at = Some(at);
                counters.accepted += 1;
                Push::Accepted
            }
        };
        // An out-of-order sample older than every kept sample of a full
        // series is itself the one dropped here; it is counted as capacity.
        if series.samples.len() > state.config.max_samples_per_series.max(1) {
            series.samples.pop_front();
            counters.capacity += 1;
        }
        outcome
    }

    /// The samples of `id` inside the window `(at - window, at]`, oldest
    /// first, as `(timestamp, value)`.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::window::{SeriesKey, SeriesStore, WindowConfig};
    /// use healbot_core::Duration;
    ///
    /// let mut store = SeriesStore::new(WindowConfig::default());
    /// let id = store.resolve(SeriesKey { node: 0, metric: 0, labels: 0 }).unwrap();
    /// for t in [0, 10_000, 20_000] {
    ///     store.push(id, t, t as f64);
    /// }
    /// let seen: Vec<_> = store.samples(id, Duration::from_secs(20), 20_000).unwrap().collect();
    /// assert_eq!(seen, vec![(10_000, 10_000.0), (20_000, 20_000.0)]);
    /// ```
    pub fn samples(
        &self,
        id: SeriesId,
        window: Duration,
        at: i64,
    ) -> Option<impl DoubleEndedIterator<Item = (i64, f64)> + '_> {
        let series = self.series(id)?;
        Some(window_of(&series.samples, window, at).map(|s| (s.t, s.v)))
    }

    /// `agg` over the samples of `id` in the window `(at - window, at]`.
    ///
    /// `q` is the quantile for [`Aggregation::Quantile`] and is ignored
    /// otherwise. `None` for an unknown series or a window with too few
    /// samples; [`Aggregation::Count`] gives `Some(0.0)` for a known series
    /// with an empty window. The module docs define each aggregate.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::spec::Aggregation;
    /// use healbot_core::window::{SeriesKey, SeriesStore, WindowConfig};
    /// use healbot_core::Duration;
    ///
    /// let mut store = SeriesStore::new(WindowConfig::default());
    /// let id = store.resolve(SeriesKey { node: 0, metric: 0, labels: 0 }).unwrap();
    /// for (t, v) in [(0, 1.0), (1_000, 2.0), (2_000, 3.0), (3_000, 4.0)] {
    ///     store.push(id, t, v);
    /// }
    /// let w = Duration::from_secs(10);
    /// assert_eq!(store.aggregate(id, Aggregation::Quantile, 0.5, w, 3_000), Some(2.5));
    /// assert_eq!(store.aggregate(id, Aggregation::Slope, 0.0, w, 3_000), Some(1.0));
    /// assert_eq!(store.aggregate(id, Aggregation::Max, 0.0, w, 100_000), None);
    /// assert_eq!(store.aggregate(id, Aggregation::Count, 0.0, w, 100_000), Some(0.0));
    /// ```
    pub fn aggregate(&self, id: SeriesId, agg: Aggregation, q: f64, window: Duration, at: i64) -> Option<f64> {
        let series = self.series(id)?;
        aggregate::aggregate(window_of(&series.samples, window, at), agg, q)
    }

    /// The timestamp of the newest sample ever accepted for `id`, even if it
    /// has since been evicted; `None` if the series never received a sample
    /// or is unknown. For absence and staleness predicates.
    pub fn last_at(&self, id: SeriesId) -> Option<i64> {
        self.series(id)?.last_at
    }

    /// Seconds from `at` until the least-squares line over the window
    /// `(at - window, at]` reaches `threshold`.
    ///
    /// `Some(0.0)` if the line is at or past the threshold at `at`; `None`
    /// if the line is flat (and not at the threshold), the threshold is not
    /// finite, the window has fewer than 2 samples, or the series is unknown.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::window::{SeriesKey, SeriesStore, WindowConfig};
    /// use healbot_core::Duration;
    ///
    /// let mut store = SeriesStore::new(WindowConfig::default());
    /// let id = store.resolve(SeriesKey { node: 0, metric: 0, labels: 0 }).unwrap();
    /// // disk usage grows 1 % per minute, 50 % at t = 60 s
    /// store.push(id, 0, 49.0);
    /// store.push(id, 60_000, 50.0);
    /// let w = Duration::from_secs(300);
    /// assert_eq!(store.forecast_crossing(id, w, 60_000, 90.0), Some(2400.0));
    /// assert_eq!(store.forecast_crossing(id, w, 60_000, 40.0), Some(0.0));
    /// ```
    pub fn forecast_crossing(&self, id: SeriesId, window: Duration, at: i64, threshold: f64) -> Option<f64> {
        let series = self.series(id)?;
        let fit = least_squares(window_of(&series.samples, window, at))?;
        aggregate::crossing(&fit, at, threshold)
    }

    /// Drop the samples with `t <= at - retention`, and the series left
    /// without samples whose newest sample is older than
    /// `at - retention - series_grace`. Later pushes at or before
    /// `at - retention` are [`Push::TooOld`].
    ///
    /// O(series + evicted samples).
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::window::{Push, SeriesKey, SeriesStore, WindowConfig};
    /// use healbot_core::Duration;
    ///
    /// let cfg = WindowConfig {
    ///     retention: Duration::from_secs(60),
    ///     series_grace: Duration::from_secs(60),
    ///     ..WindowConfig::default()
    /// };
    /// let mut store = SeriesStore::new(cfg);
    /// let id = store.resolve(SeriesKey { node: 0, metric: 0, labels: 0 }).unwrap();
    /// store.push(id, 0, 1.0);
    /// store.push(id, 30_000, 2.0);
    /// store.evict(60_000);
    /// assert_eq!(store.stats().samples, 1);
    /// assert_eq!(store.push(id, 0, 1.0), Push::TooOld);
    /// store.evict(150_000); // the series is empty, its grace has run out
    /// assert!(store.is_empty());
    /// assert_eq!(store.last_at(id), None);
    /// ```
    pub fn evict(&mut self, at: i64) {
        let cfg = self.state.config;
        let cutoff = at.saturating_sub(cfg.retention.as_millis_i64());
        let drop_before = cutoff.saturating_sub(cfg.series_grace.as_millis_i64());
        self.state.horizon = self.state.horizon.max(cutoff);
        let counters = &mut self.state.counters;
        for (slot_index, slot) in self.state.slots.iter_mut().enumerate() {
            let Some(series) = slot.series.as_mut() else {
                continue;
            };
            let keep_from = series.samples.partition_point(|s| s.t <= cutoff);
            if keep_from > 0 {
                series.samples.drain(..keep_from);
                counters.evicted_samples += keep_from as u64;
            }
            let cap = series.samples.capacity();
            if cap > 64 && series.samples.len() < cap / 4 {
                series.samples.shrink_to(series.samples.len() * 2);
            }
            if !series.samples.is_empty() {
                continue;
            }
            let reference = match series.last_at.or(series.seen_at) {
                Some(t) => t,
                None => {
                    series.seen_at = Some(at);
                    at
                }
            };
            if reference <= drop_before {
                self.index.remove(&series.key);
                slot.series = None;
                slot.generation = slot.generation.wrapping_add(1);
                // Slots are indexed by u32 at creation, so this fits.
                self.state.free.push(slot_index as u32);
                self.live -= 1;
                counters.evicted_series += 1;
            }
        }
    }

    /// Counters and sizes. O(series).
    pub fn stats(&self) -> WindowStats {
        let c = &self.state.counters;
        let mut samples = 0usize;
        let mut sample_capacity = 0usize;
        for series in self.state.slots.iter().filter_map(|s| s.series.as_ref()) {
            samples += series.samples.len();
            sample_capacity += series.samples.capacity();
        }
        let index_capacity = self.index.capacity();
        let index_buckets =
            if index_capacity == 0 { 0 } else { (index_capacity.saturating_mul(8) / 7).next_power_of_two() };
        let heap_bytes = sample_capacity * size_of::<Sample>()
            + self.state.slots.capacity() * size_of::<Slot>()
            + self.state.free.capacity() * size_of::<u32>()
            + index_buckets * (size_of::<(SeriesKey, u32)>() + 1);
        WindowStats {
            series: self.live,
            samples,
            heap_bytes,
            accepted: c.accepted,
            replaced: c.replaced,
            out_of_order: c.out_of_order,
            dropped_series_limit: c.series_limit,
            dropped_too_old: c.too_old,
            dropped_before_horizon: c.before_horizon,
            dropped_nan: c.nan,
            dropped_infinite: c.infinite,
            dropped_unknown_series: c.unknown_series,
            dropped_capacity: c.capacity,
            evicted_samples: c.evicted_samples,
            evicted_series: c.evicted_series,
        }
    }

    /// Rebuild a store from a snapshot, checking its invariants.
    fn from_state(state: StoreState) -> Result<Self, String> {
        if u32::try_from(state.slots.len()).is_err() {
            return Err("too many series slots".into());
        }
        let max_samples = state.config.max_samples_per_series.max(1);
        let mut index = Index::default();
        let mut live = 0usize;
        for (i, slot) in state.slots.iter().enumerate() {
            let Some(series) = &slot.series else { continue };
            live += 1;
            if series.samples.len() > max_samples {
                return Err(format!("series {i} holds more than {max_samples} samples"));
            }
            let mut prev: Option<i64> = None;
            for s in &series.samples {
                if !s.v.is_finite() {
                    return Err(format!("series {i} holds a non-finite value"));
                }
                if prev.is_some_and(|p| p >= s.t) {
                    return Err(format!("series {i} is not in strictly increasing time order"));
                }
                prev = Some(s.t);
            }
            if prev.is_some() && (series.last_at < prev) {
                return Err(format!("series {i} has a newest sample after its last_at"));
            }
            if index.insert(series.key, i as u32).is_some() {
                return Err(format!("series {i} repeats the key of another series"));
            }
        }
        if live > state.config.max_series {
            return Err(format!("{live} series exceed the limit of {}", state.config.max_series));
        }
        let mut freed = vec![false; state.slots.len()];
        for &slot in &state.free {
            match (state.slots.get(slot as usize), freed.get_mut(slot as usize)) {
                (Some(Slot { series: None, .. }), Some(seen @ false)) => *seen = true,
                _ => return Err(format!("free slot {slot} is unknown, in use or listed twice")),
            }
        }
        if state.free.len() + live != state.slots.len() {
            return Err("the free list misses an empty slot".into());
        }
        Ok(SeriesStore { state, index, live })
    }
}

/// The samples of `samples` in `(at - window, at]`.
fn window_of(samples: &VecDeque<Sample>, window: Duration, at: i64) -> std::collections::vec_deque::Iter<'_, Sample> {
    let start = at.saturating_sub(window.as_millis_i64());
    let lo = samples.partition_point(|s| s.t <= start);
    let hi = samples.partition_point(|s| s.t <= at);
    samples.range(lo..hi.max(lo))
}

/// The snapshot form is the state without the index (rebuilt on load), so
/// no hash-map order reaches the bytes.
impl Serialize for SeriesStore {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.state.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SeriesStore {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let state = StoreState::deserialize(deserializer)?;
        SeriesStore::from_state(state).map_err(|e| serde::de::Error::custom(format!("invalid window snapshot: {e}")))
    }
}
