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
    use chrono::Datelike;
    let y = lit(date.year());
    let before_birthday = col(birth)
        .dt()
        .month()
        .cast(DataType::Int32)
        .gt(lit(date.month() as i32))
        .or(col(birth)
            .dt()
            .month()
            .cast(DataType::Int32)
            .eq(lit(date.month() as i32))
            .and(
                col(birth)
                    .dt()
                    .day()
                    .cast(DataType::Int32)
                    .gt(lit(date.day() as i32)),
            ));
    (y - col(birth).dt().year().cast(DataType::Int32)
        - when(before_birthday).then(lit(1)).otherwise(lit(0)))
    .cast(DataType::Int64)
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

/// Lists 3–10 for `la` at `windows.date`, from the facts, with `local` (child + Annex A
/// column names) filling what the returns lack.
pub fn produce(
    facts: &Facts,
    la: &str,
    windows: Windows,
    local: Option<&DataFrame>,
) -> PolarsResult<BTreeMap<u8, DataFrame>> {
    let w = windows;
    let d = w.date;
    let mine = || col("la_code").eq(lit(la));
    let ident = cin_identity(facts)?;
    let keys = [col("la_code"), col("child")];
    let join_ident = |lf: LazyFrame| {
        lf.join(
            ident.clone(),
            keys.clone(),
            keys.clone(),
            JoinArgs::new(JoinType::Left),
        )
    };
    let mut out: BTreeMap<u8, LazyFrame> = BTreeMap::new();

    // List 3: referrals in the 3 months before the date.
    let referrals = facts.get(FactTable::Referrals)?.lazy().filter(mine());
    let counts_12m = referrals
        .clone()
        .filter(in_window("referral_date", w.twelve_months, d))
        .group_by([col("child")])
        .agg([len().cast(DataType::Int64).alias("referrals_12m")]);
    out.insert(
        3,
        referrals
            .clone()
            .filter(in_window("referral_date", w.referrals, d))
            .join(
                counts_12m,
                [col("child")],
                [col("child")],
                JoinArgs::new(JoinType::Left),
            )
            .with_columns([age_at("birth_date", d).alias("age")]),
    );

    // List 4: assessments started or authorised in the 6 months before.
    let assessments = facts
        .get(FactTable::Assessments)?
        .lazy()
        .filter(mine())
        .filter(in_window("assessment_start", w.six_months, d).or(in_window(
            "authorisation_date",
            w.six_months,
            d,
        )));
    out.insert(
        4,
        join_ident(
            assessments.select([
                col("la_code"),
                col("child"),
                col("assessment_start"),
                // An authorisation after the date is not known at the date.
                when(col("authorisation_date").lt_eq(lit(d)))
                    .then(col("authorisation_date"))
                    .otherwise(lit(NULL).cast(DataType::Date))
                    .alias("assessment_authorised"),
            ]),
        )
        .with_columns([age_at("birth_date", d).alias("age")]),
    );

    // List 5: section 47 enquiries started, or conferences held, in the 6 months before.
    let s47 = facts.get(FactTable::S47Enquiries)?.lazy().filter(mine());
    let plans = facts.get(FactTable::CpPlans)?.lazy().filter(mine());
    let plan_starts = plans
        .clone()
        .select([
            col("child"),
            col("cpp_start").alias("icpc_date"),
            lit(true).alias("icpc_led_to_plan"),
        ])
        .unique(None, UniqueKeepStrategy::First);
    let s47_12m = s47
        .clone()
        .filter(in_window("s47_start", w.twelve_months, d))
        .group_by([col("child")])
        .agg([len().cast(DataType::Int64).alias("s47_12m")]);
    let icpc_12m = s47
        .clone()
        .filter(in_window("icpc_date", w.twelve_months, d))
        .group_by([col("child")])
        .agg([len().cast(DataType::Int64).alias("icpc_12m")]);
    out.insert(
        5,
        join_ident(
            s47.filter(in_window("s47_start", w.six_months, d).or(in_window(
                "icpc_date",
                w.six_months,
                d,
            )))
            .with_column(
                when(col("icpc_date").lt_eq(lit(d)))
                    .then(col("icpc_date"))
                    .otherwise(lit(NULL).cast(DataType::Date))
                    .alias("icpc_date"),
            )
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
            )
            .join(
                s47_12m,
                [col("child")],
                [col("child")],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                icpc_12m,
                [col("child")],
                [col("child")],
                JoinArgs::new(JoinType::Left),
            )
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
        .with_columns([age_at("birth_date", d).alias("age")]),
    );

    // Looked after at the date (for case status and list 8).
    let episodes = facts.get(FactTable::ClaEpisodes)?.lazy().filter(mine());
    let cla_now = episodes
        .clone()
        .filter(
            col("decom")
                .lt_eq(lit(d))
                .and(col("dec").is_null().or(col("dec").gt(lit(d))))
                .and(col("short_break").not()),
        )
        .select([col("child"), lit(true).alias("looked_after")])
        .unique(None, UniqueKeepStrategy::First);
    let on_plan = plans
        .clone()
        .filter(
            col("cpp_start")
                .lt_eq(lit(d))
                .and(col("cpp_end").is_null().or(col("cpp_end").gt(lit(d)))),
        )
        .select([col("child"), lit(true).alias("on_plan")])
        .unique(None, UniqueKeepStrategy::First);

    // List 6: children in need at the date or whose episode closed in the framework's window
    // before (6 months under ILACS, 3 under the SIF); list 7 likewise for plans.
    let open_or_recent = |start: &str, end: &str| {
        col(start)
            .lt_eq(lit(d))
            .and(col(end).is_null().or(col(end).gt_eq(lit(w.closures))))
    };
    let after_date_null = |c: &str| {
        when(col(c).lt_eq(lit(d)))
            .then(col(c))
            .otherwise(lit(NULL).cast(DataType::Date))
            .alias(c)
    };
    out.insert(
        6,
        referrals
            .clone()
            .filter(open_or_recent("referral_date", "closure_date"))
            .with_columns([
                after_date_null("closure_date"),
                age_at("birth_date", d).alias("age"),
            ])
            .join(
                cla_now.clone(),
                [col("child")],
                [col("child")],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                on_plan,
                [col("child")],
                [col("child")],
                JoinArgs::new(JoinType::Left),
            )
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
            ]),
    );

    // List 7: plans open at the date or ended in the 6 months before.
    let reviews = facts
        .canonical("cin_cpp_review")?
        .filter(mine())
        .filter(col("review_date").lt_eq(lit(d)))
        .group_by([col("child"), col("cpp_start")])
        .agg([col("review_date").max().alias("last_review")]);
    out.insert(
        7,
        join_ident(
            plans
                .filter(open_or_recent("cpp_start", "cpp_end"))
                .with_column(after_date_null("cpp_end"))
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
        .with_columns([age_at("birth_date", d).alias("age")]),
    );

    // List 8: looked after at the date, or ceased in the 6 months before; the child's latest
    // episode up to the date.
    let periods = facts.get(FactTable::ClaPeriods)?.lazy().filter(mine());
    let latest = episodes
        .clone()
        .filter(col("decom").lt_eq(lit(d)).and(col("short_break").not()))
        .sort(["child", "decom"], SortMultipleOptions::default())
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
        ]);
    // Start of the current legal status: the earliest episode start in the current period of
    // care from which the legal status has not changed.
    let ls_start = episodes
        .clone()
        .filter(col("decom").lt_eq(lit(d)).and(col("short_break").not()))
        .sort(["child", "decom"], SortMultipleOptions::default())
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
        .agg([col("decom").last().alias("legal_status_start")]);
    let moves_12m = facts
        .get(FactTable::Placements)?
        .lazy()
        .filter(mine())
        .filter(col("short_break").not().and(col("temporary").not()))
        .filter(
            col("placement_start").lt_eq(lit(d)).and(
                col("placement_end")
                    .is_null()
                    .or(col("placement_end").gt_eq(lit(w.twelve_months))),
            ),
        )
        .group_by([col("child")])
        .agg([len().cast(DataType::Int64).alias("placements_12m")]);
    let events = facts.get(FactTable::ClaEvents)?.lazy().filter(mine());
    let event_count = |kind: &str, name: &str| {
        events
            .clone()
            .filter(
                col("kind")
                    .eq(lit(kind))
                    .and(in_window("start_date", w.twelve_months, d)),
            )
            .group_by([col("child")])
            .agg([len().cast(DataType::Int64).alias(name)])
    };
    let earlier_period_12m = periods
        .clone()
        .filter(
            col("period_of_care_end")
                .is_not_null()
                .and(col("short_breaks_only").not()),
        )
        .select([col("child"), col("period_of_care_end").alias("earlier_end")]);
    let second = latest
        .clone()
        .select([col("child"), col("cla_start")])
        .join(
            earlier_period_12m,
            [col("child")],
            [col("child")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(
            col("earlier_end")
                .lt_eq(col("cla_start"))
                .and(col("earlier_end").gt_eq(col("cla_start").dt().offset_by(lit("-12mo")))),
        )
        .select([col("child"), lit(true).alias("second_period_12m")])
        .unique(None, UniqueKeepStrategy::First);
    let cin_dis = ident
        .clone()
        .filter(mine())
        .select([col("child"), col("disability")]);
    out.insert(
        8,
        latest
            .filter(
                col("last_dec")
                    .is_null()
                    .or(col("last_dec").gt(lit(d)))
                    .or(col("last_dec").gt_eq(lit(w.six_months))),
            )
            .with_columns([when(col("last_dec").lt_eq(lit(d)))
                .then(col("last_dec"))
                .otherwise(lit(NULL).cast(DataType::Date))
                .alias("ceased")])
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
                lit(la).alias("la_code"),
                age_at("birth_date", d).alias("age"),
            ])
            .join(
                ls_start,
                [col("child")],
                [col("child")],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                moves_12m,
                [col("child")],
                [col("child")],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                event_count("missing", "missing_12m"),
                [col("child")],
                [col("child")],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                event_count("away", "absent_12m"),
                [col("child")],
                [col("child")],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                second,
                [col("child")],
                [col("child")],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                cin_dis,
                [col("child")],
                [col("child")],
                JoinArgs::new(JoinType::Left),
            )
            .with_columns([
                col("missing_12m").fill_null(lit(0i64)),
                col("absent_12m").fill_null(lit(0i64)),
                col("second_period_12m").fill_null(lit(false)),
            ]),
    );

    // List 9: care leavers of the latest return up to the date.
    let leavers = facts.get(FactTable::CareLeavers)?.lazy().filter(mine());
    let year = crate::domain::dates::collection_year(d);
    out.insert(
        9,
        leavers
            .filter(col("year").eq(col("year").filter(col("year").lt_eq(lit(year))).max()))
            .filter(col("excluded").not())
            .join(
                cin_dis_for(facts, la)?,
                [col("child")],
                [col("child")],
                JoinArgs::new(JoinType::Left),
            )
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
            .join(
                ever_uasc(facts, la)?,
                [col("child")],
                [col("child")],
                JoinArgs::new(JoinType::Left),
            )
            .with_column(col("uasc_or_former_uasc").fill_null(lit(false))),
    );

    // List 10: adopted in the 12 months before, or subject to a placement order at the date.
    let adopted = facts
        .get(FactTable::Adoptions)?
        .lazy()
        .filter(mine())
        .filter(in_window("date_adopted", w.twelve_months, d))
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
        ]);
    let on_order = episodes
        .clone()
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
        .join(
            adopted.clone().select([col("child")]),
            [col("child")],
            [col("child")],
            JoinArgs::new(JoinType::Anti),
        )
        .select([
            col("child"),
            col("entered_care"),
            col("placement_order_date"),
            col("placed_date"),
            col("birth_date"),
            col("sex"),
        ]);
    out.insert(
        10,
        concat(
            [adopted, on_order],
            UnionArgs {
                diagonal: true,
                ..Default::default()
            },
        )?
        .with_columns([
            age_at("birth_date", d).alias("age"),
            lit(la).alias("la_code"),
        ])
        .join(
            ident.clone().filter(mine()).select([
                col("child"),
                col("ethnicity"),
                col("disability"),
            ]),
            [col("child")],
            [col("child")],
            JoinArgs::new(JoinType::Left),
        ),
    );

    let mut result = BTreeMap::new();
    for (list, lf) in out {
        let spec = spec(list);
        let df = lf.collect()?;
        let have: Vec<&str> = df
            .get_column_names()
            .into_iter()
            .map(|s| s.as_str())
            .filter(|n| spec.column(n).is_some())
            .collect();
        let mut shaped = shape(spec, df.clone().lazy(), &have, w.framework)
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
        result.insert(list, shaped);
    }
    Ok(result)
}

/// Children with a UASC row in the LA's 903 history (UASC now or formerly).
fn ever_uasc(facts: &Facts, la: &str) -> PolarsResult<LazyFrame> {
    Ok(facts
        .canonical("uasc")?
        .filter(col("la_code").eq(lit(la)))
        .select([col("child"), lit(true).alias("uasc_or_former_uasc")])
        .unique_stable(None, UniqueKeepStrategy::First))
}

fn cin_dis_for(facts: &Facts, la: &str) -> PolarsResult<LazyFrame> {
    Ok(cin_identity(facts)?
        .filter(col("la_code").eq(lit(la)))
        .select([col("child"), col("disability")]))
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

    /// The canonical frame for `name` from `parts` (each with some of its columns).
    fn aligned(&self, name: &str, parts: Vec<LazyFrame>) -> PolarsResult<LazyFrame> {
        let empty = super::Empty.table(name)?;
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
    fn returns_held(&self) -> PolarsResult<Vec<(String, crate::ingest::returns::Collection, i32)>> {
        use crate::ingest::returns::Collection;
        Ok(self
            .years
            .iter()
            .flat_map(|&y| {
                [
                    (self.la.clone(), Collection::Cin, y),
                    (self.la.clone(), Collection::Ssda903, y),
                ]
            })
            .collect())
    }

    fn table(&self, name: &str) -> PolarsResult<LazyFrame> {
        let pick = |n: u8, cols: &[(&str, &str)]| -> Option<LazyFrame> {
            self.list(n).map(|lf| {
                lf.select(
                    cols.iter()
                        .map(|(from, to)| col(*from).alias(*to))
                        .collect::<Vec<_>>(),
                )
            })
        };
        let parts: Vec<LazyFrame> = match name {
            "cin_child" => [3u8, 4, 5, 6, 7]
                .iter()
                .filter_map(|&n| {
                    pick(
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
                .unwrap_or_default(),
            "cin_episode" => {
                let parts: Vec<LazyFrame> = [
                    pick(
                        6,
                        &[
                            ("child", "child"),
                            ("cin_start", "referral_date"),
                            ("primary_need", "primary_need"),
                            ("cin_closure", "closure_date"),
                            ("closure_reason", "reason_for_closure"),
                        ],
                    ),
                    pick(
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
                    vec![]
                } else {
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
                    vec![
                        merged
                            .group_by_stable([col("child"), col("referral_date")])
                            .agg(aggs),
                    ]
                }
            }
            "cin_assessment" => pick(
                4,
                &[
                    ("child", "child"),
                    ("assessment_start", "assessment_start"),
                    ("assessment_authorised", "authorisation_date"),
                ],
            )
            .into_iter()
            .collect(),
            "cin_s47" => pick(
                5,
                &[
                    ("child", "child"),
                    ("s47_start", "s47_start"),
                    ("icpc_date", "icpc_date"),
                    ("icpc_not_required", "icpc_not_required"),
                ],
            )
            .into_iter()
            .collect(),
            "cin_cpp" => pick(
                7,
                &[
                    ("child", "child"),
                    ("cpp_start", "cpp_start"),
                    ("cpp_end", "cpp_end"),
                    ("initial_category", "initial_category"),
                    ("latest_category", "latest_category"),
                    ("previous_cpp", "previous_cpp_count"),
                ],
            )
            .into_iter()
            .collect(),
            "cin_cpp_review" => pick(
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
            "header" => pick(
                8,
                &[
                    ("child", "child"),
                    ("sex", "sex"),
                    ("birth_date", "dob"),
                    ("ethnicity", "ethnic"),
                ],
            )
            .into_iter()
            .collect(),
            "episodes" => self
                .list(8)
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
                .collect(),
            "oc3" => pick(
                9,
                &[
                    ("child", "child"),
                    ("birth_date", "dob"),
                    ("in_touch", "in_touch"),
                    ("activity", "activ"),
                    ("accommodation", "accom"),
                ],
            )
            .into_iter()
            .collect(),
            _ => vec![],
        };
        self.aligned(name, parts)
    }
}
