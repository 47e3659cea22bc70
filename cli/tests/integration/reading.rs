//! One reading of a service-tag file for every command: the same verdict from each, JSON read
//! as JSON (escapes, any layout), and no file refused by one command and taken by another.

use std::path::Path;

use crate::harness::*;

/// Writes `text` to a file in `dir` and returns its path.
fn file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn example_text() -> String {
    std::fs::read_to_string(example()).unwrap()
}

/// `plan` for francecentral on `f` prints what it prints for the example.
fn assert_plans_like_the_example(f: &str, format: &str) {
    let plan = |f: &str| {
        let args = [
            "plan",
            "-q",
            "-r",
            "francecentral",
            "--format",
            format,
            "-f",
            f,
        ];
        tagroute(&args).status(0).stdout
    };
    assert_eq!(plan(f), plan(&example()));
}

/// Mutated copies of the example (a byte dropped, doubled or replaced by JSON punctuation, a
/// digit or a letter, anywhere): `plan` and `tags` both take each, or both refuse it with the
/// same one-line error.
#[test]
fn every_command_reaches_the_same_verdict() {
    let text = example_text().into_bytes();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(19);
    let (mut refused, mut taken) = (0, 0);
    for k in 0..80 {
        let mut bytes = text.clone();
        let at = rng.usize(..bytes.len());
        match k % 3 {
            0 => {
                bytes.remove(at);
            }
            1 => bytes.insert(at, bytes[at]),
            _ => bytes[at] = b"{}[]\":,0 x\\-/.5\n"[rng.usize(..16)],
        }
        let f = dir.path().join(format!("m{k}.json"));
        std::fs::write(&f, &bytes).unwrap();
        let f = f.to_str().unwrap();
        let tags = tagroute(&["tags", "-f", f]);
        let plan = tagroute(&["plan", "-r", "francecentral", "-f", f]);
        let resolve = tagroute(&["resolve", "-f", f, "AzureCloud.centralfrance"]);
        // An error about the file names it first.
        let file_error = |stderr: &str| stderr.starts_with(&format!("tagroute: error: {f}:"));
        if tags.status == 2 {
            refused += 1;
            assert!(file_error(&tags.stderr), "{}", tags.stderr);
            assert_eq!(plan.stderr, tags.stderr, "mutation {k} at {at}");
            assert_eq!(resolve.stderr, tags.stderr, "mutation {k} at {at}");
        } else {
            taken += 1;
            assert!(!file_error(&plan.stderr), "mutation {k}: {}", plan.stderr);
            assert!(
                !file_error(&resolve.stderr),
                "mutation {k}: {}",
                resolve.stderr
            );
        }
    }
    assert!(
        refused > 20 && taken > 5,
        "{refused} refused, {taken} taken"
    );
}

/// Escapes mean what JSON says: `\/` in a prefix, `\u0041` in a name or a key.
#[test]
fn json_escapes_are_read_as_json() {
    let text = example_text();
    let escaped = text
        .replace("/25\"", "\\/25\"")
        .replace("\"platform\": \"Azure\"", "\"platform\": \"\\u0041zure\"")
        .replace("\"addressPrefixes\"", "\"address\\u0050refixes\"");
    assert_ne!(escaped, text);
    let dir = tempfile::tempdir().unwrap();
    assert_plans_like_the_example(&file(dir.path(), "escaped.json", &escaped), "json");
}

/// Any layout is read alike: minified, CRLF, tabs, keys in another order.
#[test]
fn any_layout_is_read_alike() {
    let text = example_text();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let minified = serde_json::to_string(&doc).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (i, layout) in [
        minified.clone(),
        text.replace('\n', "\r\n"),
        text.replace("  ", "\t"),
        minified.replace("\":", "\" :\t").replace(",\"", " ,\n\""),
        text.replacen(
            "\"changeNumber\": 42,\n  \"cloud\": \"Public\",",
            "\"cloud\": \"Public\", \"changeNumber\": 42,",
            1,
        ),
    ]
    .iter()
    .enumerate()
    {
        assert_ne!(layout, &text);
        assert_plans_like_the_example(&file(dir.path(), &format!("l{i}.json"), layout), "csv");
    }
}

/// A key given twice is refused wherever it is (readers that keep the first and the last
/// would see different files), by every command.
#[test]
fn duplicate_keys_are_refused() {
    let text = example_text();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "\"cloud\": \"Public\",",
            "\"cloud\": \"Public\", \"cloud\": \"China\",",
        ),
        ("\"values\": [", "\"values\": [], \"values\": ["),
        (
            "\"name\": \"AzureCloud.centralfrance\",",
            "\"name\": \"AzureCloud.centralfrance\", \"name\": \"Other\",",
        ),
        (
            "\"region\": \"centralfrance\",",
            "\"region\": \"centralfrance\", \"region\": \"westeurope\",",
        ),
        (
            "\"addressPrefixes\": [",
            "\"addressPrefixes\": [\"10.0.0.0/8\"], \"addressPrefixes\": [",
        ),
        (
            "\"id\": \"AzureCloud.centralfrance\",",
            "\"id\": {\"x\": 1, \"y\": {\"z\": 1, \"z\": 2}},",
        ),
        (
            "\"regionId\": 19,",
            "\"regionId\": 19, \"r\\u0065gionId\": 19,",
        ),
    ];
    for (i, (from, to)) in cases.iter().enumerate() {
        let bad = text.replacen(from, to, 1);
        assert_ne!(bad, text, "{from}");
        let f = file(dir.path(), &format!("d{i}.json"), &bad);
        for args in [
            &["tags", "-f", &f][..],
            &["plan", "-r", "westeurope", "-f", &f][..],
        ] {
            tagroute(args).fails_with("duplicate key");
        }
    }
}

/// What is not JSON is refused: a raw control character in a string, a number with a leading
/// zero, a trailing comma; a value nested deeper than the reader goes is refused, not a crash.
#[test]
fn what_is_not_json_is_refused() {
    let text = example_text();
    let dir = tempfile::tempdir().unwrap();
    for (i, (bad, needle)) in [
        (
            text.replacen("Azure\"", "Az\u{1}ure\"", 1),
            "not JSON: control character",
        ),
        (
            text.replacen("\"regionId\": 19", "\"regionId\": 019", 1),
            "not JSON",
        ),
        (text.replacen("\"FW\"\n", "\"FW\",\n", 1), "not JSON"),
        (
            text.replacen(
                "\"regionId\": 19,",
                &format!(
                    "\"deep\": {}{}, \"regionId\": 19,",
                    "[".repeat(100_000),
                    "]".repeat(100_000)
                ),
                1,
            ),
            "nested more than 64 levels deep",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let f = file(dir.path(), &format!("n{i}.json"), &bad);
        tagroute(&["plan", "-r", "westeurope", "-f", &f]).fails_with(needle);
    }
}

/// A tag the plan does not use is validated as much as the ones it does: a bad prefix or
/// feature list anywhere refuses the file.
#[test]
fn tags_a_plan_does_not_use_are_validated_too() {
    let text = example_text();
    let dir = tempfile::tempdir().unwrap();
    let bad_prefix = text.replacen("\"198.51.100.0/24\"", "\"198.51.100.1/24\"", 1);
    let f = file(dir.path(), "p.json", &bad_prefix);
    tagroute(&["plan", "-r", "westeurope", "-f", &f])
        .fails_with("tag 'AzureCloud.centralfrance': properties.addressPrefixes[1]: '198.51.100.1/24' has host bits set");
    let bad_feature = text.replacen("\"NSG\"", "7", 1);
    let f = file(dir.path(), "f.json", &bad_feature);
    tagroute(&["plan", "-r", "westeurope", "-f", &f])
        .fails_with("(values[0].properties.networkFeatures[1]): invalid type: integer `7`");
}

/// Files that cannot be mapped are read instead: an empty file is the usual one-line error, a
/// named pipe gives the same plan as the file it carries.
#[test]
fn unmappable_inputs_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let empty = file(dir.path(), "empty.json", "");
    tagroute(&["plan", "-f", &empty, "-r", "francecentral"]).fails_with("empty.json: not JSON");
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
    assert_plans_like_the_example(fifo.to_str().unwrap(), "csv");
    writer.join().unwrap().unwrap();
}
