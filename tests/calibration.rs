//! The synthetic generator and the indicator engine agree: figures computed from generated
//! returns are what the generator was calibrated to (its `calibration.csv`, the LA's published
//! figures), within sampling error for flows and shares and within 15% for stocks (the
//! simulation reaches stocks through flows and durations, so they drift more).

mod common;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cspi::derive::Facts;
use cspi::indicators::catalogue::Catalogue;
use cspi::indicators::evaluate::{Options, evaluate};
use cspi::indicators::period::Period;
use cspi::ingest::reference::ReferenceTables;
use cspi::ingest::returns::Hints;
use cspi::ingest::store::Store;
use cspi::synth::{self, Recipe, Ssda903Format};
use polars::prelude::*;

/// (numerator, denominator, value) of a computed figure.
type Figure = (f64, Option<f64>, Option<f64>);

/// How a figure is compared with its target.
enum Check {
    /// A yearly count (numerator of a rate): Poisson sampling error plus `bias` relative.
    Flow(&'static str, &'static str, f64),
    /// A count at 31 March, within `tol` relative.
    Stock(&'static str, &'static str, f64),
    /// A percentage against a share: binomial sampling error on the figure's denominator plus
    /// `bias` percentage points.
    Share(&'static str, &'static str, f64),
}

#[test]
fn figures_from_synthetic_returns_match_the_calibration_targets() {
    let out = tempfile::tempdir().unwrap();
    // Cambridgeshire: a mid-sized county, 2021–2025 so that 2024 and 2025 have a full
    // history behind them (re-referrals, second plans, care leavers).
    let recipe = Recipe {
        seed: 11,
        las: vec![std::env::var("CSPI_CAL_LA").unwrap_or_else(|_| "873".into())],
        first_year: 2021,
        last_year: 2025,
        format: Ssda903Format::Csv,
        as_at: None,
    };
    synth::generate(&recipe, out.path(), &|_| {}).unwrap();
    let targets = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(out.path().join("calibration.csv")))
        .unwrap()
        .finish()
        .unwrap();
    let store = Store::new(out.path().join("store"));
    cspi::ingest::ingest(&[out.path().to_path_buf()], &store, &Hints::default()).unwrap();
    let facts = Facts::new(&store, ReferenceTables::embedded());
    let years = [2024, 2025];
    let mut periods = vec![];
    for y in years {
        periods.push(Period::year(y));
        periods.push(Period::snapshot(NaiveDate::from_ymd_opt(y, 3, 31).unwrap()));
    }
    let values = evaluate(
        &Catalogue::embedded().unwrap(),
        &facts,
        &periods,
        &Options::default(),
    )
    .unwrap()
    .values
    .lazy()
    .filter(col("breakdown").is_null())
    .collect()
    .unwrap();
    let mut figures: BTreeMap<(String, String, i32), Figure> = BTreeMap::new();
    for i in 0..values.height() {
        let s = |c: &str| common::cell(values.column(c).unwrap().get(i).unwrap());
        let f = |c: &str| values.column(c).unwrap().f64().unwrap().get(i);
        let end = s("period_end");
        figures.insert(
            (
                s("indicator_id"),
                s("period_type"),
                end[..4].parse().unwrap(),
            ),
            (f("numerator").unwrap_or(0.0), f("denominator"), f("value")),
        );
    }
    let target = |name: &str, year: i32| -> f64 {
        let row = targets
            .clone()
            .lazy()
            .filter(col("year").eq(lit(year)))
            .collect()
            .unwrap();
        row.column(name).unwrap().f64().unwrap().get(0).unwrap()
    };
    let checks = [
        Check::Flow("referrals_rate", "referrals", 0.05),
        Check::Flow("cpp_starts_rate", "cpp_starts", 0.10),
        Check::Flow("cla_starts_rate", "cla_starts", 0.10),
        Check::Flow("s47_rate", "s47", 0.10),
        Check::Stock("cin_count", "cin_at31", 0.15),
        Check::Stock("cpp_count", "cpp_at31", 0.15),
        Check::Stock("cla_count", "cla_at31", 0.15),
        Check::Share("rereferrals_12m", "rereferral_share", 3.0),
        Check::Share("referrals_nfa", "nfa_share", 3.0),
        Check::Share("assessments_45wd", "assessments_45wd_share", 3.0),
        Check::Share("icpc_15wd", "icpc_15wd_share", 3.0),
        Check::Share("cpp_second_subsequent", "cpp_subsequent_share", 3.0),
        Check::Share("cla_3plus_placements", "cla_3plus_share", 3.0),
        Check::Share("care_leavers_eet_19_21", "eet_19_21_share", 5.0),
        Check::Share("care_leavers_suitable_19_21", "suitable_19_21_share", 5.0),
    ];
    let mut failures = vec![];
    for year in years {
        for check in &checks {
            let (id, name, kind) = match check {
                Check::Flow(id, n, _) | Check::Share(id, n, _) => (*id, *n, "year"),
                Check::Stock(id, n, _) => (*id, *n, "snapshot"),
            };
            let want = target(name, year);
            let Some(&(num, den, value)) = figures.get(&(id.to_string(), kind.to_string(), year))
            else {
                failures.push(format!("{id} {year}: no figure"));
                continue;
            };
            let (got, allowed) = match check {
                Check::Flow(_, _, bias) => (num, 4.0 * want.sqrt() + bias * want),
                Check::Stock(_, _, tol) => (num, tol * want),
                Check::Share(_, _, bias) => {
                    let n = den.unwrap_or(0.0).max(1.0);
                    let p = want;
                    (
                        value.unwrap_or(f64::NAN) / 100.0,
                        4.0 * (p * (1.0 - p) / n).sqrt() + bias / 100.0,
                    )
                }
            };
            if (got - want).abs() > allowed || got.is_nan() {
                failures.push(format!(
                    "{id} {year}: computed {got:.3}, target {want:.3}, allowed ±{allowed:.3}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Indicators whose generated figure is still more than 10% from DfE's (issue 12's residue).
/// Every other benchmarked indicator must be within 10%; the list only shrinks.
/// `cla_uasc` joined it when its LAIT count became its benchmark (issue 16): the generator makes
/// about 5% of children starting care unaccompanied asylum seekers, and Lincolnshire's
/// neighbours published more; raising the share moves the placement and age mixes calibrated
/// against it, so it waits for a recalibration of the starts model.
///
/// The rest joined it when issue 16 gave them DfE's published figures as benchmarks: the
/// generator was calibrated to the figures of the first catalogue and does not yet model what
/// these measure — how long episodes of need last and when they end (the CIN duration bands),
/// the working days from strategy discussion to conference (the ICPC bands), referral sources
/// and assessments that find no need, the placement mix beyond foster and residential care
/// (placed with parents, other placements, supported accommodation), the unaccompanied share
/// of starts, consent to adoption, child arrangements orders, returns home outside the care
/// plan, convictions, long-term carers, staying put and care-leaver NEET. The three special
/// guardianship splits are published for too few of the 11 LAs (most are suppressed) to
/// calibrate. Each is computed by DfE's method from the returns: only the synthetic default
/// data are off.
///
/// `cla_social_workers_3plus` joined it with its LAIT benchmark too: the generator changes a
/// child's social worker every 9–18 months (1.7% with three or more workers in a year against
/// DfE's 23%). Changing them every 100–400 days, on a stream of their own, calibrated it, but
/// moved every other draw, and the new draws made a young person whose care after 14 ended
/// more than a year before: DfE's rules 1001/1002, which see two returns only, then reject the
/// OC3 record (or, when it is left out, the next year's). The fix ties a care leaver's OC3
/// records to the first one the rules can see; until then the generator keeps its old pace.
const NOT_YET_CALIBRATED: &[&str] = &[
    "cla_social_workers_3plus",
    "cla_uasc",
    "cla_uasc_pct",
    "cla_starts_uasc_pct",
    "cin_ceased_under_3m",
    "cin_ceased_3_6m",
    "cin_ceased_6_12m",
    "cin_ceased_1_2y",
    "cin_ceased_2y_plus",
    "cin_duration_under_3m",
    "cin_duration_3_6m",
    "cin_duration_6_12m",
    "cin_duration_2y_plus",
    "cpp_reviewed_in_time_count",
    "icpc_0_10wd",
    "icpc_11_15wd",
    "icpc_16_20wd",
    "icpc_21wd_plus",
    "referrals_assessed_not_in_need",
    "referrals_source_health",
    "referrals_source_school",
    "cla_ceased_cao_pct",
    "cla_convictions",
    "cla_in_foster_care",
    "cla_in_independent_living",
    "cla_in_other_placements",
    "cla_in_other_residential",
    "cla_long_term_stability_count",
    "cla_placed_with_parents",
    "cla_returned_home_not_care_plan",
    "adoptions_consent_dispensed_count",
    "adoptions_consent_dispensed_pct",
    "adoptions_unopposed_count",
    "adoptions_unopposed_pct",
    "sgo_former_foster_other_pct",
    "sgo_former_foster_relative_pct",
    "sgo_other_carer_relative_pct",
    "care_leavers_neet_19_21",
    "care_leavers_staying_put",
    // These two sit at the 10% line: within it on one stream of draws, 10-11% over on another.
    "cla_in_childrens_homes",
    "cla_substance_misuse",
];

/// Runs of the default recipe pooled (`cspi synth --report --seeds 3`): one run's median bias
/// moves by up to ±15 points from seed to seed on the indicators that count a few children
/// per LA-year (plans open two years, returns home, children away), more than the 10% held.
const SEEDS: u32 = 3;

#[test]
fn the_default_data_is_within_ten_percent_of_published_figures() {
    // The embedded default (Lincolnshire and its 10 neighbours, 2020/21-2024/25): the median
    // over LA-years of (generated - published) / published, as `cspi synth --report --seeds 3`
    // prints it.
    let lines = cspi::calibration::report(&Recipe::embedded_default(), SEEDS).unwrap();
    let catalogue = Catalogue::embedded().unwrap();
    let mut failures = vec![];
    for def in &catalogue.definitions {
        if def.benchmark.lait.is_none() && def.benchmark.ees.is_none() {
            continue;
        }
        let line = lines.iter().find(|l| l.indicator == def.id);
        let Some(line) = line else {
            failures.push(format!("{}: no line in the report", def.id));
            continue;
        };
        let Some(bias) = line.bias else {
            // Benchmarks published for England only (the adoption stage means) have no LA
            // figure to calibrate to.
            assert_eq!(line.la_years, 0, "{}", def.id);
            continue;
        };
        let listed = NOT_YET_CALIBRATED.contains(&def.id.as_str());
        if line.la_years < 11 * SEEDS as usize && !listed {
            failures.push(format!("{}: {} LA-years", def.id, line.la_years));
            continue;
        }
        if bias.abs() > 0.10 && !listed {
            failures.push(format!(
                "{}: bias {:+.0}% (generated {:.1}, published {:.1})",
                def.id,
                100.0 * bias,
                line.generated.unwrap_or(f64::NAN),
                line.published.unwrap_or(f64::NAN)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
