//! `--format csv`: a header row and one row per route; tags joined by `;`.

use crate::model::Route;
use crate::plan::Plan;

/// The column names, as Azure names the fields.
pub const HEADER: [&str; 5] = [
    "name",
    "addressPrefix",
    "nextHopType",
    "nextHopIpAddress",
    "tags",
];

/// Renders routes as RFC 4180 CSV.
pub fn routes(routes: &[Route]) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).expect("in-memory write");
    for r in routes {
        let ip = r.next_hop.ip().map(|ip| ip.to_string()).unwrap_or_default();
        w.write_record([
            r.name.as_str(),
            &r.destination.to_string(),
            r.next_hop.type_name(),
            &ip,
            &r.tags.join(";"),
        ])
        .expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("in-memory flush")).expect("CSV of UTF-8 is UTF-8")
}

/// The plan's routes as CSV.
pub fn plan(plan: &Plan) -> String {
    routes(&plan.routes)
}
