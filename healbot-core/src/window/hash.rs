//! Deterministic hashing for series keys and label sets.
//!
//! The core reads no random source, so the series index cannot use the
//! randomly seeded `std` hasher. These hashes are fixed, fast and well
//! mixed, but not keyed: they are not a defence against an adversary who
//! chooses label values to collide (see [`label_set_hash`]). The series limit
//! bounds what such an adversary can cost.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A map hashed by [`KeyHasher`]: the core's lookup tables (names of a
/// library or a topology, compile-time scratch). The `std` default seeds
/// itself from the operating system's random source, which the core never
/// reads (no order of these maps reaches an output, but the principle has
/// no exceptions), and SipHash costs several times this hash on the short
/// names the tables hold: looking a metric name up is on the path of every
/// sample ingested by name. The tables are built from a library or a
/// topology, not from telemetry, so telemetry cannot fill them with
/// colliding keys.
pub(crate) type FixedMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

/// A set hashed by [`KeyHasher`] (see [`FixedMap`]).
pub(crate) type FixedSet<K> = HashSet<K, BuildHasherDefault<KeyHasher>>;

const K: u64 = 0x9E37_79B9_7F4A_7C15;
const K2: u64 = 0xA076_1D64_78BD_642F;

/// Multiply two 64-bit words into 128 bits and fold the halves together.
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

/// The murmur3 64-bit finaliser: a bijection that spreads every input bit
/// over every output bit.
#[inline]
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

/// The hasher behind the series index: deterministic, tuned for the few
/// integer words of a [`SeriesKey`](super::SeriesKey).
///
/// Exposed so the engine can key its own maps of series keys the same way.
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use std::hash::BuildHasherDefault;
/// use healbot_core::window::{KeyHasher, SeriesKey};
///
/// let mut m: HashMap<SeriesKey, u32, BuildHasherDefault<KeyHasher>> = HashMap::default();
/// m.insert(SeriesKey { node: 1, metric: 2, labels: 3 }, 9);
/// assert_eq!(m.get(&SeriesKey { node: 1, metric: 2, labels: 3 }), Some(&9));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    #[inline]
    fn finish(&self) -> u64 {
        fmix64(self.0)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash_bytes(self.0, bytes);
    }

    /// One word, not a pass over one byte: `str` hashes as its bytes
    /// then a `0xff`.
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = fold_mul(self.0 ^ i, K).wrapping_add(K2);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

#[inline]
fn read8(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(<[u8; 8]>::try_from(bytes).unwrap_or_default())
}

#[inline]
fn read4(bytes: &[u8]) -> u64 {
    u64::from(u32::from_le_bytes(<[u8; 4]>::try_from(bytes).unwrap_or_default()))
}

/// Absorb `bytes` into `state`, sixteen at a time, length included.
///
/// Short tails are read as overlapping words (as wyhash does): with the
/// length mixed in first, the words still determine every byte.
#[inline]
fn hash_bytes(state: u64, bytes: &[u8]) -> u64 {
    let len = bytes.len();
    let mut s = state ^ (len as u64).wrapping_mul(K);
    let mut rest = bytes;
    while rest.len() > 16 {
        let (head, tail) = rest.split_at(16);
        let (a, b) = head.split_at(8);
        s = fold_mul(read8(a) ^ s, read8(b) ^ K2);
        rest = tail;
    }
    let n = rest.len();
    let (a, b) = if n > 8 {
        (read8(&rest[..8]), read8(&rest[n - 8..]))
    } else if n >= 4 {
        (read4(&rest[..4]), read4(&rest[n - 4..]))
    } else if n > 0 {
        let three = (u64::from(rest[0]) << 16) | (u64::from(rest[n / 2]) << 8) | u64::from(rest[n - 1]);
        (three, 0)
    } else {
        (0, 0)
    };
    fold_mul(a ^ s ^ K2, b ^ K)
}

/// A 64-bit hash of a label set, for [`SeriesKey::labels`](super::SeriesKey::labels).
///
/// The pairs must be given sorted by name with unique names (the canonical
/// form of a label set); the hash depends on their order. Each string is
/// length-prefixed, so `("a", "bc")` and `("ab", "c")` differ.
///
/// Distinct label sets collide with probability about `n² / 2⁶⁵` for `n`
/// series (3 × 10⁻⁸ for a million), and a collision merges two series. The
/// hash is not keyed: an engine that takes label values from untrusted
/// sources and must resist chosen collisions should intern label sets and
/// use the interned id instead.
///
/// # Example
///
/// ```
/// use healbot_core::window::label_set_hash;
///
/// let a = label_set_hash(&[("code", "500"), ("method", "GET")]);
/// assert_eq!(a, label_set_hash(&[("code", "500"), ("method", "GET")]));
/// assert_ne!(a, label_set_hash(&[("code", "502"), ("method", "GET")]));
/// assert_ne!(label_set_hash(&[("a", "bc")]), label_set_hash(&[("ab", "c")]));
/// ```
pub fn label_set_hash(pairs: &[(&str, &str)]) -> u64 {
    label_set_hash_iter(pairs.iter().copied())
}

/// [`label_set_hash`] of pairs given by an iterator (such as
/// [`Labels::iter`](crate::telemetry::Labels::iter)), so that hashing a
/// label set needs no slice of its pairs: the same pairs in the same order
/// hash the same.
///
/// # Example
///
/// ```
/// use healbot_core::telemetry::Labels;
/// use healbot_core::window::{label_set_hash, label_set_hash_iter};
///
/// let labels: Labels = [("method", "GET"), ("code", "500")].into_iter().collect();
/// assert_eq!(label_set_hash_iter(labels.iter()), label_set_hash(&[("code", "500"), ("method", "GET")]));
/// ```
pub fn label_set_hash_iter<'a>(pairs: impl ExactSizeIterator<Item = (&'a str, &'a str)>) -> u64 {
    let mut state = fold_mul(pairs.len() as u64, K);
    for (name, value) in pairs {
        state = hash_bytes(state, name.as_bytes());
        state = hash_bytes(state, value.as_bytes());
    }
    fmix64(state)
}
