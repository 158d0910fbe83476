"""Tables of the shared kernel: the transactional outbox and the working-day calendar."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class OutboxEvent(Model):
    """An event written in the same transaction as the change that caused it.

    Workers claim pending rows whose ``available_at`` has come (``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL), hold them until ``locked_until``, and deliver them to every handler of the topic.
    ``done_handlers`` records the handlers that already succeeded, so a retry after a partial
    failure or a crash never runs a handler twice for the same event. After the last allowed
    attempt the event is ``dead`` until an administrator replays it.
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
    locked_by = fields.CharField(max_length=64, default="")
    locked_until = fields.DatetimeField(null=True)
    done_handlers: list[str] = fields.JSONField(default=list)
    dead_at = fields.DatetimeField(null=True)

    class Meta:
        table = "core_outbox_event"
        indexes = (("status", "available_at"),)


class CalendarOverride(Model):
    """An administrator's correction of the working-day calendar for one date: a holiday the
    package does not know yet, or a make-up working day (调休上班)."""

    id = fields.IntField(primary_key=True)
    day = fields.DateField(unique=True)
    is_workday = fields.BooleanField()
    note = fields.CharField(max_length=100, default="")
    created_by = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "core_calendar_override"
