//! The history store: every return an LA has sent, and one deduplicated history per LA.
//!
//! Each year's 903 repeats the episodes still open on 1 April, and each CIN census repeats the
//! episodes and plans still open; a later return may also correct an earlier one. The store keeps
//! each validated return as sent (`returns/<la>/<year>/<table>.parquet`) and rebuilds the LA's
//! history from all of them (`history/<table>/<la>.parquet`, the dataset every later layer
//! reads):
//!
//! 1. records with the same key (the spec's `key`) keep the version of the latest return;
//! 2. a record still open at the end of its return (no DEC, CINclosureDate, CPPendDate,
//!    CINPlanEndDate) that the LA's next return does not repeat is superseded by that return;
//! 3. a 903 episode from an earlier return that overlaps an episode of a later return is
//!    superseded (the later return restates the period it covers);
//! 4. CIN assessments, plans and enquiries whose CIN episode is no longer in the history (its
//!    referral date was corrected) are dropped with it.
//!
//! Every record dropped by rules 2–4 is listed as a note in the history report.
//!
//! # Re-ingesting part of a return
//!
//! A table of a saved return is replaced only by a table this ingest actually read for the same
//! LA, year and collection: a readable file replaces its tables (even with zero rows — a
//! resubmission may legitimately empty a table), a table no file supplied keeps the earlier
//! ingest's version, and a file that could not be read (missing, empty, unrecognised, a required
//! column missing, an invalid LA) replaces nothing. A file cut off part-way (truncated XML)
//! replaces a return the store does not hold yet, but never a held one. The report notes, per
//! return, which tables were replaced and which were kept. The cross-row checks of a partly
//! re-ingested return run over the tables kept as well (see `returns::read_returns_over`).
//!
//! # Generations, the pointer and the lock
//!
//! The store on disk:
//!
//! ```text
//! <store>/CURRENT                      the generation readers use ("7")
//! <store>/LOCK                         held (advisory, exclusive) by the one ingest writing
//! <store>/generations/<n>/returns/…    a complete state of the store
//! <store>/generations/<n>/history/…
//! <store>/generations/<n>/READERS      held (shared) by every open reader of generation n
//! <store>/returns, <store>/history     links to the current generation's folders (Unix), for
//!                                      tools outside cspi that read the store's files
//! <store>/validation/report.{csv,parquet}, history_notes.{csv,parquet}   the last ingest's reports
//! ```
//!
//! An ingest is one atomic step. Under the lock it builds generation n+1 — every file of
//! generation n hard-linked (cheap; [`crate::domain::io`] writes temp+rename, so a linked file
//! is replaced, never modified in place), then the new returns and rebuilt histories written
//! over them — and only then replaces `CURRENT` (temp+rename). A reader resolves `CURRENT` once,
//! when the store is opened, so it never sees half of an ingest; a crash or a failed ingest
//! leaves `CURRENT` on the previous generation, and the next writer removes the debris. After
//! the switch the writer removes old generations, keeping the previous one and any still open
//! by a reader.
//!
//! A store written before generations (`returns/` and `history/` directly under the root, no
//! `CURRENT`) is read as generation 0 and migrated by the next ingest (generation 1 is linked
//! from it; the root folders go when generation 0 is no longer the previous one).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use polars::prelude::*;
use thiserror::Error;

use super::canonical::CanonicalTable;
use super::report::{Issue, Report, Severity};
use super::returns::{Collection, ReturnData, ReturnKey, Supply};
use super::rules::Tables;
use super::spec::TableSpec;
use crate::domain::dates::{format_iso, from_epoch_days, is_plausible_collection_year};
use crate::domain::io::{read_parquet, write_bytes, write_csv, write_parquet};
use crate::domain::la::{LaCode, quoted};

/// Tables whose records can stay open across years, with the column that closes them.
const OPEN_ENDED: &[(&str, &str)] = &[
    ("episodes", "dec"),
    ("cin_episode", "closure_date"),
    ("cin_cpp", "cpp_end"),
    ("cin_plan", "plan_end"),
];

/// CIN tables that belong to a CIN episode through (child, referral_date).
const EPISODE_CHILDREN: &[&str] = &[
    "cin_assessment",
    "cin_plan",
    "cin_s47",
    "cin_cpp",
    "cin_pre_proceedings",
];

const CURRENT: &str = "CURRENT";
const LOCK: &str = "LOCK";
const GENERATIONS: &str = "generations";
const READERS: &str = "READERS";
/// The folders a generation holds (and that generation 0 holds directly under the root).
const CONTENT: [&str; 2] = ["returns", "history"];

/// How long an ingest waits for another ingest's lock by default: longer than a national
/// ingest takes, short enough that a scheduled run does not hang for ever behind a stuck one.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Problems reading or writing the store, each naming the file and what to do.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(
        "{}: not a readable Parquet file ({source}); the store is damaged: restore it from a backup, or delete the store folder and ingest the returns again",
        path.display()
    )]
    Parquet { path: PathBuf, source: PolarsError },
    #[error("{}: {message}", path.display())]
    Damaged { path: PathBuf, message: String },
    #[error(
        "the store {} is in use by another ingest ({} is locked); waited {} s for it to finish. Run again when it has finished (a lock is released as soon as its process ends, even if it crashed)",
        root.display(), root.join(LOCK).display(), waited.as_secs()
    )]
    Locked { root: PathBuf, waited: Duration },
    #[error(
        "collection year {year} is outside {}–{}: the store keeps returns by collection year",
        crate::domain::dates::COLLECTION_YEARS.start(),
        crate::domain::dates::COLLECTION_YEARS.end()
    )]
    Year { year: i32 },
    #[error("{0}")]
    Data(#[from] PolarsError),
}

impl StoreError {
    fn io(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StoreError + use<> {
        let path = path.to_path_buf();
        move |source| StoreError::Io { what, path, source }
    }
}

impl From<StoreError> for PolarsError {
    fn from(e: StoreError) -> PolarsError {
        match e {
            StoreError::Data(e) => e,
            other => polars_err!(ComputeError: "{other}"),
        }
    }
}

/// The folders of one generation (or of the root, for generation 0): where each file is.
#[derive(Debug, Clone, Copy)]
struct Layout<'a> {
    dir: &'a Path,
}

impl Layout<'_> {
    fn return_dir(&self, la: &LaCode, year: i32) -> PathBuf {
        self.dir
            .join("returns")
            .join(la.as_str())
            .join(year.to_string())
    }

    fn table_path(&self, la: &LaCode, year: i32, table: &str) -> PathBuf {
        self.return_dir(la, year).join(format!("{table}.parquet"))
    }

    fn history_path(&self, table: &str, la: &LaCode) -> PathBuf {
        self.dir
            .join("history")
            .join(table)
            .join(format!("{la}.parquet"))
    }

    /// LAs with a saved return; folder names that are not LA codes are not LAs.
    fn las(&self) -> Vec<LaCode> {
        list_dir(&self.dir.join("returns"))
            .iter()
            .filter_map(|name| LaCode::parse(name).ok().filter(|la| la.as_str() == name))
            .collect()
    }

    /// Collection years saved for an LA that hold a table.
    fn years_with(&self, la: &LaCode, table: &str) -> Vec<i32> {
        let mut years: Vec<i32> = list_dir(&self.dir.join("returns").join(la.as_str()))
            .into_iter()
            .filter_map(|y| y.parse().ok())
            .filter(|&y: &i32| is_plausible_collection_year(y))
            .filter(|&y| self.table_path(la, y, table).exists())
            .collect();
        years.sort_unstable();
        years
    }
}

/// The generation a [`Store`] reads, fixed when it was opened (or moved on by its own ingest).
#[derive(Debug)]
struct View {
    generation: u64,
    dir: PathBuf,
    /// A shared lock on the generation's `READERS` file while this view is open, so that no
    /// writer removes the generation under a reader.
    _pin: Option<File>,
    /// Why the store could not be opened; every read reports it.
    broken: Option<String>,
    /// History files whose footer and columns were checked: a committed generation's files
    /// do not change, so each is checked once per view, not at every scan.
    checked: std::sync::Mutex<HashSet<PathBuf>>,
}

/// A folder holding returns and histories.
#[derive(Debug, Clone)]
pub struct Store {
    pub root: PathBuf,
    view: Arc<RwLock<View>>,
    lock_timeout: Duration,
}

impl Store {
    /// Opens a store, resolving its current generation now; a store that cannot be opened (a
    /// damaged `CURRENT`) reports why on every read. See [`Store::open`] to fail at once.
    pub fn new(root: impl Into<PathBuf>) -> Store {
        let root = root.into();
        let view = resolve(&root).unwrap_or_else(|e| View {
            generation: 0,
            dir: root.clone(),
            _pin: None,
            broken: Some(e.to_string()),
            checked: Default::default(),
        });
        Store {
            root,
            view: Arc::new(RwLock::new(view)),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// Opens a store, failing (naming the file) if its current generation cannot be resolved.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store, StoreError> {
        let root = root.into();
        let view = resolve(&root)?;
        Ok(Store {
            root,
            view: Arc::new(RwLock::new(view)),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        })
    }

    /// How long [`Store::begin`] waits for another writer's lock before failing.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Store {
        self.lock_timeout = timeout;
        self
    }

    /// The generation this store reads (0: a store from before generations, or none yet).
    pub fn generation(&self) -> u64 {
        self.read_view().generation
    }

    /// The folder of the generation this store reads (holding `returns/` and `history/`).
    pub fn current_dir(&self) -> PathBuf {
        self.read_view().dir.clone()
    }

    fn read_view(&self) -> std::sync::RwLockReadGuard<'_, View> {
        self.view.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The current folder, or why the store cannot be read.
    fn dir(&self) -> PolarsResult<PathBuf> {
        let view = self.read_view();
        match &view.broken {
            Some(why) => Err(polars_err!(ComputeError: "{why}")),
            None => Ok(view.dir.clone()),
        }
    }

    /// Path of an LA's history for a table.
    pub fn history_path(&self, table: CanonicalTable, la: &LaCode) -> PathBuf {
        Layout {
            dir: &self.current_dir(),
        }
        .history_path(table.name(), la)
    }

    /// LAs with at least one saved return, in code order.
    pub fn las(&self) -> Vec<String> {
        let Ok(dir) = self.dir() else {
            return vec![];
        };
        Layout { dir: &dir }
            .las()
            .iter()
            .map(LaCode::to_string)
            .collect()
    }

    /// Every return saved, by LA, then collection (SSDA903, CIN), then collection year. A
    /// return is held where its anchor table (one every return has) was saved.
    pub fn returns_held(&self) -> Vec<ReturnKey> {
        let Ok(dir) = self.dir() else {
            return vec![];
        };
        let layout = Layout { dir: &dir };
        let mut out = vec![];
        for la in layout.las() {
            for anchor in [CanonicalTable::Header, CanonicalTable::CinChild] {
                for year in layout.years_with(&la, anchor.name()) {
                    out.push(ReturnKey {
                        la_code: la,
                        year,
                        collection: anchor.collection(),
                    });
                }
            }
        }
        out
    }

    /// The history of a table across every LA in the store, lazily (one Parquet file per LA).
    pub fn scan(&self, table: CanonicalTable) -> PolarsResult<LazyFrame> {
        self.scan_las(table, None)
    }

    /// As [`Store::scan`], reading only the files of `las` (one LA from a national store
    /// opens one file per table, not 153). Each file's footer and columns are checked first, so
    /// a damaged or foreign file is reported by name rather than as a bare Parquet error later.
    pub fn scan_las(
        &self,
        table: CanonicalTable,
        las: Option<&[String]>,
    ) -> PolarsResult<LazyFrame> {
        let spec = table.spec()?;
        let dir = self.dir()?.join("history").join(table.name());
        let files: Vec<PathBuf> = list_dir(&dir)
            .into_iter()
            .filter(|f| f.ends_with(".parquet"))
            .filter(|f| {
                las.is_none_or(|las| {
                    las.iter()
                        .any(|la| f.strip_suffix(".parquet") == Some(la.as_str()))
                })
            })
            .map(|f| dir.join(f))
            .collect();
        let empty = super::returns::empty_table(table.collection(), spec, "", 0);
        if files.is_empty() {
            return Ok(empty.lazy());
        }
        let expected: Vec<&str> = empty
            .get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect();
        let view = self.read_view();
        let mut checked = view.checked.lock().unwrap_or_else(|e| e.into_inner());
        for f in &files {
            if !checked.contains(f) {
                check_parquet(f, &expected)?;
                checked.insert(f.clone());
            }
        }
        drop(checked);
        drop(view);
        let frames: Vec<LazyFrame> = files
            .iter()
            .map(|f| {
                LazyFrame::scan_parquet(
                    PlRefPath::new(f.to_string_lossy().as_ref()),
                    ScanArgsParquet::default(),
                )
            })
            .collect::<PolarsResult<_>>()?;
        concat(frames, UnionArgs::default())
    }

    /// Reads an LA's history of a table (empty with the canonical schema if absent). The code
    /// is validated before it names a file.
    pub fn history(&self, table: CanonicalTable, la: &str) -> PolarsResult<DataFrame> {
        let la = LaCode::parse(la).map_err(|e| polars_err!(ComputeError: "{e}"))?;
        let path = Layout { dir: &self.dir()? }.history_path(table.name(), &la);
        if path.exists() {
            read_parquet(&path)
        } else {
            self.scan(table)?.limit(0).collect()
        }
    }

    /// Starts an ingest: takes the store's lock (waiting up to the lock timeout for another
    /// ingest to finish) and prepares the next generation from the current one. Nothing a
    /// reader sees changes until [`StoreWriter::commit`].
    pub fn begin(&self) -> Result<StoreWriter<'_>, StoreError> {
        fs::create_dir_all(&self.root)
            .map_err(StoreError::io("cannot create the store folder", &self.root))?;
        let lock_path = self.root.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(StoreError::io(
                "cannot open the store's lock file",
                &lock_path,
            ))?;
        let started = Instant::now();
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if started.elapsed() < self.lock_timeout => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(StoreError::Locked {
                        root: self.root.clone(),
                        waited: started.elapsed(),
                    });
                }
                Err(TryLockError::Error(e)) => {
                    return Err(StoreError::io("cannot lock", &lock_path)(e));
                }
            }
        }
        let pointer = self.root.join(CURRENT);
        let gens = self.root.join(GENERATIONS);
        if !pointer.exists() {
            // Generations without a pointer are not debris a writer may clear: the pointer was
            // lost, and the newest generation may be the only copy of the history.
            if !generations(&gens).is_empty() {
                return Err(StoreError::Damaged {
                    path: pointer,
                    message: format!(
                        "is missing but {} holds generations; write the number of the newest complete generation into it, or move the store aside and ingest again",
                        gens.display()
                    ),
                });
            }
            // From here on a missing pointer always means damage (see above).
            write_bytes(&pointer, b"0\n")
                .map_err(StoreError::io("cannot write the store's pointer", &pointer))?;
        }
        // The base is what CURRENT says now, under the lock, not this Store's (older) view.
        let base = resolve(&self.root)?;
        for n in generations(&gens) {
            if n > base.generation {
                // Never switched to: the debris of a crashed or failed ingest.
                let dir = gens.join(n.to_string());
                fs::remove_dir_all(&dir).map_err(StoreError::io(
                    "cannot remove an unfinished generation",
                    &dir,
                ))?;
            }
        }
        let number = base.generation + 1;
        let dir = gens.join(number.to_string());
        fs::create_dir_all(&dir).map_err(StoreError::io("cannot write to the store", &dir))?;
        let readers = dir.join(READERS);
        File::create(&readers).map_err(StoreError::io("cannot write to the store", &readers))?;
        for folder in CONTENT {
            link_tree(&base.dir.join(folder), &dir.join(folder))?;
        }
        Ok(StoreWriter {
            store: self,
            _lock: lock,
            base,
            number,
            dir,
            written: HashSet::new(),
            committed: false,
        })
    }
}

/// Reads a Parquet file's footer and checks its columns are the canonical table's.
fn check_parquet(path: &Path, expected: &[&str]) -> PolarsResult<()> {
    let damaged = |why: String| polars_err!(ComputeError: "{}: {why}; the store is damaged: delete the store folder and ingest the returns again", path.display());
    let file = File::open(path).map_err(|e| damaged(format!("cannot open ({e})")))?;
    let schema = ParquetReader::new(file)
        .schema()
        .map_err(|e| damaged(format!("not a readable Parquet file ({e})")))?;
    let names: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
    if names != expected {
        return Err(damaged(format!(
            "its columns ({}) are not the canonical table's ({})",
            names.join(", "),
            expected.join(", ")
        )));
    }
    Ok(())
}

/// Rows in a Parquet file, from its footer; errors name the file as `shown`.
fn parquet_rows(path: &Path, shown: &Path) -> Result<usize, StoreError> {
    let file = File::open(path).map_err(StoreError::io("cannot open", shown))?;
    ParquetReader::new(file)
        .num_rows()
        .map_err(|source| StoreError::Parquet {
            path: shown.to_path_buf(),
            source,
        })
}

/// Reads a Parquet file of the store; errors name the file as `shown`.
fn read_store_parquet(path: &Path, shown: &Path) -> Result<DataFrame, StoreError> {
    let file = File::open(path).map_err(StoreError::io("cannot open", shown))?;
    ParquetReader::new(file)
        .finish()
        .map_err(|source| StoreError::Parquet {
            path: shown.to_path_buf(),
            source,
        })
}

/// Resolves `CURRENT` to a generation and pins it (a shared lock on its `READERS`).
fn resolve(root: &Path) -> Result<View, StoreError> {
    let pointer = root.join(CURRENT);
    let legacy = || View {
        generation: 0,
        dir: root.to_path_buf(),
        _pin: None,
        broken: None,
        checked: Default::default(),
    };
    // A writer removes a generation only after CURRENT has moved two steps past it, so a
    // retry finds a live one; the bound only stops a store that changes without end.
    for _ in 0..64 {
        let text = match fs::read_to_string(&pointer) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(legacy()),
            Err(e) => {
                return Err(StoreError::io("cannot read the store's pointer", &pointer)(
                    e,
                ));
            }
        };
        let n: u64 = text.trim().parse().map_err(|_| StoreError::Damaged {
            path: pointer.clone(),
            message: format!(
                "holds {} instead of a generation number; write the number of the newest complete folder under {GENERATIONS}/ into it",
                quoted(text.trim())
            ),
        })?;
        if n == 0 {
            return Ok(legacy());
        }
        let dir = root.join(GENERATIONS).join(n.to_string());
        let readers = dir.join(READERS);
        match File::open(&readers) {
            Ok(pin) => {
                pin.lock_shared()
                    .map_err(StoreError::io("cannot lock", &readers))?;
                // A writer removing this generation locks READERS exclusively, then deletes
                // it: if it got there first, the file is gone and CURRENT has moved on.
                if readers.exists() {
                    return Ok(View {
                        generation: n,
                        dir,
                        _pin: Some(pin),
                        broken: None,
                        checked: Default::default(),
                    });
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let now = fs::read_to_string(&pointer).unwrap_or_default();
                if now.trim() == text.trim() {
                    return Err(StoreError::Damaged {
                        path: pointer,
                        message: format!(
                            "names generation {n} but {} is missing; write the number of the newest complete folder under {GENERATIONS}/ into it",
                            readers.display()
                        ),
                    });
                }
            }
            Err(e) => return Err(StoreError::io("cannot open", &readers)(e)),
        }
    }
    Err(StoreError::Damaged {
        path: pointer,
        message: "keeps changing while it is read; try again".into(),
    })
}

/// The generation numbers under `generations/`, ascending (other names are ignored).
fn generations(dir: &Path) -> Vec<u64> {
    let mut out: Vec<u64> = list_dir(dir)
        .iter()
        .filter_map(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .collect();
    out.sort_unstable();
    out
}

/// Points `<store>/returns` and `<store>/history` at the current generation's folders, so that
/// tools outside cspi (a DuckDB query over `history/episodes/*.parquet`, a script) still find
/// the layout the store always had. cspi itself reads through `CURRENT`. Each link is replaced
/// atomically; a real folder of that name (a pre-generation store's, or the user's) is left
/// alone, and a file system without symbolic links simply has none.
fn point_links(root: &Path, generation: u64) {
    #[cfg(unix)]
    for folder in CONTENT {
        let link = root.join(folder);
        if fs::symlink_metadata(&link).is_ok_and(|m| !m.file_type().is_symlink()) {
            continue;
        }
        let target = Path::new(GENERATIONS)
            .join(generation.to_string())
            .join(folder);
        let temp = root.join(format!(".{folder}.link-{}", std::process::id()));
        let _ = fs::remove_file(&temp);
        if std::os::unix::fs::symlink(&target, &temp).is_ok() && fs::rename(&temp, &link).is_err() {
            let _ = fs::remove_file(&temp);
        }
    }
    #[cfg(not(unix))]
    let _ = (root, generation);
}

/// Whether a path is a real folder (not a link to one, such as [`point_links`] makes).
fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Removes a migrated pre-generation store's files under the root: only the Parquet files of
/// its own layout and the folders they leave empty. The root may be a folder the user keeps
/// other things in (even input returns under `returns/`), and inputs are never modified.
fn remove_generation_zero(root: &Path) {
    let remove_parquet_in = |dir: &Path| {
        for name in list_dir(dir) {
            if name.ends_with(".parquet") {
                let _ = fs::remove_file(dir.join(name));
            }
        }
        let _ = fs::remove_dir(dir);
    };
    // Only real folders: once migrated these names are links into the current generation.
    let returns = root.join("returns");
    if is_real_dir(&returns) {
        for la in (Layout { dir: root }).las() {
            let la_dir = returns.join(la.as_str());
            for year in list_dir(&la_dir) {
                if year.parse::<i32>().is_ok_and(is_plausible_collection_year) {
                    remove_parquet_in(&la_dir.join(year));
                }
            }
            let _ = fs::remove_dir(&la_dir);
        }
        let _ = fs::remove_dir(&returns);
    }
    let history = root.join("history");
    if is_real_dir(&history) {
        for table in list_dir(&history) {
            // Only a canonical table's name is a folder of the store's own.
            if CanonicalTable::from_name(&table).is_some() {
                remove_parquet_in(&history.join(table));
            }
        }
        let _ = fs::remove_dir(&history);
    }
}

/// Recreates the tree `from` at `to` with every Parquet file hard-linked (copied where the
/// file system cannot link). Nothing else is a store file: temporary files (dot names) and,
/// under a pre-generation root, anything a user left there stay behind.
fn link_tree(from: &Path, to: &Path) -> Result<(), StoreError> {
    let walk = walkdir::WalkDir::new(from)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walk {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e)
                if e.depth() == 0
                    && e.io_error().map(io::Error::kind) == Some(io::ErrorKind::NotFound) =>
            {
                return Ok(());
            }
            Err(e) => return Err(walk_error(from, e)),
        };
        let (src, kind) = (entry.path(), entry.file_type());
        let dst = match src.strip_prefix(from) {
            Ok(rel) => to.join(rel),
            Err(_) => continue,
        };
        if kind.is_dir() {
            fs::create_dir_all(&dst).map_err(StoreError::io("cannot write to the store", &dst))?;
        } else if kind.is_file()
            && entry.file_name().to_string_lossy().ends_with(".parquet")
            && fs::hard_link(src, &dst).is_err()
        {
            fs::copy(src, &dst).map_err(StoreError::io("cannot copy into the store", src))?;
        }
    }
    Ok(())
}

/// Flushes a tree's directory entries (links, renames) to disk, folders first.
fn sync_tree(dir: &Path) -> Result<(), StoreError> {
    for entry in walkdir::WalkDir::new(dir).contents_first(true) {
        let entry = entry.map_err(|e| walk_error(dir, e))?;
        if entry.file_type().is_dir() {
            sync_dir(entry.path())?;
        }
    }
    Ok(())
}

/// A folder of the store that could not be listed, as the error names it.
fn walk_error(root: &Path, e: walkdir::Error) -> StoreError {
    let path = e.path().unwrap_or(root).to_path_buf();
    StoreError::io("cannot read", &path)(io::Error::from(e))
}

/// A folder's entries flushed to disk (Unix: fsync on the folder; elsewhere the file system
/// offers no such call and the files' own flushes are what there is).
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    if cfg!(unix) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(StoreError::io("cannot flush", dir))?;
    }
    Ok(())
}

/// One ingest's write to the store: the next generation, under the store's lock.
///
/// Dropping a writer without [`StoreWriter::commit`] is what a crash does: readers keep the
/// previous generation and the next writer removes this one.
#[derive(Debug)]
pub struct StoreWriter<'a> {
    store: &'a Store,
    _lock: File,
    base: View,
    number: u64,
    dir: PathBuf,
    /// Files this writer wrote; every other file of the new generation is a link to the base's.
    written: HashSet<PathBuf>,
    committed: bool,
}

/// Which tables a save replaced and which it left as an earlier ingest saved them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Saved {
    /// Tables this ingest read and wrote.
    pub replaced: Vec<String>,
    /// Tables held from an earlier ingest and not supplied by this one (name, rows).
    pub kept: Vec<(String, usize)>,
    /// Tables read from a file cut off part-way that did not replace the held return (name,
    /// rows read from the file, rows held).
    pub not_replaced: Vec<(String, usize, usize)>,
}

impl Saved {
    /// Whether this ingest changed the return (its LA's history must then be rebuilt).
    pub fn changed(&self) -> bool {
        !self.replaced.is_empty()
    }
}

impl StoreWriter<'_> {
    fn layout(&self) -> Layout<'_> {
        Layout { dir: &self.dir }
    }

    /// The generation this writer is building.
    pub fn generation(&self) -> u64 {
        self.number
    }

    /// Where a file of the new generation is to name in a message: a file linked from the
    /// current generation is named there (the new generation goes if the ingest fails).
    fn shown(&self, path: &Path) -> PathBuf {
        match path.strip_prefix(&self.dir) {
            Ok(rel) if !self.written.contains(path) => self.base.dir.join(rel),
            _ => path.to_path_buf(),
        }
    }

    /// The tables saved for a return (those with a file), as the store holds them before this
    /// ingest. A file that cannot be read or lacks the canonical columns is left out here: the
    /// save that follows reads it again and fails naming it.
    pub fn held_tables(&self, la: &LaCode, year: i32, collection: Collection) -> Tables {
        let layout = self.layout();
        let mut out = Tables::new();
        for table in &collection.spec().tables {
            let path = layout.table_path(la, year, &table.name);
            if !path.exists() || self.written.contains(&path) {
                continue;
            }
            let canonical = super::returns::empty_table(collection, table, la.as_str(), year);
            if let Ok(df) = read_store_parquet(&path, &path)
                && df.schema() == canonical.schema()
            {
                out.insert(table.name.clone(), df);
            }
        }
        out
    }

    /// Saves a validated return into the new generation: each table this ingest read
    /// (`data.supplied`) replaces the held one; every other held table is kept. A table never
    /// held and not supplied is saved empty, so the return reads as a whole. Notes on what was
    /// replaced and kept go into `data.report`.
    pub fn save_return(&mut self, data: &mut ReturnData) -> Result<Saved, StoreError> {
        if !is_plausible_collection_year(data.year) {
            return Err(StoreError::Year { year: data.year });
        }
        let mut saved = Saved::default();
        if data.supplied.is_empty() {
            return Ok(saved);
        }
        let layout = self.layout();
        let dir = layout.return_dir(&data.la_code, data.year);
        let mut held: BTreeMap<String, usize> = BTreeMap::new();
        for name in data.tables.keys() {
            let path = dir.join(format!("{name}.parquet"));
            if path.exists() {
                held.insert(name.clone(), parquet_rows(&path, &self.shown(&path))?);
            }
        }
        // A cut-off file must not replace what a complete one saved: all or none of its
        // tables, so a return never mixes two ingests of the same file.
        let partial_blocked = data.supplied.values().any(|s| *s == Supply::Partial)
            && held.values().any(|&rows| rows > 0);
        for (name, df) in data.tables.iter_mut() {
            let path = dir.join(format!("{name}.parquet"));
            let write = match (data.supplied.get(name), held.get(name)) {
                (Some(Supply::Partial), rows) if partial_blocked => {
                    let rows = rows.copied().unwrap_or(0);
                    saved.not_replaced.push((name.clone(), df.height(), rows));
                    false
                }
                (Some(_), _) => {
                    saved.replaced.push(name.clone());
                    true
                }
                (None, Some(&rows)) => {
                    if rows > 0 {
                        saved.kept.push((name.clone(), rows));
                    }
                    false
                }
                (None, None) => true,
            };
            if write {
                write_parquet(df, &path).map_err(StoreError::io("cannot write", &path))?;
                self.written.insert(path);
            }
        }
        let kept_tables: BTreeSet<&str> = saved
            .kept
            .iter()
            .map(|(t, _)| t.as_str())
            .chain(saved.not_replaced.iter().map(|(t, _, _)| t.as_str()))
            .collect();
        self.write_return_report(data, &dir, &kept_tables)?;
        push_notes(data, &saved);
        Ok(saved)
    }

    /// The return's own validation report: this ingest's issues, and the earlier ingest's for
    /// the tables kept from it.
    fn write_return_report(
        &mut self,
        data: &ReturnData,
        dir: &Path,
        kept: &BTreeSet<&str>,
    ) -> Result<(), StoreError> {
        let path = dir.join(format!("validation_{}.parquet", data.collection.name()));
        let mut issues = data.report.to_frame()?;
        if !kept.is_empty() && path.exists() {
            let earlier = read_store_parquet(&path, &self.shown(&path))?;
            let kept = Series::new(
                "kept".into(),
                kept.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
            );
            let carried = earlier
                .lazy()
                .filter(col("table").is_in(lit(kept).implode(false), false))
                .collect()?;
            issues.vstack_mut_owned(carried)?;
        }
        write_parquet(&mut issues, &path).map_err(StoreError::io("cannot write", &path))?;
        self.written.insert(path);
        Ok(())
    }

    /// Rebuilds one LA's history in the new generation from its saved returns; returns the
    /// notes on superseded records.
    pub fn rebuild_history(&self, la: &LaCode) -> Result<Report, StoreError> {
        let layout = self.layout();
        let read = |path: &Path| read_store_parquet(path, &self.shown(path));
        let mut report = Report::default();
        let mut histories: BTreeMap<String, DataFrame> = BTreeMap::new();
        for collection in [Collection::Ssda903, Collection::Cin] {
            for table in &collection.spec().tables {
                let years = layout.years_with(la, &table.name);
                let mut all: Option<DataFrame> = None;
                for &y in &years {
                    let path = layout.table_path(la, y, &table.name);
                    let df = read(&path)?;
                    match &mut all {
                        None => all = Some(df),
                        Some(acc) => {
                            acc.vstack_mut_owned(df).map_err(|e| StoreError::Damaged {
                                path: self.shown(&path),
                                message: format!(
                                    "does not have the canonical columns ({e}); delete the store folder and ingest the returns again"
                                ),
                            })?;
                        }
                    }
                }
                let Some(all) = all else {
                    continue;
                };
                let latest = latest_versions(all, table)?;
                let latest = supersede_open_records(latest, &table.name, &years, &mut report)?;
                histories.insert(table.name.clone(), latest);
            }
        }
        if let Some(episodes) = histories.remove("episodes") {
            histories.insert(
                "episodes".into(),
                supersede_overlapping_episodes(episodes, &mut report)?,
            );
        }
        drop_orphans(&mut histories, &mut report)?;
        for (name, df) in histories.iter_mut() {
            let path = layout.history_path(name, la);
            write_parquet(df, &path).map_err(StoreError::io("cannot write", &path))?;
        }
        report.sort();
        Ok(report)
    }

    /// Makes the new generation the store's: flushes it, replaces `CURRENT`, moves the store's
    /// view to it and removes generations older than the previous one that no reader holds.
    /// The lock is held until the writer is dropped, so a caller can still write the run's
    /// reports before another ingest starts.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        sync_tree(&self.dir)?;
        let root = &self.store.root;
        let pointer = root.join(CURRENT);
        write_bytes(&pointer, format!("{}\n", self.number).as_bytes())
            .map_err(StoreError::io("cannot write the store's pointer", &pointer))?;
        self.committed = true;
        // Makes the rename durable across a power cut; the switch has happened either way.
        let _ = sync_dir(root);
        // The store's own view moves to what it wrote (no one else can remove it: the lock is
        // held). A pin that cannot be taken only loses the protection against removal.
        let pin = File::open(self.dir.join(READERS))
            .ok()
            .filter(|f| f.lock_shared().is_ok());
        *self.store.view.write().unwrap_or_else(|e| e.into_inner()) = View {
            generation: self.number,
            dir: self.dir.clone(),
            _pin: pin,
            broken: None,
            checked: Default::default(),
        };
        self.remove_old_generations();
        point_links(root, self.number);
        Ok(())
    }

    /// Removes what no one can need: generations before the previous one (skipping any a
    /// reader holds open) and, once it is not the previous one, generation 0's root folders.
    /// Failure leaves debris for the next writer, never a wrong store, so it is not an error.
    fn remove_old_generations(&self) {
        let gens = self.store.root.join(GENERATIONS);
        for n in generations(&gens) {
            if n >= self.base.generation {
                continue;
            }
            let dir = gens.join(n.to_string());
            let readers = dir.join(READERS);
            let Ok(file) = File::open(&readers) else {
                let _ = fs::remove_dir_all(&dir);
                continue;
            };
            if file.try_lock().is_ok() {
                let _ = fs::remove_dir_all(&dir);
            }
        }
        if self.base.generation > 0 {
            remove_generation_zero(&self.store.root);
        }
    }

    /// Abandons the new generation (an ingest that failed): removes it; readers never saw it.
    pub fn discard(self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// The report's notes on a saved return: what it replaced, what it kept from an earlier ingest.
fn push_notes(data: &mut ReturnData, saved: &Saved) {
    let year = data.year;
    let what = format!(
        "the {} {}/{:02} return of LA {}",
        match data.collection {
            Collection::Ssda903 => "SSDA903",
            Collection::Cin => "CIN census",
        },
        year - 1,
        year % 100,
        data.la_code
    );
    let issue = |rule, severity, message: String| {
        Issue::file_level(
            Arc::from(format!("returns/{}/{year}", data.la_code)),
            rule,
            severity,
            message,
        )
    };
    let mut notes = vec![];
    if !saved.replaced.is_empty() {
        notes.push(issue(
            "tables_replaced",
            Severity::Note,
            format!("{what}: this ingest replaced {}", saved.replaced.join(", ")),
        ));
    }
    if !saved.kept.is_empty() {
        let list: Vec<String> = saved
            .kept
            .iter()
            .map(|(t, n)| format!("{t} ({n} rows)"))
            .collect();
        notes.push(issue(
            "tables_kept",
            Severity::Warning,
            format!(
                "{what}: not in this ingest, so kept from an earlier ingest: {}; ingest the whole return to replace them",
                list.join(", ")
            ),
        ));
    }
    if !saved.not_replaced.is_empty() {
        let list: Vec<String> = saved
            .not_replaced
            .iter()
            .map(|(t, read, held)| format!("{t} ({read} rows read, {held} held)"))
            .collect();
        notes.push(issue(
            "tables_kept",
            Severity::Warning,
            format!(
                "{what}: the file was cut off part-way, so it did not replace the return already held: {}; fix the file and ingest it again",
                list.join(", ")
            ),
        ));
    }
    data.report.extend(notes);
}

fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Keeps, for each key, the record from the latest return; sorts by key for reproducible files.
fn latest_versions(all: DataFrame, table: &TableSpec) -> PolarsResult<DataFrame> {
    let key: Vec<Expr> = table.key.iter().map(|k| col(k.as_str())).collect();
    let mut order: Vec<PlSmallStr> = table.key.iter().map(|k| k.as_str().into()).collect();
    if !table.key.iter().any(|k| k == "source_year") {
        order.push("source_year".into());
    }
    all.lazy()
        .sort(
            ["source_year"],
            SortMultipleOptions::default()
                .with_order_descending(true)
                .with_maintain_order(true),
        )
        .unique_stable_generic(Some(key), UniqueKeepStrategy::First)
        .sort(
            order,
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()
}

fn note(
    file: &str,
    location: String,
    table: &str,
    child: Option<&str>,
    rule: &'static str,
    message: String,
) -> Issue {
    Issue {
        file: Arc::from(file),
        location,
        table: table.into(),
        child: child.map(str::to_string),
        field: String::new(),
        value: None,
        rule,
        severity: Severity::Note,
        message,
    }
}

fn row_location(file: &str, row: Option<u32>) -> String {
    let row = row.unwrap_or(0);
    if file.to_ascii_lowercase().ends_with(".xml") {
        format!("child element {row}")
    } else {
        format!("line {row}")
    }
}

/// Rule 2: open records that the next saved return does not repeat are superseded.
fn supersede_open_records(
    df: DataFrame,
    table: &str,
    years: &[i32],
    report: &mut Report,
) -> PolarsResult<DataFrame> {
    let Some(&(_, end)) = OPEN_ENDED.iter().find(|(t, _)| *t == table) else {
        return Ok(df);
    };
    let Some(&last) = years.last() else {
        return Ok(df);
    };
    let source_year = df.column("source_year")?.i32()?.clone();
    let open = df.column(end)?.is_null();
    let stale: BooleanChunked = open & source_year.lt(last);
    if !stale.any() {
        return Ok(df);
    }
    let dropped = df.filter(&stale)?;
    let files = dropped.column("source_file")?.str()?.clone();
    let rows = dropped.column("source_row")?.u32()?.clone();
    let children = dropped.column("child")?.str()?.clone();
    let sy = dropped.column("source_year")?.i32()?.clone();
    for i in 0..dropped.height() {
        let y = sy.get(i).unwrap_or(0);
        let next = years.iter().find(|&&n| n > y).copied().unwrap_or(last);
        let file = files.get(i).unwrap_or("");
        report.push(note(
            file,
            row_location(file, rows.get(i)),
            table,
            children.get(i),
            "superseded_open_record",
            format!("open at the end of the {y} return but not repeated in the {next} return, which supersedes it"),
        ));
    }
    df.filter(&!stale)
}

/// Rule 3: an episode from an earlier return overlapping one from a later return is superseded.
fn supersede_overlapping_episodes(df: DataFrame, report: &mut Report) -> PolarsResult<DataFrame> {
    let df = df.sort(["child", "decom"], SortMultipleOptions::default())?;
    let child: Vec<Option<&str>> = df.column("child")?.str()?.iter().collect();
    let decom: Vec<Option<i32>> = df.column("decom")?.date()?.physical().iter().collect();
    let dec: Vec<Option<i32>> = df.column("dec")?.date()?.physical().iter().collect();
    let year: Vec<Option<i32>> = df.column("source_year")?.i32()?.iter().collect();
    let files: Vec<Option<&str>> = df.column("source_file")?.str()?.iter().collect();
    let rows: Vec<Option<u32>> = df.column("source_row")?.u32()?.iter().collect();
    let overlaps = |a: usize, b: usize| {
        // a starts first; they overlap if a is open or ends after b starts.
        dec[a].is_none_or(|end| end > decom[b].unwrap_or(i32::MIN))
    };
    let mut drop: HashSet<usize> = HashSet::new();
    let mut start = 0;
    while start < df.height() {
        let mut end = start;
        while end < df.height() && child[end] == child[start] {
            end += 1;
        }
        for a in start..end {
            for b in a + 1..end {
                if drop.contains(&a) || drop.contains(&b) || !overlaps(a, b) {
                    continue;
                }
                let (older, newer) = if year[a] < year[b] {
                    (a, b)
                } else if year[b] < year[a] {
                    (b, a)
                } else {
                    continue;
                };
                drop.insert(older);
                let file = files[older].unwrap_or("");
                report.push(note(
                    file,
                    row_location(file, rows[older]),
                    "episodes",
                    child[older],
                    "superseded_episode",
                    format!(
                        "the episode starting {} from the {} return overlaps the episode starting {} in the later {} return, which supersedes it",
                        format_iso(from_epoch_days(decom[older].unwrap_or(0))),
                        year[older].unwrap_or(0),
                        format_iso(from_epoch_days(decom[newer].unwrap_or(0))),
                        year[newer].unwrap_or(0)
                    ),
                ));
            }
        }
        start = end;
    }
    if drop.is_empty() {
        return Ok(df);
    }
    let mask: BooleanChunked = (0..df.height()).map(|i| !drop.contains(&i)).collect();
    df.filter(&mask)
}

/// Rule 4: CIN records whose episode is no longer in the history go with it.
fn drop_orphans(
    histories: &mut BTreeMap<String, DataFrame>,
    report: &mut Report,
) -> PolarsResult<()> {
    let Some(episodes) = histories.get("cin_episode") else {
        return Ok(());
    };
    let key =
        |c: Option<&str>, d: Option<i32>| (c.unwrap_or("").to_string(), d.unwrap_or(i32::MIN));
    let known: BTreeSet<(String, i32)> = episodes
        .column("child")?
        .str()?
        .iter()
        .zip(episodes.column("referral_date")?.date()?.physical().iter())
        .map(|(c, d)| key(c, d))
        .collect();
    for &table in EPISODE_CHILDREN {
        let Some(df) = histories.get(table) else {
            continue;
        };
        let children: Vec<Option<&str>> = df.column("child")?.str()?.iter().collect();
        let referral: Vec<Option<i32>> = df
            .column("referral_date")?
            .date()?
            .physical()
            .iter()
            .collect();
        let mask: BooleanChunked = children
            .iter()
            .zip(&referral)
            .map(|(c, d)| known.contains(&key(*c, *d)))
            .collect();
        if mask.all() {
            continue;
        }
        let files: Vec<Option<&str>> = df.column("source_file")?.str()?.iter().collect();
        let rows: Vec<Option<u32>> = df.column("source_row")?.u32()?.iter().collect();
        for i in 0..df.height() {
            if !mask.get(i).unwrap_or(true) {
                let file = files[i].unwrap_or("");
                report.push(note(
                    file,
                    row_location(file, rows[i]),
                    table,
                    children[i],
                    "orphaned_record",
                    format!(
                        "its CIN episode (referral {}) is no longer in the history, superseded by a later return",
                        format_iso(from_epoch_days(referral[i].unwrap_or(0)))
                    ),
                ));
            }
        }
        let kept = df.filter(&mask)?;
        histories.insert(table.into(), kept);
    }
    Ok(())
}

/// Writes a validation report as CSV and Parquet (`<stem>.csv`, `<stem>.parquet`).
pub fn write_report(report: &Report, stem: &Path) -> Result<(), StoreError> {
    let mut df = report.to_frame()?;
    let (csv, parquet) = (stem.with_extension("csv"), stem.with_extension("parquet"));
    write_csv(&mut df, &csv).map_err(StoreError::io("cannot write", &csv))?;
    write_parquet(&mut df, &parquet).map_err(StoreError::io("cannot write", &parquet))?;
    Ok(())
}
