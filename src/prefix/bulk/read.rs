//! Reading a whole prefix list on every core: line-aligned chunks, a collector per worker, bad
//! lines counted and the first of them kept, lines of any length read in bounded memory.

use std::io::Read;
use std::sync::mpsc;

use super::buckets::{self, V4Buckets};
use super::merge::{joined, sort_and_coalesce};
use super::parse::{padded, parse_v4_range, parse_v4_window, parse_v6_range};
use crate::prefix::interval::IntervalSet;
use crate::prefix::net::{IpPrefix, PrefixError};

/// One worker's ranges, by family.
pub(super) struct Collector {
    pub(super) v4: V4Buckets,
    pub(super) v6: Vec<(u128, u128)>,
}

impl Collector {
    /// A collector with room for about `v4` IPv4 keys.
    pub(super) fn with_capacity(v4: usize) -> Self {
        Collector {
            v4: V4Buckets::with_capacity(v4),
            v6: Vec::new(),
        }
    }

    /// Adds one trimmed, non-empty line: a prefix or an address of either family.
    /// Adds each prefix of a line (several may stand on one, between spaces or tabs, as
    /// aggregate6 reads them); calls `bad` with each that is not one.
    pub(super) fn add_line(&mut self, line: &[u8], bad: &mut impl FnMut(&[u8], PrefixError)) {
        for item in line
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
        {
            if let Some((lo, hi)) = parse_v4_range(item) {
                self.v4.push(lo, (lo ^ hi).leading_zeros());
                continue;
            }
            if let Some(range) = parse_v6_range(item) {
                self.v6.push(range);
                continue;
            }
            match IpPrefix::parse_list_item(&String::from_utf8_lossy(item)) {
                Ok(IpPrefix::V4(p)) => self.v4.push(p.first(), p.len() as u32),
                Ok(IpPrefix::V6(p)) => self.v6.push((p.first(), p.last())),
                Err(e) => bad(item, e),
            }
        }
    }
}

/// A bad line: its number (1-based), its text (cut to [`BAD_TEXT_BYTES`]), and why.
#[derive(Debug)]
pub struct BadLine {
    pub line: u64,
    pub text: String,
    pub error: LineError,
}

/// Why a line, or an item on it, is not taken.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error(transparent)]
    Prefix(#[from] PrefixError),
    #[error("a line of {len} bytes, longer than the {MAX_LINE_BYTES}-byte limit")]
    TooLong { len: u64 },
}

/// The longest line read; a longer one is reported as bad, whole, and the input goes on.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// How much of a bad line's text is kept to be shown.
pub const BAD_TEXT_BYTES: usize = 256;
/// How many bad lines are kept, in order, to be shown; the rest are counted.
pub const BAD_LINES_KEPT: usize = 1000;

/// A bad line's text as kept: at most [`BAD_TEXT_BYTES`] of it, as text.
pub(super) fn bad_text(line: &[u8]) -> String {
    String::from_utf8_lossy(&line[..line.len().min(BAD_TEXT_BYTES)]).into_owned()
}

/// The prefixes of a whole input, parsed.
#[derive(Default)]
pub struct Parsed {
    /// Sorted runs of disjoint IPv4 ranges: for each input, one per sorting thread, in address
    /// order.
    pub v4_runs: Vec<Vec<(u32, u32)>>,
    /// Sorted runs of disjoint IPv6 ranges, one per worker.
    pub v6_runs: Vec<Vec<(u128, u128)>>,
    /// The first [`BAD_LINES_KEPT`] bad lines (or items of lines), in line order.
    pub bad: Vec<BadLine>,
    /// All bad lines (or items), kept or not.
    pub bad_count: u64,
    pub lines: u64,
}

impl Parsed {
    /// The IPv4 and the IPv6 addresses.
    pub fn into_sets(self) -> (IntervalSet<u32>, IntervalSet<u128>) {
        (
            IntervalSet::from_sorted_disjoint(joined(self.v4_runs)),
            IntervalSet::from_sorted_disjoint(joined(self.v6_runs)),
        )
    }
}

pub(super) const CHUNK: usize = 4 << 20;

/// What a worker found in one chunk: its lines, and its bad lines (the first
/// [`BAD_LINES_KEPT`], numbered within the chunk) with how many there were.
pub(super) struct ChunkReport {
    index: usize,
    lines: u64,
    bad: Vec<(u64, String, LineError)>,
    bad_count: u64,
}

/// Parses one chunk of whole lines (blank lines and `#` comments skipped) into `c`.
pub(super) fn parse_chunk(chunk: &[u8], c: &mut Collector, index: usize) -> ChunkReport {
    let mut report = ChunkReport {
        index,
        lines: 0,
        bad: Vec::new(),
        bad_count: 0,
    };
    let mut start = 0;
    let mut line_no = 0u64;
    let mut one = |start: usize, end: usize, line_no: u64, c: &mut Collector| {
        let line = &chunk[start..end];
        let mut bad = |text: &[u8], e: LineError| {
            report.bad_count += 1;
            if report.bad.len() < BAD_LINES_KEPT {
                report.bad.push((line_no, bad_text(text), e));
            }
        };
        if line.len() > MAX_LINE_BYTES {
            bad(
                line,
                LineError::TooLong {
                    len: line.len() as u64,
                },
            );
            return;
        }
        // The common case first: a bare prefix (maybe with a CR). The IPv4 parser reads the
        // line's first sixteen bytes straight from the chunk when they are there.
        let bare = line.strip_suffix(b"\r").unwrap_or(line);
        let v4 = match chunk[start..].first_chunk::<16>() {
            Some(window) => parse_v4_window(window, bare),
            None => parse_v4_window(&padded(bare), bare),
        };
        if let Some((addr, len)) = v4 {
            c.v4.push(addr, len);
            return;
        }
        if let Some(range) = parse_v6_range(bare) {
            c.v6.push(range);
            return;
        }
        let line = match memchr::memchr(b'#', line) {
            Some(i) => &line[..i],
            None => line,
        };
        let line = line.trim_ascii();
        if line.is_empty() {
            return;
        }
        c.add_line(line, &mut |item, e| bad(item, e.into()));
    };
    for nl in memchr::memchr_iter(b'\n', chunk) {
        line_no += 1;
        one(start, nl, line_no, c);
        start = nl + 1;
    }
    if start < chunk.len() {
        line_no += 1;
        one(start, chunk.len(), line_no, c);
    }
    report.lines = line_no;
    report
}

/// Parses a whole input on `threads` workers. `size_hint` (the file's size, when known) lets each
/// worker reserve its keys once instead of growing by doubling.
pub fn parse_parallel<R: Read>(
    mut input: R,
    threads: usize,
    size_hint: Option<u64>,
) -> std::io::Result<Parsed> {
    let threads = threads.max(1);
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = mpsc::channel::<ChunkReport>();
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        let mut senders = Vec::new();
        let mut workers = Vec::new();
        for _ in 0..threads {
            let (tx, rx) = mpsc::sync_channel::<(usize, Vec<u8>)>(1);
            senders.push(tx);
            let (done_tx, free_tx) = (done_tx.clone(), free_tx.clone());
            workers.push(scope.spawn(move || {
                // About 16 bytes a line: room for this worker's share at once. Without a size
                // (stdin), room for 8M lines a worker: address space only, backed as it is
                // written, where growing the arena would write the whole of its new part.
                let share = size_hint.map_or(1 << 23, |s| (s / 15 / threads as u64) as usize);
                let mut c = Collector::with_capacity(share);
                for (index, chunk) in rx {
                    let _ = done_tx.send(parse_chunk(&chunk, &mut c, index));
                    let _ = free_tx.send(chunk);
                }
                sort_and_coalesce(&mut c.v6);
                c
            }));
        }
        let free_tx_reader = free_tx;
        let mut carry: Vec<u8> = Vec::new();
        let mut index = 0usize;
        let mut at_end = false;
        while !at_end {
            let mut buf = free_rx
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(CHUNK + 4096));
            buf.clear();
            buf.extend_from_slice(&carry);
            carry.clear();
            // Fill the buffer up to CHUNK bytes (into spare capacity: no zero-filling).
            while buf.len() < CHUNK {
                let want = (CHUNK - buf.len()) as u64;
                match (&mut input).take(want).read_to_end(&mut buf) {
                    Ok(0) => {
                        at_end = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        drop(senders);
                        return Err(e);
                    }
                }
            }
            if !at_end {
                match memchr::memrchr(b'\n', &buf) {
                    Some(nl) => {
                        carry.extend_from_slice(&buf[nl + 1..]);
                        buf.truncate(nl + 1);
                    }
                    // A whole chunk of one line: far over the limit. It is reported as one bad
                    // line and the rest of it skipped, never split into lines that were not.
                    None => {
                        let len =
                            buf.len() as u64 + skip_line(&mut input, &mut carry, &mut at_end)?;
                        let _ = done_tx.send(ChunkReport {
                            index,
                            lines: 1,
                            bad: vec![(1, bad_text(&buf), LineError::TooLong { len })],
                            bad_count: 1,
                        });
                        index += 1;
                        buf.clear();
                        let _ = free_tx_reader.send(buf);
                        continue;
                    }
                }
            }
            if buf.is_empty() {
                continue;
            }
            if senders[index % threads].send((index, buf)).is_err() {
                break;
            }
            index += 1;
        }
        drop((senders, done_tx, free_tx_reader));
        let mut parsed = Parsed::default();
        let mut v4 = Vec::with_capacity(threads);
        for w in workers {
            let c = w.join().expect("a parser thread panicked");
            v4.push(c.v4);
            parsed.v6_runs.push(c.v6);
        }
        parsed.v4_runs = buckets::sort_buckets(&v4, threads);
        let mut reports: Vec<ChunkReport> = done_rx.into_iter().collect();
        reports.sort_by_key(|r| r.index);
        let mut before = 0u64;
        for r in reports {
            parsed.bad_count += r.bad_count;
            for (line, text, error) in r.bad {
                if parsed.bad.len() < BAD_LINES_KEPT {
                    parsed.bad.push(BadLine {
                        line: before + line,
                        text,
                        error,
                    });
                }
            }
            before += r.lines;
        }
        parsed.lines = before;
        Ok(parsed)
    })
}

/// Reads and drops the rest of a line (through its newline, or to the end of the input, which
/// sets `at_end`), returning how many bytes it had; what was read past the newline goes to
/// `carry`, the start of the next chunk.
pub(super) fn skip_line<R: Read>(
    input: &mut R,
    carry: &mut Vec<u8>,
    at_end: &mut bool,
) -> std::io::Result<u64> {
    let mut skipped = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => {
                *at_end = true;
                return Ok(skipped);
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        match memchr::memchr(b'\n', &buf[..n]) {
            Some(nl) => {
                carry.extend_from_slice(&buf[nl + 1..n]);
                return Ok(skipped + nl as u64);
            }
            None => skipped += n as u64,
        }
    }
}
