//! The bulk line parser of `aggregate` on any bytes: no panic, and the addresses it reads are
//! those of a plain line-by-line reading with the general parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagroute::prefix::bulk::{MAX_LINE_BYTES, parse_parallel};
use tagroute::prefix::{IntervalSet, IpPrefix};

fuzz_target!(|data: &[u8]| {
    let parsed = parse_parallel(data, 2, Some(data.len() as u64)).expect("reading memory");
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    let mut bad = 0u64;
    for line in data.split(|&b| b == b'\n') {
        if line.len() > MAX_LINE_BYTES {
            bad += 1;
            continue;
        }
        let line = line.split(|&b| b == b'#').next().unwrap();
        for item in line.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty()) {
            match IpPrefix::parse_list_item(&String::from_utf8_lossy(item)) {
                Ok(IpPrefix::V4(p)) => v4.push(p),
                Ok(IpPrefix::V6(p)) => v6.push(p),
                Err(_) => bad += 1,
            }
        }
    }
    assert_eq!(parsed.bad_count, bad);
    let (got4, got6) = parsed.into_sets();
    assert_eq!(got4, IntervalSet::from_prefixes(&v4));
    assert_eq!(got6, IntervalSet::from_prefixes(&v6));
});
