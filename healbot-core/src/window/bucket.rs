//! Counting events (log pattern matches) in fixed time buckets.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::Duration;

/// Hard limit on the buckets one counter keeps, whatever its retention and
/// bucket width: beyond it the oldest buckets are dropped and counted.
pub const MAX_BUCKETS: usize = 1 << 16;

/// Counts events in fixed time buckets, for log pattern predicates; the
/// events themselves are never kept.
///
/// Bucket `k` of width `b` covers the times `((k - 1)·b, k·b]`: buckets are
/// aligned to multiples of `b` from the Unix epoch and, like windows, open
/// on the left and closed on the right. Only buckets holding events are
/// stored, at most `retention / b + 1` of them (and never more than
/// [`MAX_BUCKETS`]).
///
/// [`count`](Self::count)`(w, at)` sums the buckets that overlap the window
/// `(at - w, at]`. It is exact when `at` and `w` are multiples of `b`;
/// otherwise it may include events up to one bucket older than `at - w`,
/// and events of `at`'s own bucket that are newer than `at`.
///
/// Events at or before `newest - retention`, where `newest` is the latest
/// time passed to [`add`](Self::add) or [`evict`](Self::evict), are dropped
/// and counted ([`dropped`](Self::dropped)). Events may arrive in any order
/// within the retention.
///
/// # Example
///
/// ```
/// use healbot_core::window::BucketCounter;
/// use healbot_core::Duration;
///
/// let mut c = BucketCounter::new(Duration::from_secs(10), Duration::from_secs(3600));
/// c.add(5_000, 2); // bucket (0s, 10s]
/// c.add(10_000, 1); // bucket (0s, 10s] too: closed on the right
/// c.add(12_000, 4); // bucket (10s, 20s]
/// assert_eq!(c.count(Duration::from_secs(10), 20_000), 4);
/// assert_eq!(c.count(Duration::from_secs(20), 20_000), 7);
/// // not aligned: (15s, 25s] overlaps the bucket (10s, 20s]
/// assert_eq!(c.count(Duration::from_secs(10), 25_000), 4);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketCounter {
    bucket_ms: i64,
    retention: Duration,
    /// Non-empty buckets, by increasing index.
    buckets: VecDeque<Bucket>,
    /// The latest time seen by `add` or `evict`.
    newest: i64,
    dropped: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Bucket {
    /// The bucket covers `((index - 1)·b, index·b]`.
    index: i64,
    count: u64,
}

impl BucketCounter {
    /// A counter with buckets of width `bucket` (at least 1 ms; a zero width
    /// is taken as 1 ms) keeping `retention` of history.
    pub fn new(bucket: Duration, retention: Duration) -> Self {
        BucketCounter {
            bucket_ms: bucket.as_millis_i64().max(1),
            retention,
            buckets: VecDeque::new(),
            newest: i64::MIN,
            dropped: 0,
        }
    }

    /// The bucket width.
    pub fn bucket(&self) -> Duration {
        Duration::from_millis(self.width().unsigned_abs())
    }

    /// The bucket width in milliseconds, never below 1 (even from a
    /// corrupt snapshot).
    fn width(&self) -> i64 {
        self.bucket_ms.max(1)
    }

    /// The index of the bucket holding time `t`: `ceil(t / b)`.
    fn index_of(&self, t: i64) -> i64 {
        let b = self.width();
        t.div_euclid(b) + i64::from(t.rem_euclid(b) != 0)
    }

    /// Record `n` events at time `at`. O(1) amortised for events in time
    /// order.
    pub fn add(&mut self, at: i64, n: u32) {
        if n == 0 {
            return;
        }
        self.newest = self.newest.max(at);
        self.expire();
        let cutoff = self.newest.saturating_sub(self.retention.as_millis_i64());
        if at <= cutoff {
            self.dropped = self.dropped.saturating_add(u64::from(n));
            return;
        }
        let index = self.index_of(at);
        let n = u64::from(n);
        match self.buckets.back_mut() {
            Some(last) if last.index == index => last.count = last.count.saturating_add(n),
            Some(last) if last.index > index => {
                let pos = self.buckets.partition_point(|b| b.index < index);
                match self.buckets.get_mut(pos) {
                    Some(b) if b.index == index => b.count = b.count.saturating_add(n),
                    _ => self.buckets.insert(pos, Bucket { index, count: n }),
                }
            }
            _ => self.buckets.push_back(Bucket { index, count: n }),
        }
        while self.buckets.len() > MAX_BUCKETS {
            if let Some(b) = self.buckets.pop_front() {
                self.dropped = self.dropped.saturating_add(b.count);
            }
        }
    }

    /// Drop the buckets that lie entirely at or before `at - retention`.
    pub fn evict(&mut self, at: i64) {
        self.newest = self.newest.max(at);
        self.expire();
    }

    fn expire(&mut self) {
        let cutoff = self.newest.saturating_sub(self.retention.as_millis_i64());
        // Bucket k ends at k·b; it is expired when k·b <= cutoff, i.e.
        // k <= floor(cutoff / b).
        let last_expired = cutoff.div_euclid(self.width());
        while self.buckets.front().is_some_and(|b| b.index <= last_expired) {
            self.buckets.pop_front();
        }
    }

    /// The number of events in the buckets overlapping `(at - window, at]`.
    /// O(log buckets + buckets in the window).
    pub fn count(&self, window: Duration, at: i64) -> u64 {
        self.count_after_evict(window, at, i64::MIN)
    }

    /// What [`count`](Self::count) would answer after
    /// [`evict`](Self::evict)`(evicted_at)`, without evicting: a reader that
    /// moves time on for many counters at once need not visit each one
    /// (the engine evicts a counter only when it next adds to it).
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::window::BucketCounter;
    /// use healbot_core::Duration;
    ///
    /// let (b, w) = (Duration::from_secs(10), Duration::from_secs(60));
    /// let mut c = BucketCounter::new(b, w);
    /// c.add(5_000, 1);
    /// c.add(55_000, 1);
    /// assert_eq!(c.count_after_evict(w, 60_000, 70_000), 1);
    /// c.evict(70_000);
    /// assert_eq!(c.count(w, 60_000), 1);
    /// ```
    pub fn count_after_evict(&self, window: Duration, at: i64, evicted_at: i64) -> u64 {
        if window.is_zero() {
            return 0;
        }
        let start = at.saturating_sub(window.as_millis_i64());
        // Overlap: (k-1)·b < at and k·b > start, i.e.
        // floor(start / b) < k <= ceil(at / b); and after the eviction
        // only buckets past the last expired one (see `expire`) are left.
        let expired = self.newest.max(evicted_at).saturating_sub(self.retention.as_millis_i64());
        let first = start.div_euclid(self.width()).max(expired.div_euclid(self.width()));
        let last = self.index_of(at);
        let lo = self.buckets.partition_point(|b| b.index <= first);
        let hi = self.buckets.partition_point(|b| b.index <= last);
        self.buckets.range(lo..hi.max(lo)).fold(0u64, |acc, b| acc.saturating_add(b.count))
    }

    /// Events dropped: older than the retention on arrival, or in buckets
    /// dropped by the [`MAX_BUCKETS`] limit.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Bucket>()
    }
}
