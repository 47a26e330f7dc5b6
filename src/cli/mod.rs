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
mod validate;

use clap::{Parser, Subcommand};
use cspi::domain::la::LaCode;

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
    /// Check returns against DfE's validation rules (no store): the error report and the
    /// figures each error moves.
    Validate(validate::Args),
    /// The DfE validation rules: list them, show one, run their cases.
    #[command(subcommand)]
    Rules(rules::Command),
}

/// How a command that did not fail ended. With a fatal error (exit 1) and a command-line
/// mistake (clap's exit 2) this makes the exit codes a scheduled run can act on:
///
/// | code | meaning |
/// |---|---|
/// | 0 | done: every input was read |
/// | 1 | failed: the message says what, where and what to do; the store is unchanged |
/// | 2 | the command line is wrong (unknown option, invalid `--la`, …) |
/// | 3 | done, but some input could not be read: what could be read was saved and the outputs written; the validation report lists each file |
///
/// Rows rejected inside files that were read are data-quality findings, not failures: they are
/// in the report and do not change the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Done,
    InputsNotRead,
}

impl Status {
    pub fn code(self) -> u8 {
        match self {
            Status::Done => 0,
            Status::InputsNotRead => 3,
        }
    }
}

/// [`Status::InputsNotRead`] (said on stderr, with the files) when some input was not read.
pub fn incomplete_if(files_not_read: &[String]) -> Status {
    if files_not_read.is_empty() {
        return Status::Done;
    }
    const SHOWN: usize = 10;
    eprintln!(
        "warning: {} input file{} could not be read (exit status 3): {}{}",
        files_not_read.len(),
        if files_not_read.len() == 1 { "" } else { "s" },
        files_not_read
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        if files_not_read.len() > SHOWN {
            ", … (see the validation report)"
        } else {
            ""
        }
    );
    Status::InputsNotRead
}

/// What the command line says of returns whose files do not: their LA, their collection year,
/// and whether they are in-year extracts.
#[derive(Debug, Clone, clap::Args)]
pub struct ReturnHints {
    /// The LA's 3-digit DfE code, for files not under a `<la_code>/<year>/` folder.
    #[arg(long, value_parser = la_code)]
    la: Option<LaCode>,
    /// The collection year (year ending 31 March), for files not under a `<year>/` folder.
    #[arg(long, value_parser = collection_year)]
    year: Option<i32>,
    /// The returns of this date's collection year are in-year extracts running to it
    /// (YYYY-MM-DD, before 31 March): the DfE rules judge open episodes, ages and durations at
    /// this date instead of 31 March.
    #[arg(long, value_parser = extract_date)]
    as_at: Option<chrono::NaiveDate>,
}

impl ReturnHints {
    pub fn hints(&self) -> cspi::ingest::returns::Hints {
        cspi::ingest::returns::Hints {
            la_code: self.la,
            year: self.year,
            as_at: self.as_at,
        }
    }
}

/// `--as-at` of an extract: a date before the 31 March of a collection year the store can hold.
fn extract_date(text: &str) -> Result<chrono::NaiveDate, String> {
    let date = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|e| format!("`{text}`: expected a date YYYY-MM-DD ({e})"))?;
    let year = cspi::domain::dates::collection_year(date);
    if !cspi::domain::dates::COLLECTION_YEARS.contains(&year) {
        return Err(format!("{date} is not in a collection year cspi reads"));
    }
    cspi::ingest::returns::extract_date(date, year).ok_or_else(|| {
        format!("{date} is the 31 March of collection year {year}: the whole year, not an extract")
    })
}

/// `--la`: a DfE 3-digit code known to the reference tables.
pub fn la_code(text: &str) -> Result<LaCode, String> {
    LaCode::parse(text).map_err(|e| e.to_string())
}

/// `--framework`: an inspection framework version.
pub fn framework(text: &str) -> Result<cspi::domain::framework::Framework, String> {
    cspi::domain::framework::Framework::parse(text).ok_or_else(|| {
        format!(
            "`{text}`: expected one of {}",
            cspi::domain::framework::Framework::ALL
                .map(|f| f.id())
                .join(", ")
        )
    })
}

/// `--year`: a collection year the store can hold.
pub fn collection_year(text: &str) -> Result<i32, String> {
    let range = cspi::domain::dates::COLLECTION_YEARS;
    text.trim()
        .parse::<i32>()
        .ok()
        .filter(|y| range.contains(y))
        .ok_or_else(|| {
            format!(
                "expected a collection year from {} to {} (the year ending 31 March, e.g. 2025)",
                range.start(),
                range.end()
            )
        })
}

pub fn run(cli: Cli) -> anyhow::Result<Status> {
    let done = |r: anyhow::Result<()>| r.map(|()| Status::Done);
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Reference(command) => done(reference::run(command)),
        Command::Synth(args) => done(synth::run(args)),
        Command::Compute(args) => done(compute::run(args)),
        Command::Compare(args) => done(compare::run(args)),
        Command::Context(args) => done(context::run(args)),
        Command::AnnexA(command) => annex_a::run(command),
        Command::Indicators(command) => done(indicators::run(command)),
        Command::Rules(command) => done(rules::run(command)),
        Command::Validate(args) => validate::run(args),
    }
}
