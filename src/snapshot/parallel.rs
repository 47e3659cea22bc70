//! The same reading as [`super::RawFile`]'s, on two threads: the `values` list is cut in two
//! near its middle and each half read on its own.
//!
//! Reading the JSON is half the time of loading a file and serde_json reads on one thread. A
//! cut is only taken at a place the first thread confirms: it reads the list from its start,
//! tag by tag, and uses the second thread's tags only when it arrives exactly where that thread
//! began, which then is the start of a tag (a place inside a string is never the start of one).
//! The top-level object around the list is read here token by token, each value by serde_json.
//!
//! This is a shortcut, never a second opinion: [`read`] answers `None` for anything it does not
//! read exactly as the one-thread reader would (an error of any kind, a missing field, an
//! unusual layout), and the caller then reads the file with that reader, whose verdict and
//! error messages stand. Tags read on their own keep serde_json's nesting limit out of reach
//! ([`super::MAX_UNUSED_DEPTH`]), so where reading starts never changes what is accepted.

use rustc_hash::FxHashSet;
use serde::Deserialize;

use super::{
    Built, Number, PARALLEL_BYTES, Prefixes, RawFile, RawTag, Sharing, Str, Unused, build_tag,
    parse_prefixes,
};

/// Each tag, checked and built by the thread that read it.
type Parsed<'a> = Vec<Built<'a>>;

/// The file's header as [`RawFile`] reads it (its tag list left empty) and its tags built, or
/// `None` to leave the file to that reader.
pub(super) fn read<'a>(source_name: &str, text: &'a str) -> Option<(RawFile<'a>, Parsed<'a>)> {
    if text.len() < PARALLEL_BYTES {
        return None;
    }
    read_cut(source_name, text, likely_tag_start)
}

/// [`read`] with the guess of where to cut the list (given the text and where the first tag
/// starts) made by `cut`.
pub(super) fn read_cut<'a>(
    source_name: &str,
    text: &'a str,
    cut: impl Fn(&str, usize) -> Option<usize>,
) -> Option<(RawFile<'a>, Parsed<'a>)> {
    let b = text.as_bytes();
    let mut at = skip_ws(b, 0);
    if b.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_ws(b, at + 1);
    let mut keys = FxHashSet::default();
    let (mut change_number, mut cloud, mut values, mut next_link) = (None, None, None, None);
    loop {
        let (Str(key), after) = one::<Str>(text, at)?;
        if !keys.insert(key.clone()) {
            return None;
        }
        at = skip_ws(b, after);
        if b.get(at) != Some(&b':') {
            return None;
        }
        at += 1;
        at = match key.as_ref() {
            "changeNumber" => store(&mut change_number, one::<Option<Number>>(text, at)?),
            "cloud" => store(&mut cloud, one::<Option<Str>>(text, at)?),
            "nextLink" => store(&mut next_link, one::<Option<Str>>(text, at)?),
            "values" => store(
                &mut values,
                tag_list(source_name, text, skip_ws(b, at), &cut)?,
            ),
            _ => one::<Unused>(text, at)?.1,
        };
        at = skip_ws(b, at);
        match b.get(at) {
            Some(b',') => at = skip_ws(b, at + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    if skip_ws(b, at + 1) != b.len() {
        return None;
    }
    let file = RawFile {
        change_number: change_number.flatten(),
        cloud: cloud.flatten(),
        values: Vec::new(),
        next_link: next_link.flatten(),
    };
    Some((file, values?))
}

/// Keeps a value read by [`one`] and returns where reading goes on.
fn store<T>(slot: &mut Option<T>, (value, after): (T, usize)) -> usize {
    *slot = Some(value);
    after
}

/// One JSON value at `at` (whitespace before it allowed), and the offset just past it.
fn one<'a, T: Deserialize<'a>>(text: &'a str, at: usize) -> Option<(T, usize)> {
    let mut stream = serde_json::Deserializer::from_str(text.get(at..)?).into_iter::<T>();
    let value = stream.next()?.ok()?;
    Some((value, at + stream.byte_offset()))
}

fn skip_ws(b: &[u8], mut at: usize) -> usize {
    while b
        .get(at)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        at += 1;
    }
    at
}

/// The `values` list that starts at `open` (its `[`), and the offset past its `]`.
fn tag_list<'a>(
    source_name: &str,
    text: &'a str,
    open: usize,
    cut: impl Fn(&str, usize) -> Option<usize>,
) -> Option<(Parsed<'a>, usize)> {
    let b = text.as_bytes();
    if b.get(open) != Some(&b'[') {
        return None;
    }
    let first = skip_ws(b, open + 1);
    if b.get(first) == Some(&b']') {
        return Some((Vec::new(), first + 1));
    }
    let Some(cut) = cut(text, first) else {
        return match tags_from(source_name, text, first, None)? {
            (read, Stop::Closed(after)) => Some((read, after)),
            (_, Stop::Cut) => None,
        };
    };
    std::thread::scope(|s| {
        let second = s.spawn(move || tags_from(source_name, text, cut, None));
        let (mut tags, stop) = tags_from(source_name, text, first, Some(cut))?;
        let second = second
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        match stop {
            Stop::Closed(after) => Some((tags, after)),
            Stop::Cut => match second? {
                (rest, Stop::Closed(after)) => {
                    tags.extend(rest);
                    Some((tags, after))
                }
                (_, Stop::Cut) => None,
            },
        }
    })
}

/// Where [`tags_from`] stopped.
enum Stop {
    /// At the cut, which is then the start of a tag.
    Cut,
    /// Past the list's `]`.
    Closed(usize),
}

/// Tags from `at` (the start of one) to the end of the list, or until the start of a tag is
/// exactly `cut`, each checked and built as it is read.
fn tags_from<'a>(
    source_name: &str,
    text: &'a str,
    mut at: usize,
    cut: Option<usize>,
) -> Option<(Parsed<'a>, Stop)> {
    let b = text.as_bytes();
    let mut tags = Vec::new();
    let (mut scratch, mut sharing) = (Prefixes::default(), Sharing::default());
    loop {
        if Some(at) == cut {
            return Some((tags, Stop::Cut));
        }
        if b.get(at) != Some(&b'{') {
            return None;
        }
        let (tag, after) = one::<RawTag>(text, at)?;
        let prefixes = parse_prefixes(tag.properties.address_prefixes.get(), &mut scratch);
        tags.push(build_tag(source_name, tag, prefixes, &mut sharing));
        at = skip_ws(b, after);
        match b.get(at) {
            Some(b',') => at = skip_ws(b, at + 1),
            Some(b']') => return Some((tags, Stop::Closed(at + 1))),
            _ => return None,
        }
    }
}

/// A place past the middle of the list that looks like the start of a tag: a `{` after `},`
/// and whitespace. Only a guess; [`tag_list`] confirms it.
fn likely_tag_start(text: &str, first: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut from = first + (b.len() - first) / 2;
    for _ in 0..64 {
        let at = from + memchr::memmem::find(&b[from..], b"},")?;
        let start = skip_ws(b, at + 2);
        if b.get(start) == Some(&b'{') {
            return Some(start);
        }
        from = at + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The snapshot as the one-thread reader makes it, and as this one does with the cut at
    /// `cut`, in one comparable text each (`None` when this one leaves the file alone).
    fn both(text: &str, cut: usize) -> (String, Option<String>) {
        let whole = format!(
            "{:?}",
            super::super::parse("f", text.as_bytes()).map(|s| s.tags)
        );
        let split = read_cut("f", text, |_, _| Some(cut)).map(|(raw, parsed)| {
            format!(
                "{:?}",
                super::super::assemble("f", raw, parsed).map(|s| s.tags)
            )
        });
        (whole, split)
    }

    /// A file of many tags from the example, renamed, laid out `layout`.
    fn many_tags(layout: u8) -> String {
        let text = std::fs::read_to_string("data/ServiceTags_Example.json").unwrap();
        let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let tags = doc["values"].as_array().unwrap().clone();
        let many: Vec<serde_json::Value> = (0..60)
            .map(|k| {
                let mut t = tags[k % tags.len()].clone();
                t["name"] = format!("{}.{k}", t["name"].as_str().unwrap()).into();
                t
            })
            .collect();
        doc["values"] = many.into();
        match layout {
            0 => serde_json::to_string_pretty(&doc).unwrap(),
            1 => serde_json::to_string(&doc).unwrap(),
            _ => serde_json::to_string_pretty(&doc)
                .unwrap()
                .replace('\n', "\r\n\t"),
        }
    }

    /// Wherever the cut falls (a tag's start, inside a tag, inside a string, in the
    /// whitespace between tags), this reader answers as the one-thread reader does, or not at
    /// all; and at a tag's start it answers.
    #[test]
    fn any_cut_reads_as_one_thread_does() {
        for layout in 0..3 {
            let text = many_tags(layout);
            let mut answered = 0;
            for cut in (0..text.len()).step_by(61) {
                let (whole, split) = both(&text, cut);
                if let Some(split) = split {
                    assert_eq!(split, whole, "layout {layout}, cut at {cut}");
                    answered += 1;
                }
            }
            let open = text.find('[').unwrap();
            let first_tag = open + text[open..].find('{').unwrap();
            let starts: Vec<usize> = text
                .match_indices("\"name\"")
                .map(|(i, _)| text[..i].rfind('{').unwrap())
                .collect();
            for &start in starts.iter().filter(|&&s| s > first_tag) {
                assert!(
                    both(&text, start).1.is_some(),
                    "layout {layout}: tag start {start}"
                );
            }
            assert!(answered >= starts.len() - 1, "layout {layout}: {answered}");
        }
    }

    /// Every real file reads alike on one thread and on two, cut where `read` cuts.
    #[test]
    fn real_files_read_alike() {
        let Ok(dir) = std::fs::read_dir("../shared/data/servicetags") else {
            return;
        };
        for f in dir
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
        {
            let text = std::fs::read_to_string(&f).unwrap();
            let whole = format!(
                "{:?}",
                super::super::parse("f", text.as_bytes()).map(|s| s.tags)
            );
            let (raw, parsed) =
                read("f", &text).unwrap_or_else(|| panic!("{} read on one thread", f.display()));
            let split = format!(
                "{:?}",
                super::super::assemble("f", raw, parsed).map(|s| s.tags)
            );
            assert_eq!(split, whole, "{}", f.display());
        }
    }

    /// What the one-thread reader refuses, this one leaves to it: duplicate keys at the top,
    /// a trailing comma, text after the object, a tag list that does not close.
    #[test]
    fn leaves_what_it_does_not_read_exactly() {
        let text = many_tags(0);
        let name = text.match_indices("\"name\"").nth(30).unwrap().0;
        let start = text[..name].rfind('{').unwrap();
        for bad in [
            text.replacen("\"cloud\"", "\"cloud\": \"Public\", \"cloud\"", 1),
            text.replacen("]\n}", "],\n}", 1),
            format!("{text} x"),
            text.replacen("]\n}", "\n}", 1),
            text.replacen("\"values\"", "\"values\": [], \"values\"", 1),
        ] {
            assert!(read_cut("f", &bad, |_, _| Some(start)).is_none());
            assert!(super::super::parse("f", bad.as_bytes()).is_err());
        }
    }
}
