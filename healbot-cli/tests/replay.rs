//! `healbot replay`: the shop scenario's decisions, output formats, format
//! detection, determinism and exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests opt back in

mod common;

use common::{healbot, replay_shop, repo, run, stderr, stdout, tmpdir};

#[test]
fn the_shop_replay_fails_the_database_over_and_suppresses_the_symptoms() {
    let out = replay_shop(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("TIME  ") && text.contains("ROOT CAUSE"), "{text}");
    let execute: Vec<&str> = text.lines().filter(|l| l.starts_with("2026-") && l.contains(" execute ")).collect();
    assert_eq!(execute.len(), 1, "{text}");
    assert!(execute[0].contains("redis-cart") && execute[0].contains("failover_database → redis-cart"), "{text}");
    for node in ["cartservice", "checkoutservice", "frontend"] {
        assert!(
            text.lines().any(|l| l.contains(node) && l.contains("suppress") && l.contains("symptom of redis-cart")),
            "{node}: {text}"
        );
    }
    assert!(!text.contains("restart_service →") && !text.contains("flush_connection_pool →"), "{text}");
    assert!(text.contains("summary: 27 evaluations"), "{text}");
    assert!(text.contains("by verdict (last seen): execute 1, escalate 0, suppress 5"), "{text}");
    assert!(text.contains("root #1 redis-cart (db.unavailable)"), "{text}");
    assert!(text.contains("explains cartservice, checkoutservice, frontend"), "{text}");
    assert!(text.contains("unattached observations: 0"), "{text}");
    assert!(text.contains("(alertmanager, 2 observations)") && text.contains("(k8s_events, 2 observations)"));
}

#[test]
fn replays_are_byte_identical() {
    let a = replay_shop(&[]);
    let b = replay_shop(&[]);
    assert_eq!(a.stdout, b.stdout);
    let a = replay_shop(&["--format", "json", "--all"]);
    let b = replay_shop(&["--format", "json", "--all"]);
    assert_eq!(a.stdout, b.stdout);
    assert!(!a.stdout.is_empty());
}

#[test]
fn json_output_is_ndjson_decision_documents() {
    let out = replay_shop(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let docs: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(docs.len(), 7, "{text}");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("schema/Decision.json")).unwrap()).unwrap();
    for (d, line) in docs.iter().zip(text.lines()) {
        assert_eq!(d["schema_version"], 2);
        assert_eq!(d["confidence"]["terms"].as_array().map(Vec::len), Some(5));
        assert!(!d["explanation"].as_str().unwrap().is_empty());
        // Reading a document back and writing it again gives the same bytes:
        // the terms and the explanation are rewritten from the same fields.
        assert_eq!(healbot_core::Decision::from_json(line).unwrap().to_json(), line);
        conforms(d, &schema);
        conforms(&d["confidence"], &schema["$defs"]["Confidence"]);
        for e in d["evidence"].as_array().unwrap() {
            conforms(e, &schema["$defs"]["EvidenceItem"]);
        }
    }
    let last_db = docs.iter().rev().find(|d| d["node"] == "redis-cart").unwrap();
    assert_eq!(last_db["verdict"], "execute");
    assert_eq!(last_db["action"]["id"], "failover_database");
    // The summary goes to stderr, so stdout stays pure NDJSON.
    assert!(stderr(&out).contains("summary:"));
}

#[test]
fn a_larger_step_and_until_change_the_evaluations() {
    let out = replay_shop(&["--step", "1m", "--until", "20m"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("summary: 21 evaluations"), "{}", stdout(&out));
}

#[test]
fn prometheus_text_and_otlp_are_replayed_by_content() {
    let dir = tmpdir("replay-formats");
    // 2026-03-10T10:00:00Z = 1773136800000
    let mut prom = String::from("# TYPE redis_up gauge\n");
    for i in 0..12 {
        let v = if i < 2 { 1 } else { 0 };
        prom.push_str(&format!("redis_up{{service=\"redis-cart\"}} {v} {}\n", 1_773_136_800_000i64 + i * 15_000));
    }
    std::fs::write(dir.join("scrape.prom"), prom).unwrap();
    let otlp = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cartservice"}}]},
      "scopeLogs":[{"logRecords":[{"timeUnixNano":"1773136830000000000","severityText":"ERROR","body":{"stringValue":"ECONNREFUSED redis-cart:6379"}}]}]}]}"#;
    std::fs::write(dir.join("logs.otlp.json"), otlp).unwrap();
    let out = healbot()
        .args(["replay", "--library"])
        .arg(repo().join("examples/shop/"))
        .arg("--topology")
        .arg(repo().join("examples/shop/topology.yaml"))
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("(prometheus_text, 12 observations)"), "{text}");
    assert!(text.contains("(otlp_logs, 1 observations)"), "{text}");
    assert!(text.contains("db.unavailable"), "{text}");
}

#[test]
fn prometheus_samples_without_timestamps_are_reported() {
    let dir = tmpdir("replay-untimed");
    std::fs::write(
        dir.join("a.prom"),
        "redis_up{service=\"redis-cart\"} 0 1773136800000\nredis_up{service=\"redis-cart\"} 0\n",
    )
    .unwrap();
    let out = healbot()
        .args(["replay", "--library"])
        .arg(repo().join("examples/shop/"))
        .arg("--topology")
        .arg(repo().join("examples/shop/topology.yaml"))
        .arg(dir.join("a.prom"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 samples without a timestamp"), "{}", stderr(&out));
    assert!(stdout(&out).contains("untimed_samples 1"), "{}", stdout(&out));
}

#[test]
fn errors_exit_with_check_codes() {
    // Missing telemetry file.
    assert_eq!(replay_shop(&["/nonexistent.ndjson"]).status.code(), Some(2));
    // Unknown input format.
    let out = replay_shop(&["--input-format", "alertmanagr"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("did you mean `alertmanager`?"), "{}", stderr(&out));
    // A zero step.
    assert_eq!(replay_shop(&["--step", "0s"]).status.code(), Some(2));
    // An invalid library.
    let dir = tmpdir("replay-badlib");
    let lib = dir.join("lib.yaml");
    std::fs::write(&lib, "apiVersion: healbot.dev/v1\nkind: ActionLibrary\nmetadata: {name: a}\nspec: {actons: []}\n")
        .unwrap();
    let out = healbot()
        .args(["replay", "--library"])
        .arg(&lib)
        .arg("--topology")
        .arg(repo().join("examples/shop/topology.yaml"))
        .arg(repo().join("examples/shop/telemetry/"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unknown field `actons`"), "{}", stderr(&out));
    // No arguments.
    assert_eq!(run(&["replay"]).status.code(), Some(2));
}

/// The document's keys are the ones `object` in the committed schema names
/// (its properties, and those of the variants of a flattened enum), and
/// every required one is there.
fn conforms(doc: &serde_json::Value, object: &serde_json::Value) {
    let mut known: Vec<&str> = object["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    for variant in object["oneOf"].as_array().into_iter().flatten() {
        known.extend(variant["properties"].as_object().unwrap().keys().map(String::as_str));
    }
    let doc = doc.as_object().unwrap();
    for key in doc.keys() {
        assert!(known.contains(&key.as_str()), "`{key}` is not in the schema ({known:?})");
    }
    for required in object["required"].as_array().unwrap() {
        assert!(doc.contains_key(required.as_str().unwrap()), "required `{required}` missing");
    }
}
