//! XML written through a format's declaration (`data/formats/*.yaml`, read by
//! [`crate::ingest::spec`]): the element tree is compiled from the same paths the reader
//! compiles (the unit, the header's file values, each table's `xml_record` and its columns'
//! paths) plus the spec's `xml_order`, so the names, the nesting and the order the generator
//! writes are declared once, beside what the reader reads. quick-xml writes and escapes.
//!
//! The writers only say which rows go where: a [`Record`] is one row of a table (or, for an
//! element several tables share, such as the 903's HEADER, one row of each) with the records
//! inside it. An element is written when it has a value; a wrapper (`ChildIdentifiers`,
//! `Reviews`) when something inside it is.

use std::borrow::Cow;
use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::Row;
use crate::ingest::spec::{FormatSpec, Kind};

/// Where an element's text comes from: a column of a table, by one of its XML paths
/// (`path` indexes the column's alternatives, each in force in some years).
#[derive(Debug, Clone, Copy)]
struct Source {
    table: usize,
    column: usize,
    path: usize,
}

/// One element of the tree.
#[derive(Debug, Default)]
struct Node<'s> {
    name: &'s str,
    parent: usize,
    children: Vec<usize>,
    /// The tables one of whose rows this element is (several share the 903's HEADER).
    tables: Vec<usize>,
    /// The columns whose value is this element's text.
    values: Vec<Source>,
    /// The file value this element holds (outside the units: the CIN header's).
    file_value: Option<&'s str>,
}

/// The element tree of a format, compiled from its spec.
#[derive(Debug)]
pub(super) struct XmlShape<'s> {
    spec: &'s FormatSpec,
    /// `nodes[0]` is the document, whose child is the root element.
    nodes: Vec<Node<'s>>,
    /// The element that holds one child (the spec's `unit`).
    unit: usize,
    /// Per table, the element one of its rows is (None: a CSV-only table).
    records: Vec<Option<usize>>,
}

/// A path in a spec that names no element (an empty `unit`): the spec is broken.
fn broken_spec(spec: &FormatSpec, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("data/formats/{}.yaml: {what}", spec.format),
    )
}

impl<'s> XmlShape<'s> {
    /// Compiles a spec's paths into the tree: outside the units the file values in their
    /// declared order, then the unit's path; inside, each table's record element and then
    /// its columns' elements, in the tables' order; then `xml_order` reorders the elements
    /// it lists. Paths with `^` or `../` name a value another record holds (the child's id,
    /// the enclosing referral's date) and make no element here.
    pub(super) fn compile(spec: &'s FormatSpec) -> io::Result<XmlShape<'s>> {
        let mut shape = XmlShape {
            spec,
            nodes: vec![Node::default()],
            unit: 0,
            records: Vec::with_capacity(spec.tables.len()),
        };
        for (name, path) in &spec.file_values {
            let node = shape.insert(0, path);
            shape.nodes[node].file_value = Some(name);
        }
        shape.unit = shape.insert(0, &spec.unit);
        if shape.unit == 0 {
            return Err(broken_spec(spec, "the unit names no element"));
        }
        for (t, table) in spec.tables.iter().enumerate() {
            let Some(path) = &table.xml_record else {
                shape.records.push(None);
                continue;
            };
            let record = shape.insert(shape.unit, path);
            shape.nodes[record].tables.push(t);
            shape.records.push(Some(record));
            for (c, column) in table.columns.iter().enumerate() {
                for (p, path) in column.xml.iter().enumerate() {
                    if path.starts_with('^') || path.starts_with("../") {
                        continue;
                    }
                    let node = shape.insert(record, path);
                    shape.nodes[node].values.push(Source {
                        table: t,
                        column: c,
                        path: p,
                    });
                }
            }
        }
        for (path, order) in &spec.xml_order {
            if let Some(node) = shape.find(shape.unit, path) {
                let mut children = std::mem::take(&mut shape.nodes[node].children);
                // Stable: an element the list misses keeps its place after those it lists
                // (the spec's tests make every list complete).
                children.sort_by_key(|&c| {
                    let name = shape.nodes[c].name;
                    order.iter().position(|n| n == name).unwrap_or(order.len())
                });
                shape.nodes[node].children = children;
            }
        }
        Ok(shape)
    }

    /// The node of a relative path under `from` ("." and empty steps are `from` itself),
    /// made if it is new.
    fn insert(&mut self, from: usize, path: &'s str) -> usize {
        let mut at = from;
        for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
            at = match self.child(at, part) {
                Some(c) => c,
                None => {
                    self.nodes.push(Node {
                        name: part,
                        parent: at,
                        ..Node::default()
                    });
                    let id = self.nodes.len() - 1;
                    self.nodes[at].children.push(id);
                    id
                }
            };
        }
        at
    }

    fn child(&self, node: usize, name: &str) -> Option<usize> {
        self.nodes[node]
            .children
            .iter()
            .copied()
            .find(|&c| self.nodes[c].name == name)
    }

    /// The node of a relative path under `from`, if the spec has it.
    fn find(&self, from: usize, path: &str) -> Option<usize> {
        path.split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .try_fold(from, |at, part| self.child(at, part))
    }

    /// The names of the elements directly inside an element (a path from the unit, as
    /// `xml_record`), in the order they are written; None when the spec has no such element.
    #[cfg(test)]
    pub(super) fn children_of(&self, path: &str) -> Option<Vec<&'s str>> {
        let node = self.find(self.unit, path)?;
        Some(
            self.nodes[node]
                .children
                .iter()
                .map(|&c| self.nodes[c].name)
                .collect(),
        )
    }

    /// The element a table's rows are, if the table is in the XML.
    pub(super) fn record_node(&self, table: usize) -> Option<usize> {
        self.records.get(table).copied().flatten()
    }

    /// Whether several tables share an element, which then holds one row of each (the 903's
    /// HEADER: the header, UASC, care leaver and adoption items).
    pub(super) fn is_shared(&self, node: usize) -> bool {
        self.nodes[node].tables.len() > 1
    }

    /// The record element (or the unit) an element sits in.
    pub(super) fn parent_record(&self, node: usize) -> usize {
        let mut at = self.nodes[node].parent;
        while at != self.unit && at != 0 && self.nodes[at].tables.is_empty() {
            at = self.nodes[at].parent;
        }
        at
    }

    /// The unit element with nothing in it yet (the 903's CHILD, no table's row itself).
    pub(super) fn unit(&self) -> Record<'static> {
        Record::at(self.unit)
    }

    /// An element with no row in it yet (one several tables share, filled by [`Record::add`]).
    pub(super) fn empty(&self, node: usize) -> Record<'static> {
        Record::at(node)
    }

    /// A row of a table (by its index in the spec) as its element.
    pub(super) fn row_record<'r>(&self, table: usize, row: &'r Row) -> io::Result<Record<'r>> {
        let node = self.record_node(table).ok_or_else(|| {
            broken_spec(
                self.spec,
                &format!("table {} has no xml_record", self.spec.tables[table].name),
            )
        })?;
        let mut record = Record::at(node);
        record.add(table, row);
        Ok(record)
    }

    /// A row of the named table as its element.
    pub(super) fn record(&self, table: &str, row: Row) -> io::Result<Record<'static>> {
        let t = self
            .spec
            .tables
            .iter()
            .position(|t| t.name == table)
            .ok_or_else(|| broken_spec(self.spec, &format!("no table {table}")))?;
        let node = self
            .record_node(t)
            .ok_or_else(|| broken_spec(self.spec, &format!("table {table} has no xml_record")))?;
        Ok(Record {
            node,
            rows: vec![(t, Cow::Owned(row))],
            inner: vec![],
        })
    }
}

/// One element to write that is a row: the rows it holds (one per table sharing it) and the
/// records inside it, each kept in the order given.
#[derive(Debug)]
pub(super) struct Record<'r> {
    node: usize,
    rows: Vec<(usize, Cow<'r, Row>)>,
    inner: Vec<Record<'r>>,
}

impl<'r> Record<'r> {
    fn at(node: usize) -> Self {
        Record {
            node,
            rows: vec![],
            inner: vec![],
        }
    }

    /// The element this record is.
    pub(super) fn node(&self) -> usize {
        self.node
    }

    /// Adds a table's row to the element (one the table shares with others).
    pub(super) fn add(&mut self, table: usize, row: &'r Row) {
        self.rows.push((table, Cow::Borrowed(row)));
    }

    /// Puts a record inside this one.
    pub(super) fn push(&mut self, inner: Record<'r>) {
        self.inner.push(inner);
    }
}

/// What an element's text is looked up in: the file values outside the units, a record's
/// rows inside them.
#[derive(Clone, Copy)]
enum Scope<'a, 'r> {
    File(&'a Row),
    Record(&'a Record<'r>),
}

/// A document being written through a shape, unit by unit (a CIN census streams).
pub(super) struct XmlDocument<'a, 's, W: Write> {
    shape: &'a XmlShape<'s>,
    out: Writer<W>,
    year: i32,
    /// The elements from the document down to the unit.
    spine: Vec<usize>,
    /// Wrappers entered but not yet written: each is opened when the first thing inside it
    /// is written, so that an empty one is never written.
    pending: Vec<usize>,
}

impl<'a, 's, W: Write> XmlDocument<'a, 's, W> {
    /// Starts a document for a collection year (which of a column's alternative elements is
    /// in force): the declaration, then everything down to where the units go, with the
    /// file values (by name) outside them.
    pub(super) fn begin(
        shape: &'a XmlShape<'s>,
        inner: W,
        year: i32,
        file_values: &Row,
    ) -> io::Result<Self> {
        let mut spine = vec![shape.unit];
        while let Some(&last) = spine.last().filter(|&&n| n != 0) {
            spine.push(shape.nodes[last].parent);
        }
        spine.reverse();
        let mut doc = XmlDocument {
            shape,
            out: Writer::new_with_indent(inner, b' ', 2),
            year,
            spine,
            pending: vec![],
        };
        doc.out
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        for level in 0..doc.spine.len() - 1 {
            let (at, next) = (doc.spine[level], doc.spine[level + 1]);
            let before: Vec<usize> = shape.nodes[at]
                .children
                .iter()
                .copied()
                .take_while(|&c| c != next)
                .collect();
            for c in before {
                doc.element(c, Scope::File(file_values))?;
            }
            if next != shape.unit {
                doc.start(next)?;
            }
        }
        Ok(doc)
    }

    /// Writes one unit (a child).
    pub(super) fn unit(&mut self, unit: &Record) -> io::Result<()> {
        self.record(unit)
    }

    /// What has been written so far, to be passed on and cleared while streaming.
    pub(super) fn written(&mut self) -> &mut W {
        self.out.get_mut()
    }

    /// Closes the document: everything after the units, the elements open above them, and
    /// the last line's end.
    pub(super) fn finish(mut self, file_values: &Row) -> io::Result<W> {
        for level in (0..self.spine.len() - 1).rev() {
            let (at, next) = (self.spine[level], self.spine[level + 1]);
            let after: Vec<usize> = self.shape.nodes[at]
                .children
                .iter()
                .copied()
                .skip_while(|&c| c != next)
                .skip(1)
                .collect();
            for c in after {
                self.element(c, Scope::File(file_values))?;
            }
            if at != 0 {
                self.end(at)?;
            }
        }
        self.out.write_indent()?;
        Ok(self.out.into_inner())
    }

    fn start(&mut self, node: usize) -> io::Result<()> {
        let name = self.shape.nodes[node].name;
        self.out.write_event(Event::Start(BytesStart::new(name)))
    }

    fn end(&mut self, node: usize) -> io::Result<()> {
        let name = self.shape.nodes[node].name;
        self.out.write_event(Event::End(BytesEnd::new(name)))
    }

    fn text_element(&mut self, node: usize, text: &str) -> io::Result<()> {
        self.open_pending()?;
        let name = self.shape.nodes[node].name;
        self.out
            .create_element(name)
            .write_text_content(BytesText::from_escaped(partial_escape(text)))?;
        Ok(())
    }

    /// A record element: its own text if it has one (a CIN Disability), else what is in it.
    fn record(&mut self, record: &Record) -> io::Result<()> {
        let scope = Scope::Record(record);
        if let Some((text, _)) = self.value(record.node, scope) {
            return self.text_element(record.node, text);
        }
        self.open_pending()?;
        self.start(record.node)?;
        self.content(record.node, scope)?;
        self.end(record.node)
    }

    /// What is inside an element, in the tree's order: the records of each record element,
    /// the other elements by their values.
    fn content(&mut self, node: usize, scope: Scope) -> io::Result<()> {
        let shape = self.shape;
        for &child in &shape.nodes[node].children {
            if shape.nodes[child].tables.is_empty() {
                self.element(child, scope)?;
            } else if let Scope::Record(record) = scope {
                for inner in record.inner.iter().filter(|r| r.node == child) {
                    self.record(inner)?;
                }
            }
        }
        Ok(())
    }

    /// An element that is no record: one per value (a list's items one each), or a wrapper,
    /// opened only once something inside it is written (an empty one is not written).
    fn element(&mut self, node: usize, scope: Scope) -> io::Result<()> {
        match self.value(node, scope) {
            Some((items, true)) => {
                for item in items.split(',').filter(|item| !item.is_empty()) {
                    self.text_element(node, item)?;
                }
            }
            Some((text, false)) => self.text_element(node, text)?,
            None => {}
        }
        if self.shape.nodes[node].children.is_empty() {
            return Ok(());
        }
        self.pending.push(node);
        self.content(node, scope)?;
        if self.pending.last() == Some(&node) {
            self.pending.pop();
            Ok(())
        } else {
            self.end(node)
        }
    }

    /// Opens the wrappers waiting for their first content, outermost first.
    fn open_pending(&mut self) -> io::Result<()> {
        for i in 0..self.pending.len() {
            self.start(self.pending[i])?;
        }
        self.pending.clear();
        Ok(())
    }

    /// An element's value, and whether it is a list: outside the units its file value; in a
    /// record, the value of the first of its columns in force in the year that the record has
    /// one for. A blank value is none (no element is written for it).
    fn value<'v>(&self, node: usize, scope: Scope<'v, '_>) -> Option<(&'v str, bool)> {
        let n = &self.shape.nodes[node];
        let value = match scope {
            Scope::File(values) => n.file_value.and_then(|name| values.get(name)),
            Scope::Record(record) => {
                return n.values.iter().find_map(|s| {
                    let column = &self.shape.spec.tables[s.table].columns[s.column];
                    if !column.xml_years[s.path].contains(self.year) {
                        return None;
                    }
                    let (_, row) = record.rows.iter().find(|(t, _)| *t == s.table)?;
                    let value = row.get(column.name.as_str()).filter(|v| !v.is_empty())?;
                    Some((value.as_str(), column.kind == Kind::List))
                });
            }
        };
        value.filter(|v| !v.is_empty()).map(|v| (v.as_str(), false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each `xml_order` list names exactly the elements the spec puts inside that element,
    /// each once: an element added to a table without a place in the list, or a name in the
    /// list that no path makes, fails here rather than being written out of order.
    #[test]
    fn every_xml_order_lists_exactly_the_elements_inside() {
        for spec in [FormatSpec::ssda903(), FormatSpec::cin()] {
            let shape = XmlShape::compile(spec).unwrap();
            for (path, order) in &spec.xml_order {
                let inside = shape.children_of(path);
                let listed: Vec<&str> = order.iter().map(String::as_str).collect();
                assert_eq!(inside, Some(listed), "{}: {path}", spec.format);
            }
        }
        assert!(FormatSpec::ssda903().xml_order.contains_key("HEADER"));
    }

    /// A column with alternative elements is written as the one in force in the year (the
    /// CIN census's GenderCurrent to 2023/24, Sex from 2024/25), and a wrapper only when
    /// something inside it is.
    #[test]
    fn the_element_in_force_in_the_year_is_written() {
        let shape = XmlShape::compile(FormatSpec::cin()).unwrap();
        let written = |year: i32| {
            let child = Row::from([("child", "A1".to_string()), ("sex", "F".to_string())]);
            let record = shape.record("cin_child", child).unwrap();
            let mut doc = XmlDocument::begin(&shape, Vec::new(), year, &Row::new()).unwrap();
            doc.unit(&record).unwrap();
            String::from_utf8(doc.finish(&Row::new()).unwrap()).unwrap()
        };
        let child = "    <Child>\n      <ChildIdentifiers>\n        <LAchildID>A1</LAchildID>\n";
        assert_eq!(
            written(2025),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Message>\n  <Children>\n{child}        <Sex>F</Sex>\n      </ChildIdentifiers>\n    </Child>\n  </Children>\n</Message>\n"
            )
        );
        assert!(written(2024).contains("<GenderCurrent>F</GenderCurrent>"));
        assert!(!written(2024).contains("<Sex>"));
    }
}
