//! Runs a collection year's DfE rules over one return.
//!
//! The rule tables and views are built once ([`super::views`]); then every `where` rule of a
//! table is one boolean column of a single select over that table's view (one pass, evaluated in
//! parallel by polars), and every `query` rule runs on its own (in parallel across rules). A rule
//! whose data is not supplied (last year's return, a complete postcode directory, the Ofsted
//! provider list) is reported as not run — never as passed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::*;
use polars::sql::sql_expr;
use rayon::prelude::*;

use super::catalogue::{Check, Need, Rule, RuleCatalogue, RuleSeverity, Version};
use super::views::{self, RuleReference, RuleTables, ViewInputs};
use crate::domain::dates::{format_dmy, format_iso, from_epoch_days};
use crate::ingest::returns::Collection;
use crate::ingest::rules::Tables;
use crate::ingest::spec::DateStyle;
use crate::ingest::table::{INVALID_COLUMN, field_name, invalid_value};

/// Last year's return, for the cross-year rules.
#[derive(Clone, Copy)]
pub struct PreviousReturn<'a> {
    pub year: i32,
    pub tables: &'a Tables,
}

/// One return and what its rules may read besides it.
pub struct RuleInputs<'a> {
    pub collection: Collection,
    pub year: i32,
    /// The date an in-year extract runs to (see [`ViewInputs::as_at`]).
    pub as_at: Option<chrono::NaiveDate>,
    pub la_code: &'a str,
    pub tables: &'a Tables,
    pub file_values: &'a BTreeMap<String, String>,
    pub previous: Option<PreviousReturn<'a>>,
    pub reference: &'a RuleReference,
}

/// A row a rule flags.
#[derive(Debug, Clone)]
pub struct Finding<'c> {
    pub rule: &'c Rule,
    pub version: &'c Version,
    /// The flagged table (`return` for a finding about the whole return).
    pub table: String,
    /// The row's position in that table as read.
    pub row_id: u32,
    /// The blamed fields as the LA knows them (`DECOM`, `CINreferralDate`) and their values as
    /// sent (an unreadable value as its text).
    pub values: Vec<(String, String)>,
}

/// A rule that could not run on this return, and why.
#[derive(Debug, Clone)]
pub struct NotRun<'c> {
    pub rule: &'c Rule,
    pub reason: String,
}

/// What the rules found.
#[derive(Debug, Default)]
pub struct Outcome<'c> {
    pub findings: Vec<Finding<'c>>,
    pub not_run: Vec<NotRun<'c>>,
    /// Rules run (in force this year, data available).
    pub run: usize,
}

impl Outcome<'_> {
    pub fn count(&self, severity: RuleSeverity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.version.severity == severity)
            .count()
    }
}

/// Runs the rules in force for the return's collection year (all of them, or only `codes`).
pub fn run<'c>(
    catalogue: &'c RuleCatalogue,
    inputs: &RuleInputs,
    codes: Option<&[&str]>,
) -> PolarsResult<Outcome<'c>> {
    let mut outcome = Outcome::default();
    let runnable = runnable_rules(catalogue, inputs, codes, &mut outcome.not_run);
    if runnable.is_empty() {
        return Ok(outcome);
    }
    // Spans for the run and its two steps: with `CSPI_LOG=info` their close lines give the
    // time of the views and of the rules.
    let _run = tracing::info_span!(
        "dfe_rules",
        collection = inputs.collection.name(),
        la = %inputs.la_code,
        year = inputs.year,
        rules = runnable.len()
    )
    .entered();
    let tables =
        tracing::info_span!("views").in_scope(|| build_tables(catalogue, inputs, &runnable))?;
    outcome.run = runnable.len();
    let flagged = tracing::info_span!("rules").in_scope(|| flag_rows(&tables, &runnable))?;
    outcome.findings = findings(inputs.collection, &tables, &runnable, flagged);
    Ok(outcome)
}

/// The rules in force this year (or those named) whose data is supplied; the others go to
/// `not_run` with what they need.
fn runnable_rules<'c>(
    catalogue: &'c RuleCatalogue,
    inputs: &RuleInputs,
    codes: Option<&[&str]>,
    not_run: &mut Vec<NotRun<'c>>,
) -> Vec<(&'c Rule, &'c Version)> {
    let mut runnable = vec![];
    for (rule, version) in catalogue.in_force(inputs.collection, inputs.year) {
        if codes.is_some_and(|c| !c.iter().any(|c| c.eq_ignore_ascii_case(rule.code))) {
            continue;
        }
        let missing: Vec<&str> = version
            .needs
            .iter()
            .filter(|n| match n {
                Need::Previous => inputs.previous.is_none(),
                Need::Postcodes => !inputs.reference.postcodes_complete,
                Need::Providers => inputs.reference.providers.is_none(),
            })
            .map(|n| n.describe())
            .collect();
        if missing.is_empty() {
            runnable.push((rule, version));
        } else {
            not_run.push(NotRun {
                rule,
                reason: format!("needs {}", missing.join(" and ")),
            });
        }
    }
    runnable
}

/// The rule tables and only the views the rules to run read (all of them for a whole return;
/// a few for one rule's case).
fn build_tables(
    catalogue: &RuleCatalogue,
    inputs: &RuleInputs,
    runnable: &[(&Rule, &Version)],
) -> PolarsResult<RuleTables> {
    let specs = catalogue
        .views
        .get(&inputs.collection)
        .cloned()
        .unwrap_or_default();
    let mut names: BTreeSet<String> = BTreeSet::new();
    for (_, v) in runnable {
        names.insert(v.table.clone());
        if let Some(Check::Query(q)) = &v.check {
            names.extend(crate::domain::sql::tables_read(q).unwrap_or_default());
        }
    }
    let needed = views::needed(&specs, &names);
    views::build(
        &ViewInputs {
            collection: inputs.collection,
            year: inputs.year,
            as_at: inputs.as_at,
            la_code: inputs.la_code,
            tables: inputs.tables,
            file_values: inputs.file_values,
            previous: inputs.previous.map(|p| (p.year, p.tables)),
            reference: inputs.reference,
        },
        &specs,
        Some(&needed),
    )
}

/// Each flagged row with its blamed fields' values, read from the rule table's view.
fn findings<'c>(
    collection: Collection,
    tables: &RuleTables,
    runnable: &[(&'c Rule, &'c Version)],
    flagged: Vec<BTreeSet<u32>>,
) -> Vec<Finding<'c>> {
    let style = collection.spec().date_style;
    let mut index: HashMap<&str, HashMap<u32, usize>> = HashMap::new();
    let mut out = vec![];
    for ((rule, version), ids) in runnable.iter().zip(flagged) {
        let Some(view) = tables.get(&version.table) else {
            continue;
        };
        let rows = index
            .entry(version.table.as_str())
            .or_insert_with(|| row_index(view));
        for id in ids {
            let values = rows
                .get(&id)
                .map(|&i| field_values(collection, &version.table, view, i, &version.fields, style))
                .unwrap_or_default();
            out.push(Finding {
                rule,
                version,
                table: version.table.clone(),
                row_id: id,
                values,
            });
        }
    }
    out
}

/// The reader's own rejections that are DfE rules (`reader:` checks of key fields): for each
/// reader issue, the rules in force that it is, as (rule, version, index of the issue).
pub fn reader_findings<'c>(
    catalogue: &'c RuleCatalogue,
    collection: Collection,
    year: i32,
    issues: &[crate::ingest::report::Issue],
) -> Vec<(&'c Rule, &'c Version, usize)> {
    let checks: Vec<(&Rule, &Version, &super::catalogue::ReaderCheck, String)> = catalogue
        .in_force(collection, year)
        .filter_map(|(rule, v)| {
            let r = v.reader.as_ref()?;
            let column = collection
                .spec()
                .table(&v.table)
                .and_then(|t| t.columns.iter().find(|c| c.name == r.field))?;
            Some((rule, v, r, field_name(column)))
        })
        .collect();
    let mut out = vec![];
    for (i, issue) in issues.iter().enumerate() {
        if issue.severity != crate::ingest::report::Severity::Error {
            continue;
        }
        for (rule, v, check, field) in &checks {
            if issue.table == v.table && &issue.field == field && check.matches(issue.rule) {
                out.push((*rule, *v, i));
            }
        }
    }
    out
}

/// The flagged row ids of each rule, in the order given.
fn flag_rows(tables: &RuleTables, rules: &[(&Rule, &Version)]) -> PolarsResult<Vec<BTreeSet<u32>>> {
    let mut out: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); rules.len()];
    // `where` rules: one select per table.
    let mut by_table: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (_, v)) in rules.iter().enumerate() {
        if let Some(Check::Where(_)) = v.check {
            by_table.entry(v.table.as_str()).or_default().push(i);
        }
    }
    for (table, members) in by_table {
        let Some(view) = tables.get(table) else {
            continue;
        };
        let mut exprs = vec![col("row_id")];
        for &i in &members {
            let expr = sql_expr(rules[i].1.check.as_ref().map_or("", Check::sql))
                .map_err(|e| polars_err!(ComputeError: "rule {}: {e}", rules[i].0.code))?;
            exprs.push(expr.fill_null(lit(false)).alias(format!("__rule_{i}")));
        }
        let flags = view.clone().lazy().select(exprs).collect()?;
        let ids = flags.column("row_id")?.u32()?.clone();
        for &i in &members {
            let f = flags.column(&format!("__rule_{i}"))?.bool()?;
            for (id, hit) in ids.iter().zip(f.iter()) {
                if let (Some(id), Some(true)) = (id, hit) {
                    out[i].insert(id);
                }
            }
        }
    }
    // `query` rules: each on its own, in parallel.
    let queries: Vec<(usize, PolarsResult<BTreeSet<u32>>)> = crate::domain::threads::pool()
        .install(|| {
            rules
                .par_iter()
                .enumerate()
                .filter(|(_, (_, v))| matches!(v.check, Some(Check::Query(_))))
                .map(|(i, (rule, v))| {
                    let result = (|| {
                        let mut ctx = tables.context();
                        let df = ctx
                            .execute(v.check.as_ref().map_or("", Check::sql))?
                            .select([col("row_id")])
                            .collect()?;
                        let ids = df.column("row_id")?.u32()?;
                        Ok(ids.iter().flatten().collect::<BTreeSet<u32>>())
                    })()
                    .map_err(|e: PolarsError| polars_err!(ComputeError: "rule {}: {e}", rule.code));
                    (i, result)
                })
                .collect()
        });
    for (i, ids) in queries {
        out[i] = ids?;
    }
    Ok(out)
}

fn row_index(view: &DataFrame) -> HashMap<u32, usize> {
    let mut out = HashMap::new();
    if let Ok(ids) = view.column("row_id").and_then(|c| Ok(c.u32()?.clone())) {
        for (i, id) in ids.iter().enumerate() {
            if let Some(id) = id {
                out.entry(id).or_insert(i);
            }
        }
    }
    out
}

/// The blamed fields of one view row, named as the LA's return names them.
fn field_values(
    collection: Collection,
    table: &str,
    view: &DataFrame,
    row: usize,
    fields: &[String],
    style: DateStyle,
) -> Vec<(String, String)> {
    let spec = collection.spec().table(table);
    let invalid = view
        .column(INVALID_COLUMN)
        .ok()
        .and_then(|c| c.str().ok().and_then(|s| s.get(row).map(str::to_string)));
    fields
        .iter()
        .map(|field| {
            let name = spec
                .and_then(|t| t.column_index(field).map(|i| field_name(&t.columns[i])))
                .unwrap_or_else(|| field.to_uppercase());
            let value = view
                .column(field)
                .ok()
                .and_then(|c| c.get(row).ok())
                .map(|v| format_value(&v, style))
                .unwrap_or_default();
            let value = match (
                value.is_empty(),
                invalid.as_deref().and_then(|s| invalid_value(s, field)),
            ) {
                (true, Some(raw)) => format!("{raw} (not valid)"),
                _ => value,
            };
            (name, value)
        })
        .collect()
}

fn format_value(value: &AnyValue, style: DateStyle) -> String {
    match value {
        AnyValue::Null => String::new(),
        AnyValue::Date(d) => {
            let date = from_epoch_days(*d);
            match style {
                DateStyle::Dmy => format_dmy(date),
                DateStyle::Iso => format_iso(date),
            }
        }
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}
