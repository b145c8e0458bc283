//! The document model: the envelope and the four document kinds.
//!
//! Every document has a Kubernetes-style envelope:
//!
//! ```yaml
//! apiVersion: healbot.dev/v1
//! kind: SignatureLibrary        # or ActionLibrary, Topology, Overrides
//! metadata:
//!   name: databases
//!   version: "1.2.0"
//!   labels: {team: platform}
//!   min_engine_version: "0.1.0"
//! spec: {...}
//! ```
//!
//! These types are what documents deserialize into and what the JSON Schemas
//! under `schema/` are generated from. They are validated and compiled by
//! [`crate::load`]; nothing here is evaluated directly.

pub mod action;
pub mod matcher;
pub mod overrides;
pub mod signature;
pub mod topology;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use action::{Action, ActionLibrarySpec, Guard, Risk, Target};
pub use matcher::{LabelMatcher, MatchOp};
pub use overrides::OverridesSpec;
pub use signature::{Category, Comparison, Condition, Signature, SignatureLibrarySpec, Status};
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

impl Aggregation {
    /// Every aggregation, in declaration order.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::spec::Aggregation;
    /// assert_eq!(Aggregation::ALL.len(), 10);
    /// assert_eq!(Aggregation::ALL[0], Aggregation::Last);
    /// ```
    pub const ALL: [Aggregation; 10] = [
        Aggregation::Last,
        Aggregation::Min,
        Aggregation::Max,
        Aggregation::Avg,
        Aggregation::Sum,
        Aggregation::Count,
        Aggregation::Rate,
        Aggregation::Increase,
        Aggregation::Quantile,
        Aggregation::Slope,
    ];
}

/// The only `apiVersion` this engine reads.
pub const API_VERSION: &str = "healbot.dev/v1";

/// `apiVersion: healbot.dev/v1`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApiVersion {
    /// Version 1.
    #[default]
    #[serde(rename = "healbot.dev/v1")]
    V1,
}

/// The four document kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
pub enum DocumentKind {
    /// Failure signatures.
    SignatureLibrary,
    /// Remediation actions.
    ActionLibrary,
    /// The service dependency graph.
    Topology,
    /// Changes to signatures and actions by id.
    Overrides,
}

impl DocumentKind {
    /// Every kind.
    pub const ALL: [DocumentKind; 4] =
        [DocumentKind::SignatureLibrary, DocumentKind::ActionLibrary, DocumentKind::Topology, DocumentKind::Overrides];

    /// The kind as written in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::SignatureLibrary => "SignatureLibrary",
            DocumentKind::ActionLibrary => "ActionLibrary",
            DocumentKind::Topology => "Topology",
            DocumentKind::Overrides => "Overrides",
        }
    }

    /// The kind from its spelling.
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::spec::DocumentKind;
    /// assert_eq!(DocumentKind::parse("Topology"), Some(DocumentKind::Topology));
    /// assert_eq!(DocumentKind::parse("topology"), None);
    /// ```
    pub fn parse(s: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The `metadata` of every document.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// The document's name.
    pub name: String,
    /// The document's own version, free-form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What the document is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Free-form labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The oldest engine (`MAJOR.MINOR.PATCH`) that can read the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_engine_version: Option<String>,
}

macro_rules! document {
    ($(#[$doc:meta])* $name:ident, $kind:ident, $spec:ty) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Always `healbot.dev/v1`.
            #[serde(rename = "apiVersion")]
            pub api_version: ApiVersion,
            /// The document kind.
            pub kind: kinds::$kind,
            /// Name, version, labels.
            pub metadata: Metadata,
            /// The content.
            pub spec: $spec,
        }
    };
}

/// Single-variant enums that pin the `kind` of each document type.
pub mod kinds {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    macro_rules! kind {
        ($name:ident) => {
            #[doc = concat!("`kind: ", stringify!($name), "`.")]
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
            pub enum $name {
                #[doc = concat!("`", stringify!($name), "`.")]
                #[default]
                $name,
            }
        };
    }
    kind!(SignatureLibrary);
    kind!(ActionLibrary);
    kind!(Topology);
    kind!(Overrides);
}

document!(
    /// A `SignatureLibrary` document.
    SignatureLibraryDocument, SignatureLibrary, SignatureLibrarySpec
);
document!(
    /// An `ActionLibrary` document.
    ActionLibraryDocument, ActionLibrary, ActionLibrarySpec
);
document!(
    /// A `Topology` document.
    TopologyDocument, Topology, TopologySpec
);
document!(
    /// An `Overrides` document.
    OverridesDocument, Overrides, OverridesSpec
);

/// Any document.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Document {
    /// Signatures.
    SignatureLibrary(SignatureLibraryDocument),
    /// Actions.
    ActionLibrary(ActionLibraryDocument),
    /// Topology.
    Topology(TopologyDocument),
    /// Overrides.
    Overrides(OverridesDocument),
}

impl Document {
    /// The document's kind.
    pub fn kind(&self) -> DocumentKind {
        match self {
            Document::SignatureLibrary(_) => DocumentKind::SignatureLibrary,
            Document::ActionLibrary(_) => DocumentKind::ActionLibrary,
            Document::Topology(_) => DocumentKind::Topology,
            Document::Overrides(_) => DocumentKind::Overrides,
        }
    }

    /// The document's metadata.
    pub fn metadata(&self) -> &Metadata {
        match self {
            Document::SignatureLibrary(d) => &d.metadata,
            Document::ActionLibrary(d) => &d.metadata,
            Document::Topology(d) => &d.metadata,
            Document::Overrides(d) => &d.metadata,
        }
    }
}

/// The JSON Schema of a document kind, as committed under `schema/`.
///
/// # Example
///
/// ```
/// use healbot_core::spec::{schema_for, DocumentKind};
/// let schema = schema_for(DocumentKind::Topology);
/// assert!(schema.contains("\"apiVersion\""));
/// ```
pub fn schema_for(kind: DocumentKind) -> String {
    let schema = match kind {
        DocumentKind::SignatureLibrary => schemars::schema_for!(SignatureLibraryDocument),
        DocumentKind::ActionLibrary => schemars::schema_for!(ActionLibraryDocument),
        DocumentKind::Topology => schemars::schema_for!(TopologyDocument),
        DocumentKind::Overrides => schemars::schema_for!(OverridesDocument),
    };
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
