"""Fixtures of the upload tests (``test_uploads``, ``test_upload_cleanup``): the upload
catalogue on an empty object store, the store, and a logged-in citizen. Registered for the
whole suite by ``tests/conftest.py`` (``pytest_plugins``); a module's own fixture of the same
name takes precedence."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from sanic import Sanic

from storage.base import ObjectStore
from tests.people import Phone
from tests.uploads import Catalogue, import_catalogue, wipe_store


@pytest.fixture
async def cat(clean: Sanic) -> AsyncIterator[Catalogue]:
    """The catalogue, on an empty object store (left empty for the tests after this one)."""
    await wipe_store(clean.ctx.store)
    yield await import_catalogue(clean)
    await wipe_store(clean.ctx.store)


@pytest.fixture
def store(clean: Sanic) -> ObjectStore:
    return clean.ctx.store  # type: ignore[no-any-return]


@pytest.fixture
async def me(cat: Catalogue, phone: Callable[[], Phone]) -> Phone:
    person = phone()
    await person.login()
    return person
