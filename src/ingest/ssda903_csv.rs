//! SSDA903 CSV files: one file per table, recognised by its header set, whatever its name.
//!
//! LAs name their files differently (`episodes.csv`, `SSDA903_Episodes_2025.csv`, `ep.csv`), so
//! a file is matched to the table whose column set it fits best. The text is decoded whatever
//! its encoding (BOM, UTF-16, Windows-1252), headers and cells are trimmed, codes upper-cased by
//! the validator, blank rows skipped; each problem is reported with its line number.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::csv_lines::{Broken, Record, Records, records};
use super::report::{Issue, Severity};
use super::spec::{FormatSpec, Required, TableSpec};
use super::table::{RowSource, TableBuilder};
use super::text::{Encoding, decode};
use crate::domain::codes::CodeLists;

/// A CSV file matched to a table (or not).
pub struct CsvOutput<'s> {
    pub builder: Option<TableBuilder<'s>>,
    pub issues: Vec<Issue>,
    pub encoding: Encoding,
    pub blank_rows: u64,
}

/// Normalises a header cell: trimmed, upper-case, spaces as underscores, quotes removed.
pub fn normalise_header(h: &str) -> String {
    h.trim_matches(|c: char| c.is_whitespace() || c == '"' || c == '\u{feff}')
        .to_ascii_uppercase()
        .replace([' ', '-'], "_")
}

/// The table a header set belongs to: all its key columns present and the best overlap
/// (Jaccard) with its column set, at least one half.
pub fn recognise<'s>(header: &[String], spec: &'s FormatSpec) -> Option<&'s TableSpec> {
    let have: BTreeSet<&str> = header.iter().map(String::as_str).collect();
    spec.tables
        .iter()
        .filter(|t| t.csv)
        .filter(|t| {
            t.key.iter().filter(|k| *k != "source_year").all(|k| {
                t.columns[t.column_index(k).expect("key column")]
                    .csv
                    .as_deref()
                    .is_some_and(|c| have.contains(c))
            })
        })
        .map(|t| {
            let want: BTreeSet<&str> = t.columns.iter().filter_map(|c| c.csv.as_deref()).collect();
            let common = want.intersection(&have).count() as f64;
            let union = want.union(&have).count() as f64;
            (t, common / union)
        })
        .filter(|(_, score)| *score >= 0.5)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(t, _)| t)
}

/// Reads one 903 CSV file's bytes.
pub fn read<'s>(
    bytes: &[u8],
    spec: &'s FormatSpec,
    lists: &'s CodeLists,
    year: i32,
    file: &Arc<str>,
) -> CsvOutput<'s> {
    let (text, encoding) = decode(bytes);
    let mut out = CsvOutput {
        builder: None,
        issues: vec![],
        encoding,
        blank_rows: 0,
    };
    let mut records = records(&text);
    let Some(header) = read_header(&mut records, file, &mut out.issues) else {
        return out;
    };
    let Some(table) = recognise(&header, spec) else {
        out.issues.push(file_issue(
            file,
            Severity::Error,
            "unrecognised_file",
            "",
            format!(
                "the header ({}) does not match any SSDA903 table; see data/formats/ssda903.yaml for each table's columns",
                header.join(",")
            ),
        ));
        return out;
    };
    let index: Vec<Option<usize>> = table
        .columns
        .iter()
        .map(|c| {
            c.csv
                .as_deref()
                .and_then(|name| header.iter().position(|h| h == name))
        })
        .collect();
    let csv = CsvTable {
        file,
        table,
        header,
        index,
    };
    let missing_required = csv.report_missing_columns(&mut out.issues);
    csv.report_extra_columns(&mut out.issues);
    let mut builder = TableBuilder::new(table, lists, year, spec.date_style);
    csv.read_rows(records, missing_required, &mut builder, &mut out);
    out.builder = Some(builder);
    out
}

/// A problem with the whole file (or one of its columns).
fn file_issue(
    file: &Arc<str>,
    severity: Severity,
    rule: &'static str,
    field: &str,
    message: String,
) -> Issue {
    Issue {
        field: field.to_string(),
        ..Issue::file_level(file.clone(), rule, severity, message)
    }
}

/// The header: the first row with any content (a broken row before it is reported and
/// passed over). None, with the file reported, when there is none.
fn read_header(
    records: &mut Records,
    file: &Arc<str>,
    issues: &mut Vec<Issue>,
) -> Option<Vec<String>> {
    let mut broken_before_header = false;
    loop {
        match records.next() {
            None => {
                issues.push(file_issue(
                    file,
                    Severity::Error,
                    "unrecognised_file",
                    "",
                    if broken_before_header {
                        "no header row could be read (see the errors above)".into()
                    } else {
                        "the file is empty".into()
                    },
                ));
                return None;
            }
            Some(r) if r.is_blank() => continue,
            Some(Record {
                broken: Some(broken),
                ..
            }) => {
                broken_before_header = true;
                issues.push(Issue {
                    location: format!("line {}", broken.line()),
                    ..file_issue(
                        file,
                        Severity::Error,
                        broken.rule(),
                        &format!("column {}", broken.field() + 1),
                        broken.describe(),
                    )
                });
            }
            Some(r) => return Some(r.fields.iter().map(|f| normalise_header(f)).collect()),
        }
    }
}

/// A file matched to its table: the header as read and where each spec column is in it.
struct CsvTable<'a> {
    file: &'a Arc<str>,
    table: &'a TableSpec,
    header: Vec<String>,
    /// Per spec column, its position in the header (None: the file lacks it).
    index: Vec<Option<usize>>,
}

impl CsvTable<'_> {
    /// Reports the table's columns the file lacks; returns whether a required one is among
    /// them (then no row can be used).
    fn report_missing_columns(&self, issues: &mut Vec<Issue>) -> bool {
        let mut missing_required = false;
        for (column, at) in self.table.columns.iter().zip(&self.index) {
            // A column only the XML return has (the header's UASC flag) is not missing from a CSV.
            if at.is_none() && column.csv.is_some() {
                let required = column.required == Required::Always(true);
                missing_required |= required;
                issues.push(Issue {
                    table: self.table.name.clone(),
                    ..file_issue(
                        self.file,
                        if required {
                            Severity::Error
                        } else {
                            Severity::Warning
                        },
                        "missing_column",
                        column.csv.as_deref().unwrap_or(&column.name),
                        if required {
                            "a required column is missing, so no row of this file can be used"
                                .into()
                        } else {
                            "the column is missing; its values are left empty".into()
                        },
                    )
                });
            }
        }
        missing_required
    }

    /// Notes the file's columns that are not the table's (they are not read).
    fn report_extra_columns(&self, issues: &mut Vec<Issue>) {
        let table = self.table;
        for extra in self.header.iter().filter(|h| {
            !h.is_empty()
                && !table
                    .columns
                    .iter()
                    .any(|c| c.csv.as_deref() == Some(h.as_str()))
        }) {
            issues.push(Issue {
                table: table.name.clone(),
                ..file_issue(
                    self.file,
                    Severity::Note,
                    "extra_column",
                    extra,
                    format!(
                        "the column is not part of the {} table and was not read",
                        table.name
                    ),
                )
            });
        }
    }

    /// Validates every row after the header into the builder, counting blank rows.
    fn read_rows(
        &self,
        records: Records,
        missing_required: bool,
        builder: &mut TableBuilder,
        out: &mut CsvOutput,
    ) {
        for record in records {
            if record.is_blank() {
                out.blank_rows += 1;
                continue;
            }
            let line = record.line;
            if let Some(broken) = record.broken {
                // The row cannot be split into its values: rejected, reported on the field the
                // problem is in, with the child if the child's value came before it.
                builder.count.read += 1;
                builder.count.rejected += 1;
                out.issues.push(self.broken_row(&record, broken));
                continue;
            }
            if missing_required {
                builder.count.read += 1;
                builder.count.rejected += 1;
                continue;
            }
            if record.fields.len() != self.header.len() {
                out.issues.push(Issue {
                    location: format!("line {line}"),
                    table: self.table.name.clone(),
                    ..file_issue(
                        self.file,
                        Severity::Warning,
                        "row_length",
                        "",
                        format!("the row has {} values but the header has {} columns; values were matched by position", record.fields.len(), self.header.len()),
                    )
                });
            }
            let raw: Vec<Option<&str>> = self
                .index
                .iter()
                .map(|at| at.and_then(|i| record.fields.get(i).map(String::as_str)))
                .collect();
            let locate = |_: &super::spec::ColumnSpec| format!("line {line}");
            let source = RowSource {
                file: self.file,
                source_row: line as u32,
                locate: &locate,
            };
            builder.push_row(&raw, &source, &mut out.issues);
        }
    }

    /// The report line for a row that cannot be split: on the field the problem is in, with
    /// the child if the child's value came before it.
    fn broken_row(&self, record: &Record, broken: Broken) -> Issue {
        let child = self
            .index
            .iter()
            .zip(&self.table.columns)
            .find(|(_, c)| c.name == "child")
            .and_then(|(at, _)| at.and_then(|i| record.fields.get(i)))
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        Issue {
            location: format!("line {}", broken.line()),
            table: self.table.name.clone(),
            child,
            ..file_issue(
                self.file,
                Severity::Error,
                broken.rule(),
                self.header
                    .get(broken.field())
                    .map_or(&format!("column {}", broken.field() + 1), |h| h),
                broken.describe(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn recognises_tables_by_header_set() {
        let spec = FormatSpec::ssda903();
        let header = names(&["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]);
        assert_eq!(recognise(&header, spec).unwrap().name, "header");
        let uasc = names(&["CHILD", "SEX", "DOB", "DUC"]);
        assert_eq!(recognise(&uasc, spec).unwrap().name, "uasc");
        let episodes_without_urn = names(&[
            "CHILD",
            "DECOM",
            "RNE",
            "LS",
            "CIN",
            "PLACE",
            "PLACE_PROVIDER",
            "DEC",
            "REC",
            "REASON_PLACE_CHANGE",
            "HOME_POST",
            "PL_POST",
        ]);
        assert_eq!(
            recognise(&episodes_without_urn, spec).unwrap().name,
            "episodes"
        );
        assert!(recognise(&names(&["A", "B"]), spec).is_none());
    }

    #[test]
    fn header_cells_are_normalised() {
        assert_eq!(
            normalise_header("\u{feff} Place Provider "),
            "PLACE_PROVIDER"
        );
        assert_eq!(normalise_header("\"child\""), "CHILD");
    }
}
