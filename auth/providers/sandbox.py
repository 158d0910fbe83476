"""The ``sandbox`` provider: the real-name check and the company registry of ``sandbox/``.

Both speak HTTP to the peers (``sandbox/realname.py``, ``sandbox/registry.py``), mounted in the
embedded server or run as their own process. Production refuses them unless
``ZB_ALLOW_SANDBOX_PROVIDERS`` (a staging deployment).
"""

from __future__ import annotations

import logging

import httpx

from auth.providers.base import (
    ProviderUnavailable,
    RealnameOutcome,
    RegistryRecord,
    RegistryUnavailable,
)

log = logging.getLogger("zhangban.providers")


class SandboxRealnameProvider:
    def __init__(self, *, base_url: str, http: httpx.AsyncClient) -> None:
        self._url = f"{base_url}/realname/verify"
        self._http = http

    async def verify(self, *, name: str, id_number: str) -> RealnameOutcome:
        try:
            response = await self._http.post(self._url, json={"name": name, "id_number": id_number})
        except httpx.HTTPError as exc:
            raise ProviderUnavailable() from exc
        if response.status_code != 200:
            log.warning("realname provider answered %s", response.status_code)
            raise ProviderUnavailable()
        return RealnameOutcome(response.json()["result"])


class SandboxCompanyRegistry:
    def __init__(self, *, base_url: str, http: httpx.AsyncClient) -> None:
        self._base = f"{base_url}/registry/companies"
        self._http = http

    async def lookup(self, uscc: str) -> RegistryRecord | None:
        try:
            response = await self._http.get(f"{self._base}/{uscc}")
        except httpx.HTTPError as exc:
            raise RegistryUnavailable() from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RegistryUnavailable()
        data = response.json()
        return RegistryRecord(
            uscc=data["uscc"],
            name=data["name"],
            legal_rep_name=data["legal_rep_name"],
            legal_rep_id_number=data["legal_rep_id_number"],
        )
