"""The ``DomainError`` tree: every failure a user can see, with a stable code and a Chinese message.

The HTTP edge turns any ``DomainError`` into the one error envelope::

    {"error": {"code": "catalog.item_not_found", "message": "…", "details": {...}}}

Codes are stable English identifiers clients may branch on; messages are Chinese because the
mini-program shows them as they are.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.clock import local_time, utcnow


class DomainError(Exception):
    """Base of every error a client is meant to read."""

    status: int = 400
    code: str = "request.invalid"
    message: str = "请求有误，请检查后重试。"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details: dict[str, Any] = details or {}
        self.headers: dict[str, str] = headers or {}
        super().__init__(f"{self.code}: {self.message}")


class ValidationFailed(DomainError):
    """Input that does not have the required shape; ``details.fields`` names each failing field."""

    status = 400
    code = "request.validation_failed"
    message = "提交的信息不完整或格式不正确，请按提示修改。"

    def __init__(self, fields: list[dict[str, Any]], message: str | None = None) -> None:
        super().__init__(message, details={"fields": fields})


class UnsupportedMediaType(DomainError):
    """A request body in another format than the one the route reads (JSON)."""

    status = 415
    code = "request.unsupported_media_type"
    message = "请求内容应为 JSON 格式（Content-Type: application/json）。"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = "您要找的内容不存在。"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = "操作与当前状态冲突，请刷新后重试。"


class Forbidden(DomainError):
    status = 403
    code = "auth.forbidden"
    message = "您没有权限进行此操作。"


class Unauthenticated(DomainError):
    status = 401
    code = "auth.unauthenticated"
    message = "请先登录。"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    message = "操作过于频繁，请稍后再试。"

    def __init__(self, retry_after_s: int, message: str | None = None) -> None:
        # A daily or hourly limit is not something a phone waits out: ``retry_at`` (local time,
        # to the minute) lets it say "请于 HH:MM 后再试" instead of counting an hour down.
        retry_at = local_time(utcnow()) + timedelta(seconds=retry_after_s)
        if retry_at.second or retry_at.microsecond:  # rounded up: never earlier than allowed
            retry_at = retry_at.replace(second=0, microsecond=0) + timedelta(minutes=1)
        super().__init__(
            message,
            details={"retry_after_s": retry_after_s, "retry_at": retry_at.isoformat()},
            headers={"Retry-After": str(retry_after_s)},
        )


class ServiceUnavailable(DomainError):
    status = 503
    code = "service.unavailable"
    message = "服务暂时不可用，请稍后再试。"


def field_error(
    field: str, message: str, code: str = "invalid", *, label: str = ""
) -> dict[str, Any]:
    """One entry of ``details.fields``: where, what went wrong (Chinese) and a stable code; and,
    where the field is the item's own (a form field, a material), its Chinese ``label``, which a
    phone cannot know without the item's guide."""
    entry = {"field": field, "code": code, "message": message}
    if label:
        entry["label"] = label
    return entry
