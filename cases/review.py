"""Review and decision (审查、决定): tasks claimed, released and decided by step; special
procedures that stop the clock; the result served; staff comments and attachments; a staff read
of one identifier in a case's form."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from auth.models import Company, PersonalDataAccess
from auth.permissions import (
    Action,
    Subject,
    require,
)
from cases import personal
from cases.deadlines import resume_clock
from cases.errors import (
    InvalidTransition,
    SameHandsTwice,
    TaskNotFound,
    TaskTaken,
)
from cases.fees import open_fee_order
from cases.kernel import (
    RIGHTS_NOTICE,
    SYSTEM,
    Actor,
    S,
    action_of,
    guide_of,
    handling_role,
    holder_role,
    load_case,
    load_for,
    note,
    open_step,
    owned,
    staff_case,
    transition,
)
from cases.models import Case, ReviewTask
from cases.states import Role
from core.calendar import calendar_source
from core.clock import local_today
from core.crypto import FieldCipher
from core.db import in_transaction

log = logging.getLogger(__name__)


async def _task_for(subject: Subject, task_id: int, now: datetime) -> tuple[ReviewTask, Case]:
    task = await ReviewTask.get_or_none(id=task_id)
    if task is None:
        raise TaskNotFound(details={"task_id": task_id})
    case = await load_case(task.case_id)
    # The task is the case as its department sees it: its department and its role decide.
    await require(
        subject,
        action_of(Role(task.role)),
        owned(case, departments=(task.department_code,)),
        today=local_today(now),
    )
    return task, case


async def require_other_hands(subject: Subject, task: ReviewTask) -> None:
    """Separation of duties (审批分离): whoever decided an earlier step of a case takes no later
    step of it, even when holding both roles (a reviewer who is also an approver)."""
    if await ReviewTask.filter(
        case_id=task.case_id,
        step_index__lt=task.step_index,
        assignee_staff_id=subject.id,
        status__in=("passed", "denied"),
    ).exists():
        raise SameHandsTwice(details={"task_id": task.id, "step": task.step_index})


async def claim_task(*, subject: Subject, task_id: int, now: datetime) -> ReviewTask:
    task, case = await _task_for(subject, task_id, now)
    await require_other_hands(subject, task)
    actor = Actor.for_subject(subject, Role(task.role))
    async with in_transaction() as conn:
        claimed = (
            await ReviewTask.filter(id=task.id, status="open")
            .using_db(conn)
            .update(status="claimed", assignee_staff_id=subject.id)
        )
        if not claimed:
            raise TaskTaken(details={"task_id": task.id})
        if case.status == S.accepted:
            await transition(conn, case, "start_review", actor, now=now)
        await Case.filter(id=case.id).using_db(conn).update(assignee_staff_id=subject.id)
        await note(conn, case, "claim", actor, details={"task_id": task.id}, now=now)
    task.status, task.assignee_staff_id = "claimed", subject.id
    return task


async def release_task(*, subject: Subject, task_id: int, now: datetime) -> ReviewTask:
    task, case = await _task_for(subject, task_id, now)
    actor = Actor.for_subject(subject, Role(task.role))
    async with in_transaction() as conn:
        released = (
            await ReviewTask.filter(id=task.id, status="claimed", assignee_staff_id=subject.id)
            .using_db(conn)
            .update(status="open", assignee_staff_id=None)
        )
        if not released:
            raise TaskTaken(details={"task_id": task.id})
        await (
            Case.filter(id=case.id, assignee_staff_id=subject.id)
            .using_db(conn)
            .update(assignee_staff_id=None)
        )
        await note(conn, case, "release", actor, details={"task_id": task.id}, now=now)
    task.status, task.assignee_staff_id = "open", None
    return task


async def decide_task(
    *, subject: Subject, task_id: int, outcome: str, opinion: str, now: datetime
) -> Case:
    """The holder's opinion on their step: ``pass`` or ``deny``. Any denial denies the case (the
    other open tasks are cancelled); when every task of the last step has passed, the case is
    granted and moves on to fee due or result pending."""
    task, case = await _task_for(subject, task_id, now)
    await require_other_hands(subject, task)
    role = Role(task.role)
    actor = Actor.for_subject(subject, role)
    if case.status != S.in_review:
        raise InvalidTransition(
            details={"case_id": case.id, "current_status": case.status, "action": outcome}
        )
    guide = await guide_of(case)
    steps = guide.review_steps
    async with in_transaction() as conn:
        done = (
            await ReviewTask.filter(id=task.id, status="claimed", assignee_staff_id=subject.id)
            .using_db(conn)
            .update(
                status="passed" if outcome == "pass" else "denied", opinion=opinion, decided_at=now
            )
        )
        if not done:
            raise TaskTaken(details={"task_id": task.id})
        details = {"task_id": task.id, "step": task.step_name, "department": task.department_code}
        if outcome == "deny":
            await (
                ReviewTask.filter(case_id=case.id, status__in=("open", "claimed"))
                .using_db(conn)
                .update(status="cancelled")
            )
            await transition(
                conn,
                case,
                "deny",
                actor,
                comment=opinion,
                details={**details, "rights_notice": RIGHTS_NOTICE},
                now=now,
                updates={
                    "decision": "denied",
                    "decision_reasons": opinion,
                    "decided_at": now,
                    "closed_at": now,
                    "assignee_staff_id": None,
                },
            )
            return case
        await note(conn, case, "pass", actor, comment=opinion, details=details, now=now)
        pending = (
            await ReviewTask.filter(
                case_id=case.id, step_index=task.step_index, status__in=("open", "claimed")
            )
            .using_db(conn)
            .exists()
        )
        if pending:
            return case
        if task.step_index + 1 < len(steps):
            await open_step(conn, case, guide, task.step_index + 1, now)
            await Case.filter(id=case.id).using_db(conn).update(assignee_staff_id=None)
            return case
        await transition(
            conn,
            case,
            "grant",
            actor,
            comment=opinion,
            details=details,
            now=now,
            updates={
                "decision": "granted",
                "decision_reasons": opinion,
                "decided_at": now,
                "assignee_staff_id": None,
            },
        )
        if guide.fee.amount_fen > 0:
            await transition(conn, case, "require_fee", SYSTEM, now=now)
            await open_fee_order(conn, case, guide, now=now)
        else:
            await transition(conn, case, "await_result", SYSTEM, now=now)
    return case


async def suspend(
    *, subject: Subject, case_id: int, procedure: str, reason: str, now: datetime
) -> Case:
    """Special procedure (hearing, inspection, expert review): the clock stops."""
    case = await load_case(case_id)
    role = await holder_role(subject, case)
    await require(subject, action_of(role), owned(case), today=local_today(now))
    async with in_transaction() as conn:
        return await transition(
            conn,
            case,
            "suspend",
            Actor.for_subject(subject, role),
            comment=reason,
            details={"procedure": procedure},
            now=now,
            updates={"paused_on": local_today(now)},
        )


async def resume(*, subject: Subject, case_id: int, comment: str, now: datetime) -> Case:
    case = await load_case(case_id)
    role = await holder_role(subject, case)
    await require(subject, action_of(role), owned(case), today=local_today(now))
    calendar = await calendar_source.get()
    updates = resume_clock(case, calendar, local_today(now))
    async with in_transaction() as conn:
        return await transition(
            conn,
            case,
            "resume",
            Actor.for_subject(subject, role),
            comment=comment,
            details={
                "stopped_working_days": updates.get("paused_working_days", 0)
                - case.paused_working_days
            },
            now=now,
            updates=updates,
        )


async def complete(*, subject: Subject, case_id: int, comment: str, now: datetime) -> Case:
    """The dispatcher records the result served (delivery arrives with step 7)."""
    case = await staff_case(subject, Action.dispatch, case_id, now)
    async with in_transaction() as conn:
        return await transition(
            conn,
            case,
            "complete",
            Actor.for_subject(subject, Role.dispatcher),
            comment=comment,
            now=now,
            updates={"closed_at": now},
        )


async def check_staff_attachment(*, subject: Subject, case_id: int, now: datetime) -> Case:
    """Staff handling a submitted case may add documents to it (inspection notes, a hearing
    record): staff of its departments with a handling role (``Action.handle``), not
    supervisors, and never to a draft (which staff cannot see at all)."""
    return await staff_case(subject, Action.handle, case_id, now)


async def note_attachment(
    *,
    subject: Subject,
    case_id: int,
    upload_id: str,
    filename: str,
    now: datetime,
    conn: BaseDBAsyncClient,
) -> None:
    """The timeline line of a staff attachment, in the caller's transaction (the one that
    attaches the file: ``cases.materials.complete_attachment``)."""
    case = await load_case(case_id, conn)
    await note(
        conn,
        case,
        "attachment",
        Actor.for_subject(subject, handling_role(subject)),
        comment=filename,
        details={"upload_id": upload_id, "internal": True},
        now=now,
    )


async def add_comment(*, subject: Subject, case_id: int, text: str, now: datetime) -> None:
    """An internal staff comment on the timeline (not shown to the applicant)."""
    case = await staff_case(subject, Action.handle, case_id, now)
    role = handling_role(subject)
    async with in_transaction() as conn:
        await note(
            conn,
            case,
            "comment",
            Actor.for_subject(subject, role),
            comment=text,
            details={"internal": True},
            now=now,
        )


async def reveal_form_field(
    *,
    subject: Subject,
    case_id: int,
    field: str,
    reason: str,
    cipher: FieldCipher,
    request_id: str,
    now: datetime,
) -> dict[str, Any]:
    """One personal identifier written in the case's form, in full, for staff who may reveal
    identifiers of the case's applicant (``Action.reveal``) and give a reason; recorded like a
    reveal of the applicant's own identifiers (PIPL art. 28)."""
    case = await load_for(subject, Action.reveal, case_id, now=now)
    guide = await guide_of(case)
    value, kind = personal.reveal(case.form_data, guide.personal_paths, field, cipher)
    answerable = case.applicant_user_id or case.agent_user_id
    if answerable is None and case.company_id is not None:
        company = await Company.get(id=case.company_id)
        answerable = company.legal_rep_id
    await PersonalDataAccess.create(
        staff_id=subject.id,
        user_id=answerable or 0,
        field="form",
        case_id=case.id,
        form_field=field,
        reason=reason.strip(),
        request_id=request_id,
    )
    log.info(
        "personal data revealed",
        extra={"staff_id": subject.id, "case_id": case.id, "field": f"form.{field}"},
    )
    return {"field": field, "kind": kind, "value": value}
