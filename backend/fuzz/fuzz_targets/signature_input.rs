#![no_main]
//! `cargo fuzz run --fuzz-dir backend/fuzz --features libfuzzer signature_input` (see `scripts/fuzz.sh`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| shifting_fuzz::signature_input(data));
