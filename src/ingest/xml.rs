//! Streaming XML flattener driven by a [`FormatSpec`]: SSDA903 XML and the CIN census XML.
//!
//! A national CIN census is ~700,000 children in one file, so the file is never held in memory
//! (no DOM, no serde tree of the whole message): quick-xml streams events, and only the current child (the spec's `unit` element) is kept,
//! in reusable buffers. The spec's paths are compiled into a trie of element names; each
//! element that makes a row (a *record*, e.g. `CINdetails/Assessments`) opens an instance that
//! collects the values of the leaf elements under it. When the child closes, each table's rows
//! are assembled from those instances — own values, values inherited from the enclosing record
//! (`../CINreferralDate`) or from elsewhere in the child (`^ChildIdentifiers/LAchildID`) — and
//! handed to the same [`TableBuilder`] the CSV reader uses. Elements the spec does not name
//! (schema additions such as `PreProceedingsandFGDM`) are skipped and noted once per file.
//!
//! Hostile or broken files are read as far as they can be, in time linear in their size:
//! elements nested deeper than [`MAX_DEPTH`] are skipped with one error (the path of each open
//! element was rebuilt at every close, so 6 MB of nesting took 101 s); an entity the file does
//! not define (`&foo;`) makes its value unreadable, an error on that field, never a child id;
//! a child whose text runs past [`MAX_UNIT_TEXT`] is rejected rather than held in memory.
//!
//! Why this stays our own code over quick-xml: it is what the measured figures rest on — the
//! 10 largest LAs' census XML (240 MB) read at 242 MiB/s per core, and the national ingest
//! (153 LAs × 5 years) peaking at 250 MB of memory (README, Performance and National scale).

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;
use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::report::{Issue, Severity};
use super::spec::{ColumnSpec, FormatSpec, Kind, TableSpec};
use super::table::{RowSource, TableBuilder};
use super::text::{Encoding, utf8_reader};
use crate::domain::codes::CodeLists;

const UNKNOWN: u32 = u32::MAX;

/// The deepest element read, counted from the root (the root is level 1). The CIN census is 7
/// levels deep and the 903 XML 5; a file nested deeper than 64 is broken or hostile, and its
/// deeper elements are skipped (one error per file, with the path where the limit was crossed).
pub const MAX_DEPTH: usize = 64;

/// The most text one child (unit) may hold: 16 MiB. A real child is a few KB; more is a broken
/// export, and the child is rejected (an error) instead of growing without bound.
pub const MAX_UNIT_TEXT: usize = 16 << 20;

/// The most text kept for a value outside the children (the header's year, LA, dates).
const MAX_OUTER_TEXT: usize = 64 << 10;

#[derive(Debug)]
struct Node {
    name: Box<[u8]>,
    parent: u32,
    children: Vec<u32>,
    /// This element makes a row of at least one table.
    record: bool,
    /// Some column reads this element's text.
    value: bool,
    /// A list column reads every occurrence of this element (not only the first).
    list: bool,
}

#[derive(Debug, Clone, Copy)]
enum Lookup {
    /// In the row's own record instance.
    Own,
    /// In the nearest enclosing instance of this record node.
    Ancestor(u32),
    /// In the first instance of this record node anywhere in the unit.
    UnitFirst(u32),
}

#[derive(Debug, Clone, Copy)]
struct ValueRef {
    node: u32,
    lookup: Lookup,
}

#[derive(Debug)]
struct TableLayout {
    table: usize,
    record: u32,
    /// Per spec column, the alternative places its value may be (first present wins).
    columns: Vec<Vec<ValueRef>>,
}

/// A spec compiled for streaming.
#[derive(Debug)]
pub struct XmlLayout {
    nodes: Vec<Node>,
    /// Element names from the document root down to (not including) the unit element.
    prefix: Vec<String>,
    tables: Vec<TableLayout>,
    /// Path (outside units, `/`-joined from the root) → name of a file-level value.
    file_values: HashMap<String, String>,
    /// Where the child's id is (record node owning it, value node), for messages about a
    /// child whose element is broken.
    child: Option<(u32, u32)>,
}

impl XmlLayout {
    /// Compiles the XML paths of a format spec (tables without `xml_record` are CSV-only).
    pub fn compile(spec: &FormatSpec) -> XmlLayout {
        let mut parts: Vec<String> = spec.unit.split('/').map(str::to_string).collect();
        let unit = parts.pop().expect("unit path has a name");
        let mut layout = XmlLayout {
            nodes: vec![Node {
                name: unit.as_bytes().into(),
                parent: UNKNOWN,
                children: vec![],
                record: false,
                value: false,
                list: false,
            }],
            prefix: parts,
            tables: vec![],
            file_values: spec
                .file_values
                .iter()
                .map(|(name, path)| (path.clone(), name.clone()))
                .collect(),
            child: None,
        };
        // Records first, so that "deepest record on a path" is known when columns are placed.
        let mut records = vec![];
        for (t, table) in spec.tables.iter().enumerate() {
            if let Some(path) = &table.xml_record {
                let node = layout.insert(0, path);
                layout.nodes[node as usize].record = true;
                records.push((t, node));
            }
        }
        for (t, record) in records {
            let table = &spec.tables[t];
            let parent_record = layout.owner(layout.nodes[record as usize].parent);
            let columns = table
                .columns
                .iter()
                .map(|column| {
                    let refs: Vec<ValueRef> = column
                        .xml
                        .iter()
                        .map(|path| layout.place(record, parent_record, path))
                        .collect();
                    if column.kind == Kind::List {
                        for r in &refs {
                            layout.nodes[r.node as usize].list = true;
                        }
                    }
                    refs
                })
                .collect();
            layout.tables.push(TableLayout {
                table: t,
                record,
                columns,
            });
        }
        layout.child = layout.tables.iter().find_map(|t| {
            let c = spec.tables[t.table].column_index("child")?;
            let r = *t.columns[c].first()?;
            Some((layout.owner(r.node), r.node))
        });
        layout
    }

    /// Inserts a relative path under `from` ("." is `from` itself) and returns its node.
    fn insert(&mut self, from: u32, path: &str) -> u32 {
        let mut at = from;
        for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
            let found = self.nodes[at as usize]
                .children
                .iter()
                .copied()
                .find(|&c| &*self.nodes[c as usize].name == part.as_bytes());
            at = match found {
                Some(c) => c,
                None => {
                    let id = self.nodes.len() as u32;
                    self.nodes.push(Node {
                        name: part.as_bytes().into(),
                        parent: at,
                        children: vec![],
                        record: false,
                        value: false,
                        list: false,
                    });
                    self.nodes[at as usize].children.push(id);
                    id
                }
            };
        }
        at
    }

    /// The deepest record node at or above `node` (the unit root counts as a record scope).
    fn owner(&self, mut node: u32) -> u32 {
        while node != UNKNOWN {
            if node == 0 || self.nodes[node as usize].record {
                return node;
            }
            node = self.nodes[node as usize].parent;
        }
        0
    }

    fn is_ancestor(&self, ancestor: u32, mut node: u32) -> bool {
        while node != UNKNOWN {
            if node == ancestor {
                return true;
            }
            node = self.nodes[node as usize].parent;
        }
        false
    }

    fn place(&mut self, record: u32, parent_record: u32, path: &str) -> ValueRef {
        let node = if let Some(rest) = path.strip_prefix('^') {
            self.insert(0, rest)
        } else if let Some(rest) = path.strip_prefix("../") {
            self.insert(parent_record, rest)
        } else {
            self.insert(record, path)
        };
        self.nodes[node as usize].value = true;
        let owner = self.owner(node);
        let lookup = if owner == record {
            Lookup::Own
        } else if self.is_ancestor(owner, record) {
            Lookup::Ancestor(owner)
        } else {
            Lookup::UnitFirst(owner)
        };
        ValueRef { node, lookup }
    }

    fn child(&self, node: u32, name: &[u8]) -> u32 {
        if node == UNKNOWN {
            return UNKNOWN;
        }
        self.nodes[node as usize]
            .children
            .iter()
            .copied()
            .find(|&c| &*self.nodes[c as usize].name == name)
            .unwrap_or(UNKNOWN)
    }

    fn path_of(&self, mut node: u32) -> String {
        let mut parts = vec![];
        while node != UNKNOWN && node != 0 {
            parts.push(String::from_utf8_lossy(&self.nodes[node as usize].name).into_owned());
            node = self.nodes[node as usize].parent;
        }
        parts.reverse();
        parts.join("/")
    }
}

/// One open or closed record element within the current unit.
#[derive(Debug, Default)]
struct Instance {
    node: u32,
    parent: u32,
    ordinal: u32,
    /// Single-valued elements' values (the first of each node; a few per instance).
    values: Vec<Value>,
    /// Every value of the list elements (Disability, AssessmentFactors), in order.
    lists: Vec<Value>,
}

/// One value element's text, as a range of the unit's text buffer.
#[derive(Debug, Clone, Copy)]
struct Value {
    node: u32,
    start: u32,
    end: u32,
    /// The text holds an entity the file does not define (`&foo;`): it cannot be read.
    unresolved: bool,
}

/// Everything read from one XML file.
pub struct XmlOutput<'s> {
    pub builders: Vec<TableBuilder<'s>>,
    /// File-level values (e.g. the CIN header's collection year and LA).
    pub file_values: HashMap<String, String>,
    pub issues: Vec<Issue>,
    /// Number of unit elements (children) read completely.
    pub units: u64,
    pub encoding: Encoding,
}

/// What the caller knows about the return before reading it.
pub struct XmlContext<'a> {
    pub file_label: Arc<str>,
    /// Collection year, if known from the command line or the folder; otherwise taken from the
    /// file's header (`file_values.collection_year`).
    pub year: Option<i32>,
    pub lists: &'a CodeLists,
}

/// Reads an XML return from a path.
pub fn read_path<'s>(
    path: &Path,
    spec: &'s FormatSpec,
    layout: &XmlLayout,
    lists: &'s CodeLists,
    file_label: Arc<str>,
    year: Option<i32>,
) -> std::io::Result<XmlOutput<'s>> {
    let (source, encoding) = utf8_reader(File::open(path)?)?;
    let ctx = XmlContext {
        file_label,
        year,
        lists,
    };
    let mut out = read(
        BufReader::with_capacity(256 * 1024, source),
        spec,
        layout,
        ctx,
    );
    out.encoding = encoding;
    Ok(out)
}

/// How far into a file its root element is looked for: 1 MiB. A real prologue (declaration,
/// comments, a DOCTYPE) is well under 1 KB, but some exports put long comments first, so 4 KB
/// was not enough.
pub const MAX_PROLOGUE: u64 = 1 << 20;

/// What is at the top of an XML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// The root element's local name (`Message` for `<cin:Message>`).
    Element(String),
    /// The file has no bytes at all.
    Empty,
    /// No root element: not well-formed before it, or text instead of markup.
    NotXml(String),
    /// No root element in the first [`MAX_PROLOGUE`] bytes.
    TooFar,
}

/// Finds a file's root element, reading at most [`MAX_PROLOGUE`] bytes (any encoding the
/// readers accept: UTF-8 with or without a BOM, UTF-16).
pub fn root_element(source: impl Read) -> std::io::Result<Root> {
    let mut limited = source.take(MAX_PROLOGUE);
    let first = first_markup(&mut limited)?;
    let limit_reached = limited.limit() == 0;
    Ok(match first {
        First::Element(name) => Root::Element(name),
        First::Text => Root::NotXml("text before any element".into()),
        First::End { empty: true } => Root::Empty,
        First::End { .. } | First::Broken(_) if limit_reached => Root::TooFar,
        First::End { .. } => Root::NotXml("no element".into()),
        First::Broken(why) => Root::NotXml(why),
    })
}

/// What [`first_markup`] met first.
enum First {
    Element(String),
    Text,
    /// The stream ended (`empty`: before any byte).
    End {
        empty: bool,
    },
    /// Not well-formed: why.
    Broken(String),
}

/// Reads up to the first element or text of `source` (in any encoding [`utf8_reader`] takes).
fn first_markup(source: impl Read) -> std::io::Result<First> {
    let (source, _) = utf8_reader(source)?;
    let mut reader = Reader::from_reader(BufReader::new(source));
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let name = e.local_name();
                return Ok(First::Element(name.as_ref().to_string()));
            }
            Ok(Event::Text(t)) if !t.trim().is_empty() => return Ok(First::Text),
            Ok(Event::Eof) => {
                return Ok(First::End {
                    empty: reader.buffer_position() == 0,
                });
            }
            Ok(_) => {}
            Err(quick_xml::Error::Io(e)) => {
                return Err(std::io::Error::new(e.kind(), e.to_string()));
            }
            Err(e) => return Ok(First::Broken(e.to_string())),
        }
        buf.clear();
    }
}

/// Streams an XML return and flattens it into the spec's tables.
///
/// The loop itself only reads events: what each one does is `Flattener::event` (or
/// `Flattener::skip` below [`MAX_DEPTH`]), small methods the compiler inlines into it.
pub fn read<'s, R: BufRead>(
    source: R,
    spec: &'s FormatSpec,
    layout: &XmlLayout,
    ctx: XmlContext<'s>,
) -> XmlOutput<'s> {
    let mut reader = Reader::from_reader(source);
    reader.config_mut().trim_text(false);
    let mut flat = Flattener::new(spec, layout, ctx);
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(error) => {
                let issue = flat.broken(reader.error_position(), &error.to_string());
                flat.out.issues.push(issue);
                break;
            }
        };
        let step = if flat.skipping > 0 {
            flat.skip(&event)
        } else {
            flat.event(event)
        };
        match step {
            Step::Next => {}
            Step::End => break,
            Step::Truncated => {
                let issue = flat.broken(
                    reader.buffer_position(),
                    "the file ends before its elements are closed",
                );
                flat.out.issues.push(issue);
                break;
            }
            Step::NoYear => return flat.out,
        }
        buf.clear();
    }
    flat.finish()
}

/// What the reading loop does after an event.
enum Step {
    /// Read the next event.
    Next,
    /// The file ended where it should.
    End,
    /// The file ended with elements still open: reported as truncated, and the reading stops.
    Truncated,
    /// A child closed before the collection year was known: nothing can be typed, so the output
    /// is returned as it is (without the end-of-file notes).
    NoYear,
}

/// The state of one streaming read: the current child's buffers, the elements open outside
/// the children, and what has been read so far.
struct Flattener<'s, 'l> {
    spec: &'s FormatSpec,
    layout: &'l XmlLayout,
    ctx: XmlContext<'s>,
    state: State,
    out: XmlOutput<'s>,
    year: Option<i32>,
    outer: Vec<String>,
    outer_text: String,
    /// An entity the file does not define, in the outer text being collected.
    outer_unresolved: bool,
    unknown_paths: BTreeSet<String>,
    in_unit: bool,
    /// Elements open below MAX_DEPTH, being skipped.
    skipping: usize,
    too_deep_reported: bool,
}

impl<'s, 'l> Flattener<'s, 'l> {
    fn new(spec: &'s FormatSpec, layout: &'l XmlLayout, ctx: XmlContext<'s>) -> Self {
        Flattener {
            spec,
            layout,
            year: ctx.year,
            ctx,
            state: State::default(),
            out: XmlOutput {
                builders: vec![],
                file_values: HashMap::new(),
                issues: vec![],
                units: 0,
                encoding: Encoding::Utf8,
            },
            outer: vec![],
            outer_text: String::new(),
            outer_unresolved: false,
            unknown_paths: BTreeSet::new(),
            in_unit: false,
            skipping: 0,
            too_deep_reported: false,
        }
    }

    /// An event below [`MAX_DEPTH`]: only the nesting is counted, to know when it is over.
    #[inline]
    fn skip(&mut self, event: &Event) -> Step {
        match event {
            Event::Start(_) => self.skipping += 1,
            Event::End(_) => self.skipping -= 1,
            Event::Eof => return Step::Truncated,
            _ => {}
        }
        Step::Next
    }

    /// One event of the file, inside a child or outside the children.
    #[inline]
    fn event(&mut self, event: Event) -> Step {
        let depth = self.outer.len()
            + if self.in_unit {
                1 + self.state.stack.len()
            } else {
                0
            };
        match event {
            Event::Start(_) if depth >= MAX_DEPTH => self.too_deep(),
            Event::Start(e) => self.start(&e),
            Event::Empty(e) if self.in_unit => {
                // <Element/>: an empty value, nothing to record (an empty unit is skipped).
                let name = e.local_name();
                self.state.open(
                    self.layout,
                    name.as_ref().as_bytes(),
                    &mut self.unknown_paths,
                );
                self.state.close(self.layout);
            }
            Event::Text(t) => {
                if self.in_unit {
                    self.state.text(&t);
                } else if self.outer_text.len() < MAX_OUTER_TEXT {
                    self.outer_text.push_str(&t);
                }
            }
            Event::CData(t) if self.in_unit => {
                self.state.text(&t.into_inner());
            }
            Event::GeneralRef(r) => self.general_ref(&r),
            Event::End(_) => return self.end(),
            Event::Eof => {
                return if self.in_unit || !self.outer.is_empty() {
                    Step::Truncated
                } else {
                    Step::End
                };
            }
            _ => {}
        }
        Step::Next
    }

    /// An element opened [`MAX_DEPTH`] deep: it and everything in it are skipped, and the
    /// file is reported once.
    #[cold]
    fn too_deep(&mut self) {
        self.skipping = 1;
        if self.too_deep_reported {
            return;
        }
        self.too_deep_reported = true;
        self.out.issues.push(Issue {
            file: self.ctx.file_label.clone(),
            location: self.open_path(),
            table: String::new(),
            child: if self.in_unit {
                self.state.child_id(self.layout)
            } else {
                None
            },
            field: String::new(),
            value: None,
            rule: "xml_too_deep",
            severity: Severity::Error,
            message: format!(
                "elements are nested more than {MAX_DEPTH} levels deep here (a return is at most 7): the deeper elements were skipped; the file is broken, export it again"
            ),
        });
    }

    /// An element opened: one in a child, the child itself, or one outside the children.
    #[inline]
    fn start(&mut self, e: &BytesStart) {
        let name = e.local_name();
        if self.in_unit {
            self.state.open(
                self.layout,
                name.as_ref().as_bytes(),
                &mut self.unknown_paths,
            );
        } else if self.outer.len() == self.layout.prefix.len()
            && self
                .outer
                .iter()
                .zip(&self.layout.prefix)
                .all(|(a, b)| a == b)
            && name.as_ref().as_bytes() == &*self.layout.nodes[0].name
        {
            self.in_unit = true;
            self.state.begin_unit(self.out.units + 1);
        } else {
            self.outer.push(name.as_ref().to_string());
            self.outer_text.clear();
            self.outer_unresolved = false;
        }
    }

    /// An entity or character reference: its text, or for an entity the file does not define
    /// the reference as written with the value marked unreadable.
    fn general_ref(&mut self, r: &BytesRef) {
        let resolved = match r.resolve_char_ref() {
            Ok(Some(ch)) => Some(ch.to_string()),
            _ => match &**r {
                "amp" => Some("&".into()),
                "lt" => Some("<".into()),
                "gt" => Some(">".into()),
                "quot" => Some("\"".into()),
                "apos" => Some("'".into()),
                _ => None,
            },
        };
        // An entity the file does not define is kept as written (`&foo;`) so the
        // report can show it, and the value is marked unreadable.
        let text = resolved.clone().unwrap_or_else(|| format!("&{};", &**r));
        if self.in_unit {
            self.state.text(&text);
            if resolved.is_none() {
                self.state.unresolved();
            }
        } else {
            self.outer_text.push_str(&text);
            self.outer_unresolved |= resolved.is_none();
        }
    }

    /// An element closed: one in a child, the child itself, or one outside the children.
    #[inline]
    fn end(&mut self) -> Step {
        if !self.in_unit {
            self.outer_closed();
        } else if self.state.stack.is_empty() {
            return self.unit_closed();
        } else {
            self.state.close(self.layout);
        }
        Step::Next
    }

    /// The unit element itself closed: its rows are emitted (the tables are made at the first
    /// child, once the header has given the year).
    fn unit_closed(&mut self) -> Step {
        self.in_unit = false;
        self.out.units += 1;
        if self.out.builders.is_empty() {
            self.year = self.year.or_else(|| header_year(&self.out.file_values));
            let Some(y) = self.year else {
                self.out.issues.push(file_issue(
                    &self.ctx.file_label,
                    "collection_year",
                    "the collection year is not in the file header and was not given; use --year",
                ));
                return Step::NoYear;
            };
            self.out.builders = self.builders(y);
        }
        self.state.emit(
            self.layout,
            self.spec,
            &mut self.out.builders,
            &self.ctx.file_label,
            &mut self.out.issues,
        );
        Step::Next
    }

    /// An element outside the children closed: a file-level value (the header's year, LA,
    /// dates) is kept, or reported if it cannot be used.
    fn outer_closed(&mut self) {
        let path = self.outer.join("/");
        if let Some(name) = self.layout.file_values.get(&path) {
            let value = self.outer_text.trim().to_string();
            if let Some(problem) = file_value_problem(name, &value, self.outer_unresolved) {
                self.out.issues.push(Issue {
                    location: path.clone(),
                    field: path.rsplit('/').next().unwrap_or(&path).to_string(),
                    value: Some(value),
                    rule: if self.outer_unresolved {
                        "unresolved_entity"
                    } else {
                        "file"
                    },
                    ..file_issue(&self.ctx.file_label, "", &problem)
                });
            } else {
                self.out.file_values.insert(name.clone(), value);
            }
        }
        self.outer.pop();
        self.outer_text.clear();
        self.outer_unresolved = false;
    }

    /// One table builder per table of the spec, for collection year `year`.
    fn builders(&self, year: i32) -> Vec<TableBuilder<'s>> {
        self.spec
            .tables
            .iter()
            .map(|t| TableBuilder::new(t, self.ctx.lists, year, self.spec.date_style))
            .collect()
    }

    /// The end of the read: the elements not read are noted, a file without children is
    /// warned about, and a file with a year but no child still gets its (empty) tables.
    fn finish(mut self) -> XmlOutput<'s> {
        for path in std::mem::take(&mut self.unknown_paths) {
            self.out.issues.push(Issue {
                file: self.ctx.file_label.clone(),
                location: format!("{}/{path}", self.layout.prefix_path()),
                table: String::new(),
                child: None,
                field: path.rsplit('/').next().unwrap_or(&path).to_string(),
                value: None,
                rule: "unread_element",
                severity: Severity::Note,
                message: "this element is not part of the canonical tables and was not read".into(),
            });
        }
        if self.out.units == 0 {
            self.out.issues.push(Issue {
                severity: Severity::Warning,
                rule: "no_children",
                ..file_issue(
                    &self.ctx.file_label,
                    "",
                    &format!(
                        "the file holds no {} elements, so nothing was read from it",
                        self.layout.prefix_path()
                    ),
                )
            });
        }
        if self.out.builders.is_empty()
            && let Some(y) = self.year.or_else(|| header_year(&self.out.file_values))
        {
            self.out.builders = self.builders(y);
        }
        self.out
    }

    /// The path of the open elements: outside a unit the outer elements, inside one the unit
    /// (with its ordinal) and the elements open in it.
    fn open_path(&self) -> String {
        if !self.in_unit {
            return self.outer.join("/");
        }
        let mut path = format!("{}[{}]", self.layout.prefix_path(), self.out.units + 1);
        for &node in &self.state.stack {
            path.push('/');
            if node == UNKNOWN {
                path.push('?');
            } else {
                path.push_str(&String::from_utf8_lossy(
                    &self.layout.nodes[node as usize].name,
                ));
            }
        }
        path
    }

    /// The report line for a file that cannot be read past `byte` (`what` says why): where
    /// the reading stopped and how many children were kept.
    #[cold]
    fn broken(&self, byte: u64, what: &str) -> Issue {
        let units = self.out.units;
        let location = if self.in_unit {
            let mut path = format!("{}[{}]", self.layout.prefix_path(), units + 1);
            for &node in &self.state.stack {
                if node != UNKNOWN {
                    path.push('/');
                    path.push_str(&String::from_utf8_lossy(
                        &self.layout.nodes[node as usize].name,
                    ));
                }
            }
            path
        } else {
            self.open_path()
        };
        let child = if self.in_unit {
            self.state.child_id(self.layout)
        } else {
            None
        };
        Issue {
            file: self.ctx.file_label.clone(),
            location,
            table: String::new(),
            child,
            field: String::new(),
            value: None,
            rule: "truncated_xml",
            severity: Severity::Error,
            message: format!(
                "the XML is truncated or malformed at byte {byte} ({what}); the {units} complete {} before this point were kept and the rest of the file could not be read",
                if units == 1 { "child" } else { "children" }
            ),
        }
    }
}

/// The collection year in the file's header, if it has one (checked when it was read).
fn header_year(values: &HashMap<String, String>) -> Option<i32> {
    values
        .get("collection_year")
        .and_then(|y| y.trim().parse().ok())
}

/// Why a file-level value cannot be used, if it cannot: an undefined entity, or a collection
/// year that is not a year of the collections (the year drives every date check, and a year
/// such as 999999 is past what a date can hold).
fn file_value_problem(name: &str, value: &str, unresolved: bool) -> Option<String> {
    if unresolved {
        return Some(
            "the value holds an entity the file does not define (such as &foo;), so it cannot be read"
                .into(),
        );
    }
    if name == "collection_year" && !value.is_empty() {
        let ok = value
            .parse::<i32>()
            .is_ok_and(|y| (2000..=2100).contains(&y));
        if !ok {
            return Some(format!(
                "'{value}' is not a collection year (2000–2100): the year was not taken from the file; use --year"
            ));
        }
    }
    None
}

impl XmlLayout {
    fn prefix_path(&self) -> String {
        let mut parts = self.prefix.clone();
        parts.push(String::from_utf8_lossy(&self.nodes[0].name).into_owned());
        parts.join("/")
    }
}

fn file_issue(file: &Arc<str>, field: &str, message: &str) -> Issue {
    Issue {
        field: field.into(),
        ..Issue::file_level(file.clone(), "file", Severity::Error, message)
    }
}

/// Buffers of the unit (child) being read; reused from child to child.
///
/// Every per-element step is constant time whatever the child holds (a hostile child with
/// 500,000 empty records must not take quadratic time): ordinals come from a count per
/// (node, parent), the first instance of each record node is remembered, and an instance keeps
/// only the first value of a single-valued element.
#[derive(Default)]
struct State {
    unit_ordinal: u64,
    text: String,
    stack: Vec<u32>,
    instances: Vec<Instance>,
    live: usize,
    open_instances: Vec<u32>,
    value_start: Option<usize>,
    /// The value being read holds an undefined entity.
    value_unresolved: bool,
    /// The unit's text passed MAX_UNIT_TEXT: the unit is rejected when it closes.
    overflow: bool,
    /// Instances so far per (record node, parent instance), for ordinals.
    ordinals: HashMap<(u32, u32), u32>,
    /// The first instance of each record node in the unit.
    first: HashMap<u32, u32>,
}

impl State {
    fn begin_unit(&mut self, ordinal: u64) {
        self.unit_ordinal = ordinal;
        self.text.clear();
        self.stack.clear();
        self.live = 0;
        self.open_instances.clear();
        self.value_start = None;
        self.value_unresolved = false;
        self.overflow = false;
        self.ordinals.clear();
        self.first.clear();
        self.new_instance(0, UNKNOWN);
    }

    fn new_instance(&mut self, node: u32, parent: u32) {
        let count = self.ordinals.entry((node, parent)).or_insert(0);
        *count += 1;
        let ordinal = *count;
        self.first.entry(node).or_insert(self.live as u32);
        if self.live == self.instances.len() {
            self.instances.push(Instance::default());
        }
        let inst = &mut self.instances[self.live];
        inst.node = node;
        inst.parent = parent;
        inst.ordinal = ordinal;
        inst.values.clear();
        inst.lists.clear();
        self.open_instances.push(self.live as u32);
        self.live += 1;
    }

    fn current_node(&self) -> u32 {
        self.stack.last().copied().unwrap_or(0)
    }

    fn open(&mut self, layout: &XmlLayout, name: &[u8], unknown: &mut BTreeSet<String>) {
        let parent = self.current_node();
        let node = layout.child(parent, name);
        if node == UNKNOWN && parent != UNKNOWN {
            let base = layout.path_of(parent);
            let name = String::from_utf8_lossy(name);
            unknown.insert(if base.is_empty() {
                name.into_owned()
            } else {
                format!("{base}/{name}")
            });
        }
        self.stack.push(node);
        if node != UNKNOWN {
            let n = &layout.nodes[node as usize];
            if n.record {
                let parent_instance = self.open_instances.last().copied().unwrap_or(0);
                self.new_instance(node, parent_instance);
            }
            if n.value {
                self.value_start = Some(self.text.len());
                self.value_unresolved = false;
            }
        }
    }

    fn text(&mut self, text: &str) {
        if self.value_start.is_some() {
            if self.text.len() + text.len() > MAX_UNIT_TEXT {
                self.overflow = true;
                return;
            }
            self.text.push_str(text);
        }
    }

    /// The value being read holds an entity the file does not define.
    fn unresolved(&mut self) {
        if self.value_start.is_some() {
            self.value_unresolved = true;
        }
    }

    fn close(&mut self, layout: &XmlLayout) {
        let node = self.stack.pop().unwrap_or(UNKNOWN);
        if node == UNKNOWN {
            return;
        }
        let n = &layout.nodes[node as usize];
        if n.value
            && let Some(start) = self.value_start.take()
        {
            let raw = &self.text[start..];
            let lead = raw.len() - raw.trim_start().len();
            let trimmed_len = raw.trim().len();
            let (s, e) = ((start + lead) as u32, (start + lead + trimmed_len) as u32);
            let owner = self.open_instances.last().copied().unwrap_or(0) as usize;
            let inst = &mut self.instances[owner];
            let value = Value {
                node,
                start: s,
                end: e,
                unresolved: self.value_unresolved,
            };
            // A single-valued element given twice: the first counts (as before), and keeping
            // only it keeps every lookup short.
            if n.list {
                inst.lists.push(value);
            } else if !inst.values.iter().any(|v| v.node == node) {
                inst.values.push(value);
            } else {
                self.text.truncate(start);
            }
            self.value_unresolved = false;
        }
        if n.record {
            self.open_instances.pop();
        }
    }

    fn value_at(&self, instance: usize, node: u32) -> Option<Value> {
        self.instances[instance]
            .values
            .iter()
            .find(|v| v.node == node)
            .copied()
    }

    fn text_of(&self, v: Value) -> &str {
        &self.text[v.start as usize..v.end as usize]
    }

    fn value_in(&self, instance: usize, node: u32) -> Option<&str> {
        self.value_at(instance, node).map(|v| self.text_of(v))
    }

    fn resolve(&self, instance: usize, r: ValueRef) -> Option<usize> {
        match r.lookup {
            Lookup::Own => Some(instance),
            Lookup::Ancestor(owner) => {
                let mut at = self.instances[instance].parent;
                while at != UNKNOWN {
                    if self.instances[at as usize].node == owner {
                        return Some(at as usize);
                    }
                    at = self.instances[at as usize].parent;
                }
                None
            }
            Lookup::UnitFirst(owner) => self.first.get(&owner).map(|&i| i as usize),
        }
    }

    fn child_id(&self, layout: &XmlLayout) -> Option<String> {
        let (owner, node) = layout.child?;
        let instance = *self.first.get(&owner)? as usize;
        self.value_in(instance, node)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    fn instance_path(&self, layout: &XmlLayout, instance: usize) -> String {
        let mut chain = vec![];
        let mut at = instance as u32;
        while at != UNKNOWN {
            chain.push(at as usize);
            at = self.instances[at as usize].parent;
        }
        chain.reverse();
        let mut path = format!("{}[{}]", layout.prefix_path(), self.unit_ordinal);
        for &i in &chain[1..] {
            let inst = &self.instances[i];
            let rel = relative_path(layout, self.instances[inst.parent as usize].node, inst.node);
            path.push_str(&format!("/{rel}[{}]", inst.ordinal));
        }
        path
    }

    /// Where a column's value is in the unit, for the report.
    fn locate(&self, layout: &XmlLayout, instance: usize, column: &ColumnSpec) -> String {
        let base = || self.instance_path(layout, instance);
        match column.xml.first().map(String::as_str) {
            Some(".") | None => base(),
            Some(p) => match (p.strip_prefix('^'), p.strip_prefix("../")) {
                (Some(rest), _) => {
                    format!("{}[{}]/{rest}", layout.prefix_path(), self.unit_ordinal)
                }
                (_, Some(rest)) => {
                    let parent = self.instances[instance].parent as usize;
                    format!("{}/{rest}", self.instance_path(layout, parent))
                }
                _ => format!("{}/{p}", base()),
            },
        }
    }

    /// Emits the unit's rows into the tables' builders (every instance of each table's record,
    /// in document order), or rejects the whole unit if its text overflowed.
    fn emit(
        &mut self,
        layout: &XmlLayout,
        spec: &FormatSpec,
        builders: &mut [TableBuilder],
        file: &Arc<str>,
        issues: &mut Vec<Issue>,
    ) {
        if self.overflow {
            // Too much text to be a child: every row it would make is rejected, once.
            issues.push(self.too_large(layout, file));
            return;
        }
        // Values with an undefined entity already reported (a child id is used by every row).
        let mut reported: BTreeSet<(usize, u32)> = BTreeSet::new();
        for table in &layout.tables {
            let table_spec: &TableSpec = &spec.tables[table.table];
            for instance in 0..self.live {
                if self.instances[instance].node != table.record {
                    continue;
                }
                let at = RowAt {
                    layout,
                    table,
                    spec: table_spec,
                    instance,
                };
                // Per column: the value's text, and where it is (instance, value) if it holds
                // an undefined entity.
                let mut unreadable: Vec<Option<(usize, Value)>> = vec![None; table.columns.len()];
                let joined = self.list_values(at, &mut unreadable);
                let raw = self.row_values(at, &joined, &mut unreadable);
                let builder = &mut builders[table.table];
                if !builder.wants(&raw) {
                    continue;
                }
                if unreadable.iter().any(Option::is_some) {
                    // An undefined entity is malformed XML: the value cannot be known, so the
                    // row is rejected and the value reported where it is (once per value).
                    builder.count.read += 1;
                    builder.count.rejected += 1;
                    self.report_unreadable(at, &raw, &unreadable, &mut reported, file, issues);
                    continue;
                }
                let locate =
                    |column: &ColumnSpec| -> String { self.locate(layout, instance, column) };
                let source = RowSource {
                    file,
                    source_row: self.unit_ordinal as u32,
                    locate: &locate,
                };
                builder.push_row(&raw, &source, issues);
            }
        }
    }

    /// The report line for a unit whose text passed [`MAX_UNIT_TEXT`].
    #[cold]
    fn too_large(&self, layout: &XmlLayout, file: &Arc<str>) -> Issue {
        Issue {
            file: file.clone(),
            location: format!("{}[{}]", layout.prefix_path(), self.unit_ordinal),
            table: String::new(),
            child: self.child_id(layout),
            field: String::new(),
            value: None,
            rule: "unit_too_large",
            severity: Severity::Error,
            message: format!(
                "this child's elements hold more than {} MiB of text (a real child holds a few KB): the child was rejected; the file is broken, export it again",
                MAX_UNIT_TEXT >> 20
            ),
        }
    }

    /// The row's list columns (Disability, AssessmentFactors): every value of the element,
    /// joined with commas, noting in `unreadable` a value with an undefined entity.
    fn list_values(
        &self,
        at: RowAt,
        unreadable: &mut [Option<(usize, Value)>],
    ) -> Vec<Option<String>> {
        let mut joined: Vec<Option<String>> = vec![None; at.table.columns.len()];
        for (c, column) in at.spec.columns.iter().enumerate() {
            if column.kind == Kind::List {
                let Some(&r) = at.table.columns[c].first() else {
                    continue;
                };
                if let Some(owner) = self.resolve(at.instance, r) {
                    let values: Vec<Value> = self.instances[owner]
                        .lists
                        .iter()
                        .filter(|v| v.node == r.node)
                        .copied()
                        .collect();
                    unreadable[c] = values.iter().find(|v| v.unresolved).map(|&v| (owner, v));
                    let all: Vec<&str> = values
                        .iter()
                        .map(|&v| self.text_of(v))
                        .filter(|v| !v.is_empty())
                        .collect();
                    if !all.is_empty() {
                        joined[c] = Some(all.join(","));
                    }
                }
            }
        }
        joined
    }

    /// The row's raw cells: a list column's joined values, else the first place its value is
    /// found, noting in `unreadable` a value with an undefined entity.
    fn row_values<'t>(
        &'t self,
        at: RowAt,
        joined: &'t [Option<String>],
        unreadable: &mut [Option<(usize, Value)>],
    ) -> Vec<Option<&'t str>> {
        at.table
            .columns
            .iter()
            .enumerate()
            .map(|(c, refs)| {
                if let Some(j) = &joined[c] {
                    return Some(j.as_str());
                }
                refs.iter().find_map(|&r| {
                    let at = self.resolve(at.instance, r)?;
                    let v = self.value_at(at, r.node)?;
                    if v.unresolved {
                        unreadable[c] = Some((at, v));
                    }
                    Some(self.text_of(v))
                })
            })
            .collect()
    }

    /// Reports each unreadable value of a rejected row where it is, once per value (with the
    /// row's child unless the child's own id is what cannot be read).
    fn report_unreadable(
        &self,
        at: RowAt,
        raw: &[Option<&str>],
        unreadable: &[Option<(usize, Value)>],
        reported: &mut BTreeSet<(usize, u32)>,
        file: &Arc<str>,
        issues: &mut Vec<Issue>,
    ) {
        let table_spec = at.spec;
        let child = table_spec
            .column_index("child")
            .and_then(|i| raw[i])
            .filter(|_| {
                table_spec
                    .column_index("child")
                    .is_none_or(|i| unreadable[i].is_none())
            })
            .map(str::to_string);
        for (c, bad) in unreadable.iter().enumerate() {
            let Some((owner, v)) = *bad else { continue };
            if !reported.insert((owner, v.node)) {
                continue;
            }
            let column = &table_spec.columns[c];
            issues.push(Issue {
                file: file.clone(),
                location: self.locate(at.layout, at.instance, column),
                table: table_spec.name.clone(),
                child: child.clone(),
                field: super::table::field_name(column),
                value: Some(self.text_of(v).to_string()),
                rule: "unresolved_entity",
                severity: Severity::Error,
                message: "the value holds an entity the file does not define (such as &foo;), so it cannot be read; the row was rejected: the file is malformed, export it again".into(),
            });
        }
    }
}

/// The row being assembled: the table it is for and the record instance it is read from.
#[derive(Clone, Copy)]
struct RowAt<'a> {
    layout: &'a XmlLayout,
    table: &'a TableLayout,
    spec: &'a TableSpec,
    instance: usize,
}

fn relative_path(layout: &XmlLayout, from: u32, to: u32) -> String {
    let mut parts = vec![];
    let mut at = to;
    while at != UNKNOWN && at != from {
        parts.push(String::from_utf8_lossy(&layout.nodes[at as usize].name).into_owned());
        at = layout.nodes[at as usize].parent;
    }
    parts.reverse();
    parts.join("/")
}

/// Finishes every table of an XML read into canonical frames.
pub fn finish(
    builders: Vec<TableBuilder>,
    la_code: &str,
    year: i32,
    file: &str,
) -> PolarsResult<Vec<(String, DataFrame)>> {
    builders
        .into_iter()
        .map(|b| {
            let name = b.spec().name.clone();
            b.finish(la_code, year, file).map(|df| (name, df))
        })
        .collect()
}
