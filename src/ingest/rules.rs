//! Validation across rows: the checks no single cell can make (a DEC before its DECOM,
//! overlapping or non-contiguous episodes, a child twice in the header, episodes for a child the
//! header does not list, a CIN episode closed before its referral).
//!
//! Each rule reports every offending row with its file, line or XML element, child and field.
//! Errors reject the offending row (the later of two duplicates, the later of two overlapping
//! episodes) so that what remains is consistent enough to derive periods of care from; warnings
//! leave the data as it is.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use polars::prelude::*;

use super::report::{Issue, Severity};
use super::spec::FormatSpec;
use crate::domain::dates::{
    collection_year_end, format_dmy, format_iso, from_epoch_days, to_epoch_days,
};

/// Tables of one return, by canonical table name.
pub type Tables = BTreeMap<String, DataFrame>;

/// Row-wise access to the columns a rule needs, extracted once.
struct Rows<'a> {
    file: Vec<Option<&'a str>>,
    row: Vec<Option<u32>>,
    child: Vec<Option<&'a str>>,
}

impl<'a> Rows<'a> {
    fn new(df: &'a DataFrame) -> PolarsResult<Rows<'a>> {
        Ok(Rows {
            file: df.column("source_file")?.str()?.iter().collect(),
            row: df.column("source_row")?.u32()?.iter().collect(),
            child: df.column("child")?.str()?.iter().collect(),
        })
    }
}

/// Formats where a row came from: `line 12` (CSV) or `EXPSSDA903/CHILD[12]` (XML).
fn location(unit: &str, file: &str, row: u32) -> String {
    if file.to_ascii_lowercase().ends_with(".xml") {
        format!("{unit}[{row}]")
    } else {
        format!("line {row}")
    }
}

/// What a rule found on a row (the row's file, location and child come from the table).
struct Finding<'a> {
    table: &'a str,
    field: &'a str,
    value: Option<String>,
    rule: &'static str,
    severity: Severity,
    message: String,
}

struct Checker<'s> {
    spec: &'s FormatSpec,
    issues: Vec<Issue>,
    files: HashMap<String, Arc<str>>,
}

impl<'s> Checker<'s> {
    fn issue(&mut self, rows: &Rows, i: usize, finding: Finding) {
        let Finding {
            table,
            field,
            value,
            rule,
            severity,
            message,
        } = finding;
        let file = rows.file[i].unwrap_or("");
        let file_arc = self
            .files
            .entry(file.to_string())
            .or_insert_with(|| Arc::from(file))
            .clone();
        self.issues.push(Issue {
            file: file_arc,
            location: location(&self.spec.unit, file, rows.row[i].unwrap_or(0)),
            table: table.into(),
            child: rows.child[i].map(str::to_string),
            field: field.into(),
            value,
            rule,
            severity,
            message,
        });
    }

    fn date_text(&self, days: i32) -> String {
        let d = from_epoch_days(days);
        match self.spec.date_style {
            super::spec::DateStyle::Dmy => format_dmy(d),
            super::spec::DateStyle::Iso => format_iso(d),
        }
    }
}

fn keep_mask(df: &DataFrame, reject: &HashSet<usize>) -> PolarsResult<DataFrame> {
    if reject.is_empty() {
        return Ok(df.clone());
    }
    let mask: BooleanChunked = (0..df.height()).map(|i| !reject.contains(&i)).collect();
    df.filter(&mask)
}

/// Rejects rows repeating an earlier row's key within the return (the first is kept).
fn reject_duplicates(
    checker: &mut Checker,
    tables: &mut Tables,
    table: &str,
    key: &[&str],
    what: &str,
) -> PolarsResult<()> {
    let Some(df) = tables.get(table) else {
        return Ok(());
    };
    if df.height() == 0 {
        return Ok(());
    }
    let rows = Rows::new(df)?;
    let keys: Vec<Column> = key
        .iter()
        .map(|k| df.column(k).cloned())
        .collect::<PolarsResult<_>>()?;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut reject = HashSet::new();
    for i in 0..df.height() {
        let k: String = keys
            .iter()
            .map(|c| c.get(i).map(|v| v.to_string()).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("|");
        if let Some(&first) = seen.get(&k) {
            let first_at = location(
                &checker.spec.unit,
                rows.file[first].unwrap_or(""),
                rows.row[first].unwrap_or(0),
            );
            checker.issue(
                &rows,
                i,
                Finding {
                    table,
                    field: &key.last().map(|k| k.to_uppercase()).unwrap_or_default(),
                    value: None,
                    rule: "duplicate_record",
                    severity: Severity::Error,
                    message: format!(
                        "{what} is already given at {first_at}; this repeat was rejected"
                    ),
                },
            );
            reject.insert(i);
        } else {
            seen.insert(k, i);
        }
    }
    let kept = keep_mask(df, &reject)?;
    tables.insert(table.into(), kept);
    Ok(())
}

/// Rejects rows whose `end` date is before their `start` date.
fn reject_end_before_start(
    checker: &mut Checker,
    tables: &mut Tables,
    table: &str,
    start: &str,
    end: &str,
    field: &str,
) -> PolarsResult<()> {
    let Some(df) = tables.get(table) else {
        return Ok(());
    };
    let rows = Rows::new(df)?;
    let s: Vec<Option<i32>> = df.column(start)?.date()?.physical().iter().collect();
    let e: Vec<Option<i32>> = df.column(end)?.date()?.physical().iter().collect();
    let mut reject = HashSet::new();
    for i in 0..df.height() {
        if let (Some(s), Some(e)) = (s[i], e[i])
            && e < s
        {
            let (st, et) = (checker.date_text(s), checker.date_text(e));
            checker.issue(
                &rows,
                i,
                Finding {
                    table,
                    field,
                    value: Some(et.clone()),
                    rule: "end_before_start",
                    severity: Severity::Error,
                    message: format!(
                        "{field} {et} is before {} {st}; the row was rejected",
                        start.to_uppercase()
                    ),
                },
            );
            reject.insert(i);
        }
    }
    let kept = keep_mask(df, &reject)?;
    tables.insert(table.into(), kept);
    Ok(())
}

/// Rejects rows with a date after the end of the collection year (31 March): a return cannot
/// report the future. In-year extracts are read as the current collection year, so their dates
/// are inside it too.
fn reject_after_year_end(
    checker: &mut Checker,
    tables: &mut Tables,
    table: &str,
    columns: &[(&str, &str)],
    year: i32,
) -> PolarsResult<()> {
    let Some(df) = tables.get(table) else {
        return Ok(());
    };
    let rows = Rows::new(df)?;
    let limit = to_epoch_days(collection_year_end(year));
    let values: Vec<Vec<Option<i32>>> = columns
        .iter()
        .map(|(column, _)| Ok(df.column(column)?.date()?.physical().iter().collect()))
        .collect::<PolarsResult<_>>()?;
    let mut reject = HashSet::new();
    for i in 0..df.height() {
        // One report per row: the first date past the year end.
        let late = columns
            .iter()
            .zip(&values)
            .find_map(|((_, field), v)| v[i].filter(|&d| d > limit).map(|d| (field, d)));
        if let Some((field, v)) = late {
            let text = checker.date_text(v);
            checker.issue(
&rows,
i,
Finding { table, field, value: Some(text.clone()), rule: "after_year_end", severity: Severity::Error, message: format!("{field} {text} is after the end of the {}/{} collection year (31/03/{year}); the row was rejected", year - 1, year % 100) },
);
            reject.insert(i);
        }
    }
    let kept = keep_mask(df, &reject)?;
    tables.insert(table.into(), kept);
    Ok(())
}

/// SSDA903 cross-row rules for one return.
pub fn check_ssda903(
    spec: &FormatSpec,
    tables: &mut Tables,
    year: i32,
) -> PolarsResult<Vec<Issue>> {
    let mut checker = Checker {
        spec,
        issues: vec![],
        files: HashMap::new(),
    };
    reject_duplicates(&mut checker, tables, "header", &["child"], "this child")?;
    reject_duplicates(
        &mut checker,
        tables,
        "episodes",
        &["child", "decom"],
        "an episode for this child with this DECOM",
    )?;
    reject_duplicates(&mut checker, tables, "uasc", &["child"], "this child")?;
    reject_duplicates(&mut checker, tables, "oc2", &["child"], "this child")?;
    reject_duplicates(&mut checker, tables, "oc3", &["child"], "this child")?;
    reject_duplicates(&mut checker, tables, "ad1", &["child"], "this child")?;
    reject_duplicates(
        &mut checker,
        tables,
        "missing",
        &["child", "mis_start"],
        "a missing episode with this start",
    )?;
    reject_duplicates(
        &mut checker,
        tables,
        "reviews",
        &["child", "review"],
        "a review on this date",
    )?;
    reject_end_before_start(&mut checker, tables, "episodes", "decom", "dec", "DEC")?;
    reject_end_before_start(
        &mut checker,
        tables,
        "missing",
        "mis_start",
        "mis_end",
        "MIS_END",
    )?;
    reject_end_before_start(
        &mut checker,
        tables,
        "placed_adoption",
        "date_placed",
        "date_placed_ceased",
        "DATE_PLACED_CEASED",
    )?;
    reject_after_year_end(
        &mut checker,
        tables,
        "episodes",
        &[("decom", "DECOM"), ("dec", "DEC")],
        year,
    )?;
    check_episode_sequences(&mut checker, tables)?;
    check_children_in_header(&mut checker, tables)?;
    Ok(checker.issues)
}

/// Each child's episodes, in DECOM order, must not overlap (an error: the later episode is
/// rejected) and must chain within a period of care: an episode that ends with REC X1 is
/// followed by one starting on its DEC, and a new period of care starts with RNE S (warnings).
fn check_episode_sequences(checker: &mut Checker, tables: &mut Tables) -> PolarsResult<()> {
    let Some(df) = tables.get("episodes") else {
        return Ok(());
    };
    let df = df.sort(["child", "decom"], SortMultipleOptions::default())?;
    let rows = Rows::new(&df)?;
    let decom: Vec<Option<i32>> = df.column("decom")?.date()?.physical().iter().collect();
    let dec: Vec<Option<i32>> = df.column("dec")?.date()?.physical().iter().collect();
    let rec: Vec<Option<&str>> = df.column("rec")?.str()?.iter().collect();
    let rne: Vec<Option<&str>> = df.column("rne")?.str()?.iter().collect();
    let mut reject = HashSet::new();
    let mut previous: Option<usize> = None;
    for i in 0..df.height() {
        let Some(p) = previous.filter(|&p| rows.child[p] == rows.child[i]) else {
            previous = Some(i);
            continue;
        };
        let start = decom[i].expect("DECOM is required");
        let start_text = checker.date_text(start);
        match dec[p] {
            None => {
                checker.issue(
&rows,
i,
Finding { table: "episodes", field: "DECOM", value: Some(start_text.clone()), rule: "overlapping_episodes", severity: Severity::Error, message: format!("the episode starting {start_text} begins while the episode starting {} is still open (no DEC); the later episode was rejected", checker.date_text(decom[p].unwrap_or(0))) },
);
                reject.insert(i);
                continue;
            }
            Some(end) if end > start => {
                checker.issue(
&rows,
i,
Finding { table: "episodes", field: "DECOM", value: Some(start_text.clone()), rule: "overlapping_episodes", severity: Severity::Error, message: format!("the episode starting {start_text} begins before the previous episode ends ({}); the later episode was rejected", checker.date_text(end)) },
);
                reject.insert(i);
                continue;
            }
            Some(end) => {
                let continues = rec[p] == Some("X1");
                if continues && end != start {
                    checker.issue(
&rows,
i,
Finding { table: "episodes", field: "DECOM", value: Some(start_text.clone()), rule: "non_contiguous_episodes", severity: Severity::Warning, message: format!("the previous episode ended {} with REC X1 (a new episode the same day), but this one starts {start_text}", checker.date_text(end)) },
);
                } else if continues && rne[i] == Some("S") {
                    checker.issue(
&rows,
i,
Finding { table: "episodes", field: "RNE", value: Some("S".into()), rule: "period_of_care_sequence", severity: Severity::Warning, message: "the previous episode ended with REC X1 (same period of care) but this one has RNE S (a new period of care)".into() },
);
                } else if !continues && rne[i] != Some("S") {
                    checker.issue(
&rows,
i,
Finding { table: "episodes", field: "RNE", value: rne[i].map(str::to_string), rule: "period_of_care_sequence", severity: Severity::Warning, message: format!("the previous episode ended the period of care (REC {}) so this episode should start a new one with RNE S", rec[p].unwrap_or("")) },
);
                }
            }
        }
        previous = Some(i);
    }
    let kept = keep_mask(&df, &reject)?;
    tables.insert("episodes".into(), kept);
    Ok(())
}

/// Episodes (and the other child tables) should belong to a child in the header (a warning,
/// once per child: the rows are kept but age-based figures cannot use them).
fn check_children_in_header(checker: &mut Checker, tables: &mut Tables) -> PolarsResult<()> {
    let Some(header) = tables.get("header") else {
        return Ok(());
    };
    let known: HashSet<String> = header
        .column("child")?
        .str()?
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    for table in [
        "episodes",
        "reviews",
        "missing",
        "oc2",
        "oc3",
        "ad1",
        "placed_adoption",
        "prev_perm",
        "uasc",
    ] {
        let Some(df) = tables.get(table) else {
            continue;
        };
        let rows = Rows::new(df)?;
        let mut reported = HashSet::new();
        for i in 0..df.height() {
            if let Some(child) = rows.child[i]
                && !known.contains(child)
                && reported.insert(child)
            {
                checker.issue(
&rows,
i,
Finding { table, field: "CHILD", value: Some(child.into()), rule: "child_not_in_header", severity: Severity::Warning, message: "this child is not in the header table, so their date of birth and sex are unknown".into() },
);
            }
        }
    }
    Ok(())
}

/// CIN census cross-row rules for one return.
pub fn check_cin(spec: &FormatSpec, tables: &mut Tables, year: i32) -> PolarsResult<Vec<Issue>> {
    let mut checker = Checker {
        spec,
        issues: vec![],
        files: HashMap::new(),
    };
    reject_duplicates(&mut checker, tables, "cin_child", &["child"], "this child")?;
    reject_duplicates(
        &mut checker,
        tables,
        "cin_episode",
        &["child", "referral_date"],
        "a CIN episode for this child with this referral date",
    )?;
    reject_duplicates(
        &mut checker,
        tables,
        "cin_cpp",
        &["child", "cpp_start"],
        "a child protection plan for this child with this start date",
    )?;
    reject_end_before_start(
        &mut checker,
        tables,
        "cin_episode",
        "referral_date",
        "closure_date",
        "CINclosureDate",
    )?;
    reject_end_before_start(
        &mut checker,
        tables,
        "cin_assessment",
        "assessment_start",
        "authorisation_date",
        "AssessmentAuthorisationDate",
    )?;
    reject_end_before_start(
        &mut checker,
        tables,
        "cin_plan",
        "plan_start",
        "plan_end",
        "CINPlanEndDate",
    )?;
    reject_end_before_start(
        &mut checker,
        tables,
        "cin_cpp",
        "cpp_start",
        "cpp_end",
        "CPPendDate",
    )?;
    reject_after_year_end(
        &mut checker,
        tables,
        "cin_episode",
        &[
            ("referral_date", "CINreferralDate"),
            ("closure_date", "CINclosureDate"),
        ],
        year,
    )?;
    check_icpc_before_s47(&mut checker, tables)?;
    Ok(checker.issues)
}

/// An ICPC before the start of the section 47 enquiry that led to it is kept (the data may be
/// right: a conference after an earlier enquiry) but flagged, because the timeliness indicator
/// excludes such pairs.
fn check_icpc_before_s47(checker: &mut Checker, tables: &mut Tables) -> PolarsResult<()> {
    let Some(df) = tables.get("cin_s47") else {
        return Ok(());
    };
    let rows = Rows::new(df)?;
    let start: Vec<Option<i32>> = df.column("s47_start")?.date()?.physical().iter().collect();
    let icpc: Vec<Option<i32>> = df.column("icpc_date")?.date()?.physical().iter().collect();
    for i in 0..df.height() {
        if let (Some(s), Some(c)) = (start[i], icpc[i])
            && c < s
        {
            let ct = checker.date_text(c);
            checker.issue(
&rows,
i,
Finding { table: "cin_s47", field: "DateOfInitialCPC", value: Some(ct.clone()), rule: "icpc_before_s47", severity: Severity::Warning, message: format!("the conference ({ct}) is before the section 47 enquiry started ({}); the pair is left out of conference timeliness", checker.date_text(s)) },
);
        }
    }
    Ok(())
}
