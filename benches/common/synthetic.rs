//! Deterministic synthetic prefix lists for the benchmarks: a blocklist/BGP-like length mix, with
//! overlaps (more specifics of earlier prefixes) and adjacency (siblings of earlier prefixes).
//! Shared by `examples/gen_prefixes.rs` (the inputs of `benches/peers.sh`) and the criterion
//! benches.

use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Writes `count` prefixes of one family, one per line; the same `seed` gives the same list.
pub fn write_prefixes(
    out: &mut impl Write,
    v6: bool,
    count: usize,
    seed: u64,
) -> std::io::Result<()> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut recent: Vec<(u128, u8)> = Vec::with_capacity(1024);
    let bits: u8 = if v6 { 128 } else { 32 };
    for _ in 0..count {
        let len = if bits == 32 {
            // Per 1000: /32 host routes 420, /25-/31 180, /24 340, /20-/23 55, /16-/19 5. Ten
            // million of them cover about two fifths of the space, so the union stays fragmented.
            match rng.u32(0..1000) {
                0..420 => 32,
                420..600 => rng.u8(25..32),
                600..940 => 24,
                940..995 => rng.u8(20..24),
                _ => rng.u8(16..20),
            }
        } else {
            match rng.u32(0..100) {
                0..45 => 48,
                45..75 => rng.u8(32..48),
                75..90 => rng.u8(49..65),
                90..97 => 64,
                _ => 128,
            }
        };
        let mask = |l: u8| {
            if l == 0 {
                0
            } else {
                u128::MAX << (128 - l) >> (128 - bits)
            }
        };
        let addr = match (rng.u32(0..100), recent.len()) {
            // A sibling of a recent prefix (adjacent block of the same length).
            (0..25, n) if n > 0 => {
                let (a, l) = recent[rng.usize(0..n)];
                a ^ (1u128 << (bits - l))
            }
            // A more specific inside a recent prefix.
            (25..35, n) if n > 0 => {
                let (a, l) = recent[rng.usize(0..n)];
                a | (rng.u128(..) & !mask(l) & mask(bits))
            }
            _ if bits == 32 => rng.u32(..) as u128,
            // IPv6 in global unicast 2000::/3, clustered in a few /16s.
            _ => (0x2000u128 + rng.u128(0..64)) << 112 | rng.u128(..) >> 16,
        };
        let net = addr & mask(len);
        if recent.len() < 1024 {
            recent.push((net, len));
        } else {
            let i = rng.usize(0..1024);
            recent[i] = (net, len);
        }
        if bits == 32 {
            writeln!(out, "{}/{len}", Ipv4Addr::from(net as u32))?;
        } else {
            writeln!(out, "{}/{len}", Ipv6Addr::from(net))?;
        }
    }
    Ok(())
}
