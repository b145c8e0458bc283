//! Decision latency (issue 5, item 7): evaluate + validate + score per
//! decision, state in memory, and the same guard policy in Rego (regorus).
//!
//! Setup: a 1,000-node layered topology (`healbot_benches::engine`), every
//! node fed 5 minutes of samples (three series per metric the library
//! reads, plus a replica count), a ledger of 10 executions with outcomes,
//! and a library of ONE 20-predicate signature applying to one sick
//! backend, `be-3`, whose first action `restart_service` carries the eight
//! guards of `examples/shop/actions.yaml` (dependencies healthy, min healthy
//! replicas, tier-weighted blast radius, cooldown, throttle by team,
//! concurrency by team, unattended budget, circuit breaker). Every guard
//! passes, so each call produces one `execute` decision.
//!
//! - `decision/engine_evaluate`: `Engine::evaluate(at)`, end to end: match
//!   the signature (and check it against the 999 other nodes), root cause,
//!   confidence, selection with every guard, verdict, the decision document.
//! - `decision/guards`: `guard::check` of `restart_service`'s eight guards
//!   on `be-3` against the same topology, health and 10-entry ledger.
//! - `decision/select_score`: `selection::select` over the signature's
//!   action list plus `confidence::score` (validate + score without
//!   matching).
//! - `decision/regorus`: the equivalent policy in Rego (below), compiled
//!   once; per call `set_input` with the facts (a prebuilt `Value`, cloned:
//!   an `Rc` bump) and `eval_rule("data.healbot.guards.allow")`.
//! - `decision/regorus_json`: the same with the facts parsed from JSON on
//!   every call (`set_input_json`), as a host handing over a document would.
//!
//! After criterion, a timing loop measures each of N = 100,000 single calls
//! (after 10,000 warm-up calls) with `Instant`, sorts them and prints p50,
//! p90, p99, p99.9 and max, and the ratios of the medians, all in one run.
//! It adds `Engine::evaluate` on a second engine in the same state whose
//! clock moves on by 1 ms per call (10,000 calls after 1,000), as in a
//! host's loop: each call then moves the retention's cut-off over the
//! 1,000 nodes' series (the criterion figures evaluate at one fixed `at`).
//!
//! Run: `cargo bench -p healbot-benches --bench decision -- --warm-up-time 1 --measurement-time 3`
// Benchmarks build their inputs and may unwrap: a failure is a fixture bug.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::Criterion;
use healbot_benches::engine::{self as fx, NodeSpec, AT};
use healbot_benches::{args, timing};
use healbot_core::confidence::{self, Inputs};
use healbot_core::guard::{check, ActionGuards, GuardCx, StaticHealth};
use healbot_core::ledger::Ledger;
use healbot_core::selection::select;
use healbot_core::{Engine, Library, Topology, Verdict};

const NODES: usize = 1_000;
const TARGET: &str = "be-3";
const ACTION: &str = "restart_service";

/// What HealBot's guards of `restart_service` check, written in Rego over
/// facts a host would hand a policy engine: the target with its transitive
/// dependencies (kind, health) and dependents (tier), and the ledger
/// entries with their target's team. Limits as in `fx::ACTIONS_YAML`.
const POLICY: &str = r#"package healbot.guards

import rego.v1

tier_weight := {1: 8, 2: 4, 3: 2, 4: 1}

# dependencies_healthy: {transitive: true}
unhealthy_dependencies := [d.id | some d in input.target.dependencies; not d.healthy]

dependencies_healthy if count(unhealthy_dependencies) == 0

# min_healthy_replicas: 1 (one replica goes down during the action)
min_healthy_replicas if input.target.healthy_replicas - 1 >= 1

# max_blast_radius: {max: 200, tier_weighted: true}
blast_radius := sum([tier_weight[d.tier] | some d in input.target.dependents])

max_blast_radius if blast_radius <= 200

# cooldown: 15m, per (action, target)
ran_recently if {
	some e in input.ledger
	e.action == input.action
	e.target == input.target.id
	e.at > input.at - 900000
}

cooldown if not ran_recently

# throttle: {key: node.label.team, max: 2, per: 1h}
throttle if {
	runs := [e | some e in input.ledger; e.action == input.action; e.team == input.target.team; e.at > input.at - 3600000]
	count(runs) < 2
}

# max_concurrent: {key: node.label.team, max: 1} (timeout 30m)
max_concurrent if {
	in_flight := [e | some e in input.ledger; e.team == input.target.team; e.outcome == null; e.at > input.at - 1800000]
	count(in_flight) < 1
}

# budget: {max: 10, per: 1h} (unattended executions, engine-wide)
budget if {
	runs := [e | some e in input.ledger; e.unattended; e.at > input.at - 3600000]
	count(runs) < 10
}

# circuit_breaker: {failures: 3, reset_after: 2h}
outcomes := sort([[e.outcome.at, e.outcome.success] | some e in input.ledger; e.action == input.action; e.outcome != null])

last_three := array.slice(outcomes, count(outcomes) - 3, count(outcomes))

breaker_open if {
	count(last_three) == 3
	every o in last_three {
		o[1] == false
	}
	input.at < last_three[2][0] + 7200000
}

circuit_breaker if not breaker_open

default allow := false

allow if {
	dependencies_healthy
	min_healthy_replicas
	max_blast_radius
	cooldown
	throttle
	max_concurrent
	budget
	circuit_breaker
}
"#;

/// The facts of the policy as JSON, from the same topology, health and
/// ledger history HealBot reads.
fn facts_json(nodes: &[NodeSpec], topology: &Topology, history: &[fx::HistoryEntry]) -> String {
    let team_of = |id: &str| nodes.iter().find(|n| n.id == id).map_or("", |n| n.team.as_str());
    let target = topology.lookup(TARGET).unwrap();
    let info = topology.node(target);
    let mut scratch = topology.traversal();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"{{"action":"{ACTION}","at":{AT},"target":{{"id":"{TARGET}","team":"{}","healthy_replicas":{},"dependencies":["#,
        team_of(TARGET),
        info.replicas()
    );
    for (i, d) in topology.dependencies(target, &mut scratch).iter().enumerate() {
        let n = topology.node(*d);
        let _ = write!(s, r#"{}{{"id":"{}","kind":"{}","healthy":true}}"#, sep(i), n.id(), n.kind().as_str());
    }
    s.push_str(r#"],"dependents":["#);
    for (i, d) in topology.dependents(target, &mut scratch).iter().enumerate() {
        let n = topology.node(*d);
        let _ = write!(s, r#"{}{{"id":"{}","tier":{}}}"#, sep(i), n.id(), n.tier());
    }
    s.push_str(r#"]},"ledger":["#);
    for (i, (e, outcome)) in history.iter().enumerate() {
        let outcome = match outcome {
            Some((success, at)) => format!(r#"{{"success":{success},"at":{at}}}"#),
            None => "null".into(),
        };
        let _ = write!(
            s,
            r#"{}{{"decision_id":"{}","action":"{}","target":"{}","team":"{}","at":{},"unattended":{},"outcome":{outcome}}}"#,
            sep(i),
            e.decision_id,
            e.action,
            e.target,
            team_of(&e.target),
            e.at,
            e.unattended
        );
    }
    s.push_str("]}");
    s
}

fn sep(i: usize) -> &'static str {
    if i == 0 {
        ""
    } else {
        ","
    }
}

struct Setup {
    engine: Engine,
    /// A second engine in the same state, evaluated with a clock that moves
    /// on by 1 ms per call (as a host's loop does) from `AT`.
    moving: Engine,
    moving_at: i64,
    library: Library,
    topology: Topology,
    guards: Vec<ActionGuards>,
    ledger: Ledger,
    health: StaticHealth,
    rego: regorus::Engine,
    input: regorus::Value,
    input_json: String,
}

fn setup() -> Setup {
    let (nodes, topology) = fx::topology(NODES);
    let library = Library::from_text("library.yaml", &fx::sig20_yaml(TARGET)).unwrap();
    let history = fx::ledger_history(&nodes, TARGET);
    let (mut engine, series) = fx::decision_state(&nodes, &topology, TARGET);
    let (moving, _) = fx::decision_state(&nodes, &topology, TARGET);
    let mut ledger = Ledger::new();
    for (e, outcome) in &history {
        ledger.record_execution(e.clone());
        if let Some((success, at)) = outcome {
            ledger.record_outcome(&e.decision_id, *success, *at).unwrap();
        }
    }

    let decisions = engine.evaluate(AT);
    assert_eq!(decisions.len(), 1, "one decision per evaluation");
    let d = &decisions[0];
    assert_eq!(d.verdict, Verdict::Execute, "{}", d.explain());
    let action = d.action.as_ref().unwrap();
    assert_eq!(action.id, ACTION);
    assert_eq!(action.guards_passed.len(), 8, "all eight guards checked and passed");
    eprintln!(
        "setup: {NODES} nodes, {series} series, ledger of {} executions; decision: {} {} on {} (confidence {:.3}, {} evidence items)",
        history.len(),
        d.verdict.as_str(),
        action.id,
        action.target,
        d.confidence.value,
        d.evidence.len()
    );

    let guards = ActionGuards::compile_all(&library).unwrap();
    let health = StaticHealth::new(&topology);

    let mut rego = regorus::Engine::new();
    rego.add_policy("guards.rego".into(), POLICY.into()).unwrap();
    let input_json = facts_json(&nodes, &topology, &history);
    let input = regorus::Value::from_json_str(&input_json).unwrap();
    rego.set_input(input.clone());
    let allow = rego.eval_rule("data.healbot.guards.allow".into()).unwrap();
    assert_eq!(allow, regorus::Value::from(true), "the Rego policy allows what HealBot's guards allow");
    // The policy must also deny what the guards deny: the same facts with
    // a recent run on the target (cooldown) and with an unhealthy dependency.
    for (from, to) in [
        (r#""target":"be-"#, &*format!(r#""target":"{TARGET}","was":"be-"#)),
        (r#""healthy":true"#, r#""healthy":false"#),
    ] {
        let denied = input_json.replacen(from, to, 1);
        rego.set_input(regorus::Value::from_json_str(&denied).unwrap());
        let allow = rego.eval_rule("data.healbot.guards.allow".into()).unwrap();
        assert_eq!(allow, regorus::Value::from(false), "denies {to}");
    }
    eprintln!("setup: Rego policy of {} lines, facts of {} bytes", POLICY.lines().count(), input_json.len());

    Setup { engine, moving, moving_at: AT, library, topology, guards, ledger, health, rego, input, input_json }
}

impl Setup {
    fn engine_evaluate(&mut self) -> usize {
        self.engine.evaluate(AT).len()
    }

    /// `Engine::evaluate` 1 ms after the previous call: every call moves
    /// the retention's cut-off over the 1,000 nodes' series.
    fn engine_evaluate_moving(&mut self) -> usize {
        self.moving_at += 1;
        self.moving.evaluate(self.moving_at).len()
    }

    fn guards(&self, scratch: &mut healbot_core::topology::Traversal, out: &mut Vec<healbot_core::guard::GuardCheck>) {
        let cx = GuardCx { topology: &self.topology, health: &self.health, ledger: &self.ledger, at: AT };
        let index = self.library.action_index(ACTION).unwrap();
        let target = self.topology.lookup(TARGET).unwrap();
        check(&self.library.actions()[index], &self.guards[index], target, &cx, scratch, out);
    }

    fn select_score(&self, scratch: &mut healbot_core::topology::Traversal) -> f64 {
        let cx = GuardCx { topology: &self.topology, health: &self.health, ledger: &self.ledger, at: AT };
        let target = self.topology.lookup(TARGET).unwrap();
        let sig = &self.library.signatures()[0];
        let s = select(&self.library, &self.guards, &sig.actions, target, None, &cx, scratch);
        let (successes, failures) = self.ledger.posterior(&sig.id, ACTION);
        let c = confidence::score(&Inputs {
            prior: sig.prior.unwrap_or(0.5),
            evidence: 2.0,
            coverage: 1.0,
            explained_by_dependency: false,
            corroborating_dependents: 0,
            successes,
            failures,
        });
        debug_assert!(s.chosen.is_some());
        c.value
    }

    fn regorus(&mut self) -> bool {
        self.rego.set_input(self.input.clone());
        self.rego.eval_rule("data.healbot.guards.allow".into()).unwrap() == regorus::Value::from(true)
    }

    fn regorus_json(&mut self) -> bool {
        self.rego.set_input_json(&self.input_json).unwrap();
        self.rego.eval_rule("data.healbot.guards.allow".into()).unwrap() == regorus::Value::from(true)
    }
}

fn criterion_benches(c: &mut Criterion, s: &mut Setup) {
    let mut group = c.benchmark_group("decision");
    group.bench_function("engine_evaluate", |b| b.iter(|| black_box(s.engine_evaluate())));
    let mut scratch = s.topology.traversal();
    let mut out = Vec::new();
    group.bench_function("guards", |b| b.iter(|| s.guards(&mut scratch, black_box(&mut out))));
    group.bench_function("select_score", |b| b.iter(|| black_box(s.select_score(&mut scratch))));
    group.bench_function("regorus", |b| b.iter(|| black_box(s.regorus())));
    group.bench_function("regorus_json", |b| b.iter(|| black_box(s.regorus_json())));
    group.finish();
}

/// Per-call latency distributions, all in this run, and the ratios of
/// their medians.
fn percentiles(s: &mut Setup) {
    let (n, warmup) = if args::quick() { (2_000, 200) } else { (100_000, 10_000) };
    let overhead = timing::clock_overhead_ns();
    let mut scratch = s.topology.traversal();
    let mut out = Vec::new();
    let engine = timing::latencies(n, warmup, || s.engine_evaluate());
    // At most 11 s of clock movement, so that every window still holds the
    // samples the signature needs: the same single decision on every call.
    let (n_moving, warmup_moving) = (n.min(10_000), warmup.min(1_000));
    let mut decided = 0;
    let moving = timing::latencies(n_moving, warmup_moving, || decided += s.engine_evaluate_moving());
    assert_eq!(decided, n_moving + warmup_moving, "one decision per call while the clock moves");
    let guards = timing::latencies(n, warmup, || s.guards(&mut scratch, &mut out));
    let select_score = timing::latencies(n, warmup, || s.select_score(&mut scratch));
    let rego = timing::latencies(n, warmup, || s.regorus());
    let rego_json = timing::latencies(n / 10, warmup / 10, || s.regorus_json());
    println!("\nper-call latency, N single calls after warm-up (Instant around each; clock pair ≈ {overhead} ns):");
    for (name, v) in [
        ("healbot Engine::evaluate (1 decision)", &engine),
        ("healbot Engine::evaluate, clock +1 ms per call", &moving),
        ("healbot guard::check (8 guards)", &guards),
        ("healbot select + confidence::score", &select_score),
        ("regorus eval_rule (Value input)", &rego),
        ("regorus eval_rule (JSON input)", &rego_json),
    ] {
        println!("{}", timing::summary(name, v));
    }
    let p50 = |v: &[u64]| timing::percentile(v, 0.5) as f64;
    let p99 = |v: &[u64]| timing::percentile(v, 0.99) as f64;
    println!("ratios (same run): regorus ÷ healbot");
    for (name, v) in [
        ("Engine::evaluate", &engine),
        ("evaluate, clock moving", &moving),
        ("guard::check", &guards),
        ("select + score", &select_score),
    ] {
        println!("  vs {name:<18} p50 {:>7.1}×   p99 {:>7.1}×", p50(&rego) / p50(v), p99(&rego) / p99(v));
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    if !args::selected("decision") {
        c.final_summary();
        return;
    }
    let mut s = setup();
    criterion_benches(&mut c, &mut s);
    if !args::profiling() {
        percentiles(&mut s);
    }
    c.final_summary();
}
