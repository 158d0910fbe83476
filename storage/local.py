"""The embedded profile's object store: a folder on disk that behaves like an S3 bucket.

The mini-program cannot tell this store from MinIO: it gets the same presigned POST form
(``key``, ``Content-Type``, ``policy``, ``x-amz-*``) and posts it with ``wx.uploadFile`` to
``/objects/<bucket>`` on this server, where ``api.objects`` hands it to ``authorize_post``.
Because S3 is the store that refuses oversize or mistyped uploads in production, this code must
refuse exactly what S3 refuses (signature, expiry, every policy condition, extra fields, size),
or the embedded profile would accept uploads production refuses and hide bugs.

Signatures are AWS Signature Version 4 (``storage.sigv4``) with an access key, secret and region
of its own, so an S3 client can presign for it (boto3's ``generate_presigned_post`` and
``generate_presigned_url`` with ``endpoint_url=<public base>/objects``) and what it signs
verifies in any SigV4 implementation. It serves presigned POST uploads and query-string GETs
only: requests signed in an ``Authorization`` header (``aws s3 cp``) are answered 501.

Layout under ``root``: ``<bucket>/<key>`` holds the bytes; ``.meta/<bucket>/<key>.json`` the
content type (outside the bucket folder, so no key can collide with a sidecar); ``.tmp/`` the
files being written, renamed into place so a reader never sees half an object.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import os
import posixpath
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, ClassVar
from urllib.parse import urlsplit

from storage import sigv4
from storage.base import (
    MAX_EXPIRES_S,
    ObjectInfo,
    ObjectMissing,
    ObjectTooLarge,
    PresignedPost,
    UploadPolicy,
    check_expiry,
    readable,
)

ALGORITHM = sigv4.ALGORITHM
#: The access key of the local store when ``ZB_S3_ACCESS_KEY`` is not set. Access keys are not
#: secret (every presigned URL shows one); the secret is what signs.
DEFAULT_ACCESS_KEY = "zhangban-local"
DEFAULT_REGION = "us-east-1"
#: How far in the future S3 lets a presigned URL's X-Amz-Date be (clock skew).
MAX_SKEW = timedelta(minutes=15)
DEFAULT_CONTENT_TYPE = "binary/octet-stream"  # what S3 stores when no type is given
#: Form fields S3 accepts without a policy condition naming them (besides ``x-ignore-*``).
UNSIGNED_FIELDS = frozenset({"policy", "x-amz-signature", "file"})
#: The query parameters of SigV4 query-string authentication, all required together.
QUERY_AUTH = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
FILENAME_VARIABLE = "${filename}"
_META = ".meta"
_TMP = ".tmp"


class LocalPolicyError(Exception):
    """An upload or download S3 would refuse; ``code`` and ``status`` are S3's own."""

    STATUS: ClassVar[dict[str, int]] = {
        "AccessDenied": 403,
        "InvalidAccessKeyId": 403,
        "SignatureDoesNotMatch": 403,
        "EntityTooLarge": 400,
        "EntityTooSmall": 400,
        "InvalidArgument": 400,
        "InvalidPolicyDocument": 400,
        "MalformedPOSTRequest": 400,
        "AuthorizationQueryParametersError": 400,
        "NoSuchBucket": 404,
        "NoSuchKey": 404,
        "InvalidRange": 416,
        "NotImplemented": 501,
    }

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        self.status = self.STATUS.get(code, 400)
        super().__init__(f"{code}: {message}")


def _signature_mismatch() -> LocalPolicyError:
    return LocalPolicyError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    )


def _query_error(message: str) -> LocalPolicyError:
    return LocalPolicyError("AuthorizationQueryParametersError", message)


@dataclass(frozen=True)
class PostGrant:
    """What a verified policy allows: checked before the file part is read, to bound the read."""

    key: str
    content_type: str
    min_size: int
    max_size: int | None
    success_status: int
    #: ``success_action_redirect``: S3 answers 303 to it (with bucket, key and ETag) when set
    redirect: str | None = None


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


def _iso8601(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_iso8601(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _condition_holds(op: str, name: str, actual: str, value: str) -> bool:
    if op == "eq":
        return actual == value
    if name == "content-type":
        # S3 applies starts-with to each type of a comma-separated Content-Type.
        return all(part.strip().startswith(value) for part in actual.split(","))
    return actual.startswith(value)


class LocalObjectStore:
    """One bucket in a folder, with S3's presigned POST and GET served by ``api.objects``.

    ``secret`` is the SigV4 secret access key; bytes (a derived key) stand for their hex text,
    which is what an S3 client is then given as the secret.
    """

    def __init__(
        self,
        root: Path,
        bucket: str,
        secret: bytes | str,
        public_base_url: str,
        *,
        access_key: str = DEFAULT_ACCESS_KEY,
        region: str = DEFAULT_REGION,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if len(bucket) < 3 or "/" in bucket or bucket.startswith("."):
            raise ValueError("bucket name must have at least 3 characters and no '/'")
        if isinstance(secret, bytes):
            if len(secret) < 16:
                raise ValueError("the local store's secret must have at least 16 bytes")
            secret = secret.hex()
        elif len(secret) < 8:
            raise ValueError("the local store's secret key must have at least 8 characters")
        if not access_key or "/" in access_key:
            raise ValueError("the access key must be set and must not contain '/'")
        if not region or "/" in region:
            raise ValueError("the region must be set and must not contain '/'")
        self.root = Path(root)
        self.bucket = bucket
        self.access_key = access_key
        self.region = region
        self._signer = sigv4.Signer(access_key=access_key, secret=secret, region=region)
        self.public_base_url = public_base_url.rstrip("/")
        self._clock = clock
        self._bucket_dir = self.root / bucket
        self._meta_dir = self.root / _META / bucket
        self._tmp_dir = self.root / _TMP

    @property
    def endpoint_url(self) -> str:
        """What an S3 client takes as ``endpoint_url`` (path-style addressing) for this store."""
        return f"{self.public_base_url}/objects"

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

    def presign_post(self, upload: UploadPolicy) -> PresignedPost:
        check_key(upload.key)
        now = self._clock()
        credential = self._signer.credential(now)
        amz_date = sigv4.amz_date(now)
        extra = upload.extra_fields()
        conditions: list[Any] = [
            {"bucket": self.bucket},
            ["eq", "$key", upload.key],
            ["eq", "$Content-Type", upload.content_type],
            ["content-length-range", upload.min_size, upload.max_size],
            *({name: value} for name, value in extra.items()),
        ]
        conditions += [
            {"x-amz-algorithm": ALGORITHM},
            {"x-amz-credential": str(credential)},
            {"x-amz-date": amz_date},
        ]
        document = {
            "expiration": _iso8601(now + timedelta(seconds=upload.expires_s)),
            "conditions": conditions,
        }
        policy = base64.b64encode(json.dumps(document).encode("utf-8")).decode("ascii")
        fields = {
            "key": upload.key,
            "Content-Type": upload.content_type,
            **extra,
            "x-amz-algorithm": ALGORITHM,
            "x-amz-credential": str(credential),
            "x-amz-date": amz_date,
            "policy": policy,
            "x-amz-signature": self._signer.sign_policy(policy, credential),
        }
        return PresignedPost(url=f"{self.endpoint_url}/{self.bucket}", fields=fields)

    def presign_get(self, *, key: str, expires_s: int) -> str:
        check_key(key)
        check_expiry(expires_s)
        path = f"{self.bucket}/{sigv4.uri_encode(key, keep_slash=True)}"
        return self._signer.presign_url(
            method="GET",
            url=f"{self.endpoint_url}/{path}",
            expires_s=expires_s,
            moment=self._clock(),
        )

    # --- query-string authentication -----------------------------------------------------------

    def _credential(self, value: str, amz_date: str) -> sigv4.Credential:
        """The credential of a request if it names this store's key, day and region."""
        try:
            credential = sigv4.Credential.parse(value)
        except ValueError as exc:
            raise _query_error(
                "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
                'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
            ) from exc
        if credential.access_key != self.access_key:
            raise LocalPolicyError(
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            )
        if credential.date != amz_date[:8]:
            raise _query_error("Invalid credential date. Date is not the same as X-Amz-Date.")
        if credential.region != self.region:
            raise _query_error(
                "Error parsing the X-Amz-Credential parameter; the region "
                f"'{credential.region}' is wrong; expecting '{self.region}'"
            )
        if credential.service != sigv4.SERVICE:
            raise _query_error(
                "Error parsing the X-Amz-Credential parameter; incorrect service "
                f"'{credential.service}'. This endpoint belongs to 's3'."
            )
        return credential

    def verify_request(
        self,
        *,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
    ) -> None:
        """Raise ``LocalPolicyError`` unless the request carries a live SigV4 query signature.

        ``path`` is the request's raw (still percent-encoded) path, ``query`` its decoded
        parameters in order, ``headers`` its headers keyed by lower-case name. Checked in S3's
        order: the parameters' form, the access key, the lifetime, then the signature.
        """
        params: dict[str, str] = {}
        for name, value in query:
            if name in QUERY_AUTH:
                params.setdefault(name, value)
        if not params:
            if "authorization" in headers:
                raise LocalPolicyError(
                    "NotImplemented",
                    "A header you provided implies functionality that is not implemented: "
                    "this store takes presigned (query-string) requests only.",
                )
            raise LocalPolicyError("AccessDenied", "Access Denied")
        if any(name not in params for name in QUERY_AUTH):
            raise _query_error(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                "X-Amz-Expires parameters."
            )
        if params["X-Amz-Algorithm"] != ALGORITHM:
            raise _query_error(f'X-Amz-Algorithm only supports "{ALGORITHM}"')
        amz_date = params["X-Amz-Date"]
        try:
            signed_at = sigv4.parse_amz_date(amz_date)
        except ValueError as exc:
            raise _query_error(
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
            ) from exc
        try:
            lifetime = int(params["X-Amz-Expires"])
        except ValueError as exc:
            raise _query_error("X-Amz-Expires should be a number") from exc
        if lifetime < 0:
            raise _query_error("X-Amz-Expires must be non-negative")
        if lifetime > MAX_EXPIRES_S:
            raise _query_error(
                f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_EXPIRES_S}"
            )
        credential = self._credential(params["X-Amz-Credential"], amz_date)
        signed_headers = params["X-Amz-SignedHeaders"].split(";")
        if "host" not in signed_headers:
            raise _query_error("X-Amz-SignedHeaders must include the host header.")
        if any(name.startswith("x-amz-") and name not in signed_headers for name in headers):
            raise LocalPolicyError(
                "AccessDenied", "There were headers present in the request which were not signed"
            )
        now = self._clock()
        if now > signed_at + timedelta(seconds=lifetime):
            raise LocalPolicyError("AccessDenied", "Request has expired")
        if signed_at > now + MAX_SKEW:
            raise LocalPolicyError("AccessDenied", "Request is not valid yet")
        request = sigv4.canonical_request(
            method=method,
            uri=sigv4.canonical_uri(path),
            query=[(name, value) for name, value in query if name != "X-Amz-Signature"],
            headers={name: headers.get(name, "") for name in signed_headers},
            signed_headers=signed_headers,
        )
        expected = sigv4.hex_hmac(
            self._signer.key(credential), sigv4.string_to_sign(amz_date, credential, request)
        )
        if not sigv4.same_signature(expected, params["X-Amz-Signature"]):
            raise _signature_mismatch()

    def verify_get(self, key: str, query: Mapping[str, str], *, host: str | None = None) -> None:
        """``verify_request`` for a GET of ``key`` at its URL on this store's public host."""
        check_key(key)
        url = f"{self.endpoint_url}/{self.bucket}/{sigv4.uri_encode(key, keep_slash=True)}"
        self.verify_request(
            method="GET",
            path=urlsplit(url).path,
            query=list(query.items()),
            headers={"host": host if host is not None else sigv4.host_of(url)},
        )

    # --- POST policy enforcement ---------------------------------------------------------------

    def authorize_post(
        self, form_fields: Mapping[str, str], *, filename: str | None = None
    ) -> PostGrant:
        """Check the signature, expiry, bucket and every field condition of a POST form.

        Runs before the file part is read, so the caller can stop reading at ``max_size``.
        Field names are case-insensitive, as in S3; values are compared exactly. ``filename``
        (the file part's) replaces ``${filename}`` in the key once the policy has allowed it.
        """
        fields = {name.lower(): value for name, value in form_fields.items()}
        policy_b64 = fields.get("policy")
        if not policy_b64:
            raise LocalPolicyError("AccessDenied", "Access Denied")
        if "key" not in fields:
            raise LocalPolicyError(
                "InvalidArgument", "Bucket POST must contain a field named 'key'."
            )
        for name in ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"):
            if not fields.get(name):
                raise LocalPolicyError(
                    "InvalidArgument", f"Bucket POST must contain a field named '{name}'."
                )
        if fields["x-amz-algorithm"] != ALGORITHM:
            raise LocalPolicyError("InvalidArgument", f"POST requires x-amz-algorithm {ALGORITHM}.")
        credential = self._credential(fields["x-amz-credential"], fields["x-amz-date"])
        expected = self._signer.sign_policy(policy_b64, credential)
        if not sigv4.same_signature(expected, fields["x-amz-signature"]):
            raise _signature_mismatch()
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
            if actual is None or not _condition_holds(op, name, actual, str(value)):
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
        key = fields["key"]
        if FILENAME_VARIABLE in key and filename:
            # Browsers send a bare name, some clients a path: S3 keeps the last segment.
            key = key.replace(FILENAME_VARIABLE, posixpath.basename(filename.replace("\\", "/")))
        try:
            check_key(key)
        except ValueError as exc:
            raise LocalPolicyError("InvalidArgument", f"Invalid object key: {exc}") from exc
        status = fields.get("success_action_status", "")
        redirect = fields.get("success_action_redirect") or fields.get("redirect") or ""
        return PostGrant(
            key=key,
            content_type=fields.get("content-type") or "",
            min_size=min_size,
            max_size=max_size,
            success_status=int(status) if status in ("200", "201") else 204,
            # S3 ignores a redirect that is not an absolute http(s) URL.
            redirect=redirect if redirect.startswith(("http://", "https://")) else None,
        )

    async def store_granted(
        self, grant: PostGrant, file_bytes: bytes, file_content_type: str | None
    ) -> str:
        """Store the file a verified policy allowed if its size fits; return its key."""
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

    async def accept_post(
        self,
        form_fields: Mapping[str, str],
        file_bytes: bytes,
        file_content_type: str | None,
        *,
        filename: str | None = None,
    ) -> str:
        """Store the file of a POST form if S3 would; return its key. Nothing is written else."""
        grant = self.authorize_post(form_fields, filename=filename)
        return await self.store_granted(grant, file_bytes, file_content_type)

    # --- object I/O ----------------------------------------------------------------------------

    async def open_object(self, key: str) -> tuple[BinaryIO, int, ObjectInfo] | None:
        """An open binary file of the object, its size and description (``None`` if missing).

        The size comes from the open file, so a concurrent replacement (a rename) cannot make
        the bytes served disagree with the Content-Length announced.
        """

        def open_sync() -> tuple[BinaryIO, int, ObjectInfo] | None:
            info = self._stat_sync(key)
            if info is None:
                return None
            try:
                handle = self._data_path(key).open("rb")
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                return None
            return handle, os.fstat(handle.fileno()).st_size, info

        return await asyncio.to_thread(open_sync)

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

    async def read(self, key: str, *, max_bytes: int) -> bytes:
        def read_sync() -> bytes:
            readable(key, self._stat_sync(key), max_bytes)
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
