//! Loading the catalogue: every shipped definition loads; a bad local file is rejected with
//! the file, the field and what was expected; a good local file adds an indicator without Rust.

use cspi::indicators::catalogue::{Catalogue, CatalogueError};

const GOOD: &str = "\
id: referrals_police
title: Referrals from the police
short_title: Referrals from the police
area: help_and_protection
source: referrals
unit: percent
polarity: neutral
periods: [year]
in_period: {event: referral_date}
numerator: referral_source = '5A'
definition: local
";

fn load(name: &str, text: &str) -> Result<Catalogue, CatalogueError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    Catalogue::with_local(dir.path())
}

fn error(name: &str, text: &str) -> CatalogueError {
    load(name, text).expect_err("the definition must be rejected")
}

#[test]
fn the_shipped_catalogue_loads_and_covers_every_area() {
    let c = Catalogue::embedded().unwrap();
    assert!(c.definitions.len() >= 54, "{}", c.definitions.len());
    for id in [
        "referrals_rate",
        "rereferrals_12m",
        "assessments_45wd",
        "icpc_15wd",
        "cpp_second_subsequent",
        "cla_rate",
        "cla_3plus_placements",
        "cla_long_term_stability",
        "adoption_a1",
        "adoption_a2",
        "adoption_a10",
        "care_leavers_eet_17_18",
        "care_leavers_eet_19_21",
    ] {
        assert!(c.get(id).is_some(), "{id}");
    }
}

#[test]
fn a_local_definition_is_added_to_the_catalogue() {
    let c = load("referrals_police.yaml", GOOD).unwrap();
    let def = c.get("referrals_police").unwrap();
    assert_eq!(def.numerator.as_deref(), Some("referral_source = '5A'"));
    assert!(c.files["referrals_police"].ends_with("referrals_police.yaml"));
}

#[test]
fn an_unknown_column_names_the_file_the_field_and_the_columns_there_are() {
    let e = error(
        "referrals_police.yaml",
        &GOOD.replace("referral_source = '5A'", "referal_source = '5A'"),
    );
    assert!(e.file.ends_with("referrals_police.yaml"), "{e}");
    assert_eq!(e.field, "numerator");
    assert!(e.message.contains("unknown column `referal_source`"), "{e}");
    assert!(
        e.message.contains("referral_source"),
        "lists the real columns: {e}"
    );
}

#[test]
fn malformed_yaml_and_wrong_fields_are_rejected_with_the_field() {
    let e = error("referrals_police.yaml", "id: [unclosed\n");
    assert!(e.file.ends_with("referrals_police.yaml"));
    let e = error("referrals_police.yaml", &format!("{GOOD}colour: red\n"));
    assert_eq!(e.field, "colour", "{e}");
    assert!(e.message.contains("unknown field"), "{e}");
    let e = error(
        "referrals_police.yaml",
        &GOOD.replace("unit: percent", "unit: percentage"),
    );
    assert!(e.message.contains("percent"), "says what was expected: {e}");
    let e = error(
        "referrals_police.yaml",
        &GOOD.replacen("\ntitle: Referrals from the police\n", "\n", 1),
    );
    assert_eq!(e.field, "title", "{e}");
}

#[test]
fn semantic_errors_name_the_field() {
    let e = error(
        "referrals_police.yaml",
        &GOOD.replace("source: referrals", "source: referals"),
    );
    assert_eq!(e.field, "source");
    assert!(
        e.message.contains("cla_periods"),
        "lists the fact tables: {e}"
    );
    let e = error(
        "referrals_police.yaml",
        &GOOD.replace("numerator: referral_source = '5A'\n", ""),
    );
    assert_eq!(e.field, "numerator", "a percentage needs a numerator: {e}");
    let e = error(
        "referrals_police.yaml",
        &GOOD.replace("referral_source = '5A'", "referral_source = = '5A'"),
    );
    assert_eq!(e.field, "numerator");
    assert!(e.message.contains("not a valid SQL expression"), "{e}");
    let e = error("other_name.yaml", GOOD);
    assert_eq!(e.field, "id", "{e}");
}
