"""Staff accounts: creation and the one-time WeChat binding code, login, the standing every
staff request reads, and their administration.

Who may administer which account is ``auth.permissions``'s rule; ``require_administer`` tells
the administrator why not. Supervisors and admins are managed from the command line only
(``admin=None``).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic
from typing import Any

from tortoise.exceptions import IntegrityError

from auth.common import BIND_CODE_CONTEXT, AuthDeps
from auth.contacts import staff_ref
from auth.errors import BindCodeInvalid, NotStaff, OperatorAccount, StaffInactive, StaffNotFound
from auth.models import Staff, StaffRole
from auth.permissions import (
    OPERATOR_ROLES,
    Action,
    PermissionDenied,
    StaffAccount,
    Subject,
    staff_may,
)
from auth.queries import PERSON_COMPANIES_SQL, STAFF_STANDING_SQL
from auth.tokens import TokenService
from core.clock import utcnow
from core.crypto import FieldCipher
from core.db import as_json, fetch_rows
from core.errors import Conflict, ValidationFailed, field_error
from core.ratelimit import hit
from notify.ledger import readdress

log = logging.getLogger("zhangban.auth")

BIND_CODE_TTL = timedelta(hours=24)


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
    cipher: FieldCipher,
    username: str,
    name: str,
    department_code: str,
    roles: list[str],
    created_by: str,
    now: datetime,
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
            bind_code_expires_at=now + BIND_CODE_TTL,
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
    #: The citizen account of the same WeChat, if the staff member applies too, and the
    #: companies that person answers for: they may not handle their own applications, nor
    #: those of their companies (``auth.permissions.recused``).
    person_id: int | None = None
    person_companies: frozenset[int] = frozenset()

    def as_subject(self) -> Subject:
        return Subject(
            kind="staff",
            id=self.id,
            department_code=self.department_code,
            roles=frozenset(self.roles),
            person_id=self.person_id,
            person_companies=self.person_companies,
        )


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
    read_at = monotonic()
    seen = _STANDINGS.get(staff_id)
    if seen is not None and read_at - seen[0] < max_age_s:
        return seen[1]
    rows = await fetch_rows(STAFF_STANDING_SQL, [staff_id])
    if not rows:
        _STANDINGS.pop(staff_id, None)
        raise StaffNotFound()
    row = rows[0]
    person_id = row["person_id"]
    companies: frozenset[int] = frozenset()
    if person_id is not None:  # a staff member who applies too: whose applications are theirs
        found = await fetch_rows(PERSON_COMPANIES_SQL, [person_id])
        companies = frozenset(int(r["company_id"]) for r in found)
    standing = StaffStanding(
        id=row["id"],
        active=bool(row["active"]),
        department_code=row["department_code"],
        roles=tuple(as_json(row["roles"])),
        person_id=person_id,
        person_companies=companies,
    )
    if len(_STANDINGS) >= _STANDINGS_MAX:
        _STANDINGS.clear()  # a bound, not an eviction policy: a worker sees a few hundred staff
    _STANDINGS[staff_id] = (read_at, standing)
    return standing


async def get_staff(*, staff_id: int) -> Staff:
    staff = await Staff.get_or_none(id=staff_id)
    if staff is None:
        raise StaffNotFound()
    return staff


async def new_bind_code(
    *, cipher: FieldCipher, admin: Subject | None, staff_id: int, now: datetime
) -> dict[str, Any]:
    """A new one-time binding code; ``admin`` (``None``: the command line) must be allowed to
    administer the account (whoever binds with it gets the account's roles)."""
    staff = await get_staff(staff_id=staff_id)
    if admin is not None:
        require_administer(admin, account_of(staff))
    code = _new_bind_code()
    await Staff.filter(id=staff.id).update(
        bind_code_hash=cipher.lookup_hash(code, context=BIND_CODE_CONTEXT),
        bind_code_expires_at=now + BIND_CODE_TTL,
    )
    return {"staff_id": staff.id, "bind_code": code}


async def bind_staff_wechat(
    *, deps: AuthDeps, bind_code: str, code: str, ip: str, now: datetime
) -> dict[str, Any]:
    """The staff member's WeChat is bound with the administrator's one-time code."""
    await hit(deps.redis, f"login:ip:{ip}", limit=deps.settings.login_limit_per_min, window_s=60)
    digest = deps.cipher.lookup_hash(bind_code.strip().upper(), context=BIND_CODE_CONTEXT)
    staff = await Staff.get_or_none(bind_code_hash=digest)
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
    # Messages not sent yet go to the WeChat bound now.
    await readdress(
        recipient=staff_ref(staff.id),
        channel="wechat",
        address=session.openid,
        cipher=deps.cipher,
        now=now,
    )
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
        # Work messages not sent yet are no longer this person's to receive.
        await readdress(recipient=staff_ref(staff.id), channel="wechat", address=None, now=utcnow())
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
