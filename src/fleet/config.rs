//! The fleet file, `tagroute.toml`: the plan options every table shares (`[defaults]`) and one
//! `[[table]]` per route table, each naming its Resource Manager `id` and `region` and
//! overriding any option. Keys are the one-table flags with `_` for `-`. The file is read whole
//! and checked whole before any table is touched: an unknown key, a duplicate table, a value out
//! of range or a name prefix Azure would refuse is one error naming the table and the key.
//! Checks that need the cloud's file (is the region one of its regions?) are
//! [`TableSpec::check_against`], run for every table before any is read.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;

use crate::arm::{ApplyOptions, RouteTableId, WriteMode};
use crate::emit::Target;
use crate::options::{self, Note, TableOptions};
use crate::plan::Strategy;
use crate::request::{PlanRequest, parse_default_next_hop};
use crate::select::{self, FamilyChoice};
use crate::snapshot::{Cloud, Snapshot};
use crate::text::by_name;

const MISSING_ID: &str = "missing: each table names its route table's Resource Manager id";

/// Largest fleet file read.
pub(crate) const MAX_CONFIG_BYTES: usize = 4 << 20;
/// Most tables one file may hold (a subscription may hold 600 route tables).
pub(crate) const MAX_TABLES: usize = 10_000;

/// One `[defaults]` or `[[table]]` as written: every key optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    /// A table's name in reports and for `--table` (default: the route table's name).
    name: Option<String>,
    /// The route table's Resource Manager id.
    id: Option<String>,
    cloud: Option<String>,
    region: Option<String>,
    tag: Option<Vec<String>>,
    profile: Option<String>,
    family: Option<String>,
    name_prefix: Option<String>,
    max_routes: Option<usize>,
    budget: Option<usize>,
    strategy: Option<String>,
    default_next_hop: Option<String>,
    slack: Option<Vec<String>>,
    allow_any_slack: Option<bool>,
    tag_route: Option<Vec<String>>,
    max_tag_routes: Option<usize>,
    max_changes: Option<usize>,
    write: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    defaults: Entry,
    #[serde(default)]
    table: Vec<Entry>,
}

/// One route table of the fleet, every option resolved. A one-table run is a fleet of one such
/// table ([`TableSpec::one`]), which may also be a file of routes or no table at all.
#[derive(Clone, Debug)]
pub struct TableSpec {
    /// Its name in reports, for `--table`, and its state's directory under `tables/`.
    pub name: String,
    /// The live table, read (and with apply, written) through Resource Manager. Every table of
    /// a fleet file has one.
    pub id: Option<RouteTableId>,
    /// A file of the table's routes to diff against, when no live table is read.
    pub existing: Option<String>,
    /// Where a rendering of its plan puts the routes (resource group, route table).
    pub target: Target,
    pub cloud: Cloud,
    /// What to plan for it.
    pub request: PlanRequest,
    /// How a change to it is bounded and written.
    pub apply: ApplyOptions,
    /// What its options tell the user (an old spelling read), in the layers `[defaults]`
    /// (index 1) and the table (index 2).
    pub notes: Vec<Note>,
}

/// Why the fleet file was refused: where, and what.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}")]
    Read {
        path: String,
        #[source]
        err: std::io::Error,
    },
    #[error("{path}: larger than {MAX_CONFIG_BYTES} bytes")]
    TooLarge { path: String },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {place}: {message}")]
    Invalid {
        path: String,
        place: Place,
        message: String,
    },
    #[error("{path}: no [[table]]: a fleet file names at least one route table")]
    Empty { path: String },
    #[error("{path}: more than {MAX_TABLES} tables")]
    TooMany { path: String },
}

/// Where in the file a problem is: `[defaults]`, or a table by number and name.
#[derive(Debug, Clone)]
pub enum Place {
    Defaults {
        key: &'static str,
    },
    Table {
        /// 1-based, in file order.
        number: usize,
        name: Option<String>,
        key: &'static str,
    },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Defaults { key } => write!(f, "[defaults] {key}"),
            Place::Table { number, name, key } => {
                write!(f, "table {number}")?;
                if let Some(n) = name {
                    write!(f, " ({})", crate::text::quoted(n))?;
                }
                write!(f, " {key}")
            }
        }
    }
}

/// Reads and checks a fleet file; a table that names no cloud (nor does `[defaults]`) is of
/// `default_cloud`.
pub fn load(path: &str, default_cloud: Cloud) -> Result<Vec<TableSpec>, ConfigError> {
    let read = |err| ConfigError::Read {
        path: path.to_owned(),
        err,
    };
    // A regular file, opened without blocking (a FIFO is refused, not waited on), read within
    // the bound whatever size it reports (`/dev/zero` reports none).
    let bytes = match crate::fsutil::read_bounded(
        std::path::Path::new(path),
        MAX_CONFIG_BYTES as u64,
        false,
    ) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(ConfigError::TooLarge {
                path: path.to_owned(),
            });
        }
        Err(e) => return Err(read(e)),
    };
    parse(path, &bytes, default_cloud)
}

/// Whether byte `at` of a fleet file lies under its `[defaults]` header.
fn in_defaults(text: &str, at: usize) -> bool {
    let before = &text[..at.min(text.len())];
    before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .is_some_and(|header| header.starts_with("[defaults]"))
}

/// Checks a fleet file's text, as [`load`]; `path` names it in errors.
///
/// ```
/// use tagroute::snapshot::Cloud;
/// let text = r#"
/// [defaults]
/// region = "westeurope"
///
/// [[table]]
/// id = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt-a"
///
/// [[table]]
/// name = "b"
/// id = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt-b"
/// max_changes = 10
/// "#;
/// let tables = tagroute::fleet::config::parse("tagroute.toml", text.as_bytes(), Cloud::Public).unwrap();
/// assert_eq!(tables[0].name, "rt-a");
/// assert_eq!((tables[1].name.as_str(), tables[1].apply.max_changes), ("b", 10));
/// let bad = "[[table]]\nid = \"x\"\nregion = \"westeurope\"\nmax_routes = 0\n";
/// let e = tagroute::fleet::config::parse("f.toml", bad.as_bytes(), Cloud::Public).unwrap_err();
/// assert_eq!(e.to_string(), "f.toml: table 1 max_routes: 0 is out of range (1 to 100000)");
/// ```
pub fn parse(
    path: &str,
    bytes: &[u8],
    default_cloud: Cloud,
) -> Result<Vec<TableSpec>, ConfigError> {
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge {
            path: path.to_owned(),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_column(bytes, e.valid_up_to());
        ConfigError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message: "not UTF-8".into(),
        }
    })?;
    let file: File = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        let (line, column) = line_column(bytes, at);
        let mut message = crate::text::for_terminal(e.message().trim()).replace("\\n", " ");
        // [defaults] and a [[table]] are read alike, but a table's own keys are no valid key
        // of [defaults]: an unknown key there lists the keys valid there.
        if in_defaults(text, at) {
            message = message.replace("`name`, `id`, ", "");
        }
        ConfigError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message,
        }
    })?;
    let per_table = [
        ("name", file.defaults.name.is_some()),
        ("id", file.defaults.id.is_some()),
    ];
    if let Some((key, _)) = per_table.into_iter().find(|(_, given)| *given) {
        return Err(ConfigError::Invalid {
            path: path.to_owned(),
            place: Place::Defaults { key },
            message: "belongs in a [[table]]: each table has its own".into(),
        });
    }
    if file.table.is_empty() {
        return Err(ConfigError::Empty {
            path: path.to_owned(),
        });
    }
    if file.table.len() > MAX_TABLES {
        return Err(ConfigError::TooMany {
            path: path.to_owned(),
        });
    }
    // Options of [defaults] are read once and checked once, as [defaults].
    let to_error = |(place, message)| ConfigError::Invalid {
        path: path.to_owned(),
        place,
        message,
    };
    let defaults = layer(&file.defaults, &|key| Place::Defaults { key }).map_err(to_error)?;
    resolve(&defaults, &Entry::default(), default_cloud, &|key| {
        Place::Defaults { key }
    })
    .map_err(to_error)?;
    let mut specs: Vec<TableSpec> = Vec::with_capacity(file.table.len());
    let mut by_id: HashMap<String, (usize, String)> = HashMap::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (i, entry) in file.table.iter().enumerate() {
        let number = i + 1;
        let place = |key| Place::Table {
            number,
            name: entry.name.clone(),
            key,
        };
        let invalid = |place: Place, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            place,
            message,
        };
        let Some(spec) =
            resolve(&defaults, entry, default_cloud, &place).map_err(|(p, m)| invalid(p, m))?
        else {
            return Err(invalid(place("id"), MISSING_ID.into()));
        };
        let id_key = spec.shown().to_ascii_lowercase();
        if let Some((first, first_name)) = by_id.insert(id_key, (number, spec.name.clone())) {
            return Err(invalid(
                place("id"),
                format!(
                    "{} ({}) is the same route table as table {first} ({})",
                    crate::text::quoted(&spec.name),
                    spec.shown(),
                    crate::text::quoted(&first_name)
                ),
            ));
        }
        if let Some(first) = by_name.insert(spec.name.to_ascii_lowercase(), number) {
            return Err(invalid(
                place("name"),
                format!(
                    "{} is also table {first}'s name; give one of them another `name`",
                    crate::text::quoted(&spec.name)
                ),
            ));
        }
        specs.push(spec);
    }
    Ok(specs)
}

fn line_column(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    (line, before.len() - start + 1)
}

type Problem = (Place, String);

/// An entry as a layer of options: its values read (names of clouds, families, strategies,
/// write modes and next hops), not yet checked together; a value that cannot be read is a
/// problem where it was written.
fn layer(entry: &Entry, place: &dyn Fn(&'static str) -> Place) -> Result<TableOptions, Problem> {
    fn named<T: Copy>(
        place: &dyn Fn(&'static str) -> Place,
        key: &'static str,
        text: &Option<String>,
        all: &[T],
        name: fn(T) -> &'static str,
    ) -> Result<Option<T>, Problem> {
        match text {
            None => Ok(None),
            Some(text) => by_name(all, name, text)
                .map(Some)
                .map_err(|e| (place(key), e)),
        }
    }
    let cloud = match &entry.cloud {
        None => None,
        Some(text) => Some(Cloud::parse(text).ok_or_else(|| {
            (
                place("cloud"),
                format!(
                    "{} is not a cloud (public, usgov or china)",
                    crate::text::quoted(text)
                ),
            )
        })?),
    };
    let default_next_hop = match &entry.default_next_hop {
        None => None,
        Some(text) => Some(
            parse_default_next_hop(text).map_err(|e| (place("default_next_hop"), e.to_string()))?,
        ),
    };
    Ok(TableOptions {
        cloud,
        region: entry.region.clone(),
        tags: entry.tag.clone(),
        profile: entry.profile.clone(),
        family: named(
            place,
            "family",
            &entry.family,
            &FamilyChoice::ALL,
            FamilyChoice::as_str,
        )?,
        name_prefix: entry.name_prefix.clone(),
        max_routes: entry.max_routes,
        budget: entry.budget,
        strategy: named(
            place,
            "strategy",
            &entry.strategy,
            &Strategy::ALL,
            Strategy::as_str,
        )?,
        default_next_hop,
        slack: entry.slack.clone(),
        allow_any_slack: entry.allow_any_slack,
        tag_routes: entry.tag_route.clone(),
        max_tag_routes: entry.max_tag_routes,
        max_changes: entry.max_changes,
        write: named(
            place,
            "write",
            &entry.write,
            &WriteMode::ALL,
            WriteMode::as_str,
        )?,
    })
}

/// The table `entry` with `defaults` (the `[defaults]` layer) under it and `default_cloud` under
/// both, its options resolved by [`options::resolve`]; `None` when it names no `id`
/// (`[defaults]` itself, or a table missing one).
fn resolve(
    defaults: &TableOptions,
    entry: &Entry,
    default_cloud: Cloud,
    place: &dyn Fn(&'static str) -> Place,
) -> Result<Option<TableSpec>, Problem> {
    let fail = |key: &'static str, message: String| (place(key), message);
    let base = TableOptions {
        cloud: Some(default_cloud),
        ..TableOptions::default()
    };
    let own = layer(entry, place)?;
    let resolved = options::resolve(&[&base, defaults, &own]).map_err(|e| {
        let at = match e.layer {
            2 => place(e.key.name()),
            _ => Place::Defaults { key: e.key.name() },
        };
        (at, e.problem.to_string())
    })?;
    // [defaults] itself, or a table without an id (which its caller refuses).
    let Some(id_text) = &entry.id else {
        return Ok(None);
    };
    let id: RouteTableId = id_text
        .parse()
        .map_err(|e| fail("id", format!("{}: {e}", crate::text::quoted(id_text))))?;
    let request = &resolved.request;
    // Whatever the layers under it hold (an empty tag list at most), the table lacks it.
    if request.region.is_none() && request.tags.is_empty() {
        return Err(fail(
            "region",
            "missing: each table names its region (or tags to route)".into(),
        ));
    }
    let name = match &entry.name {
        Some(n) => {
            crate::model::check_route_name(n)
                .map_err(|e| fail("name", e.about("a table name").to_string()))?;
            n.clone()
        }
        None => id.name.clone(),
    };
    Ok(Some(TableSpec {
        name,
        target: Target {
            resource_group: Some(id.resource_group.clone()),
            route_table: Some(id.name.clone()),
        },
        id: Some(id),
        existing: None,
        cloud: resolved.cloud,
        apply: resolved.apply(),
        notes: resolved.notes.clone(),
        request: resolved.request,
    }))
}

/// The name of a one-table run's table when it has no live table.
pub const ONE_TABLE: &str = "default";

impl TableSpec {
    /// One table with its options resolved ([`options::resolve`]): the live table `id`, else
    /// the routes of `existing`, else none (a plan recorded alone). Its name is the live table's
    /// name, else [`ONE_TABLE`].
    pub fn one(
        id: Option<RouteTableId>,
        existing: Option<String>,
        options: options::Resolved,
        target: Target,
    ) -> TableSpec {
        TableSpec {
            name: id
                .as_ref()
                .map_or(ONE_TABLE, |id| id.name.as_str())
                .to_owned(),
            id,
            existing,
            target,
            cloud: options.cloud,
            apply: options.apply(),
            notes: options.notes.clone(),
            request: options.request,
        }
    }

    /// The table as the report names it: its id, its file of routes, or nothing.
    pub fn shown(&self) -> String {
        match (&self.id, &self.existing) {
            (Some(id), _) => id.to_string(),
            (None, Some(path)) => path.clone(),
            (None, None) => String::new(),
        }
    }

    /// Checks what needs the cloud's file: the region is one of its regions.
    pub fn check_against(&self, snapshot: &Snapshot) -> Result<(), select::SelectError> {
        if let Some(region) = &self.request.region {
            select::resolve_region(snapshot, region)?;
        }
        Ok(())
    }
}
