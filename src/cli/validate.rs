//! `cspi validate`: DfE's rules over returns, with no store; a DfE-style error report.

use std::path::PathBuf;

use cspi::domain::la::LaCode;
use cspi::ingest::report::Severity;
use cspi::ingest::returns::Hints;
use cspi::render::validation::{ValidationInput, moved_reading, write};
use cspi::validate::{Request, validate};

use super::Status;

/// Check SSDA903 (CSV or XML) and CIN census (XML) returns against DfE's validation rules for
/// their collection year, as DfE would before accepting them, and write the error report
/// (workbook, CSV per sheet, one HTML page): per rule, per child and row with the blamed
/// fields' values, the rules not run and why, and the figures each error moves. Nothing is
/// stored; the inputs are only read. The report is child-level.
///
/// Exit status: 0 when every input was read (whatever the rules found), 3 when some input could
/// not be read, 1 on failure, 2 for a mistake in the command line.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Return files or folders holding them.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Last year's return (files or folders), so the cross-year rules run.
    #[arg(long)]
    previous: Vec<PathBuf>,
    /// The LA's 3-digit DfE code, for files not under a `<la_code>/<year>/` folder.
    #[arg(long, value_parser = super::la_code)]
    la: Option<LaCode>,
    /// The collection year (year ending 31 March), for files not under a `<year>/` folder.
    #[arg(long, value_parser = super::collection_year)]
    year: Option<i32>,
    /// Where the report is written.
    #[arg(long, default_value = "out/validation")]
    out: PathBuf,
    /// Skip working out the figures each error moves (the rules alone are faster).
    #[arg(long)]
    no_impact: bool,
}

pub fn run(args: Args) -> anyhow::Result<Status> {
    let request = Request {
        inputs: args.inputs,
        previous: args.previous,
        hints: Hints {
            la_code: args.la,
            year: args.year,
        },
        impact: !args.no_impact,
    };
    let v = validate(&request)?;
    let written = write(
        &args.out,
        &ValidationInput {
            report: &v.report,
            returns: &v.returns,
            moved: &v.moved,
            previous_read: v.previous_read,
        },
    )?;
    for (key, files) in &v.returns {
        let of = |s: Severity| {
            v.report
                .issues
                .iter()
                .filter(|i| i.severity == s && i.in_files(files))
                .count()
        };
        println!(
            "{} {} {}: {} DfE error rows, {} query rows, {} rows rejected by the reader",
            key.collection.name(),
            key.la_code,
            key.year,
            of(Severity::DfeError),
            of(Severity::DfeQuery),
            of(Severity::Error)
        );
    }
    if !v.previous_read {
        println!("no previous year's return read: the cross-year rules did not run (--previous)");
    }
    let moved: Vec<_> = v.moved.iter().flat_map(|(_, m)| m).collect();
    if !moved.is_empty() {
        println!("largest moves:");
        let mut by_size = moved.clone();
        by_size.sort_by(|a, b| {
            let size = |m: &&cspi::indicators::impact::Moved| m.change().map_or(0.0, f64::abs);
            size(b).total_cmp(&size(a))
        });
        for m in by_size.iter().take(5) {
            println!("  {}", moved_reading(m));
        }
    }
    println!("report (child-level): {}", args.out.display());
    for p in written {
        println!("  {}", p.display());
    }
    Ok(super::incomplete_if(&v.files_not_read))
}
