"""The identity providers by name: which module serves ``ZB_REALNAME_PROVIDER`` and
``ZB_COMPANY_REGISTRY_PROVIDER``.

Each port has a registry, name → builder; a builder takes the settings and the process's HTTP
client (one connection pool for every provider) and returns the adapter. The composition root
(``api.wiring``) builds the one a setting names; a context whose choice is made per request (the
payer picks a channel) builds every enabled one and picks by name. A new provider is a module
beside ``sandbox.py`` and one entry here, and its contract suite runs against it from then on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

import httpx

from auth.providers.base import CompanyRegistry, RealnameProvider
from auth.providers.sandbox import SandboxCompanyRegistry, SandboxRealnameProvider
from core.settings import ConfigurationError, Settings

T = TypeVar("T")
Builder = Callable[[Settings, httpx.AsyncClient], T]

REALNAME_PROVIDERS: Mapping[str, Builder[RealnameProvider]] = {
    "sandbox": lambda settings, http: SandboxRealnameProvider(
        base_url=settings.effective_sandbox_base_url, http=http
    ),
}

COMPANY_REGISTRIES: Mapping[str, Builder[CompanyRegistry]] = {
    "sandbox": lambda settings, http: SandboxCompanyRegistry(
        base_url=settings.effective_sandbox_base_url, http=http
    ),
}


def _build(
    registry: Mapping[str, Builder[T]],
    name: str,
    variable: str,
    settings: Settings,
    http: httpx.AsyncClient,
) -> T:
    builder = registry.get(name)
    if builder is None:
        known = ", ".join(sorted(registry))
        raise ConfigurationError([f"{variable}: no provider named {name!r} (known: {known})"])
    return builder(settings, http)


def realname_provider(settings: Settings, http: httpx.AsyncClient) -> RealnameProvider:
    """The real-name check ``ZB_REALNAME_PROVIDER`` names."""
    return _build(
        REALNAME_PROVIDERS, settings.realname_provider, "ZB_REALNAME_PROVIDER", settings, http
    )


def company_registry(settings: Settings, http: httpx.AsyncClient) -> CompanyRegistry:
    """The company registry ``ZB_COMPANY_REGISTRY_PROVIDER`` names."""
    return _build(
        COMPANY_REGISTRIES,
        settings.company_registry_provider,
        "ZB_COMPANY_REGISTRY_PROVIDER",
        settings,
        http,
    )
