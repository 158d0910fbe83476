"""The merchant's key material: the sandbox's file names agree on both sides, and a deployment
that names no keys is told what is missing instead of starting half-configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import ConfigurationError, Settings
from payments.providers import credentials
from sandbox import keys


def test_the_merchant_reads_the_files_the_sandbox_writes() -> None:
    assert credentials.SANDBOX_WECHATPAY_MERCHANT_KEY == keys.WECHATPAY_MERCHANT_KEY
    assert credentials.SANDBOX_WECHATPAY_PLATFORM_PUBLIC == keys.WECHATPAY_PLATFORM_PUBLIC
    assert credentials.SANDBOX_ALIPAY_APP_KEY == keys.ALIPAY_APP_KEY
    assert credentials.SANDBOX_ALIPAY_PUBLIC == keys.ALIPAY_PUBLIC
    assert credentials.SANDBOX_VALUES == keys.VALUES


def test_sandbox_keys_are_made_once_and_read_back(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    made = keys.ensure_sandbox_keys(folder)
    again = keys.ensure_sandbox_keys(folder)
    assert made == again and len(made.wechatpay_apiv3_key) == 32
    settings = Settings(sandbox_base_url="http://127.0.0.1:9/sandbox", sandbox_keys_dir=folder)
    wechat = credentials.wechatpay_credentials(settings)
    assert wechat.merchant_serial == made.wechatpay_merchant_serial
    assert wechat.platform_key_id.startswith("PUB_KEY_ID_")
    assert (
        wechat.platform_key.public_numbers()
        == made.public_key(keys.WECHATPAY_PLATFORM_PUBLIC).public_numbers()
    )
    alipay = credentials.alipay_credentials(settings)
    assert (
        alipay.alipay_public_key.public_numbers()
        == made.public_key(keys.ALIPAY_PUBLIC).public_numbers()
    )


def test_without_the_sandbox_every_key_must_be_named(tmp_path: Path) -> None:
    settings = Settings(sandbox_enabled=False, var_dir=tmp_path)
    with pytest.raises(ConfigurationError) as wechat:
        credentials.wechatpay_credentials(settings)
    assert any("ZB_WECHATPAY_APIV3_KEY" in p for p in wechat.value.problems)
    with pytest.raises(ConfigurationError) as alipay:
        credentials.alipay_credentials(settings)
    assert any("ZB_ALIPAY_APP_PRIVATE_KEY_FILE" in p for p in alipay.value.problems)


def test_a_named_file_that_is_not_a_key_is_named_in_the_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    settings = Settings(
        sandbox_enabled=False,
        alipay_app_private_key_file=junk,
        alipay_public_key_file=junk,
    )
    with pytest.raises(ConfigurationError) as error:
        credentials.alipay_credentials(settings)
    assert "ZB_ALIPAY_APP_PRIVATE_KEY_FILE: not a PEM private key" in error.value.problems
