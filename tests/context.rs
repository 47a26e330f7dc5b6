//! The inspection context section, as Ofsted prints it, on the hand-built history in
//! tests/fixtures/indicators (children L1–L19, R1–R12; LA 925 Lincolnshire, ONS population for
//! 2024/25 147,954): each figure and its precision, the comparison date, the inspection history,
//! the population the rates use, and a template edited without Rust.

mod common;

use std::sync::OnceLock;

use chrono::NaiveDate;
use cspi::compare::context::{
    CompareWith, Context, LocalContext, Request, Template, context, load_template,
};
use cspi::derive::Facts;
use cspi::domain::framework::Framework;
use cspi::indicators::catalogue::Catalogue;
use cspi::ingest::inspections::Inspections;
use cspi::ingest::reference::{ReferenceIndex, ReferenceTables};
use cspi::ingest::returns::Hints;
use cspi::ingest::store::Store;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn store() -> &'static Store {
    static S: OnceLock<(tempfile::TempDir, Store)> = OnceLock::new();
    &S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("store"));
        cspi::ingest::ingest(&[common::fixture("indicators")], &store, &Hints::default()).unwrap();
        (dir, store)
    })
    .1
}

/// Ofsted's outcomes for LA 925 as a small table (the shipped one is real and may change).
const INSPECTIONS: &str = "la_code,date,published,kind,overall,leaders,help_and_protection,children_in_care,care_leavers,theme\n\
    925,2019-04-29,2019-06-11,ILACS Short Inspection,Outstanding,Outstanding,Good,Outstanding,,\n\
    925,2023-04-24,2023-06-14,ILACS Short Inspection,Outstanding,Outstanding,Outstanding,Outstanding,Good,\n\
    925,2024-09-17,2024-10-17,LA Monitoring visit,,,,,,Children in need/subject to a plan\n";

struct Draft<'a> {
    date: NaiveDate,
    compare: CompareWith,
    template: Template,
    local: LocalContext,
    reference: &'a ReferenceTables,
}

impl Draft<'_> {
    fn new(framework: Framework) -> Draft<'static> {
        Draft {
            date: d(2025, 3, 31),
            compare: CompareWith::Published,
            template: Template::of(framework).unwrap(),
            local: LocalContext::new(),
            reference: ReferenceTables::embedded(),
        }
    }

    fn run(&self) -> Context {
        let index = ReferenceIndex::new(self.reference).unwrap();
        let facts = Facts::new(store(), self.reference);
        let inspections = Inspections::from_csv(INSPECTIONS).unwrap();
        context(
            &Catalogue::embedded().unwrap(),
            &facts,
            &index,
            &Request {
                la: "925",
                date: self.date,
                compare: self.compare,
                template: &self.template,
                local: &self.local,
                inspections: &inspections,
                computed: None,
            },
        )
        .unwrap()
    }
}

fn has(text: &str, s: &str) {
    assert!(text.contains(s), "missing «{s}» in\n{text}");
}

#[test]
fn the_sif_section_states_each_figure_as_the_reports_print_it() {
    let mut draft = Draft::new(Framework::Sif2015);
    draft
        .local
        .insert("dcs_since".into(), "September 2021".into());
    let c = draft.run();
    let text = c.markdown();
    let has = |s: &str| has(&text, s);
    // 31 March 2025 is before DfE publishes 2024/25: compared with 31 March 2024.
    assert_eq!(c.previous, d(2024, 3, 31));
    has("Figures at 31 March 2025, compared with 31 March 2024");
    // Population: ONS mid-2024 estimate for Lincolnshire, named.
    has(
        "Approximately 147,954 children and young people under the age of 18 years live in Lincolnshire (ONS mid-year estimates (2012-2020 as revised after the 2021 census), mid-2024).",
    );
    // CIN open at 31/03/2025: R4, R7, R8, R9 = 4; at 31/03/2024: R8, R9, R10, R11 = 4.
    has(
        "At 31 March 2025, 4 children had been identified through assessment as being formally in need of a specialist children's service. This is no change from 4 at 31 March 2024.",
    );
    // Plans at 31/03/2025: R4, R7, R8, R9 = 4 → 4 × 10,000 / 147,954 = 0.27 → "0.3".
    has(
        "At 31 March 2025, 4 children and young people were the subject of a child protection plan (a rate of 0.3 per 10,000 children).",
    );
    // Looked after at 31/03/2025: L1, L2, L3, L4, L11, L13, L14 = 7 → 0.47 → "0.5"; at
    // 31/03/2024 10.
    has(
        "At 31 March 2025, 7 children are being looked after by the local authority (a rate of 0.5 per 10,000 children). This is a reduction from 10 (",
    );
    // Outside the area: 1 (L2, Nottingham) of the 5 with a known placement location: 20.0%.
    has(
        "Of this number, 1 (or 20.0%) live outside the local authority area (of those whose placement location is known).",
    );
    // Children's homes (K2): L3, in Lincolnshire. Secure children's homes (K1): none, a line of
    // their own. Foster (U1–U6): L1, L2 (U4), L11 (U6, postcode in no directory): 1 of the 2
    // known out of area.
    has("1 live in residential children's homes, of whom 0.0% live out of the authority area.");
    has("0 live in secure children's homes, of whom none live out of the authority area.");
    has(
        "3 live with foster families, of whom 50.0% (of the 2 whose placement location is known) live out of the authority area.",
    );
    has("0 live with parents, of whom none live out of the authority area.");
    has("1 children are unaccompanied asylum-seeking children.");
    // The 12 months to 31/03/2025: adopted L8, L9; SGO L12; ceased 7, of whom L11 came back
    // (1 of 7 = 14.3%); independent living L7.
    has("  - there have been 2 adoptions");
    has("1 children became subject of special guardianship orders");
    has("7 children ceased to be looked after, of whom 14.3% subsequently returned");
    has("1 children and young people ceased to be looked after and moved on to independent living");
    // Local figures: supplied ones used, the rest visible placeholders. The SIF's previous
    // inspections predate Ofsted's table: placeholders.
    has("has been in post since September 2021.");
    has("[[private_fostering:");
    has("[[previous_safeguarding_inspection:");
    assert!(!c.placeholders.contains(&"dcs_since".to_string()));
    assert!(c.placeholders.contains(&"childrens_homes".to_string()));
    assert!(c.text().contains("Children looked after in this area"));
}

#[test]
fn the_comparison_date_is_the_reports_rule_unless_the_user_chooses() {
    // 12 May 2024: the 2023/24 return is not yet published, so the reports compare with
    // 31 March 2023; the last 31 March held is 31 March 2024.
    let mut draft = Draft::new(Framework::Sif2015);
    draft.date = d(2024, 5, 12);
    assert_eq!(draft.run().previous, d(2023, 3, 31));
    draft.compare = CompareWith::LastMarch;
    let c = draft.run();
    assert_eq!(c.previous, d(2024, 3, 31));
    // Looked after at 31/03/2024: 10 (L1, L2, L4, L6, L7, L8, L9, L12, L14, L18).
    has(&c.text(), "This is ");
    has(&c.text(), " from 10 (");
    has(&c.text(), "at 31 March 2024.");
    draft.compare = CompareWith::Date(d(2023, 9, 30));
    assert!(
        draft
            .run()
            .text()
            .contains("compared with 30 September 2023")
    );
}

#[test]
fn the_ilacs_section_names_the_previous_inspections_from_ofsteds_outcomes() {
    let c = Draft::new(Framework::Ilacs2026).run();
    let text = c.text();
    has(
        &text,
        "The local authority's most recent inspection of children's services was the ILACS short inspection of April 2023, published June 2023 (overall effectiveness: outstanding; the impact of leaders on social work practice with children and families: outstanding; the experiences and progress of children who need help and protection: outstanding; the experiences and progress of children in care: outstanding; the experiences and progress of care leavers: good).",
    );
    has(
        &text,
        "The inspection before it was the ILACS short inspection of April 2019",
    );
    has(
        &text,
        "Focused visits and monitoring visits since the most recent inspection: a monitoring visit in September 2024 (children in need/subject to a plan).",
    );
    assert!(!c.placeholders.iter().any(|p| p == "previous"));
    // Before the 2019 inspection, nothing is known: a placeholder, not an invention.
    let mut early = Draft::new(Framework::Ilacs2026);
    early.date = d(2019, 3, 31);
    assert!(early.run().placeholders.iter().any(|p| p == "previous"));
}

#[test]
fn a_template_edited_by_the_user_changes_the_section_without_rust() {
    let text = Framework::Sif2015
        .context_template()
        .replace("live with foster families", "live with foster carers")
        .replace(
            "Children looked after in this area",
            "Children in our care",
        )
        .replace(
            "framework: sif2015",
            "framework: sif2015\ngroups:\n  - {group: u4, label: live with U4 foster carers, codes: [U4]}",
        );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("my_context.yaml");
    std::fs::write(&path, text).unwrap();
    let mut draft = Draft::new(Framework::Sif2015);
    draft.template = load_template(Framework::Sif2015, Some(&path)).unwrap();
    let out = draft.run().text();
    has(&out, "Children in our care");
    // Only the user's one group: U4 (L1, L2), both located, L2 in Nottingham.
    has(
        &out,
        "2 live with U4 foster carers, of whom 50.0% live out of the authority area.",
    );
    assert!(!out.contains("live in residential children's homes"));
    // A typo in a placeholder is refused before any work.
    std::fs::write(&path, "title: T\nsections:\n  - heading: H\n    lines:\n      - text: \"{cla_cuont:now:count}\"\n").unwrap();
    let t = load_template(Framework::Sif2015, Some(&path)).unwrap();
    let facts = Facts::new(store(), ReferenceTables::embedded());
    let err = context(
        &Catalogue::embedded().unwrap(),
        &facts,
        ReferenceIndex::embedded(),
        &Request {
            la: "925",
            date: d(2025, 3, 31),
            compare: CompareWith::Published,
            template: &t,
            local: &LocalContext::new(),
            inspections: Inspections::embedded(),
            computed: None,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("cla_cuont"), "{err}");
}

#[test]
fn the_users_population_sets_the_rates_and_is_named() {
    // 70,000 children instead of 147,954: 7 looked after → 1.0 per 10,000.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("population.csv");
    std::fs::write(
        &path,
        "la_code,collection_year,population_0_17,estimate\n925,2025,\"70,000\",unrevised ONS estimate\n",
    )
    .unwrap();
    let reference = ReferenceTables::embedded().with_population(&path).unwrap();
    let mut draft = Draft::new(Framework::Sif2015);
    draft.reference = &reference;
    let c = draft.run();
    let text = c.text();
    has(&text, "(a rate of 1.0 per 10,000 children)");
    has(
        &text,
        "rates per 10,000 children use unrevised ONS estimate, mid-2024",
    );
    has(&text, "Approximately 70,000 children");
    // Every rate in the values table says which estimate it used.
    let facts = Facts::new(store(), &reference);
    let e = cspi::indicators::evaluate::evaluate(
        &Catalogue::embedded().unwrap(),
        &facts,
        &[
            cspi::indicators::period::Period::year(2025),
            cspi::indicators::period::Period::year(2024),
        ],
        &cspi::indicators::evaluate::Options {
            drilldown: false,
            only: vec!["cla_rate".into(), "cla_count".into()],
        },
    )
    .unwrap();
    let rows = common::rows(
        &e.values,
        &[
            "indicator_id",
            "period_end",
            "breakdown",
            "population_estimate",
        ],
    );
    assert!(
        rows.contains(&"cla_rate|2025-03-31||unrevised ONS estimate, mid-2024".to_string()),
        "{rows:?}"
    );
    assert!(
        rows.contains(&"cla_rate|2024-03-31||ONS mid-year estimates (2012-2020 as revised after the 2021 census), mid-2023".to_string()),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .filter(|r| r.starts_with("cla_count|"))
            .all(|r| r.ends_with('|'))
    );
    // A bad row names the file, row and field; nothing is used.
    std::fs::write(&path, "la_code,mid_year,population_0_17\n925,2024,lots\n").unwrap();
    let err = ReferenceTables::embedded()
        .with_population(&path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("population.csv") && err.contains("row 2, population_0_17"),
        "{err}"
    );
}
