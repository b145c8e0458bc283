//! `healbot check PATH...`: validate any mix of documents.

use std::collections::BTreeMap;
use std::path::PathBuf;

use healbot_core::load::Loader;

use crate::files::read_documents;
use crate::{render, OutputFormat};

/// Runs the check; returns the exit code.
pub fn run(paths: &[PathBuf], format: OutputFormat) -> u8 {
    let files = match read_documents(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("healbot check: {e}");
            return 2;
        }
    };
    let mut loader = Loader::default();
    for f in &files {
        loader.add(&f.name, &f.text);
    }
    let (valid, mut diagnostics, summary) = match loader.finish() {
        Ok(loaded) => {
            let signatures = loaded.library.as_ref().map_or(0, |l| l.signatures().len());
            let actions = loaded.library.as_ref().map_or(0, |l| l.actions().len());
            let nodes = loaded.topology.as_ref().map_or(0, |t| t.len());
            let summary = Summary {
                documents: loaded.documents.len(),
                signatures,
                actions,
                nodes,
                revision: loaded.library.as_ref().map(|l| l.revision().to_string()),
            };
            (true, loaded.warnings, Some(summary))
        }
        Err(e) => (false, e.diagnostics().to_vec(), None),
    };
    diagnostics.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    match format {
        OutputFormat::Json => {
            let doc = serde_json::json!({
                "valid": valid,
                "files": files.len(),
                "summary": summary,
                "diagnostics": diagnostics,
            });
            outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        OutputFormat::Text => {
            let sources: BTreeMap<String, String> = files.into_iter().map(|f| (f.name, f.text)).collect();
            for d in &diagnostics {
                eprintln!("{}", render::diagnostic(d, &sources));
            }
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            let warnings = diagnostics.len() - errors;
            match summary {
                Some(s) => outln!(
                    "ok: {} documents, {} signatures, {} actions, {} nodes{}{}",
                    s.documents,
                    s.signatures,
                    s.actions,
                    s.nodes,
                    s.revision.map(|r| format!(", library revision {r}")).unwrap_or_default(),
                    if warnings > 0 { format!(" ({warnings} warnings)") } else { String::new() }
                ),
                None => eprintln!("invalid: {errors} errors, {warnings} warnings"),
            }
        }
    }
    if valid {
        0
    } else {
        1
    }
}

#[derive(Debug, serde::Serialize)]
struct Summary {
    documents: usize,
    signatures: usize,
    actions: usize,
    nodes: usize,
    revision: Option<String>,
}
