//! Resource Manager's lists: a `GET` of a collection answers `value[]` and, while more remain,
//! a `nextLink` to the next page (the REST specification's `x-ms-pageable`, e.g.
//! `Compute/list.json` of Microsoft.MachineLearningServices 2025-09-01, whose answer carries
//! `"nextLink"`). A next link is outside input: it is followed only on the endpoint's own
//! origin, a link given twice stops the list, and pages are bounded.

use reqwest::{Method, Url};
use serde_json::Value;

use super::{ArmClient, ArmError};

/// Most pages of one list followed.
pub(crate) const MAX_LIST_PAGES: usize = 1000;

impl ArmClient {
    /// Every item of the collection at `segments` (unencoded path segments under the endpoint)
    /// of `api_version`, page after page. A read: nothing is changed.
    pub async fn list(
        &mut self,
        what: &str,
        segments: &[&str],
        api_version: &str,
    ) -> Result<Vec<Value>, ArmError> {
        let mut url: Url = self.endpoint().clone();
        url.path_segments_mut()
            .expect("an http(s) URL has a path")
            .pop_if_empty()
            .extend(segments);
        url.query_pairs_mut()
            .append_pair("api-version", api_version);
        let mut items = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_LIST_PAGES {
            let reply = self
                .send(what, Method::GET, url.clone(), &[], None, None)
                .await?;
            let page = crate::json::parse(&reply.body).map_err(|e| ArmError::Status {
                what: what.to_owned(),
                status: reply.status.as_u16(),
                message: Some(format!("the answer is not JSON: {e}")),
            })?;
            let bad = |message: &str| ArmError::Status {
                what: what.to_owned(),
                status: reply.status.as_u16(),
                message: Some(message.to_owned()),
            };
            match page.get("value") {
                Some(Value::Array(v)) => items.extend(v.iter().cloned()),
                _ => return Err(bad("the answer is not a list (no value)")),
            }
            match page
                .get("nextLink")
                .and_then(Value::as_str)
                .filter(|l| !l.is_empty())
            {
                None => return Ok(items),
                Some(link) => {
                    if !seen.insert(link.to_owned()) {
                        return Err(bad("the list gave a nextLink it had given before"));
                    }
                    url = self.own_url(what, link)?;
                }
            }
        }
        Err(ArmError::Status {
            what: what.to_owned(),
            status: 200,
            message: Some(format!("more than {MAX_LIST_PAGES} pages")),
        })
    }
}
