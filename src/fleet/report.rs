//! A fleet run's report: a line per table (table, Markdown) or the whole report (JSON). A
//! table's cells come from outside (names, Resource Manager's error messages) and are escaped
//! for where they are shown.

use super::run::{Report, TableReport, TableStatus};
use crate::text::plural;

fn status(t: &TableReport) -> &'static str {
    match t.status {
        TableStatus::Unchanged => "unchanged",
        TableStatus::Changes => "changes",
        TableStatus::Applied => "applied",
        TableStatus::Failed => "FAILED",
    }
}

fn counts(t: &TableReport) -> [String; 4] {
    let n = |v: Option<usize>| v.map_or_else(|| "-".to_owned(), |n| n.to_string());
    let d = t.diff.as_ref();
    [
        n(t.routes),
        n(d.map(|d| d.add)),
        n(d.map(|d| d.update)),
        n(d.map(|d| d.remove)),
    ]
}

/// What happened beyond the counts: the error, or what was applied.
fn detail(t: &TableReport) -> String {
    if let Some(e) = &t.error {
        return e.clone();
    }
    match &t.applied {
        Some(a) => format!(
            "{} applied, verified",
            plural(a.applied.len(), "route write")
        ),
        None => String::new(),
    }
}

fn rows(report: &Report) -> Vec<Vec<String>> {
    report
        .tables
        .iter()
        .map(|t| {
            let [routes, add, update, remove] = counts(t);
            vec![
                t.name.clone(),
                t.cloud.as_str().to_owned(),
                t.region.clone().unwrap_or_default(),
                status(t).to_owned(),
                routes,
                add,
                update,
                remove,
                detail(t),
            ]
        })
        .collect()
}

const HEADER: [&str; 9] = [
    "TABLE", "CLOUD", "REGION", "STATUS", "ROUTES", "ADD", "UPDATE", "REMOVE", "DETAIL",
];

/// The closing line: how many tables came out how.
pub fn summary_line(report: &Report) -> String {
    let mut parts = Vec::new();
    for (s, word) in [
        (TableStatus::Unchanged, "unchanged"),
        (TableStatus::Changes, "with changes"),
        (TableStatus::Applied, "applied"),
        (TableStatus::Failed, "failed"),
    ] {
        let n = report.count(s);
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    let files: Vec<String> = report
        .files
        .iter()
        .map(|f| format!("{} changeNumber {}", f.cloud, f.change_number))
        .collect();
    format!(
        "{}: {} ({})\n",
        plural(report.tables.len(), "table"),
        parts.join(", "),
        files.join(", ")
    )
}

/// Aligned columns, a line per table, and the summary line.
pub fn table(report: &Report) -> String {
    let mut out = crate::emit::table::columns(&HEADER, &rows(report));
    out.push('\n');
    out.push_str(&summary_line(report));
    out
}

/// A Markdown report (for a pull request or a chat message).
pub fn markdown(report: &Report) -> String {
    let mut out = format!(
        "### tagroute: {}\n\n",
        crate::emit::table::md_cell(summary_line(report).trim_end())
    );
    // Read on a terminal as often as rendered: control characters shown, as in the table.
    let rows: Vec<Vec<String>> = rows(report)
        .into_iter()
        .map(|r| {
            r.iter()
                .map(|c| crate::text::for_terminal(c).into_owned())
                .collect()
        })
        .collect();
    out.push_str(&crate::emit::table::markdown(&HEADER, &rows));
    out
}

/// The whole report, pretty-printed.
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("a report always serialises") + "\n"
}
