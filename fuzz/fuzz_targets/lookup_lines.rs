//! The line reader of `lookup` on any bytes: no panic, one line for each line of the input
//! whatever it holds, and each line's text exactly the input's when it is taken.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagroute::lines::{Line, Lines, MAX_LINE_BYTES};

fuzz_target!(|data: &[u8]| {
    // A small buffer so that lines cross its ends.
    let mut lines = Lines::new(std::io::BufReader::with_capacity(5, data));
    let mut want = data.split(|&b| b == b'\n').collect::<Vec<_>>();
    if want.last() == Some(&&b""[..]) {
        want.pop();
    }
    let mut n = 0;
    while let Some((number, line)) = lines.next_line().unwrap() {
        let raw = want[n];
        let raw = raw.strip_suffix(b"\r").filter(|_| raw.len() <= MAX_LINE_BYTES).unwrap_or(raw);
        n += 1;
        assert_eq!(number, n as u64);
        match line {
            Line::Text(text) => assert_eq!(text.as_bytes(), raw),
            Line::TooLong { len, .. } => assert!(len as usize == raw.len() && len as usize > MAX_LINE_BYTES),
            Line::NotUtf8 { .. } => assert!(std::str::from_utf8(raw).is_err()),
        }
    }
    assert_eq!(n, want.len());
});
