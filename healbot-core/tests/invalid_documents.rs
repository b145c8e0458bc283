//! Every file under `tests/data/invalid/` is an invalid document paired with
//! the diagnostics it must produce (see the README there).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::path::PathBuf;

use healbot_core::load::Loader;
use healbot_core::Diagnostic;

struct Expect {
    kind: String,
    position: Option<(u32, u32)>,
    path: String,
}

fn parse_expects(text: &str) -> Vec<Expect> {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("# expect:"))
        .map(|rest| {
            let mut parts = rest.trim().splitn(3, ' ');
            let kind = parts.next().unwrap_or("").to_string();
            let pos = parts.next().unwrap_or("?:?");
            let path = parts.next().unwrap_or("").trim().to_string();
            let position = pos.split_once(':').and_then(|(l, c)| Some((l.parse().ok()?, c.parse().ok()?)));
            Expect { kind, position, path }
        })
        .collect()
}

fn diagnostics_of(name: &str, text: &str) -> Vec<Diagnostic> {
    let mut loader = Loader::default();
    loader.add(name, text);
    match loader.finish() {
        Ok(_) => Vec::new(),
        Err(e) => e.diagnostics().to_vec(),
    }
}

#[test]
fn every_invalid_document_gives_its_expected_diagnostic() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/invalid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "the suite needs at least 40 cases, has {}", files.len());
    let bless = std::env::var_os("HEALBOT_BLESS").is_some();
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(file).unwrap();
        let expects = parse_expects(&text);
        assert!(!expects.is_empty(), "{name}: no `# expect:` line");
        let diags = diagnostics_of(&name, &text);
        if diags.is_empty() {
            failures.push(format!("{name}: loaded without errors"));
            continue;
        }
        let mut blessed = text.clone();
        for ex in &expects {
            let found = diags.iter().find(|d| {
                (ex.kind.is_empty() || d.kind.code() == ex.kind)
                    && d.path == ex.path
                    && ex.position.is_none_or(|(l, c)| (d.line, d.column) == (l, c))
            });
            match found {
                Some(d) => {
                    assert_eq!(d.file, name);
                    if bless && ex.position.is_none() {
                        let old = format!("# expect: {} ?:? {}", ex.kind, ex.path);
                        let new = format!("# expect: {} {}:{} {}", d.kind.code(), d.line, d.column, ex.path);
                        blessed = blessed.replacen(old.trim_end(), new.trim_end(), 1);
                    }
                    if ex.position.is_none() && !bless {
                        failures.push(format!("{name}: expectation has no position; got {d}"));
                    }
                }
                None => failures.push(format!(
                    "{name}: expected {} at {:?} path `{}`, got:\n    {}",
                    ex.kind,
                    ex.position,
                    ex.path,
                    diags.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n    ")
                )),
            }
        }
        if bless && blessed != text {
            std::fs::write(file, blessed).unwrap();
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), files.len(), failures.join("\n"));
}

#[test]
fn several_errors_in_one_document_are_all_reported() {
    let text = r#"
apiVersion: healbot.dev/v1
kind: SignatureLibrary
metadata: {name: t}
spec:
  signatures:
    - {id: a, title: A, category: eror, severity: warning, match: {alert: {name: X}}}
    - {id: b, title: B, category: errors, severity: warning, match: {all: []}}
    - {id: c, title: C, category: errors, severity: warning, match: {alert: {name: X}}, actions: [nope]}
"#;
    let diags = diagnostics_of("multi.yaml", text);
    let kinds: Vec<&str> = diags.iter().map(|d| d.kind.code()).collect();
    assert!(kinds.contains(&"invalid-value"), "{kinds:?}");
    assert!(kinds.contains(&"invalid"), "{kinds:?}");
    assert!(kinds.contains(&"unknown-reference"), "{kinds:?}");
}
