//! Rendering the members' chart pack for one large county (Lancashire, 5 years of synthetic
//! returns generated once into `target/bench-data/render-888`), from the finished analysis:
//! - `members_pack/pdf`: what the pack shows (figures, readings, every chart drawn as SVG) and
//!   the PDF;
//! - `members_pack/all_formats`: the same plus the HTML page and every chart as a 2× PNG (the
//!   members' pack's three formats; files not written).

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use cspi::ingest::returns::Hints;
use cspi::ingest::store::Store;
use cspi::pipeline::{Config, Quiet, analyse};
use cspi::render::packs::Pack;
use cspi::render::{content, html, pdf, svg};
use cspi::synth::{self, Recipe, Ssda903Format};

const LA: &str = "888";

fn benches(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/render-888");
    let returns = dir.join("returns");
    if !returns.join("calibration.csv").exists() {
        let recipe = Recipe {
            seed: 1,
            las: vec![LA.into()],
            first_year: 2021,
            last_year: 2025,
            format: Ssda903Format::Csv,
            as_at: None,
        };
        synth::generate(&recipe, &returns, &|_| {}).expect("returns generated");
    }
    let out = tempfile::tempdir().unwrap();
    let store = Store::new(out.path().join("store"));
    cspi::ingest::ingest(std::slice::from_ref(&returns), &store, &Hints::default())
        .expect("ingested");
    let config = Config {
        la: Some(LA.into()),
        out: Some(out.path().to_path_buf()),
        ..Config::default()
    };
    let analysis = analyse(&config, &store, LA, out.path(), &Quiet).expect("analysed");
    let members = Pack::embedded(&analysis.plan.catalogue)
        .unwrap()
        .into_iter()
        .find(|p| p.id == "members")
        .expect("the shipped members' pack");
    let input = analysis.pack_input();

    let mut group = c.benchmark_group("members_pack");
    group.sample_size(10);
    group.bench_function("pdf", |b| {
        b.iter(|| {
            let shown = content::build(&members, &input).unwrap();
            pdf::render(&shown).unwrap().len()
        })
    });
    group.bench_function("all_formats", |b| {
        b.iter(|| {
            let shown = content::build(&members, &input).unwrap();
            let pngs: usize = shown
                .charts()
                .map(|c| svg::png(&c.svg, 2.0).unwrap().len())
                .sum();
            pdf::render(&shown).unwrap().len()
                + html::render(&shown, None, "").unwrap().len()
                + pngs
        })
    });
    group.finish();
}

criterion_group!(render, benches);
criterion_main!(render);
