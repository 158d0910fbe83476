"""Fixed-window rate limits in Redis, shared by every worker.

A window is one Redis counter with an expiry: ``INCR`` then ``EXPIRE NX`` in one round trip. The
first request over the limit learns how long until the window ends (``Retry-After``).
"""

from __future__ import annotations

from redis.asyncio import Redis

from core.errors import RateLimited


async def hit(
    redis: Redis, key: str, *, limit: int, window_s: int, message: str | None = None
) -> int:
    """Count one event under ``key``; raise ``RateLimited`` past ``limit`` in the window."""
    redis_key = f"ratelimit:{key}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(redis_key)
        pipe.expire(redis_key, window_s, nx=True)
        pipe.ttl(redis_key)
        count, _, ttl = await pipe.execute()
    if int(count) > limit:
        raise RateLimited(max(int(ttl), 1), message)
    return int(count)


async def peek(redis: Redis, key: str) -> int:
    """How many events the current window holds (for checks that must not count)."""
    raw = await redis.get(f"ratelimit:{key}")
    return int(raw) if raw else 0


async def refund(redis: Redis, key: str) -> None:
    """Give back one event counted under ``key`` (the action turned out not to count)."""
    await redis.decr(f"ratelimit:{key}")
