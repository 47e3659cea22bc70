//! Property tests of the prefix engine against the interval reference: aggregation keeps exactly
//! the same addresses, and its output is sorted, disjoint and has no two mergeable siblings.

use proptest::prelude::*;
use tagroute::prefix::{Addr, IntervalSet, Prefix, aggregate};

/// Prefixes packed into a small region of the space so that overlaps and adjacency are common,
/// plus the occasional short prefix (down to /0) anywhere.
fn prefixes<A: Addr>(base: u128, span_bits: u8) -> impl Strategy<Value = Vec<Prefix<A>>> {
    let near = (0..(1u128 << span_bits), (A::BITS - span_bits)..=A::BITS)
        .prop_map(move |(off, len)| Prefix::containing(A::from_u128(base + off), len));
    let far = (any::<u128>(), 0..=A::BITS).prop_map(|(a, len)| {
        let a = if A::BITS == 32 {
            a & u32::MAX as u128
        } else {
            a
        };
        Prefix::containing(A::from_u128(a), len)
    });
    prop::collection::vec(prop_oneof![8 => near, 1 => far], 0..60)
}

fn check<A: Addr>(input: &[Prefix<A>]) -> Result<(), TestCaseError> {
    let out = aggregate(input.iter().copied());
    prop_assert_eq!(
        IntervalSet::from_prefixes(&out),
        IntervalSet::from_prefixes(input),
        "address set changed"
    );
    for w in out.windows(2) {
        prop_assert!(
            w[0].last() < w[1].first(),
            "overlap or disorder: {} {}",
            w[0],
            w[1]
        );
        let mergeable = w[0].len() == w[1].len()
            && w[0].len() > 0
            && Prefix::containing(w[0].first(), w[0].len() - 1).contains(w[1]);
        prop_assert!(!mergeable, "{} and {} could merge", w[0], w[1]);
    }
    // The canonical decomposition is the unique minimum; the independent one must agree.
    prop_assert_eq!(out, IntervalSet::from_prefixes(input).to_prefixes());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn ipv4_aggregation_is_exact_and_minimal(input in prefixes::<u32>(0x0a00_0000, 12)) {
        check(&input)?;
    }

    #[test]
    fn ipv6_aggregation_is_exact_and_minimal(input in prefixes::<u128>(0x2001_0db8u128 << 96, 12)) {
        check(&input)?;
    }

    #[test]
    fn ipv6_edges(input in prefixes::<u128>(u128::MAX - 4095, 12)) {
        check(&input)?;
    }

    #[test]
    fn set_algebra_agrees_with_membership(a in prefixes::<u32>(0, 8), b in prefixes::<u32>(0, 8), probe in 0u32..512) {
        let (sa, sb) = (IntervalSet::from_prefixes(&a), IntervalSet::from_prefixes(&b));
        let (ia, ib) = (sa.contains(probe), sb.contains(probe));
        prop_assert_eq!(sa.union(&sb).contains(probe), ia || ib);
        prop_assert_eq!(sa.intersect(&sb).contains(probe), ia && ib);
        prop_assert_eq!(sa.subtract(&sb).contains(probe), ia && !ib);
        prop_assert_eq!(sa.subtract(&sb).count() + sa.intersect(&sb).count(), sa.count());
    }
}
