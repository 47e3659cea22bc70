//! The text of a prefix, the same in every command: IPv4 dotted, IPv6 as glibc's `inet_ntop`
//! writes it (which is what aggregate6 prints): RFC 5952 with IPv4-compatible and IPv4-mapped
//! addresses in dotted form. Written into a byte buffer without `fmt`, for bulk output; the
//! `Display` of a prefix writes the same text. Plain integers in, so that the types above use it.

/// Writes `a.b.c.d/len` without going through `fmt`.
pub fn v4(out: &mut Vec<u8>, addr: u32, len: u8) {
    let mut text = Text::default();
    text.dotted(addr);
    text.byte(b'/');
    text.dec(len);
    out.extend_from_slice(text.as_bytes());
}

/// Writes an IPv6 prefix as glibc's `inet_ntop` does, which is what aggregate6 prints: RFC 5952
/// (lower case, no leading zeros, the first longest run of two or more zero groups as `::`), and
/// the last 32 bits in dotted decimal for IPv4-compatible (`::1.2.3.4`) and IPv4-mapped
/// (`::ffff:1.2.3.4`) addresses.
pub fn v6(out: &mut Vec<u8>, addr: u128, len: u8) {
    let mut text = Text::default();
    v6_address(&mut text, addr);
    text.byte(b'/');
    text.dec(len);
    out.extend_from_slice(text.as_bytes());
}

/// An IPv6 address as [`v6`] writes it, for `Display`.
pub(crate) fn fmt_v6(a: u128, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    let mut text = Text::default();
    v6_address(&mut text, a);
    f.write_str(std::str::from_utf8(text.as_bytes()).expect("ASCII"))
}

/// The groups of an IPv6 address, as [`v6`] writes them.
fn v6_address(text: &mut Text, a: u128) {
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
