//! `cspi validate`: the DfE rules over returns, with no store, and the figures each error moves.
//!
//! A performance team checks a return (or a monthly extract in the return's format) before it
//! is sent, not after it is in a history. Validation therefore reads the files through a
//! scratch store of its own — the same readers, the same rules in the same order, last year's
//! return first when it is given, so the cross-year rules run — and deletes it afterwards. The
//! result is the report of the returns asked about (not of last year's, which is context), and
//! for each return the figures its DfE findings move ([`crate::indicators::impact`]).

use std::path::PathBuf;

use thiserror::Error;

use crate::indicators::catalogue::{Catalogue, CatalogueError};
use crate::indicators::evaluate::EvalError;
use crate::indicators::impact::{self, Moved};
use crate::ingest::reference::ReferenceTables;
use crate::ingest::report::Report;
use crate::ingest::returns::{Hints, ReturnKey};
use crate::ingest::store::Store;
use crate::ingest::{self, IngestError};

#[derive(Debug, Error)]
pub enum ValidateError {
    #[error("a scratch folder for reading the returns: {0}")]
    Scratch(std::io::Error),
    #[error("{0}")]
    Ingest(#[from] IngestError),
    #[error("{0}")]
    Catalogue(#[from] CatalogueError),
    #[error("{0}")]
    Evaluate(#[from] EvalError),
}

/// What to validate.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Return files or folders.
    pub inputs: Vec<PathBuf>,
    /// Last year's return (files or folders), for the cross-year rules; never reported on.
    pub previous: Vec<PathBuf>,
    /// The LA and collection year of files whose path and contents do not say (the previous
    /// return is taken to be the year before).
    pub hints: Hints,
    /// Work out the figures each error moves (the indicators computed per failing rule).
    pub impact: bool,
}

/// The returns validated, what the rules found and what it moves.
#[derive(Debug, Default)]
pub struct Validation {
    /// Every problem in the inputs (not in the previous return): the readers', cspi's
    /// cross-row checks and DfE's rules, with notes of the rules that could not run.
    pub report: Report,
    /// The returns read, with the files each came from.
    pub returns: Vec<(ReturnKey, Vec<String>)>,
    /// Whether last year's return was read (the cross-year rules ran).
    pub previous_read: bool,
    /// The figures the DfE findings move, by return.
    pub moved: Vec<(ReturnKey, Vec<Moved>)>,
    /// Input files that could not be read, or only in part.
    pub files_not_read: Vec<String>,
}

/// Validates the returns in `request.inputs`.
pub fn validate(request: &Request) -> Result<Validation, ValidateError> {
    let scratch = tempfile::Builder::new()
        .prefix("cspi-validate-")
        .tempdir()
        .map_err(ValidateError::Scratch)?;
    let store = Store::new(scratch.path().join("store"));
    let mut previous_read = false;
    if !request.previous.is_empty() {
        // Last year's return is whole: an extract's date is this year's.
        let hints = Hints {
            la_code: request.hints.la_code,
            year: request.hints.year.map(|y| y - 1),
            as_at: None,
        };
        let last = ingest::ingest(&request.previous, &store, &hints)?;
        previous_read = !last.returns.is_empty();
    }
    let outcome = ingest::ingest(&request.inputs, &store, &request.hints)?;
    let mut validation = Validation {
        report: outcome.report,
        previous_read,
        files_not_read: outcome.files_not_read,
        ..Validation::default()
    };
    for key in &outcome.returns {
        let files = outcome.return_files.get(key).cloned().unwrap_or_default();
        validation.returns.push((*key, files));
    }
    if request.impact {
        validation.moved = moved_figures(
            &Catalogue::embedded()?,
            &store,
            &validation.report,
            &validation.returns,
        )?;
    }
    Ok(validation)
}

/// The figures each return's DfE findings move, computed with `catalogue` over `source` (the
/// store the returns were saved in): a finding belongs to the return whose files it names.
pub fn moved_figures(
    catalogue: &Catalogue,
    source: &dyn crate::derive::Canonical,
    report: &Report,
    returns: &[(ReturnKey, Vec<String>)],
) -> Result<Vec<(ReturnKey, Vec<Moved>)>, ValidateError> {
    let reference = ReferenceTables::embedded();
    let mut out = vec![];
    for (key, files) in returns {
        let issues = report.issues.iter().filter(|i| i.in_files(files));
        let flagged = impact::flagged_children(issues);
        out.push((
            *key,
            impact::moved_figures(catalogue, source, reference, *key, &flagged)?,
        ));
    }
    Ok(out)
}
