//! Every indicator of the catalogue on the hand-built history in tests/fixtures/indicators
//! (children L1–L19 and L30–L38 in the 903, R1–R12 and R30–R32 in the CIN census; `build.py` there tells
//! each child's story). Each expected figure is worked out by hand in the comments. LA 925's ONS population
//! for 2024/25 is 147,954, so a rate is n × 10,000 / 147,954.

mod common;

use std::sync::OnceLock;

use chrono::NaiveDate;
use cspi::derive::Facts;
use cspi::indicators::catalogue::Catalogue;
use cspi::indicators::evaluate::{Options, evaluate, standard_periods};
use cspi::indicators::period::{Period, PeriodType};
use cspi::ingest::reference::ReferenceTables;
use cspi::ingest::returns::Hints;
use cspi::ingest::store::Store;
use polars::prelude::*;

const POP: f64 = 147_954.0;

#[path = "indicators/help_and_protection.rs"]
mod help_and_protection;
#[path = "indicators/looked_after.rs"]
mod looked_after;
#[path = "indicators/returns_2026_27.rs"]
mod returns_2026_27;

struct Results {
    values: DataFrame,
    drilldown: std::collections::BTreeMap<String, DataFrame>,
}

fn results() -> &'static Results {
    static R: OnceLock<Results> = OnceLock::new();
    R.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("store"));
        let outcome =
            cspi::ingest::ingest(&[common::fixture("indicators")], &store, &Hints::default())
                .unwrap();
        assert_eq!(outcome.report.errors(), 0, "{:?}", outcome.report.issues);
        let facts = Facts::new(&store, ReferenceTables::embedded());
        let mut periods = standard_periods(2023, 2025, 3, None);
        periods.push(Period::snapshot(d(2024, 12, 31)));
        let e = evaluate(
            &Catalogue::embedded().unwrap(),
            &facts,
            &periods,
            &Options {
                drilldown: true,
                only: vec![],
            },
        )
        .unwrap();
        Results {
            values: e.values,
            drilldown: e.drilldown,
        }
    })
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// (numerator, denominator, value) of a figure.
fn fig_at(
    id: &str,
    kind: PeriodType,
    end: NaiveDate,
    breakdown: Option<&str>,
) -> (f64, Option<f64>, Option<f64>) {
    let v = &results().values;
    let end_days = cspi::domain::dates::to_epoch_days(end);
    let mask = v.column("indicator_id").unwrap().str().unwrap().equal(id)
        & v.column("period_type")
            .unwrap()
            .str()
            .unwrap()
            .equal(kind.name())
        & v.column("period_end")
            .unwrap()
            .date()
            .unwrap()
            .physical()
            .equal(end_days)
        & match breakdown {
            Some(b) => v.column("breakdown").unwrap().str().unwrap().equal(b),
            None => v.column("breakdown").unwrap().is_null(),
        };
    let row = v.filter(&mask).unwrap();
    assert_eq!(row.height(), 1, "{id} {kind} {end} {breakdown:?}: {row}");
    let get = |c: &str| row.column(c).unwrap().f64().unwrap().get(0);
    (get("numerator").unwrap(), get("denominator"), get("value"))
}

/// A figure for the DfE year 2024/25.
fn fig(id: &str) -> (f64, Option<f64>, Option<f64>) {
    fig_at(id, PeriodType::Year, d(2025, 3, 31), None)
}

fn assert_percent(id: &str, num: f64, den: f64) {
    let (n, dd, v) = fig(id);
    assert_eq!((n, dd), (num, Some(den)), "{id}");
    assert!((v.unwrap() - 100.0 * num / den).abs() < 1e-9, "{id}");
}

fn assert_rate(id: &str, count: f64) {
    let (n, dd, v) = fig(id);
    assert_eq!((n, dd), (count, Some(POP)), "{id}");
    assert!((v.unwrap() - count * 10_000.0 / POP).abs() < 1e-12, "{id}");
}

fn assert_mean(id: &str, kind: PeriodType, end: NaiveDate, sum: f64, n: f64) {
    let (s, c, v) = fig_at(id, kind, end, None);
    assert_eq!((s, c), (sum, Some(n)), "{id} {kind}");
    assert!((v.unwrap() - sum / n).abs() < 1e-9, "{id} {kind}");
}

/// The groups of a count breakdown for 2024/25, as "group|count".
fn groups_2025(id: &str) -> Vec<String> {
    let v = &results().values;
    let end = cspi::domain::dates::to_epoch_days(d(2025, 3, 31));
    let rows = v
        .clone()
        .lazy()
        .filter(
            col("indicator_id")
                .eq(lit(id))
                .and(col("period_type").eq(lit("year")))
                .and(col("period_end").cast(DataType::Int32).eq(lit(end)))
                .and(col("breakdown").is_not_null()),
        )
        .sort(["breakdown"], SortMultipleOptions::default())
        .collect()
        .unwrap();
    common::rows(&rows, &["breakdown", "numerator"])
}

fn children(id: &str, kind: &str, end: NaiveDate, numerator_only: bool) -> Vec<String> {
    let kind = PeriodType::from_name(kind).unwrap();
    let period = Period {
        kind,
        start: end,
        end,
    };
    common::drilldown_children(&results().drilldown, id, &period, numerator_only)
}

// ------------------------------------------------------------------ help and protection

#[test]
fn referrals_rate() {
    // Referrals dated 01/04/2024–31/03/2025: R4 (01/04, the first day), R1 (10/05), R2 (01/06),
    // R6 (30/08), R7 (15/09), R12 (20/10), R3 (31/03/2025, the last day) = 7.
    assert_rate("referrals_rate", 7.0);
}

#[test]
fn rereferrals_12m() {
    // R1: previous referral 10/05/2023, exactly 12 months before 10/05/2024 → a re-referral.
    // R2: previous 31/05/2023 is 12 months and a day before 01/06/2024 → not.
    // R12: previous 20/05/2023, 17 months before → not. The others have none. 1 of 7.
    assert_percent("rereferrals_12m", 1.0, 7.0);
    assert_eq!(
        children("rereferrals_12m", "year", d(2025, 3, 31), true),
        vec!["R1"]
    );
}

#[test]
fn referrals_nfa() {
    // Only R3's referral (31/03/2025) was no further action: 1 of 7.
    assert_percent("referrals_nfa", 1.0, 7.0);
}

#[test]
fn assessments_45wd() {
    // Authorised in 2024/25:
    // R4: Tue 02/04/2024 → Thu 06/06/2024. Working days after the start: April 3–30 = 20,
    //     May 1–31 less the bank holidays of 6 and 27 May = 21, June 3–6 = 4: 45 → in time.
    // R1: Fri 10/05/2024 → Tue 16/07/2024: May 13–31 less 27 May = 14, June = 20, July 1–16 = 12:
    //     46 → late.
    // R2: Sat 01/06/2024 → Mon 03/06/2024: 1 → in time.
    // (R1's 2023 assessment was authorised in 2023/24.) 2 of 3.
    assert_percent("assessments_45wd", 2.0, 3.0);
    assert_eq!(
        children("assessments_45wd", "year", d(2025, 3, 31), false),
        vec!["R1", "R2", "R4"]
    );
}

#[test]
fn s47_rate() {
    // Enquiries started in 2024/25: R4 08/04, R1 17/05, R2 10/06, R6 02/09 = 4.
    assert_rate("s47_rate", 4.0);
}

#[test]
fn icpc_rate() {
    // Conferences in 2024/25: R4 29/04, R2 05/06, R1 11/06, and R7 01/10 (recorded on the CIN
    // episode only, no enquiry) = 4.
    assert_rate("icpc_rate", 4.0);
}

#[test]
fn icpc_15wd() {
    // R4: enquiry Mon 08/04/2024, conference Mon 29/04/2024: April 9–12 (4), 15–19 (9),
    //     22–26 (14), 29 (15) → the 15th working day, in time.
    // R1: enquiry Fri 17/05/2024, conference Tue 11/06/2024: May 20–24 (5), 28–31 (9; 27 May is
    //     a bank holiday), June 3–7 (14), 10 (15), 11 (16) → the 16th, late.
    // R2: the conference (05/06) is before the enquiry (10/06): left out. R7: no enquiry: left out.
    assert_percent("icpc_15wd", 1.0, 2.0);
    assert_eq!(
        children("icpc_15wd", "year", d(2025, 3, 31), false),
        vec!["R1", "R4"]
    );
}

#[test]
fn icpc_to_cpp() {
    // Of the 4 conferences, R4's and R7's were followed by a plan starting that day.
    assert_percent("icpc_to_cpp", 2.0, 4.0);
}

#[test]
fn cin_rate() {
    // CIN episodes open at 31/03/2025: R4, R7, R8, R9. R3 closed on 31/03/2025 itself, so it is
    // not open at the end. 4 episodes.
    assert_rate("cin_rate", 4.0);
    assert_eq!(fig("cin_count").0, 4.0);
}

#[test]
fn cpp_rate() {
    // Plans open at 31/03/2025: R4 (from 29/04/2024), R7 (01/10/2024), R8 (02/04/2023),
    // R9 (03/04/2023) = 4 children.
    assert_rate("cpp_rate", 4.0);
    assert_eq!(fig("cpp_count").0, 4.0);
    // By latest category of abuse: R4 NEG, R7 EMO, R8 NEG, R9 PHY.
    for (category, n) in [("NEG", 2.0), ("EMO", 1.0), ("PHY", 1.0)] {
        let end = d(2025, 3, 31);
        assert_eq!(
            fig_at("cpp_count", PeriodType::Year, end, Some(category)).0,
            n,
            "{category}"
        );
    }
}

#[test]
fn cpp_starts_rate() {
    // Plans started in 2024/25: R4 29/04, R7 01/10, R12 01/11 = 3.
    assert_rate("cpp_starts_rate", 3.0);
}

#[test]
fn cpp_second_subsequent() {
    // R4: no previous plan. R7: NumberOfPreviousCPP = 1. R12: the census says 0, but R12's
    // plan of 2023 is in the history. 2 of 3.
    assert_percent("cpp_second_subsequent", 2.0, 3.0);
    assert_eq!(
        children("cpp_second_subsequent", "year", d(2025, 3, 31), true),
        vec!["R12", "R7"]
    );
}

#[test]
fn cpp_ceased_2y() {
    // Plans ending in 2024/25: R10 01/06/2022–30/05/2024 = 730 days counting both ends (2 years);
    // R11 03/06/2022–31/05/2024 = 729 days (not 2 years); R12 01/11/2024–01/02/2025 = 93 days.
    assert_percent("cpp_ceased_2y", 1.0, 3.0);
    assert_eq!(
        children("cpp_ceased_2y", "year", d(2025, 3, 31), true),
        vec!["R10"]
    );
}

#[test]
fn cpp_open_2y() {
    // Open at 31/03/2025: R8 from 02/04/2023 = 730 days counting both ends → 2 years;
    // R9 from 03/04/2023 = 729 days → not; R4, R7 under a year. 1 of 4.
    assert_percent("cpp_open_2y", 1.0, 4.0);
    assert_eq!(
        children("cpp_open_2y", "year", d(2025, 3, 31), true),
        vec!["R8"]
    );
}

#[test]
fn cpp_reviewed_in_time() {
    // Open 3 months or more at 31/03/2025: R4, R7, R8, R9.
    // R4: first review 29/07/2024, exactly 3 months (in time); next due 29/01/2025, held
    //     30/01/2025 — a day late → out of time.
    // R7: first review 20/12/2024, before 01/01/2025 → in time; next due 20/06/2025.
    // R8: reviews every 6 months at most → in time. R9: never reviewed → out of time since
    //     04/07/2023. 2 of 4.
    assert_percent("cpp_reviewed_in_time", 2.0, 4.0);
    assert_eq!(
        children("cpp_reviewed_in_time", "year", d(2025, 3, 31), true),
        vec!["R7", "R8"]
    );
    // At 31/12/2024, R4 was still in time (due 29/01/2025): 3 of the 4 open then (R4, R8 and R9
    // were open 3 months; R7's plan was under 3 months old, so only R4, R8, R9 count): R4 and
    // R8 in time.
    let (n, dd, _) = fig_at(
        "cpp_reviewed_in_time",
        PeriodType::Snapshot,
        d(2024, 12, 31),
        None,
    );
    assert_eq!((n, dd), (2.0, Some(3.0)));
}

// ------------------------------------------------------------------ children looked after

#[test]
fn cla_rate() {
    // Looked after at 31/03/2025 (not short breaks): L1, L2, L3, L4, L11 (back since
    // 01/02/2025), L13, L14 = 7. L5's short breaks (V3) are left out.
    assert_rate("cla_rate", 7.0);
    let (n, _, _) = fig("cla_count");
    assert_eq!(n, 7.0);
    // By type of home: foster L1, L2 (U4), L11 (U6); children's home L3 (K2); other L4 (A3),
    // L13 (H5), L14 (A4).
    assert_eq!(
        fig_at(
            "cla_count",
            PeriodType::Year,
            d(2025, 3, 31),
            Some("foster")
        )
        .0,
        3.0
    );
    assert_eq!(
        fig_at(
            "cla_count",
            PeriodType::Year,
            d(2025, 3, 31),
            Some("childrens_home")
        )
        .0,
        1.0
    );
    assert_eq!(
        fig_at("cla_count", PeriodType::Year, d(2025, 3, 31), Some("other")).0,
        3.0
    );
}

#[test]
fn cla_starts_rate() {
    // Periods of care starting in 2024/25: L3 (01/05), L11 (01/06 and again 01/02/2025: one
    // child), L13 (09/09); L5's short breaks excluded. 3 children.
    assert_rate("cla_starts_rate", 3.0);
}

#[test]
fn cla_ceased_rate() {
    // Ceased in 2024/25: L6 (E17), L7 (E5), L8 (E11), L9 (E12), L11 (E4A), L12 (E45), L18 (E8)
    // = 7 children; L5's short breaks excluded.
    assert_rate("cla_ceased_rate", 7.0);
    assert_eq!(fig("cla_ceased_count").0, 7.0);
}

#[test]
fn cla_3plus_placements() {
    // Cohort: looked after at 31/03/2025 (7). Placements overlapping 2024/25:
    // L3: U6 from 01/05, U4 from 01/08 (RNE T, same carer: counts), K2 from 01/12 — the RNE L
    //     episode of 01/09 is the same placement → 3.
    // L4: U6 (from 2023) and U4 from 01/06; the T4 temporary placement, the return to the same
    //     U4 and the move to A3 with the same carer are not placements → 2.
    // L11: U3 and U6 (two periods) → 2. L14: U4 and A4 → 2. L1, L2, L13 → 1. So 1 of 7.
    assert_percent("cla_3plus_placements", 1.0, 7.0);
    assert_eq!(
        children("cla_3plus_placements", "year", d(2025, 3, 31), true),
        vec!["L3"]
    );
}

#[test]
fn cla_long_term_stability() {
    // Under 16 and looked after since 30/09/2022 or earlier at 31/03/2025: L1 (01/06/2022),
    // L2 (05/01/2022), L14 (01/05/2022).
    // L1: same placement since 01/06/2022 → yes. L2: placement since 15/06/2023 → no.
    // L14: placed for adoption 01/12/2024; the placement before began 15/03/2023, 2 years
    //      before 31/03/2025 (15/03/2025) → yes. 2 of 3.
    assert_percent("cla_long_term_stability", 2.0, 3.0);
    assert_eq!(
        children("cla_long_term_stability", "year", d(2025, 3, 31), true),
        vec!["L1", "L14"]
    );
}

#[test]
fn cla_missing() {
    // Looked after during 2024/25 (not short breaks): L1–L4, L6–L9, L11–L14, L18 = 13.
    // Missing (M): L2 (30/03/2024–02/04/2024, open at the start of the year), L3 (10/10/2024).
    // L1's missing incident of February 2024 is before the year. 2 of 13.
    assert_percent("cla_missing", 2.0, 13.0);
    assert_eq!(
        children("cla_missing", "year", d(2025, 3, 31), true),
        vec!["L2", "L3"]
    );
}

#[test]
fn cla_away() {
    // Away without authorisation (A): L1 on 01/07/2024. 1 of 13.
    assert_percent("cla_away", 1.0, 13.0);
}

#[test]
fn cla_returned_home() {
    // Of the 7 children ceasing care, L11 returned home (E4A).
    assert_percent("cla_returned_home", 1.0, 7.0);
}

#[test]
fn cla_returned_home_care_plan() {
    // L11's return home (E4A) was part of the care plan: 1 of the 7 ceasing in 2024/25. In
    // 2023/24 L30 went home outside the plan (E4B): 0 of the 9.
    assert_percent("cla_returned_home_care_plan", 1.0, 7.0);
    assert_eq!(
        fig_at(
            "cla_returned_home_care_plan",
            PeriodType::Year,
            d(2024, 3, 31),
            None
        ),
        (0.0, Some(9.0), Some(0.0))
    );
}

#[test]
fn cla_returned_to_care() {
    // Of the 7, L11 left on 01/09/2024 and came back on 01/02/2025, 153 days later.
    assert_percent("cla_returned_to_care", 1.0, 7.0);
}

#[test]
fn cla_placement_mix() {
    // Of the 7 at 31/03/2025: foster L1, L2, L11 = 3; residential L3 (K2) = 1; placed for
    // adoption L4 (A3), L14 (A4) = 2; independent L13 (H5) = 1. Shares of all 7.
    for (group, n) in [
        ("foster", 3.0),
        ("residential", 1.0),
        ("placed_for_adoption", 2.0),
        ("independent", 1.0),
    ] {
        let (num, den, v) = fig_at(
            "cla_placement_mix",
            PeriodType::Year,
            d(2025, 3, 31),
            Some(group),
        );
        assert_eq!((num, den), (n, Some(7.0)), "{group}");
        assert!((v.unwrap() - 100.0 * n / 7.0).abs() < 1e-9);
    }
}

#[test]
fn cla_outside_la() {
    // Placement postcodes at 31/03/2025: L1 LN2 4 (Lincolnshire), L2 NG1 5 (Nottingham, 892),
    // L3 PE21 8, L13 LN2 5, L14 LN6 7 (Lincolnshire); L4 has none and L11's ZZ9 9 is in no
    // directory: left out (2 unknown). 1 of 5; among foster placements L1, L2 → 1 of 2.
    assert_percent("cla_outside_la", 1.0, 5.0);
    let (n, dd, _) = fig_at(
        "cla_outside_la",
        PeriodType::Year,
        d(2025, 3, 31),
        Some("foster"),
    );
    assert_eq!((n, dd), (1.0, Some(2.0)));
    assert_eq!(fig("cla_placement_location_unknown").0, 2.0);
    // By placement type: L3's children's home (K2) is in Lincolnshire; of the two U4 foster
    // placements (L1, L2), L2's is in Nottingham.
    let by_place =
        |id: &str, place: &str| fig_at(id, PeriodType::Year, d(2025, 3, 31), Some(place));
    let (n, dd, _) = by_place("cla_outside_la_by_place", "K2");
    assert_eq!((n, dd), (0.0, Some(1.0)));
    let (n, dd, _) = by_place("cla_outside_la_by_place", "U4");
    assert_eq!((n, dd), (1.0, Some(2.0)));
    // Looked after at 31/03/2025 by PLACE: U4 L1, L2; U6 L11; K2 L3; A3 L4; H5 L13; A4 L14.
    for (place, n) in [
        ("U4", 2.0),
        ("U6", 1.0),
        ("K2", 1.0),
        ("A3", 1.0),
        ("H5", 1.0),
        ("A4", 1.0),
    ] {
        assert_eq!(by_place("cla_count_by_place", place).0, n, "{place}");
    }
}

#[test]
fn cla_over_20_miles() {
    // Sector centroids (OS grid): L2 home LN5 7 (497497, 370626) to NG1 5 (456839, 340083):
    // √(40658² + 30543²) = 50,852 m > 32,187 m. L1 LN1 3→LN2 4 is 1,999 m; L3 PE21 9→PE21 8
    // 1,419 m; L13 LN1 3→LN2 5 1,797 m; L14 LN5 7→LN6 7 under 2 km. 1 of 5.
    assert_percent("cla_over_20_miles", 1.0, 5.0);
}

#[test]
fn cla_outside_la_over_20_miles() {
    // DfE's measure needs both: L2's placement in Nottingham (NG1 5, another LA) is 50,852 m
    // from home; the other four are within Lincolnshire and within 2 km. 1 of 5.
    assert_percent("cla_outside_la_over_20_miles", 1.0, 5.0);
}

#[test]
fn cla_uasc() {
    // L13 is the one unaccompanied asylum-seeking child looked after at 31/03/2025.
    assert_eq!(fig("cla_uasc").0, 1.0);
}

#[test]
fn cla_health_check() {
    // OC2 2024/25: L1, L2, L14 had their annual health assessment (HEALTH_ASSESSMENT); L4 did
    // not. L4's HEALTH_CHECK (the under-5s' health promotion checks, the only one given) is 1
    // and is not what DfE publishes as health checks. 3 of 4.
    assert_percent("cla_health_check", 3.0, 4.0);
}

#[test]
fn cla_dental_check() {
    // Teeth checked: L1, L14; not L2, L4. 2 of 4.
    assert_percent("cla_dental_check", 2.0, 4.0);
}

#[test]
fn cla_sdq_average() {
    // Aged 5–16 at 31/03/2025 with a score: L1 (13 years) 10, L2 (14) 20, L14 (6) 15; L4 is 4
    // (no score, SDQ1). (10 + 20 + 15) / 3 = 15.0.
    assert_mean(
        "cla_sdq_average",
        PeriodType::Year,
        d(2025, 3, 31),
        45.0,
        3.0,
    );
}

// ------------------------------------------------------------------ adoption

#[test]
fn adoption_a1() {
    // 2024/25: L8 entered care 01/09/2022, moved in 01/02/2024 = 518 days; L9 entered
    // 10/04/2023, placed (A3) 01/06/2024 = 418 days (2024 is a leap year). (518 + 418) / 2 = 468.
    assert_mean("adoption_a1", PeriodType::Year, d(2025, 3, 31), 936.0, 2.0);
    // 2022–25 adds L10 (adopted 15/01/2023): 01/04/2022 → 01/07/2022 = 91. 1,027 / 3 = 342.3.
    assert_mean(
        "adoption_a1",
        PeriodType::ThreeYear,
        d(2025, 3, 31),
        1027.0,
        3.0,
    );
}

#[test]
fn adoption_a10() {
    // L9 was adopted by her own foster carers (FOSTER_CARE = 1, A3): the clock stops when she
    // moved in with them, the start of the placement on 10/04/2023, the day she entered care: 0.
    // L8 518, L10 91. Year: (518 + 0) / 2 = 259; 2022–25: 609 / 3 = 203.
    assert_mean("adoption_a10", PeriodType::Year, d(2025, 3, 31), 518.0, 2.0);
    assert_mean(
        "adoption_a10",
        PeriodType::ThreeYear,
        d(2025, 3, 31),
        609.0,
        3.0,
    );
}

#[test]
fn adoption_a2() {
    // L8: placement order 01/08/2023, match 10/01/2024 = 162 days. L9 was matched (20/11/2023)
    // before the placement order (01/12/2023): counts 0. L10: 01/06/2022 → 20/06/2022 = 19.
    // Year (162 + 0) / 2 = 81; 2022–25 181 / 3 = 60.3.
    assert_mean("adoption_a2", PeriodType::Year, d(2025, 3, 31), 162.0, 2.0);
    assert_mean(
        "adoption_a2",
        PeriodType::ThreeYear,
        d(2025, 3, 31),
        181.0,
        3.0,
    );
}

#[test]
fn adoption_a3() {
    // Within 426 days of entering care: L9 (418) and L10 (91), not L8 (518).
    assert_percent("adoption_a3", 1.0, 2.0);
    let (n, dd, _) = fig_at("adoption_a3", PeriodType::ThreeYear, d(2025, 3, 31), None);
    assert_eq!((n, dd), (2.0, Some(3.0)));
    // The threshold of 2024/25 is the 2013-16-on 426 days for A1, 121 for A2.
    let c = Catalogue::embedded().unwrap();
    assert_eq!(
        c.get("adoption_a1").unwrap().threshold(2025).unwrap().value,
        426.0
    );
    assert_eq!(
        c.get("adoption_a2").unwrap().threshold(2014).unwrap().value,
        182.0
    );
}

#[test]
fn adoptions_pct() {
    // Of the 7 children ceasing care in 2024/25, L8 (E11) and L9 (E12) were adopted.
    assert_percent("adoptions_pct", 2.0, 7.0);
    assert_eq!(fig("adoptions_count").0, 2.0);
}

#[test]
fn sgo_count() {
    // L12 left care on a special guardianship order (E45).
    assert_eq!(fig("sgo_count").0, 1.0);
}

#[test]
fn adoption_stage_days() {
    // 2024/25, L8 and L9:
    // entering care → decision (DATE_INT): L8 01/09/2022 → 15/06/2023 = 287; L9 10/04/2023 →
    //   01/09/2023 = 144; sum 431.
    // decision → placement order: L8 15/06/2023 → 01/08/2023 = 47; L9 01/09/2023 → 01/12/2023
    //   = 91; sum 138.
    // placement order → match: L8 162; L9 01/12/2023 → 20/11/2023 = −11; sum 151.
    // match → placed: L8 10/01/2024 → 01/02/2024 = 22; L9 20/11/2023 → 01/06/2024 = 194; 216.
    // placed → adoption order: L8 01/02/2024 → 01/10/2024 = 243; L9 01/06/2024 → 01/02/2025 =
    //   245; sum 488.
    for (stage, sum) in [
        ("entry_to_decision", 431.0),
        ("decision_to_placement_order", 138.0),
        ("placement_order_to_match", 151.0),
        ("match_to_placed", 216.0),
        ("placed_to_adoption_order", 488.0),
    ] {
        let (s, n, v) = fig_at(
            "adoption_stage_days",
            PeriodType::Year,
            d(2025, 3, 31),
            Some(stage),
        );
        assert_eq!((s, n), (sum, Some(2.0)), "{stage}");
        assert_eq!(v, Some(sum / 2.0));
    }
}

#[test]
fn adoption_stages_as_dfe_publishes_them() {
    // DfE's national stages, one indicator each (benchmarked against England). 2024/25, L8
    // and L9 (see adoption_stage_days for the dates):
    // 1 entry → decision: 287 + 144 = 431.
    // 2 decision → match: L8 15/06/2023 → 10/01/2024 = 209; L9 01/09/2023 → 20/11/2023 = 80.
    // 3 match → placed: 22 + 194 = 216. 4 entry → placed (A1's): 518 + 418 = 936.
    // 5 placed → adoption: 243 + 245 = 488.
    // 6 entry → adoption: L8 01/09/2022 → 01/10/2024 = 761; L9 10/04/2023 → 01/02/2025 = 663.
    for (id, sum) in [
        ("adoption_days_entry_to_decision", 431.0),
        ("adoption_days_decision_to_match", 289.0),
        ("adoption_days_match_to_placed", 216.0),
        ("adoption_days_entry_to_placed", 936.0),
        ("adoption_days_placed_to_adoption", 488.0),
        ("adoption_days_entry_to_adoption", 1424.0),
    ] {
        assert_mean(id, PeriodType::Year, d(2025, 3, 31), sum, 2.0);
    }
}

#[test]
fn assessments_open_over_45wd() {
    // Open at 31/03/2025: R7's assessment from 06/01/2025 (45th working day 10/03/2025: past
    // it) and R4's second from 03/02/2025 (due 07/04/2025: not yet). 1. None open at 31/12/2024.
    assert_eq!(fig("assessments_open_over_45wd").0, 1.0);
    assert_eq!(
        children("assessments_open_over_45wd", "year", d(2025, 3, 31), false),
        vec!["R7"]
    );
    assert_eq!(
        fig_at(
            "assessments_open_over_45wd",
            PeriodType::Snapshot,
            d(2024, 12, 31),
            None
        )
        .0,
        0.0
    );
}

/// One 2026/27 903 return (CSV) with social worker episodes and deprivation of liberty orders,
/// evaluated for 2026/27.
fn sw_and_dolo_figures() -> DataFrame {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("in/925/2027/ssda903");
    std::fs::create_dir_all(&base).unwrap();
    let files = [
        (
            "header.csv",
            "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nS1,M,01/01/2012,WBRI,,,\nS2,F,01/01/2011,WBRI,,,\n\
             S3,F,01/01/2013,WBRI,,,\n",
        ),
        (
            "episodes.csv",
            "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n\
             S1,01/01/2026,S,C2,N1,U4,PR1,,,,LN1 3AB,LN2 4CD,\nS2,01/01/2026,S,C2,N1,U4,PR1,,,,LN1 3AB,LN2 4CD,\n\
             S3,01/01/2026,S,C2,N1,U4,PR1,,,,LN1 3AB,LN2 4CD,\n",
        ),
        (
            "sw.csv",
            "CHILD,DOB,SW_ID,SW_DECOM,SW_DEC,SW_REASON\n\
             S1,01/01/2012,W1,01/04/2026,01/07/2026,FCONTA\nS1,01/01/2012,W2,01/07/2026,01/10/2026,MANAGE\n\
             S1,01/01/2012,W1,01/10/2026,,OTHERS\n\
             S2,01/01/2011,W3,01/03/2026,01/06/2026,FCONTA\nS2,01/01/2011,W4,01/06/2026,,MANAGE\n\
             S3,01/01/2013,W5,01/04/2026,01/05/2026,FCONTA\nS3,01/01/2013,W6,01/05/2026,01/09/2026,MANAGE\n\
             S3,01/01/2013,W7,01/09/2026,,OTHERS\n",
        ),
        (
            "dolo.csv",
            "CHILD,DOB,DOLO_START,DOLO_END\nS1,01/01/2012,01/01/2027,\nS2,01/01/2011,01/05/2026,01/08/2026\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(base.join(name), text).unwrap();
    }
    common::ingest_and_evaluate(
        &dir.path().join("in"),
        &[Period::year(2027)],
        &[
            "cla_social_workers_3plus",
            "cla_dolo",
            "cla_dolo_by_placement",
        ],
        false,
    )
    .0
    .values
}

#[test]
fn cla_social_workers_3plus_and_cla_dolo() {
    let v = sw_and_dolo_figures();
    let year = Period::year(2027);
    // Social workers in 2026/27 (DfE counts different workers): S1 two (W1, W2, then W1
    // again: three episodes, two workers), S2 two (W3 from before the year, W4), S3 three (W5,
    // W6, W7). 1 of 3.
    assert_eq!(
        common::figure(&v, "cla_social_workers_3plus", Some(&year)),
        Some((1.0, Some(3.0), Some(100.0 / 3.0)))
    );
    // Orders open at 31/03/2027: S1's (from 01/01/2027); S2's ended 01/08/2026.
    assert_eq!(
        common::figure(&v, "cla_dolo", Some(&year)).map(|f| f.0),
        Some(1.0)
    );
    // By placement: S1's order started in his foster placement (U4 since 01/01/2026): one
    // child in foster care, no other group.
    let groups = common::rows(
        &v.clone()
            .lazy()
            .filter(
                col("indicator_id")
                    .eq(lit("cla_dolo_by_placement"))
                    .and(col("breakdown").is_not_null()),
            )
            .collect()
            .unwrap(),
        &["breakdown", "numerator"],
    );
    assert_eq!(groups, ["foster|1.0"]);
}

// ------------------------------------------------------------------ care leavers

/// Staying put: four young people who were 18 in 2023/24, seen again at their 19th birthday in
/// 2024/25's OC3.
#[test]
fn care_leavers_staying_put() {
    let dir = tempfile::tempdir().unwrap();
    let header = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n\
                  P1,F,01/06/2005,WBRI,,,\nP2,M,01/07/2005,WBRI,,,\n\
                  P3,F,01/08/2005,WBRI,,,\nP4,M,01/09/2005,WBRI,,,\n";
    let returns = [
        (
            2024,
            "episodes.csv",
            // P1 left foster care (U4) on her 18th birthday staying put (E17); P2 left foster
            // care (U6) on his to independent living (E5); P3 left a children's home (K2) on hers;
            // P4 left foster care at 17, before his birthday.
            "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n\
             P1,01/01/2020,S,C2,N1,U4,PR1,01/06/2023,E17,,LN1 3AB,LN2 4CD,\n\
             P2,01/01/2020,S,C2,N1,U6,PR1,01/07/2023,E5,,LN1 3AB,LN2 4CD,\n\
             P3,01/01/2020,S,C2,N1,K2,PR1,01/08/2023,E5,,LN1 3AB,LN2 4CD,SC000111\n\
             P4,01/01/2022,S,C2,N1,U4,PR1,01/05/2023,E5,,LN1 3AB,LN2 4CD,\n",
        ),
        (
            2025,
            "oc3.csv",
            // At their 19th birthdays: P1 with her former foster carers (Z1); P2 independent
            // (U1); P3 with her former foster carers — but she did not leave foster care; P4 too.
            "CHILD,DOB,IN_TOUCH,ACTIV,ACCOM\n\
             P1,01/06/2005,YES,F2,Z1\nP2,01/07/2005,YES,F1,U1\n\
             P3,01/08/2005,YES,F1,Z1\nP4,01/09/2005,YES,F1,Z1\n",
        ),
    ];
    for (year, name, text) in returns {
        let base = dir.path().join(format!("in/925/{year}/ssda903"));
        std::fs::create_dir_all(&base).unwrap();
        std::fs::write(base.join("header.csv"), header).unwrap();
        std::fs::write(base.join(name), text).unwrap();
    }
    let (e, _) = common::ingest_and_evaluate(
        &dir.path().join("in"),
        &[Period::year(2025)],
        &["care_leavers_staying_put"],
        true,
    );
    // The cohort is P1 and P2, who left foster care on their 18th birthday; P1 still lives
    // with her carers: 1 of 2.
    assert_eq!(
        common::figure(
            &e.values,
            "care_leavers_staying_put",
            Some(&Period::year(2025))
        ),
        Some((1.0, Some(2.0), Some(50.0)))
    );
}

#[test]
fn care_leavers_eet_17_18() {
    // 17–18 with a birthday in 2024/25: L6 (18 on 20/11/2024, left care that day: F2 EET),
    // L7 (18 on 15/01/2025: G5 NEET); L18 was still looked after on his 17th birthday
    // (01/06/2024) → left out. 1 of 2.
    assert_percent("care_leavers_eet_17_18", 1.0, 2.0);
}

#[test]
fn care_leavers_eet_19_21() {
    // 19–21: L15 (20 on 01/04/2024, F1), L16 (20 on 31/03/2025, not in touch: activity not
    // known), L19 (20 on 10/10/2024, F5); L17 died → left out. EET: L15, L19. 2 of 3.
    assert_percent("care_leavers_eet_19_21", 2.0, 3.0);
}

#[test]
fn care_leavers_suitable_17_18() {
    // L6 Z1 and L7 D1 are both suitable (suffix 1). 2 of 2.
    assert_percent("care_leavers_suitable_17_18", 2.0, 2.0);
}

#[test]
fn care_leavers_suitable_19_21() {
    // L19 has gone abroad (G1): out of the denominator. L15 U1 suitable; L16 not known (0). 1 of 2.
    assert_percent("care_leavers_suitable_19_21", 1.0, 2.0);
}

#[test]
fn care_leavers_not_in_touch_19_21() {
    // L16 (NO). 1 of 3.
    assert_percent("care_leavers_not_in_touch_19_21", 1.0, 3.0);
}

#[test]
fn care_leavers_higher_education_19_21() {
    // L15 (F1). 1 of 3.
    assert_percent("care_leavers_higher_education_19_21", 1.0, 3.0);
}

#[test]
fn staying_put_18() {
    // Ceased on the 18th birthday from foster care: L6 (E17, staying put), L7 (E5). 1 of 2.
    assert_percent("staying_put_18", 1.0, 2.0);
}

// ------------------------------------------------------------------ context and periods

#[test]
fn population_0_17() {
    // ONS mid-2024 estimate for Lincolnshire.
    assert_eq!(fig("population_0_17").0, POP);
}

#[test]
fn independent_living_count() {
    // L7 moved into independent living (E5).
    assert_eq!(fig("independent_living_count").0, 1.0);
}

#[test]
fn rolling_12_months_to_31_march_is_the_dfe_year() {
    let v = &results().values;
    let year: Vec<String> = common::rows(
        &v.filter(
            &(v.column("period_type")
                .unwrap()
                .str()
                .unwrap()
                .equal("year")
                & v.column("period_end")
                    .unwrap()
                    .date()
                    .unwrap()
                    .physical()
                    .equal(cspi::domain::dates::to_epoch_days(d(2025, 3, 31)))),
        )
        .unwrap(),
        &[
            "indicator_id",
            "breakdown",
            "numerator",
            "denominator",
            "value",
        ],
    );
    let rolling: Vec<String> = common::rows(
        &v.filter(
            &(v.column("period_type")
                .unwrap()
                .str()
                .unwrap()
                .equal("rolling_12m")
                & v.column("period_end")
                    .unwrap()
                    .date()
                    .unwrap()
                    .physical()
                    .equal(cspi::domain::dates::to_epoch_days(d(2025, 3, 31)))),
        )
        .unwrap(),
        &[
            "indicator_id",
            "breakdown",
            "numerator",
            "denominator",
            "value",
        ],
    );
    let year_ids: std::collections::BTreeSet<&str> = rolling
        .iter()
        .map(|r| r.split('|').next().unwrap())
        .collect();
    let year_matching: Vec<&String> = year
        .iter()
        .filter(|r| year_ids.contains(r.split('|').next().unwrap()))
        .collect();
    assert!(rolling.len() > 30);
    assert_eq!(rolling.iter().collect::<Vec<_>>(), year_matching);
}

#[test]
fn a_snapshot_counts_stocks_on_its_date() {
    // At 31/12/2024 looked after: L1, L2, L3, L4, L13, L14, and L7 (left 15/01/2025), L9 (adopted
    // 01/02/2025); L6 left 20/11, L8 01/10, L11 01/09 (back 01/02/2025), L12 01/12, L18 01/08.
    // 8 children.
    let (n, _, _) = fig_at("cla_count", PeriodType::Snapshot, d(2024, 12, 31), None);
    assert_eq!(n, 8.0);
}

#[test]
fn periods_outside_the_returns_are_not_reported() {
    // The CIN returns start in 2023/24: no CIN figure for 2022/23 (not a zero).
    let v = &results().values;
    let mask = v
        .column("indicator_id")
        .unwrap()
        .str()
        .unwrap()
        .equal("referrals_rate")
        & v.column("period_type")
            .unwrap()
            .str()
            .unwrap()
            .equal("year");
    let ends: Vec<i32> = v
        .filter(&mask)
        .unwrap()
        .column("period_end")
        .unwrap()
        .date()
        .unwrap()
        .physical()
        .iter()
        .flatten()
        .collect();
    assert_eq!(
        ends,
        vec![
            cspi::domain::dates::to_epoch_days(d(2024, 3, 31)),
            cspi::domain::dates::to_epoch_days(d(2025, 3, 31))
        ]
    );
}

#[test]
fn every_definition_has_a_test_here() {
    let source = [
        include_str!("indicators.rs"),
        include_str!("indicators/help_and_protection.rs"),
        include_str!("indicators/looked_after.rs"),
        include_str!("indicators/returns_2026_27.rs"),
    ]
    .concat();
    for def in &Catalogue::embedded().unwrap().definitions {
        assert!(
            source.contains(&format!("\"{}\"", def.id)),
            "{} has no hand-computed test",
            def.id
        );
    }
}
