//! Hand-computed tests of the help-and-protection definitions added for the national measure
//! set (referrals, assessments, enquiries, conferences, plans, children in need), on the same
//! fixture and helpers as the rest of tests/indicators.rs.

#[allow(unused_imports)]
use super::*;

/// A figure for the DfE year 2023/24 (the fixture's first CIN return).
fn fig_2024(id: &str) -> (f64, Option<f64>, Option<f64>) {
    fig_at(id, PeriodType::Year, d(2024, 3, 31), None)
}

/// A figure at the 31/12/2024 snapshot.
fn fig_snapshot(id: &str) -> (f64, Option<f64>, Option<f64>) {
    fig_at(id, PeriodType::Snapshot, d(2024, 12, 31), None)
}

#[test]
fn referrals_count() {
    // Referrals dated in 2024/25: R4 (01/04), R1 (10/05), R2 (01/06), R6 (30/08), R7 (15/09),
    // R12 (20/10), R3 (31/03/2025) = 7, the count behind referrals_rate.
    assert_eq!(fig("referrals_count").0, 7.0);
    // 2023/24: R1 (10/05/2023), R12 (20/05/2023), R2 (31/05/2023), R30 (01/06/2023),
    // R31 (01/09/2023) = 5. R32 (01/06/2022), R8 and R9 (March 2023) were referred before.
    assert_eq!(fig_2024("referrals_count").0, 5.0);
}

#[test]
fn referrals_assessed_not_in_need() {
    // 2024/25, of 7 referrals: R3 closed RC8 but was no further action; R2 closed RC9 after an
    // assessment but had a section 47 enquiry (further activity); the others closed RC7 or are
    // open. 0 of 7.
    assert_percent("referrals_assessed_not_in_need", 0.0, 7.0);
    // 2023/24, of 5: R1's 2023 referral had an assessment (10/05–20/05/2023), nothing else, and
    // closed RC8 → counts. R2's 2023 referral closed RC8 with no assessment → not. R12, R30,
    // R31 closed RC7. 1 of 5.
    let (n, dd, v) = fig_2024("referrals_assessed_not_in_need");
    assert_eq!((n, dd), (1.0, Some(5.0)));
    assert!((v.unwrap() - 20.0).abs() < 1e-9);
    assert_eq!(
        children(
            "referrals_assessed_not_in_need",
            "year",
            d(2024, 3, 31),
            true
        ),
        vec!["R1"]
    );
}

#[test]
fn referrals_by_source() {
    // 2024/25 referrals by ReferralSource: R1 2A (school), R12 2B (education services, not a
    // school), R2 3A (GP), R6 3E (A&E), R7 5D (early help), R4 and R3 6 (police). Of 7:
    // schools 1 (R1); health services 2 (R2, R6); police 2 (R3, R4).
    assert_percent("referrals_source_school", 1.0, 7.0);
    assert_percent("referrals_source_health", 2.0, 7.0);
    assert_percent("referrals_source_police", 2.0, 7.0);
    assert_eq!(
        children("referrals_source_health", "year", d(2025, 3, 31), true),
        vec!["R2", "R6"]
    );
    // 2023/24, of 5: R30 2A (school); R31 3E (health); R1, R2, R12 6 (police).
    assert_eq!(fig_2024("referrals_source_school").0, 1.0);
    assert_eq!(fig_2024("referrals_source_health").0, 1.0);
    assert_eq!(
        fig_2024("referrals_source_police"),
        (3.0, Some(5.0), Some(60.0))
    );
}

#[test]
fn icpc_working_day_bands() {
    // 2024/25 conferences with an enquiry before them (as icpc_15wd): R4 on the 15th working
    // day, R1 on the 16th. R2's conference is before its enquiry, R7's has no enquiry: neither
    // is in any band.
    assert_eq!(fig("icpc_0_10wd").0, 0.0);
    assert_eq!(fig("icpc_11_15wd").0, 1.0);
    assert_eq!(fig("icpc_16_20wd").0, 1.0);
    assert_eq!(fig("icpc_21wd_plus").0, 0.0);
    assert_eq!(
        children("icpc_16_20wd", "year", d(2025, 3, 31), false),
        vec!["R1"]
    );
    // 2023/24: R30 enquiry Mon 05/06/2023, conference Mon 19/06/2023: June 6–9 (4), 12–16 (9),
    // 19 (10) → the 10th working day, in 0–10. R31 enquiry Mon 04/09/2023, conference Tue
    // 03/10/2023: Sept 5–8 (4), 11–15 (9), 18–22 (14), 25–29 (19), Oct 2 (20), 3 (21) → 21+.
    assert_eq!(fig_2024("icpc_0_10wd").0, 1.0);
    assert_eq!(fig_2024("icpc_11_15wd").0, 0.0);
    assert_eq!(fig_2024("icpc_16_20wd").0, 0.0);
    assert_eq!(fig_2024("icpc_21wd_plus").0, 1.0);
    assert_eq!(
        children("icpc_21wd_plus", "year", d(2024, 3, 31), false),
        vec!["R31"]
    );
}

#[test]
fn cpp_starts_count() {
    // Plans started in 2024/25: R4 29/04, R7 01/10, R12 01/11 = 3 (as cpp_starts_rate).
    assert_eq!(fig("cpp_starts_count").0, 3.0);
    // 2023/24: R8 02/04/2023, R9 03/04/2023, R12 01/06/2023 = 3.
    assert_eq!(fig_2024("cpp_starts_count").0, 3.0);
}

#[test]
fn cpp_open_3m_and_reviewed_in_time_counts() {
    // At 31/03/2025, open 3 months or more: R4 (29/04/2024), R7 (01/10/2024), R8, R9 = 4 (the
    // denominator of cpp_reviewed_in_time); reviewed in time: R7, R8 = 2 (its numerator).
    assert_eq!(fig("cpp_open_3m_count").0, 4.0);
    assert_eq!(fig("cpp_reviewed_in_time_count").0, 2.0);
    // At 31/12/2024: R7's plan (01/10/2024) is under 3 months old; R4, R8, R9 = 3, of which R4
    // (next review due 29/01/2025) and R8 are in time = 2.
    assert_eq!(fig_snapshot("cpp_open_3m_count").0, 3.0);
    assert_eq!(fig_snapshot("cpp_reviewed_in_time_count").0, 2.0);
    assert_eq!(
        children(
            "cpp_reviewed_in_time_count",
            "snapshot",
            d(2024, 12, 31),
            false
        ),
        vec!["R4", "R8"]
    );
}

#[test]
fn cpp_second_subsequent_count() {
    // Plans started in 2024/25 that were a second plan: R7 (NumberOfPreviousCPP = 1) and R12
    // (its 2023 plan is in the history); R4's is a first plan. 2.
    assert_eq!(fig("cpp_second_subsequent_count").0, 2.0);
}

#[test]
fn cpp_ceased_rate_and_2y_count() {
    // Plans ending in 2024/25: R10 (30/05/2024, 730 days), R11 (31/05/2024, 729 days), R12
    // (01/02/2025, 93 days) = 3 per 10,000; of them lasting 2 years or more (> 729 days): R10.
    assert_rate("cpp_ceased_rate", 3.0);
    assert_eq!(fig("cpp_ceased_2y_count").0, 1.0);
    // 2023/24: R12's first plan ended 01/12/2023 = 1, after 184 days.
    let (n, dd, _) = fig_2024("cpp_ceased_rate");
    assert_eq!(n, 1.0);
    assert!(dd.is_some());
    assert_eq!(fig_2024("cpp_ceased_2y_count").0, 0.0);
}

#[test]
fn cin_duration_of_open_episodes() {
    // Open at 31/03/2025 (none NFA): R4 from 01/04/2024 (a day short of a year: 6–12 months),
    // R7 from 15/09/2024 (6 months on 15/03/2025: 6–12 months), R8 from 20/03/2023 and R9 from
    // 21/03/2023 (2 years on 20 and 21/03/2025: 2 years or more). Of 4.
    assert_percent("cin_duration_under_3m", 0.0, 4.0);
    assert_percent("cin_duration_3_6m", 0.0, 4.0);
    assert_percent("cin_duration_6_12m", 2.0, 4.0);
    assert_percent("cin_duration_1_2y", 0.0, 4.0);
    assert_percent("cin_duration_2y_plus", 2.0, 4.0);
    // At 31/12/2024: R12 from 20/10/2024 (under 3 months), R7 (3 months on 15/12/2024: 3–6),
    // R4 (6 months on 01/10/2024: 6–12), R8 and R9 (1–2 years). R6 closed on 31/12/2024 itself,
    // so it is not open. Of 5.
    for (id, n) in [
        ("cin_duration_under_3m", 1.0),
        ("cin_duration_3_6m", 1.0),
        ("cin_duration_6_12m", 1.0),
        ("cin_duration_1_2y", 2.0),
        ("cin_duration_2y_plus", 0.0),
    ] {
        let (num, den, _) = fig_snapshot(id);
        assert_eq!((num, den), (n, Some(5.0)), "{id}");
    }
    assert_eq!(
        children("cin_duration_under_3m", "snapshot", d(2024, 12, 31), true),
        vec!["R12"]
    );
    // At 31/03/2024: R8, R9 (a year and 11 or 10 days), R10 from 01/05/2022 and R11 from
    // 02/05/2022 (23 months) — all 1–2 years. 4 of 4.
    assert_eq!(fig_2024("cin_duration_1_2y"), (4.0, Some(4.0), Some(100.0)));
}

#[test]
fn cin_ceased_by_duration() {
    // Episodes closed in 2024/25, leaving out R3 (NFA) and R2's (RC9, closed after assessment):
    // R1 10/05–01/08/2024 (under 3 months); R6 30/08–31/12/2024 (3 months on 30/11: 3–6);
    // R12 20/10/2024–15/03/2025 (3–6); R10 01/05/2022–30/06/2024 and R11 02/05/2022–30/06/2024
    // (2 years or more). Of 5.
    assert_percent("cin_ceased_under_3m", 1.0, 5.0);
    assert_percent("cin_ceased_3_6m", 2.0, 5.0);
    assert_percent("cin_ceased_6_12m", 0.0, 5.0);
    assert_percent("cin_ceased_1_2y", 0.0, 5.0);
    assert_percent("cin_ceased_2y_plus", 2.0, 5.0);
    assert_eq!(
        children("cin_ceased_2y_plus", "year", d(2025, 3, 31), true),
        vec!["R10", "R11"]
    );
    // 2023/24, leaving out R1's and R2's 2023 referrals (closed RC8): R30 01/06–01/08/2023 and
    // R31 01/09–01/11/2023 (under 3 months); R12 20/05–31/12/2023 (6 months on 20/11: 6–12);
    // R32 01/06/2022–01/09/2023 (1 year on 01/06/2023: 1–2 years). Of 4.
    for (id, n) in [
        ("cin_ceased_under_3m", 2.0),
        ("cin_ceased_3_6m", 0.0),
        ("cin_ceased_6_12m", 1.0),
        ("cin_ceased_1_2y", 1.0),
        ("cin_ceased_2y_plus", 0.0),
    ] {
        let (num, den, _) = fig_2024(id);
        assert_eq!((num, den), (n, Some(4.0)), "{id}");
    }
}

#[test]
fn cin_count_by_age() {
    // Children in need at 31/03/2025 (cin_count's 4): R7 4 (1 to 4); R4 5 (5 to 9); R8 and R9
    // 10 (10 to 15).
    assert_eq!(
        groups_2025("cin_count_by_age"),
        ["1 to 4|1.0", "10 to 15|2.0", "5 to 9|1.0"]
    );
    assert_eq!(fig("cin_count_by_age").0, 4.0);
}
