//! The published DfE figures: the measures of `sources.yaml` read from the EES CSVs and the
//! LAIT long table (and its dictionary), both for the shipped tables and over a user's newer
//! downloads.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;

use super::source_files::{FindFile, TextTable, file_name, files_under, find_file};
use super::{EesSource, PublishedValue, ReferenceError, Source, sources};
use crate::domain::schema::PUBLISHED;
use crate::ingest::text::decode;

/// Parses DfE's "years:months" averages ("01:07" = 1 year 7 months) into days; anything else
/// as [`parse_published`].
pub fn parse_years_months(cell: &str) -> (Option<f64>, Option<String>) {
    let t = cell.trim();
    match t
        .split_once(':')
        .map(|(y, m)| (y.parse::<u32>(), m.parse::<u32>()))
    {
        Some((Ok(y), Ok(m))) if m < 12 => {
            (Some(f64::from(y) * 365.25 + f64::from(m) * 30.4375), None)
        }
        _ => parse_published(t),
    }
}

/// Parses a published cell: a number, or a suppression symbol kept as the status.
pub fn parse_published(cell: &str) -> (Option<f64>, Option<String>) {
    let t = cell.trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => (Some(v), None),
        _ if t.is_empty() => (None, Some("x".into())),
        _ => (None, Some(t.to_string())),
    }
}

/// The collection year of a LAIT/EES period label: "2025", "2024-25", "2024/25",
/// "2024-25 (OT)" all end in 2025; "2014-16" (a three-year period) ends in 2016.
pub fn year_of_period(label: &str) -> Option<i32> {
    let core = label.split_whitespace().next()?;
    if let Ok(y) = core.parse::<i32>() {
        return (1990..=2100).contains(&y).then_some(y);
    }
    let (start, end) = core.split_once(['-', '/'])?;
    let start: i32 = start.parse().ok()?;
    let end: i32 = end.parse().ok()?;
    let year = if end < 100 {
        start / 100 * 100 + end
    } else {
        end
    };
    (year > start && year - start <= 3).then_some(year)
}

#[derive(Default)]
struct Published {
    measure: Vec<String>,
    year: Vec<i32>,
    level: Vec<String>,
    code: Vec<String>,
    value: Vec<Option<f64>>,
    status: Vec<Option<String>>,
    numerator: Vec<Option<f64>>,
    denominator: Vec<Option<f64>>,
}

impl Published {
    /// Adds the figure of `measure` for `year` in the area (`level`, `code`).
    fn push(
        &mut self,
        measure: &str,
        year: i32,
        (level, code): (&str, &str),
        figure: PublishedValue,
    ) {
        self.measure.push(measure.into());
        self.year.push(year);
        self.level.push(level.into());
        self.code.push(code.into());
        self.value.push(figure.value);
        self.status.push(figure.status);
        self.numerator.push(figure.numerator);
        self.denominator.push(figure.denominator);
    }

    /// The table [`PUBLISHED`] declares, sorted by measure, area and year.
    fn frame(self) -> PolarsResult<DataFrame> {
        let df = DataFrame::new_infer_height(vec![
            Column::new("measure".into(), self.measure),
            Column::new("year".into(), self.year),
            Column::new("level".into(), self.level),
            Column::new("code".into(), self.code),
            Column::new("value".into(), self.value),
            Column::new("status".into(), self.status),
            Column::new("numerator".into(), self.numerator),
            Column::new("denominator".into(), self.denominator),
        ])?;
        let df = df.sort(
            ["measure", "level", "code", "year"],
            SortMultipleOptions::default(),
        )?;
        PUBLISHED.check(&df)?;
        Ok(df)
    }
}

/// EES geography of a row: ("national", "E92000001"), ("regional", region code) or
/// ("la", old LA code).
fn ees_area(t: &TextTable, row: &[String]) -> Option<(&'static str, String)> {
    let get = |name: &str| {
        t.header
            .iter()
            .position(|h| h == name)
            .and_then(|i| row.get(i))
            .map(|s| s.trim().to_string())
    };
    match get("geographic_level")?.as_str() {
        "National" => Some((
            "national",
            get("country_code")
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| "E92000001".into()),
        )),
        "Regional" => Some(("regional", get("region_code")?)),
        "Local authority" => {
            let code = get("old_la_code")?;
            let code = code.split('.').next().unwrap_or(&code).to_string();
            (!code.is_empty()).then_some(("la", code))
        }
        _ => None,
    }
}

/// The published DfE figures the catalogue needs, from the LAIT long table and the EES CSVs
/// under `dir` (any layout; files are recognised by name). `strict` (building the shipped
/// tables) requires every file; otherwise whichever are present are read (a user's newer
/// download of some of them), and an error is raised only when none is.
pub fn read_published(dir: &Path, strict: bool) -> Result<(DataFrame, DataFrame), ReferenceError> {
    let files = files_under(dir);
    let find = |pred: &dyn Fn(&str) -> bool| find_file(&files, pred);
    let wanted = PublishedFiles {
        dir,
        find: &find,
        strict,
    };
    let sources = sources()?;
    let mut published = Published::default();
    let mut found = wanted.read_ees(&sources, &mut published)?;
    let mut measures_rows: Vec<MeasureRow> = sources
        .iter()
        .map(|s| {
            (
                s.id.clone(),
                if s.lait.is_some() { "lait" } else { "ees" }.to_string(),
                s.unit.clone(),
                String::new(),
                String::new(),
            )
        })
        .collect();
    if sources.iter().any(|s| s.lait.is_some()) {
        found += wanted.read_lait(&sources, &mut published)?;
        wanted.read_lait_dictionary(&mut measures_rows)?;
    }
    let measures = measures_frame(&measures_rows)?;
    if found == 0 {
        return Err(ReferenceError::Missing {
            what: "published DfE figures",
            dir: dir.into(),
            hint: "expected bds_long*.parquet/csv (LAIT) or EES CSVs named as in data/reference/sources.yaml",
        });
    }
    Ok((published.frame()?, measures))
}

/// A row of `measures.csv`: measure, source (`lait` or `ees`), unit, LAIT polarity and title.
type MeasureRow = (String, String, String, String, String);

/// Where the published files are looked for, and whether each one is required.
struct PublishedFiles<'a> {
    dir: &'a Path,
    find: &'a FindFile<'a>,
    strict: bool,
}

impl PublishedFiles<'_> {
    /// The EES measures, each CSV read once however many measures it holds; returns how
    /// many of the CSVs were found.
    fn read_ees(
        &self,
        sources: &[Source],
        published: &mut Published,
    ) -> Result<usize, ReferenceError> {
        let mut found = 0;
        let mut ees_cache: HashMap<String, TextTable> = HashMap::new();
        for (source, ees) in sources
            .iter()
            .filter_map(|s| s.ees.as_ref().map(|ees| (s, ees)))
        {
            if !ees_cache.contains_key(&ees.file) {
                let path = (self.find)(&|n| {
                    n.starts_with(&ees.file.to_ascii_lowercase()) && n.ends_with(".csv")
                });
                match path {
                    Some(path) => {
                        ees_cache.insert(ees.file.clone(), TextTable::read(&path)?);
                        found += 1;
                    }
                    None if self.strict => {
                        return Err(ReferenceError::Missing {
                            what: "EES",
                            dir: self.dir.into(),
                            hint: "see data/reference/sources.yaml for the file-name prefixes",
                        });
                    }
                    None => continue,
                }
            }
            extract_ees(source, ees, &ees_cache[&ees.file], published)?;
        }
        Ok(found)
    }

    /// The LAIT measures from the long table; returns 1 if it was found, else 0.
    fn read_lait(
        &self,
        sources: &[Source],
        published: &mut Published,
    ) -> Result<usize, ReferenceError> {
        let lait_path = (self.find)(&|n| {
            n.starts_with("bds_long") && (n.ends_with(".parquet") || n.ends_with(".csv"))
        });
        match lait_path {
            Some(p) => {
                extract_lait(sources, &p, published)?;
                Ok(1)
            }
            None if self.strict => Err(ReferenceError::Missing {
                what: "LAIT",
                dir: self.dir.into(),
                hint: "expected bds_long*.parquet (or .csv) from the LAIT download",
            }),
            None => Ok(0),
        }
    }

    /// The LAIT measures' polarity and title, from the LAIT data dictionary if it is there.
    fn read_lait_dictionary(&self, measures_rows: &mut [MeasureRow]) -> Result<(), ReferenceError> {
        let Some(dict) =
            (self.find)(&|n| n.starts_with("lait_data_dictionary") && n.ends_with(".csv"))
        else {
            return Ok(());
        };
        let t = TextTable::read(&dict)?;
        let (short, polarity, measure) = (
            t.col("Measure_short")?,
            t.col("Polarity")?,
            t.col("Measure")?,
        );
        for row in &t.rows {
            let key = format!("lait:{}", row[short].trim());
            if let Some(m) = measures_rows.iter_mut().find(|m| m.0 == key) {
                m.3 = match row[polarity].trim().to_ascii_lowercase().as_str() {
                    "high" => "high",
                    "low" => "low",
                    _ => "neutral",
                }
                .into();
                m.4 = row[measure].trim().to_string();
            }
        }
        Ok(())
    }
}

/// The `measures.csv` table.
fn measures_frame(measures_rows: &[MeasureRow]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new(
            "measure".into(),
            measures_rows
                .iter()
                .map(|m| m.0.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "source".into(),
            measures_rows
                .iter()
                .map(|m| m.1.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "unit".into(),
            measures_rows
                .iter()
                .map(|m| m.2.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "polarity".into(),
            measures_rows
                .iter()
                .map(|m| m.3.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "title".into(),
            measures_rows
                .iter()
                .map(|m| m.4.clone())
                .collect::<Vec<_>>(),
        ),
    ])
}
/// One EES measure's rows, by area and year, with the numerator and denominator where the
/// source names them (a denominator on rows of its own is matched by year and area).
fn extract_ees(
    source: &Source,
    ees: &EesSource,
    t: &TextTable,
    out: &mut Published,
) -> Result<(), ReferenceError> {
    let year_col = t.col("time_period")?;
    let value_col = t.col(&ees.value)?;
    let num_col = ees.numerator.as_deref().map(|c| t.col(c)).transpose()?;
    let den_col = ees.denominator.as_deref().map(|c| t.col(c)).transpose()?;
    let filters: Vec<(usize, &str)> = ees
        .filter
        .iter()
        .map(|(k, v)| Ok((t.col(k)?, v.as_str())))
        .collect::<Result<_, ReferenceError>>()?;
    let den_filters: Option<Vec<(usize, &str)>> = ees
        .denominator_filter
        .as_ref()
        .map(|f| {
            f.iter()
                .map(|(k, v)| Ok((t.col(k)?, v.as_str())))
                .collect::<Result<_, ReferenceError>>()
        })
        .transpose()?;
    let matches = |row: &[String], f: &[(usize, &str)]| {
        f.iter()
            .all(|(i, v)| row.get(*i).is_some_and(|c| c.trim() == *v))
    };
    // Denominators on their own rows, by (year, area).
    let mut denominators: HashMap<(String, &'static str, String), Option<f64>> = HashMap::new();
    if let (Some(df), Some(dc)) = (&den_filters, den_col) {
        for row in t.rows.iter().filter(|r| matches(r, df)) {
            if let Some((level, code)) = ees_area(t, row) {
                denominators.insert(
                    (row[year_col].trim().to_string(), level, code),
                    parse_published(&row[dc]).0,
                );
            }
        }
    }
    for row in t.rows.iter().filter(|r| matches(r, &filters)) {
        let Some(year) = year_of_period(row[year_col].trim()) else {
            continue;
        };
        let Some((level, code)) = ees_area(t, row) else {
            continue;
        };
        let (value, status) = match ees.format.as_deref() {
            Some("years_months") => parse_years_months(&row[value_col]),
            _ => parse_published(&row[value_col]),
        };
        let numerator = num_col.and_then(|c| parse_published(&row[c]).0);
        let denominator = if den_filters.is_some() {
            denominators
                .get(&(row[year_col].trim().to_string(), level, code.clone()))
                .copied()
                .flatten()
        } else {
            den_col.and_then(|c| parse_published(&row[c]).0)
        };
        let figure = PublishedValue {
            value,
            status,
            numerator,
            denominator,
        };
        out.push(&source.id, year, (level, &code), figure);
    }
    Ok(())
}

/// LAIT LA numbers for England (970) and the regions (980–990) mapped to ONS codes; the Inner
/// and Outer London sub-regions (987, 988) have no ONS region and are not kept.
fn lait_area(number: i64) -> Option<(&'static str, String)> {
    let region = |c: &str| Some(("regional", c.to_string()));
    match number {
        970 => Some(("national", "E92000001".into())),
        980 => region("E12000001"),
        981 => region("E12000002"),
        982 => region("E12000003"),
        983 => region("E12000004"),
        984 => region("E12000005"),
        985 => region("E12000006"),
        986 => region("E12000007"),
        989 => region("E12000008"),
        990 => region("E12000009"),
        987 | 988 | 1000 => None,
        n if (100..970).contains(&n) => Some(("la", n.to_string())),
        _ => None,
    }
}

/// The LAIT measures' rows of the long table (parquet or CSV), by area and year.
fn extract_lait(
    sources: &[Source],
    path: &Path,
    out: &mut Published,
) -> Result<(), ReferenceError> {
    let df = if file_name(path).ends_with(".parquet") {
        let file = std::fs::File::open(path).map_err(|e| ReferenceError::Io(path.into(), e))?;
        ParquetReader::new(file).finish()?
    } else {
        let bytes = std::fs::read(path).map_err(|e| ReferenceError::Io(path.into(), e))?;
        let (text, _) = decode(&bytes);
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .into_reader_with_file_handle(Cursor::new(text.into_bytes()))
            .finish()?
    };
    let wanted: HashMap<&str, &str> = sources
        .iter()
        .filter_map(|s| s.lait.as_deref().map(|k| (k, s.id.as_str())))
        .collect();
    let key = df.column("Short Desc")?.cast(&DataType::String)?;
    let years = df.column("Years")?.cast(&DataType::String)?;
    let values = df.column("Values")?.cast(&DataType::String)?;
    let numbers = df.column("LA Number")?.cast(&DataType::Float64)?;
    let (key, years, values, numbers) = (key.str()?, years.str()?, values.str()?, numbers.f64()?);
    for i in 0..df.height() {
        let Some(id) = key.get(i).and_then(|k| wanted.get(k)) else {
            continue;
        };
        let Some(year) = years
            .get(i)
            .filter(|y| !y.contains('('))
            .and_then(year_of_period)
        else {
            continue;
        };
        let Some((level, code)) = numbers.get(i).and_then(|n| lait_area(n as i64)) else {
            continue;
        };
        let (value, status) = parse_published(values.get(i).unwrap_or(""));
        let figure = PublishedValue {
            value,
            status,
            numerator: None,
            denominator: None,
        };
        out.push(id, year, (level, &code), figure);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_labels_give_the_year_they_end() {
        assert_eq!(year_of_period("2025"), Some(2025));
        assert_eq!(year_of_period("2024-25"), Some(2025));
        assert_eq!(year_of_period("2024/25"), Some(2025));
        assert_eq!(year_of_period("2014-16"), Some(2016));
        assert_eq!(year_of_period("2099-01"), None);
        assert_eq!(year_of_period("n/a"), None);
    }

    #[test]
    fn suppression_symbols_are_not_zero() {
        assert_eq!(parse_published("22.9"), (Some(22.9), None));
        assert_eq!(parse_published("c"), (None, Some("c".into())));
        assert_eq!(parse_published("low"), (None, Some("low".into())));
        assert_eq!(parse_published("-"), (None, Some("-".into())));
    }
}
