//! Charts as SVG (plotters): the neighbour bar chart and the trend chart.
//!
//! Readable in greyscale and by colour-blind readers: the LA is the only dark bar; lines
//! differ by dash pattern as well as colour (LA solid, neighbours' mean dashed, England
//! dotted). Titles are plain English; the subtitle says which way is better.

use plotters::prelude::*;

use crate::indicators::catalogue::{Polarity, Unit};

const LA_COLOUR: RGBColor = RGBColor(0x1d, 0x3f, 0x6e);
const OTHER_COLOUR: RGBColor = RGBColor(0xb8, 0xb8, 0xb8);
const ENGLAND_COLOUR: RGBColor = RGBColor(0xc0, 0x50, 0x00);
const SN_COLOUR: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// A chart failure (plotters reports drawing errors as strings).
#[derive(Debug, thiserror::Error)]
#[error("chart: {0}")]
pub struct ChartError(pub String);

fn e<E: std::fmt::Debug>(x: E) -> ChartError {
    ChartError(format!("{x:?}"))
}

/// "higher is better" / "lower is better" / "" for neutral.
pub fn polarity_note(p: Polarity) -> &'static str {
    match p {
        Polarity::High => "higher is better",
        Polarity::Low => "lower is better",
        Polarity::Neutral => "neither higher nor lower is better",
    }
}

/// The axis label for a unit.
pub fn unit_label(u: Unit) -> &'static str {
    match u {
        Unit::Percent => "%",
        Unit::RatePer10k => "per 10,000 children",
        Unit::Count => "number",
        Unit::MeanDays => "days (average)",
        Unit::Mean => "average",
    }
}

/// The LA and its neighbours for one indicator and period.
#[derive(Debug, Clone)]
pub struct NeighbourChart {
    pub title: String,
    /// After the title in brackets: which way is better, or what the bars are.
    pub note: String,
    pub unit: Unit,
    pub polarity: Polarity,
    /// (label, value, is the LA), in the order to draw.
    pub bars: Vec<(String, Option<f64>, bool)>,
    pub england: Option<f64>,
    pub region: Option<f64>,
}

/// (period label, LA, neighbours' mean, England)
pub type TrendPoint = (String, Option<f64>, Option<f64>, Option<f64>);

/// The LA, its neighbours' mean and England over years.
#[derive(Debug, Clone)]
pub struct TrendChart {
    pub title: String,
    pub unit: Unit,
    pub polarity: Polarity,
    pub points: Vec<TrendPoint>,
}

/// Every LA's value against its denominator, with limits around England.
#[derive(Debug, Clone)]
pub struct FunnelChart {
    pub title: String,
    pub unit: Unit,
    pub polarity: Polarity,
    /// (LA name, denominator, value, is the LA)
    pub points: Vec<(String, f64, f64, bool)>,
    pub centre: f64,
    /// (denominator, lower 95%, upper 95%, lower 99.8%, upper 99.8%)
    pub limits: Vec<[f64; 5]>,
    /// What the denominator counts ("children aged 0-17", "referrals", …).
    pub denominator_label: String,
}

/// A label cut to `max` characters (the space under a bar).
fn short(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        name.to_string()
    } else {
        format!("{}…", name.chars().take(max - 1).collect::<String>())
    }
}

fn axis_max(values: impl Iterator<Item = f64>) -> f64 {
    let m = values.fold(0.0_f64, f64::max);
    if m <= 0.0 { 1.0 } else { m * 1.15 }
}

/// A dashed reference line (England, region, neighbours' mean) with its legend entry.
fn dashed<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    points: Vec<(X::ValueType, Y::ValueType)>,
    colour: RGBColor,
    name: &str,
    dash: u32,
) -> Result<(), ChartError>
where
    DB: DrawingBackend + 'a,
    X: Ranged,
    Y: Ranged,
    X::ValueType: Clone + 'static,
    Y::ValueType: Clone + 'static,
{
    chart
        .draw_series(DashedLineSeries::new(
            points,
            dash,
            dash,
            colour.stroke_width(2),
        ))
        .map_err(e)?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
    Ok(())
}

/// The legend box, the same on every chart.
fn legend<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> Result<(), ChartError>
where
    DB: DrawingBackend + 'a,
    X: Ranged,
    Y: Ranged,
{
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 11))
        .draw()
        .map_err(e)
}

/// The neighbour bar chart as an SVG document.
pub fn neighbour_svg(c: &NeighbourChart) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 380)).into_drawing_area();
        root.fill(&WHITE).map_err(e)?;
        let n = c.bars.len().max(1);
        let top = axis_max(
            c.bars
                .iter()
                .filter_map(|b| b.1)
                .chain(c.england)
                .chain(c.region),
        );
        // About 4 px a character at 10 px type over ~600 px of bars.
        let max = (600 / n / 4).clamp(8, 24);
        let labels: Vec<String> = c.bars.iter().map(|b| short(&b.0, max)).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{} ({})", c.title, c.note), ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(70)
            .y_label_area_size(60)
            .build_cartesian_2d((0..n - 1).into_segmented(), 0.0..top)
            .map_err(e)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc(unit_label(c.unit))
            .x_labels(n)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                    labels.get(*i).cloned().unwrap_or_default()
                }
                SegmentValue::Last => String::new(),
            })
            .x_label_style(("sans-serif", 10))
            .draw()
            .map_err(e)?;
        chart
            .draw_series(c.bars.iter().enumerate().filter_map(|(i, b)| {
                let v = b.1?;
                let style = if b.2 { LA_COLOUR } else { OTHER_COLOUR };
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0.0),
                        (SegmentValue::Exact(i + 1), v),
                    ],
                    style.filled(),
                );
                bar.set_margin(0, 0, 6, 6);
                Some(bar)
            }))
            .map_err(e)?;
        for (value, colour, name, dash) in [
            (c.england, ENGLAND_COLOUR, "England", 3u32),
            (c.region, SN_COLOUR, "Region", 8u32),
        ] {
            if let Some(v) = value {
                dashed(
                    &mut chart,
                    vec![(SegmentValue::Exact(0), v), (SegmentValue::Last, v)],
                    colour,
                    name,
                    dash,
                )?;
            }
        }
        legend(&mut chart)?;
        root.present().map_err(e)?;
    }
    Ok(svg)
}

/// The trend chart as an SVG document.
pub fn trend_svg(c: &TrendChart) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(e)?;
        let n = c.points.len().max(1);
        let top = axis_max(c.points.iter().flat_map(|p| [p.1, p.2, p.3]).flatten());
        let labels: Vec<String> = c.points.iter().map(|p| p.0.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{}: the trend ({})", c.title, polarity_note(c.polarity)),
                ("sans-serif", 16),
            )
            .margin(12)
            .margin_right(36)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(0..n.saturating_sub(1).max(1), 0.0..top)
            .map_err(e)?;
        chart
            .configure_mesh()
            .y_desc(unit_label(c.unit))
            .x_labels(n)
            .x_label_formatter(&|i| labels.get(*i).cloned().unwrap_or_default())
            .draw()
            .map_err(e)?;
        let series = |pick: fn(&TrendPoint) -> Option<f64>| {
            c.points
                .iter()
                .enumerate()
                .filter_map(move |(i, p)| pick(p).map(|v| (i, v)))
                .collect::<Vec<_>>()
        };
        let la = series(|p| p.1);
        chart
            .draw_series(LineSeries::new(la.clone(), LA_COLOUR.stroke_width(3)))
            .map_err(e)?
            .label("This area")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], LA_COLOUR.stroke_width(3))
            });
        chart
            .draw_series(la.iter().map(|p| Circle::new(*p, 4, LA_COLOUR.filled())))
            .map_err(e)?;
        for (pts, colour, name, dash) in [
            (series(|p| p.2), SN_COLOUR, "Similar areas (average)", 8u32),
            (series(|p| p.3), ENGLAND_COLOUR, "England", 3u32),
        ] {
            if pts.is_empty() {
                continue;
            }
            dashed(&mut chart, pts, colour, name, dash)?;
        }
        legend(&mut chart)?;
        root.present().map_err(e)?;
    }
    Ok(svg)
}

/// The funnel plot as an SVG document.
pub fn funnel_svg(c: &FunnelChart) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 380)).into_drawing_area();
        root.fill(&WHITE).map_err(e)?;
        let x_max = c
            .points
            .iter()
            .map(|p| p.1)
            .chain(c.limits.iter().map(|l| l[0]))
            .fold(1.0_f64, f64::max)
            * 1.05;
        let top = axis_max(
            c.points
                .iter()
                .map(|p| p.2)
                .chain(std::iter::once(c.centre)),
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "{}: all areas by size ({})",
                    c.title,
                    polarity_note(c.polarity)
                ),
                ("sans-serif", 16),
            )
            .margin(12)
            .margin_right(24)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max, 0.0..top)
            .map_err(e)?;
        chart
            .configure_mesh()
            .y_desc(unit_label(c.unit))
            .x_desc(c.denominator_label.as_str())
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()
            .map_err(e)?;
        chart
            .draw_series(
                c.points
                    .iter()
                    .filter(|p| !p.3)
                    .map(|p| Circle::new((p.1, p.2), 3, OTHER_COLOUR.filled())),
            )
            .map_err(e)?;
        let clip = |v: f64| v.clamp(0.0, top);
        for (k, dash, name) in [(1usize, 8u32, "95% limits"), (3, 3, "99.8% limits")] {
            let lower: Vec<(f64, f64)> = c.limits.iter().map(|l| (l[0], clip(l[k]))).collect();
            let upper: Vec<(f64, f64)> = c.limits.iter().map(|l| (l[0], clip(l[k + 1]))).collect();
            if lower.is_empty() {
                continue;
            }
            dashed(&mut chart, lower, SN_COLOUR, name, dash)?;
            chart
                .draw_series(DashedLineSeries::new(
                    upper,
                    dash,
                    dash,
                    SN_COLOUR.stroke_width(2),
                ))
                .map_err(e)?;
        }
        dashed(
            &mut chart,
            vec![(0.0, c.centre), (x_max, c.centre)],
            ENGLAND_COLOUR,
            "England",
            3,
        )?;
        for p in c.points.iter().filter(|p| p.3) {
            chart
                .draw_series([
                    Circle::new((p.1, p.2), 6, LA_COLOUR.filled()).into_dyn(),
                    Text::new(p.0.clone(), (p.1, p.2), ("sans-serif", 12)).into_dyn(),
                ])
                .map_err(e)?;
        }
        legend(&mut chart)?;
        root.present().map_err(e)?;
    }
    Ok(svg)
}
