//! Ingests N times one round of the cascade scenario's log records as an
//! NDJSON payload (12,000 records, as `benches/python/bench_ingest.py`
//! writes them: `json.dumps` spacing, one `service` attribute), into the
//! cascade engine. For instruction counts of the NDJSON path:
//!
//! ```text
//! cargo build --release -p healbot-benches --example ndjson_ingest
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!   --toggle-collect='healbot_core::engine::Engine::ingest_payload' \
//!   target/release/examples/ndjson_ingest N        # N = 1, then 3
//! ```
//!
//! (difference) / 2 / 12,000 is the cost of one record.
// An example builds its inputs and may unwrap: a failure is a fixture bug.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;

use healbot_core::telemetry::PayloadFormat;

fn main() {
    let usage = "usage: ndjson_ingest [N]";
    let n: usize = std::env::args().nth(1).map_or(1, |a| a.parse().expect(usage));
    let (mut engine, at) = healbot_benches::cascade::engine();
    let benign =
        ["GET /api/cart 200 12ms", "user session refreshed", "cache hit ratio 0.93", "request completed in 8ms"];
    let mut payload = String::new();
    for layer in 0..6 {
        for i in 0..100 {
            for k in 0..20 {
                let body =
                    if k % 8 == 0 && i % 4 == 0 { "timeout waiting for connection from pool" } else { benign[k % 4] };
                let _ = writeln!(
                    payload,
                    r#"{{"type": "log", "body": "{body}", "attributes": {{"service": "svc-{layer}-{i}"}}, "at": {at}}}"#
                );
            }
        }
    }
    let mut records = 0;
    for _ in 0..n {
        let report =
            engine.ingest_payload(PayloadFormat::Ndjson, std::hint::black_box(payload.as_bytes()), at).unwrap();
        records = report.observations;
    }
    println!("{n} payloads of {records} records, {} bytes each", payload.len());
}
