"""好差评 endpoints: the applicant rates a finished case once; the department answers a bad
rating; staff and supervisors read the statistics. Rules in ``cases.evaluation``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from api import guards
from api.cases import PageQuery, _doc
from api.idempotency import idempotent
from api.params import body, query
from api.schemas import Query
from cases import evaluation
from core.clock import utcnow
from core.paging import page_size

bp = Blueprint("evaluations", url_prefix="/api/v1")

Tag = Annotated[str, Field(min_length=1, max_length=20)]


class RatingIn(BaseModel):
    score: int = Field(ge=1, le=5, description="1 (very dissatisfied) to 5 (very satisfied)")
    tags: list[Tag] = Field(default_factory=list, max_length=10, description="e.g. 办事快, 态度好")
    comment: str = Field("", max_length=500)

    def clean_tags(self) -> list[str]:
        return [t.strip() for t in self.tags if t.strip()]


class AnswerIn(BaseModel):
    answer: str = Field(min_length=2, max_length=2000, description="shown to the applicant")


class EvaluationListQuery(PageQuery):
    follow_up: Literal["open", "answered"] | None = None
    department: str | None = Field(None, max_length=64, description="supervisors only")


class StatsQuery(Query):
    item_code: str | None = Field(None, max_length=64)
    department: str | None = Field(None, max_length=64, description="supervisors: any")


@bp.post("/cases/<case_id:int>/evaluation")
@idempotent
@_doc("Rate a finished case (好差评), once", "cases", RatingIn, 400, 401, 404, 409)
async def rate(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    data = body(request, RatingIn)
    result = await evaluation.rate(
        subject=subject,
        case_id=case_id,
        score=data.score,
        tags=data.clean_tags(),
        comment=data.comment.strip(),
        now=utcnow(),
    )
    return json(result, status=201, ensure_ascii=False)


@bp.get("/staff/evaluations")
@_doc("My department's evaluations, newest first", "staff cases", None, 400, 401, 403)
async def staff_list(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    params = query(request, EvaluationListQuery)
    settings = request.app.ctx.settings
    result = await evaluation.list_for_staff(
        subject=subject,
        department=params.department,
        follow_up=params.follow_up,
        cursor=params.cursor,
        limit=page_size(
            params.limit, default=settings.page_size_default, maximum=settings.page_size_max
        ),
        secret=settings.secret_key,
    )
    return json(result, ensure_ascii=False)


@bp.get("/staff/evaluations/stats")
@_doc("Count, average and distribution of ratings", "staff cases", None, 400, 401, 403)
async def stats(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    params = query(request, StatsQuery)
    result = await evaluation.stats(
        subject=subject, item_code=params.item_code, department=params.department
    )
    return json(result, ensure_ascii=False)


@bp.post("/staff/evaluations/<evaluation_id:int>/answer")
@idempotent
@_doc("Answer a bad rating's follow-up", "staff cases", AnswerIn, 400, 401, 403, 404, 409)
async def answer(request: Request, evaluation_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, AnswerIn)
    result = await evaluation.answer(
        subject=subject, evaluation_id=evaluation_id, text=data.answer, now=utcnow()
    )
    return json(result, ensure_ascii=False)
