//! Where a service-tag file comes from: the download center (page, then date probes), a given
//! URL, or the ARM Service Tag Discovery API; and the cache every command can read from.
//!
//! Nothing is stored before the downloaded file has been parsed and validated, its `cloud` checked
//! against the one asked for, and its changeNumber compared with the stored one: a stale mirror
//! never rolls data back. Stores are atomic; a failed or interrupted fetch leaves the previous file
//! as it was. Network code only; the planners know nothing of it.

pub mod local;
pub(crate) mod store;

pub use local::{Provenance, Wanted};

use std::time::Duration;

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::http::{self, FetchError, Fetched, Http, Progress};
use crate::snapshot::{self, Cloud, LoadError};
use store::{Meta, Store, now_secs};

/// Where one cloud publishes its file.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    pub download_page: Url,
    pub download_base: Url,
    pub arm_endpoint: Url,
}

/// An endpoint given for Resource Manager that is not the cloud's: a token would go there.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} is not the {cloud} Resource Manager ({own}); a token is sent there only (or to a loopback \
     address)",
    crate::text::quoted(.given)
)]
pub struct ForeignEndpoint {
    pub given: String,
    pub cloud: Cloud,
    pub own: String,
}

/// The Resource Manager endpoint a token for `cloud` may go to: `given` when it is that cloud's
/// own origin (scheme, host and port) or a loopback address, else the cloud's own.
pub fn arm_endpoint(cloud: Cloud, given: Option<&Url>) -> Result<Url, ForeignEndpoint> {
    let own = endpoints(cloud).arm_endpoint;
    match given {
        None => Ok(own),
        Some(given) if http::is_loopback(given) || given.origin() == own.origin() => {
            Ok(given.clone())
        }
        Some(given) => Err(ForeignEndpoint {
            given: given.to_string(),
            cloud,
            own: own.to_string(),
        }),
    }
}

/// The compiled-in endpoint table (`data/endpoints.json`).
pub fn endpoints(cloud: Cloud) -> Endpoints {
    let all: serde_json::Value = serde_json::from_str(include_str!("../../data/endpoints.json"))
        .expect("endpoints.json is valid");
    serde_json::from_value(all[cloud.short_name()].clone()).expect("every cloud has endpoints")
}

/// How to find the file.
#[derive(Clone, Debug)]
pub enum Method {
    /// The download-center page, then the fixed path probed for recent dates.
    Discover { probe_days: u32, today: time::Date },
    /// A given URL.
    Url(Url),
    /// The ARM Service Tag Discovery API (which can lag the file by weeks).
    Arm {
        subscription: String,
        location: String,
        token: String,
    },
    /// A file on this machine (a download made elsewhere, or a copy of record), validated and
    /// stored as a download would be: how the cache is seeded for `--offline`.
    File(std::path::PathBuf),
}

/// The result of a fetch.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub cloud: Cloud,
    /// `updated`, or `unchanged` (304, or the same changeNumber again).
    pub status: &'static str,
    pub url: String,
    /// `download page`, `date probe`, `given URL` or `ARM API`.
    pub found_via: String,
    pub change_number: u64,
    pub previous_change_number: Option<u64>,
    pub path: String,
}

/// Why nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{path}")]
    Local {
        path: String,
        #[source]
        err: std::io::Error,
    },
    #[error("{url}: the file is not valid")]
    Invalid {
        url: String,
        #[source]
        err: LoadError,
    },
    #[error("{url} is a {got} file, not {want}")]
    WrongCloud {
        url: String,
        got: Cloud,
        want: Cloud,
    },
    #[error(
        "{url} has changeNumber {got}, older than the stored {stored}: refusing to roll back (a stale mirror?)"
    )]
    Stale { url: String, got: u64, stored: u64 },
    #[error(
        "no {cloud} file found: {page}, and no date in the last {days} days exists under {base}"
    )]
    NotFound {
        cloud: Cloud,
        /// What the download page did.
        page: String,
        days: u32,
        base: String,
    },
    #[error("no {cloud} file found: {page}, and probing dates failed: {probe}")]
    Unreachable {
        cloud: Cloud,
        /// What the download page did.
        page: String,
        probe: FetchError,
    },
    #[error("ARM API")]
    Arm(#[from] ArmApiError),
    #[error("{base} joined with {name} is no URL")]
    BadUrl {
        base: String,
        name: String,
        #[source]
        err: url::ParseError,
    },
    #[error("cannot write the cache in {dir}")]
    Store {
        dir: String,
        #[source]
        err: std::io::Error,
    },
    #[error("no cached {cloud} file in {dir}, and an offline run does not download it")]
    NotCached { cloud: Cloud, dir: String },
}

/// Most pages of the ARM Service Tag Discovery API followed.
pub(crate) const MAX_ARM_PAGES: usize = 1000;

/// Why the ARM Service Tag Discovery API gave no file.
#[derive(Debug, thiserror::Error)]
pub enum ArmApiError {
    #[error("{url}: not JSON")]
    NotJson {
        url: String,
        #[source]
        err: serde_json::Error,
    },
    #[error("bad nextLink {}", crate::text::quoted(.link))]
    BadNextLink {
        link: String,
        #[source]
        err: url::ParseError,
    },
    #[error("nextLink points to another host ({host}); not following it")]
    ForeignNextLink { host: String },
    #[error("more than {MAX_ARM_PAGES} pages")]
    TooManyPages,
}

/// A file as the server sent it, with where it came from.
pub struct Download {
    pub bytes: Vec<u8>,
    pub url: Url,
    pub found_via: String,
    pub validators: http::Validators,
}

/// Finds the newest file's URL. Returns the URL and how it was found.
pub async fn discover(
    http: &Http,
    cloud: Cloud,
    ep: &Endpoints,
    probe_days: u32,
    today: time::Date,
    notes: &mut Vec<String>,
) -> Result<(Url, &'static str), SourceError> {
    let stem = format!("ServiceTags_{}_", cloud.as_str());
    let shown_page = http::shown(&ep.download_page);
    // What the page did, for the notes and for the error when the probe finds nothing either.
    let page = match http.get_body(&ep.download_page, None, &http::Quiet).await {
        Ok(bytes) => {
            if let Some(url) =
                newest_link(&String::from_utf8_lossy(&bytes), &stem, &ep.download_page)
            {
                return Ok((url, "download page"));
            }
            format!("the download page {shown_page} links to no {stem}YYYYMMDD.json")
        }
        Err(e) => format!("the download page failed ({})", crate::text::chain(&e)),
    };
    notes.push(format!("{page}; probing dates"));
    for date in probe_dates(today, probe_days) {
        let name = format!("{stem}{date}.json");
        let url = ep
            .download_base
            .join(&name)
            .map_err(|err| SourceError::BadUrl {
                base: http::shown(&ep.download_base),
                name,
                err,
            })?;
        match http.exists(&url).await {
            Ok(true) => return Ok((url, "date probe")),
            Ok(false) => {}
            Err(probe) => {
                return Err(SourceError::Unreachable { cloud, page, probe });
            }
        }
    }
    Err(SourceError::NotFound {
        cloud,
        page,
        days: probe_days,
        base: http::shown(&ep.download_base),
    })
}

/// The link to the newest `<stem>YYYYMMDD.json` in a page, resolved against the page's URL:
/// the newest of the links that are URLs the download would accept ([`http::check_url`]),
/// whatever else the page holds (the stem in other text, cut short, or next to bytes that are
/// not ASCII).
pub(crate) fn newest_link(page: &str, stem: &str, base: &Url) -> Option<Url> {
    let bytes = page.as_bytes();
    let mut best: Option<(&[u8], Url)> = None;
    let mut from = 0;
    while let Some(pos) = page[from..].find(stem).map(|p| p + from) {
        from = pos + stem.len();
        let Some(date) = bytes.get(from..from + 8) else {
            continue;
        };
        if !date.iter().all(u8::is_ascii_digit) || bytes.get(from + 8..from + 13) != Some(b".json")
        {
            continue;
        }
        // The stem, the digits and `.json` are ASCII, so both ends are character boundaries.
        let start = page[..pos]
            .rfind(|c: char| matches!(c, '"' | '\'' | '(' | '>' | '=') || c.is_whitespace())
            .map_or(0, |i| i + 1);
        let link = &page[start..from + 13];
        if let Ok(url) = base.join(link)
            && http::check_url(&url).is_ok()
            && best.as_ref().is_none_or(|(d, _)| date > *d)
        {
            best = Some((date, url));
        }
    }
    best.map(|(_, u)| u)
}

/// `YYYYMMDD` for today and the `days - 1` days before it, newest first.
pub(crate) fn probe_dates(today: time::Date, days: u32) -> Vec<String> {
    let fmt = time::macros::format_description!("[year][month][day]");
    (0..days as i64)
        .filter_map(|d| today.checked_sub(time::Duration::days(d)))
        .map(|d| d.format(&fmt).expect("a date formats"))
        .collect()
}

/// Reads every page of the ARM Service Tag Discovery API into one document of the ARM shape.
pub(crate) async fn fetch_arm(
    http: &Http,
    ep: &Endpoints,
    subscription: &str,
    location: &str,
    token: &str,
) -> Result<Download, SourceError> {
    let api_version = crate::model::NETWORK_API_VERSION;
    let path = format!(
        "subscriptions/{subscription}/providers/Microsoft.Network/locations/{location}/serviceTags?api-version={api_version}"
    );
    let first = ep
        .arm_endpoint
        .join(&path)
        .map_err(|err| SourceError::BadUrl {
            base: http::shown(&ep.arm_endpoint),
            name: path.clone(),
            err,
        })?;
    let mut url = first.clone();
    let mut doc: Option<serde_json::Value> = None;
    for _page in 0..MAX_ARM_PAGES {
        let bytes = http.get_body(&url, Some(token), &http::Quiet).await?;
        let mut page: serde_json::Value =
            crate::json::parse(&bytes).map_err(|err| ArmApiError::NotJson {
                url: http::shown(&url),
                err,
            })?;
        let next = page
            .get("nextLink")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let values = page
            .get_mut("values")
            .and_then(|v| v.as_array_mut())
            .map(std::mem::take)
            .unwrap_or_default();
        match doc.as_mut() {
            None => {
                page["values"] = serde_json::Value::Array(values);
                doc = Some(page);
            }
            Some(d) => d["values"]
                .as_array_mut()
                .expect("set on the first page")
                .extend(values),
        }
        let Some(next) = next else {
            let mut d = doc.expect("at least one page");
            if let Some(o) = d.as_object_mut() {
                o.remove("nextLink");
            }
            let bytes = serde_json::to_vec(&d).expect("JSON serialises");
            return Ok(Download {
                bytes,
                url: first,
                found_via: "ARM API".into(),
                validators: Default::default(),
            });
        };
        let next = Url::parse(&next)
            .or_else(|_| url.join(&next))
            .map_err(|err| ArmApiError::BadNextLink {
                link: next.clone(),
                err,
            })?;
        // The token goes only to the ARM host it was meant for.
        if next.host_str() != ep.arm_endpoint.host_str()
            || next.port_or_known_default() != ep.arm_endpoint.port_or_known_default()
        {
            let host = crate::text::for_terminal(next.host_str().unwrap_or("?")).into_owned();
            return Err(ArmApiError::ForeignNextLink { host }.into());
        }
        url = next;
    }
    Err(ArmApiError::TooManyPages.into())
}

/// Fetches the newest file of `cloud` into `store`. Returns what happened and notes for stderr.
pub async fn fetch(
    http: &Http,
    store: &Store,
    cloud: Cloud,
    ep: &Endpoints,
    method: &Method,
    progress: &dyn Progress,
    notes: &mut Vec<String>,
) -> Result<Outcome, SourceError> {
    let stored = store.meta(cloud);
    let stored_change = stored.as_ref().map(|m| m.change_number).or_else(|| {
        let path = store.data_path(cloud);
        path.is_file()
            .then(|| snapshot::load(path.to_str()?).ok().map(|s| s.change_number))
            .flatten()
    });
    let download = if let Method::Arm {
        subscription,
        location,
        token,
    } = method
    {
        notes.push(
            "the ARM Service Tag Discovery API can lag the weekly file by weeks and lacks some tags \
             (such as AzureMachineLearning.<region>)"
                .into(),
        );
        fetch_arm(http, ep, subscription, location, token).await?
    } else {
        let (url, via) = match method {
            Method::Url(u) => (u.clone(), "given URL"),
            Method::Discover { probe_days, today } => {
                discover(http, cloud, ep, *probe_days, *today, notes).await?
            }
            Method::Arm { .. } => unreachable!("handled above"),
            Method::File(path) => {
                let absolute = std::path::absolute(path).map_err(|err| SourceError::Local {
                    path: path.display().to_string(),
                    err,
                })?;
                let bytes = crate::fsutil::read_bounded(path, snapshot::MAX_FILE_BYTES, false)
                    .map_err(|err| SourceError::Local {
                        path: path.display().to_string(),
                        err,
                    })?;
                let url = Url::from_file_path(&absolute).map_err(|()| SourceError::Local {
                    path: path.display().to_string(),
                    err: std::io::Error::other("not a path a file URL can name"),
                })?;
                let download = Download {
                    bytes,
                    url,
                    found_via: "given file".into(),
                    validators: Default::default(),
                };
                return store_download(store, cloud, download, stored_change);
            }
        };
        let validators = stored
            .as_ref()
            .filter(|m| m.url == url.as_str())
            .map(Meta::validators);
        match http.get(&url, validators.as_ref(), None, progress).await? {
            Fetched::NotModified => {
                let mut meta = stored
                    .clone()
                    .expect("validators came from stored metadata");
                meta.fetched_at = now_secs();
                store
                    .save_meta(cloud, &meta)
                    .map_err(|err| store_err(store, err))?;
                return Ok(outcome(
                    store,
                    cloud,
                    "unchanged",
                    &url,
                    via,
                    meta.change_number,
                    stored_change,
                ));
            }
            Fetched::Body { bytes, validators } => Download {
                bytes,
                url,
                found_via: via.into(),
                validators,
            },
        }
    };
    store_download(store, cloud, download, stored_change)
}

/// Validates a file got by any method (JSON, its cloud, not older than the stored one) and
/// stores it with its metadata.
fn store_download(
    store: &Store,
    cloud: Cloud,
    download: Download,
    stored_change: Option<u64>,
) -> Result<Outcome, SourceError> {
    let url = http::shown(&download.url);
    let snap = snapshot::parse(&url, &download.bytes).map_err(|err| SourceError::Invalid {
        url: url.clone(),
        err,
    })?;
    if snap.cloud != cloud {
        return Err(SourceError::WrongCloud {
            url,
            got: snap.cloud,
            want: cloud,
        });
    }
    if let Some(old) = stored_change
        && snap.change_number < old
    {
        return Err(SourceError::Stale {
            url,
            got: snap.change_number,
            stored: old,
        });
    }
    let meta = Meta {
        url: url.clone(),
        found_via: download.found_via.clone(),
        etag: download.validators.etag,
        last_modified: download.validators.last_modified,
        fetched_at: now_secs(),
        change_number: snap.change_number,
        bytes: download.bytes.len() as u64,
    };
    let unchanged = stored_change == Some(snap.change_number)
        && std::fs::read(store.data_path(cloud)).is_ok_and(|b| b == download.bytes);
    if unchanged {
        store
            .save_meta(cloud, &meta)
            .map_err(|err| store_err(store, err))?;
    } else {
        store
            .save(cloud, &download.bytes, &meta)
            .map_err(|err| store_err(store, err))?;
    }
    let status = if unchanged { "unchanged" } else { "updated" };
    Ok(outcome(
        store,
        cloud,
        status,
        &download.url,
        &download.found_via,
        snap.change_number,
        stored_change,
    ))
}

fn store_err(store: &Store, err: std::io::Error) -> SourceError {
    SourceError::Store {
        dir: store.dir.display().to_string(),
        err,
    }
}

fn outcome(
    store: &Store,
    cloud: Cloud,
    status: &'static str,
    url: &Url,
    via: &str,
    change: u64,
    prev: Option<u64>,
) -> Outcome {
    Outcome {
        cloud,
        status,
        url: http::shown(url),
        found_via: via.to_owned(),
        change_number: change,
        previous_change_number: prev,
        path: store.data_path(cloud).display().to_string(),
    }
}

/// True when the cached file is missing or older than `max_age`.
pub(crate) fn needs_refresh(store: &Store, cloud: Cloud, max_age: Duration) -> bool {
    store.age(cloud).is_none_or(|age| age > max_age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_newest_link_in_a_page() {
        let base =
            Url::parse("https://www.microsoft.com/en-us/download/details.aspx?id=56519").unwrap();
        let page = r#"<a href="https://download.microsoft.com/download/7/1/D/X/ServiceTags_Public_20251013.json">old</a>
            {"url":"https://download.microsoft.com/download/7/1/D/X/ServiceTags_Public_20251028.json"}
            <a href='/dl/ServiceTags_Public_2025102.json'>broken</a> ServiceTags_China_20260101.json"#;
        let u = newest_link(page, "ServiceTags_Public_", &base).unwrap();
        assert_eq!(
            u.as_str(),
            "https://download.microsoft.com/download/7/1/D/X/ServiceTags_Public_20251028.json"
        );
        let rel = newest_link(
            "<a href=\"/files/ServiceTags_China_20260720.json\">",
            "ServiceTags_China_",
            &base,
        )
        .unwrap();
        assert_eq!(
            rel.as_str(),
            "https://www.microsoft.com/files/ServiceTags_China_20260720.json"
        );
        assert!(newest_link("nothing here", "ServiceTags_Public_", &base).is_none());
    }

    /// Whatever follows or surrounds the links, the newest one a download accepts is kept.
    #[test]
    fn keeps_the_newest_valid_link_whatever_the_page_holds() {
        let base = Url::parse("https://www.microsoft.com/en-us/download/details.aspx").unwrap();
        let good = "https://download.microsoft.com/d/ServiceTags_Public_20251028.json";
        for tail in [
            "ServiceTags_Public_",
            "ServiceTags_Public_2026",
            "ServiceTags_Public_é",
            "ServiceTags_Public_2026111é",
            "<a href=\"http://evil.example/ServiceTags_Public_20991231.json\">",
            "<a href=\"javascript:x/ServiceTags_Public_20991231.json\">",
            "<a href=\"ftp://mirror/ServiceTags_Public_20991231.json\">",
            "ServiceTags_Public_20991231.json", // no URL but the page's own: fine, it is https
        ] {
            let page = format!("<a href=\"{good}\">x</a> {tail}");
            let got = newest_link(&page, "ServiceTags_Public_", &base).unwrap();
            if tail == "ServiceTags_Public_20991231.json" {
                assert!(got.as_str().ends_with("/ServiceTags_Public_20991231.json"));
            } else {
                assert_eq!(got.as_str(), good, "{tail}");
            }
        }
    }

    #[test]
    fn probes_newest_first_across_month_ends() {
        let d = time::macros::date!(2026 - 03 - 02);
        assert_eq!(
            probe_dates(d, 4),
            ["20260302", "20260301", "20260228", "20260227"]
        );
    }

    #[test]
    fn endpoint_table_covers_every_cloud() {
        for c in Cloud::ALL {
            let ep = endpoints(c);
            assert_eq!(ep.download_page.scheme(), "https");
            assert!(ep.download_base.as_str().ends_with('/'));
        }
        assert!(
            endpoints(Cloud::AzureGovernment)
                .arm_endpoint
                .as_str()
                .contains("usgovcloudapi.net")
        );
    }
}
