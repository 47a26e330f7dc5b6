//! Shared vocabulary every layer may use: dates and collection years, the working-day
//! calendar, code lists per collection year, atomic output files, the guard on definitions' SQL,
//! LA identity (the validated 3-digit LA code that may name a folder), and the long tables'
//! column declarations (`schema`).

/// `name()` and `from_name()` for enums whose words strum derives
/// (`#[derive(strum::IntoStaticStr, strum::EnumString)]`): each word is spelt once, on the
/// enum, and the tables, YAML and packs that hold it read it back the same way.
macro_rules! named {
    ($($t:ty),* $(,)?) => {$(
        impl $t {
            /// The word tables and files hold for it.
            pub fn name(self) -> &'static str {
                self.into()
            }

            /// The value a word names, if any.
            pub fn from_name(name: &str) -> Option<$t> {
                name.parse().ok()
            }
        }
    )*};
}
pub(crate) use named;

pub mod calendar;
pub mod codes;
pub mod dates;
pub mod framework;
pub mod io;
pub mod la;
pub mod national_framework;
pub mod numbers;
pub mod schema;
pub mod sql;
pub mod threads;
