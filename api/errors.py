"""The one error envelope, for every non-2xx answer the server gives.

Sanic's own exceptions (unknown route, wrong method, oversize body, malformed JSON) and anything
unexpected are mapped here, so a client never sees an HTML page or a stack trace.
"""

from __future__ import annotations

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
    SanicException,
    ServiceUnavailable,
)
from sanic.response import HTTPResponse, json

from core.errors import DomainError

log = logging.getLogger("zhangban.api")


def envelope(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> HTTPResponse:
    return json(
        {"error": {"code": code, "message": message, "details": details or {}}},
        status=status,
        headers=headers,
        ensure_ascii=False,
    )


def _request_id(request: Request) -> str | None:
    return getattr(request.ctx, "request_id", None)


async def handle_domain_error(request: Request, exc: DomainError) -> HTTPResponse:
    return envelope(exc.status, exc.code, exc.message, exc.details, exc.headers)


async def handle_sanic_error(request: Request, exc: SanicException) -> HTTPResponse:
    if isinstance(exc, NotFound):
        return envelope(404, "http.not_found", "您访问的地址不存在。", {"path": request.path})
    if isinstance(exc, MethodNotAllowed):
        allowed = getattr(exc, "allowed_methods", None) or []
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


def install_error_handlers(app: Sanic) -> None:
    app.error_handler.add(DomainError, handle_domain_error)
    app.error_handler.add(SanicException, handle_sanic_error)
    app.error_handler.add(RedisError, handle_redis_error)
    app.error_handler.add(Exception, handle_unexpected)
