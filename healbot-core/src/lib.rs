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
//! - [`library`]: the compiled, shareable library.
//! - [`freeze`]: change-freeze calendars in a time zone.
//! - [`topology`]: the compiled service graph and its queries.
//! - [`telemetry`]: observations and the native input formats.
//! - [`window`]: bounded time windows over metric series, and event counters.
//! - [`logmatch`]: the compiled multi-pattern log matcher.
//! - [`matcher`]: signatures compiled into a program, and their evaluation.
//! - [`diagnosis`]: diagnoses and their evidence.
//! - [`confidence`]: confidence in log-odds, term by term.
//! - [`decision`]: the decision document and the verdict ladder.
//! - [`engine`]: the engine facade with per-shard state.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod confidence;
pub mod decision;
pub mod diagnosis;
pub mod diagnostic;
pub mod duration;
pub mod engine;
pub mod error;
pub mod freeze;
pub mod guard;
mod instance;
pub mod ledger;
pub mod library;
pub mod load;
pub mod logmatch;
pub mod matcher;
pub mod name;
mod radix;
pub mod rootcause;
pub mod selection;
pub mod source;
pub mod spec;
mod table;
pub mod telemetry;
pub mod topology;
pub mod window;

pub use decision::{Decision, Verdict};
pub use diagnostic::{Diagnostic, DiagnosticKind, Severity};
pub use duration::Duration;
pub use engine::{Engine, EngineConfig};
pub use error::{Error, ErrorKind};
pub use library::Library;
pub use name::Name;
pub use topology::Topology;

/// The version of this engine, compared with a document's
/// `metadata.min_engine_version`.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");
