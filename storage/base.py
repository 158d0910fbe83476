"""The object-store port. Two adapters implement it and pass one contract suite:

* ``storage.s3.S3ObjectStore``: MinIO or any S3 server through the ``minio`` SDK (production);
* ``storage.local.LocalObjectStore``: a folder on disk (embedded profile), our own code, which
  serves presigned POST and GET through the HTTP edge and enforces every condition S3 enforces.

Presigning is pure computation (no I/O); every other call may block in the SDK, so the S3
adapter runs it in a thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

MAX_EXPIRES_S = 7 * 86400  # S3's limit for presigned URLs


def check_expiry(expires_s: int) -> int:
    """``expires_s`` if S3 would sign for it, else ``ValueError``."""
    if not 1 <= expires_s <= MAX_EXPIRES_S:
        raise ValueError(f"expires_s must be between 1 and {MAX_EXPIRES_S}")
    return expires_s


@dataclass(frozen=True)
class UploadPolicy:
    """What a presigned POST fixes: the key, the content type, a content-length range, how long
    it may be used, and (for clients that want a body back) the status S3 answers with. A policy
    that could never be used is refused when it is made, whichever adapter signs it."""

    key: str
    content_type: str
    min_size: int
    max_size: int
    expires_s: int
    success_action_status: int | None = None

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("object key must not be empty")
        if not 0 <= self.min_size <= self.max_size:
            raise ValueError("need 0 <= min_size <= max_size")
        check_expiry(self.expires_s)

    def extra_fields(self) -> dict[str, str]:
        """The optional form fields the policy also fixes."""
        if self.success_action_status is None:
            return {}
        return {"success_action_status": str(self.success_action_status)}


@dataclass(frozen=True)
class PresignedPost:
    """What ``wx.uploadFile`` needs: the URL, the form fields, and the name of the file field."""

    url: str
    fields: dict[str, str]
    file_field: str = "file"


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str
    last_modified: datetime


class ObjectStore(Protocol):
    async def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (at start-up)."""

    async def ping(self) -> None:
        """Raise if the store cannot be reached (readiness)."""

    def presign_post(self, upload: UploadPolicy) -> PresignedPost:
        """The form fields and URL of a POST that S3 accepts only as ``upload`` says."""
        ...

    def presign_get(self, *, key: str, expires_s: int) -> str:
        """A short-lived URL to read one object."""
        ...

    async def stat(self, key: str) -> ObjectInfo | None:
        """The object's size and type, or None when it does not exist."""
        ...

    async def read(self, key: str, *, max_bytes: int) -> bytes:
        """The object's bytes; raises ``ObjectTooLarge`` beyond ``max_bytes``."""
        ...

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Write an object (server-side writes: processed materials, thumbnails)."""

    async def delete(self, key: str) -> None:
        """Remove an object; removing a missing one is not an error."""

    def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        """Every object under ``prefix`` (for the clean-up job)."""
        ...


class ObjectTooLarge(Exception):
    """Raised by ``read`` when an object is larger than the caller allowed."""


class ObjectMissing(Exception):
    """Raised by ``read`` when the object does not exist."""


def readable(key: str, info: ObjectInfo | None, max_bytes: int) -> ObjectInfo:
    """What every adapter's ``read`` checks before reading: the object exists and is no larger
    than the caller allowed."""
    if info is None:
        raise ObjectMissing(key)
    if info.size > max_bytes:
        raise ObjectTooLarge(f"{key}: {info.size} bytes > {max_bytes}")
    return info
