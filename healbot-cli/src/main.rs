//! The `healbot` command: check documents, print schemas (and, as the engine
//! grows, test, replay, explain and graph).
//!
//! Exit codes: 0 success, 1 invalid input (diagnostics printed), 2 usage or
//! I/O errors.

mod calibrate;
mod check;
mod files;
mod render;

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
        Command::Calibrate { incidents, seed, png, format } => calibrate_cmd(incidents, seed, png.as_deref(), format),
    };
    ExitCode::from(code)
}

fn schema(kind: &str) -> u8 {
    use healbot_core::spec::{schema_for, DocumentKind};
    if kind == "Decision" {
        print!("{}", healbot_core::decision::decision_schema());
        return 0;
    }
    match DocumentKind::parse(kind) {
        Some(k) => {
            print!("{}", schema_for(k));
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
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default()),
        OutputFormat::Text => print!("{}", calibrate::render(&report)),
    }
    if let Some(path) = png {
        if let Err(e) = calibrate::write_png(&report, path) {
            eprintln!("healbot calibrate: {e}");
            return 2;
        }
    }
    0
}
