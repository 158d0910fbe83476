"""The production object store: MinIO or any S3 server, through the ``minio`` SDK.

Two clients, because phones and this server reach the store by different hosts. A SigV4
signature covers the host, so a URL or POST form signed for the internal endpoint
(``minio:9000``) fails on the phone: the *public* client (``s3_public_endpoint``) only ever
presigns, the *internal* client (``s3_endpoint``) does all I/O. Both get the region explicitly,
so presigning is pure computation: without it the SDK would ask the server for the bucket's
region (a blocking request on the event loop, and a failure when the public host is not
reachable from the server).

The SDK is synchronous (urllib3): every call that talks to the server runs in a thread.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.datatypes import PostPolicy
from minio.error import InvalidResponseError, S3Error
from minio.sse import SseS3

from storage.base import (
    ObjectInfo,
    ObjectMissing,
    ObjectTooLarge,
    PresignedPost,
    UploadPolicy,
    check_expiry,
    readable,
)

if TYPE_CHECKING:
    from core.settings import Settings

_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound"})
_EXISTS_CODES = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})
_LIST_BATCH = 1000


def _utcnow() -> datetime:
    return datetime.now(UTC)


def error_code(exc: Exception) -> str | None:
    """S3's error code of a failed SDK call.

    The SDK parses error bodies only when they are ``application/xml``; some S3 servers (rclone)
    answer ``text/xml``, which the SDK reports as ``InvalidResponseError`` with the raw body.
    """
    if isinstance(exc, S3Error):
        return exc.code
    if isinstance(exc, InvalidResponseError):
        body = getattr(exc, "_body", None) or ""
        try:
            return ET.fromstring(body).findtext("Code")
        except ET.ParseError:
            return None
    return None


def split_endpoint(endpoint: str, *, secure: bool) -> tuple[str, bool]:
    """``(host:port, secure)`` from ``host:port`` or ``http(s)://host:port``."""
    if "://" not in endpoint:
        return endpoint.strip().rstrip("/"), secure
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"S3 endpoint must be http(s)://host[:port], not {endpoint!r}")
    if parts.path not in ("", "/") or parts.query:
        # A path prefix would change the signed canonical URI: the store could not verify it.
        raise ValueError(f"S3 endpoint must not have a path: {endpoint!r}")
    return parts.netloc, parts.scheme == "https"


class S3ObjectStore:
    """One bucket on an S3 server: I/O through the internal endpoint, URLs for the public one."""

    def __init__(
        self,
        *,
        endpoint: str,
        public_endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        region: str,
        secure: bool = False,
        sse: bool = False,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 30.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not region:
            raise ValueError("the region must be set, or presigning would ask the server")
        internal_host, internal_secure = split_endpoint(endpoint, secure=secure)
        public_host, public_secure = split_endpoint(public_endpoint or endpoint, secure=secure)
        self.bucket = bucket
        self.region = region
        self.public_base = f"{'https' if public_secure else 'http'}://{public_host}"
        self._sse = SseS3() if sse else None
        self._clock = clock
        # Bounded timeouts and few retries: a stalled store must fail a request (and the
        # readiness probe) in seconds, not hold a worker thread for the SDK's default 5 minutes.
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s),
            maxsize=20,
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[502, 503, 504]),
        )
        self._internal = Minio(
            internal_host,
            access_key=access_key,
            secret_key=secret_key,
            secure=internal_secure,
            region=region,
            http_client=http,
        )
        self._public = Minio(
            public_host,
            access_key=access_key,
            secret_key=secret_key,
            secure=public_secure,
            region=region,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> S3ObjectStore:
        return cls(
            endpoint=settings.s3_endpoint,
            public_endpoint=settings.s3_public_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            secure=settings.s3_secure,
            sse=settings.s3_sse,
        )

    # --- lifecycle -----------------------------------------------------------------------------

    async def ensure_bucket(self) -> None:
        def ensure() -> None:
            if self._internal.bucket_exists(self.bucket):
                return
            try:
                self._internal.make_bucket(self.bucket)
            except (S3Error, InvalidResponseError) as exc:
                # Several workers start at once: losing the race to create it is fine.
                if error_code(exc) not in _EXISTS_CODES:
                    raise

        await asyncio.to_thread(ensure)

    async def ping(self) -> None:
        if not await asyncio.to_thread(self._internal.bucket_exists, self.bucket):
            raise RuntimeError(f"bucket {self.bucket} does not exist")

    # --- presigning (pure computation, public host) --------------------------------------------

    def presign_post(self, upload: UploadPolicy) -> PresignedPost:
        policy = PostPolicy(self.bucket, self._clock() + timedelta(seconds=upload.expires_s))
        policy.add_equals_condition("key", upload.key)
        policy.add_equals_condition("Content-Type", upload.content_type)
        extra = upload.extra_fields()
        for name, value in extra.items():
            policy.add_equals_condition(name, value)
        policy.add_content_length_range_condition(upload.min_size, upload.max_size)
        signed: dict[str, str] = self._public.presigned_post_policy(policy)
        fields = {"key": upload.key, "Content-Type": upload.content_type, **extra, **signed}
        return PresignedPost(url=f"{self.public_base}/{self.bucket}", fields=fields)

    def presign_get(self, *, key: str, expires_s: int) -> str:
        check_expiry(expires_s)
        url: str = self._public.presigned_get_object(
            self.bucket,
            key,
            expires=timedelta(seconds=expires_s),
            request_date=self._clock(),
        )
        return url

    # --- object I/O (internal host, in threads) ------------------------------------------------

    def _stat_sync(self, key: str) -> ObjectInfo | None:
        try:
            found = self._internal.stat_object(self.bucket, key)
        except (S3Error, InvalidResponseError) as exc:
            if error_code(exc) in _MISSING_CODES:
                return None
            raise
        return ObjectInfo(
            key=key,
            size=int(found.size or 0),
            content_type=found.content_type or "binary/octet-stream",
            last_modified=_aware(found.last_modified),
        )

    async def stat(self, key: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self._stat_sync, key)

    async def read(self, key: str, *, max_bytes: int) -> bytes:
        def read_sync() -> bytes:
            readable(key, self._stat_sync(key), max_bytes)
            try:
                response = self._internal.get_object(self.bucket, key)
            except (S3Error, InvalidResponseError) as exc:
                if error_code(exc) in _MISSING_CODES:
                    raise ObjectMissing(key) from exc
                raise
            try:
                data: bytes = response.read(max_bytes + 1)
            finally:
                response.close()
                response.release_conn()
            if len(data) > max_bytes:  # replaced by a larger object since the stat
                raise ObjectTooLarge(f"{key}: more than {max_bytes} bytes")
            return data

        return await asyncio.to_thread(read_sync)

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        await asyncio.to_thread(
            self._internal.put_object,
            self.bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type=content_type,
            sse=self._sse,
        )

    async def delete(self, key: str) -> None:
        try:
            await asyncio.to_thread(self._internal.remove_object, self.bucket, key)
        except (S3Error, InvalidResponseError) as exc:
            if error_code(exc) not in _MISSING_CODES:
                raise

    async def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        # The SDK's iterator fetches pages lazily over HTTP: pull it in batches in a thread.
        found: Any = iter(
            self._internal.list_objects(self.bucket, prefix=prefix or None, recursive=True)
        )

        def batch() -> list[Any]:
            return list(itertools.islice(found, _LIST_BATCH))

        while chunk := await asyncio.to_thread(batch):
            for item in chunk:
                if item.is_dir:
                    continue
                # Listings carry no content type; the contract keeps it empty on every adapter.
                yield ObjectInfo(
                    key=item.object_name,
                    size=int(item.size or 0),
                    content_type="",
                    last_modified=_aware(item.last_modified),
                )


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
