//! DfE's validation rules for the SSDA903 and the CIN census, as a reviewable catalogue.
//!
//! Each rule is one YAML file in `rules/<collection>/<code>.yaml` (compiled into the binary):
//! DfE's code and message, the fields it blames, error or query, the collection years it is in
//! force (with the years it was amended), the table whose rows it flags and its condition — an
//! SQL predicate over that table's *rule view* or an SQL query over several views (this year's,
//! last year's return, the reference tables) — and its own failing and passing cases. A rule
//! never deletes a row: the rows it flags are what the LA has to fix, so the readers keep them
//! and the report lists them with the DfE code and message.
//!
//! - [`catalogue`]: the rule files, loaded and checked (SQL guard, fields, years);
//! - [`views`]: the tables a rule reads, built once per return from `rules/<collection>/_views.yaml`;
//! - [`engine`]: runs the rules of a collection year over a return;
//! - [`cases`]: runs each rule's own cases (the rule catalogue's tests).

pub mod cases;
pub mod catalogue;
pub mod engine;
pub mod views;

pub use catalogue::{Rule, RuleCatalogue, RuleError, RuleSeverity, Version};
pub use engine::{Finding, NotRun, Outcome, PreviousReturn, RuleInputs};
