//! `--format table`: aligned columns for a terminal, with a closing summary line.

use crate::model::Route;
use crate::plan::Plan;

/// Aligns rows of cells into columns separated by two spaces. Control characters in a cell are
/// shown as escapes: a table is read on a terminal.
pub fn columns(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| crate::text::for_terminal(cell).into_owned())
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(cell);
            text.extend(std::iter::repeat_n(
                ' ',
                widths[i].saturating_sub(cell.chars().count()),
            ));
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in &rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// Most tags named in a route's TAGS cell; the rest are counted (`--format json` lists all).
const TAGS_SHOWN: usize = 3;

/// A route's tags for the table: the first few, then how many more.
fn tags_cell(tags: &[String]) -> String {
    if tags.len() <= TAGS_SHOWN {
        return tags.join(", ");
    }
    format!(
        "{} (+{} more)",
        tags[..TAGS_SHOWN].join(", "),
        tags.len() - TAGS_SHOWN
    )
}

/// One row per route: name, prefix, next hop, tags.
pub fn routes(routes: &[Route]) -> String {
    let rows: Vec<Vec<String>> = routes
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.destination.to_string(),
                r.next_hop.to_string(),
                tags_cell(&r.tags),
            ]
        })
        .collect();
    columns(&["NAME", "ADDRESS PREFIX", "NEXT HOP", "TAGS"], &rows)
}

/// The plan's routes and a summary line.
pub fn plan(plan: &Plan) -> String {
    let mut out = routes(&plan.routes);
    let s = &plan.summary;
    out.push_str(&format!(
        "\n{} (limit {}) from {} of {}; {} changeNumber {}{}\n",
        crate::text::plural(s.routes, "route"),
        s.max_routes,
        crate::text::plural(s.input_prefixes, "prefix"),
        crate::text::plural(plan.tags.len(), "tag"),
        plan.cloud,
        plan.change_number,
        plan.region
            .as_deref()
            .map(|r| format!(", region {r}"))
            .unwrap_or_default(),
    ));
    out
}

/// A Markdown table: a header row, the separator, a row each, every cell made safe for a
/// table cell (its `|` escaped, its line breaks made spaces).
pub fn markdown(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| md_cell(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// Text made safe for a Markdown table cell.
pub(crate) fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
