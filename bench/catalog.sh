#!/usr/bin/env bash
# Catalogue load test: production profile on local PostgreSQL + Redis, 2 workers, wrk.
#
#   bash bench/catalog.sh                 # 3 rounds of 10 s per endpoint
#   DURATION=5 bash bench/catalog.sh      # shorter rounds
#
# In each round, wrk hits in turn: the Sanic hello-world (bench/hello.py), the cached guide of one
# item and a rotation of real searches (bench/search.lua). The table shows the medians and the
# ratio of each endpoint to the hello-world figure of the same round; bench/results/ keeps a JSON
# copy and the server log. See bench/README.md.
#
# Exit status: 0 when the measurement is usable, even if a target is missed (the table says FAIL);
# non-zero when something broke: a server did not start, a check request failed, wrk failed, or a
# run saw non-2xx responses or connect errors.
#
# Settings (environment): DURATION (s, default 10), ROUNDS (3), WARMUP (s per endpoint, 2; 0 = none),
# WAIT_QUIET (s to wait at the start for other work on the machine to finish, 120; 0 = don't wait),
# THREADS (2), CONNECTIONS (64), GUIDE_CODE (GA-SFZ-HL), VENV (.venv), KEEP_TMP=1 to keep the
# temporary folder (databases, logs) for inspection. Other ZB_* variables you export reach the
# server and are recorded in the results.
set -euo pipefail

BENCH=catalog
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # common settings, helpers, cleanup (moves to the root)

GUIDE_CODE=${GUIDE_CODE:-GA-SFZ-HL}
SEARCH_LUA=$ROOT/bench/search.lua

bench_validate
bench_need_tools
[ -f "$SEARCH_LUA" ] || die "missing $SEARCH_LUA"

bench_init
bench_wait_quiet

# --- PostgreSQL, Redis, S3 ---------------------------------------------------------------------
# S3 is not on the measured paths, but the server creates its bucket at start-up and /readyz
# pings it.
bench_start_backends

# The identity settings are not exercised by this benchmark (see bench_zb_env in lib.sh).
bench_zb_env "$BASE"
bench_extra_zb

# --- Application ------------------------------------------------------------------------------
bench_check_settings
bench_migrate_seed
bench_start_server
bench_start_hello

log "checking the endpoints (and warming the guide and search caches)"
check_json "$HELLO/" "hello-world"
check_json "$BASE/api/v1/items/$GUIDE_CODE" "guide $GUIDE_CODE"
mapfile -t SEARCH_PATHS < <(grep -oE '"/api/v1/items\?[^"]*"' "$SEARCH_LUA" | tr -d '"')
[ "${#SEARCH_PATHS[@]}" -gt 0 ] || die "no search paths found in $SEARCH_LUA"
for path in "${SEARCH_PATHS[@]}"; do
  check_json "$BASE$path" "search $path"
done

# --- Load --------------------------------------------------------------------------------------
run_endpoint() {  # run_endpoint ENDPOINT OUTFILE SECONDS [TAG]
  case $1 in
    hello) wrk_run "$2" "$3" "$HELLO/" ;;
    guide) wrk_run "$2" "$3" "$BASE/api/v1/items/$GUIDE_CODE" ;;
    search) wrk_run "$2" "$3" "$BASE/" -s "$SEARCH_LUA" ;;
    *) die "unknown endpoint $1" ;;
  esac
}

ORDER=(hello guide search)
bench_run_rounds

# --- Report -----------------------------------------------------------------------------------
bench_report wrk_report.py \
  --meta "guide_code=$GUIDE_CODE" --meta "search_paths=${SEARCH_PATHS[*]}"

bench_finish
