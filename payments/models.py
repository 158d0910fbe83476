"""Payment tables: fee orders, their attempts at a channel, the money received, refunds, and the
differences the daily reconciliation finds.

A fee order knows nothing of cases: it carries a ``reference`` (``case:<id>``) and the texts a
receipt and a payment sheet need. All money is integer fen.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class OrderStatus(StrEnum):
    open = "open"  # 待缴费: awaiting payment
    paid = "paid"  # 已缴费
    lapsed = "lapsed"  # 逾期未缴: past its payment deadline, unpaid
    cancelled = "cancelled"  # 已撤销: what it was for ended first (the application withdrawn)


class AttemptStatus(StrEnum):
    open = "open"  # created at the channel, may be paid
    paid = "paid"
    closed = "closed"  # closed at the channel (or never created there)
    #: to be closed at the channel (its order ended, or the payer chose another channel)
    closing = "closing"


class Disposition(StrEnum):
    """What a payment did to its order."""

    applied = "applied"  # it paid the order
    surplus = "surplus"  # the order was paid already, or had ended: refunded automatically


class RefundStatus(StrEnum):
    requested = "requested"  # recorded; not yet accepted by the channel
    processing = "processing"
    succeeded = "succeeded"
    failed = "failed"  # closed or abnormal at the channel: finance staff must act


class FeeOrder(Model):
    """One fee to collect (缴款通知书)."""

    id = fields.BigIntField(primary_key=True)
    #: 缴款通知书编号, unique in the deployment
    notice_number = fields.CharField(max_length=32, unique=True)
    #: what the fee is for, in the orchestrating context's terms: "case:<id>"
    reference = fields.CharField(max_length=64, db_index=True)
    #: equal to ``reference`` while the order is open, null after: at most one open order per
    #: reference, enforced by the database on both dialects
    open_reference = fields.CharField(max_length=64, null=True, unique=True)
    title = fields.CharField(max_length=128)
    #: [{"name", "unit_fen", "quantity", "unit", "amount_fen"}]
    lines: list[dict[str, Any]] = fields.JSONField(default=list)
    amount_fen = fields.BigIntField()
    payee_department_code = fields.CharField(max_length=64, db_index=True)
    payee_department_name = fields.CharField(max_length=100)
    #: who may pay: the applicant person, or a company (its representative and agents who hold
    #: the pay scope); the orchestrating context checks, this records
    payer_user_id = fields.IntField(null=True)
    payer_company_id = fields.IntField(null=True)
    #: the payer's name for the receipt (a company's title, a person's name)
    payer_name = fields.CharField(max_length=100)
    #: what the payer asked to appear on the receipt (a company title and tax number)
    receipt_title = fields.CharField(max_length=100, default="")
    receipt_tax_number = fields.CharField(max_length=20, default="")
    status = fields.CharField(max_length=16, default=OrderStatus.open.value, db_index=True)
    due_on = fields.DateField()
    opened_at = fields.DatetimeField()
    paid_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    #: the payment that paid it
    payment_id = fields.BigIntField(null=True)
    #: the last reminder sent (one a day at most)
    reminded_on = fields.DateField(null=True)
    revision = fields.IntField(default=0)

    class Meta:
        table = "payments_fee_order"
        indexes = (("status", "due_on"),)


class ChannelOrder(Model):
    """One attempt to pay a fee order through one channel (its ``out_trade_no`` at the channel)."""

    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[FeeOrder] = fields.ForeignKeyField(
        "models.FeeOrder", related_name="attempts", on_delete=fields.RESTRICT
    )
    order_id: int
    channel = fields.CharField(max_length=16)
    mode = fields.CharField(max_length=8)
    out_trade_no = fields.CharField(max_length=32, unique=True)
    amount_fen = fields.BigIntField()
    status = fields.CharField(max_length=16, default=AttemptStatus.open.value, db_index=True)
    #: what the payer's client needs, kept so that a retried tap gets the same payment sheet
    client: dict[str, Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    #: the payer's client said the sheet closed (paid or not): query soon after
    returned_at = fields.DatetimeField(null=True)
    checked_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "payments_channel_order"
        indexes = (("order_id", "channel"),)


class Payment(Model):
    """Money received at a channel, recorded once per channel transaction."""

    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[FeeOrder] = fields.ForeignKeyField(
        "models.FeeOrder", related_name="payments", on_delete=fields.RESTRICT
    )
    order_id: int
    attempt: fields.ForeignKeyRelation[ChannelOrder] = fields.ForeignKeyField(
        "models.ChannelOrder", related_name="payments", on_delete=fields.RESTRICT
    )
    attempt_id: int
    channel = fields.CharField(max_length=16)
    transaction_id = fields.CharField(max_length=64)
    amount_fen = fields.BigIntField()
    paid_at = fields.DatetimeField()
    recorded_at = fields.DatetimeField()
    disposition = fields.CharField(max_length=16)
    #: why a surplus payment is refunded, in Chinese, shown to the payer
    disposition_reason = fields.CharField(max_length=200, default="")
    refunded_fen = fields.BigIntField(default=0)
    receipt_number = fields.CharField(max_length=32, unique=True)
    #: printed on the receipt and checked by the public verification endpoint
    verification_code = fields.CharField(max_length=16)
    #: an electronic fiscal receipt number, where the channel issues one
    fiscal_receipt = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "payments_payment"
        unique_together = (("channel", "transaction_id"),)
        indexes = (("order_id",), ("attempt_id",))


class Refund(Model):
    id = fields.BigIntField(primary_key=True)
    payment: fields.ForeignKeyRelation[Payment] = fields.ForeignKeyField(
        "models.Payment", related_name="refunds", on_delete=fields.RESTRICT
    )
    payment_id: int
    order_id = fields.BigIntField(db_index=True)
    out_refund_no = fields.CharField(max_length=32, unique=True)
    amount_fen = fields.BigIntField()
    reason = fields.CharField(max_length=200)
    #: "s:<staff id>" for a refund finance staff asked for, "system" for an automatic one
    requested_by = fields.CharField(max_length=32)
    #: the Idempotency-Key of the request that asked for it (a retried tap is the same refund)
    request_key = fields.CharField(max_length=100, null=True, unique=True)
    status = fields.CharField(max_length=16, default=RefundStatus.requested.value, db_index=True)
    refund_id = fields.CharField(max_length=64, null=True)
    channel_state = fields.CharField(max_length=32, default="")
    created_at = fields.DatetimeField()
    settled_at = fields.DatetimeField(null=True)
    checked_at = fields.DatetimeField(null=True)
    #: raised to the department's finance staff: processing for too long, or failed
    escalated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "payments_refund"
        indexes = (("payment_id",),)


class DiscrepancyKind(StrEnum):
    missing_here = "missing_here"  # in the channel's bill, not in our ledger
    missing_there = "missing_there"  # in our ledger, not in the channel's bill
    amount = "amount"  # both, with different amounts
    status = "status"  # both, in different states


class Discrepancy(Model):
    """One difference between a channel's daily bill and our ledger."""

    id = fields.BigIntField(primary_key=True)
    channel = fields.CharField(max_length=16)
    day = fields.DateField()
    kind = fields.CharField(max_length=16)
    #: "payment" or "refund"
    entry = fields.CharField(max_length=8)
    out_trade_no = fields.CharField(max_length=64)
    #: the refund number of a refund line, "" for a payment line (part of the unique key)
    out_refund_no = fields.CharField(max_length=64, default="")
    transaction_id = fields.CharField(max_length=64, default="")
    ours_fen = fields.BigIntField(null=True)
    theirs_fen = fields.BigIntField(null=True)
    #: the payee department, when the line names one of our orders; "" otherwise
    department_code = fields.CharField(max_length=64, default="", db_index=True)
    found_at = fields.DatetimeField()
    resolved_at = fields.DatetimeField(null=True)
    resolved_by = fields.CharField(max_length=32, default="")
    note = fields.CharField(max_length=500, default="")

    class Meta:
        table = "payments_discrepancy"
        unique_together = (("channel", "day", "kind", "entry", "out_trade_no", "out_refund_no"),)
