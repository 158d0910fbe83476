"""The workflow kernel of a case (办件): who acts, how a case is loaded for someone, and the one
way its status changes.

Every status change goes through ``transition``: one compare-and-set ``UPDATE … WHERE status IN
(allowed)``, its timeline event and its outbox event, in the caller's database transaction. Zero
rows updated means somebody else moved the case first; the caller gets
``case.invalid_transition`` with the current status, and nothing is written. A timeline line that
is not a transition (a claim, a comment) is a ``note``.

The modules of the use cases build on this one and on nothing private of each other's: filing
(``filing``), pre-review (``prereview``), review and decision (``review``), deadlines
(``deadlines``), supervision and evaluation, and the read side (``views``).

Dates: ``now`` is passed in by the caller (the HTTP edge, the worker's jobs, tests), and every
day-based limit is counted in China's local date of that moment (``core.clock.local_today``) on
the working-day calendar.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet

from auth.models import StaffRole
from auth.permissions import (
    HANDLING_ORDER,
    STEP_ACTIONS,
    Action,
    Owned,
    Subject,
    can,
    departments,
    departments_of,
    require,
)
from cases.errors import (
    CaseNotFound,
    InvalidTransition,
    RoleNotAllowed,
)
from cases.models import Case, CaseEvent, ReviewTask
from cases.queries import case_by_id, departments_of_person
from cases.states import (
    NOTE_LABELS,
    TRANSITIONS,
    CaseStatus,
    Role,
)
from catalog.guides import version_guide
from catalog.schemas import Guide
from core.clock import local_today
from core.errors import Forbidden
from core.outbox import emit

log = logging.getLogger(__name__)


RIGHTS_NOTICE = (
    "申请人如对本决定不服，可以自收到本决定之日起六十日内依法申请行政复议，"
    "或者在六个月内依法向人民法院提起行政诉讼。"
)


S = CaseStatus


@dataclass(frozen=True)
class Actor:
    """Who performs an act, as the timeline records it."""

    ref: str  # "u:<id>", "s:<id>", "system"
    role: Role

    @classmethod
    def for_subject(cls, subject: Subject, role: Role) -> Actor:
        prefix = "s" if subject.is_staff else "u"
        return cls(ref=f"{prefix}:{subject.id}", role=role)


SYSTEM = Actor(ref="system", role=Role.system)


def owned(case: Case, *, departments: tuple[str, ...] | None = None) -> Owned:
    """The case as ``auth.permissions`` sees it; ``departments`` narrows it to the part one
    department handles (a review task)."""
    return Owned(
        owner_user_id=case.applicant_user_id,
        company_id=case.company_id,
        item_code=case.item_code,
        department_codes=(
            departments
            if departments is not None
            else tuple(c for c in case.department_codes.split(",") if c)
        ),
        status=case.status,
        agent_user_id=case.agent_user_id,
    )


async def load_case(case_id: int, conn: BaseDBAsyncClient | None = None) -> Case:
    if conn is not None:  # inside a transaction of the caller's: its connection
        case = await Case.filter(id=case_id).using_db(conn).first()
    else:  # every read and every action starts here: without the query builder
        case = await case_by_id(case_id)
    if case is None:
        raise CaseNotFound(details={"case_id": case_id})
    return case


async def person_as_handled(*, user_id: int) -> Owned:
    """A person as ``auth.permissions`` sees them for ``Action.reveal``: in the departments that
    handle, or have handled, a case of theirs (as applicant or as the one who filed it). Drafts
    do not count, a department has not seen them. Only staff of these may need the person's full
    identifiers (PIPL art. 28: sensitive data for a specific purpose)."""
    return departments(*departments_of(await departments_of_person(user_id)))


def own_cases(subject: Subject) -> QuerySet[Case] | None:
    """The cases ``subject`` must step aside from (``auth.permissions.recused`` as a query), or
    None for someone with no citizen side."""
    if subject.person_id is None and not subject.person_companies:
        return None
    person = subject.person_id or 0
    return Case.filter(
        Q(applicant_user_id=person)
        | Q(agent_user_id=person)
        | Q(company_id__in=list(subject.person_companies) or [0])
    )


async def find_case(*, case_id: int) -> Case | None:
    return await Case.get_or_none(id=case_id)


async def load_for(subject: Subject, action: Action, case_id: int, *, now: datetime) -> Case:
    """The case, if ``subject`` may do ``action`` on it. Someone else's case is "not found" to a
    citizen (its existence is not theirs to learn), and so is a draft to staff (it is its
    applicant's alone until submitted); another department's case is "forbidden" to staff, and
    so is a case to a citizen who may see it but not do this (a company agent with only the
    ``view`` scope)."""
    case = await load_case(case_id)
    today = local_today(now)
    try:
        await require(subject, action, owned(case), today=today)
    except Forbidden:
        if subject.is_staff:
            if case.status == S.draft:
                raise CaseNotFound(details={"case_id": case_id}) from None
            raise
        if action is not Action.view and await can(subject, Action.view, owned(case), today=today):
            raise
        raise CaseNotFound(details={"case_id": case_id}) from None
    return case


async def staff_case(subject: Subject, action: Action, case_id: int, now: datetime) -> Case:
    """The case, for staff who may do ``action`` on it. Not for applicants, even their own
    case's: ``view`` would let an owner through to staff-only acts (internal comments)."""
    if not subject.is_staff:
        raise Forbidden("只有工作人员可以进行此操作。", code="auth.forbidden")
    return await load_for(subject, action, case_id, now=now)


def event_payload(case: Case, name: str, frm: str, to: str, actor: Actor) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "transition": name,
        "from": frm,
        "to": to,
        "actor": actor.ref,
        "role": actor.role.value,
        "item_code": case.item_code,
        "department": case.lead_department_code,
        "applicant_user_id": case.applicant_user_id,
        "company_id": case.company_id,
        "agent_user_id": case.agent_user_id,
        "acceptance_number": case.acceptance_number,
    }


async def transition(
    conn: BaseDBAsyncClient,
    case: Case,
    name: str,
    actor: Actor,
    *,
    comment: str = "",
    details: dict[str, Any] | None = None,
    updates: dict[str, Any] | None = None,
    now: datetime,
) -> Case:
    """Apply one transition of the table as a compare-and-set, with its timeline and outbox
    events, on the caller's transaction ``conn``. Returns the case as it now is."""
    transition = TRANSITIONS[name]
    if actor.role not in transition.roles:
        raise RoleNotAllowed(details={"transition": name, "role": actor.role.value})
    frm = case.status
    values = dict(updates or {})
    moved = (
        await Case.filter(id=case.id, status__in=[s.value for s in transition.from_states])
        .using_db(conn)
        .update(status=transition.to.value, revision=F("revision") + 1, updated_at=now, **values)
    )
    if not moved:
        current = await load_case(case.id, conn)
        raise InvalidTransition(
            details={"case_id": case.id, "current_status": current.status, "action": name}
        )
    for key, value in values.items():
        setattr(case, key, value)
    case.status = transition.to.value
    case.revision += 1
    await CaseEvent.create(
        case_id=case.id,
        action=name,
        actor=actor.ref,
        role=actor.role.value,
        from_status=frm,
        to_status=transition.to.value,
        comment=comment,
        details=details or {},
        at=now,
        using_db=conn,
    )
    await emit(
        f"case.{name}",
        {**event_payload(case, name, frm, transition.to.value, actor), **(details or {})},
        using_db=conn,
    )
    return case


async def note(
    conn: BaseDBAsyncClient,
    case: Case,
    action: str,
    actor: Actor,
    *,
    comment: str = "",
    details: dict[str, Any] | None = None,
    now: datetime,
) -> None:
    """A timeline line that is not a transition (claim, comment, supervision notice...)."""
    if action not in NOTE_LABELS:
        raise ValueError(f"a timeline note needs a label in cases.states.NOTE_LABELS: {action}")
    await CaseEvent.create(
        case_id=case.id,
        action=action,
        actor=actor.ref,
        role=actor.role.value,
        from_status=case.status,
        to_status=case.status,
        comment=comment,
        details=details or {},
        at=now,
        using_db=conn,
    )


async def guide_of(case: Case) -> Guide:
    """The guide the case was filed under (its item version's, never the current one)."""
    return await version_guide(case.item_version_id)


async def holder_role(subject: Subject, case: Case) -> Role:
    """The role in which ``subject`` holds a claimed task of the case, or refuse. Only staff
    hold tasks: a citizen's user id may well equal the holder's staff id."""
    task = None
    if subject.is_staff:
        task = await ReviewTask.filter(
            case_id=case.id,
            assignee_staff_id=subject.id,
            status="claimed",
            department_code=subject.department_code,
        ).first()
    if task is None or task.role not in subject.roles:
        raise RoleNotAllowed("请先领取该办件的审查任务。", code="case.task_not_held")
    return Role(task.role)


def action_of(role: Role) -> Action:
    """The permission a step's role takes (``auth.permissions.STEP_ACTIONS``)."""
    return STEP_ACTIONS[StaffRole(role.value)]


def handling_role(subject: Subject, default: Role = Role.clerk) -> Role:
    """The role a handling act that is no step of its own is recorded in
    (``auth.permissions.HANDLING_ORDER``), or ``default`` for someone with no handling role."""
    return next((Role(r.value) for r in HANDLING_ORDER if r in subject.roles), default)


async def open_step(
    conn: BaseDBAsyncClient, case: Case, guide: Guide, index: int, now: datetime
) -> None:
    """Open review step ``index``: the first step goes to every department of a parallel item
    (并联审批), later steps to the lead department only."""
    step = guide.review_steps[index]
    departments = guide.department_codes if index == 0 else [case.lead_department_code]
    await ReviewTask.bulk_create(
        [
            ReviewTask(
                case_id=case.id,
                step_index=index,
                step_name=step.name,
                role=step.role,
                department_code=code,
                created_at=now,
            )
            for code in departments
        ],
        using_db=conn,
    )
