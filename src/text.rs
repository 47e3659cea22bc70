//! Text that comes from outside: the grammars its names must follow, and how it is shown.
//!
//! Service-tag files, route tables and HTTP answers are untrusted. Their names end up in
//! generated scripts, templates, tables and error messages, so they are held to a strict grammar
//! when they are loaded (Azure's own names never need more), and anything shown on a terminal
//! goes through [`for_terminal`], which makes control characters visible instead of obeying them.
//! Each output format still escapes its own syntax (see `emit`); this module is the first wall,
//! not the only one.

use std::borrow::Cow;
use std::fmt::Write;

/// Longest service-tag name accepted (Azure's longest is under 50 characters; a route name,
/// which may hold a tag name, has at most 80).
pub const MAX_TAG_NAME_LEN: usize = 80;
/// Longest header value (region, platform, service, network feature) accepted.
pub const MAX_LABEL_LEN: usize = 80;

/// An error and the causes under it, on one line: `what: why: deeper why`, as the command
/// line prints every error. Library errors carry their cause as a source rather than in their
/// own words, so whatever shows one as text (a report, a notification) shows it through this.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    causes(err, false)
}

/// [`chain`], leaving out a cause whose words the text already holds: some libraries (the
/// Azure SDK's credentials among them) repeat their cause in their own message.
pub fn chain_once(err: &(dyn std::error::Error + 'static)) -> String {
    causes(err, true)
}

fn causes(err: &(dyn std::error::Error + 'static), once: bool) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !(once && text.contains(&more)) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// The value of `all` that `name` calls `text` (ignoring ASCII case), else why not, naming them
/// all: how a library enum is read from a word of a file or a command line.
pub fn by_name<T: Copy>(all: &[T], name: fn(T) -> &'static str, text: &str) -> Result<T, String> {
    if let Some(&v) = all.iter().find(|&&v| name(v).eq_ignore_ascii_case(text)) {
        return Ok(v);
    }
    let names: Vec<&str> = all.iter().map(|&v| name(v)).collect();
    let listed = match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    Err(format!("{} is not one of {listed}", quoted(text)))
}

/// Why a name from outside was refused: the rule of Azure's grammar it breaks. `what` names
/// the kind of name ("a route name", "a resource group name", ...).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{what} has {min} to {max} characters, {shown} has {len}")]
    Length {
        what: &'static str,
        min: usize,
        max: usize,
        /// The name, quoted and cut short.
        shown: String,
        len: usize,
    },
    #[error("{what} may not hold {shown} ({allowed} only)")]
    Character {
        what: &'static str,
        /// The character, quoted.
        shown: String,
        allowed: &'static str,
    },
    #[error("{what} {rule}")]
    Shape {
        what: &'static str,
        /// The rule, as "starts with a letter or digit".
        rule: &'static str,
    },
}

impl NameError {
    /// The same error about another kind of name (a route table is named as a route is).
    pub fn about(self, kind: &'static str) -> Self {
        match self {
            NameError::Length {
                min,
                max,
                shown,
                len,
                ..
            } => NameError::Length {
                what: kind,
                min,
                max,
                shown,
                len,
            },
            NameError::Character { shown, allowed, .. } => NameError::Character {
                what: kind,
                shown,
                allowed,
            },
            NameError::Shape { rule, .. } => NameError::Shape { what: kind, rule },
        }
    }
}

pub(crate) fn check_length(
    name: &str,
    what: &'static str,
    min: usize,
    max: usize,
) -> Result<(), NameError> {
    let len = name.chars().count();
    if (min..=max).contains(&len) {
        return Ok(());
    }
    Err(NameError::Length {
        what,
        min,
        max,
        shown: quoted(name),
        len,
    })
}

pub(crate) fn check_chars(
    text: &str,
    what: &'static str,
    allowed_text: &'static str,
    allowed: impl Fn(char) -> bool,
) -> Result<(), NameError> {
    match text.chars().find(|&c| !allowed(c)) {
        None => Ok(()),
        Some(c) => Err(NameError::Character {
            what,
            shown: quoted(c.encode_utf8(&mut [0; 4])),
            allowed: allowed_text,
        }),
    }
}

pub(crate) fn check_rule(
    holds: bool,
    what: &'static str,
    rule: &'static str,
) -> Result<(), NameError> {
    if holds {
        Ok(())
    } else {
        Err(NameError::Shape { what, rule })
    }
}

/// Checks a service-tag name: 1 to [`MAX_TAG_NAME_LEN`] ASCII letters, digits, `.`, `_` and
/// `-`, starting with a letter or digit (`AzureMachineLearning.FranceCentral`).
pub(crate) fn check_tag_name(name: &str) -> Result<(), NameError> {
    const WHAT: &str = "a tag name";
    check_length(name, WHAT, 1, MAX_TAG_NAME_LEN)?;
    check_rule(
        name.starts_with(|c: char| c.is_ascii_alphanumeric()),
        WHAT,
        "starts with a letter or digit",
    )?;
    check_chars(name, WHAT, "letters, digits, '.', '_', '-'", |c| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
    })
}

/// Checks a header value of a tag (region, platform, system service, network feature): at
/// most [`MAX_LABEL_LEN`] ASCII letters, digits, spaces, `.`, `_` and `-`; may be empty.
pub(crate) fn check_label(text: &str) -> Result<(), NameError> {
    const WHAT: &str = "a label";
    check_length(text, WHAT, 0, MAX_LABEL_LEN)?;
    check_chars(text, WHAT, "letters, digits, spaces, '.', '_', '-'", |c| {
        c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-')
    })
}

/// Checks a resource group name as Azure does: 1 to 90 letters, digits, `_`, `-`, `.`, `(`
/// and `)`, not ending with `.`.
pub fn check_resource_group(name: &str) -> Result<(), NameError> {
    const WHAT: &str = "a resource group name";
    check_length(name, WHAT, 1, 90)?;
    check_rule(!name.ends_with('.'), WHAT, "does not end with '.'")?;
    check_chars(
        name,
        WHAT,
        "letters, digits, '_', '-', '.', '(', ')'",
        |c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'),
    )
}

/// Text made safe for a terminal and for one line: control characters (C0, DEL, C1), line and
/// paragraph separators and the bidirectional overrides that reorder what is shown are written
/// as `\u{..}` escapes (`\n`, `\r`, `\t` as such). Borrowed when nothing needs escaping.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    let text = crate::secret::redact(text);
    if !text.chars().any(needs_escape) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// True for characters a terminal would act on or that change how a line reads.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// Longest piece of outside text quoted in a message.
pub const MAX_QUOTED_CHARS: usize = 120;

/// `n` and a noun, the noun plural unless `n` is 1: "1 route", "2 routes", "2 prefixes".
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if ["s", "x", "ch", "sh"].iter().any(|end| noun.ends_with(end)) {
        format!("{n} {noun}es")
    } else {
        format!("{n} {noun}s")
    }
}

/// Outside text for a message: in single quotes, safe for a terminal, cut to
/// [`MAX_QUOTED_CHARS`] characters with the full length said.
pub fn quoted(text: &str) -> String {
    let count = text.chars().count();
    if count <= MAX_QUOTED_CHARS {
        return format!("'{}'", for_terminal(text));
    }
    let head: String = text.chars().take(MAX_QUOTED_CHARS).collect();
    format!("'{}'... ({count} characters)", for_terminal(&head))
}

/// Bytes that may not be text, for a message: in single quotes, every byte outside printable
/// ASCII written as an escape (`\xff`, `\n`), cut to [`MAX_QUOTED_CHARS`] bytes.
pub fn bytes_quoted(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(MAX_QUOTED_CHARS)];
    let more = if head.len() < bytes.len() { "..." } else { "" };
    format!("'{}'{more}", head.escape_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_read_by_its_name_or_refused_naming_them_all() {
        let all = [3u8, 1, 2];
        let name = |v: u8| ["zero", "one", "two", "three"][v as usize];
        assert_eq!(by_name(&all, name, "TWO"), Ok(2));
        assert_eq!(
            by_name(&all, name, "four"),
            Err("'four' is not one of three, one or two".to_owned())
        );
        assert_eq!(
            by_name(&all[..1], name, ""),
            Err("'' is not one of three".to_owned())
        );
    }

    #[test]
    fn an_error_is_shown_with_its_causes() {
        let err = crate::snapshot::LoadError::Io {
            source_name: "f.json".into(),
            err: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        };
        assert_eq!(err.to_string(), "f.json: cannot read");
        assert_eq!(chain(&err), "f.json: cannot read: no such file");
        // A message that already says its cause says it once.
        #[derive(Debug, thiserror::Error)]
        #[error("no token: no such file")]
        struct Repeats(#[source] std::io::Error);
        let err = Repeats(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        ));
        assert_eq!(chain(&err), "no token: no such file: no such file");
        assert_eq!(chain_once(&err), "no token: no such file");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "tag"), "1 tag");
        assert_eq!(plural(0, "tag"), "0 tags");
        assert_eq!(plural(2, "prefix"), "2 prefixes");
        assert_eq!(plural(1, "prefix"), "1 prefix");
        assert_eq!(plural(3, "address"), "3 addresses");
    }

    #[test]
    fn tag_names_follow_azures_grammar() {
        for ok in [
            "AzureCloud",
            "AzureMachineLearning.FranceCentral",
            "A",
            "x-1_2.3",
        ] {
            assert!(check_tag_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".hidden",
            "-x",
            "a b",
            "a\nb",
            "a$(id)",
            "a`b`",
            "a'b",
            "a\"b",
            "a${x}",
            "a%{x}",
            "a\u{1b}[31m",
            "a\0b",
            "é",
            &"a".repeat(81),
        ] {
            assert!(check_tag_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_label("").is_ok() && check_label("centralfrance").is_ok());
        assert!(check_label("West Europe").is_ok());
        assert!(check_label("x\ny").is_err() && check_label(&"a".repeat(81)).is_err());
    }

    #[test]
    fn terminal_text_is_one_inert_line() {
        assert!(matches!(for_terminal("plain text"), Cow::Borrowed(_)));
        assert_eq!(for_terminal("a\nb\r\tc"), "a\\nb\\r\\tc");
        assert_eq!(for_terminal("\u{1b}[2J"), "\\u{1b}[2J");
        assert_eq!(for_terminal("x\u{202e}y\u{85}"), "x\\u{202e}y\\u{85}");
        assert_eq!(for_terminal("\0"), "\\u{0}");
        let long = "z".repeat(500);
        let q = quoted(&long);
        assert!(q.ends_with("... (500 characters)") && q.len() < 150, "{q}");
        assert_eq!(quoted("a\nb"), "'a\\nb'");
        assert_eq!(bytes_quoted(b"\xff\xfe x"), "'\\xff\\xfe x'");
    }
}
