//! The main job, `cspi run`: ingest → indicators → benchmarks → packs in one call.
//!
//! This module sits above the layers and only wires them together; each step's work is in its
//! layer. With no configuration it runs on the embedded default data: the synthetic returns of
//! `data/default.yaml`, generated deterministically on first run into `<out>/default-data`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::DataFrame;
use serde::Deserialize;
use thiserror::Error;

use crate::compare::context::{self, CompareWith};
use crate::compare::{self as comparison, Benchmarks, CompareOptions, Source};
use crate::derive::Facts;
use crate::domain::framework::Framework;
use crate::domain::la::LaCode;
use crate::indicators::evaluate::{self, Options};
use crate::ingest::returns::Hints;
use crate::ingest::store::Store;
use crate::ingest::{self, IngestError, IngestOutcome};
use crate::render::content::PackInput;
use crate::synth::{self, Recipe};

pub mod plan;
pub mod steps;

pub use plan::Plan;

/// Problems running the main job, in terms a performance analyst can act on.
#[derive(Debug, Error)]
pub enum PipelineError {
    #[error("config {0}: {1}")]
    Config(PathBuf, String),
    #[error("generating the default data: {0}")]
    Synth(#[from] synth::SynthError),
    #[error("{0}")]
    Data(#[from] polars::prelude::PolarsError),
    #[error("{0}")]
    Ingest(#[from] IngestError),
    #[error(
        "no return could be read from the inputs: the problems are listed in {}",
        .0.display()
    )]
    NothingRead(PathBuf),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0}")]
    Catalogue(#[from] crate::indicators::catalogue::CatalogueError),
    #[error("{0}")]
    Evaluate(#[from] crate::indicators::evaluate::EvalError),
    #[error("{0}")]
    Reference(#[from] crate::ingest::reference::ReferenceError),
    #[error("{0}")]
    Workbook(#[from] crate::render::annex_a::WorkbookError),
    #[error("{0}")]
    Render(#[from] crate::render::RenderError),
    #[error("{0}")]
    Validate(#[from] crate::validate::ValidateError),
    #[error("{0}")]
    Context(#[from] crate::compare::context::ContextError),
}

/// An LA's configuration for `cspi run` (YAML; every field optional).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The LA the packs are for (3-digit DfE code). Default: the first LA of the data.
    /// Validated ([`LaCode`]) before it is used: it names output files.
    pub la: Option<String>,
    /// Folders or files of returns. Empty: the embedded default data.
    #[serde(default)]
    pub inputs: Vec<PathBuf>,
    /// Where outputs go (default `out`).
    pub out: Option<PathBuf>,
    /// The reporting date: year to date, snapshot and the last rolling period end here
    /// (default: the 31 March ending the latest year held).
    pub date: Option<NaiveDate>,
    /// Rolling 12-month periods to the last N month ends (default 24).
    pub months: Option<usize>,
    /// Statistical neighbour model, 2021 or 2025 (default 2025).
    pub neighbour_model: Option<i32>,
    /// The LA's own neighbour list, replacing DfE's.
    pub neighbours: Option<Vec<String>>,
    /// A folder of newer DfE downloads (LAIT, EES) to benchmark against.
    pub published: Option<PathBuf>,
    /// A folder of local indicator definitions added to the catalogue.
    pub local_indicators: Option<PathBuf>,
    /// Local figures for the inspection context section (YAML map key: text).
    pub local_context: Option<PathBuf>,
    /// Local data for the Annex A lists: mappings (YAML: file, child, columns: {field:
    /// header}), later ones filling what earlier ones lack.
    #[serde(default)]
    pub annex_a_local: Vec<PathBuf>,
    /// The population for rates per 10,000 (CSV: la_code, collection_year or mid_year,
    /// population_0_17[, estimate]) in place of the shipped ONS series where it gives one.
    pub population: Option<PathBuf>,
    /// The inspection framework: sif2015, ilacs2024 or ilacs2026 (default: the current one,
    /// ILACS 2026). It sets the context section's template and the packs' judgement areas.
    pub framework: Option<String>,
    /// The LA's own copy of a context section template (data/frameworks/<id>/context.yaml).
    pub context_template: Option<PathBuf>,
    /// What the context section compares with: published (default: the last 31 March DfE had
    /// published by the date), last-31-march, or a date.
    pub compare_with: Option<String>,
    /// A folder of pack definitions (YAML) used instead of the shipped `charts/`.
    pub packs: Option<PathBuf>,
    /// Which packs to build, by id (default: every pack definition).
    pub build_packs: Option<Vec<String>>,
    /// Members' packs: counts from 1 to this minus one shown as "c" (default: the pack's, 5;
    /// below 5 only where the pack has a `suppression_override`).
    pub suppress_below: Option<u32>,
}

impl Config {
    /// Reads a config file; relative paths in it are relative to the file's folder.
    pub fn load(path: &Path) -> Result<Config, PipelineError> {
        let text = std::fs::read_to_string(path).map_err(|e| PipelineError::Io(path.into(), e))?;
        let mut config: Config = serde_yaml::from_str(&text)
            .map_err(|e| PipelineError::Config(path.into(), e.to_string()))?;
        if let Some(la) = &config.la {
            LaCode::parse(la)
                .map_err(|e| PipelineError::Config(path.into(), format!("la: {e}")))?;
        }
        let base = path.parent().unwrap_or(Path::new("."));
        config.inputs = config.inputs.iter().map(|p| base.join(p)).collect();
        config.out = config.out.map(|p| base.join(p));
        config.published = config.published.map(|p| base.join(p));
        config.local_indicators = config.local_indicators.map(|p| base.join(p));
        config.local_context = config.local_context.map(|p| base.join(p));
        config.annex_a_local = config.annex_a_local.iter().map(|p| base.join(p)).collect();
        config.population = config.population.map(|p| base.join(p));
        config.context_template = config.context_template.map(|p| base.join(p));
        config.framework()?;
        config.compare_with()?;
        config.packs = config.packs.map(|p| base.join(p));
        Ok(config)
    }

    /// The framework the config names, or the current one.
    pub fn framework(&self) -> Result<Framework, PipelineError> {
        match &self.framework {
            None => Ok(Framework::CURRENT),
            Some(f) => Framework::parse(f).ok_or_else(|| {
                PipelineError::Config(
                    "framework".into(),
                    format!("`{f}`: expected sif2015, ilacs2024 or ilacs2026"),
                )
            }),
        }
    }

    /// The context section's comparison date rule.
    pub fn compare_with(&self) -> Result<CompareWith, PipelineError> {
        match &self.compare_with {
            None => Ok(CompareWith::Published),
            Some(c) => CompareWith::parse(c).ok_or_else(|| {
                PipelineError::Config(
                    "compare_with".into(),
                    format!("`{c}`: expected published, last-31-march or a date YYYY-MM-DD"),
                )
            }),
        }
    }

    pub fn out_dir(&self) -> PathBuf {
        self.out.clone().unwrap_or_else(|| PathBuf::from("out"))
    }

    /// The config's `la:`, validated (a code that is not an LA's never names a file).
    pub fn la_code(&self) -> Result<Option<LaCode>, PipelineError> {
        self.la
            .as_deref()
            .map(|la| {
                LaCode::parse(la).map_err(|e| PipelineError::Config("la".into(), e.to_string()))
            })
            .transpose()
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
    // The stamp is the recipe and the generator's version: either changing regenerates.
    let recipe_text = format!(
        "{}# generator {}\n",
        include_str!("../data/default.yaml"),
        synth::GENERATOR_VERSION
    );
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
    let plan = Plan::resolve(config)?;
    let inputs = if plan.inputs.is_empty() {
        vec![ensure_default_data(&plan.out, progress)?]
    } else {
        plan.inputs.clone()
    };
    progress.step("reading and validating the returns", None);
    let store = Store::new(plan.out.join("store"));
    let outcome = ingest::ingest(&inputs, &store, &Hints::default())?;
    let la = run_la(&plan, &outcome, &store)?;
    let mut steps = vec![ingest_step(&store, &outcome)];
    let mut analysis = analyse_plan(plan, &store, &la, progress)?;
    steps.extend(analysis.steps.iter().cloned());
    progress.step("what the DfE errors move", None);
    let (step, moved) = dfe_validation(&analysis.plan, &store, &outcome, &la)?;
    analysis.validation = moved;
    steps.push(step);
    steps.push(render_packs(&analysis, progress)?);
    Ok(RunOutcome {
        la,
        ingest: outcome,
        steps,
    })
}

/// The LA the run is for: the config's, else the embedded default's first (on the default
/// data), else the first LA read, else the first the store holds.
fn run_la(plan: &Plan, outcome: &IngestOutcome, store: &Store) -> Result<String, PipelineError> {
    plan.la
        .map(|la| la.to_string())
        .or_else(|| {
            Recipe::embedded_default()
                .las
                .first()
                .cloned()
                .filter(|_| plan.inputs.is_empty())
        })
        .or_else(|| outcome.returns.first().map(|r| r.la_code.to_string()))
        .or_else(|| store.las().into_iter().next())
        .ok_or_else(|| PipelineError::NothingRead(outcome.report_stem.with_extension("csv")))
}

/// The ingest step's line in the summary.
fn ingest_step(store: &Store, outcome: &IngestOutcome) -> StepReport {
    let counts = outcome.report.counts.values();
    StepReport {
        step: "ingest",
        detail: format!(
            "{} returns, {} rows kept, {} rejected; {} errors, {} warnings",
            outcome.returns.len(),
            counts.clone().map(|c| c.kept).sum::<u64>(),
            counts.map(|c| c.rejected).sum::<u64>(),
            outcome.report.errors(),
            outcome.report.warnings()
        ),
        outputs: vec![
            store.current_dir().join("history"),
            outcome.report_stem.with_extension("csv"),
        ],
    }
}

/// What the analysis steps produced, for the packs.
#[derive(Debug)]
pub struct Analysis {
    /// The resolved configuration the steps ran with (catalogue, reference tables, packs).
    pub plan: Plan,
    /// Every LA's figures (the long table).
    pub values: DataFrame,
    /// The LA's comparison with published benchmarks.
    pub published: DataFrame,
    /// The comparison among the LAs held (when there are several).
    pub computed: Option<DataFrame>,
    pub context: context::Context,
    pub steps: Vec<StepReport>,
    /// The LA analysed, and its name.
    pub la: String,
    pub la_name: String,
    /// The LA's own figures (the long table's rows for it).
    pub mine: DataFrame,
    /// Published benchmarks (what `published` was compared with).
    pub benchmarks: Benchmarks,
    pub options: CompareOptions,
    /// The LA's children behind each figure, by indicator (child-level).
    pub drilldown: BTreeMap<String, DataFrame>,
    /// The figures the DfE errors in the LA's latest returns move (for the dashboard).
    pub validation: Vec<crate::indicators::impact::Moved>,
}

/// Indicators → benchmarks → context → Annex A for the LA, over the history store, writing
/// under `out` (the config resolved here; `cspi run` resolves it once and calls the steps).
pub fn analyse(
    config: &Config,
    store: &Store,
    la: &str,
    out: &Path,
    progress: &dyn Progress,
) -> Result<Analysis, PipelineError> {
    let mut plan = Plan::resolve(config)?;
    plan.out = out.to_path_buf();
    analyse_plan(plan, store, la, progress)
}

/// The analysis steps in order, each from [`steps`].
fn analyse_plan(
    plan: Plan,
    store: &Store,
    la: &str,
    progress: &dyn Progress,
) -> Result<Analysis, PipelineError> {
    // The LA names the context and Annex A files: validated before anything is written.
    let la = LaCode::parse(la)
        .map_err(|e| PipelineError::Config("la".into(), e.to_string()))?
        .to_string();
    let la = la.as_str();
    let out = plan.out.clone();
    let facts = Facts::new(store, &plan.tables);
    let (first, last) = evaluate::years_held(&facts)?;
    let date = plan
        .date
        .unwrap_or_else(|| crate::domain::dates::collection_year_end(last));
    let periods = evaluate::standard_periods(first.max(last - 4), last, plan.months, Some(date));
    progress.step("computing the indicators", None);
    let options = Options {
        drilldown: true,
        only: vec![],
    };
    let (result, outputs) =
        steps::indicators(&plan, &facts, &periods, &options, &out.join("indicators"))?;
    let held = store.las().len();
    let mut reports = vec![StepReport {
        step: "indicators",
        detail: format!(
            "{} figures: {} indicators, {} periods, {held} LAs (drill-down lists are child-level)",
            result.values.height(),
            plan.catalogue.definitions.len(),
            periods.len(),
        ),
        outputs,
    }];

    progress.step("benchmarking", None);
    let benchmarked = benchmark(&plan, &result.values, la, held, &out.join("comparison"))?;
    reports.push(benchmarked.report);

    let drilldown = result
        .drilldown
        .iter()
        .map(|(id, df)| Ok((id.clone(), only_las(df, la)?)))
        .collect::<Result<_, polars::prelude::PolarsError>>()?;

    let computed = steps::Computed {
        values: &result.values,
        periods: &periods,
    };
    let dir = out.join("context");
    let (section, outputs) = steps::context_section(&plan, store, la, date, Some(computed), &dir)?;
    reports.push(StepReport {
        step: "context",
        detail: format!(
            "inspection context section ({}) at {}, compared with {} ({} placeholders for local data)",
            plan.framework,
            section.date,
            section.previous,
            section.placeholders.len()
        ),
        outputs,
    });

    let (lists, path) = steps::annex_a(&plan, store, la, date, &out.join("annex_a"))?;
    reports.push(StepReport {
        step: "annex A",
        detail: format!(
            "{}: lists 3–10 at {date}: {} rows (CHILD-LEVEL: for the inspection team only)",
            plan.framework.definition().annex_a.title,
            lists.values().map(DataFrame::height).sum::<usize>()
        ),
        outputs: vec![path],
    });
    Ok(Analysis {
        la_name: plan.la_name(la),
        options: plan.compare_options(Some(la)),
        plan,
        values: result.values,
        published: benchmarked.published,
        computed: benchmarked.computed,
        context: section,
        steps: reports,
        la: la.to_string(),
        mine: benchmarked.mine,
        benchmarks: benchmarked.benchmarks,
        drilldown,
        validation: vec![],
    })
}

/// The rows of a long table for one LA.
fn only_las(df: &DataFrame, la: &str) -> polars::prelude::PolarsResult<DataFrame> {
    comparison::table::only_las(df, &[la.to_string()])
}

/// What the benchmarking step produced.
struct Benchmarked {
    mine: DataFrame,
    benchmarks: Benchmarks,
    published: DataFrame,
    computed: Option<DataFrame>,
    report: StepReport,
}

/// The LA against DfE's published figures and, when the store holds several LAs, every LA
/// against the others' computed figures.
fn benchmark(
    plan: &Plan,
    values: &DataFrame,
    la: &str,
    held: usize,
    dir: &Path,
) -> Result<Benchmarked, PipelineError> {
    let mine = only_las(values, la)?;
    let benchmarks = steps::benchmarks(plan, Source::Published, values)?;
    let (published, mut outputs) = steps::compare(plan, &mine, &benchmarks, Some(la), dir)?;
    let computed = if held > 1 {
        let b = steps::benchmarks(plan, Source::Computed, values)?;
        let (c, paths) = steps::compare(plan, values, &b, Some(la), dir)?;
        outputs.extend(paths);
        Some(c)
    } else {
        None
    };
    let report = StepReport {
        step: "benchmarks",
        detail: format!(
            "{} against published figures (SN model {}){}",
            published.height(),
            plan.sn_model,
            computed.as_ref().map_or(String::new(), |c| format!(
                ", {} among the {held} LAs held",
                c.height(),
            ))
        ),
        outputs,
    };
    Ok(Benchmarked {
        mine,
        benchmarks,
        published,
        computed,
        report,
    })
}

impl Analysis {
    /// What the packs are made from.
    pub fn pack_input(&self) -> PackInput<'_> {
        PackInput {
            la: &self.la,
            la_name: &self.la_name,
            catalogue: &self.plan.catalogue,
            comparison: &self.published,
            values: &self.mine,
            benchmarks: &self.benchmarks,
            index: &self.plan.index,
            options: &self.options,
            validation: &self.validation,
            framework: self.plan.framework,
        }
    }
}

/// The DfE validation report of the LA's latest return of each collection read by this run
/// (`<out>/validation/dfe_validation.*`, child-level) and the figures its errors move.
fn dfe_validation(
    plan: &Plan,
    store: &Store,
    outcome: &ingest::IngestOutcome,
    la: &str,
) -> Result<(StepReport, Vec<crate::indicators::impact::Moved>), PipelineError> {
    use crate::ingest::returns::ReturnKey;
    let mut latest: std::collections::BTreeMap<_, (ReturnKey, Vec<String>)> =
        std::collections::BTreeMap::new();
    for (key, files) in &outcome.return_files {
        if key.la_code.as_str() != la {
            continue;
        }
        let entry = latest
            .entry(key.collection.name())
            .or_insert_with(|| (*key, files.clone()));
        if entry.0.year < key.year {
            *entry = (*key, files.clone());
        }
    }
    let returns: Vec<(ReturnKey, Vec<String>)> = latest.into_values().collect();
    let mut report = crate::ingest::report::Report::default();
    report.issues = outcome
        .report
        .issues
        .iter()
        .filter(|i| returns.iter().any(|(_, files)| i.in_files(files)))
        .cloned()
        .collect();
    let moved = crate::validate::moved_figures(&plan.catalogue, store, &report, &returns)?;
    // The cross-year rules ran where the store held the year before (ingest reads it from there).
    let held = store.returns_held();
    let outputs = crate::render::validation::write(
        &plan.out.join("validation"),
        &crate::render::validation::ValidationInput {
            report: &report,
            returns: &returns,
            moved: &moved,
            previous_read: returns.iter().all(|(k, _)| {
                held.iter().any(|h| {
                    h.la_code == k.la_code && h.collection == k.collection && h.year == k.year - 1
                })
            }),
            as_at: None,
        },
    )?;
    let detail = format!(
        "{} DfE error rows and {} query rows in the latest returns; {} figures moved (child-level report)",
        report.with_severity(crate::ingest::report::Severity::DfeError),
        report.with_severity(crate::ingest::report::Severity::DfeQuery),
        moved.iter().map(|(_, m)| m.len()).sum::<usize>()
    );
    Ok((
        StepReport {
            step: "dfe validation",
            detail,
            outputs,
        },
        moved.into_iter().flat_map(|(_, m)| m).collect(),
    ))
}

/// The packs the plan resolved (`charts/*.yaml`, or the config's `packs:` folder) for the
/// analysed LA, every format each asks for, under `<out>/packs`.
pub fn render_packs(
    analysis: &Analysis,
    progress: &dyn Progress,
) -> Result<StepReport, PipelineError> {
    let packs = &analysis.plan.packs;
    progress.step("rendering the packs", Some(packs.len() as u64));
    let input = analysis.pack_input();
    let dir = analysis.plan.out.join("packs");
    let mut outputs = vec![];
    for pack in packs {
        let content = crate::render::content::build(pack, &input)?;
        for format in &pack.formats {
            outputs.extend(crate::render::write_pack(
                pack,
                &input,
                &content,
                &analysis.drilldown,
                *format,
                &dir,
            )?);
        }
        // The children behind the lines of enquiry: child-level, beside (never inside) the pack.
        if !pack.is_public()
            && let Some(path) = crate::render::enquiry::write_children(
                &pack.id,
                &content.enquiries,
                &analysis.drilldown,
                &dir,
            )?
        {
            outputs.push(path);
        }
        progress.tick(&pack.id);
    }
    Ok(StepReport {
        step: "packs",
        detail: format!(
            "{} outputs from the pack definitions in charts/ (PNG: a folder per pack)",
            outputs.len()
        ),
        outputs,
    })
}
