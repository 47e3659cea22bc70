//! Line parsers for prefix lists: IPv4 and IPv6 prefixes (or bare addresses) read from bytes
//! without allocating, each taking only what the general parser ([`IpPrefix::parse`]) takes
//! and leaving everything else (errors, rare forms) to it.

use super::super::net::{IpPrefix, Prefix};
use crate::bytes16;

/// Parses `a.b.c.d` or `a.b.c.d/len` (no host bits), returning the range; `None` for anything
/// else, including valid IPv6 (callers fall back to the general parser for those and for errors).
#[inline]
pub fn parse_v4_range(line: &[u8]) -> Option<(u32, u32)> {
    let (addr, len) = parse_v4_window(&padded(line), line)?;
    Some((addr, addr | host_mask(len)))
}

/// A line's first sixteen bytes, zero-padded when it is shorter.
#[inline]
pub(super) fn padded(line: &[u8]) -> [u8; 16] {
    let mut window = [0u8; 16];
    let head = line.len().min(16);
    window[..head].copy_from_slice(&line[..head]);
    window
}

/// The host bits of an IPv4 prefix of length `len`.
#[inline]
pub(super) fn host_mask(len: u32) -> u32 {
    u32::MAX.checked_shr(len).unwrap_or(0)
}

/// [`parse_v4_range`] given the sixteen bytes that start at the line (what follows the line in
/// them is ignored), returning the address and the prefix length. The address (at most 15
/// bytes) lies inside the window, so its dots, its end and its octets are found with masks of
/// the whole window instead of a loop that branches on every digit: random octet lengths made
/// that loop mispredict several times a line.
#[inline]
pub(super) fn parse_v4_window(window: &[u8; 16], line: &[u8]) -> Option<(u32, u32)> {
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
pub(super) static HEX_DIGIT: [u8; 256] = {
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
pub(super) fn parse_len(digits: &[u8], max: u32) -> Option<u32> {
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
