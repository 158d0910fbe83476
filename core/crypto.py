"""Personal data at rest: SM4-GCM ciphertext beside a keyed SM3 lookup hash, and display masks.

GB/T 39786-2021 level 3 asks for ID numbers and phone numbers to be kept confidential with the
national algorithms, and PIPL art. 28 counts them as sensitive. So a column never holds the value
itself, only:

* ``encrypt`` → ``v<version>:<base64url(iv + ciphertext + tag)>``. The version prefix lets keys
  rotate without a migration: new writes use the current key, old rows stay readable until a
  background job ``reencrypt``-s them. The column name is bound as associated data, so a
  ciphertext copied into another column (or another table) fails to decrypt instead of leaking.
* ``lookup_hash`` → HMAC-SM3 under a separate key that never rotates with the encryption keys,
  so equality lookups and unique indexes keep working across rotations without decrypting.

The masks are for pages that must show *whose* record it is without showing the identifier.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import unicodedata
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from core.keys import parse_field_keys

if TYPE_CHECKING:
    from core.settings import Settings

__all__ = [
    "DecryptionError",
    "FieldCipher",
    "mask_id_number",
    "mask_name",
    "mask_phone",
]

_KEY_BYTES = 16  # SM4 has a 128-bit key only
_IV_BYTES = 12  # the GCM nonce size that needs no extra GHASH pass
_TAG_BYTES = 16
# ASCII only on purpose: ``\d`` would also accept full-width and other Unicode digits.
_TOKEN = re.compile(r"v(0|[1-9][0-9]*):([A-Za-z0-9_-]+)")


class DecryptionError(Exception):
    """A stored value cannot be read back: unknown key version, tampering or the wrong column.

    Deliberately not a ``DomainError``: it signals corrupt data or a misconfigured key set, which
    is a server fault (500), never something the user can fix.
    """


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise DecryptionError("ciphertext is not valid base64url") from None
    # Unused trailing bits would let two different strings decode to the same bytes; insisting on
    # the canonical form keeps one token per ciphertext (and makes any edit of the text fail).
    if _b64encode(raw) != text:
        raise DecryptionError("ciphertext is not in canonical base64url form")
    return raw


def _check_context(context: str) -> bytes:
    # The context is a programming constant ("auth_user.id_number"); an empty one would silently
    # drop the column binding, and a NUL would make ``lookup_hash`` inputs ambiguous.
    if not context or "\x00" in context:
        raise ValueError("context must be a non-empty string without NUL characters")
    return context.encode("utf-8")


def _normalise(value: str) -> str:
    """Make the spellings a user may type (full-width digits, lower-case x, spaces) hash alike."""
    return unicodedata.normalize("NFKC", value).strip().upper()


class FieldCipher:
    """Encrypts single columns of personal data and computes their lookup hashes."""

    def __init__(self, keys: dict[int, bytes], current: int, lookup_key: bytes) -> None:
        if not keys:
            raise ValueError("at least one field key is required")
        for version, key in keys.items():
            if version < 0:
                raise ValueError(f"key version {version} must not be negative")
            if len(key) != _KEY_BYTES:
                raise ValueError(f"key version {version} must be {_KEY_BYTES} bytes (SM4)")
        if current not in keys:
            raise ValueError(f"the current key version {current} is not among the keys")
        if not lookup_key:
            raise ValueError("the lookup key must not be empty")
        self._keys = dict(keys)
        self._current = current
        self._lookup_key = lookup_key

    @classmethod
    def from_settings(cls, settings: Settings) -> FieldCipher:
        return cls(
            parse_field_keys(settings.field_keys),
            settings.field_key_current,
            settings.lookup_key.encode("utf-8"),
        )

    @property
    def current_version(self) -> int:
        return self._current

    def __repr__(self) -> str:
        # Never let a key reach a log line or a traceback through repr().
        return f"FieldCipher(versions={sorted(self._keys)}, current={self._current})"

    # --- encryption ----------------------------------------------------------------------------

    def encrypt(self, plaintext: str, *, context: str) -> str:
        aad = _check_context(context)
        iv = os.urandom(_IV_BYTES)
        encryptor = Cipher(algorithms.SM4(self._keys[self._current]), modes.GCM(iv)).encryptor()
        encryptor.authenticate_additional_data(aad)
        ciphertext = encryptor.update(plaintext.encode("utf-8")) + encryptor.finalize()
        return f"v{self._current}:{_b64encode(iv + ciphertext + encryptor.tag)}"

    def decrypt(self, token: str, *, context: str) -> str:
        aad = _check_context(context)
        version, raw = self._parse(token)
        key = self._keys.get(version)
        if key is None:
            raise DecryptionError(f"unknown field key version {version}")
        if len(raw) < _IV_BYTES + _TAG_BYTES:
            raise DecryptionError("ciphertext is too short")
        iv, ciphertext, tag = raw[:_IV_BYTES], raw[_IV_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(iv, tag)).decryptor()
        decryptor.authenticate_additional_data(aad)
        try:
            plaintext = decryptor.update(ciphertext) + decryptor.finalize()
        except InvalidTag:
            # One message for tampering and for the wrong column: GCM cannot tell them apart.
            raise DecryptionError(
                f"authentication failed (tampered, or not a {context} value)"
            ) from None
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionError("decrypted value is not UTF-8") from None

    def needs_rotation(self, token: str) -> bool:
        """Whether a rotation job should rewrite this value (it was written under an older key)."""
        version, _ = self._parse(token)
        return version != self._current

    def reencrypt(self, token: str, *, context: str) -> str:
        """The value under the current key; a token already current comes back unchanged.

        Returning the same token lets a rotation job skip the write when nothing changed, and the
        value is still decrypted first so a corrupt row is reported rather than copied along.
        """
        plaintext = self.decrypt(token, context=context)
        if not self.needs_rotation(token):
            return token
        return self.encrypt(plaintext, context=context)

    @staticmethod
    def _parse(token: str) -> tuple[int, bytes]:
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise DecryptionError("not an encrypted field value (expected v<version>:<base64url>)")
        return int(match.group(1)), _b64decode(match.group(2))

    # --- lookups -------------------------------------------------------------------------------

    def lookup_hash(self, value: str, *, context: str) -> str:
        """Keyed SM3 of the normalised value, salted by the context so columns cannot be joined.

        A plain hash of an ID number is reversible by enumeration (there are only ~10^10 valid
        ones), hence the HMAC with a secret key kept apart from the encryption keys.
        """
        data = _check_context(context) + b"\x00" + _normalise(value).encode("utf-8")
        mac = hmac.HMAC(self._lookup_key, hashes.SM3())
        mac.update(data)
        return mac.finalize().hex()


# --- masks --------------------------------------------------------------------------------------


def mask_id_number(value: str) -> str:
    """Keep the first 4 and last 4 characters, same length, so a user recognises their own card."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """``138****5678`` for mainland mobiles; other lengths keep 3 in front and 2 at the end."""
    if len(value) == 11:
        return value[:3] + "****" + value[-4:]
    if len(value) <= 5:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


def mask_name(value: str) -> str:
    """Only the first character (usually the surname) stays, for public status pages."""
    if len(value) <= 1:
        return value
    return value[0] + "*" * (len(value) - 1)
