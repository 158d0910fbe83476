"""The message-channel port (``notify.providers.base.Channel``), against every channel.

Every channel the factory builds (``notify.providers.factory.notify_channels``) is pointed at its
peer in the session's sandbox process, as the composition root would point it at the platform. A
stand says how to give the peer an address that may receive, how to make it busy, slow or
failing, and how to count what it received; a channel without a stand fails the suite.

The contract: a good envelope is ``sent`` with the channel's reference; a refused address or
value is ``permanent`` (the field named where the channel names it); busy, a 5xx, an unreachable
channel and a timeout are ``transient``; nothing raises. ``lookup`` finds what arrived (or says it
cannot know), and finds nothing for a key never sent.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from core.redis import create_redis
from core.settings import Settings
from notify.catalogue import load_catalogue
from notify.formatting import wechat_value
from notify.ledger import ledger_key
from notify.providers.base import Channel, Envelope, Known, Outcome
from notify.providers.factory import notify_channels
from platforms.wechat import WeChatClient
from tests.conftest import SANDBOX_APPID, SANDBOX_SECRET
from tests.contract.ports import StandFactory, missing_stands, nowhere, stand_fixture

CATALOGUE = load_catalogue("")
PROGRESS = CATALOGUE.wechat["progress"]
SMS_PROGRESS = CATALOGUE.sms["progress"]
NOW = datetime.now(UTC)


@dataclass
class Stand:
    channel: Channel
    #: the same channel with a client that gives up after 0.5 s
    impatient: Channel
    #: the same channel where nothing answers
    unreachable: Channel
    #: an address that may receive one message of ``template``
    address: Callable[[], Awaitable[str]]
    #: an address the channel refuses for good
    bad_address: str
    template: str
    fields: dict[str, str]
    fault: Callable[[str, int, float], Awaitable[None]]
    #: how many messages with this envelope's key/address the peer holds
    received: Callable[[Envelope], Awaitable[int]]
    #: whether ``lookup`` can tell (SMS) or not (WeChat)
    can_look_up: bool
    #: a field value the channel refuses, and the field it names
    bad_field: tuple[str, str]


def _settings(sandbox_url: str) -> Settings:
    return Settings(
        sandbox_enabled=False,
        sandbox_base_url=sandbox_url,
        notify_miniprogram_state="developer",
        wechat_appid=SANDBOX_APPID,
        wechat_secret=SANDBOX_SECRET,
    )


@asynccontextmanager
async def wechat_stand(sandbox_url: str, http: httpx.AsyncClient) -> AsyncIterator[Stand]:
    settings = _settings(sandbox_url)
    redis = create_redis(settings)

    def channel_of(client: httpx.AsyncClient, base: str) -> Channel:
        s = _settings(base)
        return notify_channels(
            s.model_copy(update={"notify_channels": "wechat"}),
            http=client,
            wechat=WeChatClient(settings=s, redis=redis, http=client),
        )["wechat"]

    async def control(path: str, body: dict) -> dict:
        answer = await http.post(f"{sandbox_url}/wechat/_control/{path}", json=body)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def address() -> str:
        openid = (await control("login-code", {}))["openid"]
        await control("subscribe", {"openid": openid, "results": {PROGRESS.template_id: "accept"}})
        return str(openid)

    async def fault(mode: str, count: int, delay_s: float) -> None:
        body: dict = {"mode": mode, "count": count}
        if mode == "slow":
            body["delay_s"] = delay_s
        await control("subscribe-faults", body)

    async def received(envelope: Envelope) -> int:
        answer = await http.get(
            f"{sandbox_url}/wechat/_control/subscribe-messages",
            params={"openid": envelope.address, "template_id": envelope.template},
        )
        return len(answer.json()["messages"])

    impatient = httpx.AsyncClient(timeout=httpx.Timeout(0.5, connect=0.5))
    fields = {
        key: wechat_value(key, value)
        for key, value in {
            "thing1": "居民身份证换领",
            "character_string2": "A2026120700001",
            "phrase3": "已受理",
            "date4": NOW,
            "thing5": "承诺5个工作日内办结",
        }.items()
    }
    try:
        yield Stand(
            channel=channel_of(http, sandbox_url),
            impatient=channel_of(impatient, sandbox_url),
            unreachable=channel_of(http, nowhere()),
            address=address,
            bad_address="o-nobody-" + secrets.token_hex(4),
            template=PROGRESS.template_id,
            fields=fields,
            fault=fault,
            received=received,
            can_look_up=False,
            bad_field=("thing1", "一" * 21),
        )
    finally:
        await fault("normal", 0, 0)
        await impatient.aclose()
        await redis.aclose()


@asynccontextmanager
async def sms_stand(sandbox_url: str, http: httpx.AsyncClient) -> AsyncIterator[Stand]:
    async def control(path: str, body: dict) -> dict:
        answer = await http.post(f"{sandbox_url}/sms/_control/{path}", json=body)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def channel_of(client: httpx.AsyncClient, base: str) -> Channel:
        s = _settings(base)
        return notify_channels(
            s.model_copy(update={"notify_channels": "sms"}),
            http=client,
            wechat=WeChatClient(settings=s, redis=create_redis(s), http=client),
        )["sms"]

    async def address() -> str:
        return "139" + f"{secrets.randbelow(10**8):08d}"

    async def fault(mode: str, count: int, delay_s: float) -> None:
        body: dict = {"mode": mode, "count": count or None}
        if mode == "slow":
            body["delay_s"] = delay_s
        await control("faults", {} if mode == "normal" else body)

    async def received(envelope: Envelope) -> int:
        answer = await http.get(
            f"{sandbox_url}/sms/_control/messages", params={"out_id": envelope.key}
        )
        return len(answer.json()["messages"])

    impatient = httpx.AsyncClient(timeout=httpx.Timeout(0.5, connect=0.5))
    try:
        yield Stand(
            channel=channel_of(http, sandbox_url),
            impatient=channel_of(impatient, sandbox_url),
            unreachable=channel_of(http, nowhere()),
            address=address,
            bad_address="12345",
            template=SMS_PROGRESS.code,
            fields={"item": "居民身份证换领", "number": "A1", "status": "已受理", "note": "请留意"},
            fault=fault,
            received=received,
            can_look_up=True,
            bad_field=("item", "很长" * 30),
        )
    finally:
        await fault("normal", 0, 0)
        await impatient.aclose()


STANDS: dict[str, StandFactory[Stand]] = {"wechat": wechat_stand, "sms": sms_stand}
stand = stand_fixture(STANDS)


def test_every_channel_has_a_stand() -> None:
    built = notify_channels(
        Settings(notify_channels="wechat,sms"),
        http=httpx.AsyncClient(),
        wechat=None,  # type: ignore[arg-type]
    )
    assert not missing_stands(STANDS, built)


def envelope(stand: Stand, address: str) -> Envelope:
    return Envelope(
        key=ledger_key(f"outbox:{secrets.token_hex(6)}", "c", address),
        address=address,
        template=stand.template,
        fields=dict(stand.fields),
        page="pages/case/detail?id=1",
    )


async def test_a_good_message_is_sent_once_with_the_channels_reference(stand: Stand) -> None:
    message = envelope(stand, await stand.address())
    result = await stand.channel.send(message)
    assert result.outcome is Outcome.sent, result
    assert result.reference
    assert await stand.received(message) == 1


async def test_a_refused_address_is_permanent(stand: Stand) -> None:
    result = await stand.channel.send(envelope(stand, stand.bad_address))
    assert result.outcome is Outcome.permanent, result
    assert result.code


async def test_a_refused_value_is_permanent_and_named_where_the_channel_names_it(
    stand: Stand,
) -> None:
    message = envelope(stand, await stand.address())
    key, value = stand.bad_field
    bad = Envelope(
        key=message.key,
        address=message.address,
        template=message.template,
        fields={**message.fields, key: value},
        page=message.page,
    )
    result = await stand.channel.send(bad)
    assert result.outcome is Outcome.permanent, result
    if stand.channel.name == "wechat":
        assert result.field == key
    assert await stand.received(bad) == 0


@pytest.mark.parametrize("mode", ["busy", "failing"])
async def test_busy_and_failing_are_transient_and_deliver_nothing(stand: Stand, mode: str) -> None:
    message = envelope(stand, await stand.address())
    await stand.fault(mode, 1, 0)
    result = await stand.channel.send(message)
    assert result.outcome is Outcome.transient, result
    assert await stand.received(message) == 0
    again = await stand.channel.send(message)
    assert again.outcome is Outcome.sent, again


async def test_an_unreachable_channel_is_transient(stand: Stand) -> None:
    result = await stand.unreachable.send(envelope(stand, await stand.address()))
    assert result.outcome is Outcome.transient
    assert result.code in ("unreachable", "network")


async def test_a_timeout_is_transient_and_lookup_tells_what_it_can(stand: Stand) -> None:
    message = envelope(stand, await stand.address())
    await stand.fault("slow", 1, 2.0)
    result = await stand.impatient.send(message)
    assert result.outcome is Outcome.transient, result
    assert result.code == "timeout"
    import asyncio

    await asyncio.sleep(2.2)  # the slow peer took it meanwhile
    assert await stand.received(message) == 1
    known = await stand.channel.lookup(message, sent_at=datetime.now(UTC))
    assert known is (Known.sent if stand.can_look_up else Known.unknown)


async def test_lookup_finds_nothing_for_a_key_never_sent(stand: Stand) -> None:
    message = envelope(stand, await stand.address())
    known = await stand.channel.lookup(message, sent_at=datetime.now(UTC))
    assert known is (Known.not_sent if stand.can_look_up else Known.unknown)


async def test_wechat_without_consent_is_no_consent_not_an_error(stand: Stand) -> None:
    if stand.channel.name != "wechat":
        pytest.skip("consent is WeChat's")
    message = envelope(stand, await stand.address())
    assert (await stand.channel.send(message)).outcome is Outcome.sent
    second = await stand.channel.send(message)  # the one acceptance is used up
    assert second.outcome is Outcome.no_consent
    assert second.code == "43101"
