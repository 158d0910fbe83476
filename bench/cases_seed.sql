-- The data of bench/cases.sh: CASES cases with their timelines, review tasks, corrections,
-- evaluations, the benchmark citizen's files, and DRAFTS drafts to submit. Run by psql:
--
--   psql -v ON_ERROR_STOP=1 -v cases=1000000 -v citizen=1 -v citizen_cases=100 \
--        -v submitters='{2,3,4}' -v drafts=60000 -v dept=BENCH-D01 -v departments=8 \
--        -v items_per_dept=3 -v dept_share=0.25 -v recent=0.08 -v staff=1 -v mine=20 \
--        -v submit_item=BENCH-SUBMIT -f bench/cases_seed.sql
--
-- Everything is generated in SQL (INSERT … SELECT over generate_series), in this one session,
-- with a fixed random seed: about a minute for a million cases on a 2-core machine.
--
-- Shape of the data (see bench/README.md, "cases.sh"):
-- * ids follow time: case i was created (CASES - i) × 63 s ago, so the cases span two years and
--   the newest is minutes old. Cases older than the most recent share RECENT are nearly all
--   finished (completed, denied, refused, withdrawn; a few abandoned drafts, unpaid fees and
--   long suspensions); the recent ones are spread over every state of the flow. That is what makes
--   the queues realistic: open work sits at the high end of the id range.
-- * departments BENCH-D01 … D<departments>: DEPT (D01) has DEPT_SHARE of all cases, the others
--   share the rest; ITEMS_PER_DEPT items each (the bench catalogue).
-- * applicants: 90 % persons among 200,000 user ids (1,000,000 + k: no user rows, none needed),
--   3 % of them filed by an agent; 10 % companies among 20,000 company ids. The benchmark citizen
--   (user CITIZEN) has CITIZEN_CASES cases spread evenly over the ids (over time): 9 in 10 their
--   own, 1 in 10 filed by them for someone else (agent_user_id).
-- * timeline: 1 event for a draft, 3 to 8 for any other case.
-- * review tasks: a reviewer step for every accepted case, an approver step past it; open,
--   claimed, passed or denied as the case's status says. Of DEPT's claimed reviewer tasks, the
--   MINE most recent are claimed by the benchmark staff member (STAFF).
-- * corrections for every case with a correction round (all correction_requested cases and 1 in
--   10 accepted ones); evaluations for 3 in 10 rateable cases; supervision notices, 5 of them open
--   for STAFF; the duration statistics of every bench item; two ready photos on each of the
--   benchmark citizen's submitted cases (no other case has files).
-- * drafts: DRAFTS drafts of SUBMIT_ITEM (no materials), ids CASES + 1 …, draft j belonging to
--   SUBMITTERS[(j - 1) mod n + 1], each with its "create" event.

\set ON_ERROR_STOP on
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
SET work_mem = '64MB';
SELECT setseed(0.20241122);

CREATE TEMP TABLE bench_items AS
SELECT substring(i.lead_department_code FROM 'BENCH-D(\d+)')::int AS dept_no,
       (row_number() OVER (PARTITION BY i.lead_department_code ORDER BY i.code))::int AS k,
       i.code, i.published_version_id AS version_id, i.name, i.lead_department_code AS dept,
       i.fee_fen
FROM catalog_item i
WHERE i.code LIKE 'BENCH-C-%' AND i.is_published;

DO $check$
BEGIN
  IF (SELECT count(*) FROM bench_items) = 0 THEN
    RAISE EXCEPTION 'no published BENCH-C-* items: import the bench catalogue first';
  END IF;
END
$check$;

-- ---------------------------------------------------------------------------------------------
-- Cases, then the drafts to submit (ids CASES + 1 …): one INSERT, the drafts after the cases
-- ---------------------------------------------------------------------------------------------
\echo seeding :cases cases and :drafts drafts of :submit_item
INSERT INTO cases_case (
  id, item_code, item_version_id, item_name, lead_department_code, department_codes,
  applicant_user_id, company_id, agent_user_id, mandate_id, applicant_display, status, revision,
  form_data, fee_fen, acceptance_number, correction_round, correction_stage, assignee_staff_id,
  decision, decision_reasons, answer_due_on, statutory_due_on, promised_due_on, paused_on,
  paused_working_days, created_at, updated_at, submitted_at, accepted_at, accepted_on,
  decided_at, closed_at
)
SELECT
  s.i, it.code, it.version_id, it.name, it.dept, ',' || it.dept || ',',
  s.applicant, s.company, s.agent, NULL::int, s.display, s.status,
  CASE WHEN s.status = 'draft' THEN 0 ELSE 2 + s.i % 6 END,
  '{"reason": "有效期满", "delivery_method": "窗口领取", "photo_receipt_no": "BENCH2024A001"}'::jsonb,
  it.fee_fen,
  CASE WHEN s.accepted THEN it.dept || '-' || to_char(s.created + interval '1 day', 'YYYYMMDD')
       || '-' || lpad((s.i % 100000)::text, 5, '0') END,
  CASE WHEN s.status = 'correction_requested' OR (s.accepted AND s.r_corr < 0.1) THEN 1 ELSE 0 END,
  CASE WHEN s.status = 'correction_requested' THEN 'pre_review' ELSE '' END,
  NULL::int,
  CASE WHEN s.decided AND s.status <> 'decided_denied' THEN 'granted'
       WHEN s.status = 'decided_denied' THEN 'denied'
       WHEN s.status = 'refused' THEN 'refused' ELSE '' END,
  CASE WHEN s.status IN ('decided_denied', 'refused') THEN '不符合法定条件。'
       WHEN s.decided THEN '材料齐全，符合法定条件。' ELSE '' END,
  CASE WHEN s.status = 'submitted' THEN (s.created + interval '7 days')::date END,
  CASE WHEN s.accepted THEN (s.created + interval '29 days')::date END,
  CASE WHEN s.accepted THEN (s.created + interval '15 days')::date END,
  CASE WHEN s.status = 'suspended' THEN (s.created + interval '5 days')::date END,
  0,
  s.created,
  s.created + CASE s.status WHEN 'draft' THEN interval '0' WHEN 'submitted' THEN interval '20 minutes'
    WHEN 'completed' THEN interval '12 days' WHEN 'accepted' THEN interval '1 day'
    ELSE interval '4 days' END,
  CASE WHEN s.status <> 'draft' THEN s.created + interval '20 minutes' END,
  CASE WHEN s.accepted THEN s.created + interval '1 day' END,
  CASE WHEN s.accepted THEN (s.created + interval '1 day')::date END,
  CASE WHEN s.decided THEN s.created + interval '9 days' END,
  CASE s.status WHEN 'completed' THEN s.created + interval '12 days'
    WHEN 'decided_denied' THEN s.created + interval '9 days'
    WHEN 'refused' THEN s.created + interval '2 days'
    WHEN 'withdrawn' THEN s.created + interval '3 days' END
FROM (
  SELECT g.*,
    g.status IN ('accepted', 'in_review', 'suspended', 'decided_granted', 'decided_denied',
                 'fee_due', 'result_pending', 'completed') AS accepted,
    g.status IN ('decided_granted', 'decided_denied', 'fee_due', 'result_pending', 'completed')
      AS decided,
    CASE WHEN g.mine AND g.mine_as_agent THEN 1000000 + (g.r_user * 200000)::int
         WHEN g.mine THEN :citizen
         WHEN g.r_kind < 0.10 THEN NULL
         ELSE 1000000 + (g.r_user * 200000)::int END AS applicant,
    CASE WHEN g.mine THEN NULL WHEN g.r_kind < 0.10 THEN 1 + (g.r_user * 20000)::int END AS company,
    CASE WHEN g.mine AND g.mine_as_agent THEN :citizen
         WHEN g.mine THEN NULL
         WHEN g.r_kind < 0.05 OR (g.r_kind >= 0.10 AND g.r_kind < 0.127)
           THEN 1000000 + (g.r_agent * 200000)::int END AS agent,
    CASE WHEN NOT g.mine AND g.r_kind < 0.10 THEN '压测企业' || (1 + (g.r_user * 20000)::int)
         ELSE '张*三' END AS display
  FROM (
    SELECT r.*,
      now() - (:cases - r.i) * interval '63 seconds' AS created,
      r.i % (:cases / :citizen_cases) = (:cases / :citizen_cases) / 2 AS mine,
      (r.i / (:cases / :citizen_cases)) % 10 = 9 AS mine_as_agent,
      CASE WHEN r.i <= :cases * (1 - :recent) THEN
        CASE WHEN r.r_status < 0.900 THEN 'completed'
             WHEN r.r_status < 0.925 THEN 'decided_denied'
             WHEN r.r_status < 0.945 THEN 'refused'
             WHEN r.r_status < 0.975 THEN 'withdrawn'
             WHEN r.r_status < 0.995 THEN 'draft'
             WHEN r.r_status < 0.998 THEN 'fee_due'
             ELSE 'suspended' END
      ELSE
        CASE WHEN r.r_status < 0.08 THEN 'draft'
             WHEN r.r_status < 0.28 THEN 'submitted'
             WHEN r.r_status < 0.34 THEN 'correction_requested'
             WHEN r.r_status < 0.36 THEN 'refused'
             WHEN r.r_status < 0.50 THEN 'accepted'
             WHEN r.r_status < 0.75 THEN 'in_review'
             WHEN r.r_status < 0.77 THEN 'suspended'
             WHEN r.r_status < 0.78 THEN 'decided_granted'
             WHEN r.r_status < 0.80 THEN 'decided_denied'
             WHEN r.r_status < 0.85 THEN 'fee_due'
             WHEN r.r_status < 0.93 THEN 'result_pending'
             WHEN r.r_status < 0.98 THEN 'completed'
             ELSE 'withdrawn' END
      END AS status,
      CASE WHEN r.r_dept < :dept_share THEN 1
           ELSE 2 + floor(r.r_dept2 * (:departments - 1))::int END AS dept_no,
      1 + floor(r.r_item * :items_per_dept)::int AS k
    FROM (
      SELECT i, random() AS r_status, random() AS r_dept, random() AS r_dept2, random() AS r_item,
             random() AS r_kind, random() AS r_user, random() AS r_agent, random() AS r_corr
      FROM generate_series(1, :cases) AS i
      OFFSET 0
    ) r
    OFFSET 0
  ) g
  OFFSET 0
) s
JOIN bench_items it ON it.dept_no = s.dept_no AND it.k = s.k
UNION ALL
-- the drafts of SUBMIT_ITEM, owned by the SUBMITTERS in turn (the NULL::int above type the two
-- columns that are NULL in both halves)
SELECT :cases + j, i.code, i.published_version_id, i.name, i.lead_department_code,
  ',' || i.lead_department_code || ',',
  (:'submitters'::int[])[1 + (j - 1) % cardinality(:'submitters'::int[])], NULL, NULL, NULL,
  '李*四', 'draft', 0, '{"reason": "压测提交"}'::jsonb, i.fee_fen, NULL, 0, '', NULL, '', '',
  NULL, NULL, NULL, NULL, 0, now() - interval '1 hour', now() - interval '1 hour',
  NULL, NULL, NULL, NULL, NULL
FROM generate_series(1, :drafts) AS j
CROSS JOIN catalog_item i
WHERE i.code = :'submit_item' AND i.is_published;

-- ---------------------------------------------------------------------------------------------
-- Timeline: 1 event for a draft, 3 to 8 otherwise
-- ---------------------------------------------------------------------------------------------
\echo seeding the timelines
INSERT INTO cases_event (case_id, action, actor, role, from_status, to_status, comment, details, at)
SELECT c.id,
  (ARRAY['create', 'submit', 'accept', 'start_review', 'claim', 'pass', 'claim', 'grant'])[n],
  CASE WHEN n <= 2 THEN 'u:' || coalesce(c.agent_user_id, c.applicant_user_id, 0)
       ELSE 's:' || (1000 + c.id % 50) END,
  (ARRAY['applicant', 'applicant', 'clerk', 'reviewer', 'reviewer', 'reviewer', 'approver',
         'approver'])[n],
  (ARRAY['draft', 'draft', 'submitted', 'accepted', 'in_review', 'in_review', 'in_review',
         'in_review'])[n],
  (ARRAY['draft', 'submitted', 'accepted', 'in_review', 'in_review', 'in_review', 'in_review',
         'decided_granted'])[n],
  CASE n WHEN 3 THEN '材料齐全，予以受理。' WHEN 6 THEN '材料齐全，符合法定条件。'
         WHEN 8 THEN '同意，准予许可。' ELSE '' END,
  CASE n WHEN 3 THEN jsonb_build_object('acceptance_number', c.acceptance_number)
         WHEN 5 THEN jsonb_build_object('task_id', c.id)
         ELSE '{}'::jsonb END,
  c.created_at + n * interval '2 hours'
FROM cases_case c
CROSS JOIN LATERAL generate_series(1, CASE WHEN c.status = 'draft' THEN 1 ELSE 3 + (c.id % 6)::int END) AS n
WHERE c.id <= :cases;

-- ---------------------------------------------------------------------------------------------
-- Review tasks
-- ---------------------------------------------------------------------------------------------
\echo seeding the review tasks
-- One INSERT for both steps: t names each step's own figures (its staff, its opinions, when it
-- starts and ends after acceptance); the reviewer tasks come first, each step in case order.
INSERT INTO cases_review_task (case_id, step_index, step_name, role, department_code, status,
                               assignee_staff_id, opinion, created_at, decided_at)
SELECT t.id, t.step_index, t.step_name, t.role, t.lead_department_code, t.task_status,
  CASE WHEN t.task_status = 'open' THEN NULL ELSE t.first_staff + t.id % t.staff END,
  CASE t.task_status WHEN 'passed' THEN t.passed WHEN 'denied' THEN t.denied ELSE '' END,
  t.accepted_at + t.starts_after,
  CASE WHEN t.task_status IN ('passed', 'denied') THEN t.accepted_at + t.ends_after END
FROM (
  SELECT 0 AS step_index, '审查' AS step_name, 'reviewer' AS role, 1000 AS first_staff,
    50 AS staff, '材料齐全，符合法定条件。' AS passed, '不符合法定条件。' AS denied,
    interval '0' AS starts_after, interval '3 days' AS ends_after,
    c.id, c.lead_department_code, c.accepted_at,
    CASE c.status WHEN 'accepted' THEN 'open'
      WHEN 'in_review' THEN CASE WHEN c.id % 2 = 0 THEN 'claimed' ELSE 'passed' END
      WHEN 'suspended' THEN 'claimed'
      WHEN 'decided_denied' THEN CASE WHEN c.id % 2 = 0 THEN 'denied' ELSE 'passed' END
      ELSE 'passed' END AS task_status
  FROM cases_case c
  WHERE c.id <= :cases AND c.accepted_at IS NOT NULL
  UNION ALL
  SELECT 1, '决定', 'approver', 2000, 20, '同意，准予许可。', '不予许可。',
    interval '3 days', interval '8 days',
    c.id, c.lead_department_code, c.accepted_at,
    CASE WHEN c.status = 'in_review' THEN CASE WHEN c.id % 4 = 1 THEN 'open' ELSE 'claimed' END
         WHEN c.status = 'decided_denied' THEN 'denied'
         ELSE 'passed' END
  FROM cases_case c
  WHERE c.id <= :cases AND (
    (c.status IN ('in_review', 'decided_denied') AND c.id % 2 = 1)
    OR c.status IN ('decided_granted', 'fee_due', 'result_pending', 'completed'))
) t
ORDER BY t.step_index, t.id;

-- the benchmark staff member's own claimed tasks ("mine")
UPDATE cases_review_task SET assignee_staff_id = :staff
WHERE id IN (
  SELECT id FROM cases_review_task
  WHERE department_code = :'dept' AND role = 'reviewer' AND status = 'claimed'
  ORDER BY id DESC LIMIT :mine
);

-- ---------------------------------------------------------------------------------------------
-- Corrections, evaluations, supervision notices, duration statistics
-- ---------------------------------------------------------------------------------------------
\echo seeding corrections, evaluations, supervision notices, statistics
INSERT INTO cases_correction (case_id, round, stage, items, issued_by_staff_id, issued_at,
                              resolved_at)
SELECT c.id, 1, 'pre_review',
  '[{"kind": "material", "code": "photo-2", "problem": "照片模糊，请在光线充足处重新拍摄。"}]'::jsonb,
  1000 + c.id % 50, c.submitted_at + interval '1 hour',
  CASE WHEN c.status <> 'correction_requested' THEN c.submitted_at + interval '20 hours' END
FROM cases_case c
WHERE c.correction_round = 1;

INSERT INTO cases_evaluation (case_id, user_id, item_code, department_code, score, tags, comment,
                              follow_up, answer, answered_by_staff_id, answered_at, created_at)
SELECT c.id, coalesce(c.agent_user_id, c.applicant_user_id, 0), c.item_code,
  c.lead_department_code, (ARRAY[5, 5, 5, 4, 4, 3, 5, 2, 5, 1])[1 + c.id % 10],
  '["办事快捷", "服务热情"]'::jsonb, '', '', '', NULL, NULL, c.closed_at + interval '1 day'
FROM cases_case c
WHERE c.status IN ('completed', 'refused', 'decided_denied') AND c.id % 10 < 3;

INSERT INTO cases_supervision_notice (case_id, department_code, issued_by_staff_id,
                                      assignee_staff_id, message, card, created_at,
                                      acknowledged_at)
SELECT c.id, c.lead_department_code, 3000,
  1000 + c.id % 50, '请加快办理，按时办结。', 'yellow', now() - interval '1 day', NULL
FROM cases_case c
WHERE c.id <= :cases AND c.status = 'in_review' AND c.id % 7 = 0;
-- five open notices for the benchmark staff member
UPDATE cases_supervision_notice SET assignee_staff_id = :staff
WHERE id IN (SELECT id FROM cases_supervision_notice WHERE department_code = :'dept'
             ORDER BY id DESC LIMIT 5);

INSERT INTO cases_item_duration_stats (item_code, count, histogram, updated_at)
SELECT code, 500, '{"6": 80, "8": 170, "10": 150, "13": 100}'::jsonb, now()
FROM bench_items
ON CONFLICT (item_code) DO NOTHING;

-- ---------------------------------------------------------------------------------------------
-- The benchmark citizen's files: two ready photos on each of their cases past the draft
-- ---------------------------------------------------------------------------------------------
INSERT INTO storage_upload (id, owner_user_id, company_id, uploaded_by, purpose, item_code,
  material_code, case_id, filename, claimed_content_type, claimed_size, max_size, incoming_key,
  status, object_key, thumbnail_key, content_type, size, sha256, width, height, pages,
  reject_code, created_at, completed_at, attached_at, deleted_at)
SELECT md5('bench-' || c.id || '-' || m), coalesce(c.applicant_user_id, :citizen), NULL,
  'u:' || :citizen, 'material', c.item_code, 'photo-' || m, c.id, 'IMG_000' || m || '.jpg',
  'image/jpeg', 2345678, 10485760, 'incoming/bench/' || md5('bench-' || c.id || '-' || m),
  'ready', 'objects/bench/' || md5('bench-' || c.id || '-' || m) || '.jpg',
  'thumbnails/bench/' || md5('bench-' || c.id || '-' || m) || '.jpg', 'image/jpeg', 1456789,
  md5('a' || c.id || m) || md5('b' || c.id || m), 1200, 1600, NULL, NULL,
  c.created_at + interval '5 minutes', c.created_at + interval '6 minutes', c.submitted_at, NULL
FROM cases_case c CROSS JOIN generate_series(1, 2) AS m
WHERE (c.applicant_user_id = :citizen OR c.agent_user_id = :citizen) AND c.status <> 'draft';

-- The people the citizen filed for, and their mandates to the citizen: without a running
-- mandate those cases are not the citizen's to see (auth.permissions, as lists and details
-- apply it), and the list would measure a citizen who lost them.
INSERT INTO auth_user (id, openid, session_key_enc, realname_level, real_name, sex, region_code,
  created_at, updated_at)
SELECT DISTINCT c.applicant_user_id, 'bench-principal-' || c.applicant_user_id, '', 1, '张三', '',
  '', now(), now()
FROM cases_case c WHERE c.agent_user_id = :citizen AND c.applicant_user_id IS NOT NULL
ON CONFLICT (id) DO NOTHING;
INSERT INTO auth_mandate (item_codes, ends_on, created_at, agent_id, principal_id)
SELECT '[]', current_date + 300, now(), :citizen, p.principal
FROM (SELECT DISTINCT c.applicant_user_id AS principal FROM cases_case c
      WHERE c.agent_user_id = :citizen AND c.applicant_user_id IS NOT NULL) AS p;

-- ---------------------------------------------------------------------------------------------
-- The drafts' "create" events
-- ---------------------------------------------------------------------------------------------
INSERT INTO cases_event (case_id, action, actor, role, from_status, to_status, comment, details, at)
SELECT c.id, 'create', 'u:' || c.applicant_user_id, 'applicant', 'draft', 'draft', '', '{}'::jsonb,
  c.created_at
FROM cases_case c
WHERE c.id > :cases
ORDER BY c.id;

SELECT setval(pg_get_serial_sequence('cases_case', 'id'), (SELECT max(id) FROM cases_case));
