//! The 2026/27 CIN census's pre-proceedings and family group decision-making group, on a
//! hand-written return (tests/fixtures/returns_2027: LA 925, five children):
//!
//! - P1: referred 1 May 2026; pre-proceedings from 1 June 2026, a family group meeting offered
//!   and held; decision 1 November 2026, outcome A.
//! - P2: referred 1 July 2026; pre-proceedings from 15 August 2026, a meeting offered, not held;
//!   no decision by 31 March 2027.
//! - P3: referred 1 September 2026; pre-proceedings from 1 October 2026, no meeting offered;
//!   decision 1 February 2027, outcome C (a court application on 10 February).
//! - P4: referred 10 April 2026, closed 1 June 2026: no pre-proceedings.
//! - P5: referred 1 December 2025; pre-proceedings from 1 February 2026 (2025/26), a meeting
//!   offered and held; decision 1 May 2026 (2026/27), outcome B.
//!
//! In 2026/27 pre-proceedings started for P1, P2 and P3 (3); decisions were made for P1, P3
//! and P5 (3: one each of A, B and C).

use std::sync::OnceLock;

use super::*;

fn year_2027() -> Period {
    Period::year(2027)
}

fn evaluation() -> &'static DataFrame {
    static E: OnceLock<DataFrame> = OnceLock::new();
    E.get_or_init(|| {
        let (e, report) = common::ingest_and_evaluate(
            &common::fixture("returns_2027"),
            &[year_2027()],
            &[
                "pre_proceedings_rate",
                "pre_proceedings_fgdm_offered",
                "pre_proceedings_fgdm_held",
                "pre_proceedings_outcomes",
            ],
            false,
        );
        assert_eq!(report.errors(), 0, "{:?}", report.issues);
        e.values
    })
}

fn figure_2027(id: &str) -> (f64, Option<f64>, Option<f64>) {
    common::figure(evaluation(), id, Some(&year_2027())).expect(id)
}

/// P1, P2 and P3 started pre-proceedings in 2026/27 (P5 in 2025/26): 3 children per 10,000
/// of the population the rate divides by.
#[test]
fn pre_proceedings_rate() {
    let (n, den, v) = figure_2027("pre_proceedings_rate");
    assert_eq!(n, 3.0);
    let den = den.unwrap();
    assert!((v.unwrap() - 3.0 * 10_000.0 / den).abs() < 1e-9, "{den}");
}

/// Of the 3 started, P1 and P2 were offered a family group meeting (2 of 3); only P1 had one
/// (1 of 3).
#[test]
fn pre_proceedings_fgdm_offered_and_held() {
    let (n, d, v) = figure_2027("pre_proceedings_fgdm_offered");
    assert_eq!((n, d), (2.0, Some(3.0)));
    assert!((v.unwrap() - 200.0 / 3.0).abs() < 1e-9);
    let (n, d, _) = figure_2027("pre_proceedings_fgdm_held");
    assert_eq!((n, d), (1.0, Some(3.0)));
}

/// Decisions in 2026/27: P1 (A), P3 (C) and P5 (B, whose pre-proceedings began the year
/// before): a third each.
#[test]
fn pre_proceedings_outcomes() {
    let (n, d, _) = figure_2027("pre_proceedings_outcomes");
    assert_eq!((n, d), (3.0, Some(3.0)));
    let v = evaluation();
    for outcome in ["A", "B", "C"] {
        let row = v
            .clone()
            .lazy()
            .filter(
                col("indicator_id")
                    .eq(lit("pre_proceedings_outcomes"))
                    .and(col("breakdown").eq(lit(outcome))),
            )
            .collect()
            .unwrap();
        assert_eq!(row.height(), 1, "{outcome}: {row}");
        let get = |c: &str| row.column(c).unwrap().f64().unwrap().get(0);
        assert_eq!(
            (get("numerator"), get("denominator")),
            (Some(1.0), Some(3.0)),
            "{outcome}"
        );
    }
}

/// Children in need at 31 March 2027 by primary need: the 2026/27 return above with P2's
/// primary need made N2 (the child's disability) and P3's N3 (parental illness or disability).
#[test]
fn cin_count_by_need() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::fixture("returns_2027").join("925/2027/cin_census.xml");
    let text: Vec<String> = std::fs::read_to_string(src)
        .unwrap()
        .lines()
        .map(|l| match l {
            l if l.contains("<CINreferralDate>2026-07-01<") => l.replace(">N1<", ">N2<"),
            l if l.contains("<CINreferralDate>2026-09-01<") => l.replace(">N1<", ">N3<"),
            l => l.to_string(),
        })
        .collect();
    let out = dir.path().join("in/925/2027");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("cin_census.xml"), text.join("\n")).unwrap();
    let (e, _) = common::ingest_and_evaluate(
        &dir.path().join("in"),
        &[year_2027()],
        &["cin_count_by_need"],
        false,
    );
    // Open at 31/03/2027: P1 and P5 (N1), P2 (N2), P3 (N3); P4's episode closed on 01/06/2026.
    let groups = common::rows(
        &e.values
            .clone()
            .lazy()
            .filter(col("breakdown").is_not_null())
            .sort(["breakdown"], SortMultipleOptions::default())
            .collect()
            .unwrap(),
        &["breakdown", "numerator"],
    );
    assert_eq!(groups, ["N1|2.0", "N2|1.0", "N3|1.0"]);
    assert_eq!(
        common::figure(&e.values, "cin_count_by_need", Some(&year_2027())).map(|f| f.0),
        Some(4.0)
    );
}
