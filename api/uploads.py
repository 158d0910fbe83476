"""Upload endpoints: a policy for ``wx.uploadFile``, completion, listing, links, deletion.

Who may upload for whom, and who may read a file, is decided by ``auth.permissions``: the file
belongs to a person or a company like the case it is for.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json

from api import guards
from api.endpoint import Audience, BigId, Code, IntId, UploadId, endpoint
from api.params import body, query
from api.schemas import In, Query, UploadIntentOut, UploadList, UploadOut
from auth.permissions import Action
from cases import materials
from core.clock import utcnow

bp = Blueprint("uploads", url_prefix="/api/v1")


class UploadIntentIn(In):
    purpose: Literal["material"] = "material"
    item_code: Code
    material_code: str = Field(min_length=1, max_length=64)
    case_id: BigId | None = Field(None, description="the case the file is for, once it exists")
    company_id: IntId | None = Field(None, description="upload for this company (agent: apply)")
    principal_user_id: IntId | None = Field(None, description="upload for a mandate's principal")
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=3, max_length=100)
    size: int = Field(ge=0, le=1_000_000_000, description="bytes, as the phone measured it")
    replaces: UploadId | None = Field(
        None,
        description=(
            "a file of this material (and case) that the new one replaces once it is ready: "
            "a correction's new photo of a material taking one file needs no deletion first, "
            "and the old file stays until the new one is verified"
        ),
    )


class UploadListQuery(Query):
    item_code: Code | None = None
    material_code: str | None = Field(None, max_length=64)
    company_id: IntId | None = None
    principal_user_id: IntId | None = None


_citizen = partial(endpoint, tag="uploads", audience=Audience.citizen)


def files(request: Request) -> materials.Files:
    """The file use cases' collaborators, from this worker's resources."""
    ctx = request.app.ctx
    return materials.Files(store=ctx.store, settings=ctx.settings, catalog_cache=ctx.catalog_cache)


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
    result = await materials.new_intent(
        files=files(request),
        subject=subject,
        purpose=data.purpose,
        item_code=data.item_code,
        material_code=data.material_code,
        case_id=data.case_id,
        company_id=data.company_id,
        principal_user_id=data.principal_user_id,
        filename=data.filename,
        content_type=data.content_type,
        size=data.size,
        now=utcnow(),
        replaces=data.replaces,
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
    view = await materials.complete_upload(
        files=files(request), subject=subject, upload_id=upload_id, now=utcnow()
    )
    return json(view, ensure_ascii=False)


@bp.get("/uploads/<upload_id:str>")
@_citizen(
    "One of my files, with short-lived links", action=Action.view, target="upload", out=UploadOut
)
async def get_one(request: Request, upload_id: str) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    view = await materials.file_for(
        files=files(request), subject=subject, upload_id=upload_id, now=utcnow()
    )
    return json(view, ensure_ascii=False)


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
    result = await materials.files_of(
        files=files(request),
        subject=subject,
        company_id=params.company_id,
        principal_user_id=params.principal_user_id,
        item_code=params.item_code,
        material_code=params.material_code,
        now=utcnow(),
    )
    return json(result, ensure_ascii=False)


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
    await materials.remove_file(
        files=files(request), subject=subject, upload_id=upload_id, now=utcnow()
    )
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
    view = await materials.staff_file(
        files=files(request),
        subject=subject,
        upload_id=upload_id,
        request_id=request.ctx.request_id,
        now=utcnow(),
    )
    return json(view, ensure_ascii=False)
