//! Rendering decisions and evidence for people: shared by `test`, `replay`
//! and `explain`.

use std::fmt::Write as _;

use healbot_core::decision::RootRole;
use healbot_core::diagnosis::{EvidenceItem, Role};
use healbot_core::Decision;

/// A number as people read it: integers without a fraction, others with up
/// to four decimals, trailing zeros dropped.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "0" || s == "-0" {
        format!("{v:.2e}")
    } else {
        s.to_string()
    }
}

/// `✓`/`✗`, the predicate, and observed vs threshold.
pub fn evidence_line(e: &EvidenceItem) -> String {
    let mark = if e.satisfied { "✓" } else { "✗" };
    let mut s = format!("{mark} {}", e.about.predicate);
    let observed = e.observed.map_or_else(|| "no data".to_string(), num);
    match (e.about.op, e.about.threshold) {
        (Some(op), Some(t)) => {
            let _ = write!(s, ": observed {observed}, needs {op} {}", num(t));
        }
        _ => {
            if e.observed.is_some() {
                let _ = write!(s, ": observed {observed}");
            }
        }
    }
    if let Some(n) = &e.note {
        let _ = write!(s, " ({n})");
    }
    match e.role {
        Role::Evidence(w) => {
            let _ = write!(s, " [evidence, weight {}{}]", if w >= 0.0 { "+" } else { "" }, num(w));
        }
        Role::Exception => s.push_str(" [exception]"),
        Role::Required => {}
    }
    if let Some(id) = &e.about.id {
        let _ = write!(s, " #{id}");
    }
    s
}

/// The signature id of a decision, or `(inferred suspect)`.
pub fn signature_of(d: &Decision) -> &str {
    d.signature.as_ref().map_or("(inferred suspect)", |s| s.id.as_str())
}

/// The root-cause column: `root #1`, `symptom of redis-cart`, `suspect`.
pub fn root_of(d: &Decision) -> String {
    match d.root_cause.role {
        RootRole::Root => d.root_cause.rank.map_or_else(|| "root".to_string(), |r| format!("root #{r}")),
        RootRole::Symptom => format!("symptom of {}", d.root_cause.node),
        RootRole::InferredSuspect => "inferred suspect".to_string(),
    }
}

/// The action column: `failover_database → redis-cart`, or `-`.
pub fn action_of(d: &Decision) -> String {
    d.action.as_ref().map_or_else(|| "-".to_string(), |a| format!("{} → {}", a.id, a.target))
}

/// One line per decision, for summaries and test reports.
pub fn decision_brief(d: &Decision) -> String {
    format!(
        "{} on {}: {} ({}, confidence {:.2}, action {})",
        signature_of(d),
        d.node,
        d.verdict.as_str(),
        root_of(d),
        d.confidence.value,
        action_of(d)
    )
}

/// The strings in first-seen order without repeats (a root explains a node
/// once even when the node has several diagnoses).
pub fn distinct(items: &[healbot_core::Name]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !out.contains(&i.as_str()) {
            out.push(i);
        }
    }
    out
}

/// Pads a table: every column as wide as its widest cell, two spaces apart.
pub fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                let pad = widths[i] - c.chars().count();
                let _ = write!(line, "{c}{}  ", " ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The full rendering of one decision for a person (`healbot explain`).
pub fn explain(d: &Decision) -> String {
    let mut s = String::new();
    let title = d.signature.as_ref().map_or_else(
        || "an undiagnosed dependency shared by failing nodes".to_string(),
        |sig| format!("{} — {}", sig.id, sig.title),
    );
    let _ = writeln!(s, "Decision {} on {}: {}", d.id, d.node, d.verdict.as_str().to_uppercase());
    let _ = writeln!(s, "  {title}");
    if let Some(sig) = &d.signature {
        let _ = writeln!(s, "  category {}, severity {}, status {}", sig.category, sig.severity, sig.status);
    }
    let _ = writeln!(
        s,
        "  at {} (onset {}), library revision {}",
        crate::testfile::format_time(d.at),
        crate::testfile::format_time(d.onset),
        d.library_revision
    );
    if !d.reasons.is_empty() {
        let _ = writeln!(s, "\nWhy {}:", d.verdict.as_str());
        for r in &d.reasons {
            let _ = writeln!(s, "  - {r}");
        }
    }
    let _ = writeln!(s, "\nRoot cause:");
    let rc = &d.root_cause;
    match rc.role {
        RootRole::Root => {
            let _ = write!(s, "  {} is a root cause", rc.node);
            if let Some(r) = rc.rank {
                let _ = write!(s, " (rank {r}");
                if let Some(sc) = rc.score {
                    let _ = write!(s, ", score {}", num(sc));
                }
                s.push(')');
            }
            s.push('\n');
            if !rc.explains.is_empty() {
                let _ = writeln!(s, "  it explains failures on {}", distinct(&rc.explains).join(", "));
            }
        }
        RootRole::Symptom => {
            let _ = writeln!(
                s,
                "  a symptom of {}{}",
                rc.node,
                rc.signature.as_ref().map(|x| format!(" ({x})")).unwrap_or_default()
            );
            if !rc.path.is_empty() {
                let _ = writeln!(s, "  path: {}", rc.path.join(" → "));
            }
        }
        RootRole::InferredSuspect => {
            let nodes = distinct(&rc.explains);
            let _ = writeln!(s, "  inferred suspect shared by {} failing nodes: {}", nodes.len(), nodes.join(", "));
        }
    }
    let _ = writeln!(s, "\nConfidence {:.3} (log-odds {}):", d.confidence.value, num(d.confidence.log_odds));
    let rows: Vec<Vec<String>> = d
        .confidence
        .terms()
        .iter()
        .map(|t| {
            vec![
                format!("  {}", t.name),
                format!("{}{}", if t.value >= 0.0 { "+" } else { "" }, num(t.value)),
                t.detail.clone(),
            ]
        })
        .collect();
    s.push_str(&table(&rows));
    let required: Vec<&EvidenceItem> = d.evidence.iter().filter(|e| matches!(e.role, Role::Required)).collect();
    let other: Vec<&EvidenceItem> = d.evidence.iter().filter(|e| !matches!(e.role, Role::Required)).collect();
    if !required.is_empty() {
        let _ = writeln!(s, "\nMatch (required):");
        for e in required {
            let _ = writeln!(s, "  {}  {}", e.about.path, evidence_line(e));
        }
    }
    if !other.is_empty() {
        let _ = writeln!(s, "\nEvidence:");
        for e in other {
            let _ = writeln!(s, "  {}  {}", e.about.path, evidence_line(e));
        }
    }
    let _ = writeln!(s, "\nAction:");
    match &d.action {
        Some(a) => {
            let _ = writeln!(
                s,
                "  {} ({}) on {}, risk {}, needs confidence {}",
                a.id,
                a.operation,
                a.target,
                a.risk,
                num(a.min_confidence)
            );
            if !a.parameters.is_empty() {
                let params: Vec<String> = a.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let _ = writeln!(s, "  parameters: {}", params.join(", "));
            }
            if !a.guards_passed.is_empty() {
                let _ = writeln!(s, "  guards passed: {}", a.guards_passed.join(", "));
            }
        }
        None => {
            let _ = writeln!(s, "  none chosen");
        }
    }
    for r in &d.rejected {
        let _ =
            writeln!(s, "  rejected {}{}:", r.id, r.target.as_ref().map(|t| format!(" on {t}")).unwrap_or_default());
        for f in &r.failed {
            let mut line = format!("    ✗ {}: {}", f.guard, f.reason);
            if let (Some(o), Some(l)) = (f.observed, f.limit) {
                let _ = write!(line, " (observed {}, limit {})", num(o), num(l));
            }
            let _ = writeln!(s, "{line}");
        }
    }
    let _ = writeln!(s, "\n{}", d.explain());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.95), "0.95");
        assert_eq!(num(1.0 / 3.0), "0.3333");
        assert_eq!(num(0.00001), "1.00e-5");
        assert_eq!(num(f64::INFINITY), "+Inf");
    }

    #[test]
    fn tables_align() {
        let t = table(&[vec!["a".into(), "bb".into(), "c".into()], vec!["aaa".into(), "b".into(), "c".into()]]);
        assert_eq!(t, "a    bb  c\naaa  b   c\n");
    }
}
