//! The command line's words for what the library says: the library names options by what they
//! are ("the operation timeout", a key such as `slack`), the command line by their flags. An
//! option refused, a planning error and a request's error are worded here with their flags, and
//! the error line adds the flag that sets what an error is about, found by the error's type
//! anywhere in its chain of causes.

use tagroute::arm::{ApplyError, ArmError, AuthError};
use tagroute::diff::DiffError;
use tagroute::discover::DiscoverError;
use tagroute::net::NetError;
use tagroute::notice::{Advice, Notice};
use tagroute::options::{Key, Note, OptionError, Problem};
use tagroute::plan::PlanError;
use tagroute::request::RequestError;

/// An error a table of a fleet gave, boxed: printed as itself, its type still looked into for
/// the flag.
#[derive(Debug)]
pub struct Boxed(pub Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for Boxed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Boxed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// The flag that sets what `err` (or one of its causes) is about, when it is one.
fn flag_of(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(Boxed(inner)) = err.downcast_ref::<Boxed>() {
        return flag_of(&**inner);
    }
    if let Some(e) = err.downcast_ref::<ArmError>() {
        return match e {
            ArmError::Timeout { .. } => Some("--operation-timeout".into()),
            ArmError::TooLarge { .. } => Some("--max-bytes".into()),
            _ => None,
        };
    }
    match err.downcast_ref::<NetError>() {
        Some(NetError::NoCacheDir) => return Some("--cache-dir".into()),
        Some(NetError::ForeignEndpoint(_)) => return Some("--arm-endpoint".into()),
        Some(NetError::Arm(e)) => return flag_of(e),
        _ => {}
    }
    if let Some(DiscoverError::Deadline { .. }) = err.downcast_ref::<DiscoverError>() {
        return Some("--operation-timeout".into());
    }
    if let Some(AuthError::NoCredential { .. }) = err.downcast_ref::<AuthError>() {
        return Some("--token-file".into());
    }
    if let Some(ApplyError::TooManyChanges { .. }) = err.downcast_ref::<ApplyError>() {
        return Some("--max-changes".into());
    }
    if let Some(DiffError::TooManyRoutes { .. }) = err.downcast_ref::<DiffError>() {
        return Some("--max-routes".into());
    }
    match err.downcast_ref::<RequestError>() {
        Some(RequestError::TableFull { .. }) => {
            Some("--strategy lpm, or --slack TAG / --allow-any-slack with --budget".into())
        }
        _ => None,
    }
}

/// An error as the command line prints it: its causes on one line, then the flag that sets
/// what it is about.
pub fn error_line(err: &anyhow::Error) -> String {
    let text = format!("{err:#}");
    match err.chain().find_map(flag_of) {
        Some(f) => format!("{text} ({f})"),
        None => text,
    }
}

/// An option's flag: `--max-routes`.
pub fn flag(key: Key) -> String {
    format!("--{}", key.name().replace('_', "-"))
}

/// An option refused by the library, in the command line's words.
pub fn option(e: OptionError) -> anyhow::Error {
    match *e.problem {
        Problem::BudgetWithoutSlack => anyhow::anyhow!(
            "--budget trades slack for routes: give --slack TAG or --allow-any-slack with it"
        ),
        Problem::AnySlackAndSlack => anyhow::anyhow!(
            "--allow-any-slack and --slack exclude each other: any slack already includes the \
             named tags"
        ),
        Problem::NamePrefix(p) => plan(p),
        problem => anyhow::anyhow!("{}: {problem}", flag(e.key)),
    }
}

/// A note on the options, in the command line's words.
pub fn note(note: &Note) -> String {
    match note {
        Note::MaxRoutesAsBudget { value, .. } => format!(
            "--max-routes {value} with slack is read as --budget {value}, its old spelling; \
             write --budget (--max-routes is the table's limit)"
        ),
    }
}

/// A notice, its advice in the command line's words.
pub fn notice(notice: &Notice) -> String {
    let Some(advice) = &notice.advice else {
        return notice.text.clone();
    };
    let advice = match advice {
        Advice::TagRoutes { tags } => {
            let flags: Vec<String> = tags
                .iter()
                .map(|t| format!("{} {t} {} {t}", flag(Key::TagRoute), flag(Key::Slack)))
                .collect();
            format!("add {}", flags.join(" "))
        }
        Advice::BothFamilies => format!("{} both includes them", flag(Key::Family)),
        Advice::NarrowTagRoutes => format!(
            "fewer {} tags or a lower {} narrow the search",
            flag(Key::TagRoute),
            flag(Key::MaxTagRoutes)
        ),
        Advice::SlackTag => format!("{} TAG allows them", flag(Key::Slack)),
    };
    format!("{}; {advice}", notice.text)
}

/// A request's error, a planning error in the words of the command line.
pub fn request(e: RequestError) -> anyhow::Error {
    match e {
        RequestError::Plan(e) => plan(e),
        RequestError::Pattern { key, source } => anyhow::Error::new(source).context(flag(key)),
        e => e.into(),
    }
}

/// A planning error in the words of the command line: the library speaks of limits, strategies
/// and name prefixes, the user set them with flags.
pub fn plan(e: PlanError) -> anyhow::Error {
    match e {
        PlanError::TooManyRoutes { needed, max } => anyhow::anyhow!(
            "the plan needs {needed} routes, more than --max-routes {max}; select fewer tags, or \
             try --strategy lpm, or --slack TAG / --allow-any-slack with --budget to trade \
             extra Internet-bound addresses for routes"
        ),
        PlanError::NoDefaultNextHop(problem) => {
            anyhow::anyhow!("{}", crate::values::default_hop_problem(&problem))
        }
        PlanError::BudgetNeedsOneFamily => anyhow::anyhow!(
            "a route budget (--budget) plans one family at a time; use --family ipv4 or ipv6"
        ),
        PlanError::BadNamePrefix { prefix, reason } => anyhow::anyhow!(
            "--name-prefix {} cannot give valid Azure route names: {reason}",
            tagroute::text::quoted(&prefix)
        ),
        PlanError::EmptyNamePrefix => anyhow::anyhow!(
            "--name-prefix is empty, so every route of the table would look like tagroute's"
        ),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_is_worded_with_flags_here_and_keys_in_a_fleet() {
        let advised = |advice| Notice {
            advice: Some(advice),
            ..Notice::note("so it is")
        };
        let cases = [
            (
                Advice::TagRoutes {
                    tags: vec!["A".into(), "B".into()],
                },
                "add --tag-route A --slack A --tag-route B --slack B",
                "add A, B to tag_route and to slack",
            ),
            (
                Advice::BothFamilies,
                "--family both includes them",
                "family = \"both\" includes them",
            ),
            (
                Advice::NarrowTagRoutes,
                "fewer --tag-route tags or a lower --max-tag-routes narrow the search",
                "fewer tag_route tags or a lower max_tag_routes narrow the search",
            ),
            (
                Advice::SlackTag,
                "--slack TAG allows them",
                "a tag in slack allows them",
            ),
        ];
        for (advice, flags, keys) in cases {
            let n = advised(advice);
            assert_eq!(notice(&n), format!("so it is; {flags}"));
            assert_eq!(n.to_string(), format!("so it is; {keys}"));
        }
        assert_eq!(notice(&Notice::warning("plain")), "plain");
    }

    #[test]
    fn the_flag_is_found_among_the_causes() {
        let e = anyhow::Error::new(ArmError::Timeout {
            what: "GET x".into(),
            secs: 3,
        })
        .context("reading the table");
        assert_eq!(
            error_line(&e),
            "reading the table: GET x: not finished after 3 s (the operation timeout) \
             (--operation-timeout)"
        );
        // As a fleet's table gives it: boxed.
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(ArmError::TooLarge {
            what: "GET x".into(),
            limit: 10,
        });
        assert_eq!(
            error_line(&anyhow::Error::new(Boxed(boxed))),
            "GET x: the answer is larger than the 10 byte limit (--max-bytes)"
        );
        let plain = anyhow::anyhow!("no such file");
        assert_eq!(error_line(&plain), "no such file");
    }
}
