//! A fast, partial reader of service-tag files for commands that use a few tags.
//!
//! `plan` needs every tag's name and region (to resolve the region and match globs) but the
//! prefixes of only a handful. This scanner walks the JSON once, borrowing strings from the
//! input, records each tag's header and the byte span of its `addressPrefixes` array without
//! parsing it, and parses (and validates) the spans of just the tags asked for. Anything it does
//! not expect — an escape in a key, a field of another type, a structural surprise — makes it give
//! up, and the caller falls back to the strict full loader in [`crate::snapshot`], whose errors
//! name the file, tag and field. What it skips it does not validate: a bad prefix (or a byte that
//! is not UTF-8) in a tag that is never used goes unnoticed here; `fetch` validates whole files
//! before storing them.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::hash_table::{Entry, HashTable};
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::bytes16;
use crate::prefix::IpPrefix;
use crate::snapshot::{Cloud, LoadError, ServiceTag, Snapshot, share};

/// A file whose tags' prefixes are parsed on demand.
pub struct Partial<'a> {
    bytes: &'a [u8],
    snapshot: Snapshot,
    /// Byte span of each tag's `addressPrefixes` array, as 32-bit offsets: at 8 bytes a tag
    /// against 24 for `usize`s and a flag, the list takes 6 fresh pages instead of 18 (each
    /// 2 µs on a virtual machine; `plan` touches about 320 in all).
    spans: Vec<(u32, u32)>,
    /// Whether each tag's prefixes were parsed.
    filled: Vec<bool>,
}

impl<'a> Partial<'a> {
    /// The snapshot, with the prefixes of the tags filled so far (others empty).
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Parses and validates the prefixes of these tags.
    pub fn fill(&mut self, tags: &[usize]) -> Result<(), LoadError> {
        for &i in tags {
            if self.filled[i] {
                continue;
            }
            let (start, end) = (self.spans[i].0 as usize, self.spans[i].1 as usize);
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
            self.filled[i] = true;
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
    u32::try_from(bytes.len()).ok()?; // spans are 32-bit offsets
    let mut s = Scanner {
        b: bytes,
        i: 0,
        shared: Shared::default(),
        seps: [None; SLOTS],
    };
    // A tag takes about 1300 bytes of a real file (1000 to 1800 across the clouds): one or two
    // allocations for the list, without reserving far more than it needs.
    let guess = bytes.len() / 1024;
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
                        spans.push(span);
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
    if has_duplicates(tags.len(), |i| tags[i].name.as_bytes()) {
        return None; // the full loader names them
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
        filled: vec![false; spans.len()],
        snapshot,
        spans,
    })
}

/// True when two of the `n` names `name(i)` are equal but for ASCII case. The table holds 32-bit
/// indices (`n` is below 2^32: `scan` takes files under 4 GiB): 5 fresh pages for the 3000 names
/// of a public file, against 17 for a set of slices.
fn has_duplicates<'n>(n: usize, name: impl Fn(usize) -> &'n [u8]) -> bool {
    let hash = |i: usize| FxBuildHasher.hash_one(Caseless(name(i)));
    let mut seen = HashTable::<u32>::with_capacity(n);
    (0..n).any(|i| {
        let same = |&j: &u32| Caseless(name(j as usize)) == Caseless(name(i));
        match seen.entry(hash(i), same, |&j| hash(j as usize)) {
            Entry::Occupied(_) => true,
            Entry::Vacant(slot) => {
                slot.insert(i as u32);
                false
            }
        }
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
        // An ASCII letter and its capital differ only in bit 5: with that bit set in every
        // byte, names that differ only in case hash alike, eight bytes at a time. (Some other
        // pairs do too, such as `@` and `` ` ``; equality decides those.)
        const CASE: u64 = u64::from_ne_bytes([0x20; 8]);
        let mut words = self.0.chunks_exact(8);
        for word in &mut words {
            state.write_u64(u64::from_ne_bytes(word.try_into().expect("eight bytes")) | CASE);
        }
        let mut tail = [0u8; 8];
        tail[..words.remainder().len()].copy_from_slice(words.remainder());
        state.write_u64(u64::from_ne_bytes(tail) | CASE);
        state.write_usize(self.0.len());
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    shared: Shared<'a>,
    /// What led to each key of a tag's header last time, by [`Slot`].
    seps: [Option<Separator<'a>>; SLOTS],
}

/// The bytes from the end of an object's value (or from before its opening brace) through the
/// colon after the next key (whitespace, comma or brace, whitespace, quoted key, whitespace,
/// colon), and that key. Every tag of a file is laid out alike, so the next tag's same position
/// usually holds the same bytes: one comparison then stands for skipping the whitespace, the
/// comma or brace, the key's string and the colon. Replaying is exact: the general path decides
/// only on these bytes (the colon ends them), so on equal bytes it would consume the same and
/// return the same key.
#[derive(Clone, Copy)]
struct Separator<'a> {
    bytes: &'a [u8],
    key: &'a [u8],
}

/// A position in a tag: before the tag's first key (0) or after its n-th value (n), in the tag
/// object or in its `properties`.
#[derive(Clone, Copy)]
enum Slot {
    Tag(usize),
    Properties(usize),
}

/// Positions remembered per object; keys past them take the general path.
const SLOTS_PER_OBJECT: usize = 12;
const SLOTS: usize = 2 * SLOTS_PER_OBJECT;

impl Slot {
    fn index(self) -> Option<usize> {
        let (base, n) = match self {
            Slot::Tag(n) => (0, n),
            Slot::Properties(n) => (SLOTS_PER_OBJECT, n),
        };
        (n < SLOTS_PER_OBJECT).then_some(base + n)
    }
}

/// One copy of each distinct header value, handed to every tag that has it (see
/// [`ServiceTag`]): a hash lookup on borrowed bytes instead of an allocation per field per tag.
#[derive(Default)]
struct Shared<'a> {
    /// Strings by their bytes, checked to be UTF-8 the first time they are seen.
    strings: FxHashMap<&'a [u8], Arc<str>>,
    /// Feature lists by the bytes of their JSON array.
    features: FxHashMap<&'a [u8], Arc<[String]>>,
    /// The value of a field a tag leaves out.
    empty: Arc<str>,
    /// The last value of each shared string field, by [`Field`].
    recent: [Option<(&'a [u8], Arc<str>)>; 3],
}

/// The header fields whose strings are shared.
#[derive(Clone, Copy)]
enum Field {
    Region,
    Platform,
    Service,
}

impl<'a> Scanner<'a> {
    /// Skips whitespace: none or a lone space (after a colon) inline, longer runs (a line break
    /// and the indentation of pretty-printed files) sixteen bytes at a time.
    #[inline(always)]
    fn ws(&mut self) {
        match self.b.get(self.i) {
            Some(&c) if c > b' ' => {}
            Some(&b' ') if self.b.get(self.i + 1).is_some_and(|&c| c > b' ') => self.i += 1,
            Some(_) => self.ws_run(),
            None => {}
        }
    }

    #[inline(never)]
    fn ws_run(&mut self) {
        self.i += bytes16::run(&self.b[self.i..], WHITESPACE, true);
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

    /// The raw bytes of a string without escapes, borrowed. Header strings are short: the
    /// first sixteen bytes after the quote nearly always hold the closing one, found with one
    /// compare.
    #[inline]
    fn raw_string(&mut self) -> Option<&'a [u8]> {
        self.expect(b'"')?;
        let start = self.i;
        let end = start + bytes16::run(&self.b[start..], QUOTE_OR_BACKSLASH, false);
        if self.b.get(end) != Some(&b'"') {
            return None;
        }
        self.i = end + 1;
        Some(&self.b[start..end])
    }

    /// A string without escapes, borrowed, checked to be UTF-8 (only the strings kept are
    /// checked, not the whole file).
    fn string(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.raw_string()?).ok()
    }

    /// Takes a `null` if one comes next.
    fn null(&mut self) -> bool {
        self.ws();
        let found = self.b[self.i..].starts_with(b"null");
        if found {
            self.i += 4;
        }
        found
    }

    fn string_or_null(&mut self) -> Option<Option<&'a str>> {
        if self.null() {
            return Some(None);
        }
        self.string().map(Some)
    }

    /// An object's first key (`open` is `{`) or the key after one of its values (`open` is
    /// `,`; `None` when the object ends there instead); replayed from the previous tag when the
    /// bytes repeat (see [`Separator`]).
    #[inline]
    fn key_after(&mut self, open: u8, slot: Slot) -> Option<Option<&'a [u8]>> {
        let index = slot.index();
        if let Some(sep) = index.and_then(|k| self.seps[k])
            && self.b[self.i..].starts_with(sep.bytes)
        {
            self.i += sep.bytes.len();
            return Some(Some(sep.key));
        }
        self.read_key_after(open, index)
    }

    /// [`Self::key_after`] read in full, remembered under `index`.
    #[inline(never)]
    fn read_key_after(&mut self, open: u8, index: Option<usize>) -> Option<Option<&'a [u8]>> {
        let start = self.i;
        if !self.eat(open) {
            if open == b'{' {
                return None; // not an object: give up
            }
            self.expect(b'}')?; // no comma: the object ends
            return Some(None);
        }
        let key = self.key()?;
        if let Some(k) = index {
            let bytes = &self.b[start..self.i];
            self.seps[k] = Some(Separator { bytes, key });
        }
        Some(Some(key))
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
                    let j = self.i + bytes16::run(self.b.get(self.i..)?, QUOTE_OR_BACKSLASH, false);
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
        let end = start + find_byte(b']', &self.b[start..])?;
        self.i = end + 1;
        Some((start, self.i))
    }

    /// A string shared with the other tags that have the same one: the value this field had in
    /// the tag before when it repeats (a service's tags follow one another in the files, with
    /// the same platform and service), else from the table.
    fn shared_string(&mut self, field: Field) -> Option<Arc<str>> {
        let raw = self.raw_string()?;
        let recent = &mut self.shared.recent[field as usize];
        if let Some((bytes, value)) = recent
            && *bytes == raw
        {
            return Some(value.clone());
        }
        let value = share(&mut self.shared.strings, raw, || {
            Some((raw, std::str::from_utf8(raw).ok()?.into()))
        })?;
        *recent = Some((raw, value.clone()));
        Some(value)
    }

    /// `networkFeatures`: `null` or an array of strings, shared like the other header values
    /// (found like `addressPrefixes`, parsed only the first time its bytes are seen).
    fn features(&mut self) -> Option<Option<Arc<[String]>>> {
        if self.null() {
            return Some(None);
        }
        let (start, end) = self.string_array_span()?;
        let raw = &self.b[start..end];
        share(&mut self.shared.features, raw, || {
            Some((raw, serde_json::from_slice::<Vec<String>>(raw).ok()?.into()))
        })
        .map(Some)
    }

    fn tag(&mut self) -> Option<(ServiceTag, (u32, u32))> {
        // Read into locals and build the tag once: no placeholder values to replace (each an
        // atomic count up and down on the shared empty string).
        let (mut name, mut change_number, mut region_id) = (None, 0, 0);
        let (mut region, mut platform, mut system_service) = (None, None, None);
        let (mut network_features, mut span) = (None, None);
        let (mut key, mut n) = (self.key_after(b'{', Slot::Tag(0))?, 1);
        while let Some(k) = key {
            match k {
                b"name" => name = Some(self.string()?),
                b"properties" => {
                    let (mut key, mut n) = (self.key_after(b'{', Slot::Properties(0))?, 1);
                    while let Some(k) = key {
                        match k {
                            b"changeNumber" => change_number = self.number()?,
                            b"region" => region = Some(self.shared_string(Field::Region)?),
                            b"regionId" => region_id = self.number()?,
                            b"platform" => platform = Some(self.shared_string(Field::Platform)?),
                            b"systemService" => {
                                system_service = Some(self.shared_string(Field::Service)?)
                            }
                            b"addressPrefixes" => span = Some(self.string_array_span()?),
                            b"networkFeatures" => network_features = self.features()?,
                            _ => self.skip_value()?,
                        }
                        key = self.key_after(b',', Slot::Properties(n))?;
                        n += 1;
                    }
                }
                _ => self.skip_value()?,
            }
            key = self.key_after(b',', Slot::Tag(n))?;
            n += 1;
        }
        let name = name.filter(|n| !n.trim().is_empty())?;
        let empty = || self.shared.empty.clone();
        let tag = ServiceTag {
            name: name.to_owned(),
            change_number,
            region: region.unwrap_or_else(empty),
            region_id,
            platform: platform.unwrap_or_else(empty),
            system_service: system_service.unwrap_or_else(empty),
            network_features,
            ipv4: Vec::new(),
            ipv6: Vec::new(),
        };
        let (start, end) = span?;
        // In range: `scan` takes only files shorter than 4 GiB.
        Some((tag, (start as u32, end as u32)))
    }
}

/// The first `needle` in `haystack`. On x86_64 memchr's SSE2 searcher, which SSE2 being part of
/// the baseline needs no runtime CPU detection: the detection that `memchr::memchr` runs on first
/// use executes CPUID about eight times, and in a virtual machine each one traps to the hypervisor
/// (5 µs apiece measured here), more than the search itself saves with AVX2 on these files.
fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(searcher) = memchr::arch::x86_64::sse2::memchr::One::new(needle) {
        return searcher.find(haystack);
    }
    memchr::memchr(needle, haystack)
}

/// JSON's whitespace.
const WHITESPACE: &[u8] = b" \n\r\t";
/// What ends a string without escapes, or begins an escape.
const QUOTE_OR_BACKSLASH: &[u8] = b"\"\\";

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
    fn sixteen_byte_runs_match_a_byte_loop() {
        let alphabet = [b' ', b'\n', b'"', b'\\', b'a', 0, 0x80, 0xff, b'\t', 0x0b];
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..50_000 {
            let len = rng.usize(0..50);
            let s: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.usize(0..alphabet.len())])
                .collect();
            for (set, inside) in [(QUOTE_OR_BACKSLASH, false), (WHITESPACE, true)] {
                let want = s.iter().take_while(|c| set.contains(c) == inside).count();
                assert_eq!(bytes16::run(&s, set, inside), want, "{s:?}");
            }
        }
    }

    /// The whitespace skip (lone space, sixteen-byte blocks, byte tail) stops exactly where a
    /// byte loop stops, also at control characters that are not JSON whitespace.
    #[test]
    fn whitespace_skip_matches_a_byte_loop() {
        let alphabet = [
            b' ', b' ', b' ', b'\n', b'\r', b'\t', 0x0b, 0x0c, 0, 0x1f, b'"', 0x80,
        ];
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..50_000 {
            let len = rng.usize(0..40);
            let mut bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.usize(0..alphabet.len())])
                .collect();
            // Long runs of whitespace too, which random bytes seldom make.
            if rng.bool() {
                let run = rng.usize(0..len.max(1));
                for b in bytes.iter_mut().take(run) {
                    *b = alphabet[rng.usize(0..6)];
                }
            }
            let start = rng.usize(0..=len);
            let want = start
                + bytes[start..]
                    .iter()
                    .take_while(|c| matches!(c, b' ' | b'\n' | b'\r' | b'\t'))
                    .count();
            let mut s = Scanner {
                b: &bytes,
                i: start,
                shared: Shared::default(),
                seps: [None; SLOTS],
            };
            s.ws();
            assert_eq!(s.i, want, "{bytes:?} from {start}");
        }
    }

    /// Names that differ only in ASCII case hash alike at every length (whole words and the
    /// tail), so the duplicate check finds them; names that differ otherwise are told apart.
    #[test]
    fn caseless_names_hash_alike_at_every_length() {
        let hash = |s: &[u8]| FxBuildHasher.hash_one(Caseless(s));
        let mut rng = fastrand::Rng::with_seed(3);
        for len in 0..40 {
            let name: Vec<u8> = (0..len).map(|_| rng.alphanumeric() as u8).collect();
            let flipped: Vec<u8> = name
                .iter()
                .map(|c| {
                    if rng.bool() {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect();
            assert_eq!(hash(&name), hash(&flipped), "{name:?}");
            assert!(Caseless(&name) == Caseless(&flipped));
            let pair = [&name, &flipped];
            assert!(has_duplicates(2, |i| pair[i]));
            if len > 0 {
                let mut other = name.clone();
                other[rng.usize(0..len)] = b'.';
                assert!(Caseless(&other) != Caseless(&name));
                let pair = [&name, &other];
                assert!(!has_duplicates(2, |i| pair[i]));
            }
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
