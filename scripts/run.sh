#!/usr/bin/env bash
# Runs Shifting on the embedded defaults: SQLite and a generated JWT secret in ./data, the web
# app from ./dist. Installs what is missing (wasm target, Trunk, wasm-bindgen-cli, wasm-opt),
# builds the web app and the server (release profile: optimised, without the production
# profile's whole-program pass), then starts `shifting serve`. Each step prints the seconds
# since the start.
# Arguments go to `shifting serve`, e.g. scripts/run.sh --addr 0.0.0.0:8080
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
step() { printf '\n\033[1;32m==>\033[0m %s (%ss)\n' "$*" "$(( $(date +%s) - started ))" >&2; }

step "checking build tools"
scripts/install-web-tools.sh
export PATH="$PWD/tools/node_modules/.bin:$PATH"
cargo fetch --locked --quiet

step "building the web app"
trunk build --release

step "building the server"
cargo build --release --locked --bin shifting

step "starting Shifting"
exec "${CARGO_TARGET_DIR:-target}/release/shifting" serve "$@"
