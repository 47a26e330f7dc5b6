//! `cspi indicators`: read the catalogue.

use std::path::PathBuf;

use anyhow::bail;
use cspi::derive::{FactTable, Facts};
use cspi::indicators::catalogue::Catalogue;

/// List the indicator catalogue, show one definition, or list the fact tables and their
/// columns (what an indicator's expressions can use).
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// One line per indicator.
    List {
        /// Also load local definitions from this folder.
        #[arg(long)]
        catalogue: Option<PathBuf>,
    },
    /// An indicator's definition, as its YAML file says it.
    Show {
        id: String,
        #[arg(long)]
        catalogue: Option<PathBuf>,
    },
    /// How the catalogue covers DfE's LAIT children's social care measures: each measure
    /// defined (with the definitions), not computable from the returns or still to define
    /// (with the reason), or published only (workforce, finance); then the counts by topic.
    Coverage {
        /// Only measures with this status: defined, not_computable, pending, published_only,
        /// unaccounted.
        #[arg(long)]
        status: Option<String>,
    },
    /// The fact tables and their columns.
    Facts {
        /// One fact table only.
        table: Option<String>,
    },
}

fn load(dir: &Option<PathBuf>) -> anyhow::Result<Catalogue> {
    Ok(match dir {
        Some(d) => Catalogue::with_local(d)?,
        None => Catalogue::embedded()?,
    })
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::List { catalogue } => {
            let c = load(&catalogue)?;
            println!(
                "{:<36} {:<37} {:<13} {:<8} title",
                "id", "area", "unit", "polarity"
            );
            for d in &c.definitions {
                println!(
                    "{:<36} {:<37} {:<13} {:<8} {}",
                    d.id,
                    d.area.title(),
                    d.unit.name(),
                    d.polarity.name(),
                    d.short_title
                );
            }
            println!("{} indicators", c.definitions.len());
        }
        Command::Show { id, catalogue } => {
            let c = load(&catalogue)?;
            let Some(file) = c.files.get(&id) else {
                bail!("no indicator `{id}`: see `cspi indicators list`")
            };
            println!("# {file}");
            print!("{}", serde_yaml::to_string(c.get(&id).expect("listed"))?);
        }
        Command::Coverage { status } => {
            let covered = cspi::indicators::coverage::coverage(&Catalogue::embedded()?)?;
            println!(
                "{:<28} {:<22} {:<15} what",
                "LAIT measure", "topic", "status"
            );
            for c in &covered {
                if status.as_deref().is_some_and(|s| s != c.status.word()) {
                    continue;
                }
                let what = match &c.status {
                    cspi::indicators::coverage::Status::Defined(ids) => ids.join(", "),
                    cspi::indicators::coverage::Status::Listed(_, reason) => reason.clone(),
                    _ => c.measure.clone(),
                };
                println!(
                    "{:<28} {:<22} {:<15} {what}",
                    c.key,
                    c.topic,
                    c.status.word()
                );
            }
            println!();
            for ((topic, word), n) in cspi::indicators::coverage::summary(&covered) {
                println!("{topic}: {n} {word}");
            }
        }
        Command::Facts { table } => {
            for t in FactTable::ALL.iter().copied() {
                if table.as_deref().is_some_and(|name| name != t.name()) {
                    continue;
                }
                println!("{}:", t.name());
                for (name, dtype) in Facts::schema(t)?.iter() {
                    println!("  {name:<36} {dtype}");
                }
            }
        }
    }
    Ok(())
}
