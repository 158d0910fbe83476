"""Fee orders: opened by the orchestrating context, paid through a channel, recorded exactly
once whatever the channel sends and however often.

How "exactly once" holds:

* one open order per reference: ``FeeOrder.open_reference`` is unique and is set only while the
  order is open;
* one attempt at a time: before a payment starts at a channel, every other open attempt of the
  order is closed at its channel (a close that finds the attempt paid records that payment
  instead, and the new payment is refused);
* one payment per channel transaction: ``Payment`` is unique on (channel, transaction id), and
  a payment is recorded under a row lock of its order (``SELECT … FOR UPDATE`` on PostgreSQL;
  SQLite's writes are serial), so ten copies of a callback from ten workers record it once;
* a payment that finds its order no longer open (paid through the other channel, lapsed,
  cancelled) is recorded all the same, as ``surplus``, and refunded automatically: money is
  never dropped, and the payer is told why.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from core.clock import local_today
from core.db import in_transaction
from core.outbox import emit
from payments.errors import OrderAlreadyOpen, OrderNotFound, OrderNotOpen
from payments.models import (
    AttemptStatus,
    ChannelOrder,
    Disposition,
    FeeOrder,
    OrderStatus,
    Payment,
    Refund,
)
from payments.providers.base import TradeState, TradeStatus
from payments.queries import attempt_and_payment

log = logging.getLogger("zhangban.payments")

#: Why a surplus payment is refunded, by the state its order was in (shown to the payer).
SURPLUS_REASONS = {
    OrderStatus.paid.value: "该费用已通过其他支付方式缴纳，本笔重复缴费已原路退回。",
    OrderStatus.lapsed.value: "缴费期限已过，本笔缴费已原路退回。",
    OrderStatus.cancelled.value: "申请已撤回，本笔缴费已原路退回。",
}


@dataclass(frozen=True)
class OrderLine:
    """One line of a fee: ``quantity`` units at ``unit_fen`` each."""

    name: str
    unit_fen: int
    quantity: int = 1
    unit: str = ""

    @property
    def amount_fen(self) -> int:
        return self.unit_fen * self.quantity

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit_fen": self.unit_fen,
            "quantity": self.quantity,
            "unit": self.unit,
            "amount_fen": self.amount_fen,
        }


@dataclass(frozen=True)
class NewOrder:
    reference: str
    title: str
    lines: tuple[OrderLine, ...]
    payee_department_code: str
    payee_department_name: str
    payer_name: str
    due_on: date
    payer_user_id: int | None = None
    payer_company_id: int | None = None

    @property
    def amount_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)


def _notice_number(today: date) -> str:
    """缴款通知书编号: the day and ten random digits (unique in the table; a clash, one in ten
    billion a day, fails the insert rather than sharing a number)."""
    return f"JK{today:%Y%m%d}{secrets.randbelow(10**10):010d}"


async def open_order(conn: BaseDBAsyncClient, new: NewOrder, *, now: datetime) -> FeeOrder:
    """Open a fee order on the caller's transaction. ``OrderAlreadyOpen`` if ``reference`` has
    one open."""
    if new.amount_fen < 1:
        raise ValueError("a fee order needs a positive amount")
    if await FeeOrder.filter(open_reference=new.reference).using_db(conn).exists():
        raise OrderAlreadyOpen(details={"reference": new.reference})
    order = await FeeOrder.create(
        notice_number=_notice_number(local_today(now)),
        reference=new.reference,
        open_reference=new.reference,
        title=new.title[:128],
        lines=[line.as_dict() for line in new.lines],
        amount_fen=new.amount_fen,
        payee_department_code=new.payee_department_code,
        payee_department_name=new.payee_department_name,
        payer_user_id=new.payer_user_id,
        payer_company_id=new.payer_company_id,
        payer_name=new.payer_name[:100],
        due_on=new.due_on,
        opened_at=now,
        using_db=conn,
    )
    await emit("payment.order_opened", order_payload(order), using_db=conn)
    return order


def order_payload(order: FeeOrder) -> dict[str, Any]:
    """What every payment event carries about its order."""
    return {
        "order_id": order.id,
        "reference": order.reference,
        "notice_number": order.notice_number,
        "amount_fen": order.amount_fen,
        "department": order.payee_department_code,
        "due_on": order.due_on.isoformat(),
    }


async def end_order(
    conn: BaseDBAsyncClient, reference: str, status: OrderStatus, *, now: datetime
) -> FeeOrder | None:
    """End the open order of ``reference`` (``cancelled`` or ``lapsed``) on the caller's
    transaction, as a compare-and-set; its open attempts are closed at their channels by the
    worker. ``None`` if it has no open order (paid in the meantime, or never had one)."""
    if status not in (OrderStatus.cancelled, OrderStatus.lapsed):
        raise ValueError("an order ends cancelled or lapsed")
    order = await FeeOrder.get_or_none(open_reference=reference, using_db=conn)
    if order is None:
        return None
    moved = (
        await FeeOrder.filter(id=order.id, status=OrderStatus.open.value)
        .using_db(conn)
        .update(status=status.value, open_reference=None, ended_at=now, revision=order.revision + 1)
    )
    if not moved:
        return None
    await (
        ChannelOrder.filter(order_id=order.id, status=AttemptStatus.open.value)
        .using_db(conn)
        .update(status=AttemptStatus.closing.value)
    )
    order.status = status.value
    order.ended_at = now
    await emit(f"payment.order_{status.value}", order_payload(order), using_db=conn)
    return order


async def order_of(reference: str) -> FeeOrder | None:
    """The reference's latest order (open, or the last one that ended)."""
    return await FeeOrder.filter(reference=reference).order_by("-id").first()


async def get_order(order_id: int) -> FeeOrder:
    order = await FeeOrder.get_or_none(id=order_id)
    if order is None:
        raise OrderNotFound(details={"order_id": order_id})
    return order


def require_open(order: FeeOrder, today: date) -> None:
    if order.status != OrderStatus.open.value or order.due_on < today:
        raise OrderNotOpen(details={"status": order.status, "due_on": order.due_on.isoformat()})


class Applied(StrEnum):
    """What recording a channel's word did."""

    recorded = "recorded"  # a new payment (applied or surplus)
    duplicate = "duplicate"  # this transaction was recorded before: nothing changed
    not_paid = "not_paid"  # the channel does not say paid: nothing to record
    unknown_order = "unknown_order"  # no attempt of ours has that number
    amount_mismatch = "amount_mismatch"  # paid, but not the amount we asked for
    #: a transaction id already recorded for another attempt: not this attempt's payment
    foreign = "foreign"

    @property
    def processed(self) -> bool:
        """Whether the platform may stop telling us (its resends end)."""
        return self in (Applied.recorded, Applied.duplicate, Applied.not_paid)


def _receipt_number(today: date) -> str:
    return f"PJ{today:%Y%m%d}{secrets.randbelow(10**10):010d}"


def _verification_code() -> str:
    """Eight characters a person can type from a printed receipt (no 0/O, 1/I)."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(8))


async def apply_trade(*, channel: str, status: TradeStatus, now: datetime) -> Applied:
    """Record what a channel says of one of our attempts (a callback, or a query's answer).

    The amount is compared with what we asked for before anything is written; the payment is
    recorded once per channel transaction, under a lock of its order."""
    found = await attempt_and_payment(channel, status.out_trade_no, status.transaction_id or "")
    if found is None:
        log.warning("payment for an unknown attempt", extra={"channel": channel})
        return Applied.unknown_order
    if status.state is not TradeState.paid or not status.transaction_id:
        return Applied.not_paid
    if status.amount_fen != found["amount_fen"]:
        log.error(
            "paid amount differs from the attempt's",
            extra={"attempt_id": found["id"], "paid_fen": status.amount_fen},
        )
        return Applied.amount_mismatch
    # Most copies of a callback arrive after the first was recorded: answered by that one read,
    # without a transaction or a lock.
    if found["payment_id"] is not None:
        if found["payment_attempt_id"] == found["id"]:
            return Applied.duplicate
        log.error("a transaction id of another attempt", extra={"attempt_id": found["id"]})
        return Applied.foreign
    attempt_id, order_id = int(found["id"]), int(found["order_id"])
    try:
        async with in_transaction() as conn:
            return await _record(conn, attempt_id, order_id, channel, status, now)
    except IntegrityError:
        # The same transaction recorded by a concurrent delivery between our check and insert.
        raced = await Payment.filter(channel=channel, transaction_id=status.transaction_id).first()
        if raced is None:
            raise
        return Applied.duplicate if raced.attempt_id == attempt_id else Applied.foreign


async def _record(
    conn: BaseDBAsyncClient,
    attempt_id: int,
    order_id: int,
    channel: str,
    status: TradeStatus,
    now: datetime,
) -> Applied:
    order = await FeeOrder.select_for_update().using_db(conn).get(id=order_id)
    transaction_id = status.transaction_id or ""
    # A copy that raced past the check before the lock meets the unique (channel, transaction
    # id) on insert: its IntegrityError is answered by ``apply_trade``.
    today = local_today(now)
    applies = order.status == OrderStatus.open.value
    payment = await Payment.create(
        order_id=order.id,
        attempt_id=attempt_id,
        channel=channel,
        transaction_id=transaction_id,
        amount_fen=status.amount_fen,
        paid_at=status.paid_at or now,
        recorded_at=now,
        disposition=(Disposition.applied if applies else Disposition.surplus).value,
        disposition_reason="" if applies else SURPLUS_REASONS[order.status],
        receipt_number=_receipt_number(today),
        verification_code=_verification_code(),
        fiscal_receipt=status.fiscal_receipt,
        using_db=conn,
    )
    await (
        ChannelOrder.filter(id=attempt_id)
        .using_db(conn)
        .update(status=AttemptStatus.paid.value, ended_at=now, checked_at=now)
    )
    payload = {
        **order_payload(order),
        "payment_id": payment.id,
        "channel": channel,
        "paid_fen": payment.amount_fen,
        "receipt_number": payment.receipt_number,
    }
    if applies:
        await (
            FeeOrder.filter(id=order.id, status=OrderStatus.open.value)
            .using_db(conn)
            .update(
                status=OrderStatus.paid.value,
                open_reference=None,
                paid_at=payment.paid_at,
                payment_id=payment.id,
                revision=order.revision + 1,
            )
        )
        # Any other attempt still open is closed at its channel (it can no longer be paid).
        await (
            ChannelOrder.filter(order_id=order.id, status=AttemptStatus.open.value)
            .using_db(conn)
            .update(status=AttemptStatus.closing.value)
        )
        await emit("payment.paid", payload, using_db=conn)
        log.info("payment recorded", extra={"order_id": order.id, "payment_id": payment.id})
        return Applied.recorded
    refund = await Refund.create(
        payment_id=payment.id,
        order_id=order.id,
        out_refund_no=refund_number(),
        amount_fen=payment.amount_fen,
        reason=payment.disposition_reason,
        requested_by="system",
        created_at=now,
        using_db=conn,
    )
    await emit(
        "payment.surplus",
        {**payload, "refund_id": refund.id, "reason": payment.disposition_reason},
        using_db=conn,
    )
    await emit("payment.refund_requested", {"refund_id": refund.id}, using_db=conn)
    log.warning(
        "surplus payment recorded; refunding",
        extra={"order_id": order.id, "payment_id": payment.id, "order_status": order.status},
    )
    return Applied.recorded


def refund_number() -> str:
    return f"RF{secrets.token_hex(12)}"


def attempt_number(order: FeeOrder, channel: str) -> str:
    """A new ``out_trade_no`` for one attempt: the order id and a random tail (at most 32 of
    ``[0-9A-Za-z]``, which both platforms accept)."""
    return f"ZB{order.id}{channel[:1].upper()}{secrets.token_hex(6)}"[:32]


#: An attempt's payment sheet lives this long at the channel (WeChat's prepay_id lives 2 h).
ATTEMPT_TTL = timedelta(minutes=30)
