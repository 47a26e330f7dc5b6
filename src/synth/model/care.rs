//! Care: a child coming into care (already known to children's social care, or referred on
//! the day), the period of care drawn whole when it starts, from its legal statuses and
//! placements to its reviews, missing incidents and social workers, and short breaks.

use super::permanence::{ENTRY_AGE, Route, route_days, settle_with_placements};
use super::{
    Adoption, CarePeriod, Child, Episode, NEW_TO_SERVICE, Simulation, YearParams, years_on,
};
use crate::domain::dates::{add_months, birthday, from_epoch_days, to_epoch_days};

/// A dated change in a period of care: (day, new legal status, new placement, same carer). A
/// move is an event with a placement or without a legal status.
pub(super) type Event = (i32, Option<&'static str>, Option<&'static str>, bool);

/// What the steps drawing a period of care share: the child as they were when it began, its
/// first day, their age then in whole years, and the year's parameters.
pub(super) struct Entry<'e> {
    pub(super) child: &'e Child,
    pub(super) start: i32,
    pub(super) age: i32,
    pub(super) p: &'e YearParams,
}

/// The course a period of care is drawn to take: the route out (a reversed adoption decision
/// turns into special guardianship), the day it ends, its dated changes, and any adoption or
/// reversed decision (decision, reversed, reason).
pub(super) struct Course {
    pub(super) route: Route,
    pub(super) end: i32,
    pub(super) events: Vec<Event>,
    pub(super) adoption: Option<Adoption>,
    pub(super) reversed: Option<(i32, i32, &'static str)>,
}

impl Simulation<'_> {
    /// A child starts to be looked after: mostly a child already open to children's social
    /// care (often on a plan), otherwise a child referred on the day.
    pub(super) fn start_care(&mut self, day: i32, cin_running: bool, p: &YearParams) {
        if self
            .draw
            .chance(self.mix.short_break_share / (1.0 + self.mix.short_break_share))
        {
            self.short_breaks(day);
            return;
        }
        let uasc = self.draw.chance(0.05);
        let mut child = None;
        // The entry age is drawn first so that children coming into care have the published
        // age profile whether or not they were already known.
        let entry_age = self.draw.pick(ENTRY_AGE);
        if cin_running && !uasc && self.draw.chance(1.0 - NEW_TO_SERVICE) {
            let n = self.history.cin.len();
            for _ in 0..60 {
                if n == 0 {
                    break;
                }
                let e = n - 1 - self.draw.index(n.min(3000));
                let ep = &self.history.cin[e];
                let c = &self.history.children[ep.child];
                let open = ep.referral <= day && ep.closure.is_none_or(|x| x > day) && !ep.nfa;
                let age = (day - c.dob) / 365;
                if open
                    && c.care_until.is_none_or(|u| u < day)
                    && c.dob <= day
                    && (age - entry_age).abs() <= 1
                    && day - c.dob < 17 * 365 + 300
                    && c.open_cin == Some(e)
                {
                    child = Some(ep.child);
                    break;
                }
            }
        }
        let child = match child {
            Some(c) => c,
            None => {
                let age_days = if uasc {
                    self.draw.uniform(14 * 365, 17 * 365 + 300)
                } else {
                    entry_age * 365 + self.draw.uniform(0, 364)
                };
                let c = self.new_child(day, age_days);
                if uasc {
                    let ch = &mut self.history.children[c];
                    ch.uasc = true;
                    ch.female = self.draw.chance(0.08);
                    ch.ethnic = self.draw.pick(&[
                        ("OOTH", 30.0),
                        ("AOTH", 25.0),
                        ("BAFR", 30.0),
                        ("WOTH", 5.0),
                        ("NOBT", 10.0),
                    ]);
                    ch.upn = None;
                }
                if cin_running || day >= 0 {
                    self.refer(c, day, p, true);
                }
                c
            }
        };
        self.care_period(child, day, p);
    }

    /// A period of care with its whole future, drawn on the day it starts.
    fn care_period(&mut self, child: usize, start: i32, p: &YearParams) {
        let c = self.history.children[child].clone();
        let age_days = (start - c.dob).max(0);
        // Whole years as DfE counts them (days ÷ 365 runs ahead near a birthday, which put
        // 15-year-olds in 16+ placements: rule 371).
        let age = years_on(c.dob, start);
        let eighteen = to_epoch_days(birthday(from_epoch_days(c.dob), 18));
        let entry = Entry {
            child: &c,
            start,
            age,
            p,
        };
        let route = self.route_out(&entry);
        let mut course = Course {
            route,
            end: start + route_days(route, age_days, &mut self.draw),
            events: vec![],
            adoption: None,
            reversed: None,
        };
        let first_ls = self.first_legal_status(&entry, route);
        let mut first_place = self.placement_type(age, c.uasc, route);
        // A child placed with parents is never accommodated under a single period of s20
        // (DfE rule 378).
        if first_ls == "V2" && first_place == "P1" {
            first_place = "U6";
        }
        let ls = self.after_emergency_order(start, first_ls, first_place, &mut course.events);
        self.legal_route(start, ls, &mut course);
        self.keep_off_year_end(&mut course);
        if course.route != Route::Adoption {
            course.end = course.end.min(eighteen);
        }
        let end = course.end;
        let rec = self.reason_ceased(course.route, end, eighteen);
        self.placement_moves(&entry, &mut course);
        course.events.sort_by_key(|e| e.0);
        course.events.retain(|e| e.0 > start && e.0 < end);
        // Build episodes.
        let need = self.need_in_care(c.uasc);
        let first = self.first_episode(&entry, first_ls, first_place, need);
        let episodes = self.episodes_from_events(&entry, course.route, first, &course.events);
        let rec = settle_with_placements(&mut course, rec, &episodes);
        let reviews = self.care_reviews(c.dob, start, end);
        let missing = self.missing_incidents(&entry, end);
        let social_workers = self.social_workers(start, end);
        let end_opt = Some(end);
        self.history.care.push(CarePeriod {
            child,
            start,
            end: end_opt,
            rec,
            episodes,
            adoption: course.adoption,
            reversed_decision: course.reversed,
            reviews,
            missing,
            social_workers,
            short_break: false,
        });
        let ch = &mut self.history.children[child];
        ch.care_until = Some(end);
        if rec == "E2" {
            ch.died = Some(end);
        }
        self.close_cin_on_entry(child, start, end, rec);
    }

    /// The legal status the child comes into care under.
    fn first_legal_status(&mut self, e: &Entry, route: Route) -> &'static str {
        let (c, age) = (e.child, e.age);
        match route {
            Route::Remand => "J1",
            _ if c.uasc => "V2",
            _ if age <= 4 => {
                self.draw
                    .pick(&[("C1", 50.0), ("V2", 38.0), ("L2", 7.0), ("L1", 5.0)])
            }
            _ => match self.draw.pick(&[
                ("V2", 52.0),
                ("C1", 36.0),
                ("L1", 6.0),
                ("L2", 3.0),
                ("J2", 1.0),
                ("C2", 2.0),
            ]) {
                // Remanded or detained only from the age of criminal responsibility (rule 358).
                "J2" if age < 10 => "V2",
                ls => ls,
            },
        }
    }

    /// The legal status after the first: police protection or an emergency protection order
    /// (and a rare first remand) give way within days to accommodation or an interim order.
    fn after_emergency_order(
        &mut self,
        start: i32,
        first_ls: &'static str,
        first_place: &'static str,
        events: &mut Vec<Event>,
    ) -> &'static str {
        let mut ls = first_ls;
        if matches!(first_ls, "L1" | "L2" | "J2") {
            let s20 = self.draw.chance(0.4);
            ls = if s20 && first_place != "P1" {
                "V2"
            } else {
                "C1"
            };
            // Police protection lasts at most 72 hours (rule 361); an EPO up to 8 days.
            let lasts = if first_ls == "L1" {
                self.draw.uniform(1, 3)
            } else {
                self.draw.uniform(1, 8)
            };
            events.push((start + lasts, Some(ls), None, false));
        }
        ls
    }

    /// The category of need recorded on a looked-after child's episodes.
    fn need_in_care(&mut self, uasc: bool) -> &'static str {
        if uasc {
            "N8"
        } else {
            self.draw.pick(&[
                ("N1", 64.0),
                ("N4", 7.0),
                ("N5", 12.0),
                ("N2", 4.0),
                ("N8", 7.0),
                ("N3", 3.0),
                ("N6", 2.0),
                ("N7", 1.0),
            ])
        }
    }

    /// Reviews: within 20 working days, then 3 months, then every 6 months.
    fn care_reviews(&mut self, dob: i32, start: i32, end: i32) -> Vec<(i32, &'static str)> {
        let mut reviews = vec![];
        let mut at = self
            .cal
            .add_working_days_epoch(start, self.draw.uniform(10, 21) as u32);
        let mut k = 0;
        while at < end {
            let age_now = years_on(dob, at);
            let code = if age_now < 4 {
                "PN0"
            } else {
                self.draw.pick(&[
                    ("PN1", 55.0),
                    ("PN2", 8.0),
                    ("PN3", 5.0),
                    ("PN4", 10.0),
                    ("PN5", 7.0),
                    ("PN6", 8.0),
                    ("PN7", 7.0),
                ])
            };
            reviews.push((at, code));
            let months = if k == 0 { 3 } else { 6 };
            at =
                to_epoch_days(add_months(from_epoch_days(at), months)) + self.draw.uniform(-14, 10);
            k += 1;
        }
        reviews
    }

    /// Missing and away incidents, teenagers mostly, none overlapping another.
    fn missing_incidents(&mut self, entry: &Entry, end: i32) -> Vec<(&'static str, i32, i32)> {
        let (c, start, age, p) = (entry.child, entry.start, entry.age, entry.p);
        let mut missing = vec![];
        let years = ((end - start) as f64 / 365.0).max(0.1);
        let teen = age >= 11 || (end - c.dob) / 365 >= 13;
        for (kind, rate) in [("M", p.missing_teen), ("A", p.away_teen)] {
            let prob = if teen { rate } else { rate * 0.05 };
            let n_years = years.ceil() as i32;
            for yi in 0..n_years {
                if self.draw.chance(prob) {
                    let n = 1 + self.draw.poisson(1.8);
                    for _ in 0..n {
                        let s = start + yi * 365 + self.draw.uniform(0, 364);
                        if s >= end {
                            continue;
                        }
                        let e = (s + self
                            .draw
                            .pick(&[(0, 40.0), (1, 35.0), (2, 15.0), (4, 10.0)]))
                        // Back before care ends: a child missing when care ends on the 18th
                        // birthday must have left care "for any other reason" (rule 580).
                        .min(end - 1);
                        missing.push((kind, s, e));
                    }
                }
            }
        }
        missing.sort_by_key(|m| (m.1, m.0));
        // Periods never overlap: one may start the day the last ended, not before (rule 574).
        let (mut last_start, mut last_end) = (i32::MIN, i32::MIN);
        missing.retain(|m| {
            let keep = m.1 > last_start && m.1 >= last_end;
            if keep {
                (last_start, last_end) = (m.1, m.2);
            }
            keep
        });
        missing
    }

    /// Social workers: a change every 9–18 months.
    fn social_workers(&mut self, start: i32, end: i32) -> Vec<(String, i32)> {
        let mut social_workers = vec![];
        let mut at = start;
        while at < end {
            let w = self.draw.uniform(1, self.workers as i32);
            social_workers.push((format!("SW{}{:04}", self.la_code, w), at));
            at += self.draw.uniform(270, 540);
        }
        social_workers
    }

    /// The child's CIN episode stays open while looked after; a plan ends on coming into care.
    fn close_cin_on_entry(&mut self, child: usize, start: i32, end: i32, rec: &'static str) {
        if let Some(e) = self.history.children[child].open_cin {
            let closure_reason = match rec {
                "E11" | "E12" => "RC1",
                "E45" | "E46" | "E47" | "E48" => "RC4",
                "E41" => "RC3",
                "E2" => "RC2",
                "E7" => "RC6",
                "E3" => "RC5",
                _ => "RC7",
            };
            // A death closes the CIN episode that day (CIN 8585Q asks for the date of death
            // with RC2; 8545Q for a death in the census year of the closure). The delay is
            // drawn for every child, so a death leaves the draws after it as they were.
            let extra = self.draw.uniform(0, 45);
            let extra = if rec == "E2" { 0 } else { extra };
            let ep = &mut self.history.cin[e];
            if ep.referral <= start && ep.closure.is_none_or(|x| x > start) {
                // Not before its own activity ends: a closure that tidy() moved
                // later would overlap a referral made in between (rule 8820).
                let latest = ep.latest_activity().filter(|&l| l != i32::MAX);
                ep.closure = Some((end + extra).max(latest.unwrap_or(i32::MIN)));
                ep.closure_reason = closure_reason;
                for plan in &mut ep.plans {
                    if plan.start <= start && plan.end.is_none_or(|x| x > start) {
                        // A plan lasts at least a day (rule 8840).
                        let plan_end = (start + self.draw.uniform(0, 30)).max(plan.start + 1);
                        plan.end = Some(plan_end);
                        plan.reviews.retain(|&r| r < plan_end);
                    }
                }
                // A CIN plan gives way to the care plan.
                ep.cin_plans.retain(|cp| cp.0 < start);
                for cp in &mut ep.cin_plans {
                    if cp.1.is_none_or(|x| x > start) {
                        cp.1 = Some(start);
                    }
                }
            }
        }
    }

    /// A disabled child receiving an agreed series of short breaks (V3): each stay is its own
    /// period of care; the engine must leave them out of children-looked-after figures.
    fn short_breaks(&mut self, day: i32) {
        let age_days = self.draw.uniform(5 * 365, 16 * 365);
        let child = self.new_child(day, age_days);
        self.history.children[child].disabilities = vec![self.draw.pick(&[
            ("LD", 40.0),
            ("AUT", 40.0),
            ("MOB", 20.0),
        ])];
        let months = self.draw.uniform(6, 30);
        // Short breaks are never a long-term foster placement (rule 384), and carry no
        // placement postcode or URN (rules 214, 398, 420).
        let place = if self.draw.chance(0.7) { "K2" } else { "U6" };
        let provider = "PR1";
        let (post, urn) = (String::new(), None);
        let mut at = day;
        let eighteen = to_epoch_days(birthday(
            from_epoch_days(self.history.children[child].dob),
            18,
        ));
        for _ in 0..months {
            let stay = self.draw.uniform(2, 4);
            // Short breaks are for children: none starts at 18 (rule 352).
            if at + stay >= eighteen {
                break;
            }
            self.history.care.push(CarePeriod {
                child,
                start: at,
                end: Some(at + stay),
                rec: "E13",
                episodes: vec![Episode {
                    decom: at,
                    rne: "S",
                    ls: "V3",
                    cin: "N2",
                    place,
                    provider,
                    pl_post: post.clone(),
                    urn: urn.clone(),
                    reason_change: None,
                }],
                adoption: None,
                reversed_decision: None,
                reviews: vec![],
                missing: vec![],
                social_workers: vec![],
                short_break: true,
            });
            at += self.draw.uniform(25, 35);
        }
        self.history.children[child].care_until = Some(at);
    }
}
