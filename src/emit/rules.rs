//! `tagroute rules`: a profile's NSG security rules and Azure Firewall policy rules as a table,
//! JSON in Azure's shapes, an `az` script, Terraform, an ARM template or Bicep. Every value from
//! outside goes through the same quoting as the plan's outputs (`shell_quote`, `hcl_string`,
//! `bicep_string`, ARM's `literal`).

use serde_json::{Value, json};

use super::az::shell_quote;
use super::bicep::bicep_string;
use super::terraform::{block, hcl_string, label};
use crate::rules::{FirewallRule, RuleSet};

/// The formats of `tagroute rules`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RulesFormat {
    Table,
    Json,
    Az,
    Terraform,
    Arm,
    Bicep,
}

impl RulesFormat {
    pub const ALL: [RulesFormat; 6] = [
        RulesFormat::Table,
        RulesFormat::Json,
        RulesFormat::Az,
        RulesFormat::Terraform,
        RulesFormat::Arm,
        RulesFormat::Bicep,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RulesFormat::Table => "table",
            RulesFormat::Json => "json",
            RulesFormat::Az => "az",
            RulesFormat::Terraform => "terraform",
            RulesFormat::Arm => "arm",
            RulesFormat::Bicep => "bicep",
        }
    }
}

/// Where the rules go: the NSG and the firewall policy (and its rule collection group).
#[derive(Clone, Debug, Default)]
pub struct RulesTarget {
    pub resource_group: Option<String>,
    pub nsg: Option<String>,
    pub firewall_policy: Option<String>,
    /// The rule collection group's name and priority.
    pub collection_group: String,
    pub collection_group_priority: u32,
    /// Terraform names the NSG and its resource group as given (not as variables defaulting
    /// to them), and labels each rule with the NSG's name: so that the rules of several NSGs
    /// stand in one file.
    pub literal: bool,
}

/// API versions of the resources written: the network provider's, as the plan's routes use.
const API_VERSION: &str = crate::model::NETWORK_API_VERSION;

/// Renders the rules.
pub fn render(set: &RuleSet, format: RulesFormat, target: &RulesTarget) -> String {
    match format {
        RulesFormat::Table => table(set),
        RulesFormat::Json => json(set, target),
        RulesFormat::Az => az(set, target),
        RulesFormat::Terraform => terraform(set, target),
        RulesFormat::Arm => arm(set, target),
        RulesFormat::Bicep => bicep(set, target),
    }
}

fn provenance(set: &RuleSet) -> String {
    let plural = crate::text::plural;
    format!(
        "{} and {} for the {} profile in {} ({} service tags, changeNumber {}); sources: {}",
        plural(set.security_rules.len(), "NSG rule"),
        plural(
            set.rule_collections
                .iter()
                .map(|c| c.rules.len())
                .sum::<usize>(),
            "firewall rule"
        ),
        set.profile,
        set.region,
        set.cloud,
        set.change_number,
        set.sources.join("; ")
    )
}

fn table(set: &RuleSet) -> String {
    let mut out = String::new();
    if !set.security_rules.is_empty() {
        let rows: Vec<Vec<String>> = set
            .security_rules
            .iter()
            .map(|r| {
                let p = &r.properties;
                vec![
                    r.name.clone(),
                    p.priority.to_string(),
                    p.direction.to_owned(),
                    p.protocol.to_owned(),
                    p.source_address_prefix.clone(),
                    p.destination_address_prefix.clone(),
                    p.destination_port_ranges.join(","),
                ]
            })
            .collect();
        out.push_str("NSG security rules (Allow):\n");
        out.push_str(&super::table::columns(
            &[
                "NAME",
                "PRIORITY",
                "DIRECTION",
                "PROTOCOL",
                "SOURCE",
                "DESTINATION",
                "PORTS",
            ],
            &rows,
        ));
        out.push('\n');
    }
    for c in &set.rule_collections {
        let rows: Vec<Vec<String>> = c
            .rules
            .iter()
            .map(|r| match r {
                FirewallRule::NetworkRule {
                    name,
                    ip_protocols,
                    source_addresses,
                    destination_addresses,
                    destination_fqdns,
                    destination_ports,
                    ..
                } => vec![
                    name.clone(),
                    "NetworkRule".into(),
                    ip_protocols.join(","),
                    source_addresses.join(","),
                    destination_addresses
                        .iter()
                        .chain(destination_fqdns)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(","),
                    destination_ports.join(","),
                ],
                FirewallRule::ApplicationRule {
                    name,
                    protocols,
                    target_fqdns,
                    source_addresses,
                    ..
                } => vec![
                    name.clone(),
                    "ApplicationRule".into(),
                    "Https".into(),
                    source_addresses.join(","),
                    target_fqdns.join(","),
                    protocols
                        .iter()
                        .map(|p| p.port.to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                ],
            })
            .collect();
        out.push_str(&format!(
            "Firewall policy rule collection {} (priority {}, Allow):\n",
            crate::text::for_terminal(&c.name),
            c.priority
        ));
        out.push_str(&super::table::columns(
            &["NAME", "TYPE", "PROTOCOL", "SOURCE", "DESTINATION", "PORTS"],
            &rows,
        ));
        out.push('\n');
    }
    out.push_str(&format!("{}\n", provenance(set)));
    out
}

fn json(set: &RuleSet, target: &RulesTarget) -> String {
    let doc = json!({
        "profile": set.profile,
        "region": set.region,
        "cloud": set.cloud,
        "changeNumber": set.change_number,
        "securityRules": set.security_rules,
        "ruleCollectionGroup": {
            "name": target.collection_group,
            "properties": {
                "priority": target.collection_group_priority,
                "ruleCollections": set.rule_collections,
            },
        },
        "sources": set.sources,
    });
    let mut out = serde_json::to_string_pretty(&doc).expect("rules always serialise");
    out.push('\n');
    out
}

/// `az` arguments of a firewall policy rule.
fn az_firewall_rule(rule: &FirewallRule) -> String {
    let list = |v: &[String]| {
        v.iter()
            .map(|s| shell_quote(s))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match rule {
        FirewallRule::NetworkRule {
            name,
            description,
            ip_protocols,
            source_addresses,
            destination_addresses,
            destination_fqdns,
            destination_ports,
        } => {
            let mut args = format!(
                "--rule-name {} --description {} --rule-type NetworkRule --ip-protocols {} \
                 --source-addresses {} --destination-ports {}",
                shell_quote(name),
                shell_quote(description),
                ip_protocols.join(" "),
                list(source_addresses),
                list(destination_ports)
            );
            if !destination_addresses.is_empty() {
                args.push_str(&format!(
                    " --destination-addresses {}",
                    list(destination_addresses)
                ));
            }
            if !destination_fqdns.is_empty() {
                args.push_str(&format!(" --destination-fqdns {}", list(destination_fqdns)));
            }
            args
        }
        FirewallRule::ApplicationRule {
            name,
            description,
            protocols,
            target_fqdns,
            source_addresses,
        } => {
            let protocols: Vec<String> = protocols
                .iter()
                .map(|p| format!("{}={}", p.protocol_type, p.port))
                .collect();
            format!(
                "--rule-name {} --description {} --rule-type ApplicationRule --protocols {} \
                 --target-fqdns {} --source-addresses {}",
                shell_quote(name),
                shell_quote(description),
                protocols.join(" "),
                list(target_fqdns),
                list(source_addresses)
            )
        }
    }
}

fn az(set: &RuleSet, target: &RulesTarget) -> String {
    let cloud = crate::snapshot::Cloud::ALL
        .into_iter()
        .find(|c| c.as_str() == set.cloud)
        .unwrap_or(crate::snapshot::Cloud::Public);
    let mut out = super::az::script_head(&[super::generator(), provenance(set)], cloud);
    out.push_str(&super::az::variable(
        "RESOURCE_GROUP",
        &target.resource_group,
        "--resource-group",
    ));
    if !set.security_rules.is_empty() {
        out.push_str(&super::az::variable("NSG", &target.nsg, "--nsg"));
    }
    if !set.rule_collections.is_empty() {
        out.push_str(&super::az::variable(
            "FIREWALL_POLICY",
            &target.firewall_policy,
            "--firewall-policy",
        ));
    }
    out.push('\n');
    for r in &set.security_rules {
        let p = &r.properties;
        out.push_str(&format!(
            "az network nsg rule create --resource-group \"$RESOURCE_GROUP\" --nsg-name \"$NSG\" \
             --name {} --priority {} --direction {} --access {} --protocol {} \
             --source-address-prefixes {} --source-port-ranges '*' --destination-address-prefixes \
             {} --destination-port-ranges {} --description {} --output none\n",
            shell_quote(&r.name),
            p.priority,
            p.direction,
            p.access,
            shell_quote(p.protocol),
            shell_quote(&p.source_address_prefix),
            shell_quote(&p.destination_address_prefix),
            p.destination_port_ranges
                .iter()
                .map(|s| shell_quote(s))
                .collect::<Vec<_>>()
                .join(" "),
            shell_quote(&p.description),
        ));
    }
    if !set.rule_collections.is_empty() {
        let group = shell_quote(&target.collection_group);
        out.push_str(&format!(
            "az network firewall policy rule-collection-group create --resource-group \
             \"$RESOURCE_GROUP\" --policy-name \"$FIREWALL_POLICY\" --name {group} --priority {} \
             --output none\n",
            target.collection_group_priority
        ));
        for c in &set.rule_collections {
            for (i, rule) in c.rules.iter().enumerate() {
                let common = format!(
                    "--resource-group \"$RESOURCE_GROUP\" --policy-name \"$FIREWALL_POLICY\" \
                     --rule-collection-group-name {group} --collection-name {}",
                    shell_quote(&c.name)
                );
                if i == 0 {
                    out.push_str(&format!(
                        "az network firewall policy rule-collection-group collection \
                         add-filter-collection {} --collection-priority {} --action Allow {} \
                         --output none\n",
                        common.replace("--collection-name", "--name"),
                        c.priority,
                        az_firewall_rule(rule)
                    ));
                } else {
                    out.push_str(&format!(
                        "az network firewall policy rule-collection-group collection rule add {} \
                         {} --output none\n",
                        common,
                        az_firewall_rule(rule).replace("--rule-name", "--name")
                    ));
                }
            }
        }
    }
    out
}

/// A JSON value as an HCL expression (what `jsonencode` would be given).
fn hcl_list(v: &[String]) -> String {
    format!(
        "[{}]",
        v.iter()
            .map(|s| hcl_string(s))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn terraform(set: &RuleSet, target: &RulesTarget) -> String {
    let mut out = format!(
        "# {}\n# {}\n\n",
        super::generator(),
        super::comment_text(&provenance(set))
    );
    let variable = |name: &str, description: &str, default: &Option<String>| {
        let mut attrs = vec![
            ("type", "string".to_owned()),
            ("description", hcl_string(description)),
        ];
        if let Some(d) = default {
            attrs.push(("default", hcl_string(d)));
        }
        block(&format!("variable {}", hcl_string(name)), &attrs) + "\n"
    };
    // A name given literally is written where it is used; else a variable holds it.
    let (group, nsg) = match target.literal {
        true => (target.resource_group.as_ref(), target.nsg.as_ref()),
        false => (None, None),
    };
    if group.is_none() {
        out.push_str(&variable(
            "resource_group_name",
            "Resource group of the network security group and the firewall policy.",
            &target.resource_group,
        ));
    }
    if !set.security_rules.is_empty() && nsg.is_none() {
        out.push_str(&variable(
            "network_security_group_name",
            "Network security group that receives the rules.",
            &target.nsg,
        ));
    }
    if !set.rule_collections.is_empty() {
        out.push_str(&variable(
            "firewall_policy_id",
            "Resource id of the firewall policy that receives the rule collection group.",
            &None,
        ));
    }
    for r in &set.security_rules {
        let p = &r.properties;
        let attrs = vec![
            ("name", hcl_string(&r.name)),
            (
                "resource_group_name",
                group.map_or("var.resource_group_name".to_owned(), |g| hcl_string(g)),
            ),
            (
                "network_security_group_name",
                nsg.map_or("var.network_security_group_name".to_owned(), |n| {
                    hcl_string(n)
                }),
            ),
            ("priority", p.priority.to_string()),
            ("direction", hcl_string(p.direction)),
            ("access", hcl_string(p.access)),
            ("protocol", hcl_string(p.protocol)),
            ("source_port_range", hcl_string(p.source_port_range)),
            (
                "destination_port_ranges",
                hcl_list(&p.destination_port_ranges),
            ),
            (
                "source_address_prefix",
                hcl_string(&p.source_address_prefix),
            ),
            (
                "destination_address_prefix",
                hcl_string(&p.destination_address_prefix),
            ),
            ("description", hcl_string(&p.description)),
        ];
        out.push_str(&block(
            &format!(
                "resource \"azurerm_network_security_rule\" {}",
                hcl_string(&label(&match nsg {
                    Some(n) => format!("{n}_{}", r.name),
                    None => r.name.clone(),
                }))
            ),
            &attrs,
        ));
        out.push('\n');
    }
    if !set.rule_collections.is_empty() {
        out.push_str(&format!(
            "resource \"azurerm_firewall_policy_rule_collection_group\" {} {{\n  name               \
             = {}\n  firewall_policy_id = var.firewall_policy_id\n  priority           = {}\n",
            hcl_string(&label(&target.collection_group)),
            hcl_string(&target.collection_group),
            target.collection_group_priority
        ));
        for c in &set.rule_collections {
            let application = matches!(c.rules.first(), Some(FirewallRule::ApplicationRule { .. }));
            let kind = if application {
                "application_rule_collection"
            } else {
                "network_rule_collection"
            };
            out.push_str(&format!(
                "\n  {kind} {{\n    name     = {}\n    priority = {}\n    action   = \"Allow\"\n",
                hcl_string(&c.name),
                c.priority
            ));
            for rule in &c.rules {
                out.push_str(&terraform_rule(rule));
            }
            out.push_str("  }\n");
        }
        out.push_str("}\n");
    }
    out
}

fn terraform_rule(rule: &FirewallRule) -> String {
    match rule {
        FirewallRule::NetworkRule {
            name,
            ip_protocols,
            source_addresses,
            destination_addresses,
            destination_fqdns,
            destination_ports,
            ..
        } => {
            let mut s = format!(
                "\n    rule {{\n      name                  = {}\n      protocols             = \
                 {}\n      source_addresses      = {}\n      destination_ports     = {}\n",
                hcl_string(name),
                hcl_list(
                    &ip_protocols
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                ),
                hcl_list(source_addresses),
                hcl_list(destination_ports)
            );
            if !destination_addresses.is_empty() {
                s.push_str(&format!(
                    "      destination_addresses = {}\n",
                    hcl_list(destination_addresses)
                ));
            }
            if !destination_fqdns.is_empty() {
                s.push_str(&format!(
                    "      destination_fqdns     = {}\n",
                    hcl_list(destination_fqdns)
                ));
            }
            s + "    }\n"
        }
        FirewallRule::ApplicationRule {
            name,
            protocols,
            target_fqdns,
            source_addresses,
            ..
        } => {
            let mut s = format!(
                "\n    rule {{\n      name             = {}\n      source_addresses = {}\n      \
                 destination_fqdns = {}\n",
                hcl_string(name),
                hcl_list(source_addresses),
                hcl_list(target_fqdns)
            );
            for p in protocols {
                s.push_str(&format!(
                    "\n      protocols {{\n        type = {}\n        port = {}\n      }}\n",
                    hcl_string(p.protocol_type),
                    p.port
                ));
            }
            s + "    }\n"
        }
    }
}

/// A JSON value with every string made literal for ARM (a leading `[` doubled).
fn arm_literal(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(super::arm::literal(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(arm_literal).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, arm_literal(v))).collect())
        }
        other => other,
    }
}

fn arm(set: &RuleSet, target: &RulesTarget) -> String {
    let parameter = |description: &str, default: &Option<String>| {
        let mut p = json!({"type": "string", "metadata": {"description": description}});
        if let Some(d) = default {
            p["defaultValue"] = json!(super::arm::literal(d));
        }
        p
    };
    let mut parameters = serde_json::Map::new();
    let mut resources = Vec::new();
    if !set.security_rules.is_empty() {
        parameters.insert(
            "nsgName".into(),
            parameter(
                "Network security group that receives the rules.",
                &target.nsg,
            ),
        );
        resources.push(json!({
            "type": "Microsoft.Network/networkSecurityGroups/securityRules",
            "apiVersion": API_VERSION,
            "name": "[format('{0}/{1}', parameters('nsgName'), variables('securityRules')[copyIndex()].name)]",
            "properties": "[variables('securityRules')[copyIndex()].properties]",
            "copy": {"name": "securityRules", "count": "[length(variables('securityRules'))]", "mode": "serial", "batchSize": 1},
        }));
    }
    if !set.rule_collections.is_empty() {
        parameters.insert(
            "firewallPolicyName".into(),
            parameter(
                "Firewall policy that receives the rule collection group.",
                &target.firewall_policy,
            ),
        );
        resources.push(json!({
            "type": "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
            "apiVersion": API_VERSION,
            "name": format!("[format('{{0}}/{{1}}', parameters('firewallPolicyName'), '{}')]", target.collection_group.replace('\'', "''")),
            "properties": {
                "priority": target.collection_group_priority,
                "ruleCollections": arm_literal(json!(set.rule_collections)),
            },
        }));
    }
    let template = json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "metadata": {
            "generator": super::generator(),
            "description": super::arm::literal(&provenance(set)),
        },
        "parameters": parameters,
        "variables": {"securityRules": arm_literal(json!(set.security_rules))},
        "resources": resources,
    });
    let mut out = serde_json::to_string_pretty(&template).expect("a template always serialises");
    out.push('\n');
    out
}

/// A JSON value as a Bicep expression.
fn bicep_value(v: &Value, indent: usize) -> String {
    let pad = "  ".repeat(indent + 1);
    let end = "  ".repeat(indent);
    match v {
        Value::String(s) => bicep_string(s),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Array(a) => {
            let items: Vec<String> = a
                .iter()
                .map(|x| format!("{pad}{}\n", bicep_value(x, indent + 1)))
                .collect();
            format!("[\n{}{end}]", items.concat())
        }
        Value::Object(o) => {
            let items: Vec<String> = o
                .iter()
                .map(|(k, x)| format!("{pad}{k}: {}\n", bicep_value(x, indent + 1)))
                .collect();
            format!("{{\n{}{end}}}", items.concat())
        }
        other => other.to_string(),
    }
}

fn bicep(set: &RuleSet, target: &RulesTarget) -> String {
    let mut out = format!(
        "// {}\n// {}\n\n",
        super::generator(),
        super::comment_text(&provenance(set))
    );
    let param = |name: &str, description: &str, default: &Option<String>| {
        let value = default
            .as_deref()
            .map(|d| format!(" = {}", bicep_string(d)))
            .unwrap_or_default();
        format!(
            "@description({})\nparam {name} string{value}\n\n",
            bicep_string(description)
        )
    };
    if !set.security_rules.is_empty() {
        out.push_str(&param(
            "nsgName",
            "Network security group that receives the rules.",
            &target.nsg,
        ));
        out.push_str(&format!(
            "var securityRules = {}\n\n",
            bicep_value(&json!(set.security_rules), 0)
        ));
        out.push_str(&format!(
            "resource nsg 'Microsoft.Network/networkSecurityGroups@{API_VERSION}' existing = {{\n  \
             name: nsgName\n}}\n\n@batchSize(1)\nresource rules \
             'Microsoft.Network/networkSecurityGroups/securityRules@{API_VERSION}' = [for rule in \
             securityRules: {{\n  parent: nsg\n  name: rule.name\n  properties: \
             rule.properties\n}}]\n\n"
        ));
    }
    if !set.rule_collections.is_empty() {
        out.push_str(&param(
            "firewallPolicyName",
            "Firewall policy that receives the rule collection group.",
            &target.firewall_policy,
        ));
        out.push_str(&format!(
            "resource policy 'Microsoft.Network/firewallPolicies@{API_VERSION}' existing = {{\n  \
             name: firewallPolicyName\n}}\n\nresource group \
             'Microsoft.Network/firewallPolicies/ruleCollectionGroups@{API_VERSION}' = {{\n  \
             parent: policy\n  name: {}\n  properties: {{\n    priority: {}\n    \
             ruleCollections: {}\n  }}\n}}\n",
            bicep_string(&target.collection_group),
            target.collection_group_priority,
            bicep_value(&json!(set.rule_collections), 2)
        ));
    }
    out
}
