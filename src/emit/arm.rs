//! `--format arm`: a deployable ARM template of `Microsoft.Network/routeTables/routes`.
//!
//! The routes are a variable array deployed by one copy loop, so the template reads as a list
//! and its diff from week to week is the list's diff. The loop is serial: Azure's network
//! provider rejects concurrent writes to one route table ("AnotherOperationInProgress").

use serde_json::{Value, json};

use super::Target;
use crate::model::Route;
use crate::plan::Plan;

/// API version of `Microsoft.Network/routeTables/routes` used by the ARM and Bicep output.
pub(crate) const API_VERSION: &str = crate::model::NETWORK_API_VERSION;

/// A route's `properties` object as Azure writes it.
pub fn properties(route: &Route) -> Value {
    crate::model::RouteWire::properties(&route.destination, &route.next_hop)
}

fn parameter(description: &str, default: &Option<String>) -> Value {
    let mut p = json!({"type": "string", "metadata": {"description": description}});
    if let Some(d) = default {
        p["defaultValue"] = json!(literal(d));
    }
    p
}

/// A string value the template language takes as it stands: one that starts with `[` is an
/// expression to ARM, unless the bracket is doubled.
pub fn literal(text: &str) -> String {
    if text.starts_with('[') {
        format!("[{text}")
    } else {
        text.to_owned()
    }
}

/// The template for a plan.
pub fn plan(plan: &Plan, target: &Target) -> String {
    let routes: Vec<Value> = plan
        .routes
        .iter()
        .map(|r| json!({"name": literal(&r.name), "properties": properties(r)}))
        .collect();
    let template = json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "metadata": {
            "generator": super::generator(),
            "description": literal(&super::provenance(plan)),
        },
        "parameters": {
            "routeTableName": parameter("Route table that receives the routes (in the deployment's resource group).", &target.route_table),
        },
        "variables": { "routes": routes },
        "resources": [{
            "type": "Microsoft.Network/routeTables/routes",
            "apiVersion": API_VERSION,
            "name": "[format('{0}/{1}', parameters('routeTableName'), variables('routes')[copyIndex()].name)]",
            "properties": "[variables('routes')[copyIndex()].properties]",
            "copy": {
                "name": "routes",
                "count": "[length(variables('routes'))]",
                "mode": "serial",
                "batchSize": 1
            }
        }],
        "outputs": {
            "routeCount": {"type": "int", "value": "[length(variables('routes'))]"}
        }
    });
    let mut out = serde_json::to_string_pretty(&template).expect("a template always serialises");
    out.push('\n');
    out
}
