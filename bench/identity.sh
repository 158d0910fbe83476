#!/usr/bin/env bash
# Identity load test: production profile on local PostgreSQL + Redis, 2 workers, wrk, with the
# WeChat sandbox as a separate process (python -m sandbox), as the real platform would be.
#
#   bash bench/identity.sh                 # 3 rounds of 10 s per endpoint
#   DURATION=5 bash bench/identity.sh      # shorter rounds
#
# In each round, wrk hits in turn: the Sanic hello-world (bench/hello.py); the cached guide of one
# item without a token, then the same URL with "Authorization: Bearer <valid citizen token>"
# (public endpoints verify a token when one is sent: the difference is the cost of the token
# check); the WeChat login with a fresh single-use wx.login code per request (bench/login.lua),
# which includes the server's jscode2session round trip to the sandbox; and, for comparison, the
# sandbox's own jscode2session alone (bench/jscode2session.lua). The table shows the medians, the
# ratio of each endpoint to the hello-world figure of the same round and the targets; a note says
# whether the sandbox (a single process) or our server limits login. bench/results/ keeps a JSON
# copy and the logs. See bench/README.md.
#
# Exit status: 0 when the measurement is usable, even if a target is missed (the table says FAIL);
# non-zero when something broke: a server did not start, a check request failed, wrk failed, or a
# run saw non-2xx responses, connect errors, or a problem reported by a wrk script (login codes
# ran out, the sandbox answered an error).
#
# Settings (environment): DURATION (s, default 10), ROUNDS (3), WARMUP (s per endpoint, 2; 0 = none),
# WAIT_QUIET (s to wait at the start for other work on the machine to finish, 120; 0 = don't wait),
# THREADS (2), CONNECTIONS (64), GUIDE_CODE (GA-SFZ-HL), LOGIN_OPENIDS (2000: the pool of returning
# users whose codes are minted), LOGIN_MAX_RPS (3000: codes minted for the first login run are
# LOGIN_MAX_RPS × its seconds; later runs 2 × the best rate seen so far × seconds, at least half
# the first amount), SANDBOX_MAX_RPS (12000: the same for the runs against the sandbox alone),
# VENV (.venv), KEEP_TMP=1 to keep the temporary folder. Other ZB_* variables you export reach the server and are
# recorded in the results; the script itself sets ZB_ACCESS_TTL_S=3600 (the reader's token must
# outlive the run) and ZB_LOGIN_LIMIT_PER_MIN=1000000 (every login comes from 127.0.0.1).
set -euo pipefail

BENCH=identity
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # common settings, helpers, cleanup (moves to the root)

GUIDE_CODE=${GUIDE_CODE:-GA-SFZ-HL}
LOGIN_OPENIDS=${LOGIN_OPENIDS:-2000}
LOGIN_MAX_RPS=${LOGIN_MAX_RPS:-3000}
SANDBOX_MAX_RPS=${SANDBOX_MAX_RPS:-12000}
ACCESS_TTL_S=3600
LOGIN_LIMIT_PER_MIN=1000000
LOGIN_LUA=$ROOT/bench/login.lua
JSCODE_LUA=$ROOT/bench/jscode2session.lua
# Openid pools: login runs, the sandbox-alone runs and the token holder never share an openid, so
# no openid comes near the sandbox's 100 logins a minute (45011).
LOGIN_PREFIX=obench-login-
DIRECT_PREFIX=obench-direct-
READER_PREFIX=obench-reader-

bench_validate LOGIN_OPENIDS LOGIN_MAX_RPS SANDBOX_MAX_RPS
(( LOGIN_OPENIDS > 0 && LOGIN_MAX_RPS > 0 && SANDBOX_MAX_RPS > 0 )) \
  || die "LOGIN_OPENIDS, LOGIN_MAX_RPS and SANDBOX_MAX_RPS must be positive"
bench_need_tools
for f in "$LOGIN_LUA" "$JSCODE_LUA" "$WXCODES"; do [ -f "$f" ] || die "missing $f"; done

bench_init
bench_wait_quiet

# --- PostgreSQL, Redis, S3 (S3 is not on the measured paths) ----------------------------------
bench_start_backends

# --- The WeChat sandbox, a process of its own ----------------------------------------------------
bench_start_sandbox
bench_extra_zb

# --- Application ------------------------------------------------------------------------------
bench_check_settings
bench_migrate_seed
bench_start_server
bench_start_hello

log "checking the endpoints (and warming the guide cache)"
check_json "$HELLO/" "hello-world"
check_json "$BASE/api/v1/items/$GUIDE_CODE" "guide $GUIDE_CODE"
wxcodes login --sandbox "$SANDBOX_BASE" --api "$BASE" --count 1 --prefix "$READER_PREFIX" \
  --out "$RUN/reader.token" || die "the token holder could not log in"
TOKEN=$(head -n 1 "$RUN/reader.token")
AUTH_HEADER="Authorization: Bearer $TOKEN"
check_json "$BASE/api/v1/items/$GUIDE_CODE" "guide $GUIDE_CODE with a token" -H "$AUTH_HEADER"
# The token is really checked: a forged one is refused on the same URL.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer ${TOKEN}x" \
  "$BASE/api/v1/items/$GUIDE_CODE" || true)
[ "$code" = 401 ] || die "guide with a forged token: HTTP $code, expected 401 (is the token verified?)"
echo "  guide $GUIDE_CODE with a forged token: 401 (the token is verified)"
# The sandbox alone: one code, straight to jscode2session.
wxcodes mint --sandbox "$SANDBOX_BASE" --count 1 --openids 1 --prefix "${DIRECT_PREFIX}check-" \
  --out "$RUN/check.codes" 2>/dev/null || die "the sandbox's control API did not mint a code"
answer=$(curl -sS --max-time 10 "$SANDBOX_BASE/wechat/sns/jscode2session?appid=$APPID&secret=$APPSECRET&grant_type=authorization_code&js_code=$(head -n 1 "$RUN/check.codes")") \
  || die "sandbox jscode2session: curl failed"
[[ $answer == *'"openid"'* ]] || die "sandbox jscode2session answered $answer"
echo "  sandbox jscode2session: an openid for a fresh code"
# Every openid of the login pool logs in once now, so the measured logins are returning users
# (the user exists; the login updates it), as most logins are in real life.
log "first login of the $LOGIN_OPENIDS openids of the pool (not measured)"
wxcodes login --sandbox "$SANDBOX_BASE" --api "$BASE" --count "$LOGIN_OPENIDS" \
  --prefix "$LOGIN_PREFIX" || die "the first logins of the pool failed"

# --- Load --------------------------------------------------------------------------------------
BENCH_CPU_GROUPS=(
  "server|--pgid $SERVER_PID" "sandbox|--pgid $SANDBOX_PID"
  "postgres|--tree $PG_PID" "redis|--pid $REDIS_PID"
)
declare -A BEST_RPS=([login]=0 [jscode2session]=0)
declare -A PREFIX_OF=([login]=$LOGIN_PREFIX [jscode2session]=$DIRECT_PREFIX)
declare -A MAX_RPS=([login]=$LOGIN_MAX_RPS [jscode2session]=$SANDBOX_MAX_RPS)
CODES_MINTED=()

# Login codes live 300 s in the sandbox: mint them for each run, right before it. The first run
# of an endpoint gets LOGIN_MAX_RPS (SANDBOX_MAX_RPS) × its seconds; later ones twice the best
# rate seen so far (each wrk thread has its own fixed half, and the threads are not equally fast),
# but never less than half the first amount (a short warm-up may have run slow). Minting is cheap.
mint_for() {  # mint_for ENDPOINT SECONDS FILE
  local ep=$1 secs=$2 file=$3 count best=${BEST_RPS[$1]}
  count=$(( ${MAX_RPS[$ep]} * secs ))
  if [ "$best" != 0 ]; then
    count=$(( 2 * best * secs + 4 * CONNECTIONS ))
    (( count >= ${MAX_RPS[$ep]} * secs / 2 )) || count=$(( ${MAX_RPS[$ep]} * secs / 2 ))
  fi
  wxcodes mint --sandbox "$SANDBOX_BASE" --count "$count" --openids "$LOGIN_OPENIDS" \
    --prefix "${PREFIX_OF[$ep]}" --out "$file" 2>"$RUN/mint.log" \
    || { cat "$RUN/mint.log" >&2; die "minting login codes failed"; }
  log "  $(cat "$RUN/mint.log")"
  CODES_MINTED+=("$ep:$count")
}

note_rate() {  # note_rate ENDPOINT OUTFILE
  local rps
  rps=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' "$2")
  (( ${rps:-0} > ${BEST_RPS[$1]} )) && BEST_RPS[$1]=$rps
  return 0
}

run_endpoint() {  # run_endpoint ENDPOINT OUTFILE SECONDS [TAG]
  local ep=$1 out=$2 secs=$3 codes
  case $ep in
    hello) wrk_run "$out" "$secs" "$HELLO/" ;;
    guide) wrk_run "$out" "$secs" "$BASE/api/v1/items/$GUIDE_CODE" ;;
    guide_auth) wrk_run "$out" "$secs" "$BASE/api/v1/items/$GUIDE_CODE" -H "$AUTH_HEADER" ;;
    login)
      codes=$RUN/codes-${out##*/}
      mint_for login "$secs" "$codes"
      wrk_run "$out" "$secs" "$BASE/" -s "$LOGIN_LUA" -- "$codes" "$THREADS"
      note_rate login "$out"
      ;;
    jscode2session)
      codes=$RUN/codes-${out##*/}
      mint_for jscode2session "$secs" "$codes"
      wrk_run "$out" "$secs" "$SANDBOX/" -s "$JSCODE_LUA" -- "$codes" "$THREADS" "$APPID" "$APPSECRET"
      note_rate jscode2session "$out"
      ;;
    *) die "unknown endpoint $ep" ;;
  esac
}

ORDER=(hello guide guide_auth login jscode2session)
# guide and guide_auth are compared within each round: swap them every other round, so neither
# always runs first (a drift of the machine would otherwise always favour the same one).
ORDER_EVEN=(hello guide_auth guide login jscode2session)
bench_run_rounds

SANDBOX_STATS=$(curl -s --max-time 10 "$SANDBOX_BASE/wechat/_control/stats" \
  | python3 -c 'import json, sys; d = json.load(sys.stdin); print(json.dumps({"calls": d["calls"]["jscode2session"], "errors": d["errors"]["jscode2session"]}))' 2>/dev/null \
  || echo unknown)

# --- Report -----------------------------------------------------------------------------------
bench_report targets_report.py identity \
  --meta "guide_code=$GUIDE_CODE" \
  --meta "zb_access_ttl_s=$ACCESS_TTL_S" --meta "zb_login_limit_per_min=$LOGIN_LIMIT_PER_MIN" \
  --meta "sandbox=python -m sandbox (separate process) at $SANDBOX_BASE, appid $APPID" \
  --meta "login_openids=$LOGIN_OPENIDS" --meta "login_max_rps=$LOGIN_MAX_RPS" \
  --meta "sandbox_max_rps=$SANDBOX_MAX_RPS" \
  --meta "codes_minted_per_run=${CODES_MINTED[*]}" \
  --meta "sandbox_jscode2session_stats=$SANDBOX_STATS"
echo "Settings of this run: ZB_ACCESS_TTL_S=$ACCESS_TTL_S, ZB_LOGIN_LIMIT_PER_MIN=$LOGIN_LIMIT_PER_MIN;" \
  "logins are returning users of a pool of $LOGIN_OPENIDS openids; sandbox jscode2session calls: $SANDBOX_STATS"

bench_finish
