"""Emitting events through the transactional outbox (DESIGN.md §3).

Call ``emit`` inside the same ``in_transaction()`` block as the state change: both commit or
neither does.
"""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from core.models import OutboxEvent


async def emit(
    topic: str, payload: dict[str, Any], *, using_db: BaseDBAsyncClient | None = None
) -> OutboxEvent:
    """Record one event; ``using_db`` is the transaction's connection when there is one."""
    return await OutboxEvent.create(topic=topic, payload=payload, using_db=using_db)
