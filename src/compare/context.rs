//! The inspection report's "Information about this local authority area" section, drafted from
//! the returns (the template is at the end of Annex A of the framework).
//!
//! Every figure comes from the catalogue (the same definitions as the dashboards) at the
//! inspection date, with the comparison date beside it; a figure only local records can give
//! (private fostering, serious incident notifications, children's homes and their grades,
//! houses of multiple occupation, leadership) appears as a visible `[[placeholder]]` unless the
//! LA supplies it in its local context file. Nothing is invented.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use polars::prelude::*;

use crate::derive::Facts;
use crate::domain::dates::{collection_year, format_dmy, to_epoch_days};
use crate::indicators::catalogue::Catalogue;
use crate::indicators::evaluate::{EvalError, Options, evaluate};
use crate::indicators::period::Period;
use crate::ingest::reference::ReferenceIndex;

/// Local figures (key → text) for the placeholders, from a YAML map.
pub type LocalContext = BTreeMap<String, String>;

/// The placeholders only local records fill, with what each asks for.
pub const LOCAL_KEYS: [(&str, &str); 12] = [
    (
        "childrens_homes",
        "number of children's homes the LA operates",
    ),
    (
        "childrens_homes_good",
        "how many were judged good or outstanding at their last inspection",
    ),
    (
        "previous_safeguarding_inspection",
        "month and year of the previous safeguarding inspection, and its judgement",
    ),
    (
        "previous_cla_inspection",
        "month and year of the previous inspection of services for children looked after, and its judgement",
    ),
    (
        "dcs_since",
        "month and year the Director of Children's Services took up post",
    ),
    (
        "lscb_chair_since",
        "month and year the LSCB (safeguarding partnership) chair took up post",
    ),
    (
        "total_population",
        "total population of the area (to give children's share of it)",
    ),
    ("children_in_poverty_pct", "% of children living in poverty"),
    (
        "minority_ethnic_pct",
        "% of children from minority ethnic groups (and England's)",
    ),
    (
        "private_fostering",
        "children in privately arranged fostering at the date and at the comparison date",
    ),
    (
        "serious_incidents",
        "serious incident notifications and serious case reviews since the last inspection",
    ),
    (
        "hmo",
        "young people who left care and live in houses of multiple occupation",
    ),
];

/// The drafted section.
#[derive(Debug, Clone)]
pub struct Context {
    pub la_code: String,
    pub la_name: String,
    pub date: NaiveDate,
    pub previous: NaiveDate,
    /// (heading, bullet lines)
    pub sections: Vec<(String, Vec<String>)>,
    /// Placeholders left for local data.
    pub placeholders: Vec<String>,
}

/// The figures the section needs, evaluated once.
struct Figures {
    values: DataFrame,
}

impl Figures {
    fn get(
        &self,
        id: &str,
        period: &Period,
        breakdown: Option<&str>,
    ) -> Option<(f64, Option<f64>, Option<f64>)> {
        let v = &self.values;
        let ids = v.column("indicator_id").ok()?.str().ok()?;
        let kinds = v.column("period_type").ok()?.str().ok()?;
        let ends = v.column("period_end").ok()?.date().ok()?.physical();
        let bds = v.column("breakdown").ok()?.str().ok()?;
        let (num, den, val) = (
            v.column("numerator").ok()?.f64().ok()?,
            v.column("denominator").ok()?.f64().ok()?,
            v.column("value").ok()?.f64().ok()?,
        );
        let end = to_epoch_days(period.end);
        (0..v.height()).find_map(|i| {
            (ids.get(i) == Some(id)
                && kinds.get(i) == Some(period.kind.name())
                && ends.get(i) == Some(end)
                && bds.get(i) == breakdown)
                .then(|| (num.get(i).unwrap_or(0.0), den.get(i), val.get(i)))
        })
    }
}

fn whole(x: f64) -> String {
    let n = x.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn change(now: f64, before: f64) -> &'static str {
    if now < before {
        "a reduction"
    } else if now > before {
        "an increase"
    } else {
        "no change"
    }
}

/// Drafts the section for `la` at `date`, comparing with the previous 31 March (or, at a
/// 31 March, the one a year earlier).
pub fn context(
    catalogue: &Catalogue,
    facts: &Facts,
    index: &ReferenceIndex,
    la: &str,
    date: NaiveDate,
    local: &LocalContext,
) -> Result<Context, EvalError> {
    let year = collection_year(date);
    let previous = NaiveDate::from_ymd_opt(year - 1, 3, 31).expect("valid date");
    let now = Period::snapshot(date);
    let before = Period::snapshot(previous);
    let last12 = Period::rolling_12m(date);
    let ids = [
        "population_0_17",
        "cin_count",
        "cpp_count",
        "cla_count",
        "cla_rate",
        "cla_outside_la",
        "cla_outside_la_by_group",
        "cla_uasc",
        "adoptions_count",
        "sgo_count",
        "cla_ceased_count",
        "cla_returned_to_care",
        "independent_living_count",
    ];
    let periods = vec![now, before, last12, Period::year(year)];
    let eval = evaluate(
        catalogue,
        facts,
        &periods,
        &Options {
            drilldown: false,
            only: ids.iter().map(|s| s.to_string()).collect(),
        },
    )?;
    let values = eval
        .values
        .lazy()
        .filter(col("la_code").eq(lit(la)))
        .collect()
        .map_err(|source| EvalError {
            id: "(context)".into(),
            source,
        })?;
    let f = Figures { values };
    let mut placeholders = vec![];
    let mut local_or_placeholder = |key: &str| -> String {
        match local.get(key) {
            Some(v) => v.clone(),
            None => {
                let what = LOCAL_KEYS.iter().find(|k| k.0 == key).map_or(key, |k| k.1);
                placeholders.push(key.to_string());
                format!("[[{key}: {what}]]")
            }
        }
    };
    let missing = "[[not in the returns held]]";
    let (d_now, d_before) = (format_dmy(date), format_dmy(previous));
    let name = index.la(la).map_or(la.to_string(), |l| l.name.clone());

    let mut sections = vec![];
    sections.push((
        "Previous Ofsted inspections".to_string(),
        vec![
            format!(
                "The local authority operates {} children's homes. {} were judged to be good or outstanding in their most recent Ofsted inspection.",
                local_or_placeholder("childrens_homes"),
                local_or_placeholder("childrens_homes_good")
            ),
            format!(
                "The previous inspection of the local authority's arrangements for the protection of children was {}.",
                local_or_placeholder("previous_safeguarding_inspection")
            ),
            format!(
                "The previous inspection of the local authority's services for children looked after was {}.",
                local_or_placeholder("previous_cla_inspection")
            ),
        ],
    ));
    sections.push((
        "Local leadership".to_string(),
        vec![
            format!(
                "The Director of Children's Services has been in post since {}.",
                local_or_placeholder("dcs_since")
            ),
            format!(
                "The chair of the LSCB has been in post since {}.",
                local_or_placeholder("lscb_chair_since")
            ),
        ],
    ));
    let population = f
        .get("population_0_17", &Period::year(year), None)
        .map(|x| x.0);
    let share = match (
        population,
        local
            .get("total_population")
            .and_then(|t| t.replace(',', "").parse::<f64>().ok()),
    ) {
        (Some(p), Some(t)) if t > 0.0 => format!("{:.0}%", 100.0 * p / t),
        _ => local_or_placeholder("total_population"),
    };
    sections.push((
        "Children living in this area".to_string(),
        vec![
            format!(
                "Approximately {} children and young people under the age of 18 years live in {name} (ONS mid-year estimate {}). This is {share} of the total population in the area.",
                population.map_or(missing.to_string(), whole),
                year - 1
            ),
            format!(
                "Approximately {} of the local authority's children are living in poverty.",
                local_or_placeholder("children_in_poverty_pct")
            ),
            format!(
                "Children and young people from minority ethnic groups account for {}.",
                local_or_placeholder("minority_ethnic_pct")
            ),
        ],
    ));
    let stock = |id: &str, what: &str| -> String {
        match (f.get(id, &now, None), f.get(id, &before, None)) {
            (Some(a), Some(b)) => format!(
                "At {d_now}, {} {what}. This is {} from {} at {d_before}.",
                whole(a.0),
                change(a.0, b.0),
                whole(b.0)
            ),
            (Some(a), None) => format!(
                "At {d_now}, {} {what}. The returns held do not cover {d_before}.",
                whole(a.0)
            ),
            _ => format!("At {d_now}, {missing} {what}."),
        }
    };
    sections.push((
        "Child protection in this area".to_string(),
        vec![
            stock(
                "cin_count",
                "children had been identified through assessment as being formally in need of a specialist children's service",
            ),
            stock(
                "cpp_count",
                "children and young people were the subject of a child protection plan",
            ),
            format!(
                "Children living in a privately arranged fostering placement: {}.",
                local_or_placeholder("private_fostering")
            ),
            format!(
                "Since the last inspection: {}.",
                local_or_placeholder("serious_incidents")
            ),
        ],
    ));
    let mut cla = vec![];
    match (
        f.get("cla_count", &now, None),
        f.get("cla_rate", &now, None),
        f.get("cla_count", &before, None),
        f.get("cla_rate", &before, None),
    ) {
        (Some(n), Some(r), Some(pn), Some(pr)) => cla.push(format!(
            "At {d_now}, {} children are being looked after by the local authority (a rate of {:.0} per 10,000 children). This is {} from {} ({:.0} per 10,000 children) at {d_before}.",
            whole(n.0),
            r.2.unwrap_or(f64::NAN),
            change(n.0, pn.0),
            whole(pn.0),
            pr.2.unwrap_or(f64::NAN)
        )),
        (Some(n), r, _, _) => cla.push(format!(
            "At {d_now}, {} children are being looked after by the local authority (a rate of {} per 10,000 children).",
            whole(n.0),
            r.and_then(|r| r.2).map_or(missing.to_string(), |r| format!("{r:.0}"))
        )),
        _ => cla.push(format!("At {d_now}, {missing} children are being looked after by the local authority.")),
    }
    if let Some((n, d, _)) = f.get("cla_outside_la", &now, None) {
        let known = d.unwrap_or(0.0);
        cla.push(format!(
            "Of this number, {} (or {:.0}%) live outside the local authority area{}.",
            whole(n),
            if known > 0.0 { 100.0 * n / known } else { 0.0 },
            if f.get("cla_count", &now, None).is_some_and(|c| c.0 > known) {
                " (of those whose placement location is known)"
            } else {
                ""
            }
        ));
    }
    let groups: HashMap<&str, &str> = [
        ("childrens_home", "live in residential children's homes"),
        ("residential_school", "live in residential special schools"),
        ("foster", "live with foster families"),
        ("with_parents", "live with parents"),
    ]
    .into_iter()
    .collect();
    for key in [
        "childrens_home",
        "residential_school",
        "foster",
        "with_parents",
    ] {
        let living = f.get("cla_count", &now, Some(key)).map_or(0.0, |x| x.0);
        let (out_of_area, known) = f
            .get("cla_outside_la_by_group", &now, Some(key))
            .map_or((0.0, 0.0), |x| (x.0, x.1.unwrap_or(0.0)));
        let share = if known > 0.0 {
            format!("{:.0}%", 100.0 * out_of_area / known)
        } else if living > 0.0 {
            "[[placement location not recorded]]".to_string()
        } else {
            "none".to_string()
        };
        let caveat = if known > 0.0 && known < living {
            format!(
                " (of the {} whose placement location is known)",
                whole(known)
            )
        } else {
            String::new()
        };
        cla.push(format!(
            "{} {}, of whom {share}{caveat} live out of the authority area.",
            whole(living),
            groups[key],
        ));
    }
    cla.push(format!(
        "{} children are unaccompanied asylum-seeking children.",
        f.get("cla_uasc", &now, None)
            .map_or(missing.to_string(), |x| whole(x.0))
    ));
    let flow = |id: &str| {
        f.get(id, &last12, None)
            .map_or(missing.to_string(), |x| whole(x.0))
    };
    let returned = f.get("cla_returned_to_care", &last12, None);
    cla.push(format!("In the 12 months to {d_now}:"));
    cla.push(format!(
        "there have been {} adoptions",
        flow("adoptions_count")
    ));
    cla.push(format!(
        "{} children became subject of special guardianship orders",
        flow("sgo_count")
    ));
    cla.push(format!(
        "{} children ceased to be looked after, of whom {} subsequently returned to be looked after (within 12 months, as far as the returns show)",
        flow("cla_ceased_count"),
        returned
            .and_then(|r| r.2)
            .map_or(missing.to_string(), |v| format!("{v:.0}%"))
    ));
    cla.push(format!(
        "{} children and young people ceased to be looked after and moved on to independent living",
        flow("independent_living_count")
    ));
    cla.push(format!(
        "{} children and young people ceased to be looked after and are now living in houses of multiple occupation",
        local_or_placeholder("hmo")
    ));
    sections.push(("Children looked after in this area".to_string(), cla));
    Ok(Context {
        la_code: la.to_string(),
        la_name: name,
        date,
        previous,
        sections,
        placeholders,
    })
}

impl Context {
    /// Markdown: headings and bullets; the lines after "In the 12 months to" nested.
    pub fn markdown(&self) -> String {
        let title = format!(
            "# Information about this local authority area: {} ({})\n\n_Drafted by cspi from the statutory returns at {}, compared with {}. Items in [[double brackets]] need local information._\n",
            self.la_name,
            self.la_code,
            format_dmy(self.date),
            format_dmy(self.previous)
        );
        self.layout(title, "## ", ["- ", "  - "])
    }

    /// Plain text for pasting into the report template.
    pub fn text(&self) -> String {
        let title = format!(
            "Information about this local authority area: {} ({})\nFigures at {}, compared with {}.\n",
            self.la_name,
            self.la_code,
            format_dmy(self.date),
            format_dmy(self.previous)
        );
        self.layout(title, "", ["  * ", "    o "])
    }

    /// The sections under `title`: each heading after `heading`, each line after the first
    /// bullet, or the second once "In the 12 months to" has introduced a nested list.
    fn layout(&self, title: String, heading: &str, bullets: [&str; 2]) -> String {
        let mut out = title;
        for (h, lines) in &self.sections {
            out.push_str(&format!("\n{heading}{h}\n\n"));
            let mut nested = false;
            for l in lines {
                out.push_str(bullets[usize::from(nested)]);
                out.push_str(l);
                out.push('\n');
                if l.starts_with("In the 12 months to") {
                    nested = true;
                }
            }
        }
        out
    }
}

/// Writes `context_<la>_<date>.md` and `.txt` into `dir`; returns the paths.
pub fn write(section: &Context, dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let stem = format!("context_{}_{}", section.la_code, section.date);
    let md = dir.join(format!("{stem}.md"));
    let txt = dir.join(format!("{stem}.txt"));
    crate::domain::io::write_bytes(&md, section.markdown().as_bytes())?;
    crate::domain::io::write_bytes(&txt, section.text().as_bytes())?;
    Ok(vec![md, txt])
}
