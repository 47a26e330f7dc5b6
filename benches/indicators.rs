//! The indicator engine at national scale.
//!
//! The corpus is generated once (deterministic) into `target/bench-data/national-5y`: every
//! current LA's returns for 2020/21–2024/25, ingested into a history store. Benches:
//! - `catalogue/national_5y`: the whole catalogue for all 153 LAs × 5 DfE years (with
//!   snapshots and 3-year windows), fact tables derived from the store inside the timing;
//! - `catalogue/rolling_24m_one_la`: one large LA's 24-month rolling-12-month series plus its
//!   years;
//! - `catalogue/county_5y_from_raw_files`: a large county's five years of raw 903 CSV and CIN
//!   XML → validated history → the whole catalogue (the DuckDB comparison: ~0.5 s per
//!   collection);
//! - `compare/national`: the comparison table for all LAs against the LAs held.

use std::path::PathBuf;

use chrono::NaiveDate;
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use cspi::compare::{Benchmarks, CompareOptions, compare};
use cspi::derive::{Facts, OnlyLas};
use cspi::indicators::catalogue::Catalogue;
use cspi::indicators::evaluate::{Options, evaluate, standard_periods};
use cspi::ingest::reference::{ReferenceIndex, ReferenceTables};
use cspi::ingest::returns::Hints;
use cspi::ingest::store::Store;

const LARGE_COUNTY: &str = "888"; // Lancashire

fn corpus() -> (PathBuf, Store) {
    let returns = common::national_corpus("national-5y/returns", 2021, 2025);
    let dir = returns.parent().expect("under national-5y").to_path_buf();
    let store = Store::new(dir.join("store"));
    if store.las().len() < 150 {
        cspi::ingest::ingest(std::slice::from_ref(&returns), &store, &Hints::default())
            .expect("ingested");
    }
    (returns, store)
}

fn benches(c: &mut Criterion) {
    let (returns, store) = corpus();
    let catalogue = Catalogue::embedded().unwrap();
    let reference = ReferenceTables::embedded();
    let years = standard_periods(2021, 2025, 0, None);
    let mut group = c.benchmark_group("catalogue");
    group.sample_size(10);
    group.bench_function("national_5y", |b| {
        b.iter(|| {
            let facts = Facts::new(&store, reference);
            evaluate(&catalogue, &facts, &years, &Options::default())
                .unwrap()
                .values
                .height()
        })
    });
    let rolling = standard_periods(2024, 2025, 24, NaiveDate::from_ymd_opt(2025, 3, 31));
    let one = OnlyLas {
        inner: &store,
        las: vec![LARGE_COUNTY.into()],
    };
    group.bench_function("rolling_24m_one_la", |b| {
        b.iter(|| {
            let facts = Facts::new(&one, reference);
            evaluate(&catalogue, &facts, &rolling, &Options::default())
                .unwrap()
                .values
                .height()
        })
    });
    let raw = returns.join(LARGE_COUNTY);
    group.bench_function("county_5y_from_raw_files", |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::new(dir.path());
            cspi::ingest::ingest(std::slice::from_ref(&raw), &store, &Hints::default()).unwrap();
            let facts = Facts::new(&store, reference);
            evaluate(&catalogue, &facts, &years, &Options::default())
                .unwrap()
                .values
                .height()
        })
    });
    group.finish();

    let facts = Facts::new(&store, reference);
    let values = evaluate(&catalogue, &facts, &years, &Options::default())
        .unwrap()
        .values;
    let index = ReferenceIndex::embedded();
    let mut group = c.benchmark_group("compare");
    group.sample_size(10);
    group.bench_function("national", |b| {
        b.iter(|| {
            let bench = Benchmarks::computed(&catalogue, &values, index).unwrap();
            compare(
                &catalogue,
                &values,
                &bench,
                index,
                &CompareOptions::default(),
            )
            .unwrap()
            .height()
        })
    });
    group.finish();
}

criterion_group!(indicator_benches, benches);
criterion_main!(indicator_benches);
