"""好差评 endpoints: the applicant rates a finished case once; the department answers a bad
rating; staff and supervisors read the statistics. Rules in ``cases.evaluation``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from api import guards
from api.endpoint import Audience, Code, endpoint
from api.params import body, paging, query
from api.schemas import FreeText, In, NextCursor, Out, PageQuery, Query
from auth.permissions import Action
from cases import evaluation
from core.clock import utcnow

bp = Blueprint("evaluations", url_prefix="/api/v1")

Tag = Annotated[str, Field(min_length=1, max_length=20)]


class RatingIn(In):
    score: int = Field(ge=1, le=5, description="1 (very dissatisfied) to 5 (very satisfied)")
    tags: list[Tag] = Field(default_factory=list, max_length=10, description="e.g. 办事快, 态度好")
    comment: FreeText = Field("", max_length=500)

    def clean_tags(self) -> list[str]:
        return [t.strip() for t in self.tags if t.strip()]


class AnswerIn(In):
    answer: FreeText = Field(min_length=2, max_length=2000, description="shown to the applicant")


class EvaluationListQuery(PageQuery):
    follow_up: Literal["open", "answered"] | None = None
    department: Code | None = Field(None, description="supervisors only")


class StatsQuery(Query):
    item_code: Code | None = None
    department: Code | None = Field(None, description="supervisors: any")


class EvaluationOut(Out):
    id: int
    case_id: int
    item_code: str
    department_code: str
    score: int
    tags: list[str]
    comment: str
    follow_up: Literal["open", "answered"] | None
    answer: str | None
    answered_at: str | None
    created_at: str
    item_name: str | None = None
    acceptance_number: str | None = None
    applicant: str | None = None
    case_status: str | None = None


class EvaluationPage(Out):
    items: list[EvaluationOut]
    next_cursor: NextCursor


class FollowUps(Out):
    open: int
    answered: int


class StatsOut(Out):
    department: str | None = Field(description="null: every department (supervisors)")
    item_code: str | None
    count: int
    average: float | None
    distribution: dict[str, int] = Field(description='count per score, "1" to "5"')
    satisfied_rate: float | None = Field(description="share of 4 and 5")
    follow_ups: FollowUps


@bp.post("/cases/<case_id:int>/evaluation")
@endpoint(
    "Rate a finished case (好差评), once",
    tag="cases",
    audience=Audience.citizen,
    action=Action.view,
    target="case",
    body=RatingIn,
    ok=201,
    out=EvaluationOut,
    errors=(403, 409),
    idempotent=True,
)
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
@endpoint(
    "My department's evaluations, newest first (supervisors: any department's)",
    tag="staff cases",
    audience=Audience.staff,
    action=Action.view,
    target="department",
    query=EvaluationListQuery,
    out=EvaluationPage,
)
async def staff_list(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    params = query(request, EvaluationListQuery)
    result = await evaluation.list_for_staff(
        subject=subject,
        department=params.department,
        follow_up=params.follow_up,
        page_request=paging(request, params),
    )
    return json(result, ensure_ascii=False)


@bp.get("/staff/evaluations/stats")
@endpoint(
    "Count, average and distribution of ratings",
    tag="staff cases",
    audience=Audience.staff,
    action=Action.view,
    target="department",
    query=StatsQuery,
    out=StatsOut,
)
async def stats(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    params = query(request, StatsQuery)
    result = await evaluation.stats(
        subject=subject, item_code=params.item_code, department=params.department
    )
    return json(result, ensure_ascii=False)


@bp.post("/staff/evaluations/<evaluation_id:int>/answer")
@endpoint(
    "Answer a bad rating's follow-up",
    tag="staff cases",
    audience=Audience.staff,
    action=Action.handle,
    target="evaluation",
    body=AnswerIn,
    out=EvaluationOut,
    errors=(409,),
    idempotent=True,
)
async def answer(request: Request, evaluation_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, AnswerIn)
    result = await evaluation.answer(
        subject=subject, evaluation_id=evaluation_id, text=data.answer, now=utcnow()
    )
    return json(result, ensure_ascii=False)
