//! A pack as one self-contained HTML file: framework areas as sections, each indicator with
//! its latest figure, the comparison in words, the trend and its charts (inline SVG). No
//! scripts, no network, no child-level data.

use std::fmt::Write as _;

use polars::prelude::*;

use super::charts::{self, NeighbourChart, TrendChart};
use super::packs::{Chart, Pack};
use crate::compare::{Benchmarks, CompareOptions};
use crate::domain::dates::from_epoch_days;
use crate::indicators::catalogue::{Catalogue, Definition, Polarity, Unit};
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

/// A value as DfE prints it: whole percentages, rates to 1 dp (or the definition's decimals),
/// thousands separated; "c" where the pack suppresses small numbers.
pub fn show(def: &Definition, value: Option<f64>, numerator: Option<f64>, pack: &Pack) -> String {
    let Some(v) = value else {
        return "–".into();
    };
    if pack.suppress_below > 0
        && numerator.is_some_and(|n| n >= 1.0 && n < f64::from(pack.suppress_below))
    {
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

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The period a pack shows for an indicator: the latest DfE year (or 3-year window, or
/// snapshot, as the definition supports).
fn headline_kind(def: &Definition) -> &'static str {
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
pub fn neighbour_chart(input: &PackInput, def: &Definition, f: &Figure) -> NeighbourChart {
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
    bars.push((input.la_name.to_string(), f.value, true));
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
    if let (Some(v), Some(d)) = (f.value, f.denominator) {
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
            let small = pack.suppress_below > 0
                && numerators
                    .get(i)
                    .is_some_and(|n| n >= 1.0 && n < f64::from(pack.suppress_below));
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
pub fn trend_chart(def: &Definition, series: &[Figure]) -> TrendChart {
    let last: Vec<&Figure> = series.iter().rev().take(5).rev().collect();
    TrendChart {
        title: def.short_title.clone(),
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
                (p.label(), f.value, f.sn_mean, f.england)
            })
            .collect(),
    }
}

/// The pack as one HTML document.
pub fn render(pack: &Pack, input: &PackInput) -> Result<String, super::RenderError> {
    let mut out = String::new();
    let title = escape(&pack.title);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}: {la}</title>\
         <style>body{{font-family:'DejaVu Sans',Arial,sans-serif;max-width:960px;margin:auto;color:#111}}\
         section{{margin-top:2em}}.figure{{border-top:1px solid #ccc;padding:1em 0}}\
         .value{{font-size:2em;font-weight:bold}}.rag-green{{color:#1a6b1a}}.rag-amber{{color:#8a5a00}}\
         .rag-red{{color:#a01010}}table{{border-collapse:collapse}}td,th{{padding:2px 8px;text-align:left}}</style>\
         </head><body><h1>{title}</h1><p class=\"la\">{la}</p>",
        la = escape(input.la_name)
    );
    if pack.suppress_below > 0 {
        let _ = write!(
            out,
            "<p>Numbers from 1 to {} are shown as “c” to protect children's privacy.</p>",
            pack.suppress_below - 1
        );
    }
    for section in &pack.sections {
        let heading = section
            .title
            .clone()
            .unwrap_or_else(|| section.area.title().to_string());
        let _ = write!(
            out,
            "<section data-area=\"{:?}\"><h2>{}</h2>",
            section.area,
            escape(&heading)
        );
        for item in &section.indicators {
            let def = input
                .catalogue
                .get(&item.id)
                .ok_or_else(|| super::RenderError::Missing(item.id.clone()))?;
            let series = figures(input.comparison, &def.id, headline_kind(def))?;
            let Some(latest) = series.last() else {
                let _ = write!(
                    out,
                    "<div class=\"figure\"><h3>{}</h3><p>No figure in the returns held.</p></div>",
                    escape(&def.short_title)
                );
                continue;
            };
            let period = Period {
                kind: PeriodType::from_name(&latest.period_type).unwrap_or(PeriodType::Year),
                start: from_epoch_days(latest.period_start),
                end: from_epoch_days(latest.period_end),
            };
            let _ = write!(
                out,
                "<div class=\"figure\" data-indicator=\"{id}\"><h3>{t}</h3>\
                 <p><span class=\"value rag-{rag}\">{v}</span> {unit} in {p}</p><p class=\"reading\">{r}</p>\
                 <table><tr><th>Similar areas</th><th>England</th><th>Rank</th></tr>\
                 <tr><td>{sn}</td><td>{en}</td><td>{rank}</td></tr></table>",
                id = escape(&def.id),
                t = escape(&def.short_title),
                rag = latest.rag.as_deref().unwrap_or("none"),
                v = escape(&show(def, latest.value, latest.numerator, pack)),
                unit = if def.unit == Unit::Percent {
                    String::new()
                } else {
                    escape(charts::unit_label(def.unit))
                },
                p = escape(&period.label()),
                r = escape(&reading(def, latest)),
                sn = escape(&show(def, latest.sn_mean, None, pack)),
                en = escape(&show(def, latest.england, None, pack)),
                rank = match (latest.rank, latest.rank_of) {
                    (Some(r), Some(n)) => format!("{r:.0} of {n:.0}"),
                    _ => "–".into(),
                },
            );
            for chart in &item.charts {
                let svg = match chart {
                    Chart::Neighbours => {
                        charts::neighbour_svg(&neighbour_chart(input, def, latest))?
                    }
                    Chart::Trend => charts::trend_svg(&trend_chart(def, &series))?,
                    Chart::Composition => {
                        charts::neighbour_svg(&composition_chart(input, pack, def, latest)?)?
                    }
                    Chart::Funnel => match funnel_chart(input, def, latest) {
                        Some(c) => charts::funnel_svg(&c)?,
                        None => continue,
                    },
                };
                // The SVG document inline, without its XML declaration.
                let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
                out.push_str("<figure>");
                out.push_str(body);
                out.push_str("</figure>");
            }
            out.push_str("</div>");
        }
        out.push_str("</section>");
    }
    out.push_str(
        "<footer><p>Made by cspi from the SSDA903 and CIN census returns; comparisons with DfE's published figures.</p></footer></body></html>\n",
    );
    Ok(out)
}
