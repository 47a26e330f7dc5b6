//! Ofsted's inspection framework versions, as data (`data/frameworks/<id>/`): the judgements the
//! packs and the comparison are grouped by, the context section's template and its placement
//! groups. Inspectors and LAs work to the current one (ILACS); the 2015 single inspection
//! framework stays for looking back at reports written under it.

use std::fmt;
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::Deserialize;

/// A framework version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Framework {
    /// The single inspection framework (SIF), 2015 edition.
    Sif2015,
    /// ILACS with care leavers a separate judgement (January 2023) and the 2024 updates.
    Ilacs2024,
    /// ILACS from April 2026: no overall effectiveness judgement.
    Ilacs2026,
}

/// One judgement and the catalogue areas whose figures bear on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Judgement {
    pub id: String,
    pub title: String,
    pub areas: Vec<String>,
    /// Sub-judgements or graded parts named in the report (SIF's adoption and care leavers).
    #[serde(default)]
    pub parts: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InForce {
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// What the framework's Annex A asks for that differs between versions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnexA {
    /// Months of referrals list 3 covers (3 under the SIF, 6 under ILACS).
    pub referrals_months: i32,
    /// Months before the date in which closed CIN episodes (list 6) and ended plans (list 7)
    /// are listed (3 under the SIF, 6 under ILACS).
    pub closures_months: i32,
    pub title: String,
}

/// `framework.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub id: String,
    pub name: String,
    pub in_force: InForce,
    pub judgements: Vec<Judgement>,
    pub annex_a: AnnexA,
}

impl Framework {
    pub const ALL: [Framework; 3] = [
        Framework::Sif2015,
        Framework::Ilacs2024,
        Framework::Ilacs2026,
    ];

    /// The framework inspectors work to today.
    pub const CURRENT: Framework = Framework::Ilacs2026;

    pub fn id(self) -> &'static str {
        match self {
            Framework::Sif2015 => "sif2015",
            Framework::Ilacs2024 => "ilacs2024",
            Framework::Ilacs2026 => "ilacs2026",
        }
    }

    pub fn parse(text: &str) -> Option<Framework> {
        Framework::ALL
            .into_iter()
            .find(|f| f.id() == text.trim().to_ascii_lowercase())
    }

    /// The framework in force on a date (an inspection's, or a report's).
    pub fn in_force_on(date: NaiveDate) -> Framework {
        Framework::ALL
            .into_iter()
            .rev()
            .find(|f| f.definition().in_force.from <= date)
            .unwrap_or(Framework::Sif2015)
    }

    fn files(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Framework::Sif2015 => (
                include_str!("../../data/frameworks/sif2015/framework.yaml"),
                include_str!("../../data/frameworks/sif2015/context.yaml"),
                include_str!("../../data/frameworks/sif2015/placement_groups.csv"),
            ),
            Framework::Ilacs2024 => (
                include_str!("../../data/frameworks/ilacs2024/framework.yaml"),
                include_str!("../../data/frameworks/ilacs2024/context.yaml"),
                include_str!("../../data/frameworks/ilacs2024/placement_groups.csv"),
            ),
            Framework::Ilacs2026 => (
                include_str!("../../data/frameworks/ilacs2026/framework.yaml"),
                include_str!("../../data/frameworks/ilacs2026/context.yaml"),
                include_str!("../../data/frameworks/ilacs2026/placement_groups.csv"),
            ),
        }
    }

    /// `framework.yaml`, parsed (the shipped files are checked by a test).
    pub fn definition(self) -> &'static Definition {
        static DEFS: OnceLock<Vec<Definition>> = OnceLock::new();
        let defs = DEFS.get_or_init(|| {
            Framework::ALL
                .iter()
                .map(|f| {
                    serde_yaml::from_str(f.files().0).unwrap_or_else(|e| {
                        panic!("data/frameworks/{}/framework.yaml: {e}", f.id())
                    })
                })
                .collect()
        });
        &defs[Framework::ALL.iter().position(|f| *f == self).unwrap_or(0)]
    }

    /// The context section's template (YAML text).
    pub fn context_template(self) -> &'static str {
        self.files().1
    }

    /// The placement groups the context section names (CSV: group, label, codes).
    pub fn placement_groups(self) -> &'static str {
        self.files().2
    }

    /// The judgement a catalogue area's figures bear on.
    pub fn judgement_of(self, area: &str) -> Option<&'static Judgement> {
        self.definition()
            .judgements
            .iter()
            .find(|j| j.areas.iter().any(|a| a == area))
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_framework_reads_and_names_itself() {
        for f in Framework::ALL {
            let d = f.definition();
            assert_eq!(d.id, f.id());
            assert!(!d.judgements.is_empty());
            assert_eq!(Framework::parse(f.id()), Some(f));
        }
        assert!(
            !Framework::Ilacs2026
                .definition()
                .judgements
                .iter()
                .any(|j| j.id == "overall"),
            "ILACS from April 2026 has no overall effectiveness judgement"
        );
        assert_eq!(
            Framework::in_force_on(NaiveDate::from_ymd_opt(2014, 3, 31).unwrap()),
            Framework::Sif2015
        );
        assert_eq!(
            Framework::in_force_on(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()),
            Framework::Ilacs2026
        );
    }
}
