#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster: initdb in a temp dir, started on a free
# loopback port (as the `postgres` user when run as root, since initdb refuses root), exported as
# SHIFTING_TEST_POSTGRES_URL, stopped and deleted afterwards whatever the command's outcome.
#   scripts/with-postgres.sh cargo test --workspace --test api
set -euo pipefail

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "PostgreSQL server binaries not found; run scripts/install-test-tools.sh" >&2
  exit 1
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pgtmp=$(mktemp -d /tmp/shifting-pg.XXXXXX)
as_owner=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres: "$pgtmp"
  as_owner=(runuser -u postgres --)
fi

cleanup() {
  "${as_owner[@]}" "$pgbin/pg_ctl" -D "$pgtmp/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pgtmp"
}
trap cleanup EXIT

"${as_owner[@]}" "$pgbin/initdb" -D "$pgtmp/data" -U shifting --auth=trust -E UTF8 --no-sync >"$pgtmp/initdb.log" 2>&1 \
  || { cat "$pgtmp/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$pgbin/pg_ctl" -D "$pgtmp/data" -l "$pgtmp/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $pgtmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  start >/dev/null || { cat "$pgtmp/server.log" >&2; exit 1; }

export SHIFTING_TEST_POSTGRES_URL="postgres://shifting@127.0.0.1:$port/postgres"
echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') running on 127.0.0.1:$port" >&2
"$@"
