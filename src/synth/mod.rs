//! Synthetic returns: complete SSDA903 (CSV or XML) and CIN census XML files for any LAs and
//! years, deterministic from a seed, calibrated to each LA's real population and published
//! figures, written as `<out>/<la_code>/<year>/ssda903/*.csv` (or `ssda903.xml`) and
//! `<out>/<la_code>/<year>/cin_census.xml`, with `<out>/calibration.csv` listing the targets.
//!
//! Each LA is simulated independently from a seed derived from the run's seed and the LA code,
//! so an LA's files are the same whichever other LAs are generated with it, and LAs are
//! generated in parallel.

pub mod calibrate;
pub mod model;
pub mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;
use serde::Deserialize;
use thiserror::Error;

use crate::domain::dates::to_epoch_days;
use crate::domain::io::write_csv;
use crate::ingest::reference::{ReferenceIndex, ReferenceTables};
use calibrate::Targets;
use model::{Geography, Sector, Simulation, year_end_day};
pub use write::Ssda903Format;

/// Problems generating data.
#[derive(Debug, Error)]
pub enum SynthError {
    #[error("unknown LA code {0}: use a 3-digit DfE code from data/reference/las.csv")]
    UnknownLa(String),
    #[error("years must run forwards and lie in 2012–2030, got {0}–{1}")]
    Years(i32, i32),
    #[error("writing {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("recipe {0}: {1}")]
    Recipe(PathBuf, String),
    #[error(transparent)]
    Polars(#[from] PolarsError),
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub seed: u64,
    pub las: Vec<String>,
    pub first_year: i32,
    pub last_year: i32,
    pub format: Ssda903Format,
    /// Write the last year as an in-year extract up to this date (monthly dashboards).
    pub as_at: Option<NaiveDate>,
}

#[derive(Debug, Deserialize)]
struct RecipeFile {
    seed: u64,
    la: Option<String>,
    #[serde(default)]
    las: Vec<String>,
    neighbour_model: Option<i32>,
    years: [i32; 2],
    #[serde(default)]
    ssda903_format: Option<String>,
}

impl Recipe {
    /// The embedded default recipe (`data/default.yaml`).
    pub fn embedded_default() -> Recipe {
        Recipe::from_yaml(include_str!("../../data/default.yaml"))
            .expect("data/default.yaml is a valid recipe")
    }

    /// Parses a recipe: `la` (plus its neighbours in `neighbour_model`) and/or `las`, `years`,
    /// `seed`, `ssda903_format`.
    pub fn from_yaml(text: &str) -> Result<Recipe, String> {
        let raw: RecipeFile = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        let index = ReferenceIndex::embedded();
        let mut las = raw.las.clone();
        if let Some(la) = &raw.la {
            las.insert(0, la.clone());
            if let Some(model) = raw.neighbour_model {
                las.extend(index.neighbours(model, la).iter().cloned());
            }
        }
        las.dedup();
        Ok(Recipe {
            seed: raw.seed,
            las,
            first_year: raw.years[0],
            last_year: raw.years[1],
            format: match raw.ssda903_format.as_deref() {
                Some("xml") => Ssda903Format::Xml,
                _ => Ssda903Format::Csv,
            },
            as_at: None,
        })
    }

    /// The collection years written.
    pub fn years(&self) -> std::ops::RangeInclusive<i32> {
        self.first_year..=self.last_year
    }
}

/// What a generation run produced.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub las: usize,
    pub files: u64,
    pub bytes: u64,
    pub children: u64,
    pub cin_episodes: u64,
    pub care_periods: u64,
}

/// The LA's postcode sectors, and other LAs' sectors within and beyond 20 miles of its centre.
fn geography(tables: &ReferenceTables, la: &str) -> PolarsResult<Geography> {
    let s = &tables.sectors;
    let sector = s.column("sector")?.str()?;
    let code = s.column("la_code")?.str()?;
    let share = s.column("share")?.f64()?;
    let east = s.column("easting")?.f64()?;
    let north = s.column("northing")?.f64()?;
    let mut g = Geography::default();
    let mut all = vec![];
    for i in 0..s.height() {
        let (Some(sec), Some(e), Some(n)) = (sector.get(i), east.get(i), north.get(i)) else {
            continue;
        };
        let Some(c) = code.get(i) else { continue };
        let item = Sector {
            sector: sec.to_string(),
            easting: e,
            northing: n,
        };
        if c == la && share.get(i).unwrap_or(0.0) >= 0.9 {
            g.own.push(item);
        } else if c != la {
            all.push(item);
        }
    }
    if g.own.is_empty() {
        return Ok(g);
    }
    let (ce, cn) = (
        g.own.iter().map(|s| s.easting).sum::<f64>() / g.own.len() as f64,
        g.own.iter().map(|s| s.northing).sum::<f64>() / g.own.len() as f64,
    );
    // Distances are measured from home postcodes across the LA, so "near" is near the centre
    // and "far" safely beyond 20 miles (32.2 km) from anywhere in it.
    let radius = g
        .own
        .iter()
        .map(|s| ((s.easting - ce).powi(2) + (s.northing - cn).powi(2)).sqrt())
        .fold(0.0, f64::max);
    for item in all {
        let d = ((item.easting - ce).powi(2) + (item.northing - cn).powi(2)).sqrt();
        if d < 15_000.0 + radius * 0.3 {
            g.near.push(item);
        } else if d > radius + 40_000.0 && d < 250_000.0 {
            g.far.push(item);
        }
    }
    Ok(g)
}

fn la_seed(seed: u64, la: &str) -> u64 {
    la.bytes().fold(seed ^ 0xcb_f2_9c_e4_84_22_23_25, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The targets an LA's data is calibrated to, per collection year.
pub fn la_targets(la: &str, recipe: &Recipe) -> BTreeMap<i32, Targets> {
    let index = ReferenceIndex::embedded();
    recipe
        .years()
        .map(|y| (y, calibrate::targets(index, la, y)))
        .collect()
}

/// Generates the recipe's returns under `out`. `progress` is called after each LA.
pub fn generate(
    recipe: &Recipe,
    out: &Path,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Summary, SynthError> {
    if recipe.first_year > recipe.last_year || recipe.first_year < 2012 || recipe.last_year > 2030 {
        return Err(SynthError::Years(recipe.first_year, recipe.last_year));
    }
    let index = ReferenceIndex::embedded();
    for la in &recipe.las {
        if index.la(la).is_none() {
            return Err(SynthError::UnknownLa(la.clone()));
        }
    }
    let tables = ReferenceTables::embedded();
    let summary = Mutex::new(Summary::default());
    let calibration = Mutex::new(Vec::<Targets>::new());
    recipe
        .las
        .par_iter()
        .try_for_each(|la| -> Result<(), SynthError> {
            let targets = la_targets(la, recipe);
            let geography = geography(tables, la)?;
            let until = recipe
                .as_at
                .map(to_epoch_days)
                .unwrap_or_else(|| year_end_day(recipe.last_year));
            let seed = la_seed(recipe.seed, la);
            let history = Simulation::new(la, seed, &targets, &geography).run(until);
            let mut files = 0;
            let mut bytes = 0;
            for year in recipe.years() {
                let dir = out.join(la).join(year.to_string());
                let as_at = (year == recipe.last_year)
                    .then_some(recipe.as_at.map(to_epoch_days))
                    .flatten();
                bytes += write::write_cin(&dir.join("cin_census.xml"), &history, year, as_at)
                    .map_err(|e| SynthError::Io(dir.clone(), e))?;
                let rows = write::ssda903_rows(&history, seed, year, as_at, &targets[&year]);
                bytes += write::write_ssda903(&dir, &rows, recipe.format)
                    .map_err(|e| SynthError::Io(dir.clone(), e))?;
                files += 1 + if recipe.format == Ssda903Format::Csv {
                    11
                } else {
                    1
                };
            }
            {
                let mut s = summary.lock().expect("summary lock");
                s.las += 1;
                s.files += files;
                s.bytes += bytes;
                s.children += history.children.len() as u64;
                s.cin_episodes += history.cin.len() as u64;
                s.care_periods += history.care.len() as u64;
            }
            calibration
                .lock()
                .expect("calibration lock")
                .extend(targets.into_values());
            progress(la);
            Ok(())
        })?;
    let mut rows = calibration.into_inner().expect("calibration lock");
    rows.sort_by(|a, b| (&a.la_code, a.year).cmp(&(&b.la_code, b.year)));
    let mut df = calibration_frame(&rows)?;
    write_csv(&mut df, &out.join("calibration.csv"))
        .map_err(|e| SynthError::Io(out.join("calibration.csv"), e))?;
    Ok(summary.into_inner().expect("summary lock"))
}

fn calibration_frame(rows: &[Targets]) -> PolarsResult<DataFrame> {
    let mut columns = vec![
        Column::new(
            "la_code".into(),
            rows.iter().map(|t| t.la_code.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "year".into(),
            rows.iter().map(|t| t.year).collect::<Vec<_>>(),
        ),
    ];
    if let Some(first) = rows.first() {
        for (k, (name, _)) in first.row().iter().enumerate() {
            columns.push(Column::new(
                (*name).into(),
                rows.iter().map(|t| t.row()[k].1).collect::<Vec<f64>>(),
            ));
        }
    }
    DataFrame::new_infer_height(columns)
}
