//! Diagnostics rendered the way a compiler prints them: the location, the
//! message, the source line and a caret under the column.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use healbot_core::{Diagnostic, Severity};

/// Renders one diagnostic with its source line, when the source is known.
pub fn diagnostic(d: &Diagnostic, sources: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let sev = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(out, "{sev}[{}]: {}", d.kind, d.message);
    let _ = writeln!(out, "  --> {}:{}:{}", d.file, d.line, d.column);
    if let Some(line) = sources.get(&d.file).and_then(|t| t.lines().nth(d.line.saturating_sub(1) as usize)) {
        let num = d.line.to_string();
        let pad = " ".repeat(num.len());
        let caret_pad: String = line
            .chars()
            .take(d.column.saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{num} | {line}");
        let _ = writeln!(out, "{pad} | {caret_pad}^");
    }
    if !d.path.is_empty() {
        let _ = writeln!(out, "  = at: {}", d.path);
    }
    if let Some(e) = &d.expected {
        let _ = writeln!(out, "  = expected: {e}");
    }
    if let Some(f) = &d.found {
        let _ = writeln!(out, "  = found: {f}");
    }
    if let Some(s) = &d.suggestion {
        let _ = writeln!(out, "  = help: {s}");
    }
    out
}
