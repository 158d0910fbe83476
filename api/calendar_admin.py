"""Administration of the working-day calendar: see a year, mark a date working or not, undo.

One calendar serves the whole city (every department's deadlines count on it), so an ``admin`` of
any department may change it (``Action.edit_calendar``). A change takes effect at once on the
worker that made it; other workers re-read the overrides within a minute
(``core.calendar.CalendarSource``). Deadlines computed after the change use it; the ones computed
before are not recomputed here.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

from pydantic import ConfigDict, Field, StrictBool
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from api import guards
from api.endpoint import Audience, endpoint
from api.params import body, query
from api.schemas import In, Out, Query
from auth.permissions import Action
from core import calendar
from core.clock import local_today, utcnow

bp = Blueprint("calendar_admin", url_prefix="/api/v1/admin/calendar")


class YearQuery(Query):
    year: int | None = Field(default=None, ge=calendar.MIN_YEAR, le=calendar.MAX_YEAR)


class OverrideIn(In):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    is_workday: StrictBool = Field(description="true: a working day (调休上班); false: a day off")
    note: str = Field(
        default="", max_length=calendar.NOTE_MAX, description="why, e.g. the notice's number"
    )


class DayOut(Out):
    date: str
    weekday: int
    is_workday: bool
    source: Literal["package", "rule", "override"]
    holiday: str | None
    note: str
    set_by: str | None
    set_at: str | None


class YearOut(Out):
    year: int
    base: Literal["package", "rule"]
    covered: bool
    overrides: int
    working_days: int
    non_working_days: int
    days: list[DayOut]


_route = partial(
    endpoint, tag="admin", audience=Audience.staff, action=Action.edit_calendar, target="deployment"
)


@bp.get("")
@_route(
    "Every day of a year: working or not, and whether the package, the rule or an override "
    "decides it",
    query=YearQuery,
    out=YearOut,
)
async def show_year(request: Request) -> HTTPResponse:
    await guards.staff(request)
    year = query(request, YearQuery).year or local_today(utcnow()).year
    return json(await calendar.year_overview(year=year), ensure_ascii=False)


@bp.put("/<day:str>")
@_route(
    "Make one date a working day or a day off (replaces an earlier override)",
    body=OverrideIn,
    out=DayOut,
)
async def set_day(request: Request, day: str) -> HTTPResponse:
    subject = await guards.staff(request)
    when = calendar.parse_day(day)
    data = body(request, OverrideIn)
    result = await calendar.set_override(
        day=when, is_workday=data.is_workday, note=data.note, actor=f"s:{subject.id}", now=utcnow()
    )
    return json(result, ensure_ascii=False)


@bp.delete("/<day:str>")
@_route(
    "Remove the override of one date: the package or the rule decides it again",
    out=DayOut,
    errors=(404,),
)
async def unset_day(request: Request, day: str) -> HTTPResponse:
    subject = await guards.staff(request)
    when = calendar.parse_day(day)
    return json(
        await calendar.delete_override(day=when, actor=f"s:{subject.id}"), ensure_ascii=False
    )
