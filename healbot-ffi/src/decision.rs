//! Decisions as typed structs.

use std::ffi::c_char;
use std::ptr;

use healbot_core::decision::RootRole;
use healbot_core::{Decision, Verdict};

use crate::boundary::{free, json_buffer, read, run_new};
use crate::buffer::healbot_buffer;
use crate::engine::{healbot_engine, locked};
use crate::error::{healbot_error, healbot_result, CStrings};

/// What the host should do about a decision.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum healbot_verdict {
    /// Run the chosen action unattended.
    Execute = 1,
    /// Ask a person to approve the chosen action (or to look).
    Escalate = 2,
    /// A symptom: act on the named root cause instead.
    Suppress = 3,
    /// Every candidate action failed a guard.
    Blocked = 4,
    /// Nothing to do, or a notice.
    Observe = 5,
}

impl healbot_verdict {
    fn of(v: Verdict) -> healbot_verdict {
        match v {
            Verdict::Execute => healbot_verdict::Execute,
            Verdict::Escalate => healbot_verdict::Escalate,
            Verdict::Suppress => healbot_verdict::Suppress,
            Verdict::Blocked => healbot_verdict::Blocked,
            Verdict::Observe => healbot_verdict::Observe,
        }
    }
}

/// The snake_case name of a verdict (`execute`, …), static and
/// NUL-terminated; NULL for a number that is no verdict.
#[no_mangle]
pub extern "C" fn healbot_verdict_name(verdict: u32) -> *const c_char {
    let v = match verdict {
        1 => Verdict::Execute,
        2 => Verdict::Escalate,
        3 => Verdict::Suppress,
        4 => Verdict::Blocked,
        5 => Verdict::Observe,
        _ => return ptr::null(),
    };
    match v {
        Verdict::Execute => c"execute",
        Verdict::Escalate => c"escalate",
        Verdict::Suppress => c"suppress",
        Verdict::Blocked => c"blocked",
        Verdict::Observe => c"observe",
    }
    .as_ptr()
}

/// The role of a decision's node in the failure.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum healbot_root_role {
    /// A root-cause candidate.
    Root = 1,
    /// A symptom of a root cause elsewhere (`root_cause_node`).
    Symptom = 2,
    /// An undiagnosed dependency shared by several failing nodes.
    InferredSuspect = 3,
}

/// The common fields of one decision. Every string is NUL-terminated UTF-8
/// owned by the `healbot_decisions` it came from and valid until that is
/// freed; optional strings are NULL when absent. `json` is the complete
/// decision document (evidence, confidence terms, rejected actions,
/// explanation).
#[repr(C)]
#[derive(Debug)]
pub struct healbot_decision {
    /// Deterministic id from signature, node and onset.
    pub id: *const c_char,
    /// The node.
    pub node: *const c_char,
    /// The signature id; NULL for an inferred suspect.
    pub signature_id: *const c_char,
    /// What to do.
    pub verdict: healbot_verdict,
    /// The role of the node.
    pub root_role: healbot_root_role,
    /// The root-cause node (the node itself when it is a root).
    pub root_cause_node: *const c_char,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// When the failure began (Unix ms).
    pub onset_ms: i64,
    /// Evaluation time (Unix ms).
    pub at_ms: i64,
    /// The chosen action's id; NULL when none was chosen.
    pub action_id: *const c_char,
    /// The verb the host executes (`restart`, `failover`, …); NULL when no action.
    pub action_operation: *const c_char,
    /// The node the action targets; NULL when no action.
    pub action_target: *const c_char,
    /// The whole decision document as JSON.
    pub json: *const c_char,
}

/// The decisions of one evaluation, in the engine's order.
///
/// Created by `healbot_engine_evaluate` and owned by the caller, who frees
/// it with `healbot_decisions_free`. Immutable: it may be read from any
/// thread, and freed once by one. Decisions and their strings live as long
/// as it does.
#[derive(Debug)]
pub struct healbot_decisions {
    items: Vec<healbot_decision>,
    /// Owns the strings the items point into.
    _strings: CStrings,
}

impl healbot_decisions {
    pub(crate) fn new(decisions: &[Decision]) -> healbot_decisions {
        let mut strings = CStrings::default();
        let items = decisions
            .iter()
            .map(|d| {
                let action = d.action.as_ref();
                healbot_decision {
                    id: strings.keep(&d.id),
                    node: strings.keep(&d.node),
                    signature_id: strings.keep_opt(d.signature.as_ref().map(|s| s.id.as_str())),
                    verdict: healbot_verdict::of(d.verdict),
                    root_role: match d.root_cause.role {
                        RootRole::Root => healbot_root_role::Root,
                        RootRole::Symptom => healbot_root_role::Symptom,
                        RootRole::InferredSuspect => healbot_root_role::InferredSuspect,
                    },
                    root_cause_node: strings.keep(&d.root_cause.node),
                    confidence: d.confidence.value,
                    onset_ms: d.onset,
                    at_ms: d.at,
                    action_id: strings.keep_opt(action.map(|a| a.id.as_str())),
                    action_operation: strings.keep_opt(action.map(|a| a.operation.as_str())),
                    action_target: strings.keep_opt(action.map(|a| a.target.as_str())),
                    json: strings.keep(&d.to_json()),
                }
            })
            .collect();
        healbot_decisions { items, _strings: strings }
    }
}

/// How many decisions there are (0 for NULL).
///
/// # Safety
///
/// `decisions` is NULL or a live `healbot_decisions`.
#[no_mangle]
pub unsafe extern "C" fn healbot_decisions_count(decisions: *const healbot_decisions) -> usize {
    // SAFETY: the caller passes NULL or a live value.
    unsafe { read(decisions, 0, |d| d.items.len()) }
}

/// The decision at `index`, owned by `decisions`; NULL when `decisions` is
/// NULL or `index` is out of range.
///
/// # Safety
///
/// `decisions` is NULL or a live `healbot_decisions`; the decision lives as
/// long as it.
#[no_mangle]
pub unsafe extern "C" fn healbot_decisions_get(
    decisions: *const healbot_decisions,
    index: usize,
) -> *const healbot_decision {
    // SAFETY: the caller passes NULL or a live value.
    unsafe { read(decisions, ptr::null(), |d| d.items.get(index).map_or(ptr::null(), ptr::from_ref)) }
}

/// Frees decisions. NULL is accepted and ignored.
///
/// # Safety
///
/// `decisions` is NULL or a value from this library not yet freed; neither
/// it nor anything it handed out may be used after this call.
#[no_mangle]
pub unsafe extern "C" fn healbot_decisions_free(decisions: *mut healbot_decisions) {
    // SAFETY: the caller passes NULL or a value this crate boxed, once.
    unsafe { free(decisions) }
}

/// Evaluates every signature at `at_ms` (Unix ms) and writes the decisions,
/// as typed structs, to `decisions_out`; free them with
/// `healbot_decisions_free`. Evaluating records `for` state and may
/// change the engine (unless it runs in `dry_run`).
///
/// # Safety
///
/// `engine` is a live engine; `decisions_out` and `err_out` (nullable) are
/// writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_evaluate(
    engine: *mut healbot_engine,
    at_ms: i64,
    decisions_out: *mut *mut healbot_decisions,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, decisions_out, "decisions_out", || {
        // SAFETY: per this function's contract.
        let decisions = unsafe { locked(engine) }?.evaluate(at_ms);
        Ok(healbot_decisions::new(&decisions))
    })
}

/// Evaluates as `healbot_engine_evaluate` and writes the decisions as one
/// JSON array of decision documents to `json_out`; free it with
/// `healbot_buffer_free`.
///
/// # Safety
///
/// `engine` is a live engine; `json_out` and `err_out` (nullable) are
/// writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_evaluate_json(
    engine: *mut healbot_engine,
    at_ms: i64,
    json_out: *mut *mut healbot_buffer,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, json_out, "json_out", || {
        // SAFETY: per this function's contract.
        let decisions = unsafe { locked(engine) }?.evaluate(at_ms);
        json_buffer(serde_json::to_vec(&decisions), "decisions")
    })
}

/// Diagnoses at `at_ms` (Unix ms) without deciding: every signature that
/// matches, on every node it applies to, as one JSON array of diagnosis
/// documents (`signature`, `node_id`, `category`, `severity`, `status`,
/// `onset`, `at`, `evidence`, `evidence_weight`, `coverage`, `forecast`, …)
/// sorted by node and signature, written to `json_out`; free it with
/// `healbot_buffer_free`. Like evaluating, it advances the engine's clock
/// and updates the health the next evaluation starts from, but makes no
/// decision and records nothing in the ledger.
///
/// # Safety
///
/// `engine` is a live engine; `json_out` and `err_out` (nullable) are
/// writable.
#[no_mangle]
pub unsafe extern "C" fn healbot_engine_diagnose_json(
    engine: *mut healbot_engine,
    at_ms: i64,
    json_out: *mut *mut healbot_buffer,
    err_out: *mut *mut healbot_error,
) -> healbot_result {
    run_new(err_out, json_out, "json_out", || {
        // SAFETY: per this function's contract.
        let evaluation = unsafe { locked(engine) }?.diagnose(at_ms);
        json_buffer(serde_json::to_vec(&evaluation.diagnoses), "diagnoses")
    })
}
