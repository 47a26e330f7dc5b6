//! From files on disk to validated returns: find the files, tell which LA, year and
//! collection each belongs to, read them (in parallel), combine each return's tables and run the
//! cross-row rules.
//!
//! The LA and collection year of a file come, in order, from the command line, from the folder
//! layout `<la_code>/<year>/…` (what `cspi synth` writes and what most LAs' archives look like),
//! from the CIN census header, or — for a 903 file with nothing else to go on — from the latest
//! date in the file (noted in the report).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;
use strum::{EnumString, IntoStaticStr};

use super::dfe::views::RuleReference;
use super::dfe::{self, PreviousReturn, RuleCatalogue, RuleInputs, RuleSeverity};
use super::report::{Issue, Report, Severity};
use super::rules::{self, Tables};
use super::spec::FormatSpec;
use super::table::TableBuilder;
use super::{ssda903_csv, xml};
use crate::domain::codes::CodeLists;
use crate::domain::dates::{
    COLLECTION_YEARS, collection_year, is_plausible_collection_year, parse_date,
};
use crate::domain::la::{LaCode, quoted};

/// The two statutory collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, IntoStaticStr, EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum Collection {
    Ssda903,
    Cin,
}

crate::domain::named!(Collection);

impl Collection {
    pub fn spec(self) -> &'static FormatSpec {
        match self {
            Collection::Ssda903 => FormatSpec::ssda903(),
            Collection::Cin => FormatSpec::cin(),
        }
    }

    pub fn codes(self) -> &'static CodeLists {
        match self {
            Collection::Ssda903 => CodeLists::ssda903(),
            Collection::Cin => CodeLists::cin(),
        }
    }

    /// The collection a canonical table belongs to.
    pub fn of_table(table: &str) -> Option<Collection> {
        [Collection::Ssda903, Collection::Cin]
            .into_iter()
            .find(|c| c.spec().table(table).is_some())
    }
}

/// One return an LA sent: the LA, its collection year and the collection. The fields' order
/// is the sort order (LA, then year, then collection), which the ingest's list of returns and
/// the validation report's rows follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReturnKey {
    pub la_code: LaCode,
    pub year: i32,
    pub collection: Collection,
}

/// What kind of return file a path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Ssda903Csv,
    Ssda903Xml,
    CinXml,
}

impl FileFormat {
    pub fn collection(self) -> Collection {
        match self {
            FileFormat::Ssda903Csv | FileFormat::Ssda903Xml => Collection::Ssda903,
            FileFormat::CinXml => Collection::Cin,
        }
    }
}

/// A file found among the inputs.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    pub format: FileFormat,
    /// The LA the file is claimed for (`--la` or its `<la_code>/` folder), not yet validated:
    /// [`read_file`] checks it against the reference list before it can name anything.
    pub la_code: Option<String>,
    pub year: Option<i32>,
}

/// Overrides from the command line.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    pub la_code: Option<LaCode>,
    pub year: Option<i32>,
    /// The returns of this date's collection year are in-year extracts running to it (the
    /// files themselves do not say: a 903 CSV has no header, and a CIN extract's ReferenceDate
    /// is still the year's 31 March). The DfE rules then judge that year as the year so far.
    pub as_at: Option<NaiveDate>,
}

/// `date` as the end of an in-year extract of collection year `year`: in that year and
/// before its 31 March (an extract to 31 March is the whole year).
pub fn extract_date(date: NaiveDate, year: i32) -> Option<NaiveDate> {
    (crate::domain::dates::collection_year(date) == year
        && date < crate::domain::dates::collection_year_end(year))
    .then_some(date)
}

/// How completely a table of a return was read from its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Supply {
    /// Read from a file read to its end (zero rows included).
    Complete,
    /// Read from a file cut off part-way (truncated XML): only the records before the break.
    Partial,
}

/// One LA's return for one collection year, validated.
#[derive(Debug)]
pub struct ReturnData {
    pub la_code: LaCode,
    pub year: i32,
    pub collection: Collection,
    /// Every table of the collection (empty where no file supplied it).
    pub tables: Tables,
    /// The tables this ingest actually read, and how completely: only these may replace what
    /// the store holds (a table no readable file supplied must not wipe an earlier ingest's).
    pub supplied: BTreeMap<String, Supply>,
    /// The date the return runs to when it is an in-year extract (see [`Hints::as_at`]).
    pub as_at: Option<NaiveDate>,
    /// The file-level values (CIN header: LA, collection year, reference date …).
    pub file_values: BTreeMap<String, String>,
    /// The files the return was read from (report labels).
    pub files: Vec<Arc<str>>,
    pub report: Report,
}

impl ReturnData {
    /// Which return this is.
    pub fn key(&self) -> ReturnKey {
        ReturnKey {
            la_code: self.la_code,
            year: self.year,
            collection: self.collection,
        }
    }
}

/// Finds return files under the given paths (files or folders, searched recursively, in name
/// order so that runs are reproducible). Files that are not returns are noted and skipped;
/// files that look like returns but cannot be read (an empty or malformed XML) are errors.
///
/// Every file is looked at, dot-files included (`.cin_census.xml` is a return like any other).
/// Links inside the input folders are not followed, whether they point out of the folders
/// (their files are not part of the input) or back into them (their targets are read where
/// they are; a loop such as `loop -> ..` would otherwise read everything again at every
/// level, forever for two of them): each is reported with where it points. An input given on
/// the command line is followed if it is a link. A file reached twice (the same file under two
/// inputs, or `a/../a/x.csv`) is read once, by its canonical path.
pub fn discover(inputs: &[PathBuf], hints: &Hints) -> (Vec<InputFile>, Vec<Issue>) {
    let mut found: Vec<Found> = vec![];
    let mut issues = vec![];
    let roots: Vec<PathBuf> = inputs
        .iter()
        .filter_map(|p| fs::canonicalize(p).ok())
        .collect();
    for input in inputs {
        collect(input, &roots, &mut found, &mut issues);
    }
    // One path per file: the shortest way it was reached (then the first in name order).
    found.sort_by(|a, b| {
        (&a.canonical, a.path.components().count(), &a.path).cmp(&(
            &b.canonical,
            b.path.components().count(),
            &b.path,
        ))
    });
    found.dedup_by(|later, first| later.canonical == first.canonical);
    found.sort_by(|a, b| a.path.cmp(&b.path));
    let mut files = vec![];
    for Found { path, label, .. } in found {
        let note = |rule, severity, message: String| {
            Issue::file_level(label.clone(), rule, severity, message)
        };
        // A file named on the command line was meant to be read: not reading it is an error.
        // One met while searching a folder (a README, a spreadsheet) is a note.
        let named = inputs.iter().any(|i| i == &path);
        let skipped = if named {
            Severity::Error
        } else {
            Severity::Note
        };
        let format = match sniff(&path) {
            Sniffed::Return(format) => format,
            Sniffed::NotAReturn(why) => {
                issues.push(note("not_a_return", skipped, why));
                continue;
            }
            Sniffed::Unreadable(rule, why) => {
                issues.push(note(rule, Severity::Error, why));
                continue;
            }
        };
        let (la, year) = la_and_year_from_path(&path);
        // A CSV that is not a 903 table is skipped unless it sits where a return would (then
        // the unrecognised header is reported as an error by the reader).
        if format == FileFormat::Ssda903Csv
            && (la.is_none() || year.is_none())
            && !csv_is_903(&path)
        {
            issues.push(note("not_a_return", skipped, "the CSV header matches no SSDA903 table and the file is not under a <la_code>/<year>/ folder; skipped".into()));
            continue;
        }
        files.push(InputFile {
            path,
            format,
            la_code: hints.la_code.map(|l| l.to_string()).or(la),
            year: hints.year.or(year),
        });
    }
    (files, issues)
}

/// A file found under an input.
struct Found {
    canonical: PathBuf,
    path: PathBuf,
    /// The path as the report names it: relative to the input folder (or a file input's
    /// folder), as the readers' issues are.
    label: Arc<str>,
}

/// The report's name for a path found under `input`.
fn label(input: &Path, path: &Path) -> Arc<str> {
    let base = if input.is_dir() {
        input
    } else {
        input.parent().unwrap_or(Path::new(""))
    };
    let rel = path
        .strip_prefix(base)
        .ok()
        .map(|rel| rel.to_string_lossy().replace('\\', "/"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| path.to_string_lossy().into_owned());
    Arc::from(rel)
}

fn collect(input: &Path, roots: &[PathBuf], out: &mut Vec<Found>, issues: &mut Vec<Issue>) {
    let mut push = |path: &Path, issues: &mut Vec<Issue>| match fs::canonicalize(path) {
        Ok(canonical) => out.push(Found {
            canonical,
            path: path.to_path_buf(),
            label: label(input, path),
        }),
        Err(e) => issues.push(io_issue(path, &e)),
    };
    match fs::metadata(input) {
        Ok(m) if m.is_file() => return push(input, issues),
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return issues.push(io_issue(
                input,
                &std::io::Error::other("not a file or folder"),
            ));
        }
        Err(_) => {
            return issues.push(io_issue(
                input,
                &std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
            ));
        }
    }
    let walk = walkdir::WalkDir::new(input)
        .follow_root_links(true)
        .follow_links(false)
        .sort_by_file_name();
    for entry in walk {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(input).to_path_buf();
                let io = e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("cannot be listed"));
                issues.push(Issue {
                    file: label(input, &path),
                    ..io_issue(&path, &io)
                });
                continue;
            }
        };
        let path = entry.path();
        if entry.depth() > 0 && entry.path_is_symlink() {
            issues.push(link_issue(input, path, roots));
        } else if entry.file_type().is_file() {
            push(path, issues);
        } else if !entry.file_type().is_dir() {
            issues.push(Issue::file_level(
                label(input, path),
                "not_a_return",
                Severity::Note,
                "not a regular file (a socket, pipe or device); skipped",
            ));
        }
    }
}

/// The report line for a link found in an input folder (links there are never followed).
fn link_issue(input: &Path, link: &Path, roots: &[PathBuf]) -> Issue {
    let target = fs::read_link(link)
        .map(|t| t.display().to_string())
        .unwrap_or_else(|_| "?".into());
    let (severity, message) = match fs::canonicalize(link) {
        Err(_) => (
            Severity::Warning,
            format!("a link to {target}, which does not exist: not followed"),
        ),
        Ok(to) if roots.iter().any(|r| to.starts_with(r)) => (
            Severity::Note,
            format!(
                "a link to {target}, inside the input folders: not followed (what it points to is read where it is)"
            ),
        ),
        Ok(_) => (
            Severity::Warning,
            format!(
                "a link to {target}, outside the input folders: not followed, so nothing there was read; copy the files into the folder or give their folder as an input"
            ),
        ),
    };
    Issue::file_level(label(input, link), "link_not_followed", severity, message)
}

fn io_issue(path: &Path, e: &std::io::Error) -> Issue {
    Issue::file_level(
        Arc::from(path.display().to_string()),
        "file",
        Severity::Error,
        format!("cannot read: {e}"),
    )
}

/// What a file found among the inputs is.
enum Sniffed {
    Return(FileFormat),
    /// Not a return (noted): why.
    NotAReturn(String),
    /// Looks like a return but cannot be read (an error): the rule and why.
    Unreadable(&'static str, String),
}

/// Tells a return file by its extension and, for XML, its root element (by local name, so
/// `<cin:Message>` is a CIN census; after any prologue up to [`xml::MAX_PROLOGUE`]).
fn sniff(path: &Path) -> Sniffed {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" => Sniffed::Return(FileFormat::Ssda903Csv),
        "xml" => {
            let root = match fs::File::open(path).and_then(xml::root_element) {
                Ok(root) => root,
                Err(e) => return Sniffed::Unreadable("file", format!("cannot read: {e}")),
            };
            match root {
                xml::Root::Element(name) if name == "EXPSSDA903" => {
                    Sniffed::Return(FileFormat::Ssda903Xml)
                }
                xml::Root::Element(name) if name == "Message" => {
                    Sniffed::Return(FileFormat::CinXml)
                }
                xml::Root::Element(name) => Sniffed::NotAReturn(format!(
                    "an XML file whose root element is <{name}>, not a 903 (<EXPSSDA903>) or CIN census (<Message>) return; skipped"
                )),
                xml::Root::Empty => Sniffed::Unreadable(
                    "file",
                    "the file is empty (0 bytes), so no return could be read from it; export it again".into(),
                ),
                xml::Root::NotXml(why) => Sniffed::Unreadable(
                    "unreadable_xml",
                    format!(
                        "the file is not well-formed XML before its first element ({why}), so it could not be read; export it again"
                    ),
                ),
                xml::Root::TooFar => Sniffed::Unreadable(
                    "unreadable_xml",
                    format!(
                        "no XML element in the first {} MiB of the file, so it could not be read; export it again",
                        xml::MAX_PROLOGUE >> 20
                    ),
                ),
            }
        }
        _ => Sniffed::NotAReturn("not a 903 CSV/XML or CIN census XML file; skipped".into()),
    }
}

/// Tells a return file by its extension and, for XML, its root element.
pub fn sniff_format(path: &Path) -> Option<FileFormat> {
    match sniff(path) {
        Sniffed::Return(format) => Some(format),
        _ => None,
    }
}

/// Whether a CSV's header (its first non-blank line, within the first 64 KB) is a 903 table's.
fn csv_is_903(path: &Path) -> bool {
    let mut head = Vec::new();
    if fs::File::open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, 64 * 1024), &mut head))
        .is_err()
    {
        return false;
    }
    let (text, _) = super::text::decode(&head);
    super::csv_lines::records(&text)
        .find(|r| !r.is_blank())
        .is_some_and(|r| {
            let header: Vec<String> = r
                .fields
                .iter()
                .map(|f| ssda903_csv::normalise_header(f))
                .collect();
            ssda903_csv::recognise(&header, FormatSpec::ssda903()).is_some()
        })
}

/// `…/<la_code>/<year>/…`: a 3-digit folder followed (at any depth) by a 4-digit year folder.
pub fn la_and_year_from_path(path: &Path) -> (Option<String>, Option<i32>) {
    let parts: Vec<String> = path
        .parent()
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let is_la = |s: &str| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit());
    let as_year = |s: &str| {
        (s.len() == 4)
            .then(|| s.parse::<i32>().ok())
            .flatten()
            .filter(|y| (2000..=2100).contains(y))
    };
    let mut la = None;
    let mut year = None;
    for part in &parts {
        if is_la(part) {
            la = Some(part.clone());
            year = None;
        } else if la.is_some()
            && let Some(y) = as_year(part)
        {
            year = Some(y);
        }
    }
    (la, year)
}

/// The collection year suggested by the latest DD/MM/YYYY date in a 903 file.
fn year_from_latest_date(bytes: &[u8]) -> Option<i32> {
    let (text, _) = super::text::decode(bytes);
    let b = text.as_bytes();
    let mut latest = None;
    for i in 0..b.len().saturating_sub(9) {
        if b[i + 2] == b'/'
            && b[i + 5] == b'/'
            && b[i..i + 10]
                .iter()
                .enumerate()
                .all(|(k, c)| k == 2 || k == 5 || c.is_ascii_digit())
            && let Some(d) = std::str::from_utf8(&b[i..i + 10]).ok().and_then(parse_date)
        {
            latest = latest.max(Some(d));
        }
    }
    latest.map(collection_year)
}

struct FileTables {
    /// Set only once validated: a file without a valid LA is reported and not saved.
    la_code: Option<LaCode>,
    year: Option<i32>,
    collection: Collection,
    tables: Vec<(String, DataFrame)>,
    /// Values read once per file (the CIN header's LA, year, reference date …).
    file_values: BTreeMap<String, String>,
    report: Report,
    /// Tables the store already holds for the return, not read from a file (see
    /// [`read_returns_over`]).
    held: bool,
}

fn file_error(label: &Arc<str>, rule: &'static str, message: String) -> Issue {
    Issue::file_level(label.clone(), rule, Severity::Error, message)
}

fn finish_builders(
    builders: Vec<TableBuilder>,
    la: &str,
    year: i32,
    label: &str,
    report: &mut Report,
) -> PolarsResult<Vec<(String, DataFrame)>> {
    for b in &builders {
        let c = report.count(&b.spec().name);
        c.read += b.count.read;
        c.kept += b.count.kept;
        c.rejected += b.count.rejected;
    }
    xml::finish(builders, la, year, label)
}

/// The LA a file is claimed for (`--la` or its folder), validated: an invalid one is a
/// file-level error and the file is not saved.
fn claimed_la(file: &InputFile, raw: &str, label: &Arc<str>) -> Result<LaCode, Box<Issue>> {
    LaCode::parse(raw).map_err(|e| {
        let from_folder = la_and_year_from_path(&file.path).0.as_deref() == Some(raw);
        let source = if from_folder {
            format!("the folder {raw}/ the file is in")
        } else {
            "--la".to_string()
        };
        Box::new(file_error(
            label,
            "la_code",
            format!("the LA given by {source} is not valid: {e}; the file was not saved"),
        ))
    })
}

/// A collection year read from a file or inferred from its dates, checked before it can name
/// a folder of the store.
fn plausible_year(year: i32, label: &Arc<str>) -> Result<i32, Box<Issue>> {
    if is_plausible_collection_year(year) {
        Ok(year)
    } else {
        Err(Box::new(file_error(
            label,
            "collection_year",
            format!(
                "collection year {year} is outside {}–{}; the file was not saved: check the dates in the file or give --year",
                COLLECTION_YEARS.start(),
                COLLECTION_YEARS.end()
            ),
        )))
    }
}

/// Text from a file cut to a length fit for the report.
fn excerpt(text: &str) -> String {
    text.chars().take(40).collect()
}

/// Reads one file into canonical tables (not yet cross-checked).
fn read_file(file: &InputFile, label: Arc<str>) -> FileTables {
    let collection = file.format.collection();
    let mut report = Report::default();
    let mut out = FileTables {
        la_code: None,
        year: file.year,
        collection,
        tables: vec![],
        file_values: BTreeMap::new(),
        report: Report::default(),
        held: false,
    };
    let result = read_file_into(file, &label, &mut out, &mut report);
    if let Err(issue) = result {
        // Nothing of a file with a file-level error is saved: it has no LA-year to go to.
        out.la_code = None;
        out.tables.clear();
        report.push(*issue);
    }
    out.report = report;
    out
}

/// Reads a file of any format into `out`, its problems into `report`; a file-level error
/// stops it.
fn read_file_into(
    file: &InputFile,
    label: &Arc<str>,
    out: &mut FileTables,
    report: &mut Report,
) -> Result<(), Box<Issue>> {
    let claimed = file
        .la_code
        .as_deref()
        .map(|raw| claimed_la(file, raw, label))
        .transpose()?;
    match file.format {
        FileFormat::Ssda903Csv => read_903_csv(file, label, claimed, out, report),
        FileFormat::Ssda903Xml | FileFormat::CinXml => {
            read_xml_return(file, label, claimed, out, report)
        }
    }
}

/// A 903 CSV table: its year (given, or from its latest date) and LA (given) must be known
/// before it is read, as the file does not hold them.
fn read_903_csv(
    file: &InputFile,
    label: &Arc<str>,
    claimed: Option<LaCode>,
    out: &mut FileTables,
    report: &mut Report,
) -> Result<(), Box<Issue>> {
    let collection = out.collection;
    let bytes =
        fs::read(&file.path).map_err(|e| file_error(label, "file", format!("cannot read: {e}")))?;
    let year = match out.year {
        Some(y) => y,
        None => {
            let y = year_from_latest_date(&bytes)
                .ok_or_else(|| file_error(label, "collection_year", "the collection year cannot be told: put the file under <la_code>/<year>/ or use --year".into()))?;
            report.push(Issue {
                severity: Severity::Note,
                ..file_error(
                    label,
                    "collection_year",
                    format!("collection year {y} inferred from the latest date in the file"),
                )
            });
            y
        }
    };
    let year = plausible_year(year, label)?;
    let la = claimed.ok_or_else(|| {
        file_error(
            label,
            "la_code",
            "the LA cannot be told: put the file under <la_code>/<year>/ or use --la".into(),
        )
    })?;
    out.year = Some(year);
    out.la_code = Some(la);
    let csv = ssda903_csv::read(&bytes, collection.spec(), collection.codes(), year, label);
    report.extend(csv.issues);
    if let Some(builder) = csv.builder {
        out.tables = finish_builders(vec![builder], la.as_str(), year, label, report)
            .map_err(|e| file_error(label, "internal", e.to_string()))?;
    }
    Ok(())
}

/// A 903 or CIN XML return: streamed, then its year and LA settled between what was given
/// and what its header says.
fn read_xml_return(
    file: &InputFile,
    label: &Arc<str>,
    claimed: Option<LaCode>,
    out: &mut FileTables,
    report: &mut Report,
) -> Result<(), Box<Issue>> {
    let collection = out.collection;
    let layout = match collection {
        Collection::Ssda903 => &layouts().0,
        Collection::Cin => &layouts().1,
    };
    let mut year = out.year;
    if year.is_none() && collection == Collection::Ssda903 {
        let bytes = fs::read(&file.path)
            .map_err(|e| file_error(label, "file", format!("cannot read: {e}")))?;
        year = year_from_latest_date(&bytes)
            .map(|y| plausible_year(y, label))
            .transpose()?;
    }
    let spec = collection.spec();
    let read = xml::read_path(
        &file.path,
        spec,
        layout,
        collection.codes(),
        label.clone(),
        year,
    )
    .map_err(|e| file_error(label, "file", format!("cannot read: {e}")))?;
    report.extend(read.issues);
    let year = xml_return_year(year, &read.file_values, label, report)?;
    let lea = read
        .file_values
        .get("la_code")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    let la = xml_return_la(file, label, claimed, lea, report)?;
    out.year = Some(year);
    out.la_code = Some(la);
    out.file_values = read
        .file_values
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.tables = finish_builders(read.builders, la.as_str(), year, label, report)
        .map_err(|e| file_error(label, "internal", e.to_string()))?;
    Ok(())
}

/// An XML return's year: the one given (or inferred), else its header's; a header that says
/// another year is warned about.
fn xml_return_year(
    year: Option<i32>,
    file_values: &HashMap<String, String>,
    label: &Arc<str>,
    report: &mut Report,
) -> Result<i32, Box<Issue>> {
    let year = year
        .or_else(|| {
            file_values
                .get("collection_year")
                .and_then(|y| y.trim().parse().ok())
        })
        .ok_or_else(|| {
            file_error(
                label,
                "collection_year",
                "the collection year cannot be told: use --year".into(),
            )
        })?;
    let year = plausible_year(year, label)?;
    if let Some(header_year) = file_values
        .get("collection_year")
        .and_then(|y| y.trim().parse::<i32>().ok())
        && header_year != year
    {
        report.push(Issue {
            severity: Severity::Warning,
            ..file_error(label, "collection_year", format!("the file header says collection year {header_year} but the return is being read as {year}"))
        });
    }
    Ok(year)
}

/// An XML return's LA: the one given (`--la` or its folder), warned about if the file's LEA
/// differs, else the file's LEA.
fn xml_return_la(
    file: &InputFile,
    label: &Arc<str>,
    claimed: Option<LaCode>,
    lea: Option<&str>,
    report: &mut Report,
) -> Result<LaCode, Box<Issue>> {
    Ok(match (claimed, lea) {
        (Some(la), Some(lea)) => {
            if la.as_str() != lea {
                let source = if la_and_year_from_path(&file.path).0.as_deref() == Some(la.as_str())
                {
                    format!("from the folder {la}/")
                } else {
                    "from --la".to_string()
                };
                report.push(Issue {
                    severity: Severity::Warning,
                    field: "LEA".into(),
                    value: Some(excerpt(lea)),
                    ..file_error(label, "la_code", format!("the file's LEA is {} but the return is being read as LA {la} ({source}); check which LA the file belongs to", quoted(lea)))
                });
            }
            la
        }
        (Some(la), None) => la,
        (None, Some(lea)) => LaCode::parse(lea).map_err(|e| Issue {
            field: "LEA".into(),
            value: Some(excerpt(lea)),
            ..file_error(label, "la_code", format!("the file's LEA is not valid: {e}; the file was not saved: put it under <la_code>/<year>/ or use --la"))
        })?,
        (None, None) => return Err(Box::new(file_error(label, "la_code", "the LA cannot be told: put the file under <la_code>/<year>/ or use --la".into()))),
    })
}

fn layouts() -> &'static (xml::XmlLayout, xml::XmlLayout) {
    static LAYOUTS: std::sync::OnceLock<(xml::XmlLayout, xml::XmlLayout)> =
        std::sync::OnceLock::new();
    LAYOUTS.get_or_init(|| {
        (
            xml::XmlLayout::compile(FormatSpec::ssda903()),
            xml::XmlLayout::compile(FormatSpec::cin()),
        )
    })
}

/// Reads files and assembles them into validated returns, one per LA × year × collection.
/// `label` turns a path into the name used in the report (e.g. relative to the input folder).
pub fn read_returns(
    files: &[InputFile],
    label: &(dyn Fn(&Path) -> String + Sync),
) -> (Vec<ReturnData>, Report) {
    read_returns_over(files, label, &|_, _, _| Tables::new(), None)
}

/// As [`read_returns`], over what the store already holds: `held` gives the tables saved for
/// a return (LA, year, collection). A table this ingest does not supply is kept from the store,
/// so the cross-row checks see it too — a re-ingested episodes file is checked against the
/// header already held, not against an empty one. Held tables are never counted as read.
/// The returns of `as_at`'s collection year are in-year extracts to it ([`Hints::as_at`]).
pub fn read_returns_over(
    files: &[InputFile],
    label: &(dyn Fn(&Path) -> String + Sync),
    held: &(dyn Fn(&LaCode, i32, Collection) -> Tables + Sync),
    as_at: Option<NaiveDate>,
) -> (Vec<ReturnData>, Report) {
    let read: Vec<FileTables> = files
        .par_iter()
        .map(|f| read_file(f, Arc::from(label(&f.path))))
        .collect();
    let mut unassigned = Report::default();
    let mut groups: BTreeMap<(LaCode, Collection), BTreeMap<i32, Vec<FileTables>>> =
        BTreeMap::new();
    for f in read {
        match (f.la_code, f.year) {
            (Some(la), Some(year)) => groups
                .entry((la, f.collection))
                .or_default()
                .entry(year)
                .or_default()
                .push(f),
            _ => unassigned.merge(f.report),
        }
    }
    // The rule catalogue and reference tables are loaded before the parallel section: a worker
    // that initialises a OnceLock while polars runs work on its pool can steal a second item
    // of this loop and block on the lock it holds.
    let catalogue = RuleCatalogue::embedded();
    let reference = RuleReference::embedded();
    let _ = dfe::views::calendar_table();
    // Each LA's years in order, so that a year's cross-year rules see the year before as just
    // read and checked when both are being read now (else the store's).
    let returns = crate::domain::threads::pool().install(|| {
        groups
            .into_par_iter()
            .flat_map_iter(|((la_code, collection), years)| {
                let mut out: Vec<ReturnData> = vec![];
                for (year, mut files) in years {
                    let supplied = supplied_tables(&files);
                    if !supplied.is_empty() {
                        let kept: Vec<(String, DataFrame)> = held(&la_code, year, collection)
                            .into_iter()
                            .filter(|(name, _)| !supplied.contains_key(name))
                            .collect();
                        if !kept.is_empty() {
                            files.push(FileTables {
                                la_code: Some(la_code),
                                year: Some(year),
                                collection,
                                tables: kept,
                                file_values: BTreeMap::new(),
                                report: Report::default(),
                                held: true,
                            });
                        }
                    }
                    let mut data = assemble(la_code, year, collection, files);
                    data.supplied = supplied;
                    data.as_at = as_at.and_then(|d| extract_date(d, year));
                    let last_year = out
                        .last()
                        .filter(|p| p.year == year - 1)
                        .map(|p| p.tables.clone())
                        .unwrap_or_else(|| held(&la_code, year - 1, collection));
                    let previous = (!last_year.is_empty()).then_some(&last_year);
                    check_return(&mut data, previous, catalogue, reference);
                    out.push(data);
                }
                out
            })
            .collect()
    });
    (returns, unassigned)
}

/// The tables a return's files actually supplied. A file with a file-level error (no header,
/// a required column missing, unreadable) supplies nothing even if it produced an empty table;
/// a file cut off part-way supplies its tables partially.
fn supplied_tables(files: &[FileTables]) -> BTreeMap<String, Supply> {
    let mut supplied: BTreeMap<String, Supply> = BTreeMap::new();
    for f in files.iter().filter(|f| !f.held) {
        let errors = || {
            f.report
                .issues
                .iter()
                .filter(|i| i.severity == Severity::Error)
        };
        if errors().any(|i| i.location.is_empty()) {
            continue;
        }
        let supply = if errors().any(|i| i.rule == "truncated_xml") {
            Supply::Partial
        } else {
            Supply::Complete
        };
        for (name, _) in &f.tables {
            let entry = supplied.entry(name.clone()).or_insert(supply);
            // One complete file of a table outweighs a cut-off one.
            if supply == Supply::Complete {
                *entry = Supply::Complete;
            }
        }
    }
    supplied
}

fn assemble(
    la_code: LaCode,
    year: i32,
    collection: Collection,
    files: Vec<FileTables>,
) -> ReturnData {
    let spec = collection.spec();
    let mut report = Report::default();
    let mut parts: BTreeMap<String, Vec<DataFrame>> = BTreeMap::new();
    let mut file_values = BTreeMap::new();
    let mut labels = vec![];
    for f in files {
        report.merge(f.report);
        file_values.extend(f.file_values);
        for (name, df) in f.tables {
            if !f.held
                && let Ok(Some(label)) = df
                    .column("source_file")
                    .and_then(|c| Ok(c.str()?.iter().next().flatten().map(Arc::<str>::from)))
            {
                labels.push(label);
            }
            parts.entry(name).or_default().push(df);
        }
    }
    labels.sort();
    labels.dedup();
    let mut tables = Tables::new();
    for table in &spec.tables {
        let frames = parts.remove(&table.name).unwrap_or_default();
        let df = if frames.is_empty() {
            empty_table(collection, table, la_code.as_str(), year)
        } else {
            let mut it = frames.into_iter();
            let mut first = it.next().expect("non-empty");
            for df in it {
                first.vstack_mut_owned(df).expect("same canonical schema");
            }
            first
        };
        tables.insert(table.name.clone(), df);
    }
    ReturnData {
        la_code,
        year,
        collection,
        tables,
        supplied: BTreeMap::new(),
        as_at: None,
        file_values,
        files: labels,
        report,
    }
}

/// Validates an assembled return: first DfE's rules for its collection year over every row as
/// read (with last year's return when given; they flag rows and never remove them), then
/// cspi's own cross-row checks, which reject the rows periods of care and plans cannot be
/// derived from (duplicates, overlaps, an end before its start).
pub fn check_return(
    data: &mut ReturnData,
    previous: Option<&Tables>,
    catalogue: Result<&RuleCatalogue, &dfe::RuleError>,
    reference: &RuleReference,
) {
    match catalogue {
        Ok(catalogue) => {
            let issues = dfe_issues(catalogue, data, previous, reference);
            data.report.extend(issues);
        }
        Err(e) => data.report.push(file_error(
            &Arc::from(""),
            "internal",
            format!("the DfE rule catalogue did not load: {e}"),
        )),
    }
    let spec = data.collection.spec();
    let checked = match data.collection {
        Collection::Ssda903 => rules::check_ssda903(spec, &mut data.tables, data.year),
        Collection::Cin => rules::check_cin(spec, &mut data.tables, data.year),
    };
    match checked {
        Ok(issues) => {
            // Rows rejected by cross-row rules move from "kept" to "rejected".
            for issue in issues.iter().filter(|i| i.severity == Severity::Error) {
                let c = data.report.count(&issue.table);
                c.kept = c.kept.saturating_sub(1);
                c.rejected += 1;
            }
            data.report.extend(issues);
        }
        Err(e) => data.report.push(file_error(
            &Arc::from(""),
            "internal",
            format!("cross-row checks failed: {e}"),
        )),
    }
}

/// Where each row of a table came from (file, line or element, child), read once per table.
struct RowSources {
    files: Vec<Option<Arc<str>>>,
    rows: Vec<Option<u32>>,
    children: Vec<Option<String>>,
}

impl RowSources {
    fn of(df: &DataFrame) -> RowSources {
        RowSources {
            files: df
                .column("source_file")
                .and_then(|c| Ok(c.str()?.iter().map(|v| v.map(Arc::from)).collect()))
                .unwrap_or_default(),
            rows: df
                .column("source_row")
                .and_then(|c| Ok(c.u32()?.iter().collect()))
                .unwrap_or_default(),
            children: df
                .column("child")
                .and_then(|c| Ok(c.str()?.iter().map(|v| v.map(str::to_string)).collect()))
                .unwrap_or_default(),
        }
    }

    /// The file, location and child of row `i` (`unit` names an XML return's child element).
    fn locate(
        &self,
        i: usize,
        unit: &str,
        fallback: &Arc<str>,
    ) -> (Arc<str>, String, Option<String>) {
        let file = self
            .files
            .get(i)
            .cloned()
            .flatten()
            .unwrap_or_else(|| fallback.clone());
        let row = self.rows.get(i).copied().flatten().unwrap_or(0);
        let location = if file.to_ascii_lowercase().ends_with(".xml") {
            format!("{unit}[{row}]")
        } else {
            format!("line {row}")
        };
        (file, location, self.children.get(i).cloned().flatten())
    }
}

fn dfe_severity(severity: RuleSeverity) -> Severity {
    match severity {
        RuleSeverity::Error => Severity::DfeError,
        RuleSeverity::Query => Severity::DfeQuery,
    }
}

/// The DfE rules' findings on a return as report rows: DfE's code and message, the file and
/// line (or XML element) of the flagged row, its child and the blamed fields with their values;
/// a rule that could not run is a note saying what it needs.
pub fn dfe_issues(
    catalogue: &RuleCatalogue,
    data: &ReturnData,
    previous: Option<&Tables>,
    reference: &RuleReference,
) -> Vec<Issue> {
    let inputs = RuleInputs {
        collection: data.collection,
        year: data.year,
        as_at: data.as_at,
        la_code: data.la_code.as_str(),
        tables: &data.tables,
        file_values: &data.file_values,
        previous: previous.map(|tables| PreviousReturn {
            year: data.year - 1,
            tables,
        }),
        reference,
    };
    let return_file: Arc<str> = Arc::from(data.files.join(", "));
    let outcome = match dfe::engine::run(catalogue, &inputs, None) {
        Ok(o) => o,
        Err(e) => {
            return vec![file_error(
                &return_file,
                "internal",
                format!("the DfE rules could not run: {e}"),
            )];
        }
    };
    let findings = without_rejected_children(data, outcome.findings);
    let mut issues = finding_issues(data, &findings, &return_file);
    issues.extend(reader_rule_issues(catalogue, data));
    for n in &outcome.not_run {
        issues.push(Issue {
            severity: Severity::Note,
            ..file_error(
                &return_file,
                n.rule.code,
                format!(
                    "DfE rule {} not run on this return: it {}",
                    n.rule.code, n.reason
                ),
            )
        });
    }
    issues
}

/// The findings less those of rules with `unless_rejected` on children the reader rejected a
/// row of those tables for.
fn without_rejected_children<'c>(
    data: &ReturnData,
    findings: Vec<dfe::Finding<'c>>,
) -> Vec<dfe::Finding<'c>> {
    if findings
        .iter()
        .all(|f| f.version.unless_rejected.is_empty())
    {
        return findings;
    }
    let rejected: BTreeSet<(&str, &str)> = data
        .report
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .filter_map(|i| Some((i.table.as_str(), i.child.as_deref()?)))
        .collect();
    let tables: BTreeSet<String> = findings
        .iter()
        .filter(|f| !f.version.unless_rejected.is_empty())
        .map(|f| f.table.clone())
        .collect();
    let children: BTreeMap<String, Vec<Option<&str>>> = tables
        .into_iter()
        .filter_map(|t| {
            let col = data.tables.get(&t)?.column("child").ok()?.str().ok()?;
            let ids = col.iter().collect();
            Some((t, ids))
        })
        .collect();
    findings
        .into_iter()
        .filter(|f| {
            let child = children
                .get(f.table.as_str())
                .and_then(|c| c.get(f.row_id as usize).copied().flatten());
            !child.is_some_and(|c| {
                f.version
                    .unless_rejected
                    .iter()
                    .any(|t| rejected.contains(&(t.as_str(), c)))
            })
        })
        .collect()
}

/// Each flagged row as a report row, located in the file it came from.
fn finding_issues(
    data: &ReturnData,
    findings: &[dfe::Finding],
    return_file: &Arc<str>,
) -> Vec<Issue> {
    let unit = &data.collection.spec().unit;
    let mut sources: BTreeMap<&str, RowSources> = BTreeMap::new();
    findings
        .iter()
        .map(|f| {
            let (file, location, child) = match data.tables.get(&f.table) {
                Some(df) => sources
                    .entry(f.table.as_str())
                    .or_insert_with(|| RowSources::of(df))
                    .locate(f.row_id as usize, unit, return_file),
                None => (return_file.clone(), String::new(), None),
            };
            let names: Vec<&str> = f.values.iter().map(|(n, _)| n.as_str()).collect();
            let values: Vec<String> = f.values.iter().map(|(n, v)| format!("{n}={v}")).collect();
            Issue {
                file,
                location,
                table: f.table.clone(),
                child,
                field: names.join(", "),
                value: Some(values.join("; ")),
                rule: f.rule.code,
                severity: dfe_severity(f.version.severity),
                message: f.version.message.clone(),
            }
        })
        .collect()
}

/// The reader's rejections of rows whose key is missing or unreadable, under the DfE rules
/// that are those checks (`reader:`).
fn reader_rule_issues(catalogue: &RuleCatalogue, data: &ReturnData) -> Vec<Issue> {
    dfe::engine::reader_findings(catalogue, data.collection, data.year, &data.report.issues)
        .into_iter()
        .map(|(rule, version, i)| Issue {
            rule: rule.code,
            severity: dfe_severity(version.severity),
            message: format!("{} (the row could not be read)", version.message),
            ..data.report.issues[i].clone()
        })
        .collect()
}

/// An empty canonical table with the full schema (a return without, say, an OC2 file).
pub fn empty_table(
    collection: Collection,
    table: &super::spec::TableSpec,
    la_code: &str,
    year: i32,
) -> DataFrame {
    let builder = TableBuilder::new(
        table,
        collection.codes(),
        year,
        collection.spec().date_style,
    );
    builder.finish(la_code, year, "").expect("empty table")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn la_and_year_come_from_the_folder_layout() {
        let p = Path::new("/data/returns/925/2025/ssda903/episodes.csv");
        assert_eq!(la_and_year_from_path(p), (Some("925".into()), Some(2025)));
        let p = Path::new("returns/925/cin_2024.xml");
        assert_eq!(la_and_year_from_path(p), (Some("925".into()), None));
        let p = Path::new("exports/episodes.csv");
        assert_eq!(la_and_year_from_path(p), (None, None));
    }

    #[test]
    fn year_from_the_latest_date() {
        assert_eq!(
            year_from_latest_date(b"CHILD,DECOM\n1,01/04/2024\n2,15/03/2025\n"),
            Some(2025)
        );
        assert_eq!(year_from_latest_date(b"CHILD\n1\n"), None);
    }
}
