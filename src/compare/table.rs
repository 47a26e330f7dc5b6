//! The comparison table: one row per LA × indicator × period, the same shape whichever source
//! the benchmarks came from.
//!
//! The joins are small (an LA's figures against a few hundred benchmark values each) and every
//! row needs exact distribution quantiles (statrs), so this is a plain pass over the rows with
//! hash lookups rather than a polars plan; the result is a DataFrame like every other table.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;

use super::benchmarks::{BenchPeriod, Benchmarks};
use super::stats::{self, LEVELS, Limits, Verdict};
use crate::domain::dates::{add_months, from_epoch_days, to_epoch_days};
use crate::indicators::catalogue::{Catalogue, Definition, Polarity, Unit};
use crate::indicators::period::{PeriodType, month_end};
use crate::ingest::reference::ReferenceIndex;

/// England's area code.
pub const ENGLAND: &str = "E92000001";

/// Choices a comparison makes.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// The statistical neighbour model: 2021 or 2025.
    pub sn_model: i32,
    /// An LA's own neighbour list, replacing DfE's (from its config).
    pub neighbours: BTreeMap<String, Vec<String>>,
    /// Amber when worse than the statistical neighbours by less than this share of their
    /// value, red beyond it.
    pub rag_tolerance: f64,
    /// Years in a trend (3–5).
    pub trend_years: usize,
    /// A trend moving the value by less than this share of its mean over the span is stable.
    pub trend_threshold: f64,
    /// The inspection framework whose judgements the rows are grouped by (`judgement`).
    pub framework: crate::domain::framework::Framework,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            sn_model: 2025,
            neighbours: BTreeMap::new(),
            rag_tolerance: 0.10,
            trend_years: 5,
            trend_threshold: 0.05,
            framework: crate::domain::framework::Framework::CURRENT,
        }
    }
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    Some(if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    })
}

/// Funnel limits at `level` around `comparator` for this LA's figure, in the indicator's
/// unit, or None where the unit has no test (counts) or the inputs are missing.
pub fn funnel(
    unit: Unit,
    comparator: f64,
    numerator: Option<f64>,
    denominator: Option<f64>,
    spread: Option<f64>,
    level: f64,
) -> Option<Limits> {
    match unit {
        Unit::Percent => {
            let n = denominator?.round() as u64;
            let l = stats::binomial_funnel(comparator / 100.0, n, level)?;
            Some(Limits {
                lower: l.lower * 100.0,
                upper: l.upper * 100.0,
            })
        }
        Unit::RatePer10k => {
            let pop = denominator?;
            let l = stats::poisson_funnel(comparator * pop / 10_000.0, level)?;
            Some(Limits {
                lower: l.lower * 10_000.0 / pop,
                upper: l.upper * 10_000.0 / pop,
            })
        }
        Unit::MeanDays | Unit::Mean => {
            let _ = numerator;
            stats::normal_limits(comparator, spread?, denominator?, level)
        }
        Unit::Count => None,
    }
}

/// The LA's own 95% interval in the indicator's unit.
fn own_interval(
    unit: Unit,
    value: f64,
    numerator: Option<f64>,
    denominator: Option<f64>,
    spread: Option<f64>,
) -> Option<Limits> {
    match unit {
        Unit::Percent => {
            let l = stats::binomial_interval(
                numerator?.round() as u64,
                denominator?.round() as u64,
                0.95,
            )?;
            Some(Limits {
                lower: l.lower * 100.0,
                upper: l.upper * 100.0,
            })
        }
        Unit::RatePer10k => {
            let pop = denominator?;
            let l = stats::poisson_interval(numerator?.round() as u64, 0.95)?;
            Some(Limits {
                lower: l.lower * 10_000.0 / pop,
                upper: l.upper * 10_000.0 / pop,
            })
        }
        Unit::MeanDays | Unit::Mean => stats::normal_limits(value, spread?, denominator?, 0.95),
        Unit::Count => None,
    }
}

/// The same period one year earlier (month ends stay month ends: 29 Feb → 28 Feb).
pub fn year_before(end_days: i32) -> i32 {
    let end = from_epoch_days(end_days);
    let back = add_months(end, -12);
    to_epoch_days(if month_end(end) == end {
        month_end(back)
    } else {
        back
    })
}

#[derive(Default)]
struct Columns {
    s: BTreeMap<&'static str, Vec<Option<String>>>,
    f: BTreeMap<&'static str, Vec<Option<f64>>>,
    i: BTreeMap<&'static str, Vec<Option<i32>>>,
    d: BTreeMap<&'static str, Vec<Option<i32>>>,
}

impl Columns {
    fn s(&mut self, k: &'static str, v: Option<String>) {
        self.s.entry(k).or_default().push(v);
    }
    fn f(&mut self, k: &'static str, v: Option<f64>) {
        self.f.entry(k).or_default().push(v);
    }
    fn i(&mut self, k: &'static str, v: Option<i32>) {
        self.i.entry(k).or_default().push(v);
    }
    fn d(&mut self, k: &'static str, v: Option<i32>) {
        self.d.entry(k).or_default().push(v);
    }
}

/// The comparison table's columns, in order.
pub const COLUMNS: [&str; 47] = [
    "la_code",
    "la_name",
    "indicator_id",
    "short_title",
    "area",
    "judgement",
    "period_type",
    "period_start",
    "period_end",
    "unit",
    "polarity",
    "numerator",
    "denominator",
    "value",
    "source",
    "benchmark_period",
    "sn_model",
    "sn_mean",
    "sn_median",
    "sn_count",
    "sn_group_size",
    "sn_suppressed",
    "region_code",
    "region_value",
    "england_value",
    "rank",
    "rank_of",
    "rank_order",
    "quartile",
    "diff_sn",
    "diff_sn_pct",
    "diff_england",
    "diff_england_pct",
    "rag",
    "rag_against",
    "la_lower_95",
    "la_upper_95",
    "england_lower_95",
    "england_upper_95",
    "england_lower_998",
    "england_upper_998",
    "sig_england",
    "sig_sn",
    "change_previous",
    "trend",
    "trend_slope",
    "trend_years",
];

/// Builds the comparison table for every LA figure (totals, not breakdowns) in `values`.
pub fn compare(
    catalogue: &Catalogue,
    values: &DataFrame,
    benchmarks: &Benchmarks,
    index: &ReferenceIndex,
    options: &CompareOptions,
) -> PolarsResult<DataFrame> {
    let totals = values
        .clone()
        .lazy()
        .filter(col("breakdown").is_null())
        .sort(
            ["la_code", "indicator_id", "period_type", "period_end"],
            SortMultipleOptions::default(),
        )
        .collect()?;
    let s = |c: &str| -> PolarsResult<StringChunked> { Ok(totals.column(c)?.str()?.clone()) };
    let f = |c: &str| -> PolarsResult<Float64Chunked> { Ok(totals.column(c)?.f64()?.clone()) };
    let (la, id, kind) = (s("la_code")?, s("indicator_id")?, s("period_type")?);
    let start = totals.column("period_start")?.date()?.physical().clone();
    let end = totals.column("period_end")?.date()?.physical().clone();
    let (num, den, value) = (f("numerator")?, f("denominator")?, f("value")?);
    let spread = match totals.column("spread") {
        Ok(c) => c.f64()?.clone(),
        Err(_) => Float64Chunked::full_null("spread".into(), totals.height()),
    };
    // The LA's own series, for trends.
    let mut own: HashMap<(&str, &str, &str, i32), f64> = HashMap::new();
    for i in 0..totals.height() {
        if let (Some(a), Some(b), Some(c), Some(e), Some(v)) =
            (la.get(i), id.get(i), kind.get(i), end.get(i), value.get(i))
        {
            own.insert((a, b, c, e), v);
        }
    }
    let defs: HashMap<&str, &Definition> = catalogue
        .definitions
        .iter()
        .map(|d| (d.id.as_str(), d))
        .collect();
    let mut out = Columns::default();
    for i in 0..totals.height() {
        let (Some(la), Some(id), Some(kind_name), Some(end_days)) =
            (la.get(i), id.get(i), kind.get(i), end.get(i))
        else {
            continue;
        };
        let Some(def) = defs.get(id) else { continue };
        let Some(kind) = PeriodType::from_name(kind_name) else {
            continue;
        };
        let (n, d, v, sd) = (num.get(i), den.get(i), value.get(i), spread.get(i));
        let bp: Option<BenchPeriod> = benchmarks.period_for(id, kind, end_days);
        let get = |area: &str| {
            bp.as_ref()
                .and_then(|p| benchmarks.get(id, p, area))
                .and_then(|b| b.value)
        };
        let neighbours: Vec<String> = options
            .neighbours
            .get(la)
            .cloned()
            .unwrap_or_else(|| index.neighbours(options.sn_model, la).to_vec());
        let mut sn_values = vec![];
        let mut suppressed = 0;
        for nb in &neighbours {
            match bp.as_ref().and_then(|p| benchmarks.get(id, p, nb)) {
                Some(b) if b.value.is_some() => sn_values.push(b.value.unwrap_or_default()),
                Some(b) if b.status.is_some() => suppressed += 1,
                _ => {}
            }
        }
        let sn_mean = mean(&sn_values);
        let region = index.la(la).map(|l| l.region_code.clone());
        let region_value = region.as_deref().and_then(get);
        let england = get(ENGLAND);
        // Rank among all LAs with a value: the others' benchmark values and this LA's own.
        let (rank, rank_of) = match (v, bp.as_ref()) {
            (Some(v), Some(p)) => {
                let mut pool: Vec<Option<f64>> = benchmarks
                    .las(id, p)
                    .iter()
                    .filter(|(code, _)| code != la)
                    .map(|(_, x)| *x)
                    .collect();
                pool.push(Some(v));
                let r = stats::ranks(&pool, def.polarity);
                (
                    r.last().copied().flatten(),
                    Some(pool.iter().flatten().count() as u32),
                )
            }
            _ => (None, None),
        };
        let (rag, rag_against) = match (v, sn_mean, england) {
            (Some(v), Some(c), _) => (
                stats::rag(v, c, def.polarity, options.rag_tolerance),
                Some("statistical neighbours"),
            ),
            (Some(v), None, Some(c)) => (
                stats::rag(v, c, def.polarity, options.rag_tolerance),
                Some("England"),
            ),
            _ => (None, None),
        };
        let limits =
            |c: Option<f64>, level: f64| c.and_then(|c| funnel(def.unit, c, n, d, sd, level));
        let eng95 = limits(england, LEVELS[0]);
        let eng998 = limits(england, LEVELS[1]);
        let sn95 = limits(sn_mean, LEVELS[0]);
        let verdict = |l: Option<Limits>, strong: Option<Limits>| -> Option<String> {
            let (v, l) = (v?, l?);
            let verdict = stats::verdict(v, l, def.polarity);
            Some(match (verdict, strong) {
                (Verdict::WithinExpected, _) => verdict.text().to_string(),
                (_, Some(s)) if stats::verdict(v, s, def.polarity) != Verdict::WithinExpected => {
                    format!("{} (99.8%)", verdict.text())
                }
                _ => format!("{} (95%)", verdict.text()),
            })
        };
        let own_ci = v.and_then(|v| own_interval(def.unit, v, n, d, sd));
        // Trend: the same period type at yearly steps back.
        let mut series = vec![];
        let mut e = end_days;
        for k in 0..options.trend_years {
            if let Some(x) = own.get(&(la, id, kind_name, e)) {
                series.push((-(k as i32), *x));
            }
            e = year_before(e);
        }
        series.reverse();
        let previous = own.get(&(la, id, kind_name, year_before(end_days)));
        let trend = stats::trend(&series, def.polarity, options.trend_threshold);

        out.s("la_code", Some(la.into()));
        out.s("la_name", index.la(la).map(|l| l.name.clone()));
        out.s("indicator_id", Some(id.into()));
        out.s("short_title", Some(def.short_title.clone()));
        out.s("area", Some(def.area.title().into()));
        out.s(
            "judgement",
            options
                .framework
                .judgement_of(def.area.id())
                .map(|j| j.title.clone()),
        );
        out.s("period_type", Some(kind_name.into()));
        out.d("period_start", start.get(i));
        out.d("period_end", Some(end_days));
        out.s("unit", Some(def.unit.name().into()));
        out.s("polarity", Some(def.polarity.name().into()));
        out.f("numerator", n);
        out.f("denominator", d);
        out.f("value", v);
        out.s("source", Some(benchmarks.source.name().into()));
        out.s("benchmark_period", bp.as_ref().map(|p| p.label.clone()));
        out.i(
            "sn_model",
            (!options.neighbours.contains_key(la)).then_some(options.sn_model),
        );
        out.f("sn_mean", sn_mean);
        out.f("sn_median", median(&sn_values));
        out.i("sn_count", Some(sn_values.len() as i32));
        out.i("sn_group_size", Some(neighbours.len() as i32));
        out.i("sn_suppressed", Some(suppressed));
        out.s("region_code", region.clone());
        out.f("region_value", region_value);
        out.f("england_value", england);
        out.i("rank", rank.map(|r| r as i32));
        out.i("rank_of", rank_of.map(|r| r as i32));
        out.s(
            "rank_order",
            Some(
                if def.polarity == Polarity::Neutral {
                    "1 = highest"
                } else {
                    "1 = best"
                }
                .into(),
            ),
        );
        out.s(
            "quartile",
            rank.zip(rank_of)
                .and_then(|(r, n)| stats::quartile(r, n, def.polarity))
                .map(String::from),
        );
        let diff = |c: Option<f64>| v.zip(c).map(|(v, c)| v - c);
        let rel = |c: Option<f64>| {
            v.zip(c)
                .filter(|(_, c)| *c != 0.0)
                .map(|(v, c)| 100.0 * (v - c) / c)
        };
        out.f("diff_sn", diff(sn_mean));
        out.f("diff_sn_pct", rel(sn_mean));
        out.f("diff_england", diff(england));
        out.f("diff_england_pct", rel(england));
        out.s("rag", rag.map(String::from));
        out.s("rag_against", rag_against.map(String::from));
        out.f("la_lower_95", own_ci.map(|l| l.lower));
        out.f("la_upper_95", own_ci.map(|l| l.upper));
        out.f("england_lower_95", eng95.map(|l| l.lower));
        out.f("england_upper_95", eng95.map(|l| l.upper));
        out.f("england_lower_998", eng998.map(|l| l.lower));
        out.f("england_upper_998", eng998.map(|l| l.upper));
        out.s("sig_england", verdict(eng95, eng998));
        out.s("sig_sn", verdict(sn95, None));
        out.f("change_previous", v.zip(previous).map(|(v, p)| v - p));
        out.s("trend", trend.map(|t| t.0.to_string()));
        out.f("trend_slope", trend.map(|t| t.1));
        out.i("trend_years", Some(series.len() as i32));
    }
    let height = out.s.get("la_code").map_or(0, Vec::len);
    let mut columns = vec![];
    for name in COLUMNS {
        let c = if let Some(v) = out.s.remove(name) {
            Column::new(name.into(), v)
        } else if let Some(v) = out.f.remove(name) {
            Column::new(name.into(), v)
        } else if let Some(v) = out.i.remove(name) {
            Column::new(name.into(), v)
        } else if let Some(v) = out.d.remove(name) {
            Int32Chunked::new(name.into(), v).into_date().into_column()
        } else {
            Column::full_null(name.into(), height, &DataType::String)
        };
        columns.push(c);
    }
    DataFrame::new_infer_height(columns)
}

/// The rows of a long table for some LAs.
pub fn only_las(values: &DataFrame, las: &[String]) -> PolarsResult<DataFrame> {
    let las = Series::new("las".into(), las.to_vec());
    values
        .clone()
        .lazy()
        .filter(col("la_code").is_in(lit(las).implode(false), false))
        .collect()
}

/// Writes `comparison_<source>.parquet` and `.csv` into `dir`; returns the paths.
pub fn write(
    table: &DataFrame,
    dir: &std::path::Path,
    source: super::Source,
) -> PolarsResult<Vec<std::path::PathBuf>> {
    let stem = format!("comparison_{}", source.name());
    let paths = vec![
        dir.join(format!("{stem}.parquet")),
        dir.join(format!("{stem}.csv")),
    ];
    let mut df = table.clone();
    let io = |e: std::io::Error| PolarsError::IO {
        error: std::sync::Arc::new(e),
        msg: None,
    };
    crate::domain::io::write_parquet(&mut df, &paths[0]).map_err(io)?;
    crate::domain::io::write_csv(&mut df, &paths[1]).map_err(io)?;
    Ok(paths)
}

/// A funnel plot's limit curves around `centre` (England) for denominators from 1 to `max`:
/// (denominator, lower 95%, upper 95%, lower 99.8%, upper 99.8%), in the indicator's unit.
/// Percentages and rates only (the others have no exact limits).
pub fn funnel_curve(unit: Unit, centre: f64, max: f64, steps: usize) -> Vec<[f64; 5]> {
    if !matches!(unit, Unit::Percent | Unit::RatePer10k) || max <= 1.0 || steps < 2 {
        return vec![];
    }
    // Denominators spaced evenly on a square-root scale: the curves bend most at small ones.
    (1..=steps)
        .filter_map(|i| {
            let d = (max.sqrt() * i as f64 / steps as f64).powi(2).max(1.0);
            let d = if unit == Unit::Percent { d.round() } else { d };
            let l95 = funnel(unit, centre, None, Some(d), None, LEVELS[0])?;
            let l998 = funnel(unit, centre, None, Some(d), None, LEVELS[1])?;
            Some([d, l95.lower, l95.upper, l998.lower, l998.upper])
        })
        .collect()
}
