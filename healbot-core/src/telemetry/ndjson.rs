//! HealBot's own newline-delimited JSON telemetry format.
//!
//! One JSON object per line, with a `type` of `metric`, `log`, `alert` or
//! `event`; blank lines and lines starting with `#` are skipped. Times (`at`
//! and the alert and event times) are integer Unix milliseconds or RFC 3339
//! strings. See `docs/formats-telemetry.md` for the full description.

use serde_json::{Map, Value};

use super::common::{
    check_label_pairs, check_limits, check_size, fingerprint, i64_to_f64, json_exact_i64, json_type, offset_in,
    parse_rfc3339, string_map, to_u32, truncate,
};
use super::k8s::derive_app_name;
use super::{
    Alert, AlertStatus, DropCounts, DropReason, Event, EventType, Labels, Limits, LogRecord, LogSeverity, MetricKind,
    MetricSample, ObjectRef, Observation, Parsed, RecordError, TelemetryError, Temporality,
};

/// Parses HealBot NDJSON telemetry into [`Observation`]s.
///
/// Each non-blank line not starting with `#` is one record; a malformed line
/// is a [`super::RecordError`] with its line and column (`record` is `None`),
/// and the other lines still count. The only fatal error is a payload over
/// the size limit. The records, by `type`:
///
/// - `metric`: `name`, `labels` (object of strings), `value` (a number, or
///   `"NaN"`, `"+Inf"`, `"-Inf"`; an integer also gives
///   [`MetricSample::exact`]), `at`, optional `kind` (`gauge`, `counter`,
///   `untyped`);
/// - `log`: `body`, `attributes`, optional `severity` (a name such as
///   `error`), `at`;
/// - `alert`: `name` (or `labels.alertname`), `labels`, `annotations`,
///   `status` (`firing` by default, or `resolved`), `starts_at` (or `at`),
///   optional `ends_at`, `fingerprint` (else FNV-1a 64 of the labels),
///   `generator_url`;
/// - `event`: `event_type` (`Normal` by default, or `Warning`), `reason`,
///   `message`, `object` (`kind`, `namespace`, `name`), `count` (default 1),
///   `first_at` and `last_at` (either defaults to the other, or to `at`),
///   `source`, `labels` (over the derived `namespace`, `kind`, `name`, `app`
///   and `service`).
///
/// # Example
///
/// ```
/// use healbot_core::telemetry::{parse_ndjson, Limits};
///
/// let text = b"# a comment\n\
///   {\"type\":\"metric\",\"name\":\"up\",\"labels\":{\"service\":\"db\"},\"value\":1,\"at\":1700000000000}\n\
///   \n\
///   {\"type\":\"alert\",\"name\":\"DbDown\",\"labels\":{\"service\":\"db\"},\"at\":\"2023-11-14T22:13:20Z\"}\n";
/// let parsed = parse_ndjson(text, &Limits::default()).unwrap();
/// assert_eq!(parsed.observations.len(), 2);
/// assert!(parsed.errors.is_empty());
/// ```
///
/// # Errors
///
/// [`TelemetryError::PayloadTooLarge`] only.
pub fn parse_ndjson(text: &[u8], limits: &Limits) -> Result<Parsed, TelemetryError> {
    let mut observations = Vec::new();
    let read = for_each_record(text, limits, |record| observations.push(record.into_owned()))?;
    Ok(Parsed { observations, errors: read.errors, dropped: read.dropped })
}

/// A log record of an NDJSON payload, borrowed from the payload: no string
/// and no label set is copied to read it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LogRef<'r, 't> {
    /// The message.
    pub(crate) body: &'t str,
    /// The attributes, sorted by key, keys unique (a repeated key's last value wins).
    pub(crate) attributes: &'r [(&'t str, &'t str)],
    /// The severity, when given.
    pub(crate) severity: Option<LogSeverity>,
    /// When, Unix milliseconds.
    pub(crate) at: i64,
}

impl LogRef<'_, '_> {
    /// The value of an attribute.
    pub(crate) fn attribute(&self, key: &str) -> Option<&str> {
        pair_value(self.attributes, key)
    }

    /// The record as an owned [`LogRecord`].
    pub(crate) fn to_record(self) -> LogRecord {
        LogRecord {
            body: self.body.to_string(),
            attributes: owned_labels(self.attributes),
            severity: self.severity,
            at: self.at,
        }
    }
}

/// A metric sample of an NDJSON payload, borrowed from the payload: no
/// string and no label set is copied to read it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct MetricRef<'r, 't> {
    /// The metric's name.
    pub(crate) name: &'t str,
    /// The labels, sorted by key, keys unique (a repeated key's last value wins).
    pub(crate) labels: &'r [(&'t str, &'t str)],
    /// The value.
    pub(crate) value: f64,
    /// The value as written, when it is an integer that fits `i64`.
    pub(crate) exact: Option<i64>,
    /// The metric's kind.
    pub(crate) kind: MetricKind,
    /// When, Unix milliseconds.
    pub(crate) at: i64,
}

impl MetricRef<'_, '_> {
    /// The value of a label.
    pub(crate) fn label(&self, key: &str) -> Option<&str> {
        pair_value(self.labels, key)
    }

    /// The sample as an owned [`MetricSample`].
    pub(crate) fn to_record(self) -> MetricSample {
        MetricSample {
            name: self.name.to_string(),
            labels: owned_labels(self.labels),
            value: self.value,
            exact: self.exact,
            kind: self.kind,
            at: self.at,
        }
    }
}

/// The value of `key` among `pairs` (sorted by key, keys unique).
fn pair_value<'t>(pairs: &[(&'t str, &'t str)], key: &str) -> Option<&'t str> {
    let i = pairs.binary_search_by(|(k, _)| (*k).cmp(key)).ok()?;
    pairs.get(i).map(|(_, v)| *v)
}

/// `pairs` (sorted by key, keys unique) as an owned label set.
fn owned_labels(pairs: &[(&str, &str)]) -> Labels {
    Labels(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// One good record of an NDJSON payload, as [`for_each_record`] hands it over.
#[derive(Debug)]
pub(crate) enum Record<'r, 't> {
    /// A log record in the common shape (see [`fast_record`]), borrowed.
    Log(LogRef<'r, 't>),
    /// A metric sample in the common shape (see [`fast_record`]), borrowed.
    Metric(MetricRef<'r, 't>),
    /// Any other record, parsed into an owned observation.
    Owned(Observation),
}

impl Record<'_, '_> {
    /// The record as an owned observation.
    pub(crate) fn into_owned(self) -> Observation {
        match self {
            Record::Log(l) => Observation::Log(l.to_record()),
            Record::Metric(m) => Observation::Metric(m.to_record()),
            Record::Owned(o) => o,
        }
    }
}

/// What [`for_each_record`] found besides the good records.
#[derive(Debug, Default)]
pub(crate) struct Read {
    /// Good records handed over (the [`Parsed::observations`] they make).
    pub(crate) records: usize,
    /// Every malformed record, in payload order.
    pub(crate) errors: Vec<RecordError>,
    /// Well-formed records dropped by a limit, by reason.
    pub(crate) dropped: DropCounts,
}

impl Read {
    /// Whether a record dropped by `reason` (if any) is kept: applies
    /// [`Limits::max_records`] first, as the other parsers' `Sink` does.
    fn admit(&mut self, limits: &Limits, reason: impl FnOnce() -> Option<DropReason>) -> bool {
        if self.records >= limits.max_records {
            self.dropped.add(DropReason::TooManyRecords);
            return false;
        }
        if let Some(reason) = reason() {
            self.dropped.add(reason);
            return false;
        }
        self.records += 1;
        true
    }
}

/// Reads HealBot NDJSON as [`parse_ndjson`] does, handing each good record
/// to `f` in payload order instead of collecting them: log records in the
/// common shape are borrowed from `text` ([`Record::Log`]), so ingesting
/// them copies nothing. Errors, drops and limits are exactly
/// [`parse_ndjson`]'s (which is this function collecting owned records).
pub(crate) fn for_each_record<'t>(
    text: &'t [u8],
    limits: &Limits,
    mut f: impl FnMut(Record<'_, 't>),
) -> Result<Read, TelemetryError> {
    check_size(text, limits)?;
    let mut read = Read::default();
    // The attributes of the current borrowed log record, reused.
    let mut attributes: Vec<(&'t str, &'t str)> = Vec::new();
    let mut shape = Shape::default();
    // Checked once for the whole payload when it is UTF-8 (the usual case,
    // and a fast check on ASCII); line by line otherwise, to say which.
    let whole = std::str::from_utf8(text).ok();
    for (i, (from, to)) in memchr::memchr_iter(b'\n', text)
        .chain([text.len()])
        .scan(0, |start, end| {
            let range = (*start, end);
            *start = end + 1;
            Some(range)
        })
        .enumerate()
    {
        let line_no = to_u32(i + 1);
        let raw_line = text.get(from..to).unwrap_or_default();
        // A line of a UTF-8 payload ends at a newline or the end: a boundary.
        let line = match whole.and_then(|w| w.get(from..to)).map_or_else(|| std::str::from_utf8(raw_line), Ok) {
            Ok(l) => l,
            Err(e) => {
                let good = raw_line.get(..e.valid_up_to()).and_then(|g| std::str::from_utf8(g).ok()).unwrap_or("");
                read.errors.push(RecordError {
                    line: line_no,
                    column: to_u32(good.chars().count() + 1),
                    record: None,
                    message: "the line is not valid UTF-8".to_string(),
                });
                continue;
            }
        };
        // A line laid out as the last one read the borrowed way is read by
        // its layout; any other, the borrowed way (which learns its layout).
        let fields = shape.read(line, &mut attributes).or_else(|| shape.learn(line, &mut attributes));
        match fields {
            Some(Fields::Log { body, severity, at }) => {
                let log = LogRef { body, attributes: &attributes, severity, at };
                if read.admit(limits, || log_limits(&log, limits)) {
                    f(Record::Log(log));
                }
                continue;
            }
            Some(Fields::Metric { name, value, exact, kind, at }) => {
                let labels: &[(&str, &str)] = &attributes;
                if read.admit(limits, || check_label_pairs(labels.len(), labels.iter().copied(), limits)) {
                    f(Record::Metric(MetricRef { name, labels, value, exact, kind, at }));
                }
                continue;
            }
            None => {}
        }
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let value: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                let off = offset_in(line, e.line(), e.column());
                let col = line.get(..off).map_or(0, |s| s.chars().count());
                let message = super::common::strip_position(&e);
                read.errors.push(RecordError { line: line_no, column: to_u32(col + 1), record: None, message });
                continue;
            }
        };
        // The column of the first non-blank character: where the record starts.
        let col = to_u32(line.chars().take_while(|c| c.is_whitespace()).count() + 1);
        match record(&value) {
            Ok(obs) => {
                if read.admit(limits, || check_limits(&obs, limits)) {
                    f(Record::Owned(obs));
                }
            }
            Err(message) => read.errors.push(RecordError { line: line_no, column: col, record: None, message }),
        }
    }
    Ok(read)
}

/// Why a limit drops a borrowed log record, as [`check_limits`] says for its owned form.
fn log_limits(log: &LogRef<'_, '_>, limits: &Limits) -> Option<DropReason> {
    check_label_pairs(log.attributes.len(), log.attributes.iter().copied(), limits)
        .or_else(|| (log.body.len() > limits.max_log_line_len).then_some(DropReason::LogLineTooLong))
}

/// The values of a record read the borrowed way; its attributes (or
/// labels) go to a buffer of the caller's.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fields<'a> {
    Log { body: &'a str, severity: Option<LogSeverity>, at: i64 },
    Metric { name: &'a str, value: f64, exact: Option<i64>, kind: MetricKind, at: i64 },
}

/// What [`fast_record`] read of a line, before it checks that the members
/// make a record of the line's `type`.
#[derive(Default)]
struct Members<'a> {
    /// `Some(true)` for a log, `Some(false)` for a metric.
    log: Option<bool>,
    body: Option<&'a str>,
    severity: Option<Option<LogSeverity>>,
    name: Option<&'a str>,
    value: Option<(f64, Option<i64>)>,
    kind: Option<MetricKind>,
    at: Option<i64>,
    /// Which of `attributes` and `labels` gave the pairs.
    pairs: Option<Key>,
}

impl<'a> Members<'a> {
    /// Files a value read for its slot (an attribute's or label's in
    /// `attributes`); `None` if the value is not of the slot's kind.
    fn set(&mut self, (slot, value): (Slot<'a>, Scalar<'a>), attributes: &mut Vec<(&'a str, &'a str)>) -> Option<()> {
        match (slot, value) {
            (Slot::Body, Scalar::Str(s)) => self.body = Some(s),
            (Slot::Name, Scalar::Str(s)) => self.name = Some(s),
            (Slot::Severity, Scalar::Severity(s)) => self.severity = Some(Some(s)),
            (Slot::Kind, Scalar::Kind(k)) => self.kind = Some(k),
            (Slot::Value, Scalar::Number(v, exact)) => self.value = Some((v, exact)),
            (Slot::Attribute(k), Scalar::Str(v)) => attributes.push((k, v)),
            (Slot::At, Scalar::At(t)) => self.at = Some(t),
            _ => return None,
        }
        Some(())
    }

    /// The record, if the members make one of the line's type: a log has
    /// a body and a time and no metric member; a metric has a non-empty
    /// name, a value and a time and no log member.
    fn record(&self) -> Option<Fields<'a>> {
        let log = self.log?;
        let consistent = if log {
            self.name.is_none() && self.value.is_none() && self.kind.is_none() && self.pairs != Some(Key::Labels)
        } else {
            self.body.is_none() && self.severity.is_none() && self.pairs != Some(Key::Attributes)
        };
        consistent.then(|| self.fields(log))?
    }

    /// The record of the members' values, as a log or a metric (the
    /// members already known to be of that type only).
    fn fields(&self, log: bool) -> Option<Fields<'a>> {
        if log {
            return Some(Fields::Log { body: self.body?, severity: self.severity.flatten(), at: self.at? });
        }
        let (value, exact) = self.value?;
        Some(Fields::Metric {
            name: self.name.filter(|n| !n.is_empty())?,
            value,
            exact,
            kind: self.kind.unwrap_or(MetricKind::Untyped),
            at: self.at?,
        })
    }
}

/// Reads a line holding a log record or a metric sample in the common
/// shape without building a JSON tree or copying a string: one flat JSON
/// object whose keys are `type` (`"log"` or `"metric"`) and `at` (a
/// non-negative integer or an RFC 3339 string), and for a log `body`, and
/// optionally `severity` (a known name, or null) and `attributes` (an
/// object of strings, or null); for a metric a non-empty `name`, `value` (a
/// number, or `"NaN"`, `"+Inf"`, `"Inf"`, `"-Inf"`), and optionally `kind`
/// (`gauge`, `counter`, `untyped`, or null) and `labels` (as `attributes`);
/// each at most once, with no string holding an escape. `attributes`
/// receives the attributes or labels, sorted by key with unique keys;
/// `holes`, where each value it read lies in the line (for [`Shape`]).
///
/// `None` for any other line, which is then read the general way; every
/// line this accepts is valid JSON that the general way reads to the same
/// record, so the result never depends on which way read it.
fn fast_record<'a>(
    line: &'a str,
    attributes: &mut Vec<(&'a str, &'a str)>,
    holes: &mut Vec<Hole<'a>>,
) -> Option<Fields<'a>> {
    attributes.clear();
    holes.clear();
    let mut c = Cursor { text: line, at: 0 };
    c.eat(b'{')?;
    let mut m = Members::default();
    loop {
        let key = c.key()?;
        c.eat(b':')?;
        match key {
            Key::Type if m.log.is_none() => {
                m.log = Some(if c.literal(b"\"log\"") {
                    true
                } else if c.literal(b"\"metric\"") {
                    false
                } else {
                    match c.string()? {
                        "log" => true,
                        "metric" => false,
                        _ => return None,
                    }
                });
            }
            Key::Body if m.body.is_none() => m.set(c.hole(holes, Slot::Body)?, attributes)?,
            Key::Name if m.name.is_none() => m.set(c.hole(holes, Slot::Name)?, attributes)?,
            Key::Value if m.value.is_none() => m.set(c.hole(holes, Slot::Value)?, attributes)?,
            // A null severity or kind is no value: part of the layout, as a key is.
            Key::Severity if m.severity.is_none() && c.peek()? == b'n' => {
                c.null()?;
                m.severity = Some(None);
            }
            Key::Severity if m.severity.is_none() => m.set(c.hole(holes, Slot::Severity)?, attributes)?,
            Key::Kind if m.kind.is_none() && c.peek()? == b'n' => {
                c.null()?;
                m.kind = Some(MetricKind::Untyped);
            }
            Key::Kind if m.kind.is_none() => m.set(c.hole(holes, Slot::Kind)?, attributes)?,
            Key::Attributes | Key::Labels if m.pairs.is_none() => {
                m.pairs = Some(key);
                if c.peek()? == b'n' {
                    c.null()?;
                } else {
                    c.eat(b'{')?;
                    if c.peek()? == b'}' {
                        c.at += 1;
                    } else {
                        loop {
                            let k = c.string()?;
                            c.eat(b':')?;
                            let value = c.hole(holes, Slot::Attribute(k))?;
                            m.set(value, attributes)?;
                            if !c.next_member()? {
                                break;
                            }
                        }
                    }
                }
            }
            Key::At if m.at.is_none() => m.set(c.hole(holes, Slot::At)?, attributes)?,
            _ => return None,
        }
        if !c.next_member()? {
            break;
        }
    }
    c.skip_blank();
    if c.at != line.len() {
        return None;
    }
    let fields = m.record()?;
    sort_attributes(attributes);
    Some(fields)
}

/// Sorted by key, the last of a repeated key kept (as `Labels` does); one
/// attribute, the usual case, is both already.
fn sort_attributes(attributes: &mut Vec<(&str, &str)>) {
    if attributes.len() > 1 {
        attributes.reverse();
        attributes.sort_by(|a, b| a.0.cmp(b.0));
        attributes.dedup_by(|later, kept| later.0 == kept.0);
    }
}

/// Which value of a record a [`Hole`] holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot<'a> {
    Body,
    Severity,
    /// The value of the attribute (or label) of this key.
    Attribute(&'a str),
    At,
    Name,
    Value,
    Kind,
}

/// A value of a line read the borrowed way: what it is and where it lies
/// (`start..end`, from its first byte to just past its last).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Hole<'a> {
    slot: Slot<'a>,
    start: usize,
    end: usize,
}

/// A value read by [`Cursor::value`].
#[derive(Clone, Copy, Debug)]
enum Scalar<'a> {
    Str(&'a str),
    Severity(LogSeverity),
    At(i64),
    /// A metric's value, and the integer it was written as, if one.
    Number(f64, Option<i64>),
    Kind(MetricKind),
}

/// The layout of the last line read the borrowed way: that line, and where
/// its values lie in it.
///
/// A shipper writes every record of a batch the same way: same members in
/// the same order, same spacing, often the same attributes, only the values
/// differ. A line that matches the layout byte for byte outside the values
/// is read by comparing those runs of bytes and reading only the values, each
/// the way [`fast_record`] reads it; so it reads to what `fast_record` would, at
/// a fraction of the cost (every key, colon, comma and blank is then one
/// comparison of a run instead of a step of the parser each).
#[derive(Debug, Default)]
struct Shape<'a> {
    /// The line the layout was learnt from; empty when there is none.
    line: &'a str,
    holes: Vec<Hole<'a>>,
    /// Where the parser records a line's holes before they replace `holes`.
    spare: Vec<Hole<'a>>,
    /// Whether the line is a log record (else a metric sample).
    log: bool,
}

impl<'a> Shape<'a> {
    /// Reads `line` by the layout, or `None` if it does not follow it.
    fn read(&self, line: &'a str, attributes: &mut Vec<(&'a str, &'a str)>) -> Option<Fields<'a>> {
        let (old, new) = (self.line.as_bytes(), line.as_bytes());
        if old.is_empty() {
            return None;
        }
        attributes.clear();
        let mut m = Members::default();
        let mut c = Cursor { text: line, at: 0 };
        let mut from = 0;
        for hole in &self.holes {
            let same = old.get(from..hole.start)?;
            if new.get(c.at..)?.get(..same.len())? != same {
                return None;
            }
            c.at += same.len();
            m.set((hole.slot, c.value(hole.slot)?), attributes)?;
            from = hole.end;
        }
        let (rest, same) = (new.get(c.at..)?, old.get(from..)?);
        if rest != same {
            return None;
        }
        // The members outside the holes are the learnt line's (a null
        // severity or kind, the pairs' key), which made a record of its
        // type: only the values need checking.
        let fields = m.fields(self.log)?;
        sort_attributes(attributes);
        Some(fields)
    }

    /// Reads `line` the borrowed way, keeping its layout when it is read
    /// (and the last one otherwise: a metric or alert among the log lines
    /// of a batch does not lose it).
    fn learn(&mut self, line: &'a str, attributes: &mut Vec<(&'a str, &'a str)>) -> Option<Fields<'a>> {
        let fields = fast_record(line, attributes, &mut self.spare)?;
        std::mem::swap(&mut self.holes, &mut self.spare);
        self.line = line;
        self.log = matches!(fields, Fields::Log { .. });
        Some(fields)
    }
}

/// The value of eight ASCII digits (first digit in the lowest byte), or
/// `None` if any byte is not one: the classic SWAR conversion, three
/// multiplications for the eight instead of one per digit.
#[inline]
fn eight_digits(chunk: [u8; 8]) -> Option<u64> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    let w = u64::from_le_bytes(chunk);
    // Every byte is 0x30..=0x39: its high nibble is 3, and adding 6 keeps it so.
    if w & HIGH_NIBBLES != ZEROS || w.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES != ZEROS {
        return None;
    }
    let v = w - ZEROS;
    // Pairs, then quadruples, then the eight.
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let mask = 0x0000_00FF_0000_00FF;
    let v = (v & mask)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & mask).wrapping_mul(1 + (10_000 << 32)))
        >> 32;
    Some(v)
}

/// The position of the first `"`, `\\` or control character of `bytes`,
/// eight bytes at a time (these strings are too short for a vector search
/// to pay off).
fn string_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `w` below `n` (exact up to the first such byte).
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    let mut start = 0;
    for chunk in chunks.by_ref() {
        let w = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).ok()?);
        let hits = below(w ^ (ONES * u64::from(b'"')), 1) | below(w ^ (ONES * u64::from(b'\\')), 1) | below(w, 0x20);
        if hits != 0 {
            return Some(start + (hits.trailing_zeros() / 8) as usize);
        }
        start += 8;
    }
    let tail = chunks.remainder().iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
    Some(start + tail)
}

/// The member names [`fast_record`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Type,
    Body,
    Severity,
    Attributes,
    At,
    Name,
    Value,
    Kind,
    Labels,
    Other,
}

/// The member names as they appear in the line, quoted: most records spell
/// them plainly, so they are compared in place, not read as strings first.
const KEYS: [(&[u8], Key); 9] = [
    (b"\"type\"", Key::Type),
    (b"\"body\"", Key::Body),
    (b"\"at\"", Key::At),
    (b"\"attributes\"", Key::Attributes),
    (b"\"severity\"", Key::Severity),
    (b"\"name\"", Key::Name),
    (b"\"value\"", Key::Value),
    (b"\"kind\"", Key::Kind),
    (b"\"labels\"", Key::Labels),
];

/// A position in a line, for [`fast_record`].
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    /// Skips JSON whitespace.
    #[inline]
    fn skip_blank(&mut self) {
        while matches!(self.text.as_bytes().get(self.at), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.at += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.skip_blank();
        self.text.as_bytes().get(self.at).copied()
    }

    /// Consumes `byte` after whitespace.
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// After an object member: `true` at a `,` (another member follows),
    /// `false` at the closing `}`; both consumed.
    fn next_member(&mut self) -> Option<bool> {
        let more = match self.peek()? {
            b',' => true,
            b'}' => false,
            _ => return None,
        };
        self.at += 1;
        Some(more)
    }

    /// `null`.
    fn null(&mut self) -> Option<()> {
        self.skip_blank();
        let end = self.at + 4;
        (self.text.as_bytes().get(self.at..end)? == b"null").then(|| self.at = end)
    }

    /// Consumes `quoted` after whitespace if the line goes on with it.
    fn literal(&mut self, quoted: &[u8]) -> bool {
        self.skip_blank();
        let found = self.text.as_bytes().get(self.at..).is_some_and(|rest| rest.starts_with(quoted));
        if found {
            self.at += quoted.len();
        }
        found
    }

    /// A member name: one of [`KEYS`] written plainly, else any string
    /// (an escaped spelling of a known name reads as `Other`, and the line
    /// goes the general way, as it did when names were read as strings).
    fn key(&mut self) -> Option<Key> {
        self.skip_blank();
        // The name's first letter picks the one or two names to compare.
        let first = self.text.as_bytes().get(self.at + 1).copied();
        let known = KEYS.iter().filter(|(quoted, _)| quoted.get(1).copied() == first);
        for &(quoted, key) in known {
            if self.text.as_bytes().get(self.at..).is_some_and(|rest| rest.starts_with(quoted)) {
                self.at += quoted.len();
                return Some(key);
            }
        }
        self.string().map(|_| Key::Other)
    }

    /// The value of `slot`, read as [`Cursor::value`] reads it and recorded
    /// in `holes`, with its slot.
    fn hole(&mut self, holes: &mut Vec<Hole<'a>>, slot: Slot<'a>) -> Option<(Slot<'a>, Scalar<'a>)> {
        self.skip_blank();
        let start = self.at;
        let value = self.value(slot)?;
        holes.push(Hole { slot, start, end: self.at });
        Some((slot, value))
    }

    /// The value of `slot`: a string (body, name, attribute or label), a
    /// known severity's name, a time (a non-negative integer or an RFC 3339
    /// string), a metric's value or a metric kind's name.
    #[inline]
    fn value(&mut self, slot: Slot<'a>) -> Option<Scalar<'a>> {
        match slot {
            Slot::Body | Slot::Name | Slot::Attribute(_) => self.string().map(Scalar::Str),
            Slot::Severity => self.string()?.parse().ok().map(Scalar::Severity),
            Slot::At => match self.peek()? {
                b'"' => parse_rfc3339(self.string()?).ok().map(Scalar::At),
                _ => self.non_negative_integer().map(Scalar::At),
            },
            Slot::Value => self.metric_value(),
            Slot::Kind => match self.string()? {
                "untyped" => Some(Scalar::Kind(MetricKind::Untyped)),
                "gauge" => Some(Scalar::Kind(MetricKind::Gauge)),
                "counter" => {
                    Some(Scalar::Kind(MetricKind::Sum { monotonic: true, temporality: Temporality::Cumulative }))
                }
                _ => None,
            },
        }
    }

    /// A metric's value as the general way reads it: a JSON number (read by
    /// `serde_json` itself, so that every number reads to the same `f64`,
    /// and an integer that fits `i64` is kept exact), or one of the strings
    /// `NaN`, `+Inf`, `Inf`, `-Inf`.
    fn metric_value(&mut self) -> Option<Scalar<'a>> {
        if self.peek()? == b'"' {
            let v = match self.string()? {
                "NaN" => f64::NAN,
                "+Inf" | "Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                _ => return None,
            };
            return Some(Scalar::Number(v, None));
        }
        let rest = self.text.as_bytes().get(self.at..)?;
        let len = rest.iter().take_while(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')).count();
        let n: serde_json::Number = serde_json::from_str(self.text.get(self.at..self.at + len)?).ok()?;
        self.at += len;
        Some(match json_exact_i64(&n) {
            Some(i) => Scalar::Number(i64_to_f64(i), Some(i)),
            None => Scalar::Number(n.as_f64()?, None),
        })
    }

    /// A string with no escape and no control character, borrowed.
    #[inline]
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let rest = self.text.as_bytes().get(start..)?;
        let len = string_end(rest)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        self.at = start + len + 1;
        self.text.get(start..start + len)
    }

    /// A JSON integer that fits `i64`, without a sign, fraction or exponent
    /// (those make the member's end unexpected).
    fn non_negative_integer(&mut self) -> Option<i64> {
        self.skip_blank();
        let run = self.text.as_bytes().get(self.at..)?;
        let digit = |i: usize| run.get(i).map(|b| b.wrapping_sub(b'0')).filter(|d| *d <= 9);
        match digit(0)? {
            // A leading zero is the whole number (a digit after it ends the member unexpectedly).
            0 => {
                self.at += 1;
                Some(0)
            }
            first => {
                // Up to 18 digits make at most 10^18 - 1: no overflow, so
                // one pass reads and sums them (eight at a time while it
                // can); checked after that.
                let mut n = i64::from(first);
                let mut len = 1;
                while let Some(eight) = run.get(len..).and_then(<[u8]>::first_chunk::<8>).filter(|_| len <= 10) {
                    let Some(v) = eight_digits(*eight) else { break };
                    n = n * 100_000_000 + v as i64;
                    len += 8;
                }
                while let Some(d) = digit(len) {
                    n = if len < 18 { n * 10 + i64::from(d) } else { n.checked_mul(10)?.checked_add(i64::from(d))? };
                    len += 1;
                }
                self.at += len;
                Some(n)
            }
        }
    }
}

fn record(value: &Value) -> Result<Observation, String> {
    let Value::Object(obj) = value else {
        return Err(format!("a record must be a JSON object, found {}", json_type(value)));
    };
    let ty = str_field(obj, "type")?.ok_or("missing `type` (metric, log, alert or event)")?;
    match ty {
        "metric" => metric(obj).map(Observation::Metric),
        "log" => log(obj).map(Observation::Log),
        "alert" => alert(obj).map(Observation::Alert),
        "event" => event(obj).map(Observation::Event),
        other => Err(format!("unknown `type` `{}`, expected metric, log, alert or event", truncate(other, 40))),
    }
}

fn str_field<'v>(obj: &'v Map<String, Value>, field: &str) -> Result<Option<&'v str>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("`{field}` must be a string, found {}", json_type(other))),
    }
}

fn labels_field(obj: &Map<String, Value>, field: &str) -> Result<Labels, String> {
    obj.get(field).map_or(Ok(Labels::new()), |v| string_map(v, field))
}

/// A time: integer milliseconds or an RFC 3339 string.
fn time_field(obj: &Map<String, Value>, field: &str) -> Result<Option<i64>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("`{field}` must be integer Unix milliseconds or an RFC 3339 string, found {n}")),
        Some(Value::String(s)) => parse_rfc3339(s).map(Some).map_err(|e| format!("`{field}`: {e}")),
        Some(other) => Err(format!(
            "`{field}` must be integer Unix milliseconds or an RFC 3339 string, found {}",
            json_type(other)
        )),
    }
}

fn required_time(obj: &Map<String, Value>, field: &str) -> Result<i64, String> {
    time_field(obj, field)?.ok_or_else(|| format!("missing `{field}`"))
}

fn metric(obj: &Map<String, Value>) -> Result<MetricSample, String> {
    let name = str_field(obj, "name")?.filter(|n| !n.is_empty()).ok_or("missing `name`")?;
    let (value, exact) = match obj.get("value") {
        Some(Value::Number(n)) => match json_exact_i64(n) {
            Some(i) => (i64_to_f64(i), Some(i)),
            None => (n.as_f64().ok_or("`value` is not a number")?, None),
        },
        Some(Value::String(s)) => match s.as_str() {
            "NaN" => (f64::NAN, None),
            "+Inf" | "Inf" => (f64::INFINITY, None),
            "-Inf" => (f64::NEG_INFINITY, None),
            _ => return Err("`value` must be a number, or \"NaN\", \"+Inf\" or \"-Inf\"".to_string()),
        },
        None | Some(Value::Null) => return Err("missing `value`".to_string()),
        Some(other) => return Err(format!("`value` must be a number, found {}", json_type(other))),
    };
    let kind = match str_field(obj, "kind")? {
        None | Some("untyped") => MetricKind::Untyped,
        Some("gauge") => MetricKind::Gauge,
        Some("counter") => MetricKind::Sum { monotonic: true, temporality: Temporality::Cumulative },
        Some(other) => {
            return Err(format!("unknown metric `kind` `{}`, expected gauge, counter or untyped", truncate(other, 40)))
        }
    };
    Ok(MetricSample {
        name: name.to_string(),
        labels: labels_field(obj, "labels")?,
        value,
        exact,
        kind,
        at: required_time(obj, "at")?,
    })
}

fn log(obj: &Map<String, Value>) -> Result<LogRecord, String> {
    let body = str_field(obj, "body")?.ok_or("missing `body`")?;
    let severity = match str_field(obj, "severity")? {
        None => None,
        Some(s) => Some(s.parse::<LogSeverity>()?),
    };
    Ok(LogRecord {
        body: body.to_string(),
        attributes: labels_field(obj, "attributes")?,
        severity,
        at: required_time(obj, "at")?,
    })
}

fn alert(obj: &Map<String, Value>) -> Result<Alert, String> {
    let mut labels = labels_field(obj, "labels")?;
    let name = match str_field(obj, "name")?.filter(|n| !n.is_empty()) {
        Some(n) => n.to_string(),
        None => labels
            .get("alertname")
            .filter(|n| !n.is_empty())
            .ok_or("missing `name` (or `labels.alertname`)")?
            .to_string(),
    };
    labels.insert("alertname", name.clone());
    let status = match str_field(obj, "status")? {
        None | Some("firing") => AlertStatus::Firing,
        Some("resolved") => AlertStatus::Resolved,
        Some(other) => return Err(format!("unknown `status` `{}`, expected firing or resolved", truncate(other, 40))),
    };
    let starts_at = match time_field(obj, "starts_at")? {
        Some(t) => t,
        None => required_time(obj, "at").map_err(|_| "missing `starts_at` (or `at`)".to_string())?,
    };
    let fingerprint = match str_field(obj, "fingerprint")?.filter(|f| !f.is_empty()) {
        Some(f) => f.to_string(),
        None => fingerprint(&labels),
    };
    Ok(Alert {
        name,
        labels,
        annotations: labels_field(obj, "annotations")?,
        status,
        starts_at,
        ends_at: time_field(obj, "ends_at")?,
        fingerprint,
        generator_url: str_field(obj, "generator_url")?.map(str::to_string),
    })
}

fn event(obj: &Map<String, Value>) -> Result<Event, String> {
    let event_type = match str_field(obj, "event_type")? {
        None | Some("Normal") => EventType::Normal,
        Some("Warning") => EventType::Warning,
        Some(other) => {
            return Err(format!("unknown `event_type` `{}`, expected Normal or Warning", truncate(other, 40)))
        }
    };
    let object = match obj.get("object") {
        Some(Value::Object(o)) => {
            let kind = str_field(o, "kind")?.unwrap_or_default().to_string();
            let namespace = str_field(o, "namespace")?.unwrap_or_default().to_string();
            let name = str_field(o, "name")?.filter(|n| !n.is_empty()).ok_or("missing `object.name`")?.to_string();
            ObjectRef { kind, namespace, name }
        }
        None | Some(Value::Null) => return Err("missing `object`".to_string()),
        Some(other) => return Err(format!("`object` must be an object, found {}", json_type(other))),
    };
    let at = time_field(obj, "at")?;
    let first = time_field(obj, "first_at")?;
    let last = time_field(obj, "last_at")?;
    let (first_at, last_at) = match (first.or(last).or(at), last.or(at).or(first)) {
        (Some(f), Some(l)) => (f, l),
        _ => return Err("missing `first_at`, `last_at` or `at`".to_string()),
    };
    let count = match obj.get("count") {
        None | Some(Value::Null) => 1,
        Some(Value::Number(n)) => n.as_u64().ok_or("`count` must be a non-negative integer")?.max(1),
        Some(other) => return Err(format!("`count` must be an integer, found {}", json_type(other))),
    };
    let app = derive_app_name(&object.kind, &object.name);
    let mut labels = Labels::new();
    if !object.namespace.is_empty() {
        labels.insert("namespace", object.namespace.clone());
    }
    if !object.kind.is_empty() {
        labels.insert("kind", object.kind.clone());
    }
    labels.insert("name", object.name.clone());
    labels.insert("app", app.clone());
    labels.insert("service", app);
    for (k, v) in labels_field(obj, "labels")?.iter() {
        labels.insert(k, v);
    }
    Ok(Event {
        event_type,
        reason: str_field(obj, "reason")?.unwrap_or_default().to_string(),
        message: str_field(obj, "message")?.unwrap_or_default().to_string(),
        object,
        count,
        first_at,
        last_at,
        source: str_field(obj, "source")?.map(str::to_string),
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STREAM: &str = r#"# HealBot NDJSON
{"type":"metric","name":"db_connections","labels":{"service":"postgres","pool":"main"},"value":9007199254740993,"at":1700000000000,"kind":"gauge"}
{"type":"metric","name":"latency","labels":{},"value":0.25,"at":"2023-11-14T22:13:20.5Z"}

{"type":"log","body":"FATAL: too many connections","attributes":{"service":"postgres"},"severity":"fatal","at":1700000000001}
{"type":"alert","name":"PostgresDown","labels":{"service":"postgres","severity":"page"},"annotations":{"summary":"db down"},"status":"firing","starts_at":"2023-11-14T22:13:20Z","generator_url":"http://x"}
{"type":"event","event_type":"Warning","reason":"BackOff","message":"restarting","object":{"kind":"Pod","namespace":"shop","name":"checkout-7d9f8c-abcde"},"count":3,"first_at":1699999999000,"last_at":1700000000000,"source":"kubelet"}
  {"type":"metric","name":"x","value":1}
{"type":"metric","name":"x","value":1,"at":1.5}
{"type":"log","body":"x","at":1,"severity":"loud"}
{"type":"trace","at":1}
{"type":"metric",,}
[1,2]
{"type":"alert","labels":{"service":"x"},"at":1}
{"type":"metric","name":"x","labels":{"a":1},"value":1,"at":1}
"#;

    #[test]
    fn realistic_stream() {
        let p = parse_ndjson(STREAM.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(p.observations.len(), 5, "{:#?}", p.errors);
        let Observation::Metric(m) = &p.observations[0] else { panic!() };
        assert_eq!(m.exact, Some(9_007_199_254_740_993));
        assert_eq!(m.kind, MetricKind::Gauge);
        assert_eq!(p.observations[1].at(), 1_700_000_000_500);
        let Observation::Log(l) = &p.observations[2] else { panic!() };
        assert_eq!(l.severity, Some(LogSeverity::Fatal));
        let Observation::Alert(a) = &p.observations[3] else { panic!() };
        assert_eq!(a.labels.get("alertname"), Some("PostgresDown"));
        assert_eq!(a.fingerprint, fingerprint(&a.labels));
        assert_eq!(a.starts_at, 1_700_000_000_000);
        let Observation::Event(e) = &p.observations[4] else { panic!() };
        assert_eq!(e.labels.get("app"), Some("checkout"));
        assert_eq!(e.count, 3);
        let pos: Vec<(u32, u32)> = p.errors.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(pos, [(8, 3), (9, 1), (10, 1), (11, 1), (12, 18), (13, 1), (14, 1), (15, 1)], "{:#?}", p.errors);
        assert!(p.errors[0].message.contains("`at`"));
        assert!(p.errors.iter().all(|e| e.record.is_none()));
    }

    #[test]
    fn limits() {
        let l = Limits { max_log_line_len: 5, max_label_pairs: 1, ..Limits::default() };
        let p = parse_ndjson(STREAM.as_bytes(), &l).unwrap();
        // The log has one attribute but a long body.
        assert_eq!(p.dropped.log_line_too_long, 1);
        // db_connections (2 labels), the alert (3 with alertname), the event (5 derived).
        assert_eq!(p.dropped.too_many_labels, 3, "{:?}", p.dropped);
        assert_eq!(p.observations.len(), 1);
    }

    /// The general way of reading one line, as before the borrowed way existed.
    fn slow(line: &str) -> Option<Result<Observation, String>> {
        let value: Value = serde_json::from_str(line).ok()?;
        Some(record(&value))
    }

    /// A line read the borrowed way: the observation it hands over, and
    /// why `limits` would drop it.
    fn borrowed(line: &str, limits: &Limits) -> Option<(Observation, Option<DropReason>)> {
        let mut attrs = Vec::new();
        Some(match fast_record(line, &mut attrs, &mut Vec::new())? {
            Fields::Log { body, severity, at } => {
                let log = LogRef { body, attributes: &attrs, severity, at };
                (Observation::Log(log.to_record()), log_limits(&log, limits))
            }
            Fields::Metric { name, value, exact, kind, at } => {
                let metric = MetricRef { name, labels: &attrs, value, exact, kind, at };
                (Observation::Metric(metric.to_record()), check_label_pairs(attrs.len(), attrs.iter().copied(), limits))
            }
        })
    }

    type Read<'a> = (Fields<'a>, Vec<(&'a str, &'a str)>);

    /// `line` read by the layout of `learnt` (`None` if `learnt` is not
    /// read the borrowed way or `line` does not follow its layout).
    fn by_layout<'a>(learnt: &'a str, line: &'a str) -> Option<Read<'a>> {
        let (mut shape, mut attrs) = (Shape::default(), Vec::new());
        shape.learn(learnt, &mut attrs)?;
        let fields = shape.read(line, &mut attrs)?;
        Some((fields, attrs))
    }

    /// `line` read the borrowed way, as [`by_layout`] returns it.
    fn by_parser(line: &str) -> Option<Read<'_>> {
        let mut attrs = Vec::new();
        let fields = fast_record(line, &mut attrs, &mut Vec::new())?;
        Some((fields, attrs))
    }

    /// Every line the borrowed way reads, the general way reads to the same record.
    fn check_same(line: &str) -> bool {
        let limits = Limits { max_label_pairs: 2, max_label_value_len: 3, max_log_line_len: 4, ..Limits::default() };
        let Some((fast, fast_limit)) = borrowed(line, &limits) else {
            return false;
        };
        match slow(line) {
            Some(Ok(obs)) => {
                // Debug text, so that a NaN value equals itself.
                assert_eq!(format!("{obs:?}"), format!("{fast:?}"), "{line}");
                assert_eq!(check_limits(&obs, &limits), fast_limit, "{line}");
            }
            other => panic!("the borrowed way read {line:?}, the general way gave {other:?}"),
        }
        true
    }

    #[test]
    fn string_ends_at_the_first_quote_backslash_or_control_character() {
        for len in 0..20 {
            for stop in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                let mut bytes = vec![b'a'; len];
                bytes.extend([stop, b'"', b'\\', 0x01]);
                assert_eq!(string_end(&bytes), Some(len), "{len} {stop}");
            }
            // Bytes just past the searched ones, and multi-byte characters, are not stops.
            let plain: Vec<u8> = "!]~ \u{7f}é€😀".bytes().cycle().take(len).collect();
            assert_eq!(string_end(&plain), None);
        }
    }

    #[test]
    fn common_log_lines_are_borrowed() {
        for line in [
            r#"{"type": "log", "body": "dial: connection refused", "attributes": {"service": "svc-0-1"}, "at": 1700000000000}"#,
            r#"{"type":"log","body":"x","at":"2023-11-14T22:13:20.5Z","severity":"ERROR"}"#,
            r#"  { "at" : 0 , "body" : "" , "type" : "log" , "attributes" : { } , "severity" : null }  "#,
            r#"{"type":"log","body":"a","at":1,"attributes":{"b":"2","a":"1","b":"3"}}"#,
            r#"{"type":"log","body":"a","at":9223372036854775807,"attributes":null}"#,
            "{\"type\":\"log\",\"body\":\"caf\u{e9} \u{1F600}\",\"at\":1}\r",
        ] {
            assert!(check_same(line), "not borrowed: {line}");
        }
        let read = by_parser(r#"{"type":"log","body":"a","at":1,"attributes":{"b":"2","a":"1","b":"3"}}"#);
        assert_eq!(read.map(|(_, a)| a), Some(vec![("a", "1"), ("b", "3")]));
    }

    #[test]
    fn common_metric_lines_are_borrowed() {
        for line in [
            r#"{"type": "metric", "name": "error_ratio", "labels": {"service": "svc-0-1", "instance": "svc-0-1:9100"}, "value": 0.25, "at": 1700000000000}"#,
            r#"{"type":"metric","name":"up","value":1,"at":"2023-11-14T22:13:20.5Z","kind":"gauge"}"#,
            r#"{"type":"metric","name":"c","value":9007199254740993,"at":1,"kind":"counter","labels":null}"#,
            r#"{"type":"metric","name":"c","value":-12,"at":1,"kind":null}"#,
            r#"{"type":"metric","name":"c","value":18446744073709551615,"at":1,"kind":"untyped"}"#,
            r#"{"type":"metric","name":"c","value":-0,"at":1}"#,
            r#"{"type":"metric","name":"c","value":1.5e-7,"at":1}"#,
            r#"{"type":"metric","name":"c","value":0.1000000000000000055511151231257827,"at":1}"#,
            r#"{"type":"metric","name":"c","value":"NaN","at":1}"#,
            r#"{"type":"metric","name":"c","value":"+Inf","at":1}"#,
            r#"{"type":"metric","name":"c","value":"Inf","at":1}"#,
            r#"{"type":"metric","name":"c","value":"-Inf","at":1,"labels":{"b":"2","a":"1","b":"3"}}"#,
            r#"{ "value" : 2 , "at" : 0 , "name" : "x" , "type" : "metric" , "labels" : { } }"#,
        ] {
            assert!(check_same(line), "not borrowed: {line}");
        }
        for line in [
            r#"{"type":"metric","name":"","value":1,"at":1}"#,
            r#"{"type":"metric","value":1,"at":1}"#,
            r#"{"type":"metric","name":"x","at":1}"#,
            r#"{"type":"metric","name":"x","value":null,"at":1}"#,
            r#"{"type":"metric","name":"x","value":"1","at":1}"#,
            r#"{"type":"metric","name":"x","value":+1,"at":1}"#,
            r#"{"type":"metric","name":"x","value":01,"at":1}"#,
            r#"{"type":"metric","name":"x","value":1e400,"at":1}"#,
            r#"{"type":"metric","name":"x","value":1,"at":1,"kind":"histogram"}"#,
            r#"{"type":"metric","name":"x","value":1,"at":1,"attributes":{}}"#,
            r#"{"type":"metric","name":"x","value":1,"at":1,"body":"b"}"#,
            r#"{"type":"log","body":"x","at":1,"labels":{}}"#,
            r#"{"type":"log","body":"x","at":1,"value":1}"#,
            r#"{"type":"metric","name":"x","value":1,"at":1,"labels":{"a":1}}"#,
            r#"{"type":"metric","name":"x","value":1,"at":-1}"#,
            r#"{"type":"alert","name":"x","at":1}"#,
        ] {
            assert!(!check_same(line), "borrowed: {line}");
        }
    }

    #[test]
    fn other_lines_are_read_the_general_way() {
        for line in [
            "",
            "# comment",
            r#"{"type":"log","body":"tab\tescaped","at":1}"#,
            r#"{"type":"log","body":"x","at":1,"extra":true}"#,
            r#"{"type":"log","body":"x","at":1,"type":"log"}"#,
            r#"{"type":"log","body":"x","at":-1}"#,
            r#"{"type":"log","body":"x","at":-0}"#,
            r#"{"type":"log","body":"x","at":1.5}"#,
            r#"{"type":"log","body":"x","at":1e3}"#,
            r#"{"type":"log","body":"x","at":01}"#,
            r#"{"type":"log","body":"x","at":9223372036854775808}"#,
            r#"{"type":"log","body":"x","at":null}"#,
            r#"{"type":"log","body":"x","at":"yesterday"}"#,
            r#"{"type":"log","body":"x","at":1,"severity":"loud"}"#,
            r#"{"type":"log","body":"x","at":1,"attributes":{"a":1}}"#,
            r#"{"type":"log","body":"x","at":1,"attributes":{"a":"1",}}"#,
            r#"{"type":"log","body":"x","at":1,}"#,
            r#"{"type":"log","body":null,"at":1}"#,
            r#"{"type":"log","at":1}"#,
            r#"{"body":"x","at":1}"#,
            r#"{"type":"log","body":"x","at":1} x"#,
            r#"{"type":"log","body":"x","at":1}}"#,
            r#"{"type":"log","body":"x","at":1,"severity":nul}"#,
            "{\"type\":\"log\",\"body\":\"a\u{1}b\",\"at\":1}",
        ] {
            assert!(!check_same(line), "borrowed: {line}");
        }
    }

    #[test]
    fn borrowed_records_count_against_the_limits() {
        let text = b"{\"type\":\"log\",\"body\":\"12345\",\"at\":1}\n\
            {\"type\":\"log\",\"body\":\"1\",\"attributes\":{\"a\":\"1\",\"b\":\"2\"},\"at\":1}\n\
            {\"type\":\"log\",\"body\":\"1\",\"at\":1}\n\
            {\"type\":\"log\",\"body\":\"2\",\"at\":1}\n";
        let limits = Limits { max_log_line_len: 4, max_label_pairs: 1, max_records: 1, ..Limits::default() };
        let mut borrowed = 0;
        let read = for_each_record(text, &limits, |r| borrowed += usize::from(matches!(r, Record::Log(_)))).unwrap();
        assert_eq!((read.records, borrowed), (1, 1));
        assert_eq!(read.dropped.log_line_too_long, 1);
        assert_eq!(read.dropped.too_many_labels, 1);
        assert_eq!(read.dropped.too_many_records, 1);
        let parsed = parse_ndjson(text, &limits).unwrap();
        assert_eq!((parsed.observations.len(), parsed.dropped), (1, read.dropped));
    }

    #[test]
    fn integers_read_as_the_general_way_reads_them() {
        let mut cases: Vec<String> =
            ["0", "7", "00", "01", "10", "1700000000000", "9223372036854775807", "9223372036854775808"]
                .map(String::from)
                .to_vec();
        // Every length up to 20 digits, with and without zeros inside.
        for len in 1..=20 {
            cases.push("9".repeat(len));
            cases.push(format!("1{}", "0".repeat(len - 1)));
            cases.push((1..=len).map(|d| char::from(b'0' + (d % 10) as u8)).collect());
        }
        for digits in cases {
            for after in ["", "}", "x", ".5", "e3"] {
                let text = format!("{digits}{after}");
                let mut c = Cursor { text: &text, at: 0 };
                let read = c.non_negative_integer();
                // A leading zero is the whole number; otherwise the digits, if they fit `i64`.
                let expected = if digits.starts_with('0') { Some(0) } else { digits.parse::<i64>().ok() };
                assert_eq!(read, expected, "{text}");
                if let Some(n) = read {
                    let consumed = if n == 0 { 1 } else { digits.len() };
                    assert_eq!(c.at, consumed, "{text}");
                }
            }
        }
        for (chunk, value) in [(*b"00000000", 0), (*b"12345678", 12_345_678), (*b"99999999", 99_999_999)] {
            assert_eq!(eight_digits(chunk), Some(value));
        }
        for bad in [*b"1234567/", *b":2345678", *b"1234 678", [0xb0, b'1', b'2', b'3', b'4', b'5', b'6', b'7']] {
            assert_eq!(eight_digits(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_line_laid_out_as_the_last_is_read_by_its_layout() {
        let learnt = r#"{"type": "log", "body": "dial: connection refused", "attributes": {"service": "svc-0-1"}, "at": 1700000000000}"#;
        for line in [
            learnt,
            r#"{"type": "log", "body": "", "attributes": {"service": "db"}, "at": 0}"#,
            "{\"type\": \"log\", \"body\": \"caf\u{e9} \u{1F600}\", \"attributes\": {\"service\": \"s\"}, \"at\": 9223372036854775807}",
        ] {
            let read = by_layout(learnt, line);
            assert!(read.is_some(), "not read by layout: {line}");
            assert_eq!(read, by_parser(line), "{line}");
        }
        let with_severity =
            r#"{"type":"log","severity":"warn","body":"x","attributes":{"b":"2","a":"1"},"at":"2023-11-14T22:13:20Z"}"#;
        let other = r#"{"type":"log","severity":"ERROR","body":"y","attributes":{"b":"3","a":"4"},"at":"2023-11-14T22:13:21.5Z"}"#;
        let read = by_layout(with_severity, other);
        assert_eq!(read.as_ref().map(|(_, a)| a.clone()), Some(vec![("a", "4"), ("b", "3")]));
        assert_eq!(read, by_parser(other));
        // Anything else goes to the parser (which may still read it).
        for line in [
            r#"{"type": "log", "body": "x",  "attributes": {"service": "s"}, "at": 1}"#,
            r#"{"type": "log", "body": "x", "attributes": {"servic": "s"}, "at": 1}"#,
            r#"{"type": "log", "body": "x", "attributes": {"service": "s"}, "at": 1} "#,
            r#"{"type": "log", "body": "x", "attributes": {"service": "s"}, "at": 1}}"#,
            r#"{"type": "log", "body": "x", "attributes": {"service": "s"}, "at": 01}"#,
            r#"{"type": "log", "body": "x", "attributes": {"service": "s"}, "at": 1.5}"#,
            r#"{"type": "log", "body": "x", "attributes": {"service": "s"}, "at": 92233720368547758070}"#,
            r#"{"type": "log", "body": "a\"b", "attributes": {"service": "s"}, "at": 1}"#,
            r#"{"type": "log", "body": "x", "attributes": {"service": "s"}, "at": "1"}"#,
            r#"{"at": 1, "type": "log", "body": "x", "attributes": {"service": "s"}}"#,
            r#"{"type": "log", "body": "x", "attributes": {"service": "s"}, "at": 1"#,
            "",
        ] {
            assert_eq!(by_layout(learnt, line), None, "read by layout: {line}");
        }
        // A line the parser does not read leaves no layout, and keeps the last one.
        let extra = r#"{"type":"log","body":"x","at":1,"extra":1}"#;
        assert_eq!(by_layout(extra, extra), None);
        let (mut shape, mut attrs) = (Shape::default(), Vec::new());
        assert!(shape.learn(learnt, &mut attrs).is_some());
        assert_eq!(shape.learn(extra, &mut attrs), None);
        let line = r#"{"type": "log", "body": "y", "attributes": {"service": "t"}, "at": 2}"#;
        assert_eq!(shape.read(line, &mut attrs).map(|f| (f, attrs)), by_parser(line));
    }

    proptest! {
        #[test]
        fn borrowed_and_general_ways_agree(members in proptest::collection::vec((
            "(type|body|at|severity|attributes|xyz|name|value|kind|labels)",
            r#"("(log|metric|error|Warn|loud|x\\ty|2023-11-14T22:13:20Z|gauge|counter|NaN|\+Inf|)"|-?[0-9]{0,20}(\.[0-9])?(e1)?|null|\{\}|\{"[ab]":"[a-z]{0,5}"(,"[ab]":("[0-9]"|1))?\}|true)"#,
            "[ \t]{0,1}",
        ), 0..7)) {
            let body = members.iter().map(|(k, v, ws)| format!("{ws}\"{k}\"{ws}:{ws}{v}")).collect::<Vec<_>>().join(",");
            let line = format!("{{{body}}}");
            check_same(&line);
        }

        #[test]
        fn borrowed_way_reads_common_shapes(
            order in Just([0usize, 1, 2, 3, 4]).prop_shuffle(),
            body in "[ -~é]{0,12}",
            attrs in proptest::collection::vec(("[a-c]", "[ -~]{0,4}"), 0..4),
            at in prop_oneof![Just(0i64), Just(i64::MAX), 0i64..=4_102_444_800_000],
            severity in "(error|WARN|info2|)",
            ws in "[ \t\r\n]{0,2}",
        ) {
            let attrs: Vec<String> = attrs
                .iter()
                .map(|(k, v)| format!("{}:{}", serde_json::json!(k), serde_json::json!(v)))
                .collect();
            let members = [
                r#""type":"log""#.to_string(),
                format!(r#""body":{}"#, serde_json::json!(body)),
                format!(r#""at":{at}"#),
                format!(r#""attributes":{{{}}}"#, attrs.join(&format!(",{ws}"))),
                if severity.is_empty() { r#""severity":null"#.to_string() } else { format!(r#""severity":"{severity}""#) },
            ];
            let line = format!("{{{ws}{}{ws}}}", order.iter().map(|&i| members[i].as_str()).collect::<Vec<_>>().join(&format!("{ws},")));
            let escaped = line.contains('\\');
            prop_assert_eq!(check_same(&line), !escaped, "{}", line);
        }

        #[test]
        fn a_line_read_by_another_lines_layout_reads_as_parsed(members in proptest::collection::vec((
            "(type|body|at|severity|attributes|xyz|name|value|kind|labels)",
            r#"("(log|metric|error|Warn|loud|x\\ty|2023-11-14T22:13:20Z|gauge|counter|NaN|\+Inf|)"|-?[0-9]{0,20}(\.[0-9])?(e1)?|null|\{\}|\{"[ab]":"[a-z]{0,5}"(,"[ab]":("[0-9]"|1))?\}|true)"#,
            "[ \t]{0,1}",
        ), 0..7), values in proptest::collection::vec(
            r#"("(log|error|Warn|x\\ty|2023-11-14T22:13:21Z|[a-z ]{0,6})"|[0-9]{0,20}|null|\{"[ab]":"[a-z]{0,5}"\})"#, 7)
        ) {
            // Two lines with the same members in the same order and spacing,
            // the second with other values (of any kind).
            let line = |vals: Option<&[String]>| {
                let body = members
                    .iter()
                    .enumerate()
                    .map(|(i, (k, v, ws))| format!("{ws}\"{k}\"{ws}:{ws}{}", vals.map_or(v.as_str(), |vals| vals[i].as_str())))
                    .collect::<Vec<_>>()
                    .join(",");
                format!("{{{body}}}")
            };
            let (first, second) = (line(None), line(Some(&values)));
            // Debug text, so that a NaN value equals itself.
            if let Some(read) = by_layout(&first, &second) {
                prop_assert_eq!(format!("{:?}", Some(read)), format!("{:?}", by_parser(&second)), "{} then {}", first, second);
            }
            // And a payload of both reads as each line read alone.
            let payload = format!("{first}\n{second}\n{second}");
            let alone: Vec<Observation> =
                [&first, &second, &second].into_iter().filter_map(|l| slow(l).and_then(Result::ok)).collect();
            let whole = parse_ndjson(payload.as_bytes(), &Limits::default()).unwrap().observations;
            prop_assert_eq!(format!("{whole:?}"), format!("{alone:?}"));
        }

        #[test]
        fn lines_of_one_layout_are_read_by_it(
            order in Just([0usize, 1, 2, 3, 4]).prop_shuffle(),
            keys in proptest::collection::vec("[a-c]{1,3}", 0..4),
            values in proptest::collection::vec((
                r#"[ !#-\[\]-~é]{0,12}"#,
                proptest::collection::vec("[a-z0-9.-]{0,6}", 4),
                prop_oneof![Just(0i64), Just(i64::MAX), 1i64..=4_102_444_800_000],
                "(error|WARN|info)",
            ), 2..4),
            ws in "[ \t]{0,2}",
        ) {
            let lines: Vec<String> = values
                .iter()
                .map(|(body, attr_values, at, severity)| {
                    let attrs: Vec<String> =
                        keys.iter().zip(attr_values).map(|(k, v)| format!(r#""{k}":{ws}"{v}""#)).collect();
                    let members = [
                        r#""type":"log""#.to_string(),
                        format!(r#""body":{ws}"{body}""#),
                        format!(r#""at":{ws}{at}"#),
                        format!(r#""attributes":{{{}}}"#, attrs.join(&format!(",{ws}"))),
                        format!(r#""severity":"{severity}""#),
                    ];
                    let members: Vec<&str> = order.iter().map(|&i| members[i].as_str()).collect();
                    format!("{{{ws}{}}}", members.join(&format!(",{ws}")))
                })
                .collect();
            for pair in lines.windows(2) {
                let read = by_layout(&pair[0], &pair[1]);
                prop_assert!(read.is_some(), "not read by layout: {} then {}", pair[0], pair[1]);
                prop_assert_eq!(read, by_parser(&pair[1]));
            }
        }

        #[test]
        fn metric_lines_read_as_the_general_way_and_by_their_layout(
            keys in proptest::collection::vec("[a-c]{1,3}", 0..4),
            samples in proptest::collection::vec((
                "[a-z_]{1,12}",
                proptest::collection::vec("[a-z0-9.:-]{0,8}", 4),
                prop_oneof![
                    any::<f64>().prop_filter("finite", |v| v.is_finite()).prop_map(|v| serde_json::json!(v).to_string()),
                    any::<i64>().prop_map(|v| v.to_string()),
                    any::<u64>().prop_map(|v| v.to_string()),
                    Just("\"NaN\"".to_string()),
                    Just("\"-Inf\"".to_string()),
                    Just("1e3".to_string()),
                    Just("-0.0".to_string()),
                ],
                prop_oneof![Just(0i64), Just(i64::MAX), 1i64..=4_102_444_800_000],
                "(gauge|counter|untyped)",
            ), 2..4),
            ws in "[ \t]{0,1}",
        ) {
            let lines: Vec<String> = samples
                .iter()
                .map(|(name, label_values, value, at, kind)| {
                    let labels: Vec<String> =
                        keys.iter().zip(label_values).map(|(k, v)| format!(r#""{k}":{ws}"{v}""#)).collect();
                    format!(
                        r#"{{"type":{ws}"metric",{ws}"name":{ws}"{name}",{ws}"labels":{ws}{{{}}},{ws}"value":{ws}{value},{ws}"at":{ws}{at},{ws}"kind":{ws}"{kind}"}}"#,
                        labels.join(",")
                    )
                })
                .collect();
            for line in &lines {
                prop_assert!(check_same(line), "not borrowed: {}", line);
            }
            for pair in lines.windows(2) {
                let read = by_layout(&pair[0], &pair[1]);
                prop_assert!(read.is_some(), "not read by layout: {} then {}", pair[0], pair[1]);
                prop_assert_eq!(format!("{read:?}"), format!("{:?}", by_parser(&pair[1])));
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_ndjson(&bytes, &Limits::default());
        }

        #[test]
        fn never_panics_json_like(lines in proptest::collection::vec(
            r#"\{"type":"(metric|log|alert|event)"(,"(name|body|value|at|labels|object|count|status|first_at)":("[a-z0-9:T-]{0,8}"|-?[0-9]{0,20}(\.[0-9])?|\{\}|null|\{"name":"x"\}))*\}"#, 0..6)) {
            let _ = parse_ndjson(lines.join("\n").as_bytes(), &Limits::default());
        }
    }
}
