//! Properties that hold for any history, checked on random CIN histories (property tests):
//! a percentage's numerator never exceeds its denominator; counts equal a direct count of the
//! made-up episodes; the rolling 12 months ending 31 March is the DfE year.

mod common;

use chrono::{Days, NaiveDate};
use common::cin::{Episode, write_returns};
use cspi::derive::Facts;
use cspi::indicators::catalogue::{Catalogue, Unit};
use cspi::indicators::evaluate::{Options, evaluate};
use cspi::indicators::period::Period;
use cspi::ingest::reference::ReferenceTables;
use cspi::ingest::returns::Hints;
use cspi::ingest::store::Store;
use polars::prelude::*;
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

const LAST: fn() -> NaiveDate = || d(2025, 3, 31);

/// One child's story as random offsets: (days from 1 April 2022 to the first referral, then
/// per episode: open days or None, days to the next referral, plan (start offset, length)).
type Story = (u64, Vec<(Option<u64>, u64, Option<(u64, Option<u64>)>)>);

fn story() -> impl Strategy<Value = Story> {
    (
        0u64..1095,
        prop::collection::vec(
            (
                prop::option::of(0u64..500),
                1u64..200,
                prop::option::of((0u64..40, prop::option::of(1u64..800))),
            ),
            1..4,
        ),
    )
}

fn episodes(stories: &[Story]) -> Vec<Episode> {
    let mut eps = vec![];
    for (child, (first, list)) in stories.iter().enumerate() {
        let mut referral = d(2022, 4, 1) + Days::new(*first);
        for (open, gap, plan) in list {
            if referral > LAST() {
                break;
            }
            let closure = open.map(|o| referral + Days::new(o));
            let plan = plan.and_then(|(s, len)| {
                let start = referral + Days::new(s);
                if closure.is_some_and(|c| c < start) {
                    return None;
                }
                let end = match (len.map(|l| start + Days::new(l)), closure) {
                    (Some(e), Some(c)) => Some(e.min(c)),
                    (e, c) => e.or(c),
                };
                Some((start, end, 0))
            });
            eps.push(Episode {
                child,
                referral,
                closure,
                plan,
            });
            match closure {
                Some(c) => referral = c + Days::new(*gap),
                None => break,
            }
        }
    }
    eps
}

fn get(values: &DataFrame, id: &str, period: &Period) -> Option<(f64, Option<f64>, Option<f64>)> {
    common::figure(values, id, Some(period))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn figures_are_consistent_on_any_history(stories in prop::collection::vec(story(), 1..15)) {
        let eps = episodes(&stories);
        let dir = tempfile::tempdir().unwrap();
        write_returns(&dir.path().join("returns"), "925", &[2023, 2024, 2025], &eps);
        let store = Store::new(dir.path().join("store"));
        let outcome = cspi::ingest::ingest(&[dir.path().join("returns")], &store, &Hints::default()).unwrap();
        prop_assert_eq!(outcome.report.errors(), 0, "{:?}", outcome.report.issues);
        let facts = Facts::new(&store, ReferenceTables::embedded());
        let catalogue = Catalogue::embedded().unwrap();
        let periods = vec![
            Period::year(2024),
            Period::year(2025),
            Period::snapshot(d(2024, 3, 31)),
            Period::snapshot(d(2025, 3, 31)),
            Period::rolling_12m(d(2025, 3, 31)),
        ];
        let values = evaluate(&catalogue, &facts, &periods, &Options::default()).unwrap().values;

        // Numerator ≤ denominator for every percentage, and the value is between 0 and 100.
        let pct = values.clone().lazy().filter(col("unit").eq(lit(Unit::Percent.name()))).collect().unwrap();
        let (n, dn, v) = (pct.column("numerator").unwrap().f64().unwrap(), pct.column("denominator").unwrap().f64().unwrap(), pct.column("value").unwrap().f64().unwrap());
        for i in 0..pct.height() {
            if let (Some(n), Some(dn)) = (n.get(i), dn.get(i)) {
                prop_assert!(n <= dn, "row {}: {} > {}", i, n, dn);
            }
            if let Some(v) = v.get(i) {
                prop_assert!((0.0..=100.0).contains(&v));
            }
        }

        // Counts equal a direct count of the episodes.
        for year in [2024, 2025] {
            let (ys, ye) = (d(year - 1, 4, 1), d(year, 3, 31));
            let referrals = eps.iter().filter(|e| e.referral >= ys && e.referral <= ye).count();
            prop_assert_eq!(get(&values, "referrals_rate", &Period::year(year)).unwrap().0, referrals as f64);
            let open = eps.iter().filter(|e| e.referral <= ye && e.closure.is_none_or(|c| c > ye)).count();
            prop_assert_eq!(get(&values, "cin_count", &Period::snapshot(ye)).unwrap().0, open as f64);
            let on_plan = eps.iter().filter(|e| e.plan.is_some_and(|(s, end, _)| s <= ye && end.is_none_or(|x| x > ye))).map(|e| e.child).collect::<std::collections::BTreeSet<_>>().len();
            prop_assert_eq!(get(&values, "cpp_count", &Period::snapshot(ye)).unwrap().0, on_plan as f64);
            let starts = eps.iter().filter(|e| e.plan.is_some_and(|(s, _, _)| s >= ys && s <= ye)).count();
            prop_assert_eq!(get(&values, "cpp_starts_rate", &Period::year(year)).unwrap().0, starts as f64);
        }

        // The rolling 12 months to 31 March 2025 is the DfE year 2024/25, figure for figure.
        for def in &catalogue.definitions {
            let year = get(&values, &def.id, &Period::year(2025));
            let rolling = get(&values, &def.id, &Period::rolling_12m(d(2025, 3, 31)));
            if year.is_some() && rolling.is_some() {
                prop_assert_eq!(year, rolling, "{}", def.id);
            }
        }
    }
}
