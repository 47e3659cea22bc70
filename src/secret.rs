//! Secrets that must never leave the process: the Resource Manager token and the parts of a
//! webhook URL that grant access (Slack's and Teams' secret is the path itself).
//!
//! A server may echo whatever it was sent (an error message quoting the `Authorization` header,
//! a proxy page quoting the URL), and that text travels on into errors, reports, the state and
//! webhook bodies. Rather than trust every path a string can take, each secret is registered
//! where tagroute gets it, and every place text leaves (stderr through
//! [`crate::text::for_terminal`], stdout, the state's files, a webhook's body) passes it through
//! [`redact`]: registered secrets, and anything shaped like a bearer token or a JSON Web Token,
//! become `[redacted]`.

use std::borrow::Cow;
use std::sync::RwLock;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Shortest text registered as a secret: shorter ones (a path `/`, a query `x=1`) would redact
/// ordinary words and protect nothing.
const MIN_SECRET_LEN: usize = 8;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers `secret`, so that [`redact`] removes it from any text from now on.
pub(crate) fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let mut all = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !all.iter().any(|s| s == secret) {
        all.push(secret.to_owned());
        // Longest first, so that a secret holding another is replaced whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Registers the parts of a webhook URL that grant access: its user info, its path and its
/// query (each, and the path and query together).
pub fn register_url(url: &url::Url) {
    register(url.username());
    if let Some(p) = url.password() {
        register(p);
    }
    register(url.path());
    if let Some(q) = url.query() {
        register(q);
        register(&format!("{}?{q}", url.path()));
    }
    // The path as a URL's text spells it and as it reads decoded.
    if let Ok(decoded) = percent_decoded(url.path()) {
        register(&decoded);
    }
}

fn percent_decoded(path: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
}

/// `text` with every registered secret, every `Bearer <token>` and every JSON Web Token
/// (`eyJ...`, three base64url parts) replaced by [`REDACTED`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    {
        let all = SECRETS.read().unwrap_or_else(|e| e.into_inner());
        for s in all.iter() {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), REDACTED));
            }
        }
    }
    if let Some(shaped) = redact_shapes(&out) {
        out = Cow::Owned(shaped);
    }
    out
}

/// Bytes that may be text: redacted when they are UTF-8, else as they are.
pub fn redact_bytes(bytes: &[u8]) -> Cow<'_, [u8]> {
    match std::str::from_utf8(bytes) {
        Ok(text) => match redact(text) {
            Cow::Borrowed(_) => Cow::Borrowed(bytes),
            Cow::Owned(t) => Cow::Owned(t.into_bytes()),
        },
        Err(_) => Cow::Borrowed(bytes),
    }
}

fn token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'+' | b'/' | b'=')
}

fn base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')
}

/// The text with token-shaped runs replaced, or `None` when it has none.
fn redact_shapes(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    // `Bearer <token>`: the token after the scheme, whatever it is.
    let mut from = 0;
    while let Some(at) = lower[from..].find("bearer") {
        let start = from + at + "bearer".len();
        let mut i = start;
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b':' | b'=' | b'"') {
            i += 1;
        }
        let token_start = i;
        while i < bytes.len() && token_char(bytes[i]) {
            i += 1;
        }
        if i - token_start >= MIN_SECRET_LEN {
            spans.push((token_start, i));
        }
        from = start;
    }
    // A JSON Web Token: `eyJ` (a base64url JSON object) and three dot-separated parts.
    let mut from = 0;
    while let Some(at) = text[from..].find("eyJ") {
        let start = from + at;
        let mut i = start;
        let mut dots = 0;
        while i < bytes.len() && (base64url(bytes[i]) || (bytes[i] == b'.' && dots < 2)) {
            if bytes[i] == b'.' {
                dots += 1;
            }
            i += 1;
        }
        if dots == 2 && i - start >= 16 {
            spans.push((start, i));
        }
        from = start + 3;
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in spans {
        if e <= at {
            continue;
        }
        out.push_str(&text[at..s.max(at)]);
        out.push_str(REDACTED);
        at = e;
    }
    out.push_str(&text[at..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_and_token_shapes_are_removed() {
        register("token-registered-1234");
        assert_eq!(
            redact("401: token-registered-1234 is invalid"),
            "401: [redacted] is invalid"
        );
        assert_eq!(redact("short"), "short");
        register("abc");
        assert_eq!(redact("abc"), "abc", "too short to be a secret");
        let jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwcyJ9.c2lnbmF0dXJl";
        assert_eq!(
            redact(&format!(
                "header was \"Authorization: Bearer {jwt}\", refused"
            )),
            "header was \"Authorization: Bearer [redacted]\", refused"
        );
        assert_eq!(redact(&format!("x{jwt}y")), "x[redacted]");
        assert_eq!(
            redact("authorization: bearer opaque-token-value."),
            "authorization: bearer [redacted]"
        );
        assert_eq!(redact("the bearer of bad news"), "the bearer of bad news");
    }

    #[test]
    fn a_webhook_url_path_and_query_are_secrets() {
        let url = url::Url::parse(
            "https://user:pw-secret-9@hooks.example.com/services/T000/B000/XXXXSECRET?sig=abcdefgh",
        )
        .unwrap();
        register_url(&url);
        let text = redact(url.as_str());
        assert!(!text.contains("XXXXSECRET"), "{text}");
        assert!(!text.contains("abcdefgh"), "{text}");
        assert!(!text.contains("pw-secret-9"), "{text}");
        assert!(text.contains("hooks.example.com"), "{text}");
        assert_eq!(
            redact_bytes(b"{\"m\": \"/services/T000/B000/XXXXSECRET\"}").as_ref(),
            b"{\"m\": \"[redacted]\"}"
        );
    }
}
