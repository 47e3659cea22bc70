//! CIDR prefixes: one family ([`Prefix`]) and either family ([`IpPrefix`]).
//!
//! Parsing is strict, because a route table built from a mistyped prefix sends traffic the wrong
//! way: the address must be valid text for its family, the length in range, and no host bit set.
//! The error says which of the three went wrong.

use crate::text::quoted;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::addr::{Addr, Family};

/// A CIDR prefix of one family: `addr/len` with no bit set past `len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Prefix<A: Addr> {
    addr: A,
    len: u8,
}

/// Why a prefix's text was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    #[error("{} is not a CIDR prefix (expected ADDRESS/LENGTH)", quoted(.0))]
    MissingLength(String),
    #[error("{} is not a valid IPv4 or IPv6 address", quoted(.0))]
    BadAddress(String),
    #[error("{} has prefix length {}, which is not a number from 0 to {max}", quoted(.text), quoted(.len))]
    BadLength { text: String, len: String, max: u8 },
    #[error("{} has host bits set past /{len} (the network is {network})", quoted(.text))]
    HostBits {
        text: String,
        len: u8,
        network: String,
    },
}

impl<A: Addr> Prefix<A> {
    /// The prefix `addr/len`; `None` when `len` is too long or host bits are set.
    pub fn new(addr: A, len: u8) -> Option<Self> {
        (len <= A::BITS && addr == Self::network_of(addr, len)).then_some(Prefix { addr, len })
    }

    /// The prefix of length `len` that contains `addr` (host bits cleared).
    pub fn containing(addr: A, len: u8) -> Self {
        debug_assert!(len <= A::BITS);
        Prefix {
            addr: Self::network_of(addr, len),
            len,
        }
    }

    /// The host route for one address.
    pub fn host(addr: A) -> Self {
        Prefix { addr, len: A::BITS }
    }

    fn network_of(addr: A, len: u8) -> A {
        A::from_u128(addr.to_u128() & A::mask(len).to_u128())
    }

    /// The network address.
    pub fn addr(self) -> A {
        self.addr
    }

    /// The prefix length.
    pub fn len(self) -> u8 {
        self.len
    }

    /// True for the prefix of length zero, the whole address space.
    pub(crate) fn is_default(self) -> bool {
        self.len == 0
    }

    /// The first address.
    pub fn first(self) -> A {
        self.addr
    }

    /// The last address.
    pub fn last(self) -> A {
        A::from_u128(self.addr.to_u128() | !A::mask(self.len).to_u128() & A::MAX.to_u128())
    }

    /// Number of addresses, saturating at `u128::MAX` for the IPv6 default route.
    pub fn size(self) -> u128 {
        let host_bits = (A::BITS - self.len) as u32;
        1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
    }

    /// True when `other` lies inside this prefix (or equals it).
    pub fn contains(self, other: Prefix<A>) -> bool {
        self.len <= other.len && Self::network_of(other.addr, self.len) == self.addr
    }

    /// True when `addr` lies inside this prefix.
    pub fn contains_addr(self, addr: A) -> bool {
        Self::network_of(addr, self.len) == self.addr
    }

    /// The two halves of this prefix; `None` for a host route.
    pub fn children(self) -> Option<[Prefix<A>; 2]> {
        (self.len < A::BITS).then(|| {
            let len = self.len + 1;
            let high = self.addr.to_u128() | (1u128 << (A::BITS - len));
            [
                Prefix {
                    addr: self.addr,
                    len,
                },
                Prefix {
                    addr: A::from_u128(high),
                    len,
                },
            ]
        })
    }

    /// Parses `ADDRESS/LENGTH` of this family.
    pub fn parse(text: &str) -> Result<Self, PrefixError> {
        let (addr_text, len_text) = text
            .split_once('/')
            .ok_or_else(|| PrefixError::MissingLength(text.to_owned()))?;
        let addr =
            A::parse_addr(addr_text).ok_or_else(|| PrefixError::BadAddress(text.to_owned()))?;
        Self::with_length(text, addr, len_text)
    }

    fn with_length(text: &str, addr: A, len_text: &str) -> Result<Self, PrefixError> {
        let len = len_text
            .parse::<u8>()
            .ok()
            .filter(|&l| l <= A::BITS && !len_text.starts_with('+'))
            .ok_or_else(|| PrefixError::BadLength {
                text: text.to_owned(),
                len: len_text.to_owned(),
                max: A::BITS,
            })?;
        Self::new(addr, len).ok_or_else(|| PrefixError::HostBits {
            text: text.to_owned(),
            len,
            network: Prefix::containing(addr, len).to_string(),
        })
    }
}

impl<A: Addr> Ord for Prefix<A> {
    /// By address, then shorter first: the order of a depth-first walk of the trie.
    fn cmp(&self, other: &Self) -> Ordering {
        self.addr.cmp(&other.addr).then(self.len.cmp(&other.len))
    }
}

impl<A: Addr> PartialOrd for Prefix<A> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<A: Addr> fmt::Display for Prefix<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.addr.fmt_addr(f)?;
        write!(f, "/{}", self.len)
    }
}

impl<A: Addr> FromStr for Prefix<A> {
    type Err = PrefixError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A prefix of either family. Orders IPv4 before IPv6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpPrefix {
    V4(Prefix<u32>),
    V6(Prefix<u128>),
}

impl IpPrefix {
    /// The family of this prefix.
    pub fn family(self) -> Family {
        match self {
            IpPrefix::V4(_) => Family::V4,
            IpPrefix::V6(_) => Family::V6,
        }
    }

    /// The prefix length.
    pub fn len(self) -> u8 {
        match self {
            IpPrefix::V4(p) => p.len(),
            IpPrefix::V6(p) => p.len(),
        }
    }

    /// True for `0.0.0.0/0` and `::/0`.
    pub(crate) fn is_default(self) -> bool {
        self.len() == 0
    }

    /// Number of addresses (saturating for `::/0`).
    pub fn size(self) -> u128 {
        match self {
            IpPrefix::V4(p) => p.size(),
            IpPrefix::V6(p) => p.size(),
        }
    }

    /// True when `other` is of the same family and inside this prefix.
    pub fn contains(self, other: IpPrefix) -> bool {
        match (self, other) {
            (IpPrefix::V4(a), IpPrefix::V4(b)) => a.contains(b),
            (IpPrefix::V6(a), IpPrefix::V6(b)) => a.contains(b),
            _ => false,
        }
    }

    /// Parses a prefix of either family, as Azure and the service-tag files write them.
    pub fn parse(text: &str) -> Result<Self, PrefixError> {
        let (addr_text, len_text) = text
            .split_once('/')
            .ok_or_else(|| PrefixError::MissingLength(text.to_owned()))?;
        if let Some(a) = u32::parse_addr(addr_text) {
            Prefix::with_length(text, a, len_text).map(IpPrefix::V4)
        } else if let Some(a) = u128::parse_addr(addr_text) {
            Prefix::with_length(text, a, len_text).map(IpPrefix::V6)
        } else {
            Err(PrefixError::BadAddress(text.to_owned()))
        }
    }

    /// Parses a prefix or a bare address (taken as a host route).
    pub fn parse_or_host(text: &str) -> Result<Self, PrefixError> {
        if text.contains('/') {
            return Self::parse(text);
        }
        if let Some(a) = u32::parse_addr(text) {
            Ok(IpPrefix::V4(Prefix::host(a)))
        } else if let Some(a) = u128::parse_addr(text) {
            Ok(IpPrefix::V6(Prefix::host(a)))
        } else {
            Err(PrefixError::BadAddress(text.to_owned()))
        }
    }
}

impl Prefix<u32> {
    /// Appends the prefix's text (the same as `Display`) to `out`.
    pub fn write_text(out: &mut Vec<u8>, p: Self) {
        super::text::v4(out, p.addr, p.len);
    }
}

impl Prefix<u128> {
    /// Appends the prefix's text (the same as `Display`) to `out`.
    pub fn write_text(out: &mut Vec<u8>, p: Self) {
        super::text::v6(out, p.addr, p.len);
    }
}

impl IpPrefix {
    /// Appends the prefix's text (the same as `Display`) to `out`.
    pub fn write_text(out: &mut Vec<u8>, p: Self) {
        match p {
            IpPrefix::V4(p) => Prefix::<u32>::write_text(out, p),
            IpPrefix::V6(p) => Prefix::<u128>::write_text(out, p),
        }
    }

    /// A prefix as prefix lists write it: what [`IpPrefix::parse_or_host`] reads, and for IPv4
    /// `ADDRESS/NETMASK` and `ADDRESS/HOSTMASK` too (`10.0.0.0/255.0.0.0`,
    /// `10.0.0.0/0.255.255.255`), read as Python's `ipaddress` reads them: a netmask first.
    pub fn parse_list_item(text: &str) -> Result<Self, PrefixError> {
        let err = match Self::parse_or_host(text) {
            Ok(p) => return Ok(p),
            Err(e) => e,
        };
        let Some((addr, mask)) = text
            .split_once('/')
            .and_then(|(a, m)| Some((u32::parse_addr(a)?, u32::parse_addr(m)?)))
        else {
            return Err(err);
        };
        let contiguous = |m: u32| m.leading_ones() + m.trailing_zeros() == 32;
        let len = if contiguous(mask) {
            mask.leading_ones()
        } else if contiguous(!mask) {
            (!mask).leading_ones()
        } else {
            return Err(err);
        } as u8;
        Prefix::new(addr, len)
            .map(IpPrefix::V4)
            .ok_or_else(|| PrefixError::HostBits {
                text: text.to_owned(),
                len,
                network: Prefix::containing(addr, len).to_string(),
            })
    }
}

impl From<Prefix<u32>> for IpPrefix {
    fn from(p: Prefix<u32>) -> Self {
        IpPrefix::V4(p)
    }
}

impl From<Prefix<u128>> for IpPrefix {
    fn from(p: Prefix<u128>) -> Self {
        IpPrefix::V6(p)
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpPrefix::V4(p) => p.fmt(f),
            IpPrefix::V6(p) => p.fmt(f),
        }
    }
}

impl FromStr for IpPrefix {
    type Err = PrefixError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for IpPrefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<A: Addr> Serialize for Prefix<A> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_both_families() {
        for text in [
            "20.42.0.0/16",
            "0.0.0.0/0",
            "1.2.3.4/32",
            "2603:1030::/48",
            "::/0",
        ] {
            assert_eq!(IpPrefix::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn refuses_bad_text_with_the_reason() {
        let err = |t: &str| IpPrefix::parse(t).unwrap_err();
        assert!(matches!(err("300.1.2.3/8"), PrefixError::BadAddress(_)));
        assert!(matches!(
            err("10.0.0.0/33"),
            PrefixError::BadLength { max: 32, .. }
        ));
        assert!(matches!(
            err("::/129"),
            PrefixError::BadLength { max: 128, .. }
        ));
        assert!(matches!(err("10.0.0.0/-1"), PrefixError::BadLength { .. }));
        assert!(matches!(err("10.0.0.0/+8"), PrefixError::BadLength { .. }));
        assert!(matches!(err("10.0.0.0"), PrefixError::MissingLength(_)));
        assert_eq!(
            err("10.0.0.1/8").to_string(),
            "'10.0.0.1/8' has host bits set past /8 (the network is 10.0.0.0/8)"
        );
        assert!(matches!(err("2603::1/64"), PrefixError::HostBits { .. }));
    }

    #[test]
    fn first_last_size_and_children() {
        let p: Prefix<u32> = "10.0.0.0/8".parse().unwrap();
        assert_eq!(p.first(), 0x0a00_0000);
        assert_eq!(p.last(), 0x0aff_ffff);
        assert_eq!(p.size(), 1 << 24);
        let [l, r] = p.children().unwrap();
        assert_eq!(
            (l.to_string(), r.to_string()),
            ("10.0.0.0/9".into(), "10.128.0.0/9".into())
        );
        assert!(p.contains(l) && p.contains(r) && !l.contains(p));
        assert_eq!("::/0".parse::<Prefix<u128>>().unwrap().size(), u128::MAX);
        assert_eq!("0.0.0.0/0".parse::<Prefix<u32>>().unwrap().last(), u32::MAX);
        assert!(Prefix::<u32>::host(7).children().is_none());
    }

    #[test]
    fn orders_ipv4_first_then_by_address_then_length() {
        let mut v: Vec<IpPrefix> = ["::/0", "10.0.0.0/16", "10.0.0.0/8", "9.0.0.0/8"]
            .iter()
            .map(|t| t.parse().unwrap())
            .collect();
        v.sort();
        let s: Vec<String> = v.iter().map(|p| p.to_string()).collect();
        assert_eq!(s, ["9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16", "::/0"]);
    }
}
