#!/usr/bin/env bash
# Installs what the test suite needs beyond the web toolchain, skipping whatever is already
# there: the PostgreSQL server (throwaway clusters for the API tests), Chromium with
# ChromeDriver (the end-to-end tests) and nginx (the reverse-proxy test) from Debian (needs root or sudo when missing), and the
# npm packages of the Open Payments interop tests (the Interledger reference implementation)
# and of the sandbox's proof with the official Node SDK, axe-core for the accessibility checks of
# the end-to-end suite, schemathesis (PyPI) for contract fuzzing, and moto's S3 server (PyPI) for
# the media store's S3 path.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1;34m[test-tools]\033[0m %s\n' "$*" >&2; }

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
# The reference reverse proxy in front of two replicas (tests/api/proxy.rs).
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)

if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  log "installing ${missing[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

interop=backend/open-payments/interop
if [ ! -d "$interop/node_modules/@interledger/http-signature-utils" ]; then
  log "installing the Open Payments reference implementation from npm"
  npm ci --prefix "$interop" --no-audit --no-fund --loglevel=error
fi

sdk=e2e/op-sdk
if [ ! -d "$sdk/node_modules/@interledger/open-payments" ]; then
  log "installing the official Open Payments Node SDK from npm"
  npm ci --prefix "$sdk" --no-audit --no-fund --loglevel=error
fi

# The integrator test: a client generated from openapi/openapi.json (openapi-typescript,
# openapi-fetch, tsc) and the Standard Webhooks verifier.
integrator=e2e/integrator
if [ ! -f "$integrator/node_modules/openapi-fetch/package.json" ] \
   || ! cmp -s "$integrator/package-lock.json" "$integrator/node_modules/.package-lock.json.installed"; then
  log "installing the integrator test's generator and client from npm"
  npm ci --prefix "$integrator" --no-audit --no-fund --loglevel=error
  cp "$integrator/package-lock.json" "$integrator/node_modules/.package-lock.json.installed"
fi

axe=e2e/axe
if [ ! -f "$axe/node_modules/axe-core/axe.min.js" ]; then
  log "installing axe-core (accessibility checks of the end-to-end pages) from npm"
  npm ci --prefix "$axe" --no-audit --no-fund --loglevel=error
fi

# schemathesis fuzzes the API against its OpenAPI document (scripts/fuzz-contract.sh).
st_version=4.32.5
if ! tools/st-venv/bin/st --version 2>/dev/null | grep -q "version $st_version\$"; then
  log "installing schemathesis $st_version from PyPI into tools/st-venv"
  python3 -m venv tools/st-venv
  tools/st-venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$st_version"
fi

# moto's S3-compatible server: where the API tests keep room pictures and delivery files when a
# bucket is configured (tests/api/media.rs starts it on a free port).
moto_version=5.2.5
if ! tools/moto-venv/bin/python -c "import moto, sys; sys.exit(moto.__version__ != '$moto_version')" 2>/dev/null \
   || [ ! -x tools/moto-venv/bin/moto_server ]; then
  log "installing moto[server] $moto_version from PyPI into tools/moto-venv"
  python3 -m venv tools/moto-venv
  tools/moto-venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$moto_version"
fi

# aiosmtpd: the real SMTP server the mail tests deliver to (tests/api/mail.rs starts it on a
# free port with its Maildir handler).
aiosmtpd_version=1.4.6
if ! tools/smtp-venv/bin/python -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$aiosmtpd_version')" 2>/dev/null; then
  log "installing aiosmtpd $aiosmtpd_version from PyPI into tools/smtp-venv"
  python3 -m venv tools/smtp-venv
  tools/smtp-venv/bin/pip install --quiet --disable-pip-version-check "aiosmtpd==$aiosmtpd_version"
fi
