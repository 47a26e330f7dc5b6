//! Children-looked-after facts from the SSDA903 history: episodes with their period of care and
//! placement, periods of care, placements, missing incidents, health (OC2), care leavers (OC3)
//! and adoptions.
//!
//! Periods and placements are sequences within a child's episodes, so they are computed in one
//! pass over the episodes sorted by child and DECOM (a rule per line, as the DfE guidance words
//! them); the rest is polars.

use std::collections::HashMap;

use polars::prelude::*;

use super::{FactTable, Facts, Locations};
use crate::domain::dates::{
    age_on, birthday, collection_year_end, collection_year_start, from_epoch_days, to_epoch_days,
};
use crate::ingest::canonical::CanonicalTable;

/// Placement types grouped as DfE's placement tables and the framework's context section do
/// (`group` in data/codes/ssda903.yaml's PLACE list: foster, residential, with_parents,
/// placed_for_adoption, independent; any other code is `other`).
pub fn placement_group(place: &str) -> &'static str {
    place_codes().group(place, "group").unwrap_or("other")
}

/// The groups of the framework's context section ("XX live in residential children's homes,
/// of whom XX% live out of the authority area"): `context` in the PLACE list (children's
/// homes K1, K2; residential special schools S1; foster families U1–U6; with parents P1), else
/// `other`.
pub fn context_group(place: &str) -> &'static str {
    place_codes().group(place, "context").unwrap_or("other")
}

/// Temporary moves (T0–T4, `kind: temporary` in the PLACE list): not placements.
fn is_temporary(place: &str) -> bool {
    place_codes().group(place, "kind") == Some("temporary")
}

fn place_codes() -> &'static crate::domain::codes::CodeList {
    crate::domain::codes::CodeLists::ssda903().list("PLACE")
}

/// 20 miles in metres (OS grid distances).
const TWENTY_MILES_M: f64 = 32_186.9;

/// Episodes with their period of care and placement.
///
/// - A **period of care** starts with an episode with RNE S, or after an episode that did not
///   end with REC X1 (the first episode of a child in the history also starts one; if its RNE
///   is not S the real start is before the history and `period_start_censored` is true).
/// - A **placement** starts with the period, and with each episode whose RNE is P, B, T or U
///   (a change of placement, with a new carer or the same one), except: an RNE L episode is the
///   same placement; a move to A3/A5 (placed for adoption with the current foster carer) is not a
///   change; temporary placements (T0–T4) are not placements, and the return from one to the
///   same placement (same type, postcode and URN) is not a new placement.
/// - A **carer** starts with the period and with each new placement whose RNE is P or B (DfE's
///   "change of placement (i.e. carer)"); RNE T ("change of placement, same carer"), U ("change
///   of legal status and change of placement (but same carer)") and L keep the carer, so
///   `carer_start` is when the child began living with the carer they are with. DfE's
///   long-term stability asks for "the same carer", and A10 stops its clock when the child
///   moved in with the foster carers who adopt: both read the carer's start, not the placement's.
/// - `short_break`: legal status V3/V4 (an agreed series of short breaks), left out of most
///   children-looked-after figures.
pub fn episodes(facts: &Facts) -> PolarsResult<DataFrame> {
    let mut df = episode_rows(facts)?;
    sequence(&df)?.add_to(&mut df)?;
    locate(facts, &df)?.add_to(&mut df)?;
    Ok(df)
}

/// The 903 episodes with the child's header and UASC facts, sorted by child and DECOM (the
/// order [`sequence`] walks).
fn episode_rows(facts: &Facts) -> PolarsResult<DataFrame> {
    let header = facts.canonical(CanonicalTable::Header)?.select([
        col("la_code"),
        col("child"),
        col("sex"),
        col("dob"),
        col("ethnic"),
    ]);
    let uasc = facts
        .canonical(CanonicalTable::Uasc)?
        .select([
            col("la_code"),
            col("child"),
            lit(true).alias("uasc"),
            col("duc"),
        ])
        .unique_stable_generic(
            Some(vec!["la_code".into(), "child".into()]),
            UniqueKeepStrategy::First,
        );
    let keys = [col("la_code"), col("child")];
    facts
        .canonical(CanonicalTable::Episodes)?
        .select([
            col("la_code"),
            col("child"),
            col("decom"),
            col("dec"),
            col("rne"),
            col("ls"),
            col("cin"),
            col("place"),
            col("place_provider"),
            col("rec"),
            col("reason_place_change"),
            col("home_post"),
            col("pl_post"),
            col("urn"),
        ])
        .join(
            header,
            keys.clone(),
            keys.clone(),
            JoinArgs::new(JoinType::Left),
        )
        .join(uasc, keys.clone(), keys, JoinArgs::new(JoinType::Left))
        .with_column(col("uasc").fill_null(lit(false)))
        // The day UASC status ceased: DUC, or for a UASC row without one the 18th birthday
        // (DfE's guide), so a blank DUC never erases the status the row states.
        .with_column(
            when(col("uasc"))
                .then(col("duc").fill_null(col("dob").dt().offset_by(lit("18y"))))
                .otherwise(lit(NULL).cast(DataType::Date))
                .alias("uasc_until"),
        )
        .sort(
            ["la_code", "child", "decom"],
            SortMultipleOptions::default(),
        )
        .collect()
}

/// Per episode: its period of care, placement and carer (see [`episodes`]) and its groups.
#[derive(Default)]
struct Sequences {
    period_seq: Vec<u32>,
    period_start: Vec<i32>,
    censored: Vec<bool>,
    new_placement: Vec<bool>,
    placement_seq: Vec<u32>,
    placement_start: Vec<i32>,
    carer_start: Vec<i32>,
    previous_carer_start: Vec<Option<i32>>,
    short_break: Vec<bool>,
    temporary: Vec<bool>,
    group: Vec<&'static str>,
    context: Vec<&'static str>,
}

/// Walks the episodes in order, a child at a time, applying the period, placement and carer
/// rules of [`episodes`] line by line.
fn sequence(df: &DataFrame) -> PolarsResult<Sequences> {
    let la = df.column("la_code")?.str()?;
    let child = df.column("child")?.str()?;
    let decom = df.column("decom")?.date()?.physical();
    let rne = df.column("rne")?.str()?;
    let ls = df.column("ls")?.str()?;
    let place = df.column("place")?.str()?;
    let rec = df.column("rec")?.str()?;
    let pl_post = df.column("pl_post")?.str()?;
    let urn = df.column("urn")?.str()?;
    let mut out = Sequences::default();
    let (mut p_seq, mut pl_seq, mut p_start, mut p_cens, mut pl_start, mut c_start) =
        (0u32, 0u32, 0i32, false, 0i32, 0i32);
    // When the child began living with the carer before the current one, in this period.
    let mut c_previous: Option<i32> = None;
    // (place, postcode, URN) of the last non-temporary episode, to spot returns from a
    // temporary placement.
    let mut last_real: Option<(Option<&str>, Option<&str>, Option<&str>)> = None;
    let mut previous_temporary = false;
    for i in 0..df.height() {
        let same_child = i > 0 && la.get(i) == la.get(i - 1) && child.get(i) == child.get(i - 1);
        if !same_child {
            p_seq = 0;
            pl_seq = 0;
            last_real = None;
            previous_temporary = false;
        }
        let r = rne.get(i).unwrap_or("");
        let pl = place.get(i).unwrap_or("");
        let starts_period = !same_child || r == "S" || rec.get(i - 1) != Some("X1");
        if starts_period {
            p_seq += 1;
            p_start = decom.get(i).unwrap_or(0);
            p_cens = r != "S";
        }
        let temp = is_temporary(pl);
        let key = (place.get(i), pl_post.get(i), urn.get(i));
        let starts_placement = if starts_period {
            true
        } else if temp || matches!(pl, "A3" | "A5") || !matches!(r, "P" | "B" | "T" | "U") {
            false
        } else {
            !(previous_temporary && last_real == Some(key))
        };
        if starts_placement {
            pl_seq += 1;
            pl_start = decom.get(i).unwrap_or(0);
            if starts_period {
                c_previous = None;
                c_start = pl_start;
            } else if matches!(r, "P" | "B") {
                c_previous = Some(c_start);
                c_start = pl_start;
            }
        }
        if !temp {
            last_real = Some(key);
        }
        previous_temporary = temp;
        out.period_seq.push(p_seq);
        out.period_start.push(p_start);
        out.censored.push(p_cens);
        out.new_placement.push(starts_placement);
        out.placement_seq.push(pl_seq);
        out.placement_start.push(pl_start);
        out.carer_start.push(c_start);
        out.previous_carer_start.push(c_previous);
        out.short_break.push(matches!(ls.get(i), Some("V3" | "V4")));
        out.temporary.push(temp);
        out.group.push(placement_group(pl));
        out.context.push(context_group(pl));
    }
    Ok(out)
}

/// A column of days since the epoch as dates.
fn date_column(name: &str, days: Vec<i32>) -> Column {
    Int32Chunked::from_vec(name.into(), days)
        .into_date()
        .into_column()
}

impl Sequences {
    fn add_to(self, df: &mut DataFrame) -> PolarsResult<()> {
        df.with_column(Column::new("period_of_care_seq".into(), self.period_seq))?;
        df.with_column(date_column("period_of_care_start", self.period_start))?;
        df.with_column(Column::new(
            "period_of_care_start_censored".into(),
            self.censored,
        ))?;
        df.with_column(Column::new("new_placement".into(), self.new_placement))?;
        df.with_column(Column::new("placement_seq".into(), self.placement_seq))?;
        df.with_column(date_column("placement_start", self.placement_start))?;
        df.with_column(date_column("carer_start", self.carer_start))?;
        df.with_column(
            Int32Chunked::from_iter_options(
                "previous_carer_start".into(),
                self.previous_carer_start.into_iter(),
            )
            .into_date()
            .into_column(),
        )?;
        df.with_column(Column::new("short_break".into(), self.short_break))?;
        df.with_column(Column::new("temporary".into(), self.temporary))?;
        df.with_column(Column::new("placement_group".into(), self.group))?;
        df.with_column(Column::new("context_group".into(), self.context))?;
        Ok(())
    }
}

/// Per episode: the LA the placement is in, whether outside the child's LA, and the distance
/// from home.
struct Located {
    placement_la: Vec<Option<String>>,
    outside: Vec<Option<bool>>,
    distance: Vec<Option<f64>>,
}

/// Placement location and distance from the postcodes (exact where listed, else sectors).
fn locate(facts: &Facts, df: &DataFrame) -> PolarsResult<Located> {
    let la = df.column("la_code")?.str()?;
    let pl_post = df.column("pl_post")?.str()?;
    let home_post = df.column("home_post")?.str()?;
    let n = df.height();
    let locations = Locations::new(facts.reference)?;
    let mut out = Located {
        placement_la: Vec::with_capacity(n),
        outside: Vec::with_capacity(n),
        distance: Vec::with_capacity(n),
    };
    for i in 0..n {
        let p = pl_post.get(i).and_then(|pc| locations.locate(pc));
        let h = home_post.get(i).and_then(|pc| locations.locate(pc));
        // An unmapped placement postcode (not in the ONS directory) is unknown, not "outside".
        let pla = p.map(|p| p.0.clone().unwrap_or_else(|| "non-English".to_string()));
        out.outside
            .push(pla.as_ref().map(|code| Some(code.as_str()) != la.get(i)));
        out.placement_la.push(pla);
        out.distance.push(match (p, h) {
            (Some(p), Some(h)) => Some(((p.1 - h.1).powi(2) + (p.2 - h.2).powi(2)).sqrt()),
            _ => None,
        });
    }
    Ok(out)
}

impl Located {
    fn add_to(self, df: &mut DataFrame) -> PolarsResult<()> {
        let over_20: Vec<Option<bool>> = self
            .distance
            .iter()
            .map(|d| d.map(|d| d > TWENTY_MILES_M))
            .collect();
        df.with_column(Column::new("placement_la".into(), self.placement_la))?;
        df.with_column(Column::new("outside_la".into(), self.outside))?;
        df.with_column(Column::new("distance_m".into(), self.distance))?;
        df.with_column(Column::new("over_20_miles".into(), over_20))?;
        Ok(())
    }
}

/// Periods of care: start, end, reason, whether only short breaks, the child's UASC status
/// (`uasc`, and `uasc_until`, the day it ceased), and the gap to the child's next period (for
/// returns to care).
pub fn periods(facts: &Facts) -> PolarsResult<DataFrame> {
    let ep = facts.get(FactTable::ClaEpisodes)?;
    let keys = [col("la_code"), col("child"), col("period_of_care_seq")];
    let mut df = ep
        .lazy()
        .group_by_stable(keys)
        .agg([
            col("period_of_care_start").first(),
            col("period_of_care_start_censored").first(),
            col("dec").last().alias("period_of_care_end"),
            col("rec").last().alias("reason_ceased"),
            col("short_break").all(true).alias("short_breaks_only"),
            col("ls").first().alias("first_ls"),
            col("ls").last().alias("last_ls"),
            col("place").first().alias("first_place"),
            col("place").last().alias("last_place"),
            col("placement_group").last().alias("last_placement_group"),
            col("new_placement")
                .sum()
                .cast(DataType::Int32)
                .alias("placements"),
            col("dob").first(),
            col("sex").first(),
            col("ethnic").first(),
            col("uasc").first(),
            // The day the child's UASC status ceased (DUC, else the 18th birthday), so a
            // start can be read as a UASC's start only while the status held
            // (cla_starts_uasc_pct: UASC when the period of care began).
            col("uasc_until").first(),
        ])
        .sort(
            ["la_code", "child", "period_of_care_seq"],
            SortMultipleOptions::default(),
        )
        .with_column(super::next_in_child("period_of_care_start").alias("next_period_start"))
        .collect()?;
    let start = df
        .column("period_of_care_start")?
        .date()?
        .physical()
        .clone();
    let end = df.column("period_of_care_end")?.date()?.physical().clone();
    let dob = df.column("dob")?.date()?.physical().clone();
    let next = df.column("next_period_start")?.date()?.physical().clone();
    let age = |d: Option<i32>, at: Option<i32>| match (d, at) {
        (Some(d), Some(a)) => Some(age_on(from_epoch_days(d), from_epoch_days(a))),
        _ => None,
    };
    let age_start: Int32Chunked = (0..df.height())
        .map(|i| age(dob.get(i), start.get(i)))
        .collect();
    let age_end: Int32Chunked = (0..df.height())
        .map(|i| age(dob.get(i), end.get(i)))
        .collect();
    let eighteenth: Int32Chunked = (0..df.height())
        .map(|i| {
            dob.get(i)
                .map(|d| to_epoch_days(birthday(from_epoch_days(d), 18)))
        })
        .collect();
    let gap: Int32Chunked = (0..df.height())
        .map(|i| match (end.get(i), next.get(i)) {
            (Some(e), Some(n)) => Some(n - e),
            _ => None,
        })
        .collect();
    df.with_column(age_start.with_name("age_at_start".into()).into_column())?;
    df.with_column(age_end.with_name("age_at_end".into()).into_column())?;
    df.with_column(
        eighteenth
            .with_name("birthday_18".into())
            .into_date()
            .into_column(),
    )?;
    df.with_column(gap.with_name("days_to_next_period".into()).into_column())?;
    Ok(df)
}

/// Placements: one row per placement (a run of episodes in the same placement), with when the
/// child began living with its carer (`carer_start`, earlier than `placement_start` after a
/// same-carer move) and with the carer before (`previous_carer_start`).
pub fn placements(facts: &Facts) -> PolarsResult<DataFrame> {
    let ep = facts.get(FactTable::ClaEpisodes)?;
    ep.lazy()
        .group_by_stable([col("la_code"), col("child"), col("placement_seq")])
        .agg([
            col("placement_start").first(),
            col("carer_start").first(),
            col("previous_carer_start").first(),
            col("dec").last().alias("placement_end"),
            col("place").first().alias("first_place"),
            col("place").last().alias("last_place"),
            col("placement_group").last(),
            col("period_of_care_seq").first(),
            col("period_of_care_start").first(),
            col("period_of_care_start_censored").first(),
            col("short_break").all(true),
            col("temporary").all(true),
            col("place")
                .is_in(
                    lit(Series::new("a".into(), ["A3", "A4", "A5", "A6"])).implode(false),
                    false,
                )
                .any(true)
                .alias("placed_for_adoption"),
            col("dob").first(),
            col("uasc").first(),
        ])
        .sort(
            ["la_code", "child", "placement_seq"],
            SortMultipleOptions::default(),
        )
        .with_column(
            // The placement before, in the same period of care.
            when(
                col("period_of_care_seq")
                    .eq(col("period_of_care_seq").shift(lit(1)))
                    .fill_null(lit(false)),
            )
            .then(super::previous_in_child("placement_start"))
            .otherwise(lit(NULL))
            .alias("previous_placement_start"),
        )
        .with_column(col("dob").dt().offset_by(lit("16y")).alias("birthday_16"))
        .collect()
}

/// Episodes and missing/away incidents on one timeline, so that "children looked after during
/// the period with at least one missing incident" is one expression: `kind` is `episode`,
/// `missing` (MISSING M) or `away` (MISSING A).
pub fn events(facts: &Facts) -> PolarsResult<DataFrame> {
    let ep = facts.get(FactTable::ClaEpisodes)?;
    let episodes = ep.lazy().select([
        col("la_code"),
        col("child"),
        lit("episode").alias("kind"),
        col("decom").alias("start_date"),
        col("dec").alias("end_date"),
        col("short_break"),
    ]);
    let missing = facts.canonical(CanonicalTable::Missing)?.select([
        col("la_code"),
        col("child"),
        when(col("missing").eq(lit("A")))
            .then(lit("away"))
            .otherwise(lit("missing"))
            .alias("kind"),
        col("mis_start").alias("start_date"),
        col("mis_end").alias("end_date"),
        lit(false).alias("short_break"),
    ]);
    concat([episodes, missing], UnionArgs::default())?
        .sort(
            ["la_code", "child", "start_date", "kind"],
            SortMultipleOptions::default(),
        )
        .collect()
}

/// Health of children looked after continuously for 12 months at 31 March (the OC2 cohort).
pub fn health(facts: &Facts) -> PolarsResult<DataFrame> {
    let header = facts.canonical(CanonicalTable::Header)?.select([
        col("la_code"),
        col("child"),
        col("dob").alias("header_dob"),
    ]);
    let mut df = facts
        .canonical(CanonicalTable::Oc2)?
        .join(
            header,
            [col("la_code"), col("child")],
            [col("la_code"), col("child")],
            JoinArgs::new(JoinType::Left),
        )
        .select([
            col("la_code"),
            col("child"),
            col("source_year").alias("year"),
            col("dob").fill_null(col("header_dob")).alias("dob"),
            // HEALTH_CHECK is the under-5s' health promotion (development) checks, asked only
            // of children under 5 (DfE rules 545/546); HEALTH_ASSESSMENT is the annual health
            // assessment every child has, which DfE publishes as "health checks".
            col("health_check")
                .eq(lit("1"))
                .fill_null(lit(false))
                .alias("health_check"),
            col("health_assessment")
                .eq(lit("1"))
                .fill_null(lit(false))
                .alias("health_assessment"),
            col("teeth_check")
                .eq(lit("1"))
                .fill_null(lit(false))
                .alias("teeth_check"),
            col("immunisations")
                .eq(lit("1"))
                .fill_null(lit(false))
                .alias("immunisations"),
            col("sdq_score"),
            col("sdq_reason"),
            col("substance_misuse")
                .eq(lit("1"))
                .fill_null(lit(false))
                .alias("substance_misuse"),
            col("convicted")
                .eq(lit("1"))
                .fill_null(lit(false))
                .alias("convicted"),
        ])
        .sort(["la_code", "year", "child"], SortMultipleOptions::default())
        .collect()?;
    let year = df.column("year")?.i32()?.clone();
    let dob = df.column("dob")?.date()?.physical().clone();
    let as_at: Int32Chunked = year
        .iter()
        .map(|y| y.map(|y| to_epoch_days(collection_year_end(y))))
        .collect();
    let age: Int32Chunked = (0..df.height())
        .map(|i| match (year.get(i), dob.get(i)) {
            (Some(y), Some(d)) => Some(age_on(from_epoch_days(d), collection_year_end(y))),
            _ => None,
        })
        .collect();
    df.with_column(as_at.with_name("as_at".into()).into_date().into_column())?;
    df.with_column(age.with_name("age".into()).into_column())?;
    Ok(df)
}

/// Care leavers: one row per OC3 record, at the birthday (17th to 21st) that falls in its
/// collection year.
///
/// The cohort is the LA's own OC3 return (the young people it judged to be former relevant
/// children). `excluded` applies DfE's exclusions: the young person died (DIED) or returned
/// home for six months or more (RHOM), their only care was short breaks (V3/V4), their care was
/// taken over by another LA (their last period ended E3), or — at 17 or 18 — they were still
/// looked after on their birthday.
pub fn care_leavers(facts: &Facts) -> PolarsResult<DataFrame> {
    let mut df = oc3_records(facts)?;
    let by_child = periods_by_child(&facts.get(FactTable::ClaPeriods)?)?;
    let la = df.column("la_code")?.str()?.clone();
    let child = df.column("child")?.str()?.clone();
    let year = df.column("year")?.i32()?.clone();
    let dob = df.column("dob")?.date()?.physical().clone();
    let in_touch = df.column("in_touch")?.str()?.clone();
    let mut judged = Judged::default();
    let empty = vec![];
    for i in 0..df.height() {
        let history = by_child
            .get(&(
                la.get(i).unwrap_or("").to_string(),
                child.get(i).unwrap_or("").to_string(),
            ))
            .unwrap_or(&empty);
        judged.push(judge_care_leaver(
            year.get(i),
            dob.get(i),
            history,
            in_touch.get(i),
        ));
    }
    judged.add_to(&mut df)?;
    super::flag_present(
        df.lazy(),
        left_foster_care_at_18(facts)?,
        &["la_code", "child"],
        "left_foster_care_at_18",
    )
    .with_columns(care_leaver_outcomes())
    .collect()
}

/// The young people whose care ended on their 18th birthday in a foster placement (not short
/// breaks): DfE's "staying put" cohort, whose later OC3 accommodation says whether they still
/// live with their former foster carers (ACCOM Z1/Z2).
fn left_foster_care_at_18(facts: &Facts) -> PolarsResult<LazyFrame> {
    Ok(facts
        .get(FactTable::ClaPeriods)?
        .lazy()
        .filter(
            col("period_of_care_end")
                .eq(col("birthday_18"))
                .and(col("last_placement_group").eq(lit("foster")))
                .and(col("short_breaks_only").not()),
        )
        .select([col("la_code"), col("child")]))
}

/// The LA's OC3 records, one per young person and year, with the header's DOB where the OC3
/// row lacks one.
fn oc3_records(facts: &Facts) -> PolarsResult<DataFrame> {
    let header = facts.canonical(CanonicalTable::Header)?.select([
        col("la_code"),
        col("child"),
        col("dob").alias("header_dob"),
    ]);
    facts
        .canonical(CanonicalTable::Oc3)?
        .join(
            header,
            [col("la_code"), col("child")],
            [col("la_code"), col("child")],
            JoinArgs::new(JoinType::Left),
        )
        .select([
            col("la_code"),
            col("child"),
            col("source_year").alias("year"),
            col("dob").fill_null(col("header_dob")).alias("dob"),
            col("in_touch"),
            col("activ"),
            col("accom"),
        ])
        .sort(["la_code", "child", "year"], SortMultipleOptions::default())
        .collect()
}

/// One period of care as the care-leaver exclusions read it.
struct PeriodSummary {
    start: i32,
    end: Option<i32>,
    short_breaks_only: bool,
    reason_ceased: Option<String>,
}

/// Each child's periods of care, by (LA, child).
fn periods_by_child(
    periods: &DataFrame,
) -> PolarsResult<HashMap<(String, String), Vec<PeriodSummary>>> {
    let mut by_child: HashMap<(String, String), Vec<PeriodSummary>> = HashMap::new();
    let (pl, pc) = (
        periods.column("la_code")?.str()?,
        periods.column("child")?.str()?,
    );
    let (ps, pe) = (
        periods.column("period_of_care_start")?.date()?.physical(),
        periods.column("period_of_care_end")?.date()?.physical(),
    );
    let sb = periods.column("short_breaks_only")?.bool()?;
    let rc = periods.column("reason_ceased")?.str()?;
    for i in 0..periods.height() {
        if let (Some(l), Some(c), Some(s)) = (pl.get(i), pc.get(i), ps.get(i)) {
            by_child
                .entry((l.to_string(), c.to_string()))
                .or_default()
                .push(PeriodSummary {
                    start: s,
                    end: pe.get(i),
                    short_breaks_only: sb.get(i).unwrap_or(false),
                    reason_ceased: rc.get(i).map(str::to_string),
                });
        }
    }
    Ok(by_child)
}

/// A care leaver's birthday in the year and DfE's exclusions, judged on it.
struct Judgement {
    birthday: Option<i32>,
    age: Option<i32>,
    looked_after: Option<bool>,
    reason: Option<&'static str>,
}

/// The birthday (17th to 21st) in the OC3 record's collection year, and the first exclusion
/// that applies on it (see [`care_leavers`]); a record without either is excluded, saying why.
fn judge_care_leaver(
    year: Option<i32>,
    dob: Option<i32>,
    history: &[PeriodSummary],
    in_touch: Option<&str>,
) -> Judgement {
    let unjudged = |why| Judgement {
        birthday: None,
        age: None,
        looked_after: None,
        reason: Some(why),
    };
    let (Some(y), Some(d)) = (year, dob) else {
        return unjudged("no date of birth");
    };
    let (ys, ye) = (collection_year_start(y), collection_year_end(y));
    let found = (17..=21).find_map(|a| {
        let b = birthday(from_epoch_days(d), a);
        (b >= ys && b <= ye).then_some((a, to_epoch_days(b)))
    });
    let Some((a, b)) = found else {
        return unjudged("no 17th-21st birthday in the year");
    };
    let in_care = history
        .iter()
        .any(|p| !p.short_breaks_only && p.start <= b && p.end.is_none_or(|e| e > b));
    let only_short_breaks = !history.is_empty() && history.iter().all(|p| p.short_breaks_only);
    let transferred = history
        .iter()
        .filter(|p| p.end.is_some_and(|e| e <= b))
        .max_by_key(|p| p.end)
        .is_some_and(|p| p.reason_ceased.as_deref() == Some("E3"));
    let reason = match in_touch {
        Some("DIED") => Some("died"),
        Some("RHOM") => Some("returned home for six months or more"),
        _ if only_short_breaks => Some("only short breaks (V3/V4)"),
        _ if transferred => Some("care taken over by another LA"),
        _ if a <= 18 && in_care => Some("still looked after on the birthday"),
        _ => None,
    };
    Judgement {
        birthday: Some(b),
        age: Some(a),
        looked_after: Some(in_care),
        reason,
    }
}

/// The judgements of a table's rows, as its new columns.
#[derive(Default)]
struct Judged {
    birthday: Vec<Option<i32>>,
    age: Vec<Option<i32>>,
    looked_after: Vec<Option<bool>>,
    excluded: Vec<bool>,
    reason: Vec<Option<&'static str>>,
}

impl Judged {
    fn push(&mut self, j: Judgement) {
        self.birthday.push(j.birthday);
        self.age.push(j.age);
        self.looked_after.push(j.looked_after);
        self.excluded.push(j.reason.is_some());
        self.reason.push(j.reason);
    }

    fn add_to(self, df: &mut DataFrame) -> PolarsResult<()> {
        df.with_column(
            Int32Chunked::from_iter_options("birthday".into(), self.birthday.into_iter())
                .into_date()
                .into_column(),
        )?;
        df.with_column(
            Int32Chunked::from_iter_options("age".into(), self.age.into_iter()).into_column(),
        )?;
        df.with_column(Column::new(
            "looked_after_on_birthday".into(),
            self.looked_after,
        ))?;
        df.with_column(Column::new("excluded".into(), self.excluded))?;
        df.with_column(Column::new("exclusion_reason".into(), self.reason))?;
        Ok(())
    }
}

/// The OC3 outcomes the care-leaver indicators count: age group, EET, higher education,
/// suitable accommodation, abroad or deported, not in touch.
fn care_leaver_outcomes() -> Vec<Expr> {
    vec![
        when(col("age").lt_eq(lit(18)))
            .then(lit("17-18"))
            .otherwise(lit("19-21"))
            .alias("age_group"),
        col("activ")
            .str()
            .starts_with(lit("F"))
            .or(col("activ").str().starts_with(lit("P")))
            .fill_null(lit(false))
            .alias("eet"),
        col("activ")
            .is_in(
                lit(Series::new("he".into(), ["F1", "P1"])).implode(false),
                false,
            )
            .fill_null(lit(false))
            .alias("higher_education"),
        col("accom")
            .str()
            .ends_with(lit("1"))
            .fill_null(lit(false))
            .alias("accom_suitable"),
        col("accom")
            .str()
            .starts_with(lit("G"))
            .or(col("accom").str().starts_with(lit("H")))
            .fill_null(lit(false))
            .alias("abroad_or_deported"),
        col("in_touch")
            .is_in(
                lit(Series::new("nt".into(), ["NO", "REFU"])).implode(false),
                false,
            )
            .fill_null(lit(false))
            .alias("not_in_touch"),
    ]
}

/// Adopted children with the adoption scorecard's dates.
///
/// - entering care: the start of the period of care that ended in adoption (REC E11/E12);
/// - court authority to place: the first episode in that period with legal status E1
///   (placement order) or D1 (freeing order);
/// - moved in with the adoptive family: DECOM of the first A3–A6 episode in the period;
/// - for A10, when the child was adopted by their own foster carers (AD1 FOSTER_CARE = 1) and
///   the adoptive placement continues the foster placement (A3/A5), the clock stops when the
///   child moved in with those carers: the carer's start, which same-carer moves (RNE T/U)
///   before the adoptive placement do not reset;
/// - decision (DATE_INT) and match (DATE_MATCH) from AD1.
pub fn adoptions(facts: &Facts) -> PolarsResult<DataFrame> {
    let ep = facts.get(FactTable::ClaEpisodes)?;
    let periods = facts
        .get(FactTable::ClaPeriods)?
        .lazy()
        .filter(
            col("reason_ceased")
                .is_in(
                    lit(Series::new("a".into(), ["E11", "E12"])).implode(false),
                    false,
                )
                .and(col("period_of_care_end").is_not_null()),
        )
        .select([
            col("la_code"),
            col("child"),
            col("period_of_care_seq"),
            col("period_of_care_start").alias("date_entered_care"),
            col("period_of_care_end").alias("date_adopted"),
            col("period_of_care_start_censored"),
            col("dob"),
            col("sex"),
        ]);
    let key = [col("la_code"), col("child"), col("period_of_care_seq")];
    let placement_codes = lit(Series::new("a".into(), ["A3", "A4", "A5", "A6"])).implode(false);
    let dates = ep.lazy().group_by_stable(key.clone()).agg([
        col("decom")
            .filter(col("ls").is_in(
                lit(Series::new("po".into(), ["E1", "D1"])).implode(false),
                false,
            ))
            .min()
            .alias("date_court_authority"),
        col("decom")
            .filter(col("place").is_in(placement_codes.clone(), false))
            .min()
            .alias("date_moved_in"),
        col("placement_start")
            .filter(col("place").is_in(placement_codes.clone(), false))
            .first()
            .alias("adoptive_placement_start"),
        col("carer_start")
            .filter(col("place").is_in(placement_codes.clone(), false))
            .first()
            .alias("adoptive_carer_start"),
        col("place")
            .filter(col("place").is_in(placement_codes, false))
            .first()
            .alias("adoptive_place"),
    ]);
    let ad1 = facts.canonical(CanonicalTable::Ad1)?.select([
        col("la_code"),
        col("child"),
        col("date_int").alias("date_decision"),
        col("date_match"),
        col("foster_care")
            .eq(lit("1"))
            .fill_null(lit(false))
            .alias("foster_care"),
    ]);
    periods
        .join(dates, key.clone(), key, JoinArgs::new(JoinType::Left))
        .join(
            ad1,
            [col("la_code"), col("child")],
            [col("la_code"), col("child")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col("foster_care").fill_null(lit(false)))
        .with_column(
            when(col("foster_care").and(col("adoptive_place").is_in(
                lit(Series::new("fc".into(), ["A3", "A5"])).implode(false),
                false,
            )))
            .then(col("adoptive_carer_start"))
            .otherwise(col("date_moved_in"))
            .alias("date_moved_in_with_carers"),
        )
        .with_columns(scorecard_days())
        .sort(
            ["la_code", "date_adopted", "child"],
            SortMultipleOptions::default(),
        )
        .collect()
}

/// The adoption scorecard's intervals in days (A1, A10, A2) and the stages of DfE's adoption
/// process table, between the dates [`adoptions`] gathers.
fn scorecard_days() -> Vec<Expr> {
    let days = |a: &str, b: &str| {
        (col(b) - col(a))
            .dt()
            .total_days(false)
            .cast(DataType::Int32)
    };
    vec![
        days("date_entered_care", "date_moved_in").alias("days_a1"),
        days("date_entered_care", "date_moved_in_with_carers").alias("days_a10"),
        days("date_court_authority", "date_match").alias("days_a2"),
        days("date_entered_care", "date_decision").alias("days_entry_to_decision"),
        days("date_decision", "date_court_authority").alias("days_decision_to_placement_order"),
        days("date_court_authority", "date_match").alias("days_placement_order_to_match"),
        days("date_match", "date_moved_in").alias("days_match_to_placed"),
        days("date_moved_in", "date_adopted").alias("days_placed_to_order"),
        // DfE's national stage 2 and stage 6 (the adoption process stages table).
        days("date_decision", "date_match").alias("days_decision_to_match"),
        days("date_entered_care", "date_adopted").alias("days_entry_to_adoption"),
    ]
}

/// Social worker episodes (903 from 2023/24): one row per child and worker allocation, so
/// "children with several social workers in 12 months" is a count per child.
pub fn social_workers(facts: &Facts) -> PolarsResult<DataFrame> {
    facts
        .canonical(CanonicalTable::SwEpisodes)?
        .select([
            col("la_code"),
            col("child"),
            col("dob"),
            col("sw_id"),
            col("sw_decom"),
            col("sw_dec"),
            col("sw_reason"),
        ])
        .sort(
            ["la_code", "child", "sw_decom"],
            SortMultipleOptions::default(),
        )
        .collect()
}

/// Deprivation of liberty orders (903 from 2026/27): one row per order, with the placement
/// the child was in when the order started (`place`, `placement_group`; empty when no episode
/// of the history is open that day): which kinds of home children are deprived of their
/// liberty in.
pub fn dolos(facts: &Facts) -> PolarsResult<DataFrame> {
    let orders = facts.canonical(CanonicalTable::Dolo)?.select([
        col("la_code"),
        col("child"),
        col("dob"),
        col("dolo_start"),
        col("dolo_end"),
    ]);
    let episodes = facts.get(super::FactTable::ClaEpisodes)?.lazy().select([
        col("la_code"),
        col("child"),
        col("decom"),
        col("dec"),
        col("place"),
        col("placement_group"),
    ]);
    let keys = [col("la_code"), col("child"), col("dolo_start")];
    let placed = orders
        .clone()
        .join(
            episodes,
            [col("la_code"), col("child")],
            [col("la_code"), col("child")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(
            col("decom")
                .lt_eq(col("dolo_start"))
                .and(col("dec").is_null().or(col("dec").gt(col("dolo_start")))),
        )
        .sort(["decom"], SortMultipleOptions::default())
        .unique_stable_generic(Some(keys.to_vec()), UniqueKeepStrategy::Last)
        .select([
            col("la_code"),
            col("child"),
            col("dolo_start"),
            col("place"),
            col("placement_group"),
        ]);
    orders
        .join(placed, keys.clone(), keys, JoinArgs::new(JoinType::Left))
        .sort(
            ["la_code", "child", "dolo_start"],
            SortMultipleOptions::default(),
        )
        .collect()
}
