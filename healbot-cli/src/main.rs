//! The `healbot` command: check documents, print schemas (and, as the engine
//! grows, test, replay, explain and graph).
//!
//! Exit codes: 0 success, 1 invalid input (diagnostics printed), 2 usage or
//! I/O errors.

/// `println!` that ends the process quietly when standard output is gone
/// (a pipe closed by `head`), as a Unix tool killed by `SIGPIPE` would,
/// instead of panicking with "failed printing to stdout".
macro_rules! outln {
    () => {
        $crate::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!`, as [`outln!`] is `println!`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!($($arg)*))
    };
}

/// Writes to standard output; exits with status 141 (128 + `SIGPIPE`, what a
/// shell reports for a tool the signal ended) when it cannot.
fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if std::io::stdout().lock().write_fmt(args).is_err() {
        std::process::exit(141);
    }
}

mod calibrate;
mod check;
mod explain;
mod files;
mod graph;
mod input;
mod render;
mod replay;
mod series;
mod show;
mod test_cmd;
mod testfile;

// Evaluations on real data and importers (docs/evaluation.md).
mod eval;
mod import;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// HealBot: a deterministic decision engine for autonomous operations.
#[derive(Debug, Parser)]
#[command(name = "healbot", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Output format for machine consumers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people.
    Text,
    /// For machines.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate documents (files, or directories of *.yaml, *.yml, *.json).
    Check {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: OutputFormat,
    },
    /// Run library unit tests (*.hbtest files; see docs/testing.md).
    Test {
        /// Test files, or directories of *.hbtest files.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: OutputFormat,
        /// List passing cases too.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Replay recorded telemetry in time order and print decisions as they change.
    Replay {
        /// Library documents: files or directories.
        #[arg(long, required = true, num_args = 1..)]
        library: Vec<std::path::PathBuf>,
        /// The topology document.
        #[arg(long)]
        topology: std::path::PathBuf,
        /// Telemetry files: HealBot NDJSON, Alertmanager webhook payloads,
        /// Prometheus text with timestamps, OTLP/JSON, Kubernetes event lists.
        #[arg(required = true)]
        telemetry: Vec<std::path::PathBuf>,
        /// Evaluation step.
        #[arg(long, default_value = "30s", value_parser = replay::parse_step)]
        step: healbot_core::Duration,
        /// Output: a table (text) or NDJSON decision documents (json).
        #[arg(long, value_enum, default_value = "text")]
        format: OutputFormat,
        /// The telemetry format, when extension and content do not tell
        /// (ndjson, alertmanager, prometheus_text, otlp_logs, otlp_metrics,
        /// k8s_events, pagerduty).
        #[arg(long, value_parser = replay::parse_payload_format)]
        input_format: Option<healbot_core::telemetry::PayloadFormat>,
        /// Evaluate until this time (RFC 3339, or an offset from the first observation).
        #[arg(long)]
        until: Option<String>,
        /// Print every decision at every step, not only changes.
        #[arg(long)]
        all: bool,
    },
    /// Render decision documents (JSON or NDJSON) for a person.
    Explain {
        /// A decision document, or NDJSON from `replay --format json`.
        file: std::path::PathBuf,
        /// Only the decision with this id.
        #[arg(long)]
        id: Option<String>,
        /// Only decisions on this node.
        #[arg(long)]
        node: Option<String>,
        /// Pretty-printed JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write the topology as Graphviz DOT (SVG or PNG with -o when `dot` is installed).
    Graph {
        /// The topology document.
        #[arg(long)]
        topology: std::path::PathBuf,
        /// Show this node's blast radius.
        #[arg(long)]
        highlight: Option<String>,
        /// Colour nodes and root-cause paths from decision documents (JSON or NDJSON).
        #[arg(long)]
        decisions: Option<std::path::PathBuf>,
        /// Output file: .dot, .svg or .png (default: DOT on stdout).
        #[arg(short, long)]
        output: Option<std::path::PathBuf>,
    },
    /// Score confidence calibration and root-cause accuracy on synthetic incidents.
    Calibrate {
        /// How many incidents.
        #[arg(long, default_value_t = 400)]
        incidents: usize,
        /// Seed of the generator.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Where to write the reliability diagram.
        #[arg(long)]
        png: Option<std::path::PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: OutputFormat,
    },
    /// Print the JSON Schema of a document kind.
    Schema {
        /// SignatureLibrary, ActionLibrary, Topology, Overrides or Decision.
        kind: String,
    },

    // --- Evaluations and importers (docs/evaluation.md) ---
    /// Convert rules from other tools into HealBot documents.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Measure HealBot on published datasets.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Check { paths, format } => check::run(&paths, format),
        Command::Schema { kind } => schema(&kind),
        Command::Test { paths, format, verbose } => test_cmd::run(&paths, format, verbose),
        Command::Replay { library, topology, telemetry, step, format, input_format, until, all } => {
            replay::run(&replay::Options { library, topology, telemetry, step, input_format, format, until, all })
        }
        Command::Explain { file, id, node, json } => explain::run(&file, id.as_deref(), node.as_deref(), json),
        Command::Graph { topology, highlight, decisions, output } => {
            graph::run(&topology, highlight.as_deref(), decisions.as_deref(), output.as_deref())
        }
        Command::Calibrate { incidents, seed, png, format } => calibrate_cmd(incidents, seed, png.as_deref(), format),
        Command::Import(cmd) => import::run(cmd),
        Command::Eval(cmd) => eval::run(cmd),
    };
    ExitCode::from(code)
}

fn schema(kind: &str) -> u8 {
    use healbot_core::spec::{schema_for, DocumentKind};
    if kind == "Decision" {
        out!("{}", healbot_core::decision::decision_schema());
        return 0;
    }
    match DocumentKind::parse(kind) {
        Some(k) => {
            out!("{}", schema_for(k));
            0
        }
        None => {
            let kinds: Vec<&str> = DocumentKind::ALL.iter().map(|k| k.as_str()).collect();
            eprintln!("healbot schema: unknown kind `{kind}`; expected one of {}, Decision", kinds.join(", "));
            2
        }
    }
}

fn calibrate_cmd(incidents: usize, seed: u64, png: Option<&std::path::Path>, format: OutputFormat) -> u8 {
    let report = match calibrate::run(incidents, seed) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("healbot calibrate: {e}");
            return 2;
        }
    };
    match format {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&report).unwrap_or_default()),
        OutputFormat::Text => out!("{}", calibrate::render(&report)),
    }
    if let Some(path) = png {
        if let Err(e) = calibrate::write_png(&report, path) {
            eprintln!("healbot calibrate: {e}");
            return 2;
        }
    }
    0
}
