//! `tags` and `resolve` on the example and the real files.

use crate::harness::*;

#[test]
fn tags_lists_counts_and_filters() {
    let ex = example();
    let all = tagroute(&["tags", "-f", &ex, "--format", "json"])
        .status(0)
        .json();
    assert_eq!(all["tags"].as_array().unwrap().len(), 10);
    let fr = tagroute(&[
        "tags",
        "-f",
        &ex,
        "-r",
        "France Central",
        "--format",
        "json",
    ])
    .status(0)
    .json();
    let names: Vec<&str> = fr["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "AzureCloud.centralfrance",
            "AzureMachineLearning.FranceCentral",
            "BatchNodeManagement.FranceCentral"
        ]
    );
    let udr = tagroute(&[
        "tags",
        "-f",
        &ex,
        "--feature",
        "udr",
        "--match",
        "storage*",
        "--format",
        "csv",
    ])
    .status(0);
    assert_eq!(
        udr.stdout,
        "name,region,changeNumber,ipv4Prefixes,ipv6Prefixes,networkFeatures\nStorage,,9,2,1,\"API,NSG,UDR,FW\"\nStorage.WestEurope,westeurope,7,2,1,\"API,NSG,UDR,FW\"\n"
    );
    let table = tagroute(&[
        "tags",
        "-f",
        &ex,
        "--match",
        "BatchNodeManagement.WestEurope",
    ])
    .status(0)
    .stdout;
    assert_eq!(
        table
            .lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        [
            "BatchNodeManagement.WestEurope",
            "westeurope",
            "4",
            "3",
            "1",
            "API,NSG"
        ]
    );
}

#[test]
fn tags_counts_match_the_raw_file() {
    let dir = data_dir();
    let path = snapshot(&dir, "ServiceTags_China_20260720.json");
    let raw: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let listed = tagroute(&["tags", "-f", &path, "--format", "json"])
        .status(0)
        .json();
    let raw_tags = raw["values"].as_array().unwrap();
    assert_eq!(listed["tags"].as_array().unwrap().len(), raw_tags.len());
    for (t, r) in listed["tags"].as_array().unwrap().iter().zip(raw_tags) {
        let prefixes = r["properties"]["addressPrefixes"].as_array().unwrap();
        let v6 = prefixes
            .iter()
            .filter(|p| p.as_str().unwrap().contains(':'))
            .count();
        assert_eq!(t["name"], r["name"]);
        assert_eq!(
            t["ipv4Prefixes"].as_u64().unwrap() as usize,
            prefixes.len() - v6
        );
        assert_eq!(t["ipv6Prefixes"].as_u64().unwrap() as usize, v6);
        assert_eq!(t["networkFeatures"], r["properties"]["networkFeatures"]);
    }
}

#[test]
fn resolve_raw_and_aggregated() {
    let ex = example();
    let raw = tagroute(&["resolve", "-f", &ex, "BatchNodeManagement.WestEurope"])
        .status(0)
        .stdout;
    assert_eq!(
        raw,
        "203.0.113.7/32\n203.0.113.64/27\n203.0.113.96/27\n2001:db8:200:30::/64\n"
    );
    let agg = tagroute(&[
        "resolve",
        "-f",
        &ex,
        "batchnodemanagement.westeurope",
        "--aggregate",
        "--family",
        "ipv4",
    ])
    .status(0)
    .stdout;
    assert_eq!(agg, "203.0.113.7/32\n203.0.113.64/26\n");
    let csv = tagroute(&[
        "resolve",
        "-f",
        &ex,
        "*.WestEurope",
        "--family",
        "ipv4",
        "--format",
        "csv",
    ])
    .status(0)
    .stdout;
    assert!(
        csv.contains("\n192.0.2.128/26,Storage.WestEurope\n"),
        "{csv}"
    );
    let json = tagroute(&[
        "resolve",
        "-f",
        &ex,
        "Storage*",
        "--aggregate",
        "--format",
        "json",
    ])
    .status(0)
    .json();
    assert_eq!(
        json["prefixes"],
        serde_json::json!(["192.0.2.128/26", "203.0.113.128/25", "2001:db8:200:80::/57"])
    );
    assert_eq!(
        json["tags"],
        serde_json::json!(["Storage", "Storage.WestEurope"])
    );
}

#[test]
fn resolve_aggregate_equals_independent_model_on_real_data() {
    let dir = data_dir();
    let path = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let out = tagroute(&[
        "resolve",
        "-f",
        &path,
        "AzureCloud.westeurope",
        "--aggregate",
        "--family",
        "ipv4",
    ])
    .status(0)
    .stdout;
    let got: Vec<&str> = out.lines().collect();
    let want = v4_ranges(&raw_prefixes(&path, "AzureCloud.westeurope"));
    assert_eq!(v4_ranges(&got), want);
    assert_eq!(got.len(), min_cidr_count(&want));
}

/// Every command writes a prefix the same way, as aggregate6 does: an IPv4-compatible IPv6
/// prefix in dotted form.
#[test]
fn every_command_writes_a_prefix_alike() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("compat.json");
    std::fs::write(
        &f,
        r#"{"changeNumber": 1, "cloud": "Public", "values": [{"name": "Compat.westeurope",
            "properties": {"region": "westeurope", "addressPrefixes": ["::102:300/120", "::ffff:a00:0/120"]}}]}"#,
    )
    .unwrap();
    let f = f.to_str().unwrap();
    let resolve = tagroute(&["resolve", "-f", f, "Compat.westeurope"])
        .status(0)
        .stdout;
    assert_eq!(resolve, "::1.2.3.0/120\n::ffff:10.0.0.0/120\n");
    let aggregate = tagroute_with(&["aggregate"], Some(resolve.as_bytes()), &[])
        .status(0)
        .stdout;
    assert_eq!(aggregate, resolve);
    let plan = tagroute(&[
        "plan",
        "-f",
        f,
        "-t",
        "Compat.westeurope",
        "--family",
        "ipv6",
        "--format",
        "csv",
    ])
    .status(0)
    .stdout;
    assert!(
        plan.contains(",::1.2.3.0/120,") && plan.contains(",::ffff:10.0.0.0/120,"),
        "{plan}"
    );
}
