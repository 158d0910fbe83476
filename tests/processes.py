"""Real server processes for tests: started on a free port, awaited, and stopped afterwards."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

ROOT = Path(__file__).resolve().parents[1]


def zhangban(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The console command, run as an operator runs it, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serving_asgi(application: Any, port: int) -> AsyncIterator[None]:
    """An ASGI application on a real socket of this process (uvicorn, no lifespan: the caller
    started it if it has one), for callers from other processes: the sandbox's peers calling
    back."""
    server = uvicorn.Server(
        uvicorn.Config(
            application, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


def clean_env(**overrides: str) -> dict[str, str]:
    """This environment without any ``ZB_`` setting, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZB_")}
    env.update(overrides)
    return env


@contextmanager
def serving(
    argv: list[str],
    *,
    name: str,
    ready: Callable[[], bool],
    log_path: Path,
    env: dict[str, str],
    cwd: Path | None = ROOT,
    timeout_s: float = 60,
) -> Iterator[subprocess.Popen[bytes]]:
    """``argv`` running until the block ends, its output in ``log_path``; the block starts once
    ``ready()`` holds (an HTTP error counts as not yet). Fails the test if the process exits
    first or is not ready in time."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if process.poll() is not None:
                    pytest.fail(f"{name} exited early:\n" + log_path.read_text())
                try:
                    if ready():
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"{name} did not answer:\n" + log_path.read_text())
                time.sleep(0.1)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def running(
    args: list[str], *, ready_url: str, log_path: Path, env: dict[str, str], timeout_s: float = 60
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m <args>`` running until the block ends; fails the test if it never answers
    200 at ``ready_url``."""
    with serving(
        [sys.executable, "-m", *args],
        name=args[0],
        ready=lambda: httpx.get(ready_url, timeout=5).status_code == 200,
        log_path=log_path,
        env=env,
        timeout_s=timeout_s,
    ) as process:
        yield process


@contextmanager
def sandbox_process(
    log_path: Path,
    *,
    appid: str,
    secret: str,
    keys_dir: Path | None = None,
    callback_speedup: float = 1.0,
    messaging: Path | None = None,
) -> Iterator[str]:
    """The sandbox peers (``python -m sandbox``) as their own process on a free port of
    127.0.0.1, for that WeChat app; their base URL (``http://127.0.0.1:<port>/sandbox``).

    The payment peers keep their keys in ``keys_dir`` (default: a ``sandbox-keys`` folder beside
    ``log_path``), which the tests' ``Settings`` must name as ``sandbox_keys_dir`` so that the
    merchant side reads the same keys; they resend callbacks ``callback_speedup`` times faster."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/sandbox"
    keys = keys_dir if keys_dir is not None else log_path.parent / "sandbox-keys"
    args = ["sandbox", "--port", str(port), "--appid", appid, "--secret", secret]
    args += ["--keys-dir", str(keys), "--callback-speedup", str(callback_speedup)]
    if messaging is not None:
        args += ["--messaging", str(messaging)]
    with running(args, ready_url=f"{base}/healthz", log_path=log_path, env=clean_env()):
        yield base
