//! Making a live table's managed routes equal to a plan.
//!
//! The change is the one `diff` computes against the table as read, so only routes named with the
//! name prefix are ever written; the table's other routes and properties are never sent. A change
//! larger than `max_changes` is refused before anything is written. Creates and updates go first
//! and deletes last, so the subnet never loses a route it had; when the table is at a limit
//! (routes, or service-tag routes), a pending delete makes room first. Each write names the ETag
//! it was planned against: a table changed by someone else makes the run read it again and
//! re-plan the change once, and a second change stops it. The table is read back at the end.

use serde::Serialize;
use serde_json::{Value, json};

use super::{ArmClient, ArmError, LiveTable, RouteTableId};
use crate::diff::{self, Diff, DiffError};
use crate::model::{Destination, Limits, Route};
use crate::plan::Plan;
use crate::routes::ExistingRoute;
use crate::snapshot::Snapshot;

/// What bounds an apply.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Routes whose names start with this are managed.
    pub name_prefix: String,
    /// The table's limits.
    pub limits: Limits,
    /// Most creates + updates + deletes one run may make.
    pub max_changes: usize,
}

/// A write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// A new route.
    Create,
    /// A route given another prefix or next hop.
    Update,
    /// A managed route the plan no longer has.
    Delete,
}

/// One write, done or not.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    /// What kind of write.
    pub op: Op,
    /// The route's name.
    pub name: String,
    /// The route's address prefix after the write (before, for a delete).
    pub address_prefix: String,
}

/// What an apply did.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    /// Writes made, in order.
    pub applied: Vec<Applied>,
    /// Writes of the change that were not made (after an error).
    pub not_applied: Vec<Applied>,
    /// Why the run stopped early, if it did.
    pub error: Option<String>,
    /// Times the table was read again after a concurrent change.
    pub rereads: u32,
    /// The table read back afterwards needs no change.
    pub verified: bool,
    /// Routes still to change after the run, by the table read back.
    pub remaining: usize,
}

/// Why nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(
        "the change has {count} writes (creates + updates + deletes), more than the {max} allowed \
         in one run; nothing was written"
    )]
    TooManyChanges { count: usize, max: usize },
    #[error(transparent)]
    Diff(#[from] DiffError),
    #[error(transparent)]
    Arm(#[from] ArmError),
}

/// A write to make.
enum Write {
    Create(Route),
    Update(Route),
    Delete(ExistingRoute),
}

impl Write {
    fn op(&self) -> Op {
        match self {
            Write::Create(_) => Op::Create,
            Write::Update(_) => Op::Update,
            Write::Delete(_) => Op::Delete,
        }
    }

    fn name(&self) -> &str {
        match self {
            Write::Create(r) | Write::Update(r) => &r.name,
            Write::Delete(e) => &e.name,
        }
    }

    fn record(&self) -> Applied {
        let destination = match self {
            Write::Create(r) | Write::Update(r) => &r.destination,
            Write::Delete(e) => &e.destination,
        };
        Applied {
            op: self.op(),
            name: self.name().to_owned(),
            address_prefix: destination.to_string(),
        }
    }
}

fn is_tag(d: &Destination) -> bool {
    matches!(d, Destination::ServiceTag(_))
}

/// The writes of `d`, in an order that never leaves the subnet without a route it had unless the
/// table's limits force it: updates, then creates (a pending delete first whenever a create would
/// pass a limit), then the remaining deletes.
fn order(d: &Diff, table_routes: &[ExistingRoute], limits: Limits) -> Vec<Write> {
    let mut total = table_routes.len();
    let mut tags = table_routes
        .iter()
        .filter(|r| is_tag(&r.destination))
        .count();
    let mut deletes: Vec<ExistingRoute> = d.remove.clone();
    let mut out: Vec<Write> = d
        .update
        .iter()
        .map(|u| Write::Update(u.to.clone()))
        .collect();
    // An update may turn a prefix route into a tag route or back.
    for u in &d.update {
        match (is_tag(&u.from.destination), is_tag(&u.to.destination)) {
            (false, true) => tags += 1,
            (true, false) => tags -= 1,
            _ => {}
        }
    }
    for add in &d.add {
        let tag = is_tag(&add.destination);
        loop {
            let over_tags = tag && tags + 1 > limits.tag_routes;
            if total < limits.routes && !over_tags {
                break;
            }
            // Make room with a pending delete: a tag route's when tag routes are at their limit.
            let pick = if over_tags {
                deletes.iter().position(|r| is_tag(&r.destination))
            } else {
                (!deletes.is_empty()).then_some(0)
            };
            let Some(i) = pick else { break };
            let gone = deletes.remove(i);
            total -= 1;
            if is_tag(&gone.destination) {
                tags -= 1;
            }
            out.push(Write::Delete(gone));
        }
        total += 1;
        if tag {
            tags += 1;
        }
        out.push(Write::Create(add.clone()));
    }
    out.extend(deletes.into_iter().map(Write::Delete));
    out
}

/// The route's properties as Resource Manager takes them.
fn properties(route: &Route) -> Value {
    let mut p = json!({
        "addressPrefix": route.destination.to_string(),
        "nextHopType": route.next_hop.type_name(),
    });
    if let Some(ip) = route.next_hop.ip() {
        p["nextHopIpAddress"] = json!(ip.to_string());
    }
    p
}

/// Makes the managed routes of table `id` equal to `plan`, starting from `first`, the table as
/// the caller read it to make the plan, and reads the table back.
///
/// `Err` means nothing was written (the change too large, the table unreadable, the diff
/// refused); once writing has begun, failures are in the report (`error`, `not_applied`).
pub async fn apply(
    client: &mut ArmClient,
    id: &RouteTableId,
    plan: &Plan,
    snapshot: &Snapshot,
    first: LiveTable,
    opts: &ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    let mut report = ApplyReport::default();
    let mut read = Some(first);
    'rounds: for round in 0..2 {
        let live = match read.take() {
            Some(live) => live,
            None => client.read(id).await?,
        };
        let d = diff::diff(plan, snapshot, &live.table, &opts.name_prefix, opts.limits)?;
        let count = d.add.len() + d.update.len() + d.remove.len();
        // The bound holds for the whole run, writes made before a re-read included.
        if report.applied.len() + count > opts.max_changes {
            if report.applied.is_empty() {
                return Err(ApplyError::TooManyChanges {
                    count,
                    max: opts.max_changes,
                });
            }
            report.error = Some(format!(
                "after a concurrent change the rest needs {count} more writes, past --max-changes \
                 {} with the {} made; stopped",
                opts.max_changes,
                report.applied.len()
            ));
            break;
        }
        let writes = order(&d, &live.table.routes, opts.limits);
        for (i, w) in writes.iter().enumerate() {
            let etag = live
                .route_etags
                .get(&w.name().to_ascii_lowercase())
                .cloned();
            let result = match w {
                Write::Create(route) => {
                    let guard = ("If-None-Match", "*".to_owned());
                    client
                        .put_route(id, &route.name, properties(route), guard)
                        .await
                }
                Write::Update(route) => {
                    let guard = ("If-Match", etag.unwrap_or_else(|| "*".to_owned()));
                    client
                        .put_route(id, &route.name, properties(route), guard)
                        .await
                }
                Write::Delete(_) => {
                    let guard = etag.unwrap_or_else(|| "*".to_owned());
                    client.delete_route(id, w.name(), guard).await
                }
            };
            match result {
                Ok(()) => report.applied.push(w.record()),
                Err(ArmError::PreconditionFailed) if round == 0 => {
                    report.rereads += 1;
                    continue 'rounds;
                }
                Err(e) => {
                    let e = match e {
                        ArmError::PreconditionFailed => {
                            "the table changed again while the change was applied (412 twice); \
                             stopped rather than overwrite"
                                .to_owned()
                        }
                        other => other.to_string(),
                    };
                    report.error = Some(e);
                    report.not_applied = writes[i..].iter().map(Write::record).collect();
                    break 'rounds;
                }
            }
        }
        break;
    }
    // Read back: the table after the run, compared with the plan once more.
    let back = match client.read(id).await {
        Ok(live) => diff::diff(plan, snapshot, &live.table, &opts.name_prefix, opts.limits)
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match back {
        Ok(d) => {
            report.remaining = d.add.len() + d.update.len() + d.remove.len();
            report.verified = report.remaining == 0;
        }
        Err(e) => {
            report
                .error
                .get_or_insert_with(|| format!("reading the table back: {e}"));
        }
    }
    Ok(report)
}
