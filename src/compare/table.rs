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
use crate::domain::schema::{COMPARISON, Kind, VALUES};
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

/// The mean of the values there are (None for none): how a neighbour average is taken.
pub fn mean(v: &[f64]) -> Option<f64> {
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

/// The LA totals a comparison reads, column by column, in row order (LA, indicator, period
/// type, period end).
struct Totals {
    height: usize,
    la: StringChunked,
    id: StringChunked,
    kind: StringChunked,
    start: Int32Chunked,
    end: Int32Chunked,
    num: Float64Chunked,
    den: Float64Chunked,
    value: Float64Chunked,
    spread: Float64Chunked,
}

impl Totals {
    /// The figures without a breakdown, sorted so each LA's series is contiguous and oldest
    /// first.
    fn read(values: &DataFrame) -> PolarsResult<Totals> {
        VALUES.check(values)?;
        let totals = values
            .clone()
            .lazy()
            .filter(col("breakdown").is_null())
            .sort(
                ["la_code", "indicator_id", "period_type", "period_end"],
                SortMultipleOptions::default(),
            )
            .collect()?;
        let s = |c: &str| VALUES.text(&totals, c);
        let f = |c: &str| VALUES.number(&totals, c);
        Ok(Totals {
            height: totals.height(),
            la: s("la_code")?,
            id: s("indicator_id")?,
            kind: s("period_type")?,
            start: VALUES.date(&totals, "period_start")?,
            end: VALUES.date(&totals, "period_end")?,
            num: f("numerator")?,
            den: f("denominator")?,
            value: f("value")?,
            spread: f("spread")?,
        })
    }

    /// The LA's own series, for trends: value by (LA, indicator, period type, period end).
    fn own_series(&self) -> HashMap<(&str, &str, &str, i32), f64> {
        let mut own = HashMap::new();
        for i in 0..self.height {
            if let (Some(a), Some(b), Some(c), Some(e), Some(v)) = (
                self.la.get(i),
                self.id.get(i),
                self.kind.get(i),
                self.end.get(i),
                self.value.get(i),
            ) {
                own.insert((a, b, c, e), v);
            }
        }
        own
    }

    /// Row `i` as a figure to compare, or None when it lacks a key or its indicator or period
    /// type is unknown (such rows are left out of the table).
    fn figure<'a>(
        &'a self,
        i: usize,
        defs: &HashMap<&str, &'a Definition>,
    ) -> Option<LaFigure<'a>> {
        let (Some(la), Some(id), Some(kind_name), Some(end_days)) = (
            self.la.get(i),
            self.id.get(i),
            self.kind.get(i),
            self.end.get(i),
        ) else {
            return None;
        };
        let def = *defs.get(id)?;
        let kind = PeriodType::from_name(kind_name)?;
        Some(LaFigure {
            la,
            id,
            kind_name,
            kind,
            start: self.start.get(i),
            end_days,
            def,
            n: self.num.get(i),
            d: self.den.get(i),
            v: self.value.get(i),
            sd: self.spread.get(i),
        })
    }
}

/// One LA figure of the totals and the definition it is judged by.
struct LaFigure<'a> {
    la: &'a str,
    id: &'a str,
    kind_name: &'a str,
    kind: PeriodType,
    start: Option<i32>,
    end_days: i32,
    def: &'a Definition,
    n: Option<f64>,
    d: Option<f64>,
    v: Option<f64>,
    sd: Option<f64>,
}

/// What every row is compared against: the benchmarks, the reference data, the options and
/// the LAs' own series.
struct Against<'a> {
    benchmarks: &'a Benchmarks,
    index: &'a ReferenceIndex,
    options: &'a CompareOptions,
    own: HashMap<(&'a str, &'a str, &'a str, i32), f64>,
}

/// A figure's statistical neighbours' benchmark values for its period.
struct NeighbourValues {
    /// The neighbour list used (the LA's own or DfE's).
    list: Vec<String>,
    /// The neighbours' published values.
    values: Vec<f64>,
    /// Neighbours whose figure DfE suppressed.
    suppressed: i32,
}

/// Everything a row of the table states beyond the figure itself.
struct Comparison {
    bp: Option<BenchPeriod>,
    neighbours: NeighbourValues,
    sn_mean: Option<f64>,
    region: Option<String>,
    region_value: Option<f64>,
    england: Option<f64>,
    rank: Option<u32>,
    rank_of: Option<u32>,
    rag: Option<stats::Rag>,
    rag_against: Option<&'static str>,
    own_ci: Option<Limits>,
    eng95: Option<Limits>,
    eng998: Option<Limits>,
    sig_england: Option<String>,
    sig_sn: Option<String>,
    previous: Option<f64>,
    trend: Option<(stats::Trend, f64)>,
    trend_years: usize,
}

impl CompareOptions {
    /// The LA's statistical neighbours: its own list from its config, else DfE's for the model.
    pub fn neighbours_of(&self, index: &ReferenceIndex, la: &str) -> Vec<String> {
        self.neighbours
            .get(la)
            .cloned()
            .unwrap_or_else(|| index.neighbours(self.sn_model, la).to_vec())
    }
}

impl Against<'_> {
    /// Compares one figure with its neighbours, region and England, ranks it, tests it
    /// against the funnel limits and reads its trend.
    fn compare(&self, fig: &LaFigure) -> Comparison {
        let def = fig.def;
        let bp: Option<BenchPeriod> = self.benchmarks.period_for(fig.id, fig.kind, fig.end_days);
        let get = |area: &str| {
            bp.as_ref()
                .and_then(|p| self.benchmarks.get(fig.id, p, area))
                .and_then(|b| b.value)
        };
        let neighbours = self.neighbour_values(fig, bp.as_ref());
        let sn_mean = mean(&neighbours.values);
        let region = self.index.la(fig.la).map(|l| l.region_code.clone());
        let region_value = region.as_deref().and_then(get);
        let england = get(ENGLAND);
        let (rank, rank_of) = self.rank(fig, bp.as_ref());
        let (rag, rag_against) = rag_against(fig, sn_mean, england, self.options.rag_tolerance);
        let limits = |c: Option<f64>, level: f64| {
            c.and_then(|c| funnel(def.unit, c, fig.n, fig.d, fig.sd, level))
        };
        let eng95 = limits(england, LEVELS[0]);
        let eng998 = limits(england, LEVELS[1]);
        let sn95 = limits(sn_mean, LEVELS[0]);
        let own_ci = fig
            .v
            .and_then(|v| own_interval(def.unit, v, fig.n, fig.d, fig.sd));
        let series = self.trend_series(fig);
        let previous = self
            .own
            .get(&(fig.la, fig.id, fig.kind_name, year_before(fig.end_days)))
            .copied();
        let trend = stats::trend(&series, def.polarity, self.options.trend_threshold);
        Comparison {
            bp,
            neighbours,
            sn_mean,
            region,
            region_value,
            england,
            rank,
            rank_of,
            rag,
            rag_against,
            own_ci,
            eng95,
            eng998,
            sig_england: significance(fig, eng95, eng998),
            sig_sn: significance(fig, sn95, None),
            previous,
            trend,
            trend_years: series.len(),
        }
    }

    /// The neighbours' values for the benchmark period, counting those DfE suppressed.
    fn neighbour_values(&self, fig: &LaFigure, bp: Option<&BenchPeriod>) -> NeighbourValues {
        let list = self.options.neighbours_of(self.index, fig.la);
        let mut values = vec![];
        let mut suppressed = 0;
        for nb in &list {
            match bp.and_then(|p| self.benchmarks.get(fig.id, p, nb)) {
                Some(b) if b.value.is_some() => values.push(b.value.unwrap_or_default()),
                Some(b) if b.status.is_some() => suppressed += 1,
                _ => {}
            }
        }
        NeighbourValues {
            list,
            values,
            suppressed,
        }
    }

    /// Rank among all LAs with a value: the others' benchmark values and this LA's own.
    fn rank(&self, fig: &LaFigure, bp: Option<&BenchPeriod>) -> (Option<u32>, Option<u32>) {
        match (fig.v, bp) {
            (Some(v), Some(p)) => {
                let mut pool: Vec<Option<f64>> = self
                    .benchmarks
                    .las(fig.id, p)
                    .iter()
                    .filter(|(code, _)| code != fig.la)
                    .map(|(_, x)| *x)
                    .collect();
                pool.push(Some(v));
                let r = stats::ranks(&pool, fig.def.polarity);
                (
                    r.last().copied().flatten(),
                    Some(pool.iter().flatten().count() as u32),
                )
            }
            _ => (None, None),
        }
    }

    /// Trend: the same period type at yearly steps back, oldest first, as (years back, value).
    fn trend_series(&self, fig: &LaFigure) -> Vec<(i32, f64)> {
        let mut series = vec![];
        let mut e = fig.end_days;
        for k in 0..self.options.trend_years {
            if let Some(x) = self.own.get(&(fig.la, fig.id, fig.kind_name, e)) {
                series.push((-(k as i32), *x));
            }
            e = year_before(e);
        }
        series.reverse();
        series
    }
}

/// RAG against the statistical neighbours' mean, or England's value where the neighbours have
/// none, with which one it was judged against.
fn rag_against(
    fig: &LaFigure,
    sn_mean: Option<f64>,
    england: Option<f64>,
    tolerance: f64,
) -> (Option<stats::Rag>, Option<&'static str>) {
    let polarity = fig.def.polarity;
    match (fig.v, sn_mean, england) {
        (Some(v), Some(c), _) => (
            stats::rag(v, c, polarity, tolerance),
            Some("statistical neighbours"),
        ),
        (Some(v), None, Some(c)) => (stats::rag(v, c, polarity, tolerance), Some("England")),
        _ => (None, None),
    }
}

/// The funnel verdict in words, with the level it holds at ("(99.8%)" when it holds at the
/// `strong` limits too, else "(95%)"); None without a value or limits.
fn significance(fig: &LaFigure, l: Option<Limits>, strong: Option<Limits>) -> Option<String> {
    let polarity = fig.def.polarity;
    let (v, l) = (fig.v?, l?);
    let verdict = stats::verdict(v, l, polarity);
    Some(match (verdict, strong) {
        (Verdict::WithinExpected, _) => verdict.text().to_string(),
        (_, Some(s)) if stats::verdict(v, s, polarity) != Verdict::WithinExpected => {
            format!("{} (99.8%)", verdict.text())
        }
        _ => format!("{} (95%)", verdict.text()),
    })
}

impl Columns {
    /// Appends a figure's row: what it is, then how it compares.
    fn push_row(&mut self, against: &Against, fig: &LaFigure, c: &Comparison) {
        self.push_figure(against, fig, c);
        self.push_comparison(fig, c);
    }

    /// The row's identity, the figure and where its benchmarks came from.
    fn push_figure(&mut self, against: &Against, fig: &LaFigure, c: &Comparison) {
        let (def, la, options) = (fig.def, fig.la, against.options);
        self.s("la_code", Some(la.into()));
        self.s("la_name", against.index.la(la).map(|l| l.name.clone()));
        self.s("indicator_id", Some(fig.id.into()));
        self.s("short_title", Some(def.short_title.clone()));
        self.s("area", Some(def.area.title().into()));
        self.s(
            "judgement",
            options
                .framework
                .judgement_of(def.area.id())
                .map(|j| j.title.clone()),
        );
        self.s("period_type", Some(fig.kind_name.into()));
        self.d("period_start", fig.start);
        self.d("period_end", Some(fig.end_days));
        self.s("unit", Some(def.unit.name().into()));
        self.s("polarity", Some(def.polarity.name().into()));
        self.f("numerator", fig.n);
        self.f("denominator", fig.d);
        self.f("value", fig.v);
        self.s("source", Some(against.benchmarks.source.name().into()));
        self.s("benchmark_period", c.bp.as_ref().map(|p| p.label.clone()));
        self.i(
            "sn_model",
            (!options.neighbours.contains_key(la)).then_some(options.sn_model),
        );
    }

    /// The row's benchmarks, rank, differences, RAG, significance and trend.
    fn push_comparison(&mut self, fig: &LaFigure, c: &Comparison) {
        let (def, v) = (fig.def, fig.v);
        self.f("sn_mean", c.sn_mean);
        self.f("sn_median", median(&c.neighbours.values));
        self.i("sn_count", Some(c.neighbours.values.len() as i32));
        self.i("sn_group_size", Some(c.neighbours.list.len() as i32));
        self.i("sn_suppressed", Some(c.neighbours.suppressed));
        self.s("region_code", c.region.clone());
        self.f("region_value", c.region_value);
        self.f("england_value", c.england);
        self.i("rank", c.rank.map(|r| r as i32));
        self.i("rank_of", c.rank_of.map(|r| r as i32));
        self.s(
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
        self.s(
            "quartile",
            c.rank
                .zip(c.rank_of)
                .and_then(|(r, n)| stats::quartile(r, n, def.polarity))
                .map(|q| q.name().to_string()),
        );
        let diff = |against: Option<f64>| v.zip(against).map(|(v, a)| v - a);
        let rel = |against: Option<f64>| {
            v.zip(against)
                .filter(|(_, a)| *a != 0.0)
                .map(|(v, a)| 100.0 * (v - a) / a)
        };
        self.f("diff_sn", diff(c.sn_mean));
        self.f("diff_sn_pct", rel(c.sn_mean));
        self.f("diff_england", diff(c.england));
        self.f("diff_england_pct", rel(c.england));
        self.s("rag", c.rag.map(|r| r.name().to_string()));
        self.s("rag_against", c.rag_against.map(String::from));
        self.f("la_lower_95", c.own_ci.map(|l| l.lower));
        self.f("la_upper_95", c.own_ci.map(|l| l.upper));
        self.f("england_lower_95", c.eng95.map(|l| l.lower));
        self.f("england_upper_95", c.eng95.map(|l| l.upper));
        self.f("england_lower_998", c.eng998.map(|l| l.lower));
        self.f("england_upper_998", c.eng998.map(|l| l.upper));
        self.s("sig_england", c.sig_england.clone());
        self.s("sig_sn", c.sig_sn.clone());
        self.f("change_previous", v.zip(c.previous).map(|(v, p)| v - p));
        self.s("trend", c.trend.map(|t| t.0.name().to_string()));
        self.f("trend_slope", c.trend.map(|t| t.1));
        self.i("trend_years", Some(c.trend_years as i32));
    }

    /// The table in [`COMPARISON`]'s order and types, checked against it; a column no row
    /// filled (there are no rows) is all null. A column pushed under a name the declaration
    /// lacks, or as another type, is an error rather than a column of nulls.
    fn into_frame(mut self) -> PolarsResult<DataFrame> {
        let height = self.s.get("la_code").map_or(0, Vec::len);
        let mut columns = vec![];
        for field in COMPARISON.fields {
            let name = field.name;
            let c = match field.kind {
                Kind::Text => self.s.remove(name).map(|v| Column::new(name.into(), v)),
                Kind::Number => self.f.remove(name).map(|v| Column::new(name.into(), v)),
                Kind::Whole => self.i.remove(name).map(|v| Column::new(name.into(), v)),
                Kind::Date => self
                    .d
                    .remove(name)
                    .map(|v| Int32Chunked::new(name.into(), v).into_date().into_column()),
                Kind::Flag => None,
            };
            columns.push(match c {
                Some(c) => c,
                None => COMPARISON.null_column(name, height)?,
            });
        }
        let stray = (self.s.keys().chain(self.f.keys()))
            .chain(self.i.keys().chain(self.d.keys()))
            .next();
        if let Some(name) = stray {
            polars_bail!(SchemaMismatch: "comparison column `{name}` is not declared with that type");
        }
        let df = DataFrame::new_infer_height(columns)?;
        COMPARISON.check(&df)?;
        Ok(df)
    }
}

/// Builds the comparison table for every LA figure (totals, not breakdowns) in `values`.
pub fn compare(
    catalogue: &Catalogue,
    values: &DataFrame,
    benchmarks: &Benchmarks,
    index: &ReferenceIndex,
    options: &CompareOptions,
) -> PolarsResult<DataFrame> {
    let totals = Totals::read(values)?;
    let against = Against {
        benchmarks,
        index,
        options,
        own: totals.own_series(),
    };
    let defs: HashMap<&str, &Definition> = catalogue
        .definitions
        .iter()
        .map(|d| (d.id.as_str(), d))
        .collect();
    let mut out = Columns::default();
    for i in 0..totals.height {
        let Some(fig) = totals.figure(i, &defs) else {
            continue;
        };
        let comparison = against.compare(&fig);
        out.push_row(&against, &fig, &comparison);
    }
    out.into_frame()
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
