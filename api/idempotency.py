"""``Idempotency-Key``: a phone that retries a write gets the first answer, and nothing twice.

The first request with a key runs and its answer is kept in Redis for a day under the caller, the
route and the key. A retry with the same key and body gets that answer again (header
``Idempotent-Replayed: true``); the same key with another body is refused; a retry that arrives
while the first is still running is told to wait (409).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Awaitable, Callable

from sanic import Request
from sanic.response import HTTPResponse, raw

from core.errors import Conflict, ValidationFailed, field_error

HEADER = "Idempotency-Key"
TTL_S = 86400
PENDING_TTL_S = 60
_VALID_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")


def _caller(request: Request) -> str:
    """The slot's owner: the subject and the session the edge authenticated, so that a retry
    after a token refresh (same session) still finds its answer, and nobody else's request, nor
    a later session of the same person (after a logout), ever does. The edge authenticates
    before this runs: a logged-out token gets a 401, never a replay."""
    principal = getattr(request.ctx, "principal", None)
    if principal is None:
        raise RuntimeError("Idempotency-Key on a route without an authenticated subject")
    return f"{principal.subject}:{principal.session}"


async def run_once(request: Request, call: Callable[[], Awaitable[HTTPResponse]]) -> HTTPResponse:
    """Run ``call`` once per key, or answer what its first run answered (see the docstring)."""
    key = request.headers.get(HEADER)
    if key is None:
        return await call()
    if not _VALID_KEY.match(key):
        raise ValidationFailed(
            [field_error(HEADER, "幂等键格式不正确（8 到 128 位字母数字）。", "invalid")]
        )
    redis = request.app.ctx.redis
    fingerprint = hashlib.sha256(request.body or b"").hexdigest()
    slot = f"idem:{_caller(request)}:{request.method}:{request.path}:{key}"
    claimed = await redis.set(
        slot, json.dumps({"state": "pending", "fp": fingerprint}), nx=True, ex=PENDING_TTL_S
    )
    if not claimed:
        stored = json.loads(await redis.get(slot) or "{}")
        if stored.get("fp") != fingerprint:
            raise Conflict(
                "同一个幂等键不能用于不同的请求内容。", code="request.idempotency_key_reused"
            )
        if stored.get("state") == "pending":
            raise Conflict(
                "相同的请求正在处理中，请稍候。",
                code="request.in_progress",
                headers={"Retry-After": "1"},
            )
        response = raw(
            base64.b64decode(stored["body"]),
            status=stored["status"],
            content_type=stored["content_type"],
        )
        response.headers["Idempotent-Replayed"] = "true"
        return response
    try:
        response = await call()
    except BaseException:
        # A refused or failed request changed nothing: a retry may run again for real.
        await redis.delete(slot)
        raise
    await redis.set(
        slot,
        json.dumps(
            {
                "state": "done",
                "fp": fingerprint,
                "status": response.status,
                "content_type": response.content_type,
                "body": base64.b64encode(response.body or b"").decode(),
            }
        ),
        ex=TTL_S,
    )
    return response
