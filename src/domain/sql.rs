//! The guard in front of every SQL text a definition carries (indicator YAML, validation rules).
//!
//! Definitions are user-supplied code: a performance analyst's local indicator, a rule file.
//! polars' SQL front end can read files (`read_csv('/etc/passwd')` as a table function), open
//! FIFOs and run subqueries while an expression is merely being translated, so a text is parsed
//! here first and accepted only when every node is on an allow-list: column references,
//! literals, operators, `CASE`, `CAST`, `IN (…)`, `BETWEEN`, `LIKE` and a fixed list of scalar,
//! date, string and aggregate functions. Queries (validation rules) may in addition read the
//! tables the caller names — nothing else: no table functions, no unknown table, no statement
//! but a `SELECT`. Anything else is rejected before polars sees the text, with the reason.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArguments, ObjectName, Query, SetExpr, Statement, TableFactor, Visit, Visitor,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

/// What a text may contain beyond a plain expression.
#[derive(Debug, Clone, Default)]
pub struct Policy<'a> {
    /// Tables a query (or a subquery) may read. Empty: no query, no subquery at all.
    pub tables: &'a [&'a str],
    /// Window functions (`LAG(x) OVER (…)`) — queries over a table only, never row expressions.
    pub windows: bool,
}

/// Scalar functions any expression may call (lower case), chosen from polars' SQL functions:
/// arithmetic, strings, dates, null handling. None of them touches the file system.
const SCALAR_FUNCTIONS: &[&str] = &[
    "abs",
    "ceil",
    "ceiling",
    "coalesce",
    "concat",
    "concat_ws",
    "date",
    "date_part",
    "ends_with",
    "floor",
    "greatest",
    "if",
    "ifnull",
    "least",
    "left",
    "length",
    "char_length",
    "character_length",
    "lower",
    "lpad",
    "ltrim",
    "mod",
    "nullif",
    "power",
    "pow",
    "regexp_like",
    "replace",
    "right",
    "round",
    "rpad",
    "rtrim",
    "sign",
    "split_part",
    "sqrt",
    "starts_with",
    "strftime",
    "strpos",
    "strptime",
    "substr",
    "trunc",
    "upper",
];

/// Aggregates (per-child aggregates in indicators, grouped rule queries).
const AGGREGATE_FUNCTIONS: &[&str] = &[
    "avg", "count", "first", "last", "max", "median", "min", "sum", "stddev", "variance",
];

/// Window-only functions.
const WINDOW_FUNCTIONS: &[&str] = &[
    "lag",
    "lead",
    "row_number",
    "rank",
    "dense_rank",
    "first_value",
    "last_value",
];

/// Checks one SQL expression (an indicator's `where`, `numerator`, …; a rule's `where`).
pub fn check_expression(sql: &str, policy: &Policy) -> Result<(), String> {
    let expr = Parser::new(&GenericDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| {
            let e = p.parse_expr()?;
            p.expect_token(&sqlparser::tokenizer::Token::EOF)?;
            Ok(e)
        })
        .map_err(|e| format!("not a valid SQL expression: {e}"))?;
    let mut guard = Guard::new(policy);
    if let ControlFlow::Break(reason) = expr.visit(&mut guard) {
        return Err(reason);
    }
    Ok(())
}

/// Checks one SQL query (a rule's `query`, a rule view): a single `SELECT` over `policy.tables`.
pub fn check_query(sql: &str, policy: &Policy) -> Result<(), String> {
    let statements = Parser::parse_sql(&GenericDialect {}, sql)
        .map_err(|e| format!("not a valid SQL query: {e}"))?;
    let [statement] = statements.as_slice() else {
        return Err(format!(
            "expected one SELECT statement, found {}",
            statements.len()
        ));
    };
    let Statement::Query(query) = statement else {
        return Err("only a SELECT query is allowed".into());
    };
    if policy.tables.is_empty() {
        return Err("a query is not allowed here".into());
    }
    let mut guard = Guard::new(policy);
    guard.check_query_shape(query)?;
    if let ControlFlow::Break(reason) = query.visit(&mut guard) {
        return Err(reason);
    }
    Ok(())
}

/// The tables a query reads (lower case, CTE names left out): what a rule needs to run.
pub fn tables_read(sql: &str) -> Result<BTreeSet<String>, String> {
    let statements = Parser::parse_sql(&GenericDialect {}, sql)
        .map_err(|e| format!("not a valid SQL query: {e}"))?;
    let mut ctes = BTreeSet::new();
    let mut tables = BTreeSet::new();
    let _ = sqlparser::ast::visit_relations(&statements, |name| {
        tables.insert(object_name(name));
        ControlFlow::<()>::Continue(())
    });
    for statement in &statements {
        let _ = statement.visit(&mut CteNames(&mut ctes));
    }
    Ok(tables.difference(&ctes).cloned().collect())
}

struct CteNames<'a>(&'a mut BTreeSet<String>);

impl Visitor for CteNames<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.0.insert(cte.alias.name.value.to_ascii_lowercase());
            }
        }
        ControlFlow::Continue(())
    }
}

struct Guard<'p> {
    policy: &'p Policy<'p>,
    /// Names a query may read: the policy's tables plus the query's own CTE names.
    relations: BTreeSet<String>,
}

impl<'p> Guard<'p> {
    fn new(policy: &'p Policy<'p>) -> Self {
        Guard {
            policy,
            relations: policy
                .tables
                .iter()
                .map(|t| t.to_ascii_lowercase())
                .collect(),
        }
    }

    /// No `SELECT … INTO`, locking clauses or `FOR XML`; CTE names become readable relations.
    fn check_query_shape(&mut self, query: &Query) -> Result<(), String> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.relations
                    .insert(cte.alias.name.value.to_ascii_lowercase());
            }
        }
        if !query.locks.is_empty() || query.for_clause.is_some() {
            return Err("locking and FOR clauses are not allowed".into());
        }
        self.check_set_expr(&query.body)
    }

    fn check_set_expr(&mut self, body: &SetExpr) -> Result<(), String> {
        match body {
            SetExpr::Select(select) => {
                if select.into.is_some() {
                    return Err("SELECT … INTO is not allowed".into());
                }
                Ok(())
            }
            SetExpr::Query(q) => self.check_query_shape(q),
            SetExpr::SetOperation { left, right, .. } => {
                self.check_set_expr(left)?;
                self.check_set_expr(right)
            }
            SetExpr::Values(_) => Ok(()),
            other => Err(format!("`{other}` is not allowed in a definition")),
        }
    }

    fn allowed_function(&self, name: &str) -> bool {
        SCALAR_FUNCTIONS.contains(&name)
            || AGGREGATE_FUNCTIONS.contains(&name)
            || (self.policy.windows && WINDOW_FUNCTIONS.contains(&name))
    }
}

fn object_name(name: &ObjectName) -> String {
    name.to_string().to_ascii_lowercase()
}

impl Visitor for Guard<'_> {
    type Break = String;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<String> {
        if self.policy.tables.is_empty() {
            return ControlFlow::Break("subqueries are not allowed in an expression".into());
        }
        match self.check_query_shape(query) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<String> {
        match factor {
            TableFactor::Table {
                name,
                args,
                with_hints,
                ..
            } => {
                if args.is_some() {
                    return ControlFlow::Break(format!(
                        "`{name}(…)` is a table function; definitions may only read their own tables"
                    ));
                }
                if !with_hints.is_empty() {
                    return ControlFlow::Break("table hints are not allowed".into());
                }
                let table = object_name(name);
                if !self.relations.contains(&table) {
                    let mut known: Vec<&str> = self.policy.tables.to_vec();
                    known.sort_unstable();
                    return ControlFlow::Break(format!(
                        "unknown table `{name}`; a definition may read only: {}",
                        known.join(", ")
                    ));
                }
                ControlFlow::Continue(())
            }
            TableFactor::Derived { .. } | TableFactor::NestedJoin { .. } => {
                ControlFlow::Continue(())
            }
            other => ControlFlow::Break(format!(
                "`{other}` is not allowed; definitions may only read their own tables"
            )),
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<String> {
        let allowed = match expr {
            Expr::Identifier(_)
            | Expr::CompoundIdentifier(_)
            | Expr::Value(_)
            | Expr::TypedString(_)
            | Expr::Interval(_)
            | Expr::Nested(_)
            | Expr::BinaryOp { .. }
            | Expr::UnaryOp { .. }
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsTrue(_)
            | Expr::IsNotTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsNotFalse(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::InList { .. }
            | Expr::Between { .. }
            | Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::Case { .. }
            | Expr::Cast { .. }
            | Expr::Extract { .. }
            | Expr::Substring { .. }
            | Expr::Trim { .. }
            | Expr::Ceil { .. }
            | Expr::Floor { .. }
            | Expr::Position { .. } => true,
            Expr::InSubquery { .. } | Expr::Subquery(_) | Expr::Exists { .. } => {
                !self.policy.tables.is_empty()
            }
            Expr::Function(f) => {
                let name = object_name(&f.name);
                if !self.allowed_function(&name) {
                    return ControlFlow::Break(format!(
                        "function `{}` is not allowed in a definition",
                        f.name
                    ));
                }
                if f.over.is_some() && !self.policy.windows {
                    return ControlFlow::Break(format!(
                        "window function `{}` is not allowed here",
                        f.name
                    ));
                }
                if let FunctionArguments::Subquery(_) = f.args {
                    return ControlFlow::Break("a function over a subquery is not allowed".into());
                }
                true
            }
            Expr::Wildcard(_) | Expr::QualifiedWildcard(..) => !self.policy.tables.is_empty(),
            _ => false,
        };
        if allowed {
            ControlFlow::Continue(())
        } else {
            let text = expr.to_string();
            let shown: String = text.chars().take(60).collect();
            ControlFlow::Break(match expr {
                Expr::InSubquery { .. } | Expr::Subquery(_) | Expr::Exists { .. } => {
                    format!("subqueries are not allowed in an expression (`{shown}`)")
                }
                _ => format!("`{shown}` is not an allowed kind of SQL expression"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPR: Policy = Policy {
        tables: &[],
        windows: false,
    };

    #[test]
    fn plain_expressions_pass() {
        for sql in [
            "rec IN ('E11', 'E12') AND dec IS NOT NULL",
            "CASE WHEN days > 45 THEN 1 ELSE 0 END",
            "COALESCE(a, b) >= period_start",
            "DATE_PART('year', dec) - DATE_PART('year', dob) < 18",
            "place LIKE 'U%' OR NOT (ls BETWEEN 'C1' AND 'C2')",
            "CAST(x AS INTEGER) > 3",
            "MAX(cpp_start)",
        ] {
            check_expression(sql, &EXPR).unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    #[test]
    fn file_access_and_subqueries_are_rejected() {
        for (sql, why) in [
            (
                "child IN (SELECT x FROM read_csv('/etc/passwd'))",
                "subqueries",
            ),
            ("EXISTS (SELECT 1 FROM episodes)", "subqueries"),
            ("read_csv('/etc/passwd') IS NULL", "not allowed"),
            ("LAG(dec) OVER (ORDER BY decom) IS NULL", "not allowed"),
            ("1; DROP TABLE x", "valid SQL expression"),
        ] {
            let err = check_expression(sql, &EXPR).unwrap_err();
            assert!(err.contains(why), "{sql}: {err}");
        }
    }

    #[test]
    fn queries_read_only_their_tables() {
        let policy = Policy {
            tables: &["episodes", "header"],
            windows: true,
        };
        check_query(
            "WITH e AS (SELECT child, LAG(dec) OVER (PARTITION BY child ORDER BY decom) AS p FROM episodes) \
             SELECT e.child FROM e JOIN header h ON e.child = h.child WHERE p IS NULL",
            &policy,
        )
        .unwrap();
        for (sql, why) in [
            ("SELECT * FROM read_csv('/etc/passwd')", "table function"),
            ("SELECT * FROM secrets", "unknown table"),
            (
                "SELECT child FROM episodes WHERE child IN (SELECT x FROM read_parquet('a'))",
                "table function",
            ),
            ("DELETE FROM episodes", "only a SELECT"),
            ("SELECT 1; SELECT 2", "one SELECT"),
            ("SELECT * INTO t FROM episodes", "INTO"),
        ] {
            let err = check_query(sql, &policy).unwrap_err();
            assert!(err.contains(why), "{sql}: {err}");
        }
    }
}
