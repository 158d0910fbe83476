"""The real server process over a real socket: what only the HTTP server itself enforces.

On the PostgreSQL run the server starts with two workers sharing the real Redis, which also shows
that workers start together without racing on the schema (they never generate it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from tests.conftest import PROFILE
from tests.functional.test_http_edge import assert_envelope
from tests.processes import clean_env, free_port, running


@pytest.fixture(scope="module")
def live_server(
    settings: Settings, app: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = free_port()
    var_dir = tmp_path_factory.mktemp("live")
    env = clean_env(
        ZB_PROFILE="embedded",
        ZB_VAR_DIR=str(var_dir),
        ZB_DATABASE_URL=settings.effective_database_url,
        ZB_REDIS_URL=settings.redis_url,
        ZB_PORT=str(port),
        ZB_WORKERS=str(2 if PROFILE == "postgres" else 1),
        ZB_REQUEST_MAX_BYTES="2048",
        ZB_LOG_LEVEL="WARNING",
    )
    base = f"http://127.0.0.1:{port}"
    with running(
        ["api.cli", "serve"], ready_url=f"{base}/readyz", log_path=var_dir / "server.log", env=env
    ):
        yield base


def test_body_over_the_limit_is_413_envelope(live_server: str) -> None:
    """Only the real HTTP server enforces the body limit (the ASGI test client does not)."""
    response = httpx.post(
        f"{live_server}/api/v1/auth/wechat/login",
        content=b'{"code": "' + b"x" * 4096 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert_envelope(response, 413, "http.payload_too_large")


def test_real_server_answers_with_request_id_and_envelope(live_server: str) -> None:
    response = httpx.get(f"{live_server}/nothing/here")
    assert_envelope(response, 404, "http.not_found")
    assert len(response.headers["x-request-id"]) >= 8
    checks = httpx.get(f"{live_server}/readyz").json()["checks"]
    assert checks == {"database": "ok", "redis": "ok", "object_store": "ok"}


def test_many_requests_on_all_workers_succeed(live_server: str) -> None:
    with httpx.Client(base_url=live_server) as client:
        statuses = {client.get("/api/v1/themes").status_code for _ in range(40)}
    assert statuses == {200}


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET /api/v1/items/a\x01b HTTP/1.1",
        b"GET /api/v1/items?q=a\x00b HTTP/1.1",
        b"GET /api/v1/items/\x7f HTTP/1.1",
    ],
)
def test_a_request_line_with_control_bytes_gets_the_envelope(
    live_server: str, request_line: bytes
) -> None:
    """Sanic could not answer these at all (it failed building the stand-in request of its own
    error answer and dropped the connection): ``api.app.EdgeRequest`` lets it answer 400."""
    import json
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(live_server)
    with socket.create_connection((where.hostname, where.port), timeout=5) as sock:
        sock.sendall(request_line + b"\r\nHost: x\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer[:200]
    assert json.loads(body)["error"]["code"] == "http.bad_request"


def test_the_port_on_the_command_line_is_the_servers_address_everywhere(
    settings: Settings, app: object, tmp_path: Path
) -> None:
    """``serve --port`` moves what is derived from the server's address with it (the mounted
    sandbox peers, the phones' links): a login goes through the sandbox WeChat at this port."""
    port = free_port()
    env = clean_env(
        ZB_PROFILE="embedded",
        ZB_VAR_DIR=str(tmp_path),
        ZB_DATABASE_URL=settings.effective_database_url,
        ZB_REDIS_URL=settings.redis_url,
        ZB_LOG_LEVEL="WARNING",
    )
    base = f"http://127.0.0.1:{port}"
    with (
        running(
            ["api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            ready_url=f"{base}/readyz",
            log_path=tmp_path / "server.log",
            env=env,
        ),
        httpx.Client(base_url=base, timeout=10) as client,
    ):
        code = client.post("/sandbox/wechat/_control/login-code", json={}).json()["code"]
        login = client.post("/api/v1/auth/wechat/login", json={"code": code})
        assert login.status_code == 200, login.text
