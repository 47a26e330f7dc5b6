//! Ingest throughput on national-scale synthetic returns.
//!
//! The corpus is generated once (release build, deterministic) into `target/bench-data`:
//! every current LA's 2024/25 returns. Benches:
//! - `cin_flatten/*`: streaming the CIN census XML of the 10 largest LAs into canonical tables
//!   (one file at a time, as an LA or DfE would), in MB/s — compare Python's ElementTree at
//!   ~35 MB/s;
//! - `ssda903_csv/national`: reading and validating every LA's 903 CSV tables;
//! - `ingest/one_la`: the whole ingest of one large LA's year (both returns, cross-row rules,
//!   history store).

use std::path::{Path, PathBuf};
use std::sync::Arc;

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cspi::domain::codes::CodeLists;
use cspi::ingest::returns::Hints;
use cspi::ingest::spec::FormatSpec;
use cspi::ingest::store::Store;
use cspi::ingest::{ingest, ssda903_csv, xml};

fn corpus() -> PathBuf {
    common::national_corpus("national-2025", 2025, 2025)
}

fn largest_cin_files(dir: &Path, n: usize) -> Vec<PathBuf> {
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path().join("2025/cin_census.xml"))
        .filter(|p| p.exists())
        .map(|p| (std::fs::metadata(&p).unwrap().len(), p))
        .collect();
    files.sort();
    files.into_iter().rev().take(n).map(|f| f.1).collect()
}

fn benches(c: &mut Criterion) {
    let dir = corpus();
    let cin_spec = FormatSpec::cin();
    let layout = xml::XmlLayout::compile(cin_spec);
    let cin_files = largest_cin_files(&dir, 10);
    let cin_bytes: u64 = cin_files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    let mut group = c.benchmark_group("cin_flatten");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(cin_bytes));
    group.bench_function("10_largest_las", |b| {
        b.iter(|| {
            let mut rows = 0;
            for f in &cin_files {
                let out = xml::read_path(
                    f,
                    cin_spec,
                    &layout,
                    CodeLists::cin(),
                    Arc::from("bench"),
                    Some(2025),
                )
                .unwrap();
                let tables = xml::finish(out.builders, "000", 2025, "bench").unwrap();
                rows += tables.iter().map(|t| t.1.height()).sum::<usize>();
            }
            rows
        })
    });
    group.finish();

    let spec = FormatSpec::ssda903();
    let csv_files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .flat_map(|e| {
            std::fs::read_dir(e.path().join("2025/ssda903"))
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
        .collect();
    let csv_bytes: u64 = csv_files.iter().map(|f| f.1.len() as u64).sum();
    let mut group = c.benchmark_group("ssda903_csv");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(csv_bytes));
    group.bench_function("national", |b| {
        b.iter(|| {
            let mut rows = 0;
            for (path, bytes) in &csv_files {
                let label: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
                let out = ssda903_csv::read(bytes, spec, CodeLists::ssda903(), 2025, &label);
                rows += out
                    .builder
                    .map(|b| b.finish("000", 2025, "bench").unwrap().height())
                    .unwrap_or(0);
            }
            rows
        })
    });
    group.finish();

    let big = cin_files[0]
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let la_bytes: u64 = walk_size(&big);
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(la_bytes));
    group.bench_function("one_la", |b| {
        b.iter(|| {
            let store_dir = tempfile::tempdir().unwrap();
            let store = Store::new(store_dir.path());
            ingest(std::slice::from_ref(&big), &store, &Hints::default())
                .unwrap()
                .returns
                .len()
        })
    });
    group.finish();
}

fn walk_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            if e.path().is_dir() {
                walk_size(&e.path())
            } else {
                e.metadata().unwrap().len()
            }
        })
        .sum()
}

criterion_group!(ingest_benches, benches);
criterion_main!(ingest_benches);
