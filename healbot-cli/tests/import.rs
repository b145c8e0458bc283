//! `healbot import prometheus`: fixtures under tests/fixtures/import/ cover a
//! plain rule file, a PrometheusRule resource, empty and null groups, every
//! translatable expression shape and untranslatable ones with their warnings.
//! Every generated library must load and compile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

use healbot_core::load::Loader;
use healbot_core::matcher::Program;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(name)
}

fn import(args: &[&str], files: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_healbot"));
    cmd.args(["import", "prometheus"]).args(args);
    for f in files {
        cmd.arg(fixture(f));
    }
    cmd.output().unwrap()
}

/// Imports as JSON and returns the document, the YAML text of the same
/// import, and stderr.
fn import_ok(files: &[&str]) -> (Value, String, String) {
    let json = import(&["--format", "json"], files);
    assert_eq!(json.status.code(), Some(0), "{}", String::from_utf8_lossy(&json.stderr));
    let yaml = import(&[], files);
    assert_eq!(yaml.status.code(), Some(0));
    (
        serde_json::from_slice(&json.stdout).unwrap(),
        String::from_utf8(yaml.stdout).unwrap(),
        String::from_utf8(yaml.stderr).unwrap(),
    )
}

fn signature<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["spec"]["signatures"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("no {id}"))
}

/// The translated half of `match: {any: [alert, translated]}`.
fn translated<'a>(doc: &'a Value, id: &str) -> &'a Value {
    let m = &signature(doc, id)["match"];
    assert!(m["any"][0]["alert"]["name"].as_str().is_some(), "{m}");
    &m["any"][1]
}

fn loads(name: &str, text: &str) -> healbot_core::Library {
    let mut loader = Loader::default();
    loader.add(name, text);
    let loaded = loader.finish().unwrap_or_else(|e| panic!("{name} does not load: {:#?}\n{text}", e.diagnostics()));
    let library = loaded.library.unwrap();
    Program::compile(&library).unwrap();
    library
}

#[test]
fn plain_rule_file() {
    let (doc, yaml, stderr) = import_ok(&["plain.yml"]);
    let sigs = doc["spec"]["signatures"].as_array().unwrap();
    // 10 alerting rules (one recording rule skipped), ids unique.
    assert_eq!(sigs.len(), 10, "{doc:#}");
    assert!(stderr.contains("imported 10 alerting rules from 1 files"), "{stderr}");
    assert!(stderr.contains("1 recording rules skipped"), "{stderr}");
    assert!(stderr.contains("8 with metric predicates, 2 alert-only"), "{stderr}");

    let s = signature(&doc, "shop_rules.high_error_rate");
    assert_eq!(s["severity"], "critical");
    assert_eq!(s["for"], "5m");
    assert_eq!(s["title"], "High error rate on {{ $labels.instance }}");
    assert!(s["description"].as_str().unwrap().starts_with("{{ $value }} errors/s\n  LABELS = {{ $labels }}"));
    assert_eq!(s["runbook_url"], "https://runbooks.example/high-error-rate");
    assert_eq!(s["tags"], serde_json::json!(["prometheus", "team=shop"]));
    assert_eq!(s["category"], "errors");
    let m = &translated(&doc, "shop_rules.high_error_rate")["metric"];
    assert_eq!(m["agg"], "rate");
    assert_eq!(m["window"], "5m");
    assert_eq!(m["labels"], serde_json::json!([r#"code=~"5..""#]));
    assert_eq!((m["op"].as_str(), m["threshold"].as_f64()), (Some(">"), Some(0.5)));
    assert_eq!(m["id"], "expr");

    // The same group and alert name again: deduplicated id.
    assert!(sigs.iter().any(|s| s["id"] == "shop_rules.high_error_rate_2"));

    // Multi-line expression, threshold folded (100 * x > 90 → x > 0.9), no `for`.
    let s = signature(&doc, "shop_rules.cpu_hot");
    assert!(s.get("for").is_none());
    let m = &translated(&doc, "shop_rules.cpu_hot")["metric"];
    assert_eq!(
        (m["agg"].as_str(), m["window"].as_str(), m["threshold"].as_f64()),
        (Some("avg"), Some("10m"), Some(0.9))
    );

    // Selector compared: last value over Prometheus's 5m lookback.
    let m = &translated(&doc, "shop_rules.target_down")["metric"];
    assert_eq!((m["name"].as_str(), m["op"].as_str(), m["window"].as_str()), (Some("up"), Some("=="), Some("5m")));
    assert_eq!(m["labels"], serde_json::json!([r#"job="api""#]));
    assert_eq!(signature(&doc, "shop_rules.target_down")["category"], "unavailable");

    // absent → absent; info severity.
    let a = &translated(&doc, "shop_rules.exporter_missing")["absent"];
    assert_eq!((a["metric"].as_str(), a["for"].as_str()), (Some("up"), Some("5m")));
    assert_eq!(signature(&doc, "shop_rules.exporter_missing")["severity"], "info");

    // predict_linear → forecast, horizon folded from 4 * 3600.
    let f = &translated(&doc, "shop_rules.disk_will_fill")["forecast"];
    assert_eq!((f["window"].as_str(), f["within"].as_str(), f["op"].as_str()), (Some("1h"), Some("4h"), Some("<")));
    assert_eq!(signature(&doc, "shop_rules.disk_will_fill")["category"], "capacity");

    // and → all, or → any, with numbered predicate ids.
    let all = translated(&doc, "shop_rules.queue_stuck")["all"].as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!((all[0]["metric"]["agg"].as_str(), all[0]["metric"]["id"].as_str()), (Some("increase"), Some("expr_1")));
    assert_eq!((all[1]["metric"]["agg"].as_str(), all[1]["metric"]["op"].as_str()), (Some("max"), Some(">=")));
    let any = translated(&doc, "shop_rules.slow_or_failing")["any"].as_array().unwrap();
    assert_eq!((any[0]["metric"]["agg"].as_str(), any[0]["metric"]["q"].as_f64()), (Some("quantile"), Some(0.99)));
    assert_eq!(any[1]["metric"]["agg"], "rate");
    assert!(signature(&doc, "shop_rules.slow_or_failing")["description"].as_str().unwrap().contains("irate"));

    // Untranslatable: alert-only, with a warning naming file, group, rule and reason.
    let s = signature(&doc, "shop_rules.memory_ratio_high");
    assert_eq!(s["match"], serde_json::json!({"alert": {"name": "MemoryRatioHigh"}}));
    assert!(stderr.contains("plain.yml: group `shop.rules`, rule `MemoryRatioHigh`: alert-only: binary operation `/` between two vectors"), "{stderr}");
    assert!(stderr.contains("rule `WeirdSeverity`: alert-only: aggregation `sum by (instance)`"), "{stderr}");
    assert!(stderr.contains("rule `WeirdSeverity`: unknown severity `disaster`; imported as warning"), "{stderr}");
    assert_eq!(signature(&doc, "shop_rules.weird_severity")["severity"], "warning");
    assert!(stderr.contains("rule `HighErrorRate`: no `severity` label"), "{stderr}");

    // Empty and null rule lists are counted, not errors.
    assert!(stderr.contains("group `empty-group` has no rules"), "{stderr}");
    assert!(stderr.contains("group `null-group` has no rules"), "{stderr}");

    // Both spellings load and compile, and mean the same.
    let from_yaml = loads("plain.yaml", &yaml);
    let from_json = loads("plain.json", &serde_json::to_string(&doc).unwrap());
    assert_eq!(from_yaml.signatures(), from_json.signatures());
}

#[test]
fn prometheus_rule_resource_and_several_files() {
    let (doc, yaml, stderr) = import_ok(&["prometheusrule.yaml"]);
    let m = &translated(&doc, "cart.cart_latency_high")["metric"];
    assert_eq!((m["agg"].as_str(), m["window"].as_str()), (Some("slope"), Some("15m")));
    assert_eq!(signature(&doc, "cart.cart_latency_high")["title"], "Cart latency is rising");
    assert!(stderr.contains("document 2: neither a rule file"), "{stderr}");
    loads("cr.yaml", &yaml);

    // Several files make one library with ids unique across them.
    let (doc, yaml, _) = import_ok(&["plain.yml", "prometheusrule.yaml"]);
    assert_eq!(doc["spec"]["signatures"].as_array().unwrap().len(), 11);
    assert_eq!(loads("all.yaml", &yaml).signatures().len(), 11);
}

#[test]
fn output_file_and_check_flag() {
    let out = std::env::temp_dir().join(format!("healbot-import-test-{}.yaml", std::process::id()));
    let o = import(&["-q", "--check", "--name", "shop", "-o", out.to_str().unwrap()], &["plain.yml"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("check: 10 signatures load in"), "{stderr}");
    assert!(!stderr.contains("warning:"), "-q hides warnings: {stderr}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("name: shop\n"), "{text}");
    let check = Command::new(env!("CARGO_BIN_EXE_healbot")).arg("check").arg(&out).output().unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", String::from_utf8_lossy(&check.stderr));
    let _ = std::fs::remove_file(out);
}

#[test]
fn malformed_rules_are_located_errors() {
    let o = import(&[], &["broken.yml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("a rule needs an `expr`"), "{stderr}");
    assert!(stderr.contains("broken.yml:4:"), "{stderr}");
    assert!(stderr.contains("groups[0].rules[0]"), "{stderr}");

    let o = import(&[], &["does-not-exist.yml"]);
    assert_eq!(o.status.code(), Some(2));
}
