"""One contract for the object-store port, run against every adapter over real HTTP.

* ``local``: ``LocalObjectStore`` behind a real Sanic server with ``api.objects`` mounted (the
  embedded profile's store, our own code: it must refuse whatever S3 refuses);
* ``rclone``: ``S3ObjectStore`` against ``rclone serve s3`` (faithful SigV4 checks; refuses POST
  form uploads whenever auth is on, so POST cases are skipped there);
* ``moto``: ``S3ObjectStore`` against ``moto_server`` (accepts POST form uploads, so it proves the
  form wiring; it checks no signature and no policy condition, so refusal cases skip it).

Since neither S3 server enforces POST policy conditions, the policy ``S3ObjectStore`` signs is
decoded and every condition asserted, and the local store is tested for every refusal.

boto3 is the independent SigV4 implementation: its ``generate_presigned_post`` and
``generate_presigned_url`` upload to and download from every adapter that can take them, its
signatures are refused by the local store whenever S3 would refuse them, and the local store's
own signatures are byte for byte the ones botocore computes for the same inputs.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import boto3
import botocore.auth
import botocore.signers
import httpx
import pytest
import urllib3
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from sanic import Sanic

from api.objects import bp as objects_bp
from core.settings import Settings
from storage.base import (
    ObjectInfo,
    ObjectMissing,
    ObjectStore,
    ObjectTooLarge,
    PresignedPost,
    UploadPolicy,
)
from storage.factory import create_object_store, local_signing_key
from storage.local import DEFAULT_ACCESS_KEY, LocalObjectStore, LocalPolicyError
from storage.s3 import S3ObjectStore
from tests.contract.conftest_s3 import S3Server, moto_s3, rclone_s3
from tests.processes import free_port

JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(range(256)) * 4
REGION = "us-east-1"
PUBLIC_HOST = "files.zhangban.example"
#: The local store's own key pair and region (not S3's defaults, so that both are checked).
LOCAL_ACCESS_KEY = "zbcontractlocal"
LOCAL_SECRET = secrets.token_hex(20)
LOCAL_REGION = "cn-east-1"


class Clock:
    """The time the stores sign with; tests move it to make signatures already expired."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Adapter:
    name: str
    store: ObjectStore
    clock: Clock
    #: refuses tampered and expired presigned URLs (moto checks nothing)
    checks_signatures: bool
    #: accepts POST form uploads (rclone refuses them whenever auth is on)
    accepts_post: bool
    #: answers a Range as S3 does: 206, and a malformed or multiple one ignored (200, whole);
    #: rclone answers 200 to a range (with the right Content-Range and bytes), 416 to a
    #: malformed one and 501 to several
    faithful_ranges: bool
    #: what an S3 client needs to presign for this store (path-style addressing)
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str

    @property
    def bucket(self) -> str:
        bucket: str = getattr(self.store, "bucket")  # noqa: B009 - not on the port
        return bucket

    def boto3(self, **overrides: str) -> Any:
        """A boto3 S3 client on this store; ``overrides`` replace the keys or the region."""
        return s3_client(
            endpoint_url=overrides.get("endpoint_url", self.endpoint_url),
            access_key=overrides.get("access_key", self.access_key),
            secret_key=overrides.get("secret_key", self.secret_key),
            region=overrides.get("region", self.region),
        )


def s3_client(*, endpoint_url: str, access_key: str, secret_key: str, region: str) -> Any:
    """The client RECIPES.md describes; presigning with it is local computation."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def local_settings(var_dir: Path, port: int) -> Settings:
    return Settings(
        profile="embedded",
        var_dir=var_dir,
        secret_key="object-store-contract-secret-0123456789abcdef",
        public_base_url=f"http://127.0.0.1:{port}",
        upload_max_photo_bytes=4 * 1024 * 1024,
        upload_max_pdf_bytes=6 * 1024 * 1024,
        log_level="WARNING",
        access_log=False,
    )


@asynccontextmanager
async def local_edge(var_dir: Path, clock: Clock) -> AsyncIterator[LocalObjectStore]:
    """A local store behind a real Sanic server (real HTTP/1.1 parser and body limits)."""
    port = free_port()
    settings = local_settings(var_dir, port)
    store = LocalObjectStore(
        root=settings.var_dir / "objects",
        bucket=f"zb-{secrets.token_hex(4)}",
        secret=LOCAL_SECRET,
        public_base_url=settings.effective_public_base_url,
        access_key=LOCAL_ACCESS_KEY,
        region=LOCAL_REGION,
        clock=clock,
    )
    app = Sanic(f"zb_objects_{uuid.uuid4().hex[:8]}", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = settings.request_max_bytes  # as api.app sets it: 1 MB
    app.ctx.settings = settings
    app.ctx.store = store
    app.blueprint(objects_bp)
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, debug=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield store
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


def s3_store(server: S3Server, bucket: str, clock: Clock, **overrides: Any) -> S3ObjectStore:
    options: dict[str, Any] = {
        "endpoint": server.endpoint,
        "public_endpoint": server.url,
        "access_key": server.access_key,
        "secret_key": server.secret_key,
        "bucket": bucket,
        "region": REGION,
        "clock": clock,
    }
    options.update(overrides)
    return S3ObjectStore(**options)


@pytest.fixture(scope="module")
def rclone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with rclone_s3(tmp_path_factory.mktemp("rclone")) as server:
        yield server


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with moto_s3(tmp_path_factory.mktemp("moto")) as server:
        yield server


@dataclass
class LocalServer:
    store: LocalObjectStore
    clock: Clock


@pytest.fixture(scope="module")
async def local_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalServer]:
    clock = Clock()
    async with local_edge(tmp_path_factory.mktemp("local"), clock) as store:
        await store.ensure_bucket()
        yield LocalServer(store, clock)


@pytest.fixture(scope="module", params=["local", "rclone", "moto"])
async def adapter(request: pytest.FixtureRequest, local_server: LocalServer) -> Adapter:
    if request.param == "local":
        return Adapter(
            "local",
            local_server.store,
            local_server.clock,
            checks_signatures=True,
            accepts_post=True,
            faithful_ranges=True,
            endpoint_url=local_server.store.endpoint_url,
            access_key=LOCAL_ACCESS_KEY,
            secret_key=LOCAL_SECRET,
            region=LOCAL_REGION,
        )
    server: S3Server = request.getfixturevalue(f"{request.param}_server")
    clock = Clock()
    store = s3_store(server, f"zb-{secrets.token_hex(4)}", clock)
    await store.ensure_bucket()
    return Adapter(
        request.param,
        store,
        clock,
        checks_signatures=request.param == "rclone",
        accepts_post=request.param == "moto",
        faithful_ranges=request.param != "rclone",
        endpoint_url=server.url,
        access_key=server.access_key,
        secret_key=server.secret_key,
        region=REGION,
    )


@pytest.fixture
def store(adapter: Adapter) -> Iterator[ObjectStore]:
    adapter.clock.offset = timedelta()
    yield adapter.store
    adapter.clock.offset = timedelta()


@pytest.fixture
def prefix() -> str:
    """A fresh key prefix per test: adapters are shared by the tests of this module."""
    return f"t/{uuid.uuid4().hex[:10]}/"


@pytest.fixture
async def web() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


def needs_signature_checks(adapter: Adapter) -> None:
    if not adapter.checks_signatures:
        pytest.skip(f"{adapter.name} checks no signature (moto accepts anything)")


def needs_post(adapter: Adapter) -> None:
    if not adapter.accepts_post:
        pytest.skip(f"{adapter.name} refuses POST form uploads whenever auth is on")


async def wx_upload(
    web: httpx.AsyncClient,
    post: PresignedPost,
    content: bytes,
    *,
    filename: str = "tmp_0a1b2c.jpg",
    file_type: str = "image/jpeg",
    fields: dict[str, str] | None = None,
) -> httpx.Response:
    """What ``wx.uploadFile({url, filePath, name, formData})`` sends: the form fields, then the
    file part named ``name``, as one ``multipart/form-data`` POST."""
    return await web.post(
        post.url,
        data=post.fields if fields is None else fields,
        files={post.file_field: (filename, content, file_type)},
    )


def s3_error_code(response: httpx.Response) -> str:
    assert response.headers.get("content-type", "").startswith(("application/xml", "text/xml"))
    start = response.text.index("<Code>") + len("<Code>")
    return response.text[start : response.text.index("</Code>")]


async def assert_stored(store: ObjectStore, key: str, data: bytes, content_type: str) -> ObjectInfo:
    """``data`` stored under ``key`` with ``content_type``, read back whole; its stat."""
    info = await store.stat(key)
    assert info is not None
    assert (info.key, info.size, info.content_type) == (key, len(data), content_type)
    assert await store.read(key, max_bytes=len(data)) == data
    return info


# --- the contract: every adapter ----------------------------------------------------------------


async def test_ensure_bucket_is_idempotent(store: ObjectStore) -> None:
    await store.ensure_bucket()
    await store.ensure_bucket()
    await store.ping()


async def test_put_stat_read_delete_round_trip(store: ObjectStore, prefix: str) -> None:
    key = f"{prefix}材料/身份证 正面.jpg"
    before = datetime.now(UTC) - timedelta(seconds=5)
    await store.put(key, JPEG, content_type="image/jpeg")

    info = await assert_stored(store, key, JPEG, "image/jpeg")
    assert info.last_modified.tzinfo is not None
    assert before <= info.last_modified <= datetime.now(UTC) + timedelta(seconds=5)

    await store.put(key, b"%PDF-1.7 replaced", content_type="application/pdf")
    replaced = await store.stat(key)
    assert replaced is not None
    assert (replaced.size, replaced.content_type) == (17, "application/pdf")

    await store.delete(key)
    assert await store.stat(key) is None
    await store.delete(key)  # deleting a missing object is not an error


async def test_stat_of_missing_is_none_and_read_raises(store: ObjectStore, prefix: str) -> None:
    assert await store.stat(f"{prefix}nothing.jpg") is None
    with pytest.raises(ObjectMissing):
        await store.read(f"{prefix}nothing.jpg", max_bytes=1024)


async def test_read_refuses_objects_beyond_max_bytes(store: ObjectStore, prefix: str) -> None:
    key = f"{prefix}big.bin"
    await store.put(key, b"x" * 1000, content_type="application/octet-stream")
    assert len(await store.read(key, max_bytes=1000)) == 1000
    with pytest.raises(ObjectTooLarge):
        await store.read(key, max_bytes=999)


async def test_list_by_prefix(store: ObjectStore, prefix: str) -> None:
    sizes = {"a/1.jpg": 1, "a/2.jpg": 2, "a/sub/3.jpg": 3, "ab.jpg": 4, "b/1.jpg": 5}
    for name, size in sizes.items():
        await store.put(prefix + name, b"z" * size, content_type="image/jpeg")

    listed = [info async for info in store.list(prefix + "a/")]
    assert [(i.key, i.size) for i in listed] == [
        (prefix + "a/1.jpg", 1),
        (prefix + "a/2.jpg", 2),
        (prefix + "a/sub/3.jpg", 3),
    ]
    assert all(i.last_modified.tzinfo is not None for i in listed)
    everything = [info.key async for info in store.list(prefix)]
    assert everything == sorted(prefix + name for name in sizes)
    assert [info async for info in store.list(f"{prefix}nothing/")] == []


async def test_presigned_get_serves_the_object_over_http(
    store: ObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    key = f"{prefix}证件/照片 1.jpg"
    await store.put(key, JPEG, content_type="image/jpeg")
    response = await web.get(store.presign_get(key=key, expires_s=60))
    assert response.status_code == 200, response.text
    assert response.content == JPEG
    assert response.headers["content-type"] == "image/jpeg"


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


async def test_tampered_presigned_get_is_refused(
    adapter: Adapter, store: ObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    needs_signature_checks(adapter)
    await store.put(f"{prefix}mine.jpg", JPEG, content_type="image/jpeg")
    await store.put(f"{prefix}other.jpg", b"secret", content_type="image/jpeg")
    url = store.presign_get(key=f"{prefix}mine.jpg", expires_s=60)
    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]

    forged = _with_query(url, **{"X-Amz-Signature": _tamper_signature(signature)})
    other_key = url.replace("mine.jpg", "other.jpg")
    longer = _with_query(url, **{"X-Amz-Expires": "604800"})
    for bad in (forged, other_key, longer):
        response = await web.get(bad)
        assert response.status_code == 403, (bad, response.text)
        assert b"secret" not in response.content


async def test_expired_presigned_get_is_refused(
    adapter: Adapter, store: ObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    needs_signature_checks(adapter)
    key = f"{prefix}old.jpg"
    await store.put(key, JPEG, content_type="image/jpeg")
    adapter.clock.offset = -timedelta(hours=1)  # signed an hour ago, for a minute
    url = store.presign_get(key=key, expires_s=60)
    adapter.clock.offset = timedelta()
    response = await web.get(url)
    # S3 answers 403 AccessDenied "Request has expired"; rclone answers 400.
    assert response.status_code in (400, 403), response.text
    assert response.content != JPEG


async def test_presigned_post_upload_like_wx_upload_file(
    adapter: Adapter, store: ObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    needs_post(adapter)
    key = f"{prefix}incoming/3f2a.jpg"
    post = store.presign_post(
        UploadPolicy(
            key=key, content_type="image/jpeg", min_size=1, max_size=len(JPEG), expires_s=600
        )
    )
    assert post.file_field == "file"
    assert {"key", "Content-Type", "policy", "x-amz-signature"} <= set(post.fields)
    # wx.uploadFile sends the part with the type guessed from the temp file: S3 stores the
    # type of the form's Content-Type field, which the policy fixed.
    response = await wx_upload(web, post, JPEG, file_type="application/octet-stream")
    assert response.status_code == 204, response.text
    assert response.content == b""
    await assert_stored(store, key, JPEG, "image/jpeg")


async def test_presigned_post_takes_files_larger_than_the_api_body_limit(
    adapter: Adapter, store: ObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    needs_post(adapter)
    photo = secrets.token_bytes(3 * 1024 * 1024)  # the API refuses bodies over 1 MB
    key = f"{prefix}incoming/large.jpg"
    post = store.presign_post(
        UploadPolicy(
            key=key, content_type="image/jpeg", min_size=1, max_size=len(photo), expires_s=600
        )
    )
    response = await wx_upload(web, post, photo)
    assert response.status_code == 204, response.text
    assert await store.read(key, max_bytes=len(photo)) == photo


# --- boto3 as the client, and byte ranges: every adapter ----------------------------------------


async def test_boto3_presigned_post_uploads(
    adapter: Adapter, store: ObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    needs_post(adapter)
    key = f"{prefix}boto3/scan 1.jpg"
    form = adapter.boto3().generate_presigned_post(
        Bucket=adapter.bucket,
        Key=key,
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[{"Content-Type": "image/jpeg"}, ["content-length-range", 1, len(JPEG)]],
        ExpiresIn=600,
    )
    response = await web.post(
        form["url"], data=form["fields"], files={"file": ("tmp.jpg", JPEG, "image/jpeg")}
    )
    assert response.status_code == 204, response.text
    await assert_stored(store, key, JPEG, "image/jpeg")


async def test_boto3_presigned_post_names_the_key_after_the_file(
    adapter: Adapter, store: ObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    needs_post(adapter)
    form = adapter.boto3().generate_presigned_post(
        Bucket=adapter.bucket, Key=f"{prefix}named/${{filename}}", ExpiresIn=600
    )
    assert ["starts-with", "$key", f"{prefix}named/"] in decode_policy(
        PresignedPost(form["url"], form["fields"])
    )["conditions"]
    response = await web.post(
        form["url"], data=form["fields"], files={"file": ("scan-01.jpg", JPEG, "image/jpeg")}
    )
    assert response.status_code == 204, response.text
    assert await store.read(f"{prefix}named/scan-01.jpg", max_bytes=len(JPEG)) == JPEG


async def test_boto3_presigned_get_downloads(
    adapter: Adapter, store: ObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    # Non-ASCII, a space, '+', '~' and brackets: every case of SigV4's path encoding.
    key = f"{prefix}下载/scan 1+2~(final).jpg"
    await store.put(key, JPEG, content_type="image/jpeg")
    url = adapter.boto3().generate_presigned_url(
        "get_object", Params={"Bucket": adapter.bucket, "Key": key}, ExpiresIn=60
    )
    response = await web.get(url)
    assert response.status_code == 200, response.text
    assert response.content == JPEG
    assert response.headers["content-type"] == "image/jpeg"


async def test_boto3_get_with_a_wrong_secret_is_refused(
    adapter: Adapter, store: ObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    needs_signature_checks(adapter)
    key = f"{prefix}guarded.jpg"
    await store.put(key, JPEG, content_type="image/jpeg")
    wrong = adapter.boto3(secret_key=secrets.token_hex(20))
    url = wrong.generate_presigned_url(
        "get_object", Params={"Bucket": adapter.bucket, "Key": key}, ExpiresIn=60
    )
    response = await web.get(url)
    assert response.status_code == 403, response.text
    assert s3_error_code(response) == "SignatureDoesNotMatch"


SIZE = len(JPEG)
#: A Range header and the first and last byte S3 answers it with (206).
SATISFIABLE = {
    "bytes=0-9": (0, 9),
    "bytes=100-": (100, SIZE - 1),
    "bytes=-5": (SIZE - 5, SIZE - 1),
    "bytes=1000-999999": (1000, SIZE - 1),  # the end is cut to the object's
    "bytes=-999999": (0, SIZE - 1),  # a suffix longer than the object is all of it
    f"bytes={SIZE - 1}-{SIZE - 1}": (SIZE - 1, SIZE - 1),
}


@pytest.mark.parametrize("header", list(SATISFIABLE))
async def test_a_byte_range_is_answered_206(
    adapter: Adapter, store: ObjectStore, prefix: str, web: httpx.AsyncClient, header: str
) -> None:
    if header == "bytes=-999999" and not adapter.faithful_ranges:
        pytest.skip(f"{adapter.name} refuses a suffix longer than the object (416)")
    key = f"{prefix}range.jpg"
    await store.put(key, JPEG, content_type="image/jpeg")
    response = await web.get(store.presign_get(key=key, expires_s=60), headers={"Range": header})
    first, last = SATISFIABLE[header]
    # rclone sends the right part with 200; S3 (and the local store) say 206 Partial Content.
    assert response.status_code == (206 if adapter.faithful_ranges else 200), response.text
    assert response.headers["content-range"] == f"bytes {first}-{last}/{SIZE}"
    assert response.headers["content-length"] == str(last - first + 1)
    assert response.content == JPEG[first : last + 1]
    assert response.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}"])
async def test_a_range_past_the_end_is_416(
    store: ObjectStore, prefix: str, web: httpx.AsyncClient, header: str
) -> None:
    key = f"{prefix}short.jpg"
    await store.put(key, JPEG, content_type="image/jpeg")
    response = await web.get(store.presign_get(key=key, expires_s=60), headers={"Range": header})
    assert response.status_code == 416, response.text
    assert s3_error_code(response) == "InvalidRange"
    assert JPEG not in response.content


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=9-2", "bytes=-", "bytes=0-1,4-5"])
async def test_a_malformed_or_multiple_range_is_ignored(
    adapter: Adapter, store: ObjectStore, prefix: str, web: httpx.AsyncClient, header: str
) -> None:
    if not adapter.faithful_ranges:
        pytest.skip(f"{adapter.name} refuses what S3 ignores (416 malformed, 501 multiple)")
    key = f"{prefix}whole.jpg"
    await store.put(key, JPEG, content_type="image/jpeg")
    response = await web.get(store.presign_get(key=key, expires_s=60), headers={"Range": header})
    assert response.status_code == 200, response.text
    assert response.content == JPEG
    assert "content-range" not in response.headers


# --- S3ObjectStore: what no test server checks ------------------------------------------------


def decode_policy(post: PresignedPost) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(base64.b64decode(post.fields["policy"]))
    return document


def offline_store(clock: Clock | None = None, **overrides: Any) -> S3ObjectStore:
    """An S3 store whose internal endpoint cannot be reached: only presigning can work."""
    options: dict[str, Any] = {
        "endpoint": f"127.0.0.1:{free_port()}",  # nothing listens there
        "public_endpoint": f"https://{PUBLIC_HOST}",
        "access_key": "zbpublicaccess",
        "secret_key": "zbpublicsecret0123456789",
        "bucket": "zhangban-materials",
        "region": "cn-east-1",
        "connect_timeout_s": 0.5,
        "clock": clock or Clock(),
    }
    options.update(overrides)
    return S3ObjectStore(**options)


def test_s3_post_policy_carries_every_condition() -> None:
    settings = Settings(upload_expires_s=600, s3_region="cn-east-1")
    store = offline_store()
    started = datetime.now(UTC)
    post = store.presign_post(
        UploadPolicy(
            key="incoming/u1/abc.jpg",
            content_type="image/jpeg",
            min_size=1,
            max_size=settings.upload_max_photo_bytes,
            expires_s=settings.upload_expires_s,
        )
    )
    assert post.url == f"https://{PUBLIC_HOST}/zhangban-materials"
    assert post.fields["key"] == "incoming/u1/abc.jpg"
    assert post.fields["Content-Type"] == "image/jpeg"
    assert post.fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert post.fields["x-amz-credential"].endswith(f"/{settings.s3_region}/s3/aws4_request")
    assert len(post.fields["x-amz-signature"]) == 64

    document = decode_policy(post)
    expiration = datetime.fromisoformat(document["expiration"].replace("Z", "+00:00"))
    expected = started + timedelta(seconds=settings.upload_expires_s)
    assert abs((expiration - expected).total_seconds()) < 5
    conditions = document["conditions"]
    assert ["eq", "$bucket", "zhangban-materials"] in conditions
    assert ["eq", "$key", "incoming/u1/abc.jpg"] in conditions  # exact key, not starts-with
    assert ["eq", "$Content-Type", "image/jpeg"] in conditions
    assert ["content-length-range", 1, settings.upload_max_photo_bytes] in conditions
    assert not [c for c in conditions if isinstance(c, list) and c[0] == "starts-with"]
    # Every form field but policy and signature is bound by the signed policy.
    bound = {c[1][1:].lower() for c in conditions if isinstance(c, list) and c[0] == "eq"}
    assert {name.lower() for name in post.fields} - {"policy", "x-amz-signature"} <= bound


def test_s3_presigned_urls_name_the_public_host_and_need_no_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("presigning made an HTTP request")

    monkeypatch.setattr(urllib3.PoolManager, "urlopen", no_network)
    monkeypatch.setattr(urllib3.PoolManager, "request", no_network)
    store = offline_store()
    started = time.monotonic()
    url = store.presign_get(key="materials/1/身份证.jpg", expires_s=300)
    post = store.presign_post(
        UploadPolicy(
            key="incoming/x.jpg", content_type="image/jpeg", min_size=1, max_size=10, expires_s=60
        )
    )
    assert time.monotonic() - started < 0.5
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", PUBLIC_HOST)
    assert parts.path.startswith("/zhangban-materials/materials/1/")
    query = dict(parse_qsl(parts.query))
    assert query["X-Amz-Expires"] == "300"
    assert "/cn-east-1/s3/aws4_request" in query["X-Amz-Credential"]
    assert urlsplit(post.url).netloc == PUBLIC_HOST


async def test_s3_io_uses_the_internal_endpoint(
    rclone_server: S3Server, web: httpx.AsyncClient
) -> None:
    clock = Clock()
    bucket = f"zb-{secrets.token_hex(4)}"
    store = s3_store(rclone_server, bucket, clock, public_endpoint=f"http://{PUBLIC_HOST}:9000")
    await store.ensure_bucket()  # through the internal endpoint: the public one does not exist
    await store.put("a.jpg", JPEG, content_type="image/jpeg")
    assert await store.read("a.jpg", max_bytes=len(JPEG)) == JPEG

    url = store.presign_get(key="a.jpg", expires_s=60)
    assert urlsplit(url).netloc == f"{PUBLIC_HOST}:9000"
    # Signed for the public host, the URL fails on any other host: the signature covers it.
    internal = urlunsplit(urlsplit(url)._replace(netloc=rclone_server.endpoint))
    assert (await web.get(internal)).status_code == 403
    # …and a store signing for the host it is reached by is accepted.
    direct = s3_store(rclone_server, bucket, clock)
    assert (await web.get(direct.presign_get(key="a.jpg", expires_s=60))).content == JPEG


async def test_s3_ping_fails_when_unreachable() -> None:
    with pytest.raises(Exception):  # noqa: B017 - any error: the readiness probe reports it
        await offline_store().ping()


async def test_s3_sse_asks_for_encryption(moto_server: S3Server) -> None:
    store = s3_store(moto_server, f"zb-{secrets.token_hex(4)}", Clock(), sse=True)
    await store.ensure_bucket()
    await store.put("enc.jpg", JPEG, content_type="image/jpeg")
    # moto keeps and reports the encryption the request asked for (real S3/MinIO encrypt).
    stat = await asyncio.to_thread(store._internal.stat_object, store.bucket, "enc.jpg")
    assert stat.metadata is not None
    assert stat.metadata.get("x-amz-server-side-encryption") == "AES256"


def test_endpoint_must_not_have_a_path() -> None:
    with pytest.raises(ValueError):
        offline_store(public_endpoint="https://files.example/s3")


# --- the factory ----------------------------------------------------------------------------


def test_factory_picks_the_store_of_the_profile(tmp_path: Path) -> None:
    embedded = Settings(var_dir=tmp_path, public_base_url="https://gov.example/zb")
    local = create_object_store(embedded)
    assert isinstance(local, LocalObjectStore)
    assert local.root == tmp_path / "objects"
    assert local.bucket == embedded.s3_bucket
    post = local.presign_post(
        UploadPolicy(key="k.jpg", content_type="image/jpeg", min_size=1, max_size=9, expires_s=60)
    )
    assert post.url == f"https://gov.example/zb/objects/{embedded.s3_bucket}"

    s3 = create_object_store(
        Settings(
            storage_backend="s3",
            s3_endpoint="minio:9000",
            s3_public_endpoint=f"https://{PUBLIC_HOST}",
            s3_access_key="ak-for-factory",
            s3_secret_key="sk-for-factory-0123456789",
            s3_region="cn-east-1",
        )
    )
    assert isinstance(s3, S3ObjectStore)
    assert s3.presign_get(key="k.jpg", expires_s=60).startswith(
        f"https://{PUBLIC_HOST}/zhangban-materials/k.jpg?"
    )


# --- the local store: every refusal S3 would make ------------------------------------------------


@pytest.fixture
def local(local_server: LocalServer) -> Iterator[LocalObjectStore]:
    local_server.clock.offset = timedelta()
    yield local_server.store
    local_server.clock.offset = timedelta()


@pytest.fixture
def clock(local_server: LocalServer) -> Clock:
    return local_server.clock


def _post(store: LocalObjectStore, key: str, **overrides: Any) -> PresignedPost:
    options: dict[str, Any] = {
        "key": key,
        "content_type": "image/jpeg",
        "min_size": 1,
        "max_size": 2048,
        "expires_s": 600,
    }
    options.update(overrides)
    return store.presign_post(UploadPolicy(**options))


def _forge(policy_b64: str, change: dict[str, Any]) -> str:
    document = json.loads(base64.b64decode(policy_b64)) | change
    return base64.b64encode(json.dumps(document).encode()).decode()


def _tamper_signature(signature: str) -> str:
    return ("0" if signature[0] != "0" else "1") + signature[1:]


REFUSALS: dict[str, tuple[int, str]] = {
    "wrong key": (403, "AccessDenied"),
    "wrong content type": (403, "AccessDenied"),
    "over max size": (400, "EntityTooLarge"),
    "zero bytes": (400, "EntityTooSmall"),
    "below min size": (400, "EntityTooSmall"),
    "tampered signature": (403, "SignatureDoesNotMatch"),
    "tampered policy": (403, "SignatureDoesNotMatch"),
    "unknown field": (403, "AccessDenied"),
    "missing signed field": (403, "AccessDenied"),
    "no policy": (403, "AccessDenied"),
    "no key": (400, "InvalidArgument"),
    "expired policy": (403, "AccessDenied"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_local_post_refusals_write_nothing(
    local: LocalObjectStore, clock: Clock, prefix: str, web: httpx.AsyncClient, case: str
) -> None:
    key = f"{prefix}incoming/p.jpg"
    content = JPEG[:1000]
    if case == "expired policy":
        clock.offset = -timedelta(minutes=11)  # signed 11 minutes ago, lives 10
    post = _post(local, key, min_size=500 if case == "below min size" else 1)
    clock.offset = timedelta()
    fields = dict(post.fields)
    if case == "wrong key":
        fields["key"] = f"{prefix}incoming/other.jpg"
    elif case == "wrong content type":
        fields["Content-Type"] = "text/html"
    elif case == "over max size":
        content = b"x" * 2049
    elif case == "zero bytes":
        content = b""
    elif case == "below min size":
        content = b"x" * 499
    elif case == "tampered signature":
        fields["x-amz-signature"] = _tamper_signature(fields["x-amz-signature"])
    elif case == "tampered policy":
        fields["policy"] = _forge(
            fields["policy"], {"conditions": [["content-length-range", 0, 10**10]]}
        )
    elif case == "unknown field":
        fields["x-amz-meta-owner"] = "someone-else"
    elif case == "missing signed field":
        del fields["Content-Type"]
    elif case == "no policy":
        del fields["policy"]
    elif case == "no key":
        del fields["key"]
    response = await wx_upload(web, post, content, fields=fields)
    status, code = REFUSALS[case]
    assert (response.status_code, s3_error_code(response)) == (status, code), response.text
    assert "<Message>" in response.text
    assert [info async for info in local.list(prefix)] == []
    assert list((local.root / ".tmp").iterdir()) == []


async def test_local_post_refuses_oversize_without_reading_it(
    local: LocalObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    key = f"{prefix}incoming/huge.jpg"
    post = _post(local, key, max_size=64 * 1024)
    # Past the policy's maximum: refused as soon as the limit is crossed.
    response = await wx_upload(web, post, b"x" * (300 * 1024))
    assert (response.status_code, s3_error_code(response)) == (400, "EntityTooLarge")
    # Past the largest upload the settings allow: refused on Content-Length, before reading.
    huge = b"x" * (7 * 1024 * 1024)
    try:
        response = await wx_upload(web, post, huge)
        assert (response.status_code, s3_error_code(response)) == (400, "EntityTooLarge")
    except httpx.TransportError:
        pass  # the server may close before the client finished sending: also a refusal
    assert await local.stat(key) is None


async def test_local_post_refuses_a_truncated_body(
    local: LocalObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    key = f"{prefix}incoming/cut.jpg"
    post = _post(local, key)
    boundary = "wxuploadboundary1234"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in post.fields.items()
    ]
    body = (
        "".join(parts).encode()
        + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + JPEG[:500]
    )
    # No closing boundary: the phone lost its connection halfway through the file.
    response = await web.post(
        post.url,
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert (response.status_code, s3_error_code(response)) == (400, "MalformedPOSTRequest")
    assert await local.stat(key) is None


async def test_local_post_success_action_status_201(
    local: LocalObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    key = f"{prefix}incoming/201.jpg"
    post = _post(local, key, success_action_status=201)
    response = await wx_upload(web, post, JPEG[:100])
    assert response.status_code == 201, response.text
    assert f"<Key>{key}</Key>" in response.text
    assert await local.stat(key) is not None


async def test_local_post_rejects_other_buckets_and_non_forms(
    local: LocalObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    post = _post(local, f"{prefix}incoming/x.jpg")
    elsewhere = PresignedPost(url=post.url + "-other", fields=post.fields)
    response = await wx_upload(web, elsewhere, JPEG[:100])
    assert (response.status_code, s3_error_code(response)) == (404, "NoSuchBucket")
    response = await web.post(post.url, json=post.fields)
    assert (response.status_code, s3_error_code(response)) == (412, "PreconditionFailed")


async def test_local_accept_post_enforces_the_policy_without_http(
    local: LocalObjectStore, clock: Clock, prefix: str
) -> None:
    key = f"{prefix}incoming/direct.jpg"
    post = _post(local, key, max_size=10)
    with pytest.raises(LocalPolicyError) as too_large:
        await local.accept_post(post.fields, b"x" * 11, "image/jpeg")
    assert (too_large.value.code, too_large.value.status) == ("EntityTooLarge", 400)
    clock.offset = timedelta(minutes=11)
    with pytest.raises(LocalPolicyError) as expired:
        await local.accept_post(post.fields, b"x" * 5, "image/jpeg")
    assert (expired.value.code, expired.value.status) == ("AccessDenied", 403)
    assert "expired" in expired.value.message
    clock.offset = timedelta()
    assert await local.accept_post(post.fields, b"x" * 5, "application/octet-stream") == key
    info = await local.stat(key)
    assert info is not None and info.content_type == "image/jpeg"


@pytest.mark.parametrize(
    "key", ["../escape.jpg", "a/../../b.jpg", "/etc/passwd", "a\\b.jpg", "a\x00b", "a//b", "a/"]
)
async def test_local_keys_cannot_escape_the_root(local: LocalObjectStore, key: str) -> None:
    with pytest.raises(ValueError):
        await local.put(key, b"x", content_type="text/plain")
    with pytest.raises(ValueError):
        local.presign_post(
            UploadPolicy(key=key, content_type="text/plain", min_size=0, max_size=1, expires_s=60)
        )
    with pytest.raises(ValueError):
        local.presign_get(key=key, expires_s=60)
    with pytest.raises(ValueError):
        await local.stat(key)


async def test_local_get_refuses_traversal_and_unsigned(
    local: LocalObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    await local.put(f"{prefix}a.jpg", JPEG, content_type="image/jpeg")
    url = local.presign_get(key=f"{prefix}a.jpg", expires_s=60)
    assert (await web.get(url.split("?")[0])).status_code == 403
    base = f"{local.public_base_url}/objects/{local.bucket}"
    for path in ("/..%2F..%2Fsecret", "/%2e%2e/x"):
        response = await web.get(base + path + "?" + url.split("?")[1])
        assert response.status_code in (400, 403, 404)
    with pytest.raises(LocalPolicyError):
        local.verify_get(f"{prefix}a.jpg", {})


async def test_local_key_that_would_nest_under_an_object_is_refused(
    local: LocalObjectStore, prefix: str
) -> None:
    # S3 allows both "a" and "a/b"; a folder cannot be a file too, so the local store refuses.
    await local.put(f"{prefix}a", b"1", content_type="text/plain")
    with pytest.raises(ValueError):
        await local.put(f"{prefix}a/b", b"2", content_type="text/plain")
    with pytest.raises(ValueError):
        await local.put(f"{prefix}a/b/c", b"3", content_type="text/plain")
    assert await local.read(f"{prefix}a", max_bytes=1) == b"1"
    assert [info.key async for info in local.list(prefix)] == [f"{prefix}a"]


# --- the local store against boto3: S3's refusals, and byte-identical signatures ----------------


def local_boto3(store: LocalObjectStore, **overrides: str) -> Any:
    options = {
        "endpoint_url": store.endpoint_url,
        "access_key": LOCAL_ACCESS_KEY,
        "secret_key": LOCAL_SECRET,
        "region": LOCAL_REGION,
    }
    options.update(overrides)
    return s3_client(**options)


#: The refusal cases whose signer is not the store's: what ``local_boto3`` is given instead.
BAD_SIGNERS: dict[str, dict[str, str]] = {
    "wrong secret": {"secret_key": secrets.token_hex(20)},
    "unknown access key": {"access_key": "zbsomeoneelse"},
    "wrong region": {"region": "us-west-2"},
}

BOTO3_POST_REFUSALS: dict[str, tuple[int, str]] = {
    "tampered policy": (403, "SignatureDoesNotMatch"),
    "tampered signature": (403, "SignatureDoesNotMatch"),
    "wrong secret": (403, "SignatureDoesNotMatch"),
    "unknown access key": (403, "InvalidAccessKeyId"),
    "wrong region": (400, "AuthorizationQueryParametersError"),
    "beyond content-length-range": (400, "EntityTooLarge"),
    "key outside starts-with": (403, "AccessDenied"),
    "content type not allowed": (403, "AccessDenied"),
    "field not in the policy": (403, "AccessDenied"),
    "expired": (403, "AccessDenied"),
}


@pytest.mark.parametrize("case", list(BOTO3_POST_REFUSALS))
async def test_local_refuses_what_s3_refuses_of_a_boto3_post(
    local: LocalObjectStore, clock: Clock, prefix: str, web: httpx.AsyncClient, case: str
) -> None:
    overrides = BAD_SIGNERS.get(case, {})
    form = local_boto3(local, **overrides).generate_presigned_post(
        Bucket=local.bucket,
        Key=f"{prefix}incoming/${{filename}}",
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[["starts-with", "$Content-Type", "image/"], ["content-length-range", 1, 1024]],
        ExpiresIn=600,
    )
    fields: dict[str, str] = dict(form["fields"])
    content = JPEG[:1000]
    if case == "tampered policy":
        fields["policy"] = _forge(fields["policy"], {"expiration": "2099-01-01T00:00:00Z"})
    elif case == "tampered signature":
        fields["x-amz-signature"] = _tamper_signature(fields["x-amz-signature"])
    elif case == "beyond content-length-range":
        content = JPEG[:1025]
    elif case == "key outside starts-with":
        fields["key"] = f"{prefix}materials/${{filename}}"
    elif case == "content type not allowed":
        fields["Content-Type"] = "text/html"
    elif case == "field not in the policy":
        fields["x-amz-meta-owner"] = "u1"
    elif case == "expired":
        clock.offset = timedelta(minutes=11)
    response = await web.post(
        form["url"], data=fields, files={"file": ("p.jpg", content, "image/jpeg")}
    )
    assert (response.status_code, s3_error_code(response)) == BOTO3_POST_REFUSALS[case], (
        response.text
    )
    assert [info async for info in local.list(prefix)] == []
    # The control: the same form, untouched, is taken.
    clock.offset = timedelta()
    if not overrides:
        good = await web.post(
            form["url"], data=form["fields"], files={"file": ("p.jpg", JPEG[:1000], "image/jpeg")}
        )
        assert good.status_code == 204, good.text
        assert await local.stat(f"{prefix}incoming/p.jpg") is not None


BOTO3_GET_REFUSALS: dict[str, tuple[int, str, str | None]] = {
    "expired": (403, "AccessDenied", "Request has expired"),
    "dated in the future": (403, "AccessDenied", "Request is not valid yet"),
    "wrong secret": (403, "SignatureDoesNotMatch", None),
    "unknown access key": (403, "InvalidAccessKeyId", None),
    "wrong region": (400, "AuthorizationQueryParametersError", "region"),
    "another key": (403, "SignatureDoesNotMatch", None),
    "another host": (403, "SignatureDoesNotMatch", None),
    "longer lifetime": (403, "SignatureDoesNotMatch", None),
    "lifetime over a week": (400, "AuthorizationQueryParametersError", "604800"),
    "no algorithm": (400, "AuthorizationQueryParametersError", None),
    "unsigned x-amz header": (403, "AccessDenied", "not signed"),
    "signed for PUT": (403, "SignatureDoesNotMatch", None),
}


@pytest.mark.parametrize("case", list(BOTO3_GET_REFUSALS))
async def test_local_refuses_what_s3_refuses_of_a_boto3_url(
    local: LocalObjectStore, clock: Clock, prefix: str, web: httpx.AsyncClient, case: str
) -> None:
    key = f"{prefix}mine.jpg"
    await local.put(key, JPEG, content_type="image/jpeg")
    await local.put(f"{prefix}theirs.jpg", b"secret", content_type="image/jpeg")
    overrides = BAD_SIGNERS.get(case, {})
    client = local_boto3(local, **overrides)
    url: str = client.generate_presigned_url(
        "put_object" if case == "signed for PUT" else "get_object",
        Params={"Bucket": local.bucket, "Key": key},
        ExpiresIn=60,
    )
    headers: dict[str, str] = {}
    if case == "expired":
        clock.offset = timedelta(minutes=2)
    elif case == "dated in the future":
        clock.offset = -timedelta(hours=1)
    elif case == "another key":
        url = url.replace("mine.jpg", "theirs.jpg")
    elif case == "another host":
        headers["Host"] = f"{PUBLIC_HOST}:{urlsplit(url).port}"
    elif case == "longer lifetime":
        url = _with_query(url, **{"X-Amz-Expires": "3600"})
    elif case == "lifetime over a week":
        url = _with_query(url, **{"X-Amz-Expires": "604801"})
    elif case == "no algorithm":
        parts = urlsplit(url)
        query = [pair for pair in parse_qsl(parts.query) if pair[0] != "X-Amz-Algorithm"]
        url = urlunsplit(parts._replace(query=urlencode(query)))
    elif case == "unsigned x-amz header":
        headers["x-amz-server-side-encryption"] = "AES256"
    response = await web.get(url, headers=headers)
    status, code, words = BOTO3_GET_REFUSALS[case]
    assert (response.status_code, s3_error_code(response)) == (status, code), response.text
    assert words is None or words in response.text
    assert b"secret" not in response.content and JPEG not in response.content


async def test_local_get_honours_signed_response_overrides(
    local: LocalObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    key = f"{prefix}report.pdf"
    await local.put(key, b"%PDF-1.7 report", content_type="application/pdf")
    url = local_boto3(local).generate_presigned_url(
        "get_object",
        Params={
            "Bucket": local.bucket,
            "Key": key,
            "ResponseContentDisposition": 'attachment; filename="report 1.pdf"',
            "ResponseContentType": "application/octet-stream",
            "ResponseCacheControl": "no-store",
        },
        ExpiresIn=60,
    )
    response = await web.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="report 1.pdf"'
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.content == b"%PDF-1.7 report"


async def test_local_header_signed_requests_are_not_implemented(
    local: LocalObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    key = f"{prefix}a.jpg"
    await local.put(key, JPEG, content_type="image/jpeg")
    # What the aws CLI's `s3 cp` sends: SigV4 in the Authorization header, no query.
    request = AWSRequest(method="GET", url=local.presign_get(key=key, expires_s=60).split("?")[0])
    credentials = Credentials(LOCAL_ACCESS_KEY, LOCAL_SECRET)
    botocore.auth.S3SigV4Auth(credentials, "s3", LOCAL_REGION).add_auth(request)
    response = await web.get(request.url, headers=dict(request.headers.items()))
    assert (response.status_code, s3_error_code(response)) == (501, "NotImplemented")


def _frozen(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """botocore's clock stopped at ``moment``."""

    def now(remove_tzinfo: bool = True) -> datetime:
        return moment.replace(tzinfo=None) if remove_tzinfo else moment

    monkeypatch.setattr(botocore.auth, "get_current_datetime", now)
    monkeypatch.setattr(botocore.signers, "get_current_datetime", now)


def _documented_sigv4(secret: str, date: str, region: str, string_to_sign: str) -> str:
    """The signature exactly as the S3 documentation spells the algorithm out, on its own."""
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "key", ["materials/u1/9f2c.jpg", "材料/身份证 正面 (1).jpg", "a+b/c~d/e=f&g.pdf"]
)
def test_local_presigned_urls_are_the_ones_boto3_signs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    moment = datetime(2026, 3, 9, 8, 30, 5, tzinfo=UTC)
    for base in ("http://127.0.0.1:8000", "https://gov.example/zb", "HTTPS://Gov.Example:443"):
        store = LocalObjectStore(
            root=tmp_path,
            bucket="zhangban-materials",
            secret=LOCAL_SECRET,
            public_base_url=base,
            access_key=LOCAL_ACCESS_KEY,
            region=LOCAL_REGION,
            clock=lambda: moment,
        )
        _frozen(monkeypatch, moment)
        theirs = local_boto3(store).generate_presigned_url(
            "get_object", Params={"Bucket": store.bucket, "Key": key}, ExpiresIn=300
        )
        ours = store.presign_get(key=key, expires_s=300)
        assert ours == theirs


def test_local_post_policies_are_signed_as_botocore_signs_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC)
    store = LocalObjectStore(
        root=tmp_path,
        bucket="zhangban-materials",
        secret=LOCAL_SECRET,
        public_base_url="https://gov.example",
        access_key=LOCAL_ACCESS_KEY,
        region=LOCAL_REGION,
        clock=lambda: moment,
    )
    post = store.presign_post(
        UploadPolicy(
            key="incoming/u1/abc.jpg",
            content_type="image/jpeg",
            min_size=1,
            max_size=10 * 1024 * 1024,
            expires_s=600,
        )
    )
    fields = post.fields
    # botocore's own signer, given the same policy and date, computes the same signature…
    request = AWSRequest(method="POST", url=post.url)
    request.context["timestamp"] = fields["x-amz-date"]
    signer = botocore.auth.S3SigV4PostAuth(
        Credentials(LOCAL_ACCESS_KEY, LOCAL_SECRET), "s3", LOCAL_REGION
    )
    assert signer.signature(fields["policy"], request) == fields["x-amz-signature"]
    # …as does the algorithm of the documentation, written out here on its own.
    assert fields["x-amz-signature"] == _documented_sigv4(
        LOCAL_SECRET, "20260309", LOCAL_REGION, fields["policy"]
    )
    # The signed fields are spelled as boto3 spells them for the same instant.
    _frozen(monkeypatch, moment)
    theirs = local_boto3(store).generate_presigned_post(
        Bucket=store.bucket, Key="incoming/u1/abc.jpg", ExpiresIn=600
    )
    assert theirs["url"] == post.url
    for name in ("x-amz-algorithm", "x-amz-credential", "x-amz-date"):
        assert fields[name] == theirs["fields"][name]
    assert (
        fields["x-amz-credential"] == f"{LOCAL_ACCESS_KEY}/20260309/{LOCAL_REGION}/s3/aws4_request"
    )
    document = decode_policy(post)
    assert {"x-amz-credential": fields["x-amz-credential"]} in document["conditions"]


def test_local_store_takes_the_s3_key_pair_of_the_settings(tmp_path: Path) -> None:
    configured = create_object_store(
        Settings(
            var_dir=tmp_path,
            s3_access_key="zbembeddedak",
            s3_secret_key="zbembeddedsecret0123456789",
            s3_region="cn-east-1",
        )
    )
    derived = create_object_store(Settings(var_dir=tmp_path, secret_key="s" * 40))
    assert isinstance(configured, LocalObjectStore) and isinstance(derived, LocalObjectStore)
    assert (configured.access_key, configured.region) == ("zbembeddedak", "cn-east-1")
    assert (derived.access_key, derived.region) == (DEFAULT_ACCESS_KEY, "us-east-1")
    # Without a configured secret, S3 clients are given the hex text of the derived key.
    cases = (
        (configured, "zbembeddedak", "zbembeddedsecret0123456789", "cn-east-1"),
        (derived, DEFAULT_ACCESS_KEY, local_signing_key("s" * 40).hex(), "us-east-1"),
    )
    for store, access_key, secret, region in cases:
        client = s3_client(
            endpoint_url=store.endpoint_url,
            access_key=access_key,
            secret_key=secret,
            region=region,
        )
        url = client.generate_presigned_url(
            "get_object", Params={"Bucket": store.bucket, "Key": "k.jpg"}, ExpiresIn=60
        )
        parts = urlsplit(url)
        store.verify_request(
            method="GET",
            path=parts.path,
            query=parse_qsl(parts.query, keep_blank_values=True),
            headers={"host": parts.netloc},
        )
        store.verify_get("k.jpg", dict(parse_qsl(parts.query)))


# --- the local store: refused uploads leave no error in the log ---------------------------------


class ErrorLines(logging.Handler):
    """Every record at ERROR or above, from any logger (Sanic's included)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def error_lines() -> Iterator[ErrorLines]:
    root = logging.getLogger()
    handler = ErrorLines()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@pytest.mark.parametrize(
    "case",
    ["accepted", "bad signature, 2 MB", "beyond the policy", "beyond every limit", "truncated"],
)
async def test_local_uploads_log_no_error(
    local: LocalObjectStore,
    prefix: str,
    web: httpx.AsyncClient,
    error_lines: ErrorLines,
    case: str,
) -> None:
    key = f"{prefix}incoming/logged.jpg"
    post = _post(local, key, max_size=3 * 1024 * 1024)
    fields = dict(post.fields)
    content = JPEG
    expected: tuple[int, str | None] = (204, None)
    if case == "bad signature, 2 MB":
        # More than Sanic drains by itself after an answer (1 MB): the store reads it to the end.
        fields["x-amz-signature"] = _tamper_signature(fields["x-amz-signature"])
        content, expected = secrets.token_bytes(2 * 1024 * 1024), (403, "SignatureDoesNotMatch")
    elif case == "beyond the policy":
        post = _post(local, key, max_size=64 * 1024)
        fields = dict(post.fields)
        content, expected = secrets.token_bytes(2 * 1024 * 1024), (400, "EntityTooLarge")
    elif case == "beyond every limit":
        content, expected = secrets.token_bytes(7 * 1024 * 1024), (400, "EntityTooLarge")
    if case == "truncated":
        head = '--b0undary\r\nContent-Disposition: form-data; name="{}"\r\n\r\n{}\r\n'
        body = b"".join(head.format(name, value).encode() for name, value in fields.items())
        body += b'--b0undary\r\nContent-Disposition: form-data; name="file"\r\n\r\n' + JPEG[:99]
        response = await web.post(
            post.url,
            content=body,
            headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
        )
        expected = (400, "MalformedPOSTRequest")
    else:
        try:
            response = await wx_upload(web, post, content, fields=fields)
        except httpx.TransportError:
            assert case == "beyond every limit"  # closed before the client finished sending
            response = None
    if response is not None:
        assert response.status_code == expected[0], response.text
        if expected[1] is not None:
            assert s3_error_code(response) == expected[1]
    # A request on the same client afterwards works (a kept connection was left clean).
    url = local.presign_get(key=key, expires_s=60) if case == "accepted" else None
    if url is not None:
        assert (await web.get(url)).content == JPEG
    await asyncio.sleep(0.05)  # Sanic logs after the answer is sent
    assert [record.getMessage() for record in error_lines.records] == []


async def test_local_post_answers_with_the_etag_and_follows_success_action_redirect(
    local: LocalObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    etag = f'"{hashlib.md5(JPEG).hexdigest()}"'
    plain = await wx_upload(web, _post(local, f"{prefix}incoming/e.jpg"), JPEG[:2048])
    assert plain.status_code == 204, plain.text
    assert plain.headers["etag"] == f'"{hashlib.md5(JPEG[:2048]).hexdigest()}"'

    done = "https://app.example/uploaded?from=zb"
    key = f"{prefix}incoming/redirected.jpg"
    form = local_boto3(local).generate_presigned_post(
        Bucket=local.bucket,
        Key=key,
        Fields={"success_action_redirect": done},
        Conditions=[{"success_action_redirect": done}],
        ExpiresIn=60,
    )
    response = await web.post(
        form["url"], data=form["fields"], files={"file": ("r.jpg", JPEG, "image/jpeg")}
    )
    assert response.status_code == 303, response.text
    query = urlencode({"bucket": local.bucket, "key": key, "etag": etag}, quote_via=quote)
    assert response.headers["location"] == f"{done}&{query}"
    assert await local.read(key, max_bytes=len(JPEG)) == JPEG


async def test_local_empty_object_has_no_byte_to_range_over(
    local: LocalObjectStore, prefix: str, web: httpx.AsyncClient
) -> None:
    key = f"{prefix}empty.txt"
    await local.put(key, b"", content_type="text/plain")
    url = local.presign_get(key=key, expires_s=60)
    whole = await web.get(url)
    assert (whole.status_code, whole.content, whole.headers["content-length"]) == (200, b"", "0")
    refused = await web.get(url, headers={"Range": "bytes=0-"})
    assert (refused.status_code, s3_error_code(refused)) == (416, "InvalidRange")
    assert refused.headers["content-range"] == "bytes */0"


def test_local_verifies_what_the_minio_sdk_signs(tmp_path: Path) -> None:
    """The production adapter's signatures (minio SDK) pass the local store's checks: one SigV4."""
    clock = Clock()
    minio_signed = offline_store(
        clock,
        access_key=LOCAL_ACCESS_KEY,
        secret_key=LOCAL_SECRET,
        region=LOCAL_REGION,
        public_endpoint=f"https://{PUBLIC_HOST}",
    )
    local = LocalObjectStore(
        root=tmp_path,
        bucket=minio_signed.bucket,
        secret=LOCAL_SECRET,
        public_base_url="http://127.0.0.1:8000",
        access_key=LOCAL_ACCESS_KEY,
        region=LOCAL_REGION,
        clock=clock,
    )
    post = minio_signed.presign_post(
        UploadPolicy(
            key="incoming/u1/m.jpg",
            content_type="image/jpeg",
            min_size=1,
            max_size=99,
            expires_s=60,
        )
    )
    grant = local.authorize_post(post.fields)
    assert (grant.key, grant.content_type, grant.max_size) == (
        "incoming/u1/m.jpg",
        "image/jpeg",
        99,
    )
    url = urlsplit(minio_signed.presign_get(key="材料/身份证 正面.jpg", expires_s=60))
    local.verify_request(
        method="GET", path=url.path, query=parse_qsl(url.query), headers={"host": url.netloc}
    )
    with pytest.raises(LocalPolicyError) as moved:
        local.verify_request(
            method="GET", path=url.path, query=parse_qsl(url.query), headers={"host": "other"}
        )
    assert moved.value.code == "SignatureDoesNotMatch"
