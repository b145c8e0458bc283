//! What [`Topology::compile`](super::Topology::compile) reports about a bad spec.

use std::fmt;

use crate::diagnostic::DiagnosticKind;

/// One problem found while compiling a [`TopologySpec`](crate::spec::TopologySpec).
///
/// A problem knows where it is: the index of the node in `spec.nodes` (when
/// it concerns a node), the field (`"id"`, `"aliases"`, `"depends_on"`, …)
/// and the index inside that field when the field is a list. [`path`]
/// renders that as `spec.nodes[3].depends_on[1]`, ready for a
/// [`Diagnostic`](crate::Diagnostic); the loader adds file, line and column.
///
/// The type is opaque so that more context can be added later without
/// breaking callers.
///
/// [`path`]: TopologyProblem::path
///
/// # Example
///
/// ```
/// use healbot_core::spec::{NodeKind, NodeSpec, TopologySpec};
/// use healbot_core::topology::Topology;
/// use healbot_core::DiagnosticKind;
///
/// let node = |id: &str, deps: &[&str]| NodeSpec {
///     id: id.into(), kind: NodeKind::Service, replicas: 1, tier: 3,
///     labels: Default::default(), aliases: vec![],
///     depends_on: deps.iter().map(|d| d.to_string()).collect(),
///     runs_on: vec![], replicates: vec![],
/// };
/// let spec = TopologySpec {
///     attach_by: vec!["service".into()],
///     replicas_metric: None,
///     nodes: vec![node("checkout", &["orders-db"]), node("orders_db", &[])],
/// };
/// let problems = Topology::compile(&spec).unwrap_err();
/// assert_eq!(problems.len(), 1);
/// let p = &problems[0];
/// assert_eq!(p.kind(), DiagnosticKind::UnknownReference);
/// assert_eq!(p.path(), "spec.nodes[0].depends_on[0]");
/// assert_eq!(p.node_index(), Some(0));
/// assert_eq!(p.field(), Some("depends_on"));
/// assert_eq!(p.field_index(), Some(0));
/// assert_eq!(p.suggestion(), Some("did you mean `orders_db`?"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopologyProblem {
    kind: DiagnosticKind,
    node: Option<usize>,
    field: Option<&'static str>,
    index: Option<usize>,
    message: String,
    suggestion: Option<String>,
}

impl TopologyProblem {
    pub(super) fn new(kind: DiagnosticKind, message: impl Into<String>) -> TopologyProblem {
        TopologyProblem { kind, node: None, field: None, index: None, message: message.into(), suggestion: None }
    }

    pub(super) fn at_node(mut self, node: usize, field: &'static str) -> TopologyProblem {
        self.node = Some(node);
        self.field = Some(field);
        self
    }

    pub(super) fn at_field(mut self, field: &'static str) -> TopologyProblem {
        self.field = Some(field);
        self
    }

    pub(super) fn at_index(mut self, index: usize) -> TopologyProblem {
        self.index = Some(index);
        self
    }

    pub(super) fn suggest(mut self, suggestion: Option<String>) -> TopologyProblem {
        self.suggestion = suggestion;
        self
    }

    /// The class of the problem: [`DiagnosticKind::Duplicate`],
    /// [`DiagnosticKind::UnknownReference`], [`DiagnosticKind::Invalid`]
    /// (a node depending on itself), [`DiagnosticKind::InvalidValue`] (a
    /// malformed id, `replicas: 0`, a tier outside `1..=4`) or
    /// [`DiagnosticKind::Limit`] (more nodes or edges than a `u32` indexes).
    ///
    /// # Example
    ///
    /// See [`TopologyProblem`].
    pub fn kind(&self) -> DiagnosticKind {
        self.kind
    }

    /// The index of the node in `spec.nodes`, when the problem concerns one.
    ///
    /// # Example
    ///
    /// See [`TopologyProblem`].
    pub fn node_index(&self) -> Option<usize> {
        self.node
    }

    /// The field the problem is in: a field of the node (`"id"`,
    /// `"replicas"`, `"tier"`, `"aliases"`, `"depends_on"`, `"runs_on"`,
    /// `"replicates"`) or, without a node, a field of the spec
    /// (`"attach_by"`, `"nodes"`).
    ///
    /// # Example
    ///
    /// See [`TopologyProblem`].
    pub fn field(&self) -> Option<&'static str> {
        self.field
    }

    /// The index inside [`field`](TopologyProblem::field) when it is a list.
    ///
    /// # Example
    ///
    /// See [`TopologyProblem`].
    pub fn field_index(&self) -> Option<usize> {
        self.index
    }

    /// What is wrong, in one sentence.
    ///
    /// # Example
    ///
    /// See [`TopologyProblem`].
    pub fn message(&self) -> &str {
        &self.message
    }

    /// A plain fix, when there is one (`did you mean `orders-db`?`).
    ///
    /// # Example
    ///
    /// See [`TopologyProblem`].
    pub fn suggestion(&self) -> Option<&str> {
        self.suggestion.as_deref()
    }

    /// The location as a path inside the document:
    /// `spec.nodes[3].depends_on[1]`, `spec.nodes[0].tier`, `spec.attach_by[2]`.
    ///
    /// # Example
    ///
    /// See [`TopologyProblem`].
    pub fn path(&self) -> String {
        let mut path = String::from("spec");
        if let Some(node) = self.node {
            path.push_str(&format!(".nodes[{node}]"));
        }
        if let Some(field) = self.field {
            path.push('.');
            path.push_str(field);
        }
        if let Some(index) = self.index {
            path.push_str(&format!("[{index}]"));
        }
        path
    }

    /// Sort key: spec-level problems first, then by node, field and index.
    pub(super) fn sort_key(&self) -> (usize, usize, usize) {
        let node = self.node.map_or(0, |n| n + 1);
        let field = match self.field {
            Some("attach_by") => 0,
            Some("nodes") => 1,
            Some("id") => 2,
            Some("replicas") => 3,
            Some("tier") => 4,
            Some("aliases") => 5,
            Some("depends_on") => 6,
            Some("runs_on") => 7,
            Some("replicates") => 8,
            _ => 9,
        };
        (node, field, self.index.unwrap_or(0))
    }
}

impl fmt::Display for TopologyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]: {}", self.path(), self.kind, self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; {s}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TopologyProblem {}
