"""Fee endpoints: the payer's fee notice, paying it, receipts; finance staff's orders, refunds and
reconciliation differences; the public receipt check; and the platforms' callbacks.

The callbacks are not part of the API's JSON edge: each platform posts in its own format (WeChat
Pay JSON with signature headers, Alipay a form) and expects its own answer, so they read the raw
body and answer what ``payments.callbacks.receive`` says, whatever happens. They are left out of
the OpenAPI document (no client of ours calls them).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, StrictInt
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw

from api import guards
from api.endpoint import Audience, endpoint
from api.params import body, paging, query
from api.schemas import FreeText, In, NextCursor, Out, PageQuery, Query
from auth.permissions import Action
from cases import fees
from core.clock import utcnow
from payments import views as payment_views
from payments.callbacks import receive
from payments.providers.base import ChargeMode, NotificationKind

log = logging.getLogger("zhangban.payments")

bp = Blueprint("payments", url_prefix="/api/v1")
callbacks = Blueprint("callbacks", url_prefix="/callbacks")

_citizen = partial(endpoint, tag="fees", audience=Audience.citizen)
_finance = partial(endpoint, tag="finance", audience=Audience.staff, action=Action.finance)

ChannelName = Literal["wechatpay", "alipay"]
OutNo = Field(pattern=r"^[0-9A-Za-z_-]{6,32}$")


# --------------------------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------------------------


class FeeLineOut(Out):
    name: str
    unit_fen: int
    quantity: int
    unit: str
    amount_fen: int


class PaymentOut(Out):
    id: int
    channel: str
    amount_fen: int
    paid_at: str | None
    disposition: Literal["applied", "surplus"]
    note: str | None = Field(description="why a surplus payment is refunded")
    refunded_fen: int
    receipt_number: str


class RefundOut(Out):
    id: int
    payment_id: int
    amount_fen: int
    reason: str
    automatic: bool
    status: Literal["requested", "processing", "succeeded", "failed"]
    status_label: str
    created_at: str | None
    settled_at: str | None
    escalated: bool


class DepartmentRef(Out):
    code: str
    name: str


class PayOptionOut(Out):
    channel: ChannelName
    label: str
    modes: list[Literal["in_app", "qr"]] = Field(
        description="the `mode`s `…/fee/pay` takes with it"
    )


class FeeOrderOut(Out):
    case_id: int
    id: int
    notice_number: str = Field(description="缴款通知书编号")
    title: str
    lines: list[FeeLineOut]
    amount_fen: int
    amount: str = Field(description="in figures, yuan")
    amount_in_words: str = Field(description="in Chinese capitals (大写)")
    status: Literal["open", "paid", "lapsed", "cancelled"]
    status_label: str
    due_on: str = Field(description="last day to pay")
    payee_department: DepartmentRef
    opened_at: str | None
    paid_at: str | None
    receipt_title: str | None
    receipt_tax_number: str | None
    payments: list[PaymentOut]
    refunds: list[RefundOut]
    pay_options: list[PayOptionOut] = Field(
        description="the deployment's enabled channels while the order is open (else empty)"
    )


class PayIn(In):
    channel: ChannelName
    mode: Literal["in_app", "qr"] = Field(
        "in_app",
        description="in_app: pay on this phone (WeChat Pay); qr: a QR code another phone scans "
        "(a company's finance officer)",
    )
    receipt_title: Annotated[FreeText, Field(min_length=2, max_length=100)] | None = Field(
        None, description="receipt title (a company's name), if wanted; kept when not sent"
    )
    tax_number: Annotated[str, Field(min_length=18, max_length=18)] | None = Field(
        None, description="the company's tax number (its USCC); kept when not sent"
    )


class CheckoutOut(Out):
    channel: str
    mode: str
    out_trade_no: str
    expires_at: str
    client: dict[str, str] = Field(
        description="in_app WeChat Pay: wx.requestPayment's timeStamp, nonceStr, package, "
        "signType, paySign; qr: qr_code"
    )


class ReturnedIn(In):
    out_trade_no: str = OutNo


class ReceiptOut(Out):
    receipt_number: str
    notice_number: str
    payer: str
    title: str | None
    tax_number: str | None
    item: str
    reference: str
    lines: list[FeeLineOut]
    amount_fen: int
    amount: str
    amount_in_words: str
    payee_department: str
    paid_at: str
    paid_at_china: str
    channel: str
    channel_name: str
    transaction_id: str
    out_trade_no: str
    disposition: str
    note: str | None
    refunded_fen: int
    fiscal_receipt: str | None
    verification_code: str


class ReceiptCheckOut(Out):
    valid: bool = Field(description="false once the payment was refunded in full (or was surplus)")
    state: Literal["paid", "partially_refunded", "refunded"]
    receipt_number: str
    notice_number: str
    payer: str = Field(description="masked")
    title: str | None = Field(description="masked")
    tax_number: str | None = Field(description="masked")
    item: str
    amount_fen: int
    amount: str
    amount_in_words: str
    payee_department: str
    paid_at: str
    paid_at_china: str
    channel: str
    channel_name: str
    transaction_id: str = Field(description="shortened")
    out_trade_no: str
    disposition: str
    note: str | None
    refunded_fen: int
    fiscal_receipt: str | None


class ReceiptCheckQuery(Query):
    receipt_number: str = Field(pattern=r"^PJ[0-9]{18}$")
    code: str = Field(min_length=8, max_length=8, pattern=r"^[0-9A-Za-z]{8}$")


class RefundIn(In):
    amount_fen: StrictInt = Field(ge=1, le=10_000_000_000, description="integer fen")
    reason: FreeText = Field(min_length=2, max_length=200, description="shown to the applicant")


class DepartmentQuery(PageQuery):
    department: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")


DepartmentQueryT = TypeVar("DepartmentQueryT", bound=DepartmentQuery)


class OrdersQuery(DepartmentQuery):
    status: Literal["open", "paid", "lapsed", "cancelled"] | None = None


class OrderRow(Out):
    id: int
    case_id: int | None
    notice_number: str
    title: str
    amount_fen: int
    status: str
    status_label: str
    due_on: str
    paid_at: str | None


class OrderPage(Out):
    department: str
    items: list[OrderRow]
    next_cursor: NextCursor


class RefundsQuery(DepartmentQuery):
    attention: bool = Field(False, description="only refunds raised to finance staff")


class RefundPage(Out):
    department: str
    items: list[RefundOut]
    next_cursor: NextCursor


class DiscrepanciesQuery(DepartmentQuery):
    open: bool = Field(True, description="only those not yet resolved")


class DiscrepancyOut(Out):
    id: int
    channel: str
    day: str
    kind: Literal["missing_here", "missing_there", "amount", "status"]
    entry: Literal["payment", "refund"]
    out_trade_no: str
    out_refund_no: str | None
    transaction_id: str | None
    ours_fen: int | None
    theirs_fen: int | None
    department_code: str | None
    found_at: str
    resolved_at: str | None
    resolved_by: str | None
    note: str | None


class DiscrepancyPage(Out):
    department: str
    items: list[DiscrepancyOut]
    next_cursor: NextCursor


class ResolveIn(In):
    note: FreeText = Field(min_length=2, max_length=500, description="what was found and done")


def _json(data: Any, status: int = 200) -> HTTPResponse:
    return json(data, status=status, ensure_ascii=False, headers={"Cache-Control": "no-store"})


async def _department_page(
    request: Request,
    model: type[DepartmentQueryT],
    list_of: Callable[..., Awaitable[dict[str, Any]]],
    filters: Callable[[DepartmentQueryT], dict[str, Any]],
) -> HTTPResponse:
    """A finance list: the department asked for (default: the officer's), one page of it."""
    subject = await guards.staff(request)
    params = query(request, model)
    return _json(
        await list_of(
            subject=subject,
            department=params.department,
            page_request=paging(request, params),
            **filters(params),
        )
    )


# --------------------------------------------------------------------------------------------
# The payer
# --------------------------------------------------------------------------------------------


@bp.get("/cases/<case_id:int>/fee")
@_citizen(
    "The case's fee notice: lines, amount, deadline, payments, refunds",
    action=Action.view,
    target="case",
    out=FeeOrderOut,
    errors=(403, 404),
)
async def fee(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    return _fee_notice(request, await fees.fee_of(subject=subject, case_id=case_id, now=utcnow()))


def _fee_notice(request: Request, order: dict[str, Any]) -> HTTPResponse:
    """A fee notice as the payer reads it: with the ways to pay while it is open."""
    channels = request.app.ctx.resources.payments
    order["pay_options"] = channels.payer_options() if order["status"] == "open" else []
    return _json(order)


@bp.post("/cases/<case_id:int>/fee/pay")
@_citizen(
    "Pay the case's fee: the payment sheet for the chosen channel (a retry gets the same sheet)",
    action=Action.pay,
    target="case",
    body=PayIn,
    out=CheckoutOut,
    errors=(403, 404, 409, 503),
    idempotent=True,
)
async def pay(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    data = body(request, PayIn)
    checkout = await fees.pay(
        subject=subject,
        case_id=case_id,
        channel=data.channel,
        mode=ChargeMode(data.mode),
        receipt_title=data.receipt_title,
        tax_number=data.tax_number,
        channels=request.app.ctx.resources.payments,
        redis=request.app.ctx.redis,
        now=utcnow(),
    )
    return _json(checkout.as_dict())


@bp.post("/cases/<case_id:int>/fee/returned")
@_citizen(
    "The payment sheet closed on the phone: the channel is asked at once (for at most 3 s, "
    "else by the worker soon); the answer is the fee notice as it stands after that",
    action=Action.pay,
    target="case",
    body=ReturnedIn,
    out=FeeOrderOut,
    errors=(403, 404),
)
async def returned(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    data = body(request, ReturnedIn)
    return _fee_notice(
        request,
        await fees.returned(
            subject=subject,
            case_id=case_id,
            out_trade_no=data.out_trade_no,
            channels=request.app.ctx.resources.payments,
            redis=request.app.ctx.redis,
            now=utcnow(),
        ),
    )


@bp.get("/cases/<case_id:int>/payments/<payment_id:int>/receipt")
@_citizen(
    "A payment's receipt (缴费凭证) as data",
    action=Action.view,
    target="case",
    out=ReceiptOut,
    errors=(403, 404),
)
async def receipt(request: Request, case_id: int, payment_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    return _json(
        await fees.receipt(subject=subject, case_id=case_id, payment_id=payment_id, now=utcnow())
    )


@bp.get("/cases/<case_id:int>/payments/<payment_id:int>/receipt.pdf")
@_citizen(
    "A payment's receipt as a PDF",
    action=Action.view,
    target="case",
    errors=(403, 404),
    file_type="application/pdf",
)
async def receipt_pdf(request: Request, case_id: int, payment_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    pdf = await fees.receipt_pdf_bytes(
        subject=subject, case_id=case_id, payment_id=payment_id, now=utcnow()
    )
    return raw(
        pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="receipt-{payment_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


# --------------------------------------------------------------------------------------------
# Public
# --------------------------------------------------------------------------------------------

#: Checks of one receipt number per hour, whatever the address (the code cannot be walked).
CHECKS_PER_RECEIPT = 20


@bp.get("/public/receipts/verify")
@endpoint(
    "Check a receipt by its number and verification code (payer masked; limited)",
    tag="public",
    audience=Audience.anonymous,
    query=ReceiptCheckQuery,
    out=ReceiptCheckOut,
    errors=(404, 429),
)
async def verify_receipt(request: Request) -> HTTPResponse:
    params = query(request, ReceiptCheckQuery)
    await guards.limit_public_lookup(
        request, "receipt-check", params.receipt_number, per_hour=CHECKS_PER_RECEIPT
    )
    return _json(
        await payment_views.verify_receipt(receipt_number=params.receipt_number, code=params.code)
    )


# --------------------------------------------------------------------------------------------
# Finance staff
# --------------------------------------------------------------------------------------------


@bp.get("/staff/fee-orders")
@_finance(
    "A department's fee orders, newest first (finance)",
    target="department",
    query=OrdersQuery,
    out=OrderPage,
    errors=(400, 403),
)
async def department_orders(request: Request) -> HTTPResponse:
    return await _department_page(
        request, OrdersQuery, fees.department_orders, lambda params: {"status": params.status}
    )


@bp.post("/staff/cases/<case_id:int>/fee/refunds")
@_finance(
    "Refund a case's paid fee, in full or in part, with the reason the applicant reads",
    target="case_fee",
    body=RefundIn,
    ok=201,
    out=RefundOut,
    errors=(403, 404, 409),
    idempotent=True,
)
async def refund(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, RefundIn)
    key = request.headers.get("Idempotency-Key")
    view = await fees.refund_case_fee(
        subject=subject,
        case_id=case_id,
        amount_fen=data.amount_fen,
        reason=data.reason,
        request_key=f"s:{subject.id}:{key}" if key else None,
        now=utcnow(),
    )
    return _json(view, status=201)


@bp.get("/staff/refunds")
@_finance(
    "A department's refunds; attention=true: those processing too long or failed",
    target="department",
    query=RefundsQuery,
    out=RefundPage,
    errors=(400, 403),
)
async def department_refunds(request: Request) -> HTTPResponse:
    return await _department_page(
        request,
        RefundsQuery,
        fees.department_refunds,
        lambda params: {"attention": params.attention},
    )


@bp.get("/staff/discrepancies")
@_finance(
    "Differences between the channels' daily bills and the ledger, for a department",
    target="department",
    query=DiscrepanciesQuery,
    out=DiscrepancyPage,
    errors=(400, 403),
)
async def discrepancies(request: Request) -> HTTPResponse:
    return await _department_page(
        request,
        DiscrepanciesQuery,
        fees.department_discrepancies,
        lambda params: {"open_only": params.open},
    )


@bp.post("/staff/discrepancies/<discrepancy_id:int>/resolve")
@_finance(
    "Resolve a difference with a note",
    target="discrepancy",
    body=ResolveIn,
    out=DiscrepancyOut,
    errors=(403, 404, 409),
    idempotent=True,
)
async def resolve(request: Request, discrepancy_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, ResolveIn)
    return _json(
        await fees.resolve_discrepancy(
            subject=subject, discrepancy_id=discrepancy_id, note_text=data.note, now=utcnow()
        )
    )


# --------------------------------------------------------------------------------------------
# The platforms' callbacks
# --------------------------------------------------------------------------------------------


async def _callback(
    request: Request, channel_name: str, expect: NotificationKind | None = None
) -> HTTPResponse:
    channels = request.app.ctx.resources.payments
    channel = channels.get(channel_name)
    if channel is None:
        return json({"code": "FAIL", "message": "channel not enabled"}, status=404)
    answer = await receive(
        channel, dict(request.headers), request.body or b"", now=utcnow(), expect=expect
    )
    return raw(
        answer.body,
        status=answer.status,
        content_type=answer.content_type,
        headers=dict(answer.headers),
    )


_platform = partial(endpoint, tag="callbacks", audience=Audience.anonymous, in_document=False)


@callbacks.post("/wechatpay")
@_platform("WeChat Pay payment notification")
async def wechatpay_paid(request: Request) -> HTTPResponse:
    return await _callback(request, "wechatpay", NotificationKind.payment)


@callbacks.post("/wechatpay/refund")
@_platform("WeChat Pay refund notification")
async def wechatpay_refunded(request: Request) -> HTTPResponse:
    return await _callback(request, "wechatpay", NotificationKind.refund)


@callbacks.post("/alipay")
@_platform("Alipay asynchronous notification")
async def alipay_notified(request: Request) -> HTTPResponse:
    return await _callback(request, "alipay")
