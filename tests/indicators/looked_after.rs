//! Hand-computed tests of the children-looked-after, adoption and care-leaver definitions added
//! for the national measure set, on the same fixture and helpers as the rest of
//! tests/indicators.rs.

use super::*;

/// A figure for the DfE year ending 31 March of `year`.
fn fig_year(id: &str, year: i32) -> (f64, Option<f64>, Option<f64>) {
    fig_at(id, PeriodType::Year, d(year, 3, 31), None)
}

fn assert_percent_year(id: &str, year: i32, num: f64, den: f64) {
    let (n, dd, v) = fig_year(id, year);
    assert_eq!((n, dd), (num, Some(den)), "{id} {year}");
    assert!((v.unwrap() - 100.0 * num / den).abs() < 1e-9, "{id} {year}");
}

// ------------------------------------------------------------------ starts and UASC

#[test]
fn cla_starts_count() {
    // Periods of care starting in 2024/25: L3 (01/05/2024), L11 (01/06/2024 and again
    // 01/02/2025: one child), L13 (09/09/2024); L5's short breaks (V3) excluded. 3 children, the
    // count behind cla_starts_rate. The drill-down lists each period of care: L11 twice.
    assert_eq!(fig("cla_starts_count").0, 3.0);
    assert_eq!(
        children("cla_starts_count", "year", d(2025, 3, 31), false),
        vec!["L11", "L11", "L13", "L3"]
    );
}

#[test]
fn cla_uasc_pct() {
    // Looked after at 31/03/2025: L1, L2, L3, L4, L11, L13, L14 = 7. L13 is UASC (DUC
    // 07/07/2026, after the period end). 1 of 7.
    assert_percent("cla_uasc_pct", 1.0, 7.0);
    assert_eq!(
        children("cla_uasc_pct", "year", d(2025, 3, 31), true),
        vec!["L13"]
    );
}

#[test]
fn cla_starts_uasc_pct() {
    // Of the 3 children starting in 2024/25 (L3, L11, L13), L13 was UASC when he came into care
    // on 09/09/2024 (status until 07/07/2026). 1 of 3.
    assert_percent("cla_starts_uasc_pct", 1.0, 3.0);
}

// ------------------------------------------------------------------ stability (numerators)

#[test]
fn cla_3plus_placements_count() {
    // The numerator of cla_3plus_placements: L3 (U6, U4 after a same-carer move, K2) is the
    // one child looked after at 31/03/2025 with 3 placements in 2024/25 (L4, L11, L14 had 2;
    // L1, L2, L13 one).
    assert_eq!(fig("cla_3plus_placements_count").0, 1.0);
    assert_eq!(
        children("cla_3plus_placements_count", "year", d(2025, 3, 31), false),
        vec!["L3"]
    );
}

#[test]
fn cla_long_term_stability_count() {
    // The numerator of cla_long_term_stability: of L1, L2, L14 (under 16, looked after since
    // 30/09/2022 or earlier), L1 (same placement since 01/06/2022) and L14 (placed for adoption
    // 01/12/2024, the placement before from 15/03/2023) count; L2 (placement since 15/06/2023)
    // does not. 2.
    assert_eq!(fig("cla_long_term_stability_count").0, 2.0);
    assert_eq!(
        children(
            "cla_long_term_stability_count",
            "year",
            d(2025, 3, 31),
            false
        ),
        vec!["L1", "L14"]
    );
}

// ------------------------------------------------------------------ placement types

#[test]
fn cla_placement_types_as_dfe_groups_them() {
    // 31/03/2025, of the 7 looked after: foster L1, L2 (U4), L11 (U6) = 3; children's home L3
    // (K2) = 1; semi-independent L13 (H5) = 1; L4 (A3) and L14 (A4) are placed for adoption, in
    // none of these groups. No child in other residential settings, other placements or placed
    // with parents.
    for (id, n) in [
        ("cla_in_foster_care", 3.0),
        ("cla_in_childrens_homes", 1.0),
        ("cla_in_independent_living", 1.0),
        ("cla_in_other_residential", 0.0),
        ("cla_in_other_placements", 0.0),
        ("cla_placed_with_parents", 0.0),
    ] {
        assert_percent(id, n, 7.0);
    }
    // 31/03/2023, 16 looked after: foster L1, L6, L14, L18 (U4), L2, L7, L8, L36, L37 (U6),
    // L35 (U3) = 10; secure children's home L31 (K1) = 1; independent living L38 (P2) = 1;
    // other residential L32 (R1, residential care home) and L33 (P3, residential employment)
    // = 2; other placement L34 (Z1) = 1; with parents L30 (P1) = 1. 10+1+1+2+1+1 = 16.
    for (id, n) in [
        ("cla_in_foster_care", 10.0),
        ("cla_in_childrens_homes", 1.0),
        ("cla_in_independent_living", 1.0),
        ("cla_in_other_residential", 2.0),
        ("cla_in_other_placements", 1.0),
        ("cla_placed_with_parents", 1.0),
    ] {
        assert_percent_year(id, 2023, n, 16.0);
    }
    assert_eq!(
        children("cla_in_other_residential", "year", d(2023, 3, 31), true),
        vec!["L32", "L33"]
    );
}

// ------------------------------------------------------------------ leaving care

#[test]
fn adoptions_by_consent() {
    // Adopted in 2024/25: L8 (E11, unopposed) and L9 (E12, consent dispensed with): 1 each,
    // each half of the 2 adopted.
    assert_eq!(fig("adoptions_unopposed_count").0, 1.0);
    assert_eq!(fig("adoptions_consent_dispensed_count").0, 1.0);
    assert_percent("adoptions_unopposed_pct", 1.0, 2.0);
    assert_percent("adoptions_consent_dispensed_pct", 1.0, 2.0);
    assert_eq!(
        children("adoptions_unopposed_pct", "year", d(2025, 3, 31), true),
        vec!["L8"]
    );
    assert_eq!(
        children(
            "adoptions_consent_dispensed_pct",
            "year",
            d(2025, 3, 31),
            true
        ),
        vec!["L9"]
    );
    // 2022/23: L10 (E11) is the one adoption: 1 of 1 unopposed, 0 of 1 consent dispensed with.
    assert_percent_year("adoptions_unopposed_pct", 2023, 1.0, 1.0);
    assert_percent_year("adoptions_consent_dispensed_pct", 2023, 0.0, 1.0);
}

#[test]
fn sgo_pct_and_sgo_carers() {
    // 2024/25: of the 7 ceasing care (L6, L7, L8, L9, L11, L12, L18), L12 left on a special
    // guardianship order (E45, to her former foster carer, a relative): 1 of 7; of the SGOs,
    // 1 of 1 to a former foster carer who is a relative or friend, none to the others.
    assert_percent("sgo_pct", 1.0, 7.0);
    assert_percent("sgo_former_foster_relative_pct", 1.0, 1.0);
    assert_percent("sgo_former_foster_other_pct", 0.0, 1.0);
    assert_percent("sgo_other_carer_relative_pct", 0.0, 1.0);
    // 2023/24: ceasing care L30 (E4B), L31 (E41), L32 (E7), L33 (E5), L34 (E46), L35 (E45),
    // L36 (E47), L37 (E48), L38 (E6) = 9. SGOs: L34, L35, L36, L37 = 4 of 9; L31's child
    // arrangements order (E41) is not one. Of the 4: former foster carer relative L35 (E45),
    // former foster carer not a relative L34 (E46), other carer relative L36 (E47): 1 of 4 each;
    // L37 (E48, other carer not a relative) is in the denominators only.
    assert_percent_year("sgo_pct", 2024, 4.0, 9.0);
    assert_percent_year("sgo_former_foster_relative_pct", 2024, 1.0, 4.0);
    assert_percent_year("sgo_former_foster_other_pct", 2024, 1.0, 4.0);
    assert_percent_year("sgo_other_carer_relative_pct", 2024, 1.0, 4.0);
    assert_eq!(
        children("sgo_pct", "year", d(2024, 3, 31), true),
        vec!["L34", "L35", "L36", "L37"]
    );
}

#[test]
fn cla_ceased_cao_pct() {
    // 2024/25: none of the 7 left on a residence or child arrangements order (E41). 2023/24:
    // L31 (E41) of the 9.
    assert_percent("cla_ceased_cao_pct", 0.0, 7.0);
    assert_percent_year("cla_ceased_cao_pct", 2024, 1.0, 9.0);
}

#[test]
fn cla_returned_home_not_care_plan() {
    // 2024/25: L11 returned home as part of the care plan (E4A), not outside it: 0 of 7.
    // 2023/24: L30 returned home not as part of the care planning process (E4B): 1 of 9.
    assert_percent("cla_returned_home_not_care_plan", 0.0, 7.0);
    assert_percent_year("cla_returned_home_not_care_plan", 2024, 1.0, 9.0);
    assert_eq!(
        children(
            "cla_returned_home_not_care_plan",
            "year",
            d(2024, 3, 31),
            true
        ),
        vec!["L30"]
    );
}

// ------------------------------------------------------------------ OC2 outcomes

#[test]
fn cla_convictions() {
    // OC2 2024/25: L1 (13 at 31/03/2025), L2 (14), L4 (4), L14 (6). Aged 10 or over: L1, L2;
    // L2 was convicted. 1 of 2 (L4 and L14 are too young to be in the denominator).
    assert_percent("cla_convictions", 1.0, 2.0);
    assert_eq!(
        children("cla_convictions", "year", d(2025, 3, 31), false),
        vec!["L1", "L2"]
    );
}

#[test]
fn cla_immunisations() {
    // L4's immunisations are not up to date; L1's, L2's, L14's are. 3 of 4.
    assert_percent("cla_immunisations", 3.0, 4.0);
}

#[test]
fn cla_substance_misuse() {
    // L2 has a substance misuse problem; every age is in the denominator. 1 of 4.
    assert_percent("cla_substance_misuse", 1.0, 4.0);
}

// ------------------------------------------------------------------ care leavers (19-21)

#[test]
fn care_leaver_counts_19_21() {
    // 2024/25 19–21 cohort: L15 (20 on 01/04/2024, F1, U1), L16 (20 on 31/03/2025, not in
    // touch, activity and accommodation not known), L19 (20 on 10/10/2024, F5, gone abroad G1);
    // L17 died → out. 3 care leavers; in suitable accommodation L15 (L19, abroad, is not
    // counted) = 1; in education, employment or training L15, L19 = 2; in higher education
    // L15 = 1. The numerators and denominator of the care_leavers_*_19_21 shares.
    assert_eq!(fig("care_leavers_count_19_21").0, 3.0);
    assert_eq!(fig("care_leavers_suitable_count_19_21").0, 1.0);
    assert_eq!(fig("care_leavers_eet_count_19_21").0, 2.0);
    assert_eq!(fig("care_leavers_he_count_19_21").0, 1.0);
    // 2023/24: L15 (19 on 01/04/2023) and L16 (19 on 31/03/2024), both in touch.
    assert_eq!(fig_year("care_leavers_count_19_21", 2024).0, 2.0);
}

#[test]
fn care_leavers_neet_19_21() {
    // 2024/25: L15 F1 and L19 F5 are in education, employment or training; L16's activity is
    // not known (0), which is not NEET. 0 of 3.
    assert_percent("care_leavers_neet_19_21", 0.0, 3.0);
    // 2023/24: L15 was NEET (G6, pregnancy or parenting); L16 in education (F2). 1 of 2.
    assert_percent_year("care_leavers_neet_19_21", 2024, 1.0, 2.0);
}

// ------------------------------------------------------------------ breakdowns DfE publishes

#[test]
fn cla_count_by_sex() {
    // Looked after at 31/03/2025: L1, L3, L13 (M); L2, L4, L11, L14 (F). The total is cla_count.
    assert_eq!(groups_2025("cla_count_by_sex"), ["F|4.0", "M|3.0"]);
    assert_eq!(fig("cla_count_by_sex").0, 7.0);
}

#[test]
fn cla_count_by_legal_status() {
    // The legal status of the episode open at 31/03/2025: L1, L2 full care orders (C2); L3 an
    // interim care order (C1, since 01/09/2024); L4, L14 placement orders (E1); L11, L13
    // section 20 (V2).
    assert_eq!(
        groups_2025("cla_count_by_legal_status"),
        ["C1|1.0", "C2|2.0", "E1|2.0", "V2|2.0"]
    );
}

#[test]
fn cla_count_by_ethnicity() {
    // L13 is recorded OOTH (any other ethnic group); the other six WBRI.
    assert_eq!(
        groups_2025("cla_count_by_ethnicity"),
        ["OOTH|1.0", "WBRI|6.0"]
    );
}

#[test]
fn cla_ceased_by_reason() {
    // Ceased in 2024/25, one child each: L6 E17, L7 E5, L8 E11, L9 E12, L11 E4A, L12 E45, L18
    // E8; L5's short breaks are left out. The groups add up to cla_ceased_count's 7.
    assert_eq!(
        groups_2025("cla_ceased_by_reason"),
        [
            "E11|1.0", "E12|1.0", "E17|1.0", "E45|1.0", "E4A|1.0", "E5|1.0", "E8|1.0"
        ]
    );
    assert_eq!(fig("cla_ceased_by_reason").0, 7.0);
}

#[test]
fn cla_count_by_age() {
    // Ages at 31/03/2025: L4 4 (1 to 4); L14 6 (5 to 9); L1 13, L2 14, L11 10 (10 to 15); L3
    // 17, L13 16 (16 and over). No one under 1.
    assert_eq!(
        groups_2025("cla_count_by_age"),
        [
            "1 to 4|1.0",
            "10 to 15|3.0",
            "16 and over|2.0",
            "5 to 9|1.0"
        ]
    );
}
