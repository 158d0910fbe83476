#!/usr/bin/env bash
# Payment callback benchmark: production profile on local PostgreSQL + Redis (+ S3, which the
# server needs to start), 2 workers, wrk, with the WeChat Pay channel on the sandbox's keys and
# notifications signed beforehand.
#
#   bash bench/payments.sh                         # 3 rounds of 10 s per endpoint, about 5 minutes
#   DURATION=5 ROUNDS=1 bash bench/payments.sh     # a quick trial
#
# The script seeds fee orders (bench/payments_seed.py: references case:<n> without case rows),
# each with one open WeChat Pay attempt, pays each at an in-process WeChat Pay peer
# (sandbox.wechatpay, with the drop fault: nothing is sent) and keeps its TRANSACTION.SUCCESS
# notification (the resource encrypted under the APIv3 key). Right before every run it signs the
# notifications that run sends (Wechatpay-Timestamp must be within 300 s of the server's clock).
# In each round, wrk hits in turn: the Sanic hello-world (bench/hello.py); fresh callbacks
# (POST /callbacks/wechatpay, each request the notification of another unpaid attempt: verify,
# decrypt, record the payment, compare-and-set the order, emit payment.paid); duplicate callbacks
# (the notifications of attempts already paid, round and round: answered 204 without a write);
# and fresh callbacks again at LATENCY_CONNECTIONS (16), for information (bench/payments.lua).
# The outbox worker does not run (ZB_WORKER_IN_PROCESS=false), so the payment.paid events wait.
# After the load the database must show exactly once: as many payments as fresh notifications
# answered (+ those in flight when wrk stopped), none twice, none from a duplicate run. The table
# shows the medians, the ratios to the hello-world of the same round, the server's CPU per
# callback and the targets; bench/results/ keeps a JSON copy, the checks and the logs. See
# bench/README.md.
#
# Exit status: 0 when the measurement is usable, even if a target is missed (the table says FAIL);
# non-zero when something broke: a server did not start, seeding failed, a check request failed,
# wrk failed, a run saw non-2xx responses (a notification refused or not processed) or connect
# errors, the wrk script ran out of fresh notifications (raise FRESH_MAX_RPS), or the database
# does not show every payment exactly once.
#
# Settings (environment): DURATION (s, default 10; at most 240: the signatures must stay fresh),
# ROUNDS (3), WARMUP (s per endpoint, 2; 0 = none), WAIT_QUIET (s to wait at the start for other
# work on the machine to finish, 120; 0 = don't wait), THREADS (2), CONNECTIONS (64),
# LATENCY_CONNECTIONS (16: the information run), FRESH_MAX_RPS (1000: fresh notifications seeded
# per second of every fresh run, warm-up included), DUP_POOL (4000: most paid attempts a
# duplicate run sends), RECLAIM_STUCK (1: terminate the server's sessions that cancelled requests
# left idle in a transaction after each run, see stuck_sessions; 0: leave them), VENV (.venv),
# KEEP_TMP=1 to keep the temporary folder. Other ZB_*
# variables you export reach the server and are recorded in the results.
set -euo pipefail

BENCH=payments
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # common settings, helpers, cleanup (moves to the root)

FRESH_MAX_RPS=${FRESH_MAX_RPS:-1000}
DUP_POOL=${DUP_POOL:-4000}
LATENCY_CONNECTIONS=${LATENCY_CONNECTIONS:-16}
RECLAIM_STUCK=${RECLAIM_STUCK:-1}
PAYMENTS_LUA=$ROOT/bench/payments.lua
SEED_PY=$ROOT/bench/payments_seed.py

bench_validate FRESH_MAX_RPS DUP_POOL LATENCY_CONNECTIONS RECLAIM_STUCK
(( DURATION <= 240 && WARMUP <= 240 )) \
  || die "DURATION and WARMUP must be at most 240 s: a notification signed before a run must still be within WeChat Pay's 300 s when it is sent"
(( FRESH_MAX_RPS >= THREADS && DUP_POOL >= THREADS && LATENCY_CONNECTIONS >= THREADS )) \
  || die "FRESH_MAX_RPS, DUP_POOL and LATENCY_CONNECTIONS must be at least THREADS"
bench_need_tools psql
for f in "$PAYMENTS_LUA" "$SEED_PY"; do [ -f "$f" ] || die "missing $f"; done

bench_init
bench_wait_quiet

# --- PostgreSQL, Redis, S3 (not on the measured path: the server pings it at start) ----------
bench_start_backends
PSQL=(psql -X -q -h 127.0.0.1 -p "$ZB_TEST_PG_PORT" -U postgres -d zhangban_test -v ON_ERROR_STOP=1)
sql() { "${PSQL[@]}" -tAc "$1"; }

# --- The server's settings: WeChat Pay on a sandbox key folder made here ---------------------------
# ZB_SANDBOX_BASE_URL stays on the closed port bench_zb_env sets: the channel only needs the keys
# to verify callbacks, nothing is called out. The outbox worker stays off.
bench_zb_env "$BASE"
zb_set "ZB_SANDBOX_KEYS_DIR=$RUN/sandbox-keys"
zb_set ZB_WORKER_IN_PROCESS=false
bench_extra_zb
bench_check_settings
payseed() { env "${ZB_ENV[@]}" "$VENV/bin/python" "$SEED_PY" "$@"; }

log "sandbox payment keys (sandbox.keys.ensure_sandbox_keys)"
payseed keys >&2 || die "could not make the sandbox key folder"
bench_migrate_seed

# --- The data: fee orders, attempts, notification bodies -------------------------------------------
# Every fresh run (warm-up included, both fresh endpoints) gets FRESH_MAX_RPS × its seconds at
# most, plus one for the check.
bench_run_tags
FRESH_SECONDS=0
for tag in "${RUN_TAGS[@]}"; do
  secs=$DURATION; [ "$tag" = warmup ] && secs=$WARMUP
  FRESH_SECONDS=$(( FRESH_SECONDS + 2 * secs ))
done
SEEDED=$(( FRESH_MAX_RPS * FRESH_SECONDS + 1 ))
BODIES=$RUN/bodies.txt
CURSOR=$RUN/bodies.cursor
log "seeding $SEEDED fee orders with one open WeChat Pay attempt each, and their notifications"
seed_started=$SECONDS
payseed seed --count "$SEEDED" --out "$BODIES" >&2 || die "seeding failed"
SEED_S=$(( SECONDS - seed_started ))
sql "VACUUM (ANALYZE) payments_fee_order, payments_channel_order, payments_payment, core_outbox_event" \
  >/dev/null || die "VACUUM ANALYZE failed"

bench_start_server
bench_start_hello

# --- Checks ----------------------------------------------------------------------------------------
post_signed() {  # post_signed SIGNED_LINE_FILE [SIGNATURE] -> the HTTP status; body in $RUN/check.out
  local ts nonce sig serial body
  IFS=$'\t' read -r ts nonce sig serial body <"$1"
  printf '%s' "$body" >"$RUN/check.body"
  curl -sS -o "$RUN/check.out" -w '%{http_code}' --max-time 10 -X POST "$BASE/callbacks/wechatpay" \
    -H 'Content-Type: application/json' -H "Wechatpay-Timestamp: $ts" -H "Wechatpay-Nonce: $nonce" \
    -H "Wechatpay-Signature: ${2:-$sig}" -H "Wechatpay-Serial: $serial" \
    --data-binary @"$RUN/check.body" || echo 000
}

log "checking the endpoints"
check_json "$HELLO/" "hello-world"
payseed sign --bodies "$BODIES" --cursor "$CURSOR" --count 1 --out "$RUN/check.signed" \
  --ids-out "$RUN/check.ids" >/dev/null || die "signing the check notification failed"
code=$(post_signed "$RUN/check.signed")
[ "$code" = 204 ] || { cat "$RUN/check.out" >&2; die "a fresh notification: HTTP $code, expected 204"; }
[ "$(payseed count)" = 1 ] || die "a fresh notification answered 204 but no payment was recorded"
echo "  fresh notification: 204, one payment recorded"
code=$(post_signed "$RUN/check.signed")
[ "$code" = 204 ] || die "the same notification again: HTTP $code, expected 204"
[ "$(payseed count)" = 1 ] || die "the same notification again recorded a second payment"
echo "  the same notification again: 204, still one payment"
IFS=$'\t' read -r _ _ check_sig _ _ <"$RUN/check.signed"
forged=$( [ "${check_sig:0:1}" = A ] && echo B || echo A )${check_sig:1}
code=$(post_signed "$RUN/check.signed" "$forged")
{ [[ $code == [45][0-9][0-9] ]] && grep -q '"FAIL"' "$RUN/check.out"; } \
  || die "a notification with a forged signature: HTTP $code, expected a 4XX or 5XX {\"code\": \"FAIL\"}"
echo "  the same notification with a forged signature: $code FAIL (verified; the server logs one WARNING for it)"

# --- Load ------------------------------------------------------------------------------------------
BENCH_CPU_GROUPS=(
  "server|--pgid $SERVER_PID" "hello|--pgid $HELLO_PID"
  "postgres|--tree $PG_PID" "redis|--pid $REDIS_PID"
)
declare -A BEST_RPS=([fresh]=0 [fresh_c16]=0)
FRESH_RUNS=("check:$RUN/check.ids:-")
SIGNED_PER_RUN=()
DUP_COUNTS=$RUN/dup-counts.txt
: >"$DUP_COUNTS"

# Fresh notifications for one run, signed right before it: the first run of an endpoint gets
# FRESH_MAX_RPS × its seconds; later ones twice the best rate seen so far (each wrk thread has its
# own fixed half, and the threads are not equally fast), at least half and at most that first
# amount (what was seeded for it).
sign_fresh() {  # sign_fresh ENDPOINT SECONDS SIGNED_FILE IDS_FILE
  local ep=$1 secs=$2 most count best=${BEST_RPS[$1]}
  most=$(( FRESH_MAX_RPS * secs ))
  count=$most
  if [ "$best" != 0 ]; then
    count=$(( 2 * best * secs + 4 * CONNECTIONS ))
    (( count >= most / 2 )) || count=$(( most / 2 ))
    (( count <= most )) || count=$most
  fi
  payseed sign --bodies "$BODIES" --cursor "$CURSOR" --count "$count" --out "$3" --ids-out "$4" \
    >"$RUN/sign.log" 2>&1 || { cat "$RUN/sign.log" >&2; die "signing fresh notifications failed"; }
  log "  $(cat "$RUN/sign.log")"
}

# Sessions left idle in a transaction. wrk closes its connections with requests in flight when
# it stops; Sanic then cancels those requests, and one cancelled right after its BEGIN never gives
# its pool connection back (found by this benchmark: Tortoise's pooled transaction context
# releases the connection in __aexit__ only, which a failed __aenter__ never reaches). Each such
# session is a pool connection lost for good (20 a worker), so the later runs would measure a
# shrinking pool and, once a worker has none left, a server that hangs. After every run of
# callbacks the script counts them and, with RECLAIM_STUCK=1 (the default), terminates them, as
# PostgreSQL's idle_in_transaction_session_timeout would: asyncpg then returns their slots to
# the pool, so every run starts with the whole pool. RECLAIM_STUCK=0 leaves them.
stuck_sessions() {
  sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
}
STUCK_AFTER=()
STUCK_TOTAL=0
STUCK_LAST=""

note_stuck() {  # note_stuck RUN_NAME: after a run of callbacks
  local n
  sleep 1   # a transaction of the load lasts milliseconds: one still open now was abandoned
  n=$(stuck_sessions)
  STUCK_AFTER+=("$1:$n")
  [ "$n" = 0 ] && return 0
  STUCK_LAST=$(sql "SELECT string_agg(DISTINCT left(regexp_replace(query, '\s+', ' ', 'g'), 80), ' | ') FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'")
  if [ "$RECLAIM_STUCK" = 1 ]; then
    STUCK_TOTAL=$(( STUCK_TOTAL + n ))
    sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'" >/dev/null
    log "  WARNING: $n PostgreSQL session(s) of the server left idle in a transaction after $1 (abandoned by cancelled requests; last statement: $STUCK_LAST); terminated"
  else
    STUCK_TOTAL=$n
    log "  WARNING: $n PostgreSQL session(s) of the server idle in a transaction after $1 (abandoned by cancelled requests; last statement: $STUCK_LAST; RECLAIM_STUCK=0 leaves them)"
  fi
}

note_rate() {  # note_rate ENDPOINT OUTFILE
  local rps
  rps=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' "$2")
  (( ${rps:-0} > ${BEST_RPS[$1]} )) && BEST_RPS[$1]=$rps
  return 0
}

run_endpoint() {  # run_endpoint ENDPOINT OUTFILE SECONDS TAG
  local ep=$1 out=$2 secs=$3 tag=$4 signed=$RUN/signed-$1-$4.txt ids=$RUN/ids-$1-$4.txt before after
  case $ep in
    hello) wrk_run "$out" "$secs" "$HELLO/" ;;
    fresh|fresh_c16)
      sign_fresh "$ep" "$secs" "$signed" "$ids"
      SIGNED_PER_RUN+=("$ep-$tag:$(wc -l <"$ids")")
      if [ "$ep" = fresh ]; then
        wrk_run "$out" "$secs" "$BASE/" -s "$PAYMENTS_LUA" -- "$signed" "$THREADS" once
      else
        CONNECTIONS=$LATENCY_CONNECTIONS wrk_run "$out" "$secs" "$BASE/" -s "$PAYMENTS_LUA" -- \
          "$signed" "$THREADS" once
      fi
      FRESH_RUNS+=("$ep-$tag:$ids:$out")
      note_rate "$ep" "$out"
      note_stuck "$ep-$tag"
      ;;
    duplicate)
      payseed sign --bodies "$BODIES" --paid "$DUP_POOL" --out "$signed" --ids-out "$ids" \
        >"$RUN/sign.log" 2>&1 || { cat "$RUN/sign.log" >&2; die "signing duplicate notifications failed"; }
      log "  $(cat "$RUN/sign.log")"
      before=$(payseed count)
      wrk_run "$out" "$secs" "$BASE/" -s "$PAYMENTS_LUA" -- "$signed" "$THREADS" cycle
      note_stuck "$ep-$tag"   # (waits a second: anything still in flight when wrk stopped)
      after=$(payseed count)
      echo "$ep-$tag $before $after $(awk '/ requests in / { print $1 }' "$out")" >>"$DUP_COUNTS"
      [ "$before" = "$after" ] || die "the duplicate run $tag recorded $(( after - before )) payments"
      ;;
    *) die "unknown endpoint $ep" ;;
  esac
}

ORDER=(hello fresh duplicate fresh_c16)
bench_run_rounds

# --- Exactly once, from the database -----------------------------------------------------------------
log "checking the payments in the database"
verify_args=()
for spec in "${FRESH_RUNS[@]}"; do verify_args+=(--fresh "$spec"); done
most_connections=$(( CONNECTIONS > LATENCY_CONNECTIONS ? CONNECTIONS : LATENCY_CONNECTIONS ))
bench_keep_log "$RUN/checks.json" checks.json exists
VERIFY_RC=0
payseed verify "${verify_args[@]}" --dup-counts "$DUP_COUNTS" --connections "$most_connections" \
  --json-out "$RUN/checks.json" >"$RUN/verify.txt" || VERIFY_RC=$?
VERIFIED=$(cat "$RUN/verify.txt")
# The server's sessions once the load is over (those left idle in a transaction were terminated
# after each run, unless RECLAIM_STUCK=0).
SESSIONS=$(sql "SELECT coalesce(string_agg(state || ' ' || n, ', '), 'none') FROM (SELECT coalesce(state, '?') AS state, count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' GROUP BY 1 ORDER BY 1) s")
log "server sessions after the load: $SESSIONS; left idle in a transaction by cancelled requests: $STUCK_TOTAL (${STUCK_AFTER[*]})"

# --- Report ------------------------------------------------------------------------------------------
REPORT_WRK_NOTE=" (fresh_c16: -c$LATENCY_CONNECTIONS)"
bench_report targets_report.py payments \
  --meta "fee_orders_seeded=$SEEDED" --meta "seed_s=$SEED_S" --meta "fresh_max_rps=$FRESH_MAX_RPS" \
  --meta "dup_pool=$DUP_POOL" --meta "fresh_signed_per_run=${SIGNED_PER_RUN[*]}" \
  --meta "channel=wechatpay on the sandbox keys (ZB_SANDBOX_KEYS_DIR), nothing called out" \
  --meta "zb_worker_in_process=false" --meta "exactly_once=$VERIFIED" \
  --meta "server_sessions_after_load=$SESSIONS" --meta "idle_in_transaction_after=${STUCK_AFTER[*]}" \
  --meta "idle_in_transaction_total=$STUCK_TOTAL" --meta "reclaim_stuck=$RECLAIM_STUCK" \
  --meta "checks=bench/results/payments-$STAMP-checks.json" \
  --meta "git=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . ':!bench' 2>/dev/null || echo ' + uncommitted changes outside bench/')"
echo "Data of this run: $SEEDED fee orders seeded in ${SEED_S}s, one open WeChat Pay attempt each;" \
  "fresh notifications signed per run: ${SIGNED_PER_RUN[*]}; duplicates: up to $DUP_POOL paid attempts per run."
echo "Database: $VERIFIED"
if [ "$STUCK_TOTAL" != 0 ]; then
  echo "WARNING: $STUCK_TOTAL PostgreSQL session(s) of the server were left idle in a transaction (last statement: $STUCK_LAST) by" \
    "requests cancelled when wrk stopped: each is a pool connection never given back (per run: ${STUCK_AFTER[*]};" \
    "$( [ "$RECLAIM_STUCK" = 1 ] && echo "terminated after each run, RECLAIM_STUCK=1" || echo "left, RECLAIM_STUCK=0" ))."
fi
[ "$VERIFY_RC" = 0 ] || die "the database does not show every payment exactly once (see PROBLEM above; $RESULTS/$BENCH-$STAMP-checks.json)"

bench_finish
