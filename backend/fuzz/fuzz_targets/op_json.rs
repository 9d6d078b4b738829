#![no_main]
//! `cargo fuzz run --fuzz-dir backend/fuzz --features libfuzzer op_json` (see `scripts/fuzz.sh`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| shifting_fuzz::op_json(data));
