//! Frozen result classes over the core's serialisable values. Each keeps
//! the core value and converts fields on access; `to_dict()` and
//! `to_json()` give the stable document.

use healbot_core::confidence::{Confidence as CoreConfidence, Term};
use healbot_core::decision::{ChosenAction, GuardFailure as CoreGuardFailure, RejectedAction as CoreRejected};
use healbot_core::decision::{RootCause as CoreRootCause, SignatureRef as CoreSignatureRef};
use healbot_core::diagnosis::{Diagnosis as CoreDiagnosis, EvidenceItem, Role};
use healbot_core::engine::IngestReport as CoreIngestReport;
use healbot_core::name::Name;
use healbot_core::{Decision as CoreDecision, Diagnostic as CoreDiagnostic, ErrorKind};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyString, PyType};

use crate::convert::{enum_str, ms_to_datetime, to_python, AddressHasher};
use crate::errors::{err, guard, internal, to_py_err};

fn json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| err(ErrorKind::InvalidArgument, format!("cannot serialise: {e}")))
}

/// The error for a part missing from its shared result (cannot happen:
/// parts are only made for what exists).
fn gone(what: &str) -> PyErr {
    internal(&format!("the {what} is missing from its result"))
}

/// The Python strings of a unit enum's spellings, made once per process
/// and shared (reading a verdict or a role then allocates nothing). Indexed
/// by the variant's discriminant; the spelling comes from the core.
struct Spelled([PyOnceLock<Py<PyString>>; SPELLED_VARIANTS]);

/// Variants a [`Spelled`] caches (more are spelled on each read).
const SPELLED_VARIANTS: usize = 8;

impl Spelled {
    const fn new() -> Spelled {
        Spelled([const { PyOnceLock::new() }; SPELLED_VARIANTS])
    }

    /// The string of variant `index`, spelled `text`.
    #[inline]
    fn get<'py>(&self, py: Python<'py>, index: usize, text: &'static str) -> Bound<'py, PyString> {
        match self.0.get(index) {
            Some(cell) => cell.get_or_init(py, || PyString::intern(py, text).unbind()).bind(py).clone(),
            None => PyString::new(py, text),
        }
    }
}

/// `ob`, no longer tracked by the cycle collector. A result object holds
/// no Python reference that could lead back to itself (only core values
/// behind an `Arc`, and strings and result objects made from them, which
/// hold none either), and result classes take neither subclasses nor
/// attributes, so it can never be part of a cycle; left tracked, every
/// collection while results are alive would visit each one (a thousand per
/// evaluation), and every decision kept across collections again and again.
pub(crate) fn untracked<T>(ob: Bound<'_, T>) -> Bound<'_, T> {
    // SAFETY: `ob` is a live object and the thread is attached (`Bound`).
    // Untracking an object that cannot be in a cycle only spares the
    // collector from visiting it (CPython does the same for tuples and dicts
    // of atomic values); deallocation untracks again, which is a no-op.
    unsafe { pyo3::ffi::PyObject_GC_UnTrack(ob.as_ptr().cast()) };
    ob
}

/// A new result object, untracked (see [`untracked`]).
fn new_result<T: pyo3::PyClass + Into<pyo3::PyClassInitializer<T>>>(py: Python<'_>, value: T) -> PyResult<Py<T>> {
    Ok(untracked(Bound::new(py, value)?).unbind())
}

/// The object in `cell`, made by `make` and stored on first use. Unlike
/// `PyOnceLock::get_or_init`, the first use does not let go of the
/// interpreter while it waits to fill the cell (which costs more than the
/// object): `make` runs with it held, and when two threads race, the first
/// object stored is the one both get (`make` only converts, so the objects
/// are equal).
#[inline]
fn cached<'py, T>(
    cell: &PyOnceLock<Py<T>>,
    py: Python<'py>,
    make: impl FnOnce() -> PyResult<Py<T>>,
) -> PyResult<Bound<'py, T>> {
    if let Some(v) = cell.get(py) {
        return Ok(v.bind(py).clone());
    }
    // A lost race drops the object made here and returns the stored one.
    let _ = cell.set(py, make()?);
    cell.get(py).map(|v| v.bind(py).clone()).ok_or_else(|| gone("cached attribute"))
}

// The result classes below share one core value per evaluated result: a
// `Decision` holds its core decision in an `Arc`, and its parts (confidence,
// evidence, root cause, action…) hold the same `Arc` and where the part
// sits, so reading `d.root_cause.role` copies nothing. A `SignatureRef`
// holds the core's signature reference, which the decisions of a signature
// share.

/// Where an evidence item lives: in a decision or in a diagnosis.
#[derive(Clone, Debug)]
enum EvidenceOwner {
    Decision(Arc<CoreDecision>),
    Diagnosis(Arc<CoreDiagnosis>),
}

impl EvidenceOwner {
    fn items(&self) -> &[EvidenceItem] {
        match self {
            EvidenceOwner::Decision(d) => &d.evidence,
            EvidenceOwner::Diagnosis(d) => &d.evidence,
        }
    }

    fn all(&self) -> Vec<Evidence> {
        (0..self.items().len()).map(|index| Evidence { owner: self.clone(), index }).collect()
    }
}

/// One problem found in a document: where (file, line, column, path inside
/// the document), what, and what was expected.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic(CoreDiagnostic);

impl Diagnostic {
    /// Wraps a core diagnostic.
    pub fn from_core(d: &CoreDiagnostic) -> Diagnostic {
        Diagnostic(d.clone())
    }
}

#[pymethods]
impl Diagnostic {
    /// `"error"` or `"warning"`.
    #[getter]
    fn severity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.severity)
    }
    /// The stable class of the problem (`unknown-field`).
    #[getter]
    fn code(&self) -> &'static str {
        self.0.kind.code()
    }
    /// The file (or source name).
    #[getter]
    fn file(&self) -> &str {
        &self.0.file
    }
    /// 1-based line.
    #[getter]
    fn line(&self) -> u32 {
        self.0.line
    }
    /// 1-based column, in characters.
    #[getter]
    fn column(&self) -> u32 {
        self.0.column
    }
    /// Path inside the document (`spec.signatures[3].match.all[1].window`).
    #[getter]
    fn path(&self) -> &str {
        &self.0.path
    }
    /// What is wrong.
    #[getter]
    fn message(&self) -> &str {
        &self.0.message
    }
    /// What was expected there, when known.
    #[getter]
    fn expected(&self) -> Option<&str> {
        self.0.expected.as_deref()
    }
    /// What was found there, when useful.
    #[getter]
    fn found(&self) -> Option<&str> {
        self.0.found.as_deref()
    }
    /// A plain fix, when there is one.
    #[getter]
    fn suggestion(&self) -> Option<&str> {
        self.0.suggestion.as_deref()
    }
    /// The diagnostic as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    /// The diagnostic as JSON.
    fn to_json(&self) -> PyResult<String> {
        json(&self.0)
    }
    fn __str__(&self) -> String {
        self.0.to_string()
    }
    fn __repr__(&self) -> String {
        format!("<Diagnostic {}>", self.0)
    }
}

/// One predicate as evaluated: what was observed, against what, whether it held.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug)]
pub struct Evidence {
    owner: EvidenceOwner,
    index: usize,
}

impl Evidence {
    fn v(&self) -> PyResult<&EvidenceItem> {
        self.owner.items().get(self.index).ok_or_else(|| gone("evidence item"))
    }
}

impl PartialEq for Evidence {
    fn eq(&self, other: &Evidence) -> bool {
        self.v().ok() == other.v().ok()
    }
}

#[pymethods]
impl Evidence {
    /// Where the predicate sits in the signature (`match.all[1].metric`).
    #[getter]
    fn path(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.about.path)
    }
    /// The predicate's id, when it has one.
    #[getter]
    fn id(&self) -> PyResult<Option<&str>> {
        let v = self.v()?;
        Ok(v.about.id.as_deref())
    }
    /// The predicate for people (`avg(cpu[5m]) > 0.9`).
    #[getter]
    fn predicate(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.about.predicate)
    }
    /// The observed value; None when there was no data.
    #[getter]
    fn observed(&self) -> PyResult<Option<f64>> {
        let v = self.v()?;
        Ok(v.observed)
    }
    /// The comparison (`>`), for predicates that compare.
    #[getter]
    fn op(&self) -> PyResult<Option<&'static str>> {
        let v = self.v()?;
        Ok(v.about.op.map(|o| o.as_str()))
    }
    /// The threshold, for predicates that compare.
    #[getter]
    fn threshold(&self) -> PyResult<Option<f64>> {
        let v = self.v()?;
        Ok(v.about.threshold)
    }
    /// The window the value covers (`5m`), when there is one.
    #[getter]
    fn window(&self) -> PyResult<Option<String>> {
        let v = self.v()?;
        Ok(v.about.window.map(|w| w.to_string()))
    }
    /// Whether the predicate held.
    #[getter]
    fn satisfied(&self) -> PyResult<bool> {
        let v = self.v()?;
        Ok(v.satisfied)
    }
    /// `"required"`, `"evidence"` or `"exception"`.
    #[getter]
    fn role(&self) -> PyResult<&'static str> {
        let v = self.v()?;
        Ok(match v.role {
            Role::Required => "required",
            Role::Evidence(_) => "evidence",
            Role::Exception => "exception",
        })
    }
    /// The weight of an evidence item (None for required and exception items).
    #[getter]
    fn weight(&self) -> PyResult<Option<f64>> {
        let v = self.v()?;
        Ok(match v.role {
            Role::Evidence(w) => Some(w),
            _ => None,
        })
    }
    /// A short remark (`no data`, `3 of 4 held`).
    #[getter]
    fn note(&self) -> PyResult<Option<&str>> {
        let v = self.v()?;
        Ok(v.note.as_deref())
    }
    /// The item as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.v()?;
        to_python(py, v)
    }
    /// The item as JSON.
    fn to_json(&self) -> PyResult<String> {
        let v = self.v()?;
        json(v)
    }
    fn __repr__(&self) -> PyResult<String> {
        let v = self.v()?;
        Ok({
            let held = if v.satisfied { "held" } else { "did not hold" };
            let observed = v.observed.map_or_else(|| "no data".to_string(), |v| format!("observed {v}"));
            format!("<Evidence {} {held} ({observed})>", v.about.predicate)
        })
    }
}

/// A signature matched on a node at a time, with its evidence.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnosis(Arc<CoreDiagnosis>);

impl Diagnosis {
    /// Wraps a core diagnosis.
    pub fn new(d: CoreDiagnosis) -> Diagnosis {
        Diagnosis(Arc::new(d))
    }

    fn v(&self) -> &CoreDiagnosis {
        &self.0
    }
}

#[pymethods]
impl Diagnosis {
    /// The signature id.
    #[getter]
    fn signature(&self) -> &str {
        &self.v().signature
    }
    /// The node id.
    #[getter]
    fn node(&self) -> &str {
        &self.v().node_id
    }
    /// The signature's category (`unavailable`, `saturation`…).
    #[getter]
    fn category<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.v().category)
    }
    /// The signature's severity.
    #[getter]
    fn severity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.v().severity)
    }
    /// `stable` or `experimental`.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.v().status)
    }
    /// When the match condition first held (UTC).
    #[getter]
    fn onset<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ms_to_datetime(py, self.v().onset)
    }
    /// The evaluation time (UTC).
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ms_to_datetime(py, self.v().at)
    }
    /// Every predicate of `match` and `evidence`, evaluated.
    #[getter]
    fn evidence(&self) -> Vec<Evidence> {
        EvidenceOwner::Diagnosis(self.0.clone()).all()
    }
    /// Share of the series the signature reads that had fresh data, in [0, 1].
    #[getter]
    fn coverage(&self) -> f64 {
        self.v().coverage
    }
    /// Whether the diagnosis comes from a forecast (a notice).
    #[getter]
    fn forecast(&self) -> bool {
        self.v().forecast
    }
    /// The diagnosis as a dict (times in Unix milliseconds).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, self.v())
    }
    /// The diagnosis as JSON.
    fn to_json(&self) -> PyResult<String> {
        json(self.v())
    }
    fn __repr__(&self) -> String {
        format!("<Diagnosis {} on {}>", self.v().signature, self.v().node_id)
    }
}

/// What a payload ingestion did.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct IngestReport(pub CoreIngestReport);

#[pymethods]
impl IngestReport {
    /// Observations parsed (or samples given).
    #[getter]
    fn observations(&self) -> usize {
        self.0.observations
    }
    /// Malformed records, each with its position.
    #[getter]
    fn errors(&self) -> Vec<String> {
        self.0.errors.clone()
    }
    /// Records dropped by a limit.
    #[getter]
    fn dropped(&self) -> u64 {
        self.0.dropped
    }
    /// The report as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    /// The report as JSON.
    fn to_json(&self) -> PyResult<String> {
        json(&self.0)
    }
    fn __repr__(&self) -> String {
        format!(
            "<IngestReport observations={} errors={} dropped={}>",
            self.0.observations,
            self.0.errors.len(),
            self.0.dropped
        )
    }
}

/// The signature behind a decision (shared by the decisions of the
/// signature in one evaluation).
#[pyclass(frozen, eq, module = "healbot._native")]
pub struct SignatureRef {
    core: Arc<CoreSignatureRef>,
    /// Id.
    #[pyo3(get)]
    id: Py<PyString>,
}

impl SignatureRef {
    fn v(&self) -> PyResult<&CoreSignatureRef> {
        Ok(&self.core)
    }
}

impl PartialEq for SignatureRef {
    fn eq(&self, other: &SignatureRef) -> bool {
        self.core == other.core
    }
}

impl std::fmt::Debug for SignatureRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SignatureRef").field(&self.core).finish()
    }
}

#[pymethods]
impl SignatureRef {
    /// Title.
    #[getter]
    fn title(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.title)
    }
    /// Category.
    #[getter]
    fn category(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.category)
    }
    /// Severity.
    #[getter]
    fn severity(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.severity)
    }
    /// `stable` or `experimental`.
    #[getter]
    fn status(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.status)
    }
    /// As a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.v()?;
        to_python(py, v)
    }
    /// As JSON.
    fn to_json(&self) -> PyResult<String> {
        let v = self.v()?;
        json(v)
    }
    fn __repr__(&self) -> PyResult<String> {
        let v = self.v()?;
        Ok(format!("<SignatureRef {}>", v.id))
    }
}

/// One additive term of a confidence, in log-odds (written when read).
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct ConfidenceTerm(Term);

impl ConfidenceTerm {
    fn v(&self) -> PyResult<&Term> {
        Ok(&self.0)
    }
}

#[pymethods]
impl ConfidenceTerm {
    /// `prior`, `evidence`, `coverage`, `topology` or `outcomes`.
    #[getter]
    fn name(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.name)
    }
    /// Contribution in log-odds.
    #[getter]
    fn value(&self) -> PyResult<f64> {
        let v = self.v()?;
        Ok(v.value)
    }
    /// What the term is made of.
    #[getter]
    fn detail(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.detail)
    }
    /// As a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.v()?;
        to_python(py, v)
    }
    /// As JSON.
    fn to_json(&self) -> PyResult<String> {
        let v = self.v()?;
        json(v)
    }
    fn __repr__(&self) -> PyResult<String> {
        let v = self.v()?;
        Ok(format!("<ConfidenceTerm {} {:+.3}>", v.name, v.value))
    }
}

/// A confidence with every term that built it.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug)]
pub struct Confidence(Arc<CoreDecision>);

impl Confidence {
    fn v(&self) -> &CoreConfidence {
        &self.0.confidence
    }
}

impl PartialEq for Confidence {
    fn eq(&self, other: &Confidence) -> bool {
        self.v() == other.v()
    }
}
#[pymethods]
impl Confidence {
    /// The probability, in [0, 1].
    #[getter]
    fn value(&self) -> f64 {
        self.v().value
    }
    /// The log-odds the value comes from.
    #[getter]
    fn log_odds(&self) -> f64 {
        self.v().log_odds
    }
    /// The terms, in a fixed order.
    #[getter]
    fn terms(&self) -> Vec<ConfidenceTerm> {
        self.v().terms().into_iter().map(ConfidenceTerm).collect()
    }
    /// As a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, self.v())
    }
    /// As JSON.
    fn to_json(&self) -> PyResult<String> {
        json(self.v())
    }
    fn __float__(&self) -> f64 {
        self.v().value
    }
    fn __repr__(&self) -> String {
        format!("<Confidence {:.3}>", self.v().value)
    }
}

/// The root-cause verdict of a decision: a ranked root-cause candidate, a
/// symptom of one elsewhere, or an inferred suspect.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug)]
pub struct RootCause(Arc<CoreDecision>);

impl RootCause {
    fn v(&self) -> &CoreRootCause {
        &self.0.root_cause
    }
}

impl PartialEq for RootCause {
    fn eq(&self, other: &RootCause) -> bool {
        self.v() == other.v()
    }
}

#[pymethods]
impl RootCause {
    /// `root`, `symptom` or `inferred_suspect`.
    #[getter]
    fn role<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        static SPELLED: Spelled = Spelled::new();
        let role = self.v().role;
        SPELLED.get(py, role as usize, role.as_str())
    }
    /// The root-cause node (the decision's node when it is a root).
    #[getter]
    fn node(&self) -> &str {
        &self.v().node
    }
    /// The signature diagnosed on the root cause, when there is one.
    #[getter]
    fn signature(&self) -> Option<&str> {
        self.v().signature.as_deref()
    }
    /// The dependency path from the decision's node to the root cause.
    #[getter]
    fn path(&self) -> Vec<&str> {
        self.v().path.iter().map(|n| n.as_str()).collect()
    }
    /// Rank among root-cause candidates (1 is the most likely), for roots.
    #[getter]
    fn rank(&self) -> Option<usize> {
        self.v().rank
    }
    /// Ranking score, for roots.
    #[getter]
    fn score(&self) -> Option<f64> {
        self.v().score
    }
    /// Nodes whose diagnoses this root explains.
    #[getter]
    fn explains(&self) -> Vec<&str> {
        self.v().explains.iter().map(|n| n.as_str()).collect()
    }
    /// As a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, self.v())
    }
    /// As JSON.
    fn to_json(&self) -> PyResult<String> {
        json(self.v())
    }
    fn __repr__(&self) -> String {
        format!("<RootCause {} {}>", enum_str(&self.v().role), self.v().node)
    }
}

/// The action HealBot chose: what the host would execute.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug)]
pub struct Action(Arc<CoreDecision>);

impl Action {
    fn v(&self) -> PyResult<&ChosenAction> {
        self.0.action.as_ref().ok_or_else(|| gone("action"))
    }
}

impl PartialEq for Action {
    fn eq(&self, other: &Action) -> bool {
        self.v().ok() == other.v().ok()
    }
}

#[pymethods]
impl Action {
    /// Action id.
    #[getter]
    fn id(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.id)
    }
    /// The verb the host executes (`restart`, `failover`…).
    #[getter]
    fn operation(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.operation)
    }
    /// The resolved target node.
    #[getter]
    fn target(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.target)
    }
    /// Parameters, verbatim from the library.
    #[getter]
    fn parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.v()?;
        to_python(py, &v.parameters)
    }
    /// `low`, `medium` or `high`.
    #[getter]
    fn risk(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.risk)
    }
    /// The confidence needed to run unattended.
    #[getter]
    fn min_confidence(&self) -> PyResult<f64> {
        let v = self.v()?;
        Ok(v.min_confidence)
    }
    /// Guards checked, all passed.
    #[getter]
    fn guards_passed(&self) -> PyResult<Vec<&str>> {
        let v = self.v()?;
        Ok(v.guards_passed.iter().map(|g| &**g).collect())
    }
    /// As a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.v()?;
        to_python(py, v)
    }
    /// As JSON.
    fn to_json(&self) -> PyResult<String> {
        let v = self.v()?;
        json(v)
    }
    fn __repr__(&self) -> PyResult<String> {
        let v = self.v()?;
        Ok(format!("<Action {} ({}) on {}>", v.id, v.operation, v.target))
    }
}

/// A guard that failed, with the numbers behind it.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug)]
pub struct GuardFailure {
    decision: Arc<CoreDecision>,
    /// The rejected action, and the failure in it.
    index: (usize, usize),
}

impl GuardFailure {
    fn v(&self) -> PyResult<&CoreGuardFailure> {
        let (action, failure) = self.index;
        self.decision.rejected.get(action).and_then(|r| r.failed.get(failure)).ok_or_else(|| gone("guard failure"))
    }
}

impl PartialEq for GuardFailure {
    fn eq(&self, other: &GuardFailure) -> bool {
        self.v().ok() == other.v().ok()
    }
}

#[pymethods]
impl GuardFailure {
    /// The guard kind (`min_healthy_replicas`).
    #[getter]
    fn guard(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.guard)
    }
    /// What failed, for people.
    #[getter]
    fn reason(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.reason)
    }
    /// The observed number, when there is one.
    #[getter]
    fn observed(&self) -> PyResult<Option<f64>> {
        let v = self.v()?;
        Ok(v.observed)
    }
    /// The limit, when there is one.
    #[getter]
    fn limit(&self) -> PyResult<Option<f64>> {
        let v = self.v()?;
        Ok(v.limit)
    }
    /// As a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.v()?;
        to_python(py, v)
    }
    /// As JSON.
    fn to_json(&self) -> PyResult<String> {
        let v = self.v()?;
        json(v)
    }
    fn __repr__(&self) -> PyResult<String> {
        let v = self.v()?;
        Ok(format!("<GuardFailure {}: {}>", v.guard, v.reason))
    }
}

/// A candidate action that was considered and rejected, with every guard it failed.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug)]
pub struct RejectedAction {
    decision: Arc<CoreDecision>,
    index: usize,
}

impl RejectedAction {
    fn v(&self) -> PyResult<&CoreRejected> {
        self.decision.rejected.get(self.index).ok_or_else(|| gone("rejected action"))
    }
}

impl PartialEq for RejectedAction {
    fn eq(&self, other: &RejectedAction) -> bool {
        self.v().ok() == other.v().ok()
    }
}

#[pymethods]
impl RejectedAction {
    /// Action id.
    #[getter]
    fn id(&self) -> PyResult<&str> {
        let v = self.v()?;
        Ok(&v.id)
    }
    /// The resolved target, when one resolved.
    #[getter]
    fn target(&self) -> PyResult<Option<&str>> {
        let v = self.v()?;
        Ok(v.target.as_deref())
    }
    /// Every guard that failed.
    #[getter]
    fn failed(&self) -> PyResult<Vec<GuardFailure>> {
        let v = self.v()?;
        Ok((0..v.failed.len())
            .map(|failure| GuardFailure { decision: self.decision.clone(), index: (self.index, failure) })
            .collect())
    }
    /// As a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.v()?;
        to_python(py, v)
    }
    /// As JSON.
    fn to_json(&self) -> PyResult<String> {
        let v = self.v()?;
        json(v)
    }
    fn __repr__(&self) -> PyResult<String> {
        let v = self.v()?;
        Ok(format!("<RejectedAction {} ({} guards failed)>", v.id, v.failed.len()))
    }
}

/// One decision: verdict, confidence with its terms, evidence, root cause,
/// chosen action or why none, rejected actions and an explanation.
///
/// The attributes a loop over decisions reads most are Python objects made
/// when the decision is: the node and the verdict (strings, each node's
/// and each verdict's shared by the decisions of an evaluation) and the
/// signature (one `SignatureRef` per signature per evaluation), read
/// straight from the object by the interpreter. The root cause is made on
/// first read and kept. Nothing changes after that, so the class is safe to
/// share between threads.
#[pyclass(frozen, eq, module = "healbot._native")]
pub struct Decision {
    core: Arc<CoreDecision>,
    /// The node.
    #[pyo3(get)]
    node: Py<PyString>,
    /// The signature; None for inferred suspects.
    #[pyo3(get)]
    signature: Py<PyAny>,
    /// `execute`, `escalate`, `suppress`, `blocked` or `observe`.
    #[pyo3(get)]
    verdict: Py<PyString>,
    root_cause: PyOnceLock<Py<RootCause>>,
}

/// The Python objects the decisions of one evaluation share: a string per
/// node and a [`SignatureRef`] per signature, keyed by the address of the
/// core's shared value (decisions of a node or of a signature point to one
/// `Name` or one `Arc<SignatureRef>`; values at other addresses only get
/// objects of their own). Each entry keeps its core value alive, so no
/// address is reused while the table exists.
#[derive(Default)]
pub struct Shared {
    nodes: HashMap<usize, (Name, Py<PyString>), BuildHasherDefault<AddressHasher>>,
    signatures: HashMap<usize, Py<SignatureRef>, BuildHasherDefault<AddressHasher>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("nodes", &self.nodes.len()).field("signatures", &self.signatures.len()).finish()
    }
}

impl Shared {
    fn node(&mut self, py: Python<'_>, node: &Name) -> Py<PyString> {
        let (_, s) = self
            .nodes
            .entry(node.as_str().as_ptr() as usize)
            .or_insert_with(|| (node.clone(), PyString::new(py, node).unbind()));
        s.clone_ref(py)
    }

    fn signature(&mut self, py: Python<'_>, signature: &Arc<CoreSignatureRef>) -> PyResult<Py<SignatureRef>> {
        let key = Arc::as_ptr(signature) as usize;
        if let Some(s) = self.signatures.get(&key) {
            return Ok(s.clone_ref(py));
        }
        let id = PyString::new(py, &signature.id).unbind();
        let s = new_result(py, SignatureRef { core: signature.clone(), id })?;
        self.signatures.insert(key, s.clone_ref(py));
        Ok(s)
    }
}

impl Decision {
    /// Wraps a core decision as a Python object (untracked, see
    /// [`untracked`]), sharing strings and signatures through `shared`.
    pub fn wrap<'py>(py: Python<'py>, d: CoreDecision, shared: &mut Shared) -> PyResult<Bound<'py, Decision>> {
        let node = shared.node(py, &d.node);
        let signature = match &d.signature {
            Some(s) => shared.signature(py, s)?.into_any(),
            None => py.None(),
        };
        static VERDICTS: Spelled = Spelled::new();
        let verdict = VERDICTS.get(py, d.verdict as usize, d.verdict.as_str()).unbind();
        let decision = Decision { core: Arc::new(d), node, signature, verdict, root_cause: PyOnceLock::new() };
        Ok(untracked(Bound::new(py, decision)?))
    }

    /// The core decision.
    pub fn v(&self) -> &CoreDecision {
        &self.core
    }
}

impl PartialEq for Decision {
    fn eq(&self, other: &Decision) -> bool {
        self.core == other.core
    }
}

impl std::fmt::Debug for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Decision").field(&self.core).finish()
    }
}

#[pymethods]
impl Decision {
    /// Parses a decision document (as written by `to_json`).
    ///
    /// Raises InvalidArgumentError when the text is not a decision document.
    #[classmethod]
    fn from_json<'py>(cls: &Bound<'py, PyType>, text: &str) -> PyResult<Bound<'py, Decision>> {
        guard(|| {
            let d = CoreDecision::from_json(text).map_err(to_py_err)?;
            Decision::wrap(cls.py(), d, &mut Shared::default())
        })
    }
    /// The version of the decision document.
    #[getter]
    fn schema_version(&self) -> u32 {
        self.v().schema_version
    }
    /// Deterministic id from signature, node and onset.
    #[getter]
    fn id(&self) -> &str {
        &self.v().id
    }
    /// The library revision that produced the decision.
    #[getter]
    fn library_revision(&self) -> &str {
        &self.v().library_revision
    }
    /// Evaluation time (UTC).
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ms_to_datetime(py, self.v().at)
    }
    /// Evaluation time, Unix milliseconds.
    #[getter]
    fn at_ms(&self) -> i64 {
        self.v().at
    }
    /// When the failure began (UTC).
    #[getter]
    fn onset<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ms_to_datetime(py, self.v().onset)
    }
    /// When the failure began, Unix milliseconds.
    #[getter]
    fn onset_ms(&self) -> i64 {
        self.v().onset
    }
    /// Why this verdict (and not execute).
    #[getter]
    fn reasons(&self) -> Vec<String> {
        self.v().reasons.clone()
    }
    /// Confidence and its terms.
    #[getter]
    fn confidence(&self) -> Confidence {
        Confidence(self.core.clone())
    }
    /// Every predicate evaluated.
    #[getter]
    fn evidence(&self) -> Vec<Evidence> {
        EvidenceOwner::Decision(self.core.clone()).all()
    }
    /// Root-cause verdict.
    #[getter]
    fn root_cause<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, RootCause>> {
        cached(&self.root_cause, py, || new_result(py, RootCause(self.core.clone())))
    }
    /// The chosen action, if any.
    #[getter]
    fn action(&self) -> Option<Action> {
        self.core.action.is_some().then(|| Action(self.core.clone()))
    }
    /// Rejected actions with their failed guards.
    #[getter]
    fn rejected(&self) -> Vec<RejectedAction> {
        (0..self.core.rejected.len()).map(|index| RejectedAction { decision: self.core.clone(), index }).collect()
    }
    /// One paragraph for a person.
    #[getter]
    fn explanation(&self) -> PyResult<String> {
        guard(|| Ok(self.v().explain()))
    }
    /// The decision document as a dict (times in Unix milliseconds).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, self.v())
    }
    /// The stable, versioned decision document (one line of JSON).
    fn to_json(&self) -> PyResult<String> {
        guard(|| Ok(self.v().to_json()))
    }
    /// Decisions hash by their id (equal decisions have equal ids), so that
    /// they can be set members and dict keys.
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        // Fixed keys: the same id hashes alike in every process.
        let mut h = std::hash::DefaultHasher::new();
        self.v().id.hash(&mut h);
        h.finish()
    }
    /// Pickles as its decision document, so that decisions travel to
    /// workers (Spark, Ray, multiprocessing) and back.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        guard(|| {
            let from_json = slf.get_type().getattr("from_json")?;
            Ok((from_json, (slf.get().v().to_json(),)))
        })
    }
    fn __repr__(&self) -> String {
        let what = self.v().signature.as_ref().map_or("suspect", |s| s.id.as_str());
        format!("<Decision {} {} on {}: {}>", self.v().id, what, self.v().node, self.v().verdict.as_str())
    }
}
