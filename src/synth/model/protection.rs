//! Child protection: section 47 enquiries, initial child protection conferences, and the plans
//! they start, with their reviews and the count of earlier plans.

use super::{CinEpisode, PLAN_SIGMA, Plan, STEP_DOWN_DAYS, Section47, Simulation, YearParams};
use crate::domain::dates::{add_months, from_epoch_days, to_epoch_days};

const CATEGORIES: &[(&str, f64)] = &[
    ("NEG", 50.0),
    ("EMO", 38.0),
    ("PHY", 6.0),
    ("SAB", 4.0),
    ("MUL", 2.0),
];

impl Simulation<'_> {
    /// A section 47 enquiry after the assessment, its conference and any plan it starts. True
    /// when a plan started: the episode then closes a step-down after the plan ends.
    pub(super) fn enquiry(&mut self, ep: &mut CinEpisode, p: &YearParams) -> bool {
        let cal = self.cal;
        let (child, day) = (ep.child, ep.referral);
        let s_start = cal.add_working_days_epoch(
            day,
            self.draw
                .pick(&[(0u32, 45.0), (1, 25.0), (2, 12.0), (4, 10.0), (8, 8.0)]),
        );
        let icpc_target = cal.add_working_days_epoch(s_start, 15);
        if self.draw.chance(p.icpc_given_s47) {
            let late = !self.draw.chance(p.icpc_timely);
            let wd = if late {
                16 + self.draw.lognormal(6.0, 0.8).round() as u32
            } else {
                self.draw.uniform(6, 15) as u32
            };
            let icpc = cal.add_working_days_epoch(s_start, wd.min(120));
            ep.s47.push(Section47 {
                start: s_start,
                icpc_target,
                icpc: Some(icpc),
                icpc_not_required: false,
            });
            if self.draw.chance(p.plan_given_icpc) {
                let plan = self.new_plan(child, icpc, p);
                let end = plan.end.expect("sampled");
                ep.plans.push(plan);
                ep.closure =
                    Some(end + self.draw.lognormal(STEP_DOWN_DAYS * 0.8, 0.6).round() as i32);
                ep.closure_reason = "RC7";
                return true;
            }
        } else {
            ep.s47.push(Section47 {
                start: s_start,
                icpc_target,
                icpc: None,
                // An enquiry that led to no conference says so, so that its episode can
                // close (rule 8868).
                icpc_not_required: true,
            });
        }
        false
    }

    /// A child protection plan starting at a conference: its length (a long one sometimes ending
    /// at the review before two years), categories of abuse, reviews and earlier plans.
    fn new_plan(&mut self, child: usize, start: i32, p: &YearParams) -> Plan {
        let days = self
            .draw
            .lognormal(
                p.plan_mean_days / (PLAN_SIGMA * PLAN_SIGMA / 2.0).exp(),
                PLAN_SIGMA,
            )
            .round()
            .max(14.0) as i32;
        // The review day is drawn for every plan, the cut only for a long one.
        let review_at = self.draw.uniform(560, 729);
        let days = if days >= 730 && self.draw.chance(p.plan_long_cut) {
            review_at
        } else {
            days
        };
        let end = start + days;
        let initial = self.draw.pick(CATEGORIES);
        let latest = if self.draw.chance(0.9) {
            initial
        } else {
            self.draw.pick(CATEGORIES)
        };
        // Reviews: the first within 3 months of the plan's start, then every 6 months.
        let mut reviews = vec![];
        let mut due = to_epoch_days(add_months(from_epoch_days(start), 3));
        let mut at = start;
        while at < end {
            let late = self.draw.chance(p.review_late);
            let next = if late {
                due + self.draw.uniform(3, 40)
            } else {
                due - self.draw.uniform(0, 20)
            };
            if next >= end {
                break;
            }
            reviews.push(next);
            at = next;
            due = to_epoch_days(add_months(from_epoch_days(next), 6));
        }
        let c = &mut self.history.children[child];
        let natural = c.cpp_count;
        c.cpp_count += 1;
        // Plans before the child's history here (another LA, long ago) make some first plans
        // here a second plan: enough to reach the LA's published share.
        self.plans_started += 1;
        if natural > 0 {
            self.plans_natural_repeat += 1;
        }
        let nat = self.plans_natural_repeat as f64 / self.plans_started as f64;
        let top_up = ((p.plan_subsequent - nat) / (1.0 - nat).max(0.05)).clamp(0.0, 0.95);
        let extra = if natural == 0 && self.draw.chance(top_up) {
            self.draw.uniform(1, 2) as u32
        } else {
            0
        };
        Plan {
            start,
            end: Some(end),
            initial_category: initial,
            latest_category: latest,
            previous: natural + extra,
            reviews,
        }
    }
}
