//! Which stored prefixes contain an address, answered by one binary search.
//!
//! Any two CIDR prefixes are nested or disjoint, so the stored prefixes cut the address space into
//! at most `2n + 1` elementary intervals, each contained in the same prefixes throughout. A sweep
//! over the prefixes sorted by (first address, length) lists them once; a lookup is then a binary
//! search over the interval starts (a compact sorted array that stays in cache) instead of a walk
//! of up to 32 or 128 trie nodes scattered in memory.

use super::addr::Addr;
use super::net::Prefix;

/// A read-only index of prefixes with values, for "which prefixes contain this address".
pub struct StabIndex<A: Addr, V> {
    /// First address of each elementary interval; the first is always `A::ZERO`.
    starts: Vec<A>,
    /// `hits[offsets[i]..offsets[i + 1]]` contain interval `i`.
    offsets: Vec<u32>,
    /// The containing prefixes of each interval, least specific first.
    hits: Vec<(Prefix<A>, V)>,
}

impl<A: Addr, V: Copy> StabIndex<A, V> {
    /// Indexes these prefixes (duplicates allowed; each is reported with its own value).
    pub fn build(mut entries: Vec<(Prefix<A>, V)>) -> Self {
        entries.sort_by_key(|(p, _)| (p.first(), p.len()));
        let mut index = StabIndex {
            starts: Vec::with_capacity(2 * entries.len() + 1),
            offsets: vec![0],
            hits: Vec::new(),
        };
        // The prefixes containing the current position, outermost first.
        let mut open: Vec<(Prefix<A>, V)> = Vec::new();
        index.begin(0, &open);
        for entry in entries {
            let first = entry.0.first().to_u128();
            index.close(&mut open, Some(first));
            open.push(entry);
            index.begin(first, &open);
        }
        index.close(&mut open, None);
        index
    }

    /// Starts an interval at `start` contained in `open` (replacing one begun at the same place).
    fn begin(&mut self, start: u128, open: &[(Prefix<A>, V)]) {
        if self.starts.last().is_some_and(|s| s.to_u128() == start) {
            self.starts.pop();
            self.offsets.pop();
            self.hits.truncate(*self.offsets.last().unwrap() as usize);
        }
        self.starts.push(A::from_u128(start));
        self.hits.extend_from_slice(open);
        self.offsets.push(self.hits.len() as u32);
    }

    /// Closes the open prefixes that end before `bound` (all of them for `None`), starting a new
    /// interval after each one that ends before the address space does.
    fn close(&mut self, open: &mut Vec<(Prefix<A>, V)>, bound: Option<u128>) {
        while let Some(&(top, _)) = open.last() {
            let last = top.last().to_u128();
            if bound.is_some_and(|b| last >= b) {
                return;
            }
            open.pop();
            if let Some(next) = last.checked_add(1).filter(|&n| n <= A::MAX.to_u128()) {
                self.begin(next, open);
            }
        }
    }

    /// The stored prefixes containing `addr`, least specific first.
    pub fn containing(&self, addr: A) -> &[(Prefix<A>, V)] {
        let i = self.starts.partition_point(|&s| s <= addr) - 1;
        &self.hits[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Prefixes inside 10.0.0.0/24 (lengths /24–/32), as (address offset, length).
    fn small_prefixes() -> impl Strategy<Value = Vec<(u32, u8)>> {
        prop::collection::vec((0u32..256, 24u8..=32), 0..40)
    }

    proptest! {
        /// Every address of the /24 and around it: the index answers exactly what a scan of all
        /// prefixes does, least specific first.
        #[test]
        fn answers_like_a_scan(raw in small_prefixes()) {
            let base = 0x0a00_0000u32;
            let entries: Vec<(Prefix<u32>, usize)> = raw
                .iter()
                .enumerate()
                .map(|(i, &(off, len))| (Prefix::containing(base + off, len), i))
                .collect();
            let index = StabIndex::build(entries.clone());
            for addr in base - 2..=base + 257 {
                let mut want: Vec<(Prefix<u32>, usize)> = entries
                    .iter()
                    .copied()
                    .filter(|(p, _)| p.first() <= addr && addr <= p.last())
                    .collect();
                let got = index.containing(addr).to_vec();
                prop_assert!(got.windows(2).all(|w| w[0].0.len() <= w[1].0.len()));
                let mut got_sorted = got.clone();
                got_sorted.sort_by_key(|&(p, v)| (p.len(), v));
                want.sort_by_key(|&(p, v)| (p.len(), v));
                prop_assert_eq!(got_sorted, want);
            }
        }
    }

    #[test]
    fn the_whole_space_and_its_ends() {
        let all = Prefix::<u32>::containing(0, 0);
        let top = Prefix::<u32>::containing(u32::MAX, 32);
        let index = StabIndex::build(vec![(all, 'a'), (top, 'b')]);
        assert_eq!(index.containing(0), &[(all, 'a')]);
        assert_eq!(index.containing(u32::MAX), &[(all, 'a'), (top, 'b')]);
        let v6 = Prefix::<u128>::containing(u128::MAX, 1);
        let index = StabIndex::build(vec![(v6, 1)]);
        assert_eq!(index.containing(u128::MAX), &[(v6, 1)]);
        assert!(index.containing(0).is_empty());
        let empty = StabIndex::<u32, ()>::build(Vec::new());
        assert!(empty.containing(7).is_empty());
    }
}
