"""The authorization matrix: ``auth.permissions.can`` as a complete, explicit decision table.

Every subject × every ``Action`` × every object is one parametrized case with its expected
answer written out below. The state (people, a company with its agents, mandates, staff) is
built afresh in the database of the profile for each case, because ``can`` reads current rows.

Objects:

* ``personal``: the owner's case of ITEM-P, handled by department D1;
* ``company``: the company's case of ITEM-C, handled by D1;
* ``parallel``: the owner's case of ITEM-PAR, a parallel approval handled by D1 (lead) and D2.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sanic import Sanic

from auth.models import Company, CompanyAgent, Mandate, Staff, StaffRole, User
from auth.permissions import CROSS_DEPARTMENT, STAFF_ACTIONS, Action, Owned, Subject, can
from auth.staff import staff_standing
from core.clock import local_today, utcnow
from core.db import in_transaction

ACTIONS: tuple[Action, ...] = (
    Action.view,
    Action.apply,
    Action.pay,
    Action.manage,
    Action.accept,
    Action.review,
    Action.approve,
    Action.dispatch,
    Action.handle,
    Action.supervise,
    Action.reassign,
    Action.acknowledge,
    Action.reveal,
    Action.administer_staff,
    Action.administer_catalog,
    Action.edit_calendar,
    Action.operate,
    Action.finance,
)
OBJECTS: tuple[str, ...] = ("personal", "company", "parallel")

# Columns of each cell string, in ACTIONS order:
#   view apply pay manage | accept review approve dispatch handle | supervise reassign
#   acknowledge reveal | administer_staff administer_catalog edit_calendar operate | finance
# "Y" = allowed, "." = refused. The objects are cases (or their files): an account, a notice and
# a mandate are targets of their own kinds (``StaffAccount``, ``Addressed``, ``Relation``), which
# is why administer_staff and acknowledge are refused on every object here.
# fmt: off
TABLE: dict[str, tuple[str, str, str]] = {
    #                             personal             company              parallel
    "owner":                    ("YYYY..............", "..................", "YYYY.............."),
    "mandate_agent_covering":   ("YYY...............", "..................", "YYY..............."),
    "mandate_agent_all_items":  ("YYY...............", "..................", "YYY..............."),
    "mandate_agent_other_item": ("..................", "..................", ".................."),
    "mandate_agent_ended":      ("..................", "..................", ".................."),
    "mandate_agent_expired":    ("..................", "..................", ".................."),
    "stranger":                 ("..................", "..................", ".................."),
    "company_legal_rep":        ("..................", "YYYY..............", ".................."),
    "company_agent_apply":      ("..................", "YY................", ".................."),
    "company_agent_pay":        ("..................", "Y.Y...............", ".................."),
    "company_agent_view":       ("..................", "Y.................", ".................."),
    "company_agent_revoked":    ("..................", "..................", ".................."),
    "clerk_d1":                 ("Y...Y...Y...Y.....", "Y...Y...Y...Y.....", "Y...Y...Y...Y....."),
    "reviewer_d1":              ("Y....Y..Y...Y.....", "Y....Y..Y...Y.....", "Y....Y..Y...Y....."),
    "approver_d1":              ("Y.....Y.Y...Y.....", "Y.....Y.Y...Y.....", "Y.....Y.Y...Y....."),
    "dispatcher_d1":            ("Y......YY.........", "Y......YY.........", "Y......YY........."),
    "clerk_d2_parallel":        ("..................", "..................", "Y...Y...Y...Y....."),
    # Clerks of D1 who apply too, on the same WeChat as a citizen above (recusal, 回避):
    "clerk_d1_is_owner":        ("..................", "Y...Y...Y...Y.....", ".................."),
    "clerk_d1_is_company_rep":  ("Y...Y...Y...Y.....", "..................", "Y...Y...Y...Y....."),
    "clerk_d1_is_company_agent": ("Y...Y...Y...Y.....", "..................", "Y...Y...Y...Y....."),
    "clerk_d1_ex_company_agent": ("Y...Y...Y...Y.....", "Y...Y...Y...Y.....", "Y...Y...Y...Y....."),
    "clerk_d3_other":           ("..................", "..................", ".................."),
    "supervisor_d3_other":      ("Y........Y........", "Y........Y........", "Y........Y........"),
    "catalog_admin_d1":         ("..............Y...", "..............Y...", "..............Y..."),
    # Finance of D1: the fees of D1's cases, nothing else of them (not even to read the case).
    "finance_d1":               (".................Y", ".................Y", ".................Y"),
    "admin_d1":                 ("..............YYY.", "..............YYY.", "..............YYY."),
}
# fmt: on
SUBJECTS: tuple[str, ...] = tuple(TABLE)

CELLS: dict[tuple[str, Action, str], bool] = {
    (subject, action, obj): row[OBJECTS.index(obj)][ACTIONS.index(action)] == "Y"
    for subject, row in TABLE.items()
    for obj in OBJECTS
    for action in ACTIONS
}


def test_the_table_is_complete() -> None:
    assert tuple(Action) == ACTIONS, "a new Action needs its column in TABLE"
    assert all(len(cell) == len(ACTIONS) for row in TABLE.values() for cell in row)
    assert all(set(cell) <= {"Y", "."} for row in TABLE.values() for cell in row)
    assert len(CELLS) == len(SUBJECTS) * len(ACTIONS) * len(OBJECTS)
    assert set(CELLS) == set(itertools.product(SUBJECTS, ACTIONS, OBJECTS))


@dataclass(frozen=True)
class World:
    today: date
    subjects: dict[str, Subject]
    objects: dict[str, Owned]


async def _user(name: str) -> User:
    return await User.create(openid=f"o-{name}", realname_level=1, real_name=name)


async def _staff(key: str, department: str, roles: list[str]) -> Subject:
    row = await Staff.create(username=key, name=key, department_code=department, roles=roles)
    # As ``api.guards.staff`` builds it: department and roles from the current row.
    return Subject(
        kind="staff", id=row.id, department_code=row.department_code, roles=frozenset(row.roles)
    )


async def _staff_who_is(key: str, department: str, roles: list[str], person: User) -> Subject:
    """A staff account bound to the WeChat of ``person``: the subject as ``api.guards.staff``
    builds it, from the account's standing (which reads whose applications are theirs)."""
    row = await Staff.create(
        username=key, name=key, department_code=department, roles=roles, openid=person.openid
    )
    return (await staff_standing(staff_id=row.id)).as_subject()


async def build_world() -> World:
    today = local_today(utcnow())
    now = datetime.now(UTC)
    people = {
        key: await _user(key)
        for key in (
            "owner",
            "mandate_agent_covering",
            "mandate_agent_all_items",
            "mandate_agent_other_item",
            "mandate_agent_ended",
            "mandate_agent_expired",
            "stranger",
            "company_legal_rep",
            "company_agent_apply",
            "company_agent_pay",
            "company_agent_view",
            "company_agent_revoked",
        )
    }
    owner = people["owner"]
    soon = today + timedelta(days=30)
    for agent, items, ends_on, ended_at in (
        ("mandate_agent_covering", ["ITEM-P", "ITEM-PAR"], soon, None),
        ("mandate_agent_all_items", [], soon, None),
        ("mandate_agent_other_item", ["ITEM-OTHER"], soon, None),
        ("mandate_agent_ended", [], soon, now - timedelta(minutes=1)),
        ("mandate_agent_expired", [], today - timedelta(days=1), None),
    ):
        await Mandate.create(
            principal=owner,
            agent=people[agent],
            item_codes=items,
            ends_on=ends_on,
            ended_at=ended_at,
            ended_by="principal" if ended_at else None,
        )
    company = await Company.create(
        uscc="91360402MA38KB0A1C",
        name="九江掌办示范科技有限公司",
        legal_rep=people["company_legal_rep"],
        verified_at=now,
    )
    for agent, scopes, revoked_at in (
        ("company_agent_apply", ["apply"], None),
        ("company_agent_pay", ["pay"], None),
        ("company_agent_view", ["view"], None),
        ("company_agent_revoked", ["apply", "pay", "view"], now - timedelta(minutes=1)),
    ):
        await CompanyAgent.create(
            company=company,
            user=people[agent],
            scopes=scopes,
            accepted_at=now - timedelta(days=1),
            revoked_at=revoked_at,
        )
    # A pending invitation (no user yet) must not grant anything to anyone.
    await CompanyAgent.create(company=company, scopes=["apply", "pay", "view"])

    subjects = {key: Subject(kind="user", id=user.id) for key, user in people.items()}
    for key, department, roles in (
        ("clerk_d1", "D1", ["clerk"]),
        ("reviewer_d1", "D1", ["reviewer"]),
        ("approver_d1", "D1", ["approver"]),
        ("dispatcher_d1", "D1", ["dispatcher"]),
        ("finance_d1", "D1", ["finance"]),
        ("clerk_d2_parallel", "D2", ["clerk"]),
        ("clerk_d3_other", "D3", ["clerk"]),
        ("supervisor_d3_other", "D3", ["supervisor"]),
        ("catalog_admin_d1", "D1", ["catalog_admin"]),
        ("admin_d1", "D1", ["admin"]),
    ):
        subjects[key] = await _staff(key, department, roles)
    for key, person in (
        ("clerk_d1_is_owner", "owner"),
        ("clerk_d1_is_company_rep", "company_legal_rep"),
        ("clerk_d1_is_company_agent", "company_agent_apply"),
        ("clerk_d1_ex_company_agent", "company_agent_revoked"),
    ):
        subjects[key] = await _staff_who_is(key, "D1", ["clerk"], people[person])
    assert set(subjects) == set(SUBJECTS)
    objects = {
        "personal": Owned(owner_user_id=owner.id, item_code="ITEM-P", department_codes=("D1",)),
        "company": Owned(company_id=company.id, item_code="ITEM-C", department_codes=("D1",)),
        "parallel": Owned(
            owner_user_id=owner.id, item_code="ITEM-PAR", department_codes=("D1", "D2")
        ),
    }
    return World(today=today, subjects=subjects, objects=objects)


@pytest.fixture
async def world(clean: Sanic) -> World:
    async with in_transaction():  # one commit instead of one per row
        return await build_world()


@pytest.mark.parametrize(
    ("subject", "action", "obj", "allowed"),
    [(s, a, o, allowed) for (s, a, o), allowed in CELLS.items()],
    ids=[f"{s}-{a.value}-{o}" for (s, a, o) in CELLS],
)
async def test_decision_table(
    world: World, subject: str, action: Action, obj: str, allowed: bool
) -> None:
    decided = await can(world.subjects[subject], action, world.objects[obj], today=world.today)

    assert decided is allowed, f"{subject} {action.value} {obj}: expected {allowed}"


# --------------------------------------------------------------------------------------------
# Staff roles get exactly what STAFF_ACTIONS grants
# --------------------------------------------------------------------------------------------


def _granted(role: StaffRole, action: Action, *, own_department: bool) -> bool:
    if action in (Action.administer_staff, Action.acknowledge):
        return False  # targets of their own kinds, never a case
    if role in CROSS_DEPARTMENT.get(action, frozenset()):
        return True  # supervisors read and supervise anywhere; admins run the deployment
    return own_department and role in STAFF_ACTIONS.get(action, frozenset())


@pytest.mark.parametrize("role", list(StaffRole), ids=lambda r: r.value)
async def test_each_staff_role_gets_only_what_staff_actions_grants(
    clean: Sanic, role: StaffRole
) -> None:
    today = local_today(utcnow())
    subject = await _staff(f"only-{role.value}", "D1", [role.value])
    own = Owned(owner_user_id=1, item_code="ITEM-P", department_codes=("D1",))
    parallel = Owned(owner_user_id=1, item_code="ITEM-P", department_codes=("D9", "D1"))
    foreign = Owned(owner_user_id=1, item_code="ITEM-P", department_codes=("D2",))
    nowhere = Owned(owner_user_id=1, item_code="ITEM-P")

    for action in Action:
        for obj, own_department in (
            (own, True),
            (parallel, True),
            (foreign, False),
            (nowhere, False),
        ):
            expected = _granted(role, action, own_department=own_department)
            assert await can(subject, action, obj, today=today) is expected, (role, action, obj)
    # Applicant actions are never a staff role's: whatever STAFF_ACTIONS says, staff neither
    # apply nor pay for citizens.
    for action in (Action.apply, Action.pay):
        assert not await can(subject, action, own, today=today)
        assert not STAFF_ACTIONS.get(action)


def test_staff_actions_name_only_known_roles_and_actions() -> None:
    roles = {r.value for r in StaffRole}
    assert set(STAFF_ACTIONS) <= set(Action)
    for action, granted in STAFF_ACTIONS.items():
        assert granted <= roles, action
    # Administration roles handle no case.
    handling = (Action.view, Action.accept, Action.review, Action.approve, Action.dispatch)
    for action in (*handling, Action.handle):
        granted = STAFF_ACTIONS[action] | CROSS_DEPARTMENT.get(action, frozenset())
        assert StaffRole.admin not in granted and StaffRole.catalog_admin not in granted
