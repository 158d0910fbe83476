"""Identity endpoints: login, tokens, profile, real name, companies, mandates, staff login."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json
from sanic_ext import openapi

from api import guards
from api.idempotency import idempotent
from api.params import body
from api.schemas import ErrorEnvelope
from auth import service as auth
from cases import service as cases
from core.errors import Forbidden

bp = Blueprint("identity", url_prefix="/api/v1")


# -- shapes -----------------------------------------------------------------------------------


class LoginIn(BaseModel):
    code: str = Field(min_length=1, max_length=128, description="code from wx.login()")


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=200)


class PhoneIn(BaseModel):
    code: str = Field(min_length=1, max_length=128, description="code from getPhoneNumber")


class RealnameIn(BaseModel):
    name: str = Field(min_length=2, max_length=30)
    id_number: str = Field(min_length=1, max_length=32)


class FaceResultIn(BaseModel):
    verify_id: str = Field(min_length=1, max_length=128)


class CompanyIn(BaseModel):
    uscc: str = Field(min_length=1, max_length=32, description="统一社会信用代码")
    name: str = Field(min_length=2, max_length=100)


class InvitationIn(BaseModel):
    scopes: list[str] = Field(min_length=1, max_length=3, description="apply, pay, view")


class AcceptIn(BaseModel):
    code: str = Field(min_length=4, max_length=64)


class MandateIn(BaseModel):
    agent_name: str = Field(min_length=2, max_length=30)
    agent_id_number: str = Field(min_length=1, max_length=32)
    item_codes: list[str] = Field(default_factory=list, max_length=50)
    ends_on: date


class BindIn(BaseModel):
    bind_code: str = Field(min_length=4, max_length=32)
    code: str = Field(min_length=1, max_length=128)


class RevealIn(BaseModel):
    field: str = Field(description="id_number or phone")
    reason: str = Field(min_length=1, max_length=200)


class UserOut(BaseModel):
    id: int
    realname_level: int
    real_name: str | None
    id_number: str | None = Field(description="masked, e.g. 3604**********0071")
    phone: str | None = Field(description="masked, e.g. 138****5678")
    sex: str | None
    age: int | None
    region_code: str | None


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int


class LoginOut(TokensOut):
    user: UserOut


class StaffOut(BaseModel):
    id: int
    username: str
    name: str
    department_code: str
    roles: list[str]
    active: bool
    wechat_bound: bool


class StaffLoginOut(TokensOut):
    staff: StaffOut


def _errors(*codes: int) -> list[openapi.definitions.Response]:
    return [openapi.definitions.Response(ErrorEnvelope, code) for code in codes]


def _doc(summary: str, tag: str, body_model: Any = None, out: Any = None, *errs: int) -> Any:
    responses = [openapi.definitions.Response(out, 200)] if out is not None else []
    return openapi.definition(
        summary=summary,
        tag=tag,
        body={"application/json": body_model} if body_model is not None else None,
        response=responses + _errors(*errs),
        secured={"bearer": []} if tag != "auth" else None,
    )


def _deps(request: Request) -> auth.AuthDeps:
    deps: auth.AuthDeps = request.app.ctx.auth
    return deps


# -- citizen login and tokens ------------------------------------------------------------------


@bp.post("/auth/wechat/login")
@_doc("Log in with a wx.login code", "auth", LoginIn, LoginOut, 400, 429, 503)
async def login(request: Request) -> HTTPResponse:
    data = body(request, LoginIn)
    result = await auth.login_wechat(
        deps=_deps(request), code=data.code, ip=guards.client_ip(request)
    )
    return json(result, ensure_ascii=False)


@bp.post("/auth/refresh")
@_doc("Rotate a citizen refresh token", "auth", RefreshIn, TokensOut, 400, 401)
async def refresh(request: Request) -> HTTPResponse:
    data = body(request, RefreshIn)
    pair = await auth.refresh(
        deps=_deps(request), refresh_token=data.refresh_token, audience="citizen"
    )
    return json(pair.as_dict())


@bp.post("/auth/logout")
@_doc("End this session", "session", None, None, 401)
async def logout(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    await auth.logout(deps=_deps(request), principal=principal)
    return empty()


# -- profile and real name -------------------------------------------------------------------


@bp.get("/me")
@_doc("My profile (identifiers masked)", "me", None, UserOut, 401)
async def me(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    return json(await auth.me(deps=_deps(request), user_id=principal.id), ensure_ascii=False)


@bp.post("/me/phone")
@idempotent
@_doc("Bind my phone number from a getPhoneNumber code", "me", PhoneIn, UserOut, 400, 401, 429)
async def bind_phone(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    data = body(request, PhoneIn)
    result = await auth.bind_phone(deps=_deps(request), user_id=principal.id, code=data.code)
    return json(result, ensure_ascii=False)


@bp.post("/me/realname")
@idempotent
@_doc("Real-name level 1: name and ID number", "me", RealnameIn, UserOut, 400, 401, 409, 429, 503)
async def realname(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    data = body(request, RealnameIn)
    result = await auth.verify_realname(
        deps=_deps(request), user_id=principal.id, name=data.name, id_number=data.id_number
    )
    return json(result, ensure_ascii=False)


@bp.post("/me/face")
@_doc(
    "Real-name level 2, step 1: a verify_id for wx.requestFacialVerify",
    "me",
    None,
    None,
    401,
    403,
    409,
    429,
)
async def face_start(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    return json(await auth.start_face(deps=_deps(request), user_id=principal.id))


@bp.post("/me/face/result")
@idempotent
@_doc(
    "Real-name level 2, step 2: our server asks WeChat for the result",
    "me",
    FaceResultIn,
    UserOut,
    400,
    401,
    404,
)
async def face_result(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    data = body(request, FaceResultIn)
    result = await auth.finish_face(
        deps=_deps(request), user_id=principal.id, verify_id=data.verify_id
    )
    return json(result, ensure_ascii=False)


# -- companies -------------------------------------------------------------------------------


@bp.get("/companies")
@_doc("Companies I represent or act for", "companies", None, None, 401)
async def my_companies(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    return json(await auth.list_companies(user_id=principal.id), ensure_ascii=False)


@bp.post("/companies")
@idempotent
@_doc(
    "Register my company as its legal representative",
    "companies",
    CompanyIn,
    None,
    400,
    401,
    403,
    404,
    409,
)
async def register_company(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    data = body(request, CompanyIn)
    result = await auth.register_company(
        deps=_deps(request), user_id=principal.id, uscc=data.uscc, name=data.name
    )
    return json(result, status=201, ensure_ascii=False)


@bp.post("/companies/<company_id:int>/invitations")
@idempotent
@_doc(
    "Invite an agent (经办人) with scopes; returns a one-time code",
    "companies",
    InvitationIn,
    None,
    400,
    401,
    403,
    404,
)
async def invite(request: Request, company_id: int) -> HTTPResponse:
    principal = await guards.citizen(request)
    data = body(request, InvitationIn)
    result = await auth.invite_agent(
        deps=_deps(request), company_id=company_id, user_id=principal.id, scopes=data.scopes
    )
    return json(result, status=201)


@bp.get("/companies/<company_id:int>/agents")
@_doc("A company's agents (legal representative only)", "companies", None, None, 401, 403, 404)
async def agents(request: Request, company_id: int) -> HTTPResponse:
    principal = await guards.citizen(request)
    result = await auth.list_agents(
        deps=_deps(request), company_id=company_id, user_id=principal.id
    )
    return json(result, ensure_ascii=False)


@bp.delete("/companies/<company_id:int>/agents/<agent_id:int>")
@_doc("Revoke an agent, at once", "companies", None, None, 401, 403, 404)
async def revoke_agent(request: Request, company_id: int, agent_id: int) -> HTTPResponse:
    principal = await guards.citizen(request)
    await auth.revoke_agent(company_id=company_id, user_id=principal.id, agent_id=agent_id)
    return empty()


@bp.post("/company-invitations/accept")
@idempotent
@_doc("Accept an invitation to act for a company", "companies", AcceptIn, None, 400, 401, 403, 409)
async def accept(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    data = body(request, AcceptIn)
    result = await auth.accept_invitation(deps=_deps(request), user_id=principal.id, code=data.code)
    return json(result, ensure_ascii=False)


# -- family mandates -------------------------------------------------------------------------


@bp.get("/mandates")
@_doc("Mandates I gave and hold", "mandates", None, None, 401)
async def mandates(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    return json(await auth.list_mandates(user_id=principal.id), ensure_ascii=False)


@bp.post("/mandates")
@idempotent
@_doc(
    "Grant a family member a mandate to apply for me",
    "mandates",
    MandateIn,
    None,
    400,
    401,
    403,
    404,
)
async def grant(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    data = body(request, MandateIn)
    result = await auth.grant_mandate(
        deps=_deps(request),
        principal_id=principal.id,
        agent_name=data.agent_name,
        agent_id_number=data.agent_id_number,
        item_codes=data.item_codes,
        ends_on=data.ends_on,
    )
    return json(result, status=201, ensure_ascii=False)


@bp.delete("/mandates/<mandate_id:int>")
@_doc("End a mandate (either side)", "mandates", None, None, 401, 404)
async def end(request: Request, mandate_id: int) -> HTTPResponse:
    principal = await guards.citizen(request)
    await auth.end_mandate(user_id=principal.id, mandate_id=mandate_id)
    return empty()


# -- staff login -----------------------------------------------------------------------------


@bp.post("/staff/auth/bind")
@_doc(
    "Bind my WeChat to my staff account with the administrator's code",
    "auth",
    BindIn,
    StaffLoginOut,
    400,
    403,
    409,
    429,
)
async def staff_bind(request: Request) -> HTTPResponse:
    data = body(request, BindIn)
    result = await auth.bind_staff_wechat(
        deps=_deps(request), bind_code=data.bind_code, code=data.code, ip=guards.client_ip(request)
    )
    return json(result, ensure_ascii=False)


@bp.post("/staff/auth/login")
@_doc("Staff log in with WeChat", "auth", LoginIn, StaffLoginOut, 400, 403, 429)
async def staff_login(request: Request) -> HTTPResponse:
    data = body(request, LoginIn)
    result = await auth.staff_login(
        deps=_deps(request), code=data.code, ip=guards.client_ip(request)
    )
    return json(result, ensure_ascii=False)


@bp.post("/staff/auth/refresh")
@_doc("Rotate a staff refresh token", "auth", RefreshIn, TokensOut, 400, 401)
async def staff_refresh(request: Request) -> HTTPResponse:
    data = body(request, RefreshIn)
    pair = await auth.refresh(
        deps=_deps(request), refresh_token=data.refresh_token, audience="staff"
    )
    return json(pair.as_dict())


@bp.post("/staff/auth/logout")
@_doc("End this staff session", "session", None, None, 401)
async def staff_logout(request: Request) -> HTTPResponse:
    await guards.staff(request)
    await auth.logout(deps=_deps(request), principal=request.ctx.principal)
    return empty()


@bp.get("/staff/me")
@_doc("My staff account", "staff", None, StaffOut, 401, 403)
async def staff_me(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    return json(auth.staff_view(await auth.get_staff(staff_id=subject.id)), ensure_ascii=False)


@bp.post("/staff/users/<user_id:int>/identity")
@_doc(
    "See a citizen's full ID or phone number, with a recorded reason",
    "staff",
    RevealIn,
    None,
    400,
    401,
    403,
    404,
)
async def reveal(request: Request, user_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    if not subject.roles & {"clerk", "reviewer", "approver", "admin"}:
        raise Forbidden("您的角色不能查看完整身份信息。", code="auth.forbidden")
    data = body(request, RevealIn)
    if not await cases.handles_person(
        department_code=subject.department_code or "", user_id=user_id
    ):
        raise Forbidden(
            "您所在部门没有该申请人的办件，不能查看其完整身份信息。",
            code="auth.no_case_of_person",
        )
    result = await auth.reveal_identity(
        deps=_deps(request),
        staff_id=subject.id,
        user_id=user_id,
        field=data.field,
        reason=data.reason,
        request_id=request.ctx.request_id,
    )
    return json(result, headers={"Cache-Control": "no-store"})
