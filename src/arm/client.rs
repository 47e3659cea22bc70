//! The Resource Manager REST calls tagroute makes: read a route table, write it whole, put a
//! route, delete a route, each write followed to its end.
//!
//! Every request carries the bearer token and goes to the configured endpoint only: a polling
//! URL (`Azure-AsyncOperation`, `Location`) on another scheme, host or port is refused, since the
//! token would go with it. Every body is read within `max_bytes`, counted after decompression.
//! Retried, with the server's `Retry-After` or the downloads' backoff: 429 (`RetryableError`
//! among others), 409 `AnotherOperationInProgress`, 5xx, failures to connect or read, and an
//! operation that ends `Failed` with `AnotherOperationInProgress` (the write is sent again). A
//! 401 gets one fresh token and one more try. A 412 (the ETag no longer matches) is returned to
//! the caller, which re-reads the table. `--operation-timeout` bounds each write whole: its
//! retries, its long-running operation and the waits between.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use backon::Retryable;
use futures_util::lock::Mutex;

use reqwest::{Method, StatusCode, Url, header};
use serde_json::Value;

use super::live::LiveTable;
use super::{API_VERSION, NetworkId, RouteTableId, Tokens};
use crate::http::{self, BodyError, HttpConfig, Quiet, retry_delay};

/// How the client behaves.
#[derive(Clone, Debug)]
pub struct ArmOptions {
    /// Timeouts, retries, backoff and the body limit, as for downloads.
    pub http: HttpConfig,
    /// Longest time one write may take, its retries and long-running operation included.
    pub operation_timeout: Duration,
    /// Wait between polls when the server names none.
    pub poll_interval: Duration,
}

impl Default for ArmOptions {
    fn default() -> Self {
        ArmOptions {
            http: HttpConfig::default(),
            operation_timeout: Duration::from_secs(600),
            poll_interval: Duration::from_secs(2),
        }
    }
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ArmError {
    #[error(transparent)]
    Auth(#[from] super::auth::AuthError),
    #[error("Resource Manager refused the token (401) twice")]
    Unauthorized,
    /// 412: the ETag no longer matches. `after_lost_answer`: an earlier attempt of the same write
    /// got no definite answer (a 5xx, a dropped connection), so it may have been applied and
    /// moved the ETag itself; only the table read again can tell.
    #[error("{}", if *.after_lost_answer {
        "the route table's ETag moved after a write whose answer was lost (412): that write may \
         have been applied"
    } else {
        "the route table changed since it was read (412: its ETag no longer matches)"
    })]
    PreconditionFailed { after_lost_answer: bool },
    #[error("{what}: HTTP {status}{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        what: String,
        status: u16,
        message: Option<String>,
    },
    #[error("{what}: gave up on {host} after {}", crate::text::plural(*.attempts as usize, "attempt"))]
    Transport {
        what: String,
        host: String,
        attempts: u32,
        #[source]
        last: http::Transient,
    },
    #[error("{what}: the operation ended {status}{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    OperationFailed {
        what: String,
        status: String,
        message: Option<String>,
    },
    #[error("{what}: not finished after {secs} s (the operation timeout)")]
    Timeout { what: String, secs: u64 },
    #[error("{what}: refused to follow {url}: {why}")]
    ForeignUrl {
        what: String,
        url: String,
        why: &'static str,
    },
    #[error("{what}: the answer is larger than the {limit} byte limit")]
    TooLarge { what: String, limit: u64 },
    #[error(transparent)]
    BadTable(#[from] super::live::BadTable),
    #[error("Resource Manager endpoint")]
    Endpoint(#[source] http::FetchError),
    #[error(transparent)]
    Client(http::FetchError),
}

/// One Resource Manager endpoint, with credentials.
pub struct ArmClient {
    http: reqwest::Client,
    endpoint: Url,
    /// Shared with the clients [`ArmClient::sharing`] makes, so that tables read in parallel
    /// ask for one token, not one each.
    tokens: Arc<Mutex<Tokens>>,
    opts: ArmOptions,
    /// Write requests sent (PUT and DELETE, retries included), for the report.
    writes_sent: u32,
}

/// A response that needs no retry.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) headers: header::HeaderMap,
    pub(super) body: Vec<u8>,
}

/// What of a NIC's effective configuration is read.
#[derive(Clone, Copy, Debug)]
pub enum Effective {
    Routes,
    SecurityGroups,
}

/// A page of Azure Resource Graph's answer, and how long to wait before the next query when the
/// caller's quota is spent (`x-ms-user-quota-remaining: 0`), so that it is not throttled.
pub struct GraphPage {
    pub page: Value,
    pub wait: Option<Duration>,
}

/// Azure Resource Graph's per-user quota headers, on every answer
/// (learn.microsoft.com/azure/governance/resource-graph/concepts/guidance-for-throttled-requests):
/// the queries left in the window, and the time until it resets as `hh:mm:ss`.
const QUOTA_REMAINING: &str = "x-ms-user-quota-remaining";
const QUOTA_RESETS_AFTER: &str = "x-ms-user-quota-resets-after";

/// `x-ms-user-quota-resets-after` (`hh:mm:ss`, seconds maybe with a fraction), rounded up to a
/// whole second.
fn quota_resets_after(headers: &header::HeaderMap) -> Option<Duration> {
    let text = headers.get(QUOTA_RESETS_AFTER)?.to_str().ok()?;
    let mut parts = text.trim().split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let whole = |t: &str| t.parse::<u64>().ok().filter(|_| t.len() <= 2);
    let (h, m) = (whole(h)?, whole(m)?);
    let s: f64 = s.parse().ok().filter(|s: &f64| (0.0..60.0).contains(s))?;
    Some(Duration::from_secs(h * 3600 + m * 60 + s.ceil() as u64))
}

/// How one attempt went.
enum Judged {
    Done(Reply),
    /// Again at once, with a fresh token.
    Again,
    /// Again after a wait (the reason, the server's `Retry-After`).
    Retry(http::Transient, Option<String>),
}

/// One attempt's failure.
type Failure = http::Attempt<ArmError>;

/// How a write's long-running operation ended.
enum Outcome {
    Succeeded,
    /// `Failed` with `AnotherOperationInProgress`: nothing was changed, send the write again.
    Busy(String),
}

impl ArmClient {
    /// A client for `endpoint`, which the caller has checked is the cloud's own Resource
    /// Manager (or loopback): the token goes there.
    pub fn new(endpoint: Url, tokens: Tokens, opts: ArmOptions) -> Result<ArmClient, ArmError> {
        http::check_url(&endpoint).map_err(ArmError::Endpoint)?;
        // The downloads' client, its token side: the same timeouts and user agent, and no
        // redirect is ever followed with a token.
        let http = http::Http::new(opts.http.clone())
            .map_err(ArmError::Client)?
            .token_client()
            .clone();
        Ok(ArmClient {
            http,
            endpoint,
            tokens: Arc::new(Mutex::new(tokens)),
            opts,
            writes_sent: 0,
        })
    }

    /// Another client of the same endpoint, HTTP connections and tokens, with its own count
    /// of writes: one per table when several tables are worked on at once.
    pub fn sharing(&self) -> ArmClient {
        ArmClient {
            http: self.http.clone(),
            endpoint: self.endpoint.clone(),
            tokens: self.tokens.clone(),
            opts: self.opts.clone(),
            writes_sent: 0,
        }
    }

    /// The Resource Manager endpoint every request goes to.
    pub(super) fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// Write requests sent so far (PUT and DELETE, retries included).
    pub(crate) fn writes_sent(&self) -> u32 {
        self.writes_sent
    }

    fn url(&self, id: &RouteTableId, route: Option<&str>) -> Url {
        let mut url = self.endpoint.clone();
        {
            let mut path = url.path_segments_mut().expect("an http(s) URL has a path");
            path.pop_if_empty().extend(id.segments());
            if let Some(name) = route {
                path.extend(["routes", name]);
            }
        }
        url.query_pairs_mut()
            .append_pair("api-version", API_VERSION);
        url
    }

    /// Reads the route table: the answer must be that very table.
    pub async fn read(&mut self, id: &RouteTableId) -> Result<LiveTable, ArmError> {
        let what = format!("reading route table {}", id.name);
        let url = self.url(id, None);
        let reply = self.send(&what, Method::GET, url, &[], None, None).await?;
        LiveTable::parse(id, &reply.body)
    }

    /// Reads a network resource (a subnet, virtual network, route table, NSG or NIC): its
    /// answer, for the caller to check and parse. A read: nothing is changed.
    pub(crate) async fn read_network(&mut self, id: &NetworkId) -> Result<Vec<u8>, ArmError> {
        let what = format!("reading {}", id.name);
        let url = self.network_url(id, None);
        Ok(self
            .send(&what, Method::GET, url, &[], None, None)
            .await?
            .body)
    }

    /// A NIC's effective routes or security groups (`POST …/effectiveRouteTable`, `POST
    /// …/effectiveNetworkSecurityGroups`): Azure answers `200` with them, or `202` and a
    /// `Location` to poll until it answers them (the operation's `final-state-via: location`),
    /// all within `--operation-timeout`. Changes nothing.
    pub(crate) async fn nic_effective(
        &mut self,
        nic: &NetworkId,
        which: Effective,
    ) -> Result<Vec<u8>, ArmError> {
        let (action, noun) = match which {
            Effective::Routes => ("effectiveRouteTable", "routes"),
            Effective::SecurityGroups => ("effectiveNetworkSecurityGroups", "security groups"),
        };
        let what = format!("reading the effective {noun} of {}", nic.name);
        let deadline = Instant::now() + self.opts.operation_timeout;
        let url = self.network_url(nic, Some(action));
        let empty = Value::Object(Default::default());
        let mut reply = self
            .send(&what, Method::POST, url, &[], Some(&empty), Some(deadline))
            .await?;
        while reply.status == StatusCode::ACCEPTED {
            let location = reply
                .headers
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| ArmError::Status {
                    what: what.clone(),
                    status: 202,
                    message: Some("accepted without a Location to poll".into()),
                })?
                .to_owned();
            let poll = self.own_url(&what, &location)?;
            let wait = http::poll_wait(&self.opts.http, &reply.headers, self.opts.poll_interval);
            self.sleep_until(&what, wait, deadline).await?;
            reply = self
                .send(&what, Method::GET, poll, &[], None, Some(deadline))
                .await?;
        }
        Ok(reply.body)
    }

    fn network_url(&self, id: &NetworkId, action: Option<&str>) -> Url {
        let mut url = self.endpoint.clone();
        {
            let mut path = url.path_segments_mut().expect("an http(s) URL has a path");
            path.pop_if_empty().extend(id.segments());
            path.extend(action);
        }
        url.query_pairs_mut()
            .append_pair("api-version", API_VERSION);
        url
    }

    /// One page of an Azure Resource Graph query over `subscriptions` (`POST
    /// /providers/Microsoft.ResourceGraph/resources`): at most 1,000 rows as objects, from
    /// `skip_token` on when one is given. A read: nothing is changed.
    pub async fn graph_page(
        &mut self,
        subscriptions: &[String],
        query: &str,
        skip_token: Option<&str>,
    ) -> Result<GraphPage, ArmError> {
        let mut url = self.endpoint.clone();
        url.path_segments_mut()
            .expect("an http(s) URL has a path")
            .pop_if_empty()
            .extend(["providers", "Microsoft.ResourceGraph", "resources"]);
        url.query_pairs_mut()
            .append_pair("api-version", super::GRAPH_API_VERSION);
        let mut options = serde_json::json!({"$top": 1000, "resultFormat": "objectArray"});
        if let Some(token) = skip_token {
            options["$skipToken"] = token.into();
        }
        let body = serde_json::json!({
            "subscriptions": subscriptions,
            "query": query,
            "options": options,
        });
        let what = "querying Azure Resource Graph";
        let reply = self
            .send(what, Method::POST, url, &[], Some(&body), None)
            .await?;
        let page = crate::json::parse(&reply.body).map_err(|e| ArmError::Status {
            what: what.to_owned(),
            status: reply.status.as_u16(),
            message: Some(format!("the answer is not JSON: {e}")),
        })?;
        let spent = reply
            .headers
            .get(QUOTA_REMAINING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0");
        let wait = spent
            .then(|| quota_resets_after(&reply.headers))
            .flatten()
            .map(|d| d.min(self.opts.http.max_wait));
        Ok(GraphPage { page, wait })
    }

    /// Replaces the route table with `body` (the table as read, routes changed), guarded by
    /// `If-Match` with the table's ETag, and follows the operation: one write for the change.
    pub async fn put_table(
        &mut self,
        id: &RouteTableId,
        etag: &str,
        body: &Value,
    ) -> Result<(), ArmError> {
        let what = format!("writing route table {}", id.name);
        let url = self.url(id, None);
        let guard = [("If-Match", etag.to_owned())];
        self.write(&what, Method::PUT, url, &guard, Some(body))
            .await
    }

    /// Creates or replaces a route, guarded by `guard` (`If-Match` with the table's current
    /// ETag, or `If-None-Match: *` for a route that must not exist yet), and follows the
    /// operation.
    pub async fn put_route(
        &mut self,
        id: &RouteTableId,
        name: &str,
        properties: Value,
        guard: (&'static str, String),
    ) -> Result<(), ArmError> {
        let what = format!("writing route {name}");
        let url = self.url(id, Some(name));
        let body = serde_json::json!({ "properties": properties });
        self.write(&what, Method::PUT, url, &[guard], Some(&body))
            .await
    }

    /// Deletes a route, guarded by `If-Match` with the table's current ETag, and follows the
    /// operation.
    pub async fn delete_route(
        &mut self,
        id: &RouteTableId,
        name: &str,
        etag: &str,
    ) -> Result<(), ArmError> {
        let what = format!("deleting route {name}");
        let url = self.url(id, Some(name));
        let guard = [("If-Match", etag.to_owned())];
        self.write(&what, Method::DELETE, url, &guard, None).await
    }

    /// Sends a write and follows its operation, all within `--operation-timeout`; a write whose
    /// operation failed because another was in progress is sent again (within the retries).
    async fn write(
        &mut self,
        what: &str,
        method: Method,
        url: Url,
        headers: &[(&'static str, String)],
        body: Option<&Value>,
    ) -> Result<(), ArmError> {
        let deadline = Instant::now() + self.opts.operation_timeout;
        let mut busy = 0u32;
        loop {
            let reply = self
                .send(
                    what,
                    method.clone(),
                    url.clone(),
                    headers,
                    body,
                    Some(deadline),
                )
                .await?;
            match self.follow(what, reply, deadline).await? {
                Outcome::Succeeded => return Ok(()),
                Outcome::Busy(message) => {
                    busy += 1;
                    if busy > self.opts.http.retries {
                        return Err(ArmError::OperationFailed {
                            what: what.to_owned(),
                            status: "Failed".into(),
                            message: Some(format!(
                                "{message} (after {})",
                                crate::text::plural(busy as usize, "attempt")
                            )),
                        });
                    }
                    let delay = retry_delay(&self.opts.http, busy, None, SystemTime::now());
                    self.sleep_until(what, delay, deadline).await?;
                }
            }
        }
    }

    /// Waits `delay`, unless that passes the deadline.
    async fn sleep_until(
        &self,
        what: &str,
        delay: Duration,
        deadline: Instant,
    ) -> Result<(), ArmError> {
        if Instant::now() + delay > deadline {
            return Err(self.timeout(what));
        }
        tokio::time::sleep(delay).await;
        Ok(())
    }

    fn timeout(&self, what: &str) -> ArmError {
        ArmError::Timeout {
            what: what.to_owned(),
            secs: self.opts.operation_timeout.as_secs(),
        }
    }

    /// Follows a write's long-running operation to its end.
    async fn follow(
        &mut self,
        what: &str,
        reply: Reply,
        deadline: Instant,
    ) -> Result<Outcome, ArmError> {
        let header = |name: &str| {
            reply
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let async_op = header("azure-asyncoperation");
        let location = header("location").filter(|_| reply.status == StatusCode::ACCEPTED);
        let mut wait = http::poll_wait(&self.opts.http, &reply.headers, self.opts.poll_interval);
        // An Azure-AsyncOperation header is followed whatever the 2xx; a Location only on 202.
        let Some(poll) = async_op.clone().or(location) else {
            return Ok(Outcome::Succeeded);
        };
        let poll = self.own_url(what, &poll)?;
        loop {
            self.sleep_until(what, wait, deadline).await?;
            let r = self
                .send(what, Method::GET, poll.clone(), &[], None, Some(deadline))
                .await?;
            wait = http::poll_wait(&self.opts.http, &r.headers, self.opts.poll_interval);
            if async_op.is_some() {
                let doc: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
                match doc["status"].as_str() {
                    Some(s) if s.eq_ignore_ascii_case("Succeeded") => {
                        return Ok(Outcome::Succeeded);
                    }
                    Some(s)
                        if s.eq_ignore_ascii_case("Failed")
                            || s.eq_ignore_ascii_case("Canceled") =>
                    {
                        let code = doc["error"]["code"].as_str().unwrap_or_default();
                        if code.eq_ignore_ascii_case("AnotherOperationInProgress") {
                            return Ok(Outcome::Busy(error_message(&r.body).unwrap_or_default()));
                        }
                        return Err(ArmError::OperationFailed {
                            what: what.to_owned(),
                            status: crate::text::for_terminal(s).into_owned(),
                            message: error_message(&r.body),
                        });
                    }
                    _ => {}
                }
            } else if r.status != StatusCode::ACCEPTED {
                return Ok(Outcome::Succeeded);
            }
        }
    }

    /// A polling URL, if it is on the endpoint's own origin.
    pub(super) fn own_url(&self, what: &str, text: &str) -> Result<Url, ArmError> {
        let refuse = |url: String, why| ArmError::ForeignUrl {
            what: what.to_owned(),
            url,
            why,
        };
        // A polling URL is signed: its query is never shown.
        let url = self
            .endpoint
            .join(text)
            .map_err(|_| refuse("a polling URL".to_owned(), "not a URL"))?;
        if url.origin() != self.endpoint.origin() {
            return Err(refuse(
                crate::text::quoted(&http::shown(&url)),
                "the token goes to the Resource Manager endpoint only",
            ));
        }
        Ok(url)
    }

    /// Sends one request with retries (the downloads' policy, [`http::policy`], the server's
    /// `Retry-After` winning), before `deadline` when there is one; returns a 2xx reply.
    pub(super) async fn send(
        &mut self,
        what: &str,
        method: Method,
        url: Url,
        headers: &[(&'static str, String)],
        body: Option<&Value>,
        deadline: Option<Instant>,
    ) -> Result<Reply, ArmError> {
        let attempts = Cell::new(0u32);
        let writes = Cell::new(0u32);
        // An attempt of this write went out and got no definite answer: it may be in effect.
        let lost_answer = Cell::new(false);
        let is_write = method == Method::PUT || method == Method::DELETE;
        let timed_out = Cell::new(false);
        let fresh_token_used = Cell::new(false);
        let client = &*self;
        let cfg = &client.opts.http;
        let result = (|| async {
            attempts.set(attempts.get() + 1);
            let outcome = client
                .attempt(
                    what,
                    &method,
                    &url,
                    headers,
                    body,
                    deadline,
                    &fresh_token_used,
                    &writes,
                )
                .await;
            match &outcome {
                Err(Failure::Retry(t, _)) if is_write && t.maybe_applied() => {
                    lost_answer.set(true);
                }
                Err(Failure::Fatal(ArmError::PreconditionFailed { .. })) if lost_answer.get() => {
                    return Err(Failure::Fatal(ArmError::PreconditionFailed {
                        after_lost_answer: true,
                    }));
                }
                _ => {}
            }
            outcome
        })
        .retry(http::policy(cfg))
        .sleep(tokio::time::sleep)
        .when(|f| matches!(f, Failure::Retry(..)))
        .adjust(|f, policy| {
            let Failure::Retry(_, after) = f else {
                return None;
            };
            let wait = http::next_wait(cfg, policy, after.as_deref(), SystemTime::now())?;
            if deadline.is_some_and(|d| Instant::now() + wait > d) {
                timed_out.set(true);
                return None;
            }
            Some(wait)
        })
        .await;
        self.writes_sent += writes.get();
        match result {
            Ok(reply) => Ok(reply),
            Err(Failure::Fatal(e)) => Err(e),
            Err(Failure::Retry(..)) if timed_out.get() => Err(self.timeout(what)),
            Err(Failure::Retry(last, _)) => Err(ArmError::Transport {
                what: what.to_owned(),
                host: url.host_str().unwrap_or_default().to_owned(),
                attempts: attempts.get(),
                last,
            }),
        }
    }

    /// One attempt of a request (and, after a 401, one more with a fresh token).
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        what: &str,
        method: &Method,
        url: &Url,
        headers: &[(&'static str, String)],
        body: Option<&Value>,
        deadline: Option<Instant>,
        fresh_token_used: &Cell<bool>,
        writes: &Cell<u32>,
    ) -> Result<Reply, Failure> {
        let cfg = &self.opts.http;
        loop {
            let token = self
                .tokens
                .lock()
                .await
                .get(false)
                .await
                .map_err(|e| Failure::Fatal(ArmError::Auth(e)))?;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&token);
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Failure::Fatal(self.timeout(what)));
                }
                req = req.timeout(left.min(cfg.timeout));
            }
            for (k, v) in headers {
                req = req.header(*k, v);
            }
            if let Some(b) = body {
                req = req
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(b.to_string());
            }
            if method == Method::PUT || method == Method::DELETE {
                writes.set(writes.get() + 1);
            }
            let resp = match req.send().await {
                Ok(resp) => resp,
                Err(e) => return Err(Failure::Retry(http::Transient::request(e), None)),
            };
            let status = resp.status();
            let resp_headers = resp.headers().clone();
            let bytes = match http::read_limited(resp, cfg.max_bytes, &Quiet).await {
                Ok(bytes) => bytes,
                Err(BodyError::TooLarge) => {
                    return Err(Failure::Fatal(ArmError::TooLarge {
                        what: what.to_owned(),
                        limit: cfg.max_bytes,
                    }));
                }
                Err(BodyError::Broken(e)) => return Err(Failure::Retry(e, None)),
            };
            let reply = Reply {
                status,
                headers: resp_headers,
                body: bytes,
            };
            match self
                .judge(what, reply, fresh_token_used)
                .await
                .map_err(Failure::Fatal)?
            {
                Judged::Done(r) => return Ok(r),
                Judged::Again => continue,
                Judged::Retry(msg, after) => return Err(Failure::Retry(msg, after)),
            }
        }
    }

    /// What to do with an answer.
    async fn judge(
        &self,
        what: &str,
        reply: Reply,
        fresh_token_used: &Cell<bool>,
    ) -> Result<Judged, ArmError> {
        let status = reply.status;
        if status.is_success() {
            return Ok(Judged::Done(reply));
        }
        if status == StatusCode::UNAUTHORIZED {
            if fresh_token_used.get() {
                return Err(ArmError::Unauthorized);
            }
            fresh_token_used.set(true);
            self.tokens
                .lock()
                .await
                .get(true)
                .await
                .map_err(ArmError::Auth)?;
            return Ok(Judged::Again);
        }
        if status == StatusCode::PRECONDITION_FAILED {
            return Err(ArmError::PreconditionFailed {
                after_lost_answer: false,
            });
        }
        let code = error_code(&reply.body);
        let busy = status == StatusCode::CONFLICT
            && code
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("AnotherOperationInProgress"));
        if status == StatusCode::TOO_MANY_REQUESTS || busy || status.is_server_error() {
            let why = http::Transient::status(status, code);
            // Resource Graph's throttling names its wait in its quota header instead.
            let after = http::retry_after(&reply.headers)
                .or_else(|| quota_resets_after(&reply.headers).map(|d| d.as_secs().to_string()));
            return Ok(Judged::Retry(why, after));
        }
        Err(ArmError::Status {
            what: what.to_owned(),
            status: status.as_u16(),
            message: error_message(&reply.body),
        })
    }
}

/// Resource Manager's `error.code`.
fn error_code(body: &[u8]) -> Option<String> {
    let doc: Value = serde_json::from_slice(body).ok()?;
    doc["error"]["code"].as_str().map(str::to_owned)
}

/// Resource Manager's `error.message`, on one line, shown safely and shortened.
fn error_message(body: &[u8]) -> Option<String> {
    let doc: Value = serde_json::from_slice(body).ok()?;
    let e = &doc["error"];
    let text = match (e["code"].as_str(), e["message"].as_str()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_owned(),
        (None, Some(m)) => m.to_owned(),
        (None, None) => return None,
    };
    let line: String = text.chars().take(300).collect();
    Some(crate::text::for_terminal(&line).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graph_quota_reset_is_read_as_hh_mm_ss() {
        let reset = |v: &str| {
            let mut h = header::HeaderMap::new();
            h.insert(QUOTA_RESETS_AFTER, v.parse().unwrap());
            quota_resets_after(&h)
        };
        assert_eq!(reset("00:00:03"), Some(Duration::from_secs(3)));
        assert_eq!(reset("01:02:03"), Some(Duration::from_secs(3723)));
        assert_eq!(reset("00:00:02.25"), Some(Duration::from_secs(3)));
        for bad in [
            "3",
            "00:03",
            "00:00:60",
            "a:b:c",
            "00:00:-1",
            "00:00:03:00",
            "100:00:00",
        ] {
            assert_eq!(reset(bad), None, "{bad}");
        }
    }
}
