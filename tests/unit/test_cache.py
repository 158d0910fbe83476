"""GenerationalCache: worker memory in front of Redis, invalidated by a generation counter."""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable

import fakeredis
import pytest

import core.cache
from core.cache import GenerationalCache


@pytest.fixture
def redis() -> fakeredis.FakeAsyncRedis:
    # Its own server per test, so tests never see each other's keys.
    return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())


class Clock:
    """Stands in for ``time.monotonic`` inside ``core.cache`` only (not the event loop's)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(core.cache, "time", types.SimpleNamespace(monotonic=clock.monotonic))
    return clock


class Builder:
    """A build function that counts its calls and returns a new value each time."""

    def __init__(self, prefix: str = "v") -> None:
        self.calls = 0
        self.prefix = prefix

    def __call__(self) -> Callable[[], Awaitable[bytes]]:
        async def build() -> bytes:
            self.calls += 1
            return f"{self.prefix}{self.calls}".encode()

        return build


def make(redis: fakeredis.FakeAsyncRedis, **kwargs: float) -> GenerationalCache:
    options = {"ttl_s": 60, "local_s": 0.0, **kwargs}
    return GenerationalCache(redis, "guides", **options)  # type: ignore[arg-type]


async def test_build_runs_once_on_repeated_gets(redis: fakeredis.FakeAsyncRedis) -> None:
    cache = make(redis, local_s=60)
    builder = Builder()
    values = [await cache.get_or_build("ITEM-1", builder()) for _ in range(5)]
    assert values == [b"v1"] * 5
    assert builder.calls == 1


async def test_keys_are_cached_separately(redis: fakeredis.FakeAsyncRedis) -> None:
    cache = make(redis)
    a, b = Builder("a"), Builder("b")
    assert await cache.get_or_build("A", a()) == b"a1"
    assert await cache.get_or_build("B", b()) == b"b1"
    assert await cache.get_or_build("A", a()) == b"a1"
    assert (a.calls, b.calls) == (1, 1)


async def test_value_is_stored_in_redis_under_the_generation_with_ttl(
    redis: fakeredis.FakeAsyncRedis,
) -> None:
    cache = make(redis, ttl_s=120)
    await cache.get_or_build("ITEM-1", Builder()())
    assert await redis.get("guides:0:ITEM-1") == b"v1"
    assert 0 < await redis.ttl("guides:0:ITEM-1") <= 120


async def test_invalidate_makes_the_next_get_rebuild(redis: fakeredis.FakeAsyncRedis) -> None:
    cache = make(redis, local_s=60)  # the invalidating worker sees it at once, whatever local_s
    builder = Builder()
    assert await cache.get_or_build("ITEM-1", builder()) == b"v1"
    await cache.invalidate()
    assert await cache.get_or_build("ITEM-1", builder()) == b"v2"
    assert await cache.get_or_build("ITEM-1", builder()) == b"v2"
    assert builder.calls == 2
    assert await redis.get("guides:generation") == b"1"


async def test_a_second_worker_reuses_the_redis_entry(redis: fakeredis.FakeAsyncRedis) -> None:
    one, two = make(redis), make(redis)
    builder = Builder()
    assert await one.get_or_build("ITEM-1", builder()) == b"v1"
    assert await two.get_or_build("ITEM-1", builder()) == b"v1"
    assert builder.calls == 1


async def test_another_worker_sees_the_invalidation_at_once_with_local_s_zero(
    redis: fakeredis.FakeAsyncRedis, clock: Clock
) -> None:
    one, two = make(redis, local_s=0), make(redis, local_s=0)
    builder = Builder()
    assert await two.get_or_build("ITEM-1", builder()) == b"v1"
    await one.invalidate()
    clock.advance(0.001)
    assert await two.get_or_build("ITEM-1", builder()) == b"v2"
    assert await one.get_or_build("ITEM-1", builder()) == b"v2"  # from Redis, not rebuilt
    assert builder.calls == 2


async def test_another_worker_keeps_its_local_copy_until_it_rereads_the_generation(
    redis: fakeredis.FakeAsyncRedis, clock: Clock
) -> None:
    one, two = make(redis, local_s=60), make(redis, local_s=60)
    builder = Builder()
    assert await two.get_or_build("ITEM-1", builder()) == b"v1"

    await one.invalidate()
    assert await one.get_or_build("ITEM-1", builder()) == b"v2"

    # Within local_s the other worker trusts its memory: still the old value, no rebuild.
    clock.advance(30)
    assert await two.get_or_build("ITEM-1", builder()) == b"v1"
    clock.advance(29.9)
    assert await two.get_or_build("ITEM-1", builder()) == b"v1"
    assert builder.calls == 2

    # Once local_s has passed it re-reads the generation and drops its stale memory.
    clock.advance(1)
    assert await two.get_or_build("ITEM-1", builder()) == b"v2"
    assert builder.calls == 2  # the new generation's value came from Redis


async def test_local_memory_serves_without_redis_within_local_s(
    redis: fakeredis.FakeAsyncRedis, clock: Clock
) -> None:
    cache = make(redis, local_s=60)
    builder = Builder()
    assert await cache.get_or_build("ITEM-1", builder()) == b"v1"
    await redis.flushall()  # Redis forgets everything
    clock.advance(10)
    assert await cache.get_or_build("ITEM-1", builder()) == b"v1"
    assert builder.calls == 1


async def test_local_memory_is_bounded_and_evicts_the_least_recently_used(
    redis: fakeredis.FakeAsyncRedis,
) -> None:
    cache = make(redis, local_s=60, max_local_entries=2)
    builders = {key: Builder(key) for key in "ABC"}
    await cache.get_or_build("A", builders["A"]())
    await cache.get_or_build("B", builders["B"]())
    await cache.get_or_build("A", builders["A"]())  # A is now the most recently used
    await cache.get_or_build("C", builders["C"]())  # evicts B, the oldest
    assert list(cache._local) == ["A", "C"]
    assert len(cache._local) == 2

    # B comes back from Redis (not rebuilt) and evicts A in turn.
    assert await cache.get_or_build("B", builders["B"]()) == b"B1"
    assert list(cache._local) == ["C", "B"]
    assert {k: b.calls for k, b in builders.items()} == {"A": 1, "B": 1, "C": 1}


async def test_evicted_entry_is_rebuilt_when_redis_lost_it_too(
    redis: fakeredis.FakeAsyncRedis,
) -> None:
    cache = make(redis, local_s=60, max_local_entries=1)
    a, b = Builder("a"), Builder("b")
    await cache.get_or_build("A", a())
    await cache.get_or_build("B", b())  # evicts A from memory
    await redis.delete("guides:0:A")
    assert await cache.get_or_build("A", a()) == b"a2"
    assert a.calls == 2


async def test_a_build_that_raises_caches_nothing(redis: fakeredis.FakeAsyncRedis) -> None:
    cache = make(redis, local_s=60)

    async def broken() -> bytes:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError, match="database down"):
        await cache.get_or_build("ITEM-1", broken)
    assert "ITEM-1" not in cache._local
    assert await redis.get("guides:0:ITEM-1") is None

    builder = Builder()
    assert await cache.get_or_build("ITEM-1", builder()) == b"v1"
    assert builder.calls == 1


async def test_namespaces_are_independent(redis: fakeredis.FakeAsyncRedis) -> None:
    guides = GenerationalCache(redis, "guides", ttl_s=60, local_s=0)
    searches = GenerationalCache(redis, "search", ttl_s=60, local_s=0)
    g, s = Builder("g"), Builder("s")
    await guides.get_or_build("k", g())
    await searches.get_or_build("k", s())
    await searches.invalidate()
    assert await guides.get_or_build("k", g()) == b"g1"
    assert await searches.get_or_build("k", s()) == b"s2"


async def test_invalidate_during_a_build_is_not_lost(
    redis: fakeredis.FakeAsyncRedis, clock: Clock
) -> None:
    import asyncio

    cache = make(redis, local_s=60)
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_old_build() -> bytes:
        started.set()
        await release.wait()
        return b"old"  # read from the database before the change was committed

    pending = asyncio.create_task(cache.get_or_build("ITEM-1", slow_old_build))
    await started.wait()
    await cache.invalidate()  # the change is committed and the namespace invalidated
    release.set()
    assert await pending == b"old"  # that request may still answer with what it read

    async def new_build() -> bytes:
        return b"new"

    clock.advance(3600)  # long after local_s: every stale copy must be gone by now
    assert await cache.get_or_build("ITEM-1", new_build) == b"new"
