"""Fixtures of the case tests: the case catalogue and the scene most of them start from.
Registered for the whole suite by ``tests/conftest.py`` (``pytest_plugins``); a module's own
fixture of the same name takes precedence."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sanic import Sanic

from tests.cases_flow import CaseCatalogue, Scene, applicant, import_case_catalogue, scene_of
from tests.people import Phone


@pytest.fixture
async def case_cat(clean: Sanic) -> CaseCatalogue:
    """The case tests' catalogue (``tests.cases_flow.import_case_catalogue``) on clean state."""
    return await import_case_catalogue(clean)


@pytest.fixture
async def scene(
    clean: Sanic,
    client: httpx.AsyncClient,
    sandbox: httpx.AsyncClient,
    phone: Callable[[], Phone],
    case_cat: CaseCatalogue,
) -> Scene:
    """The case catalogue, its departments staffed one per role, and an applicant at L1."""
    return await scene_of(clean, client, sandbox, phone, case_cat)


@pytest.fixture
async def stranger(phone: Callable[[], Phone]) -> Phone:
    """Another citizen at L1, with nothing to do with the scene's cases."""
    return await applicant(phone())
