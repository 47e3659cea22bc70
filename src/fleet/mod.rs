//! Many route tables in one run: the fleet file ([`config`]), and running a diff, an apply or a
//! refresh on every table of it ([`run`]) with one download per cloud, a bounded number of
//! tables in flight, and one report in which a table that failed stands beside the others.

pub mod config;
pub mod files;
pub mod legacy;
pub mod refresh;
pub mod report;
pub mod run;
