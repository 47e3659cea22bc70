//! The managed identity of Azure Machine Learning compute, which the Azure SDK for Rust does not
//! serve: the compute sets `MSI_ENDPOINT` and `MSI_SECRET`, and a token is a `GET` of the
//! endpoint with `resource`, `api-version=2017-09-01` (and `clientid` for the user-assigned
//! identity named in `DEFAULT_IDENTITY_CLIENT_ID`) and the secret in a `secret` header, as the
//! Azure SDKs for Python and .NET ask it. The answer is read within a small bound like every token
//! answer; the secret goes to that endpoint only, which must be `https` or loopback.

use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use crate::source::http::{self, BodyError, HttpConfig, Quiet};

/// The endpoint and secret of the environment, when it is Azure ML compute's (and not App
/// Service's, whose `IDENTITY_ENDPOINT` the Azure SDK serves).
pub(super) fn environment() -> Option<(String, String)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if var("IDENTITY_ENDPOINT").is_some() {
        return None;
    }
    Some((var("MSI_ENDPOINT")?, var("MSI_SECRET")?))
}

/// A token for `resource` (`https://management.azure.com`) from the endpoint, its answer read
/// within `limit` bytes.
pub(super) async fn token(
    endpoint: &str,
    secret: &str,
    resource: &str,
    limit: u64,
) -> Result<String, String> {
    let mut url = Url::parse(endpoint).map_err(|_| "MSI_ENDPOINT is not a URL".to_owned())?;
    http::check_url(&url).map_err(|e| format!("MSI_ENDPOINT: {e}"))?;
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
        .map_err(|e| e.to_string())?
        .token_client()
        .clone();
    let resp = client
        .get(url.clone())
        .header("secret", secret)
        .send()
        .await
        .map_err(|e| format!("{}: {}", http::shown(&url), http::describe(&e)))?;
    let status = resp.status();
    let body = match http::read_limited(resp, limit, &Quiet).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return Err(format!("the answer is larger than {limit} bytes"));
        }
        Err(BodyError::Broken(msg)) => return Err(msg),
    };
    if !status.is_success() {
        return Err(format!("{}: HTTP {}", http::shown(&url), status.as_u16()));
    }
    let doc: Value =
        serde_json::from_slice(&body).map_err(|_| "the answer is not JSON".to_owned())?;
    doc["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "the answer has no access_token".to_owned())
}
