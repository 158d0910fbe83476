"""The payment-channel port (``payments.providers.base.PaymentChannel``), against every channel.

Every channel of the registry (``payments.providers.factory.CHANNELS``) is built as the
composition root builds it and pointed at its peer in the session's sandbox process; a stand
(``tests/contract/*_stand.py``) plays the payer, the bank and the faults. The notifications the
peers send go to a receiver of this suite on a real socket, which parses each with the channel
and answers what the channel says, so the whole loop (sign, send, verify, answer, resend or stop)
is the platform's as documented. A channel without a stand fails the suite.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.clock import local_today
from core.settings import Settings
from payments.providers.base import (
    AlreadyPaid,
    BillEntryKind,
    CallbackRejected,
    ChannelRefused,
    ChannelUnavailable,
    ChargeMode,
    ChargeRequest,
    Notification,
    NotificationKind,
    PaymentChannel,
    RefundRequest,
    RefundState,
    TradeState,
)
from payments.providers.factory import CHANNELS
from tests.bills import seconds_until_todays_bill
from tests.contract.alipay_stand import alipay_stand
from tests.contract.wechatpay_stand import wechatpay_stand
from tests.processes import free_port, serving_asgi

Stand = Any  # WeChatPayStand | AlipayStand: the same interface
STANDS: dict[str, Callable[[str, httpx.AsyncClient, Path], AbstractAsyncContextManager[Stand]]] = {
    "wechatpay": wechatpay_stand,
    "alipay": alipay_stand,
}
#: How each channel's client pays on this phone (Alipay in-app needs an Alipay login: QR here).
MODES = {"wechatpay": ChargeMode.in_app, "alipay": ChargeMode.qr}
PAYER = {"wechatpay": "o-contract-payer-0001", "alipay": None}


def test_every_channel_has_a_stand() -> None:
    assert set(STANDS) == set(CHANNELS)


@dataclass
class Receiver:
    """Our callback endpoint for the suite: each request parsed by the channel under test."""

    url: str
    channel: PaymentChannel | None = None
    processed: bool = True
    received: list[Notification] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    hits: int = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        assert self.channel is not None
        self.hits += 1
        try:
            self.received.append(self.channel.parse_callback(headers, body, now=datetime.now(UTC)))
            answer = self.channel.answer(processed=self.processed)
        except CallbackRejected as rejected:
            self.rejected.append(rejected.reason)
            answer = self.channel.answer(processed=False)
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [(b"content-type", answer.content_type.encode())],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})

    async def wait(self, count: int = 1, *, timeout: float = 10.0) -> list[Notification]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.received) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"{len(self.received)} notifications, rejected {self.rejected}"
                )
            await asyncio.sleep(0.02)
        return self.received


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    port = free_port()
    found = Receiver(url=f"http://127.0.0.1:{port}/callbacks")
    async with serving_asgi(found, port):
        yield found


@pytest.fixture(params=sorted(STANDS))
async def stand(
    request: pytest.FixtureRequest, sandbox_url: str, sandbox_keys_dir: Path, receiver: Receiver
) -> AsyncIterator[Stand]:
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0)) as http,
        STANDS[request.param](sandbox_url, http, sandbox_keys_dir) as built,
    ):
        receiver.channel = built.channel
        yield built


def number(prefix: str = "ZBC") -> str:
    return f"{prefix}{secrets.token_hex(8)}"


def charge_request(stand: Stand, receiver: Receiver, amount_fen: int = 1234) -> ChargeRequest:
    name = stand.channel.name
    return ChargeRequest(
        out_trade_no=number(),
        amount_fen=amount_fen,
        description="测试收费事项 证照工本费",
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
        mode=MODES[name],
        notify_url=f"{receiver.url}/{name}",
        payer_id=PAYER[name],
    )


async def paid_trade(stand: Stand, receiver: Receiver, amount_fen: int = 1234) -> str:
    request = charge_request(stand, receiver, amount_fen)
    await stand.channel.charge(request)
    await stand.pay(request.out_trade_no)
    await receiver.wait()
    return request.out_trade_no


# --------------------------------------------------------------------------------------------


async def test_a_charge_signs_what_the_client_needs_and_repeats_safely(
    stand: Stand, receiver: Receiver
) -> None:
    request = charge_request(stand, receiver)
    charge = await stand.channel.charge(request)
    assert charge.out_trade_no == request.out_trade_no
    if request.mode is ChargeMode.in_app:
        assert {"timeStamp", "nonceStr", "package", "signType", "paySign"} <= set(charge.client)
    else:
        assert charge.client["qr_code"]
    again = await stand.channel.charge(request)  # a retried request: the same order
    assert again.out_trade_no == request.out_trade_no
    status = await stand.channel.query(request.out_trade_no)
    assert status.state in (TradeState.pending, TradeState.unknown)


async def test_an_unknown_order_is_unknown(stand: Stand) -> None:
    status = await stand.channel.query(number("ZBNONE"))
    assert status.state is TradeState.unknown


async def test_a_payment_is_notified_signed_and_the_query_agrees(
    stand: Stand, receiver: Receiver
) -> None:
    out_trade_no = await paid_trade(stand, receiver, amount_fen=5000)
    notification = receiver.received[0]
    assert notification.kind is NotificationKind.payment
    trade = notification.trade
    assert trade.out_trade_no == out_trade_no and trade.state is TradeState.paid
    assert trade.amount_fen == 5000 and trade.transaction_id and trade.paid_at is not None
    status = await stand.channel.query(out_trade_no)
    assert status.state is TradeState.paid
    assert (status.transaction_id, status.amount_fen) == (trade.transaction_id, 5000)


async def test_a_processed_notification_is_not_sent_again_an_unprocessed_one_is(
    stand: Stand, receiver: Receiver
) -> None:
    await paid_trade(stand, receiver)
    await asyncio.sleep(0.5)
    assert receiver.hits == 1
    receiver.processed = False
    receiver.received.clear()
    request = charge_request(stand, receiver)
    await stand.channel.charge(request)
    await stand.pay(request.out_trade_no)
    await receiver.wait(2, timeout=20)  # the first resend, on the compressed schedule


async def test_forged_and_foreign_notifications_are_refused(
    stand: Stand, receiver: Receiver
) -> None:
    faults = (
        {"bad_signature": True},
        {"wrong_mchid": True} if stand.channel.name == "wechatpay" else {"wrong_seller_id": True},
        {"wrong_appid": True} if stand.channel.name == "wechatpay" else {"wrong_app_id": True},
    )
    for fault in faults:
        receiver.rejected.clear()
        await stand.set_faults(**fault)
        request = charge_request(stand, receiver)
        await stand.channel.charge(request)
        await stand.pay(request.out_trade_no)
        deadline = asyncio.get_running_loop().time() + 10
        while not receiver.rejected:
            assert asyncio.get_running_loop().time() < deadline, fault
            await asyncio.sleep(0.02)
        assert receiver.received == [], fault
    await stand.set_faults()


async def test_a_tampered_or_replayed_body_is_refused(stand: Stand, receiver: Receiver) -> None:
    """The notification the peer sent, captured, then altered by one byte, or (WeChat Pay,
    whose signature covers a timestamp) replayed long after."""
    captured: list[tuple[dict[str, str], bytes]] = []
    original = stand.channel.parse_callback

    def capture(headers: dict[str, str], body: bytes, *, now: datetime) -> Notification:
        captured.append((dict(headers), body))
        return original(headers, body, now=now)

    stand.channel.parse_callback = capture  # type: ignore[method-assign]
    try:
        await paid_trade(stand, receiver)
    finally:
        del stand.channel.parse_callback
    headers, body = captured[0]
    now = datetime.now(UTC)
    assert stand.channel.parse_callback(headers, body, now=now).trade.state is TradeState.paid
    index = body.index(b"=") + 1 if stand.channel.name == "alipay" else len(body) // 2
    tampered = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
    with pytest.raises(CallbackRejected):
        stand.channel.parse_callback(headers, tampered, now=now)
    if stand.channel.name == "wechatpay":  # its signature travels in headers, and dates them
        with pytest.raises(CallbackRejected):
            stand.channel.parse_callback({}, body, now=now)
        with pytest.raises(CallbackRejected):
            stand.channel.parse_callback(headers, body, now=now + timedelta(minutes=6))


async def test_close_makes_an_order_unpayable_and_says_when_it_was_paid(
    stand: Stand, receiver: Receiver
) -> None:
    request = charge_request(stand, receiver)
    await stand.channel.charge(request)
    await stand.channel.close(request.out_trade_no)
    await stand.channel.close(request.out_trade_no)  # closing twice is no error
    refused = await stand.http.post(
        f"{stand.peer_url}/_control/pay", json={"out_trade_no": request.out_trade_no}
    )
    assert refused.status_code != 200 or stand.channel.name == "alipay"
    status = await stand.channel.query(request.out_trade_no)
    assert status.state in (TradeState.closed, TradeState.unknown, TradeState.paid)
    paid = await paid_trade(stand, receiver)
    with pytest.raises(AlreadyPaid):
        await stand.channel.close(paid)
    await stand.channel.close(number("ZBNONE"))  # unknown: nothing to close


async def test_a_refund_is_once_per_number_and_never_more_than_was_paid(
    stand: Stand, receiver: Receiver
) -> None:
    out_trade_no = await paid_trade(stand, receiver, amount_fen=5000)
    request = RefundRequest(
        out_trade_no=out_trade_no,
        out_refund_no=number("RF"),
        refund_fen=2000,
        total_fen=5000,
        reason="部分费用退回",
        notify_url=f"{receiver.url}/{stand.channel.name}/refund",
    )
    first = await stand.channel.refund(request)
    assert first.out_refund_no == request.out_refund_no
    if first.state is RefundState.processing:
        await stand.settle_refund(request.out_refund_no, RefundState.succeeded)
    settled = await stand.channel.query_refund(out_trade_no, request.out_refund_no)
    assert settled.state is RefundState.succeeded and settled.amount_fen == 2000
    repeated = await stand.channel.refund(request)  # the same number: nothing more refunded
    assert repeated.out_refund_no == request.out_refund_no
    if hasattr(stand, "advance_clock"):
        await stand.advance_clock(61)  # WeChat Pay: one refund of an order a minute
    too_much = RefundRequest(
        out_trade_no=out_trade_no,
        out_refund_no=number("RF"),
        refund_fen=3001,
        total_fen=5000,
        reason="超额退款",
        notify_url=f"{receiver.url}/{stand.channel.name}/refund",
    )
    with pytest.raises(ChannelRefused):
        await stand.channel.refund(too_much)


async def test_the_daily_bill_lists_the_payment(stand: Stand, receiver: Receiver) -> None:
    out_trade_no = await paid_trade(stand, receiver, amount_fen=4321)
    day = local_today(datetime.now(UTC))
    if hasattr(stand, "advance_clock"):
        await stand.advance_clock(seconds_until_todays_bill())
    else:
        await stand.control("advance-clock", {"seconds": seconds_until_todays_bill()})
    entries = await stand.channel.bill(day)
    mine = [e for e in entries if e.out_trade_no == out_trade_no]
    assert [(e.kind, e.amount_fen) for e in mine] == [(BillEntryKind.payment, 4321)]
    assert mine[0].transaction_id


async def test_an_unreachable_channel_is_unavailable(sandbox_keys_dir: Path) -> None:
    base = f"http://127.0.0.1:{free_port()}/sandbox"
    settings = Settings(sandbox_base_url=base, sandbox_keys_dir=sandbox_keys_dir)
    async with httpx.AsyncClient(timeout=httpx.Timeout(2.0, connect=1.0)) as http:
        for name, build in CHANNELS.items():
            with pytest.raises(ChannelUnavailable):
                await build(settings, http).query(number())
            assert name
