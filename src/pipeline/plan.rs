//! The configuration and a command's flags resolved once, before any step runs (ripgrep's raw
//! arguments → resolved arguments): every default decided, every file the config names read and
//! checked. `cspi run` and the commands that do one of its steps (`compute`, `compare`,
//! `context`, `annex-a produce`) build a [`Config`] from their flags, resolve it here, and hand
//! the same [`Plan`] to the same step functions ([`super::steps`]), so a step cannot behave one
//! way under `cspi run` and another under its own command.

use std::path::PathBuf;

use chrono::NaiveDate;
use polars::prelude::DataFrame;

use super::{Config, PipelineError};
use crate::compare::CompareOptions;
use crate::compare::context::{self, CompareWith, LocalContext, Template};
use crate::domain::framework::Framework;
use crate::domain::la::LaCode;
use crate::indicators::catalogue::Catalogue;
use crate::ingest::reference::{ReferenceIndex, ReferenceTables};
use crate::ingest::report::Report;
use crate::render::packs::Pack;

/// Everything the steps read besides the store: resolved from a [`Config`] by [`Plan::resolve`].
#[derive(Debug)]
pub struct Plan {
    /// The LA the config names (`cspi run` falls back to the data's first LA).
    pub la: Option<LaCode>,
    /// Folders or files of returns; empty means the embedded default data.
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    /// The embedded catalogue, with the config's local definitions added.
    pub catalogue: Catalogue,
    /// The shipped reference tables with the user's population and newer published figures.
    pub tables: ReferenceTables,
    pub index: ReferenceIndex,
    pub framework: Framework,
    /// The reporting date, when the config sets one (else the last 31 March held).
    pub date: Option<NaiveDate>,
    /// Rolling 12-month periods to the last N month ends.
    pub months: usize,
    /// Statistical neighbour model, neighbour list and framework for the comparison (the
    /// config's own neighbours are keyed by LA once the LA is known: [`Plan::compare_options`]).
    pub sn_model: i32,
    pub neighbours: Option<Vec<String>>,
    pub context: ContextPlan,
    /// Local data for the Annex A lists, one row per child (several mappings combined), and
    /// the problems reading it.
    pub annex_a_local: Option<DataFrame>,
    pub annex_a_report: Report,
    /// The packs to build, with the config's suppression threshold applied to public ones.
    pub packs: Vec<Pack>,
}

/// What the inspection context section is drafted from.
#[derive(Debug)]
pub struct ContextPlan {
    pub compare: CompareWith,
    pub template: Template,
    pub local: LocalContext,
}

impl Plan {
    /// Resolves a config: loads the catalogue, reference tables, context template, local data
    /// and packs it names, so that a mistake in any of them stops the job before ingest starts.
    pub fn resolve(config: &Config) -> Result<Plan, PipelineError> {
        let catalogue = match &config.local_indicators {
            Some(dir) => Catalogue::with_local(dir)?,
            None => Catalogue::embedded()?,
        };
        let tables = reference_tables(config)?;
        let index = ReferenceIndex::new(&tables)?;
        let framework = config.framework()?;
        let context = ContextPlan {
            compare: config.compare_with()?,
            template: context::load_template(framework, config.context_template.as_deref())?,
            local: local_context(config)?,
        };
        let mut annex_a_report = Report::default();
        let annex_a_local =
            crate::ingest::annex_a::read_locals(&config.annex_a_local, &mut annex_a_report)
                .map_err(|e| PipelineError::Config("annex_a_local".into(), e))?;
        let packs = packs(config, &catalogue)?;
        Ok(Plan {
            la: config.la_code()?,
            inputs: config.inputs.clone(),
            out: config.out_dir(),
            catalogue,
            tables,
            index,
            framework,
            date: config.date,
            months: config.months.unwrap_or(24),
            sn_model: config.neighbour_model.unwrap_or(2025),
            neighbours: config.neighbours.clone(),
            context,
            annex_a_local,
            annex_a_report,
            packs,
        })
    }

    /// The comparison options for an LA: the plan's model and framework, and the config's own
    /// neighbour list for that LA when it gives one.
    pub fn compare_options(&self, la: Option<&str>) -> CompareOptions {
        let mut options = CompareOptions {
            sn_model: self.sn_model,
            framework: self.framework,
            ..CompareOptions::default()
        };
        if let (Some(la), Some(n)) = (la, &self.neighbours) {
            options.neighbours.insert(la.to_string(), n.clone());
        }
        options
    }

    /// The LA's name as the outputs print it (its code when the reference tables lack it).
    pub fn la_name(&self, la: &str) -> String {
        self.index.la(la).map_or(la.to_string(), |l| l.name.clone())
    }
}

/// The shipped tables with the user's population and newer published figures, once, for every
/// step.
fn reference_tables(config: &Config) -> Result<ReferenceTables, PipelineError> {
    let reference = match &config.population {
        Some(p) => ReferenceTables::embedded().with_population(p)?,
        None => ReferenceTables::embedded().clone(),
    };
    Ok(match &config.published {
        Some(dir) => reference.with_published(dir)?,
        None => reference,
    })
}

/// The local figures for the context section's placeholders (YAML map key: text).
fn local_context(config: &Config) -> Result<LocalContext, PipelineError> {
    let Some(p) = &config.local_context else {
        return Ok(LocalContext::new());
    };
    let text = std::fs::read_to_string(p).map_err(|e| PipelineError::Io(p.clone(), e))?;
    serde_yaml::from_str(&text)
        .map_err(|e| PipelineError::Config(p.clone(), format!("expected a map of key: text ({e})")))
}

/// The pack definitions the config asks for, with its suppression threshold on public packs
/// (below the floor only as far as a pack's own documented override allows).
fn packs(config: &Config, catalogue: &Catalogue) -> Result<Vec<Pack>, PipelineError> {
    let mut packs = match &config.packs {
        Some(dir) => Pack::from_dir(dir, catalogue)?,
        None => Pack::embedded(catalogue)?,
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
    if let Some(n) = config.suppress_below {
        for pack in packs.iter_mut().filter(|p| p.is_public()) {
            pack.set_suppress_below(n).map_err(|(field, why)| {
                PipelineError::Config(field.into(), format!("pack `{}`: {why}", pack.id))
            })?;
        }
    }
    Ok(packs)
}
