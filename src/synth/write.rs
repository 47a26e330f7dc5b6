//! Writing the returns an LA would have sent: each collection year's 903 and CIN census are the
//! simulated history seen from that year's 31 March (or an in-year date for an extract), with
//! everything later left blank, in the statutory layouts and that year's code lists.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use super::calibrate::Targets;
use super::model::{CarePeriod, Child, Draw, History, year_end_day, year_start_day};
use crate::domain::dates::{birthday, format_dmy, format_iso, from_epoch_days, to_epoch_days};
use crate::domain::io::write_atomic;
use crate::ingest::spec::FormatSpec;

/// Which 903 layout to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ssda903Format {
    Csv,
    Xml,
}

/// A row: canonical column name → text as the return writes it.
type Row = BTreeMap<&'static str, String>;

/// Deterministic draws for one record (child, year, purpose), independent of generation order.
fn draw_for(seed: u64, child: &str, year: i32, purpose: u64) -> Draw {
    let mut h: u64 = seed ^ 0x9e37_79b9_7f4a_7c15;
    for b in child
        .bytes()
        .chain(year.to_le_bytes())
        .chain(purpose.to_le_bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Draw::new(h)
}

fn dmy(day: i32) -> String {
    format_dmy(from_epoch_days(day))
}

fn iso(day: i32) -> String {
    format_iso(from_epoch_days(day))
}

/// The 903 sex code for a year (1/2 to 2023/24, M/F from 2024/25).
fn sex_903(female: bool, year: i32) -> &'static str {
    match (year >= 2025, female) {
        (true, true) => "F",
        (true, false) => "M",
        (false, true) => "2",
        (false, false) => "1",
    }
}

/// A placement code as the year's list has it (semi-independent H5 became supported
/// accommodation K3 in 2024/25; independent living P2 ended with 2024/25).
fn place_for_year(place: &'static str, year: i32) -> &'static str {
    match place {
        "K3" if year < 2025 => "H5",
        "H5" | "P2" if year >= 2026 => "K3",
        other => other,
    }
}

fn eighteenth(child: &Child) -> i32 {
    to_epoch_days(birthday(from_epoch_days(child.dob), 18))
}

/// The 903 tables of one year: canonical table name → rows.
pub fn ssda903_rows(
    h: &History,
    seed: u64,
    year: i32,
    as_at: Option<i32>,
    t: &Targets,
) -> BTreeMap<&'static str, Vec<Row>> {
    let ys = year_start_day(year);
    let ye = year_end_day(year);
    let cut = as_at.map_or(ye, |a| a.min(ye));
    let complete_year = cut == ye;
    let mut tables: BTreeMap<&'static str, Vec<Row>> = BTreeMap::new();
    let mut by_child: BTreeMap<usize, Vec<&CarePeriod>> = BTreeMap::new();
    for p in &h.care {
        by_child.entry(p.child).or_default().push(p);
    }
    let mut in_return: BTreeMap<&str, usize> = BTreeMap::new();
    for (&c, periods) in &by_child {
        let child = &h.children[c];
        let looked_after = periods
            .iter()
            .any(|p| p.start <= cut && p.end.is_none_or(|e| e >= ys));
        if looked_after {
            in_return.insert(&child.id, c);
        }
        // Care leavers: looked after for 13 weeks or more after the 14th birthday, including
        // some time after the 16th, with a 17th–21st birthday in the year.
        let fourteen = to_epoch_days(birthday(from_epoch_days(child.dob), 14));
        let sixteen = to_epoch_days(birthday(from_epoch_days(child.dob), 16));
        let real: Vec<&&CarePeriod> = periods.iter().filter(|p| !p.short_break).collect();
        let days_after_14: i32 = real
            .iter()
            .map(|p| (p.end.unwrap_or(i32::MAX).min(cut) - p.start.max(fourteen)).max(0))
            .sum();
        let after_16 = real
            .iter()
            .any(|p| p.end.unwrap_or(i32::MAX) > sixteen && p.start <= cut);
        if days_after_14 >= 91 && after_16 {
            for age in 17..=21 {
                let bd = to_epoch_days(birthday(from_epoch_days(child.dob), age));
                if bd < ys || bd > cut {
                    continue;
                }
                let in_care = real
                    .iter()
                    .any(|p| p.start <= bd && p.end.is_none_or(|e| e > bd));
                if in_care {
                    continue;
                }
                let died = periods.iter().any(|p| p.rec == "E2");
                let mut d = draw_for(seed, &child.id, year, 3);
                let in_touch = if died {
                    "DIED"
                } else if age <= 18 {
                    d.pick(&[("YES", 93.0), ("NO", 2.0), ("REFU", 1.5), ("RHOM", 3.5)])
                } else {
                    d.pick(&[("YES", 88.0), ("NO", 3.0), ("REFU", 2.0), ("NREQ", 7.0)])
                };
                let (eet, suitable) = if age <= 18 {
                    (t.eet_17_18_share, t.suitable_17_18_share)
                } else {
                    (t.eet_19_21_share, t.suitable_19_21_share)
                };
                let known = in_touch == "YES";
                let (activ, accom) = if known {
                    let eet_given = (eet / 0.95).clamp(0.05, 0.99);
                    let activ = if d.chance(eet_given) {
                        if age >= 19 && d.chance(t.he_19_21_share / eet.max(0.05)) {
                            d.pick(&[("F1", 80.0), ("P1", 20.0)])
                        } else {
                            d.pick(&[
                                ("F2", 45.0),
                                ("P2", 8.0),
                                ("F4", 8.0),
                                ("P4", 2.0),
                                ("F5", 27.0),
                                ("P5", 10.0),
                            ])
                        }
                    } else {
                        d.pick(&[("G4", 20.0), ("G5", 65.0), ("G6", 15.0)])
                    };
                    let letter = if age <= 18 {
                        d.pick(&[
                            ("B", 25.0),
                            ("Z", 15.0),
                            ("D", 30.0),
                            ("E", 10.0),
                            ("U", 12.0),
                            ("C", 3.0),
                            ("X", 2.0),
                            ("V", 3.0),
                        ])
                    } else {
                        d.pick(&[
                            ("U", 45.0),
                            ("B", 20.0),
                            ("D", 12.0),
                            ("Z", 8.0),
                            ("E", 4.0),
                            ("K", 4.0),
                            ("S", 2.0),
                            ("X", 2.0),
                            ("W", 1.0),
                            ("G", 1.0),
                            ("Y", 1.0),
                        ])
                    };
                    // No fixed abode (S) and custody (X) are never suitable in DfE's code list, so
                    // the other homes are suitable a little more often to keep the LA's share (X is
                    // 2 of the 100 weights at 17-18; S and X 4 of 102 at 19-21). The draw is made
                    // either way, so the rest of the stream stays as it was.
                    let can_be_suitable = if age <= 18 { 0.98 } else { 0.96 };
                    let drawn = d.chance((suitable / 0.97 / can_be_suitable).clamp(0.05, 0.99));
                    let ok = drawn && !matches!(letter, "S" | "X");
                    (
                        activ.to_string(),
                        format!("{letter}{}", if ok { 1 } else { 2 }),
                    )
                } else {
                    ("0".to_string(), "0".to_string())
                };
                in_return.insert(&child.id, c);
                tables.entry("oc3").or_default().push(Row::from([
                    ("child", child.id.clone()),
                    ("dob", dmy(child.dob)),
                    ("in_touch", in_touch.to_string()),
                    ("activ", activ),
                    ("accom", accom),
                ]));
            }
        }
    }
    for (&id, &c) in &in_return {
        let child = &h.children[c];
        let periods = by_child.get(&c).map(Vec::as_slice).unwrap_or(&[]);
        let mut d = draw_for(seed, id, year, 1);
        let age_at_cut = (cut - child.dob) / 365;
        let mother = child.female && age_at_cut >= 13 && draw_for(seed, id, 0, 2).chance(0.03);
        let mut header = Row::from([
            ("child", id.to_string()),
            ("sex", sex_903(child.female, year).to_string()),
            ("dob", dmy(child.dob)),
            ("ethnic", child.ethnic.to_string()),
            // A school-age child's UPN; otherwise DfE's unknown codes (rules 442, 168, 209): UN1
            // under school age, UN4 newly arrived (UASC), UN2 never attended school.
            (
                "upn",
                match (&child.upn, age_at_cut >= 4) {
                    (Some(upn), true) => upn.clone(),
                    (_, false) => "UN1".to_string(),
                    (None, true) if child.uasc => "UN4".to_string(),
                    (None, true) => "UN2".to_string(),
                },
            ),
        ]);
        if child.female && age_at_cut >= 12 {
            header.insert("mother", if mother { "1" } else { "0" }.into());
            if mother {
                header.insert(
                    "mc_dob",
                    dmy(cut - draw_for(seed, id, 0, 4).uniform(30, 300)),
                );
            }
        }
        tables.entry("header").or_default().push(header);
        if child.uasc {
            tables.entry("uasc").or_default().push(Row::from([
                ("child", id.to_string()),
                ("sex", sex_903(child.female, year).to_string()),
                ("dob", dmy(child.dob)),
                ("duc", dmy(eighteenth(child))),
            ]));
        }
        let mut continuous_12m = false;
        for p in periods {
            if p.start > cut || p.end.is_some_and(|e| e < ys) {
                continue;
            }
            if !p.short_break && p.start <= ye - 365 && p.end.is_none_or(|e| e > ye) {
                continuous_12m = true;
            }
            for (i, ep) in p.episodes.iter().enumerate() {
                let dec = p.episodes.get(i + 1).map(|n| n.decom).or(p.end);
                if ep.decom > cut || dec.is_some_and(|x| x < ys) {
                    continue;
                }
                let last = i + 1 == p.episodes.len();
                let (dec_text, rec_text) = match dec {
                    Some(x) if x <= cut => (
                        dmy(x),
                        if last {
                            p.rec.to_string()
                        } else {
                            "X1".to_string()
                        },
                    ),
                    _ => (String::new(), String::new()),
                };
                let place = place_for_year(ep.place, year);
                tables.entry("episodes").or_default().push(Row::from([
                    ("child", id.to_string()),
                    ("decom", dmy(ep.decom)),
                    ("rne", ep.rne.to_string()),
                    ("ls", ep.ls.to_string()),
                    ("cin", ep.cin.to_string()),
                    ("place", place.to_string()),
                    ("place_provider", ep.provider.to_string()),
                    ("dec", dec_text),
                    ("rec", rec_text),
                    (
                        "reason_place_change",
                        ep.reason_change.unwrap_or("").to_string(),
                    ),
                    ("home_post", child.home_post.clone()),
                    ("pl_post", ep.pl_post.clone()),
                    ("urn", ep.urn.clone().unwrap_or_default()),
                ]));
            }
            for &(day, code) in &p.reviews {
                if day >= ys && day <= cut {
                    tables.entry("reviews").or_default().push(Row::from([
                        ("child", id.to_string()),
                        ("dob", dmy(child.dob)),
                        ("review", dmy(day)),
                        ("review_code", code.to_string()),
                    ]));
                }
            }
            for &(kind, start, end) in &p.missing {
                if start >= ys && start <= cut {
                    tables.entry("missing").or_default().push(Row::from([
                        ("child", id.to_string()),
                        ("dob", dmy(child.dob)),
                        ("missing", kind.to_string()),
                        ("mis_start", dmy(start)),
                        ("mis_end", if end <= cut { dmy(end) } else { String::new() }),
                    ]));
                }
            }
            if p.start >= ys && p.start <= cut && !p.short_break {
                let mut pd = draw_for(seed, id, to_epoch_days(from_epoch_days(p.start)), 5);
                let prev = pd.pick(&[
                    // Z1: no previous permanence option; P4: not known.
                    ("Z1", 85.0),
                    ("P4", 5.0),
                    ("P1", 2.0),
                    ("P2", 5.0),
                    ("P3", 3.0),
                ]);
                let (la_perm, date_perm) = if matches!(prev, "P1" | "P2" | "P3") {
                    let when = p.start - pd.uniform(400, 3000);
                    let date = if pd.chance(0.2) {
                        format!("zz/zz/{}", from_epoch_days(when).format("%Y"))
                    } else {
                        dmy(when)
                    };
                    (h.la_code.clone(), date)
                } else {
                    (String::new(), String::new())
                };
                tables.entry("prev_perm").or_default().push(Row::from([
                    ("child", id.to_string()),
                    ("dob", dmy(child.dob)),
                    ("prev_perm", prev.to_string()),
                    ("la_perm", la_perm),
                    ("date_perm", date_perm),
                ]));
            }
            let decision = p
                .adoption
                .as_ref()
                .map(|a| a.decision)
                .or(p.reversed_decision.map(|r| r.0));
            if let Some(decision) = decision.filter(|&x| x <= cut) {
                // An adopted child's decision was never reversed: its ceased date and reason stay
                // blank (DfE rule 558); only a reversed decision carries them.
                let (ceased, reason) = match (&p.adoption, p.reversed_decision) {
                    (None, Some((_, when, reason))) if when <= cut => {
                        (dmy(when), reason.to_string())
                    }
                    _ => (String::new(), String::new()),
                };
                tables
                    .entry("placed_adoption")
                    .or_default()
                    .push(Row::from([
                        ("child", id.to_string()),
                        ("dob", dmy(child.dob)),
                        ("date_placed", dmy(decision)),
                        ("date_placed_ceased", ceased),
                        ("reason_placed_ceased", reason),
                    ]));
            }
            if let Some(a) = &p.adoption
                && a.order >= ys
                && a.order <= cut
            {
                tables.entry("ad1").or_default().push(Row::from([
                    ("child", id.to_string()),
                    ("dob", dmy(child.dob)),
                    ("date_int", dmy(a.decision)),
                    ("date_match", dmy(a.matched)),
                    (
                        "foster_care",
                        if a.by_foster_carer { "1" } else { "0" }.to_string(),
                    ),
                    ("nb_adoptr", a.nb_adopters.to_string()),
                    ("sex_adoptr", a.sex_adopters.to_string()),
                    ("ls_adoptr", a.ls_adopters.to_string()),
                ]));
            }
            if year >= 2024 {
                for (k, (worker, start)) in p.social_workers.iter().enumerate() {
                    let end = p.social_workers.get(k + 1).map(|w| w.1).or(p.end);
                    if *start > cut || end.is_some_and(|e| e < ys) {
                        continue;
                    }
                    tables.entry("sw_episodes").or_default().push(Row::from([
                        ("child", id.to_string()),
                        ("dob", dmy(child.dob)),
                        ("sw_id", worker.clone()),
                        ("sw_decom", dmy(*start)),
                        (
                            "sw_dec",
                            end.filter(|&e| e <= cut).map(dmy).unwrap_or_default(),
                        ),
                        ("sw_reason", sw_reason(k, worker).to_string()),
                    ]));
                }
            }
        }
        if continuous_12m && complete_year {
            let age = (ye - child.dob) / 365;
            let sdq = (4..=16).contains(&age) && d.chance(0.8);
            let score = (t.sdq_mean + 7.0 * (d.unit() + d.unit() + d.unit() - 1.5) * 2.0)
                .round()
                .clamp(0.0, 40.0) as i32;
            let misuse = age >= 11 && d.chance(0.04);
            tables.entry("oc2").or_default().push(Row::from([
                ("child", id.to_string()),
                ("dob", dmy(child.dob)),
                (
                    "sdq_score",
                    if sdq {
                        score.to_string()
                    } else {
                        String::new()
                    },
                ),
                (
                    "sdq_reason",
                    if sdq {
                        String::new()
                    } else if !(4..=16).contains(&age) {
                        "SDQ1".into()
                    } else {
                        d.pick(&[("SDQ2", 30.0), ("SDQ4", 50.0), ("SDQ5", 20.0)])
                            .into()
                    },
                ),
                (
                    "convicted",
                    if age >= 10 && d.chance(0.03) {
                        "1"
                    } else {
                        "0"
                    }
                    .into(),
                ),
                (
                    "health_check",
                    if d.chance(t.health_check_share) {
                        "1"
                    } else {
                        "0"
                    }
                    .into(),
                ),
                (
                    "immunisations",
                    if d.chance(0.86) { "1" } else { "0" }.into(),
                ),
                (
                    "teeth_check",
                    if d.chance(t.dental_check_share) {
                        "1"
                    } else {
                        "0"
                    }
                    .into(),
                ),
                (
                    "health_assessment",
                    if d.chance(0.9) { "1" } else { "0" }.into(),
                ),
                ("substance_misuse", if misuse { "1" } else { "0" }.into()),
                (
                    "intervention_received",
                    if misuse && d.chance(0.6) {
                        "1".into()
                    } else if misuse {
                        "0".into()
                    } else {
                        String::new()
                    },
                ),
                (
                    "intervention_offered",
                    if misuse { "1".into() } else { String::new() },
                ),
            ]));
        }
    }
    tables
}

/// Writes a year's 903 as CSV files (one per table) or one XML file.
pub fn write_ssda903(
    dir: &Path,
    tables: &BTreeMap<&'static str, Vec<Row>>,
    year: i32,
    format: Ssda903Format,
) -> io::Result<u64> {
    let spec = FormatSpec::ssda903();
    let mut bytes = 0;
    match format {
        Ssda903Format::Csv => {
            // Only the tables that year's return has (no DoLO file before 2026/27).
            for table in spec.tables.iter().filter(|t| t.csv && t.in_year(year)) {
                let rows = tables
                    .get(table.name.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let mut text = String::new();
                let header: Vec<&str> = table
                    .columns
                    .iter()
                    .filter_map(|c| c.csv.as_deref())
                    .collect();
                text.push_str(&header.join(","));
                text.push('\n');
                for row in rows {
                    let cells: Vec<&str> = table
                        .columns
                        .iter()
                        .filter(|c| c.csv.is_some())
                        .map(|c| row.get(c.name.as_str()).map(String::as_str).unwrap_or(""))
                        .collect();
                    text.push_str(&cells.join(","));
                    text.push('\n');
                }
                bytes += text.len() as u64;
                write_atomic(
                    &dir.join("ssda903").join(format!("{}.csv", table.name)),
                    |w| w.write_all(text.as_bytes()),
                )?;
            }
        }
        Ssda903Format::Xml => {
            let text = ssda903_xml(tables);
            bytes += text.len() as u64;
            write_atomic(&dir.join("ssda903.xml"), |w| w.write_all(text.as_bytes()))?;
        }
    }
    Ok(bytes)
}

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

/// The 903 XML layout: CHILD › HEADER (with its groups) and EPISODE siblings.
fn ssda903_xml(tables: &BTreeMap<&'static str, Vec<Row>>) -> String {
    let by_child = |table: &str| -> BTreeMap<String, Vec<&Row>> {
        let mut m: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
        for r in tables.get(table).map(Vec::as_slice).unwrap_or(&[]) {
            m.entry(r["child"].clone()).or_default().push(r);
        }
        m
    };
    let (episodes, reviews, missing, uasc, oc2, oc3, ad1, placed, perm) = (
        by_child("episodes"),
        by_child("reviews"),
        by_child("missing"),
        by_child("uasc"),
        by_child("oc2"),
        by_child("oc3"),
        by_child("ad1"),
        by_child("placed_adoption"),
        by_child("prev_perm"),
    );
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EXPSSDA903>\n");
    for h in tables.get("header").map(Vec::as_slice).unwrap_or(&[]) {
        let id = &h["child"];
        out.push_str("  <CHILD>\n    <HEADER>\n");
        element(&mut out, 6, "CHILDID", h.get("child"));
        element(&mut out, 6, "UPN", h.get("upn"));
        element(&mut out, 6, "SEX", h.get("sex"));
        element(&mut out, 6, "DOB", h.get("dob"));
        element(&mut out, 6, "ETHNIC", h.get("ethnic"));
        // DfE's XML states every child's UASC status: 1 with the DUC for a UASC child, 0 for
        // every other child.
        if let Some(u) = uasc.get(id).and_then(|v| v.first()) {
            out.push_str("      <UASC>1</UASC>\n");
            element(&mut out, 6, "DUC", u.get("duc"));
        } else {
            out.push_str("      <UASC>0</UASC>\n");
        }
        if let Some(a) = ad1.get(id).and_then(|v| v.first()) {
            for (tag, key) in [
                ("DATE_INT", "date_int"),
                ("DATE_MATCH", "date_match"),
                ("FOSTER_CARE", "foster_care"),
                ("NB_ADOPTR", "nb_adoptr"),
                ("SEX_ADOPTR", "sex_adoptr"),
                ("LS_ADOPTR", "ls_adoptr"),
            ] {
                element(&mut out, 6, tag, a.get(key));
            }
        }
        if let Some(o) = oc3.get(id).and_then(|v| v.first()) {
            for (tag, key) in [
                ("IN_TOUCH", "in_touch"),
                ("ACTIV", "activ"),
                ("ACCOM", "accom"),
            ] {
                element(&mut out, 6, tag, o.get(key));
            }
        }
        element(&mut out, 6, "MOTHER", h.get("mother"));
        element(&mut out, 6, "MC_DOB", h.get("mc_dob"));
        for m in missing.get(id).map(Vec::as_slice).unwrap_or(&[]) {
            out.push_str("      <AMISSING>\n");
            for (tag, key) in [
                ("MISSING", "missing"),
                ("MIS_START", "mis_start"),
                ("MIS_END", "mis_end"),
            ] {
                element(&mut out, 8, tag, m.get(key));
            }
            out.push_str("      </AMISSING>\n");
        }
        for r in reviews.get(id).map(Vec::as_slice).unwrap_or(&[]) {
            out.push_str("      <AREVIEW>\n");
            element(&mut out, 8, "REVIEW", r.get("review"));
            element(&mut out, 8, "REVIEW_CODE", r.get("review_code"));
            out.push_str("      </AREVIEW>\n");
        }
        if let Some(p) = perm.get(id).and_then(|v| v.first()) {
            out.push_str("      <PERMANENCE>\n");
            for (tag, key) in [
                ("PREV_PERM", "prev_perm"),
                ("LA_PERM", "la_perm"),
                ("DATE_PERM", "date_perm"),
            ] {
                element(&mut out, 8, tag, p.get(key));
            }
            out.push_str("      </PERMANENCE>\n");
        }
        if let Some(o) = oc2.get(id).and_then(|v| v.first()) {
            out.push_str("      <OC2>\n");
            for (tag, key) in [
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
            ] {
                element(&mut out, 8, tag, o.get(key));
            }
            out.push_str("      </OC2>\n");
        }
        for p in placed.get(id).map(Vec::as_slice).unwrap_or(&[]) {
            out.push_str("      <AD_PLACED>\n");
            for (tag, key) in [
                ("DATE_PLACED", "date_placed"),
                ("DATE_PLACED_CEASED", "date_placed_ceased"),
                ("REASON_PLACED_CEASED", "reason_placed_ceased"),
            ] {
                element(&mut out, 8, tag, p.get(key));
            }
            out.push_str("      </AD_PLACED>\n");
        }
        out.push_str("    </HEADER>\n");
        for e in episodes.get(id).map(Vec::as_slice).unwrap_or(&[]) {
            out.push_str("    <EPISODE>\n");
            for (tag, key) in [
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
            ] {
                element(&mut out, 6, tag, e.get(key));
            }
            out.push_str("    </EPISODE>\n");
        }
        out.push_str("  </CHILD>\n");
    }
    out.push_str("</EXPSSDA903>\n");
    out
}

/// Writes a year's CIN census XML, streaming child by child. Returns bytes written.
pub fn write_cin(path: &Path, h: &History, year: i32, as_at: Option<i32>) -> io::Result<u64> {
    let ys = year_start_day(year);
    let ye = year_end_day(year);
    let cut = as_at.map_or(ye, |a| a.min(ye));
    let mut episodes_of: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, ep) in h.cin.iter().enumerate() {
        if ep.referral <= cut && ep.closure.is_none_or(|c| c >= ys) {
            episodes_of.entry(ep.child).or_default().push(i);
        }
    }
    let mut children: Vec<(&str, usize)> = episodes_of
        .keys()
        .map(|&c| (h.children[c].id.as_str(), c))
        .collect();
    children.sort();
    let mut bytes = 0u64;
    write_atomic(path, |w| {
        let mut out = String::with_capacity(64 * 1024);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Message>\n  <Header>\n    <CollectionDetails>\n");
        out.push_str(&format!("      <Collection>CIN</Collection>\n      <Year>{year}</Year>\n      <ReferenceDate>{}</ReferenceDate>\n", iso(ye)));
        out.push_str(
            "    </CollectionDetails>\n    <Source>\n      <SourceLevel>L</SourceLevel>\n",
        );
        out.push_str(&format!("      <LEA>{}</LEA>\n      <SoftwareCode>cspi-synth</SoftwareCode>\n      <Release>1</Release>\n      <SerialNo>1</SerialNo>\n      <DateTime>{}T00:00:00</DateTime>\n", h.la_code, iso(cut)));
        out.push_str("    </Source>\n  </Header>\n  <Children>\n");
        for (id, c) in children {
            let child = &h.children[c];
            out.push_str("    <Child>\n      <ChildIdentifiers>\n");
            out.push_str(&format!("        <LAchildID>{id}</LAchildID>\n"));
            let born = child.dob <= cut;
            let age = (cut - child.dob) / 365;
            match (&child.upn, born && age >= 4) {
                (Some(upn), true) => out.push_str(&format!("        <UPN>{upn}</UPN>\n")),
                _ => out.push_str(&format!(
                    "        <UPNunknown>{}</UPNunknown>\n",
                    if !born {
                        // Not of school age (the CIN census has no code of its own for unborn).
                        "UN1"
                    } else if child.uasc {
                        "UN4"
                    } else {
                        "UN6"
                    }
                )),
            }
            if born {
                out.push_str(&format!(
                    "        <PersonBirthDate>{}</PersonBirthDate>\n",
                    iso(child.dob)
                ));
            } else {
                out.push_str(&format!(
                    "        <ExpectedPersonBirthDate>{}</ExpectedPersonBirthDate>\n",
                    iso(child.dob)
                ));
            }
            if year >= 2025 {
                out.push_str(&format!(
                    "        <Sex>{}</Sex>\n",
                    if child.female { "F" } else { "M" }
                ));
            } else {
                out.push_str(&format!(
                    "        <GenderCurrent>{}</GenderCurrent>\n",
                    if !born {
                        "0"
                    } else if child.female {
                        "2"
                    } else {
                        "1"
                    }
                ));
            }
            out.push_str("      </ChildIdentifiers>\n      <ChildCharacteristics>\n");
            out.push_str(&format!(
                "        <Ethnicity>{}</Ethnicity>\n        <Disabilities>\n",
                child.ethnic
            ));
            if child.disabilities.is_empty() {
                out.push_str("          <Disability>NONE</Disability>\n");
            }
            for d in &child.disabilities {
                out.push_str(&format!("          <Disability>{d}</Disability>\n"));
            }
            out.push_str("        </Disabilities>\n      </ChildCharacteristics>\n");
            for &e in &episodes_of[&c] {
                let ep = &h.cin[e];
                out.push_str("      <CINdetails>\n");
                out.push_str(&format!(
                    "        <CINreferralDate>{}</CINreferralDate>\n",
                    iso(ep.referral)
                ));
                out.push_str(&format!(
                    "        <ReferralSource>{}</ReferralSource>\n",
                    ep.source
                ));
                out.push_str(&format!(
                    "        <PrimaryNeedCode>{}</PrimaryNeedCode>\n",
                    ep.need
                ));
                if let Some(closure) = ep.closure.filter(|&x| x <= cut) {
                    out.push_str(&format!("        <CINclosureDate>{}</CINclosureDate>\n        <ReasonForClosure>{}</ReasonForClosure>\n", iso(closure), ep.closure_reason));
                }
                if let Some(icpc) = ep.s47.iter().filter_map(|s| s.icpc).find(|&i| i <= cut) {
                    out.push_str(&format!(
                        "        <DateOfInitialCPC>{}</DateOfInitialCPC>\n",
                        iso(icpc)
                    ));
                }
                out.push_str(&format!(
                    "        <ReferralNFA>{}</ReferralNFA>\n",
                    if year >= 2022 {
                        if ep.nfa { "true" } else { "false" }
                    } else if ep.nfa {
                        "1"
                    } else {
                        "0"
                    }
                ));
                for a in &ep.assessments {
                    if a.start > cut || a.authorised < ys {
                        continue;
                    }
                    out.push_str("        <Assessments>\n");
                    out.push_str(&format!(
                        "          <AssessmentActualStartDate>{}</AssessmentActualStartDate>\n",
                        iso(a.start)
                    ));
                    if a.authorised <= cut {
                        out.push_str(&format!("          <AssessmentAuthorisationDate>{}</AssessmentAuthorisationDate>\n", iso(a.authorised)));
                        out.push_str("          <FactorsIdentifiedAtAssessment>\n");
                        for f in &a.factors {
                            out.push_str(&format!(
                                "            <AssessmentFactors>{f}</AssessmentFactors>\n"
                            ));
                        }
                        out.push_str("          </FactorsIdentifiedAtAssessment>\n");
                    }
                    out.push_str("        </Assessments>\n");
                }
                for &(start, end) in &ep.cin_plans {
                    if start > cut || end.is_some_and(|e| e < ys) {
                        continue;
                    }
                    out.push_str(&format!("        <CINPlanDates>\n          <CINPlanStartDate>{}</CINPlanStartDate>\n", iso(start)));
                    if let Some(end) = end.filter(|&e| e <= cut) {
                        out.push_str(&format!(
                            "          <CINPlanEndDate>{}</CINPlanEndDate>\n",
                            iso(end)
                        ));
                    }
                    out.push_str("        </CINPlanDates>\n");
                }
                for s in &ep.s47 {
                    // An enquiry is in the year's return while it is open: from its start to its
                    // conference (or, without one, a fortnight later).
                    let closes = s.icpc.unwrap_or(s.start + 14);
                    if s.start > cut || closes < ys {
                        continue;
                    }
                    out.push_str(&format!("        <Section47>\n          <S47ActualStartDate>{}</S47ActualStartDate>\n", iso(s.start)));
                    out.push_str(&format!(
                        "          <InitialCPCtarget>{}</InitialCPCtarget>\n",
                        iso(s.icpc_target)
                    ));
                    if let Some(icpc) = s.icpc.filter(|&i| i <= cut) {
                        out.push_str(&format!(
                            "          <DateOfInitialCPC>{}</DateOfInitialCPC>\n",
                            iso(icpc)
                        ));
                    }
                    out.push_str(&format!(
                        "          <ICPCnotRequired>{}</ICPCnotRequired>\n",
                        if s.icpc_not_required { "true" } else { "false" }
                    ));
                    out.push_str("        </Section47>\n");
                }
                for p in &ep.plans {
                    if p.start > cut || p.end.is_some_and(|e| e < ys) {
                        continue;
                    }
                    out.push_str(&format!("        <ChildProtectionPlans>\n          <CPPstartDate>{}</CPPstartDate>\n", iso(p.start)));
                    if let Some(end) = p.end.filter(|&e| e <= cut) {
                        out.push_str(&format!(
                            "          <CPPendDate>{}</CPPendDate>\n",
                            iso(end)
                        ));
                    }
                    out.push_str(&format!(
                        "          <InitialCategoryOfAbuse>{}</InitialCategoryOfAbuse>\n",
                        p.initial_category
                    ));
                    out.push_str(&format!(
                        "          <LatestCategoryOfAbuse>{}</LatestCategoryOfAbuse>\n",
                        p.latest_category
                    ));
                    out.push_str(&format!(
                        "          <NumberOfPreviousCPP>{}</NumberOfPreviousCPP>\n",
                        p.previous
                    ));
                    let reviews: Vec<&i32> = p.reviews.iter().filter(|&&r| r <= cut).collect();
                    if !reviews.is_empty() {
                        out.push_str("          <Reviews>\n");
                        for r in reviews {
                            out.push_str(&format!(
                                "            <CPPreviewDate>{}</CPPreviewDate>\n",
                                iso(*r)
                            ));
                        }
                        out.push_str("          </Reviews>\n");
                    }
                    out.push_str("        </ChildProtectionPlans>\n");
                }
                out.push_str("      </CINdetails>\n");
            }
            out.push_str("    </Child>\n");
            if out.len() > 60 * 1024 {
                w.write_all(out.as_bytes())?;
                bytes += out.len() as u64;
                out.clear();
            }
        }
        out.push_str("  </Children>\n</Message>\n");
        bytes += out.len() as u64;
        w.write_all(out.as_bytes())
    })?;
    Ok(bytes)
}

/// Why a social worker episode began (SW_REASON, from 2023/24): the first of a period of care
/// is the child's first contact with this social worker arrangement (FCONTA); later ones are
/// mostly a worker leaving the role or a management decision. Chosen from the worker's id and
/// the episode's position, not from the simulation's random stream, so adding the item left
/// every other value of the returns as it was.
fn sw_reason(k: usize, worker: &str) -> &'static str {
    if k == 0 {
        return "FCONTA";
    }
    let h = worker.bytes().fold(k as u64 ^ 0x9e37_79b9, |a, b| {
        a.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    match h % 100 {
        0..=44 => "LEFTRL",
        45..=64 => "MANAGE",
        65..=74 => "ORGRST",
        75..=84 => "ABSENC",
        85..=94 => "TSPROC",
        95..=97 => "CHCHAN",
        _ => "PCCHAN",
    }
}
