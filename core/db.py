"""Database setup: Tortoise ORM configuration and aerich migrations.

The server never generates schemas: ``zhangban migrate`` applies the aerich migrations once,
before any worker starts, so several workers can start together without racing on DDL.

aerich writes SQL for one dialect, so each dialect has its own folder under ``migrations/``,
generated from the same models (``zhangban makemigrations``); a test checks that both folders are
in step with the models.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.models import Model
from tortoise.transactions import in_transaction as _tortoise_transaction

from core.settings import Settings

log = logging.getLogger("zhangban.db")

#: Model modules of every context, named as strings so that ``core`` imports none of them.
MODEL_MODULES: list[str] = [
    "core.models",
    "catalog.models",
    "auth.models",
    "storage.models",
    "cases.models",
    "payments.models",
    "notify.models",
]

MIGRATIONS_ROOT = Path(__file__).resolve().parent.parent / "migrations"
APP_LABEL = "models"
#: PostgreSQL advisory lock key that serialises concurrent ``zhangban migrate`` runs.
_MIGRATE_LOCK_KEY = 0x7A62_6D69


async def _end_of_use(connection: Any) -> None:
    """What the PostgreSQL pool does when a connection comes back: nothing beyond asyncpg's own
    roll-back of an unfinished transaction.

    asyncpg's default reset sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` on every release, and Tortoise releases after every statement, so each query
    cost two round trips. This code holds no session state across a release (no ``SET``, no
    ``LISTEN``, no cursors; the one session advisory lock, the migration lock, is taken and
    released on a connection held for the purpose), so there is nothing to reset."""


def tortoise_config(database_url: str, *, with_aerich: bool = False) -> dict[str, Any]:
    modules = list(MODEL_MODULES)
    if with_aerich:
        modules.append("aerich.models")
    connection: str | dict[str, Any] = database_url
    if dialect_of(database_url) == "postgres":
        expanded = expand_db_url(database_url)
        if expanded["engine"] == "tortoise.backends.asyncpg":
            credentials = expanded["credentials"]
            credentials["reset"] = _end_of_use
            # asyncpg prepares every statement, and after five runs PostgreSQL may switch a
            # prepared statement to a generic plan that ignores the parameter values. Work
            # queues are skewed (few "open" tasks among millions of finished ones), and the
            # generic plan of the reviewer inbox walked every task's primary key: 480 ms instead
            # of 0.3 ms on a million cases (bench/cases_plans.py). Planning every time costs
            # 0.05-0.3 ms of PostgreSQL CPU a statement: the price of never meeting such a plan.
            settings = dict(credentials.get("server_settings") or {})
            settings.setdefault("plan_cache_mode", "force_custom_plan")
            credentials["server_settings"] = settings
            connection = expanded
    return {
        "connections": {"default": connection},
        "apps": {APP_LABEL: {"models": modules, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


def dialect_of(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


def migrations_dir(database_url: str) -> Path:
    return MIGRATIONS_ROOT / dialect_of(database_url)


def _ensure_sqlite_folder(database_url: str) -> None:
    if database_url.startswith("sqlite://") and ":memory:" not in database_url:
        path = Path(database_url.removeprefix("sqlite://").split("?", 1)[0])
        path.parent.mkdir(parents=True, exist_ok=True)


async def init_db(settings: Settings) -> None:
    """Open the connections of this process (one pool per worker)."""
    url = settings.effective_database_url
    _ensure_sqlite_folder(url)
    # Request handlers run in tasks the server creates, not in the listener's context: the
    # global fallback makes this process's connections visible to all of them.
    await Tortoise.init(config=tortoise_config(url, with_aerich=True), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


async def ping_db() -> None:
    """Raise if the database does not answer a trivial query."""
    await connections.get("default").execute_query("SELECT 1")


async def migrate(database_url: str) -> list[str]:
    """Apply every pending migration for the dialect of ``database_url``; return their names."""
    from aerich import Command  # deferred: aerich is needed only when migrating, not serving

    _ensure_sqlite_folder(database_url)
    config = tortoise_config(database_url, with_aerich=True)
    # aerich looks in ``<location>/<app>``: here ``migrations/<dialect>/models``.
    command = Command(
        tortoise_config=config, app=APP_LABEL, location=str(migrations_dir(database_url))
    )
    await command.init()
    try:
        async with _migration_lock(database_url):
            applied = await command.upgrade(run_in_transaction=True)
    finally:
        await command.aclose()
    for name in applied:
        log.info("migration applied", extra={"migration": name})
    return applied


@asynccontextmanager
async def _migration_lock(database_url: str) -> AsyncIterator[None]:
    if dialect_of(database_url) != "postgres":
        yield
        return
    # A session lock belongs to one connection: hold that connection from lock to unlock (a
    # statement of its own would return the connection to the pool between the two).
    async with connections.get("default").acquire_connection() as held:
        await held.execute(f"SELECT pg_advisory_lock({_MIGRATE_LOCK_KEY})")
        try:
            yield
        finally:
            await held.execute(f"SELECT pg_advisory_unlock({_MIGRATE_LOCK_KEY})")


async def make_migrations(database_url: str, name: str) -> str | None:
    """Write a new migration for the dialect of ``database_url`` (developer tool)."""
    from aerich import Command  # deferred: a developer tool, see ``migrate``

    _ensure_sqlite_folder(database_url)
    location = migrations_dir(database_url)
    config = tortoise_config(database_url, with_aerich=True)
    command = Command(tortoise_config=config, app=APP_LABEL, location=str(location))
    try:
        existing = list((location / APP_LABEL).glob("*.py")) if location.exists() else []
        if not existing:
            await command.init_migrations(safe=True)
            return "initial"
        await command.init(offline=True)
        return await command.migrate(name, no_input=True, offline=True)
    finally:
        await command.aclose()


_NUMBERED = re.compile(r"\$(\d+)")
M = TypeVar("M", bound=Model)


class SqlParams:
    """Numbered placeholders for ``fetch_rows``: ``p(value)`` appends the value and returns its
    ``$n``, so a statement can be written in any order and reuse a value."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"

    def many(self, values: Sequence[Any]) -> str:
        """``$i, $j, …`` for an ``IN (…)`` list."""
        return ", ".join(self(v) for v in values)


async def fetch_rows(sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows of a read-only statement written for PostgreSQL (``$1``, ``$2`` … placeholders), as
    dictionaries; on SQLite the placeholders become ``?1``, ``?2`` ….

    For the few reads on the hot path of a phone screen (case lists, staff inboxes, the case
    detail, the staff standing checked on every staff request): the ORM spends about 0.8 ms of
    CPU building a 20-row query and turning the rows into models, this about 0.2 ms (measured
    on PostgreSQL 15). Everything else goes through the ORM. Values come back as the driver
    gives them: on SQLite, dates and times are ISO strings (``as_date`` / ``as_datetime`` read
    both)."""
    conn = connections.get("default")
    if conn.capabilities.dialect != "postgres":
        sql = _NUMBERED.sub(r"?\1", sql)
    return await conn.execute_query_dict(sql, list(params))


async def fetch_models(
    model: type[M],
    where: str,
    params: Sequence[Any] = (),
    *,
    fields: Sequence[str] | None = None,
    order_by: str = "",
) -> list[M]:
    """Instances of ``model`` whose rows match ``where`` (SQL, ``$n`` placeholders), with all
    their fields or only ``fields``; ``order_by`` is SQL too.

    The rows are turned into models exactly as Tortoise does it (``Model._init_from_db``, the
    executor's own path, conversions of both dialects included), only without building the query
    through its query builder, which costs more than the query: loading one case takes 150 µs of
    CPU this way and 330 µs through ``Case.filter(id=…).first()``. A model loaded with some
    ``fields`` is partial, as after ``.only()``."""
    meta = model._meta
    names = fields or list(meta.fields_db_projection)
    columns = ", ".join(f'"{meta.fields_db_projection[name]}"' for name in names)
    sql = f'SELECT {columns} FROM "{meta.db_table}" WHERE {where}'
    if order_by:
        sql += f" ORDER BY {order_by}"
    return [model._init_from_db(**row) for row in await fetch_rows(sql, params)]


async def serialise(conn: BaseDBAsyncClient, slot: str) -> None:
    """Hold a lock on ``slot`` until ``conn``'s transaction ends, for a limit that a count and an
    insert check together (a count-then-insert alone lets concurrent requests all pass). On
    PostgreSQL a transaction-level advisory lock keyed by the slot's hash; SQLite runs one write
    transaction at a time (Tortoise holds its one connection for the whole transaction), which
    serialises it already."""
    if conn.capabilities.dialect == "postgres":
        key = int.from_bytes(hashlib.sha256(slot.encode()).digest()[:8], "big", signed=True)
        await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [key])


def date_param(value: date) -> date | str:
    """A date as a ``fetch_rows`` parameter: SQLite stores dates as ISO text."""
    if connections.get("default").capabilities.dialect == "postgres":
        return value
    return value.isoformat()


def as_date(value: date | str | None) -> date | None:
    """A DATE column's value from either dialect."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def as_datetime(value: datetime | str | None) -> datetime | None:
    """A timestamp column's value from either dialect (Tortoise stores UTC with its offset)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def iso_or_none(value: datetime | str | None) -> str | None:
    """A timestamp column's value (either dialect, see ``as_datetime``) as ISO 8601, or None."""
    at = as_datetime(value)
    return at.isoformat() if at is not None else None


def as_json(value: Any) -> Any:
    """A JSON column's value from either dialect (text on SQLite; asyncpg hands jsonb over as
    text unless a codec is set, and Tortoise sets none)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


class in_transaction:
    """``async with in_transaction() as conn:`` as Tortoise's, whose entry gives back what it
    took when the request is cancelled half-way in.

    Sanic cancels a request's task when its client hangs up. Tortoise's entry takes a pooled
    connection (PostgreSQL) or the one connection's lock (SQLite), then sends ``BEGIN``; cancelled
    during ``BEGIN``, it raises without giving either back, and only its exit would: the pool lost
    one connection for good (a worker hangs once all of its are gone), and SQLite's lock was never
    released (the embedded server hangs at once). Here a cancelled entry that got that far runs
    the exit, in the same task (the exit resets a context variable set in this context), then
    lets the cancellation go on."""

    __slots__ = ("_context",)

    def __init__(self, connection_name: str | None = None) -> None:
        self._context = _tortoise_transaction(connection_name)

    async def __aenter__(self) -> BaseDBAsyncClient:
        try:
            return await self._context.__aenter__()
        except asyncio.CancelledError:
            # ``token`` is set once the connection (or the lock) is held.
            if hasattr(self._context, "token"):
                with contextlib.suppress(Exception):
                    await self._context.__aexit__(asyncio.CancelledError, None, None)
            raise

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        await self._context.__aexit__(exc_type, exc, tb)
