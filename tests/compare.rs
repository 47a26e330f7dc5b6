//! Benchmarking: the comparison table against real published figures and hand-made ones (the
//! inspection context section is in tests/context.rs).

mod common;

use chrono::NaiveDate;
use cspi::compare::{Benchmarks, CompareOptions, compare};
use cspi::domain::dates::to_epoch_days;
use cspi::indicators::catalogue::Catalogue;
use cspi::ingest::reference::{ReferenceIndex, ReferenceTables};
use polars::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// An LA figure as the engine writes it: (la, indicator, year, numerator, denominator, value).
type Fig = (&'static str, &'static str, i32, f64, f64, f64);

/// A long table of yearly figures, as `evaluate` returns it.
fn values(figs: &[Fig]) -> DataFrame {
    let catalogue = Catalogue::embedded().unwrap();
    let unit = |id: &str| catalogue.get(id).unwrap().unit.name();
    let polarity = |id: &str| catalogue.get(id).unwrap().polarity.name();
    let date = |v: Vec<i32>, name: &str| {
        Int32Chunked::from_vec(name.into(), v)
            .into_date()
            .into_column()
    };
    DataFrame::new_infer_height(vec![
        Column::new(
            "la_code".into(),
            figs.iter().map(|f| f.0).collect::<Vec<_>>(),
        ),
        Column::new(
            "indicator_id".into(),
            figs.iter().map(|f| f.1).collect::<Vec<_>>(),
        ),
        Column::new(
            "period_type".into(),
            figs.iter().map(|_| "year").collect::<Vec<_>>(),
        ),
        date(
            figs.iter()
                .map(|f| to_epoch_days(d(f.2 - 1, 4, 1)))
                .collect(),
            "period_start",
        ),
        date(
            figs.iter().map(|f| to_epoch_days(d(f.2, 3, 31))).collect(),
            "period_end",
        ),
        Column::full_null("breakdown".into(), figs.len(), &DataType::String),
        Column::new(
            "numerator".into(),
            figs.iter().map(|f| f.3).collect::<Vec<_>>(),
        ),
        Column::new(
            "denominator".into(),
            figs.iter().map(|f| Some(f.4)).collect::<Vec<_>>(),
        ),
        Column::new(
            "value".into(),
            figs.iter().map(|f| Some(f.5)).collect::<Vec<_>>(),
        ),
        Column::full_null("spread".into(), figs.len(), &DataType::Float64),
        Column::new(
            "unit".into(),
            figs.iter().map(|f| unit(f.1)).collect::<Vec<_>>(),
        ),
        Column::new(
            "polarity".into(),
            figs.iter().map(|f| polarity(f.1)).collect::<Vec<_>>(),
        ),
        Column::new(
            "history_complete".into(),
            figs.iter().map(|_| true).collect::<Vec<_>>(),
        ),
        Column::full_null("population_estimate".into(), figs.len(), &DataType::String),
    ])
    .unwrap()
}

/// The comparison row of an indicator for 2025 (the LA's only row for it).
struct Row(DataFrame);

impl Row {
    fn f(&self, c: &str) -> Option<f64> {
        self.0
            .column(c)
            .unwrap()
            .cast(&DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .get(0)
    }
    fn s(&self, c: &str) -> String {
        common::cell(self.0.column(c).unwrap().get(0).unwrap())
    }
}

fn row(table: &DataFrame, la: &str, id: &str, year: i32) -> Row {
    let r = table
        .clone()
        .lazy()
        .filter(
            col("la_code")
                .eq(lit(la))
                .and(col("indicator_id").eq(lit(id)))
                .and(col("period_end").eq(lit(d(year, 3, 31)))),
        )
        .collect()
        .unwrap();
    assert_eq!(r.height(), 1, "{la} {id} {year}: {r}");
    Row(r)
}

fn close(a: Option<f64>, b: f64) {
    let a = a.unwrap_or_else(|| panic!("expected {b}, got nothing"));
    assert!((a - b).abs() < 1e-9, "{a} ≠ {b}");
}

/// Lincolnshire 2025 against DfE's published LAIT figures (the shipped table, built from
/// ../shared/reference/dfe-lait/bds_long_0.parquet). Its 2025 statistical neighbours are
/// 888 Lancashire, 384 Wakefield, 884 Herefordshire, 813 North Lincolnshire, 926 Norfolk,
/// 935 Suffolk, 332 Dudley, 940 North Northamptonshire, 830 Derbyshire, 933 Somerset.
#[test]
fn lincolnshire_2025_against_published_neighbours_region_and_england() {
    let catalogue = Catalogue::embedded().unwrap();
    let index = ReferenceIndex::embedded();
    let b = Benchmarks::published(&catalogue, ReferenceTables::embedded(), index).unwrap();
    let v = values(&[
        (
            "925",
            "rereferrals_12m",
            2025,
            2001.0,
            8726.0,
            100.0 * 2001.0 / 8726.0,
        ),
        (
            "925",
            "cpp_rate",
            2025,
            456.0,
            147_954.0,
            456.0 * 10_000.0 / 147_954.0,
        ),
        (
            "925",
            "cla_3plus_placements",
            2025,
            89.0,
            805.0,
            100.0 * 89.0 / 805.0,
        ),
    ]);
    let t = compare(&catalogue, &v, &b, index, &CompareOptions::default()).unwrap();
    // LAIT's value with EES's counts behind it (for funnel plots): 22.9% of 8,726 referrals.
    let bp = b
        .period_for(
            "rereferrals_12m",
            cspi::indicators::period::PeriodType::Year,
            to_epoch_days(d(2025, 3, 31)),
        )
        .unwrap();
    let published = b.get("rereferrals_12m", &bp, "925").unwrap();
    assert_eq!(
        (published.value, published.denominator),
        (Some(22.9), Some(8726.0))
    );

    // Re-referrals (LAIT ReReferral) 2025, neighbours in SN order:
    // 16.3, 18.5, 14.8, 14.0, 17.9, 20.1, 22.5, 23.9, 28.9, 22.1 → sum 199.0, mean 19.90;
    // sorted 14.0 14.8 16.3 17.9 18.5 | 20.1 22.1 22.5 23.9 28.9 → median (18.5 + 20.1) / 2 = 19.3.
    // England 22.6, East Midlands 24.7.
    let r = row(&t, "925", "rereferrals_12m", 2025);
    close(r.f("sn_mean"), 19.9);
    close(r.f("sn_median"), 19.3);
    close(r.f("sn_count"), 10.0);
    close(r.f("england_value"), 22.6);
    close(r.f("region_value"), 24.7);
    assert_eq!(r.s("region_code"), "E12000004");
    assert_eq!(r.s("benchmark_period"), "2024-25");
    // 22.93 is higher (worse: lower is better) than the neighbours by 3.03 → more than 10%
    // of 19.9 → red.
    close(r.f("diff_sn"), 100.0 * 2001.0 / 8726.0 - 19.9);
    assert_eq!(r.s("rag"), "red");

    // CP plans per 10,000 (LAIT CPP_rate) 2025: 34.2, 73.2, 40.4, 39.8, 26.4, 27.8, 33.3, 49.7,
    // 46.7, 27.7 → sum 399.2, mean 39.92; sorted … 33.3 34.2 | 39.8 40.4 … → median 37.0.
    // England 40.6, East Midlands 40.4. Neutral: no RAG, no quartile, ranked high to low.
    let r = row(&t, "925", "cpp_rate", 2025);
    close(r.f("sn_mean"), 39.92);
    close(r.f("sn_median"), 37.0);
    close(r.f("england_value"), 40.6);
    close(r.f("region_value"), 40.4);
    assert_eq!(r.s("rag"), "");
    assert_eq!(r.s("quartile"), "");
    assert_eq!(r.s("rank_order"), "1 = highest");

    // 3+ placements (LAIT LACStable_2016on) 2025: 7, 10, 10, 10, 11, 9, 7, 13, 12, 18 → sum 107,
    // mean 10.7; sorted 7 7 9 10 10 | 10 11 12 13 18 → median 10. England 10, East Midlands 9.
    let r = row(&t, "925", "cla_3plus_placements", 2025);
    close(r.f("sn_mean"), 10.7);
    close(r.f("sn_median"), 10.0);
    close(r.f("england_value"), 10.0);
    close(r.f("region_value"), 9.0);
    // 89 of 805 (11.06%) against England's 10%: the exact binomial 95% funnel at N = 805 is
    // about 7.9–12.2%, so within expected variation.
    assert_eq!(r.s("sig_england"), "within expected variation");
    assert!(r.f("england_lower_95").unwrap() < 10.0 && r.f("england_upper_95").unwrap() > 11.06);
}

/// The same comparison from the raw public files a user downloads (LAIT long table and EES
/// CSVs under ../shared/reference) gives the same figures as the shipped table.
#[test]
#[ignore = "needs ../shared/reference (the raw DfE files)"]
fn raw_public_files_give_the_same_benchmarks() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference");
    let tables = ReferenceTables::embedded().with_published(&dir).unwrap();
    let (raw, _) = cspi::ingest::reference::read_published(&dir, true).unwrap();
    assert!(raw.height() > 10_000, "{}", raw.height());
    let catalogue = Catalogue::embedded().unwrap();
    let index = ReferenceIndex::new(&tables).unwrap();
    let b = Benchmarks::published(&catalogue, &tables, &index).unwrap();
    let v = values(&[("925", "rereferrals_12m", 2025, 2001.0, 8726.0, 22.93)]);
    let t = compare(&catalogue, &v, &b, &index, &CompareOptions::default()).unwrap();
    let r = row(&t, "925", "rereferrals_12m", 2025);
    close(r.f("sn_mean"), 19.9);
    close(r.f("england_value"), 22.6);
}

/// A published table made by hand for the boundary cases: ties, a suppressed neighbour, a
/// missing neighbour, neutral polarity.
fn hand_tables() -> ReferenceTables {
    let rows: [(&str, Option<f64>, Option<&str>); 11] = [
        ("888", Some(10.0), None),
        ("384", Some(20.0), None),
        ("884", Some(20.0), None),
        ("813", None, Some("c")), // suppressed: not a zero, not counted
        // 926 Norfolk: no row at all
        ("935", Some(30.0), None),
        ("332", Some(40.0), None),
        ("940", Some(50.0), None),
        ("830", Some(15.0), None),
        ("933", Some(25.0), None),
        ("925", Some(99.0), None), // the LA's own published value: replaced by its own figure
        ("E92000001", Some(25.0), None),
    ];
    let mut measure = vec![];
    let mut code = vec![];
    let mut value = vec![];
    let mut status = vec![];
    for m in ["lait:ReReferral", "lait:CIN"] {
        for (c, v, s) in rows {
            measure.push(m);
            code.push(c);
            value.push(v);
            status.push(s);
        }
    }
    let n = measure.len();
    let published = DataFrame::new_infer_height(vec![
        Column::new("measure".into(), measure),
        Column::new("year".into(), vec![2025i32; n]),
        Column::new(
            "level".into(),
            code.iter()
                .map(|c| if c.len() == 3 { "la" } else { "national" })
                .collect::<Vec<_>>(),
        ),
        Column::new("code".into(), code),
        Column::new("value".into(), value),
        Column::new("status".into(), status),
        Column::full_null("numerator".into(), n, &DataType::Float64),
        Column::full_null("denominator".into(), n, &DataType::Float64),
    ])
    .unwrap();
    ReferenceTables {
        published,
        ..ReferenceTables::embedded().clone()
    }
}

#[test]
fn ranks_quartiles_and_neighbour_means_follow_lait_conventions() {
    let catalogue = Catalogue::embedded().unwrap();
    let tables = hand_tables();
    let index = ReferenceIndex::new(&tables).unwrap();
    let b = Benchmarks::published(&catalogue, &tables, &index).unwrap();
    let v = values(&[
        ("925", "rereferrals_12m", 2025, 20.0, 100.0, 20.0),
        ("925", "cin_rate", 2025, 295.908, 147_954.0, 20.0),
    ]);
    let t = compare(&catalogue, &v, &b, &index, &CompareOptions::default()).unwrap();

    // Re-referrals, lower is better. LAs with a value: 888 10, 830 15, 384 20, 884 20, 925 20
    // (its own figure, not the published 99), 933 25, 935 30, 332 40, 940 50 → 9 LAs; 813 is
    // suppressed and 926 missing. Ranks 1, 2, 3, 3, 3, 6, …: Lincolnshire 3rd of 9.
    // Quartile boundaries at ranks ⌈9/4⌉ = 3, ⌈9/2⌉ = 5, ⌈27/4⌉ = 7: rank 3 → A.
    let r = row(&t, "925", "rereferrals_12m", 2025);
    close(r.f("rank"), 3.0);
    close(r.f("rank_of"), 9.0);
    assert_eq!(r.s("quartile"), "A");
    assert_eq!(r.s("rank_order"), "1 = best");
    // Neighbours with a value: 10, 20, 20, 30, 40, 50, 15, 25 = 8 (813 suppressed, 926 none):
    // mean 210 / 8 = 26.25; median (20 + 25) / 2 = 22.5.
    close(r.f("sn_mean"), 26.25);
    close(r.f("sn_median"), 22.5);
    close(r.f("sn_count"), 8.0);
    close(r.f("sn_suppressed"), 1.0);
    close(r.f("sn_group_size"), 10.0);
    close(r.f("diff_sn"), -6.25);
    close(r.f("diff_sn_pct"), -23.809_523_809_523_81);
    assert_eq!(r.s("rag"), "green");
    assert_eq!(r.s("rag_against"), "statistical neighbours");
    // 20 of 100 against England's 25%: 95% funnel 16.24–33.23 (exact binomial, see
    // compare::stats tests) → within expected variation.
    close(
        r.f("england_lower_95").map(|x| (x * 1e4).round() / 1e4),
        16.2355,
    );
    close(
        r.f("england_upper_95").map(|x| (x * 1e4).round() / 1e4),
        33.2323,
    );
    assert_eq!(r.s("sig_england"), "within expected variation");

    // Children in need, neutral: ranked high to low: 50, 40, 30, 25, 20, 20, 20, 15, 10 →
    // Lincolnshire 5th; no quartile or RAG for a neutral indicator.
    let r = row(&t, "925", "cin_rate", 2025);
    close(r.f("rank"), 5.0);
    assert_eq!(r.s("quartile"), "");
    assert_eq!(r.s("rag"), "");
}

#[test]
fn significance_against_england_uses_the_las_denominator() {
    let catalogue = Catalogue::embedded().unwrap();
    let tables = hand_tables();
    let index = ReferenceIndex::new(&tables).unwrap();
    let b = Benchmarks::published(&catalogue, &tables, &index).unwrap();
    // 40 of 100 re-referred against England's 25%: above the 99.8% upper limit 38.56%
    // (exact binomial, Spiegelhalter interpolation) → significantly worse (lower is better).
    // Also own 95% interval (Clopper–Pearson) 30.33–50.28%.
    let v = values(&[("925", "rereferrals_12m", 2025, 40.0, 100.0, 40.0)]);
    let t = compare(&catalogue, &v, &b, &index, &CompareOptions::default()).unwrap();
    let r = row(&t, "925", "rereferrals_12m", 2025);
    assert_eq!(r.s("sig_england"), "significantly worse (99.8%)");
    assert!((r.f("england_upper_998").unwrap() - 38.5607).abs() < 1e-3);
    assert!(
        (r.f("la_lower_95").unwrap() - 30.33).abs() < 0.01,
        "{:?}",
        r.f("la_lower_95")
    );
    assert!(
        (r.f("la_upper_95").unwrap() - 50.28).abs() < 0.01,
        "{:?}",
        r.f("la_upper_95")
    );
    // The same 40% on 10 referrals is within expected variation.
    let v = values(&[("925", "rereferrals_12m", 2025, 4.0, 10.0, 40.0)]);
    let t = compare(&catalogue, &v, &b, &index, &CompareOptions::default()).unwrap();
    assert_eq!(
        row(&t, "925", "rereferrals_12m", 2025).s("sig_england"),
        "within expected variation"
    );
}

#[test]
fn computed_benchmarks_compare_the_las_held_and_judge_trends() {
    let catalogue = Catalogue::embedded().unwrap();
    let index = ReferenceIndex::embedded();
    // Three East Midlands LAs (925 Lincolnshire, 892 Nottingham, 855 Leicestershire) and one
    // North East LA (841 Darlington), re-referrals over three years; Lincolnshire improving
    // (30% → 25% → 20%, lower is better).
    let v = values(&[
        ("925", "rereferrals_12m", 2023, 30.0, 100.0, 30.0),
        ("925", "rereferrals_12m", 2024, 25.0, 100.0, 25.0),
        ("925", "rereferrals_12m", 2025, 20.0, 100.0, 20.0),
        ("892", "rereferrals_12m", 2025, 30.0, 200.0, 15.0),
        ("855", "rereferrals_12m", 2025, 50.0, 200.0, 25.0),
        ("841", "rereferrals_12m", 2025, 10.0, 100.0, 10.0),
    ]);
    let b = Benchmarks::computed(&catalogue, &v, index).unwrap();
    let t = compare(&catalogue, &v, &b, index, &CompareOptions::default()).unwrap();
    let r = row(&t, "925", "rereferrals_12m", 2025);
    // East Midlands = (20 + 30 + 50) / (100 + 200 + 200) = 100 / 500 = 20%;
    // "England" (the LAs held) = 110 / 600 = 18.33%.
    close(r.f("region_value"), 20.0);
    close(r.f("england_value"), 1100.0 / 60.0);
    // Ranks among the 4 LAs held: 841 10, 892 15, 925 20, 855 25 → 3rd of 4; quartile
    // boundaries 1, 2, 3 → C.
    close(r.f("rank"), 3.0);
    close(r.f("rank_of"), 4.0);
    assert_eq!(r.s("quartile"), "C");
    assert_eq!(r.s("source"), "computed");
    // Trend 30 → 25 → 20: slope −5 a year, down 10 points over 2 years (40% of the mean 25):
    // improving; change from the previous year −5.
    assert_eq!(r.s("trend"), "improving");
    close(r.f("trend_slope"), -5.0);
    close(r.f("trend_years"), 3.0);
    close(r.f("change_previous"), -5.0);
    assert_eq!(b.members["E12000004"], vec!["855", "892", "925"]);
}

#[test]
fn an_la_can_override_its_neighbours() {
    let catalogue = Catalogue::embedded().unwrap();
    let tables = hand_tables();
    let index = ReferenceIndex::new(&tables).unwrap();
    let b = Benchmarks::published(&catalogue, &tables, &index).unwrap();
    let v = values(&[("925", "rereferrals_12m", 2025, 20.0, 100.0, 20.0)]);
    let mut options = CompareOptions::default();
    options
        .neighbours
        .insert("925".into(), vec!["888".into(), "940".into()]);
    let t = compare(&catalogue, &v, &b, &index, &options).unwrap();
    let r = row(&t, "925", "rereferrals_12m", 2025);
    // (10 + 50) / 2 = 30.
    close(r.f("sn_mean"), 30.0);
    close(r.f("sn_group_size"), 2.0);
    assert_eq!(r.s("sn_model"), "");
}

#[test]
fn adoption_stages_are_benchmarked_against_englands_published_averages() {
    // DfE's national table, 2024/25, stage 4 "01:07" (1 year 7 months) and stage 6 "02:03",
    // kept as days (a year 365.25 days, a month 30.4375).
    let catalogue = Catalogue::embedded().unwrap();
    let index = ReferenceIndex::embedded();
    let b = Benchmarks::published(&catalogue, ReferenceTables::embedded(), index).unwrap();
    let end = to_epoch_days(d(2025, 3, 31));
    let england = |id: &str| {
        let p = b
            .period_for(id, cspi::indicators::period::PeriodType::Year, end)
            .unwrap();
        b.get(id, &p, "E92000001").and_then(|x| x.value)
    };
    close(
        england("adoption_days_entry_to_placed"),
        365.25 + 7.0 * 30.4375,
    );
    close(
        england("adoption_days_entry_to_adoption"),
        2.0 * 365.25 + 3.0 * 30.4375,
    );
    close(england("adoption_days_match_to_placed"), 30.4375);
}
