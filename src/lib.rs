//! tagroute: Azure service tags to user-defined routes.
//!
//! The library holds every stage of the pipeline (load a service-tag file, select tags, aggregate
//! prefixes, plan routes, render them); the `tagroute` binary only parses arguments and calls it.

mod bytes16;
pub mod diff;
pub mod drift;
pub mod emit;
pub mod fsutil;
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
