//! `healbot graph`: the topology as Graphviz DOT, with a node's blast radius
//! and the root-cause paths of a decision stream highlighted; SVG or PNG when
//! the `dot` program is installed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use healbot_core::decision::RootRole;
use healbot_core::spec::NodeKind;
use healbot_core::{Decision, Topology, Verdict};

/// Runs `healbot graph`; returns the exit code.
pub fn run(topology: &Path, highlight: Option<&str>, decisions: Option<&Path>, output: Option<&Path>) -> u8 {
    let name = topology.display().to_string();
    let text = match std::fs::read_to_string(topology) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("healbot graph: {name}: {e}");
            return 2;
        }
    };
    let topo = match Topology::from_text(&name, &text) {
        Ok(t) => t,
        Err(e) => {
            let map: BTreeMap<String, String> = [(name.clone(), text.clone())].into_iter().collect();
            for d in e.diagnostics() {
                eprintln!("{}", crate::render::diagnostic(d, &map));
            }
            eprintln!("healbot graph: the topology does not load: {}", e.message());
            return 1;
        }
    };
    if let Some(h) = highlight {
        if topo.lookup(h).is_none() {
            eprintln!("healbot graph: --highlight: no node `{h}` in the topology");
            return 2;
        }
    }
    let decisions = match decisions.map(crate::explain::read_decisions).transpose() {
        Ok(d) => d.unwrap_or_default(),
        Err((code, msg)) => {
            eprintln!("healbot graph: {msg}");
            return code;
        }
    };
    // A replay stream holds every change of a decision: keep the last of each.
    let mut latest: BTreeMap<(String, String), Decision> = BTreeMap::new();
    for d in decisions {
        latest.insert((d.node.to_string(), crate::show::signature_of(&d).to_string()), d);
    }
    let decisions: Vec<Decision> = latest.into_values().collect();
    let dot = render(&topo, highlight, &decisions);
    let Some(output) = output else {
        out!("{dot}");
        return 0;
    };
    let ext = output.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg" | "png") => match graphviz(&dot, ext.as_deref().unwrap_or("svg"), output) {
            Ok(()) => 0,
            Err(msg) => {
                let fallback = output.with_extension("dot");
                let _ = std::fs::write(&fallback, &dot);
                eprintln!("healbot graph: {msg}; wrote the DOT source to {}", fallback.display());
                2
            }
        },
        _ => match std::fs::write(output, &dot) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("healbot graph: {}: {e}", output.display());
                2
            }
        },
    }
}

fn graphviz(dot: &str, format: &str, output: &Path) -> Result<(), String> {
    let mut child = Command::new("dot")
        .arg(format!("-T{format}"))
        .arg("-o")
        .arg(PathBuf::from(output))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run Graphviz `dot` ({e}); install graphviz for SVG and PNG"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(dot.as_bytes()).map_err(|e| format!("writing to dot: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("dot: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("dot failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn shape(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Database | NodeKind::Cache => "cylinder",
        NodeKind::Queue => "cds",
        NodeKind::Host => "box3d",
        NodeKind::Pod => "ellipse",
        NodeKind::LoadBalancer => "trapezium",
        NodeKind::External => "doubleoctagon",
        _ => "box",
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn quote(s: &str) -> String {
    format!("\"{}\"", escape(s))
}

/// The DOT text: nodes by kind, `depends_on` solid, `runs_on` dashed,
/// `replicates` dotted; the highlighted node red and its blast radius
/// orange; decisions colour nodes by verdict and draw root-cause paths red.
pub fn render(topo: &Topology, highlight: Option<&str>, decisions: &[Decision]) -> String {
    let mut blast: BTreeSet<String> = BTreeSet::new();
    let mut focus: Option<String> = None;
    if let Some(h) = highlight.and_then(|h| topo.lookup(h)) {
        let mut scratch = topo.traversal();
        focus = Some(topo.node(h).id().to_string());
        for d in topo.dependents(h, &mut scratch) {
            blast.insert(topo.node(*d).id().to_string());
        }
    }
    // Per node: the most important decision (root first, then by verdict).
    let mut by_node: BTreeMap<&str, Vec<&Decision>> = BTreeMap::new();
    let mut path_edges: BTreeSet<(String, String)> = BTreeSet::new();
    for d in decisions {
        by_node.entry(d.node.as_str()).or_default().push(d);
        if d.root_cause.role == RootRole::Symptom {
            for w in d.root_cause.path.windows(2) {
                path_edges.insert((w[0].to_string(), w[1].to_string()));
            }
        }
    }
    let mut s = String::new();
    let _ = writeln!(s, "digraph topology {{");
    let _ = writeln!(s, "  rankdir=LR;");
    let _ = writeln!(s, "  node [fontname=\"Helvetica\", fontsize=10, style=filled, fillcolor=white];");
    let _ = writeln!(s, "  edge [fontname=\"Helvetica\", fontsize=8];");
    let mut nodes: Vec<_> = topo.spec().nodes.iter().collect();
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    for n in &nodes {
        let mut label = vec![n.id.clone(), format!("{} · tier {}", n.kind.as_str(), n.tier)];
        let mut fill = "white";
        let mut color = "black";
        let mut penwidth = "1";
        let mut extra = String::new();
        if blast.contains(&n.id) {
            fill = "#ffe0b2";
        }
        if focus.as_deref() == Some(n.id.as_str()) {
            fill = "#ef9a9a";
            penwidth = "3";
            label.push(format!("blast radius {}", blast.len()));
        }
        if let Some(ds) = by_node.get(n.id.as_str()) {
            let mut ds = ds.clone();
            ds.sort_by_key(|d| (d.root_cause.role != RootRole::Root, d.verdict, d.id.clone()));
            if let Some(d) = ds.first() {
                let (f, c) = match (d.root_cause.role, d.verdict) {
                    (RootRole::InferredSuspect, _) => ("#e1bee7", "purple"),
                    (_, Verdict::Suppress) => ("#fff3e0", "orange"),
                    (RootRole::Root, Verdict::Execute) => ("#ef9a9a", "red"),
                    (RootRole::Root, _) => ("#ffcdd2", "red"),
                    (_, _) => ("#eeeeee", "gray40"),
                };
                fill = f;
                color = c;
                penwidth = "2";
                if d.root_cause.role == RootRole::InferredSuspect {
                    extra.push_str(", style=\"filled,dashed\"");
                }
            }
            for d in ds {
                let action = d.action.as_ref().map(|a| format!(" → {}", a.id)).unwrap_or_default();
                label.push(format!("{}: {}{}", crate::show::signature_of(d), d.verdict.as_str(), action));
            }
        }
        let label: Vec<String> = label.iter().map(|l| escape(l)).collect();
        let _ = writeln!(
            s,
            "  {} [shape={}, label=\"{}\", fillcolor={}, color={}, penwidth={}{}];",
            quote(&n.id),
            shape(n.kind),
            label.join("\\n"),
            quote(fill),
            quote(color),
            penwidth,
            extra
        );
    }
    for n in &nodes {
        let edges = n
            .depends_on
            .iter()
            .map(|t| (t, "solid", ""))
            .chain(n.runs_on.iter().map(|t| (t, "dashed", "runs_on")))
            .chain(n.replicates.iter().map(|t| (t, "dotted", "replicates")));
        for (target, style, label) in edges {
            let on_path = path_edges.contains(&(n.id.clone(), target.clone()));
            let in_blast = focus.as_deref().is_some_and(|f| {
                (blast.contains(&n.id)) && (target == f || blast.contains(target)) && style != "dotted"
            });
            let (color, width) = if on_path {
                ("red", "2.5")
            } else if in_blast {
                ("darkorange", "1.5")
            } else {
                ("gray30", "1")
            };
            let mut attrs = format!("style={style}, color={color}, penwidth={width}");
            if !label.is_empty() {
                let _ = write!(attrs, ", label={}", quote(label));
            }
            if style == "dotted" {
                attrs.push_str(", arrowhead=none");
            }
            let _ = writeln!(s, "  {} -> {} [{attrs}];", quote(&n.id), quote(target));
        }
    }
    let _ = writeln!(s, "}}");
    s
}
