//! Data-driven selection scenarios (topology + health + ledger + action
//! library → expected selection): every `*.json` file under
//! `tests/data/scenarios/` holds a suite; see the README there. Then
//! property tests of the safety invariants of guards, selection and the
//! ledger.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use healbot_core::guard::{check, ActionGuards, GuardCheck, GuardCx, StaticHealth};
use healbot_core::ledger::{Execution, Ledger};
use healbot_core::selection::{resolve_target, select, Selection};
use healbot_core::spec::action::{Guard, Target};
use healbot_core::topology::NodeId;
use healbot_core::{Duration, Library, Topology};
use serde::Deserialize;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scenarios")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Suite {
    #[allow(dead_code)]
    about: Option<String>,
    /// Topology YAML, or `@file` in the data directory.
    topology: String,
    /// ActionLibrary YAML, or `@file` in the data directory.
    library: String,
    scenarios: Vec<Scenario>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    name: String,
    #[allow(dead_code)]
    about: Option<String>,
    #[serde(default = "default_at")]
    at: Time,
    node: String,
    root: Option<String>,
    actions: Vec<String>,
    #[serde(default)]
    unhealthy: Vec<String>,
    #[serde(default)]
    replicas: BTreeMap<String, u32>,
    #[serde(default)]
    ledger: Vec<Op>,
    expect: Expect,
}

/// Unix ms, an RFC 3339 instant, or (inside a scenario's ledger) a duration
/// relative to the scenario's `at`: `"-5m"`, `"+30s"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Time {
    Ms(i64),
    Text(String),
}

fn default_at() -> Time {
    Time::Text("2026-06-01T12:00:00Z".into())
}

impl Time {
    fn resolve(&self, at: i64) -> i64 {
        match self {
            Time::Ms(ms) => *ms,
            Time::Text(s) => {
                if let Some(d) = s.strip_prefix('-') {
                    at - d.parse::<Duration>().unwrap().as_millis_i64()
                } else if let Some(d) = s.strip_prefix('+') {
                    at + d.parse::<Duration>().unwrap().as_millis_i64()
                } else {
                    s.parse::<jiff::Timestamp>().unwrap_or_else(|e| panic!("time `{s}`: {e}")).as_millisecond()
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, untagged)]
enum Op {
    Execute {
        execute: String,
        action: String,
        target: String,
        at: Time,
        #[serde(default = "yes")]
        unattended: bool,
        #[serde(default = "default_signature")]
        signature: String,
        #[serde(default = "yes")]
        returns: bool,
    },
    Outcome {
        outcome: String,
        success: bool,
        at: Time,
        /// `true`, `false` or `"error"`.
        #[serde(default = "returns_true")]
        returns: serde_json::Value,
    },
}

fn yes() -> bool {
    true
}

fn returns_true() -> serde_json::Value {
    serde_json::Value::Bool(true)
}

fn default_signature() -> String {
    "test.signature".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// The chosen action id, or null when none.
    chosen: Option<String>,
    /// The chosen action's target.
    target: Option<String>,
    /// Guard keys that passed for the chosen action, in order (checked when given).
    passed: Option<Vec<String>>,
    /// Substrings of the reasons of the chosen action's passed guards.
    #[serde(default)]
    passed_reasons: Vec<String>,
    /// Guard keys of the chosen action's soft failures, in order.
    #[serde(default)]
    soft: Vec<String>,
    /// Substrings of the soft failures' reasons.
    #[serde(default)]
    soft_reasons: Vec<String>,
    /// Every rejected action, in order.
    #[serde(default)]
    rejected: Vec<ExpectRejected>,
    /// `[signature, action, successes, failures]`.
    #[serde(default)]
    posterior: Vec<(String, String, u32, u32)>,
    /// Executions held by the ledger.
    ledger_len: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectRejected {
    action: String,
    target: Option<String>,
    failed: Vec<String>,
    /// Substrings of the failed guards' reasons, or whole reasons.
    #[serde(default)]
    reasons: Vec<String>,
    /// `[guard, observed, limit]` triples to check exactly.
    #[serde(default)]
    numbers: Vec<(String, Option<f64>, Option<f64>)>,
}

fn load(text: &str) -> String {
    match text.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(data_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}")),
        None => text.to_string(),
    }
}

fn suites() -> Vec<(String, Suite)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            let suite: Suite = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, suite)
        })
        .collect()
}

fn keys(checks: &[GuardCheck]) -> Vec<String> {
    checks.iter().map(|c| c.guard.to_string()).collect()
}

fn contains_all(problems: &mut String, what: &str, checks: &[GuardCheck], wanted: &[String]) {
    for w in wanted {
        if !checks.iter().any(|c| c.reason.contains(w.as_str())) {
            let got: Vec<&str> = checks.iter().map(|c| c.reason.as_str()).collect();
            let _ = writeln!(problems, "  {what}: no reason contains {w:?}; reasons: {got:?}");
        }
    }
}

/// Runs one scenario; returns what went wrong (empty when it passed).
fn run(topo: &Topology, lib: &Library, guards: &[ActionGuards], s: &Scenario) -> String {
    let mut problems = String::new();
    let node = |id: &str| topo.lookup(id).unwrap_or_else(|| panic!("{}: unknown node `{id}`", s.name));
    let at = s.at.resolve(0);
    let mut health = StaticHealth::new(topo);
    for id in &s.unhealthy {
        health.set_unhealthy(node(id), true);
    }
    for (id, n) in &s.replicas {
        health.set_healthy_replicas(node(id), Some(*n));
    }
    let mut ledger = Ledger::new();
    for (i, op) in s.ledger.iter().enumerate() {
        match op {
            Op::Execute { execute, action, target, at: t, unattended, signature, returns } => {
                let got = ledger.record_execution(Execution {
                    decision_id: execute.clone(),
                    signature: signature.clone(),
                    action: action.clone(),
                    target: target.clone(),
                    at: t.resolve(at),
                    unattended: *unattended,
                });
                if got != *returns {
                    let _ = writeln!(problems, "  ledger[{i}]: record_execution returned {got}, expected {returns}");
                }
            }
            Op::Outcome { outcome, success, at: t, returns } => {
                let got = match ledger.record_outcome(outcome, *success, t.resolve(at)) {
                    Ok(b) => serde_json::Value::Bool(b),
                    Err(_) => serde_json::Value::String("error".into()),
                };
                if got != *returns {
                    let _ = writeln!(problems, "  ledger[{i}]: record_outcome returned {got}, expected {returns}");
                }
            }
        }
    }
    let cx = GuardCx { topology: topo, health: &health, ledger: &ledger, at };
    let root = s.root.as_deref().map(node);
    let mut scratch = topo.traversal();
    let sel = select(lib, guards, &s.actions, node(&s.node), root, &cx, &mut scratch);
    let e = &s.expect;
    let name_of = |i: usize| lib.actions()[i].id.clone();
    let node_name = |n: NodeId| topo.node(n).id().to_string();
    match (&sel.chosen, &e.chosen) {
        (None, None) => {}
        (Some(c), Some(want)) => {
            if name_of(c.action) != *want {
                let _ = writeln!(problems, "  chosen {}, expected {want}", name_of(c.action));
            }
            if let Some(t) = &e.target {
                if node_name(c.target) != *t {
                    let _ = writeln!(problems, "  target {}, expected {t}", node_name(c.target));
                }
            }
            if let Some(p) = &e.passed {
                if keys(&c.passed) != *p {
                    let _ = writeln!(problems, "  passed {:?}, expected {p:?}", keys(&c.passed));
                }
            }
            contains_all(&mut problems, "passed", &c.passed, &e.passed_reasons);
            if keys(&c.soft_failures) != e.soft {
                let _ = writeln!(problems, "  soft failures {:?}, expected {:?}", keys(&c.soft_failures), e.soft);
            }
            contains_all(&mut problems, "soft failures", &c.soft_failures, &e.soft_reasons);
        }
        (got, want) => {
            let _ = writeln!(problems, "  chosen {:?}, expected {want:?}", got.as_ref().map(|c| name_of(c.action)));
        }
    }
    let got: Vec<String> = sel.rejected.iter().map(|r| name_of(r.action)).collect();
    let want: Vec<String> = e.rejected.iter().map(|r| r.action.clone()).collect();
    if got != want {
        let _ = writeln!(problems, "  rejected {got:?}, expected {want:?}");
    } else {
        for (r, w) in sel.rejected.iter().zip(&e.rejected) {
            let what = format!("rejected {}", w.action);
            if keys(&r.failed) != w.failed {
                let _ = writeln!(problems, "  {what}: failed {:?}, expected {:?}", keys(&r.failed), w.failed);
            }
            if let Some(t) = &w.target {
                if r.target.map(node_name).as_deref() != Some(t.as_str()) {
                    let _ = writeln!(problems, "  {what}: target {:?}, expected {t}", r.target.map(node_name));
                }
            }
            contains_all(&mut problems, &what, &r.failed, &w.reasons);
            for (g, observed, limit) in &w.numbers {
                match r.failed.iter().find(|c| c.guard == g) {
                    Some(c) if c.observed == *observed && c.limit == *limit => {}
                    other => {
                        let _ = writeln!(
                            problems,
                            "  {what}: {g} observed/limit {:?}, expected {observed:?}/{limit:?}",
                            other.map(|c| (c.observed, c.limit))
                        );
                    }
                }
            }
        }
    }
    for (sig, action, ok, bad) in &e.posterior {
        let got = ledger.posterior(sig, action);
        if got != (*ok, *bad) {
            let _ = writeln!(problems, "  posterior({sig}, {action}) = {got:?}, expected ({ok}, {bad})");
        }
    }
    if let Some(n) = e.ledger_len {
        if ledger.len() != n {
            let _ = writeln!(problems, "  ledger holds {}, expected {n}", ledger.len());
        }
    }
    problems
}

#[test]
fn scenarios() {
    let mut report = String::new();
    let mut names = BTreeSet::new();
    let mut count = 0;
    for (file, suite) in suites() {
        let topo = Topology::from_text(&suite.topology, &load(&suite.topology)).unwrap();
        let lib = Library::from_text(&suite.library, &load(&suite.library)).unwrap();
        let guards = ActionGuards::compile_all(&lib).unwrap();
        for s in &suite.scenarios {
            assert!(names.insert(s.name.clone()), "scenario name `{}` is used twice", s.name);
            count += 1;
            let problems = run(&topo, &lib, &guards, s);
            if !problems.is_empty() {
                let _ = writeln!(report, "{file}: {}\n{problems}", s.name);
            }
        }
    }
    assert!(count >= 25, "only {count} scenarios");
    assert!(report.is_empty(), "\n{report}");
}

// ---------------------------------------------------------------------------
// Properties.

mod props {
    use super::*;
    use proptest::prelude::*;

    const ACTIONS: [&str; 9] = [
        "flush_pool",
        "failover_db",
        "restart",
        "scale_out",
        "reboot_host",
        "purge_cache",
        "promote_primary",
        "restart_backend",
        "page_oncall",
    ];

    struct World {
        topo: Topology,
        lib: Library,
        guards: Vec<ActionGuards>,
    }

    fn world() -> &'static World {
        static WORLD: std::sync::OnceLock<World> = std::sync::OnceLock::new();
        WORLD.get_or_init(|| {
            let topo = Topology::from_text("shop", &load("@shop.topology.yaml")).unwrap();
            let lib = Library::from_text("actions", &load("@shop.actions.yaml")).unwrap();
            let guards = ActionGuards::compile_all(&lib).unwrap();
            World { topo, lib, guards }
        })
    }

    /// One execution with its (optional) outcome, as generated.
    #[derive(Clone, Debug)]
    struct Run {
        id: usize,
        action: usize,
        target: usize,
        at: i64,
        unattended: bool,
        outcome: Option<(bool, i64)>,
    }

    #[derive(Clone, Debug)]
    enum Report {
        Exec(Execution),
        Outcome(String, bool, i64),
    }

    const AT: i64 = 10_000_000;

    fn runs() -> impl Strategy<Value = Vec<Run>> {
        let n = world().topo.len();
        prop::collection::vec(
            (
                0..ACTIONS.len(),
                0..n,
                0i64..8_000_000,
                any::<bool>(),
                prop::option::of((any::<bool>(), 0i64..3_000_000)),
            ),
            0..24,
        )
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(id, (action, target, ago, unattended, outcome))| Run {
                    id,
                    action,
                    target,
                    at: AT - ago,
                    unattended,
                    outcome: outcome.map(|(ok, later)| (ok, AT - ago + later)),
                })
                .collect()
        })
    }

    fn reports(topo: &Topology, runs: &[Run]) -> Vec<Report> {
        let mut out = Vec::new();
        for r in runs {
            out.push(Report::Exec(Execution {
                decision_id: format!("d{}", r.id),
                signature: "sig".into(),
                action: ACTIONS[r.action].into(),
                target: topo.node(topo.node_id(r.target).unwrap()).id().into(),
                at: r.at,
                unattended: r.unattended,
            }));
            if let Some((ok, at)) = r.outcome {
                out.push(Report::Outcome(format!("d{}", r.id), ok, at));
            }
        }
        out
    }

    fn apply(ledger: &mut Ledger, reports: &[Report]) -> Vec<String> {
        reports
            .iter()
            .map(|r| match r {
                Report::Exec(e) => ledger.record_execution(e.clone()).to_string(),
                Report::Outcome(id, ok, at) => format!("{:?}", ledger.record_outcome(id, *ok, *at)),
            })
            .collect()
    }

    /// Reorders reports by `keys`, keeping every outcome after its execution.
    fn shuffled(reports: &[Report], keys: &[u32]) -> Vec<Report> {
        let mut order: Vec<usize> = (0..reports.len()).collect();
        order.sort_by_key(|&i| (keys.get(i).copied().unwrap_or(0), i));
        let mut out = Vec::new();
        let mut pending: Vec<&Report> = Vec::new();
        let mut seen = BTreeSet::new();
        for i in order {
            match &reports[i] {
                Report::Exec(e) => {
                    seen.insert(e.decision_id.clone());
                    out.push(reports[i].clone());
                    pending.retain(|p| match p {
                        Report::Outcome(id, ..) if *id == e.decision_id => {
                            out.push((*p).clone());
                            false
                        }
                        _ => true,
                    });
                }
                Report::Outcome(id, ..) if seen.contains(id) => out.push(reports[i].clone()),
                Report::Outcome(..) => pending.push(&reports[i]),
            }
        }
        out
    }

    fn health(topo: &Topology, unhealthy: &[bool], replicas: &[Option<u32>]) -> StaticHealth {
        let mut h = StaticHealth::new(topo);
        for n in topo.node_ids() {
            h.set_unhealthy(n, unhealthy.get(n.index()).copied().unwrap_or(false));
            h.set_healthy_replicas(n, replicas.get(n.index()).copied().flatten());
        }
        h
    }

    /// An oracle for the hard guards, written from the documented rules over
    /// the raw reports (not the ledger), with naive graph walks.
    fn oracle_hard_pass(
        topo: &Topology,
        h: &StaticHealth,
        reports: &[Report],
        action: &healbot_core::spec::action::Action,
        target: NodeId,
        at: i64,
    ) -> bool {
        use healbot_core::guard::HealthView;
        // First report per id wins.
        let mut execs: BTreeMap<String, Execution> = BTreeMap::new();
        let mut outcomes: BTreeMap<String, (bool, i64)> = BTreeMap::new();
        for r in reports {
            match r {
                Report::Exec(e) => {
                    execs.entry(e.decision_id.clone()).or_insert_with(|| e.clone());
                }
                Report::Outcome(id, ok, t) => {
                    if execs.contains_key(id) {
                        outcomes.entry(id.clone()).or_insert((*ok, *t));
                    }
                }
            }
        }
        let closure = |start: NodeId, forward: bool| -> BTreeSet<NodeId> {
            let mut seen = BTreeSet::new();
            let mut stack = vec![start];
            while let Some(v) = stack.pop() {
                let next = if forward { topo.direct_dependencies(v) } else { topo.direct_dependents(v) };
                for &w in next {
                    if w != start && seen.insert(w) {
                        stack.push(w);
                    }
                }
            }
            seen
        };
        let info = topo.node(target);
        let group = |key: &str, other: &str, other_action: &str| -> bool {
            let o = topo.lookup(other).map(|n| topo.node(n));
            match key {
                "action" => other_action == action.id,
                "node.id" => other == info.id(),
                "node.kind" => o.is_some_and(|o| o.kind() == info.kind()),
                "node.tier" => o.is_some_and(|o| o.tier() == info.tier()),
                k => {
                    let k = k.strip_prefix("node.label.").unwrap();
                    let v = |n: &healbot_core::topology::NodeInfo| n.labels().get(k).cloned().unwrap_or_default();
                    o.is_some_and(|o| v(o) == v(info))
                }
            }
        };
        for g in &action.guards {
            let ok = match g {
                Guard::DependenciesHealthy(d) => {
                    let deps: Vec<NodeId> = if d.transitive {
                        closure(target, true).into_iter().collect()
                    } else {
                        topo.direct_dependencies(target).to_vec()
                    };
                    deps.iter()
                        .filter(|n| d.kinds.is_empty() || d.kinds.contains(&topo.node(**n).kind()))
                        .all(|n| !h.is_unhealthy(*n))
                }
                Guard::MinHealthyReplicas(min) => h.healthy_replicas(target).saturating_sub(1) >= *min,
                Guard::MaxBlastRadius(b) => {
                    let dependents = closure(target, false);
                    let weight: f64 = dependents
                        .iter()
                        .map(|n| f64::from(healbot_core::topology::tier_weight(topo.node(*n).tier())))
                        .sum();
                    let observed = if b.tier_weighted { weight } else { dependents.len() as f64 };
                    observed <= b.max
                }
                Guard::Cooldown(d) => !execs
                    .values()
                    .any(|e| e.action == action.id && e.target == info.id() && e.at > at - d.as_millis_i64()),
                Guard::Throttle(t) => {
                    let n = execs
                        .values()
                        .filter(|e| e.action == action.id && e.at > at - t.per.as_millis_i64())
                        .filter(|e| group(&t.key, &e.target, &e.action))
                        .count();
                    n < t.max as usize
                }
                Guard::MaxConcurrent(m) => {
                    let n = execs
                        .values()
                        .filter(|e| !outcomes.contains_key(&e.decision_id) && e.at > at - m.timeout.as_millis_i64())
                        .filter(|e| group(&m.key, &e.target, &e.action))
                        .count();
                    n < m.max as usize
                }
                Guard::CircuitBreaker(c) => {
                    let mut mine: Vec<(i64, &str, bool)> = outcomes
                        .iter()
                        .filter(|(id, _)| execs[*id].action == action.id)
                        .map(|(id, (ok, t))| (*t, id.as_str(), *ok))
                        .collect();
                    mine.sort();
                    let trailing: Vec<_> = mine.iter().rev().take_while(|o| !o.2).collect();
                    if trailing.len() < c.failures as usize {
                        true
                    } else {
                        let last = trailing[0].0;
                        let reset = c.reset_after.as_millis_i64();
                        at >= last + reset
                            && !execs.values().any(|e| {
                                e.action == action.id
                                    && e.at >= last
                                    && e.at > at - reset
                                    && !outcomes.contains_key(&e.decision_id)
                            })
                    }
                }
                Guard::Budget(_) | Guard::Freeze(_) => true,
            };
            if !ok {
                return false;
            }
        }
        true
    }

    fn selection_key(lib: &Library, topo: &Topology, s: &Selection) -> String {
        let c = s.chosen.as_ref().map(|c| {
            (
                lib.actions()[c.action].id.clone(),
                topo.node(c.target).id().to_string(),
                c.passed.clone(),
                c.soft_failures.clone(),
            )
        });
        let r: Vec<_> = s.rejected.iter().map(|r| (r.action, r.target, r.failed.clone())).collect();
        format!("{c:?} {r:?}")
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// A chosen action passes every hard guard by an independent oracle;
        /// every rejected action with a target fails one; no action before
        /// the chosen one is skipped.
        #[test]
        fn chosen_actions_never_violate_hard_guards(
            runs in runs(),
            unhealthy in prop::collection::vec(prop::bool::weighted(0.2), 15),
            replicas in prop::collection::vec(prop::option::weighted(0.3, 0u32..4), 15),
            list in prop::collection::vec(0..ACTIONS.len(), 1..6),
            node in 0usize..15,
            root in prop::option::of(0usize..15),
            later in 0i64..4_000_000,
        ) {
            let w = world();
            let topo = &w.topo;
            let reports = reports(topo, &runs);
            let mut ledger = Ledger::new();
            apply(&mut ledger, &reports);
            let h = health(topo, &unhealthy, &replicas);
            let at = AT + later;
            let cx = GuardCx { topology: topo, health: &h, ledger: &ledger, at };
            let node = topo.node_id(node % topo.len()).unwrap();
            let root = root.map(|r| topo.node_id(r % topo.len()).unwrap());
            let ids: Vec<String> = list.iter().map(|i| ACTIONS[*i].to_string()).collect();
            let mut scratch = topo.traversal();
            let sel = select(&w.lib, &w.guards, &ids, node, root, &cx, &mut scratch);
            prop_assert_eq!(sel.rejected.len() + usize::from(sel.chosen.is_some()),
                ids.iter().position(|id| sel.chosen.as_ref().is_some_and(|c| w.lib.actions()[c.action].id == *id))
                    .map_or(ids.len(), |p| p + 1));
            if let Some(c) = &sel.chosen {
                let action = &w.lib.actions()[c.action];
                prop_assert_eq!(resolve_target(action, node, root, topo, &mut scratch), Some(c.target));
                prop_assert!(oracle_hard_pass(topo, &h, &reports, action, c.target, at),
                    "chosen {} on {} violates a hard guard", action.id, topo.node(c.target).id());
                prop_assert!(c.soft_failures.iter().all(|f| f.unattended_only && !f.passed));
                // Re-check through the public entry point as well.
                let mut out = Vec::new();
                check(action, &w.guards[c.action], c.target, &cx, &mut scratch, &mut out);
                prop_assert!(out.iter().all(|g| g.passed || g.unattended_only));
                prop_assert_eq!(out.len(), action.guards.len());
            }
            for r in &sel.rejected {
                let action = &w.lib.actions()[r.action];
                match r.target {
                    Some(t) => prop_assert!(!oracle_hard_pass(topo, &h, &reports, action, t, at),
                        "{} on {} was rejected but passes every hard guard: {:?}", action.id, topo.node(t).id(), r.failed),
                    None => {
                        prop_assert_eq!(resolve_target(action, node, root, topo, &mut scratch), None);
                        prop_assert!(matches!(action.target, Target::Dependency(_)));
                    }
                }
            }
        }

        /// The same reports in another order (each outcome after its
        /// execution) give the same ledger and the same selection.
        #[test]
        fn selection_does_not_depend_on_report_order(
            runs in runs(),
            keys in prop::collection::vec(any::<u32>(), 48),
            list in prop::collection::vec(0..ACTIONS.len(), 1..6),
            node in 0usize..15,
            later in 0i64..4_000_000,
        ) {
            let w = world();
            let topo = &w.topo;
            let reports = reports(topo, &runs);
            let mut a = Ledger::new();
            apply(&mut a, &reports);
            let mut b = Ledger::new();
            apply(&mut b, &shuffled(&reports, &keys));
            prop_assert_eq!(&a, &b);
            let h = StaticHealth::new(topo);
            let node = topo.node_id(node % topo.len()).unwrap();
            let ids: Vec<String> = list.iter().map(|i| ACTIONS[*i].to_string()).collect();
            let mut scratch = topo.traversal();
            let at = AT + later;
            let sa = select(&w.lib, &w.guards, &ids, node, None,
                &GuardCx { topology: topo, health: &h, ledger: &a, at }, &mut scratch);
            let sb = select(&w.lib, &w.guards, &ids, node, None,
                &GuardCx { topology: topo, health: &h, ledger: &b, at }, &mut scratch);
            prop_assert_eq!(selection_key(&w.lib, topo, &sa), selection_key(&w.lib, topo, &sb));
        }

        /// Delivering every report twice (at least once) changes nothing, and
        /// the second delivery says so; a snapshot round trip changes nothing.
        #[test]
        fn recording_is_idempotent(runs in runs(), evict in prop::option::of(0i64..10_000_000)) {
            let w = world();
            let reports = reports(&w.topo, &runs);
            let mut once = Ledger::new();
            let first = apply(&mut once, &reports);
            prop_assert!(first.iter().all(|r| r == "true" || r == "Ok(true)"), "{:?}", first);
            let mut twice = once.clone();
            let second = apply(&mut twice, &reports);
            prop_assert!(second.iter().all(|r| r == "false" || r == "Ok(false)"), "{:?}", second);
            prop_assert_eq!(&once, &twice);
            // Interleaved duplicates too.
            let doubled: Vec<Report> = reports.iter().flat_map(|r| [r.clone(), r.clone()]).collect();
            let mut inter = Ledger::new();
            apply(&mut inter, &doubled);
            prop_assert_eq!(&once, &inter);
            if let Some(before) = evict {
                once.evict(before);
                let snapshot = postcard::to_allocvec(&once).unwrap();
                let back: Ledger = postcard::from_bytes(&snapshot).unwrap();
                prop_assert_eq!(&back, &once);
                // A replay after eviction still counts nothing twice.
                let posteriors = once.posterior("sig", "restart");
                apply(&mut once, &reports);
                prop_assert_eq!(once.posterior("sig", "restart"), posteriors);
            }
        }
    }
}
