//! Readers: statutory returns (SSDA903 CSV and XML, CIN census XML) into canonical, typed,
//! validated polars tables, the multi-year history store, and the reference tables.

pub mod report;
pub mod spec;
pub mod ssda903_csv;
pub mod table;
pub mod text;
pub mod xml;
