//! Which figures a validation error moves, and by how much.
//!
//! No validator tells a performance team what an error costs: "14 DEC dates before DECOM" says
//! nothing about whether the stability figure the committee sees is wrong. For every DfE rule
//! that flags children in a return, the return's indicators are computed twice — as returned,
//! and with the flagged children left out of that collection's tables — and every figure that
//! changes is listed with both values. Leaving the children out is the question the LA can
//! answer without guessing the fix: it bounds how much of the figure rests on the rows to be
//! corrected. A finding about the whole return (no child) moves no figure by this measure and
//! is not listed.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use polars::prelude::*;

use super::catalogue::{Catalogue, Unit};
use super::evaluate::{EvalError, Options, evaluate, supports};
use super::period::{Period, PeriodType};
use crate::derive::{Canonical, Facts, OnlyLas};
use crate::domain::dates::{collection_year_end, from_epoch_days};
use crate::domain::schema::VALUES;
use crate::ingest::canonical::CanonicalTable;
use crate::ingest::reference::ReferenceTables;
use crate::ingest::report::{Issue, Severity};
use crate::ingest::returns::{Collection, ReturnKey};

/// The children one DfE rule flags in one return.
#[derive(Debug, Clone, PartialEq)]
pub struct FlaggedChildren {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    /// Rows flagged (a child may be flagged on several rows).
    pub rows: usize,
    pub children: BTreeSet<String>,
}

/// The DfE findings among `issues` that name a child, grouped by rule (in code order).
pub fn flagged_children<'a>(issues: impl IntoIterator<Item = &'a Issue>) -> Vec<FlaggedChildren> {
    let mut by_rule: BTreeMap<&str, FlaggedChildren> = BTreeMap::new();
    for issue in issues {
        if !matches!(issue.severity, Severity::DfeError | Severity::DfeQuery) {
            continue;
        }
        let Some(child) = &issue.child else { continue };
        let entry = by_rule
            .entry(issue.rule)
            .or_insert_with(|| FlaggedChildren {
                rule: issue.rule.to_string(),
                severity: issue.severity,
                message: issue.message.clone(),
                rows: 0,
                children: BTreeSet::new(),
            });
        entry.rows += 1;
        entry.children.insert(child.clone());
    }
    by_rule.into_values().collect()
}

/// A figure a rule's flagged children move.
#[derive(Debug, Clone, PartialEq)]
pub struct Moved {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    /// Children the rule flags in the return (all left out for `without`).
    pub children: usize,
    pub rows: usize,
    pub indicator_id: String,
    pub title: String,
    pub unit: Unit,
    pub period_type: PeriodType,
    pub period_end: NaiveDate,
    /// A breakdown's category, or a measure of a multi-measure indicator (`None`: the headline).
    pub breakdown: Option<String>,
    /// The figure as returned.
    pub with: Option<f64>,
    /// The figure with the flagged children left out.
    pub without: Option<f64>,
}

impl Moved {
    /// The change, `without − with` (`None` when either side has no figure).
    pub fn change(&self) -> Option<f64> {
        Some(self.without? - self.with?)
    }
}

/// The figures each rule moves in one return: the collection's indicators for the return's
/// collection year (and its 31 March snapshot), as held and without each rule's children.
/// Sorted by rule, then by the size of the change (largest first), then indicator.
pub fn moved_figures(
    catalogue: &Catalogue,
    source: &dyn Canonical,
    reference: &ReferenceTables,
    key: ReturnKey,
    flagged: &[FlaggedChildren],
) -> Result<Vec<Moved>, EvalError> {
    if flagged.is_empty() {
        return Ok(vec![]);
    }
    let periods = [
        Period::year(key.year),
        Period::snapshot(collection_year_end(key.year)),
    ];
    let ids = collection_indicators(catalogue, key.collection, &periods);
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let options = Options {
        drilldown: false,
        only: ids,
    };
    let la = OnlyLas {
        inner: source,
        las: vec![key.la_code.to_string()],
    };
    let baseline = figures(&evaluate(
        catalogue,
        &Facts::new(&la, reference),
        &periods,
        &options,
    )?)
    .map_err(|source| EvalError {
        id: "(impact)".into(),
        source,
    })?;
    let mut out = vec![];
    // Rules that flag the same children move the figures the same way: computed once.
    let mut by_children: BTreeMap<&BTreeSet<String>, BTreeMap<FigureKey, Option<f64>>> =
        BTreeMap::new();
    // One rule after another: each is a fresh set of fact tables, built on polars' pool (a
    // parallel loop here would nest one evaluation's fact builds inside another's).
    for rule in flagged {
        if !by_children.contains_key(&rule.children) {
            let without = Without {
                inner: &la,
                collection: key.collection,
                children: rule.children.iter().cloned().collect(),
            };
            let figures = figures(&evaluate(
                catalogue,
                &Facts::new(&without, reference),
                &periods,
                &options,
            )?)
            .map_err(|source| EvalError {
                id: format!("(impact of rule {})", rule.rule),
                source,
            })?;
            by_children.insert(&rule.children, figures);
        }
        out.extend(moved_by_rule(
            catalogue,
            rule,
            &baseline,
            &by_children[&rule.children],
        ));
    }
    Ok(out)
}

/// The ids of the indicators computed from `collection` for any of `periods`.
fn collection_indicators(
    catalogue: &Catalogue,
    collection: Collection,
    periods: &[Period],
) -> Vec<String> {
    catalogue
        .definitions
        .iter()
        .filter(|d| d.fact_table().collection() == Some(collection))
        .filter(|d| periods.iter().any(|p| supports(d, p.kind)))
        .map(|d| d.id.clone())
        .collect()
}

/// The figures that differ between `baseline` and `after` (the rule's children left out),
/// largest change first, then by indicator and breakdown.
fn moved_by_rule(
    catalogue: &Catalogue,
    rule: &FlaggedChildren,
    baseline: &BTreeMap<FigureKey, Option<f64>>,
    after: &BTreeMap<FigureKey, Option<f64>>,
) -> Vec<Moved> {
    let mut moved: Vec<Moved> = vec![];
    let keys: BTreeSet<&FigureKey> = baseline.keys().chain(after.keys()).collect();
    for k in keys {
        let with = baseline.get(k).copied().flatten();
        let without = after.get(k).copied().flatten();
        if !differs(with, without) {
            continue;
        }
        let Some(def) = catalogue.definitions.iter().find(|d| d.id == k.0) else {
            continue;
        };
        moved.push(Moved {
            rule: rule.rule.clone(),
            severity: rule.severity,
            message: rule.message.clone(),
            children: rule.children.len(),
            rows: rule.rows,
            indicator_id: k.0.clone(),
            title: def.title.clone(),
            unit: def.unit,
            period_type: k.1,
            period_end: k.2,
            breakdown: k.3.clone(),
            with,
            without,
        });
    }
    moved.sort_by(|a, b| {
        let size = |m: &Moved| m.change().map_or(f64::INFINITY, f64::abs);
        size(b)
            .total_cmp(&size(a))
            .then_with(|| a.indicator_id.cmp(&b.indicator_id))
            .then_with(|| a.breakdown.cmp(&b.breakdown))
    });
    moved
}

/// (indicator, period type, period end, breakdown).
type FigureKey = (String, PeriodType, NaiveDate, Option<String>);

/// Two figures differ when one is missing or they differ beyond rounding noise.
fn differs(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() > 1e-9 * a.abs().max(b.abs()).max(1.0),
        (None, None) => false,
        _ => true,
    }
}

/// The values of an evaluation, by figure.
fn figures(
    evaluation: &super::evaluate::Evaluation,
) -> PolarsResult<BTreeMap<FigureKey, Option<f64>>> {
    let df = &evaluation.values;
    let mut out = BTreeMap::new();
    if df.height() == 0 {
        return Ok(out);
    }
    let ids = VALUES.text(df, "indicator_id")?;
    let kinds = VALUES.text(df, "period_type")?;
    let ends = VALUES.date(df, "period_end")?;
    let breakdowns = VALUES.text(df, "breakdown")?;
    let values = VALUES.number(df, "value")?;
    for i in 0..df.height() {
        let (Some(id), Some(kind), Some(end)) = (ids.get(i), kinds.get(i), ends.get(i)) else {
            continue;
        };
        let Some(kind) = PeriodType::from_name(kind) else {
            continue;
        };
        out.insert(
            (
                id.to_string(),
                kind,
                from_epoch_days(end),
                breakdowns.get(i).map(str::to_string),
            ),
            values.get(i),
        );
    }
    Ok(out)
}

/// Canonical tables with some children's rows of one collection left out.
struct Without<'a> {
    inner: &'a dyn Canonical,
    collection: Collection,
    children: Vec<String>,
}

impl Canonical for Without<'_> {
    fn table(&self, table: CanonicalTable) -> PolarsResult<LazyFrame> {
        let lf = self.inner.table(table)?;
        if table.collection() != self.collection {
            return Ok(lf);
        }
        let children = Series::new("children".into(), self.children.clone());
        Ok(lf.filter(
            col("child")
                .is_in(lit(children).implode(false), false)
                .not()
                .or(col("child").is_null()),
        ))
    }

    fn returns_held(&self) -> PolarsResult<Vec<ReturnKey>> {
        self.inner.returns_held()
    }
}
