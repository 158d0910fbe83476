"""Supervision endpoints (电子监察): the supervisors' board and card lists, supervision notices
(督办) and reassignment of review tasks; and the staff side of notices (read, acknowledge).

Who may do what is decided in ``cases.supervision`` (see its docstring): the board and notices
for supervisors of any department, reassignment for a supervisor of the task's department.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from api import guards
from api.cases import PageQuery, _doc
from api.idempotency import idempotent
from api.params import body, query
from api.schemas import Query
from cases import supervision
from core.clock import utcnow
from core.paging import page_size

bp = Blueprint("supervision", url_prefix="/api/v1")


class BoardQuery(Query):
    department: str | None = Field(
        None, max_length=64, description="lead department code; default: my own"
    )


class CardQuery(PageQuery):
    department: str | None = Field(None, max_length=64)
    card: Literal["red", "yellow"]


class NoticeIn(BaseModel):
    message: str = Field(min_length=2, max_length=1000, description="what must be done, in Chinese")


class ReassignIn(BaseModel):
    staff_id: int = Field(ge=1, description="active staff of the task's department and role")


def _yellow(request: Request) -> int:
    return int(request.app.ctx.settings.case_yellow_card_days)


def _limit(request: Request, requested: int | None) -> int:
    settings = request.app.ctx.settings
    return page_size(requested, default=settings.page_size_default, maximum=settings.page_size_max)


@bp.get("/supervisor/board")
@_doc(
    "Cards of a department: red, yellow, running, paused", "supervision", None, 400, 401, 403, 404
)
async def board(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    params = query(request, BoardQuery)
    result = await supervision.board(
        subject=subject, department=params.department, now=utcnow(), yellow_days=_yellow(request)
    )
    return json(result, ensure_ascii=False)


@bp.get("/supervisor/cases")
@_doc(
    "A department's red or yellow cases, most urgent first", "supervision", None, 400, 401, 403, 404
)
async def carded(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    params = query(request, CardQuery)
    result = await supervision.carded_cases(
        subject=subject,
        department=params.department,
        card_=params.card,
        cursor=params.cursor,
        limit=_limit(request, params.limit),
        secret=request.app.ctx.settings.secret_key,
        now=utcnow(),
        yellow_days=_yellow(request),
    )
    return json(result, ensure_ascii=False)


@bp.post("/supervisor/cases/<case_id:int>/notices")
@idempotent
@_doc(
    "Issue a supervision notice (督办) to whoever holds the case",
    "supervision",
    NoticeIn,
    400,
    401,
    403,
    404,
    409,
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
@_doc("Every supervision notice of a case", "supervision", None, 401, 403, 404)
async def case_notices(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    notices = await supervision.case_notices(subject=subject, case_id=case_id, now=utcnow())
    return json({"notices": notices}, ensure_ascii=False)


@bp.post("/supervisor/tasks/<task_id:int>/reassign")
@idempotent
@_doc(
    "Give a review task to another staff member of its department",
    "supervision",
    ReassignIn,
    400,
    401,
    403,
    404,
    409,
)
async def reassign(request: Request, task_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, ReassignIn)
    result = await supervision.reassign_task(
        subject=subject, task_id=task_id, staff_id=data.staff_id, now=utcnow()
    )
    return json(result, ensure_ascii=False)


@bp.get("/staff/supervision-notices")
@_doc(
    "Supervision notices for me or my department, unacknowledged first",
    "staff cases",
    None,
    400,
    401,
)
async def my_notices(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    params = query(request, PageQuery)
    result = await supervision.my_notices(
        subject=subject,
        cursor=params.cursor,
        limit=_limit(request, params.limit),
        secret=request.app.ctx.settings.secret_key,
    )
    return json(result, ensure_ascii=False)


@bp.post("/staff/supervision-notices/<notice_id:int>/acknowledge")
@idempotent
@_doc("Acknowledge a supervision notice", "staff cases", None, 401, 403, 404)
async def acknowledge(request: Request, notice_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    notice = await supervision.acknowledge(subject=subject, notice_id=notice_id, now=utcnow())
    return json(notice, ensure_ascii=False)
