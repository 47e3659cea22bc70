//! The fleet file is checked whole before any table is read: every mistake is one line naming
//! the table and the key (or the line and column of a syntax error), exit 2, and no request
//! reaches Resource Manager.

use crate::harness::*;
use crate::server::{Reply, Server};

const ID_A: &str = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt-a";
const ID_B: &str = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt-b";

/// `diff` of the fleet file `text` against `arm`, with `extra` flags.
fn diff_fleet(text: &str, arm: &Server, extra: &[&str]) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("tagroute.toml");
    std::fs::write(&path, text).unwrap();
    let ex = example();
    let mut args = vec![
        "diff",
        "--config",
        path.to_str().unwrap(),
        "--file",
        &ex,
        "--arm-endpoint",
        &arm.base,
    ];
    args.extend_from_slice(extra);
    tagroute_with(&args, None, &[("AZURE_ACCESS_TOKEN", "t")])
}

fn refused(text: &str, extra: &[&str], needle: &str) {
    let arm = Server::start(|_, _| Reply::status(500));
    diff_fleet(text, &arm, extra).fails_with(needle);
    assert!(arm.requests().is_empty(), "{text}");
}

/// A table of route table A in westeurope, with `extra` keys.
fn table(extra: &str) -> String {
    format!("[[table]]\nid = \"{ID_A}\"\nregion = \"westeurope\"\n{extra}")
}

#[test]
fn fleet_file_mistakes_are_one_line_naming_table_and_key() {
    refused(
        &table("profile = \"aml\"\n"),
        &[],
        "table 1 profile: no profile 'aml': the profiles are forced-tunneling",
    );
    refused(
        &table("regoin = \"eastus\"\n"),
        &[],
        "tagroute.toml:4:1: unknown field `regoin`",
    );
    refused(
        "[defaults]\nmax_routes = 0\n[[table]]\nid = \"x\"\n",
        &[],
        "[defaults] max_routes: 0 is out of range (1 to 100000)",
    );
    refused(
        &format!(
            "{}\n[[table]]\nid = \"{}\"\nregion = \"westeurope\"\n",
            table(""),
            ID_A.to_uppercase()
                .replace("SUBSCRIPTIONS", "subscriptions")
        ),
        &[],
        "table 2 id: 'RT-A' (/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/RG/providers/Microsoft.Network/routeTables/RT-A) is the same route table as table 1 ('rt-a')",
    );
    refused(
        &format!(
            "{}\n[[table]]\nname = \"RT-A\"\nid = \"{ID_B}\"\nregion = \"westeurope\"\n",
            table("")
        ),
        &[],
        "table 2 ('RT-A') name: 'RT-A' is also table 1's name",
    );
    refused(
        "[[table]]\nregion = \"westeurope\"\n",
        &[],
        "table 1 id: missing",
    );
    // No region and no tags, also under a [defaults] of no tags: the table lacks them.
    for defaults in ["", "[defaults]\ntag = []\n"] {
        refused(
            &format!("{defaults}[[table]]\nid = \"{ID_A}\"\n"),
            &[],
            "table 1 region: missing: each table names its region (or tags to route)",
        );
    }
    refused(
        &table("").replace("westeurope", "westeuropa"),
        &[],
        "table 1 (rt-a) region: unknown region 'westeuropa'",
    );
    refused(
        &table("strategy = \"fastest\"\n"),
        &[],
        "table 1 strategy: 'fastest' is not one of exact or lpm",
    );
    refused(
        &table("name_prefix = \"a b\"\n"),
        &[],
        "table 1 name_prefix: name prefix 'a b' cannot give valid Azure route names",
    );
    refused(
        &table("default_next_hop = \"ExpressRoute\"\n"),
        &[],
        "table 1 default_next_hop: a default route learned over ExpressRoute",
    );
    refused(
        &table("cloud = \"mars\"\n"),
        &[],
        "table 1 cloud: 'mars' is not a cloud",
    );
    refused(
        &table("slack = [\"AzureCloud\"]\nallow_any_slack = true\n"),
        &[],
        "allow_any_slack and slack exclude each other",
    );
    refused(
        "[defaults]\nid = \"x\"\n",
        &[],
        "[defaults] id: belongs in a [[table]]",
    );
    refused("", &[], "no [[table]]");
    refused(
        &table("max_changes = \"ten\"\n"),
        &[],
        "tagroute.toml:4:15: invalid type: string \"ten\", expected usize",
    );
    refused(&table("id = \"/subscriptions/x\"\n"), &[], "duplicate key");
    refused(
        &table("").replace(
            ID_A,
            "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt",
        ),
        &[],
        "table 1 id: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt': subscription 'x' is not a subscription id",
    );
}

/// The plan options of one table are the file's: given beside --config they are refused.
#[test]
fn plan_flags_beside_config_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("tagroute.toml");
    std::fs::write(
        &path,
        format!("[[table]]\nid = \"{ID_A}\"\nregion = \"westeurope\"\n"),
    )
    .unwrap();
    let p = path.to_str().unwrap();
    for flag in [
        &["--region", "eastus"][..],
        &["--tag", "AzureCloud"],
        &["--route-table-id", ID_B],
        &["--strategy", "lpm"],
    ] {
        let mut args = vec!["diff", "--config", p, "--cloud", "public"];
        args.extend_from_slice(flag);
        let run = tagroute(&args).status(2);
        assert!(
            run.stderr.contains("cannot be used with"),
            "{flag:?}: {}",
            run.stderr
        );
    }
    let run = tagroute(&["apply", "--config", p, "--max-changes", "3"]).status(2);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    tagroute(&[
        "diff",
        "--config",
        p,
        "--format",
        "az",
        "--cloud",
        "public",
        "--offline",
    ])
    .fails_with("--format az writes one table's script");
}

/// `budget` is a key of its own: without slack it is refused where it was written, and
/// `max_routes` with slack (its old spelling) is read as the budget with a note, said once
/// for `[defaults]`.
#[test]
fn budget_is_a_key_and_the_old_spelling_is_noted() {
    refused(
        &table("budget = 3\n"),
        &[],
        "table 1 budget: a budget trades slack for routes",
    );
    refused(
        &format!(
            "[defaults]\nbudget = 0\nallow_any_slack = true\n{}",
            table("")
        ),
        &[],
        "[defaults] budget: 0 is out of range (1 to 100000)",
    );
    // A table of each spelling: both fail at the server, after the options were read and noted.
    let text = format!(
        "[defaults]\nallow_any_slack = true\nmax_routes = 3\n{}\n[[table]]\nid = \"{ID_B}\"\nregion = \"westeurope\"\n",
        table("")
    );
    let arm = Server::start(|_, _| Reply::status(404));
    let run = diff_fleet(&text, &arm, &["--retries", "0"]);
    let note = "[defaults]: max_routes = 3 with slack is read as budget = 3, its old spelling";
    assert_eq!(run.stderr.matches(note).count(), 1, "{}", run.stderr);
}
