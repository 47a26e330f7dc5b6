//! Annex A lists 3–10 produced from the fact tables for an inspection date, with the
//! framework's windows: referrals in the 3 months before the date; assessments and section 47
//! enquiries in the 6 months before; children in need, on plans and looked after at the date
//! or whose episode, plan or care ended in the 6 months before; care leavers of the latest
//! return; children adopted in the 12 months before or subject to a placement order at the
//! date. One row per child and record, as the framework asks.
//!
//! Fields the returns cannot give (allocated team and worker, visits, reviews, return
//! interviews, …) are filled from local data when supplied (joined on the child id), and
//! otherwise left blank; [`unfilled`] lists them for the workbook's cover sheet. Nothing is
//! invented.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;

use super::{Canonical, FactTable, Facts};
use crate::domain::dates::add_months;
use crate::domain::framework::Framework;
use crate::ingest::annex_a::{Kind, ListSpec, lists};
use crate::ingest::canonical::CanonicalTable;

/// The windows of the lists, from the inspection date.
#[derive(Debug, Clone, Copy)]
pub struct Windows {
    pub date: NaiveDate,
    /// First day of the 3 months before the date.
    pub three_months: NaiveDate,
    /// First day of the 6 months before the date.
    pub six_months: NaiveDate,
    /// First day of the 12 months before the date.
    pub twelve_months: NaiveDate,
    /// First day of the referrals list's window: 3 months under the 2015 framework, 6 under
    /// ILACS (`annex_a.referrals_months` in the framework's file).
    pub referrals: NaiveDate,
    /// First day of the window in which closed CIN episodes (list 6) and ended plans (list 7)
    /// are listed: 3 months under the 2015 framework, 6 under ILACS.
    pub closures: NaiveDate,
    /// The framework whose Annex A the windows are.
    pub framework: Framework,
}

impl Windows {
    /// The current framework's windows.
    pub fn new(date: NaiveDate) -> Windows {
        Windows::for_framework(date, Framework::CURRENT)
    }

    pub fn for_framework(date: NaiveDate, framework: Framework) -> Windows {
        let back = |m: i32| add_months(date, -m) + chrono::Duration::days(1);
        Windows {
            date,
            three_months: back(3),
            six_months: back(6),
            twelve_months: back(12),
            referrals: back(framework.definition().annex_a.referrals_months),
            closures: back(framework.definition().annex_a.closures_months),
            framework,
        }
    }
}

fn dtype(kind: Kind) -> DataType {
    match kind {
        Kind::Date => DataType::Date,
        Kind::Int => DataType::Int64,
        Kind::Yn => DataType::Boolean,
        _ => DataType::String,
    }
}

fn in_window(c: &str, from: NaiveDate, to: NaiveDate) -> Expr {
    col(c).gt_eq(lit(from)).and(col(c).lt_eq(lit(to)))
}

/// Age in whole years at `date` from a `birth` date column.
fn age_at(birth: &str, date: NaiveDate) -> Expr {
    super::age_in_years(col(birth), lit(date)).cast(DataType::Int64)
}

/// Puts a frame into the list's column order and types, with the framework's columns only;
/// columns it lacks are null.
fn shape(spec: &ListSpec, lf: LazyFrame, have: &[&str], framework: Framework) -> LazyFrame {
    lf.select(
        spec.columns
            .iter()
            .filter(|c| c.in_framework(framework))
            .map(|c| {
                if have.contains(&c.name.as_str()) {
                    col(c.name.as_str()).cast(dtype(c.kind))
                } else {
                    lit(NULL).cast(dtype(c.kind)).alias(c.name.as_str())
                }
            })
            .collect::<Vec<_>>(),
    )
}

fn spec(list: u8) -> &'static ListSpec {
    lists()
        .iter()
        .find(|l| l.list == list)
        .expect("every list is declared")
}

/// The children's identity from the CIN census (one row per child): sex, ethnicity, birth
/// date, disability.
fn cin_identity(facts: &Facts) -> PolarsResult<LazyFrame> {
    Ok(facts
        .get(FactTable::Referrals)?
        .lazy()
        .group_by([col("la_code"), col("child")])
        .agg([
            col("sex").last(),
            col("ethnicity").last(),
            col("birth_date").last(),
            col("has_disability").last().alias("disability"),
        ]))
}

/// What every list is built from: one LA's facts at the inspection date, and the children's
/// identity from the CIN census (which the CIN lists join for sex, ethnicity and age).
struct ListInputs<'f, 'a> {
    facts: &'f Facts<'a>,
    la: &'f str,
    w: Windows,
    ident: LazyFrame,
}

/// The lists' joins of per-child counts and flags onto their rows.
trait JoinChild {
    /// Left join on `child` (the other frame has at most one row per child).
    fn left_join_child(self, other: LazyFrame) -> LazyFrame;
}

impl JoinChild for LazyFrame {
    fn left_join_child(self, other: LazyFrame) -> LazyFrame {
        self.left_join(other, col("child"), col("child"))
    }
}

/// Rows per child, as the Int64 column `name` (the lists' "in the last 12 months" counts).
fn count_per_child(lf: LazyFrame, name: &str) -> LazyFrame {
    lf.group_by([col("child")])
        .agg([len().cast(DataType::Int64).alias(name)])
}

impl ListInputs<'_, '_> {
    /// Rows of the LA whose lists these are.
    fn mine(&self) -> Expr {
        col("la_code").eq(lit(self.la))
    }

    /// A fact table's rows for the LA.
    fn fact(&self, table: FactTable) -> PolarsResult<LazyFrame> {
        Ok(self.facts.get(table)?.lazy().filter(self.mine()))
    }

    /// Adds the children's CIN identity (sex, ethnicity, birth date, disability).
    fn join_ident(&self, lf: LazyFrame) -> LazyFrame {
        let keys = [col("la_code"), col("child")];
        lf.join(
            self.ident.clone(),
            keys.clone(),
            keys,
            JoinArgs::new(JoinType::Left),
        )
    }

    /// The LA's children's CIN identity (for lists built from the 903).
    fn own_identity(&self) -> LazyFrame {
        self.ident.clone().filter(self.mine())
    }

    /// The LA's children's CIN disability flag.
    fn cin_disability(&self) -> LazyFrame {
        self.own_identity()
            .select([col("child"), col("disability")])
    }

    /// The child's age at the date, from `birth_date`.
    fn age(&self) -> Expr {
        age_at("birth_date", self.w.date).alias("age")
    }

    /// A date column as known at the date: a date after it (an authorisation, a closure, an
    /// end recorded later) is not known yet, so null.
    fn known_at(&self, c: &str) -> Expr {
        when(col(c).lt_eq(lit(self.w.date)))
            .then(col(c))
            .otherwise(lit(NULL).cast(DataType::Date))
    }

    /// Started by the date and still open, or ended in the closures window before it
    /// (6 months under ILACS, 3 under the SIF).
    fn open_or_recent(&self, start: &str, end: &str) -> Expr {
        col(start)
            .lt_eq(lit(self.w.date))
            .and(col(end).is_null().or(col(end).gt_eq(lit(self.w.closures))))
    }

    /// List 3: referrals in the framework's referrals window before the date, with each
    /// child's referrals in the 12 months.
    fn referrals(&self) -> PolarsResult<LazyFrame> {
        let (w, d) = (self.w, self.w.date);
        let referrals = self.fact(FactTable::Referrals)?;
        let counts_12m = count_per_child(
            referrals
                .clone()
                .filter(in_window("referral_date", w.twelve_months, d)),
            "referrals_12m",
        );
        Ok(referrals
            .filter(in_window("referral_date", w.referrals, d))
            .left_join_child(counts_12m)
            .with_columns([self.age()]))
    }

    /// List 4: assessments started or authorised in the 6 months before.
    fn assessments(&self) -> PolarsResult<LazyFrame> {
        let (w, d) = (self.w, self.w.date);
        let assessments = self.fact(FactTable::Assessments)?.filter(
            in_window("assessment_start", w.six_months, d).or(in_window(
                "authorisation_date",
                w.six_months,
                d,
            )),
        );
        Ok(self
            .join_ident(
                assessments.select([
                    col("la_code"),
                    col("child"),
                    col("assessment_start"),
                    // An authorisation after the date is not known at the date.
                    self.known_at("authorisation_date")
                        .alias("assessment_authorised"),
                ]),
            )
            .with_columns([self.age()]))
    }

    /// List 5: section 47 enquiries started, or conferences held, in the 6 months before;
    /// whether the conference led to a plan, and each child's enquiries and conferences in
    /// the 12 months.
    fn enquiries(&self) -> PolarsResult<LazyFrame> {
        let (w, d) = (self.w, self.w.date);
        let s47 = self.fact(FactTable::S47Enquiries)?;
        let plan_starts = self
            .fact(FactTable::CpPlans)?
            .select([
                col("child"),
                col("cpp_start").alias("icpc_date"),
                lit(true).alias("icpc_led_to_plan"),
            ])
            .unique(None, UniqueKeepStrategy::First);
        let s47_12m = count_per_child(
            s47.clone()
                .filter(in_window("s47_start", w.twelve_months, d)),
            "s47_12m",
        );
        let icpc_12m = count_per_child(
            s47.clone()
                .filter(in_window("icpc_date", w.twelve_months, d)),
            "icpc_12m",
        );
        let enquiries = s47
            .filter(in_window("s47_start", w.six_months, d).or(in_window(
                "icpc_date",
                w.six_months,
                d,
            )))
            .with_column(self.known_at("icpc_date").alias("icpc_date"))
            .join(
                plan_starts,
                [col("child"), col("icpc_date")],
                [col("child"), col("icpc_date")],
                JoinArgs::new(JoinType::Left),
            )
            .with_column(
                when(col("icpc_date").is_not_null())
                    .then(col("icpc_led_to_plan").fill_null(lit(false)))
                    .otherwise(lit(NULL).cast(DataType::Boolean))
                    .alias("icpc_led_to_plan"),
            );
        Ok(self
            .join_ident(
                enquiries
                    .left_join_child(s47_12m)
                    .left_join_child(icpc_12m)
                    .select([
                        col("la_code"),
                        col("child"),
                        col("s47_start"),
                        col("icpc_not_required"),
                        col("icpc_date"),
                        col("icpc_led_to_plan"),
                        col("s47_12m"),
                        col("icpc_12m"),
                    ]),
            )
            .with_columns([self.age()]))
    }

    /// Children looked after at the date (for list 6's case status).
    fn looked_after_now(&self) -> PolarsResult<LazyFrame> {
        let d = self.w.date;
        Ok(self
            .fact(FactTable::ClaEpisodes)?
            .filter(
                col("decom")
                    .lt_eq(lit(d))
                    .and(col("dec").is_null().or(col("dec").gt(lit(d))))
                    .and(col("short_break").not()),
            )
            .select([col("child"), lit(true).alias("looked_after")])
            .unique(None, UniqueKeepStrategy::First))
    }

    /// Children on a plan at the date (for list 6's case status).
    fn on_plan_now(&self) -> PolarsResult<LazyFrame> {
        let d = self.w.date;
        Ok(self
            .fact(FactTable::CpPlans)?
            .filter(
                col("cpp_start")
                    .lt_eq(lit(d))
                    .and(col("cpp_end").is_null().or(col("cpp_end").gt(lit(d)))),
            )
            .select([col("child"), lit(true).alias("on_plan")])
            .unique(None, UniqueKeepStrategy::First))
    }

    /// List 6: children in need at the date or whose episode closed in the framework's
    /// window before (6 months under ILACS, 3 under the SIF), with their case status.
    fn children_in_need(&self) -> PolarsResult<LazyFrame> {
        let referrals = self.fact(FactTable::Referrals)?;
        let cla_now = self.looked_after_now()?;
        let on_plan = self.on_plan_now()?;
        Ok(referrals
            .filter(self.open_or_recent("referral_date", "closure_date"))
            .with_columns([
                self.known_at("closure_date").alias("closure_date"),
                self.age(),
            ])
            .left_join_child(cla_now)
            .left_join_child(on_plan)
            .with_columns([
                col("referral_date").alias("cin_start"),
                col("closure_date").alias("cin_closure"),
                col("reason_for_closure").alias("closure_reason"),
                col("has_disability").alias("disability"),
                when(col("closure_date").is_not_null())
                    .then(lit("Closed"))
                    .when(col("looked_after").fill_null(lit(false)))
                    .then(lit("Looked after"))
                    .when(col("on_plan").fill_null(lit(false)))
                    .then(lit("Child protection plan"))
                    .otherwise(lit("Child in need"))
                    .alias("case_status"),
            ]))
    }

    /// List 7: plans open at the date or ended in the framework's window before, with the
    /// latest review up to the date.
    fn plans(&self) -> PolarsResult<LazyFrame> {
        let d = self.w.date;
        let reviews = self
            .facts
            .canonical(CanonicalTable::CinCppReview)?
            .filter(self.mine())
            .filter(col("review_date").lt_eq(lit(d)))
            .group_by([col("child"), col("cpp_start")])
            .agg([col("review_date").max().alias("last_review")]);
        let plans = self.fact(FactTable::CpPlans)?;
        Ok(self
            .join_ident(
                plans
                    .filter(self.open_or_recent("cpp_start", "cpp_end"))
                    .with_column(self.known_at("cpp_end").alias("cpp_end"))
                    .join(
                        reviews,
                        [col("child"), col("cpp_start")],
                        [col("child"), col("cpp_start")],
                        JoinArgs::new(JoinType::Left),
                    )
                    .select([
                        col("la_code"),
                        col("child"),
                        col("cpp_start"),
                        col("initial_category"),
                        col("latest_category"),
                        col("last_review"),
                        col("cpp_end"),
                        col("previous_cpp_count")
                            .cast(DataType::Int64)
                            .alias("previous_cpp"),
                    ]),
            )
            .with_columns([self.age()]))
    }

    /// The episodes (not short breaks) begun by the date, by child and start.
    fn episodes_to_date(&self, episodes: &LazyFrame) -> LazyFrame {
        episodes
            .clone()
            .filter(
                col("decom")
                    .lt_eq(lit(self.w.date))
                    .and(col("short_break").not()),
            )
            .sort(["child", "decom"], SortMultipleOptions::default())
    }

    /// Each child's latest episode up to the date: the current (or last) placement, legal
    /// status and identity from the 903.
    fn latest_episodes(&self, episodes: &LazyFrame) -> LazyFrame {
        self.episodes_to_date(episodes)
            .group_by([col("child")])
            .agg([
                col("decom").last().alias("last_decom"),
                col("dec").last().alias("last_dec"),
                col("period_of_care_seq").last(),
                col("period_of_care_start").last().alias("cla_start"),
                col("cin").last().alias("category_of_need"),
                col("ls").last().alias("legal_status"),
                col("rec").last().alias("rec"),
                col("placement_start").last(),
                col("place").last().alias("placement_type"),
                col("place_provider").last().alias("placement_provider"),
                col("pl_post").last().alias("placement_postcode"),
                col("urn").last().alias("placement_urn"),
                col("placement_la").last(),
                col("outside_la").last(),
                col("uasc").last().alias("uasc_flag"),
                col("sex").last(),
                col("ethnic").last().alias("ethnicity"),
                col("dob").last().alias("birth_date"),
            ])
    }

    /// Start of the current legal status: the earliest episode start in the current period of
    /// care from which the legal status has not changed.
    fn legal_status_starts(&self, episodes: &LazyFrame) -> LazyFrame {
        self.episodes_to_date(episodes)
            .with_column(
                (col("ls")
                    .neq(col("ls").shift(lit(1)))
                    .or(col("child").neq(col("child").shift(lit(1))))
                    .or(col("period_of_care_seq").neq(col("period_of_care_seq").shift(lit(1)))))
                .fill_null(lit(true))
                .alias("ls_changed"),
            )
            .filter(col("ls_changed"))
            .group_by([col("child")])
            .agg([col("decom").last().alias("legal_status_start")])
    }

    /// Each child's placements (not short breaks or temporary) open at some time in the 12
    /// months before the date.
    fn placements_12m(&self) -> PolarsResult<LazyFrame> {
        let (w, d) = (self.w, self.w.date);
        let placements = self
            .fact(FactTable::Placements)?
            .filter(col("short_break").not().and(col("temporary").not()))
            .filter(
                col("placement_start").lt_eq(lit(d)).and(
                    col("placement_end")
                        .is_null()
                        .or(col("placement_end").gt_eq(lit(w.twelve_months))),
                ),
            );
        Ok(count_per_child(placements, "placements_12m"))
    }

    /// Each child's events of `kind` (missing, away) begun in the 12 months before the date.
    fn events_12m(&self, events: &LazyFrame, kind: &str, name: &str) -> LazyFrame {
        count_per_child(
            events
                .clone()
                .filter(col("kind").eq(lit(kind)).and(in_window(
                    "start_date",
                    self.w.twelve_months,
                    self.w.date,
                ))),
            name,
        )
    }

    /// Children whose latest period of care began within 12 months of an earlier one ending.
    fn second_periods_12m(&self, latest: &LazyFrame, periods: LazyFrame) -> LazyFrame {
        let earlier_period_12m = periods
            .filter(
                col("period_of_care_end")
                    .is_not_null()
                    .and(col("short_breaks_only").not()),
            )
            .select([col("child"), col("period_of_care_end").alias("earlier_end")]);
        latest
            .clone()
            .select([col("child"), col("cla_start")])
            .inner_join(earlier_period_12m, col("child"), col("child"))
            .filter(
                col("earlier_end")
                    .lt_eq(col("cla_start"))
                    .and(col("earlier_end").gt_eq(col("cla_start").dt().offset_by(lit("-12mo")))),
            )
            .select([col("child"), lit(true).alias("second_period_12m")])
            .unique(None, UniqueKeepStrategy::First)
    }

    /// List 8: looked after at the date, or ceased in the 6 months before; the child's latest
    /// episode up to the date, with its legal status's start and the 12 months' placements,
    /// missing and away episodes and a second period of care.
    fn looked_after(&self) -> PolarsResult<LazyFrame> {
        let (w, d) = (self.w, self.w.date);
        let periods = self.fact(FactTable::ClaPeriods)?;
        let episodes = self.fact(FactTable::ClaEpisodes)?;
        let latest = self.latest_episodes(&episodes);
        let ls_start = self.legal_status_starts(&episodes);
        let moves_12m = self.placements_12m()?;
        let events = self.fact(FactTable::ClaEvents)?;
        let second = self.second_periods_12m(&latest, periods);
        Ok(latest
            .filter(
                col("last_dec")
                    .is_null()
                    .or(col("last_dec").gt(lit(d)))
                    .or(col("last_dec").gt_eq(lit(w.six_months))),
            )
            .with_columns([self.known_at("last_dec").alias("ceased")])
            .with_columns([
                when(col("ceased").is_not_null())
                    .then(col("rec"))
                    .otherwise(lit(NULL).cast(DataType::String))
                    .alias("reason_ceased"),
                col("uasc_flag").fill_null(lit(false)).alias("uasc_12m"),
                when(col("outside_la").is_null())
                    .then(lit(NULL).cast(DataType::String))
                    .when(col("outside_la"))
                    .then(lit("Out of LA"))
                    .otherwise(lit("In LA"))
                    .alias("placement_location"),
                lit(self.la).alias("la_code"),
                self.age(),
            ])
            .left_join_child(ls_start)
            .left_join_child(moves_12m)
            .left_join_child(self.events_12m(&events, "missing", "missing_12m"))
            .left_join_child(self.events_12m(&events, "away", "absent_12m"))
            .left_join_child(second)
            .left_join_child(self.cin_disability())
            .with_columns([
                col("missing_12m").fill_null(lit(0i64)),
                col("absent_12m").fill_null(lit(0i64)),
                col("second_period_12m").fill_null(lit(false)),
            ]))
    }

    /// List 9: care leavers of the latest return up to the date.
    fn care_leavers(&self) -> PolarsResult<LazyFrame> {
        let d = self.w.date;
        let leavers = self.fact(FactTable::CareLeavers)?;
        let year = crate::domain::dates::collection_year(d);
        Ok(leavers
            .filter(col("year").eq(col("year").filter(col("year").lt_eq(lit(year))).max()))
            .filter(col("excluded").not())
            .left_join_child(self.cin_disability())
            .with_columns([
                col("in_touch"),
                col("accom").alias("accommodation"),
                when(col("accom_suitable").is_null())
                    .then(lit(NULL).cast(DataType::String))
                    .when(col("accom_suitable"))
                    .then(lit("1"))
                    .otherwise(lit("2"))
                    .alias("suitable"),
                col("activ").alias("activity"),
                col("dob").alias("birth_date"),
                age_at("dob", d).alias("age"),
            ])
            // ILACS asks whether a care leaver is (or was) an unaccompanied asylum-seeking
            // child: any UASC row in the history says so.
            .left_join_child(ever_uasc(self.facts, self.la)?)
            .with_column(col("uasc_or_former_uasc").fill_null(lit(false))))
    }

    /// Children adopted in the 12 months before the date, with the scorecard's dates.
    fn adopted_12m(&self) -> PolarsResult<LazyFrame> {
        Ok(self
            .fact(FactTable::Adoptions)?
            .filter(in_window("date_adopted", self.w.twelve_months, self.w.date))
            .select([
                col("child"),
                col("date_entered_care").alias("entered_care"),
                col("date_decision").alias("decision_date"),
                col("date_court_authority").alias("placement_order_date"),
                col("date_match").alias("match_date"),
                col("adoptive_placement_start").alias("placed_date"),
                col("date_adopted").alias("adoption_order_date"),
                col("dob").alias("birth_date"),
                col("sex"),
            ]))
    }

    /// Children subject to a placement order (legal status E1) at the date and not among
    /// `adopted`: when the order began and when they were placed for adoption.
    fn on_placement_order(&self, adopted: &LazyFrame) -> PolarsResult<LazyFrame> {
        let d = self.w.date;
        Ok(self
            .fact(FactTable::ClaEpisodes)?
            .filter(col("ls").eq(lit("E1")).and(col("decom").lt_eq(lit(d))))
            .sort(["child", "decom"], SortMultipleOptions::default())
            .group_by([col("child")])
            .agg([
                col("period_of_care_start").last().alias("entered_care"),
                col("decom").first().alias("placement_order_date"),
                col("dec").last().alias("order_last_dec"),
                col("placement_start")
                    .filter(col("place").is_in(
                        lit(Series::new("a".into(), ["A3", "A4", "A5", "A6"])).implode(false),
                        false,
                    ))
                    .first()
                    .alias("placed_date"),
                col("dob").last().alias("birth_date"),
                col("sex").last(),
            ])
            .filter(
                col("order_last_dec")
                    .is_null()
                    .or(col("order_last_dec").gt(lit(d))),
            )
            .anti_join(
                adopted.clone().select([col("child")]),
                col("child"),
                col("child"),
            )
            .select([
                col("child"),
                col("entered_care"),
                col("placement_order_date"),
                col("placed_date"),
                col("birth_date"),
                col("sex"),
            ]))
    }

    /// List 10: adopted in the 12 months before, or subject to a placement order at the date.
    fn adoptions(&self) -> PolarsResult<LazyFrame> {
        let adopted = self.adopted_12m()?;
        let on_order = self.on_placement_order(&adopted)?;
        Ok(concat(
            [adopted, on_order],
            UnionArgs {
                diagonal: true,
                ..Default::default()
            },
        )?
        .with_columns([self.age(), lit(self.la).alias("la_code")])
        .left_join_child(self.own_identity().select([
            col("child"),
            col("ethnicity"),
            col("disability"),
        ])))
    }
}

/// Lists 3–10 for `la` at `windows.date`, from the facts, with `local` (child + Annex A
/// column names) filling what the returns lack.
pub fn produce(
    facts: &Facts,
    la: &str,
    windows: Windows,
    local: Option<&DataFrame>,
) -> PolarsResult<BTreeMap<u8, DataFrame>> {
    let inputs = ListInputs {
        facts,
        la,
        w: windows,
        ident: cin_identity(facts)?,
    };
    // Every list's plan is built before any is collected, in list order.
    let out: BTreeMap<u8, LazyFrame> = BTreeMap::from([
        (3, inputs.referrals()?),
        (4, inputs.assessments()?),
        (5, inputs.enquiries()?),
        (6, inputs.children_in_need()?),
        (7, inputs.plans()?),
        (8, inputs.looked_after()?),
        (9, inputs.care_leavers()?),
        (10, inputs.adoptions()?),
    ]);
    let mut result = BTreeMap::new();
    for (list, lf) in out {
        result.insert(
            list,
            collect_list(spec(list), lf, windows.framework, local)?,
        );
    }
    Ok(result)
}

/// Collects one list in its declared shape (the framework's columns, in order, sorted by the
/// first with ties kept in the order built), then fills its blanks from local data.
fn collect_list(
    spec: &ListSpec,
    lf: LazyFrame,
    framework: Framework,
    local: Option<&DataFrame>,
) -> PolarsResult<DataFrame> {
    let df = lf.collect()?;
    let have: Vec<&str> = df
        .get_column_names()
        .into_iter()
        .map(|s| s.as_str())
        .filter(|n| spec.column(n).is_some())
        .collect();
    let mut shaped = shape(spec, df.clone().lazy(), &have, framework)
        .sort(
            spec.columns
                .iter()
                .take(1)
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    if let Some(local) = local {
        shaped = fill_from_local(spec, shaped, local)?;
    }
    Ok(shaped)
}

/// Children with a UASC row in the LA's 903 history (UASC now or formerly).
fn ever_uasc(facts: &Facts, la: &str) -> PolarsResult<LazyFrame> {
    Ok(facts
        .canonical(CanonicalTable::Uasc)?
        .filter(col("la_code").eq(lit(la)))
        .select([col("child"), lit(true).alias("uasc_or_former_uasc")])
        .unique_stable(None, UniqueKeepStrategy::First))
}

/// Fills each list's empty cells from local data (one row per child; columns named as the
/// list's fields), keeping what the returns gave.
fn fill_from_local(spec: &ListSpec, df: DataFrame, local: &DataFrame) -> PolarsResult<DataFrame> {
    let columns: Vec<String> = df
        .get_column_names()
        .into_iter()
        .map(|s| s.to_string())
        .collect();
    let names: Vec<String> = local
        .get_column_names()
        .into_iter()
        .map(|s| s.to_string())
        .filter(|n| n != "child" && spec.column(n).is_some() && columns.contains(n))
        .collect();
    if names.is_empty() {
        return Ok(df);
    }
    let renamed: Vec<Expr> = std::iter::once(col("child"))
        .chain(names.iter().map(|n| {
            col(n.as_str())
                .cast(dtype(spec.column(n).expect("filtered").kind))
                .alias(format!("{n}__local"))
        }))
        .collect();
    let local = local
        .clone()
        .lazy()
        .select(renamed)
        .unique(Some(cols(["child"])), UniqueKeepStrategy::First);
    let mut lf = df.lazy().join(
        local,
        [col("child")],
        [col("child")],
        JoinArgs {
            maintain_order: MaintainOrderJoin::Left,
            ..JoinArgs::new(JoinType::Left)
        },
    );
    for n in &names {
        lf = lf.with_column(
            col(n.as_str())
                .fill_null(col(format!("{n}__local")))
                .alias(n.as_str()),
        );
    }
    // The list's own columns, as shaped for its framework.
    let shaped: Vec<Expr> = spec
        .columns
        .iter()
        .filter(|c| columns.contains(&c.name))
        .map(|c| col(c.name.as_str()))
        .collect();
    lf.select(shaped).collect()
}

/// The fields of each list that are entirely blank (neither the returns nor the local data
/// gave them), for the cover sheet.
pub fn unfilled(lists: &BTreeMap<u8, DataFrame>) -> Vec<(u8, String)> {
    let mut out = vec![];
    for (list, df) in lists {
        for c in df.columns() {
            if df.height() == 0 || c.null_count() == df.height() {
                out.push((*list, c.name().to_string()));
            }
        }
    }
    out
}

/// Annex A lists read back into the canonical tables of the returns, so that the catalogue's
/// definitions compute from them exactly as from the returns (where the lists carry the
/// fields a definition needs): list 3 and 6 → CIN episodes, 4 → assessments, 5 → section 47
/// enquiries, 7 → plans and their latest review, 8 → one 903 episode per child (the current
/// placement and legal status), 9 → OC3. Tables the lists cannot give are empty.
pub struct FromLists {
    pub la: String,
    /// The collection years the lists cover (the inspection date's and the one before).
    pub years: Vec<i32>,
    pub lists: BTreeMap<u8, DataFrame>,
}

impl FromLists {
    pub fn new(la: &str, date: NaiveDate, lists: BTreeMap<u8, DataFrame>) -> FromLists {
        let y = crate::domain::dates::collection_year(date);
        FromLists {
            la: la.to_string(),
            years: vec![y - 1, y],
            lists,
        }
    }

    fn list(&self, n: u8) -> Option<LazyFrame> {
        self.lists.get(&n).map(|df| df.clone().lazy())
    }

    /// List `n`'s columns renamed to a canonical table's (`(list column, table column)`).
    fn pick(&self, n: u8, cols: &[(&str, &str)]) -> Option<LazyFrame> {
        self.list(n).map(|lf| {
            lf.select(
                cols.iter()
                    .map(|(from, to)| col(*from).alias(*to))
                    .collect::<Vec<_>>(),
            )
        })
    }

    /// [`FromLists::pick`] as the parts of a table: none when the list is not held.
    fn parts(&self, n: u8, cols: &[(&str, &str)]) -> Vec<LazyFrame> {
        self.pick(n, cols).into_iter().collect()
    }

    /// `cin_child`: the children of lists 3–7, each once (as the first list has them).
    fn cin_children(&self) -> Vec<LazyFrame> {
        [3u8, 4, 5, 6, 7]
            .iter()
            .filter_map(|&n| {
                self.pick(
                    n,
                    &[
                        ("child", "child"),
                        ("birth_date", "birth_date"),
                        ("sex", "sex"),
                        ("ethnicity", "ethnicity"),
                    ],
                )
            })
            .collect::<Vec<_>>()
            .into_iter()
            .reduce(|a, b| concat([a, b], UnionArgs::default()).expect("same columns"))
            .map(|lf| vec![lf.unique_stable(Some(cols(["child"])), UniqueKeepStrategy::First)])
            .unwrap_or_default()
    }

    /// `cin_episode`: list 6's episodes and list 3's referrals merged into one row per child
    /// and referral date, each field from whichever list gives it.
    fn cin_episodes(&self) -> PolarsResult<Vec<LazyFrame>> {
        let parts: Vec<LazyFrame> = [
            self.pick(
                6,
                &[
                    ("child", "child"),
                    ("cin_start", "referral_date"),
                    ("primary_need", "primary_need"),
                    ("cin_closure", "closure_date"),
                    ("closure_reason", "reason_for_closure"),
                ],
            ),
            self.pick(
                3,
                &[
                    ("child", "child"),
                    ("referral_date", "referral_date"),
                    ("referral_source", "referral_source"),
                    ("referral_nfa", "referral_nfa"),
                ],
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            return Ok(vec![]);
        }
        let merged = concat(
            parts,
            UnionArgs {
                diagonal: true,
                ..Default::default()
            },
        )?;
        let names = merged.clone().collect_schema()?;
        let aggs: Vec<Expr> = names
            .iter_names()
            .filter(|n| !matches!(n.as_str(), "child" | "referral_date"))
            .map(|n| col(n.clone()).drop_nulls().first())
            .collect();
        Ok(vec![
            merged
                .group_by_stable([col("child"), col("referral_date")])
                .agg(aggs),
        ])
    }

    /// `episodes`: one 903 episode per child of list 8, its current placement and legal
    /// status (open unless the list says it ceased).
    fn episodes(&self) -> Vec<LazyFrame> {
        self.list(8)
            .map(|lf| {
                lf.select([
                    col("child"),
                    col("placement_start").alias("decom"),
                    lit("P").alias("rne"),
                    col("legal_status").alias("ls"),
                    col("category_of_need").alias("cin"),
                    col("placement_type").alias("place"),
                    col("placement_provider").alias("place_provider"),
                    col("ceased").alias("dec"),
                    when(col("ceased").is_not_null())
                        .then(col("reason_ceased"))
                        .otherwise(lit("X1"))
                        .alias("rec"),
                    col("placement_postcode").alias("pl_post"),
                    col("placement_urn").alias("urn"),
                ])
            })
            .into_iter()
            .collect()
    }

    /// The canonical frame of `table` from `parts` (each with some of its columns).
    fn aligned(&self, table: CanonicalTable, parts: Vec<LazyFrame>) -> PolarsResult<LazyFrame> {
        let empty = super::Empty.table(table)?;
        let schema = empty.clone().collect_schema()?;
        if parts.is_empty() {
            return Ok(empty);
        }
        let frame = concat(
            parts,
            UnionArgs {
                diagonal: true,
                ..Default::default()
            },
        )?
        .collect()?;
        let have: Vec<String> = frame
            .get_column_names()
            .into_iter()
            .map(|s| s.to_string())
            .collect();
        let la = self.la.clone();
        Ok(frame.lazy().with_column(lit(la).alias("la_code")).select(
            schema
                .iter()
                .map(|(n, dt)| {
                    if have.iter().any(|h| h == n.as_str()) || n.as_str() == "la_code" {
                        col(n.clone()).cast(dt.clone())
                    } else {
                        lit(NULL).cast(dt.clone()).alias(n.clone())
                    }
                })
                .collect::<Vec<_>>(),
        ))
    }
}

impl Canonical for FromLists {
    fn returns_held(&self) -> PolarsResult<Vec<crate::ingest::returns::ReturnKey>> {
        use crate::ingest::returns::{Collection, ReturnKey};
        let la_code = crate::domain::la::LaCode::parse(&self.la)
            .map_err(|e| polars_err!(ComputeError: "{e}"))?;
        Ok(self
            .years
            .iter()
            .flat_map(|&year| {
                [Collection::Cin, Collection::Ssda903].map(|collection| ReturnKey {
                    la_code,
                    year,
                    collection,
                })
            })
            .collect())
    }

    fn table(&self, table: CanonicalTable) -> PolarsResult<LazyFrame> {
        let parts: Vec<LazyFrame> = match table {
            CanonicalTable::CinChild => self.cin_children(),
            CanonicalTable::CinEpisode => self.cin_episodes()?,
            CanonicalTable::CinAssessment => self.parts(
                4,
                &[
                    ("child", "child"),
                    ("assessment_start", "assessment_start"),
                    ("assessment_authorised", "authorisation_date"),
                ],
            ),
            CanonicalTable::CinS47 => self.parts(
                5,
                &[
                    ("child", "child"),
                    ("s47_start", "s47_start"),
                    ("icpc_date", "icpc_date"),
                    ("icpc_not_required", "icpc_not_required"),
                ],
            ),
            CanonicalTable::CinCpp => self.parts(
                7,
                &[
                    ("child", "child"),
                    ("cpp_start", "cpp_start"),
                    ("cpp_end", "cpp_end"),
                    ("initial_category", "initial_category"),
                    ("latest_category", "latest_category"),
                    ("previous_cpp", "previous_cpp_count"),
                ],
            ),
            CanonicalTable::CinCppReview => self
                .pick(
                    7,
                    &[
                        ("child", "child"),
                        ("cpp_start", "cpp_start"),
                        ("last_review", "review_date"),
                    ],
                )
                .map(|lf| lf.filter(col("review_date").is_not_null()))
                .into_iter()
                .collect(),
            CanonicalTable::Header => self.parts(
                8,
                &[
                    ("child", "child"),
                    ("sex", "sex"),
                    ("birth_date", "dob"),
                    ("ethnicity", "ethnic"),
                ],
            ),
            CanonicalTable::Episodes => self.episodes(),
            CanonicalTable::Oc3 => self.parts(
                9,
                &[
                    ("child", "child"),
                    ("birth_date", "dob"),
                    ("in_touch", "in_touch"),
                    ("activity", "activ"),
                    ("accommodation", "accom"),
                ],
            ),
            _ => vec![],
        };
        self.aligned(table, parts)
    }
}
