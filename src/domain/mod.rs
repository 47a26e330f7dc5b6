//! Shared vocabulary every layer may use: dates and collection years, the working-day
//! calendar, code lists per collection year, atomic output files, the guard on definitions' SQL.

pub mod calendar;
pub mod codes;
pub mod dates;
pub mod io;
pub mod sql;
