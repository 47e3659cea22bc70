//! `--format terraform`: `azurerm_route` resources laid out as `terraform fmt` leaves them.
//!
//! `terraform fmt` aligns the `=` of consecutive one-line attributes to the longest name in the
//! run and indents by two spaces; [`block`] does exactly that. The resource group and table are
//! variables, defaulting to the flags when given. The azurerm provider serialises writes to one
//! route table itself, so the routes can be applied in parallel.
//!
//! `azurerm_route` has no field for an ECMP next hop (`VirtualApplianceEcmp`, API 2025-07-01), so
//! such a route is an `azapi_resource` of `Microsoft.Network/routeTables/routes` with its
//! `properties` as Resource Manager takes them, under the table found by a data source.

use super::Target;
use crate::model::Route;
use crate::plan::Plan;

/// An HCL string literal: `\`, `"`, newlines, tabs and other control characters escaped, and
/// the template sequences `${` and `%{` doubled, so that no text becomes code.
pub fn hcl_string(text: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Template sequences: `${` and `%{` start interpolations and directives.
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out + "\""
}

pub fn block(header: &str, attrs: &[(&str, String)]) -> String {
    let width = attrs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = format!("{header} {{\n");
    for (k, v) in attrs {
        out.push_str(&format!("  {k:<width$} = {v}\n"));
    }
    out.push_str("}\n");
    out
}

/// The resource label for a route: its name with `.` as `_`, starting with a letter or `_`.
pub fn label(route_name: &str) -> String {
    let mut l: String = route_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !l.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        l.insert_str(0, "route_");
    }
    l
}

fn variable(name: &str, description: &str, default: &Option<String>) -> String {
    let mut attrs = vec![
        ("type", "string".to_owned()),
        ("description", hcl_string(description)),
    ];
    if let Some(d) = default {
        attrs.push(("default", hcl_string(d)));
    }
    block(&format!("variable {}", hcl_string(name)), &attrs)
}

/// The data source an `azapi_resource` route names as its parent.
const TABLE_DATA: &str = "data.azurerm_route_table.target";

/// An HCL value for a JSON value: objects as `{ k = v, ... }`, strings escaped.
fn hcl_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(o) => {
            let fields: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{k} = {}", hcl_value(v)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        serde_json::Value::Array(a) => {
            let items: Vec<String> = a.iter().map(hcl_value).collect();
            format!("[{}]", items.join(", "))
        }
        serde_json::Value::String(t) => hcl_string(t),
        other => other.to_string(),
    }
}

/// One route: an `azurerm_route` resource, or for an ECMP next hop an `azapi_resource`.
pub fn resource(route: &Route) -> String {
    if route.next_hop.ecmp().is_some() {
        let properties = super::arm::properties(route);
        let attrs = vec![
            (
                "type",
                hcl_string(&format!(
                    "Microsoft.Network/routeTables/routes@{}",
                    super::arm::API_VERSION
                )),
            ),
            ("name", hcl_string(&route.name)),
            ("parent_id", format!("{TABLE_DATA}.id")),
            (
                "body",
                format!("{{ properties = {} }}", hcl_value(&properties)),
            ),
        ];
        return block(
            &format!(
                "resource \"azapi_resource\" {}",
                hcl_string(&label(&route.name))
            ),
            &attrs,
        );
    }

    let mut attrs = vec![
        ("name", hcl_string(&route.name)),
        ("resource_group_name", "var.resource_group_name".to_owned()),
        ("route_table_name", "var.route_table_name".to_owned()),
        ("address_prefix", hcl_string(&route.destination.to_string())),
        ("next_hop_type", hcl_string(route.next_hop.type_name())),
    ];
    if let Some(ip) = route.next_hop.ip() {
        attrs.push(("next_hop_in_ip_address", hcl_string(&ip.to_string())));
    }
    block(
        &format!(
            "resource \"azurerm_route\" {}",
            hcl_string(&label(&route.name))
        ),
        &attrs,
    )
}

/// The whole configuration for a plan.
pub fn plan(plan: &Plan, target: &Target) -> String {
    let mut out = format!(
        "# {}\n# {}\n\n",
        super::generator(),
        super::comment_text(&super::provenance(plan))
    );
    out.push_str(&variable(
        "resource_group_name",
        "Resource group of the route table.",
        &target.resource_group,
    ));
    out.push('\n');
    out.push_str(&variable(
        "route_table_name",
        "Route table that receives the routes.",
        &target.route_table,
    ));
    if plan.routes.iter().any(|r| r.next_hop.ecmp().is_some()) {
        out.push('\n');
        out.push_str(&block(
            "data \"azurerm_route_table\" \"target\"",
            &[
                ("name", "var.route_table_name".to_owned()),
                ("resource_group_name", "var.resource_group_name".to_owned()),
            ],
        ));
    }
    for route in &plan.routes {
        out.push('\n');
        out.push_str(&resource(route));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_like_terraform_fmt() {
        let b = block(
            "resource \"x\" \"y\"",
            &[("a", "1".into()), ("long_name", "2".into())],
        );
        assert_eq!(
            b,
            "resource \"x\" \"y\" {\n  a         = 1\n  long_name = 2\n}\n"
        );
    }

    #[test]
    fn escapes_strings_and_labels() {
        assert_eq!(hcl_string(r#"a"b\c${x}"#), r#""a\"b\\c$${x}""#);
        assert_eq!(label("tagroute-20.42.0.0-16"), "tagroute-20_42_0_0-16");
        assert_eq!(label("1x"), "route_1x");
    }
}
