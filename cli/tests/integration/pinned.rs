//! Generated outputs pinned byte for byte: every plan format on the example file and on two
//! regions of the newest file of each cloud, and the lpm, tag-route and diff shapes on the
//! example. The expected texts are insta snapshots under `tests/integration/snapshots/`, each
//! reviewed when first written; under CI a missing or different snapshot fails (insta writes
//! nothing there), so a change to any output must be seen and accepted in review
//! (`cargo insta review`, or `INSTA_UPDATE=always cargo test` and `git diff`).

use crate::harness::*;

const FORMATS: [&str; 7] = ["table", "json", "csv", "az", "terraform", "arm", "bicep"];

/// Every format of one plan; `name` labels the snapshots.
fn pin_formats(name: &str, file: &str, region: &str) {
    for format in FORMATS {
        let run = tagroute(&[
            "plan",
            "-f",
            file,
            "--region",
            region,
            "--format",
            format,
            "--resource-group",
            "rg-net",
            "--route-table",
            "rt-aml",
        ])
        .status(0);
        insta::assert_snapshot!(format!("plan_{name}_{format}"), run.stdout);
    }
}

#[test]
fn every_plan_format_on_the_example_file() {
    pin_formats("example_westeurope", &example(), "westeurope");
}

#[test]
fn every_plan_format_on_two_regions_of_each_cloud() {
    let dir = data_dir();
    for (cloud, file, regions) in [
        (
            "public",
            "ServiceTags_Public_20251028.json",
            ["eastus", "westeurope"],
        ),
        (
            "government",
            "ServiceTags_AzureGovernment_20260720.json",
            ["usgovvirginia", "usgovarizona"],
        ),
        (
            "china",
            "ServiceTags_China_20260720.json",
            ["chinaeast2", "chinanorth3"],
        ),
    ] {
        let path = snapshot(&dir, file);
        for region in regions {
            pin_formats(&format!("{cloud}_{region}"), &path, region);
        }
    }
}

#[test]
fn the_lpm_and_tag_route_shapes_on_the_example_file() {
    let file = example();
    for (name, extra) in [
        (
            "lpm",
            &[
                "--strategy",
                "lpm",
                "--default-next-hop",
                "VirtualAppliance:10.0.0.4",
                "--slack",
                "AzureCloud.westeurope",
            ][..],
        ),
        (
            "tag_routes",
            &[
                "--tag-route",
                "auto",
                "--slack",
                "AzureMachineLearning",
                "--slack",
                "BatchNodeManagement",
            ][..],
        ),
        (
            "ecmp",
            &[
                "--default-next-hop",
                "VirtualApplianceEcmp:10.0.0.4,10.0.0.5",
            ][..],
        ),
    ] {
        for format in ["json", "az", "terraform"] {
            let mut args = vec![
                "plan",
                "-f",
                &file,
                "--region",
                "westeurope",
                "--format",
                format,
            ];
            args.extend_from_slice(extra);
            let run = tagroute(&args).status(0);
            insta::assert_snapshot!(format!("plan_example_{name}_{format}"), run.stdout);
        }
    }
}
