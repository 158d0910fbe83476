"""The outbox for administrators: list events (dead letters above all) and replay a dead one.

Events belong to the whole deployment, not to a department, so any staff member with the
``admin`` role may see and replay them (``auth.permissions.require_operate``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from api import guards
from api.idempotency import idempotent
from api.params import query
from api.schemas import ErrorEnvelope, Query
from auth.permissions import Subject, require_operate
from core import outbox
from core.paging import page_size
from core.settings import Settings

bp = Blueprint("outbox_admin", url_prefix="/api/v1/admin/outbox")


class OutboxQuery(Query):
    status: Literal["pending", "delivered", "dead"] | None = Field(
        None, description="dead: the dead letters; none: every status"
    )
    topic: str | None = Field(None, max_length=64)
    cursor: str | None = Field(None, max_length=512)
    limit: int | None = Field(None, description="page size, 1 to ZB_PAGE_SIZE_MAX")


class OutboxEventOut(BaseModel):
    id: int
    topic: str
    status: str
    attempts: int
    payload: dict[str, Any] = Field(description="masked like a log line")
    done_handlers: list[str] = Field(description="handlers that already succeeded; never rerun")
    last_error: str
    created_at: str
    available_at: str
    delivered_at: str | None
    dead_at: str | None
    locked_by: str | None
    locked_until: str | None


class OutboxPage(BaseModel):
    events: list[OutboxEventOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null at end")


def _doc(summary: str, ok: Any, *errs: int, params: tuple[str, ...] = ()) -> Any:
    return openapi.definition(
        summary=summary,
        tag="admin",
        parameter=[openapi.definitions.Parameter(name, str, location="query") for name in params],
        response=[
            openapi.definitions.Response(ok, 200),
            *(openapi.definitions.Response(ErrorEnvelope, code) for code in errs),
        ],
        secured={"bearer": []},
    )


async def _operator(request: Request) -> Subject:
    subject = await guards.staff(request)
    require_operate(subject)
    return subject


@bp.get("")
@_doc(
    "Outbox events, newest first (?status=dead for the dead letters)",
    OutboxPage,
    400,
    401,
    403,
    params=("status", "topic", "cursor", "limit"),
)
async def list_events(request: Request) -> HTTPResponse:
    await _operator(request)
    settings: Settings = request.app.ctx.settings
    params = query(request, OutboxQuery)
    page = await outbox.list_events(
        status=params.status,
        topic=params.topic,
        cursor=params.cursor,
        limit=page_size(
            params.limit, default=settings.page_size_default, maximum=settings.page_size_max
        ),
        secret=settings.secret_key,
    )
    return json(page, ensure_ascii=False, headers={"Cache-Control": "no-store"})


@bp.get("/<event_id:int>")
@_doc("One outbox event", OutboxEventOut, 401, 403, 404)
async def get_event(request: Request, event_id: int) -> HTTPResponse:
    await _operator(request)
    return json(await outbox.get_event(event_id=event_id), ensure_ascii=False)


@bp.post("/<event_id:int>/replay")
@idempotent
@_doc(
    "Replay a dead event: pending again with fresh attempts; handlers that already succeeded "
    "are not run again",
    OutboxEventOut,
    401,
    403,
    404,
    409,
)
async def replay(request: Request, event_id: int) -> HTTPResponse:
    subject = await _operator(request)
    event = await outbox.replay(event_id=event_id, actor=f"s:{subject.id}")
    worker = getattr(request.app.ctx, "worker", None)
    if worker is not None:
        worker.wake()  # the in-process worker, when there is one, need not wait for its poll
    return json(event, ensure_ascii=False)
