//! Helpers shared by the command tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests opt back in

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn healbot() -> Command {
    Command::new(env!("CARGO_BIN_EXE_healbot"))
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fresh directory for one test.
pub fn tmpdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("healbot-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn run(args: &[&str]) -> Output {
    healbot().args(args).current_dir(repo()).output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `replay` of the shop scenario with extra arguments.
pub fn replay_shop(extra: &[&str]) -> Output {
    let mut args = vec![
        "replay",
        "--library",
        "examples/shop/",
        "--topology",
        "examples/shop/topology.yaml",
        "examples/shop/telemetry/",
    ];
    args.extend_from_slice(extra);
    run(&args)
}
