"""Cursor paging: opaque, tamper-evident cursors and bounded page sizes.

A cursor is the sort key of the last row a client saw, as base64url JSON with a short HMAC, so a
client cannot forge one that skips filters, and a garbled one gets a clear error instead of a 500.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from core.errors import ValidationFailed, field_error

_MAC_BYTES = 8


def encode_cursor(secret: str, position: dict[str, Any]) -> str:
    body = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(secret.encode(), body, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(mac + body).rstrip(b"=").decode()


def decode_cursor(secret: str, cursor: str) -> dict[str, Any]:
    """The position a cursor stands for; ``request.validation_failed`` if it is not one of ours."""
    invalid = ValidationFailed(
        [field_error("cursor", "翻页参数无效，请从第一页重新加载。", "invalid_cursor")]
    )
    if len(cursor) > 512:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError):
        raise invalid from None
    mac, body = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()[:_MAC_BYTES]
    if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, expected):
        raise invalid
    try:
        position = json.loads(body)
    except ValueError:
        raise invalid from None
    if not isinstance(position, dict):
        raise invalid
    return position


def page_size(requested: int | None, *, default: int, maximum: int) -> int:
    """The page size to use; an absurd request is refused, not silently clamped."""
    if requested is None:
        return default
    if requested < 1 or requested > maximum:
        raise ValidationFailed(
            [field_error("limit", f"每页条数应在 1 到 {maximum} 之间。", "out_of_range")]
        )
    return requested
