//! The long tables that cross layers, declared once: the indicator values (indicators →
//! compare, render, the context section), the comparison (compare → render) and DfE's
//! published figures (reference → compare). Each column has a name, a type and a meaning here
//! and nowhere else.
//!
//! Producers build their table through the declaration and check it before handing it on;
//! readers take columns only through it. A renamed or retyped column then fails at the
//! boundary with the table's and the column's name (instead of a polars "not found" three
//! layers away, or a silently empty chart), and a reader cannot use a column the contract does
//! not hold.

use polars::prelude::*;

/// A column's type, as the layers read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// A float (counts are floats too: numerators of means are sums of days).
    Number,
    /// A 32-bit integer (ranks, counts of neighbours, model numbers).
    Whole,
    /// A calendar date (days since 1970-01-01 underneath).
    Date,
    Flag,
}

impl Kind {
    pub fn dtype(self) -> DataType {
        match self {
            Kind::Text => DataType::String,
            Kind::Number => DataType::Float64,
            Kind::Whole => DataType::Int32,
            Kind::Date => DataType::Date,
            Kind::Flag => DataType::Boolean,
        }
    }
}

/// One declared column.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    /// What the column holds, for reviewers and the README's output tables (never parsed).
    pub about: &'static str,
}

/// A long table's declaration: its columns, in the order they are written.
#[derive(Debug)]
pub struct Schema {
    /// The table's name in messages ("indicator values", "comparison").
    pub table: &'static str,
    pub fields: &'static [Field],
}

const fn f(name: &'static str, kind: Kind, about: &'static str) -> Field {
    Field { name, kind, about }
}

use Kind::{Date, Flag, Number, Text, Whole};

/// The indicator values: one row per LA × indicator × period (× breakdown group), as
/// `indicators.{parquet,csv}` hold them.
pub static VALUES: Schema = Schema {
    table: "indicator values",
    fields: &[
        f("la_code", Text, "the LA's 3-digit code"),
        f(
            "indicator_id",
            Text,
            "the definition's id (indicators/<id>.yaml)",
        ),
        f(
            "period_type",
            Text,
            "year, snapshot, rolling_12m, … (PeriodType names)",
        ),
        f(
            "period_start",
            Date,
            "first day of the period (a snapshot: its date)",
        ),
        f(
            "period_end",
            Date,
            "last day of the period (a snapshot: its date)",
        ),
        f(
            "breakdown",
            Text,
            "null for the LA's total; else 'column=value'",
        ),
        f(
            "numerator",
            Number,
            "children or events counted, or a mean's sum",
        ),
        f(
            "denominator",
            Number,
            "cohort, population or a mean's count; null for counts",
        ),
        f("value", Number, "the figure in its unit"),
        f(
            "spread",
            Number,
            "standard deviation of a mean's unit values; null otherwise",
        ),
        f(
            "unit",
            Text,
            "Unit name: percent, rate_per_10k, count, mean_days, mean",
        ),
        f("polarity", Text, "Polarity name: high, low, neutral"),
        f(
            "history_complete",
            Flag,
            "false when the returns lack the history needed",
        ),
        f(
            "population_estimate",
            Text,
            "a rate's population estimate (its ONS release); null otherwise",
        ),
    ],
};

/// The comparison: one row per LA figure without a breakdown, against its statistical
/// neighbours, region and England, as `comparison_<source>.{parquet,csv}` hold them.
pub static COMPARISON: Schema = Schema {
    table: "comparison",
    fields: &[
        f("la_code", Text, "the LA's 3-digit code"),
        f("la_name", Text, "the LA's name"),
        f("indicator_id", Text, "the definition's id"),
        f("short_title", Text, "the definition's short title"),
        f("area", Text, "the catalogue area's title"),
        f(
            "judgement",
            Text,
            "the framework judgement the area sits under",
        ),
        f("period_type", Text, "PeriodType name"),
        f("period_start", Date, "first day of the period"),
        f("period_end", Date, "last day of the period"),
        f("unit", Text, "the definition's unit"),
        f("polarity", Text, "the definition's polarity"),
        f("numerator", Number, "as in the indicator values"),
        f("denominator", Number, "as in the indicator values"),
        f("value", Number, "as in the indicator values"),
        f("source", Text, "published or computed benchmarks"),
        f("benchmark_period", Text, "the benchmark year's label"),
        f(
            "sn_model",
            Whole,
            "the statistical neighbour model (null: a user's own group)",
        ),
        f("sn_mean", Number, "mean of the neighbours' values"),
        f("sn_median", Number, "median of the neighbours' values"),
        f("sn_count", Whole, "neighbours with a value"),
        f("sn_group_size", Whole, "neighbours in the group"),
        f(
            "sn_suppressed",
            Whole,
            "neighbours whose value is suppressed",
        ),
        f("region_code", Text, "the LA's region"),
        f("region_value", Number, "the region's value"),
        f("england_value", Number, "England's value"),
        f("rank", Whole, "the LA's rank among all LAs with a value"),
        f("rank_of", Whole, "LAs ranked"),
        f(
            "rank_order",
            Text,
            "'1 = best' or '1 = highest' (neutral polarity)",
        ),
        f(
            "quartile",
            Text,
            "Quartile name: A (best quarter) to D; null when neutral",
        ),
        f("diff_sn", Number, "value minus the neighbours' mean"),
        f("diff_sn_pct", Number, "that difference as % of the mean"),
        f("diff_england", Number, "value minus England's"),
        f(
            "diff_england_pct",
            Number,
            "that difference as % of England's",
        ),
        f("rag", Text, "Rag name: green, amber, red"),
        f("rag_against", Text, "'statistical neighbours' or 'England'"),
        f("la_lower_95", Number, "the LA value's 95% interval, lower"),
        f("la_upper_95", Number, "the LA value's 95% interval, upper"),
        f(
            "england_lower_95",
            Number,
            "England's 95% funnel limit, lower",
        ),
        f(
            "england_upper_95",
            Number,
            "England's 95% funnel limit, upper",
        ),
        f(
            "england_lower_998",
            Number,
            "England's 99.8% funnel limit, lower",
        ),
        f(
            "england_upper_998",
            Number,
            "England's 99.8% funnel limit, upper",
        ),
        f(
            "sig_england",
            Text,
            "funnel verdict against England, with its level (95% or 99.8%)",
        ),
        f(
            "sig_sn",
            Text,
            "funnel verdict against the neighbours' mean, with its level",
        ),
        f(
            "change_previous",
            Number,
            "value minus the same period a year before",
        ),
        f(
            "trend",
            Text,
            "Trend name: improving, worsening, stable; rising, falling",
        ),
        f("trend_slope", Number, "slope of the LA's series per year"),
        f("trend_years", Whole, "years in the trend"),
    ],
};

/// DfE's published figures as cspi keeps them (`data/reference/published.parquet`, or a
/// user's newer LAIT and EES downloads): one row per measure × area × year (reference →
/// compare).
pub static PUBLISHED: Schema = Schema {
    table: "published figures",
    fields: &[
        f(
            "measure",
            Text,
            "the measure's id in data/reference/sources.yaml",
        ),
        f(
            "year",
            Whole,
            "the collection year the figure is for (its 31 March)",
        ),
        f("level", Text, "national, regional or la"),
        f(
            "code",
            Text,
            "the area: E92000001, a region's ONS code, or an LA's 3-digit code",
        ),
        f(
            "value",
            Number,
            "the figure; null when suppressed or not available",
        ),
        f(
            "status",
            Text,
            "DfE's symbol for a missing value (c, x, z, low, …); else null",
        ),
        f(
            "numerator",
            Number,
            "the published count behind the figure, if given",
        ),
        f(
            "denominator",
            Number,
            "the published base of the figure, if given",
        ),
    ],
};

/// The children behind one indicator's figures (`child_level_drilldown/<id>.*`, the packs'
/// "Children - …" sheets and the lines of enquiry): these columns first, then the indicator's
/// own — `in_numerator` (a flag) for a percentage or `value` (a number) otherwise, the fields
/// its YAML's `drilldown:` lists — and last `indicator_id`.
pub static DRILLDOWN: Schema = Schema {
    table: "drill-down",
    fields: &[
        f("la_code", Text, "the LA's 3-digit code"),
        f("period_type", Text, "PeriodType name"),
        f("period_start", Date, "first day of the period"),
        f("period_end", Date, "last day of the period"),
        f(
            "child",
            Text,
            "the child's id in the return (child-level: never in a public pack)",
        ),
    ],
};

impl Schema {
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.fields.iter().map(|c| c.name)
    }

    /// The declared column, or an error naming the table: a reader asked for a column the
    /// contract does not hold.
    pub fn field(&self, name: &str) -> PolarsResult<&Field> {
        match self.fields.iter().find(|c| c.name == name) {
            Some(c) => Ok(c),
            None => {
                polars_bail!(ColumnNotFound: "`{name}` is not a column of the {} table", self.table)
            }
        }
    }

    /// Checks that `df` has exactly the declared columns, in order, with their types.
    pub fn check(&self, df: &DataFrame) -> PolarsResult<()> {
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        if !names.iter().copied().eq(self.names()) {
            polars_bail!(SchemaMismatch:
                "the {} table has columns {names:?}; its declaration (domain::schema) has {:?}",
                self.table, self.names().collect::<Vec<_>>());
        }
        for (c, field) in df.columns().iter().zip(self.fields) {
            if c.dtype() != &field.kind.dtype() {
                polars_bail!(SchemaMismatch:
                    "the {} table's `{}` is {}, declared {}",
                    self.table, field.name, c.dtype(), field.kind.dtype());
            }
        }
        Ok(())
    }

    /// Checks that `df` begins with the declared columns, in order, with their types (the
    /// columns after them vary: see [`DRILLDOWN`]).
    pub fn check_leading(&self, df: &DataFrame) -> PolarsResult<()> {
        let columns = df.columns();
        for (i, field) in self.fields.iter().enumerate() {
            match columns.get(i) {
                Some(c) if c.name().as_str() == field.name && c.dtype() == &field.kind.dtype() => {}
                Some(c) => polars_bail!(SchemaMismatch:
                    "the {} table's column {} is `{}` ({}); its declaration has `{}` ({})",
                    self.table, i + 1, c.name(), c.dtype(), field.name, field.kind.dtype()),
                None => polars_bail!(SchemaMismatch:
                    "the {} table lacks its column `{}`", self.table, field.name),
            }
        }
        Ok(())
    }

    /// The table with no rows.
    pub fn empty(&self) -> DataFrame {
        let columns = self
            .fields
            .iter()
            .map(|c| Column::full_null(c.name.into(), 0, &c.kind.dtype()))
            .collect();
        DataFrame::new_infer_height(columns).unwrap_or_default()
    }

    /// An all-null column of `name`'s declared type.
    pub fn null_column(&self, name: &str, height: usize) -> PolarsResult<Column> {
        let field = self.field(name)?;
        Ok(Column::full_null(
            field.name.into(),
            height,
            &field.kind.dtype(),
        ))
    }

    /// The column as declared, after checking that the declaration has it with one of `kinds`.
    fn typed<'a>(&self, df: &'a DataFrame, name: &str, kinds: &[Kind]) -> PolarsResult<&'a Column> {
        let field = self.field(name)?;
        if !kinds.contains(&field.kind) {
            polars_bail!(SchemaMismatch:
                "the {} table's `{name}` is declared {:?}, read as {kinds:?}", self.table, field.kind);
        }
        df.column(name).map_err(
            |_| polars_err!(ColumnNotFound: "the {} table has no `{name}` column", self.table),
        )
    }

    /// A text column.
    pub fn text(&self, df: &DataFrame, name: &str) -> PolarsResult<StringChunked> {
        Ok(self.typed(df, name, &[Text])?.str()?.clone())
    }

    /// A number or whole-number column, as floats (ranks and counts read as numbers by
    /// charts and readings).
    pub fn number(&self, df: &DataFrame, name: &str) -> PolarsResult<Float64Chunked> {
        let c = self.typed(df, name, &[Number, Whole])?;
        Ok(c.cast(&DataType::Float64)?.f64()?.clone())
    }

    /// A whole-number column.
    pub fn whole(&self, df: &DataFrame, name: &str) -> PolarsResult<Int32Chunked> {
        Ok(self.typed(df, name, &[Whole])?.i32()?.clone())
    }

    /// A date column as days since 1970-01-01.
    pub fn date(&self, df: &DataFrame, name: &str) -> PolarsResult<Int32Chunked> {
        Ok(self.typed(df, name, &[Date])?.date()?.physical().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_empty_tables_check() {
        for schema in [&VALUES, &COMPARISON, &PUBLISHED] {
            let mut names: Vec<_> = schema.names().collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), schema.fields.len(), "{}", schema.table);
            schema.check(&schema.empty()).unwrap();
        }
        DRILLDOWN.check_leading(&DRILLDOWN.empty()).unwrap();
        let extra = DRILLDOWN
            .empty()
            .hstack(&[Column::full_null("value".into(), 0, &DataType::Float64)])
            .unwrap();
        DRILLDOWN.check_leading(&extra).unwrap();
        let e = DRILLDOWN
            .check_leading(&VALUES.empty())
            .unwrap_err()
            .to_string();
        assert!(e.contains("column 2 is `indicator_id`"), "{e}");
    }

    #[test]
    fn a_retyped_or_missing_column_is_named() {
        let mut df = VALUES.empty();
        df.with_column(Column::full_null("value".into(), 0, &DataType::String))
            .unwrap();
        let e = VALUES.check(&df).unwrap_err().to_string();
        assert!(e.contains("`value` is str"), "{e}");
        let df = VALUES.empty().drop("spread").unwrap();
        let e = VALUES.check(&df).unwrap_err().to_string();
        assert!(e.contains("indicator values table has columns"), "{e}");
        let e = VALUES.text(&VALUES.empty(), "rag").unwrap_err().to_string();
        assert!(
            e.contains("`rag` is not a column of the indicator values"),
            "{e}"
        );
        let e = VALUES
            .text(&VALUES.empty(), "value")
            .unwrap_err()
            .to_string();
        assert!(e.contains("declared Number"), "{e}");
    }
}
