//! Ofsted Annex A lists: recognised by their columns (whatever the sheet or file is called),
//! cleaned field by field into canonical typed tables, problems into the validation report.
//!
//! The lists' columns are declared once in `data/formats/annex_a.yaml`. Real workbooks vary:
//! headers with curly quotes, stray brackets, "Age" for "Age of Child (Years)"; Excel serial
//! dates beside text dates; coded values such as "a) Male", "E1: Placement order",
//! "f) U6: Foster placement". Each is accepted; a value that cannot be read is reported
//! (file, sheet and row, field, value) and left empty, and the row is kept.
//!
//! A workbook is read in bounded memory whatever it declares: its decompressed size is
//! checked against [`MAX_WORKBOOK_BYTES`] before anything is inflated (a 5 MB zip bomb grew
//! past 4 GB), cells are streamed and kept sparse (calamine's range reader allocates the box
//! from the first to the last cell: a 7 KB workbook with a cell in XFD1048576 asked for 550 GB),
//! and at most [`MAX_CELLS`] filled cells are held. A CSV row whose quotes are broken is
//! reported and the rows after it are read (see [`super::csv_lines`]).

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Deserialize;

use super::report::{Issue, Report, Severity};
use crate::domain::dates::{from_excel_datetime, from_excel_serial, parse_date, to_epoch_days};

/// How a column's cells are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Text,
    Code,
    Sex,
    Date,
    Int,
    Yn,
}

/// One column of a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListColumn {
    pub name: String,
    pub header: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub kind: Kind,
    /// The framework versions whose Annex A has the column (empty: every version). Reading
    /// accepts every column; producing writes only the framework's.
    #[serde(default)]
    pub frameworks: Vec<String>,
}

impl ListColumn {
    /// Whether the framework's Annex A asks for this column.
    pub fn in_framework(&self, framework: crate::domain::framework::Framework) -> bool {
        self.frameworks.is_empty() || self.frameworks.iter().any(|f| f == framework.id())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum ColumnEntry {
    One(ListColumn),
    Group(Vec<ListColumn>),
}

#[derive(Debug, Clone, Deserialize)]
struct ListFile {
    list: u8,
    title: String,
    columns: Vec<ColumnEntry>,
}

#[derive(Debug, Clone, Deserialize)]
struct SpecFile {
    lists: Vec<ListFile>,
    indicators: Vec<ListIndicator>,
    summaries: Vec<ListSummary>,
}

/// The period a list-supported indicator is computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListPeriod {
    ThreeMonths,
    /// The referrals list's window: 3 months (SIF) or 6 (ILACS).
    Referrals,
    SixMonths,
    AtDate,
}

/// A catalogue indicator the lists support.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListIndicator {
    pub id: String,
    pub list: u8,
    pub period: ListPeriod,
}

/// What a list's summary looks at.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSummary {
    pub list: u8,
    pub key_date: String,
    pub open_while_empty: Option<String>,
}

fn spec_file() -> &'static SpecFile {
    static SPEC: OnceLock<SpecFile> = OnceLock::new();
    SPEC.get_or_init(|| {
        serde_yaml::from_str(include_str!("../../data/formats/annex_a.yaml"))
            .expect("data/formats/annex_a.yaml is valid (checked by tests)")
    })
}

/// The catalogue indicators the lists support.
pub fn list_indicators() -> &'static [ListIndicator] {
    &spec_file().indicators
}

/// The summary rules per list.
pub fn list_summaries() -> &'static [ListSummary] {
    &spec_file().summaries
}

/// One Annex A list's declaration.
#[derive(Debug, Clone)]
pub struct ListSpec {
    pub list: u8,
    pub title: String,
    pub columns: Vec<ListColumn>,
}

impl ListSpec {
    /// The canonical table name: `annex_a_list_3`.
    pub fn table(&self) -> String {
        format!("annex_a_list_{}", self.list)
    }

    pub fn column(&self, name: &str) -> Option<&ListColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Every list, from `data/formats/annex_a.yaml`.
pub fn lists() -> &'static [ListSpec] {
    static LISTS: OnceLock<Vec<ListSpec>> = OnceLock::new();
    LISTS.get_or_init(|| {
        spec_file()
            .lists
            .iter()
            .cloned()
            .map(|l| ListSpec {
                list: l.list,
                title: l.title,
                columns: l
                    .columns
                    .into_iter()
                    .flat_map(|c| match c {
                        ColumnEntry::One(c) => vec![c],
                        ColumnEntry::Group(g) => g,
                    })
                    .collect(),
            })
            .collect()
    })
}

/// A header as compared: lower case, letters and digits only, single spaces. Curly and
/// straight quotes, brackets, question marks and slashes all vanish.
pub fn normalise_header(h: &str) -> String {
    let mut out = String::with_capacity(h.len());
    let mut space = false;
    for c in h.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else if c.is_whitespace() || matches!(c, '/' | '-' | '_') {
            space = true;
        }
    }
    out
}

/// For a header row, the best-matching list and, per column, the list column it holds.
/// A list matches when at least 60% of its columns are present; the highest share wins, ties
/// going to the list with more columns matched (so list 8 beats list 6 on a list 8 sheet).
pub fn recognise(headers: &[String]) -> Option<(&'static ListSpec, Vec<Option<usize>>)> {
    let norm: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
    let mut best: Option<(f64, usize, &ListSpec, Vec<Option<usize>>)> = None;
    for spec in lists() {
        let mut mapping = vec![None; headers.len()];
        let mut matched = 0;
        for (ci, col) in spec.columns.iter().enumerate() {
            let names: Vec<String> = std::iter::once(&col.header)
                .chain(&col.aliases)
                .map(|h| normalise_header(h))
                .collect();
            if let Some(pos) = norm
                .iter()
                .enumerate()
                .position(|(i, h)| mapping[i].is_none() && names.contains(h))
            {
                mapping[pos] = Some(ci);
                matched += 1;
            }
        }
        let share = matched as f64 / spec.columns.len() as f64;
        if share < 0.6 {
            continue;
        }
        let better = match &best {
            None => true,
            Some((s, m, _, _)) => share > *s + 1e-9 || ((share - s).abs() < 1e-9 && matched > *m),
        };
        if better {
            best = Some((share, matched, spec, mapping));
        }
    }
    best.map(|(_, _, spec, mapping)| (spec, mapping))
}

/// A cell as read from a workbook or CSV.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Bool(bool),
}

/// A coded value without its decoration: "a) Male" → "Male", "E1: Placement order" → "E1",
/// "f) U6: Foster placement" → "U6", "U6 - Foster placement" → "U6".
pub fn strip_code(text: &str) -> String {
    let mut t = text.trim();
    // A lettered or numbered list prefix: "a) ", "(b) ", "1) ", "a. ".
    let bytes = t.as_bytes();
    let prefix_len = {
        let start = usize::from(bytes.first() == Some(&b'('));
        let mut i = start;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() && i - start < 2 {
            i += 1;
        }
        if i > start && i < bytes.len() && (bytes[i] == b')' || bytes[i] == b'.') {
            let after = &t[i + 1..];
            // "E1." alone is not a prefix; a prefix is followed by more text.
            if after.starts_with(' ') && !after.trim().is_empty() {
                i + 1
            } else {
                0
            }
        } else {
            0
        }
    };
    t = t[prefix_len..].trim();
    for sep in [":", " - ", " – "] {
        if let Some((code, label)) = t.split_once(sep) {
            let code = code.trim();
            if !code.is_empty()
                && code.len() <= 6
                && !code.contains(' ')
                && !label.trim().is_empty()
            {
                return code.to_string();
            }
        }
    }
    t.to_string()
}

fn read_sex(text: &str) -> Option<&'static str> {
    match strip_code(text).to_ascii_lowercase().as_str() {
        "m" | "male" | "1" | "boy" => Some("M"),
        "f" | "female" | "2" | "girl" => Some("F"),
        "u" | "unknown" | "not known" | "0" | "9" | "indeterminate" | "other" => Some("U"),
        _ => None,
    }
}

fn read_yn(text: &str) -> Option<bool> {
    match strip_code(text).to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" | "1" => Some(true),
        "n" | "no" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// A typed value of one cell, or why it cannot be read.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Str(String),
    Date(NaiveDate),
    Int(i64),
    Bool(bool),
}

fn text_of(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(t) => t.trim().to_string(),
        Cell::Number(n) if n.fract() == 0.0 => format!("{n:.0}"),
        Cell::Number(n) => n.to_string(),
        Cell::Date(d) => d.format("%d/%m/%Y").to_string(),
        Cell::Bool(b) => if *b { "Y" } else { "N" }.into(),
    }
}

fn read_cell(cell: &Cell, kind: Kind) -> Result<Value, &'static str> {
    let text = text_of(cell);
    if text.is_empty() {
        return Ok(Value::Null);
    }
    match kind {
        Kind::Text => Ok(Value::Str(text)),
        Kind::Code => Ok(Value::Str(strip_code(&text))),
        Kind::Sex => read_sex(&text)
            .map(|s| Value::Str(s.into()))
            .ok_or("not a recognised gender"),
        Kind::Date => match cell {
            Cell::Date(d) => Ok(Value::Date(*d)),
            Cell::Number(n) => from_excel_serial(*n).map(Value::Date).ok_or("not a date"),
            _ => {
                let t = text.trim();
                // A serial typed as text ("45383").
                if let Ok(n) = t.parse::<f64>() {
                    return from_excel_serial(n).map(Value::Date).ok_or("not a date");
                }
                // Text dates, with any time part dropped ("01/04/2024 00:00").
                let date_part = t.split_whitespace().next().unwrap_or(t);
                parse_date(t)
                    .or_else(|| parse_date(date_part))
                    .map(Value::Date)
                    .ok_or("not a date")
            }
        },
        Kind::Int => match cell {
            Cell::Number(n) if n.fract() == 0.0 => Ok(Value::Int(*n as i64)),
            _ => strip_code(&text)
                .parse::<i64>()
                .map(Value::Int)
                .map_err(|_| "not a whole number"),
        },
        Kind::Yn => match cell {
            Cell::Bool(b) => Ok(Value::Bool(*b)),
            _ => read_yn(&text).map(Value::Bool).ok_or("not Y or N"),
        },
    }
}

/// Where a row is, as the validation report says it: "line 7" in a CSV (no sheet name),
/// "sheet CLA row 7" in a workbook. `row` counts from 0.
fn location(sheet: &str, row: usize) -> String {
    if sheet.is_empty() {
        format!("line {}", row + 1)
    } else {
        format!("sheet {sheet} row {}", row + 1)
    }
}

/// The most a workbook may hold once decompressed: 128 MiB. A large LA's Annex A workbook is a
/// few MB of XML (list 6 with 10,000 children is ~10 MB); more is not a list but a zip bomb,
/// and is refused before calamine inflates it.
pub const MAX_WORKBOOK_BYTES: u64 = 128 << 20;

/// The most filled cells read from one file: 5 million (a large LA's whole workbook is under a
/// million). Each cell is held until its sheet is typed, so this bounds memory too.
pub const MAX_CELLS: usize = 5_000_000;

/// The largest CSV read: 256 MiB (read whole, then split).
pub const MAX_CSV_BYTES: u64 = 256 << 20;

/// Excel's grid: 1,048,576 rows × 16,384 columns. A cell beyond it is not Excel's, and is not
/// read (its position alone would make the sheet's rows absurdly long).
const MAX_ROWS: u32 = 1 << 20;
const MAX_COLUMNS: u32 = 1 << 14;

/// One row of a sheet or CSV: where it is and its filled cells, sparse.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// The row, counting from 0 (a CSV record's is its first line less one).
    pub index: usize,
    /// (column from 0, cell) in column order; empty cells are left out.
    pub cells: Vec<(usize, Cell)>,
    /// A CSV record that could not be split into cells.
    pub broken: Option<super::csv_lines::Broken>,
}

impl Row {
    /// The cell in a column (empty if there is none).
    pub fn get(&self, column: usize) -> &Cell {
        static EMPTY: Cell = Cell::Empty;
        match self.cells.binary_search_by_key(&column, |(c, _)| *c) {
            Ok(i) => &self.cells[i].1,
            Err(_) => &EMPTY,
        }
    }

    /// The row's cells as text, from the first column to its last filled one.
    fn texts(&self) -> Vec<String> {
        let width = self.cells.last().map_or(0, |(c, _)| c + 1);
        let mut out = vec![String::new(); width];
        for (c, cell) in &self.cells {
            out[*c] = text_of(cell);
        }
        out
    }

    fn is_blank(&self) -> bool {
        self.broken.is_none() && self.cells.iter().all(|(_, c)| text_of(c).is_empty())
    }
}

/// Reads one sheet (or CSV) of rows: finds the header row (the first row that matches a list
/// within the first 10 rows), then types every cell. Returns the list and its table, or None
/// (with a report note) when no list matches.
pub fn read_sheet(
    rows: &[Row],
    file: &Arc<str>,
    sheet: &str,
    report: &mut Report,
) -> Option<(u8, DataFrame)> {
    let (header_at, headers, spec, mapping) = rows
        .iter()
        .enumerate()
        .take_while(|(_, r)| r.index < 10)
        .find_map(|(i, r)| {
            let headers = r.texts();
            recognise(&headers).map(|(s, m)| (i, headers, s, m))
        })?;
    let child_col = spec
        .columns
        .iter()
        .position(|c| c.name == "child" || c.name == "adopter");
    let child_pos = child_col.and_then(|ci| mapping.iter().position(|m| *m == Some(ci)));
    let list = ListSheet {
        file,
        sheet,
        spec,
        table: spec.table(),
        headers,
        mapping,
        child_col,
        child_pos,
    };
    list.report_missing_columns(rows[header_at].index, report);
    // Broken rows above the header: reported, nothing else to do with them.
    for row in &rows[..header_at] {
        if let Some(broken) = row.broken {
            report.push(broken_issue(file, &list.table, broken, "", None));
        }
    }
    let (values, read) = list.read_rows(&rows[header_at + 1..], report);
    let counts = report.count(&list.table);
    counts.read += read;
    let kept = values.first().map_or(0, Vec::len) as u64;
    counts.kept += kept;
    let columns: Vec<Column> = spec
        .columns
        .iter()
        .enumerate()
        .map(|(ci, col)| typed_column(&col.name, col.kind, &values[ci]))
        .collect();
    DataFrame::new_infer_height(columns)
        .ok()
        .map(|df| (spec.list, df))
}

/// A sheet matched to its list: where each list column is, for typing the rows.
struct ListSheet<'a> {
    file: &'a Arc<str>,
    sheet: &'a str,
    spec: &'static ListSpec,
    table: String,
    headers: Vec<String>,
    /// Per sheet column, the list column it holds.
    mapping: Vec<Option<usize>>,
    /// The list column that identifies a row (child or adopter), and the sheet column it is in.
    child_col: Option<usize>,
    child_pos: Option<usize>,
}

impl ListSheet<'_> {
    /// Warns of each list column the sheet lacks (its values are left empty).
    fn report_missing_columns(&self, header_row: usize, report: &mut Report) {
        let spec = self.spec;
        for col in &spec.columns {
            if !self
                .mapping
                .iter()
                .flatten()
                .any(|&c| spec.columns[c].name == col.name)
            {
                report.push(Issue {
                    file: self.file.clone(),
                    location: location(self.sheet, header_row),
                    table: self.table.clone(),
                    child: None,
                    field: col.name.clone(),
                    value: None,
                    rule: "missing_column",
                    severity: Severity::Warning,
                    message: format!("no column «{}»: left empty", col.header),
                });
            }
        }
    }

    /// The rows below the header typed, by list column (blank rows skipped; a broken row or
    /// one without an identifier rejected), and the number of rows read.
    fn read_rows(&self, rows: &[Row], report: &mut Report) -> (Vec<Vec<Value>>, u64) {
        let mut values: Vec<Vec<Value>> = vec![vec![]; self.spec.columns.len()];
        let mut read = 0;
        for row in rows {
            if row.is_blank() {
                continue;
            }
            read += 1;
            let child = self
                .child_pos
                .map(|pos| text_of(row.get(pos)))
                .filter(|t| !t.is_empty());
            if let Some(broken) = row.broken {
                let at = broken.field();
                let field = self
                    .mapping
                    .get(at)
                    .copied()
                    .flatten()
                    .map(|ci| self.spec.columns[ci].name.clone())
                    .or_else(|| self.headers.get(at).cloned())
                    .unwrap_or_else(|| format!("column {}", at + 1));
                report.push(broken_issue(self.file, &self.table, broken, &field, child));
                report.count(&self.table).rejected += 1;
                continue;
            }
            let typed = self.type_row(row, &child, report);
            if child.is_none() {
                report.push(Issue {
                    file: self.file.clone(),
                    location: location(self.sheet, row.index),
                    table: self.table.clone(),
                    child: None,
                    field: self.spec.columns[self.child_col.unwrap_or(0)].name.clone(),
                    value: None,
                    rule: "required",
                    severity: Severity::Error,
                    message: "no identifier: row rejected".into(),
                });
                report.count(&self.table).rejected += 1;
                continue;
            }
            for (ci, v) in typed.into_iter().enumerate() {
                values[ci].push(v);
            }
        }
        (values, read)
    }

    /// A row's cells typed by list column; a value that cannot be read is reported and left
    /// empty.
    fn type_row(&self, row: &Row, child: &Option<String>, report: &mut Report) -> Vec<Value> {
        let mut typed = vec![Value::Null; self.spec.columns.len()];
        for (pos, m) in self.mapping.iter().enumerate() {
            let Some(ci) = m else { continue };
            let cell = row.get(pos);
            let col = &self.spec.columns[*ci];
            match read_cell(cell, col.kind) {
                Ok(v) => typed[*ci] = v,
                Err(why) => report.push(Issue {
                    file: self.file.clone(),
                    location: location(self.sheet, row.index),
                    table: self.table.clone(),
                    child: child.clone(),
                    field: col.name.clone(),
                    value: Some(text_of(cell)),
                    rule: "value",
                    severity: Severity::Warning,
                    message: format!("{why}: left empty"),
                }),
            }
        }
        typed
    }
}

/// The report line for a CSV row that could not be split (rejected).
fn broken_issue(
    file: &Arc<str>,
    table: &str,
    broken: super::csv_lines::Broken,
    field: &str,
    child: Option<String>,
) -> Issue {
    Issue {
        file: file.clone(),
        location: format!("line {}", broken.line()),
        table: table.into(),
        child,
        field: field.into(),
        value: None,
        rule: broken.rule(),
        severity: Severity::Error,
        message: broken.describe(),
    }
}

fn xlsx_cell(d: &calamine::Data) -> Cell {
    use calamine::Data;
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Float(f) => Cell::Number(*f),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Bool(b) => Cell::Bool(*b),
        // calamine's conversion, in the workbook's date system; a date it cannot be is kept
        // as the number, for `read_cell` to report.
        Data::DateTime(dt) => from_excel_datetime(dt)
            .map(Cell::Date)
            .unwrap_or(Cell::Number(dt.as_f64())),
        Data::DateTimeIso(s) => parse_date(s.get(..10).unwrap_or(s))
            .map(Cell::Date)
            .unwrap_or_else(|| Cell::Text(s.clone())),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(_) => Cell::Empty,
    }
}

/// The lists found in a set of files (xlsx/xlsm/xlsb workbooks, one list per sheet, or CSVs,
/// one list per file), by list number; a list split over several sheets or files is joined.
pub fn read_files(paths: &[std::path::PathBuf], report: &mut Report) -> BTreeMap<u8, DataFrame> {
    let mut found: BTreeMap<u8, Vec<DataFrame>> = BTreeMap::new();
    for path in paths {
        let file: Arc<str> = Arc::from(path.display().to_string());
        let sheets = read_cells(path, &file, report);
        add_sheets(sheets, &file, report, &mut found);
    }
    join_lists(found)
}

/// The lists in one file's bytes, the file named `name` (its extension says what it is).
/// What [`read_files`] does for each file, for callers that hold the bytes (the fuzz targets).
pub fn read_bytes(name: &str, bytes: &[u8], report: &mut Report) -> BTreeMap<u8, DataFrame> {
    let file: Arc<str> = Arc::from(name);
    let sheets = match FileKind::of(Path::new(name)) {
        Ok(FileKind::Csv) => csv_rows(bytes),
        Ok(kind) => read_workbook(std::io::Cursor::new(bytes), kind, report, &file),
        Err(message) => Err(message),
    };
    let sheets = sheets.unwrap_or_else(|message| {
        report.push(unreadable(&file, message));
        vec![]
    });
    let mut found = BTreeMap::new();
    add_sheets(sheets, &file, report, &mut found);
    join_lists(found)
}

fn unreadable(file: &Arc<str>, message: String) -> Issue {
    Issue {
        table: "annex_a".into(),
        ..Issue::file_level(file.clone(), "unreadable", Severity::Error, message)
    }
}

fn add_sheets(
    sheets: Vec<Sheet>,
    file: &Arc<str>,
    report: &mut Report,
    found: &mut BTreeMap<u8, Vec<DataFrame>>,
) {
    for (sheet, rows) in sheets {
        match read_sheet(&rows, file, &sheet, report) {
            Some((list, df)) => found.entry(list).or_default().push(df),
            None => report.push(Issue {
                file: file.clone(),
                location: if sheet.is_empty() {
                    String::new()
                } else {
                    format!("sheet {sheet}")
                },
                table: "annex_a".into(),
                child: None,
                field: String::new(),
                value: None,
                rule: "unrecognised",
                severity: Severity::Note,
                message: "no Annex A list recognised by its columns: skipped".into(),
            }),
        }
    }
}

fn join_lists(found: BTreeMap<u8, Vec<DataFrame>>) -> BTreeMap<u8, DataFrame> {
    found
        .into_iter()
        .filter_map(|(list, dfs)| {
            let mut it = dfs.into_iter();
            let mut first = it.next()?;
            for df in it {
                first.vstack_mut(&df).ok()?;
            }
            Some((list, first))
        })
        .collect()
}

/// A sheet's name and its rows.
type Sheet = (String, Vec<Row>);

/// What a file is, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Csv,
    Xlsx,
    Xlsb,
}

impl FileKind {
    fn of(path: &Path) -> Result<FileKind, String> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "csv" => Ok(FileKind::Csv),
            "xlsx" | "xlsm" => Ok(FileKind::Xlsx),
            "xlsb" => Ok(FileKind::Xlsb),
            // calamine reads these only into a dense grid (memory without bound for a file
            // that declares a huge range), so they are refused with what to do instead.
            "xls" | "ods" => Err(format!(
                ".{ext} workbooks are not read: open it and save it as an Excel workbook (.xlsx), or save each list as CSV"
            )),
            _ => {
                Err("not a workbook or CSV (expected .xlsx, .xlsm, .xlsb or .csv): skipped".into())
            }
        }
    }
}

/// Every sheet of a workbook, or a CSV as one sheet named "", as rows; an unreadable file is
/// reported (and gives no sheets).
fn read_cells(path: &Path, file: &Arc<str>, report: &mut Report) -> Vec<Sheet> {
    let result = (|| -> Result<Vec<Sheet>, String> {
        match FileKind::of(path)? {
            FileKind::Csv => {
                let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
                if size > MAX_CSV_BYTES {
                    return Err(format!(
                        "the file is {} MiB, more than the {} MiB an Annex A list can be: not read",
                        size >> 20,
                        MAX_CSV_BYTES >> 20
                    ));
                }
                let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
                csv_rows(&bytes)
            }
            kind => {
                let f = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
                read_workbook(std::io::BufReader::new(f), kind, report, file)
            }
        }
    })();
    result.unwrap_or_else(|message| {
        report.push(unreadable(file, message));
        vec![]
    })
}

/// A CSV's records as rows (blank rows left out; broken records kept, marked, for the report).
fn csv_rows(bytes: &[u8]) -> Result<Vec<Sheet>, String> {
    let (text, _) = super::text::decode(bytes);
    let mut cells = 0usize;
    let mut rows = vec![];
    for r in super::csv_lines::records(&text).filter(|r| !r.is_blank()) {
        cells += r.fields.len();
        if cells > MAX_CELLS {
            return Err(format!(
                "the file has more than {MAX_CELLS} cells, more than an Annex A list can have: not read"
            ));
        }
        rows.push(Row {
            index: r.line.saturating_sub(1) as usize,
            cells: r
                .fields
                .into_iter()
                .enumerate()
                .filter(|(_, f)| !f.trim().is_empty())
                .map(|(c, f)| (c, Cell::Text(f)))
                .collect(),
            broken: r.broken,
        });
    }
    Ok(vec![(String::new(), rows)])
}

/// The sizes a workbook declares for its parts, checked before any is inflated.
fn check_zip<R: Read + Seek>(reader: &mut R) -> Result<(), String> {
    let archive = ::zip::ZipArchive::new(&mut *reader).map_err(corrupt)?;
    let mut total: u64 = 0;
    let mut archive = archive;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(corrupt)?;
        total = total.saturating_add(entry.size());
    }
    if total > MAX_WORKBOOK_BYTES {
        return Err(format!(
            "the workbook would decompress to {} MiB, more than the {} MiB an Annex A workbook can be (a zip bomb, or not a list): not read",
            total >> 20,
            MAX_WORKBOOK_BYTES >> 20
        ));
    }
    drop(archive);
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok(())
}

/// What to say about a workbook calamine or zip cannot open.
fn corrupt(e: impl std::fmt::Display) -> String {
    format!(
        "the workbook is corrupt or not an Excel workbook, so it could not be read ({e}); open it in Excel, save it again as .xlsx and retry"
    )
}

/// Streams every sheet's filled cells (never a dense range), within [`MAX_CELLS`].
fn read_workbook<R: Read + Seek>(
    mut reader: R,
    kind: FileKind,
    report: &mut Report,
    file: &Arc<str>,
) -> Result<Vec<Sheet>, String> {
    check_zip(&mut reader)?;
    // calamine is third-party code reading hostile bytes: a panic in it must not end the run
    // (fuzzing found one: a cell reference with a 21-digit row overflows its arithmetic in
    // builds with overflow checks). Its state dies with it; the workbook is reported.
    let streamed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        stream_sheets(reader, kind, report, file)
    }));
    streamed.unwrap_or_else(|_| Err(corrupt("the workbook reader failed on its contents")))
}

fn stream_sheets<R: Read + Seek>(
    reader: R,
    kind: FileKind,
    report: &mut Report,
    file: &Arc<str>,
) -> Result<Vec<Sheet>, String> {
    use calamine::Reader as _;
    let mut cells_left = MAX_CELLS;
    let mut out = vec![];
    // One function for both cell readers: they differ only in type.
    macro_rules! sheets {
        ($book:expr) => {{
            let mut book = $book;
            for name in book.sheet_names() {
                let mut cells: Vec<(u32, u32, Cell)> = vec![];
                let mut outside = 0u64;
                let read = (|| -> Result<bool, String> {
                    let mut reader = book
                        .worksheet_cells_reader(&name)
                        .map_err(|e| e.to_string())?;
                    while let Some(cell) = reader.next_cell().map_err(|e| e.to_string())? {
                        let (r, c) = cell.get_position();
                        let data: calamine::Data = cell.get_value().clone().into();
                        if matches!(data, calamine::Data::Empty) {
                            continue;
                        }
                        if r >= MAX_ROWS || c >= MAX_COLUMNS {
                            outside += 1;
                            continue;
                        }
                        if cells_left == 0 {
                            return Ok(false);
                        }
                        cells_left -= 1;
                        cells.push((r, c, xlsx_cell(&data)));
                    }
                    Ok(true)
                })();
                match read {
                    Ok(true) => {}
                    Ok(false) => {
                        return Err(format!(
                            "the workbook has more than {MAX_CELLS} filled cells, more than an Annex A workbook can have: not read"
                        ))
                    }
                    Err(e) => {
                        report.push(Issue {
                            location: format!("sheet {name}"),
                            ..unreadable(
                                file,
                                format!(
                                    "the sheet is corrupt and could not be read ({e}); open the workbook in Excel, save it again as .xlsx and retry"
                                ),
                            )
                        });
                        continue;
                    }
                }
                if outside > 0 {
                    report.push(Issue {
                        location: format!("sheet {name}"),
                        table: "annex_a".into(),
                        severity: Severity::Warning,
                        rule: "outside_grid",
                        ..unreadable(
                            file,
                            format!(
                                "{outside} cells are placed beyond Excel's last row or column and were not read"
                            ),
                        )
                    });
                }
                out.push((name, sparse_rows(cells)));
            }
        }};
    }
    match kind {
        FileKind::Xlsx => sheets!(calamine::Xlsx::new(reader).map_err(corrupt)?),
        FileKind::Xlsb => sheets!(calamine::Xlsb::new(reader).map_err(corrupt)?),
        FileKind::Csv => return Err("a CSV is not a workbook".into()),
    }
    Ok(out)
}

/// Cells (row, column, cell) in any order → rows in order, each with its cells in order (a
/// cell given twice: the last wins, as in Excel's own reading).
fn sparse_rows(mut cells: Vec<(u32, u32, Cell)>) -> Vec<Row> {
    cells.sort_by_key(|(r, c, _)| (*r, *c));
    let mut rows: Vec<Row> = vec![];
    for (r, c, cell) in cells {
        let (r, c) = (r as usize, c as usize);
        if rows.last().is_none_or(|row| row.index != r) {
            rows.push(Row {
                index: r,
                ..Row::default()
            });
        }
        let row = rows.last_mut().expect("pushed above");
        match row.cells.last_mut() {
            Some(last) if last.0 == c => last.1 = cell,
            _ => row.cells.push((c, cell)),
        }
    }
    rows
}

/// Lists by number → their titles, for summaries.
pub fn titles() -> HashMap<u8, &'static str> {
    lists().iter().map(|l| (l.list, l.title.as_str())).collect()
}

/// How a local file (CSV or xlsx: allocations, visits, reviews, …) maps onto Annex A fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalMapping {
    /// The file, relative to the mapping file.
    pub file: std::path::PathBuf,
    /// The column holding the child id (as in the returns).
    pub child: String,
    /// Annex A field (e.g. `team`, `worker`, `last_visit`) → the file's column header.
    pub columns: BTreeMap<String, String>,
}

/// The kind of an Annex A field name in any list.
fn field_kind(name: &str) -> Option<Kind> {
    lists().iter().find_map(|l| l.column(name)).map(|c| c.kind)
}

/// Reads local data through its mapping into a table: `child` and one typed column per
/// mapped field (one row per child: the first row wins). Problems go to the report.
pub fn read_local(mapping_path: &Path, report: &mut Report) -> Result<DataFrame, String> {
    let text = std::fs::read_to_string(mapping_path)
        .map_err(|e| format!("{}: {e}", mapping_path.display()))?;
    let mapping: LocalMapping =
        serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", mapping_path.display()))?;
    for field in mapping.columns.keys() {
        if field_kind(field).is_none() {
            return Err(format!(
                "{}: `{field}` is not an Annex A field (see data/formats/annex_a.yaml)",
                mapping_path.display()
            ));
        }
    }
    let path = mapping_path
        .parent()
        .unwrap_or(Path::new("."))
        .join(&mapping.file);
    let file: Arc<str> = Arc::from(path.display().to_string());
    let mut problems = Report::default();
    let sheets = read_cells(&path, &file, &mut problems);
    if let Some(issue) = problems
        .issues
        .iter()
        .find(|i| i.severity == Severity::Error)
    {
        return Err(format!("{}: {}", path.display(), issue.message));
    }
    report.merge(problems);
    let (sheet, rows) = sheets
        .into_iter()
        .next()
        .ok_or_else(|| format!("{}: empty", path.display()))?;
    let header: Vec<String> = rows.first().map(Row::texts).unwrap_or_default();
    let find = |h: &str| {
        let h = normalise_header(h);
        header.iter().position(|x| normalise_header(x) == h)
    };
    let child_at = find(&mapping.child)
        .ok_or_else(|| format!("{}: no column «{}»", path.display(), mapping.child))?;
    let fields: Vec<(&String, usize, Kind)> = mapping
        .columns
        .iter()
        .map(|(field, h)| {
            find(h)
                .map(|i| (field, i, field_kind(field).expect("checked")))
                .ok_or_else(|| format!("{}: no column «{h}»", path.display()))
        })
        .collect::<Result<_, _>>()?;
    let mut children = vec![];
    let mut values: Vec<Vec<Value>> = vec![vec![]; fields.len()];
    let mut seen = std::collections::HashSet::new();
    for row in rows.iter().skip(1) {
        if let Some(broken) = row.broken {
            report.push(broken_issue(&file, "annex_a_local", broken, "", None));
            continue;
        }
        let child = text_of(row.get(child_at));
        if child.is_empty() || !seen.insert(child.clone()) {
            continue;
        }
        for (k, (field, at, kind)) in fields.iter().enumerate() {
            let cell = row.get(*at);
            values[k].push(read_cell(cell, *kind).unwrap_or_else(|why| {
                report.push(Issue {
                    file: file.clone(),
                    location: location(&sheet, row.index),
                    table: "annex_a_local".into(),
                    child: Some(child.clone()),
                    field: (*field).clone(),
                    value: Some(text_of(cell)),
                    rule: "value",
                    severity: Severity::Warning,
                    message: format!("{why}: left empty"),
                });
                Value::Null
            }));
        }
        children.push(child);
    }
    let mut columns = vec![Column::new("child".into(), children)];
    for (k, (field, _, kind)) in fields.iter().enumerate() {
        columns.push(typed_column(field, *kind, &values[k]));
    }
    DataFrame::new_infer_height(columns).map_err(|e| e.to_string())
}

/// Several local-data mappings read (see [`read_local`]) into one row per child: later files
/// fill what earlier ones lack. `None` when no mapping is given.
pub fn read_locals(
    mapping_paths: &[std::path::PathBuf],
    report: &mut Report,
) -> Result<Option<DataFrame>, String> {
    let mut combined: Option<DataFrame> = None;
    for path in mapping_paths {
        let df = read_local(path, report)?;
        combined = Some(match combined {
            None => df,
            Some(acc) => acc
                .lazy()
                .join(
                    df.lazy(),
                    [col("child")],
                    [col("child")],
                    JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
                )
                .collect()
                .map_err(|e| format!("{}: {e}", path.display()))?,
        });
    }
    Ok(combined)
}

fn typed_column(name: &str, kind: Kind, v: &[Value]) -> Column {
    let name: PlSmallStr = name.into();
    match kind {
        Kind::Date => Int32Chunked::from_iter_options(
            name,
            v.iter().map(|x| match x {
                Value::Date(d) => Some(to_epoch_days(*d)),
                _ => None,
            }),
        )
        .into_date()
        .into_column(),
        Kind::Int => Column::new(
            name,
            v.iter()
                .map(|x| match x {
                    Value::Int(i) => Some(*i),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        ),
        Kind::Yn => Column::new(
            name,
            v.iter()
                .map(|x| match x {
                    Value::Bool(b) => Some(*b),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        ),
        _ => Column::new(
            name,
            v.iter()
                .map(|x| match x {
                    Value::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        ),
    }
}
