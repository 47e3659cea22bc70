//! The two address families as plain integers.
//!
//! Everything in [`crate::prefix`] is generic over [`Addr`], implemented for `u32` (IPv4) and
//! `u128` (IPv6), so the trie, the interval arithmetic and the planners are written once. Bits are
//! numbered from the most significant one, as in a routing trie: bit 0 decides the first branch.

use std::fmt;
use std::hash::Hash;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An IP address of one family, held as an unsigned integer.
pub trait Addr: Copy + Ord + Eq + Hash + fmt::Debug + Send + Sync + 'static {
    /// Address width: 32 or 128.
    const BITS: u8;
    /// The family's name as users write it.
    const FAMILY: Family;
    /// The all-zeros address.
    const ZERO: Self;
    /// The all-ones address.
    const MAX: Self;

    /// Bit `i` counted from the most significant bit (`i < BITS`).
    fn bit(self, i: u8) -> bool;
    /// The network mask of a prefix of length `len` (`len <= BITS`).
    fn mask(len: u8) -> Self;
    /// Lossless widening, for arithmetic shared by both families.
    fn to_u128(self) -> u128;
    /// Narrowing; the caller guarantees the value fits.
    fn from_u128(v: u128) -> Self;
    /// Parses the textual address (dotted quad, or RFC 5952 / RFC 4291 text).
    fn parse_addr(s: &str) -> Option<Self>;
    /// Writes the canonical text of the address.
    fn fmt_addr(self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// An address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// `ipv4` or `ipv6`, as used on the command line and in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }
}

impl Addr for u32 {
    const BITS: u8 = 32;
    const FAMILY: Family = Family::V4;
    const ZERO: Self = 0;
    const MAX: Self = u32::MAX;

    #[inline]
    fn bit(self, i: u8) -> bool {
        (self >> (31 - i)) & 1 == 1
    }
    #[inline]
    fn mask(len: u8) -> Self {
        if len == 0 { 0 } else { u32::MAX << (32 - len) }
    }
    #[inline]
    fn to_u128(self) -> u128 {
        self as u128
    }
    #[inline]
    fn from_u128(v: u128) -> Self {
        v as u32
    }
    fn parse_addr(s: &str) -> Option<Self> {
        s.parse::<Ipv4Addr>().ok().map(u32::from)
    }
    fn fmt_addr(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Ipv4Addr::from(self), f)
    }
}

impl Addr for u128 {
    const BITS: u8 = 128;
    const FAMILY: Family = Family::V6;
    const ZERO: Self = 0;
    const MAX: Self = u128::MAX;

    #[inline]
    fn bit(self, i: u8) -> bool {
        (self >> (127 - i)) & 1 == 1
    }
    #[inline]
    fn mask(len: u8) -> Self {
        if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        }
    }
    #[inline]
    fn to_u128(self) -> u128 {
        self
    }
    #[inline]
    fn from_u128(v: u128) -> Self {
        v
    }
    fn parse_addr(s: &str) -> Option<Self> {
        s.parse::<Ipv6Addr>().ok().map(u128::from)
    }
    fn fmt_addr(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The one text of an IPv6 address in every command (aggregate6's, see `text`).
        super::text::fmt_v6(self, f)
    }
}
