//! Reading the documents named on the command line.

use std::path::{Path, PathBuf};

/// A document file read from disk.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as shown in diagnostics.
    pub name: String,
    /// The text.
    pub text: String,
}

fn is_document(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    // Sorted, so diagnostics and load order never depend on the file system.
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if is_document(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Expands directories to the documents below them and reads every file.
///
/// # Errors
///
/// A message naming the path that could not be read.
pub fn read_documents(paths: &[PathBuf]) -> Result<Vec<SourceFile>, String> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut files).map_err(|e| format!("{}: {e}", p.display()))?;
        } else {
            files.push(p.clone());
        }
    }
    files
        .into_iter()
        .map(|p| {
            std::fs::read_to_string(&p)
                .map(|text| SourceFile { name: p.display().to_string(), text })
                .map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect()
}
