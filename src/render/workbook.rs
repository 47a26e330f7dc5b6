//! The performance team's workbook: the comparison table, one sheet per framework area, with
//! number formats by unit and conditional RAG colours; then, when the pack allows child-level
//! data, the drill-down lists on their own sheets named "Children - <indicator>" (never in a
//! members' pack).

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use rust_xlsxwriter::{
    Color, ConditionalFormatText, ConditionalFormatTextRule, Format, Workbook, Worksheet,
};

use super::RenderError;
use super::content::{Figure, PackFigures};
use super::packs::{Pack, Section};
use crate::compare::stats::Rag;
use crate::indicators::catalogue::{Catalogue, Definition, Unit};

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

/// The sheet names given so far in one workbook. Excel allows 31 characters, none of
/// `[]:*?/\`, and no two names that differ only in case; indicator ids are longer than that
/// and share their first 31 characters (`pre_proceedings_fgdm_offered` and `…_held`), so a
/// cut name that is taken gets a number instead of failing the whole pack.
#[derive(Default)]
struct SheetNames(std::collections::BTreeSet<String>);

impl SheetNames {
    const MAX: usize = 31;

    fn unique(&mut self, wanted: &str) -> String {
        let clean: String = wanted
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .collect();
        let mut n = 1usize;
        loop {
            let suffix = if n == 1 {
                String::new()
            } else {
                format!(" ({n})")
            };
            let keep = Self::MAX - suffix.chars().count();
            let name: String = clean.chars().take(keep).chain(suffix.chars()).collect();
            if self.0.insert(name.to_lowercase()) {
                return name;
            }
            n += 1;
        }
    }
}

/// One cell of an area sheet.
enum Cell {
    Empty,
    Text(String),
    /// A DfE symbol in a number column: "c" hidden, "x" not available, "z" not applicable.
    Symbol(&'static str),
    Date(i32),
    /// A figure in the indicator's number format.
    Value(f64),
    Number(f64),
}

/// What the area sheet shows in column `name` for figure `f` (after disclosure control): a
/// hidden figure's value and everything worked out from it read "c"; a missing value, rank
/// or benchmark reads "x" (or "z" for a percentage over nobody), so zero, hidden and missing
/// never look alike.
fn cell(def: &Definition, f: &Figure, name: &str) -> Cell {
    let count = |v: Option<f64>| match v {
        Some(v) => Cell::Number(v),
        None if f.suppressed => Cell::Symbol("c"),
        None => Cell::Empty,
    };
    let text = |t: &Option<String>| match t {
        Some(t) => Cell::Text(t.clone()),
        None if f.suppressed => Cell::Symbol("c"),
        None => Cell::Empty,
    };
    let published = |v: Option<f64>| v.map_or(Cell::Symbol("x"), Cell::Value);
    match name {
        "short_title" => Cell::Text(def.short_title.clone()),
        "indicator_id" => Cell::Text(def.id.clone()),
        "period_type" => Cell::Text(f.period_type.name().to_string()),
        "period_start" => Cell::Date(f.period_start),
        "period_end" => Cell::Date(f.period_end),
        "numerator" => count(f.numerator),
        "denominator" => count(f.denominator),
        "value" => match f.value {
            Some(v) => Cell::Value(v),
            None => match super::content::show(def, f).as_str() {
                "c" => Cell::Symbol("c"),
                "z" => Cell::Symbol("z"),
                _ => Cell::Symbol("x"),
            },
        },
        "sn_mean" => published(f.sn_mean),
        "sn_count" => f.sn_count.map_or(Cell::Empty, Cell::Number),
        "region_value" => published(f.region),
        "england_value" => published(f.england),
        "rank" | "rank_of" => {
            let v = if name == "rank" { f.rank } else { f.rank_of };
            match (v, f.suppressed) {
                (Some(v), _) => Cell::Number(v),
                (None, true) => Cell::Symbol("c"),
                (None, false) => Cell::Symbol("x"),
            }
        }
        "quartile" => text(&f.quartile.map(|q| q.name().to_string())),
        "rag" => text(&f.rag.map(|r| r.name().to_string())),
        "sig_england" => text(&f.sig_england),
        "sig_sn" => text(&f.sig_sn),
        "change_previous" => match f.change_previous {
            Some(v) => Cell::Value(v),
            None if f.suppressed || f.change_hidden => Cell::Symbol("c"),
            None => Cell::Empty,
        },
        "trend" => text(&f.trend.map(|t| t.name().to_string())),
        "benchmark_period" => f.benchmark_period.clone().map_or(Cell::Empty, Cell::Text),
        _ => Cell::Empty,
    }
}

/// The number format of an indicator's figures: thousands separated, its decimals, and a
/// percent sign (not Excel's ×100 percent) for percentages.
fn number_format(unit: Unit, decimals: u8) -> Format {
    let base = if decimals == 0 {
        "#,##0".to_string()
    } else {
        format!("#,##0.{}", "0".repeat(usize::from(decimals)))
    };
    Format::new().set_num_format(match unit {
        Unit::Percent => format!("{base}\"%\""),
        _ => base,
    })
}

/// The cell formats the workbook's sheets share.
struct Formats {
    bold: Format,
    header: Format,
    date: Format,
    /// DfE symbols sit right, where the numbers they stand for would.
    symbol: Format,
    /// The RAG words and their tints.
    rag: [(&'static str, Format); 3],
}

impl Formats {
    fn new() -> Formats {
        Formats {
            bold: Format::new().set_bold(),
            header: Format::new().set_bold().set_text_wrap(),
            date: Format::new().set_num_format("dd/mm/yyyy"),
            symbol: Format::new().set_align(rust_xlsxwriter::FormatAlign::Right),
            rag: [
                (
                    Rag::Green.name(),
                    Format::new().set_background_color(Color::RGB(0xC6EFCE)),
                ),
                (
                    Rag::Amber.name(),
                    Format::new().set_background_color(Color::RGB(0xFFEB9C)),
                ),
                (
                    Rag::Red.name(),
                    Format::new().set_background_color(Color::RGB(0xFFC7CE)),
                ),
            ],
        }
    }
}

/// Writes the workbook for `pack` from its figures after disclosure control (the same
/// figures, hidden the same way, as the pack's other formats).
pub fn write(
    path: &Path,
    pack: &Pack,
    la_name: &str,
    catalogue: &Catalogue,
    figures: &PackFigures,
    drilldown: &BTreeMap<String, DataFrame>,
) -> Result<(), RenderError> {
    let mut book = super::new_workbook()?;
    let formats = Formats::new();
    let mut names = SheetNames::default();
    write_about(&mut book, pack, la_name, &formats)?;
    names.unique("About");
    for section in &pack.sections {
        write_area_sheet(&mut book, &mut names, section, catalogue, figures, &formats)?;
    }
    if pack.child_level && !pack.is_public() {
        // One sheet an indicator, however many sections show it.
        let mut written = std::collections::BTreeSet::new();
        for section in &pack.sections {
            for item in &section.indicators {
                let Some(df) = drilldown.get(&item.id) else {
                    continue;
                };
                if !written.insert(item.id.as_str()) {
                    continue;
                }
                write_children_sheet(&mut book, &mut names, &item.id, df, &formats)?;
            }
        }
    }
    let bytes = book.save_to_buffer()?;
    crate::domain::io::write_bytes(path, &bytes).map_err(|e| RenderError::Io(path.into(), e))
}

/// The "About" sheet: what the pack is, where its figures come from and how to read them.
fn write_about(
    book: &mut Workbook,
    pack: &Pack,
    la_name: &str,
    formats: &Formats,
) -> Result<(), RenderError> {
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
            "Symbols",
            "c suppressed to protect children's privacy (a small number, or a figure that would let one be worked out); x not available; z not applicable; k rounds to zero; 0 is a true zero",
        ),
        (
            "Child-level sheets",
            if pack.child_level && !pack.is_public() {
                "the sheets named 'Children - …' list the children behind each figure: do not share outside the service"
            } else {
                "none in this pack"
            },
        ),
    ];
    for (r, (a, b)) in lines.iter().enumerate() {
        about.write_string_with_format(r as u32, 0, *a, &formats.bold)?;
        about.write_string(r as u32, 1, *b)?;
    }
    Ok(())
}

/// One framework area's sheet: every figure of its indicators, one row each, with the RAG
/// column tinted by its word.
fn write_area_sheet(
    book: &mut Workbook,
    names: &mut SheetNames,
    section: &Section,
    catalogue: &Catalogue,
    figures: &PackFigures,
    formats: &Formats,
) -> Result<(), RenderError> {
    let heading = section
        .title
        .clone()
        .unwrap_or_else(|| section.area.title().to_string());
    let sheet = book.add_worksheet();
    sheet.set_name(names.unique(&heading))?;
    sheet.set_freeze_panes(1, 2)?;
    for (c, (_, h)) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &formats.header)?;
        sheet.set_column_width(c as u16, if c == 0 { 40 } else { 14 })?;
    }
    let mut r = 1u32;
    for item in &section.indicators {
        let def = catalogue
            .get(&item.id)
            .ok_or_else(|| RenderError::Missing(item.id.clone()))?;
        let number = number_format(def.unit, def.display_decimals());
        for f in figures.totals(&item.id) {
            for (c, (name, _)) in COLUMNS.iter().enumerate() {
                write_cell(sheet, (r, c as u16), cell(def, f, name), &number, formats)?;
            }
            r += 1;
        }
    }
    let rag_col = COLUMNS
        .iter()
        .position(|c| c.0 == "rag")
        .expect("rag column") as u16;
    if r > 1 {
        for (word, fmt) in &formats.rag {
            let cf = ConditionalFormatText::new()
                .set_rule(ConditionalFormatTextRule::Contains(word.to_string()))
                .set_format(fmt);
            sheet.add_conditional_format(1, rag_col, r - 1, rag_col, &cf)?;
        }
    }
    Ok(())
}

/// Writes one area-sheet cell at (row, column), a figure in the indicator's `number` format.
fn write_cell(
    sheet: &mut Worksheet,
    (r, c): (u32, u16),
    cell: Cell,
    number: &Format,
    formats: &Formats,
) -> Result<(), RenderError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(t) => {
            sheet.write_string(r, c, t)?;
        }
        Cell::Symbol(t) => {
            sheet.write_string_with_format(r, c, t, &formats.symbol)?;
        }
        Cell::Date(d) => {
            sheet.write_date_with_format(r, c, &super::excel_date(d)?, &formats.date)?;
        }
        Cell::Value(v) => {
            sheet.write_number_with_format(r, c, v, number)?;
        }
        Cell::Number(v) => {
            sheet.write_number(r, c, v)?;
        }
    }
    Ok(())
}

/// The children behind the latest figure of each period type (the whole series is in the
/// drill-down files), in the drill-down's order.
pub(super) fn latest_children(df: &DataFrame) -> PolarsResult<DataFrame> {
    let latest = df
        .clone()
        .lazy()
        .group_by([col("period_type")])
        .agg([col("period_end").max()]);
    df.clone()
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
        .collect()
}

/// An indicator's "Children - <indicator>" sheet: a child-level warning, then the drill-down
/// rows of its latest figures.
fn write_children_sheet(
    book: &mut Workbook,
    names: &mut SheetNames,
    id: &str,
    drilldown: &DataFrame,
    formats: &Formats,
) -> Result<(), RenderError> {
    let df = &latest_children(drilldown)?;
    let sheet = book.add_worksheet();
    sheet.set_name(names.unique(&format!("Children - {id}")))?;
    // The sheet's name may be cut to Excel's 31 characters: the indicator is named in full.
    sheet.write_string_with_format(
        0,
        0,
        format!(
            "CHILD-LEVEL DATA: the children behind each figure of {id}. Do not share outside the service."
        ),
        &formats.bold,
    )?;
    for (c, col) in df.columns().iter().enumerate() {
        sheet.write_string_with_format(1, c as u16, col.name().as_str(), &formats.header)?;
        let s = col.as_materialized_series();
        // Excel's row limit, less the two header rows.
        for i in 0..df.height().min(1_048_574) {
            super::write_any(
                sheet,
                (i as u32 + 2, c as u16),
                s.get(i)?,
                &formats.date,
                super::Flags::Excel,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The area sheets show comparison columns by name: each must be one the comparison
    /// declares, or its cells would be blank with no error.
    #[test]
    fn area_sheet_columns_are_declared_comparison_columns() {
        for (name, _) in super::COLUMNS {
            crate::domain::schema::COMPARISON.field(name).unwrap();
        }
    }

    /// Two indicators whose ids share their first 31 characters get two sheets, and a
    /// name that differs only in case counts as taken, as Excel counts it.
    #[test]
    fn sheet_names_are_cut_to_31_characters_and_never_repeat() {
        let mut names = super::SheetNames::default();
        let a = names.unique("Children - pre_proceedings_fgdm_offered");
        let b = names.unique("Children - pre_proceedings_fgdm_held");
        let c = names.unique("children - PRE_PROCEEDINGS_FGDM_x");
        assert_eq!(a, "Children - pre_proceedings_fgdm");
        assert_eq!(b, "Children - pre_proceedings_ (2)");
        assert_eq!(c, "children - PRE_PROCEEDINGS_ (3)");
        assert_eq!(names.unique("A/b:c"), "Abc");
        for n in [a, b, c] {
            assert_eq!(n.chars().count(), 31);
        }
    }
}
