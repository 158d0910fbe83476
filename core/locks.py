"""A Redis lock with an owner token: only the holder may extend or release it.

A plain ``DEL`` after the work would remove a lock that already expired and was taken by another
process, letting a third one in beside it. Each holder therefore writes a random token and the
extension and release are compare-and-act Lua scripts on that token. The TTL is what frees the
lock when its holder dies; a holder that works longer than the TTL extends it while it works.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


class RedisLock:
    """One attempt to hold ``key``; make a new object for every acquisition."""

    def __init__(self, redis: Redis, key: str, *, ttl_ms: int) -> None:
        self.redis = redis
        self.key = key
        self.ttl_ms = ttl_ms
        self.owner = secrets.token_hex(8)

    async def acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits."""
        return bool(await self.redis.set(self.key, self.owner, nx=True, px=self.ttl_ms))

    async def extend(self) -> bool:
        """Push the expiry out by the TTL again; False when the lock is no longer ours."""
        return bool(await self.redis.eval(_EXTEND, 1, self.key, self.owner, self.ttl_ms))

    async def release(self) -> bool:
        """Release the lock if it is still ours (it may have expired and been taken)."""
        return bool(await self.redis.eval(_RELEASE, 1, self.key, self.owner))
