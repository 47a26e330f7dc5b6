//! The public files as found in a folder: listed, picked out by name, and read as text tables.

use std::path::{Path, PathBuf};

use super::ReferenceError;
use crate::ingest::csv_lines::records;
use crate::ingest::text::decode;

/// A CSV file read as text: header names and rows of cells.
pub(super) struct TextTable {
    pub(super) path: PathBuf,
    pub(super) header: Vec<String>,
    pub(super) rows: Vec<Vec<String>>,
}

impl TextTable {
    pub(super) fn read(path: &Path) -> Result<TextTable, ReferenceError> {
        let bytes = std::fs::read(path).map_err(|e| ReferenceError::Io(path.into(), e))?;
        let (text, _) = decode(&bytes);
        let mut it = records(&text).filter(|r| !r.is_blank());
        let header = it
            .next()
            .map(|r| {
                r.fields
                    .into_iter()
                    .map(|f| f.trim().trim_start_matches('\u{feff}').to_string())
                    .collect()
            })
            .unwrap_or_default();
        let rows = it.map(|r| r.fields).collect();
        Ok(TextTable {
            path: path.into(),
            header,
            rows,
        })
    }

    pub(super) fn col(&self, name: &str) -> Result<usize, ReferenceError> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| ReferenceError::Format {
                file: self.path.clone(),
                message: format!("has no column '{name}'"),
            })
    }
}

/// Every file under `dir` (at any depth), in path order, for finding the public files by
/// name. Links are followed, as a folder may link to a shared download, with walkdir's loop
/// detection: a link back to a folder above it is not walked again. A link to nothing is
/// listed as a file would be, so reading it is the error that names it; folders that cannot
/// be listed are skipped.
pub(crate) fn files_under(dir: &Path) -> Vec<PathBuf> {
    let walk = walkdir::WalkDir::new(dir).min_depth(1).follow_links(true);
    let mut out: Vec<PathBuf> = walk
        .into_iter()
        .filter_map(|entry| match entry {
            Ok(entry) => (!entry.file_type().is_dir()).then(|| entry.into_path()),
            Err(e) if e.loop_ancestor().is_none() => e
                .path()
                .filter(|p| p.is_symlink() && !p.exists())
                .map(Path::to_path_buf),
            Err(_) => None,
        })
        .collect();
    out.sort();
    out
}

pub(super) fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Finds a file among the public files by a test of its name.
pub(super) type FindFile<'a> = dyn Fn(&dyn Fn(&str) -> bool) -> Option<PathBuf> + 'a;

/// The first of `files` (in path order) whose lower-case name passes `pred`.
pub(super) fn find_file(files: &[PathBuf], pred: &dyn Fn(&str) -> bool) -> Option<PathBuf> {
    files.iter().find(|p| pred(&file_name(p))).cloned()
}
