//! `--route-table-id` and its companions: reaching a live route table through Resource Manager.

use std::path::PathBuf;
use std::time::Duration;

use tagroute::arm::{ArmClient, RouteTableId, WriteMode};
use tagroute::net::ArmAccess;
use tagroute::snapshot::Cloud;

use crate::net::NetArgs;

/// A live route table and how to reach it.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Live route table (Azure Resource Manager)")]
pub struct LiveArgs {
    /// The route table, read (and with apply, written) through Resource Manager:
    /// /subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/routeTables/RT.
    #[arg(long, value_name = "ID", value_parser = crate::values::route_table_id)]
    pub route_table_id: Option<RouteTableId>,
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// How Resource Manager is reached: the token, and how long a write may take.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Live route table (Azure Resource Manager)")]
pub struct AuthArgs {
    /// File holding a Resource Manager access token (read again when a fresh one is needed);
    /// else $AZURE_ACCESS_TOKEN; else the Azure SDK's credentials (environment service principal,
    /// workload identity, managed identity, Azure CLI login).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Longest time one write may take: its retries, its long-running operation and the waits
    /// between (for `tables`, the whole discovery: every page and the quota's waits).
    #[arg(long, value_name = "SECS", default_value = "600", value_parser = crate::values::timeout)]
    pub operation_timeout: Duration,
    /// Wait between polls of a long-running operation when Resource Manager names none
    /// (Retry-After wins).
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = crate::values::timeout)]
    pub poll_interval: Duration,
}

impl AuthArgs {
    /// How Resource Manager is signed in to: `--token-file`, else `$AZURE_ACCESS_TOKEN`, else
    /// the Azure SDK's credentials.
    pub fn access(&self) -> ArmAccess {
        ArmAccess {
            token_file: self.token_file.clone(),
            token: std::env::var("AZURE_ACCESS_TOKEN").ok(),
            operation_timeout: self.operation_timeout,
            poll_interval: self.poll_interval,
        }
    }

    /// A client for the tables of `cloud`: its Resource Manager endpoint (or `--arm-endpoint`,
    /// which must be that endpoint or a loopback address, since the token goes there).
    pub fn client(&self, net: &NetArgs, cloud: Cloud) -> anyhow::Result<ArmClient> {
        Ok(self.access().client(&net.options(), cloud)?)
    }
}

/// How a change is written to a live table (`apply --yes`, `refresh --apply`).
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Writing the live table")]
pub struct WriteArgs {
    /// Most creates + updates + deletes one run may make; a larger change is refused before
    /// anything is written.
    #[arg(long, value_name = "N", default_value_t = tagroute::arm::DEFAULT_MAX_CHANGES, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=crate::values::MAX_ROUTES_OPTION))]
    pub max_changes: usize,
    /// How the change is written: table (one PUT of the whole table under If-Match with its
    /// ETag: all or nothing, needs routeTables/write) or routes (one write per route, for roles
    /// with only routeTables/routes/write and routes/delete).
    #[arg(long, value_name = "HOW", value_parser = crate::values::write_mode(), default_value = "table")]
    pub write: WriteMode,
}
