//! Readers: statutory returns (SSDA903 CSV and XML, CIN census XML) into canonical, typed,
//! validated polars tables, the multi-year history store, and the reference tables.

pub mod annex_a;
pub mod canonical;
pub mod csv_lines;
pub mod dfe;
pub mod inspections;
pub mod population;
pub mod reference;
pub mod report;
pub mod returns;
pub mod rules;
pub mod spec;
pub mod ssda903_csv;
pub mod store;
pub mod table;
pub mod text;
pub mod xml;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use polars::prelude::PolarsError;
use thiserror::Error;

use crate::domain::la::LaCode;
use report::{Report, Severity};
use returns::{Collection, Hints, ReturnKey};
use store::{Store, StoreError};

/// Why an ingest stopped. Problems with the input never stop it (they are in the report); these
/// are problems with the store itself or the machine.
#[derive(Debug, Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Data(#[from] PolarsError),
}

/// What an ingest run did.
#[derive(Debug, Default)]
pub struct IngestOutcome {
    /// Validation of the files read (file-, row- and cross-row problems), with a note per
    /// return on the tables replaced and kept.
    pub report: Report,
    /// Records superseded while rebuilding the histories.
    pub history_report: Report,
    /// The returns this ingest changed.
    pub returns: Vec<ReturnKey>,
    /// Input files that could not be read, or only in part (a file-level error, or a file cut
    /// off part-way), as named in the report: the run is incomplete when this is not empty.
    pub files_not_read: Vec<String>,
    /// The generation the store reads after the ingest (unchanged if no return changed).
    pub generation: u64,
    /// Where the validation report was written (without extension).
    pub report_stem: PathBuf,
    /// The files each return read was read from, as named in the report (a finding about
    /// the whole return names them all, joined by ", ").
    pub return_files: BTreeMap<ReturnKey, Vec<String>>,
}

/// Reads every return under `inputs`, validates it, saves it in the store and rebuilds the
/// histories of the LAs it touched. The validation report covers this run's files and is
/// written to `<store>/validation/report.{csv,parquet}` (and the history notes beside it).
///
/// The whole ingest is one step of the store (see [`store`]): it holds the store's lock, writes
/// a new generation and switches to it only at the end, so a failure or a crash part-way leaves
/// the store as it was. A table of a saved return is replaced only by a table read in this run.
pub fn ingest(
    inputs: &[PathBuf],
    store: &Store,
    hints: &Hints,
) -> Result<IngestOutcome, IngestError> {
    let (files, mut found) = returns::discover(inputs, hints);
    let base: Vec<PathBuf> = inputs
        .iter()
        .map(|p| {
            if p.is_dir() {
                p.clone()
            } else {
                p.parent().map(Path::to_path_buf).unwrap_or_default()
            }
        })
        .collect();
    let label = |path: &Path| -> String {
        base.iter()
            .find_map(|b| path.strip_prefix(b).ok())
            .map(|rel| rel.to_string_lossy().replace('\\', "/"))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| path.to_string_lossy().into_owned())
    };
    let mut outcome = IngestOutcome::default();
    outcome.report.extend(found.drain(..));
    let mut writer = store.begin()?;
    let written =
        write_returns(&files, &label, hints.as_at, &mut writer, &mut outcome).and_then(|()| {
            outcome.report.sort();
            outcome.history_report.sort();
            outcome.files_not_read = files_not_read(&outcome.report);
            // Written under the lock, so they are this ingest's; the switch comes last, so a
            // failure anywhere leaves the history as it was.
            let dir = store.root.join("validation");
            outcome.report_stem = dir.join("report");
            store::write_report(&outcome.report, &outcome.report_stem)?;
            store::write_report(&outcome.history_report, &dir.join("history_notes"))?;
            // An ingest that changed no return makes no new generation.
            if !outcome.returns.is_empty() {
                writer.commit()?;
            }
            Ok(())
        });
    let committed = written.is_ok() && !outcome.returns.is_empty();
    if !committed {
        writer.discard();
    }
    written?;
    outcome.generation = store.generation();
    Ok(outcome)
}

/// Reads, saves and rebuilds, one LA at a time, into the writer's new generation.
fn write_returns(
    files: &[returns::InputFile],
    label: &(dyn Fn(&Path) -> String + Sync),
    as_at: Option<chrono::NaiveDate>,
    writer: &mut store::StoreWriter<'_>,
    outcome: &mut IngestOutcome,
) -> Result<(), IngestError> {
    // One LA at a time, so memory holds one LA's returns however many LAs are read (files
    // whose LA is only in their content are read together at the end).
    let mut by_la: BTreeMap<Option<String>, Vec<returns::InputFile>> = BTreeMap::new();
    for f in files {
        by_la.entry(f.la_code.clone()).or_default().push(f.clone());
    }
    for (_, group) in by_la {
        let held = |la: &LaCode, year: i32, collection: Collection| {
            writer.held_tables(la, year, collection)
        };
        let (mut returns, unassigned) = returns::read_returns_over(&group, label, &held, as_at);
        outcome.report.merge(unassigned);
        let mut las = BTreeSet::new();
        for r in &mut returns {
            if writer.save_return(r)?.changed() {
                las.insert(r.la_code);
                outcome.returns.push(r.key());
            }
        }
        for r in returns {
            outcome
                .return_files
                .insert(r.key(), r.files.iter().map(|f| f.to_string()).collect());
            outcome.report.merge(r.report);
        }
        for la in &las {
            outcome.history_report.merge(writer.rebuild_history(la)?);
        }
    }
    Ok(())
}

/// The files a report says could not be read, wholly or in part: a file-level error (the
/// report's convention: an error with no location) or a file cut off part-way.
pub fn files_not_read(report: &Report) -> Vec<String> {
    let files: BTreeSet<String> = report
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .filter(|i| i.location.is_empty() || i.rule == "truncated_xml")
        .map(|i| i.file.to_string())
        .collect();
    files.into_iter().collect()
}
