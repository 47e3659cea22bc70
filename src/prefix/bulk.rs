//! Aggregating very large prefix lists: a hand-written line parser, integer keys, a radix sort
//! and one linear merge.
//!
//! The trie is the right shape for planning (labels, lookups), but to aggregate ten million lines
//! a flat array wins: each IPv4 prefix becomes one `u32` in one of 256 buckets (see `buckets.rs`),
//! so sorting is a radix sort of small buckets and merging is one pass. Measured on the public
//! file's ~69k IPv4 prefixes, sort-and-merge is ~3× faster than inserting into the trie (see
//! `benches/`). IPv6 prefixes take two `u128`s and a parser of their own, with std's behind it.
//!
//! [`parse_parallel`] runs the parse on every core: the reading thread cuts the input into
//! line-aligned chunks, each worker parses its chunks into its own buckets (and sorts its own IPv6
//! ranges), then the buckets are divided among the cores to be sorted and coalesced. Memory stays
//! at one `u32` per IPv4 line plus a few chunk buffers.

use std::io::Read;
use std::sync::mpsc;

use self::buckets::V4Buckets;
use super::addr::Addr;
use super::interval::{IntervalSet, range_prefixes};
use super::net::{IpPrefix, Prefix, PrefixError};
use crate::bytes16;

mod buckets;

/// Parses `a.b.c.d` or `a.b.c.d/len` (no host bits), returning the range; `None` for anything
/// else, including valid IPv6 (callers fall back to the general parser for those and for errors).
#[inline]
pub fn parse_v4_range(line: &[u8]) -> Option<(u32, u32)> {
    let (addr, len) = parse_v4_window(&padded(line), line)?;
    Some((addr, addr | host_mask(len)))
}

/// A line's first sixteen bytes, zero-padded when it is shorter.
#[inline]
fn padded(line: &[u8]) -> [u8; 16] {
    let mut window = [0u8; 16];
    let head = line.len().min(16);
    window[..head].copy_from_slice(&line[..head]);
    window
}

/// The host bits of an IPv4 prefix of length `len`.
#[inline]
fn host_mask(len: u32) -> u32 {
    u32::MAX.checked_shr(len).unwrap_or(0)
}

/// [`parse_v4_range`] given the sixteen bytes that start at the line (what follows the line in
/// them is ignored), returning the address and the prefix length. The address (at most 15
/// bytes) lies inside the window, so its dots, its end and its octets are found with masks of
/// the whole window instead of a loop that branches on every digit: random octet lengths made
/// that loop mispredict several times a line.
#[inline]
fn parse_v4_window(window: &[u8; 16], line: &[u8]) -> Option<(u32, u32)> {
    // Bit k of each mask stands for byte k; bytes past the line count as neither.
    let in_line = (1u32 << line.len().min(16)) - 1;
    let dots = bytes16::mask(window, b".") & in_line;
    let digits = bytes16::digits(window) & in_line;
    // The address ends at the first byte that is neither a digit nor a dot (a '/', or the line's
    // end). Everything before it is digits and exactly three dots.
    let end = (!(dots | digits)).trailing_zeros() as usize;
    if end > 15 {
        return None;
    }
    // Exactly three dots before the end: clearing the lowest set bit three times leaves none.
    // (Not `count_ones`: without POPCNT in the x86_64 baseline that is a long bit-twiddling
    // sequence.)
    let dots = dots & ((1 << end) - 1);
    let rest = dots & dots.wrapping_sub(1);
    let last = rest & rest.wrapping_sub(1);
    if last == 0 || last & (last - 1) != 0 {
        return None;
    }
    let d1 = dots.trailing_zeros() as usize;
    let d2 = rest.trailing_zeros() as usize;
    let d3 = last.trailing_zeros() as usize;
    let w = u128::from_le_bytes(*window);
    let mut addr = 0u32;
    let mut bad = false;
    for (start, stop) in [(0, d1), (d1 + 1, d2), (d2 + 1, d3), (d3 + 1, end)] {
        let len = stop - start;
        // The octet's bytes as digit values, right-aligned in three byte slots: one to three
        // digits become 00c, 0bc or abc (the bytes after the octet are shifted out).
        let digits = ((w >> (8 * start)) as u32 & 0xff_ffff) ^ 0x30_3030;
        let slots = (digits << (8 * (3 - len.min(3)))) & 0xff_ffff;
        let value = 100 * (slots & 0xff) + 10 * (slots >> 8 & 0xff) + (slots >> 16);
        // No empty octet, no more than three digits, none over 255, no leading zero (without
        // short-circuits: one test at the end instead of a branch per condition).
        bad |= (len.wrapping_sub(1) > 2) | (value > 255) | ((len > 1) & (digits & 0xff == 0));
        addr = addr << 8 | value;
    }
    if bad {
        return None;
    }
    let len = match line.get(end..) {
        Some([]) => 32,
        Some([b'/', digits @ ..]) => parse_len(digits, 32)?,
        _ => return None,
    };
    (addr & host_mask(len) == 0).then_some((addr, len))
}

/// Each byte's value as a hex digit; 16 for anything else.
static HEX_DIGIT: [u8; 256] = {
    let mut table = [16u8; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            c @ b'0'..=b'9' => c - b'0',
            c @ b'a'..=b'f' => c - b'a' + 10,
            c @ b'A'..=b'F' => c - b'A' + 10,
            _ => 16,
        };
        b += 1;
    }
    table
};

/// A prefix length of one to three plain digits, at most `max`.
#[inline]
fn parse_len(digits: &[u8], max: u32) -> Option<u32> {
    let d = |c: u8| c.is_ascii_digit().then(|| (c - b'0') as u32);
    let len = match *digits {
        [a] => d(a)?,
        [a, b] => d(a)? * 10 + d(b)?,
        [a, b, c] => d(a)? * 100 + d(b)? * 10 + d(c)?,
        _ => return None,
    };
    (len <= max).then_some(len)
}

/// Parses an IPv6 address or prefix of hex groups (`2001:db8::/32`, `::1`, no host bits),
/// returning the range; `None` for anything else, including embedded IPv4 (`::ffff:1.2.3.4`),
/// which callers leave to std's parser, as they do errors.
///
/// The rules are std's: one to four hex digits a group, eight groups, or fewer with one `::`
/// standing for at least one zero group.
#[inline]
pub fn parse_v6_range(line: &[u8]) -> Option<(u128, u128)> {
    let mut groups = [0u16; 8];
    let (mut n, mut gap) = (0usize, None);
    let mut i = 0;
    if line.starts_with(b"::") {
        (gap, i) = (Some(0), 2);
    }
    loop {
        let start = i;
        let mut value = 0u32;
        while let Some(&b) = line.get(i) {
            let digit = HEX_DIGIT[b as usize];
            if digit > 15 {
                break;
            }
            value = value << 4 | digit as u32;
            i += 1;
        }
        let at_end = matches!(line.get(i), None | Some(b'/'));
        match i - start {
            // No group: only after a `::` that ends the address.
            0 if gap == Some(n) && at_end => break,
            0 | 5.. => return None,
            _ if n == 8 => return None,
            _ => {
                groups[n] = value as u16;
                n += 1;
            }
        }
        if at_end {
            break;
        }
        if line[i] != b':' {
            return None;
        }
        if line.get(i + 1) == Some(&b':') {
            if gap.is_some() {
                return None;
            }
            (gap, i) = (Some(n), i + 2);
        } else {
            i += 1;
        }
    }
    let mut addr = 0u128;
    match gap {
        None if n == 8 => {}
        Some(at) if n <= 7 => {
            // The groups after the gap move to the end.
            groups.copy_within(at..n, at + 8 - n);
            groups[at..at + 8 - n].fill(0);
        }
        _ => return None,
    }
    for g in groups {
        addr = addr << 16 | g as u128;
    }
    let len = match line.get(i..) {
        Some([]) => 128,
        Some([b'/', digits @ ..]) => parse_len(digits, 128)?,
        _ => return None,
    };
    let host = u128::MAX.checked_shr(len).unwrap_or(0);
    (addr & host == 0).then_some((addr, addr | host))
}

/// Parses `ADDRESS/LENGTH` of either family exactly as [`IpPrefix::parse`] does wherever it
/// answers; `None` leaves the text (an error, or a rare form such as embedded IPv4) to that
/// parser. For a list of short strings, such as a service-tag file's: one pass over the bytes,
/// where [`parse_v4_range`] is made for lines read in bulk.
#[inline]
pub fn parse_cidr(text: &[u8]) -> Option<IpPrefix> {
    if let Some((p, n)) = parse_v4_cidr_head(text)
        && n == text.len()
    {
        return Some(IpPrefix::V4(p));
    }
    if !text.contains(&b'/') {
        return None;
    }
    let (lo, hi) = parse_v6_range(text)?;
    Prefix::new(lo, (lo ^ hi).leading_zeros() as u8).map(IpPrefix::V6)
}

/// `a.b.c.d/len` at the start of `text` with std's rules (one to three digits an octet, no
/// leading zero, at most 255; a length of one to three digits, at most 32; no host bits), and
/// how many bytes it takes: what follows is for the caller to judge (the end of a line, the
/// quote that closes a JSON string).
#[inline]
pub fn parse_v4_cidr_head(text: &[u8]) -> Option<(Prefix<u32>, usize)> {
    let digit = |i: usize| {
        text.get(i)
            .and_then(|c| c.checked_sub(b'0'))
            .filter(|&d| d <= 9)
    };
    let (mut addr, mut i) = (0u32, 0);
    for sep in [b'.', b'.', b'.', b'/'] {
        let first = digit(i)?;
        let mut octet = first as u32;
        i += 1;
        // A leading zero stands alone; what follows it must be the separator.
        if first != 0 {
            for _ in 0..2 {
                let Some(d) = digit(i) else { break };
                octet = octet * 10 + d as u32;
                i += 1;
            }
        }
        if octet > 255 || *text.get(i)? != sep {
            return None;
        }
        addr = addr << 8 | octet;
        i += 1;
    }
    let start = i;
    let end = start
        + text[start..]
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_digit())
            .count();
    let len = parse_len(&text[start..end], 32)?;
    Some((Prefix::new(addr, len as u8)?, end))
}

/// One worker's ranges, by family.
struct Collector {
    v4: V4Buckets,
    v6: Vec<(u128, u128)>,
}

impl Collector {
    /// A collector with room for about `v4` IPv4 keys.
    fn with_capacity(v4: usize) -> Self {
        Collector {
            v4: V4Buckets::with_capacity(v4),
            v6: Vec::new(),
        }
    }

    /// Adds one trimmed, non-empty line: a prefix or an address of either family.
    /// Adds each prefix of a line (several may stand on one, between spaces or tabs, as
    /// aggregate6 reads them); calls `bad` with each that is not one.
    fn add_line(&mut self, line: &[u8], bad: &mut impl FnMut(&[u8], PrefixError)) {
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
fn bad_text(line: &[u8]) -> String {
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

/// Sorted, coalesced runs as one: runs that follow each other in address order (the IPv4 runs of
/// one input) are appended to the first, which has room for them, joining ranges where they meet;
/// others are merged in one linear pass per pair.
fn joined<K: RangeKey>(runs: Vec<Vec<K>>) -> Vec<K> {
    let runs: Vec<Vec<K>> = runs.into_iter().filter(|r| !r.is_empty()).collect();
    if !runs.windows(2).all(|w| w[0][w[0].len() - 1] <= w[1][0]) {
        return merged(&runs);
    }
    let mut runs = runs.into_iter();
    let mut all = runs.next().unwrap_or_default();
    for run in runs {
        // A range of the earlier run may reach over the first ranges of this one.
        let mut skip = 0;
        while let (Some(last), Some(&k)) = (all.last_mut(), run.get(skip))
            && last.joins(k)
        {
            *last = last.with_last(last.last().max(k.last()));
            skip += 1;
        }
        all.extend_from_slice(&run[skip..]);
    }
    all
}

/// A range as merging sees it: a pair of addresses, ordered by first address.
trait RangeKey: Copy + Ord {
    fn first(self) -> u128;
    fn last(self) -> u128;
    fn with_last(self, last: u128) -> Self;
    /// True when `next` (not before `self` in order) overlaps or touches `self`.
    #[inline]
    fn joins(self, next: Self) -> bool {
        next.first() <= self.last().saturating_add(1)
    }
}

impl RangeKey for (u32, u32) {
    #[inline]
    fn first(self) -> u128 {
        self.0 as u128
    }
    #[inline]
    fn last(self) -> u128 {
        self.1 as u128
    }
    #[inline]
    fn with_last(self, last: u128) -> Self {
        (self.0, last as u32)
    }
}

impl RangeKey for (u128, u128) {
    #[inline]
    fn first(self) -> u128 {
        self.0
    }
    #[inline]
    fn last(self) -> u128 {
        self.1
    }
    #[inline]
    fn with_last(self, last: u128) -> Self {
        (self.0, last)
    }
}

/// Merges sorted, coalesced runs, handing each merged range to `emit` in order: with two
/// workers, one pass straight into the caller's list, no intermediate copy.
fn merge_runs<K: RangeKey>(runs: &[Vec<K>], emit: &mut impl FnMut(K)) {
    match runs {
        [] => {}
        [one] => one.iter().for_each(|&k| emit(k)),
        [a, b] => merge_two(a, b, emit),
        [first, second, middle @ .., last] => {
            // More workers: fold all but the last run into one list; the last merge emits.
            let mut folded = Vec::new();
            merge_two(first, second, &mut |k| folded.push(k));
            for run in middle {
                let mut next = Vec::new();
                merge_two(&folded, run, &mut |k| next.push(k));
                folded = next;
            }
            merge_two(&folded, last, emit);
        }
    }
}

/// The runs merged into one list of ranges, in a buffer sized and backed for its length.
fn merged<K: RangeKey>(runs: &[Vec<K>]) -> Vec<K> {
    let mut out = Vec::with_capacity(runs.iter().map(Vec::len).sum());
    advise_huge_pages(&mut out);
    merge_runs(runs, &mut |k| out.push(k));
    out
}

const CHUNK: usize = 4 << 20;

/// Sorts keys and coalesces them in place into disjoint, non-adjacent ranges.
fn sort_and_coalesce<K: RangeKey>(keys: &mut Vec<K>) {
    keys.sort_unstable();
    let mut w = 0usize;
    for r in 0..keys.len() {
        if w > 0 && keys[w - 1].joins(keys[r]) {
            keys[w - 1] = keys[w - 1].with_last(keys[w - 1].last().max(keys[r].last()));
        } else {
            keys[w] = keys[r];
            w += 1;
        }
    }
    keys.truncate(w);
    keys.shrink_to_fit();
}

/// Asks the kernel to back a large buffer's capacity with 2 MiB pages (transparent huge pages,
/// where enabled for `madvise`): ten million keys otherwise fault in 20 000 pages of 4 KiB one
/// at a time, and in a virtual machine each fault costs microseconds. Measured on 10M lines:
/// about a tenth of the run.
fn advise_huge_pages<T>(v: &mut Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = v.as_mut_ptr() as usize;
        let end = start + v.capacity() * std::mem::size_of::<T>();
        let (lo, hi) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
        if hi > lo {
            // SAFETY: madvise only changes how the kernel backs these pages, never their
            // contents, and the range lies inside this vector's own allocation.
            unsafe { libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE) };
        }
    }
}

/// Merges two coalesced range lists, handing each merged range to `emit` in order.
fn merge_two<K: RangeKey>(a: &[K], b: &[K], emit: &mut impl FnMut(K)) {
    let (mut i, mut j) = (0, 0);
    let mut open: Option<K> = None;
    while i < a.len() || j < b.len() {
        let k = if j == b.len() || (i < a.len() && a[i] < b[j]) {
            i += 1;
            a[i - 1]
        } else {
            j += 1;
            b[j - 1]
        };
        open = match open {
            Some(last) if last.joins(k) => Some(last.with_last(last.last().max(k.last()))),
            Some(last) => {
                emit(last);
                Some(k)
            }
            None => Some(k),
        };
    }
    if let Some(last) = open {
        emit(last);
    }
}

/// What a worker found in one chunk: its lines, and its bad lines (the first
/// [`BAD_LINES_KEPT`], numbered within the chunk) with how many there were.
struct ChunkReport {
    index: usize,
    lines: u64,
    bad: Vec<(u64, String, LineError)>,
    bad_count: u64,
}

/// Parses one chunk of whole lines (blank lines and `#` comments skipped) into `c`.
fn parse_chunk(chunk: &[u8], c: &mut Collector, index: usize) -> ChunkReport {
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
fn skip_line<R: Read>(
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

/// Writes the prefixes of sorted, disjoint ranges, one a line, to `out`: blocks of ranges are
/// formatted on every core at once and written in order. (Formatting three million prefixes
/// took a tenth of a ten-million-line run on one core.)
pub fn write_prefixes<A: Addr>(
    ranges: &[(A, A)],
    format: fn(&mut Vec<u8>, Prefix<A>),
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    const BLOCK: usize = 1 << 16;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let mut texts: Vec<Vec<u8>> = vec![Vec::new(); threads];
    let fill = |block: &[(A, A)], text: &mut Vec<u8>| {
        text.clear();
        for &(lo, hi) in block {
            range_prefixes(lo, hi, |p| {
                format(text, p);
                text.push(b'\n');
            });
        }
    };
    for round in ranges.chunks(BLOCK * threads) {
        if round.len() <= BLOCK {
            // One block (every short list): no thread to start.
            fill(round, &mut texts[0]);
        } else {
            std::thread::scope(|scope| {
                for (block, text) in round.chunks(BLOCK).zip(texts.iter_mut()) {
                    scope.spawn(move || fill(block, text));
                }
            });
        }
        for text in texts.iter().take(round.len().div_ceil(BLOCK)) {
            out.write_all(text)?;
        }
    }
    Ok(())
}

/// Writes `a.b.c.d/len` without going through `fmt`.
pub fn write_v4(out: &mut Vec<u8>, p: Prefix<u32>) {
    let mut text = Text::default();
    text.dotted(p.addr());
    text.byte(b'/');
    text.dec(p.len());
    out.extend_from_slice(text.as_bytes());
}

/// Writes an IPv6 prefix as glibc's `inet_ntop` does, which is what aggregate6 prints: RFC 5952
/// (lower case, no leading zeros, the first longest run of two or more zero groups as `::`), and
/// the last 32 bits in dotted decimal for IPv4-compatible (`::1.2.3.4`) and IPv4-mapped
/// (`::ffff:1.2.3.4`) addresses.
pub fn write_v6(out: &mut Vec<u8>, p: Prefix<u128>) {
    let a = p.addr();
    let groups: [u16; 8] = std::array::from_fn(|i| (a >> (112 - 16 * i)) as u16);
    let (mut gap, mut gap_len) = (8, 0);
    let mut i = 0;
    while i < 8 {
        let start = i;
        while i < 8 && groups[i] == 0 {
            i += 1;
        }
        if i - start > gap_len.max(1) {
            (gap, gap_len) = (start, i - start);
        }
        i += 1;
    }
    let embedded_v4 = gap == 0 && (gap_len == 6 || gap_len == 5 && groups[5] == 0xffff);
    let mut text = Text::default();
    let mut i = 0;
    while i < 8 {
        if i == gap {
            text.byte(b':');
            if i + gap_len == 8 {
                text.byte(b':');
            }
            i += gap_len;
            continue;
        }
        if i != 0 {
            text.byte(b':');
        }
        if i == 6 && embedded_v4 {
            text.dotted(a as u32);
            break;
        }
        text.hex(groups[i]);
        i += 1;
    }
    text.byte(b'/');
    text.dec(p.len());
    out.extend_from_slice(text.as_bytes());
}

/// Each byte's decimal digits and a dot, in four bytes, and how many digits: written in one
/// copy, the dot kept or overwritten.
static DECIMAL: [([u8; 4], u8); 256] = {
    let mut table = [([0u8; 4], 0u8); 256];
    let mut v = 0;
    while v < 256 {
        let (text, digits) = &mut table[v];
        let d = [(v / 100) as u8, (v / 10 % 10) as u8, (v % 10) as u8];
        *digits = if v >= 100 {
            3
        } else if v >= 10 {
            2
        } else {
            1
        };
        let mut k = 0;
        while k < *digits as usize {
            text[k] = b'0' + d[3 - *digits as usize + k];
            k += 1;
        }
        text[k] = b'.';
        v += 1;
    }
    table
};

/// One prefix's text, built on the stack and copied out once: the longest (an IPv6 prefix
/// with eight full groups and `/128`) is 43 bytes, and writers may store up to four bytes
/// past the length.
struct Text {
    buf: [u8; 48],
    len: usize,
}

impl Default for Text {
    fn default() -> Self {
        Text {
            buf: [0; 48],
            len: 0,
        }
    }
}

impl Text {
    #[inline]
    fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// A byte in decimal, then (not counted in the length) a dot.
    #[inline]
    fn dec(&mut self, v: u8) {
        let (text, digits) = DECIMAL[v as usize];
        self.buf[self.len..self.len + 4].copy_from_slice(&text);
        self.len += digits as usize;
    }

    /// A group in lower-case hex without leading zeros: all four digits are made at once, one
    /// nibble a byte, and stored together; only the significant ones are kept.
    #[inline]
    fn hex(&mut self, v: u16) {
        let v = v as u32;
        let digits = (8 - v.leading_zeros() as usize / 4).max(1);
        // Byte k holds nibble 3 - k, so the first digit comes first in memory.
        let nibbles = (v >> 12) | (v >> 8 & 0xf) << 8 | (v >> 4 & 0xf) << 16 | (v & 0xf) << 24;
        let letters = ((nibbles + 0x0606_0606) >> 4) & 0x0101_0101; // 1 in each byte above 9
        let ascii =
            (nibbles + 0x3030_3030 + letters * (b'a' - b'0' - 10) as u32) >> (8 * (4 - digits));
        self.buf[self.len..self.len + 4].copy_from_slice(&ascii.to_le_bytes());
        self.len += digits;
    }

    #[inline]
    fn dotted(&mut self, a: u32) {
        for shift in [24, 16, 8] {
            self.dec((a >> shift) as u8);
            self.len += 1; // the dot `dec` wrote
        }
        self.dec(a as u8);
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a collector holds, as address sets made by the interval reference.
    fn sets(c: &Collector) -> (IntervalSet<u32>, IntervalSet<u128>) {
        let v4 = c.v4.ranges().collect();
        (
            IntervalSet::from_ranges(v4),
            IntervalSet::from_ranges(c.v6.clone()),
        )
    }

    /// The range the strict parser gives, when it gives one of family `A`.
    fn strict_range<A: Addr>(text: &str) -> Option<(u128, u128)> {
        match IpPrefix::parse_or_host(text).ok()? {
            IpPrefix::V4(p) if A::BITS == 32 => Some((p.first() as u128, p.last() as u128)),
            IpPrefix::V6(p) if A::BITS == 128 => Some((p.first(), p.last())),
            _ => None,
        }
    }

    #[test]
    fn fast_parser_agrees_with_std() {
        let cases = [
            "1.2.3.4",
            "1.2.3.0/24",
            "0.0.0.0/0",
            "255.255.255.255/32",
            "10.0.0.1/8",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.4/33",
            "1.2.3.4/",
            "1.2.3.4/08",
            "1.2.3.4/8x",
            " 1.2.3.4",
            "1..2.3",
            "::1",
            "1.2.3.4/32",
            "10.0.0.0/7",
            "10.0.0.0/07",
            "10.0.0.0/007",
            "10.0.0.0/0007",
            "1.2.3.4/-1",
            "1234.1.1.1",
        ];
        for c in cases {
            let slow = strict_range::<u32>(c);
            // The fast path either agrees or defers to the general parser (for errors and rare forms).
            match parse_v4_range(c.as_bytes()) {
                Some((lo, hi)) => assert_eq!(Some((lo as u128, hi as u128)), slow, "{c}"),
                None => assert!(
                    slow.is_none() || c.ends_with("/0007"),
                    "{c} should take the fast path"
                ),
            }
        }
    }

    /// Calls `check` with every string over `alphabet` of up to `max_len` bytes.
    fn every_string(alphabet: &[u8], max_len: u32, mut check: impl FnMut(&str)) {
        let mut text = Vec::new();
        for len in 0..=max_len {
            for mut code in 0..alphabet.len().pow(len) {
                text.clear();
                for _ in 0..len {
                    text.push(alphabet[code % alphabet.len()]);
                    code /= alphabet.len();
                }
                check(std::str::from_utf8(&text).unwrap());
            }
        }
    }

    /// Every string of up to eight characters over an alphabet that makes short IPv4 addresses
    /// and their near misses: the IPv4 parser agrees with std wherever it answers, and answers
    /// wherever std takes the text.
    #[test]
    fn ipv4_parser_agrees_with_std_on_every_short_string() {
        let mut answered = 0;
        every_string(b"0129./", 8, |s| {
            let strict = strict_range::<u32>(s);
            let fast = parse_v4_range(s.as_bytes()).map(|(lo, hi)| (lo as u128, hi as u128));
            assert_eq!(fast, strict, "{s}");
            answered += fast.is_some() as u32;
        });
        assert!(answered > 100, "only {answered} strings parsed");
    }

    /// Every short string over an alphabet of IPv4 and IPv6 pieces: the CIDR parser agrees
    /// with the general one wherever it answers, and answers wherever that one takes plain
    /// IPv4 (it leaves only errors and rare forms to it).
    #[test]
    fn cidr_parser_agrees_with_the_general_one_on_every_short_string() {
        let mut answered = 0;
        every_string(b"0129./", 8, |s| {
            let general = IpPrefix::parse(s).ok();
            let fast = parse_cidr(s.as_bytes());
            if fast.is_some() {
                assert_eq!(fast, general, "{s}");
                answered += 1;
            } else {
                assert!(general.is_none(), "{s} should take the fast path");
            }
        });
        every_string(b"0f:/8", 8, |s| {
            let fast = parse_cidr(s.as_bytes());
            assert!(fast.is_none() || fast == IpPrefix::parse(s).ok(), "{s}");
            answered += fast.is_some() as u32;
        });
        for s in [
            "20.42.0.0/16",
            "255.255.255.255/32",
            "0.0.0.0/0",
            "2603:1030:f:1::/64",
        ] {
            assert_eq!(parse_cidr(s.as_bytes()), IpPrefix::parse(s).ok(), "{s}");
        }
        assert!(answered > 200, "only {answered} strings parsed");
    }

    /// In a chunk the window holds what follows the line (its newline, the next line): the
    /// answer is the same as with the line alone, zero-padded.
    #[test]
    fn ipv4_window_ignores_what_follows_the_line() {
        let mut rng = fastrand::Rng::with_seed(13);
        every_string(b"0129./", 7, |s| {
            let line = s.as_bytes();
            let mut window = padded(line);
            for b in &mut window[line.len()..] {
                *b = b"0123456789./\n\r#:"[rng.usize(..16)];
            }
            assert_eq!(
                parse_v4_window(&window, line),
                parse_v4_window(&padded(line), line),
                "{s} then {:?}",
                &window[line.len()..]
            );
        });
    }

    /// Every string of up to six characters over an alphabet that makes short addresses and
    /// most ways to get them wrong: the IPv6 parser agrees with std wherever it answers, and
    /// answers wherever std takes a plain-hex address.
    #[test]
    fn ipv6_parser_agrees_with_std_on_every_short_string() {
        let mut answered = 0;
        every_string(b"0f1A:/.g", 6, |s| {
            let strict = strict_range::<u128>(s);
            let fast = parse_v6_range(s.as_bytes());
            if fast.is_some() {
                assert_eq!(fast, strict, "{s}");
                answered += 1;
            } else {
                assert!(
                    strict.is_none() || s.contains('.'),
                    "{s} should take the fast path"
                );
            }
        });
        assert!(answered > 200, "only {answered} strings parsed");
    }

    #[test]
    fn ipv6_parser_cases() {
        let ok = [
            ("::", 0, 0),
            ("::/0", 0, u128::MAX),
            ("::1", 1, 1),
            ("1::", 1 << 112, 1 << 112),
            (
                "2001:db8::/32",
                0x2001_0db8 << 96,
                (0x2001_0db8 << 96) | (u128::MAX >> 32),
            ),
            (
                "1:2:3:4:5:6:7:8/128",
                0x0001_0002_0003_0004_0005_0006_0007_0008,
                0x0001_0002_0003_0004_0005_0006_0007_0008,
            ),
            (
                "1:2:3:4:5:6:7::",
                0x0001_0002_0003_0004_0005_0006_0007_0000,
                0x0001_0002_0003_0004_0005_0006_0007_0000,
            ),
            (
                "FFFF::/16",
                0xffff << 112,
                (0xffff << 112) | (u128::MAX >> 16),
            ),
        ];
        for (text, first, last) in ok {
            assert_eq!(
                parse_v6_range(text.as_bytes()),
                Some((first, last)),
                "{text}"
            );
        }
        for bad in [
            "",
            ":",
            ":::",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "1::2::3",
            "12345::",
            "1:/64",
            ":1::",
            "1:2:3:4:5:6:7:8::",
            "::1/129",
            "::1/64",
            "::/",
            "::/1x",
            "::ffff:1.2.3.4",
            "fe80::1%eth0",
            "g::",
        ] {
            assert_eq!(parse_v6_range(bad.as_bytes()), None, "{bad}");
        }
    }

    /// Addresses with many zero groups (ties between runs, runs at either end, single zeros),
    /// and the IPv4-compatible and -mapped ranges: written as std writes them but for the
    /// IPv4-compatible ones, which glibc writes dotted, and every spelling parses back.
    #[test]
    fn writes_ipv6_like_std_and_inet_ntop() {
        let mut rng = fastrand::Rng::with_seed(5952);
        let mut out = Vec::new();
        for n in 0..200_000 {
            let groups: [u16; 8] = std::array::from_fn(|_| match rng.u8(..4) {
                0 | 1 => 0,
                2 => rng.u16(..16),
                _ => rng.u16(..),
            });
            let mut a = groups.iter().fold(0u128, |a, &g| a << 16 | g as u128);
            match n % 4 {
                0 => a &= u32::MAX as u128,                   // ::a.b.c.d and shorter
                1 => a = 0xffff_0000_0000 | a as u32 as u128, // ::ffff:a.b.c.d
                _ => {}
            }
            let len = rng.u8(..=128);
            let p = Prefix::containing(a, len);
            out.clear();
            write_v6(&mut out, p);
            let text = std::str::from_utf8(&out).unwrap();
            assert_eq!(text.parse::<Prefix<u128>>(), Ok(p), "{text}");
            let addr = p.addr();
            let compatible = addr >> 32 == 0 && addr >> 16 != 0;
            if compatible {
                let v4 = std::net::Ipv4Addr::from(addr as u32);
                assert_eq!(text, format!("::{v4}/{len}"));
            } else {
                assert_eq!(text, p.to_string());
            }
        }
    }

    /// Many blocks formatted on several threads come out in order, as one thread writes them.
    #[test]
    fn parallel_writing_keeps_the_order() {
        let mut rng = fastrand::Rng::with_seed(9);
        let mut lo = 0u32;
        let ranges: Vec<(u32, u32)> = (0..200_000)
            .map(|_| {
                let start = lo + rng.u32(2..1000);
                lo = start + rng.u32(0..1000);
                (start, lo)
            })
            .collect();
        let set = IntervalSet::from_sorted_disjoint(ranges.clone());
        let mut want = Vec::new();
        set.for_each_prefix(|p| {
            write_v4(&mut want, p);
            want.push(b'\n');
        });
        let mut got = Vec::new();
        write_prefixes(&ranges, write_v4, &mut got).unwrap();
        assert!(got == want, "the parallel output differs");
    }

    #[test]
    fn writes_like_display() {
        for t in ["0.0.0.0/0", "10.20.255.9/32", "192.168.100.0/22"] {
            let p: Prefix<u32> = t.parse().unwrap();
            let mut out = Vec::new();
            write_v4(&mut out, p);
            assert_eq!(String::from_utf8(out).unwrap(), t);
        }
    }

    #[test]
    fn parallel_parse_equals_serial_with_line_numbers() {
        let mut text = String::new();
        let mut rng = fastrand::Rng::with_seed(7);
        for i in 0..200_000u32 {
            match i % 5000 {
                17 => text.push_str("not-a-prefix\n"),
                18 => text.push_str("# comment\n\n"),
                _ => text.push_str(&format!(
                    "{}/{}\n",
                    std::net::Ipv4Addr::from(rng.u32(..) & !0xff),
                    24
                )),
            }
        }
        text.push_str("2001:db8::/32\n10.0.0.1"); // no final newline
        let serial: Vec<String> = {
            let mut c = Collector::with_capacity(0);
            for l in text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                c.add_line(l.as_bytes(), &mut |_, _| {});
            }
            sets(&c)
                .0
                .to_prefixes()
                .iter()
                .map(|p| p.to_string())
                .collect()
        };
        for threads in [1, 2, 3] {
            let p = parse_parallel(text.as_bytes(), threads, None).unwrap();
            assert_eq!(p.bad.len(), 40);
            assert_eq!(p.bad[0].line, 18);
            assert_eq!(
                p.bad[1].line, 5019,
                "comment and blank lines count as lines"
            );
            assert_eq!(p.lines, 200_000 + 40 + 2);
            let (v4, v6) = p.into_sets();
            let got: Vec<String> = v4.to_prefixes().iter().map(|p| p.to_string()).collect();
            assert_eq!(got, serial, "threads {threads}");
            assert_eq!(v6.count(), 1 << 96);
        }
    }

    /// Any number of workers' runs merge to what sorting all their ranges together gives.
    #[test]
    fn runs_merge_like_one_sort() {
        let mut rng = fastrand::Rng::with_seed(3);
        for workers in 0..6 {
            // Overlapping runs, as workers make them, or runs that follow each other in order
            // (apart from where they meet), as the buckets make them.
            let consecutive = rng.bool();
            let runs: Vec<Vec<(u32, u32)>> = (0..workers)
                .map(|w| {
                    let base = if consecutive { w * 1000 } else { 0 };
                    let mut ranges: Vec<(u32, u32)> = (0..rng.usize(0..300))
                        .map(|_| {
                            let lo = base + rng.u32(..1000);
                            // Now and then a long range that reaches into the next run.
                            let reach = if rng.u8(..50) == 0 { 3000 } else { 20 };
                            (lo, lo + rng.u32(..reach))
                        })
                        .collect();
                    sort_and_coalesce(&mut ranges);
                    ranges
                })
                .collect();
            let all: Vec<(u32, u32)> = runs.iter().flatten().copied().collect();
            let parsed = Parsed {
                v4_runs: runs,
                ..Parsed::default()
            };
            let (v4, _) = parsed.into_sets();
            assert_eq!(v4, IntervalSet::from_ranges(all), "{workers}");
        }
    }

    #[test]
    fn collects_and_merges() {
        let mut c = Collector::with_capacity(0);
        for l in [
            "10.0.0.0/25",
            "10.0.0.128/25",
            "10.0.0.7",
            "2001:db8::/33",
            "2001:db8:8000::/33",
        ] {
            c.add_line(l.as_bytes(), &mut |t, e| panic!("{t:?}: {e}"));
        }
        let mut bad = 0;
        c.add_line(b"10.0.0.1/8", &mut |_, _| bad += 1);
        assert_eq!(bad, 1);
        let (v4, v6) = sets(&c);
        let v4: Vec<String> = v4.to_prefixes().iter().map(|p| p.to_string()).collect();
        assert_eq!(v4, ["10.0.0.0/24"]);
        let v6: Vec<String> = v6.to_prefixes().iter().map(|p| p.to_string()).collect();
        assert_eq!(v6, ["2001:db8::/32"]);
    }
}
