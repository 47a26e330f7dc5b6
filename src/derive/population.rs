//! ONS children aged 0–17 for each LA in the history, by collection year: the denominator of
//! every rate per 10,000.

use polars::prelude::*;

use super::Facts;
use crate::domain::dates::{collection_year_end, to_epoch_days};
use crate::ingest::canonical::CanonicalTable;
use crate::ingest::reference::ReferenceIndex;

/// Collection years the population table covers (years past the latest ONS estimate use the
/// latest, as [`ReferenceIndex::population`] documents).
const YEARS: std::ops::RangeInclusive<i32> = 2012..=2030;

/// One row per LA in the history and collection year: `population_0_17` is the estimate for the
/// mid-year before the year's 31 March (`as_at`): the shipped ONS series unless the user gave
/// their own (`population_estimate` says which).
pub fn population(facts: &Facts) -> PolarsResult<DataFrame> {
    let index = ReferenceIndex::new(facts.reference)?;
    let las = concat(
        [
            facts
                .canonical(CanonicalTable::Episodes)?
                .select([col("la_code")]),
            facts
                .canonical(CanonicalTable::CinEpisode)?
                .select([col("la_code")]),
        ],
        UnionArgs::default(),
    )?
    .unique_stable_generic(None, UniqueKeepStrategy::First)
    .sort(["la_code"], SortMultipleOptions::default())
    .collect()?;
    let (mut code, mut year, mut as_at, mut pop, mut estimate) =
        (vec![], vec![], vec![], vec![], vec![]);
    for la in las.column("la_code")?.str()?.iter().flatten() {
        for y in YEARS {
            code.push(la.to_string());
            year.push(y);
            as_at.push(to_epoch_days(collection_year_end(y)));
            pop.push(index.population(la, y));
            estimate.push(index.population_estimate(la, y));
        }
    }
    DataFrame::new_infer_height(vec![
        Column::new("la_code".into(), code),
        Column::new("year".into(), year),
        Int32Chunked::from_vec("as_at".into(), as_at)
            .into_date()
            .into_column(),
        Column::new("population_0_17".into(), pop),
        Column::new("population_estimate".into(), estimate),
    ])
}
