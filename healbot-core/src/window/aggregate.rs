//! The aggregates, computed over the samples of one window.
//!
//! Every function takes the window's samples in time order, all with finite
//! values and distinct timestamps (the store guarantees both), and returns
//! `None` when the window has too few samples. See the module docs of
//! [`crate::window`] for the contract.

use crate::spec::Aggregation;

use super::store::Sample;

/// Compute `agg` over `samples` (in time order). `q` is read by
/// [`Aggregation::Quantile`] only.
pub(crate) fn aggregate<'a, I>(samples: I, agg: Aggregation, q: f64) -> Option<f64>
where
    I: ExactSizeIterator<Item = &'a Sample> + DoubleEndedIterator + Clone,
{
    let n = samples.len();
    let out = match agg {
        Aggregation::Count => Some(n as f64),
        Aggregation::Last => samples.last().map(|s| s.v),
        Aggregation::Min => samples.map(|s| s.v).reduce(f64::min),
        Aggregation::Max => samples.map(|s| s.v).reduce(f64::max),
        Aggregation::Sum => (n > 0).then(|| neumaier_sum(samples.map(|s| s.v))),
        Aggregation::Avg => avg(samples),
        Aggregation::Increase => increase(samples),
        Aggregation::Rate => rate(samples),
        Aggregation::Quantile => quantile(samples.map(|s| s.v).collect(), q),
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

/// The `q`-quantile by linear interpolation between closest ranks.
fn quantile(mut values: Vec<f64>, q: f64) -> Option<f64> {
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
    let hi_value = above.iter().copied().reduce(f64::min).unwrap_or(lo_value);
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
