"""Whom a progress message can reach, and where: the addresses ``notify`` needs, read when the
message is published.

A citizen is reached by the openid of the mini-program they log in with and, for SMS, only by the
phone number WeChat's phone-number button bound (never a number typed into a form). A staff
member is reached in WeChat once they bound their account, and always in the inbox.
"""

from __future__ import annotations

from collections.abc import Iterable

from auth.common import PHONE_CONTEXT
from auth.models import Company, CompanyAgent, Staff, StaffRole, User
from core.crypto import FieldCipher
from notify.ledger import Recipient


def user_ref(user_id: int) -> str:
    return f"user:{user_id}"


def staff_ref(staff_id: int) -> str:
    return f"staff:{staff_id}"


async def users(user_ids: Iterable[int | None], *, cipher: FieldCipher) -> list[Recipient]:
    """The citizens among ``user_ids`` (each once, in the order given); one query."""
    wanted = list(dict.fromkeys(i for i in user_ids if i))
    if not wanted:
        return []
    found = {u.id: u for u in await User.filter(id__in=wanted)}
    recipients = []
    for user_id in wanted:
        user = found.get(user_id)
        if user is None:
            continue
        phone = cipher.decrypt(user.phone_enc, context=PHONE_CONTEXT) if user.phone_enc else None
        recipients.append(Recipient(ref=user_ref(user.id), openid=user.openid, phone=phone))
    return recipients


def _staff_recipient(member: Staff) -> Recipient:
    return Recipient(ref=staff_ref(member.id), openid=member.openid or None)


async def staff_members(staff_ids: Iterable[int | None]) -> list[Recipient]:
    wanted = list(dict.fromkeys(i for i in staff_ids if i))
    if not wanted:
        return []
    return [_staff_recipient(m) for m in await Staff.filter(id__in=wanted, active=True)]


async def department_staff(department: str, roles: Iterable[StaffRole]) -> list[Recipient]:
    """The active staff of ``department`` holding any of ``roles``; one query."""
    wanted = {r.value for r in roles}
    members = await Staff.filter(department_code=department, active=True).order_by("id")
    return [_staff_recipient(m) for m in members if wanted & set(m.roles or [])]


async def recused_staff(*, user_ids: Iterable[int | None], company_id: int | None) -> set[str]:
    """The staff (refs) who must step aside from an application of ``user_ids`` (its applicant,
    who filed it) or of ``company_id`` (its legal representative and agents): the accounts bound
    to the same WeChat as one of these people (``auth.permissions.recused``, for a whole
    department at once: three queries)."""
    people = {u for u in user_ids if u}
    if company_id is not None:
        company = await Company.get_or_none(id=company_id)
        if company is not None:
            people.add(company.legal_rep_id)
        agents = await CompanyAgent.filter(
            company_id=company_id, revoked_at=None, user_id__not_isnull=True
        ).values_list("user_id", flat=True)
        people |= {int(str(a)) for a in agents}
    if not people:
        return set()
    openids = await User.filter(id__in=people, openid__not_isnull=True).values_list(
        "openid", flat=True
    )
    if not openids:
        return set()
    staff = await Staff.filter(openid__in=list(openids)).values_list("id", flat=True)
    return {staff_ref(int(str(i))) for i in staff}


async def openid_of(kind: str, subject_id: int) -> str | None:
    """The WeChat openid a citizen logs in with, or the one a staff member bound."""
    if kind == "user":
        user = await User.get_or_none(id=subject_id)
        return user.openid if user is not None else None
    member = await Staff.get_or_none(id=subject_id)
    return member.openid if member is not None and member.openid else None


def ref_of(kind: str, subject_id: int) -> str:
    """A subject's recipient reference: its inbox and its ledger rows."""
    return user_ref(subject_id) if kind == "user" else staff_ref(subject_id)
