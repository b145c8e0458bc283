//! `healbot eval nezha DIR`: root-cause accuracy on the Nezha fault-injection dataset.

use std::path::PathBuf;

/// `healbot eval ...`: the datasets HealBot can be measured on.
#[derive(Debug, clap::Subcommand)]
pub enum EvalCommand {
    /// Root-cause accuracy (AS@k) on a Nezha Online Boutique day.
    Nezha(NezhaArgs),
}

/// Arguments of `healbot eval nezha`.
#[derive(Debug, clap::Args)]
pub struct NezhaArgs {
    /// The dataset folder (fault list and `metric/`).
    #[arg(default_value = "../shared/corpora/nezha-ob-2022-08-22")]
    pub dir: PathBuf,
}

/// Runs an evaluation subcommand; returns the exit code.
pub fn run(cmd: EvalCommand) -> u8 {
    match cmd {
        EvalCommand::Nezha(args) => {
            eprintln!("healbot eval nezha: {}: not implemented yet", args.dir.display());
            2
        }
    }
}
