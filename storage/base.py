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

    def presign_post(
        self,
        *,
        key: str,
        content_type: str,
        min_size: int,
        max_size: int,
        expires_s: int,
    ) -> PresignedPost:
        """A POST policy fixing the key, the content type and a content-length range."""
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
