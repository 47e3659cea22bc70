//! The Resource Manager REST calls tagroute makes: read a route table, put a route, delete a
//! route, each followed to its end.
//!
//! Every request carries the bearer token and goes to the configured endpoint only: a polling
//! URL (`Azure-AsyncOperation`, `Location`) on another scheme, host or port is refused, since the
//! token would go with it. Retried, with the server's `Retry-After` or the downloads' backoff:
//! 429, 409 `AnotherOperationInProgress`, 5xx, and failures to connect or read. A 401 gets one
//! fresh token and one more try. A 412 (the ETag no longer matches) is returned to the caller,
//! which re-reads the table.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use reqwest::{Method, StatusCode, Url, header};
use serde_json::Value;

use super::{API_VERSION, RouteTableId, Tokens};
use crate::routes::{self, RouteTable};
use crate::source::http::{HttpConfig, check_url, retry_delay};

/// How the client behaves.
#[derive(Clone, Debug)]
pub struct ArmOptions {
    /// Timeouts, retries and backoff, as for downloads.
    pub http: HttpConfig,
    /// Longest time one write may take, its long-running operation included.
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
    #[error("{0}")]
    Auth(String),
    #[error("Resource Manager refused the token (401) twice")]
    Unauthorized,
    #[error("the route table changed since it was read (412: its ETag no longer matches)")]
    PreconditionFailed,
    #[error("{what}: HTTP {status}{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        what: String,
        status: u16,
        message: Option<String>,
    },
    #[error("{what}: {msg}")]
    Transport { what: String, msg: String },
    #[error("{what}: the operation ended {status}{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    OperationFailed {
        what: String,
        status: String,
        message: Option<String>,
    },
    #[error("{what}: not finished after {secs} s")]
    Timeout { what: String, secs: u64 },
    #[error("{what}: refused to follow {url}: {why}")]
    ForeignUrl {
        what: String,
        url: String,
        why: &'static str,
    },
    #[error("{0}")]
    BadTable(String),
}

/// A route table as read, with the ETags that guard writes.
#[derive(Clone, Debug)]
pub struct LiveTable {
    /// Its routes, as `diff` reads them.
    pub table: RouteTable,
    /// Each route's ETag, by lower-cased name.
    pub route_etags: HashMap<String, String>,
}

impl LiveTable {
    /// Reads a route table as Resource Manager answers a GET: the table object with
    /// `properties.routes`, each route with its `etag`. Anything else is refused.
    pub fn parse(source: &str, body: &[u8]) -> Result<LiveTable, ArmError> {
        let bad = |msg: String| ArmError::BadTable(format!("{source}: {msg}"));
        let doc: Value = serde_json::from_slice(body)
            .map_err(|e| bad(format!("the answer is not JSON: {e}")))?;
        let Some(list) = doc["properties"]["routes"].as_array() else {
            return Err(bad(
                "the answer is not a route table (no properties.routes list)".to_owned(),
            ));
        };
        let table = routes::parse(source, body).map_err(|e| ArmError::BadTable(e.to_string()))?;
        let mut route_etags = HashMap::new();
        for r in list {
            let etag = r["etag"].as_str().filter(|e| valid_etag(e));
            if let (Some(name), Some(etag)) = (r["name"].as_str(), etag) {
                route_etags.insert(name.to_ascii_lowercase(), etag.to_owned());
            }
        }
        Ok(LiveTable { table, route_etags })
    }
}

/// One Resource Manager endpoint, with credentials.
pub struct ArmClient {
    http: reqwest::Client,
    endpoint: Url,
    tokens: Tokens,
    opts: ArmOptions,
}

/// A response that needs no retry.
struct Reply {
    status: StatusCode,
    headers: header::HeaderMap,
    body: Vec<u8>,
}

impl ArmClient {
    /// A client for `endpoint` (`https://`, or `http://` on loopback only).
    pub fn new(endpoint: Url, tokens: Tokens, opts: ArmOptions) -> Result<ArmClient, ArmError> {
        check_url(&endpoint).map_err(|e| ArmError::Transport {
            what: "Resource Manager endpoint".into(),
            msg: e.to_string(),
        })?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("tagroute/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(opts.http.connect_timeout)
            .timeout(opts.http.timeout)
            // A token never follows a redirect.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ArmError::Transport {
                what: "HTTP client".into(),
                msg: e.to_string(),
            })?;
        Ok(ArmClient {
            http,
            endpoint,
            tokens,
            opts,
        })
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

    /// Reads the route table.
    pub async fn read(&mut self, id: &RouteTableId) -> Result<LiveTable, ArmError> {
        let what = format!("reading route table {}", id.name);
        let url = self.url(id, None);
        let reply = self.send(&what, Method::GET, url, &[], None).await?;
        LiveTable::parse(&id.to_string(), &reply.body)
    }

    /// Creates or replaces a route, guarded by `guard` (`If-Match` with the route's ETag, or
    /// `If-None-Match: *` for a route that must not exist yet), and follows the operation.
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
        let reply = self
            .send(&what, Method::PUT, url, &[guard], Some(body))
            .await?;
        self.follow(&what, reply).await
    }

    /// Deletes a route, guarded by `If-Match` with its ETag (`*`: it must still exist), and
    /// follows the operation.
    pub async fn delete_route(
        &mut self,
        id: &RouteTableId,
        name: &str,
        etag: String,
    ) -> Result<(), ArmError> {
        let what = format!("deleting route {name}");
        let url = self.url(id, Some(name));
        let reply = self
            .send(&what, Method::DELETE, url, &[("If-Match", etag)], None)
            .await?;
        self.follow(&what, reply).await
    }

    /// Follows a write's long-running operation to its end.
    async fn follow(&mut self, what: &str, reply: Reply) -> Result<(), ArmError> {
        let deadline = Instant::now() + self.opts.operation_timeout;
        let header = |name: &str| {
            reply
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let async_op = header("azure-asyncoperation");
        let location = header("location").filter(|_| reply.status == StatusCode::ACCEPTED);
        let mut retry_after = header("retry-after");
        // An Azure-AsyncOperation header is followed whatever the 2xx; a Location only on 202.
        let Some(poll) = async_op.clone().or(location) else {
            return Ok(());
        };
        let poll = self.own_url(what, &poll)?;
        loop {
            let wait = retry_after
                .as_deref()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(self.opts.poll_interval, Duration::from_secs)
                .min(self.opts.http.max_wait);
            if Instant::now() + wait > deadline {
                return Err(ArmError::Timeout {
                    what: what.to_owned(),
                    secs: self.opts.operation_timeout.as_secs(),
                });
            }
            tokio::time::sleep(wait).await;
            let r = self
                .send(what, Method::GET, poll.clone(), &[], None)
                .await?;
            retry_after = r
                .headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if async_op.is_some() {
                let doc: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
                match doc["status"].as_str() {
                    Some(s) if s.eq_ignore_ascii_case("Succeeded") => return Ok(()),
                    Some(s)
                        if s.eq_ignore_ascii_case("Failed")
                            || s.eq_ignore_ascii_case("Canceled") =>
                    {
                        return Err(ArmError::OperationFailed {
                            what: what.to_owned(),
                            status: crate::text::for_terminal(s).into_owned(),
                            message: error_message(&r.body),
                        });
                    }
                    _ => {}
                }
            } else if r.status != StatusCode::ACCEPTED {
                return Ok(());
            }
        }
    }

    /// A polling URL, if it is on the endpoint's own origin.
    fn own_url(&self, what: &str, text: &str) -> Result<Url, ArmError> {
        let refuse = |why| ArmError::ForeignUrl {
            what: what.to_owned(),
            url: crate::text::quoted(text),
            why,
        };
        let url = self.endpoint.join(text).map_err(|_| refuse("not a URL"))?;
        if url.origin() != self.endpoint.origin() {
            return Err(refuse(
                "the token goes to the Resource Manager endpoint only",
            ));
        }
        Ok(url)
    }

    /// Sends one request with retries; returns a 2xx reply.
    async fn send(
        &mut self,
        what: &str,
        method: Method,
        url: Url,
        headers: &[(&'static str, String)],
        body: Option<Value>,
    ) -> Result<Reply, ArmError> {
        let cfg = self.opts.http.clone();
        let mut fresh_token_used = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let token = self.tokens.get(false).await.map_err(ArmError::Auth)?;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&token);
            for (k, v) in headers {
                req = req.header(*k, v);
            }
            if let Some(b) = &body {
                req = req
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(b.to_string());
            }
            let failure = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let resp_headers = resp.headers().clone();
                    match resp.bytes().await {
                        Ok(bytes) => {
                            let reply = Reply {
                                status,
                                headers: resp_headers,
                                body: bytes.to_vec(),
                            };
                            match self.judge(what, reply, &mut fresh_token_used).await? {
                                Judged::Done(r) => return Ok(r),
                                Judged::Again => continue,
                                Judged::Retry(msg, after) => (msg, after),
                            }
                        }
                        Err(e) => (format!("reading the answer: {e}"), None),
                    }
                }
                Err(e) => (transport_message(&e), None),
            };
            if attempt > cfg.retries {
                return Err(ArmError::Transport {
                    what: what.to_owned(),
                    msg: format!("{} (after {} attempts)", failure.0, attempt),
                });
            }
            let delay = retry_delay(&cfg, attempt, failure.1.as_deref(), SystemTime::now());
            tokio::time::sleep(delay).await;
        }
    }

    /// What to do with an answer.
    async fn judge(
        &mut self,
        what: &str,
        reply: Reply,
        fresh_token_used: &mut bool,
    ) -> Result<Judged, ArmError> {
        let status = reply.status;
        let retry_after = reply
            .headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if status.is_success() {
            return Ok(Judged::Done(reply));
        }
        if status == StatusCode::UNAUTHORIZED {
            if *fresh_token_used {
                return Err(ArmError::Unauthorized);
            }
            *fresh_token_used = true;
            self.tokens.get(true).await.map_err(ArmError::Auth)?;
            return Ok(Judged::Again);
        }
        if status == StatusCode::PRECONDITION_FAILED {
            return Err(ArmError::PreconditionFailed);
        }
        let code = error_code(&reply.body);
        let busy = status == StatusCode::CONFLICT
            && code
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("AnotherOperationInProgress"));
        if status == StatusCode::TOO_MANY_REQUESTS || busy || status.is_server_error() {
            return Ok(Judged::Retry(
                format!("HTTP {}", status.as_u16()),
                retry_after,
            ));
        }
        Err(ArmError::Status {
            what: what.to_owned(),
            status: status.as_u16(),
            message: error_message(&reply.body),
        })
    }
}

enum Judged {
    Done(Reply),
    /// Again at once, with a fresh token.
    Again,
    /// Again after a wait.
    Retry(String, Option<String>),
}

fn transport_message(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "the connection failed".to_owned()
    }
}

/// An ETag fit to be sent back in a header.
fn valid_etag(e: &str) -> bool {
    !e.is_empty() && e.len() <= 256 && e.bytes().all(|b| (0x20..0x7f).contains(&b))
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
