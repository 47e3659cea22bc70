//! The independent checker of every plan: a table's forwarding next to the table's default
//! route, computed by interval arithmetic over the whole address space (longest-prefix match with
//! Azure's tie rule), against the intent. It shares nothing with the minimiser but the trie's
//! vocabulary, so a mistake in one is not repeated in the other.

use super::addr::Addr;
use super::interval::IntervalSet;
use super::minimize::{Hop, Intent};
use super::net::Prefix;

/// Why a table does not implement the intent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("{0} addresses that must reach Internet do not")]
    Dropped(u128),
    #[error("{0} addresses that must take the default route go to Internet")]
    Leaked(u128),
    #[error("a route at the root would replace the table's default route")]
    RootRoute,
}

/// The independent checker: the forwarding of `routes` next to the table's default route,
/// computed by interval arithmetic over the whole space, against the intent. Returns the number
/// of extra addresses sent `In`.
pub fn check<A: Addr>(intent: &Intent<A>, routes: &[(Prefix<A>, Hop)]) -> Result<u128, CheckError> {
    check_with_tags(intent, &[], routes)
}

/// The addresses that `routes`, next to service-tag routes expanded into `tags` and the table's
/// default route, send `In`, by longest-prefix match with Azure's tie rule (an explicit prefix,
/// the default route included, beats a tag route's equal prefix).
pub fn sent_in<A: Addr>(tags: &[Prefix<A>], routes: &[(Prefix<A>, Hop)]) -> IntervalSet<A> {
    // Later entries win ties in `lpm_segments`: tag routes first, then the explicit routes.
    let mut table: Vec<(Prefix<A>, Hop)> = tags.iter().map(|&p| (p, Hop::In)).collect();
    table.push((Prefix::containing(A::ZERO, 0), Hop::Out));
    table.extend_from_slice(routes);
    super::lpm::forwarded_where(&super::lpm::lpm_segments(&table), |h| h == Hop::In)
}

/// [`check`] with service-tag routes expanded into `tags` beside the explicit `routes`.
pub fn check_with_tags<A: Addr>(
    intent: &Intent<A>,
    tags: &[Prefix<A>],
    routes: &[(Prefix<A>, Hop)],
) -> Result<u128, CheckError> {
    if routes.iter().any(|r| r.0.is_default()) {
        return Err(CheckError::RootRoute);
    }
    let sent_in = sent_in(tags, routes);
    let dropped = intent.inside.subtract(&sent_in).count();
    if dropped > 0 {
        return Err(CheckError::Dropped(dropped));
    }
    let extra = sent_in.subtract(&intent.inside);
    let leaked = extra.subtract(&intent.slack).count();
    if leaked > 0 {
        return Err(CheckError::Leaked(leaked));
    }
    Ok(extra.count())
}
