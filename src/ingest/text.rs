//! Getting text out of the files LAs actually send: UTF-8 with or without a byte-order mark,
//! UTF-16 exports from Excel or case-management systems, and the occasional Windows-1252 file.

use std::io::{self, Read};

/// The encoding a file was found in, reported when it is not plain UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    /// Not valid UTF-8: read as Windows-1252 (the usual source of such files).
    Windows1252,
}

/// Sniffs the encoding from the first bytes: a BOM, or the zero bytes of UTF-16 text
/// without one (`<\0` or `\0<`).
pub fn sniff(head: &[u8]) -> Encoding {
    match head {
        [0xEF, 0xBB, 0xBF, ..] => Encoding::Utf8Bom,
        [0xFF, 0xFE, ..] => Encoding::Utf16Le,
        [0xFE, 0xFF, ..] => Encoding::Utf16Be,
        [a, 0, b, 0, ..] if *a != 0 && *b != 0 => Encoding::Utf16Le,
        [0, a, 0, b, ..] if *a != 0 && *b != 0 => Encoding::Utf16Be,
        _ => Encoding::Utf8,
    }
}

/// Decodes a whole file's bytes to text (small files: 903 CSVs, Annex A CSVs, local data).
pub fn decode(bytes: &[u8]) -> (String, Encoding) {
    match sniff(bytes) {
        Encoding::Utf8Bom => (
            String::from_utf8_lossy(&bytes[3..]).into_owned(),
            Encoding::Utf8Bom,
        ),
        Encoding::Utf16Le => (decode_utf16(bytes, u16::from_le_bytes), Encoding::Utf16Le),
        Encoding::Utf16Be => (decode_utf16(bytes, u16::from_be_bytes), Encoding::Utf16Be),
        _ => match std::str::from_utf8(bytes) {
            Ok(text) => (text.to_string(), Encoding::Utf8),
            Err(_) => (
                bytes.iter().map(|&b| windows_1252(b)).collect(),
                Encoding::Windows1252,
            ),
        },
    }
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let body = match bytes {
        [0xFF, 0xFE, rest @ ..] | [0xFE, 0xFF, rest @ ..] => rest,
        all => all,
    };
    let units = body.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Windows-1252 byte to char (the 0x80–0x9F range differs from Latin-1).
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

/// A reader that turns a UTF-16 (or BOM-prefixed UTF-8) stream into plain UTF-8, so the XML
/// parser can stream any of them with bounded memory.
pub struct Utf8Reader<R: Read> {
    inner: R,
    encoding: Encoding,
    /// Bytes read but not yet decoded (an odd byte, half a surrogate pair).
    pending: Vec<u8>,
    /// Decoded UTF-8 not yet handed out.
    out: Vec<u8>,
    out_pos: usize,
    started: bool,
}

impl<R: Read> Utf8Reader<R> {
    pub fn new(inner: R) -> Self {
        Utf8Reader {
            inner,
            encoding: Encoding::Utf8,
            pending: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            started: false,
        }
    }

    /// The encoding found (known after the first read).
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The reader underneath.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = vec![0u8; 64 * 1024];
        let n = self.inner.read(&mut chunk)?;
        chunk.truncate(n);
        if !self.started {
            self.started = true;
            let mut head = std::mem::take(&mut chunk);
            // Make sure the sniff sees at least 4 bytes when the file has them.
            while head.len() < 4 {
                let mut more = [0u8; 4];
                let m = self.inner.read(&mut more[..4 - head.len()])?;
                if m == 0 {
                    break;
                }
                head.extend_from_slice(&more[..m]);
            }
            self.encoding = sniff(&head);
            chunk = match self.encoding {
                Encoding::Utf8Bom => head[3..].to_vec(),
                Encoding::Utf16Le | Encoding::Utf16Be
                    if head.len() >= 2 && matches!(head[..2], [0xFF, 0xFE] | [0xFE, 0xFF]) =>
                {
                    head[2..].to_vec()
                }
                _ => head,
            };
        }
        if chunk.is_empty() && self.pending.is_empty() {
            return Ok(false);
        }
        self.out.clear();
        self.out_pos = 0;
        match self.encoding {
            Encoding::Utf16Le | Encoding::Utf16Be => {
                self.pending.extend_from_slice(&chunk);
                let at_end = chunk.is_empty();
                let whole = self.pending.len() / 2 * 2;
                let unit = if self.encoding == Encoding::Utf16Le {
                    u16::from_le_bytes
                } else {
                    u16::from_be_bytes
                };
                let mut units: Vec<u16> = self.pending[..whole]
                    .chunks_exact(2)
                    .map(|c| unit([c[0], c[1]]))
                    .collect();
                // Keep a trailing high surrogate for the next chunk unless the file has ended.
                let mut keep = self.pending[whole..].to_vec();
                if !at_end && units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
                    let last = units.pop().unwrap_or_default();
                    let mut bytes = if self.encoding == Encoding::Utf16Le {
                        last.to_le_bytes()
                    } else {
                        last.to_be_bytes()
                    }
                    .to_vec();
                    bytes.extend_from_slice(&keep);
                    keep = bytes;
                }
                let text: String = char::decode_utf16(units)
                    .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
                    .collect();
                self.out.extend_from_slice(text.as_bytes());
                self.pending = if at_end { Vec::new() } else { keep };
            }
            _ => self.out = chunk,
        }
        Ok(true)
    }
}

impl<R: Read> Read for Utf8Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos >= self.out.len() {
            if !self.fill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { vec![] };
        for u in text.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out
    }

    #[test]
    fn decodes_what_las_send() {
        assert_eq!(decode(b"\xEF\xBB\xBFCHILD,SEX").0, "CHILD,SEX");
        assert_eq!(
            decode(&utf16le("CHILD,SEX\r\n", true)),
            ("CHILD,SEX\r\n".into(), Encoding::Utf16Le)
        );
        assert_eq!(decode(&utf16le("CHILD", false)).0, "CHILD");
        assert_eq!(
            decode(b"caf\xE9 \x93x\x94"),
            ("café “x”".into(), Encoding::Windows1252)
        );
    }

    #[test]
    fn streams_utf16_as_utf8() {
        let text = "<a>é😀</a>".repeat(30_000);
        let mut reader = Utf8Reader::new(std::io::Cursor::new(utf16le(&text, true)));
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        assert_eq!(out, text);
        assert_eq!(reader.encoding(), Encoding::Utf16Le);

        let mut reader = Utf8Reader::new(std::io::Cursor::new(b"\xEF\xBB\xBF<a/>".to_vec()));
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        assert_eq!(out, "<a/>");
    }
}
