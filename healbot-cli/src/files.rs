//! Reading the documents named on the command line.

use std::collections::BTreeSet;
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

/// Appends the files below `dir` that `keep` accepts, depth first. A
/// directory reached again through a symbolic link (a link back up the
/// tree, or two links to one place) is read once: a link loop would
/// otherwise be walked without end.
///
/// # Errors
///
/// The first directory that could not be listed.
pub fn walk(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    walk_once(dir, keep, out, &mut BTreeSet::new())
}

fn walk_once(
    dir: &Path,
    keep: &dyn Fn(&Path) -> bool,
    out: &mut Vec<PathBuf>,
    seen: &mut BTreeSet<PathBuf>,
) -> std::io::Result<()> {
    if !seen.insert(std::fs::canonicalize(dir)?) {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    // Sorted, so diagnostics and load order never depend on the file system.
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk_once(&p, keep, out, seen)?;
        } else if keep(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// `paths` with each directory replaced by the files below it that `keep`
/// accepts; files named directly are kept whatever their name.
///
/// # Errors
///
/// A message naming the directory that could not be listed.
pub fn expand(paths: &[PathBuf], keep: &dyn Fn(&Path) -> bool) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, keep, &mut out).map_err(|e| format!("{}: {e}", p.display()))?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Expands directories to the documents below them and reads every file.
///
/// # Errors
///
/// A message naming the path that could not be read.
pub fn read_documents(paths: &[PathBuf]) -> Result<Vec<SourceFile>, String> {
    expand(paths, &is_document)?
        .into_iter()
        .map(|p| {
            std::fs::read_to_string(&p)
                .map(|text| SourceFile { name: p.display().to_string(), text })
                .map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect()
}
