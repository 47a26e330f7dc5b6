//! The steps of the main job, each one function over a resolved [`Plan`]: `cspi run` calls them
//! in order, and `cspi compute`, `compare`, `context` and `annex-a produce` each call theirs, so
//! a step's inputs, defaults and outputs are the same whichever command runs it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::DataFrame;

use super::PipelineError;
use super::plan::Plan;
use crate::compare::context::{self, Context};
use crate::compare::{self as comparison, Benchmarks, Source};
use crate::derive::annex_a::Windows;
use crate::derive::{Facts, OnlyLas};
use crate::indicators::evaluate::{self, Evaluation, Options};
use crate::indicators::output;
use crate::indicators::period::Period;
use crate::ingest::inspections::Inspections;
use crate::ingest::store::Store;

/// The catalogue over the facts for the periods, written to `dir` (the long table, and the
/// child-level drill-down when asked for): the run's "indicators" step and `cspi compute`.
pub fn indicators(
    plan: &Plan,
    facts: &Facts,
    periods: &[Period],
    options: &Options,
    dir: &Path,
) -> Result<(Evaluation, Vec<PathBuf>), PipelineError> {
    let result = evaluate::evaluate(&plan.catalogue, facts, periods, options)?;
    let mut outputs = output::write_values(&result.values, dir)?;
    if options.drilldown {
        outputs.push(output::write_drilldown(&result.drilldown, dir)?);
    }
    Ok((result, outputs))
}

/// The benchmarks of a source: DfE's published figures (from the plan's tables), or the
/// engine's own over `values` (every LA's figures, not only those reported on).
pub fn benchmarks(
    plan: &Plan,
    source: Source,
    values: &DataFrame,
) -> Result<Benchmarks, PipelineError> {
    Ok(match source {
        Source::Published => Benchmarks::published(&plan.catalogue, &plan.tables, &plan.index)?,
        Source::Computed => Benchmarks::computed(&plan.catalogue, values, &plan.index)?,
    })
}

/// The comparison table of `values` against the benchmarks, written to `dir`; `la` is the LA
/// the config's own neighbour list belongs to (when it gives one).
pub fn compare(
    plan: &Plan,
    values: &DataFrame,
    benchmarks: &Benchmarks,
    la: Option<&str>,
    dir: &Path,
) -> Result<(DataFrame, Vec<PathBuf>), PipelineError> {
    let table = comparison::compare(
        &plan.catalogue,
        values,
        benchmarks,
        &plan.index,
        &plan.compare_options(la),
    )?;
    let outputs = comparison::table::write(&table, dir, benchmarks.source)?;
    Ok((table, outputs))
}

/// The figures a run has already computed, for the steps that would otherwise evaluate them
/// again: the long table and the periods it was evaluated for.
#[derive(Clone, Copy)]
pub struct Computed<'a> {
    pub values: &'a DataFrame,
    pub periods: &'a [Period],
}

/// The inspection report's context section for the LA at the date, written to `dir`. Figures
/// `computed` holds are read from it; the others (another date's snapshot, say) are evaluated.
pub fn context_section(
    plan: &Plan,
    store: &Store,
    la: &str,
    date: NaiveDate,
    computed: Option<Computed>,
    dir: &Path,
) -> Result<(Context, Vec<PathBuf>), PipelineError> {
    let only = OnlyLas {
        inner: store,
        las: vec![la.to_string()],
    };
    let facts = Facts::new(&only, &plan.tables);
    let section = context::context(
        &plan.catalogue,
        &facts,
        &plan.index,
        &context::Request {
            la,
            date,
            compare: plan.context.compare,
            template: &plan.context.template,
            local: &plan.context.local,
            inspections: Inspections::embedded(),
            computed: computed.map(|c| (c.values, c.periods)),
        },
    )?;
    let outputs = context::write(&section, dir).map_err(|e| PipelineError::Io(dir.into(), e))?;
    Ok((section, outputs))
}

/// The Annex A lists an inspection would ask for at the date (the plan's framework's windows,
/// with its local data), as the workbook `dir/annex_a_<la>_<date>.xlsx`: child-level, for the
/// performance team and inspectors only.
pub fn annex_a(
    plan: &Plan,
    store: &Store,
    la: &str,
    date: NaiveDate,
    dir: &Path,
) -> Result<(BTreeMap<u8, DataFrame>, PathBuf), PipelineError> {
    let only = OnlyLas {
        inner: store,
        las: vec![la.to_string()],
    };
    let facts = Facts::new(&only, &plan.tables);
    let windows = Windows::for_framework(date, plan.framework);
    let lists = crate::derive::annex_a::produce(&facts, la, windows, plan.annex_a_local.as_ref())?;
    let path = dir.join(format!("annex_a_{la}_{date}.xlsx"));
    crate::render::annex_a::write_workbook(&path, &plan.la_name(la), windows, &lists)?;
    Ok((lists, path))
}
