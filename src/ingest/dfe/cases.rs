//! A rule's own cases: a few rows per table written in the rule file, read by the same
//! [`TableBuilder`] as a real return (so a case sees codes, dates and `_invalid` flags exactly as
//! a return would), validated as the case's collection year, and compared row by row with the
//! rows the case says the rule flags.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use polars::prelude::*;

use super::catalogue::{Case, Rule, RuleCatalogue};
use super::engine::{self, PreviousReturn, RuleInputs};
use super::views::{RuleReference, empty_providers};
use crate::ingest::csv_lines::records;
use crate::ingest::returns::{Collection, empty_table};
use crate::ingest::rules::Tables;
use crate::ingest::spec::{ColumnSpec, TableSpec};
use crate::ingest::table::{RowSource, TableBuilder, field_name};

/// How one case went.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub code: &'static str,
    pub case: String,
    pub year: i32,
    /// Rows the case says are flagged.
    pub expected: BTreeSet<u32>,
    /// Rows the rule flagged.
    pub flagged: BTreeSet<u32>,
    /// Rows of the rule's table in the case.
    pub rows: u32,
    /// Why the case could not run (bad table text, rule not in force, data missing).
    pub error: Option<String>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.expected == self.flagged
    }
}

/// Runs one case of a rule.
pub fn run_case(catalogue: &RuleCatalogue, rule: &Rule, case: &Case) -> CaseResult {
    let year = case.year.unwrap_or_else(|| rule.first_year());
    let mut result = CaseResult {
        code: rule.code,
        case: case.name.clone(),
        year,
        expected: case.flagged.iter().copied().collect(),
        flagged: BTreeSet::new(),
        rows: 0,
        error: None,
    };
    if let Err(e) = run_into(catalogue, rule, case, year, &mut result) {
        result.error = Some(e);
    }
    result
}

/// A case's return, last year's return and reference tables, read as a real return would be.
struct CaseData {
    la: String,
    tables: Tables,
    /// Rows the reader rejected: (table, data row, the reader's issue).
    rejected: Vec<(String, u32, crate::ingest::report::Issue)>,
    previous: Option<Tables>,
    reference: RuleReference,
    as_at: Option<chrono::NaiveDate>,
}

fn case_data(rule: &Rule, case: &Case, year: i32) -> Result<CaseData, String> {
    let la = case.la.clone().unwrap_or_else(|| "925".into());
    let file = case.file.as_deref().unwrap_or("case.csv");
    let as_at = match case.as_at.as_deref() {
        None => None,
        Some(text) => Some(in_year_date(text, year)?),
    };
    let (tables, rejected) = case_tables(rule.collection, &case.tables, &la, year, file)?;
    let previous = if case.previous.is_empty() {
        None
    } else {
        let (t, r) = case_tables(rule.collection, &case.previous, &la, year - 1, file)?;
        if let Some((table, row, issue)) = r.first() {
            return Err(format!(
                "last year's {table} row {row} was rejected by the reader: {}",
                issue.message
            ));
        }
        Some(t)
    };
    Ok(CaseData {
        reference: case_reference(&case.reference)?,
        la,
        tables,
        rejected,
        previous,
        as_at,
    })
}

/// A case's `as_at`: a date in the case's collection year before its 31 March, as an in-year
/// extract's would be.
fn in_year_date(text: &str, year: i32) -> Result<chrono::NaiveDate, String> {
    crate::domain::dates::parse_date(text)
        .filter(|d| crate::ingest::returns::extract_date(*d, year).is_some())
        .ok_or_else(|| {
            format!("as_at `{text}` is not a date in collection year {year} before 31 March")
        })
}

impl CaseData {
    fn inputs<'a>(&'a self, rule: &Rule, case: &'a Case, year: i32) -> RuleInputs<'a> {
        RuleInputs {
            collection: rule.collection,
            year,
            as_at: self.as_at,
            la_code: &self.la,
            tables: &self.tables,
            file_values: &case.file_values,
            previous: self.previous.as_ref().map(|t| PreviousReturn {
                year: year - 1,
                tables: t,
            }),
            reference: &self.reference,
        }
    }
}

/// Every table a case's rule reads, as built for the case (for writing and debugging rules:
/// `cspi rules view`).
pub fn case_views(
    catalogue: &RuleCatalogue,
    rule: &Rule,
    case: &Case,
) -> Result<super::views::RuleTables, String> {
    let year = case.year.unwrap_or_else(|| rule.first_year());
    let data = case_data(rule, case, year)?;
    let inputs = data.inputs(rule, case, year);
    let specs = catalogue
        .views
        .get(&rule.collection)
        .cloned()
        .unwrap_or_default();
    super::views::build(
        &super::views::ViewInputs {
            collection: inputs.collection,
            year,
            as_at: inputs.as_at,
            la_code: inputs.la_code,
            tables: inputs.tables,
            file_values: inputs.file_values,
            previous: inputs.previous.map(|p| (p.year, p.tables)),
            reference: inputs.reference,
        },
        &specs,
        None,
    )
    .map_err(|e| e.to_string())
}

fn run_into(
    catalogue: &RuleCatalogue,
    rule: &Rule,
    case: &Case,
    year: i32,
    result: &mut CaseResult,
) -> Result<(), String> {
    let version = rule
        .version(year)
        .ok_or_else(|| format!("rule {} is not in force in {year}", rule.code))?;
    let data = case_data(rule, case, year)?;
    // The reader's half: the rows it rejected for the rule's key field.
    let issues: Vec<crate::ingest::report::Issue> =
        data.rejected.iter().map(|(_, _, i)| i.clone()).collect();
    let mut explained = std::collections::BTreeSet::new();
    for (r, v, i) in engine::reader_findings(catalogue, rule.collection, year, &issues) {
        if r.code == rule.code && std::ptr::eq(v, version) {
            result.flagged.insert(data.rejected[i].1);
            explained.insert(i);
        }
    }
    if let Some((i, (table, row, issue))) = data
        .rejected
        .iter()
        .enumerate()
        .find(|(i, _)| !explained.contains(i))
    {
        let _ = i;
        return Err(format!(
            "{table} row {row} was rejected by the reader: {}",
            issue.message
        ));
    }
    let table_rows = case.tables.get(&version.table).map_or(0, |t| {
        records(t)
            .filter(|r| !r.is_blank())
            .count()
            .saturating_sub(1) as u32
    });
    if version.check.is_none() {
        result.rows = table_rows;
        return Ok(());
    }
    let inputs = data.inputs(rule, case, year);
    let outcome = engine::run(catalogue, &inputs, Some(&[rule.code])).map_err(|e| e.to_string())?;
    if let Some(not_run) = outcome.not_run.first() {
        return Err(format!("the rule did not run: {}", not_run.reason));
    }
    let rows = match data.tables.get(&version.table) {
        Some(df) => df
            .column("source_row")
            .map_err(|e| e.to_string())?
            .u32()
            .map_err(|e| e.to_string())?
            .clone(),
        None if version.table == "return" => UInt32Chunked::from_slice("source_row".into(), &[1]),
        None => return Err(format!("the case has no {} table", version.table)),
    };
    result.rows = (rows.len() as u32).max(table_rows);
    for f in outcome.findings {
        if let Some(row) = rows.iter().nth(f.row_id as usize).flatten() {
            result.flagged.insert(row);
        }
    }
    Ok(())
}

/// The reference tables of a case: the shipped ones (real postcodes, sectors, LAs), with
/// postcodes and providers replaced where the case gives them (a case's postcode table is
/// treated as a complete directory).
fn case_reference(given: &BTreeMap<String, String>) -> Result<RuleReference, String> {
    let mut reference = RuleReference::embedded().clone();
    for (name, text) in given {
        match name.as_str() {
            "postcodes" => {
                reference.postcodes = read_reference_csv(text, &reference.postcodes)?;
                reference.postcodes_complete = true;
            }
            "providers" => {
                reference.providers = Some(read_reference_csv(text, &empty_providers())?);
            }
            other => {
                return Err(format!(
                    "unknown reference table `{other}` (postcodes, providers)"
                ));
            }
        }
    }
    Ok(reference)
}

/// A small CSV read into a reference table's schema (text cast to each column's type).
fn read_reference_csv(text: &str, like: &DataFrame) -> Result<DataFrame, String> {
    let mut it = records(text).filter(|r| !r.is_blank());
    let header: Vec<String> = it
        .next()
        .map(|r| {
            r.fields
                .iter()
                .map(|f| f.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<Vec<String>> = it.map(|r| r.fields).collect();
    let mut columns = vec![];
    for field in like.schema().iter_fields() {
        let name = field.name().as_str();
        let at = header.iter().position(|h| h == name);
        let values: Vec<Option<String>> = rows
            .iter()
            .map(|r| {
                at.and_then(|i| r.get(i))
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            })
            .collect();
        let text = Series::new(name.into(), values);
        let typed = match field.dtype() {
            DataType::Date => text
                .str()
                .map_err(|e| e.to_string())?
                .iter()
                .map(|v| {
                    v.and_then(crate::domain::dates::parse_date)
                        .map(crate::domain::dates::to_epoch_days)
                })
                .collect::<Int32Chunked>()
                .into_date()
                .into_series()
                .with_name(name.into()),
            dtype => text.cast(dtype).map_err(|e| e.to_string())?,
        };
        columns.push(typed.into_column());
    }
    for h in &header {
        if like.schema().get(h).is_none() {
            return Err(format!("unknown reference column `{h}`"));
        }
    }
    DataFrame::new(rows.len(), columns).map_err(|e| e.to_string())
}

/// Case tables from CSV text, through the reader's table builder.
#[allow(clippy::type_complexity)]
pub fn case_tables(
    collection: Collection,
    given: &BTreeMap<String, String>,
    la: &str,
    year: i32,
    file_name: &str,
) -> Result<(Tables, Vec<(String, u32, crate::ingest::report::Issue)>), String> {
    let spec = collection.spec();
    let mut tables = Tables::new();
    let mut rejected = vec![];
    for (name, text) in given {
        let table = spec.table(name).ok_or_else(|| {
            format!(
                "unknown {} table `{name}`; tables: {}",
                collection.name(),
                spec.tables
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let (df, r) = read_table(collection, table, text, la, year, file_name)?;
        tables.insert(name.clone(), df);
        rejected.extend(r.into_iter().map(|(row, issue)| (name.clone(), row, issue)));
    }
    for table in &spec.tables {
        if !tables.contains_key(&table.name) {
            tables.insert(table.name.clone(), empty_table(collection, table, la, year));
        }
    }
    Ok((tables, rejected))
}

/// A header cell names a column by its canonical name, 903 CSV header or XML element.
fn column_for(table: &TableSpec, header: &str) -> Option<usize> {
    let h = header.trim();
    table.columns.iter().position(|c: &ColumnSpec| {
        c.name.eq_ignore_ascii_case(h)
            || c.csv.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(h))
            || field_name(c).eq_ignore_ascii_case(h)
    })
}

fn read_table(
    collection: Collection,
    table: &TableSpec,
    text: &str,
    la: &str,
    year: i32,
    file_name: &str,
) -> Result<(DataFrame, Vec<(u32, crate::ingest::report::Issue)>), String> {
    let mut lines = records(text).filter(|r| !r.is_blank());
    let header = lines
        .next()
        .ok_or_else(|| format!("{}: no header row", table.name))?;
    let index: Vec<usize> = header
        .fields
        .iter()
        .map(|h| {
            column_for(table, h)
                .ok_or_else(|| format!("{}: unknown column `{}`", table.name, h.trim()))
        })
        .collect::<Result<_, _>>()?;
    let mut builder = TableBuilder::new(
        table,
        collection.codes(),
        year,
        collection.spec().date_style,
    );
    let file: Arc<str> = Arc::from(file_name);
    let locate = |_: &ColumnSpec| String::new();
    let mut rejected = vec![];
    for (n, record) in lines.enumerate() {
        let mut raw: Vec<Option<&str>> = vec![None; table.columns.len()];
        for (cell, &at) in record.fields.iter().zip(&index) {
            raw[at] = Some(cell.as_str());
        }
        let row = n as u32 + 1;
        let mut issues = vec![];
        let source = RowSource {
            file: &file,
            source_row: row,
            locate: &locate,
        };
        if !builder.push_row(&raw, &source, &mut issues) {
            rejected.extend(
                issues
                    .into_iter()
                    .filter(|i| i.severity == crate::ingest::report::Severity::Error)
                    .map(|i| (row, i)),
            );
        }
    }
    let df = builder
        .finish(la, year, file_name)
        .map_err(|e| e.to_string())?;
    Ok((df, rejected))
}

/// Runs every case of every rule (or the rules given), and checks each version of each rule
/// has a case row it flags and one it passes.
pub fn run_all(
    catalogue: &RuleCatalogue,
    codes: Option<&[String]>,
) -> (Vec<CaseResult>, Vec<String>) {
    use rayon::prelude::*;
    // Statics initialised before the parallel section: a worker initialising a OnceLock while
    // polars runs work on its pool can steal another case and block on the lock it holds.
    let _ = RuleReference::embedded();
    let _ = super::views::calendar_table();
    let rules: Vec<&Rule> = catalogue
        .rules
        .iter()
        .filter(|r| codes.is_none_or(|c| c.iter().any(|c| c.eq_ignore_ascii_case(r.code))))
        .collect();
    // Rules in parallel (each case builds its own small return); results in catalogue order.
    let per_rule: Vec<(Vec<CaseResult>, Vec<String>)> =
        crate::domain::threads::pool().install(|| {
            rules
                .par_iter()
                .map(|rule| {
                    let mine: Vec<CaseResult> = rule
                        .cases
                        .iter()
                        .map(|c| run_case(catalogue, rule, c))
                        .collect();
                    let gaps = coverage_gaps(rule, &mine);
                    (mine, gaps)
                })
                .collect()
        });
    let mut results = vec![];
    let mut coverage = vec![];
    for (mine, gaps) in per_rule {
        results.extend(mine);
        coverage.extend(gaps);
    }
    (results, coverage)
}

/// The versions of a rule lacking a case row it flags or one it passes.
fn coverage_gaps(rule: &Rule, results: &[CaseResult]) -> Vec<String> {
    let mut gaps = vec![];
    for v in &rule.versions {
        let of_version: Vec<&CaseResult> = results.iter().filter(|r| v.in_force(r.year)).collect();
        let fails = of_version.iter().any(|r| !r.expected.is_empty());
        let passes = of_version
            .iter()
            .any(|r| (r.expected.len() as u32) < r.rows);
        if !fails || !passes {
            gaps.push(format!(
                "{} {}: the version from {} needs a case with {} (year in {}–{})",
                rule.collection.name(),
                rule.code,
                v.from,
                match (fails, passes) {
                    (false, false) => "a flagged row and a passing row",
                    (false, true) => "a flagged row",
                    _ => "a passing row",
                },
                v.from,
                v.to.map_or("".into(), |t| t.to_string())
            ));
        }
    }
    gaps
}
