//! Ofsted Annex A: reading a messy workbook field by field; producing the lists from a
//! synthetic history and reading them back unchanged; indicators from the lists agreeing with
//! the same indicators from the returns.

mod common;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cspi::derive::annex_a::{Windows, produce};
use cspi::derive::{Facts, OnlyLas};
use cspi::indicators::annex_a::{analyse, list_period};
use cspi::indicators::catalogue::Catalogue;
use cspi::indicators::evaluate::{Options, evaluate};
use cspi::ingest::annex_a::{list_indicators, read_files, read_local, strip_code};
use cspi::ingest::reference::ReferenceTables;
use cspi::ingest::report::{Report, Severity};
use cspi::ingest::returns::Hints;
use cspi::ingest::store::Store;
use cspi::synth::{self, Recipe, Ssda903Format};
use polars::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn coded_values_lose_their_decoration() {
    assert_eq!(strip_code("a) Male"), "Male");
    assert_eq!(strip_code("E1: Placement order"), "E1");
    assert_eq!(strip_code("f) U6: Foster placement"), "U6");
    assert_eq!(strip_code("N1 - Abuse or neglect"), "N1");
    assert_eq!(strip_code("(b) No"), "No");
    assert_eq!(strip_code("WBRI"), "WBRI");
    assert_eq!(strip_code("LN2 4CD"), "LN2 4CD");
}

#[test]
fn a_messy_workbook_is_read_field_by_field() {
    let mut report = Report::default();
    let lists = read_files(&[common::fixture("annex_a/messy.xlsx")], &mut report);
    assert_eq!(lists.keys().copied().collect::<Vec<_>>(), vec![3, 8]);

    // List 3 (header on the second row, under a title): C1, C2, C3 kept; the row with no
    // child id rejected; the blank row ignored.
    let l3 = &lists[&3];
    assert_eq!(
        common::rows(
            l3,
            &[
                "child",
                "sex",
                "ethnicity",
                "birth_date",
                "age",
                "referral_date",
                "referral_source",
                "referral_nfa",
                "referrals_12m",
                "team",
                "worker"
            ]
        ),
        vec![
            // "a) Male" → M; a real date; Excel serial 45383 → 01/04/2024; "1B: Individual" →
            // 1B; "b) No" → false.
            "C1|M|WBRI|2015-02-02|9|2024-04-01|1B|false|1|Team A|Worker 1",
            // Text date 03/04/2016; age as text "8"; "wiri " kept as written but trimmed.
            "C2|F|wiri|2016-04-03|8|2025-01-15|5A|true|2|Team B|",
            // "not recorded" is not a date: left empty, reported.
            "C3|U|MWBC|2017-05-06|7||6|false|1||",
        ]
    );
    let rejected: Vec<&cspi::ingest::report::Issue> = report
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].location, "sheet Referrals (L3) row 7");
    assert_eq!(rejected[0].field, "child");
    let bad_date = report
        .issues
        .iter()
        .find(|i| i.rule == "value")
        .expect("the unreadable date is reported");
    assert_eq!(
        (
            bad_date.location.as_str(),
            bad_date.field.as_str(),
            bad_date.child.as_deref(),
            bad_date.value.as_deref()
        ),
        (
            "sheet Referrals (L3) row 6",
            "referral_date",
            Some("C3"),
            Some("not recorded")
        )
    );
    assert!(
        report
            .issues
            .iter()
            .any(|i| i.rule == "unrecognised" && i.location == "sheet Notes")
    );
    assert_eq!(report.counts["annex_a_list_3"].read, 4);
    assert_eq!(report.counts["annex_a_list_3"].kept, 3);
    assert_eq!(report.counts["annex_a_list_3"].rejected, 1);

    // List 8: curly apostrophes and quotes, stray brackets in headers; coded values.
    let l8 = &lists[&8];
    assert_eq!(
        common::rows(
            l8,
            &[
                "child",
                "sex",
                "birth_date",
                "uasc_12m",
                "disability",
                "cla_start",
                "category_of_need",
                "second_period_12m",
                "legal_status_start",
                "legal_status",
                "last_review",
                "last_visit",
                "permanence_plan",
                "placements_12m",
                "ceased",
                "reason_ceased",
                "placement_start",
                "placement_type",
                "placement_provider",
                "placement_postcode",
                "placement_urn",
                "missing_12m",
                "absent_12m",
                "return_interview_offered",
                "return_interview_accepted"
            ]
        ),
        vec![
            // Serial 44000 → 18/06/2020; "N1 - Abuse or neglect" → N1; "E1: Placement order" →
            // E1; ISO text date; "f) U6: Foster placement" → U6.
            "L1|F|2020-06-18|false|false|2022-06-01|N1|false|2023-01-10|E1|2025-01-05|2025-02-01|Adoption|2|||2024-11-01|U6|PR1|LN2 4CD||0|1||",
            "L2|M|2008-07-07|true|true|2024-09-09|N4|false|2024-09-09|V2||||1|2025-03-01|E8|2024-09-09|H5|PR4|LN2 5AA|SC000333|2|0|true|false",
        ]
    );
    // The lead inspector's summary: list 3 has 3 rows, C3's referral date missing (1 of 3);
    // list 8: L1 had 2 placements and L2 1 (none had 3+), L2 went missing twice (1 of 2);
    // L1 is still looked after (no ceased date) since 01/06/2022, 304 days before 01/04/2023.
    let s = cspi::indicators::annex_a::summarise(&lists, d(2023, 4, 1)).unwrap();
    assert_eq!(
        common::rows(
            &s,
            &[
                "list",
                "rows",
                "children",
                "missing_key_date",
                "open_items",
                "oldest_open_days",
                "oldest_open",
                "notes"
            ]
        ),
        vec![
            "3|3|3|1||||",
            "8|2|2|0|1|304|L1 since 2022-06-01|0% had 3 or more placements in the last 12 months; 50% went missing at least once",
        ]
    );
    // Every list 8 column was found despite the header variants.
    assert!(
        !report
            .issues
            .iter()
            .any(|i| i.table == "annex_a_list_8" && i.rule == "missing_column")
    );
}

/// A synthetic LA's history (Lincolnshire, 2023/24–2024/25) ingested once.
fn history() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let recipe = Recipe {
        seed: 5,
        las: vec!["925".into()],
        first_year: 2024,
        last_year: 2025,
        format: Ssda903Format::Csv,
        as_at: None,
    };
    synth::generate(&recipe, &dir.path().join("returns"), &|_| {}).unwrap();
    let store = Store::new(dir.path().join("store"));
    cspi::ingest::ingest(&[dir.path().join("returns")], &store, &Hints::default()).unwrap();
    (dir, store)
}

#[test]
fn lists_produced_from_the_history_read_back_unchanged_and_agree_with_the_returns() {
    let (dir, store) = history();
    let date = d(2025, 1, 31);
    let windows = Windows::new(date);
    let only = OnlyLas {
        inner: &store,
        las: vec!["925".into()],
    };
    let facts = Facts::new(&only, ReferenceTables::embedded());

    // Local data: allocated workers for two children found in list 3.
    let produced0 = produce(&facts, "925", windows, None).unwrap();
    let kids: Vec<String> = produced0[&3]
        .column("child")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .take(2)
        .map(|c| c.unwrap().to_string())
        .collect();
    std::fs::write(
        dir.path().join("workers.csv"),
        format!(
            "Child ID,Team,Social worker\n{},North,Ann\n{},South,Bob\n",
            kids[0], kids[1]
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("workers.yaml"),
        "file: workers.csv\nchild: Child ID\ncolumns: {team: Team, worker: Social worker}\n",
    )
    .unwrap();
    let mut report = Report::default();
    let local = read_local(&dir.path().join("workers.yaml"), &mut report).unwrap();
    let produced = produce(&facts, "925", windows, Some(&local)).unwrap();
    assert_eq!(
        produced.keys().copied().collect::<Vec<_>>(),
        vec![3, 4, 5, 6, 7, 8, 9, 10]
    );
    for list in [3, 4, 5, 6, 7, 8] {
        assert!(
            produced[&list].height() > 10,
            "list {list}: {}",
            produced[&list].height()
        );
    }
    let l3 = &produced[&3];
    let first = l3
        .clone()
        .lazy()
        .filter(col("child").eq(lit(kids[0].as_str())))
        .collect()
        .unwrap();
    assert_eq!(
        common::rows(&first.head(Some(1)), &["team", "worker"]),
        vec!["North|Ann"]
    );

    // Round trip through the workbook.
    let path = dir.path().join("annex_a.xlsx");
    cspi::render::annex_a::write_workbook(&path, "Lincolnshire", windows, &produced).unwrap();
    let mut report = Report::default();
    let back = read_files(&[path], &mut report);
    assert_eq!(report.errors(), 0, "{:?}", report.issues);
    assert_eq!(
        back.keys().collect::<Vec<_>>(),
        produced.keys().collect::<Vec<_>>()
    );
    for (list, df) in &produced {
        let b = &back[list];
        assert_eq!(b.height(), df.height(), "list {list}");
        for c in df.columns() {
            let got = b.column(c.name()).unwrap();
            assert!(
                got.as_materialized_series()
                    .equals_missing(c.as_materialized_series()),
                "list {list} column {}: produced {:?} read back {:?}",
                c.name(),
                c.head(Some(5)),
                got.head(Some(5))
            );
        }
    }

    // The same indicators from the lists and from the returns, over the same windows.
    let catalogue = Catalogue::embedded().unwrap();
    let from_lists = analyse(&catalogue, "925", date, &back).unwrap();
    let mut compared = 0;
    for ind in list_indicators() {
        let period = list_period(ind.period, windows);
        let from_returns = evaluate(
            &catalogue,
            &facts,
            &[period],
            &Options {
                drilldown: false,
                only: vec![ind.id.clone()],
            },
        )
        .unwrap()
        .values;
        let pick = |v: &DataFrame| -> Vec<String> {
            let f = v
                .clone()
                .lazy()
                .filter(
                    col("indicator_id")
                        .eq(lit(ind.id.as_str()))
                        .and(col("breakdown").is_null()),
                )
                .collect()
                .unwrap();
            common::rows(
                &f,
                &[
                    "period_type",
                    "period_start",
                    "period_end",
                    "numerator",
                    "denominator",
                ],
            )
        };
        let a = pick(&from_returns);
        assert_eq!(a.len(), 1, "{}: {a:?}", ind.id);
        assert_eq!(
            pick(&from_lists.values),
            a,
            "{} from list {}",
            ind.id,
            ind.list
        );
        compared += 1;
    }
    assert!(compared >= 8);
    // The children behind each figure come with it.
    assert!(from_lists.drilldown.contains_key("icpc_15wd"));
    // The summary speaks to care leavers' activity (list 9) and adoption timeliness (list 10).
    let notes: Vec<String> = common::rows(&from_lists.summary, &["list", "notes"]);
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("9|") && n.contains("in education, employment or training")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("10|") && n.contains("days after entering care")),
        "{notes:?}"
    );
    // The summary: one row per list, counts matching the lists.
    let s = &from_lists.summary;
    let rows: BTreeMap<i32, i64> = s
        .column("list")
        .unwrap()
        .i32()
        .unwrap()
        .iter()
        .zip(s.column("rows").unwrap().i64().unwrap().iter())
        .map(|(a, b)| (a.unwrap(), b.unwrap()))
        .collect();
    for (list, df) in &back {
        assert_eq!(rows[&i32::from(*list)], df.height() as i64, "list {list}");
    }
}

const LIST_3_HEADER: &str = "Child Unique ID,Gender,Ethnicity,Date of Birth,Age of Child (Years),Date of referral,Referral Source,Referral NFA?,Number of Referrals in Last 12 Months,Allocated Team,Allocated Worker";

/// A list 7 (child protection) table as `read_files` returns it, from (child, plan start,
/// plan end) triples.
fn list_7(plans: &[(&str, NaiveDate, Option<NaiveDate>)]) -> DataFrame {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = "Child Unique ID,Gender,Ethnicity,Date of Birth,Age of Child (Years),Does the Child have a Disability,Child Protection Plan Start Date,Initial Category of Abuse,Latest Category of Abuse,Date of the Last Statutory Visit,Was the Child Seen Alone?,Date of latest review conference,Child Protection Plan End Date,Subject to Emergency Protection Order or Protected Under Police Powers in Last Six Months (Y/N),Number of Previous Child Protection Plans,Allocated Team,Allocated Worker\n".to_string();
    for (child, start, end) in plans {
        let end = end.map_or(String::new(), |e| e.format("%d/%m/%Y").to_string());
        csv.push_str(&format!(
            "{child},F,WBRI,01/01/2015,9,N,{},NEG,NEG,,,,{end},N,0,,\n",
            start.format("%d/%m/%Y")
        ));
    }
    std::fs::write(dir.path().join("l7.csv"), csv).unwrap();
    let mut report = Report::default();
    let mut lists = read_files(&[dir.path().join("l7.csv")], &mut report);
    assert_eq!(report.errors(), 0, "{:?}", report.issues);
    lists.remove(&7).unwrap()
}

#[test]
fn a_list_with_nothing_open_is_summarised_not_a_panic() {
    // Both plans ended before the date, and list 5 has no rows at all: no open item, no
    // oldest. (This panicked: `get(0)` on the empty "open" table.)
    let mut lists = BTreeMap::new();
    lists.insert(
        7,
        list_7(&[
            ("P1", d(2024, 5, 1), Some(d(2024, 11, 1))),
            ("P2", d(2024, 6, 1), Some(d(2025, 1, 10))),
        ]),
    );
    let s = cspi::indicators::annex_a::summarise(&lists, d(2025, 3, 31)).unwrap();
    assert_eq!(
        common::rows(
            &s,
            &[
                "list",
                "rows",
                "children",
                "missing_key_date",
                "open_items",
                "oldest_open_days",
                "oldest_open"
            ]
        ),
        vec!["7|2|2|0|0||"]
    );
    // One open plan: the oldest open item is that one, 31 days before 31/03/2025.
    lists.insert(7, list_7(&[("P3", d(2025, 2, 28), None)]));
    let s = cspi::indicators::annex_a::summarise(&lists, d(2025, 3, 31)).unwrap();
    assert_eq!(
        common::rows(
            &s,
            &["list", "open_items", "oldest_open_days", "oldest_open"]
        ),
        vec!["7|1|31|P3 since 2025-02-28"]
    );
}

#[test]
fn the_workbook_cspi_writes_for_a_small_la_is_analysed() {
    // The tiny fixture (a handful of children): several of its lists have nothing open or
    // no rows at all, which panicked the analysis of cspi's own workbook.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("store"));
    cspi::ingest::ingest(&[common::fixture("tiny")], &store, &Hints::default()).unwrap();
    let date = d(2025, 3, 31);
    let only = OnlyLas {
        inner: &store,
        las: vec!["925".into()],
    };
    let facts = Facts::new(&only, ReferenceTables::embedded());
    let windows = Windows::new(date);
    let produced = produce(&facts, "925", windows, None).unwrap();
    assert!(produced.values().any(|df| df.height() == 0));
    let path = dir.path().join("annex_a.xlsx");
    cspi::render::annex_a::write_workbook(&path, "Lincolnshire", windows, &produced).unwrap();
    let mut report = Report::default();
    let back = read_files(&[path], &mut report);
    assert_eq!(report.errors(), 0, "{:?}", report.issues);
    let analysis = analyse(&Catalogue::embedded().unwrap(), "925", date, &back).unwrap();
    // One summary row per list read back, each with the rows the workbook holds.
    let rows = common::rows(&analysis.summary, &["list", "rows"]);
    let expected: Vec<String> = back
        .iter()
        .map(|(list, df)| format!("{list}|{}", df.height()))
        .collect();
    assert_eq!(rows, expected);
}

#[test]
fn an_annex_a_csv_with_an_unterminated_quote_reports_it_and_keeps_the_rows_after() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "{LIST_3_HEADER}\n\
         R1,M,WBRI,01/01/2015,10,01/02/2025,6,N,1,Team A,Ann\n\
         R2,F,WBRI,01/01/2016,9,02/02/2025,6,N,1,\"Team B,Bob\n\
         R3,F,WBRI,01/01/2016,9,03/02/2025,6,N,1,Team C,Cy\n\
         R4,F,WBRI,01/01/2016,9,04/02/2025,6,N,1,Team D,Di\n"
    );
    std::fs::write(dir.path().join("referrals.csv"), csv).unwrap();
    let mut report = Report::default();
    let lists = read_files(&[dir.path().join("referrals.csv")], &mut report);
    let l3 = &lists[&3];
    assert_eq!(
        common::rows(l3, &["child", "team"]),
        vec!["R1|Team A", "R3|Team C", "R4|Team D"]
    );
    let broken: Vec<_> = report
        .issues
        .iter()
        .filter(|i| i.rule == "unterminated_quote")
        .map(|i| {
            (
                i.location.as_str(),
                i.field.as_str(),
                i.child.as_deref(),
                i.severity,
            )
        })
        .collect();
    assert_eq!(
        broken,
        vec![("line 3", "team", Some("R2"), Severity::Error)]
    );
    let c = &report.counts["annex_a_list_3"];
    assert_eq!((c.read, c.kept, c.rejected), (4, 3, 1));
}

/// A minimal xlsx: one sheet named `name` with the given `<sheetData>` rows (inline strings),
/// and the `<dimension>` it declares.
fn xlsx(name: &str, dimension: &str, sheet_data: &str) -> Vec<u8> {
    let sheet = format!(
        "<?xml version=\"1.0\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><dimension ref=\"{dimension}\"/><sheetData>{sheet_data}</sheetData></worksheet>"
    );
    cspi::fuzz::workbook(name, sheet.as_bytes(), None)
}

/// A row of inline-string cells from column A.
fn xlsx_row(row: u32, cells: &[&str]) -> String {
    let mut out = format!("<row r=\"{row}\">");
    for (i, text) in cells.iter().enumerate() {
        let col = (b'A' + i as u8) as char;
        out.push_str(&format!(
            "<c r=\"{col}{row}\" t=\"inlineStr\"><is><t>{text}</t></is></c>"
        ));
    }
    out.push_str("</row>");
    out
}

#[test]
fn a_workbook_declaring_the_whole_grid_is_read_by_its_real_cells() {
    // A header, one child, and one stray cell in Excel's last cell (XFD1048576), with the
    // dimension declaring the whole grid: 17 billion cells, which calamine's range reader
    // allocated (550 GB) before anything was read.
    let header: Vec<&str> = LIST_3_HEADER.split(',').collect();
    let data = format!(
        "{}{}<row r=\"1048576\"><c r=\"XFD1048576\" t=\"inlineStr\"><is><t>x</t></is></c></row>",
        xlsx_row(1, &header),
        xlsx_row(
            2,
            &[
                "W1",
                "F",
                "WBRI",
                "01/01/2015",
                "10",
                "01/02/2025",
                "6",
                "N",
                "1",
                "Team A",
                "Ann"
            ]
        )
    );
    let bytes = xlsx("Referrals", "A1:XFD1048576", &data);
    assert!(bytes.len() < 8 * 1024);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.xlsx"), &bytes).unwrap();
    let mut report = Report::default();
    let lists = read_files(&[dir.path().join("big.xlsx")], &mut report);
    assert_eq!(
        common::rows(&lists[&3], &["child", "referral_date", "team"]),
        vec!["W1|2025-02-01|Team A"]
    );
    // The stray cell is a row without a child id, reported where it is.
    let rejected: Vec<&str> = report
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| i.location.as_str())
        .collect();
    assert_eq!(rejected, vec!["sheet Referrals row 1048576"]);
}

#[test]
fn a_zip_bomb_is_refused_before_it_is_inflated() {
    // A sheet that inflates to 200 MiB (of spaces) from ~200 KB.
    let header: Vec<&str> = LIST_3_HEADER.split(',').collect();
    let data = format!("{}{}", xlsx_row(1, &header), " ".repeat(200 << 20));
    let bytes = xlsx("Referrals", "A1:K1", &data);
    assert!(bytes.len() < 1 << 20, "{}", bytes.len());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bomb.xlsx"), &bytes).unwrap();
    let mut report = Report::default();
    let lists = read_files(&[dir.path().join("bomb.xlsx")], &mut report);
    assert!(lists.is_empty());
    let issue = report
        .issues
        .iter()
        .find(|i| i.rule == "unreadable")
        .unwrap_or_else(|| panic!("{:?}", report.issues));
    assert_eq!(issue.severity, Severity::Error);
    assert!(
        issue.message.contains("would decompress to 200 MiB"),
        "{}",
        issue.message
    );
}

#[test]
fn a_corrupt_workbook_is_said_to_be_corrupt() {
    // The first 2 KB of a real workbook: the zip's directory (at its end) is missing.
    let whole = std::fs::read(common::fixture("annex_a/messy.xlsx")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.xlsx");
    std::fs::write(&path, &whole[..2048]).unwrap();
    let mut report = Report::default();
    let lists = read_files(std::slice::from_ref(&path), &mut report);
    assert!(lists.is_empty());
    assert_eq!(report.issues.len(), 1, "{:?}", report.issues);
    let issue = &report.issues[0];
    assert_eq!(
        (issue.rule, issue.severity),
        ("unreadable", Severity::Error)
    );
    assert!(issue.message.contains("corrupt"), "{}", issue.message);
    // The command says so too, instead of "no Annex A list recognised".
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cspi"))
        .args(["annex-a", "analyse"])
        .arg(&path)
        .args(["--la", "925", "--date", "2025-03-31", "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cut.xlsx"), "{stderr}");
    assert!(stderr.contains("corrupt"), "{stderr}");
}

#[test]
fn date_cells_are_read_as_excel_counts_them_around_its_phantom_29_february_1900() {
    // Date-formatted cells, which calamine reads as dates and converts itself: serial 60 is
    // the 29/02/1900 Excel's 1900 system counts but that never was, so it is not a date.
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Referrals").unwrap();
    for (c, h) in LIST_3_HEADER.split(',').enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (r, serial) in [59.0, 60.0, 61.0, 45383.0].into_iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, format!("S{serial}")).unwrap();
        sheet.write_number_with_format(r, 5, serial, &date).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dates.xlsx");
    book.save(&path).unwrap();
    let mut report = Report::default();
    let lists = read_files(&[path], &mut report);
    assert_eq!(
        common::rows(&lists[&3], &["child", "referral_date"]),
        vec![
            "S59|1900-02-28",
            "S60|",
            "S61|1900-03-01",
            "S45383|2024-04-01"
        ]
    );
    let unreadable: Vec<(&str, &str)> = report
        .issues
        .iter()
        .filter(|i| i.rule == "value")
        .map(|i| (i.location.as_str(), i.field.as_str()))
        .collect();
    assert_eq!(unreadable, vec![("sheet Referrals row 3", "referral_date")]);
}
