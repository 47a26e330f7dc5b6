//! Hand-computed tests of the help-and-protection definitions added for the national measure
//! set (referrals, assessments, enquiries, conferences, plans, children in need), on the same
//! fixture and helpers as the rest of tests/indicators.rs.

#[allow(unused_imports)]
use super::*;
