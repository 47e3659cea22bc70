//! The prefix engine: addresses, CIDR prefixes, the binary trie, and interval arithmetic.
//!
//! Generic over the address family ([`Addr`] for `u32` and `u128`) and free of anything Azure,
//! so it can be used and tested on its own. The trie ([`PrefixSet`]) is what the planners use;
//! [`IntervalSet`] is the independent reference that tests check the trie against; `StabIndex`
//! answers "which prefixes contain this address" for `lookup`; `bulk` aggregates huge lists.

mod addr;
#[cfg(test)]
pub(crate) mod brute_force;
pub mod bulk;
mod check;
mod convert;
mod interval;
mod lpm;
mod minimize;
mod net;
mod prepared;
mod stab;
pub(crate) mod text;
mod trie;

pub use addr::{Addr, Family};
pub use check::{CheckError, check, check_with_tags, sent_in};
pub use interval::{IntervalSet, range_prefixes};
pub(crate) use lpm::lpm_segments;
pub use minimize::{Hop, Intent, Table, min_routes};
pub use net::{IpPrefix, Prefix, PrefixError};
pub use prepared::{
    Bound, Prepared, minimize, minimize_with_tags, minimize_within, minimize_within_tags,
};
pub(crate) use stab::StabIndex;
pub use trie::{PrefixSet, aggregate};
