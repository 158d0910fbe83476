#!/usr/bin/env bash
# Upload-intent load test: production profile on local PostgreSQL + Redis + S3 (rclone), 2 workers,
# wrk. Users log in through the WeChat sandbox run as a separate process (python -m sandbox).
#
#   bash bench/uploads.sh                 # 3 rounds of 10 s per endpoint
#   DURATION=5 bash bench/uploads.sh      # shorter rounds
#
# In each round, wrk hits in turn: the Sanic hello-world (bench/hello.py) and
# POST /api/v1/uploads (the presigned policy a phone asks for before wx.uploadFile) with a valid
# citizen token, rotating over users and materials (bench/uploads.lua). Intent creation counts the
# live uploads of each (user, material) pair and refuses more than the material's max_files, so
# the script imports a bench item (BENCH-UPLOAD: 10 photo materials, max_files 20, real-name level 0)
# and gives every wrk run its own UPLOAD_USERS fresh users: UPLOAD_USERS × 10 × 20 intents per run.
# The object store is S3 (rclone, as services.sh starts it): the policy is signed locally, so the
# S3 server is not on the measured path. The table shows the medians, the ratio to the
# hello-world of the same round and the target; bench/results/ keeps a JSON copy and the logs.
# See bench/README.md.
#
# Exit status: 0 when the measurement is usable, even if a target is missed (the table says FAIL);
# non-zero when something broke: a server did not start, a check request failed, wrk failed, or a
# run saw non-2xx responses (a 409 means a pair passed max_files: raise UPLOAD_USERS), connect
# errors, or a problem reported by the wrk script.
#
# Settings (environment): DURATION (s, default 10), ROUNDS (3), WARMUP (s per endpoint, 2; 0 = none),
# WAIT_QUIET (s to wait at the start for other work on the machine to finish, 120; 0 = don't wait),
# THREADS (2), CONNECTIONS (64), UPLOAD_USERS (users per wrk run; default enough for 6,000 intents
# a second: 300 for runs of 10 s), VENV (.venv), KEEP_TMP=1 to keep the temporary folder. Other
# ZB_* variables you export reach the server and are recorded in the results; the script itself
# sets ZB_ACCESS_TTL_S=3600 (the tokens must outlive the run) and ZB_LOGIN_LIMIT_PER_MIN=1000000
# (the users log in from 127.0.0.1 before the measurement).
set -euo pipefail

BENCH=uploads
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # common settings, helpers, cleanup (moves to the root)

ITEM_CODE=BENCH-UPLOAD
MATERIALS=10
MAX_FILES=20
ACCESS_TTL_S=3600
LOGIN_LIMIT_PER_MIN=1000000
UPLOADS_LUA=$ROOT/bench/uploads.lua

bench_validate
if [ -z "${UPLOAD_USERS:-}" ]; then  # enough for 6,000 intents a second over the longest run
  longest=$(( DURATION > WARMUP ? DURATION : WARMUP ))
  UPLOAD_USERS=$(( (6000 * longest + MATERIALS * MAX_FILES - 1) / (MATERIALS * MAX_FILES) ))
  (( UPLOAD_USERS >= 300 )) || UPLOAD_USERS=300
fi
bench_validate UPLOAD_USERS
(( UPLOAD_USERS >= THREADS )) || die "UPLOAD_USERS must be at least THREADS"
bench_need_tools
for f in "$UPLOADS_LUA" "$WXCODES"; do [ -f "$f" ] || die "missing $f"; done

bench_init
bench_wait_quiet

# --- PostgreSQL, Redis, S3 (presigning is local: S3 is not on the hot path) --------------------
bench_start_backends

# --- The WeChat sandbox, a process of its own (only to log the users in) -------------------------
bench_start_sandbox
zb_set ZB_STORAGE_BACKEND=s3
bench_extra_zb

# --- Application ------------------------------------------------------------------------------
bench_check_settings
bench_migrate_seed

# The bench item, written with the tests' catalogue factories (the import format).
log "importing the bench item $ITEM_CODE ($MATERIALS photo materials, max_files $MAX_FILES)"
MATERIAL_CODES=$("$VENV/bin/python" - "$RUN/bench-catalog.yaml" "$ITEM_CODE" "$MATERIALS" "$MAX_FILES" <<'PY'
import sys
import yaml
from tests import factories

out, item_code, materials, max_files = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
dept = factories.department(code="BENCH-DEPT", name="压测市数据局")
mats = [
    factories.material(code=f"photo-{n:02d}", name=f"压测照片{n}", formats=["jpg"], max_files=max_files)
    for n in range(1, materials + 1)
]
item = factories.guide(
    lead_department="BENCH-DEPT", code=item_code, name="压测上传事项", materials=mats,
    min_realname_level=0,
)
doc = factories.catalog_file(departments=[dept], items=[item])
with open(out, "w", encoding="utf-8") as f:
    yaml.safe_dump(doc, f, allow_unicode=True, sort_keys=False)
print(",".join(m["code"] for m in mats))
PY
) || die "could not write the bench catalogue"
bench_import_catalog "$RUN/bench-catalog.yaml"

bench_start_server
bench_start_hello

# Every wrk run gets its own users, so each run has the whole capacity (intents stay live).
bench_run_tags
log "logging in $(( UPLOAD_USERS * ${#RUN_TAGS[@]} + 1 )) users: $UPLOAD_USERS per wrk run (${#RUN_TAGS[@]} runs) + 1 for the check"
for tag in check "${RUN_TAGS[@]}"; do
  count=$UPLOAD_USERS; [ "$tag" = check ] && count=1
  wxcodes login --sandbox "$SANDBOX_BASE" --api "$BASE" --count "$count" \
    --prefix "obench-upload-$tag-" --out "$RUN/tokens-$tag.txt" || die "logging the $tag users in failed"
done

log "checking the endpoints"
check_json "$HELLO/" "hello-world"
check_json "$BASE/api/v1/items/$ITEM_CODE" "guide $ITEM_CODE"
body=$RUN/check-intent.json
code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 10 -X POST "$BASE/api/v1/uploads" \
  -H "Authorization: Bearer $(head -n 1 "$RUN/tokens-check.txt")" -H 'Content-Type: application/json' \
  -d "{\"purpose\":\"material\",\"item_code\":\"$ITEM_CODE\",\"material_code\":\"${MATERIAL_CODES%%,*}\",\"filename\":\"IMG_0001.jpg\",\"content_type\":\"image/jpeg\",\"size\":2345678}") \
  || die "upload intent: curl failed"
[ "$code" = 201 ] || { head -c 600 "$body" >&2; echo >&2; die "upload intent: HTTP $code, expected 201"; }
python3 - "$body" "$S3_URL" <<'PY' || die "upload intent: not the policy expected"
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
assert doc["url"].startswith(sys.argv[2]), f"policy URL {doc['url']} is not the S3 endpoint {sys.argv[2]}"
assert doc["fields"] and doc["upload_id"], doc
print(f"  upload intent: 201, policy for {doc['url']} ({len(doc['fields'])} form fields, max {doc['max_size']} bytes)")
PY
# 401 without a token: the measured path really authenticates.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "$BASE/api/v1/uploads" \
  -H 'Content-Type: application/json' -d '{}' || true)
[ "$code" = 401 ] || die "upload intent without a token: HTTP $code, expected 401"
echo "  upload intent without a token: 401"

# --- Load --------------------------------------------------------------------------------------
BENCH_CPU_GROUPS=("server|--pgid $SERVER_PID" "postgres|--tree $PG_PID" "redis|--pid $REDIS_PID")

run_endpoint() {  # run_endpoint ENDPOINT OUTFILE SECONDS TAG
  case $1 in
    hello) wrk_run "$2" "$3" "$HELLO/" ;;
    upload) wrk_run "$2" "$3" "$BASE/" -s "$UPLOADS_LUA" -- "$RUN/tokens-$4.txt" "$THREADS" \
      "$ITEM_CODE" "$MATERIAL_CODES" "$MAX_FILES" ;;
    *) die "unknown endpoint $1" ;;
  esac
}

ORDER=(hello upload)
bench_run_rounds

# Every answered intent is a row: compare with what wrk counted (it does not count requests that
# were still in flight at the end, so the table may hold slightly more).
ROWS=$(psql -h 127.0.0.1 -p "$ZB_TEST_PG_PORT" -U postgres -d zhangban_test -tAc \
  "SELECT count(*) FROM storage_upload WHERE item_code = '$ITEM_CODE'" 2>/dev/null || echo unknown)
COMPLETED=$(bench_requests_done upload)

# --- Report -----------------------------------------------------------------------------------
bench_report targets_report.py uploads \
  --meta "item_code=$ITEM_CODE" --meta "materials=$MATERIAL_CODES" --meta "max_files=$MAX_FILES" \
  --meta "users_per_run=$UPLOAD_USERS" --meta "capacity_per_run=$(( UPLOAD_USERS * MATERIALS * MAX_FILES ))" \
  --meta "zb_access_ttl_s=$ACCESS_TTL_S" --meta "zb_login_limit_per_min=$LOGIN_LIMIT_PER_MIN" \
  --meta "storage=s3 at $S3_URL" --meta "upload_rows=$ROWS" --meta "wrk_completed=$COMPLETED"
echo "Settings of this run: ZB_ACCESS_TTL_S=$ACCESS_TTL_S, ZB_LOGIN_LIMIT_PER_MIN=$LOGIN_LIMIT_PER_MIN," \
  "ZB_STORAGE_BACKEND=s3 ($S3_URL); $UPLOAD_USERS users per wrk run," \
  "capacity $(( UPLOAD_USERS * MATERIALS * MAX_FILES )) intents per run;" \
  "intents in the database: $ROWS (wrk counted $COMPLETED answers, warm-up included)"

bench_finish
