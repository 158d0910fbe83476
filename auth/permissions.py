"""The one place that answers "may this subject do this action on this target".

Targets are described, not loaded:

* ``Owned``: something that belongs to an applicant or sits in departments — a case, an uploaded
  file, a review task (the case, seen from the task's department), a rating, a company, the
  catalogue entry of a department (no owner), the deployment itself (no owner, no department);
* ``StaffAccount``: a staff member's account (its department and roles);
* ``Addressed``: a supervision notice (the staff member or department it is addressed to);
* ``Relation``: a family mandate (the two people it binds).

The rule:

* a person may do anything with what is theirs; a draft belongs to its applicant alone (staff
  and supervisors see a case once it is submitted);
* an agent under an active family mandate may view, apply and pay for the principal's objects of
  the items the mandate covers (all items when it names none);
* a company's legal representative may do anything with the company's objects and manage its
  agents; an agent may view with any scope and apply or pay only with that scope; a revoked
  agent may do nothing, at once;
* staff act on objects of their own department, each action by role (``STAFF_ACTIONS``), and
  never on an application of their own (the citizen account of the same WeChat applied or filed
  it: recusal, 回避);
  supervisors view and supervise across departments and act on nothing there
  (``CROSS_DEPARTMENT``); reassigning a department's tasks is for that department's supervisors;
* administration of staff accounts is for the department's admins, and only of accounts whose
  every role they may grant: roles that reach beyond a department (``OPERATOR_ROLES``) are
  granted and changed only from the command line, so no admin may act on a supervisor or
  another admin; the catalogue of a department is for its catalogue admins and admins;
* the working-day calendar (one for the whole city) and operating the deployment (the outbox's
  dead letters) are for admins of any department.

``may_attempt`` is the same rule without a target: whether the subject holds any role that may
take the action somewhere. The HTTP edge asks it before looking anything up (``api.endpoint``).

Every decision reads the current rows (no cache), so a revocation a second ago is honoured.
Lists use the same rule: ``standing_of`` loads once what ``can`` would read for one object, and
``citizen_may`` decides each row with it (``cases.views.my_cases``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal

from tortoise.expressions import Q

from auth.models import Company, CompanyAgent, Mandate, StaffRole
from auth.queries import CITIZEN_STANDING_SQL
from core.db import as_json, date_param, fetch_rows
from core.errors import Forbidden


class Action(StrEnum):
    view = "view"
    apply = "apply"  # create, edit, submit, withdraw, correct, upload
    pay = "pay"
    manage = "manage"  # a company's agents (legal representative), a mandate (either side)
    accept = "accept"  # pre-review: accept, refuse, request corrections (clerk)
    review = "review"
    approve = "approve"
    dispatch = "dispatch"
    handle = "handle"  # any handling act: internal comments, attachments, answering a rating
    supervise = "supervise"  # oversight: the board, supervision notices (督办)
    reassign = "reassign"  # give a review task of the department to someone else
    acknowledge = "acknowledge"  # a supervision notice addressed to me or my department
    reveal = "reveal"  # a citizen's full identifiers, with a reason
    administer_staff = "administer_staff"
    administer_catalog = "administer_catalog"
    edit_calendar = "edit_calendar"
    operate = "operate"  # the deployment: outbox dead letters
    finance = "finance"  # a department's fee orders, refunds and reconciliation differences


R = StaffRole
#: The one mapping between staff roles and the workflow: the step each handling role takes. A
#: role's inbox is its action's queue (``api.cases``), a review step's role takes its action
#: (``cases.kernel.action_of``), and a timeline line records the role (``cases.states.Role``
#: holds the same names, besides the applicant and the system).
STEP_ACTIONS: dict[StaffRole, Action] = {
    R.clerk: Action.accept,
    R.reviewer: Action.review,
    R.approver: Action.approve,
    R.dispatcher: Action.dispatch,
}
#: Roles that handle cases in their department, in the order a handling act that is not a step
#: of its own (a comment, an attachment, an answer to a rating, an acknowledgement) is recorded
#: under when someone holds several.
HANDLING_ORDER: tuple[StaffRole, ...] = (R.reviewer, R.approver, R.clerk, R.dispatcher)
HANDLING_ROLES: frozenset[str] = frozenset(HANDLING_ORDER)
#: A handling role's name where an API parameter names one (an inbox); ``tests/unit/test_roles``
#: keeps it equal to ``HANDLING_ROLES``.
HandlingRoleName = Literal["clerk", "reviewer", "approver", "dispatcher"]
#: Roles that reach beyond one department: granted and changed only from the command line.
OPERATOR_ROLES: frozenset[str] = frozenset({R.supervisor, R.admin})

#: Which staff role may take which action on targets of their own department.
STAFF_ACTIONS: dict[Action, frozenset[str]] = {
    Action.view: HANDLING_ROLES,
    **{action: frozenset({role}) for role, action in STEP_ACTIONS.items()},
    Action.handle: HANDLING_ROLES,
    Action.reassign: frozenset({R.supervisor}),
    Action.reveal: frozenset({R.clerk, R.reviewer, R.approver}),
    Action.administer_staff: frozenset({R.admin}),
    Action.administer_catalog: frozenset({R.catalog_admin, R.admin}),
    Action.finance: frozenset({R.finance}),
}
#: Which staff role may take which action whatever the target's departments.
CROSS_DEPARTMENT: dict[Action, frozenset[str]] = {
    Action.view: frozenset({R.supervisor}),
    Action.supervise: frozenset({R.supervisor}),
    Action.edit_calendar: frozenset({R.admin}),
    Action.operate: frozenset({R.admin}),
}
#: Actions that only a target of their own kind takes (an account, a notice).
_ACCOUNT_ACTIONS = frozenset({Action.administer_staff, Action.acknowledge})
#: Every staff member may acknowledge what is addressed to them.
ALL_STAFF_ROLES: frozenset[str] = frozenset(r.value for r in StaffRole)
APPLICANT_ACTIONS = frozenset({Action.view, Action.apply, Action.pay, Action.manage})
#: A case in this status belongs to its applicant alone.
DRAFT = "draft"


@dataclass(frozen=True)
class Subject:
    kind: Literal["user", "staff"]
    id: int
    department_code: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    #: Staff only: the citizen account of the same WeChat (their own applications), and the
    #: companies that person represents or is an agent of (their companies' applications).
    person_id: int | None = None
    person_companies: frozenset[int] = frozenset()

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"


@dataclass(frozen=True)
class Owned:
    """Something that belongs to an applicant or sits in departments (see the module docstring).

    ``status`` is the case's status where the target is (part of) a case: a draft is its
    applicant's alone."""

    owner_user_id: int | None = None
    company_id: int | None = None
    item_code: str | None = None
    department_codes: tuple[str, ...] = ()
    status: str | None = None
    #: Who filed it for the owner (a mandate holder, a company's agent).
    agent_user_id: int | None = None


@dataclass(frozen=True)
class StaffAccount:
    department_code: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Addressed:
    """A supervision notice: to one staff member, or to a department's handling staff; about
    ``case`` (its applicant side), which those who must step aside from it do not answer for."""

    staff_id: int | None
    department_code: str
    case: Owned | None = None


@dataclass(frozen=True)
class Relation:
    """A family mandate: the principal and the agent may each end it."""

    user_ids: frozenset[int]


@dataclass(frozen=True)
class Addressee:
    """A line of an inbox: only the one person it was written to reads or marks it (not their
    agents, not their department: a message may tell what only they should know)."""

    kind: Literal["user", "staff"]
    id: int


Target = Owned | StaffAccount | Addressed | Relation | Addressee
#: The deployment as a whole (the calendar, the outbox): no owner, no department.
DEPLOYMENT = Owned()


class PermissionDenied(Forbidden):
    code = "auth.forbidden"
    message = "您没有权限进行此操作。"


# --------------------------------------------------------------------------------------------
# Citizens
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Whom a citizen may act for, as the database has it now: companies (legal representative:
    every scope; agent: their scopes) and mandate principals (item codes; empty = every item)."""

    user_id: int
    companies: dict[int, frozenset[str]] = field(default_factory=dict)
    represented: frozenset[int] = frozenset()
    mandates: tuple[tuple[int, frozenset[str]], ...] = ()

    def principals(self) -> dict[int, list[frozenset[str]]]:
        found: dict[int, list[frozenset[str]]] = {}
        for principal, items in self.mandates:
            found.setdefault(principal, []).append(items)
        return found


async def standing_of(
    user_id: int,
    *,
    today: date,
    company_id: int | None = None,
    principal_id: int | None = None,
    everything: bool = False,
) -> Standing:
    """What ``citizen_may`` needs about ``user_id``: for one company, one principal, or
    (``everything``, one statement for a list) all of them. Reads current rows: a revocation is
    honoured at once."""
    companies: dict[int, frozenset[str]] = {}
    represented: set[int] = set()
    mandates: list[tuple[int, frozenset[str]]] = []
    if everything:
        for row in await fetch_rows(CITIZEN_STANDING_SQL, [user_id, date_param(today)]):
            ref = int(row["ref"])
            codes = frozenset(as_json(row["codes"]) or ())
            if row["kind"] == "rep":
                represented.add(ref)
            elif row["kind"] == "agent":
                companies[ref] = companies.get(ref, frozenset()) | codes
            else:
                mandates.append((ref, codes))
    elif company_id is not None:
        for agent in await CompanyAgent.filter(
            user_id=user_id, company_id=company_id, revoked_at=None
        ):
            companies[company_id] = companies.get(company_id, frozenset()) | set(agent.scopes)
        if await Company.filter(id=company_id, legal_rep_id=user_id).exists():
            represented.add(company_id)
    elif principal_id is not None:
        query = Mandate.filter(
            Q(principal_id=principal_id)
            & Q(agent_id=user_id)
            & Q(ended_at=None)
            & Q(ends_on__gte=today)
        )
        mandates = [(m.principal_id, frozenset(m.item_codes or ())) for m in await query]
    return Standing(
        user_id=user_id,
        companies=companies,
        represented=frozenset(represented),
        mandates=tuple(mandates),
    )


def citizen_may(standing: Standing, action: Action, target: Target) -> bool:
    """The citizen half of the rule, decided on ``standing`` without any query."""
    if action not in APPLICANT_ACTIONS:
        return False
    if isinstance(target, Relation):
        return action is Action.manage and standing.user_id in target.user_ids
    if not isinstance(target, Owned):
        return False
    if target.company_id is not None:
        if target.company_id in standing.represented:
            return True
        scopes = standing.companies.get(target.company_id)
        if not scopes or action is Action.manage:
            return False
        return True if action is Action.view else action.value in scopes
    if target.owner_user_id is None:
        return False
    if target.owner_user_id == standing.user_id:
        return True
    if action is Action.manage:
        return False
    return any(
        not items or (target.item_code is not None and target.item_code in items)
        for items in standing.principals().get(target.owner_user_id, [])
    )


# --------------------------------------------------------------------------------------------
# Staff
# --------------------------------------------------------------------------------------------


def staff_may(subject: Subject, action: Action, target: Target) -> bool:
    """The staff half of the rule: no query, the target carries what it needs."""
    roles = subject.roles
    if isinstance(target, StaffAccount):
        return (
            action is Action.administer_staff
            and subject.department_code == target.department_code
            and bool(STAFF_ACTIONS[action] & roles)
            and not target.roles & OPERATOR_ROLES
        )
    if isinstance(target, Addressed):
        if action is not Action.acknowledge:
            return False
        if target.case is not None and recused(subject, target.case):
            return False
        if target.staff_id is not None:
            return target.staff_id == subject.id
        return target.department_code == subject.department_code and bool(HANDLING_ROLES & roles)
    if not isinstance(target, Owned) or action in _ACCOUNT_ACTIONS:
        return False
    if target.status == DRAFT:
        return False  # a draft belongs to its applicant alone
    if recused(subject, target):
        return False
    if CROSS_DEPARTMENT.get(action, frozenset()) & roles:
        return True
    if subject.department_code not in target.department_codes:
        return False
    return bool(STAFF_ACTIONS.get(action, frozenset()) & roles)


def recused(subject: Subject, target: Owned) -> bool:
    """Recusal (回避): nobody handles or oversees an application of their own: one they applied
    for or filed for someone, or one of a company they represent or are an agent of."""
    if subject.person_id is not None and subject.person_id in (
        target.owner_user_id,
        target.agent_user_id,
    ):
        return True
    return target.company_id is not None and target.company_id in subject.person_companies


def may_attempt(subject: Subject, action: Action) -> bool:
    """Whether ``subject`` holds a role that may take ``action`` on some target: asked before
    anything is looked up, so the answer never tells whether an object exists."""
    if not subject.is_staff:
        return action in APPLICANT_ACTIONS
    if action is Action.acknowledge:
        return True
    allowed = STAFF_ACTIONS.get(action, frozenset()) | CROSS_DEPARTMENT.get(action, frozenset())
    return bool(allowed & subject.roles)


def roles_for(action: Action) -> frozenset[str]:
    """The staff roles that may take ``action`` somewhere (for messages and documentation)."""
    if action is Action.acknowledge:
        return ALL_STAFF_ROLES
    return STAFF_ACTIONS.get(action, frozenset()) | CROSS_DEPARTMENT.get(action, frozenset())


def require_attempt(subject: Subject, action: Action) -> None:
    if not may_attempt(subject, action):
        raise PermissionDenied(
            "您的岗位不能进行此操作。",
            details={"action": action.value, "roles": sorted(roles_for(action))},
        )


# --------------------------------------------------------------------------------------------
# The rule
# --------------------------------------------------------------------------------------------


async def can(subject: Subject, action: Action, target: Target, *, today: date) -> bool:
    if isinstance(target, Addressee):
        return action is Action.view and (subject.kind, subject.id) == (target.kind, target.id)
    if subject.is_staff:
        return staff_may(subject, action, target)
    if action not in APPLICANT_ACTIONS:
        return False
    standing = Standing(user_id=subject.id)
    if isinstance(target, Owned):
        if target.company_id is not None:
            standing = await standing_of(subject.id, today=today, company_id=target.company_id)
        elif target.owner_user_id is not None and target.owner_user_id != subject.id:
            standing = await standing_of(subject.id, today=today, principal_id=target.owner_user_id)
    return citizen_may(standing, action, target)


async def require(subject: Subject, action: Action, target: Target, *, today: date) -> None:
    if not await can(subject, action, target, today=today):
        raise PermissionDenied(details={"action": action.value})


def require_staff(subject: Subject, action: Action, target: Target, message: str = "") -> None:
    """``require`` for a staff subject, without awaiting (the staff rule reads no rows)."""
    if not subject.is_staff or not staff_may(subject, action, target):
        raise PermissionDenied(message or None, details={"action": action.value})


def departments(*codes: str | None) -> Owned:
    """A target that is a department's (the catalogue of its items, its ratings, a person it
    handles): no owner."""
    return Owned(department_codes=tuple(c for c in codes if c))


def departments_of(rows: Iterable[str]) -> tuple[str, ...]:
    """The department codes of a case's ``department_codes`` column (",A,B,")."""
    return tuple(code for row in rows for code in row.split(",") if code)


def grantable(roles: Iterable[str]) -> bool:
    """Whether a department admin may give these roles (none of the operator roles)."""
    return not OPERATOR_ROLES & set(roles)
