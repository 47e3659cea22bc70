//! One integration test binary: each module covers one feature, running the built `tagroute`
//! on real service-tag files the repository carries (`cli/tests/data/servicetags/`, decompressed
//! into `target/test-data/`; or `$TAGROUTE_TEST_DATA`).

mod harness;
#[path = "../../../tests/model/mod.rs"]
mod model;

mod aggregate;
mod arm;
mod arm_cost;
mod arm_recorded;
mod arm_refresh;
mod arm_tokens;
mod check;
mod check_live;
mod diff;
mod drift;
mod errors;
mod examples;
mod fake_arm;
mod fake_fleet;
mod fake_identity;
mod fetch;
mod fleet;
mod fleet_config;
mod fleet_cost;
mod fleet_refresh;
mod formats;
mod fuzz_corpus;
mod hostile;
mod lookup;
mod newcomer;
mod pinned;
mod plan_real;
mod profiles;
mod properties;
mod reading;
mod refresh;
mod safety;
mod server;
mod strategies;
mod tables;
mod tag_routes;
mod tags_resolve;
