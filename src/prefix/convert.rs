//! Conversions between the engine's prefixes and the ecosystem's types: `std::net` addresses
//! and `ipnet`'s networks, in both directions.
//!
//! An `ipnet` network may have host bits set (`10.0.0.1/8` is an interface address); a
//! [`Prefix`] never does, so that direction is `TryFrom`, refusing host bits as
//! [`IpPrefix::parse`] does (call `trunc()` first to drop them on purpose).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::net::{IpPrefix, Prefix, PrefixError};

impl Prefix<u32> {
    /// The network address as a `std::net` address.
    pub fn network(self) -> Ipv4Addr {
        Ipv4Addr::from(self.addr())
    }
}

impl Prefix<u128> {
    /// The network address as a `std::net` address.
    pub fn network(self) -> Ipv6Addr {
        Ipv6Addr::from(self.addr())
    }
}

impl IpPrefix {
    /// The network address as a `std::net` address.
    pub fn network(self) -> IpAddr {
        match self {
            IpPrefix::V4(p) => p.network().into(),
            IpPrefix::V6(p) => p.network().into(),
        }
    }
}

impl From<Prefix<u32>> for Ipv4Net {
    fn from(p: Prefix<u32>) -> Self {
        Ipv4Net::new(p.network(), p.len()).expect("a prefix length is at most 32")
    }
}

impl From<Prefix<u128>> for Ipv6Net {
    fn from(p: Prefix<u128>) -> Self {
        Ipv6Net::new(p.network(), p.len()).expect("a prefix length is at most 128")
    }
}

impl From<IpPrefix> for IpNet {
    fn from(p: IpPrefix) -> Self {
        match p {
            IpPrefix::V4(p) => IpNet::V4(p.into()),
            IpPrefix::V6(p) => IpNet::V6(p.into()),
        }
    }
}

fn host_bits(net: impl std::fmt::Display + Copy, network: impl std::fmt::Display) -> PrefixError {
    let text = net.to_string();
    let len = text
        .rsplit('/')
        .next()
        .and_then(|l| l.parse().ok())
        .unwrap_or_default();
    PrefixError::HostBits {
        text,
        len,
        network: network.to_string(),
    }
}

impl TryFrom<Ipv4Net> for Prefix<u32> {
    type Error = PrefixError;
    /// The same network; an error when `net` has host bits set.
    fn try_from(net: Ipv4Net) -> Result<Self, PrefixError> {
        Prefix::new(u32::from(net.addr()), net.prefix_len())
            .ok_or_else(|| host_bits(net, net.trunc()))
    }
}

impl TryFrom<Ipv6Net> for Prefix<u128> {
    type Error = PrefixError;
    /// The same network; an error when `net` has host bits set.
    fn try_from(net: Ipv6Net) -> Result<Self, PrefixError> {
        Prefix::new(u128::from(net.addr()), net.prefix_len())
            .ok_or_else(|| host_bits(net, net.trunc()))
    }
}

impl TryFrom<IpNet> for IpPrefix {
    type Error = PrefixError;
    /// The same network; an error when `net` has host bits set.
    fn try_from(net: IpNet) -> Result<Self, PrefixError> {
        match net {
            IpNet::V4(n) => Prefix::try_from(n).map(IpPrefix::V4),
            IpNet::V6(n) => Prefix::try_from(n).map(IpPrefix::V6),
        }
    }
}

impl From<Ipv4Addr> for Prefix<u32> {
    /// The host route of one address (`/32`).
    fn from(a: Ipv4Addr) -> Self {
        Prefix::host(u32::from(a))
    }
}

impl From<Ipv6Addr> for Prefix<u128> {
    /// The host route of one address (`/128`).
    fn from(a: Ipv6Addr) -> Self {
        Prefix::host(u128::from(a))
    }
}

impl From<IpAddr> for IpPrefix {
    /// The host route of one address.
    fn from(a: IpAddr) -> Self {
        match a {
            IpAddr::V4(a) => IpPrefix::V4(a.into()),
            IpAddr::V6(a) => IpPrefix::V6(a.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Both ways agree with each other and with the text: a prefix becomes the `ipnet`
        /// network of the same address and length and back; a network with host bits set
        /// is refused, and exactly those.
        #[test]
        fn prefixes_and_ipnet_networks_convert_both_ways(a in any::<u32>(), b in any::<u128>(), l4 in 0u8..=32, l6 in 0u8..=128) {
            let p4 = Prefix::containing(a, l4);
            let n4 = Ipv4Net::from(p4);
            prop_assert_eq!(n4.to_string(), p4.to_string());
            prop_assert_eq!(Prefix::try_from(n4).unwrap(), p4);
            let p6 = Prefix::containing(b, l6);
            let n6 = Ipv6Net::from(p6);
            prop_assert_eq!(n6.addr(), p6.network());
            prop_assert_eq!(n6.prefix_len(), p6.len());
            prop_assert_eq!(IpPrefix::try_from(IpNet::from(IpPrefix::V6(p6))).unwrap(), IpPrefix::V6(p6));
            let raw = Ipv4Net::new(Ipv4Addr::from(a), l4).unwrap();
            prop_assert_eq!(Prefix::try_from(raw).is_ok(), raw == raw.trunc());
            let raw6 = Ipv6Net::new(Ipv6Addr::from(b), l6).unwrap();
            prop_assert_eq!(Prefix::try_from(raw6).is_ok(), raw6 == raw6.trunc());
            prop_assert_eq!(IpPrefix::from(IpAddr::V4(Ipv4Addr::from(a))), IpPrefix::V4(Prefix::host(a)));
        }
    }

    #[test]
    fn host_bits_are_named() {
        let err = Prefix::try_from("10.0.0.1/8".parse::<Ipv4Net>().unwrap()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'10.0.0.1/8' has host bits set past /8 (the network is 10.0.0.0/8)"
        );
    }
}
