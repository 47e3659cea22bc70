//! Rendering a diff: a terminal table, JSON, a Markdown pull-request comment, or the `az`
//! commands that apply it (creates and updates first, deletes last, so the subnet never loses a
//! route it had while the change is applied).

use super::Target;
use super::az;
use super::table::{columns, markdown as md_table, md_cell};
use crate::diff::Diff;

fn change_rows(diff: &Diff) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for r in &diff.add {
        rows.push(vec![
            "add".into(),
            r.name.clone(),
            r.destination.to_string(),
            r.next_hop.to_string(),
            r.tags.join(", "),
        ]);
    }
    for u in &diff.update {
        rows.push(vec![
            "update".into(),
            u.to.name.clone(),
            if u.from.destination.same_as(&u.to.destination) {
                u.to.destination.to_string()
            } else {
                format!("{} -> {}", u.from.destination, u.to.destination)
            },
            if u.from.next_hop == u.to.next_hop {
                u.to.next_hop.to_string()
            } else {
                format!("{} -> {}", u.from.next_hop, u.to.next_hop)
            },
            u.to.tags.join(", "),
        ]);
    }
    for r in &diff.remove {
        rows.push(vec![
            "remove".into(),
            r.name.clone(),
            r.destination.to_string(),
            r.next_hop.to_string(),
            String::new(),
        ]);
    }
    rows
}

fn summary_line(diff: &Diff) -> String {
    let s = &diff.summary;
    format!(
        "{} to add, {} to update, {} to remove, {} unchanged; {}, {} redundant; {} after ({} not managed by tagroute), limit {}",
        s.add,
        s.update,
        s.remove,
        s.unchanged,
        crate::text::plural(s.conflicts, "conflict"),
        s.redundant,
        crate::text::plural(s.routes_after, "route"),
        s.unmanaged,
        s.max_routes
    )
}

/// A table of changes, then conflicts and redundant routes, then a summary line.
pub fn table(diff: &Diff) -> String {
    let mut out = String::new();
    let rows = change_rows(diff);
    if rows.is_empty() {
        out.push_str("No change: the table already holds the plan.\n");
    } else {
        out.push_str(&columns(
            &["CHANGE", "NAME", "ADDRESS PREFIX", "NEXT HOP", "TAGS"],
            &rows,
        ));
    }
    if !diff.conflicts.is_empty() {
        out.push_str(
            "\nConflicts (existing routes that divert planned addresses from Internet):\n",
        );
        let rows: Vec<Vec<String>> = diff
            .conflicts
            .iter()
            .map(|c| {
                vec![
                    c.route.name.clone(),
                    c.route.destination.to_string(),
                    c.route.next_hop.to_string(),
                    c.addresses.to_string(),
                    c.tags.join(", "),
                ]
            })
            .collect();
        out.push_str(&columns(
            &["ROUTE", "ADDRESS PREFIX", "NEXT HOP", "ADDRESSES", "TAGS"],
            &rows,
        ));
    }
    if !diff.redundant.is_empty() {
        out.push_str(
            "\nRedundant planned routes (other routes already send these addresses to Internet):\n",
        );
        let rows: Vec<Vec<String>> = diff
            .redundant
            .iter()
            .map(|r| {
                vec![
                    r.route.name.clone(),
                    r.route.destination.to_string(),
                    r.by.join(", "),
                ]
            })
            .collect();
        out.push_str(&columns(
            &["PLANNED ROUTE", "ADDRESS PREFIX", "ALREADY BY"],
            &rows,
        ));
    }
    out.push('\n');
    out.push_str(&summary_line(diff));
    out.push('\n');
    out
}

/// The diff object, pretty-printed.
pub fn json(diff: &Diff) -> String {
    serde_json::to_string_pretty(diff).expect("a diff always serialises") + "\n"
}

/// A Markdown report for a pull-request comment.
pub fn markdown(diff: &Diff, title: &str) -> String {
    let mut out = format!("### {}\n\n", md_cell(title));
    let rows: Vec<Vec<String>> = change_rows(diff)
        .into_iter()
        .map(|mut r| {
            r[0] = match r[0].as_str() {
                "add" => "➕ add".into(),
                "update" => "✏️ update".into(),
                _ => "➖ remove".into(),
            };
            r[1] = format!("`{}`", r[1]);
            r[2] = format!("`{}`", r[2]);
            r
        })
        .collect();
    if rows.is_empty() {
        out.push_str("No change: the route table already holds the plan.\n");
    } else {
        out.push_str(&md_table(
            &["Change", "Route", "Address prefix", "Next hop", "Tags"],
            &rows,
        ));
    }
    if !diff.conflicts.is_empty() {
        out.push_str(
            "\n**Conflicts**: existing routes that divert planned addresses from Internet\n\n",
        );
        let rows: Vec<Vec<String>> = diff
            .conflicts
            .iter()
            .map(|c| {
                vec![
                    format!("`{}`", c.route.name),
                    format!("`{}`", c.route.destination),
                    c.route.next_hop.to_string(),
                    c.addresses.to_string(),
                    c.tags.join(", "),
                ]
            })
            .collect();
        out.push_str(&md_table(
            &["Route", "Address prefix", "Next hop", "Addresses", "Tags"],
            &rows,
        ));
    }
    if !diff.redundant.is_empty() {
        out.push_str("\n**Redundant planned routes**: other routes already send these addresses to Internet\n\n");
        let rows: Vec<Vec<String>> = diff
            .redundant
            .iter()
            .map(|r| {
                vec![
                    format!("`{}`", r.route.name),
                    format!("`{}`", r.route.destination),
                    r.by.join(", "),
                ]
            })
            .collect();
        out.push_str(&md_table(
            &["Planned route", "Address prefix", "Already sent by"],
            &rows,
        ));
    }
    out.push_str(&format!("\n{}\n", summary_line(diff)));
    out
}

/// The `az` commands that apply the diff: creates and updates, then deletes.
pub fn az_script(diff: &Diff, plan: &crate::plan::Plan, target: &Target) -> String {
    let mut out = az::preamble(
        &[
            super::generator(),
            super::provenance(plan),
            summary_line(diff),
        ],
        plan.cloud,
        target,
    );
    if diff.is_empty() {
        out.push_str("# Nothing to change.\n");
    }
    for r in diff.add.iter().chain(diff.update.iter().map(|u| &u.to)) {
        out.push_str(&az::create(r));
    }
    for r in &diff.remove {
        out.push_str(&az::delete(&r.name));
    }
    out
}
