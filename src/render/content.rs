//! What a pack shows, worked out once from the comparison: for each section of the pack
//! definition, each indicator's latest figure as text, its reading in words and its charts
//! (SVG), plus the section's scorecard and adoption scorecard. The HTML, PDF and PNG outputs only
//! lay this out, so the three say the same thing.
use polars::prelude::*;

use super::charts::{self, Canvas, ChartData, NeighbourChart, TrendChart};
use super::packs::{Chart, Pack, SectionChart};
use crate::compare::{Benchmarks, CompareOptions};
use crate::domain::dates::from_epoch_days;
use crate::indicators::catalogue::{Area, Catalogue, Definition, Polarity, Unit};
use crate::indicators::period::{Period, PeriodType};
use crate::ingest::reference::ReferenceIndex;

/// Everything a pack is made from.
pub struct PackInput<'a> {
    pub la: &'a str,
    pub la_name: &'a str,
    pub catalogue: &'a Catalogue,
    /// The LA's comparison table (published benchmarks).
    pub comparison: &'a DataFrame,
    /// The LA's long table of figures (with breakdowns, for composition charts).
    pub values: &'a DataFrame,
    pub benchmarks: &'a Benchmarks,
    pub index: &'a ReferenceIndex,
    pub options: &'a CompareOptions,
}

/// One comparison row, as the pack reads it.
#[derive(Debug, Clone, Default)]
pub struct Figure {
    pub period_type: String,
    pub period_end: i32,
    pub period_start: i32,
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub sn_mean: Option<f64>,
    pub england: Option<f64>,
    pub region: Option<f64>,
    pub rank: Option<f64>,
    pub rank_of: Option<f64>,
    pub quartile: Option<String>,
    pub rag: Option<String>,
    pub trend: Option<String>,
    pub sig_england: Option<String>,
    pub diff_sn: Option<f64>,
}

/// The LA's figures for an indicator and period type, oldest first.
pub fn figures(comparison: &DataFrame, id: &str, kind: &str) -> PolarsResult<Vec<Figure>> {
    let rows = comparison
        .clone()
        .lazy()
        .filter(
            col("indicator_id")
                .eq(lit(id))
                .and(col("period_type").eq(lit(kind))),
        )
        .sort(["period_end"], SortMultipleOptions::default())
        .collect()?;
    let f = |c: &str| -> PolarsResult<Float64Chunked> {
        Ok(rows.column(c)?.cast(&DataType::Float64)?.f64()?.clone())
    };
    let s = |c: &str| -> PolarsResult<StringChunked> {
        Ok(rows.column(c)?.cast(&DataType::String)?.str()?.clone())
    };
    let den = f("denominator")?;
    let (value, num, sn, eng, reg, rank, of, diff) = (
        f("value")?,
        f("numerator")?,
        f("sn_mean")?,
        f("england_value")?,
        f("region_value")?,
        f("rank")?,
        f("rank_of")?,
        f("diff_sn")?,
    );
    let (q, rag, trend, sig) = (s("quartile")?, s("rag")?, s("trend")?, s("sig_england")?);
    let end = rows.column("period_end")?.date()?.physical().clone();
    let start = rows.column("period_start")?.date()?.physical().clone();
    Ok((0..rows.height())
        .map(|i| Figure {
            period_type: kind.to_string(),
            period_end: end.get(i).unwrap_or(0),
            period_start: start.get(i).unwrap_or(0),
            value: value.get(i),
            numerator: num.get(i),
            denominator: den.get(i),
            sn_mean: sn.get(i),
            england: eng.get(i),
            region: reg.get(i),
            rank: rank.get(i),
            rank_of: of.get(i),
            quartile: q.get(i).map(str::to_string),
            rag: rag.get(i).map(str::to_string),
            trend: trend.get(i).map(str::to_string),
            sig_england: sig.get(i).map(str::to_string),
            diff_sn: diff.get(i),
        })
        .collect())
}

/// The number of children (or events) a figure rests on, for suppression: the numerator of a
/// percentage, rate or count; the denominator of an average, whose numerator is a sum of days.
pub fn small_count(def: &Definition, f: &Figure) -> Option<f64> {
    match def.unit {
        Unit::MeanDays | Unit::Mean => f.denominator,
        _ => f.numerator,
    }
}

/// A value as DfE prints it: whole percentages, rates to 1 dp (or the definition's decimals),
/// thousands separated; "c" where the pack suppresses small numbers (`count`: what the figure
/// rests on, see [`small_count`]).
pub fn show(def: &Definition, value: Option<f64>, count: Option<f64>, pack: &Pack) -> String {
    let Some(v) = value else {
        return "–".into();
    };
    if pack.suppresses(count) {
        return "c".into();
    }
    let d = usize::from(def.display_decimals());
    let text = format!("{v:.d$}");
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), ""), |(a, b)| (a, b));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |x| ("-", x));
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let number = if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    };
    match def.unit {
        Unit::Percent => format!("{number}%"),
        _ => number,
    }
}

/// The LA's value where the pack may show it: None when the pack suppresses it, so no chart
/// draws what the text hides.
pub fn visible(def: &Definition, f: &Figure, pack: &Pack) -> Option<f64> {
    let count = small_count(def, f);
    if pack.suppresses(count) {
        None
    } else {
        f.value
    }
}

/// The one-sentence reading of a figure: against similar areas and over time, in words.
pub fn reading(def: &Definition, f: &Figure) -> String {
    let against = match (f.value, f.sn_mean) {
        (Some(v), Some(sn)) if sn != 0.0 => {
            let rel = (v - sn) / sn.abs();
            let better = match def.polarity {
                Polarity::High => rel,
                Polarity::Low => -rel,
                Polarity::Neutral => 0.0,
            };
            if def.polarity == Polarity::Neutral {
                if rel > 0.05 {
                    "Higher than similar areas"
                } else if rel < -0.05 {
                    "Lower than similar areas"
                } else {
                    "Similar to similar areas"
                }
            } else if better > 0.05 {
                "Better than similar areas"
            } else if better < -0.05 {
                "Worse than similar areas"
            } else {
                "In line with similar areas"
            }
        }
        _ => "No comparison with similar areas yet",
    };
    let trend = match f.trend.as_deref() {
        Some("improving") => " and improving",
        Some("worsening") => " and getting worse",
        Some("stable") => " and steady",
        Some("rising") => " and rising",
        Some("falling") => " and falling",
        _ => "",
    };
    format!("{against}{trend}.")
}

/// The period a pack shows for an indicator: the latest DfE year (or 3-year window, or
/// snapshot, as the definition supports).
pub fn headline_kind(def: &Definition) -> &'static str {
    [
        PeriodType::Year,
        PeriodType::ThreeYear,
        PeriodType::Snapshot,
    ]
    .into_iter()
    .find(|k| def.periods.contains(k))
    .map_or("year", PeriodType::name)
}

/// The neighbour chart's data for the latest figure.
pub fn neighbour_chart(
    input: &PackInput,
    pack: &Pack,
    def: &Definition,
    f: &Figure,
) -> NeighbourChart {
    let kind = PeriodType::from_name(&f.period_type).unwrap_or(PeriodType::Year);
    let bp = input.benchmarks.period_for(&def.id, kind, f.period_end);
    let neighbours = input
        .options
        .neighbours
        .get(input.la)
        .cloned()
        .unwrap_or_else(|| {
            input
                .index
                .neighbours(input.options.sn_model, input.la)
                .to_vec()
        });
    let mut bars: Vec<(String, Option<f64>, bool)> = neighbours
        .iter()
        .map(|nb| {
            let v = bp
                .as_ref()
                .and_then(|p| input.benchmarks.get(&def.id, p, nb))
                .and_then(|b| b.value);
            let name = input.index.la(nb).map_or(nb.clone(), |l| l.name.clone());
            (name, v, false)
        })
        .collect();
    match visible(def, f, pack) {
        Some(v) => bars.push((input.la_name.to_string(), Some(v), true)),
        None => bars.push((format!("{} (c)", input.la_name), None, true)),
    }
    bars.sort_by(|a, b| {
        let key = |x: &Option<f64>| x.unwrap_or(f64::NEG_INFINITY);
        key(&b.1).total_cmp(&key(&a.1))
    });
    NeighbourChart {
        title: def.short_title.clone(),
        note: charts::polarity_note(def.polarity).to_string(),
        unit: def.unit,
        polarity: def.polarity,
        bars,
        england: f.england,
        region: f.region,
    }
}

/// The funnel plot's data: every LA with a published value and denominator for the latest
/// figure's benchmark year (this LA's own figure in place of its published one). None when
/// the unit has no funnel (counts, means) or England has no value.
pub fn funnel_chart(
    input: &PackInput,
    pack: &Pack,
    def: &Definition,
    f: &Figure,
) -> Option<charts::FunnelChart> {
    let centre = f.england?;
    let kind = PeriodType::from_name(&f.period_type).unwrap_or(PeriodType::Year);
    let bp = input.benchmarks.period_for(&def.id, kind, f.period_end)?;
    let mut points: Vec<(String, f64, f64, bool)> = input
        .benchmarks
        .las(&def.id, &bp)
        .iter()
        .filter(|(code, _)| code != input.la)
        .filter_map(|(code, value)| {
            let b = input.benchmarks.get(&def.id, &bp, code)?;
            let name = input
                .index
                .la(code)
                .map_or(code.clone(), |l| l.name.clone());
            Some((name, b.denominator?, (*value)?, false))
        })
        .collect();
    if let (Some(v), Some(d)) = (visible(def, f, pack), f.denominator) {
        points.push((input.la_name.to_string(), d, v, true));
    }
    let max = points.iter().map(|p| p.1).fold(0.0, f64::max);
    let limits = crate::compare::table::funnel_curve(def.unit, centre, max, 60);
    if limits.is_empty() {
        return None;
    }
    Some(charts::FunnelChart {
        title: def.short_title.clone(),
        unit: def.unit,
        polarity: def.polarity,
        points,
        centre,
        limits,
        denominator_label: match def.unit {
            Unit::RatePer10k => "children aged 0-17".into(),
            _ => "size of the group (denominator)".into(),
        },
    })
}

/// A breakdown value as a reader says it: categories of abuse and types of home in words.
pub fn breakdown_label(value: &str) -> String {
    match value {
        "NEG" => "Neglect".into(),
        "EMO" => "Emotional abuse".into(),
        "PHY" => "Physical abuse".into(),
        "SAB" => "Sexual abuse".into(),
        "MUL" => "Multiple".into(),
        "childrens_home" => "Children's homes".into(),
        "residential_school" => "Residential schools".into(),
        "foster" => "Foster families".into(),
        "with_parents" => "With parents".into(),
        other => {
            let t = other.replace('_', " ");
            let mut c = t.chars();
            c.next().map_or(String::new(), |f| {
                f.to_uppercase().collect::<String>() + c.as_str()
            })
        }
    }
}

/// The composition chart's data: the figure's breakdown rows for the same period; groups
/// whose count the pack suppresses are drawn empty and labelled "(c)".
pub fn composition_chart(
    input: &PackInput,
    pack: &Pack,
    def: &Definition,
    f: &Figure,
) -> PolarsResult<NeighbourChart> {
    let rows = input
        .values
        .clone()
        .lazy()
        .filter(
            col("indicator_id")
                .eq(lit(def.id.as_str()))
                .and(col("la_code").eq(lit(input.la)))
                .and(col("period_type").eq(lit(f.period_type.as_str())))
                .and(col("period_end").eq(lit(from_epoch_days(f.period_end))))
                .and(col("breakdown").is_not_null()),
        )
        .sort(["breakdown"], SortMultipleOptions::default())
        .collect()?;
    let labels = rows.column("breakdown")?.str()?.clone();
    let values = rows.column("value")?.f64()?.clone();
    let numerators = rows.column("numerator")?.f64()?.clone();
    let mut bars: Vec<(String, Option<f64>, bool)> = (0..rows.height())
        .map(|i| {
            let label = breakdown_label(labels.get(i).unwrap_or(""));
            let small = pack.suppresses(numerators.get(i));
            if small {
                (format!("{label} (c)"), None, true)
            } else {
                (label, values.get(i), true)
            }
        })
        .collect();
    bars.sort_by(|a, b| b.1.unwrap_or(-1.0).total_cmp(&a.1.unwrap_or(-1.0)));
    Ok(NeighbourChart {
        title: def.short_title.clone(),
        note: "by type".into(),
        unit: def.unit,
        polarity: def.polarity,
        bars,
        england: None,
        region: None,
    })
}

/// The trend chart's data: the last five figures of the headline period type.
pub fn trend_chart(pack: &Pack, def: &Definition, series: &[Figure]) -> TrendChart {
    let last: Vec<&Figure> = series.iter().rev().take(5).rev().collect();
    TrendChart {
        title: def.short_title.clone(),
        subtitle: "the trend".into(),
        unit: def.unit,
        polarity: def.polarity,
        points: last
            .iter()
            .map(|f| {
                let p = Period {
                    kind: PeriodType::from_name(&f.period_type).unwrap_or(PeriodType::Year),
                    start: from_epoch_days(f.period_start),
                    end: from_epoch_days(f.period_end),
                };
                (p.label(), visible(def, f, pack), f.sn_mean, f.england)
            })
            .collect(),
    }
}

/// The LA's rolling 12-month series, month by month, against the latest published neighbours'
/// mean and England (flat lines: published figures are yearly).
pub fn rolling_chart(pack: &Pack, def: &Definition, series: &[Figure]) -> TrendChart {
    TrendChart {
        title: def.short_title.clone(),
        subtitle: "rolling 12 months, month by month".into(),
        unit: def.unit,
        polarity: def.polarity,
        points: series
            .iter()
            .map(|f| {
                (
                    from_epoch_days(f.period_end).format("%b %Y").to_string(),
                    visible(def, f, pack),
                    f.sn_mean,
                    f.england,
                )
            })
            .collect(),
    }
}

/// A chart drawn for a pack, with the name its PNG file takes.
#[derive(Debug, Clone)]
pub struct Drawn {
    /// `<indicator or area>-<chart>`, unique within the pack.
    pub name: String,
    /// Drawn for the screen (HTML, PNG).
    pub svg: String,
    /// Drawn for half a printed page (PDF), where the chart has a print form; section charts
    /// print at full width from `svg`.
    pub print: Option<String>,
}

/// One indicator as the pack shows it.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub title: String,
    /// The latest figure, if the returns gave one.
    pub latest: Option<Figure>,
    /// The value as printed ("23%", "589.8", "c").
    pub value: String,
    /// The unit after the value ("per 10,000 children"; empty for percentages).
    pub unit: String,
    /// The period in words ("2024-25").
    pub period: String,
    /// The one-sentence reading ("Better than similar areas and improving.").
    pub reading: String,
    pub sn: String,
    pub england: String,
    /// "3 of 11" or "–".
    pub rank: String,
    pub charts: Vec<Drawn>,
}

/// A section (framework area) of a pack.
#[derive(Debug, Clone)]
pub struct SectionContent {
    pub area: Area,
    pub heading: String,
    /// Charts about the whole section (scorecard table, adoption scorecard), shown first.
    pub charts: Vec<Drawn>,
    pub items: Vec<Item>,
}

/// Everything a pack shows, ready to lay out.
#[derive(Debug, Clone)]
pub struct Content {
    pub title: String,
    pub la_name: String,
    /// The suppression sentence for the reader, when the pack suppresses.
    pub suppression: Option<String>,
    /// The latest period shown, in words, for the cover.
    pub latest_period: Option<String>,
    pub sections: Vec<SectionContent>,
}

impl Content {
    /// Every chart in the pack, in reading order.
    pub fn charts(&self) -> impl Iterator<Item = &Drawn> {
        self.sections.iter().flat_map(|s| {
            s.charts
                .iter()
                .chain(s.items.iter().flat_map(|i| i.charts.iter()))
        })
    }
}

fn chart_name(chart: Chart) -> &'static str {
    match chart {
        Chart::Neighbours => "neighbours",
        Chart::Trend => "trend",
        Chart::Funnel => "funnel",
        Chart::Composition => "composition",
        Chart::Rolling => "rolling",
    }
}

/// The adoption scorecard chart's data: the section's indicators with thresholds, in days,
/// over three years (the scorecard's period) where the definition has it.
fn adoption_scorecard(
    input: &PackInput,
    pack: &Pack,
    section: &super::packs::Section,
) -> PolarsResult<Option<charts::ThresholdChart>> {
    let mut groups = vec![];
    let mut period = None;
    for item in &section.indicators {
        let Some(def) = input.catalogue.get(&item.id) else {
            continue;
        };
        if def.thresholds.is_empty() || !matches!(def.unit, Unit::MeanDays) {
            continue;
        }
        let kind = if def.periods.contains(&PeriodType::ThreeYear) {
            PeriodType::ThreeYear
        } else {
            PeriodType::Year
        };
        let series = figures(input.comparison, &def.id, kind.name())?;
        let Some(f) = series.last() else { continue };
        let end = from_epoch_days(f.period_end);
        period.get_or_insert_with(|| {
            let years = if kind == PeriodType::ThreeYear {
                "3 years"
            } else {
                "the year"
            };
            format!("{years} to {}", end.format("%-d %B %Y"))
        });
        use chrono::Datelike;
        let label = def
            .chart_label
            .clone()
            .unwrap_or_else(|| def.short_title.clone());
        let suppressed = visible(def, f, pack).is_none() && f.value.is_some();
        groups.push(charts::ThresholdGroup {
            label: if suppressed {
                format!("{label} (c)")
            } else {
                label
            },
            la: if suppressed { None } else { f.value },
            sn: f.sn_mean,
            england: f.england,
            threshold: def
                .threshold(end.year())
                .map(|t| (t.value, t.label.clone().unwrap_or_default())),
        });
    }
    Ok(period.map(|period| charts::ThresholdChart {
        title: "How long children wait to be adopted".into(),
        period,
        unit: Unit::MeanDays,
        groups,
    }))
}

/// Works out what the pack shows: figures as text, readings and every chart drawn.
pub fn build(pack: &Pack, input: &PackInput) -> Result<Content, super::RenderError> {
    let mut sections = vec![];
    let mut latest_end: Option<(i32, String)> = None;
    for section in &pack.sections {
        let heading = section
            .title
            .clone()
            .unwrap_or_else(|| section.area.title().to_string());
        let mut items = vec![];
        let mut rows = vec![];
        for item in &section.indicators {
            let def = input
                .catalogue
                .get(&item.id)
                .ok_or_else(|| super::RenderError::Missing(item.id.clone()))?;
            let series = figures(input.comparison, &def.id, headline_kind(def))?;
            let mut shown = Item {
                id: def.id.clone(),
                title: def.short_title.clone(),
                latest: series.last().cloned(),
                value: "–".into(),
                unit: String::new(),
                period: String::new(),
                reading: "No figure in the returns held.".into(),
                sn: "–".into(),
                england: "–".into(),
                rank: "–".into(),
                charts: vec![],
            };
            if let Some(latest) = series.last() {
                let period = Period {
                    kind: PeriodType::from_name(&latest.period_type).unwrap_or(PeriodType::Year),
                    start: from_epoch_days(latest.period_start),
                    end: from_epoch_days(latest.period_end),
                };
                if latest_end.as_ref().is_none_or(|l| latest.period_end > l.0) {
                    latest_end = Some((latest.period_end, period.label()));
                }
                shown.value = show(def, latest.value, small_count(def, latest), pack);
                shown.unit = if def.unit == Unit::Percent {
                    String::new()
                } else {
                    charts::unit_label(def.unit).to_string()
                };
                shown.period = period.label();
                shown.reading = reading(def, latest);
                shown.sn = show(def, latest.sn_mean, None, pack);
                shown.england = show(def, latest.england, None, pack);
                shown.rank = match (latest.rank, latest.rank_of) {
                    (Some(r), Some(n)) => format!("{r:.0} of {n:.0}"),
                    _ => "–".into(),
                };
                for chart in &item.charts {
                    let data = match chart {
                        Chart::Neighbours => {
                            ChartData::Bars(neighbour_chart(input, pack, def, latest))
                        }
                        Chart::Trend => ChartData::Trend(trend_chart(pack, def, &series)),
                        Chart::Rolling => {
                            let months =
                                figures(input.comparison, &def.id, PeriodType::Rolling12m.name())?;
                            if months.is_empty() {
                                continue;
                            }
                            ChartData::Trend(rolling_chart(pack, def, &months))
                        }
                        Chart::Composition => {
                            ChartData::Bars(composition_chart(input, pack, def, latest)?)
                        }
                        Chart::Funnel => match funnel_chart(input, pack, def, latest) {
                            Some(c) => ChartData::Funnel(c),
                            None => continue,
                        },
                    };
                    shown.charts.push(Drawn {
                        name: format!("{}-{}", def.id, chart_name(*chart)),
                        svg: data.svg(None)?,
                        print: Some(data.svg(Some(Canvas::PRINT))?),
                    });
                }
            }
            rows.push(charts::ScorecardRow {
                indicator: def.short_title.clone(),
                value: shown.value.clone(),
                sn: shown.sn.clone(),
                england: shown.england.clone(),
                rank: shown.rank.clone(),
                quartile: shown
                    .latest
                    .as_ref()
                    .and_then(|f| f.quartile.clone())
                    .unwrap_or_else(|| "–".into()),
                rag: shown.latest.as_ref().and_then(|f| f.rag.clone()),
                trend: charts::trend_arrow(
                    shown.latest.as_ref().and_then(|f| f.trend.as_deref()),
                    def.polarity,
                ),
            });
            items.push(shown);
        }
        let area = section.area.id();
        let mut drawn = vec![];
        for chart in &section.charts {
            match chart {
                SectionChart::Scorecard => drawn.push(Drawn {
                    name: format!("{area}-scorecard"),
                    print: None,
                    svg: charts::scorecard_svg(&charts::Scorecard {
                        title: format!("{heading}: at a glance"),
                        rows: rows.clone(),
                    })?,
                }),
                SectionChart::AdoptionScorecard => {
                    if let Some(c) = adoption_scorecard(input, pack, section)? {
                        drawn.push(Drawn {
                            name: format!("{area}-adoption-scorecard"),
                            print: None,
                            svg: charts::thresholds_svg(&c)?,
                        });
                    }
                }
            }
        }
        sections.push(SectionContent {
            area: section.area,
            heading,
            charts: drawn,
            items,
        });
    }
    Ok(Content {
        title: pack.title.clone(),
        la_name: input.la_name.to_string(),
        suppression: (pack.suppress_below > 1).then(|| {
            format!(
                "Numbers from 1 to {} are shown as “c” to protect children's privacy.",
                pack.suppress_below - 1
            )
        }),
        latest_period: latest_end.map(|l| l.1),
        sections,
    })
}
