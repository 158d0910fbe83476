"""Refunds: asked for by finance staff (full or partial, with a reason) or automatically (a
surplus payment), sent to the channel with a refund number that makes a repeat harmless,
followed by callbacks and queries until final, and never left "processing" in silence: one that
stays so too long is raised to the department's finance staff (``escalated_at`` and the
``payment.refund_stuck`` event).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import F

from core.db import in_transaction
from core.errors import Conflict
from core.outbox import emit
from payments.channels import Channels
from payments.errors import NotRefundable, RefundNotFound, RefundTooLarge
from payments.models import FeeOrder, OrderStatus, Payment, Refund, RefundStatus
from payments.orders import order_payload, refund_number
from payments.providers.base import (
    ChannelRefused,
    ChannelUnavailable,
    RefundRequest,
    RefundState,
)
from payments.providers.base import RefundStatus as ChannelRefundStatus

log = logging.getLogger("zhangban.payments")

#: A refund still processing after this long is raised to finance staff.
STUCK_AFTER = timedelta(hours=24)
#: How often a processing refund is asked about.
CHECK_EVERY = timedelta(minutes=10)
_LIVE = (RefundStatus.requested.value, RefundStatus.processing.value)


async def refundable_fen(payment: Payment) -> int:
    """What is left to refund of a payment: its amount less every refund not failed."""
    taken = sum(
        r.amount_fen
        for r in await Refund.filter(payment_id=payment.id).exclude(
            status=RefundStatus.failed.value
        )
    )
    return payment.amount_fen - taken


async def request_refund(
    *,
    order: FeeOrder,
    amount_fen: int,
    reason: str,
    requested_by: str,
    request_key: str | None,
    now: datetime,
) -> Refund:
    """A refund of the order's payment asked for by finance staff (the caller checked who).
    A request repeated with the same key is the same refund."""
    if request_key:
        earlier = await Refund.get_or_none(request_key=request_key)
        if earlier is not None:
            if (earlier.order_id, earlier.amount_fen, earlier.reason) != (
                order.id,
                amount_fen,
                reason,
            ):
                raise Conflict(
                    "同一个幂等键不能用于不同的请求内容。", code="request.idempotency_key_reused"
                )
            return earlier
    async with in_transaction() as conn:
        locked = await FeeOrder.select_for_update().using_db(conn).get(id=order.id)
        if locked.status != OrderStatus.paid.value or locked.payment_id is None:
            raise NotRefundable(details={"status": locked.status})
        payment = await Payment.get(id=locked.payment_id, using_db=conn)
        left = await refundable_fen(payment)
        if left <= 0:
            raise NotRefundable(details={"refundable_fen": 0})
        if amount_fen > left:
            raise RefundTooLarge(details={"refundable_fen": left})
        refund = await Refund.create(
            payment_id=payment.id,
            order_id=order.id,
            out_refund_no=refund_number(),
            amount_fen=amount_fen,
            reason=reason,
            requested_by=requested_by,
            request_key=request_key,
            created_at=now,
            using_db=conn,
        )
        await emit("payment.refund_requested", {"refund_id": refund.id}, using_db=conn)
    return refund


async def execute_refund(refund_id: int, *, channels: Channels, now: datetime) -> None:
    """Send a requested refund to its channel (repeat-safe: the refund number is fixed)."""
    refund = await Refund.get_or_none(id=refund_id)
    if refund is None or refund.status != RefundStatus.requested.value:
        return
    payment = await Payment.get(id=refund.payment_id)
    attempt = await payment.attempt
    channel = channels.get(payment.channel)
    if channel is None:
        raise ChannelUnavailable(details={"channel": payment.channel})
    request = RefundRequest(
        out_trade_no=attempt.out_trade_no,
        out_refund_no=refund.out_refund_no,
        refund_fen=refund.amount_fen,
        total_fen=payment.amount_fen,
        reason=refund.reason[:80],
        notify_url=channels.refund_url(payment.channel),
    )
    try:
        status = await channel.refund(request)
    except ChannelRefused as refused:
        log.error(
            "refund refused by the channel",
            extra={"refund_id": refund.id, "channel_code": refused.details.get("channel_code")},
        )
        await _settle(
            refund, RefundState.failed, None, str(refused.details.get("channel_code")), now
        )
        return
    await Refund.filter(id=refund.id, status=RefundStatus.requested.value).update(
        status=RefundStatus.processing.value, checked_at=now, refund_id=status.refund_id
    )
    await apply_refund_status(status, now=now)


async def apply_refund_status(
    status: ChannelRefundStatus, *, now: datetime, out_trade_no: str | None = None
) -> bool:
    """Record what a channel says of one of our refunds; False if it is not ours.

    A final word whose amount is not this refund's (Alipay's refund notification carries the
    trade's total refunded so far) settles nothing: the refund is asked about at the next run
    of ``check_refunds`` instead, whose answer names this refund alone."""
    refund = await Refund.get_or_none(out_refund_no=status.out_refund_no)
    if refund is None:
        log.warning("refund notification for an unknown refund")
        return False
    if out_trade_no is not None:
        # A notification names the trade too: it must be this refund's.
        payment = await Payment.get(id=refund.payment_id)
        attempt = await payment.attempt
        if attempt.out_trade_no != out_trade_no or attempt.channel != payment.channel:
            log.error("refund notification names another trade", extra={"refund_id": refund.id})
            return False
    if status.state is RefundState.processing:
        await Refund.filter(id=refund.id, status__in=_LIVE).update(
            status=RefundStatus.processing.value,
            refund_id=status.refund_id or refund.refund_id,
            channel_state=status.channel_state[:32],
            checked_at=now,
        )
        return True
    if status.amount_fen != refund.amount_fen:
        log.info("refund word without this refund's amount; asking", extra={"refund_id": refund.id})
        await Refund.filter(id=refund.id, status__in=_LIVE).update(checked_at=now - CHECK_EVERY)
        return True
    await _settle(refund, status.state, status, status.channel_state, now)
    return True


async def _settle(
    refund: Refund,
    state: RefundState,
    status: ChannelRefundStatus | None,
    channel_state: str,
    now: datetime,
) -> None:
    final = RefundStatus.succeeded if state is RefundState.succeeded else RefundStatus.failed
    async with in_transaction() as conn:
        moved = (
            await Refund.filter(id=refund.id, status__in=_LIVE)
            .using_db(conn)
            .update(
                status=final.value,
                refund_id=(status.refund_id if status else None) or refund.refund_id,
                channel_state=channel_state[:32],
                settled_at=(status.succeeded_at if status else None) or now,
                checked_at=now,
                escalated_at=None if final is RefundStatus.succeeded else now,
            )
        )
        if not moved:
            return  # settled before (a duplicate callback, or the query job got there first)
        order = await FeeOrder.get(id=refund.order_id, using_db=conn)
        payload = {
            **order_payload(order),
            "refund_id": refund.id,
            "refund_fen": refund.amount_fen,
            "reason": refund.reason,
            "automatic": refund.requested_by == "system",
        }
        if final is RefundStatus.succeeded:
            await (
                Payment.filter(id=refund.payment_id)
                .using_db(conn)
                .update(refunded_fen=F("refunded_fen") + refund.amount_fen)
            )
            await emit("payment.refunded", payload, using_db=conn)
        else:
            await emit("payment.refund_failed", payload, using_db=conn)


async def check_refunds(*, channels: Channels, now: datetime, limit: int = 100) -> dict[str, Any]:
    """Send requested refunds that no handler sent, ask about processing ones, and raise those
    processing too long."""
    sent = asked = raised = 0
    stale = now - timedelta(minutes=1)
    for refund in await Refund.filter(
        status=RefundStatus.requested.value, created_at__lt=stale
    ).limit(limit):
        try:
            await execute_refund(refund.id, channels=channels, now=now)
            sent += 1
        except ChannelUnavailable:
            log.warning("refund not sent: channel unavailable", extra={"refund_id": refund.id})
    for refund in await Refund.filter(
        status=RefundStatus.processing.value, checked_at__lt=now - CHECK_EVERY
    ).limit(limit):
        payment = await Payment.get(id=refund.payment_id)
        channel = channels.get(payment.channel)
        if channel is None:
            continue
        attempt = await payment.attempt
        try:
            status = await channel.query_refund(attempt.out_trade_no, refund.out_refund_no)
        except ChannelUnavailable:
            continue
        asked += 1
        await apply_refund_status(status, now=now)
    for refund in await Refund.filter(
        status__in=_LIVE, created_at__lt=now - STUCK_AFTER, escalated_at=None
    ).limit(limit):
        moved = await Refund.filter(id=refund.id, escalated_at=None).update(escalated_at=now)
        if moved:
            raised += 1
            order = await FeeOrder.get(id=refund.order_id)
            await emit(
                "payment.refund_stuck",
                {**order_payload(order), "refund_id": refund.id, "refund_fen": refund.amount_fen},
            )
    return {"sent": sent, "asked": asked, "raised": raised}


async def get_refund(refund_id: int) -> Refund:
    refund = await Refund.get_or_none(id=refund_id)
    if refund is None:
        raise RefundNotFound(details={"refund_id": refund_id})
    return refund
