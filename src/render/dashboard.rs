//! What the interactive HTML page needs beyond a pack's headline figures: every period's figure
//! as the pack prints it (so the period selector swaps text the engine wrote, never a number
//! the browser works out), the similar areas of each neighbour model side by side, and — for
//! packs allowed child-level data only — the children behind each figure.
//!
//! Everything here is built from figures that have been through disclosure control
//! ([`super::content::protect`]), so a members' page can switch periods without showing a
//! figure its PDF hides.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::Serialize;

use super::content::{Figure, PackInput, reading, show, show_rank, show_value};
use crate::domain::dates::from_epoch_days;
use crate::domain::schema::DRILLDOWN;
use crate::indicators::catalogue::{Definition, Unit};
use crate::indicators::period::{Period, PeriodType};

/// The period types the selector offers, in this order (3-year windows only where a measure
/// has nothing else; Annex A windows never: they are the inspection lists' own spans).
pub const CHOICES: [(PeriodType, &str); 5] = [
    (PeriodType::Year, "DfE years"),
    (PeriodType::Rolling12m, "Rolling 12 months"),
    (PeriodType::YearToDate, "Year to date"),
    (PeriodType::Snapshot, "At a date"),
    (PeriodType::ThreeYear, "3 years"),
];

/// A figure's key in the page: `<period type>|<last day>` ("rolling_12m|2025-06-30").
pub fn key(kind: PeriodType, end_days: i32) -> String {
    format!("{}|{}", kind.name(), from_epoch_days(end_days))
}

/// One figure as the page prints it for a period.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Shown {
    #[serde(skip)]
    pub kind: PeriodType,
    #[serde(skip)]
    pub end: i32,
    /// When, in words ("2024-25", "12 months to June 2025", "at 31 March 2025").
    pub period: String,
    pub value: String,
    pub unit: String,
    pub reading: String,
    pub sn: String,
    pub england: String,
    pub region: String,
    pub rank: String,
    /// The RAG rating's word ("green"), "none" when unrated (the value's colour; the reading
    /// says it in words).
    pub rag: &'static str,
    /// The figure in full for a tooltip: value, its 95% interval, and what it counts.
    pub tip: String,
    /// The benchmarks' period key ([`crate::compare::benchmarks::BenchPeriod`]), naming the
    /// neighbour values shown beside it.
    pub bench: Option<String>,
    /// The value for sorting a table, to the decimals printed (None when hidden or missing):
    /// a page never holds a figure more precisely than it shows it.
    pub sort: Option<f64>,
}

/// The figure as the pack shows it for its period ("c" and the privacy reading when hidden).
pub fn shown(input: &PackInput, def: &Definition, f: &Figure) -> Shown {
    let period = super::content::period_of(f);
    Shown {
        kind: f.period_type,
        end: f.period_end,
        period: period.phrase(),
        value: show(def, f),
        unit: unit_words(def.unit).to_string(),
        reading: reading(def, f),
        sn: show_value(def, f.sn_mean),
        england: show_value(def, f.england),
        region: show_value(def, f.region),
        rank: show_rank(f),
        rag: f.rag.map_or("none", |r| r.name()),
        tip: tip(def, f, &period),
        bench: input
            .benchmarks
            .period_for(&def.id, f.period_type, f.period_end)
            .map(|b| b.key),
        sort: if f.suppressed {
            None
        } else {
            f.value.map(|v| as_printed(def, v))
        },
    }
}

/// The unit after a value ("per 10,000 children"; nothing for a percentage, whose value ends
/// in "%").
pub fn unit_words(unit: Unit) -> &'static str {
    match unit {
        Unit::Percent => "",
        u => super::charts::unit_label(u),
    }
}

/// "23% (95% interval 20% to 27%); 120 of 512, 12 months to June 2025": what a reader hovering
/// over a figure wants in one line. A hidden figure says only that it is hidden.
fn tip(def: &Definition, f: &Figure, period: &Period) -> String {
    let value = show(def, f);
    if f.suppressed || f.value.is_none() {
        return format!("{value}: {}", reading(def, f));
    }
    let unit = unit_words(def.unit);
    let mut out = if unit.is_empty() {
        value
    } else {
        format!("{value} {unit}")
    };
    if let (Some(lo), Some(hi)) = (f.lower_95, f.upper_95) {
        out.push_str(&format!(
            " (95% interval {} to {})",
            show_value(def, Some(lo)),
            show_value(def, Some(hi))
        ));
    }
    let count = |v: f64| super::format_figure(Unit::Count, 0, v);
    match (def.unit, f.numerator, f.denominator) {
        (Unit::Percent, Some(n), Some(d)) => {
            out.push_str(&format!("; {} of {}", count(n), count(d)))
        }
        (Unit::RatePer10k, Some(n), _) => out.push_str(&format!("; {} children", count(n))),
        (Unit::Mean | Unit::MeanDays, _, Some(d)) => out.push_str(&format!("; over {}", count(d))),
        _ => {}
    }
    format!("{out}; {}", period.phrase())
}

/// A value rounded to the decimals the pack prints it with.
fn as_printed(def: &Definition, v: f64) -> f64 {
    let scale = 10f64.powi(i32::from(def.display_decimals()));
    (v * scale).round() / scale
}

/// An indicator's similar areas under each neighbour model, for every benchmark period its
/// figures are compared with.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Neighbours {
    /// The models, in the order shown (the one the comparison used first).
    #[serde(skip)]
    pub models: Vec<Model>,
    /// Per benchmark period key: each area's published value as printed and as a number.
    pub values: BTreeMap<String, BTreeMap<String, (String, Option<f64>)>>,
    /// Per benchmark period key and model name: the mean of the model's areas with a value.
    pub means: BTreeMap<String, BTreeMap<String, (String, Option<f64>)>>,
}

/// One neighbour model's list for the LA.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// "2025", "2021" or "own".
    pub name: String,
    /// "DfE's 2025 model (used for the comparison)".
    pub caption: String,
    /// (area code, area name), closest first.
    pub areas: Vec<(String, String)>,
}

/// The neighbour models the page sets side by side: the LA's own list when its config gives
/// one, then DfE's 2025 and 2021 models; the one the comparison used says so.
fn models(input: &PackInput) -> Vec<Model> {
    let name_of = |code: &String| {
        input
            .index
            .la(code)
            .map_or_else(|| code.clone(), |l| l.name.clone())
    };
    let own = input.options.neighbours.get(input.la);
    let mut out = vec![];
    if let Some(list) = own {
        out.push(Model {
            name: "own".into(),
            caption: "Your own similar areas (used for the comparison)".into(),
            areas: list.iter().map(|c| (c.clone(), name_of(c))).collect(),
        });
    }
    for model in [2025, 2021] {
        let list = input.index.neighbours(model, input.la);
        if list.is_empty() {
            continue;
        }
        let used = own.is_none() && input.options.sn_model == model;
        out.push(Model {
            name: model.to_string(),
            caption: format!(
                "DfE's {model} statistical neighbours{}",
                if used {
                    " (used for the comparison)"
                } else {
                    ""
                }
            ),
            areas: list.iter().map(|c| (c.clone(), name_of(c))).collect(),
        });
    }
    out
}

/// The published values of every model's areas for each benchmark period `shown` refers to,
/// and each model's mean (the comparison's own method: the mean of the areas with a value).
pub fn neighbours(input: &PackInput, def: &Definition, shown: &[Shown]) -> Neighbours {
    let models = models(input);
    let mut out = Neighbours::default();
    let periods: std::collections::BTreeSet<&str> =
        shown.iter().filter_map(|s| s.bench.as_deref()).collect();
    for bp in periods {
        let Some(period) = shown
            .iter()
            .find(|s| s.bench.as_deref() == Some(bp))
            .and_then(|s| input.benchmarks.period_for(&def.id, s.kind, s.end))
        else {
            continue;
        };
        let value = |code: &str| {
            input
                .benchmarks
                .get(&def.id, &period, code)
                .and_then(|b| b.value)
        };
        let values = out.values.entry(bp.to_string()).or_default();
        let means = out.means.entry(bp.to_string()).or_default();
        for model in &models {
            let mut found = vec![];
            for (code, _) in &model.areas {
                let v = value(code);
                found.extend(v);
                values.insert(
                    code.clone(),
                    (show_value(def, v), v.map(|v| as_printed(def, v))),
                );
            }
            let mean = crate::compare::table::mean(&found);
            means.insert(
                model.name.clone(),
                (show_value(def, mean), mean.map(|v| as_printed(def, v))),
            );
        }
    }
    out.models = models;
    out
}

/// The children behind an indicator's figures, for the page of a pack allowed child-level
/// data: the latest period of each period type (as the workbook's "Children" sheets list them),
/// each distinct list once.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Children {
    /// The columns after the drill-down's leading ones (child first).
    pub columns: Vec<String>,
    /// Distinct lists of rows, each cell as text.
    pub sets: Vec<Vec<Vec<String>>>,
    /// Figure key → index into `sets`.
    pub periods: BTreeMap<String, usize>,
}

/// The LA's rows of a drill-down table as [`Children`], the latest period of each type.
pub fn children(drilldown: &DataFrame, la: &str) -> PolarsResult<Children> {
    DRILLDOWN.check_leading(drilldown)?;
    let mine = drilldown
        .clone()
        .lazy()
        .filter(col("la_code").eq(lit(la)))
        .collect()?;
    let latest = super::workbook::latest_children(&mine)?;
    let skip = [
        "la_code",
        "period_type",
        "period_start",
        "period_end",
        "indicator_id",
    ];
    let columns: Vec<String> = latest
        .get_column_names()
        .into_iter()
        .map(|c| c.to_string())
        .filter(|c| !skip.contains(&c.as_str()))
        .collect();
    let kinds = DRILLDOWN.text(&latest, "period_type")?;
    let ends = DRILLDOWN.date(&latest, "period_end")?;
    let mut by_period: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    let cells: Vec<&Column> = columns
        .iter()
        .map(|c| latest.column(c))
        .collect::<PolarsResult<_>>()?;
    for i in 0..latest.height() {
        let (Some(kind), Some(end)) = (kinds.get(i).and_then(PeriodType::from_name), ends.get(i))
        else {
            continue;
        };
        let row = cells
            .iter()
            .map(|c| c.get(i).map(|v| cell(&v)))
            .collect::<PolarsResult<Vec<String>>>()?;
        by_period.entry(key(kind, end)).or_default().push(row);
    }
    let mut out = Children {
        columns,
        sets: vec![],
        periods: BTreeMap::new(),
    };
    for (k, rows) in by_period {
        let at = match out.sets.iter().position(|s| *s == rows) {
            Some(at) => at,
            None => {
                out.sets.push(rows);
                out.sets.len() - 1
            }
        };
        out.periods.insert(k, at);
    }
    Ok(out)
}

/// A drill-down cell as text: strings bare, dates as ISO dates, nulls empty.
fn cell(v: &AnyValue) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Date(d) => from_epoch_days(*d).to_string(),
        AnyValue::Boolean(b) => if *b { "yes" } else { "no" }.into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two period types over the same children (a DfE year and the rolling 12 months to 31
    /// March) share one list; only the LA's own children, of the latest period, are kept.
    #[test]
    fn the_children_are_the_las_own_latest_each_list_once() {
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let df = df!(
            "la_code" => ["925", "925", "925", "925", "873"],
            "period_type" => ["year", "rolling_12m", "rolling_12m", "year", "year"],
            "period_start" => [d("2024-04-01"), d("2024-04-01"), d("2024-03-01"), d("2023-04-01"), d("2024-04-01")],
            "period_end" => [d("2025-03-31"), d("2025-03-31"), d("2025-02-28"), d("2024-03-31"), d("2025-03-31")],
            "child" => ["A1", "A1", "A2", "A3", "B1"],
            "in_numerator" => [true, true, false, true, true],
        )
        .unwrap();
        let c = children(&df, "925").unwrap();
        assert_eq!(c.columns, ["child", "in_numerator"]);
        assert_eq!(c.sets, vec![vec![vec!["A1".to_string(), "yes".into()]]]);
        assert_eq!(
            c.periods,
            BTreeMap::from([
                ("rolling_12m|2025-03-31".to_string(), 0),
                ("year|2025-03-31".to_string(), 0)
            ])
        );
    }
}
