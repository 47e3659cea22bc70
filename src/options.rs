//! A route table's options, one type for every way they are given. A one-table run's flags, a
//! fleet file's `[defaults]` and each of its `[[table]]`s are each a [`TableOptions`] layer with
//! every option optional; [`resolve`] lays them over each other (the last layer given wins),
//! fills what none gave with the built-in defaults and checks the result, once, for every caller.
//! Its errors name the option by [`Key`] and the layer that gave the value, never a command-line
//! flag: the command line words an error with its flag, the fleet file with its key and table.

use crate::model::{AZURE_MAX_ROUTES, AZURE_MAX_TAG_ROUTES, DEFAULT_NAME_PREFIX, Limits, NextHop};
use crate::plan::{PlanError, Strategy, check_name_prefix};
use crate::select::{self, FamilyChoice, SelectError};
use crate::snapshot::Cloud;

/// The largest `max_routes`, `max_tag_routes` or `max_changes` taken, from a flag or a fleet
/// file: far above any route table, and small enough that a budget is planned in bounded
/// memory.
pub const MAX_OPTION: usize = 100_000;

/// What to plan, as a user says it.
#[derive(Clone, Debug)]
pub struct PlanRequest {
    /// The region whose default tags (or, with `tags`, whose name) label the plan.
    pub region: Option<String>,
    /// Tag names or globs; empty: the tags `profile` needs for the region.
    pub tags: Vec<String>,
    /// The requirement profile whose tags a region's plan routes (`crate::profile`).
    pub profile: String,
    pub family: FamilyChoice,
    /// What every managed route's name starts with.
    pub name_prefix: String,
    /// The most routes the table may hold. `None`: Azure's limit.
    pub max_routes: Option<usize>,
    /// The most routes tagroute's plan may use, trading the slack for routes: the plan of at most
    /// this many routes that sends the fewest extra addresses to Internet. Needs slack.
    pub budget: Option<usize>,
    pub strategy: Strategy,
    /// The default route's next hop, for lpm exception routes; else the table's is taken.
    pub default_next_hop: Option<NextHop>,
    /// Tag names or globs whose addresses may also go to Internet.
    pub slack: Vec<String>,
    /// Any address may go to Internet.
    pub allow_any_slack: bool,
    /// Tags (names, globs or `auto`) the plan may use as whole routes.
    pub tag_routes: Vec<String>,
    /// The most service-tag routes the table may hold.
    pub max_tag_routes: usize,
    /// Say what service-tag routes would save (costs a second plan).
    pub hint: bool,
}

impl PlanRequest {
    /// True when the plan is fitted to a budget: one given, with slack to trade for routes.
    pub(crate) fn is_budget(&self) -> bool {
        self.budget.is_some() && (self.allow_any_slack || !self.slack.is_empty())
    }

    /// The limits of the route table: `max_routes` (a budget bounds the routes tagroute manages,
    /// not the table) and `max_tag_routes`.
    pub fn limits(&self) -> Limits {
        Limits {
            routes: self.max_routes.unwrap_or(AZURE_MAX_ROUTES),
            tag_routes: self.max_tag_routes,
        }
    }
}

/// An option, by the name the fleet file gives it (the flag is the same with `-` for `_`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Cloud,
    Region,
    Tag,
    Profile,
    Family,
    NamePrefix,
    MaxRoutes,
    Budget,
    Strategy,
    DefaultNextHop,
    Slack,
    AllowAnySlack,
    TagRoute,
    MaxTagRoutes,
    MaxChanges,
    Write,
}

impl Key {
    /// The option's name: `max_routes`.
    pub fn name(self) -> &'static str {
        match self {
            Key::Cloud => "cloud",
            Key::Region => "region",
            Key::Tag => "tag",
            Key::Profile => "profile",
            Key::Family => "family",
            Key::NamePrefix => "name_prefix",
            Key::MaxRoutes => "max_routes",
            Key::Budget => "budget",
            Key::Strategy => "strategy",
            Key::DefaultNextHop => "default_next_hop",
            Key::Slack => "slack",
            Key::AllowAnySlack => "allow_any_slack",
            Key::TagRoute => "tag_route",
            Key::MaxTagRoutes => "max_tag_routes",
            Key::MaxChanges => "max_changes",
            Key::Write => "write",
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One layer of a table's options, every one optional: `None` leaves the option to the layers
/// under it.
#[derive(Clone, Debug, Default)]
pub struct TableOptions {
    pub cloud: Option<Cloud>,
    pub region: Option<String>,
    pub tags: Option<Vec<String>>,
    pub profile: Option<String>,
    pub family: Option<FamilyChoice>,
    pub name_prefix: Option<String>,
    /// The most routes the table may hold.
    pub max_routes: Option<usize>,
    /// The most routes tagroute's plan may use, trading slack for routes.
    pub budget: Option<usize>,
    pub strategy: Option<Strategy>,
    pub default_next_hop: Option<NextHop>,
    pub slack: Option<Vec<String>>,
    pub allow_any_slack: Option<bool>,
    pub tag_routes: Option<Vec<String>>,
    pub max_tag_routes: Option<usize>,
    /// Most creates + updates + deletes one apply may make.
    pub max_changes: Option<usize>,
    /// How a change is written (`table` or `routes`).
    #[cfg(feature = "azure")]
    pub write: Option<crate::arm::WriteMode>,
}

/// What is wrong with an option's value.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("{value} is out of range ({min} to {max})")]
    OutOfRange {
        value: usize,
        min: usize,
        max: usize,
    },
    #[error(
        "allow_any_slack and slack exclude each other: any slack already includes the named tags"
    )]
    AnySlackAndSlack,
    #[error("a budget trades slack for routes: give slack or allow_any_slack with it")]
    BudgetWithoutSlack,
    #[error(transparent)]
    NamePrefix(PlanError),
    #[error(transparent)]
    Pattern(SelectError),
    #[error(transparent)]
    Profile(crate::profile::UnknownProfile),
}

/// An option whose value is refused: which, given in which layer (an index into the layers
/// [`resolve`] was given), and why.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct OptionError {
    pub key: Key,
    pub layer: usize,
    pub problem: Box<Problem>,
}

/// Something about the options the user should read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// `max_routes` given with slack (and no `budget`) was read as the budget, as it was
    /// before `budget` existed; the table keeps Azure's limit. `layer` gave it.
    MaxRoutesAsBudget { layer: usize, value: usize },
}

/// A table's options, every one resolved and checked.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub cloud: Cloud,
    pub request: PlanRequest,
    pub max_changes: usize,
    #[cfg(feature = "azure")]
    pub write: crate::arm::WriteMode,
    pub notes: Vec<Note>,
}

impl Resolved {
    /// How a change to the table is bounded and written.
    #[cfg(feature = "azure")]
    pub fn apply(&self) -> crate::arm::ApplyOptions {
        crate::arm::ApplyOptions {
            name_prefix: self.request.name_prefix.clone(),
            limits: self.request.limits(),
            max_changes: self.max_changes,
            mode: self.write,
        }
    }
}

pub use crate::model::DEFAULT_MAX_CHANGES;

/// Lays `layers` over each other (later ones win), fills the rest with the built-in defaults
/// and checks the result.
///
/// ```
/// use tagroute::options::{Key, Note, TableOptions, resolve};
/// let defaults = TableOptions { region: Some("eastus".into()), ..Default::default() };
/// let table = TableOptions {
///     slack: Some(vec!["AzureCloud.eastus".into()]),
///     max_routes: Some(40),
///     ..Default::default()
/// };
/// let r = resolve(&[&defaults, &table]).unwrap();
/// // The old spelling of a budget still works, with a note.
/// assert_eq!((r.request.budget, r.request.max_routes), (Some(40), None));
/// assert_eq!(r.notes, [Note::MaxRoutesAsBudget { layer: 1, value: 40 }]);
///
/// let bad = TableOptions { max_tag_routes: Some(1_000_000), ..Default::default() };
/// let e = resolve(&[&defaults, &bad]).unwrap_err();
/// assert_eq!((e.key, e.layer), (Key::MaxTagRoutes, 1));
/// ```
pub fn resolve(layers: &[&TableOptions]) -> Result<Resolved, OptionError> {
    // The value of an option and the layer that gave it: the last layer that gives one.
    macro_rules! pick {
        ($field:ident) => {
            layers
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, l)| l.$field.clone().map(|v| (v, i)))
        };
    }
    let fail = |key, layer, problem| OptionError {
        key,
        layer,
        problem: Box::new(problem),
    };
    let bounded = |key, picked: Option<(usize, usize)>, min| match picked {
        Some((value, layer)) if !(min..=MAX_OPTION).contains(&value) => Err(fail(
            key,
            layer,
            Problem::OutOfRange {
                value,
                min,
                max: MAX_OPTION,
            },
        )),
        other => Ok(other),
    };
    let family = pick!(family).map_or(FamilyChoice::Ipv4, |(f, _)| f);
    let (name_prefix, prefix_layer) =
        pick!(name_prefix).unwrap_or_else(|| (DEFAULT_NAME_PREFIX.to_owned(), 0));
    check_name_prefix(&name_prefix, family)
        .map_err(|e| fail(Key::NamePrefix, prefix_layer, Problem::NamePrefix(e)))?;
    let slack = pick!(slack);
    let any = pick!(allow_any_slack).filter(|(any, _)| *any);
    if let (Some((s, _)), Some((_, layer))) = (&slack, any)
        && !s.is_empty()
    {
        return Err(fail(Key::AllowAnySlack, layer, Problem::AnySlackAndSlack));
    }
    let tags = pick!(tags);
    for (patterns, key) in [(&tags, Key::Tag), (&slack, Key::Slack)] {
        if let Some((patterns, layer)) = patterns {
            for p in patterns {
                select::glob(p).map_err(|e| fail(key, *layer, Problem::Pattern(e)))?;
            }
        }
    }
    let profile = match pick!(profile) {
        Some((name, layer)) => crate::profile::by_name(&name)
            .map_err(|e| fail(Key::Profile, layer, Problem::Profile(e)))?
            .name
            .clone(),
        None => crate::profile::DEFAULT_PROFILE.to_owned(),
    };
    let slack = slack.map(|(s, _)| s).unwrap_or_default();
    let allow_any_slack = any.is_some();
    let has_slack = allow_any_slack || !slack.is_empty();
    let mut max_routes = bounded(Key::MaxRoutes, pick!(max_routes), 1)?;
    let mut budget = bounded(Key::Budget, pick!(budget), 1)?;
    let mut notes = Vec::new();
    match (budget, max_routes) {
        (Some((_, layer)), _) if !has_slack => {
            return Err(fail(Key::Budget, layer, Problem::BudgetWithoutSlack));
        }
        // The spelling before `budget`: a limit with slack was the budget.
        (None, Some((value, layer))) if has_slack => {
            notes.push(Note::MaxRoutesAsBudget { layer, value });
            budget = max_routes.take();
        }
        _ => {}
    }
    let max_tag_routes = bounded(Key::MaxTagRoutes, pick!(max_tag_routes), 0)?;
    let max_changes = bounded(Key::MaxChanges, pick!(max_changes), 0)?;
    let request = PlanRequest {
        region: pick!(region).map(|(r, _)| r),
        tags: tags.map(|(t, _)| t).unwrap_or_default(),
        profile,
        family,
        name_prefix,
        max_routes: max_routes.map(|(n, _)| n),
        budget: budget.map(|(n, _)| n),
        strategy: pick!(strategy).map_or(Strategy::Exact, |(s, _)| s),
        default_next_hop: pick!(default_next_hop).map(|(h, _)| h),
        slack,
        allow_any_slack,
        tag_routes: pick!(tag_routes).map(|(t, _)| t).unwrap_or_default(),
        max_tag_routes: max_tag_routes.map_or(AZURE_MAX_TAG_ROUTES, |(n, _)| n),
        hint: false,
    };
    Ok(Resolved {
        cloud: pick!(cloud).map_or(Cloud::Public, |(c, _)| c),
        request,
        max_changes: max_changes.map_or(DEFAULT_MAX_CHANGES, |(n, _)| n),
        #[cfg(feature = "azure")]
        write: pick!(write).map_or(crate::arm::WriteMode::Table, |(w, _)| w),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(f: impl FnOnce(&mut TableOptions)) -> TableOptions {
        let mut l = TableOptions::default();
        f(&mut l);
        l
    }

    /// Every option: the built-in default with no layer, the lower layer's value under an
    /// empty upper one, and the upper layer's over both.
    #[test]
    fn later_layers_win_and_defaults_fill_the_rest() {
        let r = resolve(&[]).unwrap();
        assert_eq!(r.cloud, Cloud::Public);
        assert_eq!(r.request.family, FamilyChoice::Ipv4);
        assert_eq!(r.request.name_prefix, DEFAULT_NAME_PREFIX);
        assert_eq!(r.request.max_tag_routes, AZURE_MAX_TAG_ROUTES);
        assert_eq!(r.max_changes, DEFAULT_MAX_CHANGES);
        assert_eq!((r.request.max_routes, r.request.budget), (None, None));
        let low = layer(|l| {
            l.cloud = Some(Cloud::China);
            l.region = Some("eastus".into());
            l.max_changes = Some(7);
            l.strategy = Some(Strategy::Lpm);
        });
        let high = layer(|l| {
            l.region = Some("westeurope".into());
            l.max_routes = Some(30);
        });
        let r = resolve(&[&low, &TableOptions::default(), &high]).unwrap();
        assert_eq!(r.cloud, Cloud::China);
        assert_eq!(r.request.region.as_deref(), Some("westeurope"));
        assert_eq!((r.max_changes, r.request.strategy), (7, Strategy::Lpm));
        assert_eq!((r.request.max_routes, r.request.budget), (Some(30), None));
        assert!(r.notes.is_empty());
    }

    /// A budget is its own option; the limit given with slack is still read as one, with a note;
    /// both given: the limit bounds the table, the budget the plan.
    #[test]
    fn budget_and_the_old_spelling() {
        let slack = layer(|l| l.allow_any_slack = Some(true));
        let both = layer(|l| {
            l.budget = Some(20);
            l.max_routes = Some(900);
        });
        let r = resolve(&[&slack, &both]).unwrap();
        assert_eq!(
            (r.request.budget, r.request.max_routes),
            (Some(20), Some(900))
        );
        assert!(r.request.is_budget() && r.notes.is_empty());
        assert_eq!(r.request.limits().routes, 900);
        let alone = layer(|l| l.budget = Some(20));
        let e = resolve(&[&alone]).unwrap_err();
        assert_eq!((e.key, e.layer), (Key::Budget, 0));
        assert!(matches!(*e.problem, Problem::BudgetWithoutSlack));
    }

    /// Each check names the option and the layer that gave the refused value.
    #[test]
    fn errors_name_the_option_and_its_layer() {
        let cases: Vec<(TableOptions, Key)> = vec![
            (layer(|l| l.max_routes = Some(0)), Key::MaxRoutes),
            (layer(|l| l.budget = Some(MAX_OPTION + 1)), Key::Budget),
            (
                layer(|l| l.max_changes = Some(MAX_OPTION + 1)),
                Key::MaxChanges,
            ),
            (
                layer(|l| l.name_prefix = Some(String::new())),
                Key::NamePrefix,
            ),
            (layer(|l| l.tags = Some(vec!["[".into()])), Key::Tag),
            (layer(|l| l.profile = Some("nope".into())), Key::Profile),
            (
                layer(|l| {
                    l.slack = Some(vec!["Storage".into()]);
                    l.allow_any_slack = Some(true);
                }),
                Key::AllowAnySlack,
            ),
        ];
        for (bad, key) in cases {
            let e = resolve(&[&TableOptions::default(), &bad]).unwrap_err();
            assert_eq!((e.key, e.layer), (key, 1), "{e}");
            assert!(e.to_string().starts_with(key.name()), "{e}");
            assert!(!e.to_string().contains("--"), "no flag in {e}");
        }
    }
}
