//! The webhook's message in the shape its receiver reads. A run stores its notification as the
//! JSON summary; at delivery it is sent as it is (`json`), as a Microsoft Teams Workflows message
//! (`teams`: an Adaptive Card in a message attachment, the shape the "Send webhook alerts to a
//! channel" workflow posts to a channel) or as a Slack incoming-webhook message (`slack`: `text`
//! in Slack's mrkdwn). The people's forms say in a few lines what changed: the file, the routes,
//! the change to the table, and what was applied or failed.

use serde::Deserialize;
use serde_json::json;

/// How the webhook's message is shaped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MessageFormat {
    /// The JSON summary, as `summary.json` holds it.
    #[default]
    Json,
    /// A Microsoft Teams Workflows message with an Adaptive Card.
    Teams,
    /// A Slack incoming-webhook message.
    Slack,
}

impl MessageFormat {
    /// Every shape, in the order help lists them.
    pub const ALL: [MessageFormat; 3] = [
        MessageFormat::Json,
        MessageFormat::Teams,
        MessageFormat::Slack,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            MessageFormat::Json => "json",
            MessageFormat::Teams => "teams",
            MessageFormat::Slack => "slack",
        }
    }
}

/// The parts of a stored summary the people's forms tell.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Told {
    cloud: String,
    change_number: u64,
    previous_change_number: Option<u64>,
    region: Option<String>,
    route_table: Option<String>,
    routes: usize,
    changed: bool,
    plan_changes: Changes,
    diff: Option<Counts>,
    apply: Option<Applied>,
}

#[derive(Deserialize)]
struct Changes {
    add: Vec<String>,
    remove: Vec<String>,
}

#[derive(Deserialize)]
struct Counts {
    add: usize,
    update: usize,
    remove: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Applied {
    applied: Vec<serde_json::Value>,
    not_applied: Vec<serde_json::Value>,
    unknown: Vec<serde_json::Value>,
    verified: bool,
    error: Option<String>,
}

/// The message to POST for a stored notification `body` (a run's JSON summary).
pub fn render(body: &[u8], format: MessageFormat) -> Result<Vec<u8>, serde_json::Error> {
    if format == MessageFormat::Json {
        return Ok(body.to_vec());
    }
    let (title, lines) = match serde_json::from_slice::<Failures>(body) {
        Ok(f) => failure_lines(&f),
        Err(_) => lines(&serde_json::from_slice::<Told>(body)?),
    };
    let message = match format {
        MessageFormat::Json => unreachable!("returned above"),
        MessageFormat::Teams => teams(&title, &lines),
        MessageFormat::Slack => slack(&title, &lines),
    };
    serde_json::to_vec(&message)
}

/// A fleet run's tables that failed, as its state keeps them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Failures {
    failed_tables: Vec<FailedTable>,
}

#[derive(Deserialize)]
struct FailedTable {
    name: String,
    cloud: String,
    region: Option<String>,
    error: String,
}

/// A title and a line per table that failed, with why.
fn failure_lines(f: &Failures) -> (String, Vec<String>) {
    let title = format!(
        "tagroute: {} failed",
        crate::text::plural(f.failed_tables.len(), "route table")
    );
    let lines = f
        .failed_tables
        .iter()
        .map(|t| {
            let line = format!(
                "{} ({} {}): {}",
                t.name,
                t.cloud,
                t.region.as_deref().unwrap_or("selected tags"),
                t.error
            );
            crate::text::for_terminal(&line).into_owned()
        })
        .collect();
    (title, lines)
}

/// A title and a few lines: the file and routes, the change, what was applied.
fn lines(t: &Told) -> (String, Vec<String>) {
    let place = t.region.as_deref().unwrap_or("selected tags");
    let table = match t
        .route_table
        .as_deref()
        .and_then(|id| id.rsplit('/').next())
    {
        Some(name) => format!(" {name}"),
        None => String::new(),
    };
    let title = format!(
        "tagroute: {} {place}{table}, changeNumber {}{}",
        t.cloud,
        t.change_number,
        t.previous_change_number
            .map(|p| format!(" (was {p})"))
            .unwrap_or_default()
    );
    let mut lines = vec![format!(
        "{} planned; {}",
        crate::text::plural(t.routes, "route"),
        if t.changed {
            "routes must change"
        } else {
            "no route changes"
        }
    )];
    if !t.plan_changes.add.is_empty() || !t.plan_changes.remove.is_empty() {
        lines.push(format!(
            "plan: {} gained, {} lost since the last run",
            t.plan_changes.add.len(),
            t.plan_changes.remove.len()
        ));
    }
    if let Some(d) = &t.diff {
        lines.push(format!(
            "table: {} to add, {} to update, {} to remove",
            d.add, d.update, d.remove
        ));
    }
    if let Some(a) = &t.apply {
        let state = match (&a.error, a.verified) {
            (None, true) => "applied and verified".to_owned(),
            (Some(e), _) => format!("FAILED: {e}"),
            (None, false) => "FAILED: the table still differs".to_owned(),
        };
        lines.push(format!(
            "apply: {} written, {} not, {} unknown; {state}",
            a.applied.len(),
            a.not_applied.len(),
            a.unknown.len()
        ));
    }
    // What comes from outside (tag and route names, error texts) is shown as plain text.
    let lines = lines
        .into_iter()
        .map(|l| crate::text::for_terminal(&l).into_owned())
        .collect();
    (crate::text::for_terminal(&title).into_owned(), lines)
}

/// A Teams Workflows message: an Adaptive Card whose every line is a `RichTextBlock` of one
/// `TextRun`. A `TextBlock` renders Markdown, so a route name or a server's error text such as
/// `[click](https://…)` would become a link in the channel; a `TextRun` is plain text (Adaptive
/// Cards schema 1.2 and later: "TextRun does not support Markdown").
fn teams(title: &str, lines: &[String]) -> serde_json::Value {
    let run = |text: &str, bold: bool| {
        let mut run = json!({"type": "TextRun", "text": text});
        if bold {
            run["weight"] = json!("Bolder");
        }
        run
    };
    let mut blocks = vec![json!({"type": "RichTextBlock", "inlines": [run(title, true)]})];
    blocks.extend(
        lines.iter().map(
            |l| json!({"type": "RichTextBlock", "inlines": [run(l, false)], "spacing": "None"}),
        ),
    );
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": blocks,
            },
        }],
    })
}

/// Slack's longest header text, and longest section text (Block Kit's documented limits).
const SLACK_HEADER_MAX: usize = 150;
const SLACK_SECTION_MAX: usize = 3000;

/// A Slack incoming-webhook message in plain text: a `header` block for the title and a
/// `section` of `plain_text` for the lines, and the same words as the notification's fallback
/// `text` with `mrkdwn` off. Nothing in it is read as mrkdwn (`*`, `_`, `~`, backticks) and `&`,
/// `<`, `>` are escaped as Slack asks, so no name or error text becomes emphasis, a link or a
/// mention.
fn slack(title: &str, lines: &[String]) -> serde_json::Value {
    let cut = |text: &str, max: usize| -> String {
        if text.chars().count() <= max {
            text.to_owned()
        } else {
            let mut t: String = text.chars().take(max - 1).collect();
            t.push('…');
            t
        }
    };
    let title = slack_escape(title);
    let body = slack_escape(&lines.join("\n"));
    json!({
        "text": cut(&format!("{title}\n{body}"), SLACK_SECTION_MAX),
        "mrkdwn": false,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": cut(&title, SLACK_HEADER_MAX)}},
            {"type": "section", "text": {"type": "plain_text", "text": cut(&body, SLACK_SECTION_MAX)}},
        ],
    })
}

/// Text for Slack: `&`, `<` and `>` escaped as Slack asks, so no name in the message becomes a
/// link or a mention.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = r#"{"runId":"1","cloud":"Public","changeNumber":376,
        "previousChangeNumber":375,"region":"eastus","tags":[],"routes":26,"tagRoutes":[],
        "changed":true,"planChanges":{"add":["a"],"remove":[]},"drift":null,
        "diff":{"existing":3,"managed":2,"unmanaged":1,"add":1,"update":0,"remove":0,
        "unchanged":2,"conflicts":0,"redundant":0,"routesAfter":4,"maxRoutes":1000},
        "apply":{"mode":"table","applied":[{}],"notApplied":[],"unknown":[],
        "error":"a <b> & c","rereads":0,"writeRequests":1,"verified":false,"remaining":0,
        "differences":[]},"source":{"file":"x"}}"#;

    #[test]
    fn json_is_the_summary_as_stored() {
        assert_eq!(
            render(SUMMARY.as_bytes(), MessageFormat::Json).unwrap(),
            SUMMARY.as_bytes()
        );
    }

    #[test]
    fn a_stored_body_that_is_no_summary_is_refused_for_people() {
        for format in [MessageFormat::Teams, MessageFormat::Slack] {
            assert!(render(b"{\"runId\":\"1\"}", format).is_err());
            assert!(render(b"not json", format).is_err());
        }
    }

    /// The card's lines, as its `TextRun`s hold them.
    fn card_lines(v: &serde_json::Value) -> Vec<String> {
        let a = &v["attachments"][0];
        assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
        assert_eq!(a["content"]["type"], "AdaptiveCard");
        a["content"]["body"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                assert_eq!(b["type"], "RichTextBlock", "no block renders Markdown");
                assert_eq!(b["inlines"][0]["type"], "TextRun");
                b["inlines"][0]["text"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    #[test]
    fn teams_gets_an_adaptive_card_in_a_message() {
        let v: serde_json::Value =
            serde_json::from_slice(&render(SUMMARY.as_bytes(), MessageFormat::Teams).unwrap())
                .unwrap();
        assert_eq!(v["type"], "message");
        assert_eq!(
            card_lines(&v),
            [
                "tagroute: Public eastus, changeNumber 376 (was 375)",
                "26 routes planned; routes must change",
                "plan: 1 gained, 0 lost since the last run",
                "table: 1 to add, 0 to update, 0 to remove",
                "apply: 1 written, 0 not, 0 unknown; FAILED: a <b> & c",
            ]
        );
    }

    #[test]
    fn slack_gets_escaped_plain_text() {
        let v: serde_json::Value =
            serde_json::from_slice(&render(SUMMARY.as_bytes(), MessageFormat::Slack).unwrap())
                .unwrap();
        assert_eq!(v["mrkdwn"], false);
        let text = v["text"].as_str().unwrap();
        assert!(text.starts_with("tagroute: Public eastus, changeNumber 376 (was 375)\n"));
        assert!(text.ends_with("FAILED: a &lt;b&gt; &amp; c"), "{text}");
        assert_eq!(v["blocks"][0]["type"], "header");
        for b in v["blocks"].as_array().unwrap() {
            assert_eq!(b["text"]["type"], "plain_text", "nothing is read as mrkdwn");
        }
    }

    /// Outside text (a server's error, a table name) in a message stays text: no link, no
    /// emphasis, no mention, no control character, in either form.
    #[test]
    fn hostile_text_is_not_markup() {
        let hostile =
            "[click](https://evil.example) **now** _x_ ~y~ `z` <!channel> <@U1> \u{7}\u{1b}[31m";
        let quoted = serde_json::to_string(hostile).unwrap();
        let summary = SUMMARY.replace("a <b> & c", &quoted[1..quoted.len() - 1]);
        let teams: serde_json::Value =
            serde_json::from_slice(&render(summary.as_bytes(), MessageFormat::Teams).unwrap())
                .unwrap();
        let last = card_lines(&teams).pop().unwrap();
        assert!(
            last.contains("[click](https://evil.example) **now**"),
            "{last}"
        );
        assert!(
            !last.contains('\u{1b}') && !last.contains('\u{7}'),
            "{last}"
        );
        let slack: serde_json::Value =
            serde_json::from_slice(&render(summary.as_bytes(), MessageFormat::Slack).unwrap())
                .unwrap();
        let text = slack["blocks"][1]["text"]["text"].as_str().unwrap();
        assert!(text.contains("&lt;!channel&gt; &lt;@U1&gt;"), "{text}");
        assert!(
            !text.contains("<!channel>") && !text.contains('\u{1b}'),
            "{text}"
        );
        assert_eq!(slack["mrkdwn"], false);
    }
}
