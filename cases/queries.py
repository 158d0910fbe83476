"""The cases context's plain SQL, and nowhere else: the reads behind every list, inbox and look at
a case (the most frequent requests of the whole service), and the one upsert that numbers
acceptances. One statement instead of the ORM's several, and rows without model building, is
the point of each; ``core.db`` says why (and how ``$n`` placeholders run on SQLite).

Table names come from the models; each statement names the ORM read it mirrors where there is
one, which must answer the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from auth.permissions import Standing
from cases.models import (
    AcceptanceCounter,
    Case,
    CaseEvent,
    Evaluation,
    ReviewTask,
    SupervisionNotice,
)
from cases.states import CaseStatus
from core.db import SqlParams, fetch_models, fetch_rows

_CASE = Case._meta.db_table
_EVENT = CaseEvent._meta.db_table
_EVALUATION = Evaluation._meta.db_table
_TASK = ReviewTask._meta.db_table
_NOTICE = SupervisionNotice._meta.db_table
_COUNTER = AcceptanceCounter._meta.db_table

#: The columns a list row reads (its summary, its card, and the cursor): lists load only these,
#: not the form data and the rest of a case.
SUMMARY_FIELDS = (
    "id",
    "item_code",
    "item_name",
    "status",
    "acceptance_number",
    "applicant_display",
    "promised_due_on",
    "updated_at",
)
_SUMMARY_COLUMNS = ", ".join(f'c."{name}"' for name in SUMMARY_FIELDS)

#: What an inbox row shows of its task. Not the role and department (those of the inbox itself,
#: the same on every row) nor the opinion (written when the step is decided, and an inbox holds
#: only open and claimed steps): a page is read on every pull-to-refresh of a staff phone.
INBOX_TASK_FIELDS = ("id", "step_index", "step_name", "status", "assignee_staff_id")
#: The inbox reads a task beside its case: these two columns are renamed in its rows.
TASK_ALIASES = {"id": "task_id", "status": "task_status"}


# --------------------------------------------------------------------------------------------
# One case
# --------------------------------------------------------------------------------------------


async def case_by_id(case_id: int) -> Case | None:
    """ORM twin: ``Case.get_or_none(id=…)``. Every read and every action starts here."""
    return next(iter(await fetch_models(Case, '"id" = $1', [case_id])), None)


async def departments_of_person(user_id: int) -> list[str]:
    """The ``department_codes`` of every case the person applied for or filed, drafts aside
    (a department has not seen those).

    ORM twin: ``Case.filter(Q(applicant_user_id=…) | Q(agent_user_id=…)).exclude(status=draft)
    .distinct().values_list("department_codes", flat=True)``."""
    rows = await fetch_rows(
        f'SELECT DISTINCT "department_codes" FROM "{_CASE}" '
        'WHERE ("applicant_user_id" = $1 OR "agent_user_id" = $1) AND "status" <> $2',
        [user_id, CaseStatus.draft.value],
    )
    return [row["department_codes"] for row in rows]


async def next_acceptance_sequence(conn: BaseDBAsyncClient, department: str, day: date) -> int:
    """The next number of a department's day, in one atomic upsert: concurrent acceptances never
    share one. No ORM twin (``get_or_create`` then ``F() + 1`` would be two statements and a
    race)."""
    if conn.capabilities.dialect == "postgres":
        sql = (
            f'INSERT INTO "{_COUNTER}" ("department_code", "day", "last_number") '
            "VALUES ($1, $2, 1) "
            'ON CONFLICT ("department_code", "day") DO UPDATE SET '
            f'"last_number" = "{_COUNTER}"."last_number" + 1 RETURNING "last_number"'
        )
        params: list[Any] = [department, day]
    else:
        sql = (
            f'INSERT INTO "{_COUNTER}" ("department_code", "day", "last_number") VALUES (?, ?, 1) '
            'ON CONFLICT ("department_code", "day") DO UPDATE SET '
            '"last_number" = "last_number" + 1 RETURNING "last_number"'
        )
        params = [department, day.isoformat()]
    # execute_query_dict: Tortoise's asyncpg ``execute_query`` runs an INSERT without fetching
    # (no RETURNING rows), so it would hand back nothing on PostgreSQL.
    rows = await conn.execute_query_dict(sql, params)
    return int(rows[0]["last_number"])


async def timeline_rows(case_id: int, *, rated: bool) -> list[dict[str, Any]]:
    """The case's events, oldest first, with the rating's columns (``v_score``, ``v_tags``,
    ``v_comment``, ``v_answer``, ``v_follow_up``, ``v_created_at``, ``v_answered_at``) joined to
    every one when ``rated`` (a case has a handful).

    ORM twin: ``CaseEvent.filter(case_id=…).order_by("id")`` and
    ``Evaluation.get_or_none(case_id=…)``."""
    rating = (
        ', v."score" AS "v_score", v."tags" AS "v_tags", v."comment" AS "v_comment", '
        'v."answer" AS "v_answer", v."follow_up" AS "v_follow_up", '
        'v."created_at" AS "v_created_at", v."answered_at" AS "v_answered_at" '
        if rated
        else " "
    )
    joined = f' LEFT JOIN "{_EVALUATION}" AS v ON v."case_id" = e."case_id"' if rated else ""
    return await fetch_rows(
        'SELECT e."action", e."role", e."from_status", e."to_status", e."comment", e."details", '
        f'e."at"{rating}FROM "{_EVENT}" AS e{joined} WHERE e."case_id" = $1 ORDER BY e."id"',
        [case_id],
    )


# --------------------------------------------------------------------------------------------
# A citizen's list
# --------------------------------------------------------------------------------------------


def _visible_sql(standing: Standing, p: SqlParams) -> str:
    """``auth.permissions.citizen_may(standing, view, case)`` as SQL: the cases they applied for
    themselves, and those they filed for a company or a principal that they may still act for
    (a revoked agent or an ended mandate sees them no more)."""
    me = p(standing.user_id)
    clauses = [f'(c."applicant_user_id" = {me} AND c."company_id" IS NULL)']
    companies = sorted(set(standing.companies) | standing.represented)
    if companies:
        clauses.append(f'(c."agent_user_id" = {me} AND c."company_id" IN ({p.many(companies)}))')
    for principal, coverages in sorted(standing.principals().items()):
        covered = f'c."agent_user_id" = {me} AND c."applicant_user_id" = {p(principal)}'
        if all(coverages):  # every mandate names its items
            items = sorted(set().union(*coverages))
            covered += f' AND c."item_code" IN ({p.many(items)})'
        clauses.append(f"({covered})")
    return "(" + " OR ".join(clauses) + ")"


async def citizen_case_rows(
    *,
    user_id: int,
    company_id: int | None,
    standing: Standing | None,
    statuses: Sequence[str] | None,
    after: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    """A page (and one row more) of a citizen's list, newest first: a company's cases
    (``company_id``), those the rule lets them see (``standing``), or, with neither, their own
    applications, each row with ``filed`` telling whether they ever filed a case for someone
    else (then the caller reads the standing and asks again).

    ORM twin: ``Case.filter(<the rule>, status__in=…, id__lt=after).order_by("-id")
    .limit(limit + 1).only(*SUMMARY_FIELDS, "applicant_user_id", "company_id",
    "agent_user_id")``."""
    p = SqlParams()
    probe = ""
    if company_id is not None:
        where = f'c."company_id" = {p(company_id)}'
    elif standing is not None:
        where = _visible_sql(standing, p)
    else:
        me = p(user_id)
        where = f'c."applicant_user_id" = {me} AND c."company_id" IS NULL'
        probe = (
            f', (SELECT 1 FROM "{_CASE}" AS f WHERE f."agent_user_id" = {me} LIMIT 1) AS "filed"'
        )
    if statuses:
        where += f' AND c."status" IN ({p.many(statuses)})'
    if after is not None:
        where += f' AND c."id" < {p(after)}'
    return await fetch_rows(
        f'SELECT {_SUMMARY_COLUMNS}, c."applicant_user_id", c."company_id", c."agent_user_id"'
        f'{probe} FROM "{_CASE}" AS c WHERE {where} ORDER BY c."id" DESC LIMIT {p(limit + 1)}',
        p.values,
    )


# --------------------------------------------------------------------------------------------
# A staff inbox
# --------------------------------------------------------------------------------------------


async def inbox_rows(
    *,
    staff_id: int,
    department: str,
    role: str,
    after: int,
    limit: int,
    count_cap: int,
    person_id: int | None = None,
    person_companies: frozenset[int] = frozenset(),
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """A page (and one row more) of one role's inbox in a department, oldest first, and the
    counts of its tabs, each capped at ``count_cap``: clerk → submitted cases, dispatcher →
    results to serve (rows are cases, keyed ``id``); reviewer and approver → open and own
    tasks (rows are tasks beside their case, keyed ``task_id``).

    The tab counts ride along with the page, as subqueries PostgreSQL and SQLite run once per
    statement: one round trip for the whole inbox. Only an empty page asks for them again.

    ORM twin: ``Case.filter(lead_department_code=…, status=…, id__gt=after).order_by("id")``,
    or ``ReviewTask.filter(Q(status="open") | Q(status="claimed", assignee_staff_id=…),
    department_code=…, role=…, id__gt=after).order_by("id")`` with their cases; the counts
    ``SupervisionNotice.filter(acknowledged_at=None, …).count()`` and the queues' ``count()``."""
    # The counts' parameters come first, the page's own after them, so that the counts can be
    # asked alone with the first ``len(counting)`` values.
    p = SqlParams()
    counts_sql: dict[str, str] = {}
    # Recusal (auth.permissions.recused): a staff member who applies too never sees their own
    # applications, nor their companies', in an inbox. Only for such a member: the others' plan
    # stays as it is.
    own = ""
    if person_id is not None or person_companies:
        who = p(person_id or 0)
        companies = ", ".join(p(c) for c in sorted(person_companies)) or p(0)
        own = (
            f'SELECT "id" FROM "{_CASE}" WHERE "applicant_user_id" = {who} '
            f'OR "agent_user_id" = {who} OR "company_id" IN ({companies})'
        )

    def not_own(column: str) -> str:
        return f" AND {column} NOT IN ({own})" if own else ""

    # Supervision notices for me, and my department's addressed to nobody in particular (the
    # case had no holder when it was supervised): see cases.supervision.
    counts_sql["supervision"] = (
        f'SELECT 1 FROM "{_NOTICE}" WHERE "acknowledged_at" IS NULL AND '
        f'("assignee_staff_id" = {p(staff_id)} OR '
        f'("department_code" = {p(department)} AND "assignee_staff_id" IS NULL))'
        + not_own('"case_id"')
    )
    if role in ("clerk", "dispatcher"):
        status = CaseStatus.submitted.value if role == "clerk" else CaseStatus.result_pending.value
        queue = f'c."lead_department_code" = {p(department)} AND c."status" = {p(status)}'
        queue += not_own('c."id"')
        counts_sql["queue"] = f'SELECT 1 FROM "{_CASE}" AS c WHERE {queue}'
        counting = list(p.values)
        page_sql = (
            f'SELECT {_SUMMARY_COLUMNS}, c."answer_due_on", {{counts}} FROM "{_CASE}" AS c '
            f'WHERE {queue} AND c."id" > {p(after)} ORDER BY c."id" LIMIT {p(limit + 1)}'
        )
    else:
        tasks = f'"department_code" = {p(department)} AND "role" = {p(role)}' + not_own('"case_id"')
        open_, claimed, me = p("open"), p("claimed"), p(staff_id)
        counts_sql["queue"] = f'SELECT 1 FROM "{_TASK}" WHERE {tasks} AND "status" = {open_}'
        counts_sql["mine"] = (
            f'SELECT 1 FROM "{_TASK}" WHERE {tasks} '
            f'AND "status" = {claimed} AND "assignee_staff_id" = {me}'
        )
        counting = list(p.values)
        # The open queue and my own tasks, each a range of its own index, merged: one query
        # with an OR between them walks the primary key of every task when PostgreSQL plans it
        # without the values (see core.db on generic plans).
        later, n = p(after), p(limit + 1)
        columns = ", ".join(f'"{name}"' for name in (*INBOX_TASK_FIELDS, "case_id"))
        as_read = ", ".join(
            f't."{name}" AS "{TASK_ALIASES.get(name, name)}"' for name in INBOX_TASK_FIELDS
        )
        page_sql = (
            f"SELECT {as_read}, {_SUMMARY_COLUMNS}, {{counts}} FROM ("
            f'SELECT * FROM (SELECT {columns} FROM "{_TASK}" WHERE {tasks} '
            f'AND "status" = {open_} AND "id" > {later} ORDER BY "id" LIMIT {n}) AS o '
            f'UNION ALL SELECT * FROM (SELECT {columns} FROM "{_TASK}" WHERE {tasks} '
            f'AND "status" = {claimed} AND "assignee_staff_id" = {me} AND "id" > {later} '
            f'ORDER BY "id" LIMIT {n}) AS m'
            f') AS t JOIN "{_CASE}" AS c ON c."id" = t."case_id" ORDER BY t."id" LIMIT {n}'
        )
    counts_columns = ", ".join(
        f'(SELECT count(*) FROM ({sql} LIMIT {count_cap}) AS "q_{name}") AS "n_{name}"'
        for name, sql in counts_sql.items()
    )
    found = await fetch_rows(page_sql.format(counts=counts_columns), p.values)
    counted = found or await fetch_rows(f"SELECT {counts_columns}", counting)
    counts: dict[str, int] = {
        name: int(counted[0][f"n_{name}"])
        for name in ("queue", "mine", "supervision")
        if name in counts_sql
    }
    return found, counts
