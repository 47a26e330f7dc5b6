//! `cspi compare`: the comparison table (neighbours, region, England, ranks, significance,
//! trends) for the LAs in the store.

use std::path::PathBuf;

use anyhow::bail;
use cspi::compare::Source;
use cspi::derive::{Facts, OnlyLas};
use cspi::indicators::evaluate::{self, Options};
use cspi::pipeline::{Config, steps};

use super::select::Selection;

/// Where the benchmarks come from (`--benchmarks`).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Benchmarks {
    /// DfE's published figures.
    Published,
    /// The engine's own figures for every LA in the store.
    Computed,
}

/// Compare each LA's figures with its statistical neighbours, region and England: from DfE's
/// published figures (default) or, when the store holds several LAs, from the engine's own
/// figures for all of them. Writes comparison_<source>.{parquet,csv}.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    select: Selection,
    /// Benchmarks from `published` DfE figures or `computed` from the LAs in the store.
    #[arg(long, value_enum, default_value_t = Benchmarks::Published)]
    benchmarks: Benchmarks,
    /// A folder of newer DfE downloads (LAIT bds_long*, EES CSVs) to use over the shipped
    /// published figures.
    #[arg(long)]
    published: Option<PathBuf>,
    /// Statistical neighbour model: 2021 or 2025.
    #[arg(long, default_value_t = 2025)]
    sn_model: i32,
    /// Use these neighbours instead of DfE's (comma-separated LA codes; one LA only).
    #[arg(long, value_delimiter = ',')]
    neighbours: Vec<String>,
    /// The inspection framework whose judgements label the rows (`judgement`): sif2015,
    /// ilacs2024, ilacs2026 (default: the current one).
    #[arg(long, value_parser = super::framework)]
    framework: Option<cspi::domain::framework::Framework>,
    /// Output folder.
    #[arg(long, default_value = "out/comparison")]
    out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if !args.neighbours.is_empty() && args.select.la.len() != 1 {
        bail!("--neighbours needs exactly one --la");
    }
    let own_la = args.select.la.first().map(|l| l.to_string());
    let plan = args.select.plan(Config {
        la: own_la.clone(),
        published: args.published.clone(),
        neighbour_model: Some(args.sn_model),
        neighbours: (!args.neighbours.is_empty()).then(|| args.neighbours.clone()),
        framework: args.framework.map(|f| f.id().to_string()),
        ..Config::default()
    })?;
    let store = args.select.store()?;
    let options = Options {
        drilldown: false,
        only: args.select.only.clone(),
    };
    // Computed benchmarks need every LA's figures, not only the ones reported on.
    let source = match args.benchmarks {
        Benchmarks::Published => Source::Published,
        Benchmarks::Computed => Source::Computed,
    };
    let evaluated = match source {
        Source::Published => args.select.source(&store),
        Source::Computed => OnlyLas {
            inner: &store,
            las: store.las(),
        },
    };
    let facts = Facts::new(&evaluated, &plan.tables);
    let periods = args.select.periods(&facts)?;
    let values = evaluate::evaluate(&plan.catalogue, &facts, &periods, &options)?.values;
    let benchmarks = steps::benchmarks(&plan, source, &values)?;
    let values = if args.select.la.is_empty() {
        values
    } else {
        let las: Vec<String> = args.select.la.iter().map(|l| l.to_string()).collect();
        cspi::compare::table::only_las(&values, &las)?
    };
    let (table, paths) = steps::compare(&plan, &values, &benchmarks, own_la.as_deref(), &args.out)?;
    println!(
        "{} comparisons ({} benchmarks, SN model {})",
        table.height(),
        benchmarks.source.name(),
        args.sn_model
    );
    for p in paths {
        println!("  → {}", p.display());
    }
    Ok(())
}
