"""The life cycle of uploads: the scheduled clean-up job (``storage.service.cleanup``, run by
``zhangban cleanup`` and hourly inside the embedded server) and the deletion of a draft's files.

The job is driven with ``now`` in the future rather than by waiting: uploads never completed
(past the policy's expiry and a grace period), completed uploads never attached to a case within
``upload_orphan_hours``, and incoming objects no upload knows about are deleted; everything else
is kept.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sanic import Sanic

from core.clock import utcnow
from storage import service as storage
from storage.base import ObjectStore
from storage.local import LocalObjectStore
from storage.models import Upload
from tests import images
from tests.functional.test_http_edge import assert_envelope
from tests.people import Phone
from tests.processes import clean_env, zhangban
from tests.uploads import (
    Catalogue,
    complete,
    download,
    keys,
    policy,
    post_to_store,
    posted,
    uploaded,
)

NOTHING = {"abandoned": 0, "unattached": 0, "stray_incoming": 0}


async def run(clean: Sanic, now: datetime) -> dict[str, int]:
    return await storage.cleanup(store=clean.ctx.store, settings=clean.ctx.settings, now=now)


async def status(upload_id: str) -> str:
    return (await Upload.get(id=upload_id)).status


def photo(seed: int) -> bytes:
    """A small photo; a different seed gives different bytes (so no deduplication)."""
    return images.jpeg_with_exif(400 + seed, 300, orientation=1)


async def test_uploads_never_completed_are_deleted_after_expiry_and_grace(
    clean: Sanic, cat: Catalogue, me: Phone, store: ObjectStore, client: httpx.AsyncClient
) -> None:
    settings = clean.ctx.settings
    # Uploaded but never completed; a policy never used; a file refused at completion.
    posted = await policy(me, cat.item, cat.photos, size=1000)
    assert (await post_to_store(client, posted, photo(1))).status_code == 204
    unused = await policy(me, cat.item, cat.photos, size=1000)
    refused = await policy(me, cat.item, cat.any_file, size=3000)
    assert (await post_to_store(client, refused, images.exe_as_jpg())).status_code == 204
    assert_envelope(await complete(me, refused["upload_id"]), 422, "storage.type_not_allowed")
    done = await uploaded(me, cat.item, cat.photos, photo(2))
    assert await keys(store, "incoming/") == {posted["fields"]["key"]}
    start = datetime.now(UTC)
    give_up = timedelta(seconds=settings.upload_expires_s) + storage.PENDING_GRACE

    assert await run(clean, start) == NOTHING
    assert await run(clean, start + give_up - timedelta(minutes=1)) == NOTHING
    assert await status(posted["upload_id"]) == "pending"
    assert await keys(store, "incoming/") == {posted["fields"]["key"]}

    later = start + give_up + timedelta(minutes=1)
    report = await run(clean, later)

    assert report == {"abandoned": 3, "unattached": 0, "stray_incoming": 0}
    for issued in (posted, unused, refused):
        row = await Upload.get(id=issued["upload_id"])
        assert row.status == "deleted" and row.deleted_at is not None
        assert_envelope(
            await me.call("GET", f"/api/v1/uploads/{issued['upload_id']}"),
            404,
            "storage.upload_not_found",
        )
    assert_envelope(await complete(me, posted["upload_id"]), 404, "storage.upload_not_found")
    assert await keys(store, "incoming/") == set()
    # The completed upload is not theirs to delete (not yet an orphan).
    assert await status(done["id"]) == "ready"
    assert len(await keys(store, "materials/")) == 2
    assert await run(clean, later) == NOTHING


async def test_ready_uploads_never_attached_are_deleted_after_the_orphan_hours(
    clean: Sanic, cat: Catalogue, me: Phone, store: ObjectStore, client: httpx.AsyncClient
) -> None:
    orphan = await uploaded(me, cat.item, cat.photos, photo(1))
    attached = await uploaded(me, cat.item, cat.photos, photo(2))
    shared_kept = await uploaded(me, cat.item, cat.any_file, photo(3))
    shared_orphan = await uploaded(me, cat.item, cat.any_file, photo(3))
    pending = await policy(me, cat.item, cat.any_file, size=1000)
    rows = {r.id: r for r in await Upload.all()}
    assert rows[shared_kept["id"]].object_key == rows[shared_orphan["id"]].object_key

    attach = await storage.attach(
        upload_ids=[attached["id"], shared_kept["id"], pending["upload_id"]],
        case_id=41,
        now=utcnow(),
    )

    assert attach == 2  # only ready uploads can be attached
    assert (await Upload.get(id=attached["id"])).case_id == 41
    assert (await Upload.get(id=pending["upload_id"])).case_id is None
    start = datetime.now(UTC)
    orphan_age = timedelta(hours=clean.ctx.settings.upload_orphan_hours)
    assert clean.ctx.settings.upload_orphan_hours == 24
    assert await run(clean, start + orphan_age - timedelta(minutes=5)) == {
        "abandoned": 1,  # the pending one, long expired
        "unattached": 0,
        "stray_incoming": 0,
    }

    report = await run(clean, start + orphan_age + timedelta(minutes=5))

    assert report == {"abandoned": 0, "unattached": 2, "stray_incoming": 0}
    assert await status(orphan["id"]) == "deleted"
    assert await status(shared_orphan["id"]) == "deleted"
    assert await status(attached["id"]) == "ready"
    assert await status(shared_kept["id"]) == "ready"
    gone = rows[orphan["id"]]
    assert await store.stat(gone.object_key or "") is None
    assert await store.stat(gone.thumbnail_key or "") is None
    expected = set()
    for kept in (attached, shared_kept):
        row = rows[kept["id"]]
        expected |= {row.object_key, row.thumbnail_key}
        seen = await me.call("GET", f"/api/v1/uploads/{kept['id']}")
        assert seen.status_code == 200
        assert (await download(client, seen.json()["url"])).status_code == 200
    assert await keys(store) == expected
    # An attached file belongs to its case now: its owner cannot delete it on its own.
    assert_envelope(
        await me.call("DELETE", f"/api/v1/uploads/{attached['id']}"), 409, "storage.attached"
    )
    assert await run(clean, start + 10 * orphan_age) == NOTHING


async def test_stray_incoming_objects_are_deleted_once_old(
    clean: Sanic, cat: Catalogue, me: Phone, store: ObjectStore, client: httpx.AsyncClient
) -> None:
    stray = "incoming/u999999/0123456789abcdef01234567"
    await store.put(stray, b"\xff\xd8\xff" + bytes(100), content_type="image/jpeg")
    known = await policy(me, cat.item, cat.photos, size=1000)
    assert (await post_to_store(client, known, photo(1))).status_code == 204
    start = datetime.now(UTC)

    assert await run(clean, start) == NOTHING
    assert await keys(store, "incoming/") == {stray, known["fields"]["key"]}

    report = await run(clean, start + timedelta(hours=1))

    # The stray object is deleted as such; the known one with its upload, as abandoned.
    assert report == {"abandoned": 1, "unattached": 0, "stray_incoming": 1}
    assert await keys(store, "incoming/") == set()


async def test_the_draft_of_a_case_deleted_deletes_its_files(
    cat: Catalogue, me: Phone, store: ObjectStore
) -> None:
    first = await uploaded(me, cat.item, cat.photos, photo(1))
    copy = await uploaded(me, cat.item, cat.any_file, photo(1))  # the same object
    other_case = await uploaded(me, cat.item, cat.photos, photo(2))
    loose = await uploaded(me, cat.item, cat.photos, photo(3))
    assert await storage.attach(upload_ids=[first["id"], copy["id"]], case_id=7, now=utcnow()) == 2
    assert await storage.attach(upload_ids=[other_case["id"]], case_id=8, now=utcnow()) == 1
    rows = {r.id: r for r in await Upload.all()}

    deleted = await storage.delete_for_case(store=store, case_id=7, now=utcnow())

    assert deleted == 2
    assert await status(first["id"]) == "deleted"
    assert await status(copy["id"]) == "deleted"
    assert await store.stat(rows[first["id"]].object_key or "") is None
    assert await store.stat(rows[first["id"]].thumbnail_key or "") is None
    expected: set[Any] = set()
    for kept in (other_case, loose):
        row = rows[kept["id"]]
        expected |= {row.object_key, row.thumbnail_key}
        assert await status(kept["id"]) == "ready"
    assert await keys(store) == expected
    assert await storage.delete_for_case(store=store, case_id=7, now=utcnow()) == 0


async def test_an_upload_stuck_in_processing_is_cleaned_up(
    clean: Sanic, cat: Catalogue, me: Phone, store: ObjectStore
) -> None:
    issued = await posted(me, cat.item, cat.photos, photo(1), size=1000)
    # The completion claimed the upload, and its process died before it answered.
    await Upload.filter(id=issued["upload_id"]).update(status="processing")
    assert_envelope(await complete(me, issued["upload_id"]), 409, "storage.completion_running")

    await run(clean, datetime.now(UTC) + timedelta(days=2))

    assert await keys(store, "incoming/") == set()
    assert await status(issued["upload_id"]) == "deleted"


async def test_an_upload_deleted_while_its_completion_runs_stays_deleted(
    cat: Catalogue,
    me: Phone,
    store: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issued = await posted(me, cat.item, cat.photos, photo(1), size=1000)
    real_put = store.put

    async def put(key: str, data: bytes, *, content_type: str) -> None:
        if key.startswith("materials/") and not key.endswith(".thumb.jpg"):
            # The owner taps "delete" while the photo is being processed.
            deleted = await me.call("DELETE", f"/api/v1/uploads/{issued['upload_id']}")
            assert deleted.status_code == 204
        await real_put(key, data, content_type=content_type)

    monkeypatch.setattr(store, "put", put)
    await complete(me, issued["upload_id"])
    monkeypatch.undo()

    assert await status(issued["upload_id"]) == "deleted"
    assert_envelope(
        await me.call("GET", f"/api/v1/uploads/{issued['upload_id']}"),
        404,
        "storage.upload_not_found",
    )
    assert await keys(store) == set()


# --------------------------------------------------------------------------------------------
# The console command
# --------------------------------------------------------------------------------------------


@pytest.mark.skipif(
    os.environ.get("ZB_TEST_PROFILE", "embedded") != "embedded",
    reason="the console command with its own database runs once, on the embedded profile",
)
async def test_zhangban_cleanup_runs_the_job_and_prints_json(tmp_path: Path) -> None:
    env = clean_env(ZB_VAR_DIR=str(tmp_path))
    migrated = zhangban(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    # An incoming object nobody knows about, three hours old, in the installation's store.
    folder = LocalObjectStore(
        root=tmp_path / "objects",
        bucket="zhangban-materials",
        secret=b"not-the-installation-secret",
        public_base_url="http://127.0.0.1:8000",
    )
    await folder.ensure_bucket()
    stray = "incoming/u1/0123456789abcdef01234567"
    await folder.put(stray, b"\xff\xd8\xff" + bytes(100), content_type="image/jpeg")
    old = (datetime.now(UTC) - timedelta(hours=3)).timestamp()
    os.utime(tmp_path / "objects" / "zhangban-materials" / stray, (old, old))
    recent = "incoming/u1/76543210fedcba9876543210"
    await folder.put(recent, b"\xff\xd8\xff" + bytes(100), content_type="image/jpeg")

    result = zhangban(env, "cleanup")

    assert result.returncode == 0, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert report == {
        "uploads": {"abandoned": 0, "unattached": 0, "stray_incoming": 1},
        "refresh_tokens_purged": 0,
    }
    assert await folder.stat(stray) is None
    assert await folder.stat(recent) is not None

    again = zhangban(env, "cleanup")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["uploads"] == NOTHING
