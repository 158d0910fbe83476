"""Upload endpoints: a policy for ``wx.uploadFile``, completion, listing, links, deletion.

Who may upload for whom, and who may read a file, is decided by ``auth.permissions``: the file
belongs to a person or a company like the case it is for.
"""

from __future__ import annotations

from functools import partial
from json import loads
from typing import Any, Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json

from api import guards
from api.endpoint import Audience, BigId, Code, IntId, endpoint
from api.params import body, query
from api.schemas import In, Query, UploadIntentOut, UploadList, UploadOut
from auth.permissions import Action, Owned, Subject, can, require
from auth.service import today_local
from cases import filing, kernel
from catalog import service as catalog
from core.clock import utcnow
from core.errors import ValidationFailed, field_error
from storage import service as storage
from storage.models import Upload

bp = Blueprint("uploads", url_prefix="/api/v1")


class UploadIntentIn(In):
    purpose: Literal["material"] = "material"
    item_code: Code
    material_code: str = Field(min_length=1, max_length=64)
    case_id: BigId | None = Field(None, description="the case the file is for, once it exists")
    company_id: IntId | None = Field(None, description="upload for this company (agent: apply)")
    principal_user_id: IntId | None = Field(
        None, description="upload for a mandate's principal"
    )
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=3, max_length=100)
    size: int = Field(ge=0, le=1_000_000_000, description="bytes, as the phone measured it")


class UploadListQuery(Query):
    item_code: Code | None = None
    material_code: str | None = Field(None, max_length=64)
    company_id: IntId | None = None
    principal_user_id: IntId | None = None


_citizen = partial(endpoint, tag="uploads", audience=Audience.citizen)

async def _guide(request: Request, item_code: str) -> dict[str, Any]:
    """The item's current guide from the catalogue cache: intents are on the hot path of every
    photo a phone takes."""
    guide: dict[str, Any] = loads(
        await catalog.get_guide_json(code=item_code, cache=request.app.ctx.catalog_cache)
    )
    return guide


async def _material_rule(
    request: Request, item_code: str, material_code: str
) -> storage.MaterialRule:
    """The material's file rules from the item's current guide."""
    guide = await _guide(request, item_code)
    material = next((m for m in guide["materials"] if m["code"] == material_code), None)
    if material is None:
        raise ValidationFailed(
            [field_error("material_code", "该事项没有这项材料。", "unknown_material")]
        )
    return storage.MaterialRule(
        formats=tuple(material["formats"]),
        max_files=int(material["max_files"]),
        watermark=bool(material.get("watermark")),
        item_name=str(guide["name"]),
    )


def _owner_for(subject: Subject, company_id: int | None, principal_id: int | None) -> storage.Owner:
    if company_id is not None and principal_id is not None:
        raise ValidationFailed(
            [field_error("company_id", "不能同时代企业和代他人上传。", "conflict")]
        )
    if company_id is not None:
        return storage.Owner(company_id=company_id)
    return storage.Owner(user_id=principal_id if principal_id is not None else subject.id)


def _owned(upload: Upload) -> Owned:
    return Owned(
        owner_user_id=upload.owner_user_id,
        company_id=upload.company_id,
        item_code=upload.item_code,
    )


async def _as_handled(upload: Upload) -> Owned | None:
    """The file as staff see it: part of its case (its departments, its status), or nothing
    for a file of no case, or of a draft (an applicant's files are theirs until submitted)."""
    if upload.case_id is None:
        return None
    case = await kernel.find_case(case_id=upload.case_id)
    return kernel.owned(case) if case else None


def _with_links(request: Request, upload: Upload, view: dict[str, Any]) -> dict[str, Any]:
    ctx = request.app.ctx
    return {**view, **storage.links(upload, store=ctx.store, settings=ctx.settings)}


@bp.post("/uploads")
@_citizen(
    "An upload policy for wx.uploadFile",
    action=Action.apply,
    target="new_upload",
    body=UploadIntentIn,
    ok=201,
    out=UploadIntentOut,
    errors=(403, 404, 409),
    idempotent=True,
)
async def create_intent(request: Request) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    data = body(request, UploadIntentIn)
    rule = await _material_rule(request, data.item_code, data.material_code)
    if data.case_id is not None:
        # The case decides: whose file it is, and whether this material may change now.
        case = await filing.check_upload_allowed(
            subject=subject, case_id=data.case_id, material_code=data.material_code, now=utcnow()
        )
        if case.item_code != data.item_code:
            raise ValidationFailed(
                [field_error("item_code", "文件所属事项与办件不一致。", "case_mismatch")]
            )
        owner = storage.Owner(user_id=case.applicant_user_id, company_id=case.company_id)
    else:
        owner = _owner_for(subject, data.company_id, data.principal_user_id)
        target = Owned(
            owner_user_id=owner.user_id, company_id=owner.company_id, item_code=data.item_code
        )
        await require(subject, Action.apply, target, today=today_local())
    result = await storage.create_intent(
        store=request.app.ctx.store,
        settings=request.app.ctx.settings,
        owner=owner,
        uploaded_by=f"u:{subject.id}",
        purpose=data.purpose,
        item_code=data.item_code,
        material_code=data.material_code,
        case_id=data.case_id,
        rule=rule,
        filename=data.filename,
        content_type=data.content_type,
        size=data.size,
    )
    return json(result, status=201, headers={"Cache-Control": "no-store"})


@bp.post("/uploads/<upload_id:str>/complete")
@_citizen(
    "Verify and process an uploaded file (retry-safe)",
    action=Action.apply,
    target="upload",
    out=UploadOut,
    errors=(409, 422),
    idempotent=True,
)
async def complete(request: Request, upload_id: str) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    upload = await storage.get_upload(upload_id=upload_id)
    if not await _may(subject, Action.apply, upload):
        raise storage.UploadNotFound()  # someone else's upload does not exist for this caller
    rule = (
        await _material_rule(request, upload.item_code, upload.material_code)
        if upload.item_code and upload.material_code
        else storage.MaterialRule()
    )
    view = await storage.complete(
        store=request.app.ctx.store, settings=request.app.ctx.settings, upload=upload, rule=rule
    )
    upload = await storage.get_upload(upload_id=upload_id)
    return json(_with_links(request, upload, view), ensure_ascii=False)


async def _may(subject: Subject, action: Action, upload: Upload) -> bool:

    return await can(subject, action, _owned(upload), today=today_local())


@bp.get("/uploads/<upload_id:str>")
@_citizen(
    "One of my files, with short-lived links", action=Action.view, target="upload", out=UploadOut
)
async def get_one(request: Request, upload_id: str) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    upload = await storage.get_upload(upload_id=upload_id)
    if not await _may(subject, Action.view, upload):
        raise storage.UploadNotFound()
    return json(_with_links(request, upload, storage.upload_view(upload)), ensure_ascii=False)


@bp.get("/uploads")
@_citizen(
    "My processed files (for the materials checklist), newest first",
    action=Action.view,
    target="upload_list",
    query=UploadListQuery,
    out=UploadList,
    errors=(403,),
)
async def list_mine(request: Request) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    params = query(request, UploadListQuery)
    owner = _owner_for(subject, params.company_id, params.principal_user_id)
    await require(
        subject,
        Action.view,
        Owned(owner_user_id=owner.user_id, company_id=owner.company_id, item_code=params.item_code),
        today=today_local(),
    )
    rows = await storage.list_uploads(
        owner=owner, item_code=params.item_code, material_code=params.material_code, limit=100
    )
    return json(
        {"uploads": [_with_links(request, u, storage.upload_view(u)) for u in rows]},
        ensure_ascii=False,
    )


@bp.delete("/uploads/<upload_id:str>")
@_citizen(
    "Delete a file not yet submitted with a case",
    action=Action.apply,
    target="upload",
    ok=204,
    errors=(403, 409),
)
async def delete(request: Request, upload_id: str) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    upload = await storage.get_upload(upload_id=upload_id)
    if not await _may(subject, Action.apply, upload):
        raise storage.UploadNotFound()
    replacing = False
    if upload.case_id is not None and await kernel.find_case(case_id=upload.case_id):
        # The case decides whether this file may go now (a draft, or listed for correction).
        await filing.check_upload_allowed(
            subject=subject,
            case_id=upload.case_id,
            material_code=upload.material_code or "",
            now=utcnow(),
        )
        replacing = True
    await storage.delete_upload(store=request.app.ctx.store, upload=upload, replacing=replacing)
    return empty()


@bp.get("/staff/uploads/<upload_id:str>")
@endpoint(
    "A file for staff of a handling department (every read is logged)",
    tag="uploads",
    audience=Audience.staff,
    action=Action.view,
    target="staff_upload",
    out=UploadOut,
)
async def staff_get(request: Request, upload_id: str) -> HTTPResponse:
    subject = await guards.staff(request)
    upload = await storage.get_upload(upload_id=upload_id)
    target = await _as_handled(upload)
    if target is None or not await can(subject, Action.view, target, today=today_local()):
        raise storage.UploadNotFound()
    await storage.record_staff_read(
        upload=upload, staff_id=subject.id, request_id=request.ctx.request_id
    )
    return json(_with_links(request, upload, storage.upload_view(upload)), ensure_ascii=False)
