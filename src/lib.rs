//! tagroute: Azure service tags to user-defined routes.
//!
//! The library holds every stage of the pipeline; the `tagroute` binary is one call to
//! [`cli::main`]. Its public surface, in the order a program uses it:
//!
//! - [`snapshot`]: load and validate a service-tag file ([`snapshot::load`], [`snapshot::parse`]);
//! - [`select`]: regions and tag selection by name or glob;
//! - [`plan`]: the fewest routes for the selected tags ([`plan::plan_named`]);
//! - [`emit`]: render a plan for az, Terraform, ARM, Bicep, JSON, CSV or a table;
//! - [`routes`] and [`diff`]: read an existing route table and compute the change to it;
//! - [`drift`]: what changed between two service-tag files, and whether the routes must follow;
//! - [`lookup`]: which tags hold an address;
//! - [`prefix`]: the prefix engine (prefixes, aggregation, interval sets), with conversions to and
//!   from `std::net` and `ipnet`;
//! - [`model`]: the route-table vocabulary (routes, next hops, Azure's limits and names);
//! - [`arm`]: live route tables through Azure Resource Manager (read, apply, verify).
//!
//! Everything else (downloads, the refresh job's state directory, atomic writes, the bulk line
//! reader) is private to the command-line program.

pub mod arm;
mod bytes16;
pub mod diff;
pub mod drift;
pub mod emit;
pub mod forwarding;
pub mod fsutil;
#[doc(hidden)]
pub mod internals;
pub mod lines;
pub mod lookup;
pub mod model;
pub mod plan;
pub mod prefix;
pub mod refresh;
pub mod routes;
pub mod select;
pub mod snapshot;
pub mod source;
pub mod state;
pub mod text;
