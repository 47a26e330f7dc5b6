//! Rates checked against real published DfE figures.
//!
//! DfE publishes both the counts (EES: referrals, children in need and on a plan at 31 March,
//! plans started) and the rates or percentages LAIT shows. This test writes a CIN census for
//! Lincolnshire (925) 2024/25 holding exactly the published counts (children made up, counts
//! real), runs it through ingest and the catalogue, and checks each figure against the value
//! DfE published: the population, the rate arithmetic and the rounding must all agree.
//! The published figures come from the project's embedded reference tables (built from
//! ../shared/reference), so no public file is needed at test time.

mod common;

use chrono::{Days, NaiveDate};
use cspi::derive::Facts;
use cspi::indicators::catalogue::Catalogue;
use cspi::indicators::evaluate::{Options, evaluate};
use cspi::indicators::period::Period;
use cspi::ingest::reference::{ReferenceIndex, ReferenceTables};
use cspi::ingest::returns::Hints;
use cspi::ingest::store::Store;

use common::cin::{Episode, write_returns};

const LA: &str = "925";
const YEAR: i32 = 2025;

fn published_count(measure: &str) -> usize {
    let p = ReferenceIndex::embedded()
        .published(measure, LA, YEAR)
        .unwrap_or_else(|| panic!("{measure} for {LA} {YEAR} is in the embedded reference"));
    p.value.expect("published, not suppressed") as usize
}

fn published_pct(measure: &str) -> f64 {
    ReferenceIndex::embedded()
        .published(measure, LA, YEAR)
        .and_then(|p| p.value)
        .unwrap_or_else(|| panic!("{measure} for {LA} {YEAR}"))
}

fn day(n: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(YEAR - 1, 4, 1).unwrap() + Days::new(n)
}

/// Builds the episodes: `rereferrals` children referred twice (the second within 12 months of
/// the first), the rest once; `open` episodes still open on 31 March; `plan_starts` plans
/// started in the year in open episodes, `plans_open` of them still open, `subsequent` of them
/// a second or subsequent plan.
fn episodes(
    referrals: usize,
    rereferrals: usize,
    open: usize,
    plan_starts: usize,
    plans_open: usize,
    subsequent: usize,
) -> Vec<Episode> {
    let mut eps = vec![];
    let mut child = 0;
    for i in 0..rereferrals {
        let first = day((i % 100) as u64);
        eps.push(Episode {
            child,
            referral: first,
            closure: Some(first + Days::new(20)),
            plan: None,
        });
        eps.push(Episode {
            child,
            referral: first + Days::new(60),
            closure: None,
            plan: None,
        });
        child += 1;
    }
    for i in 0..referrals - 2 * rereferrals {
        eps.push(Episode {
            child,
            referral: day((i % 300) as u64),
            closure: None,
            plan: None,
        });
        child += 1;
    }
    // Close all but `open` episodes (second referrals of a pair stay open first: they are
    // the later ones).
    let mut still_open = 0;
    for e in eps.iter_mut().rev() {
        if e.closure.is_none() {
            if still_open < open {
                still_open += 1;
            } else {
                e.closure = Some(e.referral + Days::new(30));
            }
        }
    }
    assert_eq!(still_open, open, "enough episodes to leave {open} open");
    let mut plans = 0;
    for e in eps.iter_mut().filter(|e| e.closure.is_none()) {
        if plans == plan_starts {
            break;
        }
        let start = e.referral + Days::new(14);
        let end = (plans >= plans_open).then(|| start + Days::new(30));
        e.plan = Some((start, end, u32::from(plans < subsequent)));
        plans += 1;
    }
    assert_eq!(plans, plan_starts);
    eps
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[test]
fn lincolnshire_2025_rates_match_dfe_published_figures() {
    let referrals = published_count("ees_referrals");
    let rereferral_pct = published_pct("ees_rereferral_pct");
    let cin = published_count("ees_cin_at31");
    let cpp = published_count("ees_cpp_at31");
    let starts = published_count("ees_cpp_starts");
    let subsequent_pct = published_pct("ees_cpp_subsequent_pct");
    // The counts behind the percentages where EES publishes them (2,001 re-referrals), else
    // the nearest whole number to the rounded percentage (556 × 23.0% ≈ 128).
    let count_behind = |measure: &str, pct: f64, of: usize| {
        ReferenceIndex::embedded()
            .published(measure, LA, YEAR)
            .and_then(|p| p.numerator)
            .map(|n| n as usize)
            .unwrap_or((of as f64 * pct / 100.0).round() as usize)
    };
    let rereferrals = count_behind("ees_rereferral_pct", rereferral_pct, referrals);
    let subsequent = count_behind("ees_cpp_subsequent_pct", subsequent_pct, starts);
    assert_eq!(referrals, 8_726, "the figure quoted in the issue");

    let dir = tempfile::tempdir().unwrap();
    let eps = episodes(referrals, rereferrals, cin, starts, cpp, subsequent);
    write_returns(&dir.path().join("returns"), LA, &[YEAR], &eps);
    let store = Store::new(dir.path().join("store"));
    let outcome =
        cspi::ingest::ingest(&[dir.path().join("returns")], &store, &Hints::default()).unwrap();
    assert_eq!(outcome.report.errors(), 0, "{:?}", outcome.report.issues);

    let facts = Facts::new(&store, ReferenceTables::embedded());
    let catalogue = Catalogue::embedded().unwrap();
    let values = evaluate(
        &catalogue,
        &facts,
        &[Period::year(YEAR)],
        &Options::default(),
    )
    .unwrap()
    .values;
    let value = |id: &str| -> (f64, f64) {
        let (n, _, v) = common::figure(&values, id, None).expect(id);
        (n, v.expect(id))
    };
    // Each indicator against LAIT's published value (its YAML's benchmark key).
    let mut checked = 0;
    for (id, count) in [
        ("referrals_rate", referrals),
        ("cin_rate", cin),
        ("cpp_rate", cpp),
        ("cpp_starts_rate", starts),
        ("rereferrals_12m", rereferrals),
        ("cpp_second_subsequent", subsequent),
    ] {
        let def = catalogue.get(id).unwrap();
        let (numerator, v) = value(id);
        assert_eq!(numerator, count as f64, "{id} numerator");
        let key = def.benchmark.lait.as_ref().unwrap();
        let lait = ReferenceIndex::embedded()
            .published(&format!("lait:{key}"), LA, YEAR)
            .and_then(|p| p.value);
        let ees = def
            .benchmark
            .ees
            .as_ref()
            .and_then(|k| ReferenceIndex::embedded().published(k, LA, YEAR))
            .and_then(|p| p.value);
        let expected = match (def.unit, lait) {
            (_, Some(l)) => l,
            (cspi::indicators::catalogue::Unit::Percent, None) => ees.unwrap(),
            _ => panic!("{id}: no published value"),
        };
        assert_eq!(
            round1(v),
            expected,
            "{id}: computed {v}, published {expected}"
        );
        checked += 1;
    }
    assert_eq!(checked, 6);
    // The counts LAIT publishes beside the rates (the national measure set's count
    // definitions), computed from the same return: each must be LAIT's own figure.
    for id in [
        "referrals_count",
        "cpp_count",
        "cpp_starts_count",
        "cpp_second_subsequent_count",
    ] {
        let key = catalogue.get(id).unwrap().benchmark.lait.clone().unwrap();
        let lait = ReferenceIndex::embedded()
            .published(&format!("lait:{key}"), LA, YEAR)
            .and_then(|p| p.value)
            .unwrap_or_else(|| panic!("{id}: LAIT {key} for {LA} {YEAR}"));
        assert_eq!(value(id).0, lait, "{id}: LAIT {key}");
    }
    // The figures quoted in the issue, spelled out.
    assert_eq!(round1(value("referrals_rate").1), 589.8);
    assert_eq!(round1(value("cin_rate").1), 282.8);
    assert_eq!(round1(value("cpp_rate").1), 30.8);
}
