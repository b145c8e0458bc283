//! The exception hierarchy, and the one place core errors become Python
//! exceptions ([`to_py_err`]).
//!
//! ```text
//! Exception
//! └── HealbotError
//!     ├── LibraryError            (also a ValueError)
//!     ├── TopologyError
//!     ├── TelemetryError
//!     ├── LimitExceeded
//!     ├── SnapshotError
//!     ├── InvalidArgumentError    (also a ValueError)
//!     └── InternalError           (a bug in HealBot: it panicked)
//! ```
//!
//! A Rust panic must never reach Python as PyO3's `PanicException`, which
//! derives from `BaseException`: a runbook's `except healbot.HealbotError`
//! would not catch it. Every method that calls into the core runs inside
//! [`guard`], which turns a panic into [`InternalError`].

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use healbot_core::{Diagnostic as CoreDiagnostic, Error, ErrorKind};
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};

use crate::results::Diagnostic;

pyo3::create_exception!(
    healbot,
    HealbotError,
    PyException,
    "The base of every error HealBot raises. `message` is the error without its diagnostics."
);
pyo3::create_exception!(
    healbot,
    TopologyError,
    HealbotError,
    "A topology document is invalid (see `diagnostics`), or a node is unknown."
);
pyo3::create_exception!(healbot, TelemetryError, HealbotError, "A telemetry payload cannot be read at all.");
pyo3::create_exception!(
    healbot,
    LimitExceeded,
    HealbotError,
    "A configured limit rejected the input (payload size, series cardinality)."
);
pyo3::create_exception!(
    healbot,
    SnapshotError,
    HealbotError,
    "A snapshot is corrupt, of another format version or of another library."
);

pyo3::create_exception!(
    healbot,
    InternalError,
    HealbotError,
    "HealBot panicked: a bug in HealBot, not a problem with the input. The message says what \
     failed; please report it. An engine that raised it stays unusable (every later call raises \
     it again): create a new one, from a snapshot taken earlier if need be."
);

static LIBRARY_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static INVALID_ARGUMENT_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// An exception class with two bases (`HealbotError` and `ValueError`),
/// which `create_exception!` cannot make.
fn two_base_class<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyType>>,
    name: &str,
    doc: &str,
) -> PyResult<Bound<'py, PyType>> {
    let ty = cell.get_or_try_init(py, || -> PyResult<Py<PyType>> {
        let bases = PyTuple::new(py, [py.get_type::<HealbotError>(), py.get_type::<PyValueError>()])?;
        let namespace = PyDict::new(py);
        namespace.set_item("__module__", "healbot")?;
        namespace.set_item("__doc__", doc)?;
        let made = py.get_type::<PyType>().call1((name, bases, namespace))?;
        Ok(made.cast_into::<PyType>()?.unbind())
    })?;
    Ok(ty.bind(py).clone())
}

/// `LibraryError(HealbotError, ValueError)`.
pub fn library_error(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    two_base_class(
        py,
        &LIBRARY_ERROR,
        "LibraryError",
        "A signature, action or overrides document is invalid. `diagnostics` lists every problem \
         found, each with its file, line, column and path inside the document.",
    )
}

/// `InvalidArgumentError(HealbotError, ValueError)`.
pub fn invalid_argument_error(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    two_base_class(
        py,
        &INVALID_ARGUMENT_ERROR,
        "InvalidArgumentError",
        "An argument is out of its domain: a naive datetime, an unknown format name, a bad config key.",
    )
}

/// Turns a core error into its Python exception: the one place error kinds
/// are mapped. Every exception carries `message` and `diagnostics` (a list
/// of [`Diagnostic`], possibly empty).
pub fn to_py_err(err: Error) -> PyErr {
    Python::attach(|py| match build(py, &err) {
        Ok(e) | Err(e) => e,
    })
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let text = err.to_string();
    let e = match err.kind() {
        ErrorKind::Library => PyErr::from_type(library_error(py)?, (text,)),
        ErrorKind::Topology => TopologyError::new_err(text),
        ErrorKind::Telemetry => TelemetryError::new_err(text),
        ErrorKind::Limit => LimitExceeded::new_err(text),
        ErrorKind::Snapshot => SnapshotError::new_err(text),
        ErrorKind::InvalidArgument => PyErr::from_type(invalid_argument_error(py)?, (text,)),
        // `ErrorKind` is non-exhaustive: a kind added later is still a HealbotError.
        _ => HealbotError::new_err(text),
    };
    with_attributes(py, e, err.message(), err.diagnostics())
}

/// `e` with the attributes every HealBot exception carries.
fn with_attributes(py: Python<'_>, e: PyErr, message: &str, diagnostics: &[CoreDiagnostic]) -> PyResult<PyErr> {
    let value = e.value(py);
    value.setattr("message", message)?;
    let diagnostics: Vec<Diagnostic> = diagnostics.iter().map(Diagnostic::from_core).collect();
    value.setattr("diagnostics", PyList::new(py, diagnostics)?)?;
    Ok(e)
}

/// An [`InternalError`]: HealBot broke one of its own rules. `what` says
/// what went wrong; the message adds that it is a bug.
pub fn internal(what: &str) -> PyErr {
    let message = format!("{what} (a bug in HealBot; please report it)");
    Python::attach(|py| match with_attributes(py, InternalError::new_err(message.clone()), &message, &[]) {
        Ok(e) | Err(e) => e,
    })
}

/// The text of a panic's payload.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic with no message")
}

/// Runs `f`, the body of a method that calls into the core, inside a panic
/// boundary: a panic comes back as [`InternalError`] with the panic's
/// message, instead of crossing into Python as PyO3's `PanicException`.
///
/// The boundary sits outside any lock the method takes, so a panic while
/// the engine's lock is held still poisons it: the engine answers every
/// later call with `InternalError` (see `engine::poisoned`), as the C ABI
/// answers `HEALBOT_RESULT_PANIC`.
#[inline]
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(internal(&format!("HealBot panicked: {}", panic_message(payload.as_ref())))))
}

/// A core error of `kind` with `message`, as a Python exception.
pub fn err(kind: ErrorKind, message: impl Into<String>) -> PyErr {
    to_py_err(Error::new(kind, message))
}

/// Test support only, never call it: panics inside the native module, as a
/// bug in HealBot would, so that the tests can check that the panic comes
/// back as `InternalError` with its message.
#[pyfunction]
pub fn _test_panic() -> PyResult<()> {
    guard::<()>(|| {
        // The deliberate panic of this test hook.
        #[allow(clippy::panic)]
        {
            panic!("healbot._native._test_panic was called")
        }
    })
}

/// Registers the exception classes on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("HealbotError", py.get_type::<HealbotError>())?;
    m.add("LibraryError", library_error(py)?)?;
    m.add("TopologyError", py.get_type::<TopologyError>())?;
    m.add("TelemetryError", py.get_type::<TelemetryError>())?;
    m.add("LimitExceeded", py.get_type::<LimitExceeded>())?;
    m.add("SnapshotError", py.get_type::<SnapshotError>())?;
    m.add("InvalidArgumentError", invalid_argument_error(py)?)?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    Ok(())
}
