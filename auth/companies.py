"""Companies and family mandates: who may act for whom.

A legal representative registers their company (confirmed by the registry) and invites agents
(经办人) with scopes; a citizen gives a relative a mandate (代办) for some items, until a date.
Whether one of them may act on a case is ``auth.permissions``'s rule, which reads these rows
afresh every time: a revoked agent or an ended mandate loses access at once.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from auth.common import (
    ID_CONTEXT,
    INVITE_CONTEXT,
    AuthDeps,
    get_user,
    require_realname_level,
    seconds_until_local_midnight,
)
from auth.errors import (
    CompanyNotFound,
    InvitationInvalid,
    MandateNotFound,
    NotLegalRepresentative,
)
from auth.identifiers import check_id_number, check_uscc
from auth.models import AgentScope, Company, CompanyAgent, Mandate, RealnameLevel, User
from auth.permissions import Action, Owned, Relation, Standing, Subject, can, citizen_may
from core.clock import local_today
from core.crypto import mask_name
from core.db import in_transaction, serialise
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from core.outbox import emit
from core.ratelimit import hit

MANDATE_GRANTS_PER_DAY = 10
INVITE_TTL = timedelta(days=7)


def company_view(company: Company, *, role: str, scopes: list[str]) -> dict[str, Any]:
    return {
        "id": company.id,
        "uscc": company.uscc,
        "name": company.name,
        "role": role,
        "scopes": scopes,
    }


async def register_company(
    *, deps: AuthDeps, user_id: int, uscc: str, name: str, now: datetime
) -> dict[str, Any]:
    """A legal representative registers their company, confirmed by the registry."""
    code = check_uscc(uscc)
    user = await get_user(user_id=user_id)
    require_realname_level(user.realname_level, RealnameLevel.L1)
    existing = await Company.get_or_none(uscc=code)
    if existing is not None:
        if existing.legal_rep_id == user_id:
            return company_view(existing, role="legal_rep", scopes=[s.value for s in AgentScope])
        raise Conflict("该企业已由其法定代表人注册。", code="auth.company_registered")
    record = await deps.registry.lookup(code)
    if record is None:
        raise NotFound(
            "登记机关没有该统一社会信用代码的记录，请核对。", code="auth.company_not_in_registry"
        )
    if record.name != name.strip():
        raise ValidationFailed([field_error("name", "企业名称与登记信息不一致。", "mismatch")])
    rep_hash = deps.cipher.lookup_hash(record.legal_rep_id_number.upper(), context=ID_CONTEXT)
    if user.id_number_hash != rep_hash or user.real_name != record.legal_rep_name:
        raise NotLegalRepresentative()
    try:
        company = await Company.create(
            uscc=code, name=record.name, legal_rep_id=user_id, verified_at=now
        )
    except IntegrityError:
        raise Conflict("该企业已注册。", code="auth.company_registered") from None
    return company_view(company, role="legal_rep", scopes=[s.value for s in AgentScope])


async def _company_of_rep(company_id: int, user_id: int, now: datetime) -> Company:
    """The company, for its legal representative (``Action.manage``, ``auth.permissions``)."""
    company = await Company.get_or_none(id=company_id)
    if company is None:
        raise CompanyNotFound()
    subject = Subject(kind="user", id=user_id)
    if not await can(subject, Action.manage, Owned(company_id=company.id), today=local_today(now)):
        raise Forbidden("只有企业法定代表人可以管理经办人。", code="auth.not_company_rep")
    return company


def _check_scopes(scopes: list[str]) -> list[str]:
    allowed = {s.value for s in AgentScope}
    if not scopes or any(s not in allowed for s in scopes):
        raise ValidationFailed(
            [
                field_error(
                    "scopes", "权限只能是 apply（申请）、pay（缴费）、view（查看）。", "invalid"
                )
            ]
        )
    return sorted(set(scopes))


async def invite_agent(
    *, deps: AuthDeps, company_id: int, user_id: int, scopes: list[str], now: datetime
) -> dict[str, Any]:
    """A one-time invitation code the representative hands to the future agent."""
    await _company_of_rep(company_id, user_id, now)
    clean_scopes = _check_scopes(scopes)
    code = secrets.token_urlsafe(12)
    agent = await CompanyAgent.create(
        company_id=company_id,
        scopes=clean_scopes,
        invite_code_hash=deps.cipher.lookup_hash(code, context=INVITE_CONTEXT),
        invite_expires_at=now + INVITE_TTL,
    )
    return {
        "agent_id": agent.id,
        "invite_code": code,
        "scopes": clean_scopes,
        "expires_at": agent.invite_expires_at.isoformat() if agent.invite_expires_at else None,
    }


async def accept_invitation(
    *, deps: AuthDeps, user_id: int, code: str, now: datetime
) -> dict[str, Any]:
    user = await get_user(user_id=user_id)
    require_realname_level(user.realname_level, RealnameLevel.L1)
    digest = deps.cipher.lookup_hash(code.strip(), context=INVITE_CONTEXT)
    agent = await CompanyAgent.get_or_none(invite_code_hash=digest)
    if (
        agent is None
        or agent.revoked_at is not None
        or (agent.invite_expires_at is not None and agent.invite_expires_at < now)
    ):
        raise InvitationInvalid()
    company = await Company.get(id=agent.company_id)
    if company.legal_rep_id == user_id:
        raise Conflict("法定代表人无需再作为经办人加入。", code="auth.already_member")
    async with in_transaction() as conn:
        # One agent row per person and company, even when two invitations are accepted at once.
        await serialise(conn, f"company-agent|{company.id}|{user_id}")
        if (
            await CompanyAgent.filter(company_id=company.id, user_id=user_id, revoked_at=None)
            .using_db(conn)
            .exists()
        ):
            raise Conflict("您已是该企业的经办人。", code="auth.already_member")
        moved = (
            await CompanyAgent.filter(id=agent.id, user_id=None, revoked_at=None)
            .using_db(conn)
            .update(user_id=user_id, accepted_at=now, invite_code_hash=None)
        )
        if moved:
            await emit(
                "company.agent_added",
                {
                    "company_id": company.id,
                    "agent_id": agent.id,
                    "user_id": user_id,
                    "legal_rep_id": company.legal_rep_id,
                },
                using_db=conn,
            )
    if not moved:
        raise InvitationInvalid()
    return company_view(company, role="agent", scopes=list(agent.scopes))


async def revoke_agent(*, company_id: int, user_id: int, agent_id: int, now: datetime) -> None:
    """Takes effect at once: every permission check reads the agent row afresh."""
    company = await _company_of_rep(company_id, user_id, now)
    async with in_transaction() as conn:
        agent = (
            await CompanyAgent.filter(id=agent_id, company_id=company_id, revoked_at=None)
            .using_db(conn)
            .first()
        )
        updated = (
            await CompanyAgent.filter(id=agent_id, company_id=company_id, revoked_at=None)
            .using_db(conn)
            .update(revoked_at=now)
        )
        if updated and agent is not None and agent.user_id is not None:
            await emit(
                "company.agent_removed",
                {
                    "company_id": company_id,
                    "agent_id": agent_id,
                    "user_id": agent.user_id,
                    "legal_rep_id": company.legal_rep_id,
                },
                using_db=conn,
            )
    if not updated and not await CompanyAgent.filter(id=agent_id, company_id=company_id).exists():
        raise NotFound("没有找到该经办人。", code="auth.agent_not_found")


async def list_agents(
    *, deps: AuthDeps, company_id: int, user_id: int, now: datetime
) -> dict[str, Any]:
    await _company_of_rep(company_id, user_id, now)
    agents = await CompanyAgent.filter(company_id=company_id).select_related("user").order_by("id")
    return {
        "agents": [
            {
                "id": a.id,
                # masked as everywhere a person is listed to another: the representative handed
                # out a code, and learns who took it without their full name
                "name": mask_name(a.user.real_name) if a.user else None,
                "scopes": list(a.scopes),
                "status": _agent_status(a, now),
                "expires_at": (
                    a.invite_expires_at.isoformat()
                    if a.invite_expires_at and not a.user_id
                    else None
                ),
            }
            for a in agents
        ]
    }


def _agent_status(agent: CompanyAgent, now: datetime) -> str:
    if agent.revoked_at:
        return "revoked"
    if agent.user_id:
        return "active"
    if agent.invite_expires_at is not None and agent.invite_expires_at < now:
        return "expired"  # the code no longer works (``accept_invitation``)
    return "invited"


async def list_companies(*, user_id: int) -> dict[str, Any]:
    represented = await Company.filter(legal_rep_id=user_id).order_by("id")
    agencies = (
        await CompanyAgent.filter(user_id=user_id, revoked_at=None)
        .select_related("company")
        .order_by("id")
    )
    all_scopes = [s.value for s in AgentScope]
    return {
        "companies": [company_view(c, role="legal_rep", scopes=all_scopes) for c in represented]
        + [company_view(a.company, role="agent", scopes=list(a.scopes)) for a in agencies]
    }


# --------------------------------------------------------------------------------------------
# Family mandates
# --------------------------------------------------------------------------------------------


def mandate_view(mandate: Mandate, *, principal: User, agent: User, today: date) -> dict[str, Any]:
    return {
        "id": mandate.id,
        "principal": {"id": principal.id, "name": mask_name(principal.real_name)},
        "agent": {"id": agent.id, "name": mask_name(agent.real_name)},
        "item_codes": list(mandate.item_codes),
        "ends_on": mandate.ends_on.isoformat(),
        "active": mandate.ended_at is None and mandate.ends_on >= today,
        "status": (
            "ended" if mandate.ended_at else ("active" if mandate.ends_on >= today else "expired")
        ),
        "ended_at": mandate.ended_at.isoformat() if mandate.ended_at else None,
        "ended_by": mandate.ended_by or None,
    }


def _one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


async def grant_mandate(
    *,
    deps: AuthDeps,
    principal_id: int,
    agent_name: str,
    agent_id_number: str,
    item_codes: list[str],
    ends_on: date,
    now: datetime,
) -> dict[str, Any]:
    """The principal names a relative by name and ID number; both must be at L1 or above."""
    today = local_today(now)
    principal = await get_user(user_id=principal_id)
    require_realname_level(principal.realname_level, RealnameLevel.L1)
    if ends_on <= today or ends_on > _one_year_after(today):
        raise ValidationFailed(
            [field_error("ends_on", "授权截止日期应在今天之后、一年以内。", "out_of_range")]
        )
    try:
        info = check_id_number(agent_id_number, today=today)
    except ValidationFailed as exc:
        # name the field of this request, so the phone highlights the right input
        for entry in exc.details.get("fields", []):
            entry["field"] = "agent_id_number"
        raise
    # Each try tells whether a name and an ID number belong to a user of the service: a few a
    # day are what a family needs, not a way to test who uses it.
    await hit(
        deps.redis,
        f"mandate:{principal_id}:{today.isoformat()}",
        limit=MANDATE_GRANTS_PER_DAY,
        window_s=seconds_until_local_midnight(now),
        message="今天授权的次数已用完，请明天再试。",
    )
    lookup = deps.cipher.lookup_hash(info.number, context=ID_CONTEXT)
    agent = await User.get_or_none(id_number_hash=lookup)
    if agent is None or agent.real_name != agent_name.strip() or agent.realname_level < 1:
        raise NotFound(
            "没有找到已实名认证的被授权人，请核对姓名和身份证号码，并请对方先完成实名认证。",
            code="auth.agent_user_not_found",
        )
    if agent.id == principal.id:
        raise ValidationFailed([field_error("agent_id_number", "不能授权给自己。", "self")])
    async with in_transaction() as conn:
        # One running mandate per principal and agent: end it to grant another.
        await serialise(conn, f"mandate|{principal.id}|{agent.id}")
        if (
            await Mandate.filter(
                principal_id=principal.id, agent_id=agent.id, ended_at=None, ends_on__gte=today
            )
            .using_db(conn)
            .exists()
        ):
            raise Conflict("您已授权此人代办，如需修改请先结束原授权。", code="auth.mandate_exists")
        mandate = await Mandate.create(
            principal=principal,
            agent=agent,
            item_codes=sorted(set(item_codes)),
            ends_on=ends_on,
            using_db=conn,
        )
        await emit(
            "mandate.granted",
            {"mandate_id": mandate.id, "principal_id": principal.id, "agent_id": agent.id},
            using_db=conn,
        )
    return mandate_view(mandate, principal=principal, agent=agent, today=today)


async def end_mandate(*, user_id: int, mandate_id: int, now: datetime) -> None:
    """Either side may end a mandate, at once."""
    mandate = await Mandate.get_or_none(id=mandate_id)
    if mandate is None or not citizen_may(
        Standing(user_id=user_id),
        Action.manage,
        Relation(frozenset({mandate.principal_id, mandate.agent_id})),
    ):
        raise MandateNotFound()
    side = "principal" if user_id == mandate.principal_id else "agent"
    async with in_transaction() as conn:
        moved = (
            await Mandate.filter(id=mandate_id, ended_at=None)
            .using_db(conn)
            .update(ended_at=now, ended_by=side)
        )
        if moved:
            await emit(
                "mandate.ended",
                {
                    "mandate_id": mandate_id,
                    "ended_by": side,
                    "principal_id": mandate.principal_id,
                    "agent_id": mandate.agent_id,
                },
                using_db=conn,
            )


async def list_mandates(*, user_id: int, now: datetime) -> dict[str, Any]:
    today = local_today(now)
    rows = (
        await Mandate.filter(Q(principal_id=user_id) | Q(agent_id=user_id))
        .select_related("principal", "agent")
        .order_by("-id")
    )
    views = [mandate_view(m, principal=m.principal, agent=m.agent, today=today) for m in rows]
    return {
        "given": [v for v, m in zip(views, rows, strict=True) if m.principal_id == user_id],
        "held": [v for v, m in zip(views, rows, strict=True) if m.agent_id == user_id],
    }
