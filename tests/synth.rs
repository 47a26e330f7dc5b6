//! The synthetic generator: deterministic, valid by cspi's own rules, the same children in
//! CSV and XML, overlapping returns like real ones, and calibrated to published figures.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::rows;
use cspi::ingest::canonical::CanonicalTable;
use cspi::ingest::ingest;
use cspi::ingest::returns::Hints;
use cspi::ingest::store::Store;
use cspi::synth::{self, Recipe, Ssda903Format};

fn recipe(las: &[&str], first: i32, last: i32, format: Ssda903Format) -> Recipe {
    Recipe {
        seed: 7,
        las: las.iter().map(|s| s.to_string()).collect(),
        first_year: first,
        last_year: last,
        format,
        as_at: None,
    }
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn same_seed_same_bytes_whatever_else_is_generated() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    synth::generate(
        &recipe(&["873"], 2024, 2025, Ssda903Format::Csv),
        a.path(),
        &|_| {},
    )
    .unwrap();
    // The LA's files do not depend on which other LAs are generated alongside it.
    synth::generate(
        &recipe(&["873", "871"], 2024, 2025, Ssda903Format::Csv),
        b.path(),
        &|_| {},
    )
    .unwrap();
    let fa = files(a.path());
    let fb = files(b.path());
    let la_files: Vec<&String> = fa.keys().filter(|k| k.starts_with("873")).collect();
    assert_eq!(la_files.len(), 2 * 12);
    for k in la_files {
        assert!(fa[k] == fb[k], "{k} differs");
    }
}

#[test]
fn synthetic_returns_pass_validation_and_overlap_like_real_ones() {
    let out = tempfile::tempdir().unwrap();
    synth::generate(
        &recipe(&["873"], 2023, 2025, Ssda903Format::Csv),
        out.path(),
        &|_| {},
    )
    .unwrap();
    let store = Store::new(out.path().join("store"));
    let outcome = ingest(&[out.path().to_path_buf()], &store, &Hints::default()).unwrap();
    let problems: Vec<String> = outcome
        .report
        .issues
        .iter()
        // cspi's own checks (rows rejected, values left empty); DfE's rule findings are not part
        // of this test.
        .filter(|i| {
            matches!(
                i.severity,
                cspi::ingest::report::Severity::Error | cspi::ingest::report::Severity::Warning
            )
        })
        .map(|i| i.to_string())
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(outcome.returns.len(), 6);
    assert_eq!(
        outcome.history_report.issues.len(),
        0,
        "consecutive returns must agree on every record they share"
    );
    // Episodes open on 31 March 2024 appear in both the 2024 and the 2025 return; the history
    // holds them once, from the 2025 return.
    let e24 =
        cspi::domain::io::read_parquet(&out.path().join("store/returns/873/2024/episodes.parquet"))
            .unwrap();
    let e25 =
        cspi::domain::io::read_parquet(&out.path().join("store/returns/873/2025/episodes.parquet"))
            .unwrap();
    let open24: Vec<String> = rows(
        &e24.filter(&e24.column("dec").unwrap().is_null()).unwrap(),
        &["child", "decom"],
    );
    let in25: std::collections::HashSet<String> =
        rows(&e25, &["child", "decom"]).into_iter().collect();
    assert!(open24.len() > 100);
    assert!(
        open24.iter().all(|k| in25.contains(k)),
        "every episode open at 31/03/2024 is repeated in 2025"
    );
    let history = store.history(CanonicalTable::Episodes, "873").unwrap();
    let keys = rows(&history, &["child", "decom"]);
    let unique: std::collections::HashSet<&String> = keys.iter().collect();
    assert_eq!(keys.len(), unique.len());
}

/// Every DfE error in the generated returns, one line per rule (none are expected).
fn dfe_errors(out: &Path, hints: &Hints) -> Vec<String> {
    let store = Store::new(out.join("store"));
    let outcome = ingest(&[out.to_path_buf()], &store, hints).unwrap();
    let mut by_rule: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for i in &outcome.report.issues {
        if i.severity == cspi::ingest::report::Severity::DfeError {
            by_rule.entry(i.rule).or_default().push(i.to_string());
        }
    }
    by_rule
        .iter()
        .map(|(rule, found)| format!("{rule}: {} rows, e.g. {}", found.len(), found[0]))
        .collect()
}

#[test]
fn generated_returns_pass_dfe_rules_in_every_year_and_layout() {
    // A county and a London borough through every collection year the rules cover (each
    // return checked against the year before it), CSV.
    let out = tempfile::tempdir().unwrap();
    synth::generate(
        &recipe(&["873", "202"], 2022, 2026, Ssda903Format::Csv),
        out.path(),
        &|_| {},
    )
    .unwrap();
    let errors = dfe_errors(out.path(), &Hints::default());
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // A metropolitan district as XML, social worker episodes included from 2023/24.
    let out = tempfile::tempdir().unwrap();
    let xml = recipe(&["340"], 2021, 2026, Ssda903Format::Xml);
    synth::generate(&xml, out.path(), &|_| {}).unwrap();
    let errors = dfe_errors(out.path(), &Hints::default());
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn in_year_extracts_pass_dfe_rules_judged_at_their_date() {
    // A county's monthly extracts to 31 October and to 31 January, each after a whole year:
    // the rules judge the extract's year to its date (`--as-at`).
    for (format, date) in [
        (Ssda903Format::Csv, (2024, 10, 31)),
        (Ssda903Format::Xml, (2025, 1, 31)),
    ] {
        let as_at = chrono::NaiveDate::from_ymd_opt(date.0, date.1, date.2).unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut r = recipe(&["873"], 2024, 2025, format);
        r.as_at = Some(as_at);
        synth::generate(&r, out.path(), &|_| {}).unwrap();
        let hints = Hints {
            as_at: Some(as_at),
            ..Hints::default()
        };
        let errors = dfe_errors(out.path(), &hints);
        assert!(
            errors.is_empty(),
            "extract to {as_at}: {}",
            errors.join("\n")
        );
    }
}

#[test]
fn ssda903_xml_and_csv_hold_the_same_children() {
    let csv = tempfile::tempdir().unwrap();
    let xml = tempfile::tempdir().unwrap();
    synth::generate(
        &recipe(&["873"], 2025, 2025, Ssda903Format::Csv),
        csv.path(),
        &|_| {},
    )
    .unwrap();
    synth::generate(
        &recipe(&["873"], 2025, 2025, Ssda903Format::Xml),
        xml.path(),
        &|_| {},
    )
    .unwrap();
    let s_csv = Store::new(csv.path().join("store"));
    let s_xml = Store::new(xml.path().join("store"));
    let o_csv = ingest(&[csv.path().join("873")], &s_csv, &Hints::default()).unwrap();
    let o_xml = ingest(&[xml.path().join("873")], &s_xml, &Hints::default()).unwrap();
    assert_eq!(
        o_xml.report.errors() + o_xml.report.warnings(),
        0,
        "{:?}",
        o_xml.report.issues.first()
    );
    // Every child's header states a UASC status (DfE's XML has the element for all children),
    // and the UASC table is the same either way (a row only for UASC children).
    let header = s_xml.history(CanonicalTable::Header, "873").unwrap();
    let uasc = header.column("uasc").unwrap().str().unwrap();
    assert_eq!(uasc.null_count(), 0, "a child's <HEADER> lacks <UASC>");
    assert!(uasc.iter().any(|v| v == Some("0")));
    for (table, columns) in [
        (
            CanonicalTable::Header,
            vec!["child", "sex", "dob", "ethnic", "upn", "mother", "mc_dob"],
        ),
        (
            CanonicalTable::Episodes,
            vec![
                "child",
                "decom",
                "rne",
                "ls",
                "cin",
                "place",
                "place_provider",
                "dec",
                "rec",
                "reason_place_change",
                "home_post",
                "pl_post",
                "urn",
            ],
        ),
        (
            CanonicalTable::Reviews,
            vec!["child", "review", "review_code"],
        ),
        (
            CanonicalTable::Missing,
            vec!["child", "missing", "mis_start", "mis_end"],
        ),
        (
            CanonicalTable::Oc2,
            vec!["child", "sdq_score", "health_check", "teeth_check"],
        ),
        (
            CanonicalTable::Oc3,
            vec!["child", "in_touch", "activ", "accom"],
        ),
        (
            CanonicalTable::Ad1,
            vec!["child", "date_int", "date_match", "foster_care"],
        ),
        (CanonicalTable::Uasc, vec!["child", "duc"]),
        (
            CanonicalTable::PlacedAdoption,
            vec![
                "child",
                "date_placed",
                "date_placed_ceased",
                "reason_placed_ceased",
            ],
        ),
        (
            CanonicalTable::PrevPerm,
            vec!["child", "prev_perm", "la_perm", "date_perm"],
        ),
    ] {
        let a = s_csv.history(table, "873").unwrap();
        let b = s_xml.history(table, "873").unwrap();
        assert!(a.height() > 0, "{table} is empty");
        assert_eq!(rows(&a, &columns), rows(&b, &columns), "{table}");
    }
    assert_eq!(
        o_csv.report.counts["episodes"].kept,
        o_xml.report.counts["episodes"].kept
    );
}

#[test]
fn an_in_year_extract_stops_at_its_date() {
    let out = tempfile::tempdir().unwrap();
    let mut r = recipe(&["873"], 2026, 2026, Ssda903Format::Csv);
    r.as_at = Some(chrono::NaiveDate::from_ymd_opt(2025, 10, 31).unwrap());
    synth::generate(&r, out.path(), &|_| {}).unwrap();
    let store = Store::new(out.path().join("store"));
    let outcome = ingest(&[out.path().join("873")], &store, &Hints::default()).unwrap();
    assert_eq!(outcome.report.errors(), 0);
    let episodes = store.history(CanonicalTable::Episodes, "873").unwrap();
    let latest = episodes
        .column("decom")
        .unwrap()
        .date()
        .unwrap()
        .physical()
        .iter()
        .flatten()
        .max()
        .unwrap();
    assert!(
        latest
            <= cspi::domain::dates::to_epoch_days(
                chrono::NaiveDate::from_ymd_opt(2025, 10, 31).unwrap()
            )
    );
    let referrals = store.history(CanonicalTable::CinEpisode, "873").unwrap();
    let latest = referrals
        .column("referral_date")
        .unwrap()
        .date()
        .unwrap()
        .physical()
        .iter()
        .flatten()
        .max()
        .unwrap();
    assert!(
        latest
            > cspi::domain::dates::to_epoch_days(
                chrono::NaiveDate::from_ymd_opt(2025, 10, 1).unwrap()
            )
    );
}

#[test]
fn the_default_recipe_is_lincolnshire_and_its_ten_neighbours() {
    let r = Recipe::embedded_default();
    assert_eq!(r.las.len(), 11);
    assert_eq!(r.las[0], "925");
    assert_eq!((r.first_year, r.last_year), (2021, 2025));
}
