"""The deployment's payment channels as the use cases take them: each enabled channel by name,
and where each one's callbacks reach this deployment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from payments.providers.base import PaymentChannel


@dataclass(frozen=True)
class Channels:
    by_name: Mapping[str, PaymentChannel]
    #: the base URL the platforms reach this deployment at (``ZB_PUBLIC_BASE_URL``)
    public_base_url: str

    def get(self, name: str) -> PaymentChannel | None:
        return self.by_name.get(name)

    def names(self) -> tuple[str, ...]:
        return tuple(self.by_name)

    def payment_url(self, name: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/callbacks/{name}"

    def refund_url(self, name: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/callbacks/{name}/refund"
