//! How the catalogue covers DfE's LAIT children's social care measures: each measure of the
//! LAIT data dictionary (`data/reference/lait_measures.csv`) is defined (a definition carries
//! its key in `benchmark.lait`, so the comparison uses DfE's published figures), listed in
//! `data/lait/*.yaml` as not computable from the returns (with the reason: school attainment
//! needs the National Pupil Database, not the 903) or as still to define, or published only
//! (workforce and finance, which no return holds: shown from DfE's tables). An inspector who
//! finds a measure in LAIT can look it up here.

use std::collections::BTreeMap;
use std::io::Cursor;

use polars::prelude::*;
use serde::Deserialize;

use super::catalogue::Catalogue;

/// The dictionary's measures, committed by `cspi reference build`.
const MEASURES: &str = include_str!("../../data/reference/lait_measures.csv");

/// The lists of measures not defined, one file per area.
const LISTS: [(&str, &str); 2] = [
    (
        "data/lait/help_and_protection.yaml",
        include_str!("../../data/lait/help_and_protection.yaml"),
    ),
    (
        "data/lait/looked_after.yaml",
        include_str!("../../data/lait/looked_after.yaml"),
    ),
];

/// The topics whose figures no return holds.
const PUBLISHED_ONLY: [&str; 2] = [
    "Children's Services Workforce",
    "Children's Service Finance",
];

/// Why a measure is not in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Listed {
    /// The returns cannot give it (another collection holds the data).
    NotComputable,
    /// The returns can give it; no definition yet.
    Pending,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    lait: String,
    status: Listed,
    reason: String,
}

/// One LAIT measure and how the catalogue answers for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Covered {
    pub code: String,
    pub topic: String,
    pub key: String,
    pub measure: String,
    pub status: Status,
}

/// How a measure is covered.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Computed by these definitions.
    Defined(Vec<String>),
    /// Listed, with the reason.
    Listed(Listed, String),
    /// Workforce or finance: DfE's published tables only.
    PublishedOnly,
    /// Nowhere: neither defined nor listed.
    Unaccounted,
}

impl Status {
    pub fn word(&self) -> &'static str {
        match self {
            Status::Defined(_) => "defined",
            Status::Listed(l, _) => l.into(),
            Status::PublishedOnly => "published_only",
            Status::Unaccounted => "unaccounted",
        }
    }
}

/// A problem with the lists themselves: a key LAIT does not have, a measure listed twice or
/// both listed and defined, a file that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct CoverageError {
    pub file: String,
    pub message: String,
}

/// Every LAIT measure of the dictionary with how `catalogue` covers it, in the dictionary's
/// order.
pub fn coverage(catalogue: &Catalogue) -> Result<Vec<Covered>, CoverageError> {
    let err = |file: &str, message: String| CoverageError {
        file: file.into(),
        message,
    };
    let measures = measures()?;
    let text = |c: &str| -> Result<Vec<String>, CoverageError> {
        Ok(measures
            .column(c)
            .and_then(|c| c.str().cloned())
            .map_err(|e| err("data/reference/lait_measures.csv", e.to_string()))?
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect())
    };
    let (codes, topics, keys, names) = (
        text("measure_code")?,
        text("topic")?,
        text("key")?,
        text("measure")?,
    );
    let mut defined: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for d in &catalogue.definitions {
        if let Some(k) = &d.benchmark.lait {
            defined.entry(k.as_str()).or_default().push(d.id.clone());
        }
    }
    let mut listed: BTreeMap<String, (Listed, String)> = BTreeMap::new();
    for (file, yaml) in LISTS {
        let entries: Vec<Entry> =
            serde_yaml::from_str(yaml).map_err(|e| err(file, e.to_string()))?;
        for e in entries {
            if !keys.contains(&e.lait) {
                return Err(err(file, format!("`{}` is not a LAIT measure", e.lait)));
            }
            if defined.contains_key(e.lait.as_str()) {
                return Err(err(
                    file,
                    format!(
                        "`{}` is defined ({}) and listed",
                        e.lait,
                        defined[e.lait.as_str()].join(", ")
                    ),
                ));
            }
            if listed
                .insert(e.lait.clone(), (e.status, e.reason))
                .is_some()
            {
                return Err(err(file, format!("`{}` is listed twice", e.lait)));
            }
        }
    }
    Ok((0..keys.len())
        .map(|i| Covered {
            code: codes[i].clone(),
            topic: topics[i].clone(),
            key: keys[i].clone(),
            measure: names[i].clone(),
            status: match (defined.get(keys[i].as_str()), listed.get(&keys[i])) {
                (Some(ids), _) => Status::Defined(ids.clone()),
                (None, Some((l, reason))) => Status::Listed(*l, reason.clone()),
                _ if PUBLISHED_ONLY.contains(&topics[i].as_str()) => Status::PublishedOnly,
                _ => Status::Unaccounted,
            },
        })
        .collect())
}

/// A LAIT measure's name as the dictionary gives it ("Percentage rate of social worker
/// turnover").
pub fn title(key: &str) -> Option<String> {
    let m = measures().ok()?;
    let keys = m.column("key").ok()?.str().ok()?;
    let names = m.column("measure").ok()?.str().ok()?;
    keys.iter()
        .zip(names.iter())
        .find(|(k, _)| *k == Some(key))
        .and_then(|(_, n)| n.map(str::to_string))
}

/// The committed measure list, read once.
fn measures() -> Result<&'static DataFrame, CoverageError> {
    static MEASURE_LIST: std::sync::OnceLock<Result<DataFrame, String>> =
        std::sync::OnceLock::new();
    MEASURE_LIST
        .get_or_init(|| {
            CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .into_reader_with_file_handle(Cursor::new(MEASURES.as_bytes().to_vec()))
                .finish()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| CoverageError {
            file: "data/reference/lait_measures.csv".into(),
            message: e.clone(),
        })
}

/// The count of measures by topic and status, for the summary line.
pub fn summary(covered: &[Covered]) -> BTreeMap<(String, &'static str), usize> {
    let mut out = BTreeMap::new();
    for c in covered {
        *out.entry((c.topic.clone(), c.status.word())).or_default() += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed list holds the dictionary's 142 children's social care measures (68
    /// looked after, 38 in need, 30 protection, 6 adoption) and 29 workforce and finance ones;
    /// every key a definition names is a LAIT measure; the lists parse and none lists a measure
    /// twice or one that is defined.
    #[test]
    fn every_lait_key_is_a_dictionary_measure_and_the_lists_are_consistent() {
        let catalogue = Catalogue::embedded().unwrap();
        let covered = coverage(&catalogue).unwrap();
        let count = |topic: &str| covered.iter().filter(|c| c.topic == topic).count();
        assert_eq!(
            [
                count("Children Looked After"),
                count("Children in Need"),
                count("Child Protection"),
                count("Adoption")
            ],
            [68, 38, 30, 6]
        );
        assert_eq!(covered.len(), 142 + 29);
        let keys: Vec<&str> = covered.iter().map(|c| c.key.as_str()).collect();
        for d in &catalogue.definitions {
            if let Some(k) = &d.benchmark.lait {
                assert!(
                    keys.contains(&k.as_str()),
                    "{}: `{k}` is not a LAIT measure",
                    d.id
                );
            }
        }
        assert!(
            covered
                .iter()
                .filter(|c| PUBLISHED_ONLY.contains(&c.topic.as_str()))
                .all(|c| c.status != Status::Unaccounted)
        );
        // Every one of the 142 is accounted for: defined, or listed with the reason; none is
        // left "pending" (computable but not defined).
        let open: Vec<&str> = covered
            .iter()
            .filter(|c| {
                matches!(
                    c.status,
                    Status::Unaccounted | Status::Listed(Listed::Pending, _)
                )
            })
            .map(|c| c.key.as_str())
            .collect();
        assert!(open.is_empty(), "not accounted for: {open:?}");
        let defined = covered
            .iter()
            .filter(|c| matches!(c.status, Status::Defined(_)))
            .count();
        let not_computable = covered
            .iter()
            .filter(|c| matches!(c.status, Status::Listed(Listed::NotComputable, _)))
            .count();
        assert_eq!(defined + not_computable, 142);
        // The national measure set: at least 120 definitions (issue 16).
        assert!(catalogue.definitions.len() >= 120);
    }
}
