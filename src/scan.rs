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
    // One UTF-8 check for the whole file (tens of microseconds) instead of one per string.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut s = Scanner {
        text,
        b: bytes,
        i: 0,
    };
    // A tag takes well over 512 bytes of a real file: one allocation for the list.
    let guess = bytes.len() / 512;
    let (mut cloud, mut change_number) = (None, None);
    let (mut tags, mut spans) = (Vec::with_capacity(guess), Vec::with_capacity(guess));
    let mut values_seen = false;
    s.expect(b'{')?;
    loop {
        let key = s.key()?;
        match key {
            b"cloud" => cloud = Some(Cloud::parse(s.string()?)?),
            b"changeNumber" => change_number = Some(s.number()?),
            b"values" => {
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
            b"nextLink" => {
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
        .all(|t: &ServiceTag| seen.insert(Caseless(t.name.as_bytes())))
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

/// A name compared and hashed without regard to ASCII case, without a lower-cased copy.
struct Caseless<'a>(&'a [u8]);

impl PartialEq for Caseless<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for Caseless<'_> {}

impl std::hash::Hash for Caseless<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut buf = [0u8; 32];
        for chunk in self.0.chunks(buf.len()) {
            let lower = &mut buf[..chunk.len()];
            lower.copy_from_slice(chunk);
            lower.make_ascii_lowercase();
            state.write(lower);
        }
    }
}

struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    /// Skips whitespace; runs of spaces (the indentation of pretty-printed files) eight at a
    /// time.
    #[inline(always)]
    fn ws(&mut self) {
        // Most calls find no whitespace at all (before a `:` or `,`): decide those inline.
        if self.b.get(self.i).is_some_and(|&c| c > b' ') {
            return;
        }
        self.ws_run();
    }

    #[inline(never)]
    fn ws_run(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            match c {
                // A lone space (after a colon) is the common case; indentation goes by words.
                b' ' if self.b.get(self.i + 1) != Some(&b' ') => self.i += 1,
                b' ' => self.i += swar::leading(&self.b[self.i..], swar::not_space),
                b'\n' | b'\r' | b'\t' => self.i += 1,
                _ => return,
            }
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

    /// The raw bytes of a string without escapes, borrowed. Header strings are short, so eight
    /// bytes at a time in a register beats the setup of a vectorised search here.
    #[inline]
    fn raw_string(&mut self) -> Option<&'a [u8]> {
        self.expect(b'"')?;
        let start = self.i;
        let rest = &self.b[start..];
        let len = swar::leading(rest, swar::quote_or_backslash);
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        self.i = start + len + 1;
        Some(&rest[..len])
    }

    /// A string without escapes, borrowed. The file was checked to be UTF-8 once, and a slice
    /// between two quotes always falls on character boundaries.
    fn string(&mut self) -> Option<&'a str> {
        let len = self.raw_string()?.len();
        let end = self.i - 1; // the closing quote
        self.text.get(end - len..end)
    }

    fn string_or_null(&mut self) -> Option<Option<&'a str>> {
        self.ws();
        if self.b[self.i..].starts_with(b"null") {
            self.i += 4;
            return Some(None);
        }
        self.string().map(Some)
    }

    /// An object key, as bytes: keys are only compared with ASCII names.
    fn key(&mut self) -> Option<&'a [u8]> {
        let k = self.raw_string()?;
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
        let mut n: u64 = 0;
        while let Some(d) = self.b.get(self.i).filter(|c| c.is_ascii_digit()) {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            self.i += 1;
        }
        (self.i > start).then_some(n)
    }

    /// Skips any value (strings by memchr, containers by depth).
    fn skip_value(&mut self) -> Option<()> {
        self.ws();
        match *self.b.get(self.i)? {
            b'"' => {
                self.i += 1;
                loop {
                    // `get`: an escape at the very end leaves `i` past the input.
                    let j = self.i + swar::leading(self.b.get(self.i..)?, swar::quote_or_backslash);
                    if *self.b.get(j)? == b'\\' {
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
                b"name" => tag.name = self.string()?.to_owned(),
                b"properties" => {
                    self.expect(b'{')?;
                    loop {
                        match self.key()? {
                            b"changeNumber" => tag.change_number = self.number()?,
                            b"region" => tag.region = self.string()?.to_owned(),
                            b"regionId" => tag.region_id = self.number()?,
                            b"platform" => tag.platform = self.string()?.to_owned(),
                            b"systemService" => tag.system_service = self.string()?.to_owned(),
                            b"addressPrefixes" => span = Some(self.string_array_span()?),
                            b"networkFeatures" => {
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

/// Eight bytes at a time in a `u64` ("SIMD within a register"), for the short runs the scanner
/// crosses: indentation and header strings.
mod swar {
    const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);

    /// `c` in every byte.
    const fn splat(c: u8) -> u64 {
        u64::from_ne_bytes([c; 8])
    }

    /// For [`leading`]: stops at a `"` or a `\\` (the end of a string without escapes).
    pub const fn quote_or_backslash(w: u64) -> u64 {
        zero_bytes(w ^ splat(b'"')) | zero_bytes(w ^ splat(b'\\'))
    }

    /// For [`leading`]: stops at anything but a space.
    pub const fn not_space(w: u64) -> u64 {
        w ^ splat(b' ')
    }

    /// The high bit of each byte of `w` that is zero (exact: no carries cross bytes).
    const fn zero_bytes(w: u64) -> u64 {
        !(((w & LOW7) + LOW7) | w | LOW7)
    }

    /// The high bit of each byte of `w` that is not zero.
    const fn nonzero_bytes(w: u64) -> u64 {
        (((w & LOW7) + LOW7) | w) & HIGH
    }

    /// The length of the prefix of `s` before the first byte that `stops` marks: `stops` maps
    /// eight bytes (little-endian) to a word whose byte is non-zero where the input byte stops
    /// the run. `s.len()` when no byte does.
    #[inline]
    pub fn leading(s: &[u8], stops: impl Fn(u64) -> u64) -> usize {
        let mut chunks = s.chunks_exact(8);
        let mut n = 0;
        for chunk in &mut chunks {
            let m = nonzero_bytes(stops(u64::from_le_bytes(chunk.try_into().unwrap())));
            if m != 0 {
                return n + (m.trailing_zeros() / 8) as usize;
            }
            n += 8;
        }
        let tail = chunks.remainder();
        let mut last = [0u8; 8];
        last[..tail.len()].copy_from_slice(tail);
        let m = nonzero_bytes(stops(u64::from_le_bytes(last)));
        (n + (m.trailing_zeros() / 8) as usize).min(s.len())
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
    fn swar_runs_match_a_byte_loop() {
        let alphabet = [b' ', b'"', b'\\', b'a', 0, 0x80, 0xff, b'!'];
        // Every string of up to 19 bytes over the alphabet is too many; walk a fixed sample.
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..20_000 {
            let len = rng.usize(0..20);
            let s: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.usize(0..alphabet.len())])
                .collect();
            let want = s
                .iter()
                .position(|&c| c == b'"' || c == b'\\')
                .unwrap_or(len);
            assert_eq!(swar::leading(&s, swar::quote_or_backslash), want, "{s:?}");
            let want = s.iter().position(|&c| c != b' ').unwrap_or(len);
            assert_eq!(swar::leading(&s, swar::not_space), want, "{s:?}");
        }
    }

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
        for truncated in [&br#"{"x": "a\"#[..], br#"{"x": "a\\"#, br#"{"x": ["a\"#] {
            assert!(scan("f", truncated).is_none(), "{truncated:?}");
        }
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
