//! `cspi compute`: the indicator catalogue over the history store.

use std::path::PathBuf;
use std::time::Instant;

use cspi::derive::Facts;
use cspi::indicators::evaluate::Options;
use cspi::pipeline::{Config, steps};

use super::select::Selection;

/// Compute every indicator (or --only some) for each LA in the store: DfE years, snapshots at
/// 31 March, 3-year windows, and a rolling-12-month series; writes indicators.{parquet,csv} and,
/// in a separate child_level_drilldown/ folder, the children behind each figure.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    select: Selection,
    /// Output folder.
    #[arg(long, default_value = "out/indicators")]
    out: PathBuf,
    /// Do not write the child-level drill-down.
    #[arg(long)]
    no_drilldown: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let plan = args.select.plan(Config::default())?;
    let store = args.select.store()?;
    let source = args.select.source(&store);
    let facts = Facts::new(&source, &plan.tables);
    let periods = args.select.periods(&facts)?;
    let started = Instant::now();
    let options = Options {
        drilldown: !args.no_drilldown,
        only: args.select.only.clone(),
    };
    let (result, paths) = steps::indicators(&plan, &facts, &periods, &options, &args.out)?;
    println!(
        "{} figures ({} indicators × {} periods) in {:.2} s",
        result.values.height(),
        if args.select.only.is_empty() {
            plan.catalogue.definitions.len()
        } else {
            args.select.only.len()
        },
        periods.len(),
        started.elapsed().as_secs_f64()
    );
    for p in paths {
        if p.is_dir() {
            println!(
                "  → {} (child-level: not for member-facing packs)",
                p.display()
            );
        } else {
            println!("  → {}", p.display());
        }
    }
    Ok(())
}
