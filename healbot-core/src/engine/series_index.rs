//! Which series each node has, by metric: the lookup every metric predicate
//! makes, so it is a vector index and a short binary search, not a map
//! walk over every (node, metric) pair of the engine.

use serde::{Deserialize, Serialize};

use crate::telemetry::Labels;
use crate::window::SeriesId;

/// One metric's series on a node, with their labels.
type Entry = (u64, Vec<(SeriesId, Labels)>);

/// Node index → metric key ([`crate::matcher::name_key`]) → series.
///
/// Grows only to the highest node index that has a series (bounded by the
/// topology); each node's list is sorted by metric key. Deterministic to
/// serialise: no hash order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct SeriesIndex {
    nodes: Vec<Vec<Entry>>,
}

impl SeriesIndex {
    /// The series of `metric` on `node`, in the order they were added.
    pub(crate) fn get(&self, node: u32, metric: u64) -> &[(SeriesId, Labels)] {
        let Some(list) = self.nodes.get(node as usize) else { return &[] };
        match list.binary_search_by_key(&metric, |(k, _)| *k) {
            Ok(i) => &list[i].1,
            Err(_) => &[],
        }
    }

    /// Files a new series under (`node`, `metric`).
    pub(crate) fn add(&mut self, node: u32, metric: u64, id: SeriesId, labels: Labels) {
        let node = node as usize;
        if self.nodes.len() <= node {
            self.nodes.resize_with(node + 1, Vec::new);
        }
        let list = &mut self.nodes[node];
        match list.binary_search_by_key(&metric, |(k, _)| *k) {
            Ok(i) => list[i].1.push((id, labels)),
            Err(i) => list.insert(i, (metric, vec![(id, labels)])),
        }
    }

    /// One more than the highest node index with a series (0 when empty).
    pub(crate) fn node_bound(&self) -> usize {
        self.nodes.len()
    }

    /// Whether every node's list is sorted by metric key with no repeats
    /// (true of every index this module built; checked on restore).
    pub(crate) fn is_well_formed(&self) -> bool {
        self.nodes.iter().all(|l| l.windows(2).all(|w| w[0].0 < w[1].0))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
    use super::*;
    use crate::window::{SeriesKey, SeriesStore, WindowConfig};

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
}
