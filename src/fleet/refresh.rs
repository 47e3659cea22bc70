//! A refresh of a fleet from its lock to its webhook (one table is a fleet of one): the state
//! directory locked and checked before any file is got ([`begin`]), then every table refreshed,
//! the run recorded and every waiting notification delivered ([`refresh`]). The caller gets the
//! files and clients between the two and prints what comes back; what the run did, what it could
//! not record and what the webhook did not take are all in the [`Refreshed`] it gets.

use std::path::Path;
use std::time::Duration;

use url::Url;

use super::legacy::Legacy;
use super::run::{self, Action, Fleet, Pending, RecordedRun, RefreshAction, Report};
use crate::emit::PlanFormat;
use crate::http::Http;
use crate::refresh::message::MessageFormat;
use crate::refresh::{NotifyError, RefreshError};
use crate::state::Lock;

/// The state directory locked for a run, and the one-table state it holds, if any.
pub struct Begun {
    /// Held until the run is recorded and told.
    pub lock: Lock,
    /// The one-table state a table of the run takes over ([`Legacy::check`]).
    pub legacy: Option<Legacy>,
}

/// Takes the state directory's lock (waiting up to `timeout`) and refuses a one-table state
/// none of `specs` was kept for ([`Legacy::check`]).
pub fn begin(
    state_dir: &Path,
    timeout: Duration,
    specs: &[super::config::TableSpec],
) -> Result<Begun, RefreshError> {
    let lock = crate::state::lock(state_dir, timeout)?;
    let legacy = Legacy::check(state_dir, specs)?;
    Ok(Begun { lock, legacy })
}

/// Where the run's notifications go.
pub struct Webhook<'a> {
    pub http: &'a Http,
    pub url: &'a Url,
    pub format: MessageFormat,
}

/// What a refresh does besides its tables.
pub struct Options<'a> {
    pub state_dir: &'a Path,
    /// The one-table state found by [`begin`].
    pub legacy: Option<&'a Legacy>,
    /// Apply each table's change.
    pub apply: bool,
    /// A rendering of each plan to store beside it.
    pub rendering: Option<PlanFormat>,
    /// `None`: notifications wait in the state for a run with a webhook.
    pub webhook: Option<Webhook<'a>>,
}

/// What a refresh did.
pub struct Refreshed {
    pub report: Report,
    /// The run's own record, or why it could not be written (each table's is in the report).
    pub run: Result<RecordedRun, RefreshError>,
    /// Notifications the webhook did not take, by what they tell of, and why (they wait in
    /// their state).
    pub undelivered: Vec<(String, NotifyError)>,
    /// Notifications that could not be read and were moved aside, one warning each.
    pub set_aside: Vec<String>,
    /// Notifications that wait for a run with a webhook (none was given).
    pub waiting: usize,
    /// Whether any notification was delivered.
    pub told: bool,
}

/// Refreshes every table of `fleet` (under the lock of [`begin`]), records the run and tells the
/// webhook.
pub async fn refresh(fleet: Fleet<'_>, opts: &Options<'_>) -> Refreshed {
    let action = Action::Refresh(RefreshAction {
        state_dir: opts.state_dir,
        legacy: opts.legacy,
        apply: opts.apply,
        rendering: opts.rendering,
        notify: opts.webhook.is_some(),
    });
    let report = run::run(fleet, &action).await;
    let recorded = run::record(opts.state_dir, &report, opts.webhook.is_some());
    let mut set_aside: Vec<String> = recorded
        .as_ref()
        .map(|r| r.set_aside.clone())
        .unwrap_or_default();
    let (undelivered, waiting, told) = {
        let pending: Vec<Pending> = run::pending(&report, recorded.as_ref().ok());
        let count: usize = pending.iter().map(|p| p.list.len()).sum();
        match &opts.webhook {
            Some(w) if count > 0 => {
                let (failed, moved) = run::notify(w.http, w.url, w.format, &pending).await;
                set_aside.extend(moved);
                let told = failed.len() < pending.len();
                (failed, 0, told)
            }
            _ => (Vec::new(), count, false),
        }
    };
    Refreshed {
        report,
        run: recorded,
        undelivered,
        set_aside,
        waiting,
        told,
    }
}
