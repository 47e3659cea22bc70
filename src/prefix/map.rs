//! A prefix trie that maps prefixes to values and answers "which prefixes contain this address?".
//!
//! Same flat-array layout as [`super::PrefixSet`]; each node keeps the head of a linked list of the
//! values stored at its prefix, so many tags can share one prefix without a `Vec` per node. A
//! lookup walks at most `BITS` nodes from the root, collecting values least specific first.

use super::addr::Addr;
use super::net::Prefix;

const NONE: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Node {
    child: [u32; 2],
    head: u32,
}

const EMPTY: Node = Node {
    child: [NONE; 2],
    head: NONE,
};

/// Prefixes of one family mapped to values.
#[derive(Clone)]
pub struct PrefixMap<A: Addr, V> {
    nodes: Vec<Node>,
    /// (value, next entry of the same node)
    entries: Vec<(V, u32)>,
    _family: std::marker::PhantomData<A>,
}

impl<A: Addr, V> Default for PrefixMap<A, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Addr, V> PrefixMap<A, V> {
    /// The empty map.
    pub fn new() -> Self {
        PrefixMap {
            nodes: vec![EMPTY],
            entries: Vec::new(),
            _family: std::marker::PhantomData,
        }
    }

    /// Number of values stored.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no value is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds `value` at `prefix` (a prefix may hold several values).
    pub fn insert(&mut self, prefix: Prefix<A>, value: V) {
        let mut idx = 0usize;
        for depth in 0..prefix.len() {
            let side = prefix.addr().bit(depth) as usize;
            let next = self.nodes[idx].child[side];
            idx = if next == NONE {
                let new = self.nodes.len() as u32;
                self.nodes.push(EMPTY);
                self.nodes[idx].child[side] = new;
                new as usize
            } else {
                next as usize
            };
        }
        let entry = self.entries.len() as u32;
        self.entries.push((value, self.nodes[idx].head));
        self.nodes[idx].head = entry;
    }

    /// Calls `f(prefix, value)` for every stored prefix containing `addr`, least specific first.
    pub fn for_each_match(&self, addr: A, mut f: impl FnMut(Prefix<A>, &V)) {
        self.visit(addr, |depth, e| {
            f(Prefix::containing(addr, depth), &self.entries[e].0)
        });
    }

    /// Every stored prefix containing `addr` with its value, least specific first.
    pub fn matches(&self, addr: A) -> Vec<(Prefix<A>, &V)> {
        let mut out = Vec::new();
        self.visit(addr, |depth, e| {
            out.push((Prefix::containing(addr, depth), &self.entries[e].0))
        });
        out
    }

    /// Calls `f(depth, entry)` for each value on the path from the root towards `addr`.
    fn visit(&self, addr: A, mut f: impl FnMut(u8, usize)) {
        let mut idx = 0usize;
        let mut depth = 0u8;
        loop {
            let mut e = self.nodes[idx].head;
            while e != NONE {
                f(depth, e as usize);
                e = self.entries[e as usize].1;
            }
            if depth == A::BITS {
                return;
            }
            let next = self.nodes[idx].child[addr.bit(depth) as usize];
            if next == NONE {
                return;
            }
            idx = next as usize;
            depth += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_containing_prefix_least_specific_first() {
        let mut m: PrefixMap<u32, &str> = PrefixMap::new();
        for (p, v) in [
            ("10.0.0.0/8", "a"),
            ("10.1.0.0/16", "b"),
            ("10.1.0.0/16", "c"),
            ("11.0.0.0/8", "d"),
            ("0.0.0.0/0", "z"),
        ] {
            m.insert(p.parse().unwrap(), v);
        }
        let hits: Vec<(String, &str)> = m
            .matches(0x0a01_0203)
            .into_iter()
            .map(|(p, v)| (p.to_string(), *v))
            .collect();
        assert_eq!(
            hits,
            [
                ("0.0.0.0/0".into(), "z"),
                ("10.0.0.0/8".into(), "a"),
                ("10.1.0.0/16".into(), "c"),
                ("10.1.0.0/16".into(), "b")
            ]
        );
        assert_eq!(m.matches(0x0c00_0000).len(), 1);
        let mut h = PrefixMap::<u32, u8>::new();
        h.insert(Prefix::host(5), 1);
        assert_eq!(h.matches(5).len(), 1);
        assert!(h.matches(4).is_empty());
    }
}
