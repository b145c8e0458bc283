//! Byte buffers the library hands out (JSON documents, snapshots).

use std::ptr;

use crate::boundary::{free, read};

/// Bytes owned by the library: a JSON document or a snapshot.
///
/// Created by the call that returns it and owned by the caller, who frees
/// it with `healbot_buffer_free`. Immutable: it may be read from any
/// thread, and freed once by one. The data is followed by a NUL byte that
/// `healbot_buffer_len` does not count, so a JSON buffer is also a C string.
#[derive(Debug)]
pub struct healbot_buffer {
    /// The bytes, then one NUL.
    data: Vec<u8>,
}

impl healbot_buffer {
    pub(crate) fn new(mut data: Vec<u8>) -> healbot_buffer {
        data.push(0);
        healbot_buffer { data }
    }
}

/// The bytes of a buffer (NULL for a NULL buffer), valid until it is freed.
///
/// # Safety
///
/// `buf` is NULL or a live buffer.
#[no_mangle]
pub unsafe extern "C" fn healbot_buffer_data(buf: *const healbot_buffer) -> *const u8 {
    // SAFETY: the caller passes NULL or a live buffer.
    unsafe { read(buf, ptr::null(), |b| b.data.as_ptr()) }
}

/// The length of a buffer in bytes, without the trailing NUL (0 for NULL).
///
/// # Safety
///
/// `buf` is NULL or a live buffer.
#[no_mangle]
pub unsafe extern "C" fn healbot_buffer_len(buf: *const healbot_buffer) -> usize {
    // SAFETY: the caller passes NULL or a live buffer.
    unsafe { read(buf, 0, |b| b.data.len().saturating_sub(1)) }
}

/// Frees a buffer. NULL is accepted and ignored.
///
/// # Safety
///
/// `buf` is NULL or a buffer from this library not yet freed; neither it
/// nor its data may be used after this call.
#[no_mangle]
pub unsafe extern "C" fn healbot_buffer_free(buf: *mut healbot_buffer) {
    // SAFETY: the caller passes NULL or a buffer this library boxed, once.
    unsafe { free(buf) }
}
