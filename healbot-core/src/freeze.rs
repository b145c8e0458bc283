//! Change-freeze calendars: weekly windows and one-off windows in a time zone.
//!
//! Windows are written in civil (wall-clock) time of an IANA zone, so a
//! window from 22:00 to 06:00 local stays at those wall-clock hours across a
//! daylight-saving change. The time zone database is compiled into the
//! binary: no file is read.

use jiff::civil::{DateTime, Weekday as JWeekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::spec::action::{Freeze, Weekday};

/// A compiled freeze guard.
///
/// # Example
///
/// ```
/// use healbot_core::freeze::FreezeCalendar;
/// use healbot_core::spec::action::{Freeze, FreezeWindow, Weekday};
///
/// let spec = Freeze {
///     timezone: "Europe/Berlin".into(),
///     windows: vec![FreezeWindow { days: vec![Weekday::Sat, Weekday::Sun], start: Some("00:00".into()), end: Some("24:00".into()), ..Default::default() }],
/// };
/// let cal = FreezeCalendar::compile(&spec).unwrap();
/// // 2026-11-28 is a Saturday.
/// assert!(cal.frozen_at(1_795_860_000_000).is_some());
/// ```
#[derive(Clone, Debug)]
pub struct FreezeCalendar {
    tz: TimeZone,
    timezone: String,
    weekly: Vec<Weekly>,
    once: Vec<(i64, i64, String)>,
}

#[derive(Clone, Debug)]
struct Weekly {
    days: u8,
    start: u32,
    end: u32,
    text: String,
}

/// A problem with a freeze specification: the field (relative to the
/// `freeze` key) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FreezeProblem {
    /// `timezone` or `windows[2].start`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn day_bit(d: Weekday) -> u8 {
    1 << (d as u8)
}

fn jday_bit(d: JWeekday) -> u8 {
    // Monday = 0 … Sunday = 6, matching `Weekday`'s declaration order.
    1 << (d.to_monday_zero_offset() as u8)
}

fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    ((h < 24 && m < 60) || (h == 24 && m == 0)).then_some(h * 60 + m)
}

impl FreezeCalendar {
    /// Validates and compiles a freeze specification.
    ///
    /// # Errors
    ///
    /// The first problem found, with the field it is in.
    pub fn compile(spec: &Freeze) -> Result<FreezeCalendar, FreezeProblem> {
        let tz = TimeZone::get(&spec.timezone).map_err(|_| FreezeProblem {
            field: "timezone".into(),
            message: format!(
                "unknown time zone `{}`; expected an IANA name such as `Europe/Berlin` or `UTC`",
                spec.timezone
            ),
        })?;
        if spec.windows.is_empty() {
            return Err(FreezeProblem {
                field: "windows".into(),
                message: "a freeze needs at least one window".into(),
            });
        }
        let mut weekly = Vec::new();
        let mut once = Vec::new();
        for (i, w) in spec.windows.iter().enumerate() {
            let problem =
                |field: &str, message: String| FreezeProblem { field: format!("windows[{i}]{field}"), message };
            match (&w.start, &w.end, &w.from, &w.to) {
                (Some(start), Some(end), None, None) => {
                    let s = parse_hhmm(start)
                        .ok_or_else(|| problem(".start", format!("`{start}` is not a time of day `HH:MM`")))?;
                    let e = parse_hhmm(end).ok_or_else(|| {
                        problem(".end", format!("`{end}` is not a time of day `HH:MM` (24:00 allowed)"))
                    })?;
                    if s == e {
                        return Err(problem(".end", "the window is empty (start equals end)".into()));
                    }
                    let days = if w.days.is_empty() { 0x7f } else { w.days.iter().fold(0, |acc, d| acc | day_bit(*d)) };
                    weekly.push(Weekly { days, start: s, end: e, text: format!("{start}–{end}") });
                }
                (None, None, Some(from), Some(to)) => {
                    if !w.days.is_empty() {
                        return Err(problem(".days", "`days` applies to weekly windows, not `from`/`to`".into()));
                    }
                    let parse = |field: &str, s: &str| -> Result<i64, FreezeProblem> {
                        let dt: DateTime = s.parse().map_err(|_| {
                            problem(field, format!("`{s}` is not a civil date-time `YYYY-MM-DDTHH:MM:SS`"))
                        })?;
                        let z = dt
                            .to_zoned_datetime(tz.clone())
                            .map_err(|e| problem(field, format!("`{s}` cannot be placed in {}: {e}", spec.timezone)))?;
                        Ok(z.timestamp().as_millisecond())
                    };
                    let a = parse(".from", from)?;
                    let b = parse(".to", to)?;
                    if b <= a {
                        return Err(problem(".to", "`to` must be after `from`".into()));
                    }
                    once.push((a, b, format!("{from} – {to}")));
                }
                _ => {
                    return Err(problem(
                        "",
                        "a window has either `start` and `end` (weekly) or `from` and `to` (one-off)".into(),
                    ))
                }
            }
        }
        Ok(FreezeCalendar { tz, timezone: spec.timezone.clone(), weekly, once })
    }

    /// The window that freezes changes at `at` (Unix ms), described for people, if any.
    pub fn frozen_at(&self, at: i64) -> Option<String> {
        for (a, b, text) in &self.once {
            if *a <= at && at < *b {
                return Some(format!("{text} {}", self.timezone));
            }
        }
        let ts = Timestamp::from_millisecond(at).ok()?;
        let local = ts.to_zoned_datetime(self.tz.clone());
        let minute = local.hour() as u32 * 60 + local.minute() as u32;
        let today = jday_bit(local.weekday());
        let yesterday = jday_bit(local.weekday().previous());
        for w in &self.weekly {
            let inside = if w.start < w.end {
                w.days & today != 0 && w.start <= minute && minute < w.end
            } else {
                // Overnight window: the part after start belongs to the start day.
                (w.days & today != 0 && minute >= w.start) || (w.days & yesterday != 0 && minute < w.end)
            };
            if inside {
                return Some(format!("{} {}", w.text, self.timezone));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::action::FreezeWindow;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn weekly_window_follows_wall_clock_across_dst() {
        // 01:00–03:00 Berlin time every Sunday. 2026-03-29 is the spring-forward
        // Sunday (02:00 → 03:00 CEST), 2026-10-25 the fall-back one.
        let cal = FreezeCalendar::compile(&Freeze {
            timezone: "Europe/Berlin".into(),
            windows: vec![FreezeWindow {
                days: vec![Weekday::Sun],
                start: Some("01:00".into()),
                end: Some("03:00".into()),
                ..Default::default()
            }],
        })
        .unwrap();
        // 00:30 UTC = 01:30 CET on spring-forward day: frozen.
        assert!(cal.frozen_at(ms("2026-03-29T00:30:00Z")).is_some());
        // 01:30 UTC = 03:30 CEST: not frozen (the UTC offset moved).
        assert!(cal.frozen_at(ms("2026-03-29T01:30:00Z")).is_none());
        // A week earlier, 01:30 UTC = 02:30 CET: frozen.
        assert!(cal.frozen_at(ms("2026-03-22T01:30:00Z")).is_some());
        // Fall back: 01:30 UTC = 02:30 CET (second pass): frozen; 02:30 UTC = 03:30: not.
        assert!(cal.frozen_at(ms("2026-10-25T01:30:00Z")).is_some());
        assert!(cal.frozen_at(ms("2026-10-25T02:30:00Z")).is_none());
    }

    #[test]
    fn overnight_and_one_off_windows() {
        let cal = FreezeCalendar::compile(&Freeze {
            timezone: "UTC".into(),
            windows: vec![
                FreezeWindow {
                    days: vec![Weekday::Fri],
                    start: Some("22:00".into()),
                    end: Some("06:00".into()),
                    ..Default::default()
                },
                FreezeWindow {
                    from: Some("2026-12-24T00:00:00".into()),
                    to: Some("2026-12-27T00:00:00".into()),
                    ..Default::default()
                },
            ],
        })
        .unwrap();
        assert!(cal.frozen_at(ms("2026-11-27T23:00:00Z")).is_some()); // Friday night
        assert!(cal.frozen_at(ms("2026-11-28T05:59:00Z")).is_some()); // Saturday early
        assert!(cal.frozen_at(ms("2026-11-28T06:00:00Z")).is_none());
        assert!(cal.frozen_at(ms("2026-11-26T23:00:00Z")).is_none()); // Thursday night
        assert!(cal.frozen_at(ms("2026-12-25T12:00:00Z")).is_some());
    }

    #[test]
    fn rejects_bad_specs_with_the_field() {
        let bad_tz = Freeze { timezone: "Mars/Olympus".into(), windows: vec![] };
        assert_eq!(FreezeCalendar::compile(&bad_tz).unwrap_err().field, "timezone");
        let bad_time = Freeze {
            timezone: "UTC".into(),
            windows: vec![FreezeWindow {
                start: Some("25:00".into()),
                end: Some("26:00".into()),
                ..Default::default()
            }],
        };
        assert_eq!(FreezeCalendar::compile(&bad_time).unwrap_err().field, "windows[0].start");
    }
}
