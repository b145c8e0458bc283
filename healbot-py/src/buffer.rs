//! Zero-copy reading of numeric columns through the buffer protocol.
//!
//! PyO3's `PyBuffer` is compiled out for the stable ABI before Python 3.11
//! (`Py_buffer` joined the limited API in 3.11), and this wheel targets
//! abi3 for Python 3.9. `PyObject_GetBuffer` and `PyBuffer_Release` are
//! nevertheless exported by every CPython 3 interpreter, and the layout of
//! `Py_buffer` has not changed since Python 3.3 (3.11 froze it into the
//! stable ABI unchanged), so this module declares the two functions and the
//! struct itself and reads the exporter's memory in place: numpy arrays,
//! `array.array`, `memoryview`, `bytes`, anything that exports a buffer.

use std::ffi::{c_char, c_int, c_void, CStr};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;

/// CPython's `Py_buffer`, field for field.
#[repr(C)]
struct RawBuffer {
    buf: *mut c_void,
    obj: *mut ffi::PyObject,
    len: ffi::Py_ssize_t,
    itemsize: ffi::Py_ssize_t,
    readonly: c_int,
    ndim: c_int,
    format: *mut c_char,
    shape: *mut ffi::Py_ssize_t,
    strides: *mut ffi::Py_ssize_t,
    suboffsets: *mut ffi::Py_ssize_t,
    internal: *mut c_void,
}

// The symbols come from the interpreter that loads the extension.
extern "C" {
    fn PyObject_GetBuffer(obj: *mut ffi::PyObject, view: *mut RawBuffer, flags: c_int) -> c_int;
    fn PyBuffer_Release(view: *mut RawBuffer);
}

/// `PyBUF_STRIDES | PyBUF_FORMAT`, read-only: shape, strides and format,
/// no indirect (suboffset) buffers.
const PYBUF_RECORDS_RO: c_int = 0x0010 | 0x0008 | 0x0004;

/// The element type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem {
    /// `float64`
    F64,
    /// `float32`
    F32,
    /// A signed integer of 1, 2, 4 or 8 bytes.
    Int(u8),
    /// An unsigned integer of 1, 2, 4 or 8 bytes.
    UInt(u8),
}

impl Elem {
    /// Whether the column holds floats.
    pub fn is_float(self) -> bool {
        matches!(self, Elem::F64 | Elem::F32)
    }
}

/// A one-dimensional numeric buffer held open on a Python object. The
/// memory stays valid (and the exporter cannot resize it) until drop.
#[derive(Debug)]
pub struct Column {
    /// Boxed: some exporters point `shape` into the struct itself.
    raw: Box<RawBuffer>,
    view: ColumnView,
}

/// A copyable, `Send` view of an open [`Column`]'s memory, for reading with
/// the GIL released. It must not outlive its column.
#[derive(Clone, Copy, Debug)]
pub struct ColumnView {
    ptr: *const u8,
    len: usize,
    stride: isize,
    elem: Elem,
}

// SAFETY: the view only reads memory that the exporter keeps alive and
// unmoved while the buffer is held (until the owning `Column` is dropped,
// which happens after every detached read has finished). Concurrent writes
// by another Python thread are the same hazard numpy accepts when it
// releases the GIL; values are read with unaligned plain loads.
unsafe impl Send for ColumnView {}
// SAFETY: as above; the view is read-only.
unsafe impl Sync for ColumnView {}

impl std::fmt::Debug for RawBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawBuffer").field("len", &self.len).field("itemsize", &self.itemsize).finish()
    }
}

impl Column {
    /// Opens `ob`'s buffer as a one-dimensional numeric column.
    ///
    /// # Errors
    ///
    /// `TypeError` when `ob` does not export a buffer or its element type
    /// is not numeric; `ValueError` when it is not one-dimensional.
    pub fn open(ob: &Bound<'_, PyAny>, what: &str) -> PyResult<Column> {
        let mut raw = Box::new(RawBuffer {
            buf: std::ptr::null_mut(),
            obj: std::ptr::null_mut(),
            len: 0,
            itemsize: 0,
            readonly: 0,
            ndim: 0,
            format: std::ptr::null_mut(),
            shape: std::ptr::null_mut(),
            strides: std::ptr::null_mut(),
            suboffsets: std::ptr::null_mut(),
            internal: std::ptr::null_mut(),
        });
        // SAFETY: `ob` is a live object and we hold the GIL (`Bound`); `raw`
        // is a properly laid out, writable `Py_buffer`.
        let rc = unsafe { PyObject_GetBuffer(ob.as_ptr(), &mut *raw, PYBUF_RECORDS_RO) };
        if rc != 0 {
            let cause = PyErr::take(ob.py());
            let e = PyTypeError::new_err(format!(
                "{what}: expected a one-dimensional numeric buffer (a numpy array, array.array or \
                 memoryview), got {}",
                ob.get_type().name().map_or_else(|_| "?".to_string(), |n| n.to_string())
            ));
            e.set_cause(ob.py(), cause);
            return Err(e);
        }
        // From here on, `Column`'s drop releases the buffer on every path.
        let mut column = Column { raw, view: ColumnView { ptr: std::ptr::null(), len: 0, stride: 0, elem: Elem::F64 } };
        column.view = column.describe(what)?;
        Ok(column)
    }

    fn describe(&self, what: &str) -> PyResult<ColumnView> {
        let raw = &*self.raw;
        let format = if raw.format.is_null() {
            "B".to_string()
        } else {
            // SAFETY: a non-null `format` is a NUL-terminated string owned by
            // the exporter for the buffer's lifetime.
            unsafe { CStr::from_ptr(raw.format) }.to_string_lossy().into_owned()
        };
        let itemsize = usize::try_from(raw.itemsize).unwrap_or(0);
        let elem = parse_format(&format, itemsize).ok_or_else(|| {
            PyTypeError::new_err(format!(
                "{what}: buffer format `{format}` ({itemsize}-byte items) is not a native number; \
                 use float64, float32 or a native integer type"
            ))
        })?;
        let (len, stride) = match raw.ndim {
            0 => (1, 0),
            1 => {
                // SAFETY: with PyBUF_STRIDES requested, `shape` and `strides`
                // point to `ndim` entries.
                let len = if raw.shape.is_null() { raw.len / raw.itemsize.max(1) } else { unsafe { *raw.shape } };
                let stride = if raw.strides.is_null() { raw.itemsize } else { unsafe { *raw.strides } };
                (len, stride)
            }
            n => {
                return Err(PyValueError::new_err(format!(
                    "{what}: expected a one-dimensional buffer, got {n} dimensions"
                )))
            }
        };
        Ok(ColumnView { ptr: raw.buf.cast::<u8>().cast_const(), len: usize::try_from(len).unwrap_or(0), stride, elem })
    }

    /// A view for reading, valid while `self` lives.
    pub fn view(&self) -> ColumnView {
        self.view
    }
}

impl Drop for Column {
    fn drop(&mut self) {
        Python::attach(|_| {
            // SAFETY: the buffer was obtained by a successful
            // `PyObject_GetBuffer` and is released exactly once, with the GIL held.
            unsafe { PyBuffer_Release(&mut *self.raw) }
        });
    }
}

/// The element type of a struct-module format string of one item.
fn parse_format(format: &str, itemsize: usize) -> Option<Elem> {
    let (order, code) = match format.as_bytes() {
        [c] => (b'@', *c),
        [o, c] => (*o, *c),
        _ => return None,
    };
    // Only native byte order ('@', '=', and '<' or '>' when it is native).
    let native = match order {
        b'@' | b'=' => true,
        b'<' => cfg!(target_endian = "little"),
        b'>' | b'!' => cfg!(target_endian = "big"),
        _ => false,
    };
    if !native {
        return None;
    }
    let size = u8::try_from(itemsize).ok().filter(|s| matches!(s, 1 | 2 | 4 | 8))?;
    Some(match code {
        b'd' if size == 8 => Elem::F64,
        b'f' if size == 4 => Elem::F32,
        b'b' | b'h' | b'i' | b'l' | b'q' | b'n' => Elem::Int(size),
        b'B' | b'H' | b'I' | b'L' | b'Q' | b'N' => Elem::UInt(size),
        _ => return None,
    })
}

impl ColumnView {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The element type.
    pub fn elem(&self) -> Elem {
        self.elem
    }

    /// Element `i` as a float (integers above 2^53 round).
    #[inline]
    pub fn f64(&self, i: usize) -> f64 {
        // SAFETY: `i < len` is checked; `ptr + i * stride` is inside the
        // exporter's buffer by the buffer protocol's contract.
        if i >= self.len {
            return f64::NAN;
        }
        unsafe {
            let p = self.ptr.offset(i as isize * self.stride);
            match self.elem {
                Elem::F64 => p.cast::<f64>().read_unaligned(),
                Elem::F32 => f64::from(p.cast::<f32>().read_unaligned()),
                Elem::Int(1) => f64::from(p.cast::<i8>().read_unaligned()),
                Elem::Int(2) => f64::from(p.cast::<i16>().read_unaligned()),
                Elem::Int(4) => f64::from(p.cast::<i32>().read_unaligned()),
                Elem::Int(_) => p.cast::<i64>().read_unaligned() as f64,
                Elem::UInt(1) => f64::from(p.cast::<u8>().read_unaligned()),
                Elem::UInt(2) => f64::from(p.cast::<u16>().read_unaligned()),
                Elem::UInt(4) => f64::from(p.cast::<u32>().read_unaligned()),
                Elem::UInt(_) => p.cast::<u64>().read_unaligned() as f64,
            }
        }
    }

    /// Element `i` of an integer column, exactly; `None` for floats or when
    /// an unsigned value does not fit in `i64`.
    #[inline]
    pub fn i64(&self, i: usize) -> Option<i64> {
        if i >= self.len {
            return None;
        }
        // SAFETY: as in `f64`.
        unsafe {
            let p = self.ptr.offset(i as isize * self.stride);
            match self.elem {
                Elem::F64 | Elem::F32 => None,
                Elem::Int(1) => Some(i64::from(p.cast::<i8>().read_unaligned())),
                Elem::Int(2) => Some(i64::from(p.cast::<i16>().read_unaligned())),
                Elem::Int(4) => Some(i64::from(p.cast::<i32>().read_unaligned())),
                Elem::Int(_) => Some(p.cast::<i64>().read_unaligned()),
                Elem::UInt(1) => Some(i64::from(p.cast::<u8>().read_unaligned())),
                Elem::UInt(2) => Some(i64::from(p.cast::<u16>().read_unaligned())),
                Elem::UInt(4) => Some(i64::from(p.cast::<u32>().read_unaligned())),
                Elem::UInt(_) => i64::try_from(p.cast::<u64>().read_unaligned()).ok(),
            }
        }
    }
}
