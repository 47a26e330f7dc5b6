//! The CIN census XML: each child in the year with their CIN episodes, assessments, CIN
//! plans, section 47 enquiries and child protection plans as the year sees them.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use super::iso;
use crate::domain::io::write_atomic;
use crate::synth::model::{Child, CinEpisode, History, Section47, year_end_day, year_start_day};

/// What a year's CIN census sees: the year, its first day, 31 March, and the last day it
/// sees (31 March or an in-year extract's date).
struct CinYear {
    year: i32,
    ys: i32,
    ye: i32,
    cut: i32,
}

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
    let mut bytes = 0u64;
    write_atomic(path, |w| {
        let mut out = String::with_capacity(64 * 1024);
        y.header(&mut out, &h.la_code);
        for (id, c) in children {
            let child = &h.children[c];
            out.push_str("    <Child>\n      <ChildIdentifiers>\n");
            out.push_str(&format!("        <LAchildID>{id}</LAchildID>\n"));
            y.child_identifiers(&mut out, child);
            out.push_str("      </ChildIdentifiers>\n      <ChildCharacteristics>\n");
            out.push_str(&format!(
                "        <Ethnicity>{}</Ethnicity>\n        <Disabilities>\n",
                child.ethnic
            ));
            if child.disabilities.is_empty() {
                out.push_str("          <Disability>NONE</Disability>\n");
            }
            for d in &child.disabilities {
                out.push_str(&format!("          <Disability>{d}</Disability>\n"));
            }
            out.push_str("        </Disabilities>\n      </ChildCharacteristics>\n");
            for &e in &episodes_of[&c] {
                y.cin_details(&mut out, &h.cin[e]);
            }
            out.push_str("    </Child>\n");
            if out.len() > 60 * 1024 {
                w.write_all(out.as_bytes())?;
                bytes += out.len() as u64;
                out.clear();
            }
        }
        out.push_str("  </Children>\n</Message>\n");
        bytes += out.len() as u64;
        w.write_all(out.as_bytes())
    })?;
    Ok(bytes)
}

impl CinYear {
    /// An enquiry is in the year's return while it is open: from its start to its
    /// conference (or, without one, a fortnight later).
    fn s47_in_return(&self, s: &Section47) -> bool {
        s.start <= self.cut && s.icpc.unwrap_or(s.start + 14) >= self.ys
    }

    /// The message's header (collection and source) and the opening of its children.
    fn header(&self, out: &mut String, la_code: &str) {
        let (year, ye, cut) = (self.year, self.ye, self.cut);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Message>\n  <Header>\n    <CollectionDetails>\n");
        out.push_str(&format!("      <Collection>CIN</Collection>\n      <Year>{year}</Year>\n      <ReferenceDate>{}</ReferenceDate>\n", iso(ye)));
        out.push_str(
            "    </CollectionDetails>\n    <Source>\n      <SourceLevel>L</SourceLevel>\n",
        );
        out.push_str(&format!("      <LEA>{}</LEA>\n      <SoftwareCode>cspi-synth</SoftwareCode>\n      <Release>1</Release>\n      <SerialNo>1</SerialNo>\n      <DateTime>{}T00:00:00</DateTime>\n", la_code, iso(cut)));
        out.push_str("    </Source>\n  </Header>\n  <Children>\n");
    }

    /// A child's identifiers after the LA's id: UPN, date of birth (or expected), sex or
    /// gender as the year has it, and any death.
    fn child_identifiers(&self, out: &mut String, child: &Child) {
        let (year, cut) = (self.year, self.cut);
        let born = child.dob <= cut;
        let age = (cut - child.dob) / 365;
        match (&child.upn, born && age >= 4) {
            (Some(upn), true) => out.push_str(&format!("        <UPN>{upn}</UPN>\n")),
            _ => out.push_str(&format!(
                "        <UPNunknown>{}</UPNunknown>\n",
                if !born {
                    // Not of school age (the CIN census has no code of its own for unborn).
                    "UN1"
                } else if child.uasc {
                    "UN4"
                } else {
                    "UN6"
                }
            )),
        }
        if born {
            out.push_str(&format!(
                "        <PersonBirthDate>{}</PersonBirthDate>\n",
                iso(child.dob)
            ));
        } else {
            out.push_str(&format!(
                "        <ExpectedPersonBirthDate>{}</ExpectedPersonBirthDate>\n",
                iso(child.dob)
            ));
        }
        if year >= 2025 {
            out.push_str(&format!(
                "        <Sex>{}</Sex>\n",
                // An unborn child's sex is U (rule 8750).
                if !born {
                    "U"
                } else if child.female {
                    "F"
                } else {
                    "M"
                }
            ));
        } else {
            out.push_str(&format!(
                "        <GenderCurrent>{}</GenderCurrent>\n",
                if !born {
                    "0"
                } else if child.female {
                    "2"
                } else {
                    "1"
                }
            ));
        }
        if let Some(died) = child.died.filter(|&d| d <= cut) {
            out.push_str(&format!(
                "        <PersonDeathDate>{}</PersonDeathDate>\n",
                iso(died)
            ));
        }
    }

    /// One CIN episode's details as the year sees them: the referral, closure, conference
    /// and no-further-action flag, then its assessments, CIN plans, enquiries and plans.
    fn cin_details(&self, out: &mut String, ep: &CinEpisode) {
        let (year, cut) = (self.year, self.cut);
        out.push_str("      <CINdetails>\n");
        out.push_str(&format!(
            "        <CINreferralDate>{}</CINreferralDate>\n",
            iso(ep.referral)
        ));
        out.push_str(&format!(
            "        <ReferralSource>{}</ReferralSource>\n",
            ep.source
        ));
        out.push_str(&format!(
            "        <PrimaryNeedCode>{}</PrimaryNeedCode>\n",
            ep.need
        ));
        if let Some(closure) = ep.closure.filter(|&x| x <= cut) {
            out.push_str(&format!("        <CINclosureDate>{}</CINclosureDate>\n        <ReasonForClosure>{}</ReasonForClosure>\n", iso(closure), ep.closure_reason));
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
            out.push_str(&format!(
                "        <DateOfInitialCPC>{}</DateOfInitialCPC>\n",
                iso(icpc)
            ));
        }
        out.push_str(&format!(
            "        <ReferralNFA>{}</ReferralNFA>\n",
            if year >= 2022 {
                if ep.nfa { "true" } else { "false" }
            } else if ep.nfa {
                "1"
            } else {
                "0"
            }
        ));
        self.assessments(out, ep);
        self.cin_plan_dates(out, ep);
        self.section47s(out, ep);
        self.protection_plans(out, ep);
        out.push_str("      </CINdetails>\n");
    }

    /// The episode's assessments open in the year.
    fn assessments(&self, out: &mut String, ep: &CinEpisode) {
        let (ys, cut) = (self.ys, self.cut);
        for a in &ep.assessments {
            if a.start > cut || a.authorised < ys {
                continue;
            }
            out.push_str("        <Assessments>\n");
            out.push_str(&format!(
                "          <AssessmentActualStartDate>{}</AssessmentActualStartDate>\n",
                iso(a.start)
            ));
            if a.authorised <= cut {
                out.push_str(&format!(
                    "          <AssessmentAuthorisationDate>{}</AssessmentAuthorisationDate>\n",
                    iso(a.authorised)
                ));
                out.push_str("          <FactorsIdentifiedAtAssessment>\n");
                for f in &a.factors {
                    out.push_str(&format!(
                        "            <AssessmentFactors>{f}</AssessmentFactors>\n"
                    ));
                }
                out.push_str("          </FactorsIdentifiedAtAssessment>\n");
            }
            out.push_str("        </Assessments>\n");
        }
    }

    /// The episode's CIN plans open in the year.
    fn cin_plan_dates(&self, out: &mut String, ep: &CinEpisode) {
        let (ys, cut) = (self.ys, self.cut);
        for &(start, end) in &ep.cin_plans {
            if start > cut || end.is_some_and(|e| e < ys) {
                continue;
            }
            out.push_str(&format!(
                "        <CINPlanDates>\n          <CINPlanStartDate>{}</CINPlanStartDate>\n",
                iso(start)
            ));
            if let Some(end) = end.filter(|&e| e <= cut) {
                out.push_str(&format!(
                    "          <CINPlanEndDate>{}</CINPlanEndDate>\n",
                    iso(end)
                ));
            }
            out.push_str("        </CINPlanDates>\n");
        }
    }

    /// The episode's section 47 enquiries in the year's return.
    fn section47s(&self, out: &mut String, ep: &CinEpisode) {
        let cut = self.cut;
        for s in &ep.s47 {
            if !self.s47_in_return(s) {
                continue;
            }
            out.push_str(&format!(
                "        <Section47>\n          <S47ActualStartDate>{}</S47ActualStartDate>\n",
                iso(s.start)
            ));
            out.push_str(&format!(
                "          <InitialCPCtarget>{}</InitialCPCtarget>\n",
                iso(s.icpc_target)
            ));
            if let Some(icpc) = s.icpc.filter(|&i| i <= cut) {
                out.push_str(&format!(
                    "          <DateOfInitialCPC>{}</DateOfInitialCPC>\n",
                    iso(icpc)
                ));
            }
            out.push_str(&format!(
                "          <ICPCnotRequired>{}</ICPCnotRequired>\n",
                if s.icpc_not_required { "true" } else { "false" }
            ));
            out.push_str("        </Section47>\n");
        }
    }

    /// The episode's child protection plans open in the year, with their reviews so far.
    fn protection_plans(&self, out: &mut String, ep: &CinEpisode) {
        let (ys, cut) = (self.ys, self.cut);
        for p in &ep.plans {
            if p.start > cut || p.end.is_some_and(|e| e < ys) {
                continue;
            }
            out.push_str(&format!(
                "        <ChildProtectionPlans>\n          <CPPstartDate>{}</CPPstartDate>\n",
                iso(p.start)
            ));
            if let Some(end) = p.end.filter(|&e| e <= cut) {
                out.push_str(&format!(
                    "          <CPPendDate>{}</CPPendDate>\n",
                    iso(end)
                ));
            }
            out.push_str(&format!(
                "          <InitialCategoryOfAbuse>{}</InitialCategoryOfAbuse>\n",
                p.initial_category
            ));
            out.push_str(&format!(
                "          <LatestCategoryOfAbuse>{}</LatestCategoryOfAbuse>\n",
                p.latest_category
            ));
            out.push_str(&format!(
                "          <NumberOfPreviousCPP>{}</NumberOfPreviousCPP>\n",
                p.previous
            ));
            let reviews: Vec<&i32> = p.reviews.iter().filter(|&&r| r <= cut).collect();
            if !reviews.is_empty() {
                out.push_str("          <Reviews>\n");
                for r in reviews {
                    out.push_str(&format!(
                        "            <CPPreviewDate>{}</CPPreviewDate>\n",
                        iso(*r)
                    ));
                }
                out.push_str("          </Reviews>\n");
            }
            out.push_str("        </ChildProtectionPlans>\n");
        }
    }
}
