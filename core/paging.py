"""Cursor paging: opaque, tamper-evident cursors bound to their list, and bounded page sizes.

A cursor is the sort key of the last row a client saw, as base64url JSON with a short HMAC, so a
client cannot forge one that skips filters, and a garbled one gets a clear error instead of a 500.
It is also bound to the list it came from and to who asked for it (``Cursor.list`` and
``Cursor.scope``, signed with the position): a cursor of the catalogue sent to the case list, or a
cursor of one clerk's inbox sent by another, is refused like a forged one. Its fields are checked
against their declared types before anything uses them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from core.errors import ValidationFailed, field_error

_MAC_BYTES = 8
MAX_CURSOR_CHARS = 512


def _invalid() -> ValidationFailed:
    return ValidationFailed(
        [field_error("cursor", "翻页参数无效，请从第一页重新加载。", "invalid_cursor")]
    )


@dataclass(frozen=True)
class Cursor:
    """How one list pages: its name, whose page it is (and with which filters), and the types of
    the fields of its position (``int``, ``str`` or ``date``, an ISO date string)."""

    list: str
    scope: str
    fields: dict[str, str]

    def encode(self, secret: str, position: dict[str, Any]) -> str:
        if set(position) != set(self.fields):
            raise ValueError(f"cursor of {self.list}: position {sorted(position)}")
        return encode_cursor(secret, {"k": self.list, "s": self.scope, "p": position})

    def decode(self, secret: str, cursor: str) -> dict[str, Any]:
        """The position, or ``request.validation_failed`` if the cursor is not one of this
        list's, for this scope, with fields of the declared types."""
        signed = decode_cursor(secret, cursor)
        if signed.get("k") != self.list or signed.get("s") != self.scope:
            raise _invalid()
        position = signed.get("p")
        if not isinstance(position, dict) or set(position) != set(self.fields):
            raise _invalid()
        for name, kind in self.fields.items():
            if not _valid(kind, position[name]):
                raise _invalid()
        return position


Row = TypeVar("Row")
Listed = TypeVar("Listed", bound=Model)


@dataclass(frozen=True)
class PageRequest:
    """A list's paging as every listing use case takes it: the cursor a phone sent back (or
    none for the first page), the page size already within the deployment's bounds, and the key
    that signs cursors. Every list pages the same way: it reads ``limit + 1`` rows after
    ``position``, and ``cut`` keeps ``limit`` of them and signs the cursor after the last one if
    there were more."""

    cursor: str | None
    limit: int
    secret: str

    def position(self, kind: Cursor) -> dict[str, Any] | None:
        """Where the previous page ended, checked as one of ``kind``'s cursors; ``None`` on
        the first page."""
        return kind.decode(self.secret, self.cursor) if self.cursor else None

    def cut(
        self, rows: Sequence[Row], kind: Cursor, position_of: Callable[[Row], dict[str, Any]]
    ) -> tuple[list[Row], str | None]:
        """The page out of ``limit + 1`` rows, and the cursor after it if there are more."""
        page = list(rows[: self.limit])
        more = len(rows) > self.limit and page
        return page, kind.encode(self.secret, position_of(page[-1])) if more else None

    async def newest_first(
        self, query: QuerySet[Listed], *, name: str, scope: str
    ) -> tuple[list[Listed], str | None]:
        """One page of ``query`` by descending id, the most common list: its cursor is bound to
        the list ``name`` and to ``scope`` (its reader and filters), so one made for another
        listing is refused rather than skipping or repeating rows."""
        kind = Cursor(list=name, scope=scope, fields={"id": "int"})
        if position := self.position(kind):
            query = query.filter(id__lt=position["id"])
        rows = await query.order_by("-id").limit(self.limit + 1)
        return self.cut(rows, kind, lambda row: {"id": int(row.pk)})


def _valid(kind: str, value: Any) -> bool:
    if kind == "int":
        return type(value) is int and -(2**63) <= value < 2**63
    if type(value) is not str:
        return False
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
    return True


def encode_cursor(secret: str, position: dict[str, Any]) -> str:
    body = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(secret.encode(), body, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(mac + body).rstrip(b"=").decode()


def decode_cursor(secret: str, cursor: str) -> dict[str, Any]:
    """The signed content of a cursor; ``request.validation_failed`` if it is not one of ours.
    Lists use ``Cursor.decode``, which also checks the list, the scope and the types."""
    invalid = _invalid()
    if len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
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
