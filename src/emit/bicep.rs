//! `--format bicep`: the ARM template's content in Bicep.
//!
//! The routes are a `var` array deployed by a `for` loop on an `existing` route table, with
//! `@batchSize(1)` for the same reason as the ARM output: one write at a time per route table.

use super::Target;
use crate::plan::Plan;

/// A Bicep string literal: single quotes, escaping `\`, `'`, `${`, newlines, tabs and other
/// control characters, so that no text becomes code.
pub fn bicep_string(text: &str) -> String {
    let mut out = String::from("'");
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // `${` starts an interpolation.
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:X}}}", c as u32)),
            c => out.push(c),
        }
    }
    out + "'"
}

pub fn plan(plan: &Plan, target: &Target) -> String {
    let mut out = format!(
        "// {}\n// {}\n\n",
        super::generator(),
        super::comment_text(&super::provenance(plan))
    );
    out.push_str("@description('Route table that receives the routes (in the deployment\\'s resource group).')\n");
    match &target.route_table {
        Some(t) => out.push_str(&format!(
            "param routeTableName string = {}\n\n",
            bicep_string(t)
        )),
        None => out.push_str("param routeTableName string\n\n"),
    }
    out.push_str("var routes = [\n");
    for r in &plan.routes {
        out.push_str("  {\n");
        out.push_str(&format!("    name: {}\n", bicep_string(&r.name)));
        out.push_str(&format!(
            "    addressPrefix: {}\n",
            bicep_string(&r.destination.to_string())
        ));
        out.push_str(&format!(
            "    nextHopType: {}\n",
            bicep_string(r.next_hop.type_name())
        ));
        if let Some(ip) = r.next_hop.ip() {
            out.push_str(&format!(
                "    nextHopIpAddress: {}\n",
                bicep_string(&ip.to_string())
            ));
        }
        if let Some(ips) = r.next_hop.ecmp() {
            out.push_str("    nextHop: {\n      nextHopIpAddresses: [\n");
            for ip in ips {
                out.push_str(&format!("        {}\n", bicep_string(&ip.to_string())));
            }
            out.push_str("      ]\n    }\n");
        }
        out.push_str("  }\n");
    }
    out.push_str("]\n\n");
    out.push_str("resource routeTable 'Microsoft.Network/routeTables@");
    out.push_str(super::arm::API_VERSION);
    out.push_str("' existing = {\n  name: routeTableName\n}\n\n");
    out.push_str("@batchSize(1)\n");
    out.push_str("resource tagRoutes 'Microsoft.Network/routeTables/routes@");
    out.push_str(super::arm::API_VERSION);
    out.push_str(
        "' = [for route in routes: {\n  parent: routeTable\n  name: route.name\n  properties: {\n    \
         addressPrefix: route.addressPrefix\n    nextHopType: route.nextHopType\n    \
         nextHopIpAddress: route.?nextHopIpAddress\n    nextHop: route.?nextHop\n  }\n}]\n\n\
         output routeCount int = length(routes)\n",
    );
    out
}
