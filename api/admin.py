"""Administration for staff: accounts of their own department, and the catalogue they own.

Who may administer what is ``auth.permissions``'s rule: a department's admins manage the
accounts of their department whose every role they may grant (a supervisor's or an admin's
account is managed from the command line only); its catalogue admins and admins its items.
The route's action is checked before anything is looked up (``api.endpoint``).
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from api import guards
from api.endpoint import Audience, endpoint
from api.identity import StaffOut
from api.params import body, body_object
from api.schemas import In, Out
from auth import staff
from auth.models import StaffRoleName
from auth.permissions import Action, StaffAccount, Subject, departments, require_staff
from catalog import service as catalog
from catalog.schemas import CODE_PATTERN, Guide
from core.clock import utcnow
from core.errors import Forbidden

bp = Blueprint("admin", url_prefix="/api/v1/admin")


class StaffIn(In):
    username: str = Field(pattern=r"^[a-z0-9_.-]{3,32}$")
    name: str = Field(min_length=2, max_length=32)
    roles: list[StaffRoleName] = Field(
        min_length=1, max_length=7, description="clerk, reviewer, approver, dispatcher, ..."
    )


class RolesIn(In):
    roles: list[StaffRoleName] = Field(min_length=1, max_length=7)


class StaffList(Out):
    staff: list[StaffOut]


class StaffCreatedOut(StaffOut):
    bind_code: str = Field(description="one-time WeChat binding code, valid 24 hours")


class BindCodeOut(Out):
    staff_id: int
    bind_code: str = Field(description="one-time WeChat binding code, valid 24 hours")


class VersionOut(Out):
    code: str
    version: int
    status: str
    published_at: str | None
    retired_at: str | None
    guide: dict[str, Any]


class VersionList(Out):
    versions: list[VersionOut]


_staff_route = partial(
    endpoint,
    tag="admin",
    audience=Audience.staff,
    action=Action.administer_staff,
    target="staff_account",
)

_catalog_route = partial(
    endpoint,
    tag="admin",
    audience=Audience.staff,
    action=Action.administer_catalog,
    target="item",
)

# -- staff accounts --------------------------------------------------------------------------


@bp.get("/staff")
@_staff_route("Staff of my department", out=StaffList)
async def list_staff(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    return json(
        await staff.list_staff(department_code=subject.department_code or ""), ensure_ascii=False
    )


@bp.post("/staff")
@_staff_route(
    "Create a staff account in my department; returns its one-time binding code",
    body=StaffIn,
    ok=201,
    out=StaffCreatedOut,
    errors=(409,),
    idempotent=True,
    headers={"Cache-Control": "no-store"},
)
async def create_staff(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, StaffIn)
    roles = staff.check_roles(list(data.roles))
    staff.require_administer(subject, StaffAccount(subject.department_code or "", frozenset(roles)))
    result = await staff.create_staff(
        cipher=request.app.ctx.auth.cipher,
        username=data.username,
        name=data.name,
        department_code=subject.department_code or "",
        roles=roles,
        created_by=f"s:{subject.id}",
        now=utcnow(),
    )
    return json(result, status=201, ensure_ascii=False, headers={"Cache-Control": "no-store"})


@bp.post("/staff/<staff_id:int>/bind-code")
@_staff_route(
    "A new one-time WeChat binding code (binding it ends the account's sessions)",
    out=BindCodeOut,
    errors=(404,),
    headers={"Cache-Control": "no-store"},
)
async def bind_code(request: Request, staff_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    result = await staff.new_bind_code(
        cipher=request.app.ctx.auth.cipher, admin=subject, staff_id=staff_id, now=utcnow()
    )
    return json(result, headers={"Cache-Control": "no-store"})


@bp.post("/staff/<staff_id:int>/deactivate")
@_staff_route("Deactivate an account: its sessions end at once", out=StaffOut, errors=(404,))
async def deactivate(request: Request, staff_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    result = await staff.set_staff_active(
        tokens=request.app.ctx.auth.tokens, admin=subject, staff_id=staff_id, active=False
    )
    return json(result, ensure_ascii=False)


@bp.post("/staff/<staff_id:int>/activate")
@_staff_route("Reactivate an account", out=StaffOut, errors=(404,))
async def activate(request: Request, staff_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    result = await staff.set_staff_active(
        tokens=request.app.ctx.auth.tokens, admin=subject, staff_id=staff_id, active=True
    )
    return json(result, ensure_ascii=False)


@bp.put("/staff/<staff_id:int>/roles")
@_staff_route("Replace an account's roles", body=RolesIn, out=StaffOut, errors=(404,))
async def roles(request: Request, staff_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, RolesIn)
    result = await staff.set_staff_roles(admin=subject, staff_id=staff_id, roles=list(data.roles))
    return json(result, ensure_ascii=False)


# -- catalogue -------------------------------------------------------------------------------


async def _parallel_of(code: str) -> list[str]:
    """The departments an item's current version approves in parallel (none for a new item)."""
    versions = (await catalog.list_versions(code=code))["versions"]
    published = [v for v in versions if v["status"] == "published"]
    owner = published[-1] if published else versions[0]
    return sorted(owner["guide"].get("parallel_departments") or [])


def _require_same_parallel(data: dict[str, Any], current: list[str]) -> None:
    """Naming another department to approve in parallel (并联) gives it work and its staff the
    applicants' cases: a department's admin cannot do that alone. The operator sets it with
    ``zhangban catalog import``; through this API a version keeps its item's parallel
    departments (a new item has none). Asked once the guide itself is valid, so that a bad
    field is named as such first."""
    wanted = catalog.parse_guide(data).parallel_departments
    if sorted(wanted) != current:
        raise Forbidden(
            "并联审批部门涉及其他部门，只能由系统运维人员通过目录导入设置。",
            code="catalog.parallel_departments_by_operator",
            details={"parallel_departments": current},
        )


async def _lead_of(code: str) -> str:
    """The department that owns an item: the lead of its published version, or of its first
    version while it has never been published (a draft cannot hand an item to another one)."""
    versions = (await catalog.list_versions(code=code))["versions"]
    published = [v for v in versions if v["status"] == "published"]
    owner = published[-1] if published else versions[0]
    return str(owner["guide"]["lead_department"])


def _require_catalog(subject: Subject, department: str) -> None:
    require_staff(
        subject,
        Action.administer_catalog,
        departments(department),
        "您只能管理本部门的事项。",
    )


@bp.post("/items")
@_catalog_route(
    "Create a draft item version (the same validation as the import)",
    body=Guide,
    ok=201,
    out=VersionOut,
    errors=(409,),
    idempotent=True,
)
async def create_draft(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body_object(request, Guide)
    _require_catalog(subject, str(data.get("lead_department", "")))
    code = data.get("code")
    # Only a well-formed code can name an item: any other is refused by the guide's own checks
    # below, and must not reach the database first (a 10,000-character code was a 500).
    if (
        isinstance(code, str)
        and re.fullmatch(CODE_PATTERN, code)
        and await catalog.item_exists(code=code)
    ):
        # a new version of an existing item: its owning department decides, not the draft's
        _require_catalog(subject, await _lead_of(code))
        _require_same_parallel(data, await _parallel_of(code))
    else:
        _require_same_parallel(data, [])
    result = await catalog.create_draft(guide=data, actor=f"s:{subject.id}")
    return json(result, status=201, ensure_ascii=False)


@bp.get("/items/<code:str>/versions")
@_catalog_route("Every version of an item", out=VersionList, errors=(404,))
async def versions(request: Request, code: str) -> HTTPResponse:
    subject = await guards.staff(request)
    _require_catalog(subject, await _lead_of(code))
    return json(await catalog.list_versions(code=code), ensure_ascii=False)


@bp.put("/items/<code:str>/versions/<number:int>")
@_catalog_route(
    "Edit a draft version (published versions never change)",
    body=Guide,
    out=VersionOut,
    errors=(404, 409),
)
async def update_draft(request: Request, code: str, number: int) -> HTTPResponse:
    subject = await guards.staff(request)
    _require_catalog(subject, await _lead_of(code))
    data = body_object(request, Guide)
    if data.get("lead_department") != subject.department_code:
        _require_catalog(subject, str(data.get("lead_department")))
    _require_same_parallel(data, await _parallel_of(code))
    result = await catalog.update_draft(
        code=code, number=number, guide=data, actor=f"s:{subject.id}"
    )
    return json(result, ensure_ascii=False)


@bp.post("/items/<code:str>/versions/<number:int>/publish")
@_catalog_route(
    "Publish a draft; the previous version is retired for new cases",
    out=VersionOut,
    errors=(404, 409),
)
async def publish(request: Request, code: str, number: int) -> HTTPResponse:
    subject = await guards.staff(request)
    _require_catalog(subject, await _lead_of(code))
    result = await catalog.publish(
        code=code, number=number, cache=request.app.ctx.catalog_cache, now=utcnow()
    )
    return json(result, ensure_ascii=False)


@bp.post("/items/<code:str>/versions/<number:int>/retire")
@_catalog_route("Retire a published version", out=VersionOut, errors=(404, 409))
async def retire(request: Request, code: str, number: int) -> HTTPResponse:
    subject = await guards.staff(request)
    _require_catalog(subject, await _lead_of(code))
    result = await catalog.retire(
        code=code, number=number, cache=request.app.ctx.catalog_cache, now=utcnow()
    )
    return json(result, ensure_ascii=False)
