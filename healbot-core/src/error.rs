//! The error type of the core.
//!
//! [`Error`] is opaque: callers ask it for its [`ErrorKind`], its message and
//! its [`Diagnostic`]s, so new context can be added without breaking them.

use std::fmt;

use crate::diagnostic::Diagnostic;

/// The broad class of an [`Error`], for bindings to map onto their own
/// exception or result types in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A signature, action or overrides document is invalid.
    Library,
    /// A topology document is invalid, or a node is unknown.
    Topology,
    /// A telemetry payload is malformed.
    Telemetry,
    /// A configured limit rejected the input.
    Limit,
    /// A snapshot is corrupt, of another format version or of another library.
    Snapshot,
    /// An argument is out of its domain (a negative window, an unknown id).
    InvalidArgument,
}

/// An error from the core, with its context.
///
/// # Example
///
/// ```
/// use healbot_core::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::InvalidArgument, "unknown node `db`");
/// assert_eq!(err.kind(), ErrorKind::InvalidArgument);
/// assert_eq!(err.to_string(), "unknown node `db`");
/// assert!(err.diagnostics().is_empty());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Error(Box<Inner>);

#[derive(Clone, Debug, PartialEq)]
struct Inner {
    kind: ErrorKind,
    message: String,
    diagnostics: Vec<Diagnostic>,
}

impl Error {
    /// An error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error(Box::new(Inner { kind, message: message.into(), diagnostics: Vec::new() }))
    }

    /// An error carrying the diagnostics that caused it.
    pub fn with_diagnostics(kind: ErrorKind, message: impl Into<String>, diagnostics: Vec<Diagnostic>) -> Error {
        Error(Box::new(Inner { kind, message: message.into(), diagnostics }))
    }

    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message, without diagnostics.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Every diagnostic behind this error, in source order (may be empty).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.0.diagnostics
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)?;
        for d in &self.0.diagnostics {
            write!(f, "\n  {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
