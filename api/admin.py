"""Administration for staff: accounts of their own department, and the catalogue they own."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from api import guards
from api.idempotency import idempotent
from api.params import body, json_object
from api.schemas import ErrorEnvelope
from auth import service as auth
from auth.models import StaffRole
from auth.permissions import Subject, require_administer
from catalog import service as catalog

bp = Blueprint("admin", url_prefix="/api/v1/admin")


class StaffIn(BaseModel):
    username: str = Field(pattern=r"^[a-z0-9_.-]{3,32}$")
    name: str = Field(min_length=2, max_length=32)
    roles: list[str] = Field(min_length=1, max_length=7)


class RolesIn(BaseModel):
    roles: list[str] = Field(min_length=1, max_length=7)


def _doc(summary: str, body_model: Any = None, *errs: int) -> Any:
    return openapi.definition(
        summary=summary,
        tag="admin",
        body={"application/json": body_model} if body_model is not None else None,
        response=[openapi.definitions.Response(ErrorEnvelope, code) for code in errs],
        secured={"bearer": []},
    )


async def _staff_admin(request: Request, staff_id: int | None = None) -> Subject:
    """An admin acting on their own department (and on a staff member of it, if named)."""
    subject = await guards.staff(request)
    department = subject.department_code or ""
    if staff_id is not None:
        department = (await auth.get_staff(staff_id=staff_id)).department_code
    require_administer(subject, role=StaffRole.admin, department_code=department)
    return subject


# -- staff accounts --------------------------------------------------------------------------


@bp.get("/staff")
@_doc("Staff of my department", None, 401, 403)
async def list_staff(request: Request) -> HTTPResponse:
    subject = await _staff_admin(request)
    return json(
        await auth.list_staff(department_code=subject.department_code or ""), ensure_ascii=False
    )


@bp.post("/staff")
@idempotent
@_doc(
    "Create a staff account in my department; returns its one-time binding code",
    StaffIn,
    400,
    401,
    403,
    409,
)
async def create_staff(request: Request) -> HTTPResponse:
    subject = await _staff_admin(request)
    data = body(request, StaffIn)
    auth.check_grantable(data.roles)
    result = await auth.create_staff(
        deps=None,
        cipher=request.app.ctx.auth.cipher,
        username=data.username,
        name=data.name,
        department_code=subject.department_code or "",
        roles=data.roles,
        created_by=f"s:{subject.id}",
    )
    return json(result, status=201, ensure_ascii=False, headers={"Cache-Control": "no-store"})


@bp.post("/staff/<staff_id:int>/bind-code")
@_doc("A new one-time WeChat binding code", None, 401, 403, 404)
async def bind_code(request: Request, staff_id: int) -> HTTPResponse:
    await _staff_admin(request, staff_id)
    result = await auth.new_bind_code(cipher=request.app.ctx.auth.cipher, staff_id=staff_id)
    return json(result, headers={"Cache-Control": "no-store"})


@bp.post("/staff/<staff_id:int>/deactivate")
@_doc("Deactivate an account: its sessions end at once", None, 401, 403, 404)
async def deactivate(request: Request, staff_id: int) -> HTTPResponse:
    await _staff_admin(request, staff_id)
    result = await auth.set_staff_active(deps=request.app.ctx.auth, staff_id=staff_id, active=False)
    return json(result, ensure_ascii=False)


@bp.post("/staff/<staff_id:int>/activate")
@_doc("Reactivate an account", None, 401, 403, 404)
async def activate(request: Request, staff_id: int) -> HTTPResponse:
    await _staff_admin(request, staff_id)
    result = await auth.set_staff_active(deps=request.app.ctx.auth, staff_id=staff_id, active=True)
    return json(result, ensure_ascii=False)


@bp.put("/staff/<staff_id:int>/roles")
@_doc("Replace an account's roles", RolesIn, 400, 401, 403, 404)
async def roles(request: Request, staff_id: int) -> HTTPResponse:
    await _staff_admin(request, staff_id)
    data = body(request, RolesIn)
    auth.check_grantable(data.roles)
    return json(await auth.set_staff_roles(staff_id=staff_id, roles=data.roles), ensure_ascii=False)


# -- catalogue -------------------------------------------------------------------------------


async def _catalog_admin(request: Request, lead_department: str) -> Subject:
    subject = await guards.staff(request)
    require_administer(subject, role=StaffRole.catalog_admin, department_code=lead_department)
    return subject


async def _lead_of(code: str) -> str:
    """The department that owns an item: the lead of its published version, or of its first
    version while it has never been published (a draft cannot hand an item to another one)."""
    versions = (await catalog.list_versions(code=code))["versions"]
    published = [v for v in versions if v["status"] == "published"]
    owner = published[-1] if published else versions[0]
    return str(owner["guide"]["lead_department"])


@bp.post("/items")
@idempotent
@_doc("Create a draft item version (the same validation as the import)", None, 400, 401, 403)
async def create_draft(request: Request) -> HTTPResponse:
    data = json_object(request)
    subject = await _catalog_admin(request, str(data.get("lead_department", "")))
    code = data.get("code")
    if isinstance(code, str) and await catalog.item_exists(code=code):
        # a new version of an existing item: its owning department decides, not the draft's
        require_administer(
            subject, role=StaffRole.catalog_admin, department_code=await _lead_of(code)
        )
    result = await catalog.create_draft(guide=data, actor=f"s:{subject.id}")
    return json(result, status=201, ensure_ascii=False)


@bp.get("/items/<code:str>/versions")
@_doc("Every version of an item", None, 401, 403, 404)
async def versions(request: Request, code: str) -> HTTPResponse:
    await _catalog_admin(request, await _lead_of(code))
    return json(await catalog.list_versions(code=code), ensure_ascii=False)


@bp.put("/items/<code:str>/versions/<number:int>")
@_doc("Edit a draft version (published versions never change)", None, 400, 401, 403, 404, 409)
async def update_draft(request: Request, code: str, number: int) -> HTTPResponse:
    subject = await _catalog_admin(request, await _lead_of(code))
    data = json_object(request)
    if data.get("lead_department") != subject.department_code:
        require_administer(
            subject, role=StaffRole.catalog_admin, department_code=str(data.get("lead_department"))
        )
    result = await catalog.update_draft(
        code=code, number=number, guide=data, actor=f"s:{subject.id}"
    )
    return json(result, ensure_ascii=False)


@bp.post("/items/<code:str>/versions/<number:int>/publish")
@_doc("Publish a draft; the previous version is retired for new cases", None, 401, 403, 404, 409)
async def publish(request: Request, code: str, number: int) -> HTTPResponse:
    await _catalog_admin(request, await _lead_of(code))
    result = await catalog.publish(code=code, number=number, cache=request.app.ctx.catalog_cache)
    return json(result, ensure_ascii=False)


@bp.post("/items/<code:str>/versions/<number:int>/retire")
@_doc("Retire a published version", None, 401, 403, 404, 409)
async def retire(request: Request, code: str, number: int) -> HTTPResponse:
    await _catalog_admin(request, await _lead_of(code))
    result = await catalog.retire(code=code, number=number, cache=request.app.ctx.catalog_cache)
    return json(result, ensure_ascii=False)
