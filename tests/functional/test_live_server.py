"""The real server process over a real socket: what only the HTTP server itself enforces.

On the PostgreSQL run the server starts with two workers sharing the real Redis, which also shows
that workers start together without racing on the schema (they never generate it).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from tests.conftest import PROFILE
from tests.functional.test_http_edge import assert_envelope


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(
    settings: Settings, app: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = _free_port()
    workers = 2 if PROFILE == "postgres" else 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZB_")} | {
        "ZB_PROFILE": "embedded",
        "ZB_VAR_DIR": str(tmp_path_factory.mktemp("live")),
        "ZB_DATABASE_URL": settings.effective_database_url,
        "ZB_REDIS_URL": settings.redis_url,
        "ZB_PORT": str(port),
        "ZB_WORKERS": str(workers),
        "ZB_REQUEST_MAX_BYTES": "2048",
        "ZB_LOG_LEVEL": "WARNING",
    }
    log_path = Path(env["ZB_VAR_DIR"]) / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve"], env=env, stdout=log, stderr=log
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                assert process.poll() is None, log_path.read_text()
                try:
                    if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            else:
                pytest.fail("server did not become ready:\n" + log_path.read_text())
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


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
