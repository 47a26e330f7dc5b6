//! `cspi validate`: DfE's rules over returns, with no store; a DfE-style error report.

use std::path::PathBuf;

use cspi::ingest::report::Severity;
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
    #[command(flatten)]
    hints: super::ReturnHints,
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
        hints: args.hints.hints(),
        impact: !args.no_impact,
    };
    let request_as_at = request.hints.as_at;
    let v = validate(&request)?;
    let written = write(
        &args.out,
        &ValidationInput {
            report: &v.report,
            returns: &v.returns,
            moved: &v.moved,
            previous_read: v.previous_read,
            as_at: request_as_at,
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
        let extract = request_as_at
            .and_then(|d| cspi::ingest::returns::extract_date(d, key.year))
            .map(|d| format!(" (in-year extract to {d})"))
            .unwrap_or_default();
        println!(
            "{} {} {}{extract}: {} DfE error rows, {} query rows, {} rows rejected by the reader",
            key.collection.name(),
            key.la_code,
            key.year,
            of(Severity::DfeError),
            of(Severity::DfeQuery),
            of(Severity::Error)
        );
    }
    if let Some(date) = request_as_at
        && !v
            .returns
            .iter()
            .any(|(k, _)| cspi::ingest::returns::extract_date(date, k.year).is_some())
    {
        println!(
            "--as-at {date}: no return of its collection year was read; every return was judged as a whole year"
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
