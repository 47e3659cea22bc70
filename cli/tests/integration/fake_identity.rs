//! The managed identity endpoints of the fake Resource Manager, as the Azure SDKs ask them
//! (`tests/fixtures/arm/README.md` names the sources): App Service's (`IDENTITY_ENDPOINT` and
//! `IDENTITY_HEADER`) and Azure ML compute's (`MSI_ENDPOINT` and `MSI_SECRET`).

use serde_json::json;

use crate::fake_arm::{State, error};
use crate::server::{Reply, Request};

/// The identity endpoint's answer, when `req` is for one.
pub fn answer(s: &State, req: &Request) -> Option<Reply> {
    // A managed identity endpoint as App Service provides one (IDENTITY_ENDPOINT and
    // IDENTITY_HEADER): the token for Resource Manager's audience, to the holder of the secret.
    if req.path() == "/msi/token" {
        let audience = req
            .target
            .contains("resource=https%3A%2F%2Fmanagement.azure.com");
        if req.header("x-identity-header") != Some("s3cret") || !audience {
            return Some(error(400, "BadRequest", "bad identity request"));
        }
        let expires = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        let token = s.token.clone();
        if let Some(n) = s.faults.token_bomb {
            let mut body = format!("{{\"access_token\": \"{token}\", \"pad\": \"").into_bytes();
            body.resize(n, b'a');
            body.extend_from_slice(b"\"}");
            return Some(Reply::body(body));
        }
        return Some(Reply::body(
            serde_json::to_vec(&json!({"access_token": token, "expires_on": expires.to_string(), "resource": "https://management.azure.com", "token_type": "Bearer"}))
                .unwrap(),
        ));
    }
    // Azure ML compute's managed identity (MSI_ENDPOINT and MSI_SECRET), as the Azure SDKs for
    // Python and .NET ask it: a GET with resource and api-version 2017-09-01, the secret in a
    // `secret` header.
    if req.path() == "/msi-aml/token" {
        let asked = req
            .target
            .contains("resource=https%3A%2F%2Fmanagement.azure.com")
            && req.target.contains("api-version=2017-09-01");
        if req.header("secret") != Some("s3cret") || !asked || req.method != "GET" {
            return Some(error(400, "BadRequest", "bad identity request"));
        }
        let token = s.token.clone();
        return Some(Reply::body(
            serde_json::to_vec(&json!({"access_token": token, "expires_on": "1999999999", "resource": "https://management.azure.com", "token_type": "Bearer"}))
                .unwrap(),
        ));
    }
    None
}
