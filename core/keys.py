"""Parsing of the key lists in settings: versioned keys let secrets rotate without downtime."""

from __future__ import annotations

import base64
import binascii


def parse_jwt_keys(spec: str) -> dict[str, bytes]:
    """``kid:secret[,kid:secret…]`` → {kid: secret}. Secrets must be 32+ characters."""
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kid, sep, secret = part.partition(":")
        if not sep or not kid or not secret:
            raise ValueError("each entry must be kid:secret")
        if len(secret) < 32:
            raise ValueError(f"the secret of kid {kid} is shorter than 32 characters")
        keys[kid] = secret.encode()
    if not keys:
        raise ValueError("at least one key is required")
    return keys


def parse_field_keys(spec: str) -> dict[int, bytes]:
    """``version:base64[,…]`` → {version: 16-byte SM4 key}."""
    keys: dict[int, bytes] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        version, sep, encoded = part.partition(":")
        if not sep or not version.isdigit():
            raise ValueError("each entry must be version:base64key")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"key version {version} is not valid base64") from None
        if len(key) != 16:
            raise ValueError(f"key version {version} must be 16 bytes (SM4)")
        keys[int(version)] = key
    if not keys:
        raise ValueError("at least one key is required")
    return keys
