//! The indicator engine: the YAML catalogue, reporting periods, the generic evaluator, and the
//! outputs (the long table of values and the drill-down lists).

pub mod annex_a;
pub mod catalogue;
pub mod coverage;
pub mod evaluate;
pub mod impact;
pub mod output;
pub mod period;
