//! `--format terraform`: `azurerm_route` resources laid out as `terraform fmt` leaves them.
//!
//! `terraform fmt` aligns the `=` of consecutive one-line attributes to the longest name in the
//! run and indents by two spaces; [`block`] does exactly that. The resource group and table are
//! variables, defaulting to the flags when given. The azurerm provider serialises writes to one
//! route table itself, so the routes can be applied in parallel.

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

/// One `azurerm_route` resource.
pub fn resource(route: &Route) -> String {
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
