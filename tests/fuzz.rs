//! The fuzz targets (`cspi::fuzz`) in the ordinary test run.
//!
//! - Every input kept under `tests/fixtures/fuzz/<target>/` passes its target: the seeds the
//!   fuzzers start from, and every input a fuzzer ever crashed on (`crash-*`, kept as found;
//!   the fixtures README says what each one broke).
//! - A bounded, seeded mutation run of each target over those inputs: the same mutations every
//!   run (no clock, no randomness from outside), a few hundred per target, so CI fuzzes a
//!   little on every change without an instrumented build. The coverage-guided runs are
//!   `cargo fuzz` (README, "Fuzzing").

use std::path::{Path, PathBuf};

use cspi::fuzz::TARGETS;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// Runs `f` on `data`; on a panic, saves the input where the message says and fails.
fn run(target: &str, what: &str, f: cspi::fuzz::Target, data: &[u8]) {
    if std::panic::catch_unwind(|| f(data)).is_err() {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{target}-{what}"));
        std::fs::write(&path, data).unwrap();
        panic!(
            "{target} panicked on {what}; the input is in {} (keep it under tests/fixtures/fuzz/{target}/)",
            path.display()
        );
    }
}

#[test]
fn every_kept_input_passes_its_target() {
    for (target, f) in TARGETS {
        let kept = inputs(target);
        assert!(
            kept.iter().any(|(p, _)| p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("seed"))),
            "{target} has no seed"
        );
        for (path, data) in kept {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            run(target, &name, *f, &data);
        }
    }
}

/// Pieces that break readers: quotes, delimiters and line ends, markup, entities, encodings,
/// implausible dates and numbers.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b",",
    b"\n",
    b"\r\n",
    b"\r",
    b"<",
    b">",
    b"</",
    b"/>",
    b"<x>",
    b"&",
    b"&foo;",
    b"&#0;",
    b"&#xD800;",
    b"&amp;",
    b"<![CDATA[",
    b"]]>",
    b"\xE2\x82\xAC",
    b"\xA3",
    b"\xFF\xFE",
    b"\xEF\xBB\xBF",
    b"\x00",
    b"31/12/9999",
    b"01/01/0000",
    b"29/02/2023",
    b"9999-12-31",
    b"99999999999999999999",
    b"-1",
    b"NaN",
    b"1e308",
    b"XFD1048576",
    b"${",
    b"- ",
    b": ",
    b"*a",
    b"&a ",
    b"!!binary ",
];

/// One mutation of `data`: a byte changed, bytes inserted, removed or repeated, a token put
/// in, or a piece of another input spliced in.
fn mutate(rng: &mut StdRng, data: &[u8], others: &[(PathBuf, Vec<u8>)]) -> Vec<u8> {
    let mut out = data.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let at = if out.is_empty() {
            0
        } else {
            rng.random_range(0..=out.len())
        };
        match rng.random_range(0..6) {
            0 if at < out.len() => out[at] = rng.random(),
            1 => {
                let token = TOKENS[rng.random_range(0..TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
            2 if at < out.len() => {
                let end = (at + rng.random_range(1..=64)).min(out.len());
                out.drain(at..end);
            }
            3 if at < out.len() => {
                let end = (at + rng.random_range(1..=256)).min(out.len());
                let piece = out[at..end].to_vec();
                for _ in 0..rng.random_range(1..=8) {
                    out.splice(at..at, piece.iter().copied());
                }
            }
            4 => {
                let (_, other) = &others[rng.random_range(0..others.len())];
                if !other.is_empty() {
                    let from = rng.random_range(0..other.len());
                    let to = (from + rng.random_range(1..=512)).min(other.len());
                    out.splice(at..at, other[from..to].iter().copied());
                }
            }
            _ => out.insert(at.min(out.len()), rng.random()),
        }
    }
    out
}

#[test]
fn seeded_mutations_pass_every_target() {
    const PER_TARGET: usize = 1000;
    for (n, (target, f)) in TARGETS.iter().enumerate() {
        let kept = inputs(target);
        let mut rng = StdRng::seed_from_u64(0x5EED_0000 + n as u64);
        for i in 0..PER_TARGET {
            let (_, base) = &kept[i % kept.len()];
            let data = mutate(&mut rng, base, &kept);
            run(target, &format!("mutation-{i}"), *f, &data);
        }
    }
}
