//! The library names options by what they are ("the operation timeout", a key such as `slack`);
//! the command line's error line adds the flag that sets the option an error is about, found by
//! the error's type anywhere in its chain of causes.

use tagroute::arm::{ApplyError, ArmError, AuthError};
use tagroute::diff::DiffError;
use tagroute::discover::DiscoverError;
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
fn flag(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(Boxed(inner)) = err.downcast_ref::<Boxed>() {
        return flag(&**inner);
    }
    if let Some(e) = err.downcast_ref::<ArmError>() {
        return match e {
            ArmError::Timeout { .. } => Some("--operation-timeout".into()),
            ArmError::TooLarge { .. } => Some("--max-bytes".into()),
            _ => None,
        };
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
    match err.chain().find_map(flag) {
        Some(f) => format!("{text} ({f})"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
