"""The payments context's scheduled work, run by the outbox worker (one instance at a time), and
its own event handlers.

* ``check_attempts``: attempts whose payer came back from the payment sheet a little while ago,
  or that have been open a few minutes without news, are asked about at their channel (the
  callback may be late, or never come); attempts past their life, or whose order ended, are
  closed at their channel; a close that finds one paid records the payment.
* ``lapse_orders``: open orders past their payment deadline lapse (``payment.order_lapsed``).
* ``remind``: open orders near their deadline are reminded once a day (``payment.reminder``).
* the daily ``reconcile_day``; refunds are followed by ``refunds.check_refunds``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q

from core.calendar import calendar_source
from core.clock import local_today
from core.db import in_transaction
from core.outbox import emit
from payments.channels import Channels
from payments.checkout import close_attempt
from payments.models import AttemptStatus, ChannelOrder, FeeOrder, OrderStatus
from payments.orders import Applied, apply_trade, end_order, order_payload
from payments.providers.base import ChannelUnavailable
from payments.reconciliation import reconcile
from payments.refunds import execute_refund

log = logging.getLogger("zhangban.payments")

#: after the payer came back from the sheet, ask this soon
AFTER_RETURN = timedelta(seconds=30)
#: an attempt with no news for this long is asked about
QUIET_FOR = timedelta(minutes=5)
#: and asked again no more often than this
ASK_EVERY = timedelta(minutes=5)
#: reminders start this many working days before the deadline
REMIND_WITHIN_WORKING_DAYS = 3
BATCH = 200


async def check_attempts(*, channels: Channels, now: datetime) -> dict[str, Any]:
    asked = recorded = closed = 0
    due = Q(status=AttemptStatus.open.value) & (
        Q(returned_at__lt=now - AFTER_RETURN, checked_at=None)
        | Q(created_at__lt=now - QUIET_FOR, checked_at=None)
        | Q(checked_at__lt=now - ASK_EVERY)
        | Q(expires_at__lt=now)
    )
    for attempt in await ChannelOrder.filter(due).order_by("id").limit(BATCH):
        channel = channels.get(attempt.channel)
        if channel is None:
            continue
        try:
            status = await channel.query(attempt.out_trade_no)
            asked += 1
            applied = await apply_trade(channel=attempt.channel, status=status, now=now)
            if applied is Applied.recorded:
                recorded += 1
            elif attempt.expires_at < now:
                if await close_attempt(channels, attempt, now=now) is None:
                    closed += 1
            else:
                await ChannelOrder.filter(id=attempt.id).update(checked_at=now)
        except ChannelUnavailable:
            log.warning("attempt not checked: channel unavailable", extra={"attempt": attempt.id})
    for attempt in await ChannelOrder.filter(status=AttemptStatus.closing.value).limit(BATCH):
        try:
            if await close_attempt(channels, attempt, now=now) is None:
                closed += 1
            else:
                recorded += 1
        except ChannelUnavailable:
            log.warning("attempt not closed: channel unavailable", extra={"attempt": attempt.id})
    return {"asked": asked, "recorded": recorded, "closed": closed}


async def lapse_orders(*, now: datetime) -> dict[str, Any]:
    """Open orders whose last day to pay has passed lapse; their attempts are closed by
    ``check_attempts`` (a payment arriving later is recorded and refunded)."""
    lapsed = 0
    today = local_today(now)
    for order in await FeeOrder.filter(status=OrderStatus.open.value, due_on__lt=today).limit(
        BATCH
    ):
        async with in_transaction() as conn:
            if await end_order(conn, order.reference, OrderStatus.lapsed, now=now) is not None:
                lapsed += 1
    return {"lapsed": lapsed}


async def remind(*, now: datetime) -> dict[str, Any]:
    """One reminder a day for each open order within a few working days of its deadline (the
    orchestrating context decides what the payer is told)."""
    today = local_today(now)
    calendar = await calendar_source.get()
    horizon = calendar.add_working_days(today, REMIND_WITHIN_WORKING_DAYS)
    sent = 0
    query = FeeOrder.filter(
        Q(status=OrderStatus.open.value)
        & Q(due_on__gte=today)
        & Q(due_on__lte=horizon)
        & (Q(reminded_on=None) | Q(reminded_on__lt=today))
    )
    for order in await query.limit(BATCH):
        async with in_transaction() as conn:
            moved = (
                await FeeOrder.filter(id=order.id, revision=order.revision)
                .using_db(conn)
                .update(reminded_on=today, revision=order.revision + 1)
            )
            if moved:
                await emit("payment.reminder", order_payload(order), using_db=conn)
                sent += 1
    return {"reminded": sent}


async def reconcile_day(*, channels: Channels, now: datetime, days_back: int = 1) -> dict:
    """Every channel's bill of the day before (China time); a channel whose bill is not ready
    is tried again at the next run."""
    day = local_today(now) - timedelta(days=days_back)
    results: dict[str, Any] = {"day": day.isoformat()}
    for name in channels.names():
        try:
            results[name] = await reconcile(channels=channels, channel_name=name, day=day, now=now)
        except ChannelUnavailable:
            results[name] = "unavailable"
    return results


async def on_refund_requested(
    payload: dict[str, Any], *, channels: Channels, now: datetime
) -> None:
    """Send a refund as soon as it is recorded (the job catches any the handler could not)."""
    await execute_refund(int(payload["refund_id"]), channels=channels, now=now)


async def on_order_ended(payload: dict[str, Any], *, channels: Channels, now: datetime) -> None:
    """Close the attempts of an order that ended (cancelled or lapsed) at their channels."""
    for attempt in await ChannelOrder.filter(
        order_id=int(payload["order_id"]), status=AttemptStatus.closing.value
    ):
        await close_attempt(channels, attempt, now=now)
