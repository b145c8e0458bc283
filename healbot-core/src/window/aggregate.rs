//! The aggregates: read from a series' [`Summary`] in O(1) (blocks of 32
//! for `min`/`max`), or computed by a scan of the window.
//!
//! Every function takes the window's samples in time order, all with finite
//! values and distinct timestamps (the store guarantees both), and returns
//! `None` when the window has too few samples. See the module docs of
//! [`crate::window`] for the contract.
//!
//! # Why a summary, and how it stays exact
//!
//! A predicate reads an aggregate over `(at - w, at]` for a few `w` per
//! evaluation, and the engine evaluates often; a scan of the window costs
//! O(k) per read (k samples in the window), a sort for `quantile`. A
//! [`Summary`] keeps, before every 8th sample, a checkpoint of the sums over
//! all samples before it (Σv, Σt, Σt², Σt·v, the corrections of counter
//! resets, and counts of resets and of non-zero values), so the sums over
//! any window are the difference of the sums at its two ends, each the
//! nearest checkpoint plus or minus at most 7 samples: O(1) for `sum`,
//! `avg`, `increase`, `rate` and `slope`. `min` and `max` come from a
//! min/max per block of 32 samples. `quantile` copies the window into a
//! reused buffer and selects (O(k), no allocation), or for up to 32 samples
//! works on the stack.
//!
//! Checkpoints rather than sums at every sample: an 80-byte prefix per
//! sample made each push write five times the bytes it used to, and summing
//! on every push lengthened it enough that the processor could no longer
//! overlap the cache misses of consecutive pushes (pushes got 4 to 10 times
//! slower). Now a push stores its sample as before, and the push of every
//! 8th sample sums the 8 before it, which are still in cache.
//!
//! A difference of sums loses what the two share, so the value sums are
//! compensated: a running sum and the exact sum of its rounding errors
//! (TwoSum, TwoProduct), renormalised at every checkpoint, about 106 bits;
//! their error is about 2⁻¹⁰⁰ of the largest sum involved, far below the
//! rounding of the result. Time sums are exact integers (Σt and Σt² wrap
//! around, but the window's sums, which are small, come out exact). Each
//! read bounds its own error from the number of accumulation steps and the
//! magnitudes involved (those of the chain and of the samples it adds at the
//! ends), and answers from the summary only when that bound is below 2⁻⁵⁰
//! of the result; otherwise (a result that cancels to about zero, such as
//! the slope of a flat line, or a chain that once held a huge value) it
//! scans the window as before, so a result is never worse than the scan's.
//! Zero windows of a sum and counters without a reset in the window are
//! recognised exactly from the counts.
//!
//! To keep the sums small (and the bound tight) the summary is rebuilt from
//! the samples it holds after four times as many have left its front:
//! amortised a quarter of an accumulation per sample; the point of the
//! rebuild is staggered per series so that series scraped together do not
//! rebuild in the same call.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::mem::size_of;

use crate::spec::Aggregation;

use super::store::Sample;

/// A series gets a [`Summary`] once it holds this many samples; below, a
/// window is short enough to scan, and a series that never gets there (one
/// of a million label sets with one sample each) costs no more than before.
pub(crate) const SUMMARY_MIN_SAMPLES: usize = 8;

/// Samples per min/max block.
const BLOCK: usize = 32;

/// Windows up to this many samples are scanned for `min` and `max`.
const SCAN_EXTREMES: usize = 2 * BLOCK;

/// 2⁻¹⁰²: the error of one accumulation step of a double-double chain is at
/// most 6·u² of the largest prefix (u = 2⁻⁵³, sloppy double-double
/// addition), and a read subtracts two prefixes; 16·u² bounds both with room.
const ERR_PER_STEP: f64 = 1.0 / (1u128 << 102) as f64;

/// 2⁻⁵⁰: a result is read from the summary only when its error bound is
/// below this fraction of it.
const CERTIFY: f64 = 1.0 / (1u64 << 50) as f64;

/// Times (ms from the chain's origin) beyond this are not exact as `f64`.
const EXACT_F64: i64 = 1 << 53;

// ---------------------------------------------------------------------------
// Double-double arithmetic (Dekker, Knuth; error-free transformations).

/// An unevaluated sum `hi + lo` with `|lo| <= ulp(hi) / 2`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Dd {
    hi: f64,
    lo: f64,
}

/// `a + b` exactly, as a double-double (Knuth's TwoSum).
#[inline]
fn two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    let bb = s - a;
    Dd { hi: s, lo: (a - (s - bb)) + (b - bb) }
}

/// `a + b` exactly when `|a| >= |b|` or `a == 0` (Dekker's Fast2Sum).
#[inline]
fn fast_two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    Dd { hi: s, lo: b - (s - a) }
}

/// Veltkamp's split of `a` into two halves of 26 bits.
#[inline]
fn split(a: f64) -> (f64, f64) {
    let c = 134_217_729.0 * a; // 2^27 + 1
    let hi = c - (c - a);
    (hi, a - hi)
}

/// `x * v` exactly for an integer `x`: when `|x| < 2^26`, `x` needs no
/// split, which halves the work of [`two_prod`].
#[inline]
fn int_prod(x: i64, v: f64) -> Dd {
    if x.unsigned_abs() < 1 << 26 {
        small_int_prod(x, v)
    } else {
        two_prod(x as f64, v)
    }
}

/// [`int_prod`] for `|x| < 2^26`.
#[inline]
fn small_int_prod(x: i64, v: f64) -> Dd {
    let xf = x as f64;
    let p = xf * v;
    let (vh, vl) = split(v);
    Dd { hi: p, lo: (xf * vh - p) + xf * vl }
}

/// `a * b` exactly, as a double-double, barring overflow and underflow
/// (Dekker's TwoProduct; no FMA needed).
#[inline]
fn two_prod(a: f64, b: f64) -> Dd {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    Dd { hi: p, lo: ((ah * bh - p) + ah * bl + al * bh) + al * bl }
}

impl Dd {
    /// Accumulate `b`: a Kahan–Babuška–Neumaier step kept as a pair. `hi`
    /// is the plain running sum, `lo` gathers the exact rounding errors
    /// (TwoSum), so only one addition per step lies on the chain's critical
    /// path (a renormalising double-double addition puts nine there). The
    /// pair is renormalised at every checkpoint, which keeps `lo` small.
    #[inline]
    fn acc_f64(self, b: f64) -> Dd {
        let s = two_sum(self.hi, b);
        Dd { hi: s.hi, lo: self.lo + s.lo }
    }

    /// Accumulate a pair, exactly but for the rounding of `lo`.
    #[inline]
    fn acc(self, o: Dd) -> Dd {
        let s = two_sum(self.hi, o.hi);
        Dd { hi: s.hi, lo: self.lo + o.lo + s.lo }
    }

    /// The same value with `|lo| <= ulp(hi) / 2`.
    #[inline]
    fn normalized(self) -> Dd {
        fast_two_sum(self.hi, self.lo)
    }

    #[inline]
    fn add(self, o: Dd) -> Dd {
        let s = two_sum(self.hi, o.hi);
        fast_two_sum(s.hi, s.lo + (self.lo + o.lo))
    }

    #[inline]
    fn sub(self, o: Dd) -> Dd {
        self.add(Dd { hi: -o.hi, lo: -o.lo })
    }

    #[inline]
    fn mul_f64(self, b: f64) -> Dd {
        let p = two_prod(self.hi, b);
        fast_two_sum(p.hi, p.lo + self.lo * b)
    }

    #[inline]
    fn mul(self, o: Dd) -> Dd {
        let p = two_prod(self.hi, o.hi);
        fast_two_sum(p.hi, p.lo + (self.hi * o.lo + self.lo * o.hi))
    }

    /// Exact for `|x| < 2^106`.
    fn from_i128(x: i128) -> Dd {
        let hi = x as f64;
        let lo = x.wrapping_sub(hi as i128) as f64;
        fast_two_sum(hi, lo)
    }

    #[inline]
    fn value(self) -> f64 {
        self.hi + self.lo
    }
}

// ---------------------------------------------------------------------------
// The summary.

/// Sums over a run of samples, and over the steps between them.
///
/// `x` is a sample's time in milliseconds from the chain's origin `t0`. The
/// *step* from a sample to the next is a reset when the next value is lower
/// (see `increase`); a step counts with the sample it starts from, so every
/// sum a read needs is made of samples still held.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Acc {
    /// Σ v.
    sum: Dd,
    /// Σ over resets of the value before the reset: `increase` over a
    /// window is `last - first` plus the resets' share inside it.
    resets: Dd,
    /// Σ x·v.
    xv: Dd,
    /// Σ x, wrapping.
    x: i64,
    /// Σ x², wrapping, as the two halves of a `u128` (keeps `Acc` 8-aligned
    /// and 80 bytes).
    xx_lo: u64,
    xx_hi: u64,
    /// The number of resets, wrapping.
    n_resets: u32,
    /// The number of non-zero values, wrapping.
    n_nonzero: u32,
}

impl Acc {
    #[inline]
    fn xx(&self) -> u128 {
        (u128::from(self.xx_hi) << 64) | u128::from(self.xx_lo)
    }

    #[inline]
    fn set_xx(&mut self, xx: u128) {
        self.xx_lo = xx as u64;
        self.xx_hi = (xx >> 64) as u64;
    }

    /// Add the value `v` alone (no time sums).
    #[inline]
    fn add_value(&mut self, v: f64) {
        self.sum = self.sum.acc_f64(v);
        self.n_nonzero = self.n_nonzero.wrapping_add(u32::from(v != 0.0));
    }

    /// Add the sample `(x, v)`; returns `x·v`.
    #[inline]
    fn add_sample(&mut self, x: i64, v: f64) -> Dd {
        let xv = int_prod(x, v);
        self.sum = self.sum.acc_f64(v);
        self.xv = self.xv.acc(xv);
        self.x = self.x.wrapping_add(x);
        self.set_xx(self.xx().wrapping_add((i128::from(x) * i128::from(x)) as u128));
        self.n_nonzero = self.n_nonzero.wrapping_add(u32::from(v != 0.0));
        xv
    }

    /// The same sums with every pair renormalised.
    #[inline]
    fn normalized(mut self) -> Acc {
        self.sum = self.sum.normalized();
        self.resets = self.resets.normalized();
        self.xv = self.xv.normalized();
        self
    }

    /// `self + o` (`sign = 1.0`) or `self - o` (`sign = -1.0`), field by field.
    #[inline]
    fn combine(&self, o: &Acc, sign: f64) -> Acc {
        let neg = |d: Dd| Dd { hi: sign * d.hi, lo: sign * d.lo };
        let (x, xx, n_resets, n_nonzero) = if sign > 0.0 {
            (
                self.x.wrapping_add(o.x),
                self.xx().wrapping_add(o.xx()),
                self.n_resets.wrapping_add(o.n_resets),
                self.n_nonzero.wrapping_add(o.n_nonzero),
            )
        } else {
            (
                self.x.wrapping_sub(o.x),
                self.xx().wrapping_sub(o.xx()),
                self.n_resets.wrapping_sub(o.n_resets),
                self.n_nonzero.wrapping_sub(o.n_nonzero),
            )
        };
        let mut out = Acc {
            sum: self.sum.acc(neg(o.sum)),
            resets: self.resets.acc(neg(o.resets)),
            xv: self.xv.acc(neg(o.xv)),
            x,
            xx_lo: 0,
            xx_hi: 0,
            n_resets,
            n_nonzero,
        };
        out.set_xx(xx);
        out
    }
}

/// The largest magnitudes a chain's double-double sums (and the products
/// added to `xv`) have reached since it was built.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Magnitudes {
    sum: f64,
    resets: f64,
    xv: f64,
}

/// The smallest and largest value of one block, in the total order of
/// `f64` (so `-0.0 < +0.0`, whichever order the values are combined in).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Extremes {
    min: f64,
    max: f64,
}

/// The lesser of two finite values, `-0.0` below `+0.0`; written as
/// selects so that it compiles without branches.
#[inline]
fn lesser(a: f64, b: f64) -> f64 {
    let m = if b < a { b } else { a };
    // Equal values are bit-identical but for the sign of a zero.
    let zeros = f64::from_bits(a.to_bits() | b.to_bits());
    if a == b {
        zeros
    } else {
        m
    }
}

/// The greater of two finite values, `+0.0` above `-0.0`.
#[inline]
fn greater(a: f64, b: f64) -> f64 {
    let m = if b > a { b } else { a };
    let zeros = f64::from_bits(a.to_bits() & b.to_bits());
    if a == b {
        zeros
    } else {
        m
    }
}

/// The larger of two magnitudes; a NaN (an overflowed sum) is ignored,
/// the reads catch it in their results. Cheaper than `f64::max`.
#[inline]
fn larger(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// Which extreme a read wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Extreme {
    Min,
    Max,
}

/// [`scan_extreme`] over a slice, in four lanes: the extremes are those of
/// a total order, so the order of the comparisons changes no bit, and four
/// chains of selects run side by side where one waited on each step.
fn slice_extreme(samples: &[Sample], which: Extreme) -> Option<f64> {
    match which {
        Extreme::Min => in_lanes(samples, lesser),
        Extreme::Max => in_lanes(samples, greater),
    }
}

/// Inlined in each caller so that `pick` is known there: through a
/// function pointer (one body for both extremes) the lanes ran slower than
/// one chain.
#[inline(always)]
fn in_lanes(samples: &[Sample], pick: impl Fn(f64, f64) -> f64) -> Option<f64> {
    let first = samples.first()?.v;
    let mut lanes = [first; 4];
    let chunks = samples.chunks_exact(4);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, s) in lanes.iter_mut().zip(chunk) {
            *lane = pick(*lane, s.v);
        }
    }
    let [a, b, c, d] = lanes;
    Some(rest.iter().fold(pick(pick(a, b), pick(c, d)), |m, s| pick(m, s.v)))
}

fn scan_extreme<'a>(samples: impl Iterator<Item = &'a Sample>, which: Extreme) -> Option<f64> {
    let values = samples.map(|s| s.v);
    match which {
        Extreme::Min => values.reduce(lesser),
        Extreme::Max => values.reduce(greater),
    }
}

/// A checkpoint (the sums over every sample before it) is kept before every
/// 8th sample; a read starts from the nearest one and adds or removes at
/// most 7 samples.
const CHECKPOINT: u64 = 8;

/// The chain is rebuilt once four times as many samples as it holds have
/// left its front (plus a per-series stagger): amortised a quarter of an
/// accumulation per sample, and its sums never cover more than about five
/// times what the series holds.
const REBUILD_AFTER: u64 = 4;

/// Derived data of a series that lets a read answer without scanning its
/// window: checkpoints of running sums, and per-block extremes.
///
/// It is rebuilt from the samples whenever needed (and on loading a
/// snapshot), never serialised. Samples are numbered from the chain's
/// start; the next one appended gets number `next`, so `samples[i]` is
/// number `next - len + i` (the front's number, `first`, follows from the
/// length: a pop changes nothing here). Checkpoint `m` (`cps[m - cp_base]`)
/// sums the samples numbered below `8·m` and the steps starting below it
/// (so also the step into sample `8·m`).
///
/// A push only stores its sample, as without a summary; the push of sample
/// `8·m` then sums the 8 samples before it (written recently, so in cache)
/// into checkpoint `m`, folds them into the block extremes, and drops the
/// checkpoints and blocks that fell off the front. Summing into a running
/// total on every push, and renumbering on every pop, made pushes several
/// times slower. Block `b` (`blocks[b - block_base]`) holds the extremes of
/// the samples numbered `32·b .. 32·(b + 1)` once they are all summed; `run`
/// those of the block being filled. A block or checkpoint before `first`
/// may linger until the next checkpoint; reads skip it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Summary {
    cps: VecDeque<Acc>,
    /// The number of the next sample appended.
    next: u64,
    /// The origin of the chain's times, Unix milliseconds.
    t0: i64,
    run: Extremes,
    mag: Magnitudes,
    /// Accumulation steps since the chain was built: bounds the depth of
    /// every sum, hence its error.
    steps: u32,
    /// A per-series offset of the rebuild point.
    stagger: u32,
    /// The checkpoint number of `cps[0]`.
    cp_base: u64,
    /// The block number of `blocks[0]`.
    block_base: u64,
    /// `first` at which the chain is rebuilt.
    rebuild_at: u64,
    blocks: VecDeque<Extremes>,
}

impl Summary {
    /// A summary of `samples`; `stagger` (a hash of the series' key)
    /// spreads the rebuilds of series that fill up together.
    pub(crate) fn build(samples: &VecDeque<Sample>, stagger: u32) -> Summary {
        let mut s = Summary {
            cps: VecDeque::new(),
            next: 0,
            t0: 0,
            run: Extremes { min: 0.0, max: 0.0 },
            mag: Magnitudes::default(),
            steps: 0,
            stagger,
            cp_base: 0,
            block_base: 0,
            rebuild_at: 0,
            blocks: VecDeque::new(),
        };
        s.rebuild(samples);
        s
    }

    /// Start a fresh chain at the front of `samples`.
    fn rebuild(&mut self, samples: &VecDeque<Sample>) {
        let len = samples.len() as u64;
        self.t0 = samples.front().map_or(0, |s| s.t);
        self.next = len;
        self.rebuild_at = REBUILD_AFTER * len + u64::from(self.stagger) % (len + 1);
        self.cps.clear();
        self.cps.push_back(Acc::default());
        self.cp_base = 0;
        self.blocks.clear();
        self.block_base = 0;
        self.steps = 0;
        self.mag = Magnitudes::default();
        self.extend_from(samples, 0);
    }

    /// The number of `samples[0]`.
    #[inline]
    fn first(&self, samples: &VecDeque<Sample>) -> u64 {
        self.next.saturating_sub(samples.len() as u64)
    }

    /// The first checkpoint still useful (at or after the front) and the
    /// last one.
    #[inline]
    fn live_checkpoints(&self, first: u64) -> Option<(u64, u64)> {
        let last = (self.cp_base + self.cps.len() as u64).checked_sub(1)?;
        let live = self.cp_base.max(first.div_ceil(CHECKPOINT));
        (live <= last).then_some((live, last))
    }

    /// From the newest checkpoint, at position `c` (the extremes current up
    /// to it), add a checkpoint after every 8 samples that have a successor.
    fn extend_from(&mut self, samples: &VecDeque<Sample>, mut c: usize) {
        const K: usize = CHECKPOINT as usize;
        let first = self.first(samples);
        while c + K < samples.len() {
            let Some(cp) = self.cps.back() else { return };
            // The 8 samples and the one after, copied out of the ring once;
            // then plain locals, so that the loop runs in registers.
            let mut group = [Sample { t: 0, v: 0.0 }; K + 1];
            for (slot, s) in group.iter_mut().zip(samples.range(c..=c + K)) {
                *slot = *s;
            }
            let (mut sum, mut resets, mut xv) = (cp.sum, cp.resets, cp.xv);
            let (mut x, mut xx, mut n_resets, mut n_nonzero) = (cp.x, cp.xx(), cp.n_resets, cp.n_nonzero);
            let t0 = self.t0;
            let (dx_first, dx_last) = (group[0].t.wrapping_sub(t0), group[K - 1].t.wrapping_sub(t0));
            // Times from the origin below 2^26 ms need no split in the
            // products (the usual case: the chain is rebuilt often enough).
            let small = dx_first.unsigned_abs() < 1 << 26 && dx_last.unsigned_abs() < 1 << 26;
            for i in 0..K {
                let (s, after) = (group[i], group[i + 1].v);
                let dx = s.t.wrapping_sub(t0);
                let p = if small { small_int_prod(dx, s.v) } else { two_prod(dx as f64, s.v) };
                sum = sum.acc_f64(s.v);
                xv = xv.acc(p);
                x = x.wrapping_add(dx);
                xx = xx.wrapping_add((i128::from(dx) * i128::from(dx)) as u128);
                n_nonzero = n_nonzero.wrapping_add(u32::from(s.v != 0.0));
                // The step out of this sample, into the next.
                let reset = after < s.v;
                resets = resets.acc_f64(if reset { s.v } else { 0.0 });
                n_resets = n_resets.wrapping_add(u32::from(reset));
            }
            let (mut lo, mut hi) = (group[0].v, group[0].v);
            for s in &group[1..K] {
                lo = lesser(lo, s.v);
                hi = greater(hi, s.v);
            }
            // Every prefix inside the group is within 8 values (or
            // products) of the checkpoint before it: bound the magnitudes
            // per group rather than per sample.
            let max_abs = larger(lo.abs(), hi.abs()) * K as f64;
            let max_x = larger(dx_first.unsigned_abs() as f64, dx_last.unsigned_abs() as f64);
            self.mag = Magnitudes {
                sum: larger(self.mag.sum, larger(cp.sum.hi.abs(), sum.hi.abs()) + max_abs),
                resets: larger(self.mag.resets, larger(cp.resets.hi.abs(), resets.hi.abs()) + max_abs),
                xv: larger(self.mag.xv, larger(cp.xv.hi.abs(), xv.hi.abs()) + max_abs * max_x),
            };
            let mut state = Acc { sum, resets, xv, x, xx_lo: 0, xx_hi: 0, n_resets, n_nonzero };
            state.set_xx(xx);
            self.steps = self.steps.saturating_add(K as u32);
            self.cps.push_back(state.normalized());
            // The group's extremes, into the block being filled (8 divides
            // 32 and groups start on multiples of 8, so a group never
            // straddles two blocks).
            let number = first + c as u64;
            let offset = (number % BLOCK as u64) as usize;
            self.run = if offset == 0 {
                Extremes { min: lo, max: hi }
            } else {
                Extremes { min: lesser(self.run.min, lo), max: greater(self.run.max, hi) }
            };
            if offset + K == BLOCK {
                if self.blocks.is_empty() {
                    self.block_base = number / BLOCK as u64;
                }
                self.blocks.push_back(self.run);
            }
            c += K;
        }
    }

    /// A sample was appended.
    #[inline]
    pub(crate) fn appended(&mut self, samples: &VecDeque<Sample>) {
        let n = self.next;
        self.next += 1;
        if n % CHECKPOINT == 0 {
            self.checkpoint(samples, n);
        }
    }

    /// Sample `n`, a multiple of 8, was appended: sum the 8 before it.
    fn checkpoint(&mut self, samples: &VecDeque<Sample>, n: u64) {
        let first = self.first(samples);
        if first >= self.rebuild_at {
            self.rebuild(samples);
            return;
        }
        self.trim(first);
        let newest = self.cp_base + self.cps.len() as u64;
        match (n - first).checked_sub(CHECKPOINT) {
            Some(c) if !self.cps.is_empty() && newest == n / CHECKPOINT => self.extend_from(samples, c as usize),
            _ => self.rebuild(samples),
        }
    }

    /// Drop the checkpoints and blocks before sample `first`.
    fn trim(&mut self, first: u64) {
        while self.cps.len() > 1 && self.cp_base * CHECKPOINT < first {
            self.cps.pop_front();
            self.cp_base += 1;
        }
        while !self.blocks.is_empty() && (self.block_base + 1) * BLOCK as u64 <= first {
            self.blocks.pop_front();
            self.block_base += 1;
        }
    }

    /// Samples left the front (an eviction): drop what fell off.
    pub(crate) fn popped(&mut self, samples: &VecDeque<Sample>) {
        let first = self.first(samples);
        self.trim(first);
    }

    /// The samples from position `pos` on changed: one was inserted there
    /// (`inserted`), or its value replaced. O(samples after `pos`), like
    /// the insert itself.
    pub(crate) fn changed_from(&mut self, samples: &VecDeque<Sample>, pos: usize, inserted: bool) {
        if inserted {
            self.next += 1;
        }
        let first = self.first(samples);
        let n = first + pos as u64;
        // Checkpoints strictly before sample `n` stay (the one on it sums
        // the step into it, which changed).
        let Some((live, last)) = self.live_checkpoints(first) else {
            self.rebuild(samples);
            return;
        };
        let Some(keep) = n.div_ceil(CHECKPOINT).checked_sub(1).map(|m| m.min(last)).filter(|&m| m >= live) else {
            self.rebuild(samples);
            return;
        };
        self.cps.truncate(usize::try_from(keep - self.cp_base + 1).unwrap_or(usize::MAX));
        let c = (keep * CHECKPOINT - first) as usize;
        // The extremes as they were at position `c`: complete blocks before
        // it, and the one it falls in, from its samples still held.
        let b = (first + c as u64) / BLOCK as u64;
        self.blocks.truncate(usize::try_from(b.saturating_sub(self.block_base)).unwrap_or(0));
        let start = usize::try_from((b * BLOCK as u64).saturating_sub(first)).unwrap_or(0);
        let values = samples.range(start.min(c)..c).map(|s| s.v);
        self.run =
            Extremes { min: values.clone().reduce(lesser).unwrap_or(0.0), max: values.reduce(greater).unwrap_or(0.0) };
        self.extend_from(samples, c);
    }

    /// Shrink the buffers to about `capacity` samples.
    pub(crate) fn shrink_to(&mut self, capacity: usize) {
        self.cps.shrink_to(capacity / CHECKPOINT as usize + 1);
        self.blocks.shrink_to(capacity / BLOCK + 1);
    }

    /// Heap bytes held by the buffers.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.cps.capacity() * size_of::<Acc>() + self.blocks.capacity() * size_of::<Extremes>()
    }

    /// The sums over positions `a..b` and the steps starting at `a..c`
    /// (`c <= b`; `c == b` takes the step out of sample `b - 1`, so needs
    /// sample `b`). `MOMENTS`: also the time sums (for slopes).
    #[inline]
    fn run_of<const MOMENTS: bool>(
        &self,
        samples: &VecDeque<Sample>,
        a: usize,
        b: usize,
        c: usize,
        mag: &mut Magnitudes,
    ) -> Option<Acc> {
        // At most 8 samples and the one after; copied out of the ring once.
        const K: usize = CHECKPOINT as usize;
        let n = b.checked_sub(a).filter(|&n| n <= K)?;
        let mut group = [Sample { t: 0, v: 0.0 }; K + 1];
        let end = if c == b { b + 1 } else { b };
        for (slot, s) in group.iter_mut().zip(samples.range(a..end.min(samples.len()))) {
            *slot = *s;
        }
        if end > samples.len() {
            return None;
        }
        let steps = c - a;
        let (mut sum, mut resets, mut xv) = (Dd::default(), Dd::default(), Dd::default());
        let (mut x, mut xx, mut n_resets, mut n_nonzero) = (0i64, 0u128, 0u32, 0u32);
        let (mut abs_v, mut abs_xv) = (0.0f64, 0.0f64);
        for i in 0..n {
            let (s, after) = (group[i], group[i + 1].v);
            sum = sum.acc_f64(s.v);
            abs_v += s.v.abs();
            n_nonzero = n_nonzero.wrapping_add(u32::from(s.v != 0.0));
            if MOMENTS {
                let dx = s.t.wrapping_sub(self.t0);
                let p = int_prod(dx, s.v);
                abs_xv += p.hi.abs();
                xv = xv.acc(p);
                x = x.wrapping_add(dx);
                xx = xx.wrapping_add((i128::from(dx) * i128::from(dx)) as u128);
            }
            let reset = i < steps && after < s.v;
            resets = resets.acc_f64(if reset { s.v } else { 0.0 });
            n_resets = n_resets.wrapping_add(u32::from(reset));
        }
        // What these samples add to the magnitudes a read's error stems
        // from (the ones after the newest checkpoint are in no other bound).
        mag.sum += abs_v;
        mag.resets += abs_v;
        mag.xv += abs_xv;
        let mut acc = Acc { sum, resets, xv, x, xx_lo: 0, xx_hi: 0, n_resets, n_nonzero };
        acc.set_xx(xx);
        Some(acc)
    }

    /// The sums over the positions before `j` and the steps starting before
    /// it, for `j < samples.len()`: from the nearest checkpoint, adding or
    /// removing at most 7 samples.
    #[inline]
    fn prefix<const MOMENTS: bool>(&self, samples: &VecDeque<Sample>, j: usize, mag: &mut Magnitudes) -> Option<Acc> {
        let first = self.first(samples);
        let (live, last) = self.live_checkpoints(first)?;
        let n = first + j as u64;
        let m = ((n + CHECKPOINT / 2) / CHECKPOINT).clamp(live, last);
        let cp = self.cps.get(usize::try_from(m - self.cp_base).ok()?)?;
        let c = usize::try_from((m * CHECKPOINT).checked_sub(first)?).ok()?;
        if c <= j {
            Some(cp.combine(&self.run_of::<MOMENTS>(samples, c, j, j, mag)?, 1.0))
        } else {
            Some(cp.combine(&self.run_of::<MOMENTS>(samples, j, c, c, mag)?, -1.0))
        }
    }

    /// The sums over the positions `lo..hi` and the steps between them,
    /// and the magnitudes their error stems from.
    fn window<const MOMENTS: bool>(
        &self,
        samples: &VecDeque<Sample>,
        lo: usize,
        hi: usize,
    ) -> Option<(Acc, Magnitudes)> {
        if lo >= hi || hi > samples.len() {
            return None;
        }
        let mut mag = self.mag;
        // Through the last sample, without the step out of it.
        let last = samples.get(hi - 1)?;
        let mut high = self.prefix::<MOMENTS>(samples, hi - 1, &mut mag)?;
        mag.sum += last.v.abs();
        mag.resets += last.v.abs();
        if MOMENTS {
            let xv = high.add_sample(last.t.wrapping_sub(self.t0), last.v);
            mag.xv += xv.hi.abs();
        } else {
            high.add_value(last.v);
        }
        let w = high.combine(&self.prefix::<MOMENTS>(samples, lo, &mut mag)?, -1.0).normalized();
        Some((w, mag))
    }

    /// The error bound of a window's double-double sum, for a chain whose
    /// sums reached `mag` (the 64 covers the few samples a read adds or
    /// removes at the window's ends).
    #[inline]
    fn error_bound(&self, mag: f64) -> f64 {
        (f64::from(self.steps) + 64.0) * mag * ERR_PER_STEP
    }

    /// `agg` over the positions `lo..hi`, when the summary can answer it
    /// within its error bound; `None` sends the read to a scan.
    pub(crate) fn read(&self, samples: &VecDeque<Sample>, lo: usize, hi: usize, agg: Aggregation) -> Option<f64> {
        match agg {
            Aggregation::Sum => self.sum(samples, lo, hi),
            Aggregation::Avg => {
                let n = hi.checked_sub(lo).filter(|&n| n > 0)?;
                Some(self.sum(samples, lo, hi)? / n as f64)
            }
            Aggregation::Increase => self.increase(samples, lo, hi),
            Aggregation::Rate => {
                let first = samples.get(lo)?;
                let last = samples.get(hi.checked_sub(1)?)?;
                let span_ms = last.t.checked_sub(first.t).filter(|&d| d > 0)?;
                Some(self.increase(samples, lo, hi)? / (span_ms as f64 / 1000.0))
            }
            Aggregation::Slope => self.fit(samples, lo, hi, false).map(|f| f.slope),
            Aggregation::Count | Aggregation::Last | Aggregation::Min | Aggregation::Max | Aggregation::Quantile => {
                None
            }
        }
    }

    fn sum(&self, samples: &VecDeque<Sample>, lo: usize, hi: usize) -> Option<f64> {
        hi.checked_sub(lo).filter(|&n| n > 0 && n <= u32::MAX as usize)?;
        let (w, mag) = self.window::<false>(samples, lo, hi)?;
        if w.n_nonzero == 0 {
            // Every value in the window is ±0: the scan's sum is +0.
            return Some(0.0);
        }
        let s = w.sum.value();
        (s.is_finite() && self.error_bound(mag.sum) <= s.abs() * CERTIFY).then_some(s)
    }

    fn increase(&self, samples: &VecDeque<Sample>, lo: usize, hi: usize) -> Option<f64> {
        hi.checked_sub(lo).filter(|&n| n >= 2 && n <= u32::MAX as usize)?;
        let (first, last) = (samples.get(lo)?.v, samples.get(hi - 1)?.v);
        let (w, mag) = self.window::<false>(samples, lo, hi)?;
        if w.n_resets == 0 {
            let inc = last - first;
            return inc.is_finite().then_some(inc);
        }
        let inc = two_sum(last, -first).add(w.resets).value();
        (inc.is_finite() && self.error_bound(mag.resets) <= inc.abs() * CERTIFY).then_some(inc)
    }

    /// The least-squares line over the positions `lo..hi`; with
    /// `intercept`, also certify its value at the first sample.
    ///
    /// With `x` the times in ms from the window's first sample, the sums
    /// over the window are `S(x) = ΣX - n·a`, `S(x²) = ΣX² - 2a·S(x) - n·a²`
    /// and `S(x·v) = ΣX·v - a·Σv` (`X` from the chain's origin, `a` the
    /// first sample's `X`): the time sums exact in wrapping integers, the
    /// others in double-double. Then `slope = (n·S(xv) - S(x)·S(v)) /
    /// (n·S(x²) - S(x)²)`, the denominator exact.
    pub(crate) fn fit(&self, samples: &VecDeque<Sample>, lo: usize, hi: usize, intercept: bool) -> Option<Fit> {
        let n = hi.checked_sub(lo).filter(|&n| n >= 2 && n <= u32::MAX as usize)?;
        let (first, last) = (samples.get(lo)?, samples.get(hi - 1)?);
        let a = first.t.wrapping_sub(self.t0);
        let b = last.t.wrapping_sub(self.t0);
        if a.unsigned_abs() > EXACT_F64 as u64 || b.unsigned_abs() > EXACT_F64 as u64 {
            return None;
        }
        let span = b.checked_sub(a).filter(|&s| s > 0)?;
        // Keeps n·span, n·span² and n²·span² far inside i64 and i128.
        if n as f64 * span as f64 >= (1u64 << 60) as f64 {
            return None;
        }
        let (w, mag) = self.window::<true>(samples, lo, hi)?;
        let (n_i, a_i) = (n as i64, i128::from(a));
        let sx = w.x.wrapping_sub(n_i.wrapping_mul(a));
        let sx_i = i128::from(sx);
        let sxx = (w.xx() as i128)
            .wrapping_sub(a_i.wrapping_mul(sx_i).wrapping_mul(2))
            .wrapping_sub(i128::from(n_i).wrapping_mul(a_i).wrapping_mul(a_i));
        let den = i128::from(n_i).wrapping_mul(sxx).wrapping_sub(sx_i.wrapping_mul(sx_i));
        if sx < 0 || sxx <= 0 || den <= 0 {
            return None;
        }
        let a_f = a as f64;
        let n_f = n as f64;
        let sy = w.sum;
        let a_sy = sy.mul_f64(a_f);
        let sxy = w.xv.sub(a_sy);
        let sx_sy = Dd::from_i128(sx_i).mul(sy);
        let num = sxy.mul_f64(n_f).sub(sx_sy);
        // The error of the numerator: what the sums bring in, carried
        // through the products, plus the roundings of the products.
        let e_sy = self.error_bound(mag.sum);
        let e_sxy = self.error_bound(mag.xv) + a_f.abs() * e_sy;
        let rounding = n_f * (w.xv.hi.abs() + a_sy.hi.abs()) + sx_sy.hi.abs();
        let e_num = n_f * e_sxy + sx as f64 * e_sy + rounding * ERR_PER_STEP;
        let num = num.value();
        if !num.is_finite() || e_num > num.abs() * CERTIFY {
            return None;
        }
        let slope = num / den as f64 * 1000.0;
        let sy_v = sy.value();
        if intercept && !(sy_v.is_finite() && e_sy <= sy_v.abs() * CERTIFY) {
            return None;
        }
        let mean_x = sx as f64 / n_f / 1000.0;
        let intercept = sy_v / n_f - slope * mean_x;
        (slope.is_finite() && intercept.is_finite()).then_some(Fit { slope, intercept, t_ref: first.t })
    }

    /// `min` or `max` over `lo..hi`: the partial blocks at the ends
    /// scanned, the whole blocks between read from their extremes.
    fn extreme(&self, samples: &VecDeque<Sample>, lo: usize, hi: usize, which: Extreme) -> Option<f64> {
        let first = self.first(samples);
        let b0 = self.block_base;
        // Whole blocks inside the window and summed so far; the samples
        // around them are scanned.
        let b_lo = (first + lo as u64).div_ceil(BLOCK as u64).max(b0);
        let b_hi = ((first + hi as u64) / BLOCK as u64).min(b0 + self.blocks.len() as u64);
        if b_lo >= b_hi {
            return scan_extreme(samples.range(lo..hi), which);
        }
        let inner_lo = usize::try_from(b_lo * BLOCK as u64 - first).ok()?;
        let inner_hi = usize::try_from(b_hi * BLOCK as u64 - first).ok()?;
        let head = samples.range(lo..inner_lo);
        let tail = samples.range(inner_hi..hi);
        let blocks = self.blocks.range(usize::try_from(b_lo - b0).ok()?..usize::try_from(b_hi - b0).ok()?);
        match which {
            Extreme::Min => head.chain(tail).map(|s| s.v).chain(blocks.map(|b| b.min)).reduce(lesser),
            Extreme::Max => head.chain(tail).map(|s| s.v).chain(blocks.map(|b| b.max)).reduce(greater),
        }
    }
}

// ---------------------------------------------------------------------------
// Reads.

/// `agg` over the samples at positions `lo..hi` of `samples` (in time
/// order), from `summary` when it has one that can answer, else by a scan.
/// `q` is read by [`Aggregation::Quantile`] only.
pub(crate) fn read(
    samples: &VecDeque<Sample>,
    summary: Option<&Summary>,
    lo: usize,
    hi: usize,
    agg: Aggregation,
    q: f64,
) -> Option<f64> {
    let hi = hi.min(samples.len());
    let lo = lo.min(hi);
    let n = hi - lo;
    let out = match agg {
        Aggregation::Count => Some(n as f64),
        Aggregation::Last => hi.checked_sub(1).filter(|_| n > 0).and_then(|i| samples.get(i)).map(|s| s.v),
        Aggregation::Min => extreme(samples, summary, lo, hi, Extreme::Min),
        Aggregation::Max => extreme(samples, summary, lo, hi, Extreme::Max),
        Aggregation::Quantile => {
            if n == 0 || !(0.0..=1.0).contains(&q) {
                None
            } else if q == 0.0 {
                extreme(samples, summary, lo, hi, Extreme::Min)
            } else if q == 1.0 {
                extreme(samples, summary, lo, hi, Extreme::Max)
            } else {
                scan_range(samples, lo, hi, agg, q)
            }
        }
        Aggregation::Sum | Aggregation::Avg | Aggregation::Increase | Aggregation::Rate | Aggregation::Slope => {
            match summary.and_then(|s| s.read(samples, lo, hi, agg)) {
                Some(v) => Some(v),
                None => scan_range(samples, lo, hi, agg, q),
            }
        }
    };
    out.filter(|v| !v.is_nan())
}

/// The positions `lo..hi` of a ring as one slice, unless they wrap around
/// its end (a window does only where the ring has dropped samples from its
/// front, and then only the windows across that point).
#[inline]
fn contiguous(samples: &VecDeque<Sample>, lo: usize, hi: usize) -> Option<&[Sample]> {
    let (front, back) = samples.as_slices();
    match lo.checked_sub(front.len()) {
        None => front.get(lo..hi),
        Some(lo) => back.get(lo..hi.checked_sub(front.len())?),
    }
}

/// [`scan`] over the positions `lo..hi`: a slice's iterator where they are
/// contiguous, which costs less per step than the ring's.
fn scan_range(samples: &VecDeque<Sample>, lo: usize, hi: usize, agg: Aggregation, q: f64) -> Option<f64> {
    match contiguous(samples, lo, hi) {
        Some(window) => scan(window.iter(), agg, q),
        None => scan(samples.range(lo..hi), agg, q),
    }
}

/// The least-squares line over `lo..hi`, from the summary or a scan.
pub(crate) fn fit(samples: &VecDeque<Sample>, summary: Option<&Summary>, lo: usize, hi: usize) -> Option<Fit> {
    let hi = hi.min(samples.len());
    let lo = lo.min(hi);
    summary.and_then(|s| s.fit(samples, lo, hi, true)).or_else(|| match contiguous(samples, lo, hi) {
        Some(window) => least_squares(window.iter()),
        None => least_squares(samples.range(lo..hi)),
    })
}

fn extreme(samples: &VecDeque<Sample>, summary: Option<&Summary>, lo: usize, hi: usize, which: Extreme) -> Option<f64> {
    match (summary, contiguous(samples, lo, hi)) {
        (Some(s), _) if hi - lo > SCAN_EXTREMES => s.extreme(samples, lo, hi, which),
        (_, Some(window)) => slice_extreme(window, which),
        _ => scan_extreme(samples.range(lo..hi), which),
    }
}

/// Compute `agg` over `samples` (in time order) by scanning them: the
/// reference the summary is checked against, and its fallback.
pub(crate) fn scan<'a, I>(samples: I, agg: Aggregation, q: f64) -> Option<f64>
where
    I: ExactSizeIterator<Item = &'a Sample> + DoubleEndedIterator + Clone,
{
    let n = samples.len();
    let out = match agg {
        Aggregation::Count => Some(n as f64),
        Aggregation::Last => samples.last().map(|s| s.v),
        Aggregation::Min => scan_extreme(samples, Extreme::Min),
        Aggregation::Max => scan_extreme(samples, Extreme::Max),
        Aggregation::Sum => (n > 0).then(|| neumaier_sum(samples.map(|s| s.v))),
        Aggregation::Avg => avg(samples),
        Aggregation::Increase => increase(samples),
        Aggregation::Rate => rate(samples),
        Aggregation::Quantile => {
            if n == 0 || !(0.0..=1.0).contains(&q) {
                None
            } else {
                quantile_of(samples.map(|s| s.v), q)
            }
        }
        Aggregation::Slope => least_squares(samples).map(|fit| fit.slope),
    };
    out.filter(|v| !v.is_nan())
}

/// Compensated (Kahan–Babuška–Neumaier) summation.
fn neumaier_sum(values: impl Iterator<Item = f64>) -> f64 {
    let mut sum = 0.0f64;
    let mut c = 0.0f64;
    for v in values {
        let t = sum + v;
        if sum.abs() >= v.abs() {
            c += (sum - t) + v;
        } else {
            c += (v - t) + sum;
        }
        sum = t;
    }
    // When the sum overflowed, the compensation is NaN (inf - inf); the
    // overflowed sum is the honest answer.
    if sum.is_finite() {
        sum + c
    } else {
        sum
    }
}

fn avg<'a, I>(samples: I) -> Option<f64>
where
    I: ExactSizeIterator<Item = &'a Sample> + Clone,
{
    let n = samples.len();
    if n == 0 {
        return None;
    }
    let sum = neumaier_sum(samples.clone().map(|s| s.v));
    if sum.is_finite() {
        return Some(sum / n as f64);
    }
    // The sum overflowed although every value is finite: an incremental
    // mean stays within the range of the values.
    let mut mean = 0.0f64;
    for (i, s) in samples.enumerate() {
        mean += (s.v - mean) / (i + 1) as f64;
    }
    Some(mean)
}

/// Counter increase with resets, no extrapolation.
fn increase<'a, I>(samples: I) -> Option<f64>
where
    I: ExactSizeIterator<Item = &'a Sample>,
{
    if samples.len() < 2 {
        return None;
    }
    let mut prev: Option<f64> = None;
    let mut total = 0.0f64;
    let mut c = 0.0f64;
    for s in samples {
        if let Some(p) = prev {
            // A decrease is a reset: the counter restarted from zero.
            let step = if s.v >= p { s.v - p } else { s.v };
            let t = total + step;
            if total.abs() >= step.abs() {
                c += (total - t) + step;
            } else {
                c += (step - t) + total;
            }
            total = t;
        }
        prev = Some(s.v);
    }
    Some(if total.is_finite() { total + c } else { total })
}

fn rate<'a, I>(samples: I) -> Option<f64>
where
    I: ExactSizeIterator<Item = &'a Sample> + DoubleEndedIterator + Clone,
{
    let first = samples.clone().next()?;
    let last = samples.clone().next_back()?;
    let span_ms = last.t.checked_sub(first.t)?;
    if span_ms <= 0 {
        return None;
    }
    let inc = increase(samples)?;
    Some(inc / (span_ms as f64 / 1000.0))
}

thread_local! {
    /// The buffer `quantile` selects in: a window's values are copied into
    /// it, so a read allocates only the first time a thread reads a window
    /// that large. It is cleared before each use and carries nothing from
    /// one read to the next (the core keeps no state outside its values).
    static SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// A scratch buffer larger than this many values is released after use, so
/// a thread that once read a huge window does not keep it.
const SCRATCH_KEEP: usize = 1 << 16;

/// The `q`-quantile of `values`: a few values on the stack, more selected
/// in the thread's scratch buffer.
fn quantile_of(values: impl ExactSizeIterator<Item = f64>, q: f64) -> Option<f64> {
    if let Some(plan) = SmallQuantile::plan(values.len(), q) {
        return plan.select(values);
    }
    let mut values = Some(values);
    let in_scratch = SCRATCH.try_with(|cell| {
        let mut buf = cell.try_borrow_mut().ok()?;
        buf.clear();
        buf.extend(values.take()?);
        let out = quantile(&mut buf, q);
        if buf.capacity() > SCRATCH_KEEP {
            *buf = Vec::new();
        }
        Some(out)
    });
    match in_scratch {
        Ok(Some(out)) => out,
        // The thread is being torn down, or (never in practice) the buffer
        // is in use: select in a buffer of our own.
        _ => quantile(&mut values.map(|v| v.collect::<Vec<f64>>()).unwrap_or_default(), q),
    }
}

/// Windows up to this many values may take a [`SmallQuantile`].
const SMALL_QUANTILE: usize = 32;

/// `f64::total_cmp`'s order as an integer key (an involution: it also maps
/// a key back to its value's bits).
#[inline]
fn order_key(bits: i64) -> i64 {
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// How [`quantile`] of at most [`SMALL_QUANTILE`] values is taken, bit for
/// bit, on the stack, as integer keys in `f64::total_cmp`'s order. A
/// quantile near an end (the usual `q`, with up to 4 values from its rank
/// to the end) keeps the few least keys in a short sorted run, flipping the
/// keys for the top end; other ranks sort the keys. Either is about half
/// the cost of the scratch buffer and a general selection on 20 values, and
/// the run a quarter.
#[derive(Clone, Copy, Debug)]
struct SmallQuantile {
    /// How many of the least (flipped) keys hold the ranks needed.
    keep: usize,
    /// The ranks of the two values among the (flipped) keys.
    r_lo: usize,
    r_hi: usize,
    /// Whether the upper value counts.
    need_hi: bool,
    weight: f64,
    /// `-1` when the keys are flipped (`!k` reverses the order, so ranks
    /// from the top become ranks from the bottom), else `0`.
    mask: i64,
}

impl SmallQuantile {
    /// The plan for `n` values; `None` for none, more than
    /// [`SMALL_QUANTILE`], or `q` outside `[0, 1]`.
    fn plan(n: usize, q: f64) -> Option<SmallQuantile> {
        if n == 0 || n > SMALL_QUANTILE || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = q * (n - 1) as f64;
        // `rank` is in `0..=n - 1`: the cast's truncation is its floor,
        // without a call to `floor` (no SSE4.1 in the baseline target).
        let lo = (rank as usize).min(n - 1);
        let weight = rank - lo as f64;
        let need_hi = lo + 1 < n && weight != 0.0;
        // Keep whichever end of the order is nearer the ranks.
        let plan = if n - lo < lo + 2 {
            let r_lo = n - 1 - lo;
            SmallQuantile { keep: r_lo + 1, r_lo, r_hi: r_lo.wrapping_sub(1), need_hi, weight, mask: -1 }
        } else {
            SmallQuantile { keep: lo + 1 + usize::from(need_hi), r_lo: lo, r_hi: lo + 1, need_hi, weight, mask: 0 }
        };
        Some(plan)
    }

    /// The quantile of `values`, which must be the `n` of the plan.
    fn select(self, values: impl Iterator<Item = f64>) -> Option<f64> {
        let mask = self.mask;
        let keys = values.map(|v| order_key(v.to_bits() as i64) ^ mask);
        let (k_lo, k_hi) =
            if self.keep <= RUN { least(keys, self.r_lo, self.r_hi) } else { sorted(keys, self.r_lo, self.r_hi) };
        let value = |k: i64| f64::from_bits(order_key(k ^ mask) as u64);
        let lo_value = value(k_lo?);
        if !self.need_hi {
            return Some(lo_value);
        }
        let hi_value = value(k_hi?);
        Some(lo_value + (hi_value - lo_value) * self.weight)
    }
}

/// The length of [`least`]'s run.
const RUN: usize = 4;

/// The keys at ranks `a` and `b` (from the least) among the [`RUN`] least
/// of `keys`, `None` for a rank not held.
#[inline]
fn least(keys: impl Iterator<Item = i64>, a: usize, b: usize) -> (Option<i64>, Option<i64>) {
    // A run of a fixed length stays in registers; selects, not a shifting
    // loop, insert a key (a branch per slot mispredicts on unsorted keys).
    let mut run = [i64::MAX; RUN];
    for x in keys {
        if x < run[RUN - 1] {
            for j in (1..RUN).rev() {
                run[j] = if x < run[j - 1] {
                    run[j - 1]
                } else if x < run[j] {
                    x
                } else {
                    run[j]
                };
            }
            run[0] = run[0].min(x);
        }
    }
    (run.get(a).copied(), run.get(b).copied())
}

/// The keys at ranks `a` and `b` of at most [`SMALL_QUANTILE`] `keys`, by
/// a sort of integers on the stack.
fn sorted(keys: impl Iterator<Item = i64>, a: usize, b: usize) -> (Option<i64>, Option<i64>) {
    let mut buf = [0i64; SMALL_QUANTILE];
    let mut n = 0;
    for (slot, k) in buf.iter_mut().zip(keys) {
        *slot = k;
        n += 1;
    }
    let Some(keys) = buf.get_mut(..n) else { return (None, None) };
    keys.sort_unstable();
    (keys.get(a).copied(), keys.get(b).copied())
}

/// The `q`-quantile by linear interpolation between closest ranks.
fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let n = values.len();
    let rank = q * (n - 1) as f64;
    // `rank` is in `0..=n - 1`: the cast's truncation is its floor, without
    // a call to `floor` (no SSE4.1 in the baseline target).
    let lo = (rank as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let weight = rank - lo as f64;
    let (_, lo_value, above) = values.select_nth_unstable_by(lo, f64::total_cmp);
    let lo_value = *lo_value;
    if hi == lo || weight == 0.0 {
        return Some(lo_value);
    }
    // The next rank is the smallest value above the `lo`-th.
    let hi_value = above.iter().copied().reduce(lesser).unwrap_or(lo_value);
    Some(lo_value + (hi_value - lo_value) * weight)
}

/// A least-squares line `value = intercept + slope * (t - t_ref) / 1000`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fit {
    /// Units per second.
    pub(crate) slope: f64,
    /// The fitted value at `t_ref`.
    pub(crate) intercept: f64,
    /// The reference time, Unix milliseconds.
    pub(crate) t_ref: i64,
}

impl Fit {
    /// The fitted value at `t` (Unix milliseconds).
    pub(crate) fn value_at(&self, t: i64) -> f64 {
        let dx = t.saturating_sub(self.t_ref) as f64 / 1000.0;
        self.intercept + self.slope * dx
    }
}

/// Windows up to this many samples keep their times for [`least_squares`].
const CACHED_TIMES: usize = 64;

/// Fit a least-squares line; needs 2 samples with distinct timestamps.
///
/// Times are taken relative to the first sample and the sums are centred on
/// the means (two passes), which keeps the fit accurate for Unix-millisecond
/// timestamps.
pub(crate) fn least_squares<'a, I>(samples: I) -> Option<Fit>
where
    I: ExactSizeIterator<Item = &'a Sample> + Clone,
{
    let n = samples.len();
    if n < 2 {
        return None;
    }
    let t_ref = samples.clone().next()?.t;
    let x = |s: &Sample| s.t.saturating_sub(t_ref) as f64 / 1000.0;
    // The times of a short window are converted once (a division each),
    // for both passes.
    let mut xs = [0.0f64; CACHED_TIMES];
    let (mut sx, mut sy) = (0.0f64, 0.0f64);
    for (i, s) in samples.clone().enumerate() {
        let xi = x(s);
        if let Some(slot) = xs.get_mut(i) {
            *slot = xi;
        }
        sx += xi;
        sy += s.v;
    }
    let mean_x = sx / n as f64;
    let mean_y = if sy.is_finite() {
        sy / n as f64
    } else {
        let mut mean = 0.0f64;
        for (i, s) in samples.clone().enumerate() {
            mean += (s.v - mean) / (i + 1) as f64;
        }
        mean
    };
    let (mut sxy, mut sxx) = (0.0f64, 0.0f64);
    for (i, s) in samples.enumerate() {
        let xi = match xs.get(i) {
            Some(&xi) => xi,
            None => x(s),
        };
        let dx = xi - mean_x;
        sxy += dx * (s.v - mean_y);
        sxx += dx * dx;
    }
    if sxx <= 0.0 || !sxx.is_finite() {
        return None;
    }
    let slope = sxy / sxx;
    // The line passes through (mean_x, mean_y); express it at t_ref.
    let intercept = mean_y - slope * mean_x;
    if !slope.is_finite() || !intercept.is_finite() {
        return None;
    }
    Some(Fit { slope, intercept, t_ref })
}

/// Seconds from `at` until `fit` reaches `threshold`; see
/// [`SeriesStore::forecast_crossing`](super::SeriesStore::forecast_crossing).
pub(crate) fn crossing(fit: &Fit, at: i64, threshold: f64) -> Option<f64> {
    if !threshold.is_finite() {
        return None;
    }
    let now = fit.value_at(at);
    if !now.is_finite() {
        return None;
    }
    let gap = threshold - now;
    if gap == 0.0 {
        return Some(0.0);
    }
    if fit.slope == 0.0 {
        return None;
    }
    let secs = gap / fit.slope;
    if !secs.is_finite() {
        None
    } else {
        // Negative: the line reached the threshold in the past.
        Some(secs.max(0.0))
    }
}

#[cfg(test)]
mod dd_tests {
    use super::*;

    #[test]
    fn constants_are_the_powers_of_two_they_claim() {
        assert_eq!(ERR_PER_STEP, 2f64.powi(-102));
        assert_eq!(CERTIFY, 2f64.powi(-50));
        assert_eq!(EXACT_F64 as f64, 2f64.powi(53));
    }

    #[test]
    fn error_free_transformations_are_exact() {
        let s = two_sum(1.0, 1e-30);
        assert_eq!((s.hi, s.lo), (1.0, 1e-30));
        let p = two_prod(1.0 + f64::EPSILON, 1.0 + f64::EPSILON);
        // (1 + e)^2 = 1 + 2e + e^2: the e^2 is the error term.
        assert_eq!((p.hi, p.lo), (1.0 + 2.0 * f64::EPSILON, f64::EPSILON * f64::EPSILON));
        let big = Dd::from_i128((1i128 << 80) + 3);
        assert_eq!((big.hi, big.lo), ((1u128 << 80) as f64, 3.0));
        // A prefix difference keeps what a plain f64 sum would lose.
        let chain = Dd::default().acc_f64(1.0e20).acc_f64(3.25).acc_f64(-1.0e20);
        assert_eq!(chain.value(), 3.25);
        assert_eq!(chain.normalized(), Dd { hi: 3.25, lo: 0.0 });
        let pair = Dd::default().acc_f64(1.0e20).acc_f64(3.25);
        assert_eq!(pair.acc(Dd { hi: -1.0e20, lo: 0.0 }).value(), 3.25);
        assert_eq!(Dd { hi: 3.0, lo: 0.0 }.mul(Dd { hi: 1.0, lo: 1e-20 }).value(), 3.0);
        assert_eq!(Dd { hi: 3.0, lo: 1e-20 }.mul_f64(2.0), Dd { hi: 6.0, lo: 2e-20 });
    }

    #[test]
    fn total_order_extremes() {
        assert_eq!(lesser(0.0, -0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(lesser(-0.0, 0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(greater(0.0, -0.0).to_bits(), 0f64.to_bits());
        assert_eq!(greater(-0.0, 0.0).to_bits(), 0f64.to_bits());
        assert_eq!(lesser(2.0, 1.0), 1.0);
        assert_eq!(greater(2.0, 1.0), 2.0);
    }
}

#[cfg(test)]
mod scan_tests {
    use proptest::prelude::*;

    use super::*;

    /// Values with many ties, both zeros, and magnitudes far apart.
    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![(-3i32..4).prop_map(f64::from), Just(0.0), Just(-0.0), -1.0e300f64..1.0e300, -1.0f64..1.0]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn small_quantiles_equal_selection_bit_for_bit(
            values in prop::collection::vec(value(), 1..=SMALL_QUANTILE),
            q in prop_oneof![0.0f64..=1.0, Just(0.0), Just(0.5), Just(0.9), Just(0.99), Just(1.0)],
        ) {
            let want = quantile(&mut values.clone(), q).map(f64::to_bits);
            let plan = SmallQuantile::plan(values.len(), q);
            if let Some(plan) = plan {
                prop_assert_eq!(plan.select(values.iter().copied()).map(f64::to_bits), want);
            }
            prop_assert_eq!(quantile_of(values.iter().copied(), q).map(f64::to_bits), want);
        }
    }

    proptest! {
        #[test]
        fn lanes_find_the_extremes_of_one_chain(values in prop::collection::vec(value(), 1..40)) {
            let samples: Vec<Sample> = values.iter().enumerate().map(|(t, &v)| Sample { t: t as i64, v }).collect();
            for which in [Extreme::Min, Extreme::Max] {
                let want = scan_extreme(samples.iter(), which).map(f64::to_bits);
                prop_assert_eq!(slice_extreme(&samples, which).map(f64::to_bits), want);
            }
        }
    }

    #[test]
    fn contiguous_windows_of_a_wrapped_ring() {
        let mut ring: VecDeque<Sample> = VecDeque::with_capacity(8);
        for t in 0..8 {
            ring.push_back(Sample { t, v: t as f64 });
        }
        ring.drain(..5);
        for t in 8..12 {
            ring.push_back(Sample { t, v: t as f64 });
        }
        let (front, back) = ring.as_slices();
        assert!(!front.is_empty() && !back.is_empty(), "the ring wraps");
        for lo in 0..=ring.len() {
            for hi in lo..=ring.len() {
                let want: Vec<Sample> = ring.range(lo..hi).copied().collect();
                match contiguous(&ring, lo, hi) {
                    Some(w) => assert_eq!(w, &want[..], "{lo}..{hi}"),
                    None => assert!(lo < front.len() && hi > front.len(), "{lo}..{hi}"),
                }
            }
        }
    }

    #[test]
    fn small_quantiles_at_every_rank() {
        let values: Vec<f64> = (0..SMALL_QUANTILE).map(|i| ((i * 7) % 11) as f64 - 5.0).collect();
        for n in 1..=SMALL_QUANTILE {
            for step in 0..=40 {
                let q = f64::from(step) / 40.0;
                let want = quantile(&mut values[..n].to_vec(), q).map(f64::to_bits);
                let plan = SmallQuantile::plan(n, q).unwrap();
                assert_eq!(plan.select(values[..n].iter().copied()).map(f64::to_bits), want, "n {n} q {q}");
                assert_eq!(quantile_of(values[..n].iter().copied(), q).map(f64::to_bits), want, "n {n} q {q}");
            }
        }
        assert!(SmallQuantile::plan(1, 1.5).is_none());
        assert!(SmallQuantile::plan(0, 0.5).is_none());
        assert!(SmallQuantile::plan(SMALL_QUANTILE + 1, 0.9).is_none());
    }
}
