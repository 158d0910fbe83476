"""Test set-up: one application per session on the chosen profile, clean tables per test.

``ZB_TEST_PROFILE`` picks the profile of the run:

* ``embedded`` (default): a SQLite file in a temporary folder and the in-process Redis stand-in;
* ``postgres``: a fresh database on the real PostgreSQL server and the real Redis server that
  ``scripts/services.sh`` started (``ZB_TEST_DATABASE_URL``, ``ZB_TEST_REDIS_URL``).

The two never share a process: Tortoise's SQL dialect sticks once chosen. The schema always comes
from the migrations (``core.db.migrate``), never from ``generate_schemas``, so every run also
tests the migrations of its dialect.
"""

from __future__ import annotations

import asyncio
import json as json_module
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from pydantic import BaseModel, Field
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json
from tortoise import Tortoise, connections

from api.app import create_app
from api.endpoint import spec_of
from api.openapi import conformance_problems
from api.params import body
from auth.staff import forget_standings
from cases.views import reset_caches
from core.db import migrate
from core.settings import Settings
from notify.catalogue import load_catalogue
from tests.people import Phone
from tests.processes import free_port, sandbox_process, serving_asgi
from tests.staff import Hire, StaffMember, staff_member

#: Fixtures shared by several modules, from their own files.
pytest_plugins = ["tests.upload_fixtures", "tests.case_fixtures"]

PROFILE = os.environ.get("ZB_TEST_PROFILE", "embedded")
Sanic.test_mode = True


def pytest_report_header(config: pytest.Config) -> str:
    return f"zhangban test profile: {PROFILE}"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def test_database_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if PROFILE == "embedded":
        yield f"sqlite://{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    import asyncpg

    base = os.environ.get("ZB_TEST_DATABASE_URL")
    admin = os.environ.get("ZB_TEST_PG_ADMIN_URL")
    if not base or not admin:
        pytest.exit("ZB_TEST_PROFILE=postgres needs scripts/services.sh (run: make test)", 2)
    name = f"zb_test_{uuid.uuid4().hex[:10]}"

    async def admin_sql(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    yield _with_database(base, name)
    asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


SANDBOX_APPID = "wx-test-appid"
SANDBOX_SECRET = "test-wechat-secret-0123456789abcdef"


#: The payment peers resend callbacks this many times faster than the platforms (15 s → 0.15 s).
CALLBACK_SPEEDUP = 100.0


@pytest.fixture(scope="session")
def sandbox_keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the sandbox's payment keys live: the peers' halves and the merchant's."""
    return Path(tmp_path_factory.mktemp("sandbox-keys")) / "keys"


@pytest.fixture(scope="session")
def sandbox_url(
    tmp_path_factory: pytest.TempPathFactory, sandbox_keys_dir: Path, callback_port: int
) -> Iterator[str]:
    """The sandbox peers (WeChat, WeChat Pay, Alipay, real-name check, registry) as their own
    real process."""
    log_path = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    token = Settings().sms_report_token
    messaging = log_path.parent / "messaging.json"
    messaging.write_text(
        json_module.dumps(
            messaging_document(
                f"http://127.0.0.1:{callback_port}/callbacks/sms/aliyun?token={token}"
            )
        ),
        encoding="utf-8",
    )
    with sandbox_process(
        log_path,
        appid=SANDBOX_APPID,
        secret=SANDBOX_SECRET,
        keys_dir=sandbox_keys_dir,
        callback_speedup=CALLBACK_SPEEDUP,
        messaging=messaging,
    ) as base:
        yield base


def messaging_document(report_url: str) -> dict[str, Any]:
    """The deployment's subscribe and SMS templates as the platforms' consoles hold them
    (``notify.catalogue``'s defaults: the sandbox's), for ``python -m sandbox --messaging``: a
    test that resets a peer gets them back."""
    catalogue = load_catalogue("")
    return {
        "subscribe_templates": {
            t.template_id: {"keys": list(t.data), "long_term": t.long_term}
            for t in catalogue.wechat.values()
        },
        "sms_templates": {t.code: list(t.params) for t in catalogue.sms.values()},
        "sms_report_url": report_url,
    }


@pytest.fixture(scope="session")
def callback_port() -> int:
    """The port the test application also listens on, so that the payment peers' callbacks
    reach it over a real socket as the platforms' do."""
    return free_port()


@pytest.fixture(scope="session")
def settings(
    test_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    sandbox_url: str,
    sandbox_keys_dir: Path,
    callback_port: int,
) -> Settings:
    redis_url = os.environ.get("ZB_TEST_REDIS_URL", "") if PROFILE == "postgres" else ""
    return Settings(
        sandbox_enabled=False,
        sandbox_base_url=sandbox_url,
        sandbox_keys_dir=sandbox_keys_dir,
        payment_notify_base_url=f"http://127.0.0.1:{callback_port}",
        wechat_appid=SANDBOX_APPID,
        wechat_secret=SANDBOX_SECRET,
        revocation_check_s=0.0,
        profile="embedded",
        var_dir=Path(tmp_path_factory.mktemp("var")),
        database_url=test_database_url,
        redis_url=redis_url,
        secret_key="test-secret-key-which-is-long-enough-0123456789",
        log_level="WARNING",
        access_log=False,
        local_cache_s=0.0,
    )


class AppRunner:
    """Drives the app's ASGI lifespan, so its real start-up and shutdown listeners run once."""

    def __init__(self, app: Sanic) -> None:
        self.app = app
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _send(self, message: dict[str, Any]) -> None:
        await self._events.put(message)

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        self._task = asyncio.create_task(self.app(scope, self._inbox.get, self._send))  # type: ignore[arg-type]
        await self._inbox.put({"type": "lifespan.startup"})
        message = await asyncio.wait_for(self._events.get(), 30)
        if message["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"app failed to start: {message}")

    async def stop(self) -> None:
        await self._inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(self._events.get(), 30)
        if self._task is not None:
            await asyncio.wait_for(self._task, 30)


class EchoBody(BaseModel):
    name: str = Field(min_length=2, max_length=10)
    count: int = Field(ge=1, le=5)


def _add_probe_routes(application: Sanic) -> None:
    """Routes that exist only in tests, to drive the error envelope's generic paths."""

    @application.post("/__test__/echo")
    async def echo(request: Request) -> HTTPResponse:
        data = body(request, EchoBody)
        return json(data.model_dump())

    @application.get("/__test__/boom")
    async def boom(request: Request) -> HTTPResponse:
        raise RuntimeError("secret internals /etc/passwd")


#: Answers that broke their route's declaration, recorded by ``_check_conformance`` during a
#: test and reported by the autouse fixture ``answers_conform`` at its end.
NONCONFORMING: list[str] = []


def _check_conformance(application: Sanic) -> None:
    """Every answer the server gives in any test is checked against the OpenAPI document's
    declaration of its route (status documented, body of the declared model or the envelope):
    the whole suite is a conformance test of the contract."""

    @application.on_response
    async def conform(request: Request, response: HTTPResponse) -> None:
        route = getattr(request, "route", None)
        spec = spec_of(route.handler) if route is not None else None
        if spec is None or not spec.in_document:
            return
        problems = conformance_problems(spec, route.path, response.status, response.body or b"")
        NONCONFORMING.extend(f"{request.method} {request.path}: {p}" for p in problems)


@pytest.fixture(autouse=True)
def answers_conform() -> Iterator[None]:
    NONCONFORMING.clear()
    yield
    found, NONCONFORMING[:] = list(NONCONFORMING), []
    assert not found, "answers outside the OpenAPI document:\n" + "\n".join(found[:10])


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Sanic]:
    applied = await migrate(settings.effective_database_url)
    assert applied, "a fresh test database must have migrations to apply"
    application = create_app(settings, name=f"zhangban_test_{uuid.uuid4().hex[:6]}")
    _add_probe_routes(application)
    _check_conformance(application)
    runner = AppRunner(application)
    await runner.start()
    async with serving_on_socket(application, settings.payment_notify_base_url):
        yield application
    await runner.stop()


@asynccontextmanager
async def serving_on_socket(application: Sanic, base_url: str) -> AsyncIterator[None]:
    """The started application also on a real socket (its lifespan already run), for callers
    from other processes: the sandbox's payment peers calling back."""
    port = urlsplit(base_url).port
    assert port is not None
    async with serving_asgi(application, port):
        yield


@pytest.fixture(scope="session")
async def http(app: Sanic) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://zhangban.test") as client:
        yield client


def _model_tables() -> list[str]:
    return [
        model._meta.db_table
        for model in Tortoise.apps["models"].values()
        if model._meta.db_table != "aerich"
    ]


@pytest.fixture
async def clean(app: Sanic) -> Sanic:
    """Every table and Redis emptied: each test starts from nothing and builds what it needs.

    The in-process worker is stopped first and started again after: its pumps and jobs must
    not hold a table mid-transaction while it is truncated (PostgreSQL deadlocks), nor write the
    last test's leftovers into this one's empty tables."""
    await app.ctx.worker.stop()
    conn = connections.get("default")
    tables = _model_tables()
    if PROFILE == "postgres":
        await conn.execute_script(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )
    else:
        deletes = "".join(f'DELETE FROM "{t}";' for t in tables)
        await conn.execute_script(f"PRAGMA foreign_keys = OFF;{deletes}PRAGMA foreign_keys = ON;")
    await app.ctx.redis.flushdb()
    reset_caches()  # ids restart with the tables: per-worker caches keyed by id must go too
    forget_standings()
    app.ctx.worker.start()
    return app


@pytest.fixture
async def client(clean: Sanic, http: httpx.AsyncClient) -> httpx.AsyncClient:
    """The application over HTTP, on clean state."""
    return http


@pytest.fixture
async def sandbox(sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox peers over real HTTP, for driving their control API."""
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as peer:
        yield peer


@pytest.fixture
def phone(client: httpx.AsyncClient, sandbox: httpx.AsyncClient) -> Callable[[], Phone]:
    """A factory of citizens' phones (each a new WeChat user), on clean state."""
    return lambda: Phone(api=client, sandbox=sandbox)


@pytest.fixture
def hire(clean: Sanic, client: httpx.AsyncClient, sandbox: httpx.AsyncClient) -> Hire:
    """A factory of staff members on clean state (see ``tests.staff.Hire``)."""

    async def hire(
        department_code: str, *roles: str, name: str = "测试工作人员", bind: bool = True
    ) -> StaffMember:
        return await staff_member(
            clean,
            client,
            sandbox,
            department_code=department_code,
            roles=list(roles),
            name=name,
            bind=bind,
        )

    return hire
