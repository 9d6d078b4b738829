#!/usr/bin/env bash
# Installs what building the web app needs, skipping whatever is already there:
# the wasm32 target, Trunk, wasm-bindgen-cli (the exact version in Cargo.lock) and wasm-opt
# (binaryen from npm; Debian's binaryen 108 produces a wasm that breaks at runtime).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1;34m[web-tools]\033[0m %s\n' "$*" >&2; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! trunk --version 2>/dev/null | grep -q '^trunk 0\.21\.'; then
  log "installing Trunk 0.21 (a few minutes, once)"
  # Trunk's own release profile (fat LTO, one codegen unit) makes its build longer; a tool
  # that mostly runs other programs gains nothing from it.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install trunk --version '~0.21' --locked
fi

wbg_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ -z "$wbg_version" ]; then
  echo "cannot find the wasm-bindgen version in Cargo.lock" >&2
  exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wbg_version"; then
  log "installing wasm-bindgen-cli $wbg_version (about 2 minutes, once)"
  if ! cargo install --locked wasm-bindgen-cli --version "$wbg_version" --force 2>/tmp/wasm-bindgen-install.log; then
    # Its lockfile pins a webpki-roots the registry no longer serves: unpack the crate the
    # failed install downloaded, bump that one dependency, and install from the patched copy.
    log "locked install failed; retrying with webpki-roots 1.0.10"
    crate=$(ls ~/.cargo/registry/cache/*/wasm-bindgen-cli-"$wbg_version".crate 2>/dev/null | head -n 1)
    if [ -z "$crate" ]; then
      cat /tmp/wasm-bindgen-install.log >&2
      echo "wasm-bindgen-cli $wbg_version could not be downloaded" >&2
      exit 1
    fi
    work=$(mktemp -d)
    tar -xzf "$crate" -C "$work"
    (cd "$work/wasm-bindgen-cli-$wbg_version" \
      && cargo update -p webpki-roots --precise 1.0.10 \
      && cargo install --path . --locked --force)
    rm -rf "$work"
  fi
fi

if [ ! -x tools/node_modules/.bin/wasm-opt ]; then
  log "installing binaryen (wasm-opt) from npm into tools/"
  npm ci --prefix tools --no-audit --no-fund --loglevel=error
fi
