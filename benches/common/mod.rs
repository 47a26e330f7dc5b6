//! The national synthetic corpus the benches share, generated once into target/bench-data.

use std::path::{Path, PathBuf};

use cspi::ingest::reference::ReferenceIndex;
use cspi::synth::{self, Recipe, Ssda903Format};

/// Every current LA's returns for `first..=last` under `target/bench-data/<name>`
/// (deterministic, seed 1), generated on first use.
pub fn national_corpus(name: &str, first: i32, last: i32) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data")
        .join(name);
    if !dir.join("calibration.csv").exists() {
        let las = ReferenceIndex::embedded()
            .current_las()
            .map(|l| l.code.clone())
            .collect();
        let recipe = Recipe {
            seed: 1,
            las,
            first_year: first,
            last_year: last,
            format: Ssda903Format::Csv,
            as_at: None,
        };
        synth::generate(&recipe, &dir, &|_| {}).expect("corpus generated");
    }
    dir
}
