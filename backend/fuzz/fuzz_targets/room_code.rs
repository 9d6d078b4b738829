#![no_main]
//! `cargo fuzz run --fuzz-dir backend/fuzz --features libfuzzer room_code` (see `scripts/fuzz.sh`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| shifting_fuzz::room_code(data));
