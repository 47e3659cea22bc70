//! Address sets as sorted, disjoint, non-adjacent inclusive ranges.
//!
//! This is deliberately a second, independent way to compute with address sets: plain sorting
//! and interval arithmetic, no trie. The planners use the trie; tests and the forwarding checker
//! use this module to confirm that the trie's answers cover exactly the addresses they should.
//! It also gives set algebra (union, intersection, difference) and address counts.

use super::addr::Addr;
use super::net::Prefix;

/// A set of addresses of one family.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntervalSet<A: Addr> {
    ranges: Vec<(A, A)>,
}

impl<A: Addr> IntervalSet<A> {
    /// The empty set.
    pub fn new() -> Self {
        IntervalSet { ranges: Vec::new() }
    }

    /// The union of the given inclusive ranges (any order, overlaps allowed).
    pub fn from_ranges(mut ranges: Vec<(A, A)>) -> Self {
        ranges.sort_unstable();
        let mut out: Vec<(A, A)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            debug_assert!(lo <= hi);
            match out.last_mut() {
                Some(last) if lo.to_u128() <= last.1.to_u128().saturating_add(1) => {
                    last.1 = last.1.max(hi);
                }
                _ => out.push((lo, hi)),
            }
        }
        IntervalSet { ranges: out }
    }

    /// Takes ranges that are already sorted, disjoint and not adjacent (checked in debug builds).
    pub(crate) fn from_sorted_disjoint(ranges: Vec<(A, A)>) -> Self {
        debug_assert!(
            ranges
                .windows(2)
                .all(|w| w[0].1.to_u128() + 1 < w[1].0.to_u128())
        );
        IntervalSet { ranges }
    }

    /// The union of the given prefixes.
    pub fn from_prefixes<'a>(prefixes: impl IntoIterator<Item = &'a Prefix<A>>) -> Self {
        Self::from_ranges(
            prefixes
                .into_iter()
                .map(|p| (p.first(), p.last()))
                .collect(),
        )
    }

    /// The ranges, sorted and disjoint.
    pub fn ranges(&self) -> &[(A, A)] {
        &self.ranges
    }

    /// True when the set holds no address.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The number of addresses, exactly, in decimal: [`Self::count`] stops at `u128::MAX`,
    /// one short of the IPv6 address space.
    pub fn count_text(&self) -> String {
        let mut total = 0u128;
        for &(lo, hi) in &self.ranges {
            match (hi.to_u128() - lo.to_u128())
                .checked_add(1)
                .and_then(|n| total.checked_add(n))
            {
                Some(t) => total = t,
                // Past u128 only when the ranges cover all 2^128 addresses.
                None => return "340282366920938463463374607431768211456".to_owned(),
            }
        }
        total.to_string()
    }

    /// The number of addresses, saturating at `u128::MAX` (see [`Self::count_text`] for the
    /// exact figure of the whole IPv6 space).
    pub fn count(&self) -> u128 {
        self.ranges.iter().fold(0u128, |acc, &(lo, hi)| {
            acc.saturating_add((hi.to_u128() - lo.to_u128()).saturating_add(1))
        })
    }

    /// True when some address of `prefix` is in the set.
    pub fn overlaps(&self, prefix: Prefix<A>) -> bool {
        let i = self.ranges.partition_point(|r| r.1 < prefix.first());
        self.ranges.get(i).is_some_and(|r| r.0 <= prefix.last())
    }

    /// True when every address of `prefix` is in the set.
    pub fn covers(&self, prefix: Prefix<A>) -> bool {
        let i = self.ranges.partition_point(|r| r.1 < prefix.first());
        self.ranges
            .get(i)
            .is_some_and(|r| r.0 <= prefix.first() && r.1 >= prefix.last())
    }

    /// True when `addr` is in the set.
    pub fn contains(&self, addr: A) -> bool {
        let i = self.ranges.partition_point(|&(_, hi)| hi < addr);
        self.ranges.get(i).is_some_and(|&(lo, _)| lo <= addr)
    }

    /// Addresses in either set.
    pub fn union(&self, other: &Self) -> Self {
        let mut all = self.ranges.clone();
        all.extend_from_slice(&other.ranges);
        Self::from_ranges(all)
    }

    /// Addresses in both sets.
    pub fn intersect(&self, other: &Self) -> Self {
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a, b) = (self.ranges[i], other.ranges[j]);
            let (lo, hi) = (a.0.max(b.0), a.1.min(b.1));
            if lo <= hi {
                out.push((lo, hi));
            }
            if a.1 < b.1 { i += 1 } else { j += 1 }
        }
        IntervalSet { ranges: out }
    }

    /// Addresses in `self` and not in `other`.
    pub fn subtract(&self, other: &Self) -> Self {
        let mut out = Vec::new();
        let mut j = 0;
        for &(lo, hi) in &self.ranges {
            let mut lo = lo.to_u128();
            let hi = hi.to_u128();
            while j < other.ranges.len() && other.ranges[j].1.to_u128() < lo {
                j += 1;
            }
            let mut k = j;
            let mut done = false;
            while k < other.ranges.len() && other.ranges[k].0.to_u128() <= hi {
                let (olo, ohi) = (other.ranges[k].0.to_u128(), other.ranges[k].1.to_u128());
                if olo > lo {
                    out.push((A::from_u128(lo), A::from_u128(olo - 1)));
                }
                if ohi >= hi {
                    done = true;
                    break;
                }
                lo = ohi + 1;
                k += 1;
            }
            if !done {
                out.push((A::from_u128(lo), A::from_u128(hi)));
            }
        }
        IntervalSet { ranges: out }
    }

    /// The fewest CIDR prefixes whose union is exactly this set, in address order.
    ///
    /// Each range is cut greedily into the largest aligned blocks; this is the classic
    /// range-to-CIDR decomposition, independent of the trie.
    pub fn to_prefixes(&self) -> Vec<Prefix<A>> {
        let mut out = Vec::new();
        self.for_each_prefix(|p| out.push(p));
        out
    }

    /// Calls `f` with each prefix of [`IntervalSet::to_prefixes`], without collecting them.
    pub(crate) fn for_each_prefix(&self, mut f: impl FnMut(Prefix<A>)) {
        for &(lo, hi) in &self.ranges {
            range_prefixes(lo, hi, &mut f);
        }
    }
}

/// The fewest prefixes covering exactly `lo..=hi`, in order.
pub fn range_prefixes<A: Addr>(lo: A, hi: A, mut f: impl FnMut(Prefix<A>)) {
    let (mut lo, hi) = (lo.to_u128(), hi.to_u128());
    loop {
        let align = lo.trailing_zeros().min(A::BITS as u32);
        let room = hi - lo; // block of 2^k fits when 2^k - 1 <= room
        let fit = if room == u128::MAX {
            128
        } else {
            127 - (room + 1).leading_zeros()
        };
        let k = align.min(fit);
        f(Prefix::containing(A::from_u128(lo), A::BITS - k as u8));
        let step_minus_one = if k == 128 {
            u128::MAX
        } else {
            (1u128 << k) - 1
        };
        if hi - lo == step_minus_one {
            break;
        }
        lo += step_minus_one + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(prefixes: &[&str]) -> IntervalSet<u32> {
        let v: Vec<Prefix<u32>> = prefixes.iter().map(|p| p.parse().unwrap()).collect();
        IntervalSet::from_prefixes(&v)
    }

    fn texts(v: &[Prefix<u32>]) -> Vec<String> {
        v.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn merges_adjacent_and_overlapping() {
        let s = set(&["10.0.0.0/25", "10.0.0.128/25", "10.0.0.0/26", "10.0.2.0/24"]);
        assert_eq!(s.ranges().len(), 2);
        assert_eq!(s.count(), 512);
        assert_eq!(texts(&s.to_prefixes()), ["10.0.0.0/24", "10.0.2.0/24"]);
    }

    #[test]
    fn decomposes_unaligned_ranges() {
        let s = IntervalSet::from_ranges(vec![(1u32, 6u32)]);
        assert_eq!(
            texts(&s.to_prefixes()),
            ["0.0.0.1/32", "0.0.0.2/31", "0.0.0.4/31", "0.0.0.6/32"]
        );
        let all = IntervalSet::from_ranges(vec![(0u128, u128::MAX)]);
        assert_eq!(all.to_prefixes().len(), 1);
        assert_eq!(all.count(), u128::MAX);
        let all4 = IntervalSet::from_ranges(vec![(0u32, u32::MAX)]);
        assert_eq!(texts(&all4.to_prefixes()), ["0.0.0.0/0"]);
    }

    #[test]
    fn set_algebra() {
        let a = set(&["10.0.0.0/8"]);
        let b = set(&["10.1.0.0/16", "11.0.0.0/8"]);
        assert_eq!(a.intersect(&b), set(&["10.1.0.0/16"]));
        let d = a.subtract(&b);
        assert_eq!(d.count(), (1 << 24) - (1 << 16));
        assert!(!d.contains(0x0a01_0001) && d.contains(0x0a02_0000));
        assert_eq!(a.union(&b).count(), (1 << 25));
        assert_eq!(
            set(&["0.0.0.0/0"]).subtract(&set(&["0.0.0.0/0"])),
            IntervalSet::new()
        );
        assert_eq!(
            set(&["0.0.0.0/0"]).subtract(&set(&["0.0.0.0/1"])),
            set(&["128.0.0.0/1"])
        );
    }
}
