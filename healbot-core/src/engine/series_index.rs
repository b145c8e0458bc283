//! Which series each node has, by metric: the lookup every metric predicate
//! makes, so it is a vector index and a short binary search, not a map
//! walk over every (node, metric) pair of the engine.

use serde::{Deserialize, Serialize};

use super::by_node::ByNode;
use crate::telemetry::Labels;
use crate::window::{SeriesId, SeriesStore};

/// Node index → metric key ([`crate::matcher::name_key`]) → series with
/// their labels, in the order they were added.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct SeriesIndex(ByNode<u64, Vec<(SeriesId, Labels)>>);

impl SeriesIndex {
    /// The series of `metric` on `node`, in the order they were added.
    #[inline]
    pub(crate) fn get(&self, node: u32, metric: u64) -> &[(SeriesId, Labels)] {
        self.0.get(node, &metric).map_or(&[], |v| &v[..])
    }

    /// Files a new series under (`node`, `metric`).
    pub(crate) fn add(&mut self, node: u32, metric: u64, id: SeriesId, labels: Labels) {
        self.0.get_or_insert_with(node, metric, Vec::new).push((id, labels));
    }

    /// One more than the highest node index with a series (0 when empty).
    /// Drops the series `store` no longer holds (evicted ones), and the
    /// (node, metric) entries left without series, so the index holds what
    /// is live and not every series ever seen.
    pub(crate) fn retain_live(&mut self, store: &SeriesStore) {
        self.0.retain(|_, list| {
            list.retain(|(id, _)| store.key(*id).is_some());
            !list.is_empty()
        });
    }

    pub(crate) fn node_bound(&self) -> usize {
        self.0.node_bound()
    }

    /// Whether every node's list is sorted by metric key with no repeats
    /// (true of every index this module built; checked on restore).
    pub(crate) fn is_well_formed(&self) -> bool {
        self.0.is_well_formed()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
    use super::*;
    use crate::window::{SeriesKey, WindowConfig};

    #[test]
    fn finds_what_was_added_and_nothing_else() {
        let mut store = SeriesStore::new(WindowConfig::default());
        let mut ids = Vec::new();
        for labels in 0..4 {
            ids.push(store.resolve(SeriesKey { node: 0, metric: 0, labels }).unwrap());
        }
        let mut index = SeriesIndex::default();
        index.add(5, 30, ids[0], Labels::new());
        index.add(5, 10, ids[1], Labels::new());
        index.add(5, 30, ids[2], Labels::new());
        index.add(2, 30, ids[3], Labels::new());
        assert_eq!(index.get(5, 30).iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![ids[0], ids[2]]);
        assert_eq!(index.get(5, 10).len(), 1);
        assert_eq!(index.get(2, 30).len(), 1);
        assert!(index.get(5, 20).is_empty());
        assert!(index.get(3, 30).is_empty());
        assert!(index.get(99, 30).is_empty());
        assert_eq!(index.node_bound(), 6);
        assert!(index.is_well_formed());
    }

    #[test]
    fn evicted_series_leave_the_index() {
        let config = WindowConfig {
            retention: crate::Duration::from_secs(10),
            series_grace: crate::Duration::ZERO,
            ..WindowConfig::default()
        };
        let mut store = SeriesStore::new(config);
        let mut index = SeriesIndex::default();
        let mut ids = Vec::new();
        for (labels, (node, metric, t)) in
            [(3, 7, 0), (3, 7, 50_000), (3, 9, 0), (1, 7, 50_000)].into_iter().enumerate()
        {
            let id = store.resolve(SeriesKey { node, metric, labels: labels as u64 }).unwrap();
            store.push(id, t, 1.0);
            index.add(node, u64::from(metric), id, Labels::new());
            ids.push(id);
        }
        store.evict(55_000); // keeps what had a sample after 45 s
        index.retain_live(&store);
        assert_eq!(index.get(3, 7).iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![ids[1]]);
        assert!(index.get(3, 9).is_empty());
        assert_eq!(index.get(1, 7).len(), 1);
        assert_eq!(index.node_bound(), 4);
        store.evict(200_000);
        index.retain_live(&store);
        assert_eq!(index.node_bound(), 0, "nothing left");
        assert!(index.is_well_formed());
    }
}
