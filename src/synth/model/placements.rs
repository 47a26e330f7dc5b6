//! Placements: the placement a child starts in and every move after it, by placement type,
//! provider, postcode and Ofsted URN, so that DfE's derived distances, placement LAs and
//! stability measures come out as the LA's do.

use super::care::{Course, Entry, Event};
use super::permanence::Route;
use super::{Episode, FNV_OFFSET, Simulation, YearParams, fnv1a, years_on};

const PLACE_CHANGE_REASONS: &[(&str, f64)] = &[
    ("CARPL", 40.0),
    ("CREQB", 15.0),
    ("CREQO", 10.0),
    ("STAND", 5.0),
    ("CLOSE", 4.0),
    ("ALLEG", 2.0),
    ("APPRR", 1.0),
    ("CHILD", 8.0),
    ("LAREQ", 5.0),
    ("OTHER", 10.0),
];

/// The placement move rate in the first, second and later years of a period of care, relative
/// to the calibrated rate (read off `cspi synth --report`: 3+ placements in the year and
/// long-term stability together).
const MOVES_FIRST_YEAR: f64 = 2.0;
const MOVES_SECOND_YEAR: f64 = 0.7;
const MOVES_LATER: f64 = 0.35;

/// The events of one day taken together: a new legal status, and a move (to the placement an
/// event names, or with the same carer when `same`), if any.
struct DayChange {
    day: i32,
    ls: Option<&'static str>,
    place: Option<&'static str>,
    same: bool,
    moved: bool,
}

/// The changes of the first day among `events` (sorted by day), and the events after it.
fn day_change(events: &[Event]) -> (DayChange, &[Event]) {
    let day = events[0].0;
    let mut change = DayChange {
        day,
        ls: None,
        place: None,
        same: false,
        moved: false,
    };
    let mut i = 0;
    while i < events.len() && events[i].0 == day {
        if let Some(l) = events[i].1 {
            change.ls = Some(l)
        }
        if events[i].2.is_some() || events[i].1.is_none() {
            change.moved = true;
            change.same = events[i].3;
            if let Some(pl) = events[i].2 {
                change.place = Some(pl)
            }
        }
        i += 1;
    }
    (change, &events[i..])
}

impl Simulation<'_> {
    /// Placement moves: a Poisson process, busier in the first year and for teenagers, and
    /// settling after it (most children who stay long stay with one carer: DfE's long-term
    /// stability measure). Drawn by thinning at the first year's rate.
    pub(super) fn placement_moves(&mut self, e: &Entry, course: &mut Course) {
        let (start, end) = (e.start, course.end);
        let moves_rate = e.p.moves_per_year * if e.age >= 11 { 1.3 } else { 0.8 };
        let peak = moves_rate * MOVES_FIRST_YEAR;
        let mut t = start;
        loop {
            let gap = (-(1.0 - self.draw.unit()).ln() / (peak / 365.0)).round() as i32;
            t += gap.max(1);
            if t >= end {
                break;
            }
            let settled = match t - start {
                ..=364 => MOVES_FIRST_YEAR,
                365..=729 => MOVES_SECOND_YEAR,
                _ => MOVES_LATER,
            };
            if !self.draw.chance(settled / MOVES_FIRST_YEAR) {
                continue;
            }
            if let Some(a) = &course.adoption
                && t >= a.placed - 10
            {
                break;
            }
            let same_carer = self.draw.chance(0.08);
            course.events.push((t, None, None, same_carer));
        }
    }

    /// The first episode: the placement the child starts in, under the first legal status.
    pub(super) fn first_episode(
        &mut self,
        e: &Entry,
        ls: &'static str,
        place: &'static str,
        need: &'static str,
    ) -> Episode {
        let (place, provider, post, urn) = self.placement_details(place, &e.child.home_post, e.p);
        Episode {
            decom: e.start,
            rne: "S",
            ls,
            cin: need,
            place,
            provider,
            pl_post: post,
            urn,
            reason_change: None,
        }
    }

    /// The period's episodes: the first, then one for each day its legal status or placement
    /// changes (`events`, sorted by day).
    pub(super) fn episodes_from_events(
        &mut self,
        e: &Entry,
        route: Route,
        first: Episode,
        events: &[Event],
    ) -> Vec<Episode> {
        let mut episodes = vec![first];
        let mut rest = events;
        while !rest.is_empty() {
            let (change, after) = day_change(rest);
            rest = after;
            let prev = episodes.last().expect("first episode").clone();
            let ls_now = change.ls.unwrap_or(prev.ls);
            let mut ep = Episode {
                decom: change.day,
                ls: ls_now,
                ..prev.clone()
            };
            ep.reason_change = None;
            if change.moved {
                self.move_placement(e, route, &change, &prev, &mut ep);
            } else {
                if ls_now == prev.ls {
                    continue;
                }
                ep.rne = "L";
            }
            episodes.push(ep);
        }
        episodes
    }

    /// A move on the day into the new episode `ep`: its placement (with the same carer, or a
    /// new one), the reason for the change and the episode's reason for being new (RNE).
    fn move_placement(
        &mut self,
        e: &Entry,
        route: Route,
        change: &DayChange,
        prev: &Episode,
        ep: &mut Episode,
    ) {
        let (place, same) = self.placement_moved_to(e, route, change, prev, ep.ls);
        if same {
            ep.place = place;
            if place.starts_with('A') {
                ep.provider = "PR1";
            }
            ep.reason_change = Some("CARPL");
        } else {
            let (pl, pr, post, urn) = self.new_placement_details(e, place, prev);
            ep.place = pl;
            ep.provider = pr;
            ep.pl_post = post;
            ep.urn = urn;
            ep.reason_change = Some(if place.starts_with('A') {
                "CARPL"
            } else {
                self.draw.pick(PLACE_CHANGE_REASONS)
            });
        }
        ep.rne = match (change.ls.is_some() && change.ls != Some(prev.ls), same) {
            (true, true) => "U",
            (true, false) => "B",
            (false, true) => "T",
            (false, false) => "P",
        };
    }

    /// The placement type a move is to, and whether it stays with the same carer.
    fn placement_moved_to(
        &mut self,
        e: &Entry,
        route: Route,
        change: &DayChange,
        prev: &Episode,
        ls_now: &'static str,
    ) -> (&'static str, bool) {
        let c = e.child;
        let mut same = change.same;
        // A move with the same carer is a short-term foster placement becoming a
        // long-term one (or, from the events, foster carers adopting): the placement
        // code changes, so DfE's rule 435 sees a placement change. Any other move is to
        // a new carer.
        let same_carer_place = match prev.place {
            "U6" => Some("U4"),
            "U3" => Some("U1"),
            _ => None,
        };
        if same && change.place.is_none() && same_carer_place.is_none() {
            same = false;
        }
        // Placed for adoption with the current carers only from foster care (rule 336).
        let mut new_place = change.place;
        if same && new_place == Some("A3") && !prev.place.starts_with('U') {
            new_place = Some("A4");
            same = false;
        }
        let place = match new_place {
            Some(pl) => pl,
            None if same => same_carer_place.expect("checked above"),
            None => {
                let age_now = years_on(c.dob, change.day);
                // A move is to a new placement: never from parents back to parents
                // (rule 435 would see nothing change), never s20 with parents (378).
                match self.placement_type(age_now, c.uasc, route) {
                    "P1" if ls_now == "V2" || prev.place == "P1" => "U6",
                    pl => pl,
                }
            }
        };
        (place, same)
    }

    /// Provider, postcode and URN of a placement with a new carer.
    fn new_placement_details(
        &mut self,
        e: &Entry,
        place: &'static str,
        prev: &Episode,
    ) -> (&'static str, &'static str, String, Option<String>) {
        let c = e.child;
        let p = e.p;
        // A move changes something DfE can see (rule 435): redraw the rare exact
        // repeat of the placement left.
        let mut details = self.placement_details(place, &c.home_post, p);
        for _ in 0..5 {
            let (pl, pr, post, urn) = &details;
            if (*pl, *pr, post, urn) != (prev.place, prev.provider, &prev.pl_post, &prev.urn) {
                break;
            }
            details = self.placement_details(place, &c.home_post, p);
        }
        details
    }

    /// A placement type for a child of an age (unaccompanied asylum seekers of 16 and over, and
    /// children on remand, have their own mixes).
    pub(super) fn placement_type(&mut self, age: i32, uasc: bool, route: Route) -> &'static str {
        if uasc && age >= 16 {
            return self.draw.pick(&[("K3", 45.0), ("H5", 25.0), ("U6", 30.0)]);
        }
        if route == Route::Remand {
            return self.draw.pick(&[("R5", 40.0), ("K1", 30.0), ("K2", 30.0)]);
        }
        match age {
            ..=4 => self.draw.pick(&[
                ("U6", 58.0),
                ("U4", 6.0),
                ("U3", 16.0),
                ("U1", 4.0),
                ("U5", 3.0),
                ("P1", 6.0),
                ("R3", 5.0),
                ("U2", 2.0),
            ]),
            5..=11 => self.draw.pick(&[
                ("U6", 52.0),
                ("U4", 18.0),
                ("U3", 13.0),
                ("U1", 6.0),
                ("K2", 6.0),
                ("P1", 4.0),
                ("S1", 1.0),
            ]),
            12..=15 => self.draw.pick(&[
                ("U6", 42.0),
                ("U4", 16.0),
                ("U3", 9.0),
                ("U1", 4.0),
                ("K2", 22.0),
                ("P1", 3.0),
                ("R1", 1.0),
                ("S1", 2.0),
                ("K1", 1.0),
            ]),
            _ => self.draw.pick(&[
                ("U6", 30.0),
                ("U4", 10.0),
                ("U3", 6.0),
                ("K2", 18.0),
                ("K3", 18.0),
                // Independent living (P2) is not drawn: it could not be used from 28 October
                // 2023 (rule 217t), and a placement open over that day would fail.
                ("H5", 15.0),
                ("P1", 3.0),
            ]),
        }
    }

    /// Provider, placement postcode and URN for a placement type.
    fn placement_details(
        &mut self,
        place: &'static str,
        home_post: &str,
        p: &YearParams,
    ) -> (&'static str, &'static str, String, Option<String>) {
        let provider = match place {
            "U1" | "U2" | "U3" => "PR1",
            "U4" | "U5" | "U6" => {
                if self.draw.chance(0.6) {
                    "PR1"
                } else {
                    "PR4"
                }
            }
            "K2" => self
                .draw
                .pick(&[("PR4", 75.0), ("PR1", 18.0), ("PR5", 7.0)]),
            "K1" => {
                if self.draw.chance(0.5) {
                    "PR1"
                } else {
                    "PR2"
                }
            }
            "P1" => "PR0",
            "A3" | "A4" | "A5" | "A6" => {
                if self.draw.chance(0.8) {
                    "PR1"
                } else {
                    "PR5"
                }
            }
            "H5" | "K3" | "P2" => "PR4",
            "R5" => "PR3",
            _ => self.draw.pick(&[("PR4", 60.0), ("PR5", 40.0)]),
        };
        // Own provision other than foster and adoption placements is in the LA's own area
        // (rule 1015); a placement is never at the home address unless with parents (392d).
        let own_only = provider == "PR1" && !place.starts_with('U') && !place.starts_with('A');
        let post = if place == "P1" {
            home_post.to_string()
        } else {
            let g = self.geography;
            // DfE's distance share counts placements outside the LA and over 20 miles; the far
            // pool is both, and some near and own placements are too (the factor is read off
            // `cspi synth --report`).
            let far = self.draw.chance(p.far_share * 0.6);
            let pool = if own_only {
                &g.own
            } else if far && !g.far.is_empty() {
                &g.far
            } else if !far && self.draw.chance(0.25) && !g.near.is_empty() {
                &g.near
            } else {
                &g.own
            };
            let mut post = pool[self.draw.index(pool.len())].postcode.clone();
            for _ in 0..8 {
                if post != home_post {
                    break;
                }
                post = pool[self.draw.index(pool.len())].postcode.clone();
            }
            post
        };
        let urn = needs_urn(place).then(|| self.urn(place, provider));
        (place, provider, post, urn)
    }

    /// An Ofsted URN for the placement's provider: the LA's own fostering service or adoption
    /// agency (one each), or one of a few agencies and homes per kind, fixed for the LA so the
    /// same provider keeps its number from year to year.
    fn urn(&mut self, place: &str, provider: &str) -> String {
        let kind = place.chars().next().unwrap_or('X');
        let pool = if provider == "PR1" && matches!(kind, 'U' | 'A') {
            1
        } else {
            12
        };
        let k = self.draw.index(pool);
        let key = format!("{}:{kind}:{provider}:{k}", self.la_code);
        format!("SC{:06}", 100_000 + fnv1a(FNV_OFFSET, &key) % 900_000)
    }
}

/// Whether a placement type is one Ofsted registers, so that its episodes carry the provider's
/// URN (DfE rule 218 as it reads from 2024/25; the writer blanks it for the types earlier years
/// exempt, rule 222).
fn needs_urn(place: &str) -> bool {
    !matches!(place, "P1" | "P3" | "R1" | "R2" | "R5" | "Z1") && !place.starts_with('T')
}
