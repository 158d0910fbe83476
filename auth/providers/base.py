"""Ports of the identity context: the real-name check and the company registry.

What every adapter of a port must do is written here and checked by its contract suite
(``tests/contract/test_realname_port.py``, ``test_registry_port.py``), run against every provider
of ``auth.providers.factory``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from core.errors import ServiceUnavailable


class RealnameOutcome(StrEnum):
    match = "match"
    mismatch = "mismatch"


class ProviderUnavailable(ServiceUnavailable):
    """The provider gave no answer (unreachable, timed out, an error of its own): not billed,
    so the attempt is not counted, and the person may try again later."""

    code = "auth.provider_unavailable"
    message = "身份核验服务暂时不可用，请稍后再试，本次不计入核验次数。"


class RegistryUnavailable(ProviderUnavailable):
    """The company registry gave no answer."""

    message = "企业登记信息暂时无法查询，请稍后再试。"


class RealnameProvider(Protocol):
    """Checks that a name and resident ID number belong together (a paid call).

    ``id_number`` has passed ``auth.identifiers.check_id_number`` (18 characters, an upper-case
    ``X`` if any) and ``name`` is trimmed; both are sent as they are (a name may hold ``·``).
    ``match`` when the authority holds that name for that number, ``mismatch`` for any other
    name; ``ProviderUnavailable`` when no answer came (never a guess).
    """

    async def verify(self, *, name: str, id_number: str) -> RealnameOutcome: ...


@dataclass(frozen=True)
class RegistryRecord:
    uscc: str
    name: str
    legal_rep_name: str
    legal_rep_id_number: str


class CompanyRegistry(Protocol):
    """The business registry: who the legal representative of a company is.

    ``uscc`` has passed ``auth.identifiers.check_uscc``. The record as the registry holds it, or
    ``None`` when it holds no company of that code; ``RegistryUnavailable`` when no answer came.
    """

    async def lookup(self, uscc: str) -> RegistryRecord | None: ...
