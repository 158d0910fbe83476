"""Two-layer read cache: per-worker memory in front of Redis, invalidated by a generation counter.

Keys live under ``<namespace>:<generation>:<key>`` in Redis. Invalidation is one ``INCR`` of the
namespace's generation: every older entry becomes unreachable at once and expires on its own.
Each worker keeps the entries it has served in memory and re-reads the generation at most every
``local_s`` seconds, so a hot guide costs no round trip at all; another worker sees an
invalidation within ``local_s`` seconds, the worker that invalidates sees it immediately.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis


class GenerationalCache:
    def __init__(
        self,
        redis: Redis,
        namespace: str,
        *,
        ttl_s: int,
        local_s: float,
        max_local_entries: int = 4096,
    ) -> None:
        self._redis = redis
        self._namespace = namespace
        self._ttl_s = ttl_s
        self._local_s = local_s
        self._max_local = max_local_entries
        self._generation: int | None = None
        self._generation_read_at = 0.0
        self._local: OrderedDict[str, bytes] = OrderedDict()

    @property
    def _generation_key(self) -> str:
        return f"{self._namespace}:generation"

    async def _current_generation(self) -> int:
        now = time.monotonic()
        if self._generation is None or now - self._generation_read_at > self._local_s:
            raw = await self._redis.get(self._generation_key)
            generation = int(raw) if raw else 0
            if generation != self._generation:
                self._local.clear()
            self._generation = generation
            self._generation_read_at = now
        return self._generation

    async def get_or_build(self, key: str, build: Callable[[], Awaitable[bytes]]) -> bytes:
        """The cached bytes for ``key``, building and storing them on a miss."""
        generation = await self._current_generation()
        local = self._local.get(key)
        if local is not None:
            self._local.move_to_end(key)
            return local
        redis_key = f"{self._namespace}:{generation}:{key}"
        cached = await self._redis.get(redis_key)
        value = cached if isinstance(cached, bytes) else None
        if value is None:
            value = await build()
            await self._redis.set(redis_key, value, ex=self._ttl_s)
        # An invalidation during the awaits above made ``value`` stale: serve it this once,
        # but do not keep it, or this worker would go on serving it until the next change.
        if self._generation == generation:
            self._remember(key, value)
        return value

    def _remember(self, key: str, value: bytes) -> None:
        self._local[key] = value
        if len(self._local) > self._max_local:
            self._local.popitem(last=False)

    async def invalidate(self) -> None:
        """Make every entry of the namespace stale, everywhere."""
        self._generation = int(await self._redis.incr(self._generation_key))
        self._generation_read_at = time.monotonic()
        self._local.clear()
