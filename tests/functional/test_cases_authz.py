"""The authorization matrix of step 2 extended to cases, over HTTP: every subject × every case
action, each on its own case in the state the action needs, every cell written out below.

Answers: the action's success (200); 404 ``case.not_found`` to a citizen who may not know the
case exists; 403 to a citizen who may see the case but not do this, and to staff; 409 to a
reviewer acting on a colleague's task; 401 to a token of the wrong audience (a citizen on a
staff endpoint, staff on a citizen one). A refused action leaves the case as it was.

Subjects act on the applicant's personal case, except the company's people, who act on the
company's case (filed by its legal representative). Staff ``*_other`` belong to a department
that has nothing to do with the item; the supervisor too (supervisors read across
departments, and act on nothing).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sanic import Sanic

from auth.permissions import Subject
from cases import prereview, review
from cases.models import Case, ReviewTask
from core.clock import utcnow
from tests.cases_flow import CaseCatalogue, import_case_catalogue
from tests.cases_service import (
    Desk,
    complete_draft,
    draft,
    result_pending,
    snapshot,
    submitted,
    task_of,
    worker_paused,
)
from tests.people import Phone, citizen, company_of, grant_mandate, make_agent, uid
from tests.staff import StaffMember, staff_member

ACTIONS = (
    "view",
    "save_form",
    "submit",
    "withdraw",
    "accept",
    "refuse",
    "corrections",
    "claim",
    "decide",
    "complete",
)

# One column per action, in ACTIONS order. "Y" allowed (200), "N" not found (404), "F"
# forbidden (403), "T" taken by a colleague (409), "A" wrong audience (401).
# fmt: off
TABLE: dict[str, str] = {
    #                         vie sav sub wit acc ref cor cla dec com
    "applicant":             "Y   Y   Y   Y   A   A   A   A   A   A",
    "stranger":              "N   N   N   N   A   A   A   A   A   A",
    "mandate_covering":      "Y   Y   Y   Y   A   A   A   A   A   A",
    "mandate_other_item":    "N   N   N   N   A   A   A   A   A   A",
    "company_legal_rep":     "Y   Y   Y   Y   A   A   A   A   A   A",
    "company_agent_apply":   "Y   Y   Y   Y   A   A   A   A   A   A",
    "company_agent_view":    "Y   F   F   F   A   A   A   A   A   A",
    "company_agent_revoked": "N   N   N   N   A   A   A   A   A   A",
    "clerk":                 "Y   A   A   A   Y   Y   Y   F   F   F",
    "reviewer":              "Y   A   A   A   F   F   F   Y   Y   F",
    "colleague_reviewer":    "Y   A   A   A   F   F   F   Y   T   F",
    "approver":              "Y   A   A   A   F   F   F   F   F   F",
    "dispatcher":            "Y   A   A   A   F   F   F   F   F   Y",
    "clerk_other":           "F   A   A   A   F   F   F   F   F   F",
    "reviewer_other":        "F   A   A   A   F   F   F   F   F   F",
    "approver_other":        "F   A   A   A   F   F   F   F   F   F",
    "dispatcher_other":      "F   A   A   A   F   F   F   F   F   F",
    "supervisor_other":      "Y   A   A   A   F   F   F   F   F   F",
}
# fmt: on
ANSWERS = {"Y": 200, "N": 404, "F": 403, "T": 409, "A": 401}
CODES = {
    "N": {"case.not_found"},
    "F": {"auth.forbidden", "case.role_not_allowed"},
    "T": {"case.task_taken"},
}
CELLS: dict[tuple[str, str], str] = {
    (subject, action): row.split()[ACTIONS.index(action)]
    for subject, row in TABLE.items()
    for action in ACTIONS
}
COMPANY_SIDE = {
    "company_legal_rep",
    "company_agent_apply",
    "company_agent_view",
    "company_agent_revoked",
}
STAFF_ROLES: dict[str, tuple[str, str]] = {
    "clerk": ("lead", "clerk"),
    "reviewer": ("lead", "reviewer"),
    "colleague_reviewer": ("lead", "reviewer"),
    "approver": ("lead", "approver"),
    "dispatcher": ("lead", "dispatcher"),
    "clerk_other": ("other", "clerk"),
    "reviewer_other": ("other", "reviewer"),
    "approver_other": ("other", "approver"),
    "dispatcher_other": ("other", "dispatcher"),
    "supervisor_other": ("other", "supervisor"),
}


def test_the_table_is_complete() -> None:
    assert all(len(row.split()) == len(ACTIONS) for row in TABLE.values())
    assert set(CELLS.values()) <= set(ANSWERS)
    assert set(CELLS) == set(itertools.product(TABLE, ACTIONS))
    assert set(STAFF_ROLES) | COMPANY_SIDE < set(TABLE)


Caller = StaffMember | Phone


@dataclass
class World:
    cat: CaseCatalogue
    callers: dict[str, Caller]
    subjects: dict[str, Subject]
    desk: Desk
    company_id: int


async def build_world(app: Sanic, api: httpx.AsyncClient, sandbox: httpx.AsyncClient) -> World:
    cat = await import_case_catalogue(app, audience="both")
    citizens: dict[str, Phone] = {}
    for key in [k for k in TABLE if k not in STAFF_ROLES]:
        citizens[key] = await citizen(Phone(api=api, sandbox=sandbox))
    applicant = citizens["applicant"]
    await grant_mandate(applicant, citizens["mandate_covering"], [cat.item])
    await grant_mandate(applicant, citizens["mandate_other_item"], [cat.paid_item])
    rep = citizens["company_legal_rep"]
    company_id = await company_of(rep, sandbox)
    await make_agent(rep, company_id, citizens["company_agent_apply"], ["apply"])
    await make_agent(rep, company_id, citizens["company_agent_view"], ["view"])
    revoked = await make_agent(rep, company_id, citizens["company_agent_revoked"], ["apply"])
    gone = await rep.call("DELETE", f"/api/v1/companies/{company_id}/agents/{revoked}")
    assert gone.status_code in (200, 204), gone.text

    staff: dict[str, StaffMember] = {}
    for key, (where, role) in STAFF_ROLES.items():
        department = cat.lead if where == "lead" else cat.other
        staff[key] = await staff_member(app, api, sandbox, department_code=department, roles=[role])
    subjects: dict[str, Subject] = {k: Subject(kind="user", id=uid(p)) for k, p in citizens.items()}
    for key, member in staff.items():
        subjects[key] = Subject(
            kind="staff",
            id=member.id,
            department_code=member.department_code,
            roles=frozenset(member.roles),
        )
    desk = Desk(
        clerk=subjects["clerk"],
        reviewer=subjects["reviewer"],
        approver=subjects["approver"],
        dispatcher=subjects["dispatcher"],
        supervisor=subjects["supervisor_other"],
        partner_reviewer=subjects["reviewer_other"],
        other_clerk=subjects["clerk_other"],
        other_reviewer=subjects["reviewer_other"],
    )
    return World(
        cat=cat,
        callers={**citizens, **staff},
        subjects=subjects,
        desk=desk,
        company_id=company_id,
    )


async def _case_for(world: World, subject: str, action: str) -> tuple[Case, int | None]:
    """A new case in the state ``action`` needs, whose ``subject`` is tested on; and the task
    the action is about, for task actions."""
    now = utcnow()
    company = subject in COMPANY_SIDE
    owner = world.subjects["company_legal_rep" if company else "applicant"]
    kw: dict[str, Any] = {"company_id": world.company_id} if company else {}
    cat, desk = world.cat, world.desk
    if action == "save_form":
        return await draft(owner, cat.item, now=now, **kw), None
    if action == "submit":
        return await complete_draft(owner, cat, now=now, **kw), None
    if action in ("view", "withdraw", "accept", "refuse", "corrections"):
        return await submitted(owner, cat, now=now, **kw), None
    if action == "complete":
        return await result_pending(owner, cat, desk, now=now, **kw), None
    case = await submitted(owner, cat, now=now, **kw)
    case = await prereview.accept(subject=desk.clerk, case_id=case.id, comment="", now=now)
    task = await task_of(case.id, cat.lead, "reviewer")
    if action == "decide":
        await review.claim_task(subject=desk.reviewer, task_id=task.id, now=now)
    return case, task.id


Call = Callable[[Caller], Awaitable[httpx.Response]]


def _request(action: str, case_id: int, task_id: int | None, staff: bool) -> tuple[str, str, Any]:
    base = "/api/v1/staff/cases" if staff else "/api/v1/cases"
    return {
        "view": ("GET", f"{base}/{case_id}", None),
        "save_form": ("PUT", f"/api/v1/cases/{case_id}/form", {"form": {"reason": "户籍地址更正"}}),
        "submit": ("POST", f"/api/v1/cases/{case_id}/submit", None),
        "withdraw": ("POST", f"/api/v1/cases/{case_id}/withdraw", {"reason": "不再需要"}),
        "accept": ("POST", f"/api/v1/staff/cases/{case_id}/accept", {}),
        "refuse": (
            "POST",
            f"/api/v1/staff/cases/{case_id}/refuse",
            {"reasons": "不属于本机关职权。"},
        ),
        "corrections": (
            "POST",
            f"/api/v1/staff/cases/{case_id}/corrections",
            {"items": [{"kind": "field", "code": "reason", "problem": "请写明更正项目。"}]},
        ),
        "claim": ("POST", f"/api/v1/staff/tasks/{task_id}/claim", None),
        "decide": (
            "POST",
            f"/api/v1/staff/tasks/{task_id}/decide",
            {"outcome": "pass", "opinion": "材料齐全，符合法定条件。"},
        ),
        "complete": ("POST", f"/api/v1/staff/cases/{case_id}/complete", {"comment": "已送达"}),
    }[action]


@pytest.mark.parametrize("action", ACTIONS)
async def test_the_matrix(
    clean: Sanic, client: httpx.AsyncClient, sandbox: httpx.AsyncClient, action: str
) -> None:
    async with worker_paused(clean):
        world = await build_world(clean, client, sandbox)
        wrong: list[str] = []
        for subject in TABLE:
            expected = CELLS[(subject, action)]
            case, task_id = await _case_for(world, subject, action)
            caller = world.callers[subject]
            method, path, payload = _request(action, case.id, task_id, subject in STAFF_ROLES)
            before = await snapshot(case.id)
            kwargs = {"json": payload} if payload is not None else {}
            answer = await caller.call(method, path, **kwargs)
            got = answer.status_code
            if got != ANSWERS[expected]:
                wrong.append(
                    f"{subject} {action}: {got} instead of {ANSWERS[expected]}: {answer.text}"
                )
                continue
            if expected in CODES and answer.json()["error"]["code"] not in CODES[expected]:
                wrong.append(f"{subject} {action}: {answer.json()['error']['code']}")
            if expected != "Y" and await snapshot(case.id) != before:
                wrong.append(f"{subject} {action}: refused, yet the case changed")
            if expected == "Y" and action not in ("view",):
                after = await snapshot(case.id)
                assert after != before, f"{subject} {action}: allowed but nothing happened"
        assert not wrong, "\n".join(wrong)


async def test_a_task_of_another_department_in_a_parallel_item_is_not_mine(
    clean: Sanic, client: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> None:
    """Parallel approval (并联审批): each department works on its own task of the same case;
    the lead department's reviewer may neither claim nor decide the partner's."""
    async with worker_paused(clean):
        world = await build_world(clean, client, sandbox)
        cat, desk = world.cat, world.desk
        partner = await staff_member(
            clean, client, sandbox, department_code=cat.partner, roles=["reviewer"]
        )
        owner = world.subjects["applicant"]
        case = await submitted(owner, cat, cat.parallel_item, now=utcnow())
        await prereview.accept(subject=desk.clerk, case_id=case.id, comment="", now=utcnow())
        theirs = await task_of(case.id, cat.partner, "reviewer")
        before = await snapshot(case.id)

        mine = await world.callers["reviewer"].call(
            "POST", f"/api/v1/staff/tasks/{theirs.id}/claim"
        )
        assert mine.status_code == 403, mine.text
        assert await snapshot(case.id) == before
        claimed = await partner.call("POST", f"/api/v1/staff/tasks/{theirs.id}/claim")
        assert claimed.status_code == 200, claimed.text
        # The partner department sees the case it takes part in; a department outside does not.
        seen = await partner.call("GET", f"/api/v1/staff/cases/{case.id}")
        assert seen.status_code == 200, seen.text
        outside = await world.callers["clerk_other"].call("GET", f"/api/v1/staff/cases/{case.id}")
        assert outside.status_code == 403, outside.text
        decided = await world.callers["reviewer"].call(
            "POST",
            f"/api/v1/staff/tasks/{theirs.id}/decide",
            json={"outcome": "deny", "opinion": "不符合条件。"},
        )
        assert decided.status_code == 403, decided.text
        assert (await ReviewTask.get(id=theirs.id)).status == "claimed"
