//! Pre-inspection analysis of Annex A lists: the catalogue indicators the lists support
//! (declared in `data/formats/annex_a.yaml`), computed by the same definitions as from the
//! returns with the children behind each figure, and a summary per list for the lead
//! inspector (rows, children, share missing the key date, the oldest item still open), plus
//! the list 8 fields that speak for themselves (placements and missing in the last 12 months).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;

use super::catalogue::Catalogue;
use super::evaluate::{EvalError, Evaluation, Options, evaluate};
use super::period::Period;
use crate::derive::Facts;
use crate::derive::annex_a::{FromLists, Windows};
use crate::ingest::annex_a::{ListPeriod, list_indicators, list_summaries, titles};
use crate::ingest::reference::ReferenceTables;

/// The analysis of one LA's lists at an inspection date.
#[derive(Debug)]
pub struct ListAnalysis {
    /// Catalogue figures from the lists (the long table, plus the list each came from).
    pub values: DataFrame,
    /// The children behind each figure.
    pub drilldown: BTreeMap<String, DataFrame>,
    /// One row per list.
    pub summary: DataFrame,
}

/// The period an indicator is computed over, from the inspection date.
pub fn list_period(period: ListPeriod, windows: Windows) -> Period {
    match period {
        ListPeriod::ThreeMonths => Period::window(windows.three_months, windows.date),
        ListPeriod::Referrals => Period::window(windows.referrals, windows.date),
        ListPeriod::SixMonths => Period::window(windows.six_months, windows.date),
        ListPeriod::AtDate => Period::snapshot(windows.date),
    }
}

/// Computes the supported indicators and the summaries.
pub fn analyse(
    catalogue: &Catalogue,
    la: &str,
    date: NaiveDate,
    lists: &BTreeMap<u8, DataFrame>,
) -> Result<ListAnalysis, EvalError> {
    let windows = Windows::new(date);
    let source = FromLists::new(la, date, lists.clone());
    let facts = Facts::new(&source, ReferenceTables::embedded());
    let mut values = vec![];
    let mut drilldown = BTreeMap::new();
    // One evaluation per period (windows of different lengths ending on one date are
    // evaluated separately), each over the indicators its lists support.
    for period in [
        ListPeriod::ThreeMonths,
        ListPeriod::Referrals,
        ListPeriod::SixMonths,
        ListPeriod::AtDate,
    ] {
        let wanted: Vec<&crate::ingest::annex_a::ListIndicator> = list_indicators()
            .iter()
            .filter(|i| i.period == period && lists.contains_key(&i.list))
            .filter(|i| catalogue.get(&i.id).is_some())
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let Evaluation {
            values: v,
            drilldown: d,
        } = evaluate(
            catalogue,
            &facts,
            &[list_period(period, windows)],
            &Options {
                drilldown: true,
                only: wanted.iter().map(|i| i.id.clone()).collect(),
            },
        )?;
        let list_of: BTreeMap<&str, i32> = wanted
            .iter()
            .map(|i| (i.id.as_str(), i32::from(i.list)))
            .collect();
        let ids: Vec<Option<i32>> = v
            .column("indicator_id")
            .and_then(|c| c.str().cloned())
            .map(|c| {
                c.iter()
                    .map(|id| id.and_then(|id| list_of.get(id).copied()))
                    .collect()
            })
            .unwrap_or_default();
        let mut v = v;
        let height = v.height();
        if height > 0 {
            v.with_column(Column::new("annex_a_list".into(), ids))
                .map_err(|source| EvalError {
                    id: "(annex a)".into(),
                    source,
                })?;
        }
        values.push(v.lazy());
        drilldown.extend(d);
    }
    let values = if values.is_empty() {
        DataFrame::empty()
    } else {
        concat(
            values,
            UnionArgs {
                diagonal: true,
                ..Default::default()
            },
        )
        .and_then(|lf| lf.collect())
        .map_err(|source| EvalError {
            id: "(annex a)".into(),
            source,
        })?
    };
    let summary = summarise(lists, date).map_err(|source| EvalError {
        id: "(annex a summary)".into(),
        source,
    })?;
    Ok(ListAnalysis {
        values,
        drilldown,
        summary,
    })
}

/// The summary's columns, one entry per list held.
#[derive(Default)]
struct SummaryColumns {
    list_no: Vec<i32>,
    title: Vec<String>,
    rows: Vec<i64>,
    children: Vec<i64>,
    key_field: Vec<String>,
    missing: Vec<i64>,
    missing_pct: Vec<Option<f64>>,
    oldest_open: Vec<Option<i64>>,
    oldest_child: Vec<Option<String>>,
    open_items: Vec<Option<i64>>,
    notes: Vec<Option<String>>,
}

impl SummaryColumns {
    fn into_frame(self) -> PolarsResult<DataFrame> {
        DataFrame::new_infer_height(vec![
            Column::new("list".into(), self.list_no),
            Column::new("title".into(), self.title),
            Column::new("rows".into(), self.rows),
            Column::new("children".into(), self.children),
            Column::new("key_date".into(), self.key_field),
            Column::new("missing_key_date".into(), self.missing),
            Column::new("missing_key_date_pct".into(), self.missing_pct),
            Column::new("open_items".into(), self.open_items),
            Column::new("oldest_open_days".into(), self.oldest_open),
            Column::new("oldest_open".into(), self.oldest_child),
            Column::new("notes".into(), self.notes),
        ])
    }
}

/// One row per list: rows, children, the key date's missing share, the oldest open item;
/// for list 8 the share with 3+ placements and the share missing in the last 12 months.
pub fn summarise(lists: &BTreeMap<u8, DataFrame>, date: NaiveDate) -> PolarsResult<DataFrame> {
    let titles = titles();
    let mut out = SummaryColumns::default();
    for rule in list_summaries() {
        let Some(df) = lists.get(&rule.list) else {
            continue;
        };
        let n = df.height();
        out.list_no.push(i32::from(rule.list));
        out.title
            .push(titles.get(&rule.list).copied().unwrap_or("").to_string());
        out.rows.push(n as i64);
        out.children.push(
            df.column("child")
                .map(|c| c.n_unique().unwrap_or(0) as i64)
                .unwrap_or(0),
        );
        out.key_field.push(rule.key_date.clone());
        let m = df.column(&rule.key_date).map_or(n, |c| c.null_count());
        out.missing.push(m as i64);
        out.missing_pct.push(if n > 0 {
            Some(100.0 * m as f64 / n as f64)
        } else {
            None
        });
        let (oldest, who, count) = match &rule.open_while_empty {
            Some(end) => oldest_open(df, &rule.key_date, end)?,
            None => (None, None, None),
        };
        out.oldest_open.push(oldest.map(|d| (date - d).num_days()));
        out.oldest_child
            .push(oldest.map(|d| format!("{who} since {d}", who = who.unwrap_or_default())));
        out.open_items.push(count);
        out.notes.push(note(rule.list, df)?);
    }
    out.into_frame()
}

/// The items still open (`end` empty, `key_date` given): the oldest's key date and child, and
/// how many there are.
fn oldest_open(
    df: &DataFrame,
    key_date: &str,
    end: &str,
) -> PolarsResult<(Option<NaiveDate>, Option<String>, Option<i64>)> {
    let open = df
        .clone()
        .lazy()
        .filter(col(end).is_null().and(col(key_date).is_not_null()))
        .sort([key_date], SortMultipleOptions::default())
        .collect()?;
    // A list with nothing open (every plan ended, a small LA's empty list) has no
    // first row: `get(0)` and `first()` panic on an empty column, `iter` does not.
    let first_date = open
        .column(key_date)?
        .date()?
        .physical()
        .iter()
        .next()
        .flatten()
        .map(crate::domain::dates::from_epoch_days);
    let first_child = open
        .column("child")?
        .str()?
        .iter()
        .next()
        .flatten()
        .map(str::to_string);
    Ok((first_date, first_child, Some(open.height() as i64)))
}

/// The figures of a list that speak for themselves, as a sentence (lists 8, 9 and 10).
fn note(list: u8, df: &DataFrame) -> PolarsResult<Option<String>> {
    match list {
        8 => Ok(Some(placements_note(df))),
        9 => eet_note(df),
        10 => adoption_note(df),
        _ => Ok(None),
    }
}

/// List 8: the shares with 3 or more placements and missing at least once in 12 months.
fn placements_note(df: &DataFrame) -> String {
    let n = df.height();
    let share = |c: &str, at_least: i64| -> Option<f64> {
        let col = df.column(c).ok()?.i64().ok()?.clone();
        (n > 0).then(|| {
            100.0
                * col
                    .iter()
                    .filter(|v| v.is_some_and(|v| v >= at_least))
                    .count() as f64
                / n as f64
        })
    };
    format!(
        "{:.0}% had 3 or more placements in the last 12 months; {:.0}% went missing at least once",
        share("placements_12m", 3).unwrap_or(f64::NAN),
        share("missing_12m", 1).unwrap_or(f64::NAN)
    )
}

/// List 9: the share of care leavers with an activity who are in education, employment or
/// training.
fn eet_note(df: &DataFrame) -> PolarsResult<Option<String>> {
    // EET: activity codes F* (full-time) and P* (part-time) education, training or
    // employment, as the catalogue's care-leaver definitions.
    let activity = df.column("activity")?.str()?.clone();
    let known = activity.iter().flatten().count();
    let eet = activity
        .iter()
        .flatten()
        .filter(|a| a.starts_with('F') || a.starts_with('P'))
        .count();
    Ok((known > 0).then(|| {
        format!(
            "{:.0}% in education, employment or training ({eet} of {known} with an activity)",
            100.0 * eet as f64 / known as f64
        )
    }))
}

/// List 10: the mean days from entering care to moving in with the adoptive family.
fn adoption_note(df: &DataFrame) -> PolarsResult<Option<String>> {
    let adopted = df
        .clone()
        .lazy()
        .filter(
            col("adoption_order_date")
                .is_not_null()
                .and(col("placed_date").is_not_null())
                .and(col("entered_care").is_not_null()),
        )
        .select([(col("placed_date") - col("entered_care"))
            .dt()
            .total_days(false)
            .alias("days")])
        .collect()?;
    let days = adopted.column("days")?.cast(&DataType::Float64)?;
    let days = days.f64()?;
    Ok(days.mean().map(|m| {
        format!(
            "adopted children moved in with their adoptive family on average {m:.0} days after entering care ({} children; the scorecard's A1 without its foster-carer adjustment)",
            days.len()
        )
    }))
}
