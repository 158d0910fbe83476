"""Ports of the identity context: the real-name check and the company registry."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from core.errors import ServiceUnavailable


class RealnameOutcome(StrEnum):
    match = "match"
    mismatch = "mismatch"


class ProviderUnavailable(ServiceUnavailable):
    code = "auth.provider_unavailable"
    message = "身份核验服务暂时不可用，请稍后再试，本次不计入核验次数。"


class RealnameProvider(Protocol):
    """Checks that a name and resident ID number belong together (a paid call)."""

    async def verify(self, *, name: str, id_number: str) -> RealnameOutcome: ...


@dataclass(frozen=True)
class RegistryRecord:
    uscc: str
    name: str
    legal_rep_name: str
    legal_rep_id_number: str


class CompanyRegistry(Protocol):
    """The business registry: who the legal representative of a company is."""

    async def lookup(self, uscc: str) -> RegistryRecord | None: ...
