"""Adapters for the sandbox peers of the real-name check and the company registry (HTTP)."""

from __future__ import annotations

import logging

import httpx

from auth.providers.base import ProviderUnavailable, RealnameOutcome, RegistryRecord

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
            raise ProviderUnavailable("企业登记信息暂时无法查询，请稍后再试。") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ProviderUnavailable("企业登记信息暂时无法查询，请稍后再试。")
        data = response.json()
        return RegistryRecord(
            uscc=data["uscc"],
            name=data["name"],
            legal_rep_name=data["legal_rep_name"],
            legal_rep_id_number=data["legal_rep_id_number"],
        )
