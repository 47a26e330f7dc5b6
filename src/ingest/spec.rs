//! The canonical table specifications (`data/formats/*.yaml`): one declaration of every table,
//! column, type, key, CSV header and XML path, shared by the CSV reader, the XML flattener, the
//! validator, the history store and the synthetic generator.

use std::sync::OnceLock;

use serde::Deserialize;

/// How a column's text is read and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An identifier (child id, social worker id): trimmed, case kept.
    Id,
    /// Free text, trimmed.
    Text,
    /// A code checked against a year's code list; stored as the list's canonical value.
    Code,
    /// A date; stored as a polars `Date`.
    Date,
    /// A whole number, optionally bounded.
    Int,
    /// true/false/1/0 (also Y/N, yes/no).
    Bool,
    /// Several codes (XML repeated elements), each checked; stored joined with ",".
    List,
    /// A UK postcode or postcode sector, normalised to upper case with one space.
    Postcode,
    /// A unique pupil number: 13 characters with a check letter.
    Upn,
}

/// When a column must have a value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Required {
    Always(bool),
    /// Required when the named column has a value (REC when DEC is given).
    With(String),
}

impl Default for Required {
    fn default() -> Self {
        Required::Always(false)
    }
}

/// The collection years something is in force: from `from` to `to`, both included (None: no
/// bound). Years are collection years by their end (2025 is 2024/25), as a table's `from`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Years {
    pub from: Option<i32>,
    pub to: Option<i32>,
}

impl Years {
    /// Whether a collection year falls in these years.
    pub fn contains(&self, year: i32) -> bool {
        self.from.is_none_or(|f| year >= f) && self.to.is_none_or(|t| year <= t)
    }
}

/// One XML path of a column: a bare path (in force every year), or one with the years it is
/// in force (`{path: ChildIdentifiers/Sex, from: 2025}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Path {
    Always(String),
    InForce {
        path: String,
        #[serde(default)]
        from: Option<i32>,
        #[serde(default)]
        to: Option<i32>,
    },
}

impl Path {
    fn split(self) -> (String, Years) {
        match self {
            Path::Always(path) => (path, Years::default()),
            Path::InForce { path, from, to } => (path, Years { from, to }),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Paths {
    One(Path),
    Many(Vec<Path>),
}

#[derive(Debug, Clone, Deserialize)]
struct RawColumn {
    name: String,
    csv: Option<String>,
    xml: Option<Paths>,
    kind: Kind,
    #[serde(default)]
    required: Required,
    codes: Option<String>,
    min: Option<i64>,
    max: Option<i64>,
    future_years: Option<i32>,
    when_blank: Option<String>,
}

/// One column of a canonical table.
#[derive(Debug, Clone)]
pub struct ColumnSpec {
    pub name: String,
    /// CSV header (SSDA903 CSV files only).
    pub csv: Option<String>,
    /// XML paths (alternatives, first present wins); see the YAML header for the notation.
    pub xml: Vec<String>,
    /// The years each of `xml` is in force: the reader takes whichever is present, the
    /// generator writes the one in force in the year it writes (GenderCurrent to 2023/24, Sex
    /// from 2024/25).
    pub xml_years: Vec<Years>,
    pub kind: Kind,
    pub required: Required,
    /// Code list name for `code` and `list` columns.
    pub codes: Option<String>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// For a date: how many years after the end of the collection year it may fall (default 1;
    /// the date UASC ceases, an 18th birthday, may be many years ahead).
    pub future_years: Option<i32>,
    /// A blank value is kept, with a warning saying what the reader assumes instead (a UASC
    /// child's blank DUC: the 18th birthday, as DfE's guide says). The row is never lost for it.
    pub when_blank: Option<String>,
}

/// One canonical table.
#[derive(Debug, Clone, Deserialize)]
pub struct TableSpec {
    pub name: String,
    /// Columns identifying a record across returns (latest return wins in the history).
    pub key: Vec<String>,
    #[serde(default)]
    pub csv: bool,
    pub xml_record: Option<String>,
    /// XML tables that share a record element exist only for records with one of these: a
    /// column name (any value) or `column=value`.
    #[serde(default)]
    pub emit_when: Vec<String>,
    /// The first collection year the return has this table (social worker episodes 2024,
    /// DoLOs 2027); None: every year.
    #[serde(default)]
    pub from: Option<i32>,
    #[serde(deserialize_with = "columns")]
    pub columns: Vec<ColumnSpec>,
}

fn columns<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ColumnSpec>, D::Error> {
    let raw: Vec<RawColumn> = Vec::deserialize(d)?;
    Ok(raw
        .into_iter()
        .map(|c| {
            let (xml, xml_years) = match c.xml {
                None => vec![],
                Some(Paths::One(p)) => vec![p],
                Some(Paths::Many(v)) => v,
            }
            .into_iter()
            .map(Path::split)
            .unzip();
            ColumnSpec {
                name: c.name,
                csv: c.csv,
                xml,
                xml_years,
                kind: c.kind,
                required: c.required,
                codes: c.codes,
                min: c.min,
                max: c.max,
                future_years: c.future_years,
                when_blank: c.when_blank,
            }
        })
        .collect())
}

impl TableSpec {
    /// Whether a collection year's return has this table.
    pub fn in_year(&self, year: i32) -> bool {
        self.from.is_none_or(|f| year >= f)
    }

    /// Index of a column by canonical name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// Which date form a format writes (both are accepted on input; this is what the generator
/// writes and what messages suggest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateStyle {
    Dmy,
    Iso,
}

/// A return family: SSDA903 or CIN census.
#[derive(Debug, Clone, Deserialize)]
pub struct FormatSpec {
    pub format: String,
    /// Path of the repeated element that holds one child (XML).
    pub unit: String,
    pub date_style: DateStyle,
    /// Values read once per file from outside the units (the CIN header's collection year,
    /// reference date and LA code): (name, path from the document root), in the order the YAML
    /// lists them, which is the order the generator writes the header in.
    #[serde(default, deserialize_with = "in_order")]
    pub file_values: Vec<(String, String)>,
    /// The order of the elements inside an XML element where it is not the order the tables
    /// and columns are declared in (the 903's HEADER and EPISODE, whose columns keep the CSV
    /// files' order): element path from the unit (as `xml_record`) → its child elements' names.
    /// Only the generator uses it: the reader takes elements in any order.
    #[serde(default)]
    pub xml_order: std::collections::BTreeMap<String, Vec<String>>,
    pub tables: Vec<TableSpec>,
}

/// A YAML mapping as its (key, value) pairs in the file's order (a map type would sort them).
fn in_order<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    struct InOrder;
    impl<'de> serde::de::Visitor<'de> for InOrder {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a mapping of value names to XML paths")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut pairs = vec![];
            while let Some(pair) = map.next_entry()? {
                pairs.push(pair);
            }
            Ok(pairs)
        }
    }
    d.deserialize_map(InOrder)
}

impl FormatSpec {
    /// The SSDA903 tables (`data/formats/ssda903.yaml`).
    pub fn ssda903() -> &'static FormatSpec {
        static SPEC: OnceLock<FormatSpec> = OnceLock::new();
        SPEC.get_or_init(|| {
            let text = crate::domain::codes::dev_data("formats/ssda903.yaml")
                .unwrap_or_else(|| include_str!("../../data/formats/ssda903.yaml").to_string());
            serde_yaml::from_str(&text).expect("data/formats/ssda903.yaml is valid")
        })
    }

    /// The CIN census tables (`data/formats/cin.yaml`).
    pub fn cin() -> &'static FormatSpec {
        static SPEC: OnceLock<FormatSpec> = OnceLock::new();
        SPEC.get_or_init(|| {
            let text = crate::domain::codes::dev_data("formats/cin.yaml")
                .unwrap_or_else(|| include_str!("../../data/formats/cin.yaml").to_string());
            serde_yaml::from_str(&text).expect("data/formats/cin.yaml is valid")
        })
    }

    /// A table by name.
    pub fn table(&self, name: &str) -> Option<&TableSpec> {
        self.tables.iter().find(|t| t.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::codes::CodeLists;

    /// Every code list a spec names exists, every key column exists, every `required: <col>`
    /// names a column: a typo in the YAML fails here rather than at a user's desk.
    #[test]
    fn specs_are_consistent_with_the_code_lists() {
        for (spec, codes) in [
            (FormatSpec::ssda903(), CodeLists::ssda903()),
            (FormatSpec::cin(), CodeLists::cin()),
        ] {
            for table in &spec.tables {
                for key in &table.key {
                    assert!(
                        key == "source_year" || table.column_index(key).is_some(),
                        "{}.{key}",
                        table.name
                    );
                }
                for column in &table.columns {
                    if let Some(list) = &column.codes {
                        assert!(codes.get(list).is_some(), "{}.{}", table.name, column.name);
                    }
                    if matches!(column.kind, Kind::Code | Kind::List) {
                        assert!(column.codes.is_some(), "{}.{}", table.name, column.name);
                    }
                    // The generator writes the path in force in the year: two at once would
                    // leave it a choice the declaration does not make.
                    if column.xml_years.iter().any(|y| *y != Years::default()) {
                        for year in 2000..=2100 {
                            let n = column.xml_years.iter().filter(|y| y.contains(year)).count();
                            assert!(n <= 1, "{}.{} in {year}", table.name, column.name);
                        }
                    }
                    if let Required::With(other) = &column.required {
                        assert!(
                            table.column_index(other).is_some(),
                            "{}.{other}",
                            table.name
                        );
                    }
                }
                for col in &table.emit_when {
                    let name = col.split_once('=').map_or(col.as_str(), |(c, _)| c);
                    assert!(table.column_index(name).is_some(), "{}.{col}", table.name);
                }
            }
        }
        assert_eq!(FormatSpec::ssda903().tables.len(), 12);
    }
}
