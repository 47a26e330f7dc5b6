//! Reporting periods: the DfE year, rolling 12 months to a month end, year to date, a snapshot
//! date, and the adoption scorecard's 3-year window.

use std::fmt;

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

use crate::domain::dates::{
    add_months, collection_year, collection_year_end, collection_year_start,
};

/// The kinds of reporting window.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    IntoStaticStr,
    EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PeriodType {
    /// A DfE collection year, 1 April – 31 March (the default: DfE's own figures are yearly).
    #[default]
    Year,
    /// The 12 months ending on a month end (monthly dashboards).
    #[serde(rename = "rolling_12m")]
    #[strum(serialize = "rolling_12m")]
    Rolling12m,
    /// From 1 April to a date within the same collection year.
    YearToDate,
    /// A single date, for stock measures (children looked after on a date).
    Snapshot,
    /// Three collection years ending 31 March (the adoption scorecard).
    ThreeYear,
    /// Any window (an Annex A list's 3 or 6 months before an inspection): computed for every
    /// definition that supports rolling 12 months, since both are flows over a span of dates.
    Window,
}

crate::domain::named!(PeriodType);

impl fmt::Display for PeriodType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One reporting window, inclusive at both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    pub kind: PeriodType,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Period {
    /// The DfE collection year ending 31 March `year`.
    pub fn year(year: i32) -> Period {
        Period {
            kind: PeriodType::Year,
            start: collection_year_start(year),
            end: collection_year_end(year),
        }
    }

    /// The 12 months ending on `end` (a month end): 1 July 2024 – 30 June 2025.
    pub fn rolling_12m(end: NaiveDate) -> Period {
        Period {
            kind: PeriodType::Rolling12m,
            start: add_months(end + Duration::days(1), -12),
            end,
        }
    }

    /// From 1 April of `date`'s collection year to `date`.
    pub fn year_to_date(date: NaiveDate) -> Period {
        Period {
            kind: PeriodType::YearToDate,
            start: collection_year_start(collection_year(date)),
            end: date,
        }
    }

    /// The single date `date`.
    pub fn snapshot(date: NaiveDate) -> Period {
        Period {
            kind: PeriodType::Snapshot,
            start: date,
            end: date,
        }
    }

    /// Any window from `start` to `end` inclusive.
    pub fn window(start: NaiveDate, end: NaiveDate) -> Period {
        Period {
            kind: PeriodType::Window,
            start,
            end,
        }
    }

    /// The three collection years ending 31 March `year` (2022–25 for 2025).
    pub fn three_year(year: i32) -> Period {
        Period {
            kind: PeriodType::ThreeYear,
            start: collection_year_start(year - 2),
            end: collection_year_end(year),
        }
    }

    /// The collection year the period ends in (whose population is the rate's denominator).
    pub fn collection_year(&self) -> i32 {
        collection_year(self.end)
    }

    /// The period as a chart's title says it, in words a reader takes in at a glance (the
    /// Government Analysis Function's guidance: every chart says when): "2024-25", "at 31
    /// March 2025", "12 months to June 2025", "1 April to 31 October 2025" (a year to date),
    /// "3 years to 31 March 2025", "1 June to 30 November 2025" (a window; with both years
    /// when it spans two).
    pub fn phrase(&self) -> String {
        let day = |d: NaiveDate| d.format("%-d %B %Y").to_string();
        match self.kind {
            PeriodType::Year => self.label(),
            PeriodType::Rolling12m => format!("12 months to {}", self.end.format("%B %Y")),
            PeriodType::Snapshot => format!("at {}", day(self.end)),
            PeriodType::ThreeYear => format!("3 years to {}", day(self.end)),
            PeriodType::YearToDate | PeriodType::Window => {
                let from = if self.start.year() == self.end.year() {
                    self.start.format("%-d %B").to_string()
                } else {
                    day(self.start)
                };
                format!("{from} to {}", day(self.end))
            }
        }
    }

    /// How the period is written in tables and charts: "2024-25", "12 months to 30/06/2025",
    /// "2025-26 to 31/10/2025", "31/03/2025", "2022-25".
    pub fn label(&self) -> String {
        let y = self.collection_year();
        match self.kind {
            PeriodType::Year => format!("{}-{:02}", y - 1, y % 100),
            PeriodType::Rolling12m => format!("12 months to {}", self.end.format("%d/%m/%Y")),
            PeriodType::YearToDate => format!(
                "{}-{:02} to {}",
                y - 1,
                y % 100,
                self.end.format("%d/%m/%Y")
            ),
            PeriodType::Snapshot => self.end.format("%d/%m/%Y").to_string(),
            PeriodType::ThreeYear => format!("{}-{:02}", y - 3, y % 100),
            PeriodType::Window => format!(
                "{} to {}",
                self.start.format("%d/%m/%Y"),
                self.end.format("%d/%m/%Y")
            ),
        }
    }
}

/// The last day of the month of `date`.
pub fn month_end(date: NaiveDate) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(date.year(), date.month(), 1).expect("valid date");
    add_months(first, 1) - Duration::days(1)
}

/// The `n` month ends up to and including the month end on or before `last`, oldest first.
pub fn month_ends(last: NaiveDate, n: usize) -> Vec<NaiveDate> {
    let last = if month_end(last) == last {
        last
    } else {
        month_end(add_months(last, -1))
    };
    let first_of_last = NaiveDate::from_ymd_opt(last.year(), last.month(), 1).expect("valid date");
    (0..n as i32)
        .rev()
        .map(|k| month_end(add_months(first_of_last, -k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn windows() {
        assert_eq!(Period::year(2025).start, d(2024, 4, 1));
        assert_eq!(Period::rolling_12m(d(2025, 6, 30)).start, d(2024, 7, 1));
        assert_eq!(Period::rolling_12m(d(2024, 2, 29)).start, d(2023, 3, 1));
        assert_eq!(Period::year_to_date(d(2025, 10, 31)).start, d(2025, 4, 1));
        assert_eq!(Period::three_year(2025).start, d(2022, 4, 1));
        assert_eq!(Period::year(2025).label(), "2024-25");
        assert_eq!(Period::three_year(2025).label(), "2022-25");
    }

    #[test]
    fn phrases_for_chart_titles() {
        assert_eq!(Period::year(2025).phrase(), "2024-25");
        assert_eq!(
            Period::snapshot(d(2025, 3, 31)).phrase(),
            "at 31 March 2025"
        );
        assert_eq!(
            Period::rolling_12m(d(2025, 6, 30)).phrase(),
            "12 months to June 2025"
        );
        assert_eq!(
            Period::year_to_date(d(2025, 10, 31)).phrase(),
            "1 April to 31 October 2025"
        );
        assert_eq!(
            Period::three_year(2025).phrase(),
            "3 years to 31 March 2025"
        );
        assert_eq!(
            Period::window(d(2024, 10, 1), d(2025, 3, 31)).phrase(),
            "1 October 2024 to 31 March 2025"
        );
    }

    #[test]
    fn month_end_series() {
        assert_eq!(
            month_ends(d(2025, 3, 31), 3),
            vec![d(2025, 1, 31), d(2025, 2, 28), d(2025, 3, 31)]
        );
        assert_eq!(
            month_ends(d(2025, 3, 15), 2),
            vec![d(2025, 1, 31), d(2025, 2, 28)]
        );
        assert_eq!(month_ends(d(2025, 3, 31), 24).len(), 24);
    }
}
