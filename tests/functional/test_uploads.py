"""Uploads over HTTP, as the mini-program does them: an intent (a presigned POST policy), the file
posted with ``wx.uploadFile`` straight to the object store (here the local store, which answers at
``/objects/<bucket>`` exactly as S3 would), and the completion that verifies and normalises it.

Every refusal is checked twice: the answer (our JSON envelope with a Chinese message, or S3's XML
from the store) and what it left behind: no object of the upload under ``incoming/`` or
``materials/``, and its row absent (refused at intent), rejected or deleted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image, ImageChops
from sanic import Sanic

from storage import service as storage_service
from storage.base import ObjectStore
from storage.models import StaffRead, Upload
from tests import images
from tests.functional.test_http_edge import assert_envelope
from tests.people import Phone, citizen, company_of, grant_mandate, make_agent, uid
from tests.staff import Hire
from tests.uploads import (
    Catalogue,
    assert_nothing_behind,
    assert_s3_error,
    complete,
    decode_policy,
    download,
    intent,
    keys,
    policy,
    post_to_store,
    posted,
    uploaded,
)

MB = 1024 * 1024


@pytest.fixture
async def other(me: Phone, phone: Callable[[], Phone]) -> Phone:
    """Another citizen, logged in after ``me``, with nothing of theirs."""
    person = phone()
    await person.login()
    return person


async def nothing_kept(store: ObjectStore) -> None:
    """A refused intent keeps nothing: no upload row, no object under incoming/ or materials/."""
    assert await Upload.all().count() == 0
    await assert_nothing_behind(store, None, statuses=(None,))


async def assert_never_arrived(me: Phone, store: ObjectStore, upload_id: str) -> None:
    """The store refused the file: no object at all, the completion answers that nothing was
    uploaded, and nothing is kept; the row waits (pending) for the policy to run out and the
    clean-up job (test_upload_cleanup) to delete it."""
    assert await keys(store) == set()
    assert_envelope(await complete(me, upload_id), 400, "storage.not_uploaded")
    await assert_nothing_behind(store, upload_id, statuses=("pending",))


def jpeg_info(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG"
    return im


def assert_no_metadata(data: bytes) -> None:
    im = jpeg_info(data)
    assert len(im.getexif()) == 0
    for name in ("exif", "icc_profile", "comment", "xmp", "XML:com.adobe.xmp"):
        assert name not in im.info, name
    for trace in (b"Exif\x00", b"PhoneMaker", b"Phone 15", b"secret comment", b"xmpmeta"):
        assert trace not in data, trace


def reddish(pixel: Any) -> bool:
    r, g, b = pixel[:3]
    return bool(r > 150 and g < 110 and b < 110)


# --------------------------------------------------------------------------------------------
# The happy path
# --------------------------------------------------------------------------------------------


async def test_a_gps_photo_goes_through_like_wx_upload_file(
    clean: Sanic, cat: Catalogue, me: Phone, store: ObjectStore, client: httpx.AsyncClient
) -> None:
    settings = clean.ctx.settings
    # Stored 4800×1200 with orientation 6: the picture is a 1200×4800 portrait, too tall to keep.
    photo = images.jpeg_with_exif(4800, 1200, orientation=6, gps=True)
    before = datetime.now(UTC)

    issued = await policy(
        me, cat.item, cat.photos, content_type="image/jpeg", size=len(photo), filename="房产证.jpg"
    )

    after = datetime.now(UTC)
    assert set(issued) == {"upload_id", "url", "fields", "file_field", "max_size", "expires_at"}
    assert issued["file_field"] == "file"
    assert urlsplit(issued["url"]).path == f"/objects/{settings.s3_bucket}"
    fields = issued["fields"]
    key = fields["key"]
    assert key.startswith(f"incoming/u{uid(me)}/")
    assert fields["Content-Type"] == "image/jpeg"
    document = decode_policy(fields)
    conditions = document["conditions"]
    assert ["eq", "$key", key] in conditions
    assert ["eq", "$Content-Type", "image/jpeg"] in conditions
    assert ["content-length-range", 1, settings.upload_max_photo_bytes] in conditions
    assert issued["max_size"] == settings.upload_max_photo_bytes == 10 * MB
    expiration = datetime.fromisoformat(document["expiration"].replace("Z", "+00:00"))
    lifetime = timedelta(seconds=settings.upload_expires_s)
    assert settings.upload_expires_s == 600
    assert before + lifetime - timedelta(seconds=2) <= expiration <= after + lifetime
    expires_at = datetime.fromisoformat(issued["expires_at"])
    assert abs(expires_at - expiration) < timedelta(seconds=2)
    row = await Upload.get(id=issued["upload_id"])
    assert (row.status, row.incoming_key, row.owner_user_id) == ("pending", key, uid(me))
    assert row.uploaded_by == f"u:{uid(me)}"

    stored = await post_to_store(client, issued, photo)

    assert stored.status_code == 204, stored.text
    info = await store.stat(key)
    assert info is not None and info.size == len(photo) and info.content_type == "image/jpeg"

    done = await complete(me, issued["upload_id"])

    assert done.status_code == 200, done.text
    body = done.json()
    assert body["id"] == issued["upload_id"]
    assert (body["status"], body["content_type"], body["filename"]) == (
        "ready",
        "image/jpeg",
        "房产证.jpg",
    )
    assert (body["width"], body["height"], body["pages"]) == (1024, 4096, None)
    assert (body["item_code"], body["material_code"], body["case_id"]) == (
        cat.item,
        cat.photos,
        None,
    )
    query = parse_qs(urlsplit(body["url"]).query)
    assert query["X-Amz-Expires"] == [str(settings.download_expires_s)]
    assert settings.download_expires_s == 300

    got = await download(client, body["url"])
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("image/jpeg")
    assert body["size"] == len(got.content)
    assert_no_metadata(got.content)
    picture = jpeg_info(got.content).convert("RGB")
    assert picture.size == (1024, 4096) and max(picture.size) <= settings.image_max_side
    # Upright: the marker of the stored top-left corner is now at the top right.
    assert reddish(picture.getpixel((picture.width - 20, 20)))
    assert not reddish(picture.getpixel((20, 20)))

    thumb = await download(client, body["thumbnail_url"])
    assert thumb.status_code == 200
    assert_no_metadata(thumb.content)
    small = jpeg_info(thumb.content)
    assert max(small.size) <= 320 and small.height > small.width

    assert await store.stat(key) is None
    assert await keys(store, "incoming/") == set()
    row = await Upload.get(id=issued["upload_id"])
    assert row.status == "ready"
    assert row.object_key and row.object_key.startswith(f"materials/u{uid(me)}/")
    assert row.object_key.endswith(".jpg")
    assert row.sha256 == hashlib.sha256(photo).hexdigest()
    assert await keys(store, "materials/") == {row.object_key, row.thumbnail_key}
    assert urlsplit(body["url"]).path.endswith(row.object_key)

    again = await me.call("GET", f"/api/v1/uploads/{issued['upload_id']}")
    assert again.status_code == 200
    assert {k: v for k, v in again.json().items() if not k.endswith("url")} == {
        k: v for k, v in body.items() if not k.endswith("url")
    }
    listed = await me.call("GET", "/api/v1/uploads", params={"item_code": cat.item})
    assert [u["id"] for u in listed.json()["uploads"]] == [issued["upload_id"]]


@pytest.mark.parametrize(
    ("content_type", "make"),
    [
        ("image/heic", lambda: images.heic(640, 480)),
        ("image/webp", lambda: images.webp(640, 480)),
        ("image/png", lambda: images.png(640, 480, alpha=True)),
    ],
    ids=["heic", "webp", "png"],
)
async def test_heic_webp_and_png_become_jpeg(
    cat: Catalogue,
    me: Phone,
    store: ObjectStore,
    client: httpx.AsyncClient,
    content_type: str,
    make: Callable[[], bytes],
) -> None:
    data = make()

    body = await uploaded(me, cat.item, cat.photos, data, content_type=content_type)

    assert (body["content_type"], body["width"], body["height"]) == ("image/jpeg", 640, 480)
    got = await download(client, body["url"])
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("image/jpeg")
    assert_no_metadata(got.content)
    row = await Upload.get(id=body["id"])
    assert row.object_key is not None and row.object_key.endswith(".jpg")
    assert row.claimed_content_type == content_type
    assert await keys(store, "incoming/") == set()


async def test_a_pdf_is_kept_as_it_is_with_its_pages_counted(
    clean: Sanic, cat: Catalogue, me: Phone, store: ObjectStore, client: httpx.AsyncClient
) -> None:
    document = images.pdf(pages=3)
    issued = await policy(
        me, cat.item, cat.any_file, content_type="application/pdf", size=len(document)
    )
    limits = decode_policy(issued["fields"])["conditions"]
    assert ["content-length-range", 1, clean.ctx.settings.upload_max_pdf_bytes] in limits
    assert issued["max_size"] == 20 * MB
    assert (await post_to_store(client, issued, document)).status_code == 204

    done = await complete(me, issued["upload_id"])

    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["content_type"], body["pages"], body["width"], body["height"]) == (
        "application/pdf",
        3,
        None,
        None,
    )
    assert body["thumbnail_url"] is None
    got = await download(client, body["url"])
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/pdf")
    assert got.content == document
    row = await Upload.get(id=body["id"])
    assert row.object_key is not None and row.object_key.endswith(".pdf")
    assert row.thumbnail_key is None
    assert await keys(store) == {row.object_key}


async def test_a_watermarked_material_is_stamped_visibly(
    cat: Catalogue, me: Phone, store: ObjectStore, client: httpx.AsyncClient
) -> None:
    photo = images.jpeg_with_exif(1200, 900, orientation=1, gps=True)

    stamped = await uploaded(me, cat.item, cat.watermarked, photo)
    plain = await uploaded(me, cat.item, cat.photos, photo)

    a = jpeg_info((await download(client, stamped["url"])).content).convert("RGB")
    b = jpeg_info((await download(client, plain["url"])).content).convert("RGB")
    assert a.size == b.size == (1200, 900)
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 10 else 0)
    # The text is repeated across the whole picture: every ninth of it differs visibly.
    for x in range(3):
        for y in range(3):
            cell = diff.crop((x * 400, y * 300, x * 400 + 400, y * 300 + 300))
            assert cell.histogram()[255] > 0.02 * 400 * 300, (x, y)
    # Not the same object: the watermark is part of what is deduplicated.
    rows = {r.id: r for r in await Upload.all()}
    assert rows[stamped["id"]].object_key != rows[plain["id"]].object_key
    assert rows[stamped["id"]].sha256 == rows[plain["id"]].sha256
    assert len(await keys(store, "materials/")) == 4  # two images, two thumbnails


# --------------------------------------------------------------------------------------------
# Bad files: refused at completion, deleted, rejected
# --------------------------------------------------------------------------------------------

BAD_FILES: list[tuple[str, str, Callable[[], bytes], str, dict[str, Any]]] = [
    ("exe", "image/jpeg", images.exe_as_jpg, "storage.type_not_allowed",
     {"detected": "windows_executable"}),
    ("truncated_jpeg", "image/jpeg", images.truncated_jpeg, "storage.corrupt_image", {}),
    ("png_bomb", "image/png", images.png_bomb, "storage.image_too_large", {}),
    ("pdf_with_javascript", "application/pdf", images.pdf_with_javascript,
     "storage.pdf_active_content", {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("content_type", "make", "code", "details"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
async def test_a_bad_file_is_refused_at_completion_and_leaves_nothing(
    cat: Catalogue,
    me: Phone,
    store: ObjectStore,
    content_type: str,
    make: Callable[[], bytes],
    code: str,
    details: dict[str, Any],
) -> None:
    data = make()
    # The store cannot tell: the policy fixes the declared type, not what the bytes are.
    issued = await posted(
        me, cat.item, cat.any_file, data, content_type=content_type, filename="a.jpg"
    )

    refused = await complete(me, issued["upload_id"])

    error = assert_envelope(refused, 422, code)
    assert details.items() <= error["details"].items(), error
    if code == "storage.pdf_active_content":
        assert "javascript" in error["details"]["found"]
    await assert_nothing_behind(store, issued["upload_id"], statuses=("rejected",))
    assert await keys(store) == set()
    row = await Upload.get(id=issued["upload_id"])
    assert row.reject_code == code and row.object_key is None and row.sha256 is None
    # A phone that retries gets the same refusal, and still nothing is kept.
    assert_envelope(await complete(me, issued["upload_id"]), 422, code)
    seen = await me.call("GET", f"/api/v1/uploads/{issued['upload_id']}")
    assert seen.status_code == 200
    assert (seen.json()["status"], seen.json()["url"]) == ("rejected", None)
    assert (await me.call("GET", "/api/v1/uploads")).json() == {"uploads": []}
    assert await keys(store) == set()


async def test_a_zero_byte_file_is_refused_by_the_intent_and_by_the_store(
    cat: Catalogue, me: Phone, store: ObjectStore, client: httpx.AsyncClient
) -> None:
    error = assert_envelope(
        await intent(me, cat.item, cat.photos, size=0), 400, "request.validation_failed"
    )
    assert [f["field"] for f in error["details"]["fields"]] == ["size"]
    await nothing_kept(store)

    # A phone that measured one byte and sends none: the policy's range starts at 1.
    issued = await policy(me, cat.item, cat.photos, size=1)
    assert_s3_error(await post_to_store(client, issued, b""), 400, "EntityTooSmall")

    await assert_never_arrived(me, store, issued["upload_id"])


async def test_a_50_mb_photo_is_refused_by_the_intent_and_by_the_store(
    cat: Catalogue, me: Phone, store: ObjectStore, client: httpx.AsyncClient
) -> None:
    fifty = 50 * MB
    error = assert_envelope(
        await intent(me, cat.item, cat.photos, size=fifty), 400, "storage.too_large"
    )
    assert error["details"] == {"max_bytes": 10 * MB}
    await nothing_kept(store)

    # A phone that claims 1 MB and sends 50 MB: refused from the request's length, unread.
    issued = await policy(me, cat.item, cat.photos, size=MB)
    huge = b"\xff\xd8\xff\xe0" + bytes(fifty - 4)
    assert_s3_error(await post_to_store(client, issued, huge), 400, "EntityTooLarge")
    # One byte over the material's limit is refused by the policy's content-length-range.
    over = b"\xff\xd8\xff\xe0" + bytes(10 * MB - 3)
    assert len(over) == 10 * MB + 1
    assert_s3_error(await post_to_store(client, issued, over), 400, "EntityTooLarge")

    await assert_never_arrived(me, store, issued["upload_id"])


async def test_the_claimed_size_is_advisory_the_range_is_the_materials(
    cat: Catalogue, me: Phone
) -> None:
    """The issue fixes content-length-range "from the material's rules", not from the size the
    phone measured: a photo larger than claimed but within the limit is accepted, and the size
    kept is the real one."""
    photo = images.jpeg_with_exif(1600, 1200, orientation=1, gps=False, quality=100)
    issued = await posted(me, cat.item, cat.photos, photo, size=len(photo) // 2)

    done = await complete(me, issued["upload_id"])

    assert done.status_code == 200, done.text
    row = await Upload.get(id=issued["upload_id"])
    assert row.claimed_size == len(photo) // 2
    assert row.sha256 == hashlib.sha256(photo).hexdigest()


async def test_a_policy_used_after_it_expired_is_refused(
    clean: Sanic,
    cat: Catalogue,
    me: Phone,
    store: Any,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    photo = images.jpeg_with_exif(800, 600, orientation=1)
    issued = await policy(me, cat.item, cat.photos, size=len(photo))
    lifetime = clean.ctx.settings.upload_expires_s

    monkeypatch.setattr(
        store, "_clock", lambda: datetime.now(UTC) + timedelta(seconds=lifetime + 2)
    )
    message = assert_s3_error(await post_to_store(client, issued, photo), 403, "AccessDenied")
    assert "expired" in message

    await assert_never_arrived(me, store, issued["upload_id"])

    # Shortly before its expiry the same policy still works.
    monkeypatch.setattr(
        store, "_clock", lambda: datetime.now(UTC) + timedelta(seconds=lifetime - 5)
    )
    assert (await post_to_store(client, issued, photo)).status_code == 204


async def test_a_key_outside_the_users_prefix_is_refused_by_the_store(
    cat: Catalogue,
    me: Phone,
    other: Phone,
    store: ObjectStore,
    client: httpx.AsyncClient,
) -> None:
    photo = images.jpeg_with_exif(800, 600, orientation=1)
    issued = await policy(me, cat.item, cat.photos, size=len(photo))
    upload_id = issued["upload_id"]
    fields = issued["fields"]

    for tampered in (
        f"incoming/u{uid(other)}/{upload_id}",  # someone else's folder
        f"materials/u{uid(me)}/{'0' * 64}.jpg",  # straight to the processed objects
        f"incoming/u{uid(me)}/{upload_id}x",  # another key in one's own folder
    ):
        answer = await post_to_store(client, issued, photo, fields={**fields, "key": tampered})
        message = assert_s3_error(answer, 403, "AccessDenied")
        assert "Policy Condition failed" in message
        assert await store.stat(tampered) is None

    # Rewriting the policy to name another key breaks its signature.
    document = decode_policy(fields)
    forged_key = f"incoming/u{uid(other)}/{upload_id}"
    document["conditions"] = [
        ["eq", "$key", forged_key] if c == ["eq", "$key", fields["key"]] else c
        for c in document["conditions"]
    ]
    forged = base64.b64encode(json.dumps(document).encode()).decode()
    answer = await post_to_store(
        client, issued, photo, fields={**fields, "key": forged_key, "policy": forged}
    )
    assert_s3_error(answer, 403, "SignatureDoesNotMatch")

    await assert_never_arrived(me, store, upload_id)


async def test_completion_for_someone_elses_upload_is_404(
    cat: Catalogue,
    me: Phone,
    other: Phone,
    store: ObjectStore,
) -> None:
    photo = images.jpeg_with_exif(800, 600, orientation=1)
    issued = await posted(me, cat.item, cat.photos, photo)

    refused = await complete(other, issued["upload_id"])

    # The same answer as for an upload that does not exist: existence is not revealed.
    error = assert_envelope(refused, 404, "storage.upload_not_found")
    missing = assert_envelope(await complete(other, "0" * 24), 404, "storage.upload_not_found")
    assert error == missing
    row = await Upload.get(id=issued["upload_id"])
    assert (row.status, row.object_key) == ("pending", None)
    assert await keys(store) == {issued["fields"]["key"]}  # the owner's file, untouched
    for method in ("GET", "DELETE"):
        answer = await other.call(method, f"/api/v1/uploads/{issued['upload_id']}")
        assert_envelope(answer, 404, "storage.upload_not_found")
    assert (await Upload.get(id=issued["upload_id"])).status == "pending"
    # The owner's completion is unaffected.
    assert (await complete(me, issued["upload_id"])).status_code == 200


async def test_a_second_completion_while_the_first_runs_does_not_process_twice(
    cat: Catalogue,
    me: Phone,
    store: ObjectStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    photo = images.photo_12mp()
    issued = await posted(me, cat.item, cat.photos, photo)
    runs: list[int] = []
    real_process = storage_service.process

    def counting(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return real_process(*args, **kwargs)

    monkeypatch.setattr(storage_service, "process", counting)

    first, second = await asyncio.gather(
        complete(me, issued["upload_id"]), complete(me, issued["upload_id"])
    )

    statuses = sorted([first.status_code, second.status_code])
    assert statuses in ([200, 200], [200, 409]), (first.text, second.text)
    for answer in (first, second):
        if answer.status_code == 409:
            assert_envelope(answer, 409, "storage.completion_running")
            assert answer.headers["retry-after"] == "1"  # ask again shortly, no reload
    assert runs == [1]
    rows = await Upload.all()
    assert [(r.status, r.width, r.height) for r in rows] == [("ready", 3000, 4000)]
    assert await keys(store, "incoming/") == set()
    assert await keys(store, "materials/") == {rows[0].object_key, rows[0].thumbnail_key}
    later = await complete(me, issued["upload_id"])
    assert later.status_code == 200 and later.json()["status"] == "ready"
    assert runs == [1]


# --------------------------------------------------------------------------------------------
# Refused at intent: no row, no object
# --------------------------------------------------------------------------------------------


async def test_a_type_the_material_does_not_accept_is_refused(
    cat: Catalogue, me: Phone, store: ObjectStore
) -> None:
    for content_type in ("application/pdf", "application/x-msdownload", "image/gif"):
        refused = await intent(
            me, cat.item, cat.photos, content_type=content_type, filename="a.pdf"
        )
        error = assert_envelope(refused, 400, "storage.type_not_allowed")
        assert error["details"]["formats"] == ["jpg", "png", "heic", "webp"]
        assert "application/pdf" not in error["details"]["allowed"]
    await nothing_kept(store)


async def test_a_size_over_the_limit_is_refused(
    cat: Catalogue, me: Phone, store: ObjectStore
) -> None:
    photo_limit, pdf_limit = 10 * MB, 20 * MB
    assert_envelope(
        await intent(me, cat.item, cat.any_file, size=photo_limit + 1), 400, "storage.too_large"
    )
    refused = await intent(
        me, cat.item, cat.any_file, content_type="application/pdf", size=pdf_limit + 1
    )
    assert assert_envelope(refused, 400, "storage.too_large")["details"] == {"max_bytes": pdf_limit}
    await nothing_kept(store)
    # Exactly at the limits is fine.
    assert (await intent(me, cat.item, cat.any_file, size=photo_limit)).status_code == 201
    pdf_ok = await intent(
        me, cat.item, cat.any_file, content_type="application/pdf", size=pdf_limit
    )
    assert pdf_ok.status_code == 201
    await assert_nothing_behind(store, None, statuses=(None,))


async def test_more_files_than_the_material_allows_are_refused(
    cat: Catalogue, me: Phone, store: ObjectStore
) -> None:
    first = await uploaded(me, cat.item, cat.single, images.jpeg_with_exif(400, 300, 1))
    before = await keys(store)

    refused = await intent(me, cat.item, cat.single)

    error = assert_envelope(refused, 409, "storage.too_many_files")
    assert error["details"] == {"max_files": 1}
    assert [u.id for u in await Upload.all()] == [first["id"]]
    assert await keys(store) == before
    # Deleting the file frees its place.
    assert (await me.call("DELETE", f"/api/v1/uploads/{first['id']}")).status_code == 204
    assert (await intent(me, cat.item, cat.single)).status_code == 201


async def test_an_unknown_material_or_item_is_refused(
    cat: Catalogue, me: Phone, store: ObjectStore
) -> None:
    error = assert_envelope(
        await intent(me, cat.item, "no-such-material"), 400, "request.validation_failed"
    )
    assert [(f["field"], f["code"]) for f in error["details"]["fields"]] == [
        ("material_code", "unknown_material")
    ]
    assert_envelope(await intent(me, "NO-SUCH-ITEM", cat.photos), 404, "catalog.item_not_found")
    await nothing_kept(store)


async def test_an_upload_for_a_case_is_refused_until_cases_exist(
    cat: Catalogue, me: Phone, store: ObjectStore
) -> None:
    assert_envelope(await intent(me, cat.item, cat.photos, case_id=1), 404, "case.not_found")
    await nothing_kept(store)


async def test_a_company_upload_needs_the_apply_scope(
    cat: Catalogue,
    phone: Callable[[], Phone],
    sandbox: httpx.AsyncClient,
    store: ObjectStore,
) -> None:
    rep = await citizen(phone(), name="李明")
    company = await company_of(rep, sandbox)
    viewer = await citizen(phone(), name="王芳")
    await make_agent(rep, company, viewer, ["view"])
    stranger = await citizen(phone(), name="刘洋")

    for person in (viewer, stranger):
        refused = await intent(person, cat.item, cat.photos, company_id=company)
        assert_envelope(refused, 403, "auth.forbidden")
    await nothing_kept(store)


async def test_an_upload_for_someone_else_needs_a_mandate(
    cat: Catalogue, phone: Callable[[], Phone], store: ObjectStore
) -> None:
    principal = await citizen(phone(), name="张秀英")
    agent = await citizen(phone(), name="张伟")

    refused = await intent(agent, cat.item, cat.photos, principal_user_id=uid(principal))

    assert_envelope(refused, 403, "auth.forbidden")
    # A mandate for another item does not cover this one either.
    await grant_mandate(principal, agent, [cat.other_item])
    refused = await intent(agent, cat.item, cat.photos, principal_user_id=uid(principal))
    assert_envelope(refused, 403, "auth.forbidden")
    await nothing_kept(store)


# --------------------------------------------------------------------------------------------
# Idempotent completion, deduplication, deletion
# --------------------------------------------------------------------------------------------


def without_links(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("url", "thumbnail_url")}


async def test_completing_twice_gives_the_same_answer(
    cat: Catalogue, me: Phone, store: ObjectStore
) -> None:
    photo = images.jpeg_with_exif(1000, 800, orientation=3)
    issued = await posted(me, cat.item, cat.photos, photo)
    first = await complete(me, issued["upload_id"])
    objects = await keys(store)

    second = await complete(me, issued["upload_id"])

    assert first.status_code == second.status_code == 200
    assert without_links(second.json()) == without_links(first.json())
    # The links are signed anew (they expire), for the same objects.
    for name in ("url", "thumbnail_url"):
        assert urlsplit(second.json()[name]).path == urlsplit(first.json()[name]).path
    assert await keys(store) == objects
    assert await Upload.all().count() == 1

    # With an Idempotency-Key, a retry is answered byte for byte.
    headers = {"Idempotency-Key": "complete-retry-0001"}
    one = await me.call("POST", f"/api/v1/uploads/{issued['upload_id']}/complete", headers=headers)
    two = await me.call("POST", f"/api/v1/uploads/{issued['upload_id']}/complete", headers=headers)
    assert one.status_code == two.status_code == 200
    assert two.content == one.content and two.headers["Idempotent-Replayed"] == "true"


async def test_the_same_file_twice_is_stored_once(
    cat: Catalogue, me: Phone, store: ObjectStore, client: httpx.AsyncClient
) -> None:
    photo = images.jpeg_with_exif(900, 700, orientation=1)

    a = await uploaded(me, cat.item, cat.photos, photo)
    b = await uploaded(me, cat.item, cat.photos, photo)

    assert a["id"] != b["id"]
    ra, rb = await Upload.get(id=a["id"]), await Upload.get(id=b["id"])
    assert ra.object_key == rb.object_key and ra.thumbnail_key == rb.thumbnail_key
    assert await keys(store) == {ra.object_key, ra.thumbnail_key}

    assert (await me.call("DELETE", f"/api/v1/uploads/{a['id']}")).status_code == 204

    assert (await Upload.get(id=a["id"])).status == "deleted"
    assert_envelope(
        await me.call("GET", f"/api/v1/uploads/{a['id']}"), 404, "storage.upload_not_found"
    )
    assert await keys(store) == {ra.object_key, ra.thumbnail_key}
    still = await me.call("GET", f"/api/v1/uploads/{b['id']}")
    assert (await download(client, still.json()["url"])).status_code == 200

    assert (await me.call("DELETE", f"/api/v1/uploads/{b['id']}")).status_code == 204

    assert (await Upload.get(id=b["id"])).status == "deleted"
    assert await keys(store) == set()
    # Deleting again: the upload no longer exists for its owner either.
    assert_envelope(
        await me.call("DELETE", f"/api/v1/uploads/{b['id']}"), 404, "storage.upload_not_found"
    )


async def test_deleting_the_first_copy_while_the_second_completes_keeps_the_object(
    cat: Catalogue,
    me: Phone,
    store: Any,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deduplication under concurrency: the owner deletes an earlier copy of a photo while the
    completion of a later copy has found the shared object already stored and not yet marked its
    row ready. The later copy must stay readable."""
    photo = images.jpeg_with_exif(900, 700, orientation=1)
    first = await uploaded(me, cat.item, cat.photos, photo)
    issued = await posted(me, cat.item, cat.photos, photo)
    real_delete = store.delete

    async def delete(key: str) -> None:
        if key == issued["fields"]["key"]:  # the second completion, after its dedup check
            deleted = await me.call("DELETE", f"/api/v1/uploads/{first['id']}")
            assert deleted.status_code == 204
        await real_delete(key)

    monkeypatch.setattr(store, "delete", delete)
    second = await complete(me, issued["upload_id"])
    monkeypatch.undo()

    assert second.status_code == 200, second.text
    got = await download(client, second.json()["url"])
    assert got.status_code == 200, got.text
    row = await Upload.get(id=issued["upload_id"])
    assert await store.stat(row.object_key) is not None


# --------------------------------------------------------------------------------------------
# Who may read a file
# --------------------------------------------------------------------------------------------


async def test_another_citizen_cannot_see_my_file(cat: Catalogue, me: Phone, other: Phone) -> None:
    mine = await uploaded(me, cat.item, cat.photos, images.jpeg_with_exif(400, 300, 1))

    refused = await other.call("GET", f"/api/v1/uploads/{mine['id']}")

    assert_envelope(refused, 404, "storage.upload_not_found")
    assert (await other.call("GET", "/api/v1/uploads")).json() == {"uploads": []}


async def test_company_files_are_seen_by_members_with_view_not_by_revoked_agents(
    cat: Catalogue,
    phone: Callable[[], Phone],
    sandbox: httpx.AsyncClient,
    client: httpx.AsyncClient,
) -> None:
    rep = await citizen(phone(), name="李明")
    company = await company_of(rep, sandbox)
    clerk = await citizen(phone(), name="王芳")
    await make_agent(rep, company, clerk, ["apply", "view"])
    viewer = await citizen(phone(), name="刘洋")
    await make_agent(rep, company, viewer, ["view"])
    leaving = await citizen(phone(), name="陈静")
    leaving_id = await make_agent(rep, company, leaving, ["apply", "view"])

    issued = await policy(clerk, cat.item, cat.photos, size=1000, company_id=company)
    assert issued["fields"]["key"].startswith(f"incoming/c{company}/")
    photo = images.jpeg_with_exif(600, 400, orientation=1)
    assert (await post_to_store(client, issued, photo)).status_code == 204
    done = await complete(clerk, issued["upload_id"])
    assert done.status_code == 200, done.text
    row = await Upload.get(id=issued["upload_id"])
    assert (row.company_id, row.owner_user_id, row.uploaded_by) == (
        company,
        None,
        f"u:{uid(clerk)}",
    )
    assert row.object_key is not None and row.object_key.startswith(f"materials/c{company}/")
    path = f"/api/v1/uploads/{issued['upload_id']}"

    for member in (rep, viewer, leaving):
        seen = await member.call("GET", path)
        assert seen.status_code == 200, seen.text
        assert (await download(client, seen.json()["url"])).status_code == 200
    listed = await viewer.call("GET", "/api/v1/uploads", params={"company_id": company})
    assert [u["id"] for u in listed.json()["uploads"]] == [issued["upload_id"]]
    # Viewing is not applying: a view-only agent cannot delete the company's file.
    assert_envelope(await viewer.call("DELETE", path), 404, "storage.upload_not_found")

    revoked = await rep.call("DELETE", f"/api/v1/companies/{company}/agents/{leaving_id}")
    assert revoked.status_code == 204

    assert_envelope(await leaving.call("GET", path), 404, "storage.upload_not_found")
    assert_envelope(
        await leaving.call("GET", "/api/v1/uploads", params={"company_id": company}),
        403,
        "auth.forbidden",
    )
    assert (await Upload.get(id=issued["upload_id"])).status == "ready"


async def test_a_mandate_agent_uploads_for_and_sees_the_principals_files(
    cat: Catalogue,
    phone: Callable[[], Phone],
    client: httpx.AsyncClient,
) -> None:
    mother = await citizen(phone(), name="张秀英")
    son = await citizen(phone(), name="张伟")
    stranger = await citizen(phone(), name="王芳")
    mandate = await grant_mandate(mother, son, [cat.item])
    photo = images.jpeg_with_exif(640, 480, orientation=1)

    issued = await policy(son, cat.item, cat.photos, size=len(photo), principal_user_id=uid(mother))
    assert issued["fields"]["key"].startswith(f"incoming/u{uid(mother)}/")
    assert (await post_to_store(client, issued, photo)).status_code == 204
    done = await complete(son, issued["upload_id"])

    assert done.status_code == 200, done.text
    row = await Upload.get(id=issued["upload_id"])
    assert (row.owner_user_id, row.company_id, row.uploaded_by) == (
        uid(mother),
        None,
        f"u:{uid(son)}",
    )
    assert row.object_key is not None and row.object_key.startswith(f"materials/u{uid(mother)}/")
    path = f"/api/v1/uploads/{issued['upload_id']}"
    for person in (mother, son):
        seen = await person.call("GET", path)
        assert seen.status_code == 200, seen.text
        assert (await download(client, seen.json()["url"])).status_code == 200
    listed = await son.call(
        "GET", "/api/v1/uploads", params={"principal_user_id": uid(mother), "item_code": cat.item}
    )
    assert [u["id"] for u in listed.json()["uploads"]] == [issued["upload_id"]]
    # Without an item the list would reach items the mandate does not name.
    everything = await son.call("GET", "/api/v1/uploads", params={"principal_user_id": uid(mother)})
    assert_envelope(everything, 403, "auth.forbidden")
    assert_envelope(await stranger.call("GET", path), 404, "storage.upload_not_found")
    # Not an item the mandate names.
    refused = await intent(
        son, cat.other_item, cat.other_item_material, principal_user_id=uid(mother)
    )
    assert_envelope(refused, 403, "auth.forbidden")

    ended = await mother.call("DELETE", f"/api/v1/mandates/{mandate['id']}")
    assert ended.status_code == 204, ended.text
    assert_envelope(await son.call("GET", path), 404, "storage.upload_not_found")
    assert (await mother.call("GET", path)).status_code == 200


async def test_a_file_of_no_submitted_case_is_the_applicants_alone(
    hire: Hire, cat: Catalogue, me: Phone
) -> None:
    """Staff read a file once it is part of a submitted case of their department (the route
    matrix, ``test_route_authorization``, reads one); before that, not even the item's clerk
    does, and nothing is logged."""
    mine = await uploaded(me, cat.item, cat.photos, images.jpeg_with_exif(640, 480, 1))
    clerk, outsider = await hire(cat.lead, "clerk"), await hire(cat.other, "clerk")
    path = f"/api/v1/staff/uploads/{mine['id']}"

    for member in (clerk, outsider):
        assert_envelope(await member.call("GET", path), 404, "storage.upload_not_found")
    assert not await StaffRead.exists()
    # A citizen's token does not open the staff route, nor a staff token the citizen's.
    assert (await me.call("GET", path)).status_code == 401
    assert (await clerk.call("GET", f"/api/v1/uploads/{mine['id']}")).status_code == 401
    assert (await me.call("GET", f"/api/v1/uploads/{mine['id']}")).status_code == 200


async def test_download_links_expire_and_cannot_be_tampered_with(
    clean: Sanic,
    cat: Catalogue,
    me: Phone,
    phone: Callable[[], Phone],
    store: Any,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mine = await uploaded(me, cat.item, cat.photos, images.jpeg_with_exif(640, 480, 1))
    url = mine["url"]
    assert (await download(client, url)).status_code == 200
    lifetime = clean.ctx.settings.download_expires_s

    monkeypatch.setattr(
        store, "_clock", lambda: datetime.now(UTC) + timedelta(seconds=lifetime + 2)
    )
    message = assert_s3_error(await download(client, url), 403, "AccessDenied")
    assert "expired" in message
    monkeypatch.undo()
    assert (await download(client, url)).status_code == 200

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    signature = query["X-Amz-Signature"][0]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert_s3_error(
        await client.get(parts.path, params={**query, "X-Amz-Signature": flipped}),
        403,
        "SignatureDoesNotMatch",
    )
    # A longer lifetime than signed, or the same signature on another key, is refused too.
    assert_s3_error(
        await client.get(parts.path, params={**query, "X-Amz-Expires": "86400"}),
        403,
        "SignatureDoesNotMatch",
    )
    other = await citizen(phone(), name="王芳")
    theirs = await uploaded(other, cat.item, cat.photos, images.jpeg_with_exif(500, 300, 1))
    their_path = urlsplit(theirs["url"]).path
    assert_s3_error(await client.get(their_path, params=query), 403, "SignatureDoesNotMatch")
    assert_s3_error(await client.get(their_path), 403, "AccessDenied")


# --------------------------------------------------------------------------------------------
# A server fault is not the citizen's fault
# --------------------------------------------------------------------------------------------


async def test_a_missing_watermark_font_keeps_the_upload_for_a_retry(
    clean: Sanic,
    cat: Catalogue,
    me: Phone,
    store: ObjectStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    photo = images.jpeg_with_exif(640, 480, orientation=1)
    issued = await posted(me, cat.item, cat.watermarked, photo)
    broken = clean.ctx.settings.model_copy(update={"watermark_font": "/nonexistent/font.ttc"})
    monkeypatch.setattr(clean.ctx, "settings", broken)

    assert_envelope(await complete(me, issued["upload_id"]), 503, "storage.watermark_font_missing")

    monkeypatch.undo()
    retried = await complete(me, issued["upload_id"])
    assert retried.status_code == 200, retried.text
    assert await keys(store, "incoming/") == set()
