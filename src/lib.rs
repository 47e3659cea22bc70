//! tagroute: Azure service tags to user-defined routes.
//!
//! The library holds every stage of the pipeline; the `tagroute` command line (the `tagroute-cli`
//! crate) parses arguments, calls it and prints. Its public surface, in the order a program uses
//! it:
//!
//! - [`snapshot`]: load and validate a service-tag file ([`snapshot::load`], [`snapshot::parse`]);
//! - [`select`]: regions and tag selection by name or glob;
//! - [`plan`]: the fewest routes for the selected tags ([`plan::plan_named`]);
//! - [`request`]: a plan asked for in a user's terms, planned beside a table and diffed against
//!   it, with what to tell the user ([`request::plan_request`], [`request::plan_and_diff`]);
//! - [`notice`]: what to tell about a plan, its advice typed for each reader to word;
//! - [`emit`]: render a plan for az, Terraform, ARM, Bicep, JSON, CSV or a table;
//! - [`routes`], [`forwarding`] and [`diff`]: read an existing route table, forward it as Azure
//!   does, and compute the change to it; [`coverage`]: how much of a set of tags a table sends to
//!   Internet;
//! - [`drift`]: what changed between two service-tag files, and whether the routes must follow;
//! - [`lookup`]: which tags hold an address; [`listing`]: the tags, prefixes, regions and
//!   profiles the listing commands show, with their JSON;
//! - [`prefix`]: the prefix engine (prefixes, aggregation, interval sets, the bulk reader), with
//!   conversions to and from `std::net` and `ipnet`;
//! - [`model`]: the route-table vocabulary (routes, next hops, Azure's limits and names);
//! - [`http`] (feature `net`): the one HTTP client and retry policy every request goes through;
//! - [`net`] (feature `net`): how the outside is reached, as one set of options (the cache, the
//!   servers, the HTTP client's limits, the Resource Manager sign-in), from which every command
//!   gets its store, its client, each cloud's file and its Resource Manager clients;
//! - [`source`] (feature `net`): downloads of the service-tag files and their cache;
//! - [`arm`] and [`refresh`] (feature `azure`): live route tables through Azure Resource Manager
//!   (read, apply, verify), and the unattended refresh job ([`refresh::job::run`]) with its
//!   atomic state directory;
//! - [`fleet`] (feature `azure`): many route tables in one run, from a fleet file
//!   ([`fleet::config::load`], [`fleet::files::files`], [`fleet::run::run`]); one table is a
//!   fleet of one ([`fleet::config::TableSpec::one`]); a refresh from its lock to its webhook
//!   ([`fleet::refresh`]);
//! - [`options`]: a table's options, from flags or a fleet file, resolved and checked once;
//! - [`check`], [`rules`], [`profile`], [`regions`]: what a profile's compute needs, judged
//!   flow by flow, and the NSG and firewall rules that give it;
//! - [`discover`] (feature `azure`): the route tables of whole subscriptions through Azure
//!   Resource Graph, each judged against the current file;
//! - [`text`]: names, terminal-safe text and errors with their causes, for whatever prints.
//!
//! Everything else (the strict JSON reader, bounded line reading, atomic files, the state
//! directory, the cache's layout, prefix text) is the library's own, as are the helpers of each
//! stage that no other program calls.
//!
//! Both features are on by default; `default-features = false` gives the planner and the prefix
//! engine without tokio, reqwest or the Azure SDK.

#[cfg(feature = "azure")]
pub mod arm;
mod bytes16;
pub mod check;
pub mod coverage;
pub mod diff;
#[cfg(feature = "azure")]
pub mod discover;
pub mod drift;
pub mod emit;
#[cfg(feature = "azure")]
pub mod fleet;
pub mod forwarding;
pub(crate) mod fsutil;
#[cfg(feature = "net")]
pub mod http;
pub mod id;
#[doc(hidden)]
pub mod internals;
pub(crate) mod json;
pub(crate) mod lines;
pub mod listing;
pub mod lookup;
pub mod model;
#[cfg(feature = "net")]
pub mod net;
pub mod notice;
pub mod nsg;
pub mod options;
pub mod plan;
pub mod prefix;
pub mod profile;
#[cfg(feature = "azure")]
pub mod refresh;
pub mod regions;
pub mod request;
pub mod routes;
pub mod rules;
pub mod secret;
pub mod select;
pub mod snapshot;
#[cfg(feature = "net")]
pub mod source;
#[cfg(feature = "azure")]
pub(crate) mod state;
pub mod text;
