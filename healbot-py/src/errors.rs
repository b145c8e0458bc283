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
//!     └── InvalidArgumentError    (also a ValueError)
//! ```

use healbot_core::{Error, ErrorKind};
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
    let value = e.value(py);
    value.setattr("message", err.message())?;
    let diagnostics: Vec<Diagnostic> = err.diagnostics().iter().map(Diagnostic::from_core).collect();
    value.setattr("diagnostics", PyList::new(py, diagnostics)?)?;
    Ok(e)
}

/// A core error of `kind` with `message`, as a Python exception.
pub fn err(kind: ErrorKind, message: impl Into<String>) -> PyErr {
    to_py_err(Error::new(kind, message))
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
    Ok(())
}
