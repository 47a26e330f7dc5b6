//! The members' chart pack as a PDF: a cover, then each framework area on its own page with
//! every measure's figure, its one-sentence reading and its charts.
//!
//! Each page is laid out as A4 SVG (text measured with the embedded font, so wrapping is exact)
//! and krilla writes the PDF from it with the font embedded and the text selectable. The PDF is
//! tagged to PDF/UA-1, which krilla's own validator enforces (export fails rather than write an
//! untagged or half-tagged file): a councillor using a screen reader hears the pack in its
//! logical order, each chart as a figure whose alternate text is what the chart shows in words,
//! and the similar-areas, England and rank figures as a table. krilla tags what is drawn between
//! `start_tagged` and `end_tagged`, so each heading, paragraph, table cell and chart is a block
//! of its own, drawn as its own SVG in the page's coordinates; the page looks as one SVG would.
//! The page SVGs are public ([`pages`]) so a test can read what each page says without a PDF
//! text extractor.

use std::fmt::Write as _;

use krilla::configure::{Accessibility, ConfigurationBuilder, ConfigurationError};
use krilla::destination::XyzDestination;
use krilla::geom::{Point, Rect};
use krilla::outline::{Outline, OutlineNode};
use krilla::tagging::{ArtifactType, BBox, ListNumbering, TableHeaderScope, Tag, TagTree};
use krilla::{Document, SerializeSettings};

mod tagged;

use super::content::{Content, Drawn, Item, SectionContent};
use super::svg::{FAMILY, escape, place, text_width, wrap};
use tagged::{Block, Leaves, Mark, Node, Part, draw_page, heading_tag, with_identifiers};

/// A4 in points.
pub const PAGE: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 40.0;
const WIDTH: f32 = PAGE.0 - 2.0 * MARGIN;
/// Where the footer starts: content stops above it.
const BOTTOM: f32 = PAGE.1 - MARGIN - 16.0;
const GAP: f32 = 15.0;
const COLUMN: f32 = (WIDTH - GAP) / 2.0;
/// The pack's language, for the document and its structure (screen readers pick a voice by it).
const LANGUAGE: &str = "en-GB";

/// A PDF could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("{0}")]
    Svg(#[from] super::svg::SvgError),
    /// krilla refused the document: with PDF/UA-1 set, any accessibility rule it checks that
    /// the pack breaks (a figure without alternate text, a glyph without a character) is here.
    #[error("writing the PDF: {0:?}")]
    Krilla(krilla::error::KrillaError),
    #[error("setting up PDF/UA-1: {0:?}")]
    Configuration(ConfigurationError),
    /// A leaf of the tag tree names a block that was never drawn: a fault in this module's
    /// layout, not in the data.
    #[error("block {0} of the PDF's structure was never drawn on a page")]
    Undrawn(usize),
}

/// SVG text at (x, y) (baseline), escaped. A space at either end is kept (SVG drops it
/// otherwise): it is drawn as nothing but read, so words on two lines or in two pieces of text
/// do not run together when the tagged text is read out or copied.
fn text(out: &mut String, x: f32, y: f32, size: f32, bold: bool, colour: &str, s: &str) {
    let preserve = s.starts_with(' ') || s.ends_with(' ');
    let _ = write!(
        out,
        "<text{} x=\"{x:.1}\" y=\"{y:.1}\" font-family=\"{FAMILY}\" font-size=\"{size}\"{} fill=\"{colour}\">{}</text>",
        if preserve {
            " xml:space=\"preserve\""
        } else {
            ""
        },
        if bold { " font-weight=\"bold\"" } else { "" },
        escape(s)
    );
}

/// `s` wrapped to `width`, every line but the last ending in the space the break replaced.
fn lines(s: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
    let mut lines = wrap(s, size, bold, width);
    let last = lines.len().saturating_sub(1);
    for line in &mut lines[..last] {
        line.push(' ');
    }
    lines
}

/// Wrapped lines from `y` (the first baseline); returns the y after the last line.
fn paragraph(out: &mut String, x: f32, y: f32, size: f32, bold: bool, width: f32, s: &str) -> f32 {
    let mut y = y;
    for line in lines(s, size, bold, width) {
        text(out, x, y, size, bold, "#111111", &line);
        y += size * 1.3;
    }
    y
}

/// A measure's text across `width` from the top of its part: its title (H3), its value with
/// unit and period, its reading, and its comparison table; returns the y after it.
fn item_text(part: &mut Part, item: &Item, width: f32) -> f32 {
    let mut y = part.paragraph(
        heading_tag(3, &item.title),
        (0.0, 12.0),
        10.5,
        true,
        width,
        &item.title,
    );
    y += 8.0;
    // The value large, then its unit and period.
    let mut out = String::new();
    text(&mut out, 0.0, y + 8.0, 18.0, true, "#1d3f6e", &item.value);
    // The unit and period start with the space between them and the value (where it is
    // read, not where it is drawn: 6 points after the value).
    let after = text_width(&item.value, 18.0, true) + 6.0 - text_width(" ", 8.5, false);
    let rest = if item.period.is_empty() {
        String::new()
    } else if item.unit.is_empty() {
        format!(" in {}", item.period)
    } else {
        format!(" {} in {}", item.unit, item.period)
    };
    text(&mut out, after, y + 8.0, 8.5, false, "#333333", &rest);
    part.tagged(Tag::P, out);
    y += 22.0;
    y = part.paragraph(Tag::P, (0.0, y), 9.0, false, width, &item.reading);
    if item.latest.is_some() {
        y = comparison(part, item, y, width);
    }
    y + 2.0
}

/// The similar-areas, England and rank figures from `y` (the first baseline) as a real table
/// (a row of column headers, a row of figures) drawn as the line it always was, "Similar
/// areas: 486.2 · England: 519.4 · Rank: 3 of 11", the dots page furniture; a header and its
/// figure that do not fit the line start the next. Returns the y after it.
fn comparison(part: &mut Part, item: &Item, y: f32, width: f32) -> f32 {
    const SIZE: f32 = 8.0;
    let line = |x: f32, y: f32, s: &str| {
        let mut out = String::new();
        text(&mut out, x, y, SIZE, false, "#111111", s);
        out
    };
    let w = |s: &str| text_width(s, SIZE, false);
    let (top, mut x, mut y, mut right) = (y - SIZE, 0.0, y, 0.0_f32);
    let (mut headers, mut figures) = (vec![], vec![]);
    let cells = [
        ("Similar areas:", &item.sn),
        ("England:", &item.england),
        ("Rank:", &item.rank),
    ];
    for (k, (header, figure)) in cells.into_iter().enumerate() {
        let pair = w(header) + w(" ") + w(figure);
        if k > 0 && x + w(" · ") + pair > width {
            (x, y) = (0.0, y + SIZE * 1.3);
        } else if k > 0 {
            part.artifact(ArtifactType::Layout, line(x + w(" "), y, "·"));
            x += w(" · ");
        }
        let leaf = part.leaf(line(x, y, header));
        headers.push(Node::group(Tag::TH(TableHeaderScope::Column), vec![leaf]));
        x += w(header) + w(" ");
        let leaf = part.leaf(line(x, y, figure));
        figures.push(Node::group(Tag::TD, vec![leaf]));
        x += w(figure);
        right = right.max(x);
    }
    let bbox = Rect::from_ltrb(0.0, top, right, y + SIZE * 0.3).map(|r| BBox::new(0, r));
    part.nodes.push(Node::group(
        Tag::Table.with_bbox(bbox),
        vec![Node::group(Tag::TR, headers), Node::group(Tag::TR, figures)],
    ));
    y + SIZE * 1.3
}

/// A chart at (x, y) scaled to `width` as a figure whose alternate text is what the chart
/// shows in words; returns its height (None: `svg` is not an SVG document, nothing drawn).
fn figure(part: &mut Part, chart: &Drawn, svg: &str, x: f32, y: f32, width: f32) -> Option<f32> {
    let (markup, height) = place(svg, x, y, width)?;
    let leaf = part.leaf(markup);
    let bbox = Rect::from_xywh(x, y, width, height).map(|r| BBox::new(0, r));
    part.nodes.push(Node::group(
        Tag::Figure(Some(chart.alt.clone())).with_bbox(bbox),
        vec![leaf],
    ));
    Some(height)
}

/// Charts in rows of `per_row` across `width` from `y`; returns the y after them.
fn chart_rows(
    part: &mut Part,
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
            if let Some(h) = figure(part, chart, svg, x, y, chart_width) {
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

/// An indicator laid out from (0, 0) in its shape, as a section of the tag tree; returns the
/// part and its height.
fn block<'a>(leaves: &'a Leaves, item: &Item, shape: Shape) -> (Part<'a>, f32) {
    let mut part = Part::new(leaves);
    let height = match shape {
        Shape::Wide => {
            let y = item_text(&mut part, item, WIDTH);
            chart_rows(&mut part, &item.charts, 0.0, y, WIDTH, 2)
        }
        Shape::Half => {
            let y = item_text(&mut part, item, COLUMN);
            chart_rows(&mut part, &item.charts, 0.0, y, COLUMN, 1)
        }
        Shape::Beside => {
            let text_end = item_text(&mut part, item, COLUMN);
            let charts_end = chart_rows(&mut part, &item.charts, COLUMN + GAP, 0.0, COLUMN, 1);
            text_end.max(charts_end)
        }
    };
    let nodes = std::mem::take(&mut part.nodes);
    part.nodes.push(Node::group(Tag::Section, nodes));
    (part, height)
}

/// A row of an area's page: parts side by side, each with its height and its x from the
/// margin.
type Row<'a> = Vec<(Part<'a>, f32, f32)>;

/// An area's rows: its section charts at full width, then its measures, two narrow ones (one
/// chart or none) side by side, wider ones (several charts) across the page.
fn area_rows<'a>(leaves: &'a Leaves, section: &SectionContent) -> Vec<Row<'a>> {
    let mut rows: Vec<Row> = vec![];
    for chart in &section.charts {
        let mut part = Part::new(leaves);
        if let Some(h) = figure(&mut part, chart, &chart.svg, 0.0, 0.0, WIDTH) {
            rows.push(vec![(part, h, 0.0)]);
        }
    }
    // Measures with several charts go across the page; the others pair up, and one left
    // without a partner has its chart beside its text.
    let items = &section.items;
    let mut i = 0;
    while i < items.len() {
        let narrow = |k: usize| items.get(k).is_some_and(|it: &Item| it.charts.len() < 2);
        if !narrow(i) {
            let (m, h) = block(leaves, &items[i], Shape::Wide);
            rows.push(vec![(m, h, 0.0)]);
            i += 1;
        } else if narrow(i + 1) {
            let (a, ha) = block(leaves, &items[i], Shape::Half);
            let (b, hb) = block(leaves, &items[i + 1], Shape::Half);
            rows.push(vec![(a, ha, 0.0), (b, hb, COLUMN + GAP)]);
            i += 2;
        } else {
            let shape = if items[i].charts.is_empty() {
                Shape::Half
            } else {
                Shape::Beside
            };
            let (m, h) = block(leaves, &items[i], shape);
            rows.push(vec![(m, h, 0.0)]);
            i += 1;
        }
    }
    rows
}

/// An area's heading and the rule under it at the top of a page; returns the y below them.
/// On the area's first page the heading is its H2; on a page it continues onto, a running
/// head (an artifact), so the structure names the area once.
fn heading(page: &mut Part, s: &str, continued: bool) -> f32 {
    let mut out = String::new();
    if continued {
        let s = format!("{s} (continued)");
        text(&mut out, MARGIN, MARGIN + 16.0, 18.0, true, "#111111", &s);
        page.artifact(ArtifactType::Header, out);
    } else {
        text(&mut out, MARGIN, MARGIN + 16.0, 18.0, true, "#111111", s);
        page.tagged(heading_tag(2, s), out);
    }
    let rule = format!(
        "<rect x=\"{MARGIN}\" y=\"{:.1}\" width=\"{WIDTH}\" height=\"1.5\" fill=\"#1d3f6e\"/>",
        MARGIN + 24.0
    );
    page.artifact(ArtifactType::Layout, rule);
    MARGIN + 36.0
}

/// Each area's pages (the first is page index `first`) and the area as a section of the tag
/// tree: its heading, the framework judgement, its section charts, then its measures. An area
/// that does not fit continues on a page headed "(continued)".
fn area_pages(leaves: &Leaves, section: &SectionContent, first: usize) -> (Vec<Vec<Block>>, Node) {
    let mut page = Part::new(leaves);
    let mut y = heading(&mut page, &section.heading, false);
    if let Some(j) = &section.judgement {
        // A framework judgement's title is long ("… The experiences and progress of children
        // in care and care leavers"): wrapped to the page, never run off its edge.
        let mut out = String::new();
        for line in lines(j, 10.0, false, WIDTH) {
            text(&mut out, MARGIN, y + 4.0, 10.0, false, "#555555", &line);
            y += 13.0;
        }
        page.tagged(Tag::P, out);
        y += 3.0;
    }
    let mut pages = vec![];
    for row in area_rows(leaves, section) {
        let height = row.iter().map(|r| r.1).fold(0.0, f32::max);
        if y + height > BOTTOM && y > MARGIN + 40.0 {
            pages.push(std::mem::take(&mut page.blocks));
            y = heading(&mut page, &section.heading, true);
        }
        for (part, _, x) in row {
            page.place(part, first + pages.len(), MARGIN + x, y);
        }
        y += height + GAP;
    }
    pages.push(page.blocks);
    (pages, Node::group(Tag::Section, page.nodes))
}

/// The cover: title, area, period, how to read the pack, any override of the suppression
/// floor and why, the suppression note, the symbols and the contents (`contents`: each area's
/// heading and the page it starts on, as printed).
fn cover<'a>(leaves: &'a Leaves, content: &Content, contents: &[(String, usize)]) -> Part<'a> {
    let mut page = Part::new(leaves);
    let y = cover_title(&mut page, content);
    let y = how_to_read(&mut page, y, content);
    contents_list(&mut page, y, contents);
    page
}

/// The cover's band, title (the pack's H1), area and latest period; returns the y after them.
fn cover_title(page: &mut Part, content: &Content) -> f32 {
    let band = format!(
        "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"12\" fill=\"#1d3f6e\"/>",
        PAGE.0
    );
    page.artifact(ArtifactType::Layout, band);
    let mut y = page.paragraph(
        heading_tag(1, &content.title),
        (MARGIN, MARGIN + 120.0),
        26.0,
        true,
        WIDTH,
        &content.title,
    );
    y += 8.0;
    let mut out = String::new();
    text(
        &mut out,
        MARGIN,
        y,
        18.0,
        false,
        "#1d3f6e",
        &content.la_name,
    );
    page.tagged(Tag::P, out);
    y += 26.0;
    if let Some(p) = &content.latest_period {
        let mut out = String::new();
        let latest = format!("Latest figures: {p}");
        text(&mut out, MARGIN, y, 11.0, false, "#333333", &latest);
        page.tagged(Tag::P, out);
        y += 30.0;
    }
    y
}

/// How to read the pack, its notes (override, suppression, population) and the symbols, from
/// `y`; returns the y after them.
fn how_to_read(page: &mut Part, y: f32, content: &Content) -> f32 {
    let title = "How to read this pack";
    let mut y = page.paragraph(heading_tag(2, title), (MARGIN, y), 10.0, true, WIDTH, title) + 2.0;
    y = page.paragraph(
        Tag::P,
        (MARGIN, y),
        10.0,
        false,
        WIDTH,
        "Each page covers one area of the inspection framework. Every measure shows our latest \
         figure, how it compares with similar areas (our statistical neighbours) and England, \
         and a one-sentence reading. In the bar charts our area is the dark bar; England is the \
         short-dashed line and our region the long-dashed one.",
    ) + 8.0;
    if let Some(note) = &content.override_note {
        y = page.paragraph(Tag::P, (MARGIN, y), 10.0, true, WIDTH, note) + 8.0;
    }
    if let Some(note) = &content.suppression {
        y = page.paragraph(Tag::P, (MARGIN, y), 10.0, false, WIDTH, note) + 8.0;
    }
    if let Some(note) = &content.population_note {
        y = page.paragraph(Tag::P, (MARGIN, y), 10.0, false, WIDTH, note) + 8.0;
    }
    legend(page, y, &content.legend)
}

/// The symbols, one line each ("c  suppressed to protect …"), as a list whose items are the
/// symbol (label) and its meaning (body), from `y`; returns the y after them.
fn legend(page: &mut Part, y: f32, legend: &[(&str, String)]) -> f32 {
    let mut y = y;
    let mut items = vec![];
    for (symbol, meaning) in legend {
        let mut out = String::new();
        text(&mut out, MARGIN, y, 9.0, true, "#111111", symbol);
        let label = page.leaf(out);
        let mut out = String::new();
        y = paragraph(
            &mut out,
            MARGIN + 16.0,
            y,
            9.0,
            false,
            WIDTH - 16.0,
            meaning,
        ) + 1.0;
        let body = page.leaf(out);
        items.push(Node::group(
            Tag::LI,
            vec![
                Node::group(Tag::Lbl, vec![label]),
                Node::group(Tag::LBody, vec![body]),
            ],
        ));
    }
    if !items.is_empty() {
        page.nodes
            .push(Node::group(Tag::L(ListNumbering::None), items));
    }
    y + 6.0
}

/// The contents from `y` as a table of contents: each area's heading and its first page, the
/// number right-aligned.
fn contents_list(page: &mut Part, y: f32, contents: &[(String, usize)]) {
    let mut y = y + 10.0;
    let title = "Contents";
    y = page.paragraph(heading_tag(2, title), (MARGIN, y), 12.0, true, WIDTH, title) + 4.0;
    let mut entries = vec![];
    for (name, number) in contents {
        let mut out = String::new();
        text(&mut out, MARGIN, y, 11.0, false, "#111111", name);
        // With the space between it and the heading, invisible at the right-aligned number.
        let number = format!(" page {number}");
        let w = text_width(&number, 11.0, false);
        text(
            &mut out,
            MARGIN + WIDTH - w,
            y,
            11.0,
            false,
            "#111111",
            &number,
        );
        let leaf = page.leaf(out);
        entries.push(Node::group(
            Tag::TOCI,
            vec![Node::group(Tag::P, vec![leaf])],
        ));
        y += 17.0;
    }
    if !entries.is_empty() {
        page.nodes.push(Node::group(Tag::TOC, entries));
    }
}

/// The pack laid out: each page's blocks in drawing order, the tag tree in reading order, the
/// outline's entries (title, page index) and how many leaves the tree has.
struct Layout {
    pages: Vec<Vec<Block>>,
    tree: Vec<Node>,
    outline: Vec<(String, usize)>,
    leaves: usize,
}

/// Lays out the cover, then the areas; every page gets its white and its footer, both
/// artifacts.
fn layout(content: &Content) -> Layout {
    let leaves = Leaves::default();
    let mut areas: Vec<Vec<Block>> = vec![];
    let mut sections = vec![];
    let mut outline = vec![(content.title.clone(), 0)];
    for section in &content.sections {
        let first = 1 + areas.len();
        outline.push((section.heading.clone(), first));
        let (pages, node) = area_pages(&leaves, section, first);
        areas.extend(pages);
        sections.push(node);
    }
    // The contents print page numbers counting from 1.
    let contents: Vec<(String, usize)> = outline[1..]
        .iter()
        .map(|(heading, index)| (heading.clone(), index + 1))
        .collect();
    let cover = cover(&leaves, content, &contents);
    let mut tree = cover.nodes;
    tree.extend(sections);
    let mut pages: Vec<Vec<Block>> = std::iter::once(cover.blocks).chain(areas).collect();
    let n = pages.len();
    let (w, h) = PAGE;
    for (i, blocks) in pages.iter_mut().enumerate() {
        let white = format!("<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>");
        blocks.insert(
            0,
            Block {
                mark: Mark::Artifact(ArtifactType::Background),
                markup: white,
            },
        );
        let mut footer = String::new();
        let words = format!(
            "{} · {} · page {} of {n}",
            content.title,
            content.la_name,
            i + 1
        );
        text(
            &mut footer,
            MARGIN,
            h - MARGIN + 8.0,
            8.0,
            false,
            "#555555",
            &words,
        );
        blocks.push(Block {
            mark: Mark::Artifact(ArtifactType::Footer),
            markup: footer,
        });
    }
    Layout {
        pages,
        tree,
        outline,
        leaves: leaves.count(),
    }
}

/// `body` as a whole A4 SVG document.
fn svg_document(body: &str) -> String {
    let (w, h) = PAGE;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">{body}</svg>"
    )
}

/// The pack's pages as SVG documents (every block of a page in one): the cover first, then
/// the areas.
pub fn pages(content: &Content) -> Vec<String> {
    layout(content)
        .pages
        .iter()
        .map(|blocks| svg_document(&blocks.iter().map(|b| b.markup.as_str()).collect::<String>()))
        .collect()
}

/// The pack as a tagged PDF (PDF/UA-1, checked by krilla as it writes).
pub fn render(content: &Content) -> Result<Vec<u8>, PdfError> {
    let laid = layout(content);
    let configuration = ConfigurationBuilder::new()
        .with_accessibility_validator(Accessibility::UA1)
        .finish()
        .map_err(PdfError::Configuration)?;
    let mut document = Document::new_with(SerializeSettings {
        configuration,
        enable_tagging: true,
        ..SerializeSettings::default()
    });
    document.set_metadata(
        krilla::metadata::Metadata::new()
            .title(format!("{}: {}", content.title, content.la_name))
            .creator("cspi".into())
            .language(LANGUAGE.into()),
    );
    let mut drawn = vec![None; laid.leaves];
    for blocks in &laid.pages {
        draw_page(&mut document, blocks, &mut drawn)?;
    }
    let mut outline = Outline::new();
    for (title, page) in laid.outline {
        let top = XyzDestination::new(page, Point::from_xy(0.0, 0.0));
        outline.push_child(OutlineNode::new(title, top));
    }
    document.set_outline(outline);
    let mut tree = TagTree::new().with_lang(Some(LANGUAGE.into()));
    for node in laid.tree {
        tree.push(with_identifiers(node, &drawn)?);
    }
    document.set_tag_tree(tree);
    document.finish().map_err(PdfError::Krilla)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::catalogue::Area;
    use krilla::tagging::TagKind;

    /// Every line of an area's heading block stays inside the page's text width, however long
    /// the framework's judgement title is.
    #[test]
    fn a_long_judgement_wraps_inside_the_page() {
        let judgement = "Inspection judgement, Inspecting local authority children's services \
                         (ILACS, 2026): The experiences and progress of children in care and \
                         care leavers";
        let section = SectionContent {
            area: Area::ChildrenLookedAfter,
            heading: "Children looked after and permanence".into(),
            judgement: Some(judgement.into()),
            charts: vec![],
            items: vec![],
            groups: vec![],
        };
        let leaves = Leaves::default();
        let (pages, _) = area_pages(&leaves, &section, 1);
        let body: String = pages[0].iter().map(|b| b.markup.as_str()).collect();
        let mut lines = 0;
        for (x, _, right, words) in texts(&body) {
            assert!(
                right <= MARGIN + WIDTH + 0.5,
                "{words:?} from {x} ends at {right}"
            );
            lines += 1;
        }
        // The heading and at least two lines of the judgement.
        assert!(lines >= 3, "{body}");
    }

    /// Each `<text>` of `markup`: its x, its baseline, where its visible text ends (a trailing
    /// space is read, not seen) and its words.
    fn texts(markup: &str) -> Vec<(f32, f32, f32, String)> {
        let number = |t: &str, key: &str| -> f32 {
            let at = t.find(key).unwrap() + key.len();
            t[at..].split('"').next().unwrap().parse().unwrap()
        };
        markup
            .split("<text")
            .skip(1)
            .map(|t| {
                let (x, y) = (number(t, " x=\""), number(t, " y=\""));
                let words = &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()];
                let size = number(t, "font-size=\"");
                let bold = t.contains("font-weight=\"bold\"");
                let right = x + text_width(words.trim_end(), size, bold);
                (x, y, right, words.to_string())
            })
            .collect()
    }

    /// A measure's similar-areas, England and rank figures too long for half the page break
    /// between a header and the one before it, never off the column nor inside a pair.
    #[test]
    fn a_comparison_too_long_for_its_column_wraps_between_pairs() {
        let item = Item {
            sn: "123,456.7".into(),
            england: "123,456.7".into(),
            rank: "153 of 153".into(),
            ..measure("Referrals", 0)
        };
        let leaves = Leaves::default();
        let mut part = Part::new(&leaves);
        comparison(&mut part, &item, 100.0, COLUMN);
        let markup: String = part.blocks.iter().map(|b| b.markup.as_str()).collect();
        let texts = texts(&markup);
        let line_of = |words: &str| texts.iter().find(|t| t.3 == words).unwrap().1;
        assert!(texts.iter().all(|t| t.2 <= COLUMN + 0.5), "{texts:?}");
        assert_eq!(line_of("Similar areas:"), 100.0);
        assert_eq!(line_of("Similar areas:"), line_of("England:"), "{texts:?}");
        assert_eq!(line_of("Rank:"), 100.0 + 8.0 * 1.3, "{texts:?}");
        assert_eq!(line_of("Rank:"), line_of("153 of 153"));
        // Two dots: the one between the pairs that wrapped goes.
        assert_eq!(texts.iter().filter(|t| t.3 == "·").count(), 1);
        let Node::Group(TagKind::Table(_), rows) = &part.nodes[0] else {
            panic!("{:?}", part.nodes);
        };
        assert_eq!(rows.len(), 2, "a row of headers, a row of figures");
    }

    const CHART: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"360\" height=\"200\" \
                         viewBox=\"0 0 360 200\"><rect x=\"10\" y=\"10\" width=\"200\" \
                         height=\"40\" fill=\"#1d3f6e\"/><text x=\"10\" y=\"90\" \
                         font-family=\"DejaVu Sans\" font-size=\"12\">Lincolnshire</text></svg>";
    const READING: &str = "Better than similar areas and improving.";
    const SCORECARD: &str = "Scorecard of 2 measures for Help and protection: at a glance. \
                             Referrals (rate): this area 589.8, trend ↑ rising; Plans: this area c.";

    /// A measure with a figure, a reading and `charts` charts (one: half the page; two: across).
    fn measure(title: &str, charts: usize) -> Item {
        Item {
            id: title.to_lowercase(),
            title: title.into(),
            latest: Some(Default::default()),
            value: "41.2".into(),
            unit: "per 10,000 children".into(),
            period: "2024-25".into(),
            reading: READING.into(),
            sn: "44.0".into(),
            england: "40.6".into(),
            rank: "3 of 11".into(),
            charts: (0..charts)
                .map(|k| chart(&format!("{title}-{k}"), READING))
                .collect(),
            ..Default::default()
        }
    }

    fn chart(name: &str, alt: &str) -> Drawn {
        Drawn {
            name: name.into(),
            svg: CHART.into(),
            print: None,
            alt: alt.into(),
        }
    }

    /// A small pack by hand: a cover with notes and symbols, one area with a section chart,
    /// a measure across the page and two side by side.
    fn pack() -> Content {
        Content {
            title: "How we are doing for children".into(),
            la_name: "Lincolnshire".into(),
            suppression: Some("Numbers from 1 to 4 are shown as “c”.".into()),
            override_note: None,
            legend: vec![("c", "suppressed".into()), ("x", "not available".into())],
            figures: Default::default(),
            latest_period: Some("2024-25".into()),
            sections: vec![SectionContent {
                area: Area::HelpAndProtection,
                heading: "Help and protection".into(),
                judgement: Some("Inspection judgement, ILACS (2026): help and protection".into()),
                charts: vec![chart("help_and_protection-scorecard", SCORECARD)],
                items: vec![
                    measure("Plans", 2),
                    measure("Referrals", 1),
                    measure("Re-referrals", 0),
                ],
                groups: vec![],
            }],
            validation: vec![],
            enquiries: vec![],
            population_note: None,
        }
    }

    /// Every leaf number under `node`, in reading order.
    fn leaves_of(node: &Node, out: &mut Vec<usize>) {
        match node {
            Node::Leaf(n) => out.push(*n),
            Node::Group(_, children) => children.iter().for_each(|c| leaves_of(c, out)),
        }
    }

    /// krilla needs every drawn piece of content in the tag tree exactly once (a block in
    /// none is untagged content, one in two fails the export), and page furniture in none.
    #[test]
    fn every_content_block_is_in_the_tag_tree_once_and_furniture_in_none() {
        let laid = layout(&pack());
        let mut in_tree = vec![];
        laid.tree.iter().for_each(|n| leaves_of(n, &mut in_tree));
        let mut drawn: Vec<usize> = laid
            .pages
            .iter()
            .flatten()
            .filter_map(|b| match b.mark {
                Mark::Leaf(n) => Some(n),
                Mark::Artifact(_) => None,
            })
            .collect();
        in_tree.sort_unstable();
        drawn.sort_unstable();
        assert_eq!(in_tree, (0..laid.leaves).collect::<Vec<_>>());
        assert_eq!(drawn, in_tree);
        for page in &laid.pages {
            assert_eq!(page[0].mark, Mark::Artifact(ArtifactType::Background));
            let footer = page.last().unwrap();
            assert_eq!(footer.mark, Mark::Artifact(ArtifactType::Footer));
            assert!(footer.markup.contains("page "));
        }
        // Reading order: the pack's title first, the area a section opening with its heading.
        let Node::Group(TagKind::Hn(h1), _) = &laid.tree[0] else {
            panic!("{:?}", laid.tree[0]);
        };
        assert_eq!(h1.level().get(), 1);
        let Some(Node::Group(TagKind::Section(_), area)) = laid.tree.last() else {
            panic!("{:?}", laid.tree.last());
        };
        let Node::Group(TagKind::Hn(h2), _) = &area[0] else {
            panic!("{:?}", area[0]);
        };
        assert_eq!(h2.title(), Some("Help and protection"));
        assert_eq!(laid.outline[1], ("Help and protection".to_string(), 1));
    }

    /// The PDF string `b` starts with (a literal with its escapes, or UTF-16BE hex as krilla
    /// writes text outside ASCII), decoded.
    fn pdf_string(b: &[u8]) -> String {
        if b[0] == b'<' {
            let end = b.iter().position(|&c| c == b'>').unwrap();
            let hex = std::str::from_utf8(&b[1..end]).unwrap();
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|k| u8::from_str_radix(&hex[k..k + 2], 16).unwrap())
                .collect();
            assert_eq!(
                &bytes[..2],
                [0xfe, 0xff],
                "a text string has its byte order mark"
            );
            let units: Vec<u16> = bytes[2..]
                .chunks(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            return String::from_utf16(&units).unwrap();
        }
        assert_eq!(b[0], b'(');
        let (mut s, mut depth, mut k) = (vec![], 0, 1);
        loop {
            match b[k] {
                b'\\' => {
                    k += 1;
                    s.push(match b[k] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        c => c,
                    });
                }
                b')' if depth == 0 => break,
                c => {
                    depth += i32::from(c == b'(') - i32::from(c == b')');
                    s.push(c);
                }
            }
            k += 1;
        }
        String::from_utf8(s).unwrap()
    }

    /// Every string value of `key` (a name such as `/Alt`) in the PDF (`/T` is not `/Type`:
    /// only a string may follow).
    fn values_of(pdf: &[u8], key: &[u8]) -> Vec<String> {
        let mut out = vec![];
        let mut at = 0;
        while let Some(i) = pdf[at..].windows(key.len()).position(|w| w == key) {
            at += i + key.len();
            let value = pdf[at..].trim_ascii_start();
            if value.starts_with(b"(") || (value.starts_with(b"<") && !value.starts_with(b"<<")) {
                out.push(pdf_string(value));
            }
        }
        out
    }

    /// The written PDF is tagged (krilla refuses to write it otherwise: PDF/UA-1 is set) with
    /// the structure a screen reader needs. krilla compresses content streams only and writes
    /// no object streams, so the structure tree, the catalogue and the alternate texts are
    /// plain dictionaries in the file and are read from its bytes.
    #[test]
    fn the_pdf_is_tagged_and_every_chart_is_a_figure_with_its_reading() {
        let pdf = render(&pack()).unwrap();
        let has = |s: &str| pdf.windows(s.len()).any(|w| w == s.as_bytes());
        assert!(has("/StructTreeRoot"));
        let mark_info = pdf.windows(9).position(|w| w == b"/MarkInfo").unwrap();
        let dict = String::from_utf8_lossy(&pdf[mark_info..mark_info + 40]);
        assert!(dict.contains("/Marked true"), "{dict}");
        assert_eq!(
            values_of(&pdf, b"/Lang"),
            ["en-GB", "en-GB"],
            "catalogue and Document"
        );
        for role in [
            "H1", "H2", "H3", "P", "Sect", "Figure", "Table", "TR", "TH", "TD", "L", "LI", "Lbl",
            "LBody", "TOC", "TOCI",
        ] {
            let name = format!("/S/{role}");
            let tagged = pdf
                .windows(name.len() + 1)
                .any(|w| w.starts_with(name.as_bytes()) && !w[name.len()].is_ascii_alphanumeric());
            assert!(tagged, "{role}");
        }
        assert!(has("/Scope/Column"));
        let mut alts = values_of(&pdf, b"/Alt");
        alts.sort();
        // The section chart's words, and each measure chart's reading (charts: 2 + 1 + 0).
        assert_eq!(alts, [READING, READING, READING, SCORECARD]);
        let titles = values_of(&pdf, b"/T");
        for heading in [
            "How we are doing for children",
            "Help and protection",
            "Plans",
        ] {
            assert!(titles.iter().any(|t| t == heading), "{heading}: {titles:?}");
        }
        // Same content, same bytes.
        assert!(render(&pack()).unwrap() == pdf);
    }
}
