//! Load → serialise → load gives an equal value, for every bundled document,
//! through JSON and back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::path::PathBuf;

use healbot_core::load::Loader;
use healbot_core::spec::Document;

fn documents(dir: &str) -> Vec<(String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flat_map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()).collect::<Vec<_>>()
            } else {
                vec![p]
            }
        })
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files.into_iter().map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap())).collect()
}

fn load(sources: &[(String, String)]) -> Vec<Document> {
    let mut loader = Loader::default();
    for (name, text) in sources {
        loader.add(name, text);
    }
    loader.finish().unwrap().documents
}

#[test]
fn examples_round_trip_through_json() {
    let sources = documents("examples");
    assert!(!sources.is_empty());
    let first = load(&sources);
    let as_json: Vec<(String, String)> = first
        .iter()
        .enumerate()
        .map(|(i, d)| (format!("doc{i}.json"), serde_json::to_string_pretty(d).unwrap()))
        .collect();
    let second = load(&as_json);
    assert_eq!(first, second);
    // And the compiled library has the same revision either way.
    let rev = |s: &[(String, String)]| {
        let mut l = Loader::default();
        for (n, t) in s {
            l.add(n, t);
        }
        l.finish().unwrap().library.unwrap().revision().to_string()
    };
    assert_eq!(rev(&sources), rev(&as_json));
}
