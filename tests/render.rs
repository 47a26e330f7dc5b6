//! Packs: the shipped definitions load; `cspi run` on the hand-built history writes the HTML
//! packs, the members' PDF, the PNG charts and the performance workbook, each well-formed; the
//! members' pack holds no child identifiers and suppresses small numbers.

mod common;

use cspi::compare::stats::{Rag, Trend};
use cspi::indicators::catalogue::{Catalogue, Polarity, Unit};
use cspi::ingest::store::Store;
use cspi::pipeline::{Config, Quiet, analyse, run};
use cspi::render::charts::{self, ScorecardRow, ThresholdChart, ThresholdGroup};
use cspi::render::packs::{Audience, Pack};
use cspi::render::{content, pdf};

/// The fixture's children (L1–L19, L30–L38, R1–R12) as they could appear in text: alone in an element,
/// quoted, or between spaces.
fn child_id_patterns() -> Vec<String> {
    (1..=19)
        .chain(30..=38)
        .map(|i| format!("L{i}"))
        .chain((1..=12).map(|i| format!("R{i}")))
        .flat_map(|id| [format!(">{id}<"), format!("\"{id}\""), format!(" {id} ")])
        .collect()
}

/// A PNG's width and height, decoded.
fn png_size(path: &std::path::Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    let image = resvg::tiny_skia::Pixmap::decode_png(&bytes)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (image.width(), image.height())
}

/// The main job on the hand-built history (tests/fixtures/indicators) for Lincolnshire.
fn fixture_config(out: &std::path::Path) -> Config {
    Config {
        la: Some("925".into()),
        inputs: vec![common::fixture("indicators")],
        out: Some(out.to_path_buf()),
        ..Config::default()
    }
}

#[test]
fn the_shipped_packs_load_and_a_bad_one_is_rejected() {
    let catalogue = Catalogue::embedded().unwrap();
    let packs = Pack::embedded(&catalogue).unwrap();
    let ids: Vec<&str> = packs.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, vec!["members", "monthly-dashboard", "pre-inspection"]);
    let members = packs.iter().find(|p| p.id == "members").unwrap();
    assert_eq!(members.audience, Audience::Members);
    assert!(!members.child_level);
    assert_eq!(members.show_count(4.0), "c");
    assert_eq!(members.show_count(5.0), "5");
    assert_eq!(members.show_count(0.0), "0");
    let bad =
        "id: x\ntitle: X\naudience: members\nformats: [html]\nchild_level: true\nsections: []\n";
    let e = Pack::parse("x.yaml", bad, &catalogue).unwrap_err();
    assert_eq!(e.field, "child_level");
    let bad = "id: x\ntitle: X\naudience: inspectors\nformats: [html]\nsections:\n  - area: adoption\n    indicators: [{id: nope}]\n";
    let e = Pack::parse("x.yaml", bad, &catalogue).unwrap_err();
    assert!(e.message.contains("no indicator `nope`"), "{e}");
    // A rolling chart needs a rolling 12-month period; an adoption scorecard needs a measure
    // with thresholds in its section.
    let bad = "id: x\ntitle: X\naudience: inspectors\nformats: [pdf]\nsections:\n  - area: adoption\n    indicators: [{id: adoption_a1, charts: [rolling]}]\n";
    let e = Pack::parse("x.yaml", bad, &catalogue).unwrap_err();
    assert_eq!(e.field, "sections.indicators.charts");
    let bad = "id: x\ntitle: X\naudience: inspectors\nformats: [png]\nsections:\n  - area: adoption\n    charts: [adoption_scorecard]\n    indicators: [{id: adoptions_count}]\n";
    let e = Pack::parse("x.yaml", bad, &catalogue).unwrap_err();
    assert_eq!(e.field, "sections.charts");
    let good = bad.replace("adoptions_count", "adoption_a2");
    assert!(Pack::parse("x.yaml", &good, &catalogue).is_ok());
}

#[test]
fn the_main_job_writes_the_packs_and_members_see_no_child_data() {
    let out = tempfile::tempdir().unwrap();
    let config = fixture_config(out.path());
    let outcome = run(&config, &Quiet).unwrap();
    let packs = out.path().join("packs");
    for f in [
        "members.html",
        "members.pdf",
        "monthly-dashboard.html",
        "monthly-dashboard.xlsx",
        "pre-inspection.html",
    ] {
        assert!(packs.join(f).exists(), "{f}");
    }
    assert!(outcome.steps.iter().any(|s| s.step == "packs"));
    // The DfE validation report of the latest returns (child-level, beside the packs), and
    // what its errors move in the performance team's dashboard only.
    assert!(out.path().join("validation/dfe_validation.xlsx").exists());
    let dashboard = std::fs::read_to_string(packs.join("monthly-dashboard.html")).unwrap();
    assert!(dashboard.contains(" data-area=\"validation\""));
    assert!(dashboard.contains(" without them</li>"));
    for public in ["members.html", "pre-inspection.html"] {
        let page = std::fs::read_to_string(packs.join(public)).unwrap();
        assert!(!page.contains("DfE validation"), "{public}");
    }

    // HTML: one section per area of the pack, an inline SVG chart per chart asked for, no
    // scripts or external resources.
    let html = std::fs::read_to_string(packs.join("pre-inspection.html")).unwrap();
    for area in [
        "HelpAndProtection",
        "ChildrenLookedAfter",
        "Adoption",
        "CareLeavers",
    ] {
        assert!(html.contains(&format!("data-area=\"{area}\"")), "{area}");
    }
    assert!(html.contains("<svg"));
    // Funnel plots for the indicators the pack asks them for (every LA's published value and
    // denominator for 2024-25, Lincolnshire's own figure in its place).
    assert_eq!(html.matches("All areas by size").count(), 3);
    // Composition: plans at 31/03/2025 by category (R4, R8 neglect; R7 emotional; R9 physical).
    // Every chart says when: the composition is of the plans at the year's end.
    // Every chart's title (its first text) names a year, whatever the chart.
    // Every chart's title or subtitle (its first texts) names a year, and no chart has a
    // legend box (plotters draws one as a translucent white rectangle over the plot): lines
    // are labelled where they end, reference lines above the bars, bars by a key above.
    let mut titles = 0;
    for (i, _) in html.match_indices("<figure data-chart=") {
        let rest = &html[i..i + rest_end(&html[i..])];
        let heading: Vec<&str> = rest
            .split("<text")
            .skip(1)
            .take(3)
            .filter_map(|t| t.get(t.find('>')? + 1..t.find("</text>")?))
            .collect();
        let heading = heading.join(" / ");
        let has_year = heading
            .as_bytes()
            .windows(4)
            .any(|w| w.starts_with(b"20") && w.iter().all(u8::is_ascii_digit));
        assert!(has_year, "a chart title without its period: {heading}");
        assert!(
            !rest.contains("opacity=\"0.8\" fill=\"#FFFFFF\""),
            "a legend box: {heading}"
        );
        titles += 1;
    }
    assert!(titles > 10, "{titles} charts");
    assert!(html.contains(">\nNumber of children on child protection plans\n</text>"));
    assert!(html.contains(">\nBy type, at 31 March 2025\n</text>"));
    for category in ["Neglect", "Emotional abuse", "Physical abuse"] {
        assert!(html.contains(category), "{category}");
    }
    // Self-contained: the page's one script and its data block are inline, nothing is
    // fetched. (The SVG namespace URI is a name, not a fetch.)
    for fetch in [
        "<script src",
        "src=\"http",
        "href=\"http",
        "url(http",
        "<link",
        "import(",
    ] {
        assert!(!html.contains(fetch), "{fetch}");
    }
    assert_eq!(
        html.matches("<script").count(),
        2,
        "the data block and the script"
    );
    // Every chart is one image named by its alt text, which is written out beneath it.
    let mut charts = 0;
    for (i, _) in html.match_indices("<figure data-chart=\"") {
        let rest = &html[i + "<figure data-chart=\"".len()..];
        let name = &rest[..rest.find('"').unwrap()];
        assert!(
            rest.contains(&format!("<svg role=\"img\" aria-labelledby=\"alt-{name}\"")),
            "{name}"
        );
        let caption = format!("<figcaption id=\"alt-{name}\" class=\"alt visually-hidden\">");
        let alt = &rest[rest.find(&caption).unwrap() + caption.len()..];
        let alt = &alt[..alt.find("</figcaption>").unwrap()];
        assert!(alt.ends_with('.') && alt.len() > 40, "{name}: {alt}");
        charts += 1;
    }
    assert!(charts > 10, "{charts} charts");
    // The fixture's CP plans per 10,000 at 31/03/2025: 4 × 10,000 / 147,954 = 0.3 (1 dp).
    assert!(html.contains("data-indicator=\"cpp_rate\""));

    // Members: no child identifiers anywhere, and counts below 5 suppressed. The fixture's
    // children are L1–L19 and R1–R12; the figures are all on fewer than 5 children, so every
    // headline value with a numerator of 1–4 reads "c".
    let members = std::fs::read_to_string(packs.join("members.html")).unwrap();
    for pattern in child_id_patterns() {
        assert!(
            !members.contains(&pattern),
            "child id {pattern} in the members' pack"
        );
    }
    assert!(members.contains("<span class=\"value rag-"));
    // The page's data block (every period's figure) holds no child either: no drill-down.
    assert!(!members.contains("data-children=\"") && !members.contains("\"children\":"));
    assert!(dashboard.contains("data-children=\"referrals_rate\""));
    assert!(dashboard.contains("<strong>CHILD-LEVEL DATA:</strong>"));
    assert!(!members.contains("CHILD-LEVEL DATA"));
    assert!(dashboard.contains("\"children\":{\"columns\":[\"child\""));
    assert!(members.contains(">c</span>"), "small numbers suppressed");
    assert!(members.contains("shown as “c”"));
    // Composition groups of 1–4 children are drawn empty and labelled "(c)": the fixture's 7
    // children in care are 3 foster, 1 children's home, 3 other.
    assert!(members.contains("Foster families (c)"));
    assert!(!members.contains(">Foster families<"));

    // The workbook opens, has the About sheet, one sheet per area and the child-level sheets
    // clearly named.
    use calamine::{Reader, open_workbook_auto};
    let book = open_workbook_auto(packs.join("monthly-dashboard.xlsx")).unwrap();
    let sheets = book.sheet_names();
    assert_eq!(sheets[0], "About");
    for s in [
        "Help and protection",
        "Children looked after and permane",
        "Adoption",
        "Care leavers",
    ] {
        assert!(
            sheets.iter().any(|n| n.starts_with(&s[..s.len().min(31)])),
            "{s}: {sheets:?}"
        );
    }
    assert!(
        sheets.iter().any(|n| n == "Children - referrals_rate"),
        "{sheets:?}"
    );

    // Same inputs, same bytes.
    let again = tempfile::tempdir().unwrap();
    run(
        &Config {
            out: Some(again.path().to_path_buf()),
            ..config.clone()
        },
        &Quiet,
    )
    .unwrap();
    for f in [
        "packs/members.html",
        "packs/members.pdf",
        "packs/members/cpp_rate-trend.png",
        "packs/monthly-dashboard.xlsx",
        "annex_a/annex_a_925_2025-03-31.xlsx",
    ] {
        assert!(
            std::fs::read(out.path().join(f)).unwrap()
                == std::fs::read(again.path().join(f)).unwrap(),
            "{f} differs between runs"
        );
    }
}

/// The members' PDF parses, has a cover and one page per area, and what its pages say (the
/// page SVGs it is drawn from) holds no child identifiers and suppresses small numbers; every
/// PNG decodes at twice its chart's size.
#[test]
fn the_members_pdf_and_the_png_charts_are_well_formed() {
    let out = tempfile::tempdir().unwrap();
    let config = fixture_config(out.path());
    run(&config, &Quiet).unwrap();
    let packs = out.path().join("packs");

    let bytes = std::fs::read(packs.join("members.pdf")).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let doc = hayro_syntax::Pdf::new(bytes).expect("the PDF parses");
    // Cover + help and protection, children looked after, adoption, care leavers.
    assert_eq!(doc.pages().len(), 5);

    let store = Store::new(out.path().join("store"));
    let analysis = analyse(&config, &store, "925", out.path(), &Quiet).unwrap();
    let catalogue = &analysis.plan.catalogue;
    let members = Pack::embedded(catalogue)
        .unwrap()
        .into_iter()
        .find(|p| p.id == "members")
        .unwrap();
    let shown = content::build(&members, &analysis.pack_input()).unwrap();
    let pages = pdf::pages(&shown);
    assert_eq!(pages.len(), 5);
    assert!(pages[0].contains("Contents") && pages[0].contains("Lincolnshire"));
    for (page, heading) in pages[1..].iter().zip([
        "Help and protection",
        "Children looked after",
        "Adoption",
        "Care leavers",
    ]) {
        assert!(page.contains(heading), "{heading}");
        assert!(page.contains("page "), "footer");
    }
    for (i, page) in pages.iter().enumerate() {
        for pattern in child_id_patterns() {
            assert!(!page.contains(&pattern), "child id {pattern} on page {i}");
        }
    }
    // Every figure of the fixture rests on fewer than 5 children: values read "c" (set in
    // the value's 18-point type), and the readings are whole sentences.
    assert!(pages[1].contains("font-weight=\"bold\" fill=\"#1d3f6e\">c</text>"));
    assert!(pages[1].contains("similar areas"));
    // A suppressed figure is not drawn either: Lincolnshire's bar among its neighbours is
    // empty and labelled "(c)" (3+ placements rests on fewer than 5 children; the name in
    // full beside its bar, on screen as in print).
    let moves = shown
        .sections
        .iter()
        .flat_map(|s| &s.items)
        .find(|i| i.id == "cla_3plus_placements")
        .unwrap();
    assert_eq!(moves.value, "c");
    for chart in &moves.charts {
        assert!(chart.svg.contains("Lincolnshire (c)"), "{}", chart.name);
        assert!(chart.print.as_ref().unwrap().contains("Lincolnshire (c)"));
    }
    // The adoption scorecard: the fixture's 3 adoptions in 2022-25 (L10, L8, L9) are too few
    // to show, so A1's bar is suppressed; the threshold for periods ending 2025 (426 days) is
    // drawn.
    let adoption = shown
        .sections
        .iter()
        .find(|s| s.heading.starts_with("Adoption"))
        .unwrap();
    let chart = &adoption.charts[0].svg;
    assert!(chart.contains("threshold 426"), "{chart}");
    assert!(chart.contains("A1 (legacy): care to new family (c)"));

    // PNGs: every chart of the members' pack, at twice its SVG size.
    let dir = packs.join("members");
    let names: Vec<String> = shown.charts().map(|c| c.name.clone()).collect();
    assert!(names.contains(&"referrals_rate-neighbours".to_string()));
    assert!(names.contains(&"adoption-adoption-scorecard".to_string()));
    for c in shown.charts() {
        let (w, h, _) = cspi::render::svg::inner(&c.svg).unwrap();
        assert_eq!(
            png_size(&dir.join(format!("{}.png", c.name))),
            (2 * w as u32, 2 * h as u32),
            "{}",
            c.name
        );
    }
    assert_eq!(
        png_size(&dir.join("referrals_rate-neighbours.png")),
        (1440, 760)
    );
    assert_eq!(png_size(&dir.join("cpp_rate-trend.png")), (1440, 640));
    // The pre-inspection pack's scorecards: 960 wide, a row per indicator of the area.
    let scorecard = packs.join("pre-inspection/help_and_protection-scorecard.png");
    assert_eq!(png_size(&scorecard), (1920, 2 * (40 + 24 * 11 + 10)));
}

/// `build_packs` picks packs by id; an unknown id is an error naming the packs there are.
#[test]
fn only_the_packs_asked_for_are_built() {
    let out = tempfile::tempdir().unwrap();
    let config = Config {
        build_packs: Some(vec!["members".into()]),
        ..fixture_config(out.path())
    };
    run(&config, &Quiet).unwrap();
    let mut built: Vec<String> = std::fs::read_dir(out.path().join("packs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    built.sort();
    assert_eq!(built, ["members", "members.html", "members.pdf"]);
    let config = Config {
        build_packs: Some(vec!["board".into()]),
        ..config
    };
    let e = run(&config, &Quiet).unwrap_err().to_string();
    assert!(
        e.contains("no pack `board`") && e.contains("pre-inspection"),
        "{e}"
    );
}

/// The scorecard table and the adoption scorecard chart, from hand-made figures.
#[test]
fn the_scorecard_table_and_the_adoption_scorecard_chart_say_what_they_are_given() {
    assert_eq!(
        charts::trend_arrow(Some(Trend::Improving), Polarity::Low),
        "↓ improving"
    );
    assert_eq!(
        charts::trend_arrow(Some(Trend::Improving), Polarity::High),
        "↑ improving"
    );
    assert_eq!(
        charts::trend_arrow(Some(Trend::Worsening), Polarity::Low),
        "↑ worsening"
    );
    assert_eq!(
        charts::trend_arrow(Some(Trend::Worsening), Polarity::High),
        "↓ worsening"
    );
    assert_eq!(
        charts::trend_arrow(Some(Trend::Stable), Polarity::High),
        "→ steady"
    );
    // No trend yet: DfE's "x" (not available), like every other missing cell.
    assert_eq!(charts::trend_arrow(None, Polarity::High), "x");

    let card = charts::Scorecard {
        title: "Help and protection: at a glance".into(),
        rows: vec![
            ScorecardRow {
                indicator: "Children on child protection plans".into(),
                value: "38.2".into(),
                sn: "41.0".into(),
                england: "41.6".into(),
                rank: "3 of 11".into(),
                quartile: "A".into(),
                rag: charts::RagCell::Rated(Rag::Green),
                trend: "↓ improving".into(),
            },
            ScorecardRow {
                indicator: "A title far too long to fit in the indicator column of the table, cut"
                    .into(),
                value: "c".into(),
                rag: charts::RagCell::Rated(Rag::Red),
                ..ScorecardRow::default()
            },
        ],
    };
    let svg = charts::scorecard_svg(&card).unwrap();
    // The PDF's alternate text for the image: every cell, named by its column.
    assert_eq!(
        charts::scorecard_alt(&card),
        "Scorecard of 2 measures for Help and protection: at a glance. Children on child \
         protection plans: This area 38.2, Similar areas 41.0, England 41.6, Rank 3 of 11, \
         Quartile A, RAG Green, Trend ↓ improving; A title far too long to fit in the \
         indicator column of the table, cut: This area c, RAG Red."
    );
    for cell in [
        "38.2",
        "41.0",
        "41.6",
        "3 of 11",
        ">\nA\n<",
        "Green",
        "Red",
        "↓ improving",
    ] {
        assert!(svg.contains(cell), "{cell}");
    }
    assert!(svg.contains("…"), "long titles are cut");
    assert!(svg.contains("height=\"122\""), "40 + 24 × 3 rows + 10");

    let adoption = ThresholdChart {
        title: "How long children wait to be adopted".into(),
        period: "3 years to 31 March 2025".into(),
        unit: Unit::MeanDays,
        groups: vec![
            ThresholdGroup {
                label: "A1: care to new family".into(),
                la: Some(410.0),
                sn: Some(450.4),
                england: Some(470.0),
                threshold: Some((426.0, "2013-16 threshold and after".into())),
            },
            ThresholdGroup {
                label: "A2: authority to match".into(),
                la: None,
                sn: Some(180.0),
                england: Some(190.0),
                threshold: Some((121.0, String::new())),
            },
        ],
    };
    let svg = charts::thresholds_svg(&adoption).unwrap();
    assert_eq!(
        charts::thresholds_alt(&adoption),
        "How long children wait to be adopted, 3 years to 31 March 2025 (lower is better). \
         A1: care to new family: this area 410 days (average), similar areas 450 days \
         (average), England 470 days (average), threshold 426 days (average); A2: authority \
         to match: this area no figure, similar areas 180 days (average), England 190 days \
         (average), threshold 121 days (average)."
    );
    for text in [
        "A1: care to new family",
        "A2: authority to match",
        ">\n410\n<",
        ">\n450\n<",
        ">\n470\n<",
        "threshold 426",
        "threshold 121",
        "3 years to 31 March 2025",
        "Threshold",
        "This area",
    ] {
        assert!(svg.contains(text), "{text}");
    }
    // PNG and the embedded font: the chart rasterises at twice its size.
    let png = cspi::render::svg::png(&svg, 2.0).unwrap();
    let image = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
    assert_eq!((image.width(), image.height()), (1440, 760));
}

/// Runs one of the browser scripts in tests/browser (Node, driving Debian's Chromium over the
/// DevTools protocol) and fails with its output when it fails.
fn browser_script(script: &str, args: &[&std::path::Path], extra: &[&str]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let result = std::process::Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .args(extra)
        .output()
        .expect("node runs (installed by .ci/run)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    println!("{said}");
    assert!(result.status.success(), "{script} failed:\n{said}");
}

/// The packs' pages driven in headless Chromium with real mouse and keyboard input
/// (tests/browser/dashboard.mjs): tabs by click and arrow keys, the index's search and links,
/// the period selector (each measure then shows the engine's figure for the month chosen),
/// sorting a neighbour table, a tooltip shown and dismissed, and the drill-down opened and
/// filtered — which only the performance team's page has.
#[test]
#[ignore = "needs node and Debian's chromium (installed by .ci/run)"]
fn the_packs_work_in_a_headless_browser() {
    let out = tempfile::tempdir().unwrap();
    run(&fixture_config(out.path()), &Quiet).unwrap();
    let packs = out.path().join("packs");
    browser_script(
        "dashboard.mjs",
        &[&packs.join("monthly-dashboard.html")],
        &["performance"],
    );
    browser_script("dashboard.mjs", &[&packs.join("members.html")], &["public"]);
}

/// Every HTML pack meets WCAG 2.2 AA as axe-core checks it in headless Chromium
/// (tests/browser/axe.mjs): zero violations as opened, and after another tab, another period
/// and every collapsed part opened.
#[test]
#[ignore = "needs node, Debian's chromium and axe-core (`npm ci --prefix tests/browser`; .ci/run does it)"]
fn every_html_pack_passes_axe() {
    let out = tempfile::tempdir().unwrap();
    run(&fixture_config(out.path()), &Quiet).unwrap();
    let packs = out.path().join("packs");
    let pages: Vec<std::path::PathBuf> = ["members", "monthly-dashboard", "pre-inspection"]
        .iter()
        .map(|p| packs.join(format!("{p}.html")))
        .collect();
    let pages: Vec<&std::path::Path> = pages.iter().map(|p| p.as_path()).collect();
    browser_script("axe.mjs", &pages, &[]);
}

/// The members' PDF read back by poppler's pdftotext: the text is real (selectable, in the
/// embedded font), the areas are there and no child identifier is.
#[test]
#[ignore = "needs poppler-utils' pdftotext (installed by .ci/run)"]
fn the_members_pdf_text_reads_back_without_child_identifiers() {
    let out = tempfile::tempdir().unwrap();
    run(&fixture_config(out.path()), &Quiet).unwrap();
    let result = std::process::Command::new("pdftotext")
        .arg(out.path().join("packs/members.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(result.status.success());
    let text = String::from_utf8_lossy(&result.stdout);
    for heading in [
        "Contents",
        "Lincolnshire",
        "Help and protection",
        "Adoption",
        "Care leavers",
        "shown as “c”",
    ] {
        assert!(text.contains(heading), "{heading}: {text}");
    }
    assert_eq!(text.matches('\u{c}').count(), 5, "5 pages");
    for id in (1..=19)
        .map(|i| format!("L{i}"))
        .chain((1..=12).map(|i| format!("R{i}")))
    {
        assert!(
            !text.split_whitespace().any(|w| w == id),
            "child id {id} in the members' PDF"
        );
    }
}

/// The members' PDF read back by poppler's pdfinfo: it is tagged, and its structure tree has
/// the pack's title, each area's heading, the comparison figures as tables with header cells
/// and a figure for every chart drawn (the pack writes a PNG of each).
#[test]
#[ignore = "needs poppler-utils' pdfinfo (installed by .ci/run)"]
fn the_members_pdf_is_tagged_with_headings_tables_and_a_figure_per_chart() {
    let out = tempfile::tempdir().unwrap();
    run(&fixture_config(out.path()), &Quiet).unwrap();
    let pdf = out.path().join("packs/members.pdf");
    let pdfinfo = |flags: &[&str]| {
        let result = std::process::Command::new("pdfinfo")
            .args(flags)
            .arg(&pdf)
            .output()
            .expect("pdfinfo runs");
        assert!(result.status.success());
        String::from_utf8_lossy(&result.stdout).into_owned()
    };
    let info = pdfinfo(&[]);
    assert!(
        info.lines()
            .any(|l| l.split_whitespace().eq(["Tagged:", "yes"])),
        "{info}"
    );
    // One element a line, indented by depth: `H2 "Adoption" (block)`, `TH:` (with attributes
    // below), or the element's text in quotes.
    let tree = pdfinfo(&["-struct-text"]);
    let count = |element: &str| {
        tree.lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|first| first.trim_end_matches(':') == element)
            .count()
    };
    for element in [
        "Document", "H1", "H2", "H3", "P", "Sect", "Figure", "Table", "TR", "TH", "TD", "TOC",
        "TOCI", "L", "LI",
    ] {
        assert!(count(element) > 0, "no {element}: {tree}");
    }
    assert_eq!(count("H1"), 1, "the pack's title");
    assert_eq!(
        count("TH"),
        count("TD"),
        "a header for every figure of a table"
    );
    for heading in [
        "Help and protection",
        "Children looked after and permanence",
        "Adoption",
        "Care leavers",
    ] {
        let h2 = format!("H2 \"{heading}\"");
        assert!(
            tree.lines().any(|l| l.trim_start().starts_with(&h2)),
            "{heading}: {tree}"
        );
    }
    let charts = std::fs::read_dir(out.path().join("packs/members"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    assert!(charts >= 10, "{charts} charts");
    assert_eq!(count("Figure"), charts, "a figure per chart");
}

/// The rows of an Annex A workbook's sheet, header left out.
fn list_rows(path: &std::path::Path, sheet: &str) -> usize {
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto(path).unwrap();
    let range = book.worksheet_range(sheet).unwrap();
    range
        .rows()
        .skip(1)
        .filter(|r| r.iter().any(|c| !c.to_string().is_empty()))
        .count()
}

/// The header row of an Annex A workbook's sheet.
fn sheet_header(path: &std::path::Path, name: &str) -> Vec<String> {
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto(path).unwrap();
    let range = book.worksheet_range(name).unwrap();
    range
        .rows()
        .next()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn each_framework_gives_its_own_packs_context_and_annex_a() {
    let run_with = |framework: &str| {
        let out = tempfile::tempdir().unwrap();
        let config = Config {
            framework: Some(framework.into()),
            build_packs: Some(vec!["pre-inspection".into()]),
            ..fixture_config(out.path())
        };
        run(&config, &Quiet).unwrap();
        let read = |rel: &str| std::fs::read_to_string(out.path().join(rel)).unwrap();
        let html = read("packs/pre-inspection.html");
        let context = read("context/context_925_2025-03-31.txt");
        let workbook = out.path().join("annex_a/annex_a_925_2025-03-31.xlsx");
        let lists = (
            list_rows(&workbook, "List 3"),
            sheet_header(&workbook, "List 9"),
            list_rows(&workbook, "List 6"),
        );
        let enquiries = read("packs/pre-inspection_lines_of_enquiry_CHILD_LEVEL.csv");
        let comparison = read("comparison/comparison_published.csv");
        (html, context, lists, enquiries + &comparison, out)
    };
    let (sif_html, sif_context, sif_lists, sif_files, _sif) = run_with("sif2015");
    // The comparison table's rows carry their framework's judgement.
    assert!(sif_files.contains("Children looked after and achieving permanence"));
    let (ilacs_html, ilacs_context, ilacs_lists, enquiries, _ilacs) = run_with("ilacs2026");
    // Packs: each area under its framework's judgement.
    assert!(sif_html.contains(
        "Inspection judgement, Single inspection framework (2015): Children looked after and achieving permanence"
    ));
    assert!(ilacs_html.contains(
        "Inspection judgement, Inspecting local authority children&#39;s services (ILACS, 2026): The experiences and progress of children in care"
    ) || ilacs_html.contains(
        "Inspection judgement, Inspecting local authority children's services (ILACS, 2026): The experiences and progress of children in care"
    ), "{ilacs_html}");
    assert!(ilacs_html.contains("The experiences and progress of care leavers"));
    assert!(!sif_html.contains("The experiences and progress of care leavers"));
    // Context: the SIF's section with its two previous inspections as placeholders (Ofsted's
    // table starts in 2018); ILACS with Lincolnshire's April 2023 inspection from Ofsted's
    // published outcomes.
    assert!(sif_context.starts_with("Information about this local authority area: Lincolnshire"));
    assert!(sif_context.contains("[[previous_safeguarding_inspection:"));
    assert!(ilacs_context.starts_with("The local authority's context: Lincolnshire"));
    assert!(ilacs_context.contains(
        "most recent inspection of children's services was the ILACS short inspection of April 2023, published June 2023 (overall effectiveness: outstanding;"
    ), "{ilacs_context}");
    // Annex A: referrals over 3 months (SIF: R3's of 31/03/2025) or 6 (ILACS: R12's of
    // 20/10/2024 too).
    assert_eq!((sif_lists.0, ilacs_lists.0), (1, 2));
    // Care leavers: ILACS's list 9 asks for the personal adviser, the pathway plan review, the
    // latest contact and UASC or former UASC; the 2015 list does not.
    for h in [
        "Allocated Personal Advisor",
        "Latest Pathway Plan Review Date",
        "Latest Date of Contact",
        "Unaccompanied Asylum Seeking Child (UASC), or formerly UASC if 18 or over (Y/N)",
    ] {
        assert!(
            ilacs_lists.1.iter().any(|c| c == h),
            "{h}: {:?}",
            ilacs_lists.1
        );
        assert!(!sif_lists.1.iter().any(|c| c == h), "{h}");
    }
    let hmo = "Living in housing of multiple occupancy?";
    assert!(sif_lists.1.iter().any(|c| c == hmo) && !ilacs_lists.1.iter().any(|c| c == hmo));
    // Children in need closed before the date: 3 months under the SIF, 6 under ILACS, so R6's
    // episode closed 31/12/2024 is listed only under ILACS.
    assert_eq!(ilacs_lists.2, sif_lists.2 + 1);
    // Lines of enquiry: the pack says how many; the children are in the child-level file only.
    assert!(ilacs_html.contains("Lines of enquiry from the data"));
    // The pack says which population its rates are over.
    assert!(ilacs_html.contains(
        "Rates per 10,000 children use ONS mid-year estimates (2012-2020 as revised after the 2021 census)"
    ));
    assert!(enquiries.contains(",The experiences and progress of care leavers,"));
    // Missing in the 12 months to 31/03/2025: L2, L3 (cla_missing's hand-worked figure).
    assert!(
        enquiries
            .lines()
            .any(|l| l.contains(",cla_missing,") && l.ends_with(",L2")),
        "{enquiries}"
    );
    assert!(
        enquiries
            .lines()
            .any(|l| l.contains(",cla_missing,") && l.ends_with(",L3"))
    );
    // Assessments open past 45 working days at 31/03/2025: R7's.
    assert!(
        enquiries
            .lines()
            .any(|l| l.contains(",assessments_open_over_45wd,") && l.ends_with(",R7")),
        "{enquiries}"
    );
    for id in child_id_patterns() {
        assert!(!ilacs_html.contains(&id), "the pack names a child: {id}");
    }
}

/// Every case of the one-sentence reading, worked by hand: the standing against similar areas
/// (else England) within 5% is "in line"; a movement against the standing takes "but"; with
/// nothing to compare against the sentence says so once, never "No comparison … and rising".
#[test]
fn readings_are_natural_sentences_in_every_case() {
    let catalogue = Catalogue::embedded().unwrap();
    // A1 days: lower is better; A3 %: higher is better; CIN count: neutral.
    let (low, high, neutral) = (
        catalogue.get("adoption_a1").unwrap(),
        catalogue.get("adoption_a3").unwrap(),
        catalogue.get("cin_count").unwrap(),
    );
    assert_eq!(
        (low.polarity, high.polarity, neutral.polarity),
        (Polarity::Low, Polarity::High, Polarity::Neutral)
    );
    let fig = |value: Option<f64>, sn: Option<f64>, england: Option<f64>, trend| content::Figure {
        value,
        sn_mean: sn,
        england,
        trend,
        ..content::Figure::default()
    };
    let cases = [
        // 400 days against 500: 20% better for a lower-is-better measure.
        (
            low,
            fig(Some(400.0), Some(500.0), None, Some(Trend::Improving)),
            "Better than similar areas and improving.",
        ),
        (
            low,
            fig(Some(600.0), Some(500.0), None, Some(Trend::Improving)),
            "Worse than similar areas but improving.",
        ),
        (
            low,
            fig(Some(400.0), Some(500.0), None, Some(Trend::Worsening)),
            "Better than similar areas but getting worse.",
        ),
        // 510 against 500: 2%, in line.
        (
            low,
            fig(Some(510.0), Some(500.0), None, Some(Trend::Stable)),
            "In line with similar areas and steady.",
        ),
        (
            high,
            fig(Some(60.0), Some(50.0), None, None),
            "Better than similar areas.",
        ),
        // No neighbour figure: against England's, 60 is 14% below 70, worse when higher is better.
        (
            high,
            fig(Some(60.0), None, Some(70.0), Some(Trend::Worsening)),
            "Worse than England and getting worse.",
        ),
        (
            neutral,
            fig(Some(120.0), Some(100.0), None, Some(Trend::Rising)),
            "Higher than similar areas and rising.",
        ),
        (
            neutral,
            fig(Some(80.0), Some(100.0), Some(90.0), Some(Trend::Falling)),
            "Lower than similar areas and falling.",
        ),
        (
            neutral,
            fig(Some(101.0), Some(100.0), None, None),
            "About the same as similar areas.",
        ),
        (
            high,
            fig(Some(60.0), None, None, Some(Trend::Improving)),
            "Improving; no comparison with similar areas or England yet.",
        ),
        (
            neutral,
            fig(Some(60.0), None, None, Some(Trend::Rising)),
            "Rising; no comparison with similar areas or England yet.",
        ),
        (
            high,
            fig(Some(60.0), None, None, None),
            "No comparison with similar areas or England yet.",
        ),
        (
            high,
            fig(None, Some(50.0), None, Some(Trend::Improving)),
            "No figure for this period.",
        ),
    ];
    for (def, f, expected) in cases {
        assert_eq!(content::reading(def, &f), expected, "{}: {f:?}", def.id);
    }
    let hidden = content::Figure {
        suppressed: true,
        ..fig(Some(3.0), Some(50.0), None, Some(Trend::Improving))
    };
    assert_eq!(content::reading(high, &hidden), content::SUPPRESSED_READING);
}

/// The bar chart as the analysis standard asks, worked on a three-bar chart: the period in the
/// title, each bar's value written on it, whole-number ticks, no legend box when there is no
/// reference line to explain, and a print caption that fits (no "neither higher nor lower").
#[test]
fn bar_charts_say_when_and_label_their_bars() {
    let chart = |england: Option<f64>| charts::NeighbourChart {
        title: "Children in care".into(),
        period: "at 31 March 2025".into(),
        note: charts::polarity_note(Polarity::Neutral).into(),
        unit: Unit::RatePer10k,
        decimals: 1,
        polarity: Polarity::Neutral,
        bars: vec![
            ("Wakefield".into(), Some(89.0), false),
            ("Lincolnshire".into(), Some(47.6), true),
            ("Dudley (c)".into(), None, false),
        ],
        interval: Some((41.0, 54.5)),
        england,
        region: None,
    };
    let text = |svg: &str| -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| Some(t[t.find('>')? + 1..t.find("</text>")?].trim().to_string()))
            .collect()
    };
    let screen = charts::neighbour_svg(&chart(None), charts::Canvas::screen(380)).unwrap();
    let words = text(&screen);
    // The title says what, the subtitle when and how to read it.
    assert_eq!(words[0], "Children in care");
    assert_eq!(
        words[1],
        "Similar areas, at 31 March 2025 (neither higher nor lower is better)"
    );
    for label in ["89.0", "47.6"] {
        assert!(words.iter().any(|w| w == label), "{label}: {words:?}");
    }
    // The hidden bar has no value to write; ticks are whole numbers.
    assert!(words.iter().any(|w| w == "50") && !words.iter().any(|w| w == "50.0"));
    // Names in full beside their bars, the hidden one with its mark.
    for name in ["Wakefield", "Lincolnshire", "Dudley (c)"] {
        assert!(words.iter().any(|w| w == name), "{name}");
    }
    assert!(
        !words.iter().any(|w| w.starts_with("England")),
        "a label for a line not drawn"
    );
    // The reference line is labelled where it is, with its value.
    let with_england = charts::neighbour_svg(&chart(Some(67.0)), charts::Canvas::screen(380));
    assert!(
        text(&with_england.unwrap())
            .iter()
            .any(|w| w == "England 67.0")
    );
    let print = charts::neighbour_svg(&chart(None), charts::Canvas::PRINT).unwrap();
    let words = text(&print);
    assert_eq!(words[0], "Similar areas, at 31 March 2025");
    assert!(words.iter().any(|w| w == "47.6"), "{words:?}");
}

/// Where a chart's markup ends: at its figure's close.
fn rest_end(rest: &str) -> usize {
    rest.find("</figure>").unwrap_or(rest.len())
}

/// The National Framework section: with no indicators named it lists every definition of
/// data/national_framework.yaml (each in the catalogue), under its outcome or enabler in the
/// framework's order; named indicators are sorted into their groups, may repeat another
/// section's but not one of its own, and the page it makes has no id twice.
#[test]
fn the_national_framework_section_groups_measures_as_the_dashboard_does() {
    use cspi::domain::national_framework::NationalFramework;
    let catalogue = Catalogue::embedded().unwrap();
    let framework = NationalFramework::embedded();
    for m in framework.groups.iter().flat_map(|g| &g.measures) {
        assert!(catalogue.get(m).is_some(), "{m} is not in the catalogue");
    }
    let pack = |sections: &str| {
        Pack::parse(
            "x.yaml",
            &format!(
                "id: x\ntitle: X\naudience: performance\nformats: [html]\nsections:\n{sections}"
            ),
            &catalogue,
        )
    };
    let all = pack("  - area: national_framework\n").unwrap();
    let items = &all.sections[0].indicators;
    let expected: Vec<&str> = framework
        .groups
        .iter()
        .flat_map(|g| g.measures.iter().map(String::as_str))
        .collect();
    assert_eq!(
        items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(
        items[0].group.as_deref(),
        Some(framework.groups[0].title.as_str())
    );
    // Named: sorted into the groups (outcome 4's stability after outcome 1's referrals).
    let named = pack(
        "  - area: help_and_protection\n    indicators: [{id: referrals_rate}]\n  - area: national_framework\n    indicators: [{id: cla_3plus_placements}, {id: referrals_rate}]\n",
    )
    .unwrap();
    let ids: Vec<&str> = named.sections[1]
        .indicators
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(ids, ["referrals_rate", "cla_3plus_placements"]);
    let twice =
        pack("  - area: national_framework\n    indicators: [{id: cin_rate}, {id: cin_rate}]\n");
    assert!(twice.unwrap_err().message.contains("listed twice"));
    let twice = pack(
        "  - area: help_and_protection\n    indicators: [{id: cin_rate}]\n  - area: adoption\n    indicators: [{id: cin_rate}]\n",
    );
    assert!(twice.unwrap_err().message.contains("listed twice"));

    // The performance team's page: the section's headings in order, and every id once.
    let out = tempfile::tempdir().unwrap();
    run(&fixture_config(out.path()), &Quiet).unwrap();
    let page = std::fs::read_to_string(out.path().join("packs/monthly-dashboard.html")).unwrap();
    let headings: Vec<&str> = page
        .split("<h3 class=\"group\">")
        .skip(1)
        .map(|h| &h[..h.find("</h3>").unwrap()])
        .collect();
    let titles: Vec<&str> = framework
        .groups
        .iter()
        .filter(|g| !g.measures.is_empty() || !g.published.is_empty())
        .map(|g| g.title.as_str())
        .collect();
    assert_eq!(headings, titles);
    // Workforce, from DfE's published figures only: Lincolnshire's social worker turnover
    // in LAIT's latest year, its 2025 neighbours' average and England's, as the index holds them.
    let index = cspi::ingest::reference::ReferenceIndex::embedded();
    let measure = "lait:Work_Force_TO_Rate";
    let year = (2015..=2030)
        .rev()
        .find(|y| {
            index
                .published(measure, "925", *y)
                .and_then(|p| p.value)
                .is_some()
        })
        .unwrap();
    let value = |code: &str| index.published(measure, code, year).and_then(|p| p.value);
    let neighbours: Vec<f64> = index
        .neighbours(2025, "925")
        .iter()
        .filter_map(|n| value(n))
        .collect();
    let mean = neighbours.iter().sum::<f64>() / neighbours.len() as f64;
    let row = format!(
        "<tr data-published=\"Work_Force_TO_Rate\"><th scope=\"row\">Percentage rate of social worker turnover</th><td>{}-{:02}</td><td>{:.1}%</td><td>{:.1}%</td><td>{:.1}%</td></tr>",
        year - 1,
        year % 100,
        value("925").unwrap(),
        mean,
        value("E92000001").unwrap()
    );
    assert!(page.contains(&row), "{row}");
    assert!(page.contains("DfE's published figures (not in the returns, so not computed here)"));
    for name in ["members", "monthly-dashboard", "pre-inspection"] {
        let page = std::fs::read_to_string(out.path().join(format!("packs/{name}.html"))).unwrap();
        let mut ids = std::collections::BTreeSet::new();
        for part in page.split(" id=\"").skip(1) {
            let id = &part[..part.find('"').unwrap()];
            assert!(ids.insert(id), "{name}: id {id} twice");
        }
    }
}
