//! `cspi ingest`: read returns into the validated history store.

use std::path::PathBuf;

use cspi::ingest::{self, store::Store};

use super::Status;

/// Read SSDA903 (CSV or XML) and CIN census (XML) returns, validate them and add them to the
/// history store. Folders are searched recursively; the LA and year of each file come from
/// --la/--year, from a `<la_code>/<year>/` folder layout, or from the CIN header.
///
/// Exit status: 0 when every input was read, 3 when some input could not be read (the rest is
/// saved and the summary printed; the validation report lists each file), 1 when the store
/// could not be written (nothing changed), 2 for a mistake in the command line.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Return files or folders holding them.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The history store folder (created if absent).
    #[arg(long, default_value = "out/store")]
    store: PathBuf,
    #[command(flatten)]
    hints: super::ReturnHints,
}

pub fn run(args: Args) -> anyhow::Result<Status> {
    let store = Store::new(&args.store);
    let hints = args.hints.hints();
    let outcome = ingest::ingest(&args.inputs, &store, &hints)
        .map_err(|e| anyhow::anyhow!("ingest failed; the history store is unchanged: {e}"))?;
    println!("{}", outcome.report.summary());
    println!(
        "{} returns saved in {} (generation {}); histories rebuilt ({} superseded records noted)",
        outcome.returns.len(),
        store.root.display(),
        outcome.generation,
        outcome.history_report.issues.len()
    );
    println!(
        "validation report: {}.csv (and .parquet)",
        outcome.report_stem.display()
    );
    Ok(super::incomplete_if(&outcome.files_not_read))
}
