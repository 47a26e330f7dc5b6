//! The members' chart pack as a PDF: a cover, then each framework area on its own page with
//! every measure's figure, its one-sentence reading and its charts.
//!
//! Each page is laid out as an A4 SVG (text measured with the embedded font, so wrapping is
//! exact) and krilla writes the PDF from it with the font embedded and the text selectable. The
//! page SVGs are public ([`pages`]) so a test can read what each page says without a PDF text
//! extractor.

use std::fmt::Write as _;

use krilla::Document;
use krilla::geom::Size;
use krilla::page::PageSettings;
use krilla_svg::{SurfaceExt, SvgSettings};

use super::content::{Content, Drawn, Item};
use super::svg::{FAMILY, escape, place, text_width, wrap};

/// A4 in points.
pub const PAGE: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 40.0;
const WIDTH: f32 = PAGE.0 - 2.0 * MARGIN;
/// Where the footer starts: content stops above it.
const BOTTOM: f32 = PAGE.1 - MARGIN - 16.0;
const GAP: f32 = 15.0;
const COLUMN: f32 = (WIDTH - GAP) / 2.0;

/// A PDF could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("{0}")]
    Svg(#[from] super::svg::SvgError),
    #[error("writing the PDF: {0:?}")]
    Krilla(krilla::error::KrillaError),
}

/// SVG text at (x, y) (baseline), escaped.
fn text(out: &mut String, x: f32, y: f32, size: f32, bold: bool, colour: &str, s: &str) {
    let _ = write!(
        out,
        "<text x=\"{x:.1}\" y=\"{y:.1}\" font-family=\"{FAMILY}\" font-size=\"{size}\"{} fill=\"{colour}\">{}</text>",
        if bold { " font-weight=\"bold\"" } else { "" },
        escape(s)
    );
}

/// Wrapped lines from `y` (the first baseline); returns the y after the last line.
fn paragraph(out: &mut String, x: f32, y: f32, size: f32, bold: bool, width: f32, s: &str) -> f32 {
    let mut y = y;
    for line in wrap(s, size, bold, width) {
        text(out, x, y, size, bold, "#111111", &line);
        y += size * 1.3;
    }
    y
}

/// An indicator's text as a block of `width` from `y`; returns the y after it.
fn item_text(out: &mut String, item: &Item, width: f32) -> f32 {
    let mut y = 12.0;
    y = paragraph(out, 0.0, y, 10.5, true, width, &item.title);
    y += 8.0;
    // The value large, then its unit and period.
    text(out, 0.0, y + 8.0, 18.0, true, "#1d3f6e", &item.value);
    let after = text_width(&item.value, 18.0, true) + 6.0;
    let rest = if item.period.is_empty() {
        String::new()
    } else if item.unit.is_empty() {
        format!("in {}", item.period)
    } else {
        format!("{} in {}", item.unit, item.period)
    };
    text(out, after, y + 8.0, 8.5, false, "#333333", &rest);
    y += 22.0;
    y = paragraph(out, 0.0, y, 9.0, false, width, &item.reading);
    if item.latest.is_some() {
        let line = format!(
            "Similar areas: {} · England: {} · Rank: {}",
            item.sn, item.england, item.rank
        );
        y = paragraph(out, 0.0, y, 8.0, false, width, &line);
    }
    y + 2.0
}

/// Charts in rows of `per_row` across `width` from `y`; returns the y after them.
fn chart_rows(
    out: &mut String,
    charts: &[Drawn],
    x0: f32,
    y: f32,
    width: f32,
    per_row: usize,
) -> f32 {
    let chart_width = (width - GAP * (per_row - 1) as f32) / per_row as f32;
    let mut y = y;
    for row in charts.chunks(per_row) {
        let mut tallest: f32 = 0.0;
        for (k, chart) in row.iter().enumerate() {
            let x = x0 + k as f32 * (chart_width + GAP);
            let svg = chart.print.as_ref().unwrap_or(&chart.svg);
            if let Some((placed, h)) = place(svg, x, y, chart_width) {
                out.push_str(&placed);
                tallest = tallest.max(h);
            }
        }
        y += tallest + 6.0;
    }
    y
}

/// How an indicator sits on the page.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// Text above its charts, two charts to a row, across the page.
    Wide,
    /// Text above its one chart (or none) in half the page, beside another half.
    Half,
    /// Text in the left half, its one chart in the right.
    Beside,
}

/// An indicator drawn at (0, 0) in its shape; returns (markup, height).
fn block(item: &Item, shape: Shape) -> (String, f32) {
    let mut out = String::new();
    let height = match shape {
        Shape::Wide => {
            let y = item_text(&mut out, item, WIDTH);
            chart_rows(&mut out, &item.charts, 0.0, y, WIDTH, 2)
        }
        Shape::Half => {
            let y = item_text(&mut out, item, COLUMN);
            chart_rows(&mut out, &item.charts, 0.0, y, COLUMN, 1)
        }
        Shape::Beside => {
            let text_end = item_text(&mut out, item, COLUMN);
            let charts_end = chart_rows(&mut out, &item.charts, COLUMN + GAP, 0.0, COLUMN, 1);
            text_end.max(charts_end)
        }
    };
    (out, height)
}

/// One page's content (no footer yet).
struct Page {
    body: String,
}

fn page_svg(body: &str, footer: &str) -> String {
    let (w, h) = PAGE;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
         <rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>"
    );
    out.push_str(body);
    text(
        &mut out,
        MARGIN,
        PAGE.1 - MARGIN + 8.0,
        8.0,
        false,
        "#555555",
        footer,
    );
    out.push_str("</svg>");
    out
}

fn heading(out: &mut String, s: &str) -> f32 {
    text(out, MARGIN, MARGIN + 16.0, 18.0, true, "#111111", s);
    let _ = write!(
        out,
        "<rect x=\"{MARGIN}\" y=\"{:.1}\" width=\"{WIDTH}\" height=\"1.5\" fill=\"#1d3f6e\"/>",
        MARGIN + 24.0
    );
    MARGIN + 36.0
}

/// Each area's pages: section charts at full width, then the measures, two narrow ones (one
/// chart or none) side by side, wider ones (several charts) across the page. An area that does
/// not fit continues on a page headed "(continued)".
fn area_pages(section: &super::content::SectionContent) -> Vec<Page> {
    let mut pages = vec![];
    let mut body = String::new();
    let mut y = heading(&mut body, &section.heading);
    if let Some(j) = &section.judgement {
        // A framework judgement's title is long ("… The experiences and progress of children
        // in care and care leavers"): wrapped to the page, never run off its edge.
        for line in wrap(j, 10.0, false, WIDTH) {
            text(&mut body, MARGIN, y + 4.0, 10.0, false, "#555555", &line);
            y += 13.0;
        }
        y += 3.0;
    }
    let mut rows: Vec<Vec<(String, f32, f32)>> = vec![];
    for chart in &section.charts {
        if let Some((svg, h)) = place(&chart.svg, 0.0, 0.0, WIDTH) {
            rows.push(vec![(svg, h, 0.0)]);
        }
    }
    // Measures with several charts go across the page; the others pair up, and one left
    // without a partner has its chart beside its text.
    let items = &section.items;
    let mut i = 0;
    while i < items.len() {
        let narrow = |k: usize| items.get(k).is_some_and(|it: &Item| it.charts.len() < 2);
        if !narrow(i) {
            let (m, h) = block(&items[i], Shape::Wide);
            rows.push(vec![(m, h, 0.0)]);
            i += 1;
        } else if narrow(i + 1) {
            let (a, ha) = block(&items[i], Shape::Half);
            let (b, hb) = block(&items[i + 1], Shape::Half);
            rows.push(vec![(a, ha, 0.0), (b, hb, COLUMN + GAP)]);
            i += 2;
        } else {
            let shape = if items[i].charts.is_empty() {
                Shape::Half
            } else {
                Shape::Beside
            };
            let (m, h) = block(&items[i], shape);
            rows.push(vec![(m, h, 0.0)]);
            i += 1;
        }
    }
    for row in rows {
        let height = row.iter().map(|r| r.1).fold(0.0, f32::max);
        if y + height > BOTTOM && y > MARGIN + 40.0 {
            pages.push(Page {
                body: std::mem::take(&mut body),
            });
            y = heading(&mut body, &format!("{} (continued)", section.heading));
        }
        for (markup, _, x) in row {
            let _ = write!(
                body,
                "<g transform=\"translate({:.1} {y:.1})\">{markup}</g>",
                MARGIN + x
            );
        }
        y += height + GAP;
    }
    pages.push(Page { body });
    pages
}

/// The cover: title, area, period, how to read the pack, any override of the suppression
/// floor and why, the suppression note, the symbols and the contents.
fn cover(content: &Content, contents: &[(String, usize)]) -> Page {
    let mut body = String::new();
    let y = cover_title(&mut body, content);
    let y = how_to_read(&mut body, y, content);
    contents_list(&mut body, y, contents);
    Page { body }
}

/// The cover's band, title, area and latest period; returns the y after them.
fn cover_title(body: &mut String, content: &Content) -> f32 {
    let _ = write!(
        body,
        "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"12\" fill=\"#1d3f6e\"/>",
        PAGE.0
    );
    let mut y = paragraph(
        body,
        MARGIN,
        MARGIN + 120.0,
        26.0,
        true,
        WIDTH,
        &content.title,
    );
    y += 8.0;
    text(body, MARGIN, y, 18.0, false, "#1d3f6e", &content.la_name);
    y += 26.0;
    if let Some(p) = &content.latest_period {
        text(
            body,
            MARGIN,
            y,
            11.0,
            false,
            "#333333",
            &format!("Latest figures: {p}"),
        );
        y += 30.0;
    }
    y
}

/// How to read the pack, its notes (override, suppression, population) and the symbols, from
/// `y`; returns the y after them.
fn how_to_read(body: &mut String, y: f32, content: &Content) -> f32 {
    let mut y = paragraph(body, MARGIN, y, 10.0, true, WIDTH, "How to read this pack") + 2.0;
    y = paragraph(
        body,
        MARGIN,
        y,
        10.0,
        false,
        WIDTH,
        "Each page covers one area of the inspection framework. Every measure shows our latest \
         figure, how it compares with similar areas (our statistical neighbours) and England, \
         and a one-sentence reading. In the bar charts our area is the dark bar; England is the \
         short-dashed line and our region the long-dashed one.",
    ) + 8.0;
    if let Some(note) = &content.override_note {
        y = paragraph(body, MARGIN, y, 10.0, true, WIDTH, note) + 8.0;
    }
    if let Some(note) = &content.suppression {
        y = paragraph(body, MARGIN, y, 10.0, false, WIDTH, note) + 8.0;
    }
    if let Some(note) = &content.population_note {
        y = paragraph(body, MARGIN, y, 10.0, false, WIDTH, note) + 8.0;
    }
    // The symbols, one line each: "c  suppressed to protect …".
    for (symbol, meaning) in &content.legend {
        text(body, MARGIN, y, 9.0, true, "#111111", symbol);
        y = paragraph(body, MARGIN + 16.0, y, 9.0, false, WIDTH - 16.0, meaning) + 1.0;
    }
    y += 6.0;
    y
}

/// The contents from `y`: each area's heading and its first page, the number right-aligned.
fn contents_list(body: &mut String, y: f32, contents: &[(String, usize)]) {
    let mut y = y;
    y += 10.0;
    y = paragraph(body, MARGIN, y, 12.0, true, WIDTH, "Contents") + 4.0;
    for (name, page) in contents {
        text(body, MARGIN, y, 11.0, false, "#111111", name);
        let number = format!("page {page}");
        let w = text_width(&number, 11.0, false);
        text(body, MARGIN + WIDTH - w, y, 11.0, false, "#111111", &number);
        y += 17.0;
    }
}

/// The pack's pages as SVG documents: the cover first, then the areas.
pub fn pages(content: &Content) -> Vec<String> {
    let mut areas = vec![];
    let mut contents = vec![];
    for section in &content.sections {
        contents.push((section.heading.clone(), 2 + areas.len()));
        areas.extend(area_pages(section));
    }
    let all: Vec<Page> = std::iter::once(cover(content, &contents))
        .chain(areas)
        .collect();
    let n = all.len();
    all.iter()
        .enumerate()
        .map(|(i, p)| {
            page_svg(
                &p.body,
                &format!(
                    "{} · {} · page {} of {n}",
                    content.title,
                    content.la_name,
                    i + 1
                ),
            )
        })
        .collect()
}

/// The pack as a PDF document.
pub fn render(content: &Content) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new();
    document.set_metadata(
        krilla::metadata::Metadata::new()
            .title(format!("{}: {}", content.title, content.la_name))
            .creator("cspi".into())
            .language("en-GB".into()),
    );
    let size = Size::from_wh(PAGE.0, PAGE.1).expect("A4 is a valid size");
    let settings = SvgSettings {
        embed_text: true,
        ..SvgSettings::default()
    };
    for svg in pages(content) {
        let tree = super::svg::tree(&svg)?;
        let mut page = document.start_page_with(PageSettings::new(size));
        let mut surface = page.surface();
        surface.draw_svg(&tree, size, settings);
        surface.finish();
        page.finish();
    }
    document.finish().map_err(PdfError::Krilla)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of an area's heading block stays inside the page's text width, however long
    /// the framework's judgement title is.
    #[test]
    fn a_long_judgement_wraps_inside_the_page() {
        let judgement = "Inspection judgement, Inspecting local authority children's services \
                         (ILACS, 2026): The experiences and progress of children in care and \
                         care leavers";
        let section = super::super::content::SectionContent {
            area: crate::indicators::catalogue::Area::ChildrenLookedAfter,
            heading: "Children looked after and permanence".into(),
            judgement: Some(judgement.into()),
            charts: vec![],
            items: vec![],
        };
        let pages = area_pages(&section);
        let body = &pages[0].body;
        let mut lines = 0;
        for t in body.split("<text").skip(1) {
            let x: f32 = t["x=\"".len() + t.find("x=\"").unwrap()..]
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let size: f32 = t[t.find("font-size=\"").unwrap() + 11..]
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let words = &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()];
            let bold = t.contains("font-weight=\"bold\"");
            let right = x + text_width(words, size, bold);
            assert!(right <= MARGIN + WIDTH + 0.5, "{words:?} ends at {right}");
            lines += 1;
        }
        // The heading and at least two lines of the judgement.
        assert!(lines >= 3, "{body}");
    }
}
