"""Helpers for upload tests: a catalogue with materials, the mini-program's upload flow over HTTP
(intent → ``wx.uploadFile`` to the store → completion), and looks into the object store.

The object store of the test application lives for the whole session (the ``clean`` fixture
empties tables and Redis, not the folder), so ``wipe_store`` empties it before each upload test.
"""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from sanic import Sanic

from storage.base import ObjectStore
from storage.models import Upload
from tests import factories
from tests.people import Phone

# --- the catalogue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    lead: str  # the item's lead department
    other: str  # a department that has nothing to do with the item
    item: str
    item_name: str
    photos: str  # jpg, png, heic, webp; 3 files
    any_file: str  # every format, 10 files
    single: str  # jpg only, one file
    watermarked: str  # jpg, watermark, 3 files
    other_item: str  # an item the lead department does not handle… for mandate coverage
    other_item_material: str


async def import_catalogue(app: Sanic) -> Catalogue:
    lead = factories.department(name="测试市不动产登记局")
    other = factories.department(name="测试市园林局")
    photos = factories.material(formats=["jpg", "png", "heic", "webp"], max_files=3)
    any_file = factories.material(formats=["jpg", "png", "heic", "webp", "pdf"], max_files=10)
    single = factories.material(formats=["jpg"], max_files=1)
    watermarked = factories.material(formats=["jpg", "png"], max_files=3, watermark=True)
    item = factories.guide(
        lead_department=lead["code"],
        name="不动产登记",
        materials=[photos, any_file, single, watermarked],
    )
    elsewhere_material = factories.material(formats=["jpg"], max_files=3)
    elsewhere = factories.guide(
        lead_department=other["code"], name="古树名木认养", materials=[elsewhere_material]
    )
    await factories.imported(app, departments=[lead, other], items=[item, elsewhere])
    return Catalogue(
        lead=lead["code"],
        other=other["code"],
        item=item["code"],
        item_name=item["name"],
        photos=photos["code"],
        any_file=any_file["code"],
        single=single["code"],
        watermarked=watermarked["code"],
        other_item=elsewhere["code"],
        other_item_material=elsewhere_material["code"],
    )


# --- the upload flow -------------------------------------------------------------------------

CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "heic": "image/heic",
    "webp": "image/webp",
    "pdf": "application/pdf",
}


async def intent(
    person: Phone,
    item: str,
    material: str,
    *,
    content_type: str = "image/jpeg",
    size: int = 1024,
    filename: str = "photo.jpg",
    **extra: Any,
) -> httpx.Response:
    body = {
        "purpose": "material",
        "item_code": item,
        "material_code": material,
        "filename": filename,
        "content_type": content_type,
        "size": size,
        **extra,
    }
    return await person.call("POST", "/api/v1/uploads", json=body)


async def policy(person: Phone, item: str, material: str, **kwargs: Any) -> dict[str, Any]:
    response = await intent(person, item, material, **kwargs)
    assert response.status_code == 201, response.text
    return dict(response.json())


def path_of(url: str) -> str:
    """The path and query of an absolute URL, to send through the ASGI client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def post_to_store(
    api: httpx.AsyncClient,
    issued: dict[str, Any],
    data: bytes,
    *,
    fields: dict[str, str] | None = None,
    filename: str = "wx-tmp-file.jpg",
    file_type: str = "application/octet-stream",
) -> httpx.Response:
    """What ``wx.uploadFile`` does: POST the form fields and the file (last) to the policy's url.
    The phone sends no bearer token there: the policy is the only credential."""
    form = dict(issued["fields"] if fields is None else fields)
    return await api.post(
        path_of(issued["url"]),
        data=form,
        files={issued["file_field"]: (filename, data, file_type)},
    )


async def complete(person: Phone, upload_id: str) -> httpx.Response:
    return await person.call("POST", f"/api/v1/uploads/{upload_id}/complete")


async def posted(
    person: Phone, item: str, material: str, data: bytes, *, size: int | None = None, **kwargs: Any
) -> dict[str, Any]:
    """An upload's policy (for a claimed ``size``, by default the real one) with ``data`` posted
    to the store under it (204), not yet completed; the policy."""
    claimed = len(data) if size is None else size
    issued = await policy(person, item, material, size=claimed, **kwargs)
    stored = await post_to_store(person.api, issued, data)
    assert stored.status_code == 204, stored.text
    return issued


async def upload(
    person: Phone,
    item: str,
    material: str,
    data: bytes,
    *,
    content_type: str = "image/jpeg",
    **extra: Any,
) -> httpx.Response:
    """The whole flow; the completion's answer."""
    issued = await posted(person, item, material, data, content_type=content_type, **extra)
    return await complete(person, issued["upload_id"])


async def uploaded(person: Phone, item: str, material: str, data: bytes, **kw: Any) -> dict:
    response = await upload(person, item, material, data, **kw)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready", body
    return dict(body)


async def download(api: httpx.AsyncClient, url: str) -> httpx.Response:
    """GET a presigned URL through the ASGI client, with the ``Host`` the URL names: the
    signature covers it, as on S3, and a phone sends exactly that host."""
    return await api.get(path_of(url), headers={"Host": urlsplit(url).netloc})


def decode_policy(fields: dict[str, str]) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(fields["policy"])))


def assert_s3_error(response: httpx.Response, status: int, code: str) -> str:
    """S3's XML error document (what the store answers, never our JSON envelope); its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/xml"), response.headers
    root = ET.fromstring(response.content)
    assert root.tag == "Error"
    assert root.findtext("Code") == code, response.text
    return root.findtext("Message") or ""


# --- the store -------------------------------------------------------------------------------


async def keys(store: ObjectStore, prefix: str = "") -> set[str]:
    return {info.key async for info in store.list(prefix)}


async def wipe_store(store: ObjectStore) -> None:
    for key in await keys(store):
        await store.delete(key)


async def assert_nothing_behind(
    store: ObjectStore, upload_id: str | None, *, statuses: tuple[str | None, ...]
) -> None:
    """No object of the upload under incoming/ or materials/, and its row absent (``None`` in
    ``statuses``) or in one of ``statuses``."""
    incoming = await keys(store, "incoming/")
    materials = await keys(store, "materials/")
    if upload_id is None:
        assert incoming == set() and materials == set(), (incoming, materials)
        return
    assert not any(upload_id in key for key in incoming), incoming
    row = await Upload.get_or_none(id=upload_id)
    assert (row.status if row else None) in statuses, row and row.status
    if row is not None:
        assert row.object_key is None or row.object_key not in materials
        assert row.incoming_key not in incoming
