//! Fuzz targets: every reader of outside input as a plain `fn(&[u8])`.
//!
//! The same functions are driven three ways: coverage-guided by cargo-fuzz/libFuzzer
//! (`fuzz/`, see the README), over the kept crash inputs and seeds in `tests/fixtures/fuzz/`
//! by `tests/fuzz.rs` (every `cargo test`), and by that test's seeded mutations of the seeds
//! (a bounded, deterministic, uninstrumented fuzz that CI can afford). A target panics only
//! when the code under it does, or when one of the invariants it checks is broken: rows read
//! are rows kept plus rows rejected, and a table holds the rows it says it kept.
//!
//! Inputs are bytes as they would be on disk; nothing here touches the file system.

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::sync::{Arc, OnceLock};

use polars::prelude::DataFrame;

use crate::indicators::catalogue::{self, Catalogue};
use crate::ingest::report::Report;
use crate::ingest::returns::{Collection, empty_table};
use crate::ingest::rules::{self, Tables};
use crate::ingest::table::TableBuilder;
use crate::ingest::text::utf8_reader;
use crate::ingest::{annex_a, ssda903_csv, xml};

/// The collection year the returns are read as (the fixtures' year).
const YEAR: i32 = 2025;

/// A fuzz target: bytes in, a panic if the code under it is broken.
pub type Target = fn(&[u8]);

/// Every target, by name (the names of `fuzz/fuzz_targets/*.rs` and of the folders under
/// `tests/fixtures/fuzz/`).
pub const TARGETS: &[(&str, Target)] = &[
    ("ssda903_csv", ssda903_csv),
    ("ssda903_xml", ssda903_xml),
    ("cin_xml", cin_xml),
    ("annex_a_csv", annex_a_csv),
    ("annex_a_xlsx", annex_a_xlsx),
    ("annex_a_sheet", annex_a_sheet),
    ("indicator_yaml", indicator_yaml),
    ("pack_yaml", pack_yaml),
    ("context_template", context_template),
    ("population_csv", population_csv),
];

/// For the libFuzzer harness, whose panic hook aborts before any unwinding: let a panic
/// raised inside calamine unwind to the reader's `catch_unwind` (where it is contained and
/// reported as a corrupt workbook, the behaviour under test) and abort on every other panic
/// as before. calamine's known one: a 21-digit row in a cell reference overflows in builds
/// with overflow checks, as fuzz builds are.
pub fn contain_dependency_panics() {
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_calamine = info
            .location()
            .is_some_and(|l| l.file().contains("/calamine-"));
        if !in_calamine {
            abort(info);
        }
    }));
}

/// A 903 CSV file: read as one table, then the cross-row rules over it.
pub fn ssda903_csv(data: &[u8]) {
    let collection = Collection::Ssda903;
    let file: Arc<str> = Arc::from("fuzz.csv");
    let out = ssda903_csv::read(data, collection.spec(), collection.codes(), YEAR, &file);
    let builders: Vec<TableBuilder> = out.builder.into_iter().collect();
    check_return(collection, builders);
}

/// A 903 XML file, streamed as from disk, then the cross-row rules.
pub fn ssda903_xml(data: &[u8]) {
    xml_return(Collection::Ssda903, data);
}

/// A CIN census XML file, streamed as from disk, then the cross-row rules.
pub fn cin_xml(data: &[u8]) {
    xml_return(Collection::Cin, data);
}

/// Annex A lists in a CSV, then the lists' summary.
pub fn annex_a_csv(data: &[u8]) {
    annex_a_file("fuzz.csv", data);
}

/// Annex A lists in an xlsx workbook's bytes, then the lists' summary.
pub fn annex_a_xlsx(data: &[u8]) {
    annex_a_file("fuzz.xlsx", data);
}

/// Annex A lists in a workbook made around the input: the bytes are a worksheet's XML (and,
/// after a NUL byte, the shared strings' XML), zipped into a valid xlsx. Mutating a whole
/// workbook mostly breaks its CRCs and stops at the zip reader; this reaches calamine's sheet
/// parsing and the list reading behind it.
pub fn annex_a_sheet(data: &[u8]) {
    let (sheet, strings) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    annex_a_file("fuzz.xlsx", &workbook("Sheet1", sheet, strings));
}

/// A minimal xlsx workbook: one sheet named `name` whose XML is `sheet`, and the shared
/// strings' XML if given (parts deflated, as Excel writes them). Also what the tests build
/// workbooks with.
pub fn workbook(name: &str, sheet: &[u8], shared_strings: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write as _;
    const CONTENT_TYPES: &str = concat!(
        r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#,
        r#"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#,
        r#"<Default Extension="xml" ContentType="application/xml"/>"#,
        r#"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
        r#"<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#,
        r#"</Types>"#
    );
    const RELS: &str = concat!(
        r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
        r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>"#,
        r#"</Relationships>"#
    );
    const WORKBOOK_RELS: &str = concat!(
        r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
        r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>"#,
        r#"<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>"#,
        r#"</Relationships>"#
    );
    let book = format!(
        r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let mut parts: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", RELS.as_bytes()),
        ("xl/workbook.xml", book.as_bytes()),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    if let Some(strings) = shared_strings {
        parts.push(("xl/sharedStrings.xml", strings));
    }
    let mut zip = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = ::zip::write::SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Deflated)
        .large_file(sheet.len() as u64 >= u32::MAX as u64);
    for (path, bytes) in parts {
        // Writing to memory cannot fail short of memory itself.
        let written = zip
            .start_file(path, options)
            .map_err(std::io::Error::other)
            .and_then(|()| zip.write_all(bytes));
        if let Err(e) = written {
            panic!("writing a workbook in memory: {e}");
        }
    }
    match zip.finish() {
        Ok(cursor) => cursor.into_inner(),
        Err(e) => panic!("writing a workbook in memory: {e}"),
    }
}

/// One indicator definition (YAML), parsed and checked as a local indicator would be.
pub fn indicator_yaml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(def) = catalogue::parse("fuzz.yaml", &text) {
        let _ = catalogue::check("fuzz.yaml", &def);
    }
}

/// One pack definition (YAML), parsed and checked against the shipped catalogue.
pub fn pack_yaml(data: &[u8]) {
    static CATALOGUE: OnceLock<Option<Catalogue>> = OnceLock::new();
    let Some(catalogue) = CATALOGUE.get_or_init(|| Catalogue::embedded().ok()) else {
        panic!("the shipped catalogue does not load");
    };
    let text = String::from_utf8_lossy(data);
    let _ = crate::render::packs::Pack::parse("fuzz.yaml", &text, catalogue);
}

/// A user's context section template (YAML), parsed and checked.
pub fn context_template(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::compare::context::Template::parse("fuzz.yaml", &text);
    let _ = crate::compare::context::parse_groups("fuzz.csv", &text);
}

/// A user's population file (CSV).
pub fn population_csv(data: &[u8]) {
    let _ = crate::ingest::population::parse(std::path::Path::new("fuzz.csv"), data);
}

fn xml_return(collection: Collection, data: &[u8]) {
    let layout = xml::XmlLayout::compile(collection.spec());
    let ctx = xml::XmlContext {
        file_label: Arc::from("fuzz.xml"),
        year: Some(YEAR),
        lists: collection.codes(),
    };
    // As `xml::read_path` does: the encoding sniffed from the first bytes. Reading from a
    // slice cannot fail.
    let Ok((source, _)) = utf8_reader(data) else {
        return;
    };
    let out = xml::read(BufReader::new(source), collection.spec(), &layout, ctx);
    // The root sniffer must not fail on what the reader reads.
    let _ = xml::root_element(data.take(xml::MAX_PROLOGUE));
    check_return(collection, out.builders);
}

/// Finishes the tables, checks each holds what its count says, and runs the cross-row rules.
fn check_return(collection: Collection, builders: Vec<TableBuilder>) {
    let spec = collection.spec();
    let mut tables = Tables::new();
    for builder in builders {
        let count = builder.count;
        assert_eq!(
            count.read,
            count.kept + count.rejected,
            "rows read are rows kept plus rows rejected ({})",
            builder.spec().name
        );
        let name = builder.spec().name.clone();
        let df = builder
            .finish("925", YEAR, "fuzz")
            .unwrap_or_else(|e| panic!("the canonical {name} table builds: {e}"));
        assert_eq!(df.height() as u64, count.kept, "{name} holds the rows kept");
        tables.insert(name, df);
    }
    for table in &spec.tables {
        tables
            .entry(table.name.clone())
            .or_insert_with(|| empty_table(collection, table, "925", YEAR));
    }
    let checked = match collection {
        Collection::Ssda903 => rules::check_ssda903(spec, &mut tables, YEAR),
        Collection::Cin => rules::check_cin(spec, &mut tables, YEAR),
    };
    if let Err(e) = checked {
        panic!("the cross-row rules fail on a table the readers built: {e}");
    }
}

fn annex_a_file(name: &str, data: &[u8]) {
    let mut report = Report::default();
    let lists: BTreeMap<u8, DataFrame> = annex_a::read_bytes(name, data, &mut report);
    for (table, count) in &report.counts {
        assert_eq!(
            count.read,
            count.kept + count.rejected,
            "rows read are rows kept plus rows rejected ({table})"
        );
    }
    let date = chrono::NaiveDate::from_ymd_opt(YEAR, 3, 31).unwrap_or_default();
    if let Err(e) = crate::indicators::annex_a::summarise(&lists, date) {
        panic!("the summary fails on lists the reader built: {e}");
    }
}
