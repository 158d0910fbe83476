"""TokenService without a database: values, the verification hot path, the revocation check."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import fakeredis
import pytest

from auth.tokens import GENERATION_KEY, Principal, TokenExpired, TokenRevoked, TokenService
from core.keys import parse_jwt_keys

KEYS = parse_jwt_keys("k1:" + "a" * 40 + ",k2:" + "b" * 40)
TTL: dict[Any, tuple[int, int]] = {"citizen": (900, 30 * 86400), "staff": (600, 12 * 3600)}


class Clock:
    def __init__(self, now: float = 1_900_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def redis() -> fakeredis.FakeAsyncRedis:
    return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())


def make(redis: Any, clock: Any = time.time, check_s: float = 1.0) -> TokenService:
    return TokenService(KEYS, "k1", redis, TTL, revocation_check_s=check_s, clock=clock)


def test_principal_kind_and_id() -> None:
    user = Principal("u:12", "citizen", "s1", 1.5, 2)
    staff = Principal("s:7", "staff", "s2", 1.5, 2)
    assert (user.kind, user.id) == ("user", 12)
    assert (staff.kind, staff.id) == ("staff", 7)


def test_constructor_checks_configuration(redis: Any) -> None:
    with pytest.raises(ValueError):
        TokenService(KEYS, "k3", redis, TTL, revocation_check_s=1.0)
    with pytest.raises(ValueError):
        TokenService(KEYS, "k1", redis, {"citizen": (900, 60)}, revocation_check_s=1.0)


async def test_a_seen_token_is_not_decoded_again(
    redis: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verification of a token this worker has seen is a lookup, not another HMAC and JSON
    parse (the cost is measured by bench/, not here)."""
    import auth.tokens as tokens_module

    service = make(redis)
    token = service._mint_access("u:1", "citizen", "0123456789abcdef", time.time())
    decodes = 0
    real_decode = tokens_module.jwt.decode

    def counting_decode(*args: Any, **kwargs: Any) -> Any:
        nonlocal decodes
        decodes += 1
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(tokens_module.jwt, "decode", counting_decode)
    for _ in range(50):
        await service.verify_access(token, audience="citizen")
    assert decodes == 1


async def test_clock_going_back_rechecks_revocations(redis: Any) -> None:
    clock = Clock()
    a, b = make(redis, clock, check_s=60.0), make(redis, clock, check_s=60.0)
    token = a._mint_access("u:1", "citizen", "0123456789abcdef", clock.now - 1)
    await a.verify_access(token, audience="citizen")
    await b._publish(clock.now, sessions={"0123456789abcdef": clock.now}, subjects={})
    await a.verify_access(token, audience="citizen")  # within a's interval
    clock.now -= 5  # e.g. an NTP step back: do not wait for the clock to catch up
    with pytest.raises(TokenRevoked):
        await a.verify_access(token, audience="citizen")


async def test_redis_failure_is_raised_and_retried(redis: Any) -> None:
    clock = Clock()
    service = make(redis, clock, check_s=60.0)
    token = service._mint_access("u:1", "citizen", "0123456789abcdef", clock.now)

    class Down(Exception):
        pass

    real_get = redis.get

    async def broken_get(*args: Any, **kwargs: Any) -> Any:
        raise Down()

    redis.get = broken_get
    with pytest.raises(Down):  # fails closed: no revocation state, no answer
        await service.verify_access(token, audience="citizen")
    redis.get = real_get
    assert await service.verify_access(token, audience="citizen")  # retried at once


async def test_generation_reset_is_noticed(redis: Any) -> None:
    """A flushed Redis (generation back to 0) still makes workers re-read."""
    clock = Clock()
    a, b = make(redis, clock, check_s=0.0), make(redis, clock, check_s=0.0)
    token = a._mint_access("u:1", "citizen", "0123456789abcdef", clock.now - 1)
    await b._publish(clock.now, sessions={"0123456789abcdef": clock.now}, subjects={})
    with pytest.raises(TokenRevoked):
        await a.verify_access(token, audience="citizen")
    await redis.flushdb()
    assert await redis.get(GENERATION_KEY) is None
    assert await a.verify_access(token, audience="citizen")


async def test_expiry_boundary(redis: Any) -> None:
    clock = Clock()
    service = make(redis, clock)
    token = service._mint_access("u:1", "citizen", "0123456789abcdef", clock.now)
    clock.now = int(clock.now) + 900 - 0.001
    await service.verify_access(token, audience="citizen")
    clock.now = int(clock.now) + 1.0  # exactly exp: expired (as PyJWT counts it)
    with pytest.raises(TokenExpired):
        await service.verify_access(token, audience="citizen")


class SlowPipelines:
    """Redis whose pipelines hold their results until ``release`` is set."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.release = asyncio.Event()
        self.holding = asyncio.Event()
        self.hold = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def pipeline(self, **kwargs: Any) -> Any:
        outer = self
        inner = self.inner.pipeline(**kwargs)

        class Held:
            async def __aenter__(self) -> Any:
                pipe = await inner.__aenter__()
                execute = pipe.execute

                async def held_execute() -> Any:
                    result = await execute()
                    if outer.hold:
                        outer.holding.set()
                        await outer.release.wait()
                    return result

                pipe.execute = held_execute
                return pipe

            async def __aexit__(self, *exc: Any) -> Any:
                return await inner.__aexit__(*exc)

        return Held()


async def test_own_revocation_survives_a_read_already_in_flight(redis: Any) -> None:
    clock = Clock()
    slow = SlowPipelines(redis)
    service = TokenService(KEYS, "k1", slow, TTL, revocation_check_s=60.0, clock=clock)  # type: ignore[arg-type]
    token = service._mint_access("u:1", "citizen", "0123456789abcdef", clock.now - 1)
    await service.verify_access(token, audience="citizen")
    await redis.incr(GENERATION_KEY)  # someone else revoked something: the next check re-reads
    clock.now += 60
    slow.hold = True
    reading = asyncio.create_task(service.verify_access(token, audience="citizen"))
    await slow.holding.wait()  # the read has its (old) answer but has not applied it yet
    slow.hold = False
    await service._publish(clock.now, sessions={"0123456789abcdef": clock.now}, subjects={})
    slow.release.set()
    with pytest.raises(TokenRevoked):  # it answers after the revocation: refused
        await reading
    # Within the interval only the local copy counts: the stale read did not erase our own.
    with pytest.raises(TokenRevoked):
        await service.verify_access(token, audience="citizen")
