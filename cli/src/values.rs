//! Parsers of option values that need more than a type: Azure's naming rules, and numbers
//! bounded when they are read, so that no value can overflow or hang anything later.

use std::time::Duration;

use tagroute::plan::DefaultHopProblem;

/// A parser of a library enum's values by the names the library gives them (`all` and `name`):
/// clap offers the names in help and completions and refuses any other, so the command line
/// keeps no copy of the enum.
pub fn by_name<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    name: fn(T) -> &'static str,
) -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(all.iter().map(|&v| name(v))).map(move |given| {
        *all.iter()
            .find(|&&v| name(v) == given)
            .expect("clap takes only the names offered")
    })
}

/// `--cloud`: `public`, `usgov` or `china`.
pub fn cloud() -> impl clap::builder::TypedValueParser<Value = tagroute::snapshot::Cloud> {
    by_name(
        &tagroute::snapshot::Cloud::ALL,
        tagroute::snapshot::Cloud::short_name,
    )
}

/// `--family`: `ipv4`, `ipv6` or `both`.
pub fn family() -> impl clap::builder::TypedValueParser<Value = tagroute::select::FamilyChoice> {
    use tagroute::select::FamilyChoice;
    by_name(&FamilyChoice::ALL, FamilyChoice::as_str)
}

/// `--strategy`: `exact` or `lpm`.
pub fn strategy() -> impl clap::builder::TypedValueParser<Value = tagroute::plan::Strategy> {
    use tagroute::plan::Strategy;
    by_name(&Strategy::ALL, Strategy::as_str)
}

/// `--write`: `table` or `routes`.
pub fn write_mode() -> impl clap::builder::TypedValueParser<Value = tagroute::arm::WriteMode> {
    use tagroute::arm::WriteMode;
    by_name(&WriteMode::ALL, WriteMode::as_str)
}

/// `--format` of `plan`: every format a plan renders in.
pub fn plan_format() -> impl clap::builder::TypedValueParser<Value = tagroute::emit::PlanFormat> {
    use tagroute::emit::PlanFormat;
    by_name(&PlanFormat::ALL, PlanFormat::name)
}

/// `--webhook-format`: `json`, `teams` or `slack`.
pub fn message_format()
-> impl clap::builder::TypedValueParser<Value = tagroute::refresh::message::MessageFormat> {
    use tagroute::refresh::message::MessageFormat;
    by_name(&MessageFormat::ALL, MessageFormat::name)
}

/// `--resource-group`: Azure's rules for a resource group name, checked before it is written
/// into a script.
/// A requirement profile's name, as the data spells it.
pub fn profile(text: &str) -> Result<String, tagroute::profile::UnknownProfile> {
    tagroute::profile::by_name(text).map(|p| p.name.clone())
}

pub fn resource_group(text: &str) -> Result<String, tagroute::text::NameError> {
    tagroute::text::check_resource_group(text)?;
    Ok(text.to_owned())
}

/// `--route-table`: Azure's rules for a route table name (those of a route name).
pub fn route_table(text: &str) -> Result<String, tagroute::text::NameError> {
    tagroute::model::check_route_name(text).map_err(|e| e.about("a route table name"))?;
    Ok(text.to_owned())
}

/// `--route-table-id`: a route table's Resource Manager id, checked part by part.
pub fn route_table_id(text: &str) -> Result<tagroute::arm::RouteTableId, tagroute::arm::IdError> {
    text.parse()
}

/// The largest `--max-routes`, `--max-tag-routes` or `--max-changes` taken.
pub const MAX_ROUTES_OPTION: u64 = tagroute::options::MAX_OPTION as u64;

/// Longest wait any option may ask for: one day.
const MAX_SECONDS: f64 = 86_400.0;

/// A number of seconds from `min` (exclusive when `positive`) to one day, as a duration: read
/// here, so that no value (`1e300`, `inf`, `NaN`) can overflow a duration later.
fn seconds(text: &str, positive: bool, max: f64) -> Result<Duration, String> {
    let secs: f64 = text.trim().parse().map_err(|_| {
        format!(
            "{} is not a number of seconds",
            tagroute::text::quoted(text)
        )
    })?;
    let low_ok = if positive { secs > 0.0 } else { secs >= 0.0 };
    if !(low_ok && secs <= max) {
        let low = if positive { "more than 0" } else { "from 0" };
        return Err(format!("must be {low} up to {max}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `--timeout`, `--connect-timeout`: more than 0 seconds, at most a day.
pub fn timeout(text: &str) -> Result<Duration, String> {
    seconds(text, true, MAX_SECONDS)
}

/// `--lock-timeout`: 0 seconds to a day.
pub fn wait(text: &str) -> Result<Duration, String> {
    seconds(text, false, MAX_SECONDS)
}

/// `--max-age`: 0 to 3650 days.
pub fn days(text: &str) -> Result<Duration, String> {
    let days = seconds(text, false, 3650.0)?;
    Ok(days * 86_400)
}

/// Why a default next hop cannot serve `--strategy lpm`, in the words of the command line.
pub fn default_hop_problem(problem: &DefaultHopProblem) -> String {
    let why = match problem {
        DefaultHopProblem::Missing => "pass --default-next-hop VirtualAppliance:IP, \
            VirtualApplianceEcmp:IP,IP,... or VirtualNetworkGateway, or (diff) an --existing table with such a 0.0.0.0/0 route. A \
            default learned over ExpressRoute or VPN BGP is no route-table next hop, so \
            exceptions cannot return to it: use --strategy exact there"
            .to_owned(),
        DefaultHopProblem::NotATunnel(kind) => format!(
            "{kind} is not the next hop of a forced tunnel (use VirtualAppliance:IP, \
             VirtualApplianceEcmp:IP,IP,... or VirtualNetworkGateway)"
        ),
        DefaultHopProblem::WrongFamily { ip, family } => format!(
            "{ip} cannot be the next hop of {family} exception routes (an appliance address is \
             of the route's own family); plan that family on its own with --family, with an \
             address of it"
        ),
    };
    format!("--strategy lpm needs the default route's next hop: {why}")
}
