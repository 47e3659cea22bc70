//! Plans a region's routes through the library, as `tagroute plan` does, and prints them with
//! `ipnet`'s types: `cargo run --example plan_region -- FILE REGION`.

use ipnet::IpNet;
use tagroute::plan::{self, PlanOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(file), Some(region)) = (args.next(), args.next()) else {
        return Err("usage: plan_region FILE REGION".into());
    };
    let snapshot = tagroute::snapshot::load(&file)?;
    let plan = plan::plan_named(&snapshot, Some(&region), &[], &PlanOptions::default())?;
    for route in &plan.routes {
        // Without tag routes allowed, every destination is an IP prefix.
        let Some(prefix) = route.destination.prefix() else {
            continue;
        };
        let net = IpNet::from(prefix);
        println!("{net}\t{}\t{}", route.next_hop, route.tags.join(","));
    }
    eprintln!(
        "{} routes for {region} from {} changeNumber {}",
        plan.routes.len(),
        snapshot.cloud,
        snapshot.change_number
    );
    Ok(())
}
