"""Progress messages at the edge: the inbox (citizens and staff), consent to subscribe messages,
the SMS switch, the administrators' view of the send ledger, and the SMS delivery receipts.

A person reads and marks only their own inbox: the recipient comes from the token, never from
the request. Rules in ``notify`` (inbox, consent, admin) and ``auth.notices`` (whose openid).
"""

from __future__ import annotations

import hmac
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from api import guards
from api.endpoint import Audience, endpoint, operator_endpoint
from api.params import body, paging, query
from api.schemas import In, NextCursor, Out, PageQuery, Query, ToAskOut
from auth import notices as auth_notices
from auth.contacts import ref_of
from core.clock import utcnow
from notify import admin, inbox
from notify.ledger import NotifyDeps, record_receipts
from notify.providers.aliyun_sms import parse_report

bp = Blueprint("notify", url_prefix="/api/v1")
callbacks = Blueprint("notify_callbacks", url_prefix="/callbacks/sms")

TemplateId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]
ConsentResult = Literal["accept", "reject", "ban", "filter"]


def _notify(request: Request) -> NotifyDeps:
    deps: NotifyDeps = request.app.ctx.resources.notify
    return deps


# --------------------------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------------------------


class InboxQuery(PageQuery):
    unread: bool = Field(False, description="only messages not read yet")


class MessageOut(Out):
    id: int
    kind: str = Field(description="the message type, e.g. case.accepted")
    title: str
    body: str
    link: str | None = Field(description="the mini-program page that opens what it is about")
    subject: str | None = Field(description="what it is about, e.g. case:12")
    created_at: str | None
    read: bool
    read_at: str | None


class InboxPage(Out):
    messages: list[MessageOut]
    unread: int
    next_cursor: NextCursor


class ReadOut(MessageOut):
    unread: int


class UnreadOut(Out):
    unread: int


class ReadAllOut(Out):
    marked: int
    unread: int


class ConsentIn(In):
    results: dict[TemplateId, ConsentResult] = Field(
        min_length=1,
        max_length=3,
        description="wx.requestSubscribeMessage's answer per template id, as the phone got it",
    )


class GrantOut(Out):
    template_id: str
    title: str
    long_term: bool
    remaining: int = Field(description="one-time acceptances not used yet")
    accepted: bool
    last_result: str | None


class GrantsOut(Out):
    grants: list[GrantOut]


class ToAskQuery(Query):
    moment: Literal["submit", "pay"] = Field(description="before a submission or a payment")


class PreferencesIn(In):
    sms: StrictBool = Field(
        description="false: no SMS (退订); WeChat and the inbox still carry them"
    )


class PreferencesOut(Out):
    sms: bool


class DeliveryQuery(PageQuery):
    status: Literal["failed", "uncertain", "queued", "sending", "sent", "skipped", "held"] = (
        "failed"
    )
    kind: str | None = Field(None, max_length=48, pattern=r"^[a-z_.]+$")


class DeliveryOut(Out):
    id: int
    kind: str
    channel: str
    recipient: str
    template: str
    status: str
    attempts: int
    last_code: str | None
    last_error: str | None
    failed_field: str | None
    receipt: str | None
    event_at: str | None
    created_at: str | None
    sent_at: str | None
    next_at: str | None
    updated_at: str | None


class AttemptOut(Out):
    at: str | None
    outcome: str
    code: str | None
    detail: str | None
    duration_ms: int


class DeliveryDetailOut(DeliveryOut):
    attempts_log: list[AttemptOut]


class DeliveryPage(Out):
    deliveries: list[DeliveryOut]
    next_cursor: NextCursor


class AlertOut(Out):
    id: int
    kind: str
    hour: str
    failures: int
    details: dict[str, Any]
    raised_at: str | None


class AlertPage(Out):
    alerts: list[AlertOut]
    next_cursor: NextCursor


# --------------------------------------------------------------------------------------------
# The inbox and consent, for citizens (/me) and staff (/staff)
# --------------------------------------------------------------------------------------------


async def _who(request: Request, audience: Audience) -> tuple[str, int]:
    if audience is Audience.citizen:
        subject = await guards.citizen_subject(request)
        return "user", subject.id
    member = await guards.staff(request)
    return "staff", member.id


def _inbox_routes(prefix: str, audience: Audience, tag: str) -> None:
    """The same inbox for both audiences; only whose it is differs (from the token)."""
    route = partial(endpoint, tag=tag, audience=audience)
    if audience is Audience.staff:
        route = partial(route, target="self")
    name = "me" if audience is Audience.citizen else "staff"

    async def list_messages(request: Request) -> HTTPResponse:
        kind, subject_id = await _who(request, audience)
        params = query(request, InboxQuery)
        page = await inbox.list_messages(
            recipient=ref_of(kind, subject_id),
            unread_only=params.unread,
            page_request=paging(request, params),
        )
        return json(page, ensure_ascii=False, headers={"Cache-Control": "no-store"})

    async def unread(request: Request) -> HTTPResponse:
        kind, subject_id = await _who(request, audience)
        count = await inbox.unread_count(recipient=ref_of(kind, subject_id))
        return json({"unread": count}, headers={"Cache-Control": "no-store"})

    async def read_one(request: Request, message_id: int) -> HTTPResponse:
        kind, _ = await _who(request, audience)
        result = await auth_notices.read_message(
            kind=kind, subject=request.ctx.subject, message_id=message_id, now=utcnow()
        )
        return json(result, ensure_ascii=False)

    async def read_all(request: Request) -> HTTPResponse:
        kind, subject_id = await _who(request, audience)
        return json(await inbox.mark_all_read(recipient=ref_of(kind, subject_id), now=utcnow()))

    async def report(request: Request) -> HTTPResponse:
        kind, subject_id = await _who(request, audience)
        data = body(request, ConsentIn)
        result = await auth_notices.report_consent(
            kind=kind,
            subject_id=subject_id,
            results=dict(data.results),
            notify=_notify(request),
            now=utcnow(),
        )
        return json(result, ensure_ascii=False)

    async def grants(request: Request) -> HTTPResponse:
        kind, subject_id = await _who(request, audience)
        result = await auth_notices.consent_grants(
            kind=kind, subject_id=subject_id, notify=_notify(request)
        )
        return json(result, ensure_ascii=False, headers={"Cache-Control": "no-store"})

    declared = [
        (
            "GET",
            f"{prefix}/messages",
            route(
                "My messages, newest first, with the unread count",
                query=InboxQuery,
                out=InboxPage,
                headers={"Cache-Control": "no-store"},
            ),
            list_messages,
        ),
        (
            "GET",
            f"{prefix}/messages/unread-count",
            route(
                "How many of my messages are unread",
                out=UnreadOut,
                headers={"Cache-Control": "no-store"},
            ),
            unread,
        ),
        (
            "POST",
            f"{prefix}/messages/<message_id:int>/read",
            route(
                "Mark one of my messages read (again: no change)",
                out=ReadOut,
                errors=(404,),
                idempotent=True,
            ),
            read_one,
        ),
        (
            "POST",
            f"{prefix}/messages/read-all",
            route("Mark all my messages read", out=ReadAllOut, idempotent=True),
            read_all,
        ),
        (
            "POST",
            f"{prefix}/subscriptions",
            route(
                "Report what wx.requestSubscribeMessage answered (accept, reject, ban, filter "
                "per template); each accepted one-time template allows one message",
                body=ConsentIn,
                out=GrantsOut,
                errors=(400, 409),
                idempotent=True,
            ),
            report,
        ),
        (
            "GET",
            f"{prefix}/subscriptions",
            route(
                "The subscribe-message grants I hold",
                out=GrantsOut,
                errors=(409,),
                headers={"Cache-Control": "no-store"},
            ),
            grants,
        ),
    ]
    for method, uri, declare, handler in declared:
        bp.add_route(
            declare(handler),  # type: ignore[arg-type]
            uri,
            methods=[method],
            name=f"{name}_{handler.__name__}",
        )


_inbox_routes("/me", Audience.citizen, "messages")
_inbox_routes("/staff", Audience.staff, "staff messages")


@bp.get("/me/subscriptions/to-ask")
@endpoint(
    "Which templates to ask for with wx.requestSubscribeMessage before a submission or a "
    "payment: those whose acceptances are used up (three at most, one call)",
    tag="messages",
    audience=Audience.citizen,
    query=ToAskQuery,
    out=ToAskOut,
    headers={"Cache-Control": "no-store"},
)
async def to_ask(request: Request) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    params = query(request, ToAskQuery)
    result = await auth_notices.consent_to_ask(
        kind="user", subject_id=subject.id, moment=params.moment, notify=_notify(request)
    )
    return json(result, ensure_ascii=False, headers={"Cache-Control": "no-store"})


@bp.get("/staff/subscriptions/to-ask")
@endpoint(
    "Which staff templates (new work, supervision) to ask for after binding",
    tag="staff messages",
    audience=Audience.staff,
    target="self",
    out=ToAskOut,
    errors=(409,),
    headers={"Cache-Control": "no-store"},
)
async def staff_to_ask(request: Request) -> HTTPResponse:
    member = await guards.staff(request)
    result = await auth_notices.consent_to_ask(
        kind="staff", subject_id=member.id, moment="staff", notify=_notify(request)
    )
    return json(result, ensure_ascii=False, headers={"Cache-Control": "no-store"})


@bp.get("/me/notification-settings")
@endpoint("My message settings", tag="messages", audience=Audience.citizen, out=PreferencesOut)
async def get_preferences(request: Request) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    return json(await admin.preferences(recipient=ref_of("user", subject.id)))


@bp.put("/me/notification-settings")
@endpoint(
    "Turn SMS progress messages off (退订) or on",
    tag="messages",
    audience=Audience.citizen,
    body=PreferencesIn,
    out=PreferencesOut,
    idempotent=True,
)
async def put_preferences(request: Request) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    data = body(request, PreferencesIn)
    return json(
        await admin.set_sms(recipient=ref_of("user", subject.id), enabled=data.sms, now=utcnow())
    )


# --------------------------------------------------------------------------------------------
# Administrators: the send ledger
# --------------------------------------------------------------------------------------------


@bp.get("/admin/notify/deliveries")
@operator_endpoint(
    "Messages by status (failed by default; uncertain: a worker stopped mid-send), newest first",
    query=DeliveryQuery,
    out=DeliveryPage,
    headers={"Cache-Control": "no-store"},
)
async def list_deliveries(request: Request) -> HTTPResponse:
    await guards.staff(request)
    params = query(request, DeliveryQuery)
    page = await admin.list_deliveries(
        status=params.status, kind=params.kind, page_request=paging(request, params)
    )
    return json(page, ensure_ascii=False, headers={"Cache-Control": "no-store"})


@bp.get("/admin/notify/deliveries/<delivery_id:int>")
@operator_endpoint("One message and its attempts", out=DeliveryDetailOut, errors=(404,))
async def get_delivery(request: Request, delivery_id: int) -> HTTPResponse:
    await guards.staff(request)
    return json(await admin.get_delivery(delivery_id=delivery_id), ensure_ascii=False)


@bp.post("/admin/notify/deliveries/<delivery_id:int>/replay")
@operator_endpoint(
    "Send a failed or uncertain message again, with fresh attempts",
    out=DeliveryDetailOut,
    errors=(404, 409),
    idempotent=True,
)
async def replay_delivery(request: Request, delivery_id: int) -> HTTPResponse:
    member = await guards.staff(request)
    result = await admin.replay(delivery_id=delivery_id, actor=f"s:{member.id}", now=utcnow())
    _notify(request).wake.set()
    return json(result, ensure_ascii=False)


@bp.get("/admin/notify/alerts")
@operator_endpoint(
    "Message types that failed too often in an hour",
    query=PageQuery,
    out=AlertPage,
    headers={"Cache-Control": "no-store"},
)
async def list_alerts(request: Request) -> HTTPResponse:
    await guards.staff(request)
    params = query(request, PageQuery)
    return json(await admin.list_alerts(page_request=paging(request, params)), ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# The SMS provider's delivery receipts
# --------------------------------------------------------------------------------------------

#: What the provider expects back; anything else makes it push the batch again.
RECEIPT_OK = {"code": 0, "msg": "成功"}


@callbacks.post("/aliyun")
@endpoint(
    "SMS delivery receipts (SmsReport batch push)",
    tag="callbacks",
    audience=Audience.anonymous,
    in_document=False,
)
async def sms_receipts(request: Request) -> HTTPResponse:
    """The push carries no signature: the URL's secret token is the proof it is the provider's
    (set as the receipt URL in the provider's console)."""
    token = request.args.get("token", "")
    expected = request.app.ctx.settings.sms_report_token
    if not hmac.compare_digest(token.encode(), expected.encode()):
        return json({"code": 1, "msg": "forbidden"}, status=403)
    try:
        receipts = parse_report(request.body or b"")
    except ValueError:
        return json({"code": 1, "msg": "bad report"}, status=400)
    await record_receipts([(r.out_id, r.delivered) for r in receipts], now=utcnow())
    return json(RECEIPT_OK, ensure_ascii=False)
