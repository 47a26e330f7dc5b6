//! The performance team's workbook: the comparison table, one sheet per framework area, with
//! number formats by unit and conditional RAG colours; then, when the pack allows child-level
//! data, the drill-down lists on their own sheets named "Children - <indicator>" (never in a
//! members' pack).

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use rust_xlsxwriter::{Color, ConditionalFormatText, ConditionalFormatTextRule, Format};

use super::RenderError;
use super::packs::{Audience, Pack};
use crate::indicators::catalogue::{Catalogue, Unit};

/// The comparison columns shown, with their headings.
const COLUMNS: [(&str, &str); 21] = [
    ("short_title", "Indicator"),
    ("indicator_id", "Id"),
    ("period_type", "Period"),
    ("period_start", "From"),
    ("period_end", "To"),
    ("numerator", "Numerator"),
    ("denominator", "Denominator"),
    ("value", "Value"),
    ("sn_mean", "Similar areas (mean)"),
    ("sn_count", "Neighbours with a value"),
    ("region_value", "Region"),
    ("england_value", "England"),
    ("rank", "Rank"),
    ("rank_of", "Of"),
    ("quartile", "Quartile"),
    ("rag", "RAG"),
    ("sig_england", "Against England"),
    ("sig_sn", "Against similar areas"),
    ("change_previous", "Change on a year before"),
    ("trend", "Trend"),
    ("benchmark_period", "Benchmark year"),
];

/// Sheet names: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(s: &str) -> String {
    s.chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect()
}

/// Writes the workbook for `pack` (the LA's comparison rows of the pack's indicators).
pub fn write(
    path: &Path,
    pack: &Pack,
    la_name: &str,
    catalogue: &Catalogue,
    comparison: &DataFrame,
    drilldown: &BTreeMap<String, DataFrame>,
) -> Result<(), RenderError> {
    let mut book = super::new_workbook()?;
    let bold = Format::new().set_bold();
    let header = Format::new().set_bold().set_text_wrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let formats = |unit: Unit, decimals: u8| -> Format {
        let base = if decimals == 0 {
            "#,##0".to_string()
        } else {
            format!("#,##0.{}", "0".repeat(usize::from(decimals)))
        };
        Format::new().set_num_format(match unit {
            Unit::Percent => format!("{base}\"%\""),
            _ => base,
        })
    };
    let green = Format::new().set_background_color(Color::RGB(0xC6EFCE));
    let amber = Format::new().set_background_color(Color::RGB(0xFFEB9C));
    let red = Format::new().set_background_color(Color::RGB(0xFFC7CE));
    {
        let about = book.add_worksheet();
        about.set_name("About")?;
        about.set_column_width(0, 24)?;
        about.set_column_width(1, 100)?;
        let lines = [
            ("Pack", pack.title.as_str()),
            ("Area", la_name),
            (
                "Source",
                "cspi: SSDA903 and CIN census returns; benchmarks from DfE's published figures (LAIT, EES)",
            ),
            (
                "RAG",
                "against similar areas (statistical neighbours): green better, amber worse by under 10%, red worse by more; none for neutral indicators",
            ),
            (
                "Significance",
                "exact binomial (percentages) and Poisson (rates) funnel limits around England at the LA's denominator; 95% and 99.8%",
            ),
            (
                "Child-level sheets",
                if pack.child_level && pack.audience != Audience::Members {
                    "the sheets named 'Children - …' list the children behind each figure: do not share outside the service"
                } else {
                    "none in this pack"
                },
            ),
        ];
        for (r, (a, b)) in lines.iter().enumerate() {
            about.write_string_with_format(r as u32, 0, *a, &bold)?;
            about.write_string(r as u32, 1, *b)?;
        }
    }
    for section in &pack.sections {
        let ids: Vec<&str> = section.indicators.iter().map(|i| i.id.as_str()).collect();
        let ids_series = Series::new("ids".into(), ids.clone());
        let rows = comparison
            .clone()
            .lazy()
            .filter(col("indicator_id").is_in(lit(ids_series).implode(false), false))
            .collect()?;
        let heading = section
            .title
            .clone()
            .unwrap_or_else(|| section.area.title().to_string());
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(&heading))?;
        sheet.set_freeze_panes(1, 2)?;
        for (c, (_, h)) in COLUMNS.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *h, &header)?;
            sheet.set_column_width(c as u16, if c == 0 { 40 } else { 14 })?;
        }
        let mut r = 1u32;
        for id in &ids {
            let def = catalogue
                .get(id)
                .ok_or_else(|| RenderError::Missing(id.to_string()))?;
            let number = formats(def.unit, def.display_decimals());
            let mine = rows
                .clone()
                .lazy()
                .filter(col("indicator_id").eq(lit(*id)))
                .sort(
                    ["period_type", "period_end"],
                    SortMultipleOptions::default(),
                )
                .collect()?;
            for i in 0..mine.height() {
                for (c, (name, _)) in COLUMNS.iter().enumerate() {
                    let c = c as u16;
                    match mine.column(name)?.get(i)? {
                        AnyValue::Null => {}
                        AnyValue::Date(d) => {
                            sheet.write_date_with_format(r, c, &super::excel_date(d)?, &date)?;
                        }
                        AnyValue::Float64(v) => {
                            if matches!(
                                *name,
                                "value"
                                    | "sn_mean"
                                    | "region_value"
                                    | "england_value"
                                    | "change_previous"
                            ) {
                                sheet.write_number_with_format(r, c, v, &number)?;
                            } else {
                                sheet.write_number(r, c, v)?;
                            }
                        }
                        AnyValue::Int32(v) => {
                            sheet.write_number(r, c, f64::from(v))?;
                        }
                        AnyValue::String(s) => {
                            sheet.write_string(r, c, s)?;
                        }
                        other => {
                            sheet.write_string(r, c, other.to_string())?;
                        }
                    }
                }
                r += 1;
            }
        }
        let rag_col = COLUMNS
            .iter()
            .position(|c| c.0 == "rag")
            .expect("rag column") as u16;
        if r > 1 {
            for (word, fmt) in [("green", &green), ("amber", &amber), ("red", &red)] {
                let cf = ConditionalFormatText::new()
                    .set_rule(ConditionalFormatTextRule::Contains(word.to_string()))
                    .set_format(fmt);
                sheet.add_conditional_format(1, rag_col, r - 1, rag_col, &cf)?;
            }
        }
    }
    if pack.child_level && pack.audience != Audience::Members {
        for section in &pack.sections {
            for item in &section.indicators {
                let Some(df) = drilldown.get(&item.id) else {
                    continue;
                };
                // The children behind the latest figure of each period type (the whole
                // series is in the drill-down files).
                let latest = df
                    .clone()
                    .lazy()
                    .group_by([col("period_type")])
                    .agg([col("period_end").max()]);
                let df = &df
                    .clone()
                    .lazy()
                    .join(
                        latest,
                        [col("period_type"), col("period_end")],
                        [col("period_type"), col("period_end")],
                        JoinArgs {
                            maintain_order: MaintainOrderJoin::Left,
                            ..JoinArgs::new(JoinType::Semi)
                        },
                    )
                    .collect()?;
                let sheet = book.add_worksheet();
                sheet.set_name(sheet_name(&format!("Children - {}", item.id)))?;
                sheet.write_string_with_format(
                    0,
                    0,
                    "CHILD-LEVEL DATA: the children behind each figure. Do not share outside the service.",
                    &bold,
                )?;
                for (c, col) in df.columns().iter().enumerate() {
                    sheet.write_string_with_format(1, c as u16, col.name().as_str(), &header)?;
                    let s = col.as_materialized_series();
                    // Excel's row limit, less the two header rows.
                    for i in 0..df.height().min(1_048_574) {
                        let row = i as u32 + 2;
                        match s.get(i)? {
                            AnyValue::Null => {}
                            AnyValue::Date(d) => {
                                sheet.write_date_with_format(
                                    row,
                                    c as u16,
                                    &super::excel_date(d)?,
                                    &date,
                                )?;
                            }
                            AnyValue::String(v) => {
                                sheet.write_string(row, c as u16, v)?;
                            }
                            AnyValue::Boolean(b) => {
                                sheet.write_boolean(row, c as u16, b)?;
                            }
                            other => match other.extract::<f64>() {
                                Some(v) => {
                                    sheet.write_number(row, c as u16, v)?;
                                }
                                None => {
                                    sheet.write_string(row, c as u16, other.to_string())?;
                                }
                            },
                        }
                    }
                }
            }
        }
    }
    let bytes = book.save_to_buffer()?;
    crate::domain::io::write_bytes(path, &bytes).map_err(|e| RenderError::Io(path.into(), e))
}
