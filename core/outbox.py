"""Emitting events through the transactional outbox (DESIGN.md §3), and its dead letters.

Call ``emit`` inside the same ``in_transaction()`` block as the state change: both commit or
neither does. Workers (``core.worker``) deliver the events afterwards.

An event whose handlers kept failing ends ``dead``; an administrator lists those and replays
them once the cause is fixed. A replay keeps ``done_handlers``, so the handlers that had already
succeeded are not run again.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from tortoise.backends.base.client import BaseDBAsyncClient

from core.errors import Conflict, NotFound
from core.logging import redact_value
from core.models import OutboxEvent
from core.paging import PageRequest

log = logging.getLogger("zhangban.outbox")

Status = Literal["pending", "delivered", "dead"]
STATUSES: tuple[Status, ...] = ("pending", "delivered", "dead")


class OutboxEventNotFound(NotFound):
    code = "outbox.event_not_found"
    message = "找不到该事件。"


class OutboxEventNotDead(Conflict):
    code = "outbox.event_not_dead"
    message = "只有投递失败（死信）的事件可以重新投递。"


async def emit(
    topic: str, payload: dict[str, Any], *, using_db: BaseDBAsyncClient | None = None
) -> OutboxEvent:
    """Record one event; ``using_db`` is the transaction's connection when there is one."""
    return await OutboxEvent.create(topic=topic, payload=payload, using_db=using_db)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def event_view(event: OutboxEvent) -> dict[str, Any]:
    """An event as an administrator sees it. The payload is masked like a log line: it is read
    to diagnose a delivery, not to look people up."""
    return {
        "id": event.id,
        "topic": event.topic,
        "status": event.status,
        "attempts": event.attempts,
        "payload": redact_value(event.payload),
        "done_handlers": list(event.done_handlers or []),
        "last_error": event.last_error,
        "created_at": _iso(event.created_at),
        "available_at": _iso(event.available_at),
        "delivered_at": _iso(event.delivered_at),
        "dead_at": _iso(event.dead_at),
        "locked_by": event.locked_by or None,
        "locked_until": _iso(event.locked_until),
    }


async def list_events(
    *,
    status: Status | None,
    topic: str | None,
    page_request: PageRequest,
) -> dict[str, Any]:
    """One page of events, newest first; one query whatever the page size."""
    qs = OutboxEvent.all()
    if status:
        qs = qs.filter(status=status)
    if topic:
        qs = qs.filter(topic=topic)
    page, next_cursor = await page_request.newest_first(
        qs, name="outbox", scope=json.dumps([status or "", topic or ""])
    )
    return {"events": [event_view(e) for e in page], "next_cursor": next_cursor}


async def get_event(*, event_id: int) -> dict[str, Any]:
    event = await OutboxEvent.get_or_none(id=event_id)
    if event is None:
        raise OutboxEventNotFound()
    return event_view(event)


async def replay(*, event_id: int, actor: str, now: datetime) -> dict[str, Any]:
    """Put a dead event back in line with a fresh set of attempts (compare-and-set from dead:
    a double tap replays once and the second one is told the event is no longer dead)."""
    moved = await OutboxEvent.filter(id=event_id, status="dead").update(
        status="pending",
        attempts=0,
        available_at=now,
        dead_at=None,
        locked_by="",
        locked_until=None,
    )
    if not moved:
        event = await OutboxEvent.get_or_none(id=event_id)
        if event is None:
            raise OutboxEventNotFound()
        raise OutboxEventNotDead(details={"status": event.status})
    log.info("outbox event replayed", extra={"event_id": event_id, "actor": actor})
    return await get_event(event_id=event_id)
