//! Guards: whether an action is right for the current topology and history.
//!
//! Each action's guards are compiled once ([`ActionGuards::compile`]: freeze
//! calendars, grouping keys, dependency selectors) and then checked against
//! a [`GuardCx`] — the topology, a [`HealthView`], the [`Ledger`] and the
//! time `at` — by [`check`], which writes one [`GuardCheck`] per guard, in
//! document order. A failed check carries a sentence for people with the
//! numbers behind it ("1 healthy replica would remain, 2 required") and the
//! same numbers as `observed` and `limit`.
//!
//! Two guards only restrict *unattended* runs: `budget` and `freeze`
//! ([`GuardCheck::unattended_only`]). When they fail the action still
//! stands, but a person must approve it. Every other guard is hard: the
//! action is wrong for the situation whoever runs it.
//!
//! Units: `observed` and `limit` of time-based guards are in seconds.
//! Windows are `(at − period, …]`: an execution exactly one period old no
//! longer counts, and one stamped after `at` (a skewed host clock) does.
//! `docs/guards.md` describes every guard and its reason.
//!
//! # Cost
//!
//! Checking allocates nothing when every guard passes (reasons are only
//! written for failures and half-open breakers) once `out` and the
//! [`Traversal`] have grown; it reads the ledger's time index over the
//! guards' windows only.
//!
//! # Example
//!
//! ```
//! use healbot_core::guard::{check, ActionGuards, GuardCx, StaticHealth};
//! use healbot_core::ledger::Ledger;
//! use healbot_core::{Library, Topology};
//!
//! let topology = Topology::from_text("t.yaml", r#"
//! apiVersion: healbot.dev/v1
//! kind: Topology
//! metadata: {name: t}
//! spec:
//!   nodes:
//!     - {id: api, kind: service, replicas: 2, depends_on: [db]}
//!     - {id: db, kind: database}
//! "#).unwrap();
//! let library = Library::from_text("a.yaml", r#"
//! apiVersion: healbot.dev/v1
//! kind: ActionLibrary
//! metadata: {name: a}
//! spec:
//!   actions:
//!     - id: restart
//!       title: Restart
//!       operation: restart
//!       risk: low
//!       min_confidence: 0.8
//!       guards:
//!         - min_healthy_replicas: 2
//!         - dependencies_healthy: {kinds: [database]}
//! "#).unwrap();
//! let action = library.action("restart").unwrap();
//! let guards = ActionGuards::compile(action).unwrap();
//! let mut health = StaticHealth::new(&topology);
//! health.set_unhealthy(topology.lookup("db").unwrap(), true);
//! let ledger = Ledger::new();
//! let cx = GuardCx { topology: &topology, health: &health, ledger: &ledger, at: 0 };
//! let mut out = Vec::new();
//! check(action, &guards, topology.lookup("api").unwrap(), &cx, &mut topology.traversal(), &mut out);
//! assert_eq!(out[0].reason, "1 healthy replica would remain, 2 required");
//! assert_eq!(out[1].reason, "dependency db (database) is unhealthy");
//! assert!(out.iter().all(|c| !c.passed));
//! ```

use std::fmt::Write as _;

use crate::freeze::FreezeCalendar;
use crate::ledger::{Entry, Ledger};
use crate::library::Library;
use crate::matcher::CompiledMatcher;
use crate::spec::action::{Action, Guard, Target};
use crate::spec::NodeKind;
use crate::topology::{NodeId, NodeInfo, Topology, Traversal};
use crate::{Duration, Error, ErrorKind};

/// What guards need to know about node health.
///
/// The engine implements it over its health model (host overrides, then
/// diagnoses, replica metrics); [`StaticHealth`] is a plain implementation
/// for tests, dry runs and bindings.
pub trait HealthView {
    /// Whether the node counts as unhealthy now.
    fn is_unhealthy(&self, n: NodeId) -> bool;
    /// How many of the node's replicas are healthy now.
    fn healthy_replicas(&self, n: NodeId) -> u32;
}

/// A [`HealthView`] set by hand: every node healthy with its declared
/// replicas, until told otherwise. An unhealthy node has 0 healthy replicas
/// unless a count is set explicitly.
///
/// # Example
///
/// ```
/// use healbot_core::guard::{HealthView, StaticHealth};
/// use healbot_core::Topology;
/// let t = Topology::from_text("t.yaml", "apiVersion: healbot.dev/v1\nkind: Topology\nmetadata: {name: t}\nspec: {nodes: [{id: api, kind: service, replicas: 3}]}\n").unwrap();
/// let api = t.lookup("api").unwrap();
/// let mut h = StaticHealth::new(&t);
/// assert_eq!(h.healthy_replicas(api), 3);
/// h.set_healthy_replicas(api, Some(1));
/// assert_eq!(h.healthy_replicas(api), 1);
/// h.set_healthy_replicas(api, None);
/// h.set_unhealthy(api, true);
/// assert!(h.is_unhealthy(api));
/// assert_eq!(h.healthy_replicas(api), 0);
/// ```
#[derive(Clone, Debug, Default)]
pub struct StaticHealth {
    declared: Vec<u32>,
    unhealthy: Vec<bool>,
    replicas: Vec<Option<u32>>,
}

impl StaticHealth {
    /// Every node of `topology` healthy, with its declared replicas.
    pub fn new(topology: &Topology) -> StaticHealth {
        StaticHealth {
            declared: topology.nodes().iter().map(NodeInfo::replicas).collect(),
            unhealthy: vec![false; topology.len()],
            replicas: vec![None; topology.len()],
        }
    }

    /// Marks a node unhealthy or healthy (ignored for a node out of range).
    pub fn set_unhealthy(&mut self, n: NodeId, unhealthy: bool) {
        if let Some(u) = self.unhealthy.get_mut(n.index()) {
            *u = unhealthy;
        }
    }

    /// Sets (or with `None` clears) a node's healthy replica count.
    pub fn set_healthy_replicas(&mut self, n: NodeId, replicas: Option<u32>) {
        if let Some(r) = self.replicas.get_mut(n.index()) {
            *r = replicas;
        }
    }
}

impl HealthView for StaticHealth {
    fn is_unhealthy(&self, n: NodeId) -> bool {
        self.unhealthy.get(n.index()).copied().unwrap_or(false)
    }

    fn healthy_replicas(&self, n: NodeId) -> u32 {
        if let Some(Some(r)) = self.replicas.get(n.index()) {
            return *r;
        }
        if self.is_unhealthy(n) {
            0
        } else {
            self.declared.get(n.index()).copied().unwrap_or(0)
        }
    }
}

/// Everything a guard reads.
///
/// # Example
///
/// See the [module docs](self).
#[derive(Clone, Copy)]
pub struct GuardCx<'a> {
    /// The topology.
    pub topology: &'a Topology,
    /// Node health now.
    pub health: &'a dyn HealthView,
    /// Executions and outcomes.
    pub ledger: &'a Ledger,
    /// Now (Unix ms).
    pub at: i64,
}

impl std::fmt::Debug for GuardCx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardCx").field("nodes", &self.topology.len()).field("at", &self.at).finish_non_exhaustive()
    }
}

/// The result of one guard.
///
/// # Example
///
/// See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct GuardCheck {
    /// The guard's document key (`min_healthy_replicas`), or `target` when
    /// no target resolved.
    pub guard: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// Why it failed, for people; empty when it passed (except a half-open
    /// circuit breaker, which says so).
    pub reason: String,
    /// The observed number (seconds for durations), when there is one.
    pub observed: Option<f64>,
    /// The limit (seconds for durations), when there is one.
    pub limit: Option<f64>,
    /// Whether the guard only restricts unattended runs (`budget`, `freeze`):
    /// when it fails, a person may still approve the action.
    pub unattended_only: bool,
}

impl GuardCheck {
    fn new(guard: &'static str, passed: bool, observed: Option<f64>, limit: Option<f64>) -> GuardCheck {
        GuardCheck { guard, passed, reason: String::new(), observed, limit, unattended_only: false }
    }

    fn because(mut self, reason: impl FnOnce() -> String) -> GuardCheck {
        if !self.passed {
            self.reason = reason();
        }
        self
    }

    /// The check as the decision document's [`crate::decision::GuardFailure`].
    ///
    /// # Example
    ///
    /// See [`crate::selection::select`].
    pub fn to_failure(&self) -> crate::decision::GuardFailure {
        crate::decision::GuardFailure {
            guard: self.guard.into(),
            reason: self.reason.clone(),
            observed: self.observed,
            limit: self.limit,
        }
    }
}

/// A grouping key of `throttle` and `max_concurrent`.
#[derive(Clone, Debug, PartialEq)]
enum GroupKey {
    NodeId,
    Kind,
    Tier,
    Label(String),
    Action,
}

impl GroupKey {
    fn parse(key: &str) -> Option<GroupKey> {
        Some(match key {
            "node.id" => GroupKey::NodeId,
            "node.kind" => GroupKey::Kind,
            "node.tier" => GroupKey::Tier,
            "action" => GroupKey::Action,
            _ => GroupKey::Label(key.strip_prefix("node.label.").filter(|k| !k.is_empty())?.to_string()),
        })
    }

    /// The target's value of this key, computed once per check.
    fn value_of<'a>(&'a self, target: &'a NodeInfo) -> GroupValue<'a> {
        match self {
            GroupKey::Label(k) => GroupValue::Label(k, label(target, k)),
            _ => GroupValue::Node(self),
        }
    }

    /// The group, for people: `node.label.team=shop`.
    fn describe(&self, target: &NodeInfo, action: &str) -> String {
        match self {
            GroupKey::NodeId => format!("node.id={}", target.id()),
            GroupKey::Kind => format!("node.kind={}", target.kind().as_str()),
            GroupKey::Tier => format!("node.tier={}", target.tier()),
            GroupKey::Label(k) => format!("node.label.{k}={}", label(target, k)),
            GroupKey::Action => format!("action={action}"),
        }
    }
}

/// A grouping key with the target's value resolved.
#[derive(Clone, Copy, Debug)]
enum GroupValue<'a> {
    /// `node.label.<key>` and the target's value.
    Label(&'a str, &'a str),
    /// Any other key.
    Node(&'a GroupKey),
}

impl GroupValue<'_> {
    /// Whether `entry` falls in the same group as running `action` on `target`.
    #[inline]
    fn same_group(self, topo: &Topology, target: &NodeInfo, action: &str, entry: &Entry) -> bool {
        let e = &entry.execution;
        match self {
            GroupValue::Node(GroupKey::Action) => e.action == action,
            _ if e.target == target.id() => true,
            GroupValue::Node(GroupKey::NodeId) => false,
            _ => {
                let Some(other) = topo.lookup(&e.target).and_then(|n| topo.get(n)) else {
                    return false;
                };
                match self {
                    GroupValue::Label(k, mine) => label(other, k) == mine,
                    GroupValue::Node(GroupKey::Kind) => other.kind() == target.kind(),
                    GroupValue::Node(GroupKey::Tier) => other.tier() == target.tier(),
                    GroupValue::Node(_) => false,
                }
            }
        }
    }
}

/// A node's label value; a missing label is the empty string (as in matchers).
fn label<'a>(n: &'a NodeInfo, key: &str) -> &'a str {
    n.labels().get(key).map_or("", String::as_str)
}

/// One compiled guard.
#[derive(Clone, Debug)]
enum Compiled {
    DependenciesHealthy { kinds: u8, transitive: bool },
    MinHealthyReplicas(u32),
    MaxBlastRadius { max: f64, tier_weighted: bool },
    Cooldown(Duration),
    Throttle { key: GroupKey, max: u32, per: Duration },
    MaxConcurrent { key: GroupKey, max: u32, timeout: Duration },
    Budget { max: u32, per: Duration },
    CircuitBreaker { failures: u32, reset_after: Duration },
    Freeze(Box<FreezeCalendar>),
}

/// A compiled dependency selector.
#[derive(Clone, Debug)]
struct Selector {
    kind: NodeKind,
    labels: Vec<(String, CompiledMatcher)>,
}

impl Selector {
    fn compile(sel: &crate::spec::action::DependencySelector) -> Result<Selector, Error> {
        let labels =
            sel.labels.iter().map(|m| Ok((m.name.clone(), CompiledMatcher::new(m)?))).collect::<Result<_, Error>>()?;
        Ok(Selector { kind: sel.kind, labels })
    }

    fn matches(&self, n: &NodeInfo) -> bool {
        n.kind() == self.kind && self.labels.iter().all(|(k, m)| m.matches_value(label(n, k)))
    }
}

/// One action's guards, compiled once: freeze calendars, grouping keys and
/// its dependency selector. Immutable, `Send + Sync`.
///
/// # Example
///
/// See the [module docs](self).
#[derive(Clone, Debug)]
pub struct ActionGuards {
    guards: Vec<Compiled>,
    selector: Option<Selector>,
    horizon: Duration,
}

fn kind_bit(k: NodeKind) -> u8 {
    1 << (k as u8)
}

fn library_error(action: &Action, path: &str, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Library, format!("action `{}`: {path}: {message}", action.id))
}

impl ActionGuards {
    /// Compiles an action's guards (and its dependency selector).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Library`] naming the action and the guard, for what a
    /// loaded library never contains: an unknown grouping key, a freeze
    /// calendar that does not compile, a selector regex that does not
    /// compile, a negative or NaN blast-radius limit.
    ///
    /// # Example
    ///
    /// See the [module docs](self).
    pub fn compile(action: &Action) -> Result<ActionGuards, Error> {
        let mut guards = Vec::with_capacity(action.guards.len());
        let mut horizon = Duration::ZERO;
        for (i, g) in action.guards.iter().enumerate() {
            let path = |field: &str| format!("guards[{i}].{field}");
            let group = |key: &str, field: &str| {
                GroupKey::parse(key).ok_or_else(|| {
                    library_error(
                        action,
                        &path(field),
                        format_args!(
                            "unknown grouping key `{key}`; expected `node.id`, `node.kind`, `node.tier`, `node.label.<key>` or `action`"
                        ),
                    )
                })
            };
            let compiled = match g {
                Guard::DependenciesHealthy(d) => Compiled::DependenciesHealthy {
                    kinds: if d.kinds.is_empty() { u8::MAX } else { d.kinds.iter().fold(0, |a, k| a | kind_bit(*k)) },
                    transitive: d.transitive,
                },
                Guard::MinHealthyReplicas(n) => Compiled::MinHealthyReplicas(*n),
                Guard::MaxBlastRadius(b) => {
                    if b.max.is_nan() || b.max < 0.0 {
                        return Err(library_error(
                            action,
                            &path("max_blast_radius.max"),
                            "the limit must be a number ≥ 0",
                        ));
                    }
                    Compiled::MaxBlastRadius { max: b.max, tier_weighted: b.tier_weighted }
                }
                Guard::Cooldown(d) => {
                    horizon = horizon.max(*d);
                    Compiled::Cooldown(*d)
                }
                Guard::Throttle(t) => {
                    horizon = horizon.max(t.per);
                    Compiled::Throttle { key: group(&t.key, "throttle.key")?, max: t.max, per: t.per }
                }
                Guard::MaxConcurrent(m) => {
                    horizon = horizon.max(m.timeout);
                    Compiled::MaxConcurrent {
                        key: group(&m.key, "max_concurrent.key")?,
                        max: m.max,
                        timeout: m.timeout,
                    }
                }
                Guard::Budget(b) => {
                    horizon = horizon.max(b.per);
                    Compiled::Budget { max: b.max, per: b.per }
                }
                Guard::CircuitBreaker(c) => {
                    horizon = horizon.max(c.reset_after);
                    Compiled::CircuitBreaker { failures: c.failures, reset_after: c.reset_after }
                }
                Guard::Freeze(f) => Compiled::Freeze(Box::new(
                    FreezeCalendar::compile(f)
                        .map_err(|p| library_error(action, &path(&format!("freeze.{}", p.field)), p.message))?,
                )),
            };
            guards.push(compiled);
        }
        let selector = match &action.target {
            Target::Dependency(sel) => {
                Some(Selector::compile(sel).map_err(|e| library_error(action, "target.dependency", e.message()))?)
            }
            Target::SelfNode | Target::RootCause => None,
        };
        Ok(ActionGuards { guards, selector, horizon })
    }

    /// Compiles the guards of every action of a library, indexed like
    /// [`Library::actions`] (what [`crate::selection::select`] takes).
    ///
    /// # Errors
    ///
    /// The first error of [`ActionGuards::compile`].
    ///
    /// # Example
    ///
    /// See [`crate::selection::select`].
    pub fn compile_all(library: &Library) -> Result<Vec<ActionGuards>, Error> {
        library.actions().iter().map(ActionGuards::compile).collect()
    }

    /// How far back in the ledger these guards read: the longest cooldown,
    /// throttle or budget period, concurrency timeout or breaker reset.
    /// Evicting the ledger before `at − max(horizon)` over every action
    /// changes no guard's answer (circuit breakers keep their failures
    /// regardless).
    ///
    /// # Example
    ///
    /// ```
    /// use healbot_core::guard::ActionGuards;
    /// use healbot_core::spec::action::{Action, Guard, Risk, Target};
    /// use healbot_core::Duration;
    /// let action = Action {
    ///     id: "restart".into(), title: "Restart".into(), description: String::new(),
    ///     operation: "restart".into(), target: Target::SelfNode, parameters: Default::default(),
    ///     risk: Risk::Low, min_confidence: 0.8,
    ///     guards: vec![Guard::Cooldown("10m".parse().unwrap()), Guard::MinHealthyReplicas(1)],
    /// };
    /// assert_eq!(ActionGuards::compile(&action).unwrap().horizon(), "10m".parse::<Duration>().unwrap());
    /// ```
    pub fn horizon(&self) -> Duration {
        self.horizon
    }

    /// How many guards there are (one [`GuardCheck`] each).
    ///
    /// # Example
    ///
    /// See [`ActionGuards::horizon`].
    pub fn len(&self) -> usize {
        self.guards.len()
    }

    /// Whether the action has no guards.
    ///
    /// # Example
    ///
    /// See [`ActionGuards::horizon`].
    pub fn is_empty(&self) -> bool {
        self.guards.is_empty()
    }

    /// Whether `n` is picked by the action's dependency selector (false when
    /// the action's target is not a dependency).
    pub(crate) fn selects(&self, n: &NodeInfo) -> bool {
        self.selector.as_ref().is_some_and(|s| s.matches(n))
    }
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// A span for people: whole seconds (milliseconds below one second).
fn span(ms: i64) -> Duration {
    let ms = ms.max(0) as u64;
    Duration::from_millis(if ms >= 1000 { ms / 1000 * 1000 } else { ms })
}

fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Checks every guard of `action` for running it on `target` now, writing
/// one [`GuardCheck`] per guard into `out` (cleared first), in document
/// order. `guards` must be compiled from `action`.
///
/// Allocation-free when every guard passes, once `out` and `scratch` have
/// grown. See the [module docs](self) for the semantics and
/// `docs/guards.md` for every reason.
///
/// # Example
///
/// See the [module docs](self).
pub fn check(
    action: &Action,
    guards: &ActionGuards,
    target: NodeId,
    cx: &GuardCx,
    scratch: &mut Traversal,
    out: &mut Vec<GuardCheck>,
) {
    out.clear();
    let topo = cx.topology;
    let Some(info) = topo.get(target) else {
        for g in &action.guards {
            out.push(
                GuardCheck::new(guard_key(g), false, None, None)
                    .because(|| format!("target {target} is not in the topology")),
            );
        }
        return;
    };
    let at = cx.at;
    for g in &guards.guards {
        let c = match g {
            Compiled::DependenciesHealthy { kinds, transitive } => {
                let deps =
                    if *transitive { topo.dependencies(target, scratch) } else { topo.direct_dependencies(target) };
                let of_kind = |d: &&NodeId| kinds & kind_bit(topo.node(**d).kind()) != 0;
                let bad = deps.iter().filter(of_kind).filter(|d| cx.health.is_unhealthy(**d)).count();
                GuardCheck::new("dependencies_healthy", bad == 0, Some(bad as f64), Some(0.0)).because(|| {
                    let mut names: Vec<&NodeInfo> = deps
                        .iter()
                        .filter(of_kind)
                        .filter(|d| cx.health.is_unhealthy(**d))
                        .map(|d| topo.node(*d))
                        .collect();
                    names.sort_by(|a, b| a.id().cmp(b.id()));
                    let mut s = if bad == 1 {
                        "dependency ".to_string()
                    } else {
                        format!("{bad} dependencies are unhealthy: ")
                    };
                    for (i, n) in names.iter().take(5).enumerate() {
                        let _ = write!(s, "{}{} ({})", if i > 0 { ", " } else { "" }, n.id(), n.kind().as_str());
                    }
                    if bad > 5 {
                        let _ = write!(s, " and {} more", bad - 5);
                    }
                    if bad == 1 {
                        s.push_str(" is unhealthy");
                    }
                    s
                })
            }
            Compiled::MinHealthyReplicas(min) => {
                let healthy = cx.health.healthy_replicas(target);
                let remain = healthy.saturating_sub(1);
                GuardCheck::new("min_healthy_replicas", remain >= *min, Some(f64::from(remain)), Some(f64::from(*min)))
                    .because(|| {
                        format!(
                            "{} would remain, {min} required",
                            plural(remain, "healthy replica", "healthy replicas")
                        )
                    })
            }
            Compiled::MaxBlastRadius { max, tier_weighted } => {
                let r = topo.blast_radius(target, scratch);
                let observed = if *tier_weighted { r.tier_weighted } else { r.nodes as f64 };
                GuardCheck::new("max_blast_radius", observed <= *max, Some(observed), Some(*max)).because(|| {
                    if *tier_weighted {
                        format!(
                            "tier-weighted blast radius of {} is {observed} ({}), more than {max}",
                            info.id(),
                            plural(r.nodes as u64, "dependent", "dependents")
                        )
                    } else {
                        format!(
                            "blast radius of {} is {}, more than {max}",
                            info.id(),
                            plural(r.nodes as u64, "node", "nodes")
                        )
                    }
                })
            }
            Compiled::Cooldown(d) => {
                let period = d.as_millis_i64();
                let last = cx
                    .ledger
                    .executed_after(at.saturating_sub(period))
                    .rev()
                    .find(|e| e.execution.action == action.id && e.execution.target == info.id());
                let ago = last.map(|e| at.saturating_sub(e.execution.at));
                GuardCheck::new("cooldown", last.is_none(), ago.map(secs), Some(secs(period))).because(|| {
                    let ago = ago.unwrap_or(0);
                    format!(
                        "{} ran on {} {} ago, cooldown {d} ({} left)",
                        action.id,
                        info.id(),
                        span(ago),
                        span(period - ago)
                    )
                })
            }
            Compiled::Throttle { key, max, per } => {
                let group = key.value_of(info);
                let n = cx
                    .ledger
                    .executed_after(at.saturating_sub(per.as_millis_i64()))
                    .filter(|e| e.execution.action == action.id && group.same_group(topo, info, &action.id, e))
                    .count();
                GuardCheck::new("throttle", n < *max as usize, Some(n as f64), Some(f64::from(*max))).because(|| {
                    format!(
                        "{} of {} in the last {per} for {}, at most {max}",
                        plural(n as u64, "run", "runs"),
                        action.id,
                        key.describe(info, &action.id)
                    )
                })
            }
            Compiled::MaxConcurrent { key, max, timeout } => {
                let group = key.value_of(info);
                let n = cx
                    .ledger
                    .in_flight(at, timeout.as_millis_i64())
                    .filter(|e| group.same_group(topo, info, &action.id, e))
                    .count();
                GuardCheck::new("max_concurrent", n < *max as usize, Some(n as f64), Some(f64::from(*max))).because(
                    || {
                        format!(
                            "{} in flight for {} (no outcome, younger than {timeout}), at most {max}",
                            plural(n as u64, "action", "actions"),
                            key.describe(info, &action.id)
                        )
                    },
                )
            }
            Compiled::Budget { max, per } => {
                let n = cx.ledger.unattended_after(at.saturating_sub(per.as_millis_i64()));
                let mut c = GuardCheck::new("budget", n < *max as usize, Some(n as f64), Some(f64::from(*max)))
                    .because(|| {
                        format!(
                            "{} in the last {per}, budget {max}",
                            plural(n as u64, "unattended action", "unattended actions")
                        )
                    });
                c.unattended_only = true;
                c
            }
            Compiled::CircuitBreaker { failures, reset_after } => breaker(action, *failures, *reset_after, cx),
            Compiled::Freeze(cal) => {
                let window = cal.frozen_at(at);
                let mut c = GuardCheck::new("freeze", window.is_none(), None, None);
                if let Some(w) = window {
                    c.reason = format!("change freeze {w}");
                }
                c.unattended_only = true;
                c
            }
        };
        out.push(c);
    }
}

fn breaker(action: &Action, failures: u32, reset_after: Duration, cx: &GuardCx) -> GuardCheck {
    let (n, last) = cx.ledger.consecutive_failures(&action.id, failures);
    let limit = Some(f64::from(failures));
    let Some(last) = last.filter(|_| n >= failures) else {
        return GuardCheck::new("circuit_breaker", true, Some(f64::from(n)), limit);
    };
    let reset = reset_after.as_millis_i64();
    let half_open_at = last.saturating_add(reset);
    let outcomes = plural(n, "outcome", "outcomes");
    if cx.at < half_open_at {
        return GuardCheck::new("circuit_breaker", false, Some(f64::from(n)), limit).because(|| {
            format!(
                "open: the last {outcomes} of {} failed; half-opens in {} (at {half_open_at})",
                action.id,
                span(half_open_at - cx.at)
            )
        });
    }
    // Half-open: one trial, started after the last failure, at a time. A trial
    // with no outcome after `reset_after` no longer holds the breaker.
    let trial = cx
        .ledger
        .executed_after(last.saturating_sub(1).max(cx.at.saturating_sub(reset)))
        .find(|e| e.execution.action == action.id && e.outcome.is_none());
    let mut c = GuardCheck::new("circuit_breaker", trial.is_none(), Some(f64::from(n)), limit);
    c.reason = match trial {
        Some(t) => format!(
            "half-open after {outcomes} of {} failed: trial {} on {} is in flight",
            action.id, t.execution.decision_id, t.execution.target
        ),
        None => format!("half-open after {outcomes} of {} failed: one trial run allowed", action.id),
    };
    c
}

/// The document key of a guard.
///
/// # Example
///
/// ```
/// use healbot_core::guard::guard_key;
/// use healbot_core::spec::action::Guard;
/// assert_eq!(guard_key(&Guard::MinHealthyReplicas(2)), "min_healthy_replicas");
/// ```
pub fn guard_key(g: &Guard) -> &'static str {
    match g {
        Guard::DependenciesHealthy(_) => "dependencies_healthy",
        Guard::MinHealthyReplicas(_) => "min_healthy_replicas",
        Guard::MaxBlastRadius(_) => "max_blast_radius",
        Guard::Cooldown(_) => "cooldown",
        Guard::Throttle(_) => "throttle",
        Guard::MaxConcurrent(_) => "max_concurrent",
        Guard::Budget(_) => "budget",
        Guard::CircuitBreaker(_) => "circuit_breaker",
        Guard::Freeze(_) => "freeze",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Execution;

    fn topo() -> Topology {
        Topology::from_text(
            "t.yaml",
            r#"
apiVersion: healbot.dev/v1
kind: Topology
metadata: {name: t}
spec:
  nodes:
    - {id: web, kind: service, tier: 1, depends_on: [api], labels: {team: shop}}
    - {id: api, kind: service, replicas: 3, depends_on: [db, cache], labels: {team: shop}}
    - {id: worker, kind: service, depends_on: [db], labels: {team: shop}}
    - {id: db, kind: database, tier: 1}
    - {id: cache, kind: cache}
"#,
        )
        .unwrap()
    }

    fn action(guards: &str) -> Action {
        let text = format!(
            "apiVersion: healbot.dev/v1\nkind: ActionLibrary\nmetadata: {{name: a}}\nspec:\n  actions:\n    - id: restart\n      title: Restart\n      operation: restart\n      risk: low\n      min_confidence: 0.5\n      guards: {guards}\n"
        );
        Library::from_text("a.yaml", &text).unwrap().actions()[0].clone()
    }

    fn run(a: &Action, target: &str, t: &Topology, h: &StaticHealth, l: &Ledger, at: i64) -> Vec<GuardCheck> {
        let g = ActionGuards::compile(a).unwrap();
        let cx = GuardCx { topology: t, health: h, ledger: l, at };
        let mut out = Vec::new();
        check(a, &g, t.lookup(target).unwrap(), &cx, &mut t.traversal(), &mut out);
        out
    }

    fn exec(id: &str, target: &str, at: i64) -> Execution {
        Execution {
            decision_id: id.into(),
            signature: "s".into(),
            action: "restart".into(),
            target: target.into(),
            at,
            unattended: true,
        }
    }

    #[test]
    fn action_guards_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<ActionGuards>();
    }

    #[test]
    fn dependencies_healthy_names_every_unhealthy_dependency() {
        let t = topo();
        let mut h = StaticHealth::new(&t);
        h.set_unhealthy(t.lookup("db").unwrap(), true);
        h.set_unhealthy(t.lookup("cache").unwrap(), true);
        let l = Ledger::new();
        let a = action("[{dependencies_healthy: {}}, {dependencies_healthy: {kinds: [cache]}}]");
        let out = run(&a, "api", &t, &h, &l, 0);
        assert_eq!(out[0].reason, "2 dependencies are unhealthy: cache (cache), db (database)");
        assert_eq!(out[1].reason, "dependency cache (cache) is unhealthy");
        // web reaches db only transitively.
        let a = action("[{dependencies_healthy: {kinds: [database]}}, {dependencies_healthy: {kinds: [database], transitive: true}}]");
        let out = run(&a, "web", &t, &h, &l, 0);
        assert!(out[0].passed);
        assert!(!out[1].passed);
        assert_eq!(out[1].observed, Some(1.0));
    }

    #[test]
    fn blast_radius_plain_and_weighted() {
        let t = topo();
        let h = StaticHealth::new(&t);
        let l = Ledger::new();
        let a = action("[{max_blast_radius: {max: 2}}, {max_blast_radius: {max: 9, tier_weighted: true}}]");
        // db: dependents api, worker, web (tiers 3, 3, 1) → 3 nodes, 2 + 2 + 8 = 12.
        let out = run(&a, "db", &t, &h, &l, 0);
        assert_eq!(out[0].reason, "blast radius of db is 3 nodes, more than 2");
        assert_eq!(out[1].reason, "tier-weighted blast radius of db is 12 (3 dependents), more than 9");
        let out = run(&a, "api", &t, &h, &l, 0);
        assert!(out[0].passed && out[1].passed, "{out:?}");
    }

    #[test]
    fn cooldown_throttle_concurrency_budget() {
        let t = topo();
        let h = StaticHealth::new(&t);
        let mut l = Ledger::new();
        l.record_execution(exec("a", "api", 100_000));
        l.record_execution(exec("b", "worker", 200_000));
        let a = action(
            "[{cooldown: 5m}, {throttle: {key: node.label.team, max: 2, per: 1h}}, {max_concurrent: {key: node.kind, max: 2}}, {budget: {max: 2, per: 1h}}]",
        );
        let at = 300_000;
        let out = run(&a, "api", &t, &h, &l, at);
        assert_eq!(out[0].reason, "restart ran on api 3m20s ago, cooldown 5m (1m40s left)");
        assert_eq!(out[1].reason, "2 runs of restart in the last 1h for node.label.team=shop, at most 2");
        assert_eq!(
            out[2].reason,
            "2 actions in flight for node.kind=service (no outcome, younger than 30m), at most 2"
        );
        assert_eq!(out[3].reason, "2 unattended actions in the last 1h, budget 2");
        assert!(out[3].unattended_only && !out[2].unattended_only);
        // A cooldown ends exactly one period after the run.
        let out = run(&a, "api", &t, &h, &l, 400_000);
        assert!(out[0].passed);
        // cache is not in team shop (empty label), nor a service.
        let out = run(&a, "cache", &t, &h, &l, at);
        assert!(out[1].passed && out[2].passed && !out[3].passed);
    }

    #[test]
    fn circuit_breaker_opens_half_opens_and_closes() {
        let t = topo();
        let h = StaticHealth::new(&t);
        let a = action("[{circuit_breaker: {failures: 2, reset_after: 10m}}]");
        let mut l = Ledger::new();
        l.record_execution(exec("a", "api", 0));
        l.record_outcome("a", false, 60_000).unwrap();
        assert!(run(&a, "api", &t, &h, &l, 70_000)[0].passed);
        l.record_execution(exec("b", "web", 100_000));
        l.record_outcome("b", false, 120_000).unwrap();
        let out = run(&a, "api", &t, &h, &l, 130_000);
        assert_eq!(out[0].reason, "open: the last 2 outcomes of restart failed; half-opens in 9m50s (at 720000)");
        let out = run(&a, "api", &t, &h, &l, 720_000);
        assert!(out[0].passed);
        assert_eq!(out[0].reason, "half-open after 2 outcomes of restart failed: one trial run allowed");
        l.record_execution(exec("trial", "api", 720_000));
        let out = run(&a, "worker", &t, &h, &l, 721_000);
        assert!(!out[0].passed);
        assert!(out[0].reason.contains("trial trial on api is in flight"), "{}", out[0].reason);
        // A trial with no outcome after reset_after no longer holds it.
        assert!(run(&a, "worker", &t, &h, &l, 720_000 + 600_000)[0].passed);
        l.record_outcome("trial", true, 800_000).unwrap();
        let out = run(&a, "worker", &t, &h, &l, 801_000);
        assert!(out[0].passed && out[0].reason.is_empty());
    }

    #[test]
    fn compile_rejects_bad_keys_with_the_path() {
        let mut a = action("[]");
        a.guards.push(Guard::Throttle(crate::spec::action::Throttle {
            key: "node.colour".into(),
            max: 1,
            per: Duration::from_secs(60),
        }));
        let err = ActionGuards::compile(&a).unwrap_err();
        assert!(err.message().contains("guards[0].throttle.key"), "{}", err.message());
    }

    #[test]
    fn passing_checks_do_not_allocate_reasons() {
        let t = topo();
        let h = StaticHealth::new(&t);
        let l = Ledger::new();
        let a = action(
            "[{dependencies_healthy: {transitive: true}}, {min_healthy_replicas: 1}, {max_blast_radius: {max: 10}}, {cooldown: 1m}, {throttle: {key: action, max: 1, per: 1h}}, {max_concurrent: {key: node.id, max: 1}}, {budget: {max: 1}}, {circuit_breaker: {failures: 1, reset_after: 1m}}, {freeze: {timezone: UTC, windows: [{from: '2020-01-01T00:00:00', to: '2020-01-02T00:00:00'}]}}]",
        );
        let out = run(&a, "api", &t, &h, &l, 0);
        assert_eq!(out.len(), 9);
        for c in &out {
            assert!(c.passed, "{c:?}");
            assert_eq!(c.reason.capacity(), 0);
        }
    }
}
