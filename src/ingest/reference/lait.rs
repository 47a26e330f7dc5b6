//! The LAIT data dictionary's children's social care measures, as a committed table
//! (`data/reference/lait_measures.csv`): what the catalogue's coverage is measured against
//! (`cspi indicators coverage`). Built by `cspi reference build` from
//! `lait_data_dictionary.csv`, DfE's description of every LAIT measure.

use std::path::Path;

use polars::prelude::*;

use super::ReferenceError;
use super::source_files::{TextTable, files_under, find_file};

/// The dictionary's topics the catalogue answers for: the four children's social care topics
/// (computed from the returns where they can be) and the two whose figures only DfE's
/// published tables hold (workforce and finance: shown as context, never computed).
pub const TOPICS: [&str; 6] = [
    "Children Looked After",
    "Children in Need",
    "Child Protection",
    "Adoption",
    "Children's Services Workforce",
    "Children's Service Finance",
];

/// The children's social care measures of the dictionary under `dir`, if it is there: code,
/// topic, key (LAIT's short name, what a definition's `benchmark.lait` names), measure and
/// polarity, in the dictionary's order.
pub fn build_lait_measures(dir: &Path) -> Result<Option<DataFrame>, ReferenceError> {
    let files = files_under(dir);
    let Some(path) = find_file(&files, &|n| n == "lait_data_dictionary.csv") else {
        return Ok(None);
    };
    let table = TextTable::read(&path)?;
    let cols = [
        table.col("Measure_code")?,
        table.col("Topic")?,
        table.col("Measure_short")?,
        table.col("Measure")?,
        table.col("Polarity")?,
    ];
    let mut out: [Vec<String>; 5] = Default::default();
    for row in &table.rows {
        let cell = |i: usize| row.get(cols[i]).map_or("", |s| s.trim()).to_string();
        if !TOPICS.contains(&cell(1).as_str()) || cell(2).is_empty() {
            continue;
        }
        for (i, values) in out.iter_mut().enumerate() {
            values.push(cell(i));
        }
    }
    let names = ["measure_code", "topic", "key", "measure", "polarity"];
    let columns = names
        .iter()
        .zip(out)
        .map(|(n, v)| Column::new((*n).into(), v))
        .collect();
    Ok(Some(DataFrame::new_infer_height(columns)?))
}
