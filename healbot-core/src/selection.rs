//! Selection: the first action of a signature's remediation list that is
//! right for the current topology and history.
//!
//! For a root-cause diagnosis, [`select`] walks the remediation list in
//! order. For each action it resolves the target over the graph
//! ([`resolve_target`]), checks its guards ([`crate::guard::check`]) and
//! chooses the first action whose *hard* guards all pass. Failures of the
//! guards that only restrict unattended runs (`budget`, `freeze`) do not
//! reject an action: it is chosen with them as `soft_failures`, and the
//! engine must escalate rather than execute. Every action before the chosen
//! one is kept as rejected, with every guard it failed. Symptoms get no
//! selection at all: the engine names their root cause instead.
//!
//! Selection reads and never writes: the ledger changes only when the host
//! reports an execution, so a dry run is simply not reporting one.
//!
//! # Example
//!
//! ```
//! use healbot_core::guard::{ActionGuards, GuardCx, StaticHealth};
//! use healbot_core::ledger::Ledger;
//! use healbot_core::selection::select;
//! use healbot_core::{Library, Topology};
//!
//! let topology = Topology::from_text("t.yaml", r#"
//! apiVersion: healbot.dev/v1
//! kind: Topology
//! metadata: {name: t}
//! spec:
//!   nodes:
//!     - {id: api, kind: service, depends_on: [db]}
//!     - {id: db, kind: database, replicas: 2}
//! "#).unwrap();
//! let library = Library::from_text("a.yaml", r#"
//! apiVersion: healbot.dev/v1
//! kind: ActionLibrary
//! metadata: {name: a}
//! spec:
//!   actions:
//!     - id: flush_pool
//!       title: Flush the connection pool
//!       operation: flush_connection_pool
//!       risk: low
//!       min_confidence: 0.8
//!       guards: [{dependencies_healthy: {kinds: [database]}}]
//!     - id: failover_db
//!       title: Fail the database over
//!       operation: failover
//!       target: {dependency: {kind: database}}
//!       risk: medium
//!       min_confidence: 0.9
//! "#).unwrap();
//! let guards = ActionGuards::compile_all(&library).unwrap();
//! let (api, db) = (topology.lookup("api").unwrap(), topology.lookup("db").unwrap());
//! let mut health = StaticHealth::new(&topology);
//! health.set_unhealthy(db, true);
//! let ledger = Ledger::new();
//! let cx = GuardCx { topology: &topology, health: &health, ledger: &ledger, at: 0 };
//! let ids = ["flush_pool".to_string(), "failover_db".to_string()];
//! let s = select(&library, &guards, &ids, api, None, &cx, &mut topology.traversal());
//! let chosen = s.chosen.unwrap();
//! assert_eq!(library.actions()[chosen.action].id, "failover_db");
//! assert_eq!(chosen.target, db);
//! assert_eq!(s.rejected[0].failed[0].to_failure().reason, "dependency db (database) is unhealthy");
//! ```

use crate::guard::{check, ActionGuards, GuardCheck, GuardCx};
use crate::library::Library;
use crate::spec::action::{Action, Target};
use crate::topology::{NodeId, NodeInfo, Topology, Traversal};

/// The node `action` acts on when chosen for a diagnosis on `node`.
///
/// - `self`: `node`;
/// - `root_cause`: `root`, or `node` when it is its own root (`None`);
/// - `dependency: {kind, labels}`: among `node`'s direct dependencies that
///   match, the smallest node id (by its string id); when none matches, the
///   smallest matching transitive dependency. `None` when nothing matches
///   (or a selector regex does not compile; [`ActionGuards::compile`]
///   reports that).
///
/// [`select`] uses the selector compiled in [`ActionGuards`]; this function
/// compiles it on the fly.
///
/// # Example
///
/// ```
/// use healbot_core::selection::resolve_target;
/// use healbot_core::{Library, Topology};
///
/// let t = Topology::from_text("t.yaml", r#"
/// apiVersion: healbot.dev/v1
/// kind: Topology
/// metadata: {name: t}
/// spec:
///   nodes:
///     - {id: web, kind: service, depends_on: [api]}
///     - {id: api, kind: service, depends_on: [db-b, db-a]}
///     - {id: db-a, kind: database}
///     - {id: db-b, kind: database}
/// "#).unwrap();
/// let lib = Library::from_text("a.yaml", r#"
/// apiVersion: healbot.dev/v1
/// kind: ActionLibrary
/// metadata: {name: a}
/// spec:
///   actions:
///     - {id: failover, title: F, operation: failover, risk: low, min_confidence: 0.5,
///        target: {dependency: {kind: database}}}
/// "#).unwrap();
/// let failover = lib.action("failover").unwrap();
/// let [web, api, db_a] = ["web", "api", "db-a"].map(|id| t.lookup(id).unwrap());
/// let mut scratch = t.traversal();
/// assert_eq!(resolve_target(failover, api, None, &t, &mut scratch), Some(db_a));
/// assert_eq!(resolve_target(failover, web, None, &t, &mut scratch), Some(db_a)); // transitive
/// assert_eq!(resolve_target(failover, db_a, None, &t, &mut scratch), None);
/// ```
pub fn resolve_target(
    action: &Action,
    node: NodeId,
    root: Option<NodeId>,
    topology: &Topology,
    scratch: &mut Traversal,
) -> Option<NodeId> {
    match &action.target {
        Target::SelfNode | Target::RootCause => resolve_with(action, None, node, root, topology, scratch),
        Target::Dependency(_) => {
            let guards = ActionGuards::compile(&Action { guards: Vec::new(), ..action.clone() }).ok()?;
            resolve_with(action, Some(&guards), node, root, topology, scratch)
        }
    }
}

fn resolve_with(
    action: &Action,
    guards: Option<&ActionGuards>,
    node: NodeId,
    root: Option<NodeId>,
    topology: &Topology,
    scratch: &mut Traversal,
) -> Option<NodeId> {
    match &action.target {
        Target::SelfNode => topology.get(node).map(|_| node),
        Target::RootCause => {
            let n = root.unwrap_or(node);
            topology.get(n).map(|_| n)
        }
        Target::Dependency(_) => {
            let guards = guards?;
            let pick = |deps: &[NodeId]| -> Option<NodeId> {
                deps.iter()
                    .map(|d| topology.node(*d))
                    .filter(|n| guards.selects(n))
                    .min_by(|a, b| a.id().cmp(b.id()))
                    .map(NodeInfo::node_id)
            };
            topology.get(node)?;
            pick(topology.direct_dependencies(node)).or_else(|| pick(topology.dependencies(node, scratch)))
        }
    }
}

/// The action chosen.
///
/// # Example
///
/// See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Chosen {
    /// Its index in [`Library::actions`].
    pub action: usize,
    /// The resolved target.
    pub target: NodeId,
    /// The guards that passed, in document order.
    pub passed: Vec<GuardCheck>,
    /// Failed guards that only restrict unattended runs (`budget`, `freeze`):
    /// the action stands, but a person must approve it.
    pub soft_failures: Vec<GuardCheck>,
}

/// An action considered before the chosen one (or instead of any) and
/// rejected.
///
/// # Example
///
/// See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Rejected {
    /// Its index in [`Library::actions`].
    pub action: usize,
    /// The resolved target, when one resolved.
    pub target: Option<NodeId>,
    /// Every guard that failed (hard and soft), in document order; a single
    /// `target` failure when no target resolved.
    pub failed: Vec<GuardCheck>,
}

/// The result of [`select`].
///
/// # Example
///
/// See the [module docs](self).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    /// The chosen action; `None` when every action was rejected (or the list
    /// is empty).
    pub chosen: Option<Chosen>,
    /// The actions rejected, in list order.
    pub rejected: Vec<Rejected>,
}

/// Chooses the first action of `action_ids` (a signature's remediation
/// list, in order) for a diagnosis on `node` whose root cause is `root`
/// (`None` when `node` is its own root).
///
/// `guards` is indexed like `library.actions()` (see
/// [`ActionGuards::compile_all`]). An id the library does not hold is
/// skipped (a loaded library never refers to one). An action with no
/// resolvable target is rejected with a `target` failure. See the
/// [module docs](self).
///
/// # Example
///
/// See the [module docs](self).
pub fn select(
    library: &Library,
    guards: &[ActionGuards],
    action_ids: &[String],
    node: NodeId,
    root: Option<NodeId>,
    cx: &GuardCx,
    scratch: &mut Traversal,
) -> Selection {
    let mut selection = Selection::default();
    let mut checks = Vec::new();
    for id in action_ids {
        let Some(index) = library.action_index(id) else { continue };
        let Some(action) = library.actions().get(index) else { continue };
        let Some(compiled) = guards.get(index) else {
            selection.rejected.push(Rejected {
                action: index,
                target: None,
                failed: vec![failure("guards", format!("no compiled guards for action `{id}`"))],
            });
            continue;
        };
        let Some(target) = resolve_with(action, Some(compiled), node, root, cx.topology, scratch) else {
            selection.rejected.push(Rejected {
                action: index,
                target: None,
                failed: vec![failure("target", no_target(action, node, cx.topology))],
            });
            continue;
        };
        check(action, compiled, target, cx, scratch, &mut checks);
        if checks.iter().all(|c| c.passed || c.unattended_only) {
            let (passed, soft_failures) = checks.drain(..).partition(|c| c.passed);
            selection.chosen = Some(Chosen { action: index, target, passed, soft_failures });
            break;
        }
        selection.rejected.push(Rejected {
            action: index,
            target: Some(target),
            failed: checks.drain(..).filter(|c| !c.passed).collect(),
        });
    }
    selection
}

fn failure(guard: &'static str, reason: String) -> GuardCheck {
    GuardCheck { guard, passed: false, reason, observed: None, limit: None, unattended_only: false }
}

fn no_target(action: &Action, node: NodeId, topology: &Topology) -> String {
    let name = topology.get(node).map_or_else(|| node.to_string(), |n| n.id().to_string());
    match &action.target {
        Target::Dependency(sel) => {
            let mut s = format!("{name} has no dependency of kind {}", sel.kind.as_str());
            if !sel.labels.is_empty() {
                let labels: Vec<String> = sel.labels.iter().map(ToString::to_string).collect();
                s.push_str(&format!(" with labels {}", labels.join(", ")));
            }
            s
        }
        Target::SelfNode | Target::RootCause => format!("node {name} is not in the topology"),
    }
}
