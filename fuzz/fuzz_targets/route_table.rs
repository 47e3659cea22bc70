//! The route-table reader on any bytes: no panic, and every route it takes has a name Azure
//! allows.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(table) = tagroute::routes::parse("fuzz", data) {
        for r in &table.routes {
            assert!(tagroute::plan::check_route_name(&r.name).is_ok(), "{:?}", r.name);
        }
    }
});
