//! The 903 in DfE's XML layout, written from the same rows as the CSV files through the
//! layout `data/formats/ssda903.yaml` declares (see `shape.rs`): a CHILD per child in the
//! return, its HEADER holding the items of every table that shares it, the groups inside
//! HEADER and the EPISODEs beside it.

use std::collections::BTreeMap;
use std::io;

use super::shape::{Record, XmlDocument, XmlShape};
use super::{Row, Tables};
use crate::ingest::spec::FormatSpec;

/// A table's rows grouped by child, in the table's order.
type RowsByChild<'t> = BTreeMap<&'t str, Vec<&'t Row>>;

/// A table's rows grouped by child.
fn rows_by_child<'t>(tables: &'t Tables, table: &str) -> RowsByChild<'t> {
    let mut m: RowsByChild = BTreeMap::new();
    for r in tables.get(table).map(Vec::as_slice).unwrap_or(&[]) {
        if let Some(child) = r.get("child") {
            m.entry(child.as_str()).or_default().push(r);
        }
    }
    m
}

/// The 903 XML of a year's tables (only the tables that year's return has).
pub(super) fn ssda903_xml(tables: &Tables, year: i32) -> io::Result<Vec<u8>> {
    let spec = FormatSpec::ssda903();
    let shape = XmlShape::compile(spec)?;
    let by_child: Vec<RowsByChild> = spec
        .tables
        .iter()
        .map(|t| {
            if t.in_year(year) {
                rows_by_child(tables, &t.name)
            } else {
                RowsByChild::new()
            }
        })
        .collect();
    let none = Row::new();
    let mut doc = XmlDocument::begin(&shape, Vec::new(), year, &none)?;
    for header in tables.get("header").map(Vec::as_slice).unwrap_or(&[]) {
        if let Some(id) = header.get("child") {
            doc.unit(&child_record(&shape, &by_child, id)?)?;
        }
    }
    doc.finish(&none)
}

/// One child's CHILD element: in an element several tables share (HEADER) each table's first
/// row of the child; in the others one element per row, inside the element the layout nests
/// it in.
fn child_record<'t>(
    shape: &XmlShape,
    by_child: &[RowsByChild<'t>],
    id: &str,
) -> io::Result<Record<'t>> {
    let mut shared: BTreeMap<usize, Record<'t>> = BTreeMap::new();
    let mut own: Vec<Record<'t>> = vec![];
    for (t, rows) in by_child.iter().enumerate() {
        let Some(node) = shape.record_node(t) else {
            continue;
        };
        let rows = rows.get(id).map(Vec::as_slice).unwrap_or(&[]);
        if shape.is_shared(node) {
            if let Some(row) = rows.first() {
                shared
                    .entry(node)
                    .or_insert_with(|| shape.empty(node))
                    .add(t, row);
            }
        } else {
            for row in rows {
                own.push(shape.row_record(t, row)?);
            }
        }
    }
    let mut unit = shape.unit();
    for record in own {
        let parent = shape.parent_record(record.node());
        match shared.get_mut(&parent) {
            Some(holder) => holder.push(record),
            None if parent == unit.node() => unit.push(record),
            // The 903's records sit in CHILD or in HEADER; one nested in a repeated element
            // would need the rows to say which of them holds it.
            None => return Err(unplaceable()),
        }
    }
    for (node, record) in shared {
        if shape.parent_record(node) != unit.node() {
            return Err(unplaceable());
        }
        unit.push(record);
    }
    Ok(unit)
}

fn unplaceable() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "data/formats/ssda903.yaml nests a record in a repeated element: the 903 writer places records in CHILD or in an element tables share only",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::codes::CodeLists;
    use crate::ingest::xml::{XmlContext, XmlLayout, read};
    use std::sync::Arc;

    /// Text holding `&` and `<` is escaped by the writer and read back unchanged by the XML
    /// reader (the 903 UPN and an episode's URN are free text).
    #[test]
    fn text_with_markup_characters_round_trips_through_the_reader() {
        let header = Row::from([
            ("child", "C1".to_string()),
            ("sex", "1".to_string()),
            ("dob", "01/02/2015".to_string()),
            ("upn", "A&B<C>".to_string()),
            ("uasc", "0".to_string()),
        ]);
        let episode = Row::from([
            ("child", "C1".to_string()),
            ("decom", "01/05/2023".to_string()),
            ("urn", "SC<1>&amp;".to_string()),
        ]);
        let tables = Tables::from([("header", vec![header]), ("episodes", vec![episode])]);
        let bytes = ssda903_xml(&tables, 2024).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("<UPN>A&amp;B&lt;C&gt;</UPN>"), "{text}");
        let spec = FormatSpec::ssda903();
        let layout = XmlLayout::compile(spec);
        let ctx = XmlContext {
            file_label: Arc::from("ssda903.xml"),
            year: Some(2024),
            lists: CodeLists::ssda903(),
        };
        let out = read(bytes.as_slice(), spec, &layout, ctx);
        let mut read_back = BTreeMap::new();
        for builder in out.builders {
            let name = builder.spec().name.clone();
            read_back.insert(name, builder.finish("925", 2024, "ssda903.xml").unwrap());
        }
        let cell = |table: &str, column: &str| {
            read_back[table]
                .column(column)
                .unwrap()
                .str()
                .unwrap()
                .get(0)
                .map(str::to_string)
        };
        assert_eq!(cell("header", "upn").as_deref(), Some("A&B<C>"));
        assert_eq!(cell("episodes", "urn").as_deref(), Some("SC<1>&amp;"));
    }
}
