"""The one place that answers "may this subject do this action on this object".

Objects are described, not loaded: a case, a file or a payment is an ``Owned`` (whose it is,
which company, which item, which departments handle it). Rules:

* a person may do anything with what is theirs;
* an agent under an active family mandate may view, apply and pay for the principal's objects of
  the items the mandate covers (all items when it names none);
* a company's legal representative may do anything with the company's objects; an agent may view
  with any scope and apply or pay only with that scope; a revoked agent may do nothing, at once;
* staff act on objects of their own department, each action by role; supervisors read across
  departments and act on none;
* administration (staff accounts, catalogue) is limited to the staff member's own department;
  the working-day calendar, one for the whole city, to admins of any department, and so is
  operating the deployment (the outbox's dead letters).

Every decision reads the current rows (no cache), so a revocation a second ago is honoured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal

from tortoise.expressions import Q

from auth.models import Company, CompanyAgent, Mandate, StaffRole
from core.errors import Forbidden


class Action(StrEnum):
    view = "view"
    apply = "apply"  # create, edit, submit, withdraw, correct
    pay = "pay"
    accept = "accept"  # pre-review: accept, refuse, request corrections (clerk)
    review = "review"
    approve = "approve"
    dispatch = "dispatch"
    supervise = "supervise"  # read-only oversight, supervision notices


#: Which staff role may take which action on objects of their department.
STAFF_ACTIONS: dict[Action, frozenset[str]] = {
    Action.view: frozenset(
        {StaffRole.clerk, StaffRole.reviewer, StaffRole.approver, StaffRole.dispatcher}
    ),
    Action.accept: frozenset({StaffRole.clerk}),
    Action.review: frozenset({StaffRole.reviewer}),
    Action.approve: frozenset({StaffRole.approver}),
    Action.dispatch: frozenset({StaffRole.dispatcher}),
}
APPLICANT_ACTIONS = frozenset({Action.view, Action.apply, Action.pay})


@dataclass(frozen=True)
class Subject:
    kind: Literal["user", "staff"]
    id: int
    department_code: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"


@dataclass(frozen=True)
class Owned:
    """Something that belongs to an applicant: a case, an uploaded file, a payment."""

    owner_user_id: int | None = None
    company_id: int | None = None
    item_code: str | None = None
    department_codes: tuple[str, ...] = ()


class PermissionDenied(Forbidden):
    code = "auth.forbidden"
    message = "您没有权限进行此操作。"


async def can(subject: Subject, action: Action, obj: Owned, *, today: date) -> bool:
    if subject.is_staff:
        return _staff_may(subject, action, obj)
    if action not in APPLICANT_ACTIONS:
        return False
    if obj.company_id is not None:
        return await _company_member_may(subject.id, action, obj.company_id)
    if obj.owner_user_id is None:
        return False
    if obj.owner_user_id == subject.id:
        return True
    return await _mandate_covers(obj.owner_user_id, subject.id, obj.item_code, today)


async def require(subject: Subject, action: Action, obj: Owned, *, today: date) -> None:
    if not await can(subject, action, obj, today=today):
        raise PermissionDenied(details={"action": action.value})


def _staff_may(subject: Subject, action: Action, obj: Owned) -> bool:
    if StaffRole.supervisor in subject.roles and action in (Action.supervise, Action.view):
        return True  # supervisors read across departments, and act on nothing
    if subject.department_code not in obj.department_codes:
        return False
    allowed = STAFF_ACTIONS.get(action, frozenset())
    return bool(allowed & subject.roles)


async def _company_member_may(user_id: int, action: Action, company_id: int) -> bool:
    if await Company.filter(id=company_id, legal_rep_id=user_id).exists():
        return True
    agent = await CompanyAgent.filter(
        company_id=company_id, user_id=user_id, revoked_at=None
    ).first()
    if agent is None:
        return False
    scopes = set(agent.scopes)
    if action is Action.view:
        return bool(scopes)
    return action.value in scopes


async def _mandate_covers(
    principal_id: int, agent_id: int, item_code: str | None, today: date
) -> bool:
    mandates = await Mandate.filter(
        Q(principal_id=principal_id)
        & Q(agent_id=agent_id)
        & Q(ended_at=None)
        & Q(ends_on__gte=today)
    )
    return any(
        not m.item_codes or (item_code is not None and item_code in m.item_codes) for m in mandates
    )


def may_administer(subject: Subject, *, role: StaffRole, department_code: str) -> bool:
    """Department administration: staff accounts (admin) or the catalogue (catalogue admin)."""
    if not subject.is_staff or subject.department_code != department_code:
        return False
    return role in subject.roles or (
        role is StaffRole.catalog_admin and StaffRole.admin in subject.roles
    )


def require_administer(subject: Subject, *, role: StaffRole, department_code: str) -> None:
    if not may_administer(subject, role=role, department_code=department_code):
        raise PermissionDenied(
            "您只能管理本部门的事务。", details={"department": department_code, "role": role.value}
        )


def may_edit_calendar(subject: Subject) -> bool:
    """The working-day calendar is one for the whole city (every department's deadlines count on
    it), so an admin of any department may correct it; each change records who made it."""
    return subject.is_staff and StaffRole.admin in subject.roles


def require_edit_calendar(subject: Subject) -> None:
    if not may_edit_calendar(subject):
        raise PermissionDenied("只有管理员可以查看和调整工作日历。", details={"role": "admin"})


def may_operate(subject: Subject) -> bool:
    """Operating the deployment itself (the outbox's dead letters): staff holding the admin role,
    whatever their department, because an event belongs to no one department. The role is
    granted only from the command line."""
    return subject.is_staff and StaffRole.admin in subject.roles


def require_operate(subject: Subject) -> None:
    if not may_operate(subject):
        raise PermissionDenied("只有系统管理员可以进行此操作。", details={"role": "admin"})


async def applicant_scope(user_id: int, *, today: date) -> dict[str, list[int]]:
    """Everyone a user may act for: companies (with an apply scope) and mandate principals."""
    represented: list[int] = await Company.filter(legal_rep_id=user_id).values_list("id", flat=True)  # type: ignore[assignment]
    companies = set(represented)
    agents = await CompanyAgent.filter(user_id=user_id, revoked_at=None)
    companies |= {a.company_id for a in agents if "apply" in a.scopes}
    principals: list[int] = await Mandate.filter(
        agent_id=user_id, ended_at=None, ends_on__gte=today
    ).values_list("principal_id", flat=True)  # type: ignore[assignment]
    return {"companies": sorted(companies), "principals": sorted(set(principals))}
