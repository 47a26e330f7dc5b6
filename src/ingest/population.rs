//! The population behind every rate per 10,000, as the user's choice.
//!
//! ONS revised its 2012–2020 mid-year estimates after the 2021 census, and the shipped table
//! (DfE's 2012–2024 series) holds the revised figures. Reports and LA papers written before the
//! revision used the unrevised ones (Lincolnshire's 2014 inspection report: 43.4 per 10,000 for
//! 606 children needs about 139,630 children; the revised estimate gives 43.1). A user who must
//! reproduce such a figure, or who has a local estimate, gives the population per LA and year in
//! a CSV file; every rate then names the estimate it used (`population_estimate`).

use std::path::Path;

use polars::prelude::*;

use super::reference::{ReferenceError, ReferenceTables};
use crate::domain::la::LaCode;

/// The label of the shipped population series.
pub const SHIPPED_ESTIMATE: &str =
    "ONS mid-year estimates (2012-2020 as revised after the 2021 census)";

/// Adds the `estimate` column (the shipped series' label) to a population table without one.
pub fn with_estimate_column(population: DataFrame) -> PolarsResult<DataFrame> {
    if population.column("estimate").is_ok() {
        return Ok(population);
    }
    population
        .lazy()
        .with_column(lit(SHIPPED_ESTIMATE).alias("estimate"))
        .collect()
}

/// Reads a user's population file: a CSV with `la_code` (3-digit DfE code), either
/// `collection_year` (the year ending 31 March whose rates it serves: 2014 for 31 March 2014)
/// or `mid_year` (the ONS mid-year: 2013 for 2013/14), `population_0_17`, and optionally
/// `estimate` (the label rates will carry; default: "local population (<file name>)").
///
/// A user's setting is all or nothing: any unreadable row is an error naming the file, the row
/// and the field, and nothing is used.
pub fn read(path: &Path) -> Result<DataFrame, ReferenceError> {
    let bytes = std::fs::read(path).map_err(|e| ReferenceError::Io(path.into(), e))?;
    parse(path, &bytes)
}

/// [`read`] over a file's bytes (`path` names it in errors and gives the default label).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<DataFrame, ReferenceError> {
    let bad = |row: usize, field: &str, message: String| ReferenceError::Format {
        file: path.into(),
        message: format!("row {row}, {field}: {message}"),
    };
    let (text, _) = super::text::decode(bytes);
    let mut records = super::csv_lines::records(&text).filter(|r| !r.is_blank());
    let header: Vec<String> = records
        .next()
        .map(|r| {
            r.fields
                .iter()
                .map(|f| f.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let find = |name: &str| header.iter().position(|h| h == name);
    let missing = |name: &str| ReferenceError::Format {
        file: path.into(),
        message: format!(
            "has no column '{name}' (expected la_code, collection_year or mid_year, population_0_17, and optionally estimate)"
        ),
    };
    let la_col = find("la_code").ok_or_else(|| missing("la_code"))?;
    let value_col = find("population_0_17").ok_or_else(|| missing("population_0_17"))?;
    let (year_col, offset) = match (find("collection_year"), find("mid_year")) {
        (Some(c), None) => (c, 1),
        (None, Some(c)) => (c, 0),
        (Some(_), Some(_)) => {
            return Err(ReferenceError::Format {
                file: path.into(),
                message: "has both collection_year and mid_year: give one".into(),
            });
        }
        (None, None) => return Err(missing("collection_year")),
    };
    let estimate_col = find("estimate");
    let default_label = format!(
        "local population ({})",
        path.file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default()
    );
    let (mut codes, mut years, mut values, mut labels) = (vec![], vec![], vec![], vec![]);
    let mut seen = std::collections::BTreeSet::new();
    for (i, record) in records.enumerate() {
        let row = i + 2;
        let cell = |c: usize| record.fields.get(c).map(|s| s.trim()).unwrap_or("");
        let la = LaCode::parse(cell(la_col)).map_err(|e| bad(row, "la_code", e.to_string()))?;
        let year: i32 = cell(year_col)
            .parse()
            .ok()
            .filter(|y| (1990..=2100).contains(y))
            .ok_or_else(|| {
                bad(
                    row,
                    &header[year_col],
                    format!("'{}' is not a year", cell(year_col)),
                )
            })?;
        let value: f64 = cell(value_col)
            .replace(',', "")
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v > 0.0)
            .ok_or_else(|| {
                bad(
                    row,
                    "population_0_17",
                    format!("'{}' is not a positive number", cell(value_col)),
                )
            })?;
        // The shipped table is keyed by ONS mid-year.
        let mid_year = year - offset;
        if !seen.insert((la.to_string(), mid_year)) {
            return Err(bad(
                row,
                &header[year_col],
                format!("{la} {year} is given twice"),
            ));
        }
        let label = estimate_col
            .map(cell)
            .filter(|s| !s.is_empty())
            .map_or_else(|| default_label.clone(), str::to_string);
        codes.push(la.to_string());
        years.push(mid_year);
        values.push(value);
        labels.push(label);
    }
    Ok(DataFrame::new_infer_height(vec![
        Column::new("code".into(), codes),
        Column::new("year".into(), years),
        Column::new("population_0_17".into(), values),
        Column::new("estimate".into(), labels),
    ])?)
}

impl ReferenceTables {
    /// These tables with the user's population (see [`read`]) in place of the shipped one for
    /// the LAs and years it gives; every other LA and year keeps the shipped series.
    pub fn with_population(&self, path: &Path) -> Result<ReferenceTables, ReferenceError> {
        let user = read(path)?;
        let shipped = with_estimate_column(self.population.clone())?;
        let names = shipped
            .clone()
            .lazy()
            .select([col("code"), col("name"), col("level")])
            .unique_stable(Some(cols(["code"])), UniqueKeepStrategy::First);
        let user = user
            .lazy()
            .left_join(names, col("code"), col("code"))
            .with_column(col("level").fill_null(lit("la")))
            .select(
                shipped
                    .get_column_names()
                    .into_iter()
                    .map(|c| col(c.clone()))
                    .collect::<Vec<_>>(),
            );
        let merged = concat([shipped.lazy(), user], UnionArgs::default())?
            .unique_stable(
                Some(cols(["level", "code", "year"])),
                UniqueKeepStrategy::Last,
            )
            .sort(["level", "code", "year"], SortMultipleOptions::default())
            .collect()?;
        Ok(ReferenceTables {
            population: merged,
            ..self.clone()
        })
    }
}
