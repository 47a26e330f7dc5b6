//! The runtime index every run reads: the reference tables as maps, for lookups by LA, area
//! and year.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use polars::prelude::*;

use super::ReferenceTables;
use crate::domain::schema::PUBLISHED;
use crate::ingest::population::SHIPPED_ESTIMATE;

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

    /// Indexes the tables (an error if one lacks a column the index reads).
    pub fn new(t: &ReferenceTables) -> PolarsResult<ReferenceIndex> {
        Ok(ReferenceIndex {
            las: index_las(&t.las)?,
            population: index_population(&t.population)?,
            published: index_published(&t.published)?,
            neighbours: index_neighbours(&t.sn_groups)?,
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

/// A column as text, nulls as "".
fn strings(df: &DataFrame, c: &str) -> PolarsResult<Vec<String>> {
    Ok(df
        .column(c)?
        .cast(&DataType::String)?
        .str()?
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect())
}

/// The LAs by code.
fn index_las(las: &DataFrame) -> PolarsResult<BTreeMap<String, La>> {
    let mut index = BTreeMap::new();
    let (codes, ons, names, rc, rn) = (
        strings(las, "la_code")?,
        strings(las, "ons_code")?,
        strings(las, "la_name")?,
        strings(las, "region_code")?,
        strings(las, "region_name")?,
    );
    let current: Vec<bool> = las
        .column("current")?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    for (i, code) in codes.into_iter().enumerate() {
        index.insert(
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
    Ok(index)
}

/// Children aged 0–17 by (area, mid-year), with the estimate's label (the shipped series'
/// when the table has no `estimate` column).
fn index_population(population: &DataFrame) -> PolarsResult<HashMap<(String, i32), (f64, String)>> {
    let mut index = HashMap::new();
    let (pc, py) = (
        strings(population, "code")?,
        population.column("year")?.i32()?.clone(),
    );
    let pv = population.column("population_0_17")?.f64()?.clone();
    let estimate = match population.column("estimate") {
        Ok(c) => c.str()?.clone(),
        Err(_) => StringChunked::full("estimate".into(), SHIPPED_ESTIMATE, population.height()),
    };
    for (((code, y), v), e) in pc
        .into_iter()
        .zip(py.iter())
        .zip(pv.iter())
        .zip(estimate.iter())
    {
        if let (Some(y), Some(v)) = (y, v) {
            let label = e.unwrap_or(SHIPPED_ESTIMATE);
            index.insert((code, y), (v, label.to_string()));
        }
    }
    Ok(index)
}

/// The published figures by (measure, area, year).
fn index_published(
    published: &DataFrame,
) -> PolarsResult<HashMap<(String, String, i32), PublishedValue>> {
    PUBLISHED.check(published)?;
    let mut index = HashMap::new();
    let (m, c) = (strings(published, "measure")?, strings(published, "code")?);
    let y = PUBLISHED.whole(published, "year")?;
    let v = PUBLISHED.number(published, "value")?;
    let st = PUBLISHED.text(published, "status")?;
    let nu = PUBLISHED.number(published, "numerator")?;
    let de = PUBLISHED.number(published, "denominator")?;
    for (i, (measure, code)) in m.into_iter().zip(c).enumerate() {
        index.insert(
            (measure, code, y.get(i).unwrap_or(0)),
            PublishedValue {
                value: v.get(i),
                status: st.get(i).map(str::to_string),
                numerator: nu.get(i),
                denominator: de.get(i),
            },
        );
    }
    Ok(index)
}

/// Each LA's statistical neighbours by (model, LA), closest first.
fn index_neighbours(sn_groups: &DataFrame) -> PolarsResult<HashMap<(i32, String), Vec<String>>> {
    let mut neighbours: HashMap<(i32, String), Vec<String>> = HashMap::new();
    let sn = sn_groups.sort(["model", "la_code", "rank"], SortMultipleOptions::default())?;
    let (model, la, nb) = (
        sn.column("model")?.i32()?.clone(),
        strings(&sn, "la_code")?,
        strings(&sn, "neighbour_code")?,
    );
    for ((m, la), nb) in model.iter().zip(la).zip(nb) {
        neighbours.entry((m.unwrap_or(0), la)).or_default().push(nb);
    }
    Ok(neighbours)
}
