"""Query plans of the case lists, inboxes and detail on the benchmark's data (bench/cases.sh).

    python bench/cases_plans.py --citizen UID --staff SID --case CASE_ID --out FILE

Runs with the server's settings (the ``ZB_*`` environment of the benchmark) and calls the read
side of cases exactly as the endpoints do (``cases.views.my_cases``, ``staff_inbox`` for the
clerk and the reviewer, ``case_detail``), recording every SQL statement Tortoise sends (its
``tortoise.db_client`` debug log carries the statement and its parameters). Each SELECT is then
explained twice on a connection of its own, with ``EXPLAIN (ANALYZE, BUFFERS)``:

* **custom**: with the parameters bound, as PostgreSQL plans the first executions;
* **generic**: as a prepared statement under ``plan_cache_mode = force_generic_plan``. The server
  goes through asyncpg, whose statement cache prepares every query once per connection; after
  five executions PostgreSQL may switch such a statement to its generic plan (parameters
  unknown). The server's pool sets ``plan_cache_mode = force_custom_plan`` (``core/db.py``)
  because of what this comparison found on the inboxes, so the custom plan is the one the load
  runs; the generic plan shows what a statement would cost without that setting.

The whole text goes to ``--out``; a summary (per statement: the top node, the indexes used,
rows, execution time, for both plans) to stdout, flagging a generic plan much slower than the
custom one. Exit status 0 once the plans are written (slow plans are findings, not failures).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Capture(logging.Handler):
    """Tortoise's client logs ``"%s: %s", query, values`` at DEBUG before every statement."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, list[Any]]] = []
        self.label = ""
        self.labels: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and isinstance(args[0], str):
            values = args[1]
            self.statements.append((args[0], list(values) if isinstance(values, list) else []))
            self.labels.append(self.label)


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return "'" + value.isoformat() + "'"
    if isinstance(value, dict | list):
        return "'" + json.dumps(value).replace("'", "''") + "'"
    return "'" + str(value).replace("'", "''") + "'"


def summarise(plan: str) -> str:
    lines = plan.splitlines()
    top = lines[0].strip() if lines else "?"
    top = re.sub(r"\s+\(cost=[^)]*\)", "", top)
    indexes = sorted(
        set(re.findall(r" using (\S+)", plan))
        | set(re.findall(r"Bitmap Index Scan on (\S+)", plan))
    )
    seq = sorted(set(re.findall(r"Seq Scan on (\S+)", plan)))
    execution = re.search(r"Execution Time: ([0-9.]+) ms", plan)
    parts = [top]
    if indexes:
        parts.append("indexes " + ", ".join(indexes))
    if seq:
        parts.append("SEQ SCAN " + ", ".join(seq))
    parts.append(f"{execution.group(1) if execution else '?'} ms")
    return "; ".join(parts)


def execution_ms(plan: str) -> float:
    found = re.search(r"Execution Time: ([0-9.]+) ms", plan)
    return float(found.group(1)) if found else 0.0


async def capture_reads(args: argparse.Namespace, capture: Capture) -> None:
    from auth.models import Staff
    from auth.permissions import Subject
    from cases import views
    from cases.models import Case
    from core.db import close_db, init_db
    from core.paging import PageRequest
    from core.settings import Settings

    settings = Settings()
    await init_db(settings)
    try:
        staff = await Staff.get(id=args.staff)
        subject = Subject(
            kind="staff",
            id=staff.id,
            department_code=staff.department_code,
            roles=frozenset(staff.roles),
        )
        citizen = Subject(kind="user", id=args.citizen)
        case = await Case.get(id=args.case)
        now = datetime.now(UTC)
        common: dict[str, Any] = {
            "page_request": PageRequest(cursor=None, limit=20, secret=settings.secret_key),
            "now": now,
            "yellow_days": settings.case_yellow_card_days,
        }
        # Warm the per-worker caches (calendar, guides, statistics) as a running server has them,
        # so that only the per-request statements are recorded.
        await views.my_cases(subject=citizen, company_id=None, group=None, **common)
        await views.case_detail(case, staff=False, now=now, yellow_days=common["yellow_days"])
        logger = logging.getLogger("tortoise.db_client")
        logger.setLevel(logging.DEBUG)
        logger.addHandler(capture)
        capture.label = "citizen list (GET /api/v1/cases?limit=20)"
        await views.my_cases(subject=citizen, company_id=None, group=None, **common)
        for role in ("clerk", "reviewer"):
            capture.label = f"staff inbox (GET /api/v1/staff/inbox?role={role}&limit=20)"
            await views.staff_inbox(subject=subject, role=role, **common)
        capture.label = f"case detail (GET /api/v1/cases/{args.case}), after loading the case"
        await views.case_detail(case, staff=False, now=now, yellow_days=common["yellow_days"])
        logger.removeHandler(capture)
    finally:
        await close_db()


async def explain(args: argparse.Namespace, capture: Capture) -> int:
    import asyncpg

    dsn = re.sub(r"^postgres(ql)?://", "postgresql://", args.database_url).split("?", 1)[0]
    conn = await asyncpg.connect(dsn)
    out: list[str] = []
    print(f"Query plans on the benchmark's data (full text: {args.out})")
    try:
        for n, ((sql, values), label) in enumerate(
            zip(capture.statements, capture.labels, strict=True), 1
        ):
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            custom_rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *values)
            custom = "\n".join(r[0] for r in custom_rows)
            await conn.execute("SET plan_cache_mode = force_generic_plan")
            await conn.execute(f"PREPARE bench_plan AS {sql}")
            try:
                call = ", ".join(literal(v) for v in values)
                generic_rows = await conn.fetch(
                    f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_plan{f'({call})' if call else ''}"
                )
            finally:
                await conn.execute("DEALLOCATE bench_plan")
                await conn.execute("RESET plan_cache_mode")
            generic = "\n".join(r[0] for r in generic_rows)
            shown = sql if len(sql) < 600 else sql[:600] + " …"
            out += [
                f"== {n}. {label}",
                shown,
                f"-- parameters: {values}",
                "-- custom plan:",
                custom,
                "-- generic plan (force_generic_plan):",
                generic,
                "",
            ]
            print(f"{n}. {label}")
            print(f"   {re.sub(r'SELECT .*? FROM', 'SELECT … FROM', shown, count=1)[:200]}")
            print(f"   custom:  {summarise(custom)}")
            print(f"   generic: {summarise(generic)}")
            c_ms, g_ms = execution_ms(custom), execution_ms(generic)
            if g_ms > max(2 * c_ms, c_ms + 1.0):
                print(f"   NOTE: the generic plan is {g_ms / max(c_ms, 0.001):.0f}× slower")
    finally:
        await conn.close()
    Path(args.out).write_text("\n".join(out) + "\n", encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizen", type=int, required=True, help="the citizen's user id")
    parser.add_argument("--staff", type=int, required=True, help="the staff member's id")
    parser.add_argument("--case", type=int, required=True, help="a case of the citizen")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    from core.settings import Settings

    args.database_url = Settings().database_url
    capture = Capture()
    asyncio.run(capture_reads(args, capture))
    if not capture.statements:
        print("cases_plans.py: no statements recorded", file=sys.stderr)
        return 1
    return asyncio.run(explain(args, capture))


if __name__ == "__main__":
    sys.exit(main())
