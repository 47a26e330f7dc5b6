//! The main job, `cspi run`: ingest → indicators → benchmarks → packs in one call.
//!
//! This module sits above the layers and only wires them together; each step's work is in its
//! layer. With no configuration it runs on the embedded default data: the synthetic returns of
//! `data/default.yaml`, generated deterministically on first run into `<out>/default-data`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::ingest::returns::Hints;
use crate::ingest::store::Store;
use crate::ingest::{self, IngestOutcome};
use crate::synth::{self, Recipe};

/// Problems running the main job, in terms a performance analyst can act on.
#[derive(Debug, Error)]
pub enum PipelineError {
    #[error("config {0}: {1}")]
    Config(PathBuf, String),
    #[error("generating the default data: {0}")]
    Synth(#[from] synth::SynthError),
    #[error("ingest: {0}")]
    Ingest(#[from] polars::prelude::PolarsError),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// An LA's configuration for `cspi run` (YAML; every field optional).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The LA the packs are for (3-digit DfE code). Default: the first LA of the data.
    pub la: Option<String>,
    /// Folders or files of returns. Empty: the embedded default data.
    #[serde(default)]
    pub inputs: Vec<PathBuf>,
    /// Where outputs go (default `out`).
    pub out: Option<PathBuf>,
}

impl Config {
    /// Reads a config file; relative paths in it are relative to the file's folder.
    pub fn load(path: &Path) -> Result<Config, PipelineError> {
        let text = std::fs::read_to_string(path).map_err(|e| PipelineError::Io(path.into(), e))?;
        let mut config: Config = serde_yaml::from_str(&text)
            .map_err(|e| PipelineError::Config(path.into(), e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.inputs = config.inputs.iter().map(|p| base.join(p)).collect();
        config.out = config.out.map(|p| base.join(p));
        Ok(config)
    }

    pub fn out_dir(&self) -> PathBuf {
        self.out.clone().unwrap_or_else(|| PathBuf::from("out"))
    }
}

/// What a step did, for the run's printed summary.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub step: &'static str,
    pub detail: String,
    pub outputs: Vec<PathBuf>,
}

/// Callbacks for progress: a step starting (with a count of units, if known) and a unit done.
pub trait Progress: Sync {
    fn step(&self, name: &str, units: Option<u64>);
    fn tick(&self, unit: &str);
}

/// No progress display (tests, library use).
pub struct Quiet;

impl Progress for Quiet {
    fn step(&self, _: &str, _: Option<u64>) {}
    fn tick(&self, _: &str) {}
}

/// Generates the embedded default data into `<out>/default-data` unless it is already there
/// from the same recipe. Returns the folder.
pub fn ensure_default_data(out: &Path, progress: &dyn Progress) -> Result<PathBuf, PipelineError> {
    let dir = out.join("default-data");
    let recipe_text = include_str!("../data/default.yaml");
    let stamp = dir.join("recipe.yaml");
    if std::fs::read_to_string(&stamp).is_ok_and(|t| t == recipe_text) {
        return Ok(dir);
    }
    let recipe = Recipe::embedded_default();
    progress.step(
        "generating the default data (first run only)",
        Some(recipe.las.len() as u64),
    );
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| PipelineError::Io(dir.clone(), e))?;
    }
    synth::generate(&recipe, &dir, &|la| progress.tick(la))?;
    crate::domain::io::write_bytes(&stamp, recipe_text.as_bytes())
        .map_err(|e| PipelineError::Io(stamp.clone(), e))?;
    Ok(dir)
}

/// Everything `cspi run` produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub la: String,
    pub ingest: IngestOutcome,
    pub steps: Vec<StepReport>,
}

/// Runs the main job.
pub fn run(config: &Config, progress: &dyn Progress) -> Result<RunOutcome, PipelineError> {
    let out = config.out_dir();
    let inputs = if config.inputs.is_empty() {
        vec![ensure_default_data(&out, progress)?]
    } else {
        config.inputs.clone()
    };
    progress.step("reading and validating the returns", None);
    let store = Store::new(out.join("store"));
    let outcome = ingest::ingest(&inputs, &store, &Hints::default())?;
    let la = config
        .la
        .clone()
        .or_else(|| {
            Recipe::embedded_default()
                .las
                .first()
                .cloned()
                .filter(|_| config.inputs.is_empty())
        })
        .or_else(|| outcome.returns.first().map(|r| r.0.clone()))
        .unwrap_or_default();
    let steps = vec![StepReport {
        step: "ingest",
        detail: format!(
            "{} returns, {} rows kept, {} rejected; {} errors, {} warnings",
            outcome.returns.len(),
            outcome.report.counts.values().map(|c| c.kept).sum::<u64>(),
            outcome
                .report
                .counts
                .values()
                .map(|c| c.rejected)
                .sum::<u64>(),
            outcome.report.errors(),
            outcome.report.warnings()
        ),
        outputs: vec![
            store.root.join("history"),
            outcome.report_stem.with_extension("csv"),
        ],
    }];
    Ok(RunOutcome {
        la,
        ingest: outcome,
        steps,
    })
}
