//! The aggregates: read from a series' [`Summary`] in O(1) (O(n/32) for
//! `min`/`max`), or computed by a scan of the window.
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
//! [`Summary`] holds, next to every sample, prefix accumulators over the
//! samples up to it (Σv, Σt, Σt², Σt·v, the corrections of counter resets,
//! and counts of resets and of non-zero values), so any window is the
//! difference of two prefixes found by the binary search that finds the
//! window: O(1) for `sum`, `avg`, `count`, `increase`, `rate` and `slope`.
//! `min` and `max` come from a min/max per block of 32 samples: a read
//! scans at most 62 samples at the window's ends and one summary per block
//! inside it. `quantile` copies the window into a reused buffer and selects
//! (O(k), no allocation).
//!
//! A difference of prefixes loses what the prefixes share, so the value
//! sums are double-double numbers (about 106 bits, error-free
//! transformations): their error is about 2⁻¹⁰⁴ of the largest prefix, far
//! below the rounding of the result. Time sums are exact integers (Σt and
//! Σt² wrap around, but the window's sums, which are small, come out
//! exact). Each read bounds its own error from the number of accumulation
//! steps and the largest prefix of the chain, and answers from the summary
//! only when that bound is below 2⁻⁵⁰ of the result; otherwise (a result
//! that cancels to about zero, such as the slope of a flat line, or a chain
//! that once held a huge value) it scans the window as before, so a result
//! is never worse than the scan's. Zero windows of a sum and counters
//! without a reset in the window are recognised exactly from the counts.
//!
//! To keep the prefixes small (and the bound tight) the summary is rebuilt
//! from the samples it holds after as many samples as it holds have left
//! its front: amortised one extra accumulation per sample; the point of the
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
    #[inline]
    fn add_f64(self, b: f64) -> Dd {
        let s = two_sum(self.hi, b);
        fast_two_sum(s.hi, s.lo + self.lo)
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

/// Prefix accumulators over the samples of a chain up to one sample.
///
/// `x` is the sample's time in milliseconds from the chain's origin `t0`.
/// A reset is a value below its predecessor (see `increase`).
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

    /// The prefix after `prev` and one more sample `(x, v)` whose
    /// predecessor in the series had the value `before`; also `x·v`.
    #[inline]
    fn next(prev: &Acc, x: i64, v: f64, before: Option<f64>) -> (Acc, Dd) {
        let reset = match before {
            Some(p) if v < p => Some(p),
            _ => None,
        };
        let xv = two_prod(x as f64, v);
        let xx = prev.xx().wrapping_add((i128::from(x) * i128::from(x)) as u128);
        let acc = Acc {
            sum: prev.sum.add_f64(v),
            resets: match reset {
                Some(p) => prev.resets.add_f64(p),
                None => prev.resets,
            },
            xv: prev.xv.add(xv),
            x: prev.x.wrapping_add(x),
            xx_lo: xx as u64,
            xx_hi: (xx >> 64) as u64,
            n_resets: prev.n_resets.wrapping_add(u32::from(reset.is_some())),
            n_nonzero: prev.n_nonzero.wrapping_add(u32::from(v != 0.0)),
        };
        (acc, xv)
    }
}

/// The largest magnitudes a chain's double-double prefixes (and the
/// products added to `xv`) have reached since it was built.
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

#[inline]
fn lesser(a: f64, b: f64) -> f64 {
    if b < a || (b == a && b.is_sign_negative()) {
        b
    } else {
        a
    }
}

#[inline]
fn greater(a: f64, b: f64) -> f64 {
    if b > a || (b == a && a.is_sign_negative()) {
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

fn scan_extreme<'a>(samples: impl Iterator<Item = &'a Sample>, which: Extreme) -> Option<f64> {
    let values = samples.map(|s| s.v);
    match which {
        Extreme::Min => values.reduce(lesser),
        Extreme::Max => values.reduce(greater),
    }
}

/// Derived data of a series that lets a read answer without scanning its
/// window: per-sample prefix accumulators and per-block extremes.
///
/// It is rebuilt from the samples whenever needed (and on loading a
/// snapshot), never serialised. `acc[i]` is the prefix through the sample at
/// position `i`; `base` the prefix before position 0 (what has left the
/// front since the chain began). Block `j` covers the positions
/// `[32·j - phase, 32·(j + 1) - phase)`, so blocks keep their samples while
/// samples leave the front; the first block may still include values that
/// have left, and is therefore never read whole unless `phase == 0`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Summary {
    /// The origin of the chain's times, Unix milliseconds.
    t0: i64,
    base: Acc,
    acc: VecDeque<Acc>,
    phase: usize,
    blocks: VecDeque<Extremes>,
    /// Accumulation steps since the chain was built: bounds the depth of
    /// every prefix, hence its error.
    steps: u64,
    mag: Magnitudes,
    /// Samples that left the front since the chain was built.
    popped: usize,
    /// A per-series offset of the rebuild point.
    stagger: usize,
}

impl Summary {
    /// A summary of `samples`; `stagger` (a hash of the series' key)
    /// spreads the rebuilds of series that fill up together.
    pub(crate) fn build(samples: &VecDeque<Sample>, stagger: usize) -> Summary {
        let mut s = Summary {
            t0: 0,
            base: Acc::default(),
            acc: VecDeque::with_capacity(samples.capacity()),
            phase: 0,
            blocks: VecDeque::new(),
            steps: 0,
            mag: Magnitudes::default(),
            popped: 0,
            stagger,
        };
        s.rebuild(samples);
        s
    }

    /// Start a fresh chain at the front of `samples`.
    fn rebuild(&mut self, samples: &VecDeque<Sample>) {
        self.t0 = samples.front().map_or(0, |s| s.t);
        self.base = Acc::default();
        self.acc.clear();
        self.phase = 0;
        self.blocks.clear();
        self.steps = 0;
        self.mag = Magnitudes::default();
        self.popped = 0;
        self.extend_from(samples, 0);
    }

    /// Compute the accumulators of the positions `from..` (the ones before
    /// `from` are current) and the blocks from the one holding `from`.
    fn extend_from(&mut self, samples: &VecDeque<Sample>, from: usize) {
        self.acc.truncate(from);
        let mut prev = self.acc.back().copied().unwrap_or(self.base);
        let mut before = from.checked_sub(1).and_then(|i| samples.get(i)).map(|s| s.v);
        for s in samples.range(from.min(samples.len())..) {
            prev = self.step(&prev, s, before);
            self.acc.push_back(prev);
            before = Some(s.v);
        }
        let first_block = (from + self.phase) / BLOCK;
        self.blocks.truncate(first_block);
        let mut j = first_block;
        loop {
            let start = (j * BLOCK).saturating_sub(self.phase);
            let end = ((j + 1) * BLOCK - self.phase).min(samples.len());
            if start >= end {
                break;
            }
            let values = samples.range(start..end).map(|s| s.v);
            let min = values.clone().reduce(lesser);
            let max = values.reduce(greater);
            if let (Some(min), Some(max)) = (min, max) {
                self.blocks.push_back(Extremes { min, max });
            }
            j += 1;
        }
    }

    #[inline]
    fn step(&mut self, prev: &Acc, s: &Sample, before: Option<f64>) -> Acc {
        let (acc, xv) = Acc::next(prev, s.t.wrapping_sub(self.t0), s.v, before);
        self.steps += 1;
        // `f64::max` ignores a NaN; a chain that overflowed is caught by
        // the reads, whose results are then not finite.
        self.mag.sum = self.mag.sum.max(acc.sum.hi.abs());
        self.mag.resets = self.mag.resets.max(acc.resets.hi.abs());
        self.mag.xv = self.mag.xv.max(acc.xv.hi.abs()).max(xv.hi.abs());
        acc
    }

    /// The newest sample of `samples` was just appended.
    pub(crate) fn appended(&mut self, samples: &VecDeque<Sample>) {
        let len = samples.len();
        let Some(s) = samples.back() else { return };
        if self.acc.len() + 1 != len {
            // Not a single append: recompute what is missing.
            self.extend_from(samples, self.acc.len().min(len));
            return;
        }
        let before = len.checked_sub(2).and_then(|i| samples.get(i)).map(|p| p.v);
        let prev = self.acc.back().copied().unwrap_or(self.base);
        let next = self.step(&prev, s, before);
        self.acc.push_back(next);
        let j = (len - 1 + self.phase) / BLOCK;
        match self.blocks.get_mut(j) {
            Some(b) => *b = Extremes { min: lesser(b.min, s.v), max: greater(b.max, s.v) },
            None => self.blocks.push_back(Extremes { min: s.v, max: s.v }),
        }
    }

    /// The samples from position `pos` on changed (one inserted there, or
    /// its value replaced): O(samples after `pos`), like the insert itself.
    pub(crate) fn changed_from(&mut self, samples: &VecDeque<Sample>, pos: usize) {
        self.extend_from(samples, pos.min(self.acc.len()));
    }

    /// `n` samples left the front of `samples` (which still holds some).
    pub(crate) fn popped_front(&mut self, samples: &VecDeque<Sample>, n: usize) {
        let n = n.min(self.acc.len());
        if n == 0 {
            return;
        }
        if let Some(last) = self.acc.get(n - 1) {
            self.base = *last;
        }
        self.acc.drain(..n);
        let shifted = self.phase + n;
        self.blocks.drain(..(shifted / BLOCK).min(self.blocks.len()));
        self.phase = shifted % BLOCK;
        self.popped += n;
        let len = samples.len();
        if self.acc.len() != len || self.popped >= len + self.stagger % (len + 1) {
            self.rebuild(samples);
        }
    }

    /// Shrink the buffers to about `capacity` samples.
    pub(crate) fn shrink_to(&mut self, capacity: usize) {
        self.acc.shrink_to(capacity);
        self.blocks.shrink_to(capacity / BLOCK + 1);
    }

    /// Heap bytes held, the summary itself included.
    pub(crate) fn heap_bytes(&self) -> usize {
        size_of::<Summary>() + self.acc.capacity() * size_of::<Acc>() + self.blocks.capacity() * size_of::<Extremes>()
    }

    /// The prefix before position `lo`.
    #[inline]
    fn before(&self, lo: usize) -> Option<Acc> {
        match lo.checked_sub(1) {
            None => Some(self.base),
            Some(i) => self.acc.get(i).copied(),
        }
    }

    /// The error bound of a difference of two prefixes of a chain whose
    /// prefixes reached `mag`.
    #[inline]
    fn error_bound(&self, mag: f64) -> f64 {
        (self.steps as f64 + 2.0) * mag * ERR_PER_STEP
    }

    /// `agg` over the positions `lo..hi`, when the summary can answer it
    /// within its error bound; `None` sends the read to a scan.
    pub(crate) fn read(&self, samples: &VecDeque<Sample>, lo: usize, hi: usize, agg: Aggregation) -> Option<f64> {
        match agg {
            Aggregation::Sum => self.sum(lo, hi),
            Aggregation::Avg => {
                let n = hi.checked_sub(lo).filter(|&n| n > 0)?;
                Some(self.sum(lo, hi)? / n as f64)
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

    fn sum(&self, lo: usize, hi: usize) -> Option<f64> {
        let n = hi.checked_sub(lo).filter(|&n| n > 0 && n <= u32::MAX as usize)?;
        let (b, p) = (self.before(lo)?, *self.acc.get(lo + n - 1)?);
        if p.n_nonzero == b.n_nonzero {
            // Every value in the window is ±0: the scan's sum is +0.
            return Some(0.0);
        }
        let s = p.sum.sub(b.sum).value();
        (s.is_finite() && self.error_bound(self.mag.sum) <= s.abs() * CERTIFY).then_some(s)
    }

    fn increase(&self, samples: &VecDeque<Sample>, lo: usize, hi: usize) -> Option<f64> {
        let n = hi.checked_sub(lo).filter(|&n| n >= 2 && n <= u32::MAX as usize)?;
        let (first, last) = (samples.get(lo)?.v, samples.get(hi - 1)?.v);
        // The resets inside the window are those after its first sample.
        let (a, p) = (*self.acc.get(lo)?, *self.acc.get(lo + n - 1)?);
        if p.n_resets == a.n_resets {
            let inc = last - first;
            return inc.is_finite().then_some(inc);
        }
        let inc = two_sum(last, -first).add(p.resets.sub(a.resets)).value();
        (inc.is_finite() && self.error_bound(self.mag.resets) <= inc.abs() * CERTIFY).then_some(inc)
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
        let (pb, pe) = (self.before(lo)?, *self.acc.get(hi - 1)?);
        let (n_i, a_i) = (n as i64, i128::from(a));
        let sx = pe.x.wrapping_sub(pb.x).wrapping_sub(n_i.wrapping_mul(a));
        let sx_i = i128::from(sx);
        let sxx = (pe.xx().wrapping_sub(pb.xx()) as i128)
            .wrapping_sub(2 * a_i * sx_i)
            .wrapping_sub(i128::from(n_i).wrapping_mul(a_i).wrapping_mul(a_i));
        let den = i128::from(n_i).wrapping_mul(sxx).wrapping_sub(sx_i.wrapping_mul(sx_i));
        if sx < 0 || sxx <= 0 || den <= 0 {
            return None;
        }
        let a_f = a as f64;
        let n_f = n as f64;
        let sy = pe.sum.sub(pb.sum);
        let sxy_origin = pe.xv.sub(pb.xv);
        let a_sy = sy.mul_f64(a_f);
        let sxy = sxy_origin.sub(a_sy);
        let sx_sy = Dd::from_i128(sx_i).mul(sy);
        let num = sxy.mul_f64(n_f).sub(sx_sy);
        // The error of the numerator: what the prefixes bring in, carried
        // through the products, plus the roundings of the products.
        let e_sy = self.error_bound(self.mag.sum);
        let e_sxy = self.error_bound(self.mag.xv) + a_f.abs() * e_sy;
        let rounding = n_f * (sxy_origin.hi.abs() + a_sy.hi.abs()) + sx_sy.hi.abs();
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
        let j_lo = (lo + self.phase).div_ceil(BLOCK);
        let j_hi = (hi + self.phase) / BLOCK;
        if j_lo >= j_hi || j_hi > self.blocks.len() || self.acc.len() != samples.len() {
            return scan_extreme(samples.range(lo..hi), which);
        }
        let inner_lo = j_lo * BLOCK - self.phase;
        let inner_hi = j_hi * BLOCK - self.phase;
        let head = samples.range(lo..inner_lo);
        let tail = samples.range(inner_hi..hi);
        let blocks = self.blocks.range(j_lo..j_hi);
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
                quantile_of(samples.range(lo..hi).map(|s| s.v), q)
            }
        }
        Aggregation::Sum | Aggregation::Avg | Aggregation::Increase | Aggregation::Rate | Aggregation::Slope => {
            match summary.and_then(|s| s.read(samples, lo, hi, agg)) {
                Some(v) => Some(v),
                None => scan(samples.range(lo..hi), agg, q),
            }
        }
    };
    out.filter(|v| !v.is_nan())
}

/// The least-squares line over `lo..hi`, from the summary or a scan.
pub(crate) fn fit(samples: &VecDeque<Sample>, summary: Option<&Summary>, lo: usize, hi: usize) -> Option<Fit> {
    let hi = hi.min(samples.len());
    let lo = lo.min(hi);
    summary.and_then(|s| s.fit(samples, lo, hi, true)).or_else(|| least_squares(samples.range(lo..hi)))
}

fn extreme(samples: &VecDeque<Sample>, summary: Option<&Summary>, lo: usize, hi: usize, which: Extreme) -> Option<f64> {
    match summary {
        Some(s) if hi - lo > SCAN_EXTREMES => s.extreme(samples, lo, hi, which),
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

/// The `q`-quantile of `values`, selected in the thread's scratch buffer.
fn quantile_of(values: impl Iterator<Item = f64>, q: f64) -> Option<f64> {
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

/// The `q`-quantile by linear interpolation between closest ranks.
fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let n = values.len();
    let rank = q * (n - 1) as f64;
    let lo = (rank.floor() as usize).min(n - 1);
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
    let (mut sx, mut sy) = (0.0f64, 0.0f64);
    for s in samples.clone() {
        sx += x(s);
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
    for s in samples {
        let dx = x(s) - mean_x;
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
        let chain = Dd::default().add_f64(1.0e20).add_f64(3.25).add_f64(-1.0e20);
        assert_eq!(chain.value(), 3.25);
        assert_eq!(chain.sub(Dd::default().add_f64(1.0e20)).value(), 3.25 - 1.0e20);
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
