//! Runs `Engine::evaluate` N times (default 5) on the last state of the
//! cascade scenario ([`healbot_benches::cascade`]) and prints the decision
//! count: a fixed amount of work for an instruction counter, which, unlike
//! a clock, gives the same number on a busy machine. Compare two builds by
//! the difference between N = 0 and N = 5:
//!
//! ```sh
//! cargo build --release -p healbot-benches --example cascade
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/cascade 0 2>&1 | grep refs
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/cascade 5 2>&1 | grep refs
//! ```
// A fixture failure is a bug in the fixture: fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

fn main() {
    let n: usize = std::env::args().nth(1).map_or(5, |a| a.parse().expect("N, a count of evaluations"));
    let (mut engine, at) = healbot_benches::cascade::engine();
    let mut decisions = 0;
    for _ in 0..n {
        decisions = std::hint::black_box(engine.evaluate(std::hint::black_box(at))).len();
    }
    println!("{n} evaluations, {decisions} decisions each");
}
