#!/usr/bin/env bash
# Fuzzes the running API against its own contract (openapi/openapi.json) with schemathesis:
# every operation, with a signed-in user that has a sandbox wallet. Fails on any 5xx, any
# response that breaks the documented schema, status codes or headers, invalid data accepted,
# or a panic in the server log. Starts `shifting serve` (debug build) on a free port with a
# fresh data directory and stops it afterwards.
#   scripts/fuzz-contract.sh          # bounded: 30 examples per operation (the test command)
#   scripts/fuzz-contract.sh 1000     # the long run
set -euo pipefail
cd "$(dirname "$0")/.."

examples=${1:-30}
st=tools/st-venv/bin/st
if [ ! -x "$st" ]; then
  echo "schemathesis is not installed: run scripts/install-test-tools.sh" >&2
  exit 1
fi
cargo build --locked --quiet --bin shifting
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d /tmp/shifting-fuzz.XXXXXX)
url="http://127.0.0.1:$port"
SHIFTING_AUTH_RATE_LIMIT_PER_MINUTE=1000000 SHIFTING_AUTH_RATE_LIMIT_BURST=1000000 \
  SHIFTING_PAYMENT_RATE_LIMIT_PER_MINUTE=1000000 SHIFTING_PAYMENT_RATE_LIMIT_BURST=1000000 \
  SHIFTING_SANDBOX_WAIT_SECS=0 SHIFTING_WEB_DIR="$data/no-web" \
  "${CARGO_TARGET_DIR:-target}/debug/shifting" serve --addr "127.0.0.1:$port" --data-dir "$data" >"$data/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

# Polls readiness (a start, not a passage of time: it stops as soon as the server answers).
ready=false
for _ in $(seq 1 600); do
  if curl -fs "$url/ready" >/dev/null 2>&1; then ready=true; break; fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.05
done
if [ "$ready" != true ]; then
  echo "the server did not become ready; its log:" >&2
  cat "$data/server.log" >&2
  exit 1
fi
json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
signup=$(curl -sS -H 'content-type: application/json' \
  -d '{"username":"fuzzer","email":"fuzzer@example.com","password":"correct horse battery"}' \
  "$url/api/auth/signup")
token=$(printf '%s' "$signup" | json '["access_token"]') || {
  echo "signing up the fuzzing user failed: $signup" >&2
  exit 1
}
curl -fs -X PATCH -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d "{\"wallet_address\":\"$url/sandbox/alice\"}" "$url/api/me" >/dev/null
# Things for the operations that name one, so that the fuzzer reaches their handlers instead
# of 404 (scripts/schemathesis.toml fixes those path parameters): the fuzzing user's room, a
# purchase of theirs from another seller's room, and a webhook endpoint of theirs.
export FUZZ_ROOM FUZZ_TRANSACTION FUZZ_WEBHOOK
FUZZ_ROOM=$(curl -fsS -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"name":"Fuzzed room","price":"1.00"}' "$url/api/rooms" | json '["code"]')
other=$(curl -sS -H 'content-type: application/json' \
  -d '{"username":"fuzzseller","email":"fuzzseller@example.com","password":"correct horse battery"}' \
  "$url/api/auth/signup" | json '["access_token"]')
curl -fs -X PATCH -H "authorization: Bearer $other" -H 'content-type: application/json' \
  -d "{\"wallet_address\":\"$url/sandbox/bruno\"}" "$url/api/me" >/dev/null
their_room=$(curl -fsS -H "authorization: Bearer $other" -H 'content-type: application/json' \
  -d '{"name":"Their room","price":"2.00"}' "$url/api/rooms" | json '["code"]')
FUZZ_THEIR_ROOM=$their_room
FUZZ_TRANSACTION=$(curl -fsS -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{}' "$url/api/rooms/$their_room/payments" | json '["transaction"]["id"]')
FUZZ_SALE=$(curl -fsS -H "authorization: Bearer $other" -H 'content-type: application/json' \
  -d '{}' "$url/api/rooms/$FUZZ_ROOM/payments" | json '["transaction"]["id"]')
export FUZZ_THEIR_ROOM FUZZ_SALE
# The fuzzing user is an admin too, so the admin panel's operations are reached (as the
# command line makes one; it refuses to suspend or demote the last admin, or oneself).
"${CARGO_TARGET_DIR:-target}/debug/shifting" admin grant fuzzer --data-dir "$data" >/dev/null
FUZZ_WEBHOOK=$(curl -fsS -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"url":"https://shop.example/hooks","event_types":["transaction.completed"]}' \
  "$url/api/webhooks" | json '["endpoint"]["id"]')

# Business rules reject much that the schema allows (taken names, unreachable wallets, common
# passwords …), so schema-valid requests may be refused: positive_data_acceptance is off.
status=0
"$st" --config-file scripts/schemathesis.toml run openapi/openapi.json --url "$url" -H "Authorization: Bearer $token" \
  --checks all --exclude-checks positive_data_acceptance \
  --max-examples "$examples" --seed 1 --no-color || status=$?
if grep -q 'panicked' "$data/server.log"; then
  echo "the server panicked during fuzzing:" >&2
  grep -A5 'panicked' "$data/server.log" >&2
  status=1
fi
exit "$status"
