//! The England and Wales working-day calendar that every DfE timescale is measured in.
//!
//! Statutory timescales (an ICPC within 15 working days of the strategy discussion, an
//! assessment within 45 working days) count Monday–Friday excluding bank holidays. Bank
//! holidays follow standing rules with weekend substitutes, plus one-off changes (jubilees, royal
//! events) kept as data in `data/calendar/bank_holiday_changes.yaml` so they can be extended
//! without code. The calendar is precomputed once as a cumulative count of working days, so the
//! working days between any two dates is one subtraction: cheap enough to apply to every row of
//! a national fact table.

use std::sync::OnceLock;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::Deserialize;

use super::dates::{from_epoch_days, to_epoch_days};

/// First and last years the precomputed calendar covers; dates outside have no working-day
/// count (every return date outside this range is a data error anyway).
const FIRST_YEAR: i32 = 1950;
const LAST_YEAR: i32 = 2100;

static CHANGES_YAML: &str = include_str!("../../data/calendar/bank_holiday_changes.yaml");

#[derive(Debug, Deserialize)]
struct Change {
    moved: Option<NaiveDate>,
    to: Option<NaiveDate>,
    added: Option<NaiveDate>,
    #[allow(dead_code)]
    why: String,
}

/// Working days and bank holidays for England and Wales.
pub struct Calendar {
    first_day: i32,
    /// `cumulative[i]` = working days from `first_day` up to and including `first_day + i`.
    cumulative: Vec<u32>,
    holidays: Vec<NaiveDate>,
}

impl Calendar {
    /// The calendar for England and Wales, built on first use.
    pub fn england_and_wales() -> &'static Calendar {
        static CALENDAR: OnceLock<Calendar> = OnceLock::new();
        CALENDAR.get_or_init(|| {
            let changes: Vec<Change> =
                serde_yaml::from_str(CHANGES_YAML).expect("bank_holiday_changes.yaml is valid");
            Calendar::build(&changes)
        })
    }

    fn build(changes: &[Change]) -> Calendar {
        let mut holidays: Vec<NaiveDate> =
            (FIRST_YEAR..=LAST_YEAR).flat_map(rule_holidays).collect();
        for change in changes {
            if let (Some(from), Some(to)) = (change.moved, change.to) {
                holidays.retain(|&h| h != from);
                holidays.push(to);
            }
            if let Some(added) = change.added {
                holidays.push(added);
            }
        }
        holidays.sort_unstable();
        holidays.dedup();

        let first = NaiveDate::from_ymd_opt(FIRST_YEAR, 1, 1).expect("valid date");
        let last = NaiveDate::from_ymd_opt(LAST_YEAR, 12, 31).expect("valid date");
        let first_day = to_epoch_days(first);
        let days = (to_epoch_days(last) - first_day + 1) as usize;
        let mut cumulative = Vec::with_capacity(days);
        let mut running = 0u32;
        let mut next_holiday = holidays.iter().peekable();
        for offset in 0..days {
            let date = first + Duration::days(offset as i64);
            let is_holiday = next_holiday.next_if(|&&h| h == date).is_some();
            if !is_holiday && !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                running += 1;
            }
            cumulative.push(running);
        }
        Calendar {
            first_day,
            cumulative,
            holidays,
        }
    }

    fn index(&self, epoch_day: i32) -> Option<usize> {
        let offset = epoch_day.checked_sub(self.first_day)?;
        usize::try_from(offset)
            .ok()
            .filter(|&i| i < self.cumulative.len())
    }

    /// Working days after `start` up to and including `end` (the DfE convention: a strategy
    /// discussion on a Monday and a conference on the following Monday are 5 working days apart).
    /// Negative when `end` is before `start`; `None` outside the calendar's range.
    pub fn working_days(&self, start: NaiveDate, end: NaiveDate) -> Option<i32> {
        self.working_days_epoch(to_epoch_days(start), to_epoch_days(end))
    }

    /// [`Calendar::working_days`] on polars `Date` day numbers, for whole columns.
    pub fn working_days_epoch(&self, start: i32, end: i32) -> Option<i32> {
        let s = self.cumulative[self.index(start)?] as i64;
        let e = self.cumulative[self.index(end)?] as i64;
        Some((e - s) as i32)
    }

    /// The date `n` working days after `start` (n ≥ 0): the deadline of a timescale.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut date = start;
        let mut left = n;
        while left > 0 {
            date += Duration::days(1);
            if self.is_working_day(date) {
                left -= 1;
            }
        }
        date
    }

    /// [`Calendar::add_working_days`] on polars `Date` day numbers (binary search on the
    /// cumulative count, for generating national volumes of dates).
    pub fn add_working_days_epoch(&self, start: i32, n: u32) -> i32 {
        let Some(i) = self.index(start) else {
            return to_epoch_days(self.add_working_days(from_epoch_days(start), n));
        };
        let target = self.cumulative[i] + n;
        let found = self.cumulative[i..].partition_point(|&c| c < target);
        if i + found >= self.cumulative.len() {
            return to_epoch_days(self.add_working_days(from_epoch_days(start), n));
        }
        start + found as i32
    }

    /// Whether a date is a bank holiday in England and Wales.
    pub fn is_bank_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.binary_search(&date).is_ok()
    }

    /// Monday–Friday and not a bank holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_bank_holiday(date)
    }

    /// The bank holidays of a calendar year, in date order.
    pub fn bank_holidays(&self, year: i32) -> Vec<NaiveDate> {
        self.holidays
            .iter()
            .copied()
            .filter(|d| d.year() == year)
            .collect()
    }

    /// The epoch day a working-day count refers to, for tests and diagnostics.
    pub fn date_of(epoch_day: i32) -> NaiveDate {
        from_epoch_days(epoch_day)
    }
}

/// The standing rules for one calendar year (before one-off changes).
fn rule_holidays(year: i32) -> Vec<NaiveDate> {
    let date = |m, d| NaiveDate::from_ymd_opt(year, m, d).expect("valid date");
    let mut out = Vec::with_capacity(8);

    // New Year's Day, moved to the Monday when it falls at a weekend.
    out.push(next_weekday_on_or_after(date(1, 1)));

    let easter = easter_sunday(year);
    out.push(easter - Duration::days(2));
    out.push(easter + Duration::days(1));

    // Early May (since 1978), spring (last Monday in May), summer (last Monday in August).
    if year >= 1978 {
        out.push(first_monday(year, 5));
    }
    out.push(last_monday(year, 5));
    out.push(last_monday(year, 8));

    // Christmas and Boxing Day with substitutes: a weekend day moves to the next free weekday.
    let christmas = date(12, 25);
    let boxing = date(12, 26);
    let christmas_observed = next_weekday_on_or_after(christmas);
    let mut boxing_observed = next_weekday_on_or_after(boxing);
    if boxing_observed <= christmas_observed {
        boxing_observed = next_weekday_on_or_after(christmas_observed + Duration::days(1));
    }
    out.push(christmas_observed);
    out.push(boxing_observed);
    out
}

fn next_weekday_on_or_after(mut date: NaiveDate) -> NaiveDate {
    while matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        date += Duration::days(1);
    }
    date
}

fn first_monday(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 1).expect("valid date")
}

fn last_monday(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 5)
        .or_else(|| NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 4))
        .expect("valid date")
}

/// Easter Sunday by the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("valid date")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn cal() -> &'static Calendar {
        Calendar::england_and_wales()
    }

    /// gov.uk's published England and Wales bank holidays for years with every kind of quirk.
    #[test]
    fn known_years_match_the_published_lists() {
        // Each year's holidays as month-day pairs, in date order.
        let expect = |year: i32, dates: &str| {
            let want: Vec<NaiveDate> = dates
                .split_whitespace()
                .map(|md| {
                    let (m, day) = md.split_once('-').unwrap();
                    d(year, m.parse().unwrap(), day.parse().unwrap())
                })
                .collect();
            assert_eq!(cal().bank_holidays(year), want, "{year}");
        };
        // 2012: spring holiday moved to 4 June and 5 June added (Diamond Jubilee).
        expect(
            2012,
            "01-02 04-06 04-09 05-07 06-04 06-05 08-27 12-25 12-26",
        );
        // 2020: early May moved to Friday 8 May (VE Day).
        expect(2020, "01-01 04-10 04-13 05-08 05-25 08-31 12-25 12-28");
        // 2021: Christmas Saturday and Boxing Day Sunday become Monday 27 and Tuesday 28.
        expect(2021, "01-01 04-02 04-05 05-03 05-31 08-30 12-27 12-28");
        // 2022: jubilee 2 and 3 June, the Queen's funeral 19 September, Christmas on a Sunday.
        expect(
            2022,
            "01-03 04-15 04-18 05-02 06-02 06-03 08-29 09-19 12-26 12-27",
        );
        // 2023: coronation Monday 8 May.
        expect(
            2023,
            "01-02 04-07 04-10 05-01 05-08 05-29 08-28 12-25 12-26",
        );
        expect(2025, "01-01 04-18 04-21 05-05 05-26 08-25 12-25 12-26");
        // 2011: royal wedding Friday 29 April.
        expect(
            2011,
            "01-03 04-22 04-25 04-29 05-02 05-30 08-29 12-26 12-27",
        );
    }

    #[test]
    fn easter_dates() {
        assert_eq!(easter_sunday(2024), d(2024, 3, 31));
        assert_eq!(easter_sunday(2019), d(2019, 4, 21));
        assert_eq!(easter_sunday(2038), d(2038, 4, 25));
    }

    #[test]
    fn counts_days_after_start_up_to_and_including_end() {
        // Monday to the following Monday: Tue, Wed, Thu, Fri, Mon = 5.
        assert_eq!(cal().working_days(d(2024, 6, 3), d(2024, 6, 10)), Some(5));
        assert_eq!(cal().working_days(d(2024, 6, 3), d(2024, 6, 3)), Some(0));
        assert_eq!(cal().working_days(d(2024, 6, 10), d(2024, 6, 3)), Some(-5));
        // Across Easter 2024 (Good Friday 29 March, Easter Monday 1 April): Mon 25 March to
        // Tue 2 April = Tue, Wed, Thu, Tue = 4.
        assert_eq!(cal().working_days(d(2024, 3, 25), d(2024, 4, 2)), Some(4));
        // 2022 jubilee week: Mon 30 May to Mon 6 June = 31 May, 1 June, 6 June = 3.
        assert_eq!(cal().working_days(d(2022, 5, 30), d(2022, 6, 6)), Some(3));
    }

    #[test]
    fn deadline_is_the_nth_working_day() {
        let start = d(2024, 3, 25);
        let deadline = cal().add_working_days(start, 15);
        assert_eq!(cal().working_days(start, deadline), Some(15));
        assert!(cal().is_working_day(deadline));
        assert_eq!(deadline, d(2024, 4, 17));
        let epoch = cal().add_working_days_epoch(to_epoch_days(start), 15);
        assert_eq!(from_epoch_days(epoch), deadline);
        assert_eq!(
            cal().add_working_days_epoch(to_epoch_days(start), 0),
            to_epoch_days(start)
        );
    }

    #[test]
    fn working_days_in_2024() {
        let n = cal()
            .working_days(d(2023, 12, 31), d(2024, 12, 31))
            .unwrap();
        // 366 days, 104 weekend days, 8 bank holidays on weekdays.
        assert_eq!(n, 366 - 104 - 8);
    }
}
