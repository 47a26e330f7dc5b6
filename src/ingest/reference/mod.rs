//! Reference tables: the LAs, their statistical neighbours, child populations and the
//! published DfE figures, in the project's own compact format under `data/reference/`.
//!
//! `cspi reference build --from <dir>` reads the public files as DfE publishes them (the EES
//! CSVs, the LAIT long table and dictionary, the statistical neighbour CSVs or workbooks, the
//! ONS population table) from any folder — `../shared/reference` or a user's fresh downloads —
//! and writes:
//!
//! | file | holds |
//! |---|---|
//! | `las.csv` | every LA: 3-digit code, ONS code, name, region, whether it exists now |
//! | `sn_groups.csv` | statistical neighbours by model (2021, 2025): rank 1–10 and closeness |
//! | `population.csv` | ONS mid-year children aged 0–17 by LA, region and England |
//! | `published.parquet` | the measures of `sources.yaml` by area and year, with suppression |
//! | `measures.csv` | those measures with their source, unit and LAIT polarity |
//! | `postcode_sectors.parquet` | postcode sector → LA (code, share) and OS grid centroid |
//! | `postcodes.parquet` | real postcodes (a sample, or the user's full ONS directory) → LA and OS grid reference |
//! | `lait_measures.csv` | LAIT's children's social care, workforce and finance measures (the dictionary): what the catalogue's coverage is counted against |
//!
//! The files are committed and embedded in the binary, so the main job needs no network and no
//! `../shared`.
//!
//! The module is in two halves: the offline builder ([`build()`], what `cspi reference build`
//! runs, with [`read_published`] shared with a run given a user's newer downloads) and the
//! runtime side every run reads (the embedded tables here and their [`ReferenceIndex`]).

mod build;
mod index;
pub mod lait;
mod published;
mod source_files;

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use polars::prelude::*;
use serde::Deserialize;
use thiserror::Error;

use crate::domain::schema::PUBLISHED;

pub use build::build;
pub use index::{La, PublishedValue, ReferenceIndex};
pub use published::{parse_published, parse_years_months, read_published, year_of_period};
pub(crate) use source_files::files_under;

/// Problems building the reference tables, each naming the file and what to do.
#[derive(Debug, Error)]
pub enum ReferenceError {
    #[error("{0}: cannot read ({1})")]
    Io(PathBuf, std::io::Error),
    #[error("no {what} file found under {dir}: {hint}")]
    Missing {
        what: &'static str,
        dir: PathBuf,
        hint: &'static str,
    },
    #[error("{file}: {message}")]
    Format { file: PathBuf, message: String },
    #[error(transparent)]
    Polars(#[from] PolarsError),
    #[error("data/reference/sources.yaml: {0}")]
    Sources(#[from] serde_yaml::Error),
}

/// A measure to extract (`data/reference/sources.yaml`).
#[derive(Debug, Clone, Deserialize)]
pub struct Source {
    pub id: String,
    pub unit: String,
    #[serde(default)]
    pub rate_of_population: bool,
    pub ees: Option<EesSource>,
    pub lait: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EesSource {
    pub file: String,
    #[serde(default)]
    pub filter: BTreeMap<String, String>,
    pub value: String,
    pub numerator: Option<String>,
    pub denominator: Option<String>,
    pub denominator_filter: Option<BTreeMap<String, String>>,
    /// How the value is written: a number (default), or `years_months` ("01:07", DfE's
    /// adoption stage averages), kept as days (a year 365.25 days, a month 30.4375).
    #[serde(default)]
    pub format: Option<String>,
}

/// The measures cspi extracts from published files.
pub fn sources() -> Result<Vec<Source>, serde_yaml::Error> {
    serde_yaml::from_str(include_str!("../../../data/reference/sources.yaml"))
}

/// The reference tables in memory.
#[derive(Debug, Clone)]
pub struct ReferenceTables {
    pub las: DataFrame,
    pub sn_groups: DataFrame,
    pub population: DataFrame,
    pub published: DataFrame,
    pub measures: DataFrame,
    /// Postcode sectors ("SS1 2"): the LA holding most of the sector's postcodes (`la_code`
    /// empty outside England), the share in that LA, and the OS grid centroid in metres.
    pub sectors: DataFrame,
    /// Real postcodes ("SS1 2PA") with their LA (DfE code; empty outside England) and OS grid
    /// reference in metres: the DfE postcode rules and distances, and the generator's homes and
    /// placements. Shipped: a sample of up to 400 live postcodes per lower-tier LA.
    pub postcodes: DataFrame,
}

/// ONS codes of upper-tier LAs that changed after the DfE list was made, and the code the DfE
/// list holds (Barnsley and Sheffield were recoded in 2024).
const ONS_CODE_ALIASES: &[(&str, &str)] = &[("E08000038", "E08000016"), ("E08000039", "E08000019")];

impl ReferenceTables {
    /// ONS area code → DfE LA code, for every LA (ONS codes changed after the DfE list was made
    /// included).
    pub fn la_of_ons(&self) -> PolarsResult<HashMap<String, String>> {
        let mut map: HashMap<String, String> = self
            .las
            .column("ons_code")?
            .str()?
            .iter()
            .zip(self.las.column("la_code")?.str()?.iter())
            .filter_map(|(o, c)| Some((o?.to_string(), c?.to_string())))
            .collect();
        for (new, old) in ONS_CODE_ALIASES {
            if let Some(la) = map.get(*old).cloned() {
                map.insert(new.to_string(), la);
            }
        }
        Ok(map)
    }

    /// These tables with the published figures under `dir` (a user's newer LAIT or EES
    /// download) layered over the shipped ones: a figure in the user's files replaces the
    /// shipped figure for the same measure, area and year.
    pub fn with_published(&self, dir: &Path) -> Result<ReferenceTables, ReferenceError> {
        let (published, _) = read_published(dir, false)?;
        let merged = concat(
            [
                self.published.clone().lazy(),
                published
                    .lazy()
                    .select(PUBLISHED.names().map(col).collect::<Vec<_>>()),
            ],
            UnionArgs::default(),
        )?
        .unique_stable(
            Some(cols(["measure", "code", "year"])),
            UniqueKeepStrategy::Last,
        )
        .sort(
            ["measure", "level", "code", "year"],
            SortMultipleOptions::default(),
        )
        .collect()?;
        Ok(ReferenceTables {
            published: merged,
            ..self.clone()
        })
    }

    /// The tables committed in `data/reference`, embedded at build time.
    pub fn embedded() -> &'static ReferenceTables {
        static TABLES: OnceLock<ReferenceTables> = OnceLock::new();
        TABLES.get_or_init(|| {
            ReferenceTables::from_parts(
                include_str!("../../../data/reference/las.csv"),
                include_str!("../../../data/reference/sn_groups.csv"),
                include_str!("../../../data/reference/population.csv"),
                include_str!("../../../data/reference/measures.csv"),
                include_bytes!("../../../data/reference/published.parquet"),
                include_bytes!("../../../data/reference/postcode_sectors.parquet"),
                include_bytes!("../../../data/reference/postcodes.parquet"),
            )
            .expect("the embedded reference tables are valid")
        })
    }

    /// Reads tables written by [`ReferenceTables::write`] from a folder.
    pub fn load(dir: &Path) -> Result<ReferenceTables, ReferenceError> {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .map_err(|e| ReferenceError::Io(dir.join(name), e))
        };
        let bytes = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| ReferenceError::Io(dir.join(name), e))
        };
        Ok(ReferenceTables::from_parts(
            &read("las.csv")?,
            &read("sn_groups.csv")?,
            &read("population.csv")?,
            &read("measures.csv")?,
            &bytes("published.parquet")?,
            &bytes("postcode_sectors.parquet")?,
            &bytes("postcodes.parquet")?,
        )?)
    }

    fn from_parts(
        las: &str,
        sn: &str,
        population: &str,
        measures: &str,
        published: &[u8],
        sectors: &[u8],
        postcodes: &[u8],
    ) -> PolarsResult<ReferenceTables> {
        let csv = |text: &str, types: &[(&str, DataType)]| -> PolarsResult<DataFrame> {
            let df = CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .into_reader_with_file_handle(Cursor::new(text.as_bytes().to_vec()))
                .finish()?;
            let casts: Vec<Expr> = types
                .iter()
                .map(|(c, t)| match t {
                    // Text "true"/"false" has no direct cast to Boolean.
                    DataType::Boolean => col(*c).eq(lit("true")).alias(*c),
                    _ => col(*c).cast(t.clone()),
                })
                .collect();
            df.lazy().with_columns(casts).collect()
        };
        let published = ParquetReader::new(Cursor::new(published.to_vec())).finish()?;
        PUBLISHED.check(&published)?;
        Ok(ReferenceTables {
            las: csv(las, &[("current", DataType::Boolean)])?,
            sn_groups: csv(sn, &[("model", DataType::Int32), ("rank", DataType::Int32)])?,
            population: crate::ingest::population::with_estimate_column(csv(
                population,
                &[
                    ("year", DataType::Int32),
                    ("population_0_17", DataType::Float64),
                ],
            )?)?,
            measures: csv(measures, &[])?,
            published,
            sectors: ParquetReader::new(Cursor::new(sectors.to_vec())).finish()?,
            postcodes: ParquetReader::new(Cursor::new(postcodes.to_vec())).finish()?,
        })
    }
}
