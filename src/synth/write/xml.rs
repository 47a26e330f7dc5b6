//! The 903 in DfE's XML layout, written from the same rows as the CSV files.

use std::collections::BTreeMap;

use super::Row;

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn element(out: &mut String, indent: usize, name: &str, value: Option<&String>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        out.push_str(&" ".repeat(indent));
        out.push_str(&format!("<{name}>{}</{name}>\n", xml_escape(v)));
    }
}

/// One of HEADER's groups (AMISSING, AREVIEW, OC2, …): the row's items as its elements.
fn group(out: &mut String, name: &str, row: &Row, items: &[(&str, &str)]) {
    out.push_str(&format!("      <{name}>\n"));
    for (tag, key) in items {
        element(out, 8, tag, row.get(*key));
    }
    out.push_str(&format!("      </{name}>\n"));
}

/// A table's rows grouped by child, in the table's order.
type RowsByChild<'t> = BTreeMap<String, Vec<&'t Row>>;

/// A table's rows grouped by child.
fn rows_by_child<'t>(tables: &'t BTreeMap<&'static str, Vec<Row>>, table: &str) -> RowsByChild<'t> {
    let mut m: RowsByChild = BTreeMap::new();
    for r in tables.get(table).map(Vec::as_slice).unwrap_or(&[]) {
        m.entry(r["child"].clone()).or_default().push(r);
    }
    m
}

/// A child's rows of a table grouped by child (none when the child has none).
fn rows_of<'a, 't>(m: &'a RowsByChild<'t>, id: &str) -> &'a [&'t Row] {
    m.get(id).map(Vec::as_slice).unwrap_or(&[])
}

/// The 903's tables other than the header, grouped by child for the XML's nesting.
struct XmlTables<'t> {
    episodes: RowsByChild<'t>,
    reviews: RowsByChild<'t>,
    missing: RowsByChild<'t>,
    uasc: RowsByChild<'t>,
    oc2: RowsByChild<'t>,
    oc3: RowsByChild<'t>,
    ad1: RowsByChild<'t>,
    placed: RowsByChild<'t>,
    perm: RowsByChild<'t>,
    workers: RowsByChild<'t>,
}

/// HEADER's elements taken from AD1 and OC3, and the EPISODE's, as (tag, row key).
const AD1_ITEMS: &[(&str, &str)] = &[
    ("DATE_INT", "date_int"),
    ("DATE_MATCH", "date_match"),
    ("FOSTER_CARE", "foster_care"),
    ("NB_ADOPTR", "nb_adoptr"),
    ("SEX_ADOPTR", "sex_adoptr"),
    ("LS_ADOPTR", "ls_adoptr"),
];
const OC3_ITEMS: &[(&str, &str)] = &[
    ("IN_TOUCH", "in_touch"),
    ("ACTIV", "activ"),
    ("ACCOM", "accom"),
];
const EPISODE_ITEMS: &[(&str, &str)] = &[
    ("DECOM", "decom"),
    ("RNE", "rne"),
    ("LS", "ls"),
    ("CIN", "cin"),
    ("PL", "place"),
    ("PL_POST", "pl_post"),
    ("HOME_POST", "home_post"),
    ("URN", "urn"),
    ("PLACE_PROVIDER", "place_provider"),
    ("DEC", "dec"),
    ("REC", "rec"),
    ("REASON_PLACE_CHANGE", "reason_place_change"),
];

/// The items of HEADER's groups, as (tag, row key).
const AMISSING_ITEMS: &[(&str, &str)] = &[
    ("MISSING", "missing"),
    ("MIS_START", "mis_start"),
    ("MIS_END", "mis_end"),
];
const AREVIEW_ITEMS: &[(&str, &str)] = &[("REVIEW", "review"), ("REVIEW_CODE", "review_code")];
const PERMANENCE_ITEMS: &[(&str, &str)] = &[
    ("PREV_PERM", "prev_perm"),
    ("LA_PERM", "la_perm"),
    ("DATE_PERM", "date_perm"),
];
const OC2_ITEMS: &[(&str, &str)] = &[
    ("SDQ_SCORE", "sdq_score"),
    ("SDQ_REASON", "sdq_reason"),
    ("CONVICTED", "convicted"),
    ("HEALTH_CHECK", "health_check"),
    ("IMMUNISATIONS", "immunisations"),
    ("TEETH_CHECK", "teeth_check"),
    ("HEALTH_ASSESSMENT", "health_assessment"),
    ("SUBSTANCE_MISUSE", "substance_misuse"),
    ("INTERVENTION_RECEIVED", "intervention_received"),
    ("INTERVENTION_OFFERED", "intervention_offered"),
];
const AD_PLACED_ITEMS: &[(&str, &str)] = &[
    ("DATE_PLACED", "date_placed"),
    ("DATE_PLACED_CEASED", "date_placed_ceased"),
    ("REASON_PLACED_CEASED", "reason_placed_ceased"),
];
const SWEPISODE_ITEMS: &[(&str, &str)] = &[
    ("SW_ID", "sw_id"),
    ("SW_DECOM", "sw_decom"),
    ("SW_DEC", "sw_dec"),
    ("SW_REASON", "sw_reason"),
];

/// The 903 XML layout: CHILD › HEADER (with its groups) and EPISODE siblings.
pub(super) fn ssda903_xml(tables: &BTreeMap<&'static str, Vec<Row>>) -> String {
    let g = XmlTables {
        episodes: rows_by_child(tables, "episodes"),
        reviews: rows_by_child(tables, "reviews"),
        missing: rows_by_child(tables, "missing"),
        uasc: rows_by_child(tables, "uasc"),
        oc2: rows_by_child(tables, "oc2"),
        oc3: rows_by_child(tables, "oc3"),
        ad1: rows_by_child(tables, "ad1"),
        placed: rows_by_child(tables, "placed_adoption"),
        perm: rows_by_child(tables, "prev_perm"),
        workers: rows_by_child(tables, "sw_episodes"),
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EXPSSDA903>\n");
    for h in tables.get("header").map(Vec::as_slice).unwrap_or(&[]) {
        let id = &h["child"];
        out.push_str("  <CHILD>\n    <HEADER>\n");
        header_items(&mut out, h, &g);
        header_groups(&mut out, id, &g);
        out.push_str("    </HEADER>\n");
        for e in rows_of(&g.episodes, id) {
            out.push_str("    <EPISODE>\n");
            for (tag, key) in EPISODE_ITEMS {
                element(&mut out, 6, tag, e.get(*key));
            }
            out.push_str("    </EPISODE>\n");
        }
        out.push_str("  </CHILD>\n");
    }
    out.push_str("</EXPSSDA903>\n");
    out
}

/// HEADER's own elements: the child's, the UASC status, the adoption's and the care
/// leaver's, and MOTHER.
fn header_items(out: &mut String, h: &Row, g: &XmlTables) {
    let id = &h["child"];
    element(out, 6, "CHILDID", h.get("child"));
    element(out, 6, "UPN", h.get("upn"));
    element(out, 6, "SEX", h.get("sex"));
    element(out, 6, "DOB", h.get("dob"));
    element(out, 6, "ETHNIC", h.get("ethnic"));
    // DfE's XML states every child's UASC status: 1 with the DUC for a UASC child, 0 for
    // every other child.
    if let Some(u) = g.uasc.get(id).and_then(|v| v.first()) {
        out.push_str("      <UASC>1</UASC>\n");
        element(out, 6, "DUC", u.get("duc"));
    } else {
        out.push_str("      <UASC>0</UASC>\n");
    }
    if let Some(a) = g.ad1.get(id).and_then(|v| v.first()) {
        for (tag, key) in AD1_ITEMS {
            element(out, 6, tag, a.get(*key));
        }
    }
    if let Some(o) = g.oc3.get(id).and_then(|v| v.first()) {
        for (tag, key) in OC3_ITEMS {
            element(out, 6, tag, o.get(*key));
        }
    }
    element(out, 6, "MOTHER", h.get("mother"));
    element(out, 6, "MC_DOB", h.get("mc_dob"));
}

/// HEADER's groups, in the layout's order.
fn header_groups(out: &mut String, id: &str, g: &XmlTables) {
    for m in rows_of(&g.missing, id) {
        group(out, "AMISSING", m, AMISSING_ITEMS);
    }
    for r in rows_of(&g.reviews, id) {
        group(out, "AREVIEW", r, AREVIEW_ITEMS);
    }
    if let Some(p) = g.perm.get(id).and_then(|v| v.first()) {
        group(out, "PERMANENCE", p, PERMANENCE_ITEMS);
    }
    if let Some(o) = g.oc2.get(id).and_then(|v| v.first()) {
        group(out, "OC2", o, OC2_ITEMS);
    }
    for p in rows_of(&g.placed, id) {
        group(out, "AD_PLACED", p, AD_PLACED_ITEMS);
    }
    for w in rows_of(&g.workers, id) {
        group(out, "SWEPISODE", w, SWEPISODE_ITEMS);
    }
}
