//! `cspi context`: the inspection report's "Information about this local authority area".

use std::path::PathBuf;

use anyhow::Context as _;
use chrono::NaiveDate;
use cspi::compare::context::{self, CompareWith, LocalContext};
use cspi::derive::{Facts, OnlyLas};
use cspi::domain::framework::Framework;
use cspi::domain::la::LaCode;
use cspi::indicators::catalogue::Catalogue;
use cspi::ingest::inspections::Inspections;
use cspi::ingest::reference::{ReferenceIndex, ReferenceTables};
use cspi::ingest::store::Store;

/// Draft the context section of an inspection report for an LA at a date, from the history
/// store, with the wording of a framework's template (or your own copy of one); figures only
/// local records hold are left as visible [[placeholders]] unless given in --local (YAML: key:
/// text; `cspi context --help-keys` lists the keys).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The history store.
    #[arg(long, default_value = "out/store")]
    store: PathBuf,
    /// The LA (3-digit code).
    #[arg(long, value_parser = super::la_code)]
    la: LaCode,
    /// The date of the figures (the inspection's data date).
    #[arg(long)]
    date: NaiveDate,
    /// Compare with: `published` (the last 31 March DfE had published by the date, as the
    /// reports do), `last-31-march`, or a date (YYYY-MM-DD).
    #[arg(long, default_value = "published", value_parser = compare_with)]
    compare_with: CompareWith,
    /// The framework whose template to use: sif2015, ilacs2024, ilacs2026 (default: the one in
    /// force at --date).
    #[arg(long, value_parser = super::framework)]
    framework: Option<Framework>,
    /// Your own template (a copy of data/frameworks/<framework>/context.yaml, edited); its
    /// placement groups inline (`groups:`) or the framework's.
    #[arg(long)]
    template: Option<PathBuf>,
    /// Local figures for the placeholders (YAML map).
    #[arg(long)]
    local: Option<PathBuf>,
    /// The population for rates per 10,000 (CSV: la_code, collection_year or mid_year,
    /// population_0_17[, estimate]) in place of the shipped ONS series.
    #[arg(long)]
    population: Option<PathBuf>,
    /// Output folder.
    #[arg(long, default_value = "out/context")]
    out: PathBuf,
    /// List the placeholder keys --local can fill, and exit.
    #[arg(long)]
    help_keys: bool,
}

fn compare_with(text: &str) -> Result<CompareWith, String> {
    CompareWith::parse(text)
        .ok_or_else(|| format!("`{text}`: expected published, last-31-march or a date YYYY-MM-DD"))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.help_keys {
        for (k, what) in context::LOCAL_KEYS {
            println!("{k:36} {what}");
        }
        return Ok(());
    }
    let local: LocalContext = match &args.local {
        Some(p) => serde_yaml::from_str(
            &std::fs::read_to_string(p).with_context(|| p.display().to_string())?,
        )
        .with_context(|| format!("{}: expected a map of key: text", p.display()))?,
        None => LocalContext::new(),
    };
    let framework = args
        .framework
        .unwrap_or_else(|| Framework::in_force_on(args.date));
    let template = context::load_template(framework, args.template.as_deref())?;
    let reference = match &args.population {
        Some(p) => ReferenceTables::embedded().with_population(p)?,
        None => ReferenceTables::embedded().clone(),
    };
    let index = ReferenceIndex::new(&reference)?;
    let store = Store::open(&args.store)?;
    let la = args.la.to_string();
    let only = OnlyLas {
        inner: &store,
        las: vec![la.clone()],
    };
    let facts = Facts::new(&only, &reference);
    let section = context::context(
        &Catalogue::embedded()?,
        &facts,
        &index,
        &context::Request {
            la: &la,
            date: args.date,
            compare: args.compare_with,
            template: &template,
            local: &local,
            inspections: Inspections::embedded(),
        },
    )?;
    let paths = context::write(&section, &args.out)?;
    print!("{}", section.text());
    for p in paths {
        println!("  → {}", p.display());
    }
    Ok(())
}
