"""The company-registry port (``auth.providers.base.CompanyRegistry``), against every provider.

As for the real-name port: every provider of ``auth.providers.factory.COMPANY_REGISTRIES`` is built
by the factory and pointed at its peer (the sandbox provider at the session's sandbox process);
its stand says how to make the peer hold a company; a provider without a stand fails the suite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
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
from tests.contract.ports import (
    StandFactory,
    missing_stands,
    nowhere,
    sandbox_peer,
    stand_fixture,
)

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
    async with sandbox_peer(http, sandbox_url, "registry") as control:

        async def hold(record: RegistryRecord) -> None:
            await control("company", asdict(record))

        yield Stand(
            registry=company_registry(_settings("sandbox", sandbox_url), http),
            hold=hold,
            unreachable=company_registry(_settings("sandbox", nowhere()), http),
        )


STANDS: dict[str, StandFactory[Stand]] = {"sandbox": sandbox_stand}
stand = stand_fixture(STANDS)


def _settings(name: str, base_url: str) -> Settings:
    return Settings(
        company_registry_provider=name,
        sandbox_enabled=False,
        sandbox_base_url=base_url,
    )


def test_every_provider_has_a_stand() -> None:
    assert not missing_stands(STANDS, COMPANY_REGISTRIES)


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
