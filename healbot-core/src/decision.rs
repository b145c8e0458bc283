//! Decisions: the stable, versioned document a host acts on and a person
//! audits.
//!
//! One decision per diagnosis (and one per inferred suspect). The verdict
//! ladder:
//!
//! - `execute`: a root cause whose chosen action passed every guard, with
//!   confidence at or above the action's `min_confidence`, from a stable
//!   signature, and an action whose risk allows unattended runs;
//! - `escalate`: a person must approve; `reasons` say why;
//! - `suppress`: a symptom of a root cause elsewhere, named with its path;
//! - `blocked`: every candidate action failed a guard;
//! - `observe`: nothing to do (no action configured) or a forecast notice.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Name;

use crate::confidence::Confidence;
use crate::diagnosis::EvidenceItem;

/// The version of the decision document. Bumped on any incompatible change.
pub const DECISION_SCHEMA_VERSION: u32 = 2;

/// What the host should do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Run the chosen action unattended.
    Execute,
    /// Ask a person to approve the chosen action (or to look).
    Escalate,
    /// A symptom: act on the named root cause instead.
    Suppress,
    /// Every candidate action failed a guard.
    Blocked,
    /// Nothing to do, or a notice.
    Observe,
}

impl Verdict {
    /// The snake_case spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Execute => "execute",
            Verdict::Escalate => "escalate",
            Verdict::Suppress => "suppress",
            Verdict::Blocked => "blocked",
            Verdict::Observe => "observe",
        }
    }
}

/// The signature behind a decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SignatureRef {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Severity.
    pub severity: String,
    /// Stable or experimental.
    pub status: String,
}

/// The role of the decision's node in the failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RootRole {
    /// A root-cause candidate.
    Root,
    /// A symptom of a root cause elsewhere.
    Symptom,
    /// An undiagnosed dependency shared by several failing nodes.
    InferredSuspect,
}

impl RootRole {
    /// The snake_case spelling, as in the decision document.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::decision::RootRole;
    /// assert_eq!(RootRole::InferredSuspect.as_str(), "inferred_suspect");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            RootRole::Root => "root",
            RootRole::Symptom => "symptom",
            RootRole::InferredSuspect => "inferred_suspect",
        }
    }
}

/// The root-cause verdict of a decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RootCause {
    /// Root, symptom or inferred suspect.
    pub role: RootRole,
    /// The root-cause node (this node when it is a root).
    pub node: Name,
    /// The signature diagnosed on the root cause, when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signature: Option<Name>,
    /// The dependency path from this node to the root cause.
    pub path: Vec<Name>,
    /// Rank among root-cause candidates (1 is the most likely), for roots.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rank: Option<usize>,
    /// Ranking score, for roots.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub score: Option<f64>,
    /// Nodes whose diagnoses this root explains.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub explains: Vec<Name>,
}

/// A guard that failed, with the numbers behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GuardFailure {
    /// The guard kind (`min_healthy_replicas`).
    pub guard: Cow<'static, str>,
    /// What failed, for people ("1 healthy replica would remain, 2 required").
    pub reason: String,
    /// The observed number, when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub observed: Option<f64>,
    /// The limit, when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub limit: Option<f64>,
}

/// The action HealBot chose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChosenAction {
    /// Action id.
    pub id: String,
    /// The verb the host executes.
    pub operation: String,
    /// The resolved target node.
    pub target: String,
    /// Parameters, verbatim from the library.
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// Risk.
    pub risk: Cow<'static, str>,
    /// Confidence needed to run unattended.
    pub min_confidence: f64,
    /// Guards checked, all passed.
    pub guards_passed: Vec<Cow<'static, str>>,
}

/// An action that was considered and rejected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RejectedAction {
    /// Action id.
    pub id: String,
    /// The resolved target, when one resolved.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target: Option<String>,
    /// Why: every guard that failed.
    pub failed: Vec<GuardFailure>,
}

/// The confidence of a decision, with its terms.
pub type DecisionConfidence = Confidence;

/// One decision.
///
/// Deciding writes numbers and references, not prose: the explanation
/// paragraph ([`Decision::explain`]) and the confidence terms
/// ([`Confidence::terms`]) are written when they are read or when the
/// document is serialised, where they appear as `explanation` and
/// `confidence.terms`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[schemars(description = "One decision.")]
pub struct Decision {
    /// [`DECISION_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Deterministic id from signature, node and onset.
    pub id: String,
    /// The library revision that produced the decision.
    pub library_revision: Arc<str>,
    /// Evaluation time (Unix ms).
    pub at: i64,
    /// The node.
    pub node: Name,
    /// The signature; absent for inferred suspects.
    // Shared by every decision of the signature.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signature: Option<Arc<SignatureRef>>,
    /// When the failure began (Unix ms).
    pub onset: i64,
    /// What to do.
    pub verdict: Verdict,
    /// Why this verdict (and not execute).
    pub reasons: Vec<String>,
    /// Confidence: value, log-odds, the inputs and the terms they make.
    #[schemars(with = "crate::confidence::ConfidenceDocument")]
    pub confidence: Confidence,
    /// Every predicate evaluated.
    pub evidence: Vec<EvidenceItem>,
    /// Root-cause verdict.
    pub root_cause: RootCause,
    /// The chosen action.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub action: Option<ChosenAction>,
    /// Rejected actions with their failed guards.
    pub rejected: Vec<RejectedAction>,
}

/// The serialised shape of a [`Decision`]: its fields in document order,
/// plus the explanation written from them.
#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    id: &'a str,
    library_revision: &'a str,
    at: i64,
    node: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<&'a SignatureRef>,
    onset: i64,
    verdict: Verdict,
    reasons: &'a [String],
    confidence: &'a Confidence,
    evidence: &'a [EvidenceItem],
    root_cause: &'a RootCause,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'a ChosenAction>,
    rejected: &'a [RejectedAction],
    explanation: String,
}

impl Serialize for Decision {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Document {
            schema_version: self.schema_version,
            id: &self.id,
            library_revision: &self.library_revision,
            at: self.at,
            node: &self.node,
            signature: self.signature.as_deref(),
            onset: self.onset,
            verdict: self.verdict,
            reasons: &self.reasons,
            confidence: &self.confidence,
            evidence: &self.evidence,
            root_cause: &self.root_cause,
            action: self.action.as_ref(),
            rejected: &self.rejected,
            explanation: self.explain(),
        }
        .serialize(s)
    }
}

impl Decision {
    /// The decision as its stable JSON document (one line).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses a decision document.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidArgument`] when the text is not a decision document.
    pub fn from_json(text: &str) -> Result<Decision, crate::Error> {
        serde_json::from_str(text)
            .map_err(|e| crate::Error::new(crate::ErrorKind::InvalidArgument, format!("not a decision document: {e}")))
    }

    /// The explanation paragraph for a person, written from the other
    /// fields (the document's `explanation`).
    pub fn explain(&self) -> String {
        let mut s = String::new();
        let what = self.signature.as_ref().map_or_else(
            || "an undiagnosed shared dependency".to_string(),
            |sig| format!("{} ({})", sig.title, sig.id),
        );
        let _ = write!(s, "{what} on {}", self.node);
        let held: Vec<&str> = self
            .evidence
            .iter()
            .filter(|e| e.satisfied && matches!(e.role, crate::diagnosis::Role::Required))
            .map(|e| e.about.predicate.as_str())
            .collect();
        if !held.is_empty() {
            let _ = write!(s, " because {}", held.join(" and "));
        }
        let _ = write!(s, "; confidence {:.0}%.", self.confidence.value * 100.0);
        match self.root_cause.role {
            RootRole::Symptom => {
                let _ = write!(
                    s,
                    " It is a symptom of {} (path {}).",
                    self.root_cause.node,
                    self.root_cause.path.join(" → ")
                );
            }
            RootRole::InferredSuspect => {
                let _ = write!(s, " {} failing dependents share it.", self.root_cause.explains.len());
            }
            RootRole::Root => {
                if !self.root_cause.explains.is_empty() {
                    let _ = write!(s, " It explains failures on {}.", self.root_cause.explains.join(", "));
                }
            }
        }
        match &self.action {
            Some(a) => {
                let _ = write!(s, " Chosen action: {} ({}) on {}.", a.id, a.operation, a.target);
            }
            None if !self.rejected.is_empty() => {
                let _ = write!(s, " No action passed its guards.");
            }
            None => {}
        }
        for r in &self.rejected {
            for f in &r.failed {
                let _ = write!(s, " Rejected {}: {}.", r.id, f.reason);
            }
        }
        let _ = write!(s, " Verdict: {}", self.verdict.as_str());
        if !self.reasons.is_empty() {
            let _ = write!(s, " ({})", self.reasons.join("; "));
        }
        s.push('.');
        s
    }
}

/// The deterministic id of a decision: FNV-1a over signature, node and onset.
///
/// # Example
///
/// ```
/// use healbot_core::decision::decision_id;
/// assert_eq!(decision_id("db.down", "db", 1000), decision_id("db.down", "db", 1000));
/// assert_ne!(decision_id("db.down", "db", 1000), decision_id("db.down", "db", 2000));
/// ```
pub fn decision_id(signature: &str, node: &str, onset: i64) -> String {
    spell_decision_id(decision_hash(signature, node, onset))
}

/// The hash [`decision_id`] spells: FNV-1a of `{signature}\x1f{node}\x1f{onset}`,
/// fed in parts.
pub(crate) fn decision_hash(signature: &str, node: &str, onset: i64) -> u64 {
    let mut h = crate::library::Fnv1a::new();
    h.write(signature.as_bytes());
    h.write(b"\x1f");
    h.write(node.as_bytes());
    h.write(b"\x1f");
    let mut digits = [0u8; 20];
    h.write(decimal(onset, &mut digits));
    h.finish()
}

/// `d-` and the 16 lowercase hex digits of `hash`.
pub(crate) fn spell_decision_id(hash: u64) -> String {
    // Bytes first, then one string, rather than 16 pushes of a char.
    let mut id = *b"d-0000000000000000";
    id[2..10].copy_from_slice(&hex8((hash >> 32) as u32));
    id[10..].copy_from_slice(&hex8(hash as u32));
    // ASCII by construction, so the check always passes.
    std::str::from_utf8(&id).map_or_else(|_| String::new(), String::from)
}

/// The 8 lowercase hex digits of `x`, all at once in one `u64` rather
/// than a digit at a time: every decision spells an id.
fn hex8(x: u32) -> [u8; 8] {
    const LOW_NIBBLES: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Spread the nibbles one to a byte, the most significant first.
    let x = u64::from(x);
    let x = (x | x << 16) & 0x0000_ffff_0000_ffff;
    let x = (x | x << 8) & 0x00ff_00ff_00ff_00ff;
    let x = (x | x << 4) & LOW_NIBBLES;
    // A byte of 10 or more carries into its bit 4 when 6 is added: those
    // digits are letters, `a` - `0` - 10 = 39 further on.
    let letters = ((x + 6 * ONES) >> 4) & ONES;
    (x + u64::from(b'0') * ONES + letters * 39).to_be_bytes()
}

/// The hash a [`decision_id`] spells (`d-` and 16 lowercase hex digits);
/// `None` for any other string.
pub(crate) fn decision_hash_of(id: &str) -> Option<u64> {
    let digits = id.strip_prefix("d-")?.as_bytes();
    if digits.len() != 16 {
        return None;
    }
    digits.iter().try_fold(0u64, |h, &c| {
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        Some(h << 4 | u64::from(v))
    })
}

/// `v` in decimal, written into the end of `buf`.
///
/// Two digits per division, from a table of the hundred pairs: a decision
/// id hashes its onset's 13 digits, and a division per digit was most of
/// the id's cost.
pub(crate) fn decimal(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// The JSON Schema of the decision document, as committed under `schema/`.
pub fn decision_schema() -> String {
    let mut schema = schemars::schema_for!(Decision);
    // The explanation is written on serialisation, not stored.
    if let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        props.insert(
            "explanation".into(),
            serde_json::json!({"description": "One paragraph for a person.", "type": "string"}),
        );
    }
    if let Some(required) = schema.get_mut("required").and_then(|r| r.as_array_mut()) {
        required.push("explanation".into());
    }
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spellings_are_the_documents() {
        for v in [Verdict::Execute, Verdict::Escalate, Verdict::Suppress, Verdict::Blocked, Verdict::Observe] {
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{}\"", v.as_str()));
        }
        for r in [RootRole::Root, RootRole::Symptom, RootRole::InferredSuspect] {
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{}\"", r.as_str()));
        }
    }

    proptest! {
        #[test]
        fn spell_decision_id_is_lower_hex(hash in any::<u64>()) {
            prop_assert_eq!(spell_decision_id(hash), format!("d-{hash:016x}"));
        }
    }

    #[test]
    fn spell_decision_id_at_the_edges() {
        for hash in [0, 9, 10, 15, 0x9a, u64::from(u32::MAX), 0x0123_4567_89ab_cdef, u64::MAX] {
            assert_eq!(spell_decision_id(hash), format!("d-{hash:016x}"));
        }
    }

    #[test]
    fn decimal_is_display() {
        let mut buf = [0u8; 20];
        for v in [0, 5, 9, 10, 42, 99, 100, 101, 999, 1_000, 1_700_000_000_000, -1, -10, -100, i64::MAX, i64::MIN] {
            assert_eq!(decimal(v, &mut buf), v.to_string().as_bytes(), "{v}");
        }
        for digits in 1..=19 {
            let v = 10i64.pow(digits - 1);
            assert_eq!(decimal(v, &mut buf), v.to_string().as_bytes());
            assert_eq!(decimal(v - 1, &mut buf), (v - 1).to_string().as_bytes());
        }
    }

    proptest! {
        #[test]
        fn decision_id_hashes_the_joined_text(sig in "[a-z.]{0,12}", node in "[a-z0-9-]{0,12}", onset in any::<i64>()) {
            let text = format!("{sig}\u{1f}{node}\u{1f}{onset}");
            let want = format!("d-{:016x}", crate::library::fnv1a64(text.as_bytes()));
            prop_assert_eq!(decision_id(&sig, &node, onset), want);
        }

        #[test]
        fn decision_hash_of_reads_back_exactly_the_ids_decision_id_writes(
            sig in "[a-z.]{0,12}", node in "[a-z0-9-]{0,12}", onset in any::<i64>(), other in "\\PC{0,20}"
        ) {
            let id = decision_id(&sig, &node, onset);
            let text = format!("{sig}\u{1f}{node}\u{1f}{onset}");
            prop_assert_eq!(decision_hash_of(&id), Some(crate::library::fnv1a64(text.as_bytes())));
            // Anything but `d-` and 16 lowercase hex digits names no decision.
            let well_formed = other.len() == 18
                && other.starts_with("d-")
                && other[2..].bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
            prop_assert_eq!(decision_hash_of(&other).is_some(), well_formed);
        }
    }

    #[test]
    fn decision_hash_of_refuses_near_misses() {
        let id = decision_id("db.down", "db", 1000);
        assert!(decision_hash_of(&id).is_some());
        for bad in [
            id.to_uppercase(),
            id[1..].to_string(),
            format!("{id}0"),
            id[..17].to_string(),
            "d-+000000000000000".into(),
        ] {
            assert_eq!(decision_hash_of(&bad), None, "{bad}");
        }
    }
}
