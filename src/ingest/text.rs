//! Getting text out of the files LAs actually send: UTF-8 with or without a byte-order mark,
//! UTF-16 exports from Excel or case-management systems, and the occasional Windows-1252 file.
//!
//! Which encoding a file is in is decided here ([`sniff`]: a BOM, or for BOM-less UTF-16 the
//! zero bytes of its first two characters, which `encoding_rs` does not look for; then, for
//! whole files, valid UTF-8 or else Windows-1252); the transcoding itself is `encoding_rs`'s
//! (the WHATWG decoders, SIMD-accelerated), streamed for the XML reader by `encoding_rs_io`'s
//! [`DecodeReaderBytes`] as ripgrep does.
//!
//! Malformed input is never an error here: each invalid sequence becomes one U+FFFD
//! replacement character — a bad byte in a file with a UTF-8 BOM, an unpaired surrogate or a
//! final odd byte in UTF-16 — and the rows holding one are then rejected or reported by the
//! readers' own checks (a code that is not in its list, a date that is not a date). A file
//! without a BOM that is not valid UTF-8 is read as Windows-1252, which maps every byte, and
//! reported as such; the XML stream without a BOM is passed through as bytes, and quick-xml
//! reports invalid UTF-8 where it meets it.

use std::io::{self, Read};

use encoding_rs::{UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};

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
    let encoding = sniff(bytes);
    let text = match encoding {
        // The BOM is dropped here; a second one after it is text (U+FEFF), as it always was.
        Encoding::Utf8Bom => UTF_8.decode_without_bom_handling(&bytes[3..]).0,
        // Removes the BOM when there is one (a BOM-less file was sniffed by its zero bytes).
        Encoding::Utf16Le => UTF_16LE.decode_with_bom_removal(bytes).0,
        Encoding::Utf16Be => UTF_16BE.decode_with_bom_removal(bytes).0,
        Encoding::Utf8 | Encoding::Windows1252 => {
            match UTF_8.decode_without_bom_handling_and_without_replacement(bytes) {
                Some(text) => text,
                None => {
                    let text = WINDOWS_1252.decode_without_bom_handling(bytes).0;
                    return (text.into_owned(), Encoding::Windows1252);
                }
            }
        }
    };
    (text.into_owned(), encoding)
}

/// A stream of UTF-8 made by [`utf8_reader`]: UTF-16 transcoded, UTF-8 passed through with
/// its BOM dropped.
pub type Utf8Reader<R> = DecodeReaderBytes<io::Chain<io::Cursor<Vec<u8>>, R>, Vec<u8>>;

/// Reads the first bytes of `inner` to find its encoding ([`sniff`]) and returns a reader of
/// its text as UTF-8, so the XML parser can stream a file in any of them with bounded memory.
/// UTF-8 is handed on as it is (without its BOM), unchecked: quick-xml checks it.
pub fn utf8_reader<R: Read>(mut inner: R) -> io::Result<(Utf8Reader<R>, Encoding)> {
    let mut head = [0u8; 4];
    let n = read_up_to(&mut inner, &mut head)?;
    let encoding = sniff(&head[..n]);
    let mut builder = DecodeReaderBytesBuilder::new();
    match encoding {
        // An explicit decoder (BOM-less UTF-16 has no BOM to sniff); it removes a BOM itself.
        Encoding::Utf16Le => builder.encoding(Some(UTF_16LE)),
        Encoding::Utf16Be => builder.encoding(Some(UTF_16BE)),
        Encoding::Utf8Bom => builder.bom_sniffing(false).strip_bom(true),
        Encoding::Utf8 | Encoding::Windows1252 => builder.bom_sniffing(false),
    };
    let source = io::Cursor::new(head[..n].to_vec()).chain(inner);
    // 64 KiB of transcoding buffer, as the reader this replaced read its chunks.
    let reader = builder.build_with_buffer(source, vec![0; 64 * 1024])?;
    Ok((reader, encoding))
}

/// Reads until `buf` is full or the stream ends: how many bytes were read.
pub fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let m = reader.read(&mut buf[n..])?;
        if m == 0 {
            break;
        }
        n += m;
    }
    Ok(n)
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
    fn windows_1252_maps_every_byte_as_before() {
        // 0x80–0x9F differ from Latin-1; the five bytes Windows-1252 leaves undefined stay the
        // C1 controls of the same value, as the table this replaced had them.
        const HIGH: [char; 32] = [
            '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
            '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ',
            '\u{9D}', 'ž', 'Ÿ',
        ];
        let bytes: Vec<u8> = (0x80..=0xFF).collect();
        let (text, encoding) = decode(&bytes);
        assert_eq!(encoding, Encoding::Windows1252);
        let expected: String = (0x80..=0xFFu8)
            .map(|b| match b {
                0x80..=0x9F => HIGH[(b - 0x80) as usize],
                _ => b as char,
            })
            .collect();
        assert_eq!(text, expected);
    }

    #[test]
    fn malformed_sequences_become_replacement_characters() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFcaf\xE9,1"),
            ("caf\u{FFFD},1".into(), Encoding::Utf8Bom)
        );
        // An unpaired surrogate, and a final odd byte.
        let mut bytes = utf16le("A", true);
        bytes.extend_from_slice(&0xD800u16.to_le_bytes());
        bytes.extend_from_slice(&utf16le("B", false));
        bytes.push(b'C');
        assert_eq!(
            decode(&bytes),
            ("A\u{FFFD}B\u{FFFD}".into(), Encoding::Utf16Le)
        );
    }

    fn read_all(bytes: Vec<u8>) -> (Vec<u8>, Encoding) {
        let (mut reader, encoding) = utf8_reader(std::io::Cursor::new(bytes)).unwrap();
        let mut out = vec![];
        reader.read_to_end(&mut out).unwrap();
        (out, encoding)
    }

    #[test]
    fn streams_utf16_as_utf8() {
        // Long enough that surrogate pairs straddle the 64 KiB transcoding buffer.
        let text = "<a>é😀</a>".repeat(30_000);
        assert_eq!(
            read_all(utf16le(&text, true)),
            (text.clone().into_bytes(), Encoding::Utf16Le)
        );
        assert_eq!(
            read_all(utf16le(&text, false)),
            (text.into_bytes(), Encoding::Utf16Le)
        );
        let be: Vec<u8> = "\u{feff}<b/>"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(read_all(be), (b"<b/>".to_vec(), Encoding::Utf16Be));
        assert_eq!(
            read_all(b"\xEF\xBB\xBF<a/>".to_vec()),
            (b"<a/>".to_vec(), Encoding::Utf8Bom)
        );
        // UTF-8 is passed through unchecked, invalid bytes and all (quick-xml reports them).
        assert_eq!(
            read_all(b"<a>\xE9</a>".to_vec()),
            (b"<a>\xE9</a>".to_vec(), Encoding::Utf8)
        );
        assert_eq!(read_all(vec![]), (vec![], Encoding::Utf8));
    }
}
