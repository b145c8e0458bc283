//! Frozen result classes over the core's serialisable values. Each keeps
//! the core value and converts fields on access; `to_dict()` and
//! `to_json()` give the stable document.

use healbot_core::confidence::{Confidence as CoreConfidence, Term};
use healbot_core::decision::{ChosenAction, GuardFailure as CoreGuardFailure, RejectedAction as CoreRejected};
use healbot_core::decision::{RootCause as CoreRootCause, SignatureRef as CoreSignatureRef};
use healbot_core::diagnosis::{Diagnosis as CoreDiagnosis, EvidenceItem, Role};
use healbot_core::engine::IngestReport as CoreIngestReport;
use healbot_core::{Decision as CoreDecision, Diagnostic as CoreDiagnostic, ErrorKind};
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::convert::{enum_str, ms_to_datetime, to_python};
use crate::errors::{err, to_py_err};

fn json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| err(ErrorKind::InvalidArgument, format!("cannot serialise: {e}")))
}

/// Wraps each core value of a slice in its Python class.
fn wrap<T: Clone, P>(items: &[T], f: impl Fn(T) -> P) -> Vec<P> {
    items.iter().cloned().map(f).collect()
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
    fn severity(&self) -> String {
        enum_str(&self.0.severity)
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
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence(EvidenceItem);

#[pymethods]
impl Evidence {
    /// Where the predicate sits in the signature (`match.all[1].metric`).
    #[getter]
    fn path(&self) -> &str {
        &self.0.path
    }
    /// The predicate's id, when it has one.
    #[getter]
    fn id(&self) -> Option<&str> {
        self.0.id.as_deref()
    }
    /// The predicate for people (`avg(cpu[5m]) > 0.9`).
    #[getter]
    fn predicate(&self) -> &str {
        &self.0.predicate
    }
    /// The observed value; None when there was no data.
    #[getter]
    fn observed(&self) -> Option<f64> {
        self.0.observed
    }
    /// The comparison (`>`), for predicates that compare.
    #[getter]
    fn op(&self) -> Option<&'static str> {
        self.0.op.map(|o| o.as_str())
    }
    /// The threshold, for predicates that compare.
    #[getter]
    fn threshold(&self) -> Option<f64> {
        self.0.threshold
    }
    /// The window the value covers (`5m`), when there is one.
    #[getter]
    fn window(&self) -> Option<String> {
        self.0.window.map(|w| w.to_string())
    }
    /// Whether the predicate held.
    #[getter]
    fn satisfied(&self) -> bool {
        self.0.satisfied
    }
    /// `"required"`, `"evidence"` or `"exception"`.
    #[getter]
    fn role(&self) -> &'static str {
        match self.0.role {
            Role::Required => "required",
            Role::Evidence(_) => "evidence",
            Role::Exception => "exception",
        }
    }
    /// The weight of an evidence item (None for required and exception items).
    #[getter]
    fn weight(&self) -> Option<f64> {
        match self.0.role {
            Role::Evidence(w) => Some(w),
            _ => None,
        }
    }
    /// A short remark (`no data`, `3 of 4 held`).
    #[getter]
    fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// The item as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    /// The item as JSON.
    fn to_json(&self) -> PyResult<String> {
        json(&self.0)
    }
    fn __repr__(&self) -> String {
        let held = if self.0.satisfied { "held" } else { "did not hold" };
        let observed = self.0.observed.map_or_else(|| "no data".to_string(), |v| format!("observed {v}"));
        format!("<Evidence {} {held} ({observed})>", self.0.predicate)
    }
}

/// A signature matched on a node at a time, with its evidence.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnosis(pub CoreDiagnosis);

#[pymethods]
impl Diagnosis {
    /// The signature id.
    #[getter]
    fn signature(&self) -> &str {
        &self.0.signature
    }
    /// The node id.
    #[getter]
    fn node(&self) -> &str {
        &self.0.node_id
    }
    /// The signature's category (`unavailable`, `saturation`…).
    #[getter]
    fn category(&self) -> String {
        enum_str(&self.0.category)
    }
    /// The signature's severity.
    #[getter]
    fn severity(&self) -> String {
        enum_str(&self.0.severity)
    }
    /// `stable` or `experimental`.
    #[getter]
    fn status(&self) -> String {
        enum_str(&self.0.status)
    }
    /// When the match condition first held (UTC).
    #[getter]
    fn onset<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ms_to_datetime(py, self.0.onset)
    }
    /// The evaluation time (UTC).
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ms_to_datetime(py, self.0.at)
    }
    /// Every predicate of `match` and `evidence`, evaluated.
    #[getter]
    fn evidence(&self) -> Vec<Evidence> {
        wrap(&self.0.evidence, Evidence)
    }
    /// Share of the series the signature reads that had fresh data, in [0, 1].
    #[getter]
    fn coverage(&self) -> f64 {
        self.0.coverage
    }
    /// Whether the diagnosis comes from a forecast (a notice).
    #[getter]
    fn forecast(&self) -> bool {
        self.0.forecast
    }
    /// The diagnosis as a dict (times in Unix milliseconds).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    /// The diagnosis as JSON.
    fn to_json(&self) -> PyResult<String> {
        json(&self.0)
    }
    fn __repr__(&self) -> String {
        format!("<Diagnosis {} on {}>", self.0.signature, self.0.node_id)
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

/// The signature behind a decision.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct SignatureRef(CoreSignatureRef);

#[pymethods]
impl SignatureRef {
    /// Id.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }
    /// Title.
    #[getter]
    fn title(&self) -> &str {
        &self.0.title
    }
    /// Category.
    #[getter]
    fn category(&self) -> &str {
        &self.0.category
    }
    /// Severity.
    #[getter]
    fn severity(&self) -> &str {
        &self.0.severity
    }
    /// `stable` or `experimental`.
    #[getter]
    fn status(&self) -> &str {
        &self.0.status
    }
    /// As a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    /// As JSON.
    fn to_json(&self) -> PyResult<String> {
        json(&self.0)
    }
    fn __repr__(&self) -> String {
        format!("<SignatureRef {}>", self.0.id)
    }
}

/// One additive term of a confidence, in log-odds.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct ConfidenceTerm(Term);

#[pymethods]
impl ConfidenceTerm {
    /// `prior`, `evidence`, `coverage`, `topology` or `outcomes`.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    /// Contribution in log-odds.
    #[getter]
    fn value(&self) -> f64 {
        self.0.value
    }
    /// What the term is made of.
    #[getter]
    fn detail(&self) -> &str {
        &self.0.detail
    }
    /// As a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    /// As JSON.
    fn to_json(&self) -> PyResult<String> {
        json(&self.0)
    }
    fn __repr__(&self) -> String {
        format!("<ConfidenceTerm {} {:+.3}>", self.0.name, self.0.value)
    }
}

/// A confidence with every term that built it.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct Confidence(CoreConfidence);

#[pymethods]
impl Confidence {
    /// The probability, in [0, 1].
    #[getter]
    fn value(&self) -> f64 {
        self.0.value
    }
    /// The log-odds the value comes from.
    #[getter]
    fn log_odds(&self) -> f64 {
        self.0.log_odds
    }
    /// The terms, in a fixed order.
    #[getter]
    fn terms(&self) -> Vec<ConfidenceTerm> {
        wrap(&self.0.terms, ConfidenceTerm)
    }
    /// As a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    /// As JSON.
    fn to_json(&self) -> PyResult<String> {
        json(&self.0)
    }
    fn __float__(&self) -> f64 {
        self.0.value
    }
    fn __repr__(&self) -> String {
        format!("<Confidence {:.3}>", self.0.value)
    }
}

/// The root-cause verdict of a decision: a ranked root-cause candidate, a
/// symptom of one elsewhere, or an inferred suspect.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct RootCause(CoreRootCause);

#[pymethods]
impl RootCause {
    /// `root`, `symptom` or `inferred_suspect`.
    #[getter]
    fn role(&self) -> String {
        enum_str(&self.0.role)
    }
    /// The root-cause node (the decision's node when it is a root).
    #[getter]
    fn node(&self) -> &str {
        &self.0.node
    }
    /// The signature diagnosed on the root cause, when there is one.
    #[getter]
    fn signature(&self) -> Option<&str> {
        self.0.signature.as_deref()
    }
    /// The dependency path from the decision's node to the root cause.
    #[getter]
    fn path(&self) -> Vec<String> {
        self.0.path.clone()
    }
    /// Rank among root-cause candidates (1 is the most likely), for roots.
    #[getter]
    fn rank(&self) -> Option<usize> {
        self.0.rank
    }
    /// Ranking score, for roots.
    #[getter]
    fn score(&self) -> Option<f64> {
        self.0.score
    }
    /// Nodes whose diagnoses this root explains.
    #[getter]
    fn explains(&self) -> Vec<String> {
        self.0.explains.clone()
    }
    /// As a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    /// As JSON.
    fn to_json(&self) -> PyResult<String> {
        json(&self.0)
    }
    fn __repr__(&self) -> String {
        format!("<RootCause {} {}>", enum_str(&self.0.role), self.0.node)
    }
}

/// The action HealBot chose: what the host would execute.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct Action(ChosenAction);

#[pymethods]
impl Action {
    /// Action id.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }
    /// The verb the host executes (`restart`, `failover`…).
    #[getter]
    fn operation(&self) -> &str {
        &self.0.operation
    }
    /// The resolved target node.
    #[getter]
    fn target(&self) -> &str {
        &self.0.target
    }
    /// Parameters, verbatim from the library.
    #[getter]
    fn parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.parameters)
    }
    /// `low`, `medium` or `high`.
    #[getter]
    fn risk(&self) -> &str {
        &self.0.risk
    }
    /// The confidence needed to run unattended.
    #[getter]
    fn min_confidence(&self) -> f64 {
        self.0.min_confidence
    }
    /// Guards checked, all passed.
    #[getter]
    fn guards_passed(&self) -> Vec<String> {
        self.0.guards_passed.clone()
    }
    /// As a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    /// As JSON.
    fn to_json(&self) -> PyResult<String> {
        json(&self.0)
    }
    fn __repr__(&self) -> String {
        format!("<Action {} ({}) on {}>", self.0.id, self.0.operation, self.0.target)
    }
}

/// A guard that failed, with the numbers behind it.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct GuardFailure(CoreGuardFailure);

#[pymethods]
impl GuardFailure {
    /// The guard kind (`min_healthy_replicas`).
    #[getter]
    fn guard(&self) -> &str {
        &self.0.guard
    }
    /// What failed, for people.
    #[getter]
    fn reason(&self) -> &str {
        &self.0.reason
    }
    /// The observed number, when there is one.
    #[getter]
    fn observed(&self) -> Option<f64> {
        self.0.observed
    }
    /// The limit, when there is one.
    #[getter]
    fn limit(&self) -> Option<f64> {
        self.0.limit
    }
    /// As a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    /// As JSON.
    fn to_json(&self) -> PyResult<String> {
        json(&self.0)
    }
    fn __repr__(&self) -> String {
        format!("<GuardFailure {}: {}>", self.0.guard, self.0.reason)
    }
}

/// A candidate action that was considered and rejected, with every guard it failed.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct RejectedAction(CoreRejected);

#[pymethods]
impl RejectedAction {
    /// Action id.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }
    /// The resolved target, when one resolved.
    #[getter]
    fn target(&self) -> Option<&str> {
        self.0.target.as_deref()
    }
    /// Every guard that failed.
    #[getter]
    fn failed(&self) -> Vec<GuardFailure> {
        wrap(&self.0.failed, GuardFailure)
    }
    /// As a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    /// As JSON.
    fn to_json(&self) -> PyResult<String> {
        json(&self.0)
    }
    fn __repr__(&self) -> String {
        format!("<RejectedAction {} ({} guards failed)>", self.0.id, self.0.failed.len())
    }
}

/// One decision: verdict, confidence with its terms, evidence, root cause,
/// chosen action or why none, rejected actions and an explanation.
#[pyclass(frozen, eq, module = "healbot._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct Decision(pub CoreDecision);

#[pymethods]
impl Decision {
    /// Parses a decision document (as written by `to_json`).
    ///
    /// Raises InvalidArgumentError when the text is not a decision document.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, text: &str) -> PyResult<Decision> {
        CoreDecision::from_json(text).map(Decision).map_err(to_py_err)
    }
    /// The version of the decision document.
    #[getter]
    fn schema_version(&self) -> u32 {
        self.0.schema_version
    }
    /// Deterministic id from signature, node and onset.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }
    /// The library revision that produced the decision.
    #[getter]
    fn library_revision(&self) -> &str {
        &self.0.library_revision
    }
    /// Evaluation time (UTC).
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ms_to_datetime(py, self.0.at)
    }
    /// Evaluation time, Unix milliseconds.
    #[getter]
    fn at_ms(&self) -> i64 {
        self.0.at
    }
    /// The node.
    #[getter]
    fn node(&self) -> &str {
        &self.0.node
    }
    /// The signature; None for inferred suspects.
    #[getter]
    fn signature(&self) -> Option<SignatureRef> {
        self.0.signature.clone().map(SignatureRef)
    }
    /// When the failure began (UTC).
    #[getter]
    fn onset<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ms_to_datetime(py, self.0.onset)
    }
    /// When the failure began, Unix milliseconds.
    #[getter]
    fn onset_ms(&self) -> i64 {
        self.0.onset
    }
    /// `execute`, `escalate`, `suppress`, `blocked` or `observe`.
    #[getter]
    fn verdict(&self) -> &'static str {
        self.0.verdict.as_str()
    }
    /// Why this verdict (and not execute).
    #[getter]
    fn reasons(&self) -> Vec<String> {
        self.0.reasons.clone()
    }
    /// Confidence and its terms.
    #[getter]
    fn confidence(&self) -> Confidence {
        Confidence(self.0.confidence.clone())
    }
    /// Every predicate evaluated.
    #[getter]
    fn evidence(&self) -> Vec<Evidence> {
        wrap(&self.0.evidence, Evidence)
    }
    /// Root-cause verdict.
    #[getter]
    fn root_cause(&self) -> RootCause {
        RootCause(self.0.root_cause.clone())
    }
    /// The chosen action, if any.
    #[getter]
    fn action(&self) -> Option<Action> {
        self.0.action.clone().map(Action)
    }
    /// Rejected actions with their failed guards.
    #[getter]
    fn rejected(&self) -> Vec<RejectedAction> {
        wrap(&self.0.rejected, RejectedAction)
    }
    /// One paragraph for a person.
    #[getter]
    fn explanation(&self) -> &str {
        &self.0.explanation
    }
    /// The decision document as a dict (times in Unix milliseconds).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
    /// The stable, versioned decision document (one line of JSON).
    fn to_json(&self) -> String {
        self.0.to_json()
    }
    fn __repr__(&self) -> String {
        let what = self.0.signature.as_ref().map_or("suspect", |s| s.id.as_str());
        format!("<Decision {} {} on {}: {}>", self.0.id, what, self.0.node, self.0.verdict.as_str())
    }
}
