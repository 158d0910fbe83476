"""The payment-channel port: what every channel (WeChat Pay, Alipay, and later a province's
unified public payment platform for non-tax revenue) does for a fee order, in the channel's own
terms translated to ours.

Money is integer fen on this side of the port; a channel that speaks yuan strings (Alipay) converts
inside its adapter and nowhere else. Times are aware UTC datetimes. Every identifier we send is
ours (``out_trade_no``, ``out_refund_no``: ASCII letters, digits and ``_``, at most 32
characters, which both platforms accept), so a repeated call is recognised by the channel as the
same order or the same refund.

What every adapter must do is written on each method and checked by the contract suite
``tests/contract/test_payment_channels.py``, run against every channel of
``payments.providers.factory`` pointed at its ``sandbox/`` peer.

A third channel (统一公共支付平台) fits without a change outside ``payments/``: it issues its own
payment code (``Charge.client`` carries it, ``ChargeMode.code``), notifies with its own signature
(``parse_callback``), and may issue an electronic fiscal receipt (``TradeStatus.fiscal_receipt``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from core.errors import Conflict, ServiceUnavailable

#: Our order and refund numbers: WeChat Pay allows 6–32 of ``[0-9A-Za-z_-|*]``, Alipay up to 64
#: letters, digits and ``_`` ("仅支持字母、数字、下划线"): the common ground.
OUT_NO = re.compile(r"[0-9A-Za-z_]{6,32}")


class ChargeMode(StrEnum):
    """How the payer pays."""

    #: in the mini-program on this phone (wx.requestPayment / my.tradePay)
    in_app = "in_app"
    #: a QR code another phone scans (a company's finance officer pays on their own phone)
    qr = "qr"
    #: a payment code the payer enters at a bank or a government payment platform
    code = "code"


class TradeState(StrEnum):
    """Where a channel order stands, in our terms."""

    #: created, not paid (WeChat NOTPAY/USERPAYING, Alipay WAIT_BUYER_PAY or unknown to Alipay
    #: before the buyer scans)
    pending = "pending"
    #: the money was taken (WeChat SUCCESS, and REFUND: paid, then refunded in part or whole;
    #: Alipay TRADE_SUCCESS/TRADE_FINISHED)
    paid = "paid"
    #: closed without payment (WeChat CLOSED/REVOKED/PAYERROR, Alipay TRADE_CLOSED of a trade
    #: that was never paid)
    closed = "closed"
    #: the channel has no such order (never created there, or created so long ago it is gone)
    unknown = "unknown"


class RefundState(StrEnum):
    processing = "processing"
    succeeded = "succeeded"
    #: closed or abnormal at the channel: the money did not go back; finance staff must act
    failed = "failed"


@dataclass(frozen=True)
class ChargeRequest:
    """One attempt to collect a fee through one channel."""

    out_trade_no: str
    amount_fen: int
    #: what the payer sees on the payment sheet (item name), at most 127 characters
    description: str
    #: the channel closes the order by itself at this moment (and we close it too)
    expires_at: datetime
    mode: ChargeMode
    #: where the channel sends its payment notification
    notify_url: str
    #: the payer's id within the channel's app (WeChat openid, Alipay buyer_open_id), for in-app
    payer_id: str | None = None

    def __post_init__(self) -> None:
        if not OUT_NO.fullmatch(self.out_trade_no):
            raise ValueError("out_trade_no must be 6-32 of [0-9A-Za-z_]")
        if not 1 <= self.amount_fen <= 10_000_000_000:
            raise ValueError("amount_fen must be between 1 and 10,000,000,000")
        if self.mode is ChargeMode.in_app and not self.payer_id:
            raise ValueError("an in-app charge needs the payer's id in the channel's app")


@dataclass(frozen=True)
class Charge:
    """What the payer's client needs to pay: for ``in_app`` the parameters of
    ``wx.requestPayment`` (timeStamp, nonceStr, package, signType, paySign) or ``my.tradePay``
    (tradeNO); for ``qr`` ``{"qr_code": url}``; for ``code`` ``{"payment_code": …}``."""

    out_trade_no: str
    client: dict[str, str]


@dataclass(frozen=True)
class TradeStatus:
    out_trade_no: str
    state: TradeState
    #: the channel's transaction id (WeChat transaction_id, Alipay trade_no), once it has one
    transaction_id: str | None = None
    #: what the channel says was charged (compare it with the order: never trust it alone)
    amount_fen: int | None = None
    paid_at: datetime | None = None
    #: the channel's own word, kept for the ledger and the logs (e.g. "NOTPAY", "TRADE_SUCCESS")
    channel_state: str = ""
    #: an electronic fiscal receipt number, for a channel that issues one
    fiscal_receipt: str | None = None


@dataclass(frozen=True)
class RefundRequest:
    out_trade_no: str
    out_refund_no: str
    refund_fen: int
    #: the whole amount of the trade (WeChat Pay requires it)
    total_fen: int
    reason: str
    notify_url: str

    def __post_init__(self) -> None:
        if not OUT_NO.fullmatch(self.out_refund_no) or not OUT_NO.fullmatch(self.out_trade_no):
            raise ValueError("out_trade_no and out_refund_no must be 6-32 of [0-9A-Za-z_]")
        if not 1 <= self.refund_fen <= self.total_fen:
            raise ValueError("refund_fen must be between 1 and total_fen")


@dataclass(frozen=True)
class RefundStatus:
    out_refund_no: str
    state: RefundState
    amount_fen: int
    refund_id: str | None = None
    succeeded_at: datetime | None = None
    channel_state: str = ""


class NotificationKind(StrEnum):
    payment = "payment"
    refund = "refund"


@dataclass(frozen=True)
class Notification:
    """A callback that passed the channel's signature check and names our app and merchant."""

    kind: NotificationKind
    #: for a payment notification (and for a refund one, the trade it belongs to)
    trade: TradeStatus
    refund: RefundStatus | None = None
    #: the channel's id of this notification, for the logs (WeChat ``id``, Alipay ``notify_id``)
    notify_id: str = ""


@dataclass(frozen=True)
class CallbackAnswer:
    """The exact HTTP answer a platform expects: one that means "processed, do not resend", or
    one that means "not processed, send again"."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


class BillEntryKind(StrEnum):
    payment = "payment"
    refund = "refund"


@dataclass(frozen=True)
class BillEntry:
    """One line of a channel's daily trade bill, in our terms."""

    kind: BillEntryKind
    out_trade_no: str
    transaction_id: str
    amount_fen: int
    at: datetime
    out_refund_no: str | None = None
    channel_state: str = ""


class ChannelUnavailable(ServiceUnavailable):
    """The channel gave no usable answer (unreachable, timed out, a 5xx, a response whose
    signature does not verify). Nothing is known to have happened; the caller may retry with the
    same numbers, which the channel recognises."""

    code = "payments.channel_unavailable"
    message = "支付渠道暂时无法连接，请稍后再试。"


class ChannelRefused(Conflict):
    """The channel answered and refused (a business error), with its own code kept in
    ``details["channel_code"]`` for the logs and the finance staff."""

    code = "payments.channel_refused"
    message = "支付渠道拒绝了本次请求，请稍后再试或更换支付方式。"


class AlreadyPaid(ChannelRefused):
    """``close`` of an order the payer has already paid: the money must be recorded, not lost."""

    code = "payments.already_paid"
    message = "该订单已支付。"


class CallbackRejected(Exception):
    """A callback that is not the platform's: a bad or missing signature, a timestamp too far
    off, another app or merchant, an undecryptable resource, a malformed body. ``reason`` is a
    short English word for the logs; the body is never logged."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PaymentChannel(Protocol):
    """One payment channel. Every method is safe to repeat with the same numbers."""

    #: the registry name: ``wechatpay``, ``alipay``
    name: str

    async def charge(self, request: ChargeRequest) -> Charge:
        """Create the channel's order (or find the one already created with this
        ``out_trade_no`` and the same amount) and sign what the client needs. ``ChannelRefused``
        when the channel refuses (e.g. the order is already paid or closed there)."""
        ...

    async def query(self, out_trade_no: str) -> TradeStatus:
        """The order as the channel holds it now (``TradeState.unknown`` if it holds none)."""
        ...

    async def close(self, out_trade_no: str) -> None:
        """Close an unpaid order so that it can no longer be paid. Closing a closed or unknown
        order is not an error; ``AlreadyPaid`` when it was paid."""
        ...

    async def refund(self, request: RefundRequest) -> RefundStatus:
        """Ask for a refund; repeating the same ``out_refund_no`` never refunds twice and answers
        the refund's current status."""
        ...

    async def query_refund(self, out_trade_no: str, out_refund_no: str) -> RefundStatus:
        """A refund as the channel holds it now."""
        ...

    def parse_callback(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> Notification:
        """Verify a callback exactly as the platform documents (signature, timestamp, app id,
        merchant or seller id; decryption where the platform encrypts) and translate it.
        ``CallbackRejected`` for anything else. ``headers`` keys are lower-case."""
        ...

    def answer(self, *, processed: bool) -> CallbackAnswer:
        """The answer that stops the platform's resends (``processed``) or asks for them."""
        ...

    async def bill(self, day: date) -> list[BillEntry]:
        """Every payment and refund of ``day`` (China time) as the channel's trade bill lists
        them; ``ChannelUnavailable`` if the bill is not ready yet."""
        ...
