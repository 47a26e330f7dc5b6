//! Writing the returns an LA would have sent: each collection year's 903 and CIN census are the
//! simulated history seen from that year's 31 March (or an in-year date for an extract), with
//! everything later left blank, in the statutory layouts and that year's code lists. The CIN
//! census is written in `write/cin.rs`, the 903's XML layout in `write/xml.rs`, both as rows
//! of the declared tables through the element tree `write/shape.rs` compiles from
//! `data/formats/*.yaml`; the 903's CSV files take their headers from the same declaration and
//! are written by polars (RFC 4180 quoting).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use polars::prelude::{Column, DataFrame, PolarsResult};

use super::calibrate::Targets;
use super::model::{CarePeriod, Child, Draw, History, year_end_day, year_start_day};
use crate::domain::dates::{
    age_on, birthday, format_dmy, format_iso, from_epoch_days, to_epoch_days,
};
use crate::domain::io::{write_atomic, write_csv};
use crate::ingest::spec::{FormatSpec, TableSpec};

mod cin;
mod shape;
mod xml;

pub use cin::write_cin;
use xml::ssda903_xml;

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

/// A year's 903 tables: canonical table name → rows.
type Tables = BTreeMap<&'static str, Vec<Row>>;

/// Adds rows to a table, the table appearing only once it has a row.
fn push_rows(tables: &mut Tables, name: &'static str, rows: impl IntoIterator<Item = Row>) {
    for row in rows {
        tables.entry(name).or_default().push(row);
    }
}

/// A year's 903 as its return sees the history: the run's seed (for the writer's own draws),
/// the year, its first day, the last day it sees (31 March or an extract's date) and the
/// year's targets.
struct Year903<'h> {
    h: &'h History,
    seed: u64,
    year: i32,
    ys: i32,
    cut: i32,
    t: &'h Targets,
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
    let y = Year903 {
        h,
        seed,
        year,
        ys,
        cut,
        t,
    };
    let mut tables = Tables::new();
    let mut by_child: BTreeMap<usize, Vec<&CarePeriod>> = BTreeMap::new();
    for p in &h.care {
        by_child.entry(p.child).or_default().push(p);
    }
    let mut in_return: BTreeMap<&str, usize> = BTreeMap::new();
    let mut care_leavers = std::collections::BTreeSet::new();
    for (&c, periods) in &by_child {
        let child = &h.children[c];
        if periods.iter().any(|p| y.in_year(p)) {
            in_return.insert(&child.id, c);
        }
        for row in y.care_leaver_rows(child, periods) {
            in_return.insert(&child.id, c);
            care_leavers.insert(c);
            tables.entry("oc3").or_default().push(row);
        }
    }
    for (&id, &c) in &in_return {
        let periods = by_child.get(&c).map(Vec::as_slice).unwrap_or(&[]);
        y.child_rows(&mut tables, id, c, periods, care_leavers.contains(&c));
    }
    tables
}

impl Year903<'_> {
    /// Whether a period of care is in the year's return: begun by its last day and not ended
    /// before its first.
    fn in_year(&self, p: &CarePeriod) -> bool {
        p.start <= self.cut && p.end.is_none_or(|e| e >= self.ys)
    }

    /// The OC3 rows of a young person at each 17th–21st birthday in the year at which they
    /// are a care leaver.
    fn care_leaver_rows(&self, child: &Child, periods: &[&CarePeriod]) -> Vec<Row> {
        let (ys, cut) = (self.ys, self.cut);
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
        let mut rows = vec![];
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
            rows.push(self.oc3_row(child, age));
        }
        rows
    }

    /// A care leaver's OC3 row at a birthday: in touch, activity and accommodation, at the
    /// LA's published shares for the age.
    fn oc3_row(&self, child: &Child, age: i32) -> Row {
        let t = self.t;
        let mut d = draw_for(self.seed, &child.id, self.year, 3);
        let in_touch = in_touch_status(&mut d, age, t);
        let (activ, accom) = if in_touch == "YES" {
            activity_and_accommodation(&mut d, age, t)
        } else {
            ("0".to_string(), "0".to_string())
        };
        Row::from([
            ("child", child.id.clone()),
            ("dob", dmy(child.dob)),
            ("in_touch", in_touch.to_string()),
            ("activ", activ),
            ("accom", accom),
        ])
    }

    /// Every row of a child in the return but OC3: the header, UASC, each period's episodes,
    /// reviews, missing incidents, previous permanence, adoption and social workers, and OC2.
    fn child_rows(
        &self,
        tables: &mut Tables,
        id: &str,
        c: usize,
        periods: &[&CarePeriod],
        care_leaver: bool,
    ) {
        let (year, ys, cut) = (self.year, self.ys, self.cut);
        let child = &self.h.children[c];
        let mut d = draw_for(self.seed, id, year, 1);
        let looked_after = periods.iter().any(|p| self.in_year(p));
        // UASC information only for children looked after in the year (rule 1014). The XML
        // states every child's UASC status (1/0) in HEADER; the CSV has no such column, a UASC
        // child having a row of the UASC table instead.
        let uasc = child.uasc && looked_after;
        let mut header = self.header_row(id, child, periods);
        header.insert("uasc", if uasc { "1" } else { "0" }.into());
        push_rows(tables, "header", [header]);
        if uasc {
            push_rows(
                tables,
                "uasc",
                [Row::from([
                    ("child", id.to_string()),
                    ("sex", sex_903(child.female, year).to_string()),
                    ("dob", dmy(child.dob)),
                    ("duc", dmy(eighteenth(child))),
                    ("status", "1".to_string()),
                ])],
            );
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
            push_rows(tables, "episodes", self.episode_rows(id, child, p));
            push_rows(tables, "reviews", self.review_rows(id, child, p));
            push_rows(tables, "missing", self.missing_rows(id, child, p));
            // One previous-permanence row per child starting a period of care in the year
            // (rule 630 asks it of every new start, short breaks too).
            if p.start >= ys && p.start <= cut && !prev_perm_written {
                prev_perm_written = true;
                push_rows(tables, "prev_perm", [self.prev_perm_row(id, child, p)]);
            }
            push_rows(
                tables,
                "placed_adoption",
                self.placed_adoption_row(id, child, p),
            );
            push_rows(tables, "ad1", self.ad1_row(id, child, p));
            if year >= 2024 {
                push_rows(
                    tables,
                    "sw_episodes",
                    self.sw_episode_rows(id, child, p, periods),
                );
            }
        }
        // A care leaver this year is not in the OC2 cohort too (rule 187).
        if continuous_12m && !care_leaver {
            push_rows(tables, "oc2", [oc2_row(id, child, ys, cut, &mut d, self.t)]);
        }
    }

    /// A child's header row, with MOTHER for a girl looked after other than for short breaks.
    fn header_row(&self, id: &str, child: &Child, periods: &[&CarePeriod]) -> Row {
        let (seed, year, cut) = (self.seed, self.year, self.cut);
        let age_at_cut = (cut - child.dob) / 365;
        let non_respite = periods.iter().any(|p| !p.short_break && self.in_year(p));
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
            // under school age, UN2 never attended school. Not UN4 ("newly arrived"), even for
            // a UASC child: it is only for a child looked after for a week or less (rule 210).
            (
                "upn",
                match (&child.upn, age_at_cut >= 4) {
                    (Some(upn), true) => upn.clone(),
                    (_, false) => "UN1".to_string(),
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
        header
    }

    /// The episodes of a period in the year, each as the year's code lists write it.
    fn episode_rows(&self, id: &str, child: &Child, p: &CarePeriod) -> Vec<Row> {
        let (year, ys, cut) = (self.year, self.ys, self.cut);
        let mut rows = vec![];
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
            rows.push(Row::from([
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
        rows
    }

    /// The period's reviews held in the year.
    fn review_rows(&self, id: &str, child: &Child, p: &CarePeriod) -> Vec<Row> {
        let mut rows = vec![];
        for &(day, code) in &p.reviews {
            if day >= self.ys && day <= self.cut {
                rows.push(Row::from([
                    ("child", id.to_string()),
                    ("dob", dmy(child.dob)),
                    ("review", dmy(day)),
                    ("review_code", code.to_string()),
                ]));
            }
        }
        rows
    }

    /// The period's missing and away incidents in the year.
    fn missing_rows(&self, id: &str, child: &Child, p: &CarePeriod) -> Vec<Row> {
        let (ys, cut) = (self.ys, self.cut);
        let mut rows = vec![];
        // A period still open at the start of the year is reported again (rule 576).
        for &(kind, start, end) in &p.missing {
            if start <= cut && (start >= ys || end >= ys) {
                rows.push(Row::from([
                    ("child", id.to_string()),
                    ("dob", dmy(child.dob)),
                    ("missing", kind.to_string()),
                    ("mis_start", dmy(start)),
                    ("mis_end", if end <= cut { dmy(end) } else { String::new() }),
                ]));
            }
        }
        rows
    }

    /// The previous permanence option of a child starting a period of care in the year.
    fn prev_perm_row(&self, id: &str, child: &Child, p: &CarePeriod) -> Row {
        let mut pd = draw_for(self.seed, id, to_epoch_days(from_epoch_days(p.start)), 5);
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
            (self.h.la_code.clone(), date)
        } else {
            (String::new(), String::new())
        };
        Row::from([
            ("child", id.to_string()),
            ("dob", dmy(child.dob)),
            ("prev_perm", prev.to_string()),
            ("la_perm", la_perm),
            ("date_perm", date_perm),
        ])
    }

    /// The period's decision to place for adoption, when made by the year's last day and not
    /// reversed before the year.
    fn placed_adoption_row(&self, id: &str, child: &Child, p: &CarePeriod) -> Option<Row> {
        let (ys, cut) = (self.ys, self.cut);
        let decision = p
            .adoption
            .as_ref()
            .map(|a| a.decision)
            .or(p.reversed_decision.map(|r| r.0));
        // A reversed decision is reported up to the year it was reversed in, not after
        // (rule 118: a reversal before the collection year).
        let reversed_before =
            p.adoption.is_none() && p.reversed_decision.is_some_and(|(_, when, _)| when < ys);
        let decision = decision.filter(|&x| x <= cut && !reversed_before)?;
        // An adopted child's decision was never reversed: its ceased date and reason stay
        // blank (DfE rule 558); only a reversed decision carries them.
        let (ceased, reason) = match (&p.adoption, p.reversed_decision) {
            (None, Some((_, when, reason))) if when <= cut => (dmy(when), reason.to_string()),
            _ => (String::new(), String::new()),
        };
        Some(Row::from([
            ("child", id.to_string()),
            ("dob", dmy(child.dob)),
            ("date_placed", dmy(decision)),
            ("date_placed_ceased", ceased),
            ("reason_placed_ceased", reason),
        ]))
    }

    /// The period's adoption, when the order was made in the year.
    fn ad1_row(&self, id: &str, child: &Child, p: &CarePeriod) -> Option<Row> {
        let a = p
            .adoption
            .as_ref()
            .filter(|a| a.order >= self.ys && a.order <= self.cut)?;
        Some(Row::from([
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
        ]))
    }

    /// The period's social worker episodes in the year (asked from 2023/24).
    fn sw_episode_rows(
        &self,
        id: &str,
        child: &Child,
        p: &CarePeriod,
        periods: &[&CarePeriod],
    ) -> Vec<Row> {
        let (ys, cut) = (self.ys, self.cut);
        // A child back in care later in the year kept a social worker between the two
        // periods: the last worker's episode runs to the next period's start, so the
        // year's episodes follow on (rules SW10, SW11a).
        let back_in_year = periods
            .iter()
            .filter(|q| q.start > p.start && !q.short_break && q.start <= cut)
            .map(|q| q.start)
            .min()
            .filter(|_| p.end.is_some_and(|e| e >= ys));
        let mut rows = vec![];
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
            rows.push(Row::from([
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
        rows
    }
}

/// Whether a care leaver is in touch at a birthday (YES, or why not).
fn in_touch_status(d: &mut Draw, age: i32, t: &Targets) -> &'static str {
    if age <= 18 {
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
    }
}

/// A care leaver in touch: their activity (ACTIV) and accommodation with whether it is
/// suitable (ACCOM), at the LA's shares in education, employment or training and in suitable
/// accommodation.
fn activity_and_accommodation(d: &mut Draw, age: i32, t: &Targets) -> (String, String) {
    let (eet, suitable) = if age <= 18 {
        (t.eet_17_18_share, t.suitable_17_18_share)
    } else {
        (t.eet_19_21_share, t.suitable_19_21_share)
    };
    // Only those in touch have an activity and accommodation, but every young
    // person is in the shares' denominators, so the draws are scaled up by the
    // share in touch.
    let in_touch_share = if age <= 18 {
        0.93
    } else {
        (0.93 - t.not_in_touch_19_21_share).max(0.5)
    };
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
    let letter = accommodation_type(d, age);
    // No fixed abode (S) and custody (X) are never suitable in DfE's code list, so
    // the other homes are suitable a little more often to keep the LA's share (X is
    // 2 of the 100 weights at 17-18; S and X 4 of 102 at 19-21). The draw is made
    // either way, so the rest of the stream stays as it was.
    let can_be_suitable = if age <= 18 { 0.98 } else { 0.96 };
    let drawn = d.chance((suitable / in_touch_share / can_be_suitable).clamp(0.05, 0.99));
    let ok = drawn && !matches!(letter, "S" | "X");
    (
        activ.to_string(),
        format!("{letter}{}", if ok { 1 } else { 2 }),
    )
}

/// The letter of a care leaver's accommodation code (ACCOM without its suitability digit).
fn accommodation_type(d: &mut Draw, age: i32) -> &'static str {
    if age <= 18 {
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
    }
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
                let path = dir.join("ssda903").join(format!("{}.csv", table.name));
                let mut df = csv_frame(table, rows).map_err(|e| io::Error::other(e.to_string()))?;
                write_csv(&mut df, &path)?;
                bytes += std::fs::metadata(&path)?.len();
            }
        }
        Ssda903Format::Xml => {
            let text = ssda903_xml(tables, year)?;
            bytes += text.len() as u64;
            write_atomic(&dir.join("ssda903.xml"), |w| w.write_all(&text))?;
        }
    }
    Ok(bytes)
}

/// A table's rows as its CSV file: a text column per `csv` header, in the spec's order, for
/// polars' writer to quote as RFC 4180 says (a cell with a comma, quote or line break). A
/// blank cell is null: polars writes an empty string as `""`, to tell it from a missing value,
/// and the return leaves a blank cell empty.
fn csv_frame(table: &TableSpec, rows: &[Row]) -> PolarsResult<DataFrame> {
    let columns = table
        .columns
        .iter()
        .filter_map(|c| {
            let header = c.csv.as_deref()?;
            let cells: Vec<Option<&str>> = rows
                .iter()
                .map(|row| {
                    row.get(c.name.as_str())
                        .map(String::as_str)
                        .filter(|v| !v.is_empty())
                })
                .collect();
            Some(Column::new(header.into(), cells))
        })
        .collect();
    DataFrame::new(rows.len(), columns)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::codes::CodeLists;
    use crate::ingest::ssda903_csv;
    use std::sync::Arc;

    /// A cell holding a comma and quotes is quoted by the writer (RFC 4180) and read back
    /// unchanged by the 903 CSV reader; the row's other cells stay where they are.
    #[test]
    fn a_cell_with_a_comma_and_quotes_round_trips_through_the_csv_reader() {
        let upn = r#"Flat 2, "The Old School""#;
        let header = Row::from([
            ("child", "C1".to_string()),
            ("sex", "1".to_string()),
            ("dob", "01/02/2015".to_string()),
            ("ethnic", "WBRI".to_string()),
            ("upn", upn.to_string()),
            ("uasc", "0".to_string()),
        ]);
        let tables = Tables::from([("header", vec![header])]);
        let dir = tempfile::tempdir().unwrap();
        write_ssda903(dir.path(), &tables, 2024, Ssda903Format::Csv).unwrap();
        let bytes = std::fs::read(dir.path().join("ssda903/header.csv")).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text,
            "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n\
             C1,1,01/02/2015,WBRI,\"Flat 2, \"\"The Old School\"\"\",,\n"
        );
        let spec = FormatSpec::ssda903();
        let out = ssda903_csv::read(
            &bytes,
            spec,
            CodeLists::ssda903(),
            2024,
            &Arc::from("header.csv"),
        );
        let df = out
            .builder
            .unwrap()
            .finish("925", 2024, "header.csv")
            .unwrap();
        let cell = |column: &str| {
            df.column(column)
                .unwrap()
                .str()
                .unwrap()
                .get(0)
                .map(str::to_string)
        };
        assert_eq!(cell("upn").as_deref(), Some(upn));
        assert_eq!(cell("ethnic").as_deref(), Some("WBRI"));
        assert_eq!(cell("mother"), None);
    }
}
