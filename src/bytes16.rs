//! Sixteen bytes at a time: which bytes of a block are in a small set, or are digits, as a 16-bit
//! mask. The bulk IPv4 parser finds a line's dots and digits with it: one compare per byte value instead of a loop that
//! branches on every byte. SSE2 (part of the x86_64 baseline) where there is one, a byte loop
//! elsewhere.

/// Bit `k` set when byte `k` of `block` is one of `set`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn mask(block: &[u8; 16], set: &[u8]) -> u32 {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline, so these instructions always exist; the
    // load reads exactly the sixteen bytes of `block`.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        let mut hits = _mm_setzero_si128();
        for &c in set {
            hits = _mm_or_si128(hits, _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8)));
        }
        _mm_movemask_epi8(hits) as u32
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub fn mask(block: &[u8; 16], set: &[u8]) -> u32 {
    (0..16).fold(0, |m, k| m | (set.contains(&block[k]) as u32) << k)
}

/// Bit `k` set when byte `k` of `block` is an ASCII digit.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn digits(block: &[u8; 16]) -> u32 {
    use std::arch::x86_64::*;
    // SAFETY: as in `mask`.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        // A digit is a byte whose distance from '0' is at most 9 (unsigned: below '0' wraps).
        let d = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d)) as u32
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub fn digits(block: &[u8; 16]) -> u32 {
    (0..16).fold(0, |m, k| m | (block[k].is_ascii_digit() as u32) << k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_a_byte_loop_for_every_byte_value() {
        for first in (0..=255u8).step_by(16) {
            let block: [u8; 16] = std::array::from_fn(|k| first + k as u8);
            let want =
                |f: &dyn Fn(u8) -> bool| (0..16).fold(0, |m, k| m | (f(block[k]) as u32) << k);
            assert_eq!(digits(&block), want(&|c| c.is_ascii_digit()), "{block:?}");
            assert_eq!(
                mask(&block, b"./"),
                want(&|c| c == b'.' || c == b'/'),
                "{block:?}"
            );
        }
    }
}
