"""What every port's contract suite shares (``tests/contract/test_*_port.py``): the template a
payments, notify or delivery port copies.

A suite names, per provider the factory knows, a *stand*: an async context manager that builds
the provider as the composition root does, points it at its peer, and gives the suite the means
to set the peer up. ``stand_fixture`` runs every test of the suite once per provider, and
``missing_stands`` is asserted empty so that no provider goes unchecked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

import httpx
import pytest

from tests.processes import free_port

StandT = TypeVar("StandT")
#: Builds a stand from the session's sandbox URL and an HTTP client.
StandFactory = Callable[[str, httpx.AsyncClient], AbstractAsyncContextManager[StandT]]
#: A call on a sandbox peer's control API: ``control("reset", {})``.
Control = Callable[[str, dict[str, Any]], Awaitable[None]]


def nowhere() -> str:
    """A base URL where nothing answers: the provider as it is when its peer is down."""
    return f"http://127.0.0.1:{free_port()}/sandbox"


@asynccontextmanager
async def sandbox_peer(
    http: httpx.AsyncClient, sandbox_url: str, peer: str
) -> AsyncIterator[Control]:
    """The control API of one sandbox peer (``/<peer>/_control/…``), reset before and after."""

    async def control(path: str, body: dict[str, Any]) -> None:
        response = await http.post(f"{sandbox_url}/{peer}/_control/{path}", json=body)
        assert response.status_code == 200, response.text

    await control("reset", {})
    try:
        yield control
    finally:
        await control("reset", {})


def missing_stands(stands: Mapping[str, object], providers: Iterable[str]) -> set[str]:
    """Providers the factory knows that the suite cannot stand up (and stands of none)."""
    return set(stands) ^ set(providers)


def stand_fixture(stands: Mapping[str, StandFactory[StandT]]) -> Any:
    """A fixture ``stand`` that yields each provider's stand in turn."""

    @pytest.fixture(params=sorted(stands))
    async def stand(request: pytest.FixtureRequest, sandbox_url: str) -> AsyncIterator[StandT]:
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0)) as http,
            stands[request.param](sandbox_url, http) as built,
        ):
            yield built

    return stand
