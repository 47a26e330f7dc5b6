//! LA identity: the DfE 3-digit local authority code, validated.
//!
//! An LA code names folders and files (the history store keeps `returns/<la>/…` and
//! `history/<table>/<la>.parquet`; packs and Annex A workbooks carry it in their names), and it
//! arrives from places nobody controls: a CIN census's `<LEA>`, a folder name, `--la`, a
//! config's `la:`. [`LaCode`] can only be made by [`LaCode::parse`], which accepts exactly three
//! ASCII digits that the reference list (`data/reference/las.csv`, the same file
//! `ReferenceIndex` is built from) knows. Anything that takes a `LaCode` — above all the
//! store's path functions — therefore never sees `../../x`, `/abs/x` or an unknown code.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::OnceLock;

use thiserror::Error;

/// A DfE 3-digit LA code known to the reference tables (e.g. 925, Lincolnshire).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LaCode([u8; 3]);

/// Why a text is not an LA code, with the offending text made safe to print.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LaCodeError {
    #[error(
        "{0} is not an LA code: expected the DfE 3-digit code (e.g. 925 for Lincolnshire; see data/reference/las.csv)"
    )]
    Malformed(String),
    #[error(
        "{0} is not the code of an LA in the reference tables (data/reference/las.csv): check the code"
    )]
    Unknown(String),
}

/// The codes of `data/reference/las.csv` (its first column), current and former LAs alike:
/// a return from before a reorganisation (e.g. 835 Dorset, to 2019) is still a valid return.
fn known() -> &'static BTreeSet<[u8; 3]> {
    static KNOWN: OnceLock<BTreeSet<[u8; 3]>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        include_str!("../../data/reference/las.csv")
            .lines()
            .skip(1)
            .filter_map(|line| three_digits(line.split(',').next()?.trim()))
            .collect()
    })
}

fn three_digits(text: &str) -> Option<[u8; 3]> {
    match text.as_bytes() {
        &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_digit) => Some([a, b, c]),
        _ => None,
    }
}

/// The text quoted for a message: escaped (no control characters reach a terminal or a CSV)
/// and cut to a readable length (an `<LEA>` can be a megabyte of junk).
pub fn quoted(text: &str) -> String {
    const MAX: usize = 24;
    let mut cut: String = text.chars().take(MAX).collect();
    if text.chars().count() > MAX {
        cut.push('…');
    }
    format!("{:?}", cut)
}

impl LaCode {
    /// Validates an LA code: surrounding spaces are ignored; anything but three digits of an
    /// LA in the reference list is refused.
    pub fn parse(text: &str) -> Result<LaCode, LaCodeError> {
        let trimmed = text.trim();
        let digits = three_digits(trimmed).ok_or_else(|| LaCodeError::Malformed(quoted(text)))?;
        if known().contains(&digits) {
            Ok(LaCode(digits))
        } else {
            Err(LaCodeError::Unknown(quoted(trimmed)))
        }
    }

    /// The code as text ("925").
    pub fn as_str(&self) -> &str {
        // Three ASCII digits by construction.
        std::str::from_utf8(&self.0).unwrap_or("000")
    }
}

impl fmt::Display for LaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for LaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LaCode({})", self.as_str())
    }
}

impl AsRef<str> for LaCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::str::FromStr for LaCode {
    type Err = LaCodeError;

    fn from_str(s: &str) -> Result<LaCode, LaCodeError> {
        LaCode::parse(s)
    }
}

impl PartialEq<str> for LaCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for LaCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_are_accepted_and_trimmed() {
        assert_eq!(LaCode::parse("925").unwrap().as_str(), "925");
        assert_eq!(LaCode::parse(" 888 ").unwrap().to_string(), "888");
        // A former LA (Dorset to 2019) is still a code returns were sent under.
        assert_eq!(LaCode::parse("835").unwrap().as_str(), "835");
    }

    #[test]
    fn anything_that_could_become_a_path_is_refused() {
        for bad in [
            "../../../x",
            "/abs/x",
            "..",
            "92",
            "9250",
            "9 5",
            "92/",
            "",
            "٩٢٥",
            "925\0",
        ] {
            assert!(
                matches!(LaCode::parse(bad), Err(LaCodeError::Malformed(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn three_digits_not_in_the_reference_list_are_unknown() {
        assert_eq!(
            LaCode::parse("999"),
            Err(LaCodeError::Unknown("\"999\"".into()))
        );
        assert_eq!(
            LaCode::parse("000"),
            Err(LaCodeError::Unknown("\"000\"".into()))
        );
    }

    #[test]
    fn messages_quote_the_text_safely_and_briefly() {
        let long = format!("\u{1b}[31m{}", "x".repeat(100));
        let message = LaCode::parse(&long).unwrap_err().to_string();
        assert!(message.starts_with("\"\\u{1b}[31mxxx"), "{message}");
        assert!(message.contains("xx…\" is not an LA code"), "{message}");
        assert!(!message.contains('\u{1b}'));
    }
}
