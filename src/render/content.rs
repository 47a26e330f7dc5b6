//! What a pack shows, worked out once from the comparison: every figure the pack holds,
//! disclosure control over them ([`protect`]: small numbers and the figures that would reveal
//! them hidden as "c"), then for each section of the pack definition each indicator's latest
//! figure as text, its reading in words and its charts (SVG), plus the section's scorecard and
//! adoption scorecard. The HTML, PDF, PNG and workbook outputs only lay this out, so they say
//! the same thing and hide the same figures.
use polars::prelude::*;

use super::charts::{self, Canvas, ChartData, NeighbourChart, RagCell, TrendChart, TrendPoint};
use super::packs::{Axis, Chart, Pack, SectionChart};
use crate::compare::stats::{Quartile, Rag, Trend};
use crate::compare::table::year_before;
use crate::compare::{Benchmarks, CompareOptions};
use crate::domain::dates::from_epoch_days;
use crate::domain::schema::{COMPARISON, VALUES};
use crate::indicators::catalogue::{Area, Catalogue, Definition, Polarity, Unit};
use crate::indicators::period::{Period, PeriodType};
use crate::ingest::reference::ReferenceIndex;

/// Everything a pack is made from.
pub struct PackInput<'a> {
    pub la: &'a str,
    pub la_name: &'a str,
    pub catalogue: &'a Catalogue,
    /// The LA's comparison table (published benchmarks).
    pub comparison: &'a DataFrame,
    /// The LA's long table of figures (with breakdowns, for composition charts).
    pub values: &'a DataFrame,
    pub benchmarks: &'a Benchmarks,
    pub index: &'a ReferenceIndex,
    pub options: &'a CompareOptions,
    /// The figures the DfE validation errors in the LA's latest returns move (the performance
    /// team's dashboard shows them; other packs never do).
    pub validation: &'a [crate::indicators::impact::Moved],
    /// The inspection framework the pack's areas are read against (their judgements).
    pub framework: crate::domain::framework::Framework,
}

/// One figure of the pack: a comparison row (the LA's figure for an indicator and period,
/// with its benchmarks), or a breakdown row (one group of a composition).
#[derive(Debug, Clone, Default)]
pub struct Figure {
    pub indicator_id: String,
    /// The group, for a breakdown row; None for the figure itself.
    pub breakdown: Option<String>,
    pub period_type: PeriodType,
    pub period_end: i32,
    pub period_start: i32,
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub sn_mean: Option<f64>,
    /// Neighbours with a published value.
    pub sn_count: Option<f64>,
    pub england: Option<f64>,
    pub region: Option<f64>,
    pub rank: Option<f64>,
    pub rank_of: Option<f64>,
    pub quartile: Option<Quartile>,
    pub rag: Option<Rag>,
    pub trend: Option<Trend>,
    pub sig_england: Option<String>,
    pub sig_sn: Option<String>,
    pub diff_sn: Option<f64>,
    pub change_previous: Option<f64>,
    pub benchmark_period: Option<String>,
    /// The LA value's 95% interval, where its unit has one.
    pub lower_95: Option<f64>,
    pub upper_95: Option<f64>,
    /// Hidden by disclosure control ("c"): the value and everything worked out from it (count,
    /// rank, quartile, RAG, trend, significance, differences) have been cleared, so no format
    /// can print what the pack hides.
    pub suppressed: bool,
    /// The change on a year before was cleared because the year before is hidden (the
    /// difference would give it back).
    pub change_hidden: bool,
}

impl Figure {
    /// Hides the figure: clears every field that states or is worked out from its value.
    fn suppress(&mut self) {
        self.suppressed = true;
        self.value = None;
        self.numerator = None;
        self.denominator = None;
        self.rank = None;
        self.rank_of = None;
        self.quartile = None;
        self.rag = None;
        self.trend = None;
        self.sig_england = None;
        self.sig_sn = None;
        self.diff_sn = None;
        self.change_previous = None;
        self.lower_95 = None;
        self.upper_95 = None;
    }
}

/// The LA's figures for an indicator and period type, oldest first.
pub fn figures(comparison: &DataFrame, id: &str, kind: &str) -> PolarsResult<Vec<Figure>> {
    comparison_rows(
        comparison,
        col("indicator_id")
            .eq(lit(id))
            .and(col("period_type").eq(lit(kind))),
    )
}

/// Comparison rows matching `filter` as figures, by period type then period end.
fn comparison_rows(comparison: &DataFrame, filter: Expr) -> PolarsResult<Vec<Figure>> {
    let rows = comparison
        .clone()
        .lazy()
        .filter(filter)
        .sort(
            ["period_type", "period_end"],
            SortMultipleOptions::default(),
        )
        .collect()?;
    let f = |c: &str| COMPARISON.number(&rows, c);
    let s = |c: &str| COMPARISON.text(&rows, c);
    let (id, kind) = (s("indicator_id")?, s("period_type")?);
    let (value, num, den, sn, sn_count) = (
        f("value")?,
        f("numerator")?,
        f("denominator")?,
        f("sn_mean")?,
        f("sn_count")?,
    );
    let (eng, reg, rank, of, diff, change) = (
        f("england_value")?,
        f("region_value")?,
        f("rank")?,
        f("rank_of")?,
        f("diff_sn")?,
        f("change_previous")?,
    );
    let (q, rag, trend, sig, sig_sn, bench) = (
        s("quartile")?,
        s("rag")?,
        s("trend")?,
        s("sig_england")?,
        s("sig_sn")?,
        s("benchmark_period")?,
    );
    let (lower, upper) = (f("la_lower_95")?, f("la_upper_95")?);
    let end = COMPARISON.date(&rows, "period_end")?;
    let start = COMPARISON.date(&rows, "period_start")?;
    let text = |c: &StringChunked, i: usize| c.get(i).map(str::to_string);
    Ok((0..rows.height())
        .map(|i| Figure {
            indicator_id: text(&id, i).unwrap_or_default(),
            breakdown: None,
            period_type: kind
                .get(i)
                .and_then(PeriodType::from_name)
                .unwrap_or_default(),
            period_end: end.get(i).unwrap_or(0),
            period_start: start.get(i).unwrap_or(0),
            value: value.get(i),
            numerator: num.get(i),
            denominator: den.get(i),
            sn_mean: sn.get(i),
            sn_count: sn_count.get(i),
            england: eng.get(i),
            region: reg.get(i),
            rank: rank.get(i),
            rank_of: of.get(i),
            quartile: q.get(i).and_then(Quartile::from_name),
            rag: rag.get(i).and_then(Rag::from_name),
            trend: trend.get(i).and_then(Trend::from_name),
            sig_england: text(&sig, i),
            sig_sn: text(&sig_sn, i),
            diff_sn: diff.get(i),
            change_previous: change.get(i),
            benchmark_period: text(&bench, i),
            lower_95: lower.get(i),
            upper_95: upper.get(i),
            suppressed: false,
            change_hidden: false,
        })
        .collect())
}

/// The breakdown rows of a figure (same indicator, LA and period), by group.
fn breakdown_rows(input: &PackInput, f: &Figure) -> PolarsResult<Vec<Figure>> {
    let rows = input
        .values
        .clone()
        .lazy()
        .filter(
            col("indicator_id")
                .eq(lit(f.indicator_id.as_str()))
                .and(col("la_code").eq(lit(input.la)))
                .and(col("period_type").eq(lit(f.period_type.name())))
                .and(col("period_end").eq(lit(from_epoch_days(f.period_end))))
                .and(col("breakdown").is_not_null()),
        )
        .sort(["breakdown"], SortMultipleOptions::default())
        .collect()?;
    let labels = VALUES.text(&rows, "breakdown")?;
    let num = |c: &str| VALUES.number(&rows, c);
    let (values, numerators, denominators) =
        (num("value")?, num("numerator")?, num("denominator")?);
    Ok((0..rows.height())
        .map(|i| Figure {
            indicator_id: f.indicator_id.clone(),
            breakdown: labels.get(i).map(str::to_string),
            period_type: f.period_type,
            period_end: f.period_end,
            period_start: f.period_start,
            value: values.get(i),
            numerator: numerators.get(i),
            denominator: denominators.get(i),
            ..Figure::default()
        })
        .collect())
}

/// The number of children (or events) a figure rests on, for suppression: the numerator of a
/// percentage, rate or count; the denominator of an average, whose numerator is a sum of days.
pub fn small_count(def: &Definition, f: &Figure) -> Option<f64> {
    match def.unit {
        Unit::MeanDays | Unit::Mean => f.denominator,
        _ => f.numerator,
    }
}

/// The DfE symbols a pack uses, with what each means (the legend every format prints).
pub const SYMBOLS: [(&str, &str); 4] = [
    (
        "c",
        "suppressed to protect children's privacy: a small number, or a figure that would let one be worked out",
    ),
    ("x", "not available"),
    ("z", "not applicable (nobody in the group)"),
    ("k", "rounds to zero, but is not zero"),
];

/// A number as DfE prints it, by the definition's unit and decimals (see
/// [`super::format_figure`]).
fn format_number(def: &Definition, v: f64) -> String {
    super::format_figure(def.unit, def.display_decimals(), v)
}

/// A published value (similar areas, England): the number, or "x" where there is none.
pub fn show_value(def: &Definition, value: Option<f64>) -> String {
    value.map_or_else(|| "x".into(), |v| format_number(def, v))
}

/// The LA's figure as the pack prints it: "c" when disclosure control hid it, "z" for a
/// percentage or average over nobody, "x" when there is no figure, else the number (true zero
/// prints as 0, so zero, hidden and missing never look alike).
pub fn show(def: &Definition, f: &Figure) -> String {
    if f.suppressed {
        return "c".into();
    }
    match f.value {
        Some(v) => format_number(def, v),
        None if f.denominator == Some(0.0)
            && matches!(def.unit, Unit::Percent | Unit::Mean | Unit::MeanDays) =>
        {
            "z".into()
        }
        None => "x".into(),
    }
}

/// The symbol a chart puts beside a figure it does not draw: "(c)", "(z)" or "(x)".
fn mark(def: &Definition, f: &Figure) -> Option<&'static str> {
    if f.value.is_some() && !f.suppressed {
        return None;
    }
    Some(match show(def, f).as_str() {
        "c" => "c",
        "z" => "z",
        _ => "x",
    })
}

/// A label with the symbol of a figure not drawn: "Foster families (c)".
fn marked(label: String, mark: Option<&str>) -> String {
    match mark {
        Some(m) => format!("{label} ({m})"),
        None => label,
    }
}

/// The reading of a figure disclosure control hid: it says why, and nothing about the value.
/// (The legend on the cover says what "c" covers.)
pub const SUPPRESSED_READING: &str = "Not shown (c), to protect children's privacy.";

/// The one-sentence reading of a figure, in words a committee reads aloud: how it stands
/// against similar areas (or England, when no neighbour has a figure) and how it has moved.
/// A movement against the standing is joined by "but" ("Worse than similar areas but
/// improving."); with nothing to compare against, the sentence says so once, after the
/// movement, rather than chaining "no comparison" with "and rising".
pub fn reading(def: &Definition, f: &Figure) -> String {
    if f.suppressed {
        return SUPPRESSED_READING.into();
    }
    let Some(value) = f.value else {
        return "No figure for this period.".into();
    };
    let standing = standing(def.polarity, value, f);
    let movement = f.trend.map(|t| match t {
        Trend::Improving => ("improving", Standing::Better),
        Trend::Worsening => ("getting worse", Standing::Worse),
        Trend::Stable => ("steady", Standing::Level),
        Trend::Rising => ("rising", Standing::Level),
        Trend::Falling => ("falling", Standing::Level),
    });
    match (standing, movement) {
        (Some((said, s)), Some((moved, m))) => {
            let against = matches!(
                (s, m),
                (Standing::Better, Standing::Worse) | (Standing::Worse, Standing::Better)
            );
            format!("{said} {} {moved}.", if against { "but" } else { "and" })
        }
        (Some((said, _)), None) => format!("{said}."),
        (None, Some((moved, _))) => {
            format!(
                "{}; no comparison with similar areas or England yet.",
                super::capitalised(moved)
            )
        }
        (None, None) => "No comparison with similar areas or England yet.".into(),
    }
}

/// Where a figure stands against its comparator, or where its movement goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Better,
    Worse,
    /// In line with the comparator; or, for a neutral indicator, any position.
    Level,
}

/// How a value stands against similar areas' mean, else England's: within 5% of it is in line
/// (about the same, for a neutral indicator, which is higher or lower, never better or worse).
fn standing(polarity: Polarity, value: f64, f: &Figure) -> Option<(String, Standing)> {
    let (comparator, whom) = match (f.sn_mean, f.england) {
        (Some(sn), _) if sn != 0.0 => (sn, "similar areas"),
        (_, Some(e)) if e != 0.0 => (e, "England"),
        _ => return None,
    };
    let rel = (value - comparator) / comparator.abs();
    let (said, s) = match polarity {
        Polarity::Neutral if rel > 0.05 => ("Higher than", Standing::Level),
        Polarity::Neutral if rel < -0.05 => ("Lower than", Standing::Level),
        Polarity::Neutral => ("About the same as", Standing::Level),
        _ => {
            let better = if polarity == Polarity::High {
                rel
            } else {
                -rel
            };
            if better > 0.05 {
                ("Better than", Standing::Better)
            } else if better < -0.05 {
                ("Worse than", Standing::Worse)
            } else {
                ("In line with", Standing::Level)
            }
        }
    };
    Some((format!("{said} {whom}"), s))
}

/// A figure's rank as printed: "3 of 11", "c" when the figure is hidden, "x" when unranked.
pub fn show_rank(f: &Figure) -> String {
    if f.suppressed {
        return "c".into();
    }
    match (f.rank, f.rank_of) {
        (Some(r), Some(n)) => format!("{r:.0} of {n:.0}"),
        _ => "x".into(),
    }
}

/// Every figure a pack holds, after [`protect`]: each indicator's comparison rows (every period
/// type the comparison has, as the workbook lists them) and the breakdown rows its composition
/// chart draws.
#[derive(Debug, Clone, Default)]
pub struct PackFigures {
    pub all: Vec<Figure>,
}

impl PackFigures {
    /// An indicator's figures of one period type (not breakdowns), oldest first.
    pub fn series(&self, id: &str, kind: PeriodType) -> Vec<&Figure> {
        self.all
            .iter()
            .filter(|f| f.indicator_id == id && f.period_type == kind && f.breakdown.is_none())
            .collect()
    }

    /// An indicator's figures of every period type (not breakdowns), by type then period.
    pub fn totals(&self, id: &str) -> Vec<&Figure> {
        self.all
            .iter()
            .filter(|f| f.indicator_id == id && f.breakdown.is_none())
            .collect()
    }

    /// The breakdown rows of a figure, by group.
    pub fn breakdown(&self, of: &Figure) -> Vec<&Figure> {
        self.all
            .iter()
            .filter(|f| {
                f.indicator_id == of.indicator_id
                    && f.breakdown.is_some()
                    && f.period_type == of.period_type
                    && f.period_end == of.period_end
            })
            .collect()
    }
}

/// Collects every figure the pack can show, before any is hidden.
fn gather(pack: &Pack, input: &PackInput) -> Result<PackFigures, super::RenderError> {
    let mut all = vec![];
    // An indicator in two sections (its area's and the National Framework's) is held once.
    let mut held = std::collections::BTreeSet::new();
    for section in &pack.sections {
        for item in &section.indicators {
            if !held.insert(item.id.as_str()) {
                continue;
            }
            let def = input
                .catalogue
                .get(&item.id)
                .ok_or_else(|| super::RenderError::Missing(item.id.clone()))?;
            let rows = comparison_rows(
                input.comparison,
                col("indicator_id").eq(lit(def.id.as_str())),
            )?;
            if item.charts.contains(&Chart::Composition)
                && let Some(latest) = rows.iter().rfind(|f| f.period_type == headline_kind(def))
            {
                let parts = breakdown_rows(input, latest)?;
                all.extend(rows);
                all.extend(parts);
            } else {
                all.extend(rows);
            }
        }
    }
    Ok(PackFigures { all })
}

/// Disclosure control over everything the pack holds, once, before any format is written (so
/// the HTML, PDF, PNG and workbook hide the same figures): primary suppression below the
/// pack's `suppress_below`, then secondary suppression over the relations between its figures
/// ([`crate::compare::disclosure`]):
///
/// - the same figure under several period types (a DfE year and the rolling 12 months to 31
///   March; a stock's year and its snapshot at 31 March), and the same children counted by two
///   indicators of the pack (a count and the rate or percentage on the same rows);
/// - a breakdown and its total (composition charts);
/// - a three-year window and its three years (flows: events dated in the period).
///
/// A hidden figure loses its value, count, rank, quartile, RAG, trend and significance; a shown
/// figure loses its change on the year before when that year is hidden.
pub fn protect(pack: &Pack, catalogue: &Catalogue, figures: &mut PackFigures) {
    use crate::compare::disclosure;
    let all = &mut figures.all;
    let defs: Vec<Option<&Definition>> =
        all.iter().map(|f| catalogue.get(&f.indicator_id)).collect();
    let mut cells = primary_cells(all, &defs, pack.suppress_below);
    let mut links = same_figure_links(all, &defs);
    let totals = total_index(all);
    links.extend(breakdown_links(all, &defs, &totals));
    links.extend(three_year_links(all, &defs, &totals));
    disclosure::protect(&mut cells, &links);
    for (f, c) in all.iter_mut().zip(&cells) {
        if c.hidden.is_some() {
            f.suppress();
        }
    }
    clear_changes_from_hidden(all);
}

/// Each figure as a disclosure cell: its size, and hidden (primary) when it rests on a small
/// number.
fn primary_cells(
    all: &[Figure],
    defs: &[Option<&Definition>],
    below: u32,
) -> Vec<crate::compare::disclosure::Cell> {
    use crate::compare::disclosure::{self, Cell, Hidden};
    all.iter()
        .zip(defs)
        .map(|(f, def)| match def {
            Some(d) => Cell {
                size: small_count(d, f).unwrap_or(0.0),
                hidden: disclosure::primary(d.unit, f.numerator, f.denominator, below)
                    .then_some(Hidden::Primary),
            },
            // Not in the catalogue: nothing can say it is safe.
            None => Cell {
                size: 0.0,
                hidden: Some(Hidden::Primary),
            },
        })
        .collect()
}

/// Links between figures that state the same thing: one figure under several period types,
/// and the same children counted by two indicators.
fn same_figure_links(
    all: &[Figure],
    defs: &[Option<&Definition>],
) -> Vec<crate::compare::disclosure::Link> {
    use crate::compare::disclosure::Link;
    use std::collections::BTreeMap;
    // A figure's identity: a stock (open at the end) depends only on the period's end.
    let identity = |d: &Definition, f: &Figure| {
        (
            f.period_end,
            d.in_period.open_at_end.is_none().then_some(f.period_start),
        )
    };
    // (indicator, breakdown, period end, period start unless a stock) → figures.
    type Identity = (String, Option<String>, i32, Option<i32>);
    let mut same: BTreeMap<Identity, Vec<usize>> = BTreeMap::new();
    let mut shared: BTreeMap<(String, i32, Option<i32>, u64), Vec<usize>> = BTreeMap::new();
    for (i, f) in all.iter().enumerate() {
        let Some(d) = defs[i] else { continue };
        let (end, start) = identity(d, f);
        same.entry((f.indicator_id.clone(), f.breakdown.clone(), end, start))
            .or_default()
            .push(i);
        // The units counted: a count's or rate's numerator, a percentage's denominator.
        let units = match d.unit {
            Unit::Count | Unit::RatePer10k if d.value.is_none() => f.numerator,
            Unit::Percent => f.denominator,
            _ => None,
        };
        if let (Some(n), None) = (units, &f.breakdown) {
            let base = format!(
                "{}|{:?}|{:?}|{:?}|{:?}|{:?}",
                d.source, d.in_period, d.where_, d.per_child, d.cohort, d.count
            );
            shared
                .entry((base, end, start, n.to_bits()))
                .or_default()
                .push(i);
        }
    }
    same.into_values()
        .chain(shared.into_values())
        .filter(|members| members.len() > 1)
        .map(Link::Same)
        .collect()
}

/// A figure's key among the totals: (indicator, period type, period end).
type TotalKey = (String, PeriodType, i32);

fn total_key(f: &Figure) -> TotalKey {
    (f.indicator_id.clone(), f.period_type, f.period_end)
}

/// Where each total (a figure that is not a breakdown) is, by its key.
fn total_index(all: &[Figure]) -> std::collections::HashMap<TotalKey, usize> {
    all.iter()
        .enumerate()
        .filter(|(_, f)| f.breakdown.is_none())
        .map(|(i, f)| (total_key(f), i))
        .collect()
}

/// Links between a total and its breakdown's groups (indicators that are not a set of
/// measures, whose groups add up to the total).
fn breakdown_links(
    all: &[Figure],
    defs: &[Option<&Definition>],
    totals: &std::collections::HashMap<TotalKey, usize>,
) -> Vec<crate::compare::disclosure::Link> {
    use crate::compare::disclosure::Link;
    let mut parts: std::collections::BTreeMap<TotalKey, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (i, f) in all.iter().enumerate() {
        if f.breakdown.is_some() && defs[i].is_some_and(|d| d.measures.is_empty()) {
            parts.entry(total_key(f)).or_default().push(i);
        }
    }
    parts
        .into_iter()
        .filter_map(|(k, parts)| totals.get(&k).map(|&total| Link::Sum { total, parts }))
        .collect()
}

/// Links between a flow's three-year window and its three years, where the pack holds all
/// three.
fn three_year_links(
    all: &[Figure],
    defs: &[Option<&Definition>],
    totals: &std::collections::HashMap<TotalKey, usize>,
) -> Vec<crate::compare::disclosure::Link> {
    use crate::compare::disclosure::Link;
    let mut links = vec![];
    for (i, f) in all.iter().enumerate() {
        let flow = defs[i].is_some_and(|d| d.in_period.event.is_some());
        if !flow || f.breakdown.is_some() || f.period_type != PeriodType::ThreeYear {
            continue;
        }
        let mut end = f.period_end;
        let mut years = vec![];
        for _ in 0..3 {
            if let Some(&y) = totals.get(&(f.indicator_id.clone(), PeriodType::Year, end)) {
                years.push(y);
            }
            end = year_before(end);
        }
        if years.len() == 3 {
            links.push(Link::Sum {
                total: i,
                parts: years,
            });
        }
    }
    links
}

/// A shown figure's change on the year before is cleared when that year is hidden (the
/// difference would give it back).
fn clear_changes_from_hidden(all: &mut [Figure]) {
    let hidden: std::collections::HashSet<(String, Option<String>, PeriodType, i32)> = all
        .iter()
        .filter(|f| f.suppressed)
        .map(|f| {
            (
                f.indicator_id.clone(),
                f.breakdown.clone(),
                f.period_type,
                f.period_end,
            )
        })
        .collect();
    for f in all.iter_mut().filter(|f| !f.suppressed) {
        let before = (
            f.indicator_id.clone(),
            f.breakdown.clone(),
            f.period_type,
            year_before(f.period_end),
        );
        if hidden.contains(&before) {
            f.change_previous = None;
            f.change_hidden = true;
        }
    }
}

/// The period a pack shows for an indicator: the latest DfE year (or 3-year window, or
/// snapshot, as the definition supports).
pub fn headline_kind(def: &Definition) -> PeriodType {
    [
        PeriodType::Year,
        PeriodType::ThreeYear,
        PeriodType::Snapshot,
    ]
    .into_iter()
    .find(|k| def.periods.contains(k))
    .unwrap_or(PeriodType::Year)
}

/// The symbol for a published figure an area lacks: DfE's own ("c", "x", "z", "k"; "low" is
/// "k"), else "x".
fn published_mark(status: Option<&str>) -> &'static str {
    match status {
        Some("c") => "c",
        Some("z") => "z",
        Some("k") | Some("low") => "k",
        _ => "x",
    }
}

/// The neighbour chart's data for the latest figure: the LA's bar only where the pack shows
/// its figure (else empty and labelled "(c)", "(x)"); neighbours without a published value
/// are labelled with DfE's symbol.
pub fn neighbour_chart(input: &PackInput, def: &Definition, f: &Figure) -> NeighbourChart {
    let kind = f.period_type;
    let bp = input.benchmarks.period_for(&def.id, kind, f.period_end);
    let neighbours = input.options.neighbours_of(input.index, input.la);
    let mut bars: Vec<(String, Option<f64>, bool)> = neighbours
        .iter()
        .map(|nb| {
            let b = bp
                .as_ref()
                .and_then(|p| input.benchmarks.get(&def.id, p, nb));
            let v = b.and_then(|b| b.value);
            let name = input.index.la(nb).map_or(nb.clone(), |l| l.name.clone());
            let symbol = v
                .is_none()
                .then(|| published_mark(b.and_then(|b| b.status.as_deref())));
            (marked(name, symbol), v, false)
        })
        .collect();
    let la = marked(input.la_name.to_string(), mark(def, f));
    bars.push((la, if f.suppressed { None } else { f.value }, true));
    bars.sort_by(|a, b| {
        let key = |x: &Option<f64>| x.unwrap_or(f64::NEG_INFINITY);
        key(&b.1).total_cmp(&key(&a.1))
    });
    NeighbourChart {
        title: def.short_title.clone(),
        period: figure_period(def, f, bp.as_ref()),
        note: charts::polarity_note(def.polarity).to_string(),
        unit: def.unit,
        decimals: def.display_decimals(),
        polarity: def.polarity,
        bars,
        interval: if f.suppressed { None } else { interval(f) },
        england: f.england,
        region: f.region,
    }
}

/// When a chart of the figure and its benchmarks is for: the figure's period (a stock —
/// children on plans, in care — is "at" the period's last day whatever the period), and the
/// benchmarks' year too when it is another ("12 months to October 2025; similar areas and
/// England 2024-25"), so a reader never takes last year's England for this month's.
fn figure_period(
    def: &Definition,
    f: &Figure,
    benchmarks: Option<&crate::compare::benchmarks::BenchPeriod>,
) -> String {
    let own = period_of(f);
    let phrase = if def.in_period.open_at_end.is_some() {
        Period::snapshot(own.end).phrase()
    } else {
        own.phrase()
    };
    match benchmarks {
        Some(b) if b.is_published_year() && b.label != own.label() => {
            format!("{phrase}; similar areas and England {}", b.label)
        }
        _ => phrase,
    }
}

/// The funnel plot's data: every LA with a published value and denominator for the latest
/// figure's benchmark year (this LA's own figure in place of its published one, unless the
/// pack hides it). None when the unit has no funnel (counts, means) or England has no value.
pub fn funnel_chart(
    input: &PackInput,
    def: &Definition,
    f: &Figure,
) -> Option<charts::FunnelChart> {
    let centre = f.england?;
    let kind = f.period_type;
    let bp = input.benchmarks.period_for(&def.id, kind, f.period_end)?;
    let mut points: Vec<(String, f64, f64, bool)> = input
        .benchmarks
        .las(&def.id, &bp)
        .iter()
        .filter(|(code, _)| code != input.la)
        .filter_map(|(code, value)| {
            let b = input.benchmarks.get(&def.id, &bp, code)?;
            let name = input
                .index
                .la(code)
                .map_or(code.clone(), |l| l.name.clone());
            Some((name, b.denominator?, (*value)?, false))
        })
        .collect();
    let mut missing = None;
    match (f.suppressed, f.value, f.denominator) {
        (false, Some(v), Some(d)) => points.push((input.la_name.to_string(), d, v, true)),
        _ => {
            missing = Some(marked(
                input.la_name.to_string(),
                mark(def, f).or(Some("x")),
            ))
        }
    }
    let max = points.iter().map(|p| p.1).fold(0.0, f64::max);
    let limits = crate::compare::table::funnel_curve(def.unit, centre, max, 60);
    if limits.is_empty() {
        return None;
    }
    Some(charts::FunnelChart {
        title: def.short_title.clone(),
        period: figure_period(def, f, Some(&bp)),
        unit: def.unit,
        polarity: def.polarity,
        points,
        centre,
        limits,
        denominator_label: match def.unit {
            Unit::RatePer10k => "children aged 0-17".into(),
            _ => "size of the group (denominator)".into(),
        },
        not_drawn: missing,
        flag: if f.suppressed {
            None
        } else {
            f.sig_england.clone()
        },
    })
}

/// A breakdown value as a reader says it: categories of abuse and types of home in words.
pub fn breakdown_label(value: &str) -> String {
    match value {
        "NEG" => "Neglect".into(),
        "EMO" => "Emotional abuse".into(),
        "PHY" => "Physical abuse".into(),
        "SAB" => "Sexual abuse".into(),
        "MUL" => "Multiple".into(),
        "childrens_home" => "Children's homes".into(),
        "residential_school" => "Residential schools".into(),
        "foster" => "Foster families".into(),
        "with_parents" => "With parents".into(),
        other => super::capitalised(&other.replace('_', " ")),
    }
}

/// The composition chart's data: the figure's breakdown rows (after [`protect`]); a group the
/// pack hides is drawn empty and labelled "(c)".
pub fn composition_chart(def: &Definition, parts: &[&Figure]) -> NeighbourChart {
    let mut bars: Vec<(String, Option<f64>, bool)> = parts
        .iter()
        .map(|f| {
            let label = breakdown_label(f.breakdown.as_deref().unwrap_or(""));
            (marked(label, mark(def, f)), f.value, true)
        })
        .collect();
    bars.sort_by(|a, b| b.1.unwrap_or(-1.0).total_cmp(&a.1.unwrap_or(-1.0)));
    NeighbourChart {
        title: def.short_title.clone(),
        period: parts
            .first()
            .map(|f| figure_period(def, f, None))
            .unwrap_or_default(),
        note: "by type".into(),
        unit: def.unit,
        decimals: def.display_decimals(),
        polarity: def.polarity,
        bars,
        interval: None,
        england: None,
        region: None,
    }
}

/// A shown figure's 95% interval (a hidden figure has none: it was cleared with its value).
fn interval(f: &Figure) -> Option<(f64, f64)> {
    Some((f.lower_95?, f.upper_95?)).filter(|_| f.value.is_some())
}

fn trend_point(def: &Definition, f: &Figure, label: String) -> TrendPoint {
    TrendPoint {
        label,
        la: f.value,
        interval: interval(f),
        mark: mark(def, f),
        sn: f.sn_mean,
        england: f.england,
    }
}

/// The trend chart's data: the last five figures of the headline period type (a hidden one
/// is a gap in the line marked "c").
pub fn trend_chart(def: &Definition, series: &[&Figure], axis: Axis) -> TrendChart {
    let last: Vec<&&Figure> = series.iter().rev().take(5).rev().collect();
    TrendChart {
        axis,
        title: def.short_title.clone(),
        subtitle: "the trend".into(),
        unit: def.unit,
        polarity: def.polarity,
        points: last
            .iter()
            .map(|f| trend_point(def, f, period_of(f).label()))
            .collect(),
    }
}

/// The LA's rolling 12-month series, month by month, against the latest published neighbours'
/// mean and England (flat lines: published figures are yearly).
pub fn rolling_chart(def: &Definition, series: &[&Figure], axis: Axis) -> TrendChart {
    TrendChart {
        axis,
        title: def.short_title.clone(),
        subtitle: "rolling 12 months, month by month".into(),
        unit: def.unit,
        polarity: def.polarity,
        points: series
            .iter()
            .map(|f| {
                let label = from_epoch_days(f.period_end).format("%b %Y").to_string();
                trend_point(def, f, label)
            })
            .collect(),
    }
}

/// A chart drawn for a pack, with the name its PNG file takes.
#[derive(Debug, Clone)]
pub struct Drawn {
    /// `<indicator or area>-<chart>`, unique within the pack.
    pub name: String,
    /// Drawn for the screen (HTML, PNG).
    pub svg: String,
    /// Drawn for half a printed page (PDF), where the chart has a print form; section charts
    /// print at full width from `svg`.
    pub print: Option<String>,
    /// The chart in words (its alt text in HTML and PDF) for a reader who cannot see it: a
    /// measure's chart says what it plots, its values and the figure's reading; a section
    /// chart lists its figures.
    pub alt: String,
}

/// One indicator as the pack shows it.
#[derive(Debug, Clone, Default)]
pub struct Item {
    pub id: String,
    pub title: String,
    /// The latest figure, if the returns gave one.
    pub latest: Option<Figure>,
    /// The value as printed ("23%", "589.8", "c").
    pub value: String,
    /// The unit after the value ("per 10,000 children"; empty for percentages).
    pub unit: String,
    /// The period in words ("2024-25").
    pub period: String,
    /// The one-sentence reading ("Better than similar areas and improving.").
    pub reading: String,
    pub sn: String,
    pub england: String,
    /// "3 of 11", "c" (hidden) or "x".
    pub rank: String,
    pub charts: Vec<Drawn>,
    /// Every period's figure as printed (the interactive page's period selector), oldest
    /// first by period type.
    pub periods: Vec<super::dashboard::Shown>,
    /// The similar areas of each neighbour model with their values, for those periods.
    pub neighbours: super::dashboard::Neighbours,
    /// The National Framework group it is shown under, in a `national_framework` section.
    pub group: Option<String>,
}

/// A measure no return holds, as DfE publishes it (the National Framework's workforce and
/// finance measures): the area's latest published figure, its similar areas' average and
/// England's, for that year. Public figures: no suppression applies.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedRow {
    pub key: String,
    /// The measure as LAIT's dictionary names it.
    pub title: String,
    /// The collection year ("2023-24"); "x" when DfE publishes no figure for the area.
    pub year: String,
    pub la: String,
    pub sn: String,
    pub england: String,
}

/// A group of a `national_framework` section (an outcome or enabler), in the framework's
/// order: its title and the measures it shows from published figures only.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupContent {
    pub title: String,
    pub published: Vec<PublishedRow>,
}

/// A section (framework area) of a pack.
#[derive(Debug, Clone)]
pub struct SectionContent {
    pub area: Area,
    pub heading: String,
    /// The framework judgement the area's figures bear on ("ILACS (2026): The experiences and
    /// progress of children in care"), when the framework names one.
    pub judgement: Option<String>,
    /// Charts about the whole section (scorecard table, adoption scorecard), shown first.
    pub charts: Vec<Drawn>,
    pub items: Vec<Item>,
    /// The National Framework's groups, for a `national_framework` section (else none).
    pub groups: Vec<GroupContent>,
}

/// Everything a pack shows, ready to lay out.
#[derive(Debug, Clone)]
pub struct Content {
    pub title: String,
    pub la_name: String,
    /// The suppression sentence for the reader, when the pack suppresses.
    pub suppression: Option<String>,
    /// The pack's statement that it suppresses below the public floor, and why (cover).
    pub override_note: Option<String>,
    /// The symbols the pack uses and what each means (printed with the suppression note).
    pub legend: Vec<(&'static str, String)>,
    /// Every figure the pack holds, after disclosure control (the workbook lists them).
    pub figures: PackFigures,
    /// The latest period shown, in words, for the cover.
    pub latest_period: Option<String>,
    pub sections: Vec<SectionContent>,
    /// "What the DfE errors move", one reading per figure (performance packs only).
    pub validation: Vec<String>,
    /// The pack's lines of enquiry, with how many children each concerns (the children are
    /// listed in a separate child-level file).
    pub enquiries: Vec<EnquiryLine>,
    /// Which population estimate the pack's rates per 10,000 divide by.
    pub population_note: Option<String>,
}

/// A line of enquiry as the pack states it.
#[derive(Debug, Clone, PartialEq)]
pub struct EnquiryLine {
    pub indicator_id: String,
    pub question: String,
    /// The indicator's title, saying what is counted.
    pub title: String,
    pub period_type: PeriodType,
    pub period_end: i32,
    pub children: super::packs::EnquiryChildren,
    /// How many (children, or records for a count of records); None when the figure is absent.
    pub count: Option<f64>,
    /// Out of how many, for a percentage.
    pub of: Option<f64>,
}

impl EnquiryLine {
    /// "50 of 311 (Care leavers aged 19-21 in suitable accommodation: those not; the year to 31
    /// March 2025)".
    pub fn reading(&self) -> String {
        let how_many = match (self.count, self.of) {
            (Some(c), Some(of)) => format!("{} of {}", c.round() as i64, of.round() as i64),
            (Some(c), None) => format!("{}", c.round() as i64),
            _ => "no figure in the returns held".into(),
        };
        let whose = match self.children {
            super::packs::EnquiryChildren::Numerator => "",
            super::packs::EnquiryChildren::OutsideNumerator => ": those not",
        };
        let date = from_epoch_days(self.period_end).format("%-d %B %Y");
        let when = match self.period_type {
            PeriodType::Snapshot => format!("at {date}"),
            PeriodType::Rolling12m => format!("the 12 months to {date}"),
            PeriodType::Year => format!("the year to {date}"),
            PeriodType::YearToDate => format!("the year to date, {date}"),
            PeriodType::ThreeYear => format!("the 3 years to {date}"),
            PeriodType::Window => format!("the window to {date}"),
        };
        format!("{how_many} ({}{whose}; {when})", self.title)
    }
}

/// Each line of enquiry's figure: the latest of its period type in the LA's long table.
fn enquiries(pack: &Pack, input: &PackInput) -> PolarsResult<Vec<EnquiryLine>> {
    let v = input.values;
    let ids = VALUES.text(v, "indicator_id")?;
    let kinds = VALUES.text(v, "period_type")?;
    let ends = VALUES.date(v, "period_end")?;
    let bds = VALUES.text(v, "breakdown")?;
    let num = VALUES.number(v, "numerator")?;
    let den = VALUES.number(v, "denominator")?;
    let mut out = vec![];
    for e in &pack.lines_of_enquiry {
        let Some(def) = input.catalogue.get(&e.id) else {
            continue;
        };
        let latest = (0..v.height())
            .filter(|&i| {
                ids.get(i) == Some(e.id.as_str())
                    && kinds.get(i) == Some(e.period.name())
                    && bds.get(i).is_none()
            })
            .max_by_key(|&i| ends.get(i));
        let (count, of, end) = match latest {
            Some(i) => {
                let (n, d) = (num.get(i), den.get(i));
                let percent = def.unit == Unit::Percent;
                let count = match e.children {
                    super::packs::EnquiryChildren::Numerator => n,
                    super::packs::EnquiryChildren::OutsideNumerator => d.zip(n).map(|(d, n)| d - n),
                };
                (
                    count,
                    if percent { d } else { None },
                    ends.get(i).unwrap_or(0),
                )
            }
            None => (None, None, 0),
        };
        out.push(EnquiryLine {
            indicator_id: e.id.clone(),
            question: e.question.clone(),
            title: def.title.clone(),
            period_type: e.period,
            period_end: end,
            children: e.children,
            count,
            of,
        });
    }
    Ok(out)
}

impl Content {
    /// Every chart in the pack, in reading order.
    pub fn charts(&self) -> impl Iterator<Item = &Drawn> {
        self.sections.iter().flat_map(|s| {
            s.charts
                .iter()
                .chain(s.items.iter().flat_map(|i| i.charts.iter()))
        })
    }
}

fn chart_name(chart: Chart) -> &'static str {
    match chart {
        Chart::Neighbours => "neighbours",
        Chart::Trend => "trend",
        Chart::Funnel => "funnel",
        Chart::Composition => "composition",
        Chart::Rolling => "rolling",
    }
}

/// The adoption scorecard chart's data: the section's indicators with thresholds, in days,
/// over three years (the scorecard's period) where the definition has it.
fn adoption_scorecard(
    input: &PackInput,
    figures: &PackFigures,
    section: &super::packs::Section,
) -> Option<charts::ThresholdChart> {
    let mut groups = vec![];
    let mut period = None;
    for item in &section.indicators {
        let Some(def) = input.catalogue.get(&item.id) else {
            continue;
        };
        if def.thresholds.is_empty() || !matches!(def.unit, Unit::MeanDays) {
            continue;
        }
        let kind = if def.periods.contains(&PeriodType::ThreeYear) {
            PeriodType::ThreeYear
        } else {
            PeriodType::Year
        };
        let series = figures.series(&def.id, kind);
        let Some(f) = series.last() else { continue };
        let end = from_epoch_days(f.period_end);
        period.get_or_insert_with(|| {
            let years = if kind == PeriodType::ThreeYear {
                "3 years"
            } else {
                "the year"
            };
            format!("{years} to {}", end.format("%-d %B %Y"))
        });
        use chrono::Datelike;
        let label = def
            .chart_label
            .clone()
            .unwrap_or_else(|| def.short_title.clone());
        groups.push(charts::ThresholdGroup {
            label: marked(label, mark(def, f)),
            la: f.value,
            sn: f.sn_mean,
            england: f.england,
            threshold: def
                .threshold(end.year())
                .map(|t| (t.value, t.label.clone().unwrap_or_default())),
        });
    }
    period.map(|period| charts::ThresholdChart {
        title: "How long children wait to be adopted".into(),
        period,
        unit: Unit::MeanDays,
        groups,
    })
}

/// Works out what the pack shows: every figure it holds ([`gather`]), disclosure control over
/// them ([`protect`]), then figures as text, readings and every chart drawn from what is left.
pub fn build(pack: &Pack, input: &PackInput) -> Result<Content, super::RenderError> {
    VALUES.check(input.values)?;
    COMPARISON.check(input.comparison)?;
    let mut figures = gather(pack, input)?;
    protect(pack, input.catalogue, &mut figures);
    let mut sections = vec![];
    for section in &pack.sections {
        sections.push(section_content(input, &figures, section)?);
    }
    let suppresses = pack.suppress_below > 1;
    Ok(Content {
        title: pack.title.clone(),
        la_name: input.la_name.to_string(),
        suppression: suppresses.then(|| {
            format!(
                "Numbers from 1 to {} are shown as “c” to protect children's privacy, and so \
                 are the figures worked out from them and any figure that would let a hidden one \
                 be worked out (such as the last group of a total).",
                pack.suppress_below - 1
            )
        }),
        override_note: pack.override_note(),
        legend: SYMBOLS
            .iter()
            .filter(|(s, _)| suppresses || *s != "c")
            .map(|(s, m)| (*s, m.to_string()))
            .collect(),
        latest_period: latest_period(&sections),
        sections,
        figures,
        validation: validation_lines(pack, input.validation),
        enquiries: enquiries(pack, input)?,
        population_note: population_note(pack, input)?,
    })
}

/// The latest period any measure shows, in words, for the cover (the first measure's where
/// several end on the same day).
fn latest_period(sections: &[SectionContent]) -> Option<String> {
    let mut latest: Option<(i32, &str)> = None;
    for item in sections.iter().flat_map(|s| &s.items) {
        if let Some(f) = &item.latest
            && latest.is_none_or(|l| f.period_end > l.0)
        {
            latest = Some((f.period_end, &item.period));
        }
    }
    latest.map(|l| l.1.to_string())
}

/// One section of the pack: its measures, then the section charts drawn from them (the
/// scorecard reads the measures as shown) and the judgement its area bears on.
fn section_content(
    input: &PackInput,
    figures: &PackFigures,
    section: &super::packs::Section,
) -> Result<SectionContent, super::RenderError> {
    let heading = section
        .title
        .clone()
        .unwrap_or_else(|| section.area.title().to_string());
    let mut items = vec![];
    let mut rows = vec![];
    for item in &section.indicators {
        let def = input
            .catalogue
            .get(&item.id)
            .ok_or_else(|| super::RenderError::Missing(item.id.clone()))?;
        let shown = show_item(input, figures, item, def)?;
        rows.push(scorecard_row(def, &shown));
        items.push(shown);
    }
    // Its rows are each indicator's latest figure: the title says how recent they are.
    let latest = items
        .iter()
        .filter_map(|i| i.latest.as_ref())
        .map(|f| f.period_end)
        .max();
    let scorecard = match latest {
        Some(end) => format!(
            "{heading}: at a glance, latest figures to {}",
            from_epoch_days(end).format("%-d %B %Y")
        ),
        None => format!("{heading}: at a glance"),
    };
    let drawn = section_charts(input, figures, section, &scorecard, &rows)?;
    let framework = input.framework;
    let judgement = framework.judgement_of(section.area.id()).map(|j| {
        format!(
            "Inspection judgement, {}: {}",
            framework.definition().name,
            j.title
        )
    });
    Ok(SectionContent {
        area: section.area,
        heading,
        judgement,
        charts: drawn,
        items,
        groups: framework_groups(input, section.area),
    })
}

/// A `national_framework` section's groups with their published-only measures.
fn framework_groups(input: &PackInput, area: Area) -> Vec<GroupContent> {
    if area != Area::NationalFramework {
        return vec![];
    }
    crate::domain::national_framework::NationalFramework::embedded()
        .groups
        .iter()
        .map(|g| GroupContent {
            title: g.title.clone(),
            published: g
                .published
                .iter()
                .map(|k| published_row(input, k))
                .collect(),
        })
        .collect()
}

/// A LAIT measure's latest published figure for the pack's area, with its similar areas'
/// average (the comparison's neighbour list and mean) and England's for the same year.
fn published_row(input: &PackInput, key: &str) -> PublishedRow {
    let measure = format!("lait:{key}");
    let value = |code: &str, year: i32| {
        input
            .index
            .published(&measure, code, year)
            .and_then(|p| p.value)
    };
    let title = crate::indicators::coverage::title(key).unwrap_or_else(|| key.to_string());
    let Some(year) = (2010..=2035).rev().find(|y| value(input.la, *y).is_some()) else {
        return PublishedRow {
            key: key.into(),
            title,
            year: "x".into(),
            la: "x".into(),
            sn: "x".into(),
            england: "x".into(),
        };
    };
    let neighbours: Vec<f64> = input
        .options
        .neighbours_of(input.index, input.la)
        .iter()
        .filter_map(|n| value(n, year))
        .collect();
    // Percentages with their sign (sources.yaml gives each published measure's unit).
    let percent = crate::ingest::reference::sources()
        .ok()
        .and_then(|all| all.into_iter().find(|m| m.id == measure))
        .is_some_and(|m| m.unit == "percent");
    let unit = if percent { Unit::Percent } else { Unit::Count };
    let show = |v: Option<f64>| v.map_or("x".to_string(), |v| super::format_figure(unit, 1, v));
    PublishedRow {
        key: key.into(),
        title,
        year: format!("{}-{:02}", year - 1, year % 100),
        la: show(value(input.la, year)),
        sn: show(crate::compare::table::mean(&neighbours)),
        england: show(value(crate::compare::table::ENGLAND, year)),
    }
}

/// The period a figure is for.
pub(super) fn period_of(f: &Figure) -> Period {
    Period {
        kind: f.period_type,
        start: from_epoch_days(f.period_start),
        end: from_epoch_days(f.period_end),
    }
}

/// An indicator as the pack shows it: its latest headline figure as text, its reading and its
/// charts; "x" throughout when the returns held no figure.
fn show_item(
    input: &PackInput,
    figures: &PackFigures,
    item: &super::packs::PackIndicator,
    def: &Definition,
) -> Result<Item, super::RenderError> {
    let series = figures.series(&def.id, headline_kind(def));
    let mut shown = Item {
        id: def.id.clone(),
        title: def.short_title.clone(),
        latest: series.last().map(|f| (*f).clone()),
        value: "x".into(),
        unit: String::new(),
        period: String::new(),
        reading: "No figure in the returns held.".into(),
        sn: "x".into(),
        england: "x".into(),
        rank: "x".into(),
        charts: vec![],
        periods: vec![],
        neighbours: Default::default(),
        group: item.group.clone(),
    };
    shown.periods = figures
        .totals(&def.id)
        .into_iter()
        .filter(|f| f.period_type != PeriodType::Window)
        .map(|f| super::dashboard::shown(input, def, f))
        .collect();
    shown.neighbours = super::dashboard::neighbours(input, def, &shown.periods);
    if let Some(latest) = series.last() {
        let text = super::dashboard::shown(input, def, latest);
        shown.value = text.value;
        shown.unit = text.unit;
        shown.period = period_of(latest).label();
        shown.reading = text.reading;
        shown.sn = text.sn;
        shown.england = text.england;
        shown.rank = text.rank;
        shown.charts = item_charts(input, figures, def, item, &series)?;
    }
    Ok(shown)
}

/// The charts the pack asks for an indicator, drawn for screen and print from its headline
/// `series` (latest last); a chart with nothing to draw (no rolling figures, no funnel) is
/// left out.
fn item_charts(
    input: &PackInput,
    figures: &PackFigures,
    def: &Definition,
    item: &super::packs::PackIndicator,
    series: &[&Figure],
) -> Result<Vec<Drawn>, super::RenderError> {
    let asked = &item.charts;
    let Some(latest) = series.last() else {
        return Ok(vec![]);
    };
    let mut drawn = vec![];
    for chart in asked {
        let data = match chart {
            Chart::Neighbours => ChartData::Bars(neighbour_chart(input, def, latest)),
            Chart::Trend => ChartData::Trend(trend_chart(def, series, item.axis)),
            Chart::Rolling => {
                let months = figures.series(&def.id, PeriodType::Rolling12m);
                if months.is_empty() {
                    continue;
                }
                ChartData::Trend(rolling_chart(def, &months, item.axis))
            }
            Chart::Composition => {
                ChartData::Bars(composition_chart(def, &figures.breakdown(latest)))
            }
            Chart::Funnel => match funnel_chart(input, def, latest) {
                Some(c) => ChartData::Funnel(c),
                None => continue,
            },
        };
        drawn.push(Drawn {
            name: format!("{}-{}", def.id, chart_name(*chart)),
            svg: data.svg(None)?,
            print: Some(data.svg(Some(Canvas::PRINT))?),
            alt: format!("{} {}", data.describe(), reading(def, latest)),
        });
    }
    Ok(drawn)
}

/// The indicator's scorecard row, from the text the pack shows for it.
fn scorecard_row(def: &Definition, shown: &Item) -> charts::ScorecardRow {
    let latest = shown.latest.as_ref();
    let hidden = latest.is_some_and(|f| f.suppressed);
    let or_symbol = |v: Option<String>| v.unwrap_or_else(|| if hidden { "c" } else { "x" }.into());
    charts::ScorecardRow {
        indicator: def.short_title.clone(),
        value: shown.value.clone(),
        sn: shown.sn.clone(),
        england: shown.england.clone(),
        rank: shown.rank.clone(),
        quartile: or_symbol(
            latest
                .and_then(|f| f.quartile)
                .map(|q| q.name().to_string()),
        ),
        rag: match latest.and_then(|f| f.rag) {
            Some(r) => RagCell::Rated(r),
            None if hidden => RagCell::Hidden,
            None if def.polarity == Polarity::Neutral => RagCell::NotApplicable,
            None => RagCell::NotAvailable,
        },
        trend: if hidden {
            "c".into()
        } else {
            charts::trend_arrow(latest.and_then(|f| f.trend), def.polarity)
        },
    }
}

/// The section charts the pack asks for: the scorecard of its `rows` (titled `scorecard`), and the adoption
/// scorecard where the section has figures for it.
fn section_charts(
    input: &PackInput,
    figures: &PackFigures,
    section: &super::packs::Section,
    scorecard: &str,
    rows: &[charts::ScorecardRow],
) -> Result<Vec<Drawn>, super::RenderError> {
    let area = section.area.id();
    let mut drawn = vec![];
    for chart in &section.charts {
        match chart {
            SectionChart::Scorecard => {
                let card = charts::Scorecard {
                    title: scorecard.to_string(),
                    rows: rows.to_vec(),
                };
                drawn.push(Drawn {
                    name: format!("{area}-scorecard"),
                    print: None,
                    svg: charts::scorecard_svg(&card)?,
                    alt: charts::scorecard_alt(&card),
                });
            }
            SectionChart::AdoptionScorecard => {
                if let Some(c) = adoption_scorecard(input, figures, section) {
                    drawn.push(Drawn {
                        name: format!("{area}-adoption-scorecard"),
                        print: None,
                        svg: charts::thresholds_svg(&c)?,
                        alt: charts::thresholds_alt(&c),
                    });
                }
            }
        }
    }
    Ok(drawn)
}

/// "Rates per 10,000 children use …": the estimates behind the pack's rates (the shipped ONS
/// series or the LA's own), so a reader can tell which population a rate is over.
fn population_note(pack: &Pack, input: &PackInput) -> PolarsResult<Option<String>> {
    let rates: Vec<String> = pack
        .sections
        .iter()
        .flat_map(|s| &s.indicators)
        .filter(|i| {
            input
                .catalogue
                .get(&i.id)
                .is_some_and(|d| d.unit == Unit::RatePer10k)
        })
        .map(|i| i.id.clone())
        .collect();
    let estimates = VALUES.text(input.values, "population_estimate")?;
    let ids = VALUES.text(input.values, "indicator_id")?;
    let mut used: Vec<String> = estimates
        .iter()
        .zip(ids.iter())
        .filter_map(|(e, id)| {
            let e = e?.to_string();
            rates.iter().any(|r| Some(r.as_str()) == id).then_some(e)
        })
        .collect();
    used.sort();
    used.dedup();
    // One label per mid-year: keep the distinct series, not every year's.
    let mut series: Vec<String> = used
        .iter()
        .map(|e| {
            e.rsplit_once(", mid-")
                .map_or(e.clone(), |(s, _)| s.to_string())
        })
        .collect();
    series.sort();
    series.dedup();
    Ok((!series.is_empty()).then(|| {
        format!(
            "Rates per 10,000 children use {} (the mid-year before each 31 March).",
            series.join("; ")
        )
    }))
}

/// The readings of the figures the DfE errors move, for a performance team's pack only (they
/// count flagged children, so no public pack or inspectors' pack carries them): per rule, its
/// largest few moves.
fn validation_lines(pack: &Pack, moved: &[crate::indicators::impact::Moved]) -> Vec<String> {
    const PER_RULE: usize = 3;
    if pack.audience != super::packs::Audience::Performance {
        return vec![];
    }
    let mut shown: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    moved
        .iter()
        .filter(|m| m.breakdown.is_none())
        .filter(|m| {
            let n = shown.entry(m.rule.as_str()).or_default();
            *n += 1;
            *n <= PER_RULE
        })
        .map(super::validation::moved_reading)
        .collect()
}
