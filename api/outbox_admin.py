"""The outbox for administrators: list events (dead letters above all) and replay a dead one.

Events belong to the whole deployment, not to a department, so any staff member with the
``admin`` role may see and replay them (``Action.operate`` in ``auth.permissions``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from api import guards
from api.endpoint import operator_endpoint
from api.params import paging, query
from api.schemas import NextCursor, Out, PageQuery
from core import outbox
from core.clock import utcnow

bp = Blueprint("outbox_admin", url_prefix="/api/v1/admin/outbox")


class OutboxQuery(PageQuery):
    status: Literal["pending", "delivered", "dead"] | None = Field(
        None, description="dead: the dead letters; none: every status"
    )
    topic: str | None = Field(None, max_length=64)


class OutboxEventOut(Out):
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


class OutboxPage(Out):
    events: list[OutboxEventOut]
    next_cursor: NextCursor


@bp.get("")
@operator_endpoint(
    "Outbox events, newest first (?status=dead for the dead letters)",
    query=OutboxQuery,
    out=OutboxPage,
    headers={"Cache-Control": "no-store"},
)
async def list_events(request: Request) -> HTTPResponse:
    params = query(request, OutboxQuery)
    page = await outbox.list_events(
        status=params.status,
        topic=params.topic,
        page_request=paging(request, params),
    )
    return json(page, ensure_ascii=False, headers={"Cache-Control": "no-store"})


@bp.get("/<event_id:int>")
@operator_endpoint("One outbox event", out=OutboxEventOut, errors=(404,))
async def get_event(request: Request, event_id: int) -> HTTPResponse:
    return json(await outbox.get_event(event_id=event_id), ensure_ascii=False)


@bp.post("/<event_id:int>/replay")
@operator_endpoint(
    "Replay a dead event: pending again with fresh attempts; handlers that already succeeded "
    "are not run again",
    out=OutboxEventOut,
    errors=(404, 409),
    idempotent=True,
)
async def replay(request: Request, event_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    event = await outbox.replay(event_id=event_id, actor=f"s:{subject.id}", now=utcnow())
    worker = getattr(request.app.ctx, "worker", None)
    if worker is not None:
        worker.wake()  # the in-process worker, when there is one, need not wait for its poll
    return json(event, ensure_ascii=False)
