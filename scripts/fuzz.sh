#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo fuzz, libFuzzer) of the parsers and decoders in
# backend/fuzz: `scripts/fuzz.sh [seconds per target] [target …]` (default: 180 s, every target).
#
# Runs on the stable toolchain without a sanitizer (`-s none`: the code under test has no
# `unsafe`, so what the fuzzer looks for is panics, overflows (debug assertions are on) and
# broken round trips). Each target starts from its committed seeds and keeps its growing
# corpus in target/fuzz/corpus/<target>. A failure stops the run and leaves the input in
# target/fuzz/artifacts/<target> (until that target's next run): fix the bug, then commit the input under
# backend/fuzz/regressions/<target>/ so `cargo test` replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1;34m[fuzz]\033[0m %s\n' "$*" >&2; }

seconds=${1:-180}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(amount wallet_address room_code signature_input op_json)

fuzz_version=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -q "$fuzz_version"; then
  log "installing cargo-fuzz $fuzz_version from crates.io"
  cargo install cargo-fuzz --locked --version "$fuzz_version"
fi

for target in "${targets[@]}"; do
  corpus=target/fuzz/corpus/$target
  artifacts=target/fuzz/artifacts/$target
  mkdir -p "$corpus" "$artifacts"
  rm -f "$artifacts"/*
  cp -n backend/fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
  log "$target: ${seconds} s"
  cargo fuzz run --fuzz-dir backend/fuzz --features libfuzzer --sanitizer none \
    --debug-assertions "$target" "$corpus" -- \
    -max_total_time="$seconds" -artifact_prefix="$artifacts/" -print_final_stats=1 \
    2>&1 | grep -E '^(#[0-9]+ +DONE|Done|stat::number_of_executed_units|stat::peak_rss_mb)|panicked|SUMMARY|Test unit written|==[0-9]+==' || true
  if compgen -G "$artifacts/crash-*" >/dev/null || compgen -G "$artifacts/oom-*" >/dev/null \
    || compgen -G "$artifacts/timeout-*" >/dev/null; then
    log "$target found failing inputs:"; ls -1 "$artifacts" >&2
    exit 1
  fi
done
log "no failures"
