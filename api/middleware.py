"""Request id on every request and response, and one access log line per request."""

from __future__ import annotations

import logging
import re
import time
import uuid

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from core.logging import request_id_var

log = logging.getLogger("zhangban.access")
_VALID_INBOUND_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
HEADER = "X-Request-ID"


async def assign_request_id(request: Request) -> None:
    inbound = request.headers.get(HEADER, "")
    # Keep a proxy's id so one request can be followed across hops; never trust odd shapes.
    request_id = inbound if _VALID_INBOUND_ID.match(inbound) else uuid.uuid4().hex
    request.ctx.request_id = request_id
    request.ctx.started = time.perf_counter()
    request_id_var.set(request_id)


async def finish_request(request: Request, response: BaseHTTPResponse) -> None:
    request_id = getattr(request.ctx, "request_id", None)
    if request_id is None:  # routing failed before the request middleware ran
        await assign_request_id(request)
        request_id = request.ctx.request_id
    response.headers[HEADER] = request_id
    if request.app.ctx.settings.access_log:
        started = getattr(request.ctx, "started", None)
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            },
        )


def install_middleware(app: Sanic) -> None:
    app.register_middleware(assign_request_id, "request")
    app.register_middleware(finish_request, "response")
