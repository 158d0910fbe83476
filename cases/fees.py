"""A case's fee: the order opened when a granted case reaches fee due, paying it, its receipts,
refunds by finance staff, and what the case does when payments tell it something.

``payments/`` knows fee orders and channels, not cases: this module is where the two meet. It
opens the order on the transaction that moves the case to ``fee_due`` (the notice number is on
the timeline from the first moment), checks who may pay, see, or refund (``auth.permissions``, the
one rule), and reacts to the events of payments (``on_*``, registered in ``api.wiring``): paid
moves the case on, a lapsed order lapses the case, a surplus payment or a refund is a timeline
line the applicant reads.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Subquery

from auth.identifiers import check_uscc
from auth.models import Company, User
from auth.permissions import Action, Subject, departments, require, require_staff
from cases.errors import CaseNotFound, InvalidTransition
from cases.kernel import SYSTEM, find_case, load_for, note, owned, transition
from cases.models import Case, CaseEvent
from cases.states import CaseStatus
from catalog.models import Department
from catalog.schemas import Guide
from core.calendar import calendar_source
from core.clock import local_today, utcnow
from core.db import in_transaction
from core.errors import Conflict, NotFound, ValidationFailed, field_error
from core.paging import PageRequest
from payments import orders, receipt_pdf, reconciliation, refunds, views
from payments.channels import Channels
from payments.checkout import Checkout, note_return, start_payment
from payments.models import Discrepancy, FeeOrder, OrderStatus, Payment, Refund
from payments.money import figures
from payments.orders import NewOrder, OrderLine
from payments.providers.base import ChargeMode

log = logging.getLogger(__name__)


class FeeOrderNotFound(NotFound):
    code = "cases.fee_order_not_found"
    message = "该办件没有缴费订单。"


class FeeAlreadyPaid(Conflict):
    code = "cases.fee_already_paid"
    message = "费用已缴纳，办件正在办理，无法撤回。如需退费请联系办理部门。"


class ModeNotSupported(ValidationFailed):
    def __init__(self) -> None:
        super().__init__(
            [field_error("mode", "该支付方式不支持在本机支付，请选择扫码支付。", "not_supported")]
        )


def reference_of(case_id: int) -> str:
    return f"case:{case_id}"


def case_id_of(reference: str) -> int | None:
    kind, _, number = reference.partition(":")
    return int(number) if kind == "case" and number.isdigit() else None


# --------------------------------------------------------------------------------------------
# Opening the order (on the transaction that moves the case to fee due)
# --------------------------------------------------------------------------------------------


async def _payer_name(case: Case) -> str:
    if case.company_id is not None:
        company = await Company.get_or_none(id=case.company_id)
        return company.name if company else case.applicant_display
    user = await User.get_or_none(id=case.applicant_user_id)
    return (user.real_name if user else "") or case.applicant_display


async def open_fee_order(
    conn: BaseDBAsyncClient, case: Case, guide: Guide, *, now: datetime
) -> FeeOrder:
    """The fee notice of a granted case, from its item version's fee: a fixed amount, or an
    amount per unit counted by a form field; payable for the item's number of working days."""
    fee = guide.fee
    quantity = 1
    if fee.unit_field:
        value = case.form_data.get(fee.unit_field)
        quantity = value if isinstance(value, int) and not isinstance(value, bool) else 1
    calendar = await calendar_source.get()
    department = await Department.get_or_none(code=case.lead_department_code)
    new = NewOrder(
        reference=reference_of(case.id),
        title=case.item_name,
        lines=(
            OrderLine(
                name=fee.description or case.item_name,
                unit_fen=fee.amount_fen,
                quantity=max(1, quantity),
                unit=fee.unit,
            ),
        ),
        payee_department_code=case.lead_department_code,
        payee_department_name=department.name if department else case.lead_department_code,
        payer_user_id=case.applicant_user_id,
        payer_company_id=case.company_id,
        payer_name=await _payer_name(case),
        due_on=calendar.add_working_days(local_today(now), fee.payment_working_days),
    )
    order = await orders.open_order(conn, new, now=now)
    await Case.filter(id=case.id).using_db(conn).update(fee_fen=order.amount_fen)
    case.fee_fen = order.amount_fen
    await note(
        conn,
        case,
        "fee_order_opened",
        SYSTEM,
        comment=f"请于 {order.due_on.isoformat()} 前缴纳费用 ¥{figures(order.amount_fen)}。",
        details={
            "notice_number": order.notice_number,
            "amount_fen": order.amount_fen,
            "due_on": order.due_on.isoformat(),
        },
        now=now,
    )
    return order


async def cancel_fee_order(conn: BaseDBAsyncClient, case: Case, *, now: datetime) -> None:
    """On withdrawal while the fee is due: the order ends on the same transaction. A fee paid
    in the meantime refuses the withdrawal (the case is moving on; a refund is finance's)."""
    if case.status != CaseStatus.fee_due.value:
        return
    ended = await orders.end_order(conn, reference_of(case.id), OrderStatus.cancelled, now=now)
    if ended is None:
        latest = await FeeOrder.filter(reference=reference_of(case.id)).using_db(conn).first()
        if latest is not None and latest.status == OrderStatus.paid.value:
            raise FeeAlreadyPaid()


# --------------------------------------------------------------------------------------------
# The payer
# --------------------------------------------------------------------------------------------


async def _order_for(case: Case) -> FeeOrder:
    order = await orders.order_of(reference_of(case.id))
    if order is None:
        raise FeeOrderNotFound(details={"case_id": case.id})
    return order


async def fee_of(*, subject: Subject, case_id: int, now: datetime) -> dict[str, Any]:
    """The case's fee order as its applicant side or its handlers see it."""
    case = await load_for(subject, Action.view, case_id, now=now)
    order = await _order_for(case)
    return {"case_id": case.id, **(await views.order_view(order))}


async def pay(
    *,
    subject: Subject,
    case_id: int,
    channel: str,
    mode: ChargeMode,
    receipt_title: str | None,
    tax_number: str | None,
    channels: Channels,
    redis: Redis,
    now: datetime,
) -> Checkout:
    """Start paying the case's fee at ``channel``: whoever may pay for the case (the applicant,
    a company's representative or an agent with the pay scope, a family mandate's agent)."""
    case = await load_for(subject, Action.pay, case_id, now=now)
    if case.status != CaseStatus.fee_due.value:
        raise InvalidTransition(
            details={"case_id": case.id, "current_status": case.status, "action": "pay"}
        )
    order = await _order_for(case)
    payer_id: str | None = None
    if mode is ChargeMode.in_app:
        if channel != "wechatpay":
            raise ModeNotSupported()
        user = await User.get_or_none(id=subject.id)
        payer_id = user.openid if user else None
    await _set_receipt_title(order, receipt_title, tax_number)
    return await start_payment(
        order=order,
        channel_name=channel,
        mode=mode,
        payer_id=payer_id,
        channels=channels,
        redis=redis,
        now=now,
    )


async def _set_receipt_title(order: FeeOrder, title: str | None, tax_number: str | None) -> None:
    """What the payer wants on the receipt; a field not sent is left as it was."""
    changes: dict[str, str] = {}
    if title is not None:
        changes["receipt_title"] = title.strip()[:100]
    if tax_number is not None:
        try:
            changes["receipt_tax_number"] = check_uscc(tax_number)  # a company's tax number
        except ValidationFailed as invalid:
            fields = [{**f, "field": "tax_number"} for f in invalid.details.get("fields", [])]
            raise ValidationFailed(fields) from None
    if changes:
        await FeeOrder.filter(id=order.id, status=OrderStatus.open.value).update(**changes)


async def returned(
    *,
    subject: Subject,
    case_id: int,
    out_trade_no: str,
    channels: Channels,
    redis: Redis,
    now: datetime,
) -> dict[str, Any]:
    """The payer's client is back from the payment sheet: the channel is asked (briefly), and
    the answer is the fee notice as it stands after that, so the phone shows paid or not
    without polling."""
    case = await load_for(subject, Action.pay, case_id, now=now)
    order = await _order_for(case)
    await note_return(
        order=order, out_trade_no=out_trade_no, channels=channels, redis=redis, now=now
    )
    await order.refresh_from_db()
    return {"case_id": case.id, **(await views.order_view(order))}


async def _payment_of_case(
    subject: Subject, case_id: int, payment_id: int, now: datetime
) -> Payment:
    case = await load_for(subject, Action.view, case_id, now=now)
    payment = await Payment.get_or_none(id=payment_id)
    if payment is None:
        raise NotFound("找不到该缴费记录。", code="cases.payment_not_found")
    order = await FeeOrder.get(id=payment.order_id)
    if order.reference != reference_of(case.id):
        raise NotFound("找不到该缴费记录。", code="cases.payment_not_found")
    return payment


async def receipt(*, subject: Subject, case_id: int, payment_id: int, now: datetime) -> dict:
    payment = await _payment_of_case(subject, case_id, payment_id, now)
    return await views.receipt_data(payment)


async def receipt_pdf_bytes(
    *, subject: Subject, case_id: int, payment_id: int, now: datetime
) -> bytes:
    payment = await _payment_of_case(subject, case_id, payment_id, now)
    data = await views.receipt_data(payment)
    return await asyncio.to_thread(receipt_pdf.render, data)


# --------------------------------------------------------------------------------------------
# Finance staff
# --------------------------------------------------------------------------------------------


def _department_scope(subject: Subject, department: str | None) -> str:
    code = department or subject.department_code or ""
    require_staff(subject, Action.finance, departments(code))
    return code


def _order_row(o: FeeOrder) -> dict[str, Any]:
    return {
        "id": o.id,
        "case_id": case_id_of(o.reference),
        "notice_number": o.notice_number,
        "title": o.title,
        "amount_fen": o.amount_fen,
        "status": o.status,
        "status_label": views.ORDER_LABELS[o.status],
        "due_on": o.due_on.isoformat(),
        "paid_at": o.paid_at.isoformat() if o.paid_at else None,
    }


async def department_orders(
    *, subject: Subject, department: str | None, status: str | None, page_request: PageRequest
) -> dict[str, Any]:
    """A department's fee orders, newest first (finance staff)."""
    code = _department_scope(subject, department)
    query = FeeOrder.filter(payee_department_code=code)
    if status:
        query = query.filter(status=status)
    page, next_cursor = await page_request.newest_first(
        query, name="fee_orders", scope=f"s:{subject.id}|{code}|{status or ''}"
    )
    return {"department": code, "items": [_order_row(o) for o in page], "next_cursor": next_cursor}


async def refund_case_fee(
    *,
    subject: Subject,
    case_id: int,
    amount_fen: int,
    reason: str,
    request_key: str | None,
    now: datetime,
) -> dict[str, Any]:
    """A refund of a case's paid fee, in full or in part, by finance staff of the payee (lead)
    department, with the reason the applicant will read. Who may is asked of the case before
    anything about its fee is read, so a refusal does not tell whether the case has a fee."""
    case = await find_case(case_id=case_id)
    if case is None:
        raise CaseNotFound(details={"case_id": case_id})
    target = owned(case, departments=(case.lead_department_code,))
    await require(subject, Action.finance, target, today=local_today(now))
    order = await orders.order_of(reference_of(case_id))
    if order is None:
        raise FeeOrderNotFound(details={"case_id": case_id})
    refund = await refunds.request_refund(
        order=order,
        amount_fen=amount_fen,
        reason=reason,
        requested_by=f"s:{subject.id}",
        request_key=request_key,
        now=now,
    )
    return views.refund_view(refund)


async def department_refunds(
    *, subject: Subject, department: str | None, attention: bool, page_request: PageRequest
) -> dict[str, Any]:
    """A department's refunds, newest first; ``attention``: only those raised to finance staff
    (processing too long, or failed)."""
    code = _department_scope(subject, department)
    orders_of_department = FeeOrder.filter(payee_department_code=code).values("id")
    query = Refund.filter(order_id__in=Subquery(orders_of_department))
    if attention:
        query = query.filter(
            escalated_at__not_isnull=True, status__in=("processing", "requested", "failed")
        )
    page, next_cursor = await page_request.newest_first(
        query, name="refunds", scope=f"s:{subject.id}|{code}|{int(attention)}"
    )
    items = [views.refund_view(r) for r in page]
    return {"department": code, "items": items, "next_cursor": next_cursor}


async def department_discrepancies(
    *, subject: Subject, department: str | None, open_only: bool, page_request: PageRequest
) -> dict[str, Any]:
    """The reconciliation differences of a department's orders (finance staff)."""
    code = _department_scope(subject, department)
    query = Discrepancy.filter(department_code=code)
    if open_only:
        query = query.filter(resolved_at=None)
    page, next_cursor = await page_request.newest_first(
        query, name="discrepancies", scope=f"s:{subject.id}|{code}|{int(open_only)}"
    )
    items = [reconciliation.discrepancy_view(d) for d in page]
    return {"department": code, "items": items, "next_cursor": next_cursor}


async def resolve_discrepancy(
    *, subject: Subject, discrepancy_id: int, note_text: str, now: datetime
) -> dict[str, Any]:
    found = await Discrepancy.get_or_none(id=discrepancy_id)
    if found is None or not found.department_code:
        # A line naming none of our orders is the operators' (who hold every channel's bills).
        raise NotFound("找不到该对账差异记录。", code="payments.discrepancy_not_found")
    require_staff(subject, Action.finance, departments(found.department_code))
    resolved = await reconciliation.resolve(
        discrepancy_id=discrepancy_id, note=note_text, resolved_by=f"s:{subject.id}", now=now
    )
    return reconciliation.discrepancy_view(resolved)


# --------------------------------------------------------------------------------------------
# What payments tell the case (outbox handlers, registered in api.wiring; each idempotent by
# event id: the worker delivers at least once)
# --------------------------------------------------------------------------------------------


async def _case_of(payload: dict[str, Any]) -> Case | None:
    case_id = case_id_of(str(payload.get("reference", "")))
    return await Case.get_or_none(id=case_id) if case_id else None


def _channel_name(payload: dict[str, Any]) -> str:
    return views.CHANNEL_NAMES.get(str(payload.get("channel")), str(payload.get("channel")))


async def on_paid(event_id: int, topic: str, payload: dict[str, Any]) -> None:
    await fee_paid(payload, now=utcnow())


async def fee_paid(payload: dict[str, Any], *, now: datetime) -> None:
    """The fee is paid (``payment.paid``): the case moves on to result pending, once (a
    transition is a compare-and-set, and a repeat finds the case moved)."""
    case = await _case_of(payload)
    if case is None or case.status != CaseStatus.fee_due.value:
        return
    paid = figures(int(payload["paid_fen"]))
    async with in_transaction() as conn:
        try:
            await transition(
                conn,
                case,
                "fee_paid",
                SYSTEM,
                comment=f"已通过{_channel_name(payload)}缴费 ¥{paid}。",
                details={
                    "payment": payload["receipt_number"],
                    "channel": payload["channel"],
                    "paid_fen": payload["paid_fen"],
                },
                now=now,
            )
        except InvalidTransition:
            return


async def on_lapsed(event_id: int, topic: str, payload: dict[str, Any]) -> None:
    """The order passed its deadline unpaid: the case ends (its own state and timeline line)."""
    case = await _case_of(payload)
    if case is None or case.status != CaseStatus.fee_due.value:
        return
    now = utcnow()
    notice, due = payload["notice_number"], payload["due_on"]
    async with in_transaction() as conn:
        try:
            await transition(
                conn,
                case,
                "lapse",
                SYSTEM,
                comment=f"缴款通知书 {notice} 已超过缴费期限（{due}）。",
                details={"notice_number": payload["notice_number"]},
                now=now,
                updates={"closed_at": now},
            )
        except InvalidTransition:
            return


async def _line(event_id: int, payload: dict[str, Any], action: str, comment: str) -> None:
    """One timeline line per event, whatever the redeliveries."""
    case = await _case_of(payload)
    if case is None:
        return
    async with in_transaction() as conn:
        earlier = await CaseEvent.filter(case_id=case.id, action=action).using_db(conn)
        if any(e.details.get("event_id") == event_id for e in earlier):
            return
        keys = ("refund_id", "payment_id", "refund_fen", "paid_fen")
        await note(
            conn,
            case,
            action,
            SYSTEM,
            comment=comment,
            details={"event_id": event_id, **{k: payload[k] for k in keys if k in payload}},
            now=utcnow(),
        )


async def on_surplus(event_id: int, topic: str, payload: dict[str, Any]) -> None:
    paid = figures(int(payload["paid_fen"]))
    await _line(
        event_id, payload, "payment_surplus", f"收到一笔 ¥{paid} 的缴费：{payload['reason']}"
    )


async def on_refunded(event_id: int, topic: str, payload: dict[str, Any]) -> None:
    refunded = figures(int(payload["refund_fen"]))
    await _line(
        event_id, payload, "fee_refunded", f"已原路退款 ¥{refunded}。退款原因：{payload['reason']}"
    )


async def on_refund_failed(event_id: int, topic: str, payload: dict[str, Any]) -> None:
    refunded = figures(int(payload["refund_fen"]))
    await _line(
        event_id,
        payload,
        "fee_refund_failed",
        f"退款 ¥{refunded} 未能原路退回，工作人员将与您联系。",
    )
