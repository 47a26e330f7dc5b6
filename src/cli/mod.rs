//! One module per command (xsv style), each a thin layer over the library.

mod annex_a;
mod compare;
mod compute;
mod context;
mod indicators;
mod ingest;
mod reference;
mod rules;
mod run;
mod select;
mod synth;

use clap::{Parser, Subcommand};

/// Performance indicators for children's services in England, from the statutory returns.
#[derive(Debug, Parser)]
#[command(name = "cspi", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job: ingest → indicators → benchmarks → packs (default data when no --config).
    Run(run::Args),
    /// Read returns into the validated history store.
    Ingest(ingest::Args),
    /// Reference tables: LAs, statistical neighbours, populations, published figures.
    #[command(subcommand)]
    Reference(reference::Command),
    /// Generate synthetic SSDA903 and CIN census returns.
    Synth(synth::Args),
    /// Compute the indicator catalogue from the history store.
    Compute(compute::Args),
    /// Compare figures with statistical neighbours, region and England.
    Compare(compare::Args),
    /// Draft the inspection report's context section for an LA at a date.
    Context(context::Args),
    /// Ofsted Annex A lists: produce the workbook from the history, or read and analyse lists.
    #[command(subcommand, name = "annex-a")]
    AnnexA(annex_a::Command),
    /// The indicator catalogue: list, show a definition, list fact tables.
    #[command(subcommand)]
    Indicators(indicators::Command),
    /// The DfE validation rules: list them, show one, run their cases.
    #[command(subcommand)]
    Rules(rules::Command),
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Reference(command) => reference::run(command),
        Command::Synth(args) => synth::run(args),
        Command::Compute(args) => compute::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Context(args) => context::run(args),
        Command::AnnexA(command) => annex_a::run(command),
        Command::Indicators(command) => indicators::run(command),
        Command::Rules(command) => rules::run(command),
    }
}
