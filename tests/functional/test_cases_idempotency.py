"""``Idempotency-Key`` on every case action: a phone that retries a tap (the answer was lost on
a bad connection) gets the first answer again, marked ``Idempotent-Replayed: true``, and the
case moves once — one timeline event, one outbox event."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
from sanic import Sanic

from cases.models import Case, CaseEvent
from core.models import OutboxEvent
from tests.cases_flow import (
    Scene,
    applicant,
    attach,
    draft,
    filed,
    import_case_catalogue,
    office,
)
from tests.cases_flow import open_task as find_open_task
from tests.cases_service import worker_paused
from tests.people import Phone
from tests.staff import StaffMember

Caller = Phone | StaffMember


def key() -> str:
    return f"tap-{secrets.token_hex(8)}"


async def twice(
    caller: Caller, method: str, path: str, json: Any = None, expect: int = 200
) -> httpx.Response:
    """The same request sent twice with one key: both answers equal, the second a replay."""
    tap = key()
    body: dict[str, Any] = {"json": json} if json is not None else {}
    first = await caller.call(method, path, headers={"Idempotency-Key": tap}, **body)
    assert first.status_code == expect, (path, first.text)
    assert "Idempotent-Replayed" not in first.headers
    second = await caller.call(method, path, headers={"Idempotency-Key": tap}, **body)
    assert second.status_code == expect, (path, second.text)
    assert second.headers.get("Idempotent-Replayed") == "true", (path, second.headers)
    assert second.content == first.content, path
    return first


async def actions_of(case_id: int) -> Counter[str]:
    return Counter(e.action for e in await CaseEvent.filter(case_id=case_id))


async def outbox_of(case_id: int) -> Counter[str]:
    return Counter(e.topic for e in await OutboxEvent.all() if e.payload.get("case_id") == case_id)


async def test_a_retried_acceptance_is_answered_again_and_accepts_once(scene: Scene) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    case_id = await filed(person, cat)

    answer = await twice(staff.clerk, "POST", f"/api/v1/staff/cases/{case_id}/accept", {})

    assert answer.json()["status"] == "accepted"
    assert (await actions_of(case_id))["accept"] == 1
    assert (await outbox_of(case_id))["case.accept"] == 1
    case = await Case.get(id=case_id)
    assert case.acceptance_number == answer.json()["acceptance_number"]
    assert case.revision == answer.json()["revision"]
    # The same key with another body is someone else's request: refused, nothing moves.
    reused = {"Idempotency-Key": "reused-key-0001"}
    await staff.clerk.call(
        "POST", f"/api/v1/staff/cases/{case_id}/comments", json={"text": "一"}, headers=reused
    )
    other = await staff.clerk.call(
        "POST", f"/api/v1/staff/cases/{case_id}/comments", json={"text": "二"}, headers=reused
    )
    assert other.status_code == 409, other.text
    assert other.json()["error"]["code"] == "request.idempotency_key_reused"
    assert (await actions_of(case_id))["comment"] == 1


async def test_every_case_action_honours_the_key(
    client: httpx.AsyncClient, clean: Sanic, phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    # The worker stays paused: its statistics handler writes an internal timeline line of its own
    # after each decision, at a moment of its choosing, and only the taps are counted here.
    async with worker_paused(clean):
        cat = await import_case_catalogue(clean)
        staff = await office(clean, client, sandbox, cat)
        person = await applicant(phone())

        created = await twice(
            person,
            "POST",
            "/api/v1/cases",
            {"item_code": cat.item, "form": {"reason": "姓名更正"}},
            201,
        )
        case_id = created.json()["id"]
        assert await Case.all().count() == 1
        await twice(
            person, "PUT", f"/api/v1/cases/{case_id}/form", {"form": {"reason": "出生日期更正"}}
        )
        await attach(person, case_id, cat.item, cat.id_card)
        await attach(person, case_id, cat.item, cat.photo)
        await twice(person, "POST", f"/api/v1/cases/{case_id}/submit")
        await twice(
            staff.clerk,
            "POST",
            f"/api/v1/staff/cases/{case_id}/corrections",
            {"items": [{"kind": "field", "code": "reason", "problem": "请写明更正项目。"}]},
        )
        await twice(
            person, "PUT", f"/api/v1/cases/{case_id}/form", {"form": {"reason": "姓名错字"}}
        )
        await twice(person, "POST", f"/api/v1/cases/{case_id}/submit")
        await twice(staff.clerk, "POST", f"/api/v1/staff/cases/{case_id}/accept", {})
        task = await find_open_task(staff.reviewer, case_id)
        await twice(staff.reviewer, "POST", f"/api/v1/staff/tasks/{task}/claim")
        await twice(staff.reviewer, "POST", f"/api/v1/staff/tasks/{task}/release")
        await twice(staff.reviewer, "POST", f"/api/v1/staff/tasks/{task}/claim")
        await twice(
            staff.reviewer,
            "POST",
            f"/api/v1/staff/cases/{case_id}/suspend",
            {"procedure": "inspection", "reason": "需要现场核查。"},
        )
        await twice(staff.reviewer, "POST", f"/api/v1/staff/cases/{case_id}/resume", {})
        await twice(
            staff.reviewer,
            "POST",
            f"/api/v1/staff/cases/{case_id}/comments",
            {"text": "核查无误"},
            204,
        )
        decision = {"outcome": "pass", "opinion": "材料齐全，符合法定条件。"}
        await twice(staff.reviewer, "POST", f"/api/v1/staff/tasks/{task}/decide", decision)
        approval = await find_open_task(staff.approver, case_id)
        await twice(staff.approver, "POST", f"/api/v1/staff/tasks/{approval}/claim")
        await twice(staff.approver, "POST", f"/api/v1/staff/tasks/{approval}/decide", decision)
        done = await twice(staff.dispatcher, "POST", f"/api/v1/staff/cases/{case_id}/complete", {})
        assert done.json()["status"] == "completed"

        # Each tap counted once (the resubmission and the claims after a release are taps of
        # their own).
        assert await actions_of(case_id) == Counter(
            {
                "create": 1,
                "submit": 1,
                "request_correction": 1,
                "resubmit": 1,
                "accept": 1,
                "claim": 3,
                "release": 1,
                "start_review": 1,
                "suspend": 1,
                "resume": 1,
                "comment": 1,
                "pass": 2,
                "grant": 1,
                "await_result": 1,
                "complete": 1,
            }
        )
        outbox = await outbox_of(case_id)
        assert all(count == 1 for count in outbox.values()), outbox

        # Withdrawal and refusal, on cases of their own.
        withdrawn = await filed(person, cat)
        await twice(person, "POST", f"/api/v1/cases/{withdrawn}/withdraw", {"reason": "不办了"})
        assert (await actions_of(withdrawn))["withdraw"] == 1
        refused = await filed(person, cat)
        await twice(
            staff.clerk,
            "POST",
            f"/api/v1/staff/cases/{refused}/refuse",
            {"reasons": "不属于本机关。"},
        )
        assert (await actions_of(refused))["refuse"] == 1


async def test_a_refused_action_is_not_kept_and_may_be_retried(
    client: httpx.AsyncClient, clean: Sanic, phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    """A refusal changed nothing, so the same key runs again for real once the cause is gone:
    the submission refused for a missing photo goes through after the photo is added."""
    cat = await import_case_catalogue(clean)
    person = await applicant(phone())
    case = await draft(person, cat.item)
    await attach(person, case["id"], cat.item, cat.id_card)
    tap = {"Idempotency-Key": key()}

    first = await person.call("POST", f"/api/v1/cases/{case['id']}/submit", headers=tap)
    assert first.status_code == 400, first.text
    await attach(person, case["id"], cat.item, cat.photo)
    second = await person.call("POST", f"/api/v1/cases/{case['id']}/submit", headers=tap)

    assert second.status_code == 200, second.text
    assert "Idempotent-Replayed" not in second.headers
    assert second.json()["status"] == "submitted"
