//! `cspi context`: the inspection report's "Information about this local authority area".

use std::path::PathBuf;

use chrono::NaiveDate;
use cspi::compare::context::{self, CompareWith};
use cspi::domain::framework::Framework;
use cspi::domain::la::LaCode;
use cspi::ingest::store::Store;
use cspi::pipeline::{Config, Plan, steps};

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
    compare_with: String,
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

/// Checks the flag as the config's `compare_with:` is checked (the plan parses it again).
fn compare_with(text: &str) -> Result<String, String> {
    CompareWith::parse(text)
        .map(|_| text.to_string())
        .ok_or_else(|| format!("`{text}`: expected published, last-31-march or a date YYYY-MM-DD"))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.help_keys {
        for (k, what) in context::LOCAL_KEYS {
            println!("{k:36} {what}");
        }
        return Ok(());
    }
    let framework = args
        .framework
        .unwrap_or_else(|| Framework::in_force_on(args.date));
    let plan = Plan::resolve(&Config {
        la: Some(args.la.to_string()),
        population: args.population,
        framework: Some(framework.id().to_string()),
        context_template: args.template,
        local_context: args.local,
        compare_with: Some(args.compare_with),
        ..Config::default()
    })?;
    let store = Store::open(&args.store)?;
    let (section, paths) =
        steps::context_section(&plan, &store, args.la.as_str(), args.date, None, &args.out)?;
    print!("{}", section.text());
    for p in paths {
        println!("  → {}", p.display());
    }
    Ok(())
}
