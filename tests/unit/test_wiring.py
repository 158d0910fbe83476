"""The composition root builds each resource once per process, and providers by name.

No I/O: ``build_resources`` opens no connection (the embedded profile's Redis is in process, the
object folder is not touched until used), and nothing here sends a request.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from api.wiring import WorkerDeps, build_resources
from auth.providers.factory import (
    COMPANY_REGISTRIES,
    REALNAME_PROVIDERS,
    company_registry,
    realname_provider,
)
from auth.providers.sandbox import SandboxCompanyRegistry, SandboxRealnameProvider
from core.settings import ConfigurationError, Settings


def embedded(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(profile="embedded", var_dir=tmp_path, redis_url="", **overrides)  # type: ignore[arg-type]


async def test_one_http_client_and_one_wechat_client_serve_the_whole_process(
    tmp_path: Path,
) -> None:
    resources = build_resources(embedded(tmp_path))
    try:
        assert resources.auth.wechat is resources.wechat
        assert resources.auth.redis is resources.redis
        assert resources.auth.settings is resources.settings
        assert isinstance(resources.auth.realname, SandboxRealnameProvider)
        assert isinstance(resources.auth.registry, SandboxCompanyRegistry)
        deps = WorkerDeps.of(resources)
        assert deps.http is resources.http
        assert deps.wechat is resources.wechat
        assert deps.redis is resources.redis
        assert deps.store is resources.store
    finally:
        await resources.http.aclose()
        await resources.redis.aclose()


def test_every_registry_knows_the_providers_the_settings_allow() -> None:
    for field, registry in (
        ("realname_provider", REALNAME_PROVIDERS),
        ("company_registry_provider", COMPANY_REGISTRIES),
    ):
        allowed = Settings.model_fields[field].annotation.__args__  # type: ignore[union-attr]
        assert set(allowed) == set(registry), field


async def test_an_unknown_provider_is_a_configuration_error(tmp_path: Path) -> None:
    settings = embedded(tmp_path).model_copy(
        update={"realname_provider": "nciic", "company_registry_provider": "gsxt"}
    )
    async with httpx.AsyncClient() as http:
        with pytest.raises(ConfigurationError, match=r"ZB_REALNAME_PROVIDER.*'nciic'.*sandbox"):
            realname_provider(settings, http)
        with pytest.raises(ConfigurationError, match=r"ZB_COMPANY_REGISTRY_PROVIDER.*'gsxt'"):
            company_registry(settings, http)
