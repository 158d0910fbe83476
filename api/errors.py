"""The one error envelope, for every non-2xx answer the server gives.

Sanic's own exceptions (unknown route, wrong method, oversize body, malformed JSON) and anything
unexpected are mapped here, so a client never sees an HTML page or a stack trace.
"""

from __future__ import annotations

import json as stdjson
import logging
from typing import Any

from redis.exceptions import RedisError
from sanic import Request, Sanic
from sanic.exceptions import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RangeNotSatisfiable,
    RequestCancelled,
    SanicException,
    ServiceUnavailable,
)
from sanic.helpers import json_dumps as sanic_json_dumps
from sanic.response import HTTPResponse, raw

from core.errors import DomainError

log = logging.getLogger("zhangban.api")


def json_bytes(value: Any) -> bytes:
    """``value`` as UTF-8 JSON that can always be sent: text that cannot be encoded (an unpaired
    surrogate from an older row) is written as a JSON escape instead of failing the answer."""
    try:
        return stdjson.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return stdjson.dumps(value, ensure_ascii=True, default=str).encode("ascii")


def safe_dumps(value: Any, **kwargs: Any) -> str:
    """The application's JSON encoder (``Sanic(dumps=...)``): Sanic's own (ujson when present),
    but text that could not be sent as UTF-8 (an unpaired surrogate in an older row) is escaped
    instead of failing the answer, so no stored value can make a record unreadable."""
    try:
        text: str = sanic_json_dumps(value, **kwargs)
        text.encode("utf-8")
    except (UnicodeError, TypeError, ValueError, OverflowError):
        return stdjson.dumps(value, **{**kwargs, "ensure_ascii": True})
    return text


def envelope(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> HTTPResponse:
    return raw(
        json_bytes({"error": {"code": code, "message": message, "details": details or {}}}),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def _request_id(request: Request) -> str | None:
    return getattr(request.ctx, "request_id", None)


async def handle_domain_error(request: Request, exc: DomainError) -> HTTPResponse:
    return envelope(exc.status, exc.code, exc.message, exc.details, exc.headers)


async def handle_sanic_error(request: Request, exc: SanicException) -> HTTPResponse:
    if isinstance(exc, NotFound):
        return envelope(404, "http.not_found", "您访问的地址不存在。", {"path": request.path[:200]})
    if isinstance(exc, MethodNotAllowed):
        allowed = getattr(exc, "allowed_methods", None) or _allowed_methods(request)
        headers = {"Allow": ", ".join(sorted(allowed))} if allowed else None
        return envelope(
            405,
            "http.method_not_allowed",
            "不支持此操作方式。",
            {"method": request.method},
            headers,
        )
    if isinstance(exc, PayloadTooLarge):
        return envelope(413, "http.payload_too_large", "提交的内容过大，请精简后重试。")
    if isinstance(exc, BadRequest):
        return envelope(400, "http.bad_request", "请求格式不正确，请检查后重试。")
    if isinstance(exc, RangeNotSatisfiable):
        return envelope(416, "http.range_not_satisfiable", "请求的范围无效。")
    if isinstance(exc, ServiceUnavailable):
        return envelope(503, "service.unavailable", "服务暂时不可用，请稍后再试。")
    status = getattr(exc, "status_code", 500) or 500
    if status >= 500:
        return await handle_unexpected(request, exc)
    return envelope(status, "http.error", "请求无法完成，请稍后重试。")


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """The methods the path answers to, found by asking the router for each: its compiled tree
    raises "no method" without them on parameterised paths (``/cases/<id>``)."""
    allowed = []
    for method in _METHODS:
        try:
            request.app.router.get(request.path, method, request.headers.get("host"))
        except SanicException:
            continue
        allowed.append(method)
    return allowed


async def handle_redis_error(request: Request, exc: RedisError) -> HTTPResponse:
    """Redis down is a dependency outage, not a bug: 503, so clients retry later."""
    log.warning("redis unavailable", extra={"path": request.path, "error": type(exc).__name__})
    return envelope(503, "service.unavailable", "服务暂时不可用，请稍后再试。")


async def handle_unexpected(request: Request, exc: Exception) -> HTTPResponse:
    request_id = _request_id(request)
    log.exception("unhandled error", extra={"path": request.path, "method": request.method})
    return envelope(
        500,
        "server.internal_error",
        "系统繁忙，请稍后再试。如问题持续，请联系客服并提供请求编号。",
        {"request_id": request_id},
    )


#: The answer when building an error answer itself failed: fixed bytes, nothing that can fail.
_LAST_RESORT = json_bytes(
    {
        "error": {
            "code": "server.internal_error",
            "message": "系统繁忙，请稍后再试。如问题持续，请联系客服。",
            "details": {},
        }
    }
)


#: The status nginx gives a request its client closed: no answer reaches anyone, but the
#: access log and the alerts must not count a phone leaving a tunnel as a server error.
CLIENT_CLOSED = 499


async def handle_client_closed(request: Request, exc: BaseException) -> HTTPResponse:
    log.info("client closed the connection", extra={"path": request.path})
    return envelope(CLIENT_CLOSED, "http.client_closed", "连接已断开。")


def _never_failing(handler: Any) -> Any:
    """An error handler that cannot fail in turn: Sanic would answer a plain-text "An error
    occurred while handling an error" outside the envelope."""

    async def guarded(request: Request, exc: Exception) -> HTTPResponse:
        try:
            response: HTTPResponse = await handler(request, exc)
            return response
        except Exception:
            log.exception("error handler failed", extra={"error": type(exc).__name__})
            return raw(_LAST_RESORT, status=500, content_type="application/json")

    return guarded


def install_error_handlers(app: Sanic) -> None:
    app.error_handler.add(RequestCancelled, _never_failing(handle_client_closed))
    app.error_handler.add(DomainError, _never_failing(handle_domain_error))
    app.error_handler.add(SanicException, _never_failing(handle_sanic_error))
    app.error_handler.add(RedisError, _never_failing(handle_redis_error))
    app.error_handler.add(Exception, _never_failing(handle_unexpected))
