//! `--strategy lpm`, `--slack` and route budgets as the command line takes them: the flags, the
//! forced tunnel's next hop from a table, the old spelling of a budget, and their errors' words.
//! The strategies' specifications on the real file are the library's (`tests/strategies.rs`).

use crate::harness::*;

const FW: &str = "VirtualAppliance:10.0.0.4";

/// A budget plans one family at a time: the command line says which flag chooses it.
#[test]
fn a_budget_plans_one_family_at_a_time() {
    let ex = example();
    tagroute(&[
        "plan",
        "-f",
        &ex,
        "-r",
        "westeurope",
        "--family",
        "both",
        "--allow-any-slack",
        "--budget",
        "3",
    ])
    .fails_with("a route budget (--budget) plans one family at a time; use --family ipv4 or ipv6");
}

#[test]
fn lpm_needs_a_forced_tunnel_next_hop() {
    let ex = example();
    tagroute(&["plan", "-f", &ex, "-r", "westeurope", "--strategy", "lpm"])
        .fails_with("--strategy lpm needs the default route's next hop");
    let bgp = tagroute(&[
        "plan",
        "-f",
        &ex,
        "-r",
        "westeurope",
        "--strategy",
        "lpm",
        "--default-next-hop",
        "bgp",
    ]);
    assert_eq!(bgp.status, 2);
    assert!(
        bgp.stderr
            .contains("ExpressRoute or VPN BGP is not a route-table next hop")
    );
    let internet = tagroute(&[
        "plan",
        "-f",
        &ex,
        "-r",
        "westeurope",
        "--strategy",
        "lpm",
        "--default-next-hop",
        "Internet",
    ]);
    assert_eq!(internet.status, 2);
    tagroute(&[
        "plan",
        "-f",
        &ex,
        "-r",
        "westeurope",
        "--slack",
        "NoSuchTag",
    ])
    .fails_with("--slack: tag pattern 'NoSuchTag' matches no tag");
}

#[test]
fn diff_takes_the_default_hop_from_the_table_and_owns_exception_routes() {
    let tmp = tempfile::tempdir().unwrap();
    let ex = example();
    let routes = crate::harness::repo().join("data/routes_example.json");
    // No --default-next-hop: lpm takes it from the table's 0.0.0.0/0 route (to 10.0.0.4).
    let args = [
        "diff",
        "-f",
        &ex,
        "--tag",
        "AzureCloud.westeurope",
        "--strategy",
        "lpm",
        "-e",
        routes.to_str().unwrap(),
        "--format",
        "json",
    ];
    let d = tagroute(&args).status(1).json();
    let adds = d["add"].as_array().unwrap();
    assert!(
        adds.iter()
            .all(|r| r["nextHopType"] == "Internet" || r["nextHopIpAddress"] == "10.0.0.4")
    );
    // A plan with exception routes, applied and diffed again, is unchanged: diff owns them.
    let plan = tagroute(&[
        "plan",
        "-f",
        &ex,
        "--tag",
        "AzureCloud.westeurope",
        "--tag",
        "BatchNodeManagement.WestEurope",
        "--strategy",
        "lpm",
        "--default-next-hop",
        FW,
        "--allow-any-slack",
        "--format",
        "json",
    ])
    .status(0)
    .json();
    let table = tmp.path().join("t.json");
    let mut rows = plan["routes"].as_array().unwrap().clone();
    rows.push(serde_json::json!({"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}));
    std::fs::write(&table, serde_json::to_vec(&rows).unwrap()).unwrap();
    let again = tagroute(&[
        "diff",
        "-f",
        &ex,
        "--tag",
        "AzureCloud.westeurope",
        "--tag",
        "BatchNodeManagement.WestEurope",
        "--strategy",
        "lpm",
        "--allow-any-slack",
        "-e",
        table.to_str().unwrap(),
        "--format",
        "json",
    ])
    .status(0)
    .json();
    assert_eq!(
        again["unchanged"].as_u64().unwrap() as usize,
        plan["routes"].as_array().unwrap().len()
    );
}

/// `--budget` is the budget; `--max-routes` with slack, its old spelling, plans the same with a
/// note; a budget without slack is refused; with both, the table's limit bounds the budget.
#[test]
fn budget_is_its_own_flag_and_the_old_spelling_works() {
    let ex = example();
    let base = ["plan", "-f", &ex, "-r", "westeurope", "--format", "json"];
    let with = |extra: &[&str]| tagroute(&[&base[..], extra].concat());
    let budget = with(&["--allow-any-slack", "--budget", "2"]).status(0);
    assert!(budget.json()["summary"]["routes"].as_u64().unwrap() <= 2);
    assert!(!budget.stderr.contains("old spelling"), "{}", budget.stderr);
    let old = with(&["--allow-any-slack", "--max-routes", "2"]).status(0);
    assert_eq!(old.stdout, budget.stdout);
    assert!(
        old.stderr
            .contains("--max-routes 2 with slack is read as --budget 2, its old spelling"),
        "{}",
        old.stderr
    );
    with(&["--budget", "2"]).fails_with("--budget trades slack for routes");
    let both = with(&["--allow-any-slack", "--budget", "5", "--max-routes", "2"]).status(0);
    assert_eq!(both.stdout, budget.stdout, "the smaller bound wins");
}
