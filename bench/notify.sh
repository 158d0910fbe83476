#!/usr/bin/env bash
# Progress-message drain benchmark: production profile on local PostgreSQL + Redis (+ S3, which
# the settings require), two `zhangban worker` processes, the sandbox peers (WeChat subscribe
# messages, Alibaba Cloud SMS) as a process of their own, and a producer inserting outbox events
# at a fixed rate.
#
#   bash bench/notify.sh                              # 600, 1000 and 1300 events/s, 30 s each
#   RATES=1000 DURATION=20 bash bench/notify.sh       # one step, a quicker check
#
# Target (progress push issue): drain at least 1,000 messages a second to the sandbox peers with
# 2 workers on PostgreSQL (also given as a ratio to the hello-world of the same run), event-to-send
# p99 under 2 s at that rate; the figures and where the time goes.
#
# The script registers the catalogue's templates with the peers as the tests do, lifts the SMS
# peer's flow control, and seeds USERS people (bench/notify_seed.py): each has an openid the
# WeChat peer knows and a verified number; the odd half consented to the progress template (as
# many acceptances at the peer and in notify_consent as it will get messages), so its messages
# go by WeChat (with an SMS held in reserve, dropped once WeChat took it), the even half's by SMS.
# Both workers load bench/notify_bench.py (ZB_WORKER_EXTRA_HANDLERS): a `bench.notify` event
# becomes one `case.accepted` message through notify.ledger.publish; the workers' notify.send
# pumps send them. For each rate of RATES the producer inserts `bench.notify` events at that
# rate for DURATION seconds (recipients round-robin), then waits until every event is delivered
# and every ledger row settled. The CPU of each worker, the sandbox, PostgreSQL and Redis is
# recorded per step; the hello-world (bench/hello.py, wrk) is measured before the first step and
# after the last. bench/notify_report.py reads the ledger and prints, per step: messages sent a
# second over the steady window, the ratio to the hello-world, event-to-send latency (sent_at -
# the outbox event's created_at) p50/p95/p99, where that time went (outbox wait, ledger wait,
# the call to the peer), sends per channel, failures and retries, whether the peers received
# exactly what the ledger says was sent, and the CPU per message of each process. See
# bench/README.md.
#
# Exit status: 0 when the measurement is usable, even if a target is missed (the table says FAIL);
# non-zero when something broke: a process did not start or died, seeding failed, the check
# message did not go through, a step did not drain within DRAIN_TIMEOUT, an event died, or the
# peers' counts disagree with the ledger (a message sent twice or never).
#
# Settings (environment): RATES ("600 1000 1300" events/s, one message each), DURATION (s per
# step, 30), USERS (2000), WORKER_CONCURRENCY (32: ZB_WORKER_CONCURRENCY), WORKER_BATCH (100:
# ZB_WORKER_BATCH_SIZE), WORKER_POLL_S (0.1: ZB_WORKER_POLL_S, also the idle pump's poll),
# NOTIFY_BATCH (200: ZB_NOTIFY_BATCH_SIZE), NOTIFY_CONCURRENCY (32: ZB_NOTIFY_CONCURRENCY),
# DRAIN_TIMEOUT (s after a step's last event, 120), HELLO_SECONDS (10), WARMUP (s of hello-world
# before its first run, 2), WAIT_QUIET (120), THREADS (2), CONNECTIONS (64: the hello-world's wrk),
# PROFILE (0; 1 = py-spy records worker 1 and the sandbox during the last step, if py-spy is on
# PATH, in $VENV/bin or named by PYSPY), BENCH_PYTHONPATH (trials only: folders put before the
# project on the workers' PYTHONPATH, e.g. a package or a sitecustomize.py under trial), VENV
# (.venv), KEEP_TMP=1. Other ZB_* variables you export
# reach the workers and are recorded in the results.
set -euo pipefail

BENCH=notify
DURATION=${DURATION:-30}
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # common settings, helpers, cleanup (moves to the root)

RATES=${RATES:-"600 1000 1300"}
USERS=${USERS:-2000}
WORKER_CONCURRENCY=${WORKER_CONCURRENCY:-32}
WORKER_BATCH=${WORKER_BATCH:-100}
WORKER_POLL_S=${WORKER_POLL_S:-0.1}
NOTIFY_BATCH=${NOTIFY_BATCH:-200}
NOTIFY_CONCURRENCY=${NOTIFY_CONCURRENCY:-32}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-120}
HELLO_SECONDS=${HELLO_SECONDS:-10}
PROFILE=${PROFILE:-0}
ROUNDS=1               # lib.sh's; here: one hello-world run before the steps, one after
ACCESS_TTL_S=900       # bench_start_sandbox sets these two; no one logs in here
LOGIN_LIMIT_PER_MIN=20
QUIET_HOURS="00:00-00:00"   # start == end: never quiet (QuietHours.quiet: start <= t < end)
SEED_PY=$ROOT/bench/notify_seed.py
REPORT_PY=notify_report.py
HOOK=bench.notify_bench:register
HOOK_READY="bench.notify_bench: handler registered"

bench_validate USERS WORKER_CONCURRENCY WORKER_BATCH NOTIFY_BATCH NOTIFY_CONCURRENCY DRAIN_TIMEOUT \
  HELLO_SECONDS PROFILE
read -r -a STEP_RATES <<<"$RATES"
(( ${#STEP_RATES[@]} > 0 )) || die "RATES must name at least one rate"
for r in "${STEP_RATES[@]}"; do
  [[ $r =~ ^[0-9]+$ ]] && (( r > 0 )) || die "RATES must be positive whole numbers (got '$RATES')"
done
[[ $WORKER_POLL_S =~ ^[0-9]*\.?[0-9]+$ ]] || die "WORKER_POLL_S must be a number of seconds"
(( USERS >= 2 )) || die "USERS must be at least 2"
bench_need_tools psql
for f in "$SEED_PY" "$ROOT/bench/notify_bench.py" "$ROOT/bench/$REPORT_PY"; do
  [ -f "$f" ] || die "missing $f"
done
PYSPY_BIN=""
if [ "$PROFILE" = 1 ]; then
  for candidate in "${PYSPY:-}" "$(command -v py-spy || true)" "$VENV/bin/py-spy"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then PYSPY_BIN=$candidate; break; fi
  done
  [ -n "$PYSPY_BIN" ] || die "PROFILE=1 needs py-spy (pip install py-spy; on PATH, in $VENV/bin, or PYSPY=/path)"
fi

bench_init
bench_wait_quiet

# --- PostgreSQL, Redis, S3 (not on the measured path: the production settings require it) ------
bench_start_backends
PSQL=(psql -X -q -h 127.0.0.1 -p "$ZB_TEST_PG_PORT" -U postgres -d zhangban_test -v ON_ERROR_STOP=1)
sql() { "${PSQL[@]}" -tAc "$1"; }

# --- The sandbox peers, and the workers' settings --------------------------------------------------
# The SMS peer takes its account from the settings at start (ZB_SMS_*): the same throw-away key
# as the workers'. ZB_SMS_ACCESS_KEY_ID/SECRET/SIGN_NAME are exported for it and set in ZB_ENV.
ZB_SMS_ACCESS_KEY_ID="bench-$(rand 12)"
ZB_SMS_ACCESS_KEY_SECRET=$(rand 30)
ZB_SMS_SIGN_NAME="掌办"
export ZB_SMS_ACCESS_KEY_ID ZB_SMS_ACCESS_KEY_SECRET ZB_SMS_SIGN_NAME
bench_start_sandbox   # sets ZB_ENV (bench_zb_env) with WeChat and the providers on the sandbox
zb_set "ZB_SMS_ACCESS_KEY_ID=$ZB_SMS_ACCESS_KEY_ID"
zb_set "ZB_SMS_ACCESS_KEY_SECRET=$ZB_SMS_ACCESS_KEY_SECRET"
zb_set "ZB_SMS_SIGN_NAME=$ZB_SMS_SIGN_NAME"
zb_set "ZB_SMS_REPORT_TOKEN=$(rand 24)"
zb_set ZB_NOTIFY_CHANNELS=wechat,sms
zb_set "ZB_NOTIFY_QUIET_HOURS=$QUIET_HOURS"
zb_set "ZB_NOTIFY_BATCH_SIZE=$NOTIFY_BATCH"
zb_set "ZB_NOTIFY_CONCURRENCY=$NOTIFY_CONCURRENCY"
zb_set "ZB_WORKER_CONCURRENCY=$WORKER_CONCURRENCY"
zb_set "ZB_WORKER_BATCH_SIZE=$WORKER_BATCH"
zb_set "ZB_WORKER_POLL_S=$WORKER_POLL_S"
zb_set ZB_WORKER_IN_PROCESS=false
zb_set "ZB_WORKER_EXTRA_HANDLERS=$HOOK"
# The hook's module (bench/ is a namespace package of the root); BENCH_PYTHONPATH, for trials
# only, puts folders before it (a package or a sitecustomize.py under trial).
zb_set "PYTHONPATH=${BENCH_PYTHONPATH:+$BENCH_PYTHONPATH:}$ROOT"
bench_extra_zb
bench_check_settings
seed() { env "${ZB_ENV[@]}" "$VENV/bin/python" "$SEED_PY" "$@"; }

log "migrate"
zb migrate >"$RUN/migrate.log" 2>&1 || { cat "$RUN/migrate.log" >&2; die "zhangban migrate failed"; }

# --- Peers and people ------------------------------------------------------------------------------
# Every person gets at most ceil(events / USERS) messages (round-robin); the consenting ones hold
# that many acceptances (+2) at the peer and in notify_consent, so none runs out of consent.
TOTAL_EVENTS=2   # the check
for r in "${STEP_RATES[@]}"; do TOTAL_EVENTS=$(( TOTAL_EVENTS + r * DURATION )); done
ACCEPTS=$(( (TOTAL_EVENTS + USERS - 1) / USERS + 2 ))
USERS_FILE=$RUN/users.tsv
log "registering the templates with the peers, lifting the SMS flow control"
seed peers --sandbox "$SANDBOX_BASE" >&2 || die "could not set up the peers"
log "seeding $USERS people, half of them with $ACCEPTS acceptances of the progress template"
seed_started=$SECONDS
seed users --sandbox "$SANDBOX_BASE" --count "$USERS" --accepts "$ACCEPTS" --out "$USERS_FILE" >&2 \
  || die "seeding the people failed"
SEED_S=$(( SECONDS - seed_started ))

# --- Hello-world and the two workers -------------------------------------------------------------
bench_start_hello
WORKER_PIDS=()
for w in 1 2; do
  log "starting zhangban worker $w"
  bench_keep_log "$RUN/worker$w.log" "worker$w.log" exists
  bench_start "zhangban worker $w" "$RUN/worker$w.log" env "${ZB_ENV[@]}" "$VENV/bin/zhangban" worker
  WORKER_PIDS+=("$STARTED_PID")
done
for w in 1 2; do
  pid=${WORKER_PIDS[w - 1]}
  for _ in $(seq 600); do
    grep -q "$HOOK_READY" "$RUN/worker$w.log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { tail -n 40 "$RUN/worker$w.log" >&2; die "worker $w exited during start-up"; }
    sleep 0.1
  done
  grep -q "$HOOK_READY" "$RUN/worker$w.log" || { tail -n 40 "$RUN/worker$w.log" >&2; die "worker $w did not load $HOOK in 60 s"; }
  wait_settled "$pid" "worker $w"
  log "  worker $w (pid $pid): $(grep -m1 "$HOOK_READY" "$RUN/worker$w.log" | cut -c1-220)"
done
grep -q "wake shared with the notify.send pump: yes" "$RUN/worker1.log" \
  || log "WARNING: the hook's publish does not share the pump's wake event (see the worker log)"

# --- Check: one message of each kind goes through ------------------------------------------------------
log "checking the path: one event for a consenting person (WeChat), one for another (SMS)"
seed produce --users "$USERS_FILE" --rate 1 --duration 0 --count 2 --step check --offset 0 \
  --out "$RUN/step-check.json" --drain-timeout 30 >&2 || die "the check events were not drained in 30 s"
check=$(sql "SELECT string_agg(channel || ':' || status, ' ' ORDER BY channel, status) FROM notify_delivery")
[ "$check" = "sms:sent sms:skipped wechat:sent wechat:skipped" ] \
  || die "the check messages: expected 'sms:sent sms:skipped wechat:sent wechat:skipped' (WeChat sent with its SMS reserve skipped; SMS sent with its WeChat row skipped for want of consent), got '$check'"
echo "  check: $check (WeChat sent, its SMS in reserve dropped; SMS sent, the WeChat row skipped: no consent)"

# --- Load ------------------------------------------------------------------------------------------------
BENCH_CPU_GROUPS=(
  "worker1|--pgid ${WORKER_PIDS[0]}" "worker2|--pgid ${WORKER_PIDS[1]}" "sandbox|--pgid $SANDBOX_PID"
  "postgres|--tree $PG_PID" "redis|--pid $REDIS_PID"
)
step_snapshot() {  # one line: wall clock, CPU-seconds of each group, the machine's busy and total
  local machine
  machine=$(cpuload snapshot --pid $$)
  printf 'wall_s=%s%s machine_busy=%s machine_total=%s\n' "$(date +%s.%N)" \
    "$(cpu_groups_snapshot)" "$(cut -d' ' -f1 <<<"$machine")" "$(cut -d' ' -f2 <<<"$machine")"
}
check_alive() {
  local entry
  for entry in "${BENCH_GROUPS[@]}"; do
    kill -0 "${entry%%|*}" 2>/dev/null || die "${entry#*|} exited during the load"
  done
}

run_hello() {  # run_hello N
  if (( $1 == 1 && WARMUP > 0 )); then
    log "hello-world warm-up (${WARMUP}s, not counted)"
    wrk_run "$RUN/hello-warmup.txt" "$WARMUP" "$HELLO/"
  fi
  log "hello-world run $1 (${HELLO_SECONDS}s, wrk -t$THREADS -c$CONNECTIONS)"
  wrk_run "$RUN/raw/hello.$1.txt" "$HELLO_SECONDS" "$HELLO/"
  print_run "$RUN/raw/hello.$1.txt"
}

run_hello 1
OFFSET=2
STEP_FILES=()
n_steps=${#STEP_RATES[@]}
for i in "${!STEP_RATES[@]}"; do
  rate=${STEP_RATES[i]}
  step="step$((i + 1))"
  log "$step/$n_steps: $rate events/s for ${DURATION}s, then the drain (at most ${DRAIN_TIMEOUT}s)"
  profilers=()
  if [ "$PROFILE" = 1 ] && (( i == n_steps - 1 )); then
    for target in "worker1:${WORKER_PIDS[0]}" "sandbox:$SANDBOX_PID"; do
      "$PYSPY_BIN" record --pid "${target#*:}" --duration "$DURATION" --rate 100 --format raw \
        --nonblocking --output "$RUN/raw/profile-${target%%:*}.txt" >"$RUN/profile-${target%%:*}.log" 2>&1 &
      profilers+=("$!")
    done
    log "  py-spy records worker 1 and the sandbox for ${DURATION}s (100 Hz, --nonblocking)"
  fi
  printf 'before %s\n' "$(step_snapshot)" >"$RUN/raw/$step.cpu"
  rc=0
  seed produce --users "$USERS_FILE" --rate "$rate" --duration "$DURATION" --step "$step" \
    --offset "$OFFSET" --out "$RUN/raw/$step.json" --drain-timeout "$DRAIN_TIMEOUT" >&2 || rc=$?
  printf 'after %s\n' "$(step_snapshot)" >>"$RUN/raw/$step.cpu"
  for pid in "${profilers[@]}"; do wait "$pid" || log "  WARNING: py-spy exited with an error (see $RUN/profile-*.log)"; done
  [ "$rc" = 0 ] || die "$step did not drain within ${DRAIN_TIMEOUT}s after its last event (raise DRAIN_TIMEOUT, or the rate is far above what drains)"
  check_alive
  STEP_FILES+=("$RUN/raw/$step.json")
  OFFSET=$(( OFFSET + rate * DURATION ))
done
run_hello 2
bench_busy_after

# --- What the peers received ------------------------------------------------------------------------------
log "reading what the peers received"
seed peer-stats --sandbox "$SANDBOX_BASE" --users "$USERS_FILE" --out "$RUN/peers.json" >&2 \
  || die "could not read the peers' counts"
dead=$(sql "SELECT count(*) FROM core_outbox_event WHERE status <> 'delivered'")

# --- Report ------------------------------------------------------------------------------------------------
profile_args=()
for f in "$RUN"/raw/profile-*.txt; do [ -s "$f" ] && profile_args+=(--profile "$f"); done
bench_report "$REPORT_PY" \
  --dsn "$ZB_TEST_DATABASE_URL" --steps "$RUN/step-check.json" "${STEP_FILES[@]}" \
  --peers "$RUN/peers.json" "${profile_args[@]}" \
  --meta "rates=$RATES" --meta "users=$USERS" --meta "accepts_per_consenting_user=$ACCEPTS" \
  --meta "seed_s=$SEED_S" --meta "hello_seconds=$HELLO_SECONDS" \
  --meta "zb_worker_concurrency=$WORKER_CONCURRENCY" --meta "zb_worker_batch_size=$WORKER_BATCH" \
  --meta "zb_worker_poll_s=$WORKER_POLL_S" --meta "zb_notify_batch_size=$NOTIFY_BATCH" \
  --meta "zb_notify_concurrency=$NOTIFY_CONCURRENCY" --meta "zb_notify_quiet_hours=$QUIET_HOURS" \
  --meta "drain_timeout_s=$DRAIN_TIMEOUT" --meta "hook=$HOOK" \
  --meta "bench_pythonpath=${BENCH_PYTHONPATH:-}" \
  --meta "hook_line=$(grep -m1 "$HOOK_READY" "$RUN/worker1.log" | cut -c1-300)" \
  --meta "sandbox=python -m sandbox (one process) at $SANDBOX_BASE" \
  --meta "worker_logs=bench/results/$BENCH-$STAMP-worker1.log bench/results/$BENCH-$STAMP-worker2.log" \
  --meta "git=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . ':!bench' 2>/dev/null || echo ' + uncommitted changes outside bench/')"
cp "$RUN/peers.json" "$RESULTS/$BENCH-$STAMP-peers.json" 2>/dev/null || true
if [ "$dead" != 0 ]; then
  log "ERROR: $dead outbox event(s) not delivered (dead or pending)"
  report_rc=3
fi

# The workers' logs (WARNING and above) stand in for the server log of the other benchmarks.
for w in 1 2; do
  problems=$(grep -v "$HOOK_READY" "$RUN/worker$w.log" | grep -ciE 'error|exception|traceback|warning|critical' || true)
  if [ "$problems" -gt 0 ]; then
    echo "worker $w log: $problems line(s) mention an error or warning; first ones:"
    grep -v "$HOOK_READY" "$RUN/worker$w.log" | grep -iE 'error|exception|traceback|warning|critical' \
      | head -n 10 | cut -c1-300 | sed 's/^/  /'
  else
    echo "worker $w log: no errors or warnings"
  fi
  echo "worker $w log: $RESULTS/$BENCH-$STAMP-worker$w.log"
done
[ "$report_rc" = 0 ] || die "the measurement is not usable (see BROKEN above)"
exit 0
