//! Sorting and merging range lists: coalescing sorted keys, and merging sorted runs into one
//! list of disjoint ranges.

/// Sorted, coalesced runs as one: runs that follow each other in address order (the IPv4 runs of
/// one input) are appended to the first, which has room for them, joining ranges where they meet;
/// others are merged in one linear pass per pair.
pub(super) fn joined<K: RangeKey>(runs: Vec<Vec<K>>) -> Vec<K> {
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
pub(super) trait RangeKey: Copy + Ord {
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
pub(super) fn merge_runs<K: RangeKey>(runs: &[Vec<K>], emit: &mut impl FnMut(K)) {
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
pub(super) fn merged<K: RangeKey>(runs: &[Vec<K>]) -> Vec<K> {
    let mut out = Vec::with_capacity(runs.iter().map(Vec::len).sum());
    advise_huge_pages(&mut out);
    merge_runs(runs, &mut |k| out.push(k));
    out
}

/// Sorts keys and coalesces them in place into disjoint, non-adjacent ranges.
pub(super) fn sort_and_coalesce<K: RangeKey>(keys: &mut Vec<K>) {
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
/// where enabled for `madvise`): otherwise millions of keys fault in 4 KiB pages one at a time,
/// and each fault is costly in a virtual machine (see BENCHMARKS.md).
pub(super) fn advise_huge_pages<T>(v: &mut Vec<T>) {
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
pub(super) fn merge_two<K: RangeKey>(a: &[K], b: &[K], emit: &mut impl FnMut(K)) {
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
