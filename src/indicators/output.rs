//! Writing indicator results: the long table of values, and — separately, in a folder whose
//! name says it holds child-level data — the children behind each figure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::catalogue::Catalogue;
use crate::domain::io::{write_bytes, write_csv, write_parquet};

/// Folder (under the output folder) of the drill-down lists: never for member-facing packs.
pub const DRILLDOWN_DIR: &str = "child_level_drilldown";

fn io(e: std::io::Error) -> PolarsError {
    PolarsError::IO {
        error: std::sync::Arc::new(e),
        msg: None,
    }
}

/// Writes `indicators.parquet` and `indicators.csv` into `dir`; returns their paths.
pub fn write_values(values: &DataFrame, dir: &Path) -> PolarsResult<Vec<PathBuf>> {
    let mut df = values.clone();
    let paths = vec![dir.join("indicators.parquet"), dir.join("indicators.csv")];
    write_parquet(&mut df, &paths[0]).map_err(io)?;
    write_csv(&mut df, &paths[1]).map_err(io)?;
    Ok(paths)
}

/// Writes each indicator's drill-down as `<dir>/child_level_drilldown/<id>.{parquet,csv}`, with
/// a README saying what the folder holds. Returns the folder.
pub fn write_drilldown(
    drilldown: &BTreeMap<String, DataFrame>,
    dir: &Path,
) -> PolarsResult<PathBuf> {
    let folder = dir.join(DRILLDOWN_DIR);
    write_bytes(
        &folder.join("README.txt"),
        b"CHILD-LEVEL DATA. These files list the children behind each indicator figure (child id and the\n\
fields that decided whether the child is in the numerator). They are for performance teams\n\
acting on the figures and must not be shared in member-facing packs.\n",
    )
    .map_err(io)?;
    for (id, df) in drilldown {
        let mut df = df.clone();
        write_parquet(&mut df, &folder.join(format!("{id}.parquet"))).map_err(io)?;
        write_csv(&mut df, &folder.join(format!("{id}.csv"))).map_err(io)?;
    }
    Ok(folder)
}

/// The catalogue as a table (for the workbook and for reviewers).
pub fn catalogue_frame(catalogue: &Catalogue) -> PolarsResult<DataFrame> {
    let d = &catalogue.definitions;
    let s = |f: &dyn Fn(&super::catalogue::Definition) -> String| {
        d.iter().map(f).collect::<Vec<String>>()
    };
    DataFrame::new_infer_height(vec![
        Column::new("indicator_id".into(), s(&|x| x.id.clone())),
        Column::new("title".into(), s(&|x| x.title.clone())),
        Column::new("short_title".into(), s(&|x| x.short_title.clone())),
        Column::new("area".into(), s(&|x| x.area.title().to_string())),
        Column::new("unit".into(), s(&|x| x.unit.name().to_string())),
        Column::new("polarity".into(), s(&|x| x.polarity.name().to_string())),
        Column::new("source".into(), s(&|x| x.source.clone())),
        Column::new(
            "start_event".into(),
            s(&|x| {
                x.events
                    .as_ref()
                    .map(|e| e.start.clone())
                    .unwrap_or_default()
            }),
        ),
        Column::new(
            "end_event".into(),
            s(&|x| x.events.as_ref().map(|e| e.end.clone()).unwrap_or_default()),
        ),
        Column::new(
            "benchmark".into(),
            s(&|x| {
                x.benchmark
                    .lait
                    .clone()
                    .or(x.benchmark.ees.clone())
                    .unwrap_or_default()
            }),
        ),
        Column::new("definition".into(), s(&|x| x.definition.clone())),
    ])
}
