//! Charts as SVG (plotters): neighbour bars, trends, funnel plots, compositions, the adoption
//! scorecard against its thresholds and the scorecard table. PNG and PDF render these same
//! SVGs with the embedded font ([`super::svg`]).
//!
//! Readable in greyscale and by colour-blind readers: the LA is the only dark bar; lines
//! differ by dash pattern as well as colour (LA solid, neighbours' mean dashed, England
//! dotted). Titles are plain English; the subtitle says which way is better.

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::compare::stats::{Rag, Trend};
use crate::indicators::catalogue::{Polarity, Unit};

const LA_COLOUR: RGBColor = RGBColor(0x1d, 0x3f, 0x6e);
const OTHER_COLOUR: RGBColor = RGBColor(0xb8, 0xb8, 0xb8);
const ENGLAND_COLOUR: RGBColor = RGBColor(0xc0, 0x50, 0x00);
const SN_COLOUR: RGBColor = RGBColor(0x55, 0x55, 0x55);
/// Light major gridlines only, and no minor ones (the Government Analysis Function's chart
/// guidance: gridlines help read a value off, and should recede behind the data).
const GRID_COLOUR: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);

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
    /// When the figures are for, in words ("at 31 March 2025"; "2025-26 to date; similar
    /// areas 2024-25" when the benchmarks are an earlier year's): every chart says when.
    pub period: String,
    /// After the title in brackets: which way is better, or what the bars are.
    pub note: String,
    pub unit: Unit,
    /// Decimal places of the values written on the bars (the definition's).
    pub decimals: u8,
    pub polarity: Polarity,
    /// (label, value, is the LA), in the order to draw.
    pub bars: Vec<(String, Option<f64>, bool)>,
    pub england: Option<f64>,
    pub region: Option<f64>,
}

/// One period of a trend chart.
#[derive(Debug, Clone, Default)]
pub struct TrendPoint {
    /// The period ("2024-25", "Mar 2025").
    pub label: String,
    /// The LA's value, where the pack shows it.
    pub la: Option<f64>,
    /// Why the LA's value is not drawn ("c" hidden, "x" not available, "z" not applicable):
    /// written at the foot of the chart in the gap.
    pub mark: Option<&'static str>,
    /// The neighbours' mean.
    pub sn: Option<f64>,
    pub england: Option<f64>,
}

/// The mesh of a chart with values up its side: light major gridlines only, the unit on the
/// axis, whole-number ticks.
fn value_mesh<'a, 'b, DB, X>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    unit: Unit,
) -> MeshStyle<'a, 'b, X, RangedCoordf64, DB>
where
    DB: DrawingBackend,
    X: Ranged + ValueFormatter<<X as Ranged>::ValueType>,
{
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(TRANSPARENT)
        .bold_line_style(GRID_COLOUR)
        .y_desc(unit_label(unit))
        .y_label_formatter(&tick);
    mesh
}

/// A caption in print, where a chart is a third of the page wide: which way is better when
/// one is, and nothing for a neutral indicator (its long "neither higher nor lower" would run
/// off the chart; the screen caption keeps it).
fn print_caption(text: String, polarity: Polarity) -> String {
    match polarity {
        Polarity::Neutral => text,
        _ => format!("{text} ({})", polarity_note(polarity)),
    }
}

/// An axis value as a tick says it: whole numbers without a decimal point ("40", not "40.0"),
/// others to one place.
fn tick(v: &f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A title with when its figures are for: "Children in care, at 31 March 2025" (the title
/// alone when the period is not known).
fn when(title: &str, period: &str) -> String {
    if period.is_empty() {
        title.to_string()
    } else {
        format!("{title}, {period}")
    }
}

impl TrendChart {
    /// The span the points cover: "2020-21 to 2024-25", "Nov 2023 to Oct 2025", or the one
    /// period a single point is.
    pub fn span(&self) -> String {
        match (self.points.first(), self.points.last()) {
            (Some(a), Some(b)) if a.label != b.label => format!("{} to {}", a.label, b.label),
            (Some(a), _) => a.label.clone(),
            _ => String::new(),
        }
    }
}

/// The LA, its neighbours' mean and England over years (or months).
#[derive(Debug, Clone)]
pub struct TrendChart {
    pub title: String,
    /// What the series is ("the trend", "rolling 12 months, month by month").
    pub subtitle: String,
    pub unit: Unit,
    pub polarity: Polarity,
    pub points: Vec<TrendPoint>,
}

/// Every LA's value against its denominator, with limits around England.
#[derive(Debug, Clone)]
pub struct FunnelChart {
    pub title: String,
    /// When the figures are for, in words (as [`NeighbourChart::period`]).
    pub period: String,
    pub unit: Unit,
    pub polarity: Polarity,
    /// (LA name, denominator, value, is the LA)
    pub points: Vec<(String, f64, f64, bool)>,
    pub centre: f64,
    /// (denominator, lower 95%, upper 95%, lower 99.8%, upper 99.8%)
    pub limits: Vec<[f64; 5]>,
    /// What the denominator counts ("children aged 0-17", "referrals", …).
    pub denominator_label: String,
    /// The LA when its point is not drawn, with the symbol ("Lincolnshire (c)"): written in
    /// the chart so the reader knows why it is missing.
    pub not_drawn: Option<String>,
}

/// A label cut to `max` characters (the space under a bar), keeping a symbol mark ("(c)",
/// "(x)", "(z)", "(k)").
fn short(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    let (stem, mark) = [" (c)", " (x)", " (z)", " (k)"]
        .iter()
        .find_map(|m| name.strip_suffix(m).map(|stem| (stem, *m)))
        .unwrap_or((name, ""));
    let keep = max.saturating_sub(1 + mark.len()).max(1);
    format!("{}…{mark}", stem.chars().take(keep).collect::<String>())
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

/// The size a chart is drawn at and its type sizes (plotters writes SVG type at size ÷ 1.24).
/// Screen charts (HTML, PNG) are 720 pixels
/// wide; print charts fill half an A4 page in the PDF at about 0.7 scale, so they are drawn
/// small with type that stays legible once scaled, short captions (the page prints the title)
/// and horizontal bars (names readable in full).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub caption: u32,
    pub text: u32,
    pub compact: bool,
}

impl Canvas {
    /// Screen and PNG, 720 pixels wide.
    pub const fn screen(height: u32) -> Canvas {
        Canvas {
            width: 720,
            height,
            caption: 16,
            text: 11,
            compact: false,
        }
    }

    /// Half an A4 page's width in the PDF.
    pub const PRINT: Canvas = Canvas {
        width: 360,
        height: 220,
        caption: 14,
        text: 12,
        compact: true,
    };

    fn label_area(self) -> u32 {
        if self.compact { 44 } else { 60 }
    }
}

/// An SVG document of `size` on white, drawn by `body`: the frame every chart shares.
fn draw(
    size: (u32, u32),
    body: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), ChartError>,
) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(e)?;
        body(&root)?;
        root.present().map_err(e)?;
    }
    Ok(svg)
}

/// The legend box, the same on every chart, where the chart leaves room (bars sorted largest
/// first leave the right or the bottom free).
fn legend<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    canvas: Canvas,
    at: SeriesLabelPosition,
) -> Result<(), ChartError>
where
    DB: DrawingBackend + 'a,
    X: Ranged,
    Y: Ranged,
{
    chart
        .configure_series_labels()
        .position(at)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", canvas.text))
        .draw()
        .map_err(e)
}

/// The bar chart's reference lines that have a value: (value, colour, name, dash).
fn references(c: &NeighbourChart) -> impl Iterator<Item = (f64, RGBColor, &'static str, u32)> {
    [
        c.england.map(|v| (v, ENGLAND_COLOUR, "England", 3u32)),
        c.region.map(|v| (v, SN_COLOUR, "Region", 8u32)),
    ]
    .into_iter()
    .flatten()
}

/// The value axis's end for a bar chart: room above the longest bar or reference line.
fn bars_max(c: &NeighbourChart) -> f64 {
    axis_max(
        c.bars
            .iter()
            .filter_map(|b| b.1)
            .chain(c.england)
            .chain(c.region),
    )
}

/// The LA's bar is the only dark one.
fn bar_style(is_la: bool) -> ShapeStyle {
    if is_la { LA_COLOUR } else { OTHER_COLOUR }.filled()
}

/// The neighbour bar chart (also the composition chart) as an SVG document: one row per area,
/// largest at the top, with the names in full beside their bars (the Government Analysis
/// Function's guidance: horizontal bars when the labels are long, so "Herefordshire, County
/// of" is never cut to "Herefordshir…") and each bar's value at its end.
pub fn neighbour_svg(c: &NeighbourChart, canvas: Canvas) -> Result<String, ChartError> {
    draw((canvas.width, canvas.height), |root| {
        let n = c.bars.len().max(1);
        let right = bars_max(c);
        // Print has a third of the page: the longest names give way there, only there.
        let (longest, names_width) = if canvas.compact { (24, 140) } else { (40, 240) };
        let names: Vec<String> = c.bars.iter().map(|b| short(&b.0, longest)).collect();
        // Rows top to bottom in the order given: segment 0 is drawn at the bottom, so reverse.
        let row = |i: usize| n - 1 - i;
        let caption = match (canvas.compact, c.note == polarity_note(c.polarity)) {
            (false, _) => format!("{} ({})", when(&c.title, &c.period), c.note),
            (true, true) => print_caption(when("Similar areas", &c.period), c.polarity),
            (true, false) => when(&super::capitalised(&c.note), &c.period),
        };
        let mut chart = ChartBuilder::on(root)
            .caption(caption, ("sans-serif", canvas.caption))
            .margin(if canvas.compact { 6 } else { 12 })
            .margin_right(if canvas.compact { 14 } else { 40 })
            .x_label_area_size(if canvas.compact { 28 } else { 40 })
            .y_label_area_size(names_width)
            .build_cartesian_2d(0.0..right, (0..n - 1).into_segmented())
            .map_err(e)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOUR)
            .disable_y_mesh()
            .x_desc(unit_label(c.unit))
            .x_label_formatter(&tick)
            .x_labels(4)
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                    names.get(n - 1 - *i).cloned().unwrap_or_default()
                }
                SegmentValue::Last => String::new(),
            })
            .label_style(("sans-serif", canvas.text))
            .axis_desc_style(("sans-serif", canvas.text))
            .draw()
            .map_err(e)?;
        chart
            .draw_series(c.bars.iter().enumerate().filter_map(|(i, b)| {
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(row(i))),
                        (b.1?, SegmentValue::Exact(row(i) + 1)),
                    ],
                    bar_style(b.2),
                );
                bar.set_margin(2, 2, 0, 0);
                Some(bar)
            }))
            .map_err(e)?;
        let after = TextStyle::from(("sans-serif", canvas.text - 1).into_font())
            .pos(Pos::new(HPos::Left, VPos::Center));
        chart
            .draw_series(c.bars.iter().enumerate().filter_map(|(i, b)| {
                let v = b.1?;
                let at = (v, SegmentValue::CenterOf(row(i)));
                Some(Text::new(
                    format!(" {}", super::format_figure(c.unit, c.decimals, v)),
                    at,
                    after.clone(),
                ))
            }))
            .map_err(e)?;
        for (v, colour, name, dash) in references(c) {
            let down = vec![(v, SegmentValue::Exact(0)), (v, SegmentValue::Last)];
            dashed(&mut chart, down, colour, name, dash)?;
        }
        if references(c).next().is_some() {
            legend(&mut chart, canvas, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    })
}

/// The trend chart's plot: periods along, values up.
type TrendPlot<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordusize, RangedCoordf64>>;

/// The trend chart as an SVG document.
pub fn trend_svg(c: &TrendChart, canvas: Canvas) -> Result<String, ChartError> {
    draw((canvas.width, canvas.height), |root| {
        let top = axis_max(
            c.points
                .iter()
                .flat_map(|p| [p.la, p.sn, p.england])
                .flatten(),
        );
        let mut chart = trend_plot(root, c, canvas, top)?;
        draw_la_trend(&mut chart, c, canvas)?;
        draw_trend_marks(&mut chart, c, canvas, top)?;
        for (pts, colour, name, dash) in [
            (
                trend_series(c, |p| p.sn),
                SN_COLOUR,
                "Similar areas (average)",
                8u32,
            ),
            (
                trend_series(c, |p| p.england),
                ENGLAND_COLOUR,
                "England",
                3u32,
            ),
        ] {
            if pts.is_empty() {
                continue;
            }
            dashed(&mut chart, pts, colour, name, dash)?;
        }
        legend(&mut chart, canvas, SeriesLabelPosition::LowerRight)?;
        Ok(())
    })
}

/// The trend chart's caption, axes and period labels, up to `top`.
fn trend_plot<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    c: &TrendChart,
    canvas: Canvas,
    top: f64,
) -> Result<TrendPlot<'a, 'b>, ChartError> {
    let n = c.points.len().max(1);
    let labels: Vec<String> = c
        .points
        .iter()
        .map(|p| match p.mark {
            // In print the last label would run off the page's chart: the plot's mark does.
            Some(m) if !canvas.compact => format!("{} ({m})", p.label),
            _ => p.label.clone(),
        })
        .collect();
    let caption = if canvas.compact {
        print_caption(
            when(&super::capitalised(&c.subtitle), &c.span()),
            c.polarity,
        )
    } else {
        format!(
            "{}: {} ({})",
            c.title,
            when(&c.subtitle, &c.span()),
            polarity_note(c.polarity)
        )
    };
    let mut chart = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", canvas.caption))
        .margin(if canvas.compact { 6 } else { 12 })
        .margin_right(if canvas.compact { 18 } else { 36 })
        .x_label_area_size(if canvas.compact { 24 } else { 36 })
        .y_label_area_size(canvas.label_area())
        .build_cartesian_2d(0..n.saturating_sub(1).max(1), 0.0..top)
        .map_err(e)?;
    value_mesh(&mut chart, c.unit)
        // Monthly series: about eight labels fit under 720 pixels (four in print).
        .x_labels(n.min(if canvas.compact { 4 } else { 8 }))
        .x_label_formatter(&|i| labels.get(*i).cloned().unwrap_or_default())
        .label_style(("sans-serif", canvas.text))
        .axis_desc_style(("sans-serif", canvas.text))
        .draw()
        .map_err(e)?;
    Ok(chart)
}

/// One line of a trend chart: (period, value) where `pick` has a value.
fn trend_series(c: &TrendChart, pick: fn(&TrendPoint) -> Option<f64>) -> Vec<(usize, f64)> {
    c.points
        .iter()
        .enumerate()
        .filter_map(move |(i, p)| pick(p).map(|v| (i, v)))
        .collect::<Vec<_>>()
}

/// The LA's line and its dots.
fn draw_la_trend(chart: &mut TrendPlot, c: &TrendChart, canvas: Canvas) -> Result<(), ChartError> {
    let la = trend_series(c, |p| p.la);
    // The LA's line breaks where a value is not drawn: a line across the gap would draw
    // the hidden figure's neighbourhood.
    let mut runs: Vec<Vec<(usize, f64)>> = vec![];
    for (i, p) in c.points.iter().enumerate() {
        match (p.la, runs.last_mut()) {
            (Some(v), Some(run)) if run.last().is_some_and(|l| l.0 + 1 == i) => run.push((i, v)),
            (Some(v), _) => runs.push(vec![(i, v)]),
            (None, _) => {}
        }
    }
    for (k, run) in runs.into_iter().enumerate() {
        let line = chart
            .draw_series(LineSeries::new(run, LA_COLOUR.stroke_width(3)))
            .map_err(e)?;
        if k == 0 {
            line.label("This area").legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], LA_COLOUR.stroke_width(3))
            });
        }
    }
    let dot = if canvas.compact { 3 } else { 4 };
    chart
        .draw_series(la.iter().map(|p| Circle::new(*p, dot, LA_COLOUR.filled())))
        .map_err(e)?;
    Ok(())
}

/// The symbol of each value not drawn, in its gap at the top of the plot (the headroom above
/// the highest line; the legend sits at the bottom), inside the plot at the first and last
/// period.
fn draw_trend_marks(
    chart: &mut TrendPlot,
    c: &TrendChart,
    canvas: Canvas,
    top: f64,
) -> Result<(), ChartError> {
    let last = c.points.len().max(1).saturating_sub(1);
    chart
        .draw_series(c.points.iter().enumerate().filter_map(|(i, p)| {
            let m = p.mark?;
            let h = match i {
                0 => HPos::Left,
                i if i == last => HPos::Right,
                _ => HPos::Center,
            };
            let style =
                TextStyle::from(("sans-serif", canvas.text + 2, FontStyle::Bold).into_font())
                    .color(&LA_COLOUR)
                    .pos(Pos::new(h, VPos::Top));
            Some(Text::new(m.to_string(), (i, top * 0.99), style))
        }))
        .map_err(e)?;
    Ok(())
}

/// The funnel plot as an SVG document.
pub fn funnel_svg(c: &FunnelChart, canvas: Canvas) -> Result<String, ChartError> {
    draw((canvas.width, canvas.height), |root| {
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
        let caption = if canvas.compact {
            print_caption(when("All areas by size", &c.period), c.polarity)
        } else {
            format!(
                "{}: {} ({})",
                c.title,
                when("all areas by size", &c.period),
                polarity_note(c.polarity)
            )
        };
        let mut chart = ChartBuilder::on(root)
            .caption(caption, ("sans-serif", canvas.caption))
            .margin(if canvas.compact { 6 } else { 12 })
            .margin_right(if canvas.compact { 12 } else { 24 })
            .x_label_area_size(40)
            .y_label_area_size(canvas.label_area())
            .build_cartesian_2d(0.0..x_max, 0.0..top)
            .map_err(e)?;
        value_mesh(&mut chart, c.unit)
            .x_desc(c.denominator_label.as_str())
            .x_labels(if canvas.compact { 4 } else { 10 })
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style(("sans-serif", canvas.text))
            .axis_desc_style(("sans-serif", canvas.text))
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
        if let Some(name) = &c.not_drawn {
            let at = TextStyle::from(("sans-serif", canvas.text + 1).into_font())
                .pos(Pos::new(HPos::Left, VPos::Top));
            chart
                .draw_series([Text::new(name.clone(), (x_max * 0.02, top * 0.98), at)])
                .map_err(e)?;
        }
        for p in c.points.iter().filter(|p| p.3) {
            chart
                .draw_series([
                    Circle::new((p.1, p.2), 6, LA_COLOUR.filled()).into_dyn(),
                    Text::new(p.0.clone(), (p.1, p.2), ("sans-serif", canvas.text + 1)).into_dyn(),
                ])
                .map_err(e)?;
        }
        legend(&mut chart, canvas, SeriesLabelPosition::UpperRight)?;
        Ok(())
    })
}

/// What a per-indicator chart is drawn from, so it can be drawn at screen and print sizes.
#[derive(Debug, Clone)]
pub enum ChartData {
    Bars(NeighbourChart),
    Trend(TrendChart),
    Funnel(FunnelChart),
}

impl ChartData {
    /// The chart in words, for its alt text: what it plots, when, and every value it draws
    /// (a screen reader hears the figures a sighted reader sees; the pack adds the reading).
    pub fn describe(&self) -> String {
        let value = |unit: Unit, v: Option<f64>| match v {
            Some(v) => super::format_figure(unit, 1, v),
            None => "no figure".into(),
        };
        match self {
            ChartData::Bars(c) => {
                let bars: Vec<String> = c
                    .bars
                    .iter()
                    .map(|(name, v, _)| match v {
                        // The name carries the symbol ("(c)", "(x)") of a bar not drawn.
                        Some(v) => {
                            format!("{name} {}", super::format_figure(c.unit, c.decimals, *v))
                        }
                        None => name.clone(),
                    })
                    .collect();
                let mut out = format!(
                    "Bar chart: {}. {}",
                    when(&c.title, &c.period),
                    bars.join("; ")
                );
                if let Some(e) = c.england {
                    out.push_str(&format!("; England {}", value(c.unit, Some(e))));
                }
                out.push('.');
                out
            }
            ChartData::Trend(c) => {
                let points: Vec<String> = c
                    .points
                    .iter()
                    .map(|p| format!("{} {}", p.label, value(c.unit, p.la)))
                    .collect();
                format!(
                    "Line chart: {}, {}. This area: {}.",
                    c.title,
                    c.span(),
                    points.join("; ")
                )
            }
            ChartData::Funnel(c) => {
                let la = c.points.iter().find(|p| p.3);
                let own = la.map_or(String::new(), |(name, size, v, _)| {
                    format!(
                        " {name}: {} ({} {}).",
                        value(c.unit, Some(*v)),
                        super::format_figure(Unit::Count, 0, *size),
                        c.denominator_label
                    )
                });
                format!(
                    "Funnel plot: {}. {} areas' values against their size, around England's {} \
                     with 95% and 99.8% limits.{own}",
                    when(&c.title, &c.period),
                    c.points.len(),
                    value(c.unit, Some(c.centre)),
                )
            }
        }
    }

    /// The chart drawn on a canvas (screen charts keep their usual heights).
    pub fn svg(&self, canvas: Option<Canvas>) -> Result<String, ChartError> {
        match self {
            ChartData::Bars(c) => neighbour_svg(c, canvas.unwrap_or(Canvas::screen(380))),
            ChartData::Trend(c) => trend_svg(c, canvas.unwrap_or(Canvas::screen(320))),
            ChartData::Funnel(c) => funnel_svg(c, canvas.unwrap_or(Canvas::screen(380))),
        }
    }
}

/// One measure of the adoption scorecard: the LA, similar areas and England against the
/// threshold for the period.
#[derive(Debug, Clone)]
pub struct ThresholdGroup {
    pub label: String,
    pub la: Option<f64>,
    pub sn: Option<f64>,
    pub england: Option<f64>,
    /// (value, label) of the threshold for the period.
    pub threshold: Option<(f64, String)>,
}

/// The adoption scorecard chart: each measure's bars against its threshold.
#[derive(Debug, Clone)]
pub struct ThresholdChart {
    pub title: String,
    /// The period in words ("3 years to 31 March 2025").
    pub period: String,
    pub unit: Unit,
    pub groups: Vec<ThresholdGroup>,
}

const BAR_COLOURS: [RGBColor; 3] = [LA_COLOUR, OTHER_COLOUR, ENGLAND_COLOUR];

impl ThresholdChart {
    /// The chart in words (alt text): each measure's bars and its threshold.
    pub fn describe(&self) -> String {
        let v = |x: Option<f64>| {
            x.map_or("no figure".into(), |x| {
                super::format_figure(self.unit, 0, x)
            })
        };
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|g| {
                let threshold = g.threshold.as_ref().map_or(String::new(), |(t, _)| {
                    format!(", threshold {}", v(Some(*t)))
                });
                format!(
                    "{}: this area {}, similar areas {}, England {}{threshold}",
                    g.label,
                    v(g.la),
                    v(g.sn),
                    v(g.england)
                )
            })
            .collect();
        format!(
            "Bar chart: {}, {}. {}.",
            self.title,
            self.period,
            groups.join("; ")
        )
    }
}

impl Scorecard {
    /// The table in words (alt text): each measure's figure against similar areas and England.
    pub fn describe(&self) -> String {
        let rows: Vec<String> = self
            .rows
            .iter()
            .map(|r| {
                format!(
                    "{} {} (similar areas {}, England {}, rank {})",
                    r.indicator, r.value, r.sn, r.england, r.rank
                )
            })
            .collect();
        format!("Table: {}. {}.", self.title, rows.join("; "))
    }
}

/// The adoption scorecard's plot: four segments a measure (three bars and a gap), days up.
type ThresholdPlot<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<SegmentedCoord<RangedCoordusize>, RangedCoordf64>>;

/// The adoption scorecard chart as an SVG document: per measure, bars for this area, similar
/// areas and England, with the threshold as a black line across the group.
pub fn thresholds_svg(c: &ThresholdChart) -> Result<String, ChartError> {
    draw((720, 380), |root| {
        let mut chart = thresholds_plot(root, c)?;
        draw_threshold_bars(&mut chart, c)?;
        draw_threshold_lines(&mut chart, c)?;
        legend(
            &mut chart,
            Canvas::screen(380),
            SeriesLabelPosition::UpperRight,
        )?;
        Ok(())
    })
}

/// The adoption scorecard's caption, axes and measure labels.
fn thresholds_plot<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    c: &ThresholdChart,
) -> Result<ThresholdPlot<'a, 'b>, ChartError> {
    let n = c.groups.len().max(1) * 4;
    // Headroom above the tallest bar for the legend and the threshold labels.
    let top = 1.25
        * axis_max(c.groups.iter().flat_map(|g| {
            [g.la, g.sn, g.england, g.threshold.as_ref().map(|t| t.0)]
                .into_iter()
                .flatten()
        }));
    let labels: Vec<String> = c.groups.iter().map(|g| short(&g.label, 36)).collect();
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("{}, {} (lower is better)", c.title, c.period),
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((0..n - 1).into_segmented(), 0.0..top)
        .map_err(e)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID_COLOUR)
        .disable_x_mesh()
        .y_desc(unit_label(c.unit))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_labels(n)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) if i % 4 == 1 => {
                labels.get(i / 4).cloned().unwrap_or_default()
            }
            _ => String::new(),
        })
        .x_label_style(("sans-serif", 11))
        .draw()
        .map_err(e)?;
    Ok(chart)
}

/// Each measure's bars (this area, similar areas, England), each with its value above it.
fn draw_threshold_bars(chart: &mut ThresholdPlot, c: &ThresholdChart) -> Result<(), ChartError> {
    let names = ["This area", "Similar areas (average)", "England"];
    for (k, (colour, name)) in BAR_COLOURS.iter().zip(names).enumerate() {
        let colour = *colour;
        let bars: Vec<(usize, f64)> = c
            .groups
            .iter()
            .enumerate()
            .filter_map(|(g, grp)| [grp.la, grp.sn, grp.england][k].map(|v| (g * 4 + k, v)))
            .collect();
        chart
            .draw_series(bars.iter().map(|&(i, v)| {
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0.0),
                        (SegmentValue::Exact(i + 1), v),
                    ],
                    colour.filled(),
                );
                bar.set_margin(0, 0, 3, 3);
                bar
            }))
            .map_err(e)?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
        let above =
            TextStyle::from(("sans-serif", 11).into_font()).pos(Pos::new(HPos::Left, VPos::Bottom));
        chart
            .draw_series(bars.iter().map(|&(i, v)| {
                Text::new(
                    format!("{v:.0}"),
                    (SegmentValue::Exact(i), v),
                    above.clone(),
                )
            }))
            .map_err(e)?;
    }
    Ok(())
}

/// Each measure's threshold: a black line across its group, labelled with its value.
fn draw_threshold_lines(chart: &mut ThresholdPlot, c: &ThresholdChart) -> Result<(), ChartError> {
    let lines: Vec<(usize, f64, String)> = c
        .groups
        .iter()
        .enumerate()
        .filter_map(|(g, grp)| grp.threshold.as_ref().map(|t| (g, t.0, t.1.clone())))
        .collect();
    if lines.is_empty() {
        return Ok(());
    }
    chart
        .draw_series(lines.iter().map(|(g, t, _)| {
            PathElement::new(
                vec![
                    (SegmentValue::Exact(g * 4), *t),
                    (SegmentValue::Exact(g * 4 + 3), *t),
                ],
                BLACK.stroke_width(3),
            )
        }))
        .map_err(e)?
        .label("Threshold")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(3)));
    let style =
        TextStyle::from(("sans-serif", 10).into_font()).pos(Pos::new(HPos::Left, VPos::Bottom));
    chart
        .draw_series(lines.iter().map(|(g, t, _)| {
            Text::new(
                format!("threshold {t:.0}"),
                (SegmentValue::Exact(g * 4), *t),
                style.clone(),
            )
        }))
        .map_err(e)?;
    Ok(())
}

/// One row of the scorecard table, every cell already formatted (and suppressed) as the pack
/// shows it.
#[derive(Debug, Clone, Default)]
pub struct ScorecardRow {
    pub indicator: String,
    pub value: String,
    pub sn: String,
    pub england: String,
    pub rank: String,
    pub quartile: String,
    pub rag: RagCell,
    /// An arrow for the direction and a word for better or worse ("↓ improving").
    pub trend: String,
}

/// A scorecard's RAG cell: a rating (tinted and spelt out, so greyscale loses nothing) or the
/// DfE symbol for why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RagCell {
    Rated(Rag),
    /// "c": the figure is suppressed.
    Hidden,
    /// "z": a neutral indicator has no RAG.
    NotApplicable,
    /// "x": no rating (no benchmark).
    #[default]
    NotAvailable,
}

/// The scorecard table: one row per indicator.
#[derive(Debug, Clone)]
pub struct Scorecard {
    pub title: String,
    pub rows: Vec<ScorecardRow>,
}

/// The trend as the scorecard shows it: the arrow is the direction the value moved, the word
/// says whether that is better (it depends on the indicator's polarity).
pub fn trend_arrow(trend: Option<Trend>, polarity: Polarity) -> String {
    let (up, down) = ("\u{2191}", "\u{2193}");
    match (trend, polarity) {
        (Some(t @ Trend::Improving), Polarity::Low)
        | (Some(t @ Trend::Worsening), Polarity::High) => format!("{down} {}", t.name()),
        (Some(t @ (Trend::Improving | Trend::Worsening | Trend::Rising)), _) => {
            format!("{up} {}", t.name())
        }
        (Some(Trend::Falling), _) => format!("{down} falling"),
        (Some(Trend::Stable), _) => "\u{2192} steady".into(),
        (None, _) => "x".into(),
    }
}

/// (heading, left edge, width) of the scorecard's columns.
const SCORECARD_COLUMNS: [(&str, i32, i32); 8] = [
    ("Indicator", 10, 330),
    ("This area", 345, 85),
    ("Similar areas", 430, 100),
    ("England", 530, 75),
    ("Rank", 605, 70),
    ("Quartile", 675, 65),
    ("RAG", 740, 70),
    ("Trend", 810, 140),
];

/// The scorecard table as an SVG image (for packs and slides; the HTML and workbook carry the
/// same figures as text). RAG cells are tinted and spelt out, so greyscale loses nothing.
pub fn scorecard_svg(c: &Scorecard) -> Result<String, ChartError> {
    const ROW: i32 = 24;
    const TOP: i32 = 40;
    let height = TOP + ROW * (c.rows.len() as i32 + 1) + 10;
    draw((960, height as u32), |root| {
        let left = |size: i32, bold: bool| {
            let font = if bold {
                ("sans-serif", size, FontStyle::Bold).into_font()
            } else {
                ("sans-serif", size).into_font()
            };
            TextStyle::from(font).pos(Pos::new(HPos::Left, VPos::Center))
        };
        root.draw(&Text::new(c.title.clone(), (10, 18), left(16, true)))
            .map_err(e)?;
        let header = left(12, true);
        root.draw(&Rectangle::new(
            [(0, TOP), (960, TOP + ROW)],
            RGBColor(0xe8, 0xe8, 0xe8).filled(),
        ))
        .map_err(e)?;
        for (name, x, _) in SCORECARD_COLUMNS {
            root.draw(&Text::new(name, (x, TOP + ROW / 2), header.clone()))
                .map_err(e)?;
        }
        let body = left(12, false);
        for (r, row) in c.rows.iter().enumerate() {
            let y = TOP + ROW * (r as i32 + 1);
            if r % 2 == 1 {
                root.draw(&Rectangle::new(
                    [(0, y), (960, y + ROW)],
                    RGBColor(0xf6, 0xf6, 0xf6).filled(),
                ))
                .map_err(e)?;
            }
            let (tint, word) = match row.rag {
                RagCell::Rated(Rag::Green) => (Some(RGBColor(0xcf, 0xe8, 0xcf)), "Green"),
                RagCell::Rated(Rag::Amber) => (Some(RGBColor(0xff, 0xe3, 0xa3)), "Amber"),
                RagCell::Rated(Rag::Red) => (Some(RGBColor(0xf4, 0xc2, 0xc2)), "Red"),
                RagCell::Hidden => (None, "c"),
                RagCell::NotApplicable => (None, "z"),
                RagCell::NotAvailable => (None, "x"),
            };
            if let Some(t) = tint {
                let (_, x, w) = SCORECARD_COLUMNS[6];
                root.draw(&Rectangle::new(
                    [(x - 4, y + 2), (x + w - 8, y + ROW - 2)],
                    t.filled(),
                ))
                .map_err(e)?;
            }
            let indicator = super::svg::fit(
                &row.indicator,
                12.0,
                false,
                (SCORECARD_COLUMNS[0].2 - 10) as f32,
            );
            let cells = [
                indicator.as_str(),
                &row.value,
                &row.sn,
                &row.england,
                &row.rank,
                &row.quartile,
                word,
                &row.trend,
            ];
            for ((_, x, _), text) in SCORECARD_COLUMNS.iter().zip(cells) {
                root.draw(&Text::new(
                    text.to_string(),
                    (*x, y + ROW / 2),
                    body.clone(),
                ))
                .map_err(e)?;
            }
        }
        root.draw(&PathElement::new(
            vec![(0, height - 10), (960, height - 10)],
            BLACK.stroke_width(1),
        ))
        .map_err(e)?;
        Ok(())
    })
}
