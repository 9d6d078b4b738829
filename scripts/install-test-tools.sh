#!/usr/bin/env bash
# Installs what the test suite needs beyond the web toolchain, skipping whatever is already
# there: the PostgreSQL server (throwaway clusters for the API tests) and Chromium with
# ChromeDriver (the end-to-end tests). Uses Debian's packages; needs root or sudo when missing.
set -euo pipefail

log() { printf '\033[1;34m[test-tools]\033[0m %s\n' "$*" >&2; }

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)

if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  log "installing ${missing[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
