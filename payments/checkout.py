"""Starting a payment: the payer picks a channel, the channel's payment sheet is signed for the
payer's client, and any other open attempt of the order is closed at its channel first.

A retried tap (a poor connection) gets the same sheet back while it is valid, rather than a
second order at the channel; two taps at the same moment are serialised by a short Redis lock on
the order, and the loser is told to try again in a moment.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from core.clock import local_today
from core.locks import RedisLock
from payments.channels import Channels
from payments.errors import OrderNotOpen, PaymentStarting, channel_not_enabled
from payments.models import AttemptStatus, ChannelOrder, FeeOrder
from payments.orders import ATTEMPT_TTL, Applied, apply_trade, attempt_number, require_open
from payments.providers.base import (
    AlreadyPaid,
    ChannelUnavailable,
    ChargeMode,
    ChargeRequest,
    PaymentChannel,
)

log = logging.getLogger("zhangban.payments")

LOCK_TTL_MS = 30_000
#: a sheet this close to its end is not handed out again: the payer would not finish in time
REUSE_MARGIN_S = 120


@dataclass(frozen=True)
class Checkout:
    """What the payer's client needs, and which attempt it is."""

    channel: str
    mode: ChargeMode
    out_trade_no: str
    expires_at: datetime
    client: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "mode": self.mode.value,
            "out_trade_no": self.out_trade_no,
            "expires_at": self.expires_at.isoformat(),
            "client": self.client,
        }


async def close_attempt(
    channels: Channels, attempt: ChannelOrder, *, now: datetime
) -> Applied | None:
    """Close one attempt at its channel. If the channel says it was paid, record that payment
    (``Applied``) instead; ``None`` when it is closed. ``ChannelUnavailable`` leaves it as it
    was, to be tried again."""
    channel = channels.get(attempt.channel)
    if channel is None:  # a channel switched off since: nothing can be done there from here
        log.error("attempt of a disabled channel left open", extra={"attempt_id": attempt.id})
        return None
    try:
        await channel.close(attempt.out_trade_no)
    except AlreadyPaid:
        status = await channel.query(attempt.out_trade_no)
        return await apply_trade(channel=attempt.channel, status=status, now=now)
    await ChannelOrder.filter(
        id=attempt.id, status__in=[AttemptStatus.open.value, AttemptStatus.closing.value]
    ).update(status=AttemptStatus.closed.value, ended_at=now, checked_at=now)
    return None


async def start_payment(
    *,
    order: FeeOrder,
    channel_name: str,
    mode: ChargeMode,
    payer_id: str | None,
    channels: Channels,
    redis: Redis,
    now: datetime,
) -> Checkout:
    """The payment sheet for ``order`` at ``channel_name``. The caller has checked that the
    subject may pay the order."""
    channel = channels.get(channel_name)
    if channel is None:
        raise channel_not_enabled(channel_name)
    lock = RedisLock(redis, f"payments:checkout:{order.id}", ttl_ms=LOCK_TTL_MS)
    if not await lock.acquire():
        raise PaymentStarting()
    try:
        return await _start(order, channel, mode, payer_id, channels, now)
    finally:
        await lock.release()


async def _start(
    order: FeeOrder,
    channel: PaymentChannel,
    mode: ChargeMode,
    payer_id: str | None,
    channels: Channels,
    now: datetime,
) -> Checkout:
    await order.refresh_from_db()
    require_open(order, local_today(now))
    open_attempts = await ChannelOrder.filter(
        order_id=order.id, status=AttemptStatus.open.value
    ).order_by("id")
    for attempt in open_attempts:
        reusable = (
            attempt.channel == channel.name
            and attempt.mode == mode.value
            and attempt.amount_fen == order.amount_fen
            and (attempt.expires_at - now).total_seconds() > REUSE_MARGIN_S
            # No sheet kept: the start that made it was cut off (the phone hung up mid-call).
            # Such an attempt is closed below like a stale one, never handed out empty.
            and bool(attempt.client)
        )
        if reusable:
            return _checkout(attempt)
    for attempt in open_attempts:
        # Another channel (or a stale sheet): closed first, so that one order is never payable
        # at two channels at once. Paid there meanwhile: recorded, and this start refused.
        if await close_attempt(channels, attempt, now=now) is not None:
            await order.refresh_from_db()
            raise OrderNotOpen(details={"status": order.status})
    expires_at = now + ATTEMPT_TTL
    attempt = await ChannelOrder.create(
        order_id=order.id,
        channel=channel.name,
        mode=mode.value,
        out_trade_no=attempt_number(order, channel.name),
        amount_fen=order.amount_fen,
        status=AttemptStatus.open.value,
        created_at=now,
        expires_at=expires_at,
    )
    request = ChargeRequest(
        out_trade_no=attempt.out_trade_no,
        amount_fen=order.amount_fen,
        description=order.title[:127],
        expires_at=expires_at,
        mode=mode,
        notify_url=channels.payment_url(channel.name),
        payer_id=payer_id,
    )
    try:
        charge = await channel.charge(request)
    except (ChannelUnavailable, asyncio.CancelledError):
        # The order may or may not exist at the channel (unreached, or the phone hung up and
        # the request was cancelled mid-call): closed there by the worker.
        await asyncio.shield(
            ChannelOrder.filter(id=attempt.id).update(status=AttemptStatus.closing.value)
        )
        raise
    except Exception:
        await ChannelOrder.filter(id=attempt.id).update(
            status=AttemptStatus.closed.value, ended_at=now
        )
        raise
    attempt.client = charge.client
    await ChannelOrder.filter(id=attempt.id).update(client=charge.client)
    return _checkout(attempt)


def _checkout(attempt: ChannelOrder) -> Checkout:
    return Checkout(
        channel=attempt.channel,
        mode=ChargeMode(attempt.mode),
        out_trade_no=attempt.out_trade_no,
        expires_at=attempt.expires_at,
        client=dict(attempt.client),
    )


#: How long the payer's return waits for the channel's answer before leaving it to the worker.
ASK_ON_RETURN_S = 3.0
#: One query of an attempt per this many seconds, however often the phone says it is back: a
#: platform limits a merchant's queries, and one citizen must not get the department throttled.
ASK_ON_RETURN_EVERY_S = 5


async def note_return(
    *, order: FeeOrder, out_trade_no: str, channels: Channels, redis: Redis, now: datetime
) -> None:
    """The payer's client came back from the payment sheet: ask the channel now (查单), briefly,
    so the phone's next screen says paid or not without waiting for the callback; if the channel
    is slow or away, the worker asks it soon instead (``jobs.check_attempts``)."""
    attempt = await ChannelOrder.get_or_none(
        order_id=order.id, out_trade_no=out_trade_no, status=AttemptStatus.open.value
    )
    if attempt is None:
        return
    await ChannelOrder.filter(id=attempt.id).update(returned_at=now)
    channel = channels.get(attempt.channel)
    if channel is None:
        return
    asked = await redis.set(
        f"payments:return-ask:{attempt.id}", "1", nx=True, ex=ASK_ON_RETURN_EVERY_S
    )
    if not asked:
        return  # asked a moment ago (or being asked): the answer is the notice as it stands
    try:
        status = await asyncio.wait_for(channel.query(out_trade_no), ASK_ON_RETURN_S)
        if (
            await apply_trade(channel=attempt.channel, status=status, now=now)
            is not Applied.recorded
        ):
            # Asked now: the worker's check of a returned attempt would only repeat the query.
            await ChannelOrder.filter(id=attempt.id).update(checked_at=now)
    except (ChannelUnavailable, TimeoutError):
        log.info("payment return: channel not asked now", extra={"attempt": attempt.id})
