//! The `Topology` document: nodes, their edges, and how telemetry attaches.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `spec` of a `Topology` document.
///
/// # Example
///
/// ```yaml
/// apiVersion: healbot.dev/v1
/// kind: Topology
/// metadata: {name: shop}
/// spec:
///   attach_by: [service, app, job]
///   nodes:
///     - id: checkout
///       kind: service
///       replicas: 3
///       depends_on: [orders-db]
///     - id: orders-db
///       kind: database
///       tier: 1
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopologySpec {
    /// Observation label keys that name a node, tried in order; then aliases.
    #[serde(default = "default_attach_by")]
    pub attach_by: Vec<String>,
    /// A metric whose latest value per node is its number of available
    /// replicas (for example `kube_deployment_status_replicas_available`).
    /// When absent, declared `replicas` count as healthy unless the node is
    /// diagnosed unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas_metric: Option<String>,
    /// The components.
    pub nodes: Vec<NodeSpec>,
}

/// The default attachment keys: `service`, `app`, `job`.
pub fn default_attach_by() -> Vec<String> {
    vec!["service".into(), "app".into(), "job".into()]
}

/// One component of the topology.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Unique id (`[A-Za-z0-9_.:/-]+`).
    pub id: String,
    /// What the node is.
    pub kind: NodeKind,
    /// Declared replica count (default 1).
    #[serde(default = "one")]
    pub replicas: u32,
    /// Criticality: 1 is the most critical tier, 4 the least (default 3).
    #[serde(default = "three")]
    pub tier: u8,
    /// Free-form labels; readable by selectors, exceptions and grouping keys.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Other names telemetry may use for this node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Nodes this node calls and needs (caller → callee).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Hosts, pods or nodes this node runs on (it needs them too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs_on: Vec<String>,
    /// Nodes this node is a replica of (same data, can take over).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicates: Vec<String>,
}

fn one() -> u32 {
    1
}
fn three() -> u8 {
    3
}

/// The kinds of node HealBot knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// An application service.
    Service,
    /// A database.
    Database,
    /// A cache.
    Cache,
    /// A message queue or stream.
    Queue,
    /// A machine or VM.
    Host,
    /// A Kubernetes pod.
    Pod,
    /// A load balancer or ingress.
    LoadBalancer,
    /// Something outside the operator's control (a SaaS API).
    External,
}

impl NodeKind {
    /// Every kind, in declaration order.
    pub const ALL: [NodeKind; 8] = [
        NodeKind::Service,
        NodeKind::Database,
        NodeKind::Cache,
        NodeKind::Queue,
        NodeKind::Host,
        NodeKind::Pod,
        NodeKind::LoadBalancer,
        NodeKind::External,
    ];

    /// The snake_case spelling used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Service => "service",
            NodeKind::Database => "database",
            NodeKind::Cache => "cache",
            NodeKind::Queue => "queue",
            NodeKind::Host => "host",
            NodeKind::Pod => "pod",
            NodeKind::LoadBalancer => "load_balancer",
            NodeKind::External => "external",
        }
    }
}
