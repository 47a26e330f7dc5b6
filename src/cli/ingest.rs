//! `cspi ingest`: read returns into the validated history store.

use std::path::PathBuf;

use anyhow::Context;
use cspi::ingest::{self, returns::Hints, store::Store};

/// Read SSDA903 (CSV or XML) and CIN census (XML) returns, validate them and add them to the
/// history store. Folders are searched recursively; the LA and year of each file come from
/// --la/--year, from a `<la_code>/<year>/` folder layout, or from the CIN header.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Return files or folders holding them.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The history store folder (created if absent).
    #[arg(long, default_value = "out/store")]
    store: PathBuf,
    /// The LA's 3-digit DfE code, for files not under a `<la_code>/<year>/` folder.
    #[arg(long)]
    la: Option<String>,
    /// The collection year (year ending 31 March), for files not under a `<year>/` folder.
    #[arg(long)]
    year: Option<i32>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let store = Store::new(&args.store);
    let hints = Hints {
        la_code: args.la,
        year: args.year,
    };
    let outcome = ingest::ingest(&args.inputs, &store, &hints).context("ingest failed")?;
    println!("{}", outcome.report.summary());
    println!(
        "{} returns saved in {}; histories rebuilt ({} superseded records noted)",
        outcome.returns.len(),
        store.root.display(),
        outcome.history_report.issues.len()
    );
    println!(
        "validation report: {}.csv (and .parquet)",
        outcome.report_stem.display()
    );
    Ok(())
}
