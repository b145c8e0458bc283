//! Runs `Engine::evaluate` N times on a fixed state and prints the decision
//! count: a fixed amount of work for an instruction counter, which, unlike
//! a clock, gives the same number on a busy machine. The state is either
//! `cascade` (the last state of `healbot_benches::cascade`, 1,007
//! decisions) or `decision` (the `decision` bench's: one 20-predicate
//! signature on a 1,000-node topology, a 10-entry ledger, one decision), or
//! `decision-logs` (the same after every node logged one line the library
//! counts: 1,000 log counters).
//! With `STEP_MS`, evaluation `i` runs at `at + i × STEP_MS`, as in a host's
//! loop whose clock moves on (default 0: the same `at` every time). With
//! `--json` it prints every decision document, to check that two builds
//! decide byte for byte alike.
//! Compare two builds by the difference between N = 1 and N = 6 (the first evaluation also evicts what is out of retention):
//!
//! ```sh
//! cargo build --release -p healbot-benches --example evaluations
//! for n in 1 6; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/evaluations cascade $n 2>&1 | grep refs
//! done
//! ```
// A fixture failure is a bug in the fixture: fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use healbot_benches::engine::{self as fx, AT};
use healbot_core::telemetry::Labels;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: evaluations <cascade|rounds|decision|decision-logs|sig20|sig20-no-node> [N] [STEP_MS] [--json]";
    if let Some(which @ ("sig20" | "sig20-no-node")) = args.get(1).map(String::as_str) {
        // The `evaluate` bench's `sig20/held` and `sig20/no_node`: `Engine::diagnose`
        // of one 20-predicate signature on a 100-node topology, on the sick node
        // or on no node (the fixed cost). The evaluation's cost is the difference.
        let n: usize = args.get(2).map_or(5, |a| a.parse().expect(usage));
        let (nodes, topology) = fx::topology(100);
        let node = if which == "sig20" { "be-3" } else { "no-such-node" };
        let mut engine = fx::engine(&fx::sig20_yaml(node), &topology);
        fx::feed(&mut engine, &nodes, &["be-3"]);
        fx::feed_incident(&mut engine, "be-3");
        let mut diagnoses = 0;
        for _ in 0..n {
            diagnoses = std::hint::black_box(engine.diagnose(std::hint::black_box(AT))).diagnoses.len();
        }
        println!("{n} diagnoses, {diagnoses} diagnoses each");
        return;
    }
    if args.get(1).map(String::as_str) == Some("rounds") {
        let mut decisions = Vec::new();
        healbot_benches::cascade::rounds(|engine, at| decisions.push(std::hint::black_box(engine.evaluate(at)).len()));
        println!("{} evaluations, {decisions:?} decisions", decisions.len());
        return;
    }
    let n: usize = args.get(2).map_or(5, |a| a.parse().expect(usage));
    let (mut engine, at) = match args.get(1).map(String::as_str) {
        Some("cascade") => healbot_benches::cascade::engine(),
        Some(scenario @ ("decision" | "decision-logs")) => {
            let (nodes, topology) = fx::topology(1_000);
            let (mut engine, _) = fx::decision_state(&nodes, &topology, "be-3");
            if scenario == "decision-logs" {
                // Every node has logged a line the library counts: a
                // counter per node, as in a fleet whose services all log.
                for n in &nodes {
                    let labels: Labels = [("service", n.id.as_str())].into_iter().collect();
                    let line = "WARN upstream: connection refused, retrying";
                    engine.ingest_log_lines(&labels, None, [(line.as_bytes(), AT - 200_000)]);
                }
            }
            (engine, AT)
        }
        _ => panic!("{usage}"),
    };
    let mut decisions = 0;
    let step: i64 = args.get(3).map_or(0, |a| a.parse().expect(usage));
    let json = args.get(4).is_some_and(|a| a == "--json");
    for i in 0..n {
        let out = std::hint::black_box(engine.evaluate(std::hint::black_box(at + step * i as i64)));
        decisions = out.len();
        if json {
            // Every decision document, to compare two builds' output byte for byte.
            for d in &out {
                println!("{}", d.to_json());
            }
        }
    }
    println!("{n} evaluations, {decisions} decisions each");
}
