//! The Annex A workbook: a cover sheet (inspection date, windows, what each list holds and
//! which fields were left blank because neither the returns nor local data give them), then
//! one sheet per list with the framework's headers, dates as Excel dates (dd/mm/yyyy).

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::derive::annex_a::{Windows, unfilled};
use crate::domain::dates::format_dmy;
use crate::ingest::annex_a::{ListSpec, lists};

/// A failure writing the workbook.
#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    #[error("workbook: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("{0}")]
    Data(#[from] PolarsError),
    #[error("{0}: {1}")]
    Io(std::path::PathBuf, std::io::Error),
}

/// Writes the workbook to `path` (atomically) for the LA's lists.
pub fn write_workbook(
    path: &Path,
    la_name: &str,
    windows: Windows,
    lists_by_number: &BTreeMap<u8, DataFrame>,
) -> Result<(), WorkbookError> {
    let mut book = super::new_workbook()?;
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let header = Format::new().set_bold().set_text_wrap();
    let lines = cover_lines(la_name, windows, lists_by_number);
    {
        let cover = book.add_worksheet();
        cover.set_name("Cover")?;
        cover.set_column_width(0, 28)?;
        cover.set_column_width(1, 90)?;
        for (r, (a, b)) in lines.iter().enumerate() {
            cover.write_string_with_format(r as u32, 0, a, &bold)?;
            cover.write_string(r as u32, 1, b)?;
        }
    }
    for spec in lists() {
        let Some(df) = lists_by_number.get(&spec.list) else {
            continue;
        };
        write_list_sheet(&mut book, spec, df, &header, &date)?;
    }
    let bytes = book.save_to_buffer()?;
    crate::domain::io::write_bytes(path, &bytes).map_err(|e| WorkbookError::Io(path.into(), e))
}

/// The cover sheet's (label, text) lines: the inspection and its windows, what was and was
/// not produced, each list's rows, and the fields left blank.
fn cover_lines(
    la_name: &str,
    windows: Windows,
    lists_by_number: &BTreeMap<u8, DataFrame>,
) -> Vec<(String, String)> {
    let blanks = unfilled(lists_by_number);
    let mut cover_lines: Vec<(String, String)> = vec![
        ("Ofsted Annex A lists".into(), la_name.into()),
        ("Inspection date".into(), format_dmy(windows.date)),
        (
            "Windows".into(),
            format!(
                "referrals from {}; 3 months from {}; 6 months from {}; 12 months from {}",
                format_dmy(windows.referrals),
                format_dmy(windows.three_months),
                format_dmy(windows.six_months),
                format_dmy(windows.twelve_months)
            ),
        ),
        (
            "Framework".into(),
            windows.framework.definition().annex_a.title.clone(),
        ),
        (
            "Produced by".into(),
            "cspi from the SSDA903 and CIN census history and the local data supplied. CHILD-LEVEL DATA: for the inspection team only.".into(),
        ),
        (
            "Not produced".into(),
            "Lists 1 (contacts), 2 (early help) and 11 (adopters) are not in the statutory returns: supply them from local systems.".into(),
        ),
        (String::new(), String::new()),
    ];
    for spec in lists() {
        if let Some(df) = lists_by_number.get(&spec.list) {
            cover_lines.push((
                format!("List {}", spec.list),
                format!("{} — {} rows", spec.title, df.height()),
            ));
        }
    }
    cover_lines.push((String::new(), String::new()));
    cover_lines.push((
        "Fields left blank".into(),
        "neither the returns nor the local data give them; fill from local records".into(),
    ));
    for (list, field) in &blanks {
        let spec = lists().iter().find(|l| l.list == *list).expect("list");
        let header = spec
            .column(field)
            .map_or(field.as_str(), |c| c.header.as_str());
        cover_lines.push((format!("List {list}"), header.to_string()));
    }
    cover_lines
}

/// One list's sheet: the framework's columns that the produced list holds, in the list's
/// order, under their framework headers.
fn write_list_sheet(
    book: &mut Workbook,
    spec: &ListSpec,
    df: &DataFrame,
    header: &Format,
    date: &Format,
) -> Result<(), WorkbookError> {
    let sheet = book.add_worksheet();
    sheet.set_name(format!("List {}", spec.list))?;
    sheet.set_freeze_panes(1, 0)?;
    // The framework's columns: those the produced list holds, in the list's order.
    let columns = spec.columns.iter().filter(|c| df.column(&c.name).is_ok());
    for (c, col) in columns.enumerate() {
        sheet.write_string_with_format(0, c as u16, &col.header, header)?;
        sheet.set_column_width(c as u16, 16)?;
        let Ok(values) = df.column(&col.name) else {
            continue;
        };
        let values = values.as_materialized_series();
        for i in 0..df.height() {
            super::write_any(
                sheet,
                (i as u32 + 1, c as u16),
                values.get(i)?,
                date,
                super::Flags::YesNo,
            )?;
        }
    }
    Ok(())
}
