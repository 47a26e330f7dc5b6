//! Ofsted's published inspection outcomes for each LA (the "Local authority inspection outcomes"
//! official statistics: every ILACS inspection since 2018 and the year's focused and monitoring
//! visits), for the context section's "Previous Ofsted inspections".
//!
//! `cspi reference build` reads Ofsted's workbook (ODS or xlsx) into `data/reference/
//! inspections.csv`, which is embedded; the runtime reads only that table. Inspections under the
//! 2015 single inspection framework and earlier are not in Ofsted's table: for those the section
//! keeps a visible placeholder the LA fills in its local context file.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use chrono::NaiveDate;
use polars::prelude::*;

use super::reference::ReferenceError;
use crate::domain::dates::{format_iso, from_excel_datetime, parse_date};

/// The judgement columns, as Ofsted heads them, and the short names the table uses.
const JUDGEMENTS: [(&str, &str); 5] = [
    ("Overall effectiveness", "overall"),
    (
        "The impact of leaders on social work practice with children and families",
        "leaders",
    ),
    (
        "The experiences and progress of children who need help and protection",
        "help_and_protection",
    ),
    (
        "The experiences and progress of children in care",
        "children_in_care",
    ),
    (
        "The experiences and progress of care leavers",
        "care_leavers",
    ),
];

/// One inspection or visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub la_code: String,
    pub date: NaiveDate,
    pub published: Option<NaiveDate>,
    /// Ofsted's type: "ILACS Standard Inspection", "ILACS Short Inspection", "LA Focused
    /// visit", "LA Monitoring visit", …
    pub kind: String,
    /// (judgement column heading, grade) for each judgement made.
    pub judgements: Vec<(String, String)>,
    /// A visit's theme.
    pub theme: Option<String>,
}

impl Inspection {
    fn is_inspection(&self) -> bool {
        !self.judgements.is_empty()
    }

    fn month(&self) -> String {
        self.date.format("%B %Y").to_string()
    }

    fn kind_in_words(&self) -> String {
        self.kind
            .replace("LA ", "")
            .to_lowercase()
            .replace("ilacs", "ILACS")
    }

    /// "the ILACS standard inspection of October 2024, published December 2024: overall
    /// effectiveness good (the impact of leaders …: good; …)".
    fn describe(&self) -> String {
        let published = self.published.map_or(String::new(), |p| {
            format!(", published {}", p.format("%B %Y"))
        });
        let grades: Vec<String> = self
            .judgements
            .iter()
            .map(|(j, g)| format!("{}: {}", lower_first(j), g.to_lowercase()))
            .collect();
        format!(
            "the {} of {}{published} ({})",
            self.kind_in_words(),
            self.month(),
            grades.join("; ")
        )
    }
}

/// The judgement's heading as it was on the inspection's date: before 1 January 2023 Ofsted
/// judged children in care and care leavers together, and its table keeps that grade in the
/// children-in-care column.
fn heading_on(heading: &str, date: NaiveDate) -> String {
    let care_leavers_apart = NaiveDate::from_ymd_opt(2023, 1, 1).expect("valid date");
    if heading == "The experiences and progress of children in care" && date < care_leavers_apart {
        "The experiences and progress of children in care and care leavers".to_string()
    } else {
        heading.to_string()
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| {
        f.to_lowercase().collect::<String>() + c.as_str()
    })
}

/// Every LA's inspections, earliest first.
#[derive(Debug, Default)]
pub struct Inspections {
    by_la: HashMap<String, Vec<Inspection>>,
}

impl Inspections {
    /// The table committed in `data/reference/inspections.csv`.
    pub fn embedded() -> &'static Inspections {
        static I: OnceLock<Inspections> = OnceLock::new();
        I.get_or_init(|| {
            Inspections::from_csv(include_str!("../../data/reference/inspections.csv"))
                .unwrap_or_default()
        })
    }

    /// Reads the table `build` writes.
    pub fn from_csv(text: &str) -> Result<Inspections, String> {
        let mut rows = super::csv_lines::records(text).filter(|r| !r.is_blank());
        let header = rows.next().map(|r| r.fields).unwrap_or_default();
        let at = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| format!("inspections.csv has no column {name}"))
        };
        let (la, date, published, kind, theme) = (
            at("la_code")?,
            at("date")?,
            at("published")?,
            at("kind")?,
            at("theme")?,
        );
        let grades: Vec<(usize, &str)> = JUDGEMENTS
            .iter()
            .map(|(heading, short)| at(short).map(|i| (i, *heading)))
            .collect::<Result<_, _>>()?;
        let mut by_la: HashMap<String, Vec<Inspection>> = HashMap::new();
        for r in rows {
            let cell = |i: usize| r.fields.get(i).map(|s| s.trim()).unwrap_or("");
            let Some(d) = parse_date(cell(date)) else {
                continue;
            };
            by_la
                .entry(cell(la).to_string())
                .or_default()
                .push(Inspection {
                    la_code: cell(la).to_string(),
                    date: d,
                    published: parse_date(cell(published)),
                    kind: cell(kind).to_string(),
                    judgements: grades
                        .iter()
                        .filter(|(i, _)| !cell(*i).is_empty())
                        .map(|(i, h)| (heading_on(h, d), cell(*i).to_string()))
                        .collect(),
                    theme: Some(cell(theme).to_string()).filter(|t| !t.is_empty()),
                });
        }
        for v in by_la.values_mut() {
            v.sort_by(|a, b| (a.date, &a.kind).cmp(&(b.date, &b.kind)));
        }
        Ok(Inspections { by_la })
    }

    /// The LA's inspections and visits before a date, earliest first.
    pub fn before(&self, la: &str, date: NaiveDate) -> Vec<&Inspection> {
        self.by_la
            .get(la)
            .map(|v| v.iter().filter(|i| i.date < date).collect())
            .unwrap_or_default()
    }

    /// The context section's text for a key, from inspections before `date`:
    /// - `previous`: the last inspection with judgements;
    /// - `before_previous`: the one before it;
    /// - `visits`: the focused and monitoring visits since the last inspection.
    ///
    /// None when Ofsted's table has nothing for it (SIF-era keys such as `safeguarding` and
    /// `looked_after` always: the table starts in 2018).
    pub fn describe(&self, la: &str, key: &str, date: NaiveDate) -> Option<String> {
        let held = self.before(la, date);
        let inspections: Vec<&&Inspection> = held.iter().filter(|i| i.is_inspection()).collect();
        match key {
            "previous" => inspections.last().map(|i| i.describe()),
            "before_previous" => inspections
                .len()
                .checked_sub(2)
                .map(|k| inspections[k].describe()),
            "visits" => {
                let since = inspections.last().map(|i| i.date);
                let visits: Vec<String> = held
                    .iter()
                    .filter(|i| !i.is_inspection() && since.is_none_or(|s| i.date > s))
                    .map(|i| {
                        format!(
                            "a {} in {}{}",
                            i.kind_in_words(),
                            i.month(),
                            i.theme
                                .as_ref()
                                .map_or(String::new(), |t| format!(" ({})", t.to_lowercase()))
                        )
                    })
                    .collect();
                Some(if visits.is_empty() {
                    "none".to_string()
                } else {
                    visits.join("; ")
                })
                .filter(|_| !held.is_empty())
            }
            _ => None,
        }
    }
}

/// Ofsted's outcomes workbook under `dir` (searched recursively, as `cspi reference build`
/// searches for every public file): the last `LA_Inspection_Outcomes_*.ods` or `.xlsx` by name.
pub fn find(dir: &Path) -> Option<std::path::PathBuf> {
    super::reference::files_under(dir)
        .into_iter()
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy().to_ascii_lowercase();
                n.starts_with("la_inspection_outcomes")
                    && (n.ends_with(".ods") || n.ends_with(".xlsx"))
            })
        })
        .max()
}

/// A cell of Ofsted's workbook as text (dates ISO).
fn cell_text(c: &calamine::Data) -> String {
    use calamine::Data;
    match c {
        Data::DateTime(dt) => from_excel_datetime(dt).map(format_iso).unwrap_or_default(),
        Data::DateTimeIso(s) => parse_date(s.get(..10).unwrap_or(s))
            .map(format_iso)
            .unwrap_or_default(),
        Data::Empty | Data::Error(_) => String::new(),
        other => other.to_string().trim().to_string(),
    }
}

/// Reads Ofsted's workbook ("LA_Inspection_Outcomes_as_at_*.ods" or .xlsx): the ILACS history
/// sheet and the in-year sheet (for focused and monitoring visits), each table found by its
/// header row; `la_of` maps an ONS area code to the DfE LA code. One row per LA, date and type.
pub fn build(
    path: &Path,
    la_of: &dyn Fn(&str) -> Option<String>,
) -> Result<DataFrame, ReferenceError> {
    use calamine::{Reader, open_workbook_auto};
    let bad = |message: String| ReferenceError::Format {
        file: path.into(),
        message,
    };
    let mut book = open_workbook_auto(path).map_err(|e| bad(e.to_string()))?;
    let mut rows: Vec<[String; 10]> = vec![];
    let mut found = 0;
    for sheet in book.sheet_names() {
        let range = book
            .worksheet_range(&sheet)
            .map_err(|e| bad(format!("sheet {sheet}: {e}")))?;
        let cells: Vec<Vec<String>> = range
            .rows()
            .map(|r| r.iter().map(cell_text).collect())
            .collect();
        let Some(h) = cells
            .iter()
            .position(|r| r.iter().any(|c| c == "Local authority area code"))
        else {
            continue;
        };
        let header = &cells[h];
        let at = |names: &[&str]| header.iter().position(|c| names.contains(&c.as_str()));
        let (Some(code), Some(date), Some(kind)) = (
            at(&["Local authority area code"]),
            at(&["Inspection date", "Inspection/Visit date"]),
            at(&["Inspection type", "Inspection/Visit type"]),
        ) else {
            // The "as at 31 March" sheet has no type column: every row is in the history too.
            continue;
        };
        found += 1;
        let published = at(&["Publication date"]);
        let theme = at(&["Visit Theme"]);
        let grades: Vec<Option<usize>> = JUDGEMENTS.iter().map(|(j, _)| at(&[j])).collect();
        for r in &cells[h + 1..] {
            let get = |i: Option<usize>| i.and_then(|i| r.get(i)).cloned().unwrap_or_default();
            let ons = get(Some(code));
            let (Some(la), false) = (la_of(&ons), get(Some(date)).is_empty()) else {
                continue;
            };
            let mut row: [String; 10] = Default::default();
            row[0] = la;
            row[1] = get(Some(date));
            row[2] = get(published);
            row[3] = get(Some(kind));
            for (k, g) in grades.iter().enumerate() {
                row[4 + k] = get(*g);
            }
            row[9] = get(theme);
            rows.push(row);
        }
    }
    if found == 0 {
        return Err(bad(
            "no sheet with Ofsted's inspection history (a header row with 'Local authority area code' and 'Inspection type')".into(),
        ));
    }
    rows.sort();
    rows.dedup_by(|a, b| a[..4] == b[..4]);
    let names = [
        "la_code",
        "date",
        "published",
        "kind",
        "overall",
        "leaders",
        "help_and_protection",
        "children_in_care",
        "care_leavers",
        "theme",
    ];
    let columns = names
        .iter()
        .enumerate()
        .map(|(k, n)| {
            Column::new(
                (*n).into(),
                rows.iter().map(|r| r[k].clone()).collect::<Vec<_>>(),
            )
        })
        .collect();
    Ok(DataFrame::new_infer_height(columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "la_code,date,published,kind,overall,leaders,help_and_protection,children_in_care,care_leavers,theme\n\
        925,2019-04-29,2019-06-11,ILACS Short Inspection,Outstanding,Outstanding,Good,Outstanding,,\n\
        925,2021-03-01,2021-04-01,LA Focused visit,,,,,,Children in care\n\
        925,2023-04-24,2023-06-14,ILACS Short Inspection,Outstanding,Outstanding,Outstanding,Outstanding,Good,\n\
        925,2024-09-17,2024-10-17,LA Monitoring visit,,,,,,Children in need/subject to a plan\n";

    #[test]
    fn the_previous_inspection_is_the_last_before_the_date() {
        let i = Inspections::from_csv(CSV).unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            i.describe("925", "previous", d("2023-04-24")).unwrap(),
            "the ILACS short inspection of April 2019, published June 2019 (overall effectiveness: outstanding; the impact of leaders on social work practice with children and families: outstanding; the experiences and progress of children who need help and protection: good; the experiences and progress of children in care and care leavers: outstanding)"
        );
        let now = i.describe("925", "previous", d("2025-01-01")).unwrap();
        assert!(now.starts_with("the ILACS short inspection of April 2023"));
        assert!(now.ends_with("the experiences and progress of care leavers: good)"));
        assert_eq!(
            i.describe("925", "visits", d("2025-01-01")).unwrap(),
            "a monitoring visit in September 2024 (children in need/subject to a plan)"
        );
        assert_eq!(
            i.describe("925", "visits", d("2022-01-01")).unwrap(),
            "a focused visit in March 2021 (children in care)"
        );
        assert!(
            i.describe("925", "before_previous", d("2025-01-01"))
                .unwrap()
                .contains("April 2019")
        );
        assert_eq!(i.describe("925", "previous", d("2019-01-01")), None);
        assert_eq!(i.describe("925", "safeguarding", d("2025-01-01")), None);
        assert_eq!(i.describe("999", "previous", d("2025-01-01")), None);
    }

    #[test]
    fn the_shipped_table_holds_ofsteds_published_outcomes() {
        // Southend-on-Sea (882): ILACS standard inspection of October 2024 (Ofsted's outcomes
        // as at 31 March 2025): good overall, children in care requires improvement.
        let text = Inspections::embedded()
            .describe(
                "882",
                "previous",
                NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
            )
            .unwrap();
        assert!(text.starts_with("the ILACS standard inspection of October 2024, published December 2024 (overall effectiveness: good;"), "{text}");
        assert!(
            text.contains(
                "the experiences and progress of children in care: requires improvement to be good"
            ),
            "{text}"
        );
    }
}
