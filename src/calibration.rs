//! How close the synthetic returns come to the real authorities: for every catalogue indicator
//! with a published DfE measure, the figure cspi computes from the generated returns against the
//! figure DfE published for the same LA and year.
//!
//! The generator is calibrated to published figures (see [`crate::synth`]), but what it is held
//! to is what the *engine* computes from its files: a change to the generator, to a definition
//! or to a code list moves these figures, and this table is where the next person sees what
//! moved. Like `cspi run` and `cspi validate` this module only wires layers together (synth →
//! ingest → indicators → compare); it sits above them.

use std::path::Path;

use polars::prelude::*;
use thiserror::Error;

use crate::compare::Benchmarks;
use crate::derive::Facts;
use crate::domain::dates::{collection_year_end, to_epoch_days};
use crate::domain::schema::VALUES;
use crate::indicators::catalogue::{Catalogue, CatalogueError};
use crate::indicators::evaluate::{EvalError, Options, evaluate};
use crate::indicators::period::{Period, PeriodType};
use crate::ingest::reference::{ReferenceIndex, ReferenceTables};
use crate::ingest::returns::Hints;
use crate::ingest::store::Store;
use crate::ingest::{self, IngestError};
use crate::synth::{self, Recipe, SynthError};

#[derive(Debug, Error)]
pub enum CalibrationError {
    #[error("a scratch folder for the generated returns: {0}")]
    Scratch(std::io::Error),
    #[error("{0}")]
    Synth(#[from] SynthError),
    #[error("{0}")]
    Ingest(#[from] IngestError),
    #[error("{0}")]
    Catalogue(#[from] CatalogueError),
    #[error("{0}")]
    Evaluate(#[from] EvalError),
    #[error("{0}")]
    Data(#[from] PolarsError),
    #[error("writing {0}: {1}")]
    Io(String, std::io::Error),
}

/// One indicator's generated figures against the published ones, over the recipe's LA-years.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub indicator: String,
    pub title: String,
    /// The published measure compared with (`lait:LACDistance`, `ees_cla_starts`).
    pub measure: String,
    /// LA-years with both a generated and a published (non-zero) figure (each seed's counted).
    pub la_years: usize,
    /// Medians over those LA-years.
    pub generated: Option<f64>,
    pub published: Option<f64>,
    /// The median over LA-years of (generated − published) ÷ published: the measure of
    /// bias, robust to the odd LA-year where sampling puts a small figure far off.
    pub bias: Option<f64>,
    /// Σ generated ÷ Σ published − 1 over the same LA-years: the bias of the mean. Where an
    /// LA-year's figure rests on a few children its values are a few discrete steps (one plan
    /// more or less moves it by a third), and the median jumps between steps; the ratio of
    /// sums does not, so it is the steadier reading for those indicators.
    pub mean_bias: Option<f64>,
}

/// Generates `recipe`'s returns in a scratch folder, reads them as `cspi run` would and holds
/// every benchmarked indicator's yearly figures against DfE's published ones.
///
/// With `seeds` > 1 the recipe is generated that many times (seeds `recipe.seed`,
/// `recipe.seed + 1`, …) and the LA-years of every run are pooled. Why: an indicator counting
/// a handful of children per LA-year (plans open two years: 3–9) has a median bias that moves
/// by ±15 points from one seed to the next, so one run cannot tell a biased generator from an
/// unlucky draw; pooling k runs narrows that by about √k.
pub fn report(recipe: &Recipe, seeds: u32) -> Result<Vec<Line>, CalibrationError> {
    let scratch = tempfile::Builder::new()
        .prefix("cspi-calibration-")
        .tempdir()
        .map_err(CalibrationError::Scratch)?;
    let tables = ReferenceTables::embedded();
    let catalogue = Catalogue::embedded()?;
    let periods: Vec<Period> = recipe.years().map(Period::year).collect();
    let mut pooled: Option<DataFrame> = None;
    for k in 0..seeds.max(1) {
        let run = Recipe {
            seed: recipe.seed.wrapping_add(u64::from(k)),
            ..recipe.clone()
        };
        let dir = scratch.path().join(format!("seed-{k}"));
        let data = dir.join("returns");
        synth::generate(&run, &data, &|_| {})?;
        let store = Store::new(dir.join("store"));
        ingest::ingest(std::slice::from_ref(&data), &store, &Hints::default())?;
        let facts = Facts::new(&store, tables);
        let values = evaluate(&catalogue, &facts, &periods, &Options::default())?.values;
        pooled = Some(match pooled {
            None => values,
            Some(mut all) => {
                all.vstack_mut_owned(values)?;
                all
            }
        });
    }
    let values = pooled.unwrap_or_default();
    let published = Benchmarks::published(&catalogue, tables, ReferenceIndex::embedded())?;
    lines(&catalogue, &values, &published)
}

/// The calibration table from computed yearly values and the published benchmarks.
pub fn lines(
    catalogue: &Catalogue,
    values: &DataFrame,
    published: &Benchmarks,
) -> Result<Vec<Line>, CalibrationError> {
    VALUES.check(values)?;
    let yearly = values
        .clone()
        .lazy()
        .filter(
            col("breakdown")
                .is_null()
                .and(col("period_type").eq(lit(PeriodType::Year.name()))),
        )
        .select([
            col("indicator_id"),
            col("la_code"),
            col("period_end").dt().year().alias("end_year"),
            col("value"),
        ])
        .collect()?;
    let id = VALUES.text(&yearly, "indicator_id")?;
    let la = VALUES.text(&yearly, "la_code")?;
    let end_year = yearly.column("end_year")?.i32()?;
    let value = VALUES.number(&yearly, "value")?;
    let mut out = vec![];
    for def in &catalogue.definitions {
        if def.benchmark.lait.is_none() && def.benchmark.ees.is_none() {
            continue;
        }
        let mut generated = vec![];
        let mut pubs = vec![];
        let mut biases = vec![];
        let mut measure = String::new();
        for i in 0..yearly.height() {
            if id.get(i) != Some(def.id.as_str()) {
                continue;
            }
            let (Some(la), Some(year), Some(g)) = (la.get(i), end_year.get(i), value.get(i)) else {
                continue;
            };
            let Some(period) = published.period_for(
                &def.id,
                PeriodType::Year,
                to_epoch_days(collection_year_end(year)),
            ) else {
                continue;
            };
            // Only the same DfE year: `period_for` falls back to the latest year published
            // before, which is right for an in-year dashboard but not for calibration.
            if period.key != Benchmarks::year_key(year) {
                continue;
            }
            let Some(b) = published.get(&def.id, &period, la) else {
                continue;
            };
            let Some(p) = b.value.filter(|p| *p != 0.0) else {
                continue;
            };
            measure.clone_from(&b.measure);
            generated.push(g);
            pubs.push(p);
            biases.push((g - p) / p);
        }
        out.push(Line {
            indicator: def.id.clone(),
            title: def.title.clone(),
            measure,
            la_years: biases.len(),
            generated: median(&mut generated),
            published: median(&mut pubs),
            bias: median(&mut biases),
            mean_bias: ratio_of_sums(&generated, &pubs),
        });
    }
    Ok(out)
}

fn ratio_of_sums(generated: &[f64], published: &[f64]) -> Option<f64> {
    let p: f64 = published.iter().sum();
    (!published.is_empty() && p != 0.0).then(|| generated.iter().sum::<f64>() / p - 1.0)
}

fn median(xs: &mut [f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    })
}

/// The table as CSV (indicator, measure, LA-years, medians, bias), for the README and for
/// comparing two versions of the generator.
pub fn write_csv(lines: &[Line], path: &Path) -> Result<(), CalibrationError> {
    let mut df = DataFrame::new_infer_height(vec![
        Column::new(
            "indicator_id".into(),
            lines
                .iter()
                .map(|l| l.indicator.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "measure".into(),
            lines.iter().map(|l| l.measure.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "la_years".into(),
            lines.iter().map(|l| l.la_years as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "generated_median".into(),
            lines.iter().map(|l| l.generated).collect::<Vec<_>>(),
        ),
        Column::new(
            "published_median".into(),
            lines.iter().map(|l| l.published).collect::<Vec<_>>(),
        ),
        Column::new(
            "bias".into(),
            lines.iter().map(|l| l.bias).collect::<Vec<_>>(),
        ),
        Column::new(
            "mean_bias".into(),
            lines.iter().map(|l| l.mean_bias).collect::<Vec<_>>(),
        ),
    ])?;
    crate::domain::io::write_csv(&mut df, path)
        .map_err(|e| CalibrationError::Io(path.display().to_string(), e))
}

#[cfg(test)]
mod tests {
    use super::{median, ratio_of_sums};

    #[test]
    fn ratio_of_sums_is_the_bias_of_the_mean() {
        // Three LA-years of 2, 3 and 4 children against 3, 3 and 3: the mean is right although
        // two of the three LA-years are a third off.
        assert_eq!(ratio_of_sums(&[2.0, 3.0, 4.0], &[3.0, 3.0, 3.0]), Some(0.0));
        assert_eq!(ratio_of_sums(&[6.0], &[4.0]), Some(0.5));
        assert_eq!(ratio_of_sums(&[], &[]), None);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
