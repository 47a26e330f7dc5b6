//! The tables a DfE rule reads, built once per return.
//!
//! Every canonical table of the return becomes a *rule table*: its rows as read (before cspi's
//! own cross-row rejections, so every row DfE would see is checked), plus
//!
//! - `row_id`: the row's position, which maps a flagged row back to its file and line;
//! - `collection_year`, `collection_start` (1 April), `collection_end` (31 March, or for an
//!   in-year extract the date it runs to: an open episode, an age "at the end of the year"
//!   and a duration to date are then judged at that date, as the year so far), and
//!   `year_end` (31 March always, for the rules about the return's own dates);
//! - `<column>_invalid` for every typed column: the return had a value there that could not be
//!   read (a code not in the year's list, an impossible date) — the typed column is then null,
//!   so "missing" and "not valid" stay distinguishable;
//! - `<column>_text` for code, UPN and postcode columns: the value, or the text as sent where it
//!   could not be read (upper-cased), for the rules that check a value's form;
//! - `<column>_sector` for postcode columns ("SS1 2").
//!
//! `rules/<collection>/_views.yaml` then enriches them in SQL (each view named after the table
//! it extends keeps that table's `row_id`; other views are helpers rules may join), once for this
//! year's return and once for last year's (named `<name>_last`). The reference tables
//! (`postcodes`, `las`, `providers`) and the file-level values (`return`: LA, reference date …)
//! sit beside them. Rules read nothing else: the SQL guard allows only these names.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use polars::prelude::*;
use polars::sql::SQLContext;
use serde::Deserialize;

use crate::domain::dates::{collection_year_end, collection_year_start, to_epoch_days};
use crate::ingest::returns::{Collection, empty_table};
use crate::ingest::rules::Tables;
use crate::ingest::spec::Kind;
use crate::ingest::table::INVALID_COLUMN;

/// The views of one collection (`_views.yaml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewSpecs {
    #[serde(default)]
    pub views: Vec<ViewSpec>,
}

/// One view: a SELECT over the rule tables, the views before it and the reference tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewSpec {
    pub name: String,
    /// What the view adds, for the reader of the rule files.
    #[serde(default)]
    pub about: String,
    pub sql: String,
}

/// The reference data rules may read.
#[derive(Debug, Clone)]
pub struct RuleReference {
    /// postcode ("SS1 2PA"), la_code (DfE 3-digit, null outside England), easting, northing.
    pub postcodes: DataFrame,
    /// Whether `postcodes` is a complete directory (a postcode absent from it does not exist).
    pub postcodes_complete: bool,
    /// sector ("SS1 2"), la_code, easting, northing: every sector, for postcodes the sample
    /// does not hold.
    pub sectors: DataFrame,
    /// The Ofsted provider list, when the user supplied one.
    pub providers: Option<DataFrame>,
    /// la_code, la_name, region_code (the reference LA list).
    pub las: DataFrame,
}

/// Names of the reference tables.
pub const REFERENCE_TABLES: [&str; 5] = [
    "postcodes",
    "postcode_sectors",
    "las",
    "providers",
    "calendar",
];

/// The working-day calendar as a table rules can join: one row per day of 2000–2040 with
/// `working_day` (England and Wales: Monday–Friday except bank holidays) and
/// `working_day_number` (working days since 1 January 2000, counting this day if it is one), so
/// "within 15 working days" is a difference of two numbers and "the 45th working day before"
/// a lookup.
pub fn calendar_table() -> &'static DataFrame {
    static TABLE: std::sync::OnceLock<DataFrame> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let calendar = crate::domain::calendar::Calendar::england_and_wales();
        let first = crate::domain::dates::ymd(2000, 1, 1).expect("a date");
        let last = crate::domain::dates::ymd(2040, 12, 31).expect("a date");
        let (mut dates, mut working, mut numbers) = (vec![], vec![], vec![]);
        let mut n = 0i32;
        let mut day = first;
        while day <= last {
            let w = calendar.is_working_day(day);
            n += i32::from(w);
            dates.push(to_epoch_days(day));
            working.push(w);
            numbers.push(n);
            day = day.succ_opt().expect("a next day");
        }
        DataFrame::new(
            dates.len(),
            vec![
                Int32Chunked::from_vec("date".into(), dates)
                    .into_date()
                    .into_column(),
                Column::new("working_day".into(), working),
                Column::new("working_day_number".into(), numbers),
            ],
        )
        .expect("the calendar table")
    })
}

/// Columns of the Ofsted provider list (`--providers`, a CSV with these headers).
/// `place_codes` and `provider_codes` list the PLACE and PLACE_PROVIDER codes the URN may be
/// used with (comma-separated); `reg_end` is the date its registration ended.
pub const PROVIDER_COLUMNS: [&str; 6] = [
    "urn",
    "place_codes",
    "provider_codes",
    "postcode",
    "la_code",
    "reg_end",
];

impl RuleReference {
    /// The shipped reference tables: the postcode sample (so not complete), every sector, the
    /// LA list.
    pub fn embedded() -> &'static RuleReference {
        static REFERENCE: std::sync::OnceLock<RuleReference> = std::sync::OnceLock::new();
        REFERENCE.get_or_init(|| {
            let t = crate::ingest::reference::ReferenceTables::embedded();
            let pick = |df: &DataFrame, cols: &[&str]| {
                df.select(cols.iter().copied())
                    .expect("the embedded reference tables have these columns")
            };
            RuleReference {
                postcodes: pick(
                    &t.postcodes,
                    &["postcode", "la_code", "easting", "northing"],
                ),
                postcodes_complete: false,
                sectors: pick(&t.sectors, &["sector", "la_code", "easting", "northing"]),
                providers: None,
                las: pick(&t.las, &["la_code", "la_name", "region_code"]),
            }
        })
    }

    /// Empty tables with the reference schemas (for checking rules, and cases without them).
    pub fn empty() -> RuleReference {
        RuleReference {
            postcodes: empty_postcodes(),
            postcodes_complete: false,
            sectors: empty_postcodes()
                .rename("postcode", "sector".into())
                .map(|d| d.clone())
                .expect("rename"),
            providers: None,
            las: DataFrame::new(
                0,
                vec![
                    Column::new_empty("la_code".into(), &DataType::String),
                    Column::new_empty("la_name".into(), &DataType::String),
                    Column::new_empty("region_code".into(), &DataType::String),
                ],
            )
            .expect("empty LA table"),
        }
    }
}

pub fn empty_postcodes() -> DataFrame {
    DataFrame::new(
        0,
        vec![
            Column::new_empty("postcode".into(), &DataType::String),
            Column::new_empty("la_code".into(), &DataType::String),
            Column::new_empty("easting".into(), &DataType::Float64),
            Column::new_empty("northing".into(), &DataType::Float64),
        ],
    )
    .expect("empty postcode table")
}

pub fn empty_providers() -> DataFrame {
    let mut columns: Vec<Column> = PROVIDER_COLUMNS[..5]
        .iter()
        .map(|c| Column::new_empty((*c).into(), &DataType::String))
        .collect();
    for c in &PROVIDER_COLUMNS[5..] {
        columns.push(Column::new_empty((*c).into(), &DataType::Date));
    }
    DataFrame::new(0, columns).expect("empty provider table")
}

/// The sector of a normalised postcode ("SS1 2PA" → "SS1 2"; a sector is its own sector): the
/// key of the sector table, which covers every postcode where the shipped postcode list is only
/// a sample.
pub fn postcode_sector(postcode: &str) -> &str {
    match postcode.split_once(' ') {
        Some((_, inward)) if inward.len() == 3 && postcode.is_char_boundary(postcode.len() - 2) => {
            &postcode[..postcode.len() - 2]
        }
        _ => postcode,
    }
}

/// A table rules can flag rows of (a canonical table, or the file-level `return`).
pub fn is_rule_table(name: &str) -> bool {
    name == "return" || Collection::of_table(name).is_some()
}

/// The file-level values a return carries, as the one-row `return` table: `la_code`,
/// `collection_year`, and for the CIN census the header's `reference_date`, `collection`,
/// `source_level`, `software_code`, `release`, `serial_no`, `date_time`.
fn return_table(
    la_code: &str,
    year: i32,
    as_at: Option<NaiveDate>,
    file_values: &BTreeMap<String, String>,
) -> PolarsResult<DataFrame> {
    let text = |k: &str| file_values.get(k).map(|s| s.trim().to_string());
    let reference_date = text("reference_date")
        .as_deref()
        .and_then(crate::domain::dates::parse_date)
        .map(to_epoch_days);
    let mut columns = vec![
        Column::new("row_id".into(), [0u32]),
        Column::new("la_code".into(), [la_code]),
        Column::new("collection_year".into(), [year]),
        Column::new("file_la_code".into(), [text("la_code")]),
        Column::new("file_collection_year".into(), [text("collection_year")]),
        Int32Chunked::from_iter_options("reference_date".into(), [reference_date].into_iter())
            .into_date()
            .into_column(),
        Column::new("reference_date_text".into(), [text("reference_date")]),
    ];
    for k in [
        "collection",
        "source_level",
        "software_code",
        "release",
        "serial_no",
        "date_time",
    ] {
        columns.push(Column::new(k.into(), [text(k)]));
    }
    let mut df = DataFrame::new(1, columns)?;
    df = with_params(df.lazy(), year, as_at).collect()?;
    Ok(df)
}

/// The year's dates every rule table carries. `as_at` (an in-year extract's date, already
/// checked to fall in the year) moves `collection_end` only.
fn with_params(lf: LazyFrame, year: i32, as_at: Option<NaiveDate>) -> LazyFrame {
    let start = to_epoch_days(collection_year_start(year));
    let year_end = to_epoch_days(collection_year_end(year));
    let end = as_at.map_or(year_end, to_epoch_days);
    lf.with_columns([
        lit(year).alias("collection_year"),
        lit(start).cast(DataType::Date).alias("collection_start"),
        lit(end).cast(DataType::Date).alias("collection_end"),
        lit(year_end).cast(DataType::Date).alias("year_end"),
    ])
}

/// A canonical table as a rule table: `row_id`, the year's dates and the `_invalid` flags.
fn rule_table(
    collection: Collection,
    name: &str,
    df: &DataFrame,
    year: i32,
    as_at: Option<NaiveDate>,
) -> PolarsResult<DataFrame> {
    let Some(spec) = collection.spec().table(name) else {
        return Ok(df.clone());
    };
    let mut lf = df.clone().with_row_index("row_id".into(), None)?.lazy();
    let has_invalid = df.schema().get(INVALID_COLUMN).is_some();
    let flags: Vec<Expr> = spec
        .columns
        .iter()
        .filter(|c| !matches!(c.kind, Kind::Id | Kind::Text))
        .map(|c| {
            let name = format!("{}_invalid", c.name);
            if has_invalid {
                col(INVALID_COLUMN)
                    .str()
                    .contains_literal(lit(crate::ingest::table::invalid_marker(&c.name)))
                    .fill_null(lit(false))
                    .alias(name)
            } else {
                lit(false).alias(name)
            }
        })
        .collect();
    lf = lf.with_columns(flags);
    let mut df = with_params(lf, year, as_at).collect()?;
    // `<column>_text`: the stored value, or for a value that could not be read the text as sent
    // (upper-cased) — what the UPN and code rules check the form of.
    let invalid: Option<StringChunked> = if has_invalid {
        Some(df.column(INVALID_COLUMN)?.str()?.clone())
    } else {
        None
    };
    for c in spec
        .columns
        .iter()
        .filter(|c| matches!(c.kind, Kind::Code | Kind::List | Kind::Upn | Kind::Postcode))
    {
        let stored = df.column(&c.name)?.str()?.clone();
        let text: StringChunked = match &invalid {
            Some(inv) => stored
                .iter()
                .zip(inv.iter())
                .map(|(v, i)| match v {
                    Some(v) => Some(v.to_string()),
                    None => i
                        .and_then(|i| crate::ingest::table::invalid_value(i, &c.name))
                        .map(str::to_uppercase),
                })
                .collect(),
            None => stored.clone(),
        };
        df.with_column(
            text.with_name(format!("{}_text", c.name).into())
                .into_column(),
        )?;
    }
    for c in spec.columns.iter().filter(|c| c.kind == Kind::Postcode) {
        let sectors: StringChunked = df
            .column(&c.name)?
            .str()?
            .iter()
            .map(|p| p.map(postcode_sector))
            .collect();
        df.with_column(
            sectors
                .with_name(format!("{}_sector", c.name).into())
                .into_column(),
        )?;
    }
    Ok(df)
}

/// Everything a return's rules read, by the name rules use.
pub struct RuleTables {
    pub frames: BTreeMap<String, DataFrame>,
}

impl RuleTables {
    /// A context with every table registered (lazy frames over the materialised tables).
    pub fn context(&self) -> SQLContext {
        let ctx = SQLContext::new();
        for (name, df) in &self.frames {
            ctx.register(name, df.clone().lazy());
        }
        ctx
    }

    pub fn get(&self, name: &str) -> Option<&DataFrame> {
        self.frames.get(name)
    }
}

/// One return as the views see it: this year's or last year's.
struct ReturnSide<'a> {
    collection: Collection,
    year: i32,
    /// The date an in-year extract runs to (this year's return only).
    as_at: Option<NaiveDate>,
    la_code: &'a str,
    tables: &'a Tables,
    file_values: &'a BTreeMap<String, String>,
}

fn return_views(
    side: ReturnSide,
    reference: &BTreeMap<String, DataFrame>,
    specs: &ViewSpecs,
    needed: Option<&BTreeSet<String>>,
) -> PolarsResult<BTreeMap<String, DataFrame>> {
    let ReturnSide {
        collection,
        year,
        as_at,
        la_code,
        tables,
        file_values,
    } = side;
    let mut frames = BTreeMap::new();
    for table in &collection.spec().tables {
        let df = match tables.get(&table.name) {
            Some(df) => rule_table(collection, &table.name, df, year, as_at)?,
            None => rule_table(
                collection,
                &table.name,
                &empty_table(collection, table, la_code, year),
                year,
                as_at,
            )?,
        };
        frames.insert(table.name.clone(), df);
    }
    frames.insert(
        "return".into(),
        return_table(la_code, year, as_at, file_values)?,
    );
    for view in &specs.views {
        if needed.is_some_and(|n| !n.contains(&view.name)) {
            continue;
        }
        let mut ctx = SQLContext::new();
        for (name, df) in frames.iter().chain(reference) {
            ctx.register(name, df.clone().lazy());
        }
        // With `CSPI_LOG=debug`, each view's time is on its span's close line.
        let df = tracing::debug_span!("view", name = %view.name, year)
            .in_scope(|| ctx.execute(&view.sql).and_then(|lf| lf.collect()))
            .map_err(|e| polars_err!(ComputeError: "view `{}`: {e}", view.name))?;
        if frames.contains_key(&view.name)
            && Collection::of_table(&view.name).is_some()
            && df.schema().get("row_id").is_none()
        {
            polars_bail!(ComputeError: "view `{}` extends the {0} table and must keep its row_id", view.name);
        }
        frames.insert(view.name.clone(), df);
    }
    Ok(frames)
}

fn reference_frames(reference: &RuleReference) -> BTreeMap<String, DataFrame> {
    let mut out = BTreeMap::new();
    out.insert("postcodes".to_string(), reference.postcodes.clone());
    out.insert("postcode_sectors".to_string(), reference.sectors.clone());
    out.insert("las".to_string(), reference.las.clone());
    out.insert(
        "providers".to_string(),
        reference.providers.clone().unwrap_or_else(empty_providers),
    );
    out.insert("calendar".to_string(), calendar_table().clone());
    out
}

/// What a collection's rules read for one return.
pub struct ViewInputs<'a> {
    pub collection: Collection,
    pub year: i32,
    /// The date an in-year extract runs to, when the return is one (before 31 March).
    pub as_at: Option<NaiveDate>,
    pub la_code: &'a str,
    pub tables: &'a Tables,
    pub file_values: &'a BTreeMap<String, String>,
    /// Last year's return (its year and tables), when held.
    pub previous: Option<(i32, &'a Tables)>,
    pub reference: &'a RuleReference,
}

/// Builds every table a return's rules read.
pub fn build(
    inputs: &ViewInputs,
    specs: &ViewSpecs,
    needed: Option<&BTreeSet<String>>,
) -> PolarsResult<RuleTables> {
    let reference = reference_frames(inputs.reference);
    let mut frames = return_views(
        ReturnSide {
            collection: inputs.collection,
            year: inputs.year,
            as_at: inputs.as_at,
            la_code: inputs.la_code,
            tables: inputs.tables,
            file_values: inputs.file_values,
        },
        &reference,
        specs,
        needed,
    )?;
    let needed_last: Option<BTreeSet<String>> = needed.map(|n| {
        n.iter()
            .filter_map(|t| t.strip_suffix("_last").map(str::to_string))
            .collect()
    });
    // Last year's views are built only when something reads them (or everything is wanted).
    if needed_last.as_ref().is_none_or(|n| !n.is_empty()) {
        let empty = Tables::new();
        let none = BTreeMap::new();
        let (last_year, last_tables) = inputs.previous.unwrap_or((inputs.year - 1, &empty));
        let last = return_views(
            ReturnSide {
                collection: inputs.collection,
                year: last_year,
                as_at: None,
                la_code: inputs.la_code,
                tables: last_tables,
                file_values: &none,
            },
            &reference,
            specs,
            needed_last.as_ref(),
        )?;
        for (name, df) in last {
            frames.insert(format!("{name}_last"), df);
        }
    }
    frames.extend(reference);
    Ok(RuleTables { frames })
}

/// The views that must be built for rules reading `names` (a view is needed when something
/// needed reads it; a view extending a table again needs the definitions before it).
pub fn needed(specs: &ViewSpecs, names: &BTreeSet<String>) -> BTreeSet<String> {
    let base = |n: &str| n.strip_suffix("_last").unwrap_or(n).to_string();
    let mut needed: BTreeSet<String> = names.clone();
    // To a fixed point: a view found needed late (read by a view after it in the file) makes
    // every definition of it needed, with what they read.
    loop {
        let before = needed.len();
        for view in &specs.views {
            let this = needed.contains(&view.name);
            let last = needed.contains(&format!("{}_last", view.name));
            if !this && !last {
                continue;
            }
            for t in crate::domain::sql::tables_read(&view.sql).unwrap_or_default() {
                let t = base(&t);
                if this {
                    needed.insert(t.clone());
                }
                if last {
                    needed.insert(format!("{t}_last"));
                }
            }
        }
        if needed.len() == before {
            return needed;
        }
    }
}

/// The schema of every table a collection's rules read, from an empty return: checks the
/// views' SQL at load and lets rule files be checked against real column names and types.
pub fn schemas(
    collection: Collection,
    specs: &ViewSpecs,
) -> PolarsResult<BTreeMap<String, Schema>> {
    let tables = Tables::new();
    let values = BTreeMap::new();
    let reference = RuleReference::empty();
    let built = build(
        &ViewInputs {
            collection,
            year: super::catalogue::FIRST_YEAR,
            as_at: None,
            la_code: "000",
            tables: &tables,
            file_values: &values,
            previous: None,
            reference: &reference,
        },
        specs,
        None,
    )?;
    Ok(built
        .frames
        .into_iter()
        .map(|(name, df)| (name, df.schema().as_ref().clone()))
        .collect())
}

/// The output schema of a rule query over tables with these schemas (no data read).
pub fn query_schema(sql: &str, schemas: &BTreeMap<String, Schema>) -> PolarsResult<Schema> {
    let mut ctx = SQLContext::new();
    for (name, schema) in schemas {
        ctx.register(name, DataFrame::empty_with_schema(schema).lazy());
    }
    let mut lf = ctx.execute(sql)?;
    Ok(lf.collect_schema()?.as_ref().clone())
}
