//! `healbot explain FILE`: one decision (or every decision of an NDJSON
//! stream, or those with `--id`/`--node`) rendered for a person.

use std::path::Path;

use healbot_core::Decision;

use crate::show;

/// Reads decision documents: one JSON document, or one per line (NDJSON, as
/// `healbot replay --format json` writes them).
///
/// # Errors
///
/// `(exit code, message)`: 2 when the file cannot be read, 1 when it holds no
/// valid decision document (with the line of the first bad one).
pub fn read_decisions(path: &Path) -> Result<Vec<Decision>, (u8, String)> {
    let text = std::fs::read_to_string(path).map_err(|e| (2, format!("{}: {e}", path.display())))?;
    if let Ok(d) = Decision::from_json(&text) {
        return Ok(vec![d]);
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match Decision::from_json(line) {
            Ok(d) => out.push(d),
            Err(e) => return Err((1, format!("{}:{}: {}", path.display(), i + 1, e.message()))),
        }
    }
    if out.is_empty() {
        return Err((1, format!("{}: no decision document", path.display())));
    }
    Ok(out)
}

/// Runs `healbot explain`; returns the exit code.
pub fn run(path: &Path, id: Option<&str>, node: Option<&str>, json: bool) -> u8 {
    let decisions = match read_decisions(path) {
        Ok(d) => d,
        Err((code, msg)) => {
            eprintln!("healbot explain: {msg}");
            return code;
        }
    };
    let chosen: Vec<&Decision> =
        decisions.iter().filter(|d| id.is_none_or(|i| d.id == i) && node.is_none_or(|n| d.node == n)).collect();
    if chosen.is_empty() {
        eprintln!("healbot explain: no decision in {} matches the filter", path.display());
        return 1;
    }
    let mut out = String::new();
    for (i, d) in chosen.iter().enumerate() {
        if i > 0 {
            out.push_str("\n────────\n\n");
        }
        if json {
            out.push_str(&serde_json::to_string_pretty(d).unwrap_or_default());
            out.push('\n');
        } else {
            out.push_str(&show::explain(d));
        }
    }
    out!("{out}");
    0
}
