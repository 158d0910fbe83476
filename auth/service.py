"""Identity use cases: login, phone, real name, tokens, companies, mandates, staff.

Every function takes its collaborators as keyword arguments (``deps``) and no web objects. Rules
that cost money or touch personal data are checked before the paid call: the ID number's shape,
its uniqueness, and the daily attempt limit.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from time import monotonic
from typing import Any

from redis.asyncio import Redis
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from auth.identifiers import IdNumberInfo, check_id_number, check_uscc
from auth.models import (
    AgentScope,
    Company,
    CompanyAgent,
    FaceVerification,
    Mandate,
    PersonalDataAccess,
    RealnameLevel,
    Staff,
    StaffRole,
    User,
)
from auth.permissions import (
    OPERATOR_ROLES,
    Action,
    Owned,
    PermissionDenied,
    Relation,
    StaffAccount,
    Standing,
    Subject,
    can,
    citizen_may,
    staff_may,
)
from auth.providers.base import (
    CompanyRegistry,
    ProviderUnavailable,
    RealnameOutcome,
    RealnameProvider,
)
from auth.tokens import Principal, TokenPair, TokenService
from core.crypto import FieldCipher, mask_id_number, mask_phone
from core.db import as_json, fetch_rows, serialise
from core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed, field_error
from core.outbox import emit
from core.ratelimit import hit, refund
from core.settings import Settings
from platforms.wechat import (
    FACE_VERIFY_TTL_S,
    WeChatClient,
    WeChatUnavailable,
    new_out_seq_no,
)

log = logging.getLogger("zhangban.auth")

ID_CONTEXT = "auth_user.id_number"
PHONE_CONTEXT = "auth_user.phone"
SESSION_KEY_CONTEXT = "auth_user.session_key"
BIND_CODE_CONTEXT = "auth_staff.bind_code"
INVITE_CONTEXT = "auth_company_agent.invite"
BIND_CODE_TTL = timedelta(hours=24)
MANDATE_GRANTS_PER_DAY = 10
INVITE_TTL = timedelta(days=7)


@dataclass(frozen=True)
class AuthDeps:
    """What the identity use cases talk to; built once per worker by the HTTP edge."""

    settings: Settings
    redis: Redis
    wechat: WeChatClient
    tokens: TokenService
    cipher: FieldCipher
    realname: RealnameProvider
    registry: CompanyRegistry


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class LevelTooLow(Forbidden):
    code = "auth.realname_level_too_low"
    message = "此事项需要更高的实名认证等级，请先完成实名认证。"


class IdNumberTaken(Conflict):
    code = "auth.id_number_taken"
    message = "该身份证号码已绑定其他账号。如有疑问，请携带身份证到窗口办理。"


class RealnameMismatch(DomainError):
    status = 400
    code = "auth.realname_mismatch"
    message = "姓名与身份证号码不一致，请核对后重试。"


class FaceFailed(DomainError):
    status = 400
    code = "auth.face_failed"
    message = "人脸核验未通过，请在光线充足处正对手机重试。"


class FaceIncomplete(DomainError):
    status = 400
    code = "auth.face_incomplete"
    message = "人脸核验尚未完成，请在微信中完成刷脸后再试。"


#: verify_ret values that settle an attempt as failed (PROTOCOLS.md: parameter, face, identity
#: and comparison failures); anything else but 10000 means the phone has not finished yet.
FACE_DEFINITIVE_FAILURES = frozenset({10001, 10002, 10003, 10004})


class UserNotFound(NotFound):
    code = "auth.user_not_found"
    message = "没有找到该用户。"


class StaffNotFound(NotFound):
    code = "auth.staff_not_found"
    message = "没有找到该工作人员账号。"


class StaffInactive(Forbidden):
    code = "auth.staff_inactive"
    message = "该工作人员账号已停用，请联系管理员。"


class NotStaff(Forbidden):
    code = "auth.not_staff"
    message = "该微信未绑定工作人员账号，请使用管理员提供的绑定码绑定。"


class BindCodeInvalid(DomainError):
    status = 400
    code = "auth.bind_code_invalid"
    message = "绑定码无效或已过期，请联系管理员重新获取。"


class CompanyNotFound(NotFound):
    code = "auth.company_not_found"
    message = "没有找到该企业。"


class NotLegalRepresentative(Forbidden):
    code = "auth.not_legal_representative"
    message = "登记信息显示您不是该企业的法定代表人，无法以法定代表人身份注册。"


class InvitationInvalid(DomainError):
    status = 400
    code = "auth.invitation_invalid"
    message = "邀请码无效、已使用或已过期，请联系企业法定代表人重新邀请。"


class MandateNotFound(NotFound):
    code = "auth.mandate_not_found"
    message = "没有找到该代办授权。"


# --------------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------------


def user_view(user: User, *, cipher: FieldCipher, today: date) -> dict[str, Any]:
    """What a user sees of themselves: identifiers masked, derived facts spelt out."""
    id_number = (
        cipher.decrypt(user.id_number_enc, context=ID_CONTEXT) if user.id_number_enc else None
    )
    phone = cipher.decrypt(user.phone_enc, context=PHONE_CONTEXT) if user.phone_enc else None
    return {
        "id": user.id,
        "realname_level": user.realname_level,
        "real_name": user.real_name or None,
        "id_number": mask_id_number(id_number) if id_number else None,
        "phone": mask_phone(phone) if phone else None,
        "sex": user.sex or None,
        "age": _age(user.birth_date, today) if user.birth_date else None,
        "region_code": user.region_code or None,
    }


def staff_view(staff: Staff) -> dict[str, Any]:
    return {
        "id": staff.id,
        "username": staff.username,
        "name": staff.name,
        "department_code": staff.department_code,
        "roles": list(staff.roles),
        "active": staff.active,
        "wechat_bound": staff.openid is not None,
    }


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def today_local() -> date:
    """Today in China (UTC+8), the calendar every limit and age is counted in."""
    return (datetime.now(UTC) + timedelta(hours=8)).date()


def _seconds_until_midnight() -> int:
    """A daily limit's window: it ends at midnight in China, so Retry-After says when."""
    now = datetime.now(UTC) + timedelta(hours=8)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return max(int((midnight - now.replace(tzinfo=UTC)).total_seconds()), 1)


# --------------------------------------------------------------------------------------------
# Login and tokens
# --------------------------------------------------------------------------------------------


async def login_wechat(*, deps: AuthDeps, code: str, ip: str) -> dict[str, Any]:
    """Exchange a ``wx.login`` code for our tokens; the user is created on first login."""
    limit = deps.settings.login_limit_per_min
    await hit(deps.redis, f"login:ip:{ip}", limit=limit, window_s=60)
    session = await deps.wechat.code_to_session(code)
    await hit(deps.redis, f"login:openid:{session.openid}", limit=limit, window_s=60)
    session_key_enc = deps.cipher.encrypt(session.session_key, context=SESSION_KEY_CONTEXT)
    user = await User.get_or_none(openid=session.openid)
    if user is None:
        try:
            user = await User.create(
                openid=session.openid, unionid=session.unionid, session_key_enc=session_key_enc
            )
            log.info("user created", extra={"user_id": user.id})
        except IntegrityError:  # a concurrent first login of the same openid won the race
            user = await User.get(openid=session.openid)
    updates: dict[str, Any] = {"session_key_enc": session_key_enc}
    if session.unionid and not user.unionid:
        updates["unionid"] = session.unionid
    await User.filter(id=user.id).update(**updates)
    pair = await deps.tokens.issue(subject=f"u:{user.id}", audience="citizen")
    return {**pair.as_dict(), "user": user_view(user, cipher=deps.cipher, today=today_local())}


async def refresh(*, deps: AuthDeps, refresh_token: str, audience: str) -> TokenPair:
    pair = await deps.tokens.refresh(refresh_token, audience=audience)  # type: ignore[arg-type]
    return pair


async def logout(*, deps: AuthDeps, principal: Principal) -> None:
    await deps.tokens.logout(principal)


async def get_user(*, user_id: int) -> User:
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise UserNotFound()
    return user


async def me(*, deps: AuthDeps, user_id: int) -> dict[str, Any]:
    return user_view(await get_user(user_id=user_id), cipher=deps.cipher, today=today_local())


async def bind_phone(*, deps: AuthDeps, user_id: int, code: str) -> dict[str, Any]:
    await hit(
        deps.redis,
        f"phone:{user_id}:{today_local().isoformat()}",
        limit=deps.settings.phone_bind_daily_limit,
        window_s=_seconds_until_midnight(),
        message="今天绑定手机号的次数已用完，请明天再试。",
    )
    user = await get_user(user_id=user_id)
    # WeChat checks that the code was issued to this user's openid.
    phone = await deps.wechat.phone_number(code, openid=user.openid)
    number = phone.pure_phone_number
    await User.filter(id=user_id).update(
        phone_enc=deps.cipher.encrypt(number, context=PHONE_CONTEXT),
        phone_hash=deps.cipher.lookup_hash(number, context=PHONE_CONTEXT),
    )
    return await me(deps=deps, user_id=user_id)


# --------------------------------------------------------------------------------------------
# Real name
# --------------------------------------------------------------------------------------------


def require_realname_level(level: int, required: int) -> None:
    """The one check of an item's minimum real-name level, used wherever a case is created."""
    if level < required:
        raise LevelTooLow(details={"required": required, "current": level})


async def _count_attempt(deps: AuthDeps, user_id: int) -> str:
    """Count one paid verification for today; returns the counter's key."""
    key = f"realname:{user_id}:{today_local().isoformat()}"
    await hit(
        deps.redis,
        key,
        limit=deps.settings.realname_daily_limit,
        window_s=_seconds_until_midnight(),
        message="今天的实名核验次数已用完，请明天再试。",
    )
    return key


async def verify_realname(
    *, deps: AuthDeps, user_id: int, name: str, id_number: str
) -> dict[str, Any]:
    """L1: the ID number checked locally, then name and number verified by the provider."""
    today = today_local()
    name = name.strip()
    if not (2 <= len(name) <= 30) or not name.replace("·", "").isalpha():
        raise ValidationFailed([field_error("name", "请输入身份证上的姓名。", "invalid")])
    info: IdNumberInfo = check_id_number(id_number, today=today)
    lookup = deps.cipher.lookup_hash(info.number, context=ID_CONTEXT)
    user = await get_user(user_id=user_id)
    if user.id_number_hash == lookup and user.realname_level >= RealnameLevel.L1:
        return user_view(user, cipher=deps.cipher, today=today)  # a retried request: done already
    if user.realname_level >= RealnameLevel.L1:
        raise Conflict(
            "您已完成实名认证，如需更正身份信息请到窗口办理。", code="auth.already_verified"
        )
    if await User.filter(id_number_hash=lookup).exclude(id=user_id).exists():
        raise IdNumberTaken()
    attempt_key = await _count_attempt(deps, user_id)
    try:
        outcome = await deps.realname.verify(name=name, id_number=info.number)
    except ProviderUnavailable:
        await refund(deps.redis, attempt_key)  # not billed, so not counted (the message says so)
        raise
    if outcome is not RealnameOutcome.match:
        log.info("realname mismatch", extra={"user_id": user_id})
        raise RealnameMismatch()
    try:
        updated = await User.filter(id=user_id, realname_level=RealnameLevel.L0).update(
            realname_level=RealnameLevel.L1,
            real_name=name,
            id_number_enc=deps.cipher.encrypt(info.number, context=ID_CONTEXT),
            id_number_hash=lookup,
            birth_date=info.birth_date,
            sex=info.sex,
            region_code=info.region_code,
            l1_verified_at=datetime.now(UTC),
        )
    except IntegrityError:
        raise IdNumberTaken() from None
    if not updated:
        raise Conflict("您已完成实名认证。", code="auth.already_verified")
    log.info("realname verified", extra={"user_id": user_id, "realname_level": 1})
    return await me(deps=deps, user_id=user_id)


async def start_face(*, deps: AuthDeps, user_id: int) -> dict[str, Any]:
    """L2, step 1: ask WeChat for a verify_id bound to the user's verified identity."""
    user = await get_user(user_id=user_id)
    require_realname_level(user.realname_level, RealnameLevel.L1)
    if user.realname_level >= RealnameLevel.L2:
        raise Conflict("您已完成人脸核验。", code="auth.already_verified")
    await _count_attempt(deps, user_id)
    id_number = deps.cipher.decrypt(user.id_number_enc or "", context=ID_CONTEXT)
    out_seq_no = new_out_seq_no()  # 5-32 of [0-9A-Za-z_-], unique per appid (getVerifyId)
    verify_id = await deps.wechat.face_verify_id(
        out_seq_no=out_seq_no, name=user.real_name, id_number=id_number, openid=user.openid
    )
    await FaceVerification.create(user=user, out_seq_no=out_seq_no, verify_id=verify_id)
    return {"verify_id": verify_id, "expires_in": FACE_VERIFY_TTL_S}


async def finish_face(*, deps: AuthDeps, user_id: int, verify_id: str) -> dict[str, Any]:
    """L2, step 2: settled only by our own query to WeChat, never by the phone's word."""
    attempt = await FaceVerification.get_or_none(verify_id=verify_id, user_id=user_id)
    if attempt is None:
        raise NotFound("没有找到这次人脸核验，请重新开始。", code="auth.face_not_found")
    user = await get_user(user_id=user_id)
    if attempt.status == "passed":
        return user_view(user, cipher=deps.cipher, today=today_local())
    if attempt.status == "failed":
        raise FaceFailed(details={"verify_ret": attempt.verify_ret})
    id_number = deps.cipher.decrypt(user.id_number_enc or "", context=ID_CONTEXT)
    try:
        # The same identity as start_face gave getverifyid: WeChat checks its cert_hash.
        verify_ret = await deps.wechat.face_result(
            verify_id=verify_id,
            out_seq_no=attempt.out_seq_no,
            name=user.real_name,
            id_number=id_number,
            openid=user.openid,
        )
    except WeChatUnavailable:
        age = datetime.now(UTC) - attempt.created_at
        if age >= timedelta(seconds=FACE_VERIFY_TTL_S):
            # Refused past the verify_id's life: no retry can help, only a new attempt.
            raise DomainError(
                "本次人脸核验已超过有效期，请重新发起人脸核验。",
                code="auth.face_expired",
                status=400,
            ) from None
        raise
    now = datetime.now(UTC)
    passed = verify_ret == 10000
    if not passed and verify_ret not in FACE_DEFINITIVE_FAILURES:
        # Not finished on the phone (or cancelled there): the attempt stays open for a retry.
        raise FaceIncomplete(details={"verify_ret": verify_ret})
    async with in_transaction():
        moved = await FaceVerification.filter(id=attempt.id, status="pending").update(
            status="passed" if passed else "failed", verify_ret=verify_ret, finished_at=now
        )
        if moved and passed:
            await User.filter(id=user_id, realname_level=RealnameLevel.L1).update(
                realname_level=RealnameLevel.L2, l2_verified_at=now
            )
    if not passed:
        raise FaceFailed(details={"verify_ret": verify_ret})
    log.info("face verified", extra={"user_id": user_id, "realname_level": 2})
    return await me(deps=deps, user_id=user_id)


async def reveal_identity(
    *, deps: AuthDeps, staff_id: int, user_id: int, field: str, reason: str, request_id: str
) -> dict[str, Any]:
    """A full identifier for staff who give a reason; every such read is logged."""
    if field not in ("id_number", "phone"):
        raise ValidationFailed([field_error("field", "只能查看身份证号码或手机号码。", "invalid")])
    if len(reason.strip()) < 4:
        raise ValidationFailed([field_error("reason", "请填写查看完整信息的事由。", "too_short")])
    user = await get_user(user_id=user_id)
    encrypted = user.id_number_enc if field == "id_number" else user.phone_enc
    if not encrypted:
        raise NotFound("该用户没有这项信息。", code="auth.identity_absent")
    context = ID_CONTEXT if field == "id_number" else PHONE_CONTEXT
    await PersonalDataAccess.create(
        staff_id=staff_id,
        user_id=user_id,
        field=field,
        reason=reason.strip(),
        request_id=request_id,
    )
    log.info(
        "personal data revealed", extra={"staff_id": staff_id, "user_id": user_id, "field": field}
    )
    return {field: deps.cipher.decrypt(encrypted, context=context)}


# --------------------------------------------------------------------------------------------
# Companies and agents
# --------------------------------------------------------------------------------------------


def company_view(company: Company, *, role: str, scopes: list[str]) -> dict[str, Any]:
    return {
        "id": company.id,
        "uscc": company.uscc,
        "name": company.name,
        "role": role,
        "scopes": scopes,
    }


async def register_company(*, deps: AuthDeps, user_id: int, uscc: str, name: str) -> dict[str, Any]:
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
            uscc=code, name=record.name, legal_rep_id=user_id, verified_at=datetime.now(UTC)
        )
    except IntegrityError:
        raise Conflict("该企业已注册。", code="auth.company_registered") from None
    return company_view(company, role="legal_rep", scopes=[s.value for s in AgentScope])


async def _company_of_rep(company_id: int, user_id: int) -> Company:
    """The company, for its legal representative (``Action.manage``, ``auth.permissions``)."""
    company = await Company.get_or_none(id=company_id)
    if company is None:
        raise CompanyNotFound()
    subject = Subject(kind="user", id=user_id)
    if not await can(subject, Action.manage, Owned(company_id=company.id), today=today_local()):
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
    *, deps: AuthDeps, company_id: int, user_id: int, scopes: list[str]
) -> dict[str, Any]:
    """A one-time invitation code the representative hands to the future agent."""
    await _company_of_rep(company_id, user_id)
    clean_scopes = _check_scopes(scopes)
    code = secrets.token_urlsafe(12)
    agent = await CompanyAgent.create(
        company_id=company_id,
        scopes=clean_scopes,
        invite_code_hash=deps.cipher.lookup_hash(code, context=INVITE_CONTEXT),
        invite_expires_at=datetime.now(UTC) + INVITE_TTL,
    )
    return {
        "agent_id": agent.id,
        "invite_code": code,
        "scopes": clean_scopes,
        "expires_at": agent.invite_expires_at.isoformat() if agent.invite_expires_at else None,
    }


async def accept_invitation(*, deps: AuthDeps, user_id: int, code: str) -> dict[str, Any]:
    user = await get_user(user_id=user_id)
    require_realname_level(user.realname_level, RealnameLevel.L1)
    digest = deps.cipher.lookup_hash(code.strip(), context=INVITE_CONTEXT)
    agent = await CompanyAgent.get_or_none(invite_code_hash=digest)
    now = datetime.now(UTC)
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
    if not moved:
        raise InvitationInvalid()
    return company_view(company, role="agent", scopes=list(agent.scopes))


async def revoke_agent(*, company_id: int, user_id: int, agent_id: int) -> None:
    """Takes effect at once: every permission check reads the agent row afresh."""
    await _company_of_rep(company_id, user_id)
    updated = await CompanyAgent.filter(id=agent_id, company_id=company_id, revoked_at=None).update(
        revoked_at=datetime.now(UTC)
    )
    if not updated and not await CompanyAgent.filter(id=agent_id, company_id=company_id).exists():
        raise NotFound("没有找到该经办人。", code="auth.agent_not_found")


async def list_agents(*, deps: AuthDeps, company_id: int, user_id: int) -> dict[str, Any]:
    await _company_of_rep(company_id, user_id)
    agents = await CompanyAgent.filter(company_id=company_id).select_related("user").order_by("id")
    return {
        "agents": [
            {
                "id": a.id,
                "name": a.user.real_name if a.user else None,
                "scopes": list(a.scopes),
                "status": "revoked" if a.revoked_at else ("active" if a.user_id else "invited"),
            }
            for a in agents
        ]
    }


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
    from core.crypto import mask_name

    return {
        "id": mandate.id,
        "principal": {"id": principal.id, "name": mask_name(principal.real_name)},
        "agent": {"id": agent.id, "name": mask_name(agent.real_name)},
        "item_codes": list(mandate.item_codes),
        "ends_on": mandate.ends_on.isoformat(),
        "active": mandate.ended_at is None and mandate.ends_on >= today,
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
) -> dict[str, Any]:
    """The principal names a relative by name and ID number; both must be at L1 or above."""
    today = today_local()
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
        window_s=_seconds_until_midnight(),
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
            raise Conflict(
                "您已授权此人代办，如需修改请先结束原授权。", code="auth.mandate_exists"
            )
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


async def end_mandate(*, user_id: int, mandate_id: int) -> None:
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
            .update(ended_at=datetime.now(UTC), ended_by=side)
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


async def list_mandates(*, user_id: int) -> dict[str, Any]:
    today = today_local()
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


# --------------------------------------------------------------------------------------------
# Staff
# --------------------------------------------------------------------------------------------


class OperatorAccount(Forbidden):
    code = "auth.role_not_grantable"
    message = "督查和管理员角色只能由系统运维人员在服务器上授予和调整。"


def require_administer(admin: Subject, account: StaffAccount) -> None:
    """``Action.administer_staff`` on ``account``: an admin of its department, and none of its
    roles beyond what a department admin may grant (supervisors and admins are managed from the
    command line only, so no admin can take over another's or a supervisor's account)."""
    if staff_may(admin, Action.administer_staff, account):
        return
    beyond = sorted(OPERATOR_ROLES & account.roles)
    if beyond and admin.department_code == account.department_code:
        raise OperatorAccount(details={"roles": beyond})
    raise PermissionDenied(
        "您只能管理本部门的工作人员账号。", details={"department": account.department_code}
    )


def account_of(staff: Staff, roles: list[str] | None = None) -> StaffAccount:
    return StaffAccount(
        department_code=staff.department_code,
        roles=frozenset(staff.roles if roles is None else roles),
    )


def check_roles(roles: list[str]) -> list[str]:
    allowed = {r.value for r in StaffRole}
    if not roles or any(r not in allowed for r in roles):
        raise ValidationFailed(
            [
                field_error(
                    "roles", "角色无效，可选：" + "、".join(sorted(allowed)) + "。", "invalid"
                )
            ]
        )
    return sorted(set(roles))


async def create_staff(
    *,
    deps: AuthDeps | None,
    cipher: FieldCipher,
    username: str,
    name: str,
    department_code: str,
    roles: list[str],
    created_by: str,
) -> dict[str, Any]:
    """A staff account and its one-time WeChat binding code (shown once)."""
    clean_roles = check_roles(roles)
    if await Staff.exists(username=username):
        raise Conflict("该用户名已被使用。", code="auth.username_taken")
    code = _new_bind_code()
    try:
        staff = await Staff.create(
            username=username,
            name=name,
            department_code=department_code,
            roles=clean_roles,
            created_by=created_by,
            bind_code_hash=cipher.lookup_hash(code, context=BIND_CODE_CONTEXT),
            bind_code_expires_at=datetime.now(UTC) + BIND_CODE_TTL,
        )
    except IntegrityError:
        raise Conflict("该用户名已被使用。", code="auth.username_taken") from None
    return {**staff_view(staff), "bind_code": code}


def _new_bind_code() -> str:
    return "-".join(secrets.token_hex(2).upper() for _ in range(3))


@dataclass(frozen=True, slots=True)
class StaffStanding:
    """What every staff request asks of the account: is it active, where, in which roles."""

    id: int
    active: bool
    department_code: str
    roles: tuple[str, ...]
    #: The citizen account of the same WeChat, if the staff member applies too: they may not
    #: handle their own applications (``auth.permissions``: recusal).
    person_id: int | None = None


#: Standings read by this worker, by staff id: (monotonic time of the read, standing).
_STANDINGS: dict[int, tuple[float, StaffStanding]] = {}
_STANDINGS_MAX = 10_000


def forget_standings() -> None:
    """Drop this worker's remembered standings (tests: ids restart with the tables)."""
    _STANDINGS.clear()


async def staff_standing(*, staff_id: int, max_age_s: float = 0.0) -> StaffStanding:
    """The account's standing, without the ORM: it runs before every staff action.

    With ``max_age_s`` a standing this worker read less than that long ago is used again. The
    staff guard passes ``revocation_check_s``: a change to an account then reaches every worker
    within the same time as the revocation of its sessions does (the worker that makes the change
    forgets the old standing at once), and a staff phone's burst of requests costs one read. An
    unknown account is never remembered."""
    now = monotonic()
    seen = _STANDINGS.get(staff_id)
    if seen is not None and now - seen[0] < max_age_s:
        return seen[1]
    rows = await fetch_rows(
        'SELECT s."id", s."active", s."department_code", s."roles", u."id" AS "person_id" '
        'FROM "auth_staff" AS s LEFT JOIN "auth_user" AS u ON u."openid" = s."openid" '
        'WHERE s."id" = $1',
        [staff_id],
    )
    if not rows:
        _STANDINGS.pop(staff_id, None)
        raise StaffNotFound()
    row = rows[0]
    standing = StaffStanding(
        id=row["id"],
        active=bool(row["active"]),
        department_code=row["department_code"],
        roles=tuple(as_json(row["roles"])),
        person_id=row["person_id"],
    )
    if len(_STANDINGS) >= _STANDINGS_MAX:
        _STANDINGS.clear()  # a bound, not an eviction policy: a worker sees a few hundred staff
    _STANDINGS[staff_id] = (now, standing)
    return standing


async def get_staff(*, staff_id: int) -> Staff:
    staff = await Staff.get_or_none(id=staff_id)
    if staff is None:
        raise StaffNotFound()
    return staff


async def new_bind_code(
    *, cipher: FieldCipher, admin: Subject | None, staff_id: int
) -> dict[str, Any]:
    """A new one-time binding code; ``admin`` (``None``: the command line) must be allowed to
    administer the account (whoever binds with it gets the account's roles)."""
    staff = await get_staff(staff_id=staff_id)
    if admin is not None:
        require_administer(admin, account_of(staff))
    code = _new_bind_code()
    await Staff.filter(id=staff.id).update(
        bind_code_hash=cipher.lookup_hash(code, context=BIND_CODE_CONTEXT),
        bind_code_expires_at=datetime.now(UTC) + BIND_CODE_TTL,
    )
    return {"staff_id": staff.id, "bind_code": code}


async def bind_staff_wechat(
    *, deps: AuthDeps, bind_code: str, code: str, ip: str
) -> dict[str, Any]:
    """The staff member's WeChat is bound with the administrator's one-time code."""
    await hit(deps.redis, f"login:ip:{ip}", limit=deps.settings.login_limit_per_min, window_s=60)
    digest = deps.cipher.lookup_hash(bind_code.strip().upper(), context=BIND_CODE_CONTEXT)
    staff = await Staff.get_or_none(bind_code_hash=digest)
    now = datetime.now(UTC)
    if staff is None or staff.bind_code_expires_at is None or staff.bind_code_expires_at < now:
        raise BindCodeInvalid()
    if not staff.active:
        raise StaffInactive()
    session = await deps.wechat.code_to_session(code)
    if await Staff.filter(openid=session.openid).exclude(id=staff.id).exists():
        raise Conflict("该微信已绑定其他工作人员账号。", code="auth.wechat_bound_elsewhere")
    moved = await Staff.filter(id=staff.id, bind_code_hash=digest).update(
        openid=session.openid, bind_code_hash=None, bind_code_expires_at=None
    )
    if not moved:
        raise BindCodeInvalid()
    # A (re-)binding ends every session of the account: the phone bound before, which may be
    # lost or someone else's now, keeps neither its access nor its refresh tokens.
    await deps.tokens.revoke_subject(f"s:{staff.id}")
    _STANDINGS.pop(staff.id, None)
    log.info("staff wechat bound", extra={"staff_id": staff.id})
    pair = await deps.tokens.issue(subject=f"s:{staff.id}", audience="staff")
    await staff.refresh_from_db()
    return {**pair.as_dict(), "staff": staff_view(staff)}


async def staff_login(*, deps: AuthDeps, code: str, ip: str) -> dict[str, Any]:
    limit = deps.settings.login_limit_per_min
    await hit(deps.redis, f"login:ip:{ip}", limit=limit, window_s=60)
    session = await deps.wechat.code_to_session(code)
    await hit(deps.redis, f"login:openid:{session.openid}", limit=limit, window_s=60)
    staff = await Staff.get_or_none(openid=session.openid)
    if staff is None:
        raise NotStaff()
    if not staff.active:
        raise StaffInactive()
    pair = await deps.tokens.issue(subject=f"s:{staff.id}", audience="staff")
    return {**pair.as_dict(), "staff": staff_view(staff)}


async def set_staff_active(
    *, tokens: TokenService, admin: Subject | None, staff_id: int, active: bool
) -> dict[str, Any]:
    """Deactivation ends every session of the account at once. ``admin`` (``None``: the command
    line) must be allowed to administer the account."""
    staff = await get_staff(staff_id=staff_id)
    if admin is not None:
        require_administer(admin, account_of(staff))
    changes: dict[str, Any] = {"active": active}
    if not active:  # a binding code handed out before must not bind after a reactivation
        changes |= {"bind_code_hash": None, "bind_code_expires_at": None}
    await Staff.filter(id=staff.id).update(**changes)
    _STANDINGS.pop(staff.id, None)
    if not active:
        await tokens.revoke_subject(f"s:{staff.id}")
        log.info("staff deactivated", extra={"staff_id": staff.id})
    await staff.refresh_from_db()
    return staff_view(staff)


async def set_staff_roles(
    *, admin: Subject | None, staff_id: int, roles: list[str]
) -> dict[str, Any]:
    """Replace an account's roles. ``admin`` (``None``: the command line) must be allowed to
    administer the account as it is and as it would be."""
    staff = await get_staff(staff_id=staff_id)
    clean = check_roles(roles)
    if admin is not None:
        require_administer(admin, account_of(staff))
        require_administer(admin, account_of(staff, clean))
    await Staff.filter(id=staff.id).update(roles=clean)
    _STANDINGS.pop(staff.id, None)
    await staff.refresh_from_db()
    return staff_view(staff)


async def list_staff(*, department_code: str) -> dict[str, Any]:
    rows = await Staff.filter(department_code=department_code).order_by("id")
    return {"staff": [staff_view(s) for s in rows]}
