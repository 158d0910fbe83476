"""The real-name port (``auth.providers.base.RealnameProvider``), against every provider.

Every provider the registry knows (``auth.providers.factory.REALNAME_PROVIDERS``) is built by the
factory, as the composition root builds it, and pointed at its peer: the sandbox provider at the
sandbox process of the session (``sandbox_url``). A stand says how to make that peer hold a
person or fail a call; a provider without a stand fails the suite, so none goes unchecked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from auth.providers.base import ProviderUnavailable, RealnameOutcome, RealnameProvider
from auth.providers.factory import REALNAME_PROVIDERS, realname_provider
from core.settings import Settings
from tests.contract.ports import (
    StandFactory,
    missing_stands,
    nowhere,
    sandbox_peer,
    stand_fixture,
)

ID_NUMBER = "360426199101010071"
#: A valid number whose check character is ``X``: sent as it is, upper case.
ID_NUMBER_X = "11010819781120006X"


@dataclass
class Stand:
    """A provider and the means to set up its peer."""

    provider: RealnameProvider
    #: the authority holds ``name`` for ``id_number``
    hold: Callable[[str, str], Awaitable[None]]
    #: calls about ``id_number`` get no answer (the provider is down for it)
    fail: Callable[[str], Awaitable[None]]
    #: the same provider where nothing answers at all
    unreachable: RealnameProvider


@asynccontextmanager
async def sandbox_stand(sandbox_url: str, http: httpx.AsyncClient) -> AsyncIterator[Stand]:
    async with sandbox_peer(http, sandbox_url, "realname") as control:

        async def hold(name: str, id_number: str) -> None:
            await control("person", {"name": name, "id_number": id_number})

        async def fail(id_number: str) -> None:
            await control("outcome", {"id_number": id_number, "outcome": "unavailable"})

        yield Stand(
            provider=realname_provider(_settings("sandbox", sandbox_url), http),
            hold=hold,
            fail=fail,
            unreachable=realname_provider(_settings("sandbox", nowhere()), http),
        )


STANDS: dict[str, StandFactory[Stand]] = {"sandbox": sandbox_stand}
stand = stand_fixture(STANDS)


def _settings(name: str, base_url: str) -> Settings:
    return Settings(
        realname_provider=name,
        sandbox_enabled=False,
        sandbox_base_url=base_url,
    )


def test_every_provider_has_a_stand() -> None:
    assert not missing_stands(STANDS, REALNAME_PROVIDERS)


async def test_the_name_the_authority_holds_matches(stand: Stand) -> None:
    await stand.hold("李明", ID_NUMBER)
    outcome = await stand.provider.verify(name="李明", id_number=ID_NUMBER)
    assert outcome is RealnameOutcome.match


async def test_another_name_does_not_match(stand: Stand) -> None:
    await stand.hold("李明", ID_NUMBER)
    for name in ("李鸣", "李 明", "王芳"):
        outcome = await stand.provider.verify(name=name, id_number=ID_NUMBER)
        assert outcome is RealnameOutcome.mismatch, name


async def test_names_and_numbers_are_sent_as_they_are(stand: Stand) -> None:
    """A name with a middle dot (many minority names) and a check character ``X``."""
    await stand.hold("买买提·艾力", ID_NUMBER_X)
    outcome = await stand.provider.verify(name="买买提·艾力", id_number=ID_NUMBER_X)
    assert outcome is RealnameOutcome.match
    outcome = await stand.provider.verify(name="买买提艾力", id_number=ID_NUMBER_X)
    assert outcome is RealnameOutcome.mismatch


async def test_no_answer_is_provider_unavailable(stand: Stand) -> None:
    await stand.hold("李明", ID_NUMBER)
    await stand.fail(ID_NUMBER)
    with pytest.raises(ProviderUnavailable) as raised:
        await stand.provider.verify(name="李明", id_number=ID_NUMBER)
    assert raised.value.status == 503
    assert raised.value.code == "auth.provider_unavailable"
    assert "不计入" in raised.value.message  # the person is told the try was not counted


async def test_an_unreachable_provider_is_provider_unavailable(stand: Stand) -> None:
    with pytest.raises(ProviderUnavailable):
        await stand.unreachable.verify(name="李明", id_number=ID_NUMBER)
