//! Python bindings for HealBot: the native module `healbot._native`.
//!
//! The bindings translate between Python and the core and hold no logic of
//! their own. Every core error becomes an exception in one place
//! (`errors::to_py_err`), and every method that calls into the core runs
//! inside one panic boundary (`errors::guard`), so a panic comes back as
//! `healbot.InternalError`; calls that can take time release the GIL; the
//! engine sits behind a mutex so several Python threads can share it.

mod buffer;
mod convert;
mod engine;
mod errors;
mod graph;
mod pyser;
mod results;

use pyo3::prelude::*;

/// The extension's own allocations (decision documents, series, evidence)
/// go through mimalloc rather than the platform's malloc: an evaluation
/// allocates and frees thousands of small blocks, and glibc's malloc spends
/// about 180 instructions on each of them there. Python's objects keep
/// Python's allocator; only memory the Rust side allocates and frees is
/// affected.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The native module. Import `healbot` instead.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<graph::Library>()?;
    m.add_class::<graph::Topology>()?;
    m.add_class::<graph::Node>()?;
    m.add_class::<graph::BlastRadius>()?;
    m.add_class::<engine::Engine>()?;
    m.add_class::<engine::SeriesHandle>()?;
    m.add_class::<engine::SeriesSet>()?;
    m.add_class::<results::Diagnostic>()?;
    m.add_class::<results::Diagnosis>()?;
    m.add_class::<results::Evidence>()?;
    m.add_class::<results::IngestReport>()?;
    m.add_class::<results::Decision>()?;
    m.add_class::<results::SignatureRef>()?;
    m.add_class::<results::Confidence>()?;
    m.add_class::<results::ConfidenceTerm>()?;
    m.add_class::<results::RootCause>()?;
    m.add_class::<results::Action>()?;
    m.add_class::<results::RejectedAction>()?;
    m.add_class::<results::GuardFailure>()?;
    m.add_function(wrap_pyfunction!(graph::_library_from_state, m)?)?;
    m.add_function(wrap_pyfunction!(graph::_topology_from_state, m)?)?;
    m.add_function(wrap_pyfunction!(engine::_engine_from_state, m)?)?;
    m.add_function(wrap_pyfunction!(engine::_core_ingest_metric_loop, m)?)?;
    m.add_function(wrap_pyfunction!(errors::_test_panic, m)?)?;
    m.add("ENGINE_VERSION", healbot_core::ENGINE_VERSION)?;
    m.add("DECISION_SCHEMA_VERSION", healbot_core::decision::DECISION_SCHEMA_VERSION)?;
    Ok(())
}
