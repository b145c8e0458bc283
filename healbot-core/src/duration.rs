//! Durations written as Prometheus writes them: `30s`, `5m`, `1h30m`, `500ms`.
//!
//! A [`Duration`] is a whole number of milliseconds. The core keeps time in Unix
//! milliseconds throughout, so durations compose with timestamps without
//! conversion and without floating point.

use std::fmt;
use std::str::FromStr;

/// A non-negative span of time with millisecond resolution.
///
/// Parsed from the Prometheus duration syntax: one or more `<integer><unit>`
/// pairs with units in decreasing order, drawn from `y`, `w`, `d`, `h`, `m`,
/// `s`, `ms` (a year is 365 days, a week 7 days).
///
/// # Example
///
/// ```
/// use healbot_core::Duration;
///
/// let d: Duration = "1h30m".parse().unwrap();
/// assert_eq!(d.as_millis(), 90 * 60 * 1000);
/// assert_eq!(d.to_string(), "1h30m");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(u64);

/// Why a duration did not parse.
///
/// # Example
///
/// ```
/// use healbot_core::Duration;
///
/// let err = "5 minutes".parse::<Duration>().unwrap_err();
/// assert!(err.to_string().contains("unit"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{input}`: {reason}")]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

impl DurationError {
    /// What was wrong, without the input.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

impl Duration {
    /// The zero duration.
    pub const ZERO: Duration = Duration(0);

    /// A duration of `ms` milliseconds.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::Duration;
    /// assert_eq!(Duration::from_millis(60_000).to_string(), "1m");
    /// ```
    pub const fn from_millis(ms: u64) -> Duration {
        Duration(ms)
    }

    /// A duration of `s` seconds.
    pub const fn from_secs(s: u64) -> Duration {
        Duration(s.saturating_mul(1000))
    }

    /// The duration in milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The duration in milliseconds as a signed value, saturating, for
    /// arithmetic with Unix-millisecond timestamps.
    pub const fn as_millis_i64(self) -> i64 {
        if self.0 > i64::MAX as u64 {
            i64::MAX
        } else {
            self.0 as i64
        }
    }

    /// The duration in seconds, as a float (for rates).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Whether this is the zero duration.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Duration, DurationError> {
        let err = |reason| DurationError { input: input.to_string(), reason };
        if input.is_empty() {
            return Err(err("empty; expected a number followed by a unit, such as `5m`"));
        }
        let bytes = input.as_bytes();
        let mut i = 0;
        let mut total: u64 = 0;
        // Units must appear in decreasing order, each at most once, as in Prometheus.
        let mut last_unit = None::<usize>;
        while i < bytes.len() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if start == i {
                return Err(err("expected a number before each unit (`y`, `w`, `d`, `h`, `m`, `s`, `ms`)"));
            }
            let number: u64 = input[start..i].parse().map_err(|_| err("number too large"))?;
            let rest = &input[i..];
            let Some((index, (unit, scale))) = UNITS
                .iter()
                .enumerate()
                // `ms` must win over `m` when both could match.
                .filter(|(_, (u, _))| rest.starts_with(u))
                .max_by_key(|(_, (u, _))| u.len())
            else {
                return Err(err("expected a unit after the number: one of `y`, `w`, `d`, `h`, `m`, `s`, `ms`"));
            };
            if last_unit.is_some_and(|last| index <= last) {
                return Err(err("units must appear once each, largest first (as in `1h30m`)"));
            }
            last_unit = Some(index);
            i += unit.len();
            total = number
                .checked_mul(*scale)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| err("duration too large"))?;
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (unit, scale) in UNITS {
            if rest >= scale {
                write!(f, "{}{}", rest / scale, unit)?;
                rest %= scale;
            }
        }
        Ok(())
    }
}

impl serde::Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as `30s`, `5m` or `1h30m`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
                v.parse().map_err(|e: DurationError| E::custom(e))
            }
        }
        d.deserialize_str(V)
    }
}

impl schemars::JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^([0-9]+(y|w|d|h|m|s|ms))+$",
            "description": "A Prometheus-style duration such as `30s`, `5m` or `1h30m`."
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_compound_durations() {
        assert_eq!("1h30m".parse::<Duration>().unwrap().as_millis(), 5_400_000);
        assert_eq!("500ms".parse::<Duration>().unwrap().as_millis(), 500);
        assert_eq!("1m500ms".parse::<Duration>().unwrap().as_millis(), 60_500);
        assert_eq!("2d".parse::<Duration>().unwrap().as_millis(), 172_800_000);
        assert_eq!("0s".parse::<Duration>().unwrap(), Duration::ZERO);
    }

    #[test]
    fn rejects_malformed_durations() {
        for bad in ["", "5", "m", "5 m", "1m1h", "1m1m", "1.5h", "-5m", "5minutes", "99999999999999999999s"] {
            assert!(bad.parse::<Duration>().is_err(), "{bad:?} should not parse");
        }
    }

    proptest! {
        #[test]
        fn display_round_trips(ms in 0u64..(10 * 365 * 24 * 3_600_000u64)) {
            let d = Duration::from_millis(ms);
            prop_assert_eq!(d.to_string().parse::<Duration>().unwrap(), d);
        }

        #[test]
        fn never_panics_on_arbitrary_text(s in "\\PC{0,16}") {
            let _ = s.parse::<Duration>();
        }
    }
}
