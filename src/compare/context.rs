//! The inspection report's "Information about this local authority area" section, drafted from
//! the returns as Ofsted prints it.
//!
//! The wording, the lines and the placement groups are a template (`data/frameworks/<id>/
//! context.yaml` and `placement_groups.csv`, one per framework version; a user may copy and edit
//! one): this module only computes the figures the template names and fills them in. Every
//! figure comes from the catalogue (the same definitions as the dashboards) at the figures' date,
//! with the comparison date beside it; rates and percentages to one decimal place, as the
//! reports print them. A figure only local records give (children's homes and their grades,
//! leadership, private fostering, …) appears as a visible `[[placeholder]]` unless the LA
//! supplies it in its local context file; previous inspections come from Ofsted's published
//! outcomes. Nothing is invented.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use serde::Deserialize;
use thiserror::Error;

use crate::derive::Facts;
use crate::domain::dates::{collection_year, to_epoch_days};
use crate::domain::framework::Framework;
use crate::domain::numbers::whole;
use crate::domain::schema::VALUES;
use crate::indicators::catalogue::Catalogue;
use crate::indicators::evaluate::{EvalError, Options, evaluate};
use crate::indicators::period::{Period, PeriodType};
use crate::ingest::inspections::Inspections;
use crate::ingest::reference::ReferenceIndex;

/// Local figures (key → text) for the placeholders, from a YAML map.
pub type LocalContext = BTreeMap<String, String>;

/// The placeholders only local records fill, with what each asks for (the inspection keys
/// replace, or stand in for, Ofsted's published outcomes).
pub const LOCAL_KEYS: &[(&str, &str)] = &[
    (
        "childrens_homes",
        "number of children's homes the LA operates",
    ),
    (
        "childrens_homes_good",
        "how many were judged good or outstanding at their last inspection",
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
        "children in privately arranged fostering at the date",
    ),
    (
        "serious_incidents",
        "serious incident notifications and serious case reviews since the last inspection",
    ),
    (
        "hmo",
        "young people who left care and live in houses of multiple occupation",
    ),
    (
        "previous_safeguarding_inspection",
        "month and year of the previous inspection of arrangements for the protection of children, and its judgement",
    ),
    (
        "previous_cla_inspection",
        "month and year of the previous inspection of services for children looked after, and its judgement",
    ),
    (
        "previous",
        "the most recent inspection of children's services and its judgements (else Ofsted's published outcomes)",
    ),
    (
        "before_previous",
        "the inspection before the most recent one (else Ofsted's published outcomes)",
    ),
    (
        "visits",
        "focused and monitoring visits since the most recent inspection (else Ofsted's published outcomes)",
    ),
];

/// What went wrong drafting the section.
#[derive(Debug, Error)]
pub enum ContextError {
    #[error(transparent)]
    Evaluate(#[from] EvalError),
    #[error("context template {file}: {message}")]
    Template { file: String, message: String },
}

/// Which 31 March the figures are compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareWith {
    /// The last 31 March whose national statistics DfE had published by the date, as the
    /// reports do (31 March 2014 → 31 March 2013; 12 May 2016 → 31 March 2015). DfE publishes
    /// a year's children-looked-after and children-in-need statistics by the end of November, so
    /// from 1 December the year just ended is the comparison.
    Published,
    /// The last 31 March before the date (12 May 2016 → 31 March 2016).
    LastMarch,
    /// A date the user chose.
    Date(NaiveDate),
}

impl CompareWith {
    pub fn parse(text: &str) -> Option<CompareWith> {
        match text.trim() {
            "published" => Some(CompareWith::Published),
            "last-31-march" | "last_31_march" => Some(CompareWith::LastMarch),
            other => NaiveDate::parse_from_str(other, "%Y-%m-%d")
                .ok()
                .map(CompareWith::Date),
        }
    }

    /// The comparison date for figures at `date`.
    pub fn date_for(self, date: NaiveDate) -> NaiveDate {
        let march = |y: i32| NaiveDate::from_ymd_opt(y, 3, 31).expect("valid date");
        match self {
            CompareWith::Date(d) => d,
            CompareWith::LastMarch => march(collection_year(date) - 1),
            CompareWith::Published => {
                let published_from =
                    NaiveDate::from_ymd_opt(date.year(), 12, 1).expect("valid date");
                if date >= published_from {
                    march(date.year())
                } else {
                    march(date.year() - 1)
                }
            }
        }
    }
}

/// One line of the template.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateLine {
    pub text: String,
    /// Said instead when a figure of `text` is not in the returns held.
    pub otherwise: Option<String>,
    /// 1: nested under the line before.
    #[serde(default)]
    pub indent: u8,
    /// `group`: the line is repeated for each placement group.
    pub for_each: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSection {
    pub heading: String,
    pub lines: Vec<TemplateLine>,
}

/// A placement group the section names, and the PLACE codes it counts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementGroup {
    pub group: String,
    pub label: String,
    pub codes: Vec<String>,
}

/// The section's template (see `data/frameworks/sif2015/context.yaml` for the placeholders).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub framework: Option<String>,
    pub title: String,
    /// Inline placement groups (else the framework's `placement_groups.csv`).
    pub groups: Option<Vec<PlacementGroup>>,
    pub sections: Vec<TemplateSection>,
}

/// The catalogue indicators behind the built-in placeholders and the placement-group lines
/// (named once here: the template's ids are read from its text).
const LOOKED_AFTER: &str = "cla_count";
const OUTSIDE_LA: &str = "cla_outside_la";
const BY_PLACE: &str = "cla_count_by_place";
const OUTSIDE_BY_PLACE: &str = "cla_outside_la_by_place";
const POPULATION: &str = "population_0_17";

/// Placeholder kinds with no indicator behind them.
const NAMED: [&str; 7] = [
    "date",
    "compare_date",
    "la_name",
    "population_mid_year",
    "population_estimate",
    "population_share",
    "outside_caveat",
];

impl Template {
    /// The shipped template of a framework version, with its placement groups.
    pub fn of(framework: Framework) -> Result<Template, ContextError> {
        let file = format!("data/frameworks/{}/context.yaml", framework.id());
        let mut t = Template::parse(&file, framework.context_template())?;
        if t.groups.is_none() {
            t.groups = Some(parse_groups(
                &format!("data/frameworks/{}/placement_groups.csv", framework.id()),
                framework.placement_groups(),
            )?);
        }
        Ok(t)
    }

    /// Reads a template; its placeholders are checked here, so a typo fails before any work.
    /// `groups` come inline or, for a shipped framework, from its table.
    pub fn parse(file: &str, text: &str) -> Result<Template, ContextError> {
        let err = |message: String| ContextError::Template {
            file: file.to_string(),
            message,
        };
        let t: Template = serde_yaml::from_str(text).map_err(|e| err(e.to_string()))?;
        for s in &t.sections {
            for l in &s.lines {
                if let Some(each) = &l.for_each
                    && each != "group"
                {
                    return Err(err(format!("for_each: `{each}` (only `group` is known)")));
                }
                for text in std::iter::once(&l.text).chain(&l.otherwise) {
                    for p in placeholders(text).map_err(&err)? {
                        check_placeholder(&p, l.for_each.is_some()).map_err(&err)?;
                    }
                }
            }
        }
        Ok(t)
    }

    /// The catalogue indicators the template names.
    fn indicator_ids(&self) -> BTreeSet<String> {
        let mut ids = BTreeSet::new();
        for l in self.sections.iter().flat_map(|s| &s.lines) {
            for text in std::iter::once(&l.text).chain(&l.otherwise) {
                for p in placeholders(text).unwrap_or_default() {
                    match p.split(':').collect::<Vec<_>>().as_slice() {
                        [id, _, _] => {
                            ids.insert(id.to_string());
                        }
                        ["change", id] => {
                            ids.insert(id.to_string());
                        }
                        ["outside_caveat"] => {
                            ids.extend([LOOKED_AFTER.into(), OUTSIDE_LA.into()]);
                        }
                        ["population_estimate" | "population_mid_year" | "population_share"] => {
                            ids.insert(POPULATION.into());
                        }
                        _ => {}
                    }
                }
            }
            if l.for_each.is_some() {
                ids.extend([BY_PLACE.into(), OUTSIDE_BY_PLACE.into()]);
            }
        }
        ids
    }
}

/// The template for a framework, or the user's file (its groups inline or the framework's).
pub fn load_template(
    framework: Framework,
    file: Option<&std::path::Path>,
) -> Result<Template, ContextError> {
    let Some(path) = file else {
        return Template::of(framework);
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ContextError::Template {
        file: shown.clone(),
        message: format!("cannot read ({e})"),
    })?;
    let mut t = Template::parse(&shown, &text)?;
    if t.groups.is_none() {
        t.groups = Template::of(framework)?.groups;
    }
    Ok(t)
}

/// Reads a placement groups table (CSV: group, label, codes separated by spaces).
pub fn parse_groups(file: &str, text: &str) -> Result<Vec<PlacementGroup>, ContextError> {
    let err = |message: String| ContextError::Template {
        file: file.to_string(),
        message,
    };
    let mut lines = crate::ingest::csv_lines::records(text).filter(|r| !r.is_blank());
    let header = lines.next().map(|r| r.fields).unwrap_or_default();
    if header != ["group", "label", "codes"] {
        return Err(err("expected the columns group,label,codes".into()));
    }
    lines
        .enumerate()
        .map(|(i, r)| match r.fields.as_slice() {
            [g, l, c] if !g.trim().is_empty() && !c.trim().is_empty() => Ok(PlacementGroup {
                group: g.trim().to_string(),
                label: l.trim().to_string(),
                codes: c.split_whitespace().map(str::to_string).collect(),
            }),
            _ => Err(err(format!("row {}: expected group,label,codes", i + 2))),
        })
        .collect()
}

/// The `{…}` placeholders of a text.
/// A template text as literal runs and `{…}` placeholders.
enum Segment<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

fn segments(text: &str) -> Result<Vec<Segment<'_>>, String> {
    let mut out = vec![];
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push(Segment::Text(&rest[..open]));
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("an unclosed {{ in «{text}»"))?;
        out.push(Segment::Placeholder(after[..close].trim()));
        rest = &after[close + 1..];
    }
    out.push(Segment::Text(rest));
    Ok(out)
}

fn placeholders(text: &str) -> Result<Vec<String>, String> {
    Ok(segments(text)?
        .into_iter()
        .filter_map(|s| match s {
            Segment::Placeholder(p) => Some(p.to_string()),
            Segment::Text(_) => None,
        })
        .collect())
}

fn check_placeholder(p: &str, in_group_line: bool) -> Result<(), String> {
    let parts: Vec<&str> = p.split(':').collect();
    let ok = match parts.as_slice() {
        [name] => NAMED.contains(name),
        ["change" | "local" | "inspection", key] => !key.is_empty(),
        ["group", part] => {
            in_group_line && ["label", "codes", "count", "outside_share", "caveat"].contains(part)
        }
        [id, period, part] => {
            !id.is_empty()
                && ["now", "before", "last12", "year"].contains(period)
                && ["count", "value", "denominator"].contains(part)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "unknown placeholder {{{p}}} (see the placeholders listed in data/frameworks/sif2015/context.yaml)"
        ))
    }
}

/// A line of the drafted section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub indent: u8,
}

/// The drafted section.
#[derive(Debug, Clone)]
pub struct Context {
    pub la_code: String,
    pub la_name: String,
    pub framework: Option<String>,
    pub title: String,
    pub date: NaiveDate,
    pub previous: NaiveDate,
    /// The population estimate the rates use.
    pub population_estimate: Option<String>,
    pub sections: Vec<(String, Vec<Line>)>,
    /// Placeholders left for local data.
    pub placeholders: Vec<String>,
}

/// What to draft.
pub struct Request<'a> {
    pub la: &'a str,
    pub date: NaiveDate,
    pub compare: CompareWith,
    pub template: &'a Template,
    pub local: &'a LocalContext,
    pub inspections: &'a Inspections,
    /// Figures already computed (a run's long table and the periods it was evaluated for):
    /// the section reads the ones it needs from here and evaluates only the rest.
    pub computed: Option<(&'a DataFrame, &'a [Period])>,
}

/// One figure: numerator, denominator, value, unit.
type Figure = (f64, Option<f64>, Option<f64>, String);

/// The figures the section needs, evaluated once and looked up by (id, period, breakdown).
struct Figures {
    by_key: HashMap<(String, PeriodType, i32, Option<String>), Figure>,
}

impl Figures {
    fn new(values: &DataFrame) -> PolarsResult<Figures> {
        VALUES.check(values)?;
        let s = |c: &str| VALUES.text(values, c);
        let f = |c: &str| VALUES.number(values, c);
        let (ids, kinds, bds, units) = (
            s("indicator_id")?,
            s("period_type")?,
            s("breakdown")?,
            s("unit")?,
        );
        let ends = VALUES.date(values, "period_end")?;
        let (num, den, val) = (f("numerator")?, f("denominator")?, f("value")?);
        let mut by_key = HashMap::new();
        for i in 0..values.height() {
            let (Some(id), Some(kind), Some(end)) = (
                ids.get(i),
                kinds.get(i).and_then(PeriodType::from_name),
                ends.get(i),
            ) else {
                continue;
            };
            by_key.insert(
                (id.to_string(), kind, end, bds.get(i).map(str::to_string)),
                (
                    num.get(i).unwrap_or(0.0),
                    den.get(i),
                    val.get(i),
                    units.get(i).unwrap_or("count").to_string(),
                ),
            );
        }
        Ok(Figures { by_key })
    }

    fn get(&self, id: &str, period: &Period, breakdown: Option<&str>) -> Option<&Figure> {
        self.by_key.get(&(
            id.to_string(),
            period.kind,
            to_epoch_days(period.end),
            breakdown.map(str::to_string),
        ))
    }
}

/// A value as its unit reads in the reports: rates and percentages to one decimal place.
fn in_unit(value: f64, unit: &str) -> String {
    match unit {
        "rate_per_10k" => format!("{value:.1}"),
        "percent" => format!("{value:.1}%"),
        "mean" => format!("{value:.1}"),
        _ => whole(value),
    }
}

/// A date as the reports print it: "31 March 2014".
pub fn long_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
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

const MISSING: &str = "[[not in the returns held]]";

/// Fills the template's placeholders for one LA at one date.
struct Filler<'a> {
    figures: Figures,
    request: &'a Request<'a>,
    index: &'a ReferenceIndex,
    periods: [Period; 4],
    previous: NaiveDate,
    la_name: String,
    placeholders: Vec<String>,
}

impl Filler<'_> {
    fn period(&self, name: &str) -> &Period {
        match name {
            "now" => &self.periods[0],
            "before" => &self.periods[1],
            "last12" => &self.periods[2],
            _ => &self.periods[3],
        }
    }

    fn year(&self) -> i32 {
        collection_year(self.request.date)
    }

    /// A local figure, or a visible placeholder saying what it asks for.
    fn local(&mut self, key: &str) -> String {
        match self.request.local.get(key) {
            Some(v) => v.clone(),
            None => {
                let what = LOCAL_KEYS.iter().find(|k| k.0 == key).map_or(key, |k| k.1);
                if !self.placeholders.iter().any(|p| p == key) {
                    self.placeholders.push(key.to_string());
                }
                format!("[[{key}: {what}]]")
            }
        }
    }

    /// One placeholder's text; None when its figure is not in the returns held.
    fn resolve(&mut self, p: &str, group: Option<&PlacementGroup>) -> Option<String> {
        let parts: Vec<&str> = p.split(':').collect();
        match parts.as_slice() {
            ["date"] => Some(long_date(self.request.date)),
            ["compare_date"] => Some(long_date(self.previous)),
            ["la_name"] => Some(self.la_name.clone()),
            ["population_mid_year"] => Some((self.year() - 1).to_string()),
            ["population_estimate"] => self.index.population_estimate(self.request.la, self.year()),
            ["population_share"] => {
                let children = self
                    .figures
                    .get(POPULATION, &Period::year(self.year()), None)
                    .map(|f| f.0);
                let total = self
                    .request
                    .local
                    .get("total_population")
                    .and_then(|t| t.replace(',', "").parse::<f64>().ok());
                match (children, total) {
                    (Some(c), Some(t)) if t > 0.0 => Some(format!("{:.1}%", 100.0 * c / t)),
                    _ => Some(self.local("total_population")),
                }
            }
            ["outside_caveat"] => {
                let now = self.periods[0];
                let looked_after = self.figures.get(LOOKED_AFTER, &now, None)?.0;
                let known = self.figures.get(OUTSIDE_LA, &now, None)?.1?;
                Some(if looked_after > known {
                    " (of those whose placement location is known)".into()
                } else {
                    String::new()
                })
            }
            ["change", id] => {
                let a = self.figures.get(id, &self.periods[0], None)?.0;
                let b = self.figures.get(id, &self.periods[1], None)?.0;
                Some(change(a, b).into())
            }
            ["local", key] => Some(self.local(key)),
            ["inspection", key] => {
                Some(match self.request.local.get(*key) {
                    Some(v) => v.clone(),
                    None => match self.request.inspections.describe(
                        self.request.la,
                        key,
                        self.request.date,
                    ) {
                        Some(text) => text,
                        None => self.local(key),
                    },
                })
            }
            ["group", part] => group.and_then(|g| self.group_part(g, part)),
            [id, period, part] => {
                let period = *self.period(period);
                let (n, d, v, unit) = self.figures.get(id, &period, None)?.clone();
                match *part {
                    "count" => Some(whole(n)),
                    "denominator" => d.map(whole),
                    _ => v.map(|v| in_unit(v, &unit)),
                }
            }
            _ => None,
        }
    }

    /// A placement group's figures: its codes' rows added up.
    fn group_part(&self, g: &PlacementGroup, part: &str) -> Option<String> {
        let now = self.periods[0];
        let sum = |id: &str| -> (f64, f64) {
            g.codes
                .iter()
                .filter_map(|c| self.figures.get(id, &now, Some(c)))
                .fold((0.0, 0.0), |acc, f| {
                    (acc.0 + f.0, acc.1 + f.1.unwrap_or(0.0))
                })
        };
        // Only a figure the evaluation made (any LA with 903 data has the total) is stated.
        self.figures.get(BY_PLACE, &now, None)?;
        let living = sum(BY_PLACE).0;
        let (outside, known) = sum(OUTSIDE_BY_PLACE);
        Some(match part {
            "label" => g.label.clone(),
            "codes" => g.codes.join(", "),
            "count" => whole(living),
            "outside_share" if known > 0.0 => format!("{:.1}%", 100.0 * outside / known),
            "outside_share" if living > 0.0 => "[[placement location not recorded]]".into(),
            "outside_share" => "none".into(),
            "caveat" if known > 0.0 && known < living => {
                format!(
                    " (of the {} whose placement location is known)",
                    whole(known)
                )
            }
            _ => String::new(),
        })
    }

    /// A line's text with every placeholder filled, and whether every figure was there.
    fn fill(&mut self, text: &str, group: Option<&PlacementGroup>) -> (String, bool) {
        // Templates are checked when read, so a text here always splits.
        let Ok(parts) = segments(text) else {
            return (text.to_string(), true);
        };
        let mut out = String::new();
        let mut complete = true;
        for part in parts {
            match part {
                Segment::Text(t) => out.push_str(t),
                Segment::Placeholder(p) => match self.resolve(p, group) {
                    Some(v) => out.push_str(&v),
                    None => {
                        complete = false;
                        out.push_str(MISSING);
                    }
                },
            }
        }
        (out, complete)
    }

    fn line(&mut self, l: &TemplateLine, group: Option<&PlacementGroup>) -> Line {
        let (text, complete) = self.fill(&l.text, group);
        let text = match (&l.otherwise, complete) {
            (Some(other), false) => self.fill(other, group).0,
            _ => text,
        };
        Line {
            text,
            indent: l.indent,
        }
    }
}

/// The figures the section needs for the LA: those `request.computed` holds, and the periods
/// it lacks evaluated here (only the template's indicators).
fn section_figures(
    catalogue: &Catalogue,
    facts: &Facts,
    request: &Request,
    periods: &[Period],
    ids: BTreeSet<String>,
) -> Result<DataFrame, ContextError> {
    let to_eval = |source| EvalError {
        id: "(context)".into(),
        source,
    };
    let (held, missing): (Vec<Period>, Vec<Period>) = periods
        .iter()
        .partition(|p| request.computed.is_some_and(|(_, run)| run.contains(p)));
    let ids: Vec<String> = ids.into_iter().collect();
    let mut parts = vec![];
    if let Some((values, _)) = request.computed.filter(|_| !held.is_empty()) {
        parts.push(values.clone().lazy().filter(col("indicator_id").is_in(
            lit(Series::new("ids".into(), ids.clone())).implode(false),
            false,
        )));
    }
    if !missing.is_empty() {
        let eval = evaluate(
            catalogue,
            facts,
            &missing,
            &Options {
                drilldown: false,
                only: ids,
            },
        )?;
        parts.push(eval.values.lazy());
    }
    Ok(concat(parts, UnionArgs::default())
        .map_err(to_eval)?
        .filter(col("la_code").eq(lit(request.la)))
        .collect()
        .map_err(to_eval)?)
}

/// Drafts the section for `request.la` at `request.date`.
pub fn context(
    catalogue: &Catalogue,
    facts: &Facts,
    index: &ReferenceIndex,
    request: &Request,
) -> Result<Context, ContextError> {
    let template = request.template;
    let date = request.date;
    let previous = request.compare.date_for(date);
    let periods = [
        Period::snapshot(date),
        Period::snapshot(previous),
        Period::rolling_12m(date),
        Period::year(collection_year(date)),
    ];
    let ids = template.indicator_ids();
    if let Some(unknown) = ids.iter().find(|id| catalogue.get(id).is_none()) {
        return Err(ContextError::Template {
            file: template.title.clone(),
            message: format!("no indicator `{unknown}` in the catalogue"),
        });
    }
    let values = section_figures(catalogue, facts, request, &periods, ids)?;
    let mut filler = Filler {
        figures: Figures::new(&values).map_err(|source| EvalError {
            id: "(context)".into(),
            source,
        })?,
        request,
        index,
        periods,
        previous,
        la_name: index
            .la(request.la)
            .map_or(request.la.to_string(), |l| l.name.clone()),
        placeholders: vec![],
    };
    let groups = template.groups.clone().unwrap_or_default();
    let mut sections = vec![];
    for s in &template.sections {
        let mut lines = vec![];
        for l in &s.lines {
            if l.for_each.is_some() {
                for g in &groups {
                    lines.push(filler.line(l, Some(g)));
                }
            } else {
                lines.push(filler.line(l, None));
            }
        }
        sections.push((s.heading.clone(), lines));
    }
    Ok(Context {
        la_code: request.la.to_string(),
        la_name: filler.la_name.clone(),
        framework: template.framework.clone(),
        title: template.title.clone(),
        date,
        previous,
        population_estimate: index.population_estimate(request.la, collection_year(date)),
        sections,
        placeholders: filler.placeholders,
    })
}

impl Context {
    fn subtitle(&self) -> String {
        format!(
            "Figures at {}, compared with {}{}.",
            long_date(self.date),
            long_date(self.previous),
            self.population_estimate
                .as_ref()
                .map_or(String::new(), |e| format!(
                    "; rates per 10,000 children use {e}"
                ))
        )
    }

    /// Markdown: headings and bullets, nested lines indented.
    pub fn markdown(&self) -> String {
        let title = format!(
            "# {}: {} ({})\n\n_Drafted by cspi from the statutory returns. {} Items in [[double brackets]] need local information._\n",
            self.title,
            self.la_name,
            self.la_code,
            self.subtitle()
        );
        self.layout(title, "## ", ["- ", "  - "])
    }

    /// Plain text for pasting into the report template.
    pub fn text(&self) -> String {
        let title = format!(
            "{}: {} ({})\n{}\n",
            self.title,
            self.la_name,
            self.la_code,
            self.subtitle()
        );
        self.layout(title, "", ["  * ", "    o "])
    }

    fn layout(&self, title: String, heading: &str, bullets: [&str; 2]) -> String {
        let mut out = title;
        for (h, lines) in &self.sections {
            out.push_str(&format!("\n{heading}{h}\n\n"));
            for l in lines {
                out.push_str(bullets[usize::from(l.indent > 0)]);
                out.push_str(&l.text);
                out.push('\n');
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_reports_compare_with_the_last_published_31_march() {
        let p = CompareWith::Published;
        assert_eq!(p.date_for(d(2014, 3, 31)), d(2013, 3, 31));
        assert_eq!(p.date_for(d(2016, 5, 12)), d(2015, 3, 31));
        assert_eq!(p.date_for(d(2016, 12, 5)), d(2016, 3, 31));
        assert_eq!(
            CompareWith::LastMarch.date_for(d(2016, 5, 12)),
            d(2016, 3, 31)
        );
        assert_eq!(
            CompareWith::LastMarch.date_for(d(2014, 3, 31)),
            d(2013, 3, 31)
        );
        assert_eq!(
            CompareWith::parse("2015-09-30"),
            Some(CompareWith::Date(d(2015, 9, 30)))
        );
    }

    #[test]
    fn numbers_print_as_the_reports_print_them() {
        assert_eq!(in_unit(43.4312, "rate_per_10k"), "43.4");
        assert_eq!(in_unit(44.8669, "percent"), "44.9%");
        assert_eq!(in_unit(1234.4, "count"), "1,234");
        assert_eq!(long_date(d(2014, 3, 31)), "31 March 2014");
    }

    #[test]
    fn every_shipped_template_reads_and_a_typo_is_refused() {
        for f in Framework::ALL {
            let t = Template::of(f).unwrap();
            assert!(!t.groups.as_ref().unwrap().is_empty());
            let secure = t
                .groups
                .as_ref()
                .unwrap()
                .iter()
                .find(|g| g.codes == ["K1"]);
            assert!(
                secure.is_some(),
                "{f}: secure units are a group of their own"
            );
        }
        let bad = "title: T\nsections:\n  - heading: H\n    lines:\n      - text: \"{cla_count:nowish:count}\"\n";
        assert!(Template::parse("x.yaml", bad).is_err());
        let bad =
            "title: T\nsections:\n  - heading: H\n    lines:\n      - text: \"{group:count}\"\n";
        assert!(
            Template::parse("x.yaml", bad).is_err(),
            "group parts only in for_each lines"
        );
    }
}
