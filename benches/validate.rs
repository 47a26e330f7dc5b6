//! Validating a large county's year against DfE's rules, as `cspi validate` does.
//!
//! The corpus is Lancashire's (888, the largest county by children looked after) synthetic
//! 2023/24 and 2024/25 returns (903 CSV and the CIN census XML), generated once into
//! `target/bench-data/validate-888`. Benches:
//! - `dfe_rules/903` and `dfe_rules/cin`: every DfE rule in force for 2024/25 (with last year's
//!   return for the cross-year rules) over the tables as read: the rule views, then the rules;
//! - `validate/one_county_year`: reading the 2024/25 files, assembling both returns, all DfE
//!   rules and cspi's own cross-row checks, with 2023/24 as last year's return (the whole of
//!   `cspi validate --no-impact` but the scratch store and the report files).

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use cspi::ingest::dfe::views::RuleReference;
use cspi::ingest::dfe::{PreviousReturn, RuleCatalogue, RuleInputs, engine};
use cspi::ingest::returns::{
    Collection, Hints, ReturnData, discover, read_returns, read_returns_over,
};
use cspi::ingest::rules::Tables;
use cspi::synth::{self, Recipe, Ssda903Format};

const LA: &str = "888";

fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/validate-888");
    if !dir.join("calibration.csv").exists() {
        let recipe = Recipe {
            seed: 1,
            las: vec![LA.into()],
            first_year: 2024,
            last_year: 2025,
            format: Ssda903Format::Csv,
            as_at: None,
        };
        synth::generate(&recipe, &dir, &|_| {}).expect("corpus generated");
    }
    dir
}

fn read(dir: &Path) -> Vec<ReturnData> {
    let (files, _) = discover(&[dir.to_path_buf()], &Hints::default());
    read_returns(&files, &|p: &Path| p.to_string_lossy().into_owned()).0
}

fn of(returns: &[ReturnData], collection: Collection) -> &ReturnData {
    returns
        .iter()
        .find(|r| r.collection == collection)
        .expect("return read")
}

fn benches(c: &mut Criterion) {
    let dir = corpus();
    let before = read(&dir.join(format!("{LA}/2024")));
    let now = read(&dir.join(format!("{LA}/2025")));
    let catalogue = RuleCatalogue::embedded().expect("rules");
    let reference = RuleReference::embedded();
    let mut group = c.benchmark_group("dfe_rules");
    group.sample_size(10);
    for (name, collection) in [("903", Collection::Ssda903), ("cin", Collection::Cin)] {
        let data = of(&now, collection);
        let previous: &Tables = &of(&before, collection).tables;
        group.bench_function(name, |b| {
            b.iter(|| {
                let inputs = RuleInputs {
                    collection,
                    year: 2025,
                    as_at: None,
                    la_code: LA,
                    tables: &data.tables,
                    file_values: &data.file_values,
                    previous: Some(PreviousReturn {
                        year: 2024,
                        tables: previous,
                    }),
                    reference,
                };
                let outcome = engine::run(catalogue, &inputs, None).expect("rules run");
                assert!(outcome.run > 0);
                outcome.findings.len()
            })
        });
    }
    group.finish();

    let (files, _) = discover(&[dir.join(format!("{LA}/2025"))], &Hints::default());
    let label = |p: &Path| p.to_string_lossy().into_owned();
    let held = |_: &cspi::domain::la::LaCode, year: i32, collection: Collection| -> Tables {
        if year == 2024 {
            of(&before, collection).tables.clone()
        } else {
            Tables::new()
        }
    };
    let mut group = c.benchmark_group("validate");
    group.sample_size(10);
    group.bench_function("one_county_year", |b| {
        b.iter(|| {
            let (returns, _) = read_returns_over(&files, &label, &held, None);
            assert_eq!(returns.len(), 2);
            returns.len()
        })
    });
    group.finish();
}

criterion_group!(validate, benches);
criterion_main!(validate);
