//! Ordering many items by small integer keys, in linear time.
//!
//! An evaluation puts its diagnoses, findings and decisions in order
//! several times, by keys that are small integers (a node's id rank, a
//! signature's rank, a dependency level). A comparison sort of a thousand
//! items costs about 300 instructions an item; a radix sort over the few
//! bits such keys use costs about 40 (callgrind, the cascade of
//! `benches/examples/evaluations`).

/// Below this many items a comparison sort is as fast, and needs no buffers.
const SMALL: usize = 64;

/// Widest digit a pass sorts by: 2,048 buckets, small enough to stay in
/// the first-level cache. Narrower for fewer items: clearing and summing
/// more buckets than items costs more than another pass.
const MAX_DIGIT_BITS: u32 = 11;

/// The positions of `keys` in ascending key order, equal keys in position
/// order: the permutation a stable sort by key applies.
///
/// A least-significant-digit radix sort over only the bits in which some
/// keys differ (from the lowest to the highest such bit), skipping a digit
/// that every key shares.
pub(crate) fn order_by_key(keys: &[u64]) -> Vec<usize> {
    let n = keys.len();
    if n <= SMALL || u32::try_from(n).is_err() {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| keys[i]);
        return order;
    }
    // Only the bits where keys differ need sorting by.
    let (any, all) = keys.iter().fold((0, u64::MAX), |(any, all), &k| (any | k, all & k));
    let varying = any ^ all;
    if varying == 0 {
        return (0..n).collect();
    }
    let low = varying.trailing_zeros();
    let bits = 64 - varying.leading_zeros() - low;
    let max_width = MAX_DIGIT_BITS.min(n.ilog2().max(4));
    let passes = bits.div_ceil(max_width);
    let width = bits.div_ceil(passes);
    let mask = (1u64 << width) - 1;
    // (key, position) pairs, sorted back and forth between two buffers.
    let mut from: Vec<(u64, u32)> = keys.iter().copied().zip(0..).collect();
    let mut to: Vec<(u64, u32)> = vec![(0, 0); n];
    let mut count = vec![0u32; 1 << width];
    for pass in 0..passes {
        let shift = low + pass * width;
        count.fill(0);
        for &(k, _) in &from {
            count[((k >> shift) & mask) as usize] += 1;
        }
        if count.iter().any(|&c| c as usize == n) {
            // Every key has the same digit here: the pass would change nothing.
            continue;
        }
        let mut sum = 0;
        for c in &mut count {
            let here = *c;
            *c = sum;
            sum += here;
        }
        for &item in &from {
            let slot = &mut count[((item.0 >> shift) & mask) as usize];
            to[*slot as usize] = item;
            *slot += 1;
        }
        std::mem::swap(&mut from, &mut to);
    }
    from.into_iter().map(|(_, i)| i as usize).collect()
}

/// Sorts `items` by `key`, equal keys in their present order, computing
/// each key once and moving each item once (diagnoses and decisions are
/// large: a comparison sort would move each many times).
pub(crate) fn sort_by_key<T>(items: &mut [T], key: impl Fn(&T) -> u64) {
    if items.len() <= SMALL {
        // Few enough to sort in place, with no buffers.
        items.sort_by_key(key);
        return;
    }
    let keys: Vec<u64> = items.iter().map(key).collect();
    permute(items, order_by_key(&keys));
}

/// Reorders `items` so that position `k` holds the item that was at
/// `order[k]` (`order` a permutation of the positions), moving each item
/// once.
pub(crate) fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        let mut k = start;
        loop {
            let next = order[k];
            order[k] = k;
            if next == start || next == k {
                break;
            }
            items.swap(k, next);
            k = next;
        }
    }
}

/// Two small integers as one key ordering by `major`, then `minor`, for
/// `minor < minors`: packed densely, so that the key has few bits to sort by.
pub(crate) fn pair(major: u32, minor: u32, minors: usize) -> u64 {
    debug_assert!((minor as usize) < minors, "minor {minor} out of 0..{minors}");
    u64::from(major) * minors as u64 + u64::from(minor)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn orders_by_key_then_position() {
        assert_eq!(order_by_key(&[30, 10, 20, 10]), vec![1, 3, 2, 0]);
        assert_eq!(order_by_key(&[]), Vec::<usize>::new());
        // Past the comparison-sort cut-off, with packed fields.
        let keys: Vec<u64> = (0..500u32).map(|i| pair(i % 7, 100 - i % 3, 101)).collect();
        let mut want: Vec<usize> = (0..keys.len()).collect();
        want.sort_by_key(|&i| keys[i]);
        assert_eq!(order_by_key(&keys), want);
    }

    /// Keys from a few bits up to all 64, few items and many.
    fn keys() -> impl Strategy<Value = Vec<u64>> {
        (0u32..=64, 0usize..400).prop_flat_map(|(bits, n)| {
            let max = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
            proptest::collection::vec(0..=max, n)
        })
    }

    proptest! {
        #[test]
        fn order_is_a_stable_sort(keys in keys()) {
            let mut want: Vec<usize> = (0..keys.len()).collect();
            want.sort_by_key(|&i| keys[i]);
            prop_assert_eq!(order_by_key(&keys), want);
        }

        #[test]
        fn sort_by_key_is_a_stable_sort(keys in keys()) {
            let mut items: Vec<(u64, usize)> = keys.iter().copied().zip(0..).collect();
            let mut want = items.clone();
            want.sort_by_key(|&(k, _)| k);
            sort_by_key(&mut items, |&(k, _)| k);
            prop_assert_eq!(items, want);
        }

        #[test]
        fn permute_agrees_with_indexing(keys in proptest::collection::vec(any::<u16>(), 0..64)) {
            let mut order: Vec<usize> = (0..keys.len()).collect();
            order.sort_by_key(|&i| (keys[i], i));
            let want: Vec<(u16, usize)> = order.iter().map(|&i| (keys[i], i)).collect();
            let mut items: Vec<(u16, usize)> = keys.iter().copied().zip(0..).collect();
            permute(&mut items, order);
            prop_assert_eq!(items, want);
        }
    }
}
