//! Remembering aggregates between evaluations while their windows hold
//! the same samples.
//!
//! An engine evaluates far more often than most series receive samples: a
//! host that evaluates every second over series scraped every 15 s asks 14
//! times in 15 for aggregates of windows that hold exactly the samples they
//! held the second before. An aggregate is a function of the samples in its
//! window, so it can be kept until they change: a sample is stored in or
//! dropped from the series, or time moves far enough for the window's ends
//! to pass a sample.

use super::hash::FixedMap;
use super::store::SeriesId;
use crate::spec::Aggregation;
use crate::Duration;

/// Aggregates kept for [`SeriesStore::aggregate_cached`](super::SeriesStore::aggregate_cached), each valid while
/// its window holds the same samples.
///
/// A cache remembers the [`SeriesStore`](super::SeriesStore) it was last used with and forgets
/// everything when handed another one, so it can never answer for the wrong
/// store. Its size is bounded by [`sweep`](Self::sweep), which a caller
/// evaluating in rounds calls after each round: it keeps at most about
/// twice what one round read.
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
/// store.push(id, 15_000, 3.0);
/// store.push(id, 30_000, 5.0);
/// let mut cache = ReadCache::new();
/// let w = Duration::from_secs(60);
/// assert_eq!(store.aggregate_cached(&mut cache, id, Aggregation::Avg, 0.0, w, 30_000), Some(4.0));
/// // One second later the window holds the same two samples: kept.
/// assert_eq!(store.aggregate_cached(&mut cache, id, Aggregation::Avg, 0.0, w, 31_000), Some(4.0));
/// assert_eq!(cache.hits(), 1);
/// // A new sample changes the series: computed again.
/// store.push(id, 45_000, 7.0);
/// assert_eq!(store.aggregate_cached(&mut cache, id, Aggregation::Avg, 0.0, w, 45_000), Some(5.0));
/// assert_eq!(cache.hits(), 1);
/// ```
#[derive(Debug, Default)]
pub struct ReadCache {
    entries: FixedMap<ReadKey, Entry>,
    /// The store the entries were read from (see `SeriesStore::instance`).
    store: u64,
    /// Incremented by every `sweep`; entries used since the last one carry it.
    round: u32,
    /// Entries used since the last `sweep`.
    used: usize,
    hits: u64,
}

/// What an entry answers: one aggregate of one series over one window length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct ReadKey {
    series: u64,
    window_ms: i64,
    /// The quantile's bits (0 for every other aggregation, which ignores it).
    q: u64,
    agg: Aggregation,
}

/// An aggregate, and the conditions under which it still holds.
#[derive(Clone, Copy, Debug)]
pub(super) struct Entry {
    /// The series' version when it was computed.
    pub(super) version: u64,
    /// It holds for a window start `s` (exclusive: `max(at - window,
    /// horizon)`) with `start.0 <= s < start.1`, and for an `at` with
    /// `end.0 <= at < end.1`: those are the times at which the first and
    /// the last sample in the window stay the same.
    pub(super) start: (i64, i64),
    pub(super) end: (i64, i64),
    pub(super) value: Option<f64>,
    round: u32,
}

impl Entry {
    /// An entry for `value`, over the samples its bounds describe.
    pub(super) fn new(version: u64, start: (i64, i64), end: (i64, i64), value: Option<f64>) -> Entry {
        Entry { version, start, end, value, round: 0 }
    }

    /// Whether it still answers for a series at `version`, the window
    /// start `start` and the end `at`.
    #[inline]
    pub(super) fn holds(&self, version: u64, start: i64, at: i64) -> bool {
        self.version == version && self.start.0 <= start && start < self.start.1 && self.end.0 <= at && at < self.end.1
    }
}

impl ReadCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of aggregates kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it keeps nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Reads answered from the cache since it was made.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.used = 0;
    }

    /// End a round of reads: when the cache keeps more than twice what the
    /// round used (and more than a few hundred entries), drop what the
    /// round did not use. Aggregates of series that were dropped, or that
    /// nobody reads any more, go this way.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::spec::Aggregation;
    /// use healbot_core::window::{ReadCache, SeriesKey, SeriesStore, WindowConfig};
    /// use healbot_core::Duration;
    ///
    /// let mut store = SeriesStore::new(WindowConfig::default());
    /// let mut cache = ReadCache::new();
    /// let w = Duration::from_secs(60);
    /// for node in 0..1_000 {
    ///     let id = store.resolve(SeriesKey { node, metric: 0, labels: 0 }).unwrap();
    ///     store.push(id, 1_000, 1.0);
    ///     store.aggregate_cached(&mut cache, id, Aggregation::Last, 0.0, w, 1_000);
    /// }
    /// cache.sweep();
    /// assert_eq!(cache.len(), 1_000); // all of them used in the round
    /// let id = store.resolve(SeriesKey { node: 0, metric: 0, labels: 0 }).unwrap();
    /// store.aggregate_cached(&mut cache, id, Aggregation::Last, 0.0, w, 1_000);
    /// cache.sweep();
    /// assert_eq!(cache.len(), 1);
    /// ```
    pub fn sweep(&mut self) {
        const SLACK: usize = 256;
        if self.entries.len() > self.used.saturating_mul(2).max(SLACK) {
            let round = self.round;
            self.entries.retain(|_, e| e.round == round);
            self.entries.shrink_to(self.entries.len().saturating_mul(2).max(SLACK));
        }
        self.round = self.round.wrapping_add(1);
        self.used = 0;
    }

    /// The entry for a read of `series` from the store `store`, if it
    /// keeps one, marked as used in this round.
    pub(super) fn get(
        &mut self,
        store: u64,
        series: SeriesId,
        agg: Aggregation,
        q: f64,
        window: Duration,
    ) -> (ReadSlot, Option<Entry>) {
        if self.store != store {
            self.entries.clear();
            self.used = 0;
            self.store = store;
        }
        let key = ReadKey {
            series: series.to_bits(),
            window_ms: window.as_millis_i64(),
            q: if agg == Aggregation::Quantile { q.to_bits() } else { 0 },
            agg,
        };
        let found = self.entries.get_mut(&key).map(|e| {
            if e.round != self.round {
                e.round = self.round;
                self.used += 1;
            }
            *e
        });
        (ReadSlot(key), found)
    }

    /// Count a read answered by an entry.
    pub(super) fn hit(&mut self) {
        self.hits = self.hits.saturating_add(1);
    }

    /// Keep `entry` for the read `slot` named.
    pub(super) fn put(&mut self, slot: ReadSlot, mut entry: Entry) {
        entry.round = self.round;
        if self.entries.insert(slot.0, entry).is_none_or(|old| old.round != self.round) {
            self.used += 1;
        }
    }
}

/// Where [`ReadCache::put`] files an entry: the key `get` looked up.
pub(super) struct ReadSlot(ReadKey);
