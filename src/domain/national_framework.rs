//! DfE's Children's Social Care National Framework as its dashboard groups measures: four
//! outcomes and three enablers, each with the catalogue's definitions that compute its measures
//! (`data/national_framework.yaml`). Packs use it for a section that reads like the dashboard.

use std::sync::OnceLock;

use serde::Deserialize;

/// The framework's groups in the dashboard's order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NationalFramework {
    pub name: String,
    pub groups: Vec<Group>,
}

/// An outcome or enabler and the definitions under it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    pub title: String,
    pub measures: Vec<String>,
    /// LAIT keys of the group's measures that only DfE's published tables hold.
    #[serde(default)]
    pub published: Vec<String>,
}

impl NationalFramework {
    /// The framework shipped in `data/national_framework.yaml`.
    pub fn embedded() -> &'static NationalFramework {
        static FRAMEWORK: OnceLock<NationalFramework> = OnceLock::new();
        FRAMEWORK.get_or_init(|| {
            serde_yaml::from_str(include_str!("../../data/national_framework.yaml"))
                .expect("data/national_framework.yaml is valid (tested)")
        })
    }

    /// The title of the group a definition is under, if any.
    pub fn group_of(&self, id: &str) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.measures.iter().any(|m| m == id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped framework parses, has the four outcomes and its enablers in order, and
    /// names each definition once (that each is in the catalogue is tested with the packs).
    #[test]
    fn the_national_framework_names_each_definition_once() {
        let f = NationalFramework::embedded();
        let ids: Vec<&str> = f.groups.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(
            &ids[..4],
            ["outcome_1", "outcome_2", "outcome_3", "outcome_4"]
        );
        assert!(
            ids[4..].iter().all(|i| i.starts_with("enabler_")),
            "{ids:?}"
        );
        let mut seen = std::collections::BTreeSet::new();
        for m in f.groups.iter().flat_map(|g| &g.measures) {
            assert!(seen.insert(m), "{m} is listed twice");
        }
    }
}
