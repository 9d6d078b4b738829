#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, the wasm build, unit and property tests, the
# API suite on SQLite and on a throwaway PostgreSQL cluster, a bounded schemathesis run against
# the OpenAPI document, and the end-to-end suite in headless Chromium. Installs what is missing
# first (web toolchain, PostgreSQL, Chromium, schemathesis).
set -euo pipefail
cd "$(dirname "$0")/.."

# A CI run builds once from a clean clone: incremental compilation's caches would only take disk
# (a cold run's target directory is several GB, and a CI machine's disk is shared and can run out).
if [[ "${CI:-}" == "true" ]]; then
  export CARGO_INCREMENTAL=0
fi

started=$(date +%s)
results=$(mktemp)
trap 'rm -f "$results"' EXIT
# Runs a test command, keeping its output for the closing tally.
tally() { "$@" 2>&1 | tee -a "$results"; }
step() { printf '\n\033[1;32m==>\033[0m %s (%ss)\n' "$*" "$(( $(date +%s) - started ))" >&2; }

step "checking tools"
scripts/install-web-tools.sh
scripts/install-test-tools.sh
export PATH="$PWD/tools/node_modules/.bin:$PATH"
cargo fetch --locked --quiet

step "formatting"
cargo fmt --all -- --check

step "clippy"
# The fuzz targets too (their feature builds libFuzzer), so they keep compiling.
cargo clippy --workspace --all-targets --locked --features shifting-fuzz/libfuzzer -- -D warnings

step "shared builds for wasm32"
cargo check --locked --target wasm32-unknown-unknown -p shifting-shared

step "building the web app"
trunk build --release

step "web app tests in headless Chromium (money, dates and times through the browser's Intl)"
# Only the web app builds for wasm32, hence -p here (a separate target directory subtree, so it
# does not unify features with the host build). wasm-bindgen-test-runner comes with
# wasm-bindgen-cli; webdriver.json adds our Chromium flags to its headless ones.
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  CHROMEDRIVER="$(command -v chromedriver)" \
  WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/frontend/webdriver.json" \
  tally cargo test --locked --target wasm32-unknown-unknown -p shifting-web

step "unit, property and API tests (SQLite)"
tally cargo test --workspace --locked

step "API tests (PostgreSQL)"
tally scripts/with-postgres.sh cargo test --workspace --locked --test api

step "contract fuzzing (schemathesis against openapi/openapi.json)"
scripts/fuzz-contract.sh 30

step "end-to-end tests (headless Chromium)"
tally cargo test --workspace --locked -- --ignored --show-output

step "all tests passed"
du -sh target 2>/dev/null | awk '{ print "target directory: " $1 }' >&2
awk '/^test result:/ { for (i = 2; i <= NF; i++) { if ($i == "passed;") p += $(i - 1); if ($i == "failed;") f += $(i - 1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$results"
