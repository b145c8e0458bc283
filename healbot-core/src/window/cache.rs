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

use std::hash::Hasher;

use super::hash::KeyHasher;
use super::store::SeriesId;
use crate::spec::Aggregation;
use crate::table::{Probe, Table, TableKey};
use crate::Duration;

/// Aggregates kept for [`SeriesStore::aggregate_cached`](super::SeriesStore::aggregate_cached), each valid while
/// its window holds the same samples.
///
/// A cache remembers the [`SeriesStore`](super::SeriesStore) it was last
/// used with and forgets everything when handed another one, so it can
/// never answer for the wrong store. It is a table of at most 65,536
/// entries (about 6 MiB), sized by [`sweep`](Self::sweep) for what a round
/// of reads needs: a caller evaluating in rounds calls it after each one.
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
/// let mut avg = |store: &SeriesStore, at| store.aggregate_cached(&mut cache, id, Aggregation::Avg, 0.0, w, at);
/// // The first read after the series changed computes; the second
/// // computes and keeps its answer.
/// assert_eq!(avg(&store, 30_000), Some(4.0));
/// assert_eq!(avg(&store, 30_000), Some(4.0));
/// // One second later the window holds the same two samples: kept.
/// assert_eq!(avg(&store, 31_000), Some(4.0));
/// // A new sample changes the series: computed again.
/// store.push(id, 45_000, 7.0);
/// assert_eq!(avg(&store, 45_000), Some(5.0));
/// assert_eq!(cache.hits(), 1);
/// ```
#[derive(Debug, Default)]
pub struct ReadCache {
    /// Bound to the store the entries were read from (see `SeriesStore::instance`).
    table: Table<ReadKey, Entry>,
    hits: u64,
}

/// What an entry answers: one aggregate of one series over one window length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ReadKey {
    series: u64,
    window_ms: i64,
    /// The quantile's bits (0 for every other aggregation, which ignores it).
    q: u64,
    agg: Aggregation,
}

impl TableKey for ReadKey {
    /// Its hash by the crate's [`KeyHasher`], over two words: the series,
    /// and the rest folded into one (the hash is on the path of every
    /// cached read; a collision of the fold only shares a block of slots,
    /// since the key is compared whole).
    #[inline]
    fn hash(&self) -> u64 {
        let mut h = KeyHasher::default();
        h.write_u64(self.series);
        h.write_u64((self.window_ms as u64) ^ self.q.rotate_left(32) ^ ((self.agg as u64) << 56));
        h.finish()
    }
}

/// An aggregate, and the conditions under which it still holds.
#[derive(Clone, Copy, Debug)]
pub(super) struct Entry {
    valid: Validity,
    value: Option<f64>,
}

/// The conditions under which an aggregate still holds: the series'
/// `version` when it was computed, and the `bounds` of the window's ends.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Validity {
    pub(crate) version: u64,
    pub(crate) bounds: Bounds,
}

impl Validity {
    /// Holds for no version and no window: what a read of an unknown series
    /// is kept under.
    pub(crate) const NEVER: Validity = Validity { version: u64::MAX, bounds: Bounds::NONE };
}

/// The windows a read holds for: a window start `s` (exclusive:
/// `max(at - window, horizon)`) with `start.0 <= s < start.1`, and an `at`
/// with `end.0 <= at < end.1`. Those are the times at which the first and
/// the last sample in the window stay the same.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds {
    pub(crate) start: (i64, i64),
    pub(crate) end: (i64, i64),
}

impl Bounds {
    /// Every window.
    pub(crate) const ALWAYS: Bounds = Bounds { start: (i64::MIN, i64::MAX), end: (i64::MIN, i64::MAX) };
    /// No window.
    pub(crate) const NONE: Bounds = Bounds { start: (0, 0), end: (0, 0) };

    /// Whether it holds for the window with exclusive start `start` and end `at`.
    #[inline]
    pub(crate) fn covers(&self, start: i64, at: i64) -> bool {
        self.start.0 <= start && start < self.start.1 && self.end.0 <= at && at < self.end.1
    }

    /// The windows both hold for.
    #[inline]
    pub(crate) fn meet(self, other: Bounds) -> Bounds {
        Bounds {
            start: (self.start.0.max(other.start.0), self.start.1.min(other.start.1)),
            end: (self.end.0.max(other.end.0), self.end.1.min(other.end.1)),
        }
    }
}

impl ReadCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of aggregates kept.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether it keeps nothing.
    pub fn is_empty(&self) -> bool {
        self.table.len() == 0
    }

    /// Reads answered from the cache since it was made.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.table.clear();
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.table.heap_bytes()
    }

    /// End a round of reads (an evaluation): size the table for about four
    /// slots per read of the round, between 64 and 65,536 slots (about
    /// 6 MiB), so that a round's reads rarely collide and memory follows
    /// what is read. A table that grows keeps its entries; one shrinks
    /// once eight rounds in a row read far less than it holds.
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
    /// let ids: Vec<_> = (0..1_000).map(|node| store.resolve(SeriesKey { node, metric: 0, labels: 0 }).unwrap()).collect();
    /// for &id in &ids {
    ///     store.push(id, 1_000, 1.0);
    /// }
    /// let mut round = |cache: &mut ReadCache| {
    ///     let before = cache.hits();
    ///     for &id in &ids {
    ///         store.aggregate_cached(cache, id, Aggregation::Last, 0.0, w, 1_000);
    ///     }
    ///     cache.sweep();
    ///     cache.hits() - before
    /// };
    /// round(&mut cache); // the series changed since their last read
    /// round(&mut cache); // too small a table: it grows to fit 1,000 reads
    /// round(&mut cache);
    /// assert!(round(&mut cache) > 900); // the few that collide compute again
    /// assert!(cache.heap_bytes() <= 4_096 * 128);
    /// ```
    pub fn sweep(&mut self) {
        self.table.sweep();
    }

    /// The slot of a read of `series` from the store `store`, and the
    /// entry it holds if that entry is for this read.
    #[inline]
    pub(super) fn get(
        &mut self,
        store: u64,
        series: SeriesId,
        agg: Aggregation,
        q: f64,
        window: Duration,
    ) -> (Probe<ReadKey>, Option<&Entry>) {
        self.table.bind((store, 0));
        self.table.get(ReadKey {
            series: series.to_bits(),
            window_ms: window.as_millis_i64(),
            q: if agg == Aggregation::Quantile { q.to_bits() } else { 0 },
            agg,
        })
    }

    /// Counts a read answered from the cache.
    #[inline]
    pub(super) fn hit(&mut self) {
        self.hits = self.hits.saturating_add(1);
    }

    /// Files the aggregate of the read `slot` came from.
    pub(super) fn put(&mut self, slot: Probe<ReadKey>, valid: Validity, value: Option<f64>) {
        self.table.put(slot, Entry { valid, value });
    }
}

impl Entry {
    /// Whether it still answers for a series at `version`, the window
    /// start `start` and the end `at`.
    #[inline]
    pub(super) fn holds(&self, version: u64, start: i64, at: i64) -> Option<Option<f64>> {
        (self.valid.version == version && self.valid.bounds.covers(start, at)).then_some(self.value)
    }

    /// The conditions it holds under.
    #[inline]
    pub(super) fn validity(&self) -> Validity {
        self.valid
    }
}
