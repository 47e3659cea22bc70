//! Writing an aggregated list: blocks of ranges formatted on every core, written in order.

use crate::prefix::addr::Addr;
use crate::prefix::interval::range_prefixes;
use crate::prefix::net::Prefix;

/// Writes the prefixes of sorted, disjoint ranges, one a line, to `out`: blocks of ranges are
/// formatted on every core at once and written in order, as formatting a few million prefixes
/// is a large share of a big run (see BENCHMARKS.md).
pub fn write_prefixes<A: Addr>(
    ranges: &[(A, A)],
    format: fn(&mut Vec<u8>, Prefix<A>),
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    const BLOCK: usize = 1 << 16;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let mut texts: Vec<Vec<u8>> = vec![Vec::new(); threads];
    let fill = |block: &[(A, A)], text: &mut Vec<u8>| {
        text.clear();
        for &(lo, hi) in block {
            range_prefixes(lo, hi, |p| {
                format(text, p);
                text.push(b'\n');
            });
        }
    };
    for round in ranges.chunks(BLOCK * threads) {
        if round.len() <= BLOCK {
            // One block (every short list): no thread to start.
            fill(round, &mut texts[0]);
        } else {
            std::thread::scope(|scope| {
                for (block, text) in round.chunks(BLOCK).zip(texts.iter_mut()) {
                    scope.spawn(move || fill(block, text));
                }
            });
        }
        for text in texts.iter().take(round.len().div_ceil(BLOCK)) {
            out.write_all(text)?;
        }
    }
    Ok(())
}
