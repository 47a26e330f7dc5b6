//! A pack as one self-contained HTML file: framework areas as sections, each indicator with
//! its latest figure, the comparison in words, the trend and its charts (inline SVG). No
//! scripts, no network, no child-level data.

use std::fmt::Write as _;

use super::content::{Content, Drawn, EnquiryLine, Item, SectionContent};
use super::svg::escape;

fn figure(out: &mut String, chart: &Drawn) {
    // The SVG document inline, without its XML declaration.
    let svg = &chart.svg;
    let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
    let _ = write!(out, "<figure data-chart=\"{}\">", escape(&chart.name));
    out.push_str(body);
    out.push_str("</figure>");
}

/// The pack as one HTML document.
pub fn render(content: &Content) -> String {
    let mut out = String::new();
    head(&mut out, content);
    for section in &content.sections {
        area(&mut out, section);
    }
    validation(&mut out, &content.validation);
    enquiries(&mut out, &content.enquiries);
    out.push_str(
        "<footer><p>Made by cspi from the SSDA903 and CIN census returns; comparisons with DfE's published figures.</p></footer></body></html>\n",
    );
    out
}

/// The document's head and styles, the title and area, the pack's notes and the legend.
fn head(out: &mut String, content: &Content) {
    let title = escape(&content.title);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}: {la}</title>\
         <style>body{{font-family:'DejaVu Sans',Arial,sans-serif;max-width:960px;margin:auto;color:#111}}\
         section{{margin-top:2em}}.figure{{border-top:1px solid #ccc;padding:1em 0}}\
         .value{{font-size:2em;font-weight:bold}}.rag-green{{color:#1a6b1a}}.rag-amber{{color:#8a5a00}}\
         .rag-red{{color:#a01010}}table{{border-collapse:collapse}}td,th{{padding:2px 8px;text-align:left}}\
         figure{{margin:0.5em 0}}figure svg{{max-width:100%;height:auto}}\
         .legend{{display:grid;grid-template-columns:auto 1fr;gap:0 0.8em;font-size:0.9em}}\
         .legend dt{{font-weight:bold}}.legend dd{{margin:0}}</style>\
         </head><body><h1>{title}</h1><p class=\"la\">{la}</p>",
        la = escape(&content.la_name)
    );
    if let Some(note) = &content.override_note {
        let _ = write!(
            out,
            "<p class=\"override\"><strong>{}</strong></p>",
            escape(note)
        );
    }
    if let Some(note) = &content.suppression {
        let _ = write!(out, "<p class=\"suppression\">{}</p>", escape(note));
    }
    if let Some(note) = &content.population_note {
        let _ = write!(out, "<p class=\"population\">{}</p>", escape(note));
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
    out.push_str("</dl>");
}

/// A framework area: its heading and judgement, its section charts, then its measures.
fn area(out: &mut String, section: &SectionContent) {
    let _ = write!(
        out,
        "<section data-area=\"{:?}\"><h2>{}</h2>",
        section.area,
        escape(&section.heading)
    );
    if let Some(j) = &section.judgement {
        let _ = write!(out, "<p class=\"judgement\">{}</p>", escape(j));
    }
    for chart in &section.charts {
        figure(out, chart);
    }
    for item in &section.items {
        measure(out, item);
    }
    out.push_str("</section>");
}

/// A measure: its latest figure, reading, comparison table and charts (or, with no figure,
/// its title and why there is none).
fn measure(out: &mut String, item: &Item) {
    let Some(latest) = &item.latest else {
        let _ = write!(
            out,
            "<div class=\"figure\"><h3>{}</h3><p>{}</p></div>",
            escape(&item.title),
            escape(&item.reading)
        );
        return;
    };
    let _ = write!(
        out,
        "<div class=\"figure\" data-indicator=\"{id}\"><h3>{t}</h3>\
         <p><span class=\"value rag-{rag}\">{v}</span> {unit} in {p}</p><p class=\"reading\">{r}</p>\
         <table><tr><th>Similar areas</th><th>England</th><th>Rank</th></tr>\
         <tr><td>{sn}</td><td>{en}</td><td>{rank}</td></tr></table>",
        id = escape(&item.id),
        t = escape(&item.title),
        rag = latest.rag.map_or("none", |r| r.name()),
        v = escape(&item.value),
        unit = escape(&item.unit),
        p = escape(&item.period),
        r = escape(&item.reading),
        sn = escape(&item.sn),
        en = escape(&item.england),
        rank = escape(&item.rank),
    );
    for chart in &item.charts {
        figure(out, chart);
    }
    out.push_str("</div>");
}

/// The figures the DfE errors move (performance packs only; none, no section).
fn validation(out: &mut String, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    out.push_str(
        "<section data-area=\"validation\"><h2>DfE validation: the figures the errors move</h2>\
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
        "<section data-area=\"enquiry\"><h2>Lines of enquiry from the data</h2>\
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
