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
const SN_COLOUR: RGBColor = RGBColor(0x6f, 0x77, 0x7b);
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
    /// The LA value's 95% interval (drawn as a whisker on its bar), where known and shown.
    pub interval: Option<(f64, f64)>,
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
    /// The LA value's 95% interval (a whisker on its dot), where known and shown.
    pub interval: Option<(f64, f64)>,
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
    /// The value axis a pack sets for this indicator's line charts (from zero otherwise).
    pub axis: crate::render::packs::Axis,
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
    /// The LA's significance against England where the comparison tested it ("significantly
    /// better (99.8%)", "within expected variation"), written beside its point.
    pub flag: Option<String>,
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

/// A dashed reference line (England, region, neighbours' mean, funnel limits). Lines are
/// labelled directly where they end ([`direct_labels`]), never in a legend box over the data.
fn dashed<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    points: Vec<(X::ValueType, Y::ValueType)>,
    colour: RGBColor,
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
        .map_err(e)?;
    Ok(())
}

/// Positions (pixels) moved apart so that any two are at least `gap` apart, in their order,
/// kept within `lo..=hi` where there is room: direct labels at the ends of lines that end
/// close together must not print over each other.
pub fn spread(at: &[i32], gap: i32, lo: i32, hi: i32) -> Vec<i32> {
    let mut order: Vec<usize> = (0..at.len()).collect();
    order.sort_by_key(|&i| (at[i], i));
    let mut placed: Vec<i32> = order.iter().map(|&i| at[i].clamp(lo, hi.max(lo))).collect();
    for k in 1..placed.len() {
        placed[k] = placed[k].max(placed[k - 1] + gap);
    }
    if let Some(last) = placed.last_mut() {
        *last = (*last).min(hi.max(lo));
    }
    for k in (0..placed.len().saturating_sub(1)).rev() {
        placed[k] = placed[k].min(placed[k + 1] - gap);
    }
    let mut out = vec![0; at.len()];
    for (k, &i) in order.iter().enumerate() {
        out[i] = placed[k];
    }
    out
}

/// A direct label: where its line ends (pixels), its words and its colour.
type Label = ((i32, i32), String, RGBColor);

/// Labels lines where they end, just right of the end, moved apart vertically so none prints
/// over another (the Government Analysis Function's guidance: label lines directly rather
/// than with a legend the eye goes back and forth to).
fn direct_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: Vec<Label>,
    canvas: Canvas,
    rows: std::ops::Range<i32>,
) -> Result<(), ChartError> {
    let ys: Vec<i32> = labels.iter().map(|l| l.0.1).collect();
    let gap = canvas.text as i32 + 2;
    let placed = spread(&ys, gap, rows.start + gap / 2, rows.end - gap / 2);
    for (((x, _), text, colour), y) in labels.into_iter().zip(placed) {
        let style = TextStyle::from(("sans-serif", canvas.text).into_font())
            .color(&colour)
            .pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(text, (x + 6, y), style)).map_err(e)?;
    }
    Ok(())
}

/// The room direct labels need right of the plot (pixels) at the canvas's type size.
fn label_room(labels: &[&str], canvas: Canvas) -> u32 {
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u32;
    longest * canvas.text * 6 / 10 + 14
}

/// A key drawn in a row above the plot (for bars, which cannot be labelled at a line's end):
/// a swatch and a name per series, left to right from `x`, centred on `y`.
fn key_row<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    entries: &[(RGBColor, &str, bool)],
    (mut x, y): (i32, i32),
    text: u32,
) -> Result<(), ChartError> {
    for (colour, name, line) in entries {
        let swatch = if *line {
            Rectangle::new([(x, y - 1), (x + 16, y + 1)], colour.filled())
        } else {
            Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
        };
        root.draw(&swatch).map_err(e)?;
        let style = TextStyle::from(("sans-serif", text).into_font())
            .pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(name.to_string(), (x + 20, y), style))
            .map_err(e)?;
        x += 20 + (name.chars().count() as u32 * text / 2) as i32 + 18;
    }
    Ok(())
}

/// A subtitle's grey (7:1 on white).
const SUBTITLE_COLOUR: RGBColor = RGBColor(0x50, 0x5a, 0x5f);

/// Words wrapped to lines of at most `chars` characters.
fn wrap(text: &str, chars: usize) -> Vec<String> {
    let mut lines: Vec<String> = vec![];
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= chars => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// Draws a chart's title (what it shows) and subtitle (when, and how to read it) left-aligned
/// at the top, wrapped to the width (the Government Analysis Function's guidance: a title
/// that says what, the period in the title or subtitle, never cut off), and gives the area
/// below them for the plot. Print charts have no title: the page prints it.
fn titled<'a>(
    root: &DrawingArea<SVGBackend<'a>, Shift>,
    title: &str,
    subtitle: &str,
    canvas: Canvas,
) -> Result<DrawingArea<SVGBackend<'a>, Shift>, ChartError> {
    let margin = if canvas.compact { 6 } else { 12 };
    let mut y = margin;
    for (text, size, bold, colour) in [
        (title, canvas.caption, true, BLACK),
        (subtitle, canvas.text + 1, false, SUBTITLE_COLOUR),
    ] {
        // DejaVu Sans averages under 0.6 of its size a character (bold a little more).
        let per_line = ((canvas.width as i32 - 2 * margin) * 10 / (size as i32 * 6)).max(10);
        for line in wrap(text, per_line as usize) {
            let font = if bold {
                ("sans-serif", size, FontStyle::Bold).into_font()
            } else {
                ("sans-serif", size).into_font()
            };
            let style = TextStyle::from(font)
                .color(&colour)
                .pos(Pos::new(HPos::Left, VPos::Top));
            root.draw(&Text::new(line, (margin, y), style)).map_err(e)?;
            y += size as i32 + 4;
        }
    }
    Ok(root.split_vertically(y + 2).1)
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
            .chain(c.region)
            .chain(c.interval.map(|i| i.1)),
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
        let compared = c.note == polarity_note(c.polarity);
        let subtitle = match (canvas.compact, compared) {
            (false, true) => format!("Similar areas, {} ({})", c.period, c.note),
            (true, true) => print_caption(when("Similar areas", &c.period), c.polarity),
            (_, false) => when(&super::capitalised(&c.note), &c.period),
        };
        let title = if canvas.compact { "" } else { c.title.as_str() };
        let area = titled(root, title, &subtitle, canvas)?;
        let refs: Vec<(f64, RGBColor, &str, u32)> = references(c).collect();
        let base = if canvas.compact { 6 } else { 12 };
        let mut chart = ChartBuilder::on(&area)
            .margin(base)
            // Room above the bars for the reference lines' labels.
            .margin_top(if refs.is_empty() {
                base
            } else {
                base + canvas.text + 8
            })
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
        // The LA's 95% interval as a whisker across its bar's end.
        let la_row = c.bars.iter().position(|b| b.2);
        if let (Some(i), Some((lo, hi))) = (la_row, c.interval)
            && c.bars[i].1.is_some()
        {
            let from = chart.backend_coord(&(lo, SegmentValue::CenterOf(row(i))));
            let to = chart.backend_coord(&(hi, SegmentValue::CenterOf(row(i))));
            whisker(root, from, to)?;
        }
        let after = TextStyle::from(("sans-serif", canvas.text - 1).into_font())
            .pos(Pos::new(HPos::Left, VPos::Center));
        chart
            .draw_series(c.bars.iter().enumerate().filter_map(|(i, b)| {
                let v = b.1?;
                // Past the whisker, on the LA's bar.
                let end = match (b.2, c.interval) {
                    (true, Some((_, hi))) => v.max(hi),
                    _ => v,
                };
                let at = (end, SegmentValue::CenterOf(row(i)));
                Some(Text::new(
                    format!(" {}", super::format_figure(c.unit, c.decimals, v)),
                    at,
                    after.clone(),
                ))
            }))
            .map_err(e)?;
        for (v, colour, _, dash) in &refs {
            let down = vec![(*v, SegmentValue::Exact(0)), (*v, SegmentValue::Last)];
            dashed(&mut chart, down, *colour, *dash)?;
        }
        reference_labels(root, &chart, &refs, c, canvas)
    })
}

/// A horizontal interval from `from` to `to` (pixels) with end caps, black on a white halo so
/// it reads over the dark bar of this area and the white beyond it alike.
fn whisker<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    from: (i32, i32),
    to: (i32, i32),
) -> Result<(), ChartError> {
    let y = from.1;
    let lines = [
        vec![(from.0, y), (to.0, y)],
        vec![(from.0, y - 5), (from.0, y + 5)],
        vec![(to.0, y - 5), (to.0, y + 5)],
    ];
    for (colour, width) in [(WHITE, 4), (BLACK, 2)] {
        for line in &lines {
            root.draw(&PathElement::new(line.clone(), colour.stroke_width(width)))
                .map_err(e)?;
        }
    }
    Ok(())
}

/// The bar chart's reference lines labelled above the bars where each line is ("England
/// 43.1"), moved apart sideways when two lines are close.
fn reference_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &ChartContext<DB, Cartesian2d<RangedCoordf64, SegmentedCoord<RangedCoordusize>>>,
    refs: &[(f64, RGBColor, &str, u32)],
    c: &NeighbourChart,
    canvas: Canvas,
) -> Result<(), ChartError> {
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let texts: Vec<String> = refs
        .iter()
        .map(|(v, _, name, _)| format!("{name} {}", super::format_figure(c.unit, c.decimals, *v)))
        .collect();
    let widest = texts.iter().map(|t| t.chars().count()).max().unwrap_or(0) as i32;
    let gap = widest * canvas.text as i32 * 6 / 10 + 8;
    let at: Vec<i32> = refs
        .iter()
        .map(|(v, ..)| chart.backend_coord(&(*v, SegmentValue::Exact(0))).0)
        .collect();
    let placed = spread(&at, gap, xs.start + gap / 2, xs.end - gap / 2);
    for ((text, (_, colour, ..)), x) in texts.into_iter().zip(refs).zip(placed) {
        let style = TextStyle::from(("sans-serif", canvas.text).into_font())
            .color(colour)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        root.draw(&Text::new(text, (x, ys.start - 3), style))
            .map_err(e)?;
    }
    Ok(())
}

/// The trend chart's plot: periods along, values up.
type TrendPlot<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordusize, RangedCoordf64>>;

/// The trend chart as an SVG document.
pub fn trend_svg(c: &TrendChart, canvas: Canvas) -> Result<String, ChartError> {
    draw((canvas.width, canvas.height), |root| {
        let (bottom, top) = trend_axis(c);
        let mut chart = trend_plot(root, c, canvas, (bottom, top))?;
        draw_la_trend(&mut chart, c, canvas)?;
        draw_trend_marks(&mut chart, c, canvas, top)?;
        let mut labels: Vec<Label> = vec![];
        let end =
            |chart: &TrendPlot, pts: &[(usize, f64)]| pts.last().map(|p| chart.backend_coord(p));
        if let Some(at) = end(&chart, &trend_series(c, |p| p.la)) {
            labels.push((at, TREND_LINES[0].to_string(), LA_COLOUR));
        }
        for (pts, colour, name, dash) in [
            (trend_series(c, |p| p.sn), SN_COLOUR, TREND_LINES[1], 8u32),
            (
                trend_series(c, |p| p.england),
                ENGLAND_COLOUR,
                TREND_LINES[2],
                3u32,
            ),
        ] {
            if let Some(at) = end(&chart, &pts) {
                labels.push((at, name.to_string(), colour));
            }
            if !pts.is_empty() {
                dashed(&mut chart, pts, colour, dash)?;
            }
        }
        let rows = chart.plotting_area().get_pixel_range().1;
        direct_labels(root, labels, canvas, rows)
    })
}

/// The trend chart's lines, as their direct labels name them.
const TREND_LINES: [&str; 3] = ["This area", "Similar areas", "England"];

/// The trend chart's value axis: from zero, up past the highest value or whisker, unless the
/// pack sets the axis ([`TrendChart::axis`]); a set axis still never hides a value.
fn trend_axis(c: &TrendChart) -> (f64, f64) {
    let values: Vec<f64> = c
        .points
        .iter()
        .flat_map(|p| {
            [
                p.la,
                p.sn,
                p.england,
                p.interval.map(|i| i.0),
                p.interval.map(|i| i.1),
            ]
        })
        .flatten()
        .collect();
    let top = axis_max(values.iter().copied());
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let bottom = match c.axis.min {
        Some(m) if low.is_finite() => m.min(low),
        Some(m) => m,
        None => 0.0,
    };
    let top = match c.axis.max {
        Some(m) if high.is_finite() => m.max(high),
        Some(m) => m,
        None => top,
    };
    if top > bottom {
        (bottom, top)
    } else {
        (bottom, bottom + 1.0)
    }
}

/// The trend chart's caption, axes and period labels, up to `top`.
fn trend_plot<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    c: &TrendChart,
    canvas: Canvas,
    (bottom, top): (f64, f64),
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
    let subtitle = print_caption(
        when(&super::capitalised(&c.subtitle), &c.span()),
        c.polarity,
    );
    let title = if canvas.compact { "" } else { c.title.as_str() };
    let area = titled(root, title, &subtitle, canvas)?;
    let mut chart = ChartBuilder::on(&area)
        .margin(if canvas.compact { 6 } else { 12 })
        // Room right of the plot for the lines' direct labels.
        .margin_right(label_room(&TREND_LINES, canvas))
        .x_label_area_size(if canvas.compact { 24 } else { 36 })
        .y_label_area_size(canvas.label_area())
        .build_cartesian_2d(0..n.saturating_sub(1).max(1), bottom..top)
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
    for run in runs {
        chart
            .draw_series(LineSeries::new(run, LA_COLOUR.stroke_width(3)))
            .map_err(e)?;
    }
    // Each value's 95% interval as a whisker through its dot.
    chart
        .draw_series(c.points.iter().enumerate().filter_map(|(i, p)| {
            let (v, (lo, hi)) = (p.la?, p.interval?);
            Some(ErrorBar::new_vertical(
                i,
                lo,
                v,
                hi,
                SN_COLOUR.stroke_width(1),
                8,
            ))
        }))
        .map_err(e)?;
    let dot = if canvas.compact { 3 } else { 4 };
    chart
        .draw_series(la.iter().map(|p| Circle::new(*p, dot, LA_COLOUR.filled())))
        .map_err(e)?;
    Ok(())
}

/// The symbol of each value not drawn, in its gap at the top of the plot (the headroom above
/// the highest line), inside the plot at the first and last period.
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
        let subtitle = print_caption(when("All areas by size", &c.period), c.polarity);
        let title = if canvas.compact { "" } else { c.title.as_str() };
        let area = titled(root, title, &subtitle, canvas)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(if canvas.compact { 6 } else { 12 })
            // Room right of the plot for the lines' direct labels.
            .margin_right(label_room(&FUNNEL_LINES, canvas))
            .x_label_area_size(40)
            .y_label_area_size(canvas.label_area())
            .build_cartesian_2d(0.0..x_max, 0.0..top)
            .map_err(e)?;
        value_mesh(&mut chart, c.unit)
            .x_desc(c.denominator_label.as_str())
            .x_labels(if canvas.compact { 4 } else { 10 })
            .x_label_formatter(&|x| super::format_figure(Unit::Count, 0, *x))
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
        let mut labels: Vec<Label> = vec![];
        for (k, dash, name) in [(1usize, 8u32, FUNNEL_LINES[1]), (3, 3, FUNNEL_LINES[2])] {
            let lower: Vec<(f64, f64)> = c.limits.iter().map(|l| (l[0], clip(l[k]))).collect();
            let upper: Vec<(f64, f64)> = c.limits.iter().map(|l| (l[0], clip(l[k + 1]))).collect();
            if let Some(end) = upper.last() {
                labels.push((chart.backend_coord(end), name.to_string(), SN_COLOUR));
            }
            for line in [lower, upper] {
                if !line.is_empty() {
                    dashed(&mut chart, line, SN_COLOUR, dash)?;
                }
            }
        }
        dashed(
            &mut chart,
            vec![(0.0, c.centre), (x_max, c.centre)],
            ENGLAND_COLOUR,
            3,
        )?;
        labels.push((
            chart.backend_coord(&(x_max, c.centre)),
            FUNNEL_LINES[0].to_string(),
            ENGLAND_COLOUR,
        ));
        if let Some(name) = &c.not_drawn {
            let at = TextStyle::from(("sans-serif", canvas.text + 1).into_font())
                .pos(Pos::new(HPos::Left, VPos::Top));
            chart
                .draw_series([Text::new(name.clone(), (x_max * 0.02, top * 0.98), at)])
                .map_err(e)?;
        }
        funnel_la(root, &mut chart, c, canvas)?;
        let rows = chart.plotting_area().get_pixel_range().1;
        direct_labels(root, labels, canvas, rows)
    })
}

/// The funnel plot's point for this area, with its name and significance beside it.
fn funnel_la<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    c: &FunnelChart,
    canvas: Canvas,
) -> Result<(), ChartError> {
    for p in c.points.iter().filter(|p| p.3) {
        chart
            .draw_series([Circle::new((p.1, p.2), 6, LA_COLOUR.filled())])
            .map_err(e)?;
        // The name (and its significance) beside its point, not over it; to its left
        // when the words would run past the plot.
        let (x, y) = chart.backend_coord(&(p.1, p.2));
        let text = match &c.flag {
            Some(flag) => format!("{}: {flag}", p.0),
            None => p.0.clone(),
        };
        let width = text.chars().count() as i32 * (canvas.text as i32 + 1) * 6 / 10;
        let right = chart.plotting_area().get_pixel_range().0.end;
        let (at, h) = if x + 8 + width > right {
            (x - 8, HPos::Right)
        } else {
            (x + 8, HPos::Left)
        };
        let style = TextStyle::from(("sans-serif", canvas.text + 1, FontStyle::Bold).into_font())
            .color(&LA_COLOUR)
            .pos(Pos::new(h, VPos::Bottom));
        root.draw(&Text::new(text, (at, y - 6), style)).map_err(e)?;
    }
    Ok(())
}

/// The funnel plot's lines, as their direct labels name them (the 95% and 99.8% limits are
/// drawn with different dashes and named where they end, so they never look alike).
const FUNNEL_LINES: [&str; 3] = ["England", "95% limits", "99.8% limits"];

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
                let own = match &c.flag {
                    Some(flag) => format!("{own} Against England: {flag}."),
                    None => own,
                };
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

/// The adoption scorecard's bars, as its key names them.
const THRESHOLD_BARS: [&str; 3] = ["This area", "Similar areas (average)", "England"];

/// The adoption scorecard's plot: four segments a measure (three bars and a gap), days up.
type ThresholdPlot<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<SegmentedCoord<RangedCoordusize>, RangedCoordf64>>;

/// The adoption scorecard chart as an SVG document: per measure, bars for this area, similar
/// areas and England, with the threshold as a black line across the group.
pub fn thresholds_svg(c: &ThresholdChart) -> Result<String, ChartError> {
    draw((720, 380), |root| {
        let subtitle = format!("{} (lower is better)", super::capitalised(&c.period));
        let area = titled(root, &c.title, &subtitle, Canvas::screen(380))?;
        let mut chart = thresholds_plot(&area, c)?;
        draw_threshold_bars(&mut chart, c)?;
        draw_threshold_lines(&mut chart, c)?;
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        let mut entries: Vec<(RGBColor, &str, bool)> = BAR_COLOURS
            .iter()
            .zip(THRESHOLD_BARS)
            .map(|(c, n)| (*c, n, false))
            .collect();
        if c.groups.iter().any(|g| g.threshold.is_some()) {
            entries.push((BLACK, "Threshold", true));
        }
        key_row(root, &entries, (xs.start, ys.start - 12), 11)
    })
}

/// What the adoption scorecard shows, in words, for a reader who cannot see it (the PDF's
/// alternate text): its caption, then each measure's bars and threshold.
pub fn thresholds_alt(c: &ThresholdChart) -> String {
    let unit = unit_label(c.unit);
    let days = |v: Option<f64>| v.map_or("no figure".to_string(), |v| format!("{v:.0} {unit}"));
    let groups: Vec<String> = c
        .groups
        .iter()
        .map(|g| {
            let threshold = g.threshold.as_ref().map_or(String::new(), |t| {
                format!(", threshold {}", days(Some(t.0)))
            });
            format!(
                "{}: this area {}, similar areas {}, England {}{threshold}",
                g.label,
                days(g.la),
                days(g.sn),
                days(g.england)
            )
        })
        .collect();
    format!(
        "{}, {} (lower is better). {}.",
        c.title,
        c.period,
        groups.join("; ")
    )
}

/// The adoption scorecard's caption, axes and measure labels.
fn thresholds_plot<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    c: &ThresholdChart,
) -> Result<ThresholdPlot<'a, 'b>, ChartError> {
    let n = c.groups.len().max(1) * 4;
    // Headroom above the tallest bar for the threshold labels.
    let top = 1.25
        * axis_max(c.groups.iter().flat_map(|g| {
            [g.la, g.sn, g.england, g.threshold.as_ref().map(|t| t.0)]
                .into_iter()
                .flatten()
        }));
    let labels: Vec<String> = c.groups.iter().map(|g| short(&g.label, 36)).collect();
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        // Room above the plot for the key.
        .margin_top(34)
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
    for (k, colour) in BAR_COLOURS.iter().enumerate() {
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
            .map_err(e)?;
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
        .map_err(e)?;
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

impl RagCell {
    /// The cell as the scorecard prints it: the rating spelt out (so greyscale and a screen
    /// reader lose nothing), or the DfE symbol.
    pub fn word(self) -> &'static str {
        match self {
            RagCell::Rated(Rag::Green) => "Green",
            RagCell::Rated(Rag::Amber) => "Amber",
            RagCell::Rated(Rag::Red) => "Red",
            RagCell::Hidden => "c",
            RagCell::NotApplicable => "z",
            RagCell::NotAvailable => "x",
        }
    }
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

/// What the scorecard image shows, in words, for a reader who cannot see it (the PDF's
/// alternate text): its title, then every row's cells named by their column headings.
pub fn scorecard_alt(c: &Scorecard) -> String {
    let rows: Vec<String> = c
        .rows
        .iter()
        .map(|row| {
            let cells = [
                row.value.as_str(),
                &row.sn,
                &row.england,
                &row.rank,
                &row.quartile,
                row.rag.word(),
                &row.trend,
            ];
            let named: Vec<String> = SCORECARD_COLUMNS[1..]
                .iter()
                .zip(cells)
                .filter(|(_, cell)| !cell.is_empty())
                .map(|((name, _, _), cell)| format!("{name} {cell}"))
                .collect();
            format!("{}: {}", row.indicator, named.join(", "))
        })
        .collect();
    format!(
        "Scorecard of {} measures for {}. {}.",
        c.rows.len(),
        c.title,
        rows.join("; ")
    )
}

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
            let word = row.rag.word();
            let tint = match row.rag {
                RagCell::Rated(Rag::Green) => Some(RGBColor(0xcf, 0xe8, 0xcf)),
                RagCell::Rated(Rag::Amber) => Some(RGBColor(0xff, 0xe3, 0xa3)),
                RagCell::Rated(Rag::Red) => Some(RGBColor(0xf4, 0xc2, 0xc2)),
                RagCell::Hidden | RagCell::NotApplicable | RagCell::NotAvailable => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative luminance (WCAG) of a colour.
    fn luminance(c: [f64; 3]) -> f64 {
        0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    }

    fn linear(c: RGBColor) -> [f64; 3] {
        let f = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        [f(c.0), f(c.1), f(c.2)]
    }

    /// CIELAB of linear sRGB (D65).
    fn lab(c: [f64; 3]) -> [f64; 3] {
        let x = (0.4124 * c[0] + 0.3576 * c[1] + 0.1805 * c[2]) / 0.95047;
        let y = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
        let z = (0.0193 * c[0] + 0.1192 * c[1] + 0.9505 * c[2]) / 1.08883;
        let f = |t: f64| {
            if t > 0.008856 {
                t.cbrt()
            } else {
                7.787 * t + 16.0 / 116.0
            }
        };
        [
            116.0 * f(y) - 16.0,
            500.0 * (f(x) - f(y)),
            200.0 * (f(y) - f(z)),
        ]
    }

    /// Machado, Oliveira and Fernandes (2009) full-severity simulations, on linear RGB.
    const SIGHT: [(&str, [[f64; 3]; 3]); 4] = [
        (
            "typical",
            [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        ),
        (
            "protanopia",
            [
                [0.152286, 1.052583, -0.204868],
                [0.114503, 0.786281, 0.099216],
                [-0.003882, -0.048116, 1.051998],
            ],
        ),
        (
            "deuteranopia",
            [
                [0.367322, 0.860646, -0.227968],
                [0.280085, 0.672501, 0.047413],
                [-0.011820, 0.042940, 0.968881],
            ],
        ),
        (
            "tritanopia",
            [
                [1.255528, -0.076749, -0.178779],
                [-0.078411, 0.930809, 0.147602],
                [0.004733, 0.691367, 0.303900],
            ],
        ),
    ];

    fn seen(m: &[[f64; 3]; 3], c: [f64; 3]) -> [f64; 3] {
        let row = |r: &[f64; 3]| (r[0] * c[0] + r[1] * c[1] + r[2] * c[2]).clamp(0.0, 1.0);
        [row(&m[0]), row(&m[1]), row(&m[2])]
    }

    /// The palette is colour-blind safe: the LA's mark stays far from every other series'
    /// colour (CIELAB ΔE over 25) with typical sight and under each full colour-vision
    /// deficiency, and it is the only dark mark (the others at least three times as light).
    #[test]
    fn the_palette_survives_colour_blindness_and_only_the_la_is_dark() {
        let others = [
            ("neighbours' bars", OTHER_COLOUR),
            ("England", ENGLAND_COLOUR),
            ("similar areas and limits", SN_COLOUR),
        ];
        let la = linear(LA_COLOUR);
        for (sight, m) in SIGHT {
            for (name, c) in others {
                let (a, b) = (lab(seen(&m, la)), lab(seen(&m, linear(c))));
                let de =
                    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
                assert!(de > 25.0, "{sight}: this area against {name}: ΔE {de:.1}");
            }
        }
        for (name, c) in others {
            let (l, o) = (luminance(la), luminance(linear(c)));
            assert!(
                o > 3.0 * l,
                "{name} ({o:.3}) is as dark as this area ({l:.3})"
            );
        }
        // Text in the line colours reads on white (WCAG AA, 4.5:1).
        for (name, c) in [
            ("this area", LA_COLOUR),
            ("England", ENGLAND_COLOUR),
            ("similar areas", SN_COLOUR),
            ("subtitle", SUBTITLE_COLOUR),
        ] {
            let ratio = 1.05 / (luminance(linear(c)) + 0.05);
            assert!(ratio >= 4.5, "{name}: {ratio:.2}:1");
        }
    }

    /// Labels that would print over each other are moved apart by at least the gap, keep their
    /// order, and stay in bounds when there is room; labels already apart do not move.
    #[test]
    fn direct_labels_never_overlap() {
        assert_eq!(spread(&[100, 40, 200], 14, 0, 300), vec![100, 40, 200]);
        assert_eq!(spread(&[100, 101, 102], 14, 0, 300), vec![100, 114, 128]);
        assert_eq!(spread(&[295, 298], 14, 0, 300), vec![286, 300]);
        let mut seed = 7u64;
        for _ in 0..500 {
            let n = (seed % 6) as usize + 1;
            let mut at = vec![];
            for _ in 0..n {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                at.push((seed >> 33) as i32 % 320 - 10);
            }
            let out = spread(&at, 14, 0, 300);
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&i| (at[i], i));
            for w in order.windows(2) {
                assert!(out[w[1]] - out[w[0]] >= 14, "{at:?} → {out:?}");
            }
            if 14 * (n as i32 - 1) <= 300 {
                assert!(
                    out.iter().all(|&y| (0..=300).contains(&y)),
                    "{at:?} → {out:?}"
                );
            }
        }
    }

    /// The y of each text of an SVG with these words.
    fn text_y(svg: &str, words: &str) -> Vec<f64> {
        svg.split("<text")
            .skip(1)
            .filter(|t| {
                t.get(t.find('>').unwrap_or(0) + 1..t.find("</text>").unwrap_or(0))
                    .is_some_and(|w| w.trim() == words)
            })
            .filter_map(|t| t[t.find(" y=\"")? + 4..].split('"').next()?.parse().ok())
            .collect()
    }

    /// The top of the bars: the smallest y of a filled bar rectangle (not the white canvas).
    fn bars_top(svg: &str) -> f64 {
        svg.split("<rect")
            .skip(1)
            .filter(|r| !r.contains("fill=\"#FFFFFF\""))
            .filter_map(|r| {
                r[r.find(" y=\"")? + 4..]
                    .split('"')
                    .next()?
                    .parse::<f64>()
                    .ok()
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// Reference lines are labelled above the bars, never over one; a trend chart's lines that
    /// end at the same value get labels at least a line apart; the funnel's limits are named
    /// apart from each other.
    #[test]
    fn labels_sit_clear_of_the_data_and_of_each_other() {
        let bars = NeighbourChart {
            title: "Children in care".into(),
            period: "at 31 March 2025".into(),
            note: polarity_note(Polarity::Neutral).into(),
            unit: Unit::RatePer10k,
            decimals: 1,
            polarity: Polarity::Neutral,
            bars: vec![
                ("A".into(), Some(90.0), false),
                ("B".into(), Some(66.0), true),
            ],
            interval: Some((60.0, 72.0)),
            england: Some(67.0),
            region: Some(66.5),
        };
        for canvas in [Canvas::screen(380), Canvas::PRINT] {
            let svg = neighbour_svg(&bars, canvas).unwrap();
            let top = bars_top(&svg);
            for label in ["England 67.0", "Region 66.5"] {
                let y = text_y(&svg, label);
                assert!(
                    y.len() == 1 && y[0] < top,
                    "{label} at {y:?}, bars from {top}"
                );
            }
            let x = |label: &str| -> f64 {
                let t = svg
                    .split("<text")
                    .find(|t| t.contains(&format!(">\n{label}\n<")))
                    .unwrap();
                t[t.find(" x=\"").unwrap() + 4..]
                    .split('"')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            let apart = (x("England 67.0") - x("Region 66.5")).abs();
            assert!(
                apart >= 12.0 * f64::from(canvas.text) * 0.6,
                "labels {apart} apart"
            );
        }
        let trend = TrendChart {
            axis: Default::default(),
            title: "Children in care".into(),
            subtitle: "the trend".into(),
            unit: Unit::RatePer10k,
            polarity: Polarity::Neutral,
            points: (0..5)
                .map(|i| TrendPoint {
                    label: format!("202{i}-2{}", i + 1),
                    la: Some(60.0),
                    interval: Some((55.0, 65.0)),
                    sn: Some(60.0),
                    england: Some(60.5),
                    ..Default::default()
                })
                .collect(),
        };
        let svg = trend_svg(&trend, Canvas::screen(320)).unwrap();
        let mut ys: Vec<f64> = TREND_LINES.iter().flat_map(|l| text_y(&svg, l)).collect();
        assert_eq!(ys.len(), 3, "each line named once");
        ys.sort_by(f64::total_cmp);
        assert!(ys.windows(2).all(|w| w[1] - w[0] >= 11.0), "{ys:?}");
        assert!(!svg.contains("opacity=\"0.8\""), "no legend box");
    }

    /// A pack's axis for a line chart is used, but widens rather than hide a value; without
    /// one a line chart starts at zero.
    #[test]
    fn a_set_axis_never_hides_a_value() {
        let chart = |axis: crate::render::packs::Axis| TrendChart {
            axis,
            title: "t".into(),
            subtitle: "s".into(),
            unit: Unit::Percent,
            polarity: Polarity::High,
            points: vec![
                TrendPoint {
                    la: Some(62.0),
                    interval: Some((58.0, 66.0)),
                    ..Default::default()
                },
                TrendPoint {
                    la: Some(70.0),
                    sn: Some(68.0),
                    ..Default::default()
                },
            ],
        };
        let set = |min, max| crate::render::packs::Axis { min, max };
        assert_eq!(
            trend_axis(&chart(set(Some(60.0), Some(75.0)))),
            (58.0, 75.0)
        );
        assert_eq!(trend_axis(&chart(set(Some(50.0), None))).0, 50.0);
        assert_eq!(trend_axis(&chart(set(None, Some(65.0)))), (0.0, 70.0));
        assert_eq!(trend_axis(&chart(Default::default())).0, 0.0);
    }
}
