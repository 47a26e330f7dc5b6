//! Embeds the definition folders (`indicators/`, `charts/`) so the binary carries its
//! catalogue and pack definitions and runs from anywhere.

use std::fmt::Write as _;
use std::path::Path;

fn embed(folder: &str, out: &str) {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&root).join(folder);
    println!("cargo:rerun-if-changed={folder}");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut code = String::from(
        "/// (file name, contents) of every definition, in name order.\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for path in files {
        let name = path.file_name().expect("file name").to_string_lossy();
        writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("write to string");
    }
    code.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join(out), code).expect("write generated file");
}

fn main() {
    embed("indicators", "catalogue.rs");
    embed("charts", "charts.rs");
}
