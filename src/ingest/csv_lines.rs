//! A CSV record splitter that knows which line each record starts on.
//!
//! The validation report must name the line a problem is on, as the user's editor shows it.
//! The `csv` crate's record positions drift on CRLF files and after blank lines (measured: a
//! record on line 5 of a CRLF file with a blank line is reported as line 3), so records are
//! split here: RFC 4180 quoting (quoted commas, doubled quotes, line breaks inside quotes),
//! any of CRLF/LF/CR as the line end, and the physical line of each record's start.

/// One record: the line it starts on (1-based) and its fields, unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: u64,
    pub fields: Vec<String>,
}

impl Record {
    /// Whether every field is empty or whitespace (a blank row, including ",,,,").
    pub fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.trim().is_empty())
    }
}

/// Splits CSV text into records (blank lines are returned as records with one empty field so
/// the caller can count them).
pub fn records(text: &str) -> Records<'_> {
    Records {
        chars: text.chars().peekable(),
        line: 1,
        done: false,
    }
}

pub struct Records<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: u64,
    done: bool,
}

impl Iterator for Records<'_> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        if self.done {
            return None;
        }
        self.chars.peek()?;
        let start_line = self.line;
        let mut fields = vec![];
        let mut field = String::new();
        let mut quoted = false;
        loop {
            let Some(c) = self.chars.next() else {
                self.done = true;
                fields.push(field);
                return Some(Record {
                    line: start_line,
                    fields,
                });
            };
            if quoted {
                match c {
                    '"' if self.chars.peek() == Some(&'"') => {
                        self.chars.next();
                        field.push('"');
                    }
                    '"' => quoted = false,
                    '\n' => {
                        self.line += 1;
                        field.push('\n');
                    }
                    '\r' => {
                        if self.chars.peek() == Some(&'\n') {
                            self.chars.next();
                        }
                        self.line += 1;
                        field.push('\n');
                    }
                    _ => field.push(c),
                }
                continue;
            }
            match c {
                '"' if field.trim().is_empty() => {
                    field.clear();
                    quoted = true;
                }
                ',' => fields.push(std::mem::take(&mut field)),
                '\n' | '\r' => {
                    if c == '\r' && self.chars.peek() == Some(&'\n') {
                        self.chars.next();
                    }
                    self.line += 1;
                    fields.push(field);
                    return Some(Record {
                        line: start_line,
                        fields,
                    });
                }
                _ => field.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_survive_crlf_blank_lines_and_quoted_breaks() {
        let text = "A,B\r\n1,2\r\n\r\n\"x, \"\"y\"\"\",\"two\nlines\"\r\n5,6";
        let got: Vec<Record> = records(text).collect();
        assert_eq!(
            got[0],
            Record {
                line: 1,
                fields: vec!["A".into(), "B".into()]
            }
        );
        assert_eq!(
            got[1],
            Record {
                line: 2,
                fields: vec!["1".into(), "2".into()]
            }
        );
        assert!(got[2].is_blank());
        assert_eq!(got[2].line, 3);
        assert_eq!(
            got[3],
            Record {
                line: 4,
                fields: vec!["x, \"y\"".into(), "two\nlines".into()]
            }
        );
        assert_eq!(
            got[4],
            Record {
                line: 6,
                fields: vec!["5".into(), "6".into()]
            }
        );
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn trailing_newline_makes_no_extra_record() {
        let got: Vec<Record> = records("A\n1\n").collect();
        assert_eq!(got.len(), 2);
    }
}
