//! Outputs people open: charts (SVG), the HTML dashboard and packs, workbooks.
//!
//! Render takes finished tables from the earlier layers and only lays them out; it computes no
//! figures. What each pack holds is declared in `charts/*.yaml` ([`packs`]).

pub mod annex_a;
pub mod charts;
pub mod html;
pub mod packs;
pub mod workbook;

/// A failure rendering an output.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("{0}")]
    Chart(#[from] charts::ChartError),
    #[error("{0}")]
    Data(#[from] polars::prelude::PolarsError),
    #[error("no indicator `{0}` in the catalogue")]
    Missing(String),
    #[error("{0}: {1}")]
    Io(std::path::PathBuf, std::io::Error),
}

/// A new workbook whose metadata does not change from run to run (rust_xlsxwriter stamps the
/// creation time by default), so the same inputs give byte-identical files.
pub fn new_workbook() -> Result<rust_xlsxwriter::Workbook, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let fixed = rust_xlsxwriter::ExcelDateTime::from_ymd(2000, 1, 1)?;
    book.set_properties(
        &rust_xlsxwriter::DocProperties::new()
            .set_creation_datetime(&fixed)
            .set_author("cspi"),
    );
    Ok(book)
}

/// A date (days since 1970) as an Excel date, for the workbooks.
pub fn excel_date(days: i32) -> Result<rust_xlsxwriter::ExcelDateTime, rust_xlsxwriter::XlsxError> {
    use chrono::Datelike;
    let d = crate::domain::dates::from_epoch_days(days);
    rust_xlsxwriter::ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
}
