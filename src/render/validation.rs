//! The DfE validation report, as DfE's own portal lays one out and more: per rule (code, error
//! or query, message, rows and children), per child and rule (the row, the blamed fields and
//! their values), the rules that could not run and why, cspi's own reader findings, and the
//! figures each error moves. The same sheets are written as one workbook, one CSV per sheet
//! and one self-contained HTML page, so the three never disagree.
//!
//! The report is **child-level** (it names children, as a validator must): it is a drill-down
//! output for the performance team, says so on every format, and is never part of a pack.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::domain::io::write_bytes;
use crate::indicators::catalogue::Unit;
use crate::indicators::impact::Moved;
use crate::ingest::report::{Issue, Report, Severity};
use crate::ingest::returns::ReturnKey;

use super::RenderError;
use super::svg::escape;

/// What the report is made from.
pub struct ValidationInput<'a> {
    pub report: &'a Report,
    /// The returns validated and the files each was read from.
    pub returns: &'a [(ReturnKey, Vec<String>)],
    /// The figures each return's findings move (empty when not worked out).
    pub moved: &'a [(ReturnKey, Vec<Moved>)],
    /// Whether last year's return was given (else the cross-year rules did not run).
    pub previous_read: bool,
    /// The date the in-year extract of its collection year runs to, when one was validated.
    pub as_at: Option<chrono::NaiveDate>,
}

/// The banner every format carries.
pub const CHILD_LEVEL: &str = "Child-level data: for the performance team correcting the return. \
     Not for publication or circulation beyond those who hold the case records.";

/// A cell: text or a number (numbers stay numbers in the workbook).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            // Three decimals at most: a change of 0.6 points, not 0.6000000000000014.
            Cell::Number(n) => {
                let s = format!("{n:.3}");
                let s = s.trim_end_matches('0').trim_end_matches('.');
                if s == "-0" { "0".into() } else { s.to_string() }
            }
            Cell::Empty => String::new(),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<usize> for Cell {
    fn from(n: usize) -> Cell {
        Cell::Number(n as f64)
    }
}

impl From<Option<f64>> for Cell {
    fn from(n: Option<f64>) -> Cell {
        n.map_or(Cell::Empty, Cell::Number)
    }
}

/// One sheet of the report.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// Sheet name, also the CSV file's stem (`dfe_validation_<file>.csv`).
    pub name: &'static str,
    pub file: &'static str,
    pub about: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// A rule's first finding (for its message), rows and children.
type RuleTally<'a> = (&'a Issue, usize, BTreeSet<&'a str>);

/// Which return a finding belongs to, and the cells that name it.
struct Returns<'a> {
    by_file: BTreeMap<&'a str, &'a ReturnKey>,
    /// A finding about the whole return names all its files.
    whole: BTreeMap<String, &'a ReturnKey>,
    as_at: Option<chrono::NaiveDate>,
}

impl<'a> Returns<'a> {
    fn new(input: &ValidationInput<'a>) -> Returns<'a> {
        let by_file = input
            .returns
            .iter()
            .flat_map(|(key, files)| files.iter().map(move |f| (f.as_str(), key)))
            .collect();
        let whole = input
            .returns
            .iter()
            .map(|(key, files)| (files.join(", "), key))
            .collect();
        Returns {
            by_file,
            whole,
            as_at: input.as_at,
        }
    }

    /// The return a finding's file (or list of files) was read from.
    fn of(&self, issue: &Issue) -> Option<&'a ReturnKey> {
        self.by_file
            .get(issue.file.as_ref())
            .copied()
            .or_else(|| self.whole.get(issue.file.as_ref()).copied())
    }

    /// LA, year and return name: the first three cells of a row about a return.
    fn key_cells(&self, key: Option<&ReturnKey>) -> Vec<Cell> {
        match key {
            Some(k) => vec![
                k.la_code.to_string().into(),
                Cell::Number(f64::from(k.year)),
                return_name(k, self.as_at).into(),
            ],
            None => vec![Cell::Empty, Cell::Empty, Cell::Empty],
        }
    }
}

/// The report's sheets, in order.
pub fn sheets(input: &ValidationInput) -> Vec<Sheet> {
    let returns = Returns::new(input);
    let dfe: Vec<&Issue> = input
        .report
        .issues
        .iter()
        .filter(|i| matches!(i.severity, Severity::DfeError | Severity::DfeQuery))
        .collect();
    let rules = rule_rows(&returns, &dfe);
    let findings = finding_rows(&returns, &dfe);
    let not_run = not_run_rows(&returns, input.report);
    let own = reading_rows(input.report);
    let moved = moved_rows(&returns, input.moved);
    vec![
        Sheet {
            name: "Rules",
            file: "rules",
            about: "Each DfE rule the return fails: DfE's code and message, error (the return is not accepted until it is fixed) or query (to confirm or explain), with the rows and children it flags.",
            headers: vec![
                "LA", "Year", "Return", "Rule", "Type", "Message", "Rows", "Children",
            ],
            rows: rules,
        },
        Sheet {
            name: "Errors by child",
            file: "errors",
            about: "Each row a DfE rule flags: the child, where the row is in the file, and the blamed fields with the values sent. No row is removed for failing a rule.",
            headers: vec![
                "LA", "Year", "Return", "Child", "Rule", "Type", "Message", "File", "Row",
                "Fields", "Values",
            ],
            rows: findings,
        },
        Sheet {
            name: "Figures moved",
            file: "figures_moved",
            about: "What each rule's flagged rows do to the figures: every indicator of the return's year (and its 31 March snapshot) computed as returned and with the children the rule flags left out; only figures that change are listed, largest change first.",
            headers: vec![
                "LA",
                "Year",
                "Return",
                "Rule",
                "Type",
                "Children flagged",
                "Indicator",
                "Title",
                "Period",
                "Breakdown",
                "As returned",
                "Without flagged children",
                "Change",
                "Reading",
            ],
            rows: moved,
        },
        Sheet {
            name: "Rules not run",
            file: "not_run",
            about: if input.previous_read {
                "Rules that could not run on this return, and the data each needs. A rule not run has not passed."
            } else {
                "Rules that could not run on this return, and the data each needs (the cross-year rules need last year's return: --previous). A rule not run has not passed."
            },
            headers: vec!["LA", "Year", "Return", "Rule", "Why"],
            rows: not_run,
        },
        Sheet {
            name: "Reading the files",
            file: "reading",
            about: "cspi's own findings while reading the files: an error means the row (or file) could not be used at all; a warning that a value was left empty.",
            headers: vec![
                "Severity", "File", "Row", "Table", "Child", "Field", "Value", "Check", "Message",
            ],
            rows: own,
        },
    ]
}

/// The "Rules" sheet: per return and DfE rule, its first message, rows and children.
fn rule_rows(returns: &Returns, dfe: &[&Issue]) -> Vec<Vec<Cell>> {
    let mut per_rule: BTreeMap<(Option<&ReturnKey>, &str), RuleTally> = BTreeMap::new();
    for i in dfe {
        let e = per_rule
            .entry((returns.of(i), i.rule))
            .or_insert((i, 0, BTreeSet::new()));
        e.1 += 1;
        if let Some(c) = &i.child {
            e.2.insert(c.as_str());
        }
    }
    let mut rules: Vec<Vec<Cell>> = per_rule
        .iter()
        .map(|((key, code), (first, rows, children))| {
            let mut r = returns.key_cells(*key);
            r.extend([
                (*code).into(),
                kind(first.severity).into(),
                first.message.as_str().into(),
                (*rows).into(),
                children.len().into(),
            ]);
            r
        })
        .collect();
    // Errors before queries, then by the number of rows (the work to do first).
    rules.sort_by(|a, b| {
        (a[4].text(), number(&b[6]) as i64, a[3].text()).cmp(&(
            b[4].text(),
            number(&a[6]) as i64,
            b[3].text(),
        ))
    });
    rules
}

/// The "Errors by child" sheet: every row a DfE rule flags.
fn finding_rows(returns: &Returns, dfe: &[&Issue]) -> Vec<Vec<Cell>> {
    dfe.iter()
        .map(|i| {
            let mut r = returns.key_cells(returns.of(i));
            r.extend([
                i.child.clone().unwrap_or_default().into(),
                i.rule.into(),
                kind(i.severity).into(),
                i.message.as_str().into(),
                i.file.as_ref().into(),
                i.location.as_str().into(),
                i.field.as_str().into(),
                i.value.clone().unwrap_or_default().into(),
            ]);
            r
        })
        .collect()
}

/// The "Rules not run" sheet: the notes saying a DfE rule could not run, and why.
fn not_run_rows(returns: &Returns, report: &Report) -> Vec<Vec<Cell>> {
    report
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Note && i.message.starts_with("DfE rule "))
        .map(|i| {
            let mut r = returns.key_cells(returns.of(i));
            r.extend([i.rule.into(), i.message.as_str().into()]);
            r
        })
        .collect()
}

/// The "Reading the files" sheet: cspi's own errors and warnings.
fn reading_rows(report: &Report) -> Vec<Vec<Cell>> {
    report
        .issues
        .iter()
        .filter(|i| matches!(i.severity, Severity::Error | Severity::Warning))
        .map(|i| {
            vec![
                i.severity.as_str().into(),
                i.file.as_ref().into(),
                i.location.as_str().into(),
                i.table.as_str().into(),
                i.child.clone().unwrap_or_default().into(),
                i.field.as_str().into(),
                i.value.clone().unwrap_or_default().into(),
                i.rule.into(),
                i.message.as_str().into(),
            ]
        })
        .collect()
}

/// The "Figures moved" sheet: each figure a rule's flagged children move, per return.
fn moved_rows(returns: &Returns, moved: &[(ReturnKey, Vec<Moved>)]) -> Vec<Vec<Cell>> {
    moved
        .iter()
        .flat_map(|(key, moved)| moved.iter().map(move |m| (key, m)))
        .map(|(key, m)| {
            let mut r = returns.key_cells(Some(key));
            r.extend([
                m.rule.as_str().into(),
                kind(m.severity).into(),
                m.children.into(),
                m.indicator_id.as_str().into(),
                m.title.as_str().into(),
                format!(
                    "{} {}",
                    m.period_type.name(),
                    m.period_end.format("%d/%m/%Y")
                )
                .into(),
                m.breakdown.clone().unwrap_or_default().into(),
                m.with.into(),
                m.without.into(),
                m.change().into(),
                moved_reading(m).into(),
            ]);
            r
        })
        .collect()
}

fn number(c: &Cell) -> f64 {
    match c {
        Cell::Number(n) => *n,
        _ => 0.0,
    }
}

fn kind(severity: Severity) -> &'static str {
    match severity {
        Severity::DfeQuery => "query",
        _ => "error",
    }
}

/// The return's name, saying when it is an in-year extract (its rules were judged at its date).
fn return_name(key: &ReturnKey, as_at: Option<chrono::NaiveDate>) -> String {
    let name = match key.collection {
        crate::ingest::returns::Collection::Ssda903 => "SSDA903",
        crate::ingest::returns::Collection::Cin => "CIN census",
    };
    match as_at.and_then(|d| crate::ingest::returns::extract_date(d, key.year)) {
        Some(d) => format!("{name} extract to {}", d.format("%d/%m/%Y")),
        None => name.to_string(),
    }
}

/// A figure with its unit: one decimal for percentages, rates and means, none for counts and
/// days (the report's own style; the packs round each figure to its definition's decimals).
fn show(unit: Unit, value: Option<f64>) -> String {
    let Some(v) = value else {
        return "no figure".into();
    };
    match unit {
        Unit::Percent => format!("{v:.1}%"),
        Unit::RatePer10k => format!("{v:.1} per 10,000"),
        Unit::Count => format!("{v:.0}"),
        Unit::MeanDays => format!("{v:.0} days"),
        Unit::Mean => format!("{v:.1}"),
    }
}

/// "302 (3 children): Children looked after at 31 March 1,234 → 1,231".
pub fn moved_reading(m: &Moved) -> String {
    let what = match &m.breakdown {
        Some(b) => format!("{} ({b})", m.title),
        None => m.title.clone(),
    };
    format!(
        "{} ({} {}): {what}, {} {} → {} without them",
        m.rule,
        m.children,
        if m.children == 1 { "child" } else { "children" },
        m.period_type.name().replace('_', " "),
        show(m.unit, m.with),
        show(m.unit, m.without)
    )
}

/// Writes `dfe_validation.xlsx`, `dfe_validation.html` and `dfe_validation_<sheet>.csv` under
/// `dir` (each atomically); returns the paths written.
pub fn write(dir: &Path, input: &ValidationInput) -> Result<Vec<PathBuf>, RenderError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| RenderError::Io(p, e)
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let sheets = sheets(input);
    let mut written = vec![];
    let xlsx = dir.join("dfe_validation.xlsx");
    write_bytes(&xlsx, &workbook(&sheets)?).map_err(io(&xlsx))?;
    written.push(xlsx);
    let html = dir.join("dfe_validation.html");
    write_bytes(&html, page(&sheets, input).as_bytes()).map_err(io(&html))?;
    written.push(html);
    for sheet in &sheets {
        let path = dir.join(format!("dfe_validation_{}.csv", sheet.file));
        write_bytes(&path, csv(sheet).as_bytes()).map_err(io(&path))?;
        written.push(path);
    }
    Ok(written)
}

fn workbook(sheets: &[Sheet]) -> Result<Vec<u8>, RenderError> {
    let mut book = super::new_workbook()?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let about = book.add_worksheet();
    about.set_name("About")?;
    about.write_string_with_format(0, 0, "DfE validation report", &bold)?;
    about.write_string(1, 0, CHILD_LEVEL)?;
    for (i, s) in sheets.iter().enumerate() {
        let row = 3 + i as u32;
        about.write_string_with_format(row, 0, s.name, &bold)?;
        about.write_string(row, 1, s.about)?;
    }
    for s in sheets {
        let ws = book.add_worksheet();
        ws.set_name(s.name)?;
        for (c, h) in s.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        for (r, row) in s.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Cell::Text(t) => ws.write_string(r, c as u16, t)?,
                    Cell::Number(n) => ws.write_number(r, c as u16, *n)?,
                    Cell::Empty => ws,
                };
            }
        }
        ws.set_freeze_panes(1, 0)?;
        if !s.rows.is_empty() {
            ws.autofilter(0, 0, s.rows.len() as u32, s.headers.len() as u16 - 1)?;
        }
    }
    Ok(book.save_to_buffer()?)
}

/// RFC 4180 CSV: fields with a comma, quote or line break quoted, quotes doubled.
fn csv(sheet: &Sheet) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    out.push_str(
        &sheet
            .headers
            .iter()
            .map(|h| field(h))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push('\n');
    for row in &sheet.rows {
        out.push_str(
            &row.iter()
                .map(|c| field(&c.text()))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

fn page(sheets: &[Sheet], input: &ValidationInput) -> String {
    let mut out = String::new();
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>DfE validation report</title><style>\
         body{font-family:'DejaVu Sans',Arial,sans-serif;margin:1em 2em;color:#111}\
         .child-level{background:#fde8e8;border:2px solid #a01010;padding:0.5em 1em;font-weight:bold}\
         table{border-collapse:collapse;margin-bottom:2em;font-size:0.9em}\
         td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}\
         th{background:#eee}td.n{text-align:right}</style></head><body>",
    );
    let _ = write!(
        out,
        "<p class=\"child-level\">{}</p><h1>DfE validation report</h1><ul>",
        escape(CHILD_LEVEL)
    );
    for (key, files) in input.returns {
        let errors = count(input.report, files, Severity::DfeError);
        let queries = count(input.report, files, Severity::DfeQuery);
        let _ = write!(
            out,
            "<li>{} {} {}: {errors} rows failing DfE errors, {queries} rows with queries ({})</li>",
            escape(&return_name(key, input.as_at)),
            key.la_code,
            key.year,
            escape(&files.join(", "))
        );
    }
    out.push_str("</ul>");
    for s in sheets {
        let _ = write!(
            out,
            "<section data-sheet=\"{}\"><h2>{} ({})</h2><p>{}</p><table><thead><tr>",
            s.file,
            escape(s.name),
            s.rows.len(),
            escape(s.about)
        );
        for h in &s.headers {
            let _ = write!(out, "<th>{}</th>", escape(h));
        }
        out.push_str("</tr></thead><tbody>");
        for row in &s.rows {
            out.push_str("<tr>");
            for c in row {
                let class = if matches!(c, Cell::Number(_)) {
                    " class=\"n\""
                } else {
                    ""
                };
                let _ = write!(out, "<td{class}>{}</td>", escape(&c.text()));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table></section>");
    }
    out.push_str("</body></html>\n");
    out
}

fn count(report: &Report, files: &[String], severity: Severity) -> usize {
    report
        .issues
        .iter()
        .filter(|i| i.severity == severity && i.in_files(files))
        .count()
}
