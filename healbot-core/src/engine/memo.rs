//! Metric predicates' values on nodes, kept between evaluations while the
//! series they read hold the same samples in their windows.
//!
//! A metric predicate on a node reads every series of its metric on the
//! node that its label matchers accept, and folds their aggregates into one
//! value. The [`ReadCache`] keeps each series' aggregate, but a predicate
//! still finds its series, matches their labels and looks each one up in
//! the cache: about 800 instructions for three series. Kept here, the same
//! value costs one lookup and a version check per series.
//!
//! A kept value holds while:
//! - the node lists the same series of the metric (a new series is listed
//!   at the end, an evicted one is dropped, and a series id is never
//!   reused for another series);
//! - every series it read is at the version it read (any change to a
//!   series' samples changes its version);
//! - the window's start and end stay between the samples every one of
//!   those series had around them ([`Validity`]).
//!
//! Label sets never change, so which listed series match stays the same.

use std::hash::Hasher;

use crate::table::{Table, TableKey};
use crate::telemetry::Labels;
use crate::window::{Bounds, KeyHasher, ReadCache, SeriesId, SeriesStore, Validity};

/// The most series a node may list for a kept value; a predicate over a
/// metric with more series on the node is computed each time (through the
/// [`ReadCache`]).
const MAX_SERIES: usize = 4;

/// Metric predicate values by (predicate, node). Bound to one store and
/// one compiled library: handed another, it forgets everything first.
#[derive(Debug, Default)]
pub(crate) struct MetricMemo {
    /// Bound to the store and library instance the values were computed from.
    table: Table<MemoKey, Kept>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MemoKey {
    /// The predicate's index in the compiled library.
    pred: u32,
    node: u32,
}

impl TableKey for MemoKey {
    #[inline]
    fn hash(&self) -> u64 {
        let mut h = KeyHasher::default();
        h.write_u64(u64::from(self.pred) << 32 | u64::from(self.node));
        h.finish()
    }
}

/// A predicate's value and what it was computed from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Kept {
    /// How many series were listed (the first of `series`).
    listed: u8,
    /// The series listed, in order, with the version read of those whose
    /// labels matched.
    series: [(SeriesId, Option<u64>); MAX_SERIES],
    /// The windows every read holds for.
    bounds: Bounds,
    value: Option<f64>,
}

impl Kept {
    /// Whether it holds for the node's series `listed` in `store`, the
    /// window start `start` and the end `at`.
    #[inline]
    fn holds(&self, listed: &[(SeriesId, Labels)], store: &SeriesStore, start: i64, at: i64) -> bool {
        let n = usize::from(self.listed);
        if n != listed.len() || !self.bounds.covers(start, at) {
            return false;
        }
        for (&(id, version), (now, _)) in self.series.iter().zip(listed) {
            if *now != id {
                return false;
            }
            if let Some(v) = version {
                if store.version(id) != Some(v) {
                    return false;
                }
            }
        }
        true
    }
}

/// What a predicate's computation gathers for [`MetricMemo::keep`]: the
/// listed series in order, and the bounds its reads hold within.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reading {
    listed: usize,
    series: [(SeriesId, Option<u64>); MAX_SERIES],
    bounds: Bounds,
}

impl Reading {
    /// Starts a reading of a metric whose first listed series is `first`.
    pub(crate) fn new(first: SeriesId) -> Reading {
        Reading { listed: 0, series: [(first, None); MAX_SERIES], bounds: Bounds::ALWAYS }
    }

    /// Notes the next listed series, `id`, and its read if its labels
    /// matched (valid under that `Validity`).
    #[inline]
    pub(crate) fn add(&mut self, id: SeriesId, read: Option<Validity>) {
        if let Some(slot) = self.series.get_mut(self.listed) {
            *slot = (id, read.map(|v| v.version));
        }
        self.listed = self.listed.saturating_add(1);
        if let Some(valid) = read {
            self.bounds = self.bounds.meet(valid.bounds);
        }
    }
}

impl MetricMemo {
    /// The value of predicate `pred` on `node` kept from an earlier
    /// evaluation, if it still holds for `listed` (the node's series of
    /// the metric), the window start `start` and the end `at`.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn get(
        &mut self,
        bound: (u64, u64),
        pred: u32,
        node: u32,
        listed: &[(SeriesId, Labels)],
        store: &SeriesStore,
        start: i64,
        at: i64,
    ) -> Result<Option<f64>, crate::table::Probe<MemoKey>> {
        self.table.bind(bound);
        let (probe, kept) = self.table.get(MemoKey { pred, node });
        match kept {
            Some(k) if k.holds(listed, store, start, at) => Ok(k.value),
            _ => Err(probe),
        }
    }

    /// Keeps `value`, computed as `reading` says, for the lookup `probe`
    /// missed (unless it read too many series to keep).
    pub(crate) fn keep(&mut self, probe: crate::table::Probe<MemoKey>, reading: &Reading, value: Option<f64>) {
        let Some(listed) = u8::try_from(reading.listed).ok().filter(|&n| usize::from(n) <= MAX_SERIES) else {
            return;
        };
        let kept = Kept { listed, series: reading.series, bounds: reading.bounds, value };
        self.table.put(probe, kept);
    }

    /// Ends an evaluation (see [`Table::sweep`]).
    pub(crate) fn sweep(&mut self) {
        self.table.sweep();
    }
}

/// The [`ReadCache`] and [`MetricMemo`] an evaluation reads through.
#[derive(Debug, Default)]
pub(crate) struct Recall {
    pub(crate) reads: ReadCache,
    pub(crate) metrics: MetricMemo,
}

impl Recall {
    /// Ends an evaluation.
    pub(crate) fn sweep(&mut self) {
        self.reads.sweep();
        self.metrics.sweep();
    }
}
