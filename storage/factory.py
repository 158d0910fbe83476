"""The object store the settings ask for: a local folder (embedded) or S3/MinIO (production)."""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from storage.base import ObjectStore

if TYPE_CHECKING:
    from core.settings import Settings

#: Domain separation: the local store's signing key is derived, never the server secret itself,
#: so a leaked upload signature says nothing about the tokens signed with ``secret_key``.
LOCAL_KEY_LABEL = b"zhangban/storage/local-object-store/v1"


def local_signing_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode("utf-8"), LOCAL_KEY_LABEL, hashlib.sha256).digest()


def create_object_store(settings: Settings) -> ObjectStore:
    if settings.effective_storage_backend == "local":
        # deferred, like the S3 store below: a deployment loads the one backend it uses
        from storage.local import DEFAULT_ACCESS_KEY, LocalObjectStore

        # The S3 key pair, when set, lets S3 tools presign for the local store too.
        return LocalObjectStore(
            root=settings.var_dir / "objects",
            bucket=settings.s3_bucket,
            secret=settings.s3_secret_key or local_signing_key(settings.secret_key),
            access_key=settings.s3_access_key or DEFAULT_ACCESS_KEY,
            region=settings.s3_region,
            public_base_url=settings.effective_public_base_url,
        )
    from storage.s3 import S3ObjectStore  # deferred: loads the minio SDK

    return S3ObjectStore.from_settings(settings)
