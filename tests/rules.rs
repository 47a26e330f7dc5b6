//! The DfE rule catalogue: every rule file loads, every case of every rule passes, and every
//! version of every rule has a case row it flags and one it passes.

use cspi::ingest::dfe::{RuleCatalogue, cases};

#[test]
fn every_rule_case_passes() {
    let catalogue = RuleCatalogue::embedded().expect("the rule files load");
    let (results, coverage) = cases::run_all(catalogue, None);
    let failures: Vec<String> = results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| {
            format!(
                "{} `{}` ({}): {}",
                r.code,
                r.case,
                r.year,
                r.error.clone().unwrap_or_else(|| format!(
                    "expected {:?}, flagged {:?}",
                    r.expected, r.flagged
                ))
            )
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(coverage.is_empty(), "{}", coverage.join("\n"));
    assert!(!results.is_empty());
}
