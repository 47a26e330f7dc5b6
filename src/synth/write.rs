//! Writing the returns an LA would have sent: each collection year's 903 and CIN census are the
//! simulated history seen from that year's 31 March (or an in-year date for an extract), with
//! everything later left blank, in the statutory layouts and that year's code lists.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use super::calibrate::Targets;
use super::model::{CarePeriod, Child, Draw, History, year_end_day, year_start_day};
use crate::domain::dates::{
    age_on, birthday, format_dmy, format_iso, from_epoch_days, to_epoch_days,
};
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

/// Care leavers aged 19-21 not in touch, relative to the LA's published share (the median
/// bias over the default LA-years, five seeds pooled, came out -8% at 0.92: `cspi synth
/// --report --seeds 5`).
const NOT_IN_TOUCH: f64 = 0.98;

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

/// A placement code as the year's list has it: semi-independent H5 became supported
/// accommodation K3 in 2024/25; independent living P2 could not be started from 28 October
/// 2023, when supported accommodation had to be registered (rule 217), and ended with 2024/25.
fn place_for_year(place: &'static str, decom: i32, year: i32) -> &'static str {
    let registered = to_epoch_days(chrono::NaiveDate::from_ymd_opt(2023, 10, 28).expect("date"));
    match place {
        "P2" if decom >= registered || year >= 2026 => place_for_year("K3", decom, year),
        "K3" if year < 2025 => "H5",
        // DfE let an open H5 placement continue as K3 in 2024/25 only (rule 503D), so H5 is
        // written as K3 from then on.
        "H5" if year >= 2025 => "K3",
        other => other,
    }
}

/// The URN as the year's rules want it: Ofsted registered supported accommodation (H5) from
/// 2023/24 and independent living (P2) from 2024/25; before that neither carries one (rule 222).
fn urn_for_year(place: &str, urn: &Option<String>, year: i32) -> String {
    match place {
        "H5" if year < 2024 => String::new(),
        "P2" if year < 2025 => String::new(),
        _ => urn.clone().unwrap_or_default(),
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
    let mut tables: BTreeMap<&'static str, Vec<Row>> = BTreeMap::new();
    let mut by_child: BTreeMap<usize, Vec<&CarePeriod>> = BTreeMap::new();
    for p in &h.care {
        by_child.entry(p.child).or_default().push(p);
    }
    let mut in_return: BTreeMap<&str, usize> = BTreeMap::new();
    let mut care_leavers = std::collections::BTreeSet::new();
    let in_year = |p: &CarePeriod| p.start <= cut && p.end.is_none_or(|e| e >= ys);
    for (&c, periods) in &by_child {
        let child = &h.children[c];
        if periods.iter().any(|p| in_year(p)) {
            in_return.insert(&child.id, c);
        }
        // Care leavers: looked after for 13 weeks or more after the 14th birthday, including
        // some time after the 16th, with a 17th–21st birthday in the year.
        let fourteen = to_epoch_days(birthday(from_epoch_days(child.dob), 14));
        let sixteen = to_epoch_days(birthday(from_epoch_days(child.dob), 16));
        let real: Vec<&&CarePeriod> = periods.iter().filter(|p| !p.short_break).collect();
        // The care counted is the care before the birthday: a young person who first came
        // into care after it, or came back and left again after it, is no care leaver at that
        // birthday (rule 1016: not required when care ended after the birthday).
        let qualifies_at = |bd: i32| {
            let days_after_14: i32 = real
                .iter()
                .map(|p| {
                    (p.end.unwrap_or(i32::MAX).min(cut).min(bd) - p.start.max(fourteen)).max(0)
                })
                .sum();
            let after_16 = real
                .iter()
                .any(|p| p.end.unwrap_or(i32::MAX) > sixteen && p.start <= bd);
            let again_after = real.iter().any(|p| p.start > bd && p.start <= cut);
            days_after_14 >= 91 && after_16 && !again_after
        };
        for age in 17..=21 {
            let bd = to_epoch_days(birthday(from_epoch_days(child.dob), age));
            if bd < ys || bd > cut || !qualifies_at(bd) {
                continue;
            }
            // Care leaver information is for young people no longer looked after (1007: not
            // on the birthday, nor back in care at the end of the year) whose care was not
            // transferred to another LA (1011). Care all year that ended on 31 March itself
            // (an extract's date) is DfE's OC2 cohort instead (187, 191).
            let in_care = real.iter().any(|p| {
                (p.start <= bd && p.end.is_none_or(|e| e > bd))
                    || (p.start <= cut && p.end.is_none_or(|e| e > cut))
                    || (p.start <= ys && p.end == Some(cut))
            });
            let transferred = real
                .iter()
                .max_by_key(|p| p.start)
                .is_some_and(|p| p.rec == "E3");
            if in_care || transferred {
                continue;
            }
            // A young person who died in care is no care leaver (rule 1000).
            if periods.iter().any(|p| p.rec == "E2") {
                continue;
            }
            let mut d = draw_for(seed, &child.id, year, 3);
            let in_touch = if age <= 18 {
                d.pick(&[("YES", 93.0), ("NO", 2.0), ("REFU", 1.5), ("RHOM", 3.5)])
            } else {
                // Not in touch (NO, REFU) at the LA's published share; no longer requiring
                // services (NREQ) 7%.
                let lost = (t.not_in_touch_19_21_share * 100.0 * NOT_IN_TOUCH).clamp(0.5, 40.0);
                d.pick(&[
                    ("YES", 100.0 - lost - 7.0),
                    ("NO", lost * 0.57),
                    ("REFU", lost * 0.43),
                    ("NREQ", 7.0),
                ])
            };
            let (eet, suitable) = if age <= 18 {
                (t.eet_17_18_share, t.suitable_17_18_share)
            } else {
                (t.eet_19_21_share, t.suitable_19_21_share)
            };
            let known = in_touch == "YES";
            // Only those in touch have an activity and accommodation, but every young
            // person is in the shares' denominators, so the draws are scaled up by the
            // share in touch.
            let in_touch_share = if age <= 18 {
                0.93
            } else {
                (0.93 - t.not_in_touch_19_21_share).max(0.5)
            };
            let (activ, accom) = if known {
                let eet_given = (eet / in_touch_share).clamp(0.05, 0.99);
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
                    let z = if age == 18 { 15.0 } else { 0.0 };
                    d.pick(&[
                        ("B", 25.0 + 15.0 - z),
                        ("Z", z),
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
                let drawn =
                    d.chance((suitable / in_touch_share / can_be_suitable).clamp(0.05, 0.99));
                let ok = drawn && !matches!(letter, "S" | "X");
                (
                    activ.to_string(),
                    format!("{letter}{}", if ok { 1 } else { 2 }),
                )
            } else {
                ("0".to_string(), "0".to_string())
            };
            in_return.insert(&child.id, c);
            care_leavers.insert(c);
            tables.entry("oc3").or_default().push(Row::from([
                ("child", child.id.clone()),
                ("dob", dmy(child.dob)),
                ("in_touch", in_touch.to_string()),
                ("activ", activ),
                ("accom", accom),
            ]));
        }
    }
    for (&id, &c) in &in_return {
        let child = &h.children[c];
        let periods = by_child.get(&c).map(Vec::as_slice).unwrap_or(&[]);
        let mut d = draw_for(seed, id, year, 1);
        let age_at_cut = (cut - child.dob) / 365;
        let looked_after = periods.iter().any(|p| in_year(p));
        let non_respite = periods.iter().any(|p| !p.short_break && in_year(p));
        // MOTHER is asked of every girl looked after in the year other than for short breaks
        // only (rules 165, 393, 399), and not of care leavers (628). The first child's date of
        // birth is fixed for the girl, so every year reports the same one (624), and lies
        // before the end of the year and of her care (625).
        let last_dec = periods
            .iter()
            .filter(|p| !p.short_break && p.start <= cut)
            .filter_map(|p| p.end)
            .filter(|&e| e <= cut)
            .max();
        let open_at_cut = periods
            .iter()
            .any(|p| p.start <= cut && p.end.is_none_or(|e| e > cut));
        let first_child = child.dob + draw_for(seed, id, 0, 4).uniform(14 * 365, 19 * 365);
        let mother = child.female
            && draw_for(seed, id, 0, 2).chance(0.05)
            && first_child <= cut
            && (open_at_cut || last_dec.is_none_or(|d| first_child <= d));
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
                    // UN4 is only for a child looked after for a week or less (rule 210).
                    (None, true) if child.uasc => "UN2".to_string(),
                    (None, true) => "UN2".to_string(),
                },
            ),
        ]);
        if child.female && non_respite {
            header.insert("mother", if mother { "1" } else { "0" }.into());
            if mother {
                header.insert("mc_dob", dmy(first_child));
            }
        }
        tables.entry("header").or_default().push(header);
        // UASC information only for children looked after in the year (rule 1014).
        if child.uasc && looked_after {
            tables.entry("uasc").or_default().push(Row::from([
                ("child", id.to_string()),
                ("sex", sex_903(child.female, year).to_string()),
                ("dob", dmy(child.dob)),
                ("duc", dmy(eighteenth(child))),
            ]));
        }
        let mut continuous_12m = false;
        let mut prev_perm_written = false;
        for p in periods {
            if p.start > cut || p.end.is_some_and(|e| e < ys) {
                continue;
            }
            // Continuously looked after for 12 months at 31 March as DfE's validation reads it:
            // a period ending on 31 March itself still counts (the OC2 cohort, rule 191). An
            // in-year extract is judged at its date instead: care all year so far, to the date.
            if !p.short_break && p.start <= ys && p.end.is_none_or(|e| e >= cut) {
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
                let place = place_for_year(ep.place, ep.decom, year);
                // The reason for a placement change is recorded on the episode that ended with
                // it (rule 225), the next episode's RNE saying what changed.
                let reason_change = match (&dec_text.is_empty(), p.episodes.get(i + 1)) {
                    (false, Some(next)) => next.reason_change.unwrap_or(""),
                    _ => "",
                };
                // No postcodes for short breaks (rules 214, 398); no home postcode for an
                // unaccompanied asylum-seeking child, whom DfE gives no distance (406).
                let respite = matches!(ep.ls, "V3" | "V4");
                let home_post = if respite || child.uasc {
                    String::new()
                } else {
                    child.home_post.clone()
                };
                let (pl_post, urn) = if respite {
                    (String::new(), String::new())
                } else {
                    (ep.pl_post.clone(), urn_for_year(place, &ep.urn, year))
                };
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
                    ("reason_place_change", reason_change.to_string()),
                    ("home_post", home_post),
                    ("pl_post", pl_post),
                    ("urn", urn),
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
            // A period still open at the start of the year is reported again (rule 576).
            for &(kind, start, end) in &p.missing {
                if start <= cut && (start >= ys || end >= ys) {
                    tables.entry("missing").or_default().push(Row::from([
                        ("child", id.to_string()),
                        ("dob", dmy(child.dob)),
                        ("missing", kind.to_string()),
                        ("mis_start", dmy(start)),
                        ("mis_end", if end <= cut { dmy(end) } else { String::new() }),
                    ]));
                }
            }
            // One previous-permanence row per child starting a period of care in the year
            // (rule 630 asks it of every new start, short breaks too).
            if p.start >= ys && p.start <= cut && !prev_perm_written {
                prev_perm_written = true;
                let mut pd = draw_for(seed, id, to_epoch_days(from_epoch_days(p.start)), 5);
                let prev = pd.pick(&[
                    // Z1: no previous permanence option. P4 (not known) is not drawn: DfE's rule
                    // 630 asks an LA and date of any option other than Z1.
                    ("Z1", 90.0),
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
            // A reversed decision is reported up to the year it was reversed in, not after
            // (rule 118: a reversal before the collection year).
            let reversed_before =
                p.adoption.is_none() && p.reversed_decision.is_some_and(|(_, when, _)| when < ys);
            if let Some(decision) = decision.filter(|&x| x <= cut && !reversed_before) {
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
                // A child back in care later in the year kept a social worker between the two
                // periods: the last worker's episode runs to the next period's start, so the
                // year's episodes follow on (rules SW10, SW11a).
                let back_in_year = periods
                    .iter()
                    .filter(|q| q.start > p.start && !q.short_break && q.start <= cut)
                    .map(|q| q.start)
                    .min()
                    .filter(|_| p.end.is_some_and(|e| e >= ys));
                for (k, (worker, start)) in p.social_workers.iter().enumerate() {
                    let end = p
                        .social_workers
                        .get(k + 1)
                        .map(|w| w.1)
                        .or(back_in_year)
                        .or(p.end);
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
        // A care leaver this year is not in the OC2 cohort too (rule 187).
        if continuous_12m && !care_leavers.contains(&c) {
            tables
                .entry("oc2")
                .or_default()
                .push(oc2_row(id, child, ys, cut, &mut d, t));
        }
    }
    tables
}

/// A child's OC2 row (looked after continuously for 12 months at 31 March), each item asked
/// only at the ages DfE asks it: the SDQ from 4 to 16 (rules 157, 188), convictions from 10
/// (542), health promotion checks under 5 (545, 546); the annual health assessment, dental
/// check, immunisations and substance misuse of every child (191). Ages are at the start and
/// the end of the year, `end` being 31 March or an in-year extract's date (the rules judge an
/// extract's ages at its date).
fn oc2_row(id: &str, child: &Child, ys: i32, end: i32, d: &mut Draw, t: &Targets) -> Row {
    let age_start = age_on(from_epoch_days(child.dob), from_epoch_days(ys));
    let age_end = age_on(from_epoch_days(child.dob), from_epoch_days(end));
    let sdq_age = age_start >= 4 && age_end <= 16;
    let sdq = sdq_age && d.chance(0.8);
    let score = (t.sdq_mean + 7.0 * (d.unit() + d.unit() + d.unit() - 1.5) * 2.0)
        .round()
        .clamp(0.0, 40.0) as i32;
    let misuse = age_end >= 11 && d.chance(0.04);
    let yes_no = |yes: bool| if yes { "1" } else { "0" }.to_string();
    let received = misuse && d.chance(0.6);
    let convicted = d.chance(0.03);
    let health_check = d.chance(0.88);
    let health_assessment = d.chance(t.health_check_share);
    Row::from([
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
            if sdq || age_end < 4 {
                String::new()
            } else if !sdq_age && to_epoch_days(birthday(from_epoch_days(child.dob), 17)) >= ys {
                // SDQ1 (under 4 or over 16 at the assessment) for those turning 4 or 17 in
                // the year, 1 April included (rule 197B); nothing at all once 17 before the
                // year began (rule 189).
                "SDQ1".into()
            } else if !sdq_age {
                String::new()
            } else {
                d.pick(&[("SDQ2", 30.0), ("SDQ4", 50.0), ("SDQ5", 20.0)])
                    .into()
            },
        ),
        (
            "convicted",
            if age_end >= 10 {
                yes_no(convicted)
            } else {
                String::new()
            },
        ),
        (
            "health_check",
            if age_end < 5 {
                yes_no(health_check)
            } else {
                String::new()
            },
        ),
        ("immunisations", yes_no(d.chance(0.86))),
        ("teeth_check", yes_no(d.chance(t.dental_check_share))),
        ("health_assessment", yes_no(health_assessment)),
        ("substance_misuse", yes_no(misuse)),
        (
            "intervention_received",
            if misuse {
                yes_no(received)
            } else {
                String::new()
            },
        ),
        // Whether an intervention was offered is asked only when none was received (158).
        (
            "intervention_offered",
            if misuse && !received {
                yes_no(d.chance(0.7))
            } else {
                String::new()
            },
        ),
    ])
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

/// One of HEADER's groups (AMISSING, AREVIEW, OC2, …): the row's items as its elements.
fn group(out: &mut String, name: &str, row: &Row, items: &[(&str, &str)]) {
    out.push_str(&format!("      <{name}>\n"));
    for (tag, key) in items {
        element(out, 8, tag, row.get(*key));
    }
    out.push_str(&format!("      </{name}>\n"));
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
    let (episodes, reviews, missing, uasc, oc2, oc3, ad1, placed, perm, workers) = (
        by_child("episodes"),
        by_child("reviews"),
        by_child("missing"),
        by_child("uasc"),
        by_child("oc2"),
        by_child("oc3"),
        by_child("ad1"),
        by_child("placed_adoption"),
        by_child("prev_perm"),
        by_child("sw_episodes"),
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
            group(
                &mut out,
                "AMISSING",
                m,
                &[
                    ("MISSING", "missing"),
                    ("MIS_START", "mis_start"),
                    ("MIS_END", "mis_end"),
                ],
            );
        }
        for r in reviews.get(id).map(Vec::as_slice).unwrap_or(&[]) {
            group(
                &mut out,
                "AREVIEW",
                r,
                &[("REVIEW", "review"), ("REVIEW_CODE", "review_code")],
            );
        }
        if let Some(p) = perm.get(id).and_then(|v| v.first()) {
            group(
                &mut out,
                "PERMANENCE",
                p,
                &[
                    ("PREV_PERM", "prev_perm"),
                    ("LA_PERM", "la_perm"),
                    ("DATE_PERM", "date_perm"),
                ],
            );
        }
        if let Some(o) = oc2.get(id).and_then(|v| v.first()) {
            group(
                &mut out,
                "OC2",
                o,
                &[
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
                ],
            );
        }
        for p in placed.get(id).map(Vec::as_slice).unwrap_or(&[]) {
            group(
                &mut out,
                "AD_PLACED",
                p,
                &[
                    ("DATE_PLACED", "date_placed"),
                    ("DATE_PLACED_CEASED", "date_placed_ceased"),
                    ("REASON_PLACED_CEASED", "reason_placed_ceased"),
                ],
            );
        }
        for w in workers.get(id).map(Vec::as_slice).unwrap_or(&[]) {
            group(
                &mut out,
                "SWEPISODE",
                w,
                &[
                    ("SW_ID", "sw_id"),
                    ("SW_DECOM", "sw_decom"),
                    ("SW_DEC", "sw_dec"),
                    ("SW_REASON", "sw_reason"),
                ],
            );
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
                    // An unborn child's sex is U (rule 8750).
                    if !born {
                        "U"
                    } else if child.female {
                        "F"
                    } else {
                        "M"
                    }
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
            if let Some(died) = child.died.filter(|&d| d <= cut) {
                out.push_str(&format!(
                    "        <PersonDeathDate>{}</PersonDeathDate>\n",
                    iso(died)
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
                // The conference is recorded once (rule 2884): on its Section 47 module when that
                // is in the return, else at the episode's level.
                let in_return = |s: &&super::model::Section47| {
                    s.start <= cut && s.icpc.unwrap_or(s.start + 14) >= ys
                };
                if let Some(icpc) = ep
                    .s47
                    .iter()
                    .filter(|s| !in_return(s))
                    .filter_map(|s| s.icpc)
                    .find(|&i| i <= cut)
                {
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
                    if !in_return(&s) {
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
