//! `cspi annex-a`: produce the Ofsted Annex A workbook from the history, or read and analyse
//! the lists an LA sent.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use chrono::NaiveDate;
use cspi::domain::la::LaCode;
use cspi::indicators::annex_a::analyse;
use cspi::indicators::catalogue::Catalogue;
use cspi::indicators::output;
use cspi::ingest::annex_a::read_files;
use cspi::ingest::report::Report;
use cspi::ingest::store::Store;
use cspi::pipeline::{Config, Plan, steps};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Lists 3–10 for an inspection date from the history store (and local data), as an xlsx
    /// workbook with a cover sheet. CHILD-LEVEL output.
    Produce {
        #[arg(long, default_value = "out/store")]
        store: PathBuf,
        #[arg(long, value_parser = super::la_code)]
        la: LaCode,
        /// The inspection's data date.
        #[arg(long)]
        date: NaiveDate,
        /// A local-data mapping (YAML: file, child, columns: {field: header}).
        #[arg(long)]
        local: Vec<PathBuf>,
        /// The framework whose Annex A windows to use: sif2015, ilacs2024, ilacs2026 (default:
        /// the current one).
        #[arg(long, value_parser = super::framework)]
        framework: Option<cspi::domain::framework::Framework>,
        #[arg(long, default_value = "out/annex_a")]
        out: PathBuf,
    },
    /// Read Annex A lists (xlsx workbooks and/or CSVs), report problems, compute the
    /// indicators they support and a summary per list.
    Analyse {
        /// Workbooks or CSV files.
        files: Vec<PathBuf>,
        #[arg(long, value_parser = super::la_code)]
        la: LaCode,
        #[arg(long)]
        date: NaiveDate,
        #[arg(long, default_value = "out/annex_a_analysis")]
        out: PathBuf,
    },
}

/// `analyse` exits 3 (see [`super::Status`]) when a file given could not be read.
pub fn run(command: Command) -> anyhow::Result<super::Status> {
    let mut status = super::Status::Done;
    match command {
        Command::Produce {
            store,
            la,
            date,
            local,
            framework,
            out,
        } => {
            let store = Store::open(&store)?;
            if !store.las().contains(&la.to_string()) {
                bail!("the store holds no returns for LA {la}: run `cspi ingest` first");
            }
            let plan = Plan::resolve(&Config {
                la: Some(la.to_string()),
                annex_a_local: local,
                framework: framework.map(|f| f.id().to_string()),
                ..Config::default()
            })?;
            let (lists, path) = steps::annex_a(&plan, &store, la.as_str(), date, &out)?;
            for (n, df) in &lists {
                println!("list {n:>2}: {:>6} rows", df.height());
            }
            for issue in &plan.annex_a_report.issues {
                println!("{issue}");
            }
            println!(
                "  → {} (CHILD-LEVEL: for the inspection team only)",
                path.display()
            );
        }
        Command::Analyse {
            files,
            la,
            date,
            out,
        } => {
            let la = la.to_string();
            let mut report = Report::default();
            let lists = read_files(&files, &mut report);
            if lists.is_empty() {
                // Say why: an unreadable (corrupt) workbook is not "no list".
                let why: Vec<String> = report.issues.iter().map(|i| i.to_string()).collect();
                bail!(
                    "no Annex A list recognised in the files given:\n{}",
                    why.join("\n")
                );
            }
            let analysis = analyse(&Catalogue::embedded()?, &la, date, &lists)?;
            let mut summary = analysis.summary.clone();
            cspi::domain::io::write_csv(&mut summary, &out.join("list_summary.csv"))
                .context("writing the summary")?;
            output::write_values(&analysis.values, &out)?;
            let folder = output::write_drilldown(&analysis.drilldown, &out)?;
            cspi::ingest::store::write_report(&report, &out.join("validation"))?;
            println!("{}", analysis.summary);
            println!(
                "{} problems in the lists ({} errors); figures → {}; children → {}",
                report.issues.len(),
                report.errors(),
                out.join("indicators.csv").display(),
                folder.display()
            );
            status = super::incomplete_if(&cspi::ingest::files_not_read(&report));
        }
    }
    Ok(status)
}
