//! Outputs people open: charts (SVG and PNG), the HTML dashboard and packs, the PDF chart
//! pack, workbooks.
//!
//! Render takes finished tables from the earlier layers and only lays them out; it computes no
//! figures. What each pack holds is declared in `charts/*.yaml` ([`packs`]); what it shows is
//! worked out once ([`content`]) and each format lays that out.

pub mod annex_a;
pub mod charts;
pub mod content;
pub mod dashboard;
pub mod enquiry;
pub mod html;
pub mod packs;
pub mod pdf;
pub mod svg;
pub mod validation;
pub mod workbook;

/// A failure rendering an output.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("{0}")]
    Chart(#[from] charts::ChartError),
    #[error("{0}")]
    Svg(#[from] svg::SvgError),
    #[error("{0}")]
    Pdf(#[from] pdf::PdfError),
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

/// A number as DfE prints it, in its unit with the definition's decimal places: thousands
/// grouped, a percentage with its sign, "k" where a value that is not zero would print as
/// zero. The packs' figures and the values written on chart bars both use it, so a bar and
/// the figure beside it never disagree.
pub(crate) fn format_figure(
    unit: crate::indicators::catalogue::Unit,
    decimals: u8,
    v: f64,
) -> String {
    let d = usize::from(decimals);
    let text = format!("{v:.d$}");
    if v != 0.0
        && text
            .trim_start_matches('-')
            .chars()
            .all(|c| c == '0' || c == '.')
    {
        return "k".into();
    }
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), ""), |(a, b)| (a, b));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |x| ("-", x));
    let grouped = crate::domain::numbers::group_thousands(digits);
    let number = if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    };
    match unit {
        crate::indicators::catalogue::Unit::Percent => format!("{number}%"),
        _ => number,
    }
}

/// The text with its first letter upper-cased ("improving" → "Improving"), for words that
/// start a sentence or a label.
pub(crate) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A date (days since 1970) as an Excel date, for the workbooks.
pub fn excel_date(days: i32) -> Result<rust_xlsxwriter::ExcelDateTime, rust_xlsxwriter::XlsxError> {
    use chrono::Datelike;
    let d = crate::domain::dates::from_epoch_days(days);
    rust_xlsxwriter::ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
}

/// How a child-level sheet shows a flag: Annex A's "Y"/"N" (the framework's lists are read
/// back by people and by other tools that expect the letters), or Excel's TRUE/FALSE.
pub(crate) enum Flags {
    YesNo,
    Excel,
}

/// Writes a table's value at (row, column) of a child-level sheet (Annex A lists, drill-down
/// sheets): dates as Excel dates in `date`'s format, numbers as numbers, flags per `flags`,
/// anything else as its text.
pub(crate) fn write_any(
    sheet: &mut rust_xlsxwriter::Worksheet,
    (row, c): (u32, u16),
    value: polars::prelude::AnyValue,
    date: &rust_xlsxwriter::Format,
    flags: Flags,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    use polars::prelude::AnyValue;
    match value {
        AnyValue::Null => {}
        AnyValue::Date(d) => {
            sheet.write_date_with_format(row, c, &excel_date(d)?, date)?;
        }
        AnyValue::String(v) => {
            sheet.write_string(row, c, v)?;
        }
        AnyValue::Boolean(b) => match flags {
            Flags::YesNo => {
                sheet.write_string(row, c, if b { "Y" } else { "N" })?;
            }
            Flags::Excel => {
                sheet.write_boolean(row, c, b)?;
            }
        },
        other => match other.extract::<f64>() {
            Some(v) => {
                sheet.write_number(row, c, v)?;
            }
            None => {
                sheet.write_string(row, c, other.to_string())?;
            }
        },
    }
    Ok(())
}

/// Writes a pack in one format under `dir`: `<id>.<ext>`, or for PNG a folder `<id>/` with one
/// file per chart (`<indicator>-<chart>.png`, `<area>-<chart>.png`). `drilldown` (the LA's
/// children behind each figure) goes only into workbooks of packs that allow child-level data,
/// never into a public pack's. Every format lays out `content`, whose figures have already
/// been through disclosure control. Returns what was written.
pub fn write_pack(
    pack: &packs::Pack,
    input: &content::PackInput,
    content: &content::Content,
    drilldown: &std::collections::BTreeMap<String, polars::prelude::DataFrame>,
    format: packs::Format,
    dir: &std::path::Path,
) -> Result<Vec<std::path::PathBuf>, RenderError> {
    let write = |path: std::path::PathBuf, bytes: &[u8]| {
        crate::domain::io::write_bytes(&path, bytes)
            .map_err(|e| RenderError::Io(path.clone(), e))
            .map(|()| path)
    };
    let path = dir.join(format!("{}.{}", pack.id, format.extension()));
    Ok(match format {
        packs::Format::Html => {
            // The children behind each figure only in a pack allowed child-level data.
            let children = (pack.child_level && !pack.is_public()).then_some(drilldown);
            let page = html::render(content, children, input.la)?;
            vec![write(path, page.as_bytes())?]
        }
        packs::Format::Pdf => vec![write(path, &pdf::render(content)?)?],
        packs::Format::Png => {
            // The folder is what the run reports; it holds one file per chart.
            let folder = dir.join(&pack.id);
            for c in content.charts() {
                write(
                    folder.join(format!("{}.png", c.name)),
                    &svg::png(&c.svg, 2.0)?,
                )?;
            }
            vec![folder]
        }
        packs::Format::Xlsx => {
            // A public pack's workbook never receives the drill-down, whatever its flags say.
            let none = std::collections::BTreeMap::new();
            workbook::write(
                &path,
                pack,
                input.la_name,
                input.catalogue,
                &content.figures,
                if pack.is_public() { &none } else { drilldown },
            )?;
            vec![path]
        }
    })
}
