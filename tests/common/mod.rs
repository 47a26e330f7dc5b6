//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use polars::prelude::*;

pub mod cin;

/// A fixture folder under tests/fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// One cell as plain text: dates ISO, strings unquoted, nulls empty.
pub fn cell(v: AnyValue) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Date(d) => {
            cspi::domain::dates::format_iso(cspi::domain::dates::from_epoch_days(d))
        }
        AnyValue::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// The rows of a table as `a|b|c` strings over the given columns, in table order.
pub fn rows(df: &DataFrame, columns: &[&str]) -> Vec<String> {
    let cols: Vec<&Column> = columns
        .iter()
        .map(|c| df.column(c).unwrap_or_else(|_| panic!("column {c}")))
        .collect();
    (0..df.height())
        .map(|i| {
            cols.iter()
                .map(|c| cell(c.get(i).unwrap()))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}
