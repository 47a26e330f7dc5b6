//! Typed, validated column building: text cells in, a canonical polars table out.
//!
//! Every reader (903 CSV, 903 XML, CIN XML) hands rows of trimmed text cells to a
//! [`TableBuilder`], which parses each cell by its declared kind, checks codes against the
//! collection year's lists, decides whether the row is kept, and records every problem as an
//! [`Issue`]. A row is rejected only when a *required* value is missing or unreadable; a bad
//! optional value is reported and left empty. Keeping this in one place is what makes the three
//! readers validate identically.

use std::borrow::Cow;
use std::sync::Arc;

use polars::prelude::*;

use super::report::{Issue, Severity, TableCount};
use super::spec::{ColumnSpec, DateStyle, Kind, Required, TableSpec};
use crate::domain::codes::{CodeList, CodeLists, CodeProblem};
use chrono::NaiveDate;

use crate::domain::dates::{format_dmy, parse_date, to_epoch_days};

/// A parsed cell, borrowed from the input where possible.
#[derive(Debug, Clone)]
enum Cell<'a> {
    Null,
    Str(Cow<'a, str>),
    Date(i32),
    Int(i64),
    Bool(bool),
}

enum Buffer {
    Str(StringChunkedBuilder),
    Date(Vec<Option<i32>>),
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
}

/// A problem with one cell: the rule broken and a message a performance analyst can act on.
struct Problem {
    rule: &'static str,
    message: String,
}

/// Where the row being pushed came from, for the report.
pub struct RowSource<'a> {
    pub file: &'a Arc<str>,
    /// CSV line number, or the XML unit (child) ordinal.
    pub source_row: u32,
    /// Location text for a column (`line 12`, or the XML path of the field).
    pub locate: &'a dyn Fn(&ColumnSpec) -> String,
}

/// The column that records, per row, the values the reader could not read: for each, a
/// [`invalid_marker`] followed by the text as sent. The typed column holds null there, so the
/// DfE rules can tell "not valid" (`<column>_invalid`) from "not entered", and the report can
/// show the LA the value it has to correct.
pub const INVALID_COLUMN: &str = "_invalid";

/// The marker of one unreadable value of `column` in [`INVALID_COLUMN`] (control characters
/// never left in trimmed return text, so a marker cannot be forged by a cell).
pub fn invalid_marker(column: &str) -> String {
    format!("\u{1f}{column}\u{1e}")
}

/// The text as sent of an unreadable value of `column`, from a row's [`INVALID_COLUMN`].
pub fn invalid_value<'a>(invalid: &'a str, column: &str) -> Option<&'a str> {
    let marker = invalid_marker(column);
    let at = invalid.find(&marker)? + marker.len();
    let rest = &invalid[at..];
    Some(rest.split('\u{1f}').next().unwrap_or(rest))
}

/// Builds one canonical table from validated rows.
pub struct TableBuilder<'s> {
    spec: &'s TableSpec,
    year: i32,
    date_style: DateStyle,
    codes: Vec<Option<&'s CodeList>>,
    required_with: Vec<Option<usize>>,
    /// (column, value it must have; None: any value).
    emit_when: Vec<(usize, Option<&'s str>)>,
    buffers: Vec<Buffer>,
    source_rows: Vec<u32>,
    invalid: StringChunkedBuilder,
    child_column: Option<usize>,
    pub count: TableCount,
}

impl<'s> TableBuilder<'s> {
    /// A builder for `spec`, validating codes against `lists` for collection `year`.
    pub fn new(
        spec: &'s TableSpec,
        lists: &'s CodeLists,
        year: i32,
        date_style: DateStyle,
    ) -> Self {
        let codes = spec
            .columns
            .iter()
            .map(|c| c.codes.as_deref().map(|name| lists.list(name)))
            .collect();
        let required_with = spec
            .columns
            .iter()
            .map(|c| match &c.required {
                Required::With(other) => spec.column_index(other),
                Required::Always(_) => None,
            })
            .collect();
        let buffers = spec
            .columns
            .iter()
            .map(|c| match c.kind {
                Kind::Date => Buffer::Date(Vec::new()),
                Kind::Int => Buffer::Int(Vec::new()),
                Kind::Bool => Buffer::Bool(Vec::new()),
                _ => Buffer::Str(StringChunkedBuilder::new(c.name.as_str().into(), 1024)),
            })
            .collect();
        TableBuilder {
            spec,
            year,
            date_style,
            codes,
            required_with,
            emit_when: spec
                .emit_when
                .iter()
                .filter_map(|c| {
                    let (name, value) = match c.split_once('=') {
                        Some((name, value)) => (name, Some(value)),
                        None => (c.as_str(), None),
                    };
                    spec.column_index(name).map(|i| (i, value))
                })
                .collect(),
            buffers,
            source_rows: Vec::new(),
            invalid: StringChunkedBuilder::new(INVALID_COLUMN.into(), 16),
            child_column: spec.column_index("child"),
            count: TableCount::default(),
        }
    }

    pub fn spec(&self) -> &'s TableSpec {
        self.spec
    }

    /// Whether a row with these raw cells should exist at all: XML tables that share a record
    /// element (UASC, OC3, AD1 in the 903 HEADER) exist only for children with those fields
    /// (a UASC row for a child with a DUC or with UASC 1, so a blank DUC loses no child).
    pub fn wants(&self, raw: &[Option<&str>]) -> bool {
        self.emit_when.is_empty()
            || self.emit_when.iter().any(|&(i, wanted)| {
                let value = raw[i].map(str::trim).filter(|v| !v.is_empty());
                match wanted {
                    None => value.is_some(),
                    Some(w) => value == Some(w),
                }
            })
    }

    /// Validates one row of raw cells (one per spec column, `None` when absent) and keeps it
    /// unless a required value is missing or unreadable. Returns whether the row was kept.
    pub fn push_row(
        &mut self,
        raw: &[Option<&str>],
        source: &RowSource,
        issues: &mut Vec<Issue>,
    ) -> bool {
        debug_assert_eq!(raw.len(), self.spec.columns.len());
        self.count.read += 1;
        let child = self
            .child_column
            .and_then(|i| raw[i])
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let (cells, mut problems) = self.parse_cells(raw);
        self.missing_values(raw, &cells, &mut problems);
        let (rejected, invalid) = self.report_problems(raw, problems, source, child, issues);
        if rejected {
            self.count.rejected += 1;
            return false;
        }
        self.append_row(cells, source.source_row, &invalid);
        self.count.kept += 1;
        true
    }

    /// Each cell parsed by its column's kind; an unreadable one is left null, its problem
    /// returned beside it.
    #[inline]
    fn parse_cells<'a>(&self, raw: &[Option<&'a str>]) -> (Vec<Cell<'a>>, Vec<(usize, Problem)>) {
        let mut cells: Vec<Cell> = Vec::with_capacity(raw.len());
        let mut problems: Vec<(usize, Problem)> = Vec::new();
        for (i, column) in self.spec.columns.iter().enumerate() {
            let value = raw[i].map(str::trim).filter(|s| !s.is_empty());
            match value {
                None => cells.push(Cell::Null),
                Some(text) => {
                    match parse_cell(column, self.codes[i], self.year, self.date_style, text) {
                        Ok(cell) => cells.push(cell),
                        Err(problem) => {
                            cells.push(Cell::Null);
                            problems.push((i, problem));
                        }
                    }
                }
            }
        }
        (cells, problems)
    }

    /// The problems of values left blank: required ones missing (only reported when the value
    /// is absent, not already reported as unreadable), and blanks the spec reads as an
    /// assumed value (`when_blank`).
    #[inline]
    fn missing_values(
        &self,
        raw: &[Option<&str>],
        cells: &[Cell],
        problems: &mut Vec<(usize, Problem)>,
    ) {
        for (i, column) in self.spec.columns.iter().enumerate() {
            let needed = match &column.required {
                Required::Always(r) => *r,
                Required::With(_) => {
                    self.required_with[i].is_some_and(|j| !matches!(cells[j], Cell::Null))
                }
            };
            let absent = raw[i].map(str::trim).is_none_or(str::is_empty);
            if needed && absent {
                let message = match &column.required {
                    Required::With(other) => format!(
                        "{} is required when {} is given",
                        field_name(column),
                        other.to_uppercase()
                    ),
                    _ => format!("{} is required", field_name(column)),
                };
                problems.push((
                    i,
                    Problem {
                        rule: "required",
                        message,
                    },
                ));
            }
        }
        for (i, column) in self.spec.columns.iter().enumerate() {
            if let Some(assumed) = &column.when_blank
                && raw[i].map(str::trim).is_none_or(str::is_empty)
            {
                problems.push((
                    i,
                    Problem {
                        rule: "blank",
                        message: format!("{} is blank: {assumed}", field_name(column)),
                    },
                ));
            }
        }
    }

    /// Reports the row's problems; returns whether one rejects the row, and the row's
    /// [`INVALID_COLUMN`] text (the unreadable values as sent).
    fn report_problems(
        &self,
        raw: &[Option<&str>],
        problems: Vec<(usize, Problem)>,
        source: &RowSource,
        child: Option<&str>,
        issues: &mut Vec<Issue>,
    ) -> (bool, String) {
        let mut rejected = false;
        let mut invalid = String::new();
        for (i, problem) in problems {
            let column = &self.spec.columns[i];
            // Only a value the row cannot be used without (its key) rejects it; a value DfE
            // requires but the row can do without is the DfE rules' business (the row is kept
            // and flagged there).
            let is_required = column.required == Required::Always(true);
            if !matches!(problem.rule, "required" | "blank")
                && let Some(raw) = raw[i]
            {
                invalid.push_str(&invalid_marker(&column.name));
                invalid.push_str(raw.trim());
            }
            let severity = if is_required {
                Severity::Error
            } else {
                Severity::Warning
            };
            rejected |= is_required;
            let message = if is_required {
                format!("{}; the row was rejected", problem.message)
            } else if matches!(problem.rule, "required" | "blank") {
                format!("{}; the row was kept", problem.message)
            } else {
                format!("{}; the value was left empty", problem.message)
            };
            issues.push(Issue {
                file: source.file.clone(),
                location: (source.locate)(column),
                table: self.spec.name.clone(),
                child: child.map(str::to_string),
                field: field_name(column),
                value: raw[i].map(|v| v.trim().to_string()),
                rule: problem.rule,
                severity,
                message,
            });
        }
        (rejected, invalid)
    }

    /// Appends a kept row's typed cells, its source row and its unreadable values.
    #[inline]
    fn append_row(&mut self, cells: Vec<Cell>, source_row: u32, invalid: &str) {
        for (buffer, cell) in self.buffers.iter_mut().zip(cells) {
            match (buffer, cell) {
                (Buffer::Str(b), Cell::Str(s)) => b.append_value(s.as_ref()),
                (Buffer::Str(b), _) => b.append_null(),
                (Buffer::Date(b), Cell::Date(d)) => b.push(Some(d)),
                (Buffer::Date(b), _) => b.push(None),
                (Buffer::Int(b), Cell::Int(v)) => b.push(Some(v)),
                (Buffer::Int(b), _) => b.push(None),
                (Buffer::Bool(b), Cell::Bool(v)) => b.push(Some(v)),
                (Buffer::Bool(b), _) => b.push(None),
            }
        }
        self.source_rows.push(source_row);
        if invalid.is_empty() {
            self.invalid.append_null();
        } else {
            self.invalid.append_value(invalid);
        }
    }

    /// The canonical table: `la_code`, `source_year`, the spec's columns, `source_file`,
    /// `source_row`.
    pub fn finish(
        self,
        la_code: &str,
        source_year: i32,
        source_file: &str,
    ) -> PolarsResult<DataFrame> {
        let height = self.source_rows.len();
        let mut columns: Vec<Column> = Vec::with_capacity(self.buffers.len() + 4);
        columns.push(Column::new_scalar(
            "la_code".into(),
            Scalar::from(PlSmallStr::from(la_code)),
            height,
        ));
        columns.push(Column::new_scalar(
            "source_year".into(),
            Scalar::from(source_year),
            height,
        ));
        for (buffer, column) in self.buffers.into_iter().zip(&self.spec.columns) {
            let name: PlSmallStr = column.name.as_str().into();
            columns.push(match buffer {
                Buffer::Str(b) => b.finish().into_column(),
                Buffer::Date(v) => Int32Chunked::from_iter_options(name, v.into_iter())
                    .into_date()
                    .into_column(),
                Buffer::Int(v) => {
                    Int64Chunked::from_iter_options(name, v.into_iter()).into_column()
                }
                Buffer::Bool(v) => {
                    BooleanChunked::from_iter_options(name, v.into_iter()).into_column()
                }
            });
        }
        columns.push(Column::new_scalar(
            "source_file".into(),
            Scalar::from(PlSmallStr::from(source_file)),
            height,
        ));
        columns.push(Column::new("source_row".into(), self.source_rows));
        columns.push(self.invalid.finish().into_column());
        DataFrame::new(height, columns)
    }
}

/// The name a user sees for a field: the CSV header, else the XML element, else the column.
pub fn field_name(column: &ColumnSpec) -> String {
    column
        .csv
        .clone()
        .or_else(|| {
            column
                .xml
                .first()
                .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
        })
        .unwrap_or_else(|| column.name.clone())
}

fn parse_cell<'a>(
    column: &ColumnSpec,
    codes: Option<&CodeList>,
    year: i32,
    date_style: DateStyle,
    text: &'a str,
) -> Result<Cell<'a>, Problem> {
    match column.kind {
        Kind::Id | Kind::Text => Ok(Cell::Str(Cow::Borrowed(text))),
        Kind::Code => {
            let list = codes.expect("code column has a list");
            check_code(list, text, year).map(|c| Cell::Str(Cow::Owned(c.to_string())))
        }
        Kind::List => {
            let list = codes.expect("list column has a list");
            let mut out = String::with_capacity(text.len());
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let code = check_code(list, part, year)?;
                if !out.is_empty() {
                    out.push(',');
                }
                out.push_str(code);
            }
            Ok(Cell::Str(Cow::Owned(out)))
        }
        Kind::Date => {
            let date = parse_date(text).ok_or_else(|| Problem {
                rule: "date",
                message: format!(
                    "'{text}' is not a valid date (expected {})",
                    match date_style {
                        DateStyle::Dmy => "DD/MM/YYYY",
                        DateStyle::Iso => "YYYY-MM-DD",
                    }
                ),
            })?;
            let (earliest, latest) = plausible_dates(year, column.future_years.unwrap_or(1));
            if date < earliest || date > latest {
                return Err(Problem {
                    rule: "implausible_date",
                    message: format!(
                        "'{text}' is not a plausible date for the {}/{} collection (a return's dates fall between {} and {})",
                        year - 1,
                        year % 100,
                        format_dmy(earliest),
                        format_dmy(latest)
                    ),
                });
            }
            Ok(Cell::Date(to_epoch_days(date)))
        }
        Kind::Int => {
            let value: i64 = text.parse().map_err(|_| Problem {
                rule: "number",
                message: format!("'{text}' is not a whole number"),
            })?;
            if column.min.is_some_and(|m| value < m) || column.max.is_some_and(|m| value > m) {
                return Err(Problem {
                    rule: "range",
                    message: format!(
                        "{value} is outside the allowed range {}–{}",
                        column.min.map_or("".into(), |m| m.to_string()),
                        column.max.map_or("".into(), |m| m.to_string())
                    ),
                });
            }
            Ok(Cell::Int(value))
        }
        Kind::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "1" | "y" | "yes" => Ok(Cell::Bool(true)),
            "false" | "0" | "n" | "no" => Ok(Cell::Bool(false)),
            _ => Err(Problem {
                rule: "bool",
                message: format!("'{text}' is not true/false (or 1/0)"),
            }),
        },
        Kind::Postcode => normalise_postcode(text)
            .map(|p| Cell::Str(Cow::Owned(p)))
            .ok_or_else(|| Problem {
                rule: "postcode",
                message: format!("'{text}' is not a postcode or postcode sector"),
            }),
        Kind::Upn => {
            let upper = text.to_ascii_uppercase();
            if upn_is_valid(&upper) {
                Ok(Cell::Str(Cow::Owned(upper)))
            } else {
                Err(Problem {
                    rule: "upn",
                    message: format!(
                        "'{text}' is not a valid UPN (13 characters with a correct check letter)"
                    ),
                })
            }
        }
    }
}

fn check_code<'l>(list: &'l CodeList, text: &str, year: i32) -> Result<&'l str, Problem> {
    list.check(text, year).map_err(|problem| match problem {
        CodeProblem::Unknown => Problem {
            rule: "code",
            message: format!("'{text}' is not a {} code", list.name),
        },
        CodeProblem::NotValidInYear { valid } => Problem {
            rule: "code_year",
            message: format!(
                "'{text}' is a {} code valid {valid}, not in the {}/{} collection",
                list.name,
                year - 1,
                year % 100
            ),
        },
    })
}

/// The range of dates a return for collection `year` can hold in a field that may fall up to
/// `future_years` after the year ends.
///
/// Earlier than 1900 is a typing error or a placeholder (`01/01/0000`): no child, parent or
/// event in a children's services return is that old. The latest is by default one year after
/// the end of the collection year (31 March of `year + 1`): an unborn child's expected date of
/// birth may be up to ~9 months after the census date and extracts are taken months after the
/// year end, but a date further ahead (`31/12/9999`) is a placeholder. A field that looks ahead
/// declares more years in its spec (`future_years`: DUC, the date a UASC turns 18). Dates merely
/// after the year end are judged by the cross-row rules (`after_year_end`), field by field.
pub fn plausible_dates(year: i32, future_years: i32) -> (NaiveDate, NaiveDate) {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let latest =
        NaiveDate::from_ymd_opt(year.saturating_add(future_years), 3, 31).unwrap_or(NaiveDate::MAX);
    (earliest, latest)
}

/// Upper-cases a postcode and puts one space before the inward code: "ss12pa" → "SS1 2PA".
/// A sector ("SS1 2", outward code plus the first inward character) is accepted as sent:
/// some systems send only the sector.
pub fn normalise_postcode(text: &str) -> Option<String> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    // Postcodes are ASCII; checking first keeps the byte-index splits below on character
    // boundaries whatever was typed ("A€12", a Windows-1252 "£").
    if !compact.is_ascii() {
        return None;
    }
    let had_space = text.trim().contains(' ');
    let valid_outward = |o: &str| {
        let b = o.as_bytes();
        (2..=4).contains(&b.len())
            && b[0].is_ascii_alphabetic()
            && b.iter().all(u8::is_ascii_alphanumeric)
            && b.iter().any(u8::is_ascii_digit)
    };
    let n = compact.len();
    if (5..=7).contains(&n) {
        let (outward, inward) = compact.split_at(n - 3);
        let ib = inward.as_bytes();
        if valid_outward(outward)
            && ib[0].is_ascii_digit()
            && ib[1].is_ascii_alphabetic()
            && ib[2].is_ascii_alphabetic()
        {
            return Some(format!("{outward} {inward}"));
        }
    }
    if had_space && (3..=5).contains(&n) {
        let (outward, digit) = compact.split_at(n - 1);
        if valid_outward(outward) && digit.as_bytes()[0].is_ascii_digit() {
            return Some(format!("{outward} {digit}"));
        }
    }
    None
}

/// Letters used for UPN check characters (and a final letter in temporary UPNs), in value order.
const UPN_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";

/// The check letter of the 12 characters after it (DfE UPN specification: characters 2–13
/// weighted 2–13, sum modulo 23 indexes the letter table).
pub fn upn_check_letter(rest: &[u8]) -> Option<u8> {
    if rest.len() != 12 {
        return None;
    }
    let mut sum = 0u32;
    for (i, &b) in rest.iter().enumerate() {
        let value = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else if i == 11 {
            UPN_LETTERS.iter().position(|&l| l == b)? as u32
        } else {
            return None;
        };
        sum += value * (i as u32 + 2);
    }
    Some(UPN_LETTERS[(sum % 23) as usize])
}

/// Whether a (trimmed, upper-cased) UPN has 13 characters and the right check letter.
pub fn upn_is_valid(upn: &str) -> bool {
    let b = upn.as_bytes();
    b.len() == 13 && upn_check_letter(&b[1..]) == Some(b[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postcodes_and_sectors() {
        assert_eq!(normalise_postcode("ss12pa").as_deref(), Some("SS1 2PA"));
        assert_eq!(
            normalise_postcode(" SW1A 1AA ").as_deref(),
            Some("SW1A 1AA")
        );
        assert_eq!(normalise_postcode("SS1 2").as_deref(), Some("SS1 2"));
        assert_eq!(normalise_postcode("SS12").as_deref(), None);
        assert_eq!(normalise_postcode("12345"), None);
        assert_eq!(normalise_postcode("not a postcode"), None);
        // Non-ASCII text is not a postcode (and used to panic: a byte-index split inside "€").
        assert_eq!(normalise_postcode("A€12"), None);
        assert_eq!(normalise_postcode("SS1 2P£"), None);
        assert_eq!(normalise_postcode("£S1 2"), None);
        assert_eq!(normalise_postcode("ÉS12PA"), None);
    }

    #[test]
    fn upn_check_letters() {
        // Weighted sum of "925123400001" = 2·9+3·2+4·5+5·1+6·2+7·3+8·4 + 13·1 = 127;
        // 127 mod 23 = 12, the 13th letter of ABCDEFGHJKLMNPQRTUVWXYZ is N.
        assert_eq!(upn_check_letter(b"925123400001"), Some(b'N'));
        assert!(upn_is_valid("N925123400001"));
        assert!(!upn_is_valid("A925123400001"));
        assert!(!upn_is_valid("N92512340000"));
    }
}
