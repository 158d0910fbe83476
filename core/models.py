"""Tables of the shared kernel: the transactional outbox."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class OutboxEvent(Model):
    """An event written in the same transaction as the change that caused it.

    Workers (a later issue) deliver pending events to their handlers with retries; until then the
    events accumulate here, already recorded, so nothing a change announced is ever lost.
    """

    id = fields.BigIntField(primary_key=True)
    topic = fields.CharField(max_length=64, db_index=True)
    payload: dict[str, Any] = fields.JSONField()
    status = fields.CharField(max_length=16, default="pending", db_index=True)
    attempts = fields.IntField(default=0)
    available_at = fields.DatetimeField(auto_now_add=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")

    class Meta:
        table = "core_outbox_event"
