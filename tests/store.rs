//! The history store under attack and under faults: LA codes and years from files never escape
//! the store, re-ingesting part of a return keeps what it did not replace, an ingest is one
//! atomic step (a crash or a failure leaves the previous figures, two ingests at once both
//! land), errors name the file, and the command line's exit codes say whether every input was
//! read. Every case is built from the `tiny` fixture (tests/fixtures/README.md): 903 and CIN
//! returns for 2023/24 and 2024/25 of LA 925.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{fixture, rows};
use cspi::domain::la::LaCode;
use cspi::ingest::canonical::CanonicalTable;
use cspi::ingest::report::{Issue, Severity};
use cspi::ingest::returns::{self, Hints};
use cspi::ingest::store::{Store, StoreError};
use cspi::ingest::{IngestError, IngestOutcome, ingest};

fn la() -> LaCode {
    LaCode::parse("925").unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file under a folder, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = vec![];
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn run(inputs: &[PathBuf], store: &Store) -> IngestOutcome {
    ingest(inputs, store, &Hints::default()).unwrap()
}

/// The tiny fixture's 2023/24 or 2024/25 returns (903 and CIN).
fn tiny(year: i32) -> PathBuf {
    fixture(&format!("tiny/925/{year}"))
}

fn episodes(store: &Store) -> Vec<String> {
    rows(
        &store.history(CanonicalTable::Episodes, "925").unwrap(),
        &["child", "decom", "dec", "source_year"],
    )
}

fn cin_episodes(store: &Store) -> Vec<String> {
    rows(
        &store.history(CanonicalTable::CinEpisode, "925").unwrap(),
        &["child", "referral_date", "source_year"],
    )
}

/// The episodes history of both tiny years (as tests/ingest.rs pins it).
const BOTH_YEARS: [&str; 5] = [
    "A1|2023-05-01|2023-09-01|2024",
    "A1|2023-09-01|2025-01-15|2025",
    "A2|2023-11-10|2024-02-20|2024",
    "A3|2024-01-03||2025",
    "A4|2024-05-05||2025",
];

fn issues<'a>(outcome: &'a IngestOutcome, rule: &str) -> Vec<&'a Issue> {
    outcome
        .report
        .issues
        .iter()
        .filter(|i| i.rule == rule)
        .collect()
}

/// The tiny 2024/25 CIN census with one substitution, written where asked.
fn cin_2025_with(at: &Path, from: &str, to: &str) -> PathBuf {
    let text = fs::read_to_string(tiny(2025).join("cin_census.xml")).unwrap();
    assert!(text.contains(from));
    fs::create_dir_all(at.parent().unwrap()).unwrap();
    fs::write(at, text.replace(from, to)).unwrap();
    at.to_path_buf()
}

// 1. Paths built from file contents.

#[test]
fn an_lea_that_is_not_an_la_code_is_refused_and_nothing_lands_outside_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("a/b/store"));
    let absolute = dir.path().join("abs");
    for (name, lea) in [
        ("up.xml", "../../../x".to_string()),
        ("abs.xml", absolute.display().to_string()),
        ("unknown.xml", "999".to_string()),
    ] {
        cin_2025_with(
            &dir.path().join("in").join(name),
            "<LEA>925</LEA>",
            &format!("<LEA>{lea}</LEA>"),
        );
    }
    let outcome = run(&[dir.path().join("in")], &store);
    let refused = issues(&outcome, "la_code");
    assert_eq!(refused.len(), 3, "{refused:#?}");
    for issue in &refused {
        assert_eq!(issue.severity, Severity::Error);
        assert_eq!(issue.field, "LEA");
        assert!(issue.location.is_empty(), "a file-level problem");
        assert!(issue.message.contains("the file was not saved"), "{issue}");
    }
    assert_eq!(
        refused
            .iter()
            .map(|i| i.file.to_string())
            .collect::<Vec<_>>(),
        ["abs.xml", "unknown.xml", "up.xml"]
    );
    assert!(
        refused[2]
            .message
            .contains("\"../../../x\" is not an LA code")
    );
    assert!(outcome.returns.is_empty());
    assert_eq!(outcome.files_not_read, ["abs.xml", "unknown.xml", "up.xml"]);
    assert!(store.las().is_empty());
    // Nothing was written anywhere but the inputs' folder and the store's own files.
    let outside: Vec<String> = files_under(dir.path())
        .into_iter()
        .filter(|f| !f.starts_with("in/"))
        .filter(|f| !f.starts_with("a/b/store/"))
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
    let stored: Vec<String> = files_under(&store.root)
        .into_iter()
        .filter(|f| f.ends_with(".parquet") && !f.starts_with("validation/"))
        .collect();
    assert!(stored.is_empty(), "{stored:?}");
}

#[test]
fn a_folder_that_names_no_la_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("999/2025/ssda903");
    fs::create_dir_all(&input).unwrap();
    fs::copy(
        tiny(2025).join("ssda903/header.csv"),
        input.join("header.csv"),
    )
    .unwrap();
    let store = Store::new(dir.path().join("store"));
    let outcome = run(&[dir.path().join("999")], &store);
    let refused = issues(&outcome, "la_code");
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].severity, Severity::Error);
    assert!(
        refused[0]
            .message
            .starts_with("the LA given by the folder 999/ the file is in is not valid"),
        "{}",
        refused[0]
    );
    assert!(outcome.returns.is_empty());
    assert!(store.returns_held().is_empty());
}

#[test]
fn a_year_outside_the_plausible_range_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = cin_2025_with(
        &dir.path().join("in/cin.xml"),
        "<Year>2025</Year>",
        "<Year>99999</Year>",
    );
    let store = Store::new(dir.path().join("store"));
    let outcome = run(&[file], &store);
    let refused = issues(&outcome, "collection_year");
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert_eq!(refused[0].severity, Severity::Error);
    // The reader says why the header's year was not taken, then that no year is left.
    assert!(
        outcome.report.issues.iter().any(|i| i
            .message
            .starts_with("'99999' is not a collection year (2000–2100)")),
        "{:#?}",
        outcome.report.issues
    );
    assert!(store.returns_held().is_empty());
}

#[test]
fn an_lea_that_differs_from_the_folder_or_la_flag_is_a_warning_not_an_override() {
    let dir = tempfile::tempdir().unwrap();
    // 926 is Norfolk: a real LA, but not the one the folder says.
    let in_folder = cin_2025_with(
        &dir.path().join("folder/925/2025/cin_census.xml"),
        "<LEA>925</LEA>",
        "<LEA>926</LEA>",
    );
    let loose = cin_2025_with(
        &dir.path().join("loose/cin_census.xml"),
        "<LEA>925</LEA>",
        "<LEA>926</LEA>",
    );
    let store = Store::new(dir.path().join("store"));
    let outcome = run(&[in_folder], &store);
    let warned = issues(&outcome, "la_code");
    assert_eq!(warned.len(), 1);
    assert_eq!(
        (warned[0].severity, warned[0].field.as_str()),
        (Severity::Warning, "LEA")
    );
    assert_eq!(warned[0].value.as_deref(), Some("926"));
    assert_eq!(
        warned[0].message,
        "the file's LEA is \"926\" but the return is being read as LA 925 (from the folder 925/); check which LA the file belongs to"
    );
    assert_eq!(store.las(), ["925"]);

    let other = Store::new(dir.path().join("store2"));
    let hints = Hints {
        la_code: Some(la()),
        ..Hints::default()
    };
    let outcome = ingest(&[loose], &other, &hints).unwrap();
    let warned = issues(&outcome, "la_code");
    assert_eq!(warned.len(), 1);
    assert!(
        warned[0]
            .message
            .ends_with("read as LA 925 (from --la); check which LA the file belongs to")
    );
    assert_eq!(other.las(), ["925"]);
}

// 2. Re-ingesting part of a return.

#[test]
fn re_ingesting_only_the_header_keeps_the_years_episodes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("store"));
    run(&[fixture("tiny")], &store);
    assert_eq!(episodes(&store), BOTH_YEARS);
    // A corrected header for 2024/25 alone: A4's ethnicity WOTH → WIRI.
    let header = dir.path().join("fix/925/2025/ssda903/header.csv");
    fs::create_dir_all(header.parent().unwrap()).unwrap();
    let text = fs::read_to_string(tiny(2025).join("ssda903/header.csv")).unwrap();
    fs::write(
        &header,
        text.replace("A4,F,20/03/2015,WOTH", "A4,F,20/03/2015,WIRI"),
    )
    .unwrap();
    let outcome = run(&[header], &store);
    assert_eq!(episodes(&store), BOTH_YEARS);
    assert_eq!(
        rows(
            &store.history(CanonicalTable::Header, "925").unwrap(),
            &["child", "ethnic", "source_year"]
        ),
        [
            "A1|WBRI|2025",
            "A2|MWBC|2024",
            "A3|WBRI|2025",
            "A4|WIRI|2025"
        ]
    );
    let replaced = issues(&outcome, "tables_replaced");
    assert_eq!(replaced.len(), 1);
    assert_eq!(
        (replaced[0].severity, replaced[0].file.as_ref()),
        (Severity::Note, "returns/925/2025")
    );
    assert_eq!(
        replaced[0].message,
        "the SSDA903 2024/25 return of LA 925: this ingest replaced header"
    );
    let kept = issues(&outcome, "tables_kept");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].severity, Severity::Warning);
    assert_eq!(
        kept[0].message,
        "the SSDA903 2024/25 return of LA 925: not in this ingest, so kept from an earlier ingest: episodes (3 rows); ingest the whole return to replace them"
    );
    assert!(outcome.files_not_read.is_empty());
}

#[test]
fn a_re_ingested_table_is_checked_against_the_tables_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("store"));
    run(&[fixture("tiny")], &store);
    // The 2024/25 episodes again, plus one for A9, whom the held 2024/25 header does not have.
    let file = dir.path().join("fix/925/2025/ssda903/episodes.csv");
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    let text = fs::read_to_string(tiny(2025).join("ssda903/episodes.csv")).unwrap();
    fs::write(
        &file,
        format!("{text}A9,01/06/2024,S,C2,N1,U4,PR4,,,,LN1 3AB,PE21 9XY,\n"),
    )
    .unwrap();
    let outcome = run(&[file], &store);
    let orphans: Vec<Option<&str>> = issues(&outcome, "child_not_in_header")
        .iter()
        .map(|i| i.child.as_deref())
        .collect();
    assert_eq!(orphans, [Some("A9")]);
    // Only the file's rows are counted as read; the header came from the store.
    assert_eq!(outcome.report.counts["episodes"].read, 4);
    assert!(!outcome.report.counts.contains_key("header"));
    assert_eq!(
        rows(
            &store.history(CanonicalTable::Header, "925").unwrap(),
            &["child", "source_year"]
        ),
        ["A1|2025", "A2|2024", "A3|2025", "A4|2025"]
    );
}

#[test]
fn an_empty_or_missing_file_replaces_nothing_but_a_header_only_file_empties_its_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("store"));
    run(&[fixture("tiny")], &store);
    let empty = dir.path().join("empty/925/2025/ssda903/episodes.csv");
    fs::create_dir_all(empty.parent().unwrap()).unwrap();
    fs::write(&empty, "").unwrap();
    let missing = dir.path().join("missing/925/2025/ssda903/episodes.csv");
    let outcome = run(&[empty, missing], &store);
    assert_eq!(episodes(&store), BOTH_YEARS);
    assert!(outcome.returns.is_empty());
    assert_eq!(
        outcome.files_not_read.len(),
        2,
        "{:?}",
        outcome.files_not_read
    );
    assert!(issues(&outcome, "tables_replaced").is_empty());

    // A readable file with a header and no rows is a resubmission that empties the table: the
    // 2024/25 episodes go, and the episodes open at the end of 2023/24 (A1's second, A3's),
    // which the 2024/25 return no longer repeats, are superseded by it.
    let none = dir.path().join("none/925/2025/ssda903/episodes.csv");
    fs::create_dir_all(none.parent().unwrap()).unwrap();
    fs::write(
        &none,
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n",
    )
    .unwrap();
    let outcome = run(&[none], &store);
    assert_eq!(
        episodes(&store),
        [
            "A1|2023-05-01|2023-09-01|2024",
            "A2|2023-11-10|2024-02-20|2024"
        ]
    );
    assert_eq!(
        outcome.returns,
        [returns::ReturnKey {
            la_code: la(),
            year: 2025,
            collection: returns::Collection::Ssda903
        }]
    );
    assert_eq!(
        issues(&outcome, "tables_replaced")[0].message,
        "the SSDA903 2024/25 return of LA 925: this ingest replaced episodes"
    );
}

#[test]
fn a_cut_off_census_does_not_replace_the_one_held() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("store"));
    run(&[fixture("tiny")], &store);
    let before = cin_episodes(&store);
    assert_eq!(
        before,
        [
            "C1|2023-06-01|2025",
            "C2|2023-09-01|2024",
            "C3|2024-10-01|2025"
        ]
    );
    // The same census cut off inside its second child (C3): only C1 is complete.
    let text = fs::read_to_string(tiny(2025).join("cin_census.xml")).unwrap();
    let cut = text.find("<LAchildID>C3</LAchildID>").unwrap();
    let file = dir.path().join("cut/925/2025/cin_census.xml");
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(&file, &text[..cut]).unwrap();
    let outcome = run(&[file], &store);
    assert_eq!(issues(&outcome, "truncated_xml").len(), 1);
    assert_eq!(cin_episodes(&store), before);
    let kept = issues(&outcome, "tables_kept");
    assert_eq!(kept.len(), 1);
    assert!(
        kept[0].message.starts_with(
            "the CIN census 2024/25 return of LA 925: the file was cut off part-way, so it did not replace the return already held: cin_assessment (0 rows read, 1 held), cin_child (1 rows read, 2 held)"
        ),
        "{}",
        kept[0].message
    );
    assert_eq!(outcome.files_not_read, ["cin_census.xml"]);
    assert!(outcome.returns.is_empty());
}

// 3. The store under faults.

#[test]
fn an_ingest_that_never_switches_leaves_the_previous_figures() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = Store::new(&root);
    run(&[tiny(2024)], &store);
    let before = episodes(&store);
    assert_eq!(
        before,
        [
            "A1|2023-05-01|2023-09-01|2024",
            "A1|2023-09-01||2024",
            "A2|2023-11-10|2024-02-20|2024",
            "A3|2024-01-01||2024"
        ]
    );
    // A crash part-way: the 2024/25 returns and a rebuilt history are written into the next
    // generation, and the process dies before the switch (the writer is dropped uncommitted).
    {
        let mut writer = store.begin().unwrap();
        let (files, _) = returns::discover(&[tiny(2025)], &Hints::default());
        let (mut read, _) = returns::read_returns(&files, &|p: &Path| p.display().to_string());
        assert_eq!(read.len(), 2);
        for r in &mut read {
            writer.save_return(r).unwrap();
        }
        writer.rebuild_history(&la()).unwrap();
        let written = root.join("generations/2/history/episodes/925.parquet");
        assert!(written.exists());
    }
    assert_eq!(fs::read_to_string(root.join("CURRENT")).unwrap(), "1\n");
    for reader in [&store, &Store::new(&root)] {
        assert_eq!(episodes(reader), before);
        let held: Vec<i32> = reader.returns_held().iter().map(|r| r.year).collect();
        assert_eq!(held, [2024, 2024]);
    }
    // The next ingest clears the debris and lands whole.
    run(&[tiny(2025)], &store);
    assert_eq!(episodes(&Store::new(&root)), BOTH_YEARS);
    assert_eq!(fs::read_to_string(root.join("CURRENT")).unwrap(), "2\n");
}

#[test]
fn a_failed_ingest_names_the_damaged_file_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = Store::new(&root);
    run(&[tiny(2024)], &store);
    let before = episodes(&store);
    // The held 2023/24 episodes are damaged; rebuilding the history with 2024/25 must read them.
    let damaged = root.join("generations/1/returns/925/2024/episodes.parquet");
    fs::write(&damaged, b"not parquet").unwrap();
    let error = ingest(&[tiny(2025)], &store, &Hints::default()).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, IngestError::Store(StoreError::Parquet { ref path, .. }) if *path == damaged),
        "{message}"
    );
    assert!(
        message.contains(&damaged.display().to_string()),
        "{message}"
    );
    assert_eq!(fs::read_to_string(root.join("CURRENT")).unwrap(), "1\n");
    assert!(
        !root.join("generations/2").exists(),
        "the failed generation is removed"
    );
    assert_eq!(episodes(&Store::new(&root)), before);
}

#[test]
fn a_damaged_history_file_is_named_when_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = Store::new(&root);
    run(&[fixture("tiny")], &store);
    let damaged = store.history_path(CanonicalTable::Episodes, &la());
    fs::write(&damaged, b"PAR1 then nothing useful").unwrap();
    let error = Store::new(&root)
        .scan(CanonicalTable::Episodes)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "{}: not a readable Parquet file",
            damaged.display()
        )),
        "{error}"
    );
    let error = store
        .history(CanonicalTable::Episodes, "925")
        .unwrap_err()
        .to_string();
    assert!(error.contains(&damaged.display().to_string()), "{error}");
}

#[test]
fn a_damaged_pointer_is_named_and_not_guessed_around() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    run(&[tiny(2024)], &Store::new(&root));
    let pointer = root.join("CURRENT");
    fs::write(&pointer, "seven\n").unwrap();
    let expected = format!(
        "{}: holds \"seven\" instead of a generation number",
        pointer.display()
    );
    let error = Store::open(&root).unwrap_err().to_string();
    assert!(error.starts_with(&expected), "{error}");
    let error = Store::new(&root)
        .scan(CanonicalTable::Episodes)
        .err()
        .unwrap()
        .to_string();
    assert!(error.starts_with(&expected), "{error}");
    let error = ingest(&[tiny(2025)], &Store::new(&root), &Hints::default())
        .unwrap_err()
        .to_string();
    assert!(error.starts_with(&expected), "{error}");
    // Without the pointer the generations are not debris to clear: the writer refuses.
    fs::remove_file(&pointer).unwrap();
    let error = ingest(&[tiny(2025)], &Store::new(&root), &Hints::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "{}: is missing but {} holds generations",
            pointer.display(),
            root.join("generations").display()
        )),
        "{error}"
    );
    assert!(
        root.join("generations/1/history/episodes/925.parquet")
            .exists()
    );
}

#[test]
fn a_store_that_cannot_be_written_is_named_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    // The lock file cannot be created (its name is taken by a folder).
    let root = dir.path().join("locked");
    fs::create_dir_all(root.join("LOCK")).unwrap();
    let error = ingest(&[tiny(2024)], &Store::new(&root), &Hints::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "cannot open the store's lock file {}",
            root.join("LOCK").display()
        )),
        "{error}"
    );
    // The run's report cannot be written (a file where its folder goes): the new generation
    // is abandoned and readers keep the one before.
    let root = dir.path().join("report");
    let store = Store::new(&root);
    run(&[tiny(2024)], &store);
    fs::remove_dir_all(root.join("validation")).unwrap();
    fs::write(root.join("validation"), b"").unwrap();
    let error = ingest(&[tiny(2025)], &store, &Hints::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "cannot write {}",
            root.join("validation/report.csv").display()
        )),
        "{error}"
    );
    assert_eq!(fs::read_to_string(root.join("CURRENT")).unwrap(), "1\n");
    assert_eq!(
        Store::new(&root)
            .returns_held()
            .iter()
            .map(|r| r.year)
            .collect::<Vec<_>>(),
        [2024, 2024]
    );
}

#[test]
fn two_ingests_at_once_both_land() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    // Two stores opened before either ingest, as two processes would.
    let (a, b) = (Store::new(&root), Store::new(&root));
    std::thread::scope(|s| {
        let first = s.spawn(|| run(&[tiny(2024)], &a));
        let second = s.spawn(|| run(&[tiny(2025)], &b));
        first.join().unwrap();
        second.join().unwrap();
    });
    let store = Store::new(&root);
    assert_eq!(store.generation(), 2);
    let held: Vec<(String, i32)> = store
        .returns_held()
        .into_iter()
        .map(|r| (format!("{} {}", r.la_code, r.collection.name()), r.year))
        .collect();
    assert_eq!(
        held,
        [
            ("925 ssda903".to_string(), 2024),
            ("925 ssda903".to_string(), 2025),
            ("925 cin".to_string(), 2024),
            ("925 cin".to_string(), 2025)
        ]
    );
    assert_eq!(episodes(&store), BOTH_YEARS);
}

#[test]
fn an_ingest_that_waits_for_the_lock_builds_on_what_the_holder_committed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let (holder, waiter) = (Store::new(&root), Store::new(&root));
    // The holder has the lock before the second ingest starts, so that one must wait, and
    // then start from the generation the holder switched to (not from its own stale view).
    let mut writer = holder.begin().unwrap();
    std::thread::scope(|s| {
        let second = s.spawn(|| run(&[tiny(2025)], &waiter));
        let (files, _) = returns::discover(&[tiny(2024)], &Hints::default());
        let (mut read, _) = returns::read_returns(&files, &|p: &Path| p.display().to_string());
        for r in &mut read {
            writer.save_return(r).unwrap();
        }
        writer.rebuild_history(&la()).unwrap();
        writer.commit().unwrap();
        drop(writer);
        second.join().unwrap();
    });
    assert_eq!(fs::read_to_string(root.join("CURRENT")).unwrap(), "2\n");
    assert_eq!(episodes(&Store::new(&root)), BOTH_YEARS);
}

#[test]
fn a_second_writer_waits_for_the_lock_and_says_so_when_it_gives_up() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = Store::new(&root);
    let holding = store.begin().unwrap();
    let impatient = Store::new(&root).with_lock_timeout(Duration::ZERO);
    let error = ingest(&[tiny(2024)], &impatient, &Hints::default()).unwrap_err();
    assert!(
        matches!(error, IngestError::Store(StoreError::Locked { .. })),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains(&format!("({} is locked)", root.join("LOCK").display())),
        "{error}"
    );
    drop(holding);
    run(&[tiny(2024)], &impatient);
    assert_eq!(impatient.generation(), 1);
}

#[test]
fn old_generations_go_but_not_one_a_reader_holds_open() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let writer = Store::new(&root);
    run(&[tiny(2024)], &writer);
    let reader = Store::new(&root);
    assert_eq!(reader.generation(), 1);
    run(&[tiny(2025)], &writer);
    run(&[tiny(2025)], &writer);
    // Generation 1 is older than the previous one (2) but the reader still has it open.
    assert_eq!(files_under_generations(&root), ["1", "2", "3"]);
    assert_eq!(reader.returns_held().len(), 2);
    assert_eq!(episodes(&reader)[1], "A1|2023-09-01||2024");
    drop(reader);
    run(&[tiny(2025)], &writer);
    assert_eq!(files_under_generations(&root), ["3", "4"]);
    assert_eq!(episodes(&Store::new(&root)), BOTH_YEARS);
}

fn files_under_generations(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(root.join("generations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_store_from_before_generations_is_read_and_migrated() {
    let dir = tempfile::tempdir().unwrap();
    // Build the old layout: returns/ and history/ straight under the root, no CURRENT.
    let built = Store::new(dir.path().join("built"));
    run(&[tiny(2024)], &built);
    let root = dir.path().join("old");
    for folder in ["returns", "history"] {
        copy_tree(&built.current_dir().join(folder), &root.join(folder));
    }
    // Something of the user's in the old store's folder, which must survive the migration.
    fs::write(root.join("returns/README.txt"), b"our notes").unwrap();
    let old = Store::new(&root);
    assert_eq!(old.generation(), 0);
    assert_eq!(episodes(&old), episodes(&built));

    run(&[tiny(2025)], &old);
    assert_eq!(old.generation(), 1);
    assert_eq!(episodes(&Store::new(&root)), BOTH_YEARS);
    // Generation 0 is now the previous one: still there.
    assert!(root.join("returns/925/2024/header.parquet").exists());
    run(&[tiny(2025)], &old);
    assert!(!root.join("returns/925").exists());
    assert_eq!(
        fs::read(root.join("returns/README.txt")).unwrap(),
        b"our notes"
    );
    // The emptied history/ became the link to the current generation's (returns/ stays a
    // real folder: it holds the user's file).
    assert_eq!(
        fs::read_link(root.join("history")).unwrap(),
        Path::new("generations/2/history")
    );
    assert_eq!(episodes(&Store::new(&root)), BOTH_YEARS);
}

#[cfg(unix)]
#[test]
fn unchanged_files_are_linked_not_copied() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = Store::new(&root);
    run(&[tiny(2024)], &store);
    run(&[tiny(2025)], &store);
    // The store's familiar paths lead to the current generation, for tools outside cspi.
    assert_eq!(
        fs::read_link(root.join("history")).unwrap(),
        Path::new("generations/2/history")
    );
    assert!(root.join("returns/925/2025/header.parquet").exists());
    let old = root.join("generations/1/returns/925/2024/episodes.parquet");
    let new = root.join("generations/2/returns/925/2024/episodes.parquet");
    assert_eq!(
        fs::metadata(&old).unwrap().ino(),
        fs::metadata(&new).unwrap().ino()
    );
    // A history the second ingest rebuilt is a new file; the previous generation's is intact.
    let h1 = root.join("generations/1/history/episodes/925.parquet");
    let h2 = root.join("generations/2/history/episodes/925.parquet");
    assert_ne!(
        fs::metadata(&h1).unwrap().ino(),
        fs::metadata(&h2).unwrap().ino()
    );
    assert_eq!(
        rows(
            &cspi::domain::io::read_parquet(&h1).unwrap(),
            &["child", "source_year"]
        ),
        ["A1|2024", "A1|2024", "A2|2024", "A3|2024"]
    );
}

// 5. Exit codes of the command line.

fn cspi(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cspi"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ingest_exits_3_when_an_input_cannot_be_read_after_saving_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let missing = dir.path().join("no-such-folder");
    let (code, stdout, stderr) = cspi(&[
        "ingest",
        missing.to_str().unwrap(),
        tiny(2024).to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stdout.contains("2 returns saved"), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "1 input file could not be read (exit status 3): {}",
            missing.display()
        )),
        "{stderr}"
    );
    assert_eq!(Store::new(&store).returns_held().len(), 2);

    let (code, stdout, stderr) = cspi(&[
        "ingest",
        tiny(2025).to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn a_bad_la_or_year_on_the_command_line_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (code, _, stderr) = cspi(&[
        "ingest",
        tiny(2024).to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--la",
        "../../x",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("\"../../x\" is not an LA code"), "{stderr}");
    let (code, _, stderr) = cspi(&[
        "ingest",
        tiny(2024).to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--year",
        "99999",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(!store.exists());
}

#[test]
fn a_store_that_cannot_be_used_exits_1_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    fs::create_dir_all(store.join("LOCK")).unwrap();
    let (code, _, stderr) = cspi(&[
        "ingest",
        tiny(2024).to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&store.join("LOCK").display().to_string()),
        "{stderr}"
    );

    let good = dir.path().join("good");
    cspi(&[
        "ingest",
        tiny(2024).to_str().unwrap(),
        "--store",
        good.to_str().unwrap(),
    ]);
    let damaged = Store::new(&good).history_path(CanonicalTable::Episodes, &la());
    fs::write(&damaged, b"garbage").unwrap();
    let out = dir.path().join("indicators");
    let (code, _, stderr) = cspi(&[
        "compute",
        "--store",
        good.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&damaged.display().to_string()), "{stderr}");
}

#[test]
fn run_rejects_a_config_la_that_is_not_an_la_code() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("la.yaml");
    fs::write(
        &config,
        format!(
            "la: \"../../x\"\ninputs: [\"{}\"]\nout: out\n",
            tiny(2024).display()
        ),
    )
    .unwrap();
    let (code, _, stderr) = cspi(&["run", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "config {}: la: \"../../x\" is not an LA code",
            config.display()
        )),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn run_exits_3_when_an_input_cannot_be_read_but_still_writes_its_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("la.yaml");
    fs::write(
        &config,
        format!(
            "la: \"925\"\ninputs: [\"{}\", missing/]\nout: out\nbuild_packs: []\n",
            fixture("tiny").display()
        ),
    )
    .unwrap();
    let (code, stdout, stderr) = cspi(&["run", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stdout.contains("cspi run for LA 925 finished"), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "could not be read (exit status 3): {}",
            dir.path().join("missing/").display()
        )),
        "{stderr}"
    );
    assert!(dir.path().join("out/indicators/indicators.csv").exists());
}
