//! `cspi compare`: the comparison table (neighbours, region, England, ranks, significance,
//! trends) for the LAs in the store.

use std::path::PathBuf;

use anyhow::bail;
use cspi::compare::{self, Benchmarks, CompareOptions};
use cspi::derive::Facts;
use cspi::indicators::evaluate::{self, Options};
use cspi::ingest::reference::ReferenceIndex;

use super::select::Selection;

/// Compare each LA's figures with its statistical neighbours, region and England: from DfE's
/// published figures (default) or, when the store holds several LAs, from the engine's own
/// figures for all of them. Writes comparison_<source>.{parquet,csv}.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    select: Selection,
    /// Benchmarks from `published` DfE figures or `computed` from the LAs in the store.
    #[arg(long, default_value = "published")]
    benchmarks: String,
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
    let catalogue = args.select.catalogue()?;
    let store = args.select.store()?;
    let reference = args.select.reference()?;
    let tables = match &args.published {
        Some(dir) => reference.with_published(dir)?,
        None => reference,
    };
    let index = ReferenceIndex::new(&tables)?;
    let all = args.select.source(&store);
    let facts = Facts::new(&all, &tables);
    let periods = args.select.periods(&facts)?;
    // Computed benchmarks need every LA's figures, not only the ones reported on.
    let everyone = cspi::derive::OnlyLas {
        inner: &store,
        las: store.las(),
    };
    let facts_all = Facts::new(&everyone, &tables);
    let options = Options {
        drilldown: false,
        only: args.select.only.clone(),
    };
    let (values, benchmarks) = match args.benchmarks.as_str() {
        "published" => {
            let v = evaluate::evaluate(&catalogue, &facts, &periods, &options)?.values;
            (v, Benchmarks::published(&catalogue, &tables, &index)?)
        }
        "computed" => {
            let v = evaluate::evaluate(&catalogue, &facts_all, &periods, &options)?.values;
            let b = Benchmarks::computed(&catalogue, &v, &index)?;
            (v, b)
        }
        other => bail!("--benchmarks must be published or computed, not `{other}`"),
    };
    let mut compare_options = CompareOptions {
        sn_model: args.sn_model,
        framework: args
            .framework
            .unwrap_or(cspi::domain::framework::Framework::CURRENT),
        ..CompareOptions::default()
    };
    if !args.neighbours.is_empty() {
        if args.select.la.len() != 1 {
            bail!("--neighbours needs exactly one --la");
        }
        compare_options
            .neighbours
            .insert(args.select.la[0].to_string(), args.neighbours.clone());
    }
    let values = if args.select.la.is_empty() {
        values
    } else {
        let las: Vec<String> = args.select.la.iter().map(|l| l.to_string()).collect();
        cspi::compare::table::only_las(&values, &las)?
    };
    let table = compare::compare(&catalogue, &values, &benchmarks, &index, &compare_options)?;
    let paths = cspi::compare::table::write(&table, &args.out, benchmarks.source)?;
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
