//! Ofsted Annex A lists: recognised by their columns (whatever the sheet or file is called),
//! cleaned field by field into canonical typed tables, problems into the validation report.
//!
//! The lists' columns are declared once in `data/formats/annex_a.yaml`. Real workbooks vary:
//! headers with curly quotes, stray brackets, "Age" for "Age of Child (Years)"; Excel serial
//! dates beside text dates; coded values such as "a) Male", "E1: Placement order",
//! "f) U6: Foster placement". Each is accepted; a value that cannot be read is reported
//! (file, sheet and row, field, value) and left empty, and the row is kept.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Deserialize;

use super::report::{Issue, Report, Severity};
use crate::domain::dates::{from_excel_serial, parse_date, to_epoch_days};

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

/// Reads one sheet (or CSV) of cells: finds the header row (the first row that matches a
/// list within the first 10 rows), then types every cell. Returns the list and its table, or
/// None (with a report note) when no list matches.
pub fn read_sheet(
    rows: &[Vec<Cell>],
    file: &Arc<str>,
    sheet: &str,
    report: &mut Report,
) -> Option<(u8, DataFrame)> {
    let (header_at, spec, mapping) = rows.iter().take(10).enumerate().find_map(|(i, r)| {
        let headers: Vec<String> = r.iter().map(text_of).collect();
        recognise(&headers).map(|(s, m)| (i, s, m))
    })?;
    let table = spec.table();
    let where_ = |row: usize| location(sheet, row);
    for col in &spec.columns {
        if !mapping
            .iter()
            .flatten()
            .any(|&c| spec.columns[c].name == col.name)
        {
            report.push(Issue {
                file: file.clone(),
                location: where_(header_at),
                table: table.clone(),
                child: None,
                field: col.name.clone(),
                value: None,
                rule: "missing_column",
                severity: Severity::Warning,
                message: format!("no column «{}»: left empty", col.header),
            });
        }
    }
    let mut values: Vec<Vec<Value>> = vec![vec![]; spec.columns.len()];
    let child_col = spec
        .columns
        .iter()
        .position(|c| c.name == "child" || c.name == "adopter");
    let mut read = 0;
    for (ri, row) in rows.iter().enumerate().skip(header_at + 1) {
        if row.iter().all(|c| text_of(c).is_empty()) {
            continue;
        }
        read += 1;
        let mut typed = vec![Value::Null; spec.columns.len()];
        let child = child_col.and_then(|ci| {
            mapping
                .iter()
                .position(|m| *m == Some(ci))
                .and_then(|pos| row.get(pos))
                .map(text_of)
                .filter(|t| !t.is_empty())
        });
        for (pos, m) in mapping.iter().enumerate() {
            let Some(ci) = m else { continue };
            let cell = row.get(pos).unwrap_or(&Cell::Empty);
            let col = &spec.columns[*ci];
            match read_cell(cell, col.kind) {
                Ok(v) => typed[*ci] = v,
                Err(why) => report.push(Issue {
                    file: file.clone(),
                    location: where_(ri),
                    table: table.clone(),
                    child: child.clone(),
                    field: col.name.clone(),
                    value: Some(text_of(cell)),
                    rule: "value",
                    severity: Severity::Warning,
                    message: format!("{why}: left empty"),
                }),
            }
        }
        if child.is_none() {
            report.push(Issue {
                file: file.clone(),
                location: where_(ri),
                table: table.clone(),
                child: None,
                field: spec.columns[child_col.unwrap_or(0)].name.clone(),
                value: None,
                rule: "required",
                severity: Severity::Error,
                message: "no identifier: row rejected".into(),
            });
            report.count(&table).rejected += 1;
            continue;
        }
        for (ci, v) in typed.into_iter().enumerate() {
            values[ci].push(v);
        }
    }
    let counts = report.count(&table);
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

fn xlsx_cell(d: &calamine::Data) -> Cell {
    use calamine::Data;
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Float(f) => Cell::Number(*f),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => from_excel_serial(dt.as_f64())
            .map(Cell::Date)
            .unwrap_or(Cell::Number(dt.as_f64())),
        Data::DateTimeIso(s) => parse_date(s.get(..10).unwrap_or(s))
            .map(Cell::Date)
            .unwrap_or_else(|| Cell::Text(s.clone())),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(_) => Cell::Empty,
    }
}

/// The lists found in a set of files (xlsx/xlsm/ods workbooks, one list per sheet, or CSVs,
/// one list per file), by list number; a list split over several sheets or files is joined.
pub fn read_files(paths: &[std::path::PathBuf], report: &mut Report) -> BTreeMap<u8, DataFrame> {
    let mut found: BTreeMap<u8, Vec<DataFrame>> = BTreeMap::new();
    for path in paths {
        let file: Arc<str> = Arc::from(path.display().to_string());
        let sheets = match read_cells(path) {
            Ok(s) => s,
            Err(message) => {
                report.push(Issue {
                    file: file.clone(),
                    location: String::new(),
                    table: "annex_a".into(),
                    child: None,
                    field: String::new(),
                    value: None,
                    rule: "unreadable",
                    severity: Severity::Error,
                    message,
                });
                continue;
            }
        };
        for (sheet, rows) in sheets {
            match read_sheet(&rows, &file, &sheet, report) {
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

/// A sheet's name and its rows of cells.
type Sheet = (String, Vec<Vec<Cell>>);

/// Every sheet of a workbook, or a CSV as one sheet named "", as cells.
fn read_cells(path: &Path) -> Result<Vec<Sheet>, String> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ext == "csv" {
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        let (text, _) = super::text::decode(&bytes);
        let rows = super::csv_lines::records(&text)
            .map(|r| r.fields.into_iter().map(Cell::Text).collect())
            .collect();
        return Ok(vec![(String::new(), rows)]);
    }
    use calamine::{Reader, open_workbook_auto};
    let mut book = open_workbook_auto(path).map_err(|e| e.to_string())?;
    let mut out = vec![];
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|e| e.to_string())?;
        let rows = range
            .rows()
            .map(|r| r.iter().map(xlsx_cell).collect())
            .collect();
        out.push((name, rows));
    }
    Ok(out)
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
    let sheets = read_cells(&path)?;
    let (sheet, rows) = sheets
        .into_iter()
        .next()
        .ok_or_else(|| format!("{}: empty", path.display()))?;
    let header: Vec<String> = rows
        .first()
        .map(|r| r.iter().map(text_of).collect())
        .unwrap_or_default();
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
    for (ri, row) in rows.iter().enumerate().skip(1) {
        let child = row.get(child_at).map(text_of).unwrap_or_default();
        if child.is_empty() || !seen.insert(child.clone()) {
            continue;
        }
        for (k, (field, at, kind)) in fields.iter().enumerate() {
            let cell = row.get(*at).unwrap_or(&Cell::Empty);
            values[k].push(read_cell(cell, *kind).unwrap_or_else(|why| {
                report.push(Issue {
                    file: file.clone(),
                    location: location(&sheet, ri),
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
