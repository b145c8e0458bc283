//! Decisions as typed structs.

use std::ffi::{c_char, CString};
use std::ptr;

use healbot_core::decision::RootRole;
use healbot_core::{Decision, Verdict};

use crate::boundary::{self, guard, out, write, Failure};
use crate::buffer::healbot_buffer;
use crate::engine::{engine_ref, healbot_engine};
use crate::error::{cstring, healbot_error, healbot_result};

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
    _strings: Vec<CString>,
}

impl healbot_decisions {
    pub(crate) fn new(decisions: &[Decision]) -> healbot_decisions {
        let mut strings = Vec::new();
        let mut keep = |s: &str| {
            let c = cstring(s);
            let p = c.as_ptr();
            strings.push(c);
            p
        };
        let mut items = Vec::with_capacity(decisions.len());
        for d in decisions {
            let sig = d.signature.as_ref().map(|s| s.id.as_str());
            let action = d.action.as_ref();
            items.push(healbot_decision {
                id: keep(&d.id),
                node: keep(&d.node),
                signature_id: sig.map_or(ptr::null(), &mut keep),
                verdict: healbot_verdict::of(d.verdict),
                root_role: match d.root_cause.role {
                    RootRole::Root => healbot_root_role::Root,
                    RootRole::Symptom => healbot_root_role::Symptom,
                    RootRole::InferredSuspect => healbot_root_role::InferredSuspect,
                },
                root_cause_node: keep(&d.root_cause.node),
                confidence: d.confidence.value,
                onset_ms: d.onset,
                at_ms: d.at,
                action_id: action.map_or(ptr::null(), |a| keep(&a.id)),
                action_operation: action.map_or(ptr::null(), |a| keep(&a.operation)),
                action_target: action.map_or(ptr::null(), |a| keep(&a.target)),
                json: keep(&d.to_json()),
            });
        }
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
    guard(0, || {
        // SAFETY: the caller passes NULL or a live value.
        unsafe { decisions.as_ref() }.map_or(0, |d| d.items.len())
    })
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
    guard(ptr::null(), || {
        // SAFETY: the caller passes NULL or a live value.
        unsafe { decisions.as_ref() }
            .and_then(|d| d.items.get(index))
            .map_or(ptr::null(), |d| d as *const healbot_decision)
    })
}

/// Frees decisions. NULL is accepted and ignored.
///
/// # Safety
///
/// `decisions` is NULL or a value from this library not yet freed; neither
/// it nor anything it handed out may be used after this call.
#[no_mangle]
pub unsafe extern "C" fn healbot_decisions_free(decisions: *mut healbot_decisions) {
    guard((), || {
        if !decisions.is_null() {
            // SAFETY: the caller passes a value this crate boxed, once.
            drop(unsafe { Box::from_raw(decisions) });
        }
    });
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
    boundary::run(err_out, || {
        let out_p = out(decisions_out, "decisions_out")?;
        // SAFETY: per this function's contract.
        let e = unsafe { engine_ref(engine) }?;
        let decisions = e.lock()?.engine.evaluate(at_ms);
        write(out_p, Box::into_raw(Box::new(healbot_decisions::new(&decisions))));
        Ok(())
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
    boundary::run(err_out, || {
        let out_p = out(json_out, "json_out")?;
        // SAFETY: per this function's contract.
        let e = unsafe { engine_ref(engine) }?;
        let decisions = e.lock()?.engine.evaluate(at_ms);
        let json = serde_json::to_vec(&decisions)
            .map_err(|err| Failure::new(healbot_result::Other, format!("cannot serialise decisions: {err}")))?;
        write(out_p, healbot_buffer::boxed(json));
        Ok(())
    })
}
