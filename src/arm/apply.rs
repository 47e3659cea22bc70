//! Making a live table's managed routes equal to a plan.
//!
//! The change is the one `diff` computes against the table as read, so only routes named with the
//! name prefix are ever changed. A change larger than `max_changes` is refused before anything is
//! written. Two ways to write it:
//!
//! - **table** (the default): one `PUT` of the route table, the table as read with only the
//!   managed routes changed, under `If-Match` with the table's ETag. One long-running operation
//!   per change, whatever its size, and all or nothing: Azure applies the table whole or not at
//!   all, and a table changed by anyone since it was read is refused (412) and read again. Needs
//!   `Microsoft.Network/routeTables/write`.
//! - **routes**: one `PUT` or `DELETE` per route, for roles with only
//!   `Microsoft.Network/routeTables/routes/write` and `.../routes/delete`. Creates and updates go
//!   first and deletes last, so the subnet never loses a route it had; when the table is at a
//!   limit, a pending delete makes room first. The table is read just before each update or
//!   delete, which must then still find the route as planned, and the write names the table's
//!   current ETag (shared by all its routes, renewed by every write). A run that stops midway
//!   leaves part of the change made, which the report lists.
//!
//! Either way a concurrent change makes the run read the table again and re-plan the change
//! once, and a second one stops it. The table is read back at the end: every write whose
//! outcome a failure left unknown is settled by what the table holds, and what still differs
//! from the plan is named.

use serde::Serialize;
use serde_json::Value;

use super::{ArmClient, ArmError, LiveTable, RouteTableId};
use crate::diff::{self, Diff, DiffError};
use crate::model::{Destination, Limits, Route, RouteWire};
use crate::plan::Plan;
use crate::routes::ExistingRoute;
use crate::snapshot::Snapshot;
use crate::text::chain;

/// How the change is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteMode {
    /// One guarded `PUT` of the whole table.
    #[default]
    Table,
    /// One request per route.
    Routes,
}

impl WriteMode {
    /// Every mode, in the order help lists them.
    pub const ALL: [WriteMode; 2] = [WriteMode::Table, WriteMode::Routes];

    /// The mode's name, as `--write` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteMode::Table => "table",
            WriteMode::Routes => "routes",
        }
    }
}

pub use crate::model::DEFAULT_MAX_CHANGES;

/// What bounds an apply.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Routes whose names start with this are managed.
    pub name_prefix: String,
    /// The table's limits.
    pub limits: Limits,
    /// Most creates + updates + deletes one run may make.
    pub max_changes: usize,
    /// How the change is written.
    pub mode: WriteMode,
}

/// A route write.
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

impl Op {
    /// The write's name, as reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

/// One route write of the change, made or not.
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
    /// How the change was written.
    pub mode: WriteMode,
    /// Route writes in effect, in order.
    pub applied: Vec<Applied>,
    /// Route writes of the change that are not in effect.
    pub not_applied: Vec<Applied>,
    /// Route writes whose outcome is unknown: a write failed and the table could not be read
    /// back to tell.
    pub unknown: Vec<Applied>,
    /// Why the run stopped early, if it did.
    pub error: Option<String>,
    /// Times the table was read again after a concurrent change.
    pub rereads: u32,
    /// Write requests sent to Resource Manager (PUT and DELETE, retries included).
    pub write_requests: u32,
    /// The table read back afterwards needs no change.
    pub verified: bool,
    /// Route writes still to make after the run, by the table read back.
    pub remaining: usize,
    /// What the table read back still differs in from the plan, one line each.
    pub differences: Vec<String>,
    /// The table as read back after the run, when it could be read.
    #[serde(skip)]
    pub read_back: Option<crate::routes::RouteTable>,
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
#[derive(Clone, Debug)]
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

    /// True when `live` holds the write's result: the route as planned, or (a delete) no route
    /// of that name.
    fn in_effect(&self, live: &LiveTable) -> bool {
        match self {
            Write::Create(r) | Write::Update(r) => live
                .route(&r.name)
                .is_some_and(|e| e.destination.same_as(&r.destination) && e.next_hop == r.next_hop),
            Write::Delete(e) => live.route(&e.name).is_none(),
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

/// How one round of writing ended.
enum Round {
    /// Every write made.
    Done,
    /// The ETag moved: read the table again. `maybe` were sent and their answer lost before
    /// the 412, so our own write may have moved it (the read-back settles them); `rest` were
    /// not made.
    Changed { maybe: Vec<Write>, rest: Vec<Write> },
    /// Stopped: `failed` may have been made (the read-back settles them), `rest` were not.
    Stopped {
        error: String,
        failed: Vec<Write>,
        rest: Vec<Write>,
    },
}

/// Makes the managed routes of table `id` equal to `plan`, starting from `first`, the table as
/// the caller read it to make the plan, and `first_diff`, the change the caller computed from it,
/// and reads the table back.
///
/// `Err` means nothing was written (the change too large, the table unreadable, the diff
/// refused); once writing has begun, every failure is in the report, and every write of the
/// change is in `applied`, `not_applied` or (when the table could not be read back) `unknown`.
///
/// ```no_run
/// use tagroute::arm::{ArmClient, ArmOptions, CredentialSource, Tokens, apply};
/// use tagroute::options::{TableOptions, resolve};
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let snapshot = tagroute::snapshot::load("ServiceTags_Public_20251028.json")?;
/// let id = "/subscriptions/SUB/resourceGroups/rg-net/providers/Microsoft.Network/routeTables/rt".parse()?;
/// let endpoint = "https://management.azure.com/".parse()?;
/// let token = Tokens::new(CredentialSource::Given(std::env::var("AZURE_ACCESS_TOKEN")?));
/// let mut client = ArmClient::new(endpoint, token, ArmOptions::default())?;
/// let flags = TableOptions { region: Some("eastus".into()), ..Default::default() };
/// let options = resolve(&[&flags])?;
/// let live = client.read(&id).await?;
/// let compared = tagroute::request::plan_and_diff(&snapshot, &options.request, &live.table)?;
/// let plan = compared.planned.plan;
/// let report = apply(&mut client, &id, &plan, &snapshot, live, compared.diff, &options.apply()).await?;
/// assert!(report.verified);
/// # Ok(())
/// # }
/// ```
pub async fn apply(
    client: &mut ArmClient,
    id: &RouteTableId,
    plan: &Plan,
    snapshot: &Snapshot,
    first: LiveTable,
    first_diff: Diff,
    opts: &ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    let mut report = ApplyReport {
        mode: opts.mode,
        ..ApplyReport::default()
    };
    let sent_before = client.writes_sent();
    // Writes that failed midway: settled by the table read back.
    let mut unsettled: Vec<Write> = Vec::new();
    let mut made: Vec<Write> = Vec::new();
    // The table as the last round meant to leave it (the body a table write sends): what the
    // read-back must hold beside the managed routes.
    let mut intended: Option<Value> = None;
    let mut read = Some((first, first_diff));
    for round in 0..2 {
        let (live, d) = match read.take() {
            Some(first) => first,
            None => {
                let live = match client.read(id).await {
                    Ok(live) => live,
                    Err(e) if made.is_empty() => return Err(e.into()),
                    Err(e) => {
                        report.error = Some(format!("reading the table again: {}", chain(&e)));
                        break;
                    }
                };
                match diff::diff(plan, snapshot, &live.table, &opts.name_prefix, opts.limits) {
                    Ok(d) => (live, d),
                    Err(e) if made.is_empty() => return Err(e.into()),
                    Err(e) => {
                        report.error = Some(format!("planning the change again: {}", chain(&e)));
                        break;
                    }
                }
            }
        };
        let count = d.writes();
        // The bound holds for the whole run, writes made before a re-read included.
        if made.len() + unsettled.len() + count > opts.max_changes {
            if made.is_empty() {
                return Err(ApplyError::TooManyChanges {
                    count,
                    max: opts.max_changes,
                });
            }
            report.error = Some(format!(
                "after a concurrent change the rest needs {count} more writes, past the most \
                 changes allowed ({}) with the {} made; stopped",
                opts.max_changes,
                made.len()
            ));
            report.not_applied = order(&d, &live.table.routes, opts.limits)
                .iter()
                .map(Write::record)
                .collect();
            break;
        }
        if count == 0 {
            break;
        }
        let writes = order(&d, &live.table.routes, opts.limits);
        let body = live.put_body(&d);
        let outcome = match opts.mode {
            WriteMode::Table => write_table(client, id, &live, &body, writes, &mut made).await,
            WriteMode::Routes => write_routes(client, id, &live, writes, &mut made).await,
        };
        intended = Some(body);
        match outcome {
            Round::Done => break,
            Round::Changed { maybe, rest } => {
                // A 412 after our own write whose answer was lost is no one else's change.
                let ours = !maybe.is_empty();
                unsettled.extend(maybe);
                if round == 0 {
                    if !ours {
                        report.rereads += 1;
                    }
                    continue;
                }
                report.error = Some(if ours {
                    "a write's answer was lost and the table's ETag then moved (412); stopped \
                     rather than overwrite, the table read back tells what was applied"
                        .to_owned()
                } else {
                    "the table changed again while the change was applied (412 twice); stopped \
                     rather than overwrite"
                        .to_owned()
                });
                report.not_applied = rest.iter().map(Write::record).collect();
                break;
            }
            Round::Stopped {
                error,
                failed,
                rest,
            } => {
                report.error = Some(error);
                unsettled.extend(failed);
                report.not_applied = rest.iter().map(Write::record).collect();
                break;
            }
        }
    }
    report.write_requests = client.writes_sent() - sent_before;
    // Read back: the table after the run, compared with the plan once more.
    match client.read(id).await {
        Ok(back) => {
            for w in made {
                if w.in_effect(&back) {
                    report.applied.push(w.record());
                } else {
                    report.not_applied.push(w.record());
                }
            }
            let mut failed = Vec::new();
            // A write sent again in a later round is settled once, as that round's.
            let mut seen: Vec<String> = report.applied.iter().map(|a| a.name.clone()).collect();
            seen.extend(report.not_applied.iter().map(|a| a.name.clone()));
            for w in unsettled {
                if seen.iter().any(|n| n.eq_ignore_ascii_case(w.name())) {
                    continue;
                }
                seen.push(w.name().to_owned());
                if w.in_effect(&back) {
                    report.applied.push(w.record());
                } else {
                    failed.push(w.record());
                }
            }
            report.not_applied.splice(0..0, failed);
            report.read_back = Some(back.table.clone());
            match diff::diff(plan, snapshot, &back.table, &opts.name_prefix, opts.limits) {
                Ok(d) => {
                    report.remaining = d.writes();
                    report.differences = differences(&d);
                    if let Some(body) = &intended {
                        report
                            .differences
                            .extend(back.unlike_sent(body, &opts.name_prefix));
                    }
                    report.verified = report.differences.is_empty();
                }
                Err(e) => {
                    report
                        .error
                        .get_or_insert_with(|| format!("reading the table back: {}", chain(&e)));
                }
            }
        }
        Err(e) => {
            // What was confirmed stays applied; what was in flight is unknown.
            report.applied = made.iter().map(Write::record).collect();
            report.unknown = unsettled
                .iter()
                .filter(|w| !made.iter().any(|m| m.name().eq_ignore_ascii_case(w.name())))
                .map(Write::record)
                .collect();
            report
                .error
                .get_or_insert_with(|| format!("reading the table back: {}", chain(&e)));
        }
    }
    Ok(report)
}

/// The change as one guarded `PUT` of the table.
async fn write_table(
    client: &mut ArmClient,
    id: &RouteTableId,
    live: &LiveTable,
    body: &Value,
    writes: Vec<Write>,
    made: &mut Vec<Write>,
) -> Round {
    let etag = match &live.etag {
        Ok(e) => e.clone(),
        Err(why) => {
            return Round::Stopped {
                error: format!(
                    "route table {} was not written: {why}, so the write could not be guarded",
                    id.name
                ),
                failed: Vec::new(),
                rest: writes,
            };
        }
    };
    match client.put_table(id, &etag, body).await {
        Ok(()) => {
            made.extend(writes);
            Round::Done
        }
        Err(ArmError::PreconditionFailed { after_lost_answer }) if after_lost_answer => {
            Round::Changed {
                maybe: writes,
                rest: Vec::new(),
            }
        }
        Err(ArmError::PreconditionFailed { .. }) => Round::Changed {
            maybe: Vec::new(),
            rest: writes,
        },
        // The table is written whole or not at all; the read-back tells which.
        Err(e) => Round::Stopped {
            error: chain(&e),
            failed: writes,
            rest: Vec::new(),
        },
    }
}

/// The change as one request per route, each guarded by the table's current ETag.
async fn write_routes(
    client: &mut ArmClient,
    id: &RouteTableId,
    planned_from: &LiveTable,
    writes: Vec<Write>,
    made: &mut Vec<Write>,
) -> Round {
    let mut writes = writes.into_iter();
    while let Some(w) = writes.next() {
        let result = match &w {
            Write::Create(route) => {
                let guard = ("If-None-Match", "*".to_owned());
                let props = RouteWire::properties(&route.destination, &route.next_hop);
                client.put_route(id, &route.name, props, guard).await
            }
            Write::Update(_) | Write::Delete(_) => {
                // The table's ETag now, read just before the write; the route must still be as
                // the change was planned from.
                let fresh = match client.read(id).await {
                    Ok(now) if now.route(w.name()) != planned_from.route(w.name()) => {
                        return Round::Changed {
                            maybe: Vec::new(),
                            rest: std::iter::once(w).chain(writes).collect(),
                        };
                    }
                    Ok(now) => now
                        .etag
                        .map_err(|why| format!("route {} was not written: {why}", w.name())),
                    Err(e) => Err(format!(
                        "reading the table before {}: {}",
                        w.name(),
                        chain(&e)
                    )),
                };
                let etag = match fresh {
                    Ok(e) => e,
                    Err(error) => {
                        return Round::Stopped {
                            error,
                            failed: Vec::new(),
                            rest: std::iter::once(w).chain(writes).collect(),
                        };
                    }
                };
                match &w {
                    Write::Update(route) => {
                        let props = RouteWire::properties(&route.destination, &route.next_hop);
                        let guard = ("If-Match", etag);
                        client.put_route(id, &route.name, props, guard).await
                    }
                    _ => client.delete_route(id, w.name(), &etag).await,
                }
            }
        };
        match result {
            Ok(()) => made.push(w),
            Err(ArmError::PreconditionFailed { after_lost_answer }) => {
                let (maybe, rest) = if after_lost_answer {
                    (vec![w], writes.collect())
                } else {
                    (Vec::new(), std::iter::once(w).chain(writes).collect())
                };
                return Round::Changed { maybe, rest };
            }
            Err(e) => {
                return Round::Stopped {
                    error: chain(&e),
                    failed: vec![w],
                    rest: writes.collect(),
                };
            }
        }
    }
    Round::Done
}

/// What a diff of the table read back against the plan still asks for, one line each.
fn differences(d: &Diff) -> Vec<String> {
    let text = crate::text::for_terminal;
    let mut out = Vec::new();
    for r in &d.add {
        out.push(format!(
            "route {} ({} -> {}) is missing",
            text(&r.name),
            r.destination,
            r.next_hop
        ));
    }
    for u in &d.update {
        out.push(format!(
            "route {} is {} -> {}, planned {} -> {}",
            text(&u.to.name),
            u.from.destination,
            u.from.next_hop,
            u.to.destination,
            u.to.next_hop
        ));
    }
    for r in &d.remove {
        out.push(format!(
            "route {} ({} -> {}) is still there",
            text(&r.name),
            r.destination,
            r.next_hop
        ));
    }
    out
}
