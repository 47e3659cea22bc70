//! The fast header scanner that `plan` uses must read every file exactly as the strict loader
//! does: every real snapshot, and the example re-laid out (minified, CRLF, tabs, wide indents).

use std::path::Path;

use tagroute::scan;
use tagroute::select::{Catalog, TagHeader};
use tagroute::snapshot::{self, ServiceTag};

use crate::harness::*;

/// Everything a tag holds, in one comparable line.
fn fields(t: &ServiceTag) -> String {
    format!(
        "{} {} {} {} {} {} {:?} {:?} {:?}",
        t.name,
        t.change_number,
        t.region,
        t.region_id,
        t.platform,
        t.system_service,
        t.network_features,
        t.ipv4,
        t.ipv6
    )
}

/// The scanner's headers (what choosing reads) are the strict loader's names and regions, and
/// the tags it reads in full (all of them, and every third, which it reaches skipping the others)
/// are the strict loader's tags.
fn assert_agrees(name: &str, bytes: &[u8]) {
    let strict = snapshot::parse(name, bytes).expect("the strict loader reads it");
    let headers =
        scan::scan(name, bytes).unwrap_or_else(|| panic!("the scanner gives up on {name}"));
    let heads: Vec<(&str, &str)> = headers
        .tags()
        .iter()
        .map(|t| (t.name(), t.region()))
        .collect();
    let want: Vec<(&str, &str)> = strict.tags.iter().map(|t| (t.name(), t.region())).collect();
    assert_eq!(heads, want, "{name}");
    assert_eq!((headers.cloud(), headers.source()), (strict.cloud, name));
    let n = strict.tags.len();
    for picked in [(0..n).collect::<Vec<_>>(), (1..n).step_by(3).collect()] {
        let built = headers
            .snapshot_of(&picked)
            .unwrap()
            .unwrap_or_else(|| panic!("the scanner gives up reading the tags of {name}"));
        assert_eq!(
            (built.cloud, built.change_number),
            (strict.cloud, strict.change_number)
        );
        let got: Vec<String> = built.tags.iter().map(fields).collect();
        let want: Vec<String> = picked.iter().map(|&i| fields(&strict.tags[i])).collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn scanner_reads_every_real_file_as_the_strict_loader_does() {
    let Some(dir) = data_dir() else { return };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 3);
    for f in files {
        let bytes = snapshot::read_source(f.to_str().unwrap()).unwrap();
        assert_agrees(&f.display().to_string(), &bytes);
    }
}

#[test]
fn scanner_reads_any_layout_of_the_example() {
    let text = std::fs::read_to_string(Path::new(&example())).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let minified = serde_json::to_string(&doc).unwrap();
    let layouts = [
        text.clone(),
        minified.clone(),
        text.replace('\n', "\r\n"),
        text.replace("  ", "\t"),
        text.replace("  ", "                 "),
        minified.replace("\":", "\" :\t").replace(",\"", " ,\n\""),
    ];
    for (i, layout) in layouts.iter().enumerate() {
        assert_agrees(&format!("layout {i}"), layout.as_bytes());
    }
}

/// The scanner reads a tag laid out as the one before by comparing the bytes between values;
/// tags laid out and ordered unlike their neighbours (and runs of alike ones, ones with more
/// keys, ones that differ from the tag before in a single byte anywhere, or in a value's type)
/// must still read as the strict loader reads them.
#[test]
fn scanner_reads_tags_laid_out_unlike_each_other() {
    use serde_json::{Map, Value};
    let text = std::fs::read_to_string(Path::new(&example())).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let examples = doc["values"].as_array().unwrap();
    let mut rng = fastrand::Rng::with_seed(6);
    let shuffle = |map: &Map<String, Value>, rng: &mut fastrand::Rng| {
        let mut entries: Vec<_> = map.clone().into_iter().collect();
        rng.shuffle(&mut entries);
        Value::Object(entries.into_iter().collect())
    };
    let (mut layout, mut shuffled) = (0, false);
    let mut tags = Vec::new();
    for k in 0..300 {
        // Runs of tags alike, broken at random by a new layout or key order.
        if rng.u8(0..3) == 0 {
            layout = rng.u8(0..4);
        }
        if rng.u8(0..4) == 0 {
            shuffled = !shuffled;
        }
        let mut tag = examples[k % examples.len()].clone();
        tag["name"] = format!("{}.{k}", tag["name"].as_str().unwrap()).into();
        if k % 5 == 0 {
            for j in 0..14 {
                tag["properties"][format!("extra{j}")] = j.into();
            }
        }
        if k % 7 == 3 {
            tag["properties"]["networkFeatures"] = Value::Null;
        }
        if k % 11 == 5 {
            // A key the loader does not read, spelled like one it does up to the last letters.
            let properties = tag["properties"].as_object().unwrap().clone().into_iter();
            tag["properties"] = properties
                .map(|(k, v)| (k.replace("systemService", "systemServices"), v))
                .collect();
        }
        if shuffled {
            tag["properties"] = shuffle(tag["properties"].as_object().unwrap(), &mut rng);
            tag = shuffle(tag.as_object().unwrap(), &mut rng);
        }
        let minified = serde_json::to_string(&tag).unwrap();
        let pretty = serde_json::to_string_pretty(&tag).unwrap();
        let mut text = match layout {
            0 => minified,
            1 => pretty,
            2 => pretty.replace("  ", "\t").replace(": ", ":"),
            _ => minified.replace("\":", "\" :  ").replace(",\"", " ,\n \""),
        };
        if rng.u8(0..3) == 0 {
            // One byte more after a random comma or colon between values: the tag differs from
            // the one before at that place only, wherever it is.
            let places = punctuation_outside_strings(&text);
            text.insert(places[rng.usize(0..places.len())] + 1, ' ');
        }
        tags.push(text);
    }
    let file = format!(
        "{{\"changeNumber\": 7, \"cloud\": \"Public\", \"values\": [{}]}}",
        tags.join(",\n")
    );
    assert_agrees("tags laid out unlike each other", file.as_bytes());
}

/// A value nested a million deep in a tag (which a recursive skip would overflow the stack on)
/// makes the scanner give up; the strict loader reads the file and the plan is the example's.
#[test]
fn deeply_nested_values_do_not_overflow_the_stack() {
    let text = std::fs::read_to_string(Path::new(&example())).unwrap();
    let depth = 1_000_000;
    let deep = format!("\"state\": {}{}, ", "[".repeat(depth), "]".repeat(depth));
    let nested = text.replacen("\"regionId\": ", &format!("{deep}\"regionId\": "), 1);
    assert_ne!(nested, text);
    assert!(scan::scan("nested", nested.as_bytes()).is_none());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested.json");
    std::fs::write(&file, &nested).unwrap();
    assert_plans_like_the_example(&file, "csv");
}

/// `plan` for francecentral prints for `file` what it prints for the example itself.
fn assert_plans_like_the_example(file: &Path, format: &str) {
    assert_plans_region_like_the_example(file, "francecentral", format);
}

/// `plan` for `region` prints for `file` what it prints for the example itself.
fn assert_plans_region_like_the_example(file: &Path, region: &str, format: &str) {
    let plan = |f: &str| {
        let args = ["plan", "-q", "-r", region, "--format", format, "-f", f];
        tagroute(&args).status(0).stdout
    };
    assert_eq!(plan(file.to_str().unwrap()), plan(&example()));
}

/// The rest of a header is checked in the tags a plan reads: a feature list that is not one of
/// strings there sends the file to the strict loader, whose error names the tag and the field;
/// in a tag the plan does not read it goes unnoticed, as the scanner's prefixes do.
#[test]
fn a_bad_header_counts_only_in_the_tags_a_plan_reads() {
    let text = std::fs::read_to_string(Path::new(&example())).unwrap();
    let tag = text
        .find("\"name\": \"BatchNodeManagement.FranceCentral\"")
        .unwrap();
    let features = tag + text[tag..].find("\"NSG\"").unwrap();
    let odd = format!("{}\"NSG\", 7{}", &text[..features], &text[features + 5..]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("odd.json");
    std::fs::write(&file, &odd).unwrap();
    let f = file.to_str().unwrap();
    tagroute(&["plan", "-r", "francecentral", "-f", f]).fails_with(
        "tag 'BatchNodeManagement.FranceCentral' (values[6].properties.networkFeatures[2]): \
         invalid type: integer `7`, expected a string",
    );
    assert_plans_region_like_the_example(&file, "westeurope", "json");
}

/// Where the commas and colons of a JSON text are, leaving out those inside strings.
fn punctuation_outside_strings(text: &str) -> Vec<usize> {
    let (mut places, mut in_string, mut escaped) = (Vec::new(), false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            ',' | ':' if !in_string => places.push(i),
            _ => {}
        }
    }
    places
}

/// Files that cannot be mapped are read instead: an empty file is the usual one-line error, a
/// named pipe gives the same plan as the file it carries.
#[test]
fn unmappable_inputs_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, b"").unwrap();
    tagroute(&["plan", "-f", empty.to_str().unwrap(), "-r", "francecentral"])
        .fails_with("empty.json: not JSON");
    let fifo = dir.path().join("pipe.json");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped the pipe: mkfifo is not available");
        return;
    }
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, std::fs::read(example()).unwrap()))
    };
    assert_plans_like_the_example(&fifo, "csv");
    writer.join().unwrap().unwrap();
}

/// A file the scanner gives up on (an escape in a header string) is planned from the strict
/// loader instead, with the same plan: the selection is then made from the full snapshot.
#[test]
fn plan_falls_back_to_the_strict_loader_with_the_same_plan() {
    let text = std::fs::read_to_string(Path::new(&example())).unwrap();
    let escaped = text.replacen(
        "\"platform\": \"Azure\"",
        "\"platform\": \"\\u0041zure\"",
        1,
    );
    assert_ne!(escaped, text, "the example has a platform field");
    assert!(
        scan::scan("escaped", escaped.as_bytes()).is_none(),
        "the scanner gives up on escapes"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("escaped.json");
    std::fs::write(&file, &escaped).unwrap();
    assert_plans_like_the_example(&file, "json");
}
