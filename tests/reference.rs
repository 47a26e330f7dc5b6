//! Reference tables: the committed tables hold the published figures, and are exactly what
//! `cspi reference build` makes from the public DfE files.

use std::path::{Path, PathBuf};

use cspi::ingest::reference::{ReferenceIndex, ReferenceTables, build};
use polars::prelude::*;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference")
}

#[test]
fn the_embedded_tables_hold_the_las_and_their_neighbours() {
    let index = ReferenceIndex::embedded();
    assert_eq!(index.current_las().count(), 153);
    let lincs = index.la("925").unwrap();
    assert_eq!(
        (
            lincs.ons_code.as_str(),
            lincs.name.as_str(),
            lincs.region_name.as_str()
        ),
        ("E10000019", "Lincolnshire", "East Midlands")
    );
    assert_eq!(
        index.la("202").unwrap().region_code,
        "E12000007",
        "London boroughs belong to London"
    );
    // DfE's 2025 model: Lincolnshire's closest neighbour is Lancashire, then North Yorkshire.
    assert_eq!(
        index.neighbours(2025, "925")[..2],
        ["888".to_string(), "384".to_string()]
    );
    for la in index.current_las() {
        assert_eq!(index.neighbours(2025, &la.code).len(), 10, "{}", la.code);
    }
}

#[test]
fn the_embedded_tables_hold_published_figures() {
    let index = ReferenceIndex::embedded();
    // Lincolnshire 2025 (benchmarks.md): 8,726 referrals on a 2024 population of 147,954.
    assert_eq!(index.population("925", 2025), Some(147_954.0));
    assert_eq!(
        index.published("ees_referrals", "925", 2025).unwrap().value,
        Some(8_726.0)
    );
    let reref = index.published("ees_rereferral_pct", "925", 2025).unwrap();
    assert_eq!(
        (reref.value, reref.numerator, reref.denominator),
        (Some(22.9), Some(2_001.0), Some(8_726.0))
    );
    assert_eq!(
        index.published("ees_cin_at31", "925", 2025).unwrap().value,
        Some(4_184.0)
    );
    assert_eq!(
        index.published("ees_cpp_at31", "925", 2025).unwrap().value,
        Some(456.0)
    );
    let second = index
        .published("ees_cpp_subsequent_pct", "925", 2025)
        .unwrap();
    assert_eq!(
        (second.numerator, second.denominator),
        (Some(128.0), Some(556.0))
    );
    assert_eq!(
        index
            .published("lait:CPP_Total_Rateper10,000", "925", 2025)
            .unwrap()
            .value,
        Some(589.8)
    );
    // Suppressed figures keep their symbol and have no value.
    let suppressed = index.published("ees_cpp_open_2y_pct", "925", 2025).unwrap();
    assert_eq!(
        (suppressed.value, suppressed.status.as_deref()),
        (None, Some("c"))
    );
}

fn same(a: &DataFrame, b: &DataFrame, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}");
    assert!(a.equals_missing(b), "{what} differs from a fresh build");
}

#[test]
#[ignore = "needs ../shared/reference (run by .ci/run)"]
fn committed_tables_are_what_the_build_command_makes() {
    let fresh = build(&shared()).expect("the public files build");
    let committed =
        ReferenceTables::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/reference"))
            .unwrap();
    same(&fresh.las, &committed.las, "las");
    same(&fresh.sn_groups, &committed.sn_groups, "sn_groups");
    // The shipped series' label is added when the table is read (not stored on every row).
    same(
        &cspi::ingest::population::with_estimate_column(fresh.population.clone()).unwrap(),
        &committed.population,
        "population",
    );
    same(&fresh.published, &committed.published, "published");
    same(&fresh.sectors, &committed.sectors, "postcode_sectors");
    assert_eq!(fresh.measures.height(), committed.measures.height());
    // Ofsted's inspection outcomes: the committed table is what the build writes from its ODS.
    let ods = shared().join("dfe-csc/LA_Inspection_Outcomes_as_at_31_March_2025.ods");
    let map = fresh.la_of_ons().unwrap();
    let mut table = cspi::ingest::inspections::build(&ods, &|ons| map.get(ons).cloned()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let written = dir.path().join("inspections.csv");
    cspi::domain::io::write_csv(&mut table, &written).unwrap();
    assert_eq!(
        std::fs::read_to_string(&written).unwrap(),
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("data/reference/inspections.csv")
        )
        .unwrap(),
        "inspections.csv differs from a fresh build"
    );
    assert!(table.height() > 300, "{} inspections", table.height());
}

#[test]
#[ignore = "needs ../shared/reference (run by .ci/run)"]
fn the_build_reads_the_neighbour_workbooks_too() {
    // With only the xlsx workbooks (no SN CSVs), the same neighbours come out.
    let dir = tempfile::tempdir().unwrap();
    for f in ["dfe-lait/sn_may_2025.xlsx", "dfe-lait/sn_april_2021.xlsx"] {
        std::fs::copy(
            shared().join(f),
            dir.path().join(Path::new(f).file_name().unwrap()),
        )
        .unwrap();
    }
    for f in std::fs::read_dir(shared().join("dfe-csc"))
        .unwrap()
        .flatten()
    {
        let name = f.file_name().to_string_lossy().into_owned();
        if !name.contains("Neighbour") && !name.starts_with("sn_") {
            std::fs::copy(f.path(), dir.path().join(&name)).unwrap();
        }
    }
    for f in [
        "dfe-lait/bds_long_0.parquet",
        "dfe-lait/lait_data_dictionary.csv",
        "derived/postcode_sectors.csv",
        "derived/postcodes_sample.csv",
    ] {
        std::fs::copy(
            shared().join(f),
            dir.path().join(Path::new(f).file_name().unwrap()),
        )
        .unwrap();
    }
    let from_xlsx = build(dir.path()).unwrap();
    let index = ReferenceIndex::new(&from_xlsx).unwrap();
    assert_eq!(
        index.neighbours(2025, "925")[..3],
        ["888".to_string(), "384".to_string(), "884".to_string()]
    );
    assert_eq!(index.neighbours(2021, "925").len(), 10);
}
