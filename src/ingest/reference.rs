//! Reference tables: the LAs, their statistical neighbours, child populations and the
//! published DfE figures, in the project's own compact format under `data/reference/`.
//!
//! `cspi reference build --from <dir>` reads the public files as DfE publishes them (the EES
//! CSVs, the LAIT long table and dictionary, the statistical neighbour CSVs or workbooks, the
//! ONS population table) from any folder — `../shared/reference` or a user's fresh downloads —
//! and writes:
//!
//! | file | holds |
//! |---|---|
//! | `las.csv` | every LA: 3-digit code, ONS code, name, region, whether it exists now |
//! | `sn_groups.csv` | statistical neighbours by model (2021, 2025): rank 1–10 and closeness |
//! | `population.csv` | ONS mid-year children aged 0–17 by LA, region and England |
//! | `published.parquet` | the measures of `sources.yaml` by area and year, with suppression |
//! | `measures.csv` | those measures with their source, unit and LAIT polarity |
//! | `postcode_sectors.parquet` | postcode sector → LA (code, share) and OS grid centroid |
//! | `postcodes.parquet` | real postcodes (a sample, or the user's full ONS directory) → LA and OS grid reference |
//!
//! The files are committed and embedded in the binary, so the main job needs no network and no
//! `../shared`.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use polars::prelude::*;
use serde::Deserialize;
use thiserror::Error;

use super::csv_lines::records;
use super::text::decode;
use crate::domain::io::{write_csv, write_parquet};

/// Problems building the reference tables, each naming the file and what to do.
#[derive(Debug, Error)]
pub enum ReferenceError {
    #[error("{0}: cannot read ({1})")]
    Io(PathBuf, std::io::Error),
    #[error("no {what} file found under {dir}: {hint}")]
    Missing {
        what: &'static str,
        dir: PathBuf,
        hint: &'static str,
    },
    #[error("{file}: {message}")]
    Format { file: PathBuf, message: String },
    #[error(transparent)]
    Polars(#[from] PolarsError),
    #[error("data/reference/sources.yaml: {0}")]
    Sources(#[from] serde_yaml::Error),
}

/// A measure to extract (`data/reference/sources.yaml`).
#[derive(Debug, Clone, Deserialize)]
pub struct Source {
    pub id: String,
    pub unit: String,
    #[serde(default)]
    pub rate_of_population: bool,
    pub ees: Option<EesSource>,
    pub lait: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EesSource {
    pub file: String,
    #[serde(default)]
    pub filter: BTreeMap<String, String>,
    pub value: String,
    pub numerator: Option<String>,
    pub denominator: Option<String>,
    pub denominator_filter: Option<BTreeMap<String, String>>,
    /// How the value is written: a number (default), or `years_months` ("01:07", DfE's
    /// adoption stage averages), kept as days (a year 365.25 days, a month 30.4375).
    #[serde(default)]
    pub format: Option<String>,
}

/// The measures cspi extracts from published files.
pub fn sources() -> Result<Vec<Source>, serde_yaml::Error> {
    serde_yaml::from_str(include_str!("../../data/reference/sources.yaml"))
}

/// The reference tables in memory.
#[derive(Debug, Clone)]
pub struct ReferenceTables {
    pub las: DataFrame,
    pub sn_groups: DataFrame,
    pub population: DataFrame,
    pub published: DataFrame,
    pub measures: DataFrame,
    /// Postcode sectors ("SS1 2"): the LA holding most of the sector's postcodes (`la_code`
    /// empty outside England), the share in that LA, and the OS grid centroid in metres.
    pub sectors: DataFrame,
    /// Real postcodes ("SS1 2PA") with their LA (DfE code; empty outside England) and OS grid
    /// reference in metres: the DfE postcode rules and distances, and the generator's homes and
    /// placements. Shipped: a sample of up to 400 live postcodes per lower-tier LA.
    pub postcodes: DataFrame,
}

/// ONS codes of upper-tier LAs that changed after the DfE list was made, and the code the DfE
/// list holds (Barnsley and Sheffield were recoded in 2024).
const ONS_CODE_ALIASES: &[(&str, &str)] = &[("E08000038", "E08000016"), ("E08000039", "E08000019")];

/// A CSV file read as text: header names and rows of cells.
struct TextTable {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl TextTable {
    fn read(path: &Path) -> Result<TextTable, ReferenceError> {
        let bytes = std::fs::read(path).map_err(|e| ReferenceError::Io(path.into(), e))?;
        let (text, _) = decode(&bytes);
        let mut it = records(&text).filter(|r| !r.is_blank());
        let header = it
            .next()
            .map(|r| {
                r.fields
                    .into_iter()
                    .map(|f| f.trim().trim_start_matches('\u{feff}').to_string())
                    .collect()
            })
            .unwrap_or_default();
        let rows = it.map(|r| r.fields).collect();
        Ok(TextTable {
            path: path.into(),
            header,
            rows,
        })
    }

    fn col(&self, name: &str) -> Result<usize, ReferenceError> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| ReferenceError::Format {
                file: self.path.clone(),
                message: format!("has no column '{name}'"),
            })
    }
}

pub(crate) fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Parses DfE's "years:months" averages ("01:07" = 1 year 7 months) into days; anything else
/// as [`parse_published`].
pub fn parse_years_months(cell: &str) -> (Option<f64>, Option<String>) {
    let t = cell.trim();
    match t
        .split_once(':')
        .map(|(y, m)| (y.parse::<u32>(), m.parse::<u32>()))
    {
        Some((Ok(y), Ok(m))) if m < 12 => {
            (Some(f64::from(y) * 365.25 + f64::from(m) * 30.4375), None)
        }
        _ => parse_published(t),
    }
}

/// Parses a published cell: a number, or a suppression symbol kept as the status.
pub fn parse_published(cell: &str) -> (Option<f64>, Option<String>) {
    let t = cell.trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => (Some(v), None),
        _ if t.is_empty() => (None, Some("x".into())),
        _ => (None, Some(t.to_string())),
    }
}

/// The collection year of a LAIT/EES period label: "2025", "2024-25", "2024/25",
/// "2024-25 (OT)" all end in 2025; "2014-16" (a three-year period) ends in 2016.
pub fn year_of_period(label: &str) -> Option<i32> {
    let core = label.split_whitespace().next()?;
    if let Ok(y) = core.parse::<i32>() {
        return (1990..=2100).contains(&y).then_some(y);
    }
    let (start, end) = core.split_once(['-', '/'])?;
    let start: i32 = start.parse().ok()?;
    let end: i32 = end.parse().ok()?;
    let year = if end < 100 {
        start / 100 * 100 + end
    } else {
        end
    };
    (year > start && year - start <= 3).then_some(year)
}

#[derive(Default)]
struct Published {
    measure: Vec<String>,
    year: Vec<i32>,
    level: Vec<String>,
    code: Vec<String>,
    value: Vec<Option<f64>>,
    status: Vec<Option<String>>,
    numerator: Vec<Option<f64>>,
    denominator: Vec<Option<f64>>,
}

impl Published {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        measure: &str,
        year: i32,
        level: &str,
        code: &str,
        value: Option<f64>,
        status: Option<String>,
        numerator: Option<f64>,
        denominator: Option<f64>,
    ) {
        self.measure.push(measure.into());
        self.year.push(year);
        self.level.push(level.into());
        self.code.push(code.into());
        self.value.push(value);
        self.status.push(status);
        self.numerator.push(numerator);
        self.denominator.push(denominator);
    }

    fn frame(self) -> PolarsResult<DataFrame> {
        let df = DataFrame::new_infer_height(vec![
            Column::new("measure".into(), self.measure),
            Column::new("year".into(), self.year),
            Column::new("level".into(), self.level),
            Column::new("code".into(), self.code),
            Column::new("value".into(), self.value),
            Column::new("status".into(), self.status),
            Column::new("numerator".into(), self.numerator),
            Column::new("denominator".into(), self.denominator),
        ])?;
        df.sort(
            ["measure", "level", "code", "year"],
            SortMultipleOptions::default(),
        )
    }
}

/// EES geography of a row: ("national", "E92000001"), ("regional", region code) or
/// ("la", old LA code).
fn ees_area(t: &TextTable, row: &[String]) -> Option<(&'static str, String)> {
    let get = |name: &str| {
        t.header
            .iter()
            .position(|h| h == name)
            .and_then(|i| row.get(i))
            .map(|s| s.trim().to_string())
    };
    match get("geographic_level")?.as_str() {
        "National" => Some((
            "national",
            get("country_code")
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| "E92000001".into()),
        )),
        "Regional" => Some(("regional", get("region_code")?)),
        "Local authority" => {
            let code = get("old_la_code")?;
            let code = code.split('.').next().unwrap_or(&code).to_string();
            (!code.is_empty()).then_some(("la", code))
        }
        _ => None,
    }
}

/// Builds every reference table from the public files under `dir`.
pub fn build(dir: &Path) -> Result<ReferenceTables, ReferenceError> {
    let files = files_under(dir);
    let find = |pred: &dyn Fn(&str) -> bool| files.iter().find(|p| pred(&file_name(p))).cloned();

    // Population and the LA list.
    let population_file = find(&|n| {
        n.starts_with("ons_mid-year_population") && n.ends_with(".csv")
    })
    .ok_or(ReferenceError::Missing {
        what: "ONS population",
        dir: dir.into(),
        hint: "expected ons_mid-year_population_estimates_*.csv (children aged 0 to 17 by LA)",
    })?;
    let pop = TextTable::read(&population_file)?;
    let (ct, cl, cr, crn, co, cn, cname, cv) = (
        pop.col("time_period")?,
        pop.col("geographic_level")?,
        pop.col("region_code")?,
        pop.col("region_name")?,
        pop.col("old_la_code")?,
        pop.col("new_la_code")?,
        pop.col("la_name")?,
        pop.col("population_estimate")?,
    );
    let mut p_level = vec![];
    let mut p_code = vec![];
    let mut p_name = vec![];
    let mut p_year = vec![];
    let mut p_value = vec![];
    let mut las: BTreeMap<String, (String, String, String, String, i32)> = BTreeMap::new();
    for row in &pop.rows {
        let Ok(year) = row[ct].trim().parse::<i32>() else {
            continue;
        };
        let value = row[cv].trim().parse::<f64>().ok();
        let (level, code, name) = match row[cl].trim() {
            "National" => ("national", "E92000001".to_string(), "England".to_string()),
            "Regional" => (
                "regional",
                row[cr].trim().to_string(),
                row[crn].trim().to_string(),
            ),
            "Local authority" => {
                let code = row[co].trim().split('.').next().unwrap_or("").to_string();
                let entry = las.entry(code.clone()).or_insert_with(|| {
                    (
                        row[cn].trim().into(),
                        row[cname].trim().into(),
                        row[cr].trim().into(),
                        row[crn].trim().into(),
                        year,
                    )
                });
                if year > entry.4 {
                    *entry = (
                        row[cn].trim().into(),
                        row[cname].trim().into(),
                        row[cr].trim().into(),
                        row[crn].trim().into(),
                        year,
                    );
                }
                ("la", code, row[cname].trim().to_string())
            }
            _ => continue,
        };
        p_level.push(level.to_string());
        p_code.push(code);
        p_name.push(name);
        p_year.push(year);
        p_value.push(value);
    }
    // LA rows give Inner/Outer London (E13) as the region; benchmarking uses the nine English
    // regions, so London boroughs belong to London (E12000007).
    for v in las.values_mut() {
        if v.2.starts_with("E13") {
            v.2 = "E12000007".into();
            v.3 = "London".into();
        }
    }
    let latest = las.values().map(|v| v.4).max().unwrap_or(0);
    let las_df = DataFrame::new_infer_height(vec![
        Column::new("la_code".into(), las.keys().cloned().collect::<Vec<_>>()),
        Column::new(
            "ons_code".into(),
            las.values().map(|v| v.0.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "la_name".into(),
            las.values().map(|v| v.1.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "region_code".into(),
            las.values().map(|v| v.2.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "region_name".into(),
            las.values().map(|v| v.3.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "current".into(),
            las.values().map(|v| v.4 == latest).collect::<Vec<_>>(),
        ),
    ])?;
    let population = DataFrame::new_infer_height(vec![
        Column::new("level".into(), p_level),
        Column::new("code".into(), p_code),
        Column::new("name".into(), p_name),
        Column::new("year".into(), p_year),
        Column::new("population_0_17".into(), p_value),
    ])?
    .sort(["level", "code", "year"], SortMultipleOptions::default())?;

    // Statistical neighbours.
    let mut sn: Vec<(i32, String, i32, String, String)> = vec![];
    for path in &files {
        let name = file_name(path);
        let model = if name.contains("2025") {
            2025
        } else if name.contains("2021") {
            2021
        } else {
            continue;
        };
        let is_sn = name.starts_with("sn_") || name.contains("statistical_neighbour");
        if !is_sn {
            continue;
        }
        let rows = if name.ends_with(".csv") {
            let t = TextTable::read(path)?;
            sn_rows_from_cells(&t.header, &t.rows)
        } else if name.ends_with(".xlsx") {
            sn_rows_from_xlsx(path)?
        } else {
            continue;
        };
        for (la, neighbours) in rows {
            if sn.iter().any(|r| r.0 == model && r.1 == la) {
                continue; // the same model from both the CSV and the workbook
            }
            for (rank, (code, closeness)) in neighbours.into_iter().enumerate() {
                sn.push((model, la.clone(), rank as i32 + 1, code, closeness));
            }
        }
    }
    if sn.is_empty() {
        return Err(ReferenceError::Missing {
            what: "statistical neighbour",
            dir: dir.into(),
            hint: "expected sn_model_2025_wide.csv, New_Statistical_Neighbour_Groupings_April_2021.csv or sn_*_2025.xlsx",
        });
    }
    sn.sort();
    let sn_groups = DataFrame::new_infer_height(vec![
        Column::new("model".into(), sn.iter().map(|r| r.0).collect::<Vec<_>>()),
        Column::new(
            "la_code".into(),
            sn.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        ),
        Column::new("rank".into(), sn.iter().map(|r| r.2).collect::<Vec<_>>()),
        Column::new(
            "neighbour_code".into(),
            sn.iter().map(|r| r.3.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "closeness".into(),
            sn.iter().map(|r| r.4.clone()).collect::<Vec<_>>(),
        ),
    ])?;

    // Published measures.
    let (published, measures) = read_published(dir, true)?;
    // Postcode sectors.
    let sectors_file = find(&|n| n.starts_with("postcode_sectors") && n.ends_with(".csv")).ok_or(ReferenceError::Missing {
        what: "postcode sector",
        dir: dir.into(),
        hint: "expected postcode_sectors.csv (sector, utla_code, old_la_code, la_name, share, easting, northing)",
    })?;
    let t = TextTable::read(&sectors_file)?;
    let (cs, cu, co, csh, ce, cn) = (
        t.col("sector")?,
        t.col("utla_code")?,
        t.col("old_la_code")?,
        t.col("share")?,
        t.col("easting")?,
        t.col("northing")?,
    );
    let num = |row: &Vec<String>, i: usize| row.get(i).and_then(|v| v.trim().parse::<f64>().ok());
    let sectors = DataFrame::new_infer_height(vec![
        Column::new(
            "sector".into(),
            t.rows
                .iter()
                .map(|r| r[cs].trim().to_string())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "utla_code".into(),
            t.rows
                .iter()
                .map(|r| r[cu].trim().to_string())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "la_code".into(),
            t.rows
                .iter()
                .map(|r| {
                    Some(r[co].trim().split('.').next().unwrap_or("").to_string())
                        .filter(|c| !c.is_empty())
                })
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "share".into(),
            t.rows.iter().map(|r| num(r, csh)).collect::<Vec<_>>(),
        ),
        Column::new(
            "easting".into(),
            t.rows.iter().map(|r| num(r, ce)).collect::<Vec<_>>(),
        ),
        Column::new(
            "northing".into(),
            t.rows.iter().map(|r| num(r, cn)).collect::<Vec<_>>(),
        ),
    ])?
    .sort(["sector"], SortMultipleOptions::default())?;
    let postcodes = build_postcodes(&find, &las_df, dir)?;
    Ok(ReferenceTables {
        las: las_df,
        sn_groups,
        population,
        published,
        measures,
        sectors,
        postcodes,
    })
}

/// Real postcodes from `postcodes_sample*.csv` (postcode, utla_code, easting, northing — the
/// shipped sample) or a full ONS Postcode Directory CSV (`ONSPD*.csv`: pcds, oslaua/utla,
/// oseast1m, osnrth1m), with the DfE code of each postcode's upper-tier LA.
/// Finds a file among the public files by a test of its name.
type FindFile<'a> = dyn Fn(&dyn Fn(&str) -> bool) -> Option<PathBuf> + 'a;

fn build_postcodes(
    find: &FindFile,
    las: &DataFrame,
    dir: &Path,
) -> Result<DataFrame, ReferenceError> {
    let file = find(&|n| n.starts_with("postcodes_sample") && n.ends_with(".csv"))
        .or_else(|| find(&|n| n.to_ascii_uppercase().starts_with("ONSPD") && n.ends_with(".csv")))
        .ok_or(ReferenceError::Missing {
            what: "postcode",
            dir: dir.into(),
            hint: "expected postcodes_sample.csv (postcode, utla_code, easting, northing) or an ONS Postcode Directory CSV",
        })?;
    let t = TextTable::read(&file)?;
    let pick = |names: &[&str]| -> Result<usize, ReferenceError> {
        names
            .iter()
            .find_map(|n| t.col(n).ok())
            .map_or_else(|| t.col(names[0]), Ok)
    };
    let (cp, cu, ce, cn) = (
        pick(&["postcode", "pcds"])?,
        pick(&["utla_code", "utla", "oslaua"])?,
        pick(&["easting", "oseast1m"])?,
        pick(&["northing", "osnrth1m"])?,
    );
    let ons: HashMap<String, String> = las
        .column("ons_code")?
        .str()?
        .iter()
        .zip(las.column("la_code")?.str()?.iter())
        .filter_map(|(o, c)| Some((o?.to_string(), c?.to_string())))
        .collect();
    let dfe = |utla: &str| {
        let utla = ONS_CODE_ALIASES
            .iter()
            .find(|(new, _)| *new == utla)
            .map_or(utla, |(_, old)| old);
        ons.get(utla).cloned()
    };
    let mut postcode = vec![];
    let mut la = vec![];
    let mut east = vec![];
    let mut north = vec![];
    for row in &t.rows {
        let cell = |i: usize| row.get(i).map(|v| v.trim()).unwrap_or("");
        let Some(p) = super::table::normalise_postcode(cell(cp)) else {
            continue;
        };
        postcode.push(p);
        la.push(dfe(cell(cu)));
        east.push(cell(ce).parse::<f64>().ok());
        north.push(cell(cn).parse::<f64>().ok());
    }
    Ok(DataFrame::new_infer_height(vec![
        Column::new("postcode".into(), postcode),
        Column::new("la_code".into(), la),
        Column::new("easting".into(), east),
        Column::new("northing".into(), north),
    ])?
    .sort(["postcode"], SortMultipleOptions::default())?)
}

/// The published DfE figures the catalogue needs, from the LAIT long table and the EES CSVs
/// under `dir` (any layout; files are recognised by name). `strict` (building the shipped
/// tables) requires every file; otherwise whichever are present are read (a user's newer
/// download of some of them), and an error is raised only when none is.
pub fn read_published(dir: &Path, strict: bool) -> Result<(DataFrame, DataFrame), ReferenceError> {
    let files = files_under(dir);
    let find = |pred: &dyn Fn(&str) -> bool| files.iter().find(|p| pred(&file_name(p))).cloned();
    let mut found = 0;
    let sources = sources()?;
    let mut published = Published::default();
    let mut ees_cache: HashMap<String, TextTable> = HashMap::new();
    for source in sources.iter().filter(|s| s.ees.is_some()) {
        let ees = source.ees.as_ref().expect("filtered");
        if !ees_cache.contains_key(&ees.file) {
            let path =
                find(&|n| n.starts_with(&ees.file.to_ascii_lowercase()) && n.ends_with(".csv"));
            match path {
                Some(path) => {
                    ees_cache.insert(ees.file.clone(), TextTable::read(&path)?);
                    found += 1;
                }
                None if strict => {
                    return Err(ReferenceError::Missing {
                        what: "EES",
                        dir: dir.into(),
                        hint: "see data/reference/sources.yaml for the file-name prefixes",
                    });
                }
                None => continue,
            }
        }
        extract_ees(source, ees, &ees_cache[&ees.file], &mut published)?;
    }
    let mut measures_rows: Vec<(String, String, String, String, String)> = sources
        .iter()
        .map(|s| {
            (
                s.id.clone(),
                if s.lait.is_some() { "lait" } else { "ees" }.to_string(),
                s.unit.clone(),
                String::new(),
                String::new(),
            )
        })
        .collect();
    if sources.iter().any(|s| s.lait.is_some()) {
        let lait_path = find(&|n| {
            n.starts_with("bds_long") && (n.ends_with(".parquet") || n.ends_with(".csv"))
        });
        match lait_path {
            Some(p) => {
                extract_lait(&sources, &p, &mut published)?;
                found += 1;
            }
            None if strict => {
                return Err(ReferenceError::Missing {
                    what: "LAIT",
                    dir: dir.into(),
                    hint: "expected bds_long*.parquet (or .csv) from the LAIT download",
                });
            }
            None => {}
        }
        if let Some(dict) = find(&|n| n.starts_with("lait_data_dictionary") && n.ends_with(".csv"))
        {
            let t = TextTable::read(&dict)?;
            let (short, polarity, measure) = (
                t.col("Measure_short")?,
                t.col("Polarity")?,
                t.col("Measure")?,
            );
            for row in &t.rows {
                let key = format!("lait:{}", row[short].trim());
                if let Some(m) = measures_rows.iter_mut().find(|m| m.0 == key) {
                    m.3 = match row[polarity].trim().to_ascii_lowercase().as_str() {
                        "high" => "high",
                        "low" => "low",
                        _ => "neutral",
                    }
                    .into();
                    m.4 = row[measure].trim().to_string();
                }
            }
        }
    }
    let measures = DataFrame::new_infer_height(vec![
        Column::new(
            "measure".into(),
            measures_rows
                .iter()
                .map(|m| m.0.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "source".into(),
            measures_rows
                .iter()
                .map(|m| m.1.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "unit".into(),
            measures_rows
                .iter()
                .map(|m| m.2.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "polarity".into(),
            measures_rows
                .iter()
                .map(|m| m.3.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "title".into(),
            measures_rows
                .iter()
                .map(|m| m.4.clone())
                .collect::<Vec<_>>(),
        ),
    ])?;
    if found == 0 {
        return Err(ReferenceError::Missing {
            what: "published DfE figures",
            dir: dir.into(),
            hint: "expected bds_long*.parquet/csv (LAIT) or EES CSVs named as in data/reference/sources.yaml",
        });
    }
    Ok((published.frame()?, measures))
}

type SnRows = Vec<(String, Vec<(String, String)>)>;

/// Neighbour rows from a wide table whose header has the LA code first and SN columns in
/// pairs (code, closeness): `old_la_code, …, SN_1, SN_1P, …` or `LA num, …, SN1, SNP, …`.
fn sn_rows_from_cells(header: &[String], rows: &[Vec<String>]) -> SnRows {
    let first_sn = header.iter().position(|h| {
        let h = h.trim().to_ascii_uppercase();
        h == "SN1" || h == "SN_1"
    });
    let Some(first_sn) = first_sn else {
        return vec![];
    };
    rows.iter()
        .filter_map(|row| {
            let la = row.first()?.trim().split('.').next()?.to_string();
            if la.len() != 3 || !la.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let neighbours = (0..10)
                .filter_map(|k| {
                    let code = row
                        .get(first_sn + 2 * k)?
                        .trim()
                        .split('.')
                        .next()?
                        .to_string();
                    let closeness = row
                        .get(first_sn + 2 * k + 1)
                        .map(|c| c.trim().to_string())
                        .unwrap_or_default();
                    (!code.is_empty()).then_some((code, closeness))
                })
                .collect();
            Some((la, neighbours))
        })
        .collect()
}

fn sn_rows_from_xlsx(path: &Path) -> Result<SnRows, ReferenceError> {
    use calamine::{Reader, open_workbook_auto};
    let mut book = open_workbook_auto(path).map_err(|e| ReferenceError::Format {
        file: path.into(),
        message: e.to_string(),
    })?;
    let sheet = book
        .sheet_names()
        .into_iter()
        .find(|s| s.to_ascii_lowercase().contains("sn group"))
        .ok_or_else(|| ReferenceError::Format {
            file: path.into(),
            message: "has no 'LA SN Groups' sheet".into(),
        })?;
    let range = book
        .worksheet_range(&sheet)
        .map_err(|e| ReferenceError::Format {
            file: path.into(),
            message: e.to_string(),
        })?;
    let cells: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let header_row = cells
        .iter()
        .position(|r| r.iter().any(|c| c.trim() == "SN1"))
        .ok_or_else(|| ReferenceError::Format {
            file: path.into(),
            message: "no header row with SN1".into(),
        })?;
    Ok(sn_rows_from_cells(
        &cells[header_row],
        &cells[header_row + 1..],
    ))
}

fn extract_ees(
    source: &Source,
    ees: &EesSource,
    t: &TextTable,
    out: &mut Published,
) -> Result<(), ReferenceError> {
    let year_col = t.col("time_period")?;
    let value_col = t.col(&ees.value)?;
    let num_col = ees.numerator.as_deref().map(|c| t.col(c)).transpose()?;
    let den_col = ees.denominator.as_deref().map(|c| t.col(c)).transpose()?;
    let filters: Vec<(usize, &str)> = ees
        .filter
        .iter()
        .map(|(k, v)| Ok((t.col(k)?, v.as_str())))
        .collect::<Result<_, ReferenceError>>()?;
    let den_filters: Option<Vec<(usize, &str)>> = ees
        .denominator_filter
        .as_ref()
        .map(|f| {
            f.iter()
                .map(|(k, v)| Ok((t.col(k)?, v.as_str())))
                .collect::<Result<_, ReferenceError>>()
        })
        .transpose()?;
    let matches = |row: &[String], f: &[(usize, &str)]| {
        f.iter()
            .all(|(i, v)| row.get(*i).is_some_and(|c| c.trim() == *v))
    };
    // Denominators on their own rows, by (year, area).
    let mut denominators: HashMap<(String, &'static str, String), Option<f64>> = HashMap::new();
    if let (Some(df), Some(dc)) = (&den_filters, den_col) {
        for row in t.rows.iter().filter(|r| matches(r, df)) {
            if let Some((level, code)) = ees_area(t, row) {
                denominators.insert(
                    (row[year_col].trim().to_string(), level, code),
                    parse_published(&row[dc]).0,
                );
            }
        }
    }
    for row in t.rows.iter().filter(|r| matches(r, &filters)) {
        let Some(year) = year_of_period(row[year_col].trim()) else {
            continue;
        };
        let Some((level, code)) = ees_area(t, row) else {
            continue;
        };
        let (value, status) = match ees.format.as_deref() {
            Some("years_months") => parse_years_months(&row[value_col]),
            _ => parse_published(&row[value_col]),
        };
        let numerator = num_col.and_then(|c| parse_published(&row[c]).0);
        let denominator = if den_filters.is_some() {
            denominators
                .get(&(row[year_col].trim().to_string(), level, code.clone()))
                .copied()
                .flatten()
        } else {
            den_col.and_then(|c| parse_published(&row[c]).0)
        };
        out.push(
            &source.id,
            year,
            level,
            &code,
            value,
            status,
            numerator,
            denominator,
        );
    }
    Ok(())
}

/// LAIT LA numbers for England (970) and the regions (980–990) mapped to ONS codes; the Inner
/// and Outer London sub-regions (987, 988) have no ONS region and are not kept.
fn lait_area(number: i64) -> Option<(&'static str, String)> {
    let region = |c: &str| Some(("regional", c.to_string()));
    match number {
        970 => Some(("national", "E92000001".into())),
        980 => region("E12000001"),
        981 => region("E12000002"),
        982 => region("E12000003"),
        983 => region("E12000004"),
        984 => region("E12000005"),
        985 => region("E12000006"),
        986 => region("E12000007"),
        989 => region("E12000008"),
        990 => region("E12000009"),
        987 | 988 | 1000 => None,
        n if (100..970).contains(&n) => Some(("la", n.to_string())),
        _ => None,
    }
}

fn extract_lait(
    sources: &[Source],
    path: &Path,
    out: &mut Published,
) -> Result<(), ReferenceError> {
    let df = if file_name(path).ends_with(".parquet") {
        let file = std::fs::File::open(path).map_err(|e| ReferenceError::Io(path.into(), e))?;
        ParquetReader::new(file).finish()?
    } else {
        let bytes = std::fs::read(path).map_err(|e| ReferenceError::Io(path.into(), e))?;
        let (text, _) = decode(&bytes);
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .into_reader_with_file_handle(Cursor::new(text.into_bytes()))
            .finish()?
    };
    let wanted: HashMap<&str, &str> = sources
        .iter()
        .filter_map(|s| s.lait.as_deref().map(|k| (k, s.id.as_str())))
        .collect();
    let key = df.column("Short Desc")?.cast(&DataType::String)?;
    let years = df.column("Years")?.cast(&DataType::String)?;
    let values = df.column("Values")?.cast(&DataType::String)?;
    let numbers = df.column("LA Number")?.cast(&DataType::Float64)?;
    let (key, years, values, numbers) = (key.str()?, years.str()?, values.str()?, numbers.f64()?);
    for i in 0..df.height() {
        let Some(id) = key.get(i).and_then(|k| wanted.get(k)) else {
            continue;
        };
        let Some(year) = years
            .get(i)
            .filter(|y| !y.contains('('))
            .and_then(year_of_period)
        else {
            continue;
        };
        let Some((level, code)) = numbers.get(i).and_then(|n| lait_area(n as i64)) else {
            continue;
        };
        let (value, status) = parse_published(values.get(i).unwrap_or(""));
        out.push(id, year, level, &code, value, status, None, None);
    }
    Ok(())
}

impl ReferenceTables {
    /// ONS area code → DfE LA code, for every LA (ONS codes changed after the DfE list was made
    /// included).
    pub fn la_of_ons(&self) -> PolarsResult<HashMap<String, String>> {
        let mut map: HashMap<String, String> = self
            .las
            .column("ons_code")?
            .str()?
            .iter()
            .zip(self.las.column("la_code")?.str()?.iter())
            .filter_map(|(o, c)| Some((o?.to_string(), c?.to_string())))
            .collect();
        for (new, old) in ONS_CODE_ALIASES {
            if let Some(la) = map.get(*old).cloned() {
                map.insert(new.to_string(), la);
            }
        }
        Ok(map)
    }

    /// Writes the tables into a folder (normally `data/reference`), atomically, file by file.
    pub fn write(&mut self, dir: &Path) -> std::io::Result<()> {
        write_csv(&mut self.las, &dir.join("las.csv"))?;
        write_csv(&mut self.sn_groups, &dir.join("sn_groups.csv"))?;
        write_csv(&mut self.population, &dir.join("population.csv"))?;
        write_csv(&mut self.measures, &dir.join("measures.csv"))?;
        write_parquet(&mut self.published, &dir.join("published.parquet"))?;
        write_parquet(&mut self.sectors, &dir.join("postcode_sectors.parquet"))?;
        write_parquet(&mut self.postcodes, &dir.join("postcodes.parquet"))?;
        Ok(())
    }

    /// These tables with the published figures under `dir` (a user's newer LAIT or EES
    /// download) layered over the shipped ones: a figure in the user's files replaces the
    /// shipped figure for the same measure, area and year.
    pub fn with_published(&self, dir: &Path) -> Result<ReferenceTables, ReferenceError> {
        let (published, _) = read_published(dir, false)?;
        let merged = concat(
            [
                self.published.clone().lazy(),
                published.lazy().select(
                    self.published
                        .get_column_names()
                        .into_iter()
                        .map(|c| col(c.clone()))
                        .collect::<Vec<_>>(),
                ),
            ],
            UnionArgs::default(),
        )?
        .unique_stable(
            Some(cols(["measure", "code", "year"])),
            UniqueKeepStrategy::Last,
        )
        .sort(
            ["measure", "level", "code", "year"],
            SortMultipleOptions::default(),
        )
        .collect()?;
        Ok(ReferenceTables {
            published: merged,
            ..self.clone()
        })
    }

    /// The tables committed in `data/reference`, embedded at build time.
    pub fn embedded() -> &'static ReferenceTables {
        static TABLES: OnceLock<ReferenceTables> = OnceLock::new();
        TABLES.get_or_init(|| {
            ReferenceTables::from_parts(
                include_str!("../../data/reference/las.csv"),
                include_str!("../../data/reference/sn_groups.csv"),
                include_str!("../../data/reference/population.csv"),
                include_str!("../../data/reference/measures.csv"),
                include_bytes!("../../data/reference/published.parquet"),
                include_bytes!("../../data/reference/postcode_sectors.parquet"),
                include_bytes!("../../data/reference/postcodes.parquet"),
            )
            .expect("the embedded reference tables are valid")
        })
    }

    /// Reads tables written by [`ReferenceTables::write`] from a folder.
    pub fn load(dir: &Path) -> Result<ReferenceTables, ReferenceError> {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .map_err(|e| ReferenceError::Io(dir.join(name), e))
        };
        let bytes = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| ReferenceError::Io(dir.join(name), e))
        };
        Ok(ReferenceTables::from_parts(
            &read("las.csv")?,
            &read("sn_groups.csv")?,
            &read("population.csv")?,
            &read("measures.csv")?,
            &bytes("published.parquet")?,
            &bytes("postcode_sectors.parquet")?,
            &bytes("postcodes.parquet")?,
        )?)
    }

    fn from_parts(
        las: &str,
        sn: &str,
        population: &str,
        measures: &str,
        published: &[u8],
        sectors: &[u8],
        postcodes: &[u8],
    ) -> PolarsResult<ReferenceTables> {
        let csv = |text: &str, types: &[(&str, DataType)]| -> PolarsResult<DataFrame> {
            let df = CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .into_reader_with_file_handle(Cursor::new(text.as_bytes().to_vec()))
                .finish()?;
            let casts: Vec<Expr> = types
                .iter()
                .map(|(c, t)| match t {
                    // Text "true"/"false" has no direct cast to Boolean.
                    DataType::Boolean => col(*c).eq(lit("true")).alias(*c),
                    _ => col(*c).cast(t.clone()),
                })
                .collect();
            df.lazy().with_columns(casts).collect()
        };
        Ok(ReferenceTables {
            las: csv(las, &[("current", DataType::Boolean)])?,
            sn_groups: csv(sn, &[("model", DataType::Int32), ("rank", DataType::Int32)])?,
            population: super::population::with_estimate_column(csv(
                population,
                &[
                    ("year", DataType::Int32),
                    ("population_0_17", DataType::Float64),
                ],
            )?)?,
            measures: csv(measures, &[])?,
            published: ParquetReader::new(Cursor::new(published.to_vec())).finish()?,
            sectors: ParquetReader::new(Cursor::new(sectors.to_vec())).finish()?,
            postcodes: ParquetReader::new(Cursor::new(postcodes.to_vec())).finish()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_labels_give_the_year_they_end() {
        assert_eq!(year_of_period("2025"), Some(2025));
        assert_eq!(year_of_period("2024-25"), Some(2025));
        assert_eq!(year_of_period("2024/25"), Some(2025));
        assert_eq!(year_of_period("2014-16"), Some(2016));
        assert_eq!(year_of_period("2099-01"), None);
        assert_eq!(year_of_period("n/a"), None);
    }

    #[test]
    fn suppression_symbols_are_not_zero() {
        assert_eq!(parse_published("22.9"), (Some(22.9), None));
        assert_eq!(parse_published("c"), (None, Some("c".into())));
        assert_eq!(parse_published("low"), (None, Some("low".into())));
        assert_eq!(parse_published("-"), (None, Some("-".into())));
    }
}

/// One LA of the reference list.
#[derive(Debug, Clone, PartialEq)]
pub struct La {
    pub code: String,
    pub ons_code: String,
    pub name: String,
    pub region_code: String,
    pub region_name: String,
    pub current: bool,
}

/// A published figure: value (or the suppression symbol) and, where published, its counts.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedValue {
    pub value: Option<f64>,
    pub status: Option<String>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

/// Fast lookups over the reference tables.
#[derive(Debug)]
pub struct ReferenceIndex {
    las: BTreeMap<String, La>,
    /// (code, ONS mid-year) → (children aged 0–17, the estimate's label).
    population: HashMap<(String, i32), (f64, String)>,
    published: HashMap<(String, String, i32), PublishedValue>,
    neighbours: HashMap<(i32, String), Vec<String>>,
}

impl ReferenceIndex {
    /// Index of the embedded tables.
    pub fn embedded() -> &'static ReferenceIndex {
        static INDEX: OnceLock<ReferenceIndex> = OnceLock::new();
        INDEX.get_or_init(|| {
            ReferenceIndex::new(ReferenceTables::embedded())
                .expect("embedded reference tables are consistent")
        })
    }

    pub fn new(t: &ReferenceTables) -> PolarsResult<ReferenceIndex> {
        let s = |df: &DataFrame, c: &str| -> PolarsResult<Vec<String>> {
            Ok(df
                .column(c)?
                .cast(&DataType::String)?
                .str()?
                .iter()
                .map(|v| v.unwrap_or("").to_string())
                .collect())
        };
        let mut las = BTreeMap::new();
        let (codes, ons, names, rc, rn) = (
            s(&t.las, "la_code")?,
            s(&t.las, "ons_code")?,
            s(&t.las, "la_name")?,
            s(&t.las, "region_code")?,
            s(&t.las, "region_name")?,
        );
        let current: Vec<bool> = t
            .las
            .column("current")?
            .bool()?
            .iter()
            .map(|v| v.unwrap_or(false))
            .collect();
        for (i, code) in codes.into_iter().enumerate() {
            las.insert(
                code.clone(),
                La {
                    code,
                    ons_code: ons[i].clone(),
                    name: names[i].clone(),
                    region_code: rc[i].clone(),
                    region_name: rn[i].clone(),
                    current: current[i],
                },
            );
        }
        let mut population = HashMap::new();
        let (pc, py) = (
            s(&t.population, "code")?,
            t.population.column("year")?.i32()?.clone(),
        );
        let pv = t.population.column("population_0_17")?.f64()?.clone();
        let estimate = match t.population.column("estimate") {
            Ok(c) => c.str()?.clone(),
            Err(_) => StringChunked::full(
                "estimate".into(),
                super::population::SHIPPED_ESTIMATE,
                t.population.height(),
            ),
        };
        for (((code, y), v), e) in pc
            .into_iter()
            .zip(py.iter())
            .zip(pv.iter())
            .zip(estimate.iter())
        {
            if let (Some(y), Some(v)) = (y, v) {
                let label = e.unwrap_or(super::population::SHIPPED_ESTIMATE);
                population.insert((code, y), (v, label.to_string()));
            }
        }
        let mut published = HashMap::new();
        let (m, c) = (s(&t.published, "measure")?, s(&t.published, "code")?);
        let y = t.published.column("year")?.i32()?.clone();
        let v = t.published.column("value")?.f64()?.clone();
        let st = t.published.column("status")?.str()?.clone();
        let nu = t.published.column("numerator")?.f64()?.clone();
        let de = t.published.column("denominator")?.f64()?.clone();
        for (i, (measure, code)) in m.into_iter().zip(c).enumerate() {
            published.insert(
                (measure, code, y.get(i).unwrap_or(0)),
                PublishedValue {
                    value: v.get(i),
                    status: st.get(i).map(str::to_string),
                    numerator: nu.get(i),
                    denominator: de.get(i),
                },
            );
        }
        let mut neighbours: HashMap<(i32, String), Vec<String>> = HashMap::new();
        let sn = t
            .sn_groups
            .sort(["model", "la_code", "rank"], SortMultipleOptions::default())?;
        let (model, la, nb) = (
            sn.column("model")?.i32()?.clone(),
            s(&sn, "la_code")?,
            s(&sn, "neighbour_code")?,
        );
        for ((m, la), nb) in model.iter().zip(la).zip(nb) {
            neighbours.entry((m.unwrap_or(0), la)).or_default().push(nb);
        }
        Ok(ReferenceIndex {
            las,
            population,
            published,
            neighbours,
        })
    }

    pub fn la(&self, code: &str) -> Option<&La> {
        self.las.get(code)
    }

    /// The LAs that exist now, in code order.
    pub fn current_las(&self) -> impl Iterator<Item = &La> {
        self.las.values().filter(|l| l.current)
    }

    /// ONS children aged 0–17 for a collection year: the mid-year estimate for the mid-year
    /// before the 31 March year end (2024 for 2024/25), as DfE uses for rates per 10,000.
    /// Years past the latest estimate use the latest (and say so in the figure's notes).
    pub fn population(&self, code: &str, collection_year: i32) -> Option<f64> {
        self.population_entry(code, collection_year).map(|e| e.0)
    }

    /// Which estimate [`ReferenceIndex::population`] gives for the year (the shipped ONS series
    /// or the user's), with the mid-year it is for when another year's stands in.
    pub fn population_estimate(&self, code: &str, collection_year: i32) -> Option<String> {
        let mid = collection_year - 1;
        self.population_entry(code, collection_year)
            .map(|(_, label, year)| {
                if year == mid {
                    format!("{label}, mid-{year}")
                } else {
                    format!("{label}, mid-{year} (the nearest held to mid-{mid})")
                }
            })
    }

    /// The population for the mid-year before the year's 31 March, or the nearest year held
    /// (earlier first): (value, label, mid-year).
    fn population_entry(&self, code: &str, collection_year: i32) -> Option<(f64, &str, i32)> {
        let mid = collection_year - 1;
        std::iter::once(mid)
            .chain((2000..mid).rev())
            .chain(mid + 1..=2100)
            .find_map(|y| {
                self.population
                    .get(&(code.to_string(), y))
                    .map(|(v, label)| (*v, label.as_str(), y))
            })
    }

    /// A published figure for an area (LA code, region code or E92000001) and year.
    pub fn published(&self, measure: &str, code: &str, year: i32) -> Option<&PublishedValue> {
        self.published
            .get(&(measure.to_string(), code.to_string(), year))
    }

    /// The LA's statistical neighbours (closest first) in a model (2021 or 2025).
    pub fn neighbours(&self, model: i32, code: &str) -> &[String] {
        self.neighbours
            .get(&(model, code.to_string()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}
