"""The payments context's errors: a stable English code and a message a payer or a finance
officer can read."""

from __future__ import annotations

from core.errors import Conflict, NotFound, ValidationFailed, field_error


class OrderNotFound(NotFound):
    code = "payments.order_not_found"
    message = "找不到该缴费订单。"


class OrderNotOpen(Conflict):
    code = "payments.order_not_open"
    message = "该缴费订单当前不能缴费（已缴费、已逾期或已撤销）。"


class OrderAlreadyOpen(Conflict):
    code = "payments.order_already_open"
    message = "该事项已有待缴费的订单，请勿重复开具。"


class PaymentStarting(Conflict):
    """Another request is starting a payment of the same order right now (a double tap)."""

    code = "payments.payment_starting"
    message = "正在发起支付，请稍候再试。"


class NotRefundable(Conflict):
    code = "payments.not_refundable"
    message = "该订单尚未缴费或已全额退款，无法退款。"


class RefundTooLarge(Conflict):
    code = "payments.refund_exceeds_remaining"
    message = "退款金额超过可退金额。"


class RefundNotFound(NotFound):
    code = "payments.refund_not_found"
    message = "找不到该退款记录。"


class DiscrepancyNotFound(NotFound):
    code = "payments.discrepancy_not_found"
    message = "找不到该对账差异记录。"


class DiscrepancyResolved(Conflict):
    code = "payments.discrepancy_resolved"
    message = "该对账差异已处理。"


class ReceiptNotFound(NotFound):
    """Also the answer to a wrong verification code: a guess learns nothing."""

    code = "payments.receipt_not_found"
    message = "未查询到该票据，请核对票据号码和校验码。"


def channel_not_enabled(channel: str) -> ValidationFailed:
    return ValidationFailed(
        [field_error("channel", "不支持该支付方式，请选择其他支付方式。", "channel_not_enabled")]
    )
