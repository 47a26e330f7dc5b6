//! A CSV record splitter that knows which line each record starts on, and that never lets one
//! broken record take the rest of the file with it.
//!
//! The validation report must name the line a problem is on, as the user's editor shows it.
//! The `csv` crate's record positions drift on CRLF files and after blank lines (measured: a
//! record on line 5 of a CRLF file with a blank line is reported as line 3), so records are
//! split here: RFC 4180 quoting (quoted commas, doubled quotes, line breaks inside quotes),
//! any of CRLF/LF/CR as the line end, and the physical line of each record's start. Speed is
//! no reason to swap it: 903 CSV to canonical tables, every LA's 46 MB, runs at 67 MiB/s with
//! this splitter (README, Performance).
//!
//! Quoting is where real files break: a cell typed as `"St Mary's` with no closing quote makes
//! every following line part of one field (56 episodes read as 3, nothing said). A quote is
//! taken as broken when it is never closed, when it closes only after a line break and is
//! followed by more text (`…\nA5,"x` closing at `"x`), or when it runs for more than
//! [`MAX_RECORD_BYTES`]; the record is then returned marked [`Broken`] and splitting resumes on
//! the line after the one that opened the quote, so the rows after it are read as rows.
//! A record longer than [`MAX_RECORD_BYTES`] without quotes (a file with no line breaks) is
//! marked broken too and splitting resumes on the next line: memory stays bounded by the limit,
//! not by the file.

/// The longest record split into fields: 1 MiB. A 903 row is ~100 bytes and an Annex A row a
/// few KB; anything longer is a file without line breaks or a runaway quote, and holding it
/// as fields took memory without bound (an 80 MB single-line file grew past 4 GB).
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// One record: the line it starts on (1-based) and its fields, unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: u64,
    /// The fields; for a broken record, the fields completed before the one that broke.
    pub fields: Vec<String>,
    /// Why the record could not be split, if it could not.
    pub broken: Option<Broken>,
}

/// Why a record could not be split into fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    /// A quote opened on `line` in field `field` (0-based) is never closed, closes only after
    /// a line break with more text after it, or runs past [`MAX_RECORD_BYTES`]. Splitting
    /// resumed on line `line + 1`.
    UnterminatedQuote { line: u64, field: usize },
    /// The record is longer than [`MAX_RECORD_BYTES`]; `field` is the field it had reached.
    /// Splitting resumed on the next line.
    TooLong { line: u64, field: usize },
}

impl Broken {
    /// The line the problem is on (where the quote opened, or where the long record started).
    pub fn line(&self) -> u64 {
        match *self {
            Broken::UnterminatedQuote { line, .. } | Broken::TooLong { line, .. } => line,
        }
    }

    /// The field (0-based) the problem is in.
    pub fn field(&self) -> usize {
        match *self {
            Broken::UnterminatedQuote { field, .. } | Broken::TooLong { field, .. } => field,
        }
    }

    /// The rule name used in the validation report.
    pub fn rule(&self) -> &'static str {
        match self {
            Broken::UnterminatedQuote { .. } => "unterminated_quote",
            Broken::TooLong { .. } => "record_too_long",
        }
    }

    /// What happened and what was done, for the validation report.
    pub fn describe(&self) -> String {
        match *self {
            Broken::UnterminatedQuote { line, .. } => format!(
                "a quote (\") opened in this field on line {line} is not closed where the field \
                 ends, so the row's end cannot be told; the row was rejected and reading resumed \
                 on line {}: check the quotes on line {line}",
                line + 1
            ),
            Broken::TooLong { .. } => format!(
                "the row is longer than {} MiB (a file without line breaks?); the row was \
                 rejected and reading resumed on the next line",
                MAX_RECORD_BYTES >> 20
            ),
        }
    }
}

impl Record {
    /// Whether every field is empty or whitespace (a blank row, including ",,,,"). A broken
    /// record is never blank.
    pub fn is_blank(&self) -> bool {
        self.broken.is_none() && self.fields.iter().all(|f| f.trim().is_empty())
    }
}

/// Splits CSV text into records (blank lines are returned as records with one empty field so
/// the caller can count them).
pub fn records(text: &str) -> Records<'_> {
    Records {
        text,
        pos: 0,
        line: 1,
    }
}

pub struct Records<'a> {
    text: &'a str,
    /// Byte offset of the next record.
    pos: usize,
    /// Line of the byte at `pos`.
    line: u64,
}

/// Where a quoted field started, and where splitting resumes if the quote turns out broken.
struct OpenQuote {
    line: u64,
    field: usize,
    /// Byte offset and line just after the first line break inside the quote.
    resume: Option<(usize, u64)>,
}

impl Records<'_> {
    /// The end of the line break at `i` (CRLF counts as one), for a break byte at `i`.
    fn after_break(&self, i: usize) -> usize {
        let b = self.text.as_bytes();
        if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
            i + 2
        } else {
            i + 1
        }
    }

    /// Moves to the start of the line after the one containing byte `from`.
    fn skip_line(&mut self, from: usize) {
        let b = self.text.as_bytes();
        match b[from.min(b.len())..]
            .iter()
            .position(|&c| c == b'\n' || c == b'\r')
        {
            Some(k) => {
                self.pos = self.after_break(from + k);
                self.line += 1;
            }
            None => self.pos = b.len(),
        }
    }
}

/// The record being split: where the scan is, the fields so far and the quote open, if any.
struct Scan {
    /// The byte being looked at.
    i: usize,
    /// Start of the run of ordinary bytes not yet copied into `field`.
    run: usize,
    fields: Vec<String>,
    field: String,
    quote: Option<OpenQuote>,
    /// A quote that closed after a line break: text after it (before the delimiter) means
    /// the quoting was broken.
    closed_after_break: Option<OpenQuote>,
}

impl Scan {
    /// Copies the run of ordinary bytes before `i` into the field.
    #[inline(always)]
    fn take_run(&mut self, text: &str) {
        self.field.push_str(&text[self.run..self.i]);
    }
}

/// A record that could not be split, with the fields completed before it broke.
fn broken_record(line: u64, fields: Vec<String>, broken: Broken) -> Record {
    Record {
        line,
        fields,
        broken: Some(broken),
    }
}

/// The record of a quote that never closed properly.
fn unterminated(line: u64, fields: Vec<String>, q: &OpenQuote) -> Record {
    broken_record(
        line,
        fields,
        Broken::UnterminatedQuote {
            line: q.line,
            field: q.field,
        },
    )
}

impl Records<'_> {
    /// The record is longer than [`MAX_RECORD_BYTES`]: it is given up, and splitting resumes
    /// after the open quote's line if a quote is open, else on the next line.
    #[cold]
    fn too_long(&mut self, mut s: Scan, start_line: u64) -> Record {
        let field_no = s.fields.len();
        match s.quote.take() {
            Some(q) => {
                match q.resume {
                    Some((at, line)) => (self.pos, self.line) = (at, line),
                    None => {
                        self.line = q.line;
                        self.skip_line(s.i);
                    }
                }
                unterminated(start_line, s.fields, &q)
            }
            None => {
                self.skip_line(s.i);
                broken_record(
                    start_line,
                    s.fields,
                    Broken::TooLong {
                        line: start_line,
                        field: field_no,
                    },
                )
            }
        }
    }

    /// The text ended inside the record: its last field, or a quote never closed (splitting
    /// resumes after the quote's first line break, if it had one).
    #[cold]
    fn end_of_text(&mut self, mut s: Scan, start_line: u64) -> Record {
        let end = self.text.len();
        if let Some(q) = s.quote {
            match q.resume {
                Some((at, line)) => (self.pos, self.line) = (at, line),
                None => self.pos = end,
            }
            return unterminated(start_line, s.fields, &q);
        }
        s.take_run(self.text);
        s.fields.push(s.field);
        self.pos = end;
        Record {
            line: start_line,
            fields: s.fields,
            broken: None,
        }
    }

    /// One byte inside a quoted field: a doubled quote is a quote, a single one ends the
    /// quoting, and a line break is kept as `\n` (the first one is where splitting resumes if
    /// the quote turns out broken).
    #[inline(always)]
    fn quoted_byte(&mut self, s: &mut Scan, c: u8) {
        let b = self.text.as_bytes();
        match c {
            b'"' if b.get(s.i + 1) == Some(&b'"') => {
                s.take_run(self.text);
                s.field.push('"');
                s.i += 2;
                s.run = s.i;
            }
            b'"' => {
                s.take_run(self.text);
                s.i += 1;
                s.run = s.i;
                if let Some(q) = s.quote.take()
                    && q.resume.is_some()
                {
                    s.closed_after_break = Some(q);
                }
            }
            b'\n' | b'\r' => {
                s.take_run(self.text);
                s.field.push('\n');
                s.i = self.after_break(s.i);
                s.run = s.i;
                self.line += 1;
                if let Some(q) = &mut s.quote
                    && q.resume.is_none()
                {
                    q.resume = Some((s.i, self.line));
                }
            }
            _ => s.i += 1,
        }
    }
}

impl Iterator for Records<'_> {
    type Item = Record;

    /// The next record. The byte loop is hand-written for speed (a run of ordinary bytes is
    /// copied at once); the quoted bytes and the exits out of the loop are the helpers above.
    fn next(&mut self) -> Option<Record> {
        let b = self.text.as_bytes();
        if self.pos >= b.len() {
            return None;
        }
        let start = self.pos;
        let start_line = self.line;
        let mut s = Scan {
            i: self.pos,
            run: self.pos,
            fields: vec![],
            field: String::new(),
            quote: None,
            closed_after_break: None,
        };
        loop {
            if s.i - start > MAX_RECORD_BYTES {
                return Some(self.too_long(s, start_line));
            }
            let Some(&c) = b.get(s.i) else {
                return Some(self.end_of_text(s, start_line));
            };
            if s.quote.is_some() {
                self.quoted_byte(&mut s, c);
                continue;
            }
            match c {
                b'"' if s.field.trim().is_empty() && self.text[s.run..s.i].trim().is_empty() => {
                    s.field.clear();
                    s.i += 1;
                    s.run = s.i;
                    s.quote = Some(OpenQuote {
                        line: self.line,
                        field: s.fields.len(),
                        resume: None,
                    });
                }
                b',' => {
                    s.take_run(self.text);
                    s.fields.push(std::mem::take(&mut s.field));
                    s.closed_after_break = None;
                    s.i += 1;
                    s.run = s.i;
                }
                b'\n' | b'\r' => {
                    s.take_run(self.text);
                    s.fields.push(s.field);
                    self.pos = self.after_break(s.i);
                    self.line += 1;
                    return Some(Record {
                        line: start_line,
                        fields: s.fields,
                        broken: None,
                    });
                }
                b' ' | b'\t' => s.i += 1,
                _ => {
                    if let Some(q) = s.closed_after_break.take() {
                        // `"…\n…"x`: the quote that "closed" was the next field's opening
                        // quote, so the one before it never closed.
                        let (at, line) = q.resume.expect("closed after a line break");
                        (self.pos, self.line) = (at, line);
                        return Some(unterminated(start_line, s.fields, &q));
                    }
                    s.i += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: u64, fields: &[&str]) -> Record {
        Record {
            line,
            fields: fields.iter().map(|f| f.to_string()).collect(),
            broken: None,
        }
    }

    #[test]
    fn line_numbers_survive_crlf_blank_lines_and_quoted_breaks() {
        let text = "A,B\r\n1,2\r\n\r\n\"x, \"\"y\"\"\",\"two\nlines\"\r\n5,6";
        let got: Vec<Record> = records(text).collect();
        assert_eq!(got[0], ok(1, &["A", "B"]));
        assert_eq!(got[1], ok(2, &["1", "2"]));
        assert!(got[2].is_blank());
        assert_eq!(got[2].line, 3);
        assert_eq!(got[3], ok(4, &["x, \"y\"", "two\nlines"]));
        assert_eq!(got[4], ok(6, &["5", "6"]));
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn trailing_newline_makes_no_extra_record() {
        let got: Vec<Record> = records("A\n1\n").collect();
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn text_is_kept_as_written_around_quotes_and_non_ascii() {
        let got: Vec<Record> = records("é,\"a€b\" ,x\"y\"\n£").collect();
        assert_eq!(got, vec![ok(1, &["é", "a€b ", "x\"y\""]), ok(2, &["£"])]);
    }

    #[test]
    fn a_quote_never_closed_breaks_one_record_and_reading_resumes_on_the_next_line() {
        // Line 2 opens a quote in its second field that nothing closes.
        let text = "A,B\n1,\"oops\n2,x\n3,y\n";
        let got: Vec<Record> = records(text).collect();
        assert_eq!(got[0], ok(1, &["A", "B"]));
        assert_eq!(
            got[1],
            Record {
                line: 2,
                fields: vec!["1".into()],
                broken: Some(Broken::UnterminatedQuote { line: 2, field: 1 }),
            }
        );
        assert_eq!(got[2], ok(3, &["2", "x"]));
        assert_eq!(got[3], ok(4, &["3", "y"]));
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn a_quote_closed_by_the_next_fields_opening_quote_is_broken() {
        // Line 2's quote "closes" at line 4's opening quote, followed by text: broken.
        let text = "A,B\n1,\"oops\n2,x\n3,\"y\"\n";
        let got: Vec<Record> = records(text).collect();
        assert_eq!(
            got[1].broken,
            Some(Broken::UnterminatedQuote { line: 2, field: 1 })
        );
        assert_eq!(got[2], ok(3, &["2", "x"]));
        assert_eq!(got[3], ok(4, &["3", "y"]));
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn a_line_longer_than_the_limit_is_broken_and_the_next_line_is_read() {
        let long = "x,".repeat(MAX_RECORD_BYTES);
        let text = format!("A,B\n{long}\n1,2\n");
        let got: Vec<Record> = records(&text).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].line, 2);
        assert!(matches!(
            got[1].broken,
            Some(Broken::TooLong { line: 2, .. })
        ));
        // What was split before the limit is bounded by it.
        assert!(got[1].fields.len() <= MAX_RECORD_BYTES / 2 + 1);
        assert_eq!(got[2], ok(3, &["1", "2"]));
    }

    #[test]
    fn a_runaway_quote_stops_at_the_limit() {
        let text = format!("A\n\"{}\n1\n", "y\n".repeat(MAX_RECORD_BYTES));
        let mut it = records(&text);
        assert_eq!(it.next(), Some(ok(1, &["A"])));
        let broken = it.next().unwrap();
        assert_eq!(
            broken.broken,
            Some(Broken::UnterminatedQuote { line: 2, field: 0 })
        );
        // Reading resumes on line 3, the first "y" line after the quote.
        assert_eq!(it.next(), Some(ok(3, &["y"])));
    }
}
