//! Live route tables through Azure Resource Manager: read a table, and make its managed routes
//! equal to a plan, safely.
//!
//! [`crate::id`] names a table; `auth` gets a Resource Manager token (a given one, or the Azure SDK's
//! credentials); `client` speaks the REST API (retries, `Retry-After`, one fresh token after a
//! 401, long-running operations followed to the end, bounded bodies, no request or poll ever sent
//! to another host than the endpoint); `live` keeps a table as read and builds the one guarded
//! write of the whole table; `apply` turns a diff into that write (or into one write per route):
//! only managed routes, a bound on the change, every write guarded by the table's ETag, and the
//! table read back at the end. The plan and the diff come from the rest of the library; nothing
//! here decides what the routes should be.

mod apply;
mod auth;
mod azureml;
mod client;
mod list;
mod live;

pub use crate::id::{IdError, NetworkId, NetworkKind, RouteTableId, subscription};
pub use apply::{
    Applied, ApplyError, ApplyOptions, ApplyReport, DEFAULT_MAX_CHANGES, Op, WriteMode, apply,
};
pub use auth::{
    AuthError, CredentialSource, MAX_TOKEN_FILE_BYTES, TokenFileProblem, Tokens, read_token_file,
};
pub use azureml::AzureMlError;
pub use client::{ArmClient, ArmError, ArmOptions, Effective, GraphPage};
pub use live::{BadTable, LiveTable, check_etag};

/// The `Microsoft.Network` API version every request names.
pub(crate) const API_VERSION: &str = crate::model::NETWORK_API_VERSION;
/// The `Microsoft.ResourceGraph` API version of discovery (the newest stable in the REST
/// specification).
pub(crate) const GRAPH_API_VERSION: &str = "2024-04-01";
