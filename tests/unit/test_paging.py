"""Cursor paging: tamper-evident cursors and bounded page sizes."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from core.errors import ValidationFailed
from core.paging import decode_cursor, encode_cursor, page_size

SECRET = "unit-test-secret-which-is-long-enough"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _raw(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def _signed(body: bytes, secret: str = SECRET) -> str:
    """A cursor with a valid MAC around an arbitrary body."""
    mac = hmac.new(secret.encode(), body, hashlib.sha256).digest()[:8]
    return _b64(mac + body)


def assert_invalid_cursor(exc: ValidationFailed) -> None:
    assert exc.code == "request.validation_failed"
    assert exc.status == 400
    fields = exc.details["fields"]
    assert len(fields) == 1
    assert fields[0]["field"] == "cursor"
    assert fields[0]["code"] == "invalid_cursor"
    assert fields[0]["message"]


@pytest.mark.parametrize(
    "position",
    [
        {"id": 1},
        {"updated_at": "2024-05-01T12:00:00+00:00", "id": 987654321},
        {"name": "居民身份证补领", "id": 3, "score": 1.5, "flag": None},
        {},
    ],
)
def test_round_trip(position: dict[str, Any]) -> None:
    cursor = encode_cursor(SECRET, position)
    assert decode_cursor(SECRET, cursor) == position


def test_cursor_is_url_safe_without_padding() -> None:
    cursor = encode_cursor(SECRET, {"name": "身份证>?", "id": 10**12})
    assert "=" not in cursor
    assert "+" not in cursor
    assert "/" not in cursor


def test_cursor_does_not_depend_on_key_order() -> None:
    assert encode_cursor(SECRET, {"a": 1, "b": 2}) == encode_cursor(SECRET, {"b": 2, "a": 1})


def _flip(raw: bytes, index: int) -> bytes:
    data = bytearray(raw)
    data[index] ^= 0x01
    return bytes(data)


def _tampered_mac() -> str:
    return _b64(_flip(_raw(encode_cursor(SECRET, {"id": 5})), 0))


def _tampered_body() -> str:
    raw = _raw(encode_cursor(SECRET, {"id": 5}))
    return _b64(raw[:8] + raw[8:].replace(b"5", b"6"))


def _truncated() -> str:
    return encode_cursor(SECRET, {"id": 5, "name": "abc"})[:-3]


BAD_CURSORS = {
    "tampered-mac": _tampered_mac,
    "tampered-body": _tampered_body,
    "truncated": _truncated,
    "mac-only": lambda: _b64(_raw(encode_cursor(SECRET, {"id": 5}))[:8]),
    "short-mac": lambda: _b64(b"abc"),
    "empty": lambda: "",
    "not-base64-punctuation": lambda: "!!!!@@@@####",
    "not-base64-bad-padding": lambda: "abcde",
    "not-base64-non-ascii": lambda: "游标游标游标游标",
    "not-json": lambda: _signed(b"not json at all"),
    "not-utf8": lambda: _signed(b"\xff\xfe\xfa{"),
    "json-list": lambda: _signed(b"[1,2,3]"),
    "json-string": lambda: _signed(b'"id"'),
    "json-number": lambda: _signed(b"42"),
    "json-null": lambda: _signed(b"null"),
    "too-long": lambda: _signed(b'{"pad":"' + b"x" * 600 + b'"}'),
    "too-long-garbage": lambda: "A" * 513,
}


@pytest.mark.parametrize("make", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
def test_bad_cursors_are_refused_as_invalid_cursor(make: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(SECRET, make())
    assert_invalid_cursor(caught.value)


def test_long_but_allowed_cursor_still_decodes() -> None:
    position = {"pad": "x" * 300}
    cursor = encode_cursor(SECRET, position)
    assert len(cursor) <= 512
    assert decode_cursor(SECRET, cursor) == position


def test_cursor_signed_with_another_secret_is_refused() -> None:
    cursor = encode_cursor("some-other-deployment-secret", {"id": 5})
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(SECRET, cursor)
    assert_invalid_cursor(caught.value)


def test_forged_cursor_without_the_secret_is_refused() -> None:
    forged = _b64(b"\x00" * 8 + b'{"id":1}')
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(SECRET, forged)
    assert_invalid_cursor(caught.value)


# --- page_size ---------------------------------------------------------------------------------


def test_page_size_default_when_not_asked() -> None:
    assert page_size(None, default=20, maximum=100) == 20


@pytest.mark.parametrize("requested", [1, 20, 99, 100])
def test_page_size_within_range_is_kept(requested: int) -> None:
    assert page_size(requested, default=20, maximum=100) == requested


@pytest.mark.parametrize("requested", [0, 101, -1, -100, 10**9])
def test_page_size_out_of_range_is_refused(requested: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        page_size(requested, default=20, maximum=100)
    exc = caught.value
    assert exc.code == "request.validation_failed"
    (field,) = exc.details["fields"]
    assert field["field"] == "limit"
    assert field["code"] == "out_of_range"
    assert "100" in field["message"]
