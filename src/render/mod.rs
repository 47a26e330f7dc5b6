//! Outputs people open: workbooks (and, later, charts, dashboards and packs).
//!
//! Render takes finished tables from the earlier layers and only lays them out; it computes no
//! figures.

pub mod annex_a;
