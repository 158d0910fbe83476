"""One WeChat access token per deployment (PROTOCOLS.md, "Access token").

Driven against the sandbox WeChat peer as its own process, whose call counts (``_control/stats``)
show what reached the platform:

* any number of concurrent callers, in one worker or several sharing Redis, cause ONE
  ``stable_token`` call, and the token is cached in Redis;
* a token WeChat refuses (42001 expired, 40001 replaced) is refreshed once, with
  ``force_refresh``, by one caller only, and the refused call is retried and succeeds;
* ``/cgi-bin/token``, which would knock out the token other servers hold, is never called.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sanic import Sanic

from auth.models import User
from core.settings import Settings
from platforms.wechat import WeChatClient, WeChatUnavailable
from tests.people import Phone
from tests.processes import free_port

MOBILE = "13912345678"


@dataclass
class Stats:
    sandbox: httpx.AsyncClient

    async def get(self) -> dict[str, Any]:
        response = await self.sandbox.get("/wechat/_control/stats")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def stable_calls(self) -> int:
        return int((await self.get())["calls"]["stable_token"])


@pytest.fixture
async def stats(clean: Sanic, sandbox: httpx.AsyncClient) -> AsyncIterator[Stats]:
    """The WeChat peer reset (no token, no counts); afterwards, /cgi-bin/token was never used."""
    assert (await sandbox.post("/wechat/_control/reset")).status_code == 200
    counter = Stats(sandbox)
    yield counter
    final = await counter.get()
    assert final["calls"]["token"] == 0, "the deployment must never call /cgi-bin/token"


def token_key(settings: Settings) -> str:
    return f"wechat:access_token:{settings.wechat_appid}"


@pytest.fixture
async def second_worker(clean: Sanic, settings: Settings) -> AsyncIterator[WeChatClient]:
    """A WeChatClient as another worker builds it: its own HTTP client and Redis connection
    (the same Redis server; on the embedded profile the in-process stand-in is the server)."""
    redis: Redis = Redis.from_url(settings.redis_url) if settings.redis_url else clean.ctx.redis
    async with httpx.AsyncClient(timeout=10) as http:
        yield WeChatClient(settings=settings, redis=redis, http=http)
    if redis is not clean.ctx.redis:
        await redis.aclose()


async def wechat_user(sandbox: httpx.AsyncClient) -> str:
    """The openid of a user the platform knows (as after ``wx.login`` on their phone)."""
    response = await sandbox.post("/wechat/_control/login-code", json={})
    assert response.status_code == 200, response.text
    return str(response.json()["openid"])


async def phone_codes(sandbox: httpx.AsyncClient, openids: list[str]) -> list[str]:
    """One getPhoneNumber code per openid, each bound to its user as WeChat binds it."""
    codes = []
    for openid in openids:
        response = await sandbox.post(
            "/wechat/_control/phone-code", json={"phone_number": MOBILE, "openid": openid}
        )
        assert response.status_code == 200, response.text
        codes.append(str(response.json()["code"]))
    return codes


async def expire_wechat_tokens(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.post("/wechat/_control/expire-token", json={})
    assert response.status_code == 200, response.text
    assert response.json()["expired"] >= 1


async def test_concurrent_callers_cause_one_stable_token_call(
    clean: Sanic, settings: Settings, stats: Stats
) -> None:
    wechat: WeChatClient = clean.ctx.auth.wechat
    tokens = await asyncio.gather(*(wechat.access_token() for _ in range(20)))
    assert len(set(tokens)) == 1
    assert await stats.stable_calls() == 1

    raw = await clean.ctx.redis.get(token_key(settings))
    assert raw is not None, "the token must be cached in Redis for every worker"
    assert json.loads(raw)["token"] == tokens[0]
    ttl = await clean.ctx.redis.ttl(token_key(settings))
    assert 0 < ttl <= 7200

    # Later callers read the cache.
    assert await wechat.access_token() == tokens[0]
    assert await stats.stable_calls() == 1
    current = await stats.get()
    assert current["force_refreshes"] == 0 and current["tokens_issued"] == 1


async def test_concurrent_logins_and_phone_bindings_share_one_token(
    clean: Sanic,
    sandbox: httpx.AsyncClient,
    phone: Callable[[], Phone],
    stats: Stats,
) -> None:
    people = [phone() for _ in range(10)]
    await asyncio.gather(*(person.login() for person in people))
    codes = await phone_codes(sandbox, [str(person.openid) for person in people])
    answers = await asyncio.gather(
        *(
            person.call("POST", "/api/v1/me/phone", json={"code": code})
            for person, code in zip(people, codes, strict=True)
        )
    )
    assert [a.status_code for a in answers] == [200] * len(people), [a.text for a in answers]
    assert all(a.json()["phone"] == "139****5678" for a in answers)
    assert await User.filter(phone_hash__isnull=False).count() == len(people)
    current = await stats.get()
    assert current["calls"]["stable_token"] == 1
    assert current["calls"]["getuserphonenumber"] == len(people)
    assert current["errors"]["getuserphonenumber"] == 0


async def test_two_workers_share_one_token(
    clean: Sanic, second_worker: WeChatClient, stats: Stats
) -> None:
    first: WeChatClient = clean.ctx.auth.wechat
    tokens = await asyncio.gather(
        *(first.access_token() for _ in range(10)),
        *(second_worker.access_token() for _ in range(10)),
    )
    assert len(set(tokens)) == 1
    assert await stats.stable_calls() == 1
    assert await second_worker.access_token() == await first.access_token() == tokens[0]
    assert await stats.stable_calls() == 1


async def test_expired_token_is_refreshed_once_and_the_call_retried(
    clean: Sanic,
    settings: Settings,
    sandbox: httpx.AsyncClient,
    phone: Callable[[], Phone],
    stats: Stats,
) -> None:
    person = phone()
    await person.login()
    old = await clean.ctx.auth.wechat.access_token()
    assert await stats.stable_calls() == 1
    await expire_wechat_tokens(sandbox)

    [code] = await phone_codes(sandbox, [str(person.openid)])
    response = await person.call("POST", "/api/v1/me/phone", json={"code": code})
    assert response.status_code == 200, response.text
    assert response.json()["phone"] == "139****5678"

    current = await stats.get()
    assert current["calls"]["stable_token"] == 2
    # an expired token is replaced by a plain stable_token call: no forced refresh spent
    assert current["force_refreshes"] == 0 and current["force_refreshes_ignored"] == 0
    # The first try was refused as expired (42001), the retry went through.
    assert current["calls"]["getuserphonenumber"] == 2
    assert current["errors"]["getuserphonenumber"] == 1
    cached = json.loads(await clean.ctx.redis.get(token_key(settings)))["token"]
    assert cached != old
    assert await clean.ctx.auth.wechat.access_token() == cached


async def test_refresh_after_expiry_is_single_flight_across_workers(
    clean: Sanic,
    settings: Settings,
    sandbox: httpx.AsyncClient,
    second_worker: WeChatClient,
    stats: Stats,
) -> None:
    first: WeChatClient = clean.ctx.auth.wechat
    old = await first.access_token()
    await expire_wechat_tokens(sandbox)

    openid = await wechat_user(sandbox)
    codes = await phone_codes(sandbox, [openid] * 20)
    workers = [first, second_worker] * 10
    numbers = await asyncio.gather(
        *(
            worker.phone_number(code, openid=openid)
            for worker, code in zip(workers, codes, strict=True)
        )
    )
    assert {n.pure_phone_number for n in numbers} == {MOBILE}

    current = await stats.get()
    assert current["calls"]["stable_token"] == 2  # the first fetch and ONE refresh
    # an expired token is replaced by a plain stable_token call: no forced refresh spent
    assert current["force_refreshes"] == 0 and current["force_refreshes_ignored"] == 0
    assert current["tokens_issued"] == 2
    # Every refused call was retried once and succeeded.
    calls, errors = current["calls"]["getuserphonenumber"], current["errors"]["getuserphonenumber"]
    assert calls - errors == 20 and 1 <= errors <= 20
    new = json.loads(await clean.ctx.redis.get(token_key(settings)))["token"]
    assert new != old
    assert await second_worker.access_token() == new


async def test_token_replaced_elsewhere_40001_is_refreshed_once(
    clean: Sanic, settings: Settings, sandbox: httpx.AsyncClient, stats: Stats
) -> None:
    wechat: WeChatClient = clean.ctx.auth.wechat
    old = await wechat.access_token()
    # Someone force-refreshes the stable token; once its grace period is over the token we
    # cached is no longer the latest (40001).
    forced = await sandbox.post(
        "/wechat/cgi-bin/stable_token",
        json={
            "grant_type": "client_credential",
            "appid": settings.wechat_appid,
            "secret": settings.wechat_secret,
            "force_refresh": True,
        },
    )
    assert forced.status_code == 200 and "access_token" in forced.json(), forced.text
    moved = await sandbox.post("/wechat/_control/advance-clock", json={"seconds": 31})
    assert moved.status_code == 200, moved.text

    openid = await wechat_user(sandbox)
    [code] = await phone_codes(sandbox, [openid])
    number = await wechat.phone_number(code, openid=openid)
    assert number.pure_phone_number == MOBILE

    current = await stats.get()
    assert current["calls"]["stable_token"] == 3  # ours, the outsider's, our plain refresh
    assert current["force_refreshes"] == 1  # the outsider's only: the quota is not spent
    assert current["errors"]["getuserphonenumber"] == 1
    assert await wechat.access_token() == forced.json()["access_token"] != old


async def test_wechat_out_of_reach_is_unavailable_not_an_error(
    clean: Sanic, settings: Settings
) -> None:
    """The login's code2session goes through wechatpy (requests): a WeChat that cannot be
    reached is 'busy, try again' (503), like the token and the phone number, not a 500."""
    nowhere = settings.model_copy(update={"wechat_api_base": f"http://127.0.0.1:{free_port()}"})
    async with httpx.AsyncClient(timeout=3) as http:
        client = WeChatClient(settings=nowhere, redis=clean.ctx.redis, http=http)
        with pytest.raises(WeChatUnavailable):
            await client.code_to_session("any-code")
        with pytest.raises(WeChatUnavailable):
            await client.phone_number("any-code", openid="o-someone")
