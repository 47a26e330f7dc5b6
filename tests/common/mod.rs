//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use polars::prelude::*;

pub mod cin;

/// A fixture folder under tests/fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// One cell as plain text: dates ISO, strings unquoted, nulls empty.
pub fn cell(v: AnyValue) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Date(d) => {
            cspi::domain::dates::format_iso(cspi::domain::dates::from_epoch_days(d))
        }
        AnyValue::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// The rows of a table as `a|b|c` strings over the given columns, in table order.
pub fn rows(df: &DataFrame, columns: &[&str]) -> Vec<String> {
    let cols: Vec<&Column> = columns
        .iter()
        .map(|c| df.column(c).unwrap_or_else(|_| panic!("column {c}")))
        .collect();
    (0..df.height())
        .map(|i| {
            cols.iter()
                .map(|c| cell(c.get(i).unwrap()))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

/// An indicator's total row (no breakdown), for one period or the only one:
/// (numerator, denominator, value); None when the figure is not reported.
pub fn figure(
    values: &DataFrame,
    id: &str,
    period: Option<&cspi::indicators::period::Period>,
) -> Option<(f64, Option<f64>, Option<f64>)> {
    let mut filter = col("indicator_id")
        .eq(lit(id))
        .and(col("breakdown").is_null());
    if let Some(p) = period {
        filter = filter
            .and(col("period_type").eq(lit(p.kind.name())))
            .and(col("period_end").eq(lit(p.end)));
    }
    let row = values.clone().lazy().filter(filter).collect().unwrap();
    if row.height() == 0 {
        return None;
    }
    assert_eq!(row.height(), 1, "{id} {period:?}: {row}");
    let g = |c: &str| row.column(c).unwrap().f64().unwrap().get(0);
    Some((g("numerator").unwrap_or(0.0), g("denominator"), g("value")))
}

/// The children behind an indicator's figure for one period (all in its drill-down, or only
/// those in the numerator), sorted.
pub fn drilldown_children(
    drilldown: &std::collections::BTreeMap<String, DataFrame>,
    id: &str,
    period: &cspi::indicators::period::Period,
    numerator_only: bool,
) -> Vec<String> {
    let df = &drilldown[id];
    let end_days = cspi::domain::dates::to_epoch_days(period.end);
    let mut mask = df
        .column("period_type")
        .unwrap()
        .str()
        .unwrap()
        .equal(period.kind.name())
        & df.column("period_end")
            .unwrap()
            .date()
            .unwrap()
            .physical()
            .equal(end_days);
    if numerator_only {
        mask = mask & df.column("in_numerator").unwrap().bool().unwrap().clone();
    }
    let mut out: Vec<String> = df
        .filter(&mask)
        .unwrap()
        .column("child")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    out.sort();
    out
}

/// Ingests the returns under `input` into a fresh store and evaluates the shipped catalogue
/// (`only` these indicators when not empty) for `periods`: the evaluation and the ingest's
/// report.
pub fn ingest_and_evaluate(
    input: &Path,
    periods: &[cspi::indicators::period::Period],
    only: &[&str],
    drilldown: bool,
) -> (
    cspi::indicators::evaluate::Evaluation,
    cspi::ingest::report::Report,
) {
    let dir = tempfile::tempdir().unwrap();
    let store = cspi::ingest::store::Store::new(dir.path().join("store"));
    let outcome = cspi::ingest::ingest(
        &[input.to_path_buf()],
        &store,
        &cspi::ingest::returns::Hints::default(),
    )
    .unwrap();
    let facts =
        cspi::derive::Facts::new(&store, cspi::ingest::reference::ReferenceTables::embedded());
    let evaluation = cspi::indicators::evaluate::evaluate(
        &cspi::indicators::catalogue::Catalogue::embedded().unwrap(),
        &facts,
        periods,
        &cspi::indicators::evaluate::Options {
            drilldown,
            only: only.iter().map(|s| s.to_string()).collect(),
        },
    )
    .unwrap();
    (evaluation, outcome.report)
}
