//! Compact series notation, as `promtool test rules` writes it.
//!
//! A series is a space-separated list of terms, one value per scrape
//! interval:
//!
//! | term | expands to |
//! |---|---|
//! | `7` | one sample, 7 |
//! | `_` | one missed scrape (no sample) |
//! | `a+bxn` | `a a+b a+2b … a+nb` (n + 1 samples) |
//! | `a-bxn` | `a a-b a-2b … a-nb` (n + 1 samples) |
//! | `axn` | `a` repeated n + 1 times |
//! | `_xn` | n missed scrapes |
//!
//! Numbers may be negative, fractional or in exponent form (`1e3`), and
//! `NaN`, `Inf`, `+Inf`, `-Inf` are accepted as in Prometheus.

use std::fmt;

/// The most samples one series may expand to (a typo like `0+1x1e9` must not
/// exhaust memory).
pub const MAX_SAMPLES: usize = 100_000;

/// A problem in a series, with the 1-based character column of the term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesError {
    /// 1-based column of the offending term in the series text.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SeriesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

/// Expands a series in compact notation to one slot per scrape: `Some(v)`
/// for a sample, `None` for a missed scrape.
///
/// # Errors
///
/// A [`SeriesError`] naming the first bad term.
///
/// # Example
///
/// ```ignore
/// assert_eq!(expand("1+1x2 _ 4").unwrap(), vec![Some(1.0), Some(2.0), Some(3.0), None, Some(4.0)]);
/// ```
pub fn expand(text: &str) -> Result<Vec<Option<f64>>, SeriesError> {
    let mut out = Vec::new();
    let mut column = 1;
    for raw in text.split(' ') {
        if raw.is_empty() {
            column += 1;
            continue;
        }
        let term = raw.trim_matches(|c: char| c.is_whitespace());
        let err = |message: String| SeriesError { column, message };
        expand_term(term, &mut out).map_err(err)?;
        if out.len() > MAX_SAMPLES {
            return Err(SeriesError {
                column,
                message: format!("the series expands to more than {MAX_SAMPLES} samples"),
            });
        }
        column += raw.chars().count() + 1;
    }
    Ok(out)
}

fn expand_term(term: &str, out: &mut Vec<Option<f64>>) -> Result<(), String> {
    if term == "_" {
        out.push(None);
        return Ok(());
    }
    // `x` splits a repetition; `NaN`/`Inf` contain no `x`, exponents use `e`.
    let (head, times) = match term.rsplit_once('x') {
        Some((head, n)) => {
            let n: usize = n.parse().map_err(|_| format!("`{term}`: expected a count after `x`, found `{n}`"))?;
            if n > MAX_SAMPLES {
                return Err(format!("`{term}`: a repeat count above {MAX_SAMPLES}"));
            }
            (head, Some(n))
        }
        None => (term, None),
    };
    let Some(n) = times else {
        out.push(Some(number(term)?));
        return Ok(());
    };
    if head == "_" {
        out.extend(std::iter::repeat_n(None, n));
        return Ok(());
    }
    // `a+b`, `a-b` (the sign of `a` itself and exponents are not split points).
    let split = head
        .char_indices()
        .skip(1)
        .filter(|(i, c)| {
            (*c == '+' || *c == '-') && !matches!(head.as_bytes().get(i.saturating_sub(1)), Some(b'e' | b'E'))
        })
        .map(|(i, _)| i)
        .next();
    let (start, step) = match split {
        Some(i) => {
            let (a, b) = head.split_at(i);
            // `a+-b` steps down, as `a-b` does.
            let b = b.strip_prefix('+').filter(|r| r.starts_with('-')).unwrap_or(b);
            (number(a)?, number(b)?)
        }
        None => (number(head)?, 0.0),
    };
    for k in 0..=n {
        out.push(Some(start + step * k as f64));
    }
    Ok(())
}

fn number(s: &str) -> Result<f64, String> {
    match s {
        "NaN" => Ok(f64::NAN),
        "Inf" | "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => s.parse::<f64>().map_err(|_| {
            if s.is_empty() {
                "expected a number, found nothing".to_string()
            } else {
                format!("expected a number, `_`, `a+bxn`, `a-bxn`, `axn` or `_xn`, found `{s}`")
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn promtool_examples() {
        assert_eq!(expand("1+1x2").unwrap(), vec![Some(1.0), Some(2.0), Some(3.0)]);
        assert_eq!(expand("10-2x2").unwrap(), vec![Some(10.0), Some(8.0), Some(6.0)]);
        assert_eq!(expand("5x2").unwrap(), vec![Some(5.0); 3]);
        assert_eq!(expand("_x3").unwrap(), vec![None; 3]);
        assert_eq!(expand("1 2 _ 4").unwrap(), vec![Some(1.0), Some(2.0), None, Some(4.0)]);
        assert_eq!(expand("-1+1x1").unwrap(), vec![Some(-1.0), Some(0.0)]);
        assert_eq!(expand("1e3+-1e1x1").unwrap(), vec![Some(1000.0), Some(990.0)]);
        assert_eq!(expand("1e-3").unwrap(), vec![Some(0.001)]);
        assert_eq!(expand("0.5+0.25x1 +Inf").unwrap(), vec![Some(0.5), Some(0.75), Some(f64::INFINITY)]);
        assert_eq!(expand("  3  ").unwrap(), vec![Some(3.0)]);
        assert!(expand("").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_column() {
        let e = expand("1 2 abc").unwrap_err();
        assert_eq!(e.column, 5);
        assert!(e.message.contains("abc"), "{e}");
        let e = expand("1+1xq").unwrap_err();
        assert_eq!(e.column, 1);
        assert!(expand("0+1x1000000").is_err());
        assert!(expand("0x60000 0x60000").is_err());
    }
}
