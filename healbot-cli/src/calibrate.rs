//! `healbot calibrate`: labelled synthetic incidents over a generated
//! topology, and how well HealBot's confidence and ranking fit them.
//!
//! Each incident picks a true root cause, injects its failure, lets it
//! propagate to dependents (each with some probability and delay), and adds
//! noise: decoy nodes with transient low-traffic error spikes, flapping
//! decoys, and missing series. Every decision with a signature is a
//! prediction "this node is where to act" with probability = its
//! confidence; its label is whether the node is the true root. The command
//! prints the Brier score, the expected calibration error (10 equal-width
//! bins) and root-cause top-1 accuracy, and writes a reliability diagram as
//! a PNG. Everything is seeded: the same seed gives the same report.

use std::fmt::Write as _;
use std::path::Path;

use healbot_core::decision::RootRole;
use healbot_core::telemetry::Labels;
use healbot_core::{Engine, EngineConfig, Library, Topology};

/// The library the incidents are scored against: general signatures with
/// supporting and contradicting evidence.
pub const LIBRARY: &str = r#"
apiVersion: healbot.dev/v1
kind: SignatureLibrary
metadata: {name: calibration}
spec:
  signatures:
    - id: svc.errors
      title: Service error rate high
      category: errors
      severity: critical
      prior: 0.5
      applies_to: {kinds: [service]}
      match: {metric: {name: error_ratio, agg: avg, window: 1m, op: ">", threshold: 0.05}}
      evidence:
        - {id: latency, when: {metric: {name: latency_p99, agg: avg, window: 1m, op: ">", threshold: 0.5}}, weight: 1.5}
        - {id: severe, when: {metric: {name: error_ratio, agg: min, window: 1m, op: ">", threshold: 0.15}}, weight: 1.5}
        - {id: low_traffic, when: {metric: {name: requests_per_second, agg: avg, window: 1m, op: "<", threshold: 2}}, weight: -3.5}
      actions: [restart]
    - id: db.down
      title: Database down
      category: unavailable
      severity: critical
      prior: 0.9
      applies_to: {kinds: [database]}
      match: {metric: {name: up, agg: max, window: 1m, op: "<", threshold: 1}}
      actions: [failover]
---
apiVersion: healbot.dev/v1
kind: ActionLibrary
metadata: {name: calibration-actions}
spec:
  actions:
    - {id: restart, title: Restart, operation: restart, risk: medium, min_confidence: 0.8}
    - {id: failover, title: Fail over, operation: failover, risk: medium, min_confidence: 0.7}
"#;

/// A small deterministic generator (xorshift64*), so runs are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// Layers of the generated topology: (prefix, count, kind, tier).
const LAYERS: [(&str, usize, &str, u8); 4] =
    [("edge", 3, "service", 1), ("api", 8, "service", 2), ("core", 6, "service", 3), ("db", 3, "database", 1)];

fn topology_yaml(rng: &mut Rng) -> String {
    let mut y =
        String::from("apiVersion: healbot.dev/v1\nkind: Topology\nmetadata: {name: calibration}\nspec:\n  nodes:\n");
    for (li, (prefix, count, kind, tier)) in LAYERS.iter().enumerate() {
        for i in 0..*count {
            let mut deps = Vec::new();
            if let Some((next, ncount, _, _)) = LAYERS.get(li + 1) {
                for _ in 0..2 {
                    let d = format!("{next}-{}", rng.below(*ncount));
                    if !deps.contains(&d) {
                        deps.push(d);
                    }
                }
            }
            let _ = writeln!(
                y,
                "    - {{id: {prefix}-{i}, kind: {kind}, tier: {tier}, depends_on: [{}]}}",
                deps.join(", ")
            );
        }
    }
    y
}

/// The result of a calibration run.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    /// Incidents generated.
    pub incidents: usize,
    /// Predictions scored.
    pub predictions: usize,
    /// Mean squared error of confidence against the label.
    pub brier: f64,
    /// Expected calibration error over 10 equal-width bins.
    pub ece: f64,
    /// Share of incidents whose rank-1 root is the true root.
    pub top1: f64,
    /// Per bin: (mean confidence, observed frequency, count).
    pub bins: Vec<(f64, f64, usize)>,
}

/// Runs `incidents` synthetic incidents from `seed`.
///
/// # Errors
///
/// A message when the embedded documents fail to load (a bug).
pub fn run(incidents: usize, seed: u64) -> Result<Report, String> {
    let mut rng = Rng(seed.max(1));
    let library = Library::from_text("calibration.yaml", LIBRARY).map_err(|e| e.to_string())?;
    let topology = Topology::from_text("topology.yaml", &topology_yaml(&mut rng)).map_err(|e| e.to_string())?;
    let nodes: Vec<(String, String)> =
        topology.nodes().iter().map(|n| (n.id().to_string(), n.kind().as_str().to_string())).collect();
    let mut preds: Vec<(f64, bool)> = Vec::new();
    let mut top1 = 0usize;
    for _ in 0..incidents {
        let mut engine =
            Engine::new(library.clone(), topology.clone(), EngineConfig::default()).map_err(|e| e.to_string())?;
        let root = rng.below(nodes.len());
        let root_node = topology.node_id(root).ok_or("no node")?;
        let onset = 120_000i64;
        // Dependents that show the failure, with their delays.
        let mut affected: Vec<(usize, i64)> = vec![(root, 0)];
        let mut scratch = topology.traversal();
        for d in topology.dependents(root_node, &mut scratch) {
            if rng.chance(0.8) {
                affected.push((d.index(), 15_000 + (rng.below(4) as i64) * 15_000));
            }
        }
        let decoy = rng.chance(0.35).then(|| rng.below(nodes.len())).filter(|d| affected.iter().all(|(a, _)| a != d));
        let flapping = rng.chance(0.5);
        let missing_latency = rng.chance(0.2);
        for step in 0..=24i64 {
            let t = step * 15_000;
            for (i, (id, kind)) in nodes.iter().enumerate() {
                let labels: Labels = [("service", id.as_str())].into_iter().collect();
                let hit = affected.iter().find(|(a, _)| *a == i).filter(|(_, delay)| t >= onset + delay);
                if kind == "database" {
                    let up = if hit.is_some() { 0.0 } else { 1.0 };
                    let _ = engine.ingest_metric("up", &labels, up, t);
                    continue;
                }
                let decoying = decoy == Some(i) && t >= onset && (!flapping || (step % 4) < 2);
                let (err, lat, rps) = match (hit, decoying) {
                    (Some(_), _) if i == root => (0.25 + 0.1 * rng.unit(), 0.9 + rng.unit(), 40.0),
                    (Some(_), _) => (0.08 + 0.2 * rng.unit(), 0.3 + 0.8 * rng.unit(), 40.0),
                    (None, true) => (0.06 + 0.05 * rng.unit(), 0.1, 0.5 + rng.unit()),
                    _ => (0.005 * rng.unit(), 0.1 + 0.05 * rng.unit(), 40.0),
                };
                let _ = engine.ingest_metric("error_ratio", &labels, err, t);
                if !(missing_latency && i == root) {
                    let _ = engine.ingest_metric("latency_p99", &labels, lat, t);
                }
                let _ = engine.ingest_metric("requests_per_second", &labels, rps, t);
            }
        }
        let decisions = engine.evaluate(onset + 4 * 60_000);
        let root_id = &nodes[root].0;
        for d in decisions.iter().filter(|d| d.signature.is_some()) {
            preds.push((d.confidence.value, &d.node == root_id));
        }
        let best = decisions
            .iter()
            .filter(|d| matches!(d.root_cause.role, RootRole::Root | RootRole::InferredSuspect))
            .min_by_key(|d| d.root_cause.rank.unwrap_or(usize::MAX));
        if best.is_some_and(|d| &d.node == root_id) {
            top1 += 1;
        }
    }
    let n = preds.len().max(1) as f64;
    let brier = preds.iter().map(|(p, y)| (p - f64::from(u8::from(*y))).powi(2)).sum::<f64>() / n;
    let mut bins = Vec::new();
    let mut ece = 0.0;
    for b in 0..10 {
        let (lo, hi) = (b as f64 / 10.0, (b + 1) as f64 / 10.0);
        let inside: Vec<&(f64, bool)> =
            preds.iter().filter(|(p, _)| *p >= lo && (*p < hi || (b == 9 && *p <= 1.0))).collect();
        if inside.is_empty() {
            bins.push((0.0, 0.0, 0));
            continue;
        }
        let conf = inside.iter().map(|(p, _)| p).sum::<f64>() / inside.len() as f64;
        let freq = inside.iter().filter(|(_, y)| *y).count() as f64 / inside.len() as f64;
        ece += inside.len() as f64 / n * (conf - freq).abs();
        bins.push((conf, freq, inside.len()));
    }
    Ok(Report { incidents, predictions: preds.len(), brier, ece, top1: top1 as f64 / incidents.max(1) as f64, bins })
}

/// Writes the reliability diagram (observed frequency against mean
/// confidence per bin, with the diagonal) as a PNG.
///
/// # Errors
///
/// The I/O error, as text.
pub fn write_png(report: &Report, path: &Path) -> Result<(), String> {
    const W: usize = 400;
    const H: usize = 400;
    const M: usize = 20;
    let mut px = vec![[255u8, 255, 255]; W * H];
    let mut set = |x: usize, y: usize, c: [u8; 3]| {
        if x < W && y < H {
            px[y * W + x] = c;
        }
    };
    let plot = W - 2 * M;
    // Axes and the diagonal of perfect calibration.
    for i in 0..=plot {
        set(M + i, H - M, [0, 0, 0]);
        set(M, H - M - i, [0, 0, 0]);
        set(M + i, H - M - i, [180, 180, 180]);
    }
    // One bar per bin: observed frequency; a dot at the mean confidence.
    let bar = plot / 10;
    for (b, (conf, freq, count)) in report.bins.iter().enumerate() {
        if *count == 0 {
            continue;
        }
        let height = (freq * plot as f64) as usize;
        for x in (M + b * bar + 2)..(M + (b + 1) * bar - 2) {
            for y in 0..height {
                set(x, H - M - 1 - y, [70, 120, 200]);
            }
        }
        let cx = M + (conf * plot as f64) as usize;
        let cy = H - M - (conf * plot as f64) as usize;
        for dx in 0..5 {
            for dy in 0..5 {
                set(cx + dx - 2.min(cx), cy + dy - 2.min(cy), [220, 60, 40]);
            }
        }
    }
    let mut raw = Vec::with_capacity(H * (1 + W * 3));
    for row in px.chunks(W) {
        raw.push(0); // filter: none
        for p in row {
            raw.extend_from_slice(p);
        }
    }
    std::fs::write(path, png::encode_rgb(W as u32, H as u32, &raw)).map_err(|e| format!("{}: {e}", path.display()))
}

/// Renders the report for people.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "incidents: {}   predictions: {}", r.incidents, r.predictions);
    let _ = writeln!(s, "Brier score: {:.4}   (target ≤ 0.10)", r.brier);
    let _ = writeln!(s, "ECE (10 bins): {:.4}   (target ≤ 0.05)", r.ece);
    let _ = writeln!(s, "root cause top-1: {:.1}%   (target ≥ 90%)", r.top1 * 100.0);
    let _ = writeln!(s, "bin  mean-confidence  observed  count");
    for (b, (c, f, n)) in r.bins.iter().enumerate() {
        let _ = writeln!(s, "{:>3}  {:>15.3}  {:>8.3}  {:>5}", b, c, f, n);
    }
    s
}

/// A minimal PNG encoder (stored deflate blocks): the diagram is small, and
/// this avoids a dependency for one picture.
mod png {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn adler32(data: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &d in data {
            a = (a + u32::from(d)) % 65_521;
            b = (b + a) % 65_521;
        }
        (b << 16) | a
    }

    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }

    /// Encodes filtered scanlines (`raw`) of an 8-bit RGB image.
    pub fn encode_rgb(w: u32, h: u32, raw: &[u8]) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut out, b"IHDR", &ihdr);
        let mut z = vec![0x78, 0x01];
        let mut blocks = raw.chunks(65_535).peekable();
        while let Some(block) = blocks.next() {
            z.push(u8::from(blocks.peek().is_none()));
            let len = block.len() as u16;
            z.extend_from_slice(&len.to_le_bytes());
            z.extend_from_slice(&(!len).to_le_bytes());
            z.extend_from_slice(block);
        }
        z.extend_from_slice(&adler32(raw).to_be_bytes());
        chunk(&mut out, b"IDAT", &z);
        chunk(&mut out, b"IEND", &[]);
        out
    }
}
