//! Benchmark values for every area (LAs, regions, England), from one of two sources with the
//! same shape, so the comparison table does not care which:
//!
//! - **published**: DfE's figures (LAIT and EES, in the reference tables built by
//!   `cspi reference build` from the files a user gives, or the embedded ones), mapped to
//!   catalogue indicators by each definition's `benchmark` keys. Keyed by DfE year.
//! - **computed**: the engine's own figures for every LA in the history (regional
//!   collaborations, the national synthetic data); regions and England are the LAs held,
//!   aggregated as DfE aggregates (sums of numerators over sums of denominators). Keyed by the
//!   exact reporting period, so rolling and year-to-date figures are compared like for like.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use strum::{EnumString, IntoStaticStr};

use crate::domain::dates::{collection_year, from_epoch_days};
use crate::domain::schema::{PUBLISHED, VALUES};
use crate::indicators::catalogue::{Catalogue, Unit};
use crate::indicators::period::PeriodType;
use crate::ingest::reference::{ReferenceIndex, ReferenceTables};

/// Every LA's value by (indicator, period key).
type LaValues = HashMap<(String, String), Vec<(String, Option<f64>)>>;

/// A benchmark's key: (indicator, period key, area code).
type BenchKey = (String, String, String);

/// Where the benchmark values came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum Source {
    Published,
    Computed,
}

crate::domain::named!(Source);

/// One area's benchmark figure.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bench {
    pub value: Option<f64>,
    /// The suppression symbol (c, z, x, k, low) when DfE published no value.
    pub status: Option<String>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// The measure the value came from (`lait:ReReferral`, `ees_referrals`, `computed`).
    pub measure: String,
}

/// Benchmark figures by (indicator, period key, area code).
#[derive(Debug, Clone)]
pub struct Benchmarks {
    pub source: Source,
    values: HashMap<(String, String, String), Bench>,
    /// Published: the DfE years held per indicator (to compare in-year figures with the latest).
    years: HashMap<String, Vec<i32>>,
    /// Computed: the LAs each region's (and England's) figure is made of.
    pub members: BTreeMap<String, Vec<String>>,
    /// Every LA's value by (indicator, period key), for ranks.
    la_values: LaValues,
}

/// The reporting period a benchmark is for, as the comparison states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchPeriod {
    pub key: String,
    pub label: String,
}

impl BenchPeriod {
    /// Whether the benchmarks are DfE's published figures for a collection year (rather than
    /// the LAs' own figures for the very period compared).
    pub fn is_published_year(&self) -> bool {
        self.key.starts_with('Y')
    }
}

fn period_key(kind: &str, end_days: i32) -> String {
    format!("{kind}:{end_days}")
}

impl Benchmarks {
    /// The period key of a published DfE year (collection year ending 31 March `year`).
    pub fn year_key(year: i32) -> String {
        format!("Y{year}")
    }

    /// DfE's published figures for each catalogue indicator with a benchmark key. LAIT values
    /// are used as published (the indicator's unit); where LAIT has none, the EES figure is
    /// used, a count converted to a rate per 10,000 with the ONS population when the indicator
    /// is a rate.
    pub fn published(
        catalogue: &Catalogue,
        tables: &ReferenceTables,
        index: &ReferenceIndex,
    ) -> PolarsResult<Benchmarks> {
        let wanted = wanted_measures(catalogue);
        let p = &tables.published;
        let cols = PublishedColumns::read(p)?;
        let measure_units = measure_units(tables)?;
        let mut chosen = Chosen::default();
        for i in 0..p.height() {
            let (Some(m), Some(c), Some(y)) =
                (cols.measure.get(i), cols.code.get(i), cols.year.get(i))
            else {
                continue;
            };
            let Some(targets) = wanted.get(m) else {
                continue;
            };
            let is_count = measure_units.get(m).is_some_and(|u| u == "count");
            for (id, priority, unit) in targets {
                let mut b = cols.bench(i, m);
                if *unit == Unit::RatePer10k && is_count {
                    per_10k(&mut b, index.population(c, y));
                }
                let key = (id.clone(), Benchmarks::year_key(y), c.to_string());
                chosen.offer(key, *priority, b);
                chosen.saw_year(id, y);
            }
        }
        let (values, years) = chosen.finish();
        Ok(Benchmarks {
            source: Source::Published,
            values,
            years,
            members: BTreeMap::new(),
            la_values: HashMap::new(),
        }
        .with_la_index(index))
    }

    /// The engine's own figures for every LA in `values` (an evaluation's long table), with
    /// regions and England aggregated from the LAs held.
    pub fn computed(
        catalogue: &Catalogue,
        values: &DataFrame,
        index: &ReferenceIndex,
    ) -> PolarsResult<Benchmarks> {
        VALUES.check(values)?;
        let totals = values
            .clone()
            .lazy()
            .filter(col("breakdown").is_null())
            .collect()?;
        let s = |c: &str| VALUES.text(&totals, c);
        let (la, id, kind) = (s("la_code")?, s("indicator_id")?, s("period_type")?);
        let end = VALUES.date(&totals, "period_end")?;
        let f = |c: &str| VALUES.number(&totals, c);
        let (value, num, den) = (f("value")?, f("numerator")?, f("denominator")?);
        let units: HashMap<&str, Unit> = catalogue
            .definitions
            .iter()
            .map(|d| (d.id.as_str(), d.unit))
            .collect();
        let mut out = HashMap::new();
        // (indicator, period key, area) → (Σ numerator, Σ denominator, LAs)
        let mut sums: HashMap<(String, String, String), (f64, f64, usize)> = HashMap::new();
        let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for i in 0..totals.height() {
            let (Some(la), Some(id), Some(kind), Some(end)) =
                (la.get(i), id.get(i), kind.get(i), end.get(i))
            else {
                continue;
            };
            let key = period_key(kind, end);
            out.insert(
                (id.to_string(), key.clone(), la.to_string()),
                Bench {
                    value: value.get(i),
                    status: None,
                    numerator: num.get(i),
                    denominator: den.get(i),
                    measure: "computed".into(),
                },
            );
            let region = index.la(la).map(|l| l.region_code.clone());
            for area in region.into_iter().chain(["E92000001".to_string()]) {
                let list = members.entry(area.clone()).or_default();
                if !list.iter().any(|x| x == la) {
                    list.push(la.to_string());
                }
                // A count has no denominator: its numerators alone are summed.
                if let Some(n) = num.get(i) {
                    let e = sums
                        .entry((id.to_string(), key.clone(), area))
                        .or_insert((0.0, 0.0, 0));
                    e.0 += n;
                    e.1 += den.get(i).unwrap_or(0.0);
                    e.2 += 1;
                }
            }
        }
        for ((id, key, area), (n, d, _)) in sums {
            let value = match units.get(id.as_str()) {
                Some(Unit::Percent) if d > 0.0 => Some(100.0 * n / d),
                Some(Unit::RatePer10k) if d > 0.0 => Some(10_000.0 * n / d),
                Some(Unit::MeanDays | Unit::Mean) if d > 0.0 => Some(n / d),
                Some(Unit::Count) => Some(n),
                _ => None,
            };
            out.insert(
                (id, key, area),
                Bench {
                    value,
                    status: None,
                    numerator: Some(n),
                    denominator: (d > 0.0).then_some(d),
                    measure: "computed".into(),
                },
            );
        }
        for list in members.values_mut() {
            list.sort();
        }
        Ok(Benchmarks {
            source: Source::Computed,
            values: out,
            years: HashMap::new(),
            members,
            la_values: HashMap::new(),
        }
        .with_la_index(index))
    }

    /// The benchmark period for an LA figure: the same period (computed), or the DfE year the
    /// period ends in, or the latest year DfE has published before it (in-year figures are
    /// compared with the latest published year, and the label says which).
    pub fn period_for(
        &self,
        indicator: &str,
        kind: PeriodType,
        end_days: i32,
    ) -> Option<BenchPeriod> {
        match self.source {
            Source::Computed => Some(BenchPeriod {
                key: period_key(kind.name(), end_days),
                label: format!("{} to {}", kind.name(), from_epoch_days(end_days)),
            }),
            Source::Published => {
                let year = collection_year(from_epoch_days(end_days));
                let y = *self
                    .years
                    .get(indicator)?
                    .iter()
                    .rev()
                    .find(|&&y| y <= year)?;
                Some(BenchPeriod {
                    key: Benchmarks::year_key(y),
                    label: format!("{}-{:02}", y - 1, y % 100),
                })
            }
        }
    }

    pub fn get(&self, indicator: &str, period: &BenchPeriod, area: &str) -> Option<&Bench> {
        self.values
            .get(&(indicator.to_string(), period.key.clone(), area.to_string()))
    }

    fn with_la_index(mut self, index: &ReferenceIndex) -> Benchmarks {
        let mut by: LaValues = HashMap::new();
        for ((id, key, area), b) in &self.values {
            if index.la(area).is_some() {
                by.entry((id.clone(), key.clone()))
                    .or_default()
                    .push((area.clone(), b.value));
            }
        }
        for list in by.values_mut() {
            list.sort_by(|a, b| a.0.cmp(&b.0));
        }
        self.la_values = by;
        self
    }

    /// Every LA's value for an indicator and period (for ranks), in code order.
    pub fn las(&self, indicator: &str, period: &BenchPeriod) -> &[(String, Option<f64>)] {
        self.la_values
            .get(&(indicator.to_string(), period.key.clone()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// The published measures each indicator is benchmarked by: measure → [(indicator, priority,
/// unit)], LAIT's (priority 0) before EES's (1).
fn wanted_measures(catalogue: &Catalogue) -> HashMap<String, Vec<(String, u8, Unit)>> {
    let mut wanted: HashMap<String, Vec<(String, u8, Unit)>> = HashMap::new();
    for def in &catalogue.definitions {
        if let Some(l) = &def.benchmark.lait {
            wanted
                .entry(format!("lait:{l}"))
                .or_default()
                .push((def.id.clone(), 0, def.unit));
        }
        if let Some(e) = &def.benchmark.ees {
            wanted
                .entry(e.clone())
                .or_default()
                .push((def.id.clone(), 1, def.unit));
        }
    }
    wanted
}

/// Each published measure's unit (`count`, `percent`, …), to know which counts become rates.
fn measure_units(tables: &ReferenceTables) -> PolarsResult<HashMap<String, String>> {
    let m = &tables.measures;
    let ids = m.column("measure")?.str()?.clone();
    let units = m.column("unit")?.str()?.clone();
    Ok(ids
        .iter()
        .zip(units.iter())
        .filter_map(|(a, b)| Some((a?.to_string(), b?.to_string())))
        .collect())
}

/// The published table's columns (as [`PUBLISHED`] declares them).
struct PublishedColumns {
    measure: StringChunked,
    code: StringChunked,
    status: StringChunked,
    year: Int32Chunked,
    value: Float64Chunked,
    num: Float64Chunked,
    den: Float64Chunked,
}

impl PublishedColumns {
    fn read(p: &DataFrame) -> PolarsResult<PublishedColumns> {
        PUBLISHED.check(p)?;
        let s = |c: &str| PUBLISHED.text(p, c);
        let f = |c: &str| PUBLISHED.number(p, c);
        Ok(PublishedColumns {
            measure: s("measure")?,
            code: s("code")?,
            status: s("status")?,
            year: PUBLISHED.whole(p, "year")?,
            value: f("value")?,
            num: f("numerator")?,
            den: f("denominator")?,
        })
    }

    /// Row `i` of measure `m` as published (an empty status is none).
    fn bench(&self, i: usize, m: &str) -> Bench {
        Bench {
            value: self.value.get(i),
            status: self
                .status
                .get(i)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            numerator: self.num.get(i),
            denominator: self.den.get(i),
            measure: m.to_string(),
        }
    }
}

/// A published count as a rate per 10,000 of `pop` (the count and population become its
/// numerator and denominator); no value without a population.
fn per_10k(b: &mut Bench, pop: Option<f64>) {
    b.numerator = b.value;
    b.denominator = pop;
    b.value = match (b.value, pop) {
        (Some(v), Some(p)) if p > 0.0 => Some(v * 10_000.0 / p),
        _ => None,
    };
}

/// The published figure chosen so far for each (indicator, year, area), with the counts
/// behind it and the years each indicator has.
#[derive(Default)]
struct Chosen {
    chosen: HashMap<BenchKey, (u8, Bench)>,
    /// The counts behind a figure (EES publishes them, LAIT does not): kept whichever
    /// source's value is chosen, for funnel plots of every LA.
    counts: HashMap<BenchKey, (f64, f64)>,
    years: HashMap<String, Vec<i32>>,
}

impl Chosen {
    /// Offers a source's figure for `key`: its counts are kept if the first seen, and it
    /// replaces the figure held when it is the better source.
    fn offer(&mut self, key: BenchKey, priority: u8, b: Bench) {
        if let (Some(n), Some(d)) = (b.numerator, b.denominator) {
            self.counts.entry(key.clone()).or_insert((n, d));
        }
        let keep = match self.chosen.get(&key) {
            None => true,
            Some((p0, old)) => {
                // A lower priority number wins unless it has no value and this has.
                (priority < *p0 && (b.value.is_some() || old.value.is_none()))
                    || (priority > *p0 && old.value.is_none() && b.value.is_some())
            }
        };
        if keep {
            self.chosen.insert(key, (priority, b));
        }
    }

    /// Notes that DfE published indicator `id` for year `y`.
    fn saw_year(&mut self, id: &str, y: i32) {
        let ys = self.years.entry(id.to_string()).or_default();
        if !ys.contains(&y) {
            ys.push(y);
        }
    }

    /// The chosen figures, each given the counts behind it where its own source had none,
    /// and each indicator's years in order.
    fn finish(mut self) -> (HashMap<BenchKey, Bench>, HashMap<String, Vec<i32>>) {
        for ys in self.years.values_mut() {
            ys.sort();
        }
        for (key, (_, b)) in self.chosen.iter_mut() {
            if b.denominator.is_none()
                && let Some((n, d)) = self.counts.get(key)
            {
                b.numerator = Some(*n);
                b.denominator = Some(*d);
            }
        }
        let values = self.chosen.into_iter().map(|(k, (_, b))| (k, b)).collect();
        (values, self.years)
    }
}
