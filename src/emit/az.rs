//! `--format az`: a bash script of `az network route-table route create` commands.
//!
//! Every value is single-quoted, so the script is safe whatever a name or resource group holds.
//! The resource group and table come from the flags, else from `$RESOURCE_GROUP` / `$ROUTE_TABLE`
//! at run time; the script stops before touching anything when either is missing.

use super::Target;
use crate::model::Route;
use crate::plan::Plan;
use crate::snapshot::Cloud;

/// The name `az cloud show` gives a cloud.
fn az_cloud_name(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Public => "AzureCloud",
        Cloud::AzureGovernment => "AzureUSGovernment",
        Cloud::China => "AzureChinaCloud",
    }
}

/// Quotes a value for bash: `'...'` with each `'` written as `'\''`.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The script's opening lines: shebang, strict mode, a check that `az` is set to the routes'
/// cloud (a Government file's routes written through a public login would go to another
/// table, or fail halfway), where the routes go.
pub(crate) fn preamble(comment: &[String], cloud: Cloud, target: &Target) -> String {
    let mut out = script_head(comment, cloud);
    out.push_str(&variable(
        "RESOURCE_GROUP",
        &target.resource_group,
        "--resource-group",
    ));
    out.push_str(&variable(
        "ROUTE_TABLE",
        &target.route_table,
        "--route-table",
    ));
    out.push('\n');
    out
}

/// A script variable: the flag's value, single-quoted, else the environment's, the script
/// stopping before anything is done when neither is set.
pub fn variable(name: &str, value: &Option<String>, flag: &str) -> String {
    match value {
        Some(v) => format!("{name}={}\n", shell_quote(v)),
        None => format!("{name}=\"${{{name}:?set {name} or pass {flag} to tagroute}}\"\n"),
    }
}

/// Shebang, the comment lines, strict mode and the check that `az` is set to `cloud`.
pub(crate) fn script_head(comment: &[String], cloud: Cloud) -> String {
    let mut out = String::from("#!/usr/bin/env bash\n");
    for line in comment {
        out.push_str(&format!("# {}\n", super::comment_text(line)));
    }
    out.push_str("set -euo pipefail\n\n");
    let name = az_cloud_name(cloud);
    out.push_str(&format!(
        "if [ \"$(az cloud show --query name -o tsv)\" != {name} ]; then\n  echo \"these routes are for \
         the {name} cloud; az is set to another (az cloud set --name {name})\" >&2\n  exit 1\nfi\n"
    ));
    out
}

/// The command that creates (or updates in place) one route: `az network route-table route
/// create`, or for an ECMP next hop (which that command cannot set) `az rest` with the route's
/// properties as Resource Manager takes them; `az rest` fills in `{subscriptionId}` and the
/// current cloud's Resource Manager endpoint.
pub fn create(route: &Route) -> String {
    if route.next_hop.ecmp().is_some() {
        let body = serde_json::json!({ "properties": super::arm::properties(route) });
        return format!(
            "az rest --method put --url \"/subscriptions/{{subscriptionId}}/resourceGroups/$RESOURCE_GROUP\
             /providers/Microsoft.Network/routeTables/$ROUTE_TABLE/routes/\"{}\"?api-version={}\" \
             --body {} --output none\n",
            shell_quote(&route.name),
            super::arm::API_VERSION,
            shell_quote(&body.to_string()),
        );
    }
    let mut cmd = format!(
        "az network route-table route create --resource-group \"$RESOURCE_GROUP\" \
         --route-table-name \"$ROUTE_TABLE\" --name {} --address-prefix {} --next-hop-type {}",
        shell_quote(&route.name),
        shell_quote(&route.destination.to_string()),
        route.next_hop.type_name(),
    );
    if let Some(ip) = route.next_hop.ip() {
        cmd.push_str(&format!(
            " --next-hop-ip-address {}",
            shell_quote(&ip.to_string())
        ));
    }
    cmd.push_str(" --output none\n");
    cmd
}

/// The command that deletes one route.
pub fn delete(route_name: &str) -> String {
    format!(
        "az network route-table route delete --resource-group \"$RESOURCE_GROUP\" \
         --route-table-name \"$ROUTE_TABLE\" --name {} --output none\n",
        shell_quote(route_name)
    )
}

/// The whole script for a plan.
pub fn plan(plan: &Plan, target: &Target) -> String {
    let mut out = preamble(
        &[super::generator(), super::provenance(plan)],
        plan.cloud,
        target,
    );
    for route in &plan.routes {
        out.push_str(&create(route));
    }
    out
}
