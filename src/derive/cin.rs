//! Help-and-protection facts from the CIN census history: referrals, assessments, section 47
//! enquiries, initial child protection conferences and child protection plans.

use polars::prelude::*;

use super::{Facts, previous_in_child, with_working_days};
use crate::domain::dates::{add_months, from_epoch_days, to_epoch_days};
use crate::ingest::canonical::CanonicalTable;

fn la_child() -> [Expr; 2] {
    [col("la_code"), col("child")]
}

/// Child attributes from the CIN census (birth date, sex, ethnicity, any disability).
fn cin_children(facts: &Facts) -> PolarsResult<LazyFrame> {
    let disability = facts
        .canonical(CanonicalTable::CinDisability)?
        .group_by(la_child())
        .agg([col("disability")
            .neq(lit("NONE"))
            .any(true)
            .alias("has_disability")]);
    Ok(facts
        .canonical(CanonicalTable::CinChild)?
        .select([
            col("la_code"),
            col("child"),
            col("birth_date"),
            col("expected_birth_date"),
            col("sex"),
            col("ethnicity"),
        ])
        .join(
            disability,
            la_child(),
            la_child(),
            JoinArgs::new(JoinType::Left),
        ))
}

/// Referrals (CIN episodes) with the same child's previous referral.
///
/// `had_assessment`, `had_cin_plan`, `had_s47` and `had_cpp`: the episode has at least one
/// assessment, child in need plan, section 47 enquiry or child protection plan (matched on
/// child and referral date, as the census nests them). DfE's "referrals where the child was
/// assessed not to be in need" are the referrals that were not NFA, had an assessment and no
/// further activity (no CIN plan, enquiry or protection plan) and closed with RC8 or RC9: an
/// indicator can only read its own row, so the episode's activity has to be on it.
///
/// `rereferral_12m` implements DfE's re-referral: the child's previous referral (any earlier
/// CIN episode in the history) is within 12 months of this one — on or after the same date one
/// year earlier (29 February counts back to 28 February). A child's first referral in the
/// history cannot be a re-referral, so the first 12 months of an LA's history understate
/// re-referrals (flagged by the catalogue as needing 12 months of history).
pub fn referrals(facts: &Facts) -> PolarsResult<DataFrame> {
    let mut lf = facts
        .canonical(CanonicalTable::CinEpisode)?
        .select([
            col("la_code"),
            col("child"),
            col("referral_date"),
            col("referral_source"),
            col("primary_need"),
            col("closure_date"),
            col("reason_for_closure"),
            col("date_of_initial_cpc"),
            col("referral_nfa").fill_null(lit(false)),
        ])
        .sort(
            ["la_code", "child", "referral_date"],
            SortMultipleOptions::default(),
        )
        .with_column(previous_in_child("referral_date").alias("previous_referral_date"))
        .with_column(
            col("previous_referral_date")
                .is_not_null()
                .and(
                    col("previous_referral_date")
                        .gt_eq(col("referral_date").dt().offset_by(lit("-12mo"))),
                )
                .alias("rereferral_12m"),
        )
        .join(
            cin_children(facts)?,
            la_child(),
            la_child(),
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col("has_disability").fill_null(lit(false)));
    for (table, name) in [
        (CanonicalTable::CinAssessment, "had_assessment"),
        (CanonicalTable::CinPlan, "had_cin_plan"),
        (CanonicalTable::CinS47, "had_s47"),
        (CanonicalTable::CinCpp, "had_cpp"),
    ] {
        let episode = ["la_code", "child", "referral_date"];
        lf = super::flag_present(lf, facts.canonical(table)?, &episode, name);
    }
    lf.collect()
}

/// Assessments with the working days from their start to their authorisation, and the 45th
/// working day after the start (`due_45wd`): an assessment still open after it is overdue.
pub fn assessments(facts: &Facts) -> PolarsResult<DataFrame> {
    let df = facts
        .canonical(CanonicalTable::CinAssessment)?
        .select([
            col("la_code"),
            col("child"),
            col("referral_date"),
            col("assessment_start"),
            col("internal_review_date"),
            col("authorisation_date"),
            col("factors"),
        ])
        .sort(
            ["la_code", "child", "assessment_start"],
            SortMultipleOptions::default(),
        )
        .collect()?;
    let mut df = with_working_days(
        df,
        "assessment_start",
        "authorisation_date",
        "working_days_to_authorisation",
    )?;
    let cal = crate::domain::calendar::Calendar::england_and_wales();
    let due: Int32Chunked = df
        .column("assessment_start")?
        .date()?
        .physical()
        .iter()
        .map(|s| s.map(|s| cal.add_working_days_epoch(s, 45)))
        .collect();
    df.with_column(due.with_name("due_45wd".into()).into_date().into_column())?;
    Ok(df)
}

/// Section 47 enquiries with the working days to their conference.
pub fn s47_enquiries(facts: &Facts) -> PolarsResult<DataFrame> {
    let df = facts
        .canonical(CanonicalTable::CinS47)?
        .select([
            col("la_code"),
            col("child"),
            col("referral_date"),
            col("s47_start"),
            col("icpc_target"),
            col("icpc_date"),
            col("icpc_not_required").fill_null(lit(false)),
        ])
        .sort(
            ["la_code", "child", "s47_start"],
            SortMultipleOptions::default(),
        )
        .collect()?;
    with_working_days(df, "s47_start", "icpc_date", "working_days_s47_to_icpc")
}

/// Initial child protection conferences, one row per child and conference date, paired with
/// the section 47 enquiry that led to it: the latest enquiry that started on or before the
/// conference. A conference recorded only on the CIN episode (`DateOfInitialCPC`) with no
/// enquiry has no start event, so it counts in the conference rate but not in timeliness.
/// `resulted_in_plan`: a child protection plan for the child starts on the conference date.
pub fn icpcs(facts: &Facts) -> PolarsResult<DataFrame> {
    let s47 = facts.get(super::FactTable::S47Enquiries)?;
    let from_s47 = s47
        .lazy()
        .filter(col("icpc_date").is_not_null())
        .with_column(col("s47_start").lt_eq(col("icpc_date")).alias("s47_before"))
        .sort(
            ["la_code", "child", "icpc_date", "s47_before", "s47_start"],
            SortMultipleOptions::default()
                .with_order_descending_multi([false, false, false, true, true]),
        )
        .unique_stable_generic(
            Some(vec![col("la_code"), col("child"), col("icpc_date")]),
            UniqueKeepStrategy::First,
        )
        .select([
            col("la_code"),
            col("child"),
            col("icpc_date"),
            col("s47_start"),
            col("referral_date"),
        ]);
    let from_episodes = facts
        .canonical(CanonicalTable::CinEpisode)?
        .filter(col("date_of_initial_cpc").is_not_null())
        .select([
            col("la_code"),
            col("child"),
            col("date_of_initial_cpc").alias("icpc_date"),
            lit(NULL).cast(DataType::Date).alias("s47_start"),
            col("referral_date"),
        ])
        .join(
            from_s47.clone(),
            [col("la_code"), col("child"), col("icpc_date")],
            [col("la_code"), col("child"), col("icpc_date")],
            JoinArgs::new(JoinType::Anti),
        )
        .unique_stable_generic(
            Some(vec![col("la_code"), col("child"), col("icpc_date")]),
            UniqueKeepStrategy::First,
        );
    let plans = facts
        .canonical(CanonicalTable::CinCpp)?
        .select([
            col("la_code"),
            col("child"),
            col("cpp_start").alias("icpc_date"),
        ])
        .unique_stable_generic(None, UniqueKeepStrategy::First)
        .with_column(lit(true).alias("resulted_in_plan"));
    let df = concat([from_s47, from_episodes], UnionArgs::default())?
        .join(
            plans,
            [col("la_code"), col("child"), col("icpc_date")],
            [col("la_code"), col("child"), col("icpc_date")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            col("resulted_in_plan").fill_null(lit(false)),
            col("s47_start")
                .gt(col("icpc_date"))
                .fill_null(lit(false))
                .alias("icpc_before_s47"),
        ])
        .sort(
            ["la_code", "child", "icpc_date"],
            SortMultipleOptions::default(),
        )
        .collect()?;
    with_working_days(df, "s47_start", "icpc_date", "working_days_s47_to_icpc")
}

/// The day a plan's reviews first fall out of time, by the statutory timescales: the first
/// review within 3 months of the plan's start, each later one within 6 months of the one
/// before. `None` if the plan ended before any due date was missed. A plan is "reviewed in
/// time" at a date D if it has not fallen out of time by D.
pub fn review_late_from(start: i32, end: Option<i32>, reviews: &[i32]) -> Option<i32> {
    let mut due = to_epoch_days(add_months(from_epoch_days(start), 3));
    for &r in reviews.iter().filter(|&&r| end.is_none_or(|e| r <= e)) {
        if r > due {
            return Some(due + 1);
        }
        due = to_epoch_days(add_months(from_epoch_days(r), 6));
    }
    match end {
        Some(e) if e <= due => None,
        _ => Some(due + 1),
    }
}

/// Child protection plans: length, previous plans and review timeliness.
///
/// `has_previous_plan` (DfE's second or subsequent plan): the census says the child had a
/// previous plan (NumberOfPreviousCPP > 0) or an earlier plan is in the history — however
/// long ago. `days_open_incl_end`: days from start to end counting both (a plan starting and
/// ending on the same day lasted 1 day); "2 years or more" is more than 729.
pub fn cp_plans(facts: &Facts) -> PolarsResult<DataFrame> {
    let mut df = plans_with_children(facts)?;
    let reviews = reviews_by_plan(facts, &df)?;
    let per_plan = PerPlan::from_reviews(&df, &reviews)?;
    df.with_column(
        Int32Chunked::from_iter_options("review_late_from".into(), per_plan.late.into_iter())
            .into_date()
            .into_column(),
    )?;
    df.with_column(Column::new("review_count".into(), per_plan.count))?;
    df.with_column(Column::new("plan_number".into(), per_plan.plan_number))?;
    df.with_column(
        Int32Chunked::from_iter_options("days_open_incl_end".into(), per_plan.days.into_iter())
            .into_column(),
    )?;
    Ok(df)
}

/// The plans sorted by LA, child and start, with whether the child had a previous plan and
/// the child's birth date and sex.
fn plans_with_children(facts: &Facts) -> PolarsResult<DataFrame> {
    facts
        .canonical(CanonicalTable::CinCpp)?
        .select([
            col("la_code"),
            col("child"),
            col("referral_date"),
            col("cpp_start"),
            col("cpp_end"),
            col("initial_category"),
            col("latest_category"),
            col("previous_cpp_count"),
        ])
        .sort(
            ["la_code", "child", "cpp_start"],
            SortMultipleOptions::default(),
        )
        .with_column(
            previous_in_child("cpp_start")
                .is_not_null()
                .alias("earlier_plan_in_history"),
        )
        .with_column(
            col("previous_cpp_count")
                .fill_null(lit(0))
                .gt(lit(0))
                .or(col("earlier_plan_in_history"))
                .alias("has_previous_plan"),
        )
        .join(
            cin_children(facts)?.select([
                col("la_code"),
                col("child"),
                col("birth_date"),
                col("sex"),
            ]),
            la_child(),
            la_child(),
            JoinArgs {
                maintain_order: MaintainOrderJoin::Left,
                ..JoinArgs::new(JoinType::Left)
            },
        )
        .collect()
}

/// Each plan's reviews, in date order, joined by key (not a map of strings: a national
/// history has millions of reviews): `plan_index` (the plan's row in `plans`) and
/// `review_date`, sorted by both.
fn reviews_by_plan(facts: &Facts, plans: &DataFrame) -> PolarsResult<DataFrame> {
    let keys = [col("la_code"), col("child"), col("cpp_start")];
    let plan_keys = plans
        .clone()
        .lazy()
        .select([col("la_code"), col("child"), col("cpp_start")])
        .with_row_index("plan_index", None);
    facts
        .canonical(CanonicalTable::CinCppReview)?
        .select([
            col("la_code"),
            col("child"),
            col("cpp_start"),
            col("review_date"),
        ])
        .join(
            plan_keys,
            keys.clone(),
            keys,
            JoinArgs::new(JoinType::Inner),
        )
        .sort(
            ["plan_index", "review_date"],
            SortMultipleOptions::default(),
        )
        .select([col("plan_index"), col("review_date")])
        .collect()
}

/// The columns computed plan by plan in one pass over the plans and their sorted reviews.
struct PerPlan {
    late: Vec<Option<i32>>,
    count: Vec<u32>,
    days: Vec<Option<i32>>,
    plan_number: Vec<u32>,
}

impl PerPlan {
    /// Each plan's review lateness, review count, days open and number within the child, from
    /// `plans` (sorted by LA, child and start) and [`reviews_by_plan`].
    fn from_reviews(plans: &DataFrame, reviews: &DataFrame) -> PolarsResult<PerPlan> {
        let plan_index: Vec<IdxSize> = reviews
            .column("plan_index")?
            .idx()?
            .iter()
            .flatten()
            .collect();
        let review_dates: Vec<i32> = reviews
            .column("review_date")?
            .date()?
            .physical()
            .iter()
            .map(|d| d.unwrap_or(i32::MIN))
            .collect();
        let start = plans.column("cpp_start")?.date()?.physical().clone();
        let end = plans.column("cpp_end")?.date()?.physical().clone();
        let mut late = Vec::with_capacity(plans.height());
        let mut count = Vec::with_capacity(plans.height());
        let mut days = Vec::with_capacity(plans.height());
        let mut at = 0usize;
        // Plan number within the child (the frame is sorted by LA, child and start).
        let (la, child) = (
            plans.column("la_code")?.str()?.clone(),
            plans.column("child")?.str()?.clone(),
        );
        let mut plan_number = Vec::with_capacity(plans.height());
        for i in 0..plans.height() {
            let same_child =
                i > 0 && la.get(i) == la.get(i - 1) && child.get(i) == child.get(i - 1);
            let previous = if same_child { plan_number[i - 1] } else { 0u32 };
            plan_number.push(previous + 1);
            let from = at;
            while at < plan_index.len() && plan_index[at] as usize == i {
                at += 1;
            }
            let Some(s) = start.get(i) else {
                late.push(None);
                count.push(0u32);
                days.push(None);
                continue;
            };
            late.push(review_late_from(s, end.get(i), &review_dates[from..at]));
            count.push((at - from) as u32);
            days.push(end.get(i).map(|e| e - s + 1));
        }
        Ok(PerPlan {
            late,
            count,
            days,
            plan_number,
        })
    }
}

/// Pre-proceedings and family group decision-making (CIN census from 2026/27): one row per
/// CIN episode's pre-proceedings group, so "children in pre-proceedings", "meetings offered
/// and held" and "how pre-proceedings ended" are counts and shares over the rows.
pub fn pre_proceedings(facts: &Facts) -> PolarsResult<DataFrame> {
    facts
        .canonical(CanonicalTable::CinPreProceedings)?
        .select([
            col("la_code"),
            col("child"),
            col("referral_date"),
            col("pp_start"),
            col("lbp_sent_date"),
            col("fgdm_meeting_offer"),
            col("fgdm_meeting_fac"),
            col("initial_pp_meeting_date"),
            col("review_meetings_count"),
            col("step_decision_date"),
            col("pp_outcome"),
            col("court_app_date"),
        ])
        .sort(
            ["la_code", "child", "pp_start"],
            SortMultipleOptions::default(),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::ymd;

    fn d(y: i32, m: u32, day: u32) -> i32 {
        to_epoch_days(ymd(y, m, day).unwrap())
    }

    #[test]
    fn review_timeliness() {
        let start = d(2024, 1, 15);
        // First review due by 15/04/2024; held 15/04 (in time); next due 15/10/2024.
        assert_eq!(
            review_late_from(start, None, &[d(2024, 4, 15)]),
            Some(d(2024, 10, 16))
        );
        // Held a day late: out of time from 16/04/2024.
        assert_eq!(
            review_late_from(start, None, &[d(2024, 4, 16)]),
            Some(d(2024, 4, 16))
        );
        // No review and the plan ended before it was due: never late.
        assert_eq!(review_late_from(start, Some(d(2024, 3, 1)), &[]), None);
        // Ended on the due date without a review: still in time.
        assert_eq!(review_late_from(start, Some(d(2024, 4, 15)), &[]), None);
    }
}
