"""The in-app inbox: every message a person was sent, whatever WeChat or SMS did with it.

A person reads only their own lines (``recipient`` is part of every query); a line of someone
else's is "not found", never "forbidden", so ids reveal nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.errors import NotFound
from core.paging import PageRequest
from notify.models import InboxMessage


class InboxMessageNotFound(NotFound):
    code = "notify.message_not_found"
    message = "找不到这条消息。"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def message_view(m: InboxMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "kind": m.kind,
        "title": m.title,
        "body": m.body,
        "link": m.link or None,
        "subject": m.subject or None,
        "created_at": _iso(m.created_at),
        "read": m.read_at is not None,
        "read_at": _iso(m.read_at),
    }


async def list_messages(
    *, recipient: str, unread_only: bool, page_request: PageRequest
) -> dict[str, Any]:
    """One page, newest first, and the unread count: two queries whatever the page size."""
    qs = InboxMessage.filter(recipient=recipient)
    if unread_only:
        qs = qs.filter(read_at=None)
    page, next_cursor = await page_request.newest_first(
        qs, name="inbox", scope=f"{recipient}|{int(unread_only)}"
    )
    return {
        "messages": [message_view(m) for m in page],
        "unread": await unread_count(recipient=recipient),
        "next_cursor": next_cursor,
    }


async def unread_count(*, recipient: str) -> int:
    return await InboxMessage.filter(recipient=recipient, read_at=None).count()


async def mark_read(*, recipient: str, message_id: int, now: datetime) -> dict[str, Any]:
    """Idempotent: a line read already keeps its first reading time."""
    message = await InboxMessage.get_or_none(id=message_id, recipient=recipient)
    if message is None:
        raise InboxMessageNotFound()
    await InboxMessage.filter(id=message_id, recipient=recipient, read_at=None).update(read_at=now)
    await message.refresh_from_db()
    return {**message_view(message), "unread": await unread_count(recipient=recipient)}


async def mark_all_read(*, recipient: str, now: datetime) -> dict[str, Any]:
    marked = await InboxMessage.filter(recipient=recipient, read_at=None).update(read_at=now)
    return {"marked": marked, "unread": 0}


async def recipient_of(message_id: int) -> str | None:
    """Whose line ``message_id`` is (``user:<id>``), for the authorization rule to decide."""
    rows = await InboxMessage.filter(id=message_id).values_list("recipient", flat=True)
    return str(rows[0]) if rows else None
