//! The `healbot` command: check documents, print schemas (and, as the engine
//! grows, test, replay, explain and graph).
//!
//! Exit codes: 0 success, 1 invalid input (diagnostics printed), 2 usage or
//! I/O errors.

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
