//! The series store: one bounded, time-ordered ring buffer per series.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasherDefault;
use std::mem::size_of;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::aggregate::{self, Summary, SUMMARY_MIN_SAMPLES};
use super::cache::{Bounds, ReadCache, Validity};
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
/// A handle stays valid until [`SeriesStore::evict`] (or
/// [`SeriesStore::advance`]) drops its series; after
/// that every method treats it as unknown, even if the slot has been reused
/// for another series. Handles survive a snapshot round trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeriesId {
    slot: u32,
    generation: u32,
}

impl SeriesId {
    /// The handle as one number, for a host that keeps handles outside
    /// Rust (a C caller, a database row): the slot in the high 32 bits, the
    /// generation in the low 32. [`SeriesId::from_bits`] gives it back.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::window::{SeriesId, SeriesKey, SeriesStore, WindowConfig};
    ///
    /// let mut store = SeriesStore::new(WindowConfig::default());
    /// let id = store.resolve(SeriesKey { node: 0, metric: 0, labels: 0 }).unwrap();
    /// assert_eq!(SeriesId::from_bits(id.to_bits()), id);
    /// ```
    pub const fn to_bits(self) -> u64 {
        (self.slot as u64) << 32 | self.generation as u64
    }

    /// The handle [`SeriesId::to_bits`] gave. Any number is a handle: one
    /// the store never issued is treated as unknown by every method (see
    /// [`SeriesStore::was_issued`]).
    pub const fn from_bits(bits: u64) -> SeriesId {
        SeriesId { slot: (bits >> 32) as u32, generation: bits as u32 }
    }
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
    /// What lets a read answer without scanning its window: present while
    /// the series holds at least [`SUMMARY_MIN_SAMPLES`] samples and has
    /// been read. Derived from `samples`: not serialised, rebuilt on load
    /// (so the snapshot format is unchanged).
    #[serde(skip)]
    summary: Option<Box<Summary>>,
    /// Changes whenever `samples` do, so a [`ReadCache`] entry can tell
    /// that its window still holds the samples it was computed from.
    #[serde(skip)]
    version: Version,
    /// The version the series was last read at, by an aggregate or a
    /// forecast. Whether it was read at all decides whether a summary is
    /// kept (keeping one costs a push about a hundred instructions per
    /// sample, which series no signature reads need not pay); whether it
    /// changed since keeps a series that changes between every two reads
    /// (a host that evaluates once per scrape) out of the [`ReadCache`],
    /// where each of its reads would miss. Set through `&self` by reads,
    /// hence atomic; for the cache only a hint, since the cache checks
    /// every entry it answers with.
    #[serde(skip)]
    read: LastRead,
}

impl Series {
    fn new(key: SeriesKey) -> Series {
        Series {
            key,
            samples: VecDeque::new(),
            last_at: None,
            seen_at: None,
            summary: None,
            version: Version::default(),
            read: LastRead::default(),
        }
    }

    /// Build the summary when the series has become long enough for one.
    fn maybe_summarise(&mut self) {
        if self.summary.is_none() && self.samples.len() >= SUMMARY_MIN_SAMPLES && self.read.was_read() {
            self.summary = Some(Box::new(Summary::build(&self.samples, stagger(&self.key))));
        }
    }

    /// Append a sample newer than every stored one.
    #[inline]
    fn push_back(&mut self, sample: Sample) {
        self.samples.push_back(sample);
        self.version.bump();
        match &mut self.summary {
            Some(summary) => summary.appended(&self.samples),
            None => self.maybe_summarise(),
        }
    }

    /// The samples from position `pos` on changed: one was inserted there
    /// (`inserted`), or its value replaced.
    fn changed_from(&mut self, pos: usize, inserted: bool) {
        self.version.bump();
        match &mut self.summary {
            Some(summary) => summary.changed_from(&self.samples, pos, inserted),
            None => self.maybe_summarise(),
        }
    }

    /// Drop the `n` oldest samples.
    #[inline]
    fn pop_front(&mut self, n: usize) {
        let n = n.min(self.samples.len());
        if n == 1 {
            self.samples.pop_front();
        } else if n > 1 {
            self.samples.drain(..n);
        } else {
            return;
        }
        self.version.bump();
        if self.samples.len() < SUMMARY_MIN_SAMPLES {
            self.summary = None;
        } else if n > 1 {
            // A single pop (a full series taking a sample) leaves the
            // summary to tidy up at its next checkpoint.
            if let Some(summary) = &mut self.summary {
                summary.popped(&self.samples);
            }
        }
    }

    /// The positions of the samples in `(at - window, at]` newer than
    /// `horizon` (older ones may linger until a push or `evict` drops them).
    fn window(&self, window: Duration, at: i64, horizon: i64) -> (usize, usize) {
        window_range(&self.samples, window, at, horizon)
    }

    /// Drop the samples at or before `cutoff`, give back a buffer left
    /// mostly empty, and return how many were dropped.
    fn expire(&mut self, cutoff: i64) -> usize {
        let dropped = self.samples.partition_point(|s| s.t <= cutoff);
        self.pop_front(dropped);
        let cap = self.samples.capacity();
        if cap > 64 && self.samples.len() < cap / 4 {
            let to = self.samples.len() * 2;
            self.samples.shrink_to(to);
            if let Some(summary) = &mut self.summary {
                summary.shrink_to(to);
            }
        }
        dropped
    }

    /// What its grace runs from: its newest sample, or for a series that
    /// never had one the `at` of the first eviction that saw it.
    fn reference(&self) -> Option<i64> {
        self.last_at.or(self.seen_at)
    }
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
/// windows, aggregates, ordering and limits, and for the two ways time
/// moves on: [`evict`](Self::evict) and [`advance`](Self::advance).
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
    /// No live series' grace runs from before this (a lower bound): until
    /// the horizon minus the grace reaches it, no series can be dropped, so
    /// [`advance`](Self::advance) need not visit them.
    oldest_reference: i64,
    /// Series created since the last `evict` or `advance` that have no
    /// sample yet: the next one sets their `seen_at`.
    unseen: Vec<SeriesId>,
    /// Tells this store from every other one in the process, so a
    /// [`ReadCache`] never answers for a store it did not read.
    instance: u64,
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
            oldest_reference: i64::MAX,
            unseen: Vec::new(),
            instance: crate::instance::next(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &WindowConfig {
        &self.state.config
    }

    /// Change the retention (the engine does after loading a library whose
    /// longest window changed). Takes effect at the next [`evict`](Self::evict)
    /// or [`advance`](Self::advance).
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
            self.state.counters.series_limit = self.state.counters.series_limit.saturating_add(1);
            return Err(limit);
        }
        let series = Series::new(key);
        let slot = match self.state.free.pop() {
            Some(slot) => slot,
            None => {
                let Ok(slot) = u32::try_from(self.state.slots.len()) else {
                    self.state.counters.series_limit = self.state.counters.series_limit.saturating_add(1);
                    return Err(limit);
                };
                self.state.slots.push(Slot { generation: 0, series: None });
                slot
            }
        };
        let Some(entry) = self.state.slots.get_mut(slot as usize) else {
            self.state.counters.series_limit = self.state.counters.series_limit.saturating_add(1);
            return Err(limit);
        };
        entry.series = Some(series);
        self.index.insert(key, slot);
        self.live += 1;
        let id = SeriesId { slot, generation: entry.generation };
        self.unseen.push(id);
        Ok(id)
    }

    /// The handle of the series `key`, if it exists. Never creates.
    pub fn lookup(&self, key: &SeriesKey) -> Option<SeriesId> {
        let slot = *self.index.get(key)?;
        let s = self.state.slots.get(slot as usize)?;
        Some(SeriesId { slot, generation: s.generation })
    }

    /// Whether this store issued `id`: its slot exists and its generation
    /// is not newer than the slot's. The handle of a series since evicted
    /// was issued (and is unknown to every other method). After 2^32
    /// evictions from one slot its generations repeat.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::window::{SeriesId, SeriesKey, SeriesStore, WindowConfig};
    ///
    /// let mut store = SeriesStore::new(WindowConfig::default());
    /// let id = store.resolve(SeriesKey { node: 0, metric: 0, labels: 0 }).unwrap();
    /// assert!(store.was_issued(id));
    /// assert!(!store.was_issued(SeriesId::from_bits(id.to_bits() + 1)));
    /// assert!(!store.was_issued(SeriesId::from_bits(u64::MAX)));
    /// ```
    pub fn was_issued(&self, id: SeriesId) -> bool {
        self.state.slots.get(id.slot as usize).is_some_and(|slot| id.generation <= slot.generation)
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
                counters.nan = counters.nan.saturating_add(1);
            } else {
                counters.infinite = counters.infinite.saturating_add(1);
            }
            return Push::NonFinite;
        }
        let series = match state.slots.get_mut(id.slot as usize) {
            Some(Slot { generation, series: Some(series) }) if *generation == id.generation => series,
            _ => {
                counters.unknown_series = counters.unknown_series.saturating_add(1);
                return Push::UnknownSeries;
            }
        };
        if at <= state.horizon {
            counters.before_horizon = counters.before_horizon.saturating_add(1);
            return Push::TooOld;
        }
        // What `advance` left behind goes now, before the capacity count.
        if series.samples.front().is_some_and(|s| s.t <= state.horizon) {
            counters.evicted_samples = counters.evicted_samples.saturating_add(series.expire(state.horizon) as u64);
        }
        // A full series drops its oldest sample before it takes a new one,
        // so its buffers never grow past the limit.
        let max = state.config.max_samples_per_series.max(1);
        let excess = (series.samples.len() + 1).saturating_sub(max);
        match series.last_at {
            Some(last) if at <= last => {
                let tolerance = state.config.out_of_order_tolerance.as_millis_i64();
                if last.saturating_sub(at) > tolerance {
                    counters.too_old = counters.too_old.saturating_add(1);
                    return Push::TooOld;
                }
                let pos = series.samples.partition_point(|s| s.t < at);
                if let Some(s) = series.samples.get_mut(pos).filter(|s| s.t == at) {
                    s.v = value;
                    series.changed_from(pos, false);
                    counters.replaced = counters.replaced.saturating_add(1);
                    return Push::Replaced;
                }
                counters.out_of_order = counters.out_of_order.saturating_add(1);
                if excess > 0 {
                    counters.capacity = counters.capacity.saturating_add(excess as u64);
                    // Older than every sample a full series keeps: it is
                    // itself the sample dropped.
                    if pos < excess {
                        series.pop_front(excess - 1);
                        return Push::OutOfOrderAccepted;
                    }
                    series.pop_front(excess);
                }
                let pos = pos - excess;
                series.samples.insert(pos, Sample { t: at, v: value });
                series.changed_from(pos, true);
                Push::OutOfOrderAccepted
            }
            _ => {
                if excess > 0 {
                    series.pop_front(excess);
                    counters.capacity = counters.capacity.saturating_add(excess as u64);
                }
                series.push_back(Sample { t: at, v: value });
                if series.last_at.is_none() {
                    self.oldest_reference = self.oldest_reference.min(at);
                }
                series.last_at = Some(at);
                counters.accepted = counters.accepted.saturating_add(1);
                Push::Accepted
            }
        }
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
        let (lo, hi) = series.window(window, at, self.state.horizon);
        Some(series.samples.range(lo..hi).map(|s| (s.t, s.v)))
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
        series.read.note(series.version.0);
        self.read(series, agg, q, window, at).1
    }

    /// `agg` over the window of `series`, and the window's positions.
    fn read(
        &self,
        series: &Series,
        agg: Aggregation,
        q: f64,
        window: Duration,
        at: i64,
    ) -> ((usize, usize), Option<f64>) {
        let (lo, hi) = series.window(window, at, self.state.horizon);
        ((lo, hi), aggregate::read(&series.samples, series.summary.as_deref(), lo, hi, agg, q))
    }

    /// [`aggregate`](Self::aggregate), answered from `cache` when the window
    /// holds the samples it held when `cache` last computed this read (the
    /// same aggregate and window length of the same series, and for a
    /// quantile the same `q`): the series has not changed since, and
    /// neither moving `at` nor the eviction horizon (see
    /// [`advance`](Self::advance)) has moved a sample into or out of the
    /// window. The answer is the same, bit for
    /// bit, as `aggregate`'s would be.
    ///
    /// A hit costs a hash lookup and a few comparisons, where a read
    /// searches the window and aggregates it (a few hundred instructions
    /// for a short window). An evaluation loop that runs more often than
    /// most series receive samples answers most of its reads this way.
    ///
    /// A read is kept from the second read of a series after it last
    /// changed: the first only notes that it was read. A series that
    /// changes between every two reads (a host that evaluates once per
    /// scrape) then never pays for keeping answers that could not be used.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::spec::Aggregation;
    /// use healbot_core::window::{ReadCache, SeriesKey, SeriesStore, WindowConfig};
    /// use healbot_core::Duration;
    ///
    /// let mut store = SeriesStore::new(WindowConfig::default());
    /// let id = store.resolve(SeriesKey { node: 0, metric: 0, labels: 0 }).unwrap();
    /// for t in [15_000, 30_000, 45_000] {
    ///     store.push(id, t, t as f64 / 1_000.0);
    /// }
    /// let mut cache = ReadCache::new();
    /// let w = Duration::from_secs(30);
    /// let max = |store: &SeriesStore, cache: &mut ReadCache, at| {
    ///     store.aggregate_cached(cache, id, Aggregation::Max, 0.0, w, at)
    /// };
    /// assert_eq!(max(&store, &mut cache, 45_000), Some(45.0)); // (15 s, 45 s]
    /// assert_eq!(max(&store, &mut cache, 45_000), Some(45.0)); // kept
    /// assert_eq!(max(&store, &mut cache, 50_000), Some(45.0)); // (20 s, 50 s]: the same samples
    /// assert_eq!(cache.hits(), 1);
    /// assert_eq!(max(&store, &mut cache, 76_000), None); // (46 s, 76 s]: none left
    /// assert_eq!(cache.hits(), 1);
    /// ```
    pub fn aggregate_cached(
        &self,
        cache: &mut ReadCache,
        id: SeriesId,
        agg: Aggregation,
        q: f64,
        window: Duration,
        at: i64,
    ) -> Option<f64> {
        self.aggregate_valid(cache, id, agg, q, window, at).and_then(|(value, _)| value)
    }

    /// [`aggregate_cached`](Self::aggregate_cached), with the conditions
    /// under which the answer holds (the series' version and the bounds of
    /// the window's start and end); `None` if the series is unknown. A
    /// series that changed since its last read is not worth keeping
    /// anything of (it changes between reads): its answer comes with
    /// [`Validity::NEVER`], without the cost of finding its bounds.
    pub(crate) fn aggregate_valid(
        &self,
        cache: &mut ReadCache,
        id: SeriesId,
        agg: Aggregation,
        q: f64,
        window: Duration,
        at: i64,
    ) -> Option<(Option<f64>, Validity)> {
        let series = self.series(id)?;
        let version = series.version.0;
        if !series.read.note(version) {
            // Changed since its last read: a cache entry could not hold.
            return Some((self.read(series, agg, q, window, at).1, Validity::NEVER));
        }
        let start = self.window_start(window, at);
        let (slot, entry) = cache.get(self.instance, id, agg, q, window);
        if let Some((value, valid)) = entry.and_then(|e| e.holds(version, start, at).map(|v| (v, e.validity()))) {
            cache.hit();
            return Some((value, valid));
        }
        let ((lo, hi), value) = self.read(series, agg, q, window, at);
        // `hi` stays while `at` is at or after the sample before it and
        // before the one at it; `lo` while the start is at or after the
        // sample before it and before the one at it (an empty window stays
        // empty for any later start).
        let t = |i: Option<usize>| i.and_then(|i| series.samples.get(i)).map(|s| s.t);
        let end = (t(hi.checked_sub(1)).unwrap_or(i64::MIN), t(Some(hi)).unwrap_or(i64::MAX));
        let first = if lo < hi { t(Some(lo)) } else { None };
        let start = (t(lo.checked_sub(1)).unwrap_or(i64::MIN), first.unwrap_or(i64::MAX));
        let valid = Validity { version, bounds: Bounds { start, end } };
        cache.put(slot, valid, value);
        Some((value, valid))
    }

    /// The exclusive start of the window `(at - window, at]` as reads see
    /// it: never before the eviction horizon.
    #[inline]
    pub(crate) fn window_start(&self, window: Duration, at: i64) -> i64 {
        at.saturating_sub(window.as_millis_i64()).max(self.state.horizon)
    }

    /// The version of series `id` (changed by every change to its
    /// samples); `None` if unknown.
    #[inline]
    pub(crate) fn version(&self, id: SeriesId) -> Option<u64> {
        self.series(id).map(|s| s.version.0)
    }

    /// Whether series `id` changed since it was last read (or was never
    /// read), so that nothing computed from it before can still hold; an
    /// unknown series has not.
    #[inline]
    pub(crate) fn changed_since_read(&self, id: SeriesId) -> bool {
        self.series(id).is_some_and(|s| !s.read.is(s.version.0))
    }

    /// The identity of this store among all stores of the process, for
    /// caches that must never answer for another one.
    #[inline]
    pub(crate) fn instance(&self) -> u64 {
        self.instance
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
        let (lo, hi) = series.window(window, at, self.state.horizon);
        series.read.note(series.version.0);
        let fit = aggregate::fit(&series.samples, series.summary.as_deref(), lo, hi)?;
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
        // Not `cutoff`: after a longer retention came in, what `advance` left
        // behind may lie between the two.
        let horizon = self.state.horizon;
        let counters = &mut self.state.counters;
        let mut oldest = i64::MAX;
        for (slot_index, slot) in self.state.slots.iter_mut().enumerate() {
            let Some(series) = slot.series.as_mut() else {
                continue;
            };
            counters.evicted_samples = counters.evicted_samples.saturating_add(series.expire(horizon) as u64);
            if !series.samples.is_empty() {
                oldest = oldest.min(series.reference().unwrap_or(at));
                continue;
            }
            let reference = match series.reference() {
                Some(t) => t,
                None => *series.seen_at.insert(at),
            };
            if reference <= drop_before {
                self.index.remove(&series.key);
                slot.series = None;
                slot.generation = slot.generation.wrapping_add(1);
                // Slots are indexed by u32 at creation, so this fits.
                self.state.free.push(slot_index as u32);
                self.live -= 1;
                counters.evicted_series = counters.evicted_series.saturating_add(1);
            } else {
                oldest = oldest.min(reference);
            }
        }
        self.oldest_reference = oldest;
        self.unseen.clear();
    }

    /// Move time on to `at` as [`evict`](Self::evict) does, without visiting
    /// every series: every read, push, limit and statistic then sees what it
    /// would after `evict(at)` (reads skip the samples at or before the new
    /// cut-off; a push drops its series' ones first). Only when a series may
    /// have outlived its grace does it run `evict(at)`.
    ///
    /// O(series created since the last call), and O(series) only on the
    /// calls that run `evict`: what an evaluation loop calls, so that its
    /// cost does not grow with the series held. Expired samples of a series
    /// that receives no push stay in memory (within
    /// [`WindowConfig::max_samples_per_series`]) until `evict` runs, at the
    /// latest when that series' grace runs out.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::spec::Aggregation;
    /// use healbot_core::window::{Push, SeriesKey, SeriesStore, WindowConfig};
    /// use healbot_core::Duration;
    ///
    /// let cfg = WindowConfig { retention: Duration::from_secs(60), ..WindowConfig::default() };
    /// let mut store = SeriesStore::new(cfg);
    /// let id = store.resolve(SeriesKey { node: 0, metric: 0, labels: 0 }).unwrap();
    /// store.push(id, 0, 1.0);
    /// store.push(id, 30_000, 2.0);
    /// store.advance(60_000);
    /// assert_eq!(store.stats().samples, 1);
    /// assert_eq!(store.stats().evicted_samples, 1);
    /// let all_time = Duration::from_secs(1_000);
    /// assert_eq!(store.aggregate(id, Aggregation::Count, 0.0, all_time, 60_000), Some(1.0));
    /// assert_eq!(store.push(id, 0, 1.0), Push::TooOld);
    /// ```
    pub fn advance(&mut self, at: i64) {
        let cfg = self.state.config;
        let cutoff = at.saturating_sub(cfg.retention.as_millis_i64());
        if cutoff.saturating_sub(cfg.series_grace.as_millis_i64()) >= self.oldest_reference {
            self.evict(at);
            return;
        }
        self.state.horizon = self.state.horizon.max(cutoff);
        for id in self.unseen.drain(..) {
            let Some(Slot { generation, series: Some(series) }) = self.state.slots.get_mut(id.slot as usize) else {
                continue;
            };
            if *generation == id.generation && series.reference().is_none() {
                series.seen_at = Some(at);
                self.oldest_reference = self.oldest_reference.min(at);
            }
        }
    }

    /// Counters and sizes. O(series).
    pub fn stats(&self) -> WindowStats {
        let c = &self.state.counters;
        let mut samples = 0usize;
        let mut sample_capacity = 0usize;
        let mut summary_bytes = 0usize;
        // Samples `advance` left behind count as evicted, as after `evict`.
        let mut expired = 0usize;
        for series in self.state.slots.iter().filter_map(|s| s.series.as_ref()) {
            let gone = series.samples.partition_point(|s| s.t <= self.state.horizon);
            expired += gone;
            samples += series.samples.len() - gone;
            sample_capacity += series.samples.capacity();
            summary_bytes += series.summary.as_ref().map_or(0, |s| size_of::<Summary>() + s.heap_bytes());
        }
        let index_capacity = self.index.capacity();
        let index_buckets =
            if index_capacity == 0 { 0 } else { (index_capacity.saturating_mul(8) / 7).next_power_of_two() };
        let heap_bytes = sample_capacity * size_of::<Sample>()
            + summary_bytes
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
            evicted_samples: c.evicted_samples + expired as u64,
            evicted_series: c.evicted_series,
        }
    }

    /// Rebuild a store from a snapshot, checking its invariants.
    fn from_state(mut state: StoreState) -> Result<Self, String> {
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
        let mut oldest_reference = i64::MAX;
        let mut unseen = Vec::new();
        for (slot, entry) in state.slots.iter_mut().enumerate() {
            let Some(series) = entry.series.as_mut() else { continue };
            series.maybe_summarise();
            match series.reference() {
                Some(t) => oldest_reference = oldest_reference.min(t),
                // Fits: checked above.
                None => unseen.push(SeriesId { slot: slot as u32, generation: entry.generation }),
            }
        }
        Ok(SeriesStore { state, index, live, oldest_reference, unseen, instance: crate::instance::next() })
    }
}

#[cfg(test)]
impl SeriesStore {
    /// What the summary alone answers for `agg` (sum, avg, increase, rate,
    /// slope); `None` when it would scan, or the series has no summary.
    pub(crate) fn summary_read(&self, id: SeriesId, agg: Aggregation, window: Duration, at: i64) -> Option<f64> {
        let series = self.series(id)?;
        let (lo, hi) = series.window(window, at, self.state.horizon);
        series.summary.as_deref()?.read(&series.samples, lo, hi, agg)
    }

    /// The forecast's line from the summary alone, as (slope, value at `at`).
    pub(crate) fn summary_line(&self, id: SeriesId, window: Duration, at: i64) -> Option<(f64, f64)> {
        let series = self.series(id)?;
        let (lo, hi) = series.window(window, at, self.state.horizon);
        let fit = series.summary.as_deref()?.fit(&series.samples, lo, hi, true)?;
        Some((fit.slope, fit.value_at(at)))
    }

    /// `agg` by a scan of the window, as before summaries.
    pub(crate) fn scan_read(&self, id: SeriesId, agg: Aggregation, q: f64, window: Duration, at: i64) -> Option<f64> {
        let series = self.series(id)?;
        let (lo, hi) = series.window(window, at, self.state.horizon);
        aggregate::scan(series.samples.range(lo..hi), agg, q)
    }

    /// Mark the series read, as a first aggregate would, so that the
    /// pushes that follow keep a summary.
    pub(crate) fn mark_read(&self, id: SeriesId) {
        if let Some(s) = self.series(id) {
            s.read.note(s.version.0);
        }
    }

    /// Whether the series has a summary.
    pub(crate) fn has_summary(&self, id: SeriesId) -> bool {
        self.series(id).is_some_and(|s| s.summary.is_some())
    }
}

/// A series' version: bumped by every change to its samples. It takes no
/// part in equality (it is not part of the contents).
#[derive(Clone, Copy, Debug, Default)]
struct Version(u64);

impl Version {
    #[inline]
    fn bump(&mut self) {
        self.0 = self.0.wrapping_add(1);
    }
}

impl PartialEq for Version {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// See `Series::read`. Cloning copies it; it takes no part in equality
/// (it is not part of the contents).
#[derive(Debug)]
struct LastRead(AtomicU64);

/// `LastRead` of a series never read: no version is this.
const NEVER_READ: u64 = u64::MAX;

impl Default for LastRead {
    fn default() -> Self {
        LastRead(AtomicU64::new(NEVER_READ))
    }
}

impl LastRead {
    #[inline]
    fn was_read(&self) -> bool {
        self.0.load(Ordering::Relaxed) != NEVER_READ
    }

    /// Whether the last read was at `version`.
    #[inline]
    fn is(&self, version: u64) -> bool {
        self.0.load(Ordering::Relaxed) == version
    }

    /// Record a read at `version`, writing only when it differs from the
    /// last one (reads stay read-only); whether it did not.
    #[inline]
    fn note(&self, version: u64) -> bool {
        let same = self.is(version);
        if !same {
            self.0.store(version, Ordering::Relaxed);
        }
        same
    }
}

impl Clone for LastRead {
    fn clone(&self) -> Self {
        LastRead(AtomicU64::new(self.0.load(Ordering::Relaxed)))
    }
}

impl PartialEq for LastRead {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A hash of `key`, to stagger the summary rebuilds of series that were
/// created and are scraped together.
fn stagger(key: &SeriesKey) -> u32 {
    let mixed = (key.labels ^ (u64::from(key.metric) << 32 | u64::from(key.node))).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 32) as u32
}

/// The positions `lo..hi` of the samples in `(at - window, at]`.
///
/// `hi` is O(1) when `at` is at or after the newest sample (the usual read);
/// `lo` is searched from a guess that assumes evenly spaced samples,
/// galloping away from it: O(1) probes for a regular series, O(log k) for a
/// guess k positions off, never worse than about twice a binary search.
fn window_range(samples: &VecDeque<Sample>, window: Duration, at: i64, horizon: i64) -> (usize, usize) {
    let (Some(first), Some(last)) = (samples.front(), samples.back()) else {
        return (0, 0);
    };
    let len = samples.len();
    let hi = if last.t <= at { len } else { samples.partition_point(|s| s.t <= at) };
    let start = at.saturating_sub(window.as_millis_i64()).max(horizon);
    if hi == 0 || first.t > start {
        return (0, hi);
    }
    // window × (len - 1) / span: one division where the spacing and the
    // count took two in a row (a good part of a read's search).
    let span = last.t.saturating_sub(first.t).max(1);
    let expected = at.saturating_sub(start).checked_mul(len as i64 - 1).map_or(i64::MAX, |w| w / span);
    let guess = hi - usize::try_from(expected).unwrap_or(usize::MAX).min(hi);
    (first_after(samples, hi, start, guess), hi)
}

/// The first position below `hi` whose sample is newer than `start` (`hi`
/// if none), searched from `guess`.
fn first_after(samples: &VecDeque<Sample>, hi: usize, start: i64, guess: usize) -> usize {
    let after = |i: usize| samples.get(i).is_none_or(|s| s.t > start);
    // The answer lies in `lo..=up`.
    let (mut lo, mut up);
    let g = guess.min(hi);
    if g < hi && !after(g) {
        // Gallop up from the guess.
        lo = g + 1;
        up = hi;
        let mut step = 1usize;
        while let Some(j) = g.checked_add(step).filter(|&j| j < hi) {
            if after(j) {
                up = j;
                break;
            }
            lo = j + 1;
            step = step.saturating_mul(2);
        }
    } else {
        // Gallop down from the guess.
        lo = 0;
        up = g;
        let mut step = 1usize;
        while let Some(j) = g.checked_sub(step) {
            if !after(j) {
                lo = j + 1;
                break;
            }
            up = j;
            step = step.saturating_mul(2);
        }
    }
    while lo < up {
        let mid = lo + (up - lo) / 2;
        if after(mid) {
            up = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
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
