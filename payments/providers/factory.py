"""The payment channels by name. The payer picks one per order, so the composition root
(``api.wiring``) builds every channel ``ZB_PAYMENT_CHANNELS`` enables and the use cases pick by
name. A new channel is a module beside ``wechatpay.py`` and one entry here; the contract suite
(``tests/contract/test_payment_channels.py``) runs against it from then on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from core.settings import ConfigurationError, Settings
from payments.providers.alipay import AlipayChannel
from payments.providers.base import PaymentChannel
from payments.providers.credentials import alipay_credentials, wechatpay_credentials
from payments.providers.wechatpay import WeChatPayChannel

Builder = Callable[[Settings, httpx.AsyncClient], PaymentChannel]

CHANNELS: Mapping[str, Builder] = {
    "wechatpay": lambda settings, http: WeChatPayChannel(wechatpay_credentials(settings), http),
    "alipay": lambda settings, http: AlipayChannel(alipay_credentials(settings), http),
}


def payment_channels(settings: Settings, http: httpx.AsyncClient) -> dict[str, PaymentChannel]:
    """Every channel ``ZB_PAYMENT_CHANNELS`` enables, by name."""
    unknown = [name for name in settings.enabled_payment_channels if name not in CHANNELS]
    if unknown:
        known = ", ".join(sorted(CHANNELS))
        raise ConfigurationError([f"ZB_PAYMENT_CHANNELS: no channel named {unknown} ({known})"])
    return {name: CHANNELS[name](settings, http) for name in settings.enabled_payment_channels}
