//! The document model: the envelope and the four document kinds.
//!
//! These types are what documents deserialize into and what the JSON Schemas
//! under `schema/` are generated from. They are validated and compiled by
//! [`crate::load`]; nothing here is evaluated directly.

pub mod topology;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use topology::{NodeKind, NodeSpec, TopologySpec};

/// How a metric predicate aggregates the samples in its window.
///
/// `rate` and `increase` treat the series as a counter and handle resets the
/// way Prometheus does; `slope` is the least-squares slope per second;
/// `quantile` takes its `q` from the predicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// The newest sample in the window.
    Last,
    /// The smallest sample.
    Min,
    /// The largest sample.
    Max,
    /// The arithmetic mean.
    Avg,
    /// The sum of samples.
    Sum,
    /// The number of samples.
    Count,
    /// Per-second increase of a counter, resets handled.
    Rate,
    /// Increase of a counter over the window, resets handled.
    Increase,
    /// The q-quantile of the samples (linear interpolation).
    Quantile,
    /// Least-squares slope, in units per second.
    Slope,
}
