//! Lines of outside text (addresses for `lookup`), read with bounded memory.
//!
//! A line is a line however long: one longer than [`MAX_LINE_BYTES`] is read to its end
//! without being kept and reported whole, with its start; one that is not UTF-8 is reported
//! with its number; either way reading goes on with the next line.

use std::io::{self, BufRead};

pub use crate::prefix::bulk::MAX_LINE_BYTES;

/// How much of a line that cannot be taken is kept to be shown.
pub(crate) const SHOWN_BYTES: usize = 256;

/// One line, without its line ending (`\n` or `\r\n`).
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Text(&'a str),
    /// Longer than [`MAX_LINE_BYTES`]: its first bytes and its length.
    TooLong {
        start: &'a [u8],
        len: u64,
    },
    /// Not UTF-8: its first bytes.
    NotUtf8 {
        start: &'a [u8],
    },
}

/// Reads lines from `R`.
pub struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    number: u64,
}

impl<R: BufRead> Lines<R> {
    /// Reads lines from `reader`.
    pub fn new(reader: R) -> Self {
        Lines {
            reader,
            buf: Vec::new(),
            number: 0,
        }
    }

    /// The next line and its number (from 1), or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        self.buf.clear();
        let mut len = 0u64;
        let mut read_any = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                if !read_any {
                    return Ok(None);
                }
                break;
            }
            read_any = true;
            let newline = memchr::memchr(b'\n', available);
            let part = &available[..newline.unwrap_or(available.len())];
            // Kept up to one byte past the limit: enough to tell that it was passed.
            let room = (MAX_LINE_BYTES + 1).saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&part[..part.len().min(room)]);
            len += part.len() as u64;
            let used = newline.map_or(available.len(), |i| i + 1);
            self.reader.consume(used);
            if newline.is_some() {
                break;
            }
        }
        self.number += 1;
        if len <= MAX_LINE_BYTES as u64 && self.buf.last() == Some(&b'\r') {
            self.buf.pop();
            len -= 1;
        }
        let shown = |b: &[u8]| b.len().min(SHOWN_BYTES);
        let line = if len > MAX_LINE_BYTES as u64 {
            Line::TooLong {
                start: &self.buf[..shown(&self.buf)],
                len,
            }
        } else {
            match std::str::from_utf8(&self.buf) {
                Ok(text) => Line::Text(text),
                Err(_) => Line::NotUtf8 {
                    start: &self.buf[..shown(&self.buf)],
                },
            }
        };
        Ok(Some((self.number, line)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<(u64, String)> {
        // A small buffer, so that lines cross buffer ends.
        let mut lines = Lines::new(io::BufReader::with_capacity(7, input));
        let mut out = Vec::new();
        while let Some((n, line)) = lines.next_line().unwrap() {
            out.push((n, format!("{line:?}")));
        }
        out
    }

    #[test]
    fn lines_keep_their_numbers_whatever_they_hold() {
        let mut input = b"1.2.3.4\r\n\xff\xfe\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 10));
        input.extend_from_slice(b"\n\nlast");
        let got = all(&input);
        assert_eq!(got.len(), 5);
        assert_eq!(got[0], (1, "Text(\"1.2.3.4\")".into()));
        assert!(got[1].1.starts_with("NotUtf8"));
        assert!(
            got[2].1.starts_with("TooLong")
                && got[2].1.contains(&format!("len: {}", MAX_LINE_BYTES + 10))
        );
        assert_eq!(got[3], (4, "Text(\"\")".into()));
        assert_eq!(got[4], (5, "Text(\"last\")".into()));
        assert!(all(b"").is_empty());
        // Exactly at the limit is a line; one byte more is not.
        let at = vec![b'y'; MAX_LINE_BYTES];
        assert!(all(&at)[0].1.starts_with("Text"));
        let over = vec![b'y'; MAX_LINE_BYTES + 1];
        assert!(all(&over)[0].1.starts_with("TooLong"));
    }
}
