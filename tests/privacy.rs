//! Public packs (members'): no child-level breakdowns, a suppression floor that only a
//! documented override lowers, and secondary suppression so that no hidden figure can be
//! worked out from the shown ones — the same in HTML, PDF and workbook.
//!
//! The disclosure tests build a pack from hand-made figures for Lincolnshire (925): a long
//! table of a few rows run through the real comparison (published benchmarks, ranks, trends),
//! so every expected value below is worked out by hand from the rows.

mod common;

use std::collections::BTreeMap;

use cspi::compare::{self, Benchmarks, CompareOptions};
use cspi::derive::{FactTable, Facts};
use cspi::domain::dates::{to_epoch_days, ymd};
use cspi::indicators::catalogue::Catalogue;
use cspi::ingest::reference::{ReferenceIndex, ReferenceTables};
use cspi::pipeline::{Config, Quiet, run};
use cspi::render::content::{self, Content, Figure, PackInput, SUPPRESSED_READING};
use cspi::render::packs::{Format, Pack, SUPPRESSION_FLOOR, public_breakdowns};
use cspi::render::{html, pdf, write_pack};
use polars::prelude::*;

const LA: &str = "925";

// ---------------------------------------------------------------- breakdowns (item 2)

/// A local count of children in care split by `column` of cla_episodes.
fn split_by(column: &str) -> String {
    format!(
        "id: cla_split\ntitle: Children in care split\nshort_title: Children in care split\n\
         area: children_looked_after\nsource: cla_episodes\nunit: count\npolarity: neutral\n\
         periods: [year]\nin_period: {{open_at_end: [decom, dec]}}\ncount: children\n\
         breakdown: {column}\ndefinition: local\n"
    )
}

fn local_catalogue(files: &[(&str, &str)]) -> (tempfile::TempDir, Catalogue) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let c = Catalogue::with_local(dir.path()).unwrap();
    (dir, c)
}

fn pack_with(audience: &str, indicator: &str, extra: &str) -> String {
    format!(
        "id: x\ntitle: X\naudience: {audience}\nformats: [pdf]\n{extra}sections:\n  - area: children_looked_after\n    indicators:\n      - {{id: {indicator}, charts: [composition]}}\n"
    )
}

#[test]
fn a_members_pack_may_not_break_figures_down_by_a_child_level_column() {
    for column in ["child", "home_post", "pl_post", "urn", "dob", "decom"] {
        let (_dir, catalogue) = local_catalogue(&[("cla_split.yaml", &split_by(column))]);
        let e = Pack::parse(
            "my-packs/board.yaml",
            &pack_with("members", "cla_split", ""),
            &catalogue,
        )
        .unwrap_err();
        assert_eq!(e.file, "my-packs/board.yaml");
        assert_eq!(e.field, "sections.indicators.id");
        assert!(e.message.contains(&format!("by `{column}`")), "{e}");
        assert!(e.message.contains("could identify children"), "{e}");
        assert!(
            e.message.contains("cla_split.yaml"),
            "names the definition: {e}"
        );
        assert!(
            e.message.contains("placement_group"),
            "lists the safe ones: {e}"
        );
        // The performance team's own packs may split by anything.
        Pack::parse(
            "x.yaml",
            &pack_with("performance", "cla_split", ""),
            &catalogue,
        )
        .unwrap();
    }
    let (_dir, catalogue) = local_catalogue(&[("cla_split.yaml", &split_by("placement_group"))]);
    Pack::parse("x.yaml", &pack_with("members", "cla_split", ""), &catalogue).unwrap();
}

/// A per-child aggregate named like a safe column does not launder a child-level one.
#[test]
fn a_per_child_alias_cannot_smuggle_a_child_level_breakdown() {
    let text = split_by("placement_group").replace(
        "count: children\n",
        "count: children\nper_child:\n  placement_group: MAX(home_post)\n",
    );
    let (_dir, catalogue) = local_catalogue(&[("cla_split.yaml", &text)]);
    let e = Pack::parse("x.yaml", &pack_with("members", "cla_split", ""), &catalogue).unwrap_err();
    assert!(e.message.contains("`home_post`"), "{e}");
    // An aggregate of a safe column is a coded grouping still.
    let text = split_by("group").replace(
        "count: children\n",
        "count: children\nper_child:\n  group: MAX(placement_group)\n",
    );
    let (_dir, catalogue) = local_catalogue(&[("cla_split.yaml", &text)]);
    Pack::parse("x.yaml", &pack_with("members", "cla_split", ""), &catalogue).unwrap();
}

/// The safe list is data: every column it names is a column of its fact table, and none is an
/// identifier, a postcode, a date or an age.
#[test]
fn the_safe_breakdowns_are_real_coded_columns() {
    let list = public_breakdowns();
    assert!(list.contains_key("cla_episodes") && list.contains_key("cp_plans"));
    for (table, columns) in list {
        let t = FactTable::from_name(table).unwrap_or_else(|| panic!("no fact table {table}"));
        let schema = Facts::schema(t).unwrap();
        for c in columns {
            let dtype = schema
                .get(c)
                .unwrap_or_else(|| panic!("{table}.{c} is not a column"));
            assert!(
                matches!(dtype, DataType::String | DataType::Boolean),
                "{table}.{c} is {dtype}: a coded grouping is a code or a flag"
            );
            for bad in ["child", "post", "urn", "dob", "date", "start", "end"] {
                assert!(!c.split('_').any(|part| part == bad), "{table}.{c}");
            }
            // Age bands (age_group) are groupings; an age in years is not.
            assert!(c != "age" && !c.starts_with("age_at"), "{table}.{c}");
        }
    }
    // The shipped members' pack splits only by safe columns (context group, latest category).
    let catalogue = Catalogue::embedded().unwrap();
    assert!(Pack::embedded(&catalogue).is_ok());
}

// ---------------------------------------------------------------- the floor (item 3)

#[test]
fn a_members_pack_without_suppress_below_suppresses_below_five() {
    let catalogue = Catalogue::embedded().unwrap();
    let p = Pack::parse("x.yaml", &pack_with("members", "cla_count", ""), &catalogue).unwrap();
    assert_eq!(SUPPRESSION_FLOOR, 5);
    assert_eq!(p.suppress_below, 5);
    assert_eq!(p.show_count(2.0), "c");
    // Other audiences suppress nothing unless asked.
    let p = Pack::parse(
        "x.yaml",
        &pack_with("inspectors", "cla_count", ""),
        &catalogue,
    )
    .unwrap();
    assert_eq!(p.suppress_below, 0);
}

#[test]
fn going_below_the_floor_needs_a_documented_override() {
    let catalogue = Catalogue::embedded().unwrap();
    let parse = |extra: &str| {
        Pack::parse(
            "x.yaml",
            &pack_with("members", "cla_count", extra),
            &catalogue,
        )
    };
    for below in [0, 1, 3, 4] {
        let e = parse(&format!("suppress_below: {below}\n")).unwrap_err();
        assert_eq!(e.field, "suppress_below", "{e}");
        assert!(e.message.contains("suppression_override"), "says how: {e}");
    }
    assert_eq!(parse("suppress_below: 10\n").unwrap().suppress_below, 10);
    let with = "suppression_override: {below: 3, reason: \"the panel sees figures for each of its 12 homes\"}\n";
    let p = parse(&format!("suppress_below: 3\n{with}")).unwrap();
    assert_eq!(p.suppress_below, 3);
    let note = p.override_note().unwrap();
    assert!(
        note.contains("below 3") && note.contains("each of its 12 homes"),
        "{note}"
    );
    // The override's own value when suppress_below is left out; never further down.
    assert_eq!(parse(with).unwrap().suppress_below, 3);
    let e = parse(&format!("suppress_below: 2\n{with}")).unwrap_err();
    assert_eq!(e.field, "suppress_below");
    let e = parse("suppression_override: {below: 3, reason: \" \"}\n").unwrap_err();
    assert_eq!(e.field, "suppression_override.reason");
    let e = parse("suppression_override: {below: 5, reason: why}\n").unwrap_err();
    assert_eq!(e.field, "suppression_override.below");
    let e = Pack::parse(
        "x.yaml",
        &pack_with("inspectors", "cla_count", with),
        &catalogue,
    )
    .unwrap_err();
    assert_eq!(e.field, "suppression_override");
    // The run's config goes through the same gate.
    let mut members = Pack::embedded(&catalogue)
        .unwrap()
        .into_iter()
        .find(|p| p.id == "members")
        .unwrap();
    assert!(members.set_suppress_below(0).is_err());
    assert_eq!(members.suppress_below, 5);
    members.set_suppress_below(11).unwrap();
    assert_eq!(members.suppress_below, 11);
}

/// `suppress_below: 0` in the config of `cspi run` no longer switches the members' pack's
/// suppression off: the run stops at the packs with the field and the reason.
#[test]
fn the_config_cannot_switch_suppression_off() {
    let out = tempfile::tempdir().unwrap();
    let config = Config {
        la: Some(LA.into()),
        inputs: vec![common::fixture("indicators")],
        out: Some(out.path().to_path_buf()),
        build_packs: Some(vec!["members".into()]),
        suppress_below: Some(0),
        ..Config::default()
    };
    let e = run(&config, &Quiet).unwrap_err().to_string();
    assert!(e.contains("suppress_below") && e.contains("members"), "{e}");
    assert!(!out.path().join("packs/members.pdf").exists());
}

// ---------------------------------------------------------------- disclosure (item 4)

/// One row of the long table: (indicator, period type, start, end, breakdown, numerator,
/// denominator, value).
type Row<'a> = (
    &'a str,
    &'a str,
    (i32, u32, u32),
    (i32, u32, u32),
    Option<&'a str>,
    f64,
    Option<f64>,
    Option<f64>,
);

fn day((y, m, d): (i32, u32, u32)) -> i32 {
    to_epoch_days(ymd(y, m, d).unwrap())
}

fn values(rows: &[Row]) -> DataFrame {
    let dates = |name: &str, pick: fn(&Row) -> (i32, u32, u32)| {
        Int32Chunked::from_vec(name.into(), rows.iter().map(|r| day(pick(r))).collect())
            .into_date()
            .into_column()
    };
    let catalogue = Catalogue::embedded().unwrap();
    let unit = |id: &str| catalogue.get(id).unwrap().unit.name();
    let polarity = |id: &str| catalogue.get(id).unwrap().polarity.name();
    DataFrame::new_infer_height(vec![
        Column::new("la_code".into(), vec![LA; rows.len()]),
        Column::new(
            "indicator_id".into(),
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        ),
        Column::new(
            "period_type".into(),
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        ),
        dates("period_start", |r| r.2),
        dates("period_end", |r| r.3),
        Column::new(
            "breakdown".into(),
            rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        ),
        Column::new(
            "numerator".into(),
            rows.iter().map(|r| r.5).collect::<Vec<_>>(),
        ),
        Column::new(
            "denominator".into(),
            rows.iter().map(|r| r.6).collect::<Vec<_>>(),
        ),
        Column::new("value".into(), rows.iter().map(|r| r.7).collect::<Vec<_>>()),
        Column::new("spread".into(), vec![None::<f64>; rows.len()]),
        Column::new(
            "unit".into(),
            rows.iter().map(|r| unit(r.0)).collect::<Vec<_>>(),
        ),
        Column::new(
            "polarity".into(),
            rows.iter().map(|r| polarity(r.0)).collect::<Vec<_>>(),
        ),
        Column::new("history_complete".into(), vec![true; rows.len()]),
        Column::full_null("population_estimate".into(), rows.len(), &DataType::String),
    ])
    .unwrap()
}

/// The pieces of a pack made from hand-made rows, compared with the published benchmarks.
struct Built {
    catalogue: Catalogue,
    values: DataFrame,
    comparison: DataFrame,
    benchmarks: Benchmarks,
    options: CompareOptions,
}

fn built(rows: &[Row]) -> Built {
    let catalogue = Catalogue::embedded().unwrap();
    let index = ReferenceIndex::embedded();
    let benchmarks = Benchmarks::published(&catalogue, ReferenceTables::embedded(), index).unwrap();
    let options = CompareOptions::default();
    let values = values(rows);
    let comparison = compare::compare(&catalogue, &values, &benchmarks, index, &options).unwrap();
    Built {
        catalogue,
        values,
        comparison,
        benchmarks,
        options,
    }
}

impl Built {
    fn input(&self) -> PackInput<'_> {
        PackInput {
            la: LA,
            la_name: "Lincolnshire",
            catalogue: &self.catalogue,
            comparison: &self.comparison,
            values: &self.values,
            benchmarks: &self.benchmarks,
            index: ReferenceIndex::embedded(),
            options: &self.options,
            validation: &[],
            framework: cspi::domain::framework::Framework::CURRENT,
        }
    }

    fn pack(&self, yaml: &str) -> Pack {
        Pack::parse("test.yaml", yaml, &self.catalogue).unwrap()
    }
}

/// A members' pack (HTML, PDF and workbook) of the given indicator lines.
fn members(indicators: &str, extra: &str) -> String {
    format!(
        "id: test\ntitle: Test pack\naudience: members\nformats: [html, pdf, xlsx]\n{extra}sections:\n  - area: children_looked_after\n    indicators:\n{indicators}"
    )
}

fn figure<'a>(
    c: &'a Content,
    id: &str,
    kind: &str,
    end: (i32, u32, u32),
    group: Option<&str>,
) -> &'a Figure {
    c.figures
        .all
        .iter()
        .find(|f| {
            f.indicator_id == id
                && f.period_type.name() == kind
                && f.period_end == day(end)
                && f.breakdown.as_deref() == group
        })
        .unwrap_or_else(|| panic!("no figure {id} {kind} {end:?} {group:?}"))
}

fn item<'a>(c: &'a Content, id: &str) -> &'a content::Item {
    c.sections
        .iter()
        .flat_map(|s| &s.items)
        .find(|i| i.id == id)
        .unwrap()
}

/// The workbook's area sheet as text rows, from the xlsx written by `write_pack`.
fn workbook_rows(pack: &Pack, b: &Built, shown: &Content) -> Vec<Vec<String>> {
    use calamine::{Data, Reader, open_workbook_auto};
    let dir = tempfile::tempdir().unwrap();
    let written = write_pack(
        pack,
        &b.input(),
        shown,
        &BTreeMap::new(),
        Format::Xlsx,
        dir.path(),
    )
    .unwrap();
    let mut book = open_workbook_auto(&written[0]).unwrap();
    let sheet = book
        .worksheet_range("Children looked after and perma")
        .unwrap();
    sheet
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::Float(f) => format!("{f}"),
                    Data::DateTime(d) => format!("{}", d.as_f64()),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

const Y2024: (i32, u32, u32) = (2024, 4, 1);
const M2025: (i32, u32, u32) = (2025, 3, 31);

/// 30 children in care at 31 March 2025: 20 in foster families, 7 in children's homes and 3
/// otherwise. The 3 are hidden; with only them hidden, 30 − 20 − 7 gives them back, so the
/// next smallest group (7) is hidden too and total − shown = 30 − 20 = 10, not 3.
#[test]
fn a_breakdown_with_one_small_group_hides_a_second_group() {
    let b = built(&[
        (
            "cla_count",
            "year",
            Y2024,
            M2025,
            None,
            30.0,
            None,
            Some(30.0),
        ),
        (
            "cla_count",
            "year",
            Y2024,
            M2025,
            Some("foster"),
            20.0,
            None,
            Some(20.0),
        ),
        (
            "cla_count",
            "year",
            Y2024,
            M2025,
            Some("childrens_home"),
            7.0,
            None,
            Some(7.0),
        ),
        (
            "cla_count",
            "year",
            Y2024,
            M2025,
            Some("other"),
            3.0,
            None,
            Some(3.0),
        ),
    ]);
    let pack = b.pack(&members(
        "      - {id: cla_count, charts: [composition]}\n",
        "",
    ));
    let shown = content::build(&pack, &b.input()).unwrap();
    assert_eq!(item(&shown, "cla_count").value, "30");
    let group = |g| figure(&shown, "cla_count", "year", M2025, Some(g));
    assert!(group("other").suppressed && group("childrens_home").suppressed);
    assert_eq!(group("foster").value, Some(20.0));
    let drawn: f64 = ["foster", "childrens_home", "other"]
        .iter()
        .filter_map(|g| group(g).value)
        .sum();
    assert_eq!(30.0 - drawn, 10.0, "total − shown is not the hidden 3");
    // The chart draws no bar for either and labels both "(c)".
    let chart = &item(&shown, "cla_count").charts[0];
    for svg in [&chart.svg, chart.print.as_ref().unwrap()] {
        assert_eq!(svg.matches(" (c)").count(), 2, "{svg}");
        assert!(svg.contains("Other (c)") && svg.contains("Foster families\n"));
    }
    assert!(chart.svg.contains("homes (c)"));
    assert!(
        html::render(&shown, None, "")
            .unwrap()
            .contains("homes (c)")
    );
}

/// Children on plans rest on 3 children in 2024-25: the rate (3 × 10,000 / 147,954 = 0.2) is
/// hidden, and so are its rank among the LAs, its reading and its trend — a rank of "1 of 153"
/// would say as much as the figure.
#[test]
fn a_hidden_figure_has_no_rank_reading_or_trend() {
    let year = |y: i32, n: f64| {
        (
            "cpp_rate",
            "year",
            (y - 1, 4, 1),
            (y, 3, 31),
            None,
            n,
            Some(147_954.0),
            Some(n * 10_000.0 / 147_954.0),
        )
    };
    let b = built(&[
        year(2021, 600.0),
        year(2022, 580.0),
        year(2023, 560.0),
        year(2024, 500.0),
        year(2025, 3.0),
    ]);
    // The comparison ranked it and gave it a trend: the pack must not pass them on.
    let ranked = b
        .comparison
        .clone()
        .lazy()
        .filter(col("period_end").eq(lit(ymd(2025, 3, 31).unwrap())))
        .select([col("rank"), col("trend")])
        .collect()
        .unwrap();
    assert!(ranked.column("rank").unwrap().get(0).unwrap() != AnyValue::Null);
    assert!(ranked.column("trend").unwrap().get(0).unwrap() != AnyValue::Null);
    let pack = b.pack(&members(
        "      - {id: cpp_rate, charts: [neighbours, trend]}\n",
        "",
    ));
    let shown = content::build(&pack, &b.input()).unwrap();
    let cpp = item(&shown, "cpp_rate");
    assert_eq!(cpp.value, "c");
    assert_eq!(cpp.rank, "c");
    assert_eq!(cpp.reading, SUPPRESSED_READING);
    let latest = cpp.latest.as_ref().unwrap();
    assert!(latest.suppressed);
    assert_eq!(
        (
            latest.rank,
            &latest.trend,
            &latest.rag,
            &latest.quartile,
            latest.numerator
        ),
        (None, &None, &None, &None, None)
    );
    // 2023-24 is shown with its value, and the trend chart leaves 2024-25 out, marked "c".
    assert!(!figure(&shown, "cpp_rate", "year", (2024, 3, 31), None).suppressed);
    assert!(cpp.charts[1].svg.contains("2024-25 (c)"));
    let page = html::render(&shown, None, "").unwrap();
    // The page's data block holds every period's figure: the hidden year's is "c"
    // throughout, the year before keeps its rank.
    let data = page_data(&page);
    let figures = &data["measures"]["cpp_rate"]["figures"];
    let hidden = &figures["year|2025-03-31"];
    for field in ["value", "rank"] {
        assert_eq!(hidden[field], "c", "{field}: {hidden}");
    }
    assert_eq!(hidden["reading"], SUPPRESSED_READING);
    assert!(hidden["sort"].is_null(), "{hidden}");
    let before = &figures["year|2024-03-31"];
    assert!(
        before["rank"].as_str().unwrap().contains(" of "),
        "{before}"
    );
    let rows = workbook_rows(&pack, &b, &shown);
    let last = rows
        .iter()
        .find(|r| r[4].contains("2025") || r[4] == "45747")
        .unwrap();
    // Numerator, denominator, value, rank, of, quartile, RAG, against England: all "c".
    for col in [5, 6, 7, 12, 13, 14, 15, 16] {
        assert_eq!(last[col], "c", "column {col}: {last:?}");
    }
}

/// A percentage on a denominator of 3 says something about each of the 3 (none of them had a
/// conference in time: "0%"); 28 of 30 tells that 2 did not. Both are hidden; 15 of 30 is not;
/// a percentage of nobody is "z", not 0.
#[test]
fn a_percentage_on_a_denominator_of_three_is_hidden() {
    let pct = |y: i32, n: f64, d: f64| {
        (
            "icpc_15wd",
            "year",
            (y - 1, 4, 1),
            (y, 3, 31),
            None,
            n,
            Some(d),
            (d > 0.0).then(|| 100.0 * n / d),
        )
    };
    for (n, d, shown_as) in [
        (0.0, 3.0, "c"),
        (28.0, 30.0, "c"),
        (15.0, 30.0, "50%"),
        (0.0, 0.0, "z"),
        (0.0, 30.0, "0%"),
    ] {
        let b = built(&[pct(2025, n, d)]);
        let pack = b.pack(&members(
            "      - {id: icpc_15wd, charts: [neighbours]}\n",
            "",
        ));
        let shown = content::build(&pack, &b.input()).unwrap();
        assert_eq!(item(&shown, "icpc_15wd").value, shown_as, "{n} of {d}");
    }
}

/// Adoption A1, children adopted: 2022-23 6 children (400 days on average), 2023-24 9 (500),
/// 2024-25 2 (300); the three years together 17 (7,500 days, 441 on average). 2024-25 rests
/// on 2 children and is hidden; the window less the two other years would give it back
/// ((7,500 − 2,400 − 4,500) / (17 − 6 − 9) = 300 days for 2 children), so the smaller other
/// year (2022-23, 6 children) is hidden too. 2023-24's change on the year before (which is
/// hidden) is hidden with it.
#[test]
fn a_three_year_window_does_not_give_back_a_hidden_year() {
    let year = |y: i32, n: f64, d: f64| {
        (
            "adoption_a1",
            "year",
            (y - 1, 4, 1),
            (y, 3, 31),
            None,
            n,
            Some(d),
            Some(n / d),
        )
    };
    let b = built(&[
        year(2023, 2400.0, 6.0),
        year(2024, 4500.0, 9.0),
        year(2025, 600.0, 2.0),
        (
            "adoption_a1",
            "three_year",
            (2022, 4, 1),
            M2025,
            None,
            7500.0,
            Some(17.0),
            Some(7500.0 / 17.0),
        ),
    ]);
    let pack = b.pack(&members("      - {id: adoption_a1, charts: [trend]}\n", ""));
    let shown = content::build(&pack, &b.input()).unwrap();
    let y = |end| figure(&shown, "adoption_a1", "year", end, None);
    assert!(y(M2025).suppressed, "2 children");
    assert!(y((2023, 3, 31)).suppressed, "the complement");
    assert_eq!(y((2024, 3, 31)).value, Some(500.0));
    assert!(y((2024, 3, 31)).change_hidden);
    let window = figure(&shown, "adoption_a1", "three_year", M2025, None);
    assert_eq!(window.denominator, Some(17.0));
    // What a reader can work out from the shown figures is the two hidden years together.
    let shown_years: Vec<&Figure> = [(2023, 3, 31), (2024, 3, 31), M2025]
        .into_iter()
        .map(y)
        .filter(|f| !f.suppressed)
        .collect();
    assert_eq!(shown_years.len(), 1);
    // The workbook says the same: 2022-23's value and 2023-24's change read "c".
    let rows = workbook_rows(&pack, &b, &shown);
    let by_end = |serial: &str| {
        rows.iter()
            .find(|r| r[2] == "year" && r[4] == serial)
            .unwrap()
    };
    assert_eq!(by_end("45016")[7], "c", "2022-23"); // 31/03/2023
    assert_eq!(by_end("45382")[7], "500", "2023-24"); // 31/03/2024
    assert_eq!(by_end("45382")[18], "c", "change on a hidden year");
}

/// The same figure in several places is hidden in all of them: 30 children in care at
/// 31 March 2025 with only 3 placed in foster families known (the others' placement not
/// recorded). Hiding the 3 leaves the total as the only complement; the total is also the
/// rolling 12 months to 31 March 2025 and the snapshot at that date, and the children-in-care
/// rate counts the same 30 children: all are hidden.
#[test]
fn the_same_figure_is_hidden_wherever_it_appears() {
    let rate = Some(30.0 * 10_000.0 / 147_954.0);
    let b = built(&[
        (
            "cla_count",
            "year",
            Y2024,
            M2025,
            None,
            30.0,
            None,
            Some(30.0),
        ),
        (
            "cla_count",
            "year",
            Y2024,
            M2025,
            Some("foster"),
            3.0,
            None,
            Some(3.0),
        ),
        (
            "cla_count",
            "rolling_12m",
            Y2024,
            M2025,
            None,
            30.0,
            None,
            Some(30.0),
        ),
        (
            "cla_count",
            "snapshot",
            M2025,
            M2025,
            None,
            30.0,
            None,
            Some(30.0),
        ),
        (
            "cla_count",
            "year",
            (2023, 4, 1),
            (2024, 3, 31),
            None,
            28.0,
            None,
            Some(28.0),
        ),
        (
            "cla_rate",
            "year",
            Y2024,
            M2025,
            None,
            30.0,
            Some(147_954.0),
            rate,
        ),
    ]);
    let pack = b.pack(&members(
        "      - {id: cla_count, charts: [composition]}\n      - {id: cla_rate, charts: [neighbours]}\n",
        "",
    ));
    let shown = content::build(&pack, &b.input()).unwrap();
    for (id, kind, end) in [
        ("cla_count", "year", M2025),
        ("cla_count", "rolling_12m", M2025),
        ("cla_count", "snapshot", M2025),
        ("cla_rate", "year", M2025),
    ] {
        assert!(
            figure(&shown, id, kind, end, None).suppressed,
            "{id} {kind}"
        );
    }
    assert!(!figure(&shown, "cla_count", "year", (2024, 3, 31), None).suppressed);
    assert_eq!(item(&shown, "cla_count").value, "c");
    assert_eq!(item(&shown, "cla_rate").value, "c");
}

/// An override to 3 is stated on the cover of the PDF and at the top of the HTML, and the
/// legend explains every symbol; a figure on 3 children is then shown.
#[test]
fn an_override_is_stated_on_the_cover_with_the_legend() {
    let b = built(&[(
        "cla_count",
        "year",
        Y2024,
        M2025,
        None,
        3.0,
        None,
        Some(3.0),
    )]);
    let reason = "the corporate parenting panel reviews each of its 12 homes";
    let pack = b.pack(&members(
        "      - {id: cla_count}\n",
        &format!("suppress_below: 3\nsuppression_override: {{below: 3, reason: \"{reason}\"}}\n"),
    ));
    let shown = content::build(&pack, &b.input()).unwrap();
    assert_eq!(item(&shown, "cla_count").value, "3");
    let cover = &words(&pdf::pages(&shown)[0]);
    let page = &words(&html::render(&shown, None, "").unwrap());
    for text in [reason, "below 3 rather than DfE", "Numbers from 1 to 2"] {
        assert!(cover.contains(text), "cover: {text}");
        assert!(page.contains(text), "html: {text}");
    }
    for symbol in [
        "not available",
        "not applicable",
        "rounds to zero",
        "suppressed to protect",
    ] {
        assert!(cover.contains(symbol) && page.contains(symbol), "{symbol}");
    }
    // Without the override nothing is said about one.
    let plain = b.pack(&members("      - {id: cla_count}\n", ""));
    let shown = content::build(&plain, &b.input()).unwrap();
    assert!(shown.override_note.is_none());
    assert_eq!(item(&shown, "cla_count").value, "c");
}

/// The words of an SVG page or HTML document, tags dropped and lines joined ("DfE's" as
/// written, whatever the markup escaped).
fn words(markup: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in markup.chars() {
        match ch {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A public pack's workbook never carries the drill-down, even when asked to by a pack edited
/// in code.
#[test]
fn the_drilldown_never_reaches_a_public_workbook() {
    use calamine::{Reader, open_workbook_auto};
    let b = built(&[(
        "cla_count",
        "year",
        Y2024,
        M2025,
        None,
        30.0,
        None,
        Some(30.0),
    )]);
    let mut pack = b.pack(&members("      - {id: cla_count}\n", ""));
    pack.child_level = true;
    let shown = content::build(&pack, &b.input()).unwrap();
    let drill = DataFrame::new_infer_height(vec![
        Column::new("child".into(), vec!["L1", "L2"]),
        Column::new("home_post".into(), vec!["LN1 1AA", "LN2 2BB"]),
    ])
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let written = write_pack(
        &pack,
        &b.input(),
        &shown,
        &BTreeMap::from([("cla_count".to_string(), drill)]),
        Format::Xlsx,
        dir.path(),
    )
    .unwrap();
    let book = open_workbook_auto(&written[0]).unwrap();
    assert!(
        !book
            .sheet_names()
            .iter()
            .any(|s| s.starts_with("Children - ")),
        "{:?}",
        book.sheet_names()
    );
}

/// The data block of an HTML pack (every period's figure as the page prints it).
fn page_data(page: &str) -> serde_json::Value {
    let start = page
        .find("<script type=\"application/json\" id=\"cspi-data\">")
        .expect("a data block")
        + "<script type=\"application/json\" id=\"cspi-data\">".len();
    let end = start + page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..end]).unwrap()
}
