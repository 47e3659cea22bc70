//! The one HTTP client of the library (downloads, Resource Manager, Resource Graph, token
//! endpoints, webhooks): timeouts, bounded retries with exponential backoff and jitter (connect
//! errors, timeouts, broken bodies, 408, 429, 5xx), `Retry-After` (read here and nowhere else),
//! a size limit, conditional requests, and a progress callback. It sits at the top of the
//! library because every client that talks to a server is built on it. Plain `http://` is
//! refused except on loopback.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use reqwest::{StatusCode, Url, header};

/// How patient the client is.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    /// Limit for one whole request, body included.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff; doubled each retry, with jitter of up to as much again.
    pub backoff: Duration,
    /// Longest single wait, whatever `Retry-After` asks.
    pub max_wait: Duration,
    /// Largest body accepted.
    pub max_bytes: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            retries: 4,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            max_bytes: crate::snapshot::MAX_FILE_BYTES,
        }
    }
}

/// Reports download progress (a terminal progress bar, or nothing).
pub trait Progress: Sync {
    fn start(&self, _what: &str, _total: Option<u64>) {}
    fn advance(&self, _bytes: u64) {}
    fn finish(&self) {}
}

/// No progress display.
pub struct Quiet;
impl Progress for Quiet {}

/// Validators of a stored copy, for a conditional request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The answer to a GET.
#[derive(Debug)]
pub enum Fetched {
    Body {
        bytes: Vec<u8>,
        validators: Validators,
    },
    /// 304: the stored copy is current.
    NotModified,
}

/// Why a request failed. URLs are printed; credentials never are.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refusing {url}: {reason}")]
    Refused { url: String, reason: String },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: failed after {}", crate::text::plural(*.attempts as usize, "attempt"))]
    Network {
        url: String,
        attempts: u32,
        #[source]
        last: Transient,
    },
    #[error("refusing {url}: a redirect")]
    Redirect {
        url: String,
        #[source]
        err: reqwest::Error,
    },
    #[error("{url}: the body is larger than the {limit} byte limit")]
    TooLarge { url: String, limit: u64 },
    #[error("cannot start the HTTP client")]
    Client(#[source] reqwest::Error),
}

/// Why one attempt of a request failed in a way that the next may not. When the retries run
/// out, the last is kept as the error's cause. Its reqwest errors hold no URL (one may carry a
/// secret; the error around it names the URL as [`shown`]).
#[derive(Debug, thiserror::Error)]
pub enum Transient {
    /// A status worth trying again (408, 429, 5xx; for Resource Manager also a 409 while another
    /// operation runs), with the error code its answer gave.
    #[error("HTTP {status}{}", .code.as_deref().map(|c| format!(" {}", crate::text::for_terminal(c))).unwrap_or_default())]
    Status { status: u16, code: Option<String> },
    /// No answer: the connection or the request failed, or timed out.
    #[error("{}", request_kind(.0))]
    Request(#[source] reqwest::Error),
    /// The answer broke off before its end.
    #[error("the answer broke off")]
    Broken(#[source] reqwest::Error),
    /// The answer ended short of its `Content-Length`.
    #[error("the answer has {got} of {expected} bytes")]
    Short { got: u64, expected: u64 },
}

impl Transient {
    /// Whether a write that failed so may still have been carried out: the server may have
    /// acted before a 5xx, a timeout or a lost connection, but not before a 429 or a 409
    /// (refused before it started).
    pub fn maybe_applied(&self) -> bool {
        match self {
            Transient::Status { status, .. } => *status >= 500 || *status == 408,
            Transient::Request(_) | Transient::Broken(_) | Transient::Short { .. } => true,
        }
    }

    /// A request that got no answer.
    pub fn request(e: reqwest::Error) -> Transient {
        Transient::Request(e.without_url())
    }

    /// A status worth trying again.
    pub fn status(status: StatusCode, code: Option<String>) -> Transient {
        Transient::Status {
            status: status.as_u16(),
            code,
        }
    }
}

fn request_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    }
}

/// A URL as messages show it: without user info, and with any query cut to `?...`, since either
/// may hold a secret (`https://user:pw@host/hook?sig=...`).
pub fn shown(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if url.query().is_some() {
        url.set_query(Some("..."));
    }
    url.to_string()
}

/// Whether `url`'s host is a loopback address or `localhost`: the one host where a test server
/// may stand in for Azure (plain `http://`, a token for another origin).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(a)) => IpAddr::V4(a).is_loopback(),
        Some(url::Host::Ipv6(a)) => IpAddr::V6(a).is_loopback(),
        None => false,
    }
}

/// Refuses anything but `https://`, and `http://` to a loopback host.
pub fn check_url(url: &Url) -> Result<(), FetchError> {
    let refuse = |reason: &str| {
        Err(FetchError::Refused {
            url: shown(url),
            reason: reason.to_owned(),
        })
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            if is_loopback(url) {
                Ok(())
            } else {
                refuse("plain http:// is only allowed to a loopback host")
            }
        }
        _ => refuse("only https:// URLs are fetched"),
    }
}

/// The one retry policy of every request (downloads, Resource Manager, token endpoints,
/// webhooks): up to `retries` retries after the first attempt, waiting `backoff`, then twice as
/// long each time, with jitter of up to as much again, never more than `max_wait`. A server's
/// `Retry-After` replaces the policy's wait ([`next_wait`]).
pub fn policy(cfg: &HttpConfig) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(cfg.backoff)
        .with_factor(2.0)
        .with_max_delay(cfg.max_wait)
        .with_jitter()
        .with_max_times(cfg.retries as usize)
}

/// The wait before the next attempt, given the policy's (`None`: the retries are spent) and the
/// server's `Retry-After` (seconds or an HTTP date; `now` is a parameter so that tests need no
/// clock): the server's when it sent one, else the policy's, never longer than `max_wait`.
pub fn next_wait(
    cfg: &HttpConfig,
    policy: Option<Duration>,
    retry_after: Option<&str>,
    now: SystemTime,
) -> Option<Duration> {
    let policy = policy?;
    Some(asked(retry_after, now).unwrap_or(policy).min(cfg.max_wait))
}

/// The wait a server asks for with `Retry-After`: seconds or an HTTP date (the only place the
/// header's value is read).
fn asked(retry_after: Option<&str>, now: SystemTime) -> Option<Duration> {
    let v = retry_after?.trim();
    v.parse::<u64>().ok().map(Duration::from_secs).or_else(|| {
        httpdate::parse_http_date(v)
            .ok()
            .map(|t| t.duration_since(now).unwrap_or(Duration::ZERO))
    })
}

/// The wait before polling a long-running operation again: the `Retry-After` of `headers` when
/// the server sent one, else `interval`, never longer than `max_wait`.
pub fn poll_wait(cfg: &HttpConfig, headers: &header::HeaderMap, interval: Duration) -> Duration {
    let header = retry_after(headers);
    asked(header.as_deref(), SystemTime::now())
        .unwrap_or(interval)
        .min(cfg.max_wait)
}

/// The wait before retry number `attempt` (1-based) of a loop the policy does not drive (a
/// write whose operation ended because another was in progress): the policy's wait for that
/// retry, or the server's `Retry-After`.
pub fn retry_delay(
    cfg: &HttpConfig,
    attempt: u32,
    retry_after: Option<&str>,
    now: SystemTime,
) -> Duration {
    let nth = policy(cfg)
        .without_max_times()
        .build()
        .nth(attempt.saturating_sub(1) as usize);
    next_wait(cfg, Some(nth.unwrap_or(cfg.max_wait)), retry_after, now).unwrap_or(cfg.max_wait)
}

/// The `Retry-After` header's text, when there is one.
pub fn retry_after(headers: &header::HeaderMap) -> Option<String> {
    headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// An answer that is no success: tried again (after the server's `Retry-After`) when its status
/// may pass, else the end of the request.
fn failed(url: &Url, resp: &reqwest::Response) -> Attempt {
    let status = resp.status();
    if retryable(status) {
        Attempt::Retry(Transient::status(status, None), retry_after(resp.headers()))
    } else {
        Attempt::Fatal(FetchError::Status {
            url: shown(url),
            status: status.as_u16(),
        })
    }
}

/// One attempt's failure, of any client built on this one: try again (after the server's
/// `Retry-After`, when it sent one), or give up with `E`.
pub(crate) enum Attempt<E = FetchError> {
    Retry(Transient, Option<String>),
    Fatal(E),
}

/// The shared client.
pub struct Http {
    client: reqwest::Client,
    token_client: reqwest::Client,
    /// Webhooks: a redirect is a failed delivery, but for a 307 or 308 (which re-post the same
    /// body) to the same origin.
    webhook_client: reqwest::Client,
    pub cfg: HttpConfig,
}

/// Most redirects followed for one request.
pub(crate) const MAX_REDIRECTS: usize = 5;

impl Http {
    pub fn new(cfg: HttpConfig) -> Result<Self, FetchError> {
        let build = |redirects: reqwest::redirect::Policy| {
            reqwest::Client::builder()
                .user_agent(concat!("tagroute/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(cfg.connect_timeout)
                .timeout(cfg.timeout)
                .redirect(redirects)
                .build()
                .map_err(FetchError::Client)
        };
        // Every hop must pass the rules the first URL passed, or the loopback-only rule for
        // plain http:// would be one redirect away from meaning nothing.
        let client = build(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if let Err(e) = check_url(attempt.url()) {
                attempt.error(e.to_string())
            } else {
                attempt.follow()
            }
        }))?;
        // A request that carries a token follows no redirect: the token goes to the host it
        // was meant for and nowhere else.
        let token_client = build(reqwest::redirect::Policy::none())?;
        // A 301, 302 or 303 turns a POST into a GET without its body, whose landing page's 200
        // would count as a delivery: it is not followed, so the 3xx is the answer (a failure,
        // and the notification is kept). A 307 or 308 re-posts the body, and is followed to
        // the same origin only.
        let webhook_client = build(reqwest::redirect::Policy::custom(|attempt| {
            let same_origin = attempt
                .previous()
                .first()
                .is_some_and(|first| first.origin() == attempt.url().origin());
            let reposts = matches!(attempt.status().as_u16(), 307 | 308);
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if reposts && same_origin && check_url(attempt.url()).is_ok() {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }))?;
        Ok(Http {
            client,
            token_client,
            webhook_client,
            cfg,
        })
    }

    /// The client for requests that carry a token: it follows no redirect, so the token goes to
    /// the host it was meant for and nowhere else. Resource Manager's client is built on it.
    pub fn token_client(&self) -> &reqwest::Client {
        &self.token_client
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries are spent ([`policy`]).
    async fn retrying<T, F, Fut>(&self, url: &Url, mut attempt: F) -> Result<T, FetchError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Attempt>>,
    {
        check_url(url)?;
        let attempts = std::cell::Cell::new(0u32);
        let result = (|| {
            attempts.set(attempts.get() + 1);
            attempt()
        })
        .retry(policy(&self.cfg))
        .sleep(tokio::time::sleep)
        .when(|e| matches!(e, Attempt::Retry(..)))
        .adjust(|e, wait| match e {
            Attempt::Retry(_, after) => {
                next_wait(&self.cfg, wait, after.as_deref(), SystemTime::now())
            }
            Attempt::Fatal(_) => None,
        })
        .await;
        result.map_err(|e| match e {
            Attempt::Fatal(e) => e,
            Attempt::Retry(last, _) => FetchError::Network {
                url: shown(url),
                attempts: attempts.get(),
                last,
            },
        })
    }

    /// GET without validators: the body, read whole within the limit.
    pub(crate) async fn get_body(
        &self,
        url: &Url,
        bearer: Option<&str>,
        progress: &dyn Progress,
    ) -> Result<Vec<u8>, FetchError> {
        match self.get(url, None, bearer, progress).await? {
            Fetched::Body { bytes, .. } => Ok(bytes),
            // `get` takes a 304 for "not modified" only when it sent validators; here it cannot
            // come back, and would be the status it is.
            Fetched::NotModified => Err(FetchError::Status {
                url: shown(url),
                status: 304,
            }),
        }
    }

    /// GET with optional validators and bearer token; the body is read whole, within the limit.
    pub async fn get(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        bearer: Option<&str>,
        progress: &dyn Progress,
    ) -> Result<Fetched, FetchError> {
        self.retrying(url, || async {
            let client = if bearer.is_some() {
                &self.token_client
            } else {
                &self.client
            };
            let mut req = client.get(url.clone());
            if let Some(v) = validators {
                if let Some(etag) = &v.etag {
                    req = req.header(header::IF_NONE_MATCH, etag);
                }
                if let Some(lm) = &v.last_modified {
                    req = req.header(header::IF_MODIFIED_SINCE, lm);
                }
            }
            if let Some(token) = bearer {
                req = req.bearer_auth(token);
            }
            let resp = req.send().await.map_err(|e| attempt_error(url, e))?;
            let status = resp.status();
            if status == StatusCode::NOT_MODIFIED && validators.is_some() {
                return Ok(Fetched::NotModified);
            }
            if !status.is_success() {
                return Err(failed(url, &resp));
            }
            let too_large = || {
                Attempt::Fatal(FetchError::TooLarge {
                    url: shown(url),
                    limit: self.cfg.max_bytes,
                })
            };
            let header_text = |h: header::HeaderName| {
                resp.headers()
                    .get(h)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let validators = Validators {
                etag: header_text(header::ETAG),
                last_modified: header_text(header::LAST_MODIFIED),
            };
            let expected = resp.content_length();
            progress.start(url.as_str(), expected);
            let read = read_limited(resp, self.cfg.max_bytes, progress).await;
            progress.finish();
            let bytes = match read {
                Ok(b) => b,
                Err(BodyError::TooLarge) => return Err(too_large()),
                Err(BodyError::Broken(e)) => return Err(Attempt::Retry(e, None)),
            };
            if let Some(n) = expected
                && n != bytes.len() as u64
            {
                let got = bytes.len() as u64;
                return Err(Attempt::Retry(Transient::Short { got, expected: n }, None));
            }
            Ok(Fetched::Body { bytes, validators })
        })
        .await
    }

    /// True when the URL exists (HEAD 200), false on 404 or 410.
    pub async fn exists(&self, url: &Url) -> Result<bool, FetchError> {
        self.retrying(url, || async {
            let resp = self
                .client
                .head(url.clone())
                .send()
                .await
                .map_err(|e| attempt_error(url, e))?;
            let status = resp.status();
            if status.is_success() {
                Ok(true)
            } else if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
                Ok(false)
            } else {
                Err(failed(url, &resp))
            }
        })
        .await
    }

    /// POSTs a JSON body to a webhook; any 2xx is success, and a redirect that would not
    /// re-post the body to the same origin is a failure.
    pub async fn post_json(&self, url: &Url, body: &[u8]) -> Result<(), FetchError> {
        self.retrying(url, || async {
            let resp = self
                .webhook_client
                .post(url.clone())
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_vec())
                .send()
                .await
                .map_err(|e| attempt_error(url, e))?;
            let status = resp.status();
            if status.is_success() {
                return Ok(());
            }
            Err(failed(url, &resp))
        })
        .await
    }
}

/// Why a body could not be read whole.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// More than the limit, counted after decompression.
    TooLarge,
    /// The connection failed before the end.
    Broken(Transient),
}

/// Reads a response body of at most `limit` bytes. reqwest hands out the chunks decompressed
/// (gzip and deflate are on for the Azure SDK), so the limit holds for what is kept in memory,
/// whatever the body's size on the wire.
pub(crate) async fn read_limited(
    mut resp: reqwest::Response,
    limit: u64,
    progress: &dyn Progress,
) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge);
    }
    let mut bytes = Vec::with_capacity(resp.content_length().unwrap_or(0).min(limit) as usize);
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| BodyError::Broken(Transient::Broken(e.without_url())))?
    {
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLarge);
        }
        progress.advance(chunk.len() as u64);
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// What a failed send means: a refused or endless redirect is final (trying again changes
/// nothing); anything else may be transient.
fn attempt_error(url: &Url, e: reqwest::Error) -> Attempt {
    if e.is_redirect() {
        Attempt::Fatal(FetchError::Redirect {
            url: shown(url),
            err: e.without_url(),
        })
    } else {
        Attempt::Retry(Transient::request(e), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_keep_no_secret() {
        let url = Url::parse("http://user:pw@127.0.0.1:8080/hook?sig=abc&x=1").unwrap();
        assert_eq!(shown(&url), "http://127.0.0.1:8080/hook?...");
        let plain = Url::parse("https://download.microsoft.com/a/b.json").unwrap();
        assert_eq!(shown(&plain), "https://download.microsoft.com/a/b.json");
    }

    #[test]
    fn only_https_or_loopback_http() {
        let ok = |u: &str| check_url(&Url::parse(u).unwrap()).is_ok();
        assert!(ok("https://download.microsoft.com/x.json"));
        assert!(
            ok("http://127.0.0.1:8080/x") && ok("http://localhost/x") && ok("http://[::1]:9/x")
        );
        assert!(!ok("http://download.microsoft.com/x.json"));
        assert!(!ok("http://10.0.0.1/x"));
        assert!(!ok("ftp://127.0.0.1/x"));
    }

    #[test]
    fn retry_after_and_backoff() {
        let cfg = HttpConfig {
            backoff: Duration::from_millis(100),
            max_wait: Duration::from_secs(30),
            ..Default::default()
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(retry_delay(&cfg, 1, Some("7"), now), Duration::from_secs(7));
        assert_eq!(
            retry_delay(&cfg, 1, Some("3600"), now),
            Duration::from_secs(30),
            "capped"
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(12));
        assert_eq!(
            retry_delay(&cfg, 1, Some(&later), now),
            Duration::from_secs(12)
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(12));
        assert_eq!(retry_delay(&cfg, 1, Some(&past), now), Duration::ZERO);
        for attempt in 1..=4 {
            let d = retry_delay(&cfg, attempt, None, now);
            let base = Duration::from_millis(100 << (attempt - 1));
            assert!(d >= base && d <= base * 2, "attempt {attempt}: {d:?}");
        }
        // A poll waits as the server asks, in seconds or until a date, else its interval.
        let headers = |v: &str| {
            let mut h = header::HeaderMap::new();
            h.insert(header::RETRY_AFTER, v.parse().unwrap());
            h
        };
        let interval = Duration::from_secs(2);
        assert_eq!(
            poll_wait(&cfg, &headers("5"), interval),
            Duration::from_secs(5)
        );
        assert_eq!(poll_wait(&cfg, &headers("600"), interval), cfg.max_wait);
        assert_eq!(
            poll_wait(&cfg, &header::HeaderMap::new(), interval),
            interval
        );
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(20));
        let d = poll_wait(&cfg, &headers(&soon), interval);
        assert!(
            d > Duration::from_secs(15) && d <= Duration::from_secs(20),
            "{d:?}"
        );
        // The policy gives `retries` waits, then none.
        let waits: Vec<Duration> = policy(&cfg).build().collect();
        assert_eq!(waits.len(), cfg.retries as usize);
        assert_eq!(next_wait(&cfg, None, Some("1"), now), None);
        assert_eq!(
            retry_delay(&cfg, 30, Some("garbage"), now),
            Duration::from_secs(30)
        );
    }
}
