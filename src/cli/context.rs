//! `cspi context`: the inspection report's "Information about this local authority area".

use std::path::PathBuf;

use anyhow::Context as _;
use chrono::NaiveDate;
use cspi::compare::context::{self, LocalContext};
use cspi::derive::{Facts, OnlyLas};
use cspi::domain::la::LaCode;
use cspi::indicators::catalogue::Catalogue;
use cspi::ingest::reference::{ReferenceIndex, ReferenceTables};
use cspi::ingest::store::Store;

/// Draft the context section of an inspection report for an LA at a date, from the history
/// store; figures only local records hold are left as visible [[placeholders]] unless given in
/// --local (YAML: key: text; `cspi context --help-keys` lists the keys).
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
    /// Local figures for the placeholders (YAML map).
    #[arg(long)]
    local: Option<PathBuf>,
    /// Output folder.
    #[arg(long, default_value = "out/context")]
    out: PathBuf,
    /// List the placeholder keys --local can fill, and exit.
    #[arg(long)]
    help_keys: bool,
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
    let store = Store::open(&args.store)?;
    let la = args.la.to_string();
    let only = OnlyLas {
        inner: &store,
        las: vec![la.clone()],
    };
    let facts = Facts::new(&only, ReferenceTables::embedded());
    let section = context::context(
        &Catalogue::embedded()?,
        &facts,
        ReferenceIndex::embedded(),
        &la,
        args.date,
        &local,
    )?;
    let paths = context::write(&section, &args.out)?;
    print!("{}", section.text());
    for p in paths {
        println!("  → {}", p.display());
    }
    Ok(())
}
