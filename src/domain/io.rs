//! Writing outputs atomically: a reader (a dashboard refreshing, a colleague opening the
//! workbook) never sees half a file, and a failed run leaves the previous output in place.
//! Every file goes to a temporary name in the same folder and is renamed over the target.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Writes a file atomically from a closure that fills a writer.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let temp = temp_path(path);
    let result = (|| {
        let mut writer = BufWriter::new(File::create(&temp)?);
        fill(&mut writer)?;
        writer.flush()?;
        writer.get_ref().sync_all()?;
        Ok(())
    })();
    match result {
        Ok(()) => fs::rename(&temp, path),
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// Writes bytes atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, |w| w.write_all(bytes))
}

fn to_io(e: PolarsError) -> io::Error {
    io::Error::other(e.to_string())
}

/// Writes a table as zstd-compressed Parquet, atomically.
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> io::Result<()> {
    write_atomic(path, |w| {
        ParquetWriter::new(w)
            .with_compression(ParquetCompression::Zstd(None))
            .with_statistics(StatisticsOptions::default())
            .finish(df)
            .map(|_| ())
            .map_err(to_io)
    })
}

/// Writes a table as CSV (dates ISO, header row), atomically.
pub fn write_csv(df: &mut DataFrame, path: &Path) -> io::Result<()> {
    write_atomic(path, |w| {
        CsvWriter::new(w)
            .include_header(true)
            .finish(df)
            .map_err(to_io)
    })
}

/// Reads a Parquet file written by [`write_parquet`]. Errors name the file: a bare Parquet
/// error ("out of specification") does not say which of thousands of files is damaged.
pub fn read_parquet(path: &Path) -> PolarsResult<DataFrame> {
    let file = File::open(path)
        .map_err(|e| polars_err!(ComputeError: "cannot open {}: {e}", path.display()))?;
    ParquetReader::new(file).finish().map_err(
        |e| polars_err!(ComputeError: "{}: not a readable Parquet file ({e})", path.display()),
    )
}
