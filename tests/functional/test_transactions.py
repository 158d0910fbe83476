"""A transaction whose request is cancelled while it begins gives back what it took.

Sanic cancels a request's task when its client hangs up; Tortoise's own ``in_transaction``
entry, cancelled during ``BEGIN``, kept its pooled connection (PostgreSQL: the pool shrank for
good) or the connection's lock (SQLite: the embedded server hung). ``core.db.in_transaction``
is what every use case opens.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from sanic import Sanic
from tortoise.transactions import in_transaction as tortoise_transaction

from core.db import in_transaction

#: more transactions than a pool holds (``maxsize=20`` in the test URL)
AFTERWARDS = 30


def _wrapper_class() -> type:
    context: Any = tortoise_transaction()
    wrapper = getattr(context, "client", None) or context.connection
    return type(wrapper)


@pytest.mark.parametrize("cancelled_times", [1, 25])
async def test_a_transaction_cancelled_while_it_begins_gives_back_its_connection(
    cancelled_times: int, clean: Sanic, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapper = _wrapper_class()
    original = wrapper.begin
    started = asyncio.Event()
    forever = asyncio.Event()

    async def slow_begin(self: Any) -> Any:
        started.set()
        await forever.wait()  # a BEGIN the client hangs up during
        return await original(self)

    monkeypatch.setattr(wrapper, "begin", slow_begin)

    async def request() -> None:
        async with in_transaction():
            raise AssertionError("the transaction should never have begun")

    for _ in range(cancelled_times):
        started.clear()
        task = asyncio.create_task(request())
        await asyncio.wait_for(started.wait(), 5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    monkeypatch.undo()

    async def afterwards() -> None:
        for _ in range(AFTERWARDS):
            async with in_transaction() as conn:
                await conn.execute_query("SELECT 1")

    await asyncio.wait_for(afterwards(), 10)
