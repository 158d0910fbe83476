"""Request id on every request and response, text checks of paths and query strings, and one
access log line per request."""

from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import unquote_to_bytes

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from api.params import bad_text
from core.errors import ValidationFailed, field_error
from core.logging import redact, request_id_var

log = logging.getLogger("zhangban.access")
#: An inbound id a gateway sets: letters, digits and ``._-``, 8 to 64 characters, and nothing a
#: log redacts (an ID or phone number sent as an id would otherwise sit on every line).
_VALID_INBOUND_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
HEADER = "X-Request-ID"
#: Longest query string accepted: a search with a cursor needs well under a kilobyte; each
#: parameter has its own, smaller bound in its model.
MAX_QUERY_BYTES = 16384


def inbound_request_id(value: str) -> str | None:
    """A proxy's request id if it has a safe shape, else ``None`` (a fresh one is made)."""
    if not _VALID_INBOUND_ID.match(value) or redact(value) != value:
        return None
    return value


async def assign_request_id(request: Request) -> None:
    inbound = inbound_request_id(request.headers.get(HEADER, ""))
    # Keep a proxy's id so one request can be followed across hops; never trust odd shapes.
    request_id = inbound or uuid.uuid4().hex
    request.ctx.request_id = request_id
    request.ctx.started = time.perf_counter()
    request_id_var.set(request_id)


def _decoded(raw: bytes, where: str) -> str:
    try:
        text = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(
            [field_error(where, "含有无效的字符编码。", "bad_encoding")],
            message="请求地址格式不正确。",
        ) from None
    if bad_text(text):
        raise ValidationFailed(
            [field_error(where, "含有不允许的字符（控制字符）。", "bad_text")],
            message="请求地址格式不正确。",
        )
    return text


async def check_text(request: Request) -> None:
    """Paths and query strings: valid UTF-8 once percent-decoded, no control characters (what
    ``api.params`` refuses in bodies), and a bounded query string."""
    raw = request.raw_url or b""
    path, _, query_string = raw.partition(b"?")
    _decoded(path, "path")
    if len(query_string) > MAX_QUERY_BYTES:
        raise ValidationFailed(
            [field_error("query", f"查询参数过长（最多 {MAX_QUERY_BYTES} 字节）。", "too_long")]
        )
    for pair in query_string.replace(b"+", b" ").split(b"&"):
        name, _, value = pair.partition(b"=")
        _decoded(value, _decoded(name, "query") or "query")


async def finish_request(request: Request, response: BaseHTTPResponse) -> None:
    request_id = getattr(request.ctx, "request_id", None)
    if request_id is None:  # routing failed before the request middleware ran
        await assign_request_id(request)
        request_id = request.ctx.request_id
    response.headers[HEADER] = request_id
    # Every answer is what its Content-Type says: no browser second-guesses a photo or a JSON.
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
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
    app.register_middleware(check_text, "request")
    app.register_middleware(finish_request, "response")
