"""No personal identifier and no credential reaches a log line, whatever the level.

A full identity flow runs over HTTP (login, phone binding, real name L1 and L2, refresh, logout,
and the error paths: a name mismatch, an ID number already taken, a provider outage) while every
record any logger emits at DEBUG and above is rendered with the production formatter
(``core.logging.JsonFormatter``). The rendered lines must not contain the ID numbers, the phone
number, a token we issued, the WeChat session key, the AppSecret or the WeChat access token.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
import pytest
from sanic import Sanic

from auth.common import SESSION_KEY_CONTEXT
from auth.models import User
from core.logging import JsonFormatter
from core.settings import Settings
from tests.people import Phone, id_number

MOBILE = "13712345678"


class Capture(logging.Handler):
    """Every record, formatted as the production handler would write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Capture]:
    """The root logger at DEBUG with the capture attached; the loggers the application
    configures itself (tortoise, aiosqlite) keep their levels, as in production."""
    root = logging.getLogger()
    handler = Capture()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@dataclass
class Secrets:
    """What must never be logged, gathered while the flow runs."""

    values: dict[str, str] = field(default_factory=dict)

    def add(self, label: str, value: str) -> None:
        assert value, label
        self.values[f"{label} #{len(self.values)}"] = value

    def found_in(self, lines: list[str]) -> list[tuple[str, str]]:
        return [
            (label, line) for line in lines for label, value in self.values.items() if value in line
        ]


def fresh_id() -> str:
    born = date(1950, 1, 1) + timedelta(days=secrets.randbelow(18000))
    return id_number(born=born, seq=secrets.randbelow(1000))


async def _full_flow(
    clean: Sanic,
    client: httpx.AsyncClient,
    sandbox: httpx.AsyncClient,
    phone: Callable[[], Phone],
    found: Secrets,
) -> None:
    async def control(path: str, body: dict[str, object]) -> dict[str, object]:
        response = await sandbox.post(path, json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def tokens_of(answer: dict[str, object]) -> None:
        found.add("access token", str(answer["access_token"]))
        found.add("refresh token", str(answer["refresh_token"]))

    async def logged_in(someone: Phone) -> Phone:
        """``someone`` logged in; their tokens and WeChat session key are secrets."""
        tokens_of(await someone.login())
        row = await User.get(openid=someone.openid)
        found.add(
            "session_key",
            clean.ctx.auth.cipher.decrypt(row.session_key_enc, context=SESSION_KEY_CONTEXT),
        )
        return someone

    def secret_id() -> str:
        """A fresh ID number, a secret."""
        number = fresh_id()
        found.add("id number", number)
        return number

    # Login, phone, L1, L2.
    person = await logged_in(phone())
    code = (
        await control(
            "/wechat/_control/phone-code", {"phone_number": MOBILE, "openid": str(person.openid)}
        )
    )["code"]
    bound = await person.call("POST", "/api/v1/me/phone", json={"code": code})
    assert bound.status_code == 200, bound.text
    found.add("phone", MOBILE)
    number = secret_id()
    await person.verify_l1(name="张伟", number=number)
    await person.verify_l2()

    # Error paths: mismatch, outage, a number taken by another account, a failed face check.
    other = await logged_in(phone())
    for outcome, status in (("mismatch", 400), ("unavailable", 503)):
        refused = secret_id()
        await control("/realname/_control/outcome", {"id_number": refused, "outcome": outcome})
        response = await other.call(
            "POST", "/api/v1/me/realname", json={"name": "王芳", "id_number": refused}
        )
        assert response.status_code == status, response.text
    response = await other.call(
        "POST", "/api/v1/me/realname", json={"name": "张伟", "id_number": number}
    )
    assert response.status_code == 409, response.text
    second = secret_id()
    await other.verify_l1(name="王芳", number=second)
    await control("/wechat/_control/face-outcome", {"cert_no": second, "verify_ret": 10002})
    started = await other.call("POST", "/api/v1/me/face")
    assert started.status_code == 200, started.text
    verify_id = started.json()["verify_id"]
    await control("/wechat/_control/face-complete", {"verify_id": verify_id})
    failed = await other.call("POST", "/api/v1/me/face/result", json={"verify_id": verify_id})
    assert failed.status_code == 400, failed.text

    # Tokens: refresh, the same refresh again (the lost-answer grace), a rotation of the new
    # pair, reuse of the first refresh token, a tampered token, logout.
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": person.tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    tokens_of(refreshed.json())
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": person.tokens["refresh_token"]}
    )
    assert again.status_code == 200 and again.json() == refreshed.json(), again.text
    rotated = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": refreshed.json()["refresh_token"]}
    )
    assert rotated.status_code == 200, rotated.text
    tokens_of(rotated.json())
    reused = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": person.tokens["refresh_token"]}
    )
    assert reused.status_code == 401, reused.text
    bad = await client.get(
        "/api/v1/me", headers={"authorization": f"Bearer {other.tokens['access_token']}x"}
    )
    assert bad.status_code == 401, bad.text
    out = await other.call("POST", "/api/v1/auth/logout")
    assert out.status_code == 204, out.text
    assert (await other.call("GET", "/api/v1/me")).status_code == 401


@pytest.fixture
async def flow_lines(
    clean: Sanic,
    client: httpx.AsyncClient,
    sandbox: httpx.AsyncClient,
    phone: Callable[[], Phone],
    settings: Settings,
    captured: Capture,
) -> tuple[list[str], Secrets, str]:
    """Runs the flow under capture; returns the lines, what must not appear in them, and the
    WeChat access token the deployment used."""
    found = Secrets()
    await _full_flow(clean, client, sandbox, phone, found)
    found.add("AppSecret", settings.wechat_secret)
    wechat_token = await clean.ctx.auth.wechat.access_token()
    return list(captured.lines), found, wechat_token


def _messages(lines: list[str]) -> set[tuple[str, str]]:
    return {(entry["logger"], entry["msg"]) for entry in map(json.loads, lines)}


async def test_no_identifier_token_or_session_key_in_any_log_line(
    flow_lines: tuple[list[str], Secrets, str],
) -> None:
    lines, found, _ = flow_lines
    # The capture saw the application's own lines of every step, and DEBUG lines too.
    assert {
        ("zhangban.wechat", "wechat access token refreshed"),
        ("zhangban.auth", "user created"),
        ("zhangban.auth", "realname verified"),
        ("zhangban.auth", "realname mismatch"),
        ("zhangban.auth", "face verified"),
        ("zhangban.providers", "realname provider answered 503"),
    } <= _messages(lines)
    assert any('"level": "debug"' in line for line in lines)
    del found.values[next(k for k in found.values if k.startswith("AppSecret"))]
    leaks = found.found_in(lines)
    assert not leaks, leaks


async def test_no_app_secret_in_any_log_line(
    flow_lines: tuple[list[str], Secrets, str], settings: Settings
) -> None:
    lines, _, _ = flow_lines
    assert [line for line in lines if settings.wechat_secret in line] == []


async def test_no_wechat_access_token_in_log_lines_at_info_and_above(
    flow_lines: tuple[list[str], Secrets, str],
) -> None:
    lines, _, wechat_token = flow_lines
    shown = [line for line in lines if json.loads(line)["level"] != "debug"]
    assert shown, "the capture must have seen INFO lines"
    assert [line for line in shown if wechat_token in line] == []


async def test_every_line_keeps_its_log_level(flow_lines: tuple[list[str], Secrets, str]) -> None:
    lines, _, _ = flow_lines
    levels = {json.loads(line)["level"] for line in lines}
    assert levels <= {"debug", "info", "warning", "error", "critical"}, levels
