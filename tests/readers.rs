//! The readers on hostile and broken input: no panic, no silent loss, no hang, bounded memory.
//! Each test writes a tiny return (a few children) into a temporary folder laid out as
//! `<la>/<year>/…`, ingests it and checks what was kept and what was reported, and where.

mod common;

use std::path::{Path, PathBuf};

use common::rows;
use cspi::ingest::canonical::CanonicalTable;
use cspi::ingest::report::{Issue, Severity};
use cspi::ingest::returns::{Hints, discover};
use cspi::ingest::store::Store;
use cspi::ingest::{IngestOutcome, ingest};

const HEADER: &str = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n";
const EPISODES: &str = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n";

/// Writes `files` (path relative to the root → bytes) under a new temporary folder.
fn folder(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, bytes) in files {
        let path = dir.path().join("in").join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir
}

fn ingest_dir(dir: &Path) -> (Store, IngestOutcome) {
    ingest_paths(dir, &[dir.join("in")])
}

fn ingest_paths(dir: &Path, inputs: &[PathBuf]) -> (Store, IngestOutcome) {
    let store = Store::new(dir.join("store"));
    let outcome = ingest(inputs, &store, &Hints::default()).unwrap();
    (store, outcome)
}

fn all(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn find<'a>(issues: &'a [Issue], rule: &str) -> &'a Issue {
    issues
        .iter()
        .find(|i| i.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} issue; issues:\n{}", all(issues)))
}

fn cin_census(children: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Message><Header><CollectionDetails>\
         <Collection>CIN</Collection><Year>2025</Year><ReferenceDate>2025-03-31</ReferenceDate>\
         </CollectionDetails><Source><SourceLevel>L</SourceLevel><LEA>925</LEA></Source>\
         </Header><Children>{children}</Children></Message>\n"
    )
}

fn cin_child(id: &str) -> String {
    format!(
        "<Child><ChildIdentifiers><LAchildID>{id}</LAchildID><UPNunknown>UN6</UPNunknown>\
         <PersonBirthDate>2015-06-01</PersonBirthDate><Sex>F</Sex></ChildIdentifiers>\
         <ChildCharacteristics><Ethnicity>WBRI</Ethnicity></ChildCharacteristics>\
         <CINdetails><CINreferralDate>2024-06-01</CINreferralDate><ReferralSource>6\
         </ReferralSource><PrimaryNeedCode>N1</PrimaryNeedCode><ReferralNFA>false</ReferralNFA>\
         </CINdetails></Child>"
    )
}

fn cin_children(store: &Store) -> Vec<String> {
    rows(
        &store.history(CanonicalTable::CinChild, "925").unwrap(),
        &["child"],
    )
}

#[test]
fn non_ascii_postcodes_in_a_903_csv_are_reported_not_a_panic() {
    // HOME_POST "A€12" in a UTF-8 file; PL_POST "SW1£AB" with a Windows-1252 "£" (byte
    // 0xA3) in a second episodes file: both used to split a String inside a character.
    let utf8 = format!("{EPISODES}E1,01/05/2024,S,C2,N1,U4,PR1,,,,A€12,LN1 3AB,\n");
    let mut cp1252 = EPISODES.as_bytes().to_vec();
    cp1252.extend_from_slice(b"E2,01/06/2024,S,C2,N1,U4,PR1,,,,LN1 3AB,SW1\xA3AB,\n");
    let dir = folder(&[
        (
            "925/2025/header.csv",
            format!("{HEADER}E1,M,01/01/2015,WBRI,,,\nE2,F,01/01/2016,WBRI,,,\n").as_bytes(),
        ),
        ("925/2025/episodes.csv", utf8.as_bytes()),
        ("925/2025/episodes_1252.csv", &cp1252),
    ]);
    let (store, outcome) = ingest_dir(dir.path());
    let issues = &outcome.report.issues;
    let postcodes: Vec<(&str, &str, &str, &str, Severity)> = issues
        .iter()
        .filter(|i| i.rule == "postcode")
        .map(|i| {
            (
                i.file.as_ref(),
                i.location.as_str(),
                i.field.as_str(),
                i.value.as_deref().unwrap_or(""),
                i.severity,
            )
        })
        .collect();
    assert_eq!(
        postcodes,
        vec![
            (
                "925/2025/episodes.csv",
                "line 2",
                "HOME_POST",
                "A€12",
                Severity::Warning
            ),
            (
                "925/2025/episodes_1252.csv",
                "line 2",
                "PL_POST",
                "SW1£AB",
                Severity::Warning
            ),
        ],
        "{}",
        all(issues)
    );
    // Both rows kept, the bad postcodes left empty.
    let episodes = store.history(CanonicalTable::Episodes, "925").unwrap();
    assert_eq!(
        rows(&episodes, &["child", "home_post", "pl_post"]),
        vec!["E1||LN1 3AB", "E2|LN1 3AB|"]
    );
}

#[test]
fn non_ascii_postcodes_in_a_903_xml_are_reported_not_a_panic() {
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EXPSSDA903>\
        <CHILD><HEADER><CHILDID>X1</CHILDID><SEX>M</SEX><DOB>01/01/2015</DOB><ETHNIC>WBRI</ETHNIC></HEADER>\
        <EPISODE><DECOM>01/05/2024</DECOM><RNE>S</RNE><LS>C2</LS><CIN>N1</CIN><PL>U4</PL>\
        <PLACE_PROVIDER>PR1</PLACE_PROVIDER><HOME_POST>A€12</HOME_POST><PL_POST>LN1 3AB</PL_POST></EPISODE>\
        </CHILD></EXPSSDA903>\n";
    let dir = folder(&[("925/2025/ssda903.xml", xml.as_bytes())]);
    let (store, outcome) = ingest_dir(dir.path());
    let issue = find(&outcome.report.issues, "postcode");
    assert_eq!(
        (
            issue.location.as_str(),
            issue.field.as_str(),
            issue.value.as_deref()
        ),
        (
            "EXPSSDA903/CHILD[1]/EPISODE[1]/HOME_POST",
            "HOME_POST",
            Some("A€12")
        )
    );
    let episodes = store.history(CanonicalTable::Episodes, "925").unwrap();
    assert_eq!(
        rows(&episodes, &["child", "home_post", "pl_post"]),
        vec!["X1||LN1 3AB"]
    );
}

/// Five children, one episode each, for the CSV tests.
fn header_csv() -> String {
    let mut h = HEADER.to_string();
    for c in 1..=5 {
        h.push_str(&format!("Q{c},M,01/01/2015,WBRI,,,\n"));
    }
    h
}

fn episode(child: u32, reason: &str) -> String {
    format!("Q{child},01/0{child}/2024,S,C2,N1,U4,PR1,,,{reason},LN1 3AB,LN1 3AB,\n")
}

#[test]
fn an_unterminated_quote_rejects_its_row_and_the_rows_after_it_are_kept() {
    // Line 3 opens a quote in REASON_PLACE_CHANGE that is never closed: before, the rest of
    // the file became one field and three episodes vanished without a word.
    let episodes = format!(
        "{EPISODES}{}{}{}{}{}",
        episode(1, "CARPL"),
        episode(2, "\"CARPL"),
        episode(3, "CARPL"),
        episode(4, "CARPL"),
        episode(5, "CARPL")
    );
    let dir = folder(&[
        ("925/2025/header.csv", header_csv().as_bytes()),
        ("925/2025/episodes.csv", episodes.as_bytes()),
    ]);
    let (store, outcome) = ingest_dir(dir.path());
    let issue = find(&outcome.report.issues, "unterminated_quote");
    assert_eq!(
        (
            issue.file.as_ref(),
            issue.location.as_str(),
            issue.field.as_str(),
            issue.child.as_deref(),
            issue.severity
        ),
        (
            "925/2025/episodes.csv",
            "line 3",
            "REASON_PLACE_CHANGE",
            Some("Q2"),
            Severity::Error
        )
    );
    let kept = store.history(CanonicalTable::Episodes, "925").unwrap();
    assert_eq!(rows(&kept, &["child"]), vec!["Q1", "Q3", "Q4", "Q5"]);
    let count = &outcome.report.counts["episodes"];
    assert_eq!((count.read, count.kept, count.rejected), (5, 4, 1));
}

#[test]
fn a_line_longer_than_the_limit_is_an_error_and_the_lines_after_it_are_read() {
    // Line 3 is 3 MiB of commas (a runaway export): reported as one rejected row.
    let long = format!("Q2{}\n", ",".repeat(3 << 20));
    let episodes = format!(
        "{EPISODES}{}{long}{}",
        episode(1, "CARPL"),
        episode(3, "CARPL")
    );
    let dir = folder(&[
        ("925/2025/header.csv", header_csv().as_bytes()),
        ("925/2025/episodes.csv", episodes.as_bytes()),
    ]);
    let (store, outcome) = ingest_dir(dir.path());
    let issue = find(&outcome.report.issues, "record_too_long");
    assert_eq!(
        (
            issue.location.as_str(),
            issue.child.as_deref(),
            issue.severity
        ),
        ("line 3", Some("Q2"), Severity::Error)
    );
    let kept = store.history(CanonicalTable::Episodes, "925").unwrap();
    assert_eq!(rows(&kept, &["child"]), vec!["Q1", "Q3"]);
    let count = &outcome.report.counts["episodes"];
    assert_eq!((count.read, count.rejected), (3, 1));
}

#[test]
fn a_cin_census_with_a_prologue_longer_than_4_kb_is_read() {
    let comment = format!(
        "<!-- {} -->\n",
        "exported by a case-management system ".repeat(200)
    );
    assert!(comment.len() > 4096);
    let xml = cin_census(&cin_child("K1")).replacen("\n", &format!("\n{comment}"), 1);
    let dir = folder(&[("925/2025/cin.xml", xml.as_bytes())]);
    let (store, outcome) = ingest_dir(dir.path());
    assert_eq!(
        outcome.report.errors(),
        0,
        "{}",
        all(&outcome.report.issues)
    );
    assert_eq!(cin_children(&store), vec!["K1"]);
}

#[test]
fn a_namespaced_cin_census_is_read_by_local_names() {
    let plain = cin_census(&format!("{}{}", cin_child("N1"), cin_child("N2")));
    // Every element prefixed `cin:`, the namespace declared on the root.
    let xml = plain
        .replace("</", "\u{1}")
        .replace('<', "<cin:")
        .replace('\u{1}', "</cin:")
        .replace("<cin:?xml", "<?xml")
        .replacen(
            "<cin:Message>",
            "<cin:Message xmlns:cin=\"http://www.dcsf.gov.uk/CIN\">",
            1,
        );
    assert!(xml.contains("<cin:LAchildID>N1</cin:LAchildID>"));
    let dir = folder(&[("925/2025/cin.xml", xml.as_bytes())]);
    let (store, outcome) = ingest_dir(dir.path());
    assert_eq!(
        outcome.report.errors(),
        0,
        "{}",
        all(&outcome.report.issues)
    );
    assert_eq!(cin_children(&store), vec!["N1", "N2"]);
    let episodes = store.history(CanonicalTable::CinEpisode, "925").unwrap();
    assert_eq!(
        rows(&episodes, &["child", "referral_date"]),
        vec!["N1|2024-06-01", "N2|2024-06-01"]
    );
}

#[test]
fn an_empty_xml_file_is_an_error_counted_in_the_summary() {
    let dir = folder(&[
        ("925/2025/cin.xml", b""),
        ("925/2025/header.csv", header_csv().as_bytes()),
    ]);
    let (_store, outcome) = ingest_dir(dir.path());
    let issue = outcome
        .report
        .issues
        .iter()
        .find(|i| i.file.ends_with("cin.xml"))
        .unwrap_or_else(|| panic!("{}", all(&outcome.report.issues)));
    assert_eq!(issue.severity, Severity::Error);
    assert!(issue.message.contains("empty"), "{}", issue.message);
    assert_eq!(
        outcome.report.errors(),
        1,
        "{}",
        all(&outcome.report.issues)
    );
}

#[test]
fn an_xml_file_broken_before_its_root_is_an_error() {
    let dir = folder(&[(
        "925/2025/cin.xml",
        b"<?xml version=\"1.0\"?>\n<!-- never closed",
    )]);
    let (_store, outcome) = ingest_dir(dir.path());
    let issue = find(&outcome.report.issues, "unreadable_xml");
    assert_eq!(issue.severity, Severity::Error);
    assert_eq!(outcome.report.errors(), 1);
}

#[test]
fn dot_files_are_read_like_any_other_file() {
    let dir = folder(&[
        (
            "925/2025/.cin_census.xml",
            cin_census(&cin_child("H1")).as_bytes(),
        ),
        ("925/2025/.DS_Store", b"\x00\x00\x00\x01Bud1"),
    ]);
    let (store, outcome) = ingest_dir(dir.path());
    assert_eq!(cin_children(&store), vec!["H1"]);
    // The non-return is noted, as any other file is.
    let note = find(&outcome.report.issues, "not_a_return");
    assert_eq!(
        (note.file.as_ref(), note.severity),
        ("925/2025/.DS_Store", Severity::Note)
    );
}

#[test]
fn an_unresolved_entity_is_an_error_on_its_field_and_never_a_child_id() {
    let xml = cin_census(&format!("{}{}", cin_child("&foo;"), cin_child("G&amp;2")));
    let dir = folder(&[("925/2025/cin.xml", xml.as_bytes())]);
    let (store, outcome) = ingest_dir(dir.path());
    let issue = find(&outcome.report.issues, "unresolved_entity");
    assert_eq!(
        (
            issue.location.as_str(),
            issue.field.as_str(),
            issue.value.as_deref(),
            issue.severity
        ),
        (
            "Message/Children/Child[1]/ChildIdentifiers/LAchildID",
            "LAchildID",
            Some("&foo;"),
            Severity::Error
        )
    );
    // Only the child with a real id (a predefined entity is fine) is kept, in every table.
    assert_eq!(cin_children(&store), vec!["G&2"]);
    let episodes = store.history(CanonicalTable::CinEpisode, "925").unwrap();
    assert_eq!(rows(&episodes, &["child"]), vec!["G&2"]);
    assert_eq!(outcome.report.counts["cin_child"].rejected, 1);
}

#[test]
fn deep_nesting_outside_the_children_is_reported_and_the_children_are_still_read() {
    // 10,000 nested elements in the header (the hang was quadratic in this depth).
    let depth = 10_000;
    let deep = format!("{}{}", "<x>".repeat(depth), "</x>".repeat(depth));
    let xml = cin_census(&format!("{}{}", cin_child("D1"), cin_child("D2"))).replacen(
        "<Header>",
        &format!("<Header>{deep}"),
        1,
    );
    let dir = folder(&[("925/2025/cin.xml", xml.as_bytes())]);
    let (store, outcome) = ingest_dir(dir.path());
    let issue = find(&outcome.report.issues, "xml_too_deep");
    assert_eq!(issue.severity, Severity::Error);
    // The path where the limit was crossed: 64 levels (Message, Header, 62 × x).
    assert_eq!(issue.location, format!("Message/Header{}", "/x".repeat(62)));
    assert_eq!(cin_children(&store), vec!["D1", "D2"]);
}

#[test]
fn implausible_dates_are_rejected_where_they_are() {
    let header = format!(
        "{HEADER}P1,M,01/01/2015,WBRI,,,\nP2,F,31/12/9999,WBRI,,,\nP3,F,01/01/2016,WBRI,,,\n"
    );
    let episodes = format!(
        "{EPISODES}P1,01/01/0000,S,C2,N1,U4,PR1,,,,,,\nP3,01/05/2024,S,C2,N1,U4,PR1,,,,,,\n"
    );
    let dir = folder(&[
        ("925/2025/header.csv", header.as_bytes()),
        ("925/2025/episodes.csv", episodes.as_bytes()),
    ]);
    let (store, outcome) = ingest_dir(dir.path());
    let bad: Vec<(&str, &str, &str, &str)> = outcome
        .report
        .issues
        .iter()
        .filter(|i| i.rule == "implausible_date")
        .map(|i| {
            (
                i.file.as_ref(),
                i.location.as_str(),
                i.field.as_str(),
                i.value.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        bad,
        vec![
            ("925/2025/episodes.csv", "line 2", "DECOM", "01/01/0000"),
            ("925/2025/header.csv", "line 3", "DOB", "31/12/9999"),
        ],
        "{}",
        all(&outcome.report.issues)
    );
    // DOB is not a key: the header row is kept with its DOB empty (DfE's rules then flag the
    // missing DOB); DECOM is the episode's key, so that episode cannot be used.
    let header = store.history(CanonicalTable::Header, "925").unwrap();
    assert_eq!(
        rows(&header, &["child", "dob"]),
        vec!["P1|2015-01-01", "P2|", "P3|2016-01-01"]
    );
    let episodes = store.history(CanonicalTable::Episodes, "925").unwrap();
    assert_eq!(rows(&episodes, &["child"]), vec!["P3"]);
}

#[test]
fn an_expected_birth_nine_months_ahead_is_plausible_but_ten_years_is_not() {
    // 2025 census (31/03/2025): expected 2025-12-20 is accepted, 2035-01-01 is not.
    let unborn = |id: &str, due: &str| {
        format!(
            "<Child><ChildIdentifiers><LAchildID>{id}</LAchildID><UPNunknown>UN8</UPNunknown>\
             <ExpectedPersonBirthDate>{due}</ExpectedPersonBirthDate><Sex>U</Sex>\
             </ChildIdentifiers><CINdetails><CINreferralDate>2025-01-10</CINreferralDate>\
             <ReferralSource>6</ReferralSource><PrimaryNeedCode>N1</PrimaryNeedCode>\
             <ReferralNFA>false</ReferralNFA></CINdetails></Child>"
        )
    };
    let xml = cin_census(&format!(
        "{}{}",
        unborn("U1", "2025-12-20"),
        unborn("U2", "2035-01-01")
    ));
    let dir = folder(&[("925/2025/cin.xml", xml.as_bytes())]);
    let (store, outcome) = ingest_dir(dir.path());
    let issue = find(&outcome.report.issues, "implausible_date");
    assert_eq!(
        (issue.child.as_deref(), issue.field.as_str()),
        (Some("U2"), "ExpectedPersonBirthDate")
    );
    let children = store.history(CanonicalTable::CinChild, "925").unwrap();
    assert_eq!(
        rows(&children, &["child", "expected_birth_date"]),
        vec!["U1|2025-12-20", "U2|"]
    );
}

#[test]
fn an_episode_starting_before_the_child_was_born_is_flagged_and_kept() {
    let header = format!("{HEADER}B1,M,01/06/2020,WBRI,,,\nB2,F,01/01/2016,WBRI,,,\n");
    let episodes = format!(
        "{EPISODES}B1,01/05/2019,S,C2,N1,U4,PR1,,,,,,\nB2,01/05/2024,S,C2,N1,U4,PR1,,,,,,\n"
    );
    let dir = folder(&[
        ("925/2025/header.csv", header.as_bytes()),
        ("925/2025/episodes.csv", episodes.as_bytes()),
    ]);
    let (store, outcome) = ingest_dir(dir.path());
    // DfE rule 302 flags it; the episode is kept (one of the two dates is wrong, and the LA has
    // to say which).
    let issue = find(&outcome.report.issues, "302");
    assert_eq!(
        (
            issue.file.as_ref(),
            issue.location.as_str(),
            issue.field.as_str(),
            issue.child.as_deref(),
            issue.severity
        ),
        (
            "925/2025/episodes.csv",
            "line 2",
            "DECOM, DOB",
            Some("B1"),
            Severity::DfeError
        )
    );
    let episodes = store.history(CanonicalTable::Episodes, "925").unwrap();
    assert_eq!(rows(&episodes, &["child"]), vec!["B1", "B2"]);
    let count = &outcome.report.counts["episodes"];
    assert_eq!((count.read, count.kept, count.rejected), (2, 2, 0));
}

#[test]
fn the_same_file_given_twice_is_read_once() {
    let dir = folder(&[("925/2025/cin.xml", cin_census(&cin_child("S1")).as_bytes())]);
    let inputs = [
        dir.path().join("in"),
        dir.path().join("in/925/2025/cin.xml"),
        dir.path().join("in/925/../925/2025"),
    ];
    let (files, issues) = discover(&inputs, &Hints::default());
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(issues.iter().all(|i| i.severity == Severity::Note));
    let (store, outcome) = ingest_paths(dir.path(), &inputs);
    assert_eq!(
        outcome.report.errors(),
        0,
        "{}",
        all(&outcome.report.issues)
    );
    assert_eq!(cin_children(&store), vec!["S1"]);
}

#[cfg(unix)]
mod links {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_link_back_up_the_tree_is_not_followed_and_each_file_is_read_once() {
        let dir = folder(&[("925/2025/cin.xml", cin_census(&cin_child("L1")).as_bytes())]);
        symlink("..", dir.path().join("in/925/2025/loop")).unwrap();
        let (store, outcome) = ingest_dir(dir.path());
        assert_eq!(
            outcome.report.errors(),
            0,
            "{}",
            all(&outcome.report.issues)
        );
        assert_eq!(cin_children(&store), vec!["L1"]);
        let note = find(&outcome.report.issues, "link_not_followed");
        assert_eq!(
            (note.file.as_ref(), note.severity),
            ("925/2025/loop", Severity::Note)
        );
        // Besides DfE's findings on the one child and the note of what was replaced, the link
        // is the only thing reported: the file was not read a second time through it.
        let own: Vec<&Issue> = outcome
            .report
            .issues
            .iter()
            .filter(|i| !matches!(i.severity, Severity::DfeError | Severity::DfeQuery))
            .filter(|i| !i.message.contains("this ingest replaced"))
            .collect();
        assert_eq!(own.len(), 1, "{}", all(&outcome.report.issues));
    }

    #[test]
    fn branching_link_loops_finish() {
        // Two links to the parent in every folder: following them never ends.
        let dir = folder(&[("925/2025/cin.xml", cin_census(&cin_child("L2")).as_bytes())]);
        for name in ["a", "b"] {
            symlink("..", dir.path().join("in/925/2025").join(name)).unwrap();
            symlink(".", dir.path().join("in/925").join(name)).unwrap();
        }
        let (store, outcome) = ingest_dir(dir.path());
        assert_eq!(cin_children(&store), vec!["L2"]);
        let links = outcome
            .report
            .issues
            .iter()
            .filter(|i| i.rule == "link_not_followed")
            .count();
        assert_eq!(links, 4, "{}", all(&outcome.report.issues));
    }

    #[test]
    fn links_out_of_the_input_folder_are_not_followed_and_say_so() {
        let dir = folder(&[("925/2025/cin.xml", cin_census(&cin_child("O1")).as_bytes())]);
        // A return folder beside the input folder, not in it.
        let elsewhere = dir.path().join("elsewhere/2025");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("header.csv"), header_csv()).unwrap();
        let here = dir.path().join("in/925/2025");
        symlink(elsewhere.join("header.csv"), here.join("header.csv")).unwrap();
        symlink(dir.path().join("elsewhere"), here.join("more")).unwrap();
        symlink(dir.path().join("missing.csv"), here.join("dangling.csv")).unwrap();
        let (store, outcome) = ingest_dir(dir.path());
        assert_eq!(cin_children(&store), vec!["O1"]);
        // The header file outside was not read.
        assert_eq!(
            store
                .history(CanonicalTable::Header, "925")
                .unwrap()
                .height(),
            0
        );
        let mut links: Vec<(&str, Severity)> = outcome
            .report
            .issues
            .iter()
            .filter(|i| i.rule == "link_not_followed")
            .map(|i| (i.file.as_ref(), i.severity))
            .collect();
        links.sort();
        assert_eq!(
            links,
            vec![
                ("925/2025/dangling.csv", Severity::Warning),
                ("925/2025/header.csv", Severity::Warning),
                ("925/2025/more", Severity::Warning),
            ],
            "{}",
            all(&outcome.report.issues)
        );
    }
}

#[test]
fn a_value_given_twice_counts_once_and_the_values_after_it_are_read() {
    // Two LAchildIDs (the first counts, as it always has), then many empty records and an
    // unknown element between the values that follow: each child's work is proportional to
    // its size, and nothing after the repeat is displaced.
    let child = cin_child("T1").replace(
        "<LAchildID>T1</LAchildID>",
        "<LAchildID>T1</LAchildID><LAchildID>T1-again</LAchildID>",
    );
    let many = "<CINdetails/>".repeat(2_000);
    let child = child.replace(
        "</ChildCharacteristics>",
        &format!("</ChildCharacteristics>{many}<Extra>x</Extra>"),
    );
    let xml = cin_census(&format!("{child}{}", cin_child("T2")));
    let dir = folder(&[("925/2025/cin.xml", xml.as_bytes())]);
    let (store, outcome) = ingest_dir(dir.path());
    assert_eq!(cin_children(&store), vec!["T1", "T2"]);
    let children = store.history(CanonicalTable::CinChild, "925").unwrap();
    assert_eq!(
        rows(&children, &["child", "birth_date", "sex"]),
        vec!["T1|2015-06-01|F", "T2|2015-06-01|F"]
    );
    // The 2,000 empty CINdetails are episodes without a referral date: each rejected, with
    // its own position.
    let missing: Vec<&Issue> = outcome
        .report
        .issues
        .iter()
        .filter(|i| i.rule == "required" && i.field == "CINreferralDate")
        .collect();
    assert_eq!(missing.len(), 2_000);
    assert_eq!(
        missing.last().unwrap().location,
        "Message/Children/Child[1]/CINdetails[2000]/CINreferralDate"
    );
    let episodes = store.history(CanonicalTable::CinEpisode, "925").unwrap();
    assert_eq!(
        rows(&episodes, &["child", "referral_date"]),
        vec!["T1|2024-06-01", "T2|2024-06-01"]
    );
}

#[test]
fn the_date_uasc_ceases_may_be_years_ahead_but_not_9999() {
    // DUC is the 18th birthday: a 10-year-old's is 8 years after the year end.
    let uasc = "CHILD,SEX,DOB,DUC\nU1,M,01/05/2014,01/05/2032\nU2,M,01/05/2014,31/12/9999\n";
    let dir = folder(&[
        ("925/2025/header.csv", header_csv().as_bytes()),
        ("925/2025/uasc.csv", uasc.as_bytes()),
    ]);
    let (store, outcome) = ingest_dir(dir.path());
    let issue = find(&outcome.report.issues, "implausible_date");
    assert_eq!(
        (issue.location.as_str(), issue.field.as_str()),
        ("line 3", "DUC")
    );
    let kept = store.history(CanonicalTable::Uasc, "925").unwrap();
    // DUC is not a key: the row is kept with the date left empty.
    assert_eq!(rows(&kept, &["child", "duc"]), vec!["U1|2032-05-01", "U2|"]);
}
