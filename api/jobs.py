"""Scheduled jobs. The outbox worker runs them (``api/wiring.py`` registers them), one instance
at a time across workers; ``zhangban cleanup`` runs the clean-up once by hand."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from auth.tokens import TokenService
from core.clock import utcnow
from core.settings import Settings
from storage import service as storage
from storage.base import ObjectStore

#: keep expired refresh tokens a day, so a reuse shortly after expiry is still recognised.
REFRESH_RETENTION_S = 86400


async def run_cleanup(*, settings: Settings, store: ObjectStore, redis: Redis) -> dict[str, Any]:
    uploads = await storage.cleanup(store=store, settings=settings, now=utcnow())
    tokens = await TokenService.from_settings(settings, redis).purge_expired(
        older_than_s=REFRESH_RETENTION_S
    )
    return {"uploads": uploads, "refresh_tokens_purged": tokens}
