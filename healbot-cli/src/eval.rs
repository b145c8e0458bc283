//! `healbot eval nezha DIR`: root-cause accuracy on a day of the Nezha
//! fault-injection dataset (FSE 2023, Online Boutique).
//!
//! The command builds the topology from the call graph
//! (`metric/dependency.csv`: services call services, pods run on hosts),
//! reads every metric file with its columns validated, replays the samples
//! in time order into an [`Engine`] with a general signature library
//! (`library/rca-general.yaml`), evaluates once a minute, and for each
//! injected fault ranks HealBot's root-cause candidates in the minutes after
//! the injection. It scores service-level AS@k: the share of faults whose
//! injected service is among the first k candidates.
//!
//! Data-quality problems are found, counted and reported, never silently
//! absorbed: a `TimeStamp` column that disagrees with `Time`, non-finite or
//! empty values, rows of the wrong width, a column constant for the whole
//! day while the pod serves requests.
//!
//! The files are found by the dataset's own names (the fault list
//! `*fault_list.json`; `metric/dependency.csv`, `metric/<pod>_metric.csv`,
//! `metric/source_50.csv`, `metric/destination_50.csv`,
//! `metric/front_service.csv`), unless the folder holds a `manifest.json`
//! that names them (paths relative to the folder; only `faults` and
//! `dependencies` are required):
//!
//! ```json
//! {"faults": "faults.json", "dependencies": "calls.csv", "front": "front.csv",
//!  "edges_source": "caller-side.csv", "edges_destination": "callee-side.csv",
//!  "pods": {"frontend-6b8c7d9f5b-abcde": "frontend.csv"}}
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use healbot_core::spec::{NodeKind, NodeSpec, TopologySpec};
use healbot_core::telemetry::Labels;
use healbot_core::{Engine, EngineConfig, Library, Topology};

/// `healbot eval ...`: the datasets HealBot can be measured on.
#[derive(Debug, clap::Subcommand)]
pub enum EvalCommand {
    /// Root-cause accuracy (AS@1, AS@3, AS@5) on a Nezha Online Boutique day.
    Nezha(NezhaArgs),
}

/// Arguments of `healbot eval nezha`.
#[derive(Debug, clap::Args)]
pub struct NezhaArgs {
    /// The dataset folder (the fault list `*fault_list.json` and `metric/`,
    /// or the files a `manifest.json` in it names).
    #[arg(default_value = "../shared/corpora/nezha-ob-2022-08-22")]
    pub dir: PathBuf,
    /// Signature libraries (files or folders).
    #[arg(long, default_value = "library/rca-general.yaml")]
    pub library: Vec<PathBuf>,
    /// Minutes after the injection in which candidates count.
    #[arg(long, default_value_t = 5)]
    pub window: u32,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::OutputFormat,
    /// How the evaluations inside a fault's window combine into one ranking.
    #[arg(long, value_enum, default_value = "vote")]
    pub policy: Policy,
    /// Also print every evaluation's candidates inside each fault window.
    #[arg(long)]
    pub verbose: bool,
}

/// Runs an evaluation subcommand; returns the exit code (0 ok, 1 invalid
/// data or library, 2 I/O).
pub fn run(cmd: EvalCommand) -> u8 {
    match cmd {
        EvalCommand::Nezha(args) => match nezha(&args) {
            Ok(report) => {
                match args.format {
                    crate::OutputFormat::Json => {
                        outln!("{}", serde_json::to_string_pretty(&report.to_json()).unwrap_or_default())
                    }
                    crate::OutputFormat::Text => out!("{}", report.to_text(args.verbose)),
                }
                0
            }
            Err(EvalError::Io(m)) => {
                eprintln!("healbot eval nezha: {m}");
                2
            }
            Err(EvalError::Invalid(m)) => {
                eprintln!("healbot eval nezha: {m}");
                1
            }
        },
    }
}

/// Why an evaluation could not run.
#[derive(Debug)]
pub enum EvalError {
    /// A file could not be read.
    Io(String),
    /// The data or the library is not usable.
    Invalid(String),
}

fn read(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|e| EvalError::Io(format!("{}: {e}", path.display())))
}

// ---------------------------------------------------------------------------
// Time

/// Unix milliseconds of a civil UTC date and time (proleptic Gregorian).
fn civil_to_ms(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, ms: i64) -> i64 {
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms
}

/// `2022-08-22 03:51:19[.799087274][ +0000 UTC m=+0.305]` → Unix ms (UTC).
fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d, h, mi, sec) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut ms = 0;
    let rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
        let first3: String = digits.chars().chain("000".chars()).take(3).collect();
        ms = first3.parse().ok()?;
    }
    // Only UTC is accepted: the dataset writes `+0000 UTC`.
    if rest.contains(" +") && !rest.contains("+0000") {
        return None;
    }
    Some(civil_to_ms(y, mo, d, h, mi, sec, ms))
}

fn fmt_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (h, m, s) = (secs.div_euclid(3600).rem_euclid(24), secs.div_euclid(60).rem_euclid(60), secs.rem_euclid(60));
    format!("{h:02}:{m:02}:{s:02}")
}

// ---------------------------------------------------------------------------
// The dataset

/// One injected fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Injection time, Unix ms.
    pub at: i64,
    /// The pod the fault was injected into.
    pub pod: String,
    /// The service (pod name without its ReplicaSet suffix).
    pub service: String,
    /// `cpu_contention`, `network_delay`, `return`, ...
    pub kind: String,
}

/// One metric sample to replay.
#[derive(Clone, Debug, PartialEq)]
struct Sample {
    at: i64,
    name: &'static str,
    labels: Vec<(&'static str, String)>,
    value: f64,
}

/// What validation found in the data.
#[derive(Debug, Default)]
pub struct Quality {
    /// One line per finding, sorted.
    pub findings: Vec<String>,
    /// Samples read and accepted.
    pub samples: usize,
    /// Values skipped, by (file, column, reason).
    pub skipped: BTreeMap<(String, String, String), usize>,
}

impl Quality {
    fn skip(&mut self, file: &str, column: &str, why: &str) {
        *self.skipped.entry((file.to_string(), column.to_string(), why.to_string())).or_default() += 1;
    }
}

#[derive(serde::Deserialize)]
struct RawFault {
    inject_time: String,
    inject_timestamp: String,
    inject_pod: String,
    inject_type: String,
}

/// What a metric file holds.
#[derive(Debug)]
enum MetricFile {
    /// One pod's metrics, a row a minute (`<pod>_metric.csv`).
    Pod(String),
    /// Median latency per call edge as the caller measured it (`source_50.csv`).
    EdgeSource,
    /// Median latency per call edge as the callee measured it (`destination_50.csv`).
    EdgeDestination,
    /// The entry service's success rate and latency (`front_service.csv`).
    Front,
}

/// Where the metric files are.
#[derive(Debug)]
enum MetricFiles {
    /// Every file of Nezha's `metric/` folder with a name it gives.
    Folder(PathBuf),
    /// The files a manifest names.
    Listed(Vec<(PathBuf, MetricFile)>),
}

/// `manifest.json`: a dataset's files under names of its own, relative to
/// its folder (see the module documentation).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    faults: PathBuf,
    dependencies: PathBuf,
    #[serde(default)]
    pods: BTreeMap<String, PathBuf>,
    edges_source: Option<PathBuf>,
    edges_destination: Option<PathBuf>,
    front: Option<PathBuf>,
}

/// The files of a dataset.
#[derive(Debug)]
struct Layout {
    faults: PathBuf,
    dependencies: PathBuf,
    metrics: MetricFiles,
}

impl Layout {
    /// The files a `manifest.json` in `dir` names, or else Nezha's.
    fn discover(dir: &Path) -> Result<Layout, EvalError> {
        let manifest = dir.join("manifest.json");
        if !manifest.is_file() {
            return Layout::nezha(dir);
        }
        let m: Manifest = serde_json::from_str(&read(&manifest)?)
            .map_err(|e| EvalError::Invalid(format!("{}: not a dataset manifest: {e}", manifest.display())))?;
        let mut metrics: Vec<(PathBuf, MetricFile)> =
            m.pods.into_iter().map(|(pod, p)| (dir.join(p), MetricFile::Pod(pod))).collect();
        let named = [
            (m.edges_source, MetricFile::EdgeSource),
            (m.edges_destination, MetricFile::EdgeDestination),
            (m.front, MetricFile::Front),
        ];
        metrics.extend(named.into_iter().filter_map(|(p, kind)| Some((dir.join(p?), kind))));
        metrics.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Layout {
            faults: dir.join(m.faults),
            dependencies: dir.join(m.dependencies),
            metrics: MetricFiles::Listed(metrics),
        })
    }

    /// Nezha's names: the first `*fault_list.json` and `metric/`.
    fn nezha(dir: &Path) -> Result<Layout, EvalError> {
        let mut lists: Vec<PathBuf> = list_dir(dir)?
            .into_iter()
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with("fault_list.json")))
            .collect();
        lists.sort();
        let Some(faults) = lists.into_iter().next() else {
            return Err(EvalError::Invalid(format!("{}: no *fault_list.json", dir.display())));
        };
        let metric = dir.join("metric");
        Ok(Layout { faults, dependencies: metric.join("dependency.csv"), metrics: MetricFiles::Folder(metric) })
    }

    /// The metric files, in the order they are read (by path).
    fn metric_files(self) -> Result<Vec<(PathBuf, MetricFile)>, EvalError> {
        let dir = match self.metrics {
            MetricFiles::Listed(files) => return Ok(files),
            MetricFiles::Folder(dir) => dir,
        };
        let mut files = list_dir(&dir)?;
        files.sort();
        Ok(files
            .into_iter()
            .filter_map(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let kind = match name {
                    "source_50.csv" => MetricFile::EdgeSource,
                    "destination_50.csv" => MetricFile::EdgeDestination,
                    "front_service.csv" => MetricFile::Front,
                    _ => MetricFile::Pod(name.strip_suffix("_metric.csv")?.to_string()),
                };
                Some((p, kind))
            })
            .collect())
    }
}

/// The paths of a folder's entries, unsorted.
fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, EvalError> {
    Ok(std::fs::read_dir(dir)
        .map_err(|e| EvalError::Io(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect())
}

/// The fault list: `{"03": [{inject_time, inject_timestamp, inject_pod, inject_type}], ...}`.
fn read_faults(path: &Path, q: &mut Quality) -> Result<Vec<Fault>, EvalError> {
    let text = read(path)?;
    let raw: BTreeMap<String, Vec<RawFault>> = serde_json::from_str(&text)
        .map_err(|e| EvalError::Invalid(format!("{}: not a Nezha fault list: {e}", path.display())))?;
    let mut faults = Vec::new();
    for f in raw.into_values().flatten() {
        let by_time = parse_time(&f.inject_time);
        let by_stamp = f.inject_timestamp.trim().parse::<i64>().ok().map(|s| s * 1000);
        let at = match (by_time, by_stamp) {
            (Some(t), Some(s)) if (t - s).abs() <= 1000 => t,
            (Some(t), Some(s)) => {
                q.findings.push(format!(
                    "fault list: {} at {}: inject_timestamp disagrees with inject_time by {} s; inject_time used",
                    f.inject_pod,
                    f.inject_time,
                    (s - t) / 1000
                ));
                t
            }
            (Some(t), None) => t,
            (None, Some(s)) => s,
            (None, None) => {
                return Err(EvalError::Invalid(format!("{}: a fault without a readable time", path.display())));
            }
        };
        let service = healbot_core::telemetry::derive_app_name("Pod", &f.inject_pod);
        faults.push(Fault { at, pod: f.inject_pod, service, kind: f.inject_type });
    }
    faults.sort_by(|a, b| (a.at, &a.pod).cmp(&(b.at, &b.pod)));
    Ok(faults)
}

/// Services and hosts from `dependency.csv` (`Source,Target,Weight`): a
/// target that is an IPv4 address is the host the source runs on.
fn read_topology(path: &Path) -> Result<(TopologySpec, BTreeMap<String, String>), EvalError> {
    let text = read(path)?;
    let mut calls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut hosts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut host_ids = BTreeSet::new();
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    if header.trim() != "Source,Target,Weight" {
        return Err(EvalError::Invalid(format!("{}: expected the header `Source,Target,Weight`", path.display())));
    }
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let valid_id = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_.:/-".contains(c));
        if f.len() != 3 || !valid_id(f[0]) || !valid_id(f[1]) {
            return Err(EvalError::Invalid(format!("{}:{}: expected `source,target,weight`", path.display(), i + 2)));
        }
        let is_ip = f[1].split('.').count() == 4 && f[1].split('.').all(|o| o.parse::<u8>().is_ok());
        calls.entry(f[0].to_string()).or_default();
        if is_ip {
            hosts.entry(f[0].to_string()).or_default().insert(f[1].to_string());
            host_ids.insert(f[1].to_string());
        } else {
            calls.entry(f[0].to_string()).or_default().insert(f[1].to_string());
            calls.entry(f[1].to_string()).or_default();
        }
    }
    let mut nodes: Vec<NodeSpec> = Vec::new();
    let mut host_of = BTreeMap::new();
    for (svc, callees) in &calls {
        let runs_on: Vec<String> = hosts.get(svc).map(|h| h.iter().cloned().collect()).unwrap_or_default();
        if let Some(h) = runs_on.first() {
            host_of.insert(svc.clone(), h.clone());
        }
        nodes.push(NodeSpec {
            id: svc.clone(),
            kind: NodeKind::Service,
            replicas: 1,
            tier: 3,
            labels: BTreeMap::new(),
            aliases: Vec::new(),
            depends_on: callees.iter().cloned().collect(),
            runs_on,
            replicates: Vec::new(),
        });
    }
    for h in host_ids {
        nodes.push(NodeSpec {
            id: h,
            kind: NodeKind::Host,
            replicas: 1,
            tier: 3,
            labels: BTreeMap::new(),
            aliases: Vec::new(),
            depends_on: Vec::new(),
            runs_on: Vec::new(),
            replicates: Vec::new(),
        });
    }
    let spec = TopologySpec { attach_by: vec!["service".into()], replicas_metric: None, nodes };
    Ok((spec, host_of))
}

/// A CSV file: header and rows, fields split on commas (the dataset quotes nothing).
struct Csv {
    name: String,
    header: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

fn read_csv(path: &Path, q: &mut Quality) -> Result<Csv, EvalError> {
    let text = read(path)?;
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let mut lines = text.lines().enumerate();
    let header: Vec<String> = match lines.next() {
        Some((_, h)) => h.split(',').map(|s| s.trim().to_string()).collect(),
        None => return Err(EvalError::Invalid(format!("{name}: empty file"))),
    };
    let mut rows = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<String> = line.split(',').map(|s| s.trim().to_string()).collect();
        if fields.len() != header.len() {
            q.skip(&name, "(row)", &format!("{} fields instead of {}", fields.len(), header.len()));
            continue;
        }
        rows.push((i + 1, fields));
    }
    Ok(Csv { name, header, rows })
}

fn column(csv: &Csv, name: &str) -> Result<usize, EvalError> {
    csv.header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| EvalError::Invalid(format!("{}: no column `{name}`", csv.name)))
}

/// Row times from `Time`, checked against `TimeStamp`: a file whose stamps
/// disagree with its times is reported once, and `Time` is used.
fn row_times(csv: &Csv, time_col: &str, stamp_col: &str, q: &mut Quality) -> Result<Vec<Option<i64>>, EvalError> {
    let (ti, si) = (column(csv, time_col)?, column(csv, stamp_col)?);
    let mut times = Vec::with_capacity(csv.rows.len());
    let mut offsets = Vec::new();
    for (_, f) in &csv.rows {
        let t = parse_time(&f[ti]);
        if t.is_none() {
            q.skip(&csv.name, time_col, "unreadable time");
        }
        if let (Some(t), Ok(s)) = (t, f[si].parse::<f64>()) {
            offsets.push((s * 1000.0) as i64 - t);
        }
        times.push(t);
    }
    offsets.sort_unstable();
    if let Some(&median) = offsets.get(offsets.len() / 2) {
        if median.abs() > 60_000 {
            q.findings.push(format!(
                "{}: `{stamp_col}` is off from `{time_col}` by {:+} s (median over {} rows); `{time_col}` used",
                csv.name,
                median / 1000,
                offsets.len()
            ));
        }
    }
    // Order and spacing.
    let mut prev: Option<i64> = None;
    let mut gaps = 0;
    for t in times.iter().flatten() {
        if let Some(p) = prev {
            if *t <= p {
                q.skip(&csv.name, time_col, "time not increasing");
            } else if *t - p > 90_000 {
                gaps += 1;
            }
        }
        prev = Some(*t);
    }
    if gaps > 0 {
        q.findings.push(format!("{}: {gaps} gaps longer than 90 s between rows", csv.name));
    }
    Ok(times)
}

/// A value column of a per-pod file and the metric it becomes.
struct PodColumn {
    header: &'static str,
    name: &'static str,
    labels: &'static [(&'static str, &'static str)],
    on_host: bool,
}

const POD_COLUMNS: &[PodColumn] = &[
    PodColumn { header: "CpuUsage(m)", name: "cpu_usage_millicores", labels: &[], on_host: false },
    PodColumn { header: "CpuUsageRate(%)", name: "cpu_usage_percent", labels: &[], on_host: false },
    PodColumn { header: "MemoryUsage(Mi)", name: "memory_usage_mib", labels: &[], on_host: false },
    PodColumn { header: "MemoryUsageRate(%)", name: "memory_usage_percent", labels: &[], on_host: false },
    PodColumn { header: "SyscallRead", name: "syscalls_read", labels: &[], on_host: false },
    PodColumn { header: "SyscallWrite", name: "syscalls_write", labels: &[], on_host: false },
    PodColumn { header: "NetworkReceiveBytes", name: "network_receive_bytes", labels: &[], on_host: false },
    PodColumn { header: "NetworkTransmitBytes", name: "network_transmit_bytes", labels: &[], on_host: false },
    PodColumn {
        header: "PodClientLatencyP90(s)",
        name: "client_latency_seconds",
        labels: &[("quantile", "0.9")],
        on_host: false,
    },
    PodColumn {
        header: "PodServerLatencyP90(s)",
        name: "server_latency_seconds",
        labels: &[("quantile", "0.9")],
        on_host: false,
    },
    PodColumn {
        header: "PodClientLatencyP95(s)",
        name: "client_latency_seconds",
        labels: &[("quantile", "0.95")],
        on_host: false,
    },
    PodColumn {
        header: "PodServerLatencyP95(s)",
        name: "server_latency_seconds",
        labels: &[("quantile", "0.95")],
        on_host: false,
    },
    PodColumn {
        header: "PodClientLatencyP99(s)",
        name: "client_latency_seconds",
        labels: &[("quantile", "0.99")],
        on_host: false,
    },
    PodColumn {
        header: "PodServerLatencyP99(s)",
        name: "server_latency_seconds",
        labels: &[("quantile", "0.99")],
        on_host: false,
    },
    PodColumn { header: "PodWorkload(Ops)", name: "workload_ops", labels: &[], on_host: false },
    PodColumn { header: "PodSuccessRate(%)", name: "success_rate_percent", labels: &[], on_host: false },
    PodColumn { header: "NodeCpuUsageRate(%)", name: "node_cpu_usage_percent", labels: &[], on_host: true },
    PodColumn { header: "NodeMemoryUsageRate(%)", name: "node_memory_usage_percent", labels: &[], on_host: true },
    PodColumn { header: "NodeNetworkReceiveBytes", name: "node_network_receive_bytes", labels: &[], on_host: true },
];

/// Parses a value; `None` (counted) when empty or not a finite number.
fn value(csv: &str, col: &str, text: &str, q: &mut Quality) -> Option<f64> {
    if text.is_empty() {
        q.skip(csv, col, "empty");
        return None;
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        Ok(_) => {
            q.skip(csv, col, "NaN or infinite");
            None
        }
        Err(_) => {
            q.skip(csv, col, "not a number");
            None
        }
    }
}

/// `metric/<pod>_metric.csv`: one row a minute of the pod `file_pod`.
fn read_pod_file(
    path: &Path,
    file_pod: &str,
    host_of: &BTreeMap<String, String>,
    hosts_done: &mut BTreeSet<String>,
    q: &mut Quality,
    out: &mut Vec<Sample>,
) -> Result<String, EvalError> {
    let csv = read_csv(path, q)?;
    let times = row_times(&csv, "Time", "TimeStamp", q)?;
    let pod_col = column(&csv, "PodName")?;
    let service = healbot_core::telemetry::derive_app_name("Pod", file_pod);
    let mismatched = csv.rows.iter().filter(|(_, f)| f[pod_col] != file_pod).count();
    if mismatched > 0 {
        q.findings.push(format!("{}: {mismatched} rows name another pod in `PodName`; skipped", csv.name));
    }
    // Node metrics are the host's: read them from one pod per host.
    let host = host_of.get(&service).cloned();
    let host_reader = host.as_ref().is_some_and(|h| hosts_done.insert(h.clone()));
    let workload_col = column(&csv, "PodWorkload(Ops)")?;
    let serving = csv.rows.iter().any(|(_, f)| f[workload_col].parse::<f64>().is_ok_and(|w| w > 0.0));
    for c in POD_COLUMNS {
        let ci = column(&csv, c.header)?;
        if c.on_host && !host_reader {
            continue;
        }
        let node = if c.on_host {
            match &host {
                Some(h) => h.clone(),
                None => continue,
            }
        } else {
            service.clone()
        };
        // A success rate of 0 % at every minute while the pod serves
        // requests is impossible: the column is broken, not the service.
        let parsed: Vec<Option<f64>> = csv.rows.iter().map(|(_, f)| f[ci].parse::<f64>().ok()).collect();
        let finite: Vec<f64> = parsed.iter().flatten().copied().filter(|v| v.is_finite()).collect();
        let is_rate = c.name == "success_rate_percent";
        if is_rate && serving && finite.len() > 10 && finite.iter().all(|v| *v == 0.0) {
            q.findings.push(format!(
                "{}: `{}` is {} in all {} rows although the pod serves requests; column not used",
                csv.name,
                c.header,
                finite[0],
                finite.len()
            ));
            continue;
        }
        for ((_, f), t) in csv.rows.iter().zip(&times) {
            let Some(at) = t else { continue };
            if f[pod_col] != file_pod {
                continue;
            }
            let Some(v) = value(&csv.name, c.header, &f[ci], q) else { continue };
            let mut labels = vec![("service", node.clone())];
            labels.extend(c.labels.iter().map(|(k, v)| (*k, (*v).to_string())));
            out.push(Sample { at: *at, name: c.name, labels, value: v });
        }
    }
    Ok(service)
}

/// Median latency of one call edge at one minute, as one side measured it.
type EdgeSeries = BTreeMap<(String, String), BTreeMap<i64, (i64, f64)>>;

/// `source_50.csv` / `destination_50.csv`: median latency per call edge
/// (`caller_callee` columns), as the caller (source) or the callee
/// (destination) measured it. Attached to the callee, as a service mesh
/// reports it (`call_latency_seconds{service=<callee>, caller, reporter}`).
fn read_edge_file(
    path: &Path,
    reporter: &'static str,
    q: &mut Quality,
    out: &mut Vec<Sample>,
) -> Result<EdgeSeries, EvalError> {
    let csv = read_csv(path, q)?;
    let times = row_times(&csv, "time", "timestamp", q)?;
    let mut series = EdgeSeries::new();
    for (ci, h) in csv.header.iter().enumerate() {
        if h == "time" || h == "timestamp" {
            continue;
        }
        let Some((caller, callee)) = h.split_once('_') else {
            q.findings.push(format!("{}: column `{h}` is not `caller_callee`; not used", csv.name));
            continue;
        };
        let edge = series.entry((caller.to_string(), callee.to_string())).or_default();
        for ((_, f), t) in csv.rows.iter().zip(&times) {
            let Some(at) = t else { continue };
            let Some(v) = value(&csv.name, h, &f[ci], q) else { continue };
            edge.insert(at.div_euclid(60_000), (*at, v));
            let labels = vec![
                ("service", callee.to_string()),
                ("caller", caller.to_string()),
                ("reporter", reporter.to_string()),
                ("quantile", "0.5".to_string()),
            ];
            out.push(Sample { at: *at, name: "call_latency_seconds", labels, value: v });
        }
    }
    Ok(series)
}

/// The time a call spends between the two sides, per edge and minute: the
/// caller's median minus the callee's (`call_network_seconds`), where both
/// measured the same minute. Not a baseline: a physical quantity that is
/// near zero on a healthy network whatever the service does.
fn network_time(source: &EdgeSeries, destination: &EdgeSeries, out: &mut Vec<Sample>) {
    for ((caller, callee), by_minute) in source {
        let Some(dst) = destination.get(&(caller.clone(), callee.clone())) else { continue };
        for (minute, (at, s)) in by_minute {
            if let Some((_, d)) = dst.get(minute) {
                let labels = vec![("service", callee.clone()), ("caller", caller.clone())];
                out.push(Sample { at: *at, name: "call_network_seconds", labels, value: s - d });
            }
        }
    }
}

/// `front_service.csv`: the entry service's request success rate and latency.
fn read_front_file(path: &Path, q: &mut Quality, out: &mut Vec<Sample>) -> Result<(), EvalError> {
    let csv = read_csv(path, q)?;
    let times = row_times(&csv, "Time", "TimeStamp", q)?;
    let svc_col = column(&csv, "ServiceName")?;
    let cols: [(&str, &'static str, Option<&str>); 5] = [
        ("SuccessRate(%)", "request_success_percent", None),
        ("LatencyP50(s)", "request_latency_seconds", Some("0.5")),
        ("LatencyP90(s)", "request_latency_seconds", Some("0.9")),
        ("LatencyP95(s)", "request_latency_seconds", Some("0.95")),
        ("LatencyP99(s)", "request_latency_seconds", Some("0.99")),
    ];
    for (header, name, quantile) in cols {
        let ci = column(&csv, header)?;
        for ((_, f), t) in csv.rows.iter().zip(&times) {
            let Some(at) = t else { continue };
            let Some(v) = value(&csv.name, header, &f[ci], q) else { continue };
            if header == "SuccessRate(%)" && !(0.0..=100.0).contains(&v) {
                q.skip(&csv.name, header, "outside [0, 100]");
                continue;
            }
            let mut labels = vec![("service", f[svc_col].to_ascii_lowercase())];
            if let Some(qv) = quantile {
                labels.push(("quantile", qv.to_string()));
            }
            out.push(Sample { at: *at, name, labels, value: v });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Replay and scoring

/// A root-cause candidate at one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The node id.
    pub node: String,
    /// 1-based rank.
    pub rank: usize,
    /// When its diagnosis began (`None` for an inferred suspect).
    pub onset: Option<i64>,
    /// The signatures matched on the node.
    pub signatures: Vec<String>,
    /// Whether it is an inferred suspect.
    pub suspect: bool,
}

/// The outcome for one fault.
#[derive(Clone, Debug)]
pub struct FaultResult {
    /// The fault.
    pub fault: Fault,
    /// Services ranked for it, best first.
    pub ranking: Vec<String>,
    /// 1-based rank of the injected service, if ranked.
    pub rank: Option<usize>,
    /// The evaluation the ranking was taken from (Unix ms), if any.
    pub decided_at: Option<i64>,
    /// Candidates at each evaluation in the window.
    pub trace: Vec<(i64, Vec<Candidate>)>,
}

/// The evaluation's result.
#[derive(Debug)]
pub struct NezhaReport {
    /// The dataset folder.
    pub dir: String,
    /// Nodes and dependency edges of the topology.
    pub topology: (usize, usize),
    /// Signatures loaded.
    pub signatures: usize,
    /// Per-fault outcomes, in time order.
    pub faults: Vec<FaultResult>,
    /// Data-quality findings.
    pub quality: Quality,
    /// Evaluations run.
    pub evaluations: usize,
    /// Wall time of the replay, ms.
    pub replay_ms: f64,
    /// Minutes after injection considered.
    pub window: u32,
}

fn accuracy(results: &[&FaultResult], k: usize) -> f64 {
    if results.is_empty() {
        return 0.0;
    }
    results.iter().filter(|r| r.rank.is_some_and(|x| x <= k)).count() as f64 / results.len() as f64
}

impl NezhaReport {
    fn by_type(&self) -> BTreeMap<&str, Vec<&FaultResult>> {
        let mut m: BTreeMap<&str, Vec<&FaultResult>> = BTreeMap::new();
        for r in &self.faults {
            m.entry(r.fault.kind.as_str()).or_default().push(r);
        }
        m
    }

    fn to_json(&self) -> serde_json::Value {
        let all: Vec<&FaultResult> = self.faults.iter().collect();
        let acc = |rs: &[&FaultResult]| serde_json::json!({"faults": rs.len(), "as1": accuracy(rs, 1), "as3": accuracy(rs, 3), "as5": accuracy(rs, 5)});
        let by_type: BTreeMap<&str, serde_json::Value> = self.by_type().iter().map(|(k, v)| (*k, acc(v))).collect();
        let faults: Vec<serde_json::Value> = self
            .faults
            .iter()
            .map(|r| {
                serde_json::json!({
                    "at": fmt_time(r.fault.at),
                    "service": r.fault.service,
                    "type": r.fault.kind,
                    "rank": r.rank,
                    "ranking": r.ranking,
                    "decided_at": r.decided_at.map(fmt_time),
                })
            })
            .collect();
        let skipped: Vec<serde_json::Value> = self
            .quality
            .skipped
            .iter()
            .map(|((f, c, w), n)| serde_json::json!({"file": f, "column": c, "reason": w, "count": n}))
            .collect();
        serde_json::json!({
            "dataset": self.dir,
            "topology": {"nodes": self.topology.0, "edges": self.topology.1},
            "signatures": self.signatures,
            "window_minutes": self.window,
            "overall": acc(&all),
            "by_type": by_type,
            "faults": faults,
            "data_quality": {"findings": self.quality.findings, "samples": self.quality.samples, "skipped": skipped},
            "evaluations": self.evaluations,
            "replay_ms": self.replay_ms,
        })
    }

    fn to_text(&self, verbose: bool) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "Nezha {}: {} faults, topology {} nodes / {} dependency edges, {} signatures, {} samples, {} evaluations in {:.0} ms",
            self.dir,
            self.faults.len(),
            self.topology.0,
            self.topology.1,
            self.signatures,
            self.quality.samples,
            self.evaluations,
            self.replay_ms
        );
        let _ = writeln!(o, "\ndata quality:");
        for f in &self.quality.findings {
            let _ = writeln!(o, "  - {f}");
        }
        for ((f, c, w), n) in &self.quality.skipped {
            let _ = writeln!(o, "  - {f}: `{c}`: {n} values skipped ({w})");
        }
        let _ = writeln!(o, "\nfaults (candidates within {} min after injection):", self.window);
        for r in &self.faults {
            let rank = r.rank.map_or_else(|| "-".to_string(), |x| x.to_string());
            let top: Vec<&str> = r.ranking.iter().take(5).map(String::as_str).collect();
            let _ = writeln!(
                o,
                "  {} {:<22} {:<15} rank {:>2}  top: {}",
                fmt_time(r.fault.at),
                r.fault.service,
                r.fault.kind,
                rank,
                top.join(", ")
            );
            if verbose {
                for (at, cands) in &r.trace {
                    let list: Vec<String> = cands
                        .iter()
                        .map(|c| {
                            let onset = c.onset.map_or_else(|| "suspect".to_string(), fmt_time);
                            format!("{}#{} [{}] ({})", c.node, c.rank, c.signatures.join(" "), onset)
                        })
                        .collect();
                    let _ = writeln!(o, "      {} {}", fmt_time(*at), list.join("; "));
                }
            }
        }
        let _ = writeln!(o, "\n{:<16} {:>6} {:>7} {:>7} {:>7}", "fault type", "faults", "AS@1", "AS@3", "AS@5");
        let row = |o: &mut String, name: &str, rs: &[&FaultResult]| {
            let _ = writeln!(
                o,
                "{:<16} {:>6} {:>6.1}% {:>6.1}% {:>6.1}%",
                name,
                rs.len(),
                100.0 * accuracy(rs, 1),
                100.0 * accuracy(rs, 3),
                100.0 * accuracy(rs, 5)
            );
        };
        for (k, v) in self.by_type() {
            row(&mut o, k, &v);
        }
        row(&mut o, "all", &self.faults.iter().collect::<Vec<_>>());
        o
    }
}

fn load_library(paths: &[PathBuf]) -> Result<Library, EvalError> {
    let files = crate::files::read_documents(paths).map_err(EvalError::Io)?;
    let sources: Vec<(&str, &str)> = files.iter().map(|f| (f.name.as_str(), f.text.as_str())).collect();
    Library::from_sources(sources).map_err(|e| {
        let msgs: Vec<String> = e
            .diagnostics()
            .iter()
            .map(|d| format!("{}:{}:{}: {} (at {})", d.file, d.line, d.column, d.message, d.path))
            .collect();
        EvalError::Invalid(format!("the library does not load:\n  {}", msgs.join("\n  ")))
    })
}

/// Reads the dataset, replays it and scores every fault.
///
/// # Errors
///
/// [`EvalError::Io`] for unreadable files, [`EvalError::Invalid`] for a
/// dataset or library that cannot be used.
pub fn nezha(args: &NezhaArgs) -> Result<NezhaReport, EvalError> {
    let dir = &args.dir;
    let mut q = Quality::default();
    let layout = Layout::discover(dir)?;
    let faults = read_faults(&layout.faults, &mut q)?;
    let (spec, host_of) = read_topology(&layout.dependencies)?;
    let topology = Topology::compile(&spec).map_err(|problems| {
        let msgs: Vec<String> = problems.iter().map(ToString::to_string).collect();
        EvalError::Invalid(format!("the call graph is not a valid topology: {}", msgs.join("; ")))
    })?;
    let library = load_library(&args.library)?;

    let mut samples = Vec::new();
    let mut hosts_done = BTreeSet::new();
    let mut services = BTreeSet::new();
    let (mut source, mut destination) = (None, None);
    for (p, kind) in layout.metric_files()? {
        match kind {
            MetricFile::Pod(pod) => {
                services.insert(read_pod_file(&p, &pod, &host_of, &mut hosts_done, &mut q, &mut samples)?);
            }
            MetricFile::EdgeSource => source = Some(read_edge_file(&p, "source", &mut q, &mut samples)?),
            MetricFile::EdgeDestination => {
                destination = Some(read_edge_file(&p, "destination", &mut q, &mut samples)?);
            }
            MetricFile::Front => read_front_file(&p, &mut q, &mut samples)?,
        }
    }
    if let (Some(s), Some(d)) = (&source, &destination) {
        network_time(s, d, &mut samples);
    }
    for f in &faults {
        if !services.contains(&f.service) {
            q.findings.push(format!("fault list: {} at {}: no metric file for the pod", f.pod, fmt_time(f.at)));
        }
        if topology.lookup(&f.service).is_none() {
            q.findings.push(format!("fault list: service `{}` is not in the call graph", f.service));
        }
    }
    q.findings.sort();
    q.samples = samples.len();
    if samples.is_empty() || faults.is_empty() {
        return Err(EvalError::Invalid(format!("{}: no samples or no faults", dir.display())));
    }
    // Time order; ties in a fixed order so the replay is deterministic.
    samples.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.name.cmp(b.name)).then_with(|| a.labels.cmp(&b.labels)));

    let started = std::time::Instant::now();
    let signatures = library.signatures().len();
    let nodes = topology.len();
    let edges = topology.dependency_edge_count();
    let mut engine = Engine::new(library, topology, EngineConfig::default())
        .map_err(|e| EvalError::Invalid(format!("the library does not compile: {e}")))?;
    let last_fault = faults.iter().map(|f| f.at).max().unwrap_or(0);
    let horizon = last_fault + i64::from(args.window + 1) * 60_000;
    let mut evaluations = 0;
    let mut trace: BTreeMap<i64, Vec<Candidate>> = BTreeMap::new();
    let minute = |t: i64| t.div_euclid(60_000);
    let mut i = 0;
    while i < samples.len() && samples[i].at <= horizon {
        let m = minute(samples[i].at);
        while i < samples.len() && minute(samples[i].at) == m {
            let s = &samples[i];
            let labels: Labels = s.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
            // A full series store is reported in the stats; replay goes on.
            let _ = engine.ingest_metric(s.name, &labels, s.value, s.at);
            i += 1;
        }
        // Evaluate at the end of the minute, once every sample of it is in.
        let at = (m + 1) * 60_000 - 1;
        evaluations += 1;
        trace.insert(at, candidates(&mut engine, at));
    }
    let replay_ms = started.elapsed().as_secs_f64() * 1000.0;

    let window_ms = i64::from(args.window) * 60_000;
    // A window never reaches into the next fault: its effects are not this one's.
    let results = faults
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let end = faults.get(i + 1).map_or(f.at + window_ms, |next| (f.at + window_ms).min(next.at - 1));
            score_fault(f, &trace, end, args.policy)
        })
        .collect::<Vec<_>>();
    Ok(NezhaReport {
        dir: dir.display().to_string(),
        topology: (nodes, edges),
        signatures,
        faults: results,
        quality: q,
        evaluations,
        replay_ms,
        window: args.window,
    })
}

/// HealBot's root-cause candidates at `at`, best first: the decisions whose
/// root-cause role is `root` or `inferred_suspect`, by their rank.
fn candidates(engine: &mut Engine, at: i64) -> Vec<Candidate> {
    use healbot_core::decision::RootRole;
    let decisions = engine.evaluate(at);
    let mut ranked: Vec<(usize, &healbot_core::Decision)> = decisions
        .iter()
        .filter(|d| matches!(d.root_cause.role, RootRole::Root | RootRole::InferredSuspect))
        .filter_map(|d| d.root_cause.rank.map(|r| (r, d)))
        .collect();
    ranked.sort_by(|a, b| (a.0, &a.1.node).cmp(&(b.0, &b.1.node)));
    let mut out: Vec<Candidate> = Vec::new();
    for (rank, d) in ranked {
        if out.iter().any(|o| o.node == d.node) {
            continue;
        }
        let suspect = d.root_cause.role == RootRole::InferredSuspect;
        let signatures: Vec<String> = decisions
            .iter()
            .filter(|x| x.node == d.node)
            .filter_map(|x| x.signature.as_ref().map(|s| s.id.clone()))
            .collect();
        out.push(Candidate {
            node: d.node.to_string(),
            rank,
            onset: if suspect { None } else { Some(d.onset) },
            signatures,
            suspect,
        });
    }
    out
}

/// Ranks services for one fault from the candidates of every evaluation in
/// the window (see [`Policy`]). Candidates whose diagnosis began before the
/// injection (less one scrape interval) are earlier trouble: they rank after
/// every candidate that is new.
fn score_fault(f: &Fault, trace: &BTreeMap<i64, Vec<Candidate>>, end: i64, policy: Policy) -> FaultResult {
    let in_window: Vec<(i64, Vec<Candidate>)> =
        trace.range(f.at..=end.max(f.at)).map(|(t, c)| (*t, c.clone())).collect();
    let is_new = |c: &Candidate| !matches!(c.onset, Some(o) if o < f.at - 60_000);
    let mut decided_at = None;
    // (score, first minute seen, order of first sight) per service.
    let mut votes: BTreeMap<String, (f64, i64, usize)> = BTreeMap::new();
    let mut old: Vec<String> = Vec::new();
    for (at, cands) in &in_window {
        let new: Vec<&Candidate> = cands.iter().filter(|c| is_new(c)).collect();
        if new.is_empty() {
            continue;
        }
        if decided_at.is_none() {
            decided_at = Some(*at);
            old.extend(cands.iter().filter(|c| !is_new(c)).map(|c| c.node.clone()));
        } else if policy == Policy::First {
            // Later evaluations only add services not seen yet.
            for c in new {
                let seen = votes.len();
                votes.entry(c.node.clone()).or_insert((0.0, *at, seen));
            }
            continue;
        }
        for (i, c) in new.iter().enumerate() {
            let seen = votes.len();
            let weight = match policy {
                // The first decision ranks; nothing later outranks it.
                Policy::First => 1e6 / (i + 1) as f64,
                Policy::Vote => 1.0 / (i + 1) as f64,
            };
            votes.entry(c.node.clone()).or_insert((0.0, *at, seen)).0 += weight;
        }
    }
    let mut ranked: Vec<(String, (f64, i64, usize))> = votes.into_iter().collect();
    ranked.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0).then(a.1 .1.cmp(&b.1 .1)).then(a.1 .2.cmp(&b.1 .2)));
    let mut ranking: Vec<String> = ranked.into_iter().map(|(s, _)| s).collect();
    for o in old {
        if !ranking.contains(&o) {
            ranking.push(o);
        }
    }
    let rank = ranking.iter().position(|s| *s == f.service).map(|p| p + 1);
    FaultResult { fault: f.clone(), ranking, rank, decided_at, trace: in_window }
}

/// How the evaluations in a fault's window combine into one ranking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Policy {
    /// Each evaluation with a new candidate votes: a candidate at position
    /// r among the new ones adds 1/r; most votes first, ties by first sight.
    Vote,
    /// The first evaluation with a new candidate decides; services that
    /// appear later follow in order of appearance.
    First,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_utc() {
        assert_eq!(parse_time("2022-08-22 03:53:54"), Some(1_661_140_434_000));
        assert_eq!(parse_time("2022-08-22 03:51:19.799087274 +0000 UTC m=+0.305041286"), Some(1_661_140_279_799));
        assert_eq!(parse_time("1970-01-01 00:00:00"), Some(0));
        assert_eq!(parse_time("2022-13-22 03:53:54"), None);
        assert_eq!(parse_time("2022-08-22 03:51:19 +0200 CEST"), None);
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(fmt_time(1_661_140_434_000), "03:53:54");
    }
}
