//! The service-tag reader on any bytes: no panic, and the two-thread reading, cut anywhere,
//! agrees with the one-thread reader. The first two bytes choose the cut.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (cut, file) = match data {
        [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]) as usize, rest),
        _ => (0, data),
    };
    let _ = tagroute::snapshot::parse("fuzz", file);
    tagroute::snapshot::check_split_reading(file, cut.min(file.len()));
});
