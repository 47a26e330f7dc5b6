//! Ingest from tiny hand-written returns: exact table contents, the multi-year history, and
//! a corpus of broken files whose every defect must be reported where it is.

mod common;

use common::{fixture, rows};
use cspi::domain::la::LaCode;
use cspi::ingest::canonical::CanonicalTable;
use cspi::ingest::report::{Issue, Severity};
use cspi::ingest::returns::Hints;
use cspi::ingest::store::Store;
use cspi::ingest::{IngestOutcome, ingest};

fn run(fixture_dir: &str) -> (tempfile::TempDir, Store, IngestOutcome) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("store"));
    let outcome = ingest(&[fixture(fixture_dir)], &store, &Hints::default()).unwrap();
    (dir, store, outcome)
}

#[test]
fn tiny_903_history_keeps_the_latest_version_of_each_record() {
    let (_dir, store, outcome) = run("tiny");
    assert_eq!(outcome.report.errors(), 0, "{:#?}", outcome.report.issues);
    let episodes = store.history(CanonicalTable::Episodes, "925").unwrap();
    assert_eq!(
        rows(
            &episodes,
            &[
                "child",
                "decom",
                "rne",
                "ls",
                "place",
                "dec",
                "rec",
                "source_year"
            ]
        ),
        vec![
            // A1's first episode is only in the 2024 return; its second, open in 2024, closed in 2025.
            "A1|2023-05-01|S|C2|U6|2023-09-01|X1|2024",
            "A1|2023-09-01|P|C2|U4|2025-01-15|E4A|2025",
            // A2 left care in 2023/24: only the 2024 return has it.
            "A2|2023-11-10|S|V2|U3|2024-02-20|E4A|2024",
            // A3's DECOM was corrected to 03/01/2024 in 2025; the open 01/01/2024 version is superseded.
            "A3|2024-01-03|S|V2|K2|||2025",
            "A4|2024-05-05|S|C1|U6|||2025",
        ]
    );
    let header = store.history(CanonicalTable::Header, "925").unwrap();
    // SEX 1/2 (to 2023/24) and M/F (from 2024/25) read the same after ingest.
    assert_eq!(
        rows(&header, &["child", "sex", "dob", "ethnic", "source_year"]),
        vec![
            "A1|M|2012-06-15|WBRI|2025",
            "A2|F|2020-01-01|MWBC|2024",
            "A3|M|2008-10-10|WBRI|2025",
            "A4|F|2015-03-20|WOTH|2025"
        ]
    );
    let notes: Vec<&Issue> = outcome
        .history_report
        .issues
        .iter()
        .filter(|i| i.rule == "superseded_open_record")
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].child.as_deref(), Some("A3"));
    assert_eq!(notes[0].file.as_ref(), "925/2024/ssda903/episodes.csv");
    assert_eq!(notes[0].location, "line 5");
}

#[test]
fn tiny_cin_history_merges_years_and_plan_reviews() {
    let (_dir, store, outcome) = run("tiny");
    let episodes = store.history(CanonicalTable::CinEpisode, "925").unwrap();
    assert_eq!(
        rows(
            &episodes,
            &[
                "child",
                "referral_date",
                "closure_date",
                "reason_for_closure",
                "referral_nfa",
                "source_year"
            ]
        ),
        vec![
            "C1|2023-06-01|2024-08-01|RC7|false|2025",
            "C2|2023-09-01|2023-09-05|RC8|true|2024",
            "C3|2024-10-01|||false|2025"
        ]
    );
    let children = store.history(CanonicalTable::CinChild, "925").unwrap();
    assert_eq!(
        rows(
            &children,
            &[
                "child",
                "upn",
                "upn_unknown",
                "birth_date",
                "expected_birth_date",
                "sex"
            ]
        ),
        vec![
            "C1||UN6|2021-05-05||F",
            "C2|N925123400001||2012-02-29||M",
            "C3||||2025-06-01|U"
        ]
    );
    let disabilities = store.history(CanonicalTable::CinDisability, "925").unwrap();
    assert_eq!(
        rows(&disabilities, &["child", "disability"]),
        vec!["C1|NONE", "C2|AUT", "C2|LD", "C3|NONE"]
    );
    let assessments = store.history(CanonicalTable::CinAssessment, "925").unwrap();
    assert_eq!(
        rows(
            &assessments,
            &[
                "child",
                "referral_date",
                "assessment_start",
                "authorisation_date",
                "factors",
                "source_year"
            ]
        ),
        vec![
            "C1|2023-06-01|2023-06-02|2023-07-10|3A,4B|2024",
            "C3|2024-10-01|2024-10-02|||2025"
        ]
    );
    let s47 = store.history(CanonicalTable::CinS47, "925").unwrap();
    assert_eq!(
        rows(
            &s47,
            &[
                "child",
                "s47_start",
                "icpc_target",
                "icpc_date",
                "icpc_not_required"
            ]
        ),
        vec!["C1|2023-06-29|2023-07-20|2023-07-20|false"]
    );
    let plans = store.history(CanonicalTable::CinCpp, "925").unwrap();
    assert_eq!(
        rows(
            &plans,
            &[
                "child",
                "cpp_start",
                "cpp_end",
                "initial_category",
                "latest_category",
                "previous_cpp_count",
                "source_year"
            ]
        ),
        vec!["C1|2023-07-20|2024-06-30|NEG|EMO|0|2025"]
    );
    let reviews = store.history(CanonicalTable::CinCppReview, "925").unwrap();
    assert_eq!(
        rows(
            &reviews,
            &["child", "cpp_start", "review_date", "source_year"]
        ),
        vec![
            "C1|2023-07-20|2023-10-10|2025",
            "C1|2023-07-20|2024-04-01|2025"
        ]
    );
    // UN8 is not a CIN census UPNunknown code (UN1-UN7): reported and left empty.
    assert!(outcome.report.issues.iter().any(|i| i.rule == "code"
        && i.field == "UPNunknown"
        && i.value.as_deref() == Some("UN8")
        && i.child.as_deref() == Some("C3")));
    // An element the 2026/27 group does not declare is noted, not an error.
    let unread: Vec<&Issue> = outcome
        .report
        .issues
        .iter()
        .filter(|i| i.rule == "unread_element")
        .collect();
    assert_eq!(unread.len(), 1);
    assert_eq!(unread[0].severity, Severity::Note);
    assert_eq!(
        unread[0].location,
        "Message/Children/Child/CINdetails/PreProceedingsandFGDM/FGDMdate"
    );
}

#[test]
fn re_ingesting_the_same_files_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("store"));
    let la = LaCode::parse("925").unwrap();
    ingest(&[fixture("tiny")], &store, &Hints::default()).unwrap();
    let first = std::fs::read(store.history_path(CanonicalTable::Episodes, &la)).unwrap();
    let first_cin = std::fs::read(store.history_path(CanonicalTable::CinCppReview, &la)).unwrap();
    ingest(&[fixture("tiny")], &store, &Hints::default()).unwrap();
    assert_eq!(
        first,
        std::fs::read(store.history_path(CanonicalTable::Episodes, &la)).unwrap()
    );
    assert_eq!(
        first_cin,
        std::fs::read(store.history_path(CanonicalTable::CinCppReview, &la)).unwrap()
    );
}

/// The issue at a place: cspi's own finding there if there is one, else a DfE rule's.
fn find<'a>(issues: &'a [Issue], file: &str, location: &str, field: &str) -> &'a Issue {
    let here = |i: &&Issue| i.file.as_ref() == file && i.location == location && i.field == field;
    let dfe = |i: &&Issue| matches!(i.severity, Severity::DfeError | Severity::DfeQuery);
    issues
        .iter()
        .filter(here)
        .find(|i| !dfe(i))
        .or_else(|| issues.iter().find(here))
        .unwrap_or_else(|| {
            panic!(
                "no issue at {file} {location} {field}; issues:\n{}",
                issues
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
}

#[test]
fn every_defect_in_the_broken_corpus_is_reported_where_it_is() {
    let (_dir, store, outcome) = run("broken");
    let issues = &outcome.report.issues;
    let header = "925/2025/ssda903/Header Extract.csv";
    let ep = "925/2025/ssda903/ep.csv";
    let cin = "925/2025/cin_census.xml";

    let dup = issues
        .iter()
        .find(|i| {
            i.file.as_ref() == header && i.location == "line 5" && i.rule == "duplicate_record"
        })
        .expect("the repeated child is reported");
    assert_eq!(
        (dup.field.as_str(), dup.severity, dup.child.as_deref()),
        ("CHILD", Severity::Error, Some("B2"))
    );
    // A missing DOB no longer costs the child their header row: DfE's rule 102 flags it and the
    // row is kept for the LA to correct.
    let no_dob = find(issues, header, "line 6", "DOB");
    assert_eq!(
        (no_dob.rule, no_dob.severity, no_dob.child.as_deref()),
        ("102", Severity::DfeError, Some("B3"))
    );
    let ethnic: Vec<(&str, Option<&str>)> = issues
        .iter()
        .filter(|i| i.file.as_ref() == header && i.location == "line 7" && i.field == "ETHNIC")
        .map(|i| (i.rule, i.value.as_deref()))
        .collect();
    // The reader says what it did with the value; DfE's rule 103 says what the LA must fix.
    assert_eq!(
        ethnic,
        [
            ("103", Some("ETHNIC=XXXX (not valid)")),
            ("code", Some("XXXX"))
        ]
    );

    assert_eq!(find(issues, ep, "line 2", "DEC").rule, "end_before_start");
    let overlap = find(issues, ep, "line 4", "DECOM");
    assert_eq!(
        (overlap.rule, overlap.severity, overlap.child.as_deref()),
        ("overlapping_episodes", Severity::Error, Some("B2"))
    );
    let gap = find(issues, ep, "line 6", "DECOM");
    assert_eq!(
        (gap.rule, gap.severity),
        ("non_contiguous_episodes", Severity::Warning)
    );
    let orphan = find(issues, ep, "line 7", "CHILD");
    assert_eq!(
        (orphan.rule, orphan.child.as_deref()),
        ("child_not_in_header", Some("B9"))
    );
    let place = find(issues, ep, "line 8", "PLACE");
    assert_eq!((place.rule, place.value.as_deref()), ("code", Some("ZZ")));
    let date = find(issues, ep, "line 9", "DECOM");
    assert_eq!(
        (date.rule, date.value.as_deref()),
        ("date", Some("31/02/2025"))
    );
    assert_eq!(find(issues, ep, "line 10", "DEC").rule, "after_year_end");

    let birth = find(
        issues,
        cin,
        "Message/Children/Child[2]/ChildIdentifiers/PersonBirthDate",
        "PersonBirthDate",
    );
    assert_eq!(
        (birth.rule, birth.severity, birth.child.as_deref()),
        ("date", Severity::Warning, Some("D2"))
    );
    let gender = find(
        issues,
        cin,
        "Message/Children/Child[2]/ChildIdentifiers/GenderCurrent",
        "GenderCurrent",
    );
    assert_eq!(gender.rule, "code_year");
    assert_eq!(
        find(
            issues,
            cin,
            "Message/Children/Child[2]/CINdetails[2]/ReferralNFA",
            "ReferralNFA"
        )
        .rule,
        "bool"
    );
    let closed_early = find(issues, cin, "Message/Children/Child[2]", "CINclosureDate");
    assert_eq!(
        (closed_early.rule, closed_early.severity),
        ("end_before_start", Severity::Error)
    );
    let truncated = issues
        .iter()
        .find(|i| i.rule == "truncated_xml")
        .expect("truncation reported");
    assert_eq!(truncated.location, "Message/Children/Child[3]/CINdetails");
    assert_eq!(truncated.child.as_deref(), Some("D3"));

    // The good rows survive, and so do rows whose only fault is a value DfE's rules flag (B3
    // without a DOB, B4 with an unreadable ETHNIC): only the duplicate B2 is rejected.
    let header_rows = store.history(CanonicalTable::Header, "925").unwrap();
    assert_eq!(
        rows(&header_rows, &["child", "sex", "dob", "ethnic"]),
        vec![
            "B1|M|2010-02-01|WBRI",
            "B2|F|2016-05-05|WBRI",
            "B3|F||WBRI",
            "B4|M|2011-11-11|"
        ]
    );
    let episodes = store.history(CanonicalTable::Episodes, "925").unwrap();
    assert_eq!(
        rows(&episodes, &["child", "decom", "dec"]),
        vec![
            "B2|2024-05-01|2024-07-01",
            "B4|2024-05-01|2024-07-01",
            "B4|2024-07-05|",
            "B9|2024-05-01|"
        ]
    );
    let cin_children = store.history(CanonicalTable::CinChild, "925").unwrap();
    assert_eq!(
        rows(&cin_children, &["child", "birth_date", "sex"]),
        vec!["D1|2015-01-01|M", "D2||"]
    );
    let cin_episodes = store.history(CanonicalTable::CinEpisode, "925").unwrap();
    assert_eq!(
        rows(&cin_episodes, &["child", "referral_date", "referral_nfa"]),
        vec!["D1|2024-05-01|false", "D2|2024-07-01|"]
    );

    // The counts say how many rows were rejected.
    assert_eq!(outcome.report.counts["header"].read, 5);
    assert_eq!(outcome.report.counts["header"].rejected, 1);
    assert_eq!(outcome.report.counts["episodes"].read, 9);
    assert_eq!(outcome.report.counts["episodes"].kept, 4);
    assert_eq!(outcome.report.counts["episodes"].rejected, 5);

    // The report is on disk as CSV and Parquet.
    let csv = std::fs::read_to_string(outcome.report_stem.with_extension("csv")).unwrap();
    assert!(csv.starts_with("file,location,table,child_id,field,value,rule,severity,message"));
    assert!(csv.contains("overlapping_episodes"));
    assert!(outcome.report_stem.with_extension("parquet").exists());
}
