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
    /// Four-way set associative by a hash of the read: a lookup is one
    /// hash and at most four key comparisons, and a miss overwrites one of
    /// the four (reads that collide just compute more often). Its length
    /// is zero or a power of two, at least 64.
    slots: Vec<Option<Entry>>,
    /// The store the entries were read from (see `SeriesStore::instance`).
    store: u64,
    /// Incremented by every `sweep`; entries used since the last one carry it.
    round: u32,
    /// Entries used since the last `sweep`.
    used: usize,
    /// Sweeps in a row that found the table far too big, and the most
    /// slots any of them wanted: it shrinks only after [`SHRINK_AFTER`] of
    /// them. The round after every series changed (a scrape of them all)
    /// reads nothing through the table, and shrinking then would lose what
    /// the next round keeps for the ones after it.
    small: (u32, usize),
    hits: u64,
}

/// What an entry answers: one aggregate of one series over one window length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ReadKey {
    series: u64,
    window_ms: i64,
    /// The quantile's bits (0 for every other aggregation, which ignores it).
    q: u64,
    agg: Aggregation,
}

impl ReadKey {
    /// Its hash by the crate's [`KeyHasher`], over two words: the series,
    /// and the rest folded into one (the hash is on the path of every
    /// cached read; a collision of the fold only shares a block of slots,
    /// since the key is compared whole). The slot comes from the high bits.
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
    key: ReadKey,
    /// The series' version when it was computed.
    version: u64,
    /// It holds for a window start `s` (exclusive: `max(at - window,
    /// horizon)`) with `start.0 <= s < start.1`, and for an `at` with
    /// `end.0 <= at < end.1`: those are the times at which the first and
    /// the last sample in the window stay the same.
    start: (i64, i64),
    end: (i64, i64),
    value: Option<f64>,
    round: u32,
}

/// The bounds an entry holds within (see [`Entry`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct Validity {
    pub(super) version: u64,
    pub(super) start: (i64, i64),
    pub(super) end: (i64, i64),
}

/// Slots a read may take: the aligned block of this many around its own.
const WAYS: usize = 4;

/// The fewest and the most slots a cache keeps.
const MIN_SLOTS: usize = 64;
const MAX_SLOTS: usize = 1 << 16;

/// How many sweeps in a row must find the table far too big before it
/// shrinks: more rounds than a host evaluates between two scrapes of all
/// its series, in the usual setups.
const SHRINK_AFTER: u32 = 8;

impl ReadCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of aggregates kept.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|e| e.is_some()).count()
    }

    /// Whether it keeps nothing.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }

    /// Reads answered from the cache since it was made.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.slots.iter_mut().for_each(|e| *e = None);
        self.used = 0;
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Option<Entry>>()
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
        let want = self.used.saturating_mul(4).clamp(MIN_SLOTS, MAX_SLOTS).next_power_of_two();
        // Grow at once; shrink only when far too big for several rounds, so
        // that a round that reads less (or only series that changed) does
        // not throw everything away.
        let len = self.slots.len();
        let resize = if want > len {
            Some(want)
        } else if want.saturating_mul(4) < len {
            let (rounds, most) = (self.small.0.saturating_add(1), self.small.1.max(want));
            self.small = (rounds, most);
            (rounds >= SHRINK_AFTER).then_some(most)
        } else {
            None
        };
        if resize.is_some() || want.saturating_mul(4) >= len {
            self.small = (0, 0);
        }
        if let Some(want) = resize {
            let old = std::mem::replace(&mut self.slots, vec![None; want]);
            for e in old.into_iter().flatten() {
                let i = self.index(&e.key);
                if let Some(slot) = self.slots.get_mut(i) {
                    *slot = Some(e);
                }
            }
        }
        self.round = self.round.wrapping_add(1);
        self.used = 0;
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
    ) -> (ReadSlot, Option<&Entry>) {
        if self.store != store {
            self.clear();
            self.store = store;
        }
        if self.slots.is_empty() {
            self.slots = vec![None; MIN_SLOTS];
        }
        let key = ReadKey {
            series: series.to_bits(),
            window_ms: window.as_millis_i64(),
            q: if agg == Aggregation::Quantile { q.to_bits() } else { 0 },
            agg,
        };
        // Four ways: the aligned block of four slots holding the read's own.
        let index = self.index(&key);
        let round = self.round;
        let way = (index & !(WAYS - 1)..(index | (WAYS - 1)) + 1)
            .find(|&i| self.slots.get(i).is_some_and(|e| e.is_some_and(|e| e.key == key)));
        let found = match way.and_then(|i| self.slots.get_mut(i)) {
            Some(Some(e)) => {
                if e.round != round {
                    e.round = round;
                    self.used = self.used.saturating_add(1);
                }
                Some(&*e)
            }
            _ => None,
        };
        (ReadSlot { key, index: way.unwrap_or(index) }, found)
    }

    /// The slot of `key` in a table of a power of two slots: its hash's
    /// high bits.
    #[inline]
    fn index(&self, key: &ReadKey) -> usize {
        let bits = self.slots.len().trailing_zeros();
        if bits == 0 {
            return 0;
        }
        (key.hash() >> (64 - bits)) as usize
    }

    /// Count a read answered by an entry.
    #[inline]
    pub(super) fn hit(&mut self) {
        self.hits = self.hits.saturating_add(1);
    }

    /// Keep `value` for the read `slot` names, valid within `valid`: in
    /// the slot of its old entry, or the first of its block that is empty,
    /// or else not used in this round, or its own slot.
    pub(super) fn put(&mut self, slot: ReadSlot, valid: Validity, value: Option<f64>) {
        let round = self.round;
        let block = slot.index & !(WAYS - 1)..(slot.index | (WAYS - 1)) + 1;
        let state = |i: usize| self.slots.get(i).map(|e| e.as_ref().map(|e| (e.key == slot.key, e.round == round)));
        // The slot to fill, and whether it held this read, used in this round.
        let (into, counted) = match state(slot.index) {
            Some(Some((true, used))) => (slot.index, used),
            _ => {
                let free = block.clone().find(|&i| matches!(state(i), Some(None)));
                let idle = || block.clone().find(|&i| matches!(state(i), Some(Some((_, false)))));
                (free.or_else(idle).unwrap_or(slot.index), false)
            }
        };
        if !counted {
            self.used = self.used.saturating_add(1);
        }
        if let Some(e) = self.slots.get_mut(into) {
            *e =
                Some(Entry { key: slot.key, version: valid.version, start: valid.start, end: valid.end, value, round });
        }
    }
}

impl Entry {
    /// Whether it still answers for a series at `version`, the window
    /// start `start` and the end `at`.
    #[inline]
    pub(super) fn holds(&self, version: u64, start: i64, at: i64) -> Option<Option<f64>> {
        let holds = self.version == version
            && self.start.0 <= start
            && start < self.start.1
            && self.end.0 <= at
            && at < self.end.1;
        holds.then_some(self.value)
    }
}

/// Where [`ReadCache::put`] files an entry: the read `get` looked up.
pub(super) struct ReadSlot {
    key: ReadKey,
    index: usize,
}
