//! Hooks for this repository's fuzz targets, benches and property tests, which are separate crates
//! and so see only public items. Not part of the library's API: hidden from the documentation and
//! free to change in any release.

pub use crate::lines::{Line, Lines, MAX_LINE_BYTES};
pub use crate::prefix::bulk::{parse_parallel, parse_v4_range, parse_v6_range};
