//! Referral and assessment: who a referral is about, the referral itself, the single assessment
//! that follows it, and what the assessment leads to (a CIN plan, no further action, or an
//! enquiry: see `protection.rs`).

use super::{
    ASSESSMENT_SIGMA, Assessment, CIN_SIGMA, CinEpisode, NOT_IN_NEED, Simulation, YearParams,
};
use crate::domain::dates::{birthday, from_epoch_days, to_epoch_days};

const REFERRAL_SOURCES: &[(&str, f64)] = &[
    ("6", 29.0),
    ("2A", 20.0),
    ("3A", 2.0),
    ("3B", 2.0),
    ("3C", 1.0),
    ("3D", 3.0),
    ("3E", 3.0),
    ("3F", 5.0),
    ("5A", 4.0),
    ("5B", 3.0),
    ("5C", 2.0),
    ("5D", 3.0),
    ("1A", 4.0),
    ("1B", 1.0),
    ("1C", 1.0),
    ("1D", 2.0),
    ("8", 6.0),
    ("4", 2.0),
    ("2B", 2.0),
    ("7", 2.0),
    ("9", 1.0),
    ("10", 2.0),
];
const PRIMARY_NEED: &[(&str, f64)] = &[
    ("N1", 57.0),
    ("N2", 9.0),
    ("N3", 3.0),
    ("N4", 9.0),
    ("N5", 14.0),
    ("N6", 2.0),
    ("N7", 0.5),
    ("N8", 3.0),
    ("N9", 1.5),
    ("N0", 1.0),
];

const FACTORS: &[(&str, f64)] = &[
    ("3B", 12.0),
    ("3A", 10.0),
    ("4B", 12.0),
    ("4A", 7.0),
    ("2B", 5.0),
    ("1B", 4.0),
    ("16A", 7.0),
    ("17A", 6.0),
    ("18B", 3.0),
    ("19B", 1.0),
    ("5A", 2.0),
    ("6A", 1.0),
    ("7A", 1.0),
    ("10A", 2.0),
    ("11A", 1.5),
    ("14A", 2.0),
    ("15A", 2.0),
    ("24A", 1.0),
    ("20", 3.0),
    ("21", 1.0),
    ("3C", 2.0),
    ("2A", 1.0),
    ("1A", 0.5),
    ("4C", 1.0),
    ("9A", 0.5),
    ("13A", 0.5),
    ("12A", 0.2),
];

impl Simulation<'_> {
    fn referral_age_days(&mut self) -> i32 {
        // Referrals peak in the teenage years and for babies (including unborn children).
        let age = self.draw.pick(&[
            (0, 12.0),
            (1, 5.0),
            (2, 5.0),
            (3, 5.0),
            (4, 5.0),
            (5, 5.0),
            (6, 5.0),
            (7, 5.0),
            (8, 5.0),
            (9, 5.0),
            (10, 5.5),
            (11, 6.0),
            (12, 6.5),
            (13, 7.0),
            (14, 7.5),
            (15, 7.5),
            (16, 6.5),
            (17, 4.0),
        ]);
        age * 365 + self.draw.uniform(0, 364)
    }

    /// The child a referral is about: a re-referral of a child referred in the last 12 months,
    /// a child known from longer ago, or a child new to children's social care.
    pub(super) fn referred_child(&mut self, day: i32, p: &YearParams) -> usize {
        while self.recent.front().is_some_and(|&(_, d)| d < day - 365) {
            self.recent.pop_front();
        }
        if self.draw.chance(p.rereferral) && !self.recent.is_empty() {
            for _ in 0..12 {
                let (c, _) = self.recent[self.draw.index(self.recent.len())];
                let child = &self.history.children[c];
                let free = child
                    .open_cin
                    .is_none_or(|e| self.history.cin[e].closure.is_some_and(|x| x < day));
                let in_care = child.care_until.is_some_and(|u| u >= day);
                let eighteen = to_epoch_days(birthday(from_epoch_days(child.dob), 18));
                if free
                    && !in_care
                    && child.died.is_none()
                    && child
                        .last_referral
                        .is_some_and(|l| l >= day - 365 && l < day)
                    && eighteen > day + 30
                {
                    return c;
                }
            }
        }
        let age = self.referral_age_days();
        if self.draw.chance(0.08) {
            // Unborn: the referral is before birth.
            let c = self.new_child(day, 0);
            let due = day + self.draw.uniform(20, 150);
            self.history.children[c].dob = due;
            return c;
        }
        self.new_child(day, age)
    }

    /// A referral and everything it leads to, sampled now. `for_care` marks the referral of a
    /// child coming into care who was not open to children's social care.
    pub(super) fn refer(
        &mut self,
        child: usize,
        day: i32,
        p: &YearParams,
        for_care: bool,
    ) -> usize {
        let cal = self.cal;
        let mut ep = CinEpisode {
            child,
            referral: day,
            source: self.draw.pick(REFERRAL_SOURCES),
            need: self.draw.pick(PRIMARY_NEED),
            nfa: false,
            closure: None,
            closure_reason: "RC7",
            assessments: vec![],
            cin_plans: vec![],
            s47: vec![],
            plans: vec![],
        };
        if !for_care && self.draw.chance(p.nfa) {
            ep.nfa = true;
            ep.closure = Some(cal.add_working_days_epoch(day, self.draw.uniform(0, 2) as u32));
            // No assessment, so not "closed after assessment" (RC8/RC9: query 8825Q).
            ep.closure_reason = "RC7";
            return self.push_episode(ep);
        }
        let assessment = self.assessment(day, p);
        let authorised = assessment.authorised;
        ep.assessments.push(assessment);
        // An enquiry whose conference puts the child on a plan decides the episode's closure.
        if !for_care && self.draw.chance(p.s47_given_assessed) && self.enquiry(&mut ep, p) {
            return self.push_episode(ep);
        }
        if for_care {
            ep.closure = None;
            return self.push_episode(ep);
        }
        self.after_assessment(&mut ep, authorised, p);
        self.push_episode(ep)
    }

    /// The single assessment a referral leads to: when it starts and is authorised, and the
    /// factors it identified.
    fn assessment(&mut self, day: i32, p: &YearParams) -> Assessment {
        let cal = self.cal;
        let a_start = cal.add_working_days_epoch(
            day,
            self.draw
                .pick(&[(0u32, 55.0), (1, 25.0), (2, 10.0), (3, 6.0), (5, 4.0)]),
        );
        let wd = self
            .draw
            .lognormal(p.assessment_median_wd, ASSESSMENT_SIGMA)
            .round()
            .clamp(1.0, 200.0) as u32;
        let authorised = cal.add_working_days_epoch(a_start, wd);
        let n_factors = self
            .draw
            .pick(&[(1usize, 35.0), (2, 35.0), (3, 20.0), (4, 10.0)]);
        let mut factors: Vec<&'static str> =
            (0..n_factors).map(|_| self.draw.pick(FACTORS)).collect();
        factors.sort_unstable();
        factors.dedup();
        // 21 (no factors identified) stands alone (rule 8869).
        if factors.len() > 1 {
            factors.retain(|&f| f != "21");
        }
        Assessment {
            start: a_start,
            authorised,
            factors,
        }
    }

    /// How an episode with no plan ends after its assessment: closed as not in need soon after
    /// the authorisation, or after a spell on a CIN plan.
    fn after_assessment(&mut self, ep: &mut CinEpisode, authorised: i32, p: &YearParams) {
        let cal = self.cal;
        if self.draw.chance(NOT_IN_NEED) {
            ep.closure =
                Some(cal.add_working_days_epoch(authorised, self.draw.uniform(0, 3) as u32));
            // Closed after assessment (RC8/RC9) only when nothing else happened: an enquiry
            // makes it RC7 (rule 2990).
            let after_assessment = if self.draw.chance(0.4) { "RC9" } else { "RC8" };
            ep.closure_reason = if ep.s47.is_empty() {
                after_assessment
            } else {
                "RC7"
            };
        } else {
            let days = self
                .draw
                .lognormal(
                    p.cin_mean_days / (CIN_SIGMA * CIN_SIGMA / 2.0).exp(),
                    CIN_SIGMA,
                )
                .round() as i32;
            let closure = authorised + days.max(14);
            ep.cin_plans
                .push((authorised + self.draw.uniform(0, 10), Some(closure)));
            ep.closure = Some(closure);
            ep.closure_reason = self.draw.pick(&[("RC7", 95.0), ("RC5", 4.0), ("RC6", 1.0)]);
        }
    }

    /// Adds the episode to the history as the child's open one, and the child to those a
    /// re-referral may be about.
    fn push_episode(&mut self, mut ep: CinEpisode) -> usize {
        // Closed no earlier than its last activity (a conference after the assessment), now
        // rather than in tidy(): a re-referral drawn in between would overlap it (rule 8820).
        if let (Some(closure), Some(latest)) = (ep.closure, ep.latest_activity())
            && latest != i32::MAX
            && latest > closure
        {
            ep.closure = Some(latest);
        }
        let child = ep.child;
        let day = ep.referral;
        self.history.cin.push(ep);
        let index = self.history.cin.len() - 1;
        let c = &mut self.history.children[child];
        c.last_referral = Some(day);
        c.open_cin = Some(index);
        self.recent.push_back((child, day));
        index
    }
}
