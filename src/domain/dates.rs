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

/// The date of a workbook's date cell as calamine reads it (`Data::DateTime`), in the
/// workbook's own date system: the 1900 system, or the 1904 one of old Mac workbooks, which
/// calamine knows from the workbook and a bare serial cannot say.
///
/// The conversion is calamine's. It gives Excel's own calendar, with the 29/02/1900 that
/// Excel's 1900 system counts (serial 60) but that never was: chrono has no such day, so that
/// serial is not a date, and serial 61 is 01/03/1900. Dates before 01/01/1900 or after
/// 02/03/2201 (serial 110 000) are implausible in a return and rejected. The time of day is
/// dropped, after calamine has rounded it to Excel's millisecond (a time within half a
/// millisecond of midnight is the next day, as Excel shows it).
pub fn from_excel_datetime(datetime: &calamine::ExcelDateTime) -> Option<NaiveDate> {
    let (year, month, day, ..) = datetime.to_ymd_hms_milli();
    let date = NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), u32::from(day))?;
    let plausible = NaiveDate::from_ymd_opt(1900, 1, 1)?..=NaiveDate::from_ymd_opt(2201, 3, 2)?;
    plausible.contains(&date).then_some(date)
}

/// An Excel serial that reaches us as a bare number, outside any date cell: a number cell in
/// General format, or a serial in a CSV cell or typed as text (`45383`). Nothing says which
/// date system it is in, so it is taken in the 1900 system, as Excel writes it, and converted
/// by calamine as a date cell of a 1900 workbook is ([`from_excel_datetime`]: serial 60 is
/// rejected, 61 is 01/03/1900). Fractions are times of day and are dropped; serials outside
/// 1–110 000 (1900–2201) are rejected as implausible.
pub fn from_excel_serial(serial: f64) -> Option<NaiveDate> {
    use calamine::{ExcelDateTime, ExcelDateTimeType};
    if !serial.is_finite() || !(1.0..=110_000.0).contains(&serial) {
        return None;
    }
    // The whole day only: the time never moves the date of a serial typed by hand.
    let day = ExcelDateTime::new(serial.floor(), ExcelDateTimeType::DateTime, false);
    from_excel_datetime(&day)
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
    fn calamine_reads_every_serial_as_the_1900_system_counts_it() {
        // The arithmetic calamine's conversion replaced: day 1 is 01/01/1900, and from serial
        // 61 on Excel counts its phantom 29/02/1900 (serial 60, rejected).
        for serial in 1..=110_000 {
            let expected = match serial {
                60 => None,
                ..60 => d(1899, 12, 31).checked_add_signed(chrono::Duration::days(serial)),
                _ => d(1899, 12, 30).checked_add_signed(chrono::Duration::days(serial)),
            };
            assert_eq!(from_excel_serial(serial as f64), expected, "{serial}");
        }
        assert_eq!(from_excel_serial(110_000.0), Some(d(2201, 3, 2)));
        assert_eq!(from_excel_serial(110_001.0), None);
        assert_eq!(from_excel_serial(0.5), None);
        assert_eq!(from_excel_serial(f64::NAN), None);
    }

    #[test]
    fn date_cells_follow_their_workbooks_date_system() {
        use calamine::{ExcelDateTime, ExcelDateTimeType::DateTime};
        let cell =
            |serial, is_1904| from_excel_datetime(&ExcelDateTime::new(serial, DateTime, is_1904));
        assert_eq!(cell(59.0, false), Some(d(1900, 2, 28)));
        assert_eq!(cell(60.0, false), None);
        assert_eq!(cell(61.0, false), Some(d(1900, 3, 1)));
        assert_eq!(cell(45383.5, false), Some(d(2024, 4, 1)));
        assert_eq!(cell(0.0, false), None);
        assert_eq!(cell(-3.0, false), None);
        // A 1904 workbook counts from 01/01/1904: 1,462 days fewer for the same date.
        assert_eq!(cell(45383.0 - 1462.0, true), Some(d(2024, 4, 1)));
        assert_eq!(cell(0.0, true), Some(d(1904, 1, 1)));
        assert_eq!(cell(3e6, false), None);
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
