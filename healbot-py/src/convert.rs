//! Conversions between Python values and the core's: timestamps, labels,
//! JSON-like values and payloads.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::time::{SystemTime, UNIX_EPOCH};

use healbot_core::telemetry::Labels;
use healbot_core::ErrorKind;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple, PyType};
use pyo3::Borrowed;

use crate::errors::err;

/// How deep a dict/list may nest when converted to JSON (a guard against
/// self-referencing containers and stack exhaustion).
const MAX_DEPTH: usize = 128;

static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static UTC_EPOCH: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static INTEGRAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static REAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The current time in Unix milliseconds: the only clock HealBot reads, used
/// when a Python caller passes `at=None`.
pub fn now_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

fn datetime_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DATETIME.import(py, "datetime", "datetime")
}

fn date_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DATE.import(py, "datetime", "date")
}

/// Epoch seconds (as a float) to Unix milliseconds, rounded half away from zero.
#[inline]
pub fn seconds_to_ms(seconds: f64, what: &str) -> PyResult<i64> {
    let ms = seconds * 1000.0;
    // i64::MAX as f64 rounds up to 2^63, which does not fit: compare strictly.
    // (Values this large are whole numbers: rounding cannot carry them out.)
    if !(ms < i64::MAX as f64 && ms >= i64::MIN as f64) {
        return Err(err(ErrorKind::InvalidArgument, format!("{what}: {seconds} is not a representable time")));
    }
    // `f64::round` is a libm call on baseline x86-64; truncation is one
    // instruction and the fractional part is exact.
    let whole = ms as i64;
    let frac = ms - whole as f64;
    Ok(whole + i64::from(frac >= 0.5) - i64::from(frac <= -0.5))
}

/// A timestamp argument in Unix milliseconds: `None` is now; a float or an
/// int is epoch seconds; a `datetime` must be timezone-aware.
pub fn at_ms(at: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<i64> {
    let Some(at) = at else { return Ok(now_ms()) };
    if at.is_none() {
        return Ok(now_ms());
    }
    if let Ok(f) = at.cast::<PyFloat>() {
        return seconds_to_ms(f.value(), what);
    }
    if at.is_instance_of::<PyInt>() && !at.is_instance_of::<PyBool>() {
        return whole_seconds_to_ms(at, what);
    }
    let py = at.py();
    if at.is_instance(datetime_type(py)?)? {
        if at.call_method0("utcoffset")?.is_none() {
            return Err(err(
                ErrorKind::InvalidArgument,
                format!(
                    "{what}: naive datetime {} has no time zone; pass an aware one, e.g. \
                     datetime.now(timezone.utc) or dt.replace(tzinfo=timezone.utc)",
                    at.str()?
                ),
            ));
        }
        // Exact: (at - epoch) in whole microseconds, floored to milliseconds.
        let delta = at.call_method1("__sub__", (utc_epoch(py)?,))?;
        let days: i64 = delta.getattr("days")?.extract()?;
        let seconds: i64 = delta.getattr("seconds")?.extract()?;
        let us: i64 = delta.getattr("microseconds")?.extract()?;
        let micros = days * 86_400_000_000 + seconds * 1_000_000 + us;
        return Ok(micros.div_euclid(1000));
    }
    if at.is_instance(date_type(py)?)? {
        return Err(PyTypeError::new_err(format!(
            "{what}: a date is not a point in time; pass a timezone-aware datetime or epoch seconds"
        )));
    }
    // Other numbers (numpy's scalars, fractions): an integral one is whole
    // seconds, as an int is, and a real one seconds, as a float is. A bool
    // is not a time.
    if !at.is_instance_of::<PyBool>() {
        if at.is_instance(INTEGRAL.import(py, "numbers", "Integral")?)? {
            return whole_seconds_to_ms(&at.call_method0("__index__")?, what);
        }
        if at.is_instance(REAL.import(py, "numbers", "Real")?)? {
            return seconds_to_ms(at.call_method0("__float__")?.extract()?, what);
        }
    }
    Err(PyTypeError::new_err(format!(
        "{what}: expected a timezone-aware datetime, epoch seconds (a number) or None, got {}",
        at.get_type().name()?
    )))
}

/// Unix milliseconds as a timezone-aware UTC `datetime`.
pub fn ms_to_datetime(py: Python<'_>, ms: i64) -> PyResult<Bound<'_, PyAny>> {
    let delta = py.import("datetime")?.getattr("timedelta")?.call1((0, 0, 0, ms))?;
    utc_epoch(py)?.call_method1("__add__", (delta,))
}

/// `datetime(1970, 1, 1, tzinfo=timezone.utc)`.
/// Whole epoch seconds (a Python int) to Unix milliseconds.
fn whole_seconds_to_ms(at: &Bound<'_, PyAny>, what: &str) -> PyResult<i64> {
    let secs: i64 = at
        .extract()
        .map_err(|_| err(ErrorKind::InvalidArgument, format!("{what}: {at} is not a representable time")))?;
    secs.checked_mul(1000)
        .ok_or_else(|| err(ErrorKind::InvalidArgument, format!("{what}: {secs} is not a representable time")))
}

fn utc_epoch(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    Ok(UTC_EPOCH
        .get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            let utc = py.import("datetime")?.getattr("timezone")?.getattr("utc")?;
            Ok(datetime_type(py)?.call1((1970, 1, 1, 0, 0, 0, 0, utc))?.unbind())
        })?
        .bind(py))
}

fn type_name(ob: &Bound<'_, PyAny>) -> String {
    ob.get_type().name().map_or_else(|_| "?".to_string(), |n| n.to_string())
}

/// A hasher for addresses: one multiplication (the std hasher's SipHash
/// costs more than the lookup it serves).
#[derive(Default)]
pub struct AddressHasher(u64);

impl AddressHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl std::hash::Hasher for AddressHasher {
    /// Eight bytes at a time (a list of addresses hashes as its bytes).
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.add(<[u8; 8]>::try_from(word).map_or(0, u64::from_le_bytes));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }
    /// One multiplication for a lone address (the state starts at zero).
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        // The high bits of the product are the well-mixed ones; the table
        // indexes by the low bits.
        self.0.rotate_left(32)
    }
}

/// A label set from `None` or a mapping of `str` to `str`.
pub fn labels(ob: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Labels> {
    let Some(ob) = ob else { return Ok(Labels::new()) };
    if ob.is_none() {
        return Ok(Labels::new());
    }
    // Each key and value is copied once, straight into the label set's
    // strings (no borrowed handles kept, no second list).
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Ok(dict) = ob.cast::<PyDict>() {
        pairs.reserve(dict.len());
        for (k, v) in dict.iter() {
            pairs.push((label_text(&k, what, "key")?, label_text(&v, what, "value")?));
        }
    } else if let Ok(map) = ob.cast::<PyMapping>() {
        for item in map.items()?.iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            pairs.push((label_text(&k, what, "key")?, label_text(&v, what, "value")?));
        }
    } else {
        return Err(PyTypeError::new_err(format!(
            "{what}: expected a mapping of str to str or None, got {}",
            type_name(ob)
        )));
    }
    Ok(pairs.into_iter().collect())
}

/// What a per-row argument's item converts to: a value already made for
/// an earlier item (its index), or a new one.
pub enum Value<T> {
    Same(u32),
    New(T),
}

/// The label sets made so far from the dicts of a per-row argument, by
/// content: rows whose distinct dicts hold equal labels (the series of one
/// target, each given a dict of its own) share one set instead of
/// converting and copying it again. Only a `dict` of at most
/// [`MAX_SHARED_PAIRS`] pairs of exact `str` keys and values takes part:
/// hashing and comparing those runs no Python code, and a `str` keeps its
/// hash once computed.
pub struct LabelContents<'py> {
    /// By hash: the index of the label set made from a dict, and where its
    /// keys and values lie in `strings`.
    made: HashMap<u64, Made, BuildHasherDefault<AddressHasher>>,
    /// The keys and values of those dicts, pairwise in dict order, one
    /// dict after the other (held, so they stay the strings each set was
    /// made of, whatever becomes of the dicts).
    strings: Vec<Bound<'py, PyAny>>,
}

#[derive(Clone, Copy)]
struct Made {
    index: u32,
    start: usize,
    len: usize,
}

/// Label pairs a dict may have to be shared by content.
const MAX_SHARED_PAIRS: usize = 8;

impl<'py> LabelContents<'py> {
    /// Room for the label sets of `rows` dicts.
    pub fn with_capacity(rows: usize) -> LabelContents<'py> {
        LabelContents {
            made: HashMap::with_capacity_and_hasher(rows, BuildHasherDefault::default()),
            strings: Vec::new(),
        }
    }

    /// The label set of `ob` when it is a dict that takes part (None
    /// otherwise): the index of the set made from a dict with the same
    /// strings, or a new set, recorded as the one at index `next`.
    pub fn labels(&mut self, ob: &Bound<'py, PyAny>, next: usize) -> PyResult<Option<Value<Labels>>> {
        let Ok(dict) = ob.cast_exact::<PyDict>() else { return Ok(None) };
        let mut strings = [std::ptr::null_mut(); 2 * MAX_SHARED_PAIRS];
        let Some(key) = dict_strings(dict, &mut strings) else { return Ok(None) };
        let strings = &strings[..2 * dict.len()];
        let py = ob.py();
        match self.made.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => {
                let m = *e.get();
                if self.strings.get(m.start..m.start + m.len).is_some_and(|held| same_strings(strings, held)) {
                    return Ok(Some(Value::Same(m.index)));
                }
                // Another dict of the same hash: a set of its own, not recorded.
                Ok(Some(Value::New(strings_labels(py, strings)?)))
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                let labels = strings_labels(py, strings)?;
                if let Ok(index) = u32::try_from(next) {
                    e.insert(Made { index, start: self.strings.len(), len: strings.len() });
                    // SAFETY: each is a live `str` of the dict (unchanged
                    // since `dict_strings`); the new reference keeps it alive.
                    self.strings.extend(strings.iter().map(|&s| unsafe { Bound::from_borrowed_ptr(py, s) }));
                }
                Ok(Some(Value::New(labels)))
            }
        }
    }
}

/// Writes the keys and values of `dict` (borrowed), pairwise in dict
/// order, into `out`; returns a hash of them that does not depend on their
/// order, from the strings' own hashes. None when the dict has more than
/// [`MAX_SHARED_PAIRS`] pairs or a key or value that is not an exact `str`.
fn dict_strings(dict: &Bound<'_, PyDict>, out: &mut [*mut pyo3::ffi::PyObject; 2 * MAX_SHARED_PAIRS]) -> Option<u64> {
    let len = dict.len();
    if len > MAX_SHARED_PAIRS {
        return None;
    }
    let mut key = len as u64;
    let (mut pos, mut k, mut v) = (0, std::ptr::null_mut(), std::ptr::null_mut());
    for pair in out.chunks_exact_mut(2).take(len) {
        // SAFETY: `dict` is a live dict and the thread is attached; nothing
        // here runs Python code (exact `str`s hash in C), so the dict cannot
        // change while its borrowed references are read.
        let (hk, hv) = unsafe {
            if pyo3::ffi::PyDict_Next(dict.as_ptr(), &mut pos, &mut k, &mut v) == 0
                || pyo3::ffi::PyUnicode_CheckExact(k) == 0
                || pyo3::ffi::PyUnicode_CheckExact(v) == 0
            {
                return None;
            }
            (pyo3::ffi::PyObject_Hash(k), pyo3::ffi::PyObject_Hash(v))
        };
        if hk == -1 || hv == -1 {
            // Only a failed allocation can leave a `str` without a hash.
            let _ = PyErr::take(dict.py());
            return None;
        }
        let h = (hk as u64) ^ (hv as u64).rotate_left(31);
        key = key.wrapping_add((h ^ (h >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9));
        pair[0] = k;
        pair[1] = v;
    }
    Some(key)
}

/// Whether the borrowed strings `strings` equal `held`, one by one.
fn same_strings(strings: &[*mut pyo3::ffi::PyObject], held: &[Bound<'_, PyAny>]) -> bool {
    strings.len() == held.len()
        && strings.iter().zip(held).all(|(&a, b)| {
            // SAFETY: both are live exact `str`s; comparing them runs no
            // Python code and cannot fail.
            a == b.as_ptr() || unsafe { pyo3::ffi::PyObject_RichCompareBool(a, b.as_ptr(), pyo3::ffi::Py_EQ) } == 1
        })
}

/// The label set of the borrowed key and value strings `strings`, as
/// [`labels`] makes it of their dict.
fn strings_labels(py: Python<'_>, strings: &[*mut pyo3::ffi::PyObject]) -> PyResult<Labels> {
    strings
        .chunks_exact(2)
        .map(|pair| {
            // SAFETY: live `str`s of a dict that has not changed since they
            // were read; borrowed for this call only.
            let (k, v) = unsafe { (Borrowed::from_ptr(py, pair[0]), Borrowed::from_ptr(py, pair[1])) };
            Ok((label_text(&k, "labels", "key")?, label_text(&v, "labels", "value")?))
        })
        .collect()
}

fn label_text(ob: &Bound<'_, PyAny>, what: &str, part: &str) -> PyResult<String> {
    let s = ob.cast::<PyString>().map_err(|_| {
        PyTypeError::new_err(format!("{what}: every label {part} must be a str, got {}", type_name(ob)))
    })?;
    s.to_cow().map(Cow::into_owned).map_err(|cause| {
        // A str that is not valid Unicode (a lone surrogate) has no UTF-8.
        let e = err(
            ErrorKind::InvalidArgument,
            format!("{what}: label {part} {} is not valid Unicode (it holds a lone surrogate)", repr(ob)),
        );
        e.set_cause(ob.py(), Some(cause));
        e
    })
}

fn repr(ob: &Bound<'_, PyAny>) -> String {
    ob.repr().map_or_else(|_| "?".to_string(), |r| r.to_string())
}

/// A Python value (None, bool, int, float, str, dict or other mapping
/// with str keys, list, tuple) as JSON.
pub fn to_json(ob: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    to_json_at(ob, 0)
}

fn to_json_at(ob: &Bound<'_, PyAny>, depth: usize) -> PyResult<serde_json::Value> {
    use serde_json::Value;
    if depth > MAX_DEPTH {
        return Err(err(ErrorKind::InvalidArgument, format!("value nested deeper than {MAX_DEPTH} levels")));
    }
    if ob.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = ob.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(s) = ob.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if ob.is_instance_of::<PyInt>() {
        if let Ok(i) = ob.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = ob.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(err(ErrorKind::InvalidArgument, format!("integer {ob} does not fit in 64 bits")));
    }
    if let Ok(f) = ob.cast::<PyFloat>() {
        return serde_json::Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| err(ErrorKind::InvalidArgument, format!("{} is not a JSON number", f.value())));
    }
    if let Ok(d) = ob.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in d.iter() {
            map.insert(json_key(&k)?, to_json_at(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(m) = ob.cast::<PyMapping>() {
        let mut map = serde_json::Map::new();
        for item in m.items()?.iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            map.insert(json_key(&k)?, to_json_at(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if ob.is_instance_of::<PyList>() || ob.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for item in ob.try_iter()? {
            out.push(to_json_at(&item?, depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    Err(PyTypeError::new_err(format!("cannot convert {} to JSON", type_name(ob))))
}

fn json_key(k: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(k.cast::<PyString>()
        .map_err(|_| PyTypeError::new_err(format!("dict keys must be str, got {}", type_name(k))))?
        .to_cow()?
        .into_owned())
}

/// Any serialisable core value as Python values (what `json.loads` of its
/// JSON would give), built directly.
pub fn to_python<'py, T: serde::Serialize + ?Sized>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    crate::pyser::to_object(py, value).map_err(|e| match e {
        crate::pyser::Error::Python(e) => e,
        crate::pyser::Error::Serde(m) => err(ErrorKind::InvalidArgument, format!("cannot convert a result: {m}")),
    })
}

/// The snake_case spelling of a serialisable unit enum.
pub fn enum_str<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A payload argument as bytes: `bytes`, `bytearray`, `str` (UTF-8) or,
/// where `json` is allowed, a mapping (`dict`), `list` or `tuple`
/// serialised as JSON.
pub fn payload<'a>(ob: &'a Bound<'_, PyAny>, json: bool) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(b) = ob.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(b.as_bytes()));
    }
    if let Ok(s) = ob.cast::<PyString>() {
        return Ok(Cow::Owned(s.to_cow()?.into_owned().into_bytes()));
    }
    if let Ok(b) = ob.cast::<PyByteArray>() {
        return Ok(Cow::Owned(b.to_vec()));
    }
    if json && (ob.is_instance_of::<PyList>() || ob.is_instance_of::<PyTuple>() || is_mapping(ob)) {
        let value = to_json(ob)?;
        let bytes = serde_json::to_vec(&value)
            .map_err(|e| err(ErrorKind::InvalidArgument, format!("cannot serialise the payload: {e}")))?;
        return Ok(Cow::Owned(bytes));
    }
    let expected = if json { "dict (or other mapping), list, tuple, str or bytes" } else { "str or bytes" };
    Err(PyTypeError::new_err(format!("payload: expected {expected}, got {}", type_name(ob))))
}

/// Whether `ob` is a `dict` or another `collections.abc.Mapping`.
pub fn is_mapping(ob: &Bound<'_, PyAny>) -> bool {
    ob.is_instance_of::<PyDict>() || ob.cast::<PyMapping>().is_ok()
}
