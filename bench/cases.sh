#!/usr/bin/env bash
# Case benchmark: production profile on local PostgreSQL + Redis + S3 (rclone), 2 workers, wrk,
# with CASES (1,000,000) cases seeded in SQL. Users and staff log in through the WeChat sandbox
# run as a separate process (python -m sandbox).
#
#   bash bench/cases.sh                          # 1,000,000 cases, 3 rounds of 10 s per endpoint
#   CASES=100000 DURATION=3 ROUNDS=1 bash bench/cases.sh     # a quick trial
#
# In each round, wrk hits in turn: the Sanic hello-world (bench/hello.py) at the default
# connections and at LATENCY_CONNECTIONS (16); then, at 16 connections, the citizen's case list
# (GET /api/v1/cases?limit=20) and the staff inbox of the clerk and of the reviewer
# (GET /api/v1/staff/inbox?role=…&limit=20); then, at the default connections, the case detail
# with its timeline (GET /api/v1/cases/{id}, rotating over the citizen's cases: cases_detail.lua)
# and submissions (POST /api/v1/cases/{id}/submit on drafts seeded beforehand, each once, with an
# Idempotency-Key: cases_submit.lua). Before the load the script prints the query plans of the
# lists, inboxes and detail on the seeded data (bench/cases_plans.py). The table shows the
# medians, the ratios to the hello-world of the same round and the targets; bench/results/ keeps
# a JSON copy, the plans and the logs. See bench/README.md.
#
# Exit status: 0 when the measurement is usable, even if a target is missed (the table says FAIL);
# non-zero when something broke: a server did not start, seeding failed, a check request failed,
# wrk failed, or a run saw non-2xx responses, connect errors, or a problem reported by a wrk
# script (drafts ran out).
#
# Settings (environment): DURATION (s, default 10), ROUNDS (3), WARMUP (s per endpoint, 2; 0 =
# none), WAIT_QUIET (s to wait at the start for other work on the machine to finish, 120; 0 =
# don't wait), THREADS (2), CONNECTIONS (64: the throughput runs), LATENCY_CONNECTIONS (16: the
# list and inbox runs), CASES (1000000), CITIZEN_CASES (100: the benchmark citizen's cases),
# DEPARTMENTS (8), SUBMITTERS (50: users owning the drafts), SUBMIT_MAX_RPS (1500: drafts seeded
# per second of every submit run, warm-up included), VENV (.venv), KEEP_TMP=1 to keep the
# temporary folder. Other ZB_* variables you export reach the server and are recorded in the
# results; the script itself sets ZB_ACCESS_TTL_S=3600 (the tokens must outlive the run) and
# ZB_LOGIN_LIMIT_PER_MIN=1000000 (every login comes from 127.0.0.1).
set -euo pipefail

BENCH=cases
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # common settings, helpers, cleanup (moves to the root)

CASES=${CASES:-1000000}
CITIZEN_CASES=${CITIZEN_CASES:-100}
DEPARTMENTS=${DEPARTMENTS:-8}
SUBMITTERS=${SUBMITTERS:-50}
SUBMIT_MAX_RPS=${SUBMIT_MAX_RPS:-1500}
LATENCY_CONNECTIONS=${LATENCY_CONNECTIONS:-16}
ITEMS_PER_DEPT=3
DEPT_SHARE=0.25      # the staff member's department's share of all cases
RECENT=0.08          # the most recent share of the cases, where open work is
MINE_TASKS=20        # reviewer tasks claimed by the benchmark staff member
STAFF_DEPT="BENCH-D01"
SUBMIT_ITEM="BENCH-SUBMIT"
SUBMIT_DEPT="BENCH-D02"
ACCESS_TTL_S=3600
LOGIN_LIMIT_PER_MIN=1000000
SEED_SQL=$ROOT/bench/cases_seed.sql
PLANS_PY=$ROOT/bench/cases_plans.py
DETAIL_LUA=$ROOT/bench/cases_detail.lua
SUBMIT_LUA=$ROOT/bench/cases_submit.lua

bench_validate CASES CITIZEN_CASES DEPARTMENTS SUBMITTERS SUBMIT_MAX_RPS LATENCY_CONNECTIONS
(( CASES >= 10000 )) || die "CASES must be at least 10000"
(( CITIZEN_CASES >= 10 && CITIZEN_CASES * 100 <= CASES )) \
  || die "CITIZEN_CASES must be at least 10 and at most CASES / 100"
(( DEPARTMENTS >= 2 && DEPARTMENTS <= 99 )) || die "DEPARTMENTS must be between 2 and 99"
(( SUBMITTERS >= THREADS && SUBMIT_MAX_RPS > 0 && LATENCY_CONNECTIONS >= THREADS )) \
  || die "SUBMITTERS and LATENCY_CONNECTIONS must be at least THREADS, SUBMIT_MAX_RPS positive"
bench_need_tools psql
for f in "$SEED_SQL" "$PLANS_PY" "$DETAIL_LUA" "$SUBMIT_LUA" "$WXCODES"; do
  [ -f "$f" ] || die "missing $f"
done

bench_init
bench_wait_quiet

# --- PostgreSQL, Redis, S3 (presigning the file links is local) -------------------------------
bench_start_backends
PSQL=(psql -X -q -h 127.0.0.1 -p "$ZB_TEST_PG_PORT" -U postgres -d zhangban_test -v ON_ERROR_STOP=1)
sql() { "${PSQL[@]}" -tAc "$1"; }

# --- The WeChat sandbox, a process of its own (only to log the users and the staff in) ---------
bench_start_sandbox
zb_set ZB_STORAGE_BACKEND=s3
bench_extra_zb

# --- Application ------------------------------------------------------------------------------
bench_check_settings
bench_migrate_seed

# The bench catalogue, written with the tests' catalogue factories (the import format):
# DEPARTMENTS departments of ITEMS_PER_DEPT items each (two photo materials, a reviewer and an
# approver step, one item in three with a fee), and SUBMIT_ITEM, an item without materials.
log "importing the bench catalogue ($DEPARTMENTS departments × $ITEMS_PER_DEPT items, and $SUBMIT_ITEM)"
"$VENV/bin/python" - "$RUN/bench-catalog.yaml" "$DEPARTMENTS" "$ITEMS_PER_DEPT" "$SUBMIT_ITEM" \
  "$SUBMIT_DEPT" <<'PY' || die "could not write the bench catalogue"
import sys
import yaml
from tests import factories

out, departments, per_dept, submit_item, submit_dept = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
form_schema = {
    "type": "object",
    "properties": {
        "reason": {"type": "string", "title": "申请原因", "minLength": 2},
        "delivery_method": {"type": "string", "title": "领取方式", "enum": ["窗口领取", "邮寄送达"]},
        "photo_receipt_no": {"type": "string", "title": "相片回执编号"},
    },
    "required": ["reason"],
}
steps = [{"name": "审查", "role": "reviewer"}, {"name": "决定", "role": "approver"}]
depts, items = [], []
for d in range(1, departments + 1):
    code = f"BENCH-D{d:02d}"
    depts.append(factories.department(code=code, name=f"压测市第{d}局"))
    for k in range(1, per_dept + 1):
        items.append(factories.guide(
            lead_department=code, code=f"BENCH-C-D{d:02d}-{k}", name=f"压测事项{d}-{k}",
            materials=[
                factories.material(code="photo-1", name="申请人身份证照片", formats=["jpg", "png"]),
                factories.material(code="photo-2", name="相片回执", formats=["jpg", "png"]),
            ],
            form_schema=form_schema, review_steps=steps, min_realname_level=0,
            fee={"amount_fen": 2000 if k == 2 else 0, "basis": "《压测收费标准》" if k == 2 else ""},
            online_payment=k == 2,
        ))
items.append(factories.guide(
    lead_department=submit_dept, code=submit_item, name="压测提交事项", materials=[],
    form_schema=form_schema, review_steps=steps, min_realname_level=0,
))
with open(out, "w", encoding="utf-8") as f:
    yaml.safe_dump(factories.catalog_file(departments=depts, items=items), f, allow_unicode=True, sort_keys=False)
PY
bench_import_catalog "$RUN/bench-catalog.yaml"

bench_start_server
bench_start_hello

# --- Who acts: the citizen, the owners of the drafts, the staff member ---------------------------
log "logging in the citizen and $SUBMITTERS draft owners through the sandbox"
wxcodes login --sandbox "$SANDBOX_BASE" --api "$BASE" --count 1 --prefix obench-citizen- \
  --out "$RUN/citizen.token" --ids-out "$RUN/citizen.id" || die "the citizen could not log in"
wxcodes login --sandbox "$SANDBOX_BASE" --api "$BASE" --count "$SUBMITTERS" --prefix obench-submitter- \
  --out "$RUN/submitters.tokens" --ids-out "$RUN/submitters.ids" || die "the draft owners could not log in"
CITIZEN_ID=$(head -n 1 "$RUN/citizen.id")
CITIZEN_TOKEN=$(head -n 1 "$RUN/citizen.token")
SUBMITTER_IDS="{$(paste -sd, "$RUN/submitters.ids")}"

log "creating the staff member (zhangban staff create: $STAFF_DEPT, clerk and reviewer) and binding its WeChat"
zb staff create --username bench-staff --name 压测工作人员 --department "$STAFF_DEPT" \
  --roles clerk,reviewer >"$RUN/staff.json" 2>"$RUN/staff.err" \
  || { cat "$RUN/staff.err" >&2; die "zhangban staff create failed"; }
read -r STAFF_ID BIND_CODE < <(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["id"], d["bind_code"])' "$RUN/staff.json") \
  || die "zhangban staff create printed no id and binding code"
wxcodes staff-bind --sandbox "$SANDBOX_BASE" --api "$BASE" --bind-code "$BIND_CODE" \
  --openid obench-staff-0 --out "$RUN/staff.token" || die "the staff member could not bind and log in"
STAFF_TOKEN=$(head -n 1 "$RUN/staff.token")

# --- The data -----------------------------------------------------------------------------------
# Drafts: every submit run (warm-up included) gets its own, SUBMIT_MAX_RPS per second of the run,
# plus one for the check below.
bench_run_tags
next_draft=$(( CASES + 1 ))
for tag in check "${RUN_TAGS[@]}"; do
  case $tag in
    check) count=1 ;;
    warmup) count=$(( SUBMIT_MAX_RPS * WARMUP )) ;;
    *) count=$(( SUBMIT_MAX_RPS * DURATION )) ;;
  esac
  (( count >= THREADS )) || count=$THREADS
  # "case_id token_line": draft j (from 1) belongs to submitter (j - 1) mod SUBMITTERS (the seed)
  awk -v first="$next_draft" -v n="$count" -v base="$CASES" -v u="$SUBMITTERS" \
    'BEGIN { for (id = first; id < first + n; id++) print id, (id - base - 1) % u + 1 }' >"$RUN/drafts-$tag.txt"
  next_draft=$(( next_draft + count ))
done
DRAFTS=$(( next_draft - CASES - 1 ))

log "seeding $CASES cases and $DRAFTS drafts in SQL (cases_seed.sql)"
seed_started=$SECONDS
"${PSQL[@]}" -v cases="$CASES" -v citizen="$CITIZEN_ID" -v citizen_cases="$CITIZEN_CASES" \
  -v submitters="$SUBMITTER_IDS" -v drafts="$DRAFTS" -v dept="$STAFF_DEPT" \
  -v departments="$DEPARTMENTS" -v items_per_dept="$ITEMS_PER_DEPT" -v dept_share="$DEPT_SHARE" \
  -v recent="$RECENT" -v staff="$STAFF_ID" -v mine="$MINE_TASKS" -v submit_item="$SUBMIT_ITEM" \
  -f "$SEED_SQL" >"$RUN/seed-sql.log" 2>&1 || { cat "$RUN/seed-sql.log" >&2; die "seeding failed"; }
SEED_S=$(( SECONDS - seed_started ))
log "  seeded in ${SEED_S}s; VACUUM ANALYZE (visibility map and statistics, as autovacuum would leave them)"
vacuum_started=$SECONDS
sql "VACUUM (ANALYZE) cases_case, cases_event, cases_review_task, cases_correction, cases_evaluation, cases_supervision_notice, cases_item_duration_stats, storage_upload" \
  >/dev/null || die "VACUUM ANALYZE failed"
VACUUM_S=$(( SECONDS - vacuum_started ))
ROW_COUNTS=$(sql "SELECT 'cases=' || (SELECT count(*) FROM cases_case) || ' events=' || (SELECT count(*) FROM cases_event) || ' tasks=' || (SELECT count(*) FROM cases_review_task) || ' corrections=' || (SELECT count(*) FROM cases_correction) || ' evaluations=' || (SELECT count(*) FROM cases_evaluation) || ' uploads=' || (SELECT count(*) FROM storage_upload)")
DB_SIZE=$(sql "SELECT pg_size_pretty(pg_database_size(current_database()))")
log "  vacuumed in ${VACUUM_S}s; $ROW_COUNTS; database $DB_SIZE"
sql "SELECT status, count(*) FROM cases_case GROUP BY status ORDER BY 2 DESC" | tr '\n' ' ' | sed 's/^/  statuses: /' >&2; echo >&2

# The citizen's cases (the detail rotates over them) and what the inboxes hold.
# (the detail reads their own: those they filed for someone else need a mandate to be read, and
# the seed makes none)
CITIZEN_CASE_COUNT=$(sql "SELECT count(*) FROM cases_case WHERE applicant_user_id = $CITIZEN_ID OR agent_user_id = $CITIZEN_ID")
sql "SELECT id FROM cases_case WHERE applicant_user_id = $CITIZEN_ID ORDER BY id" >"$RUN/citizen-cases.txt"
(( $(wc -l <"$RUN/citizen-cases.txt") > 0 )) || die "the citizen has no cases of their own after seeding"
DETAIL_CASE=$(sql "SELECT id FROM cases_case WHERE applicant_user_id = $CITIZEN_ID ORDER BY status = 'completed' DESC, id DESC LIMIT 1")
OTHER_CASE=$(sql "SELECT min(id) FROM cases_case WHERE applicant_user_id >= 1000000 AND agent_user_id IS NULL")
QUEUES=$(sql "SELECT 'clerk queue ' || (SELECT count(*) FROM cases_case WHERE lead_department_code = '$STAFF_DEPT' AND status = 'submitted') || ', reviewer queue ' || (SELECT count(*) FROM cases_review_task WHERE department_code = '$STAFF_DEPT' AND role = 'reviewer' AND status = 'open') || ', reviewer tasks in all states ' || (SELECT count(*) FROM cases_review_task WHERE department_code = '$STAFF_DEPT' AND role = 'reviewer')")
log "  the citizen (user $CITIZEN_ID) has $CITIZEN_CASE_COUNT cases; $STAFF_DEPT: $QUEUES"

# --- Checks -------------------------------------------------------------------------------------
check_api() {  # check_api WHAT EXPECTED_STATUS CURL_ARGS... : prints a one-line summary
  local what=$1 expected=$2 body=$RUN/check.json code
  shift 2
  code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 30 "$@") || die "$what: curl failed"
  [ "$code" = "$expected" ] || { head -c 600 "$body" >&2; echo >&2; die "$what: HTTP $code, expected $expected"; }
  python3 - "$body" "$what" <<'PY' || die "$what: the answer is not the JSON expected"
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
what = sys.argv[2]
if "error" in doc:
    print(f"  {what}: {doc['error']['code']}")
elif "counts" in doc:
    assert doc["items"], "an empty inbox"
    print(f"  {what}: counts {doc['counts']}, {len(doc['items'])} rows, oldest {doc['items'][0]['id']}")
elif "items" in doc:
    assert doc["items"], "an empty list"
    statuses = sorted({row["status"] for row in doc["items"]})
    print(f"  {what}: {len(doc['items'])} rows, next_cursor {'yes' if doc['next_cursor'] else 'no'}, statuses {' '.join(statuses)}")
elif "timeline" in doc:
    print(f"  {what}: {doc['status']}, {len(doc['timeline'])} timeline events, {len(doc['files'])} files, "
          f"{len(doc['checklist'])} checklist rows, predicted {doc['predicted_on']}")
elif "hello" in doc:
    print(f"  {what}: {doc}")
else:
    print(f"  {what}: {doc.get('status')} (revision {doc.get('revision')})")
PY
}

log "checking the endpoints"
CITIZEN_AUTH="Authorization: Bearer $CITIZEN_TOKEN"
STAFF_AUTH="Authorization: Bearer $STAFF_TOKEN"
LIST_URL="$BASE/api/v1/cases?limit=20"
CLERK_URL="$BASE/api/v1/staff/inbox?role=clerk&limit=20"
REVIEWER_URL="$BASE/api/v1/staff/inbox?role=reviewer&limit=20"
check_api "hello-world" 200 "$HELLO/"
check_api "citizen list" 200 -H "$CITIZEN_AUTH" "$LIST_URL"
check_api "citizen list without a token" 401 "$LIST_URL"
check_api "clerk inbox" 200 -H "$STAFF_AUTH" "$CLERK_URL"
check_api "reviewer inbox" 200 -H "$STAFF_AUTH" "$REVIEWER_URL"
check_api "approver inbox (not the staff member's role)" 403 -H "$STAFF_AUTH" "$BASE/api/v1/staff/inbox?role=approver&limit=20"
check_api "case detail $DETAIL_CASE" 200 -H "$CITIZEN_AUTH" "$BASE/api/v1/cases/$DETAIL_CASE"
check_api "case detail of someone else's case" 404 -H "$CITIZEN_AUTH" "$BASE/api/v1/cases/$OTHER_CASE"
read -r check_draft check_token_line <"$RUN/drafts-check.txt"
check_api "submit draft $check_draft" 200 -X POST -H "Authorization: Bearer $(sed -n "${check_token_line}p" "$RUN/submitters.tokens")" \
  -H "Idempotency-Key: bench-check-$check_draft" "$BASE/api/v1/cases/$check_draft/submit"
[ "$(sql "SELECT status FROM cases_case WHERE id = $check_draft")" = submitted ] || die "the checked draft is not submitted"

# --- Query plans on this data (diagnostics: a failure here does not stop the benchmark) ----------
log "query plans of the lists, inboxes and detail (bench/cases_plans.py)"
PLANS_OUT=$RESULTS/cases-$STAMP-plans.txt
if ! env "${ZB_ENV[@]}" "$VENV/bin/python" "$PLANS_PY" --citizen "$CITIZEN_ID" --staff "$STAFF_ID" \
    --case "$DETAIL_CASE" --out "$PLANS_OUT" >"$RUN/plans-summary.txt" 2>"$RUN/plans.err"; then
  cat "$RUN/plans.err" >&2
  log "WARNING: cases_plans.py failed; no plans this run"
fi
cat "$RUN/plans-summary.txt"

# --- Load --------------------------------------------------------------------------------------
BENCH_CPU_GROUPS=("server|--pgid $SERVER_PID" "postgres|--tree $PG_PID" "redis|--pid $REDIS_PID")

run_endpoint() {  # run_endpoint ENDPOINT OUTFILE SECONDS TAG
  local ep=$1 out=$2 secs=$3 tag=$4
  case $ep in
    hello) wrk_run "$out" "$secs" "$HELLO/" ;;
    hello_c16) CONNECTIONS=$LATENCY_CONNECTIONS wrk_run "$out" "$secs" "$HELLO/" ;;
    list) CONNECTIONS=$LATENCY_CONNECTIONS wrk_run "$out" "$secs" "$LIST_URL" -H "$CITIZEN_AUTH" ;;
    inbox_clerk) CONNECTIONS=$LATENCY_CONNECTIONS wrk_run "$out" "$secs" "$CLERK_URL" -H "$STAFF_AUTH" ;;
    inbox_reviewer) CONNECTIONS=$LATENCY_CONNECTIONS wrk_run "$out" "$secs" "$REVIEWER_URL" -H "$STAFF_AUTH" ;;
    detail) wrk_run "$out" "$secs" "$BASE/" -H "$CITIZEN_AUTH" -s "$DETAIL_LUA" -- "$RUN/citizen-cases.txt" ;;
    submit) wrk_run "$out" "$secs" "$BASE/" -s "$SUBMIT_LUA" -- "$RUN/drafts-$tag.txt" \
      "$RUN/submitters.tokens" "$THREADS" ;;
    *) die "unknown endpoint $ep" ;;
  esac
}

ORDER=(hello hello_c16 list inbox_clerk inbox_reviewer detail submit)
bench_run_rounds

SUBMITTED=$(sql "SELECT count(*) FROM cases_case WHERE id > $CASES AND status = 'submitted'" || echo unknown)
COMPLETED=$(bench_requests_done submit)

# --- Report -----------------------------------------------------------------------------------
REPORT_WRK_NOTE=" (lists and inboxes: -c$LATENCY_CONNECTIONS)"
bench_report targets_report.py cases \
  --meta "cases=$CASES" --meta "citizen_cases=$CITIZEN_CASE_COUNT" --meta "departments=$DEPARTMENTS" \
  --meta "staff_department=$STAFF_DEPT" --meta "queues=$QUEUES" --meta "rows=$ROW_COUNTS" \
  --meta "database_size=$DB_SIZE" --meta "seed_s=$SEED_S" --meta "vacuum_analyze_s=$VACUUM_S" \
  --meta "drafts_seeded=$DRAFTS" --meta "drafts_submitted=$SUBMITTED" --meta "submit_answers_counted_by_wrk=$COMPLETED" \
  --meta "submit_max_rps=$SUBMIT_MAX_RPS" --meta "submitters=$SUBMITTERS" \
  --meta "zb_access_ttl_s=$ACCESS_TTL_S" --meta "zb_login_limit_per_min=$LOGIN_LIMIT_PER_MIN" \
  --meta "plans=bench/results/cases-$STAMP-plans.txt"
echo "Data of this run: $ROW_COUNTS (database $DB_SIZE; seeded in ${SEED_S}s, VACUUM ANALYZE ${VACUUM_S}s);" \
  "the citizen has $CITIZEN_CASE_COUNT cases; $STAFF_DEPT: $QUEUES;" \
  "drafts submitted: $SUBMITTED (wrk counted $COMPLETED answers, warm-up included)." \
  "Settings: ZB_ACCESS_TTL_S=$ACCESS_TTL_S, ZB_LOGIN_LIMIT_PER_MIN=$LOGIN_LIMIT_PER_MIN."

bench_finish
