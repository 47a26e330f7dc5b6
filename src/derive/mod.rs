//! Fact tables: the one place each business concept is derived from the canonical history
//! (periods of care, placements, referrals with their previous referral, conferences paired
//! with the enquiries that led to them, plans with their review timeliness, care leavers by
//! birthday, adoptions with the scorecard dates). Every indicator is an expression over one of
//! these tables, so a rule such as "a move to A3/A5 is not a new placement" is written once.
//!
//! Facts are built from the history store for all its LAs (or a chosen few), materialised once
//! and cached: the catalogue evaluates dozens of indicators over the same few tables.

pub mod annex_a;
pub mod cin;
pub mod cla;
pub mod population;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use polars::prelude::*;
use strum::{EnumString, IntoStaticStr, VariantArray};

use crate::domain::calendar::Calendar;
use crate::ingest::canonical::CanonicalTable;
use crate::ingest::reference::ReferenceTables;
use crate::ingest::returns::ReturnKey;
use crate::ingest::store::Store;

/// The fact tables indicators can be computed from (the `source:` of an indicator YAML).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    IntoStaticStr,
    EnumString,
    VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum FactTable {
    Referrals,
    Assessments,
    S47Enquiries,
    Icpcs,
    CpPlans,
    ClaEpisodes,
    ClaPeriods,
    Placements,
    ClaEvents,
    ClaHealth,
    CareLeavers,
    Adoptions,
    SocialWorkers,
    Dolos,
    PreProceedings,
    Population,
}

crate::domain::named!(FactTable);

impl FactTable {
    /// Every fact table, in declaration order.
    pub const ALL: &'static [FactTable] = <FactTable as VariantArray>::VARIANTS;

    /// Which statutory collection the table comes from (for coverage: which years of returns
    /// an LA has for it).
    pub fn collection(self) -> Option<crate::ingest::returns::Collection> {
        use crate::ingest::returns::Collection;
        match self {
            FactTable::Referrals
            | FactTable::Assessments
            | FactTable::S47Enquiries
            | FactTable::Icpcs
            | FactTable::CpPlans
            | FactTable::PreProceedings => Some(Collection::Cin),
            FactTable::Population => None,
            _ => Some(Collection::Ssda903),
        }
    }
}

/// Where the canonical tables come from: the store, or in-memory frames (tests, schemas).
pub trait Canonical: Sync {
    fn table(&self, table: CanonicalTable) -> PolarsResult<LazyFrame>;

    /// The returns each LA has sent, by collection and collection year. The history cannot
    /// tell this (a record keeps only its latest return's year).
    fn returns_held(&self) -> PolarsResult<Vec<ReturnKey>>;

    /// A canonical table for some LAs only (a source that can read less does so).
    fn table_for(&self, table: CanonicalTable, las: &[String]) -> PolarsResult<LazyFrame> {
        let las = Series::new("las".into(), las.to_vec());
        Ok(self
            .table(table)?
            .filter(col("la_code").is_in(lit(las).implode(false), false)))
    }
}

impl Canonical for Store {
    fn table(&self, table: CanonicalTable) -> PolarsResult<LazyFrame> {
        self.scan(table)
    }

    fn returns_held(&self) -> PolarsResult<Vec<ReturnKey>> {
        Ok(self.returns_held())
    }

    fn table_for(&self, table: CanonicalTable, las: &[String]) -> PolarsResult<LazyFrame> {
        let las_series = Series::new("las".into(), las.to_vec());
        Ok(self
            .scan_las(table, Some(las))?
            .filter(col("la_code").is_in(lit(las_series).implode(false), false)))
    }
}

/// Empty canonical tables: deriving from them gives each fact table's schema.
pub struct Empty;

impl Canonical for Empty {
    fn returns_held(&self) -> PolarsResult<Vec<ReturnKey>> {
        Ok(vec![])
    }

    fn table(&self, table: CanonicalTable) -> PolarsResult<LazyFrame> {
        let empty = crate::ingest::returns::empty_table(table.collection(), table.spec()?, "", 0);
        Ok(empty.lazy())
    }
}

/// Canonical tables restricted to some LAs.
pub struct OnlyLas<'a, C: Canonical + ?Sized> {
    pub inner: &'a C,
    pub las: Vec<String>,
}

impl<C: Canonical + ?Sized> Canonical for OnlyLas<'_, C> {
    fn returns_held(&self) -> PolarsResult<Vec<ReturnKey>> {
        Ok(self
            .inner
            .returns_held()?
            .into_iter()
            .filter(|r| self.las.iter().any(|la| la == r.la_code.as_str()))
            .collect())
    }

    fn table(&self, table: CanonicalTable) -> PolarsResult<LazyFrame> {
        self.inner.table_for(table, &self.las)
    }
}

/// Fact tables built on demand from canonical tables, each once.
pub struct Facts<'a> {
    source: &'a dyn Canonical,
    reference: &'a ReferenceTables,
    cache: Mutex<HashMap<FactTable, Arc<OnceLock<PolarsResult<DataFrame>>>>>,
}

impl<'a> Facts<'a> {
    pub fn new(source: &'a dyn Canonical, reference: &'a ReferenceTables) -> Facts<'a> {
        Facts {
            source,
            reference,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// A fact table (built on first use; later calls share it).
    pub fn get(&self, table: FactTable) -> PolarsResult<DataFrame> {
        let cell = self
            .cache
            .lock()
            .expect("facts lock")
            .entry(table)
            .or_default()
            .clone();
        cell.get_or_init(|| {
            // A span per fact table: with `CSPI_LOG=info` its close line gives the build time.
            let _span = tracing::info_span!("fact_table", table = table.name()).entered();
            self.build(table)
        })
        .clone()
    }

    /// The returns held, each LA's by collection and collection year.
    pub fn returns_held(&self) -> PolarsResult<Vec<ReturnKey>> {
        self.source.returns_held()
    }

    /// A canonical (ingested) table, as the facts see it.
    pub fn canonical(&self, table: CanonicalTable) -> PolarsResult<LazyFrame> {
        self.source.table(table)
    }

    fn build(&self, table: FactTable) -> PolarsResult<DataFrame> {
        match table {
            FactTable::Referrals => cin::referrals(self),
            FactTable::Assessments => cin::assessments(self),
            FactTable::S47Enquiries => cin::s47_enquiries(self),
            FactTable::Icpcs => cin::icpcs(self),
            FactTable::CpPlans => cin::cp_plans(self),
            FactTable::ClaEpisodes => cla::episodes(self),
            FactTable::ClaPeriods => cla::periods(self),
            FactTable::Placements => cla::placements(self),
            FactTable::ClaEvents => cla::events(self),
            FactTable::ClaHealth => cla::health(self),
            FactTable::CareLeavers => cla::care_leavers(self),
            FactTable::Adoptions => cla::adoptions(self),
            FactTable::SocialWorkers => cla::social_workers(self),
            FactTable::Dolos => cla::dolos(self),
            FactTable::PreProceedings => cin::pre_proceedings(self),
            FactTable::Population => population::population(self),
        }
    }

    /// The schema of each fact table, from deriving over empty canonical tables: used to check
    /// indicator expressions at load time without any data.
    pub fn schema(table: FactTable) -> PolarsResult<Schema> {
        static SCHEMAS: OnceLock<Mutex<HashMap<FactTable, Schema>>> = OnceLock::new();
        let map = SCHEMAS.get_or_init(|| Mutex::new(HashMap::new()));
        if let Some(s) = map.lock().expect("schemas lock").get(&table) {
            return Ok(s.clone());
        }
        let facts = Facts::new(&Empty, ReferenceTables::embedded());
        let schema = facts.get(table)?.schema().as_ref().clone();
        map.lock()
            .expect("schemas lock")
            .insert(table, schema.clone());
        Ok(schema)
    }
}

/// The previous row's value of `column` within the same LA and child, for a frame sorted by
/// (la_code, child, …): a shift compared with the row before, which costs one pass instead of a
/// window over millions of children.
pub fn previous_in_child(column: &str) -> Expr {
    let same = col("la_code")
        .eq(col("la_code").shift(lit(1)))
        .and(col("child").eq(col("child").shift(lit(1))));
    when(same.fill_null(lit(false)))
        .then(col(column).shift(lit(1)))
        .otherwise(lit(NULL))
}

/// `lf` with a boolean column `name`: whether its row's `keys` are among `present`'s rows
/// (false, never null, when not), in `lf`'s order. For facts a row has to carry about rows of
/// another table (an episode's assessments, a care leaver's last period of care), since an
/// indicator reads its own row only.
pub fn flag_present(lf: LazyFrame, present: LazyFrame, keys: &[&str], name: &str) -> LazyFrame {
    let keys: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    let present = present
        .select(keys.clone())
        .unique_stable_generic(None, UniqueKeepStrategy::First)
        .with_column(lit(true).alias(name));
    lf.join(
        present,
        keys.clone(),
        keys,
        JoinArgs {
            maintain_order: MaintainOrderJoin::Left,
            ..JoinArgs::new(JoinType::Left)
        },
    )
    .with_column(col(name).fill_null(lit(false)))
}

/// Age in whole years on the date `at` (a column or a literal) of a child born on `birth`: a
/// birthday on that day counts. Null when either date is.
pub fn age_in_years(birth: Expr, at: Expr) -> Expr {
    let month_day = |d: &Expr| {
        d.clone().dt().month().cast(DataType::Int32) * lit(100)
            + d.clone().dt().day().cast(DataType::Int32)
    };
    let before_birthday = month_day(&at).lt(month_day(&birth));
    at.dt().year().cast(DataType::Int32)
        - birth.dt().year().cast(DataType::Int32)
        - when(before_birthday).then(lit(1)).otherwise(lit(0))
}

/// As [`previous_in_child`], the next row's value.
pub fn next_in_child(column: &str) -> Expr {
    let same = col("la_code")
        .eq(col("la_code").shift(lit(-1)))
        .and(col("child").eq(col("child").shift(lit(-1))));
    when(same.fill_null(lit(false)))
        .then(col(column).shift(lit(-1)))
        .otherwise(lit(NULL))
}

/// Working days (England and Wales) after `start` up to and including `end`, for two date
/// columns of a frame: the DfE timescale count. Null where either date is missing.
pub fn working_days(df: &DataFrame, start: &str, end: &str) -> PolarsResult<Int32Chunked> {
    let cal = Calendar::england_and_wales();
    let s = df.column(start)?.date()?.physical().clone();
    let e = df.column(end)?.date()?.physical().clone();
    Ok(s.iter()
        .zip(e.iter())
        .map(|(s, e)| match (s, e) {
            (Some(s), Some(e)) => cal.working_days_epoch(s, e),
            _ => None,
        })
        .collect())
}

/// Adds a working-days column to a frame.
pub fn with_working_days(
    mut df: DataFrame,
    start: &str,
    end: &str,
    name: &str,
) -> PolarsResult<DataFrame> {
    let wd = working_days(&df, start, end)?.with_name(name.into());
    df.with_column(wd.into_column())?;
    Ok(df)
}

/// The postcode sector of a (normalised) postcode: outward code and the first character of the
/// inward code ("SS1 2PA" → "SS1 2"); a sector-only value is already one.
pub fn sector_of(postcode: &str) -> Option<String> {
    let (outward, inward) = postcode.trim().split_once(' ')?;
    let first = inward.chars().next()?;
    Some(format!("{outward} {first}"))
}

/// Where a postcode is: its LA (3-digit code, None outside England) and OS grid reference.
///
/// DfE derives placement distance and location from the exact postcodes, so a postcode in the
/// reference tables' postcode list (the shipped sample, or a user's full ONS directory) is
/// placed exactly; any other falls back to its sector's centroid and majority LA, within about
/// a kilometre of the truth.
pub struct Locations {
    sectors: HashMap<String, Location>,
    postcodes: HashMap<String, Location>,
}

/// LA code (None outside England), easting, northing.
pub type Location = (Option<String>, f64, f64);

impl Locations {
    pub fn new(reference: &ReferenceTables) -> PolarsResult<Locations> {
        let read = |df: &DataFrame, key: &str| -> PolarsResult<HashMap<String, Location>> {
            let k = df.column(key)?.str()?;
            let code = df.column("la_code")?.str()?;
            let east = df.column("easting")?.f64()?;
            let north = df.column("northing")?.f64()?;
            let mut map = HashMap::with_capacity(df.height());
            for i in 0..df.height() {
                if let (Some(k), Some(e), Some(n)) = (k.get(i), east.get(i), north.get(i)) {
                    map.insert(k.to_string(), (code.get(i).map(str::to_string), e, n));
                }
            }
            Ok(map)
        };
        Ok(Locations {
            sectors: read(&reference.sectors, "sector")?,
            postcodes: read(&reference.postcodes, "postcode")?,
        })
    }

    /// The postcode's own location when it is listed, else its sector's.
    pub fn locate(&self, postcode: &str) -> Option<&Location> {
        self.postcodes
            .get(postcode.trim())
            .or_else(|| self.sectors.get(&sector_of(postcode)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words indicator YAML files use for their `source:` (strum derives them from the
    /// variants; this pins them so a renamed variant cannot silently rename a source).
    #[test]
    fn fact_table_names_are_the_sources_yaml_uses() {
        let names: Vec<&str> = FactTable::ALL.iter().map(|t| t.name()).collect();
        assert_eq!(
            names,
            [
                "referrals",
                "assessments",
                "s47_enquiries",
                "icpcs",
                "cp_plans",
                "cla_episodes",
                "cla_periods",
                "placements",
                "cla_events",
                "cla_health",
                "care_leavers",
                "adoptions",
                "social_workers",
                "dolos",
                "pre_proceedings",
                "population",
            ]
        );
        for t in FactTable::ALL.iter().copied() {
            assert_eq!(FactTable::from_name(t.name()), Some(t));
        }
        assert_eq!(
            crate::ingest::returns::Collection::Ssda903.name(),
            "ssda903"
        );
        assert_eq!(crate::ingest::returns::Collection::Cin.name(), "cin");
    }

    #[test]
    fn sectors_of_postcodes() {
        assert_eq!(sector_of("SS1 2PA").as_deref(), Some("SS1 2"));
        assert_eq!(sector_of("SS1 2").as_deref(), Some("SS1 2"));
        assert_eq!(sector_of("SW1A 1AA").as_deref(), Some("SW1A 1"));
        assert_eq!(sector_of("nospace"), None);
    }
}
