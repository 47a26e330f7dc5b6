//! The offline builder (`cspi reference build --from <dir>`): the public files as DfE and ONS
//! publish them, read into the reference tables and written to `data/reference/`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::published::read_published;
use super::source_files::{FindFile, TextTable, file_name, files_under, find_file};
use super::{ONS_CODE_ALIASES, ReferenceError, ReferenceTables};
use crate::domain::io::{write_csv, write_parquet};

/// Builds every reference table from the public files under `dir`.
pub fn build(dir: &Path) -> Result<ReferenceTables, ReferenceError> {
    let files = files_under(dir);
    let find = |pred: &dyn Fn(&str) -> bool| find_file(&files, pred);
    let (las, population) = build_population(&find, dir)?;
    let sn_groups = build_neighbours(&files, dir)?;
    let (published, measures) = read_published(dir, true)?;
    let sectors = build_sectors(&find, dir)?;
    let postcodes = build_postcodes(&find, &las, dir)?;
    Ok(ReferenceTables {
        las,
        sn_groups,
        population,
        published,
        measures,
        sectors,
        postcodes,
    })
}

impl ReferenceTables {
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
}

/// An LA as the population table last names it: ONS code, name, region code, region name
/// and the latest year it appears in.
type LaRow = (String, String, String, String, i32);

/// The population table's rows as read (national, regional and LA).
#[derive(Default)]
struct PopulationRows {
    level: Vec<String>,
    code: Vec<String>,
    name: Vec<String>,
    year: Vec<i32>,
    value: Vec<Option<f64>>,
}

/// The LA list and the child populations, both from the ONS population table.
fn build_population(find: &FindFile, dir: &Path) -> Result<(DataFrame, DataFrame), ReferenceError> {
    let population_file = find(&|n| {
        n.starts_with("ons_mid-year_population") && n.ends_with(".csv")
    })
    .ok_or(ReferenceError::Missing {
        what: "ONS population",
        dir: dir.into(),
        hint: "expected ons_mid-year_population_estimates_*.csv (children aged 0 to 17 by LA)",
    })?;
    let pop = TextTable::read(&population_file)?;
    let (rows, las) = population_rows(&pop)?;
    let las_df = las_frame(las)?;
    let population = DataFrame::new_infer_height(vec![
        Column::new("level".into(), rows.level),
        Column::new("code".into(), rows.code),
        Column::new("name".into(), rows.name),
        Column::new("year".into(), rows.year),
        Column::new("population_0_17".into(), rows.value),
    ])?
    .sort(["level", "code", "year"], SortMultipleOptions::default())?;
    Ok((las_df, population))
}

/// The population table's rows, and each LA as its latest year names it.
fn population_rows(
    pop: &TextTable,
) -> Result<(PopulationRows, BTreeMap<String, LaRow>), ReferenceError> {
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
    let mut out = PopulationRows::default();
    let mut las: BTreeMap<String, LaRow> = BTreeMap::new();
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
        out.level.push(level.to_string());
        out.code.push(code);
        out.name.push(name);
        out.year.push(year);
        out.value.push(value);
    }
    Ok((out, las))
}

/// The `las.csv` table: every LA, current when it is in the latest year's population.
fn las_frame(mut las: BTreeMap<String, LaRow>) -> PolarsResult<DataFrame> {
    // LA rows give Inner/Outer London (E13) as the region; benchmarking uses the nine English
    // regions, so London boroughs belong to London (E12000007).
    for v in las.values_mut() {
        if v.2.starts_with("E13") {
            v.2 = "E12000007".into();
            v.3 = "London".into();
        }
    }
    let latest = las.values().map(|v| v.4).max().unwrap_or(0);
    DataFrame::new_infer_height(vec![
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
    ])
}

/// A neighbour of an LA: model, LA, rank, neighbour's code and closeness.
type SnRow = (i32, String, i32, String, String);

/// Statistical neighbours of every model (2021, 2025), from the CSVs or workbooks.
fn build_neighbours(files: &[PathBuf], dir: &Path) -> Result<DataFrame, ReferenceError> {
    let mut sn: Vec<SnRow> = vec![];
    for path in files {
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
    Ok(sn_frame(&sn)?)
}

/// The `sn_groups.csv` table.
fn sn_frame(sn: &[SnRow]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
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
    ])
}

/// Postcode sectors → LA (code, share) and OS grid centroid, from `postcode_sectors.csv`.
fn build_sectors(find: &FindFile, dir: &Path) -> Result<DataFrame, ReferenceError> {
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
    Ok(DataFrame::new_infer_height(vec![
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
    .sort(["sector"], SortMultipleOptions::default())?)
}

/// Real postcodes from `postcodes_sample*.csv` (postcode, utla_code, easting, northing — the
/// shipped sample) or a full ONS Postcode Directory CSV (`ONSPD*.csv`: pcds, oslaua/utla,
/// oseast1m, osnrth1m), with the DfE code of each postcode's upper-tier LA.
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
        let Some(p) = crate::ingest::table::normalise_postcode(cell(cp)) else {
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
