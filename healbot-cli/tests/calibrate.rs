//! `healbot calibrate`: deterministic, scored, and writes a PNG.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::process::Command;

fn calibrate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_healbot")).arg("calibrate").args(args).output().unwrap()
}

#[test]
fn same_seed_same_report_and_a_valid_png() {
    let png = std::env::temp_dir().join(format!("healbot-reliability-{}.png", std::process::id()));
    let a = calibrate(&["--incidents", "40", "--seed", "3", "--format", "json", "--png", png.to_str().unwrap()]);
    assert_eq!(a.status.code(), Some(0), "{}", String::from_utf8_lossy(&a.stderr));
    let b = calibrate(&["--incidents", "40", "--seed", "3", "--format", "json"]);
    assert_eq!(a.stdout, b.stdout);
    let report: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    let brier = report["brier"].as_f64().unwrap();
    let top1 = report["top1"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&brier));
    assert!(top1 > 0.5, "root-cause top-1 collapsed: {top1}");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
}
