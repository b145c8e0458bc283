//! The literal prefilter: finds every occurrence of every literal in a line.
//!
//! An Aho-Corasick DFA over a thousand literals has tens of thousands of
//! states; its scan is a chain of dependent loads that miss the cache, about
//! 3–5 ns per byte. This prefilter instead picks, for every literal, one
//! *key*: a window of 4 bytes (2 for literals of 2 or 3 bytes) chosen to be
//! rare. The scan hashes the (ASCII-case-folded, lossily) window at every
//! position of the line and tests one bit of an 8 KiB bitmap that stays in
//! L1; positions are independent, so the loop pipelines. Only where the bit
//! is set does it look the window up in a hash bucket and compare each
//! literal sharing that key in full, exactly or ASCII case-insensitively.
//!
//! Every hit is verified, so the prefilter reports exactly the occurrences
//! of the literals: no false positives, no missed occurrence. Work per
//! position is bounded by the largest bucket times the longest literal, and
//! keys are spread across buckets when literals are assigned windows.

use crate::window::hash::FixedMap;

/// log2 of the number of hash buckets (and bitmap bits) per key width.
const HASH_BITS: u32 = 16;
/// The sampling stride for needles of at least `4 + STRIDE - 1` bytes.
const STRIDE: usize = 4;
/// The shortest needle the sampled scan finds.
pub(crate) const SAMPLED_MIN_LEN: usize = 4 + STRIDE - 1;
/// Words of the bitmap: one bit per bucket.
const BITMAP_WORDS: usize = (1 << HASH_BITS) / 64;

/// A literal to find.
#[derive(Clone, Debug)]
pub(crate) struct Needle {
    /// The bytes; for a folded literal, ASCII letters are compared
    /// regardless of case.
    pub(crate) bytes: Box<[u8]>,
    pub(crate) folded: bool,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The folded key window.
    key: u32,
    /// Index of the needle.
    needle: u32,
    /// Where the key window starts inside the needle.
    offset: u32,
    /// The needle's first (up to) 8 bytes, folded as keys are, and the mask
    /// of the bytes present: a quick test before the full comparison.
    head: u64,
    head_mask: u64,
}

/// The first (up to) 8 bytes of `bytes`, little-endian and folded as keys
/// are, with the mask of the bytes taken.
fn head_of(bytes: &[u8]) -> (u64, u64) {
    let mut head = 0u64;
    let mut mask = 0u64;
    for (i, &b) in bytes.iter().take(8).enumerate() {
        head |= u64::from(b | 0x20) << (8 * i);
        mask |= 0xFF << (8 * i);
    }
    (head, mask)
}

/// One table per key width.
#[derive(Clone, Debug)]
struct Table {
    width: usize,
    /// Only every `stride`-th position is hashed: each needle registers
    /// `stride` consecutive windows, exactly one of which lands on a
    /// scanned position in any occurrence.
    stride: usize,
    bits: Box<[u64; BITMAP_WORDS]>,
    /// `entries[buckets[h]..buckets[h + 1]]` hold bucket `h`.
    buckets: Box<[u32]>,
    entries: Box<[Entry]>,
}

/// The compiled prefilter.
#[derive(Clone, Debug)]
pub(crate) struct Prefilter {
    needles: Box<[Needle]>,
    tables: Box<[Table]>,
}

#[inline(always)]
fn hash(key: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

/// Folds a window lossily: sets bit 5 of every byte, which maps ASCII
/// upper-case letters to lower case (and a few punctuation bytes onto
/// others). A filter, so a coarser key only costs extra verification.
#[inline(always)]
fn key_of(window: &[u8]) -> u32 {
    let mut k = 0u32;
    for (i, &b) in window.iter().enumerate() {
        k |= u32::from(b | 0x20) << (8 * i);
    }
    k
}

/// [`key_of`] for a window of exactly `W` (2 or 4) bytes, as one load.
#[inline(always)]
fn fast_key<const W: usize>(window: &[u8]) -> u32 {
    if W == 4 {
        match <[u8; 4]>::try_from(window) {
            Ok(w) => u32::from_le_bytes(w) | 0x2020_2020,
            Err(_) => 0,
        }
    } else {
        match <[u8; 2]>::try_from(window) {
            Ok(w) => u32::from(u16::from_le_bytes(w) | 0x2020),
            Err(_) => 0,
        }
    }
}

/// How common a byte is in log text (lower is rarer).
pub(crate) fn commonness(b: u8) -> u32 {
    match b {
        b' ' => 6,
        b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' | b'0'..=b'9' => 4,
        b'.' | b':' | b'/' | b'-' | b'_' | b'=' | b',' | b'l' | b'c' | b'd' | b'u' | b'h' => 3,
        b'a'..=b'z' => 2,
        _ => 1,
    }
}

impl Prefilter {
    /// Builds the prefilter. Needles must be at least 2 bytes long.
    pub(crate) fn new(needles: Vec<Needle>) -> Prefilter {
        // (width, stride) of each table.
        const SHAPES: [(usize, usize); 3] = [(4, STRIDE), (4, 1), (2, 1)];
        let mut per_table: [Vec<Entry>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        let mut key_uses: FixedMap<(usize, u32), u32> = FixedMap::default();
        // How many needles contain each window: a key inside many needles'
        // text fires whenever any of them occurs, so keys unique to their
        // needle are preferred.
        let mut grams: FixedMap<(usize, u32), u32> = FixedMap::default();
        for n in needles.iter() {
            for width in [4, 2] {
                let mut mine: Vec<u32> = n.bytes.windows(width).map(key_of).collect();
                mine.sort_unstable();
                mine.dedup();
                for k in mine {
                    *grams.entry((width, k)).or_insert(0) += 1;
                }
            }
        }
        for (i, n) in needles.iter().enumerate() {
            let len = n.bytes.len();
            let Some(slot) = SHAPES.iter().position(|&(w, s)| len >= w + s - 1) else {
                continue;
            };
            let (width, stride) = SHAPES[slot];
            // The rarest run of `stride` consecutive windows, preferring keys
            // no other needle uses yet.
            let mut best: Option<(u32, usize)> = None;
            for offset in 0..=len - (width + stride - 1) {
                let cost: u32 = (offset..offset + stride)
                    .map(|o| {
                        let window = &n.bytes[o..o + width];
                        let key = key_of(window);
                        let others = grams.get(&(width, key)).copied().unwrap_or(1) - 1;
                        window.iter().map(|&b| commonness(b)).sum::<u32>()
                            + 16 * others.min(64)
                            + 8 * key_uses.get(&(width, key)).copied().unwrap_or(0)
                    })
                    .sum();
                if best.is_none_or(|(c, _)| cost < c) {
                    best = Some((cost, offset));
                }
            }
            let Some((_, offset)) = best else { continue };
            for o in offset..offset + stride {
                let key = key_of(&n.bytes[o..o + width]);
                *key_uses.entry((width, key)).or_insert(0) += 1;
                let (head, head_mask) = head_of(&n.bytes);
                per_table[slot].push(Entry { key, needle: i as u32, offset: o as u32, head, head_mask });
            }
        }
        let tables = per_table
            .into_iter()
            .zip(SHAPES)
            .filter(|(entries, _)| !entries.is_empty())
            .map(|(mut entries, (width, stride))| {
                let size = 1usize << HASH_BITS;
                entries.sort_by_key(|e| (hash(e.key), e.key, e.needle));
                let mut bits = Box::new([0u64; BITMAP_WORDS]);
                let mut buckets = vec![0u32; size + 1];
                for e in &entries {
                    let h = hash(e.key);
                    bits[h / 64] |= 1 << (h % 64);
                    buckets[h + 1] += 1;
                }
                for h in 0..size {
                    buckets[h + 1] += buckets[h];
                }
                Table { width, stride, bits, buckets: buckets.into(), entries: entries.into() }
            })
            .collect();
        Prefilter { needles: needles.into(), tables }
    }

    /// Heap bytes held.
    pub(crate) fn memory_usage(&self) -> usize {
        self.needles.iter().map(|n| n.bytes.len() + std::mem::size_of::<Needle>()).sum::<usize>()
            + self
                .tables
                .iter()
                .map(|t| t.bits.len() * 8 + t.buckets.len() * 4 + t.entries.len() * std::mem::size_of::<Entry>())
                .sum::<usize>()
    }

    /// Calls `on(needle, start)` for every occurrence of every needle in
    /// `line` (a needle occurring twice is reported twice, not necessarily in
    /// order of `start`).
    #[inline]
    pub(crate) fn for_each_hit(&self, line: &[u8], mut on: impl FnMut(usize, usize)) {
        for t in self.tables.iter() {
            match (t.width, t.stride) {
                (4, STRIDE) => self.scan::<4, STRIDE>(t, line, &mut on),
                (4, _) => self.scan::<4, 1>(t, line, &mut on),
                _ => self.scan::<2, 1>(t, line, &mut on),
            }
        }
    }

    #[inline(always)]
    fn scan<const W: usize, const S: usize>(&self, t: &Table, line: &[u8], on: &mut impl FnMut(usize, usize)) {
        let bits: &[u64; BITMAP_WORDS] = &t.bits;
        // A plain index loop: `windows().enumerate().step_by()` cost about
        // twice the instructions a position.
        let hit = |h: usize| bits[(h >> 6) & (BITMAP_WORDS - 1)] & (1 << (h & 63)) != 0;
        let mut i = 0;
        // Two positions a step: most positions miss, and one test of both
        // halves the loop's branches.
        while let Some(pair) = line.get(i..i + S + W) {
            let (k0, k1) = (fast_key::<W>(&pair[..W]), fast_key::<W>(&pair[S..S + W]));
            let (h0, h1) = (hash(k0), hash(k1));
            if hit(h0) | hit(h1) {
                if hit(h0) {
                    self.bucket(t, h0, k0, i, line, on);
                }
                if hit(h1) {
                    self.bucket(t, h1, k1, i + S, line, on);
                }
            }
            i += 2 * S;
        }
        if let Some(window) = line.get(i..i + W) {
            let key = fast_key::<W>(window);
            let h = hash(key);
            // `h < 1 << HASH_BITS`, so the index is in bounds.
            if hit(h) {
                self.bucket(t, h, key, i, line, on);
            }
        }
    }

    #[inline(never)]
    fn bucket(&self, t: &Table, h: usize, key: u32, at: usize, line: &[u8], on: &mut impl FnMut(usize, usize)) {
        let (Some(&lo), Some(&hi)) = (t.buckets.get(h), t.buckets.get(h + 1)) else {
            return;
        };
        for e in t.entries.get(lo as usize..hi as usize).unwrap_or(&[]) {
            if e.key != key {
                continue;
            }
            let Some(start) = at.checked_sub(e.offset as usize) else {
                continue;
            };
            if let Some(Ok(w)) = line.get(start..start + 8).map(<[u8; 8]>::try_from) {
                if (u64::from_le_bytes(w) | 0x2020_2020_2020_2020) & e.head_mask != e.head {
                    continue;
                }
            }
            let Some(n) = self.needles.get(e.needle as usize) else {
                continue;
            };
            let Some(found) = line.get(start..start + n.bytes.len()) else {
                continue;
            };
            let same = if n.folded { found.eq_ignore_ascii_case(&n.bytes) } else { found == &n.bytes[..] };
            if same {
                on(e.needle as usize, start);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every occurrence of every needle, at every position and line
        /// length (the scan tests two positions a step, then the last one).
        #[test]
        fn hits_are_every_occurrence(
            needles in proptest::collection::vec(("[abAB]{2,11}", any::<bool>()), 1..6),
            line in "[abAB ]{0,48}",
        ) {
            let p = Prefilter::new(needles.iter().map(|(s, f)| needle(s, *f)).collect());
            let mut got = Vec::new();
            p.for_each_hit(line.as_bytes(), |n, start| got.push((n, start)));
            got.sort_unstable();
            let mut want = Vec::new();
            for (n, (s, folded)) in needles.iter().enumerate() {
                for start in 0..=line.len().saturating_sub(s.len()) {
                    let Some(found) = line.as_bytes().get(start..start + s.len()) else { continue };
                    if if *folded { found.eq_ignore_ascii_case(s.as_bytes()) } else { found == s.as_bytes() } {
                        want.push((n, start));
                    }
                }
            }
            prop_assert_eq!(got, want);
        }
    }

    fn needle(s: &str, folded: bool) -> Needle {
        Needle { bytes: s.as_bytes().into(), folded }
    }

    fn hits(p: &Prefilter, line: &str) -> Vec<usize> {
        let mut v = Vec::new();
        p.for_each_hit(line.as_bytes(), |n, start| {
            assert_eq!(
                &line.as_bytes()[start..start + p.needles[n].bytes.len()].to_ascii_lowercase(),
                &p.needles[n].bytes.to_ascii_lowercase()
            );
            v.push(n)
        });
        v.sort();
        v
    }

    #[test]
    fn finds_every_occurrence_exactly() {
        let p = Prefilter::new(vec![
            needle("block", false),
            needle("lock", false),
            needle("ab", false),
            needle("error", true),
            needle("abc", false),
        ]);
        assert_eq!(hits(&p, "block"), vec![0, 1]);
        assert_eq!(hits(&p, "BLOCK Lock"), Vec::<usize>::new());
        assert_eq!(hits(&p, "ERROR abc ab"), vec![2, 2, 3, 4]);
        assert_eq!(hits(&p, "a"), Vec::<usize>::new());
        assert_eq!(hits(&p, ""), Vec::<usize>::new());
    }

    #[test]
    fn colliding_keys_are_verified() {
        // `@` and `` ` `` fold to the same key byte; only the exact needle hits.
        let p = Prefilter::new(vec![needle("a@b@", false), needle("x`y", false)]);
        assert_eq!(hits(&p, "a`b` a@b@"), vec![0]);
        assert_eq!(hits(&p, "x@y"), Vec::<usize>::new());
    }

    #[test]
    fn strided_needles_are_found_at_every_alignment() {
        let p = Prefilter::new(vec![needle("connection refused", false), needle("Timeout", true)]);
        for pad in 0..9 {
            let line = format!("{}connection refused, TIMEOUT{}", "x".repeat(pad), "y".repeat(pad));
            assert_eq!(hits(&p, &line), vec![0, 1], "{line}");
            assert_eq!(hits(&p, &line[..line.len() - pad - 1]), vec![0], "{line}");
        }
    }
}
