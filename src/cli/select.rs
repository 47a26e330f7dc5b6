//! The arguments every command over the history store shares: which store, LAs, years and
//! periods, and which catalogue.

use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use cspi::derive::{Facts, OnlyLas};
use cspi::domain::la::LaCode;
use cspi::indicators::evaluate;
use cspi::indicators::period::Period;
use cspi::ingest::store::Store;
use cspi::pipeline::{Config, Plan};

#[derive(Debug, Clone, clap::Args)]
pub struct Selection {
    /// The history store.
    #[arg(long, default_value = "out/store")]
    pub store: PathBuf,
    /// Only these LAs (3-digit codes, comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = super::la_code)]
    pub la: Vec<LaCode>,
    /// DfE years, e.g. 2021-2025 (default: the years the store holds).
    #[arg(long)]
    pub years: Option<String>,
    /// Rolling 12-month periods to the last N month ends.
    #[arg(long, default_value_t = 24)]
    pub months: usize,
    /// Report up to this date (year to date, snapshot and the last rolling period).
    #[arg(long)]
    pub as_at: Option<NaiveDate>,
    /// Only these indicators (ids, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// A folder of local indicator definitions (YAML) added to the catalogue.
    #[arg(long)]
    pub catalogue: Option<PathBuf>,
    /// The population for rates per 10,000, in place of the shipped ONS series for the LAs and
    /// years it gives (CSV: la_code, collection_year or mid_year, population_0_17[, estimate]).
    #[arg(long)]
    pub population: Option<PathBuf>,
}

impl Selection {
    /// The plan for a command over the store: `config` (the command's own settings) with this
    /// selection's catalogue and population, resolved; --only checked against the catalogue.
    pub fn plan(&self, config: Config) -> anyhow::Result<Plan> {
        let plan = Plan::resolve(&Config {
            local_indicators: self.catalogue.clone(),
            population: self.population.clone(),
            months: Some(self.months),
            ..config
        })?;
        for id in &self.only {
            if plan.catalogue.get(id).is_none() {
                bail!("no indicator `{id}`: see `cspi indicators list`");
            }
        }
        Ok(plan)
    }

    pub fn store(&self) -> anyhow::Result<Store> {
        let store = Store::open(&self.store)?;
        if store.las().is_empty() {
            bail!(
                "the store {} holds no returns: run `cspi ingest` first",
                self.store.display()
            );
        }
        Ok(store)
    }

    /// The store limited to --la.
    pub fn source<'a>(&self, store: &'a Store) -> OnlyLas<'a, Store> {
        OnlyLas {
            inner: store,
            las: if self.la.is_empty() {
                store.las()
            } else {
                self.la.iter().map(LaCode::to_string).collect()
            },
        }
    }

    /// The periods asked for.
    pub fn periods(&self, facts: &Facts) -> anyhow::Result<Vec<Period>> {
        let (first, last) = match &self.years {
            Some(y) => {
                let (a, b) = y.split_once('-').unwrap_or((y, y));
                (
                    a.trim().parse().context("--years")?,
                    b.trim().parse().context("--years")?,
                )
            }
            None => evaluate::years_held(facts)?,
        };
        Ok(evaluate::standard_periods(
            first,
            last,
            self.months,
            self.as_at,
        ))
    }
}
