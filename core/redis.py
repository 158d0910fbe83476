"""Redis through ``redis.asyncio``; on the embedded profile an in-process stand-in (fakeredis).

aioredis is not used: it was merged into redis-py and its last release fails to import on 3.11.
"""

from __future__ import annotations

from redis.asyncio import Redis

from core.settings import Settings


def create_redis(settings: Settings) -> Redis:
    """A client for the configured server, or a private in-process server when none is set."""
    if settings.redis_url:
        return Redis.from_url(settings.redis_url, decode_responses=False, health_check_interval=30)
    import fakeredis  # deferred: the embedded stand-in; a deployment with Redis never loads it

    return fakeredis.FakeAsyncRedis(decode_responses=False)


async def ping_redis(redis: Redis) -> None:
    """Raise if Redis does not answer."""
    await redis.ping()
