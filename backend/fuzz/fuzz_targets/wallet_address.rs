#![no_main]
//! `cargo fuzz run --fuzz-dir backend/fuzz --features libfuzzer wallet_address` (see `scripts/fuzz.sh`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| shifting_fuzz::wallet_address(data));
