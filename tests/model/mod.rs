//! What the tests of both crates share: the real weekly files the repository carries
//! (decompressed once and checked against their recorded SHA-256), and an independent model of
//! address sets and service-tag files (plain integers and serde_json, no tagroute code) that
//! plans and tables are checked against.

#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// The real service-tag files the tests read (`cli/tests/data/servicetags/`, with their
/// provenance), each with the SHA-256 of its decompressed bytes.
const CARRIED: [(&str, &str); 9] = [
    (
        "ServiceTags_Public_20250728.json",
        "04773b278fb93870ff3c8e8408f271925feba729c60ffce5df43f3afe7f90bbc",
    ),
    (
        "ServiceTags_Public_20251013.json",
        "f7bebcb16a44bef1324495f600f804f432c319838559ce0837a4af50145f407f",
    ),
    (
        "ServiceTags_Public_20251028.json",
        "9cb4e5f9371cec1297b05a6f5d742768921a28bd854a3a9cbd80673a6399dc40",
    ),
    (
        "ServiceTags_AzureGovernment_20260706.json",
        "d60a4f8c0c105c7fdf7dec37280b08573ae99540f3fa3293e2e109f4a244c5bd",
    ),
    (
        "ServiceTags_AzureGovernment_20260713.json",
        "bf5de28ab316997168242758d69b2169dba19b61af030dc7a4e53facc05dde41",
    ),
    (
        "ServiceTags_AzureGovernment_20260720.json",
        "526a500736740f22077bf7846b46243f6e0d823353042461e6e90212c5e6849e",
    ),
    (
        "ServiceTags_China_20260706.json",
        "be0f14df41ef38a466e64d99c085440c09b3e6956ecda3ebe2de67865510942e",
    ),
    (
        "ServiceTags_China_20260713.json",
        "aa76eee8cfe5b56ab5c5ceb9f74aa5d3387fb2f7fe37b7881d754aae5b528bee",
    ),
    (
        "ServiceTags_China_20260720.json",
        "bd83fd5acb17c1ed9c0bf1ad47b291787fccd06436fd6509169a6a0a506ca94a",
    ),
];

/// The folder of real service-tag files: `$TAGROUTE_TEST_DATA` when set, else the copies the
/// repository carries, decompressed once into `target/test-data/servicetags` (checked against
/// their recorded SHA-256): no data test skips, on a fresh clone either.
pub fn data_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(carried_data).clone()
}

fn carried_data() -> PathBuf {
    if let Some(dir) = std::env::var_os("TAGROUTE_TEST_DATA") {
        return PathBuf::from(dir);
    }
    let from = repo().join("cli/tests/data/servicetags");
    let dir = repo().join("target/test-data/servicetags");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, sum) in CARRIED {
        let path = dir.join(name);
        if std::fs::read(&path).is_ok_and(|b| sha256(&b) == sum) {
            continue;
        }
        let gz = std::fs::File::open(from.join(format!("{name}.gz"))).unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz), &mut bytes).unwrap();
        assert_eq!(
            sha256(&bytes),
            sum,
            "{name}: the carried copy is not the recorded file"
        );
        // Written whole under another name, then renamed: a reader never sees half a file.
        let tmp = dir.join(format!(".{name}.{}", std::process::id()));
        std::fs::write(&tmp, &bytes).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    dir
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Path of one snapshot file, as a string for arguments.
pub fn snapshot(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

/// The repository's root, from either crate (the command line sits in `cli/`).
pub fn repo() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    if manifest.join("cli/tests/data").is_dir() {
        manifest.to_path_buf()
    } else {
        manifest.join("..")
    }
}

// ---- an independent model of address sets, for checking plans without the library ----

/// Merged inclusive IPv4 ranges (as u64, so `end + 1` never overflows) of CIDR texts.
pub fn v4_ranges<S: AsRef<str>>(prefixes: &[S]) -> Vec<(u64, u64)> {
    let mut r: Vec<(u64, u64)> = prefixes
        .iter()
        .filter(|p| !p.as_ref().contains(':'))
        .map(|p| {
            let (a, l) = p.as_ref().split_once('/').unwrap();
            let a = u32::from(a.parse::<Ipv4Addr>().unwrap()) as u64;
            let size = 1u64 << (32 - l.parse::<u32>().unwrap());
            (a, a + size - 1)
        })
        .collect();
    r.sort();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (lo, hi) in r {
        match out.last_mut() {
            Some(last) if lo <= last.1 + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Fewest CIDR blocks covering exactly these merged ranges (greedy largest aligned block).
pub fn min_cidrs(ranges: &[(u64, u64)]) -> Vec<String> {
    let mut out = Vec::new();
    for &(mut lo, hi) in ranges {
        while lo <= hi {
            let mut size = if lo == 0 {
                1u64 << 32
            } else {
                1u64 << lo.trailing_zeros().min(32)
            };
            while lo + size - 1 > hi {
                size >>= 1;
            }
            out.push(format!(
                "{}/{}",
                Ipv4Addr::from(lo as u32),
                32 - size.trailing_zeros()
            ));
            lo += size;
        }
    }
    out
}

/// How many blocks [`min_cidrs`] needs.
pub fn min_cidr_count(ranges: &[(u64, u64)]) -> usize {
    min_cidrs(ranges).len()
}

/// The file's tag names and prefix lists, read with serde_json alone.
/// A service-tag file read as plain JSON (serde_json, no tagroute code), once per file and test
/// process: the independent model's view of the file.
fn raw_file(file: &str) -> std::sync::Arc<serde_json::Value> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static FILES: OnceLock<Mutex<HashMap<String, Arc<serde_json::Value>>>> = OnceLock::new();
    let files = FILES.get_or_init(Default::default);
    if let Some(v) = files.lock().unwrap().get(file) {
        return v.clone();
    }
    let v: Arc<serde_json::Value> =
        Arc::new(serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap());
    files.lock().unwrap().insert(file.to_owned(), v.clone());
    v
}

pub fn raw_tags(file: &str) -> Vec<(String, u64, Vec<String>)> {
    let v = raw_file(file);
    v["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let p = &t["properties"];
            let prefixes = p["addressPrefixes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect();
            (
                t["name"].as_str().unwrap().to_owned(),
                p["changeNumber"].as_u64().unwrap(),
                prefixes,
            )
        })
        .collect()
}

/// The `addressPrefixes` of a tag, read straight from the JSON with serde_json (not tagroute).
pub fn raw_prefixes(file: &str, tag: &str) -> Vec<String> {
    let v = raw_file(file);
    let t = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == tag);
    let t = t.unwrap_or_else(|| panic!("{tag} not in {file}"));
    t["properties"]["addressPrefixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect()
}

/// The IPv4 ranges a route table sends to Internet, next to a default route elsewhere: for each
/// elementary interval between route boundaries, the most specific containing route decides
/// (a plain scan over all routes; no sweep, no trie).
pub fn internet_ranges(routes: &[(String, bool)]) -> Vec<(u64, u64)> {
    let spans: Vec<((u64, u64), u8, bool)> = routes
        .iter()
        .filter(|r| !r.0.contains(':'))
        .map(|(p, internet)| {
            (
                v4_ranges(&[p])[0],
                p.split_once('/').unwrap().1.parse().unwrap(),
                *internet,
            )
        })
        .collect();
    let mut cuts: Vec<u64> = spans.iter().flat_map(|s| [s.0.0, s.0.1 + 1]).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for w in cuts.windows(2) {
        let (lo, hi) = (w[0], w[1] - 1);
        let winner = spans
            .iter()
            .filter(|s| s.0.0 <= lo && hi <= s.0.1)
            .max_by_key(|s| s.1);
        if winner.is_some_and(|s| s.2) {
            match out.last_mut() {
                Some(last) if last.1 + 1 == lo => last.1 = hi,
                _ => out.push((lo, hi)),
            }
        }
    }
    out
}

/// Addresses in `a` and not in `b` (both merged range lists).
pub fn minus(a: &[(u64, u64)], b: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for &(mut lo, hi) in a {
        for &(blo, bhi) in b {
            if bhi < lo || blo > hi {
                continue;
            }
            if blo > lo {
                out.push((lo, blo - 1));
            }
            lo = lo.max(bhi + 1);
        }
        if lo <= hi {
            out.push((lo, hi));
        }
    }
    out
}

pub fn count(r: &[(u64, u64)]) -> u64 {
    r.iter().map(|x| x.1 - x.0 + 1).sum()
}

/// A public service-tag file of `(name, has UDR, prefixes)` tags, as JSON text.
pub fn tag_doc<P: AsRef<str>>(tags: &[(&str, bool, &[P])]) -> String {
    let values: Vec<serde_json::Value> = tags
        .iter()
        .map(|(name, udr, prefixes)| {
            let features: Vec<&str> = if *udr { vec!["API", "NSG", "UDR"] } else { vec!["API"] };
            let prefixes: Vec<&str> = prefixes.iter().map(AsRef::as_ref).collect();
            serde_json::json!({"name": name, "id": name, "properties": {"changeNumber": 1, "region": "", "regionId": 0, "platform": "Azure", "systemService": "", "addressPrefixes": prefixes, "networkFeatures": features}})
        })
        .collect();
    serde_json::json!({"changeNumber": 1, "cloud": "Public", "values": values}).to_string()
}
