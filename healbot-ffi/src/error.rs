//! Result codes and the error object.

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use healbot_core::{Diagnostic, ErrorKind, Severity};

use crate::boundary::{free, guard, read};

/// The result of a call. Numbers are stable: new codes are only added.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum healbot_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// An argument is malformed or out of its domain: not UTF-8, an unknown
    /// format or health value, a malformed label buffer, an unknown node or
    /// decision id.
    InvalidInput = 2,
    /// A signature, action or overrides document is invalid (see the
    /// error's diagnostics).
    Library = 3,
    /// A topology document is invalid (see the error's diagnostics).
    Topology = 4,
    /// A telemetry payload cannot be read.
    Telemetry = 5,
    /// A configured limit rejected the input (series, payload size, budgets).
    Limit = 6,
    /// A snapshot is corrupt, of another format version or of another library.
    Snapshot = 7,
    /// The library panicked. The call had no effect that can be relied on;
    /// an engine that panicked answers `HEALBOT_RESULT_PANIC` from then on
    /// and should be freed.
    Panic = 8,
    /// An error of a kind this version of the ABI does not name.
    Other = 9,
}

impl healbot_result {
    /// The code of a core error.
    pub(crate) fn of(kind: ErrorKind) -> healbot_result {
        match kind {
            ErrorKind::Library => healbot_result::Library,
            ErrorKind::Topology => healbot_result::Topology,
            ErrorKind::Telemetry => healbot_result::Telemetry,
            ErrorKind::Limit => healbot_result::Limit,
            ErrorKind::Snapshot => healbot_result::Snapshot,
            ErrorKind::InvalidArgument => healbot_result::InvalidInput,
            _ => healbot_result::Other,
        }
    }

    fn message(code: u32) -> &'static CStr {
        match code {
            0 => c"ok",
            1 => c"a required pointer argument was NULL",
            2 => c"invalid input",
            3 => c"invalid library document",
            4 => c"invalid topology document",
            5 => c"malformed telemetry payload",
            6 => c"a limit rejected the input",
            7 => c"invalid snapshot",
            8 => c"the library panicked",
            9 => c"other error",
            _ => c"unknown result code",
        }
    }
}

/// A static, NUL-terminated English description of a result code (any
/// number; unknown ones get "unknown result code"). Never freed.
#[no_mangle]
pub extern "C" fn healbot_result_message(result: u32) -> *const c_char {
    healbot_result::message(result).as_ptr()
}

/// How bad a diagnostic is.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum healbot_severity {
    /// The document is usable; the author may want to look.
    Warning = 1,
    /// The document is rejected.
    Error = 2,
}

/// One problem found in a document. Every string is NUL-terminated UTF-8
/// owned by the `healbot_error` it came from, valid until that error is
/// freed; the optional ones (`expected`, `found`, `suggestion`) are NULL
/// when absent.
#[repr(C)]
#[derive(Debug)]
pub struct healbot_diagnostic {
    /// Error or warning.
    pub severity: healbot_severity,
    /// The stable kind code (`unknown-field`, `invalid-duration`, …).
    pub code: *const c_char,
    /// The file (source name) the document came from.
    pub file: *const c_char,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// The path inside the document (`spec.signatures[3].match`); may be empty.
    pub path: *const c_char,
    /// What is wrong, in one sentence.
    pub message: *const c_char,
    /// What the grammar expected there, or NULL.
    pub expected: *const c_char,
    /// What was found there, or NULL.
    pub found: *const c_char,
    /// A plain fix, or NULL.
    pub suggestion: *const c_char,
}

/// An error: a result code, a message and the diagnostics behind it.
///
/// Created by a failing call and owned by the caller, who frees it with
/// `healbot_error_free`. Immutable: it may be read from any thread, and
/// freed once by one. Strings and diagnostics it hands out live as long as
/// it does.
#[derive(Debug)]
pub struct healbot_error {
    result: healbot_result,
    message: CString,
    /// Owns the strings the diagnostics point into.
    _strings: CStrings,
    diagnostics: Vec<healbot_diagnostic>,
}

/// A NUL-terminated copy of `s`; NUL bytes inside it become U+FFFD.
pub(crate) fn cstring(s: &str) -> CString {
    match CString::new(s) {
        Ok(c) => c,
        Err(_) => CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default(),
    }
}

/// The C strings an object hands out pointers into; they live as long as it.
#[derive(Debug, Default)]
pub(crate) struct CStrings(Vec<CString>);

impl CStrings {
    /// A NUL-terminated copy of `s` (see [`cstring`]), kept here.
    pub(crate) fn keep(&mut self, s: &str) -> *const c_char {
        let c = cstring(s);
        let p = c.as_ptr();
        self.0.push(c);
        p
    }

    /// As [`CStrings::keep`], NULL for `None`.
    pub(crate) fn keep_opt(&mut self, s: Option<&str>) -> *const c_char {
        s.map_or(ptr::null(), |s| self.keep(s))
    }
}

impl healbot_error {
    pub(crate) fn new(result: healbot_result, message: &str, diagnostics: &[Diagnostic]) -> healbot_error {
        let mut strings = CStrings::default();
        let diagnostics = diagnostics
            .iter()
            .map(|d| healbot_diagnostic {
                severity: match d.severity {
                    Severity::Warning => healbot_severity::Warning,
                    Severity::Error => healbot_severity::Error,
                },
                code: strings.keep(d.kind.code()),
                file: strings.keep(&d.file),
                line: d.line,
                column: d.column,
                path: strings.keep(&d.path),
                message: strings.keep(&d.message),
                expected: strings.keep_opt(d.expected.as_deref()),
                found: strings.keep_opt(d.found.as_deref()),
                suggestion: strings.keep_opt(d.suggestion.as_deref()),
            })
            .collect();
        healbot_error { result, message: cstring(message), _strings: strings, diagnostics }
    }
}

/// Frees an error. NULL is accepted and ignored.
///
/// # Safety
///
/// `err` is NULL or an error from this library not yet freed; it must not
/// be used after this call.
#[no_mangle]
pub unsafe extern "C" fn healbot_error_free(err: *mut healbot_error) {
    // SAFETY: the caller passes NULL or an error this library boxed, once.
    unsafe { free(err) }
}

/// The result code of an error (`HEALBOT_RESULT_NULL_PARAMETER` for NULL).
///
/// # Safety
///
/// `err` is NULL or a live error.
#[no_mangle]
pub unsafe extern "C" fn healbot_error_result(err: *const healbot_error) -> healbot_result {
    // SAFETY: the caller passes NULL or a live error.
    guard(healbot_result::Panic, || unsafe { read(err, healbot_result::NullParameter, |e| e.result) })
}

/// The message of an error, NUL-terminated, without its diagnostics. Owned
/// by the error. NULL for a NULL error.
///
/// # Safety
///
/// `err` is NULL or a live error; the string lives as long as the error.
#[no_mangle]
pub unsafe extern "C" fn healbot_error_message(err: *const healbot_error) -> *const c_char {
    // SAFETY: the caller passes NULL or a live error.
    unsafe { read(err, ptr::null(), |e| e.message.as_ptr()) }
}

/// How many diagnostics an error carries (0 for NULL).
///
/// # Safety
///
/// `err` is NULL or a live error.
#[no_mangle]
pub unsafe extern "C" fn healbot_error_diagnostic_count(err: *const healbot_error) -> usize {
    // SAFETY: the caller passes NULL or a live error.
    unsafe { read(err, 0, |e| e.diagnostics.len()) }
}

/// The diagnostic at `index` (in source order), owned by the error; NULL
/// when `err` is NULL or `index` is out of range.
///
/// # Safety
///
/// `err` is NULL or a live error; the diagnostic lives as long as the error.
#[no_mangle]
pub unsafe extern "C" fn healbot_error_diagnostic(
    err: *const healbot_error,
    index: usize,
) -> *const healbot_diagnostic {
    // SAFETY: the caller passes NULL or a live error.
    unsafe { read(err, ptr::null(), |e| e.diagnostics.get(index).map_or(ptr::null(), ptr::from_ref)) }
}
