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
# THREADS (2), CONNECTIONS (64), GUIDE_CODE (GA-SFZ-HL), VENV (.venv), KEEP_TMP=1 to keep the
# temporary folder (databases, logs) for inspection. Other ZB_* variables you export reach the
# server and are recorded in the results.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
GUIDE_CODE=${GUIDE_CODE:-GA-SFZ-HL}
VENV=${VENV:-$ROOT/.venv}
WORKERS=2
RESULTS=$ROOT/bench/results
SEARCH_LUA=$ROOT/bench/search.lua

log() { printf '[catalog.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for var in DURATION ROUNDS WARMUP THREADS CONNECTIONS; do
  [[ ${!var} =~ ^[0-9]+$ ]] || die "$var must be a whole number (got '${!var}')"
done
(( DURATION > 0 && ROUNDS > 0 )) || die "DURATION and ROUNDS must be positive"
for tool in wrk curl python3 "$VENV/bin/zhangban" "$VENV/bin/python"; do
  command -v "$tool" >/dev/null || die "missing $tool"
done
[ -f "$SEARCH_LUA" ] || die "missing $SEARCH_LUA"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/zb-bench.XXXXXX")
RUN=$TMP/run            # our own files; $TMP itself belongs to services.sh (PostgreSQL, Redis)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
SERVER_PID=""
HELLO_PID=""
SERVICES_STARTED=0

# Start a command in its own process group (setsid), so that stopping it reaches its workers.
start_group() {  # start_group LOGFILE CMD... ; sets STARTED_PID
  local logfile=$1; shift
  setsid "$@" >"$logfile" 2>&1 </dev/null &
  STARTED_PID=$!
}

stop_group() {  # stop_group PID NAME
  local pid=$1 name=$2
  [ -n "$pid" ] || return 0
  if kill -0 -- "-$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 -- "-$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 -- "-$pid" 2>/dev/null; then
      log "$name did not stop within 10 s; killing its process group $pid"
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  stop_group "$HELLO_PID" "hello server"
  stop_group "$SERVER_PID" "zhangban server"
  if [ -d "$RUN" ]; then
    mkdir -p "$RESULTS"
    [ -s "$RUN/server.log" ] && cp "$RUN/server.log" "$RESULTS/catalog-$STAMP-server.log"
    [ -s "$RUN/hello.log" ] && cp "$RUN/hello.log" "$RESULTS/catalog-$STAMP-hello.log"
  fi
  if [ "$SERVICES_STARTED" = 1 ]; then
    scripts/services.sh stop "$TMP" || log "services.sh stop failed (folder $TMP)"
  fi
  if [ "${KEEP_TMP:-0}" = 1 ]; then
    log "kept $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$RUN/raw" "$RESULTS"

# --- PostgreSQL and Redis ---------------------------------------------------------------------
log "starting PostgreSQL and Redis under $TMP"
SERVICES_STARTED=1
scripts/services.sh start "$TMP"
# shellcheck disable=SC1091
. "$TMP/env"

PORT=$(free_port)
HELLO_PORT=$(free_port)
while [ "$HELLO_PORT" = "$PORT" ]; do HELLO_PORT=$(free_port); done
BASE=http://127.0.0.1:$PORT
HELLO=http://127.0.0.1:$HELLO_PORT

SECRET=$(python3 -c 'import secrets, string; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(40)))')
ZB_ENV=(
  ZB_PROFILE=production
  "ZB_DATABASE_URL=$ZB_TEST_DATABASE_URL"
  "ZB_REDIS_URL=$ZB_TEST_REDIS_URL"
  "ZB_SECRET_KEY=$SECRET"
  "ZB_PUBLIC_BASE_URL=$BASE"
  ZB_ACCESS_LOG=false
  ZB_LOG_LEVEL=WARNING
)
# Anything else ZB_* from the caller's environment reaches the server too: say so.
EXTRA_ZB=$(env | grep -E '^ZB_' | grep -vE '^ZB_(TEST_|PROFILE=|DATABASE_URL=|REDIS_URL=|SECRET_KEY=|PUBLIC_BASE_URL=|ACCESS_LOG=|LOG_LEVEL=)' | sort || true)
[ -z "$EXTRA_ZB" ] || log "extra settings from your environment: $(echo "$EXTRA_ZB" | tr '\n' ' ')"
zb() { env "${ZB_ENV[@]}" "$VENV/bin/zhangban" "$@"; }

# --- Application ------------------------------------------------------------------------------
log "migrate"
zb migrate >"$RUN/migrate.log" 2>&1 || { cat "$RUN/migrate.log" >&2; die "zhangban migrate failed"; }
log "seed"
zb seed >"$RUN/seed.log" 2>&1 || { cat "$RUN/seed.log" >&2; die "zhangban seed failed"; }

log "starting zhangban serve --workers $WORKERS on port $PORT"
start_group "$RUN/server.log" env "${ZB_ENV[@]}" "$VENV/bin/zhangban" serve --workers "$WORKERS" --port "$PORT"
SERVER_PID=$STARTED_PID

wait_ready() {  # wait_ready URL PID NAME LOGFILE
  local url=$1 pid=$2 name=$3 logfile=$4 code ok=0
  for _ in $(seq 600); do  # 60 s
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$logfile" >&2
      die "$name exited during start-up (log above)"
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
    if [ "$code" = 200 ]; then
      ok=$((ok + 1))
      # A few answers in a row: with several workers, the first may come before the others are up.
      [ "$ok" -ge 5 ] && return 0
    else
      ok=0
    fi
    sleep 0.1
  done
  tail -n 40 "$logfile" >&2
  die "$name not ready after 60 s at $url (last status $code)"
}
wait_ready "$BASE/readyz" "$SERVER_PID" "zhangban server" "$RUN/server.log"
log "zhangban ready at $BASE"

log "starting hello-world on port $HELLO_PORT"
start_group "$RUN/hello.log" "$VENV/bin/python" -m sanic bench.hello:app \
  --no-access-logs --no-motd --workers "$WORKERS" --host 127.0.0.1 --port "$HELLO_PORT"
HELLO_PID=$STARTED_PID
wait_ready "$HELLO/" "$HELLO_PID" "hello server" "$RUN/hello.log"
log "hello-world ready at $HELLO"

# --- Checks: every URL answers 200 with JSON before any load --------------------------------
check_json() {  # check_json URL WHAT -> prints a one-line summary of the body
  local url=$1 what=$2 body=$RUN/check.json code
  code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 10 "$url") || die "$what: curl failed ($url)"
  [ "$code" = 200 ] || { head -c 600 "$body" >&2; echo >&2; die "$what: HTTP $code from $url"; }
  python3 - "$body" "$what" <<'PY' || die "$what: the answer is not the JSON expected"
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
what = sys.argv[2]
if "items" in doc:
    codes = [item["code"] for item in doc["items"]]
    note = "  (WARNING: no item matches)" if not codes else ""
    print(f"  {what}: {len(codes)} item(s) {' '.join(codes[:6])}{' ...' if len(codes) > 6 else ''}{note}")
elif "hello" in doc:
    print(f"  {what}: {doc}")
else:
    print(f"  {what}: {doc.get('code')} {doc.get('name')}")
PY
}

log "checking the endpoints (and warming the guide and search caches)"
check_json "$HELLO/" "hello-world"
check_json "$BASE/api/v1/items/$GUIDE_CODE" "guide $GUIDE_CODE"
mapfile -t SEARCH_PATHS < <(grep -oE '"/api/v1/items\?[^"]*"' "$SEARCH_LUA" | tr -d '"')
[ "${#SEARCH_PATHS[@]}" -gt 0 ] || die "no search paths found in $SEARCH_LUA"
for path in "${SEARCH_PATHS[@]}"; do
  check_json "$BASE$path" "search $path"
done

# --- Load --------------------------------------------------------------------------------------
wrk_run() {  # wrk_run OUTFILE DURATION_S URL [wrk options...]
  local out=$1 secs=$2 url=$3; shift 3
  if ! wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --latency "$@" "$url" >"$out" 2>&1; then
    cat "$out" >&2
    die "wrk failed against $url"
  fi
  if grep -q 'Non-2xx or 3xx responses' "$out"; then
    cat "$out" >&2
    die "non-2xx responses from $url (output above; server log: $RESULTS/catalog-$STAMP-server.log)"
  fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null || ! kill -0 "$HELLO_PID" 2>/dev/null; then
    die "a server exited during the load test"
  fi
}

declare -A URLS=([hello]="$HELLO/" [guide]="$BASE/api/v1/items/$GUIDE_CODE" [search]="$BASE/")
declare -A OPTS=([hello]="" [guide]="" [search]="-s $SEARCH_LUA")
ORDER=(hello guide search)

if (( WARMUP > 0 )); then
  log "warm-up: ${WARMUP}s per endpoint (not counted)"
  for ep in "${ORDER[@]}"; do
    # shellcheck disable=SC2086
    wrk_run "$RUN/warmup-$ep.txt" "$WARMUP" "${URLS[$ep]}" ${OPTS[$ep]}
  done
fi

for round in $(seq "$ROUNDS"); do
  for ep in "${ORDER[@]}"; do
    log "round $round/$ROUNDS: $ep (${DURATION}s)"
    # shellcheck disable=SC2086
    wrk_run "$RUN/raw/$ep.$round.txt" "$DURATION" "${URLS[$ep]}" ${OPTS[$ep]}
    grep -E 'Requests/sec|^ +99%' "$RUN/raw/$ep.$round.txt" | tr -s ' ' | paste -sd' ' | sed 's/^/    /' >&2
  done
done

# --- Report -----------------------------------------------------------------------------------
OUT=$RESULTS/catalog-$STAMP.json
report_rc=0
"$VENV/bin/python" bench/wrk_report.py --raw "$RUN/raw" --out "$OUT" \
  --meta "timestamp_utc=$STAMP" --meta "duration_s=$DURATION" --meta "rounds=$ROUNDS" \
  --meta "warmup_s=$WARMUP" --meta "wrk=-t$THREADS -c$CONNECTIONS --latency" \
  --meta "workers=$WORKERS" --meta "guide_code=$GUIDE_CODE" --meta "cpus=$(nproc)" \
  --meta "search_paths=${SEARCH_PATHS[*]}" --meta "extra_zb_env=$(echo "$EXTRA_ZB" | sed -E 's/^(ZB_[A-Z_]*(SECRET|PASSWORD|KEY)[A-Z_]*=).*/\1***/' | paste -sd' ')" \
  --meta "server_log=bench/results/catalog-$STAMP-server.log" \
  || report_rc=$?

# Anything the server logged at WARNING or above during the run is worth a look.
if [ -s "$RUN/server.log" ]; then
  problems=$(grep -ciE 'error|exception|traceback|warning|critical' "$RUN/server.log" || true)
  if [ "$problems" -gt 0 ]; then
    echo "server log: $problems line(s) mention an error or warning; first ones:"
    grep -iE 'error|exception|traceback|warning|critical' "$RUN/server.log" | head -n 15 | cut -c1-300 | sed 's/^/  /'
  else
    echo "server log: no errors or warnings"
  fi
fi
echo "server log: $RESULTS/catalog-$STAMP-server.log"

[ "$report_rc" = 0 ] || die "the measurement is not usable (see BROKEN above)"
exit 0
