"""The sandbox peers as a real separate process, and a small client to drive them over HTTP.

Each test module gets its own process (module scope) on a free port of 127.0.0.1, started with
``python -m sandbox`` exactly as the functional suite starts its own, so these tests also prove
the standalone entry point. Tests reset a peer's state rather than restart the process. The
fixtures are named ``peer_*`` so they never shadow the root conftest's session-wide
``sandbox_url`` (which the application's ``settings`` depend on).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.processes import sandbox_process

APPID = "wx-contract-appid"
SECRET = "contract-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def peer_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:<port>/sandbox``) of a freshly started sandbox process."""
    log_path = tmp_path_factory.mktemp("peer") / "sandbox.log"
    with sandbox_process(log_path, appid=APPID, secret=SECRET) as base:
        yield base


@pytest.fixture(scope="module")
def peer(peer_url: str) -> Iterator[httpx.Client]:
    """A plain HTTP client on the sandbox process."""
    with httpx.Client(base_url=peer_url, timeout=10) as client:
        yield client


class WeChatDriver:
    """The platform's API and the control API of the WeChat peer, as plain calls."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    # control
    def control(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(f"/wechat/_control/{path}", json=body if body is not None else {})

    def login_code(self, **fields: Any) -> dict[str, Any]:
        response = self.control("login-code", fields)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def phone_code(self, phone_number: str, **fields: Any) -> str:
        response = self.control("phone-code", {"phone_number": phone_number, **fields})
        assert response.status_code == 200, response.text
        return str(response.json()["code"])

    def advance(self, seconds: float) -> float:
        response = self.control("advance-clock", {"seconds": seconds})
        assert response.status_code == 200, response.text
        return float(response.json()["now"])

    def stats(self) -> dict[str, Any]:
        return dict(self.http.get("/wechat/_control/stats").json())

    # platform
    def jscode2session(self, code: str, **overrides: str) -> dict[str, Any]:
        params = {
            "appid": APPID,
            "secret": SECRET,
            "js_code": code,
            "grant_type": "authorization_code",
            **overrides,
        }
        response = self.http.get("/wechat/sns/jscode2session", params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def stable_token(self, force_refresh: bool = False, **overrides: Any) -> dict[str, Any]:
        body = {
            "grant_type": "client_credential",
            "appid": APPID,
            "secret": SECRET,
            "force_refresh": force_refresh,
            **overrides,
        }
        response = self.http.post("/wechat/cgi-bin/stable_token", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def basic_token(self, **overrides: str) -> dict[str, Any]:
        params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, **overrides}
        response = self.http.get("/wechat/cgi-bin/token", params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def call(self, path: str, access_token: str | None, body: Any) -> dict[str, Any]:
        """POST to an access_token-protected path; returns the decoded answer."""
        params = {} if access_token is None else {"access_token": access_token}
        response = self.http.post(f"/wechat{path}", params=params, json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def token_errcode(self, access_token: str) -> int:
        """0 when the token is accepted, else its errcode (probing with a phone code no one has)."""
        answer = self.call("/wxa/business/getuserphonenumber", access_token, {"code": "probe"})
        return 0 if answer["errcode"] == 40029 else int(answer["errcode"])


@pytest.fixture
def wechat(peer: httpx.Client) -> WeChatDriver:
    """The WeChat peer, reset to nothing (no users, tokens, counts; clock offset zero)."""
    assert peer.post("/wechat/_control/reset").status_code == 200
    return WeChatDriver(peer)
