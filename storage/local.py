"""The embedded profile's object store: a folder on disk that behaves like an S3 bucket.

The mini-program cannot tell this store from MinIO: it gets the same presigned POST form
(``key``, ``Content-Type``, ``policy``, ``x-amz-*``) and posts it with ``wx.uploadFile`` to
``/objects/<bucket>`` on this server, where ``api.objects`` hands the form to ``accept_post``.
Because S3 is the store that refuses oversize or mistyped uploads in production, this code must
refuse exactly what S3 refuses (signature, expiry, every policy condition, extra fields, size),
or the embedded profile would accept uploads production refuses and hide bugs.

Layout under ``root``: ``<bucket>/<key>`` holds the bytes; ``.meta/<bucket>/<key>.json`` the
content type (outside the bucket folder, so no key can collide with a sidecar); ``.tmp/`` the
files being written, renamed into place so a reader never sees half an object.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from storage.base import ObjectInfo, ObjectMissing, ObjectTooLarge, PresignedPost

ALGORITHM = "AWS4-HMAC-SHA256"
REGION = "local"
MAX_EXPIRES_S = 7 * 86400  # S3's limit for presigned URLs
DEFAULT_CONTENT_TYPE = "binary/octet-stream"  # what S3 stores when no type is given
#: Form fields S3 accepts without a policy condition naming them (besides ``x-ignore-*``).
UNSIGNED_FIELDS = frozenset({"policy", "x-amz-signature", "file"})
_META = ".meta"
_TMP = ".tmp"


class LocalPolicyError(Exception):
    """An upload or download S3 would refuse; ``code`` and ``status`` are S3's own."""

    STATUS: ClassVar[dict[str, int]] = {
        "AccessDenied": 403,
        "SignatureDoesNotMatch": 403,
        "EntityTooLarge": 400,
        "EntityTooSmall": 400,
        "InvalidArgument": 400,
        "InvalidPolicyDocument": 400,
        "MalformedPOSTRequest": 400,
        "AuthorizationQueryParametersError": 400,
        "NoSuchBucket": 404,
        "NoSuchKey": 404,
    }

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        self.status = self.STATUS.get(code, 400)
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class PostGrant:
    """What a verified policy allows: checked before the file part is read, to bound the read."""

    key: str
    content_type: str
    min_size: int
    max_size: int | None
    success_status: int


def check_key(key: str) -> str:
    """``key`` if it is a safe relative path inside the bucket folder, else ``ValueError``.

    S3 keys are opaque strings; here they become file paths, so anything that could leave the
    folder or alias another key is refused rather than normalised.
    """
    if not key or len(key.encode("utf-8")) > 1024:
        raise ValueError("object key must have 1 to 1024 bytes")
    if "\x00" in key or "\\" in key:
        raise ValueError("object key must not contain NUL or backslashes")
    if key.startswith("/") or key.endswith("/"):
        raise ValueError("object key must not start or end with '/'")
    for part in key.split("/"):
        if part in ("", ".", ".."):
            raise ValueError("object key must not contain empty, '.' or '..' segments")
    return key


def _amz_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _iso8601(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_iso8601(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LocalObjectStore:
    """One bucket in a folder, with S3-shaped presigned POST and GET served by ``api.objects``."""

    def __init__(
        self,
        root: Path,
        bucket: str,
        secret: bytes,
        public_base_url: str,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if len(bucket) < 3 or "/" in bucket or bucket.startswith("."):
            raise ValueError("bucket name must have at least 3 characters and no '/'")
        if len(secret) < 16:
            raise ValueError("the local store's secret must have at least 16 bytes")
        self.root = Path(root)
        self.bucket = bucket
        self._secret = secret
        self.public_base_url = public_base_url.rstrip("/")
        self._clock = clock
        self._bucket_dir = self.root / bucket
        self._meta_dir = self.root / _META / bucket
        self._tmp_dir = self.root / _TMP

    # --- paths ---------------------------------------------------------------------------------

    def _data_path(self, key: str) -> Path:
        path = self._bucket_dir.joinpath(*check_key(key).split("/"))
        # A symlink planted inside the folder must not lead outside it either.
        if not path.resolve().is_relative_to(self._bucket_dir.resolve()):
            raise ValueError("object key escapes the bucket folder")
        return path

    def _meta_path(self, key: str) -> Path:
        *folders, name = check_key(key).split("/")
        return self._meta_dir.joinpath(*folders, name + ".json")

    # --- lifecycle -----------------------------------------------------------------------------

    async def ensure_bucket(self) -> None:
        def make() -> None:
            for folder in (self._bucket_dir, self._meta_dir, self._tmp_dir):
                folder.mkdir(parents=True, exist_ok=True)

        await asyncio.to_thread(make)

    async def ping(self) -> None:
        if not await asyncio.to_thread(self._bucket_dir.is_dir):
            raise RuntimeError(f"bucket folder {self._bucket_dir} is missing")

    # --- presigning (pure computation) ---------------------------------------------------------

    def _sign(self, message: str) -> str:
        return hmac.new(self._secret, message.encode("utf-8"), hashlib.sha256).hexdigest()

    def presign_post(
        self,
        *,
        key: str,
        content_type: str,
        min_size: int,
        max_size: int,
        expires_s: int,
        success_action_status: int | None = None,
    ) -> PresignedPost:
        check_key(key)
        if not 0 <= min_size <= max_size:
            raise ValueError("need 0 <= min_size <= max_size")
        if not 1 <= expires_s <= MAX_EXPIRES_S:
            raise ValueError(f"expires_s must be between 1 and {MAX_EXPIRES_S}")
        now = self._clock()
        credential = f"zhangban-local/{now.astimezone(UTC):%Y%m%d}/{REGION}/s3/aws4_request"
        amz_date = _amz_date(now)
        conditions: list[Any] = [
            {"bucket": self.bucket},
            ["eq", "$key", key],
            ["eq", "$Content-Type", content_type],
            ["content-length-range", min_size, max_size],
        ]
        extra: dict[str, str] = {}
        if success_action_status is not None:
            extra["success_action_status"] = str(success_action_status)
            conditions.append({"success_action_status": str(success_action_status)})
        conditions += [
            {"x-amz-algorithm": ALGORITHM},
            {"x-amz-credential": credential},
            {"x-amz-date": amz_date},
        ]
        document = {
            "expiration": _iso8601(now + timedelta(seconds=expires_s)),
            "conditions": conditions,
        }
        policy = base64.b64encode(json.dumps(document).encode("utf-8")).decode("ascii")
        fields = {
            "key": key,
            "Content-Type": content_type,
            **extra,
            "x-amz-algorithm": ALGORITHM,
            "x-amz-credential": credential,
            "x-amz-date": amz_date,
            "policy": policy,
            "x-amz-signature": self._sign(policy),
        }
        return PresignedPost(url=f"{self.public_base_url}/objects/{self.bucket}", fields=fields)

    def _get_string_to_sign(self, key: str, amz_date: str, expires: str) -> str:
        return "\n".join(("GET", self.bucket, key, amz_date, expires))

    def presign_get(self, *, key: str, expires_s: int) -> str:
        check_key(key)
        if not 1 <= expires_s <= MAX_EXPIRES_S:
            raise ValueError(f"expires_s must be between 1 and {MAX_EXPIRES_S}")
        amz_date = _amz_date(self._clock())
        query = {
            "X-Amz-Expires": str(expires_s),
            "X-Amz-Date": amz_date,
            "X-Amz-Signature": self._sign(self._get_string_to_sign(key, amz_date, str(expires_s))),
        }
        return (
            f"{self.public_base_url}/objects/{self.bucket}/{quote(key, safe='/')}"
            f"?{urlencode(query)}"
        )

    def verify_get(self, key: str, query: Mapping[str, str]) -> None:
        """Raise ``LocalPolicyError`` unless ``query`` is a live signature of ``presign_get``."""
        expires = query.get("X-Amz-Expires", "")
        amz_date = query.get("X-Amz-Date", "")
        signature = query.get("X-Amz-Signature", "")
        if not (expires and amz_date and signature):
            raise LocalPolicyError(
                "AccessDenied",
                "Query-string authentication requires X-Amz-Date, X-Amz-Expires and "
                "X-Amz-Signature.",
            )
        expected = self._sign(self._get_string_to_sign(key, amz_date, expires))
        if not hmac.compare_digest(expected, signature):
            raise LocalPolicyError(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        try:
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            lifetime = int(expires)
        except ValueError as exc:
            raise LocalPolicyError(
                "AuthorizationQueryParametersError", "X-Amz-Date or X-Amz-Expires is malformed."
            ) from exc
        now = self._clock()
        if now > signed_at + timedelta(seconds=lifetime):
            raise LocalPolicyError("AccessDenied", "Request has expired")
        if signed_at > now + timedelta(minutes=15):
            raise LocalPolicyError("AccessDenied", "Request is not valid yet")

    # --- POST policy enforcement ---------------------------------------------------------------

    def authorize_post(self, form_fields: Mapping[str, str]) -> PostGrant:
        """Check the signature, expiry, bucket and every field condition of a POST form.

        Runs before the file part is read, so the caller can stop reading at ``max_size``.
        Field names are case-insensitive, as in S3; values are compared exactly.
        """
        fields = {name.lower(): value for name, value in form_fields.items()}
        policy_b64 = fields.get("policy")
        if not policy_b64:
            raise LocalPolicyError("AccessDenied", "Access Denied")
        if "key" not in fields:
            raise LocalPolicyError(
                "InvalidArgument", "Bucket POST must contain a field named 'key'."
            )
        algorithm = fields.get("x-amz-algorithm")
        if algorithm != ALGORITHM:
            raise LocalPolicyError(
                "InvalidArgument", "POST requires x-amz-algorithm AWS4-HMAC-SHA256."
            )
        for name in ("x-amz-credential", "x-amz-date", "x-amz-signature"):
            if not fields.get(name):
                raise LocalPolicyError("InvalidArgument", f"Bucket POST must contain {name}.")
        if not hmac.compare_digest(self._sign(policy_b64), fields["x-amz-signature"]):
            raise LocalPolicyError(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        try:
            document = json.loads(base64.b64decode(policy_b64, validate=True))
            expiration = _parse_iso8601(document["expiration"])
            conditions = document["conditions"]
            if not isinstance(conditions, list):
                raise TypeError("conditions must be a list")
        except (binascii.Error, ValueError, KeyError, TypeError) as exc:
            raise LocalPolicyError(
                "InvalidPolicyDocument", "Invalid Policy: Invalid JSON or missing fields."
            ) from exc
        if self._clock() > expiration:
            raise LocalPolicyError("AccessDenied", "Invalid according to Policy: Policy expired.")

        covered: set[str] = set()
        min_size, max_size = 0, None
        for condition in conditions:
            if isinstance(condition, dict) and len(condition) == 1:
                ((name, value),) = condition.items()
                op, name = "eq", str(name)
            elif (
                isinstance(condition, list)
                and len(condition) == 3
                and condition[0] == "content-length-range"
            ):
                try:
                    min_size, max_size = int(condition[1]), int(condition[2])
                except (TypeError, ValueError) as exc:
                    raise LocalPolicyError(
                        "InvalidPolicyDocument", "Invalid Policy: content-length-range."
                    ) from exc
                continue
            elif (
                isinstance(condition, list)
                and len(condition) == 3
                and condition[0] in ("eq", "starts-with")
                and isinstance(condition[1], str)
                and condition[1].startswith("$")
            ):
                op, name, value = condition[0], condition[1][1:], condition[2]
            else:
                raise LocalPolicyError(
                    "InvalidPolicyDocument", f"Invalid Policy: unknown condition {condition!r}."
                )
            name = name.lower()
            actual = self.bucket if name == "bucket" else fields.get(name)
            covered.add(name)
            matched = actual is not None and (
                actual == str(value) if op == "eq" else actual.startswith(str(value))
            )
            if not matched:
                raise LocalPolicyError(
                    "AccessDenied",
                    f'Invalid according to Policy: Policy Condition failed: ["{op}", '
                    f'"${name}", {json.dumps(value)}]',
                )
        extra = sorted(
            name
            for name in fields
            if name not in covered
            and name not in UNSIGNED_FIELDS
            and not name.startswith("x-ignore-")
        )
        if extra:
            raise LocalPolicyError(
                "AccessDenied",
                "Invalid according to Policy: Extra input fields: " + ", ".join(extra),
            )
        try:
            check_key(fields["key"])
        except ValueError as exc:
            raise LocalPolicyError("InvalidArgument", f"Invalid object key: {exc}") from exc
        status = fields.get("success_action_status", "")
        return PostGrant(
            key=fields["key"],
            content_type=fields.get("content-type") or "",
            min_size=min_size,
            max_size=max_size,
            success_status=int(status) if status in ("200", "201") else 204,
        )

    async def accept_post(
        self, form_fields: Mapping[str, str], file_bytes: bytes, file_content_type: str | None
    ) -> str:
        """Store the file of a POST form if S3 would; return its key. Nothing is written else."""
        grant = self.authorize_post(form_fields)
        size = len(file_bytes)
        if size < grant.min_size:
            raise LocalPolicyError(
                "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
            )
        if grant.max_size is not None and size > grant.max_size:
            raise LocalPolicyError(
                "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
            )
        # S3 takes the stored type from the form's Content-Type field, not the file part's.
        content_type = grant.content_type or file_content_type or DEFAULT_CONTENT_TYPE
        await self.put(grant.key, file_bytes, content_type=content_type)
        return grant.key

    # --- object I/O ----------------------------------------------------------------------------

    def _write_atomic(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp_dir, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise

    def _stat_sync(self, key: str) -> ObjectInfo | None:
        path = self._data_path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not path.is_file():
            return None
        try:
            content_type = json.loads(self._meta_path(key).read_text("utf-8"))["content_type"]
        except (OSError, ValueError, KeyError):
            content_type = DEFAULT_CONTENT_TYPE
        return ObjectInfo(
            key=key,
            size=st.st_size,
            content_type=str(content_type),
            last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
        )

    async def stat(self, key: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self._stat_sync, key)

    async def locate(self, key: str) -> tuple[Path, ObjectInfo] | None:
        """The file and its description, for the HTTP edge to stream (``None`` if missing)."""

        def locate_sync() -> tuple[Path, ObjectInfo] | None:
            info = self._stat_sync(key)
            return None if info is None else (self._data_path(key), info)

        return await asyncio.to_thread(locate_sync)

    async def read(self, key: str, *, max_bytes: int) -> bytes:
        def read_sync() -> bytes:
            info = self._stat_sync(key)
            if info is None:
                raise ObjectMissing(key)
            if info.size > max_bytes:
                raise ObjectTooLarge(f"{key}: {info.size} bytes > {max_bytes}")
            try:
                with self._data_path(key).open("rb") as handle:
                    data = handle.read(max_bytes + 1)
            except FileNotFoundError as exc:
                raise ObjectMissing(key) from exc
            if len(data) > max_bytes:  # replaced by a larger object since the stat
                raise ObjectTooLarge(f"{key}: more than {max_bytes} bytes")
            return data

        return await asyncio.to_thread(read_sync)

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        def put_sync() -> None:
            path = self._data_path(key)
            # A folder cannot also be an object: find out before writing anything.
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                raise IsADirectoryError(str(path))
            meta = json.dumps({"content_type": content_type}).encode("utf-8")
            # Type first: a crash between the two renames leaves the old bytes with the new
            # type at worst, never a readable object without its type.
            self._write_atomic(self._meta_path(key), meta)
            self._write_atomic(path, data)

        try:
            await asyncio.to_thread(put_sync)
        except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
            raise ValueError(f"object key {key!r} collides with another key's folder") from exc

    async def delete(self, key: str) -> None:
        def delete_sync() -> None:
            targets = (
                (self._data_path(key), self._bucket_dir),
                (self._meta_path(key), self._meta_dir),
            )
            for path, top in targets:
                with contextlib.suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
                    path.unlink()
                # S3 has no folders: drop the ones this key left empty.
                parent = path.parent
                while parent != top and parent.is_relative_to(top):
                    try:
                        parent.rmdir()
                    except OSError:
                        break
                    parent = parent.parent

        await asyncio.to_thread(delete_sync)

    def _list_sync(self, prefix: str) -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        base = self._bucket_dir
        for folder, _dirs, files in os.walk(base):
            for name in files:
                path = Path(folder) / name
                key = path.relative_to(base).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    st = path.stat()
                except FileNotFoundError:
                    continue
                # Listings carry no content type in S3 either: the contract keeps it empty.
                found.append(
                    ObjectInfo(
                        key=key,
                        size=st.st_size,
                        content_type="",
                        last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
                    )
                )
        found.sort(key=lambda info: info.key)
        return found

    async def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        for info in await asyncio.to_thread(self._list_sync, prefix):
            yield info
