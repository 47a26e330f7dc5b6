//! The CIN census XML: each child in the year with their CIN episodes, assessments, CIN
//! plans, section 47 enquiries and child protection plans as the year sees them, as rows of
//! the tables `data/formats/cin.yaml` declares, written through that layout (`shape.rs`).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use super::shape::{Record, XmlDocument, XmlShape};
use super::{Row, iso};
use crate::domain::io::write_atomic;
use crate::ingest::spec::FormatSpec;
use crate::synth::model::{Child, CinEpisode, History, Section47, year_end_day, year_start_day};

/// What a year's CIN census sees: the year, its first day, 31 March, and the last day it
/// sees (31 March or an in-year extract's date).
struct CinYear {
    year: i32,
    ys: i32,
    ye: i32,
    cut: i32,
}

/// How much is written at a time while streaming the children.
const CHUNK: usize = 60 * 1024;

/// Writes a year's CIN census XML, streaming child by child. Returns bytes written.
pub fn write_cin(path: &Path, h: &History, year: i32, as_at: Option<i32>) -> io::Result<u64> {
    let ys = year_start_day(year);
    let ye = year_end_day(year);
    let cut = as_at.map_or(ye, |a| a.min(ye));
    let y = CinYear { year, ys, ye, cut };
    let mut episodes_of: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, ep) in h.cin.iter().enumerate() {
        if ep.referral <= cut && ep.closure.is_none_or(|c| c >= ys) {
            episodes_of.entry(ep.child).or_default().push(i);
        }
    }
    let mut children: Vec<(&str, usize)> = episodes_of
        .keys()
        .map(|&c| (h.children[c].id.as_str(), c))
        .collect();
    children.sort();
    let shape = XmlShape::compile(FormatSpec::cin())?;
    let header = y.header(&h.la_code);
    let mut bytes = 0u64;
    write_atomic(path, |w| {
        let buffer = Vec::with_capacity(CHUNK + 4096);
        let mut doc = XmlDocument::begin(&shape, buffer, year, &header)?;
        for (id, c) in children {
            let episodes = episodes_of.get(&c).map(Vec::as_slice).unwrap_or(&[]);
            let child = y.child(
                &shape,
                id,
                &h.children[c],
                episodes.iter().map(|&e| &h.cin[e]),
            )?;
            doc.unit(&child)?;
            let written = doc.written();
            if written.len() > CHUNK {
                w.write_all(written)?;
                bytes += written.len() as u64;
                written.clear();
            }
        }
        let rest = doc.finish(&header)?;
        bytes += rest.len() as u64;
        w.write_all(&rest)
    })?;
    Ok(bytes)
}

impl CinYear {
    /// An enquiry is in the year's return while it is open: from its start to its
    /// conference (or, without one, a fortnight later).
    fn s47_in_return(&self, s: &Section47) -> bool {
        s.start <= self.cut && s.icpc.unwrap_or(s.start + 14) >= self.ys
    }

    /// The message header's values (collection and source), by file value name.
    fn header(&self, la_code: &str) -> Row {
        Row::from([
            ("collection", "CIN".to_string()),
            ("collection_year", self.year.to_string()),
            ("reference_date", iso(self.ye)),
            ("source_level", "L".to_string()),
            ("la_code", la_code.to_string()),
            ("software_code", "cspi-synth".to_string()),
            ("release", "1".to_string()),
            ("serial_no", "1".to_string()),
            ("date_time", format!("{}T00:00:00", iso(self.cut))),
        ])
    }

    /// A child's element: their identifiers and characteristics, disabilities (NONE for a
    /// child with none) and the CIN episodes in the year.
    fn child<'e>(
        &self,
        shape: &XmlShape,
        id: &str,
        child: &Child,
        episodes: impl Iterator<Item = &'e CinEpisode>,
    ) -> io::Result<Record<'static>> {
        let mut record = shape.record("cin_child", self.child_row(id, child))?;
        let none = ["NONE"];
        let disabilities = if child.disabilities.is_empty() {
            &none[..]
        } else {
            &child.disabilities[..]
        };
        for d in disabilities {
            record
                .push(shape.record("cin_disability", Row::from([("disability", d.to_string())]))?);
        }
        for ep in episodes {
            record.push(self.cin_details(shape, ep)?);
        }
        Ok(record)
    }

    /// A child's identifiers: the LA's id, UPN (or why there is none), date of birth (or
    /// expected), sex or gender as the year has it, any death; and ethnicity.
    fn child_row(&self, id: &str, child: &Child) -> Row {
        let (year, cut) = (self.year, self.cut);
        let born = child.dob <= cut;
        let age = (cut - child.dob) / 365;
        let mut row = Row::from([
            ("child", id.to_string()),
            ("ethnicity", child.ethnic.to_string()),
        ]);
        match (&child.upn, born && age >= 4) {
            (Some(upn), true) => row.insert("upn", upn.clone()),
            // Not of school age (the CIN census has no code of its own for unborn).
            _ if !born => row.insert("upn_unknown", "UN1".to_string()),
            _ if child.uasc => row.insert("upn_unknown", "UN4".to_string()),
            _ => row.insert("upn_unknown", "UN6".to_string()),
        };
        let birth = if born {
            "birth_date"
        } else {
            "expected_birth_date"
        };
        row.insert(birth, iso(child.dob));
        // Sex from 2024/25 (M/F, an unborn child U: rule 8750), gender before (1/2, unborn 0);
        // the spec says which element each year writes.
        let sex = match (year >= 2025, born, child.female) {
            (true, false, _) => "U",
            (true, true, true) => "F",
            (true, true, false) => "M",
            (false, false, _) => "0",
            (false, true, true) => "2",
            (false, true, false) => "1",
        };
        row.insert("sex", sex.to_string());
        if let Some(died) = child.died.filter(|&d| d <= cut) {
            row.insert("death_date", iso(died));
        }
        row
    }

    /// One CIN episode's details as the year sees them: the referral, closure, conference
    /// and no-further-action flag, then its assessments, CIN plans, enquiries and plans.
    fn cin_details(&self, shape: &XmlShape, ep: &CinEpisode) -> io::Result<Record<'static>> {
        let (year, cut) = (self.year, self.cut);
        let mut row = Row::from([
            ("referral_date", iso(ep.referral)),
            ("referral_source", ep.source.to_string()),
            ("primary_need", ep.need.to_string()),
        ]);
        if let Some(closure) = ep.closure.filter(|&x| x <= cut) {
            row.insert("closure_date", iso(closure));
            row.insert("reason_for_closure", ep.closure_reason.to_string());
        }
        // The conference is recorded once (rule 2884): on its Section 47 module when that
        // is in the return, else at the episode's level.
        if let Some(icpc) = ep
            .s47
            .iter()
            .filter(|s| !self.s47_in_return(s))
            .filter_map(|s| s.icpc)
            .find(|&i| i <= cut)
        {
            row.insert("date_of_initial_cpc", iso(icpc));
        }
        let nfa = match (year >= 2022, ep.nfa) {
            (true, true) => "true",
            (true, false) => "false",
            (false, true) => "1",
            (false, false) => "0",
        };
        row.insert("referral_nfa", nfa.to_string());
        let mut record = shape.record("cin_episode", row)?;
        for (table, rows) in [
            ("cin_assessment", self.assessments(ep)),
            ("cin_plan", self.cin_plan_dates(ep)),
            ("cin_s47", self.section47s(ep)),
        ] {
            for row in rows {
                record.push(shape.record(table, row)?);
            }
        }
        for plan in self.protection_plans(shape, ep)? {
            record.push(plan);
        }
        Ok(record)
    }

    /// The episode's assessments open in the year, with the factors of those authorised.
    fn assessments(&self, ep: &CinEpisode) -> Vec<Row> {
        let (ys, cut) = (self.ys, self.cut);
        let mut rows = vec![];
        for a in &ep.assessments {
            if a.start > cut || a.authorised < ys {
                continue;
            }
            let mut row = Row::from([("assessment_start", iso(a.start))]);
            if a.authorised <= cut {
                row.insert("authorisation_date", iso(a.authorised));
                row.insert("factors", a.factors.join(","));
            }
            rows.push(row);
        }
        rows
    }

    /// The episode's CIN plans open in the year.
    fn cin_plan_dates(&self, ep: &CinEpisode) -> Vec<Row> {
        let (ys, cut) = (self.ys, self.cut);
        let mut rows = vec![];
        for &(start, end) in &ep.cin_plans {
            if start > cut || end.is_some_and(|e| e < ys) {
                continue;
            }
            let mut row = Row::from([("plan_start", iso(start))]);
            if let Some(end) = end.filter(|&e| e <= cut) {
                row.insert("plan_end", iso(end));
            }
            rows.push(row);
        }
        rows
    }

    /// The episode's section 47 enquiries in the year's return.
    fn section47s(&self, ep: &CinEpisode) -> Vec<Row> {
        let cut = self.cut;
        let mut rows = vec![];
        for s in ep.s47.iter().filter(|s| self.s47_in_return(s)) {
            let mut row = Row::from([
                ("s47_start", iso(s.start)),
                ("icpc_target", iso(s.icpc_target)),
                (
                    "icpc_not_required",
                    if s.icpc_not_required { "true" } else { "false" }.to_string(),
                ),
            ]);
            if let Some(icpc) = s.icpc.filter(|&i| i <= cut) {
                row.insert("icpc_date", iso(icpc));
            }
            rows.push(row);
        }
        rows
    }

    /// The episode's child protection plans open in the year, with their reviews so far.
    fn protection_plans(
        &self,
        shape: &XmlShape,
        ep: &CinEpisode,
    ) -> io::Result<Vec<Record<'static>>> {
        let (ys, cut) = (self.ys, self.cut);
        let mut plans = vec![];
        for p in &ep.plans {
            if p.start > cut || p.end.is_some_and(|e| e < ys) {
                continue;
            }
            let mut row = Row::from([
                ("cpp_start", iso(p.start)),
                ("initial_category", p.initial_category.to_string()),
                ("latest_category", p.latest_category.to_string()),
                ("previous_cpp_count", p.previous.to_string()),
            ]);
            if let Some(end) = p.end.filter(|&e| e <= cut) {
                row.insert("cpp_end", iso(end));
            }
            let mut plan = shape.record("cin_cpp", row)?;
            for &r in p.reviews.iter().filter(|&&r| r <= cut) {
                let review = Row::from([("review_date", iso(r))]);
                plan.push(shape.record("cin_cpp_review", review)?);
            }
            plans.push(plan);
        }
        Ok(plans)
    }
}
