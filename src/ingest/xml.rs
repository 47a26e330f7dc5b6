//! Streaming XML flattener driven by a [`FormatSpec`]: SSDA903 XML and the CIN census XML.
//!
//! A national CIN census is ~700,000 children in one file, so the file is never held in memory:
//! quick-xml streams events, and only the current child (the spec's `unit` element) is kept,
//! in reusable buffers. The spec's paths are compiled into a trie of element names; each
//! element that makes a row (a *record*, e.g. `CINdetails/Assessments`) opens an instance that
//! collects the values of the leaf elements under it. When the child closes, each table's rows
//! are assembled from those instances — own values, values inherited from the enclosing record
//! (`../CINreferralDate`) or from elsewhere in the child (`^ChildIdentifiers/LAchildID`) — and
//! handed to the same [`TableBuilder`] the CSV reader uses. Elements the spec does not name
//! (schema additions such as `PreProceedingsandFGDM`) are skipped and noted once per file.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;
use quick_xml::Reader;
use quick_xml::events::Event;

use super::report::{Issue, Severity};
use super::spec::{ColumnSpec, FormatSpec, Kind, TableSpec};
use super::table::{RowSource, TableBuilder};
use super::text::{Encoding, Utf8Reader, sniff};
use crate::domain::codes::CodeLists;

const UNKNOWN: u32 = u32::MAX;

#[derive(Debug)]
struct Node {
    name: Box<[u8]>,
    parent: u32,
    children: Vec<u32>,
    /// This element makes a row of at least one table.
    record: bool,
    /// Some column reads this element's text.
    value: bool,
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
                    column
                        .xml
                        .iter()
                        .map(|path| layout.place(record, parent_record, path))
                        .collect()
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
    /// (node, start, end) of values in the unit's text buffer.
    values: Vec<(u32, u32, u32)>,
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
    let mut file = File::open(path)?;
    let mut head = [0u8; 4];
    let n = read_up_to(&mut file, &mut head)?;
    let encoding = sniff(&head[..n]);
    let head = std::io::Cursor::new(head[..n].to_vec());
    let chained = head.chain(file);
    let ctx = XmlContext {
        file_label,
        year,
        lists,
    };
    Ok(match encoding {
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let mut out = read(
                BufReader::with_capacity(256 * 1024, Utf8Reader::new(chained)),
                spec,
                layout,
                ctx,
            );
            out.encoding = encoding;
            out
        }
        _ => {
            let mut reader = BufReader::with_capacity(256 * 1024, chained);
            if encoding == Encoding::Utf8Bom {
                reader.consume(3);
            }
            let mut out = read(reader, spec, layout, ctx);
            out.encoding = encoding;
            out
        }
    })
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let m = reader.read(&mut buf[n..])?;
        if m == 0 {
            break;
        }
        n += m;
    }
    Ok(n)
}

/// Streams an XML return and flattens it into the spec's tables.
pub fn read<'s, R: BufRead>(
    source: R,
    spec: &'s FormatSpec,
    layout: &XmlLayout,
    ctx: XmlContext<'s>,
) -> XmlOutput<'s> {
    let mut reader = Reader::from_reader(source);
    reader.config_mut().trim_text(false);
    let mut state = State::default();
    let mut out = XmlOutput {
        builders: vec![],
        file_values: HashMap::new(),
        issues: vec![],
        units: 0,
        encoding: Encoding::Utf8,
    };
    let mut year = ctx.year;
    let mut outer: Vec<String> = vec![];
    let mut outer_text = String::new();
    let mut unknown_paths: BTreeSet<String> = BTreeSet::new();
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut in_unit = false;
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(error) => {
                out.issues.push(broken(
                    &ctx.file_label,
                    layout,
                    &state,
                    &outer,
                    in_unit,
                    out.units,
                    reader.error_position(),
                    &error.to_string(),
                ));
                break;
            }
        };
        match event {
            Event::Start(e) => {
                let name = e.local_name();
                if in_unit {
                    state.open(layout, name.as_ref().as_bytes(), &mut unknown_paths);
                } else if outer.len() == layout.prefix.len()
                    && outer.iter().zip(&layout.prefix).all(|(a, b)| a == b)
                    && name.as_ref().as_bytes() == &*layout.nodes[0].name
                {
                    in_unit = true;
                    state.begin_unit(out.units + 1);
                } else {
                    outer.push(name.as_ref().to_string());
                    outer_text.clear();
                }
            }
            Event::Empty(e) if in_unit => {
                // <Element/>: an empty value, nothing to record (an empty unit is skipped).
                let name = e.local_name();
                state.open(layout, name.as_ref().as_bytes(), &mut unknown_paths);
                state.close(layout);
            }
            Event::Text(t) => {
                if in_unit {
                    state.text(&t);
                } else {
                    outer_text.push_str(&t);
                }
            }
            Event::CData(t) if in_unit => {
                state.text(&t.into_inner());
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    _ => match &*r {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => format!("&{other};"),
                    },
                };
                if in_unit {
                    state.text(&resolved);
                } else {
                    outer_text.push_str(&resolved);
                }
            }
            Event::End(_) => {
                if in_unit {
                    if state.stack.is_empty() {
                        // The unit element itself closed: emit its rows.
                        in_unit = false;
                        out.units += 1;
                        if out.builders.is_empty() {
                            year = year.or_else(|| {
                                out.file_values
                                    .get("collection_year")
                                    .and_then(|y| y.trim().parse().ok())
                            });
                            let Some(y) = year else {
                                out.issues.push(file_issue(&ctx.file_label, "collection_year", "the collection year is not in the file header and was not given; use --year"));
                                return out;
                            };
                            out.builders = spec
                                .tables
                                .iter()
                                .map(|t| TableBuilder::new(t, ctx.lists, y, spec.date_style))
                                .collect();
                        }
                        state.emit(
                            layout,
                            spec,
                            &mut out.builders,
                            &ctx.file_label,
                            &mut out.issues,
                        );
                    } else {
                        state.close(layout);
                    }
                } else {
                    let path = outer.join("/");
                    if let Some(name) = layout.file_values.get(&path) {
                        out.file_values
                            .insert(name.clone(), outer_text.trim().to_string());
                    }
                    outer.pop();
                    outer_text.clear();
                }
            }
            Event::Eof => {
                if in_unit || !outer.is_empty() {
                    out.issues.push(broken(
                        &ctx.file_label,
                        layout,
                        &state,
                        &outer,
                        in_unit,
                        out.units,
                        reader.buffer_position(),
                        "the file ends before its elements are closed",
                    ));
                }
                break;
            }
            _ => {}
        }
        buf.clear();
    }
    for path in unknown_paths {
        out.issues.push(Issue {
            file: ctx.file_label.clone(),
            location: format!("{}/{path}", layout.prefix_path()),
            table: String::new(),
            child: None,
            field: path.rsplit('/').next().unwrap_or(&path).to_string(),
            value: None,
            rule: "unread_element",
            severity: Severity::Note,
            message: "this element is not part of the canonical tables and was not read".into(),
        });
    }
    if out.builders.is_empty()
        && let Some(y) = year.or_else(|| {
            out.file_values
                .get("collection_year")
                .and_then(|y| y.trim().parse().ok())
        })
    {
        out.builders = spec
            .tables
            .iter()
            .map(|t| TableBuilder::new(t, ctx.lists, y, spec.date_style))
            .collect();
    }
    out
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
        file: file.clone(),
        location: String::new(),
        table: String::new(),
        child: None,
        field: field.into(),
        value: None,
        rule: "file",
        severity: Severity::Error,
        message: message.into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn broken(
    file: &Arc<str>,
    layout: &XmlLayout,
    state: &State,
    outer: &[String],
    in_unit: bool,
    units: u64,
    byte: u64,
    what: &str,
) -> Issue {
    let location = if in_unit {
        let mut path = format!("{}[{}]", layout.prefix_path(), units + 1);
        for &node in &state.stack {
            if node != UNKNOWN {
                path.push('/');
                path.push_str(&String::from_utf8_lossy(&layout.nodes[node as usize].name));
            }
        }
        path
    } else {
        outer.join("/")
    };
    let child = if in_unit {
        state.child_id(layout)
    } else {
        None
    };
    Issue {
        file: file.clone(),
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

/// Buffers of the unit (child) being read; reused from child to child.
#[derive(Default)]
struct State {
    unit_ordinal: u64,
    text: String,
    stack: Vec<u32>,
    instances: Vec<Instance>,
    live: usize,
    open_instances: Vec<u32>,
    value_start: Option<usize>,
}

impl State {
    fn begin_unit(&mut self, ordinal: u64) {
        self.unit_ordinal = ordinal;
        self.text.clear();
        self.stack.clear();
        self.live = 0;
        self.open_instances.clear();
        self.value_start = None;
        self.new_instance(0, UNKNOWN);
    }

    fn new_instance(&mut self, node: u32, parent: u32) {
        let ordinal = 1 + self.instances[..self.live]
            .iter()
            .filter(|i| i.node == node && i.parent == parent)
            .count() as u32;
        if self.live == self.instances.len() {
            self.instances.push(Instance::default());
        }
        let inst = &mut self.instances[self.live];
        inst.node = node;
        inst.parent = parent;
        inst.ordinal = ordinal;
        inst.values.clear();
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
                let parent_instance = *self.open_instances.last().expect("unit instance is open");
                self.new_instance(node, parent_instance);
            }
            if n.value {
                self.value_start = Some(self.text.len());
            }
        }
    }

    fn text(&mut self, text: &str) {
        if self.value_start.is_some() {
            self.text.push_str(text);
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
            let owner = *self.open_instances.last().expect("unit instance is open");
            self.instances[owner as usize].values.push((node, s, e));
        }
        if n.record {
            self.open_instances.pop();
        }
    }

    fn value_in(&self, instance: usize, node: u32) -> Option<&str> {
        self.instances[instance]
            .values
            .iter()
            .find(|v| v.0 == node)
            .map(|&(_, s, e)| &self.text[s as usize..e as usize])
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
            Lookup::UnitFirst(owner) => self.instances[..self.live]
                .iter()
                .position(|i| i.node == owner),
        }
    }

    fn child_id(&self, layout: &XmlLayout) -> Option<String> {
        let (owner, node) = layout.child?;
        let instance = self.instances[..self.live]
            .iter()
            .position(|i| i.node == owner)?;
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

    fn emit(
        &mut self,
        layout: &XmlLayout,
        spec: &FormatSpec,
        builders: &mut [TableBuilder],
        file: &Arc<str>,
        issues: &mut Vec<Issue>,
    ) {
        for table in &layout.tables {
            let table_spec: &TableSpec = &spec.tables[table.table];
            for instance in 0..self.live {
                if self.instances[instance].node != table.record {
                    continue;
                }
                let mut joined: Vec<Option<String>> = vec![None; table.columns.len()];
                for (c, column) in table_spec.columns.iter().enumerate() {
                    if column.kind == Kind::List {
                        let r = table.columns[c][0];
                        if let Some(owner) = self.resolve(instance, r) {
                            let all: Vec<&str> = self.instances[owner]
                                .values
                                .iter()
                                .filter(|v| v.0 == r.node)
                                .map(|&(_, s, e)| &self.text[s as usize..e as usize])
                                .filter(|v| !v.is_empty())
                                .collect();
                            if !all.is_empty() {
                                joined[c] = Some(all.join(","));
                            }
                        }
                    }
                }
                let raw: Vec<Option<&str>> = table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(c, refs)| {
                        if let Some(j) = &joined[c] {
                            return Some(j.as_str());
                        }
                        refs.iter().find_map(|&r| {
                            self.resolve(instance, r)
                                .and_then(|i| self.value_in(i, r.node))
                        })
                    })
                    .collect();
                let builder = &mut builders[table.table];
                if !builder.wants(&raw) {
                    continue;
                }
                let locate = |column: &ColumnSpec| -> String {
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
                };
                let source = RowSource {
                    file,
                    source_row: self.unit_ordinal as u32,
                    locate: &locate,
                };
                builder.push_row(&raw, &source, issues);
            }
        }
    }
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
