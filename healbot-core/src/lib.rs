//! # HealBot core
//!
//! An embeddable, deterministic decision engine for autonomous operations.
//! The host feeds telemetry and a service topology; HealBot matches it
//! against a library of failure signatures, finds the root cause over the
//! topology, picks a pre-validated action, checks it against guards, and
//! scores its confidence. It never executes anything and never reads a clock:
//! time is always passed in, as Unix milliseconds.
//!
//! ## Contents
//!
//! - [`duration`]: Prometheus-style durations.
//! - [`diagnostic`]: compiler-grade diagnostics for documents.
//! - [`source`]: the spanned YAML/JSON tree documents are parsed into, with budgets.
//! - [`spec`]: the document model (signatures, actions, topology, overrides).
//! - [`load`]: validating and compiling documents.
//! - [`topology`]: the compiled service graph and its queries.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod diagnostic;
pub mod duration;
pub mod error;
pub mod source;
pub mod spec;
pub mod telemetry;
pub mod topology;

pub use diagnostic::{Diagnostic, DiagnosticKind, Severity};
pub use duration::Duration;
pub use error::{Error, ErrorKind};

/// The version of this engine, compared with a document's
/// `metadata.min_engine_version`.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");
