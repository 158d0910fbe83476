"""Administration of the working-day calendar: see a year, mark a date working or not, undo.

One calendar serves the whole city (every department's deadlines count on it), so an ``admin`` of
any department may change it. A change takes effect at once on the worker that made it; other
workers re-read the overrides within a minute (``core.calendar.CalendarSource``). Deadlines
computed after the change use it; the ones computed before are not recomputed here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from api import guards
from api.params import body, query
from api.schemas import ErrorEnvelope, Query
from auth.permissions import Subject, require_edit_calendar
from auth.service import today_local
from core import calendar

bp = Blueprint("calendar_admin", url_prefix="/api/v1/admin/calendar")


class YearQuery(Query):
    year: int | None = Field(default=None, ge=calendar.MIN_YEAR, le=calendar.MAX_YEAR)


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    is_workday: StrictBool = Field(description="true: a working day (调休上班); false: a day off")
    note: str = Field(
        default="", max_length=calendar.NOTE_MAX, description="why, e.g. the notice's number"
    )


def _doc(summary: str, body_model: Any = None, *errs: int) -> Any:
    return openapi.definition(
        summary=summary,
        tag="admin",
        body={"application/json": body_model} if body_model is not None else None,
        response=[openapi.definitions.Response(ErrorEnvelope, code) for code in errs],
        secured={"bearer": []},
    )


async def _calendar_admin(request: Request) -> Subject:
    subject = await guards.staff(request)
    require_edit_calendar(subject)
    return subject


@bp.get("")
@openapi.parameter("year", int, location="query")
@_doc(
    "Every day of a year: working or not, and whether the package, the rule or an override "
    "decides it",
    None,
    400,
    401,
    403,
)
async def show_year(request: Request) -> HTTPResponse:
    await _calendar_admin(request)
    year = query(request, YearQuery).year or today_local().year
    return json(await calendar.year_overview(year=year), ensure_ascii=False)


@bp.put("/<day:str>")
@_doc(
    "Make one date a working day or a day off (replaces an earlier override)",
    OverrideIn,
    400,
    401,
    403,
)
async def set_day(request: Request, day: str) -> HTTPResponse:
    subject = await _calendar_admin(request)
    when = calendar.parse_day(day)
    data = body(request, OverrideIn)
    result = await calendar.set_override(
        day=when, is_workday=data.is_workday, note=data.note, actor=f"s:{subject.id}"
    )
    return json(result, ensure_ascii=False)


@bp.delete("/<day:str>")
@_doc(
    "Remove the override of one date: the package or the rule decides it again",
    None,
    400,
    401,
    403,
    404,
)
async def unset_day(request: Request, day: str) -> HTTPResponse:
    subject = await _calendar_admin(request)
    when = calendar.parse_day(day)
    return json(
        await calendar.delete_override(day=when, actor=f"s:{subject.id}"), ensure_ascii=False
    )
