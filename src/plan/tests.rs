//! Route names, next-hop fields and name rules of plans.

use super::*;

#[test]
fn names_follow_the_prefix() {
    let p: IpPrefix = "20.42.0.0/16".parse().unwrap();
    assert_eq!(
        route_name("tagroute-", &Destination::Prefix(p)),
        "tagroute-20.42.0.0-16"
    );
    let p: IpPrefix = "2603:1030::/48".parse().unwrap();
    assert_eq!(
        route_name("tagroute-", &Destination::Prefix(p)),
        "tagroute-2603-1030---48"
    );
    let tag = Destination::ServiceTag("AzureMachineLearning".into());
    assert_eq!(
        route_name("tagroute-", &tag),
        "tagroute-AzureMachineLearning"
    );
}

#[test]
fn name_rules() {
    assert!(check_route_name("a").is_ok());
    assert!(check_route_name("a_").is_ok());
    assert!(check_route_name("-a").is_err());
    assert!(check_route_name("a-").is_err());
    assert!(check_route_name("a.").is_err());
    assert!(check_route_name("a b").is_err());
    assert!(check_route_name(&"a".repeat(81)).is_err());
    assert!(check_route_name(&"a".repeat(80)).is_ok());
    assert!(check_name_prefix("tagroute-", FamilyChoice::Both).is_ok());
    assert!(check_name_prefix("", FamilyChoice::Ipv4).is_err());
    assert!(check_name_prefix("_x", FamilyChoice::Ipv4).is_err());
    assert!(check_name_prefix("x y", FamilyChoice::Ipv4).is_err());
    // 80 - len("255.255.255.255-32") = 62 characters fit for IPv4, fewer for IPv6.
    assert!(check_name_prefix(&"a".repeat(62), FamilyChoice::Ipv4).is_ok());
    assert!(check_name_prefix(&"a".repeat(63), FamilyChoice::Ipv4).is_err());
    assert!(check_name_prefix(&"a".repeat(62), FamilyChoice::Both).is_err());
}

#[test]
fn next_hop_fields() {
    assert_eq!(
        NextHop::from_fields("internet", None, None),
        Ok(NextHop::Internet)
    );
    assert!(NextHop::from_fields("VirtualAppliance", None, None).is_err());
    assert!(NextHop::from_fields("VirtualAppliance", Some("10.0.0.4"), None).is_ok());
    assert!(NextHop::from_fields("Internet", Some("10.0.0.4"), None).is_err());
    assert!(NextHop::from_fields("Teleport", None, None).is_err());
    // ECMP: 2 to 64 distinct addresses of one family, kept as a sorted set.
    let ecmp = |ips: &[&str]| NextHop::from_fields("VirtualApplianceEcmp", None, Some(ips));
    assert_eq!(
        ecmp(&["10.0.0.5", "10.0.0.4"]).unwrap().to_string(),
        "VirtualApplianceEcmp 10.0.0.4,10.0.0.5"
    );
    assert_eq!(
        ecmp(&["10.0.0.5", "10.0.0.4"]),
        ecmp(&["10.0.0.4", "10.0.0.5"])
    );
    assert!(
        ecmp(&["10.0.0.4"])
            .unwrap_err()
            .contains("2 to 64 addresses, got 1")
    );
    assert!(
        ecmp(&["10.0.0.4", "10.0.0.4"])
            .unwrap_err()
            .contains("listed twice")
    );
    assert!(
        ecmp(&["10.0.0.4", "fd00::4"])
            .unwrap_err()
            .contains("one family")
    );
    let many: Vec<String> = (1..=65).map(|i| format!("10.0.1.{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert!(ecmp(&many).unwrap_err().contains("got 65"));
    assert!(ecmp(&many[..64]).is_ok());
    assert!(NextHop::from_fields("VirtualApplianceEcmp", None, None).is_err());
    assert!(
        NextHop::from_fields(
            "VirtualApplianceEcmp",
            Some("10.0.0.4"),
            Some(&["10.0.0.4", "10.0.0.5"])
        )
        .is_err()
    );
    assert!(NextHop::from_fields("Internet", None, Some(&[])).is_err());
}
