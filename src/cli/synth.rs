//! `cspi synth`: synthetic returns for any LAs and years.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use cspi::ingest::reference::ReferenceIndex;
use cspi::synth::{self, Recipe, Ssda903Format};
use indicatif::{ProgressBar, ProgressStyle};

/// Generate complete SSDA903 and CIN census returns, deterministic from a seed and calibrated
/// to each LA's population and published figures. Without --la/--all, generates the embedded
/// default (data/default.yaml: Lincolnshire and its 10 statistical neighbours, 2021–2025).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output folder: <out>/<la_code>/<year>/…
    #[arg(long, default_value = "out/synthetic")]
    out: PathBuf,
    /// LA codes (3-digit DfE codes), comma-separated.
    #[arg(long, value_delimiter = ',')]
    la: Vec<String>,
    /// Add each --la's 10 statistical neighbours (2021 or 2025 model).
    #[arg(long)]
    neighbours: Option<i32>,
    /// All 153 current LAs (national scale).
    #[arg(long)]
    all: bool,
    /// Collection years, e.g. 2021-2025 (years end 31 March).
    #[arg(long)]
    years: Option<String>,
    /// Random seed: the same seed and options give byte-identical files.
    #[arg(long)]
    seed: Option<u64>,
    /// 903 layout: csv (one file per table) or xml.
    #[arg(long, value_enum)]
    format: Option<Layout>,
    /// Write the last year as an in-year extract up to this date (YYYY-MM-DD).
    #[arg(long)]
    as_at: Option<NaiveDate>,
    /// A recipe file (YAML, as data/default.yaml) instead of the options above.
    #[arg(long)]
    recipe: Option<PathBuf>,
    /// Instead of writing returns to --out, generate them in a scratch folder, compute every
    /// indicator with a published DfE measure from them and print the calibration table: per
    /// indicator, the generated and published figures (medians over the LA-years) and the bias
    /// (median of (generated − published) ÷ published). Also written to
    /// <out>/calibration_report.csv.
    #[arg(long)]
    report: bool,
    /// With --report: generate the recipe this many times (its seed, seed + 1, …) and pool their
    /// LA-years, so that indicators counting a few children per LA-year are not read off one
    /// lucky or unlucky draw.
    #[arg(long, default_value_t = 1, requires = "report")]
    seeds: u32,
}

/// The 903 layouts `--format` names.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Layout {
    /// One CSV file per table.
    Csv,
    /// One EXPSSDA903 XML file.
    Xml,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut recipe = match &args.recipe {
        Some(path) => Recipe::from_yaml(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => Recipe::embedded_default(),
    };
    let index = ReferenceIndex::embedded();
    if args.all {
        recipe.las = index.current_las().map(|l| l.code.clone()).collect();
    } else if !args.la.is_empty() {
        let mut las = args.la.clone();
        if let Some(model) = args.neighbours {
            for la in &args.la {
                las.extend(index.neighbours(model, la).iter().cloned());
            }
        }
        las.dedup();
        recipe.las = las;
    }
    if let Some(years) = &args.years {
        let (a, b) = years.split_once('-').unwrap_or((years, years));
        recipe.first_year = a
            .trim()
            .parse()
            .context("--years: expected e.g. 2021-2025")?;
        recipe.last_year = b
            .trim()
            .parse()
            .context("--years: expected e.g. 2021-2025")?;
    }
    if let Some(seed) = args.seed {
        recipe.seed = seed;
    }
    if let Some(f) = args.format {
        recipe.format = match f {
            Layout::Csv => Ssda903Format::Csv,
            Layout::Xml => Ssda903Format::Xml,
        };
    }
    if let Some(as_at) = args.as_at {
        let end = cspi::domain::dates::collection_year(as_at);
        if end != recipe.last_year {
            bail!(
                "--as-at {as_at} is not in the last collection year {}",
                recipe.last_year
            );
        }
        recipe.as_at = Some(as_at);
    }
    if args.report {
        return report(&recipe, args.seeds, &args.out);
    }
    let bar = ProgressBar::new(recipe.las.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} LAs {msg}").expect("valid template"),
    );
    let started = Instant::now();
    let summary = synth::generate(&recipe, &args.out, &|la| {
        bar.set_message(la.to_string());
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    println!(
        "{} LAs × {} years ({}–{}): {} files, {:.1} MB in {:.1} s ({} children, {} CIN episodes, {} periods of care) → {}",
        summary.las,
        recipe.last_year - recipe.first_year + 1,
        recipe.first_year,
        recipe.last_year,
        summary.files,
        summary.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        summary.children,
        summary.cin_episodes,
        summary.care_periods,
        args.out.display()
    );
    Ok(())
}

fn report(recipe: &Recipe, seeds: u32, out: &std::path::Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let lines = cspi::calibration::report(recipe, seeds)?;
    println!(
        "{:<40} {:<34} {:>8} {:>10} {:>10} {:>7} {:>9}",
        "indicator", "published measure", "LA-years", "generated", "published", "bias", "mean bias"
    );
    let show = |v: Option<f64>, dp: usize| v.map_or("-".to_string(), |v| format!("{v:.dp$}"));
    let percent = |b: Option<f64>| b.map_or("-".to_string(), |b| format!("{:+.0}%", 100.0 * b));
    for l in &lines {
        println!(
            "{:<40} {:<34} {:>8} {:>10} {:>10} {:>7} {:>9}",
            l.indicator,
            l.measure,
            l.la_years,
            show(l.generated, 1),
            show(l.published, 1),
            percent(l.bias),
            percent(l.mean_bias),
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let path = out.join("calibration_report.csv");
    cspi::calibration::write_csv(&lines, &path)?;
    let within = lines
        .iter()
        .filter(|l| l.bias.is_some_and(|b| b.abs() <= 0.10))
        .count();
    let measured = lines.iter().filter(|l| l.bias.is_some()).count();
    println!(
        "{within} of {measured} benchmarked indicators within 10% ({} LAs, {}–{}, {:.1} s) → {}",
        recipe.las.len(),
        recipe.first_year,
        recipe.last_year,
        started.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(())
}
