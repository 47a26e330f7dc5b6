//! A CIN census writer for tests that need many made-up children (the hand-built fixtures
//! are in tests/fixtures; these are generated in the test itself).

use std::fmt::Write as _;

use chrono::NaiveDate;

/// One CIN episode of a made-up child.
#[derive(Debug, Clone)]
pub struct Episode {
    pub child: usize,
    pub referral: NaiveDate,
    pub closure: Option<NaiveDate>,
    /// (start, end, number of previous plans)
    pub plan: Option<(NaiveDate, Option<NaiveDate>, u32)>,
}

fn year_start(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year - 1, 4, 1).unwrap()
}

fn year_end(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 3, 31).unwrap()
}

/// The census an LA would return for `year`: episodes open at some point in the year, with
/// closures and plan ends after 31 March left out, as in a real return. Episodes must be
/// grouped by child.
pub fn census_xml(la: &str, year: i32, eps: &[Episode]) -> String {
    let (ys, ye) = (year_start(year), year_end(year));
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Message><Header><CollectionDetails>\
         <Collection>CIN</Collection><Year>{year}</Year><ReferenceDate>{ye}</ReferenceDate>\
         </CollectionDetails><Source><SourceLevel>L</SourceLevel><LEA>{la}</LEA>\
         <SoftwareCode>test</SoftwareCode></Source></Header><Children>\n"
    );
    let in_year = |e: &Episode| e.referral <= ye && e.closure.is_none_or(|c| c >= ys);
    let mut i = 0;
    while i < eps.len() {
        let child = eps[i].child;
        let mine: Vec<&Episode> = eps[i..].iter().take_while(|e| e.child == child).collect();
        i += mine.len();
        let shown: Vec<&Episode> = mine.iter().copied().filter(|e| in_year(e)).collect();
        if shown.is_empty() {
            continue;
        }
        let sex = if year >= 2025 {
            "<Sex>F</Sex>"
        } else {
            "<GenderCurrent>2</GenderCurrent>"
        };
        write!(
            x,
            "<Child><ChildIdentifiers><LAchildID>P{child}</LAchildID><UPNunknown>UN6</UPNunknown>\
             <PersonBirthDate>2015-06-01</PersonBirthDate>{sex}</ChildIdentifiers>\
             <ChildCharacteristics><Ethnicity>WBRI</Ethnicity><Disabilities><Disability>NONE\
             </Disability></Disabilities></ChildCharacteristics>"
        )
        .unwrap();
        for e in shown {
            write!(
                x,
                "<CINdetails><CINreferralDate>{}</CINreferralDate><ReferralSource>6</ReferralSource>\
                 <PrimaryNeedCode>N1</PrimaryNeedCode>",
                e.referral
            )
            .unwrap();
            if let Some(c) = e.closure.filter(|c| *c <= ye) {
                write!(
                    x,
                    "<CINclosureDate>{c}</CINclosureDate><ReasonForClosure>RC8</ReasonForClosure>"
                )
                .unwrap();
            }
            x.push_str("<ReferralNFA>false</ReferralNFA>");
            if let Some((s, end, prev)) =
                e.plan.filter(|p| p.0 <= ye && p.1.is_none_or(|d| d >= ys))
            {
                write!(x, "<ChildProtectionPlans><CPPstartDate>{s}</CPPstartDate>").unwrap();
                if let Some(end) = end.filter(|d| *d <= ye) {
                    write!(x, "<CPPendDate>{end}</CPPendDate>").unwrap();
                }
                write!(
                    x,
                    "<InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse>\
                     <LatestCategoryOfAbuse>NEG</LatestCategoryOfAbuse>\
                     <NumberOfPreviousCPP>{prev}</NumberOfPreviousCPP></ChildProtectionPlans>"
                )
                .unwrap();
            }
            x.push_str("</CINdetails>");
        }
        x.push_str("</Child>\n");
    }
    x.push_str("</Children></Message>\n");
    x
}

/// Writes the census for each year under `<dir>/<la>/<year>/cin_census.xml`.
pub fn write_returns(dir: &std::path::Path, la: &str, years: &[i32], eps: &[Episode]) {
    for &y in years {
        let folder = dir.join(la).join(y.to_string());
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("cin_census.xml"), census_xml(la, y, eps)).unwrap();
    }
}
