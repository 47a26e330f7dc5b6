//! A pack as one self-contained HTML file that opens from an email or a shared drive: no
//! network, no server, nothing to install (LA IT rarely allows any). The page is complete
//! without scripts — every area, figure, reading, comparison table and chart (inline SVG) is
//! in the markup — and a small script bundled into the file ([`SCRIPT`]) adds what a monthly
//! dashboard needs: tabs per area, an index of measures with search, a period selector, sortable
//! tables, tooltips and, in packs allowed child-level data only, the children behind each
//! figure with a filter.
//!
//! The script never works a figure out: every period's value, reading and comparison is text
//! the engine wrote ([`super::dashboard`]) into the page's data block, after disclosure
//! control, so what a members' page shows for any period is what its PDF would.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use polars::prelude::DataFrame;
use serde::Serialize;

use super::content::{Content, Drawn, EnquiryLine, Item, SectionContent};
use super::dashboard::{CHOICES, Children, Neighbours, Shown, key};
use super::svg::escape;

/// The page's script: tabs, index search, period selector, sortable tables, tooltips and the
/// drill-down filter (plain JavaScript, no library, no network).
const SCRIPT: &str = include_str!("dashboard.js");

/// The page's styles: GOV.UK-like type and colours with AA contrast, focus outlines kept.
const STYLE: &str = include_str!("dashboard.css");

/// What every part of the page needs to know about the page.
struct Page<'a> {
    la_name: &'a str,
    /// Whether the pack is allowed child-level data (the drill-down slots are written).
    with_children: bool,
}

/// Where a measure is written: its element ids' prefix (a measure the National Framework
/// section repeats gets ids of its own) and its heading's level (one below its group's
/// heading, in a grouped section).
#[derive(Clone, Copy)]
struct Slot<'a> {
    prefix: &'a str,
    level: u8,
}

/// The element-id prefix of a section's measures and charts.
fn prefix_of(section: &SectionContent) -> &'static str {
    if section.area == crate::indicators::catalogue::Area::NationalFramework {
        "nf-"
    } else {
        ""
    }
}

/// The data block the script reads.
#[derive(Serialize)]
struct PageData<'a> {
    /// The period selector's types, each with its period ends (newest first) in words.
    choices: Vec<Choice>,
    measures: BTreeMap<&'a str, MeasureData<'a>>,
}

#[derive(Serialize)]
struct Choice {
    kind: &'static str,
    label: &'static str,
    /// (figure key, period in words), newest first.
    ends: Vec<(String, String)>,
}

#[derive(Serialize)]
struct MeasureData<'a> {
    /// The key of the figure the page opens on (the measure's own headline).
    headline: Option<String>,
    figures: BTreeMap<String, &'a Shown>,
    neighbours: &'a Neighbours,
    #[serde(skip_serializing_if = "Option::is_none")]
    children: Option<Children>,
}

/// The pack as one HTML document. `children` (the drill-down tables by indicator) are given
/// only for packs allowed child-level data, and only `la`'s rows are written.
pub fn render(
    content: &Content,
    children: Option<&BTreeMap<String, DataFrame>>,
    la: &str,
) -> Result<String, super::RenderError> {
    let mut out = String::new();
    head(&mut out, content, children.is_some());
    index(&mut out, content);
    out.push_str("<main id=\"main\" tabindex=\"-1\">");
    let page = Page {
        la_name: &content.la_name,
        with_children: children.is_some(),
    };
    for section in &content.sections {
        area(&mut out, section, &page);
    }
    validation(&mut out, &content.validation);
    enquiries(&mut out, &content.enquiries);
    out.push_str(
        "</main><footer><p>Made by cspi from the SSDA903 and CIN census returns; comparisons with DfE's published figures.</p></footer>",
    );
    let data = page_data(content, children, la)?;
    // JSON inside a script element: "<" escaped so no value can close the element.
    let json = serde_json::to_string(&data)
        .map_err(|e| super::RenderError::Io("dashboard data".into(), std::io::Error::other(e)))?
        .replace('<', "\\u003c");
    let _ = writeln!(
        out,
        "<script type=\"application/json\" id=\"cspi-data\">{json}</script><script>{SCRIPT}</script></body></html>"
    );
    Ok(out)
}

/// Every figure of every measure by key, the selector's choices, and the children.
fn page_data<'a>(
    content: &'a Content,
    children: Option<&BTreeMap<String, DataFrame>>,
    la: &str,
) -> Result<PageData<'a>, super::RenderError> {
    let items: Vec<&Item> = content.sections.iter().flat_map(|s| &s.items).collect();
    let mut measures = BTreeMap::new();
    for item in &items {
        let kids = match children.and_then(|c| c.get(&item.id)) {
            Some(df) => Some(super::dashboard::children(df, la)?),
            None => None,
        };
        measures.insert(
            item.id.as_str(),
            MeasureData {
                headline: item
                    .latest
                    .as_ref()
                    .map(|f| key(f.period_type, f.period_end)),
                figures: item
                    .periods
                    .iter()
                    .map(|s| (key(s.kind, s.end), s))
                    .collect(),
                neighbours: &item.neighbours,
                children: kids,
            },
        );
    }
    let choices = choices(&items);
    Ok(PageData { choices, measures })
}

/// The period selector's choices: each period type some measure has a figure for (in
/// [`CHOICES`] order), with every period end any measure has, newest first, in words.
fn choices(items: &[&Item]) -> Vec<Choice> {
    CHOICES
        .iter()
        .filter_map(|(kind, label)| {
            let mut ends: Vec<(i32, String)> = vec![];
            for s in items.iter().flat_map(|i| &i.periods) {
                if s.kind == *kind && !ends.iter().any(|(e, _)| *e == s.end) {
                    ends.push((s.end, s.period.clone()));
                }
            }
            ends.sort_by_key(|e| std::cmp::Reverse(e.0));
            (!ends.is_empty()).then(|| Choice {
                kind: kind.name(),
                label,
                ends: ends.into_iter().map(|(e, p)| (key(*kind, e), p)).collect(),
            })
        })
        .collect()
}

/// The document's head, the title and area, the child-level warning of a page that lists
/// children, the pack's notes, the legend and the period selector (filled and shown by the
/// script).
fn head(out: &mut String, content: &Content, child_level: bool) {
    let title = escape(&content.title);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en-GB\" class=\"no-js\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}: {la}</title><style>{STYLE}</style></head><body>\
         <a class=\"skip\" href=\"#main\">Skip to the figures</a><header><h1>{title}</h1><p class=\"la\">{la}</p>",
        la = escape(&content.la_name)
    );
    if child_level {
        // The page itself is child-level: it says so first, before any figure.
        out.push_str(
            "<p class=\"child-level\"><strong>CHILD-LEVEL DATA:</strong> this page lists the \
             children behind each figure. Do not share it outside the service.</p>",
        );
    }
    for (class, note) in [
        ("override", &content.override_note),
        ("suppression", &content.suppression),
        ("population", &content.population_note),
    ] {
        if let Some(note) = note {
            let _ = write!(out, "<p class=\"{class}\">{}</p>", escape(note));
        }
    }
    // The symbols, so zero, hidden and missing figures read differently.
    out.push_str("<dl class=\"legend\">");
    for (symbol, meaning) in &content.legend {
        let _ = write!(
            out,
            "<dt>{}</dt><dd>{}</dd>",
            escape(symbol),
            escape(meaning)
        );
    }
    out.push_str(
        "</dl><form class=\"controls\" id=\"period-form\" hidden>\
         <label for=\"period-type\">Period</label><select id=\"period-type\">\
         <option value=\"\">Latest: each measure's own</option></select>\
         <label for=\"period-end\">Ending</label><select id=\"period-end\" disabled></select>\
         <p id=\"period-status\" role=\"status\"></p></form></header>",
    );
}

/// The index of measures by area, with a search box (the script filters it).
fn index(out: &mut String, content: &Content) {
    out.push_str(
        "<nav aria-label=\"Measures\"><h2 id=\"index-heading\">Measures</h2>\
         <label for=\"index-search\">Find a measure</label>\
         <input type=\"search\" id=\"index-search\" autocomplete=\"off\" aria-controls=\"index-list\">\
         <p id=\"index-count\" role=\"status\"></p><details id=\"index-details\" open>\
         <summary>Every measure, by area</summary><ul id=\"index-list\">",
    );
    for section in &content.sections {
        let n = section_number(section);
        let prefix = prefix_of(section);
        for item in &section.items {
            let _ = write!(
                out,
                "<li data-area=\"{n}\"><a href=\"#m-{prefix}{id}\">{t}</a> <span class=\"muted\">{a}</span></li>",
                id = escape(&item.id),
                t = escape(&item.title),
                a = escape(&section.heading),
            );
        }
    }
    out.push_str("</ul></details></nav>");
}

fn figure(out: &mut String, chart: &Drawn, prefix: &str) {
    // The SVG document inline, without its XML declaration, as one image named by its alt
    // text (the caption says it again for everyone).
    let svg = &chart.svg;
    let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i + 4..]);
    let name = format!("{prefix}{}", escape(&chart.name));
    let _ = write!(
        out,
        "<figure data-chart=\"{name}\"><svg role=\"img\" aria-labelledby=\"alt-{name}\"{body}\
         <figcaption id=\"alt-{name}\" class=\"alt visually-hidden\">{}</figcaption></figure>",
        escape(&chart.alt)
    );
}

/// A framework area: its heading and judgement, its section charts, then its measures.
fn area(out: &mut String, section: &SectionContent, page: &Page) {
    let n = section_number(section);
    let _ = write!(
        out,
        "<section id=\"{n}\" data-area=\"{:?}\" aria-labelledby=\"{n}-h\"><h2 id=\"{n}-h\">{}</h2>",
        section.area,
        escape(&section.heading)
    );
    if let Some(j) = &section.judgement {
        let _ = write!(out, "<p class=\"judgement\">{}</p>", escape(j));
    }
    let prefix = prefix_of(section);
    for chart in &section.charts {
        figure(out, chart, prefix);
    }
    // A grouped section (the National Framework's outcomes and enablers) heads each group,
    // its measures one heading level down, then what DfE publishes for it.
    let slot = Slot {
        prefix,
        level: if section.groups.is_empty() { 3 } else { 4 },
    };
    if section.groups.is_empty() {
        for item in &section.items {
            measure(out, item, page, slot);
        }
    }
    for group in &section.groups {
        let items: Vec<&Item> = section
            .items
            .iter()
            .filter(|i| i.group.as_deref() == Some(group.title.as_str()))
            .collect();
        if items.is_empty() && group.published.is_empty() {
            continue;
        }
        let _ = write!(out, "<h3 class=\"group\">{}</h3>", escape(&group.title));
        for item in items {
            measure(out, item, page, slot);
        }
        published_table(out, group);
    }
    let others: Vec<&Item> = section
        .items
        .iter()
        .filter(|i| {
            !section.groups.is_empty()
                && !section
                    .groups
                    .iter()
                    .any(|g| i.group.as_deref() == Some(g.title.as_str()))
        })
        .collect();
    if !others.is_empty() {
        out.push_str("<h3 class=\"group\">Other measures</h3>");
        for item in others {
            measure(out, item, page, slot);
        }
    }
    out.push_str("</section>");
}

/// A group's measures that no return holds, as DfE publishes them: a table saying so.
fn published_table(out: &mut String, group: &super::content::GroupContent) {
    if group.published.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<table class=\"published\"><caption>{}: DfE's published figures (not in the returns, so not \
         computed here)</caption><thead><tr><th scope=\"col\">Measure</th><th scope=\"col\">Year</th>\
         <th scope=\"col\">This area</th><th scope=\"col\">Similar areas</th><th scope=\"col\">England</th>\
         </tr></thead><tbody>",
        escape(&group.title)
    );
    for r in &group.published {
        let _ = write!(
            out,
            "<tr data-published=\"{}\"><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.key),
            escape(&r.title),
            escape(&r.year),
            escape(&r.la),
            escape(&r.sn),
            escape(&r.england)
        );
    }
    out.push_str("</tbody></table>");
    if group.published.iter().any(|r| r.la == "x") {
        out.push_str(
            "<p class=\"muted\">x: not in the published tables this copy of cspi holds \
             (data/reference; <code>cspi reference build</code> with a newer LAIT download adds \
             them).</p>",
        );
    }
}

/// The section's element id ("area-help_and_protection").
fn section_number(section: &SectionContent) -> String {
    format!("area-{}", section.area.id())
}

/// A measure: its figure (each part a slot the period selector fills), reading, comparison,
/// the neighbour models side by side, its charts and the children behind it (or, with no
/// figure, its title and why there is none).
fn measure(out: &mut String, item: &Item, page: &Page, slot: Slot) {
    let id = escape(&item.id);
    let (pre, h) = (slot.prefix, slot.level);
    let Some(latest) = &item.latest else {
        let _ = write!(
            out,
            "<article class=\"figure\" id=\"m-{pre}{id}\"><h{h}>{}</h{h}><p>{}</p></article>",
            escape(&item.title),
            escape(&item.reading)
        );
        return;
    };
    let head = headline(item);
    let _ = write!(
        out,
        "<article class=\"figure\" id=\"m-{pre}{id}\" data-indicator=\"{id}\"><h{h}>{t}</h{h}>\
         <p class=\"headline\"><span class=\"tip\" tabindex=\"0\" aria-describedby=\"tip-{pre}{id}\">\
         <span class=\"value rag-{rag}\" data-f=\"value\">{v}</span></span>\
         <span data-f=\"unit\">{unit}</span>, <span data-f=\"period\">{p}</span>\
         <span role=\"tooltip\" id=\"tip-{pre}{id}\" data-f=\"tip\">{tip}</span></p>\
         <p class=\"reading\" data-f=\"reading\">{r}</p>\
         <table class=\"summary\"><caption class=\"visually-hidden\">{t}: against similar areas and England</caption>\
         <thead><tr><th scope=\"col\">Similar areas</th><th scope=\"col\">Region</th><th scope=\"col\">England</th><th scope=\"col\">Rank</th></tr></thead>\
         <tbody><tr><td data-f=\"sn\">{sn}</td><td data-f=\"region\">{region}</td><td data-f=\"england\">{en}</td><td data-f=\"rank\">{rank}</td></tr></tbody></table>",
        t = escape(&item.title),
        rag = latest.rag.map_or("none", |r| r.name()),
        v = escape(&item.value),
        unit = escape(&item.unit),
        p = escape(head.map_or(item.period.as_str(), |s| s.period.as_str())),
        tip = escape(head.map_or("", |s| s.tip.as_str())),
        r = escape(&item.reading),
        sn = escape(&item.sn),
        region = escape(head.map_or("x", |s| s.region.as_str())),
        en = escape(&item.england),
        rank = escape(&item.rank),
    );
    neighbour_tables(out, item, page);
    for chart in &item.charts {
        figure(out, chart, pre);
    }
    if page.with_children {
        let _ = write!(
            out,
            "<details class=\"children\" data-children=\"{id}\"><summary>The children behind this figure \
             <strong>(child-level: do not share outside the service)</strong></summary>\
             <label for=\"filter-{pre}{id}\">Filter the children</label>\
             <input type=\"search\" id=\"filter-{pre}{id}\" autocomplete=\"off\">\
             <p class=\"children-status\" role=\"status\"></p>\
             <div class=\"children-table\" tabindex=\"0\" role=\"region\" aria-label=\"Children behind the figure\"></div></details>"
        );
    }
    out.push_str("</article>");
}

/// The similar areas of each neighbour model side by side, each a sortable table whose value
/// cells the period selector fills (the LA's own row first, then its neighbours closest first).
fn neighbour_tables(out: &mut String, item: &Item, page: &Page) {
    let n = &item.neighbours;
    if n.models.is_empty() {
        return;
    }
    let head = headline(item);
    let bench = head.and_then(|s| s.bench.clone());
    let values = bench.as_ref().and_then(|b| n.values.get(b));
    let means = bench.as_ref().and_then(|b| n.means.get(b));
    let _ = write!(
        out,
        "<details class=\"models\"><summary>Similar areas: {} side by side</summary><div class=\"side-by-side\">",
        if n.models.len() > 1 {
            "each neighbour model"
        } else {
            "the neighbour model"
        }
    );
    for model in &n.models {
        let _ = write!(
            out,
            "<table class=\"sortable\" data-model=\"{m}\"><caption>{c}</caption><thead><tr>\
             <th scope=\"col\" aria-sort=\"none\"><button type=\"button\">Area</button></th>\
             <th scope=\"col\" aria-sort=\"none\"><button type=\"button\">Value</button></th></tr></thead><tbody>\
             <tr data-la=\"self\" class=\"self\"><th scope=\"row\">{la}</th><td data-sort=\"{ls}\">{lv}</td></tr>",
            m = escape(&model.name),
            c = escape(&model.caption),
            la = escape(page.la_name),
            ls = sort_key(head.and_then(|s| s.sort)),
            lv = escape(&item.value),
        );
        for (code, name) in &model.areas {
            let (text, raw) = values
                .and_then(|v| v.get(code))
                .cloned()
                .unwrap_or(("x".into(), None));
            let _ = write!(
                out,
                "<tr data-la=\"{code}\"><th scope=\"row\">{name}</th><td data-sort=\"{s}\">{t}</td></tr>",
                code = escape(code),
                name = escape(name),
                s = sort_key(raw),
                t = escape(&text),
            );
        }
        let mean = means
            .and_then(|m| m.get(&model.name))
            .map_or("x".to_string(), |m| m.0.clone());
        let _ = write!(
            out,
            "</tbody><tfoot><tr><th scope=\"row\">Average of similar areas</th><td data-mean=\"{}\">{}</td></tr></tfoot></table>",
            escape(&model.name),
            escape(&mean)
        );
    }
    out.push_str("</div></details>");
}

/// The headline figure's text (the period the page opens on).
fn headline(item: &Item) -> Option<&Shown> {
    let f = item.latest.as_ref()?;
    item.periods
        .iter()
        .find(|s| s.kind == f.period_type && s.end == f.period_end)
}

/// A value's sort key in a table cell (empty for a hidden or missing value: sorted last).
fn sort_key(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

/// The figures the DfE errors move (performance packs only; none, no section).
fn validation(out: &mut String, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    out.push_str(
        "<section id=\"area-validation\" data-area=\"validation\" aria-labelledby=\"area-validation-h\">\
         <h2 id=\"area-validation-h\">DfE validation: the figures the errors move</h2>\
         <p>Each figure as returned and with the children a failing DfE rule flags left out \
         (the full list is in validation/dfe_validation.xlsx, which is child-level).</p><ul>",
    );
    for line in lines {
        let _ = write!(out, "<li>{}</li>", escape(line));
    }
    out.push_str("</ul></section>");
}

/// The lines of enquiry with how many children each concerns (none, no section).
fn enquiries(out: &mut String, enquiries: &[EnquiryLine]) {
    if enquiries.is_empty() {
        return;
    }
    out.push_str(
        "<section id=\"area-enquiry\" data-area=\"enquiry\" aria-labelledby=\"area-enquiry-h\">\
         <h2 id=\"area-enquiry-h\">Lines of enquiry from the data</h2>\
         <p>Questions the figures raise, each with how many children it concerns. The \
         children are listed in the pack's child-level file (lines_of_enquiry, CHILD-LEVEL: \
         for the inspection team only).</p><ul>",
    );
    for e in enquiries {
        let _ = write!(
            out,
            "<li><strong>{}</strong> {}</li>",
            escape(&e.question),
            escape(&e.reading())
        );
    }
    out.push_str("</ul></section>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::period::PeriodType;

    fn shown(kind: PeriodType, end: &str, period: &str) -> Shown {
        Shown {
            kind,
            end: crate::domain::dates::to_epoch_days(end.parse().unwrap()),
            period: period.into(),
            value: "1".into(),
            unit: String::new(),
            reading: String::new(),
            sn: String::new(),
            england: String::new(),
            region: String::new(),
            rank: String::new(),
            rag: "none",
            tip: String::new(),
            bench: None,
            sort: None,
        }
    }

    /// An in-year extract's page offers the DfE years, the rolling 12 months month by month
    /// and the year to date, each with its periods newest first, once each however many
    /// measures have them; a period type no measure has is not offered.
    #[test]
    fn the_period_selector_offers_what_the_figures_have() {
        let a = Item {
            periods: vec![
                shown(PeriodType::Year, "2024-03-31", "2023-24"),
                shown(PeriodType::Year, "2025-03-31", "2024-25"),
                shown(
                    PeriodType::Rolling12m,
                    "2025-09-30",
                    "12 months to September 2025",
                ),
                shown(
                    PeriodType::YearToDate,
                    "2025-10-31",
                    "1 April to 31 October 2025",
                ),
            ],
            ..Default::default()
        };
        let b = Item {
            periods: vec![
                shown(
                    PeriodType::Rolling12m,
                    "2025-10-31",
                    "12 months to October 2025",
                ),
                shown(PeriodType::Year, "2025-03-31", "2024-25"),
            ],
            ..Default::default()
        };
        let got: Vec<(&str, Vec<(String, String)>)> = choices(&[&a, &b])
            .into_iter()
            .map(|c| (c.kind, c.ends))
            .collect();
        let end = |k: &str, e: &str, p: &str| (format!("{k}|{e}"), p.to_string());
        assert_eq!(
            got,
            vec![
                (
                    "year",
                    vec![
                        end("year", "2025-03-31", "2024-25"),
                        end("year", "2024-03-31", "2023-24")
                    ]
                ),
                (
                    "rolling_12m",
                    vec![
                        end("rolling_12m", "2025-10-31", "12 months to October 2025"),
                        end("rolling_12m", "2025-09-30", "12 months to September 2025")
                    ]
                ),
                (
                    "year_to_date",
                    vec![end(
                        "year_to_date",
                        "2025-10-31",
                        "1 April to 31 October 2025"
                    )]
                ),
            ]
        );
    }
}
