//! Shared vocabulary every layer may use: dates and collection years, the working-day
//! calendar, code lists per collection year, atomic output files.

pub mod calendar;
pub mod codes;
pub mod dates;
pub mod io;
