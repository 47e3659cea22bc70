//! A fast, partial reader of service-tag files for commands that use a few tags.
//!
//! `plan` needs every tag's name and region (to resolve the region and match globs) but the
//! prefixes of only a handful. This scanner walks the JSON once, borrowing strings from the
//! input, records each tag's header and the byte span of its `addressPrefixes` array without
//! parsing it, and parses (and validates) the spans of just the tags asked for. Anything it does
//! not expect — an escape in a key, a field of another type, a structural surprise — makes it give
//! up, and the caller falls back to the strict full loader in [`crate::snapshot`], whose errors
//! name the file, tag and field. A bad prefix in a tag that is never used goes unnoticed here;
//! `fetch` validates whole files before storing them.

use crate::prefix::IpPrefix;
use crate::snapshot::{Cloud, LoadError, ServiceTag, Snapshot};

/// A file whose tags' prefixes are parsed on demand.
pub struct Partial<'a> {
    bytes: &'a [u8],
    snapshot: Snapshot,
    /// Byte span of each tag's `addressPrefixes` array, and whether it was parsed.
    spans: Vec<((usize, usize), bool)>,
}

impl<'a> Partial<'a> {
    /// The snapshot, with the prefixes of the tags filled so far (others empty).
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Parses and validates the prefixes of these tags.
    pub fn fill(&mut self, tags: &[usize]) -> Result<(), LoadError> {
        for &i in tags {
            let ((start, end), done) = self.spans[i];
            if done {
                continue;
            }
            let tag = &mut self.snapshot.tags[i];
            let strings: Vec<&str> =
                serde_json::from_slice(&self.bytes[start..end]).map_err(|e| {
                    LoadError::Invalid {
                        source_name: self.snapshot.source.clone(),
                        tag: tag.name.clone(),
                        field: "properties.addressPrefixes".into(),
                        msg: e.to_string(),
                    }
                })?;
            for (j, text) in strings.iter().enumerate() {
                match IpPrefix::parse(text) {
                    Ok(IpPrefix::V4(p)) => tag.ipv4.push(p),
                    Ok(IpPrefix::V6(p)) => tag.ipv6.push(p),
                    Err(e) => {
                        return Err(LoadError::Invalid {
                            source_name: self.snapshot.source.clone(),
                            tag: tag.name.clone(),
                            field: format!("properties.addressPrefixes[{j}]"),
                            msg: e.to_string(),
                        });
                    }
                }
            }
            self.spans[i].1 = true;
        }
        Ok(())
    }

    /// The snapshot with what was filled.
    pub fn into_snapshot(self) -> Snapshot {
        self.snapshot
    }
}

/// Scans a file; `None` when it is not in the plain shape this scanner handles (use the full
/// loader then: it also produces the precise error for a broken file).
pub fn scan<'a>(source_name: &str, bytes: &'a [u8]) -> Option<Partial<'a>> {
    let mut s = Scanner { b: bytes, i: 0 };
    let (mut cloud, mut change_number, mut tags, mut spans) = (None, None, Vec::new(), Vec::new());
    let mut values_seen = false;
    s.expect(b'{')?;
    loop {
        let key = s.key()?;
        match key {
            "cloud" => cloud = Some(Cloud::parse(s.string()?)?),
            "changeNumber" => change_number = Some(s.number()?),
            "values" => {
                values_seen = true;
                s.expect(b'[')?;
                if !s.eat(b']') {
                    loop {
                        let (tag, span) = s.tag()?;
                        tags.push(tag);
                        spans.push((span, false));
                        if !s.eat(b',') {
                            s.expect(b']')?;
                            break;
                        }
                    }
                }
            }
            "nextLink" => {
                let link = s.string_or_null()?;
                if link.is_some_and(|l| !l.is_empty()) {
                    return None; // a partial ARM page: let the full loader report it
                }
            }
            _ => s.skip_value()?,
        }
        if !s.eat(b',') {
            s.expect(b'}')?;
            break;
        }
    }
    s.ws();
    if s.i != bytes.len() || !values_seen {
        return None;
    }
    let mut seen = std::collections::HashSet::with_capacity(tags.len());
    if !tags
        .iter()
        .all(|t: &ServiceTag| seen.insert(t.name.to_ascii_lowercase()))
    {
        return None; // duplicates: the full loader names them
    }
    let snapshot = Snapshot {
        source: source_name.to_owned(),
        cloud: cloud?,
        change_number: change_number?,
        tags,
        next_link: None,
    };
    Some(Partial {
        bytes,
        snapshot,
        spans,
    })
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    #[inline]
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\n' | b'\r' | b'\t') {
            self.i += 1;
        }
    }

    #[inline]
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        self.eat(c).then_some(())
    }

    /// A string without escapes, borrowed.
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.i;
        let end = start + memchr::memchr2(b'"', b'\\', &self.b[start..])?;
        if self.b[end] != b'"' {
            return None;
        }
        self.i = end + 1;
        std::str::from_utf8(&self.b[start..end]).ok()
    }

    fn string_or_null(&mut self) -> Option<Option<&'a str>> {
        self.ws();
        if self.b[self.i..].starts_with(b"null") {
            self.i += 4;
            return Some(None);
        }
        self.string().map(Some)
    }

    fn key(&mut self) -> Option<&'a str> {
        let k = self.string()?;
        self.expect(b':')?;
        Some(k)
    }

    /// A whole number, or a string holding one (the ARM API's change numbers).
    fn number(&mut self) -> Option<u64> {
        self.ws();
        if self.b.get(self.i) == Some(&b'"') {
            let s = self.string()?;
            return if s.is_empty() {
                Some(0)
            } else {
                s.parse().ok()
            };
        }
        let start = self.i;
        while self.i < self.b.len() && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    /// Skips any value (strings by memchr, containers by depth).
    fn skip_value(&mut self) -> Option<()> {
        self.ws();
        match *self.b.get(self.i)? {
            b'"' => {
                self.i += 1;
                loop {
                    let j = self.i + memchr::memchr2(b'"', b'\\', &self.b[self.i..])?;
                    if self.b[j] == b'\\' {
                        self.i = j + 2;
                    } else {
                        self.i = j + 1;
                        return Some(());
                    }
                }
            }
            b'[' | b'{' => {
                let close = if self.b[self.i] == b'[' { b']' } else { b'}' };
                self.i += 1;
                if self.eat(close) {
                    return Some(());
                }
                loop {
                    if close == b'}' {
                        self.key()?;
                    }
                    self.skip_value()?;
                    if !self.eat(b',') {
                        return self.expect(close);
                    }
                }
            }
            _ => {
                let start = self.i;
                while self.i < self.b.len()
                    && !matches!(
                        self.b[self.i],
                        b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'
                    )
                {
                    self.i += 1;
                }
                serde_json::from_slice::<serde::de::IgnoredAny>(&self.b[start..self.i])
                    .ok()
                    .map(|_| ())
            }
        }
    }

    /// An array of strings (prefixes never hold brackets): its span, found with one scan for
    /// the closing bracket. Were a string to hold one, the bytes after it would break the
    /// structure, the scan would give up, and the strict loader would report the file.
    fn string_array_span(&mut self) -> Option<(usize, usize)> {
        self.ws();
        let start = self.i;
        if self.b.get(start) != Some(&b'[') {
            return None;
        }
        let end = start + memchr::memchr(b']', &self.b[start..])?;
        self.i = end + 1;
        Some((start, self.i))
    }

    fn tag(&mut self) -> Option<(ServiceTag, (usize, usize))> {
        let mut tag = ServiceTag {
            name: String::new(),
            change_number: 0,
            region: String::new(),
            region_id: 0,
            platform: String::new(),
            system_service: String::new(),
            network_features: None,
            ipv4: Vec::new(),
            ipv6: Vec::new(),
        };
        let mut span = None;
        self.expect(b'{')?;
        loop {
            match self.key()? {
                "name" => tag.name = self.string()?.to_owned(),
                "properties" => {
                    self.expect(b'{')?;
                    loop {
                        match self.key()? {
                            "changeNumber" => tag.change_number = self.number()?,
                            "region" => tag.region = self.string()?.to_owned(),
                            "regionId" => tag.region_id = self.number()?,
                            "platform" => tag.platform = self.string()?.to_owned(),
                            "systemService" => tag.system_service = self.string()?.to_owned(),
                            "addressPrefixes" => span = Some(self.string_array_span()?),
                            "networkFeatures" => {
                                self.ws();
                                if self.b[self.i..].starts_with(b"null") {
                                    self.i += 4;
                                } else {
                                    let mut f = Vec::new();
                                    self.expect(b'[')?;
                                    if !self.eat(b']') {
                                        loop {
                                            f.push(self.string()?.to_owned());
                                            if !self.eat(b',') {
                                                self.expect(b']')?;
                                                break;
                                            }
                                        }
                                    }
                                    tag.network_features = Some(f);
                                }
                            }
                            _ => self.skip_value()?,
                        }
                        if !self.eat(b',') {
                            self.expect(b'}')?;
                            break;
                        }
                    }
                }
                _ => self.skip_value()?,
            }
            if !self.eat(b',') {
                self.expect(b'}')?;
                break;
            }
        }
        if tag.name.trim().is_empty() {
            return None;
        }
        Some((tag, span?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{"changeNumber": 7, "cloud": "Public", "values": [
      {"name": "A.X", "id": "A.X", "properties": {"changeNumber": 2, "region": "x", "regionId": 1,
       "platform": "Azure", "systemService": "A", "addressPrefixes": ["10.0.0.0/8", "2001:db8::/32"],
       "networkFeatures": ["API", "UDR"]}},
      {"name": "B", "id": "B", "properties": {"changeNumber": "3", "region": "", "addressPrefixes": [],
       "networkFeatures": null, "state": {"nested": [1, "x\"]"]}}}]}"#;

    #[test]
    fn scans_headers_and_fills_on_demand() {
        let mut p = scan("f", FILE.as_bytes()).unwrap();
        assert_eq!(p.snapshot().tags.len(), 2);
        assert!(p.snapshot().tags[0].ipv4.is_empty());
        p.fill(&[0]).unwrap();
        let full = crate::snapshot::parse("f", FILE.as_bytes()).unwrap();
        let s = p.into_snapshot();
        assert_eq!(s.tags[0].ipv4, full.tags[0].ipv4);
        assert_eq!(s.tags[0].ipv6, full.tags[0].ipv6);
        assert_eq!(
            (s.tags[1].change_number, s.tags[0].supports_udr()),
            (3, true)
        );
        assert_eq!((s.cloud, s.change_number), (full.cloud, full.change_number));
    }

    #[test]
    fn gives_up_on_what_it_does_not_expect() {
        assert!(scan("f", b"[]").is_none());
        assert!(
            scan("f", br#"{"changeNumber": 1, "cloud": "Public"}"#).is_none(),
            "no values"
        );
        assert!(
            scan(
                "f",
                FILE.replace("\"A.X\", \"id\"", "\"A\\u002eX\", \"id\"")
                    .as_bytes()
            )
            .is_none()
        );
        assert!(
            scan(
                "f",
                FILE.replace("\"B\", \"id\"", "\"a.x\", \"id\"").as_bytes()
            )
            .is_none(),
            "duplicate"
        );
        let odd = FILE.replace("\"10.0.0.0/8\"", "10");
        let mut p = scan("f", odd.as_bytes()).expect("prefix arrays are parsed only when used");
        assert!(
            p.fill(&[0])
                .unwrap_err()
                .to_string()
                .starts_with("f: tag 'A.X': properties.addressPrefixes: invalid type")
        );
        assert!(scan("f", format!("{FILE} x").as_bytes()).is_none());
        let text = FILE.replace("10.0.0.0/8", "10.0.0.1/8");
        let mut bad = scan("f", text.as_bytes()).unwrap();
        let err = bad.fill(&[0]).unwrap_err().to_string();
        assert_eq!(
            err,
            "f: tag 'A.X': properties.addressPrefixes[0]: '10.0.0.1/8' has host bits set past /8 (the network is 10.0.0.0/8)"
        );
    }
}
