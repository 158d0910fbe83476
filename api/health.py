"""Liveness and readiness probes for the orchestrator and the load balancer."""

from __future__ import annotations

import asyncio
import logging

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from api.endpoint import Audience, endpoint
from api.schemas import Health, Readiness
from core.db import ping_db
from core.errors import ServiceUnavailable
from core.redis import ping_redis

log = logging.getLogger("zhangban.health")
bp = Blueprint("health")
CHECK_TIMEOUT_S = 2.0


@bp.get("/healthz")
@endpoint("Process alive", tag="health", audience=Audience.anonymous, out=Health)
async def healthz(request: Request) -> HTTPResponse:
    return json({"status": "ok"})


@bp.get("/readyz")
@endpoint(
    "Dependencies reachable (database, Redis, object store)",
    tag="health",
    audience=Audience.anonymous,
    out=Readiness,
)
async def readyz(request: Request) -> HTTPResponse:
    checks = {
        "database": ping_db,
        "redis": lambda: ping_redis(request.app.ctx.redis),
        "object_store": request.app.ctx.store.ping,
    }
    results: dict[str, str] = {}
    for name, probe in checks.items():
        try:
            # shield: a slow probe times out for this answer but is never cancelled half-way
            # through opening a connection, which would wedge the pool for every later request.
            await asyncio.wait_for(asyncio.shield(probe()), CHECK_TIMEOUT_S)
            results[name] = "ok"
        except Exception as exc:  # a probe reports any failure; it must never raise itself
            log.warning("readiness check failed", extra={"check": name, "error": repr(exc)})
            results[name] = f"failed: {type(exc).__name__}"
    if all(value == "ok" for value in results.values()):
        return json({"status": "ready", "checks": results})
    failed = [name for name, value in results.items() if value != "ok"]
    raise ServiceUnavailable(
        "服务暂时不可用，请稍后再试。",
        code="service.not_ready",
        details={"failed": failed, "checks": results},
    )
