"""Helpers for the supervision and evaluation tests: cases brought to a given state over HTTP
(with ``tests.cases_flow``), and the arrangements a test needs that the clock alone would take
days to make (a promised day in the past)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sanic import Sanic

from auth import staff as staff_accounts
from cases.models import Case
from core.clock import local_today, utcnow
from tests.cases_flow import CaseCatalogue, Office, filed, open_task, pass_step
from tests.people import Phone
from tests.staff import StaffMember


def today() -> date:
    return local_today(utcnow())


async def accepted(
    person: Phone, cat: CaseCatalogue, staff: Office, item: str | None = None
) -> int:
    """A case filed and accepted (its review tasks open); its id."""
    case_id = await filed(person, cat, item or cat.paid_item)
    response = await staff.clerk.call("POST", f"/api/v1/staff/cases/{case_id}/accept", json={})
    assert response.status_code == 200, response.text
    return case_id


async def refused(person: Phone, cat: CaseCatalogue, staff: Office) -> int:
    case_id = await filed(person, cat, cat.paid_item)
    response = await staff.clerk.call(
        "POST", f"/api/v1/staff/cases/{case_id}/refuse", json={"reasons": "不属于本部门受理范围。"}
    )
    assert response.status_code == 200, response.text
    return case_id


async def denied(person: Phone, cat: CaseCatalogue, staff: Office) -> int:
    """A case of the one-step paid item, denied by the reviewer."""
    case_id = await accepted(person, cat, staff, cat.paid_item)
    response = await pass_step(staff.reviewer, case_id, outcome="deny")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "decided_denied"
    return case_id


async def completed(person: Phone, cat: CaseCatalogue, staff: Office) -> int:
    """A case of the free two-step item, granted and served."""
    case_id = await accepted(person, cat, staff, cat.item)
    assert (await pass_step(staff.reviewer, case_id)).status_code == 200
    assert (await pass_step(staff.approver, case_id)).json()["status"] == "result_pending"
    done = await staff.dispatcher.call(
        "POST", f"/api/v1/staff/cases/{case_id}/complete", json={"comment": "已送达"}
    )
    assert done.status_code == 200, done.text
    return case_id


async def claim(staff: StaffMember, case_id: int) -> int:
    task = await open_task(staff, case_id)
    response = await staff.call("POST", f"/api/v1/staff/tasks/{task}/claim")
    assert response.status_code == 200, response.text
    return task


async def set_promised_due(case_id: int, day: date) -> None:
    """Test arrangement: the promised day a case would have after days of waiting."""
    await Case.filter(id=case_id).update(promised_due_on=day)


async def deactivate(app: Sanic, staff: StaffMember) -> None:
    await staff_accounts.set_staff_active(
        tokens=app.ctx.auth.tokens, admin=None, staff_id=staff.id, active=False
    )


def codes(response: httpx.Response) -> tuple[int, str | None]:
    """Status and error code of an answer, for one-line assertions."""
    error: dict[str, Any] = response.json().get("error") or {} if response.content else {}
    return response.status_code, error.get("code")
