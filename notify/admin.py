"""What administrators do with the send ledger: list what failed or is uncertain, replay it once
the cause is fixed, and see the alerts raised for message types that fail too often. And the
person's own switch: SMS off or on (退订).

Listings show the recipient's reference and the channel's answer, never an address: the ledger
is read to diagnose a channel, not to find people.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from tortoise.functions import Count

from core.db import in_transaction
from core.errors import Conflict, NotFound
from core.paging import PageRequest
from notify.models import Delivery, DeliveryAttempt, DeliveryStatus, FailureAlert, SmsOptOut

log = logging.getLogger("zhangban.notify")

Listed = Literal["failed", "uncertain", "queued", "sending", "sent", "skipped", "held"]
REPLAYABLE = (DeliveryStatus.failed.value, DeliveryStatus.uncertain.value)
#: The attempts shown with one delivery.
ATTEMPTS_SHOWN = 20


class DeliveryNotFound(NotFound):
    code = "notify.delivery_not_found"
    message = "找不到该条消息发送记录。"


class DeliveryNotReplayable(Conflict):
    code = "notify.delivery_not_replayable"
    message = "只有发送失败或结果不确定的消息可以重新发送。"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def delivery_view(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "kind": d.kind,
        "channel": d.channel,
        "recipient": d.recipient,
        "template": d.template,
        "status": d.status,
        "attempts": d.attempts,
        "last_code": d.last_code or None,
        "last_error": d.last_error or None,
        "failed_field": d.failed_field or None,
        "receipt": d.receipt or None,
        "event_at": _iso(d.event_at),
        "created_at": _iso(d.created_at),
        "sent_at": _iso(d.sent_at),
        "next_at": _iso(d.next_at),
        "updated_at": _iso(d.updated_at),
    }


async def list_deliveries(
    *, status: Listed, kind: str | None, page_request: PageRequest
) -> dict[str, Any]:
    qs = Delivery.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    page, next_cursor = await page_request.newest_first(
        qs, name="deliveries", scope=json.dumps([status, kind or ""])
    )
    return {"deliveries": [delivery_view(d) for d in page], "next_cursor": next_cursor}


async def get_delivery(*, delivery_id: int) -> dict[str, Any]:
    delivery = await Delivery.get_or_none(id=delivery_id)
    if delivery is None:
        raise DeliveryNotFound()
    attempts = (
        await DeliveryAttempt.filter(delivery_id=delivery_id).order_by("-id").limit(ATTEMPTS_SHOWN)
    )
    return {
        **delivery_view(delivery),
        "attempts_log": [
            {
                "at": _iso(a.at),
                "outcome": a.outcome,
                "code": a.code or None,
                "detail": a.detail or None,
                "duration_ms": a.duration_ms,
            }
            for a in attempts
        ],
    }


async def replay(*, delivery_id: int, actor: str, now: datetime) -> dict[str, Any]:
    """Queue a failed or uncertain message again with a fresh set of attempts (compare-and-set:
    a double tap replays once). An uncertain one may reach the person twice: the administrator
    decides that, knowing it."""
    moved = await Delivery.filter(id=delivery_id, status__in=REPLAYABLE).update(
        status=DeliveryStatus.queued.value,
        attempts=0,
        next_at=now,
        locked_by="",
        locked_until=None,
        updated_at=now,
    )
    if not moved:
        delivery = await Delivery.get_or_none(id=delivery_id)
        if delivery is None:
            raise DeliveryNotFound()
        raise DeliveryNotReplayable(details={"status": delivery.status})
    log.info("notify delivery replayed", extra={"delivery_id": delivery_id, "actor": actor})
    return await get_delivery(delivery_id=delivery_id)


async def raise_alerts(*, threshold: int, now: datetime) -> int:
    """Message types with ``threshold`` or more failures in the last hour: one alert per type
    and hour, logged as an error (the operators' alerting reads the log) and listed."""
    since = now - timedelta(hours=1)
    counted = (
        await Delivery.filter(status=DeliveryStatus.failed.value, updated_at__gte=since)
        .annotate(failures=Count("id"))
        .group_by("kind")
        .values("kind", "failures")
    )
    hour = now.astimezone(UTC).strftime("%Y-%m-%dT%H")
    raised = 0
    for row in counted:
        if int(row["failures"]) < threshold:
            continue
        causes = (
            await Delivery.filter(
                status=DeliveryStatus.failed.value, updated_at__gte=since, kind=row["kind"]
            )
            .annotate(n=Count("id"))
            .group_by("template", "last_code", "failed_field")
            .values("template", "last_code", "failed_field", "n")
        )
        if await FailureAlert.filter(kind=row["kind"], hour=hour).exists():
            continue
        async with in_transaction() as conn:
            await FailureAlert.bulk_create(
                [
                    FailureAlert(
                        kind=row["kind"],
                        hour=hour,
                        failures=int(row["failures"]),
                        details={"causes": [dict(c) for c in causes]},
                        raised_at=now,
                    )
                ],
                ignore_conflicts=True,
                using_db=conn,
            )
        raised += 1
        log.error(
            "notify message type failing",
            extra={"kind": row["kind"], "failures": row["failures"], "causes": causes},
        )
    return raised


async def list_alerts(*, page_request: PageRequest) -> dict[str, Any]:
    page, next_cursor = await page_request.newest_first(
        FailureAlert.all(), name="notify_alerts", scope=""
    )
    return {
        "alerts": [
            {
                "id": a.id,
                "kind": a.kind,
                "hour": a.hour,
                "failures": a.failures,
                "details": a.details,
                "raised_at": _iso(a.raised_at),
            }
            for a in page
        ],
        "next_cursor": next_cursor,
    }


async def set_sms(*, recipient: str, enabled: bool, now: datetime) -> dict[str, Any]:
    """The person's SMS switch; idempotent."""
    if enabled:
        await SmsOptOut.filter(recipient=recipient).delete()
    else:
        await SmsOptOut.bulk_create([SmsOptOut(recipient=recipient, at=now)], ignore_conflicts=True)
    return await preferences(recipient=recipient)


async def preferences(*, recipient: str) -> dict[str, Any]:
    return {"sms": not await SmsOptOut.filter(recipient=recipient).exists()}
