//! The validation report: every problem found in the input, one row each, with where it is.
//!
//! Bad input never stops a run and is never dropped silently: each problem becomes an [`Issue`]
//! naming the file, the row (CSV line) or XML path, the child, the field and the value, the rule
//! broken and its severity. Errors reject the row they are on (the rest of the file is kept);
//! warnings keep the row with the offending optional value left empty; notes record decisions
//! such as a record superseded by a later return.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use polars::prelude::*;

/// How bad a problem is, and what happened to the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The row was rejected (or, for a file-level problem, the file could not be read).
    Error,
    /// The row was kept; the value was left empty or the inconsistency stands.
    Warning,
    /// Nothing is wrong with the data; a decision was recorded (e.g. a superseded record).
    Note,
    /// A DfE validation error: DfE would not accept the return until it is fixed. The row is
    /// kept (it is what the LA has to correct).
    DfeError,
    /// A DfE validation query: DfE asks the LA to confirm or explain it. The row is kept.
    DfeQuery,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
            Severity::DfeError => "dfe_error",
            Severity::DfeQuery => "dfe_query",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub file: Arc<str>,
    /// `line 12` for CSV, an XML path such as `Child[5]/CINdetails[2]/CINreferralDate`, or
    /// empty for a problem with the whole file.
    pub location: String,
    pub table: String,
    pub child: Option<String>,
    pub field: String,
    pub value: Option<String>,
    /// A short stable rule name (`date`, `code`, `required`, `overlapping_episodes`, …).
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
}

impl Issue {
    /// A problem with a whole file (no row, table or field): the report's convention for a
    /// file that could not be read, or a decision about one.
    pub fn file_level(
        file: Arc<str>,
        rule: &'static str,
        severity: Severity,
        message: impl Into<String>,
    ) -> Issue {
        Issue {
            file,
            location: String::new(),
            table: String::new(),
            child: None,
            field: String::new(),
            value: None,
            rule,
            severity,
            message: message.into(),
        }
    }

    /// Whether the problem is in one of `files` (as the report names them): how a return's
    /// problems are told from the others'.
    pub fn in_files(&self, files: &[String]) -> bool {
        files.iter().any(|f| f.as_str() == self.file.as_ref())
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.file)?;
        if !self.location.is_empty() {
            write!(f, " {}", self.location)?;
        }
        if !self.field.is_empty() {
            write!(f, " field {}", self.field)?;
        }
        if let Some(child) = &self.child {
            write!(f, " (child {child})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Rows read, kept and rejected for one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCount {
    pub read: u64,
    pub kept: u64,
    pub rejected: u64,
}

/// Issues and row counts collected over an ingest run.
#[derive(Debug, Default)]
pub struct Report {
    pub issues: Vec<Issue>,
    pub counts: BTreeMap<String, TableCount>,
}

impl Report {
    pub fn push(&mut self, issue: Issue) {
        self.issues.push(issue);
    }

    pub fn extend(&mut self, issues: impl IntoIterator<Item = Issue>) {
        self.issues.extend(issues);
    }

    /// Adds another report's issues and counts to this one.
    pub fn merge(&mut self, other: Report) {
        self.issues.extend(other.issues);
        for (table, count) in other.counts {
            let entry = self.counts.entry(table).or_default();
            entry.read += count.read;
            entry.kept += count.kept;
            entry.rejected += count.rejected;
        }
    }

    pub fn count(&mut self, table: &str) -> &mut TableCount {
        self.counts.entry(table.to_string()).or_default()
    }

    pub fn errors(&self) -> usize {
        self.issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.with_severity(Severity::Warning)
    }

    pub fn with_severity(&self, severity: Severity) -> usize {
        self.issues
            .iter()
            .filter(|i| i.severity == severity)
            .count()
    }

    /// Puts the issues in a stable order (file, then position, then field) so that the same
    /// inputs always give a byte-identical report.
    pub fn sort(&mut self) {
        self.issues.sort_by(|a, b| {
            (
                &a.file,
                natural_key(&a.location),
                &a.table,
                &a.field,
                a.rule,
            )
                .cmp(&(
                    &b.file,
                    natural_key(&b.location),
                    &b.table,
                    &b.field,
                    b.rule,
                ))
        });
    }

    /// The issues as a table with the report's columns.
    pub fn to_frame(&self) -> PolarsResult<DataFrame> {
        let col = |name: &str, f: &dyn Fn(&Issue) -> Option<String>| {
            Column::new(
                name.into(),
                self.issues.iter().map(f).collect::<Vec<Option<String>>>(),
            )
        };
        DataFrame::new_infer_height(vec![
            col("file", &|i| Some(i.file.to_string())),
            col("location", &|i| Some(i.location.clone())),
            col("table", &|i| Some(i.table.clone())),
            col("child_id", &|i| i.child.clone()),
            col("field", &|i| Some(i.field.clone())),
            col("value", &|i| i.value.clone()),
            col("rule", &|i| Some(i.rule.to_string())),
            col("severity", &|i| Some(i.severity.as_str().to_string())),
            col("message", &|i| Some(i.message.clone())),
        ])
    }

    /// A summary for the terminal: rows read, kept and rejected per table, then issue counts.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "{:<18} {:>10} {:>10} {:>9}\n",
            "table", "read", "kept", "rejected"
        ));
        let mut total = TableCount::default();
        for (table, c) in &self.counts {
            out.push_str(&format!(
                "{table:<18} {:>10} {:>10} {:>9}\n",
                c.read, c.kept, c.rejected
            ));
            total.read += c.read;
            total.kept += c.kept;
            total.rejected += c.rejected;
        }
        out.push_str(&format!(
            "{:<18} {:>10} {:>10} {:>9}\n",
            "total", total.read, total.kept, total.rejected
        ));
        out.push_str(&format!(
            "{} errors (rows rejected), {} warnings in the validation report",
            self.errors(),
            self.warnings()
        ));
        let (dfe_errors, dfe_queries) = (
            self.with_severity(Severity::DfeError),
            self.with_severity(Severity::DfeQuery),
        );
        out.push_str(&format!(
            "\nDfE validation: {dfe_errors} errors and {dfe_queries} queries (rows kept; see the report's dfe_error and dfe_query rows)"
        ));
        out
    }
}

/// Sort key that orders `line 9` before `line 10` and `Child[9]` before `Child[10]`.
fn natural_key(location: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut number: Option<u64> = None;
    for ch in location.chars() {
        if let Some(d) = ch.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .saturating_mul(10)
                    .saturating_add(d as u64),
            );
        } else {
            if let Some(n) = number.take() {
                out.push((std::mem::take(&mut text), n));
            }
            text.push(ch);
        }
    }
    out.push((text, number.unwrap_or(0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_of_locations() {
        let mut locs = vec!["line 10", "line 9", "Child[10]/X", "Child[2]/X"];
        locs.sort_by_key(|l| natural_key(l));
        assert_eq!(locs, vec!["Child[2]/X", "Child[10]/X", "line 9", "line 10"]);
    }
}
