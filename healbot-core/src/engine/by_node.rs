//! State filed by topology node: a vector indexed by node index, each
//! node's entries a short list sorted by key. Evaluation reads one node at a
//! time, so a lookup is an index and a binary search over a handful of
//! entries, instead of a walk down a map over every (node, key) pair of the
//! engine.

use serde::{Deserialize, Serialize};

/// Node index → key → value.
///
/// Grows only to the highest node index that has an entry (bounded by the
/// topology). Deterministic to serialise and to iterate: no hash order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ByNode<K, V> {
    nodes: Vec<Vec<(K, V)>>,
}

impl<K, V> Default for ByNode<K, V> {
    fn default() -> Self {
        ByNode { nodes: Vec::new() }
    }
}

impl<K: Ord + Copy, V> ByNode<K, V> {
    /// The value under (`node`, `key`).
    #[inline]
    pub(crate) fn get(&self, node: u32, key: &K) -> Option<&V> {
        let list = self.nodes.get(node as usize)?;
        list.binary_search_by(|(k, _)| k.cmp(key)).ok().map(|i| &list[i].1)
    }

    /// The value under (`node`, `key`), inserted from `make` if absent.
    pub(crate) fn get_or_insert_with(&mut self, node: u32, key: K, make: impl FnOnce() -> V) -> &mut V {
        let (list, found) = self.find(node, &key);
        let i = found.unwrap_or_else(|i| {
            list.insert(i, (key, make()));
            i
        });
        &mut list[i].1
    }

    /// Files `value` under (`node`, `key`), replacing what was there.
    pub(crate) fn insert(&mut self, node: u32, key: K, value: V) {
        match self.find(node, &key) {
            (list, Ok(i)) => list[i].1 = value,
            (list, Err(i)) => list.insert(i, (key, value)),
        }
    }

    /// `node`'s list (grown to exist) and where `key` is or would go.
    fn find(&mut self, node: u32, key: &K) -> (&mut Vec<(K, V)>, Result<usize, usize>) {
        let node = node as usize;
        if self.nodes.len() <= node {
            self.nodes.resize_with(node + 1, Vec::new);
        }
        let list = &mut self.nodes[node];
        let at = list.binary_search_by(|(k, _)| k.cmp(key));
        (list, at)
    }

    /// Every entry as (node, key, value), by node then key.
    /// Keeps the entries `keep` says to, dropping nodes' lists of what is
    /// left empty.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        for list in &mut self.nodes {
            list.retain_mut(|(k, v)| keep(k, v));
        }
        if let Some(last) = self.nodes.iter().rposition(|l| !l.is_empty()) {
            self.nodes.truncate(last + 1);
        } else {
            self.nodes.clear();
        }
    }

    pub(crate) fn into_entries(self) -> impl Iterator<Item = (u32, K, V)> {
        self.nodes.into_iter().enumerate().flat_map(|(n, list)| list.into_iter().map(move |(k, v)| (n as u32, k, v)))
    }

    /// One more than the highest node index with an entry (0 when empty).
    pub(crate) fn node_bound(&self) -> usize {
        self.nodes.iter().rposition(|l| !l.is_empty()).map_or(0, |i| i + 1)
    }

    /// Whether every node's list is sorted by key with no repeats (true of
    /// every value this module built; checked on restore).
    pub(crate) fn is_well_formed(&self) -> bool {
        self.nodes.iter().all(|l| l.windows(2).all(|w| w[0].0 < w[1].0))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
    use super::*;

    #[test]
    fn finds_what_was_inserted_and_nothing_else() {
        let mut m: ByNode<u32, &str> = ByNode::default();
        *m.get_or_insert_with(5, 30, || "a") = "a2";
        m.get_or_insert_with(5, 10, || "b");
        assert_eq!(*m.get_or_insert_with(5, 30, || "never"), "a2");
        m.get_or_insert_with(2, 30, || "c");
        assert_eq!(m.get(5, &30), Some(&"a2"));
        assert_eq!(m.get(5, &10), Some(&"b"));
        assert_eq!(m.get(2, &30), Some(&"c"));
        assert_eq!(m.get(5, &20), None);
        assert_eq!(m.get(3, &30), None);
        assert_eq!(m.get(99, &30), None);
        m.insert(5, 10, "b2");
        m.insert(5, 20, "d");
        assert_eq!((m.get(5, &10), m.get(5, &20)), (Some(&"b2"), Some(&"d")));
        assert_eq!(m.node_bound(), 6);
        assert!(m.is_well_formed());
        let all: Vec<(u32, u32, &str)> = m.into_entries().collect();
        assert_eq!(all, vec![(2, 30, "c"), (5, 10, "b2"), (5, 20, "d"), (5, 30, "a2")]);
        assert_eq!(ByNode::<u32, ()>::default().node_bound(), 0);
    }

    #[test]
    fn a_list_out_of_order_is_not_well_formed() {
        let m: ByNode<u32, ()> = ByNode { nodes: vec![vec![(2, ()), (1, ())]] };
        assert!(!m.is_well_formed());
        let m: ByNode<u32, ()> = ByNode { nodes: vec![vec![(1, ()), (1, ())]] };
        assert!(!m.is_well_formed());
    }
}
