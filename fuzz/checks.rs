//! What each fuzz target checks, on any bytes. Shared by the targets in `fuzz_targets/` and by
//! the test that replays the kept corpus (`tests/integration/fuzz_corpus.rs`), so that what CI
//! replays is what the fuzzer ran.

use clap::Parser;
use tagroute::internals::{Line, Lines, MAX_LINE_BYTES, parse_parallel};
use tagroute::prefix::{IntervalSet, IpPrefix};

/// The service-tag reader: no panic. (The first two bytes once chose where a two-thread
/// reading cut the file; they are skipped, so that the kept corpus means what it meant.)
pub fn service_tags(data: &[u8]) {
    let file = match data {
        [_, _, rest @ ..] => rest,
        _ => data,
    };
    let _ = tagroute::snapshot::parse("fuzz", file);
}

/// The route-table reader: no panic, and every route it takes has a name Azure allows; read as
/// a Resource Manager answer too, it is taken only for the table asked for, and an ETag kept is
/// an entity tag fit for If-Match (never `*`).
pub fn route_table(data: &[u8]) {
    if let Ok(table) = tagroute::routes::parse("fuzz", data) {
        for r in &table.routes {
            assert!(
                tagroute::model::check_route_name(&r.name).is_ok(),
                "{:?}",
                r.name
            );
        }
    }
    let id: tagroute::arm::RouteTableId = FUZZ_TABLE.parse().expect("a valid id");
    if let Ok(live) = tagroute::arm::LiveTable::parse(&id, data) {
        let doc: serde_json::Value = serde_json::from_slice(data).expect("taken as JSON");
        assert!(doc["id"].as_str().unwrap().eq_ignore_ascii_case(FUZZ_TABLE));
        if let Ok(etag) = &live.etag {
            assert!(tagroute::arm::check_etag(etag).is_ok(), "{etag:?}");
            assert_ne!(etag, "*");
        }
    }
}

/// The table the route_table check reads answers for.
const FUZZ_TABLE: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt";

/// `aggregate`'s bulk line parser: no panic, and the addresses and bad items it finds are
/// those of a plain line-by-line reading with the general parser.
pub fn aggregate_lines(data: &[u8]) {
    let parsed = parse_parallel(data, 2, Some(data.len() as u64)).expect("reading memory");
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    let mut bad = 0u64;
    for line in data.split(|&b| b == b'\n') {
        if line.len() > MAX_LINE_BYTES {
            bad += 1;
            continue;
        }
        let line = line.split(|&b| b == b'#').next().unwrap_or_default();
        for item in line
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
        {
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
}

/// `lookup`'s line reader: no panic, one line for each line of the input whatever it holds,
/// and each line's text exactly the input's when it is taken.
pub fn lookup_lines(data: &[u8]) {
    // A small buffer, so that lines cross its ends.
    let mut lines = Lines::new(std::io::BufReader::with_capacity(5, data));
    let mut want: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if want.last() == Some(&&b""[..]) {
        want.pop();
    }
    let mut n = 0;
    while let Some((number, line)) = lines.next_line().expect("reading memory") {
        let raw = want[n];
        let raw = match raw.strip_suffix(b"\r") {
            Some(r) if raw.len() <= MAX_LINE_BYTES => r,
            _ => raw,
        };
        n += 1;
        assert_eq!(number, n as u64);
        match line {
            Line::Text(text) => assert_eq!(text.as_bytes(), raw),
            Line::TooLong { len, .. } => {
                assert!(len as usize == raw.len() && len as usize > MAX_LINE_BYTES)
            }
            Line::NotUtf8 { .. } => assert!(std::str::from_utf8(raw).is_err()),
        }
    }
    assert_eq!(n, want.len());
}

/// The command-line parser: an answer (arguments, or clap's error with its exit code) for any
/// argument list (NUL between arguments), never a panic.
pub fn arguments(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let args = std::iter::once("tagroute").chain(text.split('\0'));
    if let Err(e) = tagroute_cli::Cli::try_parse_from(args) {
        assert!(matches!(e.exit_code(), 0 | 2));
        let _ = e.render().to_string();
    }
}
