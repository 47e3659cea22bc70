//! The managed identity of Azure Machine Learning compute, which the Azure SDK for Rust does not
//! serve: the compute sets `MSI_ENDPOINT` and `MSI_SECRET`, and a token is a `GET` of the
//! endpoint with `resource`, `api-version=2017-09-01` (and `clientid` for the user-assigned
//! identity named in `DEFAULT_IDENTITY_CLIENT_ID`) and the secret in a `secret` header, as the
//! Azure SDKs for Python and .NET ask it. The answer is read within a small bound like every token
//! answer; the secret goes to that endpoint only, which must be `https` or loopback.

use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use crate::http::{self, BodyError, HttpConfig, Quiet};

/// The endpoint and secret of the environment, when it is Azure ML compute's (and not App
/// Service's, whose `IDENTITY_ENDPOINT` the Azure SDK serves).
pub(super) fn environment() -> Option<(String, String)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if var("IDENTITY_ENDPOINT").is_some() {
        return None;
    }
    Some((var("MSI_ENDPOINT")?, var("MSI_SECRET")?))
}

/// Why Azure ML compute's identity gave no token.
#[derive(Debug, thiserror::Error)]
pub enum AzureMlError {
    #[error("MSI_ENDPOINT is not a URL")]
    NotUrl,
    #[error("MSI_ENDPOINT")]
    Refused(#[source] http::FetchError),
    #[error(transparent)]
    Client(http::FetchError),
    #[error("{url}")]
    Unreachable {
        url: String,
        #[source]
        err: http::Transient,
    },
    #[error("the answer is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The connection failed before the end of the answer.
    #[error(transparent)]
    Broken(http::Transient),
    #[error("{url}: HTTP {code}")]
    Status { url: String, code: u16 },
    #[error("the answer is not JSON")]
    NotJson,
    #[error("the answer has no access_token")]
    NoToken,
}

/// A token for `resource` (`https://management.azure.com`) from the endpoint, its answer read
/// within `limit` bytes.
pub(super) async fn token(
    endpoint: &str,
    secret: &str,
    resource: &str,
    limit: u64,
) -> Result<String, AzureMlError> {
    let mut url = Url::parse(endpoint).map_err(|_| AzureMlError::NotUrl)?;
    http::check_url(&url).map_err(AzureMlError::Refused)?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("resource", resource)
            .append_pair("api-version", "2017-09-01");
        if let Some(id) = std::env::var("DEFAULT_IDENTITY_CLIENT_ID")
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            query.append_pair("clientid", &id);
        }
    }
    let config = HttpConfig {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
        ..HttpConfig::default()
    };
    let client = http::Http::new(config)
        .map_err(AzureMlError::Client)?
        .token_client()
        .clone();
    let resp = client
        .get(url.clone())
        .header("secret", secret)
        .send()
        .await
        .map_err(|e| AzureMlError::Unreachable {
            url: http::shown(&url),
            err: http::Transient::request(e),
        })?;
    let status = resp.status();
    let body = match http::read_limited(resp, limit, &Quiet).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return Err(AzureMlError::TooLarge { limit }),
        Err(BodyError::Broken(why)) => return Err(AzureMlError::Broken(why)),
    };
    if !status.is_success() {
        return Err(AzureMlError::Status {
            url: http::shown(&url),
            code: status.as_u16(),
        });
    }
    let doc: Value = serde_json::from_slice(&body).map_err(|_| AzureMlError::NotJson)?;
    doc["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or(AzureMlError::NoToken)
}
