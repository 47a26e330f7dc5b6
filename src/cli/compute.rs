//! `cspi compute`: the indicator catalogue over the history store.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use cspi::derive::{Facts, OnlyLas};
use cspi::indicators::catalogue::Catalogue;
use cspi::indicators::evaluate::{self, Options};
use cspi::indicators::output;
use cspi::ingest::reference::ReferenceTables;
use cspi::ingest::store::Store;

/// Compute every indicator (or --only some) for each LA in the store: DfE years, snapshots at
/// 31 March, 3-year windows, and a rolling-12-month series; writes indicators.{parquet,csv} and,
/// in a separate child_level_drilldown/ folder, the children behind each figure.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The history store.
    #[arg(long, default_value = "out/store")]
    store: PathBuf,
    /// Only these LAs (3-digit codes, comma-separated).
    #[arg(long, value_delimiter = ',')]
    la: Vec<String>,
    /// DfE years, e.g. 2021-2025 (default: the years the store holds).
    #[arg(long)]
    years: Option<String>,
    /// Rolling 12-month periods to the last N month ends.
    #[arg(long, default_value_t = 24)]
    months: usize,
    /// Report up to this date (year to date, snapshot and the last rolling period).
    #[arg(long)]
    as_at: Option<NaiveDate>,
    /// Only these indicators (ids, comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// A folder of local indicator definitions (YAML) added to the catalogue.
    #[arg(long)]
    catalogue: Option<PathBuf>,
    /// Output folder.
    #[arg(long, default_value = "out/indicators")]
    out: PathBuf,
    /// Do not write the child-level drill-down.
    #[arg(long)]
    no_drilldown: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let catalogue = match &args.catalogue {
        Some(dir) => Catalogue::with_local(dir)?,
        None => Catalogue::embedded()?,
    };
    for id in &args.only {
        if catalogue.get(id).is_none() {
            bail!("no indicator `{id}`: see `cspi indicators list`");
        }
    }
    let store = Store::new(&args.store);
    if store.las().is_empty() {
        bail!(
            "the store {} holds no returns: run `cspi ingest` first",
            args.store.display()
        );
    }
    let reference = ReferenceTables::embedded();
    let only = OnlyLas {
        inner: &store,
        las: args.la.clone(),
    };
    let facts = if args.la.is_empty() {
        Facts::new(&store, reference)
    } else {
        Facts::new(&only, reference)
    };
    let (first, last) = match &args.years {
        Some(y) => {
            let (a, b) = y.split_once('-').unwrap_or((y, y));
            (
                a.trim().parse().context("--years")?,
                b.trim().parse().context("--years")?,
            )
        }
        None => evaluate::years_held(&facts)?,
    };
    let periods = evaluate::standard_periods(first, last, args.months, args.as_at);
    let started = Instant::now();
    let result = evaluate::evaluate(
        &catalogue,
        &facts,
        &periods,
        &Options {
            drilldown: !args.no_drilldown,
            only: args.only.clone(),
        },
    )?;
    let paths = output::write_values(&result.values, &args.out)?;
    println!(
        "{} figures ({} indicators × {} periods) in {:.2} s",
        result.values.height(),
        if args.only.is_empty() {
            catalogue.definitions.len()
        } else {
            args.only.len()
        },
        periods.len(),
        started.elapsed().as_secs_f64()
    );
    for p in paths {
        println!("  → {}", p.display());
    }
    if !args.no_drilldown {
        let folder = output::write_drilldown(&result.drilldown, &args.out)?;
        println!(
            "  → {} (child-level: not for member-facing packs)",
            folder.display()
        );
    }
    Ok(())
}
