//! `--format json`: the plan object that later commands (`diff`, `refresh`) read back.

use crate::plan::Plan;

/// Pretty-printed JSON with a trailing newline.
pub fn plan(plan: &Plan) -> String {
    let mut out = serde_json::to_string_pretty(plan).expect("a plan always serialises");
    out.push('\n');
    out
}
