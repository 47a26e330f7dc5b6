//! The children behind a pack's lines of enquiry: a separate, clearly marked child-level file
//! for the inspection team (the pack itself states only how many children each line concerns).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::RenderError;
use super::content::EnquiryLine;
use super::packs::EnquiryChildren;
use crate::domain::schema::DRILLDOWN;

/// The file name marks what it holds.
pub const FILE_SUFFIX: &str = "lines_of_enquiry_CHILD_LEVEL.csv";

/// Writes `<dir>/<pack>_lines_of_enquiry_CHILD_LEVEL.csv`: one row per line and child (line,
/// question, indicator, period, child), from the LA's drill-down for each line's period. None
/// when the pack has no lines.
pub fn write_children(
    pack_id: &str,
    lines: &[EnquiryLine],
    drilldown: &BTreeMap<String, DataFrame>,
    dir: &Path,
) -> Result<Option<PathBuf>, RenderError> {
    if lines.is_empty() {
        return Ok(None);
    }
    let mut parts = vec![];
    for (k, line) in lines.iter().enumerate() {
        let Some(df) = drilldown.get(&line.indicator_id) else {
            continue;
        };
        DRILLDOWN.check_leading(df)?;
        let mut keep = col("period_type")
            .eq(lit(line.period_type.name()))
            .and(col("period_end").eq(lit(line.period_end).cast(DataType::Date)));
        if df.column("in_numerator").is_ok() {
            keep = keep.and(match line.children {
                EnquiryChildren::Numerator => col("in_numerator"),
                EnquiryChildren::OutsideNumerator => col("in_numerator").not(),
            });
        }
        parts.push(
            df.clone()
                .lazy()
                .filter(keep)
                .select([
                    lit(k as u32 + 1).alias("line"),
                    lit(line.question.clone()).alias("question"),
                    lit(line.indicator_id.clone()).alias("indicator_id"),
                    col("period_type"),
                    col("period_end"),
                    col("child"),
                ])
                .unique_stable(None, UniqueKeepStrategy::First),
        );
    }
    let mut all = if parts.is_empty() {
        DataFrame::empty()
    } else {
        concat(parts, UnionArgs::default())?
            .sort(["line", "child"], SortMultipleOptions::default())
            .collect()?
    };
    let path = dir.join(format!("{pack_id}_{FILE_SUFFIX}"));
    crate::domain::io::write_csv(&mut all, &path).map_err(|e| RenderError::Io(path.clone(), e))?;
    Ok(Some(path))
}
