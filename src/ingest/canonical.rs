//! The canonical tables ingest stores, one per table of a return (`data/formats/*.yaml`), by
//! a type rather than a string: a misspelt table in the fact tables or the store is a compile
//! error, not an empty frame or an error at a user's desk. The name each variant stands for is
//! the format spec's table name (a test pins the two lists to each other); only names that come
//! from data (a folder listing) go through [`CanonicalTable::from_name`].

use std::fmt;

use polars::prelude::*;
use strum::{EnumString, IntoStaticStr, VariantArray};

use super::returns::Collection;
use super::spec::TableSpec;

/// A canonical table: one table of the SSDA903 or the CIN census return as the store holds it.
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
pub enum CanonicalTable {
    Header,
    Episodes,
    Reviews,
    Uasc,
    Oc2,
    Oc3,
    Ad1,
    PlacedAdoption,
    PrevPerm,
    Missing,
    SwEpisodes,
    Dolo,
    CinChild,
    CinDisability,
    CinEpisode,
    CinAssessment,
    CinPlan,
    CinS47,
    CinCpp,
    CinCppReview,
    CinPreProceedings,
}

impl CanonicalTable {
    /// Every canonical table, in the format specs' order (SSDA903, then CIN).
    pub const ALL: &'static [CanonicalTable] = <CanonicalTable as VariantArray>::VARIANTS;

    /// The collection whose return holds the table.
    pub fn collection(self) -> Collection {
        match self {
            CanonicalTable::Header
            | CanonicalTable::Episodes
            | CanonicalTable::Reviews
            | CanonicalTable::Uasc
            | CanonicalTable::Oc2
            | CanonicalTable::Oc3
            | CanonicalTable::Ad1
            | CanonicalTable::PlacedAdoption
            | CanonicalTable::PrevPerm
            | CanonicalTable::Missing
            | CanonicalTable::SwEpisodes
            | CanonicalTable::Dolo => Collection::Ssda903,
            CanonicalTable::CinChild
            | CanonicalTable::CinDisability
            | CanonicalTable::CinEpisode
            | CanonicalTable::CinAssessment
            | CanonicalTable::CinPlan
            | CanonicalTable::CinS47
            | CanonicalTable::CinCpp
            | CanonicalTable::CinCppReview
            | CanonicalTable::CinPreProceedings => Collection::Cin,
        }
    }

    /// The table's declaration in its collection's format spec. An error only where a
    /// development spec (`CSPI_DEV_DATA`) has dropped or renamed the table.
    pub fn spec(self) -> PolarsResult<&'static TableSpec> {
        self.collection().spec().table(self.name()).ok_or_else(|| {
            polars_err!(
                ComputeError: "the {} format spec declares no table \"{}\"",
                self.collection().name(),
                self.name()
            )
        })
    }
}

crate::domain::named!(CanonicalTable);

impl fmt::Display for CanonicalTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The enum and the format specs name the same tables, each in its own collection: a table
    /// added to (or renamed in) a YAML spec without a variant fails here.
    #[test]
    fn every_spec_table_has_a_variant_and_every_variant_a_spec_table() {
        let mut declared = vec![];
        for collection in [Collection::Ssda903, Collection::Cin] {
            for table in &collection.spec().tables {
                let variant = CanonicalTable::from_name(&table.name)
                    .unwrap_or_else(|| panic!("no CanonicalTable for {}", table.name));
                assert_eq!(variant.collection(), collection, "{}", table.name);
                declared.push(variant);
            }
        }
        assert_eq!(declared, CanonicalTable::ALL);
        for table in CanonicalTable::ALL.iter().copied() {
            assert_eq!(
                table.spec().map(|s| s.name.as_str()).ok(),
                Some(table.name())
            );
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_none() {
        for table in CanonicalTable::ALL.iter().copied() {
            assert_eq!(CanonicalTable::from_name(table.name()), Some(table));
            assert_eq!(table.to_string(), table.name());
        }
        assert_eq!(CanonicalTable::from_name("episode"), None);
        assert_eq!(CanonicalTable::from_name("../episodes"), None);
    }
}
