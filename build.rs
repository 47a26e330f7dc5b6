//! Embeds the definition folders (`indicators/`, `charts/`, `rules/`) so the binary carries its
//! catalogue and pack definitions and runs from anywhere.

use std::fmt::Write as _;
use std::path::Path;

/// The YAML files of `folder` and of its sub-folders one level down (`rules/ssda903/…`), named
/// relative to `folder`.
fn yaml_files(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let mut out = vec![];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            let sub = path
                .file_name()
                .expect("folder name")
                .to_string_lossy()
                .into_owned();
            println!("cargo:rerun-if-changed={}", path.display());
            for (name, p) in yaml_files(&path) {
                if !name.contains('/') {
                    out.push((format!("{sub}/{name}"), p));
                }
            }
        } else if path.extension().is_some_and(|x| x == "yaml") {
            let name = path
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            out.push((name, path));
        }
    }
    out.sort();
    out
}

fn embed(folder: &str, out: &str) {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&root).join(folder);
    println!("cargo:rerun-if-changed={folder}");
    let files = yaml_files(&dir);
    let mut code = String::from(
        "/// (file name, contents) of every definition, in name order.\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for (name, path) in files {
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
    embed("rules", "rules.rs");
}
