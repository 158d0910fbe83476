"""Supervision endpoints (电子监察): the supervisors' board and card lists, supervision notices
(督办) and reassignment of review tasks; and the staff side of notices (read, acknowledge).

Who may do what is decided in ``cases.supervision`` (see its docstring): the board and notices
for supervisors of any department, reassignment for a supervisor of the task's department.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from api import guards
from api.endpoint import Audience, Code, IntId, endpoint
from api.params import body, paging, query
from api.schemas import CaseSummary, FreeText, In, NextCursor, Out, PageQuery, Query
from auth.permissions import Action
from cases import supervision
from core.clock import utcnow

bp = Blueprint("supervision", url_prefix="/api/v1")


class BoardQuery(Query):
    department: Code | None = Field(None, description="lead department code; default: my own")


class CardQuery(PageQuery):
    department: Code | None = None
    card: Literal["red", "yellow"]


class NoticeIn(In):
    message: FreeText = Field(
        min_length=2, max_length=1000, description="what must be done, in Chinese"
    )


class ReassignIn(In):
    staff_id: IntId = Field(description="active staff of the task's department and role")


class BoardCounts(Out):
    red: int
    yellow: int
    running: int
    paused: int


class BoardOut(Out):
    department: str
    today: str
    yellow_card_days: int
    counts: BoardCounts


class Holder(Out):
    task_id: int
    step_name: str
    role: str
    department_code: str
    status: str
    assignee_staff_id: int | None


class CardedCase(CaseSummary):
    lead_department_code: str
    accepted_on: str | None
    overdue_working_days: int
    holders: list[Holder]


class CardedPage(Out):
    department: str
    card: Literal["red", "yellow"]
    items: list[CardedCase]
    next_cursor: NextCursor


class Issuer(Out):
    staff_id: int
    name: str | None


class NoticeOut(Out):
    id: int
    case_id: int
    item_name: str | None
    acceptance_number: str | None
    case_status: str | None
    promised_due_on: str | None
    department_code: str
    assignee_staff_id: int | None
    issued_by: Issuer
    message: str
    card: Literal["red", "yellow"] | None
    created_at: str
    acknowledged: bool
    acknowledged_at: str | None


class NoticeList(Out):
    notices: list[NoticeOut]


class NoticeCounts(Out):
    unacknowledged: int


class NoticePage(Out):
    counts: NoticeCounts
    items: list[NoticeOut]
    next_cursor: NextCursor


class ReassignedOut(Out):
    task_id: int
    case_id: int
    status: str
    assignee_staff_id: int | None
    previous_assignee_staff_id: int | None
    case_status: str


class AssigneeOut(Out):
    staff_id: int
    name: str
    holds_task: bool = Field(description="the task is claimed by this member now")


class AssigneeList(Out):
    task_id: int
    assignees: list[AssigneeOut]


def _route(summary: str, tag: str, **kwargs: Any) -> Any:
    return endpoint(summary, tag=tag, audience=Audience.staff, **kwargs)


def _yellow(request: Request) -> int:
    return int(request.app.ctx.settings.case_yellow_card_days)


@bp.get("/supervisor/board")
@_route(
    "Cards of a department: red, yellow, running, paused",
    "supervision",
    action=Action.supervise,
    target="department",
    query=BoardQuery,
    out=BoardOut,
    errors=(404,),
)
async def board(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    params = query(request, BoardQuery)
    result = await supervision.board(
        subject=subject, department=params.department, now=utcnow(), yellow_days=_yellow(request)
    )
    return json(result, ensure_ascii=False)


@bp.get("/supervisor/cases")
@_route(
    "A department's red or yellow cases, most urgent first",
    "supervision",
    action=Action.supervise,
    target="department",
    query=CardQuery,
    out=CardedPage,
    errors=(404,),
)
async def carded(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    params = query(request, CardQuery)
    result = await supervision.carded_cases(
        subject=subject,
        department=params.department,
        card_=params.card,
        page_request=paging(request, params),
        now=utcnow(),
        yellow_days=_yellow(request),
    )
    return json(result, ensure_ascii=False)


@bp.post("/supervisor/cases/<case_id:int>/notices")
@_route(
    "Issue a supervision notice (督办) to whoever holds the case",
    "supervision",
    action=Action.supervise,
    target="case",
    body=NoticeIn,
    ok=201,
    out=NoticeList,
    errors=(409,),
    idempotent=True,
)
async def issue_notice(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, NoticeIn)
    notices = await supervision.issue_notice(
        subject=subject,
        case_id=case_id,
        message=data.message,
        now=utcnow(),
        yellow_days=_yellow(request),
    )
    return json({"notices": notices}, status=201, ensure_ascii=False)


@bp.get("/supervisor/cases/<case_id:int>/notices")
@_route(
    "Every supervision notice of a case",
    "supervision",
    action=Action.supervise,
    target="case",
    out=NoticeList,
)
async def case_notices(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    notices = await supervision.case_notices(subject=subject, case_id=case_id, now=utcnow())
    return json({"notices": notices}, ensure_ascii=False)


@bp.get("/supervisor/tasks/<task_id:int>/assignees")
@_route(
    "Who the task may be given to: active staff of its department and role, neither recused "
    "nor deciders of an earlier step of the case",
    "supervision",
    action=Action.reassign,
    target="task",
    out=AssigneeList,
)
async def assignees(request: Request, task_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    found = await supervision.assignees(subject=subject, task_id=task_id)
    return json({"task_id": task_id, "assignees": found}, ensure_ascii=False)


@bp.post("/supervisor/tasks/<task_id:int>/reassign")
@_route(
    "Give a review task to another staff member of its department",
    "supervision",
    action=Action.reassign,
    target="task",
    body=ReassignIn,
    out=ReassignedOut,
    errors=(409,),
    idempotent=True,
)
async def reassign(request: Request, task_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, ReassignIn)
    result = await supervision.reassign_task(
        subject=subject, task_id=task_id, staff_id=data.staff_id, now=utcnow()
    )
    return json(result, ensure_ascii=False)


@bp.get("/staff/supervision-notices")
@_route(
    "Supervision notices for me or my department, unacknowledged first",
    "staff cases",
    target="self",
    query=PageQuery,
    out=NoticePage,
)
async def my_notices(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    params = query(request, PageQuery)
    result = await supervision.my_notices(
        subject=subject,
        page_request=paging(request, params),
    )
    return json(result, ensure_ascii=False)


@bp.post("/staff/supervision-notices/<notice_id:int>/acknowledge")
@_route(
    "Acknowledge a supervision notice",
    "staff cases",
    action=Action.acknowledge,
    target="notice",
    out=NoticeOut,
    idempotent=True,
)
async def acknowledge(request: Request, notice_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    notice = await supervision.acknowledge(subject=subject, notice_id=notice_id, now=utcnow())
    return json(notice, ensure_ascii=False)
