//! A small set-associative table for answers kept between evaluations,
//! sized by how many lookups a round of them (an evaluation) makes.
//!
//! The engine keeps two kinds of answers across evaluations: a series'
//! aggregate over a window ([`ReadCache`](crate::window::ReadCache)) and a
//! metric predicate's value on a node (the engine's metric memo). Both are
//! looked up on every evaluation's hot path, both are only worth keeping
//! while they are read, and both may simply be computed again when lost. A
//! lookup here is one hash and at most four key comparisons, without
//! allocation; a miss overwrites one of the four slots of its block (keys
//! that collide just compute more often).

/// A key: compared whole, placed by its hash's high bits.
pub(crate) trait TableKey: Copy + Eq {
    fn hash(&self) -> u64;
}

/// Slots a key may take: the aligned block of this many around its own.
const WAYS: usize = 4;

/// The fewest and the most slots a table keeps.
const MIN_SLOTS: usize = 64;
const MAX_SLOTS: usize = 1 << 16;

/// How many sweeps in a row must find the table far too big before it
/// shrinks: more rounds than a host evaluates between two scrapes of all
/// its series, in the usual setups.
const SHRINK_AFTER: u32 = 8;

#[derive(Clone, Copy, Debug)]
struct Slot<K, V> {
    key: K,
    value: V,
    /// The round it was last used in.
    round: u32,
}

/// Four-way set associative by a hash of the key. Its length is zero or a
/// power of two, at least 64 and at most 65,536.
#[derive(Clone, Debug)]
pub(crate) struct Table<K, V> {
    slots: Vec<Option<Slot<K, V>>>,
    /// Incremented by every `sweep`; slots used since the last one carry it.
    round: u32,
    /// Slots used since the last `sweep`.
    used: usize,
    /// Sweeps in a row that found the table far too big, and the most
    /// slots any of them wanted: it shrinks only after [`SHRINK_AFTER`] of
    /// them. The round after every series changed (a scrape of them all)
    /// looks nothing up, and shrinking then would lose what the next round
    /// keeps for the ones after it.
    small: (u32, usize),
    /// What the values were computed from (see [`Table::bind`]).
    owner: (u64, u64),
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table { slots: Vec::new(), round: 0, used: 0, small: (0, 0), owner: (0, 0) }
    }
}

/// Where [`Table::put`] files a value: the key `get` looked up, and the
/// slot it found it in (or would place it in).
pub(crate) struct Probe<K> {
    key: K,
    index: usize,
}

impl<K: TableKey, V: Copy> Table<K, V> {
    /// The number of values kept.
    pub(crate) fn len(&self) -> usize {
        self.slots.iter().filter(|e| e.is_some()).count()
    }

    /// Binds the table to what its values are computed from (a store, a
    /// compiled library: instance numbers, never reused in a process),
    /// forgetting everything when that changes, so that it never answers
    /// for another owner.
    #[inline]
    pub(crate) fn bind(&mut self, owner: (u64, u64)) {
        if self.owner != owner {
            self.clear();
            self.owner = owner;
        }
    }

    /// Forget everything.
    pub(crate) fn clear(&mut self) {
        self.slots.iter_mut().for_each(|e| *e = None);
        self.used = 0;
    }

    /// Approximate heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Option<Slot<K, V>>>()
    }

    /// End a round of lookups: size the table for about four slots per key
    /// used in the round, between 64 and 65,536 slots, so that a round's
    /// keys rarely collide and memory follows what is read. A table that
    /// grows keeps its values; one shrinks once eight rounds in a row used
    /// far less than it holds.
    pub(crate) fn sweep(&mut self) {
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

    /// The slot of `key`, and the value it holds if it is `key`'s. A found
    /// value counts as used in this round.
    #[inline]
    pub(crate) fn get(&mut self, key: K) -> (Probe<K>, Option<&V>) {
        if self.slots.is_empty() {
            self.slots = vec![None; MIN_SLOTS];
        }
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
                Some(&e.value)
            }
            _ => None,
        };
        (Probe { key, index: way.unwrap_or(index) }, found)
    }

    #[inline]
    fn index(&self, key: &K) -> usize {
        let bits = self.slots.len().trailing_zeros();
        if bits == 0 {
            return 0;
        }
        (key.hash() >> (64 - bits)) as usize
    }

    /// Files `value` for the key of `probe`: in its own slot if it had one,
    /// else a free slot of its block, else one not used this round, else
    /// over the slot `get` would have placed it in.
    pub(crate) fn put(&mut self, probe: Probe<K>, value: V) {
        let round = self.round;
        let block = probe.index & !(WAYS - 1)..(probe.index | (WAYS - 1)) + 1;
        let state = |i: usize| self.slots.get(i).map(|e| e.as_ref().map(|e| (e.key == probe.key, e.round == round)));
        let (into, counted) = match state(probe.index) {
            Some(Some((true, used))) => (probe.index, used),
            _ => {
                let free = block.clone().find(|&i| matches!(state(i), Some(None)));
                let idle = || block.clone().find(|&i| matches!(state(i), Some(Some((_, false)))));
                (free.or_else(idle).unwrap_or(probe.index), false)
            }
        };
        if !counted {
            self.used = self.used.saturating_add(1);
        }
        if let Some(e) = self.slots.get_mut(into) {
            *e = Some(Slot { key: probe.key, value, round });
        }
    }
}
