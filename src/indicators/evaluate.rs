//! Evaluating the catalogue: one generic procedure for every definition.
//!
//! 1. **Periods.** Each fact-table row is matched to the reporting periods it belongs to by the
//!    definition's `in_period` rule. Within one period type the periods, sorted by end date,
//!    have non-decreasing starts, so the periods a row belongs to form a contiguous run found
//!    by two binary searches; rows are repeated once per period (no cross join), which makes a
//!    24-month rolling series one pass over the facts rather than 24 evaluations.
//! 2. **Cohort.** `where` filters rows; `per_child` optionally aggregates them per child and
//!    period; `cohort` picks the units in the denominator.
//! 3. **Aggregate** per LA and period (and breakdown): counts, numerators, sums; rates divide
//!    by the ONS population for the period's collection year.
//! 4. **Coverage.** A period is reported for an LA only if the LA's returns cover it;
//!    `history_complete` is false when the definition needs history before the period (12
//!    months for re-referrals) that the returns do not hold.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use thiserror::Error;

use super::catalogue::{
    BIRTH_COLUMNS, BreakdownDenominator, Catalogue, CountOf, Definition, InPeriod, Unit,
    compile_expression,
};
use super::period::{Period, PeriodType};
use crate::derive::{FactTable, Facts};
use crate::domain::dates::{collection_year_end, collection_year_start, to_epoch_days};
use crate::domain::schema::{DRILLDOWN, VALUES};
use crate::ingest::returns::ReturnKey;

/// A failure evaluating an indicator (an expression polars rejects at run time).
#[derive(Debug, Error)]
#[error("indicator {id}: {source}")]
pub struct EvalError {
    pub id: String,
    #[source]
    pub source: PolarsError,
}

/// What to compute.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Keep the children behind each figure.
    pub drilldown: bool,
    /// Only these indicator ids (all when empty).
    pub only: Vec<String>,
}

/// The results of a catalogue evaluation.
#[derive(Debug)]
pub struct Evaluation {
    /// The long table, with the columns [`VALUES`] declares (checked before it is returned).
    pub values: DataFrame,
    /// Per indicator, the children (units) behind each figure.
    pub drilldown: BTreeMap<String, DataFrame>,
}

/// The reporting periods as a table: period_id, period_type, period_start, period_end.
fn period_frame(periods: &[Period]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new(
            "period_id".into(),
            (0..periods.len() as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "period_type".into(),
            periods.iter().map(|p| p.kind.name()).collect::<Vec<_>>(),
        ),
        Int32Chunked::from_vec(
            "period_start".into(),
            periods.iter().map(|p| to_epoch_days(p.start)).collect(),
        )
        .into_date()
        .into_column(),
        Int32Chunked::from_vec(
            "period_end".into(),
            periods.iter().map(|p| to_epoch_days(p.end)).collect(),
        )
        .into_date()
        .into_column(),
    ])
}

fn dates(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i32>>> {
    Ok(df.column(name)?.date()?.physical().iter().collect())
}

/// For each row, the ids of the periods it belongs to (rows × periods pairs).
fn assign_periods(
    df: &DataFrame,
    rule: &InPeriod,
    periods: &[Period],
) -> PolarsResult<(Vec<IdxSize>, Vec<u32>)> {
    let mut rows = vec![];
    let mut ids = vec![];
    let mut kinds: BTreeMap<PeriodType, Vec<(i32, i32, u32)>> = BTreeMap::new();
    for (i, p) in periods.iter().enumerate() {
        kinds.entry(p.kind).or_default().push((
            to_epoch_days(p.start),
            to_epoch_days(p.end),
            i as u32,
        ));
    }
    for list in kinds.values_mut() {
        list.sort_by_key(|p| (p.1, p.0));
    }
    let (a, b) = match (&rule.event, &rule.open_at_end, &rule.overlaps) {
        (Some(e), _, _) => (dates(df, e)?, None),
        (_, Some([s, e]), _) | (_, _, Some([s, e])) => (dates(df, s)?, Some(dates(df, e)?)),
        _ => polars_bail!(ComputeError: "in_period has no rule"),
    };
    for list in kinds.values() {
        let ends: Vec<i32> = list.iter().map(|p| p.1).collect();
        let starts: Vec<i32> = list.iter().map(|p| p.0).collect();
        for i in 0..df.height() {
            let Some(x) = a[i] else { continue };
            let y = b.as_ref().and_then(|b| b[i]);
            // [lo, hi): candidate periods (contiguous by the sort), then the exact test.
            let (lo, hi) = if rule.event.is_some() {
                (
                    ends.partition_point(|&e| e < x),
                    starts.partition_point(|&s| s <= x),
                )
            } else if rule.open_at_end.is_some() {
                (
                    ends.partition_point(|&e| e < x),
                    y.map_or(ends.len(), |y| ends.partition_point(|&e| e < y)),
                )
            } else {
                (
                    ends.partition_point(|&e| e < x),
                    y.map_or(ends.len(), |y| starts.partition_point(|&s| s <= y)),
                )
            };
            for p in list.iter().take(hi).skip(lo) {
                let inside = if rule.event.is_some() {
                    p.0 <= x && x <= p.1
                } else if rule.open_at_end.is_some() {
                    x <= p.1 && y.is_none_or(|y| y > p.1)
                } else {
                    x <= p.1 && y.is_none_or(|y| y >= p.0)
                };
                if inside {
                    rows.push(i as IdxSize);
                    ids.push(p.2);
                }
            }
        }
    }
    Ok((rows, ids))
}

/// Each LA's coverage by the collection a fact table comes from: the first and last day of
/// the collection years it holds returns for (from the store, not the history, in which each
/// record keeps only its latest return's year).
fn coverage(facts: &Facts, table: FactTable) -> PolarsResult<DataFrame> {
    let mut span: BTreeMap<String, (i32, i32)> = BTreeMap::new();
    for ReturnKey {
        la_code,
        year,
        collection,
    } in facts.returns_held()?
    {
        if table.collection().is_none_or(|c| c == collection) {
            let e = span.entry(la_code.to_string()).or_insert((year, year));
            e.0 = e.0.min(year);
            e.1 = e.1.max(year);
        }
    }
    DataFrame::new_infer_height(vec![
        Column::new("la_code".into(), span.keys().cloned().collect::<Vec<_>>()),
        Int32Chunked::from_vec(
            "cover_start".into(),
            span.values()
                .map(|s| to_epoch_days(collection_year_start(s.0)))
                .collect(),
        )
        .into_date()
        .into_column(),
        Int32Chunked::from_vec(
            "cover_end".into(),
            span.values()
                .map(|s| to_epoch_days(collection_year_end(s.1)))
                .collect(),
        )
        .into_date()
        .into_column(),
    ])
}

/// A definition's SQL text as an expression, through the catalogue's guard: a
/// [`Definition`] built in code (not loaded by the catalogue) is checked here too, so no text
/// reaches polars' SQL front end unchecked.
fn sql(text: &str) -> PolarsResult<Expr> {
    compile_expression(text).map_err(|reason| polars_err!(InvalidOperation: "{reason}"))
}

/// Evaluates one definition over its fact table.
pub fn evaluate_one(
    def: &Definition,
    facts: &Facts,
    periods: &[Period],
    drilldown: bool,
) -> PolarsResult<(DataFrame, Option<DataFrame>)> {
    let periods: Vec<Period> = periods
        .iter()
        .copied()
        .filter(|p| supports(def, p.kind))
        .collect();
    let table = def.fact_table();
    let src = columns_used(def, &facts.get(table)?)?;
    let pf = period_frame(&periods)?;
    let rows = rows_per_period(def, &src, &periods)?;
    let cover = coverage(facts, table)?;
    let units = cohort(def, rows, &pf, &cover)?;
    let children = def.count == CountOf::Children || !def.per_child.is_empty();
    let measures = unit_measures(def)?;
    let units = units.cache();
    // Drill-downs list children; a table without them (population) has none.
    let drill_children = drilldown && src.schema().contains("child");
    let (parts, drill) = aggregate(def, &units, &measures, children, drill_children);
    let agg = concat(parts, UnionArgs::default())?;
    let all = figure_rows(def, covered_grid(cover, pf), agg)?;
    let all = with_denominators(def, facts, all)?;
    let values = values_table(def, all)?;
    let drill = if drilldown && !drill.is_empty() {
        Some(drilldown_table(def, drill)?)
    } else {
        None
    };
    Ok((values, drill))
}

/// The fact table with only the columns the definition reads.
fn columns_used(def: &Definition, full: &DataFrame) -> PolarsResult<DataFrame> {
    let used = def.columns_used();
    let keep: Vec<PlSmallStr> = full
        .get_column_names()
        .into_iter()
        .filter(|c| used.contains(c.as_str()))
        .cloned()
        .collect();
    full.select(keep)
}

/// Each row repeated once per period it belongs to, with that period's `period_id`.
fn rows_per_period(
    def: &Definition,
    src: &DataFrame,
    periods: &[Period],
) -> PolarsResult<DataFrame> {
    let (rows, ids) = assign_periods(src, &def.in_period, periods)?;
    let mut taken = src.take(&IdxCa::from_vec("rows".into(), rows))?;
    taken.with_column(Column::new("period_id".into(), ids))?;
    Ok(taken)
}

/// The period lies within the LA's coverage (`cover_start`..`cover_end`).
fn covered() -> Expr {
    col("period_start")
        .gt_eq(col("cover_start"))
        .and(col("period_end").lt_eq(col("cover_end")))
}

/// The units of the denominator: rows in the periods the LA's returns cover, filtered by
/// `where`, aggregated per child and period when `per_child` asks, then the `cohort`.
fn cohort(
    def: &Definition,
    rows: DataFrame,
    pf: &DataFrame,
    cover: &DataFrame,
) -> PolarsResult<LazyFrame> {
    // Only for a definition that reads them: a table's date of birth alone is no reason.
    let birth = BIRTH_COLUMNS
        .into_iter()
        .find(|c| rows.schema().contains(c))
        .filter(|_| def.reads_age());
    let mut lf = rows
        .lazy()
        .left_join(pf.clone().lazy(), col("period_id"), col("period_id"))
        .inner_join(cover.clone().lazy(), col("la_code"), col("la_code"))
        .filter(covered());
    if let Some(b) = birth {
        let (age, group) = age_at_period_end(b);
        lf = lf.with_column(age).with_column(group);
    }
    if let Some(w) = &def.where_ {
        lf = lf.filter(sql(w)?);
    }
    if !def.per_child.is_empty() {
        let mut aggs: Vec<Expr> = vec![
            col("period_type").first(),
            col("period_start").first(),
            col("period_end").first(),
        ];
        for (name, agg) in &def.per_child {
            aggs.push(sql(agg)?.alias(name.as_str()));
        }
        lf = lf
            .group_by([col("la_code"), col("period_id"), col("child")])
            .agg(aggs);
    }
    if let Some(c) = &def.cohort {
        lf = lf.filter(sql(c)?);
    }
    Ok(lf)
}

/// The child's age in whole years on the period's last day (a birthday on that day counts),
/// from the date of birth column `birth`, and DfE's age group of it (null when the date of
/// birth is unknown, never a group): see [`super::catalogue::AGE_COLUMNS`].
fn age_at_period_end(birth: &str) -> (Expr, Expr) {
    let age = crate::derive::age_in_years(col(birth), col("period_end"));
    let a = || col("age_at_period_end");
    let group = when(a().is_null())
        .then(lit(NULL).cast(DataType::String))
        .when(a().lt(lit(1)))
        .then(lit("under 1"))
        .when(a().lt(lit(5)))
        .then(lit("1 to 4"))
        .when(a().lt(lit(10)))
        .then(lit("5 to 9"))
        .when(a().lt(lit(16)))
        .then(lit("10 to 15"))
        .otherwise(lit("16 and over"));
    (
        age.cast(DataType::Int32).alias("age_at_period_end"),
        group.alias("age_group_at_period_end"),
    )
}

/// The per-unit measure: 1/0 in the numerator for percentages, the value for means; one per
/// named measure of a multi-measure definition.
fn unit_measures(def: &Definition) -> PolarsResult<Vec<(Option<String>, Expr)>> {
    if !def.measures.is_empty() {
        return def
            .measures
            .iter()
            .map(|m| Ok((Some(m.name.clone()), sql(&m.value)?.cast(DataType::Float64))))
            .collect::<PolarsResult<_>>();
    }
    let e = match def.unit {
        Unit::Percent => sql(def.numerator.as_deref().expect("checked"))?
            .fill_null(lit(false))
            .cast(DataType::Float64),
        _ => match &def.value {
            Some(v) => sql(v)?.cast(DataType::Float64),
            None => lit(1.0),
        },
    };
    Ok(vec![(None, e)])
}

/// The aggregates per LA and period (and breakdown) of each measure, and the drill-down rows
/// (of the headline measure, when `drill_children`).
fn aggregate(
    def: &Definition,
    units: &LazyFrame,
    measures: &[(Option<String>, Expr)],
    children: bool,
    drill_children: bool,
) -> (Vec<LazyFrame>, Vec<LazyFrame>) {
    let mut parts = vec![];
    let mut drill = vec![];
    for (measure_name, measure) in measures {
        let with_measure = units
            .clone()
            .with_column(measure.clone().alias("unit_value"));
        let groupings: Vec<Option<&str>> = match &def.breakdown {
            Some(b) => vec![None, Some(b.as_str())],
            None => vec![None],
        };
        for breakdown in groupings {
            parts.push(aggregate_part(
                def,
                &with_measure,
                breakdown,
                measure_name,
                children,
            ));
        }
        if drill_children && measure_name.is_none() {
            drill.push(drilldown_rows(def, with_measure));
        }
    }
    (parts, drill)
}

/// One measure aggregated per LA and period, and by `breakdown` when given; labelled with
/// the measure's name, or the breakdown's category.
fn aggregate_part(
    def: &Definition,
    with_measure: &LazyFrame,
    breakdown: Option<&str>,
    measure_name: &Option<String>,
    children: bool,
) -> LazyFrame {
    let mut keys = vec![col("la_code"), col("period_id")];
    if let Some(b) = breakdown {
        keys.push(col(b).cast(DataType::String).alias("breakdown"));
    }
    let label = match (breakdown, measure_name) {
        (_, Some(m)) => lit(m.clone()),
        (Some(_), None) => col("breakdown"),
        (None, None) => lit(NULL).cast(DataType::String),
    };
    with_measure
        .clone()
        .group_by(keys)
        .agg(unit_aggregates(def.unit, children))
        .with_column(label.alias("breakdown"))
        .select([
            col("la_code"),
            col("period_id"),
            col("breakdown"),
            col("numerator"),
            col("denominator"),
            col("spread"),
        ])
}

/// The numerator, denominator and spread of a unit of measure, counting children (distinct)
/// or records.
fn unit_aggregates(unit: Unit, children: bool) -> Vec<Expr> {
    let in_num = col("unit_value").gt(lit(0.0));
    let mut aggs = match (unit, children) {
        (Unit::Percent, false) => vec![
            col("unit_value").sum().alias("numerator"),
            len().cast(DataType::Float64).alias("denominator"),
        ],
        (Unit::Percent, true) => vec![
            col("child")
                .filter(in_num)
                .n_unique()
                .cast(DataType::Float64)
                .alias("numerator"),
            col("child")
                .n_unique()
                .cast(DataType::Float64)
                .alias("denominator"),
        ],
        (Unit::RatePer10k | Unit::Count, false) => vec![
            col("unit_value").sum().alias("numerator"),
            lit(NULL).cast(DataType::Float64).alias("denominator"),
        ],
        (Unit::RatePer10k | Unit::Count, true) => vec![
            col("child")
                .n_unique()
                .cast(DataType::Float64)
                .alias("numerator"),
            lit(NULL).cast(DataType::Float64).alias("denominator"),
        ],
        (Unit::MeanDays | Unit::Mean, _) => vec![
            col("unit_value").sum().alias("numerator"),
            col("unit_value")
                .count()
                .cast(DataType::Float64)
                .alias("denominator"),
        ],
    };
    // The spread of a mean's unit values: significance tests for mean days need it.
    aggs.push(if matches!(unit, Unit::MeanDays | Unit::Mean) {
        col("unit_value").std(1).alias("spread")
    } else {
        lit(NULL).cast(DataType::Float64).alias("spread")
    });
    aggs
}

/// The children behind the figures: each unit with whether it is in the numerator (or its
/// value) and the definition's drill-down columns.
fn drilldown_rows(def: &Definition, with_measure: LazyFrame) -> LazyFrame {
    let mut cols = vec![
        col("la_code"),
        col("period_type"),
        col("period_start"),
        col("period_end"),
        col("child"),
    ];
    cols.push(match def.unit {
        Unit::Percent => col("unit_value").gt(lit(0.0)).alias("in_numerator"),
        _ => col("unit_value").alias("value"),
    });
    for d in &def.drilldown {
        if d != "child" {
            cols.push(col(d.as_str()));
        }
    }
    with_measure.select(cols)
}

/// Every LA × covered period: a count of zero is a figure.
fn covered_grid(cover: DataFrame, pf: DataFrame) -> LazyFrame {
    cover
        .lazy()
        .cross_join(pf.lazy(), None)
        .filter(covered())
        .select([
            col("la_code"),
            col("period_id"),
            col("period_type"),
            col("period_start"),
            col("period_end"),
            col("cover_start"),
        ])
}

/// The figures on the grid: the headline (and each measure) for every LA and period, then
/// each breakdown group's rows.
fn figure_rows(def: &Definition, grid: LazyFrame, agg: LazyFrame) -> PolarsResult<LazyFrame> {
    let totals = grid.clone().join(
        agg.clone()
            .filter(col("breakdown").is_null().or(lit(!def.measures.is_empty()))),
        [col("la_code"), col("period_id")],
        [col("la_code"), col("period_id")],
        JoinArgs::new(JoinType::Left),
    );
    let breakdowns = if def.breakdown.is_some() && def.measures.is_empty() {
        Some(breakdown_rows(def, grid, agg))
    } else {
        None
    };
    let mut all = totals;
    if let Some(b) = breakdowns {
        all = concat([all, b], UnionArgs::default())?;
    }
    Ok(all)
}

/// The breakdown groups' rows, each out of its group or (as the definition says) out of all
/// units.
fn breakdown_rows(def: &Definition, grid: LazyFrame, agg: LazyFrame) -> LazyFrame {
    let rows = grid.join(
        agg.clone().filter(col("breakdown").is_not_null()),
        [col("la_code"), col("period_id")],
        [col("la_code"), col("period_id")],
        JoinArgs::new(JoinType::Inner),
    );
    match def.breakdown_denominator {
        BreakdownDenominator::Group => rows,
        BreakdownDenominator::Total => {
            // Each group's count out of all units: the total row's denominator.
            let total = agg.filter(col("breakdown").is_null()).select([
                col("la_code"),
                col("period_id"),
                col("denominator").alias("total_denominator"),
            ]);
            rows.join(
                total,
                [col("la_code"), col("period_id")],
                [col("la_code"), col("period_id")],
                JoinArgs::new(JoinType::Left),
            )
            .with_column(col("total_denominator").alias("denominator"))
            .drop(cols(["total_denominator"]))
        }
    }
}

/// Zero for a count, rate or percentage with no units; for a rate per 10,000 the ONS
/// population of the period's collection year as the denominator.
fn with_denominators(def: &Definition, facts: &Facts, all: LazyFrame) -> PolarsResult<LazyFrame> {
    let zero_fill = matches!(def.unit, Unit::Count | Unit::RatePer10k | Unit::Percent);
    let mut all = all.with_column(if zero_fill {
        col("numerator").fill_null(lit(0.0))
    } else {
        col("numerator")
    });
    if def.unit == Unit::Percent {
        all = all.with_column(col("denominator").fill_null(lit(0.0)));
    }
    if def.unit == Unit::RatePer10k {
        let pop = facts.get(FactTable::Population)?.lazy().select([
            col("la_code"),
            col("year").alias("population_year"),
            col("population_0_17"),
            col("population_estimate"),
        ]);
        all = all
            .with_column(period_collection_year().alias("population_year"))
            .join(
                pop,
                [col("la_code"), col("population_year")],
                [col("la_code"), col("population_year")],
                JoinArgs::new(JoinType::Left),
            )
            .with_column(col("population_0_17").alias("denominator"));
    }
    Ok(all)
}

/// The figure from its numerator and denominator, as the unit reads it.
fn value_of(unit: Unit) -> Expr {
    match unit {
        Unit::Percent => when(col("denominator").gt(lit(0.0)))
            .then(col("numerator") * lit(100.0) / col("denominator"))
            .otherwise(lit(NULL)),
        Unit::RatePer10k => when(col("denominator").gt(lit(0.0)))
            .then(col("numerator") * lit(10_000.0) / col("denominator"))
            .otherwise(lit(NULL)),
        Unit::Count => col("numerator"),
        Unit::MeanDays | Unit::Mean => when(col("denominator").gt(lit(0.0)))
            .then(col("numerator") / col("denominator"))
            .otherwise(lit(NULL)),
    }
}

/// The definition's rows of the long table (see [`Evaluation::values`]).
fn values_table(def: &Definition, all: LazyFrame) -> PolarsResult<DataFrame> {
    let needed = def.history_months as i32;
    all.with_column(value_of(def.unit).cast(DataType::Float64).alias("value"))
        .with_column(history_complete(needed).alias("history_complete"))
        .select([
            col("la_code"),
            lit(def.id.clone()).alias("indicator_id"),
            col("period_type"),
            col("period_start"),
            col("period_end"),
            col("breakdown"),
            col("numerator"),
            col("denominator"),
            col("value"),
            col("spread"),
            lit(def.unit.name()).alias("unit"),
            lit(def.polarity.name()).alias("polarity"),
            col("history_complete"),
            if def.unit == Unit::RatePer10k {
                col("population_estimate")
            } else {
                lit(NULL)
                    .cast(DataType::String)
                    .alias("population_estimate")
            },
        ])
        .collect()
}

/// The definition's drill-down: its children, sorted by LA, period and child.
fn drilldown_table(def: &Definition, drill: Vec<LazyFrame>) -> PolarsResult<DataFrame> {
    let df = concat(drill, UnionArgs::default())?
        .with_column(lit(def.id.clone()).alias("indicator_id"))
        .sort(
            ["la_code", "period_type", "period_end", "child"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    DRILLDOWN.check_leading(&df)?;
    Ok(df)
}

/// The collection year a period ends in, from `period_end` (an April–March year).
fn period_collection_year() -> Expr {
    (col("period_end").dt().year()
        + when(col("period_end").dt().month().gt_eq(lit(4)))
            .then(lit(1))
            .otherwise(lit(0)))
    .cast(DataType::Int32)
}

/// Whether a definition is computed for a period type: the types it lists, and any window
/// wherever it supports rolling 12 months.
pub fn supports(def: &Definition, kind: PeriodType) -> bool {
    def.periods.contains(&kind)
        || (kind == PeriodType::Window && def.periods.contains(&PeriodType::Rolling12m))
}

/// Whether the LA's returns reach back `months` before the period's start.
fn history_complete(months: i32) -> Expr {
    if months == 0 {
        return lit(true);
    }
    col("period_start")
        .dt()
        .offset_by(lit(format!("-{months}mo")))
        .gt_eq(col("cover_start"))
}

/// The threads definitions are evaluated on (large stacks: see [`crate::domain::threads`]).
fn pool() -> &'static rayon::ThreadPool {
    crate::domain::threads::pool()
}

/// Evaluates the catalogue (or `options.only`) for the given periods.
pub fn evaluate(
    catalogue: &Catalogue,
    facts: &Facts,
    periods: &[Period],
    options: &Options,
) -> Result<Evaluation, EvalError> {
    // Definitions are independent: evaluate them in parallel (each is many small polars
    // plans, whose fixed cost dominates on one LA); fact tables are still built once, by
    // whichever definition needs them first.
    use rayon::prelude::*;
    let wanted: Vec<&Definition> = catalogue
        .definitions
        .iter()
        .filter(|def| options.only.is_empty() || options.only.contains(&def.id))
        .filter(|def| periods.iter().any(|p| supports(def, p.kind)))
        .collect();
    // Build the fact tables first, one after another: a fact built inside the parallel
    // section could be requested again by a job the same worker steals while polars works,
    // and a cell cannot be re-entered by the thread initialising it.
    let mut tables: Vec<FactTable> = wanted.iter().map(|d| d.fact_table()).collect();
    if wanted.iter().any(|d| d.unit == Unit::RatePer10k) {
        tables.push(FactTable::Population);
    }
    tables.sort_by_key(|t| t.name());
    tables.dedup();
    for t in tables {
        facts.get(t).map_err(|source| EvalError {
            id: format!("(fact table {})", t.name()),
            source,
        })?;
    }
    let results: Vec<(String, DataFrame, Option<DataFrame>)> = pool().install(|| {
        wanted
            .par_iter()
            .map(|def| {
                // A span per definition: with `CSPI_LOG=info` its close line gives the time.
                let _span = tracing::info_span!("indicator", id = %def.id).entered();
                let (v, d) =
                    evaluate_one(def, facts, periods, options.drilldown).map_err(|source| {
                        EvalError {
                            id: def.id.clone(),
                            source,
                        }
                    })?;
                Ok((def.id.clone(), v, d))
            })
            .collect::<Result<_, EvalError>>()
    })?;
    let mut values = vec![];
    let mut drilldown = BTreeMap::new();
    for (id, v, d) in results {
        values.push(v.lazy());
        if let Some(d) = d {
            drilldown.insert(id, d);
        }
    }
    let values = if values.is_empty() {
        VALUES.empty()
    } else {
        concat(values, UnionArgs::default())
            .and_then(|lf| {
                lf.sort(
                    [
                        "la_code",
                        "indicator_id",
                        "period_type",
                        "period_end",
                        "breakdown",
                    ],
                    SortMultipleOptions::default()
                        .with_nulls_last(false)
                        .with_maintain_order(true),
                )
                .collect()
            })
            .map_err(|source| EvalError {
                id: "(all)".into(),
                source,
            })?
    };
    VALUES.check(&values).map_err(|source| EvalError {
        id: "(all)".into(),
        source,
    })?;
    Ok(Evaluation { values, drilldown })
}

/// The periods for a standard request: the DfE years `first..=last`, optionally `months`
/// rolling 12-month periods to the last month end on or before `as_at`, the year to `as_at`,
/// snapshots at each year end and at `as_at`, and the three-year windows ending in each year.
pub fn standard_periods(
    first: i32,
    last: i32,
    months: usize,
    as_at: Option<NaiveDate>,
) -> Vec<Period> {
    let mut out = vec![];
    for y in first..=last {
        out.push(Period::year(y));
        out.push(Period::snapshot(collection_year_end(y)));
        out.push(Period::three_year(y));
    }
    let as_at = as_at.unwrap_or_else(|| collection_year_end(last));
    for end in super::period::month_ends(as_at, months) {
        out.push(Period::rolling_12m(end));
    }
    if as_at != collection_year_end(crate::domain::dates::collection_year(as_at)) {
        out.push(Period::year_to_date(as_at));
        out.push(Period::snapshot(as_at));
    }
    out.sort();
    out.dedup();
    out
}

/// The first and last collection years the facts' LAs have returns for.
pub fn years_held(facts: &Facts) -> PolarsResult<(i32, i32)> {
    let held = facts.returns_held()?;
    match (
        held.iter().map(|r| r.year).min(),
        held.iter().map(|r| r.year).max(),
    ) {
        (Some(f), Some(l)) => Ok((f, l)),
        _ => polars_bail!(ComputeError: "the history holds no returns"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A birthday on the period's last day counts; the day after does not; a baby is under 1;
    /// an unknown date of birth has no age and no group.
    #[test]
    fn age_at_the_period_end_counts_a_birthday_on_the_last_day() {
        let day = |y, m, d| to_epoch_days(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        let end = day(2025, 3, 31);
        let df = df!(
            "period_end" => [end, end, end, end, end],
            "dob" => [Some(day(2010, 3, 31)), Some(day(2010, 4, 1)), Some(day(2025, 1, 1)),
                      Some(day(2009, 3, 31)), None],
        )
        .unwrap()
        .lazy()
        .with_columns([
            col("period_end").cast(DataType::Date),
            col("dob").cast(DataType::Date),
        ]);
        let (age, group) = age_at_period_end("dob");
        let out = df.with_column(age).with_column(group).collect().unwrap();
        let ages: Vec<Option<i32>> = out
            .column("age_at_period_end")
            .unwrap()
            .i32()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(ages, [Some(15), Some(14), Some(0), Some(16), None]);
        let groups: Vec<Option<&str>> = out
            .column("age_group_at_period_end")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            groups,
            [
                Some("10 to 15"),
                Some("10 to 15"),
                Some("under 1"),
                Some("16 and over"),
                None
            ]
        );
    }
}
