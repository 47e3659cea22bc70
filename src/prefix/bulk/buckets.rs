//! IPv4 prefixes kept in 256 buckets by the top byte of their first address, so that sorting them
//! is sorting each bucket on its own.
//!
//! Dropping a prefix into its bucket while the parser still holds it is the first pass of a radix
//! sort, done for the price of a store, and it leaves a `u32` to store: the other 24 bits of the
//! address and the prefix length. What is left is to sort each bucket on those 24 bits — two
//! radix passes of 12 bits in buffers the size of one bucket, which fit in the cache for any
//! realistic list — and to read the buckets in order: the result is sorted, with no merge of
//! per-worker runs, and the buckets divide among the cores. On ten million lines this replaced a
//! comparison sort of each worker's `u64` ranges and a serial merge of the two runs, and halved
//! the memory the keys take (fresh memory is slow to come by in a virtual machine: the kernel
//! zeroing pages was a fifth of the run).
//!
//! A bucket is a chain of fixed-size blocks cut from one zero-initialised arena per worker: pages
//! are backed only once written, and a bucket's partly filled last block wastes at most one block.

use std::ops::Range;

use super::merge::{RangeKey, advise_huge_pages};
use super::parse::host_mask;

const BUCKETS: usize = 256;
/// Keys in a block: 16 KiB, so the open blocks of 256 buckets waste at most 4 MiB a worker.
const BLOCK: usize = 4096;
/// Below this many keys a comparison sort beats filling two 4096-entry histograms.
const SMALL: usize = 1024;
/// Above this many keys (one /8 holding most of a huge list) a bucket is sorted in place by
/// comparison: its copy for sorting is then the only extra memory, with no radix scratch beside.
const LARGE: usize = 1 << 22;

/// One worker's IPv4 prefixes, bucketed by the top byte of the first address. In its bucket a
/// prefix is one key: the address's low 24 bits, then six bits of prefix length, so that integer
/// order is address order.
pub(super) struct V4Buckets {
    arena: Vec<u32>,
    /// Arena slots handed out as blocks.
    used: usize,
    /// Per bucket: the start of each full block, in order.
    full: Vec<Vec<usize>>,
    /// Per bucket: the next free slot of its open block and the block's end (`(0, 0)`: none yet).
    open: [(usize, usize); BUCKETS],
}

impl V4Buckets {
    /// Buckets with room for about `keys` keys before the arena has to grow.
    pub(super) fn with_capacity(keys: usize) -> Self {
        // `vec![0; n]` takes fresh zeroed pages from the allocator without writing them.
        let mut arena = vec![0u32; (keys + BUCKETS * BLOCK).next_multiple_of(BLOCK)];
        advise_huge_pages(&mut arena);
        V4Buckets {
            arena,
            used: 0,
            full: vec![Vec::new(); BUCKETS],
            open: [(0, 0); BUCKETS],
        }
    }

    /// Adds the prefix `addr/len`.
    #[inline]
    pub(super) fn push(&mut self, addr: u32, len: u32) {
        let b = (addr >> 24) as usize;
        let key = (addr & 0xff_ffff) << 6 | len;
        let (mut at, end) = self.open[b];
        if at == end {
            at = self.open_block(b);
        }
        self.arena[at] = key;
        self.open[b].0 = at + 1;
    }

    /// Starts a new block for bucket `b` (growing the arena when it is used up); returns its start.
    #[cold]
    #[inline(never)]
    fn open_block(&mut self, b: usize) -> usize {
        let end = self.open[b].1;
        if end != 0 {
            self.full[b].push(end - BLOCK);
        }
        if self.used + BLOCK > self.arena.len() {
            let more = self.arena.len().max(BUCKETS * BLOCK);
            self.arena.resize(self.arena.len() + more, 0);
            advise_huge_pages(&mut self.arena);
        }
        let start = self.used;
        self.used += BLOCK;
        self.open[b] = (start, start + BLOCK);
        start
    }

    /// The keys of bucket `b`, a block at a time, in the order they were pushed.
    fn blocks(&self, b: usize) -> impl Iterator<Item = &[u32]> {
        let (at, end) = self.open[b];
        let open = (end != 0).then(|| &self.arena[end - BLOCK..at]);
        self.full[b]
            .iter()
            .map(|&start| &self.arena[start..start + BLOCK])
            .chain(open)
    }

    fn bucket_len(&self, b: usize) -> usize {
        self.blocks(b).map(<[u32]>::len).sum()
    }

    /// Every prefix as a range, bucket by bucket.
    #[cfg(test)]
    pub(super) fn ranges(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        (0..BUCKETS).flat_map(|b| self.blocks(b).flatten().map(move |&k| range(b, k)))
    }
}

/// The range of a key in bucket `b`.
#[inline]
fn range(b: usize, key: u32) -> (u32, u32) {
    let first = (b as u32) << 24 | key >> 6;
    (first, first | host_mask(key & 63))
}

/// Sorts and coalesces the prefixes of every worker's buckets on `threads` threads. Returns one
/// sorted run of disjoint, non-adjacent ranges per thread; the runs follow each other in address
/// order (a run's first range may only touch or overlap the previous run's last). The first run
/// has room for all of them.
pub(super) fn sort_buckets(workers: &[V4Buckets], threads: usize) -> Vec<Vec<(u32, u32)>> {
    let sizes: Vec<usize> = (0..BUCKETS)
        .map(|b| workers.iter().map(|w| w.bucket_len(b)).sum())
        .collect();
    let total = sizes.iter().sum();
    let shares = split(&sizes, threads.max(1));
    // Room: coalescing only shrinks, and pages are backed only as ranges are written.
    let room = |i: usize, share: &Range<usize>| match i {
        0 => total,
        _ => sizes[share.clone()].iter().sum(),
    };
    if shares.len() <= 1 {
        return shares
            .into_iter()
            .map(|share| sort_share(workers, share, total))
            .collect();
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .into_iter()
            .enumerate()
            .map(|(i, share)| {
                let room = room(i, &share);
                scope.spawn(move || sort_share(workers, share, room))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a sorting thread panicked"))
            .collect()
    })
}

/// Cuts the buckets into at most `threads` consecutive, non-empty ranges holding about equal
/// numbers of keys.
fn split(sizes: &[usize], threads: usize) -> Vec<Range<usize>> {
    let total: usize = sizes.iter().sum();
    let mut shares = Vec::with_capacity(threads);
    // Keys up to the current bucket, and before the open share's first bucket.
    let (mut start, mut seen, mut before) = (0, 0, 0);
    for (b, &n) in sizes.iter().enumerate() {
        seen += n;
        // Close a share with keys once the keys so far reach its part of the total (the last
        // share takes the rest).
        let fair = total * (shares.len() + 1);
        if shares.len() + 1 < threads && seen > before && seen * threads >= fair {
            shares.push(start..b + 1);
            (start, before) = (b + 1, seen);
        }
    }
    if seen > before {
        shares.push(start..sizes.len());
    }
    shares
}

/// Sorts the buckets of one share in turn and coalesces them into one run with room for `room`
/// ranges.
fn sort_share(workers: &[V4Buckets], share: Range<usize>, room: usize) -> Vec<(u32, u32)> {
    let mut run: Vec<(u32, u32)> = Vec::with_capacity(room);
    advise_huge_pages(&mut run);
    let (mut keys, mut scratch) = (Vec::new(), Vec::new());
    for b in share {
        keys.clear();
        for w in workers {
            w.blocks(b).for_each(|block| keys.extend_from_slice(block));
        }
        sort_keys(&mut keys, &mut scratch);
        for &k in &keys {
            let k = range(b, k);
            match run.last_mut() {
                Some(last) if last.joins(k) => last.1 = last.1.max(k.1),
                _ => run.push(k),
            }
        }
    }
    run
}

/// Sorts one bucket's keys by address (the order of keys with equal addresses is left open:
/// coalescing takes the largest last address).
fn sort_keys(keys: &mut [u32], scratch: &mut Vec<u32>) {
    if keys.len() < SMALL || keys.len() > LARGE {
        keys.sort_unstable();
        return;
    }
    // Two stable counting passes over the 24 address bits: bits 6..18 of the key, then 18..30.
    const DIGIT: usize = 1 << 12;
    let digit = |k: u32, pass: u32| (k >> (6 + 12 * pass)) as usize & (DIGIT - 1);
    let mut counts = [[0u32; DIGIT]; 2];
    for &k in keys.iter() {
        counts[0][digit(k, 0)] += 1;
        counts[1][digit(k, 1)] += 1;
    }
    for count in counts.iter_mut() {
        let mut sum = 0;
        for c in count.iter_mut() {
            (*c, sum) = (sum, sum + *c);
        }
    }
    if scratch.len() < keys.len() {
        scratch.resize(keys.len(), 0);
    }
    let scratch = &mut scratch[..keys.len()];
    for &k in keys.iter() {
        let slot = &mut counts[0][digit(k, 0)];
        scratch[*slot as usize] = k;
        *slot += 1;
    }
    for &k in scratch.iter() {
        let slot = &mut counts[1][digit(k, 1)];
        keys[*slot as usize] = k;
        *slot += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_sort_orders_by_address() {
        let mut rng = fastrand::Rng::with_seed(11);
        let mut scratch = Vec::new();
        for n in [0, 1, 5, SMALL - 1, SMALL, 5000, 70_000] {
            // Sometimes few distinct addresses, so that many keys tie.
            let spread = if rng.bool() { 1 << 24 } else { 50 };
            let mut keys: Vec<u32> = (0..n)
                .map(|_| rng.u32(..spread) << 6 | rng.u32(..33))
                .collect();
            let mut expected = keys.clone();
            expected.sort_unstable();
            sort_keys(&mut keys, &mut scratch);
            let addrs = |k: &[u32]| k.iter().map(|k| k >> 6).collect::<Vec<_>>();
            assert_eq!(addrs(&keys), addrs(&expected), "{n} keys");
            keys.sort_unstable();
            assert_eq!(keys, expected, "{n} keys: the same keys");
        }
    }

    #[test]
    fn splits_into_consecutive_balanced_shares() {
        let mut rng = fastrand::Rng::with_seed(5);
        for _ in 0..2000 {
            let sizes: Vec<usize> = (0..BUCKETS)
                .map(|_| if rng.bool() { 0 } else { rng.usize(..1000) })
                .collect();
            let total: usize = sizes.iter().sum();
            let threads = rng.usize(1..10);
            let shares = split(&sizes, threads);
            assert!(shares.len() <= threads);
            // Consecutive, covering every non-empty bucket once.
            let covered: Vec<usize> = shares.iter().flat_map(|s| s.clone()).collect();
            assert!(covered.windows(2).all(|w| w[1] == w[0] + 1));
            for (b, &n) in sizes.iter().enumerate() {
                assert!(n == 0 || covered.contains(&b), "bucket {b} left out");
            }
            // No share but the last goes past its fair part by more than one bucket.
            let biggest = sizes.iter().max().copied().unwrap_or(0);
            for s in shares.iter().take(shares.len().saturating_sub(1)) {
                let n: usize = sizes[s.clone()].iter().sum();
                assert!(n <= total.div_ceil(threads) + biggest, "{n} of {total}");
            }
        }
    }

    #[test]
    fn buckets_keep_every_key_across_blocks_and_arena_growth() {
        let mut rng = fastrand::Rng::with_seed(9);
        let mut buckets = V4Buckets::with_capacity(0);
        // Skewed: most prefixes in a few buckets, so blocks fill and the arena grows.
        let prefixes: Vec<(u32, u32)> = (0..300_000)
            .map(|_| {
                let top = if rng.u8(..10) < 8 {
                    rng.u32(9..12)
                } else {
                    rng.u32(..256)
                };
                let len = rng.u32(..=32);
                let addr = top << 24 | rng.u32(..1 << 24);
                (addr & !host_mask(len), len)
            })
            .collect();
        prefixes
            .iter()
            .for_each(|&(addr, len)| buckets.push(addr, len));
        let mut got: Vec<(u32, u32)> = buckets.ranges().collect();
        got.sort_unstable();
        let mut expected: Vec<(u32, u32)> = prefixes
            .iter()
            .map(|&(addr, len)| (addr, addr | host_mask(len)))
            .collect();
        expected.sort_unstable();
        assert_eq!(got, expected);
    }
}
