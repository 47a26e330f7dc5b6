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

/// A local definition whose `where` is `sql` (the GOOD file with a filter added).
fn with_where(sql: &str) -> String {
    format!("{GOOD}where: \"{sql}\"\n")
}

#[test]
fn a_subquery_reading_a_file_is_rejected_before_polars_runs_it() {
    // polars' SQL front end would run the subquery while translating the expression and print
    // the file's first line in its error ("root:x:0:0:…").
    let e = error(
        "referrals_police.yaml",
        &with_where("child IN (SELECT x FROM read_csv('/etc/passwd'))"),
    );
    assert!(e.file.ends_with("referrals_police.yaml"), "{e}");
    assert_eq!(e.field, "where");
    assert!(e.message.contains("subqueries are not allowed"), "{e}");
    assert!(!e.to_string().contains("root:"), "echoes the file: {e}");
}

#[test]
fn every_sql_field_passes_the_guard() {
    let table_function = "referral_source IN (SELECT * FROM read_parquet('/etc/passwd'))";
    let cases = [
        (
            GOOD.replace("referral_source = '5A'", table_function),
            "numerator",
        ),
        (format!("{GOOD}cohort: \"{table_function}\"\n"), "cohort"),
        (
            GOOD.replace("unit: percent", "unit: mean")
                .replace("numerator: referral_source = '5A'\n", "")
                + &format!("value: \"CASE WHEN {table_function} THEN 1 ELSE 0 END\"\n"),
            "value",
        ),
        (
            GOOD.replace("unit: percent", "unit: mean")
                .replace("numerator: referral_source = '5A'\n", "")
                + "measures:\n  - {name: x, value: \"EXISTS (SELECT 1 FROM referrals)\"}\n",
            "measures.x",
        ),
        (
            GOOD.replace("numerator: referral_source = '5A'\n", "numerator: n > 0\n")
                .replace("unit: percent", "unit: percent\ncount: children")
                + "per_child:\n  n: \"MAX((SELECT 1 FROM read_csv('/etc/passwd')))\"\n",
            "per_child.n",
        ),
    ];
    for (text, field) in cases {
        let e = error("referrals_police.yaml", &text);
        assert_eq!(e.field, field, "{e}");
        assert!(e.message.contains("not allowed"), "{e}");
        assert!(!e.to_string().contains("root:"), "{e}");
    }
}

#[test]
fn exists_table_functions_and_unknown_functions_are_rejected_with_the_reason() {
    let e = error(
        "referrals_police.yaml",
        &with_where("EXISTS (SELECT 1 FROM referrals WHERE child = 'A')"),
    );
    assert_eq!(e.field, "where");
    assert!(e.message.contains("subqueries are not allowed"), "{e}");
    // A table function called as a scalar function.
    let e = error(
        "referrals_police.yaml",
        &with_where("read_csv('/etc/passwd') IS NULL"),
    );
    assert!(
        e.message.contains("function `read_csv` is not allowed"),
        "{e}"
    );
    // A function polars has but the guard does not list (hashes can fingerprint a child).
    let e = error("referrals_police.yaml", &with_where("md5(child) = 'x'"));
    assert!(e.message.contains("function `md5` is not allowed"), "{e}");
    let e = error("referrals_police.yaml", &with_where("no_such_fn(child)"));
    assert!(
        e.message.contains("function `no_such_fn` is not allowed"),
        "{e}"
    );
}

/// A FIFO named in a subquery: polars would open it and wait for a writer for ever. The guard
/// rejects the text first, so the FIFO is never opened: a writer thread waiting on it is still
/// waiting after the load (then the test opens it to let the thread finish).
#[test]
fn a_fifo_in_a_definition_is_never_opened() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let opened = Arc::new(AtomicBool::new(false));
    let writer = {
        let (fifo, opened) = (fifo.clone(), opened.clone());
        std::thread::spawn(move || {
            use std::io::Write;
            // Blocks until something opens the FIFO for reading.
            let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            opened.store(true, Ordering::SeqCst);
            let _ = f.write_all(b"x\nSECRET-FROM-THE-FIFO\n");
        })
    };
    let e = error(
        "referrals_police.yaml",
        &with_where(&format!(
            "child IN (SELECT x FROM read_csv('{}'))",
            fifo.display()
        )),
    );
    assert!(e.message.contains("subqueries are not allowed"), "{e}");
    assert!(!e.to_string().contains("SECRET"), "{e}");
    assert!(
        !opened.load(Ordering::SeqCst),
        "the loader opened the FIFO named in the definition"
    );
    // Release the writer: open the FIFO for reading ourselves.
    let mut text = String::new();
    use std::io::Read;
    std::fs::File::open(&fifo)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    writer.join().unwrap();
    assert!(text.contains("SECRET"), "the writer was waiting: {text}");
}

#[test]
fn a_fifo_named_like_a_definition_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("zz_pipe.yaml"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let e = Catalogue::with_local(dir.path()).unwrap_err();
    assert!(e.file.ends_with("zz_pipe.yaml"), "{e}");
    assert!(e.message.contains("not a regular file"), "{e}");
}

#[test]
fn every_shipped_sql_text_passes_the_guard() {
    use cspi::domain::sql::{Policy, check_expression};
    let c = Catalogue::embedded().unwrap();
    let policy = Policy {
        tables: &[],
        windows: false,
    };
    let mut checked = 0;
    for d in &c.definitions {
        let texts = d
            .where_
            .iter()
            .chain(d.per_child.values())
            .chain(&d.cohort)
            .chain(&d.numerator)
            .chain(&d.value)
            .chain(d.measures.iter().map(|m| &m.value));
        for t in texts {
            check_expression(t, &policy).unwrap_or_else(|e| panic!("{}: {t}: {e}", d.id));
            checked += 1;
        }
    }
    assert!(checked > 54, "{checked}");
}
