"""Identity endpoints: login, tokens, profile, real name, companies, mandates, staff login."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json

from api import guards
from api.endpoint import Audience, Code, endpoint
from api.params import body
from api.schemas import In, IsoDay, Out
from auth import citizens, common, companies, staff
from auth.permissions import Action, staff_may
from cases import kernel
from catalog import service as catalog_service
from core.clock import utcnow
from core.errors import Forbidden, ValidationFailed, field_error

bp = Blueprint("identity", url_prefix="/api/v1")


# -- shapes -----------------------------------------------------------------------------------


class LoginIn(In):
    code: str = Field(min_length=1, max_length=128, description="code from wx.login()")


class RefreshIn(In):
    refresh_token: str = Field(min_length=10, max_length=200)


class PhoneIn(In):
    code: str = Field(min_length=1, max_length=128, description="code from getPhoneNumber")


class RealnameIn(In):
    name: str = Field(min_length=2, max_length=30)
    id_number: str = Field(min_length=1, max_length=32)


class FaceResultIn(In):
    verify_id: str = Field(min_length=1, max_length=128)


class CompanyIn(In):
    uscc: str = Field(min_length=1, max_length=32, description="统一社会信用代码")
    name: str = Field(min_length=2, max_length=100)


Scope = Literal["apply", "pay", "view"]


class InvitationIn(In):
    scopes: list[Scope] = Field(min_length=1, max_length=3, description="apply, pay, view")


class AcceptIn(In):
    code: str = Field(min_length=4, max_length=64)


class MandateIn(In):
    agent_name: str = Field(min_length=2, max_length=30)
    agent_id_number: str = Field(min_length=1, max_length=32)
    item_codes: list[Code] = Field(default_factory=list, max_length=50)
    ends_on: IsoDay = Field(description="YYYY-MM-DD")


class BindIn(In):
    bind_code: str = Field(min_length=4, max_length=32)
    code: str = Field(min_length=1, max_length=128)


class RevealIn(In):
    field: Literal["id_number", "phone"]
    reason: str = Field(min_length=4, max_length=200, description="why, recorded with the read")


class UserOut(Out):
    id: int
    realname_level: int
    real_name: str | None
    id_number: str | None = Field(description="masked, e.g. 3604**********0071")
    phone: str | None = Field(description="masked, e.g. 138****5678")
    sex: str | None
    age: int | None
    region_code: str | None


class TokensOut(Out):
    token_type: Literal["Bearer"]
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int


class LoginOut(TokensOut):
    user: UserOut


class StaffOut(Out):
    id: int
    username: str
    name: str
    department_code: str
    roles: list[str]
    active: bool
    wechat_bound: bool


class StaffLoginOut(TokensOut):
    staff: StaffOut


class FaceStartOut(Out):
    verify_id: str = Field(description="for wx.requestFacialVerify")
    expires_in: int


class CompanyOut(Out):
    id: int
    uscc: str
    name: str
    role: Literal["legal_rep", "agent"]
    scopes: list[str]


class CompanyList(Out):
    companies: list[CompanyOut]


class InvitationOut(Out):
    agent_id: int
    invite_code: str = Field(description="shown once: hand it to the future agent")
    scopes: list[str]
    expires_at: str | None


class AgentOut(Out):
    id: int
    name: str | None = Field(description="masked")
    scopes: list[str]
    status: Literal["invited", "expired", "active", "revoked"]
    expires_at: str | None = Field(description="an invitation not yet taken: when its code stops")


class AgentList(Out):
    agents: list[AgentOut]


class PersonRef(Out):
    id: int
    name: str = Field(description="masked")


class MandateOut(Out):
    id: int
    principal: PersonRef
    agent: PersonRef
    item_codes: list[str]
    item_names: list[str] = Field(description="the items' names, in the order of item_codes")
    ends_on: str
    active: bool
    status: Literal["active", "expired", "ended"]
    ended_at: str | None
    ended_by: Literal["principal", "agent"] | None


class MandateList(Out):
    given: list[MandateOut]
    held: list[MandateOut]


class RevealOut(Out):
    id_number: str | None = None
    phone: str | None = None


def _citizen(summary: str, tag: str, **kwargs: Any) -> Any:
    return endpoint(summary, tag=tag, audience=Audience.citizen, **kwargs)


def _anonymous(summary: str, **kwargs: Any) -> Any:
    return endpoint(summary, tag="auth", audience=Audience.anonymous, **kwargs)


def _deps(request: Request) -> common.AuthDeps:
    deps: common.AuthDeps = request.app.ctx.auth
    return deps


# -- citizen login and tokens ------------------------------------------------------------------


@bp.post("/auth/wechat/login")
@_anonymous("Log in with a wx.login code", body=LoginIn, out=LoginOut, errors=(403, 429))
async def login(request: Request) -> HTTPResponse:
    data = body(request, LoginIn)
    result = await citizens.login_wechat(
        deps=_deps(request), code=data.code, ip=guards.client_ip(request), now=utcnow()
    )
    return json(result, ensure_ascii=False)


@bp.post("/auth/refresh")
@_anonymous("Rotate a citizen refresh token", body=RefreshIn, out=TokensOut, errors=(401,))
async def refresh(request: Request) -> HTTPResponse:
    data = body(request, RefreshIn)
    pair = await common.refresh(
        deps=_deps(request), refresh_token=data.refresh_token, audience="citizen"
    )
    return json(pair.as_dict())


@bp.post("/auth/logout")
@_citizen("End this session", "session", ok=204)
async def logout(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    await common.logout(deps=_deps(request), principal=principal)
    return empty()


# -- profile and real name -------------------------------------------------------------------


@bp.get("/me")
@_citizen("My profile (identifiers masked)", "me", out=UserOut)
async def me(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    return json(
        await citizens.me(deps=_deps(request), user_id=principal.id, now=utcnow()),
        ensure_ascii=False,
    )


@bp.post("/me/phone")
@_citizen(
    "Bind my phone number from a getPhoneNumber code",
    "me",
    body=PhoneIn,
    out=UserOut,
    errors=(429,),
    idempotent=True,
)
async def bind_phone(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    data = body(request, PhoneIn)
    result = await citizens.bind_phone(
        deps=_deps(request), user_id=principal.id, code=data.code, now=utcnow()
    )
    return json(result, ensure_ascii=False)


@bp.post("/me/realname")
@_citizen(
    "Real-name level 1: name and ID number",
    "me",
    body=RealnameIn,
    out=UserOut,
    errors=(409, 429),
    idempotent=True,
)
async def realname(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    data = body(request, RealnameIn)
    result = await citizens.verify_realname(
        deps=_deps(request),
        user_id=principal.id,
        name=data.name,
        id_number=data.id_number,
        now=utcnow(),
    )
    return json(result, ensure_ascii=False)


@bp.post("/me/face")
@_citizen(
    "Real-name level 2, step 1: a verify_id for wx.requestFacialVerify",
    "me",
    out=FaceStartOut,
    errors=(403, 409, 429),
)
async def face_start(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    return json(await citizens.start_face(deps=_deps(request), user_id=principal.id, now=utcnow()))


@bp.post("/me/face/result")
@_citizen(
    "Real-name level 2, step 2: our server asks WeChat for the result",
    "me",
    body=FaceResultIn,
    out=UserOut,
    errors=(404,),
    idempotent=True,
)
async def face_result(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    data = body(request, FaceResultIn)
    result = await citizens.finish_face(
        deps=_deps(request), user_id=principal.id, verify_id=data.verify_id, now=utcnow()
    )
    return json(result, ensure_ascii=False)


# -- companies -------------------------------------------------------------------------------


@bp.get("/companies")
@_citizen("Companies I represent or act for", "companies", out=CompanyList)
async def my_companies(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    return json(await companies.list_companies(user_id=principal.id), ensure_ascii=False)


@bp.post("/companies")
@_citizen(
    "Register my company as its legal representative",
    "companies",
    body=CompanyIn,
    ok=201,
    out=CompanyOut,
    errors=(403, 404, 409),
    idempotent=True,
)
async def register_company(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    data = body(request, CompanyIn)
    result = await companies.register_company(
        deps=_deps(request), user_id=principal.id, uscc=data.uscc, name=data.name, now=utcnow()
    )
    return json(result, status=201, ensure_ascii=False)


@bp.post("/companies/<company_id:int>/invitations")
@_citizen(
    "Invite an agent (经办人) with scopes; returns a one-time code",
    "companies",
    action=Action.manage,
    target="company",
    body=InvitationIn,
    ok=201,
    out=InvitationOut,
    errors=(403,),
    idempotent=True,
)
async def invite(request: Request, company_id: int) -> HTTPResponse:
    principal = await guards.citizen(request)
    data = body(request, InvitationIn)
    result = await companies.invite_agent(
        deps=_deps(request),
        company_id=company_id,
        user_id=principal.id,
        scopes=list(data.scopes),
        now=utcnow(),
    )
    return json(result, status=201)


@bp.get("/companies/<company_id:int>/agents")
@_citizen(
    "A company's agents (legal representative only)",
    "companies",
    action=Action.manage,
    target="company",
    out=AgentList,
    errors=(403,),
)
async def agents(request: Request, company_id: int) -> HTTPResponse:
    principal = await guards.citizen(request)
    result = await companies.list_agents(
        deps=_deps(request), company_id=company_id, user_id=principal.id, now=utcnow()
    )
    return json(result, ensure_ascii=False)


@bp.delete("/companies/<company_id:int>/agents/<agent_id:int>")
@_citizen(
    "Revoke an agent, at once",
    "companies",
    action=Action.manage,
    target="company",
    ok=204,
    errors=(403,),
)
async def revoke_agent(request: Request, company_id: int, agent_id: int) -> HTTPResponse:
    principal = await guards.citizen(request)
    await companies.revoke_agent(
        company_id=company_id, user_id=principal.id, agent_id=agent_id, now=utcnow()
    )
    return empty()


@bp.post("/company-invitations/accept")
@_citizen(
    "Accept an invitation to act for a company",
    "companies",
    body=AcceptIn,
    out=CompanyOut,
    errors=(403, 409),
    idempotent=True,
)
async def accept(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    data = body(request, AcceptIn)
    result = await companies.accept_invitation(
        deps=_deps(request), user_id=principal.id, code=data.code, now=utcnow()
    )
    return json(result, ensure_ascii=False)


# -- family mandates -------------------------------------------------------------------------


@bp.get("/mandates")
@_citizen("Mandates I gave and hold", "mandates", out=MandateList)
async def mandates(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    found = await companies.list_mandates(user_id=principal.id, now=utcnow())
    views = found["given"] + found["held"]
    names = await catalog_service.item_names([c for v in views for c in v["item_codes"]])
    for view in views:
        view["item_names"] = [names.get(code, code) for code in view["item_codes"]]
    return json(found, ensure_ascii=False)


@bp.post("/mandates")
@_citizen(
    "Grant a family member a mandate to apply for me",
    "mandates",
    body=MandateIn,
    ok=201,
    out=MandateOut,
    errors=(403, 404),
    idempotent=True,
)
async def grant(request: Request) -> HTTPResponse:
    principal = await guards.citizen(request)
    data = body(request, MandateIn)
    # the items are the catalogue's: a code it has not published names nothing to apply for
    names = await catalog_service.item_names(data.item_codes)
    unknown = [
        field_error(f"item_codes[{i}]", "没有该办事事项，请从事项列表中选择。", "unknown_item")
        for i, code in enumerate(data.item_codes)
        if code not in names
    ]
    if unknown:
        raise ValidationFailed(unknown)
    result = await companies.grant_mandate(
        deps=_deps(request),
        principal_id=principal.id,
        agent_name=data.agent_name,
        agent_id_number=data.agent_id_number,
        item_codes=data.item_codes,
        ends_on=data.ends_on,
        now=utcnow(),
    )
    result["item_names"] = [names.get(code, code) for code in result["item_codes"]]
    return json(result, status=201, ensure_ascii=False)


@bp.delete("/mandates/<mandate_id:int>")
@_citizen(
    "End a mandate (either side)",
    "mandates",
    action=Action.manage,
    target="mandate",
    ok=204,
)
async def end(request: Request, mandate_id: int) -> HTTPResponse:
    principal = await guards.citizen(request)
    await companies.end_mandate(user_id=principal.id, mandate_id=mandate_id, now=utcnow())
    return empty()


# -- staff login -----------------------------------------------------------------------------


@bp.post("/staff/auth/bind")
@_anonymous(
    "Bind my WeChat to my staff account with the administrator's code",
    body=BindIn,
    out=StaffLoginOut,
    errors=(403, 409, 429),
)
async def staff_bind(request: Request) -> HTTPResponse:
    data = body(request, BindIn)
    result = await staff.bind_staff_wechat(
        deps=_deps(request),
        bind_code=data.bind_code,
        code=data.code,
        ip=guards.client_ip(request),
        now=utcnow(),
    )
    return json(result, ensure_ascii=False)


@bp.post("/staff/auth/login")
@_anonymous("Staff log in with WeChat", body=LoginIn, out=StaffLoginOut, errors=(403, 429))
async def staff_login(request: Request) -> HTTPResponse:
    data = body(request, LoginIn)
    result = await staff.staff_login(
        deps=_deps(request), code=data.code, ip=guards.client_ip(request)
    )
    return json(result, ensure_ascii=False)


@bp.post("/staff/auth/refresh")
@_anonymous("Rotate a staff refresh token", body=RefreshIn, out=TokensOut, errors=(401,))
async def staff_refresh(request: Request) -> HTTPResponse:
    data = body(request, RefreshIn)
    pair = await common.refresh(
        deps=_deps(request), refresh_token=data.refresh_token, audience="staff"
    )
    return json(pair.as_dict())


@bp.post("/staff/auth/logout")
@endpoint("End this staff session", tag="session", audience=Audience.staff, target="self", ok=204)
async def staff_logout(request: Request) -> HTTPResponse:
    await guards.staff(request)
    await common.logout(deps=_deps(request), principal=request.ctx.principal)
    return empty()


@bp.get("/staff/me")
@endpoint("My staff account", tag="staff", audience=Audience.staff, target="self", out=StaffOut)
async def staff_me(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    return json(staff.staff_view(await staff.get_staff(staff_id=subject.id)), ensure_ascii=False)


@bp.post("/staff/users/<user_id:int>/identity")
@endpoint(
    "See a citizen's full ID or phone number, with a recorded reason",
    tag="staff",
    audience=Audience.staff,
    action=Action.reveal,
    target="person",
    body=RevealIn,
    out=RevealOut,
    errors=(404,),
)
async def reveal(request: Request, user_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, RevealIn)
    if not staff_may(subject, Action.reveal, await kernel.person_as_handled(user_id=user_id)):
        raise Forbidden(
            "您所在部门没有该申请人的办件，不能查看其完整身份信息。",
            code="auth.no_case_of_person",
        )
    result = await citizens.reveal_identity(
        deps=_deps(request),
        staff_id=subject.id,
        user_id=user_id,
        field=data.field,
        reason=data.reason,
        request_id=request.ctx.request_id,
    )
    return json(result, headers={"Cache-Control": "no-store"})
