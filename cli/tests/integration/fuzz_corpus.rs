//! Replays the corpus each fuzz target keeps under `fuzz/corpus/` (the inputs that reached new
//! code, and every finding) through the same checks the fuzzer runs, in every test run.

#[allow(dead_code)]
#[path = "../../../fuzz/checks.rs"]
mod checks;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = crate::harness::repo().join("fuzz/corpus").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{target}: {} fails", path.display());
        n += 1;
    }
    assert!(n > 0, "{target}: empty corpus");
}

#[test]
fn service_tags_corpus() {
    replay("service_tags", checks::service_tags);
}

#[test]
fn route_table_corpus() {
    replay("route_table", checks::route_table);
}

#[test]
fn aggregate_lines_corpus() {
    replay("aggregate_lines", checks::aggregate_lines);
}

#[test]
fn lookup_lines_corpus() {
    replay("lookup_lines", checks::lookup_lines);
}

#[test]
fn arguments_corpus() {
    replay("arguments", checks::arguments);
}
