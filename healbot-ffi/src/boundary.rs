//! The panic boundary and argument checks shared by every exported function.

use std::any::Any;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use healbot_core::telemetry::Labels;
use healbot_core::{Diagnostic, Error};

use crate::buffer::healbot_buffer;
use crate::error::{healbot_error, healbot_result};

/// Why a call failed, before it becomes a `healbot_error`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) result: healbot_result,
    pub(crate) message: String,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl Failure {
    pub(crate) fn new(result: healbot_result, message: impl Into<String>) -> Failure {
        Failure { result, message: message.into(), diagnostics: Vec::new() }
    }

    pub(crate) fn null(name: &str) -> Failure {
        Failure::new(healbot_result::NullParameter, format!("argument `{name}` is NULL"))
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(healbot_result::InvalidInput, message)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure {
            result: healbot_result::of(e.kind()),
            message: e.message().to_string(),
            diagnostics: e.diagnostics().to_vec(),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_string());
    format!("panic inside healbot: {what}")
}

/// Runs `f` inside a panic boundary. On failure (or panic) writes a new
/// error to `err_out` when it is not NULL, and returns its code.
pub(crate) fn run(err_out: *mut *mut healbot_error, f: impl FnOnce() -> Result<(), Failure>) -> healbot_result {
    let failure = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return healbot_result::Ok,
        Ok(Err(failure)) => failure,
        Err(payload) => Failure::new(healbot_result::Panic, panic_message(payload.as_ref())),
    };
    let result = failure.result;
    if !err_out.is_null() {
        let written = catch_unwind(|| {
            let e = healbot_error::new(failure.result, &failure.message, &failure.diagnostics);
            // SAFETY: the caller passes NULL (checked) or writable storage for one pointer.
            unsafe { *err_out = Box::into_raw(Box::new(e)) };
        });
        if written.is_err() {
            return healbot_result::Panic;
        }
    }
    result
}

/// Runs `f` as [`run`] does, checking the out-parameter `p` (named `name`)
/// before anything else and writing what `f` returns to it on success.
pub(crate) fn run_out<T>(
    err_out: *mut *mut healbot_error,
    p: *mut T,
    name: &str,
    f: impl FnOnce() -> Result<T, Failure>,
) -> healbot_result {
    run(err_out, || {
        let p = out(p, name)?;
        write(p, f()?);
        Ok(())
    })
}

/// As [`run_out`] for a new object: `*p` receives it boxed, and the caller
/// frees it with its `_free` function.
pub(crate) fn run_new<T>(
    err_out: *mut *mut healbot_error,
    p: *mut *mut T,
    name: &str,
    f: impl FnOnce() -> Result<T, Failure>,
) -> healbot_result {
    run_out(err_out, p, name, || f().map(|value| Box::into_raw(Box::new(value))))
}

/// Runs `f` as [`run`] does and writes what it returns to the optional
/// (nullable) out-parameter `p` on success.
pub(crate) fn run_opt_out<T>(
    err_out: *mut *mut healbot_error,
    p: *mut T,
    f: impl FnOnce() -> Result<T, Failure>,
) -> healbot_result {
    run(err_out, || {
        write_opt(p, f()?);
        Ok(())
    })
}

/// Runs an infallible accessor inside a panic boundary, `default` on panic.
pub(crate) fn guard<T>(default: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(default)
}

/// `f` of the object behind `p` inside a panic boundary: `default` for NULL
/// and on panic.
///
/// # Safety
///
/// `p` is NULL or a live `T`.
pub(crate) unsafe fn read<T, R: Copy>(p: *const T, default: R, f: impl FnOnce(&T) -> R) -> R {
    guard(default, || {
        // SAFETY: per this function's contract.
        unsafe { p.as_ref() }.map_or(default, f)
    })
}

/// Frees an object this library boxed and handed out; NULL is ignored.
///
/// # Safety
///
/// `p` is NULL or an object of type `T` boxed by this library and not yet
/// freed; it must not be used after this call.
pub(crate) unsafe fn free<T>(p: *mut T) {
    guard((), || {
        if !p.is_null() {
            // SAFETY: per this function's contract: boxed by this library, freed once.
            drop(unsafe { Box::from_raw(p) });
        }
    });
}

/// Checks an out-parameter before any work is done.
pub(crate) fn out<T>(p: *mut T, name: &str) -> Result<*mut T, Failure> {
    if p.is_null() {
        Err(Failure::null(name))
    } else {
        Ok(p)
    }
}

/// Writes `value` to a checked out-parameter.
pub(crate) fn write<T>(p: *mut T, value: T) {
    // SAFETY: `p` passed `out` (non-NULL) and the caller promised writable storage.
    unsafe { p.write(value) };
}

/// Writes `value` to an optional (nullable) out-parameter.
pub(crate) fn write_opt<T>(p: *mut T, value: T) {
    if !p.is_null() {
        write(p, value);
    }
}

/// A shared reference to a handle.
///
/// # Safety
///
/// `p` is NULL or a live handle of type `T`, not mutated for `'a`.
pub(crate) unsafe fn handle<'a, T>(p: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: per the function's contract.
    unsafe { p.as_ref() }.ok_or_else(|| Failure::null(name))
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
///
/// `p` is NULL or a NUL-terminated string readable for `'a`.
pub(crate) unsafe fn string<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and NUL-terminated per the contract.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map_err(|e| Failure::invalid(format!("argument `{name}` is not UTF-8: {e}")))
}

/// A `(pointer, length)` byte argument; `(NULL, 0)` is the empty slice.
///
/// # Safety
///
/// `p` is NULL or readable for `len` bytes during `'a`.
pub(crate) unsafe fn bytes<'a>(p: *const u8, len: usize, name: &str) -> Result<&'a [u8], Failure> {
    // SAFETY: per this function's contract.
    unsafe { array(p, len, name) }
}

/// A `(pointer, count)` array argument; `(NULL, 0)` is the empty slice.
///
/// A count no array can have (more than `isize::MAX` bytes, such as a
/// negative length cast to `size_t`) and a pointer not aligned for `T` are
/// `HEALBOT_RESULT_INVALID_INPUT`: `slice::from_raw_parts` must never see
/// them (in a debug build it aborts the process, in a release one it is
/// undefined behaviour).
///
/// # Safety
///
/// `p` is NULL or readable for `len` elements during `'a`.
pub(crate) unsafe fn array<'a, T>(p: *const T, len: usize, name: &str) -> Result<&'a [T], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::null(name));
    }
    let max = isize::MAX.unsigned_abs() / std::mem::size_of::<T>().max(1);
    if len > max {
        return Err(Failure::invalid(format!(
            "argument `{name}` has length {len}, more than any array can hold ({max} elements)"
        )));
    }
    if !p.is_aligned() {
        return Err(Failure::invalid(format!(
            "argument `{name}` is not aligned to {} bytes",
            std::mem::align_of::<T>()
        )));
    }
    // SAFETY: non-NULL, aligned, at most isize::MAX bytes (all checked) and
    // readable for `len` elements per the contract.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A UTF-8 text argument given as bytes.
pub(crate) fn text<'a>(b: &'a [u8], name: &str) -> Result<&'a str, Failure> {
    std::str::from_utf8(b).map_err(|e| Failure::invalid(format!("argument `{name}` is not UTF-8: {e}")))
}

/// A `(pointer, length)` UTF-8 text argument; `(NULL, 0)` is the empty string.
///
/// # Safety
///
/// As for [`bytes`].
pub(crate) unsafe fn text_arg<'a>(p: *const u8, len: usize, name: &str) -> Result<&'a str, Failure> {
    // SAFETY: per this function's contract.
    text(unsafe { bytes(p, len, name) }?, name)
}

/// A `(pointer, length)` packed label buffer argument as a label set.
///
/// # Safety
///
/// As for [`bytes`].
pub(crate) unsafe fn labels_arg(p: *const c_char, len: usize, name: &str) -> Result<Labels, Failure> {
    // SAFETY: per this function's contract.
    labels(unsafe { bytes(p.cast(), len, name) }?)
}

/// A serialised JSON document (`serde_json::to_vec`'s result) as a buffer;
/// `what` names the document in the error.
pub(crate) fn json_buffer(json: serde_json::Result<Vec<u8>>, what: &str) -> Result<healbot_buffer, Failure> {
    json.map(healbot_buffer::new)
        .map_err(|e| Failure::new(healbot_result::Other, format!("cannot serialise {what}: {e}")))
}

/// Splits a packed label buffer into its pairs (see the crate docs).
pub(crate) fn label_pairs(buf: &[u8]) -> Result<Vec<(&str, &str)>, Failure> {
    if buf.is_empty() {
        return Ok(Vec::new());
    }
    let Some(body) = buf.strip_suffix(&[0]) else {
        return Err(Failure::invalid("the label buffer must end with a NUL byte"));
    };
    let parts: Vec<&[u8]> = body.split(|b| *b == 0).collect();
    if parts.len() % 2 != 0 {
        return Err(Failure::invalid(format!(
            "the label buffer holds {} strings; keys and values must pair up",
            parts.len()
        )));
    }
    let mut pairs = Vec::with_capacity(parts.len() / 2);
    for kv in parts.chunks_exact(2) {
        let (k, v) = (text(kv[0], "labels")?, text(kv[1], "labels")?);
        if k.is_empty() {
            return Err(Failure::invalid("a label key in the label buffer is empty"));
        }
        pairs.push((k, v));
    }
    Ok(pairs)
}

/// A packed label buffer as a label set.
pub(crate) fn labels(buf: &[u8]) -> Result<Labels, Failure> {
    Ok(label_pairs(buf)?.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_labels() {
        let l = labels(b"service\0api\0env\0prod\0").unwrap();
        assert_eq!(l.get("service"), Some("api"));
        assert_eq!(l.get("env"), Some("prod"));
        assert!(labels(b"").unwrap().is_empty());
        assert!(labels(b"service\0api").is_err());
        assert!(labels(b"service\0").is_err());
        assert!(labels(b"\0api\0").is_err());
        assert!(labels(b"k\0\xff\0").is_err());
        assert_eq!(labels(b"k\0\0").unwrap().get("k"), Some(""));
    }

    #[test]
    fn impossible_lengths_and_misaligned_arrays_are_invalid_input() {
        let values = [1.0_f64, 2.0];
        // SAFETY: every call is rejected before the pointer is read.
        unsafe {
            let e = bytes(b"x".as_ptr(), usize::MAX, "text").unwrap_err();
            assert_eq!(e.result, healbot_result::InvalidInput);
            assert!(e.message.contains("`text`"), "{}", e.message);
            let e = array(values.as_ptr(), usize::MAX / 8 + 1, "values").unwrap_err();
            assert_eq!(e.result, healbot_result::InvalidInput);
            let misaligned = values.as_ptr().cast::<u8>().wrapping_add(1).cast::<f64>();
            let e = array(misaligned, 1, "values").unwrap_err();
            assert_eq!(e.result, healbot_result::InvalidInput);
            assert!(e.message.contains("aligned"), "{}", e.message);
            assert_eq!(array(values.as_ptr(), 2, "values").unwrap(), &values);
        }
    }

    #[test]
    fn panics_become_results() {
        let mut err: *mut healbot_error = std::ptr::null_mut();
        let r = run(&mut err, || std::panic::panic_any(7_u8));
        assert_eq!(r, healbot_result::Panic);
        assert!(!err.is_null());
        // SAFETY: the error was just created.
        unsafe { crate::healbot_error_free(err) };
    }
}
