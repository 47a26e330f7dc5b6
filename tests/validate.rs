//! `cspi validate`: DfE's rules over returns with no store, the report in three formats, and
//! the figures each error moves — worked out by hand on a few children.

use std::path::Path;

use cspi::indicators::impact::Moved;
use cspi::indicators::period::PeriodType;
use cspi::ingest::report::Severity;
use cspi::render::validation::{ValidationInput, sheets, write};
use cspi::validate::{Request, Validation, validate};

const HEADER: &str = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n";
const EPISODES: &str = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n";

fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// Four children looked after at 31 March 2025. C1 has had three placements in the year; C4's
/// episode starts before C4's date of birth (DfE rule 302: one of the two dates is wrong).
fn four_children(root: &Path) {
    let header = format!(
        "{HEADER}C1,1,01/01/2015,WBRI,A123456789012,,\nC2,2,01/01/2016,WBRI,A223456789012,,\n\
         C3,1,01/01/2012,WBRI,A323456789012,,\nC4,2,01/06/2024,WBRI,UN1,,\n"
    );
    let episodes = format!(
        "{EPISODES}C1,01/06/2024,S,C2,N1,U4,PR1,01/08/2024,X1,CARPL,,,\n\
         C1,01/08/2024,P,C2,N1,U4,PR1,01/10/2024,X1,CARPL,,,\n\
         C1,01/10/2024,P,C2,N1,U4,PR1,,,,,,\n\
         C2,01/05/2024,S,C2,N1,U4,PR1,,,,,,\n\
         C3,01/07/2024,S,C2,N1,U4,PR1,,,,,,\n\
         C4,01/05/2024,S,C2,N1,U4,PR1,,,,,,\n"
    );
    write_files(
        root,
        &[
            ("925/2025/header.csv", &header),
            ("925/2025/episodes.csv", &episodes),
        ],
    );
}

fn run(root: &Path) -> Validation {
    validate(&Request {
        inputs: vec![root.to_path_buf()],
        impact: true,
        ..Request::default()
    })
    .unwrap()
}

fn moved<'a>(v: &'a Validation, rule: &str, indicator: &str, kind: PeriodType) -> &'a Moved {
    v.moved
        .iter()
        .flat_map(|(_, m)| m)
        .find(|m| {
            m.rule == rule
                && m.indicator_id == indicator
                && m.period_type == kind
                && m.breakdown.is_none()
        })
        .unwrap_or_else(|| panic!("{rule} does not move {indicator} ({kind:?})"))
}

#[test]
fn a_failing_rule_is_reported_on_its_child_and_row_and_the_row_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    four_children(dir.path());
    let v = run(dir.path());
    let r302: Vec<_> = v.report.issues.iter().filter(|i| i.rule == "302").collect();
    assert_eq!(r302.len(), 1, "{r302:#?}");
    let i = r302[0];
    assert_eq!(
        (
            i.file.as_ref(),
            i.location.as_str(),
            i.child.as_deref(),
            i.field.as_str(),
            i.severity
        ),
        (
            "925/2025/episodes.csv",
            "line 7",
            Some("C4"),
            "DECOM, DOB",
            Severity::DfeError
        )
    );
    assert_eq!(i.value.as_deref(), Some("DECOM=01/05/2024; DOB=01/06/2024"));
    // The cross-year rules need last year's return: not run, and said so.
    assert!(!v.previous_read);
    assert!(v.report.issues.iter().any(|i| i.severity == Severity::Note
        && i.message.starts_with("DfE rule ")
        && i.message.contains("needs last year's return")));
    // Nothing was stored anywhere: the inputs folder holds only the inputs.
    let mut held: Vec<String> = walk(dir.path());
    held.sort();
    assert_eq!(held, ["925/2025/episodes.csv", "925/2025/header.csv"]);
}

fn walk(root: &Path) -> Vec<String> {
    let mut out = vec![];
    for e in std::fs::read_dir(root).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(
                walk(&p)
                    .into_iter()
                    .map(|f| format!("{}/{f}", e.file_name().to_string_lossy())),
            );
        } else {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out
}

#[test]
fn the_figures_an_error_moves_are_those_without_its_children() {
    let dir = tempfile::tempdir().unwrap();
    four_children(dir.path());
    let v = run(dir.path());
    // Looked after at 31 March: C1–C4 = 4; without C4 (rule 302) = 3.
    let count = moved(&v, "302", "cla_count", PeriodType::Snapshot);
    assert_eq!(
        (count.with, count.without, count.children),
        (Some(4.0), Some(3.0), 1)
    );
    // Three or more placements in the year: C1 of the 4 = 25%; of the 3 without C4 = 33.3%.
    let stability = moved(&v, "302", "cla_3plus_placements", PeriodType::Year);
    assert_eq!(stability.with, Some(25.0));
    assert!((stability.without.unwrap() - 100.0 / 3.0).abs() < 1e-9);
    assert!((stability.change().unwrap() - (100.0 / 3.0 - 25.0)).abs() < 1e-9);
    assert_eq!(
        cspi::render::validation::moved_reading(stability),
        "302 (1 child): Children looked after at the end of the period with 3 or more placements \
         during the 12 months, year 25.0% → 33.3% without them"
    );
}

#[test]
fn the_report_has_the_same_sheets_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    four_children(dir.path());
    let v = run(dir.path());
    let input = ValidationInput {
        report: &v.report,
        returns: &v.returns,
        moved: &v.moved,
        previous_read: v.previous_read,
        as_at: None,
    };
    let out = tempfile::tempdir().unwrap();
    let written = write(out.path(), &input).unwrap();
    assert_eq!(written.len(), 7);
    let sheets = sheets(&input);
    // Rules sheet: one row per rule, 302 with its one row and child.
    let rules = &sheets[0];
    let r302 = rules
        .rows
        .iter()
        .find(|r| r[3] == "302".into())
        .expect("302 in the rules sheet");
    assert_eq!(r302[6], 1usize.into());
    assert_eq!(r302[7], 1usize.into());
    // The CSV of each sheet has its rows; the HTML names the child-level nature and 302.
    for s in &sheets {
        let csv =
            std::fs::read_to_string(out.path().join(format!("dfe_validation_{}.csv", s.file)))
                .unwrap();
        assert_eq!(csv.lines().count(), s.rows.len() + 1, "{}", s.name);
    }
    let errors = std::fs::read_to_string(out.path().join("dfe_validation_errors.csv")).unwrap();
    assert!(errors.contains("925,2025,SSDA903,C4,302,error,"));
    assert!(
        errors.contains(
            "925/2025/episodes.csv,line 7,\"DECOM, DOB\",DECOM=01/05/2024; DOB=01/06/2024"
        )
    );
    let html = std::fs::read_to_string(out.path().join("dfe_validation.html")).unwrap();
    assert!(html.contains("Child-level data"));
    assert!(html.contains("<td>302</td>"));
    let book = std::fs::read(out.path().join("dfe_validation.xlsx")).unwrap();
    assert_eq!(&book[..2], b"PK");
    // Same inputs, same bytes.
    let again = tempfile::tempdir().unwrap();
    write(again.path(), &input).unwrap();
    for p in &written {
        let name = p.file_name().unwrap();
        assert_eq!(
            std::fs::read(p).unwrap(),
            std::fs::read(again.path().join(name)).unwrap(),
            "{name:?}"
        );
    }
}

#[test]
fn last_years_return_makes_the_cross_year_rules_run_and_is_not_reported_on() {
    let dir = tempfile::tempdir().unwrap();
    four_children(&dir.path().join("now"));
    // Last year: C2 only, with a different date of birth (a cross-year rule compares them).
    write_files(
        &dir.path().join("before"),
        &[
            (
                "925/2024/header.csv",
                &format!("{HEADER}C2,2,01/02/2016,WBRI,A223456789012,,\n"),
            ),
            (
                "925/2024/episodes.csv",
                &format!("{EPISODES}C2,01/05/2023,S,C2,N1,U4,PR1,,,,,,\n"),
            ),
        ],
    );
    let v = validate(&Request {
        inputs: vec![dir.path().join("now")],
        previous: vec![dir.path().join("before")],
        impact: false,
        ..Request::default()
    })
    .unwrap();
    assert!(v.previous_read);
    assert_eq!(v.returns.len(), 1);
    assert_eq!(v.returns[0].0.year, 2025);
    assert!(
        v.report.issues.iter().all(|i| !i.file.contains("2024")),
        "last year's return is context, not reported on"
    );
    assert!(
        !v.report
            .issues
            .iter()
            .any(|i| i.message.contains("needs last year's return"))
    );
    assert!(v.moved.is_empty());
}

#[test]
fn cspi_validate_reads_903_xml_and_the_cin_census_and_writes_the_report() {
    // A small LA's synthetic returns, 903 as XML, with last year's for the cross-year rules.
    let dir = tempfile::tempdir().unwrap();
    let cspi = env!("CARGO_BIN_EXE_cspi");
    let data = dir.path().join("returns");
    let status = std::process::Command::new(cspi)
        .args([
            "synth",
            "--la",
            "857",
            "--years",
            "2024-2025",
            "--format",
            "xml",
            "--out",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    // The generated 903 passes DfE's rules: take its social worker episodes out, so that
    // the social worker rules (SW12) have children to flag in the XML.
    let xml_path = data.join("857/2025/ssda903.xml");
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    let mut kept = String::new();
    let mut rest = xml.as_str();
    while let Some(start) = rest.find("<SWEPISODE>") {
        kept.push_str(&rest[..start]);
        let end = rest[start..].find("</SWEPISODE>").unwrap() + start + "</SWEPISODE>".len();
        rest = &rest[end..];
    }
    kept.push_str(rest);
    assert!(kept.len() < xml.len());
    std::fs::write(&xml_path, kept).unwrap();
    let out = dir.path().join("report");
    let run = std::process::Command::new(cspi)
        .arg("validate")
        .arg(data.join("857/2025"))
        .arg("--previous")
        .arg(data.join("857/2024"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("ssda903 857 2025:"), "{stdout}");
    assert!(stdout.contains("cin 857 2025:"), "{stdout}");
    assert!(!stdout.contains("cross-year rules did not run"), "{stdout}");
    let errors = std::fs::read_to_string(out.join("dfe_validation_errors.csv")).unwrap();
    // Findings on both returns, located in their XML files.
    assert!(
        errors
            .lines()
            .any(|l| l.contains(",SSDA903,") && l.contains("ssda903.xml") && l.contains(",SW"))
    );
    assert!(
        errors
            .lines()
            .any(|l| l.contains(",CIN census,") && l.contains("cin_census.xml"))
    );
    // The inputs are untouched: only what synth wrote is there.
    assert!(!data.join("857/2025/validation").exists());
}

#[test]
fn output_piped_into_a_reader_that_stops_early_ends_quietly() {
    // `cspi rules list | head -1`: the pipe closes after the first line.
    use std::io::Read;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cspi"))
        .args(["rules", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(out.status.code(), Some(101));
}

#[test]
fn a_child_whose_only_episode_is_unreadable_is_not_also_said_to_have_none() {
    // C1's one <CINdetails> has no CINreferralDate (the episode's key: the reader cannot use
    // it); C2 has no <CINdetails> at all. Rule 8590 ("no recorded CIN episode") is C2's only.
    let child = |id: &str, details: &str| {
        format!(
            "<Child><ChildIdentifiers><LAchildID>{id}</LAchildID><UPNunknown>UN6</UPNunknown>\
             <PersonBirthDate>2015-06-01</PersonBirthDate><Sex>F</Sex></ChildIdentifiers>\
             <ChildCharacteristics><Ethnicity>WBRI</Ethnicity></ChildCharacteristics>{details}</Child>"
        )
    };
    let c1 = child(
        "C1",
        "<CINdetails><ReferralSource>6</ReferralSource><PrimaryNeedCode>N1</PrimaryNeedCode>\
         <ReferralNFA>false</ReferralNFA></CINdetails>",
    );
    let c2 = child("C2", "");
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Message><Header><CollectionDetails>\
         <Collection>CIN</Collection><Year>2025</Year><ReferenceDate>2025-03-31</ReferenceDate>\
         </CollectionDetails><Source><SourceLevel>L</SourceLevel><LEA>925</LEA></Source>\
         </Header><Children>{c1}{c2}</Children></Message>\n"
    );
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("925/2025/cin.xml", &xml)]);
    let v = validate(&Request {
        inputs: vec![dir.path().to_path_buf()],
        ..Request::default()
    })
    .unwrap();
    let children_of = |rule: &str| -> Vec<&str> {
        v.report
            .issues
            .iter()
            .filter(|i| i.rule == rule)
            .filter_map(|i| i.child.as_deref())
            .collect()
    };
    assert_eq!(children_of("8590"), ["C2"]);
    // C1's episode is reported under DfE's referral-date rule, as the reader's rejection.
    assert!(
        v.report
            .issues
            .iter()
            .any(|i| i.child.as_deref() == Some("C1")
                && matches!(i.severity, Severity::DfeError)
                && i.field == "CINreferralDate"),
        "{:#?}",
        v.report.issues
    );
}
