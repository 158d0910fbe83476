"""The deployment's payment channels as the use cases take them: each enabled channel by name,
and where each one's callbacks reach this deployment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from payments.providers.base import PaymentChannel

#: How a payer sees each channel, and the modes a WeChat-logged-in payer can use with it: WeChat
#: Pay on this phone (JSAPI) or as a QR code (Native) for a finance officer's phone; Alipay only as
#: a QR code (its in-app mode needs an Alipay user id, which a WeChat login never has).
PAYER_OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "wechatpay": ("微信支付", ("in_app", "qr")),
    "alipay": ("支付宝", ("qr",)),
}


@dataclass(frozen=True)
class Channels:
    by_name: Mapping[str, PaymentChannel]
    #: the base URL the platforms reach this deployment at (``ZB_PUBLIC_BASE_URL``)
    public_base_url: str

    def get(self, name: str) -> PaymentChannel | None:
        return self.by_name.get(name)

    def names(self) -> tuple[str, ...]:
        return tuple(self.by_name)

    def payer_options(self) -> list[dict[str, object]]:
        """The enabled channels as a fee notice offers them (``PAYER_OPTIONS``)."""
        return [
            {
                "channel": name,
                "label": PAYER_OPTIONS[name][0],
                "modes": list(PAYER_OPTIONS[name][1]),
            }
            for name in self.by_name
            if name in PAYER_OPTIONS
        ]

    def payment_url(self, name: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/callbacks/{name}"

    def refund_url(self, name: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/callbacks/{name}/refund"
