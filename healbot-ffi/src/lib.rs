//! # HealBot C ABI
//!
//! The C interface of HealBot, in the conventions of rustls-ffi:
//!
//! - opaque handles with `healbot_<type>_new` / `healbot_<type>_free` pairs;
//!   every `_free` accepts NULL;
//! - inputs first, outputs last; a `T **out` parameter transfers ownership
//!   to the caller, and outputs are written only on success;
//! - every fallible function returns a [`healbot_result`] and, on failure,
//!   writes a new [`healbot_error`] (message and diagnostics) to its last
//!   parameter `healbot_error **err_out` when that is not NULL. There is no
//!   thread-local "last error": the error comes back with the call;
//! - every exported function runs inside a panic boundary: a panic becomes
//!   `HEALBOT_RESULT_PANIC` and the process lives on;
//! - strings are UTF-8. Names and ids are NUL-terminated `const char *`;
//!   documents, payloads and snapshots are `(const uint8_t *, size_t)`.
//!
//! Label sets cross the ABI as one packed byte buffer: keys and values
//! alternate, each followed by a NUL byte (`"service\0api\0env\0prod\0"`);
//! the length counts every byte, the last NUL included. A C string literal
//! holding the pairs gives that length with `sizeof`:
//! `static const char L[] = "service\0api";` then `(L, sizeof L)`.
//! An empty set is `(NULL, 0)`.
//!
//! Bindings translate; every decision is the core's (`healbot-core`).
#![allow(non_camel_case_types)] // C type names (`healbot_engine`) are the ABI.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod boundary;
mod buffer;
mod decision;
mod document;
mod engine;
mod error;
mod graph;

pub use buffer::*;
pub use decision::*;
pub use document::*;
pub use engine::*;
pub use error::*;
pub use graph::*;

use std::ffi::c_char;

/// The version of the C ABI this library implements. It changes whenever a
/// function, type or constant changes incompatibly; a binding compares it
/// with `healbot_abi_version()` when it loads.
pub const HEALBOT_ABI_VERSION: u32 = 1;

/// The version of the library, `MAJOR.MINOR.PATCH`, as a static
/// NUL-terminated string (never freed).
#[no_mangle]
pub extern "C" fn healbot_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version the library was built with: `HEALBOT_ABI_VERSION` of
/// its own header. A program built against another header must not use it.
#[no_mangle]
pub extern "C" fn healbot_abi_version() -> u32 {
    HEALBOT_ABI_VERSION
}

/// Panics inside the library, on purpose. For tests only: it shows that a
/// panic comes back as `HEALBOT_RESULT_PANIC` (with the panic message in the
/// error) and that the process lives on. Never call it in production code.
///
/// # Safety
///
/// `err_out` is NULL or points to writable storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn healbot_test_panic(err_out: *mut *mut healbot_error) -> healbot_result {
    boundary::run(err_out, || {
        // The one deliberate panic of the crate: the hook exists to test the panic boundary.
        #[allow(clippy::panic)]
        {
            panic!("healbot_test_panic was called")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header promises that libraries and topologies may be shared by
    /// threads and that an engine may be called from any thread (under its
    /// lock): the Rust values behind them must be `Sync` and `Send`.
    #[test]
    fn handles_are_as_thread_safe_as_the_header_says() {
        fn shared<T: Send + Sync>() {}
        shared::<healbot_core::Library>();
        shared::<healbot_core::Topology>();
        shared::<healbot_engine>();
    }

    #[test]
    fn version_is_the_crate_version() {
        // SAFETY: a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(healbot_version()) };
        assert_eq!(v.to_str(), Ok(env!("CARGO_PKG_VERSION")));
        assert_eq!(healbot_abi_version(), HEALBOT_ABI_VERSION);
    }
}
