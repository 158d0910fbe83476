"""TokenService without a database: values, the verification hot path, the revocation check."""

from __future__ import annotations

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


async def test_cached_verification_is_cheap(redis: Any) -> None:
    """A seen token is a dict lookup: far below one full decode (HMAC + JSON, ~100+ µs here).

    The bound is loose on purpose (shared CI machines); measured ≈0.6-1 µs per call.
    """
    service = make(redis)
    token = service._mint_access("u:1", "citizen", "0123456789abcdef", time.time())
    await service.verify_access(token, audience="citizen")
    rounds = 20_000
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(rounds):
            await service.verify_access(token, audience="citizen")
        best = min(best, (time.process_time() - started) / rounds)
    assert best < 15e-6, f"cached verification took {best * 1e6:.2f} µs"


async def test_clock_going_back_rechecks_revocations(redis: Any) -> None:
    clock = Clock()
    a, b = make(redis, clock, check_s=60.0), make(redis, clock, check_s=60.0)
    token = a._mint_access("u:1", "citizen", "0123456789abcdef", clock.now - 1)
    await a.verify_access(token, audience="citizen")
    await b.revoke_session("0123456789abcdef")
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
    await b.revoke_session("0123456789abcdef")
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
