//! Ingests N times one round of the cascade scenario's telemetry into the
//! cascade engine, for instruction counts of the ingest paths:
//!
//! - `ndjson`: the round's log lines (600 services × 20, as
//!   `benches/python/bench_ingest.py` writes them) as one NDJSON payload of
//!   12,000 records (`json.dumps` spacing, one `service` attribute), through
//!   `Engine::ingest_payload`;
//! - `text`: each service's 20 lines as one text, through
//!   `Engine::ingest_log_text` (600 calls);
//! - `metrics`: the round's samples of four metrics per service (three the
//!   library reads, one it does not) as one NDJSON payload of 2,400 records
//!   with two labels each, through `Engine::ingest_payload`.
//!
//! ```text
//! cargo build --release -p healbot-benches --example ingest_paths
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!   --toggle-collect='healbot_core::engine::Engine::ingest_payload' \
//!   target/release/examples/ingest_paths ndjson N          # N = 1, then 3
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!   --toggle-collect='healbot_core::engine::Engine::ingest_log_text' \
//!   target/release/examples/ingest_paths text N
//! ```
//!
//! (difference) / 2 / 12,000 is the cost of one line (/ 2,400 of one
//! sample with `metrics`, toggled as `ndjson`).
// An example builds its inputs and may unwrap: a failure is a fixture bug.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;

use healbot_core::telemetry::{Labels, PayloadFormat};

fn main() {
    let usage = "usage: ingest_paths <ndjson|text|metrics> [N]";
    let mode = std::env::args().nth(1).expect(usage);
    let n: usize = std::env::args().nth(2).map_or(1, |a| a.parse().expect(usage));
    let (mut engine, at) = healbot_benches::cascade::engine();
    let benign =
        ["GET /api/cart 200 12ms", "user session refreshed", "cache hit ratio 0.93", "request completed in 8ms"];
    let body = |i: usize, k: usize| {
        if k % 8 == 0 && i % 4 == 0 {
            "timeout waiting for connection from pool"
        } else {
            benign[k % 4]
        }
    };
    let services: Vec<(usize, usize)> = (0..6).flat_map(|layer| (0..100).map(move |i| (layer, i))).collect();
    match mode.as_str() {
        "ndjson" => {
            let mut payload = String::new();
            for &(layer, i) in &services {
                for k in 0..20 {
                    let _ = writeln!(
                        payload,
                        r#"{{"type": "log", "body": "{}", "attributes": {{"service": "svc-{layer}-{i}"}}, "at": {at}}}"#,
                        body(i, k)
                    );
                }
            }
            for _ in 0..n {
                let report = engine.ingest_payload(PayloadFormat::Ndjson, std::hint::black_box(payload.as_bytes()), at);
                std::hint::black_box(report.unwrap());
            }
        }
        "text" => {
            let texts: Vec<(Labels, String)> = services
                .iter()
                .map(|&(layer, i)| {
                    let labels: Labels = [("service", format!("svc-{layer}-{i}"))].into_iter().collect();
                    let text: String = (0..20).map(|k| format!("{}\n", body(i, k))).collect();
                    (labels, text)
                })
                .collect();
            for _ in 0..n {
                for (labels, text) in &texts {
                    std::hint::black_box(engine.ingest_log_text(
                        labels,
                        None,
                        std::hint::black_box(text.as_bytes()),
                        at,
                    ));
                }
            }
        }
        "metrics" => {
            let mut payload = String::new();
            for &(layer, i) in &services {
                for name in ["error_ratio", "latency_p99", "pool_usage", "process_metric_1"] {
                    let service = format!("svc-{layer}-{i}");
                    let _ = writeln!(
                        payload,
                        r#"{{"type": "metric", "name": "{name}", "labels": {{"service": "{service}", "instance": "{service}:9100"}}, "value": 0.25, "at": {at}}}"#
                    );
                }
            }
            for _ in 0..n {
                let report = engine.ingest_payload(PayloadFormat::Ndjson, std::hint::black_box(payload.as_bytes()), at);
                std::hint::black_box(report.unwrap());
            }
        }
        _ => panic!("{usage}"),
    }
    println!("{n} rounds of {} services' telemetry, as {mode}", services.len());
}
