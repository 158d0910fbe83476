"""Pre-review (预审, the clerk): accept with an acceptance number, refuse, or send the one-time
list of corrections (一次性告知); and article 32's acceptance of what is left unanswered."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from auth.permissions import (
    Action,
    Subject,
    require,
)
from cases.errors import (
    InvalidTransition,
)
from cases.kernel import (
    RIGHTS_NOTICE,
    SYSTEM,
    Actor,
    S,
    action_of,
    guide_of,
    holder_role,
    load_case,
    open_step,
    owned,
    staff_case,
    transition,
)
from cases.models import Case, CorrectionNotice
from cases.queries import next_acceptance_sequence
from cases.states import Role
from catalog.schemas import Guide
from core.calendar import calendar_source
from core.clock import local_today
from core.db import in_transaction
from core.errors import ValidationFailed, field_error

log = logging.getLogger(__name__)


async def next_acceptance_number(conn: BaseDBAsyncClient, department: str, day: date) -> str:
    """Department code, date, sequence: one atomic upsert per number, so concurrent acceptances
    in the same department never share a number."""
    sequence = await next_acceptance_sequence(conn, department, day)
    return f"{department}-{day:%Y%m%d}-{sequence:05d}"


async def _accept(
    conn: BaseDBAsyncClient,
    case: Case,
    name: str,
    actor: Actor,
    *,
    comment: str,
    now: datetime,
    accepted_on: date | None = None,
) -> Case:
    """Accept ``case`` at ``now``; the legal clock runs from ``accepted_on`` (default: today),
    which article 32 sets to the day the materials were received."""
    guide = await guide_of(case)
    calendar = await calendar_source.get()
    number = await next_acceptance_number(conn, case.lead_department_code, local_today(now))
    today = accepted_on or local_today(now)
    statutory = guide.statutory_limit_days
    promised = guide.promised_limit_days
    await transition(
        conn,
        case,
        name,
        actor,
        comment=comment,
        details={"acceptance_number": number},
        now=now,
        updates={
            "acceptance_number": number,
            "accepted_at": now,
            "accepted_on": today,
            "statutory_due_on": calendar.add_working_days(today, statutory),
            "promised_due_on": calendar.add_working_days(today, promised),
            "answer_due_on": None,
            "assignee_staff_id": None,
        },
    )
    await open_step(conn, case, guide, 0, now)
    return case


async def accept(*, subject: Subject, case_id: int, comment: str, now: datetime) -> Case:
    case = await staff_case(subject, Action.accept, case_id, now)
    async with in_transaction() as conn:
        return await _accept(
            conn, case, "accept", Actor.for_subject(subject, Role.clerk), comment=comment, now=now
        )


async def refuse(*, subject: Subject, case_id: int, reasons: str, now: datetime) -> Case:
    case = await staff_case(subject, Action.accept, case_id, now)
    async with in_transaction() as conn:
        return await transition(
            conn,
            case,
            "refuse",
            Actor.for_subject(subject, Role.clerk),
            comment=reasons,
            details={"rights_notice": RIGHTS_NOTICE},
            now=now,
            updates={
                "decision": "refused",
                "decision_reasons": reasons,
                "closed_at": now,
                "answer_due_on": None,
            },
        )


def _check_correction_items(guide: Guide, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    materials = {m.code for m in guide.materials}
    fields = set(guide.form_schema.get("properties", {}))
    problems = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        known = materials if item["kind"] == "material" else fields
        if item["code"] not in known:
            what = "材料" if item["kind"] == "material" else "表单项"
            problems.append(
                field_error(f"items[{index}].code", f"该事项没有{what} {item['code']}。", "unknown")
            )
        if (item["kind"], item["code"]) in seen:
            problems.append(
                field_error(f"items[{index}].code", "同一项不能重复列出。", "duplicate")
            )
        seen.add((item["kind"], item["code"]))
    return problems


async def request_correction(
    *, subject: Subject, case_id: int, items: list[dict[str, Any]], comment: str, now: datetime
) -> Case:
    """一次性告知: the complete list of problems, per material and per form field, in one notice.

    At pre-review the clerk sends it (the five-day answer clock stops: the applicant's
    resubmission starts a new one); during review a reviewer or approver holding the case's task
    sends it and the legal clock stops until the resubmission."""
    case = await load_case(case_id)
    in_review = case.status == S.in_review
    if in_review:
        role = await holder_role(subject, case)
        await require(subject, action_of(role), owned(case), today=local_today(now))
        name, stage = "request_correction_in_review", "review"
    else:
        await require(subject, Action.accept, owned(case), today=local_today(now))
        role, name, stage = Role.clerk, "request_correction", "pre_review"
    guide = await guide_of(case)
    problems = _check_correction_items(guide, items)
    if problems:
        raise ValidationFailed(problems)
    round_number = case.correction_round + 1
    updates: dict[str, Any] = {
        "correction_round": round_number,
        "correction_stage": stage,
        "answer_due_on": None,
    }
    if in_review:
        updates["paused_on"] = local_today(now)
    async with in_transaction() as conn:
        await transition(
            conn,
            case,
            name,
            Actor.for_subject(subject, role),
            comment=comment,
            details={"round": round_number, "items": items},
            now=now,
            updates=updates,
        )
        await CorrectionNotice.create(
            case_id=case.id,
            round=round_number,
            stage=stage,
            items=items,
            issued_by_staff_id=subject.id,
            issued_at=now,
            using_db=conn,
        )
    return case


async def auto_accept_overdue(*, now: datetime, limit: int = 500) -> list[int]:
    """Article 32: every case submitted and left unanswered past its answer day is accepted, by
    the system, and the timeline says so. Safe to run concurrently: each acceptance is a
    compare-and-set, and a case someone answered meanwhile is skipped."""
    today = local_today(now)
    rows = (
        await Case.filter(status=S.submitted.value, answer_due_on__lt=today)
        .order_by("id")
        .limit(limit)
        .values_list("id", flat=True)
    )
    ids = [int(str(value)) for value in rows]
    accepted: list[int] = []
    for case_id in ids:
        case = await load_case(case_id)
        try:
            async with in_transaction() as conn:
                await _accept(
                    conn,
                    case,
                    "auto_accept",
                    SYSTEM,
                    comment="依据《行政许可法》第三十二条，申请之日起五日内未作出答复，视为受理。",
                    now=now,
                    # 逾期不告知的，自收到申请材料之日起即为受理: the clock started then.
                    accepted_on=local_today(case.submitted_at) if case.submitted_at else None,
                )
            accepted.append(case.id)
        except InvalidTransition:
            continue  # answered meanwhile by a clerk
        except Exception:  # one broken case must not hold back the others
            log.exception("article 32 auto-acceptance failed", extra={"case_id": case.id})
    if accepted:
        log.info("article 32 auto-acceptance", extra={"cases": len(accepted)})
    return accepted
