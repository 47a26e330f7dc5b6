//! The main job, `cspi run`: ingest → indicators → benchmarks → packs in one call.
//!
//! This module sits above the layers and only wires them together; each step's work is in its
//! layer. With no configuration it runs on the embedded default data: the synthetic returns of
//! `data/default.yaml`, generated deterministically on first run into `<out>/default-data`.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::DataFrame;
use serde::Deserialize;
use thiserror::Error;

use crate::compare::context::{self, CompareWith, LocalContext};
use crate::compare::{self as comparison, Benchmarks, CompareOptions};
use crate::derive::Facts;
use crate::domain::framework::Framework;
use crate::domain::la::LaCode;
use crate::indicators::catalogue::Catalogue;
use crate::indicators::evaluate::{self, Options};
use crate::indicators::output;
use crate::ingest::reference::{ReferenceIndex, ReferenceTables};
use crate::ingest::returns::Hints;
use crate::ingest::store::Store;
use crate::ingest::{self, IngestError, IngestOutcome};
use crate::render::content::PackInput;
use crate::render::packs::Pack;
use crate::synth::{self, Recipe};

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
    let configured_la = config.la_code()?;
    let out = config.out_dir();
    let inputs = if config.inputs.is_empty() {
        vec![ensure_default_data(&out, progress)?]
    } else {
        config.inputs.clone()
    };
    progress.step("reading and validating the returns", None);
    let store = Store::new(out.join("store"));
    let outcome = ingest::ingest(&inputs, &store, &Hints::default())?;
    let la = configured_la
        .map(|la| la.to_string())
        .or_else(|| {
            Recipe::embedded_default()
                .las
                .first()
                .cloned()
                .filter(|_| config.inputs.is_empty())
        })
        .or_else(|| outcome.returns.first().map(|r| r.0.to_string()))
        .or_else(|| store.las().into_iter().next())
        .ok_or_else(|| PipelineError::NothingRead(outcome.report_stem.with_extension("csv")))?;
    let mut steps = vec![StepReport {
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
            store.current_dir().join("history"),
            outcome.report_stem.with_extension("csv"),
        ],
    }];
    let mut analysis = analyse(config, &store, &la, &out, progress)?;
    steps.extend(analysis.steps.iter().cloned());
    progress.step("what the DfE errors move", None);
    let (step, moved) = dfe_validation(&analysis.catalogue, &store, &outcome, &la, &out)?;
    analysis.validation = moved;
    steps.push(step);
    steps.push(render_packs(config, &analysis, &out, progress)?);
    Ok(RunOutcome {
        la,
        ingest: outcome,
        steps,
    })
}

/// What the analysis steps produced, for the packs.
#[derive(Debug)]
pub struct Analysis {
    pub catalogue: Catalogue,
    /// Every LA's figures (the long table).
    pub values: DataFrame,
    /// The LA's comparison with published benchmarks.
    pub published: polars::prelude::DataFrame,
    /// The comparison among the LAs held (when there are several).
    pub computed: Option<polars::prelude::DataFrame>,
    pub context: context::Context,
    pub steps: Vec<StepReport>,
    /// The LA analysed, and its name.
    pub la: String,
    pub la_name: String,
    /// The LA's own figures (the long table's rows for it).
    pub mine: DataFrame,
    /// Published benchmarks (what `published` was compared with).
    pub benchmarks: Benchmarks,
    pub index: ReferenceIndex,
    pub options: CompareOptions,
    /// The LA's children behind each figure, by indicator (child-level).
    pub drilldown: std::collections::BTreeMap<String, DataFrame>,
    /// The figures the DfE errors in the LA's latest returns move (for the dashboard).
    pub validation: Vec<crate::indicators::impact::Moved>,
    /// The inspection framework of the run.
    pub framework: Framework,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> PipelineError + '_ {
    move |e| PipelineError::Io(path.to_path_buf(), e)
}

/// Indicators → benchmarks → context for the LA, over the history store.
pub fn analyse(
    config: &Config,
    store: &Store,
    la: &str,
    out: &Path,
    progress: &dyn Progress,
) -> Result<Analysis, PipelineError> {
    // The LA names the context and Annex A files: validated before anything is written.
    let la = LaCode::parse(la)
        .map_err(|e| PipelineError::Config("la".into(), e.to_string()))?
        .to_string();
    let la = la.as_str();
    let catalogue = match &config.local_indicators {
        Some(dir) => Catalogue::with_local(dir)?,
        None => Catalogue::embedded()?,
    };
    // The user's population (if any) and newer published figures, once, for every step.
    let reference = match &config.population {
        Some(p) => ReferenceTables::embedded().with_population(p)?,
        None => ReferenceTables::embedded().clone(),
    };
    let tables = match &config.published {
        Some(dir) => reference.with_published(dir)?,
        None => reference,
    };
    let facts = Facts::new(store, &tables);
    let (first, last) = evaluate::years_held(&facts)?;
    let date = config
        .date
        .unwrap_or_else(|| crate::domain::dates::collection_year_end(last));
    let periods = evaluate::standard_periods(
        first.max(last - 4),
        last,
        config.months.unwrap_or(24),
        Some(date),
    );
    progress.step("computing the indicators", None);
    let result = evaluate::evaluate(
        &catalogue,
        &facts,
        &periods,
        &Options {
            drilldown: true,
            only: vec![],
        },
    )?;
    let dir = out.join("indicators");
    let mut outputs = output::write_values(&result.values, &dir)?;
    outputs.push(output::write_drilldown(&result.drilldown, &dir)?);
    let mut steps = vec![StepReport {
        step: "indicators",
        detail: format!(
            "{} figures: {} indicators, {} periods, {} LAs (drill-down lists are child-level)",
            result.values.height(),
            catalogue.definitions.len(),
            periods.len(),
            store.las().len()
        ),
        outputs,
    }];

    progress.step("benchmarking", None);
    let index = ReferenceIndex::new(&tables)?;
    let framework = config.framework()?;
    let mut options = CompareOptions {
        sn_model: config.neighbour_model.unwrap_or(2025),
        framework,
        ..CompareOptions::default()
    };
    if let Some(n) = &config.neighbours {
        options.neighbours.insert(la.to_string(), n.clone());
    }
    let mine = comparison::table::only_las(&result.values, &[la.to_string()])?;
    let published_benchmarks = Benchmarks::published(&catalogue, &tables, &index)?;
    let published =
        comparison::compare(&catalogue, &mine, &published_benchmarks, &index, &options)?;
    let dir = out.join("comparison");
    let mut outputs = comparison::table::write(&published, &dir, comparison::Source::Published)?;
    let computed = if store.las().len() > 1 {
        let b = Benchmarks::computed(&catalogue, &result.values, &index)?;
        let c = comparison::compare(&catalogue, &result.values, &b, &index, &options)?;
        outputs.extend(comparison::table::write(
            &c,
            &dir,
            comparison::Source::Computed,
        )?);
        Some(c)
    } else {
        None
    };
    steps.push(StepReport {
        step: "benchmarks",
        detail: format!(
            "{} against published figures (SN model {}){}",
            published.height(),
            options.sn_model,
            computed.as_ref().map_or(String::new(), |c| format!(
                ", {} among the {} LAs held",
                c.height(),
                store.las().len()
            ))
        ),
        outputs,
    });

    let la_name = index.la(la).map_or(la.to_string(), |l| l.name.clone());
    let drilldown: std::collections::BTreeMap<String, DataFrame> = result
        .drilldown
        .iter()
        .map(|(id, df)| {
            Ok((
                id.clone(),
                comparison::table::only_las(df, &[la.to_string()])?,
            ))
        })
        .collect::<Result<_, polars::prelude::PolarsError>>()?;

    let local: LocalContext = match &config.local_context {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(io(p))?;
            serde_yaml::from_str(&text)
                .map_err(|e| PipelineError::Config(p.clone(), e.to_string()))?
        }
        None => LocalContext::new(),
    };
    let only = crate::derive::OnlyLas {
        inner: store,
        las: vec![la.to_string()],
    };
    let facts_la = Facts::new(&only, &tables);
    let template = context::load_template(framework, config.context_template.as_deref())?;
    let section = context::context(
        &catalogue,
        &facts_la,
        &index,
        &context::Request {
            la,
            date,
            compare: config.compare_with()?,
            template: &template,
            local: &local,
            inspections: crate::ingest::inspections::Inspections::embedded(),
        },
    )?;
    let dir = out.join("context");
    let outputs = context::write(&section, &dir).map_err(io(&dir))?;
    steps.push(StepReport {
        step: "context",
        detail: format!(
            "inspection context section ({framework}) at {}, compared with {} ({} placeholders for local data)",
            section.date,
            section.previous,
            section.placeholders.len()
        ),
        outputs,
    });

    // The Annex A lists an inspection would ask for at the date: child-level, for the
    // performance team and inspectors only.
    let windows = crate::derive::annex_a::Windows::for_framework(date, framework);
    let lists = crate::derive::annex_a::produce(&facts_la, la, windows, None)?;
    let path = out
        .join("annex_a")
        .join(format!("annex_a_{la}_{date}.xlsx"));
    crate::render::annex_a::write_workbook(
        &path,
        &index.la(la).map_or(la.to_string(), |l| l.name.clone()),
        windows,
        &lists,
    )?;
    steps.push(StepReport {
        step: "annex A",
        detail: format!(
            "{}: lists 3–10 at {date}: {} rows (CHILD-LEVEL: for the inspection team only)",
            framework.definition().annex_a.title,
            lists.values().map(DataFrame::height).sum::<usize>()
        ),
        outputs: vec![path],
    });
    Ok(Analysis {
        catalogue,
        values: result.values,
        published,
        computed,
        context: section,
        steps,
        la: la.to_string(),
        la_name,
        mine,
        benchmarks: published_benchmarks,
        index,
        options,
        drilldown,
        validation: vec![],
        framework,
    })
}

impl Analysis {
    /// What the packs are made from.
    pub fn pack_input(&self) -> PackInput<'_> {
        PackInput {
            la: &self.la,
            la_name: &self.la_name,
            catalogue: &self.catalogue,
            comparison: &self.published,
            values: &self.mine,
            benchmarks: &self.benchmarks,
            index: &self.index,
            options: &self.options,
            validation: &self.validation,
            framework: self.framework,
        }
    }
}

/// The DfE validation report of the LA's latest return of each collection read by this run
/// (`<out>/validation/dfe_validation.*`, child-level) and the figures its errors move.
fn dfe_validation(
    catalogue: &crate::indicators::catalogue::Catalogue,
    store: &Store,
    outcome: &ingest::IngestOutcome,
    la: &str,
    out: &Path,
) -> Result<(StepReport, Vec<crate::indicators::impact::Moved>), PipelineError> {
    use crate::indicators::impact::ReturnKey;
    let mut latest: std::collections::BTreeMap<_, (ReturnKey, Vec<String>)> =
        std::collections::BTreeMap::new();
    for ((la_code, year, collection), files) in &outcome.return_files {
        if la_code.as_str() != la {
            continue;
        }
        let key = ReturnKey {
            la_code: *la_code,
            year: *year,
            collection: *collection,
        };
        let entry = latest
            .entry(collection.name())
            .or_insert_with(|| (key, files.clone()));
        if entry.0.year < *year {
            *entry = (key, files.clone());
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
    let moved = crate::validate::moved_figures(catalogue, store, &report, &returns)?;
    // The cross-year rules ran where the store held the year before (ingest reads it from there).
    let held = store.returns_held();
    let outputs = crate::render::validation::write(
        &out.join("validation"),
        &crate::render::validation::ValidationInput {
            report: &report,
            returns: &returns,
            moved: &moved,
            previous_read: returns.iter().all(|(k, _)| {
                held.iter()
                    .any(|h| h.0 == k.la_code.as_str() && h.1 == k.collection && h.2 == k.year - 1)
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

/// The packs (`charts/*.yaml`, or the config's `packs:` folder) for the analysed LA, every
/// format each asks for, under `<out>/packs`.
pub fn render_packs(
    config: &Config,
    analysis: &Analysis,
    out: &Path,
    progress: &dyn Progress,
) -> Result<StepReport, PipelineError> {
    let mut packs = match &config.packs {
        Some(dir) => Pack::from_dir(dir, &analysis.catalogue)?,
        None => Pack::embedded(&analysis.catalogue)?,
    };
    if let Some(wanted) = &config.build_packs {
        if let Some(unknown) = wanted.iter().find(|w| !packs.iter().any(|p| &p.id == *w)) {
            let ids: Vec<&str> = packs.iter().map(|p| p.id.as_str()).collect();
            return Err(PipelineError::Config(
                "build_packs".into(),
                format!("no pack `{unknown}` (the packs are {})", ids.join(", ")),
            ));
        }
        packs.retain(|p| wanted.contains(&p.id));
    }
    progress.step("rendering the packs", Some(packs.len() as u64));
    let input = analysis.pack_input();
    let dir = out.join("packs");
    let mut outputs = vec![];
    for mut pack in packs {
        // The config may raise a public pack's threshold; below the floor only as far as the
        // pack's own documented override allows.
        if pack.is_public()
            && let Some(n) = config.suppress_below
        {
            pack.set_suppress_below(n).map_err(|(field, why)| {
                PipelineError::Config(field.into(), format!("pack `{}`: {why}", pack.id))
            })?;
        }
        let content = crate::render::content::build(&pack, &input)?;
        for format in &pack.formats {
            outputs.extend(crate::render::write_pack(
                &pack,
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
