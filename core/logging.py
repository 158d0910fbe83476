"""Structured logs: one JSON object a line, carrying the request id, never personal identifiers.

Redaction is the last line of defence, not the first: code should not log identifiers at all, but
if a resident ID number, a mainland mobile number or a bearer token slips into a message or an
extra field, the formatter masks it before the line leaves the process.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from typing import Any

from core.identifiers import is_id_number

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

# 18-character resident ID numbers (last char may be X) and 11-digit mainland mobile numbers,
# standing alone (not inside a longer run of digits such as a timestamp or an amount).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
# A resident ID number may also sit glued to letters or inside a longer run of digits (an id
# sent as "id110101199003074514", a percent-escape before it, a byte escape "\x01…"): every run
# of 18 or more such characters is searched, and each window that is a valid ID number (birth
# date and GB 11643 check character) is masked too.
_DIGIT_RUN = re.compile(r"\d{17,}[\dXx]?")
_PHONE = re.compile(r"(?<!\d)((?:\+?86)?1[3-9]\d)\d{4}(\d{4})(?!\d)")
# JWTs (three base64url parts, the first starting with eyJ) and bearer credentials.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# Credentials in URLs a client library logs (WeChat puts the AppSecret and the access token in
# the query string): the value goes, the name stays so the line still says what was sent.
_QUERY_SECRET = re.compile(
    r"(?i)(?<![A-Za-z_])(secret|access_token|js_code|session_key|refresh_token|code)=([^&\s\"']+)"
)

_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)


def _mask_embedded_ids(text: str) -> str:
    def mask(match: re.Match[str]) -> str:
        run = match.group(0)
        chars = list(run)
        for start in range(len(run) - 17):
            window = run[start : start + 18]
            if is_id_number(window):
                chars[start + 6 : start + 14] = "*" * 8
        return "".join(chars)

    return _DIGIT_RUN.sub(mask, text)


def redact(text: str) -> str:
    """Mask identifiers and credentials that must never appear in a log line."""
    text = _JWT.sub("[token]", text)
    text = _BEARER.sub(r"\1[token]", text)
    text = _QUERY_SECRET.sub(r"\1=[redacted]", text)
    text = _ID_NUMBER.sub(r"\1********\2", text)
    text = _mask_embedded_ids(text)
    return _PHONE.sub(r"\1****\2", text)


def redact_value(value: Any) -> Any:
    """``redact`` applied to every string inside a JSON-like value."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON line; extra fields passed with ``extra=`` are kept."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = redact(request_id)
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                # an extra never overwrites the line's own fields (ts, level, logger, msg…)
                entry[f"extra_{key}" if key in entry else key] = redact_value(value)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """Route every logger (ours, Sanic's, Tortoise's) through the JSON formatter."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("sanic.root", "sanic.error", "sanic.access", "sanic.server", "tortoise"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("tortoise").setLevel("WARNING")
    # Client libraries log whole request URLs at INFO/DEBUG; ours are logged by us, redacted.
    for noisy in ("httpx", "httpcore", "urllib3"):
        logging.getLogger(noisy).setLevel("WARNING")
    logging.getLogger("aiosqlite").setLevel("WARNING")
