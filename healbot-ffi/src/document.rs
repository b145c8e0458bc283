//! Compiled libraries and topologies.

use std::ffi::{c_char, CString};
use std::ptr;

use healbot_core::load::Format;
use healbot_core::{Library, Topology};

use crate::boundary::{array, free, handle, read, run_new, string, text_arg, Failure};
use crate::error::{cstring, healbot_error, healbot_result};

/// How a document's text is written. Passed as `uint32_t`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum healbot_format {
    /// From the name: `.json` is JSON, anything else YAML.
    Auto = 0,
    /// A YAML stream of one or more documents.
    Yaml = 1,
    /// One JSON document.
    Json = 2,
}

fn format(name: &str, f: u32) -> Result<Format, Failure> {
    match f {
        0 => Ok(Format::from_name(name)),
        1 => Ok(Format::Yaml),
        2 => Ok(Format::Json),
        _ => Err(Failure::invalid(format!("unknown document format {f}; expected 0 (auto), 1 (YAML) or 2 (JSON)"))),
    }
}

/// A compiled library of signatures and actions (with overrides applied).
///
/// Immutable and thread-safe: one library may be shared by any number of
/// engines and threads at once. An engine keeps what it needs, so the
/// library may be freed as soon as the engines are created.
#[derive(Debug)]
pub struct healbot_library {
    pub(crate) library: Library,
    revision: CString,
}

impl healbot_library {
    fn new(library: Library) -> healbot_library {
        let revision = cstring(library.revision());
        healbot_library { library, revision }
    }
}

/// A compiled service topology.
///
/// Immutable and thread-safe: one topology may be shared by any number of
/// engines and threads at once. An engine keeps what it needs, so the
/// topology may be freed as soon as the engines are created.
#[derive(Debug)]
pub struct healbot_topology {
    pub(crate) topology: Topology,
}

/// Loads a library from one text: signature, action and overrides
/// documents (a YAML stream may hold several).
///
/// `name` names the source in diagnostics (and picks the format under
/// `HEALBOT_FORMAT_AUTO`); `format` is a `healbot_format`. On failure the
/// error carries every diagnostic found (file, line, column, path).
///
/// # Safety
///
/// `name` is a NUL-terminated string; `text` is readable for `text_len`
/// bytes (NULL when 0); `library_out` and `err_out` (nullable) are
/// writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_library_new(
    name: *const c_char,
    text_ptr: *const u8,
    text_len: usize,
    format: u32,
    library_out: *mut *mut healbot_library,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, library_out, "library_out", || {
        // SAFETY: per this function's contract.
        let (name, src) = unsafe { (string(name, "name")?, text_arg(text_ptr, text_len, "text")?) };
        Ok(healbot_library::new(Library::from_text_format(name, src, self::format(name, format)?)?))
    })
}

/// Loads a library from several sources compiled together (signatures in
/// one file, actions in another, overrides in a third). Source `i` is named
/// `names[i]` (its format comes from the name: `.json` is JSON, anything
/// else YAML) and holds `lens[i]` bytes at `texts[i]`.
///
/// # Safety
///
/// `names`, `texts` and `lens` are arrays of `count` elements (NULL when
/// 0); each name is a NUL-terminated string and each text is readable for
/// its length; `library_out` and `err_out` (nullable) are writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_library_new_from_sources(
    names: *const *const c_char,
    texts: *const *const u8,
    lens: *const usize,
    count: usize,
    library_out: *mut *mut healbot_library,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, library_out, "library_out", || {
        // SAFETY: per this function's contract.
        let (names, texts, lens) =
            unsafe { (array(names, count, "names")?, array(texts, count, "texts")?, array(lens, count, "lens")?) };
        let mut sources = Vec::with_capacity(count);
        for (i, ((n, t), l)) in names.iter().zip(texts).zip(lens).enumerate() {
            // An error names the element, so a caller with many sources sees which.
            let (name, text) = (format!("names[{i}]"), format!("texts[{i}]"));
            // SAFETY: per this function's contract.
            sources.push(unsafe { (string(*n, &name)?, text_arg(*t, *l, &text)?) });
        }
        Ok(healbot_library::new(Library::from_sources(sources)?))
    })
}

/// The library's revision: a stable content hash (16 hex digits) stamped
/// on every decision and snapshot. Owned by the library; NULL for NULL.
///
/// # Safety
///
/// `library` is NULL or a live library; the string lives as long as it.
#[no_mangle]
pub unsafe extern "C" fn healbot_library_revision(library: *const healbot_library) -> *const c_char {
    // SAFETY: the caller passes NULL or a live library.
    unsafe { read(library, ptr::null(), |l| l.revision.as_ptr()) }
}

/// How many signatures the library holds (0 for NULL).
///
/// # Safety
///
/// `library` is NULL or a live library.
#[no_mangle]
pub unsafe extern "C" fn healbot_library_signature_count(library: *const healbot_library) -> usize {
    // SAFETY: the caller passes NULL or a live library.
    unsafe { read(library, 0, |l| l.library.signatures().len()) }
}

/// How many actions the library holds (0 for NULL).
///
/// # Safety
///
/// `library` is NULL or a live library.
#[no_mangle]
pub unsafe extern "C" fn healbot_library_action_count(library: *const healbot_library) -> usize {
    // SAFETY: the caller passes NULL or a live library.
    unsafe { read(library, 0, |l| l.library.actions().len()) }
}

/// Frees a library. NULL is accepted and ignored. Engines created from it
/// are unaffected.
///
/// # Safety
///
/// `library` is NULL or a library from this library not yet freed, and no
/// other thread uses it during or after this call.
#[no_mangle]
pub unsafe extern "C" fn healbot_library_free(library: *mut healbot_library) {
    // SAFETY: the caller passes NULL or a library this crate boxed, once.
    unsafe { free(library) }
}

/// Loads a topology from one text (one Topology document).
///
/// `name` names the source in diagnostics (and picks the format under
/// `HEALBOT_FORMAT_AUTO`); `format` is a `healbot_format`. On failure the
/// error carries every diagnostic found.
///
/// # Safety
///
/// `name` is a NUL-terminated string; `text` is readable for `text_len`
/// bytes (NULL when 0); `topology_out` and `err_out` (nullable) are
/// writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_new(
    name: *const c_char,
    text_ptr: *const u8,
    text_len: usize,
    format: u32,
    topology_out: *mut *mut healbot_topology,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, topology_out, "topology_out", || {
        // SAFETY: per this function's contract.
        let (name, src) = unsafe { (string(name, "name")?, text_arg(text_ptr, text_len, "text")?) };
        Ok(healbot_topology { topology: Topology::from_text_format(name, src, self::format(name, format)?)? })
    })
}

/// How many nodes the topology holds (0 for NULL).
///
/// # Safety
///
/// `topology` is NULL or a live topology.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_node_count(topology: *const healbot_topology) -> usize {
    // SAFETY: the caller passes NULL or a live topology.
    unsafe { read(topology, 0, |t| t.topology.len()) }
}

/// Frees a topology. NULL is accepted and ignored. Engines created from it
/// are unaffected.
///
/// # Safety
///
/// `topology` is NULL or a topology from this library not yet freed, and
/// no other thread uses it during or after this call.
#[no_mangle]
pub unsafe extern "C" fn healbot_topology_free(topology: *mut healbot_topology) {
    // SAFETY: the caller passes NULL or a topology this crate boxed, once.
    unsafe { free(topology) }
}

/// Shared access to a library handle argument.
///
/// # Safety
///
/// `p` is NULL or a live library.
pub(crate) unsafe fn library<'a>(p: *const healbot_library, name: &str) -> Result<&'a healbot_library, Failure> {
    // SAFETY: per this function's contract.
    unsafe { handle(p, name) }
}

/// Shared access to a topology handle argument.
///
/// # Safety
///
/// `p` is NULL or a live topology.
pub(crate) unsafe fn topology<'a>(p: *const healbot_topology, name: &str) -> Result<&'a healbot_topology, Failure> {
    // SAFETY: per this function's contract.
    unsafe { handle(p, name) }
}
