//! The project's binary prefix trie.
//!
//! Nodes live in one flat `Vec` and refer to their children by index, so building a trie of the
//! ~69k IPv4 prefixes of the public file is a few allocations, not one per node. A node is marked
//! *full* when every address below it is in the set; inserting a prefix under a full node is a
//! no-op and marking a node full drops its subtree, so the trie never holds redundant prefixes.
//! [`PrefixSet::aggregate`] then folds two full siblings into a full parent, bottom-up, which yields
//! the maximal aligned blocks of the set: the fewest CIDR prefixes whose union is exactly the set.

use super::addr::Addr;
use super::net::Prefix;

const NONE: u32 = 0; // the root is node 0 and is never anyone's child

#[derive(Clone, Copy, Default)]
struct Node {
    child: [u32; 2],
    full: bool,
}

/// A set of addresses of one family, held as a binary trie of prefixes.
#[derive(Clone)]
pub struct PrefixSet<A: Addr> {
    nodes: Vec<Node>,
    _family: std::marker::PhantomData<A>,
}

impl<A: Addr> Default for PrefixSet<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Addr> PrefixSet<A> {
    /// The empty set.
    pub fn new() -> Self {
        PrefixSet {
            nodes: vec![Node::default()],
            _family: std::marker::PhantomData,
        }
    }

    /// Adds every address of `prefix`.
    pub fn insert(&mut self, prefix: Prefix<A>) {
        let mut idx = 0usize;
        for depth in 0..prefix.len() {
            if self.nodes[idx].full {
                return;
            }
            let side = prefix.addr().bit(depth) as usize;
            let next = self.nodes[idx].child[side];
            idx = if next == NONE {
                let new = self.nodes.len() as u32;
                self.nodes.push(Node::default());
                self.nodes[idx].child[side] = new;
                new as usize
            } else {
                next as usize
            };
        }
        self.nodes[idx] = Node {
            child: [NONE; 2],
            full: true,
        };
    }

    /// The fewest prefixes whose union is exactly this set, in address order.
    pub fn aggregate(&mut self) -> Vec<Prefix<A>> {
        self.fold_full(0);
        let mut out = Vec::new();
        self.collect(0, Prefix::containing(A::ZERO, 0), &mut out);
        out
    }

    /// Marks a node full when both children are; returns whether it is.
    fn fold_full(&mut self, idx: usize) -> bool {
        let node = self.nodes[idx];
        if node.full {
            return true;
        }
        let [l, r] = node.child;
        let left = l != NONE && self.fold_full(l as usize);
        let right = r != NONE && self.fold_full(r as usize);
        if left && right {
            self.nodes[idx] = Node {
                child: [NONE; 2],
                full: true,
            };
        }
        left && right
    }

    fn collect(&self, idx: usize, at: Prefix<A>, out: &mut Vec<Prefix<A>>) {
        let node = self.nodes[idx];
        if node.full {
            out.push(at);
            return;
        }
        if let Some(halves) = at.children() {
            for (side, half) in halves.into_iter().enumerate() {
                if node.child[side] != NONE {
                    self.collect(node.child[side] as usize, half, out);
                }
            }
        }
    }
}

impl<A: Addr> FromIterator<Prefix<A>> for PrefixSet<A> {
    fn from_iter<I: IntoIterator<Item = Prefix<A>>>(iter: I) -> Self {
        let mut set = PrefixSet::new();
        for p in iter {
            set.insert(p);
        }
        set
    }
}

/// The fewest prefixes whose union is exactly the union of `prefixes`, in address order.
///
/// ```
/// use tagroute::prefix::{Prefix, aggregate};
///
/// let list: Vec<Prefix<u32>> = ["10.0.0.0/25", "10.0.0.128/25", "10.0.1.0/24", "10.0.0.7/32"]
///     .iter()
///     .map(|p| p.parse().unwrap())
///     .collect();
/// let merged: Vec<String> = aggregate(list).iter().map(|p| p.to_string()).collect();
/// assert_eq!(merged, ["10.0.0.0/23"]);
/// ```
pub fn aggregate<A: Addr>(prefixes: impl IntoIterator<Item = Prefix<A>>) -> Vec<Prefix<A>> {
    prefixes.into_iter().collect::<PrefixSet<A>>().aggregate()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::interval::IntervalSet;

    fn agg(v: &[&str]) -> Vec<String> {
        aggregate(v.iter().map(|p| p.parse::<Prefix<u32>>().unwrap()))
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn merges_siblings_and_drops_covered() {
        assert_eq!(agg(&["10.0.0.0/25", "10.0.0.128/25"]), ["10.0.0.0/24"]);
        assert_eq!(
            agg(&["10.0.0.0/24", "10.0.0.7/32", "10.0.0.0/8"]),
            ["10.0.0.0/8"]
        );
        assert_eq!(
            agg(&["10.0.1.0/24", "10.0.2.0/24"]),
            ["10.0.1.0/24", "10.0.2.0/24"]
        );
        assert_eq!(agg(&["0.0.0.0/1", "128.0.0.0/1"]), ["0.0.0.0/0"]);
        assert_eq!(agg(&[]), Vec::<String>::new());
    }

    #[test]
    fn covered_then_covering_order_does_not_matter() {
        assert_eq!(
            agg(&["10.0.0.7/32", "10.0.0.0/24"]),
            agg(&["10.0.0.0/24", "10.0.0.7/32"])
        );
    }

    /// Every subset of the 16 addresses of a /28, as host routes: the trie's answer equals the
    /// independent range decomposition.
    #[test]
    fn exhaustive_on_a_slash_28() {
        for mask in 0u32..(1 << 16) {
            let hosts: Vec<Prefix<u32>> = (0..16)
                .filter(|i| mask >> i & 1 == 1)
                .map(|i| Prefix::host(0x0a00_0000 + i))
                .collect();
            let expect = IntervalSet::from_prefixes(&hosts).to_prefixes();
            assert_eq!(aggregate(hosts.iter().copied()), expect, "mask {mask:#x}");
        }
    }

    #[test]
    fn ipv6_default_and_hosts() {
        let v: Vec<Prefix<u128>> = vec!["::/1".parse().unwrap(), "8000::/1".parse().unwrap()];
        assert_eq!(
            aggregate(v)
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>(),
            ["::/0"]
        );
        let h = vec![Prefix::host(0u128), Prefix::host(1u128)];
        assert_eq!(aggregate(h)[0].to_string(), "::/127");
    }
}
