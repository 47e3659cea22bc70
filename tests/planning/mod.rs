//! Plans through the library for the specifications under `tests/`: options as a fleet file
//! gives them, the plan as `plan --format json` writes it, and its notices as a fleet report
//! words them. Synthetic files are built by the model (`tag_doc`) and parsed here.

#![allow(dead_code)]

use serde_json::Value;
use tagroute::emit::{PlanFormat, Target};
use tagroute::options::{TableOptions, resolve};
use tagroute::request::{RequestError, plan_request};
use tagroute::snapshot::Snapshot;

/// A plan as `plan --format json` writes it, and its notices.
pub struct Planned {
    pub json: Value,
    pub notices: Vec<String>,
}

/// The plan of `options` (checked first: they must be valid) from `snapshot`.
pub fn try_plan(snapshot: &Snapshot, options: &TableOptions) -> Result<Planned, RequestError> {
    let request = resolve(&[options]).expect("valid options").request;
    let planned = plan_request(snapshot, &request, None)?;
    let text = tagroute::emit::render_plan(&planned.plan, PlanFormat::Json, &Target::default());
    Ok(Planned {
        json: serde_json::from_str(&text).unwrap(),
        notices: planned.notices.iter().map(ToString::to_string).collect(),
    })
}

/// [`try_plan`], which must give a plan.
pub fn plan(snapshot: &Snapshot, options: &TableOptions) -> Planned {
    try_plan(snapshot, options).unwrap_or_else(|e| panic!("{e}: {options:?}"))
}

/// A public file of `(name, has UDR, prefixes)` tags, parsed.
pub fn tag_snapshot<P: AsRef<str>>(tags: &[(&str, bool, &[P])]) -> Snapshot {
    tagroute::snapshot::parse("tags.json", crate::model::tag_doc(tags).as_bytes()).unwrap()
}

/// The real file `name` of the repository's set, parsed.
pub fn real(name: &str) -> Snapshot {
    let path = crate::model::snapshot(&crate::model::data_dir(), name);
    tagroute::snapshot::load(&path).unwrap()
}

/// Strings, for the options' lists.
pub fn strings(list: &[&str]) -> Option<Vec<String>> {
    Some(list.iter().map(|s| (*s).to_owned()).collect())
}
