//! The history store: every return an LA has sent, and one deduplicated history per LA.
//!
//! Each year's 903 repeats the episodes still open on 1 April, and each CIN census repeats the
//! episodes and plans still open; a later return may also correct an earlier one. The store keeps
//! each validated return as sent (`returns/<la>/<year>/<table>.parquet`, replaced when the same
//! LA-year is ingested again, so re-ingesting is idempotent and a resubmission replaces the
//! year) and rebuilds the LA's history from all of them
//! (`history/<table>/<la>.parquet`, the dataset every later layer reads):
//!
//! 1. records with the same key (the spec's `key`) keep the version of the latest return;
//! 2. a record still open at the end of its return (no DEC, CINclosureDate, CPPendDate,
//!    CINPlanEndDate) that the LA's next return does not repeat is superseded by that return;
//! 3. a 903 episode from an earlier return that overlaps an episode of a later return is
//!    superseded (the later return restates the period it covers);
//! 4. CIN assessments, plans and enquiries whose CIN episode is no longer in the history (its
//!    referral date was corrected) are dropped with it.
//!
//! Every record dropped by rules 2–4 is listed as a note in the history report.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;

use super::report::{Issue, Report, Severity};
use super::returns::{Collection, ReturnData};
use super::spec::TableSpec;
use crate::domain::dates::{format_iso, from_epoch_days};
use crate::domain::io::{read_parquet, write_csv, write_parquet};

/// Tables whose records can stay open across years, with the column that closes them.
const OPEN_ENDED: &[(&str, &str)] = &[
    ("episodes", "dec"),
    ("cin_episode", "closure_date"),
    ("cin_cpp", "cpp_end"),
    ("cin_plan", "plan_end"),
];

/// CIN tables that belong to a CIN episode through (child, referral_date).
const EPISODE_CHILDREN: &[&str] = &[
    "cin_assessment",
    "cin_plan",
    "cin_s47",
    "cin_cpp",
    "cin_pre_proceedings",
];

/// A folder holding returns and histories.
#[derive(Debug, Clone)]
pub struct Store {
    pub root: PathBuf,
}

fn io_err(e: std::io::Error) -> PolarsError {
    PolarsError::IO {
        error: Arc::new(e),
        msg: None,
    }
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    fn return_dir(&self, la: &str, year: i32) -> PathBuf {
        self.root.join("returns").join(la).join(year.to_string())
    }

    /// Path of an LA's history for a table.
    pub fn history_path(&self, table: &str, la: &str) -> PathBuf {
        self.root
            .join("history")
            .join(table)
            .join(format!("{la}.parquet"))
    }

    /// Saves a validated return, replacing any earlier ingest of the same LA, year and
    /// collection.
    pub fn save_return(&self, data: &mut ReturnData) -> PolarsResult<()> {
        let dir = self.return_dir(&data.la_code, data.year);
        for (name, df) in data.tables.iter_mut() {
            write_parquet(df, &dir.join(format!("{name}.parquet"))).map_err(io_err)?;
        }
        let mut issues = data.report.to_frame()?;
        write_parquet(
            &mut issues,
            &dir.join(format!("validation_{}.parquet", data.collection.name())),
        )
        .map_err(io_err)?;
        Ok(())
    }

    /// A saved return's tables (as kept), if the LA's return for that year was ingested before.
    pub fn return_tables(
        &self,
        la: &str,
        year: i32,
        collection: Collection,
    ) -> Option<super::rules::Tables> {
        let dir = self.return_dir(la, year);
        let mut tables = super::rules::Tables::new();
        for table in &collection.spec().tables {
            let path = dir.join(format!("{}.parquet", table.name));
            if path.exists() {
                tables.insert(table.name.clone(), read_parquet(&path).ok()?);
            }
        }
        (!tables.is_empty()).then_some(tables)
    }

    /// LAs with at least one saved return, in code order.
    pub fn las(&self) -> Vec<String> {
        list_dir(&self.root.join("returns"))
    }

    /// Every return saved: (LA, collection, collection year), in order.
    pub fn returns_held(&self) -> Vec<(String, Collection, i32)> {
        let mut out = vec![];
        for la in self.las() {
            for (collection, anchor) in [
                (Collection::Ssda903, "header"),
                (Collection::Cin, "cin_child"),
            ] {
                for year in self.years_with(&la, anchor) {
                    out.push((la.clone(), collection, year));
                }
            }
        }
        out
    }

    /// Collection years saved for an LA that hold a table.
    fn years_with(&self, la: &str, table: &str) -> Vec<i32> {
        let mut years: Vec<i32> = list_dir(&self.root.join("returns").join(la))
            .into_iter()
            .filter_map(|y| y.parse().ok())
            .filter(|&y: &i32| {
                self.return_dir(la, y)
                    .join(format!("{table}.parquet"))
                    .exists()
            })
            .collect();
        years.sort_unstable();
        years
    }

    /// Rebuilds one LA's history from its saved returns; returns the notes on superseded
    /// records.
    pub fn rebuild_history(&self, la: &str) -> PolarsResult<Report> {
        let mut report = Report::default();
        let mut histories: BTreeMap<String, DataFrame> = BTreeMap::new();
        for collection in [Collection::Ssda903, Collection::Cin] {
            for table in &collection.spec().tables {
                let years = self.years_with(la, &table.name);
                if years.is_empty() {
                    continue;
                }
                let mut all: Option<DataFrame> = None;
                for &y in &years {
                    let df = read_parquet(
                        &self
                            .return_dir(la, y)
                            .join(format!("{}.parquet", table.name)),
                    )?;
                    match &mut all {
                        None => all = Some(df),
                        Some(acc) => {
                            acc.vstack_mut_owned(df)?;
                        }
                    }
                }
                let all = all.expect("at least one year");
                let latest = latest_versions(all, table)?;
                let latest = supersede_open_records(latest, &table.name, &years, &mut report)?;
                histories.insert(table.name.clone(), latest);
            }
        }
        if let Some(episodes) = histories.remove("episodes") {
            histories.insert(
                "episodes".into(),
                supersede_overlapping_episodes(episodes, &mut report)?,
            );
        }
        drop_orphans(&mut histories, &mut report)?;
        for (name, df) in histories.iter_mut() {
            write_parquet(df, &self.history_path(name, la)).map_err(io_err)?;
        }
        report.sort();
        Ok(report)
    }

    /// The history of a table across every LA in the store, lazily (one Parquet file per LA).
    pub fn scan(&self, table: &str) -> PolarsResult<LazyFrame> {
        self.scan_las(table, None)
    }

    /// As [`Store::scan`], reading only the files of `las` (one LA from a national store
    /// opens one file per table, not 153).
    pub fn scan_las(&self, table: &str, las: Option<&[String]>) -> PolarsResult<LazyFrame> {
        let dir = self.root.join("history").join(table);
        let files: Vec<PathBuf> = list_dir(&dir)
            .into_iter()
            .filter(|f| f.ends_with(".parquet"))
            .filter(|f| {
                las.is_none_or(|las| {
                    las.iter()
                        .any(|la| f.strip_suffix(".parquet") == Some(la.as_str()))
                })
            })
            .map(|f| dir.join(f))
            .collect();
        if files.is_empty() {
            let collection = Collection::of_table(table)
                .ok_or_else(|| polars_err!(ComputeError: "no canonical table named {table}"))?;
            let spec = collection
                .spec()
                .table(table)
                .expect("table of its collection");
            return Ok(super::returns::empty_table(collection, spec, "", 0).lazy());
        }
        let frames: Vec<LazyFrame> = files
            .iter()
            .map(|f| {
                LazyFrame::scan_parquet(
                    PlRefPath::new(f.to_string_lossy().as_ref()),
                    ScanArgsParquet::default(),
                )
            })
            .collect::<PolarsResult<_>>()?;
        concat(frames, UnionArgs::default())
    }

    /// Reads an LA's history of a table (empty with the canonical schema if absent).
    pub fn history(&self, table: &str, la: &str) -> PolarsResult<DataFrame> {
        let path = self.history_path(table, la);
        if path.exists() {
            read_parquet(&path)
        } else {
            self.scan(table)?.limit(0).collect()
        }
    }
}

fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Keeps, for each key, the record from the latest return; sorts by key for reproducible files.
fn latest_versions(all: DataFrame, table: &TableSpec) -> PolarsResult<DataFrame> {
    let key: Vec<Expr> = table.key.iter().map(|k| col(k.as_str())).collect();
    let mut order: Vec<PlSmallStr> = table.key.iter().map(|k| k.as_str().into()).collect();
    if !table.key.iter().any(|k| k == "source_year") {
        order.push("source_year".into());
    }
    all.lazy()
        .sort(
            ["source_year"],
            SortMultipleOptions::default()
                .with_order_descending(true)
                .with_maintain_order(true),
        )
        .unique_stable_generic(Some(key), UniqueKeepStrategy::First)
        .sort(
            order,
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()
}

fn note(
    file: &str,
    location: String,
    table: &str,
    child: Option<&str>,
    rule: &'static str,
    message: String,
) -> Issue {
    Issue {
        file: Arc::from(file),
        location,
        table: table.into(),
        child: child.map(str::to_string),
        field: String::new(),
        value: None,
        rule,
        severity: Severity::Note,
        message,
    }
}

fn row_location(file: &str, row: Option<u32>) -> String {
    let row = row.unwrap_or(0);
    if file.to_ascii_lowercase().ends_with(".xml") {
        format!("child element {row}")
    } else {
        format!("line {row}")
    }
}

/// Rule 2: open records that the next saved return does not repeat are superseded.
fn supersede_open_records(
    df: DataFrame,
    table: &str,
    years: &[i32],
    report: &mut Report,
) -> PolarsResult<DataFrame> {
    let Some(&(_, end)) = OPEN_ENDED.iter().find(|(t, _)| *t == table) else {
        return Ok(df);
    };
    let Some(&last) = years.last() else {
        return Ok(df);
    };
    let source_year = df.column("source_year")?.i32()?.clone();
    let open = df.column(end)?.is_null();
    let stale: BooleanChunked = open & source_year.lt(last);
    if !stale.any() {
        return Ok(df);
    }
    let dropped = df.filter(&stale)?;
    let files = dropped.column("source_file")?.str()?.clone();
    let rows = dropped.column("source_row")?.u32()?.clone();
    let children = dropped.column("child")?.str()?.clone();
    let sy = dropped.column("source_year")?.i32()?.clone();
    for i in 0..dropped.height() {
        let y = sy.get(i).unwrap_or(0);
        let next = years.iter().find(|&&n| n > y).copied().unwrap_or(last);
        let file = files.get(i).unwrap_or("");
        report.push(note(
            file,
            row_location(file, rows.get(i)),
            table,
            children.get(i),
            "superseded_open_record",
            format!("open at the end of the {y} return but not repeated in the {next} return, which supersedes it"),
        ));
    }
    df.filter(&!stale)
}

/// Rule 3: an episode from an earlier return overlapping one from a later return is superseded.
fn supersede_overlapping_episodes(df: DataFrame, report: &mut Report) -> PolarsResult<DataFrame> {
    let df = df.sort(["child", "decom"], SortMultipleOptions::default())?;
    let child: Vec<Option<&str>> = df.column("child")?.str()?.iter().collect();
    let decom: Vec<Option<i32>> = df.column("decom")?.date()?.physical().iter().collect();
    let dec: Vec<Option<i32>> = df.column("dec")?.date()?.physical().iter().collect();
    let year: Vec<Option<i32>> = df.column("source_year")?.i32()?.iter().collect();
    let files: Vec<Option<&str>> = df.column("source_file")?.str()?.iter().collect();
    let rows: Vec<Option<u32>> = df.column("source_row")?.u32()?.iter().collect();
    let overlaps = |a: usize, b: usize| {
        // a starts first; they overlap if a is open or ends after b starts.
        dec[a].is_none_or(|end| end > decom[b].unwrap_or(i32::MIN))
    };
    let mut drop: HashSet<usize> = HashSet::new();
    let mut start = 0;
    while start < df.height() {
        let mut end = start;
        while end < df.height() && child[end] == child[start] {
            end += 1;
        }
        for a in start..end {
            for b in a + 1..end {
                if drop.contains(&a) || drop.contains(&b) || !overlaps(a, b) {
                    continue;
                }
                let (older, newer) = if year[a] < year[b] {
                    (a, b)
                } else if year[b] < year[a] {
                    (b, a)
                } else {
                    continue;
                };
                drop.insert(older);
                let file = files[older].unwrap_or("");
                report.push(note(
                    file,
                    row_location(file, rows[older]),
                    "episodes",
                    child[older],
                    "superseded_episode",
                    format!(
                        "the episode starting {} from the {} return overlaps the episode starting {} in the later {} return, which supersedes it",
                        format_iso(from_epoch_days(decom[older].unwrap_or(0))),
                        year[older].unwrap_or(0),
                        format_iso(from_epoch_days(decom[newer].unwrap_or(0))),
                        year[newer].unwrap_or(0)
                    ),
                ));
            }
        }
        start = end;
    }
    if drop.is_empty() {
        return Ok(df);
    }
    let mask: BooleanChunked = (0..df.height()).map(|i| !drop.contains(&i)).collect();
    df.filter(&mask)
}

/// Rule 4: CIN records whose episode is no longer in the history go with it.
fn drop_orphans(
    histories: &mut BTreeMap<String, DataFrame>,
    report: &mut Report,
) -> PolarsResult<()> {
    let Some(episodes) = histories.get("cin_episode") else {
        return Ok(());
    };
    let key =
        |c: Option<&str>, d: Option<i32>| (c.unwrap_or("").to_string(), d.unwrap_or(i32::MIN));
    let known: BTreeSet<(String, i32)> = episodes
        .column("child")?
        .str()?
        .iter()
        .zip(episodes.column("referral_date")?.date()?.physical().iter())
        .map(|(c, d)| key(c, d))
        .collect();
    for &table in EPISODE_CHILDREN {
        let Some(df) = histories.get(table) else {
            continue;
        };
        let children: Vec<Option<&str>> = df.column("child")?.str()?.iter().collect();
        let referral: Vec<Option<i32>> = df
            .column("referral_date")?
            .date()?
            .physical()
            .iter()
            .collect();
        let mask: BooleanChunked = children
            .iter()
            .zip(&referral)
            .map(|(c, d)| known.contains(&key(*c, *d)))
            .collect();
        if mask.all() {
            continue;
        }
        let files: Vec<Option<&str>> = df.column("source_file")?.str()?.iter().collect();
        let rows: Vec<Option<u32>> = df.column("source_row")?.u32()?.iter().collect();
        for i in 0..df.height() {
            if !mask.get(i).unwrap_or(true) {
                let file = files[i].unwrap_or("");
                report.push(note(
                    file,
                    row_location(file, rows[i]),
                    table,
                    children[i],
                    "orphaned_record",
                    format!(
                        "its CIN episode (referral {}) is no longer in the history, superseded by a later return",
                        format_iso(from_epoch_days(referral[i].unwrap_or(0)))
                    ),
                ));
            }
        }
        let kept = df.filter(&mask)?;
        histories.insert(table.into(), kept);
    }
    Ok(())
}

/// Writes a validation report as CSV and Parquet (`<stem>.csv`, `<stem>.parquet`).
pub fn write_report(report: &Report, stem: &Path) -> PolarsResult<()> {
    let mut df = report.to_frame()?;
    write_csv(&mut df, &stem.with_extension("csv")).map_err(io_err)?;
    write_parquet(&mut df, &stem.with_extension("parquet")).map_err(io_err)?;
    Ok(())
}
