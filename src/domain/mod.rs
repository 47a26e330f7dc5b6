//! Shared vocabulary every layer may use: dates and collection years, the working-day
//! calendar, code lists per collection year, atomic output files, the guard on definitions' SQL,
//! and LA identity (the validated 3-digit LA code that may name a folder).

pub mod calendar;
pub mod codes;
pub mod dates;
pub mod framework;
pub mod io;
pub mod la;
pub mod numbers;
pub mod sql;
pub mod threads;
