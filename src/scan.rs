//! A fast, partial reader of service-tag files for commands that use a few tags.
//!
//! `plan` needs every tag's name and region (to resolve the region and match globs) but the rest
//! of only a handful. This scanner walks the JSON once, borrowing strings from the input, and
//! keeps for each tag its name, its region and where it starts, skipping its `addressPrefixes`
//! array without parsing it; choosing runs on that ([`Headers`] is a [`Catalog`]). Then the tags
//! chosen are read again in full, their prefixes parsed and validated. Anything it does not
//! expect — an escape in a key or header string, a field of another type, a structural
//! surprise — makes it give up, and the caller falls back to the strict full loader in
//! [`crate::snapshot`], whose errors name the file, tag and field. What it skips it does not
//! validate: a bad prefix or feature list (or a byte that is not UTF-8) in a tag that is never
//! read in full goes unnoticed here; `fetch` validates whole files before storing them.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::hash_table::{Entry, HashTable};
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::bytes16;
use crate::prefix::IpPrefix;
use crate::select::{Catalog, TagHeader};
use crate::snapshot::{Cloud, LoadError, ServiceTag, Snapshot, share};

/// A file read as far as choosing tags needs: every tag's name and region, borrowed from its
/// bytes. [`Headers::snapshot_of`] then reads in full only the tags a plan uses.
pub struct Headers<'a> {
    bytes: &'a [u8],
    source: String,
    cloud: Cloud,
    change_number: u64,
    heads: Vec<Head<'a>>,
}

/// A tag as choosing sees it, borrowed from the file, and where it starts there. At 40 bytes a
/// tag the public file's list takes 30 fresh pages, where building all its 3000 tags took about
/// 140 (152-byte tags and their names); a fresh page costs about 2 µs on a virtual machine, and
/// `plan --region eastus` went from 375 page faults to 267.
pub struct Head<'a> {
    name: &'a str,
    region: &'a str,
    /// Offset of the tag in the file (32 bits: `scan` takes files under 4 GiB).
    start: u32,
}

impl TagHeader for Head<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn region(&self) -> &str {
        self.region
    }
}

impl<'a> Catalog for Headers<'a> {
    type Tag = Head<'a>;

    fn tags(&self) -> &[Head<'a>] {
        &self.heads
    }

    fn source(&self) -> &str {
        &self.source
    }

    fn cloud(&self) -> Cloud {
        self.cloud
    }
}

impl Headers<'_> {
    /// A snapshot of the tags at these indices (ascending, without repeats), in that order, read
    /// in full with their prefixes parsed and validated. `Ok(None)` when one of them holds what
    /// this scanner does not take (a header string that is not UTF-8, a feature list that is not
    /// one of strings): read the file with the strict loader then.
    pub fn snapshot_of(&self, indices: &[usize]) -> Result<Option<Snapshot>, LoadError> {
        let mut s = Scanner::new(self.bytes, 0);
        let mut tags = Tags::with_capacity(indices.len());
        for &i in indices {
            s.i = self.heads[i].start as usize;
            // The tag reads as the scan read it (the same bytes, the same steps); building it
            // checks the rest of its header.
            let Some(()) = s.tag().and_then(|h| tags.push(h)) else {
                return Ok(None);
            };
        }
        let Tags {
            mut list, spans, ..
        } = tags;
        for (tag, &(start, end)) in list.iter_mut().zip(&spans) {
            self.parse_prefixes(tag, &self.bytes[start..end])?;
        }
        Ok(Some(Snapshot {
            source: self.source.clone(),
            cloud: self.cloud,
            change_number: self.change_number,
            tags: list,
            next_link: None,
        }))
    }

    /// Parses and validates a tag's `addressPrefixes` array.
    fn parse_prefixes(&self, tag: &mut ServiceTag, array: &[u8]) -> Result<(), LoadError> {
        let invalid = |tag: &ServiceTag, field: String, msg: String| LoadError::Invalid {
            source_name: self.source.clone(),
            tag: tag.name.clone(),
            field,
            msg,
        };
        let strings: Vec<&str> = serde_json::from_slice(array)
            .map_err(|e| invalid(tag, "properties.addressPrefixes".into(), e.to_string()))?;
        for (j, text) in strings.iter().enumerate() {
            match IpPrefix::parse(text) {
                Ok(IpPrefix::V4(p)) => tag.ipv4.push(p),
                Ok(IpPrefix::V6(p)) => tag.ipv6.push(p),
                Err(e) => {
                    let field = format!("properties.addressPrefixes[{j}]");
                    return Err(invalid(tag, field, e.to_string()));
                }
            }
        }
        Ok(())
    }
}

/// Scans a file; `None` when it is not in the plain shape this scanner handles (use the full
/// loader then: it also produces the precise error for a broken file).
pub fn scan<'a>(source_name: &str, bytes: &'a [u8]) -> Option<Headers<'a>> {
    u32::try_from(bytes.len()).ok()?; // tags' offsets are 32 bits
    let mut s = Scanner::new(bytes, 0);
    let mut heads = Vec::with_capacity(tags_in(bytes.len()));
    let (mut cloud, mut change_number) = (None, None);
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
                    s.values(&mut heads)?;
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
    if has_duplicates(heads.len(), |i| heads[i].name.as_bytes()) {
        return None; // the full loader names them
    }
    Some(Headers {
        bytes,
        source: source_name.to_owned(),
        cloud: cloud?,
        change_number: change_number?,
        heads,
    })
}

/// About how many tags `len` bytes of a file hold: a tag takes about 1300 bytes of a real file
/// (1000 to 1800 across the clouds), so lists sized by this take one or two allocations without
/// reserving far more than they need.
fn tags_in(len: usize) -> usize {
    len / 1024
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
    /// The layout of the last tag read in full, followed by the next tags.
    layout: Layout<'a>,
}

/// How a tag is laid out: the bytes before each of its values (whitespace, braces, commas,
/// keys and colons) and what the value is, then the bytes after the last. Every tag of a real
/// file is laid out alike, so the next tag is read by checking that the bytes between its values
/// are the same and reading only the values: one comparison stands for the whitespace, the
/// punctuation, the key and the choice of what to do with the value. Following a layout is
/// exact: reading a tag in full decides where it is (which object, which key, where a value
/// starts) only on those bytes, and reads each value with the same function, so on equal bytes
/// it would take the same steps. A tag that differs anywhere is read in full instead, and its
/// layout is kept for the next.
#[derive(Default)]
struct Layout<'a> {
    values: Vec<(&'a [u8], Field)>,
    end: &'a [u8],
}

/// What a value of a tag is read as.
#[derive(Clone, Copy)]
enum Field {
    Name,
    ChangeNumber,
    Region,
    RegionId,
    Platform,
    SystemService,
    AddressPrefixes,
    NetworkFeatures,
    /// A key the scanner does not use (`id`, or one a later file adds): skipped.
    Other,
}

/// A tag's fields as they stand in the file, borrowed, for [`Tags::push`] to build the tag from:
/// reading the file and building tags stay apart.
#[derive(Default)]
struct Header<'a> {
    name: Option<&'a str>,
    change_number: u64,
    region: Option<&'a [u8]>,
    region_id: u64,
    platform: Option<&'a [u8]>,
    system_service: Option<&'a [u8]>,
    /// The JSON array; `None` when `null` or left out.
    network_features: Option<&'a [u8]>,
    span: Option<(usize, usize)>,
}

impl<'a> Header<'a> {
    /// The name, unless blank (or left out).
    fn usable_name(&self) -> Option<&'a str> {
        // A name that starts with a visible ASCII character is not blank; others are trimmed.
        self.name.filter(|n| {
            n.as_bytes().first().is_some_and(u8::is_ascii_graphic) || !n.trim().is_empty()
        })
    }

    /// What choosing needs of the tag that starts at `start`; `None` when its name is blank, its
    /// region is not UTF-8 or it has no prefix array (the strict loader reports those).
    fn head(&self, start: usize) -> Option<Head<'a>> {
        self.span?;
        Some(Head {
            name: self.usable_name()?,
            region: match self.region {
                Some(raw) => text(raw)?,
                None => "",
            },
            // In range: `scan` takes only files shorter than 4 GiB.
            start: start as u32,
        })
    }
}

/// The tags built so far, and the byte spans of their prefix arrays.
struct Tags<'a> {
    list: Vec<ServiceTag>,
    spans: Vec<(usize, usize)>,
    shared: Shared<'a>,
}

impl<'a> Tags<'a> {
    fn with_capacity(n: usize) -> Self {
        Tags {
            list: Vec::with_capacity(n),
            spans: Vec::with_capacity(n),
            shared: Shared::default(),
        }
    }

    /// Builds a tag from its header; `None` when a field is not what this scanner takes (a
    /// blank name, a string that is not UTF-8, a feature list that is not one of strings).
    fn push(&mut self, h: Header<'a>) -> Option<()> {
        let name = h.usable_name()?;
        let (start, end) = h.span?;
        let shared = &mut self.shared;
        let network_features = match h.network_features {
            Some(raw) => Some(shared.features(raw)?),
            None => None,
        };
        self.list.push(ServiceTag {
            name: name.to_owned(),
            change_number: h.change_number,
            region: shared.string(Recent::Region, h.region)?,
            region_id: h.region_id,
            platform: shared.string(Recent::Platform, h.platform)?,
            system_service: shared.string(Recent::Service, h.system_service)?,
            network_features,
            ipv4: Vec::new(),
            ipv6: Vec::new(),
        });
        self.spans.push((start, end));
        Some(())
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
    /// The last value of each shared string field, by [`Recent`].
    recent: [Option<(&'a [u8], Arc<str>)>; 3],
    /// The last feature list.
    recent_features: Option<(&'a [u8], Arc<[String]>)>,
}

impl<'a> Shared<'a> {
    /// A string shared with the other tags that have the same one (the empty string for a
    /// field left out): the value this field had in the tag before when it repeats (a service's
    /// tags follow one another in the files, with the same platform and service), else from
    /// the table.
    fn string(&mut self, field: Recent, raw: Option<&'a [u8]>) -> Option<Arc<str>> {
        let Some(raw) = raw else {
            return Some(self.empty.clone());
        };
        recently_shared(
            &mut self.recent[field as usize],
            &mut self.strings,
            raw,
            || Some(text(raw)?.into()),
        )
    }

    /// A feature list shared like the strings, parsed only the first time its bytes are seen.
    fn features(&mut self, raw: &'a [u8]) -> Option<Arc<[String]>> {
        recently_shared(&mut self.recent_features, &mut self.features, raw, || {
            Some(serde_json::from_slice::<Vec<String>>(raw).ok()?.into())
        })
    }
}

/// The shared value for the bytes `raw`: the one in `recent` when they repeat those kept there,
/// else the table's (made by `make` the first time), which `recent` then keeps.
fn recently_shared<'a, V: Clone>(
    recent: &mut Option<(&'a [u8], V)>,
    table: &mut FxHashMap<&'a [u8], V>,
    raw: &'a [u8],
    make: impl FnOnce() -> Option<V>,
) -> Option<V> {
    if let Some((bytes, value)) = recent
        && *bytes == raw
    {
        return Some(value.clone());
    }
    let value = share(table, raw, || Some((raw, make()?)))?;
    *recent = Some((raw, value.clone()));
    Some(value)
}

/// The header fields whose strings are shared, as indices of [`Shared::recent`].
#[derive(Clone, Copy)]
enum Recent {
    Region,
    Platform,
    Service,
}

/// How deeply the values the scanner skips may nest: each level is a recursive call, and a value
/// nested a million deep overflowed the stack. Deeper files go to the strict loader.
const MAX_DEPTH: usize = 128;

impl<'a> Scanner<'a> {
    fn new(b: &'a [u8], i: usize) -> Self {
        Scanner {
            b,
            i,
            layout: Layout::default(),
        }
    }

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
        text(self.raw_string()?)
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
        self.skip_nested(0)
    }

    /// Skips a value inside `depth` containers; gives up past [`MAX_DEPTH`].
    fn skip_nested(&mut self, depth: usize) -> Option<()> {
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
                if depth == MAX_DEPTH {
                    return None;
                }
                let close = if self.b[self.i] == b'[' { b']' } else { b'}' };
                self.i += 1;
                if self.eat(close) {
                    return Some(());
                }
                loop {
                    if close == b'}' {
                        self.key()?;
                    }
                    self.skip_nested(depth + 1)?;
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

    /// The tags of the `values` array, from its first through its closing bracket.
    fn values(&mut self, heads: &mut Vec<Head<'a>>) -> Option<()> {
        loop {
            let start = self.i;
            heads.push(self.tag()?.head(start)?);
            if !self.eat(b',') {
                return self.expect(b']');
            }
        }
    }

    /// Reads a value as `field` into the header.
    #[inline]
    fn value(&mut self, field: Field, h: &mut Header<'a>) -> Option<()> {
        match field {
            Field::Name => h.name = Some(self.string()?),
            Field::ChangeNumber => h.change_number = self.number()?,
            Field::Region => h.region = Some(self.raw_string()?),
            Field::RegionId => h.region_id = self.number()?,
            Field::Platform => h.platform = Some(self.raw_string()?),
            Field::SystemService => h.system_service = Some(self.raw_string()?),
            Field::AddressPrefixes => h.span = Some(self.string_array_span()?),
            Field::NetworkFeatures => {
                h.network_features = if self.null() {
                    None
                } else {
                    let (start, end) = self.string_array_span()?;
                    Some(&self.b[start..end])
                }
            }
            Field::Other => self.skip_value()?,
        }
        Some(())
    }

    /// Takes these bytes if they come next.
    #[inline]
    fn bytes(&mut self, expected: &[u8]) -> Option<()> {
        let found = self.b[self.i..].starts_with(expected);
        if found {
            self.i += expected.len();
        }
        found.then_some(())
    }

    /// Reads a tag laid out as `layout`; `None` where it is laid out otherwise.
    fn follow(&mut self, layout: &Layout<'a>) -> Option<Header<'a>> {
        if layout.values.is_empty() {
            return None; // no tag read yet
        }
        let mut h = Header::default();
        for &(before, field) in &layout.values {
            self.bytes(before)?;
            self.value(field, &mut h)?;
        }
        self.bytes(layout.end)?;
        Some(h)
    }

    /// Reads a tag in full, keeping its layout.
    #[inline(never)]
    fn read_tag(&mut self) -> Option<Header<'a>> {
        self.layout.values.clear();
        let mut h = Header::default();
        let mut mark = self.i;
        self.read_object(false, &mut h, &mut mark)?;
        self.layout.end = &self.b[mark..self.i];
        Some(h)
    }

    /// Reads the tag object (or, with `properties`, the object of that name in it) value by
    /// value, keeping in the layout the bytes from `mark` (where the last value ended) to each.
    fn read_object(
        &mut self,
        properties: bool,
        h: &mut Header<'a>,
        mark: &mut usize,
    ) -> Option<()> {
        self.expect(b'{')?;
        loop {
            let field = match (properties, self.key()?) {
                (false, b"name") => Field::Name,
                (false, b"properties") => {
                    self.read_object(true, h, mark)?;
                    if !self.eat(b',') {
                        return self.expect(b'}');
                    }
                    continue;
                }
                (true, b"changeNumber") => Field::ChangeNumber,
                (true, b"region") => Field::Region,
                (true, b"regionId") => Field::RegionId,
                (true, b"platform") => Field::Platform,
                (true, b"systemService") => Field::SystemService,
                (true, b"addressPrefixes") => Field::AddressPrefixes,
                (true, b"networkFeatures") => Field::NetworkFeatures,
                _ => Field::Other,
            };
            self.ws();
            self.layout.values.push((&self.b[*mark..self.i], field));
            self.value(field, h)?;
            *mark = self.i;
            if !self.eat(b',') {
                return self.expect(b'}');
            }
        }
    }

    /// The next tag's header: following the layout of the tag before, or read in full.
    fn tag(&mut self) -> Option<Header<'a>> {
        let start = self.i;
        let layout = std::mem::take(&mut self.layout);
        let followed = self.follow(&layout);
        self.layout = layout;
        followed.or_else(|| {
            self.i = start;
            self.read_tag()
        })
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

/// The bytes as text, if UTF-8. Header strings are short and ASCII: the general check took 115
/// instructions a string (its setup for long inputs), this one takes a fraction of that.
fn text(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes).ok()
    }
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
            let mut s = Scanner::new(&bytes, start);
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
    fn scans_headers_then_reads_the_tags_asked_for() {
        let h = scan("f", FILE.as_bytes()).unwrap();
        let heads: Vec<_> = h.tags().iter().map(|t| (t.name(), t.region())).collect();
        assert_eq!(heads, [("A.X", "x"), ("B", "")]);
        let full = crate::snapshot::parse("f", FILE.as_bytes()).unwrap();
        let one = h.snapshot_of(&[1]).unwrap().unwrap();
        assert_eq!(one.tags.len(), 1);
        let b = &one.tags[0];
        assert_eq!((b.name.as_str(), b.change_number), ("B", 3));
        assert!(b.network_features.is_none() && b.ipv4.is_empty());
        let s = h.snapshot_of(&[0, 1]).unwrap().unwrap();
        assert_eq!(s.tags[0].ipv4, full.tags[0].ipv4);
        assert_eq!(s.tags[0].ipv6, full.tags[0].ipv6);
        assert!(s.tags[0].supports_udr() && !s.tags[0].ipv6.is_empty());
        assert_eq!((s.cloud, s.change_number), (full.cloud, full.change_number));
        assert!(h.snapshot_of(&[]).unwrap().unwrap().tags.is_empty());
    }

    /// Header values that choosing does not read are checked only in the tags read in full:
    /// there a value the scanner does not take sends the file to the strict loader.
    #[test]
    fn checks_the_rest_of_a_header_when_it_reads_the_tag() {
        let odd = [
            FILE.replace("\"networkFeatures\": null", "\"networkFeatures\": [1]"),
            FILE.replace(
                "\"region\": \"\"",
                "\"region\": \"\", \"platform\": \"\u{fffd}\"",
            ),
        ];
        for text in odd {
            assert_ne!(text, FILE);
            let mut bytes = text.into_bytes();
            if let Some(at) = bytes.windows(3).position(|w| w == "\u{fffd}".as_bytes()) {
                bytes.splice(at..at + 3, [0xff]); // a byte that is not UTF-8
            }
            let h = scan("f", &bytes).expect("tag B is not read in full");
            assert!(h.snapshot_of(&[0]).unwrap().is_some());
            assert!(h.snapshot_of(&[0, 1]).unwrap().is_none());
        }
        let mut bytes = FILE.as_bytes().to_vec();
        let at = FILE.find("\"x\", \"regionId\"").unwrap() + 1;
        bytes[at] = 0xff;
        assert!(
            scan("f", &bytes).is_none(),
            "regions are read for every tag"
        );
        let accented = FILE.replace("\"region\": \"x\"", "\"region\": \"x\u{e9}\"");
        let h = scan("f", accented.as_bytes()).expect("UTF-8 beyond ASCII is text");
        assert_eq!(h.tags()[0].region(), "x\u{e9}");
        let s = h.snapshot_of(&[0]).unwrap().unwrap();
        assert_eq!(&*s.tags[0].region, "x\u{e9}");
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
        let p = scan("f", odd.as_bytes()).expect("prefix arrays are parsed only when used");
        assert!(p.snapshot_of(&[1]).is_ok());
        assert!(
            p.snapshot_of(&[0])
                .unwrap_err()
                .to_string()
                .starts_with("f: tag 'A.X': properties.addressPrefixes: invalid type")
        );
        assert!(scan("f", format!("{FILE} x").as_bytes()).is_none());
        // Skipped values nest at most MAX_DEPTH deep; deeper ones would overflow the stack.
        let nested = |depth: usize| {
            let value = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            FILE.replace("\"x\\\"]\"", &value)
        };
        assert!(nested(1).contains("\"state\": {\"nested\": [1, []]}"));
        assert!(scan("f", nested(MAX_DEPTH - 2).as_bytes()).is_some());
        assert!(scan("f", nested(MAX_DEPTH - 1).as_bytes()).is_none());
        let text = FILE.replace("10.0.0.0/8", "10.0.0.1/8");
        let bad = scan("f", text.as_bytes()).unwrap();
        let err = bad.snapshot_of(&[0]).unwrap_err().to_string();
        assert_eq!(
            err,
            "f: tag 'A.X': properties.addressPrefixes[0]: '10.0.0.1/8' has host bits set past /8 (the network is 10.0.0.0/8)"
        );
    }
}
