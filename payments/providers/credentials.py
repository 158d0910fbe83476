"""The merchant's key material for each channel, from the settings.

Production names every file and value (``ZB_WECHATPAY_*``, ``ZB_ALIPAY_*``). With the sandbox on
(embedded, or ``ZB_SANDBOX_BASE_URL`` set), what is not named is read from the sandbox's key folder
(``ZB_SANDBOX_KEYS_DIR``), which ``sandbox.keys.ensure_sandbox_keys`` fills on first start; the
file names below are the merchant's halves of that folder (``tests/unit/test_payment_credentials``
checks they are the sandbox's names).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.settings import ConfigurationError, Settings

SANDBOX_WECHATPAY_MERCHANT_KEY = "wechatpay-merchant-key.pem"
SANDBOX_WECHATPAY_PLATFORM_PUBLIC = "wechatpay-platform-public.pem"
SANDBOX_ALIPAY_APP_KEY = "alipay-app-key.pem"
SANDBOX_ALIPAY_PUBLIC = "alipay-public.pem"
SANDBOX_VALUES = "values.json"


@dataclass(frozen=True)
class WeChatPayCredentials:
    api_base: str
    appid: str
    mch_id: str
    merchant_serial: str
    merchant_key: rsa.RSAPrivateKey
    apiv3_key: bytes
    platform_key_id: str
    platform_key: rsa.RSAPublicKey


@dataclass(frozen=True)
class AlipayCredentials:
    gateway: str
    app_id: str
    seller_id: str
    app_private_key: rsa.RSAPrivateKey
    alipay_public_key: rsa.RSAPublicKey


def _file(settings: Settings, named: Path | None, sandbox_name: str, variable: str) -> bytes:
    path = named
    if path is None and settings.payments_use_sandbox:
        path = settings.effective_sandbox_keys_dir / sandbox_name
    if path is None:
        raise ConfigurationError([f"{variable} is required"])
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigurationError([f"{variable}: cannot read {path} ({exc.strerror})"]) from None


def _sandbox_values(settings: Settings) -> dict[str, Any]:
    if not settings.payments_use_sandbox:
        return {}
    path = settings.effective_sandbox_keys_dir / SANDBOX_VALUES
    try:
        values: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        raise ConfigurationError([f"sandbox payment keys: cannot read {path}"]) from None
    return values


def _private(pem: bytes, variable: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise ConfigurationError([f"{variable}: not a PEM private key"]) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError([f"{variable}: not an RSA key"])
    return key


def _public(pem: bytes, variable: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise ConfigurationError([f"{variable}: not a PEM public key"]) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigurationError([f"{variable}: not an RSA key"])
    return key


def wechatpay_credentials(settings: Settings) -> WeChatPayCredentials:
    values = _sandbox_values(settings)
    apiv3 = settings.wechatpay_apiv3_key or values.get("wechatpay_apiv3_key", "")
    serial = settings.wechatpay_merchant_serial or values.get("wechatpay_merchant_serial", "")
    key_id = settings.wechatpay_platform_key_id or values.get("wechatpay_platform_key_id", "")
    problems = []
    if len(apiv3.encode()) != 32:
        problems.append("ZB_WECHATPAY_APIV3_KEY must be 32 characters")
    if not serial:
        problems.append("ZB_WECHATPAY_MERCHANT_SERIAL is required")
    if not key_id:
        problems.append("ZB_WECHATPAY_PLATFORM_KEY_ID is required")
    if problems:
        raise ConfigurationError(problems)
    return WeChatPayCredentials(
        api_base=settings.effective_wechatpay_api_base,
        appid=settings.wechat_appid,
        mch_id=settings.wechatpay_mch_id,
        merchant_serial=serial,
        merchant_key=_private(
            _file(
                settings,
                settings.wechatpay_merchant_key_file,
                SANDBOX_WECHATPAY_MERCHANT_KEY,
                "ZB_WECHATPAY_MERCHANT_KEY_FILE",
            ),
            "ZB_WECHATPAY_MERCHANT_KEY_FILE",
        ),
        apiv3_key=apiv3.encode(),
        platform_key_id=key_id,
        platform_key=_public(
            _file(
                settings,
                settings.wechatpay_platform_key_file,
                SANDBOX_WECHATPAY_PLATFORM_PUBLIC,
                "ZB_WECHATPAY_PLATFORM_KEY_FILE",
            ),
            "ZB_WECHATPAY_PLATFORM_KEY_FILE",
        ),
    )


def alipay_credentials(settings: Settings) -> AlipayCredentials:
    return AlipayCredentials(
        gateway=settings.effective_alipay_gateway,
        app_id=settings.alipay_app_id,
        seller_id=settings.alipay_seller_id,
        app_private_key=_private(
            _file(
                settings,
                settings.alipay_app_private_key_file,
                SANDBOX_ALIPAY_APP_KEY,
                "ZB_ALIPAY_APP_PRIVATE_KEY_FILE",
            ),
            "ZB_ALIPAY_APP_PRIVATE_KEY_FILE",
        ),
        alipay_public_key=_public(
            _file(
                settings,
                settings.alipay_public_key_file,
                SANDBOX_ALIPAY_PUBLIC,
                "ZB_ALIPAY_PUBLIC_KEY_FILE",
            ),
            "ZB_ALIPAY_PUBLIC_KEY_FILE",
        ),
    )
