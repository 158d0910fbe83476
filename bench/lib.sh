# shellcheck shell=bash
# What the wrk benchmarks (catalog.sh, identity.sh, uploads.sh) share. Sourced, never run:
#
#   BENCH=catalog                        # names the log prefix (catalog.sh) and the result files
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# It moves to the project root and reads the common settings (DURATION, ROUNDS, WARMUP, WAIT_QUIET,
# THREADS, CONNECTIONS, VENV). The script then calls, in this order: bench_validate,
# bench_need_tools, bench_init (temporary folder, traps, cleanup), bench_wait_quiet,
# bench_start_backends, bench_zb_env or bench_start_sandbox (+ zb_set for its own settings),
# bench_extra_zb, bench_check_settings, bench_migrate_seed (+ bench_import_catalog),
# bench_start_server, bench_start_hello, its checks, bench_run_rounds (its run_endpoint and ORDER:
# wrk_run per measurement, then bench_busy_after), bench_report, bench_finish.
#
# Every process the script starts runs in its own process group (start_group/bench_start) and is
# stopped on exit, also on Ctrl-C or failure, together with PostgreSQL and Redis
# (scripts/services.sh); the logs are copied to bench/results/<BENCH>-<stamp>-*.log.

: "${BENCH:?set BENCH before sourcing bench/lib.sh}"
BENCH_SCRIPT=$BENCH.sh

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
WAIT_QUIET=${WAIT_QUIET:-120}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
VENV=${VENV:-$ROOT/.venv}
WORKERS=2
RESULTS=$ROOT/bench/results

log() { printf '[%s %s] %s\n' "$BENCH_SCRIPT" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

bench_validate() {  # bench_validate [MORE_WHOLE_NUMBER_VARS...]
  local var
  for var in DURATION ROUNDS WARMUP WAIT_QUIET THREADS CONNECTIONS "$@"; do
    [[ ${!var} =~ ^[0-9]+$ ]] || die "$var must be a whole number (got '${!var}')"
  done
  (( DURATION > 0 && ROUNDS > 0 )) || die "DURATION and ROUNDS must be positive"
}

bench_need_tools() {  # bench_need_tools [MORE_TOOLS...]
  local tool
  for tool in wrk curl python3 "$VENV/bin/zhangban" "$VENV/bin/python" "$@"; do
    command -v "$tool" >/dev/null || die "missing $tool"
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

USED_PORTS=" "
new_port() {  # new_port VAR: a free port not handed out before in this run
  local port
  port=$(free_port)
  while [[ $USED_PORTS == *" $port "* ]]; do port=$(free_port); done
  USED_PORTS+="$port "
  printf -v "$1" '%s' "$port"
}

rand() { python3 -c 'import secrets, string, sys; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(int(sys.argv[1]))))' "$1"; }

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

BENCH_GROUPS=()  # "pgid|name" of every process group started, stopped in reverse order on exit
BENCH_LOGS=()    # "file|suffix|when": copied to results/<BENCH>-<stamp>-<suffix> (when: exists|nonempty)

bench_start() {  # bench_start NAME LOGFILE CMD... : start_group, stopped on exit; sets STARTED_PID
  local name=$1; shift
  start_group "$@"
  BENCH_GROUPS+=("$STARTED_PID|$name")
}

bench_keep_log() { BENCH_LOGS+=("$1|$2|${3:-nonempty}"); }  # bench_keep_log FILE SUFFIX [exists]

cleanup() {
  local rc=$? i entry file suffix when
  set +e
  trap - EXIT INT TERM
  if declare -F bench_on_exit >/dev/null; then bench_on_exit; fi
  for ((i = ${#BENCH_GROUPS[@]} - 1; i >= 0; i--)); do
    stop_group "${BENCH_GROUPS[i]%%|*}" "${BENCH_GROUPS[i]#*|}"
  done
  if [ -d "$RUN" ]; then
    mkdir -p "$RESULTS"
    for entry in "${BENCH_LOGS[@]}"; do
      IFS='|' read -r file suffix when <<<"$entry"
      if [ "$when" = exists ]; then [ -f "$file" ] || continue; else [ -s "$file" ] || continue; fi
      cp "$file" "$RESULTS/$BENCH-$STAMP-$suffix"
    done
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

bench_init() {
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/zb-bench.XXXXXX")
  RUN=$TMP/run          # our own files; $TMP itself belongs to services.sh (PostgreSQL, Redis)
  STAMP=$(date -u +%Y%m%dT%H%M%SZ)
  SERVER_PID=""
  HELLO_PID=""
  S3_PID=""
  SERVICES_STARTED=0
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  mkdir -p "$RUN/raw" "$RESULTS"
}

# wrk and the servers share this machine's cores: other work running now skews every figure.
cpuload() { "$VENV/bin/python" "$ROOT/bench/cpuload.py" "$@"; }

bench_wait_quiet() {  # sets BUSY_BEFORE
  BUSY_BEFORE=$(cpuload busy)
  if [ "$BUSY_BEFORE" -gt 15 ] && [ "$WAIT_QUIET" -gt 0 ]; then
    log "the machine is ${BUSY_BEFORE}% busy; waiting up to ${WAIT_QUIET}s for it to calm down (WAIT_QUIET)"
    BUSY_BEFORE=$(cpuload wait-quiet --max-seconds "$WAIT_QUIET")
  fi
  if [ "$BUSY_BEFORE" -gt 15 ]; then
    log "WARNING: the machine is already ${BUSY_BEFORE}% busy before the benchmark; figures will be low and noisy"
  fi
}

# --- PostgreSQL and Redis ---------------------------------------------------------------------
bench_start_services() {  # sets the ZB_TEST_* of this run, PG_PID, REDIS_PID
  log "starting PostgreSQL and Redis under $TMP"
  SERVICES_STARTED=1
  scripts/services.sh start "$TMP"
  # Only what services.sh wrote for this run: forget any ZB_TEST_* the caller's shell carries.
  local var
  while read -r var; do unset "$var"; done < <(compgen -e | grep '^ZB_TEST_' || true)
  # shellcheck disable=SC1091
  . "$TMP/env"
  PG_PID=$(head -n 1 "$TMP/pg/postmaster.pid")
  REDIS_PID=$(cat "$TMP/redis.pid")
}

# What every benchmark starts first: PostgreSQL and Redis (bench_start_services), the S3 server
# (bench_start_s3), and the ports of the server and of the hello-world. Sets PORT, HELLO_PORT,
# BASE and HELLO besides what those two set.
bench_start_backends() {
  bench_start_services
  new_port PORT
  new_port HELLO_PORT
  BASE=http://127.0.0.1:$PORT
  HELLO=http://127.0.0.1:$HELLO_PORT
  bench_start_s3
}

# --- S3 (the production profile's object store) ---------------------------------------------------
# The server creates its bucket at start-up and /readyz pings it. No MinIO binary is available
# here (RECIPES.md): services.sh starts rclone's S3 server when the dev extras are installed;
# otherwise this starts rclone's or moto's itself.
bench_start_s3() {  # sets S3_URL, S3_ACCESS_KEY, S3_SECRET_KEY, S3_PID (ours) or S3_EXTRA_PIDS
  S3_EXTRA_PIDS=()
  local f s3_port rclone_bin
  if [ -n "${ZB_TEST_RCLONE_URL:-}" ] && [ -n "${ZB_TEST_S3_ACCESS_KEY:-}" ] && [ -n "${ZB_TEST_S3_SECRET_KEY:-}" ]; then
    S3_URL=$ZB_TEST_RCLONE_URL
    S3_ACCESS_KEY=$ZB_TEST_S3_ACCESS_KEY
    S3_SECRET_KEY=$ZB_TEST_S3_SECRET_KEY
    for f in "$TMP/rclone.pid" "$TMP/moto.pid"; do
      [ -s "$f" ] && S3_EXTRA_PIDS+=("$(cat "$f")")
    done
    log "S3: services.sh's rclone at $S3_URL"
  else
    new_port s3_port
    S3_URL=http://127.0.0.1:$s3_port
    S3_ACCESS_KEY=$(rand 20)
    S3_SECRET_KEY=$(rand 40)
    mkdir -p "$RUN/s3"
    bench_keep_log "$RUN/s3.log" s3.log
    if [ -x "$VENV/bin/rclone" ] || command -v rclone >/dev/null; then
      rclone_bin=$VENV/bin/rclone; [ -x "$rclone_bin" ] || rclone_bin=$(command -v rclone)
      bench_start "S3 server" "$RUN/s3.log" "$rclone_bin" serve s3 --config "" --addr "127.0.0.1:$s3_port" \
        --auth-key "$S3_ACCESS_KEY,$S3_SECRET_KEY" "$RUN/s3"
    elif [ -x "$VENV/bin/moto_server" ]; then
      bench_start "S3 server" "$RUN/s3.log" "$VENV/bin/moto_server" -H 127.0.0.1 -p "$s3_port"
    else
      die "no S3 server: install rclone-bin or moto[server] in $VENV (see ../shared/RECIPES.md)"
    fi
    S3_PID=$STARTED_PID
    for _ in $(seq 150); do
      [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$S3_URL/" || true)" != 000 ] && break
      kill -0 "$S3_PID" 2>/dev/null || { cat "$RUN/s3.log" >&2; die "the S3 server exited"; }
      sleep 0.2
    done
    log "S3: started at $S3_URL"
  fi
}

# --- the server's settings -------------------------------------------------------------------
# The production profile refuses default secrets: generate throw-away ones. WeChat and the sandbox
# peers point at a closed local port so that nothing can ever leave 127.0.0.1 (identity.sh and
# uploads.sh point them at their own sandbox process with zb_set), and the sandbox providers are
# allowed as on staging.
bench_zb_env() {  # bench_zb_env BASE_URL: sets ZB_ENV
  ZB_ENV=(
    ZB_PROFILE=production
    "ZB_DATABASE_URL=$ZB_TEST_DATABASE_URL"
    "ZB_REDIS_URL=$ZB_TEST_REDIS_URL"
    "ZB_SECRET_KEY=$(rand 40)"
    "ZB_PUBLIC_BASE_URL=$1"
    ZB_ACCESS_LOG=false
    ZB_LOG_LEVEL=WARNING
    ZB_WECHAT_APPID=wx-bench-local
    "ZB_WECHAT_SECRET=$(rand 40)"
    ZB_WECHAT_API_BASE=http://127.0.0.1:9
    ZB_SANDBOX_ENABLED=false
    ZB_SANDBOX_BASE_URL=http://127.0.0.1:9
    "ZB_JWT_KEYS=k1:$(rand 48)"
    ZB_JWT_CURRENT_KID=k1
    "ZB_FIELD_KEYS=1:$(python3 -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(16)).decode())')"
    ZB_FIELD_KEY_CURRENT=1
    "ZB_LOOKUP_KEY=$(rand 40)"
    ZB_ALLOW_SANDBOX_PROVIDERS=true
    ZB_STORAGE_BACKEND=s3
    "ZB_S3_ENDPOINT=${S3_URL#http://}"
    "ZB_S3_PUBLIC_ENDPOINT=$S3_URL"
    "ZB_S3_ACCESS_KEY=$S3_ACCESS_KEY"
    "ZB_S3_SECRET_KEY=$S3_SECRET_KEY"
    ZB_S3_SECURE=false
  )
}

zb_set() {  # zb_set NAME=VALUE: replace NAME in ZB_ENV, or add it
  local name=${1%%=*} i
  for i in "${!ZB_ENV[@]}"; do
    if [[ ${ZB_ENV[i]} == "$name="* ]]; then ZB_ENV[i]=$1; return; fi
  done
  ZB_ENV+=("$1")
}

zb_get() {  # zb_get NAME: the value in ZB_ENV
  local entry
  for entry in "${ZB_ENV[@]}"; do
    if [[ $entry == "$1="* ]]; then printf '%s\n' "${entry#*=}"; return; fi
  done
}

# Anything else ZB_* from the caller's environment reaches the server too: say so.
bench_extra_zb() {  # sets EXTRA_ZB
  local ours_re
  ours_re="^($(printf '%s\n' "${ZB_ENV[@]}" | sed 's/=.*//' | paste -sd'|')|ZB_TEST_[A-Z0-9_]*)="
  EXTRA_ZB=$(env | grep -E '^ZB_' | grep -vE "$ours_re" | sort \
    | sed -E 's/^(ZB_[A-Z0-9_]*(SECRET|PASSWORD|KEY|KEYS)[A-Z0-9_]*=).*/\1***/' || true)
  [ -z "$EXTRA_ZB" ] || log "extra settings from your environment (secrets masked): $(echo "$EXTRA_ZB" | tr '\n' ' ')"
}

zb() { env "${ZB_ENV[@]}" "$VENV/bin/zhangban" "$@"; }

# Settings are added as the project grows: name what the production profile still misses.
# The WeChat sandbox as a process of its own (it logs the users and the staff in), and the
# server's settings for the production profile with the sandbox as WeChat and its providers
# allowed, as on staging. Needs BASE, ACCESS_TTL_S and LOGIN_LIMIT_PER_MIN; sets SANDBOX_PORT,
# SANDBOX, SANDBOX_BASE, APPID, APPSECRET, SANDBOX_PID and ZB_ENV (bench_zb_env). The caller adds
# its own zb_set lines, then bench_extra_zb.
bench_start_sandbox() {
  new_port SANDBOX_PORT
  SANDBOX=http://127.0.0.1:$SANDBOX_PORT
  SANDBOX_BASE=$SANDBOX/sandbox
  APPID=wx-bench-$(rand 8)
  APPSECRET=$(rand 40)
  log "starting the WeChat sandbox (python -m sandbox) on port $SANDBOX_PORT"
  bench_keep_log "$RUN/sandbox.log" sandbox.log
  bench_start "WeChat sandbox" "$RUN/sandbox.log" "$VENV/bin/python" -m sandbox --host 127.0.0.1 \
    --port "$SANDBOX_PORT" --appid "$APPID" --secret "$APPSECRET"
  SANDBOX_PID=$STARTED_PID
  wait_ready "$SANDBOX_BASE/healthz" "$SANDBOX_PID" "WeChat sandbox" "$RUN/sandbox.log"
  log "sandbox ready at $SANDBOX_BASE"

  bench_zb_env "$BASE"
  zb_set "ZB_WECHAT_APPID=$APPID"
  zb_set "ZB_WECHAT_SECRET=$APPSECRET"
  zb_set ZB_WECHAT_API_BASE=            # empty: <ZB_SANDBOX_BASE_URL>/wechat
  zb_set ZB_SANDBOX_ENABLED=false
  zb_set "ZB_SANDBOX_BASE_URL=$SANDBOX_BASE"
  zb_set ZB_ALLOW_SANDBOX_PROVIDERS=true
  zb_set "ZB_ACCESS_TTL_S=$ACCESS_TTL_S"
  zb_set "ZB_LOGIN_LIMIT_PER_MIN=$LOGIN_LIMIT_PER_MIN"
}

bench_check_settings() {
  local problems
  if ! problems=$(env "${ZB_ENV[@]}" "$VENV/bin/python" -c '
import sys
from core.settings import ConfigurationError, Settings
try:
    Settings().check()
except ConfigurationError as exc:
    sys.exit(str(exc))' 2>&1); then
    printf '%s\n' "$problems" >&2
    die "the production profile refuses these settings: add what is missing to ZB_ENV in bench/lib.sh (bench_zb_env)"
  fi
}

bench_migrate_seed() {
  log "migrate"
  zb migrate >"$RUN/migrate.log" 2>&1 || { cat "$RUN/migrate.log" >&2; die "zhangban migrate failed"; }
  log "seed"
  zb seed >"$RUN/seed.log" 2>&1 || { cat "$RUN/seed.log" >&2; die "zhangban seed failed"; }
}

bench_import_catalog() {  # bench_import_catalog FILE: zhangban catalog import, or die with its log
  zb catalog import "$1" >"$RUN/import.log" 2>&1 \
    || { cat "$RUN/import.log" >&2; die "zhangban catalog import failed"; }
}

# Login codes and logged-in users through the WeChat sandbox (identity.sh, uploads.sh, cases.sh).
WXCODES=$ROOT/bench/wxcodes.py
wxcodes() { "$VENV/bin/python" "$WXCODES" "$@"; }

wait_ready() {  # wait_ready URL PID NAME LOGFILE
  # Sanic binds the socket in its main process before the workers start (tens of seconds on a
  # busy machine), so a connection made early waits in the backlog until a worker takes it. Give
  # curl all the remaining time: a request abandoned there is still handled later, and cancelled
  # half-way (the server logs "coroutine ... was never awaited" for /readyz). If the server dies,
  # the queued connection is reset and curl returns at once.
  local url=$1 pid=$2 name=$3 logfile=$4 code="" ok=0 deadline=$((SECONDS + 180))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$logfile" >&2
      die "$name exited during start-up (log above)"
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time $((deadline - SECONDS + 1)) "$url" || true)
    if [ "$code" = 200 ]; then
      ok=$((ok + 1))
      [ "$ok" -ge 3 ] && break
    else
      ok=0
      sleep 0.2
    fi
  done
  if [ "$ok" -lt 3 ]; then
    tail -n 40 "$logfile" >&2
    die "$name not ready after 180 s at $url (last status $code)"
  fi
  wait_settled "$pid" "$name"
}

# One worker answering does not mean all are up: each worker spends seconds of CPU building its
# routes. Wait until the process group is (nearly) idle, i.e. every worker finished starting.
wait_settled() {  # wait_settled PGID NAME
  local pgid=$1 name=$2
  if ! cpuload wait-settled --pgid "$pgid" --max-seconds 60; then
    log "WARNING: $name still busy 60 s after answering; its workers may not all be up"
  fi
}

bench_start_server() {  # PORT and BASE set; sets SERVER_PID
  log "starting zhangban serve --workers $WORKERS on port $PORT"
  bench_keep_log "$RUN/server.log" server.log exists
  bench_start "zhangban server" "$RUN/server.log" env "${ZB_ENV[@]}" "$VENV/bin/zhangban" serve --workers "$WORKERS" --port "$PORT"
  SERVER_PID=$STARTED_PID
  wait_ready "$BASE/readyz" "$SERVER_PID" "zhangban server" "$RUN/server.log"
  log "zhangban ready at $BASE"
}

bench_start_hello() {  # HELLO_PORT and HELLO set; sets HELLO_PID
  log "starting hello-world on port $HELLO_PORT"
  bench_keep_log "$RUN/hello.log" hello.log
  bench_start "hello server" "$RUN/hello.log" "$VENV/bin/python" -m sanic bench.hello:app \
    --no-access-logs --no-motd --workers "$WORKERS" --host 127.0.0.1 --port "$HELLO_PORT"
  HELLO_PID=$STARTED_PID
  wait_ready "$HELLO/" "$HELLO_PID" "hello server" "$RUN/hello.log"
  log "hello-world ready at $HELLO"
}

# --- Checks: every URL answers 200 with JSON before any load --------------------------------
check_json() {  # check_json URL WHAT [curl options...] -> prints a one-line summary of the body
  local url=$1 what=$2 body=$RUN/check.json code
  shift 2
  code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 10 "$@" "$url") || die "$what: curl failed ($url)"
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

# --- Load --------------------------------------------------------------------------------------
# Our processes, for the CPU accounting: every process group started here (servers, S3, sandbox),
# PostgreSQL (postmaster and backends), Redis, services.sh's S3 servers, and what this script has
# run and waited for (wrk).
load_snapshot() {
  local args=(--tree "$PG_PID" --pid "$REDIS_PID" --waited $$) entry pid
  for entry in "${BENCH_GROUPS[@]}"; do args+=(--pgid "${entry%%|*}"); done
  for pid in "${S3_EXTRA_PIDS[@]}"; do args+=(--pid "$pid"); done
  cpuload snapshot "${args[@]}"
}

# Optional: "name|cpuload-args" entries (e.g. "sandbox|--pgid 123", "postgres|--tree 456") whose
# own CPU is recorded per run in <out>.cpu ("before wall_s=… name=…" / "after …", CPU-seconds), e.g.
# to see whether a single-process peer was saturated. The wall clock is read right around wrk.
BENCH_CPU_GROUPS=()

cpu_groups_snapshot() {
  local entry out=""
  for entry in "${BENCH_CPU_GROUPS[@]}"; do
    # shellcheck disable=SC2086  # the cpuload arguments are meant to split
    out+=" ${entry%%|*}=$(cpuload snapshot ${entry#*|} | cut -d' ' -f3)"
  done
  printf '%s\n' "$out"
}

wrk_run() {  # wrk_run OUTFILE DURATION_S URL [wrk options...] [-- script arguments...]
  local out=$1 secs=$2 url=$3 before after groups_before="" wall_before wall_after entry arg
  local opts=() script_args=()
  shift 3
  for arg in "$@"; do  # wrk wants the script's arguments after the URL
    if [ "${#script_args[@]}" -gt 0 ] || [ "$arg" = -- ]; then script_args+=("$arg"); else opts+=("$arg"); fi
  done
  before=$(load_snapshot)
  [ "${#BENCH_CPU_GROUPS[@]}" -eq 0 ] || groups_before=$(cpu_groups_snapshot)
  wall_before=$(date +%s.%N)
  if ! wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --latency "${opts[@]}" "$url" "${script_args[@]}" >"$out" 2>&1; then
    cat "$out" >&2
    die "wrk failed against $url"
  fi
  wall_after=$(date +%s.%N)
  if [ -n "$groups_before" ]; then
    printf 'before wall_s=%s%s\nafter wall_s=%s%s\n' "$wall_before" "$groups_before" \
      "$wall_after" "$(cpu_groups_snapshot)" >"${out%.txt}.cpu"
  fi
  if grep -q 'Non-2xx or 3xx responses' "$out"; then
    cat "$out" >&2
    die "non-2xx responses from $url (output above; server log: $RESULTS/$BENCH-$STAMP-server.log)"
  fi
  if grep -q '^LUA BROKEN' "$out"; then
    cat "$out" >&2
    die "the wrk script reported a problem against $url (output above)"
  fi
  for entry in "${BENCH_GROUPS[@]}"; do
    kill -0 "${entry%%|*}" 2>/dev/null || die "${entry#*|} exited during the load test"
  done
  after=$(load_snapshot)
  # Share of the whole machine (all cores) used by processes that are not part of the benchmark.
  awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " ");
    total = y[2] - x[2]; others = (y[1] - x[1]) - (y[3] - x[3]); if (others < 0) others = 0;
    printf "%.1f\n", (total > 0) ? (100 * others / total) : 0 }' >"${out%.txt}.load"
}

print_run() {  # print_run OUTFILE: the one-line summary after each measured run
  printf '    %s, other processes: %s%% of the CPU\n' \
    "$(grep -E 'Requests/sec|^ +99%' "$1" | tr -s ' ' | paste -sd' ' | sed 's/^ *//')" \
    "$(cat "${1%.txt}.load")" >&2
}

# The runs of a benchmark: the script defines run_endpoint ENDPOINT OUTFILE SECONDS TAG and sets
# ORDER (the endpoints, in the order they run in each round; ORDER_EVEN, if set, in even rounds).
# TAG is "warmup" or "round<N>", as in RUN_TAGS (bench_run_tags), for what a run consumes.
ORDER=()
ORDER_EVEN=()

bench_run_tags() {  # sets RUN_TAGS: the tag of every wrk run of an endpoint, warm-up first
  local round
  RUN_TAGS=()
  (( WARMUP > 0 )) && RUN_TAGS+=(warmup)
  for round in $(seq "$ROUNDS"); do RUN_TAGS+=("round$round"); done
}

bench_run_rounds() {  # warm-up (WARMUP s per endpoint, not counted), ROUNDS rounds to raw/, busy
  local ep round order
  if (( WARMUP > 0 )); then
    log "warm-up: ${WARMUP}s per endpoint (not counted)"
    for ep in "${ORDER[@]}"; do
      run_endpoint "$ep" "$RUN/warmup-$ep.txt" "$WARMUP" warmup
    done
  fi
  for round in $(seq "$ROUNDS"); do
    order=("${ORDER[@]}")
    (( round % 2 == 0 && ${#ORDER_EVEN[@]} > 0 )) && order=("${ORDER_EVEN[@]}")
    for ep in "${order[@]}"; do
      log "round $round/$ROUNDS: $ep (${DURATION}s)"
      run_endpoint "$ep" "$RUN/raw/$ep.$round.txt" "$DURATION" "round$round"
      print_run "$RUN/raw/$ep.$round.txt"
    done
  done
  bench_busy_after
}

bench_requests_done() {  # bench_requests_done ENDPOINT: the requests wrk counted, warm-up included
  # (no warm-up file when WARMUP=0: a missing file must not end the script under pipefail)
  { cat "$RUN/warmup-$1.txt" "$RUN"/raw/"$1".*.txt 2>/dev/null || true; } \
    | awk '/ requests in / { n += $1 } END { print n + 0 }'
}

bench_busy_after() {  # sets BUSY_AFTER
  BUSY_AFTER=$(cpuload busy)  # the servers are idle now: this is everyone else
  if [ "$BUSY_AFTER" -gt 15 ]; then
    log "WARNING: other processes keep the machine ${BUSY_AFTER}% busy; figures are low and noisy"
  fi
}

# --- Report -----------------------------------------------------------------------------------
# bench_report REPORT.py [ARGS...]: writes bench/results/<BENCH>-<STAMP>.json (OUT) with the
# settings every benchmark records, then ARGS (e.g. the benchmark's name, its own --meta k=v);
# REPORT_WRK_NOTE is added to the wrk meta. Sets report_rc (3: the measurement is not usable).
REPORT_WRK_NOTE=""

bench_report() {
  local script=$1
  shift
  OUT=$RESULTS/$BENCH-$STAMP.json
  report_rc=0
  "$VENV/bin/python" "$ROOT/bench/$script" --raw "$RUN/raw" --out "$OUT" \
    --meta "timestamp_utc=$STAMP" --meta "duration_s=$DURATION" --meta "rounds=$ROUNDS" \
    --meta "warmup_s=$WARMUP" --meta "wrk=-t$THREADS -c$CONNECTIONS --latency$REPORT_WRK_NOTE" \
    --meta "workers=$WORKERS" --meta "cpus=$(nproc)" \
    --meta "cpu_busy_pct_before=$BUSY_BEFORE" --meta "cpu_busy_pct_after=$BUSY_AFTER" \
    "$@" \
    --meta "extra_zb_env=$(echo "$EXTRA_ZB" | paste -sd' ')" \
    --meta "server_log=bench/results/$BENCH-$STAMP-server.log" \
    || report_rc=$?
}

bench_finish() {  # the server log's summary, then the exit status of the benchmark
  bench_server_log_summary
  [ "$report_rc" = 0 ] || die "the measurement is not usable (see BROKEN above)"
  exit 0
}

# Anything the server logged at WARNING or above during the run is worth a look.
bench_server_log_summary() {
  local problems
  if [ ! -s "$RUN/server.log" ]; then
    echo "server log: empty (nothing at WARNING or above)"
  else
    problems=$(grep -ciE 'error|exception|traceback|warning|critical' "$RUN/server.log" || true)
    if [ "$problems" -gt 0 ]; then
      echo "server log: $problems line(s) mention an error or warning; first ones:"
      grep -iE 'error|exception|traceback|warning|critical' "$RUN/server.log" | head -n 15 | cut -c1-300 | sed 's/^/  /'
    else
      echo "server log: no errors or warnings"
    fi
    echo "server log: $RESULTS/$BENCH-$STAMP-server.log"
  fi
}
