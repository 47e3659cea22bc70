//! Rendering a drift report: plain text, JSON, or Markdown.

use crate::drift::{Drift, FileInfo};

fn file_line(label: &str, f: &FileInfo) -> String {
    format!(
        "{label} {}: {} changeNumber {}",
        f.source, f.cloud, f.change_number
    )
}

fn totals(d: &Drift) -> String {
    let added: usize = d.tags.iter().map(|t| t.added.len()).sum();
    let removed: usize = d.tags.iter().map(|t| t.removed.len()).sum();
    let moved = d
        .tags
        .iter()
        .filter(|t| !t.added.is_empty() || !t.removed.is_empty())
        .count();
    let mut s = format!(
        "{} with prefix changes (+{added} -{removed} prefixes), {} with only a new changeNumber; {} appeared, {} vanished",
        crate::text::plural(moved, "tag"),
        d.tags.len() - moved,
        crate::text::plural(d.added_tags.len(), "tag"),
        d.removed_tags.len()
    );
    if let Some(r) = &d.routes {
        s.push_str(&format!(
            "; region {}: {} to add, {} to remove",
            r.region,
            crate::text::plural(r.add.len(), "route"),
            r.remove.len()
        ));
    }
    s
}

/// Notes a reader must not miss: NEW older than OLD, different clouds.
pub fn warnings(d: &Drift) -> Vec<String> {
    let mut w = Vec::new();
    if d.new_is_older {
        w.push(format!(
            "NEW is older than OLD: changeNumber {} < {}; the report shows what going back would change",
            d.new.change_number, d.old.change_number
        ));
    }
    if d.old.cloud != d.new.cloud {
        w.push(format!(
            "the files are of different clouds ({} and {})",
            d.old.cloud, d.new.cloud
        ));
    }
    w
}

/// A plain-text report.
pub fn text(d: &Drift) -> String {
    let mut out = format!(
        "{}\n{}\n",
        file_line("OLD", &d.old),
        file_line("NEW", &d.new)
    );
    for w in warnings(d) {
        out.push_str(&format!("WARNING: {w}\n"));
    }
    if d.old.change_number == d.new.change_number {
        out.push_str("The files have the same changeNumber.\n");
    }
    for t in &d.tags {
        out.push('\n');
        if t.added.is_empty() && t.removed.is_empty() {
            out.push_str(&format!(
                "{}: changeNumber {} -> {}, no prefix changed\n",
                t.name, t.old_change_number, t.new_change_number
            ));
            continue;
        }
        out.push_str(&format!(
            "{}: changeNumber {} -> {}\n",
            t.name, t.old_change_number, t.new_change_number
        ));
        for p in &t.added {
            out.push_str(&format!("  + {p}\n"));
        }
        for p in &t.removed {
            out.push_str(&format!("  - {p}\n"));
        }
    }
    if !d.added_tags.is_empty() {
        out.push_str(&format!(
            "\nTags that appeared: {}\n",
            d.added_tags.join(", ")
        ));
    }
    if !d.removed_tags.is_empty() {
        out.push_str(&format!(
            "\nTags that vanished: {}\n",
            d.removed_tags.join(", ")
        ));
    }
    if let Some(r) = &d.routes {
        out.push_str(&format!("\nRoutes for region {}:\n", r.region));
        if r.add.is_empty() && r.remove.is_empty() {
            out.push_str("  no route changes\n");
        }
        if !r.tag_routes.is_empty() {
            out.push_str(&format!(
                "  service-tag routes {}: Azure follows their tags' prefixes by itself, so \
                 prefix changes there are no route changes\n",
                r.tag_routes.join(", ")
            ));
        }
        for route in &r.add {
            out.push_str(&format!("  + {}  {}\n", route.name, route.destination));
        }
        for route in &r.remove {
            out.push_str(&format!("  - {}  {}\n", route.name, route.destination));
        }
    }
    out.push_str(&format!("\n{}\n", totals(d)));
    out
}

/// The report object, pretty-printed.
pub fn json(d: &Drift) -> String {
    serde_json::to_string_pretty(d).expect("a drift report always serialises") + "\n"
}

/// A Markdown report.
pub fn markdown(d: &Drift) -> String {
    let mut out = format!(
        "### Service tag drift: {} changeNumber {} → {}\n\n",
        d.new.cloud, d.old.change_number, d.new.change_number
    );
    for w in warnings(d) {
        out.push_str(&format!("> **Warning:** {w}\n\n"));
    }
    if d.tags.is_empty() && d.added_tags.is_empty() && d.removed_tags.is_empty() {
        out.push_str("No selected tag changed.\n");
    } else {
        out.push_str("| Tag | changeNumber | Added | Removed |\n|---|---|---|---|\n");
        let list = |v: &[crate::prefix::IpPrefix]| -> String {
            if v.is_empty() {
                "–".into()
            } else {
                v.iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join("<br>")
            }
        };
        for t in &d.tags {
            out.push_str(&format!(
                "| {} | {} → {} | {} | {} |\n",
                t.name,
                t.old_change_number,
                t.new_change_number,
                list(&t.added),
                list(&t.removed)
            ));
        }
        for name in &d.added_tags {
            out.push_str(&format!("| {name} | new tag | | |\n"));
        }
        for name in &d.removed_tags {
            out.push_str(&format!("| {name} | tag vanished | | |\n"));
        }
    }
    if let Some(r) = &d.routes {
        out.push_str(&format!(
            "\n**Routes for region {}**: {} to add, {} to remove\n",
            r.region,
            r.add.len(),
            r.remove.len()
        ));
        if !r.tag_routes.is_empty() {
            out.push_str(&format!(
                "\nService-tag routes {}: Azure follows their tags' prefixes by itself, so prefix \
                 changes there are no route changes.\n\n",
                r.tag_routes
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for route in &r.add {
            out.push_str(&format!("- ➕ `{}` `{}`\n", route.name, route.destination));
        }
        for route in &r.remove {
            out.push_str(&format!("- ➖ `{}` `{}`\n", route.name, route.destination));
        }
    }
    out.push_str(&format!("\n{}\n", totals(d)));
    out
}
