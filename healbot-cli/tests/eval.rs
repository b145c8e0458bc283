//! `healbot eval nezha` end to end on a synthetic Nezha-shaped folder
//! (tests/fixtures/nezha/: three services, one fault, the real day's
//! data-quality faults, files named by its manifest), with the shipped
//! general library.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Output;

use common::{healbot, repo, tmpdir};

fn fixture() -> std::path::PathBuf {
    repo().join("healbot-cli/tests/fixtures/nezha")
}

fn eval_dir(dir: &Path, args: &[&str]) -> Output {
    healbot()
        .args(["eval", "nezha"])
        .arg(dir)
        .arg("--library")
        .arg(repo().join("library/rca-general.yaml"))
        .args(args)
        .output()
        .unwrap()
}

fn eval(args: &[&str]) -> Output {
    eval_dir(&fixture(), args)
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
        findings
            .iter()
            .any(|f| f.starts_with("synthetic-pod-currencyservice.csv: `TimeStamp` is off")
                && f.contains("+199999999 s")),
        "{findings:#?}"
    );
    assert!(findings.iter().any(|f| f.contains("`PodSuccessRate(%)` is 0 in all 40 rows")), "{findings:#?}");
    let skipped = doc["data_quality"]["skipped"].as_array().unwrap();
    assert!(skipped.iter().any(|s| s["column"] == "PodClientLatencyP90(s)" && s["reason"] == "NaN or infinite"));
    assert!(skipped.iter().any(|s| s["file"] == "synthetic-edges-caller.csv" && s["reason"] == "empty"));
}

/// The manifest's files laid out under the dataset's own names, without a
/// manifest: the discovery `healbot eval nezha` uses on the real corpus.
#[test]
fn finds_the_files_by_the_dataset_names_without_a_manifest() {
    let dir = tmpdir("eval-nezha-layout");
    std::fs::create_dir(dir.join("metric")).unwrap();
    let layout = [
        ("synthetic-faults.json", "2022-08-22-fault_list.json"),
        ("synthetic-calls.csv", "metric/dependency.csv"),
        ("synthetic-front.csv", "metric/front_service.csv"),
        ("synthetic-edges-caller.csv", "metric/source_50.csv"),
        ("synthetic-edges-callee.csv", "metric/destination_50.csv"),
        ("synthetic-pod-frontend.csv", "metric/frontend-6b8c7d9f5b-abcde_metric.csv"),
        ("synthetic-pod-cartservice.csv", "metric/cartservice-7c9d6f8b4d-fghij_metric.csv"),
        ("synthetic-pod-currencyservice.csv", "metric/currencyservice-5d7f9c6b8d-klmno_metric.csv"),
    ];
    for (from, to) in layout {
        std::fs::copy(fixture().join(from), dir.join(to)).unwrap();
    }
    let by_manifest = eval(&["--verbose"]);
    let by_names = eval_dir(&dir, &["--verbose"]);
    assert_eq!(by_names.status.code(), Some(0), "{}", String::from_utf8_lossy(&by_names.stderr));
    // The same report but for the first line (folder, wall-clock time) and the file names.
    let normalise = |o: &[u8]| {
        let mut text = String::from_utf8_lossy(o).lines().skip(1).collect::<Vec<_>>().join("\n");
        for (from, to) in layout {
            text = text.replace(to.trim_start_matches("metric/"), from);
        }
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        lines.join("\n")
    };
    assert_eq!(normalise(&by_names.stdout), normalise(&by_manifest.stdout));
    assert!(String::from_utf8_lossy(&by_names.stdout).contains("currencyservice-5d7f9c6b8d-klmno_metric.csv"));
    let _ = std::fs::remove_dir_all(dir);
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
    let out = healbot().args(["eval", "nezha", "/nonexistent/nezha"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/nezha"));

    let dir = tmpdir("eval-bad-manifest");
    std::fs::write(dir.join("manifest.json"), r#"{"faults": "f.json", "metrics": "m.csv"}"#).unwrap();
    let out = eval_dir(&dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a dataset manifest"));
    let _ = std::fs::remove_dir_all(dir);

    let lib = std::env::temp_dir().join(format!("healbot-eval-bad-{}.yaml", std::process::id()));
    std::fs::write(
        &lib,
        "apiVersion: healbot.dev/v1\nkind: SignatureLibrary\nmetadata: {name: x}\nspec: {signatures: [{id: a}]}\n",
    )
    .unwrap();
    let out = healbot().args(["eval", "nezha"]).arg(fixture()).arg("--library").arg(&lib).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not load"));
    let _ = std::fs::remove_file(lib);
}
