"""What payers, finance staff and the public see of fee orders, payments, refunds and receipts."""

from __future__ import annotations

import hmac
from datetime import UTC
from typing import Any

from core.clock import CHINA
from core.crypto import mask_name
from core.db import iso_or_none
from payments.errors import ReceiptNotFound
from payments.models import ChannelOrder, Disposition, FeeOrder, OrderStatus, Payment, Refund
from payments.money import capitals, figures

ORDER_LABELS = {
    OrderStatus.open.value: "待缴费",
    OrderStatus.paid.value: "已缴费",
    OrderStatus.lapsed.value: "逾期未缴费",
    OrderStatus.cancelled.value: "已撤销",
}
REFUND_LABELS = {
    "requested": "退款申请中",
    "processing": "退款处理中",
    "succeeded": "已退款",
    "failed": "退款失败，工作人员正在处理",
}
CHANNEL_NAMES = {"wechatpay": "微信支付", "alipay": "支付宝"}


def payment_view(p: Payment) -> dict[str, Any]:
    return {
        "id": p.id,
        "channel": p.channel,
        "amount_fen": p.amount_fen,
        "paid_at": iso_or_none(p.paid_at),
        "disposition": p.disposition,
        "note": p.disposition_reason or None,
        "refunded_fen": p.refunded_fen,
        "receipt_number": p.receipt_number,
    }


def refund_view(r: Refund) -> dict[str, Any]:
    return {
        "id": r.id,
        "payment_id": r.payment_id,
        "amount_fen": r.amount_fen,
        "reason": r.reason,
        "automatic": r.requested_by == "system",
        "status": r.status,
        "status_label": REFUND_LABELS[r.status],
        "created_at": iso_or_none(r.created_at),
        "settled_at": iso_or_none(r.settled_at),
        "escalated": r.escalated_at is not None,
    }


async def order_view(order: FeeOrder) -> dict[str, Any]:
    """An order with its lines, payments and refunds (three statements)."""
    payments = await Payment.filter(order_id=order.id).order_by("id")
    refunds = await Refund.filter(order_id=order.id).order_by("id")
    return {
        "id": order.id,
        "notice_number": order.notice_number,
        "title": order.title,
        "lines": order.lines,
        "amount_fen": order.amount_fen,
        "amount": figures(order.amount_fen),
        "amount_in_words": capitals(order.amount_fen),
        "status": order.status,
        "status_label": ORDER_LABELS[order.status],
        "due_on": order.due_on.isoformat(),
        "payee_department": {
            "code": order.payee_department_code,
            "name": order.payee_department_name,
        },
        "opened_at": iso_or_none(order.opened_at),
        "paid_at": iso_or_none(order.paid_at),
        "receipt_title": order.receipt_title or None,
        "receipt_tax_number": order.receipt_tax_number or None,
        "payments": [payment_view(p) for p in payments],
        "refunds": [refund_view(r) for r in refunds],
    }


async def receipt_data(payment: Payment, *, public: bool = False) -> dict[str, Any]:
    """A payment's receipt (缴费凭证). ``public``: as the verification page shows it, with the
    payer's name masked and the verification code left out."""
    order = await FeeOrder.get(id=payment.order_id)
    attempt = await ChannelOrder.get(id=payment.attempt_id)
    shown_at = payment.paid_at.astimezone(UTC) + CHINA
    data: dict[str, Any] = {
        "receipt_number": payment.receipt_number,
        "notice_number": order.notice_number,
        "payer": mask_name(order.payer_name) if public else order.payer_name,
        "title": order.receipt_title or None,
        "tax_number": order.receipt_tax_number or None,
        "item": order.title,
        "reference": order.reference,
        "lines": order.lines,
        "amount_fen": payment.amount_fen,
        "amount": figures(payment.amount_fen),
        "amount_in_words": capitals(payment.amount_fen),
        "payee_department": order.payee_department_name,
        "paid_at": payment.paid_at.isoformat(),
        "paid_at_china": shown_at.strftime("%Y-%m-%d %H:%M:%S"),
        "channel": payment.channel,
        "channel_name": CHANNEL_NAMES.get(payment.channel, payment.channel),
        "transaction_id": payment.transaction_id,
        "out_trade_no": attempt.out_trade_no,
        "disposition": payment.disposition,
        "note": payment.disposition_reason or None,
        "refunded_fen": payment.refunded_fen,
        "fiscal_receipt": payment.fiscal_receipt,
    }
    if public:
        data.pop("reference")
        data.pop("lines")
        data["transaction_id"] = payment.transaction_id[:6] + "…" + payment.transaction_id[-4:]
        # The title may be a person's name, the tax number a company's: shown masked, like the
        # payer, so that a receipt number and its code reveal no more than the paper shows.
        data["title"] = mask_name(order.receipt_title) if order.receipt_title else None
        tax = order.receipt_tax_number
        data["tax_number"] = f"{tax[:4]}{'*' * (len(tax) - 8)}{tax[-4:]}" if tax else None
    else:
        data["verification_code"] = payment.verification_code
    return data


async def verify_receipt(*, receipt_number: str, code: str) -> dict[str, Any]:
    """Anyone holding a receipt may check it: the number and its code must both match, and a
    wrong code looks exactly like an unknown number."""
    payment = await Payment.get_or_none(receipt_number=receipt_number)
    if payment is None or not hmac.compare_digest(
        payment.verification_code.encode(), code.strip().upper().encode()
    ):
        raise ReceiptNotFound()
    return {**receipt_state(payment), **(await receipt_data(payment, public=True))}


def receipt_state(payment: Payment) -> dict[str, Any]:
    """Whether a receipt still stands for money the payee keeps: a refunded (or surplus, which
    is always refunded) payment's receipt no longer proves a fee paid."""
    if (
        payment.disposition != Disposition.applied.value
        or payment.refunded_fen >= payment.amount_fen
    ):
        state = "refunded"
    elif payment.refunded_fen:
        state = "partially_refunded"
    else:
        state = "paid"
    return {"valid": state != "refunded", "state": state}
