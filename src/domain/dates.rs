//! Dates as the returns write them, and the DfE collection year.
//!
//! The 903 writes `DD/MM/YYYY`, the CIN census ISO `YYYY-MM-DD`, and local extracts and Annex A
//! workbooks send either, sometimes with a time part or as an Excel serial number. After ingest
//! every date is a polars `Date` (days since 1970-01-01), so this module also converts between
//! [`NaiveDate`] and that day number.

use chrono::{Datelike, NaiveDate};

/// Days from 0001-01-01 (chrono's "CE" day 1) to 1970-01-01, the polars `Date` epoch.
const UNIX_EPOCH_FROM_CE: i32 = 719_163;

/// The polars `Date` physical value (days since 1970-01-01) of a date.
pub fn to_epoch_days(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - UNIX_EPOCH_FROM_CE
}

/// The date of a polars `Date` physical value.
pub fn from_epoch_days(days: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(days + UNIX_EPOCH_FROM_CE).expect("day number in range")
}

/// A date from its parts; `None` when the parts do not make a calendar date (31/02, month 13).
pub fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Parses the date forms the returns and local extracts use, without guessing:
/// `DD/MM/YYYY` (also `D/M/YYYY` and `DD-MM-YYYY`), ISO `YYYY-MM-DD`, and either followed by a
/// time part (`2024-05-01T00:00:00`, `01/05/2024 00:00`), which is ignored. Two-digit years and
/// month names are rejected: an ambiguous date is a validation problem, not something to guess.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    // Drop a time part: everything after 'T' or the first space following a full date.
    let date_part = match text.find(['T', ' ']) {
        Some(cut) if cut >= 8 => &text[..cut],
        _ => text,
    };
    let bytes = date_part.as_bytes();
    if bytes.len() == 10 && bytes[4] == b'-' && bytes[7] == b'-' {
        let year = digits(&bytes[0..4])?;
        let month = digits(&bytes[5..7])?;
        let day = digits(&bytes[8..10])?;
        return ymd(year as i32, month, day);
    }
    let mut parts = date_part.split(['/', '-']);
    let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || day.is_empty() || day.len() > 2 {
        return None;
    }
    if month.is_empty() || month.len() > 2 {
        return None;
    }
    ymd(
        digits(year.as_bytes())? as i32,
        digits(month.as_bytes())?,
        digits(day.as_bytes())?,
    )
}

/// An Excel serial date (1900 date system, as Excel and calamine write it): day 1 is
/// 1900-01-01 and Excel's phantom 29/02/1900 is skipped, so serial 61 is 1900-03-01. Fractions
/// are times of day and are dropped. Serials outside 1900–2200 are rejected as implausible.
pub fn from_excel_serial(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() || !(1.0..=110_000.0).contains(&serial) {
        return None;
    }
    let whole = serial.floor() as i64;
    if whole == 60 {
        return None; // Excel's 29/02/1900, a day that never was.
    }
    // From serial 61 on, Excel counts the non-existent 29/02/1900: 1899-12-30 + serial.
    let base = if whole >= 61 {
        NaiveDate::from_ymd_opt(1899, 12, 30)?
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 31)?
    };
    base.checked_add_signed(chrono::Duration::days(whole))
}

fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() {
        return None;
    }
    let mut value = 0u32;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    Some(value)
}

/// The DfE collection year a date falls in: years run 1 April – 31 March and are named by the
/// year in which they end ("2025" is 1 April 2024 – 31 March 2025).
pub fn collection_year(date: NaiveDate) -> i32 {
    if date.month() >= 4 {
        date.year() + 1
    } else {
        date.year()
    }
}

/// The collection years a return may be for. The store names a folder by the year, and a year
/// read from a file (a CIN header, the latest date in a 903) can be anything: 2000–2100 covers
/// every return the collections have had (the CIN census began in 2009) with room to spare,
/// and is the range the `<la_code>/<year>/` folder layout recognises.
pub const COLLECTION_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Whether a collection year is within [`COLLECTION_YEARS`].
pub fn is_plausible_collection_year(year: i32) -> bool {
    COLLECTION_YEARS.contains(&year)
}

/// First day (1 April) of a collection year.
pub fn collection_year_start(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year - 1, 4, 1).expect("valid date")
}

/// Last day (31 March) of a collection year: the census and 903 reference date.
pub fn collection_year_end(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 3, 31).expect("valid date")
}

/// The day a person reaches `years` of age. A child born on 29 February has birthdays on
/// 28 February in common years, the convention used for legal ages in England.
pub fn birthday(dob: NaiveDate, years: i32) -> NaiveDate {
    let year = dob.year() + years;
    NaiveDate::from_ymd_opt(year, dob.month(), dob.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
        .expect("valid date")
}

/// Age in whole years on `date`.
pub fn age_on(dob: NaiveDate, date: NaiveDate) -> i32 {
    let mut age = date.year() - dob.year();
    if date < birthday(dob, age) {
        age -= 1;
    }
    age
}

/// Adds calendar months, keeping the day where the month has it (31 January + 1 month is the
/// last day of February): the reading of "within 3 months" and "every 6 months" in statutory
/// timescales.
pub fn add_months(date: NaiveDate, months: i32) -> NaiveDate {
    let total = date.year() * 12 + date.month0() as i32 + months;
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    (1..=date.day())
        .rev()
        .find_map(|d| NaiveDate::from_ymd_opt(year, month, d))
        .expect("valid date")
}

/// Formats a date the 903 way (`DD/MM/YYYY`).
pub fn format_dmy(date: NaiveDate) -> String {
    format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year())
}

/// Formats a date the ISO way (`YYYY-MM-DD`), as the CIN census writes it.
pub fn format_iso(date: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        ymd(y, m, day).unwrap()
    }

    #[test]
    fn parses_the_forms_returns_use() {
        assert_eq!(parse_date("01/04/2024"), Some(d(2024, 4, 1)));
        assert_eq!(parse_date(" 1/4/2024 "), Some(d(2024, 4, 1)));
        assert_eq!(parse_date("01-04-2024"), Some(d(2024, 4, 1)));
        assert_eq!(parse_date("2024-04-01"), Some(d(2024, 4, 1)));
        assert_eq!(parse_date("2024-04-01T00:00:00"), Some(d(2024, 4, 1)));
        assert_eq!(parse_date("01/04/2024 00:00"), Some(d(2024, 4, 1)));
    }

    #[test]
    fn rejects_what_would_need_a_guess() {
        for bad in [
            "",
            "31/02/2024",
            "01/13/2024",
            "1/4/24",
            "April 2024",
            "2024/04/01",
            "x",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn excel_serials_follow_the_1900_system() {
        assert_eq!(from_excel_serial(1.0), Some(d(1900, 1, 1)));
        assert_eq!(from_excel_serial(59.0), Some(d(1900, 2, 28)));
        assert_eq!(from_excel_serial(60.0), None);
        assert_eq!(from_excel_serial(61.0), Some(d(1900, 3, 1)));
        assert_eq!(from_excel_serial(45383.0), Some(d(2024, 4, 1)));
        assert_eq!(from_excel_serial(45383.75), Some(d(2024, 4, 1)));
        assert_eq!(from_excel_serial(-3.0), None);
    }

    #[test]
    fn collection_years_end_on_31_march() {
        assert_eq!(collection_year(d(2025, 3, 31)), 2025);
        assert_eq!(collection_year(d(2024, 4, 1)), 2025);
        assert_eq!(collection_year(d(2024, 3, 31)), 2024);
        assert_eq!(collection_year_start(2025), d(2024, 4, 1));
    }

    #[test]
    fn ages_turn_on_the_birthday() {
        let dob = d(2007, 4, 1);
        assert_eq!(age_on(dob, d(2025, 3, 31)), 17);
        assert_eq!(age_on(dob, d(2025, 4, 1)), 18);
        assert_eq!(birthday(d(2008, 2, 29), 17), d(2025, 2, 28));
    }

    #[test]
    fn months_keep_the_day_or_end_of_month() {
        assert_eq!(add_months(d(2024, 1, 31), 1), d(2024, 2, 29));
        assert_eq!(add_months(d(2024, 11, 15), 3), d(2025, 2, 15));
        assert_eq!(add_months(d(2024, 3, 31), -1), d(2024, 2, 29));
    }

    #[test]
    fn epoch_days_round_trip() {
        assert_eq!(to_epoch_days(d(1970, 1, 1)), 0);
        assert_eq!(to_epoch_days(d(2024, 4, 1)), 19814);
        assert_eq!(from_epoch_days(19814), d(2024, 4, 1));
    }
}
