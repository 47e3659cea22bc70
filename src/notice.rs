//! What the user should read about a plan: a notice states what is so in the library's words
//! and types what the user could change ([`Advice`], in terms of options), so that each reader
//! words it in its own terms: the command line with its flags, a fleet run with its file's keys
//! (this module's `Display`), a fleet report's JSON as it is. No flag or key is spelled in a
//! notice's text.

/// Something the user should read about a plan (on stderr, for the command line; in a fleet
/// report, as `{"level", "text", "advice"}`).
///
/// ```
/// use tagroute::notice::{Advice, Notice};
/// let n = Notice { advice: Some(Advice::BothFamilies), ..Notice::note("left out 2 IPv6 prefixes") };
/// assert_eq!(n.to_string(), "left out 2 IPv6 prefixes; family = \"both\" includes them");
/// let json = serde_json::to_value(&n).unwrap();
/// assert_eq!(json["advice"], serde_json::json!({"kind": "bothFamilies"}));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Notice {
    pub level: Level,
    /// What is so, in the library's words (no flag or key spelled).
    pub text: String,
    /// What the user could change, in terms of options: whoever prints the notice words it
    /// (the command line with its flags, a fleet report with the file's keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<Advice>,
}

/// How much a [`Notice`] matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The plan may not be what was meant.
    Warning,
    /// What the plan does beyond the obvious.
    Note,
}

/// What a notice advises, as options to set.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Advice {
    /// Route these tags as service-tag routes: each in `tag_route` and in `slack`.
    TagRoutes { tags: Vec<String> },
    /// `family` both plans the IPv6 prefixes left out.
    BothFamilies,
    /// Fewer `tag_route` patterns or a lower `max_tag_routes` narrow the tag-route search.
    NarrowTagRoutes,
    /// A tag named in `slack` lets its tag route be weighed.
    SlackTag,
}

impl Level {
    /// `warning` or `note`.
    pub fn word(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }
}

impl Notice {
    pub fn warning(text: impl Into<String>) -> Notice {
        Notice {
            level: Level::Warning,
            text: text.into(),
            advice: None,
        }
    }

    pub fn note(text: impl Into<String>) -> Notice {
        Notice {
            level: Level::Note,
            text: text.into(),
            advice: None,
        }
    }

    pub(crate) fn advising(self, advice: Advice) -> Notice {
        Notice {
            advice: Some(advice),
            ..self
        }
    }
}

/// The advice in the options' own names, as a fleet file spells them.
impl std::fmt::Display for Advice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::options::Key;
        match self {
            Advice::TagRoutes { tags } => write!(
                f,
                "add {} to {} and to {}",
                tags.join(", "),
                Key::TagRoute,
                Key::Slack
            ),
            Advice::BothFamilies => write!(f, "{} = \"both\" includes them", Key::Family),
            Advice::NarrowTagRoutes => write!(
                f,
                "fewer {} tags or a lower {} narrow the search",
                Key::TagRoute,
                Key::MaxTagRoutes
            ),
            Advice::SlackTag => write!(f, "a tag in {} allows them", Key::Slack),
        }
    }
}

/// The notice's text, then its advice in the options' own names.
impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)?;
        match &self.advice {
            Some(advice) => write!(f, "; {advice}"),
            None => Ok(()),
        }
    }
}
