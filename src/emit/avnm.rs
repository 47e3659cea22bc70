//! `--format avnm`: the plan as an Azure Virtual Network Manager routing configuration, an ARM
//! template of `Microsoft.Network/networkManagers/routingConfigurations`, one rule collection
//! applied to a network group, and a routing rule per route.
//!
//! Virtual Network Manager then writes the routes into a route table of every subnet of the
//! group and keeps them there: the Azure-native way to push the same routes to many subnets. It
//! needs a network manager with the `Routing` scope access, a network group of the virtual
//! networks or subnets, and, once deployed, the configuration committed to the regions
//! (a deployment of the network manager). Shapes from the REST specification's examples of API
//! 2025-07-01 (`NetworkManagerRoutingRulePut.json`, `NetworkManagerRoutingRulePutEcmp.json`,
//! `NetworkManagerRoutingRuleCollectionPut.json`): a rule's `destination` is `{type:
//! AddressPrefix | ServiceTag, destinationAddress}`, its `nextHop` `{nextHopType,
//! nextHopAddress}`, an ECMP next hop the appliances' addresses comma-separated.

use serde_json::{Value, json};

use super::Target;
use super::arm::literal;
use crate::model::{Destination, NextHop, Route};
use crate::plan::Plan;

/// API version of the routing configuration resources: the first stable version with them
/// that this project's routes use too.
pub(crate) const API_VERSION: &str = crate::model::NETWORK_API_VERSION;

/// A routing rule's `properties`.
pub(crate) fn rule_properties(route: &Route) -> Value {
    let destination = match &route.destination {
        Destination::ServiceTag(tag) => {
            json!({"type": "ServiceTag", "destinationAddress": literal(tag)})
        }
        other => json!({"type": "AddressPrefix", "destinationAddress": other.to_string()}),
    };
    let mut next_hop = json!({"nextHopType": route.next_hop.type_name()});
    match &route.next_hop {
        NextHop::VirtualApplianceEcmp(ips) => {
            let list: Vec<String> = ips.iter().map(|ip| ip.to_string()).collect();
            next_hop = json!({"nextHopType": "VirtualAppliance", "nextHopAddress": list.join(",")});
        }
        hop => {
            if let Some(ip) = hop.ip() {
                next_hop["nextHopAddress"] = json!(ip.to_string());
            }
        }
    }
    json!({
        "description": literal(&route.tags.join(", ")),
        "destination": destination,
        "nextHop": next_hop,
    })
}

/// The template for a plan.
pub fn plan(plan: &Plan, target: &Target) -> String {
    let rules: Vec<Value> = plan
        .routes
        .iter()
        .map(|r| json!({"name": literal(&r.name), "properties": rule_properties(r)}))
        .collect();
    let param =
        |description: &str| json!({"type": "string", "metadata": {"description": description}});
    let mut collection = param("Name of the rule collection that holds the routes.");
    collection["defaultValue"] =
        json!(literal(target.route_table.as_deref().unwrap_or("tagroute")));
    let base = "parameters('networkManagerName'), parameters('configurationName')";
    let template = json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "metadata": {
            "generator": super::generator(),
            "description": literal(&super::provenance(plan)),
        },
        "parameters": {
            "networkManagerName": param("Network manager (in the deployment's resource group) with the Routing scope access."),
            "configurationName": param("Routing configuration that receives the rule collection (created or updated)."),
            "ruleCollectionName": collection,
            "networkGroupId": param("Resource id of the network group whose subnets get the routes."),
        },
        "variables": {"rules": rules},
        "resources": [
            {
                "type": "Microsoft.Network/networkManagers/routingConfigurations",
                "apiVersion": API_VERSION,
                "name": format!("[format('{{0}}/{{1}}', {base})]"),
                "properties": {"description": "Routes for Azure Machine Learning and Batch behind forced tunneling, from tagroute."},
            },
            {
                "type": "Microsoft.Network/networkManagers/routingConfigurations/ruleCollections",
                "apiVersion": API_VERSION,
                "name": format!("[format('{{0}}/{{1}}/{{2}}', {base}, parameters('ruleCollectionName'))]"),
                "dependsOn": [format!("[resourceId('Microsoft.Network/networkManagers/routingConfigurations', {base})]")],
                "properties": {
                    "description": literal(&super::provenance(plan)),
                    "appliesTo": [{"networkGroupId": "[parameters('networkGroupId')]"}],
                    "disableBgpRoutePropagation": "False",
                },
            },
            {
                "type": "Microsoft.Network/networkManagers/routingConfigurations/ruleCollections/rules",
                "apiVersion": API_VERSION,
                "name": format!("[format('{{0}}/{{1}}/{{2}}/{{3}}', {base}, parameters('ruleCollectionName'), variables('rules')[copyIndex()].name)]"),
                "dependsOn": [format!("[resourceId('Microsoft.Network/networkManagers/routingConfigurations/ruleCollections', {base}, parameters('ruleCollectionName'))]")],
                "properties": "[variables('rules')[copyIndex()].properties]",
                "copy": {"name": "rules", "count": "[length(variables('rules'))]", "mode": "serial", "batchSize": 1},
            },
        ],
        "outputs": {"ruleCount": {"type": "int", "value": "[length(variables('rules'))]"}},
    });
    let mut out = serde_json::to_string_pretty(&template).expect("a template always serialises");
    out.push('\n');
    out
}
