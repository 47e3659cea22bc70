//! `--format csv`: a header row and one row per route; tags, and the appliances of an ECMP next
//! hop, joined by `;`.

use crate::model::Route;
use crate::plan::Plan;

/// The column names, as Azure names the fields.
pub(crate) const HEADER: [&str; 6] = [
    "name",
    "addressPrefix",
    "nextHopType",
    "nextHopIpAddress",
    "nextHopIpAddresses",
    "tags",
];

/// Renders routes as RFC 4180 CSV.
pub fn routes(routes: &[Route]) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).expect("in-memory write");
    for r in routes {
        let ip = r.next_hop.ip().map(|ip| ip.to_string()).unwrap_or_default();
        let ecmp: Vec<String> = r
            .next_hop
            .ecmp()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect();
        w.write_record([
            r.name.as_str(),
            &r.destination.to_string(),
            r.next_hop.type_name(),
            &ip,
            &ecmp.join(";"),
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
