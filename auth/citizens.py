"""Citizens: WeChat login, phone number, real name (L1: name and ID number; L2: the face), and
the reveal of a citizen's full identifier to staff who give a reason.

Rules that cost money or touch personal data are checked before the paid call: the ID number's
shape, its uniqueness, and the daily attempt limit.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from auth.common import (
    ID_CONTEXT,
    PHONE_CONTEXT,
    SESSION_KEY_CONTEXT,
    AuthDeps,
    get_user,
    require_realname_level,
    seconds_until_local_midnight,
)
from auth.contacts import user_ref
from auth.errors import FaceFailed, FaceIncomplete, IdNumberTaken, RealnameMismatch
from auth.identifiers import IdNumberInfo, check_id_number
from auth.models import FaceVerification, PersonalDataAccess, RealnameLevel, User
from auth.providers.base import ProviderUnavailable, RealnameOutcome
from core.clock import local_today
from core.crypto import FieldCipher, mask_id_number, mask_phone
from core.db import in_transaction
from core.errors import Conflict, DomainError, NotFound, ValidationFailed, field_error
from core.ratelimit import hit, refund
from notify.ledger import readdress
from platforms.wechat import FACE_VERIFY_TTL_S, WeChatUnavailable, new_out_seq_no

log = logging.getLogger("zhangban.auth")


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


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


async def login_wechat(*, deps: AuthDeps, code: str, ip: str, now: datetime) -> dict[str, Any]:
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
    return {**pair.as_dict(), "user": user_view(user, cipher=deps.cipher, today=local_today(now))}


async def me(*, deps: AuthDeps, user_id: int, now: datetime) -> dict[str, Any]:
    return user_view(await get_user(user_id=user_id), cipher=deps.cipher, today=local_today(now))


async def bind_phone(*, deps: AuthDeps, user_id: int, code: str, now: datetime) -> dict[str, Any]:
    await hit(
        deps.redis,
        f"phone:{user_id}:{local_today(now).isoformat()}",
        limit=deps.settings.phone_bind_daily_limit,
        window_s=seconds_until_local_midnight(now),
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
    # SMS not sent yet go to the number bound now, not to the one they were written for.
    await readdress(
        recipient=user_ref(user_id), channel="sms", address=number, cipher=deps.cipher, now=now
    )
    return await me(deps=deps, user_id=user_id, now=now)


#: verify_ret values that settle an attempt as failed (PROTOCOLS.md: parameter, face, identity
#: and comparison failures); anything else but 10000 means the phone has not finished yet.
FACE_DEFINITIVE_FAILURES = frozenset({10001, 10002, 10003, 10004})


async def _count_attempt(deps: AuthDeps, user_id: int, now: datetime) -> str:
    """Count one paid verification for today; returns the counter's key."""
    key = f"realname:{user_id}:{local_today(now).isoformat()}"
    await hit(
        deps.redis,
        key,
        limit=deps.settings.realname_daily_limit,
        window_s=seconds_until_local_midnight(now),
        message="今天的实名核验次数已用完，请明天再试。",
    )
    return key


async def verify_realname(
    *, deps: AuthDeps, user_id: int, name: str, id_number: str, now: datetime
) -> dict[str, Any]:
    """L1: the ID number checked locally, then name and number verified by the provider."""
    today = local_today(now)
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
    attempt_key = await _count_attempt(deps, user_id, now)
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
            l1_verified_at=now,
        )
    except IntegrityError:
        raise IdNumberTaken() from None
    if not updated:
        raise Conflict("您已完成实名认证。", code="auth.already_verified")
    log.info("realname verified", extra={"user_id": user_id, "realname_level": 1})
    return await me(deps=deps, user_id=user_id, now=now)


async def start_face(*, deps: AuthDeps, user_id: int, now: datetime) -> dict[str, Any]:
    """L2, step 1: ask WeChat for a verify_id bound to the user's verified identity."""
    user = await get_user(user_id=user_id)
    require_realname_level(user.realname_level, RealnameLevel.L1)
    if user.realname_level >= RealnameLevel.L2:
        raise Conflict("您已完成人脸核验。", code="auth.already_verified")
    await _count_attempt(deps, user_id, now)
    id_number = deps.cipher.decrypt(user.id_number_enc or "", context=ID_CONTEXT)
    out_seq_no = new_out_seq_no()  # 5-32 of [0-9A-Za-z_-], unique per appid (getVerifyId)
    verify_id = await deps.wechat.face_verify_id(
        out_seq_no=out_seq_no, name=user.real_name, id_number=id_number, openid=user.openid
    )
    await FaceVerification.create(user=user, out_seq_no=out_seq_no, verify_id=verify_id)
    return {"verify_id": verify_id, "expires_in": FACE_VERIFY_TTL_S}


async def finish_face(
    *, deps: AuthDeps, user_id: int, verify_id: str, now: datetime
) -> dict[str, Any]:
    """L2, step 2: settled only by our own query to WeChat, never by the phone's word."""
    attempt = await FaceVerification.get_or_none(verify_id=verify_id, user_id=user_id)
    if attempt is None:
        raise NotFound("没有找到这次人脸核验，请重新开始。", code="auth.face_not_found")
    user = await get_user(user_id=user_id)
    if attempt.status == "passed":
        return user_view(user, cipher=deps.cipher, today=local_today(now))
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
        age = now - attempt.created_at
        if age >= timedelta(seconds=FACE_VERIFY_TTL_S):
            # Refused past the verify_id's life: no retry can help, only a new attempt.
            raise DomainError(
                "本次人脸核验已超过有效期，请重新发起人脸核验。",
                code="auth.face_expired",
                status=400,
            ) from None
        raise
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
    return await me(deps=deps, user_id=user_id, now=now)


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
