"""The sandbox payment platforms' keys, generated on first start into one folder.

A real deployment gets these from the platforms' merchant portals: the merchant's API key pair
(the public half uploaded to WeChat Pay, or to Alipay as the app public key), the platform's
public key, the APIv3 key. The sandbox plays both sides, so it makes them itself: the peers read
the halves a platform holds, this server reads the halves a merchant holds, from the same folder
(``ZB_SANDBOX_KEYS_DIR``, default ``var/sandbox-keys``). Generation is atomic (a temporary folder
renamed into place), so a server and a peer process starting together agree on one set.

Never used in production: ``Settings.problems`` refuses a production profile with the sandbox on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

#: File names within the folder; ``payments.providers.credentials`` reads the merchant's halves.
WECHATPAY_MERCHANT_KEY = "wechatpay-merchant-key.pem"
WECHATPAY_MERCHANT_PUBLIC = "wechatpay-merchant-public.pem"
WECHATPAY_PLATFORM_KEY = "wechatpay-platform-key.pem"
WECHATPAY_PLATFORM_PUBLIC = "wechatpay-platform-public.pem"
ALIPAY_APP_KEY = "alipay-app-key.pem"
ALIPAY_APP_PUBLIC = "alipay-app-public.pem"
ALIPAY_KEY = "alipay-key.pem"
ALIPAY_PUBLIC = "alipay-public.pem"
#: the short secrets and identifiers: merchant serial, APIv3 key, platform public key id
VALUES = "values.json"


@dataclass(frozen=True)
class SandboxKeys:
    folder: Path
    wechatpay_merchant_serial: str
    wechatpay_apiv3_key: str
    wechatpay_platform_key_id: str

    def path(self, name: str) -> Path:
        return self.folder / name

    def private_key(self, name: str) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(self.path(name).read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key

    def public_key(self, name: str) -> rsa.RSAPublicKey:
        key = serialization.load_pem_public_key(self.path(name).read_bytes())
        assert isinstance(key, rsa.RSAPublicKey)
        return key


def _pair(folder: Path, private_name: str, public_name: str) -> rsa.RSAPrivateKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (folder / private_name).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / public_name).write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key


def _generate(folder: Path) -> None:
    merchant = _pair(folder, WECHATPAY_MERCHANT_KEY, WECHATPAY_MERCHANT_PUBLIC)
    _pair(folder, WECHATPAY_PLATFORM_KEY, WECHATPAY_PLATFORM_PUBLIC)
    _pair(folder, ALIPAY_APP_KEY, ALIPAY_APP_PUBLIC)
    _pair(folder, ALIPAY_KEY, ALIPAY_PUBLIC)
    der = merchant.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    values = {
        # a certificate serial is 40 upper-case hex digits on WeChat Pay's pages
        "wechatpay_merchant_serial": hashlib.sha1(der).hexdigest().upper(),
        "wechatpay_apiv3_key": secrets.token_hex(16),  # 32 characters
        "wechatpay_platform_key_id": "PUB_KEY_ID_" + str(secrets.randbelow(10**30)).zfill(30),
    }
    (folder / VALUES).write_text(json.dumps(values, indent=2))


def ensure_sandbox_keys(folder: Path) -> SandboxKeys:
    """The keys in ``folder``, generated first if it holds none."""
    if not (folder / VALUES).exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".sandbox-keys-", dir=folder.parent))
        try:
            _generate(staging)
            os.chmod(staging, 0o700)
            with contextlib.suppress(OSError):  # another process won the race: use its keys
                staging.rename(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    values = json.loads((folder / VALUES).read_text())
    return SandboxKeys(folder=folder, **values)
