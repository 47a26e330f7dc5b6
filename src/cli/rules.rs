//! `cspi rules`: the DfE validation rule catalogue — list it, show a rule, run its cases.

use std::path::PathBuf;

use anyhow::{anyhow, bail};
use cspi::ingest::dfe::RuleCatalogue;
use cspi::ingest::dfe::cases;
use cspi::ingest::returns::Collection;
use polars::prelude::{CsvWriter, IntoLazy, SerWriter};

/// The DfE validation rules cspi runs (`rules/`): list them, show one, or run their own cases
/// (a rule file is checked and its cases run without rebuilding cspi with `--dir rules`).
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// One line per rule and version: collection, code, years, severity, table, message.
    List {
        /// Read the rule files from this folder (laid out as `rules/`) instead of the built-in.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Only the rules in force in this collection year.
        #[arg(long)]
        year: Option<i32>,
    },
    /// A rule's file, as written.
    Show {
        code: String,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// The tables a rule's case reads, as built for it (views included): for writing rules.
    View {
        code: String,
        /// Which case (1-based; default the first).
        #[arg(long, default_value_t = 1)]
        case: usize,
        /// Only these tables (default: the rule's table and every table the case gives).
        #[arg(long)]
        table: Vec<String>,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Run the rules' own cases; exits non-zero when a case fails or a rule lacks cases.
    Test {
        /// Only these rule codes.
        codes: Vec<String>,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

fn load(dir: &Option<PathBuf>) -> anyhow::Result<std::borrow::Cow<'static, RuleCatalogue>> {
    Ok(match dir {
        Some(d) => std::borrow::Cow::Owned(RuleCatalogue::from_dir(d)?),
        None => std::borrow::Cow::Borrowed(
            RuleCatalogue::embedded().map_err(|e| anyhow!("the built-in rules: {e}"))?,
        ),
    })
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::List { dir, year } => list(&dir, year),
        Command::Show { code, dir } => show(&code, &dir),
        Command::View {
            code,
            case,
            table,
            dir,
        } => view(&code, case, table, &dir),
        Command::Test { codes, dir } => test(&codes, &dir),
    }
}

fn list(dir: &Option<PathBuf>, year: Option<i32>) -> anyhow::Result<()> {
    let catalogue = load(dir)?;
    let mut n = 0;
    for rule in &catalogue.rules {
        for v in &rule.versions {
            if year.is_some_and(|y| !v.in_force(y)) {
                continue;
            }
            n += 1;
            println!(
                "{:<8} {:<10} {}–{:<5} {:<6} {:<16} {}",
                rule.collection.name(),
                rule.code,
                v.from,
                v.to.map_or(String::new(), |t| t.to_string()),
                v.severity.as_str(),
                v.table,
                v.message
            );
        }
    }
    println!("{n} rule versions");
    Ok(())
}

fn show(code: &str, dir: &Option<PathBuf>) -> anyhow::Result<()> {
    let catalogue = load(dir)?;
    let rule = find(&catalogue, code)?;
    let text = match dir {
        Some(d) => std::fs::read_to_string(
            d.join(rule.collection.name())
                .join(format!("{}.yaml", rule.code)),
        )?,
        None => cspi::ingest::dfe::catalogue::embedded_text(&rule.file)
            .unwrap_or_default()
            .to_string(),
    };
    println!("# {}", rule.file);
    print!("{text}");
    Ok(())
}

fn view(code: &str, case: usize, table: Vec<String>, dir: &Option<PathBuf>) -> anyhow::Result<()> {
    let catalogue = load(dir)?;
    let rule = find(&catalogue, code)?;
    let the_case = rule
        .cases
        .get(case.saturating_sub(1))
        .ok_or_else(|| anyhow!("rule {code} has {} cases", rule.cases.len()))?;
    let views = cases::case_views(&catalogue, rule, the_case).map_err(|e| anyhow!(e))?;
    let wanted: Vec<String> = if table.is_empty() {
        let mut w: Vec<String> = rule.versions.iter().map(|v| v.table.clone()).collect();
        w.extend(the_case.tables.keys().cloned());
        w.extend(the_case.previous.keys().map(|k| format!("{k}_last")));
        w.sort();
        w.dedup();
        w
    } else {
        table
    };
    for name in wanted {
        let Some(df) = views.get(&name) else {
            println!("{name}: no such table\n");
            continue;
        };
        // Printed as CSV, without the bookkeeping columns and the `_invalid` flags that
        // are all false, so a case's rows read as written.
        let keep: Vec<String> = df
            .columns()
            .iter()
            .filter(|c| {
                let n = c.name().as_str();
                let bookkeeping = ["source_year", "source_file", "_invalid"].contains(&n);
                let all_false = n.ends_with("_invalid") && c.bool().is_ok_and(|b| !b.any());
                !(bookkeeping || all_false)
            })
            .map(|c| c.name().to_string())
            .collect();
        let mut shown = df
            .clone()
            .lazy()
            .select(
                keep.iter()
                    .map(|c| {
                        let e = polars::prelude::col(c.as_str());
                        let e = match df.schema().get(c.as_str()) {
                            Some(polars::prelude::DataType::Duration(_)) => {
                                e.dt().total_days(false)
                            }
                            _ => e,
                        };
                        e.cast(polars::prelude::DataType::String)
                    })
                    .collect::<Vec<_>>(),
            )
            .collect()?;
        println!("{name}:");
        CsvWriter::new(std::io::stdout())
            .include_header(true)
            .finish(&mut shown)?;
        println!();
    }
    Ok(())
}

fn test(codes: &[String], dir: &Option<PathBuf>) -> anyhow::Result<()> {
    let catalogue = load(dir)?;
    let only = (!codes.is_empty()).then_some(codes);
    let (results, coverage) = cases::run_all(&catalogue, only);
    let mut failed = 0;
    for r in &results {
        if r.passed() {
            continue;
        }
        failed += 1;
        match &r.error {
            Some(e) => println!("FAIL {} `{}` ({}): {e}", r.code, r.case, r.year),
            None => println!(
                "FAIL {} `{}` ({}): expected rows {:?} flagged, got {:?}",
                r.code, r.case, r.year, r.expected, r.flagged
            ),
        }
    }
    for c in &coverage {
        println!("MISSING CASE {c}");
    }
    println!(
        "{} cases, {} passed, {failed} failed; {} rule versions without a flagged and a passing case",
        results.len(),
        results.len() - failed,
        coverage.len()
    );
    if failed > 0 || !coverage.is_empty() {
        bail!("rule cases failed");
    }
    Ok(())
}

/// A rule by code, in either collection.
fn find<'c>(
    catalogue: &'c RuleCatalogue,
    code: &str,
) -> anyhow::Result<&'c cspi::ingest::dfe::Rule> {
    [Collection::Ssda903, Collection::Cin]
        .into_iter()
        .find_map(|c| catalogue.get(c, code))
        .ok_or_else(|| anyhow!("no rule `{code}`: see `cspi rules list`"))
}
