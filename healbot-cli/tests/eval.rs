//! `healbot eval nezha` end to end on a synthetic Nezha-shaped folder
//! (tests/fixtures/nezha/: three services, one fault, the real day's
//! data-quality faults), with the shipped general library.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn eval(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_healbot"))
        .args(["eval", "nezha"])
        .arg(repo().join("healbot-cli/tests/fixtures/nezha"))
        .arg("--library")
        .arg(repo().join("library/rca-general.yaml"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn finds_the_injected_service_and_reports_the_data_faults() {
    let out = eval(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["topology"]["nodes"], 5, "3 services and 2 hosts: {doc:#}");
    let fault = &doc["faults"][0];
    assert_eq!(fault["service"], "cartservice");
    assert_eq!(fault["type"], "cpu_contention");
    assert_eq!(fault["rank"], 1, "{doc:#}");
    assert_eq!(fault["ranking"][0], "cartservice");
    assert_eq!(doc["overall"]["as1"], 1.0);
    assert_eq!(doc["by_type"]["cpu_contention"]["as3"], 1.0);

    let findings: Vec<&str> =
        doc["data_quality"]["findings"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(
        findings.iter().any(|f| f.starts_with("currencyservice-5d7f9c6b8d-klmno_metric.csv: `TimeStamp` is off")
            && f.contains("+199999999 s")),
        "{findings:#?}"
    );
    assert!(findings.iter().any(|f| f.contains("`PodSuccessRate(%)` is 0 in all 40 rows")), "{findings:#?}");
    let skipped = doc["data_quality"]["skipped"].as_array().unwrap();
    assert!(skipped.iter().any(|s| s["column"] == "PodClientLatencyP90(s)" && s["reason"] == "NaN or infinite"));
    assert!(skipped.iter().any(|s| s["file"] == "source_50.csv" && s["reason"] == "empty"));
}

#[test]
fn text_report_is_deterministic() {
    let a = eval(&["--verbose"]);
    assert_eq!(a.status.code(), Some(0));
    let text = String::from_utf8(a.stdout.clone()).unwrap();
    assert!(text.contains("03:25:09 cartservice"), "{text}");
    assert!(text.contains("rca.cpu_saturated"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("all ") && l.contains("100.0%")), "{text}");
    // Same inputs, same report (bar the wall-clock time on the first line).
    let b = eval(&["--verbose"]);
    let strip = |o: &[u8]| String::from_utf8_lossy(o).lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&a.stdout), strip(&b.stdout));
}

#[test]
fn bad_inputs_exit_with_a_message() {
    let out =
        Command::new(env!("CARGO_BIN_EXE_healbot")).args(["eval", "nezha", "/nonexistent/nezha"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/nezha"));

    let lib = std::env::temp_dir().join(format!("healbot-eval-bad-{}.yaml", std::process::id()));
    std::fs::write(
        &lib,
        "apiVersion: healbot.dev/v1\nkind: SignatureLibrary\nmetadata: {name: x}\nspec: {signatures: [{id: a}]}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_healbot"))
        .args(["eval", "nezha"])
        .arg(repo().join("healbot-cli/tests/fixtures/nezha"))
        .arg("--library")
        .arg(&lib)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not load"));
    let _ = std::fs::remove_file(lib);
}
