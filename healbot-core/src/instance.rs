//! Numbers that tell one value from every other in the process: a store
//! from another store, a library an engine runs from the one it ran before
//! a reload. A count, not a clock or a random source, and never part of an
//! output: only compared, so that a cache or a token made for one value is
//! never taken for another's.

use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(1);

/// A number no earlier call returned (and never 0).
pub(crate) fn next() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}
