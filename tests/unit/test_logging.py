"""Structured logging: redaction of identifiers and the one-JSON-object-a-line formatter."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from core.logging import JsonFormatter, redact, request_id_var

ID_NUMBER = "360426199101010071"  # valid check digit (protocols doc)
ID_NUMBER_X = "11010519491231002X"
PHONE = "13812345678"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


# --- redact -----------------------------------------------------------------------------------


def test_masks_an_id_number_keeping_region_and_last_four() -> None:
    out = redact(f"身份证号{ID_NUMBER}。")
    assert ID_NUMBER not in out
    assert out == "身份证号360426********0071。"


@pytest.mark.parametrize("number", [ID_NUMBER_X, ID_NUMBER_X.lower()])
def test_masks_an_id_number_ending_in_x(number: str) -> None:
    out = redact(f"id={number}&x=1")
    assert number not in out
    assert out == f"id=110105********{number[-4:]}&x=1"
    assert "19491231" not in out


def test_masks_a_mainland_mobile_number() -> None:
    out = redact(f"联系电话：{PHONE}，请回电")
    assert PHONE not in out
    assert out == "联系电话：138****5678，请回电"


@pytest.mark.parametrize("prefix", ["13", "15", "17", "19"])
def test_masks_every_mobile_prefix(prefix: str) -> None:
    number = prefix + "912345678"
    assert number not in redact(f"tel {number}")


def test_masks_a_jwt() -> None:
    out = redact(f"token={JWT} end")
    assert out == "token=[token] end"
    assert "eyJ" not in out


@pytest.mark.parametrize("header", ["Bearer abc123.DEF-456_x~+/=", "bearer opaque-token-value"])
def test_masks_a_bearer_credential(header: str) -> None:
    credential = header.split(" ", 1)[1]
    out = redact(f"Authorization: {header}")
    assert credential not in out
    assert out.endswith("[token]")
    assert out.lower().startswith("authorization: bearer ")


def test_masks_a_bearer_jwt() -> None:
    out = redact(f"Authorization: Bearer {JWT}")
    assert "eyJ" not in out
    assert out == "Authorization: Bearer [token]"


def test_masks_several_identifiers_in_one_line() -> None:
    out = redact(f"{ID_NUMBER} {PHONE} {ID_NUMBER_X}")
    assert out == "360426********0071 138****5678 110105********002X"


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T12:34:56.789Z",
        "2024-05-01 12:34:56",
        "epoch 1714566896",
        "epoch_ms 1714566896789",
        "epoch_ms 1381234567890",  # 13 digits beginning like a mobile number
        "amount 12345.67 yuan",
        "fen 1380000",
        "order 2024050112345678901234",  # longer run of digits  # 19 digits: not an ID number
        "long 138123456789",  # 12 digits: not a mobile number
        "code 12345",
        "short 138",
        "request 7f9c2b1e-0a4d-4a7e-9c1f-2b3d4e5f6a7b",
        "version 1.2.3",
    ],
)
def test_leaves_timestamps_amounts_and_other_numbers_alone(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        f"ref{ID_NUMBER}",
        f"id{ID_NUMBER_X}z",
        f"%E4%B8%AD{ID_NUMBER}",
        f"\\x01{ID_NUMBER}",  # a byte escape: the ID number inside a longer run of digits
        f"99{ID_NUMBER}99",
    ],
)
def test_a_valid_id_number_is_masked_wherever_it_sits(text: str) -> None:
    """Glued to letters or inside a longer run of digits, a valid ID number (birth date and
    check character) is still masked: an outside test found these shapes in the server log."""
    out = redact(text)
    assert ID_NUMBER not in out and ID_NUMBER_X not in out and ID_NUMBER_X.lower() not in out


def test_long_numbers_that_are_no_id_number_stay_readable() -> None:
    for text in ("ts 1733530000123456789", "amount 123456789012345678901", f"ref{ID_NUMBER[:-1]}0"):
        assert redact(text) == text


def test_redact_is_idempotent() -> None:
    once = redact(f"{ID_NUMBER} {PHONE} Bearer abc {JWT}")
    assert redact(once) == once


# --- JsonFormatter -----------------------------------------------------------------------------


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("zhangban.unit.logging")
    old_handlers, old_level, old_propagate = logger.handlers[:], logger.level, logger.propagate
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.handlers[:] = old_handlers
        logger.setLevel(old_level)
        logger.propagate = old_propagate


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    raw = stream.getvalue().splitlines()
    return [json.loads(line) for line in raw]


def test_one_json_object_per_line_with_the_core_fields(log: Any) -> None:
    logger, stream = log
    logger.info("first")
    logger.warning("second\nwith a newline")
    entries = lines(stream)
    assert len(entries) == 2
    first, second = entries
    assert first["msg"] == "first"
    assert first["level"] == "info"
    assert first["logger"] == "zhangban.unit.logging"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["ts"])
    assert "request_id" not in first
    assert "exc" not in first
    assert second["level"] == "warning"
    assert second["msg"] == "second\nwith a newline"


def test_timestamp_is_utc() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.created = datetime(2024, 5, 1, 12, 34, 56, tzinfo=UTC).timestamp()
    record.msecs = 789.9
    entry = json.loads(JsonFormatter().format(record))
    assert entry["ts"] == "2024-05-01T12:34:56.789Z"


def test_request_id_is_included_when_set(log: Any) -> None:
    logger, stream = log
    token = request_id_var.set("req-123")
    try:
        logger.info("inside a request")
    finally:
        request_id_var.reset(token)
    logger.info("outside a request")
    inside, outside = lines(stream)
    assert inside["request_id"] == "req-123"
    assert "request_id" not in outside


def test_extra_fields_are_kept(log: Any) -> None:
    logger, stream = log
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    logger.info(
        "case filed",
        extra={"case_id": 42, "item": "ITEM-0001", "ok": True, "at": when, "_private": "x"},
    )
    (entry,) = lines(stream)
    assert entry["case_id"] == 42
    assert entry["item"] == "ITEM-0001"
    assert entry["ok"] is True
    assert entry["at"] == str(when)  # not JSON-native: rendered with str()
    assert "_private" not in entry
    # standard LogRecord attributes stay out of the line
    for attr in ("args", "pathname", "lineno", "funcName", "created", "msecs", "thread"):
        assert attr not in entry


def test_message_is_redacted_after_formatting(log: Any) -> None:
    logger, stream = log
    logger.info("applicant %s phone %s", ID_NUMBER, PHONE)
    (entry,) = lines(stream)
    assert entry["msg"] == "applicant 360426********0071 phone 138****5678"


def test_extra_fields_are_redacted_including_nested_values(log: Any) -> None:
    logger, stream = log
    logger.info(
        "profile",
        extra={
            "id_number": ID_NUMBER,
            "applicant": {
                "phone": PHONE,
                "contacts": [PHONE, {"auth": f"Bearer {JWT}"}],
                "ids": (ID_NUMBER_X,),
                "age": 33,
            },
        },
    )
    (entry,) = lines(stream)
    text = json.dumps(entry, ensure_ascii=False)
    for secret in (ID_NUMBER, PHONE, ID_NUMBER_X, "eyJ"):
        assert secret not in text
    assert entry["id_number"] == "360426********0071"
    applicant = entry["applicant"]
    assert applicant["phone"] == "138****5678"
    assert applicant["contacts"] == ["138****5678", {"auth": "Bearer [token]"}]
    assert applicant["ids"] == ["110105********002X"]
    assert applicant["age"] == 33


def test_exception_text_is_included_and_redacted(log: Any) -> None:
    logger, stream = log
    try:
        raise ValueError(f"bad applicant {ID_NUMBER} {PHONE}")
    except ValueError:
        logger.exception("import failed for %s", PHONE)
    raw = stream.getvalue()
    assert raw.count("\n") == 1  # the traceback stays inside the one line
    (entry,) = lines(stream)
    assert entry["level"] == "error"
    assert entry["msg"] == "import failed for 138****5678"
    assert "Traceback" in entry["exc"]
    assert "ValueError: bad applicant 360426********0071 138****5678" in entry["exc"]
    assert ID_NUMBER not in raw
    assert PHONE not in raw


def test_non_ascii_is_written_as_is(log: Any) -> None:
    logger, stream = log
    logger.info("办件已受理")
    assert "办件已受理" in stream.getvalue()


def test_masks_a_mobile_number_with_the_country_code() -> None:
    assert PHONE not in redact(f"tel +86{PHONE}")
