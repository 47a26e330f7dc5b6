//! Hand-computed tests of the children-looked-after, adoption and care-leaver definitions added
//! for the national measure set, on the same fixture and helpers as the rest of
//! tests/indicators.rs.

#[allow(unused_imports)]
use super::*;
