//! Live route tables through Azure Resource Manager: read a table, and make its managed routes
//! equal to a plan, safely.
//!
//! `id` names a table; `auth` gets a Resource Manager token (a given one, or the Azure SDK's
//! credentials); `client` speaks the REST API (retries, `Retry-After`, one fresh token after a
//! 401, long-running operations followed to the end, no request or poll ever sent to another
//! host than the endpoint); `apply` turns a diff into writes: only managed routes, a bound on the
//! change, creates and updates before deletes, every write guarded by the ETag read, and the table
//! read back at the end. The plan and the diff come from the rest of the library; nothing here
//! decides what the routes should be.

mod apply;
mod auth;
mod client;
mod id;

pub use apply::{Applied, ApplyError, ApplyOptions, ApplyReport, Op, apply};
pub use auth::{CredentialSource, Tokens};
pub use client::{ArmClient, ArmError, ArmOptions, LiveTable};
pub use id::RouteTableId;

/// The `Microsoft.Network` API version every request names.
pub const API_VERSION: &str = "2024-05-01";
