//! `healbot check` and `healbot schema`: exit codes and output formats.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::path::PathBuf;
use std::process::Command;

fn healbot() -> Command {
    Command::new(env!("CARGO_BIN_EXE_healbot"))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("healbot-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn valid_examples_exit_zero() {
    let out = healbot().arg("check").arg(repo().join("examples")).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok:"));
}

#[test]
fn invalid_document_exits_one_with_a_caret() {
    let p = tmp(
        "bad.yaml",
        "apiVersion: healbot.dev/v1\nkind: Topology\nmetadata: {name: t}\nspec:\n  nodes:\n    - {id: api, kind: service, depends_on: [dbb]}\n    - {id: db, kind: database}\n",
    );
    let out = healbot().arg("check").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[unknown-reference]"), "{err}");
    assert!(err.contains(":6:"), "{err}");
    assert!(err.contains('^'), "{err}");
    assert!(err.contains("did you mean `db`?"), "{err}");
}

#[test]
fn json_format_lists_diagnostics() {
    let p =
        tmp("bad2.yaml", "apiVersion: healbot.dev/v1\nkind: ActionLibrary\nmetadata: {name: a}\nspec: {actons: []}\n");
    let out = healbot().args(["check", "--format", "json"]).arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["valid"], false);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["kind"], "unknown-field");
    assert_eq!(d["line"], 4);
    assert_eq!(d["path"], "spec.actons");
    assert_eq!(d["suggestion"], "did you mean `actions`?");
}

#[test]
fn missing_file_and_bad_usage_exit_two() {
    let out = healbot().args(["check", "/nonexistent/healbot.yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = healbot().arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = healbot().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = healbot().args(["schema", "Nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn schema_prints_the_committed_schema() {
    for kind in ["SignatureLibrary", "ActionLibrary", "Topology", "Overrides", "Decision"] {
        let out = healbot().args(["schema", kind]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let committed = std::fs::read_to_string(repo().join("schema").join(format!("{kind}.json"))).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), committed, "{kind}");
    }
}

/// A library folder with symbolic links back up the tree (two to itself,
/// one to its parent) is read once, each document once: the walk used to
/// follow the links without end (two links to `.` double the paths at every
/// level).
#[cfg(unix)]
#[test]
fn symbolic_link_loops_are_walked_once() {
    let dir = std::env::temp_dir().join(format!("healbot-cli-loop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let lib = dir.join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::copy(repo().join("examples/shop/actions.yaml"), lib.join("actions.yaml")).unwrap();
    for (link, to) in [("self", "."), ("again", "."), ("up", "..")] {
        std::os::unix::fs::symlink(to, lib.join(link)).unwrap();
    }
    let out = healbot().arg("check").arg(&dir).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("ok: 1 document"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}
