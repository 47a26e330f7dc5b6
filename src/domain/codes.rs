//! Code lists per collection year, loaded from `data/codes/*.yaml`.
//!
//! The statutory returns change their code lists most years (SEX 1/2 became M/F/U in 2024/25,
//! placement codes come and go), so validity is a property of a code *and* a year. The lists are
//! data, embedded at build time, so that a year's changes are an edit to a YAML file rather than
//! a branch in code (the liia-tools approach).

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
struct Entry {
    code: String,
    label: String,
    from: Option<i32>,
    to: Option<i32>,
    canonical: Option<String>,
    /// Every other key: the groupings a code belongs to (PLACE's `group`, `context`, `kind`).
    #[serde(flatten)]
    groups: BTreeMap<String, String>,
}

/// One code of a list with the collection years it is valid in.
#[derive(Debug, Clone)]
pub struct Code {
    pub code: String,
    pub label: String,
    pub from: Option<i32>,
    pub to: Option<i32>,
    /// The value stored after ingest (the code itself unless the list maps it).
    pub canonical: String,
    /// Grouping name → the group this code is in (see the YAML's header).
    pub groups: BTreeMap<String, String>,
}

impl Code {
    /// Whether the code is valid in a collection year.
    pub fn valid_in(&self, year: i32) -> bool {
        self.from.is_none_or(|f| year >= f) && self.to.is_none_or(|t| year <= t)
    }
}

/// Why a value is not a valid code for the year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeProblem {
    /// Not in the list in any year.
    Unknown,
    /// In the list, but not valid in this collection year (e.g. SEX "1" in 2024/25).
    NotValidInYear { valid: String },
}

/// One named code list (e.g. PLACE).
#[derive(Debug, Clone)]
pub struct CodeList {
    pub name: String,
    codes: Vec<Code>,
    index: HashMap<String, Vec<usize>>,
}

impl CodeList {
    /// Checks a value (already trimmed) against the list for a collection year and returns the
    /// canonical value to store. Matching ignores case: returns send "u6" as often as "U6".
    pub fn check(&self, value: &str, year: i32) -> Result<&str, CodeProblem> {
        let found = match self.index.get(value) {
            Some(found) => found,
            None => match self.index.get(&value.to_ascii_uppercase()) {
                Some(found) => found,
                None => return Err(CodeProblem::Unknown),
            },
        };
        for &i in found {
            let code = &self.codes[i];
            if code.valid_in(year) {
                return Ok(&code.canonical);
            }
        }
        let code = &self.codes[found[0]];
        let valid = match (code.from, code.to) {
            (Some(f), Some(t)) => format!("{f}–{t}"),
            (Some(f), None) => format!("from {f}"),
            (None, Some(t)) => format!("to {t}"),
            (None, None) => "all years".into(),
        };
        Err(CodeProblem::NotValidInYear { valid })
    }

    /// The codes valid in a year, in list order (for generators and documentation).
    pub fn codes_in(&self, year: i32) -> impl Iterator<Item = &Code> {
        self.codes.iter().filter(move |c| c.valid_in(year))
    }

    /// The group a stored (canonical) value is in under a grouping, e.g. `group("U4",
    /// "group")` is `foster`; `None` for a value not in the list or without that grouping.
    /// Exact match: fact tables read canonical values, and an unlisted value groups nowhere.
    pub fn group(&self, value: &str, grouping: &str) -> Option<&str> {
        self.index
            .get(value)?
            .iter()
            .map(|&i| &self.codes[i])
            .filter(|c| c.code == value)
            .find_map(|c| c.groups.get(grouping))
            .map(String::as_str)
    }

    /// The label of a code (any year), for readable outputs.
    pub fn label(&self, value: &str) -> Option<&str> {
        let found = self.index.get(value)?;
        Some(self.codes[found[0]].label.as_str())
    }
}

/// The code lists of one return family (SSDA903 or CIN).
#[derive(Debug)]
pub struct CodeLists {
    lists: HashMap<String, CodeList>,
}

impl CodeLists {
    /// Parses a code-list YAML file (see `data/codes/ssda903.yaml` for the layout).
    pub fn from_yaml(text: &str) -> Result<CodeLists, serde_yaml::Error> {
        let raw: HashMap<String, Vec<Entry>> = serde_yaml::from_str(text)?;
        let lists = raw
            .into_iter()
            .map(|(name, entries)| {
                let codes: Vec<Code> = entries
                    .into_iter()
                    .map(|e| Code {
                        canonical: e.canonical.unwrap_or_else(|| e.code.clone()),
                        code: e.code,
                        label: e.label,
                        from: e.from,
                        to: e.to,
                        groups: e.groups,
                    })
                    .collect();
                let mut index: HashMap<String, Vec<usize>> = HashMap::new();
                for (i, code) in codes.iter().enumerate() {
                    index
                        .entry(code.code.to_ascii_uppercase())
                        .or_default()
                        .push(i);
                }
                (name.clone(), CodeList { name, codes, index })
            })
            .collect();
        Ok(CodeLists { lists })
    }

    /// The SSDA903 lists (`data/codes/ssda903.yaml`).
    pub fn ssda903() -> &'static CodeLists {
        static LISTS: OnceLock<CodeLists> = OnceLock::new();
        LISTS.get_or_init(|| {
            let text = dev_data("codes/ssda903.yaml")
                .unwrap_or_else(|| include_str!("../../data/codes/ssda903.yaml").to_string());
            CodeLists::from_yaml(&text).expect("data/codes/ssda903.yaml is valid")
        })
    }

    /// The CIN census lists (`data/codes/cin.yaml`).
    pub fn cin() -> &'static CodeLists {
        static LISTS: OnceLock<CodeLists> = OnceLock::new();
        LISTS.get_or_init(|| {
            let text = dev_data("codes/cin.yaml")
                .unwrap_or_else(|| include_str!("../../data/codes/cin.yaml").to_string());
            CodeLists::from_yaml(&text).expect("data/codes/cin.yaml is valid")
        })
    }

    /// A list by name.
    pub fn get(&self, name: &str) -> Option<&CodeList> {
        self.lists.get(name)
    }

    /// A list by name, for lists the program itself relies on (a missing one is a build bug).
    pub fn list(&self, name: &str) -> &CodeList {
        self.get(name)
            .unwrap_or_else(|| panic!("code list {name} missing from data/codes"))
    }
}

/// Development only: with `CSPI_DEV_DATA=<folder laid out as data/>` set, the code lists and
/// format specs are read from that folder instead of the copies compiled in, so a change to a
/// code list or format can be tried (`cspi rules test`) without rebuilding. The variable is set
/// by the developer, never read from an input; nothing else in cspi reads it.
pub fn dev_data(relative: &str) -> Option<String> {
    let dir = std::env::var_os("CSPI_DEV_DATA")?;
    std::fs::read_to_string(std::path::Path::new(&dir).join(relative)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_codes_carry_their_groups() {
        let place = CodeLists::ssda903().list("PLACE");
        assert_eq!(place.group("U4", "group"), Some("foster"));
        assert_eq!(place.group("K1", "group"), Some("residential"));
        assert_eq!(place.group("K1", "context"), Some("childrens_home"));
        assert_eq!(place.group("K3", "context"), None);
        assert_eq!(place.group("T2", "kind"), Some("temporary"));
        assert_eq!(place.group("Z11", "group"), None);
        // Fact tables hold canonical values: an unlisted spelling groups nowhere.
        assert_eq!(place.group("u4", "group"), None);
    }

    #[test]
    fn sex_changed_coding_in_2024_25() {
        let sex = CodeLists::ssda903().list("SEX");
        assert_eq!(sex.check("1", 2024), Ok("M"));
        assert_eq!(sex.check("M", 2025), Ok("M"));
        assert!(matches!(
            sex.check("1", 2025),
            Err(CodeProblem::NotValidInYear { .. })
        ));
        assert!(matches!(
            sex.check("M", 2024),
            Err(CodeProblem::NotValidInYear { .. })
        ));
        assert_eq!(sex.check("Q", 2024), Err(CodeProblem::Unknown));
    }

    #[test]
    fn placement_codes_come_and_go() {
        let place = CodeLists::ssda903().list("PLACE");
        assert!(place.check("H5", 2025).is_ok());
        assert!(place.check("H5", 2026).is_err());
        assert!(place.check("K3", 2024).is_err());
        assert!(place.check("Z11", 2026).is_ok());
        assert_eq!(place.check("u6", 2020), Ok("U6"));
    }

    #[test]
    fn cin_lists_load() {
        let lists = CodeLists::cin();
        assert_eq!(lists.list("SEX").check("9", 2020), Ok("U"));
        assert!(lists.list("ASSESSMENT_FACTOR").check("21", 2025).is_ok());
        assert_eq!(
            lists.list("CATEGORY_OF_ABUSE").label("NEG"),
            Some("Neglect")
        );
    }
}
