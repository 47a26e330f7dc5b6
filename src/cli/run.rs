//! `cspi run`: the main job.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use cspi::pipeline::{self, Config, Progress};
use indicatif::{ProgressBar, ProgressStyle};

/// Ingest → indicators → benchmarks → packs in one command. With no --config, runs on the
/// embedded default data (synthetic returns for Lincolnshire and its 10 statistical neighbours,
/// generated on first run) and writes out/.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The LA's configuration (YAML): LA, input folders, reporting date, neighbours, packs.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output folder (overrides the config's `out`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The population for rates per 10,000 (overrides the config's `population`; CSV:
    /// la_code, collection_year or mid_year, population_0_17[, estimate]).
    #[arg(long)]
    population: Option<PathBuf>,
    /// The inspection framework (overrides the config's `framework`): sif2015, ilacs2024 or
    /// ilacs2026 (default: ilacs2026, the current one).
    #[arg(long, value_parser = super::framework)]
    framework: Option<cspi::domain::framework::Framework>,
}

/// A progress bar per step.
struct Bars {
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress for Bars {
    fn step(&self, name: &str, units: Option<u64>) {
        let mut slot = self.bar.lock().expect("progress lock");
        if let Some(old) = slot.take() {
            old.finish_and_clear();
        }
        let bar = match units {
            Some(n) => {
                let b = ProgressBar::new(n);
                b.set_style(
                    ProgressStyle::with_template("{msg:50} {bar:30} {pos}/{len}")
                        .expect("valid template"),
                );
                b
            }
            None => {
                let b = ProgressBar::new_spinner();
                b.enable_steady_tick(std::time::Duration::from_millis(120));
                b
            }
        };
        bar.set_message(name.to_string());
        *slot = Some(bar);
    }

    fn tick(&self, _unit: &str) {
        if let Some(bar) = self.bar.lock().expect("progress lock").as_ref() {
            bar.inc(1);
        }
    }
}

/// Exit status as `cspi ingest`: 3 when some input could not be read (everything else is
/// still computed from what could be, and the summary printed).
pub fn run(args: Args) -> anyhow::Result<super::Status> {
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(out) = args.out {
        config.out = Some(out);
    }
    if let Some(p) = args.population {
        config.population = Some(p);
    }
    if let Some(f) = args.framework {
        config.framework = Some(f.id().to_string());
    }
    let started = Instant::now();
    let bars = Bars {
        bar: Mutex::new(None),
    };
    let outcome = pipeline::run(&config, &bars)?;
    if let Some(bar) = bars.bar.lock().expect("progress lock").take() {
        bar.finish_and_clear();
    }
    println!(
        "cspi run for LA {} finished in {:.1} s",
        outcome.la,
        started.elapsed().as_secs_f64()
    );
    for step in &outcome.steps {
        println!("  {:<12} {}", step.step, step.detail);
        for path in &step.outputs {
            println!("  {:<12}   → {}", "", path.display());
        }
    }
    Ok(super::incomplete_if(&outcome.ingest.files_not_read))
}
