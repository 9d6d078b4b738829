#!/usr/bin/env bash
# The load benchmark (backend/api/benches/load.rs) on SQLite and on a throwaway PostgreSQL
# cluster, with wrk (Debian's package) as the load generator; installs wrk when it is missing
# (needs root or sudo). Figures and how to read them: docs/benchmarks.md.
#   scripts/bench-load.sh            (environment: BENCH_SECONDS per measurement, LATENCY_MS)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  echo "[bench] installing wrk from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
exec scripts/with-postgres.sh cargo bench --workspace --bench load
