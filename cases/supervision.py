"""Electronic supervision (电子监察): cards, the supervisors' board, supervision notices (督办)
and reassignment of review tasks.

Cards follow ``cases.views.card``: a case whose clock runs is ``red`` once its promised day has
passed and ``yellow`` when that day is at most ``case_yellow_card_days`` working days away. The
board counts and lists them per lead department, the department answerable for the promised
limit (a parallel department's delay shows on the lead department's board; the notice itself
goes to whoever holds the late task, in whichever department).

Who may do what:

* the board, the lists and case details: staff holding ``supervisor``, for any department
  (supervision is city-wide; ``auth.permissions`` lets supervisors view and supervise anything);
* a supervision notice: any supervisor, on any case that is under way (not a draft, not closed);
  it goes to each staff member holding a task of the case, else to the case's assignee, else to
  the department that has to act (``assignee_staff_id`` null): every handling staff member of
  that department sees it and any of them may acknowledge it;
* reassigning a review task: only a supervisor *of the task's department* (managing the
  department's own staff is not cross-department oversight), to an active staff member of that
  department holding the task's role. The new holder also inherits the unacknowledged notices
  of the case that were addressed to the previous holder or to the department.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any, Literal

from tortoise.expressions import Q, Subquery

from auth.models import Staff
from auth.permissions import (
    HANDLING_ROLES,
    Action,
    Addressed,
    Subject,
    departments,
    recused,
    require_staff,
    staff_may,
)
from auth.staff import staff_standing
from cases.errors import CaseNotFound, SameHandsTwice, TaskNotFound, TaskTaken
from cases.kernel import (
    Actor,
    handling_role,
    load_case,
    load_for,
    note,
    own_cases,
    owned,
    transition,
)
from cases.models import Case, ReviewTask, SupervisionNotice
from cases.review import require_other_hands
from cases.states import CLOCK_PAUSED, CLOCK_RUNNING, FINAL_STATES, CaseStatus, Role
from cases.views import card, summary
from catalog.service import get_department
from core.calendar import WorkCalendar, calendar_source
from core.clock import local_today
from core.db import in_transaction
from core.errors import Conflict, DomainError, Forbidden, NotFound, field_error
from core.outbox import emit
from core.paging import Cursor, PageRequest

log = logging.getLogger(__name__)

S = CaseStatus
Card = Literal["red", "yellow"]

_RUNNING = [s.value for s in CLOCK_RUNNING]
#: Statuses in which the clock can stand still: special procedures, and corrections asked for
#: during review (``paused_on`` set); a correction at pre-review has no running clock to stop.
_MAYBE_PAUSED = [s.value for s in CLOCK_PAUSED] + [S.correction_requested.value]


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class OtherDepartment(Forbidden):
    code = "supervision.other_department"
    message = "只能调整本部门的审查任务。"


class NotSupervisable(Conflict):
    code = "supervision.case_not_active"
    message = "该办件尚未提交或已办结，不能督办。"


class NoticeNotFound(NotFound):
    code = "supervision.notice_not_found"
    message = "督办通知不存在。"


class NotYourNotice(Forbidden):
    code = "supervision.not_addressed_to_you"
    message = "该督办通知不是发给您或您所在部门的。"


class TaskClosed(Conflict):
    code = "case.task_closed"
    message = "该审查任务已处理完毕，不能再调整。"


class InvalidAssignee(DomainError):
    """The staff member a task was to go to cannot take it; ``code`` says why."""

    status = 400
    code = "supervision.invalid_assignee"
    message = "不能把任务交给该工作人员。"

    def __init__(self, message: str, *, code: str, details: dict[str, Any]) -> None:
        # the chosen person is the body's staff_id: named as its field error too
        fields = [field_error("staff_id", message, code.rsplit(".", 1)[-1])]
        super().__init__(message, code=code, details={**details, "fields": fields})


def _require_supervisor(subject: Subject, department: str | None = None) -> None:
    require_staff(subject, Action.supervise, departments(department))


async def _department(code: str | None, subject: Subject) -> str:
    """The department a board is asked for (the supervisor's own by default); it must exist."""
    code = code or subject.department_code or ""
    await get_department(code=code)
    return code


# --------------------------------------------------------------------------------------------
# The board
# --------------------------------------------------------------------------------------------


def _card_window(card_: Card, today: date, calendar: WorkCalendar, yellow_days: int) -> Q:
    if card_ == "red":
        return Q(promised_due_on__lt=today)
    return Q(
        promised_due_on__gte=today,
        promised_due_on__lte=calendar.add_working_days(today, yellow_days),
    )


async def board(
    *, subject: Subject, department: str | None, now: datetime, yellow_days: int
) -> dict[str, Any]:
    """The counts of one department's cases by card: four counting queries on the indexes
    ``(lead_department_code, status, id)`` and ``(status, promised_due_on)``, whatever the
    number of cases. ``running`` counts every case whose clock runs (red and yellow included),
    ``paused`` every case whose clock stands still."""
    _require_supervisor(subject)
    code = await _department(department, subject)
    calendar = await calendar_source.get()
    today = local_today(now)
    running = Case.filter(lead_department_code=code, status__in=_RUNNING)
    return {
        "department": code,
        "today": today.isoformat(),
        "yellow_card_days": yellow_days,
        "counts": {
            "red": await running.filter(_card_window("red", today, calendar, yellow_days)).count(),
            "yellow": await running.filter(
                _card_window("yellow", today, calendar, yellow_days)
            ).count(),
            "running": await running.count(),
            "paused": await Case.filter(
                lead_department_code=code, status__in=_MAYBE_PAUSED, paused_on__not_isnull=True
            ).count(),
        },
    }


async def carded_cases(
    *,
    subject: Subject,
    department: str | None,
    card_: Card,
    page_request: PageRequest,
    now: datetime,
    yellow_days: int,
) -> dict[str, Any]:
    """One page of a department's red or yellow cases, the closest to (or furthest past) their
    promised day first: one query for the page, one for the holders of their tasks."""
    _require_supervisor(subject)
    code = await _department(department, subject)
    calendar = await calendar_source.get()
    today = local_today(now)
    query = Case.filter(lead_department_code=code, status__in=_RUNNING).filter(
        _card_window(card_, today, calendar, yellow_days)
    )
    paging = Cursor(
        list="supervision",
        scope=f"s:{subject.id}|{code}|{card_}",
        fields={"due": "date", "id": "int"},
    )
    if position := page_request.position(paging):
        due, after = date.fromisoformat(position["due"]), position["id"]
        query = query.filter(Q(promised_due_on__gt=due) | Q(promised_due_on=due, id__gt=after))
    rows = await query.order_by("promised_due_on", "id").limit(page_request.limit + 1)
    page, next_cursor = page_request.cut(
        rows, paging, lambda c: {"due": str(c.promised_due_on), "id": c.id}
    )
    holders = await _holders_of([c.id for c in page])
    return {
        "department": code,
        "card": card_,
        "items": [
            {
                **summary(c, today=today, calendar=calendar, yellow_days=yellow_days),
                "lead_department_code": c.lead_department_code,
                "accepted_on": c.accepted_on.isoformat() if c.accepted_on else None,
                "overdue_working_days": (
                    calendar.working_days_between(c.promised_due_on, today)
                    if card_ == "red" and c.promised_due_on
                    else 0
                ),
                "holders": holders.get(c.id, []),
            }
            for c in page
        ],
        "next_cursor": next_cursor,
    }


async def _holders_of(case_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Who holds or must take each case's open tasks, for a page of cases: one query."""
    if not case_ids:
        return {}
    tasks = await ReviewTask.filter(case_id__in=case_ids, status__in=("open", "claimed")).order_by(
        "id"
    )
    out: dict[int, list[dict[str, Any]]] = {}
    for task in tasks:
        out.setdefault(task.case_id, []).append(
            {
                "task_id": task.id,
                "step_name": task.step_name,
                "role": task.role,
                "department_code": task.department_code,
                "status": task.status,
                "assignee_staff_id": task.assignee_staff_id,
            }
        )
    return out


# --------------------------------------------------------------------------------------------
# Supervision notices
# --------------------------------------------------------------------------------------------


async def _recipients(case: Case) -> list[tuple[int | None, str]]:
    """(assignee, department) of each notice a supervision of ``case`` sends: the holders of
    its claimed tasks; else the case's assignee; else each department with an open task; else
    the lead department. ``None`` means the department as a whole."""
    tasks = await ReviewTask.filter(case_id=case.id, status__in=("open", "claimed")).order_by("id")
    held = [(t.assignee_staff_id, t.department_code) for t in tasks if t.status == "claimed"]
    if held:
        return list(dict.fromkeys(held))
    if case.assignee_staff_id is not None:
        return [(case.assignee_staff_id, case.lead_department_code)]
    open_departments = list(dict.fromkeys(t.department_code for t in tasks))
    return [(None, code) for code in open_departments or [case.lead_department_code]]


def notice_view(
    notice: SupervisionNotice,
    case: Case | None,
    issuer: Staff | None,
) -> dict[str, Any]:
    return {
        "id": notice.id,
        "case_id": notice.case_id,
        "item_name": case.item_name if case else None,
        "acceptance_number": case.acceptance_number if case else None,
        "case_status": case.status if case else None,
        "promised_due_on": (
            case.promised_due_on.isoformat() if case and case.promised_due_on else None
        ),
        "department_code": notice.department_code,
        "assignee_staff_id": notice.assignee_staff_id,
        "issued_by": {
            "staff_id": notice.issued_by_staff_id,
            "name": issuer.name if issuer else None,
        },
        "message": notice.message,
        "card": notice.card or None,
        "created_at": notice.created_at.isoformat(),
        "acknowledged": notice.acknowledged_at is not None,
        "acknowledged_at": notice.acknowledged_at.isoformat() if notice.acknowledged_at else None,
    }


async def issue_notice(
    *, subject: Subject, case_id: int, message: str, now: datetime, yellow_days: int
) -> list[dict[str, Any]]:
    """督办: one notice to each current holder of the case (see the module docstring), with its
    timeline line and one ``case.supervision_notice`` event per notice, in one transaction."""
    _require_supervisor(subject)
    case = await load_for(subject, Action.supervise, case_id, now=now)
    if CaseStatus(case.status) in FINAL_STATES:
        raise NotSupervisable(details={"case_id": case.id, "current_status": case.status})
    calendar = await calendar_source.get()
    card_ = card(case, today=local_today(now), calendar=calendar, yellow_days=yellow_days)
    recipients = await _recipients(case)
    actor = Actor.for_subject(subject, Role.supervisor)
    notices: list[SupervisionNotice] = []
    async with in_transaction() as conn:
        for assignee, department in recipients:
            notice = await SupervisionNotice.create(
                case_id=case.id,
                department_code=department,
                issued_by_staff_id=subject.id,
                assignee_staff_id=assignee,
                message=message,
                card=card_,
                created_at=now,
                using_db=conn,
            )
            notices.append(notice)
            await emit(
                "case.supervision_notice",
                {
                    "case_id": case.id,
                    "notice_id": notice.id,
                    "assignee_staff_id": assignee,
                    "department": department,
                    "issued_by": actor.ref,
                    "card": card_,
                    "item_code": case.item_code,
                    "acceptance_number": case.acceptance_number,
                },
                using_db=conn,
            )
        await note(
            conn,
            case,
            "supervision_notice",
            actor,
            comment=message,
            details={
                "internal": True,
                "card": card_,
                "notices": [
                    {"id": n.id, "assignee_staff_id": n.assignee_staff_id, "department": d}
                    for n, (_, d) in zip(notices, recipients, strict=True)
                ],
            },
            now=now,
        )
    issuer = await Staff.get_or_none(id=subject.id)
    return [notice_view(n, case, issuer) for n in notices]


async def case_notices(*, subject: Subject, case_id: int, now: datetime) -> list[dict[str, Any]]:
    """Every notice of one case, oldest first, for the supervisor following it up."""
    _require_supervisor(subject)
    case = await load_for(subject, Action.supervise, case_id, now=now)
    notices = await SupervisionNotice.filter(case_id=case.id).order_by("id")
    issuers = {
        s.id: s for s in await Staff.filter(id__in=list({n.issued_by_staff_id for n in notices}))
    }
    return [notice_view(n, case, issuers.get(n.issued_by_staff_id)) for n in notices]


def addressed_to(subject: Subject) -> Q:
    """The notices ``subject`` is to act on: theirs, and their department's unassigned ones
    when they handle cases there. ``auth.permissions`` (``Addressed``, ``Action.acknowledge``)
    as a query: the list shows exactly the notices the rule lets the subject acknowledge."""
    mine = Q(assignee_staff_id=subject.id)
    if subject.department_code and HANDLING_ROLES & subject.roles:
        mine = mine | Q(department_code=subject.department_code, assignee_staff_id=None)
    own = own_cases(subject)
    return mine & ~Q(case_id__in=Subquery(own.values("id"))) if own is not None else mine


async def my_notices(*, subject: Subject, page_request: PageRequest) -> dict[str, Any]:
    """The staff member's notices: unacknowledged first, then acknowledged, newest first within
    each; at most two queries for the notices, one for their cases, one for the issuers."""
    base = SupervisionNotice.filter(addressed_to(subject))
    acked, before = False, None
    paging = Cursor(list="notices", scope=f"s:{subject.id}", fields={"a": "int", "id": "int"})
    limit = page_request.limit
    if position := page_request.position(paging):
        acked, before = bool(position["a"]), position["id"]
    rows: list[tuple[bool, SupervisionNotice]] = []
    if not acked:
        pending = base.filter(acknowledged_at=None)
        if before is not None:
            pending = pending.filter(id__lt=before)
        rows += [(False, n) for n in await pending.order_by("-id").limit(limit + 1)]
        before = None
    if len(rows) <= limit:
        done = base.filter(acknowledged_at__not_isnull=True)
        if before is not None:
            done = done.filter(id__lt=before)
        rows += [(True, n) for n in await done.order_by("-id").limit(limit + 1 - len(rows))]
    page, next_cursor = page_request.cut(
        rows, paging, lambda row: {"a": int(row[0]), "id": row[1].id}
    )
    notices = [n for _, n in page]
    cases = {c.id: c for c in await Case.filter(id__in=list({n.case_id for n in notices}))}
    issuers = {
        s.id: s for s in await Staff.filter(id__in=list({n.issued_by_staff_id for n in notices}))
    }
    unacknowledged = await base.filter(acknowledged_at=None).count()
    return {
        "counts": {"unacknowledged": unacknowledged},
        "items": [
            notice_view(n, cases.get(n.case_id), issuers.get(n.issued_by_staff_id)) for n in notices
        ],
        "next_cursor": next_cursor,
    }


async def acknowledge(*, subject: Subject, notice_id: int, now: datetime) -> dict[str, Any]:
    """The recipient confirms they have read the notice: a compare-and-set, so a double tap
    records it once (the second answer shows the first acknowledgement)."""
    notice = await SupervisionNotice.get_or_none(id=notice_id)
    if notice is None:
        raise NoticeNotFound(details={"notice_id": notice_id})
    case = await load_case(notice.case_id)
    addressed = Addressed(notice.assignee_staff_id, notice.department_code, case=owned(case))
    if not staff_may(subject, Action.acknowledge, addressed):
        raise NotYourNotice(details={"notice_id": notice_id})
    role = handling_role(subject, default=Role.supervisor)
    actor = Actor.for_subject(subject, role)
    async with in_transaction() as conn:
        moved = (
            await SupervisionNotice.filter(id=notice.id, acknowledged_at=None)
            .using_db(conn)
            .update(acknowledged_at=now)
        )
        if moved:
            await note(
                conn,
                case,
                "supervision_acknowledged",
                actor,
                details={"internal": True, "notice_id": notice.id},
                now=now,
            )
            await emit(
                "case.supervision_acknowledged",
                {
                    "case_id": case.id,
                    "notice_id": notice.id,
                    "issued_by_staff_id": notice.issued_by_staff_id,
                    "acknowledged_by": actor.ref,
                },
                using_db=conn,
            )
    fresh = await SupervisionNotice.get(id=notice.id)
    issuer = await Staff.get_or_none(id=fresh.issued_by_staff_id)
    return notice_view(fresh, case, issuer)


# --------------------------------------------------------------------------------------------
# Reassignment
# --------------------------------------------------------------------------------------------


async def _assignable(staff_id: int, task: ReviewTask, case: Case) -> Staff:
    """The staff member the task may go to: as the rule lets them take it themselves
    (department, role, not their own application) and not a second step of the same case."""
    target = await Staff.get_or_none(id=staff_id)
    details = {"staff_id": staff_id, "task_id": task.id}
    if target is None:
        raise InvalidAssignee(
            "没有找到该工作人员。", code="supervision.assignee_not_found", details=details
        )
    if not target.active:
        raise InvalidAssignee(
            "该工作人员账号已停用。", code="supervision.assignee_inactive", details=details
        )
    if target.department_code != task.department_code:
        raise InvalidAssignee(
            "该工作人员不属于任务所在部门。",
            code="supervision.assignee_other_department",
            details={**details, "department": task.department_code},
        )
    if target.openid is None:
        raise InvalidAssignee(
            "该工作人员尚未绑定微信，无法办理任务。",
            code="supervision.assignee_not_bound",
            details=details,
        )
    if task.role not in target.roles:
        raise InvalidAssignee(
            "该工作人员没有办理此任务所需的岗位。",
            code="supervision.assignee_lacks_role",
            details={**details, "required_role": task.role},
        )
    standing = await staff_standing(staff_id=target.id)
    if recused(standing.as_subject(), owned(case)):
        raise InvalidAssignee(
            "该工作人员是本办件的申请人、代办人，或申请企业的法定代表人、经办人，应当回避。",
            code="supervision.assignee_recused",
            details=details,
        )
    try:
        await require_other_hands(Subject(kind="staff", id=target.id), task)
    except SameHandsTwice:
        raise InvalidAssignee(
            "该工作人员已办理本办件的前一审查步骤，不能再办理此步骤（审批分离）。",
            code="supervision.assignee_decided_earlier_step",
            details=details,
        ) from None
    return target


async def _task_to_reassign(subject: Subject, task_id: int) -> tuple[ReviewTask, Case]:
    """The task and its case, if ``subject`` may move the task: managing a department's own
    staff is not cross-department oversight, so the task's department decides."""
    task = await ReviewTask.get_or_none(id=task_id)
    if task is None:
        raise TaskNotFound(details={"task_id": task_id})
    try:
        case = await load_case(task.case_id)
    except CaseNotFound:
        raise TaskNotFound(details={"task_id": task_id}) from None
    if not staff_may(subject, Action.reassign, owned(case, departments=(task.department_code,))):
        raise OtherDepartment(details={"task_id": task.id, "department": task.department_code})
    return task, case


async def assignees(*, subject: Subject, task_id: int) -> list[dict[str, Any]]:
    """Who a supervisor may give the task to (``_assignable``'s rule, for everyone of the task's
    department and role at once): a phone lists them instead of asking for a staff number."""
    task, case = await _task_to_reassign(subject, task_id)
    members = await Staff.filter(department_code=task.department_code, active=True).order_by("id")
    found = []
    for member in members:
        if task.role not in member.roles:
            continue  # the cheap half of the rule first; the rest is the rule itself
        try:
            await _assignable(member.id, task, case)
        except InvalidAssignee:
            continue
        found.append(
            {
                "staff_id": member.id,
                "name": member.name,
                "holds_task": task.status == "claimed" and task.assignee_staff_id == member.id,
            }
        )
    return found


async def reassign_task(
    *, subject: Subject, task_id: int, staff_id: int, now: datetime
) -> dict[str, Any]:
    """Give an open or claimed task to ``staff_id`` (claimed in their name). A task of a case
    that has not started review starts it, in the new holder's name, as their claim would."""
    task, case = await _task_to_reassign(subject, task_id)
    if task.status not in ("open", "claimed"):
        raise TaskClosed(details={"task_id": task.id, "status": task.status})
    target = await _assignable(staff_id, task, case)
    previous = task.assignee_staff_id
    if task.status == "claimed" and previous == target.id:
        return _reassigned(task, case, previous)
    supervisor = Actor.for_subject(subject, Role.supervisor)
    holder = Actor(ref=f"s:{target.id}", role=Role(task.role))
    async with in_transaction() as conn:
        moved = (
            await ReviewTask.filter(id=task.id, status=task.status, assignee_staff_id=previous)
            .using_db(conn)
            .update(status="claimed", assignee_staff_id=target.id)
        )
        if not moved:
            raise TaskTaken(details={"task_id": task.id})
        await note(
            conn,
            case,
            "reassign",
            supervisor,
            details={
                "internal": True,
                "task_id": task.id,
                "from_staff_id": previous,
                "to_staff_id": target.id,
            },
            now=now,
        )
        if case.status == S.accepted:
            await transition(
                conn, case, "start_review", holder, details={"assigned_by": supervisor.ref}, now=now
            )
        await Case.filter(id=case.id).using_db(conn).update(assignee_staff_id=target.id)
        # The demand to act follows the case: what was waiting for the previous holder (or for
        # the department as a whole) now waits for the new one.
        await (
            SupervisionNotice.filter(
                assignee_staff_id=previous,  # None: those addressed to the department
                case_id=case.id,
                department_code=task.department_code,
                acknowledged_at=None,
            )
            .using_db(conn)
            .update(assignee_staff_id=target.id)
        )
        await emit(
            "case.task_reassigned",
            {
                "case_id": case.id,
                "task_id": task.id,
                "department": task.department_code,
                "from_staff_id": previous,
                "to_staff_id": target.id,
                "by": supervisor.ref,
                "item_code": case.item_code,
                "acceptance_number": case.acceptance_number,
            },
            using_db=conn,
        )
    task.status, task.assignee_staff_id = "claimed", target.id
    return _reassigned(task, case, previous)


def _reassigned(task: ReviewTask, case: Case, previous: int | None) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "case_id": case.id,
        "status": task.status,
        "assignee_staff_id": task.assignee_staff_id,
        "previous_assignee_staff_id": previous,
        "case_status": case.status,
    }
