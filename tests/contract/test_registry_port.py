"""The company-registry port (``auth.providers.base.CompanyRegistry``), against every provider.

As for the real-name port: every provider of ``auth.providers.factory.COMPANY_REGISTRIES`` is built
by the factory and pointed at its peer (the sandbox provider at the session's sandbox process);
its stand says how to make the peer hold a company; a provider without a stand fails the suite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import asdict, dataclass

import httpx
import pytest

from auth.providers.base import (
    CompanyRegistry,
    ProviderUnavailable,
    RegistryRecord,
    RegistryUnavailable,
)
from auth.providers.factory import COMPANY_REGISTRIES, company_registry
from core.settings import Settings
from tests.processes import free_port

HELD = RegistryRecord(
    uscc="91110000600037341L",
    name="示例新设有限公司",
    legal_rep_name="欧阳·娜娜",
    legal_rep_id_number="11010819781120006X",
)
#: A valid code (GB 32100) of no company the registry holds.
UNKNOWN_USCC = "91110000600037342P"


@dataclass
class Stand:
    registry: CompanyRegistry
    #: the registry holds this company
    hold: Callable[[RegistryRecord], Awaitable[None]]
    #: the same provider where nothing answers
    unreachable: CompanyRegistry


@asynccontextmanager
async def sandbox_stand(sandbox_url: str, http: httpx.AsyncClient) -> AsyncIterator[Stand]:
    async def control(path: str, body: dict[str, str]) -> None:
        response = await http.post(f"{sandbox_url}/registry/_control/{path}", json=body)
        assert response.status_code == 200, response.text

    async def hold(record: RegistryRecord) -> None:
        await control("company", asdict(record))

    nowhere = f"http://127.0.0.1:{free_port()}/sandbox"
    await control("reset", {})
    try:
        yield Stand(
            registry=company_registry(_settings("sandbox", sandbox_url), http),
            hold=hold,
            unreachable=company_registry(_settings("sandbox", nowhere), http),
        )
    finally:
        await control("reset", {})


STANDS: dict[str, Callable[[str, httpx.AsyncClient], AbstractAsyncContextManager[Stand]]] = {
    "sandbox": sandbox_stand,
}


def _settings(name: str, base_url: str) -> Settings:
    return Settings(
        company_registry_provider=name,
        sandbox_enabled=False,
        sandbox_base_url=base_url,
    )


def test_every_provider_has_a_stand() -> None:
    assert set(STANDS) == set(COMPANY_REGISTRIES)


@pytest.fixture(params=sorted(COMPANY_REGISTRIES))
async def stand(request: pytest.FixtureRequest, sandbox_url: str) -> AsyncIterator[Stand]:
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0)) as http,
        STANDS[request.param](sandbox_url, http) as built,
    ):
        yield built


async def test_a_held_company_is_returned_as_the_registry_holds_it(stand: Stand) -> None:
    await stand.hold(HELD)
    record = await stand.registry.lookup(HELD.uscc)
    assert record == HELD
    assert isinstance(record, RegistryRecord)


async def test_an_unknown_company_is_none(stand: Stand) -> None:
    await stand.hold(HELD)
    assert await stand.registry.lookup(UNKNOWN_USCC) is None


async def test_an_unreachable_registry_is_registry_unavailable(stand: Stand) -> None:
    with pytest.raises(RegistryUnavailable) as raised:
        await stand.unreachable.lookup(HELD.uscc)
    assert isinstance(raised.value, ProviderUnavailable)
    assert raised.value.status == 503
    assert raised.value.code == "auth.provider_unavailable"
    assert raised.value.message == "企业登记信息暂时无法查询，请稍后再试。"
