//! Confidence in log-odds: prior, evidence, data coverage, topology and
//! recorded outcomes, each reported as a term.
//!
//! ```text
//! logit(c) = logit(prior)
//!          + coverage × (Σ weights of evidence that held)
//!          + topology term
//!          + outcome term
//! ```
//!
//! Missing or stale series shrink the evidence term toward zero, which pulls
//! the confidence toward the prior. The topology term lowers confidence when
//! a diagnosed dependency could explain the node's failure and raises it
//! when dependents corroborate it. The outcome term is the log-odds of the
//! mean of a Beta(1 + successes, 1 + failures) posterior for the
//! (signature, action) pair: `ln((1 + s) / (1 + f))`, bounded so a long
//! history cannot swamp current evidence. Nothing in the telemetry text
//! enters the computation. See `docs/confidence.md`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The weight of "a diagnosed dependency could explain this failure".
pub const EXPLAINED_BY_DEPENDENCY: f64 = -5.0;
/// The weight of each dependent whose own failure this one explains (up to
/// [`MAX_CORROBORATING`]).
pub const PER_CORROBORATING_DEPENDENT: f64 = 0.4;
/// How many corroborating dependents count.
pub const MAX_CORROBORATING: usize = 3;
/// Bound on the outcome term, in log-odds.
pub const MAX_OUTCOME_TERM: f64 = 2.0;

/// One additive term of the confidence, in log-odds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Term {
    /// `prior`, `evidence`, `coverage`, `topology` or `outcomes`.
    pub name: String,
    /// Contribution in log-odds.
    pub value: f64,
    /// What the term is made of, for people.
    pub detail: String,
}

/// A confidence: the value, its log-odds and the inputs that built it.
///
/// The terms are not stored: [`Confidence::terms`] writes them from the
/// inputs when they are read (or the decision document is serialised), so
/// deciding costs no text. The document carries `value`, `log_odds`,
/// `inputs` and `terms`; reading a document back recomputes the terms from
/// `inputs`.
///
/// # Example
///
/// ```
/// use healbot_core::confidence::{score, Inputs};
///
/// let c = score(&Inputs { prior: 0.5, evidence: 1.0, coverage: 1.0, explained_by_dependency: false,
///                         corroborating_dependents: 0, successes: 0, failures: 0 });
/// let json = serde_json::to_value(&c).unwrap();
/// assert_eq!(json["terms"][1]["name"], "evidence");
/// assert_eq!(serde_json::from_value::<healbot_core::confidence::Confidence>(json).unwrap(), c);
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Confidence {
    /// The probability, in [0, 1].
    pub value: f64,
    /// The log-odds the value comes from.
    pub log_odds: f64,
    /// What the value was computed from.
    pub inputs: Inputs,
}

impl Confidence {
    /// The additive terms, in log-odds, in a fixed order: `prior`,
    /// `evidence`, `coverage`, `topology`, `outcomes`. They sum to
    /// [`Confidence::log_odds`].
    pub fn terms(&self) -> Vec<Term> {
        let i = &self.inputs;
        let p = Parts::of(i);
        let coverage = p.coverage;
        let evidence = p.evidence;
        vec![
            Term { name: "prior".into(), value: p.prior, detail: format!("prior probability {:.3}", i.prior) },
            Term {
                name: "evidence".into(),
                value: evidence,
                detail: format!("sum of weights of evidence that held: {evidence:.3}"),
            },
            Term {
                name: "coverage".into(),
                value: p.coverage_shift,
                detail: format!(
                    "{:.0}% of the series read had fresh data; evidence scaled by {coverage:.2}",
                    coverage * 100.0
                ),
            },
            Term {
                name: "topology".into(),
                value: p.topology,
                detail: format!(
                    "{}{} corroborating dependents",
                    if i.explained_by_dependency { "a diagnosed dependency could explain it; " } else { "" },
                    i.corroborating_dependents
                ),
            },
            Term {
                name: "outcomes".into(),
                value: p.outcomes,
                detail: format!("{} successful and {} failed outcomes recorded", i.successes, i.failures),
            },
        ]
    }
}

/// The serialised shape of a [`Confidence`], for its JSON Schema.
#[derive(JsonSchema)]
#[schemars(
    rename = "Confidence",
    description = "A confidence: the value, its log-odds, the inputs and the terms written from them."
)]
#[allow(dead_code)] // read by schemars only
pub(crate) struct ConfidenceDocument {
    /// The probability, in [0, 1].
    value: f64,
    /// The log-odds the value comes from.
    log_odds: f64,
    /// What the value was computed from.
    inputs: Inputs,
    /// The terms, in a fixed order; they sum to `log_odds`.
    terms: Vec<Term>,
}

impl Serialize for Confidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Confidence", 4)?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("log_odds", &self.log_odds)?;
        st.serialize_field("inputs", &self.inputs)?;
        st.serialize_field("terms", &self.terms())?;
        st.end()
    }
}

/// The inputs of a confidence computation.
///
/// # Example
///
/// ```
/// use healbot_core::confidence::{score, Inputs};
///
/// let c = score(&Inputs { prior: 0.5, evidence: 1.0, coverage: 1.0, explained_by_dependency: false,
///                         corroborating_dependents: 0, successes: 0, failures: 0 });
/// assert!((c.value - 0.731).abs() < 1e-3);
/// assert_eq!(c.terms().len(), 5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "The numbers a confidence is computed from.")]
pub struct Inputs {
    /// Prior probability of the signature, in (0, 1).
    pub prior: f64,
    /// Sum of the weights of evidence items that held.
    pub evidence: f64,
    /// Share of read series with fresh data, in [0, 1].
    pub coverage: f64,
    /// A diagnosed dependency could explain this node's failure.
    pub explained_by_dependency: bool,
    /// Dependents whose failures this diagnosis explains.
    pub corroborating_dependents: usize,
    /// Successful outcomes recorded for (signature, action).
    pub successes: u32,
    /// Failed outcomes recorded for (signature, action).
    pub failures: u32,
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The terms of a confidence, in log-odds, before any text is written.
struct Parts {
    prior: f64,
    evidence: f64,
    coverage: f64,
    /// The evidence scaled by coverage.
    scaled: f64,
    coverage_shift: f64,
    topology: f64,
    outcomes: f64,
}

impl Parts {
    fn of(i: &Inputs) -> Parts {
        let coverage = if i.coverage.is_finite() { i.coverage.clamp(0.0, 1.0) } else { 0.0 };
        let evidence = if i.evidence.is_finite() { i.evidence } else { 0.0 };
        let prior = logit(if i.prior.is_finite() { i.prior } else { 0.5 });
        let scaled = coverage * evidence;
        let coverage_shift = scaled - evidence;
        let topology = if i.explained_by_dependency { EXPLAINED_BY_DEPENDENCY } else { 0.0 }
            + PER_CORROBORATING_DEPENDENT * i.corroborating_dependents.min(MAX_CORROBORATING) as f64;
        let outcomes = ((1.0 + f64::from(i.successes)) / (1.0 + f64::from(i.failures)))
            .ln()
            .clamp(-MAX_OUTCOME_TERM, MAX_OUTCOME_TERM);
        Parts { prior, evidence, coverage, scaled, coverage_shift, topology, outcomes }
    }

    fn log_odds(&self) -> f64 {
        self.prior + self.scaled + self.topology + self.outcomes
    }
}

/// The confidence value alone: what [`score`] computes, without writing its
/// terms. For ranking, where only the number is read.
///
/// # Example
///
/// ```
/// use healbot_core::confidence::{score, value, Inputs};
///
/// let i = Inputs { prior: 0.3, evidence: 2.0, coverage: 0.5, explained_by_dependency: false,
///                  corroborating_dependents: 1, successes: 2, failures: 1 };
/// assert_eq!(value(&i), score(&i).value);
/// ```
pub fn value(i: &Inputs) -> f64 {
    sigmoid(Parts::of(i).log_odds())
}

/// Computes a confidence from its inputs. Monotone: more positive evidence
/// never lowers it; an extra failed outcome never raises it.
pub fn score(i: &Inputs) -> Confidence {
    let log_odds = Parts::of(i).log_odds();
    Confidence { value: sigmoid(log_odds), log_odds, inputs: *i }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn inputs() -> impl Strategy<Value = Inputs> {
        (0.01f64..0.99, -5.0f64..5.0, 0.0f64..=1.0, any::<bool>(), 0usize..6, 0u32..20, 0u32..20).prop_map(
            |(prior, evidence, coverage, explained_by_dependency, corroborating_dependents, successes, failures)| {
                Inputs {
                    prior,
                    evidence,
                    coverage,
                    explained_by_dependency,
                    corroborating_dependents,
                    successes,
                    failures,
                }
            },
        )
    }

    proptest! {
        #[test]
        fn confidence_is_a_probability(i in inputs()) {
            let c = score(&i);
            prop_assert!((0.0..=1.0).contains(&c.value));
            let sum: f64 = c.terms().iter().map(|t| t.value).sum();
            prop_assert!((sum - c.log_odds).abs() < 1e-9);
            prop_assert_eq!(value(&i), c.value);
        }

        #[test]
        fn more_positive_evidence_never_lowers_it(i in inputs(), extra in 0.0f64..3.0) {
            let more = Inputs { evidence: i.evidence + extra, ..i };
            prop_assert!(score(&more).value >= score(&i).value);
        }

        #[test]
        fn an_extra_failure_never_raises_it(i in inputs()) {
            let worse = Inputs { failures: i.failures + 1, ..i };
            prop_assert!(score(&worse).value <= score(&i).value);
        }

        #[test]
        fn no_coverage_means_the_prior(i in inputs()) {
            let blind = Inputs { coverage: 0.0, explained_by_dependency: false, corroborating_dependents: 0, successes: 0, failures: 0, ..i };
            prop_assert!((score(&blind).value - i.prior).abs() < 1e-9);
        }
    }
}
