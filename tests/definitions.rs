//! Definitions that hinge on one fact of a child's story, each worked out by hand on a few
//! children written below as 903 returns (LA 925, collection years 2021 to 2025; each year's
//! return holds the episodes open in that year, as an LA's returns overlap):
//!
//! - long-term stability counts the same **carer**, not the same 903 placement (RNE T and U are
//!   moves with the same carer; P and B a new carer);
//! - A10 stops its clock when the child moved in with the foster carers who adopt, a same-carer
//!   move before the adoptive placement notwithstanding;
//! - a UASC row without DUC keeps the child UASC (to the 18th birthday), with a warning.

mod common;

use std::path::Path;

use chrono::NaiveDate;
use cspi::derive::Facts;
use cspi::indicators::catalogue::Catalogue;
use cspi::indicators::evaluate::{Evaluation, Options, evaluate};
use cspi::indicators::period::Period;
use cspi::ingest::canonical::CanonicalTable;
use cspi::ingest::reference::ReferenceTables;
use cspi::ingest::report::Severity;
use cspi::ingest::returns::Hints;
use cspi::ingest::store::Store;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn dmy(x: Option<NaiveDate>) -> String {
    x.map(|x| x.format("%d/%m/%Y").to_string())
        .unwrap_or_default()
}

/// One episode: (DECOM, DEC, RNE, LS, PLACE, REC).
type Episode = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

struct Child {
    id: &'static str,
    dob: &'static str,
    episodes: Vec<Episode>,
    /// A UASC row: Some(DUC), where "" is a blank DUC.
    uasc: Option<&'static str>,
    /// AD1 (DATE_INT, DATE_MATCH, FOSTER_CARE) in the return of the year of adoption.
    ad1: Option<(&'static str, &'static str, &'static str)>,
}

fn children() -> Vec<Child> {
    let c = |id, dob, episodes: Vec<Episode>| Child {
        id,
        dob,
        episodes,
        uasc: None,
        ad1: None,
    };
    vec![
        // T1: with the same foster carer since 01/01/2021; a same-carer move (RNE T) on
        //     01/01/2024 is not a new carer → stable at 31/03/2025.
        c(
            "T1",
            "2012-01-01",
            vec![
                ("2021-01-01", "2024-01-01", "S", "C2", "U4", "X1"),
                ("2024-01-01", "", "T", "C2", "U5", ""),
            ],
        ),
        // T2: a new carer (RNE P) on 01/01/2024 → not stable.
        c(
            "T2",
            "2012-01-01",
            vec![
                ("2021-01-01", "2024-01-01", "S", "C2", "U4", "X1"),
                ("2024-01-01", "", "P", "C2", "U4", ""),
            ],
        ),
        // T3: a change of legal status and of placement with the same carer (RNE U) on
        //     01/09/2023 → stable (carer since 01/06/2021).
        c(
            "T3",
            "2013-03-03",
            vec![
                ("2021-06-01", "2023-09-01", "S", "V2", "U4", "X1"),
                ("2023-09-01", "", "U", "C2", "U6", ""),
            ],
        ),
        // T4: a new carer on 01/01/2022 and a same-carer move on 01/06/2024 → with that carer
        //     since 01/01/2022 → stable.
        c(
            "T4",
            "2011-05-05",
            vec![
                ("2020-01-01", "2022-01-01", "S", "C2", "U4", "X1"),
                ("2022-01-01", "2024-06-01", "P", "C2", "U4", "X1"),
                ("2024-06-01", "", "T", "C2", "U6", ""),
            ],
        ),
        // T5: carer X from 01/01/2021, carer Y from 01/06/2022 (a same-carer move on
        //     01/06/2023), placed for adoption with new adopters (A6, RNE P) on 01/12/2024: the
        //     carer before the adoptive placement began 01/06/2022, over 2 years before
        //     31/03/2025 → stable.
        c(
            "T5",
            "2019-01-01",
            vec![
                ("2021-01-01", "2022-06-01", "S", "C2", "U4", "X1"),
                ("2022-06-01", "2023-06-01", "P", "C2", "U4", "X1"),
                ("2023-06-01", "2024-12-01", "T", "E1", "U5", "X1"),
                ("2024-12-01", "", "P", "E1", "A6", ""),
            ],
        ),
        // T6: adopted 01/12/2024 by their own foster carers (FOSTER_CARE 1). Entered care
        //     01/01/2021; moved to carer Y on 01/01/2022 (RNE P); a same-carer move on
        //     01/01/2023 (RNE T) and a legal status change on 01/06/2023 (L); placed for adoption
        //     with Y (A5, RNE T) on 01/06/2024. A10: 01/01/2021 → 01/01/2022 = 365 days (not
        //     730 to the same-carer move). A1: 01/01/2021 → 01/06/2024 = 1,247 days.
        Child {
            ad1: Some(("01/06/2022", "01/05/2024", "1")),
            ..c(
                "T6",
                "2020-01-01",
                vec![
                    ("2021-01-01", "2022-01-01", "S", "C2", "U4", "X1"),
                    ("2022-01-01", "2023-01-01", "P", "C2", "U4", "X1"),
                    ("2023-01-01", "2023-06-01", "T", "C2", "U5", "X1"),
                    ("2023-06-01", "2024-06-01", "L", "E1", "U5", "X1"),
                    ("2024-06-01", "2024-12-01", "T", "E1", "A5", "E11"),
                ],
            )
        },
        // U1: unaccompanied asylum-seeking, in care from 09/09/2024, the UASC row's DUC blank →
        //     UASC until the 18th birthday (07/07/2026): counted at 31/03/2025.
        Child {
            uasc: Some(""),
            ..c(
                "U1",
                "2008-07-07",
                vec![("2024-09-09", "", "S", "V2", "U4", "")],
            )
        },
        // U2: UASC status ceased 01/12/2024 (DUC): counted at 31/10/2024, not at 31/03/2025.
        Child {
            uasc: Some("2024-12-01"),
            ..c(
                "U2",
                "2007-10-10",
                vec![("2024-06-01", "", "S", "V2", "U4", "")],
            )
        },
    ]
}

fn csv(path: &Path, header: &str, rows: &[String]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = format!("{header}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// Each year's 903 return, as the LA would have sent it.
fn write_returns(root: &Path) {
    for year in 2021..=2025 {
        let (start, end) = (
            NaiveDate::from_ymd_opt(year - 1, 4, 1).unwrap(),
            NaiveDate::from_ymd_opt(year, 3, 31).unwrap(),
        );
        let sex = if year >= 2025 { "M" } else { "1" };
        let (mut header, mut episodes, mut uasc, mut ad1) = (vec![], vec![], vec![], vec![]);
        for c in children() {
            let dob = d(c.dob);
            let mut held = false;
            for &(decom, dec, rne, ls, place, rec) in &c.episodes {
                let (decom, dec) = (d(decom), (!dec.is_empty()).then(|| d(dec)));
                if decom > end || dec.is_some_and(|x| x < start) {
                    continue;
                }
                held = true;
                let open = dec.is_none_or(|x| x > end);
                let (dec, rec) = if open { (None, "") } else { (dec, rec) };
                let reason = if matches!(rne, "P" | "B") {
                    "CARPL"
                } else {
                    ""
                };
                episodes.push(format!(
                    "{},{},{rne},{ls},N1,{place},PR1,{},{rec},{reason},LN1 3AB,LN2 4CD,",
                    c.id,
                    dmy(Some(decom)),
                    dmy(dec)
                ));
                if rec == "E11" {
                    let (int, matched, foster) = c.ad1.unwrap();
                    ad1.push(format!(
                        "{},{},{int},{matched},{foster},2,MF,L11",
                        c.id,
                        dmy(Some(dob))
                    ));
                }
            }
            if !held {
                continue;
            }
            header.push(format!("{},{sex},{},WBRI,,,", c.id, dmy(Some(dob))));
            if let Some(duc) = c.uasc {
                let duc = (!duc.is_empty()).then(|| d(duc));
                uasc.push(format!("{},{sex},{},{}", c.id, dmy(Some(dob)), dmy(duc)));
            }
        }
        let base = root.join(format!("925/{year}/ssda903"));
        csv(
            &base.join("header.csv"),
            "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB",
            &header,
        );
        csv(
            &base.join("episodes.csv"),
            "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN",
            &episodes,
        );
        csv(&base.join("uasc.csv"), "CHILD,SEX,DOB,DUC", &uasc);
        csv(
            &base.join("ad1.csv"),
            "CHILD,DOB,DATE_INT,DATE_MATCH,FOSTER_CARE,NB_ADOPTR,SEX_ADOPTR,LS_ADOPTR",
            &ad1,
        );
    }
}

struct Run {
    evaluation: Evaluation,
    issues: Vec<cspi::ingest::report::Issue>,
}

fn run() -> &'static Run {
    static R: std::sync::OnceLock<Run> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        write_returns(&input);
        let periods = [
            Period::year(2025),
            Period::three_year(2025),
            Period::snapshot(d("2024-10-31")),
        ];
        let (evaluation, report) = common::ingest_and_evaluate(&input, &periods, &[], true);
        assert_eq!(report.errors(), 0, "{:?}", report.issues);
        Run {
            evaluation,
            issues: report.issues,
        }
    })
}

fn figure(id: &str, period: &Period) -> (f64, Option<f64>, Option<f64>) {
    common::figure(&run().evaluation.values, id, Some(period))
        .unwrap_or_else(|| panic!("{id} has no figure for {period:?}"))
}

/// The children behind a figure, sorted.
fn children_of(id: &str, period: &Period, in_numerator: bool) -> Vec<String> {
    common::drilldown_children(&run().evaluation.drilldown, id, period, in_numerator)
}

#[test]
fn long_term_stability_counts_the_same_carer_not_the_same_placement() {
    // Cohort at 31/03/2025 (under 16, in care since 30/09/2022 or before): T1–T5 (T6 adopted).
    // Stable: T1 (same-carer move T), T3 (same-carer move U), T4 (carer since 01/01/2022),
    // T5 (placed for adoption; the carer before since 01/06/2022). Not: T2 (new carer 2024).
    let year = Period::year(2025);
    assert_eq!(
        figure("cla_long_term_stability", &year),
        (4.0, Some(5.0), Some(80.0))
    );
    assert_eq!(
        children_of("cla_long_term_stability", &year, true),
        ["T1", "T3", "T4", "T5"]
    );
}

#[test]
fn a10_stops_when_the_child_moved_in_with_the_foster_carers_who_adopt() {
    let year = Period::year(2025);
    assert_eq!(figure("adoption_a10", &year).2, Some(365.0));
    // A1 stops at the adoptive placement itself (01/06/2024).
    assert_eq!(figure("adoption_a1", &year).2, Some(1247.0));
}

#[test]
fn three_or_more_placements_still_counts_same_carer_moves() {
    // DfE's own counting rule: every placement counts. In 2024/25, looked after at 31/03/2025:
    // T4 (U4 then, from 01/06/2024, U6: 2), T5 (U5 then A6: 2), others 1 → 0 of 7.
    let year = Period::year(2025);
    assert_eq!(figure("cla_3plus_placements", &year).0, 0.0);
}

#[test]
fn a_uasc_row_without_duc_keeps_the_child_uasc_with_a_warning() {
    assert_eq!(figure("cla_uasc", &Period::year(2025)).0, 1.0);
    assert_eq!(children_of("cla_uasc", &Period::year(2025), false), ["U1"]);
    // U2's status ceased 01/12/2024: both counted at 31/10/2024.
    assert_eq!(
        figure("cla_uasc", &Period::snapshot(d("2024-10-31"))).0,
        2.0
    );
    let blank: Vec<_> = run()
        .issues
        .iter()
        .filter(|i| i.field == "DUC" && i.rule == "blank")
        .collect();
    assert_eq!(blank.len(), 1, "{blank:?}");
    assert_eq!(blank[0].child.as_deref(), Some("U1"));
    assert_eq!(blank[0].severity, Severity::Warning);
    assert!(
        blank[0].message.contains("18th birthday"),
        "{}",
        blank[0].message
    );
    assert!(blank[0].message.contains("the row was kept"));
}

#[test]
fn a_903_xml_child_with_uasc_1_and_no_duc_is_uasc() {
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EXPSSDA903>\
        <CHILD><HEADER><CHILDID>X1</CHILDID><SEX>M</SEX><DOB>07/07/2008</DOB><ETHNIC>OOTH</ETHNIC>\
        <UASC>1</UASC></HEADER>\
        <EPISODE><DECOM>09/09/2024</DECOM><RNE>S</RNE><LS>V2</LS><CIN>N1</CIN><PL>U4</PL>\
        <PLACE_PROVIDER>PR1</PLACE_PROVIDER><HOME_POST>LN1 3AB</HOME_POST><PL_POST>LN2 4CD</PL_POST></EPISODE></CHILD>\
        <CHILD><HEADER><CHILDID>X2</CHILDID><SEX>F</SEX><DOB>01/01/2012</DOB><ETHNIC>WBRI</ETHNIC>\
        <UASC>0</UASC></HEADER>\
        <EPISODE><DECOM>01/05/2024</DECOM><RNE>S</RNE><LS>C2</LS><CIN>N1</CIN><PL>U4</PL>\
        <PLACE_PROVIDER>PR1</PLACE_PROVIDER><HOME_POST>LN1 3AB</HOME_POST><PL_POST>LN2 4CD</PL_POST></EPISODE></CHILD>\
        </EXPSSDA903>\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in/925/2025/ssda903.xml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, xml).unwrap();
    let store = Store::new(dir.path().join("store"));
    let outcome =
        cspi::ingest::ingest(&[dir.path().join("in")], &store, &Hints::default()).unwrap();
    let uasc = store.history(CanonicalTable::Uasc, "925").unwrap();
    assert_eq!(common::rows(&uasc, &["child", "duc", "status"]), ["X1||1"]);
    let blank: Vec<_> = outcome
        .report
        .issues
        .iter()
        .filter(|i| i.rule == "blank")
        .map(|i| (i.child.clone(), i.location.clone()))
        .collect();
    assert_eq!(
        blank,
        [(
            Some("X1".to_string()),
            "EXPSSDA903/CHILD[1]/HEADER[1]/DUC".to_string()
        )]
    );
    let facts = Facts::new(&store, ReferenceTables::embedded());
    let e = evaluate(
        &Catalogue::embedded().unwrap(),
        &facts,
        &[Period::year(2025)],
        &Options {
            drilldown: false,
            only: vec!["cla_uasc".into()],
        },
    )
    .unwrap();
    assert_eq!(
        common::figure(&e.values, "cla_uasc", Some(&Period::year(2025))).map(|f| f.0),
        Some(1.0)
    );
}

#[test]
fn each_special_guardianship_and_child_arrangements_code_reads_as_dfes_guide_says() {
    let rec = cspi::domain::codes::CodeLists::ssda903().list("REC");
    // E45–E48: special guardianship (former foster carers / other carers; relatives or friends
    // or not), from 2018/19. E43/E44: special guardianship before that, to 2017/18. E41:
    // residence or child arrangements order, every year.
    for (code, first, last, sgo) in [
        ("E41", 2013, 2027, false),
        ("E43", 2013, 2018, true),
        ("E44", 2013, 2018, true),
        ("E45", 2019, 2027, true),
        ("E46", 2019, 2027, true),
        ("E47", 2019, 2027, true),
        ("E48", 2019, 2027, true),
    ] {
        for year in 2013..=2027 {
            assert_eq!(
                rec.check(code, year).is_ok(),
                (first..=last).contains(&year),
                "{code} in {year}"
            );
        }
        let label = rec.label(code).unwrap().to_lowercase();
        assert_eq!(
            label.contains("special guardianship"),
            sgo,
            "{code}: {label}"
        );
        if !sgo {
            assert!(label.contains("child arrangement"), "{code}: {label}");
        }
    }
    assert!(
        rec.label("E45")
            .unwrap()
            .contains("former foster carers who are relatives or friends")
    );
    assert!(
        rec.label("E48")
            .unwrap()
            .contains("other carers who are not relatives or friends")
    );
    // Placed for adoption: A3/A4 with consent, A5/A6 with a placement order; A3/A5 with the
    // current foster carer.
    let place = cspi::domain::codes::CodeLists::ssda903().list("PLACE");
    for (code, order, current) in [
        ("A3", false, true),
        ("A4", false, false),
        ("A5", true, true),
        ("A6", true, false),
    ] {
        let label = place.label(code).unwrap();
        assert_eq!(
            label.contains("with placement order"),
            order,
            "{code}: {label}"
        );
        assert_eq!(
            label.contains("consent") && !label.contains("dispensed"),
            !order,
            "{code}: {label}"
        );
        assert_eq!(
            label.contains("not with current foster carer"),
            !current,
            "{code}: {label}"
        );
    }
    // A decision to place for adoption is reversed for RD1-RD4, never "adopted".
    let reversed = cspi::domain::codes::CodeLists::ssda903().list("REASON_PLACED_CEASED");
    assert!(reversed.check("E11", 2021).is_err() && reversed.check("RD1", 2021).is_ok());
}

/// A 2024/25 return where one child each leaves care with E41 and E45–E48.
#[test]
fn sgo_count_counts_every_special_guardianship_code_and_not_e41() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("in/925/2025/ssda903");
    let mut header = String::from("CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n");
    let mut episodes = String::from(
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n",
    );
    for code in ["E41", "E45", "E46", "E47", "E48"] {
        header.push_str(&format!("{code}c,M,01/01/2015,WBRI,,,\n"));
        episodes.push_str(&format!(
            "{code}c,01/05/2024,S,C2,N1,U4,PR1,01/12/2024,{code},,LN1 3AB,LN2 4CD,\n"
        ));
    }
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(base.join("header.csv"), header).unwrap();
    std::fs::write(base.join("episodes.csv"), episodes).unwrap();
    let (e, _) = common::ingest_and_evaluate(
        &dir.path().join("in"),
        &[Period::year(2025)],
        &["sgo_count"],
        true,
    );
    assert_eq!(
        common::figure(&e.values, "sgo_count", Some(&Period::year(2025))).map(|f| f.0),
        Some(4.0)
    );
    assert_eq!(
        common::drilldown_children(&e.drilldown, "sgo_count", &Period::year(2025), false),
        ["E45c", "E46c", "E47c", "E48c"]
    );
}
