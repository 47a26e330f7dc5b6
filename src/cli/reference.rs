//! `cspi reference build`: the compact reference tables from the public DfE files.

use std::path::PathBuf;

use anyhow::Context;
use cspi::ingest::{inspections, reference};

/// Build the reference tables (LAs, statistical neighbours, populations, published figures)
/// from the public DfE files in a folder: ../shared/reference, or the same files downloaded from
/// DfE (EES CSVs, the LAIT bds_long file and dictionary, the SN groups, the ONS population).
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Read the public files and write the tables (data/reference by default).
    Build {
        /// Folder holding the public files (searched recursively).
        #[arg(long)]
        from: PathBuf,
        /// Where to write the tables.
        #[arg(long, default_value = "data/reference")]
        out: PathBuf,
    },
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Build { from, out } => {
            let mut tables = reference::build(&from).with_context(|| {
                format!("building the reference tables from {}", from.display())
            })?;
            tables
                .write(&out)
                .with_context(|| format!("writing {}", out.display()))?;
            // LAIT's measure list, what `cspi indicators coverage` counts the catalogue against.
            match reference::lait::build_lait_measures(&from)? {
                Some(mut df) => {
                    let dest = out.join("lait_measures.csv");
                    cspi::domain::io::write_csv(&mut df, &dest)
                        .with_context(|| dest.display().to_string())?;
                    println!("{} LAIT measures from the data dictionary", df.height());
                }
                None => println!(
                    "no lait_data_dictionary.csv under {}: lait_measures.csv left as it is",
                    from.display()
                ),
            }
            // Ofsted's inspection outcomes, for the context section's previous inspections.
            let ofsted = inspections::find(&from);
            match ofsted {
                Some(path) => {
                    let map = tables.la_of_ons()?;
                    let mut df = inspections::build(&path, &|ons| map.get(ons).cloned())
                        .with_context(|| path.display().to_string())?;
                    let dest = out.join("inspections.csv");
                    cspi::domain::io::write_csv(&mut df, &dest)
                        .with_context(|| dest.display().to_string())?;
                    println!(
                        "{} Ofsted inspections and visits from {}",
                        df.height(),
                        path.display()
                    );
                }
                None => println!(
                    "no LA_Inspection_Outcomes_*.ods under {}: inspections.csv left as it is",
                    from.display()
                ),
            }
            println!(
                "{} LAs, {} neighbour links, {} population rows, {} published figures ({} measures) written to {}",
                tables.las.height(),
                tables.sn_groups.height(),
                tables.population.height(),
                tables.published.height(),
                tables.measures.height(),
                out.display()
            );
            if out.starts_with("data") || out.ends_with("data/reference") {
                println!("rebuild cspi (cargo build) to embed the new tables");
            }
            Ok(())
        }
    }
}
