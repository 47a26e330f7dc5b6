//! Readers: statutory returns (SSDA903 CSV and XML, CIN census XML) into canonical, typed,
//! validated polars tables, the multi-year history store, and the reference tables.

pub mod annex_a;
pub mod csv_lines;
pub mod dfe;
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

use std::path::{Path, PathBuf};

use polars::prelude::PolarsResult;

use report::Report;
use returns::{Collection, Hints};
use store::Store;

/// What an ingest run did.
#[derive(Debug, Default)]
pub struct IngestOutcome {
    /// Validation of the files read (file-, row- and cross-row problems).
    pub report: Report,
    /// Records superseded while rebuilding the histories.
    pub history_report: Report,
    /// The returns saved: (LA, collection year, collection).
    pub returns: Vec<(String, i32, Collection)>,
    /// Where the validation report was written (without extension).
    pub report_stem: PathBuf,
}

/// Reads every return under `inputs`, validates it, saves it in the store and rebuilds the
/// histories of the LAs it touched. The validation report covers this run's files and is
/// written to `<store>/validation/report.{csv,parquet}` (and the history notes beside it).
pub fn ingest(inputs: &[PathBuf], store: &Store, hints: &Hints) -> PolarsResult<IngestOutcome> {
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
    // One LA at a time, so memory holds one LA's returns however many LAs are read (files
    // whose LA is only in their content are read together at the end).
    let mut by_la: std::collections::BTreeMap<Option<String>, Vec<returns::InputFile>> =
        std::collections::BTreeMap::new();
    for f in files {
        by_la.entry(f.la_code.clone()).or_default().push(f);
    }
    for (_, group) in by_la {
        let previous =
            |la: &str, year: i32, collection: Collection| store.return_tables(la, year, collection);
        let (mut returns, unassigned) = returns::read_returns(&group, &label, &previous);
        outcome.report.merge(unassigned);
        let mut las = std::collections::BTreeSet::new();
        for r in &mut returns {
            store.save_return(r)?;
            las.insert(r.la_code.clone());
            outcome
                .returns
                .push((r.la_code.clone(), r.year, r.collection));
        }
        for r in returns {
            outcome.report.merge(r.report);
        }
        for la in &las {
            outcome.history_report.merge(store.rebuild_history(la)?);
        }
    }
    outcome.report.sort();
    outcome.history_report.sort();
    let dir = store.root.join("validation");
    outcome.report_stem = dir.join("report");
    store::write_report(&outcome.report, &outcome.report_stem)?;
    store::write_report(&outcome.history_report, &dir.join("history_notes"))?;
    Ok(outcome)
}
