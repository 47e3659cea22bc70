//! `--route-table-id` and its companions: reaching a live route table through Resource Manager.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::arm::{ArmClient, ArmOptions, CredentialSource, RouteTableId, Tokens};
use crate::snapshot::Cloud;

use super::net::NetArgs;

/// A live route table and how to reach it.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Live route table (Azure Resource Manager)")]
pub struct LiveArgs {
    /// The route table, read (and with apply, written) through Resource Manager:
    /// /subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/routeTables/RT.
    #[arg(long, value_name = "ID")]
    pub route_table_id: Option<String>,
    /// File holding a Resource Manager access token (read again when a fresh one is needed);
    /// else $AZURE_ACCESS_TOKEN; else the Azure SDK's credentials (environment service principal,
    /// workload identity, managed identity, Azure CLI login).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Longest time one route write may take, its long-running operation included.
    #[arg(long, value_name = "SECS", default_value = "600", value_parser = super::values::timeout)]
    pub operation_timeout: Duration,
}

impl LiveArgs {
    /// The table's id, checked (one line naming what is wrong), when one was given.
    pub fn id(&self) -> anyhow::Result<Option<RouteTableId>> {
        self.route_table_id
            .as_deref()
            .map(|text| {
                text.parse::<RouteTableId>().map_err(|e| {
                    anyhow::anyhow!("--route-table-id {}: {e}", crate::text::quoted(text))
                })
            })
            .transpose()
    }

    /// A client for the table of `cloud`: its Resource Manager endpoint (or `--arm-endpoint`,
    /// which must be that endpoint's host or a loopback address, since the token goes there).
    pub fn client(&self, net: &NetArgs, cloud: Cloud) -> anyhow::Result<ArmClient> {
        let own = crate::source::endpoints(cloud).arm_endpoint;
        let endpoint = net.arm_endpoint.clone().unwrap_or_else(|| own.clone());
        let loopback = match endpoint.host() {
            Some(url::Host::Ipv4(a)) => a.is_loopback(),
            Some(url::Host::Ipv6(a)) => a.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        anyhow::ensure!(
            loopback || endpoint.host_str() == own.host_str(),
            "--arm-endpoint {} is not the {cloud} Resource Manager ({own}); a token is sent there \
             only (or to a loopback address)",
            crate::text::quoted(endpoint.as_str())
        );
        let source = match (&self.token_file, std::env::var("AZURE_ACCESS_TOKEN")) {
            (Some(path), _) => CredentialSource::File(path.clone()),
            (None, Ok(token)) if !token.trim().is_empty() => CredentialSource::Given(token),
            _ => CredentialSource::Sdk(cloud),
        };
        let opts = ArmOptions {
            http: net.http_config(),
            operation_timeout: self.operation_timeout,
            ..ArmOptions::default()
        };
        ArmClient::new(endpoint, Tokens::new(source), opts).context("--arm-endpoint")
    }
}
